/*
 * manual.c - `--collector=manual`: explicit free, as C programs do it.
 *
 * The workload frees each object when it knows it is dead (free_object);
 * store is a plain write, retain and release do nothing, collect does
 * nothing.  It is the baseline every other collector's overhead is measured
 * against, so it does as little as it can.
 *
 * What it still must do:
 *   - weak references work: freeing an object clears the weak references
 *     to it and runs their callbacks right away (newest first), and freeing
 *     a weak reference unlinks it from its target;
 *   - finalizers run: free_object calls the type's finalize first (while
 *     the object and its weak references are intact), then clears the weak
 *     references and runs their callbacks, then calls its legacy_del, then
 *     frees: the order of a death under refcount.  Each runs once, because
 *     an object is freed once.  A finalizer cannot resurrect: retain is a
 *     no-op here and the workload's free is final, as a C destructor
 *     cannot cancel free() (a finalizer that stores the object somewhere
 *     leaves a dangling pointer, the workload's bug).  A finalizer may free
 *     other objects, as a destructor frees what its object owns.
 *
 * What it does not do: keep a list of live objects.  A C program keeps
 * none, and this is the baseline every collector is set against, so an
 * allocation is the allocator's block and the object header, nothing more:
 *
 *     +-------------------------------+
 *     | hl_object ...                 |
 *     +-------------------------------+
 *     ^ from the allocator, size hl_object_size(nrefs, data_size)
 *
 * An object the workload never frees is the workload's leak, as in C: the
 * tracker counts it (leaked bytes after finish), and it stays with the
 * allocator, which reclaims it when it closes (pool, arena) or with the
 * process (system allocators).  fini frees only the collector.  (Until
 * issue 13 an 8-byte prefix indexed every object in a live set so that
 * fini could free leftovers: 25 instructions and 8 heap bytes per object
 * that no C program spends; docs/design-notes.md.)
 *
 * The fast paths: new_object is one allocation, three header stores and
 * the zeroing of the slots and data; free_object is one test of the type
 * and of the weak table (both finalizer-free and weak-free in the common
 * case) and one free.  store, retain and release are NULL in the table, so
 * hl_store writes inline and hl_retain / hl_release make no call.  And the
 * workload makes children and frees objects itself, with no call here
 * (hl_gc_fast, collector.h): the counts live in `fast`, and free_inline
 * says when a free is nothing but the free (no weak reference object
 * alive, no type with finalizers ever made).
 *
 * Callbacks may free objects, weak references included.  A weak reference
 * freed while callbacks run could still be on the list of callbacks about
 * to run, so it is taken off the books at once but its memory is kept, its
 * callback cancelled, until the outermost callback run ends (the deferred
 * list, threaded through the cancelled callback's `arg`).
 */
#include "collectors/collector.h"

#include <errno.h>
#include <string.h>

#include "collectors/weakref.h"

typedef struct manual {
    hl_gc_fast fast;         /* the allocator and the counts of objects made
                                and freed (manual_sync_fast keeps its
                                free_inline) */
    uint64_t weakrefs;       /* weak reference objects not yet freed */
    int finalizing_made;     /* an object of a type with finalizers was made */
    hl_weak_table *weak;
    unsigned callback_depth; /* nesting of weak-callback runs in progress */
    hl_object *deferred;     /* weak references freed during callbacks */
    hl_gc self;              /* this collector, as finalizers receive it */
    uint64_t weak_cleared, callbacks_run, finalizers_run;
} manual;

/* Give o's memory back.  The count first, so that the free is the last
 * step (a tail call on the plain path). */
static inline void manual_release_memory(manual *m, hl_object *o)
{
    m->fast.freed++;
    hl_free(m->fast.alloc, o, hl_object_size(o->nrefs, o->data_size));
}

/* The workload's inline free (hl_gc_fast) may run while a free here would
 * do nothing but the free: no weak reference object alive, no object with
 * finalizers ever made (the flag is sticky: finding out whether one is
 * still alive would cost every free a look at its type). */
