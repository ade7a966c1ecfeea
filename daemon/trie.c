/*
 * The hash trie; see trie.h for the shape.
 *
 * Three open-addressing tables with linear probing and power-of-two sizes,
 * kept at most half full so that a miss (the common case when scanning text:
 * most words are no name's first token) ends after a probe or two:
 *   - the vocabulary: folded token -> id, the strings in one pool;
 *   - the gaps: the same for gap strings (a handful: "", ".", "&", ...);
 *   - the edges: (node, gap, token) -> child node.
 * Payloads (name records of the set) are collected as (node, payload) pairs
 * while building and grouped by node into one array at the end, so a node's
 * payloads are a slice found through node_first[node].
 */
#include "trie.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bigmem.h"
#include "error.h"

/* ----------------------------------------------------------------- types */

struct strtab {
	char *pool;
	size_t pool_len, pool_cap;
	uint64_t *offs;     /* id -> offset << 16 | len (names are short) */
	uint64_t *hashes;   /* id -> its hash, for growing the slots */
	size_t count, cap;  /* ids; cap: of offs */
	size_t hashes_cap;
	struct gz_trie_slot *slots;
	size_t mask;
	uint64_t *filter;   /* see strtab_build_filter; NULL while building */
	int vocab;          /* the vocabulary: hashed by gz_token_hash, and its
			     * strings never hold a NUL byte (folded tokens) */
	size_t filter_mask;
};

/* A vocabulary slot (struct gz_trie_slot, trie.h) holds the first eight
 * bytes of its string (zero-padded; folded tokens hold no NUL), so that
 * most lookups of short words are decided by the one cache line of the
 * slot.  Its flags spare the scan a second look-up: whether the string is
 * longer than its head, and (set by gz_trie_finish) whether some name
 * starts with the token. */
_Static_assert(sizeof(struct gz_trie_slot) == GZ_TRIE_RECORD_SIZE &&
		       sizeof(struct gz_trie_edge) == GZ_TRIE_RECORD_SIZE,
	       "snapshots store slots and edges as 16-byte records");

struct pending {
	uint32_t node, payload;
};

struct gz_trie {
	struct strtab tokens, gaps;
	struct gz_trie_edge *edges;
	size_t edge_count, edge_mask;
	uint32_t node_count;
	unsigned char *has_children;  /* per node */
	size_t has_children_cap;
	struct pending *pend;
	size_t pend_count, pend_cap;
	uint32_t *node_first;  /* node -> first payload index; node_count + 1 entries */
	uint32_t *root_child;  /* token -> the root's child for it, or NONE: the first
				* step of every walk, taken for each known word of a
				* text, is one array read instead of a hash probe */
	uint64_t *start_filter; /* the vocabulary's filter, for the tokens that start
				 * a name only (gz_trie_start_filter) */
	size_t start_filter_mask;
	uint32_t *payloads;
	size_t payloads_cap;   /* of payloads; node_first and root_child are
				* node_count + 1 and tokens.count long, neither
				* of which changes once they exist */
	int borrowed;          /* gz_trie_from_parts: the arrays are not ours */
};

/* --------------------------------------------------------- hash functions */

#define mix64 gz_mix64

static inline uint64_t edge_hash(uint32_t node, uint32_t gap, uint32_t token)
{
	return mix64(((uint64_t)node << 32 | token) ^ ((uint64_t)gap * 0x9E3779B97F4A7C15ULL));
}

/* ---------------------------------------------------------- string table */

static inline uint64_t head_of(const char *s, size_t len)
{
	uint64_t w = 0;
	if (len)
		memcpy(&w, s, len < 8 ? len : 8);
	return w;
}

/* A string's slot is chosen by the high half of its hash, and the low half
 * is kept in the slot (and picks the filter's bits): two independent
 * halves of one well-mixed hash, with no second mixing to compute. */
static inline size_t slot_index(uint64_t hash, size_t mask)
{
	return (size_t)(hash >> 32) & mask;
}

