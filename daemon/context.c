/*
 * Context (SPEC §8.2, §8.4, §8.5): once the whole text is scanned, choose
 * each span's entry among its candidates, drop the spans whose candidates
 * all lack the evidence they need, and tag the later last names of persons
 * named in full.
 *
 * The choice reads the spans next to it (a qualifier: "Paris, Texas") and
 * the text's other spans (support: "Georgia" beside "Tbilisi").  A span is
 * settled on a country (or admin1) when all its candidates that need no
 * evidence agree on it; a table indexed by region id counts the settled
 * spans of each region, with the first few of them kept to explain the
 * choice.  Support is weighed in the span's paragraph first, and in the
 * whole text only when the paragraph does not decide: a story that names
 * Washington in one paragraph and Georgian volunteers from Tbilisi in the
 * next means the country in the second.  (SPEC §8.4 counts the whole text;
 * the paragraph first is our refinement, README "Context".)  So choosing
 * costs a look at the next span and a few table reads per candidate, and a
 * text whose spans each have one candidate that needs no evidence skips
 * all of it.
 *
 * A candidate that needs evidence (§8.2) has it from a qualifier, or from a
 * settled span of its own admin1.  Spans made only of such candidates settle
 * nothing, so two unknown villages never vouch for each other.
 */
#include "tagger_internal.h"

#include <stdlib.h>
#include <string.h>

#include "fold.h"
#include "words.h"

#define FIRST_KEPT 4     /* supporting spans remembered per region */
#define QUAL_KEYS 16     /* regions a qualifying span can name */
#define QUAL_LOOKAHEAD 64 /* nested spans (overlaps=all) passed over to the next one */
#define PART_MAX 64      /* folded bytes of a last name */
#define PART_RECENT 16   /* full names a name part looks back at */

struct region_count {
	uint32_t count;
	uint32_t first[FIRST_KEPT];  /* group indices */
};

struct last_name {       /* the last token of a person's full name in the text */
	uint64_t hash;
	char fold[PART_MAX];
	size_t len;
	const struct gz_entry *entry;
	size_t end;          /* where the full name ended */
};

/* Settled spans counted by region id: all zero between uses. */
struct region_table {
	struct region_count *counts;
	size_t cap;
	uint32_t *touched;             /* region ids counted */
	size_t ntouched, captouched;
};

struct ctx_scratch {
	struct region_table text, para; /* the whole text's, the paragraph's */
	uint32_t *settled;             /* per group: country, admin1 (0: none) */
	size_t capsettled;
	struct last_name *names;
	size_t nnames, capnames;
	struct group *added;           /* name-part spans, in text order */
	size_t nadded, capadded;
	uint64_t *full;                /* by entry index: named by a span of more than
					* one word (all zero between runs) */
	size_t capfull;
};

/* --------------------------------------------------------------- support */

static int table_size(struct region_table *rt, size_t nreg)
{
	if (nreg <= rt->cap)
		return 0;
	struct region_count *r = realloc(rt->counts, nreg * sizeof(*r));
	if (!r)
		return -1;
	memset(r + rt->cap, 0, (nreg - rt->cap) * sizeof(*r));
	rt->counts = r;
	rt->cap = nreg;
	return 0;
}

static void table_clear(struct region_table *rt)
{
	for (size_t i = 0; i < rt->ntouched; i++)
		rt->counts[rt->touched[i]] = (struct region_count){ 0 };
	rt->ntouched = 0;
}

static void table_free(struct region_table *rt)
{
	free(rt->counts);
	free(rt->touched);
}

static int count_region(struct region_table *rt, uint32_t r, size_t k)
{
	if (!r)
		return 0;
	struct region_count *rc = &rt->counts[r];
	if (rc->count == 0) {
		if (GROW(rt->touched, rt->ntouched, rt->captouched, 1))
			return -1;
		rt->touched[rt->ntouched++] = r;
	}
	if (rc->count < FIRST_KEPT)
		rc->first[rc->count] = (uint32_t)k;
	rc->count++;
	return 0;
}

/* Counts group k's settled regions in rt. */
static int count_group(struct ctx_scratch *x, struct region_table *rt, size_t k)
{
	return count_region(rt, x->settled[2 * k], k) || count_region(rt, x->settled[2 * k + 1], k);
}

