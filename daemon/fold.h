/*
 * Unicode folding and character classes (SPEC §3.1-3.2), on utf8proc.
 *
 * Folding is done one code point at a time, which is what makes it cheap:
 * with marks stripped there is nothing left for canonical reordering or
 * composition to do, so decompose(NFKC-compatibility) + case fold + strip
 * marks + the stroke-letter map is a pure function of each code point.  The
 * results for the Basic Multilingual Plane are computed once into a table;
 * the astral planes go through utf8proc each time (rare in news text).  Both
 * the gazetteer names and the posted text go through the same function, so a
 * name and a text agree whatever normalisation form either was written in.
 * ASCII is answered inline, from a copy of its entries; and the tagger reads
 * ASCII text 64 bytes at a time, classified by SIMD compares (the ASCII
 * blocks below).
 */
#ifndef GZ_FOLD_H
#define GZ_FOLD_H

#include <stddef.h>
#include <stdint.h>

/* Character classes, as the tokenizer sees them. */
enum gz_class {
	GZ_C_OTHER = 0,    /* significant punctuation or symbol: matters in a gap */
	GZ_C_WORD = 1,     /* letter or digit: part of a token */
	GZ_C_MARK = 2,     /* combining mark: part of the token it follows */
	GZ_C_SOLO = 3,     /* Han, kana, Thai...: a token by itself */
	GZ_C_SPACE = 4,    /* horizontal whitespace: soft in a gap */
	GZ_C_NEWLINE = 5,  /* a line break: soft, but two make a blank line */
	GZ_C_SOFT = 6,     /* dash or apostrophe: soft in a gap */
	GZ_C_IGNORE = 7,   /* format character (soft hyphen, zero-width space,
			    * joiners, BOM): invisible, so it neither splits a
			    * token nor counts in a gap */
};

/* Call once before anything else (thread-safe; later calls do nothing). */
void gz_fold_init(void);

/* ASCII's classes and folds, copied by gz_fold_init from the tables of the
 * whole BMP, so that the functions below answer for ASCII inline: every
 * module that reads text a code point at a time calls them for each one. */
struct gz_fold_ascii {
	unsigned char cls;      /* enum gz_class */
	unsigned char len[2];   /* [casefold]: 0 or 1 */
	char byte[2];
};
extern struct gz_fold_ascii gz_fold_ascii_table[128];

/* (The _nonascii functions are the out-of-line part, right for any code
 * point; callers use the inline ones.) */
enum gz_class gz_fold_class_nonascii(uint32_t cp);
static inline enum gz_class gz_fold_class(uint32_t cp)
{
	return cp < 0x80 ? (enum gz_class)gz_fold_ascii_table[cp].cls : gz_fold_class_nonascii(cp);
}

/* Appends the folded UTF-8 form of cp to out (at most GZ_FOLD_MAX bytes) and
 * returns the number of bytes written (0 for a mark, which folds away).
 * casefold selects full Unicode case folding. */
#define GZ_FOLD_MAX 64
size_t gz_fold_cp_nonascii(uint32_t cp, int casefold, char *out);
static inline size_t gz_fold_cp(uint32_t cp, int casefold, char *out)
{
	if (cp >= 0x80)
		return gz_fold_cp_nonascii(cp, casefold, out);
	const struct gz_fold_ascii *a = &gz_fold_ascii_table[cp];
	int c = casefold != 0;
	if (a->len[c])
		out[0] = a->byte[c];
	return a->len[c];
}

/* A letter's case, for the capitalisation rules of SPEC §8: GZ_UPPER for
 * uppercase and titlecase letters (Lu, Lt), GZ_LOWER for lowercase (Ll),
 * GZ_UNCASED for everything else (digits, uncased scripts, punctuation). */
enum gz_letter_case { GZ_UNCASED = 0, GZ_UPPER = 1, GZ_LOWER = 2 };
static inline enum gz_letter_case gz_fold_case_ascii(unsigned c)
{
	return c - 'A' < 26u ? GZ_UPPER : c - 'a' < 26u ? GZ_LOWER : GZ_UNCASED;
}
enum gz_letter_case gz_fold_case(uint32_t cp);