static void slot_put(struct gz_trie_slot *slots, size_t mask, uint64_t head, uint64_t h, uint32_t id,
		     size_t len)
{
	size_t i = slot_index(h, mask);
	while (slots[i].id1)
		i = (i + 1) & mask;
	slots[i] = (struct gz_trie_slot){ head, (uint32_t)h, (id + 1) | (len > 8 ? GZ_TRIE_SLOT_LONG : 0) };
}

/* Tables of a million slots and more are random-accessed once per word of
 * text: they are big arrays (bigmem.h), on huge pages, where a 4 KiB page
 * would cost a TLB miss per access. */
static int strtab_grow_slots(struct strtab *st)
{
	size_t cap = st->mask ? (st->mask + 1) * 2 : 1024;
	struct gz_trie_slot *slots = gz_big_alloc(cap * sizeof(*slots));
	if (!slots)
		return GZ_ENOMEM;
	for (size_t id = 0; id < st->count; id++) {
		uint64_t h = st->hashes[id];
		uint64_t o = st->offs[id];
		slot_put(slots, cap - 1, head_of(st->pool + (o >> 16), o & 0xFFFF), h, (uint32_t)id,
			 o & 0xFFFF);
	}
	if (st->slots)
		gz_big_free(st->slots, (st->mask + 1) * sizeof(*slots));
	st->slots = slots;
	st->mask = cap - 1;
	return 0;
}

/* The filter in front of the vocabulary: a blocked Bloom filter, three bits
 * in one 64-bit word per string, about 12 bits per string (under 2% false
 * positives).  Sized by the number of strings, not of slots, so that for a
 * million-name gazetteer it stays a few MB and mostly in cache, where the
 * slot table it guards is a hundred MB.  Built once, when the trie is done;
 * lookups before that go straight to the slots.  A string's word is picked
 * by the low half of its hash, its three bits by the top bits (through
 * gz_filter_patterns: 1,024 patterns where any three bits would do adds
 * about 0.5% of false positives, for a test without variable shifts). */
uint64_t gz_filter_patterns[GZ_FILTER_PATTERNS];
static pthread_once_t patterns_once = PTHREAD_ONCE_INIT;

static void patterns_init(void)
{
	for (uint64_t k = 0; k < GZ_FILTER_PATTERNS; k++) {
		uint64_t x = mix64(k + 1), bits = 0;
		int n = 0;
		while (n < 3) {
			uint64_t b = 1ULL << (x & 63);
			if (!(bits & b)) {
				bits |= b;
				n++;
			}
			x >>= 6;
			if (x < 64)
				x = mix64(x ^ bits);
		}
		gz_filter_patterns[k] = bits;
	}
}

static inline uint64_t filter_bits(uint64_t h)
{
	return gz_filter_bits(h);
}

static inline size_t filter_word(uint64_t h, size_t mask)
{
	return gz_filter_word((uint32_t)h, mask);
}

/* The filter of the strings id < count of hashes (those with only[id] !=
 * GZ_TRIE_NONE when only is given); NULL when out of memory. */
static uint64_t *build_filter(const uint64_t *hashes, size_t count, const uint32_t *only,
			      size_t *mask)
{
	size_t n = 0;
	for (size_t id = 0; id < count; id++)
		n += !only || only[id] != GZ_TRIE_NONE;
	size_t words = 64;
	while (words * 64 < n * 12)
		words *= 2;
	uint64_t *filter = gz_big_alloc(words * sizeof(*filter));
	if (!filter)
		return NULL;
	for (size_t id = 0; id < count; id++)
		if (!only || only[id] != GZ_TRIE_NONE)
			filter[filter_word(hashes[id], words - 1)] |= filter_bits(hashes[id]);
	*mask = words - 1;
	return filter;
}

