/*
 * Unit tests for gazetteer.c (and the file-level checks of set.c): every
 * field of SPEC §2 loaded as written, attrs typed as JSON, and one test per
 * error class with the exact FILE:LINE:COLUMN: message that `gaztagd --check`
 * prints.  Gazetteers are parsed from buffers named "g.yaml"; tests that need
 * several files (duplicate ids, directories) write them to a temp directory.
 */
#include "unit_helpers.h"

#include <jansson.h>
#include <sys/stat.h>

#include "gazetteer.h"

/* Parses yaml as "g.yaml"; returns the problems, one per line, in a static
 * buffer ("" when none) and sets *count to the loader's return value. */
static const char *problems(const char *yaml, size_t len, int *count)
{
	static char out[4096];
	struct gz_diag diag;
	struct gz_gazetteer *g = NULL;
	gz_diag_init(&diag);
	int r = gz_gazetteer_parse("g.yaml", yaml, len, &g, &diag);
	assert_true(r >= 0);
	size_t k = 0;
	out[0] = 0;
	for (size_t i = 0; i < diag.count; i++)
		k += (size_t)snprintf(out + k, sizeof out - k, "%s%s", i ? "\n" : "", diag.lines[i]);
	/* the count returned is the number of lines reported */
	assert_int_equal((size_t)r, diag.count);
	if (count)
		*count = r;
	gz_diag_clear(&diag);
	gz_gazetteer_free(g);
	return out;
}

static const char *problems_of(const char *yaml)
{
	return problems(yaml, strlen(yaml), NULL);
}

/* Parses yaml that must be valid. */
static struct gz_gazetteer *parse_ok(const char *yaml)
{
	struct gz_diag diag;
	struct gz_gazetteer *g = NULL;
	gz_diag_init(&diag);
	int r = gz_gazetteer_parse("g.yaml", yaml, strlen(yaml), &g, &diag);
	print_diag(&diag);
	assert_int_equal(r, 0);
	assert_non_null(g);
	gz_diag_clear(&diag);
	return g;
}

/* Loads the given files with gz_set_load, which must fail; returns the
 * problems one per line. */
static const char *set_problems(const char *const *paths, size_t n, struct gz_error *err)
{
	static char out[4096];
	struct gz_diag diag;
	struct gz_set *set = (struct gz_set *)1;
	gz_diag_init(&diag);
	memset(err, 0, sizeof *err);
	assert_int_equal(gz_set_load(paths, n, &diag, &set, err), GZ_ELOAD);
	assert_null(set);
	size_t k = 0;
	out[0] = 0;
	for (size_t i = 0; i < diag.count; i++)
		k += (size_t)snprintf(out + k, sizeof out - k, "%s%s", i ? "\n" : "", diag.lines[i]);
	gz_diag_clear(&diag);
	return out;
}

static void remove_dir(char *dir, char **paths, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unlink(paths[i]);
		free(paths[i]);
	}
	rmdir(dir);
	free(dir);
}

/* ---------------------------------------------------------- valid files */

static void test_every_entry_field_loaded(void **state)
{
	(void)state;
	struct gz_gazetteer *g = parse_ok(
		"type: place\n"
		"case: sensitive\n"
		"entries:\n"
		"  - id: kyiv\n"
		"    name: Kyiv\n"
		"    aliases:\n"
		"      - Kiev\n"
		"      - {text: KYIV, case: sensitive}\n"
		"    case: insensitive\n"
		"    priority: 2.5\n"
		"    attrs:\n"
		"      country: UA\n"
		"  - id: us\n"
		"    name: US\n"
		"    type: country\n");
	assert_string_equal(g->path, "g.yaml");
	assert_string_equal(g->type, "place");
	assert_int_equal(g->count, 2);

	const struct gz_raw_entry *e = &g->entries[0];
	assert_string_equal(e->id, "kyiv");
	assert_string_equal(e->name, "Kyiv");
	assert_string_equal(e->type, "place");
	assert_int_equal(e->name_case, 0);
	assert_true(e->priority == 2.5);
	assert_int_equal(e->alias_count, 2);
	assert_string_equal(e->aliases[0].text, "Kiev");
	assert_int_equal(e->aliases[0].case_rule, 0);
	assert_int_equal(e->aliases[0].line, 7);
	assert_int_equal(e->aliases[0].column, 9);
	assert_string_equal(e->aliases[1].text, "KYIV");
	assert_int_equal(e->aliases[1].case_rule, 1);
	assert_int_equal(e->line, 4);
	assert_int_equal(e->column, 5);
	assert_int_equal(e->id_line, 4);
	assert_int_equal(e->id_column, 9);
	assert_int_equal(e->name_line, 5);
	assert_int_equal(e->name_column, 11);
	assert_string_equal(e->attrs, "{\"country\":\"UA\"}");

	e = &g->entries[1];
	assert_string_equal(e->id, "us");
	assert_string_equal(e->type, "country");    /* the entry's type overrides the file's */
	assert_int_equal(e->name_case, 1); /* the file's case rule */
	assert_true(e->priority == 0);
	assert_null(e->attrs);
	assert_int_equal(e->alias_count, 0);
	gz_gazetteer_free(g);
}

