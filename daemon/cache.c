/*
 * Opening gazetteers, and the snapshot cache; see cache.h.
 */
#include "cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utf8proc.h>
#include <xxhash.h>

#include "checked.h"
#include "log.h"
#include "set_internal.h"
#include "snapshot.h"

/* How many snapshots the cache keeps: the one in service and the one
 * before it (a reload that goes back to yesterday's files maps it). */
#define CACHE_KEEP 2

static void hash_str(XXH3_state_t *st, const char *s)
{
	XXH3_128bits_update(st, s, strlen(s) + 1);
}

static int digest_from_hex(const char *hex, unsigned char digest[16])
{
	if (strlen(hex) != 32)
		return -1;
	for (int i = 0; i < 16; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		digest[i] = (unsigned char)v;
	}
	return 0;
}

int gz_cache_key(const char *const *paths, size_t npaths, const char *dir, char key[33],
		 char content[33])
{
	char **files = NULL;
	size_t nfiles = 0;
	int problems = 0;
	struct gz_diag diag;
	gz_diag_init(&diag);
	int r = gz_set_list_files(paths, npaths, &files, &nfiles, &diag, &problems);
	gz_diag_clear(&diag);
	uint64_t *lens = malloc((nfiles ? nfiles : 1) * sizeof(*lens));
	unsigned char(*digests)[16] = malloc((nfiles ? nfiles : 1) * sizeof(*digests));
	XXH3_state_t *st = XXH3_createState();
	if (r || problems || !lens || !digests || !st)
		r = -1;
	/* each file's length and XXH3-128, as the load hashes them: read again
	 * only when the file changed since the last time (checked.h; the whole
	 * GeoNames dump is 4 GB of YAML, a second of hashing at every start) */
	for (size_t f = 0; !r && f < nfiles; f++) {
		int fd = open(files[f], O_RDONLY | O_CLOEXEC);
		struct stat sb;
		if (fd < 0 || fstat(fd, &sb)) {
			if (fd >= 0)
				close(fd);
			r = -1;
			break;
		}
		lens[f] = (uint64_t)sb.st_size;
		struct gz_checked known;
		if (gz_checked_find(dir, &sb, &known) && known.checksum == 0 &&
		    digest_from_hex(known.hash, digests[f]) == 0) {
			close(fd);
			continue;
		}
		void *m = lens[f] ? mmap(NULL, lens[f], PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
		if (m == MAP_FAILED) {
			close(fd);
			r = -1;
			break;
		}
		if (m)
			madvise(m, lens[f], MADV_SEQUENTIAL);
		XXH128_canonical_t c;
		XXH128_canonicalFromHash(&c, XXH3_128bits(m ? m : "", lens[f]));
		memcpy(digests[f], c.digest, sizeof c.digest);
		if (m)
			munmap(m, lens[f]);
		known.checksum = 0;
		for (int i = 0; i < 16; i++)
			snprintf(known.hash + 2 * i, 3, "%02x", c.digest[i]);
		gz_checked_note(dir, &sb, fd, &known); /* not recorded: hashed next time */
		close(fd);
	}
	if (!r)
		r = gz_content_hash(lens, (const unsigned char(*)[16])digests, nfiles, content) ? -1 : 0;
	/* the key: the format, this build, the paths and the content hash */
	if (!r) {
		char fmt[96];
		snprintf(fmt, sizeof fmt, "gaztag snapshot %u %zu %zu %s", GZ_SNAPSHOT_VERSION,
			 sizeof(struct gz_entry), sizeof(struct gz_name), utf8proc_unicode_version());
		XXH3_128bits_reset(st);
		hash_str(st, fmt);
		for (size_t f = 0; f < nfiles; f++)
			hash_str(st, files[f]);
		hash_str(st, content);
		XXH128_hash_t h = XXH3_128bits_digest(st);
		snprintf(key, 33, "%016llx%016llx", (unsigned long long)h.high64,
			 (unsigned long long)h.low64);
	}
	XXH3_freeState(st);
	free(lens);
	free(digests);
	for (size_t f = 0; f < nfiles; f++)
		free(files[f]);
	free(files);
	return r;
}

/* Removes the cache's snapshots but the CACHE_KEEP used last (a hit
 * touches the file's record of its check, not the file: that would change
 * its ctime, and the record with it). */
struct cached {
	char name[40];
	struct timespec mtime;
};

static int newer_first(const void *a, const void *b)
{
	const struct timespec *x = &((const struct cached *)a)->mtime;
	const struct timespec *y = &((const struct cached *)b)->mtime;
	if (x->tv_sec != y->tv_sec)
		return x->tv_sec > y->tv_sec ? -1 : 1;
	return x->tv_nsec > y->tv_nsec ? -1 : x->tv_nsec < y->tv_nsec;
}

static void cache_trim(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct cached *list = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		struct stat sb;
		/* a write that its daemon never finished (stopped while it
		 * wrote): KEY.gzs.tmp.PID of a process that is gone */
		const char *tmp = strstr(de->d_name, GZ_SNAPSHOT_SUFFIX ".tmp.");
		if (tmp && tmp - de->d_name == 32) {
			long pid = strtol(tmp + strlen(GZ_SNAPSHOT_SUFFIX ".tmp."), NULL, 10);
			if (pid > 0 && pid != (long)getpid() && kill((pid_t)pid, 0) && errno == ESRCH &&
			    unlinkat(dirfd(d), de->d_name, 0) == 0)
				gz_log(GZ_LOG_INFO, "cache: removed %s/%s, left by a stopped daemon", dir,
				       de->d_name);
			continue;
		}
		/* only what the cache itself names: KEY.gzs */
		if (!gz_snapshot_path(de->d_name) || strlen(de->d_name) != 32 + 4 ||
		    fstatat(dirfd(d), de->d_name, &sb, 0) || !S_ISREG(sb.st_mode))
			continue;
		if (n == cap) {
			struct cached *l = realloc(list, (cap = cap ? cap * 2 : 8) * sizeof(*l));
			if (!l)
				break;
			list = l;
		}
		/* 36 characters and the NUL, checked above (memcpy: snprintf of a
		 * d_name trips -Wformat-truncation at -O0) */
		memcpy(list[n].name, de->d_name, 32 + 4 + 1);
		list[n++].mtime = gz_checked_used(dir, &sb);
	}
	qsort(list, n, sizeof(*list), newer_first);
	for (size_t i = CACHE_KEEP; i < n; i++)
		if (unlinkat(dirfd(d), list[i].name, 0) == 0)
			gz_log(GZ_LOG_INFO, "cache: removed the old snapshot %s/%s", dir, list[i].name);
	free(list);
	closedir(d);
}