static int strtab_build_filter(struct strtab *st)
{
	size_t mask;
	uint64_t *filter = build_filter(st->hashes, st->count, NULL, &mask);
	if (!filter)
		return GZ_ENOMEM;
	if (st->filter)
		gz_big_free(st->filter, (st->filter_mask + 1) * sizeof(*filter));
	st->filter = filter;
	st->filter_mask = mask;
	return 0;
}

static int64_t strtab_find(const struct strtab *st, uint64_t hash, const char *s, size_t len)
{
	if (!st->slots)
		return -1;
	uint32_t h32 = (uint32_t)hash;
	if (st->filter) {
		uint64_t bits = filter_bits(hash);
		if ((st->filter[filter_word(hash, st->filter_mask)] & bits) != bits)
			return -1;
	}
	uint64_t head = head_of(s, len);
	size_t i = slot_index(hash, st->mask);
	for (;;) {
		const struct gz_trie_slot *sl = &st->slots[i];
		if (!sl->id1)
			return -1;
		if (sl->hash == h32 && sl->head == head) {
			uint32_t id = (sl->id1 & GZ_TRIE_SLOT_ID) - 1;
			/* short strings without NUL bytes are equal when their
			 * zero-padded heads are; gap strings may hold a NUL */
			if (len <= 8 && !(sl->id1 & GZ_TRIE_SLOT_LONG) && st->vocab)
				return id;
			uint64_t o = st->offs[id];
			if ((o & 0xFFFF) == len && (len == 0 || memcmp(st->pool + (o >> 16), s, len) == 0))
				return id;
		}
		i = (i + 1) & st->mask;
	}
}

static int64_t strtab_intern_hashed(struct strtab *st, uint64_t hash, const char *s, size_t len)
{
	if (len > 0xFFFF)
		return GZ_EINVAL;
	int64_t id = strtab_find(st, hash, s, len);
	if (id >= 0)
		return id;
	if (!st->slots || (st->count + 1) * 2 > st->mask + 1)
		if (strtab_grow_slots(st))
			return GZ_ENOMEM;
	if (st->count >= GZ_TRIE_SLOT_ID - 1)
		return GZ_ENOMEM; /* ids and their flags share the slot's 32 bits */
	/* offs and hashes grow one after the other, each with its own
	 * capacity: when the second fails, the first keeps its new size */
	if (st->count == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 256;
		uint64_t *offs = gz_big_resize(st->offs, st->cap * sizeof(*offs), cap * sizeof(*offs));
		if (!offs)
			return GZ_ENOMEM;
		st->offs = offs;
		st->cap = cap;
	}
	if (st->count == st->hashes_cap) {
		size_t cap = st->hashes_cap ? st->hashes_cap * 2 : 256;
		uint64_t *hashes = gz_big_resize(st->hashes, st->hashes_cap * sizeof(*hashes),
						 cap * sizeof(*hashes));
		if (!hashes)
			return GZ_ENOMEM;
		st->hashes = hashes;
		st->hashes_cap = cap;
	}
	if (st->pool_len + len > st->pool_cap) {
		size_t cap = st->pool_cap ? st->pool_cap * 2 : 4096;
		while (cap < st->pool_len + len)
			cap *= 2;
		char *pool = gz_big_resize(st->pool, st->pool_cap, cap);
		if (!pool)
			return GZ_ENOMEM;
		st->pool = pool;
		st->pool_cap = cap;
	}
	if (len)
		memcpy(st->pool + st->pool_len, s, len);
	id = (int64_t)st->count++;
	st->offs[id] = (uint64_t)st->pool_len << 16 | len;
	st->hashes[id] = hash;
	st->pool_len += len;
	slot_put(st->slots, st->mask, head_of(s, len), hash, (uint32_t)id, len);
	if (st->filter) /* interning after the filter was built: keep it true */
		st->filter[filter_word(hash, st->filter_mask)] |= filter_bits(hash);
	return id;
}

static int64_t strtab_intern(struct strtab *st, const char *s, size_t len)
{
	return strtab_intern_hashed(st, st->vocab ? gz_token_hash(s, len) : gz_hash_bytes(s, len), s,
				    len);
}

