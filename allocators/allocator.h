/*
 * allocator.h - the byte-allocation axis of a heaplab strategy.
 *
 * An allocator is a const method table (hl_allocator_ops) plus an opaque
 * context, chosen once when a cell starts, in the manner of SQLite's
 * sqlite3_mem_methods.  Every allocator lives in its own file under
 * allocators/, exports exactly one getter (hl_<name>_allocator()) and keeps
 * everything else static.  The static registry in registry.c lists them all,
 * so `bench --list` can show each one and whether this machine has it.
 *
 * Free is sized, as Lua's allocator is: the caller passes back the size it
 * asked for, so the pool needs no per-block header.  The front end (the
 * harness and the decorators) checks contracts and keeps statistics once; the
 * back ends stay small and only assert.
 *
 * System allocators (glibc, jemalloc, mimalloc, tcmalloc) all own the
 * process's malloc, so two of them never share a process: each one names the
 * shared library the harness must LD_PRELOAD into a fresh process, and a
 * probe that proves at run time which malloc that process really got.
 */
#ifndef HEAPLAB_ALLOCATOR_H
#define HEAPLAB_ALLOCATOR_H

#include <stddef.h>
#include <stdint.h>

/* Every allocator returns blocks aligned to at least this many bytes. */
#define HL_ALIGNMENT 16

/* ---------------------------------------------------------------- stats -- */

/* One named figure an allocator reports about itself.  `name` and `unit`
 * must be string literals (they outlive the stats object). */
typedef struct hl_stat {
    const char *name;
    const char *unit;
    double value;
} hl_stat;

#define HL_STATS_MAX 32

/* A flat list of figures; what cannot be measured is simply not added.
 *
 * The caller may say how many bytes the program has live (the tracker's
 * view) in requested_live, with has_requested_live set; an allocator then
 * adds its own view of fragmentation where it can:
 *   internal_waste_bytes  what it holds for live blocks beyond their requested
 *                         sizes (size-class rounding, headers);
 *   external_waste_bytes  what it holds but has not handed out (free blocks,
 *                         partly used pages, pools and arenas). */
typedef struct hl_stats {
    int count;
    int has_requested_live;
    double requested_live;
    hl_stat item[HL_STATS_MAX];
} hl_stats;

/* Add internal_waste_bytes = held_for_live - requested (when the request is
 * known) and external_waste_bytes = held - held_for_live.  Either figure is
 * skipped when its input is negative (unknown). */
void hl_stats_add_waste(hl_stats *stats, double held, double held_for_live);

/* Append one figure; silently ignored once HL_STATS_MAX is reached. */
void hl_stats_add(hl_stats *stats, const char *name, const char *unit, double value);

/* The value of the figure called `name`, or `fallback` when it is absent. */
double hl_stats_get(const hl_stats *stats, const char *name, double fallback);

/* -------------------------------------------------------- method table -- */

enum hl_allocator_flags {
    HL_ALLOC_THREAD_SAFE = 1u << 0, /* alloc/free may be called from any thread */
    HL_ALLOC_SYSTEM = 1u << 1,      /* serves the process's malloc; needs its own process */
    HL_ALLOC_FREE_NOOP = 1u << 2,   /* free returns nothing (region allocators) */
};

