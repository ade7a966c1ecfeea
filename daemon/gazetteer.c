/*
 * Gazetteer loading; see gazetteer.h.
 *
 * Two passes.  The first turns libyaml events into a tree of nodes that
 * remember where they started (libyaml marks are 0-based; users count from
 * 1).  It stops at the first syntax error, since nothing after it can be
 * trusted.  The second walks the tree and checks the schema, going on after
 * each problem so that one --check run lists them all.  Invalid UTF-8 is
 * found before libyaml sees the buffer, because libyaml reports it only as a
 * byte offset and we want a line and column like every other error.
 */
#include "gazetteer.h"

#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "fold.h"
#include "json.h"

/* ----------------------------------------------------------------- types */

enum node_kind { N_SCALAR, N_MAP, N_SEQ };

struct node {
	enum node_kind kind;
	int line, column;
	char *value;      /* scalars */
	size_t len;
	int plain;        /* scalar written without quotes */
	struct node **kids; /* maps: key, value, key, value ...; seqs: items */
	size_t nkids, capkids;
};

struct problem {
	int line, column;
	char *msg;
	size_t seq;
};

struct loader {
	const char *path;
	struct gz_diag *diag;
	int errors;
	int oom;
	int broken;              /* the YAML itself failed to parse */
	struct problem *probs;   /* reported at the end, in file order */
	size_t nprobs, capprobs;
	struct gz_gazetteer *g;  /* where streamed entries go */
	size_t cap;              /* of g->entries, g->ids, g->id_strings */
};

static void take_entry(struct loader *L, const struct node *n);

/* --------------------------------------------------------- private helpers */

static void problem(struct loader *L, int line, int column, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void problem(struct loader *L, int line, int column, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	L->errors++;
	if (L->nprobs == L->capprobs) {
		size_t cap = L->capprobs ? L->capprobs * 2 : 16;
		struct problem *p = realloc(L->probs, cap * sizeof(*p));
		if (!p) {
			L->oom = 1;
			return;
		}
		L->probs = p;
		L->capprobs = cap;
	}
	char *m = strdup(msg);
	if (!m) {
		L->oom = 1;
		return;
	}
	L->probs[L->nprobs] = (struct problem){ line, column, m, L->nprobs };
	L->nprobs++;
}

static int cmp_problem(const void *a, const void *b)
{
	const struct problem *x = a, *y = b;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->column != y->column)
		return x->column < y->column ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Entries are checked as they stream past and the file's own keys at the
 * end, so problems are found out of order: report them sorted by position.
 * After a syntax error only that error is reported, since what came before
 * it may have been misread (a badly indented key ends an entry early). */
static void report_problems(struct loader *L)
{
	size_t from = 0;
	if (L->broken && L->nprobs)
		from = L->nprobs - 1;
	else if (L->nprobs > 1)
		qsort(L->probs, L->nprobs, sizeof(*L->probs), cmp_problem);
	for (size_t i = 0; i < L->nprobs; i++) {
		if (i >= from && L->diag)
			gz_diag_add(L->diag, L->path, L->probs[i].line, L->probs[i].column, "%s",
				    L->probs[i].msg);
		free(L->probs[i].msg);
	}
	if (L->broken && L->nprobs)
		L->errors = 1;
	free(L->probs);
	L->probs = NULL;
	L->nprobs = L->capprobs = 0;
}

static void node_free(struct node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->nkids; i++)
		node_free(n->kids[i]);
	free(n->kids);
	free(n->value);
	free(n);
}

static int node_add(struct node *parent, struct node *kid)
{
	if (parent->nkids == parent->capkids) {
		size_t cap = parent->capkids ? parent->capkids * 2 : 4;
		struct node **k = realloc(parent->kids, cap * sizeof(*k));
		if (!k)
			return -1;
		parent->kids = k;
		parent->capkids = cap;
	}
	parent->kids[parent->nkids++] = kid;
	return 0;
}

/* Line and column (1-based, columns in code points) of byte offset off. */
static void locate(const char *buf, size_t off, int *line, int *column)
{
	int l = 1, c = 1;
	for (size_t i = 0; i < off; i++) {
		unsigned char b = (unsigned char)buf[i];
		if (b == '\n') {
			l++;
			c = 1;
		} else if ((b & 0xC0) != 0x80) {
			c++;
		}
	}
	*line = l;
	*column = c;
}

