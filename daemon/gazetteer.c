/*
 * Gazetteer files: the schema (SPEC §2); see gazetteer.h.
 *
 * yaml_reader.c turns the file into a tree of nodes with their positions and
 * hands over each item of `entries` as soon as it is parsed.  This file
 * checks the tree: the keys of the file, of each entry and alias (known, not
 * repeated), the values (id, name, type, case, priority, evidence, aliases,
 * and attrs through attrs.c), going on after each problem so that one
 * --check run lists them all.  The file's own type, case and priority may be
 * written after its entries, so what an entry inherits from the file is
 * applied at the end (finish_entries).
 */
#include "gazetteer.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "attrs.h"
#include "bigmem.h"
#include "fold.h"
#include "yaml_reader.h"

/* One file being loaded: its reading, and where its entries go. */
struct loader {
	struct gz_yaml y;        /* first: take_entry gets &L->y back */
	struct gz_gazetteer *g;  /* where streamed entries go */
	struct gz_buf attrs;     /* an entry's attrs text, reused entry after entry */
};

static void problem(struct loader *L, int line, int column, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void problem(struct loader *L, int line, int column, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	gz_yaml_vproblem(&L->y, line, column, fmt, ap);
	va_end(ap);
}

/* --------------------------------------------------------------- values */

/* Checks a mapping's keys are scalars, known and not repeated.  known is a
 * NULL-terminated list; what names the mapping in messages. */
static int check_keys(struct loader *L, const struct gz_yaml_node *map, const char *const *known,
		      const char *what, const char *expected)
{
	int ok = 1;
	for (size_t i = 0; i + 1 < map->nkids; i += 2) {
		const struct gz_yaml_node *k = map->kids[i];
		if (!gz_yaml_is_scalar(k)) {
			problem(L, k->line, k->column, "%s keys must be plain words, found %s",
				what, gz_yaml_kind_name(k));
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
				gz_yaml_shown(k, b, sizeof b), what, expected);
			ok = 0;
			continue;
		}
		for (size_t j = 0; j < i; j += 2) {
			if (gz_yaml_is_scalar(map->kids[j]) && strcmp(map->kids[j]->value, k->value) == 0) {
				problem(L, k->line, k->column, "duplicate key '%s' in %s (first at line %d)",
					k->value, what, map->kids[j]->line);
				ok = 0;
			}
		}
	}
	return ok;
}
/* A string value: a scalar that is not empty.  Reports and returns NULL
 * otherwise. */
