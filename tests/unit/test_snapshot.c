/*
 * Unit tests for snapshots (snapshot.c, issue 15).  A set loaded from YAML
 * is written with gz_snapshot_write and mapped again with gz_snapshot_load;
 * the two must agree field by field and tag to byte-identical JSON answers.
 * Then every class of damage a file can suffer (too short, another magic or
 * version, truncated, extended, a flipped byte with and without its
 * checksum repaired, another cache key) must be refused with its own exact
 * message, and never crash (the sanitizer build runs this too).
 */
#include "unit_helpers.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include "buf.h"
#include "checked.h"
#include "json.h"
#include "snapshot.h"
#include "set_internal.h"
#include "snapshot_format.h"
#include "trie.h"

/* ------------------------------------------------------------ helpers */

static const char PEOPLE[] =
	"type: person\n"
	"entries:\n"
	"  - id: volodymyr-zelensky\n"
	"    name: Volodymyr Zelensky\n"
	"    aliases:\n"
	"      - Zelensky\n"
	"      - {text: ZELENSKY, case: sensitive}\n"
	"    priority: 10\n"
	"    attrs: {wikidata: Q3874799, country: UA, born: 1978}\n"
	"  - id: kamala-harris\n"
	"    name: Kamala Harris\n"
	"    aliases: [Harris]\n"
	"    attrs: {country: US, admin1: US.CA}\n"
	"  - id: o-neill\n"
	"    name: O'Neill\n"
	"    case: proper\n";

static const char PLACES[] =
	"type: place\n"
	"case: proper\n"
	"common_words: skip\n"
	"priority: -1\n"
	"entries:\n"
	"  - id: kyiv\n"
	"    name: Kyiv\n"
	"    aliases: [Kiev, Київ]\n"
	"    attrs: {country: UA, admin1: UA.30}\n"
	"  - id: ua\n"
	"    name: Ukraine\n"
	"  - id: paris-tx\n"
	"    name: Paris\n"
	"    priority: -0.5\n"
	"    evidence: required\n"
	"    attrs: {country: US, admin1: US.TX}\n"
	"  - id: paris-fr\n"
	"    name: Paris\n"
	"    attrs: {country: FR}\n"
	"  - id: US.TX\n"
	"    name: Texas\n"
	"    attrs: {country: US}\n"
	"  - id: azov\n"
	"    name: Azov Regiment\n"
	"    type: unit\n"
	"    aliases: [Azov]\n"
	"  - id: at-t\n"
	"    name: AT&T\n"
	"    type: org\n"
	"    case: sensitive\n"
	"  - id: the\n"
	"    name: The\n";

struct fixture {
	char *dir;
	char *yaml_dir;
	char *snap;          /* dir/set.gzs */
	struct gz_set *yaml; /* loaded from the YAML files */
	struct gz_set *mapped;
	unsigned char *image; /* the snapshot's bytes, 8-byte aligned */
	size_t len;
};

static char *join(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2;
	char *p = malloc(n);
	assert_non_null(p);
	snprintf(p, n, "%s/%s", a, b);
	return p;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	f->dir = temp_dir();
	f->yaml_dir = join(f->dir, "yaml");
	assert_int_equal(mkdir(f->yaml_dir, 0700), 0);
	free(write_file(f->yaml_dir, "a-people.yaml", PEOPLE, strlen(PEOPLE)));
	free(write_file(f->yaml_dir, "b-places.yaml", PLACES, strlen(PLACES)));
	struct gz_diag diag;
	struct gz_error err = { 0 };
	gz_diag_init(&diag);
	const char *paths[1] = { f->yaml_dir };
	int r = gz_set_load(paths, 1, &diag, &f->yaml, &err);
	if (r)
		print_diag(&diag);
	gz_diag_clear(&diag);
	assert_int_equal(r, 0);

	f->snap = join(f->dir, "set.gzs");
	assert_int_equal(gz_snapshot_write(f->yaml, f->snap, "0123456789abcdef0123456789abcdef",
					   &err), 0);
	r = gz_snapshot_load(f->snap, NULL, NULL, &f->mapped, NULL, &err);
	if (r)
		fprintf(stderr, "  load: %s\n", err.message);
	assert_int_equal(r, 0);

	FILE *fp = fopen(f->snap, "rb");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	f->len = (size_t)ftell(fp);
	rewind(fp);
	f->image = aligned_alloc(64, (f->len + 63) / 64 * 64);
	assert_non_null(f->image);
	assert_int_equal(fread(f->image, 1, f->len, fp), f->len);
	fclose(fp);
	*state = f;
	return 0;
}

static void remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char *p = join(dir, de->d_name);
		struct stat st;
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			remove_tree(p);
		else
			unlink(p);
		free(p);
	}
	closedir(d);
	rmdir(dir);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	gz_set_unref(f->yaml);
	gz_set_unref(f->mapped);
	remove_tree(f->dir);
	free(f->dir);
	free(f->yaml_dir);
	free(f->snap);
	free(f->image);
	free(f);
	return 0;
}

/* The header's layout, to find the fields a test damages. */
enum { SECTIONS = S_COUNT };

/* A copy of the image, damage to be done by the caller. */
static unsigned char *copy_image(const struct fixture *f, size_t len)
{
	unsigned char *c = aligned_alloc(64, (len + 64) / 64 * 64);
	assert_non_null(c);
	memcpy(c, f->image, len < f->len ? len : f->len);
	if (len > f->len)
		memset(c + f->len, 0, len - f->len);
	return c;
}

static void fix_checksum(unsigned char *c, size_t len)
{
	uint64_t sum = gz_snapshot_checksum(c, len);
	memcpy(c + gz_snapshot_checksum_offset(), &sum, sizeof sum);
}

