/*
 * cycle.c - `--collector=cycle`: reference counting plus CPython's
 * generational cycle collector (Modules/gcmodule.c of CPython 3.11/3.12;
 * InternalDocs/garbage_collector.md describes the same algorithm).
 *
 * Reference counting (rc.h, shared with refcount.c) frees everything that
 * is not part of, or held by, a cycle, the moment it becomes garbage.  The
 * cycle collector finds the rest: a set of objects none of which is
 * referenced from outside the set, except through each other.
 *
 * Layout of an allocation (prefix: 24 bytes):
 *
 *     +-----------+-----------+-----------------+--------------------+
 *     | gc_next   | gc_prev   | rc word         | hl_object ...      |
 *     +-----------+-----------+-----------------+--------------------+
 *       2-word GC header        count (lo 32)
 *
 * gc_next/gc_prev link the object into a doubly linked list: one of the
 * three generations, or the list of untracked objects.  During a collection
 * they carry more (CPython's trick, so a collection needs no memory of its
 * own):
 *   gc_prev  bit 0 COLLECTING: the object is in the set being collected;
 *            while the set is analysed the rest of the word is not a
 *            pointer but gc_refs (the count minus references from inside
 *            the set), shifted left by 1;
 *   gc_next  bit 0 UNREACHABLE: on the tentative unreachable list.
 * Pointers are at least 8-aligned, so bit 0 is free.
 *
 * A collection of generation g (gc_collect_generation), one step each:
 *   1. merge_younger_generations  generations 0..g-1 join g; g+1's count
 *      grows by one, counts 0..g reset;
 *   2. update_refs                gc_refs = count, for every object;
 *   3. subtract_refs              gc_refs -= 1 for each reference from inside
 *      the set: whoever keeps gc_refs > 0 is referenced from outside;
 *   4. move_unreachable           objects with gc_refs > 0 and everything
 *      they reach are reachable; the rest move to the unreachable list
 *      (breadth-first over the list itself, O(1) extra memory);
 *   5. move_survivors             reachable objects age into g+1 (or stay in
 *      2), with the long-lived bookkeeping;
 *   6. handle_weakrefs            clear every weak reference to unreachable
 *      objects first; then run the callbacks of those weak references that
 *      are themselves reachable (a weak reference dying with its referent
 *      gets no callback);
 *   7. delete_garbage             clear each unreachable object's fields as
 *      a store of NULL would, so reference counting frees the cycles;
 *   8. record_collection          per-generation statistics and the pause.
 * There are no finalizers in heaplab's object model, so CPython's steps for
 * tp_finalize, legacy __del__ and resurrection have no counterpart, and no
 * object is ever uncollectable (`uncollectable` stays 0).
 *
 * When to collect (collect_generations): generation 0's count is the number
 * of tracked objects allocated minus those deallocated since its last
 * collection; when an allocation makes it exceed threshold[0], the oldest
 * generation whose count exceeds its threshold is collected, except that a
 * full collection is skipped while long_lived_pending < long_lived_total / 4
 * (objects that survived into generation 2 since the last full collection,
 * against those that survived it): full collections then cost amortised
 * linear time (when cfg->long_lived_rule).  threshold[0] = 0 disables
 * automatic collection, like gc.disable().
 *
 * Tracking: objects without reference fields (nrefs 0) can never be part
 * of a cycle nor keep one alive, so, as CPython leaves atoms untracked,
 * they go on an untracked list (kept only so fini can free them) and count
 * for nothing.  Weak reference objects are tracked, as in CPython: whether
 * one dies in the same collection as its referent decides its callback.
 *
 * Cost: a full collection of 1,000,000 objects held in 2-cycles takes
 * about 20 ns per collected object (pool allocator, measured on the
 * development machine; CPython 3.11 needs ~120).  Each step is one pass
 * over a list in allocation order, so the walk is mostly sequential.
 *
 * Tunables (hl_gc_config): threshold[0..2] (700, 10, 10), long_lived_rule.
 * Invariants: outside a collection every list is a proper doubly linked
 * ring with no flag bits; an object is on exactly one list from allocation
 * to death.
 */
