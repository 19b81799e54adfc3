/*
 * collector.h - the object-lifetime axis of a heaplab strategy, and the
 * object model every collector offers to workloads.
 *
 * A collector decides how an object's life ends:
 *
 *   manual     the workload frees each object when it knows it is dead;
 *   refcount   an object dies when its last reference goes (cycles leak);
 *   cycle      reference counting plus CPython 3.11's generational cycle
 *              collector, the whole collection (finalizers, resurrection,
 *              uncollectable legacy cycles, untracking);
 *   tracing    Boehm GC from Debian's libgc: nothing is freed by the
 *              workload at all, reachability from the roots decides;
 *   marksweep  heaplab's own mark-sweep over an explicit root set, on any
 *              allocator.
 *
 * Like allocators, collectors are const method tables in a static registry,
 * one file each.  A collector receives an allocator instance and knows
 * nothing of which allocator it is (Boehm GC brings its own heap and says so
 * with HL_GC_OWN_HEAP).
 *
 * The object model.  An object has a type, `nrefs` reference fields and
 * `data_size` bytes of plain data:
 *
 *       collector prefix (private: refcount, GC links, mark bits ...)
 *     +--------------------+
 *     | type               |  <- hl_object *: what workloads hold
 *     | nrefs | data_size  |
 *     | refs[0..nrefs)     |  strong references, NULL or objects
 *     | data[0..data_size) |  the workload's bytes, 8-aligned
 *     +--------------------+
 *
 * References held by the workload itself (locals, tables, queues) are its
 * roots: `new_object` returns an object with one such reference, `retain`
 * adds one, `release` drops one.  References between objects go through
 * `store`, so counting collectors see every change.  Under `manual`,
 * `release` is a no-op and the workload calls `free_object`; under every
 * other collector `free_object` is a no-op and death is the collector's
 * business.  Workloads call the inline helpers below, never the table.
 */
#ifndef HEAPLAB_COLLECTOR_H
#define HEAPLAB_COLLECTOR_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "allocators/allocator.h"

typedef struct hl_object hl_object;

/* Called for each reference field of an object during traversal. */
typedef void (*hl_visit_fn)(hl_object **field, void *arg);

struct hl_gc;

/* What kind of container a type is, for the untracking CPython's cycle
 * collector does (an untracked object is never scanned again, until a
 * store makes it able to hold a cycle).  Objects without reference slots
 * are never tracked whatever their kind. */
typedef enum hl_type_kind {
    HL_KIND_OBJECT = 0, /* an instance: tracked while alive */
    HL_KIND_TUPLE,      /* immutable after construction: untracked by a
                           collection that finds every item untracked or
                           NULL (CPython's untrack_tuples) */
    HL_KIND_DICT,       /* untracked by a full collection that finds it
                           holding no tracked value (untrack_dicts), and
                           tracked again by a store of a tracked value */
} hl_type_kind;

typedef struct hl_type {
    const char *name;
    /* Visit each reference field of o.  NULL means the default: the nrefs
     * slots of refs[].  A type overrides it only to skip slots that hold no
     * strong reference. */
    void (*traverse)(hl_object *o, hl_visit_fn visit, void *arg);
    hl_type_kind kind;
    /* PEP 442's tp_finalize, or NULL.  Called at most once per object, when
     * its collector finds it dead and before anything of the dead set is
     * cleared or freed; it may resurrect the object (hl_retain it, or
     * hl_store it into a live object), and the collector then keeps it.
     * Through `gc` it may use the object model like a workload. */
    void (*finalize)(const struct hl_gc *gc, hl_object *o);
    /* A legacy finalizer (tp_del), or NULL.  An unreachable cycle that holds
     * an object with one cannot be collected safely: the cycle collector
     * moves it to its garbage list (gc.garbage) and counts it as
     * uncollectable.  Reference counting calls it when the count reaches
     * zero, before the object is freed. */
    void (*legacy_del)(const struct hl_gc *gc, hl_object *o);
} hl_type;

/* Whether objects of type t (NULL: none) have a finalizer of either kind,
 * so that a collector must run its finalizer steps for them. */
static inline int hl_type_finalizes(const hl_type *t)
{
    return t != NULL && (t->finalize != NULL || t->legacy_del != NULL);
}