/* Writing a set to the cache, after it went into service: a snapshot of
 * millions of names is a GB, seconds of writing and fsync that neither a
 * start nor a reload should wait for.  One write at a time (two reloads
 * close together would write the same temporary file).  The write replaces
 * a file of the same key: one that failed its checks, or one a second
 * daemon on the same cache wrote meanwhile (the same bytes). */
struct cache_write {
	struct gz_set *set;      /* a reference, dropped when written */
	char *dir, *file;
	char key[33];
};

static pthread_mutex_t cache_write_lock = PTHREAD_MUTEX_INITIALIZER;

static void cache_write_now(struct cache_write *w)
{
	pthread_mutex_lock(&cache_write_lock);
	struct gz_error e = { 0 };
	if (mkdir(w->dir, 0755) && errno != EEXIST)
		gz_log(GZ_LOG_WARN, "cache: cannot create %s: %s", w->dir, strerror(errno));
	else if (gz_snapshot_write(w->set, w->file, w->key, &e))
		gz_log(GZ_LOG_WARN, "cache: %s", e.message);
	else {
		cache_trim(w->dir); /* first: once "wrote" is logged, the cache is as it stays */
		gz_log(GZ_LOG_INFO, "cache: wrote %s", w->file);
	}
	pthread_mutex_unlock(&cache_write_lock);
	gz_set_unref(w->set);
	free(w->dir);
	free(w->file);
	free(w);
}

