/*
 * The checks of a snapshot image that read its records (snapshot.c reads
 * the header and the section table, and calls these once those are sound:
 * every section inside the file, where its counts say).
 *
 * The full check is one pass over the file cut into its checksum blocks: a
 * job hashes a block and then checks every record that starts in it while
 * the block is in the cache, one job per block on a thread per core.  It
 * reads the whole file, about 4 GB/s on this project's VM; a file recorded
 * as checked before (checked.h) goes through the whole-file checks alone,
 * which read a few words.
 */
#ifndef GZ_SNAPSHOT_CHECK_H
#define GZ_SNAPSHOT_CHECK_H

#include <stddef.h>

#include "error.h"
#include "snapshot_format.h"

/* The checksum and every record of the image at base (len bytes), then
 * gz_snapshot_check_whole.  0, or GZ_ELOAD with err's message naming the
 * file (name) and the first problem a pass in file order meets. */
int gz_snapshot_check_records(const char *name, const struct gz_snapshot_header *h,
			      const char *base, size_t len, struct gz_error *err);

/* The checks that read no records: the strings section's final NUL, the
 * trie's table sizes and the ends of its payload ranges. */
int gz_snapshot_check_whole(const char *name, const struct gz_snapshot_header *h, const char *base,
			    struct gz_error *err);

#endif
