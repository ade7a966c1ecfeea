/*
 * Gazetteer sets: load files, check ids across them, compile every name into
 * a trie path, and share the result read-only between threads.
 *
 * Compiling a name follows the same tokenizer rules as the text scan (fold.h
 * classes): word characters build tokens, folded case-insensitively for the
 * trie key; the characters between two tokens become the gap, of which only
 * the significant ones (not whitespace, dashes or apostrophes) are kept;
 * punctuation before the first or after the last token becomes the name's
 * lead or trail, checked against the text around a match.  A case-sensitive
 * name also keeps its tokens folded without case folding, compared with the
 * text only once the caseless path has matched, so case costs nothing on the
 * scan.  Identical forms of one entry are stored once.
 */
#include "set_internal.h"

#include <dirent.h>
#include <malloc.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "bigmem.h"
#include "fold.h"
#include "gazetteer.h"
#include "tokenize.h"
#include "words.h"


/* ----------------------------------------------------------------- types */

struct arena_block;

struct gz_set {
	atomic_int refs;
	struct arena_block *arena;
	struct gz_gazetteer **gazetteers;
	size_t gazetteer_count;
	struct gz_entry *entries;
	size_t entry_count, entry_cap;
	struct gz_alias *aliases;    /* all entries' aliases, in one array */
	size_t alias_cap;
	struct gz_file_info *files;
	size_t file_count;
	char **types;
	size_t type_count;
	uint32_t *id_slots;          /* id hash -> entry index + 1 (0: empty) */
	size_t id_mask;
	const char **regions;        /* region id -> string (in the arena); [0] unused */
	size_t region_count, region_cap;
	uint32_t *region_slots;      /* string hash -> region id (0: empty) */
	size_t region_mask;
	struct gz_trie *trie;
	struct gz_name *names;
	size_t name_count, name_cap;
	char *pool;
	size_t pool_len, pool_cap;
	struct timespec loaded_at;
	double load_seconds;
	char hash[33];               /* gz_set_hash: 32 lowercase hex digits */
	/* gz_set_adopt: entries, aliases, names, pool and the slot tables are
	 * borrowed from a mapped snapshot (types' strings too) */
	void *map;
	size_t map_len;
	int borrowed;
};

/* A name being compiled: the scratch of compile_text and resolve_ids.
 * compile_text leaves each token's folded text in key (at tok_at, tok_len
 * bytes) with its vocabulary hash, and each gap's text there too; then
 * resolve_ids turns them into the trie's ids in tokens and gaps. */
struct compiled {
	uint32_t tokens[256], gaps[256];
	uint64_t tok_hash[256];
	uint16_t tok_at[256], tok_len[256], gap_at[256], gap_len[256];
	size_t n;
	char lead[64], trail[64], cased[1024], key[2048];
	size_t lead_len, trail_len, cased_len, key_len;
	size_t first_len;   /* key[0..first_len) is the first token, folded */
	uint32_t upper;     /* bit k: token k starts with a capital */
	int too_long;
};

/* ----------------------------------------------------------------- arena */

/* The strings of a set (ids, names, aliases, attrs text, paths) live in
 * large blocks freed together: one malloc per string would cost more than
 * most strings, at a million entries.  The first block is 1 MB, the next
 * ones 8 MB, big arrays on huge pages (bigmem.h). */
#define ARENA_FIRST (1u << 20)
#define ARENA_NEXT (8u << 20)
struct arena_block {
	struct arena_block *next;
	size_t used, size;
	char data[];
};

static char *arena_alloc(struct arena_block **arena, size_t len)
{
	struct arena_block *b = *arena;
	if (!b || b->size - b->used < len) {
		size_t size = b ? ARENA_NEXT : ARENA_FIRST;
		if (size < len)
			size = len;
		b = gz_big_alloc(sizeof(*b) + size);
		if (!b)
			return NULL;
		b->next = *arena;
		b->used = 0;
		b->size = size;
		*arena = b;
	}
	char *p = b->data + b->used;
	b->used += len;
	return p;
}

static const char *arena_strdup(struct arena_block **arena, const char *str, int *oom)
{
	if (!str)
		return NULL;
	size_t len = strlen(str) + 1;
	char *p = arena_alloc(arena, len);
	if (!p) {
		*oom = 1;
		return NULL;
	}
	memcpy(p, str, len);
	return p;
}

/* ----------------------------------------------------------- string pool */

static int64_t pool_add(struct gz_set *s, const char *p, size_t len)
{
	if (s->pool_len + len > s->pool_cap) {
		size_t cap = s->pool_cap ? s->pool_cap * 2 : 4096;
		while (cap < s->pool_len + len)
			cap *= 2;
		char *np = gz_big_resize(s->pool, s->pool_cap, cap);
		if (!np)
			return GZ_ENOMEM;
		s->pool = np;
		s->pool_cap = cap;
	}
	memcpy(s->pool + s->pool_len, p, len);
	s->pool_len += len;
	return (int64_t)(s->pool_len - len);
}

/* --------------------------------------------------------- name compiling */

static void append(char *buf, size_t *len, size_t cap, const char *p, size_t n, int *overflow)
{
	if (*len + n > cap) {
		*overflow = 1;
		return;
	}
	memcpy(buf + *len, p, n);
	*len += n;
}

/* Tokenizes and folds name into c by the rules of tokenize.h, the text
 * scan's.  Touches no table, so that the builder can compile a batch of
 * names, ask for the table slots their tokens need (their hashes are
 * known here), then intern them.  Returns 0 or GZ_EINVAL (too long). */
