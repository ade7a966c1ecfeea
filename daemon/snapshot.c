/*
 * Snapshots; see snapshot.h.
 *
 * Layout: a fixed header, then the sections below, each at a multiple of 64
 * bytes (the header's table says where and how long).  Numbers are in the
 * writing machine's byte order and record sizes, which the header records
 * and the reader compares with its own.  The strings section holds every
 * string an entry, alias, type, file or region names, each NUL-terminated,
 * and ends in a NUL, so that any offset inside it is a C string.  Entries
 * and aliases are struct gz_entry and gz_alias as the set uses them, their
 * gz_rel fields pointing into the strings and aliases sections; the other
 * sections are the set's and trie's arrays as they lie in memory.
 */
#include "snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "checked.h"
#include "set_internal.h"
#include "snapshot_format.h"
#include "trie.h"


static const char *const section_names[S_COUNT] = {
	"strings", "entries", "aliases", "names", "pool", "id slots", "regions", "types",
	"files", "token pool", "token offsets", "token slots", "token filter", "gap pool",
	"gap offsets", "gap slots", "edges", "node payload ranges", "payloads",
	"root children", "node flags", "start filter",
};




int gz_snapshot_path(const char *path)
{
	size_t n = strlen(path), k = strlen(GZ_SNAPSHOT_SUFFIX);
	return n > k && strcmp(path + n - k, GZ_SNAPSHOT_SUFFIX) == 0;
}

size_t gz_snapshot_checksum_offset(void)
{
	return offsetof(struct gz_snapshot_header, checksum);
}

/* The checksum is a tree: XXH3-64 of each SUM_BLOCK bytes of the file (the
 * checksum field read as zero), then XXH3-64 of those digests, so that
 * threads share the hashing of a big file.  A block is small enough to stay
 * in a core's cache while the reader checks its records after hashing it
 * (format version 1 had 8 MB blocks, hashed in a pass of their own). */
#define SUM_BLOCK ((size_t)GZ_SNAPSHOT_SUM_BLOCK)

static uint64_t block_sum(const char *buf, size_t len, size_t k)
{
	static const uint64_t zero = 0;
	size_t at = offsetof(struct gz_snapshot_header, checksum), lo = k * SUM_BLOCK;
	size_t n = len - lo < SUM_BLOCK ? len - lo : SUM_BLOCK;
	if (k || len < at + sizeof(zero))
		return XXH3_64bits(buf + lo, n);
	XXH3_state_t *st = XXH3_createState();
	if (!st)
		return 0; /* no memory: a mismatch, reported as corruption */
	XXH3_64bits_reset(st);
	XXH3_64bits_update(st, buf, at);
	XXH3_64bits_update(st, &zero, sizeof(zero));
	XXH3_64bits_update(st, buf + at + sizeof(zero), n - at - sizeof(zero));
	uint64_t h = XXH3_64bits_digest(st);
	XXH3_freeState(st);
	return h;
}

static size_t sum_blocks(size_t len)
{
	return len ? (len + SUM_BLOCK - 1) / SUM_BLOCK : 0;
}

static uint64_t combine_sums(const uint64_t *sums, size_t n)
{
	return XXH3_64bits(sums, n * sizeof(*sums));
}

unsigned long long gz_snapshot_checksum(const void *buf, size_t len)
{
	size_t n = sum_blocks(len);
	uint64_t *sums = malloc((n ? n : 1) * sizeof(*sums));
	if (!sums)
		return 0;
	for (size_t k = 0; k < n; k++)
		sums[k] = block_sum(buf, len, k);
	uint64_t h = combine_sums(sums, n);
	free(sums);
	return h;
}

/* How long each section is, by the header's counts (strings: the strings
 * section's own length). */
static void section_lens(const struct gz_snapshot_header *h, uint64_t strings,
			 uint64_t lens[S_COUNT])
{
	const uint64_t R = GZ_TRIE_RECORD_SIZE;
	uint64_t l[S_COUNT] = {
		[S_STRINGS] = strings,
		[S_ENTRIES] = h->entry_count * sizeof(struct gz_entry),
		[S_ALIASES] = h->alias_count * sizeof(struct gz_alias),
		[S_NAMES] = h->name_count * sizeof(struct gz_name),
		[S_POOL] = h->pool_len,
		[S_ID_SLOTS] = (h->id_mask + 1) * sizeof(uint32_t),
		[S_REGIONS] = (h->region_count + 1) * sizeof(uint64_t),
		[S_TYPES] = h->type_count * sizeof(uint64_t),
		[S_FILES] = h->file_count * sizeof(struct gz_snapshot_file),
		[S_TOK_POOL] = h->token_pool_len,
		[S_TOK_OFFS] = h->token_count * sizeof(uint64_t),
		[S_TOK_SLOTS] = (h->token_mask + 1) * R,
		[S_TOK_FILTER] = (h->token_filter_mask + 1) * sizeof(uint64_t),
		[S_GAP_POOL] = h->gap_pool_len,
		[S_GAP_OFFS] = h->gap_count * sizeof(uint64_t),
		[S_GAP_SLOTS] = (h->gap_mask + 1) * R,
		[S_EDGES] = h->has_edges ? (h->edge_mask + 1) * R : 0,
		[S_NODE_FIRST] = (h->node_count + 1) * sizeof(uint32_t),
		[S_PAYLOADS] = h->payload_count * sizeof(uint32_t),
		[S_ROOT_CHILD] = h->token_count * sizeof(uint32_t),
		[S_HAS_CHILDREN] = h->node_count,
		[S_START_FILTER] = (h->start_filter_mask + 1) * sizeof(uint64_t),
	};
	memcpy(lens, l, sizeof(l));
}

/* ------------------------------------------------------------- writing */

struct writer {
	FILE *f;
	uint64_t at;
	int failed;
};

static void put(struct writer *w, const void *p, size_t len)
{
	if (!len || w->failed)
		return;
	if (fwrite(p, 1, len, w->f) != len)
		w->failed = 1;
	w->at += len;
}

static void pad_to(struct writer *w, uint64_t off)
{
	static const char zeros[64];
	while (w->at < off)
		put(w, zeros, off - w->at < sizeof zeros ? off - w->at : sizeof zeros);
}

