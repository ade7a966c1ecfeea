/*
 * Watching the gazetteer files (config `watch: true`): a change to any of
 * them asks the reloader for a reload (GZ_RELOAD_WATCH).
 *
 * inotify watches the directories, not only the files: an editor saves by
 * writing a temporary file and renaming it over the old one, which a watch
 * on the old file's inode would see only as its deletion.  In a configured
 * directory a change to any *.yaml / *.yml file counts (hidden files, like
 * the loader, are ignored, and so are editors' swap and backup files); for a
 * file named directly, a change to that name in its directory, or to the
 * file itself (which also follows a symlink to a file kept elsewhere).
 *
 * Events are debounced: the reload is asked for once the files have been
 * quiet for debounce_ms, or at the latest 1 s after the first change, so
 * that one save (rename, create, write, close: five events or more) makes
 * one reload, and a file rewritten without pause still reloads every second.
 * The watcher runs on a thread of its own; it never builds anything.
 */
#ifndef GZ_WATCH_H
#define GZ_WATCH_H

#include <stddef.h>

#include "error.h"
#include "reload.h"

struct gz_watch;

/* Quiet time after a change before the reload: longer than the events of
 * one save take, short enough to leave most of the second a user waits. */
#define GZ_WATCH_DEBOUNCE_MS 200u

/* Watches paths (copied) for r, which must outlive the watcher.  A path that
 * cannot be watched is logged and retried every second; only a failure to
 * start inotify or the thread is an error (GZ_EIO, GZ_ENOMEM). */
int gz_watch_start(struct gz_reloader *r, const char *const *paths, size_t npaths,
		   unsigned debounce_ms, struct gz_watch **out, struct gz_error *err);

/* Stops the thread and frees w.  NULL is fine. */
void gz_watch_stop(struct gz_watch *w);

#endif