static int compile_text(const char *name, int case_rule, struct compiled *c)
{
	const unsigned char *s = (const unsigned char *)name;
	size_t len = strlen(name), i = 0;
	char tok[1024], gap[256], fold[GZ_FOLD_MAX];
	size_t tok_len = 0, gap_len = 0;
	int in_token = 0, solo = 0, overflow = 0, nl_run = 0;

	c->n = 0;
	c->lead_len = c->trail_len = c->cased_len = c->key_len = 0;
	c->first_len = 0;
	c->upper = 0;
	c->too_long = 0;

#define END_TOKEN()                                                              \
	do {                                                                     \
		if (in_token) {                                                  \
			if (c->n == 256 || tok_len == 0)                         \
				return GZ_EINVAL;                                \
			if (c->n == 0)                                           \
				c->first_len = tok_len;                          \
			c->tok_at[c->n] = (uint16_t)c->key_len;                  \
			c->tok_len[c->n] = (uint16_t)tok_len;                    \
			c->tok_hash[c->n++] = gz_token_hash(tok, tok_len);       \
			append(c->key, &c->key_len, sizeof c->key, tok, tok_len, &overflow); \
			append(c->key, &c->key_len, sizeof c->key, "\x1f", 1, &overflow); \
			if (case_rule == GZ_CASE_SENSITIVE)                      \
				append(c->cased, &c->cased_len, sizeof c->cased, "\x1f", 1, &overflow); \
			in_token = 0;                                            \
			tok_len = 0;                                             \
			gap_len = 0;                                             \
		}                                                                \
	} while (0)

	while (i < len) {
		uint32_t cp;
		i += gz_utf8_decode(s + i, len - i, &cp);
		enum gz_class cl = gz_fold_class(cp);
		switch (gz_tok_step(cl, in_token, solo)) {
		case GZ_TOK_SKIP:
			continue;
		case GZ_TOK_START:
			END_TOKEN();
			/* what lies before this token is the lead or a gap */
			if (c->n == 0) {
				append(c->lead, &c->lead_len, sizeof c->lead, gap, gap_len, &overflow);
				c->gaps[0] = 0;
			} else {
				if (c->n >= 256)
					return GZ_EINVAL; /* too many tokens */
				c->gap_at[c->n] = (uint16_t)c->key_len;
				c->gap_len[c->n] = (uint16_t)gap_len;
				append(c->key, &c->key_len, sizeof c->key, gap, gap_len, &overflow);
				append(c->key, &c->key_len, sizeof c->key, "\x1e", 1, &overflow);
			}
			gap_len = 0;
			nl_run = 0;
			in_token = 1;
			solo = cl == GZ_C_SOLO;
			if (c->n < 32 && gz_fold_case(cp) == GZ_UPPER)
				c->upper |= 1u << c->n;
			/* fall through - to the token's first character */
		case GZ_TOK_JOIN: {
			size_t k = gz_tok_fold(cp, fold);
			append(tok, &tok_len, sizeof tok, fold, k, &overflow);
			if (case_rule == GZ_CASE_SENSITIVE) {
				k = gz_tok_fold_cased(cp, fold);
				append(c->cased, &c->cased_len, sizeof c->cased, fold, k, &overflow);
			}
			break;
		}
		case GZ_TOK_GAP:
			END_TOKEN();
			/* (a blank line is soft here: a name that holds one
			 * loads, and never matches, as no match spans one) */
			if (gz_gap_step(&nl_run, cp, cl, cp == '\r' && i < len && s[i] == '\n') ==
			    GZ_GAP_PUNCT) {
				size_t k = gz_tok_fold(cp, fold);
				append(gap, &gap_len, sizeof gap, fold, k, &overflow);
			}
			break;
		}
		if (overflow)
			return GZ_EINVAL;
	}
	END_TOKEN();
#undef END_TOKEN
	/* what is left in gap follows the last token */
	append(c->trail, &c->trail_len, sizeof c->trail, gap, gap_len, &overflow);
	append(c->key, &c->key_len, sizeof c->key, "\x1d", 1, &overflow);
	append(c->key, &c->key_len, sizeof c->key, c->lead, c->lead_len, &overflow);
	append(c->key, &c->key_len, sizeof c->key, "\x1d", 1, &overflow);
	append(c->key, &c->key_len, sizeof c->key, c->trail, c->trail_len, &overflow);
	if (overflow || c->n == 0)
		return GZ_EINVAL;
	return 0;
}

/* The ids of c's tokens and gaps: interned in trie, the trie being built,
 * or, with trie NULL, found in done, the finished one (1 when a token or
 * gap is not there: no name has it).  Returns 0, 1 or GZ_ENOMEM. */
static int resolve_ids(struct gz_trie *trie, const struct gz_trie *done, struct compiled *c)
{
	for (size_t k = 0; k < c->n; k++) {
		const char *tok = c->key + c->tok_at[k];
		int64_t id = trie ? gz_trie_intern_token_hashed(trie, c->tok_hash[k], tok, c->tok_len[k])
				  : gz_trie_find_token(done, c->tok_hash[k], tok, c->tok_len[k]);
		if (id < 0)
			return trie ? (int)id : 1;
		c->tokens[k] = (uint32_t)id;
		if (k == 0) {
			c->gaps[0] = 0;
			continue;
		}
		const char *gap = c->key + c->gap_at[k];
		int64_t g = !c->gap_len[k] ? 0
			    : trie       ? gz_trie_intern_gap(trie, gap, c->gap_len[k])
					 : gz_trie_find_gap(done, gap, c->gap_len[k]);
		if (g < 0)
			return trie ? (int)g : 1;
		c->gaps[k] = (uint32_t)g;
	}
	return 0;
}

/* ------------------------------------------------------------ loading */

static int has_yaml_suffix(const char *n)
{
	size_t l = strlen(n);
	return (l > 5 && strcmp(n + l - 5, ".yaml") == 0) || (l > 4 && strcmp(n + l - 4, ".yml") == 0);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Expands paths into the list of files to load, in load order. */
int gz_set_list_files(const char *const *paths, size_t npaths, char ***out, size_t *count,
		      struct gz_diag *diag, int *problems)
{
	char **files = NULL;
	size_t n = 0, cap = 0;
	for (size_t p = 0; p < npaths; p++) {
		struct stat st;
		if (stat(paths[p], &st) != 0) {
			gz_diag_add(diag, paths[p], 0, 0, "cannot open: %s", strerror(errno));
			(*problems)++;
			continue;
		}
		char **found = NULL;
		size_t nfound = 0, capfound = 0;
		if (S_ISDIR(st.st_mode)) {
			DIR *d = opendir(paths[p]);
			if (!d) {
				gz_diag_add(diag, paths[p], 0, 0, "cannot open: %s", strerror(errno));
				(*problems)++;
				continue;
			}
			struct dirent *de;
			while ((de = readdir(d))) {
				if (de->d_name[0] == '.' || !has_yaml_suffix(de->d_name))
					continue;
				size_t l = strlen(paths[p]) + strlen(de->d_name) + 2;
				char *full = malloc(l);
				if (!full)
					break;
				snprintf(full, l, "%s%s%s", paths[p],
					 paths[p][strlen(paths[p]) - 1] == '/' ? "" : "/", de->d_name);
				struct stat fst;
				if (stat(full, &fst) != 0 || !S_ISREG(fst.st_mode)) {
					free(full);
					continue;
				}
				if (nfound == capfound) {
					capfound = capfound ? capfound * 2 : 16;
					char **nf = realloc(found, capfound * sizeof(*nf));
					if (!nf) {
						free(full);
						break;
					}
					found = nf;
				}
				found[nfound++] = full;
			}
			closedir(d);
			if (nfound == 0) {
				gz_diag_add(diag, paths[p], 0, 0, "no *.yaml or *.yml files in this directory");
				(*problems)++;
			}
			if (nfound > 1)
				qsort(found, nfound, sizeof(*found), cmp_str);
		} else {
			found = malloc(sizeof(*found));
			if (found && (found[0] = strdup(paths[p])))
				nfound = 1;
		}
		for (size_t i = 0; i < nfound; i++) {
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				char **nf = realloc(files, cap * sizeof(*nf));
				if (!nf) {
					for (; i < nfound; i++)
						free(found[i]);
					free(found);
					goto oom;
				}
				files = nf;
			}
			files[n++] = found[i];
		}
		free(found);
	}
	*out = files;
	*count = n;
	return 0;
oom:
	for (size_t i = 0; i < n; i++)
		free(files[i]);
	free(files);
	return GZ_ENOMEM;
}

