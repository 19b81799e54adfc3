/*
 * floor.h - the least an allocator can do, for ref-churn-floor: the floor
 * under churn's "pool at most 0.5x mimalloc" target (docs/perf.md).
 *
 * Why it exists.  A churn operation is a free and an allocation plus the
 * workload's own work: a generator draw, a slot in a window of `live`
 * blocks, two cookie reads and two cookie writes in the blocks themselves,
 * a checksum fold.  No allocator can make that work cheaper.  This one
 * spends a handful of instructions a call, so ref-churn built on it
 * measures the workload's own cost with an allocator next to free: any
 * ratio below floor / mimalloc is out of reach of every allocator, pool
 * included.
 *
 * What it does: 16-byte size classes up to 1 KiB, each a LIFO list of
 * free blocks threaded through their first word; a new block is carved
 * from the top of a 64 MiB region.  No header: the caller passes the size
 * back to free (churn knows every block's size, as heaplab's sized
 * hl_free does), so a block is its class's size and nothing more.  What
 * it leaves out, on purpose: returning memory to the system, threads,
 * sizes over 1 KiB, any check.  Not an allocator to use: a measuring
 * stick, in-process (no preload), called directly by the program.
 */
#ifndef HEAPLAB_REF_FLOOR_H
#define HEAPLAB_REF_FLOOR_H

#include <stddef.h>
#include <sys/mman.h>

#define FLOOR_CLASSES 65             /* 0 .. 1024 bytes in steps of 16 */
#define FLOOR_REGION ((size_t)1 << 26)

static void *floor_free_list[FLOOR_CLASSES];
static char *floor_top, *floor_end;

/* A block of at least size (<= 1024) bytes, 16-aligned, or NULL when
 * the system has no region to give.  O(1). */
static inline void *floor_alloc(size_t size)
{
    size_t c = (size + 15) >> 4;
    if (c >= FLOOR_CLASSES)
        return NULL;
    void *p = floor_free_list[c];
    if (p != NULL) {
        floor_free_list[c] = *(void **)p;
        return p;
    }
    size_t need = c << 4;
    if (floor_top == NULL || (size_t)(floor_end - floor_top) < need) {
        void *r = mmap(NULL, FLOOR_REGION, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                       -1, 0);
        if (r == MAP_FAILED)
            return NULL;
        floor_top = r;
        floor_end = floor_top + FLOOR_REGION;
    }
    p = floor_top;
    floor_top += need;
    return p;
}

/* Put p (from floor_alloc(size), or NULL) back on its class's list.  O(1). */
static inline void floor_free(void *p, size_t size)
{
    if (p == NULL)
        return;
    size_t c = (size + 15) >> 4;
    *(void **)p = floor_free_list[c];
    floor_free_list[c] = p;
}

#endif
