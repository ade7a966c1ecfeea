/*
 * Unit tests for fold.c: character classes (what makes a token, what is a
 * soft or significant gap character), folding (NFKC, case folding, marks
 * stripped, stroke letters and ligatures mapped), and UTF-8 validation with
 * the offset of the first bad byte.
 */
#include "unit_helpers.h"

#include "fold.h"

/* Folds s (case-insensitive unless casefold is 0) into a static buffer. */
static const char *folded(const char *s, int casefold)
{
	static char out[1024];
	size_t n = gz_fold_string(s, strlen(s), casefold, out, sizeof out - 1);
	assert_true(n < sizeof out);
	out[n] = 0;
	return out;
}

static const char *fold1(uint32_t cp, int casefold)
{
	static char out[GZ_FOLD_MAX + 1];
	size_t n = gz_fold_cp(cp, casefold, out);
	out[n] = 0;
	return out;
}

static int setup(void **state)
{
	(void)state;
	gz_fold_init();
	return 0;
}

/* ------------------------------------------------------------ classes */

static void test_letters_and_digits_are_word(void **state)
{
	(void)state;
	assert_int_equal(gz_fold_class('a'), GZ_C_WORD);
	assert_int_equal(gz_fold_class('Z'), GZ_C_WORD);
	assert_int_equal(gz_fold_class('7'), GZ_C_WORD);
	assert_int_equal(gz_fold_class(0x00F6), GZ_C_WORD);  /* ö */
	assert_int_equal(gz_fold_class(0x0457), GZ_C_WORD);  /* ї */
	assert_int_equal(gz_fold_class(0x03C2), GZ_C_WORD);  /* ς */
	assert_int_equal(gz_fold_class(0xFF2B), GZ_C_WORD);  /* fullwidth K */
	assert_int_equal(gz_fold_class(0x0661), GZ_C_WORD);  /* Arabic-Indic digit one */
	assert_int_equal(gz_fold_class(0x00B2), GZ_C_WORD);  /* superscript two (No) */
}

static void test_combining_marks_are_mark(void **state)
{
	(void)state;
	assert_int_equal(gz_fold_class(0x0301), GZ_C_MARK);  /* combining acute */
	assert_int_equal(gz_fold_class(0x0308), GZ_C_MARK);  /* combining diaeresis */
	assert_int_equal(gz_fold_class(0x0E38), GZ_C_MARK);  /* Thai sara u */
}

static void test_han_kana_thai_are_solo(void **state)
{
	(void)state;
	assert_int_equal(gz_fold_class(0x6771), GZ_C_SOLO);  /* 東 */
	assert_int_equal(gz_fold_class(0x4EAC), GZ_C_SOLO);  /* 京 */
	assert_int_equal(gz_fold_class(0x3042), GZ_C_SOLO);  /* あ */
	assert_int_equal(gz_fold_class(0x30AB), GZ_C_SOLO);  /* カ */
	assert_int_equal(gz_fold_class(0x0E01), GZ_C_SOLO);  /* ก */
	assert_int_equal(gz_fold_class(0x20B9F), GZ_C_SOLO); /* CJK ext B 𠮟 */
}

static void test_whitespace_classes(void **state)
{
	(void)state;
	assert_int_equal(gz_fold_class(' '), GZ_C_SPACE);
	assert_int_equal(gz_fold_class('\t'), GZ_C_SPACE);
	assert_int_equal(gz_fold_class(0x00A0), GZ_C_SPACE); /* no-break space */
	assert_int_equal(gz_fold_class(0x3000), GZ_C_SPACE); /* ideographic space */
	assert_int_equal(gz_fold_class('\n'), GZ_C_NEWLINE);
	assert_int_equal(gz_fold_class('\r'), GZ_C_NEWLINE);
	assert_int_equal(gz_fold_class(0x2028), GZ_C_NEWLINE);
	assert_int_equal(gz_fold_class(0x2029), GZ_C_NEWLINE);
}

