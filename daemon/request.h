/*
 * Request bodies of POST /tag, apart from HTTP: a JSON object with "text"
 * and options, and NDJSON, one such object per line.  Kept out of http.c so
 * that the fuzzers and tests drive exactly the code the daemon runs, without
 * libmicrohttpd.
 */
#ifndef GZ_REQUEST_H
#define GZ_REQUEST_H

#include <jansson.h>
#include <stddef.h>

#include "json.h"
#include "set.h"
#include "tagger.h"

/* Parses one JSON request object: its text and options (over *opts).
 * Returns 0, or -1 with *error the JSON error object to answer (new
 * reference).  *root keeps the text alive: the caller json_decrefs it, and
 * frees *types_buf, the joined "a,b" types list, either way. */
int gz_request_parse_json(const char *buf, size_t len, int allow_id, json_t **root,
			  const char **text, size_t *text_len, struct gz_tag_options *opts,
			  char **types_buf, json_t **error);

/* Tags an NDJSON body: one answer line per non-blank input line, in order,
 * {"id":..,"entities":[..]} or {"id":..,"error":{..}}, appended to out.
 * A bad line never fails the others.  on_tagged (may be NULL) is called
 * after each line tagged, with the text's length (for metrics).  Returns 0,
 * or GZ_ENOMEM. */
int gz_request_tag_ndjson(struct gz_tagger *t, const struct gz_set *set,
			  const struct gz_tag_options *base, const char *body, size_t len,
			  struct gz_buf *out,
			  void (*on_tagged)(void *cls, const struct gz_tagger *t, size_t len),
			  void *cls);

/* The same, in pieces: tags the lines from body[*pos] on until out->len
 * reaches limit (whole lines: an answer line is never cut) or the body
 * ends, and moves *pos past them.  Returns 1 when the body is done, 0 when
 * lines are left, GZ_ENOMEM.  POST /tag streams its NDJSON answers this way. */
int gz_request_ndjson_next(struct gz_tagger *t, const struct gz_set *set,
			   const struct gz_tag_options *base, const char *body, size_t len,
			   size_t *pos, struct gz_buf *out, size_t limit,
			   void (*on_tagged)(void *cls, const struct gz_tagger *t, size_t len),
			   void *cls);

/* The fast path of an NDJSON line: when line[0..n) is exactly a JSON
 * object of "text" (a string) and optionally "id" (an integer, a string
 * with no escapes, null, true or false), sets the decoded text (a slice of
 * line, or scratch's data when it had escapes) and the id's JSON text as
 * jansson would print it ("null" when absent), and returns 1.  Returns 0
 * for anything else, valid or not: gz_request_parse_json then decides. */
int gz_request_simple_line(const char *line, size_t n, struct gz_buf *scratch,
			   const char **text, size_t *text_len, const char **id, size_t *id_len);

#endif