static int type_index(struct gz_set *s, const char *type)
{
	for (size_t i = 0; i < s->type_count; i++)
		if (strcmp(s->types[i], type) == 0)
			return (int)i;
	char **t = realloc(s->types, (s->type_count + 1) * sizeof(*t));
	if (!t)
		return GZ_ENOMEM;
	s->types = t;
	if (!(t[s->type_count] = strdup(type)))
		return GZ_ENOMEM;
	return (int)s->type_count++;
}

/* ------------------------------------------------------------- regions */

/* Region ids: attrs.country and attrs.admin1 strings interned, so that the
 * tagger compares integers.  Open addressing, at most half full. */
static uint32_t *region_slot(const struct gz_set *s, const char *str)
{
	size_t j = gz_hash_bytes(str, strlen(str)) & s->region_mask;
	for (; s->region_slots[j]; j = (j + 1) & s->region_mask)
		if (strcmp(s->regions[s->region_slots[j]], str) == 0)
			break;
	return &s->region_slots[j];
}

static int64_t region_intern(struct gz_set *s, const char *str)
{
	if (!str)
		return 0;
	if (s->region_count + 1 >= s->region_cap / 2) {
		size_t cap = s->region_cap ? s->region_cap * 2 : 256;
		const char **names = realloc(s->regions, cap * sizeof(*names));
		uint32_t *slots = calloc(cap, sizeof(*slots));
		if (!names || !slots) {
			if (names)
				s->regions = names;
			free(slots);
			return GZ_ENOMEM;
		}
		s->regions = names;
		free(s->region_slots);
		s->region_slots = slots;
		s->region_cap = cap;
		s->region_mask = cap - 1;
		for (uint32_t id = 1; id <= s->region_count; id++)
			*region_slot(s, s->regions[id]) = id;
	}
	uint32_t *slot = region_slot(s, str);
	if (!*slot) {
		int oom = 0;
		const char *copy = arena_strdup(&s->arena, str, &oom);
		if (oom)
			return GZ_ENOMEM;
		s->regions[++s->region_count] = copy;
		*slot = (uint32_t)s->region_count;
	}
	return *slot;
}

/* An entry whose id is some entry's country or admin1 ("country:
 * ukraine") qualifies and supports like that region. */
static void link_id_regions(struct gz_set *s)
{
	if (!s->region_count)
		return;
	for (size_t e = 0; e < s->entry_count; e++)
		s->entries[e].id_region = *region_slot(s, gz_entry_id(&s->entries[e]));
}

/* The id index of gz_set_find: open addressing, at most half full. */
static int index_ids(struct gz_set *s)
{
	size_t cap = 64;
	while (cap < s->entry_count * 2)
		cap *= 2;
	s->id_slots = gz_big_alloc(cap * sizeof(*s->id_slots));
	if (!s->id_slots)
		return GZ_ENOMEM;
	s->id_mask = cap - 1;
	for (size_t e = 0; e < s->entry_count; e++) {
		const char *id = gz_entry_id(&s->entries[e]);
		size_t j = gz_hash_bytes(id, strlen(id)) & s->id_mask;
		while (s->id_slots[j])
			j = (j + 1) & s->id_mask;
		s->id_slots[j] = (uint32_t)e + 1;
	}
	return 0;
}

struct id_use {
	const char *id, *file;
	int line, column;
	size_t order;
};


/* Reports every id used twice, across all files, naming where it was first
 * defined.  Runs over the ids of all entries, invalid ones included, so one
 * --check run shows a duplicate even beside another problem. */
static int check_duplicate_ids(struct gz_set *s, struct gz_diag *diag, int *problems)
{
	size_t n = 0;
	for (size_t g = 0; g < s->gazetteer_count; g++)
		n += s->gazetteers[g]->id_count;
	if (n < 2)
		return 0;
	/* a hash set of the ids seen, in load order: each id met again is a
	 * duplicate of the one in the set (no sort: a million ids sorted with
	 * strcmp cost more than the rest of the check) */
	size_t cap = 64;
	while (cap < n * 2)
		cap *= 2;
	struct id_use *u = gz_big_alloc(n * sizeof(*u));
	uint32_t *slots = gz_big_alloc(cap * sizeof(*slots));
	if (!u || !slots) {
		gz_big_free(u, n * sizeof(*u));
		gz_big_free(slots, cap * sizeof(*slots));
		return GZ_ENOMEM;
	}
	size_t k = 0;
	for (size_t g = 0; g < s->gazetteer_count; g++)
		for (size_t i = 0; i < s->gazetteers[g]->id_count; i++, k++) {
			const struct gz_id_ref *r = &s->gazetteers[g]->ids[i];
			u[k] = (struct id_use){ r->id, s->gazetteers[g]->path, r->line, r->column, k };
			size_t j = gz_hash_bytes(r->id, strlen(r->id)) & (cap - 1);
			for (;; j = (j + 1) & (cap - 1)) {
				if (!slots[j]) {
					slots[j] = (uint32_t)k + 1;
					break;
				}
				const struct id_use *first = &u[slots[j] - 1];
				if (strcmp(first->id, r->id) == 0) {
					gz_diag_add(diag, u[k].file, u[k].line, u[k].column,
						    "duplicate id '%s' (first defined at %s:%d:%d)", r->id,
						    first->file, first->line, first->column);
					(*problems)++;
					break;
				}
			}
		}
	gz_big_free(slots, cap * sizeof(*slots));
	gz_big_free(u, n * sizeof(*u));
	return 0;
}

/* The keys of an entry's forms compiled so far, to store each form once:
 * one buffer kept from entry to entry (a malloc per form would cost more
 * than the form at millions of names). */
struct form_keys {
	char *buf;
	size_t len, cap;
	size_t *end;        /* key k is buf[end[k - 1] .. end[k]) */
	uint8_t *cs;        /* its case rule */
	size_t n, ncap;
};

static int keys_add(struct form_keys *ks, const char *key, size_t len, int cs)
{
	if (ks->len + len > ks->cap) {
		size_t cap = ks->cap ? ks->cap : 4096;
		while (cap < ks->len + len)
			cap *= 2;
		char *b = realloc(ks->buf, cap);
		if (!b)
			return GZ_ENOMEM;
		ks->buf = b;
		ks->cap = cap;
	}
	if (ks->n == ks->ncap) {
		size_t cap = ks->ncap ? ks->ncap * 2 : 64;
		size_t *end = realloc(ks->end, cap * sizeof(*end));
		if (!end)
			return GZ_ENOMEM;
		ks->end = end;
		uint8_t *c = realloc(ks->cs, cap);
		if (!c)
			return GZ_ENOMEM;
		ks->cs = c;
		ks->ncap = cap;
	}
	memcpy(ks->buf + ks->len, key, len);
	ks->len += len;
	ks->end[ks->n] = ks->len;
	ks->cs[ks->n++] = (uint8_t)cs;
	return 0;
}