static void test_narrowest_case_rule_wins(void **state)
{
	(void)state;
	struct gz_gazetteer *g = parse_ok(
		"type: org\n"
		"case: insensitive\n"
		"entries:\n"
		"  - id: who\n"
		"    name: WHO\n"
		"    case: sensitive\n"
		"    aliases: [World Health Organization, {text: who org, case: insensitive}]\n"
		"  - id: nato\n"
		"    name: NATO\n"
		"    aliases: [{text: OTAN, case: sensitive}, Nato]\n");
	assert_int_equal(g->count, 2);
	const struct gz_raw_entry *who = &g->entries[0], *nato = &g->entries[1];
	assert_int_equal(who->name_case, 1);          /* entry over file */
	assert_int_equal(who->aliases[0].case_rule, 1);    /* inherits the entry's */
	assert_int_equal(who->aliases[1].case_rule, 0);    /* alias over entry */
	assert_int_equal(nato->name_case, 0);         /* the file's */
	assert_int_equal(nato->aliases[0].case_rule, 1);   /* alias over file */
	assert_int_equal(nato->aliases[1].case_rule, 0);
	gz_gazetteer_free(g);

	g = parse_ok(
		"type: org\n"
		"case: sensitive\n"
		"entries:\n"
		"  - {id: un, name: UN, aliases: [U.N.]}\n");
	assert_int_equal(g->entries[0].name_case, 1);
	assert_int_equal(g->entries[0].aliases[0].case_rule, 1);
	gz_gazetteer_free(g);
}

static void test_attrs_scalars_typed_as_json(void **state)
{
	(void)state;
	struct gz_gazetteer *g = parse_ok(
		"type: place\n"
		"entries:\n"
		"  - id: kyiv\n"
		"    name: Kyiv\n"
		"    attrs:\n"
		"      population: 2952301\n"
		"      negative: -12\n"
		"      area: 839.5\n"
		"      ratio: 1e3\n"
		"      capital: true\n"
		"      occupied: false\n"
		"      abolished: null\n"
		"      tilde: ~\n"
		"      country: NO\n"
		"      flag: yes\n"
		"      switch: on\n"
		"      code: \"10\"\n"
		"      single: 'true'\n"
		"      wikidata: Q1899\n"
		"      version: 1.2.3\n"
		"      hex: 0x1F\n"
		"      names: [Kyiv, 42]\n"
		"      nested: {a: 1}\n");
	json_t *a = json_loads(g->entries[0].attrs, 0, NULL);
	assert_non_null(a);
	assert_true(json_is_integer(json_object_get(a, "population")));
	assert_int_equal(json_integer_value(json_object_get(a, "population")), 2952301);
	assert_int_equal(json_integer_value(json_object_get(a, "negative")), -12);
	assert_true(json_is_real(json_object_get(a, "area")));
	assert_true(json_real_value(json_object_get(a, "area")) == 839.5);
	assert_true(json_is_real(json_object_get(a, "ratio")));
	assert_true(json_real_value(json_object_get(a, "ratio")) == 1000.0);
	assert_true(json_is_true(json_object_get(a, "capital")));
	assert_true(json_is_false(json_object_get(a, "occupied")));
	assert_true(json_is_null(json_object_get(a, "abolished")));
	assert_true(json_is_null(json_object_get(a, "tilde")));
	/* YAML 1.1's booleans are plain strings here */
	assert_string_equal(json_string_value(json_object_get(a, "country")), "NO");
	assert_string_equal(json_string_value(json_object_get(a, "flag")), "yes");
	assert_string_equal(json_string_value(json_object_get(a, "switch")), "on");
	/* quoted scalars are strings whatever they hold */
	assert_string_equal(json_string_value(json_object_get(a, "code")), "10");
	assert_string_equal(json_string_value(json_object_get(a, "single")), "true");
	assert_string_equal(json_string_value(json_object_get(a, "wikidata")), "Q1899");
	assert_string_equal(json_string_value(json_object_get(a, "version")), "1.2.3");
	assert_string_equal(json_string_value(json_object_get(a, "hex")), "0x1F");
	char *s = json_dumps(json_object_get(a, "names"), JSON_COMPACT);
	assert_string_equal(s, "[\"Kyiv\",42]");
	free(s);
	s = json_dumps(json_object_get(a, "nested"), JSON_COMPACT);
	assert_string_equal(s, "{\"a\":1}");
	free(s);
	assert_int_equal(json_object_size(a), 18);
	json_decref(a);
	gz_gazetteer_free(g);
}

