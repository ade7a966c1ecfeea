/*
 * Gazetteer files (SPEC §2): one YAML file -> its entries, exactly as
 * written, validated.  yaml_reader.c reads libyaml's events into a small
 * tree that keeps every node's line and column (anchors and aliases refused
 * at the event level, so no expansion can happen; nesting depth and scalar
 * size bounded); gazetteer.c walks that tree, checks each key and value and
 * reports every problem as FILE:LINE:COL: message; attrs.c writes an
 * entry's attrs as compact JSON.
 */
#ifndef GZ_GAZETTEER_H
#define GZ_GAZETTEER_H

#include <stddef.h>

#include "error.h"

/* A name's case rule (SPEC §3.3, §8.1). */
enum gz_case {
	GZ_CASE_INSENSITIVE = 0,
	GZ_CASE_SENSITIVE = 1,
	GZ_CASE_PROPER = 2,      /* capitalised tokens of the name need capitals */
};

struct gz_raw_alias {
	char *text;
	int case_rule;           /* enum gz_case */
	int case_inherited;            /* no case of its own: the entry's rule */
	int line, column;
};

struct gz_raw_entry {
	char *id, *name, *type;
	int name_case;                 /* enum gz_case */
	int case_inherited;            /* no case of its own: the file's rule */
	double priority;
	int priority_inherited;        /* no priority of its own: the file's (or 0) */
	int evidence_required;         /* `evidence: required` (SPEC §8.2) */
	char *attrs;                   /* the attrs mapping as compact JSON text, or NULL */
	char *country, *admin1;        /* attrs.country and attrs.admin1 when strings */
	struct gz_raw_alias *aliases;
	size_t alias_count;
	int line, column;              /* the entry's mapping */
	int id_line, id_column;
	int name_line, name_column;
};

/* Every entry's id as written, valid entry or not, so that a duplicate id
 * is reported even when one of the two entries has another problem. */
struct gz_id_ref {
	const char *id;    /* owned by the gazetteer */
	int line, column;
};

struct gz_gazetteer {
	char *path;
	char *type;
	int common_words_skip;   /* `common_words: skip` (SPEC §8.2) */
	struct gz_raw_entry *entries;
	size_t count;
	size_t cap;        /* of entries, ids and id_strings: big arrays (bigmem.h) */
	struct gz_id_ref *ids;
	size_t id_count;
	char **id_strings; /* ids of invalid entries, kept for ids[] */
	size_t id_string_count;
	/* The blocks that hold the entries' strings and alias arrays, freed
	 * together by gz_gazetteer_free (an entry's fields are not freed one by
	 * one). */
	struct gz_strings *strings;
	/* The file's bytes as read by gz_gazetteer_load[_threads] (zero from
	 * gz_gazetteer_parse): their length, and their XXH3-128 in canonical
	 * (big-endian) form, hashed on the thread that read the file.  set.c
	 * combines them into the set's content hash. */
	size_t content_len;
	unsigned char content_hash[16];
};

/* The largest file read (the other limits that keep a hostile file's
 * memory bounded are yaml_reader.h's). */
#define GZ_YAML_MAX_FILE (512u << 20)

/* Parses path.  Every problem goes to diag; returns the number of problems
 * (0: *out is set and complete) or GZ_ENOMEM.  On problems *out may still be
 * set with the entries that were valid, so that later checks (duplicate ids)
 * can run; the caller frees it either way. */
int gz_gazetteer_load(const char *path, struct gz_gazetteer **out, struct gz_diag *diag);

/* Same, from a buffer; path names it in messages. */
int gz_gazetteer_parse(const char *path, const char *buf, size_t len,
		       struct gz_gazetteer **out, struct gz_diag *diag);

/* The most threads one file is read with. */
#define GZ_GAZETTEER_MAX_THREADS 16

/* gz_gazetteer_load and _parse with up to threads threads (1: this one): a
 * big file of the importer's shape (the file's keys, then `entries:` to the
 * end) is read in pieces at once.  Results, problems and their order are
 * those of the one-thread read: a file with any problem is read again whole
 * to report them. */
int gz_gazetteer_load_threads(const char *path, unsigned threads, struct gz_gazetteer **out,
			      struct gz_diag *diag);
int gz_gazetteer_parse_threads(const char *path, const char *buf, size_t len, unsigned threads,
			       struct gz_gazetteer **out, struct gz_diag *diag);

/* How many files this process read in pieces (for tests). */
unsigned long gz_gazetteer_chunked_reads(void);

void gz_gazetteer_free(struct gz_gazetteer *g);

/* "insensitive", "sensitive" or "proper". */
const char *gz_case_name(int rule);

/* Whether a name holds at least one letter or digit (SPEC §2). */
int gz_name_has_word(const char *s);

#endif
