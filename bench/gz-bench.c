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

#include "bench-util.h"
#include "set.h"
#include "tagger.h"

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
	long rss0 = bench_rss_kb("VmRSS:");
	struct bench_clock t0 = bench_clock_now();
	struct gz_set *set = NULL;
	struct gz_diag diag;
	gz_diag_init(&diag);
	if (gz_set_load(paths, np, &diag, &set, NULL)) {
		for (size_t i = 0; i < diag.count && i < 20; i++)
			fprintf(stderr, "%s\n", diag.lines[i]);
		return 1;
	}
	struct bench_clock load = bench_clock_since(t0);
	long rss1 = bench_rss_kb("VmRSS:");

	size_t size;
	char *text = bench_slurp("gz-bench", argv[1], &size);

	struct gz_tagger *t = gz_tagger_new();
	size_t spans = 0;
	struct bench_clock best = BENCH_CLOCK_WORST;
	for (int r = 0; r < repeat; r++) {
		spans = 0;
		struct bench_clock s0 = bench_clock_now();
		size_t pos = 0;
		while (pos < size) {
			size_t end = bench_piece_end(text, size, pos);
			struct gz_error err;
			if (gz_tagger_run(t, set, text + pos, end - pos, &opts, &err) == 0)
				spans += gz_tagger_span_count(t);
			pos = end;
		}
		bench_clock_best(&best, bench_clock_since(s0));
	}
	printf("{\"names\": %zu, \"entries\": %zu, \"load_s\": %.3f, \"load_cpu_s\": %.3f, "
	       "\"set_rss_mb\": %.1f, \"peak_rss_mb\": %.1f, \"corpus_mb\": %.1f, \"scan_s\": %.3f, "
	       "\"mb_per_s\": %.1f, \"scan_cpu_s\": %.3f, \"mb_per_cpu_s\": %.1f, \"spans\": %zu}\n",
	       gz_set_name_count(set), gz_set_entry_count(set), load.wall, load.cpu,
	       (double)(rss1 - rss0) / 1024.0, (double)bench_rss_kb("VmHWM:") / 1024.0,
	       (double)size / 1e6, best.wall, (double)size / 1e6 / best.wall, best.cpu,
	       (double)size / 1e6 / best.cpu, spans);
	gz_tagger_free(t);
	gz_set_unref(set);
	free(text);
	free(paths);
	gz_diag_clear(&diag);
	return 0;
}
