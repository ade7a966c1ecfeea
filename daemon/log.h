/*
 * The daemon's log: one line per event on stderr, at four levels.  Every
 * part of the daemon logs through gz_log; the engine (libgaztag) does not
 * log at all, it returns errors, so only the daemon's files include this.
 * main sets the level once, from the config's log_level or --log-level.
 */
#ifndef GZ_LOG_H
#define GZ_LOG_H

#include "error.h"

enum gz_log_level { GZ_LOG_ERROR, GZ_LOG_WARN, GZ_LOG_INFO, GZ_LOG_DEBUG };

/* "error", "warn" (or "warning"), "info", "debug"; GZ_EINVAL naming the
 * bad value otherwise. */
int gz_log_level_parse(const char *s, enum gz_log_level *out,
		       struct gz_error *err);

void gz_log_set_level(enum gz_log_level level);
int gz_log_enabled(enum gz_log_level level);
/* One line on stderr: "gaztagd: message" at info, "gaztagd: error: ...",
 * "gaztagd: warning: ...", "gaztagd: debug: ..." otherwise. */
void gz_log(enum gz_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
