/*
 * JSON output with jansson.  A set keeps each entry's attrs as compact JSON
 * text (a jansson tree costs ten times the memory, which matters at a
 * million entries), so a response parses the attrs of the entries it
 * returns; the set itself stays strictly read-only.
 */
#include "json.h"

#include <stdarg.h>
#include <stdio.h>

static json_t *attrs_json(const struct gz_entry *e)
{
	return e->attrs ? json_loads(e->attrs, JSON_DECODE_ANY, NULL) : NULL;
}

static json_t *entry_ref(const struct gz_entry *e)
{
	return json_pack("{s:s, s:s, s:s}", "id", e->id, "type", e->type, "name", e->name);
}

json_t *gz_json_spans(const struct gz_tagger *t, const char *text)
{
	json_t *arr = json_array();
	if (!arr)
		return NULL;
	size_t n = gz_tagger_span_count(t);
	const struct gz_span *sp = gz_tagger_spans(t);
	for (size_t i = 0; i < n; i++) {
		const struct gz_entry *e = sp[i].entry;
		json_t *o = json_object();
		if (!o)
			goto fail;
		json_object_set_new(o, "start", json_integer((json_int_t)sp[i].start));
		json_object_set_new(o, "end", json_integer((json_int_t)sp[i].end));
		json_object_set_new(o, "text", json_stringn(text + sp[i].byte_start,
							    sp[i].byte_end - sp[i].byte_start));
		json_object_set_new(o, "type", json_string(e->type));
		json_object_set_new(o, "id", json_string(e->id));
		json_object_set_new(o, "name", json_string(e->name));
		if (e->attrs)
			json_object_set_new(o, "attrs", attrs_json(e));
		if (sp[i].alternative_count) {
			json_t *alts = json_array();
			for (size_t a = 0; a < sp[i].alternative_count; a++)
				json_array_append_new(alts, entry_ref(sp[i].alternatives[a]));
			json_object_set_new(o, "alternatives", alts);
		}
		if (json_array_append_new(arr, o))
			goto fail;
	}
	return arr;
fail:
	json_decref(arr);
	return NULL;
}

json_t *gz_json_tag_response(const struct gz_tagger *t, const char *text,
			     const struct gz_tag_options *opts)
{
	json_t *spans = gz_json_spans(t, text);
	if (!spans)
		return NULL;
	return json_pack("{s:o, s:s}", "entities", spans, "offsets", gz_offsets_name(opts->offsets));
}

json_t *gz_json_entry(const struct gz_entry *e)
{
	json_t *o = json_pack("{s:s, s:s, s:s}", "id", e->id, "name", e->name, "type", e->type);
	if (!o)
		return NULL;
	json_t *aliases = json_array();
	for (size_t i = 0; i < e->alias_count; i++) {
		if (e->aliases[i].case_sensitive != e->name_case_sensitive)
			json_array_append_new(aliases, json_pack("{s:s, s:s}", "text", e->aliases[i].text,
								 "case", e->aliases[i].case_sensitive
									 ? "sensitive" : "insensitive"));
		else
			json_array_append_new(aliases, json_string(e->aliases[i].text));
	}
	json_object_set_new(o, "aliases", aliases);
	json_object_set_new(o, "case", json_string(e->name_case_sensitive ? "sensitive" : "insensitive"));
	if (e->priority == (double)(json_int_t)e->priority)
		json_object_set_new(o, "priority", json_integer((json_int_t)e->priority));
	else
		json_object_set_new(o, "priority", json_real(e->priority));
	json_object_set_new(o, "attrs", e->attrs ? attrs_json(e) : json_object());
	json_object_set_new(o, "file", json_string(e->file));
	json_object_set_new(o, "line", json_integer(e->line));
	return o;
}

json_t *gz_json_error(const char *code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", msg);
}

json_t *gz_json_from_error(const struct gz_error *err)
{
	const char *code;
	switch (err->code) {
	case GZ_EUTF8: code = "invalid_utf8"; break;
	case GZ_EINVAL: code = "bad_parameter"; break;
	case GZ_ETOOBIG: code = "payload_too_large"; break;
	case GZ_ELOAD: code = "load_failed"; break;
	case GZ_ENOMEM: code = "out_of_memory"; break;
	default: code = "internal_error"; break;
	}
	json_t *j = gz_json_error(code, "%s", err->message);
	if (j && err->code == GZ_EUTF8)
		json_object_set_new(json_object_get(j, "error"), "offset",
				    json_integer((json_int_t)err->offset));
	return j;
}
