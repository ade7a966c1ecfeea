/*
 * Unit tests for tagger.c (over sets built by set.c): every rule of SPEC §3,
 * each with text that must match and text that must not.  Each test writes
 * the small gazetteer it needs; results are rendered by unit_helpers.h as
 * "START-END [span text] id alt=other,ids; ..." in code points unless the
 * test asks for another unit.
 */
#include "unit_helpers.h"

#include <jansson.h>

#include "json.h"

#define PLACES(entries) "type: place\nentries:\n" entries

/* --------------------------------------------------- tokens (SPEC §3.1) */

static void test_name_matches_whole_token(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(PLACES("  - {id: azov, name: Azov}\n"));
	assert_string_equal(tag(set, "Azov"), "0-4 [Azov] azov");
	assert_string_equal(tag(set, "near Azov."), "5-9 [Azov] azov");
	assert_string_equal(tag(set, "(Azov)"), "1-5 [Azov] azov");
	gz_set_unref(set);
}

static void test_name_not_matched_inside_longer_word(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(PLACES("  - {id: azov, name: Azov}\n"));
	assert_string_equal(tag(set, "the Azovstal plant"), "");
	assert_string_equal(tag(set, "PreAzov"), "");
	assert_string_equal(tag(set, "Azov2 and 2Azov"), "");
	assert_string_equal(tag(set, "Azovstal, then Azov"), "15-19 [Azov] azov");
	gz_set_unref(set);
}

static void test_name_not_matched_by_prefix_of_its_tokens(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(PLACES("  - {id: sea-of-azov, name: Sea of Azov}\n"));
	assert_string_equal(tag(set, "Sea of Azovstal"), "");
	assert_string_equal(tag(set, "Sea of"), "");
	assert_string_equal(tag(set, "Seas of Azov"), "");
	gz_set_unref(set);
}

static void test_possessive_excluded_from_span(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(
		"type: person\nentries:\n"
		"  - {id: zelensky, name: Volodymyr Zelensky, aliases: [Zelensky]}\n");
	assert_string_equal(tag(set, "Zelensky's speech"), "0-8 [Zelensky] zelensky");
	assert_string_equal(tag(set, "Volodymyr Zelensky's office"),
			    "0-18 [Volodymyr Zelensky] zelensky");
	gz_set_unref(set);
}

static void test_curly_possessive_excluded_from_span(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(
		"type: person\nentries:\n  - {id: zelensky, name: Zelensky}\n");
	assert_string_equal(tag(set, "Zelensky’s aide"), "0-8 [Zelensky] zelensky");  /* U+2019 */
	assert_string_equal(tag(set, "Zelenskyʼs aide"), "0-8 [Zelensky] zelensky");  /* U+02BC */
	assert_string_equal(tag(set, "Zelensky‘s aide"), "0-8 [Zelensky] zelensky");  /* U+2018 */
	assert_string_equal(tag(set, "the Zelenskys’ plan"), "");
	gz_set_unref(set);
}

static void test_thai_characters_are_tokens(void **state)
{
	(void)state;
	/* กรุงเทพ: 7 code points, one a combining vowel that joins its consonant */
	struct gz_set *set = load_yaml(PLACES("  - {id: bangkok, name: กรุงเทพ}\n"));
	assert_string_equal(tag(set, "กรุงเทพมหานคร"), "0-7 [กรุงเทพ] bangkok");
	gz_set_unref(set);
}

static void test_han_characters_are_tokens(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(PLACES(
		"  - {id: tokyo, name: 東京}\n"
		"  - {id: kyoto, name: 京都}\n"));
	assert_string_equal(tag(set, "東京都に住む"), "0-2 [東京] tokyo");
	assert_string_equal(tag(set, "京都"), "0-2 [京都] kyoto");
	assert_string_equal(tag(set, "東"), "");
	assert_string_equal(tag_all(set, "東京都"), "0-2 [東京] tokyo; 1-3 [京都] kyoto");
	gz_set_unref(set);
}

static void test_kana_characters_are_tokens(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml("type: org\nentries:\n  - {id: toyota, name: トヨタ}\n");
	assert_string_equal(tag(set, "トヨタ自動車"), "0-3 [トヨタ] toyota");
	assert_string_equal(tag(set, "とトヨタ"), "1-4 [トヨタ] toyota");
	assert_string_equal(tag(set, "トヨ"), "");
	gz_set_unref(set);
}

/* --------------------------------------------------- gaps (SPEC §3.2) */

static void test_hyphen_matches_space_in_name(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(PLACES("  - {id: spb, name: Saint Petersburg}\n"));
	assert_string_equal(tag(set, "in Saint-Petersburg"), "3-19 [Saint-Petersburg] spb");
	assert_string_equal(tag(set, "Saint Petersburg"), "0-16 [Saint Petersburg] spb");
	gz_set_unref(set);
}

static void test_en_and_em_dash_match_space_in_name(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(PLACES("  - {id: spb, name: Saint Petersburg}\n"));
	assert_string_equal(tag(set, "Saint–Petersburg"), "0-16 [Saint–Petersburg] spb");
	assert_string_equal(tag(set, "Saint—Petersburg"), "0-16 [Saint—Petersburg] spb");
	assert_string_equal(tag(set, "Saint \t- Petersburg"), "0-19 [Saint \t- Petersburg] spb");
	assert_string_equal(tag(set, "Saint\xc2\xa0Petersburg"),              /* no-break space */
			    "0-16 [Saint\xc2\xa0Petersburg] spb");
	assert_string_equal(tag(set, "Saint\xe2\x80\x91Petersburg"),         /* non-breaking hyphen */
			    "0-16 [Saint\xe2\x80\x91Petersburg] spb");
	assert_string_equal(tag(set, "SaintPetersburg"), "");
	gz_set_unref(set);
}

static void test_space_matches_hyphen_in_name(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(PLACES("  - {id: if, name: Ivano-Frankivsk}\n"));
	assert_string_equal(tag(set, "Ivano Frankivsk"), "0-15 [Ivano Frankivsk] if");
	assert_string_equal(tag(set, "Ivano—Frankivsk"), "0-15 [Ivano—Frankivsk] if");
	assert_string_equal(tag(set, "Ivano-Frankivsk"), "0-15 [Ivano-Frankivsk] if");
	assert_string_equal(tag(set, "IvanoFrankivsk"), "");
	gz_set_unref(set);
}

static void test_apostrophe_variants_interchangeable(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml("type: person\nentries:\n  - {id: obrien, name: \"O'Brien\"}\n");
	assert_string_equal(tag(set, "O'Brien"), "0-7 [O'Brien] obrien");
	assert_string_equal(tag(set, "O’Brien"), "0-7 [O’Brien] obrien");
	assert_string_equal(tag(set, "O‘Brien"), "0-7 [O‘Brien] obrien");
	assert_string_equal(tag(set, "OʼBrien"), "0-7 [OʼBrien] obrien");
	assert_string_equal(tag(set, "O`Brien"), "0-7 [O`Brien] obrien");
	assert_string_equal(tag(set, "O Brien"), "0-7 [O Brien] obrien");
	assert_string_equal(tag(set, "O-Brien"), "0-7 [O-Brien] obrien");
	assert_string_equal(tag(set, "OBrien"), "");
	assert_string_equal(tag(set, "O.Brien"), "");
	gz_set_unref(set);
}

static void test_period_in_text_gap_prevents_match(void **state)
{
	(void)state;
	/* "." is a gap some name has (St. Petersburg), so the text's gap is
	 * looked up and must still fail */
	struct gz_set *set = load_yaml(
		"type: org\nentries:\n"
		"  - {id: wapo, name: Washington Post}\n"
		"  - {id: spb, name: St. Petersburg, type: place}\n");
	assert_string_equal(tag(set, "the Washington Post said"), "4-19 [Washington Post] wapo");
	assert_string_equal(tag(set, "in Washington. Post-war"), "");
	assert_string_equal(tag(set, "Washington, Post"), "");
	gz_set_unref(set);
	/* and with no name holding a "." gap */
	set = load_yaml("type: org\nentries:\n  - {id: wapo, name: Washington Post}\n");
	assert_string_equal(tag(set, "in Washington. Post-war"), "");
	gz_set_unref(set);
}

static void test_period_in_name_gap_required(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(PLACES("  - {id: spb, name: St. Petersburg}\n"));
	assert_string_equal(tag(set, "St. Petersburg"), "0-14 [St. Petersburg] spb");
	assert_string_equal(tag(set, "St.Petersburg"), "0-13 [St.Petersburg] spb");
	assert_string_equal(tag(set, "St Petersburg"), "");
	assert_string_equal(tag(set, "St, Petersburg"), "");
	assert_string_equal(tag(set, "St.. Petersburg"), "");
	gz_set_unref(set);
}

