/*
 * falseshare.c - `--workload=falseshare`: allocator-induced false sharing,
 * Hoard's cache-thrash and cache-scratch.
 *
 * What it models: threads that each work on their own small objects and
 * share nothing - unless the allocator puts two threads' objects on one
 * cache line, when every write by one thread invalidates the line in the
 * other's cache and both crawl.  Source: Berger, McKinley, Blumofe and
 * Wilson, "Hoard: A Scalable Memory Allocator for Multithreaded
 * Applications", ASPLOS 2000, and its benchmarks cache-thrash and
 * cache-scratch (in mimalloc-bench: `cache-scratch 1 1000 1 2000000 N`).
 *
 * Variants:
 *   thrash   active false sharing: each thread allocates its objects, writes
 *            them and frees them.  An allocator that serves several threads
 *            from one run of memory (a single heap, or a cache line split
 *            between per-thread caches) lays their objects side by side.
 *   scratch  passive false sharing: setup (on the calling thread) allocates
 *            one object per thread, side by side, and hands object t to
 *            thread t, which frees it before its first operation.  An
 *            allocator that puts a freed block in the freeing thread's cache
 *            hands it straight back to that thread's next allocation, and
 *            the threads go on sharing the line the setup gave them.
 *
 * One op = one object of `size` bytes allocated, written `writes` times
 * (every byte incremented through a volatile pointer, as Hoard's loop
 * writes it) and freed.  Operation i of the run (0-based) is performed by
 * thread i mod threads, so `ops` is the total work split evenly (Hoard's
 * `iterations`, here over all threads): without false sharing, ns/op halves
 * when threads double; with it, it does not.
 *
 * Threads: `threads` workers; the calling thread is worker 0, so threads=1
 * runs on the caller alone (no sharing is possible, and it is safe under
 * every allocator).  Workers start in setup and stay for the run; step(n)
 * hands them the next n operations and waits.
 *
 * Each object is filled with a pattern derived from the seed and i, and
 * after the writes every byte is checked (pattern + writes, mod 256) before
 * the free; the checksum is the sum (mod 2^64) of a hash of each object's
 * bytes as read back, the same under every allocator, thread count and
 * interleaving.  The handed-over objects of `scratch` are checked, not
 * summed.  The figure `shared_lines` counts the threads whose first object
 * shared a 64-byte line with another thread's first object: the cause,
 * where ns/op shows the effect.
 *
 * Parameters: threads, size (object bytes, 8 as in Hoard's runs), writes
 * (per object), ops.
 */
#include "workloads/crew.h"
#include "workloads/rng.h"
#include "workloads/workload.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

enum { FS_THREADS, FS_SIZE, FS_WRITES, FS_OPS };

static const hl_param_spec fs_params[] = {
    [FS_THREADS] = {"threads", "worker threads, each writing its own objects", 1, 1, 1, 256},
    [FS_SIZE] = {"size", "object size, bytes", 8, 8, 1, 4096},
    [FS_WRITES] = {"writes", "times each object is written (every byte) before its free", 10000,
                   1000, 1, INT64_C(1000000000)},
    [FS_OPS] = {"ops", "objects allocated, written and freed per run, over all threads", 2000,
                400, 1, INT64_C(1000000000000)},
};

enum { FS_THRASH, FS_SCRATCH };

static const hl_variant_spec fs_variants[] = {
    [FS_THRASH] = {"thrash", "active: each thread allocates, writes and frees its own objects"},
    [FS_SCRATCH] = {"scratch", "passive: each thread first frees an object the setup thread "
                               "allocated next to the others'"},
};

#define FS_LINE 64
#define FS_HANDED_SALT 0x68616e6465642d6full /* separates handed objects' patterns */

/* One worker's state, a cache line of its own. */
typedef struct fs_thread {
    _Alignas(64) unsigned index;
    unsigned char *handed; /* scratch: the setup's object, until freed */
    uintptr_t first_line;  /* line of the first object it allocated, 0 before */
    uint64_t sum;
} fs_thread;