/* The strings in the order they are written, each visited by fn: types,
 * files' paths and types, regions, then each entry's id, name, attrs and
 * aliases. */
static uint64_t str_size(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

static uint64_t strings_len(const struct gz_set_parts *p)
{
	uint64_t n = 1; /* offset 0 is "" */
	for (size_t i = 0; i < p->type_count; i++)
		n += str_size(p->types[i]);
	for (size_t i = 0; i < p->file_count; i++)
		n += str_size(p->files[i].path) + str_size(p->files[i].type);
	for (size_t i = 1; i <= p->region_count; i++)
		n += str_size(p->regions[i]);
	for (size_t e = 0; e < p->entry_count; e++) {
		const struct gz_entry *en = &p->entries[e];
		n += str_size(gz_entry_id(en)) + str_size(gz_entry_name(en)) +
		     str_size(gz_entry_attrs(en));
		for (size_t a = 0; a < en->alias_count; a++)
			n += str_size(gz_alias_text(&gz_entry_aliases(en)[a]));
	}
	return n;
}

static uint64_t put_str(struct writer *w, uint64_t base, const char *s)
{
	if (!s)
		return 0;
	uint64_t off = w->at - base;
	put(w, s, strlen(s) + 1);
	return off;
}

/* The self-relative offset, in the file, from field to the string at
 * strings offset soff. */
static gz_rel rel_to(uint64_t field, uint64_t target)
{
	return (gz_rel)(target - field);
}

int gz_snapshot_write(const struct gz_set *set, const char *path, const char *key,
		      struct gz_error *err)
{
	struct gz_set_parts p;
	gz_set_parts(set, &p);
	struct gz_trie_parts t;
	gz_trie_parts(p.trie, &t);

	struct gz_snapshot_header h;
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, GZ_SNAPSHOT_MAGIC, sizeof(h.magic));
	h.version = GZ_SNAPSHOT_VERSION;
	h.header_size = sizeof(h);
	h.entry_size = sizeof(struct gz_entry);
	h.alias_size = sizeof(struct gz_alias);
	h.name_size = sizeof(struct gz_name);
	h.record_size = GZ_TRIE_RECORD_SIZE;
	snprintf(h.hash, sizeof h.hash, "%s", gz_set_hash(set));
	if (key)
		snprintf(h.key, sizeof h.key, "%s", key);
	h.entry_count = p.entry_count;
	h.alias_count = p.alias_count;
	h.name_count = p.name_count;
	h.type_count = p.type_count;
	h.file_count = p.file_count;
	h.region_count = p.region_count;
	h.id_mask = p.id_mask;
	h.pool_len = p.pool_len;
	h.token_count = t.tokens.count;
	h.token_mask = t.tokens.mask;
	h.token_filter_mask = t.tokens.filter_mask;
	h.token_pool_len = t.tokens.pool_len;
	h.gap_count = t.gaps.count;
	h.gap_mask = t.gaps.mask;
	h.gap_pool_len = t.gaps.pool_len;
	h.has_edges = t.edges != NULL;
	h.edge_mask = t.edge_mask;
	h.node_count = t.node_count;
	h.payload_count = t.node_first[t.node_count];
	h.start_filter_mask = t.start_filter_mask;

	uint64_t lens[S_COUNT];
	section_lens(&h, strings_len(&p), lens);
	uint64_t off = (sizeof(h) + 63) & ~(uint64_t)63;
	for (int s = 0; s < S_COUNT; s++) {
		h.sec[s].off = off;
		h.sec[s].len = lens[s];
		off = (off + lens[s] + 63) & ~(uint64_t)63;
	}
	h.file_size = off;

	size_t plen = strlen(path);
	char *tmp = malloc(plen + 32);
	if (!tmp)
		return gz_error_set(err, GZ_ENOMEM, "out of memory");
	snprintf(tmp, plen + 32, "%s.tmp.%ld", path, (long)getpid());
	struct writer w = { .f = fopen(tmp, "w+bx") };
	if (!w.f) {
		int e = errno;
		gz_error_set(err, GZ_EIO, "%s: cannot create %s beside it: %s", path, tmp,
			     strerror(e));
		free(tmp);
		return GZ_EIO;
	}
	char *buf = malloc(1 << 20); /* this writer's own: writers may run at once */
	if (buf)
		setvbuf(w.f, buf, _IOFBF, 1 << 20);
	put(&w, &h, sizeof(h));

	/* strings, in strings_len's order, and the offsets the tables need */
	uint64_t sbase = h.sec[S_STRINGS].off;
	pad_to(&w, sbase);
	put(&w, "", 1);
	uint64_t *type_off = calloc(p.type_count + 1, sizeof(uint64_t));
	struct gz_snapshot_file *files = calloc(p.file_count + 1, sizeof(*files));
	uint64_t *region_off = calloc(p.region_count + 1, sizeof(uint64_t));
	if (!type_off || !files || !region_off) {
		w.failed = 1;
		errno = ENOMEM;
	}
	for (size_t i = 0; !w.failed && i < p.type_count; i++)
		type_off[i] = put_str(&w, sbase, p.types[i]);
	for (size_t i = 0; !w.failed && i < p.file_count; i++) {
		files[i].path = put_str(&w, sbase, p.files[i].path);
		files[i].type = put_str(&w, sbase, p.files[i].type);
		files[i].entries = p.files[i].entries;
		files[i].names = p.files[i].names;
	}
	for (size_t i = 1; !w.failed && i <= p.region_count; i++)
		region_off[i] = put_str(&w, sbase, p.regions[i]);
	uint64_t entry_strings = w.at;
	for (size_t e = 0; !w.failed && e < p.entry_count; e++) {
		const struct gz_entry *en = &p.entries[e];
		put_str(&w, sbase, gz_entry_id(en));
		put_str(&w, sbase, gz_entry_name(en));
		put_str(&w, sbase, gz_entry_attrs(en));
		for (size_t a = 0; a < en->alias_count; a++)
			put_str(&w, sbase, gz_alias_text(&gz_entry_aliases(en)[a]));
	}

	/* entries and aliases, their offsets walking the strings again */
	pad_to(&w, h.sec[S_ENTRIES].off);
	uint64_t cur = entry_strings, alias_index = 0;
	size_t file = 0;
	for (size_t e = 0; !w.failed && e < p.entry_count; e++) {
		const struct gz_entry *en = &p.entries[e];
		struct gz_entry out = *en; /* its rel fields are rewritten below */
		uint64_t at = h.sec[S_ENTRIES].off + e * sizeof(out);
#define REL(field, target) out.field = rel_to(at + offsetof(struct gz_entry, field), (target))
		REL(id_rel, cur);
		cur += str_size(gz_entry_id(en));
		REL(name_rel, cur);
		cur += str_size(gz_entry_name(en));
		if (gz_entry_attrs(en)) {
			REL(attrs_rel, cur);
			cur += str_size(gz_entry_attrs(en));
		} else {
			out.attrs_rel = 0;
		}
		REL(type_rel, sbase + type_off[en->type_index]);
		while (file + 1 < p.file_count && strcmp(p.files[file].path, gz_entry_file(en)))
			file++;
		REL(file_rel, sbase + files[file].path);
		if (en->alias_count)
			REL(aliases_rel, h.sec[S_ALIASES].off + alias_index * sizeof(struct gz_alias));
		else
			out.aliases_rel = 0;
#undef REL
		alias_index += en->alias_count;
		for (size_t a = 0; a < en->alias_count; a++)
			cur += str_size(gz_alias_text(&gz_entry_aliases(en)[a]));
		put(&w, &out, sizeof(out));
	}
	pad_to(&w, h.sec[S_ALIASES].off);
	cur = entry_strings;
	alias_index = 0;
	for (size_t e = 0; !w.failed && e < p.entry_count; e++) {
		const struct gz_entry *en = &p.entries[e];
		cur += str_size(gz_entry_id(en)) + str_size(gz_entry_name(en)) +
		       str_size(gz_entry_attrs(en));
		for (size_t a = 0; a < en->alias_count; a++, alias_index++) {
			struct gz_alias out = gz_entry_aliases(en)[a];
			uint64_t at = h.sec[S_ALIASES].off + alias_index * sizeof(out);
			out.text_rel = rel_to(at + offsetof(struct gz_alias, text_rel), cur);
			cur += str_size(gz_alias_text(&gz_entry_aliases(en)[a]));
			put(&w, &out, sizeof(out));
		}
	}
	const void *arrays[S_COUNT] = {
		[S_NAMES] = p.names, [S_POOL] = p.pool, [S_ID_SLOTS] = p.id_slots,
		[S_REGIONS] = region_off, [S_TYPES] = type_off, [S_FILES] = files,
		[S_TOK_POOL] = t.tokens.pool, [S_TOK_OFFS] = t.tokens.offs,
		[S_TOK_SLOTS] = t.tokens.slots, [S_TOK_FILTER] = t.tokens.filter,
		[S_GAP_POOL] = t.gaps.pool, [S_GAP_OFFS] = t.gaps.offs, [S_GAP_SLOTS] = t.gaps.slots,
		[S_EDGES] = t.edges, [S_NODE_FIRST] = t.node_first, [S_PAYLOADS] = t.payloads,
		[S_ROOT_CHILD] = t.root_child, [S_HAS_CHILDREN] = t.has_children,
		[S_START_FILTER] = t.start_filter,
	};
	for (int s = S_NAMES; s < S_COUNT && !w.failed; s++) {
		pad_to(&w, h.sec[s].off);
		if (arrays[s])
			put(&w, arrays[s], h.sec[s].len);
		else /* a table never allocated (no token at all): empty slots */
			pad_to(&w, h.sec[s].off + h.sec[s].len);
	}
	pad_to(&w, h.file_size);
	free(type_off);
	free(files);
	free(region_off);

	/* the checksum, over the file as written, read back through a map */
	int e = errno;
	void *map = MAP_FAILED;
	if (!w.failed && (fflush(w.f) ||
			  (map = mmap(NULL, h.file_size, PROT_READ, MAP_SHARED, fileno(w.f), 0)) ==
			  MAP_FAILED))
		w.failed = 1, e = errno;
	if (!w.failed) {
		uint64_t sum = gz_snapshot_checksum(map, h.file_size);
		munmap(map, h.file_size);
		if (pwrite(fileno(w.f), &sum, sizeof(sum), offsetof(struct gz_snapshot_header, checksum)) !=
		    (ssize_t)sizeof(sum) || fsync(fileno(w.f)))
			w.failed = 1, e = errno;
	}
	int closed = fclose(w.f);
	free(buf);
	if (closed && !w.failed)
		w.failed = 1, e = errno;
	if (!w.failed && rename(tmp, path))
		w.failed = 1, e = errno;
	if (w.failed) {
		unlink(tmp);
		gz_error_set(err, e == ENOMEM ? GZ_ENOMEM : GZ_EIO, "%s: cannot write: %s", path,
			     strerror(e));
		free(tmp);
		return e == ENOMEM ? GZ_ENOMEM : GZ_EIO;
	}
	free(tmp);
	return 0;
}

