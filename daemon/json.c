/*
 * JSON output with jansson.  A set keeps each entry's attrs as compact JSON
 * text (a jansson tree costs ten times the memory, which matters at a
 * million entries), so a response parses the attrs of the entries it
 * returns; the set itself stays strictly read-only.
 */
#include "json.h"

#include "fold.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *attrs_json(const struct gz_entry *e)
{
	return gz_entry_attrs(e) ? json_loads(gz_entry_attrs(e), JSON_DECODE_ANY, NULL) : NULL;
}

static json_t *entry_ref(const struct gz_entry *e)
{
	return json_pack("{s:s, s:s, s:s}", "id", gz_entry_id(e), "type", gz_entry_type(e), "name",
			 gz_entry_name(e));
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
		json_object_set_new(o, "type", json_string(gz_entry_type(e)));
		json_object_set_new(o, "id", json_string(gz_entry_id(e)));
		json_object_set_new(o, "name", json_string(gz_entry_name(e)));
		if (gz_entry_attrs(e))
			json_object_set_new(o, "attrs", attrs_json(e));
		if (sp[i].alternative_count) {
			json_t *alts = json_array();
			for (size_t a = 0; a < sp[i].alternative_count; a++)
				json_array_append_new(alts, entry_ref(sp[i].alternatives[a]));
			json_object_set_new(o, "alternatives", alts);
		}
		if (sp[i].why == GZ_WHY_NAME_PART)
			json_object_set_new(o, "via", json_string("name-part"));
		if (gz_tagger_explained(t)) {
			json_t *why = json_pack("{s:s}", "rule", gz_why_name(sp[i].why));
			if (sp[i].why == GZ_WHY_QUALIFIER)
				json_object_set_new(why, "qualifier", json_string(gz_entry_id(sp[i].qualifier)));
			if (sp[i].why == GZ_WHY_SUPPORT) {
				json_t *ids = json_array();
				for (size_t k = 0; k < sp[i].support_count; k++)
					json_array_append_new(ids, json_string(gz_entry_id(sp[i].support[k])));
				json_object_set_new(why, "support", ids);
			}
			json_object_set_new(o, "why", why);
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
	return json_pack("{s:o, s:s, s:s*}", "entities", spans, "offsets",
			 gz_offsets_name(opts->offsets), "gazetteers", gz_tagger_gazetteers(t));
}

json_t *gz_json_entry(const struct gz_entry *e)
{
	json_t *o = json_pack("{s:s, s:s, s:s}", "id", gz_entry_id(e), "name", gz_entry_name(e), "type",
			      gz_entry_type(e));
	if (!o)
		return NULL;
	json_t *aliases = json_array();
	const struct gz_alias *al = gz_entry_aliases(e);
	for (size_t i = 0; i < e->alias_count; i++) {
		if (al[i].case_rule != e->name_case)
			json_array_append_new(aliases,
					      json_pack("{s:s, s:s}", "text", gz_alias_text(&al[i]), "case",
							gz_case_name(al[i].case_rule)));
		else
			json_array_append_new(aliases, json_string(gz_alias_text(&al[i])));
	}
	json_object_set_new(o, "aliases", aliases);
	json_object_set_new(o, "case", json_string(gz_case_name(e->name_case)));
	if (e->evidence_required)
		json_object_set_new(o, "evidence", json_string("required"));
	/* a whole priority prints as an integer; only within 2^53 is the cast
	 * defined and exact (a priority of 1e27 stays a real) */
	if (e->priority > -9007199254740992.0 && e->priority < 9007199254740992.0 &&
	    e->priority == (double)(json_int_t)e->priority)
		json_object_set_new(o, "priority", json_integer((json_int_t)e->priority));
	else
		json_object_set_new(o, "priority", json_real(e->priority));
	json_object_set_new(o, "attrs", gz_entry_attrs(e) ? attrs_json(e) : json_object());
	json_object_set_new(o, "file", json_string(gz_entry_file(e)));
	json_object_set_new(o, "line", json_integer(e->line));
	return o;
}

static int lookup_hit(void *cls, const struct gz_lookup_hit *h)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i}", "id", gz_entry_id(h->entry),
			      "type", gz_entry_type(h->entry), "name", gz_entry_name(h->entry), "form", h->form,
			      "case", gz_case_name(h->case_rule), "file", gz_entry_file(h->entry),
			      "line", h->line);
	json_t *entry = o ? gz_json_entry(h->entry) : NULL;
	if (!entry) {
		json_decref(o);
		return GZ_ENOMEM;
	}
	const char *keys[] = { "priority", "evidence", "attrs" };
	for (size_t k = 0; k < sizeof keys / sizeof *keys; k++)
		if (json_object_get(entry, keys[k]))
			json_object_set(o, keys[k], json_object_get(entry, keys[k]));
	json_decref(entry);
	return json_array_append_new(cls, o) ? GZ_ENOMEM : 0;
}