static void test_alias_without_period_matches_when_listed(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(PLACES(
		"  - {id: spb, name: St. Petersburg, aliases: [St Petersburg]}\n"));
	assert_string_equal(tag(set, "St Petersburg"), "0-13 [St Petersburg] spb");
	assert_string_equal(tag(set, "St. Petersburg"), "0-14 [St. Petersburg] spb");
	gz_set_unref(set);
}

static void test_other_punctuation_must_be_the_same(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml("type: org\nentries:\n  - {id: att, name: AT&T}\n");
	assert_string_equal(tag(set, "AT&T"), "0-4 [AT&T] att");
	assert_string_equal(tag(set, "AT & T"), "0-6 [AT & T] att");
	assert_string_equal(tag(set, "AT+T"), "");
	assert_string_equal(tag(set, "AT T"), "");
	assert_string_equal(tag(set, "AT&&T"), "");
	gz_set_unref(set);
}

static void test_single_line_break_inside_name_matches(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(PLACES("  - {id: sea-of-azov, name: Sea of Azov}\n"));
	assert_string_equal(tag(set, "the Sea of\nAzov"), "4-15 [Sea of\nAzov] sea-of-azov");
	assert_string_equal(tag(set, "the Sea of\r\nAzov"), "4-16 [Sea of\r\nAzov] sea-of-azov");
	assert_string_equal(tag(set, "the Sea of  \n  Azov"), "4-19 [Sea of  \n  Azov] sea-of-azov");
	assert_string_equal(tag(set, "the Sea-\nof Azov"), "4-16 [Sea-\nof Azov] sea-of-azov");
	gz_set_unref(set);
}

static void test_blank_line_inside_name_does_not_match(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(PLACES(
		"  - {id: sea-of-azov, name: Sea of Azov}\n"
		"  - {id: azov, name: Azov}\n"));
	assert_string_equal(tag(set, "the Sea of\n\nAzov"), "12-16 [Azov] azov");
	assert_string_equal(tag(set, "Sea\n\nof Azov"), "8-12 [Azov] azov");
	gz_set_unref(set);
}

static void test_crlf_blank_line_does_not_match(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(PLACES(
		"  - {id: sea-of-azov, name: Sea of Azov}\n"
		"  - {id: azov, name: Azov}\n"));
	assert_string_equal(tag(set, "Sea of\r\n\r\nAzov"), "10-14 [Azov] azov");
	gz_set_unref(set);
}

static void test_line_of_spaces_is_a_blank_line(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(PLACES(
		"  - {id: sea-of-azov, name: Sea of Azov}\n"
		"  - {id: azov, name: Azov}\n"));
	assert_string_equal(tag(set, "Sea of\n   \nAzov"), "11-15 [Azov] azov");
	assert_string_equal(tag(set, "Sea of \t\n \t \nAzov"), "13-17 [Azov] azov");
	assert_string_equal(tag(set, "Sea of\r\n  \r\nAzov"), "12-16 [Azov] azov");
	gz_set_unref(set);
}

static void test_trailing_period_included_in_span(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml("type: country\nentries:\n  - {id: us, name: U.S.}\n");
	assert_string_equal(tag(set, "the U.S. army"), "4-8 [U.S.] us");
	assert_string_equal(tag(set, "back in the U.S."), "12-16 [U.S.] us");
	assert_string_equal(tag(set, "the u.s. army"), "4-8 [u.s.] us");
	gz_set_unref(set);
}

static void test_trailing_punctuation_required(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(
		"type: org\nentries:\n"
		"  - {id: us, name: U.S., type: country}\n"
		"  - {id: yahoo, name: Yahoo!}\n");
	assert_string_equal(tag(set, "the U.S army"), "");
	assert_string_equal(tag(set, "the US army"), "");
	assert_string_equal(tag(set, "Yahoo! News"), "0-6 [Yahoo!] yahoo");
	assert_string_equal(tag(set, "Yahoo News"), "");
	/* edge punctuation belongs to the name like a gap: spaces are soft */
	assert_string_equal(tag(set, "Yahoo ! News"), "0-7 [Yahoo !] yahoo");
	assert_string_equal(tag(set, "Yahoo\n\n! News"), "");
	gz_set_unref(set);
}

static void test_leading_punctuation_included_in_span(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml("type: product\nentries:\n  - {id: dotnet, name: .NET}\n");
	assert_string_equal(tag(set, "the .NET runtime"), "4-8 [.NET] dotnet");
	assert_string_equal(tag(set, "the NET runtime"), "");
	assert_string_equal(tag(set, "the . NET runtime"), "4-9 [. NET] dotnet");
	assert_string_equal(tag(set, "the .\n\nNET runtime"), "");
	gz_set_unref(set);
}

/* ---------------------------------------------------- case (SPEC §3.3) */

static void test_case_insensitive_by_default(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(PLACES("  - {id: kyiv, name: Kyiv}\n"));
	assert_string_equal(tag(set, "kyiv KYIV KyIv"),
			    "0-4 [kyiv] kyiv; 5-9 [KYIV] kyiv; 10-14 [KyIv] kyiv");
	gz_set_unref(set);
}

static void test_case_rule_alias_matches_exact_case_only(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(
		"type: country\nentries:\n"
		"  - id: usa\n"
		"    name: United States\n"
		"    aliases: [{text: US, case: sensitive}]\n");
	assert_string_equal(tag(set, "US troops"), "0-2 [US] usa");
	assert_string_equal(tag(set, "let us go"), "");
	assert_string_equal(tag(set, "Us and them"), "");
	assert_string_equal(tag(set, "uS"), "");
	assert_string_equal(tag(set, "UNITED STATES"), "0-13 [UNITED STATES] usa");
	gz_set_unref(set);
}

static void test_file_case_rule_applies_to_entries(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(
		"type: org\ncase: sensitive\nentries:\n  - {id: nato, name: NATO}\n");
	assert_string_equal(tag(set, "NATO"), "0-4 [NATO] nato");
	assert_string_equal(tag(set, "Nato nato"), "");
	gz_set_unref(set);
}

static void test_entry_case_overrides_file_case(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(
		"type: org\ncase: sensitive\nentries:\n"
		"  - {id: nato, name: NATO, case: insensitive}\n"
		"  - {id: un, name: UN}\n");
	assert_string_equal(tag(set, "nato"), "0-4 [nato] nato");
	assert_string_equal(tag(set, "un UN"), "3-5 [UN] un");
	gz_set_unref(set);
}

static void test_alias_case_overrides_entry_case(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(
		"type: org\nentries:\n"
		"  - id: who\n"
		"    name: WHO\n"
		"    case: sensitive\n"
		"    aliases:\n"
		"      - World Health Organization\n"
		"      - {text: World Health Org, case: insensitive}\n");
	assert_string_equal(tag(set, "who"), "");
	assert_string_equal(tag(set, "WHO"), "0-3 [WHO] who");
	assert_string_equal(tag(set, "world health organization"), "");
	assert_string_equal(tag(set, "World Health Organization"),
			    "0-25 [World Health Organization] who");
	assert_string_equal(tag(set, "WORLD HEALTH ORG"), "0-16 [WORLD HEALTH ORG] who");
	gz_set_unref(set);
}

static void test_case_rule_name_still_folds_diacritics(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(
		"type: org\nentries:\n  - {id: obb, name: ÖBB, case: sensitive}\n");
	assert_string_equal(tag(set, "ÖBB"), "0-3 [ÖBB] obb");
	assert_string_equal(tag(set, "OBB"), "0-3 [OBB] obb");
	assert_string_equal(tag(set, "Obb"), "");
	assert_string_equal(tag(set, "öbb"), "");
	gz_set_unref(set);
}

/* ---------------------------------------------- folding (SPEC §3.1) */

static void test_diacritics_ignored_both_ways(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(PLACES(
		"  - {id: koln, name: Köln}\n"
		"  - {id: mykolaiv, name: Mykolaiv}\n"
		"  - {id: kropyvnytskyi, name: Kropyvnytskyï}\n"));
	assert_string_equal(tag(set, "Koln"), "0-4 [Koln] koln");
	assert_string_equal(tag(set, "KÖLN"), "0-4 [KÖLN] koln");
	assert_string_equal(tag(set, "Ko\xcc\x88ln"), "0-5 [Ko\xcc\x88ln] koln");  /* decomposed */
	assert_string_equal(tag(set, "Mykolaïv"), "0-8 [Mykolaïv] mykolaiv");
	assert_string_equal(tag(set, "Kropyvnytskyi"), "0-13 [Kropyvnytskyi] kropyvnytskyi");
	assert_string_equal(tag(set, "Kolno"), "");
	gz_set_unref(set);
}

