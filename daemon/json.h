/*
 * JSON for what the engine produces (jansson): the tag response of SPEC §4,
 * entries for /entities/{id}, and error objects.  Kept apart from the tagger
 * so that the scan itself never touches JSON.
 */
#ifndef GZ_JSON_H
#define GZ_JSON_H

#include <jansson.h>

#include "set.h"
#include "tagger.h"

/* Flags for every json_dumps of a response: compact, and reals printed with
 * 15 significant digits, so an attr written 50.45 comes back 50.45 and not
 * 50.450000000000003 (15 digits always survive decimal -> double -> decimal). */
#define GZ_JSON_DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

/* The "entities" array of the last run of t over text (the text it was run
 * on, for the "text" fields).  New reference. */
json_t *gz_json_spans(const struct gz_tagger *t, const char *text);

/* {"entities": [...], "offsets": "codepoint"}.  New reference. */
json_t *gz_json_tag_response(const struct gz_tagger *t, const char *text,
			     const struct gz_tag_options *opts);

/* One entry as loaded: id, name, type, aliases, priority, attrs, file. */
json_t *gz_json_entry(const struct gz_entry *e);

/* {"error": {"code": code, "message": message}}; callers may add fields to
 * the inner object (json_object_get(result, "error")).  New reference. */
json_t *gz_json_error(const char *code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A gz_error as a JSON error object with the right code string:
 * invalid_utf8 (with "offset"), bad_parameter, ... */
json_t *gz_json_from_error(const struct gz_error *err);

#endif