/* How many other spans of rt are settled on region r. */
static uint32_t support(const struct ctx_scratch *x, const struct region_table *rt, uint32_t r,
			size_t k)
{
	if (!r)
		return 0;
	uint32_t n = rt->counts[r].count;
	if (x->settled[2 * k] == r || x->settled[2 * k + 1] == r)
		n--; /* the span itself */
	return n;
}

/* The entry a settled span stands for: its first candidate that needs no
 * evidence (they all share the region). */
static const struct gz_entry *settled_entry(const struct gz_tagger *t, size_t h)
{
	const struct group *g = &t->groups[h];
	for (size_t a = 0; a < g->alt_count; a++)
		if (!t->alts[g->alt_first + a].evidence)
			return t->alts[g->alt_first + a].e;
	return t->alts[g->alt_first].e;
}

/* Keeps the entries of the spans of rt settled on the chosen entry's
 * regions, for explain=true. */
static int keep_supporters(struct gz_tagger *t, const struct region_table *rt, size_t k,
			   const struct gz_entry *e)
{
	struct group *g = &t->groups[k];
	g->sup_first = t->nsupport;
	uint32_t regions[2] = { e->country, e->admin1 };
	for (int r = 0; r < 2; r++) {
		if (!regions[r])
			continue;
		const struct region_count *rc = &rt->counts[regions[r]];
		for (uint32_t i = 0; i < rc->count && i < FIRST_KEPT; i++) {
			if (rc->first[i] == k)
				continue;
			const struct gz_entry *s = settled_entry(t, rc->first[i]);
			int seen = 0;
			for (size_t j = g->sup_first; j < t->nsupport; j++)
				seen |= t->support[j] == s;
			if (seen || t->nsupport - g->sup_first >= GZ_SUPPORT_MAX)
				continue;
			if (GROW(t->support, t->nsupport, t->capsupport, 1))
				return -1;
			t->support[t->nsupport++] = s;
		}
	}
	g->sup_count = t->nsupport - g->sup_first;
	return 0;
}

/* ------------------------------------------------------------ qualifiers */

/* Between two spans, only spaces and one comma or opening parenthesis:
 * "Paris, Texas", "Paris (Texas)". */
static int qualifier_gap(const unsigned char *s, size_t from, size_t to)
{
	int marks = 0;
	for (size_t i = from; i < to; i++) {
		if (s[i] == ',' || s[i] == '(')
			marks++;
		else if (s[i] != ' ' && s[i] != '\t')
			return 0;
	}
	return marks == 1;
}

/* The regions named by the span after group k, when it qualifies k: each
 * candidate's admin1 (or, without one, its country) and the region its id
 * names.  Returns how many, with the entry that named each. */
static size_t qualifier_keys(const struct gz_tagger *t, size_t k, uint32_t *keys,
			     const struct gz_entry **by)
{
	const struct group *g = &t->groups[k];
	size_t h = k + 1;
	while (h < t->ngroups && h <= k + QUAL_LOOKAHEAD && t->groups[h].bstart < g->bend)
		h++;
	if (h >= t->ngroups || t->groups[h].bstart < g->bend ||
	    !qualifier_gap(t->text, g->bend, t->groups[h].bstart))
		return 0;
	const struct group *q = &t->groups[h];
	size_t n = 0;
	for (size_t a = 0; a < q->alt_count && n + 2 <= QUAL_KEYS; a++) {
		const struct alt *al = &t->alts[q->alt_first + a];
		if (al->evidence)
			continue;
		uint32_t r = al->admin1 ? al->admin1 : al->country;
		if (r) {
			keys[n] = r;
			by[n++] = al->e;
		}
		if (al->e->id_region) {
			keys[n] = al->e->id_region;
			by[n++] = al->e;
		}
	}
	return n;
}

/* ---------------------------------------------------------------- choice */

/* Whether candidate a of group k may match: it needs no evidence, or a
 * qualifier chose it, or the text has a settled span of its admin1 (and it
 * needs no qualifier). */