static void test_dashes_and_apostrophes_are_soft(void **state)
{
	(void)state;
	assert_int_equal(gz_fold_class('-'), GZ_C_SOFT);
	assert_int_equal(gz_fold_class(0x2010), GZ_C_SOFT);  /* hyphen */
	assert_int_equal(gz_fold_class(0x2013), GZ_C_SOFT);  /* en dash */
	assert_int_equal(gz_fold_class(0x2014), GZ_C_SOFT);  /* em dash */
	assert_int_equal(gz_fold_class('\''), GZ_C_SOFT);
	assert_int_equal(gz_fold_class('`'), GZ_C_SOFT);
	assert_int_equal(gz_fold_class(0x2018), GZ_C_SOFT);  /* ‘ */
	assert_int_equal(gz_fold_class(0x2019), GZ_C_SOFT);  /* ’ */
	assert_int_equal(gz_fold_class(0x02BC), GZ_C_SOFT);  /* ʼ (a letter, Lm, by category) */
}

static void test_other_punctuation_is_significant(void **state)
{
	(void)state;
	assert_int_equal(gz_fold_class('.'), GZ_C_OTHER);
	assert_int_equal(gz_fold_class(','), GZ_C_OTHER);
	assert_int_equal(gz_fold_class('!'), GZ_C_OTHER);
	assert_int_equal(gz_fold_class('&'), GZ_C_OTHER);
	assert_int_equal(gz_fold_class('('), GZ_C_OTHER);
	assert_int_equal(gz_fold_class('"'), GZ_C_OTHER);
	assert_int_equal(gz_fold_class(0), GZ_C_OTHER);        /* NUL */
	assert_int_equal(gz_fold_class(0x1F600), GZ_C_OTHER);  /* 😀 */
	assert_int_equal(gz_fold_class(0x00AB), GZ_C_OTHER);   /* « */
}

/* ------------------------------------------------------------ folding */

static void test_ascii_case_folded(void **state)
{
	(void)state;
	assert_string_equal(folded("Kyiv", 1), "kyiv");
	assert_string_equal(folded("KYIV", 1), "kyiv");
	assert_string_equal(folded("Kyiv", 0), "Kyiv");
	assert_string_equal(fold1('Q', 1), "q");
	assert_string_equal(fold1('Q', 0), "Q");
	assert_string_equal(fold1('5', 1), "5");
}

static void test_separators_dropped_by_fold_string(void **state)
{
	(void)state;
	assert_string_equal(folded("Saint-Petersburg", 1), "saintpetersburg");
	assert_string_equal(folded("U.S.", 1), "us");
	assert_string_equal(folded("  Sea of\nAzov!  ", 1), "seaofazov");
	assert_string_equal(folded("", 1), "");
}

static void test_fold_string_reports_size_needed(void **state)
{
	(void)state;
	char out[4];
	assert_int_equal(gz_fold_string("Mariupol", 8, 1, out, sizeof out), 8);
	assert_int_equal(gz_fold_string("Köln", strlen("Köln"), 1, out, sizeof out), 4);
	assert_memory_equal(out, "koln", 4);
}

static void test_diacritics_removed(void **state)
{
	(void)state;
	assert_string_equal(folded("Köln", 1), "koln");
	assert_string_equal(folded("Mykolaïv", 1), "mykolaiv");
	assert_string_equal(folded("Mykolaïv", 0), "Mykolaiv");
	assert_string_equal(folded("Ko\xcc\x88ln", 1), "koln");   /* o + U+0308, decomposed */
	assert_string_equal(folded("ÉCOLE", 1), "ecole");
	assert_string_equal(folded("Čerņihiv", 1), "cernihiv");
	assert_string_equal(fold1(0x0301, 1), "");                /* a mark alone folds away */
}

static void test_sharp_s_folds_to_ss(void **state)
{
	(void)state;
	assert_string_equal(folded("Straße", 1), "strasse");
	assert_string_equal(folded("STRASSE", 1), "strasse");
	assert_string_equal(folded("STRAẞE", 1), "strasse");  /* capital sharp s U+1E9E */
	assert_string_equal(folded("Straße", 0), "Straße");   /* no case folding: kept */
}

