/*
 * marksweep.c - `--collector=marksweep`: heaplab's own non-moving
 * mark-sweep collector, over whichever allocator the cell names.
 *
 * What it models: the textbook tracing collector (McCarthy 1960; Jones,
 * Hosking and Moss, "The Garbage Collection Handbook", 2nd ed., ch. 2) with
 * an exact root set, so that tracing can be compared with reference
 * counting and CPython's cycle collector on the same allocator: pool, arena,
 * glibc or any other.  Unlike Boehm (`tracing`) it is precise: only
 * workload references and reference fields keep an object alive.
 *
 * Each object carries a 16-byte prefix:
 *
 *       ms_header                         one block from the allocator
 *     +---------------------------+
 *     | next (all-objects list)   |
 *     | roots (u32) | mark (u32)  |
 *     +---------------------------+ <- hl_object * (block + 16)
 *     | hl_object ...             |
 *     +---------------------------+
 *
 * `roots` counts the workload's references (new_object gives 1, retain and
 * release adjust it), so the root set needs no table: an object is a root
 * while roots > 0.  Reference fields are not counted: stores are plain.
 *
 * A collection (ms_collect) is five steps, in this order (CPython's, PEP 442):
 *   1. mark      from every object with roots > 0, with an explicit mark
 *                stack in untracked memory (no recursion; when the stack
 *                cannot grow, marked objects are rescanned until no
 *                unmarked child is left: the classic overflow recovery);
 *   2. clear     weak references to unmarked objects (CPython's order:
 *                every one is cleared before any callback or finalizer
 *                runs, and stays cleared if its referent is resurrected);
 *   3. finalize  every unmarked object whose type has a finalizer
 *                (hl_type.finalize, then legacy_del) not yet run: once in
 *                its life, with the whole dead set still intact.  When any
 *                ran, marks are reset and steps 1-3 run again: what the
 *                finalizers resurrected survives, and what they left
 *                unreachable is finalized in turn;
 *   4. sweep     the all-objects list: unmarked objects are freed (a dying
 *                weak reference is detached from its target first), marks
 *                of survivors are reset;
 *   5. callbacks of the cleared weak references that survived; a weak
 *                reference dying with its referent gets none.
 * The whole collection, finalizers and callbacks included, is one timed
 * pause.  Nested collections (a finalizer or callback allocating or calling
 * collect) are ignored.
 *
 * Legacy finalizers.  CPython makes a cycle holding a tp_del uncollectable
 * because reference counting would tear the cycle down in some order, and
 * tp_del could see an object already cleared.  Here nothing of the dead
 * set is freed before every finalizer ran, so that hazard does not exist:
 * legacy_del is called like finalize (once, may resurrect), and nothing is
 * uncollectable (uncollectable[] stays 0).  The cycle collector, which
 * models CPython, keeps CPython's rule.
 *
 * Cost: O(objects) per collection for the root scan and the sweep, plus
 * O(reachable + edges) for the mark; one word, a u32 and two u16 per
 * object.  A collection in which finalizers ran pays one more reset and
 * mark per round of finalizers.
 *
 * Trigger: new_object collects first when the bytes allocated since the
 * last collection exceed max(MS_TRIGGER_MIN_BYTES, MS_HEAP_GROWTH x live
 * bytes after it), and again once when the allocator says no.
 *
 * Heap limit (hl_gc_config.heap_limit, --heap-sweep): the heap is the
 * objects' blocks, prefix included (live_bytes: what is allocated and not
 * yet swept).  An allocation that would take it past the limit collects
 * first, whatever the trigger says, and fails only when it still would:
 * the limit is a hard bound on live_bytes, so the smallest limit a run
 * completes under is its minimum heap (docs/heap-sweep.md).
 *
 * Not thread-safe: one thread drives an instance.
 */
#include "collectors/collector.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

#include "collectors/pauses.h"
#include "collectors/weakref.h"

/* Tunables.
 * MS_TRIGGER_MIN_BYTES: no collection before this many bytes were allocated
 *   since the last one (> 0), so small heaps do not collect on every object.
 * MS_HEAP_GROWTH: collect after allocating this many times the live bytes
 *   the last collection left (> 0).  The heap then peaks near
 *   (1 + MS_HEAP_GROWTH) x live: 1.0 is the usual 2x heap policy.
 * MS_MARK_STACK_MIN: entries of the first mark stack (> 0); it doubles. */
