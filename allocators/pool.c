/*
 * pool.c - a size-class pool allocator after CPython's pymalloc:
 * `--allocator=pool`.
 *
 * What it models: the small-object allocator that serves almost every object
 * a CPython process creates (Objects/obmalloc.c, 3.10-3.12, 64-bit figures).
 * The design below is re-derived from the published facts
 * (docs: shared/reference/cpython-memory.md); no code is taken from CPython.
 * Three differences.  heaplab's free is sized, so the size passed back tells
 * whether a block came from a pool, and neither a radix tree over arena
 * addresses nor a per-block header is needed.  A pool's header is not at
 * the pool's start but at a cache colour offset, and the bytes before it
 * hold blocks too (below).  And a freed block that would be its pool's
 * first free one is held for the next allocation of its class instead of
 * relinking its pool (below).  The last two are deliberate departures from
 * pymalloc, for speed.
 *
 * Memory layers
 * -------------
 *
 *   kernel --mmap 1 MiB--> arena (not 1 MiB-aligned; descriptor kept apart)
 *   +------+--------+--------+--------+-- ... --+--------+------+
 *   | slack| pool 0 | pool 1 | pool 2 |         | pool 62| slack|   63 pools, or 64
 *   +------+--------+--------+--------+-- ... --+--------+------+   when pool-aligned
 *          ^ 16 KiB-aligned
 *
 *   pool (16 KiB, one size class at a time), colour k = (address >> 14) & 7
 *   +-------+-- .. --+-------+----+--------+---------+-- .. --+---------+------+
 *   | blk 0 |        | blk j |rest| header | blk j+1 |        | blk n   | tail |
 *   +-------+-- .. --+-------+----+--------+---------+-- .. --+---------+------+
 *   ^ 16 KiB-aligned              ^ k x 64   48 B
 *   |<-- the colour gap: k x 64 B -->|(0..448 B)
 *   header: free list head (LIFO, threaded through freed blocks), links in
 *   usedpools[class], owning arena, used count, class, carve offsets
 *   (signed, relative to the header).  It fills part of one cache line.
 *
 *   block: class size bytes; a free block's first word links the free list.
 *   Blocks are carved in address order: first the whole blocks that fit in
 *   the colour gap before the header (j + 1 = k x 64 / size of them, none
 *   when a block is larger than the gap), then from right after the header
 *   to the pool's end.  The gap, the header and the class sizes are
 *   multiples of 16 bytes, so every block is 16-byte aligned, and none
 *   overlaps the header or crosses the pool's end.  Only the gap's rest
 *   (k x 64 mod size) and the tail are left over from the class size; a
 *   pool holds (16384 - 48) / size blocks whatever its colour, or one
 *   fewer when the two leftovers together would have held one more.  The
 *   layout is pool.h's hl_pool_block_offset.
 *
 * A block finds its pool by masking its address with ~(pool size - 1) and
 * adding the colour offset, which depends on that masked address alone; its
 * pool names its arena; the sized free tells a pool block (size 1..512) from
 * a fallback one (size 0 or > 512).
 *
 * Cache colouring
 * ---------------
 *
 * pymalloc puts every header at its pool's 16 KiB boundary.  A 32 KiB 8-way
 * L1 data cache has 64 sets of 64 B, so its set index is address bits 6..11
 * and addresses 4 KiB apart - a fortiori 16 KiB apart - land in the same
 * set: every pool header competes for the same 8 ways, and with more than 8
 * pools in play (a Python-like size mix touches dozens) the headers that
 * every alloc and free read evict one another.  Their addresses are also
 * equal modulo 4 KiB, so a load from one header can be falsely held up
 * behind a store to another (4K aliasing).  Shifting pool i's header by
 * (i mod 8) cache lines spreads the headers of eight consecutive pools over
 * eight sets.  On an AMD EPYC (32 KiB 8-way L1d) alloc/free pairs cycling
 * over all 32 classes went from ~6.4 to ~5.1 ns per pair, and churn's mixed
 * variant from ~11 to ~10 ns/op.  The cost, on free, is a shift, a mask and
 * an or; in memory, at most one block per pool (the gap's rest).
 *
 * The colour gap
 * --------------
 *
 * The k x 64 bytes before a header were left unused at first: 224 B a pool
 * on average, 1.4% of every pool.  fragadv (whose survivors pin pools)
 * measured it: 28673 survivor pages and a peak RSS of 151.09 MB against
 * mimalloc's 28308 and 149.95 MB.  Carving the gap as well changed only the
 * carve path: offsets count from the header and are negative in the gap,
 * and carving runs through two regions (the gap, then past the header),
 * each with its own limit in maxnextoffset, so a carve still adds and
 * compares once and moves to the second region only when it passes the
 * first's limit.  A new pool's start (block 0, the next carve place, its
 * region's limit) comes from a colour x class table, pool_starts.  A first
 * version that tested for the header on every carve cost 12 instructions
 * more per carve and 9 more per new pool, and moved the quick gate's pool
 * cells by up to +5.8%; this one moves them by -0.71% .. +0.28%.
 *
 * The fast paths' code did not change; docs/design-notes.md ("The pool
 * carves blocks in the colour gap") has the before-and-after figures.
 *
 * Allocation strategy
 * -------------------
 *
 * alloc(n), 1 <= n <= 512: class = (n - 1) >> 4.  usedpools[class] lists the
 * pools of that class that have a block to give (partly used pools).  The
 * head pool pops its free list or, when that is empty, carves the block at
 * nextoffset (lazy carving: a new pool hands out block 0 and no memory is
 * touched before it is needed).  A pool that becomes full leaves the list;
 * with no pool in the list, a pool is taken from the arena that has the
 * fewest free pools, and a new arena is mapped only when no arena has one.
 *
 * free(p, n): push p on its pool's free list.  A full pool that gets a block
 * back returns to the front of usedpools[class]; a pool whose last block is
 * freed leaves the list, loses its class and joins its arena's free-pool
 * list.
 *
 * The held block
 * --------------
 *
 * A steady churn of one size keeps its pools full: each free gives a full
 * pool its one free block, pymalloc links the pool back at the front of
 * usedpools, and the allocation that follows takes that block and unlinks
 * the pool again.  On churn's fixed64 variant three operations in four did
 * that.  So a free whose block would be the first on its pool's free list
 * does not push it: the block is held in the context (held, held_idx), the
 * pool untouched.  What comes next decides where it goes:
 *
 *   alloc of the held block's class   takes it: two loads, a compare, a store
 *   alloc of another class            leaves it held (it could not use it)
 *   free into a pool with free blocks leaves it held
 *   free into a pool with none        first puts it on its pool's list, which
 *                                       relinks a full pool (pymalloc's path),
 *                                       then may hold its own block
 *
 * So at most one block is held.  While it is, its pool's free list stays
 * empty (nothing is pushed there without releasing it first), so every
 * free into that pool releases it: only a free lowers a pool's count, and
 * the count never comes down to the held block alone.  With a block that
 * is its pool's last one in use (ref == 1) never held, a pool empties and
 * goes back to its arena the moment its last block is freed, as in
 * pymalloc.  A pool's count includes the held block; the statistics
 * subtract it.  A block shrunk in place is freed with a size of a smaller
 * class than its pool's and is not held (an allocation of that class would
 * get a block filed under another).  The fast paths of a mix of sizes,
 * where pools have free blocks, lose nothing to it: a free reads the same
 * header word first, an allocation compares one more word.  Under
 * Callgrind an alloc/free pair of churn's fixed64 variant went from 60 to
 * 35 instructions, of its mixed variant from 41 to 38.

 * Arenas with a free pool form a doubly linked list sorted by ascending
 * number of free pools, so pools come from the fullest arena and the
 * emptiest ones drain.  last_with_nfree[k] points at the last arena of the
 * list with k free pools; since a free pool count changes by one at a time,
 * an arena moves only across the boundary of its group, and the index finds
 * that boundary in O(1).  An arena whose pools are all free is unmapped,
 * except that one such arena is kept so that a program oscillating around an
 * arena boundary does not map and unmap on every swing.
 *
 * realloc stays in place when the new size fits the block's class and would
 * not save at least 25% of it; otherwise it allocates, copies and frees,
 * moving between pools and the fallback as the sizes require.
 *
 * Size classes (blocks per pool = 64 x colour / size in the gap
 * ------------  + (16384 - 64 x colour - 48) / size past the header)
 *
 *                           blocks/pool                          blocks/pool
 *   class  request  block  c. 0  fewest    class  request  block  c. 0  fewest
 *      0      1..16    16  1021   1021        16  257..272   272    60     59
 *      1     17..32    32   510    510        17  273..288   288    56     55
 *      2     33..48    48   340    339        18  289..304   304    53     52
 *      3     49..64    64   255    255        19  305..320   320    51     50
 *      4     65..80    80   204    203        20  321..336   336    48     47
 *      5     81..96    96   170    169        21  337..352   352    46     45
 *      6    97..112   112   145    145        22  353..368   368    44     43
 *      7   113..128   128   127    127        23  369..384   384    42     41
 *      8   129..144   144   113    112        24  385..400   400    40     39
 *      9   145..160   160   102    101        25  401..416   416    39     38
 *     10   161..176   176    92     92        26  417..432   432    37     36
 *     11   177..192   192    85     84        27  433..448   448    36     35
 *     12   193..208   208    78     77        28  449..464   464    35     34
 *     13   209..224   224    72     72        29  465..480   480    34     33
 *     14   225..240   240    68     67        30  481..496   496    32     32
 *     15   241..256   256    63     63        31  497..512   512    31     31
 *
 *   c. 0: colour 0, no gap: (16384 - 48) / size, the most any colour holds;
 *   fewest: the least over the eight colours, one fewer at most.
 *
 * Tunables (pool.h, with their invariants there)
 * --------
 *
 *   HL_POOL_CLASS_STEP    16 B    a power of two >= HL_ALIGNMENT
 *   HL_POOL_SMALL_MAX     512 B   a multiple of the step
 *   HL_POOL_NCLASSES      32      = SMALL_MAX / CLASS_STEP
 *   HL_POOL_SIZE          16 KiB  a power of two, page multiple (address mask)
 *   HL_POOL_HEADER_SIZE   48 B    a multiple of the step (blocks stay
 *                                 aligned), at most one cache line
 *   HL_POOL_COLOUR_STRIDE 64 B    a cache line, a multiple of the step
 *   HL_POOL_COLOURS       8       a power of two; COLOURS x STRIDE <= 4 KiB
 *                                 (one L1 way: distinct sets, no 4K alias)
 *   HL_POOL_ARENA_SIZE    1 MiB   a multiple of the pool size
 *   wholly free arenas kept mapped: exactly one at most (kept_free_arena)
 *   POOL_DESC_CHUNK_BYTES 64 KiB  descriptors per chunk >= 1 (below)
 *
 * Metadata: the context and the arena descriptors come from mmap, not from
 * the C library's malloc, so that the fallback path is the only malloc
 * traffic this allocator causes and a benchmark of malloc's footprint is not
 * disturbed by ours.  Descriptors live in chunks of POOL_DESC_CHUNK_BYTES
 * that are mapped as needed and never move (pools point at them), reached
 * through a fixed directory in the context.  Nothing is touched before it
 * is needed: a descriptor is filled when its arena is mapped, a pool's
 * header when the pool is first used, a block when it is carved, so the
 * first small allocation costs three pages of RSS (context, descriptor,
 * the pool's first page), not a pool or an arena.
 *
 * Statistics report resident bytes (mincore over the arenas and the
 * metadata), what the pool costs in RSS, beside the mapped address space;
 * the external waste is counted from the resident bytes.
 *
 * Cost: alloc and free are O(1); their fast paths are about a dozen
 * instructions each and touch only the context's usedpools and held block,
 * one pool header (one cache line) and the block, never an arena
 * descriptor; taking the held block touches no pool at all.  A pool leaving
 * its class list as it fills is a few stores kept inline.  The rare steps
 * (carving, taking a pool from an arena or giving it back, relinking a full
 * pool, the fallback) and the release of a held block by a call of another
 * kind are out of line and reached by tail calls, so the fast paths need no
 * stack frame.
 *
 * Threads: not thread-safe.  Every list is plain memory with no lock; one
 * instance must be used by one thread at a time (flags has no
 * HL_ALLOC_THREAD_SAFE).  Two instances share nothing and may coexist.
 *
 * Debug builds (no NDEBUG) check the pool, arena-list and held-block
 * invariants at every slow-path step and poison freed blocks (checked again
 * when reused, held ones included); release builds carry none of it.
 */
