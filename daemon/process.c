/*
 * Process-wide settings at start: the open-file limit and the privilege
 * drop (see process.h for when and why).
 */
#include "process.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "log.h"

/* Descriptors besides the connections: stdio, the listening socket, each
 * worker's epoll and wake-up descriptors, inotify, a gazetteer being read. */
#define GZ_FD_MARGIN 64

void gz_process_fit_fd_limit(unsigned max_connections, unsigned threads)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	rlim_t need = (rlim_t)max_connections + GZ_FD_MARGIN + 4 * (rlim_t)threads;
	if (rl.rlim_cur >= need) /* RLIM_INFINITY too */
		return;
	rlim_t want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need ? need : rl.rlim_max;
	if (want > rl.rlim_cur) {
		rl.rlim_cur = want;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			gz_log(GZ_LOG_WARN, "cannot raise the open-file limit to %llu: %s",
			       (unsigned long long)want, strerror(errno));
	}
	if (want < need)
		gz_log(GZ_LOG_WARN, "max_connections %u needs about %llu open files, but the "
		       "limit is %llu: connections past it wait unserved (raise LimitNOFILE= "
		       "or ulimit -n, or lower max_connections)", max_connections,
		       (unsigned long long)need, (unsigned long long)want);
}

int gz_process_find_user(const char *name, struct gz_user *u, struct gz_error *err)
{
	memset(u, 0, sizeof(*u));
	if (!name || !name[0])
		return 0;
	errno = 0;
	struct passwd *pw = getpwnam(name);
	if (!pw)
		return gz_error_set(err, GZ_EINVAL, "user '%s' (config key 'user' or --user) %s",
				    name, errno ? strerror(errno) : "does not exist");
	snprintf(u->name, sizeof(u->name), "%s", name);
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	if (geteuid() == 0) {
		u->drop = 1;
	} else if (geteuid() != u->uid) {
		gz_log(GZ_LOG_WARN, "not started as root: staying uid %u rather than user '%s' "
		       "(uid %u)", (unsigned)geteuid(), name, (unsigned)u->uid);
	}
	return 0;
}

int gz_process_drop_privileges(const struct gz_user *u, struct gz_error *err)
{
	if (!u->drop)
		return 0;
	/* Groups first: setgid and initgroups need the root that setuid gives up. */
	if (initgroups(u->name, u->gid))
		return gz_error_set(err, GZ_EIO, "cannot set the groups of user '%s': %s",
				    u->name, strerror(errno));
	if (setgid(u->gid))
		return gz_error_set(err, GZ_EIO, "cannot set gid %u: %s", (unsigned)u->gid,
				    strerror(errno));
	if (setuid(u->uid))
		return gz_error_set(err, GZ_EIO, "cannot set uid %u: %s", (unsigned)u->uid,
				    strerror(errno));
	/* Paranoia, as the setuid(2) man page advises: root must be gone
	 * for good, real, effective and saved ids alike. */
	if (u->uid != 0 && (setuid(0) == 0 || seteuid(0) == 0 || getuid() != u->uid ||
			    geteuid() != u->uid || getgid() != u->gid || getegid() != u->gid))
		return gz_error_set(err, GZ_EIO, "dropping privileges to user '%s' did not hold",
				    u->name);
	gz_log(GZ_LOG_INFO, "running as user %s (uid %u, gid %u)", u->name, (unsigned)u->uid,
	       (unsigned)u->gid);
	return 0;
}
