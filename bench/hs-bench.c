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

#include "bench-util.h"

struct ctx {
	const unsigned char *buf;
	unsigned long long len;
	const size_t *lens;
	size_t all, whole;
};

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
	char *names = bench_slurp("hs-bench", argv[1], &nsize);
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

	long rss0 = bench_rss_kb("VmRSS:");
	struct bench_clock t0 = bench_clock_now();
	hs_database_t *db = NULL;
	hs_compile_error_t *cerr = NULL;
	if (hs_compile_lit_multi(pats, flags, ids, lens, (unsigned int)n, HS_MODE_BLOCK, NULL, &db,
				 &cerr) != HS_SUCCESS) {
		fprintf(stderr, "hs-bench: compile failed: %s (pattern %d)\n", cerr->message,
			cerr->expression);
		return 1;
	}
	struct bench_clock compile = bench_clock_since(t0);
	size_t dbsize = 0;
	hs_database_size(db, &dbsize);
	hs_scratch_t *scratch = NULL;
	if (hs_alloc_scratch(db, &scratch) != HS_SUCCESS) {
		fprintf(stderr, "hs-bench: cannot allocate scratch\n");
		return 1;
	}
	long rss1 = bench_rss_kb("VmRSS:");

	size_t size;
	char *text = bench_slurp("hs-bench", argv[2], &size);
	struct ctx c = {0};
	c.lens = lens;
	struct bench_clock best = BENCH_CLOCK_WORST;
	for (int r = 0; r < repeat; r++) {
		c.all = c.whole = 0;
		struct bench_clock s0 = bench_clock_now();
		size_t pos = 0;
		while (pos < size) {
			size_t end = bench_piece_end(text, size, pos);
			c.buf = (const unsigned char *)text + pos;
			c.len = end - pos;
			if (hs_scan(db, text + pos, (unsigned int)(end - pos), 0, scratch, on_match, &c) !=
			    HS_SUCCESS) {
				fprintf(stderr, "hs-bench: scan failed\n");
				return 1;
			}
			pos = end;
		}
		bench_clock_best(&best, bench_clock_since(s0));
	}
	printf("{\"patterns\": %zu, \"compile_s\": %.3f, \"compile_cpu_s\": %.3f, \"db_mb\": %.1f, "
	       "\"compile_rss_mb\": %.1f, \"peak_rss_mb\": %.1f, \"corpus_mb\": %.1f, "
	       "\"scan_s\": %.3f, \"mb_per_s\": %.1f, \"scan_cpu_s\": %.3f, \"mb_per_cpu_s\": %.1f, "
	       "\"matches\": %zu, \"whole_word\": %zu, \"hs_version\": \"%s\"}\n",
	       n, compile.wall, compile.cpu, (double)dbsize / 1e6, (double)(rss1 - rss0) / 1024.0,
	       (double)bench_rss_kb("VmHWM:") / 1024.0, (double)size / 1e6, best.wall,
	       (double)size / 1e6 / best.wall, best.cpu, (double)size / 1e6 / best.cpu, c.all,
	       c.whole, hs_version());
	hs_free_scratch(scratch);
	hs_free_database(db);
	return 0;
}