#include "allocators/allocator.h"
#include "allocators/pool.h"

#include <assert.h>
#include <errno.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define POOL_LIKELY(x) __builtin_expect(!!(x), 1)
#define POOL_UNLIKELY(x) __builtin_expect(!!(x), 0)
/* Slow paths stay out of line, so the fast paths need no stack frame. */
#define POOL_SLOW __attribute__((noinline, cold))
/* Paths some workloads take often, kept out of line for the same reason:
 * reached by tail calls, they leave the fast paths without a frame. */
#define POOL_NOINLINE __attribute__((noinline))

/* Bytes per chunk of arena descriptors, and the most chunks one instance may
 * map: 64 KiB x 256 holds ~290k descriptors, i.e. ~290 GiB of arenas. */
#define POOL_DESC_CHUNK_BYTES ((size_t)64 << 10)
#define POOL_DESC_CHUNKS_MAX 256

/* The class of a pool on its arena's free-pool list. */
#define POOL_NO_CLASS UINT32_MAX

/* held_idx when no block is held: no allocation's class equals it. */
#define POOL_NONE_HELD SIZE_MAX

#ifndef NDEBUG
#define POOL_POISON_FREED 0xDB
#endif

/* glibc's malloc (and any C11 malloc) aligns to max_align_t, which must be
 * enough for the fallback blocks to meet HL_ALIGNMENT. */
_Static_assert(alignof(max_align_t) >= HL_ALIGNMENT, "malloc would not meet HL_ALIGNMENT");

/* -------------------------------------------------------------- types -- */

typedef struct pool_block {
    struct pool_block *next; /* next free block of the same pool, or NULL */
} pool_block;

typedef struct arena_desc arena_desc;

/* The header of every pool, at pool_header_of(its start): the colour
 * offset in, so it lies in one cache line that no other header of eight
 * consecutive pools maps to.  Offsets are counted from the header and are
 * signed: the blocks of the colour gap lie below it, at -gap, -gap + size,
 * ...  Carving goes through two regions, each with its own limit, so that
 * a carve compares once, as pymalloc's does:
 *   the gap:   -gap <= nextoffset, maxnextoffset == -size (a block carved
 *              there ends by the header);
 *   the rest:  HL_POOL_HEADER_SIZE <= nextoffset, maxnextoffset + size ==
 *              the bytes from the header to the pool's end (no block
 *              crosses it).
 * Invariants while the pool serves a class (ref > 0):
 *   nextoffset is where hl_pool_block_offset puts the next block or, once
 *   every block is carved, above maxnextoffset in the second region
 *   (nextoffset never rests past the gap's limit: the carve that gets there
 *   moves on to the second region at once, so nextoffset > maxnextoffset
 *   means full, whatever the region); maxnextoffset < 0 exactly while
 *   carving in the gap; the blocks below nextoffset are either used (ref of
 *   them) or on the freeblock list;
 *   full (freeblock == NULL and nextoffset > maxnextoffset) <=> not linked in
 *   usedpools[szidx].
 * On its arena's free-pool list: ref == 0, szidx == POOL_NO_CLASS, and
 * nextpool links that list. */