static const char *want_string(struct loader *L, const struct gz_yaml_node *v, const char *key)
{
	if (!gz_yaml_is_scalar(v)) {
		problem(L, v->line, v->column, "'%s' must be a string, found %s", key, gz_yaml_kind_name(v));
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
static int want_word(struct loader *L, const struct gz_yaml_node *v, const char *key,
		     const char *const *words)
{
	size_t n = 0;
	for (; words[n]; n++)
		if (gz_yaml_is_scalar(v) && strcmp(v->value, words[n]) == 0)
			return (int)n;
	char b[80], list[160];
	size_t l = 0;
	for (size_t i = 0; i < n; i++)
		l += (size_t)snprintf(list + l, sizeof list - l, "%s'%s'",
				      i == 0 ? "" : i + 1 == n ? " or " : ", ", words[i]);
	problem(L, v->line, v->column, "'%s' must be %s, found %s", key, list,
		gz_yaml_is_scalar(v) ? gz_yaml_shown(v, b, sizeof b) : gz_yaml_kind_name(v));
	return -1;
}

/* In enum gz_case order. */
static const char *const case_words[] = { "insensitive", "sensitive", "proper", NULL };

const char *gz_case_name(int rule)
{
	return rule >= 0 && rule <= GZ_CASE_PROPER ? case_words[rule] : "insensitive";
}

/* -1 when the value is not a case rule (reported), else an enum gz_case. */
static int want_case(struct loader *L, const struct gz_yaml_node *v)
{
	return want_word(L, v, "case", case_words);
}

/* A number (a plain scalar YAML types as one); reported otherwise. */
static int want_number(struct loader *L, const struct gz_yaml_node *v, const char *key, double *out)
{
	json_t *j = gz_yaml_is_scalar(v) ? gz_attrs_scalar_json(v) : NULL;
	int ok = j && json_is_number(j);
	if (ok) {
		*out = json_number_value(j);
	} else {
		char b[80];
		problem(L, v->line, v->column, "'%s' must be a number, found %s", key,
			gz_yaml_is_scalar(v) ? gz_yaml_shown(v, b, sizeof b) : gz_yaml_kind_name(v));
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

static int want_name(struct loader *L, const struct gz_yaml_node *v, const char *key)
{
	const char *s = want_string(L, v, key);
	if (!s)
		return 0;
	if (!gz_name_has_word(s)) {
		char b[80];
		problem(L, v->line, v->column, "%s '%s' has no letters or digits", key,
			gz_yaml_shown(v, b, sizeof b));
		return 0;
	}
	return 1;
}

/* -------------------------------------------------------------- entries */

/* The entries' strings and alias arrays are carved from blocks mapped
 * apart from the heap: millions of them cost a bump of a pointer each, not
 * a malloc and later a free, and the blocks go back to the system as soon as
 * the set has copied the file, even when a loading thread allocated them
 * (glibc keeps a thread's freed chunks in that thread's arena, where the
 * set's build on the main thread cannot reuse them). */
struct gz_strings {
	struct gz_strings *next;
	size_t used, size;     /* size: of the whole mapping */
	max_align_t data[];
};

/* Blocks double from 64 KB (a small file costs little) to 16 MB, and are
 * big arrays on huge pages from 2 MB on (bigmem.h): a GeoNames part holds
 * hundreds of MB of strings. */
#define STRINGS_MIN (64u << 10)
#define STRINGS_MAX (16u << 20)

static void *strings_alloc(struct gz_gazetteer *g, size_t len)
{
	len = (len + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	struct gz_strings *b = g->strings;
	if (!b || b->size - b->used < len) {
		size_t size = !b ? STRINGS_MIN : b->size < STRINGS_MAX ? b->size * 2 : STRINGS_MAX;
		while (size < len + sizeof(*b))
			size *= 2;
		void *m = gz_big_alloc(size);
		if (!m)
			return NULL;
		b = m;
		b->next = g->strings;
		b->used = sizeof(*b);
		b->size = size;
		g->strings = b;
	}
	void *p = (char *)b + b->used;
	b->used += len;
	return p;
}

static void strings_free(struct gz_strings *b)
{
	while (b) {
		struct gz_strings *next = b->next;
		gz_big_free(b, b->size);
		b = next;
	}
}

/* Hands the blocks of from to to. */
static void strings_move(struct gz_gazetteer *to, struct gz_gazetteer *from)
{
	struct gz_strings **tail = &from->strings;
	while (*tail)
		tail = &(*tail)->next;
	*tail = to->strings;
	to->strings = from->strings;
	from->strings = NULL;
}

static char *xstrndup(struct loader *L, const char *s, size_t len)
{
	char *d = strings_alloc(L->g, len + 1);
	if (!d) {
		L->y.oom = 1;
		return NULL;
	}
	memcpy(d, s, len);
	d[len] = 0;
	return d;
}

static char *xstrdup(struct loader *L, const char *s)
{
	return xstrndup(L, s, strlen(s));
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

static int load_aliases(struct loader *L, const struct gz_yaml_node *v, int case_rule,
			struct gz_raw_entry *e)
{
	if (v->kind != GZ_YAML_SEQ) {
		problem(L, v->line, v->column, "'aliases' must be a sequence of names, found %s",
			gz_yaml_kind_name(v));
		return 0;
	}
	int ok = 1;
	e->aliases = strings_alloc(L->g, (v->nkids ? v->nkids : 1) * sizeof(*e->aliases));
	if (!e->aliases) {
		L->y.oom = 1;
		return 0;
	}
	memset(e->aliases, 0, (v->nkids ? v->nkids : 1) * sizeof(*e->aliases));
	for (size_t i = 0; i < v->nkids; i++) {
		const struct gz_yaml_node *a = v->kids[i], *text = a;
		int cs = case_rule, inherited = 1;
		if (a->kind == GZ_YAML_MAP) {
			if (!check_keys(L, a, alias_keys, "alias", "text, case")) {
				ok = 0;
				continue;
			}
			text = gz_yaml_get(a, "text");
			if (!text) {
				problem(L, a->line, a->column, "missing required key 'text' in alias");
				ok = 0;
				continue;
			}
			const struct gz_yaml_node *c = gz_yaml_get(a, "case");
			if (c && (cs = want_case(L, c)) < 0) {
				ok = 0;
				continue;
			}
			if (c)
				inherited = 0;
		} else if (a->kind != GZ_YAML_SCALAR) {
			problem(L, a->line, a->column, "an alias must be a string or a mapping with 'text', found %s",
				gz_yaml_kind_name(a));
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
static int load_entry(struct loader *L, const struct gz_yaml_node *n, const char *file_type,
		      int file_case, struct gz_raw_entry *e)
{
	if (n->kind != GZ_YAML_MAP) {
		problem(L, n->line, n->column, "an entry must be a mapping with id and name, found %s",
			gz_yaml_kind_name(n));
		return 0;
	}
	e->line = n->line;
	e->column = n->column;
	int ok = check_keys(L, n, entry_keys, "entry", ENTRY_KEYS);
	const struct gz_yaml_node *id = gz_yaml_get(n, "id"), *name = gz_yaml_get(n, "name"), *v;

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
	if ((v = gz_yaml_get(n, "case"))) {
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

	if ((v = gz_yaml_get(n, "type"))) {
		if (want_string(L, v, "type"))
			e->type = xstrdup(L, v->value);
		else
			ok = 0;
	} else if (file_type) {
		e->type = xstrdup(L, file_type);
	}

	e->priority_inherited = 1;
	if ((v = gz_yaml_get(n, "priority"))) {
		if (want_number(L, v, "priority", &e->priority))
			e->priority_inherited = 0;
		else
			ok = 0;
	}

	if ((v = gz_yaml_get(n, "evidence"))) {
		static const char *const words[] = { "none", "required", NULL };
		int w = want_word(L, v, "evidence", words);
		if (w < 0)
			ok = 0;
		else
			e->evidence_required = w;
	}

	if ((v = gz_yaml_get(n, "aliases")))
		ok &= load_aliases(L, v, case_rule, e);

	if ((v = gz_yaml_get(n, "attrs"))) {
		if (v->kind != GZ_YAML_MAP) {
			problem(L, v->line, v->column, "'attrs' must be a mapping, found %s",
				gz_yaml_kind_name(v));
			ok = 0;
		} else if (gz_attrs_check(&L->y, v)) {
			if (v->nkids) {
				struct gz_buf *t = &L->attrs;
				t->len = 0;
				t->failed = 0;
				gz_attrs_write(t, v);
				/* the buffer starts at 4 KiB: keep only what was written,
				 * or a million entries hold gigabytes of slack */
				if (t->failed)
					L->y.oom = 1;
				else
					e->attrs = xstrndup(L, t->data, t->len);
			}
			/* the context rules (SPEC §8.4) read these two */
			const struct gz_yaml_node *c = gz_yaml_get(v, "country"),
						  *a = gz_yaml_get(v, "admin1");
			if (gz_yaml_is_scalar(c) && c->len)
				e->country = xstrdup(L, c->value);
			if (gz_yaml_is_scalar(a) && a->len)
				e->admin1 = xstrdup(L, a->value);
		} else {
			ok = 0;
		}
	}
	return ok && !L->y.oom;
}

/* Grows (or shrinks) the entry arrays of g to cap records each: big
 * arrays (bigmem.h), a GeoNames part's are hundreds of MB.  0, or GZ_ENOMEM
 * with the arrays as they were. */
static int resize_entries(struct gz_gazetteer *g, size_t cap)
{
	size_t old = g->cap;
	struct gz_raw_entry *e = gz_big_resize(g->entries, old * sizeof(*e), cap * sizeof(*e));
	if (!e)
		return GZ_ENOMEM;
	g->entries = e;
	struct gz_id_ref *ids = gz_big_resize(g->ids, old * sizeof(*ids), cap * sizeof(*ids));
	char **strs = ids ? gz_big_resize(g->id_strings, old * sizeof(*strs), cap * sizeof(*strs))
			  : NULL;
	if (!strs) {
		/* back to old for all three (a shrink that fails keeps the
		 * bigger mapping, of which only old records are freed) */
		if (ids && (ids = gz_big_resize(ids, cap * sizeof(*ids), old * sizeof(*ids))))
			g->ids = ids;
		if ((e = gz_big_resize(g->entries, cap * sizeof(*e), old * sizeof(*e))))
			g->entries = e;
		return GZ_ENOMEM;
	}
	g->ids = ids;
	g->id_strings = strs;
	g->cap = cap;
	return 0;
}

static void free_entries(struct gz_gazetteer *g)
{
	gz_big_free(g->entries, g->cap * sizeof(*g->entries));
	gz_big_free(g->ids, g->cap * sizeof(*g->ids));
	gz_big_free(g->id_strings, g->cap * sizeof(*g->id_strings));
}

/* Grows the entry arrays of L->g for one more entry. */
static int reserve_entry(struct loader *L)
{
	struct gz_gazetteer *g = L->g;
	if (g->count < g->cap && g->id_count < g->cap && g->id_string_count < g->cap)
		return 0;
	if (resize_entries(g, g->cap ? g->cap * 2 : 64)) {
		L->y.oom = 1;
		return -1;
	}
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
static void take_entry(struct gz_yaml *y, const struct gz_yaml_node *n)
{
	struct loader *L = (struct loader *)y;
	struct gz_gazetteer *g = L->g;
	if (L->y.oom || reserve_entry(L))
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
		if (!e->type)
			e->type = g->type; /* freed with g, like the blocks */
		if (!e->type) {
			problem(L, e->line, e->column, "entry '%s' has no type (the file has no 'type' either)",
				e->id);
			for (size_t k = 0; k < g->id_count; k++)
				if (g->ids[k].id == e->id)
					keep_invalid_id(g, e, k);
			continue;
		}
		g->entries[kept++] = *e;
	}
	g->count = kept;
}

static void load_file(struct loader *L, const struct gz_yaml_node *root, struct gz_gazetteer *g)
{
	if (!root) {
		problem(L, 1, 1, "empty gazetteer: expected a mapping with 'type' and 'entries'");
		return;
	}
	if (root->kind != GZ_YAML_MAP) {
		problem(L, root->line, root->column,
			"a gazetteer must be a mapping with 'type' and 'entries', found %s",
			gz_yaml_kind_name(root));
		return;
	}
	check_keys(L, root, file_keys, "the gazetteer", FILE_KEYS);
	const struct gz_yaml_node *type = gz_yaml_get(root, "type"),
				  *entries = gz_yaml_get(root, "entries"), *c;
	int file_case = 0;
	if (!type)
		problem(L, root->line, root->column, "missing required key 'type'");
	else if (want_string(L, type, "type") && !(g->type = strdup(type->value)))
		L->y.oom = 1; /* (g->type is freed apart from the blocks) */
	if ((c = gz_yaml_get(root, "case"))) {
		int r = want_case(L, c);
		if (r >= 0)
			file_case = r;
	}
	double file_priority = 0;
	if ((c = gz_yaml_get(root, "priority")))
		want_number(L, c, "priority", &file_priority);
	if ((c = gz_yaml_get(root, "common_words"))) {
		static const char *const words[] = { "match", "skip", NULL };
		g->common_words_skip = want_word(L, c, "common_words", words) == 1;
	}
	if (!entries) {
		problem(L, root->line, root->column, "missing required key 'entries'");
		return;
	}
	if (entries->kind != GZ_YAML_SEQ) {
		/* an empty `entries:` is a null scalar: allow it as no entries */
		if (gz_yaml_is_scalar(entries) && entries->plain && entries->len == 0)
			return;
		problem(L, entries->line, entries->column, "'entries' must be a sequence, found %s",
			gz_yaml_kind_name(entries));
		return;
	}

	/* entries were taken as they were parsed (take_entry); what the file
	 * says of type and case may come after them, so apply it now */
	finish_entries(L, g, file_case, file_priority);
}

/* ------------------------------------------------------ API implementation */

int gz_gazetteer_parse(const char *path, const char *buf, size_t len,
		       struct gz_gazetteer **out, struct gz_diag *diag)
{
	struct loader L = { .y = { .path = path, .diag = diag, .on_entry = take_entry } };
	struct gz_gazetteer *g = calloc(1, sizeof(*g));
	*out = NULL;
	if (!g || !(g->path = strdup(path))) {
		free(g);
		return GZ_ENOMEM;
	}
	*out = g;
	L.g = g;
	struct gz_yaml_node *root = gz_yaml_read(&L.y, buf, len);
	if (!L.y.broken && !L.y.oom)
		load_file(&L, root, g);
	if (L.y.broken) {
		/* after a syntax error nothing taken so far can be trusted, not
		 * even for the duplicate-id check: an entry cut short by a bad
		 * indent is not the entry the user wrote */
		g->count = 0;
		g->id_count = 0;
	}
	gz_yaml_node_free(root);
	gz_yaml_report(&L.y);
	free(L.attrs.data);
	if (L.y.oom)
		return GZ_ENOMEM;
	return L.y.errors;
}

/* ------------------------------------------------------ chunked parse */

/* A big file of the importer's shape (its own keys first, then `entries:`
 * with items at one indent to the end of the file) is read in pieces by
 * several threads: the head up to `entries:` with an empty sequence put in
 * the items' place, and the items cut at lines that start an item at that
 * indent, each piece a YAML document whose root is a run of the items.
 * libyaml reads such a piece as it reads those lines in the whole file, or
 * fails on it: a cut inside a quoted scalar or a flow collection leaves a
 * piece unterminated, a block scalar or plain continuation ends at a line
 * that indented, and a key or document marker at column 0 after the items
 * is a second root.  Only a file whose pieces all read without a single
 * problem takes this path: anything else is read again whole, so every
 * message, its FILE:LINE:COL and its order are the sequential ones. */

#define CHUNK_MIN (1u << 20)  /* no piece smaller: a thread costs more */
#define CHUNKED_MIN (4u << 20) /* no chunked read of a smaller file */

struct piece {
	const char *buf;
	size_t len;
	int line_base;
	struct gz_gazetteer g;
	int failed;              /* a problem, or out of memory */
};

struct chunked {
	const char *path;
	struct piece *pieces;
	size_t count;
	size_t next;             /* the next piece to read, under lock */
	pthread_mutex_t lock;
};

static void piece_free(struct gz_gazetteer *g)
{
	free_entries(g);
	strings_free(g->strings);
	memset(g, 0, sizeof(*g));
}

static void read_piece(const char *path, struct piece *p)
{
	struct loader L = { .y = { .path = path, .on_entry = take_entry, .items_at_root = 1,
				   .line_base = p->line_base } };
	L.g = &p->g;
	struct gz_yaml_node *root = gz_yaml_read(&L.y, p->buf, p->len);
	p->failed = L.y.errors || L.y.oom || L.y.broken || !root || root->kind != GZ_YAML_SEQ ||
		    root->nkids != 0;
	gz_yaml_node_free(root);
	gz_yaml_report(&L.y); /* no diag: only frees them */
	free(L.attrs.data);
}

static void *piece_worker(void *arg)
{
	struct chunked *c = arg;
	for (;;) {
		pthread_mutex_lock(&c->lock);
		size_t i = c->next < c->count ? c->next++ : c->count;
		pthread_mutex_unlock(&c->lock);
		if (i == c->count)
			return NULL;
		read_piece(c->path, &c->pieces[i]);
	}
}

/* The start of the line after the one at p (or end). */
static const char *next_line(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	return nl ? nl + 1 : end;
}

/* Whether the line at p starts an item at indent: that many spaces, then
 * '-' and a space or the line's end. */
static int item_line(const char *p, const char *end, size_t indent)
{
	if ((size_t)(end - p) < indent + 2)
		return 0;
	for (size_t i = 0; i < indent; i++)
		if (p[i] != ' ')
			return 0;
	return p[indent] == '-' && (p[indent + 1] == ' ' || p[indent + 1] == '\n');
}

static int count_lines(const char *p, const char *end)
{
	int n = 0;
	while ((p = memchr(p, '\n', (size_t)(end - p)))) {
		n++;
		p++;
	}
	return n;
}

/* Finds the head and the items' pieces; 0 when the file has the shape. */
static int cut_pieces(const char *buf, size_t len, size_t want, size_t *head_len, size_t *indent,
		      struct piece **out, size_t *count)
{
	const char *end = buf + len, *p = buf;
	/* `entries:` alone on a line at column 0 */
	while (p < end && !(end - p >= 9 && memcmp(p, "entries:\n", 9) == 0))
		p = next_line(p, end);
	if (p == end)
		return 1;
	p += 9;
	/* blank and comment lines, then the first item */
	for (;;) {
		const char *q = p;
		while (q < end && *q == ' ')
			q++;
		if (q < end && (*q == '\n' || *q == '#')) {
			p = next_line(q, end);
			continue;
		}
		if (q == end || *q != '-' || q == p || q - p > 16)
			return 1;
		*indent = (size_t)(q - p);
		break;
	}
	if (!item_line(p, end, *indent))
		return 1;
	*head_len = (size_t)(p - buf);
	size_t region = (size_t)(end - p);
	size_t n = region / CHUNK_MIN;
	if (n > want)
		n = want;
	if (n < 2)
		return 1;
	struct piece *pc = calloc(n, sizeof(*pc));
	if (!pc)
		return GZ_ENOMEM;
	size_t k = 0;
	int line = count_lines(buf, p);
	const char *start = p;
	for (size_t i = 1; i <= n; i++) {
		const char *cut = end;
		if (i < n) {
			/* the first item line at or after an even share */
			cut = p + region / n * i;
			if (cut <= start)
				cut = start + 1;
			cut = next_line(cut - 1, end);
			while (cut < end && !item_line(cut, end, *indent))
				cut = next_line(cut, end);
		}
		if (cut == start)
			continue;
		pc[k].buf = start;
		pc[k].len = (size_t)(cut - start);
		pc[k].line_base = line;
		line += count_lines(start, cut);
		k++;
		start = cut;
	}
	*out = pc;
	*count = k;
	return 0;
}

/* Appends piece p's entries and ids to g. */
static int merge_piece(struct gz_gazetteer *g, struct piece *p)
{
	if (!g->entries && !g->ids && !g->id_strings) {
		/* the first piece's arrays become the file's: no copy */
		g->entries = p->g.entries;
		g->ids = p->g.ids;
		g->id_strings = p->g.id_strings;
		g->count = p->g.count;
		g->id_count = p->g.id_count;
		g->cap = p->g.cap;
		strings_move(g, &p->g);
		memset(&p->g, 0, sizeof(p->g));
		return 0;
	}
	size_t need = g->count + p->g.count;
	if (g->id_count + p->g.id_count > need)
		need = g->id_count + p->g.id_count;
	if (need > g->cap) {
		size_t c = g->cap ? g->cap : 64;
		while (c < need)
			c *= 2;
		if (resize_entries(g, c))
			return GZ_ENOMEM;
	}
	/* a clean piece has no invalid ids: id_strings stays empty */
	memcpy(g->entries + g->count, p->g.entries, p->g.count * sizeof(*g->entries));
	g->count += p->g.count;
	memcpy(g->ids + g->id_count, p->g.ids, p->g.id_count * sizeof(*g->ids));
	g->id_count += p->g.id_count;
	strings_move(g, &p->g);
	free_entries(&p->g);
	memset(&p->g, 0, sizeof(p->g));
	return 0;
}

/* The chunked read: 0 and *out complete, 1 when the file is to be read
 * whole (not of the shape, or some problem), or GZ_ENOMEM. */
static int parse_chunked(const char *path, const char *buf, size_t len, unsigned threads,
			 struct gz_gazetteer **out)
{
	struct chunked c = { .path = path };
	size_t head_len, indent;
	int r = cut_pieces(buf, len, (size_t)threads * 4, &head_len, &indent, &c.pieces, &c.count);
	if (r)
		return r;
	pthread_mutex_init(&c.lock, NULL);
	pthread_t tid[GZ_GAZETTEER_MAX_THREADS];
	size_t started = 0;
	for (unsigned t = 1; t < threads && t < GZ_GAZETTEER_MAX_THREADS && t < c.count; t++)
		if (pthread_create(&tid[started], NULL, piece_worker, &c) == 0)
			started++;

	/* the head meanwhile, with `[]` where the items were */
	struct loader L = { .y = { .path = path, .on_entry = take_entry } };
	struct gz_gazetteer *g = calloc(1, sizeof(*g));
	char *head = malloc(head_len + indent + 4);
	struct gz_yaml_node *root = NULL;
	if (g && head && (g->path = strdup(path))) {
		memcpy(head, buf, head_len);
		memset(head + head_len, ' ', indent);
		memcpy(head + head_len + indent, "[]\n", 4);
		L.g = g;
		root = gz_yaml_read(&L.y, head, head_len + indent + 3);
	} else {
		L.y.oom = 1;
	}
	piece_worker(&c);
	for (size_t t = 0; t < started; t++)
		pthread_join(tid[t], NULL);
	pthread_mutex_destroy(&c.lock);

	int ok = !L.y.oom && !L.y.broken && !L.y.errors && g->count == 0;
	for (size_t i = 0; i < c.count; i++)
		ok = ok && !c.pieces[i].failed;
	for (size_t i = 0; i < c.count && ok; i++)
		if (merge_piece(g, &c.pieces[i]))
			L.y.oom = 1, ok = 0;
	if (ok) {
		load_file(&L, root, g);
		ok = !L.y.oom && !L.y.errors;
	}
	r = L.y.oom ? GZ_ENOMEM : !ok;
	for (size_t i = 0; i < c.count; i++)
		piece_free(&c.pieces[i].g);
	free(c.pieces);
	gz_yaml_node_free(root);
	gz_yaml_report(&L.y);
	free(L.attrs.data);
	free(head);
	if (r) {
		gz_gazetteer_free(g);
		return r;
	}
	*out = g;
	return 0;
}

static atomic_ulong chunked_reads;

unsigned long gz_gazetteer_chunked_reads(void)
{
	return atomic_load(&chunked_reads);
}

int gz_gazetteer_parse_threads(const char *path, const char *buf, size_t len, unsigned threads,
			       struct gz_gazetteer **out, struct gz_diag *diag)
{
	*out = NULL;
	if (threads > 1 && len >= CHUNKED_MIN) {
		int r = parse_chunked(path, buf, len, threads, out);
		if (r == 0)
			atomic_fetch_add(&chunked_reads, 1);
		if (r <= 0)
			return r;
	}
	return gz_gazetteer_parse(path, buf, len, out, diag);
}

int gz_gazetteer_load(const char *path, struct gz_gazetteer **out, struct gz_diag *diag)
{
	return gz_gazetteer_load_threads(path, 1, out, diag);
}

int gz_gazetteer_load_threads(const char *path, unsigned threads, struct gz_gazetteer **out,
			      struct gz_diag *diag)
{
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb)) {
		if (diag)
			gz_diag_add(diag, path, 0, 0, "cannot open: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	/* one buffer of the file's size (a big array: bigmem.h), grown only
	 * if the file grows while it is read; one byte more, to see EOF */
	size_t cap = S_ISREG(sb.st_mode) && sb.st_size > 0 && (uint64_t)sb.st_size <= GZ_YAML_MAX_FILE
			     ? (size_t)sb.st_size + 1
			     : 65536;
	size_t len = 0;
	char *buf = gz_big_alloc(cap);
	int rerr = !buf ? ENOMEM : 0;
	while (!rerr) {
		if (len == cap) {
			size_t grown = cap * 2 > GZ_YAML_MAX_FILE + 1 ? GZ_YAML_MAX_FILE + 1 : cap * 2;
			if (grown == cap)
				break; /* over the limit */
			char *b = gz_big_resize(buf, cap, grown);
			if (!b) {
				rerr = ENOMEM;
				break;
			}
			buf = b;
			cap = grown;
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rerr = errno;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (rerr == ENOMEM) {
		gz_big_free(buf, cap);
		return GZ_ENOMEM;
	}
	if (rerr) {
		gz_big_free(buf, cap);
		if (diag)
			gz_diag_add(diag, path, 0, 0, "read error: %s", strerror(rerr));
		return 1;
	}
	if (len > GZ_YAML_MAX_FILE) {
		gz_big_free(buf, cap);
		if (diag)
			gz_diag_add(diag, path, 0, 0, "file is larger than the limit of %u bytes",
				    GZ_YAML_MAX_FILE);
		return 1;
	}
	int r = gz_gazetteer_parse_threads(path, buf ? buf : "", len, threads, out, diag);
	if (*out) {
		/* XXH3 runs at memory speed: a few ms for the largest file */
		XXH128_canonical_t c;
		XXH128_canonicalFromHash(&c, XXH3_128bits(buf ? buf : "", len));
		memcpy((*out)->content_hash, c.digest, sizeof c.digest);
		(*out)->content_len = len;
	}
	gz_big_free(buf, cap);
	return r;
}

void gz_gazetteer_free(struct gz_gazetteer *g)
{
	if (!g)
		return;
	free_entries(g); /* the ids themselves are in the blocks */
	strings_free(g->strings);
	free(g->type);
	free(g->path);
	free(g);
}