typedef struct hl_allocator_ops {
    const char *name;        /* the value of --allocator= */
    const char *description; /* one line for --list */
    unsigned flags;          /* hl_allocator_flags */

    /* For HL_ALLOC_SYSTEM: the shared library to LD_PRELOAD, or NULL for the
     * C library's own malloc.  NULL for in-process allocators. */
    const char *preload;

    /* NULL when usable on this machine, else a one-line reason (static). */
    const char *(*unavailable)(void);

    /* Prove which allocator serves this process and fill `version`.  Returns
     * 0, or -1 with a one-line reason in `why`.  Required for system
     * allocators; in-process allocators report their own version. */
    int (*identify)(char *version, size_t version_len, char *why, size_t why_len);

    /* Create a context.  Returns 0, or a negative errno (nothing allocated). */
    int (*init)(void **ctx);
    /* Release the context and everything it still holds. */
    void (*fini)(void *ctx);

    /* A block of at least `size` bytes, or NULL when memory is exhausted.
     * Aligned to HL_ALIGNMENT, or, when size < HL_ALIGNMENT, at least to the
     * largest power of two <= size (the weak alignment jemalloc and tcmalloc
     * give tiny blocks; see hl_min_alignment).  size 0 yields a unique block. */
    void *(*alloc)(void *ctx, size_t size);
    /* Release `p`, which alloc or realloc returned with exactly `size`.
     * p may be NULL (then size is ignored). */
    void (*free)(void *ctx, void *p, size_t size);
    /* Resize `p` (from alloc with `old_size`) to `new_size`, keeping the first
     * min(old, new) bytes.  p NULL acts as alloc.  On failure returns NULL and
     * leaves p untouched. */
    void *(*realloc)(void *ctx, void *p, size_t old_size, size_t new_size);

    /* Optional: append the allocator's own figures (may be NULL). */
    void (*stats)(void *ctx, hl_stats *out);
} hl_allocator_ops;

/* The alignment every allocator guarantees for a block of `size` bytes. */
static inline size_t hl_min_alignment(size_t size)
{
    size_t a = HL_ALIGNMENT;
    while (a > 1 && a > size)
        a >>= 1;
    return a;
}

/* A live allocator: a method table and its context. */
typedef struct hl_allocator {
    const hl_allocator_ops *ops;
    void *ctx;
} hl_allocator;

static inline void *hl_alloc(const hl_allocator *a, size_t size)
{
    return a->ops->alloc(a->ctx, size);
}

static inline void hl_free(const hl_allocator *a, void *p, size_t size)
{
    a->ops->free(a->ctx, p, size);
}

static inline void *hl_realloc(const hl_allocator *a, void *p, size_t old_size, size_t new_size)
{
    return a->ops->realloc(a->ctx, p, old_size, new_size);
}

/* Open an allocator instance.  Returns 0 or a negative errno. */
int hl_allocator_open(hl_allocator *a, const hl_allocator_ops *ops);
/* Close it (fini); safe on a zeroed struct. */
void hl_allocator_close(hl_allocator *a);

/* Decorators chosen on the command line (--decorate=NAME), applied outside
 * the tracker so that what they do shows in its counts.  The test-only ones
 * exist to prove the checks: `slow` adds about a dozen instructions per
 * allocation and `leak` drops every 100th free (the regression check);
 * `corrupt` flips a byte of a live block now and then (the stress test). */
typedef struct hl_decorator {
    const char *name;
    const char *description;
    int (*wrap)(hl_allocator *out, const hl_allocator *inner);
} hl_decorator;

int hl_slow_wrap(hl_allocator *out, const hl_allocator *inner);
int hl_leak_wrap(hl_allocator *out, const hl_allocator *inner);
int hl_corrupt_wrap(hl_allocator *out, const hl_allocator *inner);

/* The fault injector (fail.c): the fail_nth-th allocation fails (0: off),
 * and so does any that would take the live requested bytes past mem_limit
 * (0: off).  Returns 0 or -ENOMEM. */
int hl_fail_wrap(hl_allocator *out, const hl_allocator *inner, uint64_t fail_nth,
                 uint64_t mem_limit);

/* The command-line decorators (allocators/registry.c), a static const
 * table in --list order: hl_decorator_at(i) for i < hl_decorator_count().
 * hl_decorator_find gives the one called `name`, or NULL. */
size_t hl_decorator_count(void);
const hl_decorator *hl_decorator_at(size_t i);
const hl_decorator *hl_decorator_find(const char *name);

/* Memory for the harness's, workloads' and collectors' own bookkeeping
 * (slot tables, root sets, logs), mapped straight from the kernel so it
 * stays out of every allocator being measured.  Zero-filled; NULL on
 * failure; free with the same size. */
void *hl_untracked_alloc(size_t size);
void hl_untracked_free(void *p, size_t size);

