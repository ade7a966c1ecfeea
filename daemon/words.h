/*
 * Common words (SPEC §8.2): the word-frequency lists shipped in
 * daemon/words/LANG.txt, embedded at build time, folded the way names are,
 * in one hash table built on first use.  A gazetteer that says
 * `common_words: skip` has its one-token names that fold to a common word of
 * the text's language matched only with evidence; the text's language is
 * guessed from the most frequent words of each list.
 */
#ifndef GZ_WORDS_H
#define GZ_WORDS_H

#include <stddef.h>
#include <stdint.h>

#define GZ_WORDS_MAX_LANGS 8

/* Thread-safe; later calls do nothing.  Calls gz_fold_init. */
void gz_words_init(void);

size_t gz_words_lang_count(void);
/* The list's language code ("en"); i < gz_words_lang_count(). */
const char *gz_words_lang(size_t i);

/* Bit i set when the folded token s[0..len) is a common word of language i. */
uint32_t gz_words_common(const char *folded, size_t len);

/* The language of text[0..len) (valid UTF-8): the list whose most frequent
 * words it uses most, judged on its first few thousand words; 0 (the first
 * list, English) when it uses none. */
size_t gz_words_detect(const unsigned char *text, size_t len);

#endif