json_t *gz_json_lookup(const struct gz_set *set, const char *text)
{
	json_t *list = json_array();
	if (!list || gz_set_lookup(set, text, lookup_hit, list) < 0) {
		json_decref(list);
		return NULL;
	}
	return json_pack("{s:s, s:o}", "text", text, "entries", list);
}

/* ------------------------------------------------------- direct writers */

/* Offsets are written millions of times per big answer: no snprintf. */
static void append_num(struct gz_buf *b, size_t v)
{
	char num[24];
	size_t k = sizeof num;
	do {
		num[--k] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	gz_buf_append(b, num + k, sizeof num - k);
}

#define APPEND_LIT(b, lit) gz_buf_append((b), (lit), sizeof(lit) - 1)

static void append_cstr(struct gz_buf *b, const char *s)
{
	gz_buf_append(b, s, strlen(s));
}

/* An identifier, type or name of the gazetteers: quoted, and escaped only
 * when it needs to be (they seldom do). */
static void append_str(struct gz_buf *b, const char *s)
{
	size_t n = strlen(s);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == '"' || c == '\\') {
			gz_buf_append_json_string(b, s, n);
			return;
		}
	}
	gz_buf_append(b, "\"", 1);
	gz_buf_append(b, s, n);
	gz_buf_append(b, "\"", 1);
}

/* "why" of explain=true (SPEC §8.6). */
static void write_why(struct gz_buf *b, const struct gz_span *sp)
{
	APPEND_LIT(b, ",\"why\":{\"rule\":\"");
	append_cstr(b, gz_why_name(sp->why));
	gz_buf_append(b, "\"", 1);
	if (sp->why == GZ_WHY_QUALIFIER) {
		APPEND_LIT(b, ",\"qualifier\":");
		append_str(b, gz_entry_id(sp->qualifier));
	}
	if (sp->why == GZ_WHY_SUPPORT) {
		APPEND_LIT(b, ",\"support\":[");
		for (size_t k = 0; k < sp->support_count; k++) {
			if (k)
				gz_buf_append(b, ",", 1);
			append_str(b, gz_entry_id(sp->support[k]));
		}
		gz_buf_append(b, "]", 1);
	}
	gz_buf_append(b, "}", 1);
}

/* One span object, with its leading comma when it is not the first. */
static void write_span(struct gz_buf *b, const char *text, const struct gz_span *sp,
		       int first, int explain)
{
	const struct gz_entry *e = sp->entry;
	if (first)
		APPEND_LIT(b, "{\"start\":");
	else
		APPEND_LIT(b, ",{\"start\":");
	append_num(b, sp->start);
	APPEND_LIT(b, ",\"end\":");
	append_num(b, sp->end);
	APPEND_LIT(b, ",\"text\":");
	gz_buf_append_json_string(b, text + sp->byte_start, sp->byte_end - sp->byte_start);
	APPEND_LIT(b, ",\"type\":");
	append_str(b, gz_entry_type(e));
	APPEND_LIT(b, ",\"id\":");
	append_str(b, gz_entry_id(e));
	APPEND_LIT(b, ",\"name\":");
	append_str(b, gz_entry_name(e));
	if (gz_entry_attrs(e)) {
		APPEND_LIT(b, ",\"attrs\":");
		append_cstr(b, gz_entry_attrs(e)); /* stored as compact JSON already */
	}
	if (sp->alternative_count) {
		APPEND_LIT(b, ",\"alternatives\":[");
		for (size_t a = 0; a < sp->alternative_count; a++) {
			const struct gz_entry *x = sp->alternatives[a];
			if (a)
				APPEND_LIT(b, ",{\"id\":");
			else
				APPEND_LIT(b, "{\"id\":");
			append_str(b, gz_entry_id(x));
			APPEND_LIT(b, ",\"type\":");
			append_str(b, gz_entry_type(x));
			APPEND_LIT(b, ",\"name\":");
			append_str(b, gz_entry_name(x));
			gz_buf_append(b, "}", 1);
		}
		gz_buf_append(b, "]", 1);
	}
	if (sp->why == GZ_WHY_NAME_PART)
		APPEND_LIT(b, ",\"via\":\"name-part\"");
	if (explain)
		write_why(b, sp);
	gz_buf_append(b, "}", 1);
}