static void strtab_free(struct strtab *st)
{
	gz_big_free(st->pool, st->pool_cap);
	gz_big_free(st->offs, st->cap * sizeof(*st->offs));
	gz_big_free(st->hashes, st->hashes_cap * sizeof(*st->hashes));
	if (st->slots)
		gz_big_free(st->slots, (st->mask + 1) * sizeof(*st->slots));
	if (st->filter)
		gz_big_free(st->filter, (st->filter_mask + 1) * sizeof(*st->filter));
}

static size_t strtab_memory(const struct strtab *st)
{
	return st->pool_cap + st->cap * (sizeof(uint64_t) + sizeof(uint32_t)) +
	       (st->slots ? (st->mask + 1) * sizeof(struct gz_trie_slot) : 0) +
	       (st->filter ? (st->filter_mask + 1) * sizeof(uint64_t) : 0);
}

/* ------------------------------------------------------ API implementation */

struct gz_trie *gz_trie_new(void)
{
	pthread_once(&patterns_once, patterns_init);
	struct gz_trie *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->node_count = 1; /* the root */
	t->tokens.vocab = 1;
	/* gap 0 is the empty gap (soft characters only) */
	if (gz_trie_intern_gap(t, "", 0) != 0) {
		gz_trie_free(t);
		return NULL;
	}
	return t;
}

void gz_trie_free(struct gz_trie *t)
{
	if (!t)
		return;
	if (t->borrowed) {
		free(t);
		return;
	}
	strtab_free(&t->tokens);
	strtab_free(&t->gaps);
	if (t->edges)
		gz_big_free(t->edges, (t->edge_mask + 1) * sizeof(*t->edges));
	gz_big_free(t->has_children, t->has_children_cap);
	gz_big_free(t->pend, t->pend_cap * sizeof(*t->pend));
	gz_big_free(t->node_first, ((size_t)t->node_count + 1) * sizeof(uint32_t));
	gz_big_free(t->payloads, t->payloads_cap * sizeof(uint32_t));
	gz_big_free(t->root_child, (t->tokens.count ? t->tokens.count : 1) * sizeof(uint32_t));
	if (t->start_filter)
		gz_big_free(t->start_filter, (t->start_filter_mask + 1) * sizeof(uint64_t));
	free(t);
}

int64_t gz_trie_intern_token(struct gz_trie *t, const char *s, size_t len)
{
	if (t->node_first) /* finished: immutable */
		return GZ_EINVAL;
	return strtab_intern(&t->tokens, s, len);
}

int64_t gz_trie_intern_token_hashed(struct gz_trie *t, uint64_t hash, const char *s, size_t len)
{
	if (t->node_first)
		return GZ_EINVAL;
	return strtab_intern_hashed(&t->tokens, hash, s, len);
}

void gz_trie_prefetch_token(const struct gz_trie *t, uint64_t hash)
{
	if (t->tokens.slots)
		__builtin_prefetch(&t->tokens.slots[slot_index(hash, t->tokens.mask)], 1);
}

int64_t gz_trie_intern_gap(struct gz_trie *t, const char *s, size_t len)
{
	return strtab_intern(&t->gaps, s, len);
}

int64_t gz_trie_find_token(const struct gz_trie *t, uint64_t hash, const char *s, size_t len)
{
	return strtab_find(&t->tokens, hash, s, len);
}

/* The scan's look-up of a token over eight bytes, or one whose slot says it
 * is (apart from the common case, decided by the slot alone, which then
 * needs no registers saved): the probe goes on from slot i. */
