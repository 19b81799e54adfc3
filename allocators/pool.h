/*
 * pool.h - tunables and introspection of the pool allocator (`--allocator=pool`).
 *
 * The allocator itself is reached through its method table,
 * hl_pool_allocator() (allocator.h).  This header adds what tests and the
 * statistics code need to look inside one instance: the layout constants,
 * the size-class mapping, where a pool puts its header (its cache colour),
 * and a snapshot of the arenas, pools and blocks.
 * pool.c explains the design.
 */
#ifndef HEAPLAB_POOL_H
#define HEAPLAB_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "allocators/allocator.h"

/* ------------------------------------------------------------ tunables -- */

/* Size-class step: every class size is a multiple of it.
 * Invariant: a power of two >= HL_ALIGNMENT, so every block is aligned. */
#define HL_POOL_CLASS_SHIFT 4
#define HL_POOL_CLASS_STEP ((size_t)1 << HL_POOL_CLASS_SHIFT)

/* Requests of 1..HL_POOL_SMALL_MAX bytes are served from pools; 0 and larger
 * ones go to the C library's malloc.  Invariant: a multiple of the step. */
#define HL_POOL_SMALL_MAX ((size_t)512)

/* Number of size classes.  Invariant: HL_POOL_SMALL_MAX / HL_POOL_CLASS_STEP. */
#define HL_POOL_NCLASSES 32

/* Pool: the unit of memory that serves one size class.  Invariant: a power
 * of two (a block finds its pool by masking its address), a multiple of the
 * page size, and big enough for two blocks of the largest class. */
#define HL_POOL_SHIFT 14
#define HL_POOL_SIZE ((size_t)1 << HL_POOL_SHIFT)

/* Bytes taken by a pool's header.  Invariant: a multiple of
 * HL_POOL_CLASS_STEP (the blocks after it stay aligned) and at most
 * HL_POOL_COLOUR_STRIDE (a header fits in one cache line). */
#define HL_POOL_HEADER_SIZE ((size_t)48)

/* Cache colouring: a pool's header sits HL_POOL_COLOUR_STRIDE bytes times
 * the pool's colour past the pool's start, the colour being bits
 * HL_POOL_SHIFT and up of the pool's address modulo HL_POOL_COLOURS, so
 * consecutive pools put their headers in different L1 sets (pool.c says
 * why).  The bytes before the header (the colour gap, at most
 * (HL_POOL_COLOURS - 1) * HL_POOL_COLOUR_STRIDE = 448) hold blocks too:
 * as many whole blocks of the pool's class as fit there.
 * Invariants: the stride is a cache line and a multiple of
 * HL_POOL_CLASS_STEP (blocks stay aligned); the colours are a power of two
 * and together span at most one 4 KiB L1 way (distinct sets, and no two
 * headers alias modulo 4 KiB). */
#define HL_POOL_COLOUR_SHIFT 6
#define HL_POOL_COLOUR_STRIDE ((size_t)1 << HL_POOL_COLOUR_SHIFT)
#define HL_POOL_COLOURS 8u

/* Arena: the unit of memory asked from and returned to the kernel (mmap).
 * Invariant: a multiple of HL_POOL_SIZE.  A mapping is page-aligned but not
 * pool-aligned, so an arena holds HL_POOL_ARENA_SIZE / HL_POOL_SIZE pools
 * when it happens to be pool-aligned and one fewer otherwise. */
#define HL_POOL_ARENA_SIZE ((size_t)1 << 20)
#define HL_POOL_MAX_POOLS_PER_ARENA ((unsigned)(HL_POOL_ARENA_SIZE / HL_POOL_SIZE))

_Static_assert(HL_POOL_CLASS_STEP >= HL_ALIGNMENT, "class step below the alignment");
_Static_assert((HL_POOL_CLASS_STEP & (HL_POOL_CLASS_STEP - 1)) == 0, "class step not a power of two");
_Static_assert(HL_POOL_SMALL_MAX % HL_POOL_CLASS_STEP == 0, "threshold not a multiple of the step");
_Static_assert(HL_POOL_NCLASSES == HL_POOL_SMALL_MAX / HL_POOL_CLASS_STEP, "class count");
_Static_assert(HL_POOL_HEADER_SIZE % HL_POOL_CLASS_STEP == 0, "pool header breaks block alignment");
_Static_assert(HL_POOL_HEADER_SIZE <= HL_POOL_COLOUR_STRIDE, "pool header spans two cache lines");
_Static_assert(HL_POOL_COLOUR_STRIDE % HL_POOL_CLASS_STEP == 0, "colour stride breaks block alignment");
_Static_assert(HL_POOL_COLOUR_SHIFT <= HL_POOL_SHIFT, "colour stride above the pool size");
_Static_assert((HL_POOL_COLOURS & (HL_POOL_COLOURS - 1)) == 0, "colour count not a power of two");
_Static_assert(HL_POOL_COLOURS * HL_POOL_COLOUR_STRIDE <= 4096, "colours wrap around an L1 way");
_Static_assert(HL_POOL_SIZE >= (HL_POOL_COLOURS - 1) * HL_POOL_COLOUR_STRIDE + HL_POOL_HEADER_SIZE +
                                   2 * HL_POOL_SMALL_MAX,
               "pool too small");
_Static_assert(HL_POOL_ARENA_SIZE % HL_POOL_SIZE == 0, "arena not a whole number of pools");

/* -------------------------------------------------------- size classes -- */