static void test_sharp_s_matches_ss(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(PLACES(
		"  - {id: giessen, name: Gießen}\n"
		"  - {id: strasse, name: Strasse}\n"));
	assert_string_equal(tag(set, "Giessen"), "0-7 [Giessen] giessen");
	assert_string_equal(tag(set, "GIESSEN"), "0-7 [GIESSEN] giessen");
	assert_string_equal(tag(set, "GIEẞEN"), "0-6 [GIEẞEN] giessen");
	assert_string_equal(tag(set, "Straße"), "0-6 [Straße] strasse");
	assert_string_equal(tag(set, "Giesen"), "");
	gz_set_unref(set);
}

static void test_dotless_and_dotted_i_match_i(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(PLACES(
		"  - {id: diyarbakir, name: Diyarbakır}\n"
		"  - {id: istanbul, name: İstanbul}\n"));
	assert_string_equal(tag(set, "Diyarbakir"), "0-10 [Diyarbakir] diyarbakir");
	assert_string_equal(tag(set, "DİYARBAKIR"), "0-10 [DİYARBAKIR] diyarbakir");
	assert_string_equal(tag(set, "Istanbul"), "0-8 [Istanbul] istanbul");
	assert_string_equal(tag(set, "istanbul"), "0-8 [istanbul] istanbul");
	assert_string_equal(tag(set, "İSTANBUL"), "0-8 [İSTANBUL] istanbul");
	assert_string_equal(tag(set, "ıstanbul"), "0-8 [ıstanbul] istanbul");
	gz_set_unref(set);
}

static void test_stroke_letters_match_base_letters(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(PLACES(
		"  - {id: lodz, name: Łódź}\n"
		"  - {id: tromso, name: Tromsø}\n"
		"  - {id: dakovo, name: Đakovo}\n"
		"  - {id: aebeltoft, name: Æbeltoft}\n"
		"  - {id: coeur, name: \"Cœur d'Alene\"}\n"));
	assert_string_equal(tag(set, "Lodz"), "0-4 [Lodz] lodz");
	assert_string_equal(tag(set, "ŁÓDŹ"), "0-4 [ŁÓDŹ] lodz");
	assert_string_equal(tag(set, "TROMSO"), "0-6 [TROMSO] tromso");
	assert_string_equal(tag(set, "Dakovo"), "0-6 [Dakovo] dakovo");
	assert_string_equal(tag(set, "Aebeltoft"), "0-9 [Aebeltoft] aebeltoft");
	assert_string_equal(tag(set, "Coeur d’Alene"), "0-13 [Coeur d’Alene] coeur");
	assert_string_equal(tag(set, "Abeltoft"), "");
	gz_set_unref(set);
}

static void test_cyrillic_case_insensitive(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(PLACES("  - {id: kyiv, name: Київ}\n"));
	assert_string_equal(tag(set, "КИЇВ"), "0-4 [КИЇВ] kyiv");
	assert_string_equal(tag(set, "місто київ"), "6-10 [київ] kyiv");
	assert_string_equal(tag(set, "Київщина"), "");
	assert_string_equal(tag(set, "Киев"), "");
	gz_set_unref(set);
}

static void test_greek_case_and_final_sigma(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(PLACES(
		"  - {id: athens, name: Αθήνα}\n"
		"  - {id: odesa, name: Οδησσός}\n"));
	assert_string_equal(tag(set, "ΑΘΗΝΑ"), "0-5 [ΑΘΗΝΑ] athens");
	assert_string_equal(tag(set, "αθηνα"), "0-5 [αθηνα] athens");
	assert_string_equal(tag(set, "ΟΔΗΣΣΟΣ"), "0-7 [ΟΔΗΣΣΟΣ] odesa");
	assert_string_equal(tag(set, "Αθήναι"), "");
	gz_set_unref(set);
}

static void test_fullwidth_letters_match(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(PLACES("  - {id: kyiv, name: Kyiv}\n"));
	assert_string_equal(tag(set, "ＫＹＩＶ"), "0-4 [ＫＹＩＶ] kyiv");
	assert_string_equal(tag(set, "ｋｙｉｖ！"), "0-4 [ｋｙｉｖ] kyiv");
	assert_string_equal(tag_full(set, "ＫＹＩＶ", 12, NULL, GZ_OVERLAPS_LONGEST, GZ_OFFSETS_BYTE),
			    "0-12 [ＫＹＩＶ] kyiv");
	gz_set_unref(set);
}

/* ---------------------------------------------- overlaps (SPEC §3.4) */

#define AZOV_KYIV PLACES(                                  \
	"  - {id: azov, name: Azov}\n"                      \
	"  - {id: sea-of-azov, name: Sea of Azov}\n"        \
	"  - {id: kyiv, name: Kyiv}\n"                      \
	"  - {id: kyiv-oblast, name: Kyiv Oblast}\n"        \
	"  - {id: oblast-council, name: Oblast Council}\n")

static void test_longest_prefers_sea_of_azov_over_azov(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(AZOV_KYIV);
	assert_string_equal(tag(set, "the Sea of Azov coast"), "4-15 [Sea of Azov] sea-of-azov");
	gz_set_unref(set);
}

static void test_longest_prefers_kyiv_oblast_over_kyiv(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(AZOV_KYIV);
	assert_string_equal(tag(set, "Kyiv Oblast and Kyiv"),
			    "0-11 [Kyiv Oblast] kyiv-oblast; 16-20 [Kyiv] kyiv");
	assert_string_equal(tag(set, "Kyiv Kyiv Oblast"),
			    "0-4 [Kyiv] kyiv; 5-16 [Kyiv Oblast] kyiv-oblast");
	gz_set_unref(set);
}

static void test_longest_leftmost_match_wins(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(AZOV_KYIV);
	/* Kyiv Oblast starts first, so Oblast Council cannot follow it */
	assert_string_equal(tag(set, "the Kyiv Oblast Council"), "4-15 [Kyiv Oblast] kyiv-oblast");
	assert_string_equal(tag(set, "the Oblast Council"), "4-18 [Oblast Council] oblast-council");
	gz_set_unref(set);
}

static void test_all_returns_nested_sorted_start_asc_end_desc(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(AZOV_KYIV);
	assert_string_equal(tag_all(set, "the Sea of Azov"),
			    "4-15 [Sea of Azov] sea-of-azov; 11-15 [Azov] azov");
	assert_string_equal(tag_all(set, "Kyiv Oblast"),
			    "0-11 [Kyiv Oblast] kyiv-oblast; 0-4 [Kyiv] kyiv");
	gz_set_unref(set);
}

static void test_all_returns_overlapping(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(AZOV_KYIV);
	assert_string_equal(tag_all(set, "Kyiv Oblast Council, Azov"),
			    "0-11 [Kyiv Oblast] kyiv-oblast; 0-4 [Kyiv] kyiv; "
			    "5-19 [Oblast Council] oblast-council; 21-25 [Azov] azov");
	gz_set_unref(set);
}

static void test_all_sorts_lead_punctuation_start(void **state)
{
	(void)state;
	/* .NET starts one code point before NET Framework, and is shorter */
	struct gz_set *set = load_yaml(
		"type: product\nentries:\n"
		"  - {id: net-framework, name: NET Framework}\n"
		"  - {id: dotnet, name: .NET}\n");
	assert_string_equal(tag_all(set, "the .NET Framework"),
			    "4-8 [.NET] dotnet; 5-18 [NET Framework] net-framework");
	gz_set_unref(set);
}

/* ---------------------------------------------- ambiguity (SPEC §3.5) */

static void test_ambiguous_span_carries_highest_priority(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(
		"type: place\nentries:\n"
		"  - {id: azov, name: Azov}\n"
		"  - {id: azov-regiment, name: Azov Regiment, aliases: [Azov], type: unit, priority: 5}\n");
	assert_string_equal(tag(set, "Azov fighters"), "0-4 [Azov] azov-regiment alt=azov");
	gz_set_unref(set);
}

static void test_ambiguous_ties_broken_by_load_order(void **state)
{
	(void)state;
	const char *files[] = {
		"type: place\nentries:\n  - {id: paris-fr, name: Paris}\n",
		"type: place\nentries:\n  - {id: paris-tx, name: Paris}\n  - {id: paris-on, name: Paris}\n",
	};
	struct gz_set *set = load_yamls(files, 2);
	assert_string_equal(tag(set, "Paris"), "0-5 [Paris] paris-fr alt=paris-tx,paris-on");
	gz_set_unref(set);
	/* the other file order */
	const char *rev[] = { files[1], files[0] };
	set = load_yamls(rev, 2);
	assert_string_equal(tag(set, "Paris"), "0-5 [Paris] paris-tx alt=paris-on,paris-fr");
	gz_set_unref(set);
}

