/*
 * What the text says around a match (SPEC §8.1-8.2): capitals, sentence
 * starts and capitalised neighbours.  These tests look only at the few
 * characters around one match, so the scan applies them to each candidate
 * as it is found, and a name they refuse never takes the place of a shorter
 * one that would have matched.  What needs the whole text (qualifiers,
 * support) is context.c's.
 *
 * Nothing here runs for a name whose case is not `proper` and whose file
 * and entry ask for no evidence: the scan tests one byte of the name record
 * first.  The two facts of a whole text that the rules need, whether it has
 * a capital at all and its language, are found at most once per run, and
 * only when a candidate asks.
 */
#include "tagger_internal.h"

#include <string.h>

#include "fold.h"
#include "words.h"

/* ------------------------------------------------------------ characters */

static uint32_t cp_at(const unsigned char *s, size_t len, size_t pos)
{
	uint32_t cp;
	gz_utf8_decode(s + pos, len - pos, &cp);
	return cp;
}

/* The start of the code point that ends at pos (pos > 0). */
static size_t cp_before(const unsigned char *s, size_t pos)
{
	size_t b = pos - 1;
	while (b > 0 && (s[b] & 0xC0) == 0x80)
		b--;
	return b;
}

static int is_word_class(enum gz_class c)
{
	return c == GZ_C_WORD || c == GZ_C_SOLO || c == GZ_C_MARK;
}

static int is_opening_quote(uint32_t cp)
{
	switch (cp) {
	case '(': case '[': case '{': case 0x201C: case 0x2018: case 0x00AB: case 0x201E:
	case 0x201A: case 0x2039: case 0x300C: case 0x300E:
		return 1;
	default:
		return 0;
	}
}

static int is_closing_quote(uint32_t cp)
{
	switch (cp) {
	case ')': case ']': case '}': case 0x201D: case 0x2019: case 0x00BB: case 0x203A:
	case 0x300D: case 0x300F:
		return 1;
	default:
		return 0;
	}
}

int gz_text_upper_at(const unsigned char *text, size_t len, size_t pos)
{
	if (pos >= len)
		return 0;
	if (text[pos] < 0x80)
		return gz_fold_case_ascii(text[pos]) == GZ_UPPER;
	return gz_fold_case(cp_at(text, len, pos)) == GZ_UPPER;
}

int gz_text_sentence_start(const unsigned char *text, size_t pos)
{
	while (pos > 0) {
		size_t b = cp_before(text, pos);
		uint32_t cp = cp_at(text, pos, b);
		enum gz_class c = gz_fold_class(cp);
		if (c == GZ_C_NEWLINE)
			return 1;
		if (cp == '.' || cp == '!' || cp == '?' || cp == 0x2026 /* … */)
			return 1;
		if (is_opening_quote(cp))
			return 1;
		if (cp == '"' || cp == '\'') {
			/* a straight quote opens when a space or nothing is before it */
			if (b == 0)
				return 1;
			enum gz_class before = gz_fold_class(cp_at(text, b, cp_before(text, b)));
			if (before == GZ_C_SPACE || before == GZ_C_NEWLINE)
				return 1;
		} else if (c != GZ_C_SPACE && c != GZ_C_IGNORE && !is_closing_quote(cp)) {
			return 0;
		}
		pos = b;
	}
	return 1;
}

int gz_text_next_token(const unsigned char *text, size_t len, size_t *pos, size_t *a, size_t *b)
{
	size_t i = *pos;
	while (i < len) {
		uint32_t cp;
		size_t n = gz_utf8_decode(text + i, len - i, &cp);
		enum gz_class c = gz_fold_class(cp);
		if (c == GZ_C_WORD || c == GZ_C_SOLO)
			break;
		i += n;
	}
	if (i >= len) {
		*pos = len;
		return 0;
	}
	*a = i;
	while (i < len) {
		uint32_t cp;
		size_t n = gz_utf8_decode(text + i, len - i, &cp);
		enum gz_class c = gz_fold_class(cp);
		if (!is_word_class(c) && c != GZ_C_IGNORE)
			break;
		i += n;
	}
	*b = *pos = i;
	return 1;
}

/* A capital followed by lowercase letters only, at least one ("Medical",
 * not "A", "IN" or "McCain": a name of one token next to it is part of a
 * longer name, SPEC §8.2). */
