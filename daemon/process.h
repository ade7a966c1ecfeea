/*
 * Process-wide settings made at start, in serve(): the open-file limit that
 * max_connections needs, and dropping root privileges to the configured
 * `user` (issue 9).
 *
 * The drop comes after the socket is bound (a port below 1024 needs root)
 * and the first load is done, before the reload and watch threads start.
 * libmicrohttpd's workers already run by then: glibc applies setuid(2) and
 * friends to every thread of the process, so none keeps root.
 */
#ifndef GZ_PROCESS_H
#define GZ_PROCESS_H

#include <sys/types.h>

#include "error.h"

struct gz_user {
	char name[256];
	uid_t uid;
	gid_t gid;
	int drop;          /* 0: nothing to do (no user, or not root) */
};

/* Raises the soft RLIMIT_NOFILE (up to the hard one) to what
 * max_connections connections and `threads` workers need; logs a warning
 * when the hard limit is too low.  Without it, libmicrohttpd would stop
 * accepting at the soft limit (often 1024) and say so only at debug. */
void gz_process_fit_fd_limit(unsigned max_connections, unsigned threads);

/* Looks the user up now, before anything starts, so that a misspelt name
 * stops gaztagd with a clear error: GZ_EINVAL when NAME does not exist.
 * name NULL or "": u->drop = 0.  Not root: u->drop = 0 and a warning,
 * unless NAME is the current user. */
int gz_process_find_user(const char *name, struct gz_user *u, struct gz_error *err);

/* initgroups, setgid, setuid to u (when u->drop), then checks that root
 * cannot be regained.  GZ_EIO with the reason when any step fails. */
int gz_process_drop_privileges(const struct gz_user *u, struct gz_error *err);

#endif
