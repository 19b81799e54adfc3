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
 * object in a slot of an untracked array with a free-slot stack (objset.h):
 * O(1) to add and remove, neither touching another object, 4 bytes of the
 * prefix word plus 8 (at most 16) untracked bytes per object at the peak,
 * against the 16 in-heap bytes of a doubly linked all-objects list.  The
 * dying stack reuses the whole word once an object is dead.
 *
 * new_child makes a child with count 1, held by its parent alone: the
 * incref and decref of hl_new + hl_store + hl_release never happen (issue
 * 13: trees builds every node so).
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
 * holds) without running finalizers or callbacks or touching counts: each
 * member slot once, the free slots skipped.  O(peak live objects). */
static void refcount_fini(void *ctx)
{
    refcount *r = ctx;
    for (size_t i = 0; i < r->live.n; i++) {
        if (!objset_is_member(&r->live, i))
            continue;
        hl_object *o = (hl_object *)r->live.slots[i];
        hl_free(r->heap.alloc, (char *)o - REFCOUNT_PREFIX, rc_block_size(&r->heap, o));
    }
    objset_free(&r->live);
    hl_weak_table_fini(r->heap.weak);
    hl_untracked_free(r, sizeof *r);
}

/* A new object, count 1, in the live set.  NULL when the allocator or the
 * set cannot grow.  Cost: the allocation, the header and zeroing, a slot
 * pop (or append); no other object is touched. */
static inline hl_object *refcount_make(refcount *r, const hl_type *t, uint32_t nrefs,
                                       uint32_t data_size)
{
    size_t size = hl_object_size(nrefs, data_size);
    char *block = hl_alloc(r->heap.alloc, REFCOUNT_PREFIX + size);
    if (block == NULL)
        return NULL;
    hl_object *o = (hl_object *)(void *)(block + REFCOUNT_PREFIX);
    size_t i = objset_add(&r->live, o);
    if (__builtin_expect(i == OBJSET_FULL, 0)) {
        hl_free(r->heap.alloc, block, REFCOUNT_PREFIX + size);
        return NULL;
    }
    hl_object_init(o, size, t, nrefs, data_size);
    *rc_word(o) = 1 | objset_index_word(i);
    rc_note_type(&r->heap, t);
    r->heap.allocated++;
    return o;
}

static hl_object *refcount_new_object(void *ctx, const hl_type *t, uint32_t nrefs,
                                      uint32_t data_size)
{
    return refcount_make(ctx, t, nrefs, data_size);
}

/* new_child: the child's one reference is the parent's, so it is made
 * with count 1 and stored as it is; the old value is dropped after the
 * write, as store drops it.  The same counts and deaths as hl_new,
 * hl_store, hl_release in a row, without the incref and decref (two calls
 * through the table) in between.
 * One difference, contrived: should the old value's death run a
 * finalizer that clears this very field, the child (whose one reference
 * the field was) dies inside that cascade, where the fallback's child,
 * still held by the workload's reference, would die at its release. */
static hl_object *refcount_new_child(void *ctx, hl_object *o, uint32_t field, const hl_type *t,
                                     uint32_t nrefs, uint32_t data_size)
{
    refcount *r = ctx;
    assert(field < o->nrefs && rc_count(o) > 0);
    hl_object *child = refcount_make(r, t, nrefs, data_size);
    if (child == NULL)
        return NULL;
    rc_store_owned(&r->heap, o, field, child);
    return child;
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
    hl_object *w = refcount_make(r, &hl_weakref_type, 0, sizeof(hl_weak_data));
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
    .new_child = refcount_new_child,
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
