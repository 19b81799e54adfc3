/*
 * churn.c - `--workload=churn`: object churn as Python programs do it.
 *
 * What it models: a running Python program creates and drops small objects
 * all the time (ints, floats, short strings, tuples, small dicts, instances)
 * while a working set of them stays alive.  pymalloc exists because of this
 * pattern.  Here a window of `live` slots holds the live objects; each
 * operation picks a slot at random, checks and frees the object there and
 * allocates a new one in its place.  One op = one allocation and its free.
 *
 * Sizes (variant `mixed`), modelled on sys.getsizeof of CPython 3.11
 * objects on 64-bit Linux:
 *
 *     bytes     weight  typical objects
 *     16-32      30%    int (28), float (24), bool, empty bytes (33 is next)
 *     33-64      30%    short str (49-64), 2-3 tuples (56-64), slotted instance (48-56)
 *     65-128     20%    str of up to ~70 chars, tuple of up to 10 items, bound method (64)
 *     129-256    12%    small dict (184-232), set (216), list of ~20 items
 *     257-512     8%    larger containers, str of 200-450 chars
 *
 * uniform within each band.  Variant `fixed64`: every object is 64 bytes
 * (the size-class sweet spot; comparable to machine.md's 64 B baseline).
 *
 * Each object is written when allocated, as CPython writes an object header:
 * a cookie derived from the seed and the operation index in its first 8
 * bytes, and the cookie's complement in its last 8.  Both are checked before
 * the object is freed, and the cookies read back are folded into the
 * checksum, so the checksum proves the memory held what was written and is
 * the same under every allocator.
 *
 * Parameters: live (window), ops (operations per run); seed from --seed.
 * Source: the churn baseline of ../shared/reference/machine.md; mimalloc-bench
 * cfrac and alloc-test model the same many-small-short-lived-objects shape.
 */
#include "workloads/rng.h"
#include "workloads/workload.h"

#include <inttypes.h>
#include <stdlib.h>

enum { CHURN_LIVE, CHURN_OPS };

static const hl_param_spec churn_params[] = {
    [CHURN_LIVE] = {"live", "objects alive at once (the window)", 1000, 1000, 1, 100000000},
    [CHURN_OPS] = {"ops", "operations (allocation + free pairs) per run", 20000000, 200000, 1,
                   INT64_C(1000000000000)},
};

enum { CHURN_MIXED, CHURN_FIXED64 };

static const hl_variant_spec churn_variants[] = {
    [CHURN_MIXED] = {"mixed", "Python-like mix of 16-512 B objects"},
    [CHURN_FIXED64] = {"fixed64", "every object 64 B"},
};

/* The size bands of the `mixed` distribution (see the table above). */
static const struct {
    uint16_t lo, hi;
    uint8_t percent;
} churn_bands[] = {
    {16, 32, 30}, {33, 64, 30}, {65, 128, 20}, {129, 256, 12}, {257, 512, 8},
};

#define CHURN_TAIL_MAGIC 0xa5a5a5a5a5a5a5a5ull

typedef struct churn_slot {
    unsigned char *p;
    size_t size;
} churn_slot;

typedef struct churn {
    const hl_allocator *alloc;
    churn_slot *slots;
    uint32_t live;
    uint8_t band_of_percent[100]; /* percent -> band, for O(1) draws */
    int fixed;
    uint64_t seed;
    uint64_t next_op; /* index of the next allocation: names its cookie */
    uint64_t ops_done; /* operations performed by step() */
    uint64_t checksum;
    hl_rng rng;
} churn;

static uint64_t churn_ops(const hl_workload_config *cfg)
{
    return (uint64_t)cfg->params[CHURN_OPS];
}

/* A size from the variant's distribution, from the low 32 bits of r: 16
 * bits pick the band, 16 bits the size within it. */
static inline size_t churn_draw_size(const churn *c, uint64_t r)
{
    if (c->fixed)
        return 64;
    unsigned band = c->band_of_percent[((r >> 16) & 0xffff) * 100 >> 16];
    uint32_t span = churn_bands[band].hi - churn_bands[band].lo + 1u;
    return churn_bands[band].lo + (((r & 0xffff) * span) >> 16);
}

static inline uint64_t churn_cookie(const churn *c, uint64_t op)
{
    return hl_mix64(op ^ c->seed);
}

/* Allocate the object of operation `op` into slot s and write its cookies.
 * On failure the slot is left empty (p NULL) for finish. */
static inline int churn_make(const hl_allocator *alloc, uint64_t seed, churn_slot *s,
                             size_t size, uint64_t op, hl_error *err)
{
    unsigned char *p = hl_alloc(alloc, size);
    if (__builtin_expect(p == NULL, 0)) {
        s->p = NULL;
        return hl_fail(err, "out of memory: allocation of %zu bytes failed after %" PRIu64
                       " operations", size, op);
    }
    uint64_t cookie = hl_mix64(op ^ seed);
    __builtin_memcpy(p, &cookie, 8);
    cookie ^= CHURN_TAIL_MAGIC;
    __builtin_memcpy(p + size - 8, &cookie, 8);
    s->p = p;
    s->size = size;
    return 0;
}

