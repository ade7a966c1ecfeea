/*
 * One error convention for the whole engine (after libgit2): functions return
 * 0 or a negative gz_err code, and fill a struct gz_error when the caller
 * passes one.  A gz_error carries what a user needs to find the problem: the
 * file, line and column for gazetteer and config errors, the byte offset for
 * text errors, and a message that names the problem.
 */
#ifndef GZ_ERROR_H
#define GZ_ERROR_H

#include <stddef.h>

enum gz_err {
	GZ_OK = 0,
	GZ_ENOMEM = -1,   /* out of memory */
	GZ_EINVAL = -2,   /* a bad parameter (unknown type, bad option value) */
	GZ_EUTF8 = -3,    /* invalid UTF-8 in text; offset says where */
	GZ_ELOAD = -4,    /* a gazetteer or config file failed to load */
	GZ_EIO = -5,      /* a file could not be read */
	GZ_ETOOBIG = -6,  /* input over a limit */
	GZ_ECOMPLEX = -7, /* input within the size limit that its reader gives up on:
			     an HTML page over the parser's time or memory budget */
};

struct gz_error {
	int code;          /* enum gz_err */
	char file[512];    /* "" when not about a file */
	int line, column;  /* 1-based; 0 when unknown */
	size_t offset;     /* byte offset, for GZ_EUTF8 */
	char message[512]; /* the problem, without the location prefix */
};

/* Fills err (when non-NULL) and returns code, so callers can write
 * `return gz_error_set(err, GZ_EINVAL, "unknown type '%s'", t);` */
int gz_error_set(struct gz_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Formats "FILE:LINE:COL: message" (or just the message when err has no file)
 * into buf; returns buf. */
const char *gz_error_format(const struct gz_error *err, char *buf, size_t size);

/* A growing list of formatted "FILE:LINE:COL: message" lines, for the loaders
 * that report every problem they find rather than only the first. */
struct gz_diag {
	char **lines;
	size_t count, cap;
};

void gz_diag_init(struct gz_diag *d);
/* Adds FILE:LINE:COL: message (FILE: message when line is 0; the message
 * alone when file is NULL, for a message that names its file itself). */
void gz_diag_add(struct gz_diag *d, const char *file, int line, int column,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void gz_diag_clear(struct gz_diag *d);

#endif
