/*
 * The libyaml event reader of gazetteer files; see yaml_reader.h.
 *
 * libyaml's events become a tree of nodes that remember where they started
 * (libyaml marks are 0-based; users count from 1).  Reading stops at the
 * first syntax error, since nothing after it can be trusted.  Invalid UTF-8
 * is found before libyaml sees the buffer, because libyaml reports it only
 * as a byte offset and we want a line and column like every other error.
 * Anchors and aliases are refused at their event, so no expansion can
 * happen, and nesting depth and scalar size are bounded.  The items of the
 * top-level `entries` sequence go to the caller as each one ends and are
 * freed then, so that a file of a million entries never holds more than one
 * entry's tree.
 *
 * The problems of a file, the reader's and the schema's alike, are kept
 * here and handed to the diag at the end, sorted by position.
 */
#include "yaml_reader.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "fold.h"

struct gz_yaml_problem {
	int line, column;
	char *msg;
	size_t seq;
};

/* --------------------------------------------------------------- problems */

void gz_yaml_vproblem(struct gz_yaml *y, int line, int column, const char *fmt, va_list ap)
{
	char msg[768];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	y->errors++;
	if (y->nprobs == y->capprobs) {
		size_t cap = y->capprobs ? y->capprobs * 2 : 16;
		struct gz_yaml_problem *p = realloc(y->probs, cap * sizeof(*p));
		if (!p) {
			y->oom = 1;
			return;
		}
		y->probs = p;
		y->capprobs = cap;
	}
	char *m = strdup(msg);
	if (!m) {
		y->oom = 1;
		return;
	}
	y->probs[y->nprobs] = (struct gz_yaml_problem){ line, column, m, y->nprobs };
	y->nprobs++;
}

void gz_yaml_problem(struct gz_yaml *y, int line, int column, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	gz_yaml_vproblem(y, line, column, fmt, ap);
	va_end(ap);
}

