/*
 * Unit tests for SPEC §8 (evidence.c, context.c, words.c and what set.c and
 * gazetteer.c load for them): case `proper`, names that need evidence,
 * layers, qualifiers and support, name parts, explanations and lookups.
 * Each test loads a curated file (no §8 keys) and, where it needs one, an
 * "imported" file written the way scripts/import-geonames writes it.  Spans
 * are rendered "START-END [text] id why=RULE(ids) alt=other,ids; ...".
 */
#include "unit_helpers.h"

#include <jansson.h>

#include "json.h"
#include "words.h"

#define CURATED(entries) "type: place\nentries:\n" entries
#define PEOPLE(entries) "type: person\nentries:\n" entries
#define IMPORTED(entries) "type: place\ncase: proper\ncommon_words: skip\npriority: -1\nentries:\n" entries

/* The spans of text over set, with the rule that chose each. */
static const char *explain(const struct gz_set *set, const char *text)
{
	static char out[8192];
	struct gz_tag_options o;
	struct gz_error err = { 0 };
	gz_tag_options_init(&o);
	o.explain = 1;
	struct gz_tagger *t = gz_tagger_new();
	assert_non_null(t);
	assert_int_equal(gz_tagger_run(t, set, text, strlen(text), &o, &err), 0);
	const struct gz_span *sp = gz_tagger_spans(t);
	size_t k = 0;
	out[0] = 0;
	for (size_t i = 0; i < gz_tagger_span_count(t) && k < sizeof out; i++) {
		k += (size_t)snprintf(out + k, sizeof out - k, "%s%zu-%zu [%.*s] %s why=%s", i ? "; " : "",
				      sp[i].start, sp[i].end, (int)(sp[i].byte_end - sp[i].byte_start),
				      text + sp[i].byte_start, gz_entry_id(sp[i].entry), gz_why_name(sp[i].why));
		if (sp[i].qualifier)
			k += (size_t)snprintf(out + k, sizeof out - k, "(%s)", gz_entry_id(sp[i].qualifier));
		for (size_t s = 0; s < sp[i].support_count && k < sizeof out; s++)
			k += (size_t)snprintf(out + k, sizeof out - k, "%s%s%s", s ? "," : "(",
					      gz_entry_id(sp[i].support[s]), s + 1 == sp[i].support_count ? ")" : "");
		for (size_t a = 0; a < sp[i].alternative_count && k < sizeof out; a++)
			k += (size_t)snprintf(out + k, sizeof out - k, "%s%s", a ? "," : " alt=",
					      gz_entry_id(sp[i].alternatives[a]));
	}
	gz_tagger_free(t);
	return out;
}

static struct gz_set *load2(const char *curated, const char *imported)
{
	const char *y[2] = { curated, imported };
	return load_yamls(y, 2);
}

/* ------------------------------------------------------ loading (§8.1-3) */

static void test_proper_case_and_new_keys_load(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(IMPORTED(
		"  - {id: a, name: Aville, evidence: required, attrs: {country: \"US\", admin1: \"US.FL\"}}\n"
		"  - {id: b, name: Bville, priority: 2, case: insensitive}\n"));
	const struct gz_entry *a = gz_set_find(set, "a"), *b = gz_set_find(set, "b");
	assert_int_equal(a->name_case, GZ_CASE_PROPER);
	assert_int_equal(a->evidence_required, 1);
	assert_int_equal(a->common_words_skip, 1);
	assert_true(a->priority == -1.0);           /* the file's */
	assert_string_equal(gz_set_region(set, a->country), "US");
	assert_string_equal(gz_set_region(set, a->admin1), "US.FL");
	assert_int_equal(b->name_case, GZ_CASE_INSENSITIVE);
	assert_true(b->priority == 2.0);            /* its own wins */
	assert_int_equal(b->evidence_required, 0);
	assert_int_equal(b->country, 0);
	gz_set_unref(set);
}