static __attribute__((noinline)) int64_t scan_token_long(const struct gz_trie *t, size_t i,
							 uint32_t h32, uint64_t head, const char *s,
							 size_t len, int *starts)
{
	const struct strtab *st = &t->tokens;
	for (;; i = (i + 1) & st->mask) {
		const struct gz_trie_slot *sl = &st->slots[i];
		uint32_t id1 = sl->id1;
		if (!id1)
			return -1;
		if (sl->hash != h32 || sl->head != head)
			continue;
		uint32_t id = (id1 & GZ_TRIE_SLOT_ID) - 1;
		uint64_t o = st->offs[id];
		if ((len <= 8 && !(id1 & GZ_TRIE_SLOT_LONG)) ||
		    ((o & 0xFFFF) == len && memcmp(st->pool + (o >> 16), s, len) == 0)) {
			/* before gz_trie_finish nothing is known: say maybe */
			*starts = !t->root_child || (id1 & GZ_TRIE_SLOT_START);
			return id;
		}
	}
}

int64_t gz_trie_scan_token(const struct gz_trie *t, uint64_t hash, const char *s, size_t len,
			   int *starts)
{
	const struct strtab *st = &t->tokens;
	if (!st->slots || len == 0)
		return -1;
	uint32_t h32 = (uint32_t)hash;
	/* the head without a call: s is readable for 8 bytes past len */
	uint64_t head;
	memcpy(&head, s, 8);
	if (len < 8)
		head &= ~0ULL >> (8 * (8 - len));
	size_t i = slot_index(hash, st->mask);
	for (;; i = (i + 1) & st->mask) {
		const struct gz_trie_slot *sl = &st->slots[i];
		uint32_t id1 = sl->id1;
		if (!id1)
			return -1;
		if (sl->hash != h32 || sl->head != head)
			continue;
		if (len > 8 || (id1 & GZ_TRIE_SLOT_LONG))
			return scan_token_long(t, i, h32, head, s, len, starts);
		*starts = !t->root_child || (id1 & GZ_TRIE_SLOT_START);
		return (id1 & GZ_TRIE_SLOT_ID) - 1;
	}
}

struct gz_trie_filter gz_trie_token_filter(const struct gz_trie *t)
{
	return (struct gz_trie_filter){ t->tokens.filter, t->tokens.filter_mask };
}

struct gz_trie_filter gz_trie_start_filter(const struct gz_trie *t)
{
	if (!t->start_filter) /* not finished: any token may start a name */
		return gz_trie_token_filter(t);
	return (struct gz_trie_filter){ t->start_filter, t->start_filter_mask };
}

int64_t gz_trie_find_gap(const struct gz_trie *t, const char *s, size_t len)
{
	return strtab_find(&t->gaps, gz_hash_bytes(s, len), s, len);
}

static int edges_grow(struct gz_trie *t)
{
	size_t cap = t->edges ? (t->edge_mask + 1) * 2 : 1024;
	struct gz_trie_edge *edges = gz_big_alloc(cap * sizeof(*edges));
	if (!edges)
		return GZ_ENOMEM;
	for (size_t i = 0; i < cap; i++)
		edges[i].child = GZ_TRIE_NONE;
	if (t->edges) {
		for (size_t i = 0; i <= t->edge_mask; i++) {
			struct gz_trie_edge *e = &t->edges[i];
			if (e->child == GZ_TRIE_NONE)
				continue;
			size_t j = edge_hash(e->node, e->gap, e->token) & (cap - 1);
			while (edges[j].child != GZ_TRIE_NONE)
				j = (j + 1) & (cap - 1);
			edges[j] = *e;
		}
	}
	if (t->edges)
		gz_big_free(t->edges, (t->edge_mask + 1) * sizeof(*edges));
	t->edges = edges;
	t->edge_mask = cap - 1;
	return 0;
}

uint32_t gz_trie_step(const struct gz_trie *t, uint32_t node, uint32_t gap, uint32_t token)
{
	if (node == GZ_TRIE_ROOT && t->root_child)
		return t->root_child[token];
	if (!t->edges)
		return GZ_TRIE_NONE;
	size_t i = edge_hash(node, gap, token) & t->edge_mask;
	for (;;) {
		const struct gz_trie_edge *e = &t->edges[i];
		if (e->child == GZ_TRIE_NONE)
			return GZ_TRIE_NONE;
		if (e->node == node && e->token == token && e->gap == gap)
			return e->child;
		i = (i + 1) & t->edge_mask;
	}
}

