/*
 * Common words; see words.h.
 *
 * The lists come from daemon/words/LANG.txt through words/embed.py, which
 * writes them into the binary as one string per language, a word a line, most
 * frequent first.  On first use each word is folded like a name's token
 * (fold.h) and put in an open-addressing table of (hash, word) with two
 * bitmasks: the languages it is common in, and those whose STOP_RANK most
 * frequent words include it.  The second mask is all that language detection
 * needs: function words ("the", "de", "und", "и") tell languages apart
 * within a few sentences, so the guess reads at most DETECT_WORDS words.
 */
#include "words.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fold.h"
#include "trie.h"
#include "words/words_data.h"

#define STOP_RANK 100       /* the words that identify a language */
#define DETECT_WORDS 2000   /* words read to guess a text's language */
#define WORD_MAX 64         /* folded bytes; longer words are not kept */

struct word {
	uint64_t hash;
	uint32_t off;       /* into pool */
	uint16_t len;
	uint32_t common, stop;
};

static struct word *table;  /* open addressing; len 0 marks an empty slot */
static size_t mask;
static char *pool;
static size_t lang_count;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static struct word *slot_of(uint64_t h, const char *s, size_t len)
{
	for (size_t j = h & mask;; j = (j + 1) & mask) {
		struct word *w = &table[j];
		if (!w->len || (w->hash == h && w->len == len && memcmp(pool + w->off, s, len) == 0))
			return w;
	}
}

static void build(void)
{
	gz_fold_init();
	size_t words = 0, bytes = 0;
	lang_count = gz_words_list_count < GZ_WORDS_MAX_LANGS ? gz_words_list_count
							       : GZ_WORDS_MAX_LANGS;
	for (size_t l = 0; l < lang_count; l++) {
		const char *s = gz_words_lists[l].words;
		bytes += strlen(s);
		for (; *s; s++)
			words += *s == '\n';
	}
	size_t cap = 64;
	while (cap < words * 2)
		cap *= 2;
	/* folding never makes a word more than GZ_FOLD_MAX times longer, but
	 * words longer than WORD_MAX are dropped, so this bounds the pool */
	pool = malloc(bytes * 4 + WORD_MAX + 1);
	table = calloc(cap, sizeof(*table));
	if (!pool || !table) {
		free(pool);
		free(table);
		pool = NULL;
		table = NULL;
		lang_count = 0; /* no lists: nothing is common, all is English */
		return;
	}
	mask = cap - 1;
	size_t used = 0;
	for (size_t l = 0; l < lang_count; l++) {
		const char *s = gz_words_lists[l].words;
		size_t rank = 0;
		while (*s) {
			const char *nl = strchr(s, '\n');
			size_t n = nl ? (size_t)(nl - s) : strlen(s);
			char f[WORD_MAX + GZ_FOLD_MAX];
			size_t fl = gz_fold_string(s, n, 1, f, sizeof f);
			if (fl > 0 && fl <= WORD_MAX && used + fl <= bytes * 4 + WORD_MAX) {
				uint64_t h = gz_hash_bytes(f, fl);
				struct word *w = slot_of(h, f, fl);
				if (!w->len) {
					memcpy(pool + used, f, fl);
					*w = (struct word){ h, (uint32_t)used, (uint16_t)fl, 0, 0 };
					used += fl;
				}
				w->common |= 1u << l;
				if (rank < STOP_RANK)
					w->stop |= 1u << l;
			}
			rank++;
			s += n + (nl != NULL);
		}
	}
}

void gz_words_init(void)
{
	pthread_once(&once, build);
}

size_t gz_words_lang_count(void)
{
	gz_words_init();
	return lang_count;
}

const char *gz_words_lang(size_t i)
{
	return gz_words_lists[i].lang;
}

uint32_t gz_words_common(const char *folded, size_t len)
{
	gz_words_init();
	if (!table || len == 0 || len > WORD_MAX)
		return 0;
	const struct word *w = slot_of(gz_hash_bytes(folded, len), folded, len);
	return w->len ? w->common : 0;
}

size_t gz_words_detect(const unsigned char *s, size_t len)
{
	gz_words_init();
	if (!table || lang_count < 2)
		return 0;
	unsigned hits[GZ_WORDS_MAX_LANGS] = { 0 };
	char f[WORD_MAX + GZ_FOLD_MAX];
	size_t i = 0, fl = 0, seen = 0;
	int in_word = 0;
	while (i <= len && seen < DETECT_WORDS) {
		uint32_t cp = 0;
		size_t n = 1;
		enum gz_class c = GZ_C_SPACE;
		if (i < len) {
			n = gz_utf8_decode(s + i, len - i, &cp);
			c = gz_fold_class(cp);
		}
		if (c == GZ_C_WORD || (c == GZ_C_MARK && in_word)) {
			if (fl <= WORD_MAX)
				fl += gz_fold_cp(cp, 1, f + fl);
			in_word = 1;
		} else if (c != GZ_C_IGNORE && in_word) {
			if (fl <= WORD_MAX) {
				const struct word *w = slot_of(gz_hash_bytes(f, fl), f, fl);
				for (uint32_t m = w->len ? w->stop : 0; m; m &= m - 1)
					hits[__builtin_ctz(m)]++;
			}
			seen++;
			fl = 0;
			in_word = 0;
		}
		i += n;
	}
	size_t best = 0;
	for (size_t l = 1; l < lang_count; l++)
		if (hits[l] > hits[best])
			best = l;
	return best;
}
