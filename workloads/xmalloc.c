/*
 * xmalloc.c - `--workload=xmalloc`: producer/consumer allocation, every
 * block freed by a thread that did not allocate it.
 *
 * What it models: a pipeline - a network thread that allocates request
 * buffers and hands them to a worker that frees them, a logger's queue - in
 * which one thread allocates and another frees.  Allocators with per-thread
 * caches must send each block back to its owner (or let caches drift and
 * memory blow up: Hoard's "blowup").  Source: xmalloc-test (Lever and
 * Boreham, "malloc() Performance in a Multithreaded Linux Environment",
 * USENIX 2000; the version in mimalloc-bench, `xmalloc-test -w N -t 5 -s
 * 64`), whose allocating threads fill batches of blocks and pass them to
 * freeing threads.  Here the work is fixed instead of timed.
 *
 *     pair p:  producer --[batch ring: `queue` batches of `batch` blocks]--> consumer
 *
 * One op = one block produced (allocated, written, queued) and consumed
 * (checked, freed).  Block i of the run (0-based) belongs to pair i mod
 * threads; its size (uniform in [min, max]) and cookie derive from the seed
 * and i alone, so the total work and the checksum do not depend on the
 * thread count.
 *
 * Threads: `threads` is the number of producer/consumer PAIRS.  With
 * threads >= 2 there are 2 x threads OS threads (the calling thread is
 * producer 0), each producer filling batches and each consumer emptying
 * them concurrently.  With threads = 1 the one pair shares the calling
 * thread: it produces up to `queue` batches, then consumes them, and so on -
 * the same blocks, sizes and live set with no concurrency and no
 * cross-thread free, safe under every allocator: the single-threaded
 * baseline the threaded runs are compared with.  Workers start in setup and
 * stay for the run; step(n) hands out blocks [done, done + n) and waits
 * until every one has been freed, so nothing is in flight between steps.
 *
 * Each block gets a cookie in its first 8 bytes and the cookie with a magic
 * in its last 8 (blocks under 16 bytes: the first only), checked by the
 * consumer before the free.  The checksum is the sum (mod 2^64) of the head
 * cookies the consumers read back: the same under every allocator, thread
 * count and interleaving.
 *
 * Parameters: threads (pairs), min, max (block size, bytes), batch (blocks
 * per hand-off), queue (batches in flight per pair), ops.
 */
#include "workloads/crew.h"
#include "workloads/rng.h"
#include "workloads/workload.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum { XM_THREADS, XM_MIN, XM_MAX, XM_BATCH, XM_QUEUE, XM_OPS };

static const hl_param_spec xm_params[] = {
    [XM_THREADS] = {"threads", "producer/consumer pairs (2 OS threads each when > 1; "
                               "1 = one thread in both roles)", 1, 1, 1, 128},
    [XM_MIN] = {"min", "smallest block, bytes", 64, 64, 8, 1 << 20},
    [XM_MAX] = {"max", "largest block, bytes", 64, 64, 8, 1 << 20},
    [XM_BATCH] = {"batch", "blocks per batch handed from producer to consumer", 256, 64, 1,
                  1 << 20},
    [XM_QUEUE] = {"queue", "batches in flight per pair (the ring's length)", 4, 4, 1, 1024},
    [XM_OPS] = {"ops", "blocks produced and freed per run, over all pairs", 20000000, 100000, 1,
                INT64_C(1000000000000)},
};

static const hl_variant_spec xm_variants[] = {
    {"default", "sizes uniform in [min, max] (64 B: xmalloc-test -s 64)"},
};

/* Checked by the harness before any cell runs. */
static const hl_param_order xm_orders[] = {{XM_MIN, XM_MAX}};

#define XM_TAIL_MAGIC 0x3c3c3c3c3c3c3c3cull

typedef struct xm_entry {
    unsigned char *p; /* NULL once freed */
    uint64_t index;   /* the block's number in the run */
} xm_entry;

/* One slot of a pair's ring.  `count` entries are filled; `full` says the
 * producer has handed it over.  The producer owns it while !full, the
 * consumer while full (under the pair's mutex). */
typedef struct xm_batch {
    xm_entry *entries;
    uint32_t count;
    int full;
} xm_batch;

/* A producer/consumer pair and its ring. */
typedef struct xm_pair {
    _Alignas(64) pthread_mutex_t mu;
    pthread_cond_t changed;
    xm_batch *ring;
    uint64_t produced_batches, consumed_batches; /* each side's own sequence */
    int aborted; /* one side failed: the other stops waiting */
} xm_pair;

/* One OS thread's state: producers are 0..pairs-1, consumers pairs..2*pairs-1. */
typedef struct xm_thread {
    _Alignas(64) unsigned index;
    uint64_t sum; /* of head cookies read back (consumers) */
} xm_thread;

