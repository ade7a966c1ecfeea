/*
 * gaztagd: argument parsing and the three modes (serve, --check, --tag).
 * Everything else lives in the engine and the HTTP modules.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "fold.h"
#include "gz_version.h"
#include "json.h"
#include "set.h"
#include "tagger.h"

struct args {
	const char *config;
	const char *listen;
	const char **gazetteers;
	size_t ngazetteers;
	const char *threads;
	const char *log_level;
	int check;
	const char *tag;
	struct gz_tag_options opts;
	const char *types, *overlaps, *offsets;
};

static void usage(FILE *f)
{
	fputs("usage: gaztagd [--config FILE] [--listen HOST:PORT] [--gazetteers PATH]... [--threads N]\n"
	      "       gaztagd --check [--gazetteers PATH]...\n"
	      "       gaztagd --tag FILE|- [--gazetteers PATH]... [--types T,..] [--overlaps longest|all]\n"
	      "               [--offsets codepoint|utf16|byte]\n"
	      "       gaztagd --version\n",
	      f);
}

/* --check: load everything, print every problem, exit 0 or 1. */
static int run_check(const char *const *paths, size_t n)
{
	struct gz_diag diag;
	struct gz_set *set = NULL;
	struct gz_error err = { 0 };
	gz_diag_init(&diag);
	int r = gz_set_load(paths, n, &diag, &set, &err);
	for (size_t i = 0; i < diag.count; i++)
		fprintf(stderr, "%s\n", diag.lines[i]);
	if (r == 0) {
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

static char *read_all(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		size_t k = fread(buf + n, 1, cap - n, f);
		n += k;
		if (k == 0)
			break;
		if (n == cap) {
			char *b = realloc(buf, cap *= 2);
			if (!b) {
				free(buf);
				buf = NULL;
			} else {
				buf = b;
			}
		}
	}
	if (f != stdin)
		fclose(f);
	*len = n;
	return buf;
}

/* --tag: tag one text offline and print the response of POST /tag. */
static int run_tag(const struct args *a)
{
	struct gz_diag diag;
	struct gz_set *set = NULL;
	struct gz_error err = { 0 };
	char buf[1200];
	gz_diag_init(&diag);
	if (gz_set_load(a->gazetteers, a->ngazetteers, &diag, &set, &err) != 0) {
		for (size_t i = 0; i < diag.count; i++)
			fprintf(stderr, "%s\n", diag.lines[i]);
		if (!diag.count)
			fprintf(stderr, "gaztagd: %s\n", gz_error_format(&err, buf, sizeof buf));
		gz_diag_clear(&diag);
		return 1;
	}
	gz_diag_clear(&diag);
	size_t len;
	char *text = read_all(a->tag, &len);
	if (!text) {
		perror(a->tag);
		gz_set_unref(set);
		return 1;
	}
	struct gz_tagger *t = gz_tagger_new();
	int r = t ? gz_tagger_run(t, set, text, len, &a->opts, &err) : GZ_ENOMEM;
	if (r) {
		fprintf(stderr, "gaztagd: %s: %s\n", a->tag, err.message);
	} else {
		json_t *j = gz_json_tag_response(t, text, &a->opts);
		char *out = j ? json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII * 0) : NULL;
		if (out) {
			printf("%s\n", out);
			free(out);
		} else {
			r = GZ_ENOMEM;
		}
		json_decref(j);
	}
	gz_tagger_free(t);
	free(text);
	gz_set_unref(set);
	return r ? 1 : 0;
}

int gz_serve_main(const char *config, const char *listen, const char *const *gazetteers,
		  size_t ngazetteers, const char *threads, const char *log_level);

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, 'l' },
		{ "gazetteers", required_argument, NULL, 'g' },
		{ "threads", required_argument, NULL, 'j' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "check", no_argument, NULL, 'C' },
		{ "tag", required_argument, NULL, 'T' },
		{ "types", required_argument, NULL, 't' },
		{ "overlaps", required_argument, NULL, 'o' },
		{ "offsets", required_argument, NULL, 'O' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct args a = { 0 };
	struct gz_error err = { 0 };
	gz_tag_options_init(&a.opts);
	a.gazetteers = calloc((size_t)argc + 1, sizeof(char *));
	if (!a.gazetteers)
		return 1;
	int c;
	while ((c = getopt_long(argc, argv, "c:l:g:j:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': a.config = optarg; break;
		case 'l': a.listen = optarg; break;
		case 'g': a.gazetteers[a.ngazetteers++] = optarg; break;
		case 'j': a.threads = optarg; break;
		case 'L': a.log_level = optarg; break;
		case 'C': a.check = 1; break;
		case 'T': a.tag = optarg; break;
		case 't': a.opts.types = optarg; break;
		case 'o':
			if (gz_overlaps_parse(optarg, &a.opts.overlaps, &err)) {
				fprintf(stderr, "gaztagd: --overlaps: %s\n", err.message);
				return 2;
			}
			break;
		case 'O':
			if (gz_offsets_parse(optarg, &a.opts.offsets, &err)) {
				fprintf(stderr, "gaztagd: --offsets: %s\n", err.message);
				return 2;
			}
			break;
		case 'V': printf("gaztagd %s\n", GZ_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "gaztagd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	gz_fold_init();
	int r;
	if (a.check || a.tag) {
		if (a.ngazetteers == 0)
			a.gazetteers[a.ngazetteers++] = "gazetteers";
		r = a.check ? run_check(a.gazetteers, a.ngazetteers) : run_tag(&a);
	} else {
		r = gz_serve_main(a.config, a.listen, a.gazetteers, a.ngazetteers, a.threads,
				  a.log_level);
	}
	free(a.gazetteers);
	return r;
}

/* Serving is added by the HTTP module; until then, say so. */
__attribute__((weak)) int gz_serve_main(const char *config, const char *listen,
					const char *const *gazetteers, size_t ngazetteers,
					const char *threads, const char *log_level)
{
	(void)config, (void)listen, (void)gazetteers, (void)ngazetteers, (void)threads, (void)log_level;
	fprintf(stderr, "gaztagd: serving is not built in yet\n");
	return 1;
}