/* Regression: True/TRUE/Null became booleans and null, against "only
 * those words"; and a leading zero was lost to a number. */
static void test_attrs_only_lowercase_words_and_no_leading_zero_numbers(void **state)
{
	(void)state;
	struct gz_gazetteer *g = parse_ok(
		"type: place\n"
		"entries:\n"
		"  - id: x\n"
		"    name: X\n"
		"    attrs:\n"
		"      a: True\n"
		"      b: FALSE\n"
		"      c: Null\n"
		"      postcode: 01001\n"
		"      zero: 0\n"
		"      small: 0.5\n");
	json_t *a = json_loads(g->entries[0].attrs, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(a, "a")), "True");
	assert_string_equal(json_string_value(json_object_get(a, "b")), "FALSE");
	assert_string_equal(json_string_value(json_object_get(a, "c")), "Null");
	assert_string_equal(json_string_value(json_object_get(a, "postcode")), "01001");
	assert_int_equal(json_integer_value(json_object_get(a, "zero")), 0);
	assert_true(json_real_value(json_object_get(a, "small")) == 0.5);
	json_decref(a);
	gz_gazetteer_free(g);
}

/* Entries are checked as they stream past the parser; the file's type and
 * case may be written after them and must still apply. */
static void test_file_type_and_case_after_entries_apply(void **state)
{
	(void)state;
	struct gz_gazetteer *g = parse_ok(
		"entries:\n"
		"  - id: us\n"
		"    name: US\n"
		"    aliases: [USA, {text: usa, case: insensitive}]\n"
		"  - {id: uk, name: UK, case: insensitive, type: country}\n"
		"case: sensitive\n"
		"type: place\n");
	assert_int_equal(g->count, 2);
	assert_string_equal(g->entries[0].type, "place");
	assert_int_equal(g->entries[0].name_case, 1);
	assert_int_equal(g->entries[0].aliases[0].case_rule, 1);
	assert_int_equal(g->entries[0].aliases[1].case_rule, 0);
	assert_string_equal(g->entries[1].type, "country");
	assert_int_equal(g->entries[1].name_case, 0);
	gz_gazetteer_free(g);
}

/* Numbers keep the digits written, made valid JSON; strings are escaped. */
static void test_attrs_text_keeps_written_digits(void **state)
{
	(void)state;
	struct gz_gazetteer *g = parse_ok(
		"type: place\n"
		"entries:\n"
		"  - id: x\n"
		"    name: X\n"
		"    attrs: {lat: 50.45, plus: +3, half: .5, whole: 2., e: 1e3, big: 123456789012345678901,"
		" q: \"a \\\"b\\\" \\\\ \\t\", list: [1, two, ~], m: {k: false}}\n");
	assert_string_equal(g->entries[0].attrs,
		"{\"lat\":50.45,\"plus\":3,\"half\":0.5,\"whole\":2.0,\"e\":1e3,"
		"\"big\":1.2345678901234568e+20,\"q\":\"a \\\"b\\\" \\\\ \\t\","
		"\"list\":[1,\"two\",null],\"m\":{\"k\":false}}");
	json_t *j = json_loads(g->entries[0].attrs, 0, NULL);
	assert_non_null(j);
	json_decref(j);
	gz_gazetteer_free(g);
}

static void test_empty_entries_is_no_entries(void **state)
{
	(void)state;
	struct gz_gazetteer *g = parse_ok("type: place\nentries:\n");
	assert_int_equal(g->count, 0);
	gz_gazetteer_free(g);
	g = parse_ok("type: place\nentries: []\n");
	assert_int_equal(g->count, 0);
	gz_gazetteer_free(g);
}

static void test_name_has_word(void **state)
{
	(void)state;
	assert_int_equal(gz_name_has_word("Kyiv"), 1);
	assert_int_equal(gz_name_has_word("42"), 1);
	assert_int_equal(gz_name_has_word("東"), 1);
	assert_int_equal(gz_name_has_word("U.S."), 1);
	assert_int_equal(gz_name_has_word(""), 0);
	assert_int_equal(gz_name_has_word("---"), 0);
	assert_int_equal(gz_name_has_word("?! ..."), 0);
	assert_int_equal(gz_name_has_word("\xcc\x81"), 0);  /* a lone combining mark */
	assert_int_equal(gz_name_has_word("😀"), 0);
}

/* ------------------------------------------------------- error classes */

static void test_missing_id_reported_at_entry(void **state)
{
	(void)state;
	assert_string_equal(problems_of(
		"type: place\n"
		"entries:\n"
		"  - name: Kyiv\n"),
		"g.yaml:3:5: missing required key 'id' in entry");
}

static void test_missing_name_reported_with_id(void **state)
{
	(void)state;
	assert_string_equal(problems_of(
		"type: place\n"
		"entries:\n"
		"  - id: kyiv\n"
		"    aliases: [Kiev]\n"),
		"g.yaml:3:5: missing required key 'name' in entry 'kyiv'");
}

