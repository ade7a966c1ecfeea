/*
 * A growing byte buffer, and the JSON string escaper that writes into it.
 * It sits at the bottom of the engine, beside error.c: the gazetteer loader
 * writes attrs as compact JSON with it, the answer writers (json.c), the
 * NDJSON reader (request.c) and /metrics (metrics.c) write their output
 * with it.  It knows nothing of entries, spans or jansson, so anything may
 * include it without pulling in the tagger.
 */
#ifndef GZ_BUF_H
#define GZ_BUF_H

#include <stddef.h>
#include <string.h>

/* A growing output buffer.  failed is set (and the buffer left as it was)
 * when memory runs out.  Start from { 0 }; free(data) when done. */
struct gz_buf {
	char *data;
	size_t len, cap;
	int failed;
};

void gz_buf_append_slow(struct gz_buf *b, const char *s, size_t n);
/* Appends s[0..n), keeping data NUL-terminated.  Inline: the answer writers
 * call it a dozen times per span. */
static inline void gz_buf_append(struct gz_buf *b, const char *s, size_t n)
{
	if (b->len + n < b->cap) {
		memcpy(b->data + b->len, s, n);
		b->len += n;
		b->data[b->len] = 0;
	} else {
		gz_buf_append_slow(b, s, n);
	}
}
/* Appends s[0..n) as a JSON string, quotes included. */
void gz_buf_append_json_string(struct gz_buf *b, const char *s, size_t n);

#endif