/* A short, printable rendering of a scalar for messages. */
static const char *shown(const struct node *n, char *buf, size_t size)
{
	size_t k = 0;
	for (size_t i = 0; i < n->len && k + 4 < size; i++)
		buf[k++] = (n->value[i] == '\n') ? ' ' : n->value[i];
	if (k < n->len) {
		/* do not cut a UTF-8 sequence in half */
		while (k > 0 && ((unsigned char)buf[k] & 0xC0) == 0x80)
			k--;
		memcpy(buf + k, "...", 3);
		k += 3;
	}
	buf[k] = 0;
	return buf;
}

/* --------------------------------------------------------- pass 1: events */

static int is_entries_key(const struct node *k)
{
	return k->kind == N_SCALAR && strcmp(k->value, "entries") == 0;
}

static struct node *build_tree(struct loader *L, const char *buf, size_t len)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	struct node *stack[GZ_YAML_MAX_DEPTH + 1];
	int depth = 0;
	struct node *root = NULL;
	int done = 0;

	if (!yaml_parser_initialize(&parser)) {
		L->oom = 1;
		return NULL;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);

	while (!done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			int line, column;
			if (parser.error == YAML_READER_ERROR) {
				locate(buf, parser.problem_offset, &line, &column);
			} else {
				line = (int)parser.problem_mark.line + 1;
				column = (int)parser.problem_mark.column + 1;
			}
			if (parser.error == YAML_MEMORY_ERROR)
				L->oom = 1;
			else if (parser.context)
				problem(L, line, column, "YAML syntax error: %s %s",
					parser.problem ? parser.problem : "error", parser.context);
			else
				problem(L, line, column, "YAML syntax error: %s",
					parser.problem ? parser.problem : "error");
			goto fail;
		}
		int line = (int)ev.start_mark.line + 1, column = (int)ev.start_mark.column + 1;
		struct node *n = NULL;
		const unsigned char *anchor = NULL;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (root) {
				problem(L, line, column, "a gazetteer file holds one YAML document, found a second");
				yaml_event_delete(&ev);
				goto fail;
			}
			break;
		case YAML_ALIAS_EVENT:
			problem(L, line, column, "YAML aliases (*%s) are not allowed in gazetteers",
				(const char *)ev.data.alias.anchor);
			yaml_event_delete(&ev);
			goto fail;
		case YAML_SCALAR_EVENT:
			anchor = ev.data.scalar.anchor;
			break;
		case YAML_SEQUENCE_START_EVENT:
			anchor = ev.data.sequence_start.anchor;
			break;
		case YAML_MAPPING_START_EVENT:
			anchor = ev.data.mapping_start.anchor;
			break;
		default:
			break;
		}
		if (anchor) {
			problem(L, line, column, "YAML anchors (&%s) are not allowed in gazetteers",
				(const char *)anchor);
			yaml_event_delete(&ev);
			goto fail;
		}
		if (ev.type == YAML_SCALAR_EVENT || ev.type == YAML_SEQUENCE_START_EVENT ||
		    ev.type == YAML_MAPPING_START_EVENT) {
			n = calloc(1, sizeof(*n));
			if (!n) {
				L->oom = 1;
				yaml_event_delete(&ev);
				goto fail;
			}
			n->line = line;
			n->column = column;
			if (ev.type == YAML_SCALAR_EVENT) {
				n->kind = N_SCALAR;
				if (ev.data.scalar.length > GZ_YAML_MAX_SCALAR) {
					problem(L, line, column, "scalar of %zu bytes is over the limit of %u",
						(size_t)ev.data.scalar.length, GZ_YAML_MAX_SCALAR);
					free(n);
					yaml_event_delete(&ev);
					goto fail;
				}
				n->len = ev.data.scalar.length;
				n->value = malloc(n->len + 1);
				if (!n->value) {
					free(n);
					L->oom = 1;
					yaml_event_delete(&ev);
					goto fail;
				}
				memcpy(n->value, ev.data.scalar.value, n->len);
				n->value[n->len] = 0;
				n->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
			} else {
				n->kind = ev.type == YAML_MAPPING_START_EVENT ? N_MAP : N_SEQ;
			}
			if (depth == 0) {
				root = n;
			} else if (node_add(stack[depth - 1], n)) {
				node_free(n);
				L->oom = 1;
				yaml_event_delete(&ev);
				goto fail;
			}
			if (n->kind != N_SCALAR) {
				if (depth == GZ_YAML_MAX_DEPTH) {
					problem(L, line, column, "nesting deeper than %d levels", GZ_YAML_MAX_DEPTH);
					yaml_event_delete(&ev);
					goto fail;
				}
				stack[depth++] = n;
			}
		} else if (ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT) {
			depth--;
		}
		/* An item of the top-level `entries` sequence is complete: check it
		 * and free its tree now, so that a file of a million entries never
		 * holds more than one entry's tree. */
		if (depth == 2 && stack[0]->kind == N_MAP && stack[1]->kind == N_SEQ &&
		    stack[0]->nkids >= 2 && stack[0]->kids[stack[0]->nkids - 1] == stack[1] &&
		    is_entries_key(stack[0]->kids[stack[0]->nkids - 2]) && stack[1]->nkids > 0 &&
		    (ev.type == YAML_SCALAR_EVENT || ev.type == YAML_MAPPING_END_EVENT ||
		     ev.type == YAML_SEQUENCE_END_EVENT)) {
			struct node *item = stack[1]->kids[--stack[1]->nkids];
			take_entry(L, item);
			node_free(item);
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	return root;
fail:
	L->broken = 1;
	yaml_parser_delete(&parser);
	node_free(root);
	return NULL;
}

