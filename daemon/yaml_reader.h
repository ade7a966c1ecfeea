/*
 * Reading one gazetteer file's YAML: libyaml's events -> a tree of nodes
 * that keep their 1-based line and column, and the list of problems found
 * in the file, reported as FILE:LINE:COL: message.  Internal to the
 * gazetteer loader: gazetteer.c checks the schema on the tree, attrs.c
 * writes and types its values.
 */
#ifndef GZ_YAML_READER_H
#define GZ_YAML_READER_H

#include <stdarg.h>
#include <stddef.h>

#include "error.h"

/* Limits that keep a hostile file's memory bounded. */
#define GZ_YAML_MAX_DEPTH 32
#define GZ_YAML_MAX_SCALAR (1u << 20)

enum gz_yaml_kind { GZ_YAML_SCALAR, GZ_YAML_MAP, GZ_YAML_SEQ };

struct gz_yaml_node {
	enum gz_yaml_kind kind;
	int line, column;
	char *value;      /* scalars */
	size_t len;
	int plain;        /* scalar written without quotes */
	struct gz_yaml_node **kids; /* maps: key, value, key, value ...; seqs: items */
	size_t nkids, capkids;
	int in_arena;     /* part of an item of `entries`: freed with the item */
};

struct gz_yaml_problem;

/* The reading of one file.  The caller sets path, diag and on_entry, the
 * rest starts at 0. */
struct gz_yaml {
	const char *path;
	struct gz_diag *diag;
	/* Each item of the top-level `entries` sequence, as soon as it ends;
	 * the item is freed when this returns. */
	void (*on_entry)(struct gz_yaml *y, const struct gz_yaml_node *item);
	/* A piece of a file (gazetteer.c's chunked load): the document's root
	 * is the `entries` sequence itself, its items go to on_entry, and
	 * line_base lines come before buf[0] in the file. */
	int items_at_root;
	int line_base;
	int errors;
	int oom;
	int broken;              /* the YAML itself failed to parse */
	int slow;                /* set by tests: libyaml only, no fast path */
	int fast;                /* out: the fast path read the buffer */
	struct gz_yaml_problem *probs;   /* reported at the end, in file order */
	size_t nprobs, capprobs;
};

/* Reads buf[0..len): the document's tree, less the items of `entries`
 * (on_entry had them), or NULL for an empty file, a broken one (y->broken,
 * its problem recorded) or when memory ran out (y->oom).  The caller frees
 * the tree with gz_yaml_node_free. */
struct gz_yaml_node *gz_yaml_read(struct gz_yaml *y, const char *buf, size_t len);
void gz_yaml_node_free(struct gz_yaml_node *n);

/* Records a problem of the file at line:column, counted in y->errors. */
void gz_yaml_problem(struct gz_yaml *y, int line, int column, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void gz_yaml_vproblem(struct gz_yaml *y, int line, int column, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));
/* Hands the problems to y->diag, sorted by position (after a syntax error,
 * that error only), and frees them. */
void gz_yaml_report(struct gz_yaml *y);

/* ------------------------------------------- shared by the two readers */

/* The tree both readers build, event by event, so that libyaml's reading
 * (yaml_reader.c) and the fast one (yaml_fast.c) cannot differ in what
 * they make of the same events: the nodes, the item arena, the hand-over
 * of the items of `entries`, the limits. */
struct gz_yaml_arena {
	struct gz_yaml_block *blocks;   /* newest first; the last one is kept */
};

struct gz_yaml_tree {
	struct gz_yaml *y;
	struct gz_yaml_node *stack[GZ_YAML_MAX_DEPTH + 1];
	int depth, max_depth, item_depth;
	struct gz_yaml_arena arena;
	struct gz_yaml_node *root;
	struct gz_yaml_node *seq_seen;   /* in_entries' memo */
	int seq_is_entries;
};

void gz_yaml_tree_init(struct gz_yaml_tree *t, struct gz_yaml *y);
/* A scalar (value[0..len)) or the start of a collection at line:column;
 * 0, or -1 with the problem recorded or y->oom set. */
int gz_yaml_tree_node(struct gz_yaml_tree *t, enum gz_yaml_kind kind, int line, int column,
		      const char *value, size_t len, int plain);
/* The end of the innermost open collection. */
void gz_yaml_tree_end(struct gz_yaml_tree *t);
/* The root when the reading went well; or NULL, y->broken set, all freed. */
struct gz_yaml_node *gz_yaml_tree_done(struct gz_yaml_tree *t);
struct gz_yaml_node *gz_yaml_tree_fail(struct gz_yaml_tree *t);

/* The fast reader of the restricted YAML the importer and the shipped
 * gazetteers are written in (yaml_fast.c), on a buffer already checked for
 * UTF-8 and NUL bytes.  *fell_back set: the buffer is outside that subset
 * (or might be), nothing was done and libyaml must read it; else what
 * gz_yaml_read returns, with the same on_entry calls, built as libyaml's
 * events would have built it. */
struct gz_yaml_node *gz_yaml_fast_read(struct gz_yaml *y, const char *buf, size_t len,
				       int *fell_back);

static inline int gz_yaml_is_scalar(const struct gz_yaml_node *n)
{
	return n && n->kind == GZ_YAML_SCALAR;
}
/* "a mapping", "a sequence" or "a scalar", for messages. */
const char *gz_yaml_kind_name(const struct gz_yaml_node *n);
/* The value of key in the mapping map, or NULL. */
const struct gz_yaml_node *gz_yaml_get(const struct gz_yaml_node *map, const char *key);
/* A short, printable rendering of a scalar for messages, in buf. */
const char *gz_yaml_shown(const struct gz_yaml_node *n, char *buf, size_t size);

#endif
