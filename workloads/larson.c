/*
 * larson.c - `--workload=larson`: a multithreaded server's heap, after
 * Larson and Krishnan.
 *
 * What it models: a server whose worker threads each keep a set of live
 * blocks of random sizes and keep replacing them (requests arriving and
 * leaving), while now and then a block allocated by one thread is freed by
 * another (work handed from thread to thread).  Larson and Krishnan, "Memory
 * allocation for long-running server applications", ISMM 1998; the version
 * in Hoard's benchmarks and mimalloc-bench (`larson 5 8 1000 5000 100 4141
 * N`: blocks of 8-1000 B, 5000 per thread) runs for a fixed time and hands a
 * thread's blocks to the thread that replaces it when it exits.  Here the
 * work is fixed instead, and the hand-over is made explicit and
 * deterministic:
 *
 *     slots: one shared array, `slots` per thread, in `threads` regions
 *
 *       round 0:  thread 0 -> region 0   thread 1 -> region 1   ...
 *       round 1:  thread 0 -> region 1   thread 1 -> region 2   ...
 *       round r:  thread t works on region (t + r) mod threads
 *
 * Within a round each thread owns one region and nobody else touches it; at
 * a round boundary every region passes to the next thread, which then frees
 * the blocks its neighbour allocated.  With `round` operations per thread
 * per round and `slots` slots a region, about slots * (1 - e^(-round/slots))
 * of a round's frees are remote (nearly all slots once round >= 3 * slots):
 * with the defaults, ~10% of all frees.  The `remote_frees` figure counts
 * them exactly.
 *
 * One op = one free plus one allocation: pick a random slot of the thread's
 * region, check and free its block, allocate a block of random size in
 * [min, max] there and write it.  Operation i of the run (0-based, over all
 * threads) is performed by thread i mod threads, so `ops` is the total work,
 * split evenly, and the same for every thread count (strong scaling: ideal
 * ns/op halves when threads double).  Operation i's block size and cookie
 * derive from the seed and i alone; each thread picks its slots from its
 * own generator (seed + thread index).
 *
 * Threads: `threads` workers (the calling thread is worker 0, so threads=1
 * runs on the caller with no other thread and is safe under every
 * allocator).  Workers are started in setup, each fills its own region
 * (untimed), and they stay for the whole run; step(n) hands the next n
 * operations to all of them, split at round boundaries, and waits.
 *
 * Each block is written when allocated: a cookie in its first 8 bytes and
 * the cookie's complement-with-magic in its last 8 (blocks under 16 bytes
 * hold the first cookie only), both checked before it is freed.  The
 * checksum is the sum (mod 2^64) of the head cookies read back from every
 * block an operation allocated - a commutative fold, so it is the same under
 * every allocator, every thread count and every interleaving.  Blocks of
 * the initial fill (whose number depends on the thread count) are checked
 * but not summed.
 *
 * Parameters: threads, slots (per thread), min, max (block sizes in bytes),
 * round (operations each thread performs on one region before handing it
 * on), ops (total).
 */
#include "workloads/crew.h"
#include "workloads/rng.h"
#include "workloads/workload.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

enum { LARSON_THREADS, LARSON_SLOTS, LARSON_MIN, LARSON_MAX, LARSON_ROUND, LARSON_OPS };

static const hl_param_spec larson_params[] = {
    [LARSON_THREADS] = {"threads", "worker threads, each with its own region of slots", 1, 1, 1,
                        256},
    [LARSON_SLOTS] = {"slots", "live blocks per thread (the region's size)", 5000, 500, 1,
                      10000000},
    [LARSON_MIN] = {"min", "smallest block, bytes", 8, 8, 8, 1 << 20},
    [LARSON_MAX] = {"max", "largest block, bytes", 1000, 1000, 8, 1 << 20},
    [LARSON_ROUND] = {"round", "operations per thread before its region passes to the next thread",
                      50000, 5000, 1, INT64_C(1000000000000)},
    [LARSON_OPS] = {"ops", "operations (free + allocation) per run, over all threads", 20000000,
                    200000, 1, INT64_C(1000000000000)},
};

static const hl_variant_spec larson_variants[] = {
    {"default", "random sizes in [min, max], regions handed on every round"},
};

/* Checked by the harness before any cell runs. */
static const hl_param_order larson_orders[] = {{LARSON_MIN, LARSON_MAX}};

#define LARSON_TAIL_MAGIC 0x5a5a5a5a5a5a5a5aull
#define LARSON_FILL_SALT 0x6c6172736f6e2d66ull /* separates fill cookies from op cookies */
#define LARSON_FILL_ID (UINT64_C(1) << 63)     /* marks a slot's id as a fill index */

typedef struct larson_slot {
    unsigned char *p;
    uint64_t id; /* the operation that allocated the block, or FILL_ID | slot index */
    uint32_t size;
    uint32_t owner; /* the thread that allocated it */
} larson_slot;

/* One worker's state, a cache line of its own. */
typedef struct larson_thread {
    _Alignas(64) unsigned index;
    hl_rng rng;           /* picks slots: seeded with seed + index */
    uint64_t sum;         /* of op blocks' head cookies read back */
    uint64_t remote_frees;
} larson_thread;

