/*
 * Folding and classes; see fold.h for the design.  The BMP tables are built
 * lazily by gz_fold_init (about 2 ms): for every BMP code point, its class
 * and, for word characters, its folded UTF-8 in both case modes, stored in
 * one pool with 32-bit (offset << 8 | length) slots.  ASCII's entries are
 * copied into gz_fold_ascii_table, which fold.h's inline gz_fold_class and
 * gz_fold_cp read: the functions here are their out-of-line part (correct
 * for any code point, called for those >= 0x80).
 */
#include "fold.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* ------------------------------------------------------------------ tables */

static unsigned char bmp_class[0x10000];
struct gz_fold_ascii gz_fold_ascii_table[128];
static uint32_t bmp_slot[2][0x10000]; /* [casefold][cp] -> pool offset << 8 | len */
static char *pool;
static size_t pool_len, pool_cap;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/* Scripts written without spaces: one character, one token.  Ranges rather
 * than utf8proc (which has no script property). */
static int is_solo(uint32_t cp)
{
	return (cp >= 0x0E00 && cp <= 0x0EFF)       /* Thai, Lao */
	    || (cp >= 0x1780 && cp <= 0x17FF)       /* Khmer */
	    || (cp >= 0x3040 && cp <= 0x30FF)       /* Hiragana, Katakana */
	    || (cp >= 0x31F0 && cp <= 0x31FF)       /* Katakana extensions */
	    || (cp >= 0x3400 && cp <= 0x4DBF)       /* CJK ext A */
	    || (cp >= 0x4E00 && cp <= 0x9FFF)       /* CJK unified */
	    || (cp >= 0xF900 && cp <= 0xFAFF)       /* CJK compatibility */
	    || (cp >= 0xFF66 && cp <= 0xFF9F)       /* halfwidth Katakana */
	    || (cp >= 0x20000 && cp <= 0x3FFFF);    /* CJK ext B and beyond */
}

static enum gz_class classify(uint32_t cp)
{
	switch (cp) {
	case '\n': case '\r': case 0x0B: case 0x0C: case 0x85: case 0x2028:
		return GZ_C_NEWLINE;
	case 0x2029: /* paragraph separator: counts as a blank line by itself */
		return GZ_C_NEWLINE;
	case '\'': case '`': case 0x2018: case 0x2019: case 0x02BC: case 0xFF07:
	case 0x2212: /* minus sign, typed for a hyphen */
		return GZ_C_SOFT;
	case '\t':
		return GZ_C_SPACE;
	}
	utf8proc_category_t cat = utf8proc_category((utf8proc_int32_t)cp);
	switch (cat) {
	case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
	case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
	case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
		return is_solo(cp) ? GZ_C_SOLO : GZ_C_WORD;
	case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
		return GZ_C_MARK;
	case UTF8PROC_CATEGORY_ZS:
		return GZ_C_SPACE;
	case UTF8PROC_CATEGORY_ZL:
		return GZ_C_NEWLINE;
	case UTF8PROC_CATEGORY_PD:
		return GZ_C_SOFT;
	case UTF8PROC_CATEGORY_CF:
		return GZ_C_IGNORE;
	default:
		return GZ_C_OTHER;
	}
}

/* Letters with a stroke or ligatures carry no decomposable mark, so NFKD
 * leaves them alone; SPEC §3.1 maps them to their base letters. */
static size_t map_base(uint32_t cp, uint32_t *out)
{
	switch (cp) {
	case 0x0142: out[0] = 'l'; return 1;  /* ł */
	case 0x0141: out[0] = 'L'; return 1;  /* Ł */
	case 0x00F8: out[0] = 'o'; return 1;  /* ø */
	case 0x00D8: out[0] = 'O'; return 1;  /* Ø */
	case 0x0111: out[0] = 'd'; return 1;  /* đ */
	case 0x0110: out[0] = 'D'; return 1;  /* Đ */
	case 0x0131: out[0] = 'i'; return 1;  /* ı */
	case 0x0127: out[0] = 'h'; return 1;  /* ħ */
	case 0x0126: out[0] = 'H'; return 1;  /* Ħ */
	case 0x0167: out[0] = 't'; return 1;  /* ŧ */
	case 0x0166: out[0] = 'T'; return 1;  /* Ŧ */
	case 0x00E6: out[0] = 'a'; out[1] = 'e'; return 2;  /* æ */
	case 0x00C6: out[0] = 'A'; out[1] = 'E'; return 2;  /* Æ */
	case 0x0153: out[0] = 'o'; out[1] = 'e'; return 2;  /* œ */
	case 0x0152: out[0] = 'O'; out[1] = 'E'; return 2;  /* Œ */
	default: out[0] = cp; return 1;
	}
}

