/* The common-word lists embedded by daemon/words/embed.py (words.c reads
 * them).  English comes first: it is the language of a text that uses no
 * list's frequent words. */
#ifndef GZ_WORDS_DATA_H
#define GZ_WORDS_DATA_H

#include <stddef.h>

struct gz_words_list {
	const char *lang;
	const char *words;   /* a word a line, most frequent first */
};

extern const struct gz_words_list gz_words_lists[];
extern const size_t gz_words_list_count;

#endif