static int cmp_problem(const void *a, const void *b)
{
	const struct gz_yaml_problem *x = a, *y = b;
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
void gz_yaml_report(struct gz_yaml *y)
{
	size_t from = 0;
	if (y->broken && y->nprobs)
		from = y->nprobs - 1;
	else if (y->nprobs > 1)
		qsort(y->probs, y->nprobs, sizeof(*y->probs), cmp_problem);
	for (size_t i = 0; i < y->nprobs; i++) {
		if (i >= from && y->diag)
			gz_diag_add(y->diag, y->path, y->probs[i].line, y->probs[i].column, "%s",
				    y->probs[i].msg);
		free(y->probs[i].msg);
	}
	if (y->broken && y->nprobs)
		y->errors = 1;
	free(y->probs);
	y->probs = NULL;
	y->nprobs = y->capprobs = 0;
}

/* ------------------------------------------------------------------ nodes */

/* The nodes of an item of `entries` (its scalars' text and its kids arrays
 * too) come from one block, used again item after item: an item is handed
 * over whole and gone before the next begins.  Without it the reader's
 * mallocs and frees, three or four per scalar, were a fifth of a big
 * file's load. */
struct gz_yaml_block {
	struct gz_yaml_block *next;
	size_t used, size;
	max_align_t data[];
};

#define ITEM_BLOCK (64u << 10)

static void *arena_alloc(struct gz_yaml_arena *a, size_t len)
{
	len = (len + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	struct gz_yaml_block *b = a->blocks;
	if (!b || b->size - b->used < len) {
		size_t size = len > ITEM_BLOCK ? len : ITEM_BLOCK;
		b = malloc(sizeof(*b) + size);
		if (!b)
			return NULL;
		b->next = a->blocks;
		b->used = 0;
		b->size = size;
		a->blocks = b;
	}
	void *p = (char *)b->data + b->used;
	b->used += len;
	return p;
}

/* Forgets every item node; keeps the first block for the next item. */
static void arena_reset(struct gz_yaml_arena *a)
{
	while (a->blocks && a->blocks->next) {
		struct gz_yaml_block *next = a->blocks->next;
		free(a->blocks);
		a->blocks = next;
	}
	if (a->blocks)
		a->blocks->used = 0;
}

static void arena_free(struct gz_yaml_arena *a)
{
	arena_reset(a);
	free(a->blocks);
	a->blocks = NULL;
}

void gz_yaml_node_free(struct gz_yaml_node *n)
{
	if (!n || n->in_arena)
		return;
	for (size_t i = 0; i < n->nkids; i++)
		gz_yaml_node_free(n->kids[i]);
	free(n->kids);
	free(n->value);
	free(n);
}

static int node_add(struct gz_yaml_arena *a, struct gz_yaml_node *parent, struct gz_yaml_node *kid)
{
	if (parent->nkids == parent->capkids) {
		size_t cap = parent->capkids ? parent->capkids * 2 : 4;
		struct gz_yaml_node **k;
		if (parent->in_arena) {
			if ((k = arena_alloc(a, cap * sizeof(*k))) && parent->nkids)
				memcpy(k, parent->kids, parent->nkids * sizeof(*k));
		} else {
			k = realloc(parent->kids, cap * sizeof(*k));
		}
		if (!k)
			return -1;
		parent->kids = k;
		parent->capkids = cap;
	}
	parent->kids[parent->nkids++] = kid;
	return 0;
}

const char *gz_yaml_kind_name(const struct gz_yaml_node *n)
{
	return n->kind == GZ_YAML_MAP ? "a mapping" : n->kind == GZ_YAML_SEQ ? "a sequence" : "a scalar";
}

const struct gz_yaml_node *gz_yaml_get(const struct gz_yaml_node *map, const char *key)
{
	for (size_t i = 0; i + 1 < map->nkids; i += 2)
		if (gz_yaml_is_scalar(map->kids[i]) && strcmp(map->kids[i]->value, key) == 0)
			return map->kids[i + 1];
	return NULL;
}

/* A short, printable rendering of a scalar for messages. */
const char *gz_yaml_shown(const struct gz_yaml_node *n, char *buf, size_t size)
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

/* -------------------------------------------------------------- positions */

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

static int is_entries_key(const struct gz_yaml_node *k)
{
	return k->kind == GZ_YAML_SCALAR && strcmp(k->value, "entries") == 0;
}

/* Whether stack[item_depth - 1] is the sequence whose items go to
 * on_entry: the top-level `entries` (or a piece's root). */
static int is_entries_seq(const struct gz_yaml *y, struct gz_yaml_node *const *stack)
{
	if (y->items_at_root)
		return stack[0]->kind == GZ_YAML_SEQ;
	return stack[0]->kind == GZ_YAML_MAP && stack[1]->kind == GZ_YAML_SEQ &&
	       stack[0]->nkids >= 2 && stack[0]->kids[stack[0]->nkids - 1] == stack[1] &&
	       is_entries_key(stack[0]->kids[stack[0]->nkids - 2]);
}

/* ------------------------------------------------------------------ trees */

void gz_yaml_tree_init(struct gz_yaml_tree *t, struct gz_yaml *y)
{
	memset(t, 0, sizeof(*t));
	t->y = y;
	/* items sit one level higher in a piece: the same nesting allowed */
	t->max_depth = GZ_YAML_MAX_DEPTH - (y->items_at_root ? 1 : 0);
	t->item_depth = y->items_at_root ? 1 : 2;
}

/* Whether the nodes at the item depth are items of `entries`, remembered
 * for the open collection above them: asked at every node, and that
 * collection's answer holds while it is open. */
static int in_entries(struct gz_yaml_tree *t)
{
	struct gz_yaml_node *seq = t->stack[t->item_depth - 1];
	if (seq != t->seq_seen) {
		t->seq_seen = seq;
		t->seq_is_entries = is_entries_seq(t->y, t->stack);
	}
	return t->seq_is_entries;
}

/* An item of the top-level `entries` sequence is complete: hand it to the
 * schema and free its tree now, so that a file of a million entries never
 * holds more than one entry's tree. */
static void tree_item_done(struct gz_yaml_tree *t)
{
	if (t->depth == t->item_depth && in_entries(t) &&
	    t->stack[t->depth - 1]->nkids > 0) {
		struct gz_yaml_node *seq = t->stack[t->depth - 1];
		struct gz_yaml_node *item = seq->kids[--seq->nkids];
		t->y->on_entry(t->y, item);
		arena_reset(&t->arena);
	}
}

int gz_yaml_tree_node(struct gz_yaml_tree *t, enum gz_yaml_kind kind, int line, int column,
		      const char *value, size_t len, int plain)
{
	struct gz_yaml *y = t->y;
	/* inside an item of `entries`: from the item arena */
	int in_item = t->depth >= t->item_depth && in_entries(t);
	struct gz_yaml_node *n = in_item ? arena_alloc(&t->arena, sizeof(*n)) : malloc(sizeof(*n));
	if (!n) {
		y->oom = 1;
		return -1;
	}
	memset(n, 0, sizeof(*n));
	n->in_arena = in_item;
	n->line = line;
	n->column = column;
	n->kind = kind;
	if (kind == GZ_YAML_SCALAR) {
		if (len > GZ_YAML_MAX_SCALAR) {
			gz_yaml_problem(y, line, column, "scalar of %zu bytes is over the limit of %u",
					len, GZ_YAML_MAX_SCALAR);
			gz_yaml_node_free(n);
			return -1;
		}
		n->len = len;
		n->value = in_item ? arena_alloc(&t->arena, len + 1) : malloc(len + 1);
		if (!n->value) {
			gz_yaml_node_free(n);
			y->oom = 1;
			return -1;
		}
		memcpy(n->value, value, len);
		n->value[len] = 0;
		n->plain = plain;
	}
	if (t->depth == 0) {
		t->root = n;
	} else if (node_add(&t->arena, t->stack[t->depth - 1], n)) {
		gz_yaml_node_free(n);
		y->oom = 1;
		return -1;
	}
	if (kind == GZ_YAML_SCALAR) {
		tree_item_done(t);
		return 0;
	}
	if (t->depth == t->max_depth) {
		gz_yaml_problem(y, line, column, "nesting deeper than %d levels", GZ_YAML_MAX_DEPTH);
		return -1;
	}
	t->stack[t->depth++] = n;
	return 0;
}

void gz_yaml_tree_end(struct gz_yaml_tree *t)
{
	t->depth--;
	tree_item_done(t);
}

struct gz_yaml_node *gz_yaml_tree_fail(struct gz_yaml_tree *t)
{
	t->y->broken = 1;
	gz_yaml_node_free(t->root); /* before the arena: it reads in_arena there */
	arena_free(&t->arena);
	return NULL;
}

struct gz_yaml_node *gz_yaml_tree_done(struct gz_yaml_tree *t)
{
	arena_free(&t->arena);
	return t->root;
}

/* ----------------------------------------------------------------- events */

static struct gz_yaml_node *build_tree(struct gz_yaml *y, const char *buf, size_t len)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	struct gz_yaml_tree t;
	int done = 0;

	gz_yaml_tree_init(&t, y);
	if (!yaml_parser_initialize(&parser)) {
		y->oom = 1;
		return NULL;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);

	while (!done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			int line, column;
			if (parser.error == YAML_READER_ERROR) {
				locate(buf, parser.problem_offset, &line, &column);
				line += y->line_base;
			} else {
				line = (int)parser.problem_mark.line + 1 + y->line_base;
				column = (int)parser.problem_mark.column + 1;
			}
			if (parser.error == YAML_MEMORY_ERROR)
				y->oom = 1;
			else if (parser.context)
				gz_yaml_problem(y, line, column, "YAML syntax error: %s %s",
					parser.problem ? parser.problem : "error", parser.context);
			else
				gz_yaml_problem(y, line, column, "YAML syntax error: %s",
					parser.problem ? parser.problem : "error");
			goto fail;
		}
		int line = (int)ev.start_mark.line + 1 + y->line_base;
		int column = (int)ev.start_mark.column + 1;
		const unsigned char *anchor = NULL;
		int r = 0;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (t.root) {
				gz_yaml_problem(y, line, column,
						"a gazetteer file holds one YAML document, found a second");
				r = -1;
			}
			break;
		case YAML_ALIAS_EVENT:
			gz_yaml_problem(y, line, column, "YAML aliases (*%s) are not allowed in gazetteers",
				(const char *)ev.data.alias.anchor);
			r = -1;
			break;
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
			gz_yaml_problem(y, line, column, "YAML anchors (&%s) are not allowed in gazetteers",
				(const char *)anchor);
			r = -1;
		}
		if (r == 0) {
			if (ev.type == YAML_SCALAR_EVENT)
				r = gz_yaml_tree_node(&t, GZ_YAML_SCALAR, line, column,
						      (const char *)ev.data.scalar.value,
						      ev.data.scalar.length,
						      ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE);
			else if (ev.type == YAML_SEQUENCE_START_EVENT)
				r = gz_yaml_tree_node(&t, GZ_YAML_SEQ, line, column, NULL, 0, 0);
			else if (ev.type == YAML_MAPPING_START_EVENT)
				r = gz_yaml_tree_node(&t, GZ_YAML_MAP, line, column, NULL, 0, 0);
			else if (ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT)
				gz_yaml_tree_end(&t);
		}
		yaml_event_delete(&ev);
		if (r)
			goto fail;
	}
	yaml_parser_delete(&parser);
	return gz_yaml_tree_done(&t);