static void *cache_writer(void *arg)
{
	cache_write_now(arg);
	return NULL;
}

/* Hands set to a thread that writes it to file (taking a reference);
 * written here and now when no thread can start. */
static void cache_write_later(struct gz_set *set, const char *dir, const char *file,
			      const char *key)
{
	struct cache_write *w = calloc(1, sizeof(*w));
	if (!w || !(w->dir = strdup(dir)) || !(w->file = strdup(file))) {
		if (w)
			free(w->dir);
		free(w);
		gz_log(GZ_LOG_WARN, "cache: out of memory; not cached");
		return;
	}
	w->set = gz_set_ref(set);
	memcpy(w->key, key, sizeof w->key);
	pthread_attr_t attr;
	pthread_t tid;
	int started = pthread_attr_init(&attr) == 0;
	if (started) {
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		started = pthread_create(&tid, &attr, cache_writer, w) == 0;
		pthread_attr_destroy(&attr);
	}
	if (!started)
		cache_write_now(w);
}

/* errno says why */
static void unrecorded(const char *file, const char *dir)
{
	gz_log(GZ_LOG_WARN, "cache: cannot record in %s that %s passed its full check (%s): the "
	       "next start checks it in full again", dir, file, strerror(errno));
}

int gz_set_open(const char *const *paths, size_t npaths, const char *cache_dir,
		struct gz_diag *diag, struct gz_set **out, enum gz_open_how *how, int *full,
		struct gz_error *err)
{
	enum gz_open_how local;
	int local_full;
	if (!how)
		how = &local;
	if (!full)
		full = &local_full;
	*full = GZ_SNAPSHOT_FULL;
	*out = NULL;
	size_t snapshots = 0;
	for (size_t i = 0; i < npaths; i++)
		snapshots += gz_snapshot_path(paths[i]);
	if (snapshots) {
		if (npaths != 1) {
			gz_diag_add(diag, paths[0], 0, 0, "a snapshot (.gzs) is loaded alone, not "
				    "with other gazetteers: compile them all into one");
			return gz_error_set(err, GZ_ELOAD, "a snapshot (.gzs) is loaded alone");
		}
		*how = GZ_OPEN_SNAPSHOT;
		int r = gz_snapshot_load(paths[0], NULL, cache_dir, out, full, err);
		if (r)
			gz_diag_add(diag, NULL, 0, 0, "%s", err->message);
		else if (*full == GZ_SNAPSHOT_UNRECORDED)
			unrecorded(paths[0], cache_dir);
		return r;
	}
	*how = GZ_OPEN_YAML;
	char key[33], content[33], *file = NULL;
	if (cache_dir && gz_cache_key(paths, npaths, cache_dir, key, content) == 0) {
		size_t len = strlen(cache_dir) + 40;
		if ((file = malloc(len))) {
			snprintf(file, len, "%s/%s%s", cache_dir, key, GZ_SNAPSHOT_SUFFIX);
			struct gz_error e = { 0 };
			if (access(file, F_OK) == 0) {
				if (gz_snapshot_load(file, key, cache_dir, out, full, &e) == 0) {
					if (*full == GZ_SNAPSHOT_UNRECORDED)
						unrecorded(file, cache_dir);
					*how = GZ_OPEN_CACHE_HIT;
					free(file);
					return 0;
				}
				gz_log(GZ_LOG_WARN, "cache: %s; building from YAML again", e.message);
			}
		}
	}
	int r = gz_set_load(paths, npaths, diag, out, err);
	if (r == 0 && file) {
		/* a file that changed between the key's read and the load's: the
		 * set is not what the key says, so it is not cached (the next load
		 * builds again) */
		if (strcmp(gz_set_hash(*out), content))
			gz_log(GZ_LOG_WARN, "cache: the gazetteers changed while they were read; "
			       "not cached");
		else {
			*how = GZ_OPEN_CACHE_MISS;
			cache_write_later(*out, cache_dir, file, key);
		}
	}
	free(file);
	return r;
}