struct hl_object {
    const hl_type *type;
    uint32_t nrefs;     /* reference slots in refs[] */
    uint32_t data_size; /* bytes after the slots */
    hl_object *refs[];
};

static inline void *hl_object_data(hl_object *o)
{
    return (void *)(o->refs + o->nrefs);
}

/* Bytes an object occupies, prefix excluded. */
static inline size_t hl_object_size(uint32_t nrefs, uint32_t data_size)
{
    return sizeof(hl_object) + (size_t)nrefs * sizeof(hl_object *) + ((data_size + 7u) & ~7u);
}

/* hl_object_header writes a fresh object's header at o; hl_object_init
 * also zeroes its slots and data (size = hl_object_size(nrefs, data_size)
 * bytes from an allocator, contents unknown).  The one place every
 * collector initialises an object.  Small objects (up to eight words after
 * the header, every trees and churn node) are zeroed by word stores the
 * compiler keeps inline; a call to memset costs more than the stores
 * themselves at these sizes (issue 13: 11 instructions a node plus the
 * call).  Cost: O(size). */
static inline void hl_object_header(hl_object *o, const hl_type *t, uint32_t nrefs,
                                    uint32_t data_size)
{
    o->type = t;
    o->nrefs = nrefs;
    o->data_size = data_size;
}

static inline void hl_object_init(hl_object *o, size_t size, const hl_type *t, uint32_t nrefs,
                                  uint32_t data_size)
{
    hl_object_header(o, t, nrefs, data_size);
    size_t words = (size - sizeof(hl_object)) / sizeof(uint64_t);
    uint64_t *w = (uint64_t *)(void *)o->refs;
    switch (words) { /* each case falls through: zero words-1 .. 0 */
    case 8: w[7] = 0; /* fall through */
    case 7: w[6] = 0; /* fall through */
    case 6: w[5] = 0; /* fall through */
    case 5: w[4] = 0; /* fall through */
    case 4: w[3] = 0; /* fall through */
    case 3: w[2] = 0; /* fall through */
    case 2: w[1] = 0; /* fall through */
    case 1: w[0] = 0; /* fall through */
    case 0: break;
    default: memset(w, 0, words * sizeof(uint64_t));
    }
}

/* Visit o's references with its type's traverse, or by default each
 * non-NULL slot of refs[].  The one place that chooses between the two:
 * every collector walks fields through it.  Inline, so that a caller's
 * constant `visit` becomes a direct call on the default path, which
 * collections take for almost every object.  Cost: O(o's fields). */
static inline void hl_object_traverse(hl_object *o, hl_visit_fn visit, void *arg)
{
    if (o->type != NULL && o->type->traverse != NULL) {
        o->type->traverse(o, visit, arg);
        return;
    }
    for (uint32_t i = 0; i < o->nrefs; i++)
        if (o->refs[i] != NULL)
            visit(&o->refs[i], arg);
}

/* A weak reference's callback: runs after the referent died and every weak
 * reference to it was cleared (`weakref` reads as empty by then), and only
 * while the weak reference object itself is alive and reachable: a weak
 * reference that dies in the same collection as its referent gets no
 * callback (CPython's rule). */
typedef void (*hl_weak_callback)(hl_object *weakref, void *arg);

/* --------------------------------------------------------- statistics -- */

#define HL_GC_GENERATIONS 3

typedef struct hl_gc_stats {
    uint64_t collections[HL_GC_GENERATIONS]; /* by generation; non-generational: [0] */
    uint64_t collected[HL_GC_GENERATIONS];   /* unreachable objects freed */
    uint64_t uncollectable[HL_GC_GENERATIONS];
    uint64_t objects_allocated;
    uint64_t objects_freed;                  /* by any means: explicit, count, collection */
    uint64_t weakrefs_cleared;
    uint64_t callbacks_run;
    uint64_t pauses;          /* timed collections */
    double pause_total_ns;
    double pause_max_ns;
    double pause_p50_ns;      /* -1 when there were no pauses */
    double pause_p99_ns;
    /* The pause timeline (collectors/pauses.h): pause i ran from
     * pause_at_ns[i] for pause_len_ns[i] ns on CLOCK_MONOTONIC; NULL and 0
     * without one.  Owned by the collector: valid until it records another
     * pause or closes. */
    const double *pause_at_ns, *pause_len_ns;
    size_t pause_timeline_n;
    /* HL_GC_OWN_HEAP collectors only (the tracker cannot see their heap):
     * bytes of objects still reachable, and the collector's heap size; -1
     * when unknown. */
    int64_t own_live_bytes;
    int64_t own_heap_bytes;
    /* HL_GC_FINALIZES collectors only (0 elsewhere): finalize calls, and
     * objects a finalizer kept alive (counted once per resurrection). */
    uint64_t finalizers_run;
    uint64_t resurrected;
    /* cycle only (0 under the others): objects on its generation lists
     * now, CPython's tracked objects (containers, less those untracked). */
    int64_t tracked_objects;
} hl_gc_stats;