#define MS_TRIGGER_MIN_BYTES ((uint64_t)1 << 20)
#define MS_HEAP_GROWTH 1.0
#define MS_MARK_STACK_MIN ((size_t)4096)

typedef struct ms_header {
    struct ms_header *next; /* older object on the all-objects list */
    uint32_t roots;         /* workload references */
    uint16_t mark;          /* 1 from mark to sweep for reachable objects, else 0 */
    uint16_t finalized;     /* its type's finalizers ran (at most once per object):
                               MS_FINALIZED, or MS_FINALIZED_NOW during the
                               collection that ran them */
} ms_header;

_Static_assert(sizeof(ms_header) % 16 == 0, "objects must stay 16-aligned");

/* The explicit mark stack, in untracked memory. */
typedef struct ms_mark_stack {
    hl_object **items;
    size_t n, cap;
    int overflowed; /* an object was marked but could not be pushed */
} ms_mark_stack;

typedef struct ms_counters {
    uint64_t collections;
    uint64_t collected; /* objects freed by collections */
    uint64_t objects_allocated;
    uint64_t objects_freed;
    uint64_t weakrefs_cleared;
    uint64_t callbacks_run;
    uint64_t finalizers_run; /* objects whose finalizers ran */
    uint64_t resurrected;    /* of those, found reachable again in the same collection */
} ms_counters;

typedef struct marksweep {
    const hl_allocator *alloc;
    ms_header *all;         /* every object not yet freed, newest first */
    hl_weak_table *weak;
    ms_mark_stack stack;
    uint64_t live_objects;  /* on the list */
    uint64_t live_bytes;    /* their block sizes, prefix included */
    uint64_t weakrefs_live; /* weak reference objects on the list */
    uint64_t since_bytes;   /* allocated since the last collection */
    uint64_t trigger_bytes; /* collect when since_bytes exceeds this */
    uint64_t heap_limit;    /* live_bytes never passes it; 0: no limit */
    int collecting;
    int finalizers_seen; /* an object of a finalizing type was made: collections run step 3 */
    ms_counters count;
    hl_pause_log pauses;
} marksweep;

static ms_header *header_of(hl_object *o)
{
    return (ms_header *)((char *)o - sizeof(ms_header));
}

static hl_object *object_of(ms_header *h)
{
    return (hl_object *)(h + 1);
}

static size_t block_size(const hl_object *o)
{
    return sizeof(ms_header) + hl_object_size(o->nrefs, o->data_size);
}

/* ------------------------------------------------------- validation -- */

#ifndef NDEBUG
/* Outside a collection: no mark is set and the list agrees with the
 * counters.  O(objects). */
static void ms_validate(const marksweep *m)
{
    uint64_t objects = 0, bytes = 0, weakrefs = 0;
    for (ms_header *h = m->all; h != NULL; h = h->next) {
        hl_object *o = object_of(h);
        assert(h->mark == 0);
        objects++;
        bytes += block_size(o);
        weakrefs += o->type == &hl_weakref_type;
    }
    assert(objects == m->live_objects);
    assert(bytes == m->live_bytes);
    assert(weakrefs == m->weakrefs_live);
    assert(m->stack.n == 0);
    (void)objects;
    (void)bytes;
    (void)weakrefs;
}
#else
#define ms_validate(m) ((void)0)
#endif

/* ------------------------------------------------------------- mark -- */

/* Double the mark stack.  Returns 0, or -1 when memory is exhausted. */
static int stack_grow(ms_mark_stack *s)
{
    size_t cap = s->cap ? s->cap * 2 : MS_MARK_STACK_MIN;
    hl_object **items = hl_untracked_alloc(cap * sizeof *items);
    if (items == NULL)
        return -1;
    if (s->n > 0)
        memcpy(items, s->items, s->n * sizeof *items);
    hl_untracked_free(s->items, s->cap * sizeof *items);
    s->items = items;
    s->cap = cap;
    return 0;
}

/* Mark o and schedule its fields; a no-op when already marked.  When the
 * stack cannot grow, o stays marked but unscanned and `overflowed` is set. */
static void mark_object(ms_mark_stack *s, hl_object *o)
{
    ms_header *h = header_of(o);
    if (h->mark)
        return;
    h->mark = 1;
    if (s->n == s->cap && stack_grow(s) != 0) {
        s->overflowed = 1;
        return;
    }
    s->items[s->n++] = o;
}

static void mark_visit(hl_object **field, void *arg)
{
    if (*field != NULL)
        mark_object(arg, *field);
}