/* Reads c[0..len) as "x.gzs"; it must be refused with GZ_ELOAD.  Returns the
 * message (a static buffer). */
static const char *refused(const unsigned char *c, size_t len, const char *want_key)
{
	static char msg[sizeof(((struct gz_error *)0)->message)];
	struct gz_error err = { 0 };
	struct gz_set *set = (struct gz_set *)1;
	int r = gz_snapshot_read("x.gzs", c, len, want_key, &set, &err);
	if (r == 0)
		gz_set_unref(set);
	assert_int_equal(r, GZ_ELOAD);
	assert_null(set);
	snprintf(msg, sizeof msg, "%s", err.message);
	return msg;
}

static void render_answer(const struct gz_set *set, const char *text,
			  const struct gz_tag_options *o, struct gz_buf *b)
{
	struct gz_tagger *t = gz_tagger_new();
	struct gz_error err = { 0 };
	assert_non_null(t);
	assert_int_equal(gz_tagger_run(t, set, text, strlen(text), o, &err), 0);
	assert_int_equal(gz_json_write_tag_response(t, text, o, b), 0);
	gz_tagger_free(t);
}

static int str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* ------------------------------------------------------------ round trip */

static void test_header_layout_matches(void **state)
{
	struct fixture *f = *state;
	struct gz_snapshot_header h;
	assert_true(f->len >= sizeof h);
	memcpy(&h, f->image, sizeof h);
	assert_int_equal(h.header_size, sizeof h);
	assert_int_equal(offsetof(struct gz_snapshot_header, checksum),
			 gz_snapshot_checksum_offset());
	assert_int_equal(h.file_size, f->len);
	assert_int_equal(h.entry_count, 11);
	assert_int_equal(h.file_count, 2);
	assert_string_equal(h.key, "0123456789abcdef0123456789abcdef");
	assert_string_equal(h.hash, gz_set_hash(f->yaml));
	assert_int_equal(f->len % 64, 0);
	assert_int_equal(h.checksum, gz_snapshot_checksum(f->image, f->len));
}

static void test_round_trip_keeps_counts_files_types_regions(void **state)
{
	struct fixture *f = *state;
	const struct gz_set *a = f->yaml, *b = f->mapped;
	assert_int_equal(gz_set_entry_count(b), 11);
	assert_int_equal(gz_set_entry_count(b), gz_set_entry_count(a));
	assert_int_equal(gz_set_name_count(b), gz_set_name_count(a));
	assert_string_equal(gz_set_hash(b), gz_set_hash(a));
	assert_int_equal(gz_set_file_count(b), 2);
	for (size_t i = 0; i < gz_set_file_count(a); i++) {
		const struct gz_file_info *x = gz_set_file(a, i), *y = gz_set_file(b, i);
		assert_string_equal(y->path, x->path);
		assert_string_equal(y->type, x->type);
		assert_int_equal(y->entries, x->entries);
		assert_int_equal(y->names, x->names);
	}
	assert_string_equal(gz_set_file(b, 1)->type, "place");
	assert_int_equal(gz_set_type_count(b), gz_set_type_count(a));
	for (size_t i = 0; i < gz_set_type_count(a); i++) {
		assert_string_equal(gz_set_type(b, i), gz_set_type(a, i));
		assert_int_equal(gz_set_type_index(b, gz_set_type(a, i)), (int)i);
	}
	assert_int_equal(gz_set_type_index(b, "unit") >= 0, 1);
	assert_int_equal(gz_set_type_index(b, "nothing"), -1);
	assert_int_equal(gz_set_region_count(b), gz_set_region_count(a));
	assert_true(gz_set_region_count(b) >= 5); /* UA UA.30 US US.CA US.TX FR */
	for (uint32_t i = 1; i <= gz_set_region_count(a); i++)
		assert_string_equal(gz_set_region(b, i), gz_set_region(a, i));
}

static void test_round_trip_keeps_every_entry_field(void **state)
{
	struct fixture *f = *state;
	for (size_t i = 0; i < gz_set_entry_count(f->yaml); i++) {
		const struct gz_entry *x = gz_set_entry(f->yaml, i), *y = gz_set_entry(f->mapped, i);
		assert_string_equal(gz_entry_id(y), gz_entry_id(x));
		assert_string_equal(gz_entry_name(y), gz_entry_name(x));
		assert_string_equal(gz_entry_type(y), gz_entry_type(x));
		assert_string_equal(gz_entry_file(y), gz_entry_file(x));
		assert_true(str_eq(gz_entry_attrs(y), gz_entry_attrs(x)));
		assert_true(memcmp(&y->priority, &x->priority, sizeof x->priority) == 0);
		assert_int_equal(y->alias_count, x->alias_count);
		assert_int_equal(y->type_index, x->type_index);
		assert_int_equal(y->name_case, x->name_case);
		assert_int_equal(y->name_line, x->name_line);
		assert_int_equal(y->name_column, x->name_column);
		assert_int_equal(y->country, x->country);
		assert_int_equal(y->admin1, x->admin1);
		assert_int_equal(y->id_region, x->id_region);
		assert_int_equal(y->line, x->line);
		assert_int_equal(y->column, x->column);
		assert_int_equal(y->id_line, x->id_line);
		assert_int_equal(y->id_column, x->id_column);
		assert_int_equal(y->order, x->order);
		assert_int_equal(y->evidence_required, x->evidence_required);
		assert_int_equal(y->common_words_skip, x->common_words_skip);
		for (size_t k = 0; k < x->alias_count; k++) {
			const struct gz_alias *p = &gz_entry_aliases(x)[k], *q = &gz_entry_aliases(y)[k];
			assert_string_equal(gz_alias_text(q), gz_alias_text(p));
			assert_int_equal(q->case_rule, p->case_rule);
			assert_int_equal(q->line, p->line);
			assert_int_equal(q->column, p->column);
		}
		for (size_t k = 0; k <= x->alias_count; k++)
			assert_string_equal(gz_entry_form(y, k), gz_entry_form(x, k));
		assert_ptr_equal(gz_set_find(f->mapped, gz_entry_id(x)), y);
	}
	/* spot checks that the fields compared hold something */
	const struct gz_entry *kyiv = gz_set_find(f->mapped, "kyiv");
	assert_non_null(kyiv);
	assert_int_equal(kyiv->alias_count, 2);
	assert_string_equal(gz_alias_text(&gz_entry_aliases(kyiv)[1]), "Київ");
	assert_string_equal(gz_set_region(f->mapped, kyiv->country), "UA");
	assert_string_equal(gz_set_region(f->mapped, kyiv->admin1), "UA.30");
	assert_int_equal(kyiv->common_words_skip, 1);
	assert_int_equal(gz_set_find(f->mapped, "paris-tx")->evidence_required, 1);
	assert_int_not_equal(gz_set_find(f->mapped, "US.TX")->id_region, 0);
	assert_null(gz_set_find(f->mapped, "no-such-id"));
}