typedef struct xmalloc {
    const hl_allocator *alloc;
    uint64_t key; /* hl_mix64(seed): keys every cookie */
    unsigned npairs, nthreads; /* nthreads = 1 or 2 * npairs */
    uint32_t min, span;
    uint32_t batch, queue;
    xm_pair *pairs;
    xm_thread *threads;
    xm_entry *entries; /* every ring slot's entries, one block */
    uint64_t ops_done;

    uint64_t job_begin, job_end; /* blocks of the current dispatch */
    int pairs_ready;             /* the pairs' mutexes and condition variables exist */

    hl_crew crew; /* runs xm_job on every thread */
} xmalloc;

static uint64_t xm_ops(const hl_workload_config *cfg)
{
    return (uint64_t)cfg->params[XM_OPS];
}

/* Block i's cookie.  Keyed by a hash of the seed, added: the checksum sums
 * cookies over a range of i, and a key XORed in would only permute that
 * range for seeds that differ in low bits. */
static inline uint64_t xm_cookie(const xmalloc *x, uint64_t i)
{
    return hl_mix64(i + x->key);
}

static inline uint32_t xm_size(const xmalloc *x, uint64_t cookie)
{
    return x->min + hl_rng_below((uint32_t)(cookie >> 32), x->span);
}

/* Blocks of the current dispatch that belong to pair p: the first one and
 * how many. */
static uint64_t xm_share(const xmalloc *x, unsigned p, uint64_t *first)
{
    uint64_t n = x->npairs, b = x->job_begin;
    *first = b + (p + n - b % n) % n;
    return *first < x->job_end ? (x->job_end - *first + n - 1) / n : 0;
}

/* Allocate and write block i into e. */
static inline int xm_make(xmalloc *x, xm_entry *e, uint64_t i, hl_error *err)
{
    uint64_t cookie = xm_cookie(x, i);
    uint32_t size = xm_size(x, cookie);
    unsigned char *p = hl_alloc(x->alloc, size);
    if (__builtin_expect(p == NULL, 0))
        return hl_fail(err, "out of memory: allocation of %" PRIu32 " bytes failed (block %"
                       PRIu64 ")", size, i);
    memcpy(p, &cookie, 8);
    if (size >= 16) {
        cookie ^= XM_TAIL_MAGIC;
        memcpy(p + size - 8, &cookie, 8);
    }
    e->p = p;
    e->index = i;
    return 0;
}

/* Check e's block, add its cookie to t's sum and free it (a corrupted one
 * too; then -1 with err set). */
static inline int xm_drop(xmalloc *x, xm_thread *t, xm_entry *e, hl_error *err)
{
    uint64_t want = xm_cookie(x, e->index), head, tail = want ^ XM_TAIL_MAGIC;
    uint32_t size = xm_size(x, want);
    memcpy(&head, e->p, 8);
    if (size >= 16)
        memcpy(&tail, e->p + size - 8, 8);
    int rc = 0;
    if (__builtin_expect(head != want || tail != (want ^ XM_TAIL_MAGIC), 0))
        rc = hl_fail(err, "corrupted block %p (%" PRIu32 " bytes, block %" PRIu64 "): "
                     "cookies %016" PRIx64 "/%016" PRIx64 ", expected %016" PRIx64, (void *)e->p,
                     size, e->index, head, tail, want);
    else
        t->sum += head;
    hl_free(x->alloc, e->p, size);
    e->p = NULL;
    return rc;
}

/* Fill ring slot b with up to `batch` of pair p's blocks, starting at *next
 * (stepping by npairs), `*left` of them still to make. */
static int xm_fill_batch(xmalloc *x, xm_batch *b, uint64_t *next, uint64_t *left,
                         hl_error *err)
{
    while (b->count < x->batch && *left > 0) {
        if (xm_make(x, &b->entries[b->count], *next, err) != 0)
            return -1;
        b->count++;
        *next += x->npairs;
        --*left;
    }
    return 0;
}

/* Check and free every block of ring slot b (on failure, err holds the
 * last corrupted block's error). */
static int xm_empty_batch(xmalloc *x, xm_thread *t, xm_batch *b, hl_error *err)
{
    int rc = 0;
    for (uint32_t k = 0; k < b->count; k++)
        if (b->entries[k].p != NULL && xm_drop(x, t, &b->entries[k], err) != 0)
            rc = -1; /* free the rest of the batch all the same */
    b->count = 0;
    return rc;
}

