/*
 * POST /tag bodies: JSON objects and NDJSON lines -> text and options, and
 * the NDJSON loop that answers line by line.  See request.h.
 */
#include "request.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Reads the option fields of a JSON request object (or NDJSON line) over
 * opts; *types_buf owns a joined "a,b" types list.  Unknown keys are
 * refused, as a typo silently ignored would tag with the wrong options. */
static int json_options(json_t *obj, struct gz_tag_options *opts,
			char **types_buf, int allow_id, struct gz_error *err)
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		if (!strcmp(key, "text") || (allow_id && !strcmp(key, "id")))
			continue;
		if (!strcmp(key, "overlaps") || !strcmp(key, "offsets")) {
			if (!json_is_string(v))
				return gz_error_set(err, GZ_EINVAL, "'%s' must be a string", key);
			int rc = key[1] == 'v'
				? gz_overlaps_parse(json_string_value(v), &opts->overlaps, err)
				: gz_offsets_parse(json_string_value(v), &opts->offsets, err);
			if (rc)
				return rc;
		} else if (!strcmp(key, "explain")) {
			if (!json_is_boolean(v))
				return gz_error_set(err, GZ_EINVAL, "'explain' must be true or false");
			opts->explain = json_is_true(v);
		} else if (!strcmp(key, "types")) {
			free(*types_buf);
			*types_buf = NULL;
			opts->types = NULL;
			if (json_is_null(v))
				continue;
			if (json_is_string(v)) {
				*types_buf = strdup(json_string_value(v));
			} else if (json_is_array(v)) {
				size_t i, n = 1;
				json_t *t;
				json_array_foreach(v, i, t) {
					if (!json_is_string(t))
						return gz_error_set(err, GZ_EINVAL,
								    "'types' must be a list of strings");
					n += json_string_length(t) + 1;
				}
				if (!(*types_buf = calloc(1, n)))
					return gz_error_set(err, GZ_ENOMEM, "out of memory");
				json_array_foreach(v, i, t) {
					if (i)
						strcat(*types_buf, ",");
					strcat(*types_buf, json_string_value(t));
				}
			} else {
				return gz_error_set(err, GZ_EINVAL,
						    "'types' must be a list of strings");
			}
			if (!*types_buf)
				return gz_error_set(err, GZ_ENOMEM, "out of memory");
			opts->types = *types_buf;
		} else {
			return gz_error_set(err, GZ_EINVAL,
					    "unknown field '%.100s' (expected %stext, types, "
					    "overlaps, offsets or explain)", key, allow_id ? "id, " : "");
		}
	}
	return 0;
}

/* Parses one JSON request object: its text and options.  Returns 0, or
 * -1 with *error set to the JSON error to answer. */
int gz_request_parse_json(const char *buf, size_t len, int allow_id, json_t **root,
			  const char **text, size_t *text_len, struct gz_tag_options *opts,
			  char **types_buf, json_t **error)
{
	json_error_t jerr;
	struct gz_error e = {0};
	*root = json_loadb(buf, len, JSON_ALLOW_NUL, &jerr);
	if (!*root) {
		*error = gz_json_error("bad_json", "invalid JSON at line %d, column %d: %s",
				       jerr.line, jerr.column, jerr.text);
		return -1;
	}
	if (!json_is_object(*root)) {
		*error = gz_json_error("bad_json", "expected a JSON object with a \"text\" field");
		return -1;
	}
	json_t *t = json_object_get(*root, "text");
	if (!json_is_string(t)) {
		*error = gz_json_error("bad_parameter", t ? "\"text\" must be a string"
						     : "missing \"text\" field");
		return -1;
	}
	if (json_options(*root, opts, types_buf, allow_id, &e)) {
		*error = gz_json_from_error(&e);
		return -1;
	}
	*text = json_string_value(t);
	*text_len = json_string_length(t);
	return 0;
}

/* One NDJSON line -> one answer line: {"id":..,"entities":[..]} or
 * {"id":..,"error":{..}}.  A bad line never fails the others. */
static void tag_line(struct gz_buf *o, struct gz_tagger *t, const struct gz_set *set,
		     const struct gz_tag_options *base, const char *line, size_t n,
		     void (*on_tagged)(void *, const struct gz_tagger *, size_t), void *cls)
{
	struct gz_tag_options opts = *base;
	struct gz_error e = {0};
	json_t *root = NULL, *error = NULL;
	const char *text;
	size_t len;
	char *types_buf = NULL;

	int rc = gz_request_parse_json(line, n, 1, &root, &text, &len, &opts, &types_buf, &error);
	json_t *id = json_is_object(root) ? json_object_get(root, "id") : NULL;
	char *ids = json_dumps(id ? id : json_null(), JSON_ENCODE_ANY | JSON_COMPACT);
	if (!ids) {
		o->failed = 1;
		goto out;
	}
	gz_buf_append(o, "{\"id\":", 6);
	gz_buf_append(o, ids, strlen(ids));
	free(ids);
	if (!rc && gz_tagger_run(t, set, text, len, &opts, &e) == 0) {
		if (on_tagged)
			on_tagged(cls, t, len);
		/* the common case: written directly, no tree */
		gz_buf_append(o, ",\"entities\":", 12);
		gz_json_write_spans(t, text, o);
	} else {
		if (!rc)
			error = gz_json_from_error(&e);
		char *es = error ? json_dumps(json_object_get(error, "error"), GZ_JSON_DUMP_FLAGS)
				 : NULL;
		if (!es) {
			o->failed = 1;
			goto out;
		}
		gz_buf_append(o, ",\"error\":", 9);
		gz_buf_append(o, es, strlen(es));
		free(es);
	}
	gz_buf_append(o, "}\n", 2);
out:
	json_decref(error);
	json_decref(root);
	free(types_buf);
}

int gz_request_ndjson_next(struct gz_tagger *t, const struct gz_set *set,
			   const struct gz_tag_options *base, const char *body, size_t len,
			   size_t *pos, struct gz_buf *out, size_t limit,
			   void (*on_tagged)(void *cls, const struct gz_tagger *t, size_t len),
			   void *cls)
{
	const char *p = body + *pos, *end = body + len;
	while (p < end && !out->failed && out->len < limit) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *stop = nl ? nl : end;
		size_t n = (size_t)(stop - p);
		if (n && p[n - 1] == '\r')
			n--;
		size_t blank = 0; /* whitespace-only lines are skipped */
		while (blank < n && (p[blank] == ' ' || p[blank] == '\t' || p[blank] == '\r'))
			blank++;
		if (blank < n)
			tag_line(out, t, set, base, p, n, on_tagged, cls);
		p = nl ? stop + 1 : end;
	}
	*pos = (size_t)(p - body);
	if (out->failed)
		return GZ_ENOMEM;
	return *pos == len;
}

int gz_request_tag_ndjson(struct gz_tagger *t, const struct gz_set *set,
			  const struct gz_tag_options *base, const char *body, size_t len,
			  struct gz_buf *out,
			  void (*on_tagged)(void *cls, const struct gz_tagger *t, size_t len),
			  void *cls)
{
	size_t pos = 0;
	return gz_request_ndjson_next(t, set, base, body, len, &pos, out, SIZE_MAX, on_tagged,
				      cls) < 0 ? GZ_ENOMEM : 0;
}
