/*
 * Regression tests for the bugs the fuzzers (tests/fuzz) and the
 * differential test found, one test per bug, each with the minimised input
 * the fuzzer produced (also kept as tests/fuzz/corpus/TARGET/regress-*,
 * which the fuzz-replay suite runs through the fuzz target itself).  Each
 * failed before the engine was fixed; the comment before each bug's tests
 * says what the bug was and which fuzzer found it.
 */
#include "unit_helpers.h"

#include <jansson.h>

#include "json.h"

/* Loads yaml, which must fail to load: returns the diagnostics. */
static void load_must_fail(const char *yaml, struct gz_diag *diag)
{
	char *path = write_temp(yaml, strlen(yaml));
	const char *paths[1] = { path };
	struct gz_set *set = NULL;
	struct gz_error err;
	memset(&err, 0, sizeof err);
	gz_diag_init(diag);
	int r = gz_set_load(paths, 1, diag, &set, &err);
	unlink(path);
	free(path);
	assert_int_equal(r, GZ_ELOAD);
	assert_null(set);
	assert_int_equal(err.code, GZ_ELOAD);
}

static int diag_has(const struct gz_diag *d, const char *needle)
{
	for (size_t i = 0; i < d->count; i++)
		if (strstr(d->lines[i], needle))
			return 1;
	print_diag(d);
	return 0;
}

/* fuzz_gazetteer: a YAML syntax error after a valid entry left that entry
 * without a type (the file's type is applied only after a clean parse), and
 * gz_set_load passed the NULL type to strcmp/strdup: gaztagd --check, and a
 * reload of a file being edited, crashed with SIGSEGV. */
static void test_syntax_error_after_entry_reported_not_crash(void **state)
{
	(void)state;
	struct gz_diag d;
	load_must_fail("type: person\nentries:\n- {id: d, name: T}\n- ]\n", &d);
	assert_true(diag_has(&d, ":4:3: YAML syntax error"));
	gz_diag_clear(&d);
}

static void test_syntax_error_without_file_type_reported_not_crash(void **state)
{
	(void)state;
	struct gz_diag d;
	/* the fuzzer's minimised input */
	load_must_fail("entries:\n- id: O\n  name: k\n:", &d);
	assert_true(diag_has(&d, "YAML syntax error"));
	gz_diag_clear(&d);
}

static void test_syntax_error_in_entry_list_reported_not_crash(void **state)
{
	(void)state;
	struct gz_diag d;
	load_must_fail("type: person\nentries:\n  - id: a\n    name: A\n x\n", &d);
	assert_true(diag_has(&d, "YAML syntax error"));
	gz_diag_clear(&d);
}

/* fuzz_tagger: under overlaps=longest, a name's leading punctuation could
 * reach back into the previous match's trailing punctuation: "U.S.NET"
 * gave U.S. (0-4) and .NET (3-7), overlapping spans.  Leftmost-longest
 * takes U.S. and goes on after it, where ".NET" no longer has its period. */
static void test_lead_punctuation_never_overlaps_previous_match(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(
		"type: org\nentries:\n"
		"  - {id: united-states, name: U.S., type: place}\n"
		"  - {id: dotnet, name: .NET}\n");
	assert_string_equal(tag(set, "U.S.NET"), "0-4 [U.S.] united-states");
	assert_string_equal(tag_all(set, "U.S.NET"), "0-4 [U.S.] united-states; 3-7 [.NET] dotnet");
	assert_string_equal(tag(set, "U.S. .NET"), "0-4 [U.S.] united-states; 5-9 [.NET] dotnet");
	gz_set_unref(set);
}

/* The same, from the differential test: after the overlapping candidate is
 * dropped, the scan must still take a lead-less name at the next token. */
static void test_after_trailing_punctuation_next_name_without_lead_matches(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(
		"type: place\nentries:\n"
		"  - {id: e0, name: \"Z\xc3\x9cRICH.\"}\n"
		"  - {id: e1, name: \".zurich\"}\n"
		"  - {id: e2, name: Kyiv, aliases: [\"Z\xc3\x9cRICH\"]}\n");
	assert_string_equal(tag(set, "zurich.ZURICH"), "0-7 [zurich.] e0; 7-13 [ZURICH] e2");
	assert_string_equal(tag_all(set, "zurich.ZURICH"),
			    "0-7 [zurich.] e0; 0-6 [zurich] e2; 6-13 [.ZURICH] e1; 7-13 [ZURICH] e2");
	gz_set_unref(set);
}

/* fuzz_gazetteer (a name must match its own text): punctuation that begins
 * or ends a name "belongs to it like a gap" (SPEC §3.2), but when a space,
 * dash or apostrophe stands between it and the tokens, or inside it, the
 * name was compiled with that character dropped from its lead/trail while
 * the text scan demands the punctuation right next to the token, so
 * "Kyiv !" never matched "Kyiv !" (only "Kyiv!"). */
