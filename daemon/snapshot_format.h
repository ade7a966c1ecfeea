/*
 * The snapshot file's layout (snapshot.c writes and reads it; the unit
 * tests damage it field by field).  A fixed header, then S_COUNT sections,
 * each starting at the next multiple of 64 bytes after the one before, the
 * last ending where the file ends.
 */
#ifndef GZ_SNAPSHOT_FORMAT_H
#define GZ_SNAPSHOT_FORMAT_H

#include <stdint.h>

enum {
	S_STRINGS, S_ENTRIES, S_ALIASES, S_NAMES, S_POOL, S_ID_SLOTS, S_REGIONS, S_TYPES,
	S_FILES, S_TOK_POOL, S_TOK_OFFS, S_TOK_SLOTS, S_TOK_FILTER, S_GAP_POOL, S_GAP_OFFS,
	S_GAP_SLOTS, S_EDGES, S_NODE_FIRST, S_PAYLOADS, S_ROOT_CHILD, S_HAS_CHILDREN,
	S_START_FILTER, S_COUNT
};

#define GZ_SNAPSHOT_MAGIC "GZSNAP\r\n"   /* 8 bytes, no NUL */

/* The checksum's block: the header's checksum is XXH3-64 of the XXH3-64s of
 * the file's blocks of this size (the last one shorter). */
#define GZ_SNAPSHOT_SUM_BLOCK (256u << 10)

struct gz_snapshot_header {
	char magic[8];
	uint32_t version;
	uint32_t header_size;
	uint64_t file_size;
	uint64_t checksum;          /* XXH3-64 of the XXH3-64s of its
				     * GZ_SNAPSHOT_SUM_BLOCK blocks, read with
				     * this field zero */
	uint32_t entry_size, alias_size, name_size, record_size;
	char hash[40];              /* content hash of the source files, hex */
	char key[40];               /* cache key, hex, or "" */
	uint64_t entry_count, alias_count, name_count, type_count, file_count, region_count;
	uint64_t id_mask, token_count, token_mask, token_filter_mask, gap_count, gap_mask;
	uint64_t edge_mask, has_edges, node_count, payload_count, start_filter_mask;
	uint64_t pool_len, token_pool_len, gap_pool_len;
	struct {
		uint64_t off, len;
	} sec[S_COUNT];
};

/* A file's record in the files section. */
struct gz_snapshot_file {
	uint64_t path, type, entries, names;
};

#endif