#include "collectors/collector.h"

#include <assert.h>
#include <errno.h>

#include "collectors/pauses.h"
#include "collectors/rc.h"
#include "collectors/weakref.h"

typedef struct gc_head {
    uintptr_t next; /* gc_head * | UNREACHABLE */
    uintptr_t prev; /* gc_head * | COLLECTING, or gc_refs << REFS_SHIFT | COLLECTING */
} gc_head;

#define CYCLE_PREFIX (sizeof(gc_head) + sizeof(uint64_t))
#define PREV_COLLECTING ((uintptr_t)1)
#define NEXT_UNREACHABLE ((uintptr_t)1)
#define REFS_SHIFT 1
#define ONE_REF ((uintptr_t)1 << REFS_SHIFT)

typedef struct gc_generation {
    gc_head head;      /* sentinel of the ring */
    int64_t threshold; /* collect when count exceeds it */
    int64_t count;     /* gen 0: tracked allocations - deallocations; others:
                          collections of the next younger generation */
} gc_generation;

typedef struct cycle {
    rc_heap heap; /* first: unregister casts back */
    gc_generation gen[HL_GC_GENERATIONS];
    gc_head untracked;         /* objects without reference fields */
    int long_lived_rule;
    int64_t long_lived_total;   /* survivors of the last full collection */
    int64_t long_lived_pending; /* survivors into gen 2 since then */
    int collecting;
    size_t weakrefs_alive;      /* weak reference objects alive */
    hl_pause_log pauses;
    uint64_t collections[HL_GC_GENERATIONS];
    uint64_t collected[HL_GC_GENERATIONS];
    uint64_t uncollectable[HL_GC_GENERATIONS];
} cycle;

/* ------------------------------------------------------------ heads -- */

static inline gc_head *head_of(hl_object *o)
{
    return (gc_head *)(void *)((char *)o - CYCLE_PREFIX);
}

static inline hl_object *object_of(gc_head *h)
{
    return (hl_object *)(void *)((char *)h + CYCLE_PREFIX);
}

static inline gc_head *next_of(const gc_head *h)
{
    return (gc_head *)(h->next & ~NEXT_UNREACHABLE);
}

static inline gc_head *prev_of(const gc_head *h)
{
    return (gc_head *)(h->prev & ~PREV_COLLECTING);
}

static inline int is_collecting(const gc_head *h)
{
    return (h->prev & PREV_COLLECTING) != 0;
}

static inline uintptr_t gc_refs(const gc_head *h)
{
    return h->prev >> REFS_SHIFT;
}

/* Whether o's type traverses its fields itself (else: the nrefs slots). */
static inline int has_own_traverse(const hl_object *o)
{
    return o->type != NULL && o->type->traverse != NULL;
}

static inline int is_tracked_kind(const hl_object *o)
{
    return o->nrefs > 0 || o->type == &hl_weakref_type;
}

/* ------------------------------------------------------------ lists -- */

static void list_init(gc_head *list)
{
    list->next = list->prev = (uintptr_t)list;
}

static int list_is_empty(const gc_head *list)
{
    return next_of(list) == list;
}

/* Append node to a list without flags. */
static void list_append(gc_head *node, gc_head *list)
{
    gc_head *last = (gc_head *)list->prev;
    node->prev = (uintptr_t)last;
    last->next = (uintptr_t)node;
    node->next = (uintptr_t)list;
    list->prev = (uintptr_t)node;
}

/* Unlink node from whatever list holds it; the neighbours keep their flags
 * (works on generation lists and on the unreachable list alike). */
static void list_unlink(gc_head *node)
{
    gc_head *prev = prev_of(node);
    gc_head *next = next_of(node);
    prev->next = node->next;
    next->prev = (uintptr_t)prev | (next->prev & PREV_COLLECTING);
}

