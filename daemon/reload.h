/*
 * The gazetteer set in service, and building its replacement.
 *
 * A reloader holds one reference to the set in service behind a mutex that
 * guards only the pointer: a request takes its own reference
 * (gz_reloader_acquire) and tags without any lock, so a swap never waits for
 * requests and requests never wait for a build.  The old set is freed when
 * its last request releases it (gz_set_unref).
 *
 * gz_reloader_reload builds a new set from the configured paths on the
 * calling thread (the signal thread for SIGHUP, a worker for POST /reload),
 * beside the old one, and swaps it in only if every file loaded; otherwise
 * the old set stays and the failure is kept for /health.  Builds are
 * serialised so two triggers never build at once.  Live-reload triggers
 * (inotify) are to be built on top of this module.
 */
#ifndef GZ_RELOAD_H
#define GZ_RELOAD_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "error.h"
#include "set.h"

struct gz_reloader;

/* Copies paths.  Holds no set until the first swap or reload. */
struct gz_reloader *gz_reloader_new(const char *const *paths, size_t npaths);
/* Drops the reloader's reference to the set in service. */
void gz_reloader_free(struct gz_reloader *r);

/* A new reference to the set in service, or NULL while none is loaded.
 * Release it with gz_set_unref. */
struct gz_set *gz_reloader_acquire(struct gz_reloader *r);

/* Puts set in service (taking over the caller's reference) and releases the
 * reloader's reference to the old one; bumps the generation. */
void gz_reloader_swap(struct gz_reloader *r, struct gz_set *set);

/* Loads the configured paths and swaps the result in.  On failure the set
 * in service is kept, err has the first problem, diag (may be NULL) all of
 * them, and the failure is remembered for gz_reloader_status. */
int gz_reloader_reload(struct gz_reloader *r, struct gz_diag *diag,
		       struct gz_error *err);

struct gz_reload_status {
	uint64_t generation;      /* 0 until a set is in service; +1 per swap */
	uint64_t reloads, failures; /* reload attempts and failed ones */
	int last_failed;          /* the last reload failed */
	char last_error[1024];    /* its first error, "FILE:LINE:COL: message" */
	struct timespec last_error_at;
};

void gz_reloader_status(struct gz_reloader *r, struct gz_reload_status *out);

size_t gz_reloader_path_count(const struct gz_reloader *r);
const char *const *gz_reloader_paths(const struct gz_reloader *r);

#endif
