/*
 * What the tagger needs to see inside a gz_set: the trie and the name
 * records that hang from its nodes.  Not for use outside the engine.
 */
#ifndef GZ_SET_INTERNAL_H
#define GZ_SET_INTERNAL_H

#include "set.h"
#include "trie.h"

/* One surface form of one entry, as attached to a trie node. */
struct gz_name {
	uint32_t entry;        /* index into the set's entries */
	uint32_t type;         /* the entry's type index */
	uint32_t lead, trail;  /* offsets into the string pool of the punctuation */
	uint16_t lead_len, trail_len; /* that must precede / follow the tokens */
	uint32_t cased;        /* case-sensitive names: offset of the cased form */
	uint32_t cased_len;
	uint8_t case_sensitive;
};

const struct gz_trie *gz_set_trie(const struct gz_set *set);
const struct gz_name *gz_set_names(const struct gz_set *set);
const char *gz_set_pool(const struct gz_set *set);

#endif