static void test_round_trip_tags_to_identical_answers(void **state)
{
	struct fixture *f = *state;
	static const char *const texts[] = {
		"Volodymyr Zelensky met Kamala Harris in Kyiv; ZELENSKY and Zelensky, Київ.",
		"Paris, Texas and Paris: AT&T, the Azov Regiment, O'Neill and Ukraine. The end.",
		"Harris said Kiev 😀 Azov — Paris US.TX",
	};
	for (int v = 0; v < 8; v++) {
		struct gz_tag_options o;
		gz_tag_options_init(&o);
		o.overlaps = v & 1 ? GZ_OVERLAPS_ALL : GZ_OVERLAPS_LONGEST;
		o.offsets = v & 2 ? GZ_OFFSETS_UTF16 : (v & 4 ? GZ_OFFSETS_BYTE : GZ_OFFSETS_CODEPOINT);
		o.explain = v >= 4;
		o.types = v == 3 ? "place,org" : NULL;
		for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
			struct gz_buf x = { 0 }, y = { 0 };
			render_answer(f->yaml, texts[i], &o, &x);
			render_answer(f->mapped, texts[i], &o, &y);
			gz_buf_append(&x, "", 1);
			gz_buf_append(&y, "", 1);
			assert_string_equal(y.data, x.data);
			assert_non_null(strstr(x.data, "\"entities\":[{"));
			free(x.data);
			free(y.data);
		}
	}
}

static void test_load_with_key(void **state)
{
	struct fixture *f = *state;
	struct gz_set *s = NULL;
	struct gz_error err = { 0 };
	assert_int_equal(gz_snapshot_load(f->snap, "0123456789abcdef0123456789abcdef", NULL, &s, NULL, &err), 0);
	gz_set_unref(s);
	assert_string_equal(refused(f->image, f->len, "ffffffffffffffffffffffffffffffff"),
			    "x.gzs: built from other files or options (cache key "
			    "0123456789abcdef0123456789abcdef, wanted ffffffffffffffffffffffffffffffff)");
}

/* ------------------------------------------------------------ damage */

static void test_empty_and_short_files(void **state)
{
	struct fixture *f = *state;
	char *empty = join(f->dir, "empty.gzs");
	free(write_file(f->dir, "empty.gzs", "", 0));
	struct gz_set *s = NULL;
	struct gz_error err = { 0 };
	assert_int_equal(gz_snapshot_load(empty, NULL, NULL, &s, NULL, &err), GZ_ELOAD);
	assert_null(s);
	char want[600];
	snprintf(want, sizeof want, "%s: empty file, not a gaztag snapshot", empty);
	assert_string_equal(err.message, want);
	free(empty);

	char *missing = join(f->dir, "missing.gzs");
	assert_int_equal(gz_snapshot_load(missing, NULL, NULL, &s, NULL, &err), GZ_ELOAD);
	snprintf(want, sizeof want, "%s: cannot open: No such file or directory", missing);
	assert_string_equal(err.message, want);
	free(missing);

	assert_string_equal(refused(f->image, 0, NULL),
			    "x.gzs: not a gaztag snapshot (no GZSNAP magic at its start)");
	assert_string_equal(refused(f->image, 7, NULL),
			    "x.gzs: not a gaztag snapshot (no GZSNAP magic at its start)");
	assert_string_equal(refused(f->image, 8, NULL), "x.gzs: truncated: 8 bytes, less than a header");
	assert_string_equal(refused(f->image, 11, NULL), "x.gzs: truncated: 11 bytes, less than a header");
	assert_string_equal(refused(f->image, 12, NULL), "x.gzs: truncated: 12 bytes, less than a header");
	snprintf(want, sizeof want, "x.gzs: truncated: %zu bytes, less than a header",
		 sizeof(struct gz_snapshot_header) - 1);
	assert_string_equal(refused(f->image, sizeof(struct gz_snapshot_header) - 1, NULL), want);
}