/* Scan popped objects until the stack is empty. */
static void mark_drain(ms_mark_stack *s)
{
    while (s->n > 0)
        hl_object_traverse(s->items[--s->n], mark_visit, s);
}

/* Step 1.  Needs: no mark set.  Guarantees: exactly the objects reachable
 * from an object with roots > 0 are marked.  O(objects + reachable edges). */
static void ms_mark(marksweep *m)
{
    ms_mark_stack *s = &m->stack;
    for (ms_header *h = m->all; h != NULL; h = h->next) {
        if (h->roots > 0 && !h->mark) {
            mark_object(s, object_of(h));
            mark_drain(s);
        }
    }
    /* Overflow recovery: every marked object's fields, again, until a pass
     * pushes nothing it could not scan. */
    while (s->overflowed) {
        s->overflowed = 0;
        for (ms_header *h = m->all; h != NULL; h = h->next) {
            if (h->mark) {
                hl_object_traverse(object_of(h), mark_visit, s);
                mark_drain(s);
            }
        }
    }
}

/* ------------------------------------------------------------ clear -- */

/* Step 2.  Needs: marks from step 1.  Clears every weak reference to an
 * unmarked object and pushes the cleared ones that have a callback onto
 * *pending, in weakref.c's order.  Skipped when no weak reference exists. */
static void ms_clear_weakrefs(marksweep *m, hl_object **pending)
{
    if (m->weakrefs_live == 0)
        return;
    for (ms_header *h = m->all; h != NULL; h = h->next) {
        hl_object *o = object_of(h);
        if (!h->mark && hl_weak_has(m->weak, o))
            m->count.weakrefs_cleared += hl_weak_clear(m->weak, o, pending);
    }
}

/* Needs: the final marks (after step 3).  Drops from `pending` the weak
 * references that are themselves unmarked: the sweep frees them, and a
 * weak reference dying with its referent gets no callback. */
static hl_object *ms_live_pending(hl_object *pending)
{
    hl_object **link = &pending;
    while (*link != NULL) {
        hl_weak_data *d = hl_weak_data_of(*link);
        if (header_of(*link)->mark)
            link = &d->pending_next;
        else
            *link = d->pending_next;
    }
    return pending;
}

/* --------------------------------------------------------- finalize -- */

enum { MS_FINALIZED = 1, MS_FINALIZED_NOW = 2 };

/* Step 3.  Needs: marks of the latest mark.  Runs the type's finalizers
 * (PEP 442's finalize, then the legacy one) of every unmarked object that
 * has some and did not run them yet, and flags it: at most once in an
 * object's life.  Nothing is freed before the sweep, so each finalizer sees
 * the whole dead set intact, whatever points to what.  A finalizer may
 * allocate (new objects go to the list's head, behind this walk) and
 * resurrect.  Returns how many objects it finalized.  O(objects). */
static size_t ms_finalize(marksweep *m, const hl_gc *gc)
{
    size_t n = 0;
    for (ms_header *h = m->all; h != NULL; h = h->next) {
        const hl_type *t = object_of(h)->type;
        if (h->mark || h->finalized || !hl_type_finalizes(t))
            continue;
        h->finalized = MS_FINALIZED_NOW;
        n++;
        if (t->finalize != NULL)
            t->finalize(gc, object_of(h));
        if (t->legacy_del != NULL)
            t->legacy_del(gc, object_of(h));
    }
    return n;
}

/* After the last mark: count the objects finalized in this collection and
 * the resurrected among them (marked again), and settle their flag.
 * O(objects); run only when finalizers ran. */
static void ms_count_finalized(marksweep *m)
{
    for (ms_header *h = m->all; h != NULL; h = h->next) {
        if (h->finalized != MS_FINALIZED_NOW)
            continue;
        m->count.finalizers_run++;
        m->count.resurrected += h->mark != 0;
        h->finalized = MS_FINALIZED;
    }
}

/* Reset every mark, for a new mark after finalizers ran.  O(objects). */
static void ms_unmark(marksweep *m)
{
    for (ms_header *h = m->all; h != NULL; h = h->next)
        h->mark = 0;
}

/* ------------------------------------------------------------ sweep -- */

/* Return o's block to the allocator; a weak reference still attached to a
 * living target leaves its list first. */
