/*
 * Checking a snapshot image: its checksum and every record in it (see
 * snapshot_check.h).
 */
#include "snapshot_check.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>
#include <xxhash.h>

#include "set_internal.h"
#include "snapshot.h"
#include "trie.h"

#define FAIL(...) return gz_error_set(err, GZ_ELOAD, __VA_ARGS__)

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
int gz_snapshot_check_whole(const char *name, const struct gz_snapshot_header *h, const char *base,
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
int gz_snapshot_check_records(const char *name, const struct gz_snapshot_header *h,
			      const char *base, size_t len, struct gz_error *err)
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
	int r = gz_snapshot_check_whole(name, h, base, err);
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
