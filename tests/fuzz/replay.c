/*
 * replay: runs a fuzz target's LLVMFuzzerTestOneInput on files, without
 * libFuzzer, so that the seed corpora (and above all their regress-* inputs,
 * the minimised crashes of bugs since fixed) are checked by every `meson
 * test`, in the gcc builds too, and not only in the clang fuzz build.
 * Linked once per target (tests/fuzz/meson.build); the target's own checks
 * abort on a broken invariant, and a sanitizer build adds its own findings,
 * as under libFuzzer.
 *
 *   fuzz_TARGET_replay FILE|DIR...
 *
 * A directory stands for the regular files in it, in name order.  Each
 * input's name is printed before it runs, so that the last name printed
 * before a crash is the input that crashed.  Each input is handed over in a
 * buffer of exactly its size, as libFuzzer does, so that AddressSanitizer
 * sees a read past its end.  Exits 0 when every input ran, 1 when a file
 * cannot be read or there was no input at all (an empty corpus checks
 * nothing and must not pass for one that was checked).
 */
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional, as under libFuzzer: a target that defines it sets up there. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		return -1;
	}
	size_t cap = 4096, len = 0;
	uint8_t *buf = malloc(cap);
	size_t n;
	while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap) {
			uint8_t *grown = realloc(buf, cap *= 2);
			if (!grown)
				free(buf);
			buf = grown;
		}
	}
	int bad = !buf || ferror(f);
	fclose(f);
	if (bad) {
		fprintf(stderr, "%s: cannot read\n", path);
		free(buf);
		return -1;
	}
	/* exactly len bytes (at least one, for malloc), so an overread is caught */
	uint8_t *exact = malloc(len ? len : 1);
	if (!exact) {
		free(buf);
		return -1;
	}
	memcpy(exact, buf, len);
	free(buf);
	printf("replay %s (%zu bytes)\n", path, len);
	fflush(stdout);
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	return 0;
}

/* Every regular file of dir, in name order; the count run, or -1. */
static long replay_dir(const char *dir)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);
	if (n < 0) {
		perror(dir);
		return -1;
	}
	long run = 0;
	for (int i = 0; i < n; i++) {
		char path[4096];
		struct stat st;
		if (run >= 0 && names[i]->d_name[0] != '.' &&
		    (size_t)snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name) < sizeof path &&
		    stat(path, &st) == 0 && S_ISREG(st.st_mode))
			run = replay_file(path) == 0 ? run + 1 : -1;
		free(names[i]);
	}
	free(names);
	return run;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 1;
	}
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	long total = 0;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		long run;
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			run = replay_dir(argv[i]);
		else
			run = replay_file(argv[i]) == 0 ? 1 : -1;
		if (run < 0)
			return 1;
		total += run;
	}
	if (total == 0) {
		fprintf(stderr, "%s: no input to replay\n", argv[0]);
		return 1;
	}
	printf("%ld inputs replayed\n", total);
	return 0;
}
