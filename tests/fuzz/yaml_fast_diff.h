/*
 * The differential check of the fast YAML reader (daemon/yaml_fast.c),
 * shared by its unit test and its fuzz target: one buffer read by libyaml
 * alone and by gz_yaml_read as the loader calls it, each reading written
 * out as text (every item handed to on_entry, then the tree left, then the
 * reader's flags and its problems as the diag has them), and the two texts
 * compared.  Every field of every node is written: kind, line, column,
 * length, plain, in_arena and the value byte by byte.
 */
#ifndef GZ_YAML_FAST_DIFF_H
#define GZ_YAML_FAST_DIFF_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "yaml_reader.h"

struct yfd_text {
	char *data;
	size_t len, cap;
};

static void yfd_put(struct yfd_text *t, const char *s, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 4096;
		while (t->len + n + 1 > cap)
			cap *= 2;
		char *d = realloc(t->data, cap);
		if (!d)
			abort();
		t->data = d;
		t->cap = cap;
	}
	memcpy(t->data + t->len, s, n);
	t->len += n;
	t->data[t->len] = 0;
}

static void yfd_printf(struct yfd_text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void yfd_printf(struct yfd_text *t, const char *fmt, ...)
{
	char b[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b, sizeof b, fmt, ap);
	va_end(ap);
	yfd_put(t, b, (size_t)n < sizeof b ? (size_t)n : sizeof b - 1);
}

static void yfd_node(struct yfd_text *t, const struct gz_yaml_node *n, int depth)
{
	yfd_printf(t, "%*s%c %d:%d arena=%d", depth * 2, "",
		   n->kind == GZ_YAML_MAP ? 'M' : n->kind == GZ_YAML_SEQ ? 'S' : 'V', n->line,
		   n->column, n->in_arena);
	if (n->kind == GZ_YAML_SCALAR) {
		yfd_printf(t, " plain=%d len=%zu nul=%d \"", n->plain, n->len, n->value[n->len] == 0);
		for (size_t i = 0; i < n->len; i++) {
			unsigned char c = (unsigned char)n->value[i];
			if (c >= 0x20 && c < 0x7f && c != '\\')
				yfd_put(t, (const char *)&c, 1);
			else
				yfd_printf(t, "\\%02x", c);
		}
		yfd_put(t, "\"", 1);
	} else {
		yfd_printf(t, " kids=%zu", n->nkids);
	}
	yfd_put(t, "\n", 1);
	for (size_t i = 0; i < n->nkids; i++)
		yfd_node(t, n->kids[i], depth + 1);
}

struct yfd_reading {
	struct gz_yaml y;   /* first: on_entry gets &r->y back */
	struct yfd_text text;
};

static void yfd_on_entry(struct gz_yaml *y, const struct gz_yaml_node *item)
{
	struct yfd_reading *r = (struct yfd_reading *)y;
	yfd_put(&r->text, "item\n", 5);
	yfd_node(&r->text, item, 1);
}

/* One reading of buf as text in *out (the caller frees out->data); returns
 * whether the fast path read it. */
static int yfd_read(const char *buf, size_t len, int slow, int items_at_root, int line_base,
		    struct yfd_text *out)
{
	struct yfd_reading r = { .y = { .path = "f.yaml", .on_entry = yfd_on_entry,
					.items_at_root = items_at_root, .line_base = line_base,
					.slow = slow } };
	struct gz_diag d;
	gz_diag_init(&d);
	r.y.diag = &d;
	struct gz_yaml_node *root = gz_yaml_read(&r.y, buf, len);
	yfd_put(&r.text, "root\n", 5);
	if (root)
		yfd_node(&r.text, root, 1);
	gz_yaml_node_free(root);
	yfd_printf(&r.text, "broken=%d oom=%d errors=%d\n", r.y.broken, r.y.oom, r.y.errors);
	gz_yaml_report(&r.y);
	yfd_printf(&r.text, "errors after report=%d\n", r.y.errors);
	for (size_t i = 0; i < d.count; i++) {
		yfd_put(&r.text, d.lines[i], strlen(d.lines[i]));
		yfd_put(&r.text, "\n", 1);
	}
	gz_diag_clear(&d);
	*out = r.text;
	return r.y.fast;
}

/* Reads buf both ways, as a whole file and as a piece; on a difference
 * prints both readings to stderr and returns -1; else 0 or 1 (the fast
 * path read it as a file). */
static int yfd_compare(const char *buf, size_t len)
{
	int fast_file = 0;
	for (int piece = 0; piece < 2; piece++) {
		struct yfd_text a, b;
		yfd_read(buf, len, 1, piece, piece * 7, &a);
		int fast = yfd_read(buf, len, 0, piece, piece * 7, &b);
		if (!piece)
			fast_file = fast;
		int same = a.len == b.len && memcmp(a.data, b.data, a.len) == 0;
		if (!same)
			fprintf(stderr, "yaml_fast differs (piece=%d, fast=%d) on:\n%.*s\n"
				"-- libyaml:\n%s-- fast:\n%s", piece, fast, (int)len, buf, a.data, b.data);
		free(a.data);
		free(b.data);
		if (!same)
			return -1;
	}
	return fast_file;
}

#endif