/* Whether threads other than the caller may be inside allocator calls now.
 * Code that starts threads which allocate through heaplab's allocators
 * (the workloads' crew, workloads/crew.h) calls hl_allocator_threads_begin
 * before creating them and hl_allocator_threads_end after joining them;
 * both synchronise with the threads (creation and join do), so every call
 * made by those threads, and every call made by the starter between the
 * two, sees hl_allocator_threads_shared() true.  The tracker counts with
 * plain loads and stores while it is false (a lock-prefixed add on each of
 * five counters doubled a single-threaded cell's wall time: issue 13) and
 * with atomic read-modify-writes while it is true.  hl_tracker_read may run
 * on any thread meanwhile: every access is atomic either way.
 * Nested begins are counted. */
void hl_allocator_threads_begin(void);
void hl_allocator_threads_end(void);
extern int hl_allocator_shared_depth; /* begins not yet ended; use the function */
static inline int hl_allocator_threads_shared(void)
{
    return __atomic_load_n(&hl_allocator_shared_depth, __ATOMIC_RELAXED) != 0;
}

/* Bytes of the mapping [addr, addr + len) that the kernel holds resident
 * now (mincore): pages the process touched and that were not swapped out,
 * as RSS counts them.  addr must be page-aligned; len is rounded up to
 * whole pages.  Returns -1 when the kernel cannot say (then the caller
 * leaves its resident figure out).  Cost: one system call per 4096 pages;
 * for statistics, never a fast path. */
long long hl_resident_bytes(const void *addr, size_t len);

/* total plus the resident bytes of [addr, addr + len), for summing over
 * several mappings: -1 once any part (or total) is unknown. */
long long hl_resident_add(long long total, const void *addr, size_t len);

/* ------------------------------------------------------------ registry -- */

/* Getters, one per allocator file. */
const hl_allocator_ops *hl_glibc_allocator(void);
const hl_allocator_ops *hl_jemalloc_allocator(void);
const hl_allocator_ops *hl_mimalloc_allocator(void);
const hl_allocator_ops *hl_tcmalloc_allocator(void);
const hl_allocator_ops *hl_pool_allocator(void);
const hl_allocator_ops *hl_arena_allocator(void);

/* The registry (allocators/registry.c): a static const table of the
 * getters above, in --list order.  hl_allocator_at(i) for i <
 * hl_allocator_count() is the i-th registered allocator; O(1). */
typedef const hl_allocator_ops *(*hl_allocator_getter)(void);
size_t hl_allocator_count(void);
const hl_allocator_ops *hl_allocator_at(size_t i);
/* The allocator called `name`, or NULL.  O(registered). */
const hl_allocator_ops *hl_allocator_find(const char *name);

/* -------------------------------------------------------- decorators -- */

/* The tracker: wraps any allocator and counts what passes through it.  It is
 * the live-bytes oracle: live bytes are the sizes the program asked for. */
typedef struct hl_tracker_counts {
    uint64_t allocs;    /* successful alloc calls (and realloc from NULL) */
    uint64_t frees;     /* free calls with a non-NULL pointer */
    uint64_t reallocs;  /* successful realloc calls of a non-NULL pointer */
    uint64_t failures;  /* alloc/realloc calls that returned NULL */
    uint64_t bytes_allocated; /* sum of requested sizes over all allocations */
    uint64_t live_bytes;      /* requested bytes now live */
    uint64_t live_peak;       /* the largest live_bytes ever seen */
    uint64_t live_blocks;     /* blocks now live */
} hl_tracker_counts;

/* Wrap `inner` (which stays owned by the caller and must outlive the
 * result).  Returns 0 or -ENOMEM.  Thread-safe when inner is, provided the
 * threads are announced (hl_allocator_threads_begin): the counters are then
 * updated atomically, and by plain loads and stores otherwise. */
int hl_tracker_wrap(hl_allocator *out, const hl_allocator *inner);
/* The counters of an allocator made by hl_tracker_wrap. */
hl_tracker_counts hl_tracker_read(const hl_allocator *tracked);

#endif /* HEAPLAB_ALLOCATOR_H */