static void test_bad_evidence_and_common_words_values_reported(void **state)
{
	(void)state;
	const char *yaml = "type: place\ncommon_words: maybe\npriority: high\nentries:\n"
			   "  - {id: a, name: A, evidence: yes}\n";
	struct gz_gazetteer *g = NULL;
	struct gz_diag d;
	gz_diag_init(&d);
	assert_int_equal(gz_gazetteer_parse("g.yaml", yaml, strlen(yaml), &g, &d), 3);
	assert_string_equal(d.lines[0], "g.yaml:2:15: 'common_words' must be 'match' or 'skip', found maybe");
	assert_string_equal(d.lines[1], "g.yaml:3:11: 'priority' must be a number, found high");
	assert_string_equal(d.lines[2],
			    "g.yaml:5:32: 'evidence' must be 'none' or 'required', found yes");
	gz_gazetteer_free(g);
	gz_diag_clear(&d);
}

/* ------------------------------------------------------ case proper (§8.1) */

static void test_proper_needs_capitals_where_the_name_has_them(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(
		"type: place\ncase: proper\nentries:\n"
		"  - {id: paris, name: Paris}\n"
		"  - {id: kyiv-oblast, name: Kyiv Oblast}\n");
	assert_string_equal(tag(set, "Paris and paris and PARIS."),
			    "0-5 [Paris] paris; 20-25 [PARIS] paris");
	assert_string_equal(tag(set, "In Kyiv oblast, not kyiv Oblast."), "3-14 [Kyiv oblast] kyiv-oblast");
	gz_set_unref(set);
}

static void test_proper_in_text_without_capitals_matches_as_insensitive(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml("type: place\ncase: proper\nentries:\n  - {id: paris, name: Paris}\n");
	assert_string_equal(tag(set, "we flew to paris on monday"), "11-16 [paris] paris");
	gz_set_unref(set);
}

/* ------------------------------------------------------ evidence (§8.2) */

static void test_common_words_of_imported_file_do_not_tag_prose(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(IMPORTED(
		"  - {id: police, name: Police, attrs: {country: \"PL\", admin1: \"PL.84\"}}\n"
		"  - {id: march, name: March, attrs: {country: \"GB\", admin1: \"GB.ENG\"}}\n"
		"  - {id: centre, name: Centre, attrs: {country: \"FR\", admin1: \"FR.24\"}}\n"
		"  - {id: said, name: Said, attrs: {country: \"EG\"}}\n"));
	assert_string_equal(explain(set, "Police said in March that the Centre was closed. "
				    "Police Said so."), "");
	gz_set_unref(set);
}

static void test_curated_name_at_sentence_start_stays(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(CURATED(
		"  - {id: turkey, name: Turkey, case: sensitive, attrs: {country: \"TR\"}}\n"
		"  - {id: nice, name: Nice, case: sensitive, attrs: {country: \"FR\"}}\n"));
	assert_string_equal(explain(set, "Turkey said no. A nice day in Nice."),
			    "0-6 [Turkey] turkey why=only; 30-34 [Nice] nice why=only");
	gz_set_unref(set);
}

static void test_qualifier_is_evidence_for_a_common_word(void **state)
{
	(void)state;
	struct gz_set *set = load2(CURATED("  - {id: france, name: France, attrs: {country: \"FR\"}}\n"),
				   IMPORTED("  - {id: nice, name: Nice, attrs: {country: \"FR\", admin1: \"FR.93\"}}\n"));
	assert_string_equal(explain(set, "We met in Nice, France."),
			    "10-14 [Nice] nice why=qualifier(france); 16-22 [France] france why=only");
	assert_string_equal(explain(set, "It was a Nice day in France."), "21-27 [France] france why=only");
	gz_set_unref(set);
}