void gz_trie_prefetch_edge(const struct gz_trie *t, uint32_t node, uint32_t gap, uint32_t token)
{
	if (t->edges)
		__builtin_prefetch(&t->edges[edge_hash(node, gap, token) & t->edge_mask], 1);
}

static int64_t add_child(struct gz_trie *t, uint32_t node, uint32_t gap, uint32_t token)
{
	uint32_t child = gz_trie_step(t, node, gap, token);
	if (child != GZ_TRIE_NONE)
		return child;
	if (!t->edges || (t->edge_count + 1) * 2 > t->edge_mask + 1)
		if (edges_grow(t))
			return GZ_ENOMEM;
	if (t->node_count == UINT32_MAX - 1)
		return GZ_ENOMEM;
	if (node >= t->has_children_cap || t->node_count >= t->has_children_cap) {
		size_t cap = t->has_children_cap ? t->has_children_cap * 2 : 1024;
		while (cap <= t->node_count)
			cap *= 2;
		unsigned char *hc = gz_big_resize(t->has_children, t->has_children_cap, cap);
		if (!hc)
			return GZ_ENOMEM;
		t->has_children = hc;
		t->has_children_cap = cap;
	}
	child = t->node_count++;
	size_t i = edge_hash(node, gap, token) & t->edge_mask;
	while (t->edges[i].child != GZ_TRIE_NONE)
		i = (i + 1) & t->edge_mask;
	t->edges[i] = (struct gz_trie_edge){ node, token, gap, child };
	t->edge_count++;
	t->has_children[node] = 1;
	return child;
}

int gz_trie_insert_batch(struct gz_trie *t, struct gz_trie_path *paths, size_t count)
{
	size_t deepest = 0;
	for (size_t b = 0; b < count; b++) {
		paths[b].node = GZ_TRIE_ROOT;
		if (paths[b].n > deepest)
			deepest = paths[b].n;
	}
	for (size_t i = 0; i < deepest; i++) {
		for (size_t b = 0; b < count; b++)
			if (i < paths[b].n)
				gz_trie_prefetch_edge(t, paths[b].node, i ? paths[b].gaps[i] : 0,
						      paths[b].tokens[i]);
		for (size_t b = 0; b < count; b++) {
			if (i >= paths[b].n)
				continue;
			int64_t c = add_child(t, paths[b].node, i ? paths[b].gaps[i] : 0,
					      paths[b].tokens[i]);
			if (c < 0)
				return (int)c;
			paths[b].node = (uint32_t)c;
		}
	}
	if (t->pend_count + count > t->pend_cap) {
		size_t cap = t->pend_cap ? t->pend_cap * 2 : 1024;
		while (cap < t->pend_count + count)
			cap *= 2;
		struct pending *p = gz_big_resize(t->pend, t->pend_cap * sizeof(*p), cap * sizeof(*p));
		if (!p)
			return GZ_ENOMEM;
		t->pend = p;
		t->pend_cap = cap;
	}
	for (size_t b = 0; b < count; b++)
		t->pend[t->pend_count++] = (struct pending){ paths[b].node, paths[b].payload };
	return 0;
}

int gz_trie_insert(struct gz_trie *t, const uint32_t *tokens, const uint32_t *gaps,
		   size_t n, uint32_t payload)
{
	struct gz_trie_path one = { tokens, gaps, n, payload, 0 };
	return gz_trie_insert_batch(t, &one, 1);
}

