/*
 * The hash trie over gazetteer names.  A name is a path of (gap, token)
 * steps from the root: tokens are interned folded strings (the vocabulary),
 * gaps are interned strings of the significant characters between two tokens
 * (gap 0 is "only whitespace, hyphens or apostrophes", by far the commonest).
 * Edges live in one open-addressing table keyed by (node, gap, token), so a
 * node costs no memory of its own beyond its payload range: no per-node
 * malloc, flat arrays only, immutable once built.
 */
#ifndef GZ_TRIE_H
#define GZ_TRIE_H

#include <stddef.h>
#include <stdint.h>

#define GZ_TRIE_ROOT 0u
#define GZ_TRIE_NONE UINT32_MAX

struct gz_trie;

struct gz_trie *gz_trie_new(void);
void gz_trie_free(struct gz_trie *t);

/* A general hash of bytes (the gaps' table uses it, other modules' tables
 * too; the vocabulary has its own, gz_token_hash below).  Eight bytes a
 * step: strings are short, and a byte-at-a-time hash would be a chain of
 * multiplications as long as the string. */
/* A 64-bit finalizer (murmur3's), for table positions. */
static inline uint64_t gz_mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static inline uint64_t gz_hash_final(uint64_t h)
{
	h ^= h >> 32;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 29;
	return h;
}

static inline uint64_t gz_hash_step(uint64_t h, uint64_t w)
{
	h = (h ^ w) * 0xff51afd7ed558ccdULL;
	return h ^ (h >> 29);
}

static inline uint64_t gz_hash_words(const char *s, size_t len, size_t *done)
{
	uint64_t h = 0x9E3779B97F4A7C15ULL ^ len;
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		__builtin_memcpy(&w, s + i, 8);
		h = gz_hash_step(h, w);
	}
	*done = i;
	return h;
}

static inline uint64_t gz_hash_bytes(const char *s, size_t len)
{
	size_t i;
	uint64_t h = gz_hash_words(s, len, &i);
	if (i < len) {
		uint64_t w = 0;
		for (size_t k = 0; k < len - i; k++)
			w |= (uint64_t)(unsigned char)s[i + k] << (8 * k);
		h = gz_hash_step(h, w);
	}
	return gz_hash_final(h);
}

/* The same hash, for a buffer readable for 8 bytes past len: the tail is
 * one load and a mask instead of a byte loop. (Little-endian, like the
 * byte loop above.) */
static inline uint64_t gz_hash_padded(const char *s, size_t len)
{
	size_t i;
	uint64_t h = gz_hash_words(s, len, &i);
	if (i < len) {
		uint64_t w;
		__builtin_memcpy(&w, s + i, 8);
		w &= ~0ULL >> (8 * (8 - (len - i)));
		h = gz_hash_step(h, w);
	}
	return gz_hash_final(h);
}

/* The vocabulary's own hash, cheaper than gz_hash_bytes because the scan
 * computes it for every word of a text: for a token of at most eight bytes
 * (most words) one multiplication, whose high half picks the slot and whose
 * two halves folded together pick the filter's bits.  (A token of up to
 * eight bytes, which never holds a NUL, maps to its hash one to one.) */
#define GZ_TOKEN_HASH_K 0x9E3779B97F4A7C15ULL
#define GZ_TOKEN_HASH_M 0xff51afd7ed558ccdULL
static inline uint64_t gz_token_hash_last(uint64_t h, uint64_t w)
{
	h = (h ^ w) * GZ_TOKEN_HASH_M;
	return h ^ (h >> 32);
}

/* For s readable for 8 bytes past len > 0: the tail is one load and a mask. */
static inline uint64_t gz_token_hash_padded(const char *s, size_t len)
{
	static const uint64_t tail[8] = {
		~0ULL, 0xFFULL, 0xFFFFULL, 0xFFFFFFULL, 0xFFFFFFFFULL, 0xFFFFFFFFFFULL,
		0xFFFFFFFFFFFFULL, 0xFFFFFFFFFFFFFFULL,
	};
	uint64_t h = GZ_TOKEN_HASH_K ^ len, w;
	size_t i = 0;
	for (; i + 8 < len; i += 8) {
		__builtin_memcpy(&w, s + i, 8);
		h = gz_hash_step(h, w);
	}
	__builtin_memcpy(&w, s + i, 8);
	return gz_token_hash_last(h, w & tail[len & 7]);
}