static void test_evidence_required_needs_its_admin1_in_the_text(void **state)
{
	(void)state;
	struct gz_set *set = load2(
		CURATED("  - {id: florida, name: Florida, aliases: [{text: Fla., case: sensitive}], "
			"attrs: {country: \"US\", admin1: \"US.FL\"}}\n"
			"  - {id: texas, name: Texas, attrs: {country: \"US\", admin1: \"US.TX\"}}\n"),
		IMPORTED("  - {id: gainesville, name: Gainesville, evidence: required, "
			 "attrs: {country: \"US\", admin1: \"US.FL\"}}\n"));
	assert_string_equal(explain(set, "He moved to Gainesville."), "");
	assert_string_equal(explain(set, "He moved to Gainesville from Texas."), "29-34 [Texas] texas why=only");
	assert_string_equal(explain(set, "He moved to Gainesville, Fla., last year."),
			    "12-23 [Gainesville] gainesville why=qualifier(florida); 25-29 [Fla.] florida why=only");
	assert_string_equal(explain(set, "Florida is hot. He moved to Gainesville."),
			    "0-7 [Florida] florida why=only; 28-39 [Gainesville] gainesville why=support(florida)");
	/* not capitalised, or the first word of a sentence without a qualifier */
	assert_string_equal(explain(set, "Florida is hot. gainesville is not."), "0-7 [Florida] florida why=only");
	assert_string_equal(explain(set, "Florida is hot.\n\"Gainesville is hotter.\""),
			    "0-7 [Florida] florida why=only");
	gz_set_unref(set);
}

static void test_one_word_name_beside_a_capitalised_word_is_part_of_a_longer_name(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(IMPORTED(
		"  - {id: lexington, name: Lexington, attrs: {country: \"US\", admin1: \"US.KY\"}}\n"
		"  - {id: university, name: University, attrs: {country: \"US\", admin1: \"US.FL\"}}\n"));
	assert_string_equal(tag(set, "Lexington County and Hillary Lexington"), "");
	assert_string_equal(tag(set, "the University of Florida"), "");
	/* a capitalised first word of the sentence, all capitals, and a
	 * lowercase word do not count */
	assert_string_equal(tag(set, "In Lexington, the IN Lexington US team."),
			    "3-12 [Lexington] lexington; 21-30 [Lexington] lexington");
	gz_set_unref(set);
}

static void test_token_used_as_a_surname_needs_evidence(void **state)
{
	(void)state;
	struct gz_set *set = load2(
		CURATED("  - {id: mississippi, name: Mississippi, attrs: {country: \"US\", admin1: \"US.MS\"}}\n"),
		IMPORTED("  - {id: jackson, name: Jackson, attrs: {country: \"US\", admin1: \"US.MS\"}}\n"));
	assert_string_equal(explain(set, "We drove to Jackson."), "12-19 [Jackson] jackson why=only");
	assert_string_equal(explain(set, "Chief Ray Jackson spoke. Later, Jackson said no."), "");
	assert_string_equal(explain(set, "Chief Ray Jackson spoke. Water in Jackson, Mississippi."),
			    "34-41 [Jackson] jackson why=qualifier(mississippi); "
			    "43-54 [Mississippi] mississippi why=only");
	gz_set_unref(set);
}

static void test_another_persons_surname_is_not_the_known_person(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(PEOPLE(
		"  - {id: kamala-harris, name: Kamala Harris, aliases: [Harris]}\n"
		"  - {id: dmitry-peskov, name: Dmitry Peskov, aliases: [Peskov]}\n"));
	/* a title or another common word before it: the known person */
	assert_string_equal(tag(set, "President Harris spoke. When Harris left, Mr Harris..."),
			    "10-16 [Harris] kamala-harris; 29-35 [Harris] kamala-harris; "
			    "45-51 [Harris] kamala-harris");
	/* a first name that is not hers: another Harris, here and after */
	assert_string_equal(tag(set, "Chief Marcus Harris said so. Later Harris left."), "");
	/* unless the text names her in full */
	assert_string_equal(tag(set, "Kamala Harris met Marcus Harris. Harris left."),
			    "0-13 [Kamala Harris] kamala-harris; 33-39 [Harris] kamala-harris");
	/* a spelling of the person's own first name is the person */
	assert_string_equal(tag(set, "Dmitri Peskov said so."), "7-13 [Peskov] dmitry-peskov");
	gz_set_unref(set);
}