static void test_alternatives_ordered_by_priority_then_load_order(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(
		"type: place\nentries:\n"
		"  - {id: p1a, name: Springfield, priority: 1}\n"
		"  - {id: p0, name: Springfield}\n"
		"  - {id: p5, name: Springfield, priority: 5}\n"
		"  - {id: pneg, name: Springfield, priority: -2}\n"
		"  - {id: p1b, name: Springfield, priority: 1}\n"
		"  - {id: p1half, name: Springfield, priority: 1.5}\n");
	assert_string_equal(tag(set, "Springfield"),
			    "0-11 [Springfield] p5 alt=p1half,p1a,p1b,p0,pneg");
	gz_set_unref(set);
}

static void test_same_entry_matched_by_two_aliases_listed_once(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(
		"type: place\nentries:\n"
		"  - id: kyiv\n"
		"    name: Kyiv City\n"
		"    aliases: [{text: KYIV, case: sensitive}, Kyiv, Kyiv-City]\n"
		"  - {id: kyiv-oblast, name: Kyiv Oblast, aliases: [Kyiv]}\n");
	assert_string_equal(tag(set, "KYIV"), "0-4 [KYIV] kyiv alt=kyiv-oblast");
	assert_string_equal(tag_all(set, "KYIV"), "0-4 [KYIV] kyiv alt=kyiv-oblast");
	assert_string_equal(tag_all(set, "Kyiv City"), "0-9 [Kyiv City] kyiv; 0-4 [Kyiv] kyiv alt=kyiv-oblast");
	gz_set_unref(set);
}

/* ------------------------------------------------- type filter (§3.5) */

#define AZOV_TYPES                                                                        \
	"type: place\nentries:\n"                                                         \
	"  - {id: azov, name: Azov}\n"                                                    \
	"  - {id: azov-town, name: Azov, priority: -1}\n"                                 \
	"  - {id: azov-regiment, name: Azov Regiment, aliases: [Azov], type: unit, priority: 5}\n" \
	"  - {id: azov-fc, name: FC Azov, aliases: [Azov], type: club, priority: 9}\n"

static void test_types_filter_promotes_next_candidate(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(AZOV_TYPES);
	assert_string_equal(tag(set, "Azov"), "0-4 [Azov] azov-fc alt=azov-regiment,azov,azov-town");
	assert_string_equal(tag_types(set, "Azov", "place"), "0-4 [Azov] azov alt=azov-town");
	assert_string_equal(tag_types(set, "Azov", "unit"), "0-4 [Azov] azov-regiment");
	assert_string_equal(tag_types(set, "Azov", "place,unit"),
			    "0-4 [Azov] azov-regiment alt=azov,azov-town");
	assert_string_equal(tag_types(set, "Azov", " club , unit "),
			    "0-4 [Azov] azov-fc alt=azov-regiment");
	gz_set_unref(set);
}

static void test_types_filter_applies_before_longest(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(AZOV_TYPES);
	assert_string_equal(tag(set, "Azov Regiment"), "0-13 [Azov Regiment] azov-regiment");
	assert_string_equal(tag_types(set, "Azov Regiment", "place"), "0-4 [Azov] azov alt=azov-town");
	gz_set_unref(set);
}

static void test_types_filter_empty_means_every_type(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(AZOV_TYPES);
	assert_string_equal(tag_types(set, "Azov", ""),
			    "0-4 [Azov] azov-fc alt=azov-regiment,azov,azov-town");
	gz_set_unref(set);
}

static void test_unknown_type_is_einval(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(AZOV_TYPES);
	struct gz_tagger *t = gz_tagger_new();
	struct gz_tag_options o;
	struct gz_error err;
	memset(&err, 0, sizeof err);
	gz_tag_options_init(&o);
	o.types = "place,planet";
	assert_int_equal(gz_tagger_run(t, set, "Azov", 4, &o, &err), GZ_EINVAL);
	assert_int_equal(err.code, GZ_EINVAL);
	assert_string_equal(err.message,
			    "unknown type 'planet' in types (loaded types: place, unit, club)");
	assert_int_equal(gz_tagger_span_count(t), 0);
	gz_tagger_free(t);
	gz_set_unref(set);
}

/* ---------------------------------------------------------- offsets */

static void test_offsets_after_emoji_in_three_units(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(PLACES("  - {id: kyiv, name: Kyiv}\n"));
	const char *text = "😀 Kyiv 😀 Kyiv";
	size_t len = strlen(text);
	assert_string_equal(tag_full(set, text, len, NULL, GZ_OVERLAPS_LONGEST, GZ_OFFSETS_CODEPOINT),
			    "2-6 [Kyiv] kyiv; 9-13 [Kyiv] kyiv");
	assert_string_equal(tag_full(set, text, len, NULL, GZ_OVERLAPS_LONGEST, GZ_OFFSETS_UTF16),
			    "3-7 [Kyiv] kyiv; 11-15 [Kyiv] kyiv");
	assert_string_equal(tag_full(set, text, len, NULL, GZ_OVERLAPS_LONGEST, GZ_OFFSETS_BYTE),
			    "5-9 [Kyiv] kyiv; 15-19 [Kyiv] kyiv");
	gz_set_unref(set);
}

static void test_offsets_after_combining_mark_in_three_units(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(PLACES("  - {id: kyiv, name: Kyiv}\n"));
	/* Cafe + U+0301: one more code point and UTF-16 unit, two more bytes */
	const char *text = "😀 Cafe\xcc\x81 Kyiv";
	size_t len = strlen(text);
	assert_string_equal(tag_full(set, text, len, NULL, GZ_OVERLAPS_LONGEST, GZ_OFFSETS_CODEPOINT),
			    "8-12 [Kyiv] kyiv");
	assert_string_equal(tag_full(set, text, len, NULL, GZ_OVERLAPS_LONGEST, GZ_OFFSETS_UTF16),
			    "9-13 [Kyiv] kyiv");
	assert_string_equal(tag_full(set, text, len, NULL, GZ_OVERLAPS_LONGEST, GZ_OFFSETS_BYTE),
			    "12-16 [Kyiv] kyiv");
	gz_set_unref(set);
}

static void test_offsets_of_overlapping_spans_in_three_units(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(AZOV_KYIV);
	const char *text = "😀 Kyiv Oblast 😀";
	size_t len = strlen(text);
	assert_string_equal(tag_full(set, text, len, NULL, GZ_OVERLAPS_ALL, GZ_OFFSETS_CODEPOINT),
			    "2-13 [Kyiv Oblast] kyiv-oblast; 2-6 [Kyiv] kyiv");
	assert_string_equal(tag_full(set, text, len, NULL, GZ_OVERLAPS_ALL, GZ_OFFSETS_UTF16),
			    "3-14 [Kyiv Oblast] kyiv-oblast; 3-7 [Kyiv] kyiv");
	assert_string_equal(tag_full(set, text, len, NULL, GZ_OVERLAPS_ALL, GZ_OFFSETS_BYTE),
			    "5-16 [Kyiv Oblast] kyiv-oblast; 5-9 [Kyiv] kyiv");
	gz_set_unref(set);
}

static void test_offsets_of_span_holding_combining_mark(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(PLACES("  - {id: koln, name: Köln}\n"));
	const char *text = "😀 Ko\xcc\x88ln";
	size_t len = strlen(text);
	assert_string_equal(tag_full(set, text, len, NULL, GZ_OVERLAPS_LONGEST, GZ_OFFSETS_CODEPOINT),
			    "2-7 [Ko\xcc\x88ln] koln");
	assert_string_equal(tag_full(set, text, len, NULL, GZ_OVERLAPS_LONGEST, GZ_OFFSETS_UTF16),
			    "3-8 [Ko\xcc\x88ln] koln");
	assert_string_equal(tag_full(set, text, len, NULL, GZ_OVERLAPS_LONGEST, GZ_OFFSETS_BYTE),
			    "5-11 [Ko\xcc\x88ln] koln");
	gz_set_unref(set);
}

static void test_offsets_in_cyrillic_text(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(PLACES("  - {id: kyiv, name: Київ}\n"));
	const char *text = "Місто Київ";
	size_t len = strlen(text);
	assert_string_equal(tag_full(set, text, len, NULL, GZ_OVERLAPS_LONGEST, GZ_OFFSETS_CODEPOINT),
			    "6-10 [Київ] kyiv");
	assert_string_equal(tag_full(set, text, len, NULL, GZ_OVERLAPS_LONGEST, GZ_OFFSETS_UTF16),
			    "6-10 [Київ] kyiv");
	assert_string_equal(tag_full(set, text, len, NULL, GZ_OVERLAPS_LONGEST, GZ_OFFSETS_BYTE),
			    "11-19 [Київ] kyiv");
	gz_set_unref(set);
}