static inline uint64_t gz_token_hash(const char *s, size_t len)
{
	uint64_t h = GZ_TOKEN_HASH_K ^ len, w = 0;
	size_t i = 0;
	for (; i + 8 < len; i += 8) {
		__builtin_memcpy(&w, s + i, 8);
		h = gz_hash_step(h, w);
	}
	w = 0;
	for (size_t k = 0; i + k < len; k++)
		w |= (uint64_t)(unsigned char)s[i + k] << (8 * k);
	return gz_token_hash_last(h, w);
}

/* Building.  Each returns a non-negative id or GZ_ENOMEM. */
int64_t gz_trie_intern_token(struct gz_trie *t, const char *s, size_t len);
/* The same, hash being gz_token_hash(s, len), computed ahead. */
int64_t gz_trie_intern_token_hashed(struct gz_trie *t, uint64_t hash, const char *s, size_t len);
/* Hints that the token of this hash, or the edge from node by gap and
 * token, will soon be interned or followed: the builder compiles names a
 * batch at a time and asks for the batch's table slots before it needs
 * them, so that the cache misses of a big table overlap instead of coming
 * one after the other (issue 15: at 5M names they were half the build). */
void gz_trie_prefetch_token(const struct gz_trie *t, uint64_t hash);
void gz_trie_prefetch_edge(const struct gz_trie *t, uint32_t node, uint32_t gap, uint32_t token);
int64_t gz_trie_intern_gap(struct gz_trie *t, const char *s, size_t len);
/* Adds the path tokens[0..n) with gaps[1..n) between them (gaps[0] unused)
 * and attaches payload to its last node. */
int gz_trie_insert(struct gz_trie *t, const uint32_t *tokens, const uint32_t *gaps,
		   size_t n, uint32_t payload);
/* gz_trie_insert of count paths, the same trie as inserting them one after
 * the other (the payloads of a node in that order), with the cache misses
 * of the edge table overlapped: the paths go down level by level, each
 * level's edges asked for before they are followed.  Node ids are numbered
 * in that order, which nothing outside the trie depends on. */
struct gz_trie_path {
	const uint32_t *tokens, *gaps;
	size_t n;
	uint32_t payload;
	uint32_t node;      /* scratch */
};
int gz_trie_insert_batch(struct gz_trie *t, struct gz_trie_path *paths, size_t count);
/* Ends building: groups payloads by node.  No insertion afterwards. */
int gz_trie_finish(struct gz_trie *t);

/* Lookups (after finish; read-only, thread-safe).  hash is
 * gz_token_hash(s, len), which a caller often has at hand. */
int64_t gz_trie_find_token(const struct gz_trie *t, uint64_t hash, const char *s, size_t len);
/* The vocabulary's filter (a blocked Bloom filter, see trie.c): the tagger
 * tests it inline, so that the common word that is in no name costs no call
 * and, in a big gazetteer, no cache miss in the slot table. */
/* The filter word of a hash: a multiplication spreads all 32 bits into the
 * high ones, which pick the word; the low 18 bits pick the three bits. */
static inline size_t gz_filter_word(uint32_t h, size_t mask)
{
	return (size_t)(((uint64_t)h * 0x9E3779B97F4A7C15ULL) >> 32) & mask;
}

/* The three bits of a hash in its word: one of GZ_FILTER_PATTERNS words of
 * three bits (filled by gz_trie_new), picked by the hash's top bits: one
 * load in place of three shifts by a variable count. */
#define GZ_FILTER_PATTERNS 1024
extern uint64_t gz_filter_patterns[GZ_FILTER_PATTERNS];
static inline uint64_t gz_filter_bits(uint64_t hash)
{
	return gz_filter_patterns[hash >> 54];
}

struct gz_trie_filter {
	const uint64_t *bits;
	size_t mask;
};
struct gz_trie_filter gz_trie_token_filter(const struct gz_trie *t);
/* The same filter over the tokens that start a name: between segments the
 * scan asks this one, since a token no name starts with matters only when
 * it continues one. */
