/*
 * mlarge.c - `--workload=mlarge`: large blocks, malloc-large as
 * mimalloc-bench runs it.
 *
 * What it models: a program that keeps a few buffers of megabytes (images,
 * network or file buffers, column chunks) and keeps replacing them with
 * others of different sizes.  Allocators serve such blocks straight from
 * the kernel (mmap, and munmap on free: a system call and page faults per
 * block) or keep them in their own cache (glibc raises its mmap threshold
 * after the first free of a mapped block; mimalloc and jemalloc keep freed
 * spans for reuse), and the difference shows in time and in RSS.  Source:
 * mimalloc-bench's malloc-large (a live set of 20 slots, blocks of 5-25
 * MiB, a random slot replaced each iteration).
 *
 * One op = one large allocation and its free: pick a random slot, check and
 * free its block, allocate a block of random size in [min_kib, max_kib] KiB
 * (to the byte, not rounded to pages) and touch it.  Setup fills the `live`
 * slots first (untimed).  A block is touched in `touches` + 2 places spread
 * evenly from its first to its last 8 bytes - its first and last page and
 * some in between, as a program touches a buffer it fills only in part -
 * each with a cookie derived from the seed, the operation and the place,
 * all checked before the free.  Untouched pages are never faulted in, so
 * RSS measures what the allocator holds, not the blocks' nominal sizes.
 *
 * The checksum is an FNV-1a fold of the first cookie of each block read
 * back, in free order (single-threaded: one order), identical under every
 * allocator.
 *
 * Parameters: live (slots), min_kib, max_kib, touches, ops.  No threads:
 * malloc-large is single-threaded.
 */
#include "workloads/rng.h"
#include "workloads/workload.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

enum { ML_LIVE, ML_MIN_KIB, ML_MAX_KIB, ML_TOUCHES, ML_OPS };

static const hl_param_spec ml_params[] = {
    [ML_LIVE] = {"live", "large blocks alive at once (slots)", 20, 4, 1, 100000},
    [ML_MIN_KIB] = {"min_kib", "smallest block, KiB", 5 * 1024, 256, 1, INT64_C(1) << 24},
    [ML_MAX_KIB] = {"max_kib", "largest block, KiB", 25 * 1024, 1024, 1, INT64_C(1) << 24},
    [ML_TOUCHES] = {"touches", "places touched between a block's first and last 8 bytes", 6, 6, 0,
                    4096},
    [ML_OPS] = {"ops", "large allocations (each with its free) per run", 20000, 200, 1,
                INT64_C(1000000000000)},
};

static const hl_variant_spec ml_variants[] = {
    {"default", "sizes uniform in [min_kib, max_kib] KiB, to the byte"},
};

/* Checked by the harness before any cell runs. */
static const hl_param_order ml_orders[] = {{ML_MIN_KIB, ML_MAX_KIB}};

typedef struct ml_slot {
    unsigned char *p;
    size_t size;
    uint64_t id; /* names its cookies */
} ml_slot;

typedef struct mlarge {
    const hl_allocator *alloc;
    uint64_t seed;
    uint32_t live, touches;
    size_t min, span; /* sizes are min + [0, span) bytes */
    ml_slot *slots;
    uint64_t next_id;
    uint64_t ops_done;
    uint64_t checksum;
    hl_rng rng;
} mlarge;

static uint64_t ml_ops(const hl_workload_config *cfg)
{
    return (uint64_t)cfg->params[ML_OPS];
}

/* Offset of touch place j (0 .. touches + 1) in a block of `size` bytes. */
static inline size_t ml_place(const mlarge *m, size_t size, uint32_t j)
{
    return ((size - 8) / (m->touches + 1) * j) & ~(size_t)7;
}

static inline uint64_t ml_cookie(const mlarge *m, uint64_t id, uint32_t j)
{
    return hl_mix64(id ^ m->seed) + j * 0x9e3779b97f4a7c15ull;
}

static int ml_make(mlarge *m, ml_slot *s, size_t size, hl_error *err)
{
    unsigned char *p = hl_alloc(m->alloc, size);
    if (p == NULL)
        return hl_fail(err, "out of memory: allocation of %zu bytes failed after %" PRIu64
                       " operations", size, m->ops_done);
    s->p = p;
    s->size = size;
    s->id = m->next_id++;
    for (uint32_t j = 0; j <= m->touches; j++) {
        uint64_t c = ml_cookie(m, s->id, j);
        memcpy(p + ml_place(m, size, j), &c, 8);
    }
    uint64_t last = ml_cookie(m, s->id, m->touches + 1);
    memcpy(p + size - 8, &last, 8);
    return 0;
}

