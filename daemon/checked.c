/*
 * Records of files read whole; see checked.h.
 *
 * One small text file per file, DIR/checked/DEV-INO, written to a
 * temporary name and renamed (two daemons on one cache write the same
 * bytes).  Its mtime says when the file was last used; the oldest records
 * beyond GZ_CHECKED_KEEP are removed when one is written.
 */
#include "checked.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#define SUBDIR "checked"
#define FIRST_LINE "gaztag checked 1\n"

static void record_path(char *out, size_t size, const char *dir, const struct stat *st)
{
	snprintf(out, size, "%s/" SUBDIR "/%" PRIx64 "-%" PRIx64, dir, (uint64_t)st->st_dev,
		 (uint64_t)st->st_ino);
}

/* The line that describes a file as st has it, with c's fields. */
static void record_line(char *out, size_t size, const struct stat *st, const struct gz_checked *c)
{
	snprintf(out, size, FIRST_LINE "%" PRIu64 " %" PRIu64 " %lld %lld.%09ld %lld.%09ld %016" PRIx64
		 " %.39s\n", (uint64_t)st->st_dev, (uint64_t)st->st_ino, (long long)st->st_size,
		 (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec, (long long)st->st_ctim.tv_sec,
		 st->st_ctim.tv_nsec, c->checksum, c->hash);
}

int gz_checked_find(const char *dir, const struct stat *st, struct gz_checked *out)
{
	if (!dir)
		return 0;
	char path[4096], got[256], want[256];
	record_path(path, sizeof path, dir, st);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, got, sizeof got - 1);
	close(fd);
	if (n <= 0)
		return 0;
	got[n] = '\0';
	/* the record's checksum and hash, then the whole line compared with
	 * the one this file would have */
	const char *line = strchr(got, '\n');
	struct gz_checked c = { 0 };
	char hash[64];
	if (!line || sscanf(line + 1, "%*s %*s %*s %*s %*s %" SCNx64 " %63s", &c.checksum, hash) != 2 ||
	    strlen(hash) >= sizeof c.hash)
		return 0;
	memcpy(c.hash, hash, strlen(hash) + 1);
	record_line(want, sizeof want, st, &c);
	if (strcmp(got, want) != 0)
		return 0;
	utimensat(AT_FDCWD, path, NULL, 0); /* used now */
	*out = c;
	return 1;
}

static double ms_between(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

struct record {
	char name[64];
	struct timespec mtime;
};

static int newer_first(const void *a, const void *b)
{
	const struct timespec *x = &((const struct record *)a)->mtime;
	const struct timespec *y = &((const struct record *)b)->mtime;
	if (x->tv_sec != y->tv_sec)
		return x->tv_sec > y->tv_sec ? -1 : 1;
	return x->tv_nsec > y->tv_nsec ? -1 : x->tv_nsec < y->tv_nsec;
}

/* Removes the records but the GZ_CHECKED_KEEP used last. */
static void trim(const char *dir)
{
	char sub[4096];
	snprintf(sub, sizeof sub, "%s/" SUBDIR, dir);
	DIR *d = opendir(sub);
	if (!d)
		return;
	struct record *list = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		struct stat sb;
		if (de->d_name[0] == '.' || strchr(de->d_name, '.') ||
		    strlen(de->d_name) >= sizeof list->name ||
		    fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) || !S_ISREG(sb.st_mode))
			continue;
		if (n == cap) {
			struct record *l = realloc(list, (cap = cap ? cap * 2 : 16) * sizeof(*l));
			if (!l)
				break;
			list = l;
		}
		memcpy(list[n].name, de->d_name, strlen(de->d_name) + 1);
		list[n++].mtime = sb.st_mtim;
	}
	qsort(list, n, sizeof(*list), newer_first);
	for (size_t i = GZ_CHECKED_KEEP; i < n; i++)
		unlinkat(dirfd(d), list[i].name, 0);
	free(list);
	closedir(d);
}

/* Whether fd's file system keeps a change time that every write sets (not
 * FAT's, for one, whose "ctime" is the creation time): Linux's own, and
 * NFS, whose server's is. */
#define ZFS_SUPER_MAGIC 0x2fc12fc1
static int keeps_ctime(int fd)
{
	struct statfs fs;
	if (fstatfs(fd, &fs))
		return 0;
	switch ((unsigned long)fs.f_type) {
	case EXT4_SUPER_MAGIC: /* ext2 and ext3 too */
	case XFS_SUPER_MAGIC:
	case BTRFS_SUPER_MAGIC:
	case F2FS_SUPER_MAGIC:
	case TMPFS_MAGIC:
	case OVERLAYFS_SUPER_MAGIC:
	case NFS_SUPER_MAGIC:
	case ZFS_SUPER_MAGIC:
		return 1;
	default:
		return 0;
	}
}

int gz_checked_note(const char *dir, const struct stat *st, int fd, const struct gz_checked *c)
{
	struct stat now_st;
	struct timespec now;
	if (!dir || !keeps_ctime(fd) || fstat(fd, &now_st) || !same_file(st, &now_st) ||
	    clock_gettime(CLOCK_REALTIME, &now) || ms_between(&st->st_ctim, &now) < GZ_CHECKED_QUIET_MS)
		return 0;
	char path[4096], tmp[4200], line[256];
	snprintf(path, sizeof path, "%s/" SUBDIR, dir);
	if ((mkdir(dir, 0755) && errno != EEXIST) || (mkdir(path, 0755) && errno != EEXIST))
		return -1;
	record_path(path, sizeof path, dir, st);
	snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
	record_line(line, sizeof line, st, c);
	int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0)
		return -1;
	size_t len = strlen(line);
	ssize_t n = write(out, line, len);
	int e = n < 0 ? errno : ENOSPC;
	if (close(out) && n == (ssize_t)len)
		e = errno, n = -1;
	if (n != (ssize_t)len || rename(tmp, path)) {
		if (n == (ssize_t)len)
			e = errno;
		unlink(tmp);
		errno = e;
		return -1;
	}
	trim(dir);
	return 0;
}

struct timespec gz_checked_used(const char *dir, const struct stat *st)
{
	char path[4096];
	struct stat sb;
	record_path(path, sizeof path, dir, st);
	if (stat(path, &sb) == 0 && newer_first(&(struct record){ .mtime = sb.st_mtim },
						&(struct record){ .mtime = st->st_mtim }) < 0)
		return sb.st_mtim;
	return st->st_mtim;
}
