/*
 * fuzz_pool.c - libFuzzer target: the pool allocator (`--allocator=pool`)
 * against a shadow table.
 *
 * The input is a sequence of operations (below).  Each live block is filled
 * with a pattern of its own, and the shadow table keeps its address, its
 * size and its pattern seed.  Checked, with a trap on any discrepancy:
 *   - every block is aligned as allocator.h promises (hl_min_alignment);
 *   - a block still holds its pattern when it is freed or resized (a block
 *     handed out twice, or overlapping another, shows here), and realloc
 *     keeps the first min(old, new) bytes;
 *   - hl_pool_inspect agrees with the shadow: pool blocks in use, fallback
 *     blocks and bytes, and every pool block lies in one of the arenas;
 *   - once everything is freed, no block is in use, no pool serves a class
 *     and at most one arena is still mapped (the one the pool keeps).
 * The same sequence then runs again through hl_tracker_wrap over a fresh
 * pool, where the tracker's live bytes and blocks must equal the shadow's
 * after every operation.
 *
 * Input: bytes read by fuzz_input.h (zeros past the end).  One operation is
 * an opcode byte (mod 8) and its arguments:
 *   0, 1  alloc        SIZE
 *   2     free         u16 slot
 *   3     realloc      u16 slot, SIZE
 *   4     alloc burst  u8 count (1 + 8 x count blocks), SIZE
 *   5     free burst   u16 first slot, u8 count (1 + 8 x count blocks)
 *   6     inspect      (hl_pool_inspect against the shadow)
 *   7     check every live block's pattern
 * SIZE is a selector byte (mod 8) and a u16: 0 bytes; 1..512 (pool sizes,
 * four selectors); a class boundary 16k-1..16k+1; 513..4608 or 0..16384
 * (the malloc fallback).
 * Work per input is bounded by POOL_FUZZ_MAX_OPS, _MAX_BLOCKS,
 * _MAX_LIVE_BYTES and _WORK_BUDGET; operations beyond them are skipped.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "allocators/allocator.h"
#include "allocators/pool.h"
#include "tests/fuzz/fuzz_input.h"

#define POOL_FUZZ_MAX_OPS 4096
/* Enough 512-byte blocks to need a second arena (31 per pool, 63 pools). */
#define POOL_FUZZ_MAX_BLOCKS 4096
#define POOL_FUZZ_MAX_LIVE_BYTES ((uint64_t)4 << 20)
/* Bytes filled or checked per run: past it the remaining operations are
 * skipped (the final check and free still run). */
#define POOL_FUZZ_WORK_BUDGET ((uint64_t)64 << 20)
/* Blocks whose arena check_inspect() looks up, at most. */
#define INSPECT_ARENA_SAMPLES 32

typedef struct shadow_block {
    unsigned char *p;
    size_t size;
    uint32_t seed;
} shadow_block;

/* One run: the allocator under test, the pool instance inside it, and the
 * shadow table (slots 0..n-1, unordered: a free moves the last one in). */
typedef struct pool_run {
    hl_allocator pool;    /* the pool instance */
    hl_allocator tracked; /* the tracker over it, when `use_tracker` */
    const hl_allocator *a; /* what the operations go through */
    int use_tracker;
    shadow_block blk[POOL_FUZZ_MAX_BLOCKS];
    size_t n;
    uint64_t live_bytes;
    uint32_t next_seed;
    uint64_t work; /* bytes filled and checked so far */
} pool_run;

static pool_run run_state;

/* -------------------------------------------------------------- patterns -- */

/* A block's pattern is a window of one fixed random buffer, at an offset
 * chosen by its seed: fill is a memcpy and check a memcmp, so checking
 * every byte stays cheap.  Two blocks share a pattern once in
 * PATTERN_OFFSETS. */
#define PATTERN_OFFSETS 8192
#define PATTERN_MAX_BLOCK 16385 /* the largest size read_size() gives */

static unsigned char pattern_source[PATTERN_OFFSETS + PATTERN_MAX_BLOCK];

static uint32_t hash32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7FEB352Du;
    x ^= x >> 15;
    x *= 0x846CA68Bu;
    x ^= x >> 16;
    return x;
}

static void pattern_init(void)
{
    static int done;
    if (done)
        return;
    for (size_t i = 0; i < sizeof pattern_source; i++)
        pattern_source[i] = (unsigned char)hash32((uint32_t)i + 1);
    done = 1;
}

static const unsigned char *pattern_of(const shadow_block *b)
{
    return pattern_source + hash32(b->seed) % PATTERN_OFFSETS;
}