static int may_match(const struct ctx_scratch *x, const struct alt *alts, size_t a, size_t chosen,
		     size_t k)
{
	return !alts[a].evidence || a == chosen ||
	       (alts[a].evidence != GZ_EVIDENCE_QUALIFIER && support(x, &x->text, alts[a].admin1, k));
}

/* The candidate that may match with the most support in rt (the first of
 * equals, so rank decides ties), and the best and the least support. */
static size_t best_supported(const struct ctx_scratch *x, const struct region_table *rt,
			     const struct alt *alts, size_t n, size_t k, uint32_t *best_score,
			     uint32_t *min_score)
{
	size_t best = n;
	*best_score = 0;
	*min_score = UINT32_MAX;
	for (size_t a = 0; a < n; a++) {
		if (!may_match(x, alts, a, n, k))
			continue;
		uint32_t score = support(x, rt, alts[a].country, k) + support(x, rt, alts[a].admin1, k);
		if (best == n || score > *best_score) {
			best = a;
			*best_score = score;
		}
		if (score < *min_score)
			*min_score = score;
	}
	return best;
}

/* Chooses group k's entry and puts it first, the others that may match
 * staying in rank order; or drops the group when no candidate may match. */
static int choose(struct gz_tagger *t, size_t k)
{
	struct ctx_scratch *x = t->ctx;
	struct group *g = &t->groups[k];
	struct alt *alts = t->alts + g->alt_first;
	size_t n = g->alt_count;
	uint32_t keys[QUAL_KEYS];
	const struct gz_entry *by[QUAL_KEYS];
	size_t nkeys = qualifier_keys(t, k, keys, by);

	size_t chosen = n;
	for (size_t a = 0; a < n && nkeys && chosen == n; a++)
		for (size_t q = 0; q < nkeys; q++)
			if (keys[q] == alts[a].country || keys[q] == alts[a].admin1) {
				chosen = a;
				g->why = GZ_WHY_QUALIFIER;
				g->qualifier = by[q];
				break;
			}

	size_t eligible = 0;
	for (size_t a = 0; a < n; a++)
		eligible += may_match(x, alts, a, chosen, k);
	if (!eligible) {
		g->dropped = 1;
		return 0;
	}
	if (chosen == n) {
		/* the best supported, in the paragraph or else in the text */
		const struct region_table *rt = &x->para;
		uint32_t best_score, min_score;
		chosen = best_supported(x, rt, alts, n, k, &best_score, &min_score);
		if (best_score == min_score) {
			rt = &x->text;
			chosen = best_supported(x, rt, alts, n, k, &best_score, &min_score);
		}
		if (best_score > min_score || alts[chosen].evidence) {
			/* the best supported; or the only one, there by its support */
			g->why = GZ_WHY_SUPPORT;
			if (keep_supporters(t, alts[chosen].evidence ? &x->text : rt, k, alts[chosen].e))
				return -1;
		} else {
			g->why = eligible == 1 ? GZ_WHY_ONLY : GZ_WHY_PRIORITY;
		}
	}
	/* chosen first, then the others that may match here, in rank order:
	 * a candidate without the evidence it needs is not one (and a type
	 * filter then gives the spans of the unfiltered run, SPEC §3.5) */
	struct alt c = alts[chosen];
	size_t m = 0;
	for (size_t a = 0; a < n; a++)
		if (a != chosen && may_match(x, alts, a, n, k))
			alts[m++] = alts[a]; /* m <= a: nothing unread is overwritten */
	memmove(alts + 1, alts, m * sizeof(*alts));
	alts[0] = c;
	g->alt_count = m + 1;
	return 0;
}