typedef struct pool_header {
    pool_block *freeblock;         /* LIFO free list; NULL when empty */
    struct pool_header *nextpool;  /* usedpools[szidx] or arena free list */
    struct pool_header *prevpool;  /* usedpools[szidx] only; NULL at head */
    arena_desc *arena;             /* owning arena */
    uint32_t ref;                  /* blocks in use */
    uint32_t szidx;                /* class, or POOL_NO_CLASS */
    int32_t nextoffset;            /* offset of the next block to carve */
    int32_t maxnextoffset;         /* the last offset a block of the current
                                      region may be carved at */
} pool_header;

_Static_assert(sizeof(pool_header) <= HL_POOL_HEADER_SIZE, "pool header outgrew its room");

/* One arena.  address == 0 means the descriptor is unused and linked
 * through nextarena on the unused list.  A mapped arena is on the usable
 * list (nextarena/prevarena) exactly when nfreepools > 0. */
struct arena_desc {
    uintptr_t address;          /* start of the mapping, or 0 */
    char *pool_address;         /* next never-used pool (bump pointer) */
    pool_header *freepools;     /* pools used before and now empty */
    arena_desc *nextarena;
    arena_desc *prevarena;
    uint32_t nfreepools;        /* on freepools + never used */
    uint32_t ntotalpools;       /* 63 or 64 */
    size_t index;               /* position in the descriptor table */
};

/* One instance.  The hot fields (the held block, usedpools) come first. */
typedef struct pool_ctx {
    pool_header *usedpools[HL_POOL_NCLASSES];
    pool_block *held;           /* the block freed last, held for the next
                                   allocation while held_idx names a class */
    size_t held_idx;            /* its class, or POOL_NONE_HELD (word-sized:
                                   compared with no widening) */
    arena_desc *usable_arenas;  /* head: fewest free pools */
    arena_desc *last_with_nfree[HL_POOL_MAX_POOLS_PER_ARENA + 1];
    arena_desc *unused_descs;   /* descriptors with no mapping */
    arena_desc *kept_free_arena; /* the one wholly free arena kept mapped */
    size_t ndescs;              /* descriptors handed out of the chunks so far
                                   (in use or recycled on unused_descs) */
    size_t arenas_mapped;
    size_t arenas_peak;
    uint64_t arenas_unmapped;
    size_t fallback_live_blocks;
    size_t fallback_live_bytes;
    arena_desc *desc_chunks[POOL_DESC_CHUNKS_MAX];
} pool_ctx;

#define POOL_DESCS_PER_CHUNK (POOL_DESC_CHUNK_BYTES / sizeof(arena_desc))
_Static_assert(POOL_DESC_CHUNK_BYTES / sizeof(arena_desc) >= 1, "descriptor chunk too small");

/* ------------------------------------------------------------ helpers -- */

/* The header of the pool that starts at `base` (a multiple of HL_POOL_SIZE):
 * base + hl_pool_header_offset(hl_pool_colour_of(base)), folded into one
 * shift and one mask since base's low bits are zero. */
static inline pool_header *pool_header_of(uintptr_t base)
{
    uintptr_t colour_offset = (base >> (HL_POOL_SHIFT - HL_POOL_COLOUR_SHIFT)) &
                              ((uintptr_t)(HL_POOL_COLOURS - 1) << HL_POOL_COLOUR_SHIFT);
    return (pool_header *)(base + colour_offset);
}

/* The start of the pool that holds p (a block or a header). */
static inline uintptr_t pool_base_of(const void *p)
{
    return (uintptr_t)p & ~(uintptr_t)(HL_POOL_SIZE - 1);
}

/* The header of the pool that holds p. */
static inline pool_header *pool_of(const void *p)
{
    return pool_header_of(pool_base_of(p));
}

/* Bytes from a pool's start to its header: its colour gap. */
static inline uint32_t pool_gap_of(const pool_header *pool)
{
    return (uint32_t)((uintptr_t)pool & (HL_POOL_SIZE - 1));
}

/* Bytes from a pool's header to its end. */
static inline int32_t pool_span_after_header(const pool_header *pool)
{
    return (int32_t)(HL_POOL_SIZE - pool_gap_of(pool));
}

/* Blocks carved so far in `pool` (of class size `size`): those that start
 * below nextoffset, in the gap and past the header.  Cost: O(1). */
static size_t pool_carved_blocks(const pool_header *pool, size_t size)
{
    int64_t gap = pool_gap_of(pool);
    int64_t next = pool->nextoffset;
    if (next < 0) /* still in the gap */
        return (size_t)(next + gap) / size;
    return (size_t)gap / size + (size_t)(next - (int64_t)HL_POOL_HEADER_SIZE) / size;
}

static inline int pool_is_small(size_t n)
{
    return n - 1 < HL_POOL_SMALL_MAX; /* n == 0 wraps around */
}

static inline int pool_is_full(const pool_header *pool)
{
    return pool->freeblock == NULL && pool->nextoffset > pool->maxnextoffset;
}

static inline uintptr_t arena_first_pool(const arena_desc *ao)
{
    return (ao->address + HL_POOL_SIZE - 1) & ~(uintptr_t)(HL_POOL_SIZE - 1);
}

static size_t page_round(size_t n)
{
    return (n + 4095) & ~(size_t)4095;
}

/* ----------------------------------------------------- debug checkers -- */

#ifndef NDEBUG
/* Whether p is a block `pool` (of class size `size`) has carved: it starts
 * on a block boundary of the gap before the header and ends by it, or on
 * one past the header, below nextoffset (from the pool's start, as in
 * hl_pool_block_offset).  Cost: O(1). */
static int pool_is_carved_block(const pool_header *pool, const void *p, size_t size)
{
    if (pool_of(p) != pool)
        return 0;
    uintptr_t off = (uintptr_t)p - pool_base_of(pool);
    uintptr_t gap = pool_gap_of(pool);
    if ((intptr_t)off - (intptr_t)gap >= pool->nextoffset)
        return 0;
    if (off < gap)
        return off % size == 0 && off + size <= gap;
    return off >= gap + HL_POOL_HEADER_SIZE && (off - gap - HL_POOL_HEADER_SIZE) % size == 0;
}

/* Assert the invariants of a pool serving a class.  Cost: O(free blocks). */
static void pool_check(const pool_ctx *c, const pool_header *pool)
{
    (void)c;
    /* The header is where its colour puts it. */
    uintptr_t base = pool_base_of(pool);
    unsigned colour = hl_pool_colour_of(base);
    assert(pool == pool_header_of(base));
    assert(pool_gap_of(pool) == hl_pool_header_offset(colour));
    assert(pool->szidx < HL_POOL_NCLASSES);
    size_t size = hl_pool_class_size(pool->szidx);
    assert(pool->ref > 0);
    /* Carving stops where the next block would reach into the header (in
     * the gap) or cross the pool's end (past it), and never rests past
     * the gap's limit. */
    int32_t gap = (int32_t)pool_gap_of(pool);
    if (pool->maxnextoffset < 0) {
        assert(pool->maxnextoffset == -(int32_t)size);
        assert(pool->nextoffset >= -gap && pool->nextoffset <= pool->maxnextoffset);
        assert((pool->nextoffset + gap) % (int32_t)size == 0);
    } else {
        assert(pool->maxnextoffset + (int32_t)size == pool_span_after_header(pool));
        assert(pool->nextoffset >= (int32_t)HL_POOL_HEADER_SIZE);
        assert((pool->nextoffset - (int32_t)HL_POOL_HEADER_SIZE) % (int32_t)size == 0);
    }
    /* The blocks carved are the layout's (pool.h), in its order. */
    size_t carved = pool_carved_blocks(pool, size);
    size_t capacity = hl_pool_class_capacity(pool->szidx, colour);
    assert(carved >= 1 && carved <= capacity);
    assert(carved == capacity ||
           pool->nextoffset + gap == (int32_t)hl_pool_block_offset(pool->szidx, colour, carved));
    assert((pool->nextoffset > pool->maxnextoffset) == (carved == capacity));
    size_t nfree = 0;
    for (const pool_block *b = pool->freeblock; b != NULL; b = b->next) {
        assert(pool_is_carved_block(pool, b, size));
        assert(((uintptr_t)b & (HL_ALIGNMENT - 1)) == 0);
        nfree++;
        assert(nfree <= carved);
    }
    assert(nfree + pool->ref == carved);
    const arena_desc *ao = pool->arena;
    assert((uintptr_t)pool >= arena_first_pool(ao));
    assert((char *)pool < ao->pool_address);
    /* Listed in usedpools exactly when not full. */
    int listed = 0;
    for (const pool_header *q = c->usedpools[pool->szidx]; q != NULL; q = q->nextpool)
        if (q == pool) {
            listed = 1;
            break;
        }
    assert(listed == !pool_is_full(pool));
}

