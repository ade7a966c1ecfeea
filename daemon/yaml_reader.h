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