/* What a dispatch asks every worker to do. */
enum { LARSON_JOB_FILL, LARSON_JOB_OPS };

typedef struct larson {
    const hl_allocator *alloc;
    uint64_t key; /* hl_mix64(seed): keys every cookie */
    unsigned nthreads;
    uint32_t slots_per_thread;
    uint32_t min, span; /* sizes are min + [0, span) */
    uint64_t round_ops; /* operations per round, over all threads */
    larson_slot *slots;
    larson_thread *threads;
    uint64_t ops_done;

    /* The job of the current dispatch; written before the generation moves. */
    int job;
    uint64_t job_begin, job_end, job_round;

    hl_crew crew; /* runs larson_job on every thread */
} larson;

static uint64_t larson_ops(const hl_workload_config *cfg)
{
    return (uint64_t)cfg->params[LARSON_OPS];
}

/* Block `id`'s cookie.  Keyed by a hash of the seed, added: the checksum
 * sums cookies over a range of ids, and a key XORed in would only permute
 * that range for seeds that differ in low bits. */
static inline uint64_t larson_cookie(const larson *l, uint64_t id)
{
    return hl_mix64(id + (id & LARSON_FILL_ID ? l->key ^ LARSON_FILL_SALT : l->key));
}

static inline uint32_t larson_size_of(const larson *l, uint64_t r)
{
    return l->min + hl_rng_below((uint32_t)(r >> 32), l->span);
}

/* Allocate the block called `id` of `size` bytes into s, written. */
static inline int larson_make(larson *l, larson_thread *t, larson_slot *s, uint64_t id,
                              uint32_t size, hl_error *err)
{
    unsigned char *p = hl_alloc(l->alloc, size);
    if (__builtin_expect(p == NULL, 0))
        return hl_fail(err, "out of memory: allocation of %" PRIu32 " bytes failed in thread %u",
                       size, t->index);
    uint64_t cookie = larson_cookie(l, id);
    memcpy(p, &cookie, 8);
    if (size >= 16) {
        cookie ^= LARSON_TAIL_MAGIC;
        memcpy(p + size - 8, &cookie, 8);
    }
    s->p = p;
    s->id = id;
    s->size = size;
    s->owner = t->index;
    return 0;
}

/* Check slot s's block, count it and free it (a corrupted one too, so that
 * nothing leaks; then -1 with err set).  `t` is the freeing thread. */
static inline int larson_drop(larson *l, larson_thread *t, larson_slot *s, uint64_t *sum,
                              hl_error *err)
{
    uint64_t want = larson_cookie(l, s->id), head, tail = want ^ LARSON_TAIL_MAGIC;
    memcpy(&head, s->p, 8);
    if (s->size >= 16)
        memcpy(&tail, s->p + s->size - 8, 8);
    int rc = 0;
    if (__builtin_expect(head != want || tail != (want ^ LARSON_TAIL_MAGIC), 0))
        rc = hl_fail(err, "corrupted block %p (%" PRIu32 " bytes): cookies %016" PRIx64
                     "/%016" PRIx64 ", expected %016" PRIx64, (void *)s->p, s->size, head, tail,
                     want);
    else if (!(s->id & LARSON_FILL_ID))
        *sum += head;
    if (s->owner != t->index)
        t->remote_frees++;
    hl_free(l->alloc, s->p, s->size);
    s->p = NULL;
    return rc;
}

/* Fill thread t's own region (region t) with blocks of random sizes. */
static int larson_fill(larson *l, larson_thread *t, hl_error *err)
{
    larson_slot *region = l->slots + (size_t)t->index * l->slots_per_thread;
    for (uint32_t k = 0; k < l->slots_per_thread; k++) {
        uint64_t slot = (uint64_t)t->index * l->slots_per_thread + k;
        uint32_t size = larson_size_of(l, hl_rng_next(&t->rng));
        if (larson_make(l, t, &region[k], LARSON_FILL_ID | slot, size, err) != 0)
            return -1;
    }
    return 0;
}

/* Thread t's share of operations [job_begin, job_end), all in one round:
 * those i with i mod nthreads == t, in order. */
static int larson_run_ops(larson *l, larson_thread *t, hl_error *err)
{
    uint64_t n = l->nthreads;
    uint64_t i = l->job_begin + (t->index + n - l->job_begin % n) % n;
    larson_slot *region = l->slots + (size_t)((t->index + l->job_round) % n) * l->slots_per_thread;
    for (; i < l->job_end; i += n) {
        larson_slot *s = &region[hl_rng_below((uint32_t)(hl_rng_next(&t->rng) >> 32),
                                              l->slots_per_thread)];
        if (larson_drop(l, t, s, &t->sum, err) != 0)
            return -1;
        if (larson_make(l, t, s, i, larson_size_of(l, larson_cookie(l, i)), err) != 0)
            return -1;
    }
    return 0;
}

