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
 * The counters are updated with relaxed atomic operations, so workloads that
 * run several threads (over thread-safe allocators) keep exact counts; the
 * peak is raised with a compare-and-swap loop.  The harness runs the tracker
 * in a separate, untimed pass, so its cost never shows in a throughput
 * figure.
 */
#include "allocators/decorator.h"

#include <errno.h>

typedef struct tracker {
    hl_decorated base; /* first: the wrapped allocator */
    hl_tracker_counts counts;
} tracker;

#define TRACK_ADD(field, n) __atomic_fetch_add(&(field), (n), __ATOMIC_RELAXED)
#define TRACK_SUB(field, n) __atomic_fetch_sub(&(field), (n), __ATOMIC_RELAXED)

/* Raise live_peak to at least `live`. */
static void tracker_raise_peak(tracker *t, uint64_t live)
{
    uint64_t peak = __atomic_load_n(&t->counts.live_peak, __ATOMIC_RELAXED);
    while (live > peak && !__atomic_compare_exchange_n(&t->counts.live_peak, &peak, live, 1,
                                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
    }
}

static void tracker_note_alloc(tracker *t, size_t size)
{
    TRACK_ADD(t->counts.allocs, 1);
    TRACK_ADD(t->counts.live_blocks, 1);
    TRACK_ADD(t->counts.bytes_allocated, size);
    tracker_raise_peak(t, TRACK_ADD(t->counts.live_bytes, size) + size);
}

static void tracker_note_free(tracker *t, size_t size)
{
    TRACK_ADD(t->counts.frees, 1);
    TRACK_SUB(t->counts.live_blocks, 1);
    TRACK_SUB(t->counts.live_bytes, size);
}

static void *tracker_alloc(void *ctx, size_t size)
{
    tracker *t = ctx;
    void *p = hl_pass_alloc(t, size);
    if (p == NULL)
        TRACK_ADD(t->counts.failures, 1);
    else
        tracker_note_alloc(t, size);
    return p;
}

static void tracker_free(void *ctx, void *p, size_t size)
{
    tracker *t = ctx;
    if (p == NULL)
        return;
    tracker_note_free(t, size);
    hl_pass_free(t, p, size);
}

static void *tracker_realloc(void *ctx, void *p, size_t old_size, size_t new_size)
{
    tracker *t = ctx;
    if (p == NULL)
        return tracker_alloc(ctx, new_size);
    void *q = hl_pass_realloc(t, p, old_size, new_size);
    if (q == NULL) {
        TRACK_ADD(t->counts.failures, 1);
        return NULL;
    }
    TRACK_ADD(t->counts.reallocs, 1);
    if (new_size > old_size) {
        TRACK_ADD(t->counts.bytes_allocated, new_size - old_size);
        tracker_raise_peak(t, TRACK_ADD(t->counts.live_bytes, new_size - old_size) +
                                  (new_size - old_size));
    } else {
        TRACK_SUB(t->counts.live_bytes, old_size - new_size);
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