/* threads = 1: the pair's two roles take turns on the calling thread. */
static int xm_run_alone(xmalloc *x, xm_thread *t, hl_error *err)
{
    xm_pair *pr = &x->pairs[0];
    uint64_t next, left = xm_share(x, 0, &next);
    while (left > 0) {
        while (left > 0 && pr->produced_batches - pr->consumed_batches < x->queue) {
            xm_batch *b = &pr->ring[pr->produced_batches % x->queue];
            if (xm_fill_batch(x, b, &next, &left, err) != 0)
                return -1;
            b->full = 1;
            pr->produced_batches++;
        }
        while (pr->consumed_batches < pr->produced_batches) {
            xm_batch *b = &pr->ring[pr->consumed_batches % x->queue];
            if (xm_empty_batch(x, t, b, err) != 0)
                return -1;
            b->full = 0;
            pr->consumed_batches++;
        }
    }
    return 0;
}

/* Mark pair p failed and wake its other side. */
static void xm_abort(xm_pair *pr)
{
    pthread_mutex_lock(&pr->mu);
    pr->aborted = 1;
    pthread_cond_broadcast(&pr->changed);
    pthread_mutex_unlock(&pr->mu);
}

static int xm_run_producer(xmalloc *x, xm_thread *t, hl_error *err)
{
    unsigned p = t->index;
    xm_pair *pr = &x->pairs[p];
    uint64_t next, left = xm_share(x, p, &next);
    while (left > 0) {
        xm_batch *b = &pr->ring[pr->produced_batches % x->queue];
        pthread_mutex_lock(&pr->mu);
        while (b->full && !pr->aborted)
            pthread_cond_wait(&pr->changed, &pr->mu);
        int aborted = pr->aborted;
        pthread_mutex_unlock(&pr->mu);
        if (aborted)
            return hl_fail(err, "xmalloc: pair %u stopped: its consumer failed", p);
        int rc = xm_fill_batch(x, b, &next, &left, err);
        pthread_mutex_lock(&pr->mu);
        b->full = 1; /* even a part-filled batch, so that it is freed */
        pr->produced_batches++;
        pthread_cond_broadcast(&pr->changed);
        pthread_mutex_unlock(&pr->mu);
        if (rc != 0) {
            xm_abort(pr);
            return -1;
        }
    }
    return 0;
}

static int xm_run_consumer(xmalloc *x, xm_thread *t, hl_error *err)
{
    unsigned p = t->index - x->npairs;
    xm_pair *pr = &x->pairs[p];
    uint64_t first, left = xm_share(x, p, &first);
    while (left > 0) {
        xm_batch *b = &pr->ring[pr->consumed_batches % x->queue];
        pthread_mutex_lock(&pr->mu);
        while (!b->full && !pr->aborted)
            pthread_cond_wait(&pr->changed, &pr->mu);
        int aborted = pr->aborted && !b->full;
        pthread_mutex_unlock(&pr->mu);
        if (aborted)
            return hl_fail(err, "xmalloc: pair %u stopped: its producer failed", p);
        uint32_t count = b->count;
        int rc = xm_empty_batch(x, t, b, err);
        pthread_mutex_lock(&pr->mu);
        b->full = 0;
        pr->consumed_batches++;
        pthread_cond_broadcast(&pr->changed);
        pthread_mutex_unlock(&pr->mu);
        if (rc != 0) {
            xm_abort(pr);
            return -1;
        }
        left -= count < left ? count : left;
    }
    return 0;
}

/* The crew's job: thread `worker`'s role in the current dispatch. */
static int xm_job(void *ctx, unsigned worker, hl_error *err)
{
    xmalloc *x = ctx;
    xm_thread *t = &x->threads[worker];
    if (x->nthreads == 1)
        return xm_run_alone(x, t, err);
    if (t->index < x->npairs)
        return xm_run_producer(x, t, err);
    return xm_run_consumer(x, t, err);
}

static size_t xm_entries_bytes(const xmalloc *x)
{
    return sizeof(xm_entry) * x->batch * x->queue * x->npairs;
}

