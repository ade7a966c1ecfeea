/*
 * The tokenizer's rules (SPEC §3.1-3.2), written once: what a code point
 * does, given its fold.h class, to the token or the gap it is read in.
 * Names are compiled (set.c, compile_name) and texts scanned (tagger.c, its
 * code-point-at-a-time paths and the edge punctuation of a match) with these
 * functions, so that a name cuts into the same tokens, gaps, lead and trail
 * as the text it was copied from.  (There were two copies, one per side;
 * five of the regression tests in test_regressions.c come from their
 * disagreeing.)
 *
 * The scan's ASCII fast path (fold.h's 64-byte blocks, and the tagger's
 * byte tables) does not call them: it tests bits.  test_tokenize.c checks,
 * for every byte below 0x80, that what the fast path assumes of a byte is
 * what these functions say of it.  Everything here is inline: the scan
 * calls it for every character >= 0x80.
 */
#ifndef GZ_TOKENIZE_H
#define GZ_TOKENIZE_H

#include <stddef.h>
#include <stdint.h>

#include "fold.h"

/* What a character does where it stands: inside an open token (in_token),
 * whose first character was a solo one (solo), or in a gap. */
enum gz_tok_step {
	GZ_TOK_SKIP,   /* invisible (a format character, or a mark with no
			* token to join): neither splits a token nor counts
			* in a gap */
	GZ_TOK_JOIN,   /* goes on with the open token, folded into it: a
			* letter or digit after letters or digits, a mark
			* after any token character (a solo one too) */
	GZ_TOK_START,  /* starts a token, ending the open one: a letter or
			* digit after a gap or a solo character; a solo
			* character (Han, kana, Thai) always, as scripts
			* written without spaces make each one a token */
	GZ_TOK_GAP,    /* ends the open token and stands in the gap after it
			* (or the name's lead or trail): gz_gap_step says how */
};

static inline enum gz_tok_step gz_tok_step(enum gz_class cl, int in_token, int solo)
{
	switch (cl) {
	case GZ_C_WORD:
		return in_token && !solo ? GZ_TOK_JOIN : GZ_TOK_START;
	case GZ_C_SOLO:
		return GZ_TOK_START;
	case GZ_C_MARK:
		return in_token ? GZ_TOK_JOIN : GZ_TOK_SKIP;
	case GZ_C_IGNORE:
		return GZ_TOK_SKIP;
	default:
		return GZ_TOK_GAP;
	}
}

/* Whether a character of class cl goes on with the open token (solo: it
 * started with a solo character), invisible ones included. */
static inline int gz_tok_goes_on(enum gz_class cl, int solo)
{
	return gz_tok_step(cl, 1, solo) <= GZ_TOK_JOIN;
}

/* What a character does in a gap, and in the punctuation before a name's
 * first token or after its last (which "belongs to it like a gap").
 * Whitespace, line breaks, dashes and apostrophes are interchangeable
 * there, and so not kept; any other character is kept, folded, and must be
 * in the text's gap as it is in the name's.  nl_run counts the line breaks
 * of the current run: two make a blank line, which no match may span; CR
 * LF counts once (crlf: cp is a CR and a LF follows it); U+2029 is a blank
 * line by itself; a dash, apostrophe or punctuation ends the run (the line
 * between is not blank).  Characters that gz_tok_step skips are soft here
 * too.  A gap starts with *nl_run 0. */
enum gz_gap_step {
	GZ_GAP_SOFT,   /* interchangeable, not compared */
	GZ_GAP_PUNCT,  /* significant: compared, folded by gz_tok_fold */
	GZ_GAP_BLANK,  /* soft, and a blank line: no match spans this gap */
};

/* Whether a gap keeps a character of class cl (GZ_GAP_PUNCT). */
static inline int gz_gap_keeps(enum gz_class cl)
{
	return cl == GZ_C_OTHER;
}

static inline enum gz_gap_step gz_gap_step(int *nl_run, uint32_t cp, enum gz_class cl, int crlf)
{
	if (gz_gap_keeps(cl)) {
		*nl_run = 0;
		return GZ_GAP_PUNCT;
	}
	if (cl == GZ_C_NEWLINE)
		return cp == 0x2029 || (!crlf && ++*nl_run >= 2) ? GZ_GAP_BLANK : GZ_GAP_SOFT;
	if (cl == GZ_C_SOFT)
		*nl_run = 0;
	return GZ_GAP_SOFT;
}

/* The folded form of a token's character or a gap's punctuation, as the
 * trie holds them: with full case folding, so that the scan never looks at
 * case.  A case-sensitive name compares its tokens afterwards in
 * gz_tok_fold_cased's form (marks stripped, case kept). */
static inline size_t gz_tok_fold(uint32_t cp, char *out)
{
	return gz_fold_cp(cp, 1, out);
}

static inline size_t gz_tok_fold_cased(uint32_t cp, char *out)
{
	return gz_fold_cp(cp, 0, out);
}

#endif