int gz_trie_finish(struct gz_trie *t)
{
	/* counting sort of payloads by node: keeps insertion (load) order within
	 * a node, which the tagger relies on for ties */
	t->node_first = gz_big_alloc(((size_t)t->node_count + 1) * sizeof(uint32_t));
	t->payloads = gz_big_alloc((t->pend_count ? t->pend_count : 1) * sizeof(uint32_t));
	t->payloads_cap = t->payloads ? (t->pend_count ? t->pend_count : 1) : 0;
	if (!t->node_first || !t->payloads)
		return GZ_ENOMEM;
	for (size_t i = 0; i < t->pend_count; i++)
		t->node_first[t->pend[i].node + 1]++;
	for (size_t n = 0; n < t->node_count; n++)
		t->node_first[n + 1] += t->node_first[n];
	uint32_t *fill = gz_big_alloc(((size_t)t->node_count + 1) * sizeof(uint32_t));
	if (!fill)
		return GZ_ENOMEM;
	memcpy(fill, t->node_first, ((size_t)t->node_count + 1) * sizeof(uint32_t));
	for (size_t i = 0; i < t->pend_count; i++)
		t->payloads[fill[t->pend[i].node]++] = t->pend[i].payload;
	gz_big_free(fill, ((size_t)t->node_count + 1) * sizeof(uint32_t));
	t->root_child = gz_big_alloc((t->tokens.count ? t->tokens.count : 1) * sizeof(uint32_t));
	if (!t->root_child)
		return GZ_ENOMEM;
	for (size_t k = 0; k < t->tokens.count; k++)
		t->root_child[k] = GZ_TRIE_NONE;
	for (size_t i = 0; t->edges && i <= t->edge_mask; i++)
		if (t->edges[i].child != GZ_TRIE_NONE && t->edges[i].node == GZ_TRIE_ROOT)
			t->root_child[t->edges[i].token] = t->edges[i].child;
	for (size_t i = 0; t->tokens.slots && i <= t->tokens.mask; i++) {
		struct gz_trie_slot *sl = &t->tokens.slots[i];
		if (sl->id1 && t->root_child[(sl->id1 & GZ_TRIE_SLOT_ID) - 1] != GZ_TRIE_NONE)
			sl->id1 |= GZ_TRIE_SLOT_START;
	}
	if (strtab_build_filter(&t->tokens))
		return GZ_ENOMEM;
	if (t->start_filter)
		gz_big_free(t->start_filter, (t->start_filter_mask + 1) * sizeof(uint64_t));
	t->start_filter = build_filter(t->tokens.hashes, t->tokens.count, t->root_child,
				       &t->start_filter_mask);
	if (!t->start_filter)
		return GZ_ENOMEM;
	/* no more interning: the per-id hashes (kept for growing the slots)
	 * are not needed again, and the id arrays can lose their slack */
	gz_big_free(t->tokens.hashes, t->tokens.hashes_cap * sizeof(uint64_t));
	t->tokens.hashes = NULL;
	t->tokens.hashes_cap = 0;
	size_t keep = t->tokens.count ? t->tokens.count : 1;
	uint64_t *offs = gz_big_resize(t->tokens.offs, t->tokens.cap * sizeof(*offs), keep * sizeof(*offs));
	if (offs) {
		t->tokens.offs = offs;
		t->tokens.cap = keep;
	}
	gz_big_free(t->pend, t->pend_cap * sizeof(*t->pend));
	t->pend = NULL;
	t->pend_cap = 0;
	if (t->has_children_cap < t->node_count) {
		unsigned char *hc = gz_big_resize(t->has_children, t->has_children_cap, t->node_count);
		if (!hc)
			return GZ_ENOMEM;
		t->has_children = hc;
		t->has_children_cap = t->node_count;
	}
	/* the arrays are final: their last huge pages' unused ends go back */
	gz_big_trim(t->tokens.pool, t->tokens.pool_cap, t->tokens.pool_len);
	gz_big_trim(t->tokens.offs, t->tokens.cap * sizeof(uint64_t), t->tokens.count * sizeof(uint64_t));
	gz_big_trim(t->has_children, t->has_children_cap, t->node_count);
	size_t nodes = ((size_t)t->node_count + 1) * sizeof(uint32_t);
	gz_big_trim(t->node_first, nodes, nodes);
	gz_big_trim(t->payloads, t->payloads_cap * sizeof(uint32_t), t->pend_count * sizeof(uint32_t));
	size_t roots = (t->tokens.count ? t->tokens.count : 1) * sizeof(uint32_t);
	gz_big_trim(t->root_child, roots, roots);
	return 0;
}