/* ------------------------------------------------------------- reading */

#define FAIL(...) return gz_error_set(err, GZ_ELOAD, __VA_ARGS__)
/* A header that does not add up: said as a checksum mismatch when the
 * checksum (of a file whose length is right) says so, the likelier cause. */
#define HFAIL(...)                                                                  \
	do {                                                                        \
		if (gz_snapshot_checksum(buf, len) != h.checksum)                   \
			FAIL("%s: checksum mismatch: the file is corrupted", name); \
		FAIL(__VA_ARGS__);                                                  \
	} while (0)

/* Whether the self-relative offset in the field at file offset field (in
 * a section at base) lands inside [lo, lo + len); *target gets it. */
static int rel_in(gz_rel rel, uint64_t field, uint64_t lo, uint64_t len, uint64_t *target)
{
	/* field and the section bounds are under 2^62: once rel is known to lie
	 * in [-field, 2^62], the sum cannot overflow (rel is checked before the
	 * sum is made: a rel near INT64_MAX overflowed it, fuzz_snapshot) */
	if (rel < -(int64_t)field || rel > INT64_MAX / 2)
		return 0;
	int64_t t = (int64_t)field + rel;
	if (t < (int64_t)lo || (uint64_t)t - lo >= len)
		return 0;
	*target = (uint64_t)t;
	return 1;
}