/* Move every node of `from` (flag-free) to the end of `to`; from empties. */
static void list_merge(gc_head *from, gc_head *to)
{
    if (list_is_empty(from))
        return;
    gc_head *to_last = (gc_head *)to->prev;
    gc_head *first = (gc_head *)from->next, *last = (gc_head *)from->prev;
    to_last->next = (uintptr_t)first;
    first->prev = (uintptr_t)to_last;
    last->next = (uintptr_t)to;
    to->prev = (uintptr_t)last;
    list_init(from);
}

/* ------------------------------------------------------- validators -- */

#ifndef NDEBUG
/* Every node of `list` links back correctly and carries exactly the given
 * flags (prev_flag on gc_prev, next_flag on gc_next). */
static void validate_list(const gc_head *list, uintptr_t prev_flag, uintptr_t next_flag)
{
    const gc_head *prev = list;
    for (const gc_head *h = next_of(list); h != list; h = next_of(h)) {
        assert(prev_of(h) == prev);
        assert((h->prev & PREV_COLLECTING) == prev_flag);
        assert((h->next & NEXT_UNREACHABLE) == next_flag);
        assert(is_tracked_kind(object_of((gc_head *)h)));
        prev = h;
    }
    assert(prev_of(list) == prev);
}

/* After update_refs: gc_refs equals the count, COLLECTING set. */
static void validate_refs_copied(const gc_head *young)
{
    for (const gc_head *h = next_of(young); h != young; h = next_of(h)) {
        assert(is_collecting(h));
        assert(gc_refs(h) == rc_count(object_of((gc_head *)h)));
    }
}

/* After subtract_refs: 0 <= gc_refs <= count (underflow is caught where it
 * would happen, in visit_decref). */
static void validate_refs_subtracted(const gc_head *young)
{
    for (const gc_head *h = next_of(young); h != young; h = next_of(h)) {
        assert(is_collecting(h));
        assert(gc_refs(h) <= rc_count(object_of((gc_head *)h)));
    }
}

/* A generation list is not walked whole outside its own collection (that
 * would make every young collection cost the old generation's size): only
 * its sentinel's links are checked. */
static void validate_sentinel(const gc_head *list)
{
    assert(prev_of(next_of(list)) == list);
    assert(next_of(prev_of(list)) == list);
}
#else
#define validate_list(list, prev_flag, next_flag) ((void)0)
#define validate_refs_copied(young) ((void)0)
#define validate_refs_subtracted(young) ((void)0)
#define validate_sentinel(list) ((void)0)
#endif

/* -------------------------------------------------- collection steps -- */

/* Step 1.  Needs: no collection running.  Does: counts as CPython (g+1's
 * count +1, 0..g reset) and splices generations 0..g-1 onto g.  Returns g's
 * list.  O(g). */
static gc_head *merge_younger_generations(cycle *c, int generation)
{
    if (generation + 1 < HL_GC_GENERATIONS)
        c->gen[generation + 1].count += 1;
    for (int i = 0; i <= generation; i++)
        c->gen[i].count = 0;
    for (int i = 0; i < generation; i++)
        list_merge(&c->gen[i].head, &c->gen[generation].head);
    return &c->gen[generation].head;
}

/* Step 2.  Needs: young flag-free.  Does: gc_prev of each object = its count
 * as gc_refs, with COLLECTING; the prev links are lost until step 4 rebuilds
 * them.  Returns the number of objects.  O(young). */
static size_t update_refs(gc_head *young)
{
    size_t n = 0;
    for (gc_head *h = (gc_head *)young->next; h != young; h = (gc_head *)h->next) {
        h->prev = ((uintptr_t)rc_count(object_of(h)) << REFS_SHIFT) | PREV_COLLECTING;
        n++;
    }
    return n;
}

static void visit_decref(hl_object **field, void *arg)
{
    (void)arg;
    if (*field == NULL)
        return;
    gc_head *h = head_of(*field);
    if (is_collecting(h)) {
        assert(gc_refs(h) > 0);
        h->prev -= ONE_REF;
    }
}