static void test_wrong_magic_and_version(void **state)
{
	struct fixture *f = *state;
	char want[200];
	unsigned char *c = copy_image(f, f->len);
	c[3] = 'X';
	fix_checksum(c, f->len);
	assert_string_equal(refused(c, f->len, NULL),
			    "x.gzs: not a gaztag snapshot (no GZSNAP magic at its start)");
	free(c);
	c = copy_image(f, f->len);
	uint32_t v = GZ_SNAPSHOT_VERSION + 1;
	memcpy(c + offsetof(struct gz_snapshot_header, version), &v, sizeof v);
	fix_checksum(c, f->len);
	snprintf(want, sizeof want, "x.gzs: snapshot format version %u, this gaztagd reads "
		 "version %u: compile it again with gaztagd --compile", GZ_SNAPSHOT_VERSION + 1,
		 GZ_SNAPSHOT_VERSION);
	assert_string_equal(refused(c, f->len, NULL), want);
	free(c);
	c = copy_image(f, f->len);
	uint32_t sz = (uint32_t)sizeof(struct gz_entry) + 8;
	memcpy(c + offsetof(struct gz_snapshot_header, entry_size), &sz, sizeof sz);
	fix_checksum(c, f->len);
	assert_string_equal(refused(c, f->len, NULL),
			    "x.gzs: written by a gaztagd of another build or machine (record "
			    "sizes differ): compile it again here");
	free(c);
}

static void test_truncated_or_extended_anywhere(void **state)
{
	struct fixture *f = *state;
	struct gz_snapshot_header h;
	memcpy(&h, f->image, sizeof h);
	char want[200];
	/* every section boundary, every multiple of 64, and the byte before each */
	size_t cuts[4 * SECTIONS + 4096], n = 0;
	for (int s = 0; s < SECTIONS; s++) {
		cuts[n++] = h.sec[s].off;
		cuts[n++] = h.sec[s].off + h.sec[s].len;
	}
	for (size_t k = 64; k < f->len && n + 2 < sizeof cuts / sizeof *cuts; k += 64) {
		cuts[n++] = k;
		cuts[n++] = k - 1;
	}
	cuts[n++] = f->len - 1;
	for (size_t i = 0; i < n; i++) {
		size_t len = cuts[i];
		if (len >= f->len)
			continue;
		unsigned char *c = copy_image(f, len);
		if (len < 8)
			snprintf(want, sizeof want,
				 "x.gzs: not a gaztag snapshot (no GZSNAP magic at its start)");
		else if (len < sizeof h)
			snprintf(want, sizeof want, "x.gzs: truncated: %zu bytes, less than a header",
				 len);
		else
			snprintf(want, sizeof want,
				 "x.gzs: truncated or extended: its header says %zu bytes, the file "
				 "has %zu", f->len, len);
		assert_string_equal(refused(c, len, NULL), want);
		/* the checksum repaired changes nothing: the length is checked first */
		if (len >= sizeof h) {
			fix_checksum(c, len);
			assert_string_equal(refused(c, len, NULL), want);
		}
		free(c);
	}
	for (size_t extra = 1; extra <= 64; extra += 63) {
		unsigned char *c = copy_image(f, f->len + extra);
		snprintf(want, sizeof want,
			 "x.gzs: truncated or extended: its header says %zu bytes, the file has %zu",
			 f->len, f->len + extra);
		assert_string_equal(refused(c, f->len + extra, NULL), want);
		free(c);
	}
}

/* Which message a flipped byte at p gets when the checksum is not repaired. */
static void expected_for_flip(size_t p, size_t len, char *want, size_t size)
{
	if (p < offsetof(struct gz_snapshot_header, version))
		snprintf(want, size, "x.gzs: not a gaztag snapshot (no GZSNAP magic at its start)");
	else if (p < offsetof(struct gz_snapshot_header, header_size))
		want[0] = 0; /* another version: the number varies */
	else if (p < offsetof(struct gz_snapshot_header, file_size) ||
		 (p >= offsetof(struct gz_snapshot_header, entry_size) && p < offsetof(struct gz_snapshot_header, hash)))
		snprintf(want, size, "x.gzs: written by a gaztagd of another build or machine "
				     "(record sizes differ): compile it again here");
	else if (p < offsetof(struct gz_snapshot_header, checksum))
		want[0] = 0; /* another file size */
	else
		snprintf(want, size, "x.gzs: checksum mismatch: the file is corrupted");
	(void)len;
}

static void test_flipped_byte_anywhere_is_a_checksum_mismatch(void **state)
{
	struct fixture *f = *state;
	unsigned char *c = copy_image(f, f->len);
	char want[200];
	size_t checked = 0;
	for (size_t p = 0; p < f->len; p += p < 512 ? 1 : 7) {
		c[p] ^= 0x10;
		const char *msg = refused(c, f->len, NULL);
		expected_for_flip(p, f->len, want, sizeof want);
		if (want[0])
			assert_string_equal(msg, want);
		else if (p < offsetof(struct gz_snapshot_header, header_size))
			assert_non_null(strstr(msg, "x.gzs: snapshot format version "));
		else
			assert_non_null(strstr(msg, "x.gzs: truncated or extended: its header says "));
		c[p] ^= 0x10;
		checked++;
	}
	assert_true(checked > 600);
	free(c);
}

/* A header field replaced, the checksum repaired: the structural checks. */
static const char *with_field(const struct fixture *f, size_t off, uint64_t value, size_t width)
{
	unsigned char *c = copy_image(f, f->len);
	memcpy(c + off, &value, width);
	fix_checksum(c, f->len);
	const char *msg = refused(c, f->len, NULL);
	free(c);
	return msg;
}

#define FIELD(name, value) with_field(f, offsetof(struct gz_snapshot_header, name), (value), \
				      sizeof(((struct gz_snapshot_header *)0)->name))