/* --------------------------------------------------------- pass 2: schema */

static int is_scalar(const struct node *n)
{
	return n && n->kind == N_SCALAR;
}

static const char *kind_name(const struct node *n)
{
	return n->kind == N_MAP ? "a mapping" : n->kind == N_SEQ ? "a sequence" : "a scalar";
}

/* Checks a mapping's keys are scalars, known and not repeated.  known is a
 * NULL-terminated list; what names the mapping in messages. */
static int check_keys(struct loader *L, const struct node *map, const char *const *known,
		      const char *what, const char *expected)
{
	int ok = 1;
	for (size_t i = 0; i + 1 < map->nkids; i += 2) {
		const struct node *k = map->kids[i];
		if (!is_scalar(k)) {
			problem(L, k->line, k->column, "%s keys must be plain words, found %s",
				what, kind_name(k));
			ok = 0;
			continue;
		}
		int found = 0;
		for (size_t j = 0; known[j]; j++)
			if (strcmp(k->value, known[j]) == 0)
				found = 1;
		if (!found) {
			char b[80];
			problem(L, k->line, k->column, "unknown key '%s' in %s (expected %s)",
				shown(k, b, sizeof b), what, expected);
			ok = 0;
			continue;
		}
		for (size_t j = 0; j < i; j += 2) {
			if (is_scalar(map->kids[j]) && strcmp(map->kids[j]->value, k->value) == 0) {
				problem(L, k->line, k->column, "duplicate key '%s' in %s (first at line %d)",
					k->value, what, map->kids[j]->line);
				ok = 0;
			}
		}
	}
	return ok;
}

static const struct node *get(const struct node *map, const char *key)
{
	for (size_t i = 0; i + 1 < map->nkids; i += 2)
		if (is_scalar(map->kids[i]) && strcmp(map->kids[i]->value, key) == 0)
			return map->kids[i + 1];
	return NULL;
}

static const struct node *get_key(const struct node *map, const char *key)
{
	for (size_t i = 0; i + 1 < map->nkids; i += 2)
		if (is_scalar(map->kids[i]) && strcmp(map->kids[i]->value, key) == 0)
			return map->kids[i];
	return NULL;
}

/* A string value: a scalar that is not empty.  Reports and returns NULL
 * otherwise. */
static const char *want_string(struct loader *L, const struct node *v, const char *key)
{
	if (!is_scalar(v)) {
		problem(L, v->line, v->column, "'%s' must be a string, found %s", key, kind_name(v));
		return NULL;
	}
	if (v->len == 0 || (v->plain && (strcmp(v->value, "~") == 0 || strcmp(v->value, "null") == 0))) {
		problem(L, v->line, v->column, "empty %s", key);
		return NULL;
	}
	if (strlen(v->value) != v->len) {
		problem(L, v->line, v->column, "'%s' contains a NUL character", key);
		return NULL;
	}
	return v->value;
}

/* The index of v's value in words (NULL-terminated), or -1, reported as
 * "'key' must be 'a', 'b' or 'c', found ...". */
static int want_word(struct loader *L, const struct node *v, const char *key,
		     const char *const *words)
{
	size_t n = 0;
	for (; words[n]; n++)
		if (is_scalar(v) && strcmp(v->value, words[n]) == 0)
			return (int)n;
	char b[80], list[160];
	size_t l = 0;
	for (size_t i = 0; i < n; i++)
		l += (size_t)snprintf(list + l, sizeof list - l, "%s'%s'",
				      i == 0 ? "" : i + 1 == n ? " or " : ", ", words[i]);
	problem(L, v->line, v->column, "'%s' must be %s, found %s", key, list,
		is_scalar(v) ? shown(v, b, sizeof b) : kind_name(v));
	return -1;
}

