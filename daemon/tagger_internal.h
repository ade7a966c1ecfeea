/*
 * The tagger's working state, shared by the files that make one run: the
 * scan (tagger.c), what the text says around a match (evidence.c) and the
 * choice among a span's candidates once the whole text is scanned
 * (context.c).  Not for use outside the engine.
 */
#ifndef GZ_TAGGER_INTERNAL_H
#define GZ_TAGGER_INTERNAL_H

#include "set_internal.h"
#include "tagger.h"
#include "trie.h"

#define TOKEN_MAX 1024  /* folded bytes; a longer token cannot be a name's */
#define GAP_MAX 64      /* significant folded bytes in a gap */

struct tok {
	uint32_t id;     /* vocabulary id */
	uint32_t gap;    /* gap id between the previous token and this one */
	size_t start, end;
};

struct cand {
	size_t bstart, bend;
	uint32_t name;   /* index into the set's names */
	uint32_t last;   /* index of the segment's last token in the match */
	uint32_t evidence; /* 0 or the evidence the name needs here (GZ_EVIDENCE_*) */
	uint32_t token;    /* the vocabulary id of a one-token match, else UINT32_MAX */
};

/* A candidate entry of a span.  Its regions are copied from the entry
 * while add_group has it in cache (only when the set has regions):
 * context.c reads them for every span, and an entry read again there,
 * after the whole text, is a cache miss each. */
struct alt {
	const struct gz_entry *e;
	uint32_t evidence; /* the least evidence its names matched here need */
	uint32_t country, admin1;
};

struct group {       /* a span being assembled: its entries are alts[alt_first..] */
	size_t bstart, bend;
	size_t alt_first, alt_count;
	int has_evidence;                 /* some alt may need evidence */
	uint32_t token;                   /* a one-token span's vocabulary id, else UINT32_MAX */
	uint32_t para;                    /* its paragraph: blank lines before it */
	/* set by context.c */
	enum gz_why why;
	const struct gz_entry *qualifier;
	size_t sup_first, sup_count;      /* into support[] */
	int dropped;                      /* no candidate had the evidence it needs */
};

struct boundary {
	size_t byte;
	size_t *dst;
};

struct gz_tagger {
	struct tok *toks;
	size_t ntoks, captoks;
	struct cand *cands;
	size_t ncands, capcands;
	struct group *groups;
	size_t ngroups, capgroups;
	struct alt *alts;
	size_t nalts, capalts;
	const struct gz_entry **out;      /* the spans' entries, each span's chosen first */
	size_t capout;
	const struct gz_entry **support;  /* the supporting entries of spans */
	size_t nsupport, capsupport;
	uint32_t *surnames;               /* a hash set of the tokens seen right after a
					   * capitalised word: token + 1, 0 empty */
	size_t nsurnames, capsurnames;    /* capsurnames: a power of two, or 0 */
	size_t *others;                   /* where another person's surname stands (bytes) */
	size_t nothers, capothers;
	struct gz_span *spans;
	size_t nspans, capspans;
	struct boundary *bounds;
	size_t capbounds;
	unsigned char *allowed;
	size_t capallowed;
	char cased[TOKEN_MAX * 2];
	void *ctx;                        /* context.c's scratch (struct ctx_scratch) */

	/* the run in progress */
	const struct gz_set *set;
	const struct gz_trie *trie;
	struct gz_trie_filter filter;
	const struct gz_name *names;
	const char *pool;
	const unsigned char *text;
	size_t len;
	enum gz_overlaps overlaps;
	int explain;
	size_t last_end;  /* longest: where the last match ended; no later
			   * candidate may start before it */
	uint32_t para;    /* blank lines seen so far */
	uint32_t seg_para; /* the paragraph of the segment being matched */
	int need_context; /* a span is ambiguous or needs evidence */
	int regions;      /* the set has countries or admin1s */
	int has_upper;    /* the text has a capital: -1 not known yet */
	int lang;         /* the text's language (words.h): -1 not known yet */
	int oom;
	const char *hash; /* the set's gz_set_hash, kept after the run for the answer */
};

/* Notes that token (a vocabulary id) follows a capitalised word in the text
 * ("Ray Jackson"): a name of the imported layer that is just this token is
 * then a surname as likely as a place, and needs evidence (context.c).
 * Returns -1 when out of memory. */
int gz_tagger_surname(struct gz_tagger *t, uint32_t token);
int gz_tagger_is_surname(const struct gz_tagger *t, uint32_t token);

/* Grows arr (of *cap elements of size) to hold need; 0 or -1. */
int gz_tagger_grow(void **arr, size_t *cap, size_t need, size_t size);
#define GROW(arr, n, cap, need)                                                   \
	((n) + (need) <= (cap) ? 0 : gz_tagger_grow((void **)&(arr), &(cap), (n) + (need), sizeof(*(arr))))

/* evidence.c: what the text says around a match of tokens [i, j] of the
 * segment.  Returns -1 when name nm cannot match there, 0 when it matches,
 * GZ_EVIDENCE_ANY when it needs a qualifier or support from the rest of the
 * text (context.c), GZ_EVIDENCE_QUALIFIER when only a qualifier will do. */
#define GZ_EVIDENCE_ANY 1
#define GZ_EVIDENCE_QUALIFIER 2
int gz_evidence_local(struct gz_tagger *t, const struct gz_name *nm, size_t i, size_t j,
		      size_t bstart, size_t bend);

/* Whether text[pos] starts a sentence (SPEC §8.2): only spaces, quotes and
 * brackets between it and the text's start, a line break, or . ! ? … */
int gz_text_sentence_start(const unsigned char *text, size_t pos);
/* The next token (a run of letters, marks and digits) at or after *pos:
 * [*a, *b), or 0 when there is none. */
int gz_text_next_token(const unsigned char *text, size_t len, size_t *pos, size_t *a, size_t *b);
/* Whether the letter at text[pos] is a capital (GZ_UPPER). */
int gz_text_upper_at(const unsigned char *text, size_t len, size_t pos);

/* context.c: chooses among each span's candidates (SPEC §8.4), drops the
 * spans whose candidates lack the evidence they need (§8.2), adds the name
 * parts of persons (§8.5).  0, or -1 when out of memory. */
int gz_context_resolve(struct gz_tagger *t);
void gz_context_free(struct gz_tagger *t);

#endif