/* The crew's job: thread `worker`'s part of the current dispatch. */
static int larson_job(void *ctx, unsigned worker, hl_error *err)
{
    larson *l = ctx;
    larson_thread *t = &l->threads[worker];
    return l->job == LARSON_JOB_FILL ? larson_fill(l, t, err) : larson_run_ops(l, t, err);
}

static int larson_setup(const hl_workload_config *cfg, void **state, hl_error *err)
{
    const int64_t *p = cfg->params;
    if (p[LARSON_MIN] > p[LARSON_MAX])
        return hl_fail(err, "larson: min (%" PRId64 ") is larger than max (%" PRId64 ")",
                       p[LARSON_MIN], p[LARSON_MAX]);
    larson *l = calloc(1, sizeof *l);
    if (l == NULL)
        return hl_fail(err, "out of memory for the larson state");
    l->alloc = cfg->alloc;
    l->key = hl_mix64(cfg->seed);
    l->nthreads = (unsigned)p[LARSON_THREADS];
    l->slots_per_thread = (uint32_t)p[LARSON_SLOTS];
    l->min = (uint32_t)p[LARSON_MIN];
    l->span = (uint32_t)(p[LARSON_MAX] - p[LARSON_MIN] + 1);
    l->round_ops = (uint64_t)p[LARSON_ROUND] * l->nthreads;
    l->slots = hl_untracked_alloc(sizeof(larson_slot) * l->slots_per_thread * l->nthreads);
    l->threads = hl_untracked_alloc(sizeof(larson_thread) * l->nthreads);
    *state = l; /* from here on, finish() releases everything */
    if (l->slots == NULL || l->threads == NULL)
        return hl_fail(err, "out of memory for %u x %" PRIu32 " slots", l->nthreads,
                       l->slots_per_thread);
    for (unsigned k = 0; k < l->nthreads; k++) {
        l->threads[k].index = k;
        hl_rng_seed(&l->threads[k].rng, cfg->seed + k);
    }
    if (hl_crew_start(&l->crew, "larson", l->nthreads, larson_job, l, err) != 0)
        return -1;
    l->job = LARSON_JOB_FILL;
    return hl_crew_run(&l->crew, err);
}

static int larson_step(void *state, uint64_t n, hl_error *err)
{
    larson *l = state;
    while (n > 0) {
        /* Regions change hands only between dispatches: cut at rounds. */
        uint64_t round = l->ops_done / l->round_ops;
        uint64_t chunk = (round + 1) * l->round_ops - l->ops_done;
        if (chunk > n)
            chunk = n;
        l->job = LARSON_JOB_OPS;
        l->job_begin = l->ops_done;
        l->job_end = l->ops_done + chunk;
        l->job_round = round;
        if (hl_crew_run(&l->crew, err) != 0)
            return -1;
        l->ops_done += chunk;
        n -= chunk;
    }
    return 0;
}

static int larson_finish(void *state, hl_workload_result *res, hl_error *err)
{
    larson *l = state;
    int rc = 0;
    hl_crew_stop(&l->crew);
    uint64_t remote = 0, sum = 0;
    if (l->slots != NULL && l->threads != NULL) {
        for (unsigned k = 0; k < l->nthreads; k++) {
            sum += l->threads[k].sum;
            remote += l->threads[k].remote_frees;
        }
        /* The calling thread frees what is left, in the role of thread 0;
         * these teardown frees are not counted as remote. */
        larson_thread *t = &l->threads[0];
        size_t nslots = (size_t)l->slots_per_thread * l->nthreads;
        hl_error drop_err;
        for (size_t k = 0; k < nslots; k++)
            if (l->slots[k].p != NULL && larson_drop(l, t, &l->slots[k], &sum, &drop_err) != 0) {
                if (rc == 0)
                    *err = drop_err;
                rc = -1; /* keep freeing: leave nothing behind */
            }
    }
    res->ops = l->ops_done;
    res->checksum = sum;
    hl_stats_add(&res->figures, "remote_frees", "frees", (double)remote);
    if (l->slots != NULL)
        hl_untracked_free(l->slots, sizeof(larson_slot) * l->slots_per_thread * l->nthreads);
    if (l->threads != NULL)
        hl_untracked_free(l->threads, sizeof(larson_thread) * l->nthreads);
    free(l);
    return rc;
}

static const hl_workload_ops larson_ops_table = {
    .name = "larson",
    .description = "Larson's server: threads replace random-size blocks in their own region, "
                   "regions handed to the next thread every round",
    .default_collector = "manual",
    .gc_needs = HL_GC_MANUAL, /* raw bytes: manual only */
    .params = larson_params,
    .nparams = sizeof larson_params / sizeof larson_params[0],
    .variants = larson_variants,
    .nvariants = sizeof larson_variants / sizeof larson_variants[0],
    .orders = larson_orders,
    .norders = sizeof larson_orders / sizeof larson_orders[0],
    .batch = 65536,
    .ops = larson_ops,
    .setup = larson_setup,
    .step = larson_step,
    .finish = larson_finish,
};

const hl_workload_ops *hl_larson_workload(void)
{
    return &larson_ops_table;
}