static void test_dotless_and_dotted_i_fold_to_i(void **state)
{
	(void)state;
	assert_string_equal(folded("Diyarbakır", 1), "diyarbakir");
	assert_string_equal(folded("İstanbul", 1), "istanbul");
	assert_string_equal(folded("DİYARBAKIR", 1), "diyarbakir");
	assert_string_equal(folded("İstanbul", 0), "Istanbul");
	assert_string_equal(folded("ı", 0), "i");
}

static void test_stroke_letters_and_ligatures_fold_to_base(void **state)
{
	(void)state;
	assert_string_equal(folded("Łódź", 1), "lodz");
	assert_string_equal(folded("Tromsø", 1), "tromso");
	assert_string_equal(folded("Đakovo", 1), "dakovo");
	assert_string_equal(folded("Æbeltoft", 1), "aebeltoft");
	assert_string_equal(folded("Cœur", 1), "coeur");
	assert_string_equal(folded("ŁØĐÆŒ", 1), "lodaeoe");
	assert_string_equal(folded("ŁØĐÆŒ", 0), "LODAEOE");
	assert_string_equal(folded("łøđæœ", 0), "lodaeoe");
}

static void test_cyrillic_case_folded(void **state)
{
	(void)state;
	/* ї is і + combining diaeresis: the mark goes */
	assert_string_equal(folded("Київ", 1), "киів");
	assert_string_equal(folded("КИЇВ", 1), "киів");
	assert_string_equal(folded("КИЇВ", 0), "КИІВ");
	assert_string_equal(folded("Одеса", 1), "одеса");
}

static void test_greek_case_and_final_sigma_folded(void **state)
{
	(void)state;
	assert_string_equal(folded("Αθήνα", 1), "αθηνα");
	assert_string_equal(folded("ΑΘΗΝΑ", 1), "αθηνα");
	assert_string_equal(folded("Οδησσός", 1), "οδησσοσ");
	assert_string_equal(folded("ΟΔΗΣΣΟΣ", 1), "οδησσοσ");
}

static void test_fullwidth_and_compatibility_forms_folded(void **state)
{
	(void)state;
	assert_string_equal(folded("ＫＹＩＶ", 1), "kyiv");
	assert_string_equal(folded("ＫＹＩＶ", 0), "KYIV");
	assert_string_equal(folded("ﬁnland", 1), "finland");  /* ﬁ ligature U+FB01 */
	assert_string_equal(folded("１２３", 1), "123");
}

static void test_astral_letters_folded(void **state)
{
	(void)state;
	/* mathematical bold capital A (U+1D400): NFKC makes it A */
	assert_string_equal(fold1(0x1D400, 1), "a");
	assert_string_equal(fold1(0x1D400, 0), "A");
	/* Deseret capital long I (U+10400) folds to U+10428 */
	assert_string_equal(fold1(0x10400, 1), "\xf0\x90\x90\xa8");
}

static void test_han_unchanged_by_folding(void **state)
{
	(void)state;
	assert_string_equal(folded("東京", 1), "東京");
	assert_string_equal(folded("カタカナ", 1), "カタカナ");
}

/* -------------------------------------------------------------- UTF-8 */

static void test_utf8_decode_code_points(void **state)
{
	(void)state;
	uint32_t cp;
	assert_int_equal(gz_utf8_decode((const unsigned char *)"A", 1, &cp), 1);
	assert_int_equal(cp, 0x41);
	assert_int_equal(gz_utf8_decode((const unsigned char *)"ö", 2, &cp), 2);
	assert_int_equal(cp, 0xF6);
	assert_int_equal(gz_utf8_decode((const unsigned char *)"東", 3, &cp), 3);
	assert_int_equal(cp, 0x6771);
	assert_int_equal(gz_utf8_decode((const unsigned char *)"😀", 4, &cp), 4);
	assert_int_equal(cp, 0x1F600);
}