static void test_space_beside_end_punctuation_still_matches_itself(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(
		"type: place\nentries:\n"
		"  - {id: kyiv-bang, name: \"Kyiv !\"}\n"
		"  - {id: at-azov, name: \"@ Azov\"}\n"
		"  - {id: un, name: \"( UN )\"}\n"
		"  - {id: lodz, name: \"Lodz.'.\"}\n");
	assert_string_equal(tag(set, "Kyiv !"), "0-6 [Kyiv !] kyiv-bang");
	assert_string_equal(tag(set, "@ Azov"), "0-6 [@ Azov] at-azov");
	assert_string_equal(tag(set, "( UN )"), "0-6 [( UN )] un");
	assert_string_equal(tag(set, "Lodz.'."), "0-7 [Lodz.'.] lodz");
	gz_set_unref(set);
}

/* fuzz_gazetteer: an invisible format character (zero-width space, soft
 * hyphen: "neither splits a token nor counts in a gap", fold.h) or a stray
 * combining mark between a name's leading punctuation and its first token
 * stopped match_lead, which accepts only punctuation there: "(<ZWSP>UN)"
 * matched neither the name "(UN)" nor itself, while "(UN<ZWSP>)" matched. */
static void test_invisible_character_after_leading_punctuation_ignored(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(
		"type: org\nentries:\n"
		"  - {id: un, name: \"(UN)\"}\n"
		"  - {id: metoo, name: \"#MeToo\"}\n"
		"  - {id: zwsp, name: \"(\xe2\x80\x8b" "Azov)\"}\n");
	/* code point offsets; U+200B and U+00AD count one each */
	assert_string_equal(tag(set, "(UN\xe2\x80\x8b)"), "0-5 [(UN\xe2\x80\x8b)] un");
	assert_string_equal(tag(set, "(\xe2\x80\x8bUN)"), "0-5 [(\xe2\x80\x8bUN)] un");
	assert_string_equal(tag(set, "#\xc2\xadMeToo"), "0-7 [#\xc2\xadMeToo] metoo");
	assert_string_equal(tag(set, "(\xe2\x80\x8b" "Azov)"), "0-7 [(\xe2\x80\x8b" "Azov)] zwsp");
	gz_set_unref(set);
}

/* test_differential and fuzz_gazetteer, after the fix of soft characters
 * beside edge punctuation: match_lead/match_trail count line breaks unlike
 * a gap does.  CR LF counted as two breaks, a blank line ("(\r\nUN)" and
 * "Kyiv\r\n." did not match while "(\nUN)" did; "Saint\r\nPetersburg"
 * matches), a dash between two breaks did not reset the count ("(\n-\nUN)";
 * "Saint\n-\nPetersburg" matches), and a stray combining mark, ignored in
 * a gap, stopped the match ("(<U+0301>UN)"). */
static void test_edge_punctuation_line_breaks_counted_as_in_a_gap(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(
		"type: org\nentries:\n"
		"  - {id: un, name: \"(UN)\"}\n"
		"  - {id: kyiv, name: \"Kyiv.\"}\n");
	assert_string_equal(tag(set, "(\nUN)"), "0-5 [(\nUN)] un");
	assert_string_equal(tag(set, "(\r\nUN)"), "0-6 [(\r\nUN)] un");
	assert_string_equal(tag(set, "Kyiv\r\n."), "0-7 [Kyiv\r\n.] kyiv");
	assert_string_equal(tag(set, "(\n-\nUN)"), "0-7 [(\n-\nUN)] un");
	assert_string_equal(tag(set, "(\xcc\x81UN)"), "0-5 [(\xcc\x81UN)] un");
	/* a blank line, however written, still never lies inside a match */
	assert_string_equal(tag(set, "(\n\nUN) (\r\n\r\nUN) Kyiv\n \n."), "");
	gz_set_unref(set);
}

/* fuzz_request: an error message that holds invalid UTF-8 made
 * gz_json_error return NULL (json_pack refuses such a string), and gaztagd
 * then closed the connection without an answer (curl: "Empty reply from
 * server"), or wrote the NDJSON line {"id":null} with neither entities nor
 * error.  The messages carry client bytes: jansson's "near '...'" context
 * (which cuts a multi-byte character: body {"text":"\u\xd0\xb2"}), a
 * types filter of invalid UTF-8 (?types=%FF), and %.40s / %.100s cuts of
 * valid UTF-8 in the middle of a character (?overlaps=<39 x a>\xc3\xa9, an
 * unknown JSON key of 99 bytes and an e-acute). */
