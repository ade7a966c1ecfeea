/*
 * The set in service and its builder thread (see reload.h for the design).
 *
 * Two locks with two jobs: `lock` guards the pointer, the status and the
 * request counters, and is held for a few instructions (never across a
 * load or a free); `build` serialises loads, so that the first load at start
 * (on the main thread) and the builder never load at once.  A request taking
 * `lock` never waits behind a build.
 *
 * Coalescing is two counters: `requested` counts triggers, `started` is the
 * value of `requested` when the build under way (or the last one) began.  A
 * build started at `started` read the files after every trigger up to it,
 * so it answers them all; triggers past it (requested > started) need one
 * more build, however many they are.  A waiter's ticket is the value of
 * `requested` after its own trigger, and it is answered by the first build
 * whose `started` reaches it.
 */
#include "reload.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cache.h"
#include "config.h" /* gz_uint_parse */
#include "log.h"
#include "set_internal.h"
#include "snapshot.h"

/* The problems of a failed reload kept for /health: enough to fix a file,
 * bounded so that a file with a million broken lines does not pin them. */
#define GZ_KEEP_ERRORS 100

struct gz_reloader {
	pthread_mutex_t lock;   /* set, status, counters, waiters, errors */
	pthread_mutex_t build;  /* one load at a time */
	pthread_cond_t wake;    /* the builder: a request, or stop */
	struct gz_set *set;
	struct gz_reload_status status;
	struct gz_diag errors;  /* the last failed reload's first problems */
	uint64_t requested, started;
	unsigned pending_why;   /* enum gz_reload_trigger bits since `started` */
	struct gz_reload_waiter *waiters;
	pthread_t thread;
	int running, stopping;
	struct timespec test_build_delay; /* GAZTAGD_TEST_BUILD_DELAY_MS */
	char **paths;
	size_t npaths;
	char *cache;            /* the snapshot cache directory, or NULL */
	int lease_fd;           /* the served snapshot's file, leased; or -1 */
};

/* ------------------------------------------------------------------ */
/* private helpers                                                     */
/* ------------------------------------------------------------------ */

static int diag_push(struct gz_diag *d, const char *line)
{
	if (d->count == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;
		char **lines = realloc(d->lines, cap * sizeof(*lines));
		if (!lines)
			return -1;
		d->lines = lines;
		d->cap = cap;
	}
	if (!(d->lines[d->count] = strdup(line)))
		return -1;
	d->count++;
	return 0;
}

static void diag_copy(struct gz_diag *to, const struct gz_diag *from, size_t max)
{
	for (size_t i = 0; i < from->count && i < max; i++)
		if (diag_push(to, from->lines[i]))
			return;
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* "SIGHUP, POST /reload" for the log. */
static const char *why_text(unsigned why, char *buf, size_t size)
{
	static const struct { unsigned bit; const char *name; } names[] = {
		{ GZ_RELOAD_SIGHUP, "SIGHUP" },
		{ GZ_RELOAD_HTTP, "POST /reload" },
		{ GZ_RELOAD_WATCH, "file change" },
	};
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (why & names[i].bit)
			n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "%s%s",
					      n ? ", " : "", names[i].name);
		if (n >= size)
			break;
	}
	return buf;
}

/* ------------------------------------------------------------ leases */

/* Called with `build` held, as every function that touches lease_fd. */
static void lease_drop(struct gz_reloader *r)
{
	if (r->lease_fd < 0)
		return;
	fcntl(r->lease_fd, F_SETLEASE, F_UNLCK);
	close(r->lease_fd);
	r->lease_fd = -1;
}

static void lease_take(struct gz_reloader *r, const char *path)
{
	lease_drop(r);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return; /* gone since it was mapped: nothing to protect */
	if (fcntl(fd, F_SETSIG, GZ_LEASE_SIGNAL) || fcntl(fd, F_SETOWN, getpid()) ||
	    fcntl(fd, F_SETLEASE, F_RDLCK)) {
		gz_log(GZ_LOG_WARN, "%s: cannot lease it (%s): replace it by renaming a new file "
		       "over it; writing over it in place would stop gaztagd", path, strerror(errno));
		close(fd);
		return;
	}
	r->lease_fd = fd;
}