static int choose_all(struct gz_tagger *t)
{
	struct ctx_scratch *x = t->ctx;
	size_t ng = t->ngroups, nreg = gz_set_region_count(t->set) + 1;
	if (table_size(&x->text, nreg) || table_size(&x->para, nreg) ||
	    GROW(x->settled, 0, x->capsettled, 2 * ng))
		return -1;
	int rc = 0;
	for (size_t k = 0; k < ng && !rc; k++) {
		const struct group *g = &t->groups[k];
		uint32_t c = UINT32_MAX, a1 = UINT32_MAX;
		for (size_t a = 0; a < g->alt_count; a++) {
			const struct alt *al = &t->alts[g->alt_first + a];
			if (al->evidence)
				continue;
			c = c == UINT32_MAX || c == al->country ? al->country : 0;
			a1 = a1 == UINT32_MAX || a1 == al->admin1 ? al->admin1 : 0;
		}
		x->settled[2 * k] = c == UINT32_MAX ? 0 : c;
		x->settled[2 * k + 1] = a1 == UINT32_MAX ? 0 : a1;
		rc = count_group(x, &x->text, k);
	}
	/* paragraph by paragraph: [p, q) are the groups of one */
	for (size_t p = 0, q; p < ng && !rc; p = q) {
		for (q = p + 1; q < ng && t->groups[q].para == t->groups[p].para; q++)
			;
		for (size_t k = p; k < q && !rc; k++)
			rc = count_group(x, &x->para, k);
		for (size_t k = p; k < q && !rc; k++)
			if (t->groups[k].alt_count > 1 || t->groups[k].has_evidence)
				rc = choose(t, k);
		table_clear(&x->para);
	}
	table_clear(&x->text);
	table_clear(&x->para);
	return rc;
}

/* ------------------------------------------------------------ name parts */

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

static int cmp_last_name(const void *a, const void *b)
{
	const struct last_name *x = a, *y = b;
	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->end < y->end ? -1 : x->end > y->end;
}

