/*
 * The tagger: one pass over the text that tokenizes and folds it, looking
 * each token up in the trie's vocabulary as soon as it ends.
 *
 * The pass cuts the text into segments: runs of tokens that are all in the
 * vocabulary, separated by gaps that some name also has.  No name can match
 * across a token that no name contains, a gap no name has, or a blank line,
 * so a segment is the most a match can span, and the matcher walks the trie
 * only inside segments.  On ordinary prose most tokens are not in the
 * vocabulary, segments are short, and the cost is dominated by finding,
 * folding and hashing each word once.  So the scan classifies the text 64
 * bytes at a time (fold.h's ASCII blocks, with SSE2 or AVX2): an ASCII word
 * after spaces and punctuation is found, delimited and lower-cased by bit
 * operations, hashed where it lies, and tested against the vocabulary's
 * filter; only the rest (line breaks that may make a blank line, characters
 * >= 0x80) is read a code point at a time.  Between segments the filter
 * asked is that of the tokens that start a name.
 *
 * Offsets are found in bytes; code point and UTF-16 offsets are computed at
 * the end, in one sweep over the text up to the last span boundary.
 */
#include "tagger.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fold.h"
#include "tagger_internal.h"
#include "tokenize.h"

/* ------------------------------------------------------ ASCII fast path */

/* The classes of ASCII, a byte each (fold.h's table holds four), for the
 * gap loops; and the folded form of each ASCII byte that starts a token
 * and goes on with one (tokenize.h: the letters and digits), 0 for every
 * other byte, and for those >= 0x80. */
static unsigned char ascii_class[128];
static char ascii_word[256];
#ifdef GZ_ASCII_BLOCK_AVX2
/* Whether blocks are classified with AVX2: the CPU's say, unless the
 * environment has GAZTAGD_TEST_NO_AVX2 (to test and time the SSE2 path). */
static int have_avx2;
#endif

static void ascii_init(void)
{
#ifdef GZ_ASCII_BLOCK_AVX2
	have_avx2 = gz_ascii_block_avx2_usable() && !getenv("GAZTAGD_TEST_NO_AVX2");
#endif
	for (uint32_t c = 0; c < 128; c++) {
		enum gz_class cl = gz_fold_class(c);
		char f[GZ_FOLD_MAX];
		ascii_class[c] = (unsigned char)cl;
		/* (each folds to one byte: test_tokenize.c) */
		if (gz_tok_step(cl, 0, 0) == GZ_TOK_START && gz_tok_goes_on(cl, 0) &&
		    gz_tok_fold(c, f) == 1)
			ascii_word[c] = f[0];
	}
}

/* ------------------------------------------------------- scratch buffers */

int gz_tagger_grow(void **arr, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap ? *cap : 64;
	while (c < need)
		c *= 2;
	void *p = realloc(*arr, c * size);
	if (!p)
		return -1;
	*arr = p;
	*cap = c;
	return 0;
}

/* ------------------------------------------------------------- matching */

/* A name's edge punctuation "belongs to it like a gap" (SPEC §3.2): the
 * text's characters around the tokens are read as a gap is
 * (gz_gap_step), soft ones skipped, punctuation compared, and a blank line
 * ends the match.  Returns 1 when the character takes part in the lead or
 * trail (soft: *soft set), 0 when it cannot (a token's character, or a
 * blank line). */
static int edge_step(int *nl_run, uint32_t cp, enum gz_class c, int crlf, int *soft)
{
	if (gz_tok_step(c, 0, 0) == GZ_TOK_START)
		return 0;
	enum gz_gap_step g = gz_gap_step(nl_run, cp, c, crlf);
	*soft = g == GZ_GAP_SOFT;
	return g != GZ_GAP_BLANK;
}

/* The text just before byte `at` must end with lead (folded), soft
 * characters aside.  Returns the bytes it takes (up to the lead's first
 * character), or -1.  (Not inlined, nor match_trail: few names have edge
 * punctuation, and inlined they cost the matcher's loop registers.) */
static __attribute__((noinline)) long match_lead(const unsigned char *text, size_t at,
						 const char *lead, size_t lead_len)
{
	size_t pos = at, want = lead_len;
	int nl_run = 0, soft;
	char fold[GZ_FOLD_MAX];
	while (want > 0) {
		if (pos == 0)
			return -1;
		size_t b = pos - 1;
		while (b > 0 && (text[b] & 0xC0) == 0x80)
			b--;
		uint32_t cp;
		gz_utf8_decode(text + b, pos - b, &cp);
		if (!edge_step(&nl_run, cp, gz_fold_class(cp),
			       cp == '\r' && b + 1 < at && text[b + 1] == '\n', &soft))
			return -1;
		if (soft) {
			pos = b;
			continue;
		}
		size_t k = gz_tok_fold(cp, fold);
		if (k == 0 || k > want || memcmp(lead + want - k, fold, k) != 0)
			return -1;
		want -= k;
		pos = b;
	}
	return (long)(at - pos);
}

/* The text from byte `at` must start with trail (folded), soft characters
 * aside; the bytes taken end with the trail's last character. */