/* Check slot s's cookies, fold them into *checksum and free the block (the
 * slot still points at it: the caller refills or clears it). */
static inline int churn_drop(const hl_allocator *alloc, uint64_t *checksum, churn_slot *s,
                             hl_error *err)
{
    uint64_t head, tail;
    __builtin_memcpy(&head, s->p, 8);
    __builtin_memcpy(&tail, s->p + s->size - 8, 8);
    if (__builtin_expect((head ^ CHURN_TAIL_MAGIC) != tail, 0))
        return hl_fail(err, "corrupted block %p (%zu bytes): head cookie %016" PRIx64
                       " does not match tail %016" PRIx64, (void *)s->p, s->size, head, tail);
    *checksum = (*checksum ^ head) * 0x100000001b3ull;
    hl_free(alloc, s->p, s->size);
    return 0;
}

static int churn_setup(const hl_workload_config *cfg, void **state, hl_error *err)
{
    churn *c = calloc(1, sizeof *c);
    if (c == NULL)
        return hl_fail(err, "out of memory for the churn state");
    c->alloc = cfg->alloc;
    c->live = (uint32_t)cfg->params[CHURN_LIVE];
    c->fixed = cfg->variant == CHURN_FIXED64;
    c->seed = cfg->seed;
    hl_rng_seed(&c->rng, cfg->seed);
    unsigned pct = 0;
    for (unsigned b = 0; b < sizeof churn_bands / sizeof churn_bands[0]; b++)
        for (unsigned k = 0; k < churn_bands[b].percent; k++)
            c->band_of_percent[pct++] = (uint8_t)b;
    c->slots = hl_untracked_alloc(sizeof(churn_slot) * c->live);
    if (c->slots == NULL) {
        uint32_t live = c->live;
        free(c);
        return hl_fail(err, "out of memory for %u slots", live);
    }
    *state = c;
    for (uint32_t i = 0; i < c->live; i++) {
        size_t size = churn_draw_size(c, hl_rng_next(&c->rng));
        if (churn_make(c->alloc, c->seed, &c->slots[i], size, c->next_op++, err) != 0)
            return -1; /* finish() releases what was made */
    }
    return 0;
}

/* The loop keeps the generator, the checksum and the operation index in
 * locals and writes them back once: the allocator calls in between would
 * otherwise force every one of them through memory on every operation. */
static int churn_step(void *state, uint64_t n, hl_error *err)
{
    churn *c = state;
    const hl_allocator *alloc = c->alloc;
    churn_slot *slots = c->slots;
    uint32_t live = c->live;
    uint64_t seed = c->seed, checksum = c->checksum, op = c->next_op;
    hl_rng rng = c->rng;
    int rc = 0;
    uint64_t i;
    for (i = 0; i < n; i++) {
        /* One draw per operation: the high half picks the slot, the low
         * half the size. */
        uint64_t r = hl_rng_next(&rng);
        churn_slot *s = &slots[hl_rng_below((uint32_t)(r >> 32), live)];
        size_t size = churn_draw_size(c, r);
        if (__builtin_expect(churn_drop(alloc, &checksum, s, err) != 0, 0)) {
            rc = -1;
            break;
        }
        if (__builtin_expect(churn_make(alloc, seed, s, size, op++, err) != 0, 0)) {
            rc = -1;
            break;
        }
    }
    c->rng = rng;
    c->checksum = checksum;
    c->next_op = op;
    c->ops_done += i;
    return rc;
}

static int churn_finish(void *state, hl_workload_result *res, hl_error *err)
{
    churn *c = state;
    int rc = 0;
    for (uint32_t i = 0; i < c->live; i++)
        if (c->slots[i].p != NULL && churn_drop(c->alloc, &c->checksum, &c->slots[i], err) != 0)
            rc = -1; /* keep freeing: leave nothing behind */
    res->ops = c->ops_done;
    res->checksum = c->checksum;
    hl_untracked_free(c->slots, sizeof(churn_slot) * c->live);
    free(c);
    return rc;
}

static const hl_workload_ops churn_ops_table = {
    .name = "churn",
    .description = "object churn: a window of live small objects, each op frees one and "
                   "allocates another",
    .default_collector = "manual",
    .gc_needs = HL_GC_MANUAL, /* raw bytes: manual only */
    .params = churn_params,
    .nparams = sizeof churn_params / sizeof churn_params[0],
    .variants = churn_variants,
    .nvariants = sizeof churn_variants / sizeof churn_variants[0],
    .flags = HL_WORKLOAD_OPEN_ENDED,
    .ops = churn_ops,
    .setup = churn_setup,
    .step = churn_step,
    .finish = churn_finish,
};

const hl_workload_ops *hl_churn_workload(void)
{
    return &churn_ops_table;
}
