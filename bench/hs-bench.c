/*
 * hs-bench: Hyperscan on the benchmark's dictionary, for bench/run.
 *
 * Compiles every line of NAMES as a caseless literal (hs_compile_lit_multi,
 * HS_FLAG_CASELESS: ASCII case only, no Unicode folding) into one block-mode
 * database, then scans CORPUS in the same pieces gz-bench uses (about 64 KiB,
 * cut at a line end), best of N.  It counts every match Hyperscan reports
 * (all literals, overlapping, inside words too) and, separately, the matches
 * whose ends fall on ASCII word boundaries, a whole-word filter done in the
 * callback: a literal's start is its end minus its length, so no SOM flag is
 * needed.  Prints one JSON line.  Not part of gaztag; built by bench/run.
 *
 *   hs-bench NAMES CORPUS [--repeat N]
 */
#define _POSIX_C_SOURCE 200809L
#include <hs/hs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct ctx {
	const unsigned char *buf;
	unsigned long long len;
	const size_t *lens;
	size_t all, whole;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kb(const char *which)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, which, strlen(which)) == 0)
			kb = strtol(line + strlen(which), NULL, 10);
	if (f)
		fclose(f);
	return kb;
}

/* ASCII letters and digits, and any byte of a multi-byte UTF-8 sequence
 * (which we take as a letter: names are mostly Latin with diacritics). */
static int wordy(unsigned char c)
{
	return (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z') || c >= 0x80;
}

static int on_match(unsigned int id, unsigned long long from, unsigned long long to,
		    unsigned int flags, void *p)
{
	(void)from;
	(void)flags;
	struct ctx *c = p;
	c->all++;
	unsigned long long start = to - c->lens[id];
	if ((start == 0 || !wordy(c->buf[start - 1])) && (to == c->len || !wordy(c->buf[to])))
		c->whole++;
	return 0;
}

static char *slurp(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		exit(1);
	}
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc((size_t)n + 1);
	if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "hs-bench: cannot read %s\n", path);
		exit(1);
	}
	b[n] = 0;
	fclose(f);
	*size = (size_t)n;
	return b;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: hs-bench NAMES CORPUS [--repeat N]\n");
		return 2;
	}
	int repeat = 1;
	for (int i = 3; i + 1 < argc; i++)
		if (strcmp(argv[i], "--repeat") == 0)
			repeat = atoi(argv[++i]);

	size_t nsize;
	char *names = slurp(argv[1], &nsize);
	size_t cap = 1024, n = 0;
	const char **pats = malloc(cap * sizeof *pats);
	size_t *lens = malloc(cap * sizeof *lens);
	for (char *p = names, *e; p < names + nsize; p = e + 1) {
		e = memchr(p, '\n', (size_t)(names + nsize - p));
		if (!e)
			e = names + nsize;
		if (e == p)
			continue;
		if (n == cap) {
			cap *= 2;
			pats = realloc(pats, cap * sizeof *pats);
			lens = realloc(lens, cap * sizeof *lens);
		}
		pats[n] = p;
		lens[n] = (size_t)(e - p);
		n++;
	}
	unsigned int *flags = malloc(n * sizeof *flags), *ids = malloc(n * sizeof *ids);
	for (size_t i = 0; i < n; i++) {
		flags[i] = HS_FLAG_CASELESS;
		ids[i] = (unsigned int)i;
	}

	long rss0 = rss_kb("VmRSS:");
	double t0 = now(), c0 = cpu_now();
	hs_database_t *db = NULL;
	hs_compile_error_t *cerr = NULL;
	if (hs_compile_lit_multi(pats, flags, ids, lens, (unsigned int)n, HS_MODE_BLOCK, NULL, &db,
				 &cerr) != HS_SUCCESS) {
		fprintf(stderr, "hs-bench: compile failed: %s (pattern %d)\n", cerr->message,
			cerr->expression);
		return 1;
	}
	double compile = now() - t0, compile_cpu = cpu_now() - c0;
	size_t dbsize = 0;
	hs_database_size(db, &dbsize);
	hs_scratch_t *scratch = NULL;
	if (hs_alloc_scratch(db, &scratch) != HS_SUCCESS) {
		fprintf(stderr, "hs-bench: cannot allocate scratch\n");
		return 1;
	}
	long rss1 = rss_kb("VmRSS:");

	size_t size;
	char *text = slurp(argv[2], &size);
	struct ctx c = {0};
	c.lens = lens;
	double best = 1e9, best_cpu = 1e9;
	for (int r = 0; r < repeat; r++) {
		c.all = c.whole = 0;
		double s0 = now(), sc0 = cpu_now();
		size_t pos = 0;
		while (pos < size) {
			size_t end = pos + 65536 < size ? pos + 65536 : size;
			while (end < size && text[end - 1] != '\n')
				end++;
			c.buf = (const unsigned char *)text + pos;
			c.len = end - pos;
			if (hs_scan(db, text + pos, (unsigned int)(end - pos), 0, scratch, on_match, &c) !=
			    HS_SUCCESS) {
				fprintf(stderr, "hs-bench: scan failed\n");
				return 1;
			}
			pos = end;
		}
		double el = now() - s0, cel = cpu_now() - sc0;
		if (el < best)
			best = el;
		if (cel < best_cpu)
			best_cpu = cel;
	}
	printf("{\"patterns\": %zu, \"compile_s\": %.3f, \"compile_cpu_s\": %.3f, \"db_mb\": %.1f, "
	       "\"compile_rss_mb\": %.1f, \"peak_rss_mb\": %.1f, \"corpus_mb\": %.1f, "
	       "\"scan_s\": %.3f, \"mb_per_s\": %.1f, \"scan_cpu_s\": %.3f, \"mb_per_cpu_s\": %.1f, "
	       "\"matches\": %zu, \"whole_word\": %zu, \"hs_version\": \"%s\"}\n",
	       n, compile, compile_cpu, (double)dbsize / 1e6, (double)(rss1 - rss0) / 1024.0,
	       (double)rss_kb("VmHWM:") / 1024.0, (double)size / 1e6, best, (double)size / 1e6 / best,
	       best_cpu, (double)size / 1e6 / best_cpu, c.all, c.whole, hs_version());
	hs_free_scratch(scratch);
	hs_free_database(db);
	return 0;
}
