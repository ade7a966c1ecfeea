/*
 * The gazetteer watcher (see watch.h for what it reacts to and why).
 *
 * One thread polls two descriptors: the inotify one and an eventfd that
 * gz_watch_stop writes to.  Each configured path is a target with up to two
 * watches: its directory (the path itself, or a named file's parent) and,
 * for a named file, the file itself.  inotify gives the same watch
 * descriptor for the same inode, so targets sharing a directory share a
 * watch; an event is matched against every target, which are few.
 *
 * Watches go stale: a named file replaced by a rename leaves a watch on the
 * old inode (which the kernel drops, IN_IGNORED), and a directory deleted
 * and made again is a new inode.  So every target is armed again before
 * each reload is asked for, and while any target has no watch (its
 * directory missing), once a second; arming one that had none asks for a
 * reload too, as its files may have changed meanwhile.
 */
#include "watch.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* A change is acted on at the latest this long after the first event of a
 * burst, however busy the files stay. */
#define GZ_WATCH_MAX_DELAY_MS 1000
/* How often targets without a watch are tried again. */
#define GZ_WATCH_RETRY_MS 1000

#define DIR_EVENTS (IN_CLOSE_WRITE | IN_MODIFY | IN_ATTRIB | IN_CREATE | IN_DELETE | \
		    IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF)
#define FILE_EVENTS (IN_CLOSE_WRITE | IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)

struct target {
	char *path;      /* as configured */
	char *dir;       /* the directory watched: path, or a file's parent */
	const char *base; /* a named file's name within dir; NULL for a directory */
	int dir_wd, file_wd; /* -1 while not watched */
	int warned;      /* the failure to watch it has been logged */
};

struct gz_watch {
	struct gz_reloader *reloader;
	int ifd, stop_fd;
	unsigned debounce_ms;
	struct target *targets;
	size_t ntargets;
	int missing;     /* some target has no directory watch */
	pthread_t thread;
};

/* ------------------------------------------------------------------ */
/* private helpers                                                     */
/* ------------------------------------------------------------------ */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What the loader reads from a directory (set.c): *.yaml and *.yml, not
 * hidden.  Editors' companions (.places.yaml.swp, places.yaml~, 4913,
 * #places.yaml#, .#places.yaml) fail this test. */
static int is_gazetteer_name(const char *n)
{
	size_t l = strlen(n);
	if (n[0] == '.')
		return 0;
	return (l > 5 && !strcmp(n + l - 5, ".yaml")) || (l > 4 && !strcmp(n + l - 4, ".yml"));
}

static int target_init(struct target *t, const char *path)
{
	struct stat st;
	memset(t, 0, sizeof(*t));
	t->dir_wd = t->file_wd = -1;
	if (!(t->path = strdup(path)))
		return -1;
	/* A path that is not a directory now is a named file (the loader
	 * would have refused anything else at start). */
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		t->dir = strdup(path);
		return t->dir ? 0 : -1;
	}
	const char *slash = strrchr(path, '/');
	if (!slash) {
		t->dir = strdup(".");
		t->base = t->path;
	} else {
		size_t n = slash == path ? 1 : (size_t)(slash - path);
		if ((t->dir = malloc(n + 1))) {
			memcpy(t->dir, path, n);
			t->dir[n] = '\0';
		}
		t->base = t->path + (slash - path) + 1;
	}
	return t->dir ? 0 : -1;
}

/* (Re)arms t's watches; returns 1 when one it lacked is now in place. */
static int arm(struct gz_watch *w, struct target *t)
{
	int had = t->dir_wd >= 0;
	t->dir_wd = inotify_add_watch(w->ifd, t->dir, DIR_EVENTS | IN_ONLYDIR);
	if (t->dir_wd < 0 && !t->warned) {
		gz_log(GZ_LOG_WARN, "cannot watch %s for changes: %s (retrying every second; "
		       "SIGHUP or POST /reload still reload)", t->dir, strerror(errno));
		t->warned = 1;
	} else if (t->dir_wd >= 0 && t->warned) {
		gz_log(GZ_LOG_INFO, "watching %s again", t->dir);
		t->warned = 0;
	}
	/* The file itself: best effort, the directory's watch is the one
	 * that matters (a missing file is seen there when it comes back). */
	if (t->base)
		t->file_wd = inotify_add_watch(w->ifd, t->path, FILE_EVENTS);
	return !had && t->dir_wd >= 0;
}

/* Arms every target; returns 1 when one lacked a watch and now has one. */
static int arm_all(struct gz_watch *w, int *missing)
{
	int gained = 0;
	*missing = 0;
	for (size_t i = 0; i < w->ntargets; i++) {
		gained |= arm(w, &w->targets[i]);
		*missing |= w->targets[i].dir_wd < 0;
	}
	return gained;
}

/* Does this event touch a gazetteer?  A watch gone (IN_IGNORED: its inode
 * deleted or moved) and a lost queue count as changes. */
