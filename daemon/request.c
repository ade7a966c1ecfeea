/*
 * POST /tag bodies: JSON objects and NDJSON lines -> text and options, the
 * input layer that reads a text as plain text or HTML, and the NDJSON loop
 * that answers line by line.  See request.h.
 */
#include "request.h"

#include "fold.h"
#include "html.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------ the options */

/* Each option once: its name, the kind of value it takes, the values a
 * choice allows (in the order of its enum), and so every message about it.
 * The query string, JSON bodies and NDJSON lines, and the command line all
 * read their options through this table, so that a name, a value or an
 * error message never differs between them. */
enum field { F_TYPES, F_OVERLAPS, F_OFFSETS, F_EXPLAIN, F_FORMAT, F_ANNOTATE };

static const char *const overlaps_values[] = { "longest", "all", NULL };   /* gz_overlaps */
static const char *const offsets_values[] = { "codepoint", "utf16", "byte", NULL }; /* gz_offsets */
static const char *const format_values[] = { "text", "html", NULL };       /* gz_format */

const struct gz_option gz_options[] = {
	{ "types", GZ_OPTION_TYPES, NULL, F_TYPES },
	{ "overlaps", GZ_OPTION_CHOICE, overlaps_values, F_OVERLAPS },
	{ "offsets", GZ_OPTION_CHOICE, offsets_values, F_OFFSETS },
	{ "explain", GZ_OPTION_BOOL, NULL, F_EXPLAIN },
	{ "format", GZ_OPTION_CHOICE, format_values, F_FORMAT },
	{ "annotate", GZ_OPTION_BOOL, NULL, F_ANNOTATE },
	{ NULL, 0, NULL, 0 },
};

const struct gz_option *gz_option_find(const char *name)
{
	for (const struct gz_option *o = gz_options; o->name; o++)
		if (!strcmp(o->name, name))
			return o;
	return NULL;
}

/* "a, b or c" */
static void join_or(const char *const *words, char *buf, size_t size)
{
	size_t n = 0, len = 0;
	while (words[n])
		n++;
	buf[0] = '\0';
	for (size_t i = 0; i < n && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
					i == 0 ? "" : i + 1 == n ? " or " : ", ", words[i]);
}

void gz_option_names(char *buf, size_t size)
{
	const char *names[sizeof gz_options / sizeof *gz_options];
	size_t n = 0;
	for (const struct gz_option *o = gz_options; o->name; o++)
		names[n++] = o->name;
	names[n] = NULL;
	join_or(names, buf, size);
}

static void store(const struct gz_option *o, int value, struct gz_request_options *opts)
{
	switch ((enum field)o->field) {
	case F_OVERLAPS: opts->tag.overlaps = (enum gz_overlaps)value; break;
	case F_OFFSETS: opts->tag.offsets = (enum gz_offsets)value; break;
	case F_EXPLAIN: opts->tag.explain = value; break;
	case F_FORMAT: opts->format = (enum gz_format)value; break;
	case F_ANNOTATE: opts->annotate = value; break;
	case F_TYPES: break;
	}
}

/* The types list s[0..n) (NULL: none), kept in *owned (the caller's
 * buffer, or s itself when owned is NULL). */
static int store_types(const char *s, struct gz_request_options *opts, char **owned,
		       struct gz_error *err)
{
	opts->tag.types = s;
	if (!owned)
		return 0;
	free(*owned);
	*owned = NULL;
	opts->tag.types = NULL;
	if (s && !(*owned = strdup(s)))
		return gz_error_set(err, GZ_ENOMEM, "out of memory");
	opts->tag.types = *owned;
	return 0;
}

int gz_option_set(const struct gz_option *o, const char *value, struct gz_request_options *opts,
		  char **owned, struct gz_error *err)
{
	if (o->kind == GZ_OPTION_TYPES)
		return store_types(value, opts, owned, err);
	static const char *const bool_values[] = { "false", "true", NULL };
	const char *const *values = o->kind == GZ_OPTION_BOOL ? bool_values : o->values;
	for (int i = 0; values[i]; i++) {
		if (!strcmp(value, values[i])) {
			store(o, i, opts);
			return 0;
		}
	}
	/* the values in the order people read them: true before false */
	static const char *const bool_listed[] = { "true", "false", NULL };
	char expected[200];
	join_or(o->kind == GZ_OPTION_BOOL ? bool_listed : values, expected, sizeof expected);
	return gz_error_set(err, GZ_EINVAL, "bad value '%.40s' for %s (expected %s)", value, o->name,
			    expected);
}