void gz_reloader_lease_broken(struct gz_reloader *r)
{
	pthread_mutex_lock(&r->build);
	if (r->lease_fd < 0) { /* dropped meanwhile: a reload went first */
		pthread_mutex_unlock(&r->build);
		return;
	}
	const char *path = r->paths[0];
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct gz_set *old = gz_reloader_acquire(r), *set = NULL;
	size_t len = 0;
	const void *map = old ? gz_set_map(old, &len) : NULL;
	struct gz_error err = { 0 };
	/* the writer waits in its open(): the file is still whole */
	void *copy = map && len ? mmap(NULL, len, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) : MAP_FAILED;
	if (copy != MAP_FAILED) {
		memcpy(copy, map, len);
		if (gz_snapshot_read_copy(path, copy, len, old, &set, &err) == 0)
			gz_set_hand_over_map(set, copy, len, seconds_since(&t0));
		else
			munmap(copy, len);
	}
	if (set) {
		gz_reloader_swap(r, set);
		gz_log(GZ_LOG_WARN, "%s is being written over in place: serving a copy of it in "
		       "memory (made in %.3f s) until the next reload", path, seconds_since(&t0));
		/* the requests that took the mapped set before the swap */
		for (unsigned ms = 0; gz_set_refs(old) > 1 && ms < GZ_LEASE_WAIT_MS; ms++)
			nanosleep(&(struct timespec){ 0, 1000000L }, NULL);
		if (gz_set_refs(old) > 1)
			gz_log(GZ_LOG_WARN, "%s: requests still read it after %u ms; letting the "
			       "writer go", path, GZ_LEASE_WAIT_MS);
	} else {
		gz_log(GZ_LOG_ERROR, "%s is being written over in place and could not be copied "
		       "(%s); requests reading it may fail", path,
		       copy == MAP_FAILED ? strerror(errno) : err.message);
	}
	gz_set_unref(old); /* the last reference: unmapped */
	lease_drop(r);
	pthread_mutex_unlock(&r->build);
}

/* Loads the paths and, when every file loaded, swaps the new set in; in
 * any case records the outcome in the status.  Fills o (whose diag gets
 * every problem).  Called with `build` held and `lock` not. */
static void build_and_swap(struct gz_reloader *r, struct gz_reload_outcome *o)
{
	struct gz_set *set = NULL;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	enum gz_open_how how;
	int full;
	o->rc = gz_set_open((const char *const *)r->paths, r->npaths, r->cache, &o->diag, &set,
			    &how, &full, &o->err);
	if (!o->rc && how != GZ_OPEN_YAML)
		gz_log(GZ_LOG_INFO, "gazetteers %s in %.3f s%s",
		       how == GZ_OPEN_SNAPSHOT ? "mapped from their snapshot"
		       : how == GZ_OPEN_CACHE_HIT ? "mapped from the cache"
		       : "built from YAML (writing it to the cache)", seconds_since(&t0),
		       how == GZ_OPEN_CACHE_MISS ? ""
		       : full != GZ_SNAPSHOT_HEADER ? " (every byte checked)"
		       : " (its header checked: the file is unchanged since its full check)");
	o->seconds = seconds_since(&t0);
	if (r->test_build_delay.tv_sec || r->test_build_delay.tv_nsec)
		nanosleep(&r->test_build_delay, NULL);
	if (!o->rc) {
		o->entries = gz_set_entry_count(set);
		o->names = gz_set_name_count(set);
		o->files = gz_set_file_count(set);
		memcpy(o->hash, gz_set_hash(set), sizeof o->hash);
	}
	/* What /health keeps of a failure, copied before taking the lock. */
	struct gz_diag kept;
	gz_diag_init(&kept);
	if (o->rc) {
		diag_copy(&kept, &o->diag, GZ_KEEP_ERRORS);
		if (!o->diag.count) { /* a failure with no file to blame (out of memory) */
			char buf[1200];
			diag_push(&kept, gz_error_format(&o->err, buf, sizeof(buf)));
		}
	}
	struct gz_set *old = NULL;
	pthread_mutex_lock(&r->lock);
	struct gz_diag dropped = r->errors;
	r->errors = kept;
	r->status.building = 0; /* with the swap: /health never shows both */
	r->status.reloads++;
	if (o->rc) {
		r->status.failures++;
		r->status.last_failed = 1;
		r->status.error_count = o->diag.count ? o->diag.count : 1;
		gz_error_format(&o->err, r->status.last_error, sizeof(r->status.last_error));
		clock_gettime(CLOCK_REALTIME, &r->status.last_error_at);
	} else {
		r->status.last_failed = 0;
		r->status.error_count = 0;
		r->status.last_error[0] = '\0';
		r->status.last_seconds = o->seconds;
		old = r->set;
		r->set = set;
		r->status.generation++;
	}
	o->generation = r->status.generation;
	pthread_mutex_unlock(&r->lock);
	if (!o->rc) {
		if (how == GZ_OPEN_SNAPSHOT)
			lease_take(r, r->paths[0]);
		else
			lease_drop(r);
	}
	gz_diag_clear(&dropped);
	/* Outside the lock: the last unref of a big set frees a lot. */
	if (old) {
		gz_set_unref(old);
		/* Give the old set's pages back (when this was its last
		 * reference, as it mostly is): glibc keeps freed memory in
		 * its arenas, and without this a daemon reloaded all day
		 * holds two sets' worth plus a load's garbage for good. */
		malloc_trim(0);
	}
}

