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

enum gz_class gz_fold_class(uint32_t cp);

/* Appends the folded UTF-8 form of cp to out (at most GZ_FOLD_MAX bytes) and
 * returns the number of bytes written (0 for a mark, which folds away).
 * casefold selects full Unicode case folding. */
#define GZ_FOLD_MAX 64
size_t gz_fold_cp(uint32_t cp, int casefold, char *out);

/* A letter's case, for the capitalisation rules of SPEC §8: GZ_UPPER for
 * uppercase and titlecase letters (Lu, Lt), GZ_LOWER for lowercase (Ll),
 * GZ_UNCASED for everything else (digits, uncased scripts, punctuation). */
enum gz_letter_case { GZ_UNCASED = 0, GZ_UPPER = 1, GZ_LOWER = 2 };
static inline enum gz_letter_case gz_fold_case_ascii(unsigned c)
{
	return c - 'A' < 26u ? GZ_UPPER : c - 'a' < 26u ? GZ_LOWER : GZ_UNCASED;
}
enum gz_letter_case gz_fold_case(uint32_t cp);

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

/* Folds a whole string (a name) into out: the folded tokens separated by
 * nothing; used by tests and the loader's diagnostics.  Returns bytes
 * written, or the size needed when out is too small. */
size_t gz_fold_string(const char *s, size_t len, int casefold, char *out, size_t size);

#endif