/* Assert the usable-arena list is sorted, doubly linked, holds every mapped
 * arena with a free pool, and that last_with_nfree indexes it.
 * Cost: O(arenas + pools per arena). */
static void arena_list_check(const pool_ctx *c)
{
    const arena_desc *prev = NULL;
    size_t listed = 0;
    for (const arena_desc *ao = c->usable_arenas; ao != NULL; ao = ao->nextarena) {
        assert(ao->address != 0);
        assert(ao->prevarena == prev);
        assert(ao->nfreepools > 0 && ao->nfreepools <= ao->ntotalpools);
        if (prev != NULL)
            assert(prev->nfreepools <= ao->nfreepools);
        int last_of_group = ao->nextarena == NULL || ao->nextarena->nfreepools != ao->nfreepools;
        assert((c->last_with_nfree[ao->nfreepools] == ao) == last_of_group);
        /* Its free pools: coloured headers inside it, classless, and with
         * the never-used ones they make up nfreepools. */
        size_t nfree = (ao->address + HL_POOL_ARENA_SIZE - (uintptr_t)ao->pool_address) / HL_POOL_SIZE;
        for (const pool_header *q = ao->freepools; q != NULL; q = q->nextpool) {
            assert(q == pool_of(q) && q->arena == ao);
            assert((uintptr_t)q >= arena_first_pool(ao) && (char *)q < ao->pool_address);
            assert(q->ref == 0 && q->szidx == POOL_NO_CLASS);
            nfree++;
            assert(nfree <= ao->nfreepools);
        }
        assert(nfree == ao->nfreepools);
        prev = ao;
        listed++;
    }
    for (unsigned k = 1; k <= HL_POOL_MAX_POOLS_PER_ARENA; k++) {
        const arena_desc *last = c->last_with_nfree[k];
        assert(last == NULL || (last->address != 0 && last->nfreepools == k));
    }
    size_t with_free = 0;
    for (size_t i = 0; i < c->ndescs; i++) {
        const arena_desc *ao = &c->desc_chunks[i / POOL_DESCS_PER_CHUNK][i % POOL_DESCS_PER_CHUNK];
        if (ao->address != 0 && ao->nfreepools > 0)
            with_free++;
    }
    assert(with_free == listed);
    const arena_desc *kept = c->kept_free_arena;
    assert(kept == NULL || (kept->address != 0 && kept->nfreepools == kept->ntotalpools));
}

/* Fill a freed block (past its link word) with the poison byte. */
static void block_poison(pool_block *b, size_t size)
{
    memset((char *)b + sizeof(pool_block), POOL_POISON_FREED, size - sizeof(pool_block));
}

/* Assert a block about to be reused still holds its poison: a write after
 * free would have changed it. */
static void block_check_poison(const pool_block *b, size_t size)
{
    const unsigned char *q = (const unsigned char *)b;
    for (size_t i = sizeof(pool_block); i < size; i++)
        assert(q[i] == POOL_POISON_FREED);
}

/* Assert the invariants of the held block, if any: it lies on a block
 * boundary of a pool of its recorded class and was carved; that pool's
 * free list is empty (so the block is not on it, and every free into the
 * pool releases it first) and the pool keeps another block in use, so
 * holding it never keeps a pool from its arena.  Cost: O(1). */
static void held_check(const pool_ctx *c)
{
    if (c->held_idx == POOL_NONE_HELD)
        return;
    const pool_block *b = c->held;
    const pool_header *pool = pool_of(b);
    assert(pool->szidx == c->held_idx && pool->ref >= 2);
    assert(pool->freeblock == NULL); /* what pool_free's fast path relies on */
    assert(pool_is_carved_block(pool, b, hl_pool_class_size(pool->szidx)));
}
#define POOL_CHECK(c, pool) pool_check((c), (pool))
#define ARENA_LIST_CHECK(c) arena_list_check(c)
#define HELD_CHECK(c) held_check(c)
#else
#define POOL_CHECK(c, pool) ((void)0)
#define ARENA_LIST_CHECK(c) ((void)0)
#define HELD_CHECK(c) ((void)0)
#endif

/* ------------------------------------------------------ arena descriptors -- */

/* The descriptor with table index i.  Needs i < c->ndescs. */
static arena_desc *desc_at(const pool_ctx *c, size_t i)
{
    return &c->desc_chunks[i / POOL_DESCS_PER_CHUNK][i % POOL_DESCS_PER_CHUNK];
}

/* An unused descriptor: a recycled one, or else the next never-used one,
 * mapping a new chunk of them when the last chunk is used up.  New chunks
 * are demand-zero and nothing walks them, so a chunk costs resident memory
 * only for the descriptors handed out (one page per ~73 of them), not its
 * whole 64 KiB.  Returns NULL when the directory is full or the kernel
 * refuses.  Cost: O(1), plus one mmap per POOL_DESCS_PER_CHUNK arenas. */