/* Adds one surface form of entry e (form 0: its name, k: alias k - 1),
 * compiled in c with its ids resolved, and appends its path in the trie to
 * paths, for the caller to insert.  keys holds the keys of the entry's
 * forms added so far. */
static int add_name(struct gz_set *s, uint32_t e, uint32_t form, int cs, struct compiled *c,
		    struct form_keys *keys, struct gz_trie_path *paths, size_t *npaths)
{
	int r;
	size_t base_len = c->key_len;
	if (cs != GZ_CASE_INSENSITIVE) {
		/* the rule is part of the key: a proper and a sensitive form of
		 * one text match different texts */
		int overflow = 0;
		char rule[8];
		int rl = snprintf(rule, sizeof rule, "\x1c%d", cs);
		append(c->key, &c->key_len, sizeof c->key, rule, (size_t)rl, &overflow);
		if (cs == GZ_CASE_SENSITIVE)
			append(c->key, &c->key_len, sizeof c->key, c->cased, c->cased_len, &overflow);
		if (overflow)
			return GZ_EINVAL;
	}
	for (size_t k = 0; k < keys->n; k++) {
		const char *kd = keys->buf + (k ? keys->end[k - 1] : 0);
		size_t kl = keys->end[k] - (k ? keys->end[k - 1] : 0);
		if (kl == c->key_len && memcmp(kd, c->key, kl) == 0)
			return 0; /* the same form twice */
		/* an insensitive form already covers every cased variant */
		if (cs && !keys->cs[k] && kl == base_len && memcmp(kd, c->key, kl) == 0)
			return 0;
	}
	if ((r = keys_add(keys, c->key, c->key_len, cs)))
		return r;

	if (s->name_count == s->name_cap) {
		size_t cap = s->name_cap ? s->name_cap * 2 : 1024;
		struct gz_name *nn = gz_big_resize(s->names, s->name_cap * sizeof(*nn), cap * sizeof(*nn));
		if (!nn)
			return GZ_ENOMEM;
		s->names = nn;
		s->name_cap = cap;
	}
	struct gz_name *nm = &s->names[s->name_count];
	const struct gz_entry *en = &s->entries[e];
	memset(nm, 0, sizeof(*nm));
	nm->entry = e;
	nm->form = form;
	nm->type = (uint16_t)en->type_index;
	nm->case_rule = (uint8_t)cs;
	if (cs == GZ_CASE_PROPER)
		nm->cased = c->upper;
	if (c->n == 1)
		nm->flags |= GZ_NAME_ONE_TOKEN;
	if (en->evidence_required)
		nm->flags |= GZ_NAME_EVIDENCE;
	if (en->common_words_skip)
		nm->flags |= GZ_NAME_SKIP;
	if (c->n == 1 && !strcmp(gz_entry_type(en), "person"))
		nm->flags |= GZ_NAME_SURNAME;
	/* kept for every one-token name: the tagger reads it for GZ_NAME_SKIP
	 * names, --check warns of the others (risks.c) */
	if (c->n == 1)
		nm->common_langs = (uint8_t)gz_words_common(c->key, c->first_len);
	int64_t off;
	if (c->lead_len) {
		if ((off = pool_add(s, c->lead, c->lead_len)) < 0)
			return GZ_ENOMEM;
		nm->lead = (uint32_t)off;
		nm->lead_len = (uint16_t)c->lead_len;
	}
	if (c->trail_len) {
		if ((off = pool_add(s, c->trail, c->trail_len)) < 0)
			return GZ_ENOMEM;
		nm->trail = (uint32_t)off;
		nm->trail_len = (uint16_t)c->trail_len;
	}
	if (cs == GZ_CASE_SENSITIVE) {
		if ((off = pool_add(s, c->cased, c->cased_len)) < 0)
			return GZ_ENOMEM;
		nm->cased = (uint32_t)off;
		nm->cased_len = (uint16_t)c->cased_len;
	}
	paths[(*npaths)++] = (struct gz_trie_path){ c->tokens, c->gaps, c->n,
						    (uint32_t)s->name_count, 0 };
	s->name_count++;
	return 0;
}

