/*
 * arena.c - a region (bump) allocator: `--allocator=arena`.
 *
 * What it models: the per-request or per-phase region that compilers, servers
 * and Python's own arenas-of-frames use when many objects share one lifetime.
 * Allocation bumps a pointer; free does nothing; the whole region is released
 * at once when the instance closes.  It is the fastest possible allocator and
 * the worst possible one for long-lived churn: nothing is ever reused, so its
 * footprint is the sum of every allocation ever made.
 *
 * Layout:
 *
 *     chunk list (newest first)
 *     +--------+------------------------------+      +--------+---------- ...
 *     | header | block | block | ... | free ->|  ->  | header | block ...
 *     +--------+------------------------------+      +--------+---------- ...
 *                                        ^ cursor
 *
 * Chunks come from mmap, start at ARENA_CHUNK_MIN bytes and double up to
 * ARENA_CHUNK_MAX, so a region of N bytes costs O(log N) mappings; a request
 * larger than the next chunk gets a chunk of its own.  Pages are touched only
 * as blocks are handed out (mmap memory is demand-zero), so RSS follows use;
 * the statistics report both the mapped bytes and the resident ones
 * (mincore), and count the waste from the resident ones.
 *
 * realloc grows the most recent block in place when it is at the cursor;
 * otherwise it bumps a new block and copies.  Shrinking is always in place.
 *
 * Not thread-safe (one cursor, no lock).
 */
#include "allocators/allocator.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Tunables.  Invariant: ARENA_CHUNK_MIN <= ARENA_CHUNK_MAX, both page multiples. */
#define ARENA_CHUNK_MIN ((size_t)1 << 20)
#define ARENA_CHUNK_MAX ((size_t)64 << 20)

/* The header keeps the first block HL_ALIGNMENT-aligned. */
typedef struct arena_chunk {
    _Alignas(HL_ALIGNMENT) struct arena_chunk *next; /* older chunk */
    size_t size;                                      /* bytes mapped, header included */
} arena_chunk;

typedef struct arena {
    arena_chunk *chunks; /* newest first; the cursor lives in the newest */
    char *cursor;        /* next free byte, HL_ALIGNMENT-aligned */
    char *limit;         /* end of the newest chunk */
    char *last_block;    /* the most recent block, for in-place realloc */
    size_t next_chunk;   /* size of the next chunk to map */
    size_t mapped;       /* bytes mapped over all chunks */
    size_t handed_out;   /* bytes handed out, rounded to the alignment */
    size_t nchunks;
} arena;

static size_t arena_round(size_t n)
{
    return (n + (HL_ALIGNMENT - 1)) & ~(size_t)(HL_ALIGNMENT - 1);
}

/* Map a chunk able to hold `need` bytes after its header and make it the
 * newest.  Returns 0 or -1 when the kernel refuses. */
static int arena_new_chunk(arena *a, size_t need)
{
    size_t size = a->next_chunk;
    size_t want = need + sizeof(arena_chunk);
    if (want > size)
        size = (want + ARENA_CHUNK_MIN - 1) & ~(ARENA_CHUNK_MIN - 1);
    void *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return -1;
    arena_chunk *c = m;
    c->next = a->chunks;
    c->size = size;
    a->chunks = c;
    a->cursor = (char *)m + sizeof(arena_chunk);
    a->limit = (char *)m + size;
    a->mapped += size;
    a->nchunks++;
    if (a->next_chunk < ARENA_CHUNK_MAX)
        a->next_chunk *= 2;
    return 0;
}

static void *arena_alloc(void *ctx, size_t size)
{
    arena *a = ctx;
    size_t n = arena_round(size ? size : 1);
    if (__builtin_expect((size_t)(a->limit - a->cursor) < n, 0)) {
        if (n > SIZE_MAX / 2 || arena_new_chunk(a, n) != 0)
            return NULL;
    }
    char *p = a->cursor;
    a->cursor += n;
    a->handed_out += n;
    a->last_block = p;
    return p;
}

static void arena_free(void *ctx, void *p, size_t size)
{
    (void)ctx;
    (void)p;
    (void)size;
}

static void *arena_realloc(void *ctx, void *p, size_t old_size, size_t new_size)
{
    arena *a = ctx;
    if (p == NULL)
        return arena_alloc(ctx, new_size);
    size_t old_n = arena_round(old_size ? old_size : 1);
    size_t new_n = arena_round(new_size ? new_size : 1);
    if (new_n <= old_n)
        return p;
    if (p == a->last_block && (size_t)(a->limit - (char *)p) >= new_n) {
        a->cursor = (char *)p + new_n;
        a->handed_out += new_n - old_n;
        return p;
    }
    void *q = arena_alloc(ctx, new_size);
    if (q != NULL)
        memcpy(q, p, old_size);
    return q;
}

static int arena_init(void **ctx)
{
    arena *a = calloc(1, sizeof *a);
    if (a == NULL)
        return -ENOMEM;
    a->next_chunk = ARENA_CHUNK_MIN;
    *ctx = a;
    return 0;
}

/* Release the region whole: every chunk goes back to the kernel at once. */
static void arena_fini(void *ctx)
{
    arena *a = ctx;
    arena_chunk *c = a->chunks;
    while (c != NULL) {
        arena_chunk *next = c->next;
        munmap(c, c->size);
        c = next;
    }
    free(a);
}

/* Bytes of every chunk that the kernel holds resident now, or -1 when it
 * cannot say.  Cost: one mincore per chunk (per 16 MiB of a large one). */
static long long arena_resident(const arena *a)
{
    long long total = 0;
    for (const arena_chunk *c = a->chunks; c != NULL && total >= 0; c = c->next)
        total = hl_resident_add(total, c, c->size);
    return total;
}

static void arena_stats(void *ctx, hl_stats *out)
{
    arena *a = ctx;
    long long resident = arena_resident(a);
    hl_stats_add(out, "mapped_bytes", "bytes", (double)a->mapped);
    if (resident >= 0)
        hl_stats_add(out, "resident_bytes", "bytes", (double)resident);
    hl_stats_add(out, "handed_out_bytes", "bytes", (double)a->handed_out);
    hl_stats_add(out, "chunks", "count", (double)a->nchunks);
    /* The region cannot tell live blocks from dead ones: everything it holds
     * beyond what the program has live is waste it will never reuse.  What
     * it holds is its resident pages, what it costs in RSS: the untouched
     * tail of the newest chunk (up to ARENA_CHUNK_MAX) is address space
     * only. */
    if (out->has_requested_live && resident >= 0)
        hl_stats_add(out, "external_waste_bytes", "bytes", (double)resident - out->requested_live);
}

static int arena_identify(char *version, size_t version_len, char *why, size_t why_len)
{
    (void)why;
    (void)why_len;
    snprintf(version, version_len, "heaplab-arena 1 (bump, chunks %zu KiB..%zu MiB)",
             ARENA_CHUNK_MIN >> 10, ARENA_CHUNK_MAX >> 20);
    return 0;
}

static const hl_allocator_ops arena_ops = {
    .name = "arena",
    .description = "region (bump) allocator: free is a no-op, the region is released whole",
    .flags = HL_ALLOC_FREE_NOOP,
    .identify = arena_identify,
    .init = arena_init,
    .fini = arena_fini,
    .alloc = arena_alloc,
    .free = arena_free,
    .realloc = arena_realloc,
    .stats = arena_stats,
};

const hl_allocator_ops *hl_arena_allocator(void)
{
    return &arena_ops;
}