static int capitalised_word(const unsigned char *text, size_t a, size_t b)
{
	size_t i = a;
	uint32_t cp;
	i += gz_utf8_decode(text + i, b - i, &cp);
	if (gz_fold_case(cp) != GZ_UPPER)
		return 0;
	int lower = 0;
	while (i < b) {
		i += gz_utf8_decode(text + i, b - i, &cp);
		enum gz_letter_case lc = gz_fold_case(cp);
		if (lc == GZ_UPPER)
			return 0;
		if (lc == GZ_LOWER)
			lower = 1;
		else if (gz_fold_class(cp) != GZ_C_MARK && gz_fold_class(cp) != GZ_C_IGNORE)
			return 0; /* a digit or an uncased letter: not a capitalised word */
	}
	return lower;
}

/* Spaces and at most one line break: what lies between two words of one
 * name.  Returns where it stops, going back from pos (dir < 0) or on. */
static size_t skip_blank(const unsigned char *text, size_t len, size_t pos, int dir)
{
	int lines = 0;
	for (;;) {
		if (dir < 0 ? pos == 0 : pos >= len)
			return pos;
		size_t at = dir < 0 ? cp_before(text, pos) : pos;
		uint32_t cp;
		size_t n = gz_utf8_decode(text + at, len - at, &cp);
		enum gz_class c = gz_fold_class(cp);
		if (c == GZ_C_NEWLINE) {
			if (cp != '\r' && ++lines > 1)
				return pos;
		} else if (c != GZ_C_SPACE) {
			return pos;
		}
		pos = dir < 0 ? at : at + n;
	}
}

/* Whether the word [a, b) is "of" and a capitalised word follows it. */
static int of_capitalised(const unsigned char *text, size_t len, size_t a, size_t b)
{
	if (b - a != 2 || text[a] != 'o' || text[a + 1] != 'f')
		return 0;
	size_t q = skip_blank(text, len, b, 1), c, d;
	return q > b && gz_text_next_token(text, len, &q, &c, &d) && c == skip_blank(text, len, b, 1) &&
	       capitalised_word(text, c, d);
}

/* The word right before bstart, across spaces and at most one line break:
 * [*a, *e), or 0 when there is none. */
static int word_before(const unsigned char *text, size_t len, size_t bstart, size_t *a, size_t *e)
{
	size_t p = skip_blank(text, len, bstart, -1);
	if (p == bstart || p == 0)
		return 0;
	*e = *a = p;
	while (*a > 0) {
		size_t b = cp_before(text, *a);
		enum gz_class c = gz_fold_class(cp_at(text, len, b));
		if (!is_word_class(c) && c != GZ_C_IGNORE)
			break;
		*a = b;
	}
	return *a < *e;
}

/* Whether the match [bstart, bend) is part of a longer name: a capitalised
 * word right before it (that does not start its sentence: NEIGHBOUR_BEFORE),
 * or right after it, or "of" and a capitalised word after it ("University
 * of Florida"): NEIGHBOUR_AFTER.  0 when none. */
#define NEIGHBOUR_BEFORE 1
#define NEIGHBOUR_AFTER 2
static int capitalised_neighbour(const unsigned char *text, size_t len, size_t bstart, size_t bend)
{
	size_t a, e;
	if (word_before(text, len, bstart, &a, &e) && capitalised_word(text, a, e) &&
	    !gz_text_sentence_start(text, a))
		return NEIGHBOUR_BEFORE;
	size_t q = skip_blank(text, len, bend, 1);
	if (q > bend && q < len) {
		size_t a, b, pos = q;
		if (gz_text_next_token(text, len, &pos, &a, &b) && a == q &&
		    (capitalised_word(text, a, b) || of_capitalised(text, len, a, b)))
			return NEIGHBOUR_AFTER;
	}
	return 0;
}

/* ---------------------------------------------------------- text facts */

static int text_has_upper(struct gz_tagger *t)
{
	if (t->has_upper < 0) {
		t->has_upper = 0;
		for (size_t i = 0; i < t->len && !t->has_upper;) {
			if (t->text[i] < 0x80) {
				t->has_upper = gz_fold_case_ascii(t->text[i]) == GZ_UPPER;
				i++;
				continue;
			}
			uint32_t cp;
			i += gz_utf8_decode(t->text + i, t->len - i, &cp);
			t->has_upper = gz_fold_case(cp) == GZ_UPPER;
		}
	}
	return t->has_upper;
}

static int text_lang(struct gz_tagger *t)
{
	if (t->lang < 0)
		t->lang = (int)gz_words_detect(t->text, t->len);
	return t->lang;
}

/* Whether the word [a, b) of the text starts like the first word of one of
 * e's names of two words or more: "Dmitri" before "Peskov" is a spelling of
 * "Dmitry", not another person.  Three folded bytes are enough to tell a
 * first name from another. */
