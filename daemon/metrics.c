/*
 * Counters per thread, summed at scrape (see metrics.h for the design).
 *
 * A block is one thread's counters: for each endpoint a count per status
 * code (100..599, a flat array: indexing beats any lookup), a count of the
 * requests that ended unanswered, and the latency histogram as a count per
 * bucket (made cumulative at scrape, so a scrape racing a record still sees
 * buckets that never decrease); then the text and entity counts and the
 * connections opened and closed.  Entity types are not known in advance and
 * change with reloads, so each block keeps its own small table of type
 * names (copied: a set's strings go when the set goes), appended by its
 * thread and published to scrapers with a release store of its length.
 *
 * Every count has one writer, its block's thread, so an increment is a
 * relaxed load and store: atomic for the scraper's sake (no torn reads),
 * with no lock prefix.  Blocks are allocated on cache-line boundaries, so
 * two threads never write the same line.
 */
#include "metrics.h"

#include <dirent.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "gz_version.h"

/* ------------------------------------------------------------------ */
/* types                                                               */
/* ------------------------------------------------------------------ */

const char GZ_METRICS_CONTENT_TYPE[] = "text/plain; version=0.0.4; charset=utf-8";

typedef _Atomic uint64_t counter;

#define CODE_MIN 100
#define CODE_MAX 599
#define NCODES (CODE_MAX - CODE_MIN + 1)

/* Latency bucket bounds, in seconds and in nanoseconds.  From half a
 * millisecond (a short article on a warm worker) to 5 s (a 16 MiB body). */
static const char *const BOUND_LABELS[] = {
	"0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
	"0.1", "0.25", "0.5", "1", "2.5", "5",
};
static const uint64_t BOUND_NS[] = {
	500000, 1000000, 2500000, 5000000, 10000000, 25000000, 50000000,
	100000000, 250000000, 500000000, 1000000000, 2500000000u, 5000000000u,
};
#define NBOUNDS (sizeof(BOUND_NS) / sizeof(BOUND_NS[0]))

/* Distinct entity type names one thread keeps; the last slot, named
 * "other", takes every type past them (only a process that loaded
 * hundreds of types over its reloads would get there). */
#define MAX_TYPES 256

struct type_count {
	char *name;
	counter count;
};

struct endpoint_counts {
	counter codes[NCODES];
	counter unanswered;
	counter buckets[NBOUNDS + 1]; /* the last: over the largest bound */
	counter sum_ns;
};

struct block {
	struct block *next;           /* set before the block is published */
	counter tagged_bytes, tagged_texts;
	counter conn_opened, conn_closed;
	_Atomic size_t ntypes;        /* published with release */
	struct type_count types[MAX_TYPES];
	struct endpoint_counts ep[];  /* one per endpoint */
};

struct gz_metrics {
	uint64_t id;                  /* tells a thread's cached block apart */
	pthread_mutex_t lock;         /* serialises the pushes onto blocks */
	_Atomic(struct block *) blocks;
	size_t nendpoints;
	char *endpoints[GZ_METRICS_MAX_ENDPOINTS];
	double start_time;            /* unix seconds */
};

/* ------------------------------------------------------------------ */
/* recording                                                           */
/* ------------------------------------------------------------------ */

static atomic_uint_fast64_t next_id = 1;

/* The calling thread's block of the gz_metrics it last recorded on.  An id,
 * not a pointer, identifies that gz_metrics: a new one may be allocated
 * where a freed one was. */
static _Thread_local struct {
	uint64_t id;
	struct block *block;
} mine;

