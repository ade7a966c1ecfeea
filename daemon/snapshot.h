/*
 * Snapshots (issue 15): a built gazetteer set written to one file that is
 * mapped again with no parse and no allocation per entry.  The file is
 * position-independent (entries point at their strings by self-relative
 * offsets, everything else by indices), so any number of processes map one
 * copy of it.  A file carries a magic, a format version, the record sizes of
 * the machine that wrote it, the content hash of the gazetteer files it was
 * built from, an optional cache key and a checksum of every byte; reading
 * checks all of them and then every index and offset in it before the set
 * is used, so that a truncated, corrupted or hostile file is an error, never
 * a crash.  That reads the whole file; a file that passed it, recorded in
 * the cache directory and unchanged since (checked.h), has its header
 * checked alone.
 */
#ifndef GZ_SNAPSHOT_H
#define GZ_SNAPSHOT_H

#include <stddef.h>

#include "error.h"
#include "set.h"

#define GZ_SNAPSHOT_VERSION 2u
#define GZ_SNAPSHOT_SUFFIX ".gzs"

/* Whether path names a snapshot (ends in GZ_SNAPSHOT_SUFFIX). */
int gz_snapshot_path(const char *path);

/* Writes set to path: to a temporary file beside it, renamed over path once
 * complete, so that a reader never maps half a file.  key (NULL: none) is
 * the cache key, 32 hex characters.  0 or GZ_EIO/GZ_ENOMEM with err set. */
int gz_snapshot_write(const struct gz_set *set, const char *path, const char *key,
		      struct gz_error *err);

/* How much of a snapshot gz_snapshot_load checked. */
enum {
	GZ_SNAPSHOT_HEADER = 0,     /* recorded unchanged since its full check */
	GZ_SNAPSHOT_FULL = 1,       /* every byte (and recorded, if it could be) */
	GZ_SNAPSHOT_UNRECORDED = 2, /* every byte; the record could not be
				     * written (errno says why) */
};

/* Maps path and checks it.  want_key (NULL: any) must equal the file's key.
 * record_dir (NULL: none) is where the files checked in full are recorded
 * (checked.h): a file recorded there unchanged has its header checked, not
 * its every byte, and a file checked in full here is recorded.  *full (may
 * be NULL) says which it was (GZ_SNAPSHOT_*).  0 and *out (the caller's
 * reference), or GZ_ELOAD with err's message naming the file and the
 * problem. */
int gz_snapshot_load(const char *path, const char *want_key, const char *record_dir,
		     struct gz_set **out, int *full, struct gz_error *err);

/* The same over a buffer the set then borrows (it must outlive the set):
 * for the fuzzer and tests. */
int gz_snapshot_read(const char *name, const void *buf, size_t len, const char *want_key,
		     struct gz_set **out, struct gz_error *err);

/* gz_snapshot_read of a copy of the image that from (a set loaded from a
 * snapshot) maps: the records are not checked again when its header is
 * from's. */
int gz_snapshot_read_copy(const char *name, const void *buf, size_t len,
			  const struct gz_set *from, struct gz_set **out, struct gz_error *err);

/* The checksum field of a snapshot image and the value it should hold (for
 * the fuzzer, which repairs it to reach the checks behind it). */
size_t gz_snapshot_checksum_offset(void);
unsigned long long gz_snapshot_checksum(const void *buf, size_t len);

#endif