/* The first of the sorted names at or after (hash h, end). */
static size_t first_name_at(const struct ctx_scratch *x, uint64_t h, size_t end)
{
	size_t lo = 0, hi = x->nnames;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct last_name *n = &x->names[mid];
		if (n->hash < h || (n->hash == h && n->end < end))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static size_t fold_token(const unsigned char *s, size_t a, size_t b, char *out)
{
	size_t n = gz_fold_string((const char *)s + a, b - a, 1, out, PART_MAX);
	return n <= PART_MAX ? n : 0;
}

/* Whether an entry the scan did not just find (a curated one, not of a
 * file that says common_words: skip) has the one token f as a name. */
static int token_is_a_name(const struct gz_tagger *t, const char *f, size_t len,
			   const struct gz_entry *person)
{
	int64_t id = gz_trie_find_token(t->trie, gz_token_hash(f, len), f, len);
	if (id < 0)
		return 0;
	uint32_t node = gz_trie_step(t->trie, GZ_TRIE_ROOT, 0, (uint32_t)id);
	if (node == GZ_TRIE_NONE)
		return 0;
	size_t np;
	const uint32_t *p = gz_trie_payloads(t->trie, node, &np);
	for (size_t k = 0; k < np; k++) {
		const struct gz_entry *e = gz_set_entry(t->set, t->names[p[k]].entry);
		if (e != person && !e->common_words_skip)
			return 1;
	}
	return 0;
}

/* The persons' full names of the text, with their last tokens. */
static int collect_full_names(struct gz_tagger *t, int person)
{
	struct ctx_scratch *x = t->ctx;
	x->nnames = 0;
	for (size_t k = 0; k < t->ngroups; k++) {
		const struct group *g = &t->groups[k];
		const struct gz_entry *e = t->alts[g->alt_first].e;
		if (g->dropped || e->type_index != person || g->why == GZ_WHY_NAME_PART)
			continue;
		size_t pos = g->bstart, a, b, la = 0, lb = 0, tokens = 0;
		while (gz_text_next_token(t->text, g->bend, &pos, &a, &b)) {
			tokens++;
			la = a;
			lb = b;
		}
		if (tokens < 2)
			continue;
		if (GROW(x->names, x->nnames, x->capnames, 1))
			return -1;
		struct last_name *ln = &x->names[x->nnames];
		if (!(ln->len = fold_token(t->text, la, lb, ln->fold)))
			continue;
		ln->hash = gz_hash_bytes(ln->fold, ln->len);
		ln->entry = e;
		ln->end = g->bend;
		x->nnames++;
	}
	return 0;
}

/* Adds the span [a, b) of the last name f: the person named in full most
 * recently before it first, the others of that last name after it, then
 * the candidates of the span it replaces (group k, or none). */
static int add_name_part(struct gz_tagger *t, size_t lo, size_t hi, size_t a, size_t b, size_t k)
{
	struct ctx_scratch *x = t->ctx;
	size_t nold = k < t->ngroups ? t->groups[k].alt_count : 0;
	/* the most recent mentions only: a text may name a thousand Harrises */
	if (hi - lo > PART_RECENT)
		lo = hi - PART_RECENT;
	if (GROW(t->alts, t->nalts, t->capalts, (hi - lo) + nold))
		return -1;
	size_t first = t->nalts;
	for (size_t i = hi; i-- > lo;) {
		int seen = 0;
		for (size_t j = first; j < t->nalts; j++)
			seen |= t->alts[j].e == x->names[i].entry;
		if (!seen)
			t->alts[t->nalts++] = (struct alt){ x->names[i].entry, 0, 0, 0 };
	}
	struct group ng = { .bstart = a, .bend = b, .alt_first = first, .why = GZ_WHY_NAME_PART };
	if (k < t->ngroups) {
		memcpy(t->alts + t->nalts, t->alts + t->groups[k].alt_first, nold * sizeof(struct alt));
		t->nalts += nold;
		ng.alt_count = t->nalts - first;
		t->groups[k] = ng;
		return 0;
	}
	ng.alt_count = t->nalts - first;
	if (GROW(x->added, x->nadded, x->capadded, 1))
		return -1;
	x->added[x->nadded++] = ng;
	return 0;
}

/* Merges the added name-part spans (in text order) into the groups. */
static int merge_added(struct gz_tagger *t)
{
	struct ctx_scratch *x = t->ctx;
	if (!x->nadded)
		return 0;
	if (GROW(t->groups, t->ngroups, t->capgroups, x->nadded))
		return -1;
	size_t i = t->ngroups, j = x->nadded, out = t->ngroups + x->nadded;
	while (j > 0) {
		if (i > 0 && t->groups[i - 1].bstart > x->added[j - 1].bstart)
			t->groups[--out] = t->groups[--i];
		else
			t->groups[--out] = x->added[--j];
	}
	t->ngroups += x->nadded;
	x->nadded = 0;
	return 0;
}

static int all_skip_files(const struct gz_tagger *t, const struct group *g)
{
	for (size_t a = 0; a < g->alt_count; a++)
		if (!t->alts[g->alt_first + a].e->common_words_skip)
			return 0;
	return 1;
}

static int name_parts(struct gz_tagger *t)
{
	struct ctx_scratch *x = t->ctx;
	int person = gz_set_type_index(t->set, "person");
	if (person < 0 || !t->allowed[person])
		return 0;
	if (collect_full_names(t, person))
		return -1;
	if (!x->nnames)
		return 0;
	size_t pos = x->names[0].end, a, b, gi = 0;
	qsort(x->names, x->nnames, sizeof(*x->names), cmp_last_name);
	if (t->nothers)
		qsort(t->others, t->nothers, sizeof(*t->others), cmp_size);
	while (gz_text_next_token(t->text, t->len, &pos, &a, &b)) {
		if (!gz_text_upper_at(t->text, t->len, a))
			continue;
		char f[PART_MAX];
		size_t fl = fold_token(t->text, a, b, f);
		if (!fl)
			continue;
		uint64_t h = gz_hash_bytes(f, fl);
		/* the names of this hash and ended before a: [lo, hi), two
		 * binary searches (a text may name one person a million times) */
		size_t lo = first_name_at(x, h, 0), hi = first_name_at(x, h, a + 1);
		/* (64-bit hashes: equal ones are the same word) */
		if (lo < hi && (x->names[lo].len != fl || memcmp(x->names[lo].fold, f, fl) != 0))
			continue;
		if (lo == hi)
			continue;
		if (t->nothers && bsearch(&a, t->others, t->nothers, sizeof(*t->others), cmp_size))
			continue; /* "Marcus Harris": not Kamala Harris's name part */
		while (gi < t->ngroups && (t->groups[gi].dropped || t->groups[gi].bend <= a))
			gi++;
		size_t replace = t->ngroups;
		if (gi < t->ngroups && t->groups[gi].bstart < b) {
			/* inside a span: only one of the imported layer, exactly this token */
			const struct group *g = &t->groups[gi];
			if (g->bstart != a || g->bend != b || g->why == GZ_WHY_NAME_PART ||
			    !all_skip_files(t, g))
				continue;
			replace = gi;
		}
		if (token_is_a_name(t, f, fl, x->names[hi - 1].entry))
			continue;
		if (add_name_part(t, lo, hi, a, b, replace))
			return -1;
	}
	return merge_added(t);
}

/* ------------------------------------------------------------------ API */

/* Sets (on 1) or clears (on 0) the bits of x->full of the candidates of the
 * spans of more than one word. */
static void mark_named_in_full(struct gz_tagger *t, int on)
{
	struct ctx_scratch *x = t->ctx;
	const struct gz_entry *first = gz_set_entry(t->set, 0);
	for (size_t k = 0; k < t->ngroups; k++) {
		const struct group *g = &t->groups[k];
		for (size_t a = 0; g->token == UINT32_MAX && a < g->alt_count; a++) {
			size_t i = (size_t)(t->alts[g->alt_first + a].e - first);
			if (on)
				x->full[i / 64] |= 1ULL << (i % 64);
			else
				x->full[i / 64] = 0;
		}
	}
}

static int named_in_full(const struct gz_tagger *t, const struct gz_entry *e)
{
	const struct ctx_scratch *x = t->ctx;
	size_t i = (size_t)(e - gz_set_entry(t->set, 0));
	return x->full[i / 64] >> (i % 64) & 1;
}

/* A one-word span whose word the text also uses as somebody's surname
 * ("Ray Jackson ... Jackson said", "Marcus Harris ... Harris said"): a town
 * of the imported layer needs evidence like a common word, and a person
 * known by that one word is not meant unless the text names them in full.
 * Not in SPEC §8: README "Surnames". */
static void surnames_need_evidence(struct gz_tagger *t, struct group *g)
{
	if (!gz_tagger_is_surname(t, g->token))
		return;
	for (size_t a = 0; a < g->alt_count; a++) {
		struct alt *al = &t->alts[g->alt_first + a];
		if (al->e->common_words_skip && !al->evidence) {
			al->evidence = GZ_EVIDENCE_ANY;
			g->has_evidence = 1;
		} else if (!strcmp(gz_entry_type(al->e), "person") && !named_in_full(t, al->e)) {
			al->evidence = GZ_EVIDENCE_QUALIFIER;
			g->has_evidence = 1;
		}
	}
}

int gz_context_resolve(struct gz_tagger *t)
{
	if (!t->ctx && !(t->ctx = calloc(1, sizeof(struct ctx_scratch))))
		return -1;
	struct ctx_scratch *x = t->ctx;
	if (t->nsurnames) {
		size_t words = (gz_set_entry_count(t->set) + 63) / 64;
		if (words > x->capfull) {
			uint64_t *f = realloc(x->full, words * sizeof(*f));
			if (!f)
				return -1;
			memset(f + x->capfull, 0, (words - x->capfull) * sizeof(*f));
			x->full = f;
			x->capfull = words;
		}
		mark_named_in_full(t, 1);
	}
	/* (each group's why is set by add_group, to rank's) */
	int need = t->need_context;
	for (size_t k = 0; t->nsurnames && k < t->ngroups; k++) {
		struct group *g = &t->groups[k];
		if (g->token != UINT32_MAX)
			surnames_need_evidence(t, g);
		need |= g->has_evidence;
	}
	if (t->nsurnames)
		mark_named_in_full(t, 0);
	/* without a country or admin1 in the set, ambiguity is left to rank:
	 * only evidence needs the context then */
	if (need && !gz_set_region_count(t->set)) {
		need = 0;
		for (size_t k = 0; k < t->ngroups && !need; k++)
			need = t->groups[k].has_evidence;
	}
	if (need && choose_all(t))
		return -1;
	return name_parts(t);
}

void gz_context_free(struct gz_tagger *t)
{
	struct ctx_scratch *x = t->ctx;
	if (!x)
		return;
	table_free(&x->text);
	table_free(&x->para);
	free(x->settled);
	free(x->names);
	free(x->added);
	free(x->full);
	free(x);
	t->ctx = NULL;
}