static void test_common_words_follow_the_language_of_the_text(void **state)
{
	(void)state;
	gz_words_init();
	assert_string_equal(gz_words_lang(gz_words_detect((const unsigned char *)
		"La ville est belle et le port de la ville est grand.", 52)), "fr");
	assert_string_equal(gz_words_lang(gz_words_detect((const unsigned char *)
		"The city is nice and the port is large.", 39)), "en");
	struct gz_set *set = load_yaml(IMPORTED("  - {id: nice, name: Nice, attrs: {country: \"FR\"}}\n"));
	/* "nice" is an English word, not a French one */
	assert_string_equal(tag(set, "It was a Nice day and the weather was fine."), "");
	assert_string_equal(tag(set, "Il est parti pour Nice avec les enfants de la famille."),
			    "18-22 [Nice] nice");
	gz_set_unref(set);
}

/* ------------------------------------------------------ layers (§8.3) */

static void test_curated_entry_outranks_imported_namesake(void **state)
{
	(void)state;
	struct gz_set *set = load2(
		CURATED("  - {id: mariupol, name: Mariupol, attrs: {country: \"UA\"}}\n"),
		IMPORTED("  - {id: geonames-mariupol, name: Mariupol, priority: -0.4, "
			 "attrs: {country: \"UA\", admin1: \"UA.05\"}}\n"));
	assert_string_equal(explain(set, "Mariupol"), "0-8 [Mariupol] mariupol why=priority alt=geonames-mariupol");
	gz_set_unref(set);
}

/* ------------------------------------------------------ context (§8.4) */

#define GEORGIAS \
	CURATED("  - {id: georgia, name: Georgia, priority: 10, attrs: {country: \"GE\"}}\n" \
		"  - {id: georgia-us, name: Georgia, attrs: {country: \"US\", admin1: \"US.GA\"}}\n" \
		"  - {id: tbilisi, name: Tbilisi, attrs: {country: \"GE\"}}\n" \
		"  - {id: atlanta, name: Atlanta, attrs: {country: \"US\", admin1: \"US.GA\"}}\n" \
		"  - {id: washington, name: Washington, attrs: {country: \"US\", admin1: \"US.DC\"}}\n" \
		"  - {id: texas, name: Texas, attrs: {country: \"US\", admin1: \"US.TX\"}}\n")

static void test_support_chooses_georgia_by_the_other_places(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(GEORGIAS);
	assert_string_equal(explain(set, "Georgia beside Tbilisi."),
			    "0-7 [Georgia] georgia why=support(tbilisi) alt=georgia-us; 15-22 [Tbilisi] tbilisi why=only");
	assert_string_equal(explain(set, "Georgia beside Atlanta."),
			    "0-7 [Georgia] georgia-us why=support(atlanta) alt=georgia; 15-22 [Atlanta] atlanta why=only");
	assert_string_equal(explain(set, "Georgia alone."), "0-7 [Georgia] georgia why=priority alt=georgia-us");
	gz_set_unref(set);
}

static void test_support_weighs_the_paragraph_before_the_text(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(GEORGIAS);
	assert_string_equal(explain(set, "In Washington and Atlanta, and Texas.\n\n"
				    "Volunteers from Georgia came from Tbilisi."),
			    "3-13 [Washington] washington why=only; 18-25 [Atlanta] atlanta why=only; "
			    "31-36 [Texas] texas why=only; "
			    "55-62 [Georgia] georgia why=support(tbilisi) alt=georgia-us; "
			    "73-80 [Tbilisi] tbilisi why=only");
	gz_set_unref(set);
}