fail:
	yaml_parser_delete(&parser);
	return gz_yaml_tree_fail(&t);
}

struct gz_yaml_node *gz_yaml_read(struct gz_yaml *y, const char *buf, size_t len)
{
	size_t bad;
	if (gz_utf8_validate(buf, len, &bad) != 0) {
		int line, column;
		locate(buf, bad, &line, &column);
		line += y->line_base;
		gz_yaml_problem(y, line, column, "invalid UTF-8 (byte 0x%02x at offset %zu)",
			(unsigned char)buf[bad], bad);
		y->broken = 1;
		return NULL;
	}
	if (memchr(buf, 0, len)) {
		size_t off = (size_t)((const char *)memchr(buf, 0, len) - buf);
		int line, column;
		locate(buf, off, &line, &column);
		line += y->line_base;
		gz_yaml_problem(y, line, column, "NUL byte in gazetteer file");
		y->broken = 1;
		return NULL;
	}
	if (!y->slow) {
		/* the importer's shapes, read without libyaml; anything else, or
		 * any doubt, and libyaml reads the buffer from its start */
		int fell_back;
		struct gz_yaml_node *root = gz_yaml_fast_read(y, buf, len, &fell_back);
		if (!fell_back) {
			y->fast = 1;
			return root;
		}
	}
	return build_tree(y, buf, len);
}