static void test_duplicate_id_across_files_names_first(void **state)
{
	(void)state;
	char *dir = temp_dir();
	const char *a = "type: place\nentries:\n  - id: kyiv\n    name: Kyiv\n";
	const char *b = "type: unit\nentries:\n  - id: azov\n    name: Azov\n"
			"  - name: Kyiv Battalion\n    id: kyiv\n";
	char *paths[2] = { write_file(dir, "a.yaml", a, strlen(a)),
			   write_file(dir, "b.yaml", b, strlen(b)) };
	struct gz_error err;
	char want[1024];
	snprintf(want, sizeof want, "%s:6:9: duplicate id 'kyiv' (first defined at %s:3:9)",
		 paths[1], paths[0]);
	char got[1024], msg[1200];
	snprintf(got, sizeof got, "%s", set_problems((const char *const *)paths, 2, &err));
	snprintf(msg, sizeof msg, "1 problem in gazetteers; first: %s", want);

	/* the other load order: the first loaded is always the first */
	char *rev[2] = { paths[1], paths[0] };
	char want_rev[1024], got_rev[1024];
	snprintf(want_rev, sizeof want_rev, "%s:3:9: duplicate id 'kyiv' (first defined at %s:6:9)",
		 paths[0], paths[1]);
	struct gz_error err_rev;
	snprintf(got_rev, sizeof got_rev, "%s", set_problems((const char *const *)rev, 2, &err_rev));
	remove_dir(dir, paths, 2);

	assert_string_equal(got, want);
	assert_int_equal(err.code, GZ_ELOAD);
	assert_string_equal(err.message, msg);
	assert_string_equal(got_rev, want_rev);
}

static void test_duplicate_id_in_one_file_names_first(void **state)
{
	(void)state;
	const char *y = "type: place\nentries:\n"
			"  - {id: kyiv, name: Kyiv}\n"
			"  - {id: lviv, name: Lviv}\n"
			"  - {id: kyiv, name: Kiev}\n"
			"  - {id: kyiv, name: Kyjiw}\n";
	char *path = write_temp(y, strlen(y));
	struct gz_error err;
	char want[1024];
	snprintf(want, sizeof want,
		 "%s:5:10: duplicate id 'kyiv' (first defined at %s:3:10)\n"
		 "%s:6:10: duplicate id 'kyiv' (first defined at %s:3:10)",
		 path, path, path, path);
	const char *got = set_problems((const char *const *)&path, 1, &err);
	unlink(path);
	free(path);
	assert_string_equal(got, want);
}

static void test_duplicate_id_reported_even_when_first_entry_invalid(void **state)
{
	(void)state;
	/* the first kyiv lacks a name: both problems belong in one --check run */
	const char *y = "type: place\nentries:\n"
			"  - {id: kyiv}\n"
			"  - {id: kyiv, name: Kyiv}\n";
	char *path = write_temp(y, strlen(y));
	struct gz_error err;
	char want[1024];
	snprintf(want, sizeof want,
		 "%s:3:5: missing required key 'name' in entry 'kyiv'\n"
		 "%s:4:10: duplicate id 'kyiv' (first defined at %s:3:10)",
		 path, path, path);
	const char *got = set_problems((const char *const *)&path, 1, &err);
	unlink(path);
	free(path);
	assert_string_equal(got, want);
}

static void test_duplicate_key_in_entry_reported(void **state)
{
	(void)state;
	assert_string_equal(problems_of(
		"type: place\n"
		"entries:\n"
		"  - id: kyiv\n"
		"    name: Kyiv\n"
		"    id: kiev\n"),
		"g.yaml:5:5: duplicate key 'id' in entry (first at line 3)");
}

static void test_unknown_entry_key_reported(void **state)
{
	(void)state;
	assert_string_equal(problems_of(
		"type: place\n"
		"entries:\n"
		"  - id: kyiv\n"
		"    name: Kyiv\n"
		"    alias: [Kiev]\n"),
		"g.yaml:5:5: unknown key 'alias' in entry "
		"(expected id, name, aliases, type, case, priority, evidence, attrs)");
}

static void test_unknown_file_and_alias_keys_reported(void **state)
{
	(void)state;
	assert_string_equal(problems_of(
		"type: place\n"
		"kase: sensitive\n"
		"entries:\n"
		"  - id: kyiv\n"
		"    name: Kyiv\n"
		"    aliases: [{txt: Kiev}]\n"),
		"g.yaml:2:1: unknown key 'kase' in the gazetteer (expected type, case, priority, common_words, entries)\n"
		"g.yaml:6:16: unknown key 'txt' in alias (expected text, case)");
}

