/*
 * Unit tests for reading gazetteers with several threads: gazetteer.c's
 * chunked read of one big file (gz_gazetteer_parse_threads) and set.c's
 * parallel reading of the files of a set.  Each test compares with the
 * one-thread read: the same entries field by field, the same problems in
 * the same order, FILE:LINE:COL included.
 */
#include "unit_helpers.h"

#include <sys/stat.h>

#include "gazetteer.h"

/* ------------------------------------------------------------ helpers */

struct text {
	char *data;
	size_t len, cap;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char line[1024];
	int n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < sizeof line);
	if (t->len + (size_t)n + 1 > t->cap) {
		t->cap = t->cap ? t->cap * 2 : 1 << 20;
		t->data = realloc(t->data, t->cap);
		assert_non_null(t->data);
	}
	memcpy(t->data + t->len, line, (size_t)n + 1);
	t->len += (size_t)n;
}

/* A file of the importer's shape, big enough to be read in pieces, with
 * every kind of entry the schema has (aliases plain and mapped, attrs
 * nested, block and quoted scalars, comments between items). */
static void items(struct text *t, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++) {
		put(t, "  - id: \"p-%zu\"\n    name: \"Place %zu of the Río\"\n", i, i);
		switch (i % 7) {
		case 0:
			put(t, "    aliases: [\"Alias %zu\", {text: \"ALIAS%zu\", case: sensitive}]\n", i, i);
			break;
		case 1:
			put(t, "    priority: %zu.5\n    evidence: required\n", i);
			break;
		case 2:
			put(t, "    attrs:\n      country: \"UA\"\n      admin1: \"UA.%zu\"\n"
			       "      tags: [a, 1, true, null]\n      note: |\n        line one\n"
			       "        line two\n", i % 30);
			break;
		case 3:
			/* a comment at column 0 between items */
			put(t, "    type: town\n    case: sensitive\n# a comment\n");
			break;
		case 4:
			put(t, "\n    aliases:\n      - Other %zu\n      - text: Third %zu\n"
			       "        case: insensitive\n", i, i);
			break;
		default:
			put(t, "    attrs: {population: %zu, lat: 50.45}\n", i * 3);
		}
	}
}

static void big_file(struct text *t, size_t entries)
{
	put(t, "# a big file\ntype: place\ncase: proper\npriority: -1\ncommon_words: skip\nentries:\n");
	items(t, 0, entries);
}

/* The line of big_file's item i: six lines of head, 34 lines every seven
 * items. */
static int item_line_of(size_t i)
{
	static const int within[7] = { 0, 3, 7, 16, 21, 28, 31 };
	return 7 + 34 * (int)(i / 7) + within[i % 7];
}

static void remove_files(char *dir, char **paths, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unlink(paths[i]);
		free(paths[i]);
	}
	rmdir(dir);
	free(dir);
}

static void assert_same_gazetteer(const struct gz_gazetteer *a, const struct gz_gazetteer *b)
{
	assert_string_equal(a->type, b->type);
	assert_int_equal(a->common_words_skip, b->common_words_skip);
	assert_int_equal(a->count, b->count);
	for (size_t i = 0; i < a->count; i++) {
		const struct gz_raw_entry *x = &a->entries[i], *y = &b->entries[i];
		assert_string_equal(x->id, y->id);
		assert_string_equal(x->name, y->name);
		assert_string_equal(x->type, y->type);
		assert_int_equal(x->name_case, y->name_case);
		assert_true(x->priority == y->priority);
		assert_int_equal(x->evidence_required, y->evidence_required);
		assert_true((x->attrs == NULL) == (y->attrs == NULL));
		if (x->attrs)
			assert_string_equal(x->attrs, y->attrs);
		assert_true((x->country == NULL) == (y->country == NULL));
		assert_true((x->admin1 == NULL) == (y->admin1 == NULL));
		assert_int_equal(x->line, y->line);
		assert_int_equal(x->column, y->column);
		assert_int_equal(x->id_line, y->id_line);
		assert_int_equal(x->name_line, y->name_line);
		assert_int_equal(x->name_column, y->name_column);
		assert_int_equal(x->alias_count, y->alias_count);
		for (size_t k = 0; k < x->alias_count; k++) {
			assert_string_equal(x->aliases[k].text, y->aliases[k].text);
			assert_int_equal(x->aliases[k].case_rule, y->aliases[k].case_rule);
			assert_int_equal(x->aliases[k].line, y->aliases[k].line);
			assert_int_equal(x->aliases[k].column, y->aliases[k].column);
		}
	}
	assert_int_equal(a->id_count, b->id_count);
	for (size_t i = 0; i < a->id_count; i++) {
		assert_string_equal(a->ids[i].id, b->ids[i].id);
		assert_int_equal(a->ids[i].line, b->ids[i].line);
		assert_int_equal(a->ids[i].column, b->ids[i].column);
	}
}

