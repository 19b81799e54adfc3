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
 * The counters are plain integers: the tracker is for one thread at a time.
 * The harness runs it in a separate, untimed pass, so its cost never shows
 * in a throughput figure.
 */
#include "allocators/allocator.h"

#include <errno.h>
#include <stdlib.h>

typedef struct tracker {
    hl_allocator inner;
    hl_tracker_counts counts;
} tracker;

static void tracker_note_alloc(tracker *t, size_t size)
{
    t->counts.allocs++;
    t->counts.live_blocks++;
    t->counts.bytes_allocated += size;
    t->counts.live_bytes += size;
    if (t->counts.live_bytes > t->counts.live_peak)
        t->counts.live_peak = t->counts.live_bytes;
}

static void tracker_note_free(tracker *t, size_t size)
{
    t->counts.frees++;
    t->counts.live_blocks--;
    t->counts.live_bytes -= size;
}

static void *tracker_alloc(void *ctx, size_t size)
{
    tracker *t = ctx;
    void *p = hl_alloc(&t->inner, size);
    if (p == NULL)
        t->counts.failures++;
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
    hl_free(&t->inner, p, size);
}

static void *tracker_realloc(void *ctx, void *p, size_t old_size, size_t new_size)
{
    tracker *t = ctx;
    if (p == NULL)
        return tracker_alloc(ctx, new_size);
    void *q = hl_realloc(&t->inner, p, old_size, new_size);
    if (q == NULL) {
        t->counts.failures++;
        return NULL;
    }
    t->counts.reallocs++;
    t->counts.bytes_allocated += new_size > old_size ? new_size - old_size : 0;
    t->counts.live_bytes = t->counts.live_bytes - old_size + new_size;
    if (t->counts.live_bytes > t->counts.live_peak)
        t->counts.live_peak = t->counts.live_bytes;
    return q;
}

static void tracker_stats(void *ctx, hl_stats *out)
{
    tracker *t = ctx;
    if (t->inner.ops->stats != NULL)
        t->inner.ops->stats(t->inner.ctx, out);
}

/* The tracker is built by hl_tracker_wrap, never through init. */
static int tracker_init(void **ctx)
{
    (void)ctx;
    return -EINVAL;
}

static void tracker_fini(void *ctx)
{
    free(ctx);
}

static const hl_allocator_ops tracker_ops = {
    .name = "tracker",
    .description = "decorator: counts allocations, frees and live bytes of the allocator it wraps",
    .flags = 0,
    .init = tracker_init,
    .fini = tracker_fini,
    .alloc = tracker_alloc,
    .free = tracker_free,
    .realloc = tracker_realloc,
    .stats = tracker_stats,
};

int hl_tracker_wrap(hl_allocator *out, const hl_allocator *inner)
{
    /* The tracker's own few bytes come from the C library: they are outside
     * whatever the inner allocator measures. */
    tracker *t = calloc(1, sizeof *t);
    if (t == NULL)
        return -ENOMEM;
    t->inner = *inner;
    out->ops = &tracker_ops;
    out->ctx = t;
    return 0;
}

hl_tracker_counts hl_tracker_read(const hl_allocator *tracked)
{
    const tracker *t = tracked->ctx;
    return t->counts;
}