/* Step 3.  Needs: step 2 done.  Does: for every reference from an object of
 * the set to an object of the set, the referent's gc_refs drops by one; what
 * stays above zero is referenced from outside.  O(young + its fields). */
static void subtract_refs(gc_head *young)
{
    for (gc_head *h = (gc_head *)young->next; h != young; h = (gc_head *)h->next) {
        hl_object *o = object_of(h);
        if (has_own_traverse(o)) {
            o->type->traverse(o, visit_decref, NULL);
            continue;
        }
        for (uint32_t i = 0; i < o->nrefs; i++)
            if (o->refs[i] != NULL)
                visit_decref(&o->refs[i], NULL);
    }
}

/* A reference from a reachable object of the set: its referent, if in the
 * set and not yet scanned, is reachable too.  One on the tentative
 * unreachable list comes back to the end of young, to be scanned in turn. */
static void visit_reachable(hl_object **field, void *arg)
{
    if (*field == NULL)
        return;
    gc_head *young = arg;
    gc_head *h = head_of(*field);
    if (!is_collecting(h))
        return; /* outside the set, or already scanned */
    if (h->next & NEXT_UNREACHABLE) {
        gc_head *prev = prev_of(h), *next = next_of(h);
        prev->next = h->next;
        next->prev = (uintptr_t)prev | (next->prev & PREV_COLLECTING);
        gc_head *last = (gc_head *)young->prev;
        last->next = (uintptr_t)h;
        h->next = (uintptr_t)young;
        young->prev = (uintptr_t)h;
        h->prev = ONE_REF | PREV_COLLECTING;
    } else if (gc_refs(h) == 0) {
        h->prev = ONE_REF | PREV_COLLECTING;
    }
}

/* Step 4.  Needs: step 3 done.  Does: walks young once, front to back; an
 * object with gc_refs > 0 is reachable: its referents in the set get
 * gc_refs >= 1 (those already moved out come back to young's end), its prev
 * link is restored and COLLECTING cleared.  An object with gc_refs == 0 moves
 * to `unreachable`, tentatively: a later reachable object may bring it back.
 * The list itself is the queue, so the walk is breadth-first and needs O(1)
 * memory.  Leaves young a flag-free list of the reachable objects, and
 * `unreachable` a list whose every node has COLLECTING on gc_prev and
 * UNREACHABLE on gc_next.  Returns the number reachable.  O(young + fields). */
static size_t move_unreachable(gc_head *young, gc_head *unreachable)
{
    list_init(unreachable);
    gc_head *prev = young;
    gc_head *h = (gc_head *)young->next;
    size_t reachable = 0;
    while (h != young) {
        if (gc_refs(h) > 0) {
            hl_object *o = object_of(h);
            if (has_own_traverse(o)) {
                o->type->traverse(o, visit_reachable, young);
            } else {
                for (uint32_t i = 0; i < o->nrefs; i++)
                    if (o->refs[i] != NULL)
                        visit_reachable(&o->refs[i], young);
            }
            h->prev = (uintptr_t)prev;
            prev = h;
            reachable++;
        } else {
            prev->next = h->next;
            gc_head *last = (gc_head *)unreachable->prev;
            last->next = (uintptr_t)h | NEXT_UNREACHABLE;
            h->prev = (uintptr_t)last | PREV_COLLECTING;
            h->next = (uintptr_t)unreachable | NEXT_UNREACHABLE;
            unreachable->prev = (uintptr_t)h;
        }
        h = (gc_head *)prev->next;
    }
    young->prev = (uintptr_t)prev;
    return reachable;
}

/* Step 5.  Needs: step 4 done.  Does: the reachable objects join the next
 * generation; a collection of generation 1 adds them to long_lived_pending,
 * a full one resets the long-lived figures (CPython's accounting).  O(1). */