/* The record checks.  They run with the checksum, in one pass over the file
 * cut into its checksum blocks: a job hashes a block and then checks every
 * record that starts in it, while the block is still in the cache (two
 * passes, the checksum's then the checks', read a big snapshot from memory
 * twice, and that was most of its load time).  A record that starts in one
 * block and ends in the next is checked by the first; a check that reads
 * another section (a name's entry) reads it wherever it lies, every section
 * being inside the file by then.  A block records the first problem it
 * meets; blocks are in file order, and so are the sections in a block, so
 * the first block's problem is the one a one-thread pass meets first. */
enum problem {
	P_NONE, P_ENTRY_STRING, P_ENTRY_ALIASES, P_ENTRY_VALUE, P_ALIAS, P_NAME, P_ID, P_TRIE
};

struct finding {
	enum problem problem;
	uint64_t at;             /* the entry, alias or name */
	const char *why;         /* P_TRIE: what is wrong */
};

/* The tables whose probes end at an empty slot: the bit of each in which a
 * block saw one. */
enum { E_IDS = 1, E_TOKENS = 2, E_GAPS = 4, E_EDGES = 8 };

struct check_run {
	const char *base;
	const struct gz_snapshot_header *h;
	size_t len;
	uint64_t *sums;          /* per block */
	struct finding *found;   /* per block */
	unsigned char *empty;    /* per block, E_* */
	size_t nblocks;
	atomic_size_t next;
	/* Each entry's alias count, up to 255 (a name's form must not pass it),
	 * written as the entries are checked: a name's check reads this small
	 * array instead of its entry (a cache line, and on a VM a page walk, per
	 * name: the names' check cost more than all the others).  Read only
	 * once entry_blocks, the blocks with entries still to check, is 0. */
	unsigned char *alias_counts;
	atomic_size_t entry_blocks;
};

/* Checks records [lo, hi) of one section; nonzero when f got a problem. */
typedef int check_fn(const struct check_run *run, int s, uint64_t lo, uint64_t hi,
		     struct finding *f, unsigned char *empty);

static int trie_problem(struct finding *f, const char *why)
{
	f->why = why;
	return f->problem = P_TRIE;
}

static int check_entries(const struct check_run *run, int s, uint64_t lo, uint64_t hi,
			 struct finding *f, unsigned char *empty)
{
	(void)empty;
	const struct gz_snapshot_header *h = run->h;
	uint64_t s_off = h->sec[S_STRINGS].off, s_len = h->sec[S_STRINGS].len;
	uint64_t a_off = h->sec[S_ALIASES].off, a_len = h->sec[S_ALIASES].len, t;
	const struct gz_entry *entries = (const void *)(run->base + h->sec[s].off);
	for (uint64_t e = lo; e < hi; e++) {
		const struct gz_entry *en = &entries[e];
		uint64_t at = h->sec[s].off + e * sizeof(*en);
		f->at = e;
#define IN_STRINGS(field) rel_in(en->field, at + offsetof(struct gz_entry, field), s_off, s_len, &t)
		if (!IN_STRINGS(id_rel) || !IN_STRINGS(name_rel) || !IN_STRINGS(type_rel) ||
		    !IN_STRINGS(file_rel) || (en->attrs_rel && !IN_STRINGS(attrs_rel)))
			return f->problem = P_ENTRY_STRING;
#undef IN_STRINGS
		if (en->alias_count &&
		    (!rel_in(en->aliases_rel, at + offsetof(struct gz_entry, aliases_rel), a_off, a_len,
			     &t) ||
		     (t - a_off) % sizeof(struct gz_alias) ||
		     (t - a_off) / sizeof(struct gz_alias) + en->alias_count > h->alias_count))
			return f->problem = P_ENTRY_ALIASES;
		if (en->type_index < 0 || (uint64_t)en->type_index >= h->type_count ||
		    en->name_case < 0 || en->name_case > GZ_CASE_PROPER ||
		    en->country > h->region_count || en->admin1 > h->region_count ||
		    en->id_region > h->region_count)
			return f->problem = P_ENTRY_VALUE;
		run->alias_counts[e] = en->alias_count < 255 ? (unsigned char)en->alias_count : 255;
	}
	return 0;
}

static int check_aliases(const struct check_run *run, int s, uint64_t lo, uint64_t hi,
			 struct finding *f, unsigned char *empty)
{
	(void)empty;
	const struct gz_snapshot_header *h = run->h;
	uint64_t s_off = h->sec[S_STRINGS].off, s_len = h->sec[S_STRINGS].len, t;
	const struct gz_alias *aliases = (const void *)(run->base + h->sec[s].off);
	for (uint64_t a = lo; a < hi; a++) {
		uint64_t at = h->sec[s].off + a * sizeof(*aliases) + offsetof(struct gz_alias, text_rel);
		f->at = a;
		if (!rel_in(aliases[a].text_rel, at, s_off, s_len, &t) || aliases[a].case_rule < 0 ||
		    aliases[a].case_rule > GZ_CASE_PROPER)
			return f->problem = P_ALIAS;
	}
	return 0;
}

static int check_names(const struct check_run *run, int s, uint64_t lo, uint64_t hi,
		       struct finding *f, unsigned char *empty)
{
	(void)empty;
	const struct gz_snapshot_header *h = run->h;
	const struct gz_entry *entries = (const void *)(run->base + h->sec[S_ENTRIES].off);
	const struct gz_name *names = (const void *)(run->base + h->sec[s].off);
	/* another thread may still be checking the last entries' block */
	const unsigned char *counts =
		atomic_load_explicit(&run->entry_blocks, memory_order_acquire) ? NULL :
		run->alias_counts;
	for (uint64_t n = lo; n < hi; n++) {
		const struct gz_name *nm = &names[n];
		f->at = n;
		if (nm->entry >= h->entry_count ||
		    nm->form > (counts && counts[nm->entry] < 255 ? counts[nm->entry] :
				entries[nm->entry].alias_count) ||
		    nm->type >= h->type_count || nm->case_rule > GZ_CASE_PROPER ||
		    (uint64_t)nm->lead + nm->lead_len > h->pool_len ||
		    (uint64_t)nm->trail + nm->trail_len > h->pool_len ||
		    (nm->case_rule == GZ_CASE_SENSITIVE &&
		     (uint64_t)nm->cased + nm->cased_len > h->pool_len))
			return f->problem = P_NAME;
	}
	return 0;
}

