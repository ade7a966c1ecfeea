/*
 * libFuzzer target for the HTML input layer (html.c, issue 16): any bytes as
 * a page, checking what must hold whatever the markup:
 *
 *  - invalid UTF-8 is refused with the offset of the first bad byte, valid
 *    input never is; the only other refusal is the parse budget
 *    (GZ_ECOMPLEX) or memory;
 *  - the text is valid UTF-8 with no NUL, and its map monotonic: src_start
 *    and src_end never decrease, src_start <= src_end <= the page's length,
 *    every empty range is one of an inserted "\n\n"; the lost ranges are in
 *    order and add up to inexact; outside them, characters' ranges never
 *    overlap, and a character that is not a reference is exactly its slice
 *    of the page (or a space or a line break for a line break of the page,
 *    U+FFFD for a NUL, a control or a noncharacter);
 *  - gz_html_map_range of any range is within the page and in order;
 *  - the tagger's spans over the text (one small gazetteer) map onto the
 *    page in order, on UTF-8 boundaries, and the units agree with the
 *    bytes;
 *  - annotating the page with those spans, and with every word of the
 *    text, adds no text: the result extracts to the same text again (on a
 *    page with NULs or controls, the same words and blank lines: see
 *    strict()).
 *
 * A broken invariant aborts with a message: libFuzzer saves the input.
 * GZ_FUZZ_HTML_DUMP=FILE writes the annotated page there, to look at.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fold.h"
#include "fuzz_common.h"
#include "html.h"
#include "json.h"
#include "set.h"
#include "tagger.h"

static const char GAZETTEER[] =
	"type: person\n"
	"entries:\n"
	"  - {id: volodymyr-zelensky, name: Volodymyr Zelensky, aliases: [Zelensky]}\n"
	"  - {id: kyiv, name: Kyiv, type: place, aliases: [Київ]}\n"
	"  - {id: azov, name: Azov Regiment, type: unit, aliases: [Azov]}\n"
	"  - {id: at-t, name: AT&T, type: org}\n"
	"  - {id: o-neill, name: O'Neill}\n";

static struct gz_set *set;
static struct gz_tagger *tagger;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	struct gz_error err;
	memset(&err, 0, sizeof err);
	if (fuzz_load_set(GAZETTEER, sizeof GAZETTEER - 1, NULL, &set, &err) != 0) {
		fprintf(stderr, "fuzz_html: the gazetteer does not load: %s\n", err.message);
		abort();
	}
	tagger = gz_tagger_new();
	if (!tagger)
		abort();
	return 0;
}

static int line_break(const char *s, size_t n)
{
	return (n == 1 && (s[0] == '\n' || s[0] == '\r' || s[0] == '\f')) ||
	       (n == 2 && s[0] == '\r' && s[1] == '\n');
}

static size_t utf8_char_len(char c)
{
	unsigned char u = (unsigned char)c;
	return u < 0x80 ? 1 : u < 0xE0 ? 2 : u < 0xF0 ? 3 : 4;
}

/* Is text byte b in x->lost?  *k: a cursor for bytes in order. */
static int in_lost(const struct gz_html_text *x, size_t *k, size_t b)
{
	while (*k < x->nlost && x->lost[*k].end <= b)
		(*k)++;
	return *k < x->nlost && x->lost[*k].start <= b;
}

