/*
 * The counters behind GET /metrics (SPEC §4), and their Prometheus text
 * exposition (format 0.0.4).
 *
 * Recording is per thread: each thread that records gets a block of its own
 * (created on its first record, found again through a thread-local pointer),
 * and only that thread ever writes it, with relaxed atomic loads and stores:
 * plain moves and adds, no lock, no locked instruction, no cache line shared
 * with another writer.  A scrape sums every block.  So the hot path pays a
 * few additions per request and nothing else.
 *
 * Blocks live as long as the gz_metrics: a thread that exits leaves its
 * block behind, with its counts.  That is meant for a fixed pool of worker
 * threads (libmicrohttpd's), not for a thread per connection.
 */
#ifndef GZ_METRICS_H
#define GZ_METRICS_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "reload.h"
#include "tagger.h"

struct gz_metrics;

/* The Content-Type of gz_metrics_write's output. */
extern const char GZ_METRICS_CONTENT_TYPE[];

/* endpoints: the endpoint label of each endpoint index (copied; at most
 * GZ_METRICS_MAX_ENDPOINTS).  endpoints[0] is the catch-all: an index out
 * of range, or one whose label is NULL, is counted under it.  NULL when
 * out of memory. */
#define GZ_METRICS_MAX_ENDPOINTS 32
struct gz_metrics *gz_metrics_new(const char *const *endpoints, size_t n);

/* Frees every block.  No thread may record on m any more. */
void gz_metrics_free(struct gz_metrics *m);

/* One request ended: its endpoint index, its status (0 when it ended
 * without an answer) and when it began (CLOCK_MONOTONIC). */
void gz_metrics_request(struct gz_metrics *m, size_t endpoint, unsigned status,
			struct timespec began);

/* A text of text_bytes bytes was tagged by t: counts it and the entities of
 * t's last run, by type.  Call it before t runs again. */
void gz_metrics_tagged(struct gz_metrics *m, const struct gz_tagger *t,
		       size_t text_bytes);

/* A connection was opened (opened != 0) or closed. */
void gz_metrics_connection(struct gz_metrics *m, int opened);

/* Appends the exposition to out: the counters, the gauges of the set in
 * service and the reload counts (from r, which may be NULL), and the
 * process's own.  Returns 0, or GZ_ENOMEM (out->failed is then set). */
int gz_metrics_write(struct gz_metrics *m, struct gz_reloader *r, struct gz_buf *out);

#endif
