/*
 * gaztagd: argument parsing and the three modes (serve, --check, --tag).
 * Everything else lives in the engine and the HTTP modules.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "checked.h"
#include "config.h"
#include "error.h"
#include "fold.h"
#include "risks.h"
#include "gz_version.h"
#include "http.h"
#include "log.h"
#include "process.h"
#include "json.h"
#include "reload.h"
#include "request.h"
#include "set.h"
#include "snapshot.h"
#include "tagger.h"
#include "watch.h"

#define GZ_MMAP_THRESHOLD (1 << 20)

struct args {
	const char *config;
	const char *listen;
	const char **gazetteers;
	size_t ngazetteers;
	const char *threads;
	const char *log_level;
	const char *user;
	int check;
	const char *tag;
	int ndjson;
	const char *lookup;
	const char *compile;
	const char *cache;
	struct gz_request_options opts;
};

/* The tag options of --tag come from request.h's table (gz_options): they
 * are named, listed and read as in a query string or a JSON body. */
#define TAG_OPTION_FIRST 256   /* getopt values: TAG_OPTION_FIRST + index */

static void usage(FILE *f)
{
	fputs("usage: gaztagd [--config FILE] [--listen HOST:PORT] [--gazetteers PATH]... [--threads N]\n"
	      "               [--log-level error|warn|info|debug] [--user NAME] [--cache DIR]\n"
	      "       gaztagd --check [--config FILE | --gazetteers PATH...]\n"
	      "       gaztagd --compile OUT.gzs [--config FILE | --gazetteers PATH...] [--cache DIR]\n"
	      "       gaztagd --tag FILE|- [--config FILE | --gazetteers PATH...] [--ndjson]\n"
	      "              ", f);
	int col = 14;
	for (const struct gz_option *o = gz_options; o->name; o++) {
		char item[120];
		int n = snprintf(item, sizeof item, " [--%s%s", o->name,
				 o->kind == GZ_OPTION_TYPES ? " T,.." : o->kind == GZ_OPTION_CHOICE ? " " : "");
		for (const char *const *v = o->kind == GZ_OPTION_CHOICE ? o->values : NULL; v && *v; v++)
			n += snprintf(item + n, sizeof item - (size_t)n, "%s%s", *v, v[1] ? "|" : "");
		n += snprintf(item + n, sizeof item - (size_t)n, "]");
		if (col + n > 88) {
			fputs("\n              ", f);
			col = 14;
		}
		fputs(item, f);
		col += n;
	}
	fputs("\n"
	      "       gaztagd --lookup TEXT [--config FILE | --gazetteers PATH...]\n"
	      "       gaztagd --version\n",
	      f);
}

/* --check: load everything, print every problem, exit 0 or 1. */
#define RISKS_SHOWN 20
static int run_check(const char *const *paths, size_t n)
{
	struct gz_diag diag;
	struct gz_set *set = NULL;
	struct gz_error err = { 0 };
	gz_diag_init(&diag);
	int r = gz_set_open(paths, n, NULL, &diag, &set, NULL, NULL, &err);
	for (size_t i = 0; i < diag.count; i++)
		fprintf(stderr, "%s\n", diag.lines[i]);
	if (r == 0) {
		/* what will tag ordinary prose, and what is ambiguous across
		 * files: warnings, the first few of each kind */
		struct gz_diag risks;
		struct gz_risk_counts rc;
		gz_diag_init(&risks);
		gz_risks_report(set, &risks, RISKS_SHOWN, &rc);
		for (size_t i = 0; i < risks.count; i++)
			fprintf(stderr, "%s\n", risks.lines[i]);
		gz_diag_clear(&risks);
		if (rc.common)
			fprintf(stderr, "gaztagd: warning: %zu name%s %s common word%s that match%s in "
				"any case and need%s no evidence%s\n", rc.common,
				rc.common == 1 ? "" : "s", rc.common == 1 ? "is a" : "are",
				rc.common == 1 ? "" : "s", rc.common == 1 ? "es" : "",
				rc.common == 1 ? "s" : "",
				rc.common > RISKS_SHOWN ? " (the first shown above)" : "");
		if (rc.shared)
			fprintf(stderr, "gaztagd: note: %zu surface form%s shared by entries of different "
				"files%s\n", rc.shared, rc.shared == 1 ? " is" : "s are",
				rc.shared > RISKS_SHOWN ? " (the first shown above)" : "");
		fprintf(stderr, "gaztagd: ok: %zu file%s, %zu entries, %zu names\n",
			gz_set_file_count(set), gz_set_file_count(set) == 1 ? "" : "s",
			gz_set_entry_count(set), gz_set_name_count(set));
	} else if (diag.count == 0) {
		char buf[1200];
		fprintf(stderr, "gaztagd: %s\n", gz_error_format(&err, buf, sizeof buf));
	} else {
		fprintf(stderr, "gaztagd: %zu problem%s found\n", diag.count, diag.count == 1 ? "" : "s");
	}
	gz_diag_clear(&diag);
	gz_set_unref(set);
	return r == 0 ? 0 : 1;
}