int gz_option_set_json(const struct gz_option *o, json_t *v, struct gz_request_options *opts,
		       char **owned, struct gz_error *err)
{
	switch (o->kind) {
	case GZ_OPTION_BOOL:
		if (!json_is_boolean(v))
			return gz_error_set(err, GZ_EINVAL, "'%s' must be true or false", o->name);
		store(o, json_is_true(v), opts);
		return 0;
	case GZ_OPTION_CHOICE:
		if (!json_is_string(v))
			return gz_error_set(err, GZ_EINVAL, "'%s' must be a string", o->name);
		return gz_option_set(o, json_string_value(v), opts, owned, err);
	case GZ_OPTION_TYPES:
		break;
	}
	/* types: null (every type), "a,b", or ["a", "b"] */
	if (json_is_null(v) || json_is_string(v))
		return store_types(json_string_value(v), opts, owned, err);
	if (!json_is_array(v))
		return gz_error_set(err, GZ_EINVAL, "'%s' must be a list of strings", o->name);
	size_t i, n = 1;
	json_t *t;
	json_array_foreach(v, i, t) {
		if (!json_is_string(t))
			return gz_error_set(err, GZ_EINVAL, "'%s' must be a list of strings", o->name);
		n += json_string_length(t) + 1;
	}
	char *joined = calloc(1, n);
	if (!joined)
		return gz_error_set(err, GZ_ENOMEM, "out of memory");
	json_array_foreach(v, i, t) {
		if (i)
			strcat(joined, ",");
		strcat(joined, json_string_value(t));
	}
	int rc = store_types(joined, opts, owned, err);
	free(joined);
	return rc;
}

/* Reads the option fields of a JSON request object (or NDJSON line) over
 * opts; *types_buf owns a joined "a,b" types list.  Unknown keys are
 * refused, as a typo silently ignored would tag with the wrong options. */
static int json_options(json_t *obj, struct gz_request_options *opts,
			char **types_buf, int allow_id, struct gz_error *err)
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		if (!strcmp(key, "text") || (allow_id && !strcmp(key, "id")))
			continue;
		const struct gz_option *o = gz_option_find(key);
		if (!o) {
			char names[200];
			gz_option_names(names, sizeof names);
			return gz_error_set(err, GZ_EINVAL, "unknown field '%.100s' (expected %stext, %s)",
					    key, allow_id ? "id, " : "", names);
		}
		int rc = gz_option_set_json(o, v, opts, types_buf, err);
		if (rc)
			return rc;
	}
	return 0;
}

/* Parses one JSON request object: its text and options.  Returns 0, or
 * -1 with *error set to the JSON error to answer. */