static const struct gz_set *sort_set; /* qsort has no context argument */
static int cmp_rank(const void *a, const void *b)
{
	const struct gz_entry *x = &sort_set->entries[*(const uint32_t *)a];
	const struct gz_entry *y = &sort_set->entries[*(const uint32_t *)b];
	if (x->priority != y->priority)
		return x->priority > y->priority ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Names are compiled BUILD_BATCH at a time: each is folded first (no table
 * touched), the table slots of the batch's tokens are asked for, then
 * their ids are interned, the first edge of each is asked for, the names
 * are added in order, and their paths inserted together
 * (gz_trie_insert_batch).  With millions of
 * names the vocabulary and the edges are hundreds of MB, and a probe of
 * either is a cache miss: in a batch the misses overlap.  Token ids and
 * names come in the one-at-a-time order, and so do a node's payloads. */
#define BUILD_BATCH 32

struct build_job {
	uint32_t entry, form;
	int case_rule;
	int r;
};

/* Compiles every entry's names into the trie, best-ranked entries first
 * (priority, then load order): a node's payloads then come out of the trie
 * in the order the tagger ranks ambiguous candidates, so that a name shared
 * by thousands of entries costs no sort per match. */
static int build(struct gz_set *s, struct gz_diag *diag, int *problems)
{
	struct compiled *cb = malloc(BUILD_BATCH * sizeof(*cb));
	uint32_t *rank = malloc((s->entry_count ? s->entry_count : 1) * sizeof(*rank));
	if (!cb || !rank) {
		free(cb);
		free(rank);
		return GZ_ENOMEM;
	}
	for (uint32_t e = 0; e < s->entry_count; e++)
		rank[e] = e;
	sort_set = s;
	qsort(rank, s->entry_count, sizeof(*rank), cmp_rank);
	struct form_keys keys = { 0 };
	struct build_job jobs[BUILD_BATCH];
	struct gz_trie_path paths[BUILD_BATCH];
	size_t next = 0, next_form = 0, before = 0;
	int r = 0;
	while (next < s->entry_count && !r) {
		size_t nb = 0;
		for (; nb < BUILD_BATCH && next < s->entry_count; nb++) {
			const struct gz_entry *en = &s->entries[rank[next]];
			struct build_job *j = &jobs[nb];
			j->entry = rank[next];
			j->form = (uint32_t)next_form;
			j->case_rule = next_form ? gz_entry_aliases(en)[next_form - 1].case_rule
						 : en->name_case;
			j->r = compile_text(gz_entry_form(en, next_form), j->case_rule, &cb[nb]);
			for (size_t k = 0; !j->r && k < cb[nb].n; k++)
				gz_trie_prefetch_token(s->trie, cb[nb].tok_hash[k]);
			if (++next_form > en->alias_count) {
				next_form = 0;
				next++;
			}
		}
		for (size_t b = 0; b < nb; b++) {
			if (jobs[b].r)
				continue;
			jobs[b].r = resolve_ids(s->trie, NULL, &cb[b]);
		}
		size_t npaths = 0;
		for (size_t b = 0; b < nb && !r; b++) {
			struct build_job *j = &jobs[b];
			struct gz_entry *en = &s->entries[j->entry];
			if (j->form == 0) {
				keys.n = keys.len = 0;
				before = s->name_count;
			}
			r = j->r ? j->r
				 : add_name(s, j->entry, j->form, j->case_rule, &cb[b], &keys, paths,
					    &npaths);
			if (r == GZ_EINVAL) {
				gz_diag_add(diag, gz_entry_file(en), en->line, en->column,
					    "name '%.60s' is too long (at most 256 tokens, 1 KB)",
					    gz_entry_form(en, j->form));
				(*problems)++;
				r = 0;
			}
			if (j->form == en->alias_count)
				for (size_t f = 0; f < s->file_count; f++)
					if (s->files[f].path == gz_entry_file(en))
						s->files[f].names += s->name_count - before;
		}
		if (!r)
			r = gz_trie_insert_batch(s->trie, paths, npaths);
	}
	free(keys.buf);
	free(keys.end);
	free(keys.cs);
	free(cb);
	free(rank);
	return r;
}

/* ------------------------------------------------- copying the entries */

/* The raw entries of the files become the set's, their strings copied
 * into arenas, by one thread per core over contiguous runs of entries, each
 * with an arena of its own (a run's aliases follow the run before's, so
 * the aliases stay in entry order).  What is shared (types, regions) is
 * done after, on one thread. */
#define COPY_MIN 100000 /* no threads for fewer entries */

struct copy_job {
	struct gz_set *s;
	size_t gi, i;       /* the run's first entry: file gi's entry i */
	size_t k, n;        /* its index in the set, and the run's length */
	size_t alias;       /* the index of its first alias */
	struct arena_block *arena;
	int oom;
};

static void *copy_entries(void *arg)
{
	struct copy_job *j = arg;
	struct gz_set *s = j->s;
	size_t gi = j->gi, i = j->i, na = j->alias;
	int oom = 0;
	for (size_t k = j->k; k < j->k + j->n && !oom; k++, i++) {
		while (i == s->gazetteers[gi]->count) {
			gi++;
			i = 0;
		}
		const struct gz_gazetteer *g = s->gazetteers[gi];
		const struct gz_raw_entry *re = &g->entries[i];
		struct gz_entry *e = &s->entries[k];
		gz_rel_set(&e->id_rel, arena_strdup(&j->arena, re->id, &oom));
		gz_rel_set(&e->name_rel, arena_strdup(&j->arena, re->name, &oom));
		gz_rel_set(&e->attrs_rel, arena_strdup(&j->arena, re->attrs, &oom));
		e->priority = re->priority;
		e->name_case = re->name_case;
		e->name_line = re->name_line;
		e->name_column = re->name_column;
		e->evidence_required = (uint8_t)re->evidence_required;
		e->common_words_skip = (uint8_t)g->common_words_skip;
		gz_rel_set(&e->file_rel, s->files[gi].path);
		e->line = re->line;
		e->column = re->column;
		e->id_line = re->id_line;
		e->id_column = re->id_column;
		e->order = (uint32_t)k;
		gz_rel_set(&e->aliases_rel, &s->aliases[na]);
		e->alias_count = (uint32_t)re->alias_count;
		for (size_t a = 0; a < re->alias_count; a++, na++) {
			struct gz_alias *al = &s->aliases[na];
			gz_rel_set(&al->text_rel, arena_strdup(&j->arena, re->aliases[a].text, &oom));
			al->case_rule = re->aliases[a].case_rule;
			al->line = re->aliases[a].line;
			al->column = re->aliases[a].column;
		}
	}
	j->oom = oom;
	return NULL;
}

/* Copies the total entries of s->gazetteers (their files' infos made). */
static int copy_all(struct gz_set *s, size_t total, unsigned threads)
{
	struct copy_job jobs[GZ_SET_MAX_LOAD_THREADS] = { 0 };
	size_t njobs = total >= COPY_MIN ? threads : 1;
	if (njobs > GZ_SET_MAX_LOAD_THREADS)
		njobs = GZ_SET_MAX_LOAD_THREADS;
	/* each run's start: a walk over the alias counts */
	size_t k = 0, na = 0, job = 0;
	for (size_t gi = 0; gi < s->gazetteer_count; gi++)
		for (size_t i = 0; i < s->gazetteers[gi]->count; i++, k++) {
			if (job < njobs && k == total * job / njobs) {
				jobs[job] = (struct copy_job){ .s = s, .gi = gi, .i = i, .k = k,
							       .alias = na };
				job++;
			}
			na += s->gazetteers[gi]->entries[i].alias_count;
		}
	njobs = job; /* (fewer entries than jobs) */
	for (size_t j = 0; j < njobs; j++)
		jobs[j].n = (j + 1 < njobs ? jobs[j + 1].k : total) - jobs[j].k;
	pthread_t tid[GZ_SET_MAX_LOAD_THREADS];
	size_t started = 0;
	for (size_t j = 1; j < njobs; j++)
		if (pthread_create(&tid[j], NULL, copy_entries, &jobs[j]) == 0)
			started |= (size_t)1 << j;
	if (njobs)
		copy_entries(&jobs[0]);
	int oom = 0;
	for (size_t j = 0; j < njobs; j++) {
		if (j && (started >> j & 1))
			pthread_join(tid[j], NULL);
		else if (j)
			copy_entries(&jobs[j]); /* no thread: on this one */
		oom |= jobs[j].oom;
		/* the run's arena blocks join the set's */
		struct arena_block **tail = &jobs[j].arena;
		while (*tail)
			tail = &(*tail)->next;
		*tail = s->arena;
		s->arena = jobs[j].arena;
	}
	s->entry_count = total;
	return oom ? GZ_ENOMEM : 0;
}

/* ---------------------------------------------------- parallel reading */

/* The files of a set are read by several threads: small files several at a
 * time, one thread each, then each big one with every thread (gazetteer.c
 * cuts it in pieces).  Each file's problems are kept apart and handed on in
 * load order, so that diagnostics, their order and the set are those of
 * reading the files one after the other. */

#define BIG_FILE (4u << 20)

static atomic_uint load_threads; /* 0: one per online core */

void gz_set_load_threads(unsigned n)
{
	atomic_store(&load_threads, n);
}

static unsigned threads_to_use(void)
{
	unsigned n = atomic_load(&load_threads);
	if (!n) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);
		n = c > 0 ? (unsigned)c : 1;
	}
	return n > GZ_SET_MAX_LOAD_THREADS ? GZ_SET_MAX_LOAD_THREADS : n;
}