/* The text of --tag: a regular file is mapped (no copy, and pages the
 * kernel can drop again), anything else (stdin, a pipe) read whole.
 * *mapped says which, for release_text. */
static char *read_text(const char *path, size_t *len, int *mapped)
{
	int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct stat st;
	char *buf = NULL;
	*mapped = 0;
	*len = 0;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		buf = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
		if (buf != MAP_FAILED) {
			madvise(buf, (size_t)st.st_size, MADV_SEQUENTIAL);
			*mapped = 1;
			*len = (size_t)st.st_size;
			if (fd)
				close(fd);
			return buf;
		}
		buf = NULL;
	}
	size_t cap = 1 << 20, n = 0;
	buf = malloc(cap);
	for (;;) {
		if (!buf)
			break;
		if (n == cap) {
			char *b = realloc(buf, cap *= 2);
			if (!b) {
				free(buf);
				buf = NULL;
				errno = ENOMEM;
				break;
			}
			buf = b;
		}
		ssize_t k = read(fd, buf + n, cap - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			free(buf);
			buf = NULL;
			break;
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	if (fd)
		close(fd);
	*len = n;
	return buf;
}

static void release_text(char *text, size_t len, int mapped)
{
	if (mapped)
		munmap(text, len);
	else
		free(text);
}

/* Writes b's bytes to stdout and empties it; -1 when stdout fails. */
static int flush_out(struct gz_buf *b)
{
	size_t off = 0;
	while (off < b->len) {
		ssize_t k = write(1, b->data + off, b->len - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		off += (size_t)k;
	}
	b->len = 0;
	return 0;
}

/* --compile OUT: build the gazetteers and write their snapshot.  With a
 * cache directory, the file written is then checked as a daemon checks it
 * and the check recorded there (checked.h), so that the first daemon on
 * that cache maps it without reading it whole. */
static int record_check(const char *out, const char *cache)
{
	struct gz_set *mapped = NULL;
	struct gz_error err = { 0 };
	int full;
	/* past the quiet time a record needs (the rename just set the ctime) */
	nanosleep(&(struct timespec){ 0, (GZ_CHECKED_QUIET_MS + 10) * 1000000L }, NULL);
	if (gz_snapshot_load(out, NULL, cache, &mapped, &full, &err)) {
		fprintf(stderr, "gaztagd: %s\n", err.message);
		return 1;
	}
	int e = errno; /* GZ_SNAPSHOT_UNRECORDED's */
	gz_set_unref(mapped);
	if (full == GZ_SNAPSHOT_UNRECORDED)
		fprintf(stderr, "gaztagd: warning: cannot record the check of %s in %s: %s\n", out,
			cache, strerror(e));
	else if (full == GZ_SNAPSHOT_FULL)
		fprintf(stderr, "gaztagd: checked %s and recorded it in %s: a daemon with that cache "
			"maps it without reading it whole\n", out, cache);
	return 0;
}

static int run_compile(const struct args *a, const char *cache)
{
	struct gz_diag diag;
	struct gz_set *set = NULL;
	struct gz_error err = { 0 };
	char buf[1200];
	struct timespec t0, t1, t2;
	gz_diag_init(&diag);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int r = gz_set_open(a->gazetteers, a->ngazetteers, NULL, &diag, &set, NULL, NULL, &err);
	for (size_t i = 0; i < diag.count; i++)
		fprintf(stderr, "%s\n", diag.lines[i]);
	gz_diag_clear(&diag);
	if (r) {
		fprintf(stderr, "gaztagd: %s\n", gz_error_format(&err, buf, sizeof buf));
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	r = gz_snapshot_write(set, a->compile, NULL, &err);
	clock_gettime(CLOCK_MONOTONIC, &t2);
	if (r) {
		fprintf(stderr, "gaztagd: %s\n", err.message);
	} else {
		struct stat st;
		double mb = stat(a->compile, &st) ? 0 : (double)st.st_size / 1048576.0;
		fprintf(stderr, "gaztagd: compiled %zu entries, %zu names from %zu file%s into %s "
			"(%.1f MB, gazetteers %s) in %.2f s + %.2f s to write\n",
			gz_set_entry_count(set), gz_set_name_count(set), gz_set_file_count(set),
			gz_set_file_count(set) == 1 ? "" : "s", a->compile, mb, gz_set_hash(set),
			(double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
			(double)(t2.tv_sec - t1.tv_sec) + (double)(t2.tv_nsec - t1.tv_nsec) / 1e9);
	}
	gz_set_unref(set);
	if (r)
		return 1;
	return cache ? record_check(a->compile, cache) : 0;
}

/* The gazetteers of --tag and --lookup; NULL (reported) when they fail. */
static struct gz_set *load_quietly(const struct args *a)
{
	struct gz_diag diag;
	struct gz_set *set = NULL;
	struct gz_error err = { 0 };
	char buf[1200];
	gz_diag_init(&diag);
	if (gz_set_open(a->gazetteers, a->ngazetteers, NULL, &diag, &set, NULL, NULL, &err) != 0) {
		for (size_t i = 0; i < diag.count; i++)
			fprintf(stderr, "%s\n", diag.lines[i]);
		if (!diag.count)
			fprintf(stderr, "gaztagd: %s\n", gz_error_format(&err, buf, sizeof buf));
	}
	gz_diag_clear(&diag);
	return set;
}

static int print_json(json_t *j)
{
	char *out = j ? json_dumps(j, GZ_JSON_DUMP_FLAGS) : NULL;
	json_decref(j);
	if (!out)
		return GZ_ENOMEM;
	printf("%s\n", out);
	free(out);
	return 0;
}

/* --lookup: what GET /lookup?text= answers, offline. */
static int run_lookup(const struct args *a)
{
	size_t bad;
	if (gz_utf8_validate(a->lookup, strlen(a->lookup), &bad) != 0) {
		fprintf(stderr, "gaztagd: --lookup: invalid UTF-8 at byte %zu\n", bad);
		return 1;
	}
	struct gz_set *set = load_quietly(a);
	if (!set)
		return 1;
	int r = print_json(gz_json_lookup(set, a->lookup));
	gz_set_unref(set);
	return r ? 1 : 0;
}

/* The pieces --tag writes at once: big enough that write(2) costs nothing
 * per span, small enough to stay in cache. */
#define OUT_PIECE ((size_t)256 << 10)

/* --tag: tag one text offline and print the answer of POST /tag, written to
 * stdout a piece at a time as the spans are turned into JSON. */
static int tag_text(const struct args *a, const struct gz_set *set, struct gz_tagger *t)
{
	struct gz_error err = { 0 };
	size_t len;
	int mapped;
	char *text = read_text(a->tag, &len, &mapped);
	if (!text) {
		fprintf(stderr, "gaztagd: %s: %s\n", a->tag, strerror(errno));
		return 1;
	}
	struct gz_request_tagged tagged;
	int r = gz_request_tag(t, set, text, len, &a->opts, &tagged, &err);
	if (r) {
		fprintf(stderr, "gaztagd: %s: %s\n", a->tag, err.message);
	} else {
		struct gz_buf b = { 0 };
		do {
			r = gz_json_answer_write(&tagged.answer, &b, OUT_PIECE);
			if (r >= 0 && flush_out(&b)) {
				fprintf(stderr, "gaztagd: writing the answer: %s\n", strerror(errno));
				r = -1;
			}
		} while (r == 0);
		if (b.failed)
			fprintf(stderr, "gaztagd: %s: out of memory while writing the answer\n", a->tag);
		free(b.data);
		r = r < 0;
	}
	gz_request_tagged_free(&tagged);
	release_text(text, len, mapped);
	return r ? 1 : 0;
}

/* --tag --ndjson: the input is NDJSON, one request object per line as
 * POST /tag takes it, and each answer line is written as soon as its input
 * line is tagged, before the next read that could wait: a pipeline that
 * writes a line and waits for its answer gets it. */
static int tag_ndjson(const struct args *a, const struct gz_set *set, struct gz_tagger *t)
{
	int fd = strcmp(a->tag, "-") == 0 ? 0 : open(a->tag, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "gaztagd: %s: %s\n", a->tag, strerror(errno));
		return 1;
	}
	size_t cap = 1 << 20, have = 0;
	char *in = malloc(cap);
	struct gz_buf out = { 0 };
	int rc = in ? 0 : 1, eof = 0;
	while (!rc) {
		/* the complete lines in hand, then a flush, then a read */
		char *last = have ? memrchr(in, '\n', have) : NULL;
		size_t whole = last ? (size_t)(last - in) + 1 : eof ? have : 0;
		size_t pos = 0;
		if (whole && gz_request_ndjson_next(t, set, &a->opts, in, whole, &pos, &out,
						    SIZE_MAX, NULL, NULL) < 0) {
			fprintf(stderr, "gaztagd: %s: out of memory\n", a->tag);
			rc = 1;
			break;
		}
		memmove(in, in + whole, have - whole);
		have -= whole;
		if (flush_out(&out)) {
			fprintf(stderr, "gaztagd: writing the answer: %s\n", strerror(errno));
			rc = 1;
			break;
		}
		if (eof)
			break;
		if (have == cap) { /* a line longer than the buffer */
			char *b = realloc(in, cap * 2);
			if (!b) {
				fprintf(stderr, "gaztagd: %s: out of memory\n", a->tag);
				rc = 1;
				break;
			}
			in = b;
			cap *= 2;
		}
		ssize_t k = read(fd, in + have, cap - have);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			fprintf(stderr, "gaztagd: %s: %s\n", a->tag, strerror(errno));
			rc = 1;
		} else if (k == 0) {
			eof = 1;
		} else {
			have += (size_t)k;
		}
	}
	if (fd)
		close(fd);
	free(in);
	free(out.data);
	return rc;
}

static int run_tag(const struct args *a)
{
	struct gz_set *set = load_quietly(a);
	if (!set)
		return 1;
	struct gz_tagger *t = gz_tagger_new();
	int r = !t ? (fprintf(stderr, "gaztagd: out of memory\n"), 1)
	    : a->ndjson ? tag_ndjson(a, set, t) : tag_text(a, set, t);
	gz_tagger_free(t);
	gz_set_unref(set);
	return r;
}

/* Loads --config (when given) and lays the flags over it. */
static int build_config(struct gz_config *cfg, const char *config, const char *listen,
			const char *const *gazetteers, size_t ngazetteers,
			const char *threads, const char *log_level)
{
	struct gz_error err = { 0 };
	char buf[1200];
	unsigned long long n;
	gz_config_init(cfg);
	if (config && gz_config_load(cfg, config, &err)) {
		/* FILE:LINE:COL: message, like the gazetteer errors of --check */
		fprintf(stderr, "%s%s\n", err.file[0] ? "" : "gaztagd: error: ",
			gz_error_format(&err, buf, sizeof buf));
		return 1;
	}
	if (listen && gz_config_set_listen(cfg, listen, &err)) {
		fprintf(stderr, "gaztagd: --listen: %s\n", err.message);
		return 2;
	}
	if (ngazetteers && gz_config_set_gazetteers(cfg, gazetteers, ngazetteers))
		return 1;
	if (threads) {
		if (gz_uint_parse(threads, 0, 1024, &n)) {
			fprintf(stderr, "gaztagd: --threads: expected a number from 0 to 1024, not '%s'\n",
				threads);
			return 2;
		}
		cfg->threads = (unsigned)n;
	}
	if (log_level && gz_log_level_parse(log_level, &cfg->log_level, &err)) {
		fprintf(stderr, "gaztagd: --log-level: %s\n", err.message);
		return 2;
	}
	return 0;
}

/* The first load, at start: any problem stops gaztagd (SPEC §6). */
static int initial_load(struct gz_reloader *r)
{
	struct gz_diag diag;
	struct gz_error err = { 0 };
	char buf[1200];
	struct timespec t0, t1;
	gz_diag_init(&diag);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rc = gz_reloader_reload(r, &diag, &err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	for (size_t i = 0; i < diag.count; i++)
		fprintf(stderr, "%s\n", diag.lines[i]);
	gz_diag_clear(&diag);
	if (rc) {
		gz_log(GZ_LOG_ERROR, "cannot start: %s", gz_error_format(&err, buf, sizeof buf));
		return 1;
	}
	struct gz_set *set = gz_reloader_acquire(r);
	gz_log(GZ_LOG_INFO, "loaded %zu entries, %zu names from %zu file%s in %.3f s, gazetteers %s",
	       gz_set_entry_count(set), gz_set_name_count(set), gz_set_file_count(set),
	       gz_set_file_count(set) == 1 ? "" : "s",
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
	       gz_set_hash(set));
	gz_set_unref(set);
	return 0;
}

/* Live reload (SPEC §6): the reloader's builder thread, and the watcher
 * when `watch` is on.  SIGHUP and POST /reload need the builder, so failing
 * to start it stops gaztagd; the watcher is a comfort, so failing to start
 * it is a warning. */
static int start_reloading(const struct gz_config *cfg, struct gz_reloader *r,
			   struct gz_watch **watch)
{
	struct gz_error err = { 0 };
	*watch = NULL;
	if (gz_reloader_start(r)) {
		gz_log(GZ_LOG_ERROR, "cannot start the reload thread");
		return 1;
	}
	if (cfg->watch &&
	    gz_watch_start(r, (const char *const *)cfg->gazetteers, cfg->gazetteer_count,
			   GZ_WATCH_DEBOUNCE_MS, watch, &err))
		gz_log(GZ_LOG_WARN, "%s; SIGHUP or POST /reload still reload", err.message);
	return 0;
}

/* A test hook: GAZTAGD_TEST_LOAD_DELAY_MS holds the first load back, so
 * that the integration tests can see the 503 of a daemon still loading. */
static void test_load_delay(void)
{
	const char *s = getenv("GAZTAGD_TEST_LOAD_DELAY_MS");
	unsigned long long ms;
	if (s && !gz_uint_parse(s, 0, 60000, &ms)) {
		struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
	}
}

/* Serving: bind, load, then wait for signals in this thread.  The signals
 * are blocked before any thread starts, so every worker inherits the mask
 * and sigwait here is the only place they are handled. */
static int serve(const char *config, const char *listen, const char *const *gazetteers,
		 size_t ngazetteers, const char *threads, const char *log_level,
		 const char *user, const char *cache)
{
	struct gz_config cfg;
	struct gz_error err = { 0 };
	struct gz_http *http = NULL;
	int rc = build_config(&cfg, config, listen, gazetteers, ngazetteers, threads, log_level);
	if (rc) {
		gz_config_free(&cfg);
		return rc;
	}
	gz_log_set_level(cfg.log_level);
	/* The user is looked up before anything starts: a misspelt name must
	 * stop gaztagd, not leave it running as root. */
	struct gz_user run_as;
	if (gz_process_find_user(user ? user : cfg.user, &run_as, &err)) {
		gz_log(GZ_LOG_ERROR, "cannot start: %s", err.message);
		gz_config_free(&cfg);
		return 1;
	}
	gz_process_fit_fd_limit(cfg.max_connections, gz_config_threads(&cfg));

	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, GZ_LEASE_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct gz_reloader *r = gz_reloader_new((const char *const *)cfg.gazetteers,
						cfg.gazetteer_count);
	if (r && gz_reloader_set_cache(r, cache && *cache ? cache : cache ? NULL : cfg.cache)) {
		gz_reloader_free(r);
		r = NULL;
	}
	if (!r) {
		gz_config_free(&cfg);
		return 1;
	}
	if (gz_http_start(&cfg, r, &http, &err)) {
		gz_log(GZ_LOG_ERROR, "%s", err.message);
		gz_reloader_free(r);
		gz_config_free(&cfg);
		return 1;
	}
	gz_log(GZ_LOG_INFO, "listening on %s", gz_http_address(http));
	unsigned grace = cfg.connection_timeout + 1 < 60 ? cfg.connection_timeout + 1 : 60;
	test_load_delay();
	struct gz_watch *watch = NULL;
	rc = initial_load(r);
	/* Bound and loaded: root is no longer needed (process.h). */
	if (rc == 0 && gz_process_drop_privileges(&run_as, &err)) {
		gz_log(GZ_LOG_ERROR, "cannot start: %s", err.message);
		rc = 1;
	}
	if (rc == 0)
		rc = start_reloading(&cfg, r, &watch);
	if (rc == 0) {
		gz_log(GZ_LOG_INFO, "ready: %u thread%s, max body %zu bytes, %s", gz_config_threads(&cfg),
		       gz_config_threads(&cfg) == 1 ? "" : "s", cfg.max_body_bytes,
		       cfg.path ? cfg.path : "built-in config");
		for (;;) {
			int sig = 0;
			if (sigwait(&sigs, &sig))
				continue;
			if (sig == SIGHUP) {
				/* built on the reloader's thread; the outcome is logged there */
				gz_reloader_request(r, GZ_RELOAD_SIGHUP, NULL);
				continue;
			}
			if (sig == GZ_LEASE_SIGNAL) {
				gz_reloader_lease_broken(r);
				continue;
			}
			gz_log(GZ_LOG_INFO, "%s: stopping (finishing requests in flight)",
			       sig == SIGINT ? "SIGINT" : "SIGTERM");
			break;
		}
	}
	/* The watcher and the builder go first: a POST /reload waiting for its
	 * build is answered (cancelled, or with the outcome of the build under
	 * way) before the server stops, which must not see it still waiting. */
	gz_watch_stop(watch);
	gz_reloader_stop(r);
	gz_http_stop(http, grace);
	gz_reloader_free(r);
	gz_config_free(&cfg);
	if (rc == 0)
		gz_log(GZ_LOG_INFO, "stopped");
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option own[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, 'l' },
		{ "gazetteers", required_argument, NULL, 'g' },
		{ "threads", required_argument, NULL, 'j' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "user", required_argument, NULL, 'u' },
		{ "check", no_argument, NULL, 'C' },
		{ "tag", required_argument, NULL, 'T' },
		{ "ndjson", no_argument, NULL, 'N' },
		{ "lookup", required_argument, NULL, 'K' },
		{ "compile", required_argument, NULL, 'O' },
		{ "cache", required_argument, NULL, 'H' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
	};
	/* these, then a flag or an option with an argument per tag option */
	struct option longopts[sizeof own / sizeof *own + 32];
	size_t nopts = sizeof own / sizeof *own;
	memcpy(longopts, own, sizeof own);
	for (size_t i = 0; gz_options[i].name && nopts + 1 < sizeof longopts / sizeof *longopts; i++)
		longopts[nopts++] = (struct option){ gz_options[i].name,
			gz_options[i].kind == GZ_OPTION_BOOL ? no_argument : required_argument,
			NULL, TAG_OPTION_FIRST + (int)i };
	longopts[nopts] = (struct option){ NULL, 0, NULL, 0 };
	struct args a = { 0 };
	struct gz_error err = { 0 };
	/* Big blocks (request bodies, answers, a big text's spans) each get a
	 * mapping of their own: realloc then moves pages instead of copying
	 * bytes, and free gives the memory back at once.  Left to itself,
	 * glibc raises this threshold to the largest block freed so far, and
	 * a 10 MB request pins 10 MB of heap for the rest of the run. */
	mallopt(M_MMAP_THRESHOLD, GZ_MMAP_THRESHOLD);
	gz_request_options_init(&a.opts);
	a.gazetteers = calloc((size_t)argc + 1, sizeof(char *));
	if (!a.gazetteers)
		return 1;
	const char **gazetteer_flags = a.gazetteers;
	int c;
	while ((c = getopt_long(argc, argv, "c:l:g:j:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': a.config = optarg; break;
		case 'l': a.listen = optarg; break;
		case 'g': a.gazetteers[a.ngazetteers++] = optarg; break;
		case 'j': a.threads = optarg; break;
		case 'L': a.log_level = optarg; break;
		case 'u': a.user = optarg; break;
		case 'C': a.check = 1; break;
		case 'T': a.tag = optarg; break;
		case 'N': a.ndjson = 1; break;
		case 'K': a.lookup = optarg; break;
		case 'O': a.compile = optarg; break;
		case 'H': a.cache = optarg; break;
		/* gazetteer_flags freed on every way out: LeakSanitizer builds
		 * run --version and bad usage too. */
		case 'V':
			printf("gaztagd %s\n", GZ_VERSION);
			free(gazetteer_flags);
			return 0;
		case 'h': usage(stdout); free(gazetteer_flags); return 0;
		default:
			if (c >= TAG_OPTION_FIRST && c < TAG_OPTION_FIRST + (int)nopts) {
				/* --types keeps pointing at argv */
				const struct gz_option *o = &gz_options[c - TAG_OPTION_FIRST];
				if (!gz_option_set(o, optarg ? optarg : "true", &a.opts, NULL, &err))
					break;
				fprintf(stderr, "gaztagd: --%s: %s\n", o->name, err.message);
				free(gazetteer_flags);
				return 2;
			}
			usage(stderr);
			free(gazetteer_flags);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "gaztagd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		free(gazetteer_flags);
		return 2;
	}
	if (a.ndjson && !a.tag) {
		fprintf(stderr, "gaztagd: --ndjson goes with --tag FILE|-\n");
		free(gazetteer_flags);
		return 2;
	}
	/* with --ndjson, a line may say "format": "html" itself */
	if (a.opts.annotate && a.opts.format != GZ_FORMAT_HTML && !a.ndjson) {
		fprintf(stderr, "gaztagd: --annotate goes with --format html\n");
		free(gazetteer_flags);
		return 2;
	}
	gz_fold_init();
	int r;
	if (a.check || a.tag || a.lookup || a.compile) {
		/* --config names the gazetteers (and is itself checked) unless
		 * --gazetteers does. */
		struct gz_config cfg;
		r = build_config(&cfg, a.config, NULL, a.gazetteers, a.ngazetteers, NULL, NULL);
		if (r == 0) {
			a.gazetteers = (const char **)cfg.gazetteers;
			a.ngazetteers = cfg.gazetteer_count;
			r = a.check ? run_check(a.gazetteers, a.ngazetteers)
			    : a.compile ? run_compile(&a, a.cache && *a.cache ? a.cache
							 : a.cache ? NULL : cfg.cache)
			    : a.lookup ? run_lookup(&a) : run_tag(&a);
		}
		gz_config_free(&cfg);
	} else {
		r = serve(a.config, a.listen, a.gazetteers, a.ngazetteers, a.threads,
			  a.log_level, a.user, a.cache);
	}
	free(gazetteer_flags);
	return r;
}
