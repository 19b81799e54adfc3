/*
 * gc_env.h - what the collector tests share: a collector opened over a
 * tracked allocator, its figures, and a close that proves nothing of the
 * allocator is left live.  Header-only: each test is one translation unit.
 */
#ifndef HEAPLAB_TEST_GC_ENV_H
#define HEAPLAB_TEST_GC_ENV_H

#include <inttypes.h>
#include <string.h>

#include "allocators/allocator.h"
#include "collectors/collector.h"
#include "tests/check.h"

/* A collector over a tracked allocator. */
typedef struct env {
    const hl_collector_ops *c;
    const char *alloc_name;
    hl_allocator base, tracked;
    hl_gc gc;
    int manual, own_heap, frees_cycles;
} env;

static inline int env_open(env *e, const hl_collector_ops *c, const char *alloc_name,
                    const hl_gc_config *cfg)
{
    memset(e, 0, sizeof *e);
    e->c = c;
    e->alloc_name = alloc_name;
    e->manual = (c->flags & HL_GC_MANUAL) != 0;
    e->own_heap = (c->flags & HL_GC_OWN_HEAP) != 0;
    e->frees_cycles = (c->flags & HL_GC_FREES_CYCLES) != 0;
    const hl_allocator_ops *a = hl_allocator_find(alloc_name);
    if (a == NULL || hl_allocator_open(&e->base, a) != 0) {
        CHECK(0, "allocator %s failed to open", alloc_name);
        return -1;
    }
    if (hl_tracker_wrap(&e->tracked, &e->base) != 0) {
        CHECK(0, "tracker failed to open");
        hl_allocator_close(&e->base);
        return -1;
    }
    if (hl_gc_open(&e->gc, c, &e->tracked, cfg) != 0) {
        CHECK(0, "collector %s failed to open over %s", c->name, alloc_name);
        hl_allocator_close(&e->tracked);
        hl_allocator_close(&e->base);
        return -1;
    }
    return 0;
}

static inline uint64_t env_live(const env *e)
{
    return hl_tracker_read(&e->tracked).live_bytes;
}

static inline hl_gc_stats env_stats(const env *e)
{
    hl_gc_stats s;
    memset(&s, 0, sizeof s);
    e->gc.ops->stats(e->gc.ctx, &s);
    return s;
}

/* Close the collector (fini frees whatever is left: afterwards no block
 * of the tracked allocator may be live, and each was freed once) and the
 * allocators. */
static inline void env_close(env *e)
{
    hl_gc_close(&e->gc);
    hl_tracker_counts t = hl_tracker_read(&e->tracked);
    CHECK(t.live_bytes == 0 && t.live_blocks == 0,
          "%s/%s: %" PRIu64 " bytes in %" PRIu64 " blocks still live after close", e->c->name,
          e->alloc_name, t.live_bytes, t.live_blocks);
    CHECK(t.frees == t.allocs, "%s/%s: %" PRIu64 " frees for %" PRIu64 " allocations",
          e->c->name, e->alloc_name, t.frees, t.allocs);
    hl_allocator_close(&e->tracked);
    hl_allocator_close(&e->base);
}

#endif