static void test_utf8_validate_accepts_valid_text(void **state)
{
	(void)state;
	size_t bad = 99;
	const char *s = "Kyiv Київ Αθήνα 東京 😀 \xf4\x8f\xbf\xbf";  /* U+10FFFF last */
	assert_int_equal(gz_utf8_validate(s, strlen(s), &bad), 0);
	assert_int_equal(bad, 99);
	assert_int_equal(gz_utf8_validate("", 0, &bad), 0);
	assert_int_equal(gz_utf8_validate("a\0b", 3, &bad), 0);  /* NUL is valid UTF-8 */
}

static void test_utf8_validate_reports_stray_byte_offset(void **state)
{
	(void)state;
	size_t bad = 0;
	assert_int_equal(gz_utf8_validate("Köln \xff", 7, &bad), -1);
	assert_int_equal(bad, 6);
	assert_int_equal(gz_utf8_validate("\x80" "abc", 4, &bad), -1);  /* lone continuation */
	assert_int_equal(bad, 0);
	/* past the 8-byte ASCII fast path */
	assert_int_equal(gz_utf8_validate("abcdefghijklmnop\xfe", 17, &bad), -1);
	assert_int_equal(bad, 16);
}

static void test_utf8_validate_reports_truncated_sequence(void **state)
{
	(void)state;
	size_t bad = 0;
	assert_int_equal(gz_utf8_validate("Київ\xd0", 9, &bad), -1);
	assert_int_equal(bad, 8);
	assert_int_equal(gz_utf8_validate("ab\xe6\x9d", 4, &bad), -1);
	assert_int_equal(bad, 2);
	assert_int_equal(gz_utf8_validate("ab\xe6\x9d" "c", 5, &bad), -1);  /* cut short */
	assert_int_equal(bad, 2);
}

static void test_utf8_validate_rejects_overlong_surrogate_and_too_big(void **state)
{
	(void)state;
	size_t bad = 0;
	assert_int_equal(gz_utf8_validate("ab\xc0\xaf", 4, &bad), -1);       /* overlong '/' */
	assert_int_equal(bad, 2);
	assert_int_equal(gz_utf8_validate("\xe0\x80\xaf", 3, &bad), -1);     /* overlong, 3 bytes */
	assert_int_equal(bad, 0);
	assert_int_equal(gz_utf8_validate("x\xed\xa0\x80", 4, &bad), -1);    /* surrogate D800 */
	assert_int_equal(bad, 1);
	assert_int_equal(gz_utf8_validate("xy\xf4\x90\x80\x80", 6, &bad), -1); /* U+110000 */
	assert_int_equal(bad, 2);
	assert_int_equal(gz_utf8_validate("\xf8\x88\x80\x80\x80", 5, &bad), -1); /* 5-byte form */
	assert_int_equal(bad, 0);
}

static void test_utf8_validate_three_byte_forms_at_every_lead(void **state)
{
	(void)state;
	/* every lead byte E0..EF with the lowest and highest continuations,
	 * after 0 to 40 ASCII bytes (each way through the ASCII runs): only
	 * the overlong E0 80..9F and the surrogates ED A0..BF are refused */
	unsigned char buf[64];
	for (unsigned lead = 0xE0; lead <= 0xEF; lead++) {
		for (unsigned c1 = 0x80; c1 <= 0xBF; c1 += 0x3F) {
			for (size_t pre = 0; pre <= 40; pre++) {
				memset(buf, 'a', pre);
				buf[pre] = (unsigned char)lead;
				buf[pre + 1] = (unsigned char)c1;
				buf[pre + 2] = 0xBF;
				buf[pre + 3] = 'z';
				int refused = (lead == 0xE0 && c1 < 0xA0) || (lead == 0xED && c1 >= 0xA0);
				size_t bad = 999;
				assert_int_equal(gz_utf8_validate((const char *)buf, pre + 4, &bad),
						 refused ? -1 : 0);
				assert_int_equal(bad, refused ? pre : 999);
				/* a continuation missing or wrong: refused at the lead */
				bad = 999;
				assert_int_equal(gz_utf8_validate((const char *)buf, pre + 2, &bad), -1);
				assert_int_equal(bad, pre);
				buf[pre + 2] = 'b';
				assert_int_equal(gz_utf8_validate((const char *)buf, pre + 4, &bad), -1);
				assert_int_equal(bad, pre);
			}
		}
	}
}

