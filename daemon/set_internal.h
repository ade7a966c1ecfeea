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

const struct gz_trie *gz_set_trie(const struct gz_set *set);
const struct gz_name *gz_set_names(const struct gz_set *set);
const char *gz_set_pool(const struct gz_set *set);

#endif