static size_t fold_slow(uint32_t cp, int casefold, char *out)
{
	if (utf8proc_category((utf8proc_int32_t)cp) == UTF8PROC_CATEGORY_CF)
		return 0; /* invisible: folds to nothing, like a mark */
	utf8proc_int32_t buf[32];
	int last_boundclass = 0;
	utf8proc_option_t opts = UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_STRIPMARK;
	if (casefold)
		opts |= UTF8PROC_CASEFOLD;
	utf8proc_ssize_t n = utf8proc_decompose_char((utf8proc_int32_t)cp, buf, 32, opts,
						     &last_boundclass);
	if (n < 0 || n > 32) { /* cannot happen for a valid scalar; keep it as is */
		buf[0] = (utf8proc_int32_t)cp;
		n = 1;
	}
	size_t len = 0;
	for (utf8proc_ssize_t i = 0; i < n; i++) {
		uint32_t mapped[2];
		size_t m = map_base((uint32_t)buf[i], mapped);
		for (size_t k = 0; k < m; k++) {
			uint32_t c = mapped[k];
			/* the stroke map may have produced an upper-case base */
			if (casefold && c < 0x80 && c >= 'A' && c <= 'Z')
				c += 'a' - 'A';
			if (len + 4 > GZ_FOLD_MAX)
				return len;
			len += (size_t)utf8proc_encode_char((utf8proc_int32_t)c,
							    (utf8proc_uint8_t *)out + len);
		}
	}
	return len;
}

static void pool_add(int casefold, uint32_t cp)
{
	char tmp[GZ_FOLD_MAX];
	size_t n = fold_slow(cp, casefold, tmp);
	if (pool_len + n > pool_cap) {
		size_t cap = pool_cap ? pool_cap * 2 : 1 << 20;
		char *p = realloc(pool, cap);
		if (!p)
			abort(); /* at start-up, before serving: nothing to salvage */
		pool = p;
		pool_cap = cap;
	}
	memcpy(pool + pool_len, tmp, n);
	bmp_slot[casefold][cp] = (uint32_t)(pool_len << 8 | n);
	pool_len += n;
}

static void build_tables(void)
{
	for (uint32_t cp = 0; cp < 0x10000; cp++) {
		enum gz_class c = (cp >= 0xD800 && cp <= 0xDFFF) ? GZ_C_OTHER : classify(cp);
		bmp_class[cp] = (unsigned char)c;
		if (c == GZ_C_WORD || c == GZ_C_SOLO || c == GZ_C_MARK || c == GZ_C_OTHER ||
		    c == GZ_C_IGNORE) {
			if (cp >= 0xD800 && cp <= 0xDFFF)
				continue;
			pool_add(0, cp);
			pool_add(1, cp);
		}
	}
	for (uint32_t cp = 0; cp < 0x80; cp++) {
		struct gz_fold_ascii *a = &gz_fold_ascii_table[cp];
		a->cls = bmp_class[cp];
		for (int c = 0; c < 2; c++) {
			uint32_t slot = bmp_slot[c][cp];
			if ((slot & 0xFF) > 1)
				abort(); /* ASCII folds to at most one byte */
			a->len[c] = (unsigned char)(slot & 0xFF);
			a->byte[c] = a->len[c] ? pool[slot >> 8] : 0;
		}
	}
}

void gz_fold_init(void)
{
	pthread_once(&init_once, build_tables);
}

enum gz_class gz_fold_class_nonascii(uint32_t cp)
{
	if (cp < 0x10000)
		return (enum gz_class)bmp_class[cp];
	return classify(cp);
}

size_t gz_fold_cp_nonascii(uint32_t cp, int casefold, char *out)
{
	if (cp < 0x10000) {
		uint32_t slot = bmp_slot[casefold ? 1 : 0][cp];
		size_t n = slot & 0xFF;
		memcpy(out, pool + (slot >> 8), n);
		return n;
	}
	return fold_slow(cp, casefold, out);
}

enum gz_letter_case gz_fold_case(uint32_t cp)
{
	if (cp < 0x80)
		return gz_fold_case_ascii(cp);
	switch (utf8proc_category((utf8proc_int32_t)cp)) {
	case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LT: return GZ_UPPER;
	case UTF8PROC_CATEGORY_LL: return GZ_LOWER;
	default: return GZ_UNCASED;
	}
}

/* ------------------------------------------------------------------- UTF-8 */