static void pattern_fill(pool_run *r, const shadow_block *b, size_t from, size_t to)
{
    r->work += to - from;
    memcpy(b->p + from, pattern_of(b) + from, to - from);
}

static void pattern_check(pool_run *r, const shadow_block *b, size_t upto)
{
    r->work += upto;
    FUZZ_CHECK(memcmp(b->p, pattern_of(b), upto) == 0);
}

static int is_pool_size(size_t size)
{
    return size >= 1 && size <= HL_POOL_SMALL_MAX;
}

/* ----------------------------------------------------------- operations -- */

static size_t read_size(fuzz_input *in)
{
    unsigned sel = fuzz_u8(in) % 8;
    unsigned v = fuzz_u16(in);
    switch (sel) {
    case 0:
        return 0;
    case 5: /* the edges of a class: 16k - 1, 16k, 16k + 1 */
        return (size_t)(v % HL_POOL_NCLASSES + 1) * HL_POOL_CLASS_STEP + (v >> 8) % 3 - 1;
    case 6:
        return HL_POOL_SMALL_MAX + 1 + v % 4096;
    case 7:
        return v % PATTERN_MAX_BLOCK;
    default:
        return 1 + v % HL_POOL_SMALL_MAX;
    }
}

static void check_alignment(const void *p, size_t size)
{
    FUZZ_CHECK(p != NULL);
    FUZZ_CHECK((uintptr_t)p % hl_min_alignment(size) == 0);
}

/* The tracker's counts equal the shadow's (tracked runs only). */
static void check_tracker(const pool_run *r)
{
    if (!r->use_tracker)
        return;
    hl_tracker_counts c = hl_tracker_read(&r->tracked);
    FUZZ_CHECK(c.live_bytes == r->live_bytes);
    FUZZ_CHECK(c.live_blocks == r->n);
    FUZZ_CHECK(c.failures == 0);
}

static void op_alloc(pool_run *r, size_t size)
{
    if (r->n == POOL_FUZZ_MAX_BLOCKS || r->live_bytes + size > POOL_FUZZ_MAX_LIVE_BYTES)
        return;
    shadow_block *b = &r->blk[r->n];
    b->p = hl_alloc(r->a, size);
    check_alignment(b->p, size);
    b->size = size;
    b->seed = r->next_seed++;
    pattern_fill(r, b, 0, size);
    r->n++;
    r->live_bytes += size;
}

static void op_free(pool_run *r, size_t slot)
{
    if (r->n == 0)
        return;
    shadow_block *b = &r->blk[slot % r->n];
    pattern_check(r, b, b->size);
    hl_free(r->a, b->p, b->size);
    r->live_bytes -= b->size;
    *b = r->blk[--r->n];
}

static void op_realloc(pool_run *r, size_t slot, size_t size)
{
    if (r->n == 0)
        return;
    shadow_block *b = &r->blk[slot % r->n];
    if (size > b->size && r->live_bytes + (size - b->size) > POOL_FUZZ_MAX_LIVE_BYTES)
        return;
    pattern_check(r, b, b->size);
    unsigned char *q = hl_realloc(r->a, b->p, b->size, size);
    check_alignment(q, size);
    size_t kept = b->size < size ? b->size : size;
    b->p = q;
    pattern_check(r, b, kept);
    pattern_fill(r, b, kept, size);
    r->live_bytes = r->live_bytes - b->size + size;
    b->size = size;
}

static void check_all(pool_run *r)
{
    for (size_t i = 0; i < r->n; i++)
        pattern_check(r, &r->blk[i], r->blk[i].size);
}

/* hl_pool_inspect against the shadow.  A block resized in place keeps its
 * class, so only totals are compared, never per-class counts. */
