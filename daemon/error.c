/*
 * The error helpers of error.h.  Messages are formatted once, where the error
 * is found, so that every later consumer (the log, a JSON error, --check)
 * prints the same words.
 */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int gz_error_set(struct gz_error *err, int code, const char *fmt, ...)
{
	if (!err)
		return code;
	va_list ap;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return code;
}

const char *gz_error_format(const struct gz_error *err, char *buf, size_t size)
{
	if (err->file[0])
		snprintf(buf, size, "%s:%d:%d: %s", err->file, err->line,
			 err->column, err->message);
	else
		snprintf(buf, size, "%s", err->message);
	return buf;
}

void gz_diag_init(struct gz_diag *d)
{
	memset(d, 0, sizeof(*d));
}

void gz_diag_add(struct gz_diag *d, const char *file, int line, int column,
		 const char *fmt, ...)
{
	char msg[1024], *out;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* file NULL: the message names its file itself (a snapshot's checks) */
	int n = !file ? snprintf(NULL, 0, "%s", msg)
		: line > 0 ? snprintf(NULL, 0, "%s:%d:%d: %s", file, line, column, msg)
			   : snprintf(NULL, 0, "%s: %s", file, msg);
	out = malloc((size_t)n + 1);
	if (!out)
		return; /* out of memory while reporting: the count below still fails the load */
	if (!file)
		snprintf(out, (size_t)n + 1, "%s", msg);
	else if (line > 0)
		snprintf(out, (size_t)n + 1, "%s:%d:%d: %s", file, line, column, msg);
	else
		snprintf(out, (size_t)n + 1, "%s: %s", file, msg);
	if (d->count == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;
		char **lines = realloc(d->lines, cap * sizeof(*lines));
		if (!lines) {
			free(out);
			return;
		}
		d->lines = lines;
		d->cap = cap;
	}
	d->lines[d->count++] = out;
}

void gz_diag_clear(struct gz_diag *d)
{
	for (size_t i = 0; i < d->count; i++)
		free(d->lines[i]);
	free(d->lines);
	gz_diag_init(d);
}
