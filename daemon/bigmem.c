/*
 * Big arrays on transparent huge pages; see bigmem.h.
 */
#include "bigmem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__SANITIZE_ADDRESS__)
#define GZ_BIGMEM_MALLOC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GZ_BIGMEM_MALLOC 1
#endif
#endif

#ifdef GZ_BIGMEM_MALLOC

void *gz_big_alloc(size_t bytes)
{
	return calloc(1, bytes ? bytes : 1);
}

void *gz_big_resize(void *p, size_t old, size_t bytes)
{
	char *q = realloc(p, bytes ? bytes : 1);
	if (q && bytes > old)
		memset(q + old, 0, bytes - old);
	return q;
}

void gz_big_free(void *p, size_t bytes)
{
	(void)bytes;
	free(p);
}

void gz_big_trim(void *p, size_t bytes, size_t used)
{
	(void)p;
	(void)bytes;
	(void)used;
}

#else

#define HUGE_PAGE (2u << 20)
#define PAGE 4096u

/* A length the kernel maps as it is: whole pages, and whole huge pages from
 * one huge page on (the kernel then aligns the mapping to 2 MB, and an array
 * that ends one byte into a huge page would get 4 KB pages for its tail). */
static size_t mapped_len(size_t bytes)
{
	size_t unit = bytes >= HUGE_PAGE ? HUGE_PAGE : PAGE;
	if (bytes == 0)
		return PAGE;
	if (bytes > SIZE_MAX - unit)
		return 0;
	return (bytes + unit - 1) & ~(size_t)(unit - 1);
}

void *gz_big_alloc(size_t bytes)
{
	size_t len = mapped_len(bytes);
	if (!len)
		return NULL;
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (len >= HUGE_PAGE)
		madvise(p, len, MADV_HUGEPAGE);
	return p;
}

void *gz_big_resize(void *p, size_t old, size_t bytes)
{
	if (!p)
		return gz_big_alloc(bytes);
	size_t from = mapped_len(old), to = mapped_len(bytes);
	if (!to)
		return NULL;
	/* past the old length nothing was written, so the pages there are
	 * zero; a shrink zeroes what it keeps past the new length, for a
	 * later growth to find zeroes there too */
	if (bytes < old)
		memset((char *)p + bytes, 0, (old < to ? old : to) - bytes);
	if (from == to)
		return p;
	void *q = mremap(p, from, to, MREMAP_MAYMOVE);
	if (q == MAP_FAILED)
		return NULL;
	if (to >= HUGE_PAGE)
		madvise(q, to, MADV_HUGEPAGE);
	return q;
}

void gz_big_free(void *p, size_t bytes)
{
	if (p)
		munmap(p, mapped_len(bytes));
}

void gz_big_trim(void *p, size_t bytes, size_t used)
{
	size_t len = mapped_len(bytes), from = (used + PAGE - 1) & ~(size_t)(PAGE - 1);
	if (p && len >= HUGE_PAGE && from < len)
		madvise((char *)p + from, len - from, MADV_DONTNEED);
}

#endif