static void assert_error_json(json_t *j, const char *code)
{
	assert_non_null(j);
	json_t *e = json_object_get(j, "error");
	assert_string_equal(json_string_value(json_object_get(e, "code")), code);
	assert_non_null(json_string_value(json_object_get(e, "message")));
	json_decref(j);
}

static void test_json_error_with_invalid_utf8_in_message_still_an_error(void **state)
{
	(void)state;
	json_error_t jerr;
	const char *body = "{\"text\":\"\\u\xd0\xb2\"}";
	assert_null(json_loadb(body, strlen(body), JSON_ALLOW_NUL, &jerr));
	assert_error_json(gz_json_error("bad_json", "invalid JSON at line %d, column %d: %s",
					jerr.line, jerr.column, jerr.text), "bad_json");
	assert_error_json(gz_json_error("bad_parameter", "cut: '%.1s'", "\xc3\xa9"), "bad_parameter");
}

static void test_error_from_client_bytes_converts_to_json(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml("type: place\nentries:\n  - {id: kyiv, name: Kyiv}\n");
	struct gz_tagger *t = gz_tagger_new();
	struct gz_tag_options o;
	struct gz_error err;
	gz_tag_options_init(&o);
	o.types = "\xff";
	memset(&err, 0, sizeof err);
	assert_int_equal(gz_tagger_run(t, set, "Kyiv", 4, &o, &err), GZ_EINVAL);
	assert_error_json(gz_json_from_error(&err), "bad_parameter");

	enum gz_overlaps ov;
	memset(&err, 0, sizeof err);
	assert_int_equal(gz_overlaps_parse("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xa9", &ov, &err),
			 GZ_EINVAL);
	assert_error_json(gz_json_from_error(&err), "bad_parameter");
	enum gz_offsets of;
	memset(&err, 0, sizeof err);
	assert_int_equal(gz_offsets_parse("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xa9", &of, &err),
			 GZ_EINVAL);
	assert_error_json(gz_json_from_error(&err), "bad_parameter");
	gz_tagger_free(t);
	gz_set_unref(set);
}

/* fuzz_gazetteer (long run): a name of more than 256 tokens wrote its gap
 * one past the end of the compile buffer (UBSan: index 256 out of bounds)
 * before the token count was checked; it must be reported as too long. */
static void test_name_of_257_tokens_reported_not_overflowing(void **state)
{
	(void)state;
	char yaml[2048] = "type: place\nentries:\n  - id: long\n    name: \"";
	for (int i = 0; i < 257; i++)
		strcat(yaml, i ? " a" : "a");
	strcat(yaml, "\"\n");
	struct gz_diag d;
	load_must_fail(yaml, &d);
	assert_true(diag_has(&d, ":3:5: name 'a a a"));
	assert_true(diag_has(&d, "is too long (at most 256 tokens, 1 KB)"));
	gz_diag_clear(&d);
}

/* fuzz_gazetteer (final run): a priority too large for a 64-bit integer was
 * cast to one by gz_json_entry (undefined behaviour, caught by UBSan); it
 * must print as a real. */
static void test_huge_priority_printed_as_real(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml("type: place\nentries:\n"
				       "  - {id: x, name: X, priority: 1777777777777777777777777777}\n"
				       "  - {id: y, name: Y, priority: 12}\n");
	assert_non_null(set);
	json_t *j = gz_json_entry(gz_set_find(set, "x"));
	assert_true(json_is_real(json_object_get(j, "priority")));
	assert_true(json_real_value(json_object_get(j, "priority")) > 1.7e27);
	json_decref(j);
	j = gz_json_entry(gz_set_find(set, "y"));
	assert_int_equal(json_integer_value(json_object_get(j, "priority")), 12);
	json_decref(j);
	gz_set_unref(set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syntax_error_after_entry_reported_not_crash),
		cmocka_unit_test(test_syntax_error_without_file_type_reported_not_crash),
		cmocka_unit_test(test_syntax_error_in_entry_list_reported_not_crash),
		cmocka_unit_test(test_lead_punctuation_never_overlaps_previous_match),
		cmocka_unit_test(test_after_trailing_punctuation_next_name_without_lead_matches),
		cmocka_unit_test(test_space_beside_end_punctuation_still_matches_itself),
		cmocka_unit_test(test_invisible_character_after_leading_punctuation_ignored),
		cmocka_unit_test(test_edge_punctuation_line_breaks_counted_as_in_a_gap),
		cmocka_unit_test(test_json_error_with_invalid_utf8_in_message_still_an_error),
		cmocka_unit_test(test_error_from_client_bytes_converts_to_json),
		cmocka_unit_test(test_name_of_257_tokens_reported_not_overflowing),
		cmocka_unit_test(test_huge_priority_printed_as_real),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
