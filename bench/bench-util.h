/*
 * bench-util.h: what gz-bench and hs-bench measure the same way, so that
 * their numbers in bench/RESULTS.md compare like with like: wall-clock and
 * CPU time, best of N; resident memory from /proc/self/status; the corpus
 * read whole and scanned in the same pieces (about 64 KiB, cut at a line
 * end, as a daemon would see articles).
 *
 * Static inline functions, header only: hs-bench is built by bench/run with
 * a plain gcc command line (it is not part of the meson build), gz-bench by
 * meson, and neither needs a third file compiled in.  The includer defines
 * _POSIX_C_SOURCE or _GNU_SOURCE (for clock_gettime) before any #include.
 */
#ifndef GZ_BENCH_UTIL_H
#define GZ_BENCH_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A moment, or a span of time, by both clocks: the CPU time of this
 * single-threaded process measures the code better than the wall clock on
 * a machine shared with other work, so both are reported. */
struct bench_clock {
	double wall, cpu;
};

#define BENCH_CLOCK_WORST ((struct bench_clock){1e9, 1e9})

static inline double bench_seconds(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline struct bench_clock bench_clock_now(void)
{
	return (struct bench_clock){bench_seconds(CLOCK_MONOTONIC),
				    bench_seconds(CLOCK_PROCESS_CPUTIME_ID)};
}

static inline struct bench_clock bench_clock_since(struct bench_clock start)
{
	struct bench_clock now = bench_clock_now();
	return (struct bench_clock){now.wall - start.wall, now.cpu - start.cpu};
}

/* Keeps in *best the shortest of each clock seen: best of N runs, as the
 * slower runs measure the machine's other work rather than the code. */
static inline void bench_clock_best(struct bench_clock *best, struct bench_clock lap)
{
	if (lap.wall < best->wall)
		best->wall = lap.wall;
	if (lap.cpu < best->cpu)
		best->cpu = lap.cpu;
}

/* The kB of a line of /proc/self/status: "VmRSS:" now, "VmHWM:" the peak;
 * -1 when it cannot be read. */
static inline long bench_rss_kb(const char *which)
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

/* The whole file at path, NUL-terminated, its length in *size; exits with
 * a message naming the file when it cannot be read (a benchmark has no
 * use for a partial input). */
static inline char *bench_slurp(const char *prog, const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "%s: ", prog);
		perror(path);
		exit(1);
	}
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = n >= 0 ? malloc((size_t)n + 1) : NULL;
	if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "%s: cannot read %s\n", prog, path);
		exit(1);
	}
	b[n] = 0;
	fclose(f);
	*size = (size_t)n;
	return b;
}

/* The end of the piece of text[0..size) that starts at pos: 64 KiB on,
 * then on to the next line end, so that a piece never ends inside a word
 * or a UTF-8 sequence. */
static inline size_t bench_piece_end(const char *text, size_t size, size_t pos)
{
	size_t end = pos + 65536 < size ? pos + 65536 : size;
	while (end < size && text[end - 1] != '\n')
		end++;
	return end;
}

#endif