/* In enum gz_case order. */
static const char *const case_words[] = { "insensitive", "sensitive", "proper", NULL };

const char *gz_case_name(int rule)
{
	return rule >= 0 && rule <= GZ_CASE_PROPER ? case_words[rule] : "insensitive";
}

/* -1 when the value is not a case rule (reported), else an enum gz_case. */
static int want_case(struct loader *L, const struct node *v)
{
	return want_word(L, v, "case", case_words);
}

static json_t *scalar_json(const struct node *n);

/* A number (a plain scalar YAML types as one); reported otherwise. */
static int want_number(struct loader *L, const struct node *v, const char *key, double *out)
{
	json_t *j = is_scalar(v) ? scalar_json(v) : NULL;
	int ok = j && json_is_number(j);
	if (ok) {
		*out = json_number_value(j);
	} else {
		char b[80];
		problem(L, v->line, v->column, "'%s' must be a number, found %s", key,
			is_scalar(v) ? shown(v, b, sizeof b) : kind_name(v));
	}
	json_decref(j);
	return ok;
}

int gz_name_has_word(const char *s)
{
	gz_fold_init();
	size_t len = strlen(s), i = 0;
	while (i < len) {
		uint32_t cp;
		i += gz_utf8_decode((const unsigned char *)s + i, len - i, &cp);
		enum gz_class c = gz_fold_class(cp);
		if (c == GZ_C_WORD || c == GZ_C_SOLO) {
			/* a letter that folds to nothing cannot be matched */
			char tmp[GZ_FOLD_MAX];
			if (gz_fold_cp(cp, 1, tmp) > 0)
				return 1;
		}
	}
	return 0;
}

static int want_name(struct loader *L, const struct node *v, const char *key)
{
	const char *s = want_string(L, v, key);
	if (!s)
		return 0;
	if (!gz_name_has_word(s)) {
		char b[80];
		problem(L, v->line, v->column, "%s '%s' has no letters or digits", key, shown(v, b, sizeof b));
		return 0;
	}
	return 1;
}

enum scalar_kind { S_STRING, S_NULL, S_TRUE, S_FALSE, S_INT, S_REAL };

/* YAML 1.2 core-schema typing of plain scalars, limited to SPEC §2's words:
 * integers, floats, true/false, null/~; everything else is a string.  A
 * leading zero (a postcode, an id such as 007) keeps the value a string: as
 * a number it would lose the zero. */
static enum scalar_kind scalar_kind(const struct node *n, long long *ival, double *dval)
{
	const char *s = n->value;
	if (!n->plain)
		return S_STRING;
	if (n->len == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0)
		return S_NULL;
	if (strcmp(s, "true") == 0)
		return S_TRUE;
	if (strcmp(s, "false") == 0)
		return S_FALSE;
	const char *p = s;
	if (*p == '-' || *p == '+')
		p++;
	if (p[0] == '0' && p[1] >= '0' && p[1] <= '9')
		return S_STRING;
	int digits = 0, dot = 0, exp = 0;
	for (const char *q = p; *q; q++) {
		if (*q >= '0' && *q <= '9') {
			digits++;
		} else if (*q == '.' && !dot && !exp) {
			dot = 1;
		} else if ((*q == 'e' || *q == 'E') && digits && !exp) {
			exp = 1;
			if (q[1] == '+' || q[1] == '-')
				q++;
			if (!(q[1] >= '0' && q[1] <= '9'))
				return S_STRING;
		} else {
			return S_STRING;
		}
	}
	if (!digits)
		return S_STRING;
	if (!dot && !exp) {
		errno = 0;
		*ival = strtoll(s, NULL, 10);
		if (errno != ERANGE)
			return S_INT;
	}
	*dval = strtod(s, NULL);
	if (!isfinite(*dval))
		return S_STRING;
	return S_REAL;
}

static json_t *scalar_json(const struct node *n)
{
	long long i = 0;
	double d = 0;
	switch (scalar_kind(n, &i, &d)) {
	case S_NULL: return json_null();
	case S_TRUE: return json_true();
	case S_FALSE: return json_false();
	case S_INT: return json_integer(i);
	case S_REAL: return json_real(d);
	default: return json_stringn(n->value, n->len);
	}
}

