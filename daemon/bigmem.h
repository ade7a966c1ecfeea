/*
 * Big arrays of a set: the entries, names, string arenas and the trie's
 * tables, hundreds of MB for a GeoNames-sized gazetteer.
 *
 * They are mapped directly, in 2 MB transparent huge pages once they reach
 * that size (the kernel's default is to give huge pages only to memory that
 * asks).  Two reasons, both measured on 5M names (issue 15): on 4 KB pages,
 * faulting in a fresh 1.2 GB set took a quarter of the load's time, a
 * page fault being costly in a VM; and the tables are random-accessed once
 * per word of text, where a 4 KB page costs a TLB miss per access.  A fresh
 * mapping is zero, so an array needs no memset (which would fault it all in
 * twice over), and grows by mremap, with no copy.
 *
 * Under AddressSanitizer these are plain calloc/realloc/free, so that the
 * sanitizer still sees an access past an array's end.
 */
#ifndef GZ_BIGMEM_H
#define GZ_BIGMEM_H

#include <stddef.h>

/* bytes of zeroes; NULL when out of memory.  gz_big_free(p, bytes) frees
 * it, with the same bytes. */
void *gz_big_alloc(size_t bytes);
/* p (of old bytes, or NULL) grown or shrunk to bytes, its contents kept
 * and any new part zero; NULL when out of memory, p then unchanged. */
void *gz_big_resize(void *p, size_t old, size_t bytes);
void gz_big_free(void *p, size_t bytes);
/* For p of bytes whose first used bytes are all it will ever hold: gives
 * back the pages past them (the last huge page of an array is resident
 * whole though the array ends in it; 31 MB over a 5M-name set).  What
 * follows used reads as zero again. */
void gz_big_trim(void *p, size_t bytes, size_t used);

#endif
