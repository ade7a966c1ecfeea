/*
 * libFuzzer target: any bytes as a POST /tag body, JSON or NDJSON (the
 * first byte chooses: even JSON, odd NDJSON; the rest is the body, not
 * NUL-terminated, as a body read off the network is not), through the body
 * parsers the daemon runs (daemon/request.h, part of the engine library).
 *
 * Checks, besides no crash and no leak:
 *  - JSON: either a request (text and options) that tags to a response that
 *    is a JSON object with an "entities" array, or an error object
 *    {"error": {"code": "...", "message": "..."}};
 *  - NDJSON: one answer line per non-blank input line, in order, each a
 *    JSON object with "id" and exactly one of "entities" and "error".
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "json.h"
#include "request.h"
#include "set.h"
#include "tagger.h"

static const char GAZETTEER[] =
	"type: place\n"
	"entries:\n"
	"  - {id: kyiv, name: Kyiv, aliases: [Київ], attrs: {country: UA, lat: 50.45}}\n"
	"  - {id: azov, name: Azov}\n"
	"  - {id: azov-regiment, type: unit, name: Azov Regiment, aliases: [Azov], priority: 5}\n"
	"  - {id: zelensky, type: person, name: Volodymyr Zelensky, aliases: [Zelensky]}\n"
	"  - {id: us, type: place, name: U.S., aliases: [{text: US, case: sensitive}]}\n"
	"  - {id: beijing, name: 北京}\n";

static struct gz_set *set;
static struct gz_tagger *tagger;

/* GZ_FUZZ_IGNORE=error-utf8 keeps fuzzing past a known bug while it is
 * being fixed: an error message holding invalid UTF-8 (client bytes) makes
 * gz_json_error return NULL, so a refused request has no error object and an
 * NDJSON answer line has neither entities nor error. */
static int ignore_error_utf8;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_setup_tagging("fuzz_request", GAZETTEER, sizeof GAZETTEER - 1, &set, &tagger);
	const char *ign = getenv("GZ_FUZZ_IGNORE");
	ignore_error_utf8 = ign && strstr(ign, "error-utf8");
	return 0;
}

static void check_error_object(json_t *e)
{
	json_t *inner = json_object_get(e, "error");
	check(json_is_object(inner), "an error without an \"error\" object");
	check(json_is_string(json_object_get(inner, "code")) &&
	      json_string_length(json_object_get(inner, "code")) > 0,
	      "an error without a code");
	check(json_is_string(json_object_get(inner, "message")), "an error without a message");
}

static void fuzz_json(const char *body, size_t len)
{
	json_t *root = NULL, *error = NULL;
	const char *text = NULL;
	size_t text_len = 0;
	char *types_buf = NULL;
	struct gz_request_options opts;
	gz_request_options_init(&opts);
	if (gz_request_parse_json(body, len, 0, &root, &text, &text_len, &opts, &types_buf,
				  &error) != 0) {
		check(error != NULL || ignore_error_utf8, "a refused request without an error");
		if (error)
			check_error_object(error);
		json_decref(error);
	} else {
		check(error == NULL && text != NULL, "an accepted request with an error or no text");
		struct gz_error e = {0};
		struct gz_request_tagged tagged;
		if (gz_request_tag(tagger, set, text, text_len, &opts, &tagged, &e) != 0) {
			json_t *j = gz_json_from_error(&e);
			check(j != NULL || ignore_error_utf8, "a tagging error without an error object");
			if (j)
				check_error_object(j);
			json_decref(j);
		} else {
			struct gz_buf b = { 0 };
			check(gz_json_answer_write(&tagged.answer, &b, SIZE_MAX) == 1, "writing failed");
			json_error_t jerr;
			/* a NUL of the text (kept in an annotated page) is \\u0000 */
			json_t *back = json_loadb(b.data, b.len, JSON_ALLOW_NUL, &jerr);
			check(json_is_object(back) && json_is_array(json_object_get(back, "entities")),
			      "the response is not an object with entities: %.*s", (int)b.len, b.data);
			json_decref(back);
			free(b.data);
		}
		gz_request_tagged_free(&tagged);
	}
	json_decref(root);
	free(types_buf);
}