/* The attrs JSON text is written with json.h's buffer and string escaper. */

/* A scalar as JSON, typed as scalar_json types it.  Numbers keep the digits
 * the user wrote (made valid JSON: no leading '+', no bare '.'), so that
 * 50.45 stays 50.45 rather than passing through a double's printing. */
static void put_scalar(struct gz_buf *t, const struct node *n)
{
	long long ival = 0;
	double dval = 0;
	char num[64];
	const char *v = n->value;
	switch (scalar_kind(n, &ival, &dval)) {
	case S_STRING:
		gz_buf_append_json_string(t, n->value, n->len);
		break;
	case S_NULL:
		gz_buf_append(t, "null", 4);
		break;
	case S_TRUE:
		gz_buf_append(t, "true", 4);
		break;
	case S_FALSE:
		gz_buf_append(t, "false", 5);
		break;
	case S_INT:
		snprintf(num, sizeof num, "%lld", ival);
		gz_buf_append(t, num, strlen(num));
		break;
	case S_REAL:
		if (strchr(v, '.') == NULL && strpbrk(v, "eE") == NULL) {
			/* an integer too large for 64 bits: write it as a real */
			snprintf(num, sizeof num, "%.17g", dval);
			gz_buf_append(t, num, strlen(num));
			break;
		}
		if (*v == '+')
			v++;
		if (*v == '-')
			gz_buf_append(t, v++, 1);
		if (*v == '.')
			gz_buf_append(t, "0", 1);
		for (; *v; v++) {
			gz_buf_append(t, v, 1);
			if (*v == '.' && !(v[1] >= '0' && v[1] <= '9'))
				gz_buf_append(t, "0", 1);
		}
		break;
	}
}

static void node_text(struct gz_buf *t, const struct node *n)
{
	if (n->kind == N_SCALAR) {
		put_scalar(t, n);
	} else if (n->kind == N_SEQ) {
		gz_buf_append(t, "[", 1);
		for (size_t i = 0; i < n->nkids; i++) {
			if (i)
				gz_buf_append(t, ",", 1);
			node_text(t, n->kids[i]);
		}
		gz_buf_append(t, "]", 1);
	} else {
		gz_buf_append(t, "{", 1);
		for (size_t i = 0; i + 1 < n->nkids; i += 2) {
			if (i)
				gz_buf_append(t, ",", 1);
			gz_buf_append_json_string(t, n->kids[i]->value, n->kids[i]->len);
			gz_buf_append(t, ":", 1);
			node_text(t, n->kids[i + 1]);
		}
		gz_buf_append(t, "}", 1);
	}
}

static int check_attrs(struct loader *L, const struct node *n)
{
	int ok = 1;
	if (n->kind == N_MAP) {
		for (size_t i = 0; i + 1 < n->nkids; i += 2) {
			const struct node *k = n->kids[i];
			if (k->kind != N_SCALAR) {
				problem(L, k->line, k->column, "attrs keys must be strings, found %s",
					kind_name(k));
				ok = 0;
				continue;
			}
			for (size_t j = 0; j < i; j += 2)
				if (n->kids[j]->kind == N_SCALAR && strcmp(n->kids[j]->value, k->value) == 0) {
					problem(L, k->line, k->column, "duplicate key '%s' in attrs (first at line %d)",
						k->value, n->kids[j]->line);
					ok = 0;
				}
			ok &= check_attrs(L, n->kids[i + 1]);
		}
	} else if (n->kind == N_SEQ) {
		for (size_t i = 0; i < n->nkids; i++)
			ok &= check_attrs(L, n->kids[i]);
	}
	return ok;
}

static char *xstrdup(struct loader *L, const char *s)
{
	char *d = strdup(s);
	if (!d)
		L->oom = 1;
	return d;
}

static const char *const entry_keys[] = {
	"id", "name", "aliases", "type", "case", "priority", "evidence", "attrs", NULL
};
#define ENTRY_KEYS "id, name, aliases, type, case, priority, evidence, attrs"
static const char *const file_keys[] = {
	"type", "case", "priority", "common_words", "entries", NULL
};
#define FILE_KEYS "type, case, priority, common_words, entries"
static const char *const alias_keys[] = { "text", "case", NULL };

static void free_entry(struct gz_raw_entry *e)
{
	free(e->id);
	free(e->name);
	free(e->type);
	free(e->attrs);
	free(e->country);
	free(e->admin1);
	for (size_t i = 0; i < e->alias_count; i++)
		free(e->aliases[i].text);
	free(e->aliases);
}

