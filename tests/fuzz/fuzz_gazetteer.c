/*
 * libFuzzer target: any bytes as a YAML gazetteer file.  The bytes go
 * through gz_gazetteer_parse (the loader on its own) and then through
 * gz_set_load (stat, read, parse, check ids, compile names, build the trie)
 * from a memfd, as gaztagd loads a file.  Nothing may crash or leak, and:
 *
 *  - the parser reports a problem for every failure (no silent failure) and
 *    none for a success, each as "FILE:LINE:COL: message" or "FILE: ...";
 *  - a file the parser refuses, the set loader refuses too;
 *  - a set that loads renders every entry as JSON, and every surface form of
 *    every entry, tagged as text, yields a span whose candidates include that
 *    entry (a name always matches itself), except the forms the tagger
 *    cannot match by design: a blank line inside, or a very long token or gap.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fold.h"
#include "fuzz_common.h"
#include "gazetteer.h"
#include "json.h"
#include "set.h"
#include "tagger.h"

static struct gz_tagger *tagger;

/* GZ_FUZZ_IGNORE keeps fuzzing past known bugs while they are being fixed
 * (a comma-separated list; unset, every check aborts):
 *   load-after-error: a crash in gz_set_load on a file with a YAML syntax
 *     error; a file the parser refuses is then not loaded as a set;
 *   soft-lead-trail: a name whose leading or trailing punctuation has a
 *     space, dash or apostrophe beside or inside it ("Kyiv !"), or an
 *     invisible character or a stray mark between it and the first token
 *     ("(<ZWSP>UN)"), does not match itself; such names are then not tried. */
static int skip_load_after_error, skip_soft_lead_trail;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	gz_fold_init();
	const char *ign = getenv("GZ_FUZZ_IGNORE");
	skip_load_after_error = ign && strstr(ign, "load-after-error");
	skip_soft_lead_trail = ign && strstr(ign, "soft-lead-trail");
	tagger = gz_tagger_new();
	if (!tagger)
		abort();
	return 0;
}

/* Whether the tagger can be expected to find form in itself: no blank
 * line in it, no token over 512 folded bytes, no run of
 * significant punctuation over 48 bytes (the tagger's gap and token
 * buffers are bounded by design). */
static int self_matchable(const char *form)
{
	const unsigned char *s = (const unsigned char *)form;
	size_t len = strlen(form), i = 0, newlines = 0, tok = 0, gap = 0;
	int seen_token = 0, punct = 0, soft = 0, soft_lead = 0;
	char tmp[GZ_FOLD_MAX];
	while (i < len) {
		uint32_t cp;
		i += gz_utf8_decode(s + i, len - i, &cp);
		enum gz_class c = gz_fold_class(cp);
		/* a blank line as the text scan sees one: two line breaks (CR LF
		 * counting once) with only spaces between, or U+2029 */
		if (c == GZ_C_NEWLINE && !(cp == '\r' && i < len && s[i] == '\n'))
			newlines += cp == 0x2029 ? 2 : 1;
		else if (c == GZ_C_OTHER || c == GZ_C_SOFT || c == GZ_C_WORD || c == GZ_C_SOLO)
			newlines = 0;
		if (!seen_token && (c == GZ_C_IGNORE || c == GZ_C_MARK)) {
			soft = 1; /* before the first token: invisible or stray */
		} else if (c == GZ_C_WORD || c == GZ_C_SOLO || c == GZ_C_MARK) {
			tok += gz_fold_cp(cp, 1, tmp);
			gap = 0;
			if (!seen_token)
				soft_lead = punct && soft;
			seen_token = 1;
			punct = soft = 0;
		} else if (c != GZ_C_IGNORE) {
			tok = 0;
			if (c == GZ_C_OTHER) {
				gap += gz_fold_cp(cp, 1, tmp);
				punct = 1;
			} else {
				soft = 1;
			}
		}
		if (tok > 512 || gap > 48 || newlines > 1)
			return 0;
	}
	if (skip_soft_lead_trail && (soft_lead || (punct && soft)))
		return 0;
	return 1;
}

