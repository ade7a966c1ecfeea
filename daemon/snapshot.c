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
 * sections are the set's and trie's arrays as they lie in memory.  This
 * file writes them and reads the header and section table; the checks of
 * the checksum and the records are snapshot_check.c's.
 */
#include "snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "checked.h"
#include "set_internal.h"
#include "snapshot_check.h"
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
	int r = *full ? gz_snapshot_check_records(name, &h, base, len, err)
		       : gz_snapshot_check_whole(name, &h, base, err);
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