int gz_request_parse_json(const char *buf, size_t len, int allow_id, json_t **root,
			  const char **text, size_t *text_len, struct gz_request_options *opts,
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

/* ---------------------------------------------------- the input layer */

void gz_request_options_init(struct gz_request_options *o)
{
	gz_tag_options_init(&o->tag);
	o->format = GZ_FORMAT_TEXT;
	o->annotate = 0;
}

/* An HTML page: its text tagged, the spans moved onto the page.  The
 * tagger counts bytes only (the page's units are counted once, over the
 * page, by gz_html_map_spans). */
static int tag_html(struct gz_tagger *t, const struct gz_set *set, const char *page,
		    size_t len, const struct gz_request_options *opts,
		    struct gz_request_tagged *out, struct gz_error *err)
{
	struct gz_html_text x;
	struct gz_html_mark *marks = NULL;
	struct gz_tag_options o = opts->tag;
	o.offsets = GZ_OFFSETS_BYTE;
	int r = gz_html_extract(page, len, NULL, &x, err);
	if (!r)
		r = gz_tagger_run(t, set, x.text, x.len, &o, err);
	size_t n = r ? 0 : gz_tagger_span_count(t);
	if (!r && n && !(out->spans = malloc(n * sizeof(*out->spans))))
		r = gz_error_set(err, GZ_ENOMEM, "out of memory");
	if (!r && n) {
		memcpy(out->spans, gz_tagger_spans(t), n * sizeof(*out->spans));
		if (gz_html_map_spans(&x, page, len, out->spans, n, opts->tag.offsets))
			r = gz_error_set(err, GZ_ENOMEM, "out of memory");
	}
	if (!r && opts->annotate) {
		if (n && !(marks = malloc(n * sizeof(*marks))))
			r = gz_error_set(err, GZ_ENOMEM, "out of memory");
		for (size_t k = 0; !r && k < n; k++)
			marks[k] = (struct gz_html_mark){ out->spans[k].byte_start,
							  out->spans[k].byte_end,
							  gz_entry_type(out->spans[k].entry),
							  gz_entry_id(out->spans[k].entry) };
		if (!r)
			r = gz_html_annotate(page, len, &x, marks, n, &out->html, err);
	}
	free(marks);
	gz_html_text_free(&x);
	if (r)
		return r;
	gz_json_answer_start_spans(&out->answer, out->spans, n, gz_tagger_explained(t), page,
				   &opts->tag, gz_set_hash(set));
	if (opts->annotate) {
		out->answer.html = out->html.data ? out->html.data : "";
		out->answer.html_len = out->html.len;
	}
	return 0;
}

int gz_request_tag(struct gz_tagger *t, const struct gz_set *set, const char *text,
		   size_t len, const struct gz_request_options *opts,
		   struct gz_request_tagged *out, struct gz_error *err)
{
	memset(out, 0, sizeof(*out));
	if (opts->format == GZ_FORMAT_HTML)
		return tag_html(t, set, text, len, opts, out, err);
	/* annotate writes the page back: plain text has none to write */
	if (opts->annotate)
		return gz_error_set(err, GZ_EINVAL, "annotate=true goes with HTML (Content-Type: "
				    "text/html, or format=html)");
	int r = gz_tagger_run(t, set, text, len, &opts->tag, err);
	if (!r)
		gz_json_answer_start(&out->answer, t, text, &opts->tag);
	return r;
}

void gz_request_tagged_free(struct gz_request_tagged *r)
{
	free(r->spans);
	free(r->html.data);
	memset(r, 0, sizeof(*r));
}

/* ------------------------------------------------------ the fast path */

/* Almost every NDJSON line a batch sends is {"id": ..., "text": "..."}.
 * jansson builds a tree for it and decodes the text a byte at a time, which
 * costs as much as tagging it; this reads that one shape directly.  Anything
 * else (another key, an escaped key, an id that jansson would print
 * differently, invalid UTF-8, a lone surrogate) is left to jansson, so
 * that answers and error messages stay jansson's own: the fuzzer checks the
 * two agree on every line this accepts. */

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

static int hex4(const char *p, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0')
			     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
			     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 16u;
		if (d == 16)
			return -1;
		*v = *v << 4 | d;
	}
	return 0;
}

/* A JSON string at p (just past its opening quote): its decoded bytes, as
 * a slice of the line when it has no escapes, else decoded into *scratch.
 * Returns the byte after the closing quote, or NULL to fall back. */
static const char *read_string(const char *p, const char *end, const char **out,
			       size_t *out_len, struct gz_buf *scratch, int *escaped)
{
	const char *run = p;
	*escaped = 0;
	for (;;) {
		while (p < end && (unsigned char)*p >= 0x20 && *p != '"' && *p != '\\')
			p++;
		if (p == end || (unsigned char)*p < 0x20)
			return NULL;
		if (*p == '"')
			break;
		/* an escape: decode from here on into scratch */
		if (!*escaped) {
			scratch->len = 0;
			*escaped = 1;
		}
		gz_buf_append(scratch, run, (size_t)(p - run));
		if (end - p < 2)
			return NULL;
		char c = p[1], lit;
		p += 2;
		switch (c) {
		case '"': case '\\': case '/': lit = c; break;
		case 'b': lit = '\b'; break;
		case 'f': lit = '\f'; break;
		case 'n': lit = '\n'; break;
		case 'r': lit = '\r'; break;
		case 't': lit = '\t'; break;
		case 'u': {
			unsigned cp, lo;
			if (end - p < 4 || hex4(p, &cp))
				return NULL;
			p += 4;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return NULL;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (end - p < 6 || p[0] != '\\' || p[1] != 'u' || hex4(p + 2, &lo) ||
				    lo < 0xdc00 || lo > 0xdfff)
					return NULL;
				p += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			char u[4];
			size_t k;
			if (cp < 0x80) {
				u[0] = (char)cp;
				k = 1;
			} else if (cp < 0x800) {
				u[0] = (char)(0xc0 | cp >> 6);
				u[1] = (char)(0x80 | (cp & 0x3f));
				k = 2;
			} else if (cp < 0x10000) {
				u[0] = (char)(0xe0 | cp >> 12);
				u[1] = (char)(0x80 | (cp >> 6 & 0x3f));
				u[2] = (char)(0x80 | (cp & 0x3f));
				k = 3;
			} else {
				u[0] = (char)(0xf0 | cp >> 18);
				u[1] = (char)(0x80 | (cp >> 12 & 0x3f));
				u[2] = (char)(0x80 | (cp >> 6 & 0x3f));
				u[3] = (char)(0x80 | (cp & 0x3f));
				k = 4;
			}
			gz_buf_append(scratch, u, k);
			run = p;
			continue;
		}
		default: return NULL;
		}
		gz_buf_append(scratch, &lit, 1);
		run = p;
	}
	if (*escaped) {
		gz_buf_append(scratch, run, (size_t)(p - run));
		if (scratch->failed)
			return NULL;
		*out = scratch->data;
		*out_len = scratch->len;
	} else {
		*out = run;
		*out_len = (size_t)(p - run);
	}
	if (gz_utf8_validate(*out, *out_len, NULL) != 0)
		return NULL; /* jansson's "unable to decode byte" */
	return p + 1;
}