static void check_map(const char *html, size_t len, const struct gz_html_text *x)
{
	check(x->text && x->text[x->len] == '\0', "text not terminated");
	check(strlen(x->text) == x->len, "a NUL inside the text at %zu", strlen(x->text));
	size_t bad;
	check(gz_utf8_validate(x->text, x->len, &bad) == 0, "invalid UTF-8 in the text at %zu", bad);
	size_t total = 0;
	for (size_t k = 0; k < x->nlost; k++) {
		check(x->lost[k].start < x->lost[k].end && x->lost[k].end <= x->len &&
		      (k == 0 || x->lost[k - 1].end < x->lost[k].start), "lost range %zu out of order", k);
		total += x->lost[k].end - x->lost[k].start;
	}
	check(total == x->inexact, "inexact %zu, lost ranges %zu", x->inexact, total);
	size_t b = 0, lost = 0;
	while (b < x->len) {
		uint32_t s = x->src_start[b], e = x->src_end[b];
		check(s <= e && e <= len, "byte %zu maps to [%u, %u) of %zu", b, s, e, len);
		if (b)
			check(x->src_start[b - 1] <= s && x->src_end[b - 1] <= e,
			      "map decreases at byte %zu", b);
		size_t g = b;
		while (g < x->len && x->src_start[g] == s && x->src_end[g] == e)
			g++;
		if (s == e) {
			check(g - b == 2 && memcmp(x->text + b, "\n\n", 2) == 0,
			      "an empty range that is no blank line at %zu", b);
		} else if (!in_lost(x, &lost, b) && (b == 0 || !in_lost(x, &lost, b - 1))) {
			check(b == 0 || x->src_end[b - 1] <= s, "overlapping ranges at byte %zu", b);
			if (html[s] != '&')
				check((e - s == g - b && memcmp(html + s, x->text + b, g - b) == 0) ||
				      ((x->text[b] == ' ' || x->text[b] == '\n') && g - b == 1 &&
				       line_break(html + s, e - s)) ||
				      (e - s <= 4 && e - s == utf8_char_len(html[s]) && g - b == 3 &&
				       memcmp(x->text + b, "\xEF\xBF\xBD", 3) == 0),
				      "text byte %zu '%.*s' from page [%u, %u) '%.*s'", b,
				      (int)(g - b), x->text + b, s, e, (int)(e - s), html + s);
		}
		b = g;
	}
}

/* Whether the page is free of NULs and controls (C0 but whitespace, C1).
 * Gumbo writes U+FFFD for those, or drops a NUL, depending on the
 * insertion mode, which a <mark> in a table may change: where they are,
 * annotating keeps the text only up to where its U+FFFD go (loose). */
static int strict(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\t' && c != '\n' && c != '\f' && c != '\r') || c == 0x7F ||
		    (c == 0xC2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 &&
		     (unsigned char)s[i + 1] <= 0x9F))
			return 0;
	}
	return 1;
}

/* The text without its U+FFFD, each run of whitespace one space, or '|'
 * where it holds a blank line, none at either end. */
static char *loose(const char *t, size_t n)
{
	char *out = malloc(n + 1);
	size_t k = 0;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n;) {
		if (n - i >= 3 && memcmp(t + i, "\xEF\xBF\xBD", 3) == 0) {
			i += 3;
			continue;
		}
		if (t[i] != ' ' && t[i] != '\t' && t[i] != '\n') {
			out[k++] = t[i++];
			continue;
		}
		int blank = 0, nl = 0;
		for (; i < n && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' ||
				 (n - i >= 3 && memcmp(t + i, "\xEF\xBF\xBD", 3) == 0));) {
			if (t[i] == '\n')
				blank |= ++nl >= 2;
			i += t[i] == '\xEF' ? 3 : 1;
		}
		if (k && out[k - 1] == '|')
			continue;
		if (k && out[k - 1] == ' ')
			k--;
		if (k)   /* nothing before a first separator: it stood by U+FFFD only */
			out[k++] = blank ? '|' : ' ';
	}
	while (k && (out[k - 1] == '|' || out[k - 1] == ' '))
		k--;
	out[k] = 0;
	return out;
}

