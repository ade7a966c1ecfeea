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

/* Hash used for the vocabulary; the tagger computes it over each folded
 * token.  Eight bytes a step: tokens are short, and a byte-at-a-time hash
 * would be a chain of multiplications as long as the word. */
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

/* Building.  Each returns a non-negative id or GZ_ENOMEM. */
int64_t gz_trie_intern_token(struct gz_trie *t, const char *s, size_t len);
int64_t gz_trie_intern_gap(struct gz_trie *t, const char *s, size_t len);
/* Adds the path tokens[0..n) with gaps[1..n) between them (gaps[0] unused)
 * and attaches payload to its last node. */
int gz_trie_insert(struct gz_trie *t, const uint32_t *tokens, const uint32_t *gaps,
		   size_t n, uint32_t payload);
/* Ends building: groups payloads by node.  No insertion afterwards. */
int gz_trie_finish(struct gz_trie *t);

/* Lookups (after finish; read-only, thread-safe). */
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

struct gz_trie_filter {
	const uint64_t *bits;
	size_t mask;
};
struct gz_trie_filter gz_trie_token_filter(const struct gz_trie *t);
static inline int gz_trie_filter_maybe(struct gz_trie_filter f, uint64_t hash)
{
	uint32_t h = (uint32_t)hash;
	if (!f.bits)
		return 1;
	uint64_t bits = (1ULL << (h & 63)) | (1ULL << ((h >> 6) & 63)) | (1ULL << ((h >> 12) & 63));
	return (f.bits[gz_filter_word(h, f.mask)] & bits) == bits;
}

int64_t gz_trie_find_gap(const struct gz_trie *t, const char *s, size_t len);
uint32_t gz_trie_step(const struct gz_trie *t, uint32_t node, uint32_t gap, uint32_t token);
/* Payloads attached to node: *count of them starting at the returned pointer. */
const uint32_t *gz_trie_payloads(const struct gz_trie *t, uint32_t node, size_t *count);
/* Whether any edge leaves node (lets the scan stop without probing). */
int gz_trie_has_children(const struct gz_trie *t, uint32_t node);

size_t gz_trie_node_count(const struct gz_trie *t);
size_t gz_trie_token_count(const struct gz_trie *t);
size_t gz_trie_memory(const struct gz_trie *t);

#endif