/* The problems of a read, one per line, in a malloc'd string. */
static char *joined(const struct gz_diag *d)
{
	size_t n = 1;
	for (size_t i = 0; i < d->count; i++)
		n += strlen(d->lines[i]) + 1;
	char *s = calloc(1, n);
	assert_non_null(s);
	for (size_t i = 0; i < d->count; i++) {
		strcat(s, d->lines[i]);
		strcat(s, "\n");
	}
	return s;
}

/* Reads buf with one thread and with four: same return, same problems,
 * same entries.  Returns the number of problems. */
static int compare_reads(const char *buf, size_t len)
{
	struct gz_diag d1, d4;
	struct gz_gazetteer *g1 = NULL, *g4 = NULL;
	gz_diag_init(&d1);
	gz_diag_init(&d4);
	int r1 = gz_gazetteer_parse("big.yaml", buf, len, &g1, &d1);
	int r4 = gz_gazetteer_parse_threads("big.yaml", buf, len, 4, &g4, &d4);
	assert_int_equal(r1, r4);
	char *s1 = joined(&d1), *s4 = joined(&d4);
	assert_string_equal(s1, s4);
	if (r1 == 0)
		assert_same_gazetteer(g1, g4);
	free(s1);
	free(s4);
	gz_diag_clear(&d1);
	gz_diag_clear(&d4);
	gz_gazetteer_free(g1);
	gz_gazetteer_free(g4);
	return r1;
}

/* ------------------------------------------------------ one big file */

static void test_big_file_read_in_pieces_equals_whole_read(void **state)
{
	(void)state;
	struct text t = { 0 };
	big_file(&t, 60000);
	assert_true(t.len > (6u << 20)); /* over gazetteer.c's CHUNKED_MIN */
	unsigned long before = gz_gazetteer_chunked_reads();
	assert_int_equal(compare_reads(t.data, t.len), 0);
	assert_int_equal(gz_gazetteer_chunked_reads(), before + 1); /* in pieces indeed */
	free(t.data);
}

/* A problem anywhere makes the pieces' read give way to the whole read:
 * every message as the one-thread read gives it, in its order. */
static void test_big_file_problems_as_whole_read(void **state)
{
	(void)state;
	static const char *const breaks[] = {
		"  - id: \"p-1\"\n    nam: typo\n",                      /* schema */
		"  - id: bad\n    name: \"x\"\n   oops: [\n",             /* syntax */
		"  - id: &a anchored\n    name: A\n",                     /* anchor */
	};
	for (size_t b = 0; b < sizeof breaks / sizeof *breaks; b++) {
		struct text t = { 0 };
		big_file(&t, 20000);
		put(&t, "%s", breaks[b]);
		items(&t, 20000, 40000);
		int n = compare_reads(t.data, t.len);
		assert_true(n > 0);
		free(t.data);
	}
}

/* A quoted scalar whose second line looks like an item: no cut there (or
 * the piece fails and the whole read runs), same entries either way. */
static void test_big_file_item_lookalike_in_quoted_scalar(void **state)
{
	(void)state;
	struct text t = { 0 };
	big_file(&t, 15000);
	put(&t, "  - id: q\n    name: \"first\n  - id: not an item\"\n");
	for (size_t i = 0; i < 15000; i++)
		put(&t, "  - id: \"r-%zu\"\n    name: \"R %zu\"\n", i, i);
	assert_int_equal(compare_reads(t.data, t.len), 0);
	free(t.data);
}

/* The file's keys after its entries: not the importer's shape, read whole. */
static void test_big_file_keys_after_entries(void **state)
{
	(void)state;
	struct text t = { 0 };
	put(&t, "entries:\n");
	for (size_t i = 0; i < 120000; i++)
		put(&t, "  - id: \"k-%zu\"\n    name: \"K %zu\"\n", i, i);
	put(&t, "type: place\ncase: sensitive\n");
	assert_int_equal(compare_reads(t.data, t.len), 0);
	free(t.data);
}

/* ------------------------------------------------- the files of a set */

/* Loads paths with n threads; returns the problems, one per line, and
 * the set's hash in hash ("" when the load failed). */
static char *set_load_with(unsigned threads, const char *const *paths, size_t n, int *rc,
			   size_t *entries, char hash[33])
{
	struct gz_diag diag;
	struct gz_set *set = NULL;
	gz_diag_init(&diag);
	gz_set_load_threads(threads);
	*rc = gz_set_load(paths, n, &diag, &set, NULL);
	gz_set_load_threads(0);
	*entries = set ? gz_set_entry_count(set) : 0;
	snprintf(hash, 33, "%s", set ? gz_set_hash(set) : "");
	gz_set_unref(set);
	char *s = joined(&diag);
	gz_diag_clear(&diag);
	return s;
}

