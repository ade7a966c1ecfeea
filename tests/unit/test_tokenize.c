/*
 * Unit tests for tokenize.h, the tokenizer's rules that names and texts
 * share: what each class does in a token and in a gap, how a gap's line
 * breaks make a blank line, and, for every ASCII byte, that what the scan's
 * fast path assumes of it (fold.h's blocks, the tagger's byte tables) is
 * what these rules say.  (test_fold.c checks each way of classifying a
 * block against the same rules, byte by byte.)  That names and texts then
 * agree end to end is test_differential's and test_regressions' part.
 */
#include "unit_helpers.h"

#include "fold.h"
#include "tokenize.h"

static int setup(void **state)
{
	(void)state;
	gz_fold_init();
	return 0;
}

/* gz_tok_step for a code point, in a gap (-1), in a token of letters (0)
 * or in a solo one (1). */
static enum gz_tok_step step(uint32_t cp, int where)
{
	return gz_tok_step(gz_fold_class(cp), where >= 0, where == 1);
}

/* Feeds s to gz_gap_step from a fresh gap; the last step's answer (or
 * GZ_GAP_BLANK as soon as one says so). */
static enum gz_gap_step gap_of(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len = strlen(s), i = 0;
	int nl_run = 0;
	enum gz_gap_step last = GZ_GAP_SOFT;
	while (i < len) {
		uint32_t cp;
		i += gz_utf8_decode(u + i, len - i, &cp);
		last = gz_gap_step(&nl_run, cp, gz_fold_class(cp), cp == '\r' && i < len && u[i] == '\n');
		if (last == GZ_GAP_BLANK)
			break;
	}
	return last;
}

static void test_letters_start_a_token_and_go_on_with_one(void **state)
{
	(void)state;
	assert_int_equal(step('a', -1), GZ_TOK_START);
	assert_int_equal(step('a', 0), GZ_TOK_JOIN);
	assert_int_equal(step(0x0457, 0), GZ_TOK_JOIN);  /* ї */
	assert_int_equal(step('7', 0), GZ_TOK_JOIN);
	assert_true(gz_tok_goes_on(gz_fold_class('Z'), 0));
}

static void test_solo_character_is_a_token_by_itself(void **state)
{
	(void)state;
	assert_int_equal(step(0x6771, -1), GZ_TOK_START); /* 東 */
	assert_int_equal(step(0x6771, 0), GZ_TOK_START);  /* after letters */
	assert_int_equal(step(0x4EAC, 1), GZ_TOK_START);  /* 京 after 東 */
	assert_int_equal(step('a', 1), GZ_TOK_START);     /* a letter after 東 */
	assert_false(gz_tok_goes_on(gz_fold_class(0x0E01), 1)); /* ก */
}

static void test_mark_joins_any_token_and_is_skipped_in_a_gap(void **state)
{
	(void)state;
	assert_int_equal(step(0x0301, 0), GZ_TOK_JOIN);
	assert_int_equal(step(0x0E38, 1), GZ_TOK_JOIN);  /* Thai sara u after ก */
	assert_int_equal(step(0x0301, -1), GZ_TOK_SKIP); /* a stray mark */
	assert_int_equal(step(0xFE0F, -1), GZ_TOK_SKIP); /* variation selector after an emoji */
	char f[GZ_FOLD_MAX];
	assert_int_equal(gz_tok_fold(0x0301, f), 0);
	assert_int_equal(gz_tok_fold_cased(0x0301, f), 0);
}

static void test_format_characters_invisible_everywhere(void **state)
{
	(void)state;
	static const uint32_t format[] = { 0x00AD, 0x200B, 0x200D, 0xFEFF };
	char f[GZ_FOLD_MAX];
	for (size_t k = 0; k < sizeof format / sizeof *format; k++) {
		for (int where = -1; where <= 1; where++)
			assert_int_equal(step(format[k], where), GZ_TOK_SKIP);
		assert_true(gz_tok_goes_on(gz_fold_class(format[k]), 0));
		assert_int_equal(gz_tok_fold(format[k], f), 0);
	}
}

static void test_separators_end_a_token(void **state)
{
	(void)state;
	static const uint32_t sep[] = { ' ', '\n', '-', '\'', 0x2019, 0x2014, '.', '!', 0x00A0, 0x1F600 };
	for (size_t k = 0; k < sizeof sep / sizeof *sep; k++)
		for (int where = -1; where <= 1; where++)
			assert_int_equal(step(sep[k], where), GZ_TOK_GAP);
}