static void ms_free(marksweep *m, hl_object *o)
{
    size_t size = block_size(o);
    if (o->type == &hl_weakref_type) {
        if (hl_weak_target(o) != NULL)
            hl_weak_detach(m->weak, o);
        m->weakrefs_live--;
    }
    m->live_objects--;
    m->live_bytes -= size;
    m->count.objects_freed++;
    ms_header *h = header_of(o);
#ifndef NDEBUG
    memset(h, 0xdd, size); /* a dangling use reads garbage, not a live object */
#endif
    hl_free(m->alloc, h, size);
}

/* Step 4.  Needs: the final marks (step 3 done).  Frees every unmarked
 * object and resets the marks of the rest.  O(objects). */
static void ms_sweep(marksweep *m)
{
    ms_header **link = &m->all;
    while (*link != NULL) {
        ms_header *h = *link;
        if (h->mark) {
            h->mark = 0;
            link = &h->next;
        } else {
            *link = h->next;
            ms_free(m, object_of(h));
            m->count.collected++;
        }
    }
}

/* -------------------------------------------------------- callbacks -- */

/* Step 5: the callbacks of the surviving cleared weak references. */
static void ms_run_callbacks(marksweep *m, hl_object *pending)
{
    if (pending != NULL)
        m->count.callbacks_run += hl_weak_run_callbacks(pending, NULL, NULL);
}

/* ------------------------------------------------------- collection -- */

/* The next trigger: max(MS_TRIGGER_MIN_BYTES, MS_HEAP_GROWTH x live). */
static void ms_set_trigger(marksweep *m)
{
    uint64_t grow = (uint64_t)(MS_HEAP_GROWTH * (double)m->live_bytes);
    m->trigger_bytes = grow > MS_TRIGGER_MIN_BYTES ? grow : MS_TRIGGER_MIN_BYTES;
    m->since_bytes = 0;
}

static const hl_collector_ops ms_ops; /* finalizers get the collector */

/* One full collection, timed.  A no-op inside another (from a finalizer or
 * a callback). */
static void ms_collect(marksweep *m)
{
    if (m->collecting)
        return;
    m->collecting = 1;
    uint64_t start = hl_now_ns();
    ms_validate(m);
    const hl_gc gc = {&ms_ops, m, NULL};

    ms_mark(m);
    hl_object *pending = NULL;
    ms_clear_weakrefs(m, &pending);
    /* Reachability again after finalizers: what they resurrected (or made,
     * or dropped) decides what the sweep takes; objects found dead only
     * now are finalized in turn.  Each object finalizes once, so this
     * ends. */
    int finalized = 0;
    while (m->finalizers_seen && ms_finalize(m, &gc) > 0) {
        finalized = 1;
        ms_unmark(m);
        ms_mark(m);
        ms_clear_weakrefs(m, &pending);
    }
    if (finalized)
        ms_count_finalized(m);
    pending = ms_live_pending(pending);
    ms_sweep(m);
    ms_set_trigger(m);
    ms_run_callbacks(m, pending);

    m->count.collections++;
    hl_pause_record(&m->pauses, (double)(hl_now_ns() - start));
    ms_validate(m);
    m->collecting = 0;
}

/* ---------------------------------------------------------- objects -- */

/* Whether `size` more bytes would take the heap past its limit. */
static int ms_over_limit(const marksweep *m, size_t size)
{
    return m->heap_limit != 0 && m->live_bytes + size > m->heap_limit;
}

/* A zeroed object held by one root.  Collects first when the trigger is
 * passed or the object would pass the heap limit, and once more when the
 * allocator says no; NULL when it still would pass the limit after that
 * collection, or the allocator still says no.  O(1) besides those
 * collections. */
static hl_object *ms_new_object(void *ctx, const hl_type *type, uint32_t nrefs,
                                uint32_t data_size)
{
    marksweep *m = ctx;
    size_t size = sizeof(ms_header) + hl_object_size(nrefs, data_size);
    if (m->since_bytes > m->trigger_bytes || ms_over_limit(m, size))
        ms_collect(m);
    if (ms_over_limit(m, size))
        return NULL; /* still over after a full collection */
    ms_header *h = hl_alloc(m->alloc, size);
    if (h == NULL) {
        ms_collect(m);
        h = hl_alloc(m->alloc, size);
        if (h == NULL)
            return NULL;
    }
    memset(h, 0, size);
    h->next = m->all;
    h->roots = 1;
    m->all = h;
    hl_object *o = object_of(h);
    o->type = type;
    o->nrefs = nrefs;
    o->data_size = data_size;
    m->finalizers_seen |= hl_type_finalizes(type);
    m->live_objects++;
    m->live_bytes += size;
    m->since_bytes += size;
    m->count.objects_allocated++;
    return o;
}

