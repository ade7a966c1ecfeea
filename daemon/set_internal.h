/*
 * What the tagger needs to see inside a gz_set: the trie and the name
 * records that hang from its nodes.  Not for use outside the engine.
 */
#ifndef GZ_SET_INTERNAL_H
#define GZ_SET_INTERNAL_H

#include "set.h"
#include "trie.h"

/* One surface form of one entry, as attached to a trie node.  32 bytes:
 * a big gazetteer has millions. */
struct gz_name {
	uint32_t entry;        /* index into the set's entries */
	uint32_t lead, trail;  /* offsets into the string pool of the punctuation */
	/* case_rule GZ_CASE_SENSITIVE: pool offset of the form folded without
	 * case folding; GZ_CASE_PROPER: bit k set when token k (k < 32) starts
	 * with a capital in the name (evidence.c reads the lowest) */
	uint32_t cased;
	uint32_t form;         /* 0: the entry's name; k: its alias k - 1 */
	uint16_t lead_len, trail_len; /* the punctuation that must precede / follow the tokens */
	uint16_t cased_len;
	uint16_t type;         /* the entry's type index */
	uint8_t case_rule;     /* enum gz_case */
	uint8_t flags;         /* GZ_NAME_* */
	uint8_t common_langs;  /* one-token names: bit l when the token is a
				* common word of language l (words.h) */
	uint8_t pad;
};

#define GZ_NAME_SKIP 1        /* from a file that says common_words: skip */
#define GZ_NAME_ONE_TOKEN 2
#define GZ_NAME_EVIDENCE 4    /* its entry says evidence: required */
#define GZ_NAME_SURNAME 8     /* one word of a person ("Harris"): another
			       * person's surname after a first name */

/* The arrays of a built set as they lie in memory, for a snapshot
 * (snapshot.c) to write and to map again. */
struct gz_set_parts {
	const struct gz_entry *entries;
	size_t entry_count;
	const struct gz_alias *aliases;   /* every entry's, in entry order */
	size_t alias_count;
	const struct gz_name *names;
	size_t name_count;
	const char *pool;
	size_t pool_len;
	const uint32_t *id_slots;         /* id_mask + 1 */
	size_t id_mask;
	const char *const *regions;       /* [1 .. region_count] (their slots
					   * serve only the build) */
	size_t region_count;
	const char *const *types;
	size_t type_count;
	const struct gz_file_info *files;
	size_t file_count;
	const struct gz_trie *trie;
};
void gz_set_parts(const struct gz_set *set, struct gz_set_parts *p);

/* A set over parts' arrays (a snapshot): it copies the small ones
 * (regions, types, files) and borrows the others; it takes the trie, which
 * it frees.  hash is the content hash the set was built from.  NULL when
 * out of memory (nothing is freed then). */
struct gz_set *gz_set_adopt(const struct gz_set_parts *p, struct gz_trie *trie,
			    const char *hash);
/* Gives set the mapping its borrowed arrays lie in, unmapped with it, and
 * how long mapping and checking it took (gz_set_load_seconds). */
void gz_set_hand_over_map(struct gz_set *set, void *map, size_t map_len, double seconds);
/* The mapping set's arrays lie in (NULL for a set built from YAML). */
const void *gz_set_map(const struct gz_set *set, size_t *map_len);
/* How many references set has at this moment (others may take or drop
 * theirs meanwhile). */
unsigned gz_set_refs(const struct gz_set *set);

/* The content hash of files (gz_set_hash): from each one's length and
 * XXH3-128 (canonical), in load order.  0 or GZ_ENOMEM. */
int gz_content_hash(const uint64_t *lens, const unsigned char (*digests)[16], size_t n,
		    char out[33]);

/* The files gz_set_load reads for paths, in its order (malloc'd strings in
 * a malloc'd array); problems (a missing path) counted and added to diag. */
int gz_set_list_files(const char *const *paths, size_t npaths, char ***out, size_t *count,
		      struct gz_diag *diag, int *problems);

const struct gz_trie *gz_set_trie(const struct gz_set *set);
const struct gz_name *gz_set_names(const struct gz_set *set);
const char *gz_set_pool(const struct gz_set *set);

#endif