static void test_ascii_answered_inline_as_by_the_tables(void **state)
{
	(void)state;
	for (uint32_t cp = 0; cp < 0x80; cp++) {
		assert_int_equal(gz_fold_class(cp), gz_fold_class_nonascii(cp));
		for (int c = 0; c < 2; c++) {
			char a[GZ_FOLD_MAX], b[GZ_FOLD_MAX];
			size_t n = gz_fold_cp(cp, c, a);
			assert_int_equal(n, gz_fold_cp_nonascii(cp, c, b));
			assert_memory_equal(a, b, n);
		}
	}
	assert_int_equal(gz_fold_class(' '), GZ_C_SPACE);
	assert_string_equal(fold1('Q', 1), "q");
	assert_string_equal(fold1('Q', 0), "Q");
	assert_string_equal(fold1('.', 1), ".");
	assert_string_equal(fold1(' ', 1), "");
}

/* ------------------------------------------------------- ASCII blocks */

/* What the tagger's 64-byte blocks must say of byte b at position k, from
 * gz_fold_class alone. */
static void check_block_byte(const struct gz_ascii_block *b, unsigned k, unsigned char c)
{
	enum gz_class cl = c < 0x80 ? gz_fold_class(c) : GZ_C_OTHER;
	int word = c < 0x80 && cl == GZ_C_WORD;
	int newline = c < 0x80 && cl == GZ_C_NEWLINE;
	char lower = word && c >= 'A' && c <= 'Z' ? (char)(c + 32) : (char)c;
	if (((b->word >> k) & 1) != (uint64_t)word || ((b->newline >> k) & 1) != (uint64_t)newline ||
	    ((b->high >> k) & 1) != (uint64_t)(c >= 0x80) || b->lower[k] != lower)
		fail_msg("byte 0x%02x at %u: word %d newline %d high %d lower 0x%02x",
			 c, k, (int)((b->word >> k) & 1), (int)((b->newline >> k) & 1),
			 (int)((b->high >> k) & 1), (unsigned char)b->lower[k]);
	if (word) {
		char f[GZ_FOLD_MAX];
		assert_int_equal(gz_fold_cp(c, 1, f), 1);
		assert_int_equal(f[0], lower); /* the folded form of the word byte */
	}
}

static void classify_all_ways(const unsigned char *s, struct gz_ascii_block *out, size_t *nout)
{
	size_t n = 0;
	gz_ascii_block_portable(s, &out[n++]);
	gz_ascii_block(s, &out[n++]);
#ifdef GZ_ASCII_BLOCK_AVX2
	if (gz_ascii_block_avx2_usable())
		gz_ascii_block_avx2(s, &out[n++]);
#endif
	*nout = n;
}

static void test_ascii_block_agrees_with_fold_class(void **state)
{
	(void)state;
	/* every byte value at every position, among neighbours of each kind */
	static const unsigned char fill[] = { ' ', 'a', 'Z', '\n', 0xC3, 0x80, 0 };
	unsigned char s[64];
	struct gz_ascii_block b[3];
	size_t n;
	for (size_t f = 0; f < sizeof fill; f++) {
		for (unsigned c = 0; c < 256; c++) {
			for (unsigned k = 0; k < 64; k++) {
				memset(s, fill[f], sizeof s);
				s[k] = (unsigned char)c;
				classify_all_ways(s, b, &n);
				for (size_t w = 0; w < n; w++) {
					check_block_byte(&b[w], k, (unsigned char)c);
					check_block_byte(&b[w], (k + 1) % 64, s[(k + 1) % 64]);
				}
			}
		}
	}
}

