/*
 * The HTML input layer (issue 16): what of a page is text, and where each
 * byte of that text stands in the page.
 *
 * gz_html_extract parses a page with gumbo (the HTML5 parsing algorithm,
 * which is how browsers read malformed markup too) and writes the text a
 * reader sees, for the tagger to tag as plain text, with a map from every
 * byte of that text to the bytes of the page it came from.  Spans found in
 * the text map back onto the page (gz_html_map_range, gz_html_map_spans),
 * and gz_html_annotate writes the page again with each span highlighted.
 * Nothing else in the engine knows about HTML.
 *
 * The text, in the order of the page's source:
 *   - the content of text nodes; never comments, the doctype or attribute
 *     values, nor anything inside <head>, <title>, <script>, <style>,
 *     <template>, <noscript>, <textarea>, <select>, <datalist>, <iframe>,
 *     <noembed>, <noframes>, <xmp>, <plaintext>, <svg> or <math> (metadata,
 *     code, form controls, raw text and foreign content: no article prose,
 *     and no place where a <mark> would render);
 *   - character references decoded as the parser decodes them: &amp; &nbsp;
 *     &#x2019; &#8217; and the legacy ones without a semicolon (&copy); a
 *     number past U+10FFFF, 0, a surrogate, a control or a noncharacter
 *     read as U+FFFD;
 *   - a blank line ("\n\n") wherever a block element's start or end tag
 *     stands between two pieces of text (p, div, br, li, td, h1-h6, table,
 *     figure, figcaption, blockquote, pre, hr, section, form, ...:
 *     html_block in html.c lists them), so that a name never crosses it and
 *     paragraphs read as in plain text; one blank line however many tags.
 *     A block's end tag counts only where it is written: an element closed
 *     by the next one (<li>, <p>, <td>) is broken off by that one.  Every
 *     </form> counts, a stray one too (gumbo keeps no end tag of a form);
 *   - nothing at all for inline elements (b, i, a, span, em, strong, img,
 *     wbr, and every unknown or custom element) and for the excluded ones,
 *     so that <b>Volodymyr</b> Zelensky is one name and Zelen<wbr>sky one
 *     word;
 *   - outside <pre> and <listing>, a line break (LF, CR, CR LF) or form feed
 *     becomes one space, as the browser renders it: a blank line in the
 *     source of a paragraph does not break a name; inside <pre> line breaks
 *     stay line breaks;
 *   - whitespace at the start of the text, and next to a blank line that
 *     a block inserted, is dropped.
 *
 * Malformed markup reads as a browser reads it (gumbo runs the HTML5 tree
 * construction: unclosed tags, misnesting, text in tables), except that the
 * text keeps the page's order where the parser moves text in its tree, so
 * that every span maps onto one stretch of the page, in order.
 *
 * Input: UTF-8.  Invalid UTF-8 anywhere in the page is GZ_EUTF8 with
 * err->offset the byte offset of the first invalid byte in the page, as
 * for plain text (the parser would replace it with U+FFFD, and offsets into
 * a page the client did not send would be no use).  A NUL byte is valid
 * and dropped from text, as the parser does.  Every malformed page (stray
 * '<', unclosed tags, invalid references, any nesting) gives a text; the
 * parse is bounded in CPU time and memory (struct gz_html_limits), and a
 * page that needs more, such as 100,000 nested <div> (quadratic in gumbo),
 * is GZ_ECOMPLEX with a message that says which limit.
 *
 * Thread safety: every call works on its own memory; nothing is shared.
 */
#ifndef GZ_HTML_H
#define GZ_HTML_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "json.h"     /* struct gz_buf */
#include "tagger.h"

/* The extracted text and its map onto the page.
 *
 * For every byte b of text, [src_start[b], src_end[b]) is the source of
 * the character holding b: one UTF-8 character of the page, a whole
 * character reference (&amp; -> "&"), or CR LF (-> " ").  All bytes of a
 * character share its range.  The two bytes of an inserted blank line are
 * empty ranges at the block tag that inserted them.  Both arrays never
 * decrease, src_start[b] <= src_end[b] <= the page's length, and, outside
 * lost, the ranges of two characters never overlap.
 *
 * lost lists the bytes of the text nodes whose text and source could not
 * be matched a character at a time (where gumbo's text and the source it
 * gives for it differ in a way this layer does not follow: broken markup
 * only).  Up to the mismatch they keep their map; after it each maps to
 * the rest of its node's source, wider than the truth, never outside the
 * node.  gz_html_annotate never wraps them: their source may hold markup.
 * None on the pages the tests hold; the fuzzer requires only the
 * invariants above. */
