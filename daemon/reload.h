/*
 * The set in service, and building its replacement (SPEC §6).
 *
 * A reloader holds one reference to the set in service behind a mutex that
 * guards only the pointer: a request takes its own reference
 * (gz_reloader_acquire) and tags without any lock, so a swap never waits for
 * requests and requests never wait for a build.  The old set is freed when
 * its last request releases it (gz_set_unref).
 *
 * Reloads are built by one builder thread of the reloader's own
 * (gz_reloader_start), beside the set in service.  A trigger (SIGHUP, POST
 * /reload, the file watcher) only asks for a build (gz_reloader_request) and
 * returns at once.  Triggers coalesce: there is at most one build at a time,
 * and any number of triggers that come during a build cause exactly one more
 * build after it, which reads the files as they are then.  A trigger that
 * wants the outcome (POST /reload) passes a waiter, called back on the
 * builder thread once a build that started after the trigger has ended.
 *
 * A build that finds any problem keeps the set in service; its problems
 * (every "FILE:LINE:COL: message") are logged, and kept for /health until a
 * later build succeeds.
 */
#ifndef GZ_RELOAD_H
#define GZ_RELOAD_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "error.h"
#include "set.h"

struct gz_reloader;

/* What asked for a reload; a coalesced build may have several causes. */
enum gz_reload_trigger {
	GZ_RELOAD_SIGHUP = 1,
	GZ_RELOAD_HTTP = 2,    /* POST /reload */
	GZ_RELOAD_WATCH = 4,   /* a gazetteer file changed */
};

/* Copies paths.  Holds no set until the first swap or reload. */
struct gz_reloader *gz_reloader_new(const char *const *paths, size_t npaths);
/* The snapshot cache directory loads go through (cache.h); NULL: none.
 * Before gz_reloader_start. */
int gz_reloader_set_cache(struct gz_reloader *r, const char *dir);
/* Stops the builder thread (gz_reloader_stop) and drops the reloader's
 * reference to the set in service. */
void gz_reloader_free(struct gz_reloader *r);

/* A new reference to the set in service, or NULL while none is loaded.
 * Release it with gz_set_unref. */
struct gz_set *gz_reloader_acquire(struct gz_reloader *r);

/* Puts set in service (taking over the caller's reference) and releases the
 * reloader's reference to the old one; bumps the generation. */
void gz_reloader_swap(struct gz_reloader *r, struct gz_set *set);

/* Loads the configured paths on the calling thread and swaps the result in
 * (the first load, at start).  On failure the set in service is kept, err
 * has the first problem, diag (may be NULL) all of them, and the failure is
 * remembered for gz_reloader_status. */
int gz_reloader_reload(struct gz_reloader *r, struct gz_diag *diag,
		       struct gz_error *err);

/* --- the builder thread ------------------------------------------------ */

/* The outcome of one build, as handed to a waiter. */
struct gz_reload_outcome {
	int rc;                   /* 0, or the failed load's gz_err code */
	int cancelled;            /* the reloader stopped before building */
	uint64_t generation;      /* of the set in service after the build */
	size_t entries, names, files; /* of the set built (rc == 0) */
	char hash[33];            /* its gz_set_hash (rc == 0) */
	double seconds;           /* how long the build took */
	struct gz_error err;      /* the first problem (rc != 0) */
	struct gz_diag diag;      /* every problem (rc != 0); owned */
};

/* Frees the outcome's diag. */
void gz_reload_outcome_clear(struct gz_reload_outcome *o);

/* A trigger that wants to hear how its reload went.  The caller owns the
 * waiter and keeps it alive until done is called: exactly once, with
 * outcome filled, on the builder thread (or the one calling
 * gz_reloader_stop), after a build that started after the request ended.
 * done must not call back into the reloader. */
struct gz_reload_waiter {
	void (*done)(struct gz_reload_waiter *w);
	void *data;                         /* the caller's */
	struct gz_reload_outcome outcome;   /* free with gz_reload_outcome_clear */
	/* private */
	uint64_t ticket;
	struct gz_reload_waiter *next;
};

/* Starts the builder thread.  Returns 0 or GZ_ENOMEM. */
int gz_reloader_start(struct gz_reloader *r);

/* Asks for a reload and returns at once.  w (may be NULL) is called back as
 * described above.  Returns 0, or GZ_EINVAL when the builder is not running
 * (not started, or stopped), in which case w is not called. */
int gz_reloader_request(struct gz_reloader *r, enum gz_reload_trigger why,
			struct gz_reload_waiter *w);

/* A set mapped from a snapshot the config names (a .gzs) lies in the
 * user's file: writing over that file in place (cp, >, truncate) would
 * pull the pages from under the requests reading them, and the process
 * would die of SIGBUS.  So while such a set is in service the reloader
 * holds a read lease on the file (fcntl F_SETLEASE: the kernel makes a
 * writer's open wait, up to /proc/sys/fs/lease-break-time, and sends
 * GZ_LEASE_SIGNAL).  gz_reloader_lease_broken, called on that signal,
 * copies the snapshot into memory, puts the copy in service, waits for the
 * requests still reading the file (up to GZ_LEASE_WAIT_MS), then lets the
 * writer go; the new file is loaded by the next reload (the watcher's,
 * once the writer is done).  A lease needs the file's owner or CAP_LEASE:
 * without one a warning says to replace the file by renaming. */
#define GZ_LEASE_SIGNAL (SIGRTMIN + 1)
#define GZ_LEASE_WAIT_MS 30000
void gz_reloader_lease_broken(struct gz_reloader *r);

/* Lets the build under way finish, cancels the ones asked for (their
 * waiters are called with outcome.cancelled set) and joins the builder
 * thread.  Idempotent. */
void gz_reloader_stop(struct gz_reloader *r);

/* --- status, for /health and /metrics ---------------------------------- */

struct gz_reload_status {
	uint64_t generation;      /* 0 until a set is in service; +1 per swap */
	uint64_t reloads, failures; /* reload attempts and failed ones */
	int building;             /* a build is under way */
	int last_failed;          /* the last reload failed */
	char last_error[1024];    /* its first error, "FILE:LINE:COL: message" */
	size_t error_count;       /* how many problems it found (0 or more) */
	struct timespec last_error_at;
	double last_seconds;      /* how long the last successful load took */
};

void gz_reloader_status(struct gz_reloader *r, struct gz_reload_status *out);

/* Adds to out (an initialised diag) the first max problems of the last
 * failed reload, and returns how many there were in all (0 when the last
 * reload succeeded). */
size_t gz_reloader_errors(struct gz_reloader *r, struct gz_diag *out, size_t max);

size_t gz_reloader_path_count(const struct gz_reloader *r);
const char *const *gz_reloader_paths(const struct gz_reloader *r);

#endif
