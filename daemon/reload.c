/*
 * The set in service (see reload.h for the design).  Two locks with two
 * jobs: `lock` guards the pointer and the status and is held for a few
 * instructions; `build` serialises builds and is held for a whole load, so a
 * request taking `lock` never waits behind a build.
 */
#include "reload.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


struct gz_reloader {
	pthread_mutex_t lock;   /* set, status */
	pthread_mutex_t build;  /* one build at a time */
	struct gz_set *set;
	struct gz_reload_status status;
	char **paths;
	size_t npaths;
};

struct gz_reloader *gz_reloader_new(const char *const *paths, size_t npaths)
{
	struct gz_reloader *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->paths = calloc(npaths ? npaths : 1, sizeof(char *));
	if (!r->paths) {
		free(r);
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
	pthread_mutex_init(&r->lock, NULL);
	pthread_mutex_init(&r->build, NULL);
	return r;
}

void gz_reloader_free(struct gz_reloader *r)
{
	if (!r)
		return;
	if (r->set)
		gz_set_unref(r->set);
	for (size_t i = 0; i < r->npaths; i++)
		free(r->paths[i]);
	free(r->paths);
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
	/* Outside the lock: the last unref of a big set frees a lot. */
	if (old)
		gz_set_unref(old);
}

int gz_reloader_reload(struct gz_reloader *r, struct gz_diag *diag,
		       struct gz_error *err)
{
	struct gz_error e = {0};
	struct gz_set *set = NULL;
	pthread_mutex_lock(&r->build);
	int rc = gz_set_load((const char *const *)r->paths, r->npaths, diag, &set, &e);
	pthread_mutex_lock(&r->lock);
	r->status.reloads++;
	if (rc) {
		r->status.failures++;
		r->status.last_failed = 1;
		gz_error_format(&e, r->status.last_error, sizeof(r->status.last_error));
		clock_gettime(CLOCK_REALTIME, &r->status.last_error_at);
	} else {
		r->status.last_failed = 0;
		r->status.last_error[0] = '\0';
	}
	pthread_mutex_unlock(&r->lock);
	if (!rc)
		gz_reloader_swap(r, set);
	pthread_mutex_unlock(&r->build);
	if (err)
		*err = e;
	return rc;
}

void gz_reloader_status(struct gz_reloader *r, struct gz_reload_status *out)
{
	pthread_mutex_lock(&r->lock);
	*out = r->status;
	pthread_mutex_unlock(&r->lock);
}

size_t gz_reloader_path_count(const struct gz_reloader *r)
{
	return r->npaths;
}

const char *const *gz_reloader_paths(const struct gz_reloader *r)
{
	return (const char *const *)r->paths;
}