/* The class of a request of n bytes.  Needs 1 <= n <= HL_POOL_SMALL_MAX. */
static inline unsigned hl_pool_class_of(size_t n)
{
    return (unsigned)((n - 1) >> HL_POOL_CLASS_SHIFT);
}

/* The block size of class idx.  Needs idx < HL_POOL_NCLASSES. */
static inline size_t hl_pool_class_size(unsigned idx)
{
    return (size_t)(idx + 1) << HL_POOL_CLASS_SHIFT;
}

/* ---------------------------------------------------------- pool layout -- */

/* The colour (0 .. HL_POOL_COLOURS - 1) of the pool that starts at
 * `pool_base`, a multiple of HL_POOL_SIZE.  A function of the address
 * alone, so a block finds its pool's header from its own address. */
static inline unsigned hl_pool_colour_of(uintptr_t pool_base)
{
    return (unsigned)(pool_base >> HL_POOL_SHIFT) & (HL_POOL_COLOURS - 1);
}

/* Bytes from the start of a pool of colour `colour` to its header: the
 * colour gap, which holds blocks as well (hl_pool_block_offset). */
static inline size_t hl_pool_header_offset(unsigned colour)
{
    return (size_t)colour * HL_POOL_COLOUR_STRIDE;
}

/* Blocks of class idx in the colour gap of a pool of colour `colour`: the
 * whole blocks that fit between the pool's start and its header.  They
 * are the pool's first blocks; the gap's last (header offset mod class
 * size) bytes stay unused. */
static inline size_t hl_pool_blocks_before_header(unsigned idx, unsigned colour)
{
    return hl_pool_header_offset(colour) / hl_pool_class_size(idx);
}

/* Bytes from the start of a pool of class idx and colour `colour` to its
 * block i, in the order blocks are carved (addresses ascending): the gap's
 * blocks from the pool's start, then, past the header, the rest up to the
 * pool's end.  Needs i < hl_pool_class_capacity(idx, colour).  Every
 * offset is a multiple of HL_POOL_CLASS_STEP, and no block overlaps the
 * header [header offset, + HL_POOL_HEADER_SIZE) or crosses the pool's end. */
static inline size_t hl_pool_block_offset(unsigned idx, unsigned colour, size_t i)
{
    size_t size = hl_pool_class_size(idx);
    size_t below = hl_pool_blocks_before_header(idx, colour);
    if (i < below)
        return i * size;
    return hl_pool_header_offset(colour) + HL_POOL_HEADER_SIZE + (i - below) * size;
}

/* Blocks one pool of class idx and colour `colour` holds: those in the gap
 * before its header and those between its header and its end.  That is
 * (16384 - 48) / size, or one fewer when the two remainders together
 * would have held one more block. */
static inline size_t hl_pool_class_capacity(unsigned idx, unsigned colour)
{
    return hl_pool_blocks_before_header(idx, colour) +
           (HL_POOL_SIZE - hl_pool_header_offset(colour) - HL_POOL_HEADER_SIZE) / hl_pool_class_size(idx);
}

/* ------------------------------------------------------- introspection -- */

/* A picture of one instance, computed by walking it (cost: O(arenas x
 * pools per arena)); nothing here is kept up to date on the fast path. */
typedef struct hl_pool_snapshot {
    size_t arenas_mapped;          /* arenas mapped now */
    size_t arenas_peak;            /* the most arenas ever mapped at once */
    uint64_t arenas_unmapped_total; /* arenas returned with munmap so far */
    size_t mapped_bytes;           /* arenas_mapped * HL_POOL_ARENA_SIZE */
    size_t meta_bytes;             /* context and arena descriptor tables (mmap) */
    long long resident_bytes;      /* of the arenas and that metadata, the bytes the
                                      kernel holds resident now (mincore): what the
                                      pool costs in RSS; -1 when unknown */
    size_t pools_used;             /* pools serving a class: partly used or full */
    size_t pools_full;             /* of which every block is in use */
    size_t pools_empty_in_arenas;  /* pools of mapped arenas serving no class,
                                      never-used ones included */
    size_t used_blocks[HL_POOL_NCLASSES];   /* blocks handed out and not freed */
    size_t carved_blocks[HL_POOL_NCLASSES]; /* blocks ever carved in the pools
                                               now serving this class */
    size_t bytes_in_used_blocks;   /* sum of class size x used blocks */
    size_t fallback_live_blocks;   /* blocks now held from malloc (size 0 or > max) */
    size_t fallback_live_bytes;    /* the sizes asked for those blocks */
} hl_pool_snapshot;

/* Fill *out with a snapshot of `ctx`, a context made by the init of
 * hl_pool_allocator().  Returns 0, or -EINVAL when ctx or out is NULL.
 * Reads only; the instance is unchanged. */
int hl_pool_inspect(void *ctx, hl_pool_snapshot *out);

/* Find the arena of `p`.  When p lies in an arena of `ctx`, stores that
 * arena's index (stable while it stays mapped; a later arena may reuse it)
 * and its number of free pools, and returns 0; otherwise returns -1 and
 * stores nothing.  p is compared, never dereferenced.  Cost: O(arenas).
 * The pool of a pool block always starts at (uintptr_t)p & ~(HL_POOL_SIZE - 1),
 * its header hl_pool_header_offset(hl_pool_colour_of(that start)) later. */
int hl_pool_arena_of(void *ctx, const void *p, size_t *arena_index_out, unsigned *nfreepools_out);

#endif /* HEAPLAB_POOL_H */