static void test_empty_name_reported(void **state)
{
	(void)state;
	assert_string_equal(problems_of(
		"type: place\n"
		"entries:\n"
		"  - id: a\n"
		"    name: \"\"\n"
		"  - id: b\n"
		"    name:\n"
		"  - id: c\n"
		"    name: ~\n"
		"  - id: d\n"
		"    name: D\n"
		"    aliases: ['']\n"),
		"g.yaml:4:11: empty name\n"
		"g.yaml:6:10: empty name\n"
		"g.yaml:8:11: empty name\n"
		"g.yaml:11:15: empty alias");
}

static void test_name_without_letters_or_digits_reported(void **state)
{
	(void)state;
	assert_string_equal(problems_of(
		"type: place\n"
		"entries:\n"
		"  - id: dash\n"
		"    name: \"---\"\n"
		"  - id: bang\n"
		"    name: Bang\n"
		"    aliases: [\"?!\"]\n"),
		"g.yaml:4:11: name '---' has no letters or digits\n"
		"g.yaml:7:15: alias '?!' has no letters or digits");
}

static void test_aliases_not_a_list_reported(void **state)
{
	(void)state;
	assert_string_equal(problems_of(
		"type: place\n"
		"entries:\n"
		"  - id: kyiv\n"
		"    name: Kyiv\n"
		"    aliases: Kiev\n"),
		"g.yaml:5:14: 'aliases' must be a sequence of names, found a scalar");
}

static void test_priority_not_a_number_reported(void **state)
{
	(void)state;
	assert_string_equal(problems_of(
		"type: place\n"
		"entries:\n"
		"  - id: kyiv\n"
		"    name: Kyiv\n"
		"    priority: high\n"
		"  - id: lviv\n"
		"    name: Lviv\n"
		"    priority: [1]\n"),
		"g.yaml:5:15: 'priority' must be a number, found high\n"
		"g.yaml:8:15: 'priority' must be a number, found a sequence");
}

static void test_case_bad_value_reported(void **state)
{
	(void)state;
	assert_string_equal(problems_of(
		"type: place\n"
		"entries:\n"
		"  - id: kyiv\n"
		"    name: Kyiv\n"
		"    case: upper\n"
		"  - id: lviv\n"
		"    name: Lviv\n"
		"    aliases: [{text: LVIV, case: yes}]\n"),
		"g.yaml:5:11: 'case' must be 'insensitive', 'sensitive' or 'proper', found upper\n"
		"g.yaml:8:34: 'case' must be 'insensitive', 'sensitive' or 'proper', found yes");
}

static void test_attrs_not_a_mapping_reported(void **state)
{
	(void)state;
	assert_string_equal(problems_of(
		"type: place\n"
		"entries:\n"
		"  - id: kyiv\n"
		"    name: Kyiv\n"
		"    attrs: [country, UA]\n"),
		"g.yaml:5:12: 'attrs' must be a mapping, found a sequence");
}

static void test_id_and_name_not_strings_reported(void **state)
{
	(void)state;
	assert_string_equal(problems_of(
		"type: place\n"
		"entries:\n"
		"  - id: [kyiv]\n"
		"    name: {text: Kyiv}\n"),
		"g.yaml:3:9: 'id' must be a string, found a sequence\n"
		"g.yaml:4:11: 'name' must be a string, found a mapping");
}

static void test_entry_not_a_mapping_reported(void **state)
{
	(void)state;
	assert_string_equal(problems_of(
		"type: place\n"
		"entries:\n"
		"  - Kyiv\n"),
		"g.yaml:3:5: an entry must be a mapping with id and name, found a scalar");
	assert_string_equal(problems_of(
		"type: place\n"
		"entries: Kyiv\n"),
		"g.yaml:2:10: 'entries' must be a sequence, found a scalar");
}

static void test_missing_type_reported(void **state)
{
	(void)state;
	assert_string_equal(problems_of(
		"entries:\n"
		"  - id: kyiv\n"
		"    name: Kyiv\n"),
		"g.yaml:1:1: missing required key 'type'\n"
		"g.yaml:2:5: entry 'kyiv' has no type (the file has no 'type' either)");
}

static void test_invalid_utf8_reported_at_line_and_column(void **state)
{
	(void)state;
	const char y[] = "type: place\n"
			 "entries:\n"
			 "  - id: koln\n"
			 "    name: K\xf6ln\n";   /* Latin-1 ö */
	assert_string_equal(problems(y, sizeof y - 1, NULL),
			    "g.yaml:4:12: invalid UTF-8 (byte 0xf6 at offset 45)");
	/* columns count code points, not bytes */
	const char z[] = "type: place\n"
			 "entries:\n"
			 "  - {id: kyiv, name: Київ\xff}\n";
	assert_string_equal(problems(z, sizeof z - 1, NULL),
			    "g.yaml:3:26: invalid UTF-8 (byte 0xff at offset 50)");
}