/* --------------------------------------------------------- fast paths -- */

/* A collector's common paths written down as data, which the inline
 * helpers below follow themselves instead of calling through the table:
 * CPython's object.h way (Py_INCREF, Py_DECREF and the allocation fast
 * path are macros compiled into every caller, not calls into the
 * interpreter).  The table's call cost a trees node 3.1-4.1 ns, a third of
 * manual's whole time under mimalloc (issue 13, docs/perf.md).
 *
 * What the helpers do with one:
 *   - hl_new_child, for a type without finalizers and a field that holds
 *     NULL: a block of prefix + hl_object_size(nrefs, data_size) bytes from
 *     `alloc`; `prefix_word` in the word just before the object when
 *     prefix is 8; the header and zeroed fields; `allocated` counted; the
 *     field set to the child.
 *   - hl_free_object, while `free_inline` is set: `freed` counted and the
 *     block given back to `alloc`.  The collector sets it only while its
 *     free_object would do nothing else for any object (manual: while no
 *     weak reference object is alive and no object of a type with
 *     finalizers was ever made), so that the test is one load, not a
 *     look at the object's type.
 * Everything else goes through the table.  A collector offers this only
 * where it is exactly what its own new_child and free_object do in those
 * cases; it owns the struct, reports `allocated` and `freed` in its stats
 * (manual counts its own paths in them too; refcount adds `allocated` to
 * its own count and never frees inline, so its `freed` stays 0), and keeps
 * `free_inline` current. */
typedef struct hl_gc_fast {
    const hl_allocator *alloc; /* the allocator the collector's objects come from */
    uint32_t prefix;           /* bytes before each object: 0, or 8 for one word */
    int free_inline;           /* hl_free_object may free without a call, now */
    uint64_t prefix_word;      /* a new child's prefix word (prefix 8) */
    uint64_t allocated, freed; /* objects made and freed, by either path */
} hl_gc_fast;

/* ------------------------------------------------------- method table -- */

enum hl_gc_flags {
    HL_GC_MANUAL = 1u << 0,       /* the workload must free_object what is dead */
    HL_GC_FREES_CYCLES = 1u << 1, /* unreachable cycles are reclaimed */
    HL_GC_OWN_HEAP = 1u << 2,     /* allocates from its own heap, not the allocator given */
    HL_GC_FINALIZES = 1u << 3,    /* calls the types' finalizers and counts them: its rows
                                     report finalizers_run and resurrected (tracing calls
                                     them through Boehm, which cannot count resurrection) */
};

/* Tunables of the generational collector; other collectors ignore them. */
typedef struct hl_gc_config {
    int64_t threshold[HL_GC_GENERATIONS]; /* 700, 10, 10 as in CPython 3.11/3.12 */
    int long_lived_rule; /* 1: skip a full collection while long_lived_pending <
                            long_lived_total / 4 */
    /* tracing and marksweep only (--heap-sweep, docs/heap-sweep.md): the
     * most bytes the collector's heap may hold, 0 for no limit.  An
     * allocation that would pass it collects first and fails (new_object
     * answers NULL) only when it still would after a full collection. */
    int64_t heap_limit;
} hl_gc_config;