/* The builder's log lines: every problem on a line of its own, as
 * FILE:LINE:COL: message, then the verdict. */
static void log_outcome(const struct gz_reload_outcome *o, unsigned why)
{
	char w[64], buf[1200];
	why_text(why, w, sizeof(w));
	if (o->rc) {
		for (size_t i = 0; i < o->diag.count; i++)
			gz_log(GZ_LOG_ERROR, "%s", o->diag.lines[i]);
		gz_log(GZ_LOG_ERROR, "reload (%s) failed, keeping the old gazetteers: %s", w,
		       gz_error_format(&o->err, buf, sizeof(buf)));
	} else {
		gz_log(GZ_LOG_INFO, "reloaded (%s): %zu entries, %zu names from %zu file%s "
		       "(generation %llu) in %.3f s, gazetteers %s", w, o->entries, o->names,
		       o->files, o->files == 1 ? "" : "s", (unsigned long long)o->generation,
		       o->seconds, o->hash);
	}
}

/* Detaches the waiters answered by a build that started at `started`
 * (every one, when all is set).  Called with `lock` held. */
static struct gz_reload_waiter *take_waiters(struct gz_reloader *r, uint64_t started, int all)
{
	struct gz_reload_waiter *done = NULL, **p = &r->waiters;
	while (*p) {
		struct gz_reload_waiter *w = *p;
		if (all || w->ticket <= started) {
			*p = w->next;
			w->next = done;
			done = w;
		} else {
			p = &w->next;
		}
	}
	return done;
}

/* Hands each waiter its own copy of the outcome and calls it back. */
static void answer_waiters(struct gz_reload_waiter *w, const struct gz_reload_outcome *o)
{
	while (w) {
		struct gz_reload_waiter *next = w->next; /* w may be gone after done() */
		w->outcome = *o;
		gz_diag_init(&w->outcome.diag);
		diag_copy(&w->outcome.diag, &o->diag, o->diag.count);
		w->done(w);
		w = next;
	}
}

static void *builder_main(void *arg)
{
	struct gz_reloader *r = arg;
	pthread_mutex_lock(&r->lock);
	for (;;) {
		while (!r->stopping && r->requested == r->started)
			pthread_cond_wait(&r->wake, &r->lock);
		if (r->stopping)
			break;
		uint64_t started = r->started = r->requested;
		unsigned why = r->pending_why;
		r->pending_why = 0;
		r->status.building = 1;
		pthread_mutex_unlock(&r->lock);

		struct gz_reload_outcome o = { 0 };
		pthread_mutex_lock(&r->build);
		build_and_swap(r, &o);
		pthread_mutex_unlock(&r->build);
		log_outcome(&o, why);

		pthread_mutex_lock(&r->lock);
		struct gz_reload_waiter *done = take_waiters(r, started, 0);
		pthread_mutex_unlock(&r->lock);
		answer_waiters(done, &o);
		gz_reload_outcome_clear(&o);
		pthread_mutex_lock(&r->lock);
	}
	struct gz_reload_waiter *cancelled = take_waiters(r, 0, 1);
	pthread_mutex_unlock(&r->lock);
	answer_waiters(cancelled, &(struct gz_reload_outcome){ .rc = GZ_EINVAL, .cancelled = 1 });
	return NULL;
}

/* ------------------------------------------------------------------ */
/* API implementation                                                  */
/* ------------------------------------------------------------------ */

