/*
 * refcount.c - `--collector=refcount`: plain reference counting, as CPython
 * with the cycle collector switched off (gc.disable()).
 *
 * An object dies the moment its last reference goes: its type's finalizer
 * runs (once in the object's life; it may resurrect the object), the weak
 * references to it are cleared and their callbacks run (newest first), its
 * legacy finalizer runs, its referents lose a reference, its memory goes
 * back to the allocator (rc.h has the order and why).  Deaths cascade
 * iteratively, never recursively (rc.h), so releasing the head of a
 * ten-million-node list is as safe as releasing one object.  Cycles never
 * reach zero and leak: they stay allocated until fini, which is exactly the
 * leak the `cycles` workload exists to show.
 *
 * Layout of an allocation (prefix: 8 bytes):
 *
 *     +-----------------+-------------------------------+
 *     | finalized (63)  | hl_object ...                 |
 *     | index (62..32)  |                               |
 *     | count (31..0)   |                               |
 *     +-----------------+-------------------------------+
 *     ^ from the allocator, size 8 + hl_object_size(nrefs, data_size)
 *
 * Why an index at all: fini must free the leaked cycles, so the collector
 * must be able to enumerate the objects still alive.  The index places the
 * object in a dense untracked array (objset.h): O(1) to add and remove, 4
 * bytes of the prefix word plus 8 (at most 16) untracked bytes per object,
 * against the 16 in-heap bytes of a doubly linked all-objects list.  The
 * dying stack reuses the whole word once an object is dead.
 *
 * Costs: incref is one add; decref one subtract and a test; a death is the
 * set removal, the weak-table check (one load when no weak references
 * exist), one decref per field and the free; measured (pool, 2-field
 * objects) a new object plus its death cost about 20-26 ns, against 8-9 ns
 * for the allocator's own alloc + free.  Limits: 2^31 - 1 live objects,
 * counts below 2^32.
 */
#include "collectors/collector.h"

#include <errno.h>

#include "collectors/objset.h"
#include "collectors/rc.h"
#include "collectors/weakref.h"

#define REFCOUNT_PREFIX sizeof(uint64_t)

typedef struct refcount {
    rc_heap heap; /* first: rc_unregister casts back */
    objset live;
} refcount;

static inline void rc_unregister(rc_heap *h, hl_object *o)
{
    refcount *r = (refcount *)h;
    objset_remove(&r->live, o);
}

static int refcount_init(void **ctx, const hl_allocator *alloc, const hl_gc_config *cfg)
{
    (void)cfg;
    refcount *r = hl_untracked_alloc(sizeof *r);
    if (r == NULL)
        return -ENOMEM;
    if (hl_weak_table_init(&r->heap.weak) != 0) {
        hl_untracked_free(r, sizeof *r);
        return -ENOMEM;
    }
    r->heap.alloc = alloc;
    r->heap.self = (hl_gc){hl_refcount_collector(), r};
    r->heap.prefix = REFCOUNT_PREFIX;
    *ctx = r;
    return 0;
}

/* Free every object still alive (leaked cycles, objects the workload still
 * holds) without running finalizers or callbacks or touching counts. */
static void refcount_fini(void *ctx)
{
    refcount *r = ctx;
    for (size_t i = 0; i < r->live.n; i++) {
        hl_object *o = r->live.items[i];
        hl_free(r->heap.alloc, (char *)o - REFCOUNT_PREFIX, rc_block_size(&r->heap, o));
    }
    objset_free(&r->live);
    hl_weak_table_fini(r->heap.weak);
    hl_untracked_free(r, sizeof *r);
}

static hl_object *refcount_new_object(void *ctx, const hl_type *t, uint32_t nrefs,
                                      uint32_t data_size)
{
    refcount *r = ctx;
    if (objset_reserve(&r->live) != 0)
        return NULL;
    size_t size = hl_object_size(nrefs, data_size);
    char *block = hl_alloc(r->heap.alloc, REFCOUNT_PREFIX + size);
    if (block == NULL)
        return NULL;
    hl_object *o = (hl_object *)(void *)(block + REFCOUNT_PREFIX);
    rc_init_object(o, size, t, nrefs, data_size);
    objset_add(&r->live, o);
    r->heap.allocated++;
    return o;
}

static void refcount_store(void *ctx, hl_object *o, uint32_t field, hl_object *value)
{
    refcount *r = ctx;
    rc_store(&r->heap, o, field, value);
}

static void refcount_retain(void *ctx, hl_object *o)
{
    (void)ctx;
    rc_incref(o);
}

static void refcount_release(void *ctx, hl_object *o)
{
    refcount *r = ctx;
    rc_decref(&r->heap, o);
}

static void refcount_free_object(void *ctx, hl_object *o)
{
    (void)ctx;
    (void)o;
}

static void refcount_collect(void *ctx, int generation)
{
    (void)ctx;
    (void)generation;
}

static hl_object *refcount_weak_new(void *ctx, hl_object *target, hl_weak_callback cb, void *arg)
{
    refcount *r = ctx;
    hl_object *w = refcount_new_object(r, &hl_weakref_type, 0, sizeof(hl_weak_data));
    if (w == NULL)
        return NULL;
    if (hl_weak_attach(r->heap.weak, w, target, cb, arg) != 0) {
        rc_decref(&r->heap, w); /* detached: dies quietly */
        r->heap.allocated--;
        r->heap.freed--;
        return NULL;
    }
    return w;
}

static hl_object *refcount_weak_get(void *ctx, hl_object *weakref)
{
    (void)ctx;
    return hl_weak_target(weakref);
}

static void refcount_stats(void *ctx, hl_gc_stats *out)
{
    refcount *r = ctx;
    out->objects_allocated = r->heap.allocated;
    out->objects_freed = r->heap.freed;
    out->weakrefs_cleared = r->heap.weak_cleared;
    out->callbacks_run = r->heap.callbacks_run;
    out->finalizers_run = r->heap.finalizers_run;
    out->resurrected = r->heap.resurrected;
    out->pauses = 0;
    out->pause_p50_ns = out->pause_p99_ns = -1;
    out->own_live_bytes = out->own_heap_bytes = -1;
}

static const hl_collector_ops refcount_ops = {
    .name = "refcount",
    .description = "reference counting, cycles leak (CPython with gc.disable())",
    .flags = HL_GC_FINALIZES,
    .unavailable = NULL,
    .init = refcount_init,
    .fini = refcount_fini,
    .new_object = refcount_new_object,
    .store = refcount_store,
    .retain = refcount_retain,
    .release = refcount_release,
    .free_object = refcount_free_object,
    .collect = refcount_collect,
    .weak_new = refcount_weak_new,
    .weak_get = refcount_weak_get,
    .stats = refcount_stats,
};

const hl_collector_ops *hl_refcount_collector(void)
{
    return &refcount_ops;
}