static int first_name_of(const struct gz_entry *e, const unsigned char *text, size_t a, size_t b)
{
	char w[GZ_FOLD_MAX * 4], f[GZ_FOLD_MAX * 4];
	size_t wl = gz_fold_string((const char *)text + a, b - a, 1, w, sizeof w);
	for (size_t k = 0; k <= e->alias_count; k++) {
		const unsigned char *form = (const unsigned char *)(gz_entry_form(e, k));
		size_t len = strlen((const char *)form), pos = 0, s1, e1, s2, e2;
		if (!gz_text_next_token(form, len, &pos, &s1, &e1) ||
		    !gz_text_next_token(form, len, &pos, &s2, &e2))
			continue; /* one word: no first name */
		size_t fl = gz_fold_string((const char *)form + s1, e1 - s1, 1, f, sizeof f);
		size_t n = fl < 3 ? fl : 3;
		if (wl >= n && fl <= sizeof f && wl <= sizeof w && memcmp(w, f, n) == 0)
			return 1;
	}
	return 0;
}

/* A person's one-word name right after a first name that is not the
 * person's ("Marcus Harris", "Tanya Johnson" against a gazetteer's
 * "Harris" for Kamala Harris): another person.  A first name is a
 * capitalised word that is not a common word of the text's language
 * ("President Harris", "When Johnson" stay) nor a title without a vowel
 * ("Mr Johnson").
 * Not in SPEC §8: README "Surnames". */
static int another_persons_surname(struct gz_tagger *t, const struct gz_name *nm, size_t bstart)
{
	size_t a, b;
	if (!word_before(t->text, t->len, bstart, &a, &b) || !capitalised_word(t->text, a, b))
		return 0;
	char w[GZ_FOLD_MAX * 4];
	size_t wl = gz_fold_string((const char *)t->text + a, b - a, 1, w, sizeof w);
	if (wl > sizeof w || gz_words_common(w, wl) >> text_lang(t) & 1)
		return 0;
	/* British titles have no period and no vowel: Mr, Mrs, Dr, St (ASCII
	 * words only: folded, their length is unchanged) */
	size_t v = 0;
	while (v < wl && !memchr("aeiouy", w[v], 6))
		v++;
	if (v == wl && (size_t)(b - a) == wl)
		return 0;
	return !first_name_of(gz_set_entry(t->set, nm->entry), t->text, a, b);
}

/* ------------------------------------------------------------------ API */

int gz_evidence_local(struct gz_tagger *t, const struct gz_name *nm, size_t i, size_t j,
		      size_t bstart, size_t bend)
{
	const unsigned char *text = t->text;
	if (nm->case_rule == GZ_CASE_PROPER && nm->cased && text_has_upper(t)) {
		/* The name's first capitalised word is capitalised in the text.
		 * SPEC §8.1 says every capitalised word, but also that "Kyiv
		 * Oblast" needs only "Kyiv": the example is the rule we follow
		 * (README "Case"), and "Kyiv oblast" matches. */
		size_t k = i + (size_t)__builtin_ctz(nm->cased);
		if (k <= j && !gz_text_upper_at(text, t->len, t->toks[k].start))
			return -1;
	}
	if ((nm->flags & GZ_NAME_SURNAME) && another_persons_surname(t, nm, bstart)) {
		/* and the same word elsewhere in the text is that other person;
		 * nor is this one a name part (context.c) */
		gz_tagger_surname(t, t->toks[i].id);
		if (GROW(t->others, t->nothers, t->capothers, 1))
			t->oom = 1;
		else
			t->others[t->nothers++] = bstart;
		return -1;
	}
	if (!(nm->flags & (GZ_NAME_SKIP | GZ_NAME_EVIDENCE)))
		return 0;
	int needs = (nm->flags & GZ_NAME_EVIDENCE) ||
		    (nm->common_langs && (nm->common_langs >> text_lang(t) & 1));
	if (needs && !gz_text_upper_at(text, t->len, t->toks[i].start))
		return -1;
	/* The first word of a sentence is capitalised whatever it is: there
	 * only a qualifier is evidence enough ("Paris, Texas, is ..."), which
	 * SPEC §8.2 does not allow for; README "Evidence". */
	if (needs && gz_text_sentence_start(text, bstart))
		needs = GZ_EVIDENCE_QUALIFIER;
	if ((nm->flags & (GZ_NAME_SKIP | GZ_NAME_ONE_TOKEN)) == (GZ_NAME_SKIP | GZ_NAME_ONE_TOKEN)) {
		int side = capitalised_neighbour(text, t->len, bstart, bend);
		/* "Ray Jackson": the token is a surname in this text (context.c) */
		if (side == NEIGHBOUR_BEFORE && gz_tagger_surname(t, t->toks[i].id))
			return -1;
		if (side)
			return -1;
	}
	return needs;
}