static void test_parallel_load_reports_problems_in_file_order(void **state)
{
	(void)state;
	char *dir = temp_dir();
	char *paths[6], name[32];
	for (int i = 0; i < 6; i++) {
		char yaml[256];
		snprintf(yaml, sizeof yaml,
			 "type: place\nentries:\n  - {id: a%d, name: A}\n  - {id: b%d, nam: B}\n"
			 "  - {id: c%d, name: C, case: loud}\n", i, i, i);
		snprintf(name, sizeof name, "f%d.yaml", i);
		paths[i] = write_file(dir, name, yaml, strlen(yaml));
	}
	int rc1, rc4;
	size_t e1, e4;
	char h1[33], h4[33];
	char *one = set_load_with(1, (const char *const *)&dir, 1, &rc1, &e1, h1);
	char *four = set_load_with(4, (const char *const *)&dir, 1, &rc4, &e4, h4);
	assert_int_equal(rc1, GZ_ELOAD);
	assert_int_equal(rc4, GZ_ELOAD);
	assert_string_equal(one, four);
	/* file order, and each file's problems in its own order */
	char want[4096];
	size_t k = 0;
	for (int i = 0; i < 6; i++)
		k += (size_t)snprintf(want + k, sizeof want - k,
				      "%s:4:5: missing required key 'name' in entry 'b%d'\n"
				      "%s:4:14: unknown key 'nam' in entry (expected id, name, aliases, "
				      "type, case, priority, evidence, attrs)\n"
				      "%s:5:29: 'case' must be 'insensitive', 'sensitive' or 'proper', "
				      "found loud\n", paths[i], i, paths[i], paths[i]);
	assert_string_equal(four, want);
	free(one);
	free(four);
	remove_files(dir, paths, 6);
}

static void test_parallel_load_duplicate_ids_across_files(void **state)
{
	(void)state;
	char *dir = temp_dir();
	/* a big file among small ones, each of the small ones repeating one of
	 * its ids: every duplicate names the first definition */
	struct text t = { 0 };
	big_file(&t, 60000);
	char *paths[5];
	const char *a = "type: x\nentries:\n  - {id: p-7, name: Seven}\n";
	const char *c = "type: x\nentries:\n  - {id: p-59999, name: N}\n";
	const char *d = "type: x\nentries:\n  - {id: p-7, name: Again}\n";
	const char *e = "type: x\nentries:\n  - {id: fine, name: Fine}\n";
	paths[0] = write_file(dir, "a.yaml", a, strlen(a));
	paths[1] = write_file(dir, "b.yaml", t.data, t.len);
	paths[2] = write_file(dir, "c.yaml", c, strlen(c));
	paths[3] = write_file(dir, "d.yaml", d, strlen(d));
	paths[4] = write_file(dir, "e.yaml", e, strlen(e));
	int rc1, rc4;
	size_t e1, e4;
	char h1[33], h4[33];
	char *one = set_load_with(1, (const char *const *)&dir, 1, &rc1, &e1, h1);
	char *four = set_load_with(4, (const char *const *)&dir, 1, &rc4, &e4, h4);
	assert_int_equal(rc1, GZ_ELOAD);
	assert_int_equal(rc4, GZ_ELOAD);
	assert_string_equal(one, four);
	char want[2048];
	snprintf(want, sizeof want,
		 "%s:%d:9: duplicate id 'p-7' (first defined at %s:3:10)\n"
		 "%s:3:10: duplicate id 'p-59999' (first defined at %s:%d:9)\n"
		 "%s:3:10: duplicate id 'p-7' (first defined at %s:3:10)\n",
		 paths[1], item_line_of(7), paths[0], paths[2], paths[1], item_line_of(59999),
		 paths[3], paths[0]);
	assert_string_equal(four, want);
	free(one);
	free(four);

	/* without the duplicates: the same set either way */
	unlink(paths[0]);
	unlink(paths[2]);
	unlink(paths[3]);
	char *ok_paths[2] = { paths[1], paths[4] };
	unsigned long before = gz_gazetteer_chunked_reads();
	one = set_load_with(1, (const char *const *)ok_paths, 2, &rc1, &e1, h1);
	assert_int_equal(gz_gazetteer_chunked_reads(), before);
	four = set_load_with(4, (const char *const *)ok_paths, 2, &rc4, &e4, h4);
	assert_int_equal(gz_gazetteer_chunked_reads(), before + 1);
	assert_int_equal(rc1, 0);
	assert_int_equal(rc4, 0);
	assert_int_equal(e1, 60001);
	assert_int_equal(e4, e1);
	/* the files hashed on the reading threads, the big one read in
	 * pieces: the same content hash as one thread's */
	assert_int_equal(strlen(h1), 32);
	assert_string_equal(h4, h1);
	free(one);
	free(four);
	free(t.data);
	remove_files(dir, paths, 5);
}