static arena_desc *desc_get(pool_ctx *c)
{
    arena_desc *ao = c->unused_descs;
    if (ao != NULL) {
        c->unused_descs = ao->nextarena;
        ao->nextarena = NULL;
        return ao;
    }
    size_t chunk = c->ndescs / POOL_DESCS_PER_CHUNK;
    if (chunk >= POOL_DESC_CHUNKS_MAX)
        return NULL;
    if (c->desc_chunks[chunk] == NULL) {
        void *m = mmap(NULL, POOL_DESC_CHUNK_BYTES, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
            return NULL;
        c->desc_chunks[chunk] = m;
    }
    ao = &c->desc_chunks[chunk][c->ndescs % POOL_DESCS_PER_CHUNK];
    ao->index = c->ndescs++;
    return ao;
}

/* Chunks of descriptors mapped so far. */
static size_t desc_chunks_mapped(const pool_ctx *c)
{
    return (c->ndescs + POOL_DESCS_PER_CHUNK - 1) / POOL_DESCS_PER_CHUNK;
}

/* ----------------------------------------------------- arena list order -- */

/* Remove `ao`, which has nfree free pools, from the usable list, keeping
 * last_with_nfree exact.  Cost: O(1). */
static void arena_unlink(pool_ctx *c, arena_desc *ao, unsigned nfree)
{
    arena_desc *prev = ao->prevarena;
    if (c->last_with_nfree[nfree] == ao)
        c->last_with_nfree[nfree] = (prev != NULL && prev->nfreepools == nfree) ? prev : NULL;
    if (prev != NULL)
        prev->nextarena = ao->nextarena;
    else
        c->usable_arenas = ao->nextarena;
    if (ao->nextarena != NULL)
        ao->nextarena->prevarena = prev;
    ao->nextarena = ao->prevarena = NULL;
}

/* Insert `ao` right after `after` (NULL: at the head). */
static void arena_insert_after(pool_ctx *c, arena_desc *ao, arena_desc *after)
{
    ao->prevarena = after;
    ao->nextarena = after != NULL ? after->nextarena : c->usable_arenas;
    if (ao->nextarena != NULL)
        ao->nextarena->prevarena = ao;
    if (after != NULL)
        after->nextarena = ao;
    else
        c->usable_arenas = ao;
}

/* The head arena gave a pool away (its count went from nf to nf - 1).  The
 * head has the fewest free pools, so it stays first: only the index changes,
 * and an arena with no free pool leaves the list.  Cost: O(1). */
static void arena_reorder_after_take(pool_ctx *c, arena_desc *ao)
{
    unsigned nf = ao->nfreepools + 1;
    assert(ao == c->usable_arenas);
    if (c->last_with_nfree[nf] == ao)
        c->last_with_nfree[nf] = NULL;
    if (ao->nfreepools == 0) {
        c->usable_arenas = ao->nextarena;
        if (ao->nextarena != NULL)
            ao->nextarena->prevarena = NULL;
        ao->nextarena = NULL;
    } else {
        assert(c->last_with_nfree[ao->nfreepools] == NULL);
        c->last_with_nfree[ao->nfreepools] = ao;
    }
}

/* `ao` got a pool back (its count went from nf to nf + 1).  It moves from
 * the group of arenas with nf free pools to the front of the group with
 * nf + 1, which starts right after the last arena with nf.  Cost: O(1). */
static void arena_reorder_after_return(pool_ctx *c, arena_desc *ao)
{
    unsigned nf = ao->nfreepools - 1;
    if (nf == 0) {
        /* Not listed yet, and nobody has fewer than one free pool. */
        arena_insert_after(c, ao, NULL);
        if (c->last_with_nfree[1] == NULL)
            c->last_with_nfree[1] = ao;
        return;
    }
    arena_desc *lastnf = c->last_with_nfree[nf];
    if (lastnf == ao) {
        arena_desc *prev = ao->prevarena;
        c->last_with_nfree[nf] = (prev != NULL && prev->nfreepools == nf) ? prev : NULL;
    } else {
        arena_desc *prev = ao->prevarena;
        if (prev != NULL)
            prev->nextarena = ao->nextarena;
        else
            c->usable_arenas = ao->nextarena;
        ao->nextarena->prevarena = prev; /* lastnf follows ao */
        arena_insert_after(c, ao, lastnf);
    }
    if (c->last_with_nfree[nf + 1] == NULL)
        c->last_with_nfree[nf + 1] = ao;
}

/* ------------------------------------------------------ arena lifetime -- */

/* Map a new arena and put it on the usable list (which must be empty).
 * Returns it, or NULL when the kernel refuses. */
static arena_desc *new_arena(pool_ctx *c)
{
    assert(c->usable_arenas == NULL);
    arena_desc *ao = desc_get(c);
    if (ao == NULL)
        return NULL;
    void *m = mmap(NULL, HL_POOL_ARENA_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        ao->nextarena = c->unused_descs;
        c->unused_descs = ao;
        return NULL;
    }
    ao->address = (uintptr_t)m;
    uintptr_t first = arena_first_pool(ao);
    ao->pool_address = (char *)first;
    ao->ntotalpools = (uint32_t)((ao->address + HL_POOL_ARENA_SIZE - first) / HL_POOL_SIZE);
    ao->nfreepools = ao->ntotalpools;
    ao->freepools = NULL;
    ao->prevarena = ao->nextarena = NULL;
    c->usable_arenas = ao;
    c->last_with_nfree[ao->nfreepools] = ao;
    c->arenas_mapped++;
    if (c->arenas_mapped > c->arenas_peak)
        c->arenas_peak = c->arenas_mapped;
    ARENA_LIST_CHECK(c);
    return ao;
}

/* Unmap a wholly free arena that is off the usable list and recycle its
 * descriptor. */
static void arena_release(pool_ctx *c, arena_desc *ao)
{
    assert(ao->nfreepools == ao->ntotalpools);
    munmap((void *)ao->address, HL_POOL_ARENA_SIZE);
    ao->address = 0;
    ao->pool_address = NULL;
    ao->freepools = NULL;
    ao->nfreepools = ao->ntotalpools = 0;
    ao->prevarena = NULL;
    ao->nextarena = c->unused_descs;
    c->unused_descs = ao;
    c->arenas_mapped--;
    c->arenas_unmapped++;
}

/* ------------------------------------------------------ pool lifetime -- */

/* Put `pool` at the front of usedpools[idx].  Inline: besides starting a
 * pool, it runs whenever a full pool gets a block back, which a steady
 * churn of one size does on most frees. */
static inline void pool_link_used(pool_ctx *c, pool_header *pool, unsigned idx)
{
    pool_header *head = c->usedpools[idx];
    pool->prevpool = NULL;
    pool->nextpool = head;
    if (head != NULL)
        head->prevpool = pool;
    c->usedpools[idx] = pool;
}

/* Take `pool`, the head of usedpools[idx], out of it: the pool just became
 * full.  Inline for the same reason as pool_link_used. */
static inline void pool_unlink_head(pool_ctx *c, pool_header *pool, unsigned idx)
{
    pool_header *next = pool->nextpool;
    assert(c->usedpools[idx] == pool && pool->prevpool == NULL);
    c->usedpools[idx] = next;
    if (next != NULL)
        next->prevpool = NULL;
    pool->nextpool = NULL;
}

/* Take `pool`, anywhere in usedpools[idx], out of it. */
static void pool_unlink_used(pool_ctx *c, pool_header *pool, unsigned idx)
{
    if (pool->prevpool != NULL)
        pool->prevpool->nextpool = pool->nextpool;
    else
        c->usedpools[idx] = pool->nextpool;
    if (pool->nextpool != NULL)
        pool->nextpool->prevpool = pool->prevpool;
    pool->nextpool = pool->prevpool = NULL;
}

/* An empty pool from the fullest arena with one (mapping an arena if none
 * has), its arena's counts and list place updated.  NULL when out of memory. */
static pool_header *pool_take_from_arena(pool_ctx *c)
{
    arena_desc *ao = c->usable_arenas;
    if (ao == NULL) {
        ao = new_arena(c);
        if (ao == NULL)
            return NULL;
    }
    pool_header *pool;
    if (ao->freepools != NULL) {
        pool = ao->freepools;
        ao->freepools = pool->nextpool;
    } else {
        pool = pool_header_of((uintptr_t)ao->pool_address);
        ao->pool_address += HL_POOL_SIZE;
        pool->arena = ao;
    }
    assert(pool == pool_of(pool) && pool->arena == ao);
    ao->nfreepools--;
    if (c->kept_free_arena == ao)
        c->kept_free_arena = NULL;
    arena_reorder_after_take(c, ao);
    ARENA_LIST_CHECK(c);
    return pool;
}

/* Give an empty pool (already out of usedpools) back to its arena; unmap
 * the arena when it becomes wholly free and another wholly free arena is
 * already kept. */
static void pool_return_to_arena(pool_ctx *c, pool_header *pool)
{
    arena_desc *ao = pool->arena;
    pool->szidx = POOL_NO_CLASS;
    pool->freeblock = NULL;
    pool->nextpool = ao->freepools;
    ao->freepools = pool;
    ao->nfreepools++;
    if (ao->nfreepools == ao->ntotalpools) {
        if (c->kept_free_arena != NULL) {
            arena_unlink(c, ao, ao->nfreepools - 1);
            arena_release(c, ao);
            ARENA_LIST_CHECK(c);
            return;
        }
        c->kept_free_arena = ao;
    }
    arena_reorder_after_return(c, ao);
    ARENA_LIST_CHECK(c);
}

/* nextoffset just passed maxnextoffset.  When that ends the colour gap
 * (nextoffset is at most 0 there: the gap's last block ended by the
 * header), carving moves on past the header, which has room for more
 * blocks (pool.h asserts it), and the pool is not full: returns 0.
 * Otherwise the whole pool is carved: returns 1.  Once per pool each, so
 * out of the carve's common path; testing nextoffset, just computed,
 * rather than maxnextoffset spares that path a register. */
static inline int pool_carve_region_end(pool_header *pool)
{
    if (pool->nextoffset <= 0) {
        pool->nextoffset = (int32_t)HL_POOL_HEADER_SIZE;
        pool->maxnextoffset = pool_span_after_header(pool) - (int32_t)hl_pool_class_size(pool->szidx);
        return 0;
    }
    return 1;
}

/* How carving starts in a pool, by colour and class: block 0's offset
 * from the header, the carve place after it and the limit of that place's
 * region (the pool header's fields say what they mean).  Block 0 is at the
 * pool's start when a block fits in the colour gap, else right after the
 * header; when the gap holds one block only, carving goes on past the
 * header at once.  A table (3 KiB, read-only), since a program that
 * allocates one block of a class and frees it starts a new pool every
 * time (genlist's generator variant): two loads instead of computing the
 * three figures from the gap and the class size, which cost a new pool 9
 * instructions more (pool_init_for_class).  Computed from the same
 * constants as pool.h's layout, which stays the reference: the debug
 * checks hold every pool to it. */
typedef struct pool_start {
    int32_t first;
    int32_t nextoffset;
    int32_t maxnextoffset;
} pool_start;

#define POOL_START_GAP(k) ((int32_t)((k) * HL_POOL_COLOUR_STRIDE))
#define POOL_START_SIZE(i) ((int32_t)(((i) + 1) << HL_POOL_CLASS_SHIFT))
#define POOL_START_HDR ((int32_t)HL_POOL_HEADER_SIZE)
#define POOL_START_REST_MAX(k, i) ((int32_t)HL_POOL_SIZE - POOL_START_GAP(k) - POOL_START_SIZE(i))
#define POOL_START(k, i)                                                                   \
    {POOL_START_GAP(k) >= POOL_START_SIZE(i) ? -POOL_START_GAP(k) : POOL_START_HDR,       \
     POOL_START_GAP(k) >= 2 * POOL_START_SIZE(i) ? -POOL_START_GAP(k) + POOL_START_SIZE(i) \
     : POOL_START_GAP(k) >= POOL_START_SIZE(i)   ? POOL_START_HDR                          \
                                                 : POOL_START_HDR + POOL_START_SIZE(i),    \
     POOL_START_GAP(k) >= 2 * POOL_START_SIZE(i) ? -POOL_START_SIZE(i) : POOL_START_REST_MAX(k, i)}
#define POOL_START8(k, i)                                                                  \
    POOL_START(k, i), POOL_START(k, i + 1), POOL_START(k, i + 2), POOL_START(k, i + 3),    \
        POOL_START(k, i + 4), POOL_START(k, i + 5), POOL_START(k, i + 6), POOL_START(k, i + 7)
#define POOL_START_ROW(k) {POOL_START8(k, 0), POOL_START8(k, 8), POOL_START8(k, 16), POOL_START8(k, 24)}

_Static_assert(HL_POOL_COLOURS == 8 && HL_POOL_NCLASSES == 32, "pool_starts spells out 8 x 32 entries");

static const pool_start pool_starts[HL_POOL_COLOURS][HL_POOL_NCLASSES] = {
    POOL_START_ROW(0), POOL_START_ROW(1), POOL_START_ROW(2), POOL_START_ROW(3),
    POOL_START_ROW(4), POOL_START_ROW(5), POOL_START_ROW(6), POOL_START_ROW(7),
};

/* Start serving class idx from a new pool: hand out block 0 and carve no
 * further (pool_starts says where).  Needs usedpools[idx] empty.  NULL
 * when out of memory. */
POOL_SLOW static void *pool_init_for_class(pool_ctx *c, unsigned idx)
{
    pool_header *pool = pool_take_from_arena(c);
    if (pool == NULL)
        return NULL;
    pool_start start = pool_starts[pool_gap_of(pool) >> HL_POOL_COLOUR_SHIFT][idx];
    pool->szidx = idx;
    pool->ref = 1;
    pool->freeblock = NULL;
    pool->nextoffset = start.nextoffset;
    pool->maxnextoffset = start.maxnextoffset;
    pool_link_used(c, pool, idx);
    POOL_CHECK(c, pool);
    return (char *)pool + start.first;
}

/* The pool at the head of usedpools[idx] has an empty free list: carve its
 * next block, and unlink the pool when that was its last one.  Past the
 * current region's limit, carving moves from the gap to past the header
 * (pool_carve_region_end), so the common carve is pymalloc's: an add, a
 * compare. */
POOL_SLOW static void *pool_carve(pool_ctx *c, pool_header *pool, unsigned idx)
{
    assert(pool->freeblock == NULL && pool->nextoffset <= pool->maxnextoffset);
    int32_t off = pool->nextoffset;
    pool->nextoffset = off + (int32_t)hl_pool_class_size(idx);
    pool->ref++;
    if (pool->nextoffset > pool->maxnextoffset && pool_carve_region_end(pool))
        pool_unlink_head(c, pool, idx);
    POOL_CHECK(c, pool);
    return (char *)pool + off;
}

/* The last block of `pool` was just freed: it leaves its class list (it
 * was on it: every class fits more than one block, so it was not full) and
 * returns to its arena. */
POOL_SLOW static void pool_free_emptied(pool_ctx *c, pool_header *pool)
{
    assert(pool->ref == 0 && pool->freeblock != NULL);
    pool_unlink_used(c, pool, pool->szidx);
    pool_return_to_arena(c, pool);
}

/* -------------------------------------------------------- fallback -- */

/* size 0 or > HL_POOL_SMALL_MAX.  malloc(0) may return NULL, so size 0 asks
 * for one byte to get a unique block. */
POOL_SLOW static void *fallback_alloc(pool_ctx *c, size_t n)
{
    void *p = malloc(n != 0 ? n : 1);
    if (p != NULL) {
        c->fallback_live_blocks++;
        c->fallback_live_bytes += n;
    }
    return p;
}

POOL_SLOW static void fallback_free(pool_ctx *c, void *p, size_t n)
{
    assert(c->fallback_live_blocks > 0 && c->fallback_live_bytes >= n);
    c->fallback_live_blocks--;
    c->fallback_live_bytes -= n;
    free(p);
}

/* -------------------------------------------------------- method table -- */

/* A block was just pushed on the empty list of `pool`, which keeps blocks
 * in use.  When nothing was left to carve either, the pool was full and
 * off its class list: it rejoins it in front.  Cost: O(1). */
POOL_SLOW static void pool_free_relink(pool_ctx *c, pool_header *pool)
{
    if (pool->nextoffset > pool->maxnextoffset)
        pool_link_used(c, pool, pool->szidx);
    POOL_CHECK(c, pool);
}

/* Push b on the free list of its pool (pymalloc's free).  The common case,
 * a pool that keeps blocks in use and already had free ones, stays inline;
 * the rest is out of line. */
static inline void pool_free_to_pool(pool_ctx *c, pool_header *pool, pool_block *b)
{
    pool_block *last = pool->freeblock;
    b->next = last;
    pool->freeblock = b;
    uint32_t ref = --pool->ref;
    if (POOL_LIKELY((ref != 0) & (last != NULL)))
        return;
    if (ref == 0) {
        pool_free_emptied(c, pool);
        return;
    }
    pool_free_relink(c, pool);
}

/* Free b (of class idx, in `pool`; no block is held): hold it when it
 * would be its pool's first free block and may be held (pool_free_first
 * says when), else push it on its pool's list. */
static inline void pool_free_or_hold(pool_ctx *c, pool_header *pool, pool_block *b, size_t idx)
{
    if (pool->freeblock == NULL && pool->ref > 1 && pool->szidx == (uint32_t)idx) {
        c->held = b;
        c->held_idx = idx;
        return;
    }
    pool_free_to_pool(c, pool, b);
}

/* A free came before an allocation of the held block's class: the held
 * block goes to its pool's free list after all (relinking the pool if it
 * was full, as pymalloc's free would have).  Its pool keeps another block
 * in use. */
static inline void held_release(pool_ctx *c)
{
    HELD_CHECK(c);
    c->held_idx = POOL_NONE_HELD;
    pool_free_to_pool(c, pool_of(c->held), c->held);
}

/* A block of class idx from the class's pools: the head pool pops its free
 * list, leaving the class list (inline) when that made it full; it carves
 * when its list is empty, and a class with no pool starts one. */
static inline void *pool_alloc_from_pools(pool_ctx *c, size_t idx)
{
    pool_header *pool = c->usedpools[idx];
    if (POOL_LIKELY(pool != NULL)) {
        pool_block *b = pool->freeblock;
        if (POOL_LIKELY(b != NULL)) {
#ifndef NDEBUG
            block_check_poison(b, hl_pool_class_size(idx));
#endif
            /* Read the link once: the store to pool->freeblock could alias
             * it, and the compiler would load it again. */
            pool_block *next = b->next;
            pool->freeblock = next;
            pool->ref++;
            /* The last listed block of a wholly carved pool: it is full. */
            if (POOL_UNLIKELY(next == NULL) && pool->nextoffset > pool->maxnextoffset) {
                pool_unlink_head(c, pool, idx);
                POOL_CHECK(c, pool);
            }
            return b;
        }
        return pool_carve(c, pool, idx);
    }
    return pool_init_for_class(c, idx);
}

/* A block of n bytes.  Fastest path: the held block, when it is of n's
 * class (a compare, a store, a load).  Otherwise the class's pools serve
 * (pool_alloc_from_pools), and a block of another class stays held: no
 * allocation but one of its class could use it, and only a free lowers its
 * pool's count.  Cost: O(1); a new arena costs one mmap. */
static void *pool_alloc(void *ctx, size_t n)
{
    pool_ctx *c = ctx;
    if (POOL_LIKELY(pool_is_small(n))) {
        size_t idx = hl_pool_class_of(n);
        if (POOL_LIKELY(c->held_idx == idx)) {
            HELD_CHECK(c);
            c->held_idx = POOL_NONE_HELD;
#ifndef NDEBUG
            block_check_poison(c->held, hl_pool_class_size(idx));
#endif
            return c->held;
        }
        return pool_alloc_from_pools(c, idx);
    }
    return fallback_alloc(c, n);
}

/* Free b (of class idx, in `pool`) when a block is held: release that one
 * first, then free b as pool_free_first does.  Out of line (and reached by
 * a tail call) so that pool_free needs no stack frame. */
POOL_NOINLINE static void pool_free_releasing(pool_ctx *c, pool_header *pool, pool_block *b,
                                              size_t idx)
{
    held_release(c);
    pool_free_or_hold(c, pool, b, idx);
}

/* b is the last block in use of `pool`, whose free list is empty, and no
 * block is held: the pool goes back to its arena (b is not held: that
 * would keep it there). */
POOL_SLOW static void pool_free_last_block(pool_ctx *c, pool_header *pool, pool_block *b)
{
    b->next = NULL;
    pool->freeblock = b;
    pool->ref = 0;
    pool_free_emptied(c, pool);
}

/* Free b (of class idx, as freed) into `pool`, whose free list is empty.
 * A block held before goes to its pool first, so that at most one is held
 * and, since a pool's list stays empty while its block is held, every free
 * into the held block's pool comes here: its count never drops to the held
 * block alone.  Then b is held when its pool keeps another block in use
 * (else holding it would keep the pool from its arena) and n's class is
 * the pool's (not so for a block shrunk in place: an allocation of n's
 * class would get a block filed under another); otherwise it goes on the
 * list, relinking a full pool (pymalloc's path).  The held check comes
 * first so that the fast path of pool_free does not load the pool's count
 * before it needs it. */
static inline void pool_free_first(pool_ctx *c, pool_header *pool, pool_block *b, size_t idx)
{
    if (POOL_UNLIKELY(c->held_idx != POOL_NONE_HELD)) {
        pool_free_releasing(c, pool, b, idx);
        return;
    }
    if (POOL_UNLIKELY(pool->ref == 1)) {
        pool_free_last_block(c, pool, b);
        return;
    }
    if (POOL_LIKELY(pool->szidx == (uint32_t)idx)) {
        c->held = b;
        c->held_idx = idx;
        return;
    }
    pool_free_to_pool(c, pool, b);
}

/* Release p (of n bytes).  Fast path: push p on its pool's free list.
 * When that list is empty, p would be the pool's first free block: pymalloc
 * would then link a full pool back into its class list, for the next
 * allocation to take p and unlink it again.  Instead p is held (two stores
 * to the context, nothing in the pool written), and the next allocation of
 * its class takes it back without touching the pool; a block held before
 * goes to its pool first (pool_free_first).  Cost: O(1); a released arena
 * costs one munmap. */
static void pool_free(void *ctx, void *p, size_t n)
{
    pool_ctx *c = ctx;
    if (POOL_UNLIKELY(p == NULL))
        return;
    if (POOL_LIKELY(pool_is_small(n))) {
        pool_header *pool = pool_of(p);
        pool_block *b = p;
#ifndef NDEBUG
        assert(pool->szidx < HL_POOL_NCLASSES && pool->ref > 0);
        assert(hl_pool_class_of(n) <= pool->szidx); /* n fits the block */
        assert(pool_is_carved_block(pool, p, hl_pool_class_size(pool->szidx))); /* clear of the header */
        assert(c->held_idx == POOL_NONE_HELD || c->held != b); /* a double free of the held block */
        block_poison(b, hl_pool_class_size(pool->szidx));
#endif
        pool_block *last = pool->freeblock;
        if (POOL_LIKELY(last != NULL)) {
            /* The pool is not the held block's: that one's list is empty
             * while the block is held (pool_free_first). */
            b->next = last;
            pool->freeblock = b;
            if (POOL_LIKELY(--pool->ref != 0))
                return;
            pool_free_emptied(c, pool);
            return;
        }
        pool_free_first(c, pool, b, hl_pool_class_of(n));
        return;
    }
    fallback_free(c, p, n);
}

/* Resize p from old_size to new_size.  In place when both sizes are small,
 * the new one fits the block's class and does not save 25% of it; otherwise
 * allocate, copy, free.  On failure p is untouched. */
static void *pool_realloc(void *ctx, void *p, size_t old_size, size_t new_size)
{
    pool_ctx *c = ctx;
    if (p == NULL)
        return pool_alloc(ctx, new_size);
    int old_small = pool_is_small(old_size);
    int new_small = pool_is_small(new_size);
    if (old_small && new_small) {
        /* After an in-place shrink the block's class is larger than
         * old_size's, so ask the pool. */
        size_t block = hl_pool_class_size(pool_of(p)->szidx);
        size_t want = hl_pool_class_size(hl_pool_class_of(new_size));
        if (want <= block && 4 * (block - want) < block)
            return p;
    } else if (!old_small && !new_small) {
        void *q = realloc(p, new_size != 0 ? new_size : 1);
        if (q != NULL) {
            c->fallback_live_bytes += new_size;
            c->fallback_live_bytes -= old_size;
        }
        return q;
    }
    void *q = pool_alloc(ctx, new_size);
    if (q == NULL)
        return NULL;
    memcpy(q, p, old_size < new_size ? old_size : new_size);
    pool_free(ctx, p, old_size);
    return q;
}

/* A fresh instance in its own mapping (no malloc).  Returns 0 or -ENOMEM. */
static int pool_init(void **ctx)
{
    void *m = mmap(NULL, page_round(sizeof(pool_ctx)), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return -ENOMEM;
    pool_ctx *c = m; /* demand-zero: every list starts empty; nothing is held */
    c->held_idx = POOL_NONE_HELD;
    *ctx = c;
    return 0;
}

/* Unmap every arena, the descriptor tables and the context.  Fallback
 * blocks still live were leaked by the caller and are left alone. */
static void pool_fini(void *ctx)
{
    pool_ctx *c = ctx;
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->ndescs; i++) {
        arena_desc *ao = desc_at(c, i);
        if (ao->address != 0)
            munmap((void *)ao->address, HL_POOL_ARENA_SIZE);
    }
    for (size_t k = 0; k < POOL_DESC_CHUNKS_MAX && c->desc_chunks[k] != NULL; k++)
        munmap(c->desc_chunks[k], POOL_DESC_CHUNK_BYTES);
    munmap(c, page_round(sizeof(pool_ctx)));
}

static const char *pool_unavailable(void)
{
    return NULL;
}

static int pool_identify(char *version, size_t version_len, char *why, size_t why_len)
{
    (void)why;
    (void)why_len;
    snprintf(version, version_len, "heaplab-pool 4 (pymalloc design, 16 KiB pools with cache-coloured headers and blocks in the colour gap, 1 MiB arenas, a full pool's first freed block held for the next call)");
    return 0;
}

/* Resident bytes of the context and the descriptor chunks, or -1. */
static long long pool_meta_resident(const pool_ctx *c)
{
    long long total = hl_resident_bytes(c, page_round(sizeof(pool_ctx)));
    for (size_t k = 0; k < desc_chunks_mapped(c) && total >= 0; k++)
        total = hl_resident_add(total, c->desc_chunks[k], POOL_DESC_CHUNK_BYTES);
    return total;
}

/* A pool counts the held block in use (ref); the program does not hold
 * it, so take it out of the figures: one block fewer in use, and its pool,
 * if it had nothing else to give, is not full.  Cost: O(1). */
static void snapshot_discount_held(const pool_ctx *c, hl_pool_snapshot *s)
{
    if (c->held_idx == POOL_NONE_HELD)
        return;
    unsigned idx = c->held_idx;
    const pool_header *pool = pool_of(c->held);
    assert(pool->ref >= 2 && s->used_blocks[idx] >= 2);
    s->used_blocks[idx]--;
    s->bytes_in_used_blocks -= hl_pool_class_size(idx);
    if (pool_is_full(pool))
        s->pools_full--;
}

/* Walk every mapped arena and its carved pools, and ask the kernel which of
 * their pages are resident.  Cost: O(arenas x pools), plus one mincore per
 * arena. */
static void pool_snapshot(const pool_ctx *c, hl_pool_snapshot *s)
{
    memset(s, 0, sizeof *s);
    s->arenas_mapped = c->arenas_mapped;
    s->arenas_peak = c->arenas_peak;
    s->arenas_unmapped_total = c->arenas_unmapped;
    s->mapped_bytes = c->arenas_mapped * HL_POOL_ARENA_SIZE;
    s->meta_bytes = page_round(sizeof(pool_ctx)) + desc_chunks_mapped(c) * POOL_DESC_CHUNK_BYTES;
    s->resident_bytes = pool_meta_resident(c);
    s->fallback_live_blocks = c->fallback_live_blocks;
    s->fallback_live_bytes = c->fallback_live_bytes;
    for (size_t i = 0; i < c->ndescs; i++) {
        const arena_desc *ao = desc_at(c, i);
        if (ao->address == 0)
            continue;
        s->resident_bytes =
            hl_resident_add(s->resident_bytes, (const void *)ao->address, HL_POOL_ARENA_SIZE);
        s->pools_empty_in_arenas += ao->nfreepools;
        for (char *q = (char *)arena_first_pool(ao); q < ao->pool_address; q += HL_POOL_SIZE) {
            const pool_header *pool = pool_header_of((uintptr_t)q);
            if (pool->ref == 0)
                continue;
            unsigned idx = pool->szidx;
            size_t size = hl_pool_class_size(idx);
            s->pools_used++;
            if (pool_is_full(pool))
                s->pools_full++;
            s->used_blocks[idx] += pool->ref;
            s->carved_blocks[idx] += pool_carved_blocks(pool, size);
            s->bytes_in_used_blocks += pool->ref * size;
        }
    }
    snapshot_discount_held(c, s);
}

int hl_pool_inspect(void *ctx, hl_pool_snapshot *out)
{
    if (ctx == NULL || out == NULL)
        return -EINVAL;
    pool_snapshot(ctx, out);
    return 0;
}

int hl_pool_arena_of(void *ctx, const void *p, size_t *arena_index_out, unsigned *nfreepools_out)
{
    const pool_ctx *c = ctx;
    if (c == NULL)
        return -1;
    uintptr_t a = (uintptr_t)p;
    for (size_t i = 0; i < c->ndescs; i++) {
        const arena_desc *ao = desc_at(c, i);
        if (ao->address != 0 && a >= ao->address && a - ao->address < HL_POOL_ARENA_SIZE) {
            if (arena_index_out != NULL)
                *arena_index_out = ao->index;
            if (nfreepools_out != NULL)
                *nfreepools_out = ao->nfreepools;
            return 0;
        }
    }
    return -1;
}

/* Figures computed by walking the instance (never on the fast path). */
static void pool_stats(void *ctx, hl_stats *out)
{
    hl_pool_snapshot s;
    pool_snapshot(ctx, &s);
    size_t used = 0;
    for (unsigned i = 0; i < HL_POOL_NCLASSES; i++)
        used += s.used_blocks[i];
    size_t pool_bytes = s.pools_used * HL_POOL_SIZE;
    hl_stats_add(out, "arenas_mapped", "count", (double)s.arenas_mapped);
    hl_stats_add(out, "arenas_peak", "count", (double)s.arenas_peak);
    hl_stats_add(out, "arenas_unmapped", "count", (double)s.arenas_unmapped_total);
    hl_stats_add(out, "mapped_bytes", "bytes", (double)s.mapped_bytes);
    hl_stats_add(out, "meta_bytes", "bytes", (double)s.meta_bytes);
    if (s.resident_bytes >= 0)
        hl_stats_add(out, "resident_bytes", "bytes", (double)s.resident_bytes);
    hl_stats_add(out, "pools_used", "count", (double)s.pools_used);
    hl_stats_add(out, "pools_full", "count", (double)s.pools_full);
    hl_stats_add(out, "pools_empty", "count", (double)s.pools_empty_in_arenas);
    hl_stats_add(out, "blocks_used", "count", (double)used);
    hl_stats_add(out, "bytes_in_used_blocks", "bytes", (double)s.bytes_in_used_blocks);
    hl_stats_add(out, "pool_utilization", "ratio",
                 pool_bytes != 0 ? (double)s.bytes_in_used_blocks / (double)pool_bytes : 0.0);
    hl_stats_add(out, "fallback_live_blocks", "count", (double)s.fallback_live_blocks);
    hl_stats_add(out, "fallback_live_bytes", "bytes", (double)s.fallback_live_bytes);
    /* The pool's own view of fragmentation covers what it serves itself:
     * the requests above 512 B went to the fallback and leave the sums.
     * What it holds is what it costs in RSS, its resident pages (as
     * jemalloc's stats.resident), not the address space it mapped: an
     * arena's never-touched pools cost nothing.  Unknown residency leaves
     * the external figure out. */
    double held = (double)s.resident_bytes;
    if (out->has_requested_live) {
        hl_stats pool_view = *out;
        pool_view.requested_live = out->requested_live - (double)s.fallback_live_bytes;
        pool_view.count = 0;
        hl_stats_add_waste(&pool_view, held, (double)s.bytes_in_used_blocks);
        for (int i = 0; i < pool_view.count; i++)
            hl_stats_add(out, pool_view.item[i].name, pool_view.item[i].unit,
                         pool_view.item[i].value);
    } else {
        hl_stats_add_waste(out, held, (double)s.bytes_in_used_blocks);
    }
}

static const hl_allocator_ops pool_ops = {
    .name = "pool",
    .description = "size-class pools in 1 MiB arenas (pymalloc design), malloc above 512 B",
    .flags = 0,
    .preload = NULL,
    .unavailable = pool_unavailable,
    .identify = pool_identify,
    .init = pool_init,
    .fini = pool_fini,
    .alloc = pool_alloc,
    .free = pool_free,
    .realloc = pool_realloc,
    .stats = pool_stats,
};

const hl_allocator_ops *hl_pool_allocator(void)
{
    return &pool_ops;
}