typedef struct falseshare {
    const hl_allocator *alloc;
    uint64_t key; /* hl_mix64(seed): keys every pattern */
    unsigned nthreads;
    uint32_t size;
    uint64_t writes;
    fs_thread *threads;
    uint64_t ops_done;
    uint64_t job_begin, job_end;

    hl_crew crew; /* runs fs_job on every thread */
} falseshare;

static uint64_t fs_ops(const hl_workload_config *cfg)
{
    return (uint64_t)cfg->params[FS_OPS];
}

/* Byte k of the starting pattern of the object named by `cookie`. */
static inline unsigned char fs_pattern(uint64_t cookie, uint32_t k)
{
    return (unsigned char)(cookie >> (8 * (k & 7))) ^ (unsigned char)(k >> 3);
}

static void fs_write_pattern(unsigned char *p, uint32_t size, uint64_t cookie)
{
    for (uint32_t k = 0; k < size; k++)
        p[k] = fs_pattern(cookie, k);
}

/* Check that p holds the pattern of `cookie` plus `added` in every byte;
 * returns an FNV-1a hash of the bytes read, and sets *bad on a mismatch. */
static uint64_t fs_read_back(const unsigned char *p, uint32_t size, uint64_t cookie,
                             unsigned char added, int *bad)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (uint32_t k = 0; k < size; k++) {
        unsigned char b = p[k];
        *bad |= b != (unsigned char)(fs_pattern(cookie, k) + added);
        h = (h ^ b) * 0x100000001b3ull;
    }
    return h;
}

/* Thread t's first task in scratch: check and free the object setup handed it. */
static int fs_free_handed(falseshare *f, fs_thread *t, hl_error *err)
{
    int bad = 0;
    fs_read_back(t->handed, f->size, hl_mix64((f->key ^ FS_HANDED_SALT) + t->index), 0, &bad);
    hl_free(f->alloc, t->handed, f->size);
    unsigned char *p = t->handed;
    t->handed = NULL;
    return bad ? hl_fail(err, "corrupted handed-over object %p (thread %u)", (void *)p, t->index)
               : 0;
}

/* One operation, number i, on thread t. */
static inline int fs_op(falseshare *f, fs_thread *t, uint64_t i, hl_error *err)
{
    unsigned char *p = hl_alloc(f->alloc, f->size);
    if (__builtin_expect(p == NULL, 0))
        return hl_fail(err, "out of memory: allocation of %" PRIu32 " bytes failed (op %"
                       PRIu64 ")", f->size, i);
    if (t->first_line == 0)
        t->first_line = (uintptr_t)p / FS_LINE;
    uint64_t cookie = hl_mix64(i + f->key);
    fs_write_pattern(p, f->size, cookie);
    volatile unsigned char *v = p;
    for (uint64_t w = 0; w < f->writes; w++)
        for (uint32_t k = 0; k < f->size; k++)
            v[k] = (unsigned char)(v[k] + 1);
    int bad = 0;
    uint64_t h = fs_read_back(p, f->size, cookie, (unsigned char)f->writes, &bad);
    hl_free(f->alloc, p, f->size);
    if (bad)
        return hl_fail(err, "corrupted object %p (%" PRIu32 " bytes, op %" PRIu64 ")",
                       (void *)p, f->size, i);
    t->sum += hl_mix64(h ^ i);
    return 0;
}

/* The crew's job: thread `worker`'s share of operations [job_begin,
 * job_end), those i with i mod nthreads == worker. */
static int fs_job(void *ctx, unsigned worker, hl_error *err)
{
    falseshare *f = ctx;
    fs_thread *t = &f->threads[worker];
    if (t->handed != NULL && fs_free_handed(f, t, err) != 0)
        return -1;
    uint64_t n = f->nthreads;
    for (uint64_t i = f->job_begin + (t->index + n - f->job_begin % n) % n; i < f->job_end;
         i += n)
        if (fs_op(f, t, i, err) != 0)
            return -1;
    return 0;
}