/* Check s's cookies, fold the first into the checksum and free the block
 * (a corrupted one too; then -1 with err set). */
static int ml_drop(mlarge *m, ml_slot *s, hl_error *err)
{
    int rc = 0;
    for (uint32_t j = 0; j <= m->touches + 1 && rc == 0; j++) {
        size_t at = j == m->touches + 1 ? s->size - 8 : ml_place(m, s->size, j);
        uint64_t got, want = ml_cookie(m, s->id, j);
        memcpy(&got, s->p + at, 8);
        if (got != want)
            rc = hl_fail(err, "corrupted block %p (%zu bytes): %016" PRIx64 " at offset %zu, "
                         "expected %016" PRIx64, (void *)s->p, s->size, got, at, want);
        if (j == 0)
            m->checksum = (m->checksum ^ got) * 0x100000001b3ull;
    }
    hl_free(m->alloc, s->p, s->size);
    s->p = NULL;
    return rc;
}

static inline size_t ml_draw_size(mlarge *m)
{
    uint64_t r = hl_rng_next(&m->rng);
    return m->min + (size_t)(r % m->span);
}

static int ml_setup(const hl_workload_config *cfg, void **state, hl_error *err)
{
    const int64_t *p = cfg->params;
    if (p[ML_MIN_KIB] > p[ML_MAX_KIB])
        return hl_fail(err, "mlarge: min_kib (%" PRId64 ") is larger than max_kib (%" PRId64 ")",
                       p[ML_MIN_KIB], p[ML_MAX_KIB]);
    mlarge *m = calloc(1, sizeof *m);
    if (m == NULL)
        return hl_fail(err, "out of memory for the mlarge state");
    m->alloc = cfg->alloc;
    m->seed = cfg->seed;
    m->live = (uint32_t)p[ML_LIVE];
    m->touches = (uint32_t)p[ML_TOUCHES];
    m->min = (size_t)p[ML_MIN_KIB] * 1024;
    m->span = (size_t)(p[ML_MAX_KIB] - p[ML_MIN_KIB]) * 1024 + 1;
    if ((m->min - 8) / (m->touches + 1) < 8) {
        free(m);
        return hl_fail(err, "mlarge: %" PRId64 " touches do not fit 8 bytes apart in a block of %"
                       PRId64 " KiB", p[ML_TOUCHES], p[ML_MIN_KIB]);
    }
    hl_rng_seed(&m->rng, cfg->seed);
    *state = m; /* from here on, finish() releases everything */
    m->slots = hl_untracked_alloc(sizeof(ml_slot) * m->live);
    if (m->slots == NULL)
        return hl_fail(err, "out of memory for %" PRIu32 " slots", m->live);
    for (uint32_t k = 0; k < m->live; k++)
        if (ml_make(m, &m->slots[k], ml_draw_size(m), err) != 0)
            return -1;
    return 0;
}

static int ml_step(void *state, uint64_t n, hl_error *err)
{
    mlarge *m = state;
    for (uint64_t i = 0; i < n; i++) {
        ml_slot *s = &m->slots[hl_rng_below((uint32_t)(hl_rng_next(&m->rng) >> 32), m->live)];
        if (ml_drop(m, s, err) != 0 || ml_make(m, s, ml_draw_size(m), err) != 0)
            return -1;
        m->ops_done++;
    }
    return 0;
}

static int ml_finish(void *state, hl_workload_result *res, hl_error *err)
{
    mlarge *m = state;
    int rc = 0;
    for (uint32_t k = 0; m->slots != NULL && k < m->live; k++)
        if (m->slots[k].p != NULL && ml_drop(m, &m->slots[k], err) != 0)
            rc = -1; /* keep freeing: leave nothing behind */
    res->ops = m->ops_done;
    res->checksum = m->checksum;
    if (m->slots != NULL)
        hl_untracked_free(m->slots, sizeof(ml_slot) * m->live);
    free(m);
    return rc;
}

static const hl_workload_ops ml_ops_table = {
    .name = "mlarge",
    .description = "malloc-large: a few live blocks of megabytes, a random one replaced by a "
                   "block of another size each op",
    .default_collector = "manual",
    .gc_needs = HL_GC_MANUAL, /* raw bytes: manual only */
    .params = ml_params,
    .nparams = sizeof ml_params / sizeof ml_params[0],
    .variants = ml_variants,
    .nvariants = sizeof ml_variants / sizeof ml_variants[0],
    .orders = ml_orders,
    .norders = sizeof ml_orders / sizeof ml_orders[0],
    .ops = ml_ops,
    .setup = ml_setup,
    .step = ml_step,
    .finish = ml_finish,
};

const hl_workload_ops *hl_mlarge_workload(void)
{
    return &ml_ops_table;
}