/* ASCII blocks: the tagger's fast path, 64 bytes of text classified at a
 * time.  For byte k of the block, bit k of word is set when it is an ASCII
 * letter or digit (the ASCII bytes of class GZ_C_WORD), bit k of newline
 * when it is an ASCII line break (\n, \v, \f, \r: the ASCII bytes of
 * GZ_C_NEWLINE), bit k of high when it is >= 0x80 (part of a longer UTF-8
 * sequence); lower[k] is the byte with ASCII letters lower-cased (the folded
 * form of an ASCII word character).  Every other byte is an ASCII space,
 * punctuation mark, dash or apostrophe.  lower has eight bytes more, so that
 * a hash may read a word past the end of a token in it (their content is
 * unspecified).  With SSE2 (every x86-64) 16 bytes a step, with AVX2 (when
 * the CPU has it) 32; elsewhere eight, in a 64-bit word: all give the same
 * result: test_fold.c checks each against gz_fold_class for every byte
 * at every position, and test_tokenize.c against the tokenizer's rules
 * (tokenize.h), which the tagger's slower paths and the name compiler
 * follow. */
struct gz_ascii_block {
	uint64_t word, newline, high;
	char lower[64 + 8];
};

#if defined(__SSE2__) && !defined(GZ_NO_SIMD)
#include <emmintrin.h>
#define GZ_ASCII_BLOCK_SIMD 1
/* AVX2 is not in x86-64's baseline: compiled for it whatever the build's
 * flags, used only when gz_ascii_block_avx2_usable() says the CPU has it. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define GZ_ASCII_BLOCK_AVX2 1
#endif
#endif

/* The portable version, eight bytes a step: each test sets the high bit of
 * the bytes it holds for (x: the bytes with their high bit cleared, so that
 * no byte's arithmetic borrows from or carries into its neighbour). */
static inline uint64_t gz_swar_between(uint64_t x, unsigned lo, unsigned hi)
{
	/* the bytes strictly between lo and hi */
	const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
	return (ones * (127 + hi) - x) & ~x & (x + ones * (127 - lo)) & high;
}

/* The eight high bits of w, gathered into one byte. */
static inline uint64_t gz_swar_gather(uint64_t w)
{
	return ((w >> 7) & 0x0101010101010101ULL) * 0x0102040810204080ULL >> 56;
}

/* The ASCII letters and digits among the eight bytes of w (the high bit
 * of each), and in *lower w with its letters lower-cased.  (The tagger
 * reads the rest of a token that goes on past a block with it.) */
static inline uint64_t gz_swar_word(uint64_t w, uint64_t *lower)
{
	const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
	uint64_t x = w & ~high;
	uint64_t letter = gz_swar_between(x | ones * 0x20, 0x60, 0x7B) & ~w;
	*lower = w | letter >> 2;
	return letter | (gz_swar_between(x, 0x2F, 0x3A) & ~w);
}

static inline void gz_ascii_block_portable(const unsigned char *s, struct gz_ascii_block *b)
{
	const uint64_t high = 0x8080808080808080ULL;
	uint64_t word = 0, newline = 0, hi = 0;
	for (unsigned k = 0; k < 64; k += 8) {
		uint64_t w, lower;
		__builtin_memcpy(&w, s + k, 8);
		uint64_t x = w & ~high;
		uint64_t m = gz_swar_word(w, &lower);
		__builtin_memcpy(b->lower + k, &lower, 8);
		word |= gz_swar_gather(m) << k;
		newline |= gz_swar_gather(gz_swar_between(x, 0x09, 0x0E) & ~w) << k;
		hi |= gz_swar_gather(w) << k;
	}
	b->word = word;
	b->newline = newline;
	b->high = hi;
}

/* Classifies s[0..64): all 64 bytes must be readable. */
static inline void gz_ascii_block(const unsigned char *s, struct gz_ascii_block *b)
{
#ifdef GZ_ASCII_BLOCK_SIMD
	/* signed compares: the bytes >= 0x80 are negative, never in a range */
	const __m128i case_bit = _mm_set1_epi8(0x20);
	uint64_t word = 0, newline = 0, hi = 0;
	for (unsigned k = 0; k < 64; k += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + k));
		__m128i l = _mm_or_si128(v, case_bit);
		__m128i letter = _mm_and_si128(_mm_cmpgt_epi8(l, _mm_set1_epi8('a' - 1)),
					       _mm_cmplt_epi8(l, _mm_set1_epi8('z' + 1)));
		__m128i digit = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)),
					      _mm_cmplt_epi8(v, _mm_set1_epi8('9' + 1)));
		__m128i nl = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('\t')),
					   _mm_cmplt_epi8(v, _mm_set1_epi8('\r' + 1)));
		_mm_storeu_si128((__m128i *)(void *)(b->lower + k),
				 _mm_or_si128(v, _mm_and_si128(letter, case_bit)));
		word |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_or_si128(letter, digit)) << k;
		newline |= (uint64_t)(unsigned)_mm_movemask_epi8(nl) << k;
		hi |= (uint64_t)(unsigned)_mm_movemask_epi8(v) << k;
	}
	b->word = word;
	b->newline = newline;
	b->high = hi;