int gz_json_write_span_list(const struct gz_span *spans, size_t n, int explain,
			    const char *text, struct gz_buf *b)
{
	gz_buf_append(b, "[", 1);
	for (size_t i = 0; i < n; i++)
		write_span(b, text, &spans[i], i == 0, explain);
	gz_buf_append(b, "]", 1);
	return b->failed ? GZ_ENOMEM : 0;
}

int gz_json_write_spans(const struct gz_tagger *t, const char *text, struct gz_buf *b)
{
	return gz_json_write_span_list(gz_tagger_spans(t), gz_tagger_span_count(t),
				       gz_tagger_explained(t), text, b);
}

void gz_json_answer_start_spans(struct gz_json_answer *a, const struct gz_span *spans,
				size_t n, int explain, const char *text,
				const struct gz_tag_options *opts, const char *gazetteers)
{
	a->spans = spans;
	a->nspans = n;
	a->text = text;
	a->offsets = opts->offsets;
	a->explain = explain;
	a->gazetteers = gazetteers;
	a->html = NULL;
	a->html_len = 0;
	a->next = 0;
	a->stage = 0;
}

void gz_json_answer_start(struct gz_json_answer *a, const struct gz_tagger *t,
			  const char *text, const struct gz_tag_options *opts)
{
	gz_json_answer_start_spans(a, gz_tagger_spans(t), gz_tagger_span_count(t),
				   gz_tagger_explained(t), text, opts, gz_tagger_gazetteers(t));
}

int gz_json_answer_write(struct gz_json_answer *a, struct gz_buf *b, size_t limit)
{
	size_t n = a->nspans;
	const struct gz_span *sp = a->spans;
	if (a->stage == 0) {
		APPEND_LIT(b, "{\"entities\":[");
		a->stage = 1;
	}
	while (a->stage == 1 && a->next < n && b->len < limit && !b->failed) {
		write_span(b, a->text, &sp[a->next], a->next == 0, a->explain);
		a->next++;
	}
	if (a->stage == 1 && a->next == n) {
		APPEND_LIT(b, "],\"offsets\":\"");
		append_cstr(b, gz_offsets_name(a->offsets));
		gz_buf_append(b, "\"", 1);
		if (a->gazetteers) {
			APPEND_LIT(b, ",\"gazetteers\":");
			append_str(b, a->gazetteers);
		}
		if (a->html) {
			APPEND_LIT(b, ",\"html\":");
			gz_buf_append_json_string(b, a->html, a->html_len);
		}
		APPEND_LIT(b, "}\n");
		a->stage = 2;
	}
	if (b->failed)
		return GZ_ENOMEM;
	return a->stage == 2;
}

int gz_json_write_tag_response(const struct gz_tagger *t, const char *text,
			       const struct gz_tag_options *opts, struct gz_buf *b)
{
	struct gz_json_answer a;
	gz_json_answer_start(&a, t, text, opts);
	return gz_json_answer_write(&a, b, SIZE_MAX) < 0 ? GZ_ENOMEM : 0;
}

/* ------------------------------------------------------------- errors */

/* Messages may quote what a client sent (an option value, jansson's context
 * of a JSON error), cut at a byte count: make them valid UTF-8, each bad
 * byte a U+FFFD, or jansson refuses the whole error object. */
static void make_utf8(const char *in, char *out, size_t size)
{
	size_t n = strlen(in), o = 0, i = 0;
	while (i < n && o + 4 < size) {
		size_t bad;
		if (gz_utf8_validate(in + i, n - i, &bad) == 0)
			bad = n - i;
		size_t k = bad < size - o - 4 ? bad : size - o - 4;
		memcpy(out + o, in + i, k);
		o += k;
		i += k;
		if (k < bad)
			break;
		if (i < n) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	/* do not end inside a sequence cut by the size limit */
	while (o > 0 && gz_utf8_validate(out, o, NULL) != 0)
		o--;
	out[o] = 0;
}

json_t *gz_json_error(const char *code, const char *fmt, ...)
{
	char msg[1024], clean[1100];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	make_utf8(msg, clean, sizeof clean);
	return json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", clean);
}

json_t *gz_json_from_error(const struct gz_error *err)
{
	const char *code;
	switch (err->code) {
	case GZ_EUTF8: code = "invalid_utf8"; break;
	case GZ_EINVAL: code = "bad_parameter"; break;
	case GZ_ETOOBIG: code = "payload_too_large"; break;
	case GZ_ECOMPLEX: code = "html_too_complex"; break;
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