static int xm_setup(const hl_workload_config *cfg, void **state, hl_error *err)
{
    const int64_t *p = cfg->params;
    if (p[XM_MIN] > p[XM_MAX])
        return hl_fail(err, "xmalloc: min (%" PRId64 ") is larger than max (%" PRId64 ")",
                       p[XM_MIN], p[XM_MAX]);
    xmalloc *x = calloc(1, sizeof *x);
    if (x == NULL)
        return hl_fail(err, "out of memory for the xmalloc state");
    x->alloc = cfg->alloc;
    x->key = hl_mix64(cfg->seed);
    x->npairs = (unsigned)p[XM_THREADS];
    x->nthreads = x->npairs == 1 ? 1 : 2 * x->npairs;
    x->min = (uint32_t)p[XM_MIN];
    x->span = (uint32_t)(p[XM_MAX] - p[XM_MIN] + 1);
    x->batch = (uint32_t)p[XM_BATCH];
    x->queue = (uint32_t)p[XM_QUEUE];
    *state = x; /* from here on, finish() releases everything */
    x->pairs = hl_untracked_alloc(sizeof(xm_pair) * x->npairs);
    x->threads = hl_untracked_alloc(sizeof(xm_thread) * x->nthreads);
    x->entries = hl_untracked_alloc(xm_entries_bytes(x));
    for (unsigned k = 0; x->pairs != NULL && k < x->npairs; k++)
        x->pairs[k].ring = hl_untracked_alloc(sizeof(xm_batch) * x->queue);
    for (unsigned k = 0; x->pairs != NULL && k < x->npairs; k++)
        if (x->pairs[k].ring == NULL)
            return hl_fail(err, "out of memory for the xmalloc rings");
    if (x->pairs == NULL || x->threads == NULL || x->entries == NULL)
        return hl_fail(err, "out of memory for the xmalloc rings");
    xm_entry *e = x->entries;
    for (unsigned k = 0; k < x->npairs; k++) {
        pthread_mutex_init(&x->pairs[k].mu, NULL);
        pthread_cond_init(&x->pairs[k].changed, NULL);
        for (uint32_t q = 0; q < x->queue; q++, e += x->batch)
            x->pairs[k].ring[q].entries = e;
    }
    x->pairs_ready = 1;
    for (unsigned k = 0; k < x->nthreads; k++)
        x->threads[k].index = k;
    return hl_crew_start(&x->crew, "xmalloc", x->nthreads, xm_job, x, err);
}

static int xm_step(void *state, uint64_t n, hl_error *err)
{
    xmalloc *x = state;
    x->job_begin = x->ops_done;
    x->job_end = x->ops_done + n;
    if (hl_crew_run(&x->crew, err) != 0)
        return -1;
    x->ops_done += n;
    return 0;
}

static int xm_finish(void *state, hl_workload_result *res, hl_error *err)
{
    xmalloc *x = state;
    int rc = 0;
    hl_crew_stop(&x->crew);
    uint64_t sum = 0;
    if (x->pairs != NULL && x->threads != NULL && x->entries != NULL) {
        /* After a failure, blocks may be left in the rings: free them here,
         * in the role of thread 0. */
        hl_error drop_err;
        for (unsigned k = 0; k < x->npairs; k++)
            for (uint32_t q = 0; x->pairs[k].ring != NULL && q < x->queue; q++)
                if (xm_empty_batch(x, &x->threads[0], &x->pairs[k].ring[q], &drop_err) != 0 &&
                    rc == 0) {
                    *err = drop_err;
                    rc = -1;
                }
        for (unsigned k = 0; k < x->nthreads; k++)
            sum += x->threads[k].sum;
    }
    res->ops = x->ops_done;
    res->checksum = sum;
    hl_stats_add(&res->figures, "cross_thread_frees", "frees",
                 x->nthreads > 1 ? (double)x->ops_done : 0.0);
    if (x->pairs != NULL) {
        for (unsigned k = 0; k < x->npairs; k++) {
            if (x->pairs[k].ring == NULL)
                continue;
            if (x->pairs_ready) {
                pthread_cond_destroy(&x->pairs[k].changed);
                pthread_mutex_destroy(&x->pairs[k].mu);
            }
            hl_untracked_free(x->pairs[k].ring, sizeof(xm_batch) * x->queue);
        }
        hl_untracked_free(x->pairs, sizeof(xm_pair) * x->npairs);
    }
    if (x->threads != NULL)
        hl_untracked_free(x->threads, sizeof(xm_thread) * x->nthreads);
    if (x->entries != NULL)
        hl_untracked_free(x->entries, xm_entries_bytes(x));
    free(x);
    return rc;
}

static const hl_workload_ops xm_ops_table = {
    .name = "xmalloc",
    .description = "xmalloc-test: producer threads allocate blocks and pass them in batches to "
                   "consumer threads that free them",
    .default_collector = "manual",
    .gc_needs = HL_GC_MANUAL, /* raw bytes: manual only */
    .params = xm_params,
    .nparams = sizeof xm_params / sizeof xm_params[0],
    .variants = xm_variants,
    .nvariants = sizeof xm_variants / sizeof xm_variants[0],
    .orders = xm_orders,
    .norders = sizeof xm_orders / sizeof xm_orders[0],
    .batch = 65536,
    .ops = xm_ops,
    .setup = xm_setup,
    .step = xm_step,
    .finish = xm_finish,
};

const hl_workload_ops *hl_xmalloc_workload(void)
{
    return &xm_ops_table;
}