static void check_inspect(const pool_run *r)
{
    hl_pool_snapshot s;
    FUZZ_CHECK(hl_pool_inspect(r->pool.ctx, &s) == 0);
    size_t pool_blocks = 0, fallback_blocks = 0, fallback_bytes = 0, in_use = 0, min_bytes = 0;
    for (size_t i = 0; i < r->n; i++) {
        const shadow_block *b = &r->blk[i];
        if (is_pool_size(b->size)) {
            pool_blocks++;
            min_bytes += b->size;
        } else {
            fallback_blocks++;
            fallback_bytes += b->size;
        }
    }
    /* Which blocks lie in an arena: a sample, as each lookup walks every
     * arena descriptor. */
    size_t stride = r->n / INSPECT_ARENA_SAMPLES + 1;
    for (size_t i = 0; i < r->n; i += stride) {
        const shadow_block *b = &r->blk[i];
        size_t arena;
        unsigned nfree;
        int found = hl_pool_arena_of(r->pool.ctx, b->p, &arena, &nfree) == 0;
        FUZZ_CHECK(found == is_pool_size(b->size));
        FUZZ_CHECK(!found || nfree < HL_POOL_MAX_POOLS_PER_ARENA);
    }
    for (unsigned k = 0; k < HL_POOL_NCLASSES; k++) {
        FUZZ_CHECK(s.used_blocks[k] <= s.carved_blocks[k]);
        in_use += s.used_blocks[k];
    }
    FUZZ_CHECK(in_use == pool_blocks);
    FUZZ_CHECK(s.bytes_in_used_blocks >= min_bytes);
    FUZZ_CHECK(s.fallback_live_blocks == fallback_blocks);
    FUZZ_CHECK(s.fallback_live_bytes == fallback_bytes);
    FUZZ_CHECK(s.mapped_bytes == s.arenas_mapped * HL_POOL_ARENA_SIZE);
    FUZZ_CHECK(s.arenas_peak >= s.arenas_mapped);
    FUZZ_CHECK(s.pools_full <= s.pools_used);
    FUZZ_CHECK(s.pools_used + s.pools_empty_in_arenas <= s.arenas_mapped * HL_POOL_MAX_POOLS_PER_ARENA);
    /* A pool serving a class holds at least one block in use. */
    FUZZ_CHECK(s.pools_used <= pool_blocks);
}

/* ---------------------------------------------------------------- a run -- */

static void run_open(pool_run *r, int use_tracker)
{
    memset(r, 0, sizeof *r);
    FUZZ_CHECK(hl_allocator_open(&r->pool, hl_pool_allocator()) == 0);
    r->use_tracker = use_tracker;
    r->a = &r->pool;
    if (use_tracker) {
        FUZZ_CHECK(hl_tracker_wrap(&r->tracked, &r->pool) == 0);
        r->a = &r->tracked;
    }
}

/* Free what is left (checking it), then the pool must be back to at most
 * the one kept arena; close. */
static void run_close(pool_run *r)
{
    check_all(r);
    while (r->n > 0)
        op_free(r, r->n - 1);
    check_tracker(r);
    hl_pool_snapshot s;
    FUZZ_CHECK(hl_pool_inspect(r->pool.ctx, &s) == 0);
    for (unsigned k = 0; k < HL_POOL_NCLASSES; k++)
        FUZZ_CHECK(s.used_blocks[k] == 0);
    FUZZ_CHECK(s.pools_used == 0 && s.pools_full == 0 && s.bytes_in_used_blocks == 0);
    FUZZ_CHECK(s.fallback_live_blocks == 0 && s.fallback_live_bytes == 0);
    FUZZ_CHECK(s.arenas_mapped <= 1);
    if (r->use_tracker)
        hl_allocator_close(&r->tracked);
    hl_allocator_close(&r->pool);
}

static void run_sequence(const uint8_t *data, size_t size, int use_tracker)
{
    pool_run *r = &run_state;
    run_open(r, use_tracker);
    fuzz_input in = fuzz_input_of(data, size);
    for (int op = 0; op < POOL_FUZZ_MAX_OPS && !fuzz_input_done(&in) &&
                    r->work < POOL_FUZZ_WORK_BUDGET;
         op++) {
        switch (fuzz_u8(&in) % 8) {
        case 0:
        case 1:
            op_alloc(r, read_size(&in));
            break;
        case 2:
            op_free(r, fuzz_u16(&in));
            break;
        case 3: {
            size_t slot = fuzz_u16(&in);
            op_realloc(r, slot, read_size(&in));
            break;
        }
        case 4: {
            unsigned count = 1 + 8u * fuzz_u8(&in);
            size_t sz = read_size(&in);
            for (unsigned k = 0; k < count; k++)
                op_alloc(r, sz);
            break;
        }
        case 5: {
            size_t first = fuzz_u16(&in);
            unsigned count = 1 + 8u * fuzz_u8(&in);
            for (unsigned k = 0; k < count && r->n > 0; k++)
                op_free(r, first);
            break;
        }
        case 6:
            check_inspect(r);
            break;
        case 7:
            check_all(r);
            break;
        }
        check_tracker(r);
    }
    run_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pattern_init();
    run_sequence(data, size, 0);
    run_sequence(data, size, 1);
    return 0;
}
