/*
 * JSON for what the engine produces (jansson): the tag response of SPEC §4,
 * entries for /entities/{id}, and error objects.  Kept apart from the tagger
 * so that the scan itself never touches JSON.  The byte buffer the writers
 * append to, and its string escaper, are buf.h's: the gazetteer loader
 * writes attrs with them from below the tagger, without this header.
 */
#ifndef GZ_JSON_H
#define GZ_JSON_H

#include <jansson.h>

#include "buf.h"
#include "set.h"
#include "tagger.h"

/* Flags for every json_dumps of a response: compact, and reals printed with
 * 15 significant digits, so an attr written 50.45 comes back 50.45 and not
 * 50.450000000000003 (15 digits always survive decimal -> double -> decimal). */
#define GZ_JSON_DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

/* The answer to one tagged text, {"entities":[...],"offsets":"...",
 * "gazetteers":"<hash>"} and a newline (the hash: gz_set_hash of the set
 * the spans came from, so that an archived answer says which gazetteers
 * made it), written in pieces: the caller hands each piece on (to stdout, to
 * the HTTP connection) before asking for the next, so an answer of any size
 * passes through a buffer of about `limit` bytes, with no jansson tree and
 * no second copy.  The tagger must not run again until the answer is done. */
struct gz_json_answer {
	const struct gz_span *spans;
	size_t nspans;
	const char *text;
	enum gz_offsets offsets;
	int explain;
	const char *gazetteers; /* the set's gz_set_hash, or NULL: left out */
	const char *html;   /* annotate=true: the highlighted page, or NULL */
	size_t html_len;
	size_t next;  /* the next span to write */
	int stage;    /* 0: nothing written yet, 1: spans under way, 2: done */
};

/* The answer of the last run of t over text. */
void gz_json_answer_start(struct gz_json_answer *a, const struct gz_tagger *t,
			  const char *text, const struct gz_tag_options *opts);
/* The answer of spans[0..n) over text, which the caller keeps alive (an
 * HTML page's spans, moved onto the page: request.c), from the set whose
 * gz_set_hash is gazetteers.  a->html, when the caller sets it, is written
 * last as "html":"..." (in one piece). */
void gz_json_answer_start_spans(struct gz_json_answer *a, const struct gz_span *spans,
				size_t n, int explain, const char *text,
				const struct gz_tag_options *opts, const char *gazetteers);
/* Appends the next piece to b: spans until b->len reaches limit, or the
 * rest of the answer.  Returns 1 when the answer is complete, 0 when more
 * is to come, GZ_ENOMEM (b->failed) when memory ran out. */
int gz_json_answer_write(struct gz_json_answer *a, struct gz_buf *b, size_t limit);

/* The "entities" array of the last run of t, and the whole answer (newline
 * included), in one piece each: the same bytes as the pieces above.
 * Returns 0, or GZ_ENOMEM. */
int gz_json_write_spans(const struct gz_tagger *t, const char *text, struct gz_buf *b);
int gz_json_write_span_list(const struct gz_span *spans, size_t n, int explain,
			    const char *text, struct gz_buf *b);
int gz_json_write_tag_response(const struct gz_tagger *t, const char *text,
			       const struct gz_tag_options *opts, struct gz_buf *b);

/* The same as jansson trees: the reference the writers above are tested
 * against (json_equal; reals in attrs may print differently).  Slow: a
 * tree per span.  New references. */
json_t *gz_json_spans(const struct gz_tagger *t, const char *text);
json_t *gz_json_tag_response(const struct gz_tagger *t, const char *text,
			     const struct gz_tag_options *opts);

/* One entry as loaded: id, name, type, aliases, priority, attrs, file. */
json_t *gz_json_entry(const struct gz_entry *e);

/* GET /lookup's answer (SPEC §8.6): {"text": text, "entries": [{id, type,
 * name, form, case, file, line, priority, attrs}, ...]} in choice order.
 * text must be valid UTF-8.  New reference, or NULL when out of memory. */
json_t *gz_json_lookup(const struct gz_set *set, const char *text);

/* {"error": {"code": code, "message": message}}; callers may add fields to
 * the inner object (json_object_get(result, "error")).  New reference. */
json_t *gz_json_error(const char *code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A gz_error as a JSON error object with the right code string:
 * invalid_utf8 (with "offset"), bad_parameter, ... */
json_t *gz_json_from_error(const struct gz_error *err);

#endif
