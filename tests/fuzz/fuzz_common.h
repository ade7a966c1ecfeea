/*
 * Helpers shared by the libFuzzer targets (header-only: each target is one
 * executable).  Gazetteers are loaded from memory through memfd_create and
 * its /proc/self/fd path, so that gz_set_load runs exactly as gaztagd runs it
 * (stat, fopen, read, parse, build) without touching the disk on every
 * input.  check() aborts with a message naming the broken invariant: an
 * abort is what libFuzzer records as a crash, with the input saved.
 */
#ifndef GZ_FUZZ_COMMON_H
#define GZ_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "error.h"
#include "set.h"
#include "tagger.h"

#define check(cond, ...)                                                          \
	do {                                                                      \
		if (!(cond)) {                                                    \
			fprintf(stderr, "invariant broken at %s:%d: %s\n  ",      \
				__FILE__, __LINE__, #cond);                       \
			fprintf(stderr, __VA_ARGS__);                             \
			fputc('\n', stderr);                                      \
			abort();                                                  \
		}                                                                 \
	} while (0)

/* A memfd holding buf[0..len); *path receives its /proc/self/fd name.
 * Returns the fd (the caller closes it) or -1. */
static inline int fuzz_memfd(const char *buf, size_t len, char *path, size_t size)
{
	int fd = memfd_create("gaztag-fuzz.yaml", 0);
	if (fd < 0)
		return -1;
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, buf + off, len - off);
		if (w <= 0) {
			close(fd);
			return -1;
		}
		off += (size_t)w;
	}
	snprintf(path, size, "/proc/self/fd/%d", fd);
	return fd;
}

/* Loads one gazetteer held in memory.  Returns gz_set_load's result; diag
 * (may be NULL) receives the problems. */
static inline int fuzz_load_set(const char *yaml, size_t len, struct gz_diag *diag,
				struct gz_set **out, struct gz_error *err)
{
	char path[64];
	int fd = fuzz_memfd(yaml, len, path, sizeof path);
	if (fd < 0) {
		perror("memfd_create");
		abort();
	}
	const char *paths[1] = { path };
	int r = gz_set_load(paths, 1, diag, out, err);
	close(fd);
	return r;
}

/* What a target that tags needs, made once in LLVMFuzzerInitialize: the set
 * of its embedded gazetteer yaml[0..len) and a tagger.  Aborts, naming the
 * target and printing the problems, when either cannot be made: a target
 * that checks nothing must not look like one that passes. */
static inline void fuzz_setup_tagging(const char *target, const char *yaml, size_t len,
				      struct gz_set **set, struct gz_tagger **tagger)
{
	struct gz_diag diag;
	struct gz_error err;
	memset(&err, 0, sizeof err);
	gz_diag_init(&diag);
	if (fuzz_load_set(yaml, len, &diag, set, &err) != 0) {
		for (size_t i = 0; i < diag.count; i++)
			fprintf(stderr, "%s\n", diag.lines[i]);
		fprintf(stderr, "%s: the embedded gazetteer does not load: %s\n", target,
			err.message);
		abort();
	}
	gz_diag_clear(&diag);
	*tagger = gz_tagger_new();
	if (!*tagger) {
		fprintf(stderr, "%s: no memory for a tagger\n", target);
		abort();
	}
}

/* Byte offset -> offset in code points or UTF-16 units, counted the slow
 * way, independently of the tagger's SWAR sweep. */
static inline size_t fuzz_units(const unsigned char *s, size_t byte, int utf16)
{
	size_t u = 0;
	for (size_t i = 0; i < byte; i++) {
		if ((s[i] & 0xC0) == 0x80)
			continue;
		u += (utf16 && s[i] >= 0xF0) ? 2 : 1;
	}
	return u;
}

static inline int fuzz_is_boundary(const unsigned char *s, size_t len, size_t b)
{
	return b == 0 || b == len || (b < len && (s[b] & 0xC0) != 0x80);
}

#endif