typedef struct hl_collector_ops {
    const char *name;        /* the value of --collector= */
    const char *description; /* one line for --list */
    unsigned flags;          /* hl_gc_flags */

    /* NULL when usable here, else a one-line reason (static). */
    const char *(*unavailable)(void);

    /* Create a collector over `alloc` (which must outlive it).  Returns 0 or
     * a negative errno. */
    int (*init)(void **ctx, const hl_allocator *alloc, const hl_gc_config *cfg);
    /* Free every object still alive and the collector itself. */
    void (*fini)(void *ctx);

    /* A new object of type t with nrefs NULL slots and data_size zeroed
     * bytes, held by one workload reference.  NULL when memory is exhausted.
     * May run a collection first. */
    hl_object *(*new_object)(void *ctx, const hl_type *t, uint32_t nrefs, uint32_t data_size);
    /* Optional (NULL: hl_new_child does hl_new, hl_store, hl_release): a
     * new object stored at once into o->refs[field] (replacing its value
     * as store does), held by no workload reference.  For a collector that
     * can do that cheaper than the three steps: tracing's root table,
     * refcount's and cycle's count round trip, manual's table lookups; o
     * must be alive.  Returns the child, borrowed (o holds
     * it), or NULL with o untouched when memory is exhausted. */
    hl_object *(*new_child)(void *ctx, hl_object *o, uint32_t field, const hl_type *t,
                            uint32_t nrefs, uint32_t data_size);
    /* o->refs[field] = value, keeping counts right (value may be NULL).
     * NULL: the store is a plain write, which the inline hl_store does
     * itself (a collector with no barrier and no counts: manual, tracing,
     * marksweep), so they pay no call per store. */
    void (*store)(void *ctx, hl_object *o, uint32_t field, hl_object *value);
    /* The workload takes / drops one reference to o.  NULL: nothing to do
     * (manual), and hl_retain / hl_release make no call. */
    void (*retain)(void *ctx, hl_object *o);
    void (*release)(void *ctx, hl_object *o);
    /* manual only: o is dead; free it (its referents are not touched). */
    void (*free_object)(void *ctx, hl_object *o);
    /* Collect now: generation 0..2, or -1 for everything. */
    void (*collect)(void *ctx, int generation);

    /* A weak reference to `target`: itself an object (of a built-in type,
     * no strong fields), returned with one workload reference like any new
     * object, and dropped the same way (release, or free_object under
     * manual).  It may be stored in other objects' fields.  cb (may be NULL)
     * runs when target dies.  NULL when memory is exhausted. */
    hl_object *(*weak_new)(void *ctx, hl_object *target, hl_weak_callback cb, void *arg);
    /* The referent of a weak reference object, or NULL once it died.  The
     * pointer is borrowed: retain it to keep it. */
    hl_object *(*weak_get)(void *ctx, hl_object *weakref);

    /* Fill *out (zeroed by the caller). */
    void (*stats)(void *ctx, hl_gc_stats *out);

    /* Optional (NULL: every path through the table): the collector's fast
     * paths (hl_gc_fast), valid until fini.  hl_gc_open asks once. */
    hl_gc_fast *(*fast)(void *ctx);
} hl_collector_ops;

/* A live collector: a method table, its context, and its fast paths (NULL
 * when it offers none, or when the handle was made by hand: then every
 * helper calls through the table, which is always correct). */
typedef struct hl_gc {
    const hl_collector_ops *ops;
    void *ctx;
    hl_gc_fast *fast;
} hl_gc;

static inline hl_object *hl_new(const hl_gc *gc, const hl_type *t, uint32_t nrefs,
                                uint32_t data_size)
{
    return gc->ops->new_object(gc->ctx, t, nrefs, data_size);
}

static inline void hl_store(const hl_gc *gc, hl_object *o, uint32_t field, hl_object *value)
{
    assert(field < o->nrefs);
    if (gc->ops->store == NULL)
        o->refs[field] = value;
    else
        gc->ops->store(gc->ctx, o, field, value);
}

static inline void hl_retain(const hl_gc *gc, hl_object *o)
{
    if (gc->ops->retain != NULL)
        gc->ops->retain(gc->ctx, o);
}

static inline void hl_release(const hl_gc *gc, hl_object *o)
{
    if (gc->ops->release != NULL)
        gc->ops->release(gc->ctx, o);
}

/* hl_new_child's fast path (hl_gc_fast): o->refs[field] is NULL and t has
 * no finalizers. */