static void move_survivors(cycle *c, gc_head *young, gc_head *old, int generation,
                           size_t survivors)
{
    if (young != old) {
        if (generation == HL_GC_GENERATIONS - 2)
            c->long_lived_pending += (int64_t)survivors;
        list_merge(young, old);
    } else {
        c->long_lived_pending = 0;
        c->long_lived_total = (int64_t)survivors;
    }
}

/* Whether a queued weak reference is itself garbage of this collection. */
static int weakref_is_garbage(hl_object *w, void *arg)
{
    (void)arg;
    return is_collecting(head_of(w));
}

/* Step 6.  Needs: step 5 done (the reachable objects are out of the set).
 * Does: unlinks every garbage weak reference from its referent (it must
 * never fire), clears every weak reference to a garbage object, and only
 * then runs the callbacks of the cleared references that are reachable,
 * each held alive by a reference of ours meanwhile.  Callbacks may run
 * arbitrary mutator code (no collection starts while one runs).  O(1) when
 * no weak reference exists, else O(unreachable + weak references). */
static void handle_weakrefs(cycle *c, gc_head *unreachable)
{
    if (c->weakrefs_alive == 0)
        return;
    hl_weak_table *weak = c->heap.weak;
    hl_object *pending = NULL;
    for (gc_head *h = next_of(unreachable); h != unreachable; h = next_of(h)) {
        hl_object *o = object_of(h);
        if (o->type == &hl_weakref_type)
            hl_weak_detach(weak, o);
        if (hl_weak_has(weak, o))
            c->heap.weak_cleared += hl_weak_clear(weak, o, &pending);
    }
    if (pending == NULL)
        return;
    for (hl_object *w = pending; w != NULL; w = hl_weak_data_of(w)->pending_next)
        if (!weakref_is_garbage(w, NULL))
            rc_incref(w);
    c->heap.callbacks_run += hl_weak_run_callbacks(pending, weakref_is_garbage, NULL);
    for (hl_object *w = pending, *next; w != NULL; w = next) {
        next = hl_weak_data_of(w)->pending_next;
        if (!weakref_is_garbage(w, NULL))
            rc_decref(&c->heap, w);
    }
}

static void visit_clear(hl_object **field, void *arg)
{
    hl_object *v = *field;
    if (v != NULL) {
        *field = NULL;
        rc_decref(arg, v);
    }
}

/* Step 7.  Needs: step 6 done.  Does: for each garbage object in turn, held
 * by a reference of ours, sets every field to NULL dropping its reference
 * (CPython's tp_clear); reference counting then frees the object and its
 * cycle, each dead object leaving the list as it dies.  One still alive
 * after its clearing (held by garbage not yet cleared) moves to `old`,
 * flag-free, and dies when that garbage is cleared.  Returns with
 * `unreachable` empty.  O(garbage + its fields). */
static void delete_garbage(cycle *c, gc_head *unreachable, gc_head *old)
{
    while (!list_is_empty(unreachable)) {
        gc_head *h = next_of(unreachable);
        hl_object *o = object_of(h);
        rc_incref(o);
        if (has_own_traverse(o)) {
            o->type->traverse(o, visit_clear, &c->heap);
        } else {
            for (uint32_t i = 0; i < o->nrefs; i++) {
                hl_object *v = o->refs[i];
                if (v != NULL) {
                    o->refs[i] = NULL;
                    rc_decref(&c->heap, v);
                }
            }
        }
        rc_decref(&c->heap, o);
        if (next_of(unreachable) == h) {
            list_unlink(h);
            list_append(h, old);
        }
    }
}

/* Step 8.  Per-generation statistics, as gc.get_stats(), and the pause. */
static void record_collection(cycle *c, int generation, size_t collected, uint64_t start_ns)
{
    c->collections[generation]++;
    c->collected[generation] += collected;
    hl_pause_record(&c->pauses, (double)(hl_now_ns() - start_ns));
}

/* Collect generation `generation` (0..2): the algorithm, one step per call.
 * Needs: no collection running.  Returns the number of objects found
 * unreachable (all of which are freed: there are no finalizers).  O(objects
 * of generations 0..g + their fields + garbage). */
