/*
 * Helpers shared by the unit tests (header-only: tests/unit/meson.build
 * builds one executable per test file).  Gazetteers are written inline by
 * each test into temporary files, loaded with gz_set_load exactly as gaztagd
 * loads them, and the temporary files removed again.  Tag results are
 * rendered as one string ("0-4 [Kyiv] kyiv; ...") so that a test asserts
 * every span, its text and its alternatives in one comparison, and a failure
 * shows the whole result.
 */
#ifndef GZ_UNIT_HELPERS_H
#define GZ_UNIT_HELPERS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "error.h"
#include "set.h"
#include "tagger.h"

/* A fresh temporary directory, for tests that need several files. */
static inline char *temp_dir(void)
{
	char *d = strdup("/tmp/gaztag-unit-XXXXXX");
	assert_non_null(d);
	assert_non_null(mkdtemp(d));
	return d;
}

/* Writes content (len bytes) to dir/name; returns the malloc'd path. */
static inline char *write_file(const char *dir, const char *name, const char *content, size_t len)
{
	size_t l = strlen(dir) + strlen(name) + 2;
	char *path = malloc(l);
	assert_non_null(path);
	snprintf(path, l, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(content, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* Writes content to a new temporary file named *.yaml; returns its path. */
static inline char *write_temp(const char *content, size_t len)
{
	char *path = strdup("/tmp/gaztag-unit-XXXXXX.yaml");
	assert_non_null(path);
	int fd = mkstemps(path, 5);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
	return path;
}

static inline void print_diag(const struct gz_diag *d)
{
	for (size_t i = 0; i < d->count; i++)
		fprintf(stderr, "  diag: %s\n", d->lines[i]);
}

/* Loads the gazetteers given as YAML texts (in that load order); the load
 * must succeed. */
static inline struct gz_set *load_yamls(const char *const *yamls, size_t n)
{
	char *paths[8];
	assert_true(n <= 8);
	for (size_t i = 0; i < n; i++)
		paths[i] = write_temp(yamls[i], strlen(yamls[i]));
	struct gz_diag diag;
	struct gz_error err;
	struct gz_set *set = NULL;
	memset(&err, 0, sizeof err);
	gz_diag_init(&diag);
	int r = gz_set_load((const char *const *)paths, n, &diag, &set, &err);
	if (r != 0) {
		print_diag(&diag);
		fprintf(stderr, "  load: %s\n", err.message);
	}
	for (size_t i = 0; i < n; i++) {
		unlink(paths[i]);
		free(paths[i]);
	}
	gz_diag_clear(&diag);
	assert_int_equal(r, 0);
	assert_non_null(set);
	return set;
}

static inline struct gz_set *load_yaml(const char *yaml)
{
	return load_yamls(&yaml, 1);
}

/* Renders the spans of the last run of t over text. */
static inline void render_spans(const struct gz_tagger *t, const char *text, char *out, size_t size)
{
	size_t n = gz_tagger_span_count(t), k = 0;
	const struct gz_span *sp = gz_tagger_spans(t);
	out[0] = 0;
	for (size_t i = 0; i < n && k < size; i++) {
		k += (size_t)snprintf(out + k, size - k, "%s%zu-%zu [%.*s] %s", i ? "; " : "",
				      sp[i].start, sp[i].end, (int)(sp[i].byte_end - sp[i].byte_start),
				      text + sp[i].byte_start, gz_entry_id(sp[i].entry));
		for (size_t a = 0; a < sp[i].alternative_count && k < size; a++)
			k += (size_t)snprintf(out + k, size - k, "%s%s", a ? "," : " alt=",
					      gz_entry_id(sp[i].alternatives[a]));
	}
}

/* Tags text[0..len) with the given options; the run must succeed.  Returns
 * the rendered spans in a static buffer. */
static inline const char *tag_full(const struct gz_set *set, const char *text, size_t len,
				   const char *types, enum gz_overlaps overlaps, enum gz_offsets offsets)
{
	static char out[8192];
	struct gz_tag_options o;
	struct gz_error err;
	memset(&err, 0, sizeof err);
	gz_tag_options_init(&o);
	o.types = types;
	o.overlaps = overlaps;
	o.offsets = offsets;
	struct gz_tagger *t = gz_tagger_new();
	assert_non_null(t);
	int r = gz_tagger_run(t, set, text, len, &o, &err);
	if (r)
		fprintf(stderr, "  tag: %s\n", err.message);
	assert_int_equal(r, 0);
	render_spans(t, text, out, sizeof out);
	gz_tagger_free(t);
	return out;
}

/* The common case: default options (longest, code points, every type). */
static inline const char *tag(const struct gz_set *set, const char *text)
{
	return tag_full(set, text, strlen(text), NULL, GZ_OVERLAPS_LONGEST, GZ_OFFSETS_CODEPOINT);
}

static inline const char *tag_all(const struct gz_set *set, const char *text)
{
	return tag_full(set, text, strlen(text), NULL, GZ_OVERLAPS_ALL, GZ_OFFSETS_CODEPOINT);
}

static inline const char *tag_types(const struct gz_set *set, const char *text, const char *types)
{
	return tag_full(set, text, strlen(text), types, GZ_OVERLAPS_LONGEST, GZ_OFFSETS_CODEPOINT);
}

#endif