int gz_utf8_validate(const char *str, size_t len, size_t *bad)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	while (i < len) {
		/* ASCII runs, 32 and then eight bytes at a time: most news text
		 * is mostly ASCII */
		i += gz_ascii_prefix32(s + i, len - i);
		while (i + 8 <= len) {
			uint64_t w;
			memcpy(&w, s + i, 8);
			if (w & 0x8080808080808080ULL)
				break;
			i += 8;
		}
		if (i >= len)
			break;
		unsigned c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		/* the commonest sequence outside ASCII in news text (quotes,
		 * dashes, most scripts of the BMP) in one test: three bytes,
		 * neither overlong (E0 80..9F) nor a surrogate (ED A0..BF) */
		if (c >= 0xE1 && c <= 0xEF && c != 0xED && i + 3 <= len &&
		    ((s[i + 1] & 0xC0) | (s[i + 2] & 0xC0) << 8) == 0x8080) {
			i += 3;
			continue;
		}
		size_t n;
		uint32_t cp, min;
		if (c >= 0xC2 && c <= 0xDF) {
			n = 2; cp = c & 0x1F; min = 0x80;
		} else if (c >= 0xE0 && c <= 0xEF) {
			n = 3; cp = c & 0x0F; min = 0x800;
		} else if (c >= 0xF0 && c <= 0xF4) {
			n = 4; cp = c & 0x07; min = 0x10000;
		} else {
			goto invalid;
		}
		if (i + n > len)
			goto invalid;
		for (size_t k = 1; k < n; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				goto invalid;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			goto invalid;
		i += n;
	}
	return 0;
invalid:
	if (bad)
		*bad = i;
	return -1;
}

size_t gz_fold_string(const char *s, size_t len, int casefold, char *out, size_t size)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n = 0;
	char tmp[GZ_FOLD_MAX];
	while (i < len) {
		uint32_t cp;
		i += gz_utf8_decode(u + i, len - i, &cp);
		enum gz_class c = gz_fold_class(cp);
		if (c != GZ_C_WORD && c != GZ_C_SOLO && c != GZ_C_MARK)
			continue;
		size_t k = gz_fold_cp(cp, casefold, tmp);
		if (n + k <= size)
			memcpy(out + n, tmp, k);
		n += k;
	}
	return n;
}

/* ------------------------------------------------- units of offsets */

/* The code points (UTF-16 units) of one 64-bit word of the text: its
 * bytes that do not continue a sequence (10xxxxxx), and for UTF-16 the
 * 4-byte leaders (11110xxx) once more.  Bytes of value 0 count as one. */
static inline size_t word_units(uint64_t w, int utf16)
{
	const uint64_t hi = 0x8080808080808080ULL, ones = 0x0101010101010101ULL;
	if (!(w & hi))
		return 8;
	/* count the marked bytes by a multiply (x86-64's baseline has no
	 * popcnt instruction; the builtin would be a call) */
	uint64_t cont = w & hi & ~((w << 1) & hi);
	size_t units = 8 - (size_t)(((cont >> 7) * ones) >> 56);
	if (utf16) {
		uint64_t four = w & (w << 1) & (w << 2) & (w << 3) & hi;
		units += (size_t)(((four >> 7) * ones) >> 56);
	}
	return units;
}

/* The code points (UTF-16 units) of text[pos..target), text being len
 * bytes: 32 bytes a step while they are ASCII, the last few bytes in one
 * masked word when the text goes on for eight more. */
size_t gz_utf8_units(const unsigned char *s, size_t len, size_t pos, size_t target, int utf16)
{
	size_t units = 0;
	while (pos + 32 <= target) {
		size_t ascii = gz_ascii_prefix32(s + pos, target - pos);
		units += ascii;
		pos += ascii;
		if (pos + 32 > target)
			break;
		for (size_t end = pos + 32; pos < end; pos += 8) {
			uint64_t w;
			memcpy(&w, s + pos, 8);
			units += word_units(w, utf16);
		}
	}
	for (; pos + 8 <= target; pos += 8) {
		uint64_t w;
		memcpy(&w, s + pos, 8);
		units += word_units(w, utf16);
	}
	if (pos < target && pos + 8 <= len) {
		uint64_t w;
		memcpy(&w, s + pos, 8);
		size_t k = target - pos;
		/* the bytes past target become 0, each counted as one */
		units += word_units(w & (~0ULL >> (8 * (8 - k))), utf16) - (8 - k);
		pos = target;
	}
	for (; pos < target; pos++)
		if ((s[pos] & 0xC0) != 0x80)
			units += (utf16 && s[pos] >= 0xF0) ? 2 : 1;
	return units;
}