struct file_read {
	const char *path;
	struct gz_gazetteer *g;
	struct gz_diag diag;     /* this file's problems */
	int n;                   /* gz_gazetteer_load's result */
	int big;
};

struct file_pool {
	struct file_read *reads;
	size_t count, next;
	pthread_mutex_t lock;
};

static void *read_small_files(void *arg)
{
	struct file_pool *p = arg;
	for (;;) {
		pthread_mutex_lock(&p->lock);
		while (p->next < p->count && p->reads[p->next].big)
			p->next++;
		size_t i = p->next < p->count ? p->next++ : p->count;
		pthread_mutex_unlock(&p->lock);
		if (i == p->count)
			return NULL;
		struct file_read *fr = &p->reads[i];
		fr->n = gz_gazetteer_load(fr->path, &fr->g, &fr->diag);
	}
}

static void read_files(char **files, size_t nfiles, struct file_read *reads)
{
	unsigned threads = threads_to_use();
	size_t small = 0;
	for (size_t f = 0; f < nfiles; f++) {
		struct stat st;
		reads[f].path = files[f];
		gz_diag_init(&reads[f].diag);
		reads[f].big = threads > 1 && stat(files[f], &st) == 0 && st.st_size >= BIG_FILE;
		small += !reads[f].big;
	}
	struct file_pool pool = { .reads = reads, .count = nfiles };
	pthread_mutex_init(&pool.lock, NULL);
	pthread_t tid[GZ_SET_MAX_LOAD_THREADS];
	size_t started = 0;
	for (unsigned t = 1; t < threads && t < small; t++)
		if (pthread_create(&tid[started], NULL, read_small_files, &pool) == 0)
			started++;
	read_small_files(&pool);
	for (size_t t = 0; t < started; t++)
		pthread_join(tid[t], NULL);
	pthread_mutex_destroy(&pool.lock);
	for (size_t f = 0; f < nfiles; f++)
		if (reads[f].big)
			reads[f].n = gz_gazetteer_load_threads(files[f], threads, &reads[f].g,
							       &reads[f].diag);
}

/* ---------------------------------------------------------- content hash */

/* What a set was loaded from, as one XXH3-128 (issue 15): each file's bytes
 * are hashed on the thread that read them (gazetteer.c: XXH3_128bits of the
 * buffer); here, in load order, one 24-byte record per file, its length in
 * bytes as 8 bytes little-endian then that digest as 16 bytes canonical
 * (big-endian), and XXH3_128bits over the records, printed canonical as 32
 * lowercase hex digits.  The lengths keep the files' boundaries (a line
 * moved from one file to the next changes the hash); paths take no part
 * (the same files in another directory hash the same).  Cheap: XXH3 runs at
 * memory speed, and the second pass reads 24 bytes a file. */
int gz_content_hash(const uint64_t *lens, const unsigned char (*digests)[16], size_t n,
		    char out[33])
{
	unsigned char *rec = malloc(n ? n * 24 : 1);
	if (!rec)
		return GZ_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		for (int k = 0; k < 8; k++)
			rec[i * 24 + (size_t)k] = (unsigned char)(lens[i] >> (8 * k));
		memcpy(rec + i * 24 + 8, digests[i], 16);
	}
	XXH128_canonical_t c;
	XXH128_canonicalFromHash(&c, XXH3_128bits(rec, n * 24));
	free(rec);
	static const char hex[] = "0123456789abcdef";
	for (size_t k = 0; k < sizeof c.digest; k++) {
		out[2 * k] = hex[c.digest[k] >> 4];
		out[2 * k + 1] = hex[c.digest[k] & 15];
	}
	out[32] = 0;
	return 0;
}

static int set_hash(struct gz_set *s)
{
	size_t n = s->gazetteer_count;
	uint64_t *lens = malloc((n ? n : 1) * sizeof(*lens));
	unsigned char(*digests)[16] = malloc((n ? n : 1) * sizeof(*digests));
	int r = lens && digests ? 0 : GZ_ENOMEM;
	for (size_t i = 0; !r && i < n; i++) {
		lens[i] = s->gazetteers[i]->content_len;
		memcpy(digests[i], s->gazetteers[i]->content_hash, 16);
	}
	if (!r)
		r = gz_content_hash(lens, (const unsigned char(*)[16])digests, n, s->hash);
	free(lens);
	free(digests);
	return r;
}

/* Moves the lines of from to the end of to. */
static void diag_move(struct gz_diag *to, struct gz_diag *from)
{
	for (size_t i = 0; i < from->count; i++) {
		if (to->count == to->cap) {
			size_t cap = to->cap ? to->cap * 2 : 8;
			char **lines = realloc(to->lines, cap * sizeof(*lines));
			if (!lines) {
				free(from->lines[i]);
				continue;
			}
			to->lines = lines;
			to->cap = cap;
		}
		to->lines[to->count++] = from->lines[i];
	}
	free(from->lines);
	gz_diag_init(from);
}

int gz_set_load(const char *const *paths, size_t npaths, struct gz_diag *diag,
		struct gz_set **out, struct gz_error *err)
{
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	gz_fold_init();
	*out = NULL;
	struct gz_diag local;
	gz_diag_init(&local);
	if (!diag)
		diag = &local;
	size_t diag_start = diag->count;
	int problems = 0, r = 0;
	char **files = NULL;
	size_t nfiles = 0;

