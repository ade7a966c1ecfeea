/*
 * The growing byte buffer and the JSON string escaper (see buf.h).  The
 * buffer doubles from 4 KiB, so a writer appending a byte at a time costs
 * amortised O(1) and the inline fast path in buf.h is a compare and a
 * memcpy.  The escaper copies runs of bytes that need no escape in one
 * append: names and texts seldom hold a quote or a control character.
 */
#include "buf.h"

#include <stdlib.h>
#include <string.h>

void gz_buf_append_slow(struct gz_buf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *d = realloc(b->data, cap);
		if (!d) {
			b->failed = 1;
			return;
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = 0;
}

void gz_buf_append_json_string(struct gz_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	gz_buf_append(b, "\"", 1);
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		gz_buf_append(b, s + run, i - run);
		char esc[6] = { '\\', (char)c, 0, 0, 0, 0 };
		size_t k = 2;
		switch (c) {
		case '"': case '\\': break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		default:
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			k = 6;
		}
		gz_buf_append(b, esc, k);
		run = i + 1;
	}
	gz_buf_append(b, s + run, n - run);
	gz_buf_append(b, "\"", 1);
}