const uint32_t *gz_trie_payloads(const struct gz_trie *t, uint32_t node, size_t *count)
{
	uint32_t a = t->node_first[node], b = t->node_first[node + 1];
	*count = b - a;
	return t->payloads + a;
}

int gz_trie_has_children(const struct gz_trie *t, uint32_t node)
{
	return t->has_children && t->has_children[node];
}

struct gz_trie_nodes gz_trie_nodes(const struct gz_trie *t)
{
	return (struct gz_trie_nodes){ t->root_child, t->node_first, t->payloads, t->has_children };
}

size_t gz_trie_node_count(const struct gz_trie *t)
{
	return t->node_count;
}

size_t gz_trie_token_count(const struct gz_trie *t)
{
	return t->tokens.count;
}

size_t gz_trie_memory(const struct gz_trie *t)
{
	return strtab_memory(&t->tokens) + strtab_memory(&t->gaps) +
	       (t->edges ? (t->edge_mask + 1) * sizeof(struct gz_trie_edge) : 0) +
	       t->has_children_cap + ((size_t)t->node_count + 1) * sizeof(uint32_t) +
	       t->pend_count * sizeof(uint32_t) + t->tokens.count * sizeof(uint32_t) +
	       (t->start_filter ? (t->start_filter_mask + 1) * sizeof(uint64_t) : 0);
}

/* ---------------------------------------------------------------- parts */

static void table_parts(const struct strtab *st, struct gz_trie_table *p)
{
	*p = (struct gz_trie_table){ st->pool, st->pool_len, st->offs, st->count, st->slots,
				     st->mask, st->filter, st->filter_mask };
}

void gz_trie_parts(const struct gz_trie *t, struct gz_trie_parts *p)
{
	table_parts(&t->tokens, &p->tokens);
	table_parts(&t->gaps, &p->gaps);
	p->edges = t->edges;
	p->edge_mask = t->edge_mask;
	p->node_count = t->node_count;
	p->has_children = t->has_children;
	p->node_first = t->node_first;
	p->payloads = t->payloads;
	p->root_child = t->root_child;
	p->start_filter = t->start_filter;
	p->start_filter_mask = t->start_filter_mask;
}

struct gz_trie *gz_trie_from_parts(const struct gz_trie_parts *p)
{
	pthread_once(&patterns_once, patterns_init);
	struct gz_trie *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->borrowed = 1;
	const struct gz_trie_table *tables[2] = { &p->tokens, &p->gaps };
	struct strtab *st[2] = { &t->tokens, &t->gaps };
	for (int k = 0; k < 2; k++) {
		st[k]->pool = (char *)tables[k]->pool;
		st[k]->pool_len = st[k]->pool_cap = tables[k]->pool_len;
		st[k]->offs = (uint64_t *)tables[k]->offs;
		st[k]->count = st[k]->cap = tables[k]->count;
		st[k]->slots = (struct gz_trie_slot *)tables[k]->slots;
		st[k]->mask = tables[k]->mask;
		st[k]->filter = (uint64_t *)tables[k]->filter;
		st[k]->filter_mask = tables[k]->filter_mask;
	}
	t->tokens.vocab = 1;
	t->edges = (struct gz_trie_edge *)p->edges;
	t->edge_mask = p->edge_mask;
	t->node_count = (uint32_t)p->node_count;
	t->has_children = (unsigned char *)p->has_children;
	t->has_children_cap = p->node_count;
	t->node_first = (uint32_t *)p->node_first;
	t->payloads = (uint32_t *)p->payloads;
	t->root_child = (uint32_t *)p->root_child;
	t->start_filter = (uint64_t *)p->start_filter;
	t->start_filter_mask = p->start_filter_mask;
	return t;
}