static size_t gc_collect_generation(cycle *c, int generation)
{
    uint64_t start = hl_now_ns();
    c->collecting = 1;
    gc_head *young = merge_younger_generations(c, generation);
    gc_head *old = generation + 1 < HL_GC_GENERATIONS ? &c->gen[generation + 1].head : young;
    validate_list(young, 0, 0);
    validate_sentinel(old);

    size_t objects = update_refs(young);
    validate_refs_copied(young);
    subtract_refs(young);
    validate_refs_subtracted(young);
    gc_head unreachable;
    size_t survivors = move_unreachable(young, &unreachable);
    validate_list(young, 0, 0);
    validate_list(&unreachable, PREV_COLLECTING, NEXT_UNREACHABLE);

    move_survivors(c, young, old, generation, survivors);
    handle_weakrefs(c, &unreachable);
    delete_garbage(c, &unreachable, old);
    validate_sentinel(old);

    size_t collected = objects - survivors;
    record_collection(c, generation, collected, start);
    c->collecting = 0;
    return collected;
}

/* CPython's collect_generations: the oldest generation whose count exceeds
 * its threshold, a full collection subject to the long-lived rule. */
static void collect_generations(cycle *c)
{
    for (int i = HL_GC_GENERATIONS - 1; i >= 0; i--) {
        if (c->gen[i].count <= c->gen[i].threshold)
            continue;
        if (i == HL_GC_GENERATIONS - 1 && c->long_lived_rule &&
            c->long_lived_pending < c->long_lived_total / 4)
            continue;
        gc_collect_generation(c, i);
        return;
    }
}

/* --------------------------------------------------------- the ops -- */

static void cycle_unregister(rc_heap *h, hl_object *o)
{
    cycle *c = (cycle *)h;
    list_unlink(head_of(o));
    if (is_tracked_kind(o)) {
        if (c->gen[0].count > 0)
            c->gen[0].count--;
        if (o->type == &hl_weakref_type)
            c->weakrefs_alive--;
    }
}

static int cycle_init(void **ctx, const hl_allocator *alloc, const hl_gc_config *cfg)
{
    cycle *c = hl_untracked_alloc(sizeof *c);
    if (c == NULL)
        return -ENOMEM;
    if (hl_weak_table_init(&c->heap.weak) != 0) {
        hl_untracked_free(c, sizeof *c);
        return -ENOMEM;
    }
    c->heap.alloc = alloc;
    c->heap.prefix = CYCLE_PREFIX;
    c->heap.unregister = cycle_unregister;
    for (int i = 0; i < HL_GC_GENERATIONS; i++) {
        list_init(&c->gen[i].head);
        c->gen[i].threshold = cfg->threshold[i];
    }
    list_init(&c->untracked);
    c->long_lived_rule = cfg->long_lived_rule;
    *ctx = c;
    return 0;
}

static void free_list(cycle *c, gc_head *list)
{
    for (gc_head *h = next_of(list), *next; h != list; h = next) {
        next = next_of(h);
        hl_object *o = object_of(h);
        hl_free(c->heap.alloc, h, rc_block_size(&c->heap, o));
    }
}

/* Free every object still alive, without callbacks or count changes. */
static void cycle_fini(void *ctx)
{
    cycle *c = ctx;
    for (int i = 0; i < HL_GC_GENERATIONS; i++)
        free_list(c, &c->gen[i].head);
    free_list(c, &c->untracked);
    hl_pause_free(&c->pauses);
    hl_weak_table_fini(c->heap.weak);
    hl_untracked_free(c, sizeof *c);
}

/* A new object, count 1.  A tracked one counts toward generation 0 first,
 * and may start a collection (before the allocation, so the collection can
 * return memory first). */