#else
	gz_ascii_block_portable(s, b);
#endif
}

#ifdef GZ_ASCII_BLOCK_AVX2
/* gz_ascii_block, 32 bytes a step. */
__attribute__((target("avx2"))) static inline void gz_ascii_block_avx2(const unsigned char *s,
									  struct gz_ascii_block *b)
{
	const __m256i case_bit = _mm256_set1_epi8(0x20);
	uint64_t word = 0, newline = 0, hi = 0;
	for (unsigned k = 0; k < 64; k += 32) {
		__m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(s + k));
		__m256i l = _mm256_or_si256(v, case_bit);
		__m256i letter = _mm256_and_si256(_mm256_cmpgt_epi8(l, _mm256_set1_epi8('a' - 1)),
						  _mm256_cmpgt_epi8(_mm256_set1_epi8('z' + 1), l));
		__m256i digit = _mm256_and_si256(_mm256_cmpgt_epi8(v, _mm256_set1_epi8('0' - 1)),
						 _mm256_cmpgt_epi8(_mm256_set1_epi8('9' + 1), v));
		__m256i nl = _mm256_and_si256(_mm256_cmpgt_epi8(v, _mm256_set1_epi8('\t')),
					      _mm256_cmpgt_epi8(_mm256_set1_epi8('\r' + 1), v));
		_mm256_storeu_si256((__m256i *)(void *)(b->lower + k),
				    _mm256_or_si256(v, _mm256_and_si256(letter, case_bit)));
		word |= (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_or_si256(letter, digit)) << k;
		newline |= (uint64_t)(uint32_t)_mm256_movemask_epi8(nl) << k;
		hi |= (uint64_t)(uint32_t)_mm256_movemask_epi8(v) << k;
	}
	b->word = word;
	b->newline = newline;
	b->high = hi;
}

/* Whether this CPU (and its operating system) can run AVX2 code. */
static inline int gz_ascii_block_avx2_usable(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2");
}
#endif

/* The length of the run of ASCII bytes that s[0..n) starts with, counted
 * in whole steps of 32 bytes: a multiple of 32, the rest is the caller's.
 * (For the passes over the whole text: validation, offsets.) */
static inline size_t gz_ascii_prefix32(const unsigned char *s, size_t n)
{
	size_t i = 0;
#ifdef GZ_ASCII_BLOCK_SIMD
	for (; i + 32 <= n; i += 32) {
		__m128i a = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(s + i + 16));
		if (_mm_movemask_epi8(_mm_or_si128(a, b)))
			break;
	}
#else
	for (; i + 32 <= n; i += 32) {
		uint64_t a, b, c, d;
		__builtin_memcpy(&a, s + i, 8);
		__builtin_memcpy(&b, s + i + 8, 8);
		__builtin_memcpy(&c, s + i + 16, 8);
		__builtin_memcpy(&d, s + i + 24, 8);
		if ((a | b | c | d) & 0x8080808080808080ULL)
			break;
	}
#endif
	return i;
}

/* Decodes one UTF-8 code point at s[0..len) without validation (the text was
 * validated first); returns its length in bytes. */
static inline size_t gz_utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	unsigned c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c < 0xE0 && len >= 2) {
		*cp = ((c & 0x1F) << 6) | (s[1] & 0x3F);
		return 2;
	}
	if (c < 0xF0 && len >= 3) {
		*cp = ((c & 0x0F) << 12) | ((s[1] & 0x3F) << 6) | (s[2] & 0x3F);
		return 3;
	}
	if (len >= 4) {
		*cp = ((c & 0x07) << 18) | ((s[1] & 0x3F) << 12) | ((s[2] & 0x3F) << 6) | (s[3] & 0x3F);
		return 4;
	}
	*cp = 0xFFFD;
	return 1;
}

/* Returns 0 when s[0..len) is valid UTF-8 (no overlong forms, surrogates or
 * code points past U+10FFFF), else -1 with *bad the offset of the first byte
 * of the first invalid sequence. */
int gz_utf8_validate(const char *s, size_t len, size_t *bad);

/* The code points (utf16: UTF-16 code units) of valid UTF-8 s[pos..target),
 * target <= len; eight bytes at a time, and ASCII 32 at a time.  The
 * offsets of the tagger's spans and of the HTML layer are counted with it. */
size_t gz_utf8_units(const unsigned char *s, size_t len, size_t pos, size_t target, int utf16);

/* Folds a whole string (a name) into out: the folded tokens separated by
 * nothing; used by tests and the loader's diagnostics.  Returns bytes
 * written, or the size needed when out is too small. */
size_t gz_fold_string(const char *s, size_t len, int casefold, char *out, size_t size);

#endif
