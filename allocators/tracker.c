/*
 * tracker.c - the tracking decorator: wraps any allocator without touching
 * it and counts what passes through.
 *
 * It is heaplab's live-bytes oracle.  Live bytes are the sizes the program
 * asked for, not what the allocator rounded them to, so that
 *     fragmentation = (rss_peak - rss_base) / live_peak
 * compares the allocator's footprint with what the program really needed
 * (Johnstone & Wilson's measure).  Because free is sized, the tracker needs
 * no header of its own: it adds nothing to the measured heap.
 *
 * Two ways to count.  While other threads may allocate through it
 * (hl_allocator_threads_shared: a workload's crew is running), each
 * counter is updated by a relaxed atomic read-modify-write, so several
 * threads keep exact counts, and the peak is raised with a compare-and-swap
 * loop.  Otherwise, which is every single-threaded cell, by a relaxed load
 * and a relaxed store: no lock prefix, the same instructions as a plain
 * add, still atomic accesses should another thread read the counters
 * meanwhile (hl_tracker_read may run on any thread).  The lock-prefixed
 * adds (five per allocation) had made the memory pass of trees/binarytrees
 * at depth 18 cost three times its timed pass (a jemalloc cell's wall time
 * 4.1 s, 2.2 s without them, the figures identical).  The mode is read once
 * per call.  The harness runs the tracker in a separate, untimed pass, so
 * its cost never shows in a throughput figure, only in how long a run
 * takes.
 */
#include "allocators/decorator.h"

#include <errno.h>

typedef struct tracker {
    hl_decorated base; /* first: the wrapped allocator */
    hl_tracker_counts counts;
} tracker;

/* *field += n; returns the old value.  `shared`: other threads may update
 * it too (an atomic read-modify-write); else this thread is the only
 * writer (a load and a store). */
static inline uint64_t track_add(uint64_t *field, uint64_t n, int shared)
{
    if (shared)
        return __atomic_fetch_add(field, n, __ATOMIC_RELAXED);
    uint64_t old = __atomic_load_n(field, __ATOMIC_RELAXED);
    __atomic_store_n(field, old + n, __ATOMIC_RELAXED);
    return old;
}

static inline void track_sub(uint64_t *field, uint64_t n, int shared)
{
    track_add(field, -n, shared);
}

/* Raise live_peak to at least `live`. */
static void tracker_raise_peak(tracker *t, uint64_t live, int shared)
{
    uint64_t peak = __atomic_load_n(&t->counts.live_peak, __ATOMIC_RELAXED);
    if (!shared) {
        if (live > peak)
            __atomic_store_n(&t->counts.live_peak, live, __ATOMIC_RELAXED);
        return;
    }
    while (live > peak && !__atomic_compare_exchange_n(&t->counts.live_peak, &peak, live, 1,
                                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
    }
}

static void tracker_note_alloc(tracker *t, size_t size, int shared)
{
    track_add(&t->counts.allocs, 1, shared);
    track_add(&t->counts.live_blocks, 1, shared);
    track_add(&t->counts.bytes_allocated, size, shared);
    tracker_raise_peak(t, track_add(&t->counts.live_bytes, size, shared) + size, shared);
}

static void tracker_note_free(tracker *t, size_t size, int shared)
{
    track_add(&t->counts.frees, 1, shared);
    track_sub(&t->counts.live_blocks, 1, shared);
    track_sub(&t->counts.live_bytes, size, shared);
}

static void *tracker_alloc(void *ctx, size_t size)
{
    tracker *t = ctx;
    int shared = hl_allocator_threads_shared();
    void *p = hl_pass_alloc(t, size);
    if (p == NULL)
        track_add(&t->counts.failures, 1, shared);
    else
        tracker_note_alloc(t, size, shared);
    return p;
}

static void tracker_free(void *ctx, void *p, size_t size)
{
    tracker *t = ctx;
    if (p == NULL)
        return;
    tracker_note_free(t, size, hl_allocator_threads_shared());
    hl_pass_free(t, p, size);
}

static void *tracker_realloc(void *ctx, void *p, size_t old_size, size_t new_size)
{
    tracker *t = ctx;
    if (p == NULL)
        return tracker_alloc(ctx, new_size);
    int shared = hl_allocator_threads_shared();
    void *q = hl_pass_realloc(t, p, old_size, new_size);
    if (q == NULL) {
        track_add(&t->counts.failures, 1, shared);
        return NULL;
    }
    track_add(&t->counts.reallocs, 1, shared);
    if (new_size > old_size) {
        track_add(&t->counts.bytes_allocated, new_size - old_size, shared);
        tracker_raise_peak(t, track_add(&t->counts.live_bytes, new_size - old_size, shared) +
                                  (new_size - old_size), shared);
    } else {
        track_sub(&t->counts.live_bytes, old_size - new_size, shared);
    }
    return q;
}

/* The tracker is built by hl_tracker_wrap, never through init. */
static int tracker_init(void **ctx)
{
    (void)ctx;
    return -EINVAL;
}

static const hl_allocator_ops tracker_ops = {
    .name = "tracker",
    .description = "decorator: counts allocations, frees and live bytes of the allocator it wraps",
    .flags = 0,
    .init = tracker_init,
    .fini = hl_pass_fini,
    .alloc = tracker_alloc,
    .free = tracker_free,
    .realloc = tracker_realloc,
    .stats = hl_pass_stats,
};

int hl_tracker_wrap(hl_allocator *out, const hl_allocator *inner)
{
    /* The tracker's own few bytes come from the C library: they are outside
     * whatever the inner allocator measures. */
    return hl_decorator_new(sizeof(tracker), &tracker_ops, inner, out) ? 0 : -ENOMEM;
}

hl_tracker_counts hl_tracker_read(const hl_allocator *tracked)
{
    tracker *t = tracked->ctx;
    hl_tracker_counts c;
    c.allocs = __atomic_load_n(&t->counts.allocs, __ATOMIC_RELAXED);
    c.frees = __atomic_load_n(&t->counts.frees, __ATOMIC_RELAXED);
    c.reallocs = __atomic_load_n(&t->counts.reallocs, __ATOMIC_RELAXED);
    c.failures = __atomic_load_n(&t->counts.failures, __ATOMIC_RELAXED);
    c.bytes_allocated = __atomic_load_n(&t->counts.bytes_allocated, __ATOMIC_RELAXED);
    c.live_bytes = __atomic_load_n(&t->counts.live_bytes, __ATOMIC_RELAXED);
    c.live_peak = __atomic_load_n(&t->counts.live_peak, __ATOMIC_RELAXED);
    c.live_blocks = __atomic_load_n(&t->counts.live_blocks, __ATOMIC_RELAXED);
    return c;
}