static void test_option_values_parsed(void **state)
{
	(void)state;
	enum gz_overlaps ov;
	enum gz_offsets off;
	struct gz_error err;
	memset(&err, 0, sizeof err);
	assert_int_equal(gz_overlaps_parse("all", &ov, &err), 0);
	assert_int_equal(ov, GZ_OVERLAPS_ALL);
	assert_int_equal(gz_overlaps_parse("longest", &ov, &err), 0);
	assert_int_equal(ov, GZ_OVERLAPS_LONGEST);
	assert_int_equal(gz_offsets_parse("utf16", &off, &err), 0);
	assert_int_equal(off, GZ_OFFSETS_UTF16);
	assert_int_equal(gz_offsets_parse("byte", &off, &err), 0);
	assert_int_equal(off, GZ_OFFSETS_BYTE);
	assert_int_equal(gz_offsets_parse("codepoint", &off, &err), 0);
	assert_int_equal(off, GZ_OFFSETS_CODEPOINT);
	assert_int_equal(gz_overlaps_parse("shortest", &ov, &err), GZ_EINVAL);
	assert_string_equal(err.message, "bad value 'shortest' for overlaps (expected longest or all)");
	assert_int_equal(gz_offsets_parse("utf8", &off, &err), GZ_EINVAL);
	assert_string_equal(err.message,
			    "bad value 'utf8' for offsets (expected codepoint, utf16 or byte)");
}

/* ------------------------------------------------------ text errors */

static void expect_eutf8(const struct gz_set *set, const char *text, size_t len, size_t offset)
{
	struct gz_tagger *t = gz_tagger_new();
	struct gz_error err;
	memset(&err, 0, sizeof err);
	assert_int_equal(gz_tagger_run(t, set, text, len, NULL, &err), GZ_EUTF8);
	assert_int_equal(err.code, GZ_EUTF8);
	assert_int_equal(err.offset, offset);
	char want[64];
	snprintf(want, sizeof want, "invalid UTF-8 at byte %zu", offset);
	assert_string_equal(err.message, want);
	assert_int_equal(gz_tagger_span_count(t), 0);
	gz_tagger_free(t);
}

static void test_invalid_utf8_reports_byte_offset(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(PLACES("  - {id: kyiv, name: Kyiv}\n"));
	expect_eutf8(set, "Kyiv \xff Kyiv", 10, 5);
	expect_eutf8(set, "Київ\xd0", 9, 8);              /* truncated at the end */
	expect_eutf8(set, "ab\xc0\xaf Kyiv", 9, 2);        /* overlong */
	expect_eutf8(set, "Kyiv \xed\xa0\x80", 8, 5);      /* surrogate */
	expect_eutf8(set, "😀\xf4\x90\x80\x80", 8, 4);     /* past U+10FFFF */
	gz_set_unref(set);
}

static void test_invalid_utf8_error_as_json(void **state)
{
	(void)state;
	struct gz_error err;
	memset(&err, 0, sizeof err);
	err.offset = 7;
	gz_error_set(&err, GZ_EUTF8, "invalid UTF-8 at byte %d", 7);
	json_t *j = gz_json_from_error(&err);
	char *s = json_dumps(j, JSON_COMPACT);
	assert_string_equal(s, "{\"error\":{\"code\":\"invalid_utf8\","
			       "\"message\":\"invalid UTF-8 at byte 7\",\"offset\":7}}");
	free(s);
	json_decref(j);
}

static void test_empty_text_has_no_spans(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(PLACES("  - {id: kyiv, name: Kyiv}\n"));
	assert_string_equal(tag_full(set, "", 0, NULL, GZ_OVERLAPS_LONGEST, GZ_OFFSETS_CODEPOINT), "");
	assert_string_equal(tag_full(set, "", 0, NULL, GZ_OVERLAPS_ALL, GZ_OFFSETS_UTF16), "");
	assert_string_equal(tag(set, " \n\n ...!"), "");
	gz_set_unref(set);
}

static void test_text_with_nul_bytes(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(PLACES(
		"  - {id: kyiv, name: Kyiv}\n"
		"  - {id: kyiv-oblast, name: Kyiv Oblast}\n"));
	/* NUL is a character like any other punctuation: it separates tokens
	 * and is significant in a gap */
	assert_string_equal(tag_full(set, "Kyiv\0Kyiv\0", 10, NULL, GZ_OVERLAPS_LONGEST,
				     GZ_OFFSETS_CODEPOINT),
			    "0-4 [Kyiv] kyiv; 5-9 [Kyiv] kyiv");
	assert_string_equal(tag_full(set, "\0Kyiv\0Oblast", 12, NULL, GZ_OVERLAPS_LONGEST,
				     GZ_OFFSETS_CODEPOINT),
			    "1-5 [Kyiv] kyiv");
	gz_set_unref(set);
}

static void test_tagger_reused_between_texts(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(AZOV_KYIV);
	struct gz_tagger *t = gz_tagger_new();
	struct gz_tag_options o;
	struct gz_error err;
	char out[256];
	gz_tag_options_init(&o);
	const char *a = "Kyiv Oblast, Sea of Azov, Kyiv";
	assert_int_equal(gz_tagger_run(t, set, a, strlen(a), &o, &err), 0);
	render_spans(t, a, out, sizeof out);
	assert_string_equal(out, "0-11 [Kyiv Oblast] kyiv-oblast; 13-24 [Sea of Azov] sea-of-azov; "
				 "26-30 [Kyiv] kyiv");
	const char *b = "Azov";
	assert_int_equal(gz_tagger_run(t, set, b, strlen(b), &o, &err), 0);
	render_spans(t, b, out, sizeof out);
	assert_string_equal(out, "0-4 [Azov] azov");
	assert_int_equal(gz_tagger_run(t, set, "\xff", 1, &o, &err), GZ_EUTF8);
	assert_int_equal(gz_tagger_span_count(t), 0);
	gz_tagger_free(t);
	gz_set_unref(set);
}


/* ------------------------------------------------------ more edges */

static void test_latin_word_right_after_han_is_a_token(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(PLACES(
		"  - {id: kyiv, name: Kyiv}\n"
		"  - {id: tokyo, name: 東京}\n"));
	assert_string_equal(tag(set, "基辅Kyiv市"), "2-6 [Kyiv] kyiv");
	assert_string_equal(tag(set, "Kyiv東京"), "0-4 [Kyiv] kyiv; 4-6 [東京] tokyo");
	assert_string_equal(tag(set, "在東京"), "1-3 [東京] tokyo");
	assert_string_equal(tag(set, "東 京"), "0-3 [東 京] tokyo");
	gz_set_unref(set);
}

static void test_paragraph_separator_breaks_match(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(PLACES(
		"  - {id: sea-of-azov, name: Sea of Azov}\n"
		"  - {id: azov, name: Azov}\n"));
	assert_string_equal(tag(set, "Sea of\xe2\x80\xa9" "Azov"), "7-11 [Azov] azov");  /* U+2029 */
	assert_string_equal(tag(set, "Sea of\xe2\x80\xa8" "Azov"),                       /* U+2028 */
			    "0-11 [Sea of\xe2\x80\xa8" "Azov] sea-of-azov");
	gz_set_unref(set);
}

static void test_significant_gap_with_line_break(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(PLACES("  - {id: spb, name: St. Petersburg}\n"));
	assert_string_equal(tag(set, "St.\nPetersburg"), "0-14 [St.\nPetersburg] spb");
	assert_string_equal(tag(set, "St.\n\nPetersburg"), "");
	assert_string_equal(tag(set, "St\n.Petersburg"), "0-14 [St\n.Petersburg] spb");
	gz_set_unref(set);
}

static void test_case_rule_name_matches_fullwidth_and_possessive(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(
		"type: org\ncase: sensitive\nentries:\n  - {id: nato, name: NATO}\n");
	assert_string_equal(tag(set, "ＮＡＴＯ"), "0-4 [ＮＡＴＯ] nato");
	assert_string_equal(tag(set, "NATO’s summit"), "0-4 [NATO] nato");
	assert_string_equal(tag(set, "ＮＡＴｏ"), "");
	gz_set_unref(set);
}

static void test_case_rule_and_insensitive_entries_share_a_form(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(
		"type: country\nentries:\n"
		"  - {id: usa, name: United States, aliases: [{text: US, case: sensitive}], priority: 1}\n"
		"  - {id: us-band, name: Us, type: band}\n");
	assert_string_equal(tag(set, "US"), "0-2 [US] usa alt=us-band");
	assert_string_equal(tag(set, "us"), "0-2 [us] us-band");
	gz_set_unref(set);
}