static inline void add(counter *c, uint64_t n)
{
	/* One writer: a plain load and store, no read-modify-write. */
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

static struct block *my_block(struct gz_metrics *m)
{
	if (mine.id == m->id)
		return mine.block;
	size_t size = sizeof(struct block) + m->nendpoints * sizeof(struct endpoint_counts);
	size = (size + 63) & ~(size_t)63;
	struct block *b = aligned_alloc(64, size);
	if (!b)
		return NULL; /* this request goes uncounted; the next one tries again */
	memset(b, 0, size);
	pthread_mutex_lock(&m->lock);
	b->next = atomic_load_explicit(&m->blocks, memory_order_relaxed);
	atomic_store_explicit(&m->blocks, b, memory_order_release);
	pthread_mutex_unlock(&m->lock);
	mine.id = m->id;
	mine.block = b;
	return b;
}

void gz_metrics_request(struct gz_metrics *m, size_t endpoint, unsigned status,
			struct timespec began)
{
	struct block *b = m ? my_block(m) : NULL;
	if (!b)
		return;
	if (endpoint >= m->nendpoints || !m->endpoints[endpoint])
		endpoint = 0;
	struct endpoint_counts *ec = &b->ep[endpoint];
	if (status < CODE_MIN || status > CODE_MAX) {
		add(&ec->unanswered, 1);
		return;
	}
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	int64_t ns = (int64_t)(now.tv_sec - began.tv_sec) * 1000000000 +
		     (now.tv_nsec - began.tv_nsec);
	uint64_t d = ns > 0 ? (uint64_t)ns : 0;
	size_t i = 0;
	while (i < NBOUNDS && d > BOUND_NS[i])
		i++;
	add(&ec->codes[status - CODE_MIN], 1);
	add(&ec->buckets[i], 1);
	add(&ec->sum_ns, d);
}

static void add_type(struct block *b, const char *name, uint64_t n)
{
	size_t k = atomic_load_explicit(&b->ntypes, memory_order_relaxed);
	for (size_t i = 0; i < k; i++) {
		if (!strcmp(b->types[i].name, name)) {
			add(&b->types[i].count, n);
			return;
		}
	}
	if (k == MAX_TYPES) { /* full: the last slot is "other" */
		add(&b->types[k - 1].count, n);
		return;
	}
	char *copy = strdup(k == MAX_TYPES - 1 ? "other" : name);
	if (!copy)
		return;
	b->types[k].name = copy;
	atomic_store_explicit(&b->types[k].count, n, memory_order_relaxed);
	/* The name and count are written before a scraper can see the slot. */
	atomic_store_explicit(&b->ntypes, k + 1, memory_order_release);
}

void gz_metrics_tagged(struct gz_metrics *m, const struct gz_tagger *t,
		       size_t text_bytes)
{
	struct block *b = m ? my_block(m) : NULL;
	if (!b)
		return;
	add(&b->tagged_bytes, text_bytes);
	add(&b->tagged_texts, 1);
	/* Count by type index first, so the names are compared once per type
	 * per text rather than once per entity. */
	uint32_t per_type[GZ_MAX_TYPES];
	const char *names[GZ_MAX_TYPES];
	int used = 0;
	size_t n = gz_tagger_span_count(t);
	const struct gz_span *sp = gz_tagger_spans(t);
	for (size_t i = 0; i < n; i++) {
		const struct gz_entry *e = sp[i].entry;
		int ti = e->type_index;
		if (ti < 0 || ti >= GZ_MAX_TYPES) {
			add_type(b, gz_entry_type(e), 1);
			continue;
		}
		for (; used <= ti; used++)
			per_type[used] = 0;
		if (!per_type[ti]++)
			names[ti] = gz_entry_type(e);
	}
	for (int ti = 0; ti < used; ti++)
		if (per_type[ti])
			add_type(b, names[ti], per_type[ti]);
}

void gz_metrics_connection(struct gz_metrics *m, int opened)
{
	struct block *b = m ? my_block(m) : NULL;
	if (b)
		add(opened ? &b->conn_opened : &b->conn_closed, 1);
}

/* ------------------------------------------------------------------ */
/* new and free                                                        */
/* ------------------------------------------------------------------ */

/* The process's start from /proc (the kernel's count of clock ticks since
 * boot, and the boot time), or 0 where /proc does not tell. */
static double proc_start_time(void)
{
	char buf[1024];
	double start = 0, btime = 0;
	FILE *f = fopen("/proc/self/stat", "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name in parentheses may hold spaces: count fields from
	 * the last ')'.  starttime is field 22; the state after ')' is 3. */
	char *p = strrchr(buf, ')');
	if (!p)
		return 0;
	p++;
	for (int field = 3; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p)
		return 0;
	unsigned long long ticks = strtoull(p + 1, NULL, 10);
	long hz = sysconf(_SC_CLK_TCK);
	if (hz <= 0 || !(f = fopen("/proc/stat", "r")))
		return 0;
	char line[256];
	while (fgets(line, sizeof(line), f)) {
		unsigned long long bt;
		if (sscanf(line, "btime %llu", &bt) == 1) {
			btime = (double)bt;
			break;
		}
	}
	fclose(f);
	if (btime > 0)
		start = btime + (double)ticks / (double)hz;
	return start;
}

struct gz_metrics *gz_metrics_new(const char *const *endpoints, size_t n)
{
	if (n == 0 || n > GZ_METRICS_MAX_ENDPOINTS)
		return NULL;
	struct gz_metrics *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->id = atomic_fetch_add(&next_id, 1);
	m->nendpoints = n;
	for (size_t i = 0; i < n; i++) {
		if (endpoints[i] && !(m->endpoints[i] = strdup(endpoints[i]))) {
			gz_metrics_free(m);
			return NULL;
		}
	}
	if (!m->endpoints[0] && !(m->endpoints[0] = strdup("other"))) {
		gz_metrics_free(m);
		return NULL;
	}
	pthread_mutex_init(&m->lock, NULL);
	atomic_init(&m->blocks, NULL);
	m->start_time = proc_start_time();
	if (m->start_time == 0) {
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		m->start_time = (double)now.tv_sec;
	}
	return m;
}

void gz_metrics_free(struct gz_metrics *m)
{
	if (!m)
		return;
	struct block *b = atomic_load(&m->blocks);
	while (b) {
		struct block *next = b->next;
		for (size_t i = 0; i < atomic_load(&b->ntypes); i++)
			free(b->types[i].name);
		free(b);
		b = next;
	}
	for (size_t i = 0; i < m->nendpoints; i++)
		free(m->endpoints[i]);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

/* ------------------------------------------------------------------ */
/* the exposition                                                      */
/* ------------------------------------------------------------------ */

static void put(struct gz_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void put(struct gz_buf *b, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line)) {
		b->failed = 1; /* every caller's line is far shorter */
		return;
	}
	gz_buf_append(b, line, (size_t)n);
}

/* A label value: backslash, double quote and newline escaped. */
static void put_label_value(struct gz_buf *b, const char *s)
{
	size_t run = 0, i = 0;
	for (; s[i]; i++) {
		const char *esc = s[i] == '\\' ? "\\\\" : s[i] == '"' ? "\\\"" :
				  s[i] == '\n' ? "\\n" : NULL;
		if (!esc)
			continue;
		gz_buf_append(b, s + run, i - run);
		gz_buf_append(b, esc, 2);
		run = i + 1;
	}
	gz_buf_append(b, s + run, i - run);
}

static void head(struct gz_buf *b, const char *name, const char *type, const char *help)
{
	put(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

#define EP_WORDS (NCODES + 1 + NBOUNDS + 1 + 1)
_Static_assert(sizeof(struct endpoint_counts) == EP_WORDS * sizeof(uint64_t),
	       "endpoint_counts is a flat array of counters");

/* The sums over every block, taken at one scrape. */
struct totals {
	uint64_t tagged_bytes, tagged_texts, conn_opened, conn_closed;
	struct { const char *name; uint64_t count; } *types;
	size_t ntypes;
	uint64_t ep[][EP_WORDS]; /* endpoint_counts, summed */
};


static int type_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int add_total_type(struct totals *t, size_t cap, const char *name, uint64_t n)
{
	for (size_t i = 0; i < t->ntypes; i++) {
		if (!strcmp(t->types[i].name, name)) {
			t->types[i].count += n;
			return 0;
		}
	}
	if (t->ntypes == cap)
		return -1;
	t->types[t->ntypes].name = name;
	t->types[t->ntypes].count = n;
	t->ntypes++;
	return 0;
}

/* Sums the blocks; the set's types (may be NULL) are listed even at 0, so
 * a type appears from the start rather than at its first entity. */
static struct totals *sum_blocks(struct gz_metrics *m, const struct gz_set *set)
{
	struct block *first = atomic_load_explicit(&m->blocks, memory_order_acquire);
	size_t cap = set ? gz_set_type_count(set) : 0;
	for (struct block *b = first; b; b = b->next)
		cap += atomic_load_explicit(&b->ntypes, memory_order_acquire);
	struct totals *t = calloc(1, sizeof(*t) + m->nendpoints * sizeof(t->ep[0]));
	if (!t || !(t->types = calloc(cap ? cap : 1, sizeof(t->types[0])))) {
		free(t);
		return NULL;
	}
	for (size_t i = 0; set && i < gz_set_type_count(set); i++)
		add_total_type(t, cap, gz_set_type(set, i), 0);
	for (struct block *b = first; b; b = b->next) {
		t->tagged_bytes += atomic_load_explicit(&b->tagged_bytes, memory_order_relaxed);
		t->tagged_texts += atomic_load_explicit(&b->tagged_texts, memory_order_relaxed);
		/* closed before opened: a connection closes on the thread that
		 * opened it, so the difference never goes below zero */
		t->conn_closed += atomic_load_explicit(&b->conn_closed, memory_order_relaxed);
		t->conn_opened += atomic_load_explicit(&b->conn_opened, memory_order_relaxed);
		for (size_t e = 0; e < m->nendpoints; e++) {
			const counter *c = (const counter *)&b->ep[e];
			for (size_t w = 0; w < EP_WORDS; w++)
				t->ep[e][w] += atomic_load_explicit(&c[w], memory_order_relaxed);
		}
		/* The names in [0, k) were written before k was published. */
		size_t k = atomic_load_explicit(&b->ntypes, memory_order_acquire);
		for (size_t i = 0; i < k; i++)
			add_total_type(t, cap, b->types[i].name,
				       atomic_load_explicit(&b->types[i].count,
							    memory_order_relaxed));
	}
	qsort(t->types, t->ntypes, sizeof(t->types[0]), type_cmp);
	return t;
}

static void write_http(struct gz_metrics *m, const struct totals *t, struct gz_buf *b)
{
	head(b, "gaztag_http_requests_total", "counter",
	     "HTTP requests answered, by endpoint and status code.");
	for (size_t e = 0; e < m->nendpoints; e++) {
		if (!m->endpoints[e])
			continue;
		for (size_t c = 0; c < NCODES; c++) {
			/* 200 always, for every named endpoint: a series that
			 * exists from the start makes rate() right from the start. */
			if (t->ep[e][c] || (e && c + CODE_MIN == 200))
				put(b, "gaztag_http_requests_total{endpoint=\"%s\",code=\"%zu\"} %" PRIu64 "\n",
				    m->endpoints[e], c + CODE_MIN, t->ep[e][c]);
		}
	}
	head(b, "gaztag_http_requests_unanswered_total", "counter",
	     "HTTP requests that ended without an answer (the client went away, "
	     "or the connection was cut), by endpoint.");
	for (size_t e = 0; e < m->nendpoints; e++)
		if (m->endpoints[e])
			put(b, "gaztag_http_requests_unanswered_total{endpoint=\"%s\"} %" PRIu64 "\n",
			    m->endpoints[e], t->ep[e][NCODES]);
	head(b, "gaztag_http_request_duration_seconds", "histogram",
	     "Time from a request's headers to the end of its answer, by endpoint.");
	for (size_t e = 0; e < m->nendpoints; e++) {
		if (!m->endpoints[e])
			continue;
		const uint64_t *bk = &t->ep[e][NCODES + 1];
		uint64_t cum = 0;
		for (size_t i = 0; i <= NBOUNDS; i++) {
			cum += bk[i];
			put(b, "gaztag_http_request_duration_seconds_bucket{endpoint=\"%s\",le=\"%s\"} %"
			    PRIu64 "\n", m->endpoints[e], i < NBOUNDS ? BOUND_LABELS[i] : "+Inf", cum);
		}
		uint64_t ns = bk[NBOUNDS + 1];
		put(b, "gaztag_http_request_duration_seconds_sum{endpoint=\"%s\"} %" PRIu64 ".%09" PRIu64 "\n",
		    m->endpoints[e], ns / 1000000000u, ns % 1000000000u);
		put(b, "gaztag_http_request_duration_seconds_count{endpoint=\"%s\"} %" PRIu64 "\n",
		    m->endpoints[e], cum);
	}
	head(b, "gaztag_http_open_connections", "gauge", "HTTP connections open now.");
	put(b, "gaztag_http_open_connections %" PRIu64 "\n",
	    t->conn_opened > t->conn_closed ? t->conn_opened - t->conn_closed : 0);
	head(b, "gaztag_http_connections_total", "counter", "HTTP connections accepted.");
	put(b, "gaztag_http_connections_total %" PRIu64 "\n", t->conn_opened);
}

static void write_tagging(const struct totals *t, struct gz_buf *b)
{
	head(b, "gaztag_tagged_bytes_total", "counter",
	     "Bytes of text tagged (the texts themselves, not the request bodies around them).");
	put(b, "gaztag_tagged_bytes_total %" PRIu64 "\n", t->tagged_bytes);
	head(b, "gaztag_tagged_texts_total", "counter",
	     "Texts tagged: one per POST /tag, one per NDJSON line.");
	put(b, "gaztag_tagged_texts_total %" PRIu64 "\n", t->tagged_texts);
	head(b, "gaztag_entities_total", "counter", "Entities returned, by type.");
	for (size_t i = 0; i < t->ntypes; i++) {
		gz_buf_append(b, "gaztag_entities_total{type=\"", 28);
		put_label_value(b, t->types[i].name);
		put(b, "\"} %" PRIu64 "\n", t->types[i].count);
	}
}

static void write_gazetteers(struct gz_reloader *r, const struct gz_set *set,
			     struct gz_buf *b)
{
	head(b, "gaztag_gazetteer_loaded", "gauge",
	     "1 when a gazetteer set is in service, 0 before the first load.");
	put(b, "gaztag_gazetteer_loaded %d\n", set != NULL);
	head(b, "gaztag_gazetteer_entries", "gauge", "Entries in the gazetteer set in service.");
	put(b, "gaztag_gazetteer_entries %zu\n", set ? gz_set_entry_count(set) : 0);
	head(b, "gaztag_gazetteer_names", "gauge",
	     "Names (distinct entry and folded name pairs) in the gazetteer set in service.");
	put(b, "gaztag_gazetteer_names %zu\n", set ? gz_set_name_count(set) : 0);
	head(b, "gaztag_gazetteer_files", "gauge", "Files in the gazetteer set in service.");
	put(b, "gaztag_gazetteer_files %zu\n", set ? gz_set_file_count(set) : 0);
	/* build-info style: the value is always 1, the hash is in the label;
	 * no sample before the first load (a family may be empty) */
	head(b, "gaztag_gazetteers_info", "gauge",
	     "The content hash of the gazetteer set in service (as in /health and every /tag "
	     "answer), in its label; always 1.");
	if (set)
		put(b, "gaztag_gazetteers_info{hash=\"%s\"} 1\n", gz_set_hash(set));
	if (!r)
		return;
	struct gz_reload_status st;
	gz_reloader_status(r, &st);
	head(b, "gaztag_gazetteer_generation", "gauge",
	     "Gazetteer sets put in service since start (the first load is 1).");
	put(b, "gaztag_gazetteer_generation %" PRIu64 "\n", st.generation);
	head(b, "gaztag_reloads_total", "counter",
	     "Gazetteer loads (the first one, SIGHUP, POST /reload), by outcome.");
	uint64_t failed = st.failures < st.reloads ? st.failures : st.reloads;
	put(b, "gaztag_reloads_total{outcome=\"ok\"} %" PRIu64 "\n", st.reloads - failed);
	put(b, "gaztag_reloads_total{outcome=\"failed\"} %" PRIu64 "\n", failed);
	head(b, "gaztag_reload_last_success_timestamp_seconds", "gauge",
	     "When the set in service finished loading, in unix seconds (0 before the first load).");
	struct timespec at = set ? gz_set_loaded_at(set) : (struct timespec){ 0, 0 };
	put(b, "gaztag_reload_last_success_timestamp_seconds %lld.%03ld\n",
	    (long long)at.tv_sec, at.tv_nsec / 1000000);
}

static void write_process(struct gz_metrics *m, struct gz_buf *b)
{
	struct rusage ru;
	if (!getrusage(RUSAGE_SELF, &ru)) {
		double cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
			     (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
		head(b, "process_cpu_seconds_total", "counter",
		     "User and system CPU time spent, in seconds.");
		put(b, "process_cpu_seconds_total %.6f\n", cpu);
	}
	unsigned long long pages_virt, pages_res;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f) {
		long page = sysconf(_SC_PAGESIZE);
		if (fscanf(f, "%llu %llu", &pages_virt, &pages_res) == 2 && page > 0) {
			head(b, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
			put(b, "process_resident_memory_bytes %llu\n", pages_res * (unsigned long long)page);
			head(b, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
			put(b, "process_virtual_memory_bytes %llu\n", pages_virt * (unsigned long long)page);
		}
		fclose(f);
	}
	DIR *d = opendir("/proc/self/fd");
	if (d) {
		long fds = -1; /* the directory's own descriptor is not the process's */
		struct dirent *de;
		while ((de = readdir(d)))
			if (de->d_name[0] != '.')
				fds++;
		closedir(d);
		head(b, "process_open_fds", "gauge", "Open file descriptors.");
		put(b, "process_open_fds %ld\n", fds);
	}
	struct rlimit rl;
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur != RLIM_INFINITY) {
		head(b, "process_max_fds", "gauge", "The limit on open file descriptors.");
		put(b, "process_max_fds %llu\n", (unsigned long long)rl.rlim_cur);
	}
	head(b, "process_start_time_seconds", "gauge",
	     "Start time of the process since the epoch, in seconds.");
	put(b, "process_start_time_seconds %.2f\n", m->start_time);
}

int gz_metrics_write(struct gz_metrics *m, struct gz_reloader *r, struct gz_buf *out)
{
	struct gz_set *set = r ? gz_reloader_acquire(r) : NULL;
	struct totals *t = sum_blocks(m, set);
	if (!t) {
		if (set)
			gz_set_unref(set);
		out->failed = 1;
		return GZ_ENOMEM;
	}
	head(out, "gaztag_build_info", "gauge",
	     "The version of gaztagd, in its label; always 1.");
	put(out, "gaztag_build_info{version=\"%s\"} 1\n", GZ_VERSION);
	write_http(m, t, out);
	write_tagging(t, out); /* before the unref: type names may be the set's */
	write_gazetteers(r, set, out);
	write_process(m, out);
	if (set)
		gz_set_unref(set);
	free(t->types);
	free(t);
	return out->failed ? GZ_ENOMEM : 0;
}