	struct gz_set *s = calloc(1, sizeof(*s));
	if (!s || !(s->trie = gz_trie_new())) {
		free(s);
		return gz_error_set(err, GZ_ENOMEM, "out of memory");
	}
	atomic_init(&s->refs, 1);
	if ((r = gz_set_list_files(paths, npaths, &files, &nfiles, diag, &problems)))
		goto done;
	s->gazetteers = calloc(nfiles ? nfiles : 1, sizeof(*s->gazetteers));
	s->files = calloc(nfiles ? nfiles : 1, sizeof(*s->files));
	if (!s->gazetteers || !s->files) {
		r = GZ_ENOMEM;
		goto done;
	}
	size_t total = 0, total_aliases = 0;
	struct file_read *reads = calloc(nfiles ? nfiles : 1, sizeof(*reads));
	if (!reads) {
		r = GZ_ENOMEM;
		goto done;
	}
	read_files(files, nfiles, reads);
	for (size_t f = 0; f < nfiles; f++) {
		struct gz_gazetteer *g = reads[f].g;
		int n = reads[f].n;
		if (r) { /* out of memory in an earlier file: the loop stopped there */
			gz_diag_clear(&reads[f].diag);
			gz_gazetteer_free(g);
			continue;
		}
		diag_move(diag, &reads[f].diag);
		if (n < 0) {
			gz_gazetteer_free(g);
			r = n;
			continue;
		}
		problems += n;
		if (!g)
			continue;
		s->gazetteers[s->gazetteer_count++] = g;
		total += g->count;
		for (size_t i = 0; i < g->count; i++)
			total_aliases += g->entries[i].alias_count;
	}
	free(reads);
	if (r || (r = set_hash(s)))
		goto done;
	/* ids across all files, from what the files say (invalid entries
	 * included, and entries a syntax error left half done excluded) */
	if ((r = check_duplicate_ids(s, diag, &problems)) || problems)
		goto done;
	s->entry_cap = total ? total : 1;
	s->alias_cap = total_aliases ? total_aliases : 1;
	s->entries = gz_big_alloc(s->entry_cap * sizeof(*s->entries));
	s->aliases = gz_big_alloc(s->alias_cap * sizeof(*s->aliases));
	if (!s->entries || !s->aliases) {
		r = GZ_ENOMEM;
		goto done;
	}
	for (size_t gi = 0; gi < s->gazetteer_count; gi++) {
		struct gz_gazetteer *g = s->gazetteers[gi];
		struct gz_file_info *fi = &s->files[s->file_count++];
		int foom = 0;
		fi->path = arena_strdup(&s->arena, g->path, &foom);
		fi->type = arena_strdup(&s->arena, g->type ? g->type : "", &foom);
		if (foom) {
			r = GZ_ENOMEM;
			goto done;
		}
		fi->entries = g->count;
	}
	if ((r = copy_all(s, total, threads_to_use())))
		goto done;
	/* what the entries share, on this thread */
	size_t k = 0;
	for (size_t gi = 0; gi < s->gazetteer_count; gi++) {
		struct gz_gazetteer *g = s->gazetteers[gi];
		for (size_t i = 0; i < g->count; i++, k++) {
			struct gz_raw_entry *re = &g->entries[i];
			struct gz_entry *e = &s->entries[k];
			int ti = type_index(s, re->type);
			if (ti < 0) {
				r = ti;
				goto done;
			}
			e->type_index = ti;
			int64_t country = region_intern(s, re->country), admin1 = region_intern(s, re->admin1);
			if (country < 0 || admin1 < 0) {
				r = GZ_ENOMEM;
				goto done;
			}
			e->country = (uint32_t)country;
			e->admin1 = (uint32_t)admin1;
		}
		/* everything of this file is in the arenas now: free it before
		 * the trie is built, so the two never peak together */
		gz_gazetteer_free(g);
		s->gazetteers[gi] = NULL;
	}
	for (size_t i = 0; i < s->entry_count; i++)
		gz_rel_set(&s->entries[i].type_rel, s->types[s->entries[i].type_index]);

	if ((r = index_ids(s)))
		goto done;
	link_id_regions(s);

	if ((r = build(s, diag, &problems)))
		goto done;
	if (problems)
		goto done;
	if ((r = gz_trie_finish(s->trie)))
		goto done;
	if (s->name_count < s->name_cap) { /* give back the doubling's slack */
		struct gz_name *nn = gz_big_resize(s->names, s->name_cap * sizeof(*nn),
						   (s->name_count ? s->name_count : 1) * sizeof(*nn));
		if (nn) {
			s->names = nn;
			s->name_cap = s->name_count ? s->name_count : 1;
		}
	}
	/* the arrays are final: their last huge pages' unused ends go back */
	gz_big_trim(s->entries, s->entry_cap * sizeof(*s->entries),
		    s->entry_count * sizeof(*s->entries));
	gz_big_trim(s->aliases, s->alias_cap * sizeof(*s->aliases),
		    s->alias_cap * sizeof(*s->aliases));
	gz_big_trim(s->names, s->name_cap * sizeof(*s->names), s->name_count * sizeof(*s->names));
	gz_big_trim(s->pool, s->pool_cap, s->pool_len);
	for (struct arena_block *b = s->arena; b; b = b->next)
		gz_big_trim(b, sizeof(*b) + b->size, sizeof(*b) + b->used);
	s->gazetteer_count = 0;
done:
	for (size_t f = 0; f < nfiles; f++)
		free(files[f]);
	free(files);
	if (r == GZ_ENOMEM) {
		gz_set_unref(s);
		gz_diag_clear(&local);
		return gz_error_set(err, GZ_ENOMEM, "out of memory while loading gazetteers");
	}
	if (problems) {
		gz_set_unref(s);
		if (err) {
			const char *first = diag->count > diag_start ? diag->lines[diag_start] : "error";
			gz_error_set(err, GZ_ELOAD, "%d problem%s in gazetteers; first: %s", problems,
				     problems == 1 ? "" : "s", first);
		}
		gz_diag_clear(&local);
		return GZ_ELOAD;
	}
	clock_gettime(CLOCK_REALTIME, &s->loaded_at);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s->load_seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	gz_diag_clear(&local);
	/* the YAML trees of the load are gone: give their pages back, or the
	 * daemon keeps the load's peak as its resident size for good */
	malloc_trim(0);
	*out = s;
	return 0;
}

/* ------------------------------------------------------ API implementation */

struct gz_set *gz_set_ref(struct gz_set *s)
{
	if (s)
		atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
	return s;
}