static void test_astral_letters_in_span_offsets(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(PLACES("  - {id: kyiv, name: Kyiv}\n"));
	/* mathematical bold Kyiv: four astral letters that NFKC makes Kyiv */
	const char *text = "\xf0\x9d\x90\x8a\xf0\x9d\x90\xb2\xf0\x9d\x90\xa2\xf0\x9d\x90\xaf!";
	size_t len = strlen(text);
	assert_string_equal(tag_full(set, text, len, NULL, GZ_OVERLAPS_LONGEST, GZ_OFFSETS_CODEPOINT),
			    "0-4 [\xf0\x9d\x90\x8a\xf0\x9d\x90\xb2\xf0\x9d\x90\xa2\xf0\x9d\x90\xaf] kyiv");
	assert_string_equal(tag_full(set, text, len, NULL, GZ_OVERLAPS_LONGEST, GZ_OFFSETS_UTF16),
			    "0-8 [\xf0\x9d\x90\x8a\xf0\x9d\x90\xb2\xf0\x9d\x90\xa2\xf0\x9d\x90\xaf] kyiv");
	assert_string_equal(tag_full(set, text, len, NULL, GZ_OVERLAPS_LONGEST, GZ_OFFSETS_BYTE),
			    "0-16 [\xf0\x9d\x90\x8a\xf0\x9d\x90\xb2\xf0\x9d\x90\xa2\xf0\x9d\x90\xaf] kyiv");
	gz_set_unref(set);
}

static void test_longest_takes_leftmost_start_with_lead_punctuation(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(
		"type: product\nentries:\n"
		"  - {id: net-framework, name: NET Framework}\n"
		"  - {id: dotnet, name: .NET}\n");
	assert_string_equal(tag(set, "the .NET Framework"), "4-8 [.NET] dotnet");
	assert_string_equal(tag(set, "the NET Framework"), "4-17 [NET Framework] net-framework");
	gz_set_unref(set);
}

static void test_trailing_punctuation_folds_like_text(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml("type: org\nentries:\n  - {id: yahoo, name: Yahoo!}\n");
	assert_string_equal(tag(set, "Yahoo！"), "0-6 [Yahoo！] yahoo");  /* fullwidth ! */
	assert_string_equal(tag(set, "YAHOO!!"), "0-6 [YAHOO!] yahoo");
	gz_set_unref(set);
}

static void test_long_text_many_spans(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(AZOV_KYIV);
	/* 2000 repetitions: scratch buffers grow well past their first size */
	size_t reps = 2000, unit = strlen("Kyiv Oblast; Sea of Azov\n");
	char *text = malloc(reps * unit + 1);
	assert_non_null(text);
	for (size_t i = 0; i < reps; i++)
		memcpy(text + i * unit, "Kyiv Oblast; Sea of Azov\n", unit);
	text[reps * unit] = 0;
	struct gz_tagger *t = gz_tagger_new();
	struct gz_error err;
	assert_int_equal(gz_tagger_run(t, set, text, reps * unit, NULL, &err), 0);
	assert_int_equal(gz_tagger_span_count(t), 2 * reps);
	const struct gz_span *sp = gz_tagger_spans(t);
	assert_int_equal(sp[2 * reps - 1].start, (reps - 1) * unit + 13);
	assert_int_equal(sp[2 * reps - 1].end, (reps - 1) * unit + 24);
	assert_string_equal(gz_entry_id(sp[2 * reps - 1].entry), "sea-of-azov");
	gz_tagger_free(t);
	free(text);
	gz_set_unref(set);
}

/* ------------------------------------------- the scan's 64-byte windows */

#define WINDOW_GAZ PLACES( \
	"  - {id: sea-of-azov, name: Sea of Azov}\n" \
	"  - {id: azov, name: Azov}\n" \
	"  - {id: zurich, name: Zürich}\n" \
	"  - {id: kyiv, name: Kyiv}\n" \
	"  - {id: kyiv-oblast, name: Kyiv Oblast}\n" \
	"  - {id: spb, name: St. Petersburg}\n" \
	"  - {id: pasadena, name: Pasadena}\n" \
	"  - {id: dnipro, name: Dnipropetrovsk}\n" \
	"  - {id: km, name: Kamianets-Podilskyi}\n")

/* Every kind of token and gap the window treats apart: ASCII words of 2 to
 * 19 bytes (8 and 9 bracket the hash's one-word case), a word that goes on
 * past its ASCII letters (Zürich, decomposed too), a soft hyphen inside a
 * word, one line break (skipped) and blank lines of three kinds (read)
 * inside a name, a gap of 100 spaces (longer than the window), a token of 70
 * letters, punctuation inside a name's gap, quotes and dashes >= 0x80, and
 * a name at the very end. */
static const char WINDOW_TEXT[] =
	"Sea of Azov, Zürich and Kyiv Oblast; the Sea of\nAzov, not the Sea of\n\nAzov "
	"nor the Sea of\n \nAzov nor Sea of\r\n\r\nAzov. Pasadena Dnipropetrovsk, "
	"St. Petersburg, ZÜRICH Zu\xcc\x88rich Kyiv\xc2\xadOblast Kamianets-Podilskyi "
	"Sea of                                                  "
	"                                                  Azov "
	"qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq Azov "
	"\xe2\x80\x9cKyiv\xe2\x80\x9d \xe2\x80\x94 Azov\xe2\x80\x99s Kyiv";

struct bspan {
	size_t start, end;
	const char *id;
};

static size_t byte_spans(const struct gz_set *set, const char *text, size_t len,
			 enum gz_overlaps overlaps, struct bspan *out, size_t cap)
{
	struct gz_tag_options o;
	gz_tag_options_init(&o);
	o.overlaps = overlaps;
	o.offsets = GZ_OFFSETS_BYTE;
	struct gz_tagger *t = gz_tagger_new();
	struct gz_error err;
	assert_int_equal(gz_tagger_run(t, set, text, len, &o, &err), 0);
	size_t n = gz_tagger_span_count(t);
	assert_true(n <= cap);
	for (size_t k = 0; k < n; k++)
		out[k] = (struct bspan){ gz_tagger_spans(t)[k].start, gz_tagger_spans(t)[k].end,
					 gz_entry_id(gz_tagger_spans(t)[k].entry) };
	gz_tagger_free(t);
	return n;
}

static void test_window_text_spans(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(WINDOW_GAZ);
	assert_string_equal(tag(set, WINDOW_TEXT),
		"0-11 [Sea of Azov] sea-of-azov; 13-19 [Zürich] zurich; "
		"24-35 [Kyiv Oblast] kyiv-oblast; 41-52 [Sea of\nAzov] sea-of-azov; "
		"70-74 [Azov] azov; 92-96 [Azov] azov; 111-115 [Azov] azov; "
		"117-125 [Pasadena] pasadena; 126-140 [Dnipropetrovsk] dnipro; "
		"142-156 [St. Petersburg] spb; 158-164 [ZÜRICH] zurich; "
		"165-172 [Zu\xcc\x88rich] zurich; 185-204 [Kamianets-Podilskyi] km; "
		"205-315 [Sea of                                                  "
		"                                                  Azov] sea-of-azov; "
		"387-391 [Azov] azov; 393-397 [Kyiv] kyiv; 401-405 [Azov] azov; "
		"408-412 [Kyiv] kyiv");
	gz_set_unref(set);
}

/* The pieces of WINDOW_TEXT, each tagged alone after 0 to 140 bytes of
 * spaces, of one long word, of punctuation, so that each of its tokens and
 * gaps meets the window's edge at every offset (later in a longer text the
 * windows follow the tokens: a window moves to the start of a token that
 * reaches its end) and the text's end lands on the edge too. */
static const char *const window_pieces[] = {
	"Sea of Azov", "Sea of\nAzov", "Sea of\n\nAzov", "Sea of\n \nAzov", "Sea of\r\n\r\nAzov",
	"Sea of\r\nAzov", "Sea of \n\t\n Azov", "Sea of\xe2\x80\xa9" "Azov", "Sea of\xe2\x80\xa8" "Azov",
	"Zürich", "Zu\xcc\x88rich", "ZÜRICH Zürich", "Kyiv Oblast", "Kyiv\xc2\xadOblast",
	"St. Petersburg", "St.Petersburg", "Pasadena Dnipropetrovsk", "Kamianets-Podilskyi",
	"Sea of                                                  "
	"                                                  Azov",
	"qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq Azov",
	"\xe2\x80\x9cKyiv\xe2\x80\x9d \xe2\x80\x94 Azov\xe2\x80\x99s Kyiv", WINDOW_TEXT,
};

