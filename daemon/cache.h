/*
 * Opening the gazetteers a daemon or a command names: a snapshot (a single
 * path ending in .gzs) is mapped; YAML is built, through the snapshot cache
 * when there is one.  The cache (config `cache: DIR`) keeps one snapshot per
 * key: the key hashes the snapshot format, this build's record sizes and
 * Unicode version, and every YAML file's path, size and contents, so a
 * restart or a reload of unchanged files maps the snapshot instead of
 * parsing, and any change, or a snapshot that fails its checks, builds
 * from YAML again and replaces it.
 */
#ifndef GZ_CACHE_H
#define GZ_CACHE_H

#include <stddef.h>

#include "error.h"
#include "set.h"

/* How a set was opened, for logs and /health. */
enum gz_open_how {
	GZ_OPEN_YAML,        /* built from YAML, no cache */
	GZ_OPEN_SNAPSHOT,    /* a .gzs named on the command line or in the config */
	GZ_OPEN_CACHE_HIT,   /* mapped from the cache */
	GZ_OPEN_CACHE_MISS,  /* built from YAML; being written to the cache by a
			      * thread of its own, which logs "cache: wrote FILE"
			      * when done */
};

/* gz_set_load's contract (diag gets every YAML problem), plus: paths may
 * be one snapshot; cache_dir (NULL: none) is the cache, which also records
 * the snapshots checked in full (checked.h).  *how (may be NULL) says what
 * happened; for a snapshot, *full (may be NULL) says whether it was checked
 * in full or, unchanged since, by its header.  A cache that cannot be read
 * or written costs a build and a warning in the log, never the load. */
int gz_set_open(const char *const *paths, size_t npaths, const char *cache_dir,
		struct gz_diag *diag, struct gz_set **out, enum gz_open_how *how, int *full,
		struct gz_error *err);

/* The cache key of paths, and the content hash (gz_set_hash) the set they
 * load will have (32 hex digits and a NUL each).  A file's digest is
 * recorded in dir (checked.h, NULL: not), and not read again while the
 * file is unchanged.  0, or -1 when a file cannot be read or listed (the
 * build will say why). */
int gz_cache_key(const char *const *paths, size_t npaths, const char *dir, char key[33],
		 char content[33]);

#endif