static void test_nul_byte_reported(void **state)
{
	(void)state;
	const char y[] = "type: place\nentries:\n  - {id: kyiv, name: Ky\0iv}\n";
	assert_string_equal(problems(y, sizeof y - 1, NULL),
			    "g.yaml:3:24: NUL byte in gazetteer file");
}

static void test_yaml_syntax_error_reported(void **state)
{
	(void)state;
	assert_string_equal(problems_of(
		"type: place\n"
		"entries:\n"
		"  - id: kyiv\n"
		"    name: [Kyiv\n"),
		"g.yaml:5:1: YAML syntax error: did not find expected ',' or ']' "
		"while parsing a flow sequence");
	assert_string_equal(problems_of(
		"type: place\n"
		"entries:\n"
		"  - id: kyiv\n"
		"   name: Kyiv\n"),
		"g.yaml:4:4: YAML syntax error: did not find expected '-' indicator "
		"while parsing a block collection");
}

static void test_anchor_rejected(void **state)
{
	(void)state;
	assert_string_equal(problems_of(
		"type: place\n"
		"entries:\n"
		"  - &k {id: kyiv, name: Kyiv}\n"),
		"g.yaml:3:5: YAML anchors (&k) are not allowed in gazetteers");
}

static void test_alias_reference_rejected(void **state)
{
	(void)state;
	assert_string_equal(problems_of(
		"type: place\n"
		"entries:\n"
		"  - {id: kyiv, name: Kyiv}\n"
		"  - *k\n"),
		"g.yaml:4:5: YAML aliases (*k) are not allowed in gazetteers");
}

static void test_second_document_rejected(void **state)
{
	(void)state;
	assert_string_equal(problems_of(
		"type: place\n"
		"entries: []\n"
		"---\n"
		"type: unit\n"),
		"g.yaml:3:1: a gazetteer file holds one YAML document, found a second");
}

static void test_empty_file_reported(void **state)
{
	(void)state;
	assert_string_equal(problems("", 0, NULL),
			    "g.yaml:1:1: empty gazetteer: expected a mapping with 'type' and 'entries'");
	assert_string_equal(problems_of("- Kyiv\n"),
			    "g.yaml:1:1: a gazetteer must be a mapping with 'type' and 'entries', found a sequence");
}

static void test_every_problem_reported_not_only_first(void **state)
{
	(void)state;
	int n = 0;
	const char *y =
		"type: place\n"
		"entries:\n"
		"  - name: Kyiv\n"
		"  - id: lviv\n"
		"    name: Lviv\n"
		"    alias: Lwow\n"
		"  - id: odesa\n"
		"    name: \"\"\n"
		"    priority: first\n"
		"  - id: kharkiv\n"
		"    name: Kharkiv\n";
	assert_string_equal(problems(y, strlen(y), &n),
		"g.yaml:3:5: missing required key 'id' in entry\n"
		"g.yaml:6:5: unknown key 'alias' in entry "
		"(expected id, name, aliases, type, case, priority, evidence, attrs)\n"
		"g.yaml:8:11: empty name\n"
		"g.yaml:9:15: 'priority' must be a number, found first");
	assert_int_equal(n, 4);
}

static void test_every_file_checked_by_set_load(void **state)
{
	(void)state;
	char *dir = temp_dir();
	const char *a = "type: place\nentries:\n  - {id: kyiv, nam: Kyiv}\n";
	const char *b = "type: place\nentries:\n  - {id: lviv, name: Lviv, case: loud}\n";
	char *paths[2] = { write_file(dir, "a.yaml", a, strlen(a)),
			   write_file(dir, "b.yaml", b, strlen(b)) };
	struct gz_error err;
	char want[2048];
	snprintf(want, sizeof want,
		 "%s:3:5: missing required key 'name' in entry 'kyiv'\n"
		 "%s:3:16: unknown key 'nam' in entry "
		 "(expected id, name, aliases, type, case, priority, evidence, attrs)\n"
		 "%s:3:34: 'case' must be 'insensitive', 'sensitive' or 'proper', found loud",
		 paths[0], paths[0], paths[1]);
	/* the directory, as gaztagd is usually configured */
	const char *got = set_problems((const char *const *)&dir, 1, &err);
	remove_dir(dir, paths, 2);
	assert_string_equal(got, want);
	assert_int_equal(err.code, GZ_ELOAD);
	assert_true(strncmp(err.message, "3 problems in gazetteers; first: ", 33) == 0);
}

static void test_directory_without_yaml_reported(void **state)
{
	(void)state;
	char *dir = temp_dir();
	char *paths[1] = { write_file(dir, "notes.txt", "x", 1) };
	struct gz_error err;
	char want[256];
	snprintf(want, sizeof want, "%s: no *.yaml or *.yml files in this directory", dir);
	const char *got = set_problems((const char *const *)&dir, 1, &err);
	remove_dir(dir, paths, 1);
	assert_string_equal(got, want);
}