struct gz_html_range {
	size_t start, end;
};

struct gz_html_text {
	char *text;           /* NUL-terminated, valid UTF-8 */
	size_t len;
	uint32_t *src_start;  /* len entries each (NULL when len is 0) */
	uint32_t *src_end;
	struct gz_html_range *lost;  /* ranges of text bytes, in order */
	size_t nlost;
	size_t inexact;       /* how many bytes lost holds */
};

/* The parser's budget for one page; a 0 field takes its default. */
struct gz_html_limits {
	unsigned cpu_ms;      /* CPU time of the parse (default 1 s + 0.5 s per MiB) */
	size_t memory;        /* bytes of parse tree (default 64 MiB + 48 x the page) */
};

/* Extracts the text of html[0..len) into *out (which the caller frees with
 * gz_html_text_free, also after an error).  limits may be NULL.  Returns
 * 0, GZ_EUTF8 (err->offset: the first invalid byte), GZ_ETOOBIG (a page of
 * 4 GiB or more), GZ_ECOMPLEX (a parse over its CPU or memory budget) or
 * GZ_ENOMEM. */
int gz_html_extract(const char *html, size_t len, const struct gz_html_limits *limits,
		    struct gz_html_text *out, struct gz_error *err);
void gz_html_text_free(struct gz_html_text *x);

/* The page's bytes [*orig_start, *orig_end) of the text's bytes [bs, be):
 * from where the source of the first character begins to where the
 * source of the last one ends, markup between them included.  An empty
 * range maps to an empty range; offsets past the text are clamped. */
void gz_html_map_range(const struct gz_html_text *x, size_t bs, size_t be,
		       size_t *orig_start, size_t *orig_end);

/* Moves spans[0..n), found by the tagger in x->text, onto the page html
 * (the page x was extracted from): byte_start/byte_end become byte offsets
 * into html, start/end the same offsets in unit.  The tagger's fields that
 * do not hold offsets are left alone.  Returns 0 or GZ_ENOMEM. */
int gz_html_map_spans(const struct gz_html_text *x, const char *html, size_t len,
		      struct gz_span *spans, size_t n, enum gz_offsets unit);

/* Converts offs[0..n), byte offsets into the UTF-8 text s[0..len) (in any
 * order, each at most len), to unit, in place.  Returns 0 or GZ_ENOMEM. */
int gz_html_offsets_to_unit(const char *s, size_t len, size_t *offs, size_t n,
			    enum gz_offsets unit);

/* One highlight for gz_html_annotate: page bytes [start, end) as
 * gz_html_map_range or gz_html_map_spans give them. */
struct gz_html_mark {
	size_t start, end;
	const char *type;   /* becomes class="gz-TYPE" (whitespace as '-') */
	const char *id;     /* becomes data-gz-id="ID" */
};

/* Appends to out the page html (x its extraction) with the text of each
 * mark wrapped in <mark class="gz-TYPE" data-gz-id="ID">...</mark>, type
 * and id escaped for an attribute value.  Only text is wrapped: where a
 * mark's range holds markup (<b>Volodymyr</b> Zelensky), the <mark> closes
 * before it and opens again after it, so the result stays well formed and
 * reads as the same text (x->lost is never wrapped).  Marks may come in
 * any order; one that overlaps a mark starting before it (or at the same
 * place and longer) is left out, as are empty ones and ones past the page.
 * Every other byte of the page is copied as it was.  Returns 0 or
 * GZ_ENOMEM. */
int gz_html_annotate(const char *html, size_t len, const struct gz_html_text *x,
		     const struct gz_html_mark *marks, size_t n, struct gz_buf *out,
		     struct gz_error *err);

#endif