static void test_spans_same_at_every_window_alignment(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(WINDOW_GAZ);
	char *text = malloc(sizeof WINDOW_TEXT + 141);
	assert_non_null(text);
	struct bspan want[64], got[64];
	size_t total = 0;
	for (size_t p = 0; p < sizeof window_pieces / sizeof *window_pieces; p++) {
		const char *piece = window_pieces[p];
		size_t len = strlen(piece);
		for (int overlaps = 0; overlaps < 2; overlaps++) {
			enum gz_overlaps ov = overlaps ? GZ_OVERLAPS_ALL : GZ_OVERLAPS_LONGEST;
			size_t n = byte_spans(set, piece, len, ov, want, 64);
			total += n;
			for (int kind = 0; kind < 3; kind++) {
				for (size_t k = 1; k <= 140; k++) {
					memset(text, kind == 0 ? ' ' : kind == 1 ? 'q' : ',', k);
					text[k - 1] = ' ';
					memcpy(text + k, piece, len);
					size_t m = byte_spans(set, text, k + len, ov, got, 64);
					if (m != n)
						fail_msg("piece %zu after %zu bytes of kind %d: %zu spans, "
							 "not %zu", p, k, kind, m, n);
					for (size_t a = 0; a < n; a++)
						if (got[a].start != want[a].start + k ||
						    got[a].end != want[a].end + k ||
						    strcmp(got[a].id, want[a].id))
							fail_msg("piece %zu after %zu bytes of kind %d: span "
								 "%zu is %zu-%zu %s, not %zu-%zu %s", p, k,
								 kind, a, got[a].start, got[a].end, got[a].id,
								 want[a].start + k, want[a].end + k,
								 want[a].id);
				}
			}
		}
	}
	assert_int_equal(total, 94); /* (the pieces do have spans to compare) */
	free(text);
	gz_set_unref(set);
}

/* Pieces random texts are made of: names, near-misses, every kind of gap. */
static const char *const pieces[] = {
	"Kyiv", "kyiv", "Oblast", "Sea", "of", "Azov", "Azovstal", "U", "S", ".", "U.S.",
	"St", "Petersburg", "Saint", " ", "  ", "\n", "\n\n", "\r\n", "-", "–", "’", "'s",
	",", "!", "&", "😀", "东", "京", "東京", "Ко\xcc\x88ln", "Köln", "KÖLN", "ß", "ẞ",
	"ＫＹＩＶ", "\t", "\xc2\xa0", "NATO", "Nato", "Yahoo", "Yahoo!", "(", ")",
};

#define RANDOM_GAZ                                                    \
	"type: place\nentries:\n"                                     \
	"  - {id: kyiv, name: Kyiv}\n"                                \
	"  - {id: kyiv-oblast, name: Kyiv Oblast, priority: 2}\n"     \
	"  - {id: oblast-kyiv, name: Oblast Kyiv}\n"                  \
	"  - {id: sea-of-azov, name: Sea of Azov}\n"                  \
	"  - {id: azov, name: Azov}\n"                                \
	"  - {id: azov-unit, name: Azov, type: unit}\n"               \
	"  - {id: us, name: U.S.}\n"                                  \
	"  - {id: spb, name: St. Petersburg, aliases: [Saint Petersburg]}\n" \
	"  - {id: tokyo, name: 東京}\n"                               \
	"  - {id: koln, name: Köln}\n"                                \
	"  - {id: nato, name: NATO, case: sensitive, type: org}\n"    \
	"  - {id: yahoo, name: Yahoo!, type: org}\n"

static void test_random_texts_keep_span_invariants(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(RANDOM_GAZ);
	struct gz_tagger *t = gz_tagger_new(), *t2 = gz_tagger_new();
	struct gz_tag_options lo, all;
	struct gz_error err;
	gz_tag_options_init(&lo);
	gz_tag_options_init(&all);
	lo.offsets = GZ_OFFSETS_BYTE;
	all.offsets = GZ_OFFSETS_BYTE;
	all.overlaps = GZ_OVERLAPS_ALL;
	char text[512], alone[512], r1[4096], r2[4096];
	uint32_t seed = 12345;
	size_t npieces = sizeof pieces / sizeof *pieces, total = 0;
	for (int iter = 0; iter < 3000; iter++) {
		size_t len = 0;
		int n = 1 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 12;
		for (int k = 0; k < n; k++) {
			const char *p = pieces[((seed = seed * 1103515245u + 12345u) >> 16) % npieces];
			memcpy(text + len, p, strlen(p));
			len += strlen(p);
		}
		text[len] = 0;
		assert_int_equal(gz_tagger_run(t, set, text, len, &lo, &err), 0);
		size_t ns = gz_tagger_span_count(t);
		const struct gz_span *sp = gz_tagger_spans(t);
		render_spans(t, text, r1, sizeof r1);
		/* the same result from a fresh tagger as from a reused one */
		assert_int_equal(gz_tagger_run(t2, set, text, len, &lo, &err), 0);
		render_spans(t2, text, r2, sizeof r2);
		assert_string_equal(r1, r2);
		for (size_t i = 0; i < ns; i++) {
			total++;
			/* non-overlapping, in order, on character boundaries */
			assert_true(sp[i].byte_start < sp[i].byte_end && sp[i].byte_end <= len);
			if (i)
				assert_true(sp[i - 1].byte_end <= sp[i].byte_start);
			assert_true(((unsigned char)text[sp[i].byte_start] & 0xC0) != 0x80);
			assert_true(sp[i].byte_end == len ||
				    ((unsigned char)text[sp[i].byte_end] & 0xC0) != 0x80);
		}
		/* each span tagged alone is one span over all of it, same entry */
		for (size_t i = 0; i < ns; i++) {
			size_t l = sp[i].byte_end - sp[i].byte_start;
			const struct gz_entry *e = sp[i].entry;
			size_t nalt = sp[i].alternative_count;
			memcpy(alone, text + sp[i].byte_start, l);
			assert_int_equal(gz_tagger_run(t2, set, alone, l, &lo, &err), 0);
			if (gz_tagger_span_count(t2) != 1 || gz_tagger_spans(t2)[0].byte_end != l ||
			    gz_tagger_spans(t2)[0].entry != e)
				fail_msg("span %zu-%zu of \"%s\" tagged alone differs", sp[i].byte_start,
					 sp[i].byte_end, text);
			assert_int_equal(gz_tagger_spans(t2)[0].byte_start, 0);
			assert_int_equal(gz_tagger_spans(t2)[0].alternative_count, nalt);
		}
		/* every longest span is among the overlaps=all spans */
		assert_int_equal(gz_tagger_run(t2, set, text, len, &all, &err), 0);
		size_t na = gz_tagger_span_count(t2);
		const struct gz_span *as = gz_tagger_spans(t2);
		for (size_t i = 1; i < na; i++)
			assert_true(as[i - 1].byte_start < as[i].byte_start ||
				    (as[i - 1].byte_start == as[i].byte_start &&
				     as[i - 1].byte_end > as[i].byte_end));
		for (size_t i = 0; i < ns; i++) {
			int found = 0;
			for (size_t k = 0; k < na; k++)
				if (as[k].byte_start == sp[i].byte_start &&
				    as[k].byte_end == sp[i].byte_end && as[k].entry == sp[i].entry)
					found = 1;
			if (!found)
				fail_msg("longest span %zu-%zu of \"%s\" missing from overlaps=all",
					 sp[i].byte_start, sp[i].byte_end, text);
		}
		assert_true(na >= ns);
	}
	/* the generator does produce matches */
	assert_true(total > 1000);
	gz_tagger_free(t);
	gz_tagger_free(t2);
	gz_set_unref(set);
}

/* ------------------------------------------------------------- JSON */

/* Regression: format characters used to split a word, so a soft hyphen
 * from a web page hid the name. */
static void test_soft_hyphen_and_zero_width_space_inside_word_ignored(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(PLACES("  - {id: kyiv, name: Kyiv}\n"));
	assert_string_equal(tag(set, "Ky\xc2\xadiv"), "0-5 [Ky\xc2\xadiv] kyiv");       /* U+00AD */
	assert_string_equal(tag(set, "Ky\xe2\x80\x8biv"), "0-5 [Ky\xe2\x80\x8biv] kyiv"); /* U+200B */
	assert_string_equal(tag(set, "in\xe2\x80\x8bKyiv"), "");  /* joins "in" and "Kyiv" */
	gz_set_unref(set);
}

/* Regression: a variation selector after an emoji began the span. */
static void test_variation_selector_after_emoji_not_in_span(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(PLACES("  - {id: kyiv, name: Kyiv}\n"));
	assert_string_equal(tag(set, "\xe2\x9d\xa4\xef\xb8\x8fKyiv"), "2-6 [Kyiv] kyiv");
	gz_set_unref(set);
}