/* Gaps, and what gap_of says of each. */
static const struct gap_case {
	const char *gap;
	enum gz_gap_step want;
} gap_cases[] = {
	/* soft: interchangeable, not compared */
	{ " ", GZ_GAP_SOFT }, { "-", GZ_GAP_SOFT }, { "`", GZ_GAP_SOFT },
	{ "\xe2\x80\x94", GZ_GAP_SOFT },          /* em dash */
	{ "\xe2\x80\x99", GZ_GAP_SOFT },          /* ’ */
	{ "\xcc\x81", GZ_GAP_SOFT },              /* a stray mark */
	{ "\n", GZ_GAP_SOFT },
	/* punctuation: kept */
	{ ".", GZ_GAP_PUNCT }, { "&", GZ_GAP_PUNCT },
	{ "\xc2\xab", GZ_GAP_PUNCT },              /* « */
	/* blank lines: two line breaks with only spaces or invisible
	 * characters between, CR LF counting once; U+2029 alone */
	{ "\n\n", GZ_GAP_BLANK }, { "\n \t\n", GZ_GAP_BLANK },
	{ "\n\xcc\x81\n", GZ_GAP_BLANK }, { "\r\n\r\n", GZ_GAP_BLANK },
	{ "\r\r", GZ_GAP_BLANK }, { "\xe2\x80\xa9", GZ_GAP_BLANK },
	/* not blank: one CR LF; a dash, apostrophe or punctuation between */
	{ "\r\n", GZ_GAP_SOFT }, { "\n-\n", GZ_GAP_SOFT }, { "\n.\n", GZ_GAP_SOFT },
	{ "\n\xe2\x80\x99\n", GZ_GAP_SOFT },
};

static void test_gap_soft_punctuation_and_blank_lines_as_spec_says(void **state)
{
	(void)state;
	for (size_t k = 0; k < sizeof gap_cases / sizeof *gap_cases; k++)
		if (gap_of(gap_cases[k].gap) != gap_cases[k].want)
			fail_msg("gap case %zu: %d, not %d", k, gap_of(gap_cases[k].gap),
				 gap_cases[k].want);
	char f[GZ_FOLD_MAX];
	assert_int_equal(gz_tok_fold(0xFF0E, f), 1); /* fullwidth full stop */
	assert_int_equal(f[0], '.');
}

/* The scan's fast path reads ASCII by bit tests and byte tables, never
 * through gz_tok_step: it takes what a block marks as word to start a
 * token and go on with one, folded to its byte in lower; what it marks as
 * newline to be what may make a blank line; every other byte to end a
 * token and be soft, or punctuation that is its own folded form; and no
 * byte to be invisible or solo.  Each way of classifying a block (SSE2,
 * AVX2 where the CPU has it, portable) is asked. */
static void check_ascii_byte(const struct gz_ascii_block *b, uint32_t c)
{
	unsigned k = c % 64;
	int word = (b->word >> k) & 1, newline = (b->newline >> k) & 1;
	enum gz_class cl = gz_fold_class(c);
	char f[GZ_FOLD_MAX] = { 0 };
	size_t n = gz_tok_fold(c, f);
	assert_false((b->high >> k) & 1);
	if (word) {
		if (step(c, -1) != GZ_TOK_START || step(c, 0) != GZ_TOK_JOIN ||
		    step(c, 1) != GZ_TOK_START || n != 1 || f[0] != b->lower[k])
			fail_msg("ASCII 0x%02x: word to the block, not to the tokenizer", c);
		return;
	}
	for (int where = -1; where <= 1; where++)
		if (step(c, where) != GZ_TOK_GAP)
			fail_msg("ASCII 0x%02x does not end a token (where %d)", c, where);
	int nl_run = 1;
	enum gz_gap_step g = gz_gap_step(&nl_run, c, cl, 0);
	if ((g == GZ_GAP_BLANK) != newline)
		fail_msg("ASCII 0x%02x: newline %d to the block, blank line %d to the tokenizer",
			 c, newline, g == GZ_GAP_BLANK);
	if (g == GZ_GAP_PUNCT && (n != 1 || (unsigned char)f[0] != c))
		fail_msg("ASCII 0x%02x: punctuation not its own folded form", c);
	if (gz_gap_keeps(cl) != (g == GZ_GAP_PUNCT))
		fail_msg("ASCII 0x%02x: gz_gap_keeps disagrees with gz_gap_step", c);
}

static void test_every_ascii_byte_as_the_fast_path_reads_it(void **state)
{
	(void)state;
	unsigned char s[2][64];
	for (uint32_t c = 0; c < 0x80; c++)
		s[c / 64][c % 64] = (unsigned char)c;
	for (int half = 0; half < 2; half++) {
		struct gz_ascii_block b;
		for (int way = 0; way < 3; way++) {
			if (way == 0)
				gz_ascii_block_portable(s[half], &b);
			else if (way == 1)
				gz_ascii_block(s[half], &b);
#ifdef GZ_ASCII_BLOCK_AVX2
			else if (gz_ascii_block_avx2_usable())
				gz_ascii_block_avx2(s[half], &b);
#endif
			else
				continue;
			for (uint32_t c = 64 * (uint32_t)half; c < 64 * (uint32_t)half + 64; c++)
				check_ascii_byte(&b, c);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_letters_start_a_token_and_go_on_with_one),
		cmocka_unit_test(test_solo_character_is_a_token_by_itself),
		cmocka_unit_test(test_mark_joins_any_token_and_is_skipped_in_a_gap),
		cmocka_unit_test(test_format_characters_invisible_everywhere),
		cmocka_unit_test(test_separators_end_a_token),
		cmocka_unit_test(test_gap_soft_punctuation_and_blank_lines_as_spec_says),
		cmocka_unit_test(test_every_ascii_byte_as_the_fast_path_reads_it),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