struct gz_trie_filter gz_trie_start_filter(const struct gz_trie *t);
static inline int gz_trie_filter_maybe(struct gz_trie_filter f, uint64_t hash)
{
	if (!f.bits)
		return 1;
	uint64_t bits = gz_filter_bits(hash);
	return (f.bits[gz_filter_word((uint32_t)hash, f.mask)] & bits) == bits;
}

/* The scan's look-up of a folded token: for hash = gz_token_hash_padded(s,
 * len) that has passed the filter already, and s readable for 8 bytes past
 * len > 0.  Returns the id or -1; for an id, *starts tells whether some name
 * starts with the token (the root has a child for it), so that a token no
 * name starts with costs no walk from it. */
int64_t gz_trie_scan_token(const struct gz_trie *t, uint64_t hash, const char *s, size_t len,
			   int *starts);

int64_t gz_trie_find_gap(const struct gz_trie *t, const char *s, size_t len);
uint32_t gz_trie_step(const struct gz_trie *t, uint32_t node, uint32_t gap, uint32_t token);
/* The node arrays of a finished trie, read-only, for the walks the tagger
 * inlines (a call per step is a good part of matching a short segment):
 * root_child[token] is the root's child by a token (GZ_TRIE_NONE: no name
 * starts with it), payloads[first[node] .. first[node + 1]) a node's
 * payloads, has_children[node] whether edges leave it (has_children is NULL
 * when no edge does).  Steps below the root go through gz_trie_step. */
struct gz_trie_nodes {
	const uint32_t *root_child, *first, *payloads;
	const unsigned char *has_children;
};
struct gz_trie_nodes gz_trie_nodes(const struct gz_trie *t);

/* Payloads attached to node: *count of them starting at the returned pointer. */
const uint32_t *gz_trie_payloads(const struct gz_trie *t, uint32_t node, size_t *count);
/* Whether any edge leaves node (lets the scan stop without probing). */
int gz_trie_has_children(const struct gz_trie *t, uint32_t node);

/* The arrays of a finished trie as they lie in memory, for a snapshot
 * (snapshot.c) to write, check and map again.  Its tables hold 16-byte
 * records: a string table's slot and an edge, whose layout the snapshot
 * format fixes. */
#define GZ_TRIE_RECORD_SIZE 16
struct gz_trie_slot {
	uint64_t head;      /* the string's first eight bytes, zero-padded */
	uint32_t hash;      /* the low 32 bits of its hash */
	uint32_t id1;       /* id + 1, | GZ_TRIE_SLOT_LONG | GZ_TRIE_SLOT_START;
			     * 0: empty */
};
#define GZ_TRIE_SLOT_LONG 0x80000000u   /* the string is longer than its head */
#define GZ_TRIE_SLOT_START 0x40000000u  /* some name starts with the token */
#define GZ_TRIE_SLOT_ID (GZ_TRIE_SLOT_START - 1)
struct gz_trie_edge {
	uint32_t node, token, gap, child;   /* child GZ_TRIE_NONE: empty */
};
struct gz_trie_table {
	const char *pool;
	size_t pool_len;
	const uint64_t *offs;     /* id -> offset << 16 | length */
	size_t count;
	const void *slots;        /* mask + 1 records */
	size_t mask;
	const uint64_t *filter;   /* filter_mask + 1 words, or NULL */
	size_t filter_mask;
};
struct gz_trie_parts {
	struct gz_trie_table tokens, gaps;
	const void *edges;        /* edge_mask + 1 records, or NULL */
	size_t edge_mask;
	size_t node_count;
	const unsigned char *has_children;  /* node_count */
	const uint32_t *node_first;         /* node_count + 1 */
	const uint32_t *payloads;           /* node_first[node_count] */
	const uint32_t *root_child;         /* tokens.count */
	const uint64_t *start_filter;       /* start_filter_mask + 1 words */
	size_t start_filter_mask;
};
void gz_trie_parts(const struct gz_trie *t, struct gz_trie_parts *p);
/* A finished trie over parts' arrays, which it borrows (they must outlive
 * it; gz_trie_free leaves them alone).  NULL when out of memory. */
struct gz_trie *gz_trie_from_parts(const struct gz_trie_parts *p);

size_t gz_trie_node_count(const struct gz_trie *t);
size_t gz_trie_token_count(const struct gz_trie *t);
size_t gz_trie_memory(const struct gz_trie *t);

#endif