static int check_ids(const struct check_run *run, int s, uint64_t lo, uint64_t hi,
		     struct finding *f, unsigned char *empty)
{
	const uint32_t *ids = (const void *)(run->base + run->h->sec[s].off);
	int seen = 0;
	for (uint64_t i = lo; i < hi; i++) {
		if (ids[i] > run->h->entry_count)
			return f->problem = P_ID;
		seen |= ids[i] == 0;
	}
	*empty |= seen ? E_IDS : 0;
	return 0;
}

/* The string tables' (the vocabulary's and the gaps') offsets: length in the
 * low 16 bits, start above. */
static int check_offs(const struct check_run *run, int s, uint64_t lo, uint64_t hi,
		      struct finding *f, unsigned char *empty)
{
	(void)empty;
	const uint64_t *offs = (const void *)(run->base + run->h->sec[s].off);
	uint64_t pool_len = s == S_TOK_OFFS ? run->h->token_pool_len : run->h->gap_pool_len;
	for (uint64_t id = lo; id < hi; id++) {
		uint64_t o = offs[id];
		if ((o >> 16) > pool_len || (o & 0xFFFF) > pool_len - (o >> 16))
			return trie_problem(f, "a string lies outside its pool");
	}
	return 0;
}

/* The hash tables' checks run branch-free (a slot is empty or not about as
 * often as not, and a branch on it was mispredicted at every other slot:
 * the edges' check cost more than hashing them).  Their messages name no
 * record, so a range only says whether it holds a bad one. */
static int check_slots(const struct check_run *run, int s, uint64_t lo, uint64_t hi,
		       struct finding *f, unsigned char *empty)
{
	const struct gz_trie_slot *slots = (const void *)(run->base + run->h->sec[s].off);
	uint64_t count = s == S_TOK_SLOTS ? run->h->token_count : run->h->gap_count;
	unsigned seen = 0, bad = 0;
	for (uint64_t i = lo; i < hi; i++) {
		uint32_t id1 = slots[i].id1, id = id1 & GZ_TRIE_SLOT_ID;
		seen |= id1 == 0;
		bad |= (id1 != 0) & ((id == 0) | (id > count));
	}
	if (bad)
		return trie_problem(f, "a string table slot names no string");
	*empty |= !seen ? 0 : s == S_TOK_SLOTS ? E_TOKENS : E_GAPS;
	return 0;
}

static int check_edges(const struct check_run *run, int s, uint64_t lo, uint64_t hi,
		       struct finding *f, unsigned char *empty)
{
	const struct gz_snapshot_header *h = run->h;
	const struct gz_trie_edge *edges = (const void *)(run->base + h->sec[s].off);
	uint64_t nodes = h->node_count, tokens = h->token_count, gaps = h->gap_count;
	unsigned seen = 0, bad = 0;
	for (uint64_t i = lo; i < hi; i++) {
		const struct gz_trie_edge *e = &edges[i];
		unsigned none = e->child == GZ_TRIE_NONE;
		seen |= none;
		bad |= (none ^ 1) & ((e->node >= nodes) | (e->child >= nodes) | (e->token >= tokens) |
				(e->gap >= gaps));
	}
	if (bad)
		return trie_problem(f, "an edge leads out of the trie");
	*empty |= seen ? E_EDGES : 0;
	return 0;
}

/* node_first[n] for n < node_count, each with the one after it (the last,
 * node_first[node_count], is the payload count, checked from the header) */
static int check_node_first(const struct check_run *run, int s, uint64_t lo, uint64_t hi,
			    struct finding *f, unsigned char *empty)
{
	(void)empty;
	const uint32_t *first = (const void *)(run->base + run->h->sec[s].off);
	for (uint64_t n = lo; n < hi; n++)
		if (first[n + 1] < first[n])
			return trie_problem(f, "a node's payloads end before they start");
	return 0;
}

static int check_payloads(const struct check_run *run, int s, uint64_t lo, uint64_t hi,
			  struct finding *f, unsigned char *empty)
{
	(void)empty;
	const uint32_t *payloads = (const void *)(run->base + run->h->sec[s].off);
	for (uint64_t k = lo; k < hi; k++)
		if (payloads[k] >= run->h->name_count)
			return trie_problem(f, "a payload names no name");
	return 0;
}

static int check_root_child(const struct check_run *run, int s, uint64_t lo, uint64_t hi,
			    struct finding *f, unsigned char *empty)
{
	(void)empty;
	const uint32_t *child = (const void *)(run->base + run->h->sec[s].off);
	for (uint64_t k = lo; k < hi; k++)
		if (child[k] != GZ_TRIE_NONE && child[k] >= run->h->node_count)
			return trie_problem(f, "a first step leads to no node");
	return 0;
}

/* The sections with records to check, in file order, and their records'
 * sizes. */
static const struct {
	int sec;
	uint32_t size;
	check_fn *fn;
} record_checks[] = {
	{ S_ENTRIES, sizeof(struct gz_entry), check_entries },
	{ S_ALIASES, sizeof(struct gz_alias), check_aliases },
	{ S_NAMES, sizeof(struct gz_name), check_names },
	{ S_ID_SLOTS, sizeof(uint32_t), check_ids },
	{ S_TOK_OFFS, sizeof(uint64_t), check_offs },
	{ S_TOK_SLOTS, sizeof(struct gz_trie_slot), check_slots },
	{ S_GAP_OFFS, sizeof(uint64_t), check_offs },
	{ S_GAP_SLOTS, sizeof(struct gz_trie_slot), check_slots },
	{ S_EDGES, sizeof(struct gz_trie_edge), check_edges },
	{ S_NODE_FIRST, sizeof(uint32_t), check_node_first },
	{ S_PAYLOADS, sizeof(uint32_t), check_payloads },
	{ S_ROOT_CHILD, sizeof(uint32_t), check_root_child },
};