static int load_aliases(struct loader *L, const struct node *v, int case_rule,
			struct gz_raw_entry *e)
{
	if (v->kind != N_SEQ) {
		problem(L, v->line, v->column, "'aliases' must be a sequence of names, found %s",
			kind_name(v));
		return 0;
	}
	int ok = 1;
	e->aliases = calloc(v->nkids ? v->nkids : 1, sizeof(*e->aliases));
	if (!e->aliases) {
		L->oom = 1;
		return 0;
	}
	for (size_t i = 0; i < v->nkids; i++) {
		const struct node *a = v->kids[i], *text = a;
		int cs = case_rule, inherited = 1;
		if (a->kind == N_MAP) {
			if (!check_keys(L, a, alias_keys, "alias", "text, case")) {
				ok = 0;
				continue;
			}
			text = get(a, "text");
			if (!text) {
				problem(L, a->line, a->column, "missing required key 'text' in alias");
				ok = 0;
				continue;
			}
			const struct node *c = get(a, "case");
			if (c && (cs = want_case(L, c)) < 0) {
				ok = 0;
				continue;
			}
			if (c)
				inherited = 0;
		} else if (a->kind != N_SCALAR) {
			problem(L, a->line, a->column, "an alias must be a string or a mapping with 'text', found %s",
				kind_name(a));
			ok = 0;
			continue;
		}
		if (!want_name(L, text, "alias")) {
			ok = 0;
			continue;
		}
		struct gz_raw_alias *ra = &e->aliases[e->alias_count++];
		ra->text = xstrdup(L, text->value);
		ra->case_rule = cs;
		ra->case_inherited = inherited;
		ra->line = text->line;
		ra->column = text->column;
	}
	return ok;
}

/* Fills e from the entry mapping n; returns 1 when it is complete and valid. */
static int load_entry(struct loader *L, const struct node *n, const char *file_type,
		      int file_case, struct gz_raw_entry *e)
{
	if (n->kind != N_MAP) {
		problem(L, n->line, n->column, "an entry must be a mapping with id and name, found %s",
			kind_name(n));
		return 0;
	}
	e->line = n->line;
	e->column = n->column;
	int ok = check_keys(L, n, entry_keys, "entry", ENTRY_KEYS);
	const struct node *id = get(n, "id"), *name = get(n, "name"), *v;

	if (!id) {
		problem(L, n->line, n->column, "missing required key 'id' in entry");
		ok = 0;
	} else if (want_string(L, id, "id")) {
		e->id = xstrdup(L, id->value);
		e->id_line = id->line;
		e->id_column = id->column;
	} else {
		ok = 0;
	}

	int case_rule = file_case;
	e->case_inherited = 1;
	if ((v = get(n, "case"))) {
		int c = want_case(L, v);
		if (c < 0) {
			ok = 0;
		} else {
			case_rule = c;
			e->case_inherited = 0;
		}
	}
	e->name_case = case_rule;

	if (!name) {
		problem(L, n->line, n->column, "missing required key 'name' in entry%s%s%s",
			e->id ? " '" : "", e->id ? e->id : "", e->id ? "'" : "");
		ok = 0;
	} else if (want_name(L, name, "name")) {
		e->name = xstrdup(L, name->value);
		e->name_line = name->line;
		e->name_column = name->column;
	} else {
		ok = 0;
	}

	if ((v = get(n, "type"))) {
		if (want_string(L, v, "type"))
			e->type = xstrdup(L, v->value);
		else
			ok = 0;
	} else if (file_type) {
		e->type = xstrdup(L, file_type);
	}

	e->priority_inherited = 1;
	if ((v = get(n, "priority"))) {
		if (want_number(L, v, "priority", &e->priority))
			e->priority_inherited = 0;
		else
			ok = 0;
	}

	if ((v = get(n, "evidence"))) {
		static const char *const words[] = { "none", "required", NULL };
		int w = want_word(L, v, "evidence", words);
		if (w < 0)
			ok = 0;
		else
			e->evidence_required = w;
	}

	if ((v = get(n, "aliases")))
		ok &= load_aliases(L, v, case_rule, e);

	if ((v = get(n, "attrs"))) {
		if (v->kind != N_MAP) {
			problem(L, v->line, v->column, "'attrs' must be a mapping, found %s", kind_name(v));
			ok = 0;
		} else if (check_attrs(L, v)) {
			if (v->nkids) {
				struct gz_buf t = { 0 };
				node_text(&t, v);
				/* the buffer starts at 4 KiB: keep only what was written,
				 * or a million entries hold gigabytes of slack */
				e->attrs = t.failed ? NULL : strndup(t.data, t.len);
				free(t.data);
				if (!e->attrs)
					L->oom = 1;
			}
			/* the context rules (SPEC §8.4) read these two */
			const struct node *c = get(v, "country"), *a = get(v, "admin1");
			if (is_scalar(c) && c->len && !(e->country = strdup(c->value)))
				L->oom = 1;
			if (is_scalar(a) && a->len && !(e->admin1 = strdup(a->value)))
				L->oom = 1;
		} else {
			ok = 0;
		}
	}
	return ok && !L->oom;
}