static void test_ascii_block_ways_agree_on_random_blocks(void **state)
{
	(void)state;
	unsigned char s[64];
	struct gz_ascii_block b[3];
	size_t n;
	uint64_t x = 0x9E3779B97F4A7C15ULL;
	for (int r = 0; r < 20000; r++) {
		for (unsigned k = 0; k < 64; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			/* half ASCII letters, spaces and line breaks, half anything */
			static const char common[] = "aZ09 \n\r\t.-'";
			s[k] = (x >> 40) & 1 ? (unsigned char)common[(x >> 8) % (sizeof common - 1)]
					     : (unsigned char)(x >> 16);
		}
		classify_all_ways(s, b, &n);
		for (size_t w = 0; w < n; w++)
			for (unsigned k = 0; k < 64; k++)
				check_block_byte(&b[w], k, s[k]);
	}
}

static void test_ascii_gap_bytes_are_space_punctuation_or_soft(void **state)
{
	(void)state;
	/* the scan skips a run of bytes that are neither word, line break nor
	 * >= 0x80 without reading them: no other class may hide there */
	for (uint32_t c = 0; c < 0x80; c++) {
		enum gz_class cl = gz_fold_class(c);
		if (cl == GZ_C_WORD || cl == GZ_C_NEWLINE)
			continue;
		if (cl != GZ_C_SPACE && cl != GZ_C_OTHER && cl != GZ_C_SOFT)
			fail_msg("ASCII 0x%02x has class %d", c, cl);
	}
}

static void test_ascii_prefix32_counts_whole_ascii_steps(void **state)
{
	(void)state;
	unsigned char s[100];
	memset(s, 'a', sizeof s);
	assert_int_equal(gz_ascii_prefix32(s, 100), 96);
	assert_int_equal(gz_ascii_prefix32(s, 31), 0);
	assert_int_equal(gz_ascii_prefix32(s, 64), 64);
	s[40] = 0xC3;
	assert_int_equal(gz_ascii_prefix32(s, 100), 32);
	s[31] = 0x80;
	assert_int_equal(gz_ascii_prefix32(s, 100), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_letters_and_digits_are_word),
		cmocka_unit_test(test_combining_marks_are_mark),
		cmocka_unit_test(test_han_kana_thai_are_solo),
		cmocka_unit_test(test_whitespace_classes),
		cmocka_unit_test(test_dashes_and_apostrophes_are_soft),
		cmocka_unit_test(test_other_punctuation_is_significant),
		cmocka_unit_test(test_ascii_case_folded),
		cmocka_unit_test(test_separators_dropped_by_fold_string),
		cmocka_unit_test(test_fold_string_reports_size_needed),
		cmocka_unit_test(test_diacritics_removed),
		cmocka_unit_test(test_sharp_s_folds_to_ss),
		cmocka_unit_test(test_dotless_and_dotted_i_fold_to_i),
		cmocka_unit_test(test_stroke_letters_and_ligatures_fold_to_base),
		cmocka_unit_test(test_cyrillic_case_folded),
		cmocka_unit_test(test_greek_case_and_final_sigma_folded),
		cmocka_unit_test(test_fullwidth_and_compatibility_forms_folded),
		cmocka_unit_test(test_astral_letters_folded),
		cmocka_unit_test(test_han_unchanged_by_folding),
		cmocka_unit_test(test_utf8_decode_code_points),
		cmocka_unit_test(test_utf8_validate_accepts_valid_text),
		cmocka_unit_test(test_utf8_validate_reports_stray_byte_offset),
		cmocka_unit_test(test_utf8_validate_reports_truncated_sequence),
		cmocka_unit_test(test_utf8_validate_rejects_overlong_surrogate_and_too_big),
		cmocka_unit_test(test_utf8_validate_three_byte_forms_at_every_lead),
		cmocka_unit_test(test_ascii_answered_inline_as_by_the_tables),
		cmocka_unit_test(test_ascii_block_agrees_with_fold_class),
		cmocka_unit_test(test_ascii_block_ways_agree_on_random_blocks),
		cmocka_unit_test(test_ascii_gap_bytes_are_space_punctuation_or_soft),
		cmocka_unit_test(test_ascii_prefix32_counts_whole_ascii_steps),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