/* The checksum of block k, then the checks of the records that start in it. */
static void check_block(struct check_run *run, size_t k)
{
	const struct gz_snapshot_header *h = run->h;
	uint64_t lo = (uint64_t)k * SUM_BLOCK;
	uint64_t hi = run->len - lo < SUM_BLOCK ? run->len : lo + SUM_BLOCK;
	run->sums[k] = block_sum(run->base, run->len, k);
	for (size_t c = 0; c < sizeof record_checks / sizeof *record_checks; c++) {
		int s = record_checks[c].sec;
		uint64_t off = h->sec[s].off, z = record_checks[c].size;
		if (off >= hi || off + h->sec[s].len <= lo)
			continue;
		/* node_first holds node_count + 1 words, node_count checks */
		uint64_t n = h->sec[s].len / z - (s == S_NODE_FIRST);
		uint64_t first = lo <= off ? 0 : (lo - off + z - 1) / z;
		uint64_t last = (hi - off + z - 1) / z;
		if (last > n)
			last = n;
		int bad = first < last &&
			  record_checks[c].fn(run, s, first, last, &run->found[k], &run->empty[k]);
		if (s == S_ENTRIES)
			atomic_fetch_sub_explicit(&run->entry_blocks, 1, memory_order_release);
		if (bad)
			return;
	}
}

static void *check_jobs(void *arg)
{
	struct check_run *run = arg;
	for (size_t k; (k = atomic_fetch_add(&run->next, 1)) < run->nblocks;)
		check_block(run, k);
	return NULL;
}

static int power_of_two_mask(uint64_t mask)
{
	return ((mask + 1) & mask) == 0;
}

/* The trie's checks that need no record: its tables' sizes (a probe that
 * wraps with a mask needs a power of two) and the ends of its payload
 * ranges. */
static const char *trie_sizes(const struct gz_snapshot_header *h, const char *base)
{
	if (!power_of_two_mask(h->token_mask) || h->token_count >= GZ_TRIE_SLOT_ID - 1 ||
	    h->token_count > h->token_mask || !power_of_two_mask(h->gap_mask) ||
	    h->gap_count >= GZ_TRIE_SLOT_ID - 1 || h->gap_count > h->gap_mask)
		return "a string table's size is wrong";
	if (!power_of_two_mask(h->token_filter_mask))
		return "a filter's size is wrong";
	if (!power_of_two_mask(h->start_filter_mask))
		return "the vocabulary has no filter";
	if (h->gap_count == 0)
		return "the empty gap is missing";
	if (h->node_count == 0 || h->node_count >= GZ_TRIE_NONE)
		return "the trie has no nodes";
	const uint32_t *first = (const void *)(base + h->sec[S_NODE_FIRST].off);
	if (first[0] != 0)
		return "the first node's payloads do not start at 0";
	if (first[h->node_count] != h->payload_count)
		return "the payload count disagrees";
	if (h->has_edges && !power_of_two_mask(h->edge_mask))
		return "the edge table's size is wrong";
	return NULL;
}

/* The checks that read no records: the few a snapshot known to have passed
 * them all (gz_checked_find) goes through again, as they cost nothing. */
static int check_whole(const char *name, const struct gz_snapshot_header *h, const char *base,
		       struct gz_error *err)
{
	uint64_t s_len = h->sec[S_STRINGS].len;
	if (s_len == 0 || base[h->sec[S_STRINGS].off + s_len - 1] != '\0')
		FAIL("%s: corrupted: the strings section does not end in a NUL", name);
	const char *why = trie_sizes(h, base);
	if (why)
		FAIL("%s: corrupted: %s", name, why);
	return 0;
}

/* Runs the blocks' jobs (on up to GZ_SNAPSHOT_THREADS threads for a big
 * file) and reports the problem a one-thread pass would meet first, the
 * checksum's before any. */
#define GZ_SNAPSHOT_THREADS 8
#define SMALL_SNAPSHOT ((size_t)64 << 20)
static int check_sections(const char *name, const struct gz_snapshot_header *h, const char *base,
			  size_t len, struct gz_error *err)
{
	unsigned n = 1;
	if (len >= SMALL_SNAPSHOT) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);
		n = c < 1 ? 1 : c > GZ_SNAPSHOT_THREADS ? GZ_SNAPSHOT_THREADS : (unsigned)c;
	}
	struct check_run run = { .base = base, .h = h, .len = len, .nblocks = sum_blocks(len) };
	atomic_init(&run.next, 0);
	size_t nb = run.nblocks ? run.nblocks : 1;
	run.sums = malloc(nb * sizeof(*run.sums));
	run.found = calloc(nb, sizeof(*run.found));
	run.empty = calloc(nb, 1);
	run.alias_counts = calloc(h->entry_count ? h->entry_count : 1, 1);
	uint64_t e_off = h->sec[S_ENTRIES].off, e_len = h->sec[S_ENTRIES].len;
	atomic_init(&run.entry_blocks,
		    e_len ? (e_off + e_len - 1) / SUM_BLOCK - e_off / SUM_BLOCK + 1 : 0);
	if (!run.sums || !run.found || !run.empty || !run.alias_counts) {
		free(run.sums);
		free(run.found);
		free(run.empty);
		free(run.alias_counts);
		return gz_error_set(err, GZ_ENOMEM, "out of memory");
	}
	pthread_t tid[GZ_SNAPSHOT_THREADS];
	unsigned started = 0;
	while (started + 1 < n && pthread_create(&tid[started], NULL, check_jobs, &run) == 0)
		started++;
	check_jobs(&run);
	for (unsigned t = 0; t < started; t++)
		pthread_join(tid[t], NULL);
	uint64_t sum = combine_sums(run.sums, run.nblocks);
	struct finding first = { P_NONE, 0, NULL };
	unsigned empty = 0;
	for (size_t k = 0; k < run.nblocks; k++) {
		empty |= run.empty[k];
		if (run.found[k].problem && !first.problem)
			first = run.found[k];
	}
	free(run.sums);
	free(run.found);
	free(run.empty);
	free(run.alias_counts);
	unsigned long long at = first.at;
	if (sum != h->checksum)
		FAIL("%s: checksum mismatch: the file is corrupted", name);
	int r = check_whole(name, h, base, err);
	if (r)
		return r;
	switch (first.problem) {
	case P_NONE:
		break;
	case P_ENTRY_STRING:
		FAIL("%s: corrupted: entry %llu names a string outside the strings section", name, at);
	case P_ENTRY_ALIASES:
		FAIL("%s: corrupted: entry %llu's aliases lie outside the aliases section", name, at);
	case P_ENTRY_VALUE:
		FAIL("%s: corrupted: entry %llu has a value out of range", name, at);
	case P_ALIAS:
		FAIL("%s: corrupted: alias %llu is out of range", name, at);
	case P_NAME:
		FAIL("%s: corrupted: name %llu is out of range", name, at);
	case P_ID:
		FAIL("%s: corrupted: the id index names no entry", name);
	case P_TRIE:
		FAIL("%s: corrupted: %s", name, first.why);
	}
	if (!(empty & E_IDS))
		FAIL("%s: corrupted: the id index has no empty slot", name);
	if (!(empty & E_TOKENS) || !(empty & E_GAPS))
		FAIL("%s: corrupted: a string table has no empty slot", name);
	if (h->has_edges && !(empty & E_EDGES))
		FAIL("%s: corrupted: the edge table has no empty slot", name);
	return 0;
}