/* Grows the entry arrays of L->g for one more entry. */
static int reserve_entry(struct loader *L)
{
	struct gz_gazetteer *g = L->g;
	if (g->count < L->cap && g->id_count < L->cap && g->id_string_count < L->cap)
		return 0;
	size_t cap = L->cap ? L->cap * 2 : 64;
	struct gz_raw_entry *e = realloc(g->entries, cap * sizeof(*e));
	if (e)
		g->entries = e;
	struct gz_id_ref *ids = realloc(g->ids, cap * sizeof(*ids));
	if (ids)
		g->ids = ids;
	char **strs = realloc(g->id_strings, cap * sizeof(*strs));
	if (strs)
		g->id_strings = strs;
	if (!e || !ids || !strs) {
		L->oom = 1;
		return -1;
	}
	L->cap = cap;
	return 0;
}

/* Keeps the id of an entry that will not be loaded, for the duplicate check. */
static void keep_invalid_id(struct gz_gazetteer *g, struct gz_raw_entry *e, size_t id_index)
{
	g->ids[id_index].id = g->id_strings[g->id_string_count++] = e->id;
	e->id = NULL;
}

/* Checks one item of `entries` as soon as the parser has it.  The file's
 * type and case may not be known yet: entries inherit them in
 * finish_entries. */
static void take_entry(struct loader *L, const struct node *n)
{
	struct gz_gazetteer *g = L->g;
	if (L->oom || reserve_entry(L))
		return;
	struct gz_raw_entry *e = &g->entries[g->count];
	memset(e, 0, sizeof(*e));
	int ok = load_entry(L, n, NULL, 0, e);
	if (e->id) {
		struct gz_id_ref *r = &g->ids[g->id_count++];
		r->line = e->id_line;
		r->column = e->id_column;
		r->id = e->id;
		if (!ok)
			keep_invalid_id(g, e, g->id_count - 1);
	}
	if (ok)
		g->count++;
	else
		free_entry(e);
}

/* Applies the file's type, case and priority to the entries that have none
 * of their own, and drops those left without a type. */
static void finish_entries(struct loader *L, struct gz_gazetteer *g, int file_case,
			   double file_priority)
{
	size_t kept = 0;
	for (size_t i = 0; i < g->count; i++) {
		struct gz_raw_entry *e = &g->entries[i];
		if (e->case_inherited)
			e->name_case = file_case;
		if (e->priority_inherited)
			e->priority = file_priority;
		for (size_t a = 0; a < e->alias_count; a++)
			if (e->aliases[a].case_inherited)
				e->aliases[a].case_rule = e->name_case;
		if (!e->type && g->type && !(e->type = strdup(g->type)))
			L->oom = 1;
		if (!e->type) {
			problem(L, e->line, e->column, "entry '%s' has no type (the file has no 'type' either)",
				e->id);
			for (size_t k = 0; k < g->id_count; k++)
				if (g->ids[k].id == e->id)
					keep_invalid_id(g, e, k);
			free_entry(e);
			continue;
		}
		g->entries[kept++] = *e;
	}
	g->count = kept;
}