static void check_self_match(const struct gz_set *set, const struct gz_entry *e,
			     const char *form)
{
	if (!self_matchable(form))
		return;
	struct gz_tag_options o;
	struct gz_error err = {0};
	gz_tag_options_init(&o);
	o.overlaps = GZ_OVERLAPS_ALL;
	int r = gz_tagger_run(tagger, set, form, strlen(form), &o, &err);
	check(r == 0, "tagging the form '%s' of %s: %s", form, gz_entry_id(e), err.message);
	size_t n = gz_tagger_span_count(tagger);
	const struct gz_span *sp = gz_tagger_spans(tagger);
	for (size_t i = 0; i < n; i++) {
		if (sp[i].entry == e)
			return;
		for (size_t a = 0; a < sp[i].alternative_count; a++)
			if (sp[i].alternatives[a] == e)
				return;
	}
	check(0, "the form '%s' of entry '%s' does not match itself (%zu spans)", form, gz_entry_id(e), n);
}

static void check_diag(const struct gz_diag *d, const char *path)
{
	size_t pl = strlen(path);
	for (size_t i = 0; i < d->count; i++)
		check(strncmp(d->lines[i], path, pl) == 0 && d->lines[i][pl] == ':',
		      "diagnostic without its file: '%s'", d->lines[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct gz_diag diag;
	gz_diag_init(&diag);

	/* the loader alone */
	struct gz_gazetteer *g = NULL;
	int problems = gz_gazetteer_parse("fuzz.yaml", buf, size, &g, &diag);
	check(problems >= 0 || problems == GZ_ENOMEM, "gz_gazetteer_parse returned %d", problems);
	if (problems > 0)
		check(diag.count > 0, "%d problems and no diagnostic", problems);
	if (problems == 0) {
		check(g != NULL, "success and no gazetteer");
		check(diag.count == 0, "success with %zu diagnostics, first '%s'", diag.count,
		      diag.lines[0]);
	}
	check_diag(&diag, "fuzz.yaml");
	gz_gazetteer_free(g);
	gz_diag_clear(&diag);
	if (problems && skip_load_after_error)
		return 0;

	/* the whole load, from a file */
	struct gz_set *set = NULL;
	struct gz_error err = {0};
	char path[64];
	int fd = fuzz_memfd(buf, size, path, sizeof path);
	check(fd >= 0, "memfd");
	const char *paths[1] = { path };
	gz_diag_init(&diag);
	int r = gz_set_load(paths, 1, &diag, &set, &err);
	close(fd);
	check_diag(&diag, path);
	if (problems > 0)
		check(r != 0, "the parser found %d problems, the set loaded", problems);
	if (r != 0) {
		check(set == NULL, "failed load returned a set");
		check(r == GZ_ENOMEM || diag.count > 0, "load failed (%d) without a diagnostic", r);
		check(err.message[0] != 0, "load failed without a message");
	} else {
		check(set != NULL, "load succeeded without a set");
		check(diag.count == 0, "load succeeded with diagnostics: '%s'", diag.lines[0]);
		for (size_t i = 0; i < gz_set_entry_count(set); i++) {
			const struct gz_entry *e = gz_set_entry(set, i);
			check(gz_set_find(set, gz_entry_id(e)) == e, "gz_set_find('%s') misses it", gz_entry_id(e));
			json_t *j = gz_json_entry(e);
			check(j != NULL, "gz_json_entry('%s') failed", gz_entry_id(e));
			char *s = json_dumps(j, GZ_JSON_DUMP_FLAGS);
			check(s != NULL, "entry '%s' does not dump", gz_entry_id(e));
			free(s);
			json_decref(j);
			check_self_match(set, e, gz_entry_name(e));
			for (size_t a = 0; a < e->alias_count; a++)
				check_self_match(set, e, gz_alias_text(&gz_entry_aliases(e)[a]));
		}
		gz_set_unref(set);
	}
	gz_diag_clear(&diag);
	return 0;
}