/* An id value as jansson prints it back: 0 or an integer of at most 18
 * digits without leading zeros, null, true, false, or a string with no
 * escape.  Returns the byte after it, or NULL to fall back. */
static const char *read_id(const char *p, const char *end, const char **id, size_t *id_len,
			   struct gz_buf *scratch)
{
	const char *start = p;
	if (p < end && *p == '"') {
		const char *v;
		size_t n;
		int escaped;
		p = read_string(p + 1, end, &v, &n, scratch, &escaped);
		if (!p || escaped)
			return NULL;
	} else if (p < end && (*p == '-' || (*p >= '0' && *p <= '9'))) {
		if (*p == '-')
			p++;
		const char *digits = p;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
		size_t n = (size_t)(p - digits);
		if (n == 0 || n > 18 || (digits[0] == '0' && (n > 1 || digits > start)))
			return NULL;
		if (p < end && (*p == '.' || *p == 'e' || *p == 'E'))
			return NULL;
	} else {
		static const char *const words[] = { "null", "true", "false" };
		for (size_t w = 0; w < 3; w++) {
			size_t k = strlen(words[w]);
			if ((size_t)(end - p) >= k && !memcmp(p, words[w], k)) {
				p += k;
				break;
			}
		}
		if (p == start)
			return NULL;
	}
	*id = start;
	*id_len = (size_t)(p - start);
	return p;
}

