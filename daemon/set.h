/*
 * A gazetteer set: every entry of the loaded gazetteer files, and the trie
 * built over their names.  A set is immutable once gz_set_load returns it, so
 * any number of threads may tag against it at once without locks.  Its
 * lifetime is decided by a reference count: the reloader holds one reference
 * for the set in service, and each request holds one while it runs, so an
 * old set is freed when the last request that started on it ends.
 */
#ifndef GZ_SET_H
#define GZ_SET_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "error.h"
#include "gazetteer.h"

struct gz_set;

/* An entry's strings are held as self-relative offsets (the distance in
 * bytes from the field to the string, 0 for none) instead of pointers, so
 * that entries mean the same wherever they lie: in the arrays a YAML load
 * builds, or in a snapshot file mapped at any address (snapshot.h).  Read
 * them through the accessors below.  An entry or alias is never copied by
 * value: its offsets hold only where it stands. */
typedef int64_t gz_rel;

static inline const void *gz_rel_get(const gz_rel *field)
{
	return *field ? (const void *)((uintptr_t)field + (uintptr_t)*field) : NULL;
}

static inline void gz_rel_set(gz_rel *field, const void *p)
{
	*field = p ? (gz_rel)((uintptr_t)p - (uintptr_t)field) : 0;
}

struct gz_alias {
	gz_rel text_rel;          /* as written in the file */
	int32_t case_rule;    /* enum gz_case: the rule in force for this form */
	int32_t line, column; /* where it is written */
	int32_t pad;
};

struct gz_entry {
	gz_rel id_rel;
	gz_rel name_rel;               /* canonical name */
	gz_rel type_rel;               /* entity type (shared string) */
	gz_rel attrs_rel;              /* the attrs object as compact JSON text, or none */
	gz_rel aliases_rel;            /* every surface form but the name (struct gz_alias[]) */
	gz_rel file_rel;               /* the file it came from */
	double priority;
	uint32_t alias_count;
	int32_t type_index;        /* index into the set's types */
	int32_t name_case;         /* enum gz_case */
	int32_t name_line, name_column; /* where the name is written */
	/* Context (SPEC §8): region ids (gz_set_region) of attrs.country and
	 * attrs.admin1, and of the entry's own id when some entry's country or
	 * admin1 names it; 0 for none. */
	uint32_t country, admin1, id_region;
	int32_t line, column;      /* where its mapping starts */
	int32_t id_line, id_column; /* where its id is */
	uint32_t order;            /* load order, 0-based */
	uint8_t evidence_required; /* `evidence: required` */
	uint8_t common_words_skip; /* its file says `common_words: skip` */
	uint8_t pad[2];
};

static inline const char *gz_entry_id(const struct gz_entry *e) { return gz_rel_get(&e->id_rel); }
static inline const char *gz_entry_name(const struct gz_entry *e)
{
	return gz_rel_get(&e->name_rel);
}
static inline const char *gz_entry_type(const struct gz_entry *e)
{
	return gz_rel_get(&e->type_rel);
}
static inline const char *gz_entry_attrs(const struct gz_entry *e)
{
	return gz_rel_get(&e->attrs_rel);
}
static inline const char *gz_entry_file(const struct gz_entry *e)
{
	return gz_rel_get(&e->file_rel);
}
static inline const struct gz_alias *gz_entry_aliases(const struct gz_entry *e)
{
	return gz_rel_get(&e->aliases_rel);
}
static inline const char *gz_alias_text(const struct gz_alias *a)
{
	return gz_rel_get(&a->text_rel);
}
/* Surface form k of an entry: 0 its name, k its alias k - 1. */
static inline const char *gz_entry_form(const struct gz_entry *e, size_t k)
{
	return k ? gz_alias_text(&gz_entry_aliases(e)[k - 1]) : gz_entry_name(e);
}

struct gz_file_info {
	const char *path;
	const char *type;          /* the file's `type:` */
	size_t entries, names;
};

/* Loads every path (a directory: its *.yaml and *.yml files sorted by name,
 * not recursing; a file: that file) and builds the trie.  Every problem
 * found is added to diag (which may be NULL) as "FILE:LINE:COL: message";
 * loading goes on after an error so that all are reported.  Returns 0 and
 * sets *out, or GZ_ELOAD (with err's message summarising the first error)
 * and leaves *out NULL.  The caller owns the returned reference. */
int gz_set_load(const char *const *paths, size_t npaths, struct gz_diag *diag,
		struct gz_set **out, struct gz_error *err);

/* How many threads gz_set_load reads files with, for the whole process:
 * 0 (the default) one per online core; at most GZ_SET_MAX_LOAD_THREADS. */
#define GZ_SET_MAX_LOAD_THREADS 8
void gz_set_load_threads(unsigned n);

/* Reference counting: atomic, safe from any thread. */
struct gz_set *gz_set_ref(struct gz_set *set);
void gz_set_unref(struct gz_set *set);

size_t gz_set_entry_count(const struct gz_set *set);
size_t gz_set_name_count(const struct gz_set *set);  /* distinct (entry, folded form) names */
const struct gz_entry *gz_set_entry(const struct gz_set *set, size_t i);
const struct gz_entry *gz_set_find(const struct gz_set *set, const char *id);

size_t gz_set_file_count(const struct gz_set *set);
const struct gz_file_info *gz_set_file(const struct gz_set *set, size_t i);

/* The strings of attrs.country and attrs.admin1, interned: id 1 .. count
 * (0 is "none"). */
size_t gz_set_region_count(const struct gz_set *set);
const char *gz_set_region(const struct gz_set *set, uint32_t id);

size_t gz_set_type_count(const struct gz_set *set);
const char *gz_set_type(const struct gz_set *set, size_t i);
int gz_set_type_index(const struct gz_set *set, const char *type); /* -1 if unknown */

/* Wall-clock time the set finished loading, and how long the load took. */
struct timespec gz_set_loaded_at(const struct gz_set *set);
double gz_set_load_seconds(const struct gz_set *set);

/* The content hash of the files the set was loaded from (issue 15): 32
 * lowercase hex digits, XXH3-128 over, in load order, each file's length
 * (8 bytes little-endian) and the XXH3-128 of its bytes (16 bytes,
 * canonical).  Paths take no part.  Shown by /health, /gazetteers,
 * /metrics and every /tag answer; valid as long as the set.  A set mapped
 * from a snapshot has the hash of the files the snapshot was built from. */
const char *gz_set_hash(const struct gz_set *set);

/* GET /lookup (SPEC §8.6): every surface form of every entry that folds to
 * text as a match would (case rules aside), in the order the tagger ranks
 * them (priority, then load order).  Calls fn for each; a negative return
 * from fn stops and is returned.  Returns the number of forms, or
 * GZ_ENOMEM. */
struct gz_lookup_hit {
	const struct gz_entry *entry;
	const char *form;   /* the name or alias as written */
	int case_rule;      /* enum gz_case */
	int line;           /* where the form is written in entry->file */
};
int gz_set_lookup(const struct gz_set *set, const char *text,
		  int (*fn)(void *cls, const struct gz_lookup_hit *hit), void *cls);

/* Bytes held by the set's trie and tables (an estimate for /health and bench). */
size_t gz_set_memory(const struct gz_set *set);

#endif