static void manual_sync_fast(manual *m)
{
    m->fast.free_inline = m->weakrefs == 0 && !m->finalizing_made;
}

/* A weak reference object's memory was given back. */
static void manual_weakref_gone(manual *m)
{
    m->weakrefs--;
    manual_sync_fast(m);
}

static int manual_init(void **ctx, const hl_allocator *alloc, const hl_gc_config *cfg)
{
    (void)cfg;
    manual *m = hl_untracked_alloc(sizeof *m);
    if (m == NULL)
        return -ENOMEM;
    m->fast = (hl_gc_fast){.alloc = alloc, .prefix = 0, .free_inline = 1};
    m->self = (hl_gc){hl_manual_collector(), m, NULL};
    if (hl_weak_table_init(&m->weak) != 0) {
        hl_untracked_free(m, sizeof *m);
        return -ENOMEM;
    }
    *ctx = m;
    return 0;
}

/* The collector only: objects the workload did not free are its leaks. */
static void manual_fini(void *ctx)
{
    manual *m = ctx;
    hl_weak_table_fini(m->weak);
    hl_untracked_free(m, sizeof *m);
}

/* A zeroed object, or NULL. */
static hl_object *manual_new_object(void *ctx, const hl_type *t, uint32_t nrefs,
                                    uint32_t data_size)
{
    manual *m = ctx;
    size_t size = hl_object_size(nrefs, data_size);
    hl_object *o = hl_alloc(m->fast.alloc, size);
    if (o == NULL)
        return NULL;
    hl_object_init(o, size, t, nrefs, data_size);
    m->fast.allocated++;
    if (!m->finalizing_made && __builtin_expect(hl_type_finalizes(t), 0)) {
        m->finalizing_made = 1;
        manual_sync_fast(m);
    }
    return o;
}

/* A zeroed object stored into parent->refs[field] (a plain write, as
 * store is here: the old value is the workload's to free), or NULL with
 * parent untouched.  hl_new_child's fallback would do the same through
 * three table lookups (new_object, then the NULL store and release). */
static hl_object *manual_new_child(void *ctx, hl_object *parent, uint32_t field,
                                   const hl_type *t, uint32_t nrefs, uint32_t data_size)
{
    hl_object *o = manual_new_object(ctx, t, nrefs, data_size);
    if (o != NULL)
        parent->refs[field] = o;
    return o;
}

/* o is being freed and has weak references: clear them all, then run their
 * callbacks, newest first.  Weak references freed by the callbacks are
 * released once the outermost run is over. */
static void manual_clear_weakrefs(manual *m, hl_object *o)
{
    hl_object *pending = NULL;
    m->weak_cleared += hl_weak_clear(m->weak, o, &pending);
    m->callback_depth++;
    m->callbacks_run += hl_weak_run_callbacks(pending, NULL, NULL);
    if (--m->callback_depth > 0)
        return;
    while (m->deferred != NULL) {
        hl_object *w = m->deferred;
        m->deferred = hl_weak_data_of(w)->arg;
        manual_release_memory(m, w);
        manual_weakref_gone(m);
    }
}

/* Whether freeing o surely runs nothing but the free: no finalizer, not a
 * weak reference, and no weak reference anywhere (the common case: three
 * tests, no call).  While some object has weak references every free takes
 * the rites' path, which looks o up itself: the lookup's call stays out of
 * this path, which then needs no stack frame. */
static inline int manual_plain_death(const manual *m, const hl_object *o)
{
    const hl_type *t = o->type;
    return !hl_type_finalizes(t) && t != &hl_weakref_type && !hl_weak_any(m->weak);
}

/* The rest of free_object for an object that is not plain: its finalizer,
 * weak references cleared (callbacks run), its legacy finalizer, then its
 * memory.  Out of line, so that the plain path needs no saved registers
 * and ends in a tail call to the allocator. */
