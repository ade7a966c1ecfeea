/*
 * What a daemon learnt by reading a file whole, remembered in its cache
 * directory so that a restart on the same unchanged file need not read it
 * again: that a snapshot passed its full check (so a restart checks its
 * header alone), and a YAML file's digest (the cache key's).  Checking
 * every byte of a snapshot, or hashing the YAML it was built from, reads
 * gigabytes at the size of the GeoNames dump: seconds, most of a restart,
 * for the answer of last time when the file is the same.
 *
 * A record names the file by device and inode and holds what changes when
 * anything writes it: its size, mtime and ctime, and the header's checksum
 * and content hash.  The ctime is the kernel's, set at every write, rename,
 * chmod or utimensat and settable by no user, so a file changed since its
 * check, even to the same size and mtime, has another.  Two writes within
 * one tick of the kernel's clock share a ctime: a file changed less than
 * GZ_CHECKED_QUIET_MS before its check is not recorded, and checked in full
 * again next time.  A record is written by the daemon in a directory of its
 * own; a snapshot from elsewhere, or named anew, is checked in full first.
 */
#ifndef GZ_CHECKED_H
#define GZ_CHECKED_H

#include <stdint.h>
#include <sys/stat.h>

#define GZ_CHECKED_QUIET_MS 50

/* The records kept: the ones used last (the shipped gazetteers, an import
 * of GeoNames in parts and a few snapshots are tens). */
#define GZ_CHECKED_KEEP 256

/* What a record says about a file: for a snapshot, the header fields that
 * must match; for a YAML file, checksum 0 and its digest in hex. */
struct gz_checked {
	uint64_t checksum;
	char hash[40];
};

/* Whether dir holds a record of the file st describes as it is now; *out
 * gets what was checked then.  0 when there is none (or dir is NULL). */
int gz_checked_find(const char *dir, const struct stat *st, struct gz_checked *out);

/* Records that the file st describes (as it was when it was opened, before
 * its check) passed a full check; fd is the same file open, stat-ed again
 * to see that nothing wrote it meanwhile.  Nothing (and 0) when dir is
 * NULL, the file changed too recently or meanwhile, or lies on a file
 * system with no change time that writes set (only Linux's own, NFS and
 * ZFS are trusted for it); -1 and errno when the record cannot be written
 * (the next load checks in full again). */
int gz_checked_note(const char *dir, const struct stat *st, int fd, const struct gz_checked *c);

/* The last time the file st describes was loaded through its record (its
 * record's mtime; st's own mtime when there is none): the cache keeps the
 * snapshots used last. */
struct timespec gz_checked_used(const char *dir, const struct stat *st);

#endif