static inline hl_object *hl_fast_new_child(hl_gc_fast *f, hl_object *o, uint32_t field,
                                           const hl_type *t, uint32_t nrefs,
                                           uint32_t data_size)
{
    size_t size = hl_object_size(nrefs, data_size);
    char *block = hl_alloc(f->alloc, f->prefix + size);
    if (block == NULL)
        return NULL;
    if (f->prefix != 0)
        memcpy(block + f->prefix - sizeof(uint64_t), &f->prefix_word, sizeof(uint64_t));
    hl_object *child = (hl_object *)(void *)(block + f->prefix);
    hl_object_init(child, size, t, nrefs, data_size);
    f->allocated++;
    o->refs[field] = child;
    return child;
}

/* A new object of type t stored into o->refs[field], held by o alone: the
 * same as hl_new, hl_store and hl_release in a row, which is what it does
 * unless the collector has a cheaper way (its fast path, then new_child).
 * Returns the child (borrowed), or NULL with o untouched. */
static inline hl_object *hl_new_child(const hl_gc *gc, hl_object *o, uint32_t field,
                                      const hl_type *t, uint32_t nrefs, uint32_t data_size)
{
    hl_gc_fast *f = gc->fast;
    assert(field < o->nrefs);
    if (f != NULL && o->refs[field] == NULL && !hl_type_finalizes(t))
        return hl_fast_new_child(f, o, field, t, nrefs, data_size);
    if (gc->ops->new_child != NULL)
        return gc->ops->new_child(gc->ctx, o, field, t, nrefs, data_size);
    hl_object *child = hl_new(gc, t, nrefs, data_size);
    if (child != NULL) {
        hl_store(gc, o, field, child);
        hl_release(gc, child);
    }
    return child;
}

/* manual: o is dead, free it (its finalizers and weak references first);
 * a no-op under the other collectors.  Without a call while the
 * collector's free_inline says the free is all there is to do. */
static inline void hl_free_object(const hl_gc *gc, hl_object *o)
{
    hl_gc_fast *f = gc->fast;
    if (f != NULL && f->free_inline) {
        assert(!hl_type_finalizes(o->type)); /* free_inline's promise */
        f->freed++;
        hl_free(f->alloc, (char *)o - f->prefix,
                f->prefix + hl_object_size(o->nrefs, o->data_size));
        return;
    }
    gc->ops->free_object(gc->ctx, o);
}

static inline hl_object *hl_weak_new(const hl_gc *gc, hl_object *target, hl_weak_callback cb,
                                     void *arg)
{
    return gc->ops->weak_new(gc->ctx, target, cb, arg);
}

static inline hl_object *hl_weak_get(const hl_gc *gc, hl_object *weakref)
{
    return gc->ops->weak_get(gc->ctx, weakref);
}

static inline void hl_collect(const hl_gc *gc, int generation)
{
    gc->ops->collect(gc->ctx, generation);
}

static inline int hl_gc_is_manual(const hl_gc *gc)
{
    return (gc->ops->flags & HL_GC_MANUAL) != 0;
}

/* Collectors take their internal tables (root sets, weak-reference maps,
 * pause logs) from hl_untracked_alloc, never from the allocator they are
 * given: only objects count as the program's memory. */

/* Open a collector over alloc with cfg (NULL: CPython's defaults).  Returns
 * 0 or a negative errno. */
int hl_gc_open(hl_gc *gc, const hl_collector_ops *ops, const hl_allocator *alloc,
               const hl_gc_config *cfg);
void hl_gc_close(hl_gc *gc);
/* CPython 3.11/3.12's defaults: thresholds 700/10/10, the long-lived rule on. */
hl_gc_config hl_gc_default_config(void);

/* ----------------------------------------------------------- registry -- */

const hl_collector_ops *hl_manual_collector(void);
const hl_collector_ops *hl_refcount_collector(void);
const hl_collector_ops *hl_cycle_collector(void);
const hl_collector_ops *hl_tracing_collector(void);
const hl_collector_ops *hl_marksweep_collector(void);

/* The registry (collectors/registry.c): a static const table of the
 * getters above, in --list order.  hl_collector_at(i) for i <
 * hl_collector_count() is the i-th registered collector; O(1). */
typedef const hl_collector_ops *(*hl_collector_getter)(void);
size_t hl_collector_count(void);
const hl_collector_ops *hl_collector_at(size_t i);
/* The collector called `name`, or NULL.  O(registered). */
const hl_collector_ops *hl_collector_find(const char *name);

#endif
