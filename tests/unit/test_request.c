/*
 * Unit tests for request.c's option table: the one reader of the tag
 * options behind the query string, JSON bodies and NDJSON lines, and the
 * command line, with the values and messages each of them gives.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "request.h"

static int set_text(const char *name, const char *value, struct gz_request_options *o,
		    char **owned, struct gz_error *err)
{
	const struct gz_option *opt = gz_option_find(name);
	assert_non_null(opt);
	memset(err, 0, sizeof *err);
	return gz_option_set(opt, value, o, owned, err);
}

static int set_json(const char *name, const char *json, struct gz_request_options *o,
		    char **owned, struct gz_error *err)
{
	const struct gz_option *opt = gz_option_find(name);
	assert_non_null(opt);
	json_t *v = json_loads(json, JSON_DECODE_ANY, NULL);
	assert_non_null(v);
	memset(err, 0, sizeof *err);
	int rc = gz_option_set_json(opt, v, o, owned, err);
	json_decref(v);
	return rc;
}

static void test_every_option_is_listed_once(void **state)
{
	(void)state;
	char names[200];
	gz_option_names(names, sizeof names);
	assert_string_equal(names, "types, overlaps, offsets, explain, format or annotate");
	assert_null(gz_option_find("type"));
	assert_null(gz_option_find("text"));
	assert_null(gz_option_find(""));
}

static void test_text_values_set_their_fields(void **state)
{
	(void)state;
	struct gz_request_options o;
	struct gz_error err;
	gz_request_options_init(&o);
	assert_int_equal(set_text("overlaps", "all", &o, NULL, &err), 0);
	assert_int_equal(set_text("offsets", "byte", &o, NULL, &err), 0);
	assert_int_equal(set_text("explain", "true", &o, NULL, &err), 0);
	assert_int_equal(set_text("format", "html", &o, NULL, &err), 0);
	assert_int_equal(set_text("annotate", "true", &o, NULL, &err), 0);
	assert_int_equal(o.tag.overlaps, GZ_OVERLAPS_ALL);
	assert_int_equal(o.tag.offsets, GZ_OFFSETS_BYTE);
	assert_int_equal(o.tag.explain, 1);
	assert_int_equal(o.format, GZ_FORMAT_HTML);
	assert_int_equal(o.annotate, 1);
	assert_int_equal(set_text("offsets", "utf16", &o, NULL, &err), 0);
	assert_int_equal(set_text("explain", "false", &o, NULL, &err), 0);
	assert_int_equal(o.tag.offsets, GZ_OFFSETS_UTF16);
	assert_int_equal(o.tag.explain, 0);
	/* types: pointed at without owned, copied with it */
	const char *arg = "person,place";
	assert_int_equal(set_text("types", arg, &o, NULL, &err), 0);
	assert_ptr_equal(o.tag.types, arg);
	char *owned = NULL;
	assert_int_equal(set_text("types", arg, &o, &owned, &err), 0);
	assert_ptr_equal(o.tag.types, owned);
	assert_string_equal(owned, "person,place");
	free(owned);
}

static void test_bad_text_values_name_the_allowed_ones(void **state)
{
	(void)state;
	struct gz_request_options o;
	struct gz_error err;
	gz_request_options_init(&o);
	static const char *const cases[][3] = {
		{ "overlaps", "shortest", "bad value 'shortest' for overlaps (expected longest or all)" },
		{ "offsets", "utf8", "bad value 'utf8' for offsets (expected codepoint, utf16 or byte)" },
		{ "format", "xml", "bad value 'xml' for format (expected text or html)" },
		{ "explain", "yes", "bad value 'yes' for explain (expected true or false)" },
		{ "annotate", "", "bad value '' for annotate (expected true or false)" },
		{ "overlaps", "ALL", "bad value 'ALL' for overlaps (expected longest or all)" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(set_text(cases[i][0], cases[i][1], &o, NULL, &err), GZ_EINVAL);
		assert_string_equal(err.message, cases[i][2]);
	}
	/* a long value is cut in the message, as before the table */
	assert_int_equal(set_text("offsets", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &o,
				  NULL, &err), GZ_EINVAL);
	assert_string_equal(err.message, "bad value 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' for "
			    "offsets (expected codepoint, utf16 or byte)");
	/* nothing was set */
	assert_int_equal(o.tag.overlaps, GZ_OVERLAPS_LONGEST);
	assert_int_equal(o.tag.offsets, GZ_OFFSETS_CODEPOINT);
	assert_int_equal(o.format, GZ_FORMAT_TEXT);
}

static void test_json_values_and_their_messages(void **state)
{
	(void)state;
	struct gz_request_options o;
	struct gz_error err;
	char *owned = NULL;
	gz_request_options_init(&o);
	assert_int_equal(set_json("explain", "true", &o, &owned, &err), 0);
	assert_int_equal(set_json("format", "\"html\"", &o, &owned, &err), 0);
	assert_int_equal(o.tag.explain, 1);
	assert_int_equal(o.format, GZ_FORMAT_HTML);
	assert_int_equal(set_json("types", "[\"person\", \"place\"]", &o, &owned, &err), 0);
	assert_string_equal(o.tag.types, "person,place");
	assert_int_equal(set_json("types", "\"unit\"", &o, &owned, &err), 0);
	assert_string_equal(o.tag.types, "unit");
	assert_int_equal(set_json("types", "null", &o, &owned, &err), 0);
	assert_null(o.tag.types);
	assert_null(owned);
	static const char *const cases[][3] = {
		{ "explain", "\"true\"", "'explain' must be true or false" },
		{ "annotate", "1", "'annotate' must be true or false" },
		{ "overlaps", "1", "'overlaps' must be a string" },
		{ "format", "null", "'format' must be a string" },
		{ "offsets", "\"bytes\"", "bad value 'bytes' for offsets (expected codepoint, utf16 or byte)" },
		{ "types", "[\"person\", 1]", "'types' must be a list of strings" },
		{ "types", "{}", "'types' must be a list of strings" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(set_json(cases[i][0], cases[i][1], &o, &owned, &err), GZ_EINVAL);
		assert_string_equal(err.message, cases[i][2]);
	}
	free(owned);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_option_is_listed_once),
		cmocka_unit_test(test_text_values_set_their_fields),
		cmocka_unit_test(test_bad_text_values_name_the_allowed_ones),
		cmocka_unit_test(test_json_values_and_their_messages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