static int string_at(const struct gz_snapshot_header *h, uint64_t off)
{
	return off < h->sec[S_STRINGS].len;
}

/* gz_snapshot_read's work; known (NULL: none) is what a full check of this
 * file passed before: when the header matches it, the records are not read. */
static int read_image(const char *name, const void *buf, size_t len, const char *want_key,
		      const struct gz_checked *known, struct gz_set **out, int *full,
		      struct gz_error *err)
{
	*out = NULL;
	const char *base = buf;
	struct gz_snapshot_header h;
	if (len < sizeof(h.magic) || memcmp(base, GZ_SNAPSHOT_MAGIC, sizeof(h.magic)) != 0)
		FAIL("%s: not a gaztag snapshot (no GZSNAP magic at its start)", name);
	if (len < offsetof(struct gz_snapshot_header, version) + sizeof(h.version))
		FAIL("%s: truncated: %zu bytes, less than a header", name, len);
	memcpy(&h.version, base + offsetof(struct gz_snapshot_header, version), sizeof(h.version));
	if (h.version != GZ_SNAPSHOT_VERSION)
		FAIL("%s: snapshot format version %u, this gaztagd reads version %u: compile it "
		     "again with gaztagd --compile", name, h.version, GZ_SNAPSHOT_VERSION);
	if (len < sizeof(h))
		FAIL("%s: truncated: %zu bytes, less than a header", name, len);
	memcpy(&h, base, sizeof(h));
	if (h.header_size != sizeof(h) || h.entry_size != sizeof(struct gz_entry) ||
	    h.alias_size != sizeof(struct gz_alias) || h.name_size != sizeof(struct gz_name) ||
	    h.record_size != GZ_TRIE_RECORD_SIZE)
		FAIL("%s: written by a gaztagd of another build or machine (record sizes differ): "
		     "compile it again here", name);
	if (h.file_size != len)
		FAIL("%s: truncated or extended: its header says %llu bytes, the file has %zu", name,
		     (unsigned long long)h.file_size, len);
	if (memchr(h.hash, 0, sizeof h.hash) == NULL || memchr(h.key, 0, sizeof h.key) == NULL)
		HFAIL("%s: corrupted: bad hash field", name);
	if (want_key && strcmp(h.key, want_key) != 0)
		FAIL("%s: built from other files or options (cache key %s, wanted %s)", name,
		     h.key[0] ? h.key : "none", want_key);

	/* sizes: every count below 2^32 (the arrays' indices are 32-bit), every
	 * table a power of two, every section where the counts say */
	const uint64_t lim = UINT32_MAX;
	if (h.entry_count >= lim || h.alias_count >= lim || h.name_count >= lim ||
	    h.type_count > 0xFFFF || h.file_count >= lim || h.region_count >= lim ||
	    h.id_mask >= lim || h.token_count >= lim || h.token_mask >= lim ||
	    h.token_filter_mask >= lim || h.gap_count >= lim || h.gap_mask >= lim ||
	    h.edge_mask >= lim || h.node_count >= lim || h.node_count == 0 ||
	    h.payload_count >= lim || h.start_filter_mask >= lim || h.pool_len >= lim ||
	    h.token_pool_len >= (1ull << 48) || h.gap_pool_len >= (1ull << 48) || h.has_edges > 1)
		HFAIL("%s: corrupted: a count in the header is out of range", name);
	uint64_t lens[S_COUNT];
	section_lens(&h, h.sec[S_STRINGS].len, lens);
	/* each section where the writer puts it, right after the one before:
	 * a section moved elsewhere in the file (over another) is refused,
	 * though every index in it would be in bounds */
	uint64_t at = (sizeof(h) + 63) & ~(uint64_t)63;
	for (int s = 0; s < S_COUNT; s++) {
		if (h.sec[s].len != lens[s])
			HFAIL("%s: corrupted: the %s section is %llu bytes, its counts say %llu", name,
			     section_names[s], (unsigned long long)h.sec[s].len,
			     (unsigned long long)lens[s]);
		if (h.sec[s].off % 64 || h.sec[s].off < sizeof(h) || h.sec[s].off > len ||
		    h.sec[s].len > len - h.sec[s].off)
			HFAIL("%s: corrupted: the %s section lies outside the file", name,
			     section_names[s]);
		if (h.sec[s].off != at)
			HFAIL("%s: corrupted: the %s section is at %llu, not at %llu where the one "
			     "before it ends", name, section_names[s],
			     (unsigned long long)h.sec[s].off, (unsigned long long)at);
		at = (at + h.sec[s].len + 63) & ~(uint64_t)63;
	}
	if (at != len)
		HFAIL("%s: corrupted: the sections end at %llu, the file at %zu", name,
		     (unsigned long long)at, len);
#define SEC(s) ((const void *)(base + h.sec[s].off))
	struct gz_trie_parts tp = {
		.tokens = { SEC(S_TOK_POOL), h.token_pool_len, SEC(S_TOK_OFFS), h.token_count,
			    SEC(S_TOK_SLOTS), h.token_mask, SEC(S_TOK_FILTER), h.token_filter_mask },
		.gaps = { SEC(S_GAP_POOL), h.gap_pool_len, SEC(S_GAP_OFFS), h.gap_count,
			  SEC(S_GAP_SLOTS), h.gap_mask, NULL, 0 },
		.edges = h.has_edges ? SEC(S_EDGES) : NULL,
		.edge_mask = h.edge_mask,
		.node_count = h.node_count,
		.has_children = SEC(S_HAS_CHILDREN),
		.node_first = SEC(S_NODE_FIRST),
		.payloads = SEC(S_PAYLOADS),
		.root_child = SEC(S_ROOT_CHILD),
		.start_filter = SEC(S_START_FILTER),
		.start_filter_mask = h.start_filter_mask,
	};
	*full = !known || known->checksum != h.checksum || strcmp(known->hash, h.hash) != 0;
	int r = *full ? check_sections(name, &h, base, len, err) : check_whole(name, &h, base, err);
	if (r)
		return r;