/* The page with marks on every word of the text and on the spans. */
static void check_annotate(const char *html, size_t len, const struct gz_html_text *x,
			   const struct gz_span *spans, size_t nspans)
{
	enum { MAX_MARKS = 256 };
	struct gz_html_mark marks[MAX_MARKS];
	size_t n = 0;
	for (size_t k = 0; k < nspans && n < MAX_MARKS; k++)
		marks[n++] = (struct gz_html_mark){ spans[k].byte_start, spans[k].byte_end,
						    gz_entry_type(spans[k].entry), gz_entry_id(spans[k].entry) };
	for (size_t b = 0; b < x->len && n < MAX_MARKS;) {
		while (b < x->len && (x->text[b] == ' ' || x->text[b] == '\n' || x->text[b] == '\t'))
			b++;
		size_t w = b;
		while (w < x->len && x->text[w] != ' ' && x->text[w] != '\n' && x->text[w] != '\t')
			w++;
		if (w > b) {
			struct gz_html_mark m = { 0, 0, "word", "w\"<&>" };
			gz_html_map_range(x, b, w, &m.start, &m.end);
			marks[n++] = m;
		}
		b = w;
	}
	struct gz_buf out = { 0 };
	check(gz_html_annotate(html, len, x, marks, n, &out, NULL) == 0, "annotate failed");
	struct gz_html_text y;
	struct gz_error err;
	memset(&err, 0, sizeof err);
	int r = gz_html_extract(out.data ? out.data : "", out.len, NULL, &y, &err);
	check(r == 0 || r == GZ_ECOMPLEX, "the annotated page does not extract: %s", err.message);
	const char *dump = getenv("GZ_FUZZ_HTML_DUMP");   /* for a look at a failure */
	FILE *f = dump ? fopen(dump, "wb") : NULL;
	if (f) {
		fwrite(out.data, 1, out.len, f);
		fclose(f);
	}
	if (r == 0) {
		int same = y.len == x->len && memcmp(y.text, x->text, x->len) == 0;
		if (!same && !strict(html, len)) {
			char *a = loose(x->text, x->len), *b = loose(y.text, y.len);
			same = a && b && strcmp(a, b) == 0;
			free(a);
			free(b);
		}
		check(same, "annotating changed the text:\n  before: %.*s\n  after:  %.*s\n  page: %.*s",
		      (int)x->len, x->text, (int)y.len, y.text, (int)out.len, out.data);
		gz_html_text_free(&y);
	}
	free(out.data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *html = (const char *)data;
	struct gz_html_text x;
	struct gz_error err;
	memset(&err, 0, sizeof err);
	int r = gz_html_extract(html, size, NULL, &x, &err);
	size_t bad;
	int valid = gz_utf8_validate(html, size, &bad) == 0;
	if (!valid) {
		check(r == GZ_EUTF8 && err.offset == bad, "invalid UTF-8 at %zu: got %d (%s)", bad, r,
		      err.message);
		return 0;
	}
	check(r == 0 || r == GZ_ECOMPLEX, "valid page refused: %d %s", r, err.message);
	if (r)
		return 0;
	check_map(html, size, &x);

	size_t os, oe;
	gz_html_map_range(&x, size % (x.len + 1), x.len, &os, &oe);
	check(os <= oe && oe <= size, "map_range gives [%zu, %zu)", os, oe);
	gz_html_map_range(&x, x.len + 5, 2, &os, &oe);
	check(os == oe && oe <= size, "map_range of nothing gives [%zu, %zu)", os, oe);

	struct gz_tag_options o;
	gz_tag_options_init(&o);
	o.overlaps = size & 1 ? GZ_OVERLAPS_ALL : GZ_OVERLAPS_LONGEST;
	check(gz_tagger_run(tagger, set, x.text, x.len, &o, &err) == 0, "tagging the text: %s",
	      err.message);
	size_t n = gz_tagger_span_count(tagger);
	struct gz_span *sp = n ? malloc(3 * n * sizeof(*sp)) : NULL;
	check(!n || sp, "out of memory");
	for (int u = 0; u < 3 && n; u++) {
		memcpy(sp + u * n, gz_tagger_spans(tagger), n * sizeof(*sp));
		check(gz_html_map_spans(&x, html, size, sp + u * n, n, (enum gz_offsets)u) == 0,
		      "map_spans failed");
	}
	for (size_t k = 0; k < n; k++) {
		const struct gz_span *cp = &sp[k], *u16 = &sp[n + k], *by = &sp[2 * n + k];
		check(by->byte_start < by->byte_end && by->byte_end <= size,
		      "span %zu maps to [%zu, %zu)", k, by->byte_start, by->byte_end);
		check(by->start == by->byte_start && by->end == by->byte_end, "byte units differ");
		check(((unsigned char)html[by->byte_start] & 0xC0) != 0x80 &&
		      (by->byte_end == size || ((unsigned char)html[by->byte_end] & 0xC0) != 0x80),
		      "span %zu not on UTF-8 boundaries", k);
		check(cp->start <= u16->start && cp->end <= u16->end && cp->start <= cp->end &&
		      cp->end - cp->start <= by->end - by->start, "units disagree for span %zu", k);
		if (k && o.overlaps == GZ_OVERLAPS_LONGEST && x.inexact == 0)
			check(sp[2 * n + k - 1].byte_end <= by->byte_start, "spans out of order at %zu", k);
	}
	check_annotate(html, size, &x, sp ? sp + 2 * n : NULL, n);
	free(sp);
	gz_html_text_free(&x);
	return 0;
}