/* The direct writer behind POST /tag must say what the jansson tree says. */
static void test_direct_writer_equals_jansson_response(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(PLACES(
		"  - {id: kyiv, name: Kyiv, attrs: {country: UA, lat: 50.45, n: 3, ok: true, z: ~}}\n"
		"  - {id: \"q\\\"uote\", name: \"Ab\\\\c\"}\n"
		"  - {id: azov-town, name: Azov}\n"
		"  - {id: azov-sea, name: Azov, priority: 2, attrs: {list: [1, \"x\\ty\"]}}\n"));
	const char *texts[] = {
		"Kyiv and Azov", "tab\tKyiv\x01\"Ab\\c\"", "\xf0\x9f\x98\x80" "Azov Kyiv", "", "nothing",
	};
	struct gz_tagger *t = gz_tagger_new();
	for (size_t k = 0; k < sizeof texts / sizeof *texts; k++) {
		for (int off = 0; off < 3; off++) {
			struct gz_tag_options o;
			gz_tag_options_init(&o);
			o.offsets = (enum gz_offsets)off;
			assert_int_equal(gz_tagger_run(t, set, texts[k], strlen(texts[k]), &o, NULL), 0);
			struct gz_buf b = { 0 };
			assert_int_equal(gz_json_write_tag_response(t, texts[k], &o, &b), 0);
			json_error_t je;
			json_t *direct = json_loads(b.data, 0, &je);
			assert_non_null(direct);
			json_t *tree = gz_json_tag_response(t, texts[k], &o);
			assert_true(json_equal(direct, tree));
			json_decref(direct);
			json_decref(tree);
			free(b.data);
		}
	}
	gz_tagger_free(t);
	gz_set_unref(set);
}

static void test_json_tag_response_exact(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(
		"type: place\nentries:\n"
		"  - id: kyiv\n"
		"    name: Kyiv\n"
		"    attrs: {country: UA, population: 2952301, capital: true, area: 839.5}\n"
		"  - {id: azov, name: Azov}\n"
		"  - {id: azov-regiment, name: Azov Regiment, aliases: [Azov], type: unit, priority: 5}\n");
	struct gz_tagger *t = gz_tagger_new();
	struct gz_tag_options o;
	struct gz_error err;
	gz_tag_options_init(&o);
	o.offsets = GZ_OFFSETS_UTF16;
	const char *text = "😀 Kyiv’s Azov";
	assert_int_equal(gz_tagger_run(t, set, text, strlen(text), &o, &err), 0);
	json_t *j = gz_json_tag_response(t, text, &o);
	assert_non_null(j);
	char *s = json_dumps(j, JSON_COMPACT), want[1024];
	/* the set's content hash last (issue 15) */
	snprintf(want, sizeof want,
		"{\"entities\":["
		"{\"start\":3,\"end\":7,\"text\":\"Kyiv\",\"type\":\"place\",\"id\":\"kyiv\","
		"\"name\":\"Kyiv\",\"attrs\":{\"country\":\"UA\",\"population\":2952301,"
		"\"capital\":true,\"area\":839.5}},"
		"{\"start\":10,\"end\":14,\"text\":\"Azov\",\"type\":\"unit\",\"id\":\"azov-regiment\","
		"\"name\":\"Azov Regiment\",\"alternatives\":[{\"id\":\"azov\",\"type\":\"place\","
		"\"name\":\"Azov\"}]}"
		"],\"offsets\":\"utf16\",\"gazetteers\":\"%s\"}", gz_set_hash(set));
	assert_string_equal(s, want);
	free(s);
	json_decref(j);

	/* no entities: an empty array, never null */
	assert_int_equal(gz_tagger_run(t, set, "nothing", 7, &o, &err), 0);
	gz_tag_options_init(&o);
	j = gz_json_tag_response(t, "nothing", &o);
	s = json_dumps(j, JSON_COMPACT);
	snprintf(want, sizeof want, "{\"entities\":[],\"offsets\":\"codepoint\",\"gazetteers\":\"%s\"}",
		 gz_set_hash(set));
	assert_string_equal(s, want);
	free(s);
	json_decref(j);
	gz_tagger_free(t);
	gz_set_unref(set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_matches_whole_token),
		cmocka_unit_test(test_name_not_matched_inside_longer_word),
		cmocka_unit_test(test_name_not_matched_by_prefix_of_its_tokens),
		cmocka_unit_test(test_possessive_excluded_from_span),
		cmocka_unit_test(test_curly_possessive_excluded_from_span),
		cmocka_unit_test(test_thai_characters_are_tokens),
		cmocka_unit_test(test_han_characters_are_tokens),
		cmocka_unit_test(test_kana_characters_are_tokens),
		cmocka_unit_test(test_hyphen_matches_space_in_name),
		cmocka_unit_test(test_en_and_em_dash_match_space_in_name),
		cmocka_unit_test(test_space_matches_hyphen_in_name),
		cmocka_unit_test(test_apostrophe_variants_interchangeable),
		cmocka_unit_test(test_period_in_text_gap_prevents_match),
		cmocka_unit_test(test_period_in_name_gap_required),
		cmocka_unit_test(test_alias_without_period_matches_when_listed),
		cmocka_unit_test(test_other_punctuation_must_be_the_same),
		cmocka_unit_test(test_single_line_break_inside_name_matches),
		cmocka_unit_test(test_blank_line_inside_name_does_not_match),
		cmocka_unit_test(test_crlf_blank_line_does_not_match),
		cmocka_unit_test(test_line_of_spaces_is_a_blank_line),
		cmocka_unit_test(test_trailing_period_included_in_span),
		cmocka_unit_test(test_trailing_punctuation_required),
		cmocka_unit_test(test_leading_punctuation_included_in_span),
		cmocka_unit_test(test_case_insensitive_by_default),
		cmocka_unit_test(test_case_rule_alias_matches_exact_case_only),
		cmocka_unit_test(test_file_case_rule_applies_to_entries),
		cmocka_unit_test(test_entry_case_overrides_file_case),
		cmocka_unit_test(test_alias_case_overrides_entry_case),
		cmocka_unit_test(test_case_rule_name_still_folds_diacritics),
		cmocka_unit_test(test_diacritics_ignored_both_ways),
		cmocka_unit_test(test_sharp_s_matches_ss),
		cmocka_unit_test(test_dotless_and_dotted_i_match_i),
		cmocka_unit_test(test_stroke_letters_match_base_letters),
		cmocka_unit_test(test_cyrillic_case_insensitive),
		cmocka_unit_test(test_greek_case_and_final_sigma),
		cmocka_unit_test(test_fullwidth_letters_match),
		cmocka_unit_test(test_longest_prefers_sea_of_azov_over_azov),
		cmocka_unit_test(test_longest_prefers_kyiv_oblast_over_kyiv),
		cmocka_unit_test(test_longest_leftmost_match_wins),
		cmocka_unit_test(test_all_returns_nested_sorted_start_asc_end_desc),
		cmocka_unit_test(test_all_returns_overlapping),
		cmocka_unit_test(test_all_sorts_lead_punctuation_start),
		cmocka_unit_test(test_ambiguous_span_carries_highest_priority),
		cmocka_unit_test(test_ambiguous_ties_broken_by_load_order),
		cmocka_unit_test(test_alternatives_ordered_by_priority_then_load_order),
		cmocka_unit_test(test_same_entry_matched_by_two_aliases_listed_once),
		cmocka_unit_test(test_types_filter_promotes_next_candidate),
		cmocka_unit_test(test_types_filter_applies_before_longest),
		cmocka_unit_test(test_types_filter_empty_means_every_type),
		cmocka_unit_test(test_unknown_type_is_einval),
		cmocka_unit_test(test_offsets_after_emoji_in_three_units),
		cmocka_unit_test(test_offsets_after_combining_mark_in_three_units),
		cmocka_unit_test(test_offsets_of_overlapping_spans_in_three_units),
		cmocka_unit_test(test_offsets_of_span_holding_combining_mark),
		cmocka_unit_test(test_offsets_in_cyrillic_text),
		cmocka_unit_test(test_option_values_parsed),
		cmocka_unit_test(test_invalid_utf8_reports_byte_offset),
		cmocka_unit_test(test_invalid_utf8_error_as_json),
		cmocka_unit_test(test_empty_text_has_no_spans),
		cmocka_unit_test(test_text_with_nul_bytes),
		cmocka_unit_test(test_tagger_reused_between_texts),
		cmocka_unit_test(test_latin_word_right_after_han_is_a_token),
		cmocka_unit_test(test_paragraph_separator_breaks_match),
		cmocka_unit_test(test_significant_gap_with_line_break),
		cmocka_unit_test(test_case_rule_name_matches_fullwidth_and_possessive),
		cmocka_unit_test(test_case_rule_and_insensitive_entries_share_a_form),
		cmocka_unit_test(test_astral_letters_in_span_offsets),
		cmocka_unit_test(test_longest_takes_leftmost_start_with_lead_punctuation),
		cmocka_unit_test(test_trailing_punctuation_folds_like_text),
		cmocka_unit_test(test_long_text_many_spans),
		cmocka_unit_test(test_window_text_spans),
		cmocka_unit_test(test_spans_same_at_every_window_alignment),
		cmocka_unit_test(test_random_texts_keep_span_invariants),
		cmocka_unit_test(test_json_tag_response_exact),
		cmocka_unit_test(test_direct_writer_equals_jansson_response),
		cmocka_unit_test(test_soft_hyphen_and_zero_width_space_inside_word_ignored),
		cmocka_unit_test(test_variation_selector_after_emoji_not_in_span),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
