/*
 * manual.c - `--collector=manual`: explicit free, as C programs do it.
 *
 * The workload frees each object when it knows it is dead (free_object);
 * store is a plain write, retain and release do nothing, collect does
 * nothing.  It is the baseline every other collector's overhead is measured
 * against, so it does as little as it can.
 *
 * What it still must do:
 *   - fini frees every object the workload did not, so a run that leaks
 *     still ends clean and the harness can count the leak first (tracker
 *     live bytes after finish);
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
 * Layout of an allocation (prefix: 8 bytes, the least that keeps objects
 * 8-aligned):
 *
 *     +-----------------+-------------------------------+
 *     | index (62..32)  | hl_object ...                 |
 *     | unused (rest)   |                               |
 *     +-----------------+-------------------------------+
 *     ^ from the allocator, size 8 + hl_object_size(nrefs, data_size)
 *
 * The index places the object in the live-object set (objset.h): a dense
 * array in untracked memory, 8 bytes per object, O(1) add and remove.  So
 * the per-object cost is 8 bytes in the measured heap and 8 (at most 16
 * after a doubling) outside it, against 16 for a doubly linked list.  The
 * size is not stored: hl_object_size() recomputes it from the header.
 * Measured (pool allocator, 2-field objects, batches of 4096 freed in
 * shuffled order): new_object + free_object cost about 12 ns where the
 * allocator's own alloc + free cost about 8-9.
 *
 * Callbacks may free objects, weak references included.  A weak reference
 * freed while callbacks run could still be on the list of callbacks about
 * to run, so it is taken off the books at once but its memory is kept, its
 * callback cancelled, until the outermost callback run ends (the deferred
 * list, threaded through the prefix word).
 */
#include "collectors/collector.h"

#include <errno.h>
#include <string.h>

#include "collectors/objset.h"
#include "collectors/weakref.h"

#define MANUAL_PREFIX sizeof(uint64_t)

typedef struct manual {
    const hl_allocator *alloc;
    hl_weak_table *weak;
    objset live;
    unsigned callback_depth; /* nesting of weak-callback runs in progress */
    hl_object *deferred;     /* weak references freed during callbacks */
    hl_gc self;              /* this collector, as finalizers receive it */
    uint64_t allocated, freed, weak_cleared, callbacks_run, finalizers_run;
} manual;

static size_t manual_block_size(const hl_object *o)
{
    return MANUAL_PREFIX + hl_object_size(o->nrefs, o->data_size);
}

static void manual_release_memory(manual *m, hl_object *o)
{
    hl_free(m->alloc, (char *)o - MANUAL_PREFIX, manual_block_size(o));
    m->freed++;
}

static int manual_init(void **ctx, const hl_allocator *alloc, const hl_gc_config *cfg)
{
    (void)cfg;
    manual *m = hl_untracked_alloc(sizeof *m);
    if (m == NULL)
        return -ENOMEM;
    m->alloc = alloc;
    m->self = (hl_gc){hl_manual_collector(), m};
    if (hl_weak_table_init(&m->weak) != 0) {
        hl_untracked_free(m, sizeof *m);
        return -ENOMEM;
    }
    *ctx = m;
    return 0;
}

static void manual_fini(void *ctx)
{
    manual *m = ctx;
    for (size_t i = 0; i < m->live.n; i++) {
        hl_object *o = m->live.items[i];
        hl_free(m->alloc, (char *)o - MANUAL_PREFIX, manual_block_size(o));
    }
    objset_free(&m->live);
    hl_weak_table_fini(m->weak);
    hl_untracked_free(m, sizeof *m);
}

/* A zeroed object registered in the live set, or NULL. */
static hl_object *manual_make(manual *m, const hl_type *t, uint32_t nrefs, uint32_t data_size)
{
    if (objset_reserve(&m->live) != 0)
        return NULL;
    size_t size = hl_object_size(nrefs, data_size);
    char *block = hl_alloc(m->alloc, MANUAL_PREFIX + size);
    if (block == NULL)
        return NULL;
    hl_object *o = (hl_object *)(void *)(block + MANUAL_PREFIX);
    memset(block, 0, MANUAL_PREFIX + size);
    o->type = t;
    o->nrefs = nrefs;
    o->data_size = data_size;
    objset_add(&m->live, o);
    m->allocated++;
    return o;
}

static hl_object *manual_new_object(void *ctx, const hl_type *t, uint32_t nrefs,
                                    uint32_t data_size)
{
    return manual_make(ctx, t, nrefs, data_size);
}

static void manual_store(void *ctx, hl_object *o, uint32_t field, hl_object *value)
{
    (void)ctx;
    o->refs[field] = value;
}

static void manual_retain(void *ctx, hl_object *o)
{
    (void)ctx;
    (void)o;
}

static void manual_release(void *ctx, hl_object *o)
{
    (void)ctx;
    (void)o;
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
        m->deferred = (hl_object *)(uintptr_t)*objset_word(w);
        manual_release_memory(m, w);
    }
}

/* Free o now: its finalizer runs, weak references to it are cleared
 * (callbacks run), its legacy finalizer runs, and if it is a weak
 * reference it leaves its target's list.  Its referents are not touched.
 * Cost: O(1) plus the finalizers and weak references involved. */
static void manual_free_object(void *ctx, hl_object *o)
{
    manual *m = ctx;
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
            objset_remove(&m->live, o);
            *objset_word(o) = (uint64_t)(uintptr_t)m->deferred;
            m->deferred = o;
            return;
        }
    }
    if (hl_weak_has(m->weak, o))
        manual_clear_weakrefs(m, o);
    if (t != NULL && t->legacy_del != NULL)
        t->legacy_del(&m->self, o);
    objset_remove(&m->live, o);
    manual_release_memory(m, o);
}

static void manual_collect(void *ctx, int generation)
{
    (void)ctx;
    (void)generation;
}

static hl_object *manual_weak_new(void *ctx, hl_object *target, hl_weak_callback cb, void *arg)
{
    manual *m = ctx;
    hl_object *w = manual_make(m, &hl_weakref_type, 0, sizeof(hl_weak_data));
    if (w == NULL)
        return NULL;
    if (hl_weak_attach(m->weak, w, target, cb, arg) != 0) {
        objset_remove(&m->live, w);
        manual_release_memory(m, w);
        m->allocated--;
        m->freed--;
        return NULL;
    }
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
    out->objects_allocated = m->allocated;
    out->objects_freed = m->freed;
    out->weakrefs_cleared = m->weak_cleared;
    out->callbacks_run = m->callbacks_run;
    out->finalizers_run = m->finalizers_run;
    out->pauses = 0;
    out->pause_p50_ns = out->pause_p99_ns = -1;
    out->own_live_bytes = out->own_heap_bytes = -1;
}

static const hl_collector_ops manual_ops = {
    .name = "manual",
    .description = "explicit free by the workload, as in C (8-byte prefix)",
    .flags = HL_GC_MANUAL | HL_GC_FINALIZES,
    .unavailable = NULL,
    .init = manual_init,
    .fini = manual_fini,
    .new_object = manual_new_object,
    .store = manual_store,
    .retain = manual_retain,
    .release = manual_release,
    .free_object = manual_free_object,
    .collect = manual_collect,
    .weak_new = manual_weak_new,
    .weak_get = manual_weak_get,
    .stats = manual_stats,
};

const hl_collector_ops *hl_manual_collector(void)
{
    return &manual_ops;
}