static void test_missing_file_reported(void **state)
{
	(void)state;
	const char *path = "/nonexistent/gaztag/places.yaml";
	struct gz_error err;
	assert_string_equal(set_problems(&path, 1, &err),
			    "/nonexistent/gaztag/places.yaml: cannot open: No such file or directory");
}

/* ------------------------------------------------------------ sets */

static void test_directory_loads_yaml_files_sorted_by_name(void **state)
{
	(void)state;
	char *dir = temp_dir();
	const char *b = "type: unit\nentries:\n  - {id: azov-regiment, name: Azov}\n";
	const char *a = "type: place\nentries:\n  - {id: azov, name: Azov}\n  - {id: kyiv, name: Kyiv}\n";
	const char *c = "this is not yaml: [\n";
	char *paths[3] = { write_file(dir, "b.yaml", b, strlen(b)),
			   write_file(dir, "a.yml", a, strlen(a)),
			   write_file(dir, "notes.txt", c, strlen(c)) };
	struct gz_diag diag;
	struct gz_set *set = NULL;
	gz_diag_init(&diag);
	assert_int_equal(gz_set_load((const char *const *)&dir, 1, &diag, &set, NULL), 0);
	assert_int_equal(diag.count, 0);
	assert_int_equal(gz_set_file_count(set), 2);
	assert_string_equal(gz_set_file(set, 0)->path, paths[1]);
	assert_string_equal(gz_set_file(set, 0)->type, "place");
	assert_int_equal(gz_set_file(set, 0)->entries, 2);
	assert_int_equal(gz_set_file(set, 0)->names, 2);
	assert_string_equal(gz_set_file(set, 1)->path, paths[0]);
	assert_int_equal(gz_set_entry_count(set), 3);
	assert_string_equal(gz_entry_id(gz_set_entry(set, 0)), "azov");
	assert_int_equal(gz_set_entry(set, 0)->order, 0);
	assert_string_equal(gz_entry_id(gz_set_entry(set, 2)), "azov-regiment");
	assert_int_equal(gz_set_entry(set, 2)->order, 2);
	assert_string_equal(gz_entry_name(gz_set_find(set, "kyiv")), "Kyiv");
	assert_null(gz_set_find(set, "lviv"));
	assert_int_equal(gz_set_type_count(set), 2);
	assert_int_equal(gz_set_type_index(set, "unit"), 1);
	assert_int_equal(gz_set_type_index(set, "person"), -1);
	gz_set_unref(set);
	gz_diag_clear(&diag);
	remove_dir(dir, paths, 3);
}

static void test_same_surface_form_in_two_entries_is_not_an_error(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(
		"type: place\n"
		"entries:\n"
		"  - {id: azov-sea, name: Azov}\n"
		"  - {id: azov-town, name: Azov, aliases: [AZOV, Azov]}\n");
	assert_int_equal(gz_set_entry_count(set), 2);
	/* each (entry, folded form) once: Azov, and azov-town's AZOV and Azov fold alike */
	assert_int_equal(gz_set_name_count(set), 2);
	gz_set_unref(set);
}

/* ------------------------------------------------------- content hash */

static const char HASH_PLACES[] = "type: place\nentries:\n  - {id: kyiv, name: Kyiv}\n\n";
static const char HASH_UNITS[] = "type: unit\nentries:\n  - {id: azov-regiment, name: Azov}\n";

/* Loads paths[0..n) in that order; the load must succeed.  Returns the
 * set's hash, copied into out. */
static const char *hash_of(char *const *paths, size_t n, char out[33])
{
	struct gz_set *set = NULL;
	assert_int_equal(gz_set_load((const char *const *)paths, n, NULL, &set, NULL), 0);
	const char *h = gz_set_hash(set);
	assert_int_equal(strlen(h), 32);
	assert_int_equal(strspn(h, "0123456789abcdef"), 32);
	memcpy(out, h, 33);
	gz_set_unref(set);
	return out;
}

static void test_set_hash_is_content_not_paths(void **state)
{
	(void)state;
	char *d1 = temp_dir(), *d2 = temp_dir();
	char *p1[2] = { write_file(d1, "places.yaml", HASH_PLACES, strlen(HASH_PLACES)),
			write_file(d1, "units.yaml", HASH_UNITS, strlen(HASH_UNITS)) };
	/* the same bytes under other names, in another directory */
	char *p2[2] = { write_file(d2, "a.yaml", HASH_PLACES, strlen(HASH_PLACES)),
			write_file(d2, "b.yml", HASH_UNITS, strlen(HASH_UNITS)) };
	char h1[33], h2[33], h3[33];
	hash_of(p1, 2, h1);
	assert_string_equal(hash_of(p2, 2, h2), h1);
	/* loaded twice: the same */
	assert_string_equal(hash_of(p1, 2, h3), h1);
	/* by directory, as gaztagd loads them: the same files, the same order */
	assert_string_equal(hash_of(&d2, 1, h3), h1);
	/* What it is, computed with xxhsum's xxh128sum (xxhash 0.8.1) from the
	 * documented scheme: per file its length as 8 bytes little-endian and
	 * `xxh128sum FILE` as 16 bytes, then xxh128sum of those 48 bytes. */
	assert_string_equal(h1, "d30bd5e4738dc2d1614f00dd144e6893");
	remove_dir(d1, p1, 2);
	remove_dir(d2, p2, 2);
}