static __attribute__((noinline)) long match_trail(const unsigned char *text, size_t len, size_t at,
						  const char *trail, size_t trail_len)
{
	size_t pos = at, got = 0;
	int nl_run = 0, soft;
	char fold[GZ_FOLD_MAX];
	while (got < trail_len) {
		if (pos >= len)
			return -1;
		uint32_t cp;
		size_t n = gz_utf8_decode(text + pos, len - pos, &cp);
		if (!edge_step(&nl_run, cp, gz_fold_class(cp),
			       cp == '\r' && pos + 1 < len && text[pos + 1] == '\n', &soft))
			return -1;
		if (soft) {
			pos += n;
			continue;
		}
		size_t k = gz_tok_fold(cp, fold);
		if (k == 0 || got + k > trail_len || memcmp(trail + got, fold, k) != 0)
			return -1;
		got += k;
		pos += n;
	}
	return (long)(pos - at);
}

/* Folds tokens first..last of the segment without case folding, the way
 * set.c folds a case-sensitive name, and compares.  (Characters that a
 * token skips fold to nothing.) */
static int match_case(struct gz_tagger *t, size_t first, size_t last, const char *cased,
		      size_t cased_len)
{
	size_t n = 0;
	for (size_t k = first; k <= last; k++) {
		size_t i = t->toks[k].start, end = t->toks[k].end;
		while (i < end) {
			uint32_t cp;
			i += gz_utf8_decode(t->text + i, end - i, &cp);
			if (n + GZ_FOLD_MAX > sizeof(t->cased))
				return 0;
			n += gz_tok_fold_cased(cp, t->cased + n);
		}
		t->cased[n++] = '\x1f';
	}
	return n == cased_len && memcmp(t->cased, cased, n) == 0;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct gz_entry *x = ((const struct alt *)a)->e;
	const struct gz_entry *y = ((const struct alt *)b)->e;
	if (x->priority != y->priority)
		return x->priority > y->priority ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Turns the candidates [from, to) that share one span into a group: their
 * entries, each once, best first. */
static int add_group(struct gz_tagger *t, size_t from, size_t to)
{
	if (GROW(t->groups, t->ngroups, t->capgroups, 1) ||
	    GROW(t->alts, t->nalts, t->capalts, to - from))
		return -1;
	struct group *g = &t->groups[t->ngroups++];
	*g = (struct group){ .bstart = t->cands[from].bstart, .bend = t->cands[from].bend,
			     .alt_first = t->nalts, .token = t->cands[from].token,
			     .para = t->seg_para };
	/* The candidates are sorted by name record, and an entry's names are
	 * consecutive records: one entry matched by several of its forms shows
	 * up as a run, so comparing with the last one kept dedupes in O(n) (a
	 * name shared by thousands of entries is a real gazetteer's case).  An
	 * entry needs the least evidence that one of its names here needs. */
	const struct gz_entry *last = NULL;
	for (size_t c = from; c < to; c++) {
		const struct gz_entry *e = gz_set_entry(t->set, t->names[t->cands[c].name].entry);
		uint32_t ev = t->cands[c].evidence;
		g->has_evidence |= (int)ev; /* (over all names: at worst a needless look) */
		if (e != last)
			t->alts[t->nalts++] = t->regions ? (struct alt){ e, ev, e->country, e->admin1 }
							 : (struct alt){ e, ev, 0, 0 };
		else if (ev < t->alts[t->nalts - 1].evidence)
			t->alts[t->nalts - 1].evidence = ev;
		last = e;
	}
	g->alt_count = t->nalts - g->alt_first;
	struct alt *alts = t->alts + g->alt_first;
	g->why = g->alt_count > 1 ? GZ_WHY_PRIORITY : GZ_WHY_ONLY;
	t->need_context |= g->alt_count > 1 || g->has_evidence;
	/* Name records are numbered in rank order (set.c compiles the best
	 * entries first), so candidates of one trie node come out ranked; only
	 * a span reached by two paths (edge punctuation) needs a sort. */
	size_t sorted = 1;
	while (sorted < g->alt_count && cmp_entry(&alts[sorted - 1], &alts[sorted]) <= 0)
		sorted++;
	if (sorted == g->alt_count)
		return 0;
	if (g->alt_count > 16) {
		qsort(alts, g->alt_count, sizeof(*alts), cmp_entry);
		return 0;
	}
	for (size_t a = 1; a < g->alt_count; a++) {
		struct alt e = alts[a];
		size_t b = a;
		while (b > 0 && cmp_entry(&alts[b - 1], &e) > 0) {
			alts[b] = alts[b - 1];
			b--;
		}
		alts[b] = e;
	}
	return 0;
}

static int cmp_cand_span(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	if (x->bstart != y->bstart)
		return x->bstart < y->bstart ? -1 : 1;
	if (x->bend != y->bend)
		return x->bend > y->bend ? -1 : 1;
	return x->name < y->name ? -1 : x->name > y->name;
}

/* Collects every name that matches from token i of the segment. */
static int candidates_at(struct gz_tagger *t, const struct gz_trie_nodes *nodes, size_t i)
{
	const struct gz_trie *trie = t->trie;
	uint32_t node = nodes->root_child[t->toks[i].id];
	t->ncands = 0;
	for (size_t j = i; j < t->ntoks; j++) {
		if (j > i)
			node = gz_trie_step(trie, node, t->toks[j].gap, t->toks[j].id);
		if (node == GZ_TRIE_NONE)
			break;
		const uint32_t *p = nodes->payloads + nodes->first[node];
		size_t np = nodes->first[node + 1] - nodes->first[node];
		for (size_t k = 0; k < np; k++) {
			const struct gz_name *nm = &t->names[p[k]];
			if (!t->allowed[nm->type])
				continue;
			long lead = 0, trail = 0;
			if (nm->lead_len &&
			    (lead = match_lead(t->text, t->toks[i].start, t->pool + nm->lead, nm->lead_len)) < 0)
				continue;
			if (nm->trail_len &&
			    (trail = match_trail(t->text, t->len, t->toks[j].end, t->pool + nm->trail,
						 nm->trail_len)) < 0)
				continue;
			if (nm->case_rule == GZ_CASE_SENSITIVE &&
			    !match_case(t, i, j, t->pool + nm->cased, nm->cased_len))
				continue;
			size_t bstart = t->toks[i].start - (size_t)lead, bend = t->toks[j].end + (size_t)trail;
			/* leading punctuation must not reach back into the last match */
			if (t->overlaps == GZ_OVERLAPS_LONGEST && bstart < t->last_end)
				continue;
			int evidence = 0;
			if ((nm->case_rule == GZ_CASE_PROPER ||
			     (nm->flags & (GZ_NAME_SKIP | GZ_NAME_EVIDENCE | GZ_NAME_SURNAME))) &&
			    (evidence = gz_evidence_local(t, nm, i, j, bstart, bend)) < 0)
				continue;
			if (GROW(t->cands, t->ncands, t->capcands, 1))
				return -1;
			t->cands[t->ncands++] = (struct cand){ bstart, bend, p[k], (uint32_t)j,
							       (uint32_t)evidence,
							       i == j ? t->toks[i].id : UINT32_MAX };
		}
		if (!nodes->has_children || !nodes->has_children[node])
			break;
	}
	return 0;
}

/* The groups of the candidates at token *i when each run of equal last
 * token is one span: longest takes the last run, all takes every run, the
 * longest first.  Advances *i.  Returns -1 when out of memory. */
static int flush_runs(struct gz_tagger *t, size_t *i)
{
	size_t to = t->ncands;
	while (to > 0) {
		size_t from = to - 1;
		while (from > 0 && t->cands[from - 1].last == t->cands[to - 1].last)
			from--;
		if (add_group(t, from, to)) {
			t->oom = 1;
			return -1;
		}
		if (t->overlaps == GZ_OVERLAPS_LONGEST) {
			size_t last = t->cands[from].last, end = t->cands[from].bend;
			t->last_end = end;
			*i = last + 1;
			while (*i < t->ntoks && t->toks[*i].start < end)
				(*i)++;
			return 0;
		}
		to = from;
	}
	(*i)++;
	return 0;
}

/* Matches inside the current segment, then empties it. */
static void flush_segment(struct gz_tagger *t)
{
	const struct gz_trie_nodes nodes = gz_trie_nodes(t->trie);
	size_t i = 0;
	while (i < t->ntoks && !t->oom) {
		if (candidates_at(t, &nodes, i)) {
			t->oom = 1;
			break;
		}
		if (t->ncands == 0) {
			i++;
			continue;
		}
		/* Without edge punctuation a candidate's span is fixed by its last
		 * token, and candidates come out of candidates_at by last token,
		 * each node's in rank order: the groups are runs, already in order.
		 * (A name shared by thousands of entries makes a run that long, so
		 * no sorting here is what keeps such gazetteers fast.) */
		int plain = 1;
		for (size_t a = 0; a < t->ncands && plain; a++)
			plain = t->cands[a].bstart == t->toks[i].start &&
				t->cands[a].bend == t->toks[t->cands[a].last].end;
		if (plain) {
			if (flush_runs(t, &i))
				break;
			continue;
		}
		if (t->ncands > 16)
			qsort(t->cands, t->ncands, sizeof(*t->cands), cmp_cand_span);
		for (size_t a = 1; a < t->ncands && t->ncands <= 16; a++) {
			struct cand c = t->cands[a];
			size_t b = a;
			while (b > 0 && cmp_cand_span(&t->cands[b - 1], &c) > 0) {
				t->cands[b] = t->cands[b - 1];
				b--;
			}
			t->cands[b] = c;
		}
		if (t->overlaps == GZ_OVERLAPS_LONGEST) {
			/* candidates are sorted by start, then longest first: with
			 * no lead punctuation they all start together; take the
			 * longest among those that start leftmost */
			size_t to = 1;
			while (to < t->ncands && t->cands[to].bstart == t->cands[0].bstart &&
			       t->cands[to].bend == t->cands[0].bend)
				to++;
			if (add_group(t, 0, to)) {
				t->oom = 1;
				break;
			}
			/* go on after the match */
			size_t last = t->cands[0].last, end = t->cands[0].bend;
			t->last_end = end;
			i = last + 1;
			while (i < t->ntoks && t->toks[i].start < end)
				i++;
		} else {
			size_t from = 0;
			while (from < t->ncands) {
				size_t to = from + 1;
				while (to < t->ncands && t->cands[to].bstart == t->cands[from].bstart &&
				       t->cands[to].bend == t->cands[from].bend)
					to++;
				if (add_group(t, from, to)) {
					t->oom = 1;
					break;
				}
				from = to;
			}
			i++;
		}
	}
	t->ntoks = 0;
}

/* ------------------------------------------------------------- scanning */

/* What lies between the previous token and the next: its significant
 * characters, folded (buf[0..len)), the line breaks in the current run of
 * them, and whether it holds a blank line (brk).  A gap the window skipped
 * (see scan) is passed as NULL, and read from the text only when a name may
 * go on across it, which is rarely. */
struct gap {
	size_t len;
	int nl_run, brk;
	char buf[GAP_MAX + GZ_FOLD_MAX];
};

/* A gap the window skipped, text[from..to), is ASCII with at most one line
 * break (so no blank line): its significant characters are its
 * punctuation, each its own folded form (test_tokenize.c). */
static void gap_fill(struct gap *g, const unsigned char *s, size_t from, size_t to)
{
	g->len = 0;
	g->brk = 0;
	for (size_t k = from; k < to && g->len <= GAP_MAX; k++)
		if (gz_gap_keeps(ascii_class[s[k]]))
			g->buf[g->len++] = (char)s[k];
}

/* A token that passed the vocabulary's filter: text[start..end), folded
 * fbuf[0..flen) (readable for 8 bytes more), hash h.  Extends the segment,
 * starts one or closes it.  The gap g, or when g is NULL the skipped gap
 * text[gap_start..start), is what lay between the previous token and this
 * one.  A segment never starts with a token that no name starts with:
 * nothing can match from it, and a match from a later token of the segment
 * does not look back at it. */
static void add_token(struct gz_tagger *t, uint64_t h, const char *fbuf, size_t flen, size_t start,
		      size_t end, size_t gap_start, const struct gap *g)
{
	int starts;
	int64_t id = gz_trie_scan_token(t->trie, h, fbuf, flen, &starts);
	if (id < 0) {
		if (t->ntoks)
			flush_segment(t);
		return;
	}
	int64_t gap = 0;
	if (t->ntoks) {
		struct gap skipped;
		if (!g) {
			gap_fill(&skipped, t->text, gap_start, start);
			g = &skipped;
		}
		if (g->brk || g->len > GAP_MAX)
			gap = -1;
		else if (g->len)
			gap = gz_trie_find_gap(t->trie, g->buf, g->len);
		if (gap < 0) {
			flush_segment(t);
			gap = 0;
		}
	}
	if (!t->ntoks) {
		if (!starts)
			return;
		t->seg_para = t->para; /* a segment never spans a blank line */
	}
	if (GROW(t->toks, t->ntoks, t->captoks, 1)) {
		t->oom = 1;
		return;
	}
	t->toks[t->ntoks++] = (struct tok){ (uint32_t)id, (uint32_t)gap, start, end };
}

/* Ends a token: text[start..end), folded fbuf[0..flen) as above. */
static inline void end_token(struct gz_tagger *t, struct gz_trie_filter filter, const char *fbuf,
			     size_t flen, int overflow, size_t start, size_t end, size_t gap_start,
			     const struct gap *g)
{
	if (!overflow && flen > 0) {
		uint64_t h = gz_token_hash_padded(fbuf, flen);
		if (gz_trie_filter_maybe(filter, h)) {
			add_token(t, h, fbuf, flen, start, end, gap_start, g);
			return;
		}
	}
	if (t->ntoks)
		flush_segment(t);
}

/* The gap from text[i] up to the next word character, one code point at a
 * time.  Returns where the token starts (or len); when it starts with a
 * character >= 0x80, *cp, *n and *cl describe that character. */
static size_t gap_scan(struct gz_tagger *t, const unsigned char *s, size_t len, size_t i,
		       struct gap *g, uint32_t *cpp, size_t *np, int *clp)
{
	uint32_t cp = 0;
	size_t n = 0;
	int cl = GZ_C_OTHER;
	while (i < len) {
		unsigned b = s[i];
		if (b < 0x80) {
			if (ascii_word[b])
				break;
			cp = b;
			n = 1;
			cl = ascii_class[b];
			if (cl == GZ_C_SPACE) { /* soft, and no line break: the common case */
				i++;
				continue;
			}
		} else {
			n = gz_utf8_decode(s + i, len - i, &cp);
			cl = gz_fold_class(cp);
			/* (a mark with no letter before it, such as a variation
			 * selector after an emoji, is skipped: soft in the gap) */
			if (gz_tok_step(cl, 0, 0) == GZ_TOK_START)
				break;
		}
		switch (gz_gap_step(&g->nl_run, cp, cl, cp == '\r' && i + 1 < len && s[i + 1] == '\n')) {
		case GZ_GAP_PUNCT:
			/* (ASCII punctuation is its own folded form) */
			if (g->len <= GAP_MAX)
				g->len += cp < 0x80 ? (g->buf[g->len] = (char)cp, 1)
						    : gz_tok_fold(cp, g->buf + g->len);
			break;
		case GZ_GAP_BLANK:
			t->para += (uint32_t)!g->brk; /* a new paragraph (context.c) */
			g->brk = 1;
			break;
		case GZ_GAP_SOFT:
			break;
		}
		i += n;
	}
	*cpp = cp;
	*np = n;
	*clp = cl;
	return i;
}

/* A token from text[i] that starts with a character of class cl (cp, n
 * bytes), one code point at a time: a SOLO character and its marks, or a
 * run of letters, digits and marks of any script (format characters
 * skipped), folded into fbuf.  Ends it, and returns where it ends. */
static size_t token_scan(struct gz_tagger *t, size_t i, uint32_t cp, size_t n, int cl,
			 size_t gap_start, const struct gap *g, char *fbuf)
{
	const unsigned char *s = t->text;
	size_t len = t->len, start = i, flen = 0;
	int overflow = 0;
	if (s[i] >= 0x80 && cl == GZ_C_SOLO) {
		/* (its marks fold to nothing; no ASCII byte goes on with it) */
		flen = gz_tok_fold(cp, fbuf);
		i += n;
		while (i < len && s[i] >= 0x80) {
			n = gz_utf8_decode(s + i, len - i, &cp);
			if (!gz_tok_goes_on(gz_fold_class(cp), 1))
				break;
			i += n;
		}
		end_token(t, t->filter, fbuf, flen, overflow, start, i, gap_start, g);
		return i;
	}
	for (;;) {
		char c;
		/* eight bytes a step while the text lasts: find the ASCII
		 * letters and digits among them and lower-case the letters */
		while (i + 8 <= len && flen + 8 <= TOKEN_MAX) {
			const uint64_t high = 0x8080808080808080ULL;
			uint64_t w, lower;
			memcpy(&w, s + i, 8);
			uint64_t m = gz_swar_word(w, &lower);
			memcpy(fbuf + flen, &lower, 8);
			if (m == high) {
				flen += 8;
				i += 8;
				continue;
			}
			size_t k = (size_t)__builtin_ctzll(~m & high) / 8;
			flen += k;
			i += k;
			break;
		}
		while (i < len && (c = ascii_word[s[i]])) {
			if (flen < TOKEN_MAX)
				fbuf[flen++] = c;
			else
				overflow = 1;
			i++;
		}
		if (i >= len || s[i] < 0x80)
			break;
		n = gz_utf8_decode(s + i, len - i, &cp);
		enum gz_tok_step step = gz_tok_step(gz_fold_class(cp), 1, 0);
		if (step == GZ_TOK_SKIP) {
			i += n;
			continue;
		}
		if (step != GZ_TOK_JOIN)
			break;
		if (flen + GZ_FOLD_MAX <= TOKEN_MAX)
			flen += gz_tok_fold(cp, fbuf + flen);
		else
			overflow = 1;
		i += n;
	}
	end_token(t, t->filter, fbuf, flen, overflow, start, i, gap_start, g);
	return i;
}

/* A gap with line breaks or a character >= 0x80 in it, from text[i]: read
 * one code point at a time, and the token after it too when that starts
 * with a character >= 0x80 (*done then set).  Returns where the token
 * starts, or, when done, where it ends. */
static size_t gap_slow(struct gz_tagger *t, size_t i, struct gap *g, char *fbuf, int *done)
{
	uint32_t cp;
	size_t n;
	int cl;
	g->len = 0;
	g->nl_run = g->brk = 0;
	i = gap_scan(t, t->text, t->len, i, g, &cp, &n, &cl);
	*done = i < t->len && t->text[i] >= 0x80;
	if (*done)
		i = token_scan(t, i, cp, n, cl, 0, g, fbuf);
	return i;
}

/* gz_trie_filter_maybe for a filter that is there. */
static inline int filter_hit(struct gz_trie_filter f, uint64_t h)
{
	uint64_t bits = gz_filter_bits(h);
	return (f.bits[gz_filter_word((uint32_t)h, f.mask)] & bits) == bits;
}

/* Classifies the 64 bytes from text[base] into *b; past the text's end,
 * NUL bytes stand in, marked high: the end of the text ends a token or a
 * gap there.  (Not inlined: the scan's loop would keep the classes'
 * constants in registers, and save them around every call it makes.) */
static __attribute__((noinline)) void block_at(const unsigned char *s, size_t len, size_t base,
					       struct gz_ascii_block *b)
{
	unsigned char tail[64];
	const unsigned char *p = s + base;
	if (len - base < 64) {
		memset(tail, 0, sizeof tail);
		memcpy(tail, p, len - base);
		p = tail;
	}
#ifdef GZ_ASCII_BLOCK_AVX2
	if (have_avx2)
		gz_ascii_block_avx2(p, b);
	else
#endif
		gz_ascii_block(p, b);
	if (p == tail)
		b->high |= ~0ULL << (len - base);
}

/* The scan reads the text through a 64-byte window classified at once
 * (struct gz_ascii_block): the next word character is found, and an ASCII
 * word delimited and folded, by counting bits, the window moving on when a
 * token or a gap reaches its end.  So the common token (ASCII letters and
 * digits after spaces, punctuation and at most one line break) costs a few
 * bit operations, a hash and a filter test.  A gap with two line breaks
 * (maybe a blank line) or a byte >= 0x80 in it, and a token that goes on
 * past its ASCII letters, are read one code point at a time, as they
 * always were: the window's classes decide only what is certain from one
 * byte (test_fold.c checks them against gz_fold_class). */
static void scan(struct gz_tagger *t)
{
	const unsigned char *s = t->text;
	/* (a trie without filters, not finished, lets every token through) */
	static const uint64_t pass = ~0ULL;
	const struct gz_trie_filter none = { &pass, 0 };
	struct gz_trie_filter filter = t->filter, starts = gz_trie_start_filter(t->trie);
	if (!filter.bits || !starts.bits)
		filter = starts = none;
	size_t len = t->len, i = 0, base = 0;
	char fbuf[TOKEN_MAX + GZ_FOLD_MAX];
	struct gz_ascii_block blk;
	struct gap g;
	/* cur: the window's bits from position i on.  The loop finds a
	 * position as the lowest set bit of a mask (x & -x) and keeps it so
	 * (-bit: the bits from it on): it shifts nothing by a variable count. */
	uint64_t cur = ~0ULL;
	if (len)
		block_at(s, len, 0, &blk);

	while (i < len) {
		/* the gap, up to a word character or a byte >= 0x80, and whether
		 * it has more than one line break (and so maybe a blank line) */
		size_t gap_start = i;
		uint64_t one_nl = 0, two_nl = 0; /* (as truth values) */
		uint64_t stop;
		for (;;) {
			stop = (blk.word | blk.high) & cur;
			uint64_t nl = blk.newline & cur & ((stop & -stop) - 1);
			if (nl) {
				two_nl |= (nl & (nl - 1)) | one_nl;
				one_nl = 1;
			}
			if (stop)
				break;
			/* (a window that holds the text's end stops there) */
			base += 64;
			block_at(s, len, base, &blk);
			cur = ~0ULL;
		}
		uint64_t first = stop & -stop;
		i = base + (size_t)__builtin_ctzll(first);
		if (i >= len)
			break;
		const struct gap *gp = NULL; /* NULL: text[gap_start..i) */
		if (!(blk.word & first) || two_nl) {
			int done;
			gp = &g;
			i = gap_slow(t, gap_start, &g, fbuf, &done);
			if (t->oom)
				return;
			if (i >= len)
				break;
			if (i - base >= 64) {
				base = i;
				block_at(s, len, base, &blk);
			}
			cur = ~0ULL << (i - base);
			if (done)
				continue;
			first = cur & -cur;
		}
		/* an ASCII letter or digit: the token is the run of them, unless
		 * it reaches the window's end (the window moves to its start) or
		 * goes on with a character >= 0x80 */
		uint64_t after = ~blk.word & -first;
		if (!after && i != base) {
			base = i;
			block_at(s, len, base, &blk);
			first = 1;
			after = ~blk.word;
		}
		after &= -after;
		size_t end = base + (size_t)__builtin_ctzll(after | 1ULL << 63);
		if (!after || (end < len && s[end] >= 0x80)) {
			i = token_scan(t, i, s[i], 1, GZ_C_WORD, gap_start, gp, fbuf);
			if (t->oom)
				return;
			if (i - base >= 64) {
				base = i;
				block_at(s, len, base, &blk);
			}
			cur = ~0ULL << (i - base);
		} else {
			const char *folded = blk.lower + (i - base);
			uint64_t h = gz_token_hash_padded(folded, end - i);
			/* between segments only a token that starts a name
			 * matters (add_token would drop any other) */
			if (!t->ntoks) {
				if (filter_hit(starts, h))
					add_token(t, h, folded, end - i, i, end, gap_start, gp);
			} else if (filter_hit(filter, h)) {
				add_token(t, h, folded, end - i, i, end, gap_start, gp);
			} else {
				flush_segment(t);
			}
			if (t->oom)
				return;
			i = end;
			cur = -after;
		}
	}
	if (t->ntoks && !t->oom)
		flush_segment(t);
}

/* ------------------------------------------------------------- offsets */

static int cmp_bound(const void *a, const void *b)
{
	const struct boundary *x = a, *y = b;
	return x->byte < y->byte ? -1 : x->byte > y->byte;
}

static int convert_offsets(struct gz_tagger *t, enum gz_offsets unit)
{
	size_t n = t->nspans * 2;
	for (size_t k = 0; k < t->nspans; k++) {
		t->spans[k].start = t->spans[k].byte_start;
		t->spans[k].end = t->spans[k].byte_end;
	}
	if (unit == GZ_OFFSETS_BYTE || n == 0)
		return 0;
	if (n > t->capbounds && gz_tagger_grow((void **)&t->bounds, &t->capbounds, n, sizeof(*t->bounds)))
		return -1;
	for (size_t k = 0; k < t->nspans; k++) {
		t->bounds[2 * k] = (struct boundary){ t->spans[k].byte_start, &t->spans[k].start };
		t->bounds[2 * k + 1] = (struct boundary){ t->spans[k].byte_end, &t->spans[k].end };
	}
	int sorted = 1;
	for (size_t k = 1; k < n && sorted; k++)
		sorted = t->bounds[k - 1].byte <= t->bounds[k].byte;
	if (!sorted) /* overlaps=all: ends are not in order */
		qsort(t->bounds, n, sizeof(*t->bounds), cmp_bound);
	size_t pos = 0, units = 0;
	for (size_t k = 0; k < n; k++) {
		size_t target = t->bounds[k].byte;
		units += gz_utf8_units(t->text, t->len, pos, target, unit == GZ_OFFSETS_UTF16);
		pos = target;
		*t->bounds[k].dst = units;
	}
	return 0;
}

/* ------------------------------------------------------ API implementation */

void gz_tag_options_init(struct gz_tag_options *o)
{
	o->overlaps = GZ_OVERLAPS_LONGEST;
	o->offsets = GZ_OFFSETS_CODEPOINT;
	o->types = NULL;
	o->explain = 0;
}

int gz_overlaps_parse(const char *s, enum gz_overlaps *out, struct gz_error *err)
{
	if (strcmp(s, "longest") == 0)
		*out = GZ_OVERLAPS_LONGEST;
	else if (strcmp(s, "all") == 0)
		*out = GZ_OVERLAPS_ALL;
	else
		return gz_error_set(err, GZ_EINVAL,
				    "bad value '%.40s' for overlaps (expected longest or all)", s);
	return 0;
}

int gz_offsets_parse(const char *s, enum gz_offsets *out, struct gz_error *err)
{
	if (strcmp(s, "codepoint") == 0)
		*out = GZ_OFFSETS_CODEPOINT;
	else if (strcmp(s, "utf16") == 0)
		*out = GZ_OFFSETS_UTF16;
	else if (strcmp(s, "byte") == 0)
		*out = GZ_OFFSETS_BYTE;
	else
		return gz_error_set(err, GZ_EINVAL,
				    "bad value '%.40s' for offsets (expected codepoint, utf16 or byte)", s);
	return 0;
}

const char *gz_offsets_name(enum gz_offsets o)
{
	return o == GZ_OFFSETS_UTF16 ? "utf16" : o == GZ_OFFSETS_BYTE ? "byte" : "codepoint";
}

const char *gz_overlaps_name(enum gz_overlaps o)
{
	return o == GZ_OVERLAPS_ALL ? "all" : "longest";
}

struct gz_tagger *gz_tagger_new(void)
{
	gz_fold_init();
	static int ascii_done;
	if (!__atomic_load_n(&ascii_done, __ATOMIC_ACQUIRE)) {
		ascii_init(); /* idempotent: racing threads write the same bytes */
		__atomic_store_n(&ascii_done, 1, __ATOMIC_RELEASE);
	}
	return calloc(1, sizeof(struct gz_tagger));
}

void gz_tagger_free(struct gz_tagger *t)
{
	if (!t)
		return;
	free(t->toks);
	free(t->cands);
	free(t->groups);
	free(t->alts);
	free(t->out);
	free(t->support);
	free(t->surnames);
	free(t->others);
	gz_context_free(t);
	free(t->spans);
	free(t->bounds);
	free(t->allowed);
	free(t);
}

/* Resolves the comma-separated type filter into t->allowed. */
static int resolve_types(struct gz_tagger *t, const struct gz_set *set, const char *types,
			 struct gz_error *err)
{
	size_t nt = gz_set_type_count(set);
	if (GROW(t->allowed, 0, t->capallowed, nt + 1))
		return gz_error_set(err, GZ_ENOMEM, "out of memory");
	int any = 0;
	if (types) {
		memset(t->allowed, 0, nt + 1);
		const char *p = types;
		while (*p) {
			const char *q = strchr(p, ',');
			size_t l = q ? (size_t)(q - p) : strlen(p);
			while (l && (*p == ' '))
				p++, l--;
			while (l && p[l - 1] == ' ')
				l--;
			if (l) {
				any = 1;
				int found = 0;
				for (size_t k = 0; k < nt; k++) {
					const char *name = gz_set_type(set, k);
					if (strlen(name) == l && memcmp(name, p, l) == 0) {
						t->allowed[k] = 1;
						found = 1;
					}
				}
				if (!found) {
					char known[256] = "";
					size_t kl = 0;
					for (size_t k = 0; k < nt && kl < sizeof(known) - 1; k++)
						kl += (size_t)snprintf(known + kl, sizeof(known) - kl, "%s%s",
								       k ? ", " : "", gz_set_type(set, k));
					return gz_error_set(err, GZ_EINVAL,
							    "unknown type '%.*s' in types (loaded types: %s)",
							    (int)(l > 60 ? 60 : l), p, nt ? known : "none");
				}
			}
			if (!q)
				break;
			p = q + 1;
		}
	}
	if (!any)
		memset(t->allowed, 1, nt + 1);
	return 0;
}

int gz_tagger_run(struct gz_tagger *t, const struct gz_set *set, const char *text,
		  size_t len, const struct gz_tag_options *opts, struct gz_error *err)
{
	struct gz_tag_options defaults;
	if (!opts) {
		gz_tag_options_init(&defaults);
		opts = &defaults;
	}
	t->nspans = t->ngroups = t->nalts = t->ntoks = t->ncands = 0;
	t->hash = gz_set_hash(set);
	size_t bad;
	if (gz_utf8_validate(text, len, &bad) != 0) {
		if (err)
			err->offset = bad;
		return gz_error_set(err, GZ_EUTF8, "invalid UTF-8 at byte %zu", bad);
	}
	int r = resolve_types(t, set, opts->types, err);
	if (r)
		return r;
	t->set = set;
	t->trie = gz_set_trie(set);
	t->filter = gz_trie_token_filter(t->trie);
	t->names = gz_set_names(set);
	t->pool = gz_set_pool(set);
	t->text = (const unsigned char *)text;
	t->len = len;
	t->overlaps = opts->overlaps;
	t->explain = opts->explain;
	t->last_end = 0;
	t->has_upper = -1;
	t->lang = -1;
	t->oom = 0;
	t->nsupport = 0;
	if (t->nsurnames)
		memset(t->surnames, 0, t->capsurnames * sizeof(*t->surnames));
	t->nsurnames = 0;
	t->nothers = 0;
	t->para = t->seg_para = 0;
	t->need_context = 0;
	t->regions = gz_set_region_count(set) > 0;
	scan(t);
	if (t->oom)
		return gz_error_set(err, GZ_ENOMEM, "out of memory while tagging");
	if (opts->overlaps == GZ_OVERLAPS_ALL && t->ngroups > 1) {
		/* groups come per start token; lead punctuation can reorder starts */
		for (size_t k = 1; k < t->ngroups; k++) {
			struct group g = t->groups[k];
			size_t j = k;
			while (j > 0 && (t->groups[j - 1].bstart > g.bstart ||
					 (t->groups[j - 1].bstart == g.bstart && t->groups[j - 1].bend < g.bend))) {
				t->groups[j] = t->groups[j - 1];
				j--;
			}
			t->groups[j] = g;
		}
	}
	if (gz_context_resolve(t) || GROW(t->spans, 0, t->capspans, t->ngroups) ||
	    GROW(t->out, 0, t->capout, t->nalts))
		return gz_error_set(err, GZ_ENOMEM, "out of memory while tagging");
	size_t n = 0;
	for (size_t k = 0; k < t->ngroups; k++) {
		const struct group *g = &t->groups[k];
		if (g->dropped)
			continue;
		const struct gz_entry **out = t->out + g->alt_first;
		for (size_t a = 0; a < g->alt_count; a++)
			out[a] = t->alts[g->alt_first + a].e;
		t->spans[n++] = (struct gz_span){
			0, 0, g->bstart, g->bend, out[0], out + 1, g->alt_count - 1,
			g->why, g->qualifier, g->sup_count ? t->support + g->sup_first : NULL,
			g->sup_count };
	}
	t->nspans = n;
	if (convert_offsets(t, opts->offsets))
		return gz_error_set(err, GZ_ENOMEM, "out of memory while tagging");
	t->set = NULL;
	return 0;
}

/* Open addressing, at most half full: a hostile text can name thousands of
 * people, and a list would make each new one cost them all. */
static size_t surname_slot(const uint32_t *slots, size_t cap, uint32_t token)
{
	size_t j = (size_t)gz_mix64(token) & (cap - 1);
	while (slots[j] && slots[j] != token + 1)
		j = (j + 1) & (cap - 1);
	return j;
}

int gz_tagger_is_surname(const struct gz_tagger *t, uint32_t token)
{
	return t->nsurnames && t->surnames[surname_slot(t->surnames, t->capsurnames, token)];
}

int gz_tagger_surname(struct gz_tagger *t, uint32_t token)
{
	if (gz_tagger_is_surname(t, token))
		return 0;
	if (2 * (t->nsurnames + 1) > t->capsurnames) {
		size_t cap = t->capsurnames ? 2 * t->capsurnames : 64;
		uint32_t *slots = calloc(cap, sizeof(*slots));
		if (!slots) {
			t->oom = 1;
			return -1;
		}
		for (size_t k = 0; k < t->capsurnames; k++)
			if (t->surnames[k])
				slots[surname_slot(slots, cap, t->surnames[k] - 1)] = t->surnames[k];
		free(t->surnames);
		t->surnames = slots;
		t->capsurnames = cap;
	}
	t->surnames[surname_slot(t->surnames, t->capsurnames, token)] = token + 1;
	t->nsurnames++;
	return 0;
}

int gz_tagger_explained(const struct gz_tagger *t)
{
	return t->explain;
}

const char *gz_why_name(enum gz_why why)
{
	switch (why) {
	case GZ_WHY_QUALIFIER: return "qualifier";
	case GZ_WHY_SUPPORT: return "support";
	case GZ_WHY_NAME_PART: return "name-part";
	case GZ_WHY_PRIORITY: return "priority";
	default: return "only";
	}
}

const char *gz_tagger_gazetteers(const struct gz_tagger *t)
{
	return t->hash;
}

size_t gz_tagger_span_count(const struct gz_tagger *t)
{
	return t->nspans;
}

const struct gz_span *gz_tagger_spans(const struct gz_tagger *t)
{
	return t->spans;
}