int gz_request_simple_line(const char *line, size_t n, struct gz_buf *scratch,
			   const char **text, size_t *text_len, const char **id, size_t *id_len)
{
	const char *p = line, *end = line + n;
	int have_text = 0, have_id = 0;
	*id = "null";
	*id_len = 4;
	p = skip_ws(p, end);
	if (p == end || *p++ != '{')
		return 0;
	p = skip_ws(p, end);
	while (p < end && *p == '"') {
		const char *key = ++p;
		while (p < end && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
			p++;
		if (p == end || *p != '"')
			return 0;
		size_t klen = (size_t)(p - key);
		p = skip_ws(p + 1, end);
		if (p == end || *p++ != ':')
			return 0;
		p = skip_ws(p, end);
		if (klen == 4 && !memcmp(key, "text", 4) && !have_text) {
			int escaped;
			if (p == end || *p != '"' ||
			    !(p = read_string(p + 1, end, text, text_len, scratch, &escaped)))
				return 0;
			have_text = 1;
		} else if (klen == 2 && !memcmp(key, "id", 2) && !have_id) {
			if (!(p = read_id(p, end, id, id_len, scratch)))
				return 0;
			have_id = 1;
		} else {
			return 0;
		}
		p = skip_ws(p, end);
		if (p == end || *p != ',')
			break;
		p = skip_ws(p + 1, end);
		if (p == end || *p != '"')
			return 0;
	}
	if (p == end || *p++ != '}' || !have_text)
		return 0;
	return skip_ws(p, end) == end;
}

/* The entities of one NDJSON line, tagged as opts ask:
 * ',"entities":[..],"gazetteers":".."' (and ',"html":".."' with annotate),
 * or 0 appended and the error in e. */
static int line_entities(struct gz_buf *o, struct gz_tagger *t, const struct gz_set *set,
			 const struct gz_request_options *opts, const char *text, size_t len,
			 void (*on_tagged)(void *, const struct gz_tagger *, size_t), void *cls,
			 struct gz_error *e)
{
	struct gz_request_tagged r;
	int rc = gz_request_tag(t, set, text, len, opts, &r, e);
	if (!rc) {
		if (on_tagged)
			on_tagged(cls, t, len);
		/* the common case: written directly, no tree */
		gz_buf_append(o, ",\"entities\":", 12);
		gz_json_write_span_list(r.answer.spans, r.answer.nspans, r.answer.explain,
					text, o);
		gz_buf_append(o, ",\"gazetteers\":\"", 15);
		gz_buf_append(o, gz_set_hash(set), strlen(gz_set_hash(set)));
		gz_buf_append(o, "\"", 1);
		if (r.answer.html) {
			gz_buf_append(o, ",\"html\":", 8);
			gz_buf_append_json_string(o, r.answer.html, r.answer.html_len);
		}
	}
	gz_request_tagged_free(&r);
	return rc;
}

/* ',"error":{..}' of error (stolen), or o->failed. */
static void line_error(struct gz_buf *o, json_t *error)
{
	char *es = error ? json_dumps(json_object_get(error, "error"), GZ_JSON_DUMP_FLAGS) : NULL;
	json_decref(error);
	if (!es) {
		o->failed = 1;
		return;
	}
	gz_buf_append(o, ",\"error\":", 9);
	gz_buf_append(o, es, strlen(es));
	free(es);
}

/* One NDJSON line -> one answer line: {"id":..,"entities":[..],"gazetteers":..} or
 * {"id":..,"error":{..}}.  A bad line never fails the others. */
static void tag_line(struct gz_buf *o, struct gz_buf *scratch, struct gz_tagger *t,
		     const struct gz_set *set, const struct gz_request_options *base,
		     const char *line, size_t n,
		     void (*on_tagged)(void *, const struct gz_tagger *, size_t), void *cls)
{
	struct gz_request_options opts = *base;
	struct gz_error e = {0};
	json_t *root = NULL, *error = NULL;
	const char *text, *sid;
	size_t len, sid_len, mark;
	char *types_buf = NULL;

	if (gz_request_simple_line(line, n, scratch, &text, &len, &sid, &sid_len)) {
		/* only id and text: jansson would read the same id and options,
		 * so a tagging error is answered here too (invalid UTF-8 cannot
		 * come this way), without tagging the line twice */
		gz_buf_append(o, "{\"id\":", 6);
		gz_buf_append(o, sid, sid_len);
		mark = o->len;
		if (line_entities(o, t, set, &opts, text, len, on_tagged, cls, &e)) {
			o->len = mark;
			line_error(o, gz_json_from_error(&e));
		}
		gz_buf_append(o, "}\n", 2);
		return;
	}
	int rc = gz_request_parse_json(line, n, 1, &root, &text, &len, &opts, &types_buf, &error);
	json_t *id = json_is_object(root) ? json_object_get(root, "id") : NULL;
	char *ids = json_dumps(id ? id : json_null(), JSON_ENCODE_ANY | JSON_COMPACT);
	if (!ids) {
		o->failed = 1;
		json_decref(error);
		goto out;
	}
	gz_buf_append(o, "{\"id\":", 6);
	gz_buf_append(o, ids, strlen(ids));
	free(ids);
	mark = o->len;
	if (rc) {
		line_error(o, error);
	} else if (line_entities(o, t, set, &opts, text, len, on_tagged, cls, &e)) {
		o->len = mark;
		line_error(o, gz_json_from_error(&e));
	}
	gz_buf_append(o, "}\n", 2);
out:
	json_decref(root);
	free(types_buf);
}

int gz_request_ndjson_next(struct gz_tagger *t, const struct gz_set *set,
			   const struct gz_request_options *base, const char *body, size_t len,
			   size_t *pos, struct gz_buf *out, size_t limit,
			   void (*on_tagged)(void *cls, const struct gz_tagger *t, size_t len),
			   void *cls)
{
	const char *p = body + *pos, *end = body + len;
	struct gz_buf scratch = { 0 }; /* decoded texts with escapes */
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
			tag_line(out, &scratch, t, set, base, p, n, on_tagged, cls);
		p = nl ? stop + 1 : end;
	}
	*pos = (size_t)(p - body);
	free(scratch.data);
	if (out->failed)
		return GZ_ENOMEM;
	return *pos == len;
}

int gz_request_tag_ndjson(struct gz_tagger *t, const struct gz_set *set,
			  const struct gz_request_options *base, const char *body, size_t len,
			  struct gz_buf *out,
			  void (*on_tagged)(void *cls, const struct gz_tagger *t, size_t len),
			  void *cls)
{
	size_t pos = 0;
	return gz_request_ndjson_next(t, set, base, body, len, &pos, out, SIZE_MAX, on_tagged,
				      cls) < 0 ? GZ_ENOMEM : 0;
}