static hl_object *cycle_new_object(void *ctx, const hl_type *t, uint32_t nrefs, uint32_t data_size)
{
    cycle *c = ctx;
    int tracked = nrefs > 0 || t == &hl_weakref_type;
    if (tracked) {
        c->gen[0].count++;
        if (c->gen[0].threshold > 0 && c->gen[0].count > c->gen[0].threshold && !c->collecting)
            collect_generations(c);
    }
    size_t size = hl_object_size(nrefs, data_size);
    char *block = hl_alloc(c->heap.alloc, CYCLE_PREFIX + size);
    if (block == NULL) {
        if (tracked && c->gen[0].count > 0)
            c->gen[0].count--;
        return NULL;
    }
    hl_object *o = (hl_object *)(void *)(block + CYCLE_PREFIX);
    rc_init_object(o, size, t, nrefs, data_size);
    list_append(head_of(o), tracked ? &c->gen[0].head : &c->untracked);
    c->heap.allocated++;
    return o;
}

static void cycle_store(void *ctx, hl_object *o, uint32_t field, hl_object *value)
{
    cycle *c = ctx;
    rc_store(&c->heap, o, field, value);
}

static void cycle_retain(void *ctx, hl_object *o)
{
    (void)ctx;
    rc_incref(o);
}

static void cycle_release(void *ctx, hl_object *o)
{
    cycle *c = ctx;
    rc_decref(&c->heap, o);
}

static void cycle_free_object(void *ctx, hl_object *o)
{
    (void)ctx;
    (void)o;
}

/* gc.collect(generation): -1 (or anything out of range) is a full
 * collection.  Ignored while a collection runs (from a weak callback). */
static void cycle_collect(void *ctx, int generation)
{
    cycle *c = ctx;
    if (c->collecting)
        return;
    if (generation < 0 || generation >= HL_GC_GENERATIONS)
        generation = HL_GC_GENERATIONS - 1;
    gc_collect_generation(c, generation);
}

static hl_object *cycle_weak_new(void *ctx, hl_object *target, hl_weak_callback cb, void *arg)
{
    cycle *c = ctx;
    hl_object *w = cycle_new_object(c, &hl_weakref_type, 0, sizeof(hl_weak_data));
    if (w == NULL)
        return NULL;
    c->weakrefs_alive++;
    if (hl_weak_attach(c->heap.weak, w, target, cb, arg) != 0) {
        rc_decref(&c->heap, w); /* detached: dies quietly */
        c->heap.allocated--;
        c->heap.freed--;
        return NULL;
    }
    return w;
}

static hl_object *cycle_weak_get(void *ctx, hl_object *weakref)
{
    (void)ctx;
    return hl_weak_target(weakref);
}

static void cycle_stats(void *ctx, hl_gc_stats *out)
{
    cycle *c = ctx;
    for (int i = 0; i < HL_GC_GENERATIONS; i++) {
        out->collections[i] = c->collections[i];
        out->collected[i] = c->collected[i];
        out->uncollectable[i] = c->uncollectable[i];
    }
    out->objects_allocated = c->heap.allocated;
    out->objects_freed = c->heap.freed;
    out->weakrefs_cleared = c->heap.weak_cleared;
    out->callbacks_run = c->heap.callbacks_run;
    hl_pause_summary(&c->pauses, out);
    out->own_live_bytes = out->own_heap_bytes = -1;
}

static const hl_collector_ops cycle_ops = {
    .name = "cycle",
    .description = "reference counting + CPython 3.11/3.12's generational cycle collector",
    .flags = HL_GC_FREES_CYCLES,
    .unavailable = NULL,
    .init = cycle_init,
    .fini = cycle_fini,
    .new_object = cycle_new_object,
    .store = cycle_store,
    .retain = cycle_retain,
    .release = cycle_release,
    .free_object = cycle_free_object,
    .collect = cycle_collect,
    .weak_new = cycle_weak_new,
    .weak_get = cycle_weak_get,
    .stats = cycle_stats,
};

const hl_collector_ops *hl_cycle_collector(void)
{
    return &cycle_ops;
}