static void test_damaged_header_is_corrupted(void **state)
{
	struct fixture *f = *state;
	struct gz_snapshot_header h;
	memcpy(&h, f->image, sizeof h);
	char want[200];
	assert_string_equal(FIELD(entry_count, 1ull << 40),
			    "x.gzs: corrupted: a count in the header is out of range");
	assert_string_equal(FIELD(node_count, 0),
			    "x.gzs: corrupted: a count in the header is out of range");
	assert_string_equal(FIELD(has_edges, 2),
			    "x.gzs: corrupted: a count in the header is out of range");
	assert_string_equal(FIELD(type_count, 0x10000),
			    "x.gzs: corrupted: a count in the header is out of range");
	snprintf(want, sizeof want,
		 "x.gzs: corrupted: the entries section is %llu bytes, its counts say %llu",
		 (unsigned long long)h.sec[1].len,
		 (unsigned long long)(h.sec[1].len + sizeof(struct gz_entry)));
	assert_string_equal(FIELD(entry_count, h.entry_count + 1), want);
	snprintf(want, sizeof want,
		 "x.gzs: corrupted: the id slots section is %llu bytes, its counts say %llu",
		 (unsigned long long)h.sec[5].len, (unsigned long long)(h.sec[5].len * 2));
	assert_string_equal(FIELD(id_mask, h.id_mask * 2 + 1), want);
	assert_string_equal(FIELD(sec[0].off, h.sec[0].off + 1),
			    "x.gzs: corrupted: the strings section lies outside the file");
	assert_string_equal(FIELD(sec[21].off, f->len),
			    "x.gzs: corrupted: the start filter section lies outside the file");
	assert_string_equal(FIELD(sec[2].off, 0),
			    "x.gzs: corrupted: the aliases section lies outside the file");
	/* a section moved over another, still inside the file and aligned */
	snprintf(want, sizeof want, "x.gzs: corrupted: the pool section is at %llu, not at %llu "
		 "where the one before it ends", (unsigned long long)h.sec[4].off + 512,
		 (unsigned long long)h.sec[4].off);
	assert_string_equal(FIELD(sec[4].off, h.sec[4].off + 512), want);
	snprintf(want, sizeof want, "x.gzs: corrupted: the start filter section is at %llu, not "
		 "at %llu where the one before it ends", (unsigned long long)h.sec[0].off,
		 (unsigned long long)h.sec[21].off);
	assert_string_equal(FIELD(sec[21].off, h.sec[0].off), want);
	unsigned char hash[40];
	memset(hash, 'a', sizeof hash);
	unsigned char *c = copy_image(f, f->len);
	memcpy(c + offsetof(struct gz_snapshot_header, hash), hash, sizeof hash);
	fix_checksum(c, f->len);
	assert_string_equal(refused(c, f->len, NULL), "x.gzs: corrupted: bad hash field");
	free(c);

	/* every counted field and every section's place and length, one bit off */
	for (size_t off = offsetof(struct gz_snapshot_header, entry_count); off < sizeof h; off += 8) {
		uint64_t v;
		memcpy(&v, f->image + off, sizeof v);
		for (int bit = 0; bit < 64; bit += 9) {
			/* the strings section one byte longer reaches into its own
			 * zero padding: another NUL, a file that reads the same */
			if (off == offsetof(struct gz_snapshot_header, sec[0].len) && bit == 0 && !(v & 1))
				continue;
			unsigned char *c = copy_image(f, f->len);
			uint64_t w = v ^ (1ull << bit);
			memcpy(c + off, &w, sizeof w);
			fix_checksum(c, f->len);
			struct gz_set *s = NULL;
			struct gz_error err = { 0 };
			int r = gz_snapshot_read("x.gzs", c, f->len, NULL, &s, &err);
			if (r == 0)
				gz_set_unref(s);
			free(c);
			if (r != GZ_ELOAD || strncmp(err.message, "x.gzs: corrupted: ", 18) != 0)
				fail_msg("header offset %zu bit %d: %d %s", off, bit, r, err.message);
		}
	}
}

static void test_damaged_records_are_corrupted(void **state)
{
	struct fixture *f = *state;
	struct gz_snapshot_header h;
	memcpy(&h, f->image, sizeof h);
	unsigned char *c = copy_image(f, f->len);
	struct gz_entry *e = (struct gz_entry *)(c + h.sec[1].off);
	e[2].type_index = 99;
	fix_checksum(c, f->len);
	assert_string_equal(refused(c, f->len, NULL),
			    "x.gzs: corrupted: entry 2 has a value out of range");
	e[2].type_index = 0;
	/* an offset so large that adding it to the field's place overflowed
	 * (UBSan, found by fuzz_snapshot: regress-rel-overflow) */
	e[1].name_rel = INT64_MAX - 1491;
	fix_checksum(c, f->len);
	assert_string_equal(refused(c, f->len, NULL),
			    "x.gzs: corrupted: entry 1 names a string outside the strings section");
	e[1].name_rel = -(gz_rel)h.sec[1].off;
	fix_checksum(c, f->len);
	assert_string_equal(refused(c, f->len, NULL),
			    "x.gzs: corrupted: entry 1 names a string outside the strings section");
	free(c);
	c = copy_image(f, f->len);
	e = (struct gz_entry *)(c + h.sec[1].off);
	e[0].alias_count = 1000;
	fix_checksum(c, f->len);
	assert_string_equal(refused(c, f->len, NULL),
			    "x.gzs: corrupted: entry 0's aliases lie outside the aliases section");
	free(c);
	c = copy_image(f, f->len);
	uint32_t *ids = (uint32_t *)(c + h.sec[5].off);
	ids[0] = (uint32_t)h.entry_count + 1;
	fix_checksum(c, f->len);
	assert_string_equal(refused(c, f->len, NULL), "x.gzs: corrupted: the id index names no entry");
	free(c);
	c = copy_image(f, f->len);
	c[h.sec[0].off + h.sec[0].len - 1] = 'x';
	fix_checksum(c, f->len);
	assert_string_equal(refused(c, f->len, NULL),
			    "x.gzs: corrupted: the strings section does not end in a NUL");
	free(c);

	/* any byte of the sections flipped, the checksum repaired: refused or
	 * a set that tags and finds without a crash */
	c = copy_image(f, f->len);
	struct gz_tagger *t = gz_tagger_new();
	assert_non_null(t);
	struct gz_tag_options o;
	gz_tag_options_init(&o);
	o.overlaps = GZ_OVERLAPS_ALL;
	const char *text = "Volodymyr Zelensky met Kamala Harris in Kyiv; Paris, Texas. AT&T";
	for (size_t p = h.sec[0].off; p < f->len; p += 3) {
		unsigned char old = c[p];
		c[p] ^= (unsigned char)(1u << (p % 8));
		fix_checksum(c, f->len);
		struct gz_set *s = NULL;
		struct gz_error err = { 0 };
		int r = gz_snapshot_read("x.gzs", c, f->len, NULL, &s, &err);
		if (r == 0) {
			gz_tagger_run(t, s, text, strlen(text), &o, &err);
			for (size_t i = 0; i < gz_set_entry_count(s); i++)
				gz_set_find(s, gz_entry_id(gz_set_entry(s, i)));
			gz_set_unref(s);
		} else {
			assert_int_equal(r, GZ_ELOAD);
			assert_non_null(strstr(err.message, "x.gzs: corrupted: "));
		}
		c[p] = old;
	}
	gz_tagger_free(t);
	free(c);
}