static void fuzz_ndjson(const char *body, size_t len)
{
	struct gz_request_options opts;
	gz_request_options_init(&opts);
	struct gz_buf out = { 0 };
	int r = gz_request_tag_ndjson(tagger, set, &opts, body, len, &out, NULL, NULL);
	check(r == 0, "gz_request_tag_ndjson failed: %d", r);

	/* the non-blank input lines */
	size_t want = 0;
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(body + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - body) : len;
		for (size_t k = i; k < end; k++)
			if (body[k] != ' ' && body[k] != '\t' && body[k] != '\r') {
				want++;
				break;
			}
		i = end + 1;
	}

	size_t got = 0;
	for (size_t i = 0; i < out.len;) {
		const char *nl = memchr(out.data + i, '\n', out.len - i);
		check(nl != NULL, "an answer line without its newline");
		size_t end = (size_t)(nl - out.data);
		json_error_t jerr;
		/* JSON_ALLOW_NUL: an id may hold \u0000, which is valid JSON */
		json_t *line = json_loadb(out.data + i, end - i, JSON_ALLOW_NUL, &jerr);
		check(json_is_object(line), "answer line %zu is not a JSON object: %.*s", got,
		      (int)(end - i), out.data + i);
		check(json_object_get(line, "id") != NULL, "answer line %zu has no id", got);
		int has_entities = json_is_array(json_object_get(line, "entities"));
		json_t *err = json_object_get(line, "error");
		check(has_entities != (err != NULL) || (ignore_error_utf8 && !has_entities),
		      "answer line %zu: entities xor error", got);
		if (err) {
			json_t *wrap = json_pack("{s:O}", "error", err);
			check_error_object(wrap);
			json_decref(wrap);
		}
		json_decref(line);
		got++;
		i = end + 1;
	}
	check(got == want, "%zu answer lines for %zu input lines", got, want);
	free(out.data);

	/* the fast path of a line agrees with jansson on every line it takes */
	struct gz_buf scratch = { 0 };
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(body + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - body) : len;
		const char *text, *id, *jtext;
		size_t text_len, id_len, jlen;
		if (gz_request_simple_line(body + i, end - i, &scratch, &text, &text_len, &id, &id_len)) {
			json_t *root = NULL, *error = NULL;
			char *types_buf = NULL;
			struct gz_request_options o;
			gz_request_options_init(&o);
			int rc = gz_request_parse_json(body + i, end - i, 1, &root, &jtext, &jlen, &o,
						       &types_buf, &error);
			check(rc == 0, "the fast path took a line jansson refuses: %.*s", (int)(end - i),
			      body + i);
			check(jlen == text_len && !memcmp(jtext, text, text_len),
			      "the fast path decoded another text: %.*s", (int)(end - i), body + i);
			json_t *jid = json_object_get(root, "id");
			char *dump = json_dumps(jid ? jid : json_null(), JSON_ENCODE_ANY | JSON_COMPACT);
			check(dump && strlen(dump) == id_len && !memcmp(dump, id, id_len),
			      "the fast path's id %.*s is not jansson's %s", (int)id_len, id, dump);
			free(dump);
			json_decref(root);
			json_decref(error);
			free(types_buf);
		}
		i = end + 1;
	}
	free(scratch.data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	/* a copy of exactly the body's bytes: ASan sees any read past its end */
	size_t len = size - 1;
	char *body = malloc(len ? len : 1);
	if (!body)
		return 0;
	memcpy(body, data + 1, len);
	if (data[0] & 1)
		fuzz_ndjson(body, len);
	else
		fuzz_json(body, len);
	free(body);
	return 0;
}