void gz_set_unref(struct gz_set *s)
{
	if (!s || atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
		return;
	if (s->borrowed) {
		free(s->files);
		free(s->types);
		free(s->regions);
		gz_trie_free(s->trie);
		if (s->map)
			munmap(s->map, s->map_len);
		free(s);
		return;
	}
	for (size_t i = 0; i < s->gazetteer_count; i++)
		gz_gazetteer_free(s->gazetteers[i]);
	free(s->gazetteers);
	gz_big_free(s->entries, s->entry_cap * sizeof(*s->entries));
	gz_big_free(s->aliases, s->alias_cap * sizeof(*s->aliases));
	free(s->files);
	for (size_t i = 0; i < s->type_count; i++)
		free(s->types[i]);
	free(s->types);
	gz_big_free(s->id_slots, (s->id_mask + 1) * sizeof(*s->id_slots));
	free(s->regions);
	free(s->region_slots);
	gz_trie_free(s->trie);
	gz_big_free(s->names, s->name_cap * sizeof(*s->names));
	gz_big_free(s->pool, s->pool_cap);
	while (s->arena) {
		struct arena_block *next = s->arena->next;
		gz_big_free(s->arena, sizeof(*s->arena) + s->arena->size);
		s->arena = next;
	}
	free(s);
}

size_t gz_set_entry_count(const struct gz_set *s) { return s->entry_count; }
size_t gz_set_name_count(const struct gz_set *s) { return s->name_count; }
const struct gz_entry *gz_set_entry(const struct gz_set *s, size_t i) { return &s->entries[i]; }
size_t gz_set_file_count(const struct gz_set *s) { return s->file_count; }
const struct gz_file_info *gz_set_file(const struct gz_set *s, size_t i) { return &s->files[i]; }
size_t gz_set_type_count(const struct gz_set *s) { return s->type_count; }
size_t gz_set_region_count(const struct gz_set *s) { return s->region_count; }
const char *gz_set_region(const struct gz_set *s, uint32_t id) { return id ? s->regions[id] : NULL; }
const char *gz_set_type(const struct gz_set *s, size_t i) { return s->types[i]; }
struct timespec gz_set_loaded_at(const struct gz_set *s) { return s->loaded_at; }
double gz_set_load_seconds(const struct gz_set *s) { return s->load_seconds; }
const char *gz_set_hash(const struct gz_set *s) { return s->hash; }
const struct gz_trie *gz_set_trie(const struct gz_set *s) { return s->trie; }
const struct gz_name *gz_set_names(const struct gz_set *s) { return s->names; }
const char *gz_set_pool(const struct gz_set *s) { return s->pool; }

int gz_set_type_index(const struct gz_set *s, const char *type)
{
	for (size_t i = 0; i < s->type_count; i++)
		if (strcmp(s->types[i], type) == 0)
			return (int)i;
	return -1;
}

const struct gz_entry *gz_set_find(const struct gz_set *s, const char *id)
{
	if (!s->id_slots)
		return NULL;
	size_t j = gz_hash_bytes(id, strlen(id)) & s->id_mask;
	for (; s->id_slots[j]; j = (j + 1) & s->id_mask) {
		const struct gz_entry *e = &s->entries[s->id_slots[j] - 1];
		if (strcmp(gz_entry_id(e), id) == 0)
			return e;
	}
	return NULL;
}

int gz_set_lookup(const struct gz_set *s, const char *text,
		  int (*fn)(void *cls, const struct gz_lookup_hit *hit), void *cls)
{
	struct compiled *c = malloc(sizeof(*c));
	if (!c)
		return GZ_ENOMEM;
	/* a text too long to be a name (GZ_EINVAL) is no name */
	int r = compile_text(text, GZ_CASE_INSENSITIVE, c) ? 1 : resolve_ids(NULL, s->trie, c);
	uint32_t node = GZ_TRIE_ROOT;
	for (size_t k = 0; r == 0 && k < c->n; k++)
		if ((node = gz_trie_step(s->trie, node, k ? c->gaps[k] : 0, c->tokens[k])) == GZ_TRIE_NONE)
			r = 1;
	int hits = 0;
	if (r == 0) {
		size_t np;
		const uint32_t *p = gz_trie_payloads(s->trie, node, &np);
		for (size_t k = 0; k < np && r == 0; k++) {
			const struct gz_name *nm = &s->names[p[k]];
			/* (the pool is NULL while no name has edge punctuation) */
			if (nm->lead_len != c->lead_len || nm->trail_len != c->trail_len ||
			    (c->lead_len && memcmp(s->pool + nm->lead, c->lead, c->lead_len) != 0) ||
			    (c->trail_len && memcmp(s->pool + nm->trail, c->trail, c->trail_len) != 0))
				continue;
			const struct gz_entry *e = &s->entries[nm->entry];
			struct gz_lookup_hit h = { e, gz_entry_form(e, nm->form), nm->case_rule,
						   nm->form ? gz_entry_aliases(e)[nm->form - 1].line : e->name_line };
			r = fn(cls, &h);
			hits++;
		}
	}
	free(c);
	return r < 0 ? r : hits;
}

size_t gz_set_memory(const struct gz_set *s)
{
	return sizeof(*s) + gz_trie_memory(s->trie) + s->name_cap * sizeof(struct gz_name) +
	       s->pool_cap + s->entry_count * sizeof(struct gz_entry) +
	       (s->id_mask + 1) * sizeof(uint32_t);
}

/* ---------------------------------------------------------------- parts */

void gz_set_parts(const struct gz_set *s, struct gz_set_parts *p)
{
	size_t aliases = 0;
	for (size_t e = 0; e < s->entry_count; e++)
		aliases += s->entries[e].alias_count;
	*p = (struct gz_set_parts){
		.entries = s->entries, .entry_count = s->entry_count,
		.aliases = s->aliases, .alias_count = aliases,
		.names = s->names, .name_count = s->name_count,
		.pool = s->pool, .pool_len = s->pool_len,
		.id_slots = s->id_slots, .id_mask = s->id_mask,
		.regions = s->regions, .region_count = s->region_count,
		.types = (const char *const *)s->types, .type_count = s->type_count,
		.files = s->files, .file_count = s->file_count,
		.trie = s->trie,
	};
}

void gz_set_hand_over_map(struct gz_set *s, void *map, size_t map_len, double seconds)
{
	s->map = map;
	s->map_len = map_len;
	s->load_seconds = seconds;
}

const void *gz_set_map(const struct gz_set *s, size_t *map_len)
{
	*map_len = s->map_len;
	return s->map;
}

unsigned gz_set_refs(const struct gz_set *s)
{
	return (unsigned)atomic_load_explicit(&s->refs, memory_order_acquire);
}

struct gz_set *gz_set_adopt(const struct gz_set_parts *p, struct gz_trie *trie,
			    const char *hash)
{
	struct gz_set *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->files = malloc((p->file_count ? p->file_count : 1) * sizeof(*s->files));
	s->types = malloc((p->type_count ? p->type_count : 1) * sizeof(*s->types));
	s->regions = malloc((p->region_count + 1) * sizeof(*s->regions));
	if (!s->files || !s->types || !s->regions) {
		free(s->files);
		free(s->types);
		free(s->regions);
		free(s);
		return NULL;
	}
	atomic_init(&s->refs, 1);
	s->borrowed = 1;
	snprintf(s->hash, sizeof s->hash, "%s", hash);
	if (p->file_count)
		memcpy(s->files, p->files, p->file_count * sizeof(*s->files));
	s->file_count = p->file_count;
	for (size_t i = 0; i < p->type_count; i++)
		s->types[i] = (char *)p->types[i];
	s->type_count = p->type_count;
	s->regions[0] = NULL;
	for (size_t i = 1; i <= p->region_count; i++)
		s->regions[i] = p->regions[i];
	s->region_count = s->region_cap = p->region_count;
	s->entries = (struct gz_entry *)p->entries;
	s->entry_count = p->entry_count;
	s->aliases = (struct gz_alias *)p->aliases;
	s->names = (struct gz_name *)p->names;
	s->name_count = s->name_cap = p->name_count;
	s->pool = (char *)p->pool;
	s->pool_len = s->pool_cap = p->pool_len;
	s->id_slots = (uint32_t *)p->id_slots;
	s->id_mask = p->id_mask;
	s->trie = trie;
	clock_gettime(CLOCK_REALTIME, &s->loaded_at);
	return s;
}