/* ------------------------------------------- records across checksum blocks */

/* A set big enough for several checksum blocks: each block is hashed and
 * its records checked in one job, so a record that starts in one block and
 * ends in the next, and a name whose entry lies in another block, must be
 * checked all the same; of two problems the one earlier in the file is
 * reported. */
static void test_records_across_blocks_are_checked(void **state)
{
	struct fixture *f = *state;
	struct gz_buf y = { 0 };
	const char *head = "type: place\nentries:\n";
	gz_buf_append(&y, head, strlen(head));
	for (int i = 0; i < 6000; i++) {
		char line[160];
		int n = snprintf(line, sizeof line, "  - id: p%05d\n    name: Town%05d\n"
				 "    aliases: [Burg%05d]\n", i, i, i);
		gz_buf_append(&y, line, (size_t)n);
	}
	char *dir = join(f->dir, "big");
	assert_int_equal(mkdir(dir, 0700), 0);
	free(write_file(dir, "towns.yaml", y.data, y.len));
	free(y.data);
	struct gz_diag diag;
	struct gz_error err = { 0 };
	gz_diag_init(&diag);
	const char *paths[1] = { dir };
	struct gz_set *built = NULL;
	assert_int_equal(gz_set_load(paths, 1, &diag, &built, &err), 0);
	gz_diag_clear(&diag);
	char *snap = join(f->dir, "big.gzs");
	assert_int_equal(gz_snapshot_write(built, snap, NULL, &err), 0);
	FILE *fp = fopen(snap, "rb");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	size_t len = (size_t)ftell(fp);
	rewind(fp);
	unsigned char *c = aligned_alloc(64, (len + 63) / 64 * 64);
	assert_non_null(c);
	assert_int_equal(fread(c, 1, len, fp), len);
	fclose(fp);
	const size_t B = GZ_SNAPSHOT_SUM_BLOCK;
	struct gz_snapshot_header h;
	memcpy(&h, c, sizeof h);
	assert_true(h.sec[S_ENTRIES].len > 2 * B); /* entries over three blocks at least */
	assert_int_equal(h.entry_count, 6000);
	struct gz_set *s = NULL;
	assert_int_equal(gz_snapshot_read("x.gzs", c, len, NULL, &s, &err), 0);
	assert_int_equal(gz_set_name_count(s), 12000);
	gz_set_unref(s);

	/* an entry whose type_index lies past the block its record starts in */
	struct gz_entry *e = (struct gz_entry *)(c + h.sec[S_ENTRIES].off);
	const size_t type_at = offsetof(struct gz_entry, type_index);
	size_t cut = 0;
	for (size_t i = 0; i < h.entry_count && !cut; i++) {
		size_t at = h.sec[S_ENTRIES].off + i * sizeof *e;
		if (at / B != (at + type_at) / B && i > 0)
			cut = i;
	}
	assert_true(cut > 0);
	char want[200];
	e[cut].type_index = 99;
	fix_checksum(c, len);
	snprintf(want, sizeof want, "x.gzs: corrupted: entry %zu has a value out of range", cut);
	assert_string_equal(refused(c, len, NULL), want);
	/* and a later one in another block, and a name: the first is said */
	size_t later = cut + 2 * B / sizeof *e;
	assert_true(later < h.entry_count);
	e[later].type_index = 99;
	struct gz_name *names = (struct gz_name *)(c + h.sec[S_NAMES].off);
	names[0].type = 0xFFFF;
	fix_checksum(c, len);
	assert_string_equal(refused(c, len, NULL), want);
	e[cut].type_index = 0;
	fix_checksum(c, len);
	snprintf(want, sizeof want, "x.gzs: corrupted: entry %zu has a value out of range", later);
	assert_string_equal(refused(c, len, NULL), want);
	e[later].type_index = 0;
	fix_checksum(c, len);
	assert_string_equal(refused(c, len, NULL), "x.gzs: corrupted: name 0 is out of range");
	names[0].type = 0;

	/* a name of an entry in the last entries' block, its form one past the
	 * entry's one alias */
	size_t last = h.name_count;
	for (size_t n = h.name_count; n-- > 0;)
		if (names[n].entry == h.entry_count - 1 && names[n].form == 1) {
			last = n;
			break;
		}
	assert_true(last < h.name_count);
	names[last].form = 2;
	fix_checksum(c, len);
	snprintf(want, sizeof want, "x.gzs: corrupted: name %zu is out of range", last);
	assert_string_equal(refused(c, len, NULL), want);
	names[last].form = 1;

	/* the edge table's and the id index's last record */
	if (h.has_edges) {
		struct gz_trie_edge *edges = (struct gz_trie_edge *)(c + h.sec[S_EDGES].off);
		struct gz_trie_edge old = edges[h.edge_mask];
		edges[h.edge_mask] = (struct gz_trie_edge){ 0, 0, 0, (uint32_t)h.node_count };
		fix_checksum(c, len);
		assert_string_equal(refused(c, len, NULL),
				    "x.gzs: corrupted: an edge leads out of the trie");
		edges[h.edge_mask] = old;
	}
	uint32_t *ids = (uint32_t *)(c + h.sec[S_ID_SLOTS].off);
	ids[h.id_mask] = (uint32_t)h.entry_count + 1;
	fix_checksum(c, len);
	assert_string_equal(refused(c, len, NULL), "x.gzs: corrupted: the id index names no entry");
	free(c);
	gz_set_unref(built);
	free(snap);
	free(dir);
}