static void load_file(struct loader *L, const struct node *root, struct gz_gazetteer *g)
{
	if (!root) {
		problem(L, 1, 1, "empty gazetteer: expected a mapping with 'type' and 'entries'");
		return;
	}
	if (root->kind != N_MAP) {
		problem(L, root->line, root->column,
			"a gazetteer must be a mapping with 'type' and 'entries', found %s", kind_name(root));
		return;
	}
	check_keys(L, root, file_keys, "the gazetteer", FILE_KEYS);
	const struct node *type = get(root, "type"), *entries = get(root, "entries"), *c;
	int file_case = 0;
	if (!type)
		problem(L, root->line, root->column, "missing required key 'type'");
	else if (want_string(L, type, "type"))
		g->type = xstrdup(L, type->value);
	if ((c = get(root, "case"))) {
		int r = want_case(L, c);
		if (r >= 0)
			file_case = r;
	}
	double file_priority = 0;
	if ((c = get(root, "priority")))
		want_number(L, c, "priority", &file_priority);
	if ((c = get(root, "common_words"))) {
		static const char *const words[] = { "match", "skip", NULL };
		g->common_words_skip = want_word(L, c, "common_words", words) == 1;
	}
	if (!entries) {
		problem(L, root->line, root->column, "missing required key 'entries'");
		return;
	}
	if (entries->kind != N_SEQ) {
		/* an empty `entries:` is a null scalar: allow it as no entries */
		if (is_scalar(entries) && entries->plain && entries->len == 0)
			return;
		problem(L, entries->line, entries->column, "'entries' must be a sequence, found %s",
			kind_name(entries));
		return;
	}

	/* entries were taken as they were parsed (take_entry); what the file
	 * says of type and case may come after them, so apply it now */
	(void)entries;
	finish_entries(L, g, file_case, file_priority);
	(void)get_key;
}

/* ------------------------------------------------------ API implementation */

int gz_gazetteer_parse(const char *path, const char *buf, size_t len,
		       struct gz_gazetteer **out, struct gz_diag *diag)
{
	struct loader L = { .path = path, .diag = diag };
	struct gz_gazetteer *g = calloc(1, sizeof(*g));
	*out = NULL;
	if (!g || !(g->path = strdup(path))) {
		free(g);
		return GZ_ENOMEM;
	}
	*out = g;
	L.g = g;
	size_t bad;
	if (gz_utf8_validate(buf, len, &bad) != 0) {
		int line, column;
		locate(buf, bad, &line, &column);
		problem(&L, line, column, "invalid UTF-8 (byte 0x%02x at offset %zu)",
			(unsigned char)buf[bad], bad);
		report_problems(&L);
		return L.errors;
	}
	if (memchr(buf, 0, len)) {
		size_t off = (size_t)((const char *)memchr(buf, 0, len) - buf);
		int line, column;
		locate(buf, off, &line, &column);
		problem(&L, line, column, "NUL byte in gazetteer file");
		report_problems(&L);
		return L.errors;
	}
	struct node *root = build_tree(&L, buf, len);
	if (!L.broken && !L.oom)
		load_file(&L, root, g);
	if (L.broken) {
		/* after a syntax error nothing taken so far can be trusted, not
		 * even for the duplicate-id check: an entry cut short by a bad
		 * indent is not the entry the user wrote */
		for (size_t i = 0; i < g->count; i++)
			free_entry(&g->entries[i]);
		g->count = 0;
		g->id_count = 0;
	}
	node_free(root);
	report_problems(&L);
	if (L.oom)
		return GZ_ENOMEM;
	return L.errors;
}

int gz_gazetteer_load(const char *path, struct gz_gazetteer **out, struct gz_diag *diag)
{
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (!f) {
		if (diag)
			gz_diag_add(diag, path, 0, 0, "cannot open: %s", strerror(errno));
		return 1;
	}
	char *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 65536;
			if (cap > GZ_YAML_MAX_FILE + 1)
				cap = GZ_YAML_MAX_FILE + 1;
			char *b = realloc(buf, cap);
			if (!b) {
				free(buf);
				fclose(f);
				return GZ_ENOMEM;
			}
			buf = b;
		}
		size_t n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
		if (len > GZ_YAML_MAX_FILE)
			break;
	}
	int rerr = ferror(f);
	fclose(f);
	if (rerr) {
		free(buf);
		if (diag)
			gz_diag_add(diag, path, 0, 0, "read error");
		return 1;
	}
	if (len > GZ_YAML_MAX_FILE) {
		free(buf);
		if (diag)
			gz_diag_add(diag, path, 0, 0, "file is larger than the limit of %u bytes",
				    GZ_YAML_MAX_FILE);
		return 1;
	}
	int r = gz_gazetteer_parse(path, buf ? buf : "", len, out, diag);
	free(buf);
	return r;
}

void gz_gazetteer_free(struct gz_gazetteer *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->count; i++)
		free_entry(&g->entries[i]);
	free(g->entries);
	for (size_t i = 0; i < g->id_string_count; i++)
		free(g->id_strings[i]);
	free(g->id_strings);
	free(g->ids);
	free(g->type);
	free(g->path);
	free(g);
}
