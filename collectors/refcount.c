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
 *     | member (63)     | hl_object ...                 |
 *     | finalized (62)  |                               |
 *     | index (61..32)  |                               |
 *     | count (31..0)   |                               |
 *     +-----------------+-------------------------------+
 *     ^ from the allocator, size 8 + hl_object_size(nrefs, data_size)
 *
 * Which objects are registered, and why that is enough.  fini must free
 * what the workload left behind, the leaked cycles above all, so it must
 * be able to find every object still alive.  It does not need every object
 * in a set for that, only one from which each survivor can be reached:
 *
 *   registered   objects made by new_object or weak_new (the workload's
 *                roots), the value of every store, and every object the
 *                workload retains;
 *   not          children made by new_child, until one of the above
 *                happens to them.
 *
 * Every survivor is reached from a registered one.  Follow, from a
 * survivor, whatever holds it: a workload reference (it was made by
 * new_object, or retained: registered) or another object's field.  A field
 * written by store holds a registered object.  A field written by new_child
 * holds an object made after its holder, so a chain of new_child fields
 * only goes back in time and cannot close on itself: it ends at an object
 * held by the workload or by a stored field, and a cycle has at least one
 * stored field.  fini marks everything reachable from the members, then
 * frees what it marked (refcount_free_leftovers).
 *
 * A member has bit 63 of its rc word set and its slot's index in bits
 * 32..61, and leaves the set when it dies; the set is an
 * untracked array with a free-slot stack (objset.h): O(1) to add and
 * remove, neither touching another object, 8 untracked bytes per member at
 * the peak, against the 16 in-heap bytes of a doubly linked all-objects
 * list.  A tree built by new_child registers its root alone: the set cost
 * trees/binarytrees 6-8% of refcount's time when every node was a member
 * (issue 13; docs/design-notes.md).  The dying stack reuses the whole word
 * once an object is dead.
 *
 * new_child makes a child with count 1, held by its parent alone: the
 * incref and decref of hl_new + hl_store + hl_release never happen (issue
 * 13: trees builds every node so).
 *
 * Costs: incref is one add; decref one subtract and a test; a store or a
 * retain also tests the value's member bit (registering it the first
 * time); a death is a test of the member bit (a member's set removal), the
 * weak-table check (one load when no weak references exist), one decref
 * per field and the free; measured (pool, 2-field objects) a new object
 * plus its death cost about 20-26 ns, against 8-9 ns for the allocator's
 * own alloc + free.  Limits: 2^30 registered objects alive at once (more
 * stay unregistered, above), counts below 2^32.
 */
#include "collectors/collector.h"

#include <errno.h>

#include "collectors/objset.h"
#include "collectors/rc.h"
#include "collectors/weakref.h"

#define REFCOUNT_PREFIX sizeof(uint64_t)

typedef struct refcount {
    rc_heap heap; /* first: rc_unregister casts back */
    objset live; /* the registered objects (above) */
    hl_gc_fast fast; /* new_child's fast path: children made inline count here */
} refcount;

static inline void rc_unregister(rc_heap *h, hl_object *o)
{
    refcount *r = (refcount *)h;
    if (objset_word_is_member(*rc_word(o)))
        objset_remove(&r->live, o);
}

/* Put o (alive, not a member) in the set.  Registration cannot fail
 * the store or retain that asks for it: should the set be unable to grow
 * (untracked memory exhausted, or 2^30 members), o stays out, and fini
 * may leave what only o reached to the allocator (the tracker sees it).
 * Out of line (callers test membership inline): once per object at most. */
static __attribute__((noinline)) void refcount_register_slow(refcount *r, hl_object *o)
{
    size_t i = objset_add(&r->live, o);
    if (i != OBJSET_FULL)
        *rc_word(o) |= objset_index_word(i);
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
    r->heap.self = (hl_gc){hl_refcount_collector(), r, NULL};
    r->heap.prefix = REFCOUNT_PREFIX;
    /* A child made inline: count 1 (the parent's), not a member of the
     * live set, as refcount_make(..., 0) makes it for a type without
     * finalizers (rc_note_type has nothing to note).  Deaths stay with
     * the table: free_inline is 0. */
    r->fast = (hl_gc_fast){.alloc = alloc, .prefix = REFCOUNT_PREFIX, .prefix_word = 1};
    *ctx = r;
    return 0;
}

/* Mark o (alive) as found, setting its count to 0: no live object has
 * count 0 otherwise, since nothing runs during fini. */
static inline void leftover_mark(hl_object *o)
{
    *rc_word(o) &= ~(uint64_t)UINT32_MAX;
}

/* A field of a found object: what it holds is found too, appended to the
 * set (which fini turned into its work list).  Should the set be unable to
 * grow, the object stays with the allocator. */
static void leftovers_visit(hl_object **field, void *arg)
{
    hl_object *o = *field;
    if (o == NULL || rc_count(o) == 0) /* a type's traverse may visit NULL */
        return;
    leftover_mark(o);
    objset_add(arg, o);
}

/* Free every object still alive (leaked cycles, objects the workload still
 * holds) without running finalizers or callbacks.  The live set becomes the
 * work list: its free slots are forgotten, so that objset_add appends;
 * every member is marked, then the slots are walked in order, each found
 * object's fields appending what they hold (breadth first); then every
 * member is freed.  Freeing only after the walk, because a freed object's
 * word cannot be read for its mark.  O(peak members + objects left). */
static void refcount_free_leftovers(refcount *r)
{
    objset *s = &r->live;
    s->free_top = 0;
    for (size_t i = 0; i < s->n; i++)
        if (objset_is_member(s, i))
            leftover_mark((hl_object *)s->slots[i]);
    for (size_t i = 0; i < s->n; i++) /* s->n grows as the walk finds more */
        if (objset_is_member(s, i))
            hl_object_traverse((hl_object *)s->slots[i], leftovers_visit, s);
    for (size_t i = 0; i < s->n; i++) {
        if (!objset_is_member(s, i))
            continue;
        hl_object *o = (hl_object *)s->slots[i];
        hl_free(r->heap.alloc, (char *)o - REFCOUNT_PREFIX, rc_block_size(&r->heap, o));
    }
}

/* Free what is still alive (refcount_free_leftovers) and the collector. */
static void refcount_fini(void *ctx)
{
    refcount *r = ctx;
    refcount_free_leftovers(r);
    objset_free(&r->live);
    hl_weak_table_fini(r->heap.weak);
    hl_untracked_free(r, sizeof *r);
}

/* A new object, count 1, registered when `root` (made for the workload, not
 * for a parent's field by new_child).  NULL when the allocator or the set
 * cannot grow.  Cost: the allocation, the header and zeroing, and for a
 * root a slot pop (or append); no other object is touched. */
static inline hl_object *refcount_make(refcount *r, const hl_type *t, uint32_t nrefs,
                                       uint32_t data_size, int root)
{
    size_t size = hl_object_size(nrefs, data_size);
    char *block = hl_alloc(r->heap.alloc, REFCOUNT_PREFIX + size);
    if (block == NULL)
        return NULL;
    hl_object *o = (hl_object *)(void *)(block + REFCOUNT_PREFIX);
    uint64_t word = 1;
    if (root) {
        size_t i = objset_add(&r->live, o);
        if (__builtin_expect(i == OBJSET_FULL, 0)) {
            hl_free(r->heap.alloc, block, REFCOUNT_PREFIX + size);
            return NULL;
        }
        word |= objset_index_word(i);
    }
    hl_object_init(o, size, t, nrefs, data_size);
    *rc_word(o) = word;
    rc_note_type(&r->heap, t);
    r->heap.allocated++;
    return o;
}

static hl_object *refcount_new_object(void *ctx, const hl_type *t, uint32_t nrefs,
                                      uint32_t data_size)
{
    return refcount_make(ctx, t, nrefs, data_size, 1);
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
    hl_object *child = refcount_make(r, t, nrefs, data_size, 0);
    if (child == NULL)
        return NULL;
    rc_store_owned(&r->heap, o, field, child);
    return child;
}

/* store's path for a value not registered yet: register it first (the old
 * value's death may run code that drops it), then store.  Out of line and
 * reached by a tail call, so that the common store needs no stack frame
 * (with the call inline, gcc gave every store one: genlist/list +18%
 * instructions). */
static __attribute__((noinline)) void refcount_store_registering(refcount *r, hl_object *o,
                                                                 uint32_t field,
                                                                 hl_object *value)
{
    refcount_register_slow(r, value);
    rc_store(&r->heap, o, field, value);
}

static void refcount_store(void *ctx, hl_object *o, uint32_t field, hl_object *value)
{
    refcount *r = ctx;
    if (__builtin_expect(value != NULL && !objset_word_is_member(*rc_word(value)), 0)) {
        refcount_store_registering(r, o, field, value);
        return;
    }
    rc_store(&r->heap, o, field, value);
}

static void refcount_retain(void *ctx, hl_object *o)
{
    rc_incref(o);
    if (__builtin_expect(!objset_word_is_member(*rc_word(o)), 0))
        refcount_register_slow(ctx, o); /* a tail call */
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
    hl_object *w = refcount_make(r, &hl_weakref_type, 0, sizeof(hl_weak_data), 1);
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
    out->objects_allocated = r->heap.allocated + r->fast.allocated;
    out->objects_freed = r->heap.freed;
    out->weakrefs_cleared = r->heap.weak_cleared;
    out->callbacks_run = r->heap.callbacks_run;
    out->finalizers_run = r->heap.finalizers_run;
    out->resurrected = r->heap.resurrected;
    out->pauses = 0;
    out->pause_p50_ns = out->pause_p99_ns = -1;
    out->own_live_bytes = out->own_heap_bytes = -1;
}

/* The fast paths (collector.h): new_child's common case only. */
static hl_gc_fast *refcount_fast(void *ctx)
{
    refcount *r = ctx;
    return &r->fast;
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
    .fast = refcount_fast,
};

const hl_collector_ops *hl_refcount_collector(void)
{
    return &refcount_ops;
}