	/* the small tables, as pointers into the strings */
	const char *strings = base + h.sec[S_STRINGS].off;
	const uint64_t *type_off = (const void *)(base + h.sec[S_TYPES].off);
	const uint64_t *region_off = (const void *)(base + h.sec[S_REGIONS].off);
	const struct gz_snapshot_file *file_recs = (const void *)(base + h.sec[S_FILES].off);
	const char **types = malloc((h.type_count + 1) * sizeof(*types));
	const char **regions = malloc((h.region_count + 1) * sizeof(*regions));
	struct gz_file_info *files = malloc((h.file_count + 1) * sizeof(*files));
	struct gz_trie *trie = NULL;
	if (!types || !regions || !files) {
		r = gz_error_set(err, GZ_ENOMEM, "out of memory");
		goto out;
	}
	for (uint64_t i = 0; i < h.type_count; i++) {
		if (!string_at(&h, type_off[i]))
			goto bad_table;
		types[i] = strings + type_off[i];
	}
	regions[0] = NULL;
	for (uint64_t i = 1; i <= h.region_count; i++) {
		if (!string_at(&h, region_off[i]))
			goto bad_table;
		regions[i] = strings + region_off[i];
	}
	for (uint64_t i = 0; i < h.file_count; i++) {
		if (!string_at(&h, file_recs[i].path) || !string_at(&h, file_recs[i].type))
			goto bad_table;
		files[i] = (struct gz_file_info){ strings + file_recs[i].path,
						  strings + file_recs[i].type, file_recs[i].entries,
						  file_recs[i].names };
	}
	struct gz_set_parts sp = {
		.entries = SEC(S_ENTRIES), .entry_count = h.entry_count,
		.aliases = SEC(S_ALIASES), .alias_count = h.alias_count,
		.names = SEC(S_NAMES), .name_count = h.name_count,
		.pool = SEC(S_POOL), .pool_len = h.pool_len,
		.id_slots = SEC(S_ID_SLOTS), .id_mask = h.id_mask,
		.regions = regions, .region_count = h.region_count,
		.types = types, .type_count = h.type_count,
		.files = files, .file_count = h.file_count,
	};
#undef SEC
	if (!(trie = gz_trie_from_parts(&tp)) || !(*out = gz_set_adopt(&sp, trie, h.hash))) {
		gz_trie_free(trie);
		r = gz_error_set(err, GZ_ENOMEM, "out of memory");
		goto out;
	}
	r = 0;
	goto out;
bad_table:
	r = gz_error_set(err, GZ_ELOAD, "%s: corrupted: a type, region or file names a string "
			 "outside the strings section", name);
out:
	free(types);
	free(regions);
	free(files);
	return r;
}

int gz_snapshot_read(const char *name, const void *buf, size_t len, const char *want_key,
		     struct gz_set **out, struct gz_error *err)
{
	int full;
	return read_image(name, buf, len, want_key, NULL, out, &full, err);
}

int gz_snapshot_read_copy(const char *name, const void *buf, size_t len,
			  const struct gz_set *from, struct gz_set **out, struct gz_error *err)
{
	struct gz_checked known;
	const struct gz_snapshot_header *h = buf;
	size_t from_len = 0;
	int full;
	const void *map = gz_set_map(from, &from_len);
	if (!map || from_len != len || len < sizeof(*h) || memcmp(map, buf, sizeof(*h)) != 0)
		return read_image(name, buf, len, NULL, NULL, out, &full, err);
	known.checksum = h->checksum;
	memcpy(known.hash, h->hash, sizeof known.hash);
	known.hash[sizeof known.hash - 1] = '\0';
	return read_image(name, buf, len, NULL, &known, out, &full, err);
}

int gz_snapshot_load(const char *path, const char *want_key, const char *record_dir,
		     struct gz_set **out, int *full, struct gz_error *err)
{
	int local_full;
	if (!full)
		full = &local_full;
	*full = GZ_SNAPSHOT_FULL;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return gz_error_set(err, GZ_ELOAD, "%s: cannot open: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return gz_error_set(err, GZ_ELOAD, "%s: not a regular file", path);
	}
	if (st.st_size == 0) {
		close(fd);
		return gz_error_set(err, GZ_ELOAD, "%s: empty file, not a gaztag snapshot", path);
	}
	size_t len = (size_t)st.st_size;
	void *map = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		int e = errno;
		close(fd);
		return gz_error_set(err, GZ_ELOAD, "%s: cannot map: %s", path, strerror(e));
	}
	struct gz_checked known;
	int r = read_image(path, map, len, want_key,
			   gz_checked_find(record_dir, &st, &known) ? &known : NULL, out, full, err);
	if (r) {
		close(fd);
		munmap(map, len);
		return r;
	}
	if (*full) {
		const struct gz_snapshot_header *h = map;
		known.checksum = h->checksum;
		memcpy(known.hash, h->hash, sizeof known.hash);
		if (gz_checked_note(record_dir, &st, fd, &known))
			*full = GZ_SNAPSHOT_UNRECORDED;
	}
	int e = errno;
	close(fd);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	gz_set_hand_over_map(*out, map, len,
			     (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	errno = e; /* GZ_SNAPSHOT_UNRECORDED's */
	return 0;
}