static void test_qualifier_after_comma_or_parenthesis(void **state)
{
	(void)state;
	struct gz_set *set = load2(
		CURATED("  - {id: texas, name: Texas, attrs: {country: \"US\", admin1: \"US.TX\"}}\n"),
		IMPORTED("  - {id: paris-fr, name: Paris, priority: -0.2, attrs: {country: \"FR\", admin1: \"FR.11\"}}\n"
			 "  - {id: paris-tx, name: Paris, priority: -0.6, evidence: required, "
			 "attrs: {country: \"US\", admin1: \"US.TX\"}}\n"));
	assert_string_equal(explain(set, "Paris, Texas, is small."),
			    "0-5 [Paris] paris-tx why=qualifier(texas) alt=paris-fr; 7-12 [Texas] texas why=only");
	assert_string_equal(explain(set, "In Paris (Texas) it rains."),
			    "3-8 [Paris] paris-tx why=qualifier(texas) alt=paris-fr; 10-15 [Texas] texas why=only");
	/* no qualifier: the other one (the Texan, lacking evidence, is no
	 * alternative); Texas elsewhere is support enough */
	assert_string_equal(explain(set, "He flew to Paris."), "11-16 [Paris] paris-fr why=only");
	assert_string_equal(explain(set, "Texas again. He drove to Paris."),
			    "0-5 [Texas] texas why=only; 25-30 [Paris] paris-tx why=support(texas) alt=paris-fr");
	gz_set_unref(set);
}

/* ------------------------------------------------------ name parts (§8.5) */

static void test_last_name_after_full_name_is_the_person(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(PEOPLE("  - {id: oleh, name: Oleh Syniehubov}\n"));
	assert_string_equal(explain(set, "Syniehubov spoke. Oleh Syniehubov said so. Syniehubov's office, "
				    "and syniehubov."),
			    "18-33 [Oleh Syniehubov] oleh why=only; 43-53 [Syniehubov] oleh why=name-part");
	gz_set_unref(set);
}

static void test_name_part_yields_to_another_entry_of_that_name(void **state)
{
	(void)state;
	const char *y[2] = { PEOPLE("  - {id: anita, name: Anita Lincoln}\n"),
			     CURATED("  - {id: lincoln, name: Lincoln, attrs: {country: \"US\"}}\n") };
	struct gz_set *set = load_yamls(y, 2);
	assert_string_equal(explain(set, "Anita Lincoln spoke in Lincoln."),
			    "0-13 [Anita Lincoln] anita why=only; 23-30 [Lincoln] lincoln why=only");
	gz_set_unref(set);
}

static void test_name_part_wins_over_the_imported_layer(void **state)
{
	(void)state;
	const char *y[2] = { PEOPLE("  - {id: bill-clinton, name: Bill Clinton}\n"),
			     IMPORTED("  - {id: clinton-ia, name: Clinton, attrs: {country: \"US\", admin1: \"US.IA\"}}\n") };
	struct gz_set *set = load_yamls(y, 2);
	assert_string_equal(explain(set, "Clinton waited. Bill Clinton spoke; Clinton said no."),
			    "0-7 [Clinton] clinton-ia why=only; 16-28 [Bill Clinton] bill-clinton why=only; "
			    "36-43 [Clinton] bill-clinton why=name-part alt=clinton-ia");
	gz_set_unref(set);
}

/* ------------------------------------------------- explanations (§8.6) */

