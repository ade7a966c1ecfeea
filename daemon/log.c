/*
 * Logging: one line per event on stderr, "gaztagd: " and a level prefix,
 * written with a single fwrite so that lines from the worker threads never
 * interleave (stdio locks the stream for each call).  The threshold is an
 * atomic read with a relaxed load on every gz_log_enabled: callers on the
 * hot path (the access log, libmicrohttpd's messages) test it before they
 * format anything, and the level main sets before the threads start needs
 * no stronger ordering than that.
 */
#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

static const char *const level_names[] = { "error", "warn", "info", "debug" };

int gz_log_level_parse(const char *s, enum gz_log_level *out,
		       struct gz_error *err)
{
	for (int i = 0; i < 4; i++) {
		if (!strcmp(s, level_names[i])) {
			*out = (enum gz_log_level)i;
			return 0;
		}
	}
	if (!strcmp(s, "warning")) {
		*out = GZ_LOG_WARN;
		return 0;
	}
	return gz_error_set(err, GZ_EINVAL,
			    "bad log level '%s' (expected error, warn, info or debug)", s);
}

static atomic_int log_threshold = GZ_LOG_INFO;

void gz_log_set_level(enum gz_log_level level)
{
	atomic_store(&log_threshold, (int)level);
}

int gz_log_enabled(enum gz_log_level level)
{
	return (int)level <= atomic_load_explicit(&log_threshold, memory_order_relaxed);
}

void gz_log(enum gz_log_level level, const char *fmt, ...)
{
	static const char *const prefix[] = { "error: ", "warning: ", "", "debug: " };
	if (!gz_log_enabled(level))
		return;
	/* One write per line, so lines from worker threads never interleave. */
	char line[2048];
	int n = snprintf(line, sizeof(line), "gaztagd: %s", prefix[level]);
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	line[len++] = '\n';
	fwrite(line, 1, len, stderr);
}
