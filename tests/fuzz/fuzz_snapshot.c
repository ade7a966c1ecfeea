/*
 * libFuzzer target for snapshots (snapshot.c, issue 15): any bytes as a
 * snapshot image.  gz_snapshot_read must refuse it with GZ_ELOAD (or run out
 * of memory) or give a set that every reader of a set can use without a
 * crash, a read out of bounds or an endless loop: the set is then tagged
 * (several options, the JSON answer written), looked up, searched by id, and
 * every entry's every field read, so that whatever the checks in
 * snapshot.c and trie.c miss shows up here.
 *
 * The input is copied into an 8-byte-aligned buffer of exactly its size
 * (the reader casts sections to records; a mapped file is page-aligned).
 * Its checksum field is then set to the checksum of the copy: a random
 * input would otherwise almost never get past the checksum, and the
 * structural checks behind it, the ones this target is for, would go
 * unfuzzed.  (The checksum check itself is the unit tests' business.)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "fuzz_common.h"
#include "json.h"
#include "risks.h"
#include "set.h"
#include "snapshot.h"
#include "tagger.h"

static struct gz_tagger *tagger;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	tagger = gz_tagger_new();
	if (!tagger)
		abort();
	return 0;
}

static const char *const TEXTS[] = {
	"Volodymyr Zelensky met officials in Kyiv and Kharkiv on Monday.",
	"PARIS, Texas — The Azov Regiment, AT&T and O'Neill; Київ. Harris said.",
	"the and of in a Springfield, Illinois (Springfield) — Georgia, Tbilisi",
	"",
};

static const char *const LOOKUPS[] = { "Kyiv", "paris", "the", "Azov Regiment", "",
				       "a b c d e f g h" };

static int count_hit(void *cls, const struct gz_lookup_hit *hit)
{
	size_t *n = cls;
	check(hit->entry && hit->form, "a lookup hit without an entry or a form");
	*n += strlen(hit->form) + strlen(gz_entry_id(hit->entry));
	return 0;
}

static void read_entry(const struct gz_entry *e)
{
	size_t n = strlen(gz_entry_id(e)) + strlen(gz_entry_name(e)) + strlen(gz_entry_type(e)) +
		   strlen(gz_entry_file(e));
	if (gz_entry_attrs(e))
		n += strlen(gz_entry_attrs(e));
	for (size_t k = 0; k <= e->alias_count; k++)
		n += strlen(gz_entry_form(e, k));
	for (size_t a = 0; a < e->alias_count; a++)
		n += (size_t)gz_entry_aliases(e)[a].case_rule;
	check(n < SIZE_MAX, "unreachable");
}

static void tag_texts(const struct gz_set *set, size_t seed)
{
	struct gz_tag_options o;
	struct gz_error err;
	for (size_t i = 0; i < sizeof TEXTS / sizeof *TEXTS; i++) {
		gz_tag_options_init(&o);
		o.overlaps = (seed + i) & 1 ? GZ_OVERLAPS_ALL : GZ_OVERLAPS_LONGEST;
		o.offsets = (enum gz_offsets)((seed + i) % 3);
		o.explain = (int)((seed >> 1) + i) & 1;
		if (i == 2 && gz_set_type_count(set))
			o.types = gz_set_type(set, 0);
		memset(&err, 0, sizeof err);
		int r = gz_tagger_run(tagger, set, TEXTS[i], strlen(TEXTS[i]), &o, &err);
		check(r == 0 || r == GZ_ENOMEM || (r == GZ_EINVAL && o.types),
		      "tagging a valid text: %d %s", r, err.message);
		if (r)
			continue;
		size_t n = gz_tagger_span_count(tagger);
		const struct gz_span *sp = gz_tagger_spans(tagger);
		for (size_t k = 0; k < n; k++) {
			check(sp[k].byte_start < sp[k].byte_end &&
			      sp[k].byte_end <= strlen(TEXTS[i]), "span %zu out of the text", k);
			read_entry(sp[k].entry);
		}
		struct gz_buf b = { 0 };
		r = gz_json_write_tag_response(tagger, TEXTS[i], &o, &b);
		check(r == 0 || r == GZ_ENOMEM, "writing the answer: %d", r);
		free(b.data);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* 8-byte aligned, exactly size bytes long (ASan sees a read past it) */
	uint64_t *copy = malloc(size ? (size + 7) / 8 * 8 : 1);
	check(copy, "out of memory");
	unsigned char *buf = (unsigned char *)copy;
	if (size)
		memcpy(buf, data, size);
	size_t at = gz_snapshot_checksum_offset();
	if (size >= at + 8) {
		uint64_t sum = gz_snapshot_checksum(buf, size);
		memcpy(buf + at, &sum, sizeof sum);
	}
	struct gz_set *set = NULL;
	struct gz_error err;
	memset(&err, 0, sizeof err);
	int r = gz_snapshot_read("fuzz.gzs", buf, size, NULL, &set, &err);
	check(r == 0 || r == GZ_ELOAD || r == GZ_ENOMEM, "unexpected result %d: %s", r,
	      err.message);
	check((r == 0) == (set != NULL), "result %d with set %p", r, (void *)set);
	if (r) {
		check(err.message[0], "refused without a message");
		free(copy);
		return 0;
	}

	/* every entry, every field, by index and by id */
	size_t count = gz_set_entry_count(set);
	for (size_t i = 0; i < count; i++) {
		const struct gz_entry *e = gz_set_entry(set, i);
		read_entry(e);
		const struct gz_entry *f = gz_set_find(set, gz_entry_id(e));
		check(!f || strcmp(gz_entry_id(f), gz_entry_id(e)) == 0, "find gave another id");
		if (i < 4) {
			json_t *j = gz_json_entry(e);
			json_decref(j);
		}
	}
	const char *ids[] = { "kyiv", "", "no-such-id", "paris-tx" };
	for (size_t i = 0; i < sizeof ids / sizeof *ids; i++) {
		const struct gz_entry *f = gz_set_find(set, ids[i]);
		check(!f || strcmp(gz_entry_id(f), ids[i]) == 0, "find %s gave another id", ids[i]);
	}
	for (size_t i = 0; i < gz_set_file_count(set); i++) {
		const struct gz_file_info *f = gz_set_file(set, i);
		check(strlen(f->path) + strlen(f->type) < SIZE_MAX, "unreachable");
	}
	for (size_t i = 0; i < gz_set_type_count(set); i++)
		check(gz_set_type_index(set, gz_set_type(set, i)) >= 0, "type %zu unknown", i);
	for (uint32_t i = 1; i <= gz_set_region_count(set); i++)
		check(strlen(gz_set_region(set, i)) < SIZE_MAX, "unreachable");
	check(strlen(gz_set_hash(set)) < 40, "hash too long");

	for (size_t i = 0; i < sizeof LOOKUPS / sizeof *LOOKUPS; i++) {
		size_t n = 0;
		int k = gz_set_lookup(set, LOOKUPS[i], count_hit, &n);
		/* GZ_EINVAL: a text that makes no name ("") */
		check(k >= 0 || k == GZ_ENOMEM || k == GZ_EINVAL, "lookup %s: %d", LOOKUPS[i], k);
	}
	tag_texts(set, size);

	struct gz_diag diag;
	struct gz_risk_counts rc;
	gz_diag_init(&diag);
	gz_risks_report(set, &diag, 3, &rc);
	gz_diag_clear(&diag);

	gz_set_unref(set);
	free(copy);
	return 0;
}