static void ms_retain(void *ctx, hl_object *o)
{
    (void)ctx;
    header_of(o)->roots++;
}

static void ms_release(void *ctx, hl_object *o)
{
    (void)ctx;
    ms_header *h = header_of(o);
    assert(h->roots > 0);
    h->roots--;
}

/* Death is the collector's business. */
static void ms_free_object(void *ctx, hl_object *o)
{
    (void)ctx;
    (void)o;
}

static void ms_collect_generation(void *ctx, int generation)
{
    (void)generation; /* one generation */
    ms_collect(ctx);
}

/* -------------------------------------------------- weak references -- */

/* A weak reference object (weakref.h's layout) on target's list; a NULL
 * target gives one that reads NULL from the start. */
static hl_object *ms_weak_new(void *ctx, hl_object *target, hl_weak_callback cb, void *arg)
{
    marksweep *m = ctx;
    hl_object *w = ms_new_object(m, &hl_weakref_type, 0, sizeof(hl_weak_data));
    if (w == NULL)
        return NULL;
    m->weakrefs_live++;
    if (target != NULL && hl_weak_attach(m->weak, w, target, cb, arg) != 0) {
        ms_release(m, w); /* garbage for the next collection */
        return NULL;
    }
    return w;
}

static hl_object *ms_weak_get(void *ctx, hl_object *w)
{
    (void)ctx;
    return hl_weak_target(w);
}

/* --------------------------------------------------------- lifetime -- */

static const char *ms_unavailable(void)
{
    return NULL;
}

static int ms_init(void **ctx, const hl_allocator *alloc, const hl_gc_config *cfg)
{
    marksweep *m = hl_untracked_alloc(sizeof *m);
    if (m == NULL)
        return -ENOMEM;
    if (hl_weak_table_init(&m->weak) != 0) {
        hl_untracked_free(m, sizeof *m);
        return -ENOMEM;
    }
    m->alloc = alloc;
    m->heap_limit = cfg->heap_limit > 0 ? (uint64_t)cfg->heap_limit : 0; /* not generational */
    ms_set_trigger(m);
    *ctx = m;
    return 0;
}

/* Free every object (no callbacks run) and the collector. */
static void ms_fini(void *ctx)
{
    marksweep *m = ctx;
    ms_validate(m);
    for (ms_header *h = m->all; h != NULL; h = h->next) {
        hl_object *o = object_of(h);
        if (o->type == &hl_weakref_type && hl_weak_target(o) != NULL)
            hl_weak_detach(m->weak, o);
    }
    ms_header *h = m->all;
    while (h != NULL) {
        ms_header *next = h->next;
        hl_free(m->alloc, h, block_size(object_of(h)));
        h = next;
    }
    hl_weak_table_fini(m->weak);
    hl_untracked_free(m->stack.items, m->stack.cap * sizeof *m->stack.items);
    hl_pause_free(&m->pauses);
    hl_untracked_free(m, sizeof *m);
}

static void ms_stats(void *ctx, hl_gc_stats *out)
{
    marksweep *m = ctx;
    out->collections[0] = m->count.collections;
    out->collected[0] = m->count.collected;
    out->objects_allocated = m->count.objects_allocated;
    out->objects_freed = m->count.objects_freed;
    out->weakrefs_cleared = m->count.weakrefs_cleared;
    out->callbacks_run = m->count.callbacks_run;
    out->finalizers_run = m->count.finalizers_run;
    out->resurrected = m->count.resurrected;
    out->own_live_bytes = -1; /* the tracker sees this heap */
    out->own_heap_bytes = -1;
    hl_pause_summary(&m->pauses, out);
}

static const hl_collector_ops ms_ops = {
    .name = "marksweep",
    .description = "heaplab's precise mark-sweep over any allocator (2x heap trigger)",
    .flags = HL_GC_FREES_CYCLES | HL_GC_FINALIZES,
    .unavailable = ms_unavailable,
    .init = ms_init,
    .fini = ms_fini,
    .new_object = ms_new_object,
    .store = NULL, /* no write barrier: hl_store writes inline */
    .retain = ms_retain,
    .release = ms_release,
    .free_object = ms_free_object,
    .collect = ms_collect_generation,
    .weak_new = ms_weak_new,
    .weak_get = ms_weak_get,
    .stats = ms_stats,
};

const hl_collector_ops *hl_marksweep_collector(void)
{
    return &ms_ops;
}