static void test_why_and_via_in_json(void **state)
{
	(void)state;
	const char *y[2] = { GEORGIAS, PEOPLE("  - {id: oleh, name: Oleh Syniehubov}\n") };
	struct gz_set *set = load_yamls(y, 2);
	const char *text = "Georgia, Tbilisi. Oleh Syniehubov; Syniehubov.";
	struct gz_tag_options o;
	struct gz_error err = { 0 };
	gz_tag_options_init(&o);
	o.explain = 1;
	struct gz_tagger *t = gz_tagger_new();
	assert_int_equal(gz_tagger_run(t, set, text, strlen(text), &o, &err), 0);
	struct gz_buf b = { 0 };
	assert_int_equal(gz_json_write_tag_response(t, text, &o, &b), 0);
	json_t *direct = json_loads(b.data, 0, NULL), *tree = gz_json_tag_response(t, text, &o);
	assert_non_null(direct);
	assert_true(json_equal(direct, tree));
	json_t *e = json_object_get(direct, "entities");
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(e, 0), "why"), "rule")),
			    "qualifier");
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(e, 0), "why"),
							      "qualifier")), "tbilisi");
	assert_string_equal(json_string_value(json_object_get(json_array_get(e, 3), "via")), "name-part");
	/* without explain: no why, but via stays */
	o.explain = 0;
	assert_int_equal(gz_tagger_run(t, set, text, strlen(text), &o, &err), 0);
	b.len = 0;
	assert_int_equal(gz_json_write_tag_response(t, text, &o, &b), 0);
	assert_null(strstr(b.data, "\"why\""));
	assert_non_null(strstr(b.data, "\"via\":\"name-part\""));
	json_decref(direct);
	json_decref(tree);
	free(b.data);
	gz_tagger_free(t);
	gz_set_unref(set);
}

static int collect(void *cls, const struct gz_lookup_hit *h)
{
	char *out = cls;
	size_t k = strlen(out);
	snprintf(out + k, 512 - k, "%s%s:%s:%d", k ? "; " : "", gz_entry_id(h->entry), h->form, h->line);
	return 0;
}

static void test_lookup_lists_every_entry_in_choice_order(void **state)
{
	(void)state;
	struct gz_set *set = load2(
		CURATED("  - id: paris\n    name: Paris\n    aliases: [Paree]\n"
			"  - {id: paris-hilton, name: Paris Hilton}\n"),
		IMPORTED("  - {id: paris-tx, name: Paris, priority: -0.6}\n"
			 "  - {id: paris-fr, name: PARIS, priority: -0.2}\n"));
	char out[512] = "";
	assert_int_equal(gz_set_lookup(set, "paris", collect, out), 3);
	assert_string_equal(out, "paris:Paris:4; paris-fr:PARIS:7; paris-tx:Paris:6");
	out[0] = 0;
	assert_int_equal(gz_set_lookup(set, "PAREE", collect, out), 1);
	assert_string_equal(out, "paris:Paree:5");
	assert_int_equal(gz_set_lookup(set, "Paris.", collect, out), 0);
	assert_int_equal(gz_set_lookup(set, "London", collect, out), 0);
	gz_set_unref(set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proper_case_and_new_keys_load),
		cmocka_unit_test(test_bad_evidence_and_common_words_values_reported),
		cmocka_unit_test(test_proper_needs_capitals_where_the_name_has_them),
		cmocka_unit_test(test_proper_in_text_without_capitals_matches_as_insensitive),
		cmocka_unit_test(test_common_words_of_imported_file_do_not_tag_prose),
		cmocka_unit_test(test_curated_name_at_sentence_start_stays),
		cmocka_unit_test(test_qualifier_is_evidence_for_a_common_word),
		cmocka_unit_test(test_evidence_required_needs_its_admin1_in_the_text),
		cmocka_unit_test(test_one_word_name_beside_a_capitalised_word_is_part_of_a_longer_name),
		cmocka_unit_test(test_token_used_as_a_surname_needs_evidence),
		cmocka_unit_test(test_another_persons_surname_is_not_the_known_person),
		cmocka_unit_test(test_common_words_follow_the_language_of_the_text),
		cmocka_unit_test(test_curated_entry_outranks_imported_namesake),
		cmocka_unit_test(test_support_chooses_georgia_by_the_other_places),
		cmocka_unit_test(test_support_weighs_the_paragraph_before_the_text),
		cmocka_unit_test(test_qualifier_after_comma_or_parenthesis),
		cmocka_unit_test(test_last_name_after_full_name_is_the_person),
		cmocka_unit_test(test_name_part_yields_to_another_entry_of_that_name),
		cmocka_unit_test(test_name_part_wins_over_the_imported_layer),
		cmocka_unit_test(test_why_and_via_in_json),
		cmocka_unit_test(test_lookup_lists_every_entry_in_choice_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