static __attribute__((noinline)) void manual_free_with_rites(manual *m, hl_object *o)
{
    const hl_type *t = o->type;
    if (t != NULL && t->finalize != NULL) {
        m->finalizers_run++;
        t->finalize(&m->self, o);
    }
    if (o->type == &hl_weakref_type) {
        hl_weak_detach(m->weak, o);
        if (m->callback_depth > 0) {
            /* It may be on a pending list: cancel its callback, keep the memory. */
            hl_weak_data_of(o)->cb = NULL;
            hl_weak_data_of(o)->arg = m->deferred;
            m->deferred = o;
            return;
        }
    }
    if (hl_weak_has(m->weak, o))
        manual_clear_weakrefs(m, o);
    if (t != NULL && t->legacy_del != NULL)
        t->legacy_del(&m->self, o);
    if (o->type == &hl_weakref_type)
        manual_weakref_gone(m);
    manual_release_memory(m, o);
}

/* Free o now: its finalizer runs, weak references to it are cleared
 * (callbacks run), its legacy finalizer runs, and if it is a weak
 * reference it leaves its target's list.  Its referents are not touched.
 * Cost: O(1) plus the finalizers and weak references involved. */
static void manual_free_object(void *ctx, hl_object *o)
{
    manual *m = ctx;
    if (__builtin_expect(manual_plain_death(m, o), 1)) {
        manual_release_memory(m, o);
        return;
    }
    manual_free_with_rites(m, o);
}

static void manual_collect(void *ctx, int generation)
{
    (void)ctx;
    (void)generation;
}

static hl_object *manual_weak_new(void *ctx, hl_object *target, hl_weak_callback cb, void *arg)
{
    manual *m = ctx;
    hl_object *w = manual_new_object(m, &hl_weakref_type, 0, sizeof(hl_weak_data));
    if (w == NULL)
        return NULL;
    if (hl_weak_attach(m->weak, w, target, cb, arg) != 0) {
        manual_release_memory(m, w);
        m->fast.allocated--;
        m->fast.freed--;
        return NULL;
    }
    m->weakrefs++;
    manual_sync_fast(m);
    return w;
}

static hl_object *manual_weak_get(void *ctx, hl_object *weakref)
{
    (void)ctx;
    return hl_weak_target(weakref);
}

static void manual_stats(void *ctx, hl_gc_stats *out)
{
    manual *m = ctx;
    out->objects_allocated = m->fast.allocated;
    out->objects_freed = m->fast.freed;
    out->weakrefs_cleared = m->weak_cleared;
    out->callbacks_run = m->callbacks_run;
    out->finalizers_run = m->finalizers_run;
    out->pauses = 0;
    out->pause_p50_ns = out->pause_p99_ns = -1;
    out->own_live_bytes = out->own_heap_bytes = -1;
}

/* The fast paths (collector.h): a child is the allocator's block and the
 * header, and a plain death is the free, as new_child and free_object do
 * them; the workload's inline helpers do both without a call here. */
static hl_gc_fast *manual_fast(void *ctx)
{
    manual *m = ctx;
    return &m->fast;
}

static const hl_collector_ops manual_ops = {
    .name = "manual",
    .description = "explicit free by the workload, as in C (no prefix, no live list)",
    .flags = HL_GC_MANUAL | HL_GC_FINALIZES,
    .unavailable = NULL,
    .init = manual_init,
    .fini = manual_fini,
    .new_object = manual_new_object,
    .new_child = manual_new_child,
    .store = NULL,   /* a plain write, inlined by hl_store */
    .retain = NULL,  /* no counts: hl_retain and hl_release make no call */
    .release = NULL,
    .free_object = manual_free_object,
    .collect = manual_collect,
    .weak_new = manual_weak_new,
    .weak_get = manual_weak_get,
    .stats = manual_stats,
    .fast = manual_fast,
};

const hl_collector_ops *hl_manual_collector(void)
{
    return &manual_ops;
}
