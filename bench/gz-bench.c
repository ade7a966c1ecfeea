/*
 * gz-bench: the engine alone, for bench/run.  Loads gazetteers, reads a
 * corpus, and tags it (in paragraphs-sized pieces of about 64 KiB, as a
 * daemon would see articles) with full SPEC §3 semantics, reporting load
 * time, scan throughput (wall clock and CPU time, best of N) and the number
 * of spans, without JSON output.
 *
 *   gz-bench CORPUS GAZETTEER... [--repeat N] [--overlaps all]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "set.h"
#include "tagger.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of this (single-threaded) process: on a machine shared with other
 * work it measures the engine better than the wall clock does. */
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

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: gz-bench CORPUS GAZETTEER... [--repeat N] [--overlaps all]\n");
		return 2;
	}
	int repeat = 1;
	struct gz_tag_options opts;
	gz_tag_options_init(&opts);
	const char **paths = calloc((size_t)argc, sizeof(char *));
	size_t np = 0;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc)
			repeat = atoi(argv[++i]);
		else if (strcmp(argv[i], "--overlaps") == 0 && i + 1 < argc)
			gz_overlaps_parse(argv[++i], &opts.overlaps, NULL);
		else
			paths[np++] = argv[i];
	}
	long rss0 = rss_kb("VmRSS:");
	double t0 = now(), c0 = cpu_now();
	struct gz_set *set = NULL;
	struct gz_diag diag;
	gz_diag_init(&diag);
	if (gz_set_load(paths, np, &diag, &set, NULL)) {
		for (size_t i = 0; i < diag.count && i < 20; i++)
			fprintf(stderr, "%s\n", diag.lines[i]);
		return 1;
	}
	double load = now() - t0, load_cpu = cpu_now() - c0;
	long rss1 = rss_kb("VmRSS:");

	FILE *f = fopen(argv[1], "rb");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *text = malloc((size_t)size + 1);
	if (fread(text, 1, (size_t)size, f) != (size_t)size)
		return 1;
	fclose(f);

	struct gz_tagger *t = gz_tagger_new();
	size_t spans = 0;
	double best = 1e9, best_cpu = 1e9;
	for (int r = 0; r < repeat; r++) {
		spans = 0;
		double s0 = now(), sc0 = cpu_now();
		size_t pos = 0;
		while (pos < (size_t)size) {
			size_t end = pos + 65536 < (size_t)size ? pos + 65536 : (size_t)size;
			/* cut at a line end, and never inside a UTF-8 sequence */
			while (end < (size_t)size && text[end - 1] != '\n')
				end++;
			struct gz_error err;
			if (gz_tagger_run(t, set, text + pos, end - pos, &opts, &err) == 0)
				spans += gz_tagger_span_count(t);
			pos = end;
		}
		double el = now() - s0, cel = cpu_now() - sc0;
		if (el < best)
			best = el;
		if (cel < best_cpu)
			best_cpu = cel;
	}
	printf("{\"names\": %zu, \"entries\": %zu, \"load_s\": %.3f, \"load_cpu_s\": %.3f, "
	       "\"set_rss_mb\": %.1f, \"peak_rss_mb\": %.1f, \"corpus_mb\": %.1f, \"scan_s\": %.3f, "
	       "\"mb_per_s\": %.1f, \"scan_cpu_s\": %.3f, \"mb_per_cpu_s\": %.1f, \"spans\": %zu}\n",
	       gz_set_name_count(set), gz_set_entry_count(set), load, load_cpu,
	       (double)(rss1 - rss0) / 1024.0, (double)rss_kb("VmHWM:") / 1024.0, (double)size / 1e6,
	       best, (double)size / 1e6 / best, best_cpu, (double)size / 1e6 / best_cpu, spans);
	gz_tagger_free(t);
	gz_set_unref(set);
	free(text);
	free(paths);
	gz_diag_clear(&diag);
	return 0;
}