static int relevant(struct gz_watch *w, const struct inotify_event *ev)
{
	if (ev->mask & IN_Q_OVERFLOW)
		return 1;
	int hit = 0;
	for (size_t i = 0; i < w->ntargets; i++) {
		struct target *t = &w->targets[i];
		if (t->file_wd >= 0 && ev->wd == t->file_wd) {
			if (ev->mask & IN_IGNORED)
				t->file_wd = -1;
			hit = 1;
		} else if (t->dir_wd >= 0 && ev->wd == t->dir_wd) {
			if (ev->mask & IN_IGNORED) {
				t->dir_wd = -1;
				hit = 1;
			} else if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
				hit = 1;
			} else if (ev->len) {
				hit |= t->base ? !strcmp(ev->name, t->base)
					       : is_gazetteer_name(ev->name);
			}
		}
	}
	if (hit && ev->len && gz_log_enabled(GZ_LOG_DEBUG))
		gz_log(GZ_LOG_DEBUG, "watch: %s changed (inotify mask 0x%x)", ev->name,
		       (unsigned)ev->mask);
	return hit;
}

/* Reads every queued event; returns 1 if any touched a gazetteer. */
static int drain(struct gz_watch *w)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	int hit = 0;
	for (;;) {
		ssize_t n = read(w->ifd, buf, sizeof(buf));
		if (n <= 0)
			return hit; /* EAGAIN: all read */
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			hit |= relevant(w, ev);
			p += sizeof(*ev) + ev->len;
		}
	}
}

static void *watch_main(void *arg)
{
	struct gz_watch *w = arg;
	int64_t first = 0, last = 0; /* the pending burst; first == 0: none */
	int missing = w->missing;
	for (;;) {
		int timeout = -1;
		int64_t now = now_ms();
		if (first) {
			int64_t due = last + w->debounce_ms;
			if (due > first + GZ_WATCH_MAX_DELAY_MS)
				due = first + GZ_WATCH_MAX_DELAY_MS;
			timeout = due > now ? (int)(due - now) : 0;
		} else if (missing) {
			timeout = GZ_WATCH_RETRY_MS;
		}
		struct pollfd fds[2] = { { w->ifd, POLLIN, 0 }, { w->stop_fd, POLLIN, 0 } };
		int n = poll(fds, 2, timeout);
		if (n < 0 && errno != EINTR) {
			gz_log(GZ_LOG_ERROR, "watching the gazetteers stopped: poll: %s",
			       strerror(errno));
			return NULL;
		}
		if (fds[1].revents)
			return NULL;
		now = now_ms();
		if (n > 0 && (fds[0].revents & POLLIN) && drain(w)) {
			if (!first)
				first = now;
			last = now;
			continue;
		}
		if (first && (now >= last + w->debounce_ms || now >= first + GZ_WATCH_MAX_DELAY_MS)) {
			first = 0;
			arm_all(w, &missing);
			gz_reloader_request(w->reloader, GZ_RELOAD_WATCH, NULL);
		} else if (!first && missing && arm_all(w, &missing)) {
			first = last = now; /* a directory is back: reload after the quiet */
		}
	}
}

/* ------------------------------------------------------------------ */
/* API implementation                                                  */
/* ------------------------------------------------------------------ */

static void watch_free(struct gz_watch *w)
{
	for (size_t i = 0; i < w->ntargets; i++) {
		free(w->targets[i].path);
		free(w->targets[i].dir);
	}
	free(w->targets);
	if (w->ifd >= 0)
		close(w->ifd);
	if (w->stop_fd >= 0)
		close(w->stop_fd);
	free(w);
}

int gz_watch_start(struct gz_reloader *r, const char *const *paths, size_t npaths,
		   unsigned debounce_ms, struct gz_watch **out, struct gz_error *err)
{
	struct gz_watch *w = calloc(1, sizeof(*w));
	if (!w)
		return gz_error_set(err, GZ_ENOMEM, "out of memory");
	w->reloader = r;
	w->debounce_ms = debounce_ms;
	w->stop_fd = -1;
	w->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->ifd < 0) {
		int e = errno;
		watch_free(w);
		return gz_error_set(err, GZ_EIO, "cannot watch the gazetteers: inotify: %s",
				    strerror(e));
	}
	w->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	w->targets = calloc(npaths ? npaths : 1, sizeof(*w->targets));
	if (w->stop_fd < 0 || !w->targets) {
		watch_free(w);
		return gz_error_set(err, GZ_ENOMEM, "cannot watch the gazetteers: out of memory");
	}
	for (size_t i = 0; i < npaths; i++) {
		w->ntargets = i + 1;
		if (target_init(&w->targets[i], paths[i])) {
			watch_free(w);
			return gz_error_set(err, GZ_ENOMEM, "out of memory");
		}
	}
	/* Armed before returning, so that a change made once gaztagd says
	 * "ready" is never missed. */
	arm_all(w, &w->missing);
	if (pthread_create(&w->thread, NULL, watch_main, w)) {
		watch_free(w);
		return gz_error_set(err, GZ_ENOMEM, "cannot start the watcher thread");
	}
	*out = w;
	return 0;
}

void gz_watch_stop(struct gz_watch *w)
{
	if (!w)
		return;
	uint64_t one = 1;
	if (write(w->stop_fd, &one, sizeof(one)) < 0)
		gz_log(GZ_LOG_WARN, "stopping the watcher: %s", strerror(errno));
	pthread_join(w->thread, NULL);
	watch_free(w);
}