/* ------------------------------------------------------------ writing */

static size_t dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

/* A set of no name has tables never allocated (no token was interned): its
 * snapshot writes them as empty slots, loads, and tags nothing. */
/* ------------------------------------------------- checked once (checked.h) */

static size_t count_records(const char *dir)
{
	char *sub = join(dir, "checked");
	DIR *d = opendir(sub);
	free(sub);
	size_t n = 0;
	for (struct dirent *de; d && (de = readdir(d));)
		n += de->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

static int load_checked(const char *path, const char *records, struct gz_set **s,
			struct gz_error *err)
{
	int full = -1;
	*s = NULL;
	int r = gz_snapshot_load(path, NULL, records, s, &full, err);
	if (r == 0)
		assert_true(gz_set_entry_count(*s) > 0);
	gz_set_unref(*s);
	return r ? -r : full;
}

/* GZ_CHECKED_QUIET_MS and a little more */
static void wait_quiet(void)
{
	nanosleep(&(struct timespec){ 0, (GZ_CHECKED_QUIET_MS + 20) * 1000000L }, NULL);
}

static void test_checked_in_full_once(void **state)
{
	struct fixture *f = *state;
	char *records = join(f->dir, "cache");
	struct gz_set *s;
	struct gz_error err = { 0 };
	wait_quiet();
	assert_int_equal(load_checked(f->snap, records, &s, &err), GZ_SNAPSHOT_FULL);
	assert_int_equal(count_records(records), 1);
	assert_int_equal(load_checked(f->snap, records, &s, &err), GZ_SNAPSHOT_HEADER);
	assert_int_equal(load_checked(f->snap, records, &s, &err), GZ_SNAPSHOT_HEADER);
	/* no record directory: in full every time */
	assert_int_equal(load_checked(f->snap, NULL, &s, &err), GZ_SNAPSHOT_FULL);

	/* a byte of a record changed in place, the mtime put back: refused */
	struct stat st;
	assert_int_equal(stat(f->snap, &st), 0);
	int fd = open(f->snap, O_RDWR);
	assert_true(fd >= 0);
	unsigned char b = f->image[f->len / 2] ^ 0x01;
	assert_int_equal(pwrite(fd, &b, 1, (off_t)(f->len / 2)), 1);
	assert_int_equal(futimens(fd, (struct timespec[2]){ st.st_atim, st.st_mtim }), 0);
	assert_int_equal(load_checked(f->snap, records, &s, &err), -GZ_ELOAD);
	assert_non_null(strstr(err.message, "checksum mismatch"));
	/* put back: in full again (and recorded once quiet) */
	assert_int_equal(pwrite(fd, &f->image[f->len / 2], 1, (off_t)(f->len / 2)), 1);
	close(fd);
	wait_quiet();
	assert_int_equal(load_checked(f->snap, records, &s, &err), GZ_SNAPSHOT_FULL);
	assert_int_equal(load_checked(f->snap, records, &s, &err), GZ_SNAPSHOT_HEADER);
	assert_int_equal(count_records(records), 1);

	/* a file written just now is not recorded: a write in the same tick
	 * of the kernel's clock would leave its ctime as it is */
	char *fresh = write_file(f->dir, "fresh.gzs", (const char *)f->image, f->len);
	assert_int_equal(load_checked(fresh, records, &s, &err), GZ_SNAPSHOT_FULL);
	assert_int_equal(count_records(records), 1);
	wait_quiet();
	assert_int_equal(load_checked(fresh, records, &s, &err), GZ_SNAPSHOT_FULL);
	assert_int_equal(count_records(records), 2);
	assert_int_equal(load_checked(fresh, records, &s, &err), GZ_SNAPSHOT_HEADER);

	/* a record that cannot be written: checked in full, and said so */
	char *file_not_dir = write_file(f->dir, "not-a-dir", "x", 1);
	assert_int_equal(load_checked(f->snap, file_not_dir, &s, &err), GZ_SNAPSHOT_UNRECORDED);
	free(file_not_dir);
	free(fresh);
	free(records);
}

static void test_checked_records_are_trimmed(void **state)
{
	struct fixture *f = *state;
	char *records = join(f->dir, "cache"), *sub = join(records, "checked");
	assert_int_equal(mkdir(records, 0700), 0);
	assert_int_equal(mkdir(sub, 0700), 0);
	for (int i = 0; i < GZ_CHECKED_KEEP + 4; i++) {
		char name[32];
		snprintf(name, sizeof name, "%x-%x", 1, i);
		char *p = write_file(sub, name, "gaztag checked 1\n", 17);
		/* older than any record written now */
		utimensat(AT_FDCWD, p, (struct timespec[2]){ { 1000 + i, 0 }, { 1000 + i, 0 } }, 0);
		free(p);
	}
	struct gz_set *s;
	struct gz_error err = { 0 };
	wait_quiet();
	assert_int_equal(load_checked(f->snap, records, &s, &err), GZ_SNAPSHOT_FULL);
	assert_int_equal(count_records(records), GZ_CHECKED_KEEP);
	/* the one just written is kept: the next load knows the file */
	assert_int_equal(load_checked(f->snap, records, &s, &err), GZ_SNAPSHOT_HEADER);
	free(sub);
	free(records);
}

/* The lease's copy of a mapped snapshot: its records are not checked again
 * when its header is the mapping's; any other image is checked in full. */
static void test_read_copy(void **state)
{
	struct fixture *f = *state;
	struct gz_set *s = NULL;
	struct gz_error err = { 0 };
	unsigned char *c = copy_image(f, f->len);
	assert_int_equal(gz_snapshot_read_copy("x.gzs", c, f->len, f->mapped, &s, &err), 0);
	assert_int_equal(gz_set_entry_count(s), gz_set_entry_count(f->mapped));
	gz_set_unref(s);
	c[f->len / 2] ^= 0x01;
	c[gz_snapshot_checksum_offset()] ^= 0x01;  /* another header */
	assert_int_equal(gz_snapshot_read_copy("x.gzs", c, f->len, f->mapped, &s, &err), GZ_ELOAD);
	assert_string_equal(err.message, "x.gzs: checksum mismatch: the file is corrupted");
	free(c);
}

static void test_empty_set_round_trip(void **state)
{
	struct fixture *f = *state;
	char *dir = join(f->dir, "empty");
	assert_int_equal(mkdir(dir, 0700), 0);
	const char *yaml = "type: place\nentries: []\n";
	free(write_file(dir, "e.yaml", yaml, strlen(yaml)));
	struct gz_set *built = NULL, *mapped = NULL;
	struct gz_error err = { 0 };
	const char *paths[1] = { dir };
	assert_int_equal(gz_set_load(paths, 1, NULL, &built, &err), 0);
	char *snap = join(f->dir, "empty.gzs");
	assert_int_equal(gz_snapshot_write(built, snap, NULL, &err), 0);
	assert_int_equal(gz_snapshot_load(snap, NULL, NULL, &mapped, NULL, &err), 0);
	assert_int_equal(gz_set_entry_count(mapped), 0);
	assert_int_equal(gz_set_name_count(mapped), 0);
	assert_string_equal(gz_set_hash(mapped), gz_set_hash(built));
	struct gz_tag_options o;
	gz_tag_options_init(&o);
	struct gz_buf a = { 0 }, b = { 0 };
	render_answer(built, "Kyiv and Lviv.", &o, &a);
	render_answer(mapped, "Kyiv and Lviv.", &o, &b);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	assert_non_null(memmem(a.data, a.len, "\"entities\":[]", 13));
	free(a.data);
	free(b.data);
	gz_set_unref(built);
	gz_set_unref(mapped);
	free(snap);
	free(dir);
}

static void test_write_to_unwritable_path_is_eio(void **state)
{
	struct fixture *f = *state;
	struct gz_error err = { 0 };
	/* a directory that does not exist: no temporary file can be made */
	char *path = join(f->dir, "no-such-dir/set.gzs");
	assert_int_equal(gz_snapshot_write(f->yaml, path, NULL, &err), GZ_EIO);
	assert_non_null(strstr(err.message, path));
	assert_non_null(strstr(err.message, "No such file or directory"));
	free(path);

	/* a directory in the way: written to a temporary file, the rename fails,
	 * and the temporary file goes */
	char *sub = join(f->dir, "sub");
	assert_int_equal(mkdir(sub, 0700), 0);
	path = join(sub, "set.gzs");
	assert_int_equal(mkdir(path, 0700), 0);
	memset(&err, 0, sizeof err);
	assert_int_equal(gz_snapshot_write(f->yaml, path, NULL, &err), GZ_EIO);
	char want[600];
	snprintf(want, sizeof want, "%s: cannot write: Is a directory", path);
	assert_string_equal(err.message, want);
	assert_int_equal(dir_entries(sub), 1); /* set.gzs, the directory, only */
	free(path);
	free(sub);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_layout_matches),
		cmocka_unit_test(test_empty_set_round_trip),
		cmocka_unit_test(test_round_trip_keeps_counts_files_types_regions),
		cmocka_unit_test(test_round_trip_keeps_every_entry_field),
		cmocka_unit_test(test_round_trip_tags_to_identical_answers),
		cmocka_unit_test(test_load_with_key),
		cmocka_unit_test(test_empty_and_short_files),
		cmocka_unit_test(test_wrong_magic_and_version),
		cmocka_unit_test(test_truncated_or_extended_anywhere),
		cmocka_unit_test(test_flipped_byte_anywhere_is_a_checksum_mismatch),
		cmocka_unit_test(test_damaged_header_is_corrupted),
		cmocka_unit_test(test_damaged_records_are_corrupted),
		cmocka_unit_test(test_records_across_blocks_are_checked),
		cmocka_unit_test(test_write_to_unwritable_path_is_eio),
		cmocka_unit_test_setup_teardown(test_checked_in_full_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checked_records_are_trimmed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_copy, setup, teardown),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