static void test_set_hash_follows_bytes_order_and_boundaries(void **state)
{
	(void)state;
	char *dir = temp_dir();
	/* places' blank last line moved to the start of units: the same bytes
	 * end to end, another boundary */
	const char *moved_places = "type: place\nentries:\n  - {id: kyiv, name: Kyiv}\n";
	const char *moved_units = "\ntype: unit\nentries:\n  - {id: azov-regiment, name: Azov}\n";
	/* one byte changed: Kyiv -> Kyiw */
	const char *changed = "type: place\nentries:\n  - {id: kyiv, name: Kyiw}\n\n";
	char *p[6] = { write_file(dir, "p.yaml", HASH_PLACES, strlen(HASH_PLACES)),
		       write_file(dir, "u.yaml", HASH_UNITS, strlen(HASH_UNITS)),
		       write_file(dir, "mp.yaml", moved_places, strlen(moved_places)),
		       write_file(dir, "mu.yaml", moved_units, strlen(moved_units)),
		       write_file(dir, "c.yaml", changed, strlen(changed)),
		       NULL };
	char base[33], h[33];
	hash_of(p, 2, base);
	char *swapped[2] = { p[1], p[0] };
	assert_string_not_equal(hash_of(swapped, 2, h), base);
	char *moved[2] = { p[2], p[3] };
	assert_string_not_equal(hash_of(moved, 2, h), base);
	char *one_byte[2] = { p[4], p[1] };
	assert_string_not_equal(hash_of(one_byte, 2, h), base);
	assert_string_not_equal(hash_of(p, 1, h), base); /* a file fewer */
	remove_dir(dir, p, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_entry_field_loaded),
		cmocka_unit_test(test_narrowest_case_rule_wins),
		cmocka_unit_test(test_attrs_scalars_typed_as_json),
		cmocka_unit_test(test_empty_entries_is_no_entries),
		cmocka_unit_test(test_attrs_text_keeps_written_digits),
		cmocka_unit_test(test_file_type_and_case_after_entries_apply),
		cmocka_unit_test(test_attrs_only_lowercase_words_and_no_leading_zero_numbers),
		cmocka_unit_test(test_name_has_word),
		cmocka_unit_test(test_missing_id_reported_at_entry),
		cmocka_unit_test(test_missing_name_reported_with_id),
		cmocka_unit_test(test_duplicate_id_across_files_names_first),
		cmocka_unit_test(test_duplicate_id_in_one_file_names_first),
		cmocka_unit_test(test_duplicate_id_reported_even_when_first_entry_invalid),
		cmocka_unit_test(test_duplicate_key_in_entry_reported),
		cmocka_unit_test(test_unknown_entry_key_reported),
		cmocka_unit_test(test_unknown_file_and_alias_keys_reported),
		cmocka_unit_test(test_empty_name_reported),
		cmocka_unit_test(test_name_without_letters_or_digits_reported),
		cmocka_unit_test(test_aliases_not_a_list_reported),
		cmocka_unit_test(test_priority_not_a_number_reported),
		cmocka_unit_test(test_case_bad_value_reported),
		cmocka_unit_test(test_attrs_not_a_mapping_reported),
		cmocka_unit_test(test_id_and_name_not_strings_reported),
		cmocka_unit_test(test_entry_not_a_mapping_reported),
		cmocka_unit_test(test_missing_type_reported),
		cmocka_unit_test(test_invalid_utf8_reported_at_line_and_column),
		cmocka_unit_test(test_nul_byte_reported),
		cmocka_unit_test(test_yaml_syntax_error_reported),
		cmocka_unit_test(test_anchor_rejected),
		cmocka_unit_test(test_alias_reference_rejected),
		cmocka_unit_test(test_second_document_rejected),
		cmocka_unit_test(test_empty_file_reported),
		cmocka_unit_test(test_every_problem_reported_not_only_first),
		cmocka_unit_test(test_every_file_checked_by_set_load),
		cmocka_unit_test(test_directory_without_yaml_reported),
		cmocka_unit_test(test_missing_file_reported),
		cmocka_unit_test(test_directory_loads_yaml_files_sorted_by_name),
		cmocka_unit_test(test_same_surface_form_in_two_entries_is_not_an_error),
		cmocka_unit_test(test_set_hash_is_content_not_paths),
		cmocka_unit_test(test_set_hash_follows_bytes_order_and_boundaries),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