/* Three files of 110,000 entries in all (more than set.c's COPY_MIN, so
 * that their entries are copied by one thread per run), loaded with one
 * thread and with three: the same entries, field by field, strings,
 * aliases, types, regions and files included, and the same names. */
static void test_parallel_copy_equals_one_thread(void **state)
{
	(void)state;
	char *dir = temp_dir();
	char *paths[3];
	static const size_t cut[4] = { 0, 50000, 50001, 110000 };
	for (int f = 0; f < 3; f++) {
		struct text t = { 0 };
		put(&t, "type: %s\nentries:\n", f == 1 ? "person" : "place");
		items(&t, cut[f], cut[f + 1]);
		char name[32];
		snprintf(name, sizeof name, "part%d.yaml", f);
		paths[f] = write_file(dir, name, t.data, t.len);
		free(t.data);
	}
	struct gz_set *one = NULL, *three = NULL;
	gz_set_load_threads(1);
	assert_int_equal(gz_set_load((const char *const *)&dir, 1, NULL, &one, NULL), 0);
	gz_set_load_threads(3);
	assert_int_equal(gz_set_load((const char *const *)&dir, 1, NULL, &three, NULL), 0);
	gz_set_load_threads(0);
	assert_int_equal(gz_set_entry_count(three), 110000);
	assert_int_equal(gz_set_entry_count(one), gz_set_entry_count(three));
	assert_int_equal(gz_set_name_count(one), gz_set_name_count(three));
	assert_int_equal(gz_set_region_count(one), gz_set_region_count(three));
	assert_int_equal(gz_set_type_count(one), gz_set_type_count(three));
	assert_string_equal(gz_set_hash(one), gz_set_hash(three));
	for (size_t i = 0; i < gz_set_entry_count(one); i++) {
		const struct gz_entry *x = gz_set_entry(one, i), *y = gz_set_entry(three, i);
		assert_string_equal(gz_entry_id(x), gz_entry_id(y));
		assert_string_equal(gz_entry_name(x), gz_entry_name(y));
		assert_string_equal(gz_entry_type(x), gz_entry_type(y));
		assert_string_equal(gz_entry_file(x), gz_entry_file(y));
		assert_true((gz_entry_attrs(x) == NULL) == (gz_entry_attrs(y) == NULL));
		if (gz_entry_attrs(x))
			assert_string_equal(gz_entry_attrs(x), gz_entry_attrs(y));
		assert_true(x->priority == y->priority);
		assert_int_equal(x->type_index, y->type_index);
		assert_int_equal(x->name_case, y->name_case);
		assert_int_equal(x->evidence_required, y->evidence_required);
		assert_int_equal(x->country, y->country);
		assert_int_equal(x->admin1, y->admin1);
		assert_int_equal(x->line, y->line);
		assert_int_equal(x->column, y->column);
		assert_int_equal(x->name_line, y->name_line);
		assert_int_equal(x->order, y->order);
		assert_int_equal(x->order, i);
		assert_int_equal(x->alias_count, y->alias_count);
		for (size_t a = 0; a < x->alias_count; a++) {
			const struct gz_alias *p = &gz_entry_aliases(x)[a], *q = &gz_entry_aliases(y)[a];
			assert_string_equal(gz_alias_text(p), gz_alias_text(q));
			assert_int_equal(p->case_rule, q->case_rule);
			assert_int_equal(p->line, q->line);
			assert_int_equal(p->column, q->column);
		}
		if (x->country)
			assert_string_equal(gz_set_region(one, x->country), gz_set_region(three, y->country));
	}
	/* spot checks that the fields compared hold something */
	const struct gz_entry *e = gz_set_find(three, "p-50003");
	assert_non_null(e);
	assert_string_equal(gz_entry_type(e), "place");
	assert_string_equal(gz_set_region(three, e->admin1), "UA.23");
	assert_string_equal(gz_entry_type(gz_set_find(three, "p-50000")), "person");
	assert_string_equal(gz_alias_text(&gz_entry_aliases(gz_set_find(three, "p-109998"))[1]),
			    "ALIAS109998");
	gz_set_unref(one);
	gz_set_unref(three);
	remove_files(dir, paths, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_big_file_read_in_pieces_equals_whole_read),
		cmocka_unit_test(test_big_file_problems_as_whole_read),
		cmocka_unit_test(test_big_file_item_lookalike_in_quoted_scalar),
		cmocka_unit_test(test_big_file_keys_after_entries),
		cmocka_unit_test(test_parallel_load_reports_problems_in_file_order),
		cmocka_unit_test(test_parallel_load_duplicate_ids_across_files),
		cmocka_unit_test(test_parallel_copy_equals_one_thread),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