struct gz_reloader *gz_reloader_new(const char *const *paths, size_t npaths)
{
	struct gz_reloader *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	pthread_mutex_init(&r->lock, NULL);
	pthread_mutex_init(&r->build, NULL);
	pthread_cond_init(&r->wake, NULL);
	r->lease_fd = -1;
	r->paths = calloc(npaths ? npaths : 1, sizeof(char *));
	if (!r->paths) {
		gz_reloader_free(r);
		return NULL;
	}
	for (size_t i = 0; i < npaths; i++) {
		if (!(r->paths[i] = strdup(paths[i]))) {
			r->npaths = i;
			gz_reloader_free(r);
			return NULL;
		}
	}
	r->npaths = npaths;
	/* A test hook: every build takes at least this much longer, so that
	 * the integration tests can trigger reloads during one. */
	const char *delay = getenv("GAZTAGD_TEST_BUILD_DELAY_MS");
	unsigned long long ms;
	if (delay && !gz_uint_parse(delay, 0, 60000, &ms))
		r->test_build_delay = (struct timespec){ (time_t)(ms / 1000),
							 (long)(ms % 1000) * 1000000L };
	return r;
}

int gz_reloader_set_cache(struct gz_reloader *r, const char *dir)
{
	free(r->cache);
	r->cache = NULL;
	return dir && !(r->cache = strdup(dir)) ? GZ_ENOMEM : 0;
}

void gz_reloader_free(struct gz_reloader *r)
{
	if (!r)
		return;
	gz_reloader_stop(r);
	lease_drop(r);
	if (r->set)
		gz_set_unref(r->set);
	gz_diag_clear(&r->errors);
	for (size_t i = 0; i < r->npaths; i++)
		free(r->paths[i]);
	free(r->paths);
	free(r->cache);
	pthread_cond_destroy(&r->wake);
	pthread_mutex_destroy(&r->lock);
	pthread_mutex_destroy(&r->build);
	free(r);
}

struct gz_set *gz_reloader_acquire(struct gz_reloader *r)
{
	pthread_mutex_lock(&r->lock);
	struct gz_set *s = r->set ? gz_set_ref(r->set) : NULL;
	pthread_mutex_unlock(&r->lock);
	return s;
}

void gz_reloader_swap(struct gz_reloader *r, struct gz_set *set)
{
	pthread_mutex_lock(&r->lock);
	struct gz_set *old = r->set;
	r->set = set;
	r->status.generation++;
	pthread_mutex_unlock(&r->lock);
	if (old)
		gz_set_unref(old);
}

int gz_reloader_reload(struct gz_reloader *r, struct gz_diag *diag,
		       struct gz_error *err)
{
	struct gz_reload_outcome o = { 0 };
	pthread_mutex_lock(&r->build);
	build_and_swap(r, &o);
	pthread_mutex_unlock(&r->build);
	if (diag)
		diag_copy(diag, &o.diag, o.diag.count);
	if (err)
		*err = o.err;
	gz_reload_outcome_clear(&o);
	return o.rc;
}

void gz_reload_outcome_clear(struct gz_reload_outcome *o)
{
	gz_diag_clear(&o->diag);
}

int gz_reloader_start(struct gz_reloader *r)
{
	pthread_mutex_lock(&r->lock);
	int rc = 0;
	if (!r->running && !r->stopping) {
		if (pthread_create(&r->thread, NULL, builder_main, r))
			rc = GZ_ENOMEM;
		else
			r->running = 1;
	}
	pthread_mutex_unlock(&r->lock);
	return rc;
}

int gz_reloader_request(struct gz_reloader *r, enum gz_reload_trigger why,
			struct gz_reload_waiter *w)
{
	pthread_mutex_lock(&r->lock);
	if (!r->running || r->stopping) {
		pthread_mutex_unlock(&r->lock);
		return GZ_EINVAL;
	}
	r->requested++;
	r->pending_why |= (unsigned)why;
	if (w) {
		w->ticket = r->requested;
		w->next = r->waiters;
		r->waiters = w;
	}
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->lock);
	return 0;
}

void gz_reloader_stop(struct gz_reloader *r)
{
	pthread_mutex_lock(&r->lock);
	int join = r->running;
	r->running = 0;
	r->stopping = 1;
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->lock);
	if (join)
		pthread_join(r->thread, NULL);
}

void gz_reloader_status(struct gz_reloader *r, struct gz_reload_status *out)
{
	pthread_mutex_lock(&r->lock);
	*out = r->status;
	pthread_mutex_unlock(&r->lock);
}

size_t gz_reloader_errors(struct gz_reloader *r, struct gz_diag *out, size_t max)
{
	pthread_mutex_lock(&r->lock);
	size_t n = r->status.last_failed ? r->status.error_count : 0;
	if (n)
		diag_copy(out, &r->errors, max);
	pthread_mutex_unlock(&r->lock);
	return n;
}

size_t gz_reloader_path_count(const struct gz_reloader *r)
{
	return r->npaths;
}

const char *const *gz_reloader_paths(const struct gz_reloader *r)
{
	return (const char *const *)r->paths;
}