static int fs_setup(const hl_workload_config *cfg, void **state, hl_error *err)
{
    const int64_t *p = cfg->params;
    falseshare *f = calloc(1, sizeof *f);
    if (f == NULL)
        return hl_fail(err, "out of memory for the falseshare state");
    f->alloc = cfg->alloc;
    f->key = hl_mix64(cfg->seed);
    f->nthreads = (unsigned)p[FS_THREADS];
    f->size = (uint32_t)p[FS_SIZE];
    f->writes = (uint64_t)p[FS_WRITES];
    *state = f; /* from here on, finish() releases everything */
    f->threads = hl_untracked_alloc(sizeof(fs_thread) * f->nthreads);
    if (f->threads == NULL)
        return hl_fail(err, "out of memory for %u threads", f->nthreads);
    for (unsigned k = 0; k < f->nthreads; k++) {
        fs_thread *t = &f->threads[k];
        t->index = k;
        if (cfg->variant != FS_SCRATCH)
            continue;
        /* One after the other, so that a bump or size-class allocator lays
         * them side by side. */
        t->handed = hl_alloc(f->alloc, f->size);
        if (t->handed == NULL)
            return hl_fail(err, "out of memory: allocation of %" PRIu32 " bytes failed",
                           f->size);
        fs_write_pattern(t->handed, f->size, hl_mix64((f->key ^ FS_HANDED_SALT) + k));
    }
    return hl_crew_start(&f->crew, "falseshare", f->nthreads, fs_job, f, err);
}

static int fs_step(void *state, uint64_t n, hl_error *err)
{
    falseshare *f = state;
    f->job_begin = f->ops_done;
    f->job_end = f->ops_done + n;
    if (hl_crew_run(&f->crew, err) != 0)
        return -1;
    f->ops_done += n;
    return 0;
}

/* Threads whose first object shared a cache line with another thread's. */
static unsigned fs_shared_lines(const falseshare *f)
{
    unsigned shared = 0;
    for (unsigned a = 0; a < f->nthreads; a++) {
        if (f->threads[a].first_line == 0)
            continue;
        for (unsigned b = 0; b < f->nthreads; b++)
            if (b != a && f->threads[b].first_line == f->threads[a].first_line) {
                shared++;
                break;
            }
    }
    return shared;
}

static int fs_finish(void *state, hl_workload_result *res, hl_error *err)
{
    falseshare *f = state;
    int rc = 0;
    hl_crew_stop(&f->crew);
    uint64_t sum = 0;
    unsigned shared = 0;
    if (f->threads != NULL) {
        for (unsigned k = 0; k < f->nthreads; k++) {
            fs_thread *t = &f->threads[k];
            hl_error handed_err;
            if (t->handed != NULL && fs_free_handed(f, t, &handed_err) != 0 && rc == 0) {
                *err = handed_err;
                rc = -1;
            }
            sum += t->sum;
        }
        shared = fs_shared_lines(f);
        hl_untracked_free(f->threads, sizeof(fs_thread) * f->nthreads);
    }
    res->ops = f->ops_done;
    res->checksum = sum;
    hl_stats_add(&res->figures, "shared_lines", "threads", (double)shared);
    free(f);
    return rc;
}

static const hl_workload_ops fs_ops_table = {
    .name = "falseshare",
    .description = "Hoard's cache-thrash and cache-scratch: threads write small objects; "
                   "an allocator that puts two threads' objects on one line makes them crawl",
    .default_collector = "manual",
    .gc_needs = HL_GC_MANUAL, /* raw bytes: manual only */
    .params = fs_params,
    .nparams = sizeof fs_params / sizeof fs_params[0],
    .variants = fs_variants,
    .nvariants = sizeof fs_variants / sizeof fs_variants[0],
    .batch = 65536,
    .ops = fs_ops,
    .setup = fs_setup,
    .step = fs_step,
    .finish = fs_finish,
};

const hl_workload_ops *hl_falseshare_workload(void)
{
    return &fs_ops_table;
}
