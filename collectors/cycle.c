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
 *       2-word GC header        bit 62 finalized (rc.h), bit 32
 *                               TRACKED, bits 31..0 the count
 *
 * gc_next/gc_prev link the object into a doubly linked list: one of the
 * three generations, or the list of untracked objects (during a
 * collection also the unreachable, finalizers and seen lists).  During a collection
 * they carry more (CPython's trick, so a collection needs no memory of its
 * own):
 *   gc_prev  bit 0 COLLECTING: the object is in the set being collected;
 *            while the set is analysed the rest of the word is not a
 *            pointer but gc_refs (the count minus references from inside
 *            the set), shifted left by 1;
 *   gc_next  bit 0 UNREACHABLE: on the tentative unreachable list (cleared
 *            by step 7; heaplab's later steps mask it, so step 7 may leave
 *            it when it has nothing to do).
 * Pointers are at least 8-aligned, so bit 0 is free.
 *
 * A collection of generation g (gc_collect_generation) reads as CPython
 * 3.11's gc_collect_main, one named step each (docs/collectors.md maps them
 * to CPython's functions):
 *   1. merge_younger_generations  generations 0..g-1 join g; g+1's count
 *      grows by one, counts 0..g reset;
 *   2. update_refs                gc_refs = count, for every object;
 *   3. subtract_refs              gc_refs -= 1 for each reference from inside
 *      the set: whoever keeps gc_refs > 0 is referenced from outside;
 *   4. move_unreachable           objects with gc_refs > 0 and everything
 *      they reach are reachable; the rest move to the unreachable list
 *      (breadth-first over the list itself, O(1) extra memory);
 *   5. untrack_tuples             reachable tuples holding nothing that can
 *      be tracked leave the generations (see Tracking);
 *   6. move_survivors             reachable objects age into g+1 (or stay in
 *      2), with the long-lived bookkeeping; a full collection first
 *      untracks dicts holding nothing trackable (untrack_dicts);
 *   7. move_legacy_finalizers     unreachable objects whose type has a
 *      legacy finalizer, and (move_legacy_finalizer_reachable) everything
 *      they reach, leave the garbage for a list of uncollectables: deleting
 *      them would run legacy finalizers on objects already cleared;
 *   8. handle_weakrefs            clear every weak reference to the garbage
 *      first; then run the callbacks of those weak references that are
 *      themselves reachable (a weak reference dying with its referent gets
 *      no callback);
 *   9. finalize_garbage           each garbage object's finalizer (PEP 442),
 *      once in the object's life (the finalized bit, rc.h), before anything
 *      of the garbage is cleared;
 *  10. handle_resurrected_objects steps 2-4 again over the garbage: what a
 *      finalizer made reachable again (and what that reaches) survives into
 *      the old generation; the rest is the final garbage;
 *  11. delete_garbage             clear each final garbage object's fields as
 *      a store of NULL would, so reference counting frees the cycles;
 *  12. handle_legacy_finalizers   count the uncollectables left (gc.get_stats'
 *      `uncollectable`), put those with a legacy finalizer on the garbage
 *      list (gc.garbage: a reference each, kept until fini) and the lot into
 *      the old generation;
 *  13. record_collection          per-generation statistics and the pause,
 *      which spans every step above, callbacks and finalizers included.
 * Steps 7, 9 and 10 cost O(1) when no object with a legacy finalizer, or
 * with a finalizer, was ever made, or when no finalizer ran: the passes
 * CPython makes would find nothing (weak-reference callbacks cannot reach
 * the garbage, so only finalizers can resurrect).  Mutator code (callbacks,
 * finalizers) runs only from step 8 on, after the survivors have left the
 * set; no collection starts while one runs.
 *
 * When to collect (collect_generations): generation 0's count is the number
 * of trackable objects allocated minus those deallocated since its last
 * collection; when an allocation makes it exceed threshold[0], the oldest
 * generation whose count exceeds its threshold is collected, except that a
 * full collection is skipped while long_lived_pending < long_lived_total / 4
 * (objects that survived into generation 2 since the last full collection,
 * against those that survived it): full collections then cost amortised
 * linear time (when cfg->long_lived_rule).  threshold[0] = 0 disables
 * automatic collection, like gc.disable().  new_child (a new object stored
 * at once into its parent, held by the parent alone) counts and collects
 * exactly as new_object does, at the same point, and stores as
 * cycle_store does; it only skips the incref and decref in between.
 *
 * Tracking.  An object is tracked while it is on a generation list; the
 * collector examines only tracked objects.  Objects without reference
 * fields (nrefs 0) can never be part of a cycle nor keep one alive, so, as
 * CPython leaves atoms untracked, they go on the untracked list (kept only
 * so fini can free them).  Weak reference objects are tracked, as in
 * CPython: whether one dies in the same collection as its referent decides
 * its callback.  Containers by kind (hl_type_kind):
 *   object  tracked for life;
 *   tuple   created tracked; untracked by a collection that finds each of
 *           its slots NULL (heaplab's atom) or holding an object that
 *           cannot become tracked (an atom, an untracked tuple).  Never
 *           tracked again: a tuple is immutable after construction, and a
 *           workload fills its slots right after hl_new, before allocating
 *           anything else (so before any collection can see it), as CPython
 *           fills a tuple before returning it.  A debug build asserts that
 *           no store makes an untracked tuple able to hold a cycle;
 *   dict    created untracked (an empty dict holds nothing: CPython's
 *           gc.is_tracked({}) is False); tracked by a store of a value that
 *           may be tracked (a tracked object, or a dict that may become so:
 *           MAINTAIN_TRACKING); untracked again by a full collection that
 *           finds it holding no such value (untrack_dicts).
 * Generation 0's count follows allocations and deallocations of every
 * object that could be tracked (nrefs > 0, or a weak reference), whether
 * it is tracked now or not, as CPython counts every GC-capable object.
 * The TRACKED bit (bit 32 of the rc word) says whether an object is on a
 * generation list.
 *
 * Finalizers.  A type's finalize (PEP 442) runs once per object, whether
 * the object dies by count (rc.h) or in a collection (step 9); both paths
 * set the same finalized bit.  Its legacy_del runs when the count reaches
 * zero (rc.h); a cycle holding one is never collected (steps 7 and 12).
 *
 * Cost: a full collection of 1,000,000 objects held in 2-cycles takes
 * about 20 ns per collected object (pool allocator, measured on the
 * development machine; CPython 3.11 needs ~120).  Each step is one pass
 * over a list in allocation order, so the walk is mostly sequential.
 *
 * Tunables (hl_gc_config): threshold[0..2] (700, 10, 10), long_lived_rule.
 * Invariants: outside a collection every list is a proper doubly linked
 * ring with no flag bits; an object is on exactly one list from allocation
 * to death; an object is on a generation list exactly when its TRACKED bit
 * is set, and `tracked` counts them.
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
#define CYCLE_TRACKED (UINT64_C(1) << 32) /* in the rc word: on a generation list */

typedef struct gc_generation {
    gc_head head;      /* sentinel of the ring */
    int64_t threshold; /* collect when count exceeds it */
    int64_t count;     /* gen 0: trackable allocations - deallocations; others:
                          collections of the next younger generation */
} gc_generation;

/* gc.garbage: the uncollectable objects with a legacy finalizer, one
 * reference each, in untracked memory. */
typedef struct garbage_list {
    hl_object **items;
    size_t n, cap;
} garbage_list;

typedef struct cycle {
    rc_heap heap; /* first: rc_unregister casts back */
    gc_generation gen[HL_GC_GENERATIONS];
    gc_head untracked;          /* atoms and untracked containers */
    int long_lived_rule;
    int64_t long_lived_total;   /* survivors of the last full collection */
    int64_t long_lived_pending; /* survivors into gen 2 since then */
    int collecting;
    int64_t tracked;            /* objects on the generation lists */
    int64_t tracked_kind[3];    /* of those, by hl_type_kind: untrack_tuples and
                                   untrack_dicts are skipped when no object of
                                   their kind is tracked (they would find none) */
    size_t weakrefs_alive;      /* weak reference objects alive */
    int finalizers_seen;        /* an object whose type has finalize was made */
    int legacy_seen;            /* an object whose type has legacy_del was made */
    garbage_list garbage;
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

/* Whether objects of type t with nrefs slots can ever be tracked: they
 * count toward generation 0 (CPython's GC-capable objects). */
static inline int is_trackable_kind(const hl_type *t, uint32_t nrefs)
{
    return nrefs > 0 || t == &hl_weakref_type;
}

static inline int is_tracked(hl_object *o)
{
    return (*rc_word(o) & CYCLE_TRACKED) != 0;
}

static inline hl_type_kind kind_of(const hl_object *o)
{
    return o->type != NULL ? o->type->kind : HL_KIND_OBJECT;
}

/* CPython's _PyObject_GC_MAY_BE_TRACKED: whether v is tracked, or could
 * become tracked later (a dict with slots: a store may track it). */
static inline int may_be_tracked(hl_object *v)
{
    return is_tracked(v) || (kind_of(v) == HL_KIND_DICT && v->nrefs > 0);
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

/* Append node to list; node's own flags are dropped (the list's last
 * node keeps its gc_prev flag). */
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

/* Move node to the end of list, keeping its COLLECTING flag. */
static void list_move(gc_head *node, gc_head *list)
{
    uintptr_t collecting = node->prev & PREV_COLLECTING;
    list_unlink(node);
    list_append(node, list);
    node->prev |= collecting;
}

/* Move every node of `from` to the end of `to`; from empties.  Each node
 * keeps its flags. */
static void list_merge(gc_head *from, gc_head *to)
{
    if (list_is_empty(from))
        return;
    gc_head *to_last = (gc_head *)to->prev;
    gc_head *first = next_of(from), *last = (gc_head *)from->prev;
    to_last->next = (uintptr_t)first;
    first->prev = (uintptr_t)to_last | (first->prev & PREV_COLLECTING);
    last->next = (uintptr_t)to;
    to->prev = (uintptr_t)last;
    list_init(from);
}

/* ---------------------------------------------------------- tracking -- */

/* o (untracked, on the untracked list) joins generation 0.  O(1). */
static void track(cycle *c, hl_object *o)
{
    gc_head *h = head_of(o);
    list_unlink(h);
    list_append(h, &c->gen[0].head);
    *rc_word(o) |= CYCLE_TRACKED;
    c->tracked++;
    c->tracked_kind[kind_of(o)]++;
}

/* o (tracked, on a flag-free list) leaves the generations for the
 * untracked list: no collection examines it until a store tracks it
 * again.  O(1). */
static void untrack(cycle *c, hl_object *o)
{
    gc_head *h = head_of(o);
    list_unlink(h);
    list_append(h, &c->untracked);
    *rc_word(o) &= ~CYCLE_TRACKED;
    c->tracked--;
    c->tracked_kind[kind_of(o)]--;
}

static void visit_may_be_tracked(hl_object **field, void *arg)
{
    if (*field != NULL && may_be_tracked(*field))
        *(int *)arg = 1;
}

/* Whether some slot of o holds an object that is or may become tracked:
 * then o may be part of a cycle, now or after a later store.  O(fields). */
static int holds_trackable(hl_object *o)
{
    int found = 0;
    hl_object_traverse(o, visit_may_be_tracked, &found);
    return found;
}

/* ------------------------------------------------------- validators -- */

#define FLAG_ANY (~(uintptr_t)0)

#ifndef NDEBUG
/* Every node of `list` links back correctly, is tracked and carries
 * exactly the given flags (prev_flag on gc_prev, next_flag on gc_next;
 * FLAG_ANY: either). */
static void validate_list(const gc_head *list, uintptr_t prev_flag, uintptr_t next_flag)
{
    const gc_head *prev = list;
    for (const gc_head *h = next_of(list); h != list; h = next_of(h)) {
        assert(prev_of(h) == prev);
        assert(prev_flag == FLAG_ANY || (h->prev & PREV_COLLECTING) == prev_flag);
        assert(next_flag == FLAG_ANY || (h->next & NEXT_UNREACHABLE) == next_flag);
        assert(is_tracked(object_of((gc_head *)h)));
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

/* Step 2.  Needs: `set` a list whose gc_next words carry no flag.  Does:
 * gc_prev of each object = its count as gc_refs, with COLLECTING; the prev
 * links are lost until step 4 rebuilds them.  Returns the number of
 * objects.  O(set). */
static size_t update_refs(gc_head *set)
{
    size_t n = 0;
    for (gc_head *h = next_of(set); h != set; h = next_of(h)) {
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
 * stays above zero is referenced from outside.  O(set + its fields). */
static void subtract_refs(gc_head *set)
{
    for (gc_head *h = next_of(set); h != set; h = next_of(h)) {
        hl_object_traverse(object_of(h), visit_decref, NULL);
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
            hl_object_traverse(object_of(h), visit_reachable, young);
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

/* Untrack each object of young of this kind whose slots hold nothing that
 * is or may become tracked.  Returns the number untracked.  O(young +
 * their fields). */
static size_t untrack_atomic_containers(cycle *c, gc_head *young, hl_type_kind kind)
{
    size_t n = 0;
    for (gc_head *h = next_of(young), *next; h != young; h = next) {
        next = next_of(h);
        hl_object *o = object_of(h);
        if (kind_of(o) == kind && !holds_trackable(o)) {
            untrack(c, o);
            n++;
        }
    }
    return n;
}

/* Step 5.  Needs: step 4 done (young flag-free).  Does: untracks each
 * tuple of young whose slots hold nothing that is or may become tracked
 * (CPython's untrack_tuples; a tuple holding a tuple that is untracked only
 * later in the walk waits for the next collection, as there).  Returns the
 * number untracked.  O(young + tuples' fields). */
static size_t untrack_tuples(cycle *c, gc_head *young)
{
    if (c->tracked_kind[HL_KIND_TUPLE] == 0)
        return 0; /* none anywhere: the walk would find none */
    return untrack_atomic_containers(c, young, HL_KIND_TUPLE);
}

/* Part of step 6, full collections only (untracking dicts in young
 * collections would make building a large dict quadratic: CPython issue
 * #14775).  Needs: young flag-free.  Does: untracks each dict of young
 * holding nothing that is or may become tracked.  Returns the number
 * untracked.  O(young + dicts' fields). */
static size_t untrack_dicts(cycle *c, gc_head *young)
{
    if (c->tracked_kind[HL_KIND_DICT] == 0)
        return 0; /* none anywhere: the walk would find none */
    return untrack_atomic_containers(c, young, HL_KIND_DICT);
}

/* Step 6.  Needs: step 5 done; `survivors` the objects left in young.
 * Does: the reachable objects join the next generation; a collection of
 * generation 1 adds them to long_lived_pending; a full one untracks dicts
 * and resets the long-lived figures to what stays tracked (CPython's
 * accounting).  O(1), or O(young) for a full collection. */
static void move_survivors(cycle *c, gc_head *young, gc_head *old, int generation,
                           size_t survivors)
{
    if (young != old) {
        if (generation == HL_GC_GENERATIONS - 2)
            c->long_lived_pending += (int64_t)survivors;
        list_merge(young, old);
    } else {
        survivors -= untrack_dicts(c, young);
        c->long_lived_pending = 0;
        c->long_lived_total = (int64_t)survivors;
    }
}

static void visit_move(hl_object **field, void *arg)
{
    if (*field == NULL)
        return;
    gc_head *h = head_of(*field);
    if (is_collecting(h)) {
        list_unlink(h);
        list_append(h, arg); /* COLLECTING dropped: out of the garbage */
    }
}

/* Step 7b (move_legacy_finalizer_reachable).  Needs: step 7a done.  Does:
 * moves every garbage object reachable from `finalizers` onto it (the list
 * is its own queue).  Returns the list's final length.  O(finalizers +
 * their fields). */
static size_t move_legacy_finalizer_reachable(gc_head *finalizers)
{
    size_t n = 0;
    for (gc_head *h = next_of(finalizers); h != finalizers; h = next_of(h)) {
        hl_object_traverse(object_of(h), visit_move, finalizers);
        n++;
    }
    return n;
}

/* Step 7.  Needs: step 6 done.  Does: clears UNREACHABLE on the garbage's
 * gc_next words and moves each garbage object whose type has a legacy
 * finalizer, then everything it reaches, to `finalizers`, flag-free: they
 * are uncollectable.  Returns how many moved.  O(1) when no object with a
 * legacy finalizer was ever made (the flags then stay: later steps mask
 * them), else O(garbage + fields). */
static size_t move_legacy_finalizers(cycle *c, gc_head *unreachable, gc_head *finalizers)
{
    list_init(finalizers);
    if (!c->legacy_seen)
        return 0;
    unreachable->next &= ~NEXT_UNREACHABLE;
    for (gc_head *h = next_of(unreachable), *next; h != unreachable; h = next) {
        next = next_of(h);
        h->next &= ~NEXT_UNREACHABLE;
        hl_object *o = object_of(h);
        if (o->type != NULL && o->type->legacy_del != NULL) {
            list_unlink(h);
            list_append(h, finalizers);
        }
    }
    return move_legacy_finalizer_reachable(finalizers);
}

/* Whether a queued weak reference is itself garbage of this collection. */
static int weakref_is_garbage(hl_object *w, void *arg)
{
    (void)arg;
    return is_collecting(head_of(w));
}

/* Step 8.  Needs: step 7 done (only the collectable garbage has
 * COLLECTING).  Does: unlinks every garbage weak reference from its
 * referent (it must never fire), clears every weak reference to a garbage
 * object, and only then runs the callbacks of the cleared references that
 * are not garbage, each held alive by a reference of ours meanwhile.
 * Callbacks may run arbitrary mutator code; they cannot reach the garbage
 * (every weak reference to it reads NULL).  O(1) when no weak reference
 * exists, else O(garbage + weak references). */
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

/* Step 9.  Needs: step 8 done.  Does: calls the finalizer of each garbage
 * object not finalized before, setting its finalized bit first and holding
 * it by a reference of ours during the call (CPython's finalize_garbage).
 * Each object moves to a `seen` list before its finalizer runs, so the walk
 * survives finalizers that free garbage (a freed object leaves whichever
 * list holds it); `seen` then becomes the garbage again, COLLECTING kept
 * and UNREACHABLE cleared.  Returns the number of finalizers that ran
 * meanwhile, by this walk or by deaths it caused (rc.h).  O(1) when no
 * object with a finalizer was ever made, else O(garbage) plus the
 * finalizers. */
static uint64_t finalize_garbage(cycle *c, gc_head *unreachable)
{
    if (!c->finalizers_seen)
        return 0;
    uint64_t before = c->heap.finalizers_run;
    gc_head seen;
    list_init(&seen);
    while (!list_is_empty(unreachable)) {
        gc_head *h = next_of(unreachable);
        hl_object *o = object_of(h);
        list_move(h, &seen);
        const hl_type *t = o->type;
        if (t == NULL || t->finalize == NULL || (*rc_word(o) & RC_FINALIZED))
            continue;
        *rc_word(o) |= RC_FINALIZED;
        c->heap.finalizers_run++;
        rc_incref(o);
        t->finalize(&c->heap.self, o);
        rc_decref(&c->heap, o);
    }
    unreachable->next &= ~NEXT_UNREACHABLE;
    list_merge(&seen, unreachable);
    return c->heap.finalizers_run - before;
}

/* Step 10.  Needs: step 9 done; `finalized` what it returned, `garbage`
 * the length of `unreachable` before step 8.  Does: steps 2-4 over the
 * garbage alone (CPython 3.11's handle_resurrected_objects): an object a
 * finalizer made referenced from outside the garbage is reachable again,
 * with everything it reaches; those move to `old`, flag-free, and survive.
 * What remains moves to `final`, as step 4 leaves an unreachable list.
 * Without a finalizer run nothing can have been resurrected or freed, and
 * the garbage moves to `final` as it is.  Returns the number of objects in
 * `final`.  O(1), or O(garbage + its fields) after finalizers ran. */
static size_t handle_resurrected_objects(cycle *c, gc_head *unreachable, gc_head *final,
                                         gc_head *old, uint64_t finalized, size_t garbage)
{
    if (finalized == 0) {
        list_init(final);
        list_merge(unreachable, final);
        return garbage;
    }
    validate_list(unreachable, PREV_COLLECTING, 0);
    size_t n = update_refs(unreachable);
    subtract_refs(unreachable);
    size_t resurrected = move_unreachable(unreachable, final);
    validate_list(unreachable, 0, 0);
    validate_list(final, PREV_COLLECTING, NEXT_UNREACHABLE);
    c->heap.resurrected += resurrected;
    list_merge(unreachable, old);
    return n - resurrected;
}

static void visit_clear(hl_object **field, void *arg)
{
    hl_object *v = *field;
    if (v != NULL) {
        *field = NULL;
        rc_decref(arg, v);
    }
}

/* Step 11.  Needs: step 10 done.  Does: for each garbage object in turn,
 * held by a reference of ours, sets every field to NULL dropping its
 * reference (CPython's tp_clear); reference counting then frees the object
 * and its cycle, each dead object leaving the list as it dies (finalizers
 * do not run again: all are finalized).  One still alive after its
 * clearing (held by garbage not yet cleared) moves to `old`, flag-free, and
 * dies when that garbage is cleared.  Returns with `final` empty.
 * O(garbage + its fields). */
static void delete_garbage(cycle *c, gc_head *final, gc_head *old)
{
    while (!list_is_empty(final)) {
        gc_head *h = next_of(final);
        hl_object *o = object_of(h);
        rc_incref(o);
        hl_object_traverse(o, visit_clear, &c->heap);
        rc_decref(&c->heap, o);
        if (next_of(final) == h) {
            list_unlink(h);
            list_append(h, old);
        }
    }
}

/* Keep o on the garbage list with a reference of ours.  Returns 0, or -1
 * when the list cannot grow (o then stays in the old generation only, and
 * a later collection finds it uncollectable again). */
static int garbage_append(garbage_list *g, hl_object *o)
{
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 64;
        hl_object **items = hl_untracked_alloc(cap * sizeof *items);
        if (items == NULL)
            return -1;
        for (size_t i = 0; i < g->n; i++)
            items[i] = g->items[i];
        hl_untracked_free(g->items, g->cap * sizeof *items);
        g->items = items;
        g->cap = cap;
    }
    rc_incref(o);
    g->items[g->n++] = o;
    return 0;
}

/* Step 12.  Needs: step 11 done (which may have freed some of
 * `finalizers`: a legacy object held only by collected garbage dies by its
 * count).  Does: counts what is left, keeps each one with a legacy
 * finalizer on the garbage list, and moves them all to `old`, flag-free.
 * Returns the number uncollectable.  O(finalizers). */
static size_t handle_legacy_finalizers(cycle *c, gc_head *finalizers, gc_head *old)
{
    size_t n = 0;
    for (gc_head *h = next_of(finalizers); h != finalizers; h = next_of(h)) {
        hl_object *o = object_of(h);
        if (o->type != NULL && o->type->legacy_del != NULL)
            (void)garbage_append(&c->garbage, o);
        n++;
    }
    list_merge(finalizers, old);
    return n;
}

/* Step 13.  Per-generation statistics, as gc.get_stats(), and the pause. */
static void record_collection(cycle *c, int generation, size_t collected, size_t uncollectable,
                              uint64_t start_ns)
{
    c->collections[generation]++;
    c->collected[generation] += collected;
    c->uncollectable[generation] += uncollectable;
    hl_pause_record(&c->pauses, (double)(hl_now_ns() - start_ns));
}

/* Collect generation `generation` (0..2): the algorithm, one step per call
 * (CPython 3.11's gc_collect_main).  Needs: no collection running.  Returns
 * the number of objects collected (the final garbage).  O(objects of
 * generations 0..g + their fields + garbage), plus what finalizers and
 * callbacks cost. */
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
    size_t reachable = move_unreachable(young, &unreachable);
    size_t garbage = objects - reachable;
    validate_list(young, 0, 0);
    validate_list(&unreachable, PREV_COLLECTING, NEXT_UNREACHABLE);

    size_t survivors = reachable - untrack_tuples(c, young);
    move_survivors(c, young, old, generation, survivors);

    gc_head finalizers;
    garbage -= move_legacy_finalizers(c, &unreachable, &finalizers);
    validate_list(&finalizers, 0, 0);
    validate_list(&unreachable, PREV_COLLECTING, FLAG_ANY);

    handle_weakrefs(c, &unreachable);
    uint64_t finalized = finalize_garbage(c, &unreachable);
    gc_head final;
    size_t collected =
        handle_resurrected_objects(c, &unreachable, &final, old, finalized, garbage);
    delete_garbage(c, &final, old);
    size_t uncollectable = handle_legacy_finalizers(c, &finalizers, old);
    validate_sentinel(old);

    record_collection(c, generation, collected, uncollectable, start);
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

/* o died (rc.h): off its list and out of every count. */
static inline void rc_unregister(rc_heap *h, hl_object *o)
{
    cycle *c = (cycle *)h;
    list_unlink(head_of(o));
    if (is_tracked(o)) {
        c->tracked--;
        c->tracked_kind[kind_of(o)]--;
    }
    if (is_trackable_kind(o->type, o->nrefs)) {
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
    c->heap.self = (hl_gc){hl_cycle_collector(), c, NULL};
    c->heap.prefix = CYCLE_PREFIX;
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

/* Free every object still alive (the garbage list's included), without
 * finalizers, callbacks or count changes. */
static void cycle_fini(void *ctx)
{
    cycle *c = ctx;
    for (int i = 0; i < HL_GC_GENERATIONS; i++)
        free_list(c, &c->gen[i].head);
    free_list(c, &c->untracked);
    hl_untracked_free(c->garbage.items, c->garbage.cap * sizeof *c->garbage.items);
    hl_pause_free(&c->pauses);
    hl_weak_table_fini(c->heap.weak);
    hl_untracked_free(c, sizeof *c);
}

/* A new object, count 1.  One that can be tracked counts toward generation
 * 0 first, and may start a collection (before the allocation, so the
 * collection can return memory first).  It starts tracked unless it is a
 * dict (see Tracking). */
static inline hl_object *cycle_make(cycle *c, const hl_type *t, uint32_t nrefs,
                                    uint32_t data_size)
{
    int trackable = is_trackable_kind(t, nrefs);
    if (trackable) {
        c->gen[0].count++;
        if (__builtin_expect(c->gen[0].count > c->gen[0].threshold, 0) &&
            c->gen[0].threshold > 0 && !c->collecting)
            collect_generations(c);
    }
    size_t size = hl_object_size(nrefs, data_size);
    char *block = hl_alloc(c->heap.alloc, CYCLE_PREFIX + size);
    if (block == NULL) {
        if (trackable && c->gen[0].count > 0)
            c->gen[0].count--;
        return NULL;
    }
    hl_object *o = (hl_object *)(void *)(block + CYCLE_PREFIX);
    hl_object_init(o, size, t, nrefs, data_size);
    if (trackable && (t == NULL || t->kind != HL_KIND_DICT)) {
        *rc_word(o) = 1 | CYCLE_TRACKED;
        c->tracked++;
        c->tracked_kind[t != NULL ? t->kind : HL_KIND_OBJECT]++;
        list_append(head_of(o), &c->gen[0].head);
    } else {
        *rc_word(o) = 1;
        list_append(head_of(o), &c->untracked);
    }
    if (__builtin_expect(hl_type_finalizes(t), 0)) {
        c->finalizers_seen |= t->finalize != NULL;
        c->legacy_seen |= t->legacy_del != NULL;
        c->heap.finalizing_made = 1;
    }
    c->heap.allocated++;
    return o;
}

static hl_object *cycle_new_object(void *ctx, const hl_type *t, uint32_t nrefs, uint32_t data_size)
{
    return cycle_make(ctx, t, nrefs, data_size);
}

static void maintain_tracking(cycle *c, hl_object *o, hl_object *value);

/* new_child: made as new_object makes it (counted toward generation 0
 * first, so a collection starts exactly where new_object's would; the
 * parent, held by the workload, survives it), with count 1, the parent's;
 * stored as cycle_store stores (an untracked parent may become tracked),
 * the old value dropped after the write.  The same counts, tracking and
 * deaths as hl_new, hl_store, hl_release in a row, without the incref and
 * decref (two calls through the table) in between.
 * One difference, contrived: should the old value's death run a
 * finalizer that clears this very field, the child (whose one reference
 * the field was) dies inside that cascade, where the fallback's child,
 * still held by the workload's reference, would die at its release. */
static hl_object *cycle_new_child(void *ctx, hl_object *o, uint32_t field, const hl_type *t,
                                  uint32_t nrefs, uint32_t data_size)
{
    cycle *c = ctx;
    assert(field < o->nrefs && rc_count(o) > 0);
    hl_object *child = cycle_make(c, t, nrefs, data_size);
    if (child == NULL)
        return NULL;
    if (!is_tracked(o))
        maintain_tracking(c, o, child);
    rc_store_owned(&c->heap, o, field, child);
    return child;
}

/* A store into an untracked container (CPython's MAINTAIN_TRACKING): a
 * dict that receives a value that is or may become tracked is tracked
 * again.  A tuple never is (see Tracking). */
static void maintain_tracking(cycle *c, hl_object *o, hl_object *value)
{
    if (!may_be_tracked(value))
        return;
    assert(kind_of(o) != HL_KIND_TUPLE && "a tuple was written after a collection untracked it");
    if (kind_of(o) == HL_KIND_DICT)
        track(c, o);
}

static void cycle_store(void *ctx, hl_object *o, uint32_t field, hl_object *value)
{
    cycle *c = ctx;
    if (value != NULL && !is_tracked(o))
        maintain_tracking(c, o, value);
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
 * collection.  Ignored while a collection runs (from a weak callback or a
 * finalizer). */
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
    hl_object *w = cycle_make(c, &hl_weakref_type, 0, sizeof(hl_weak_data));
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
    out->finalizers_run = c->heap.finalizers_run;
    out->resurrected = c->heap.resurrected;
    assert(c->tracked_kind[HL_KIND_OBJECT] + c->tracked_kind[HL_KIND_TUPLE] +
               c->tracked_kind[HL_KIND_DICT] ==
           c->tracked);
    out->tracked_objects = c->tracked;
    hl_pause_summary(&c->pauses, out);
    out->own_live_bytes = out->own_heap_bytes = -1;
}

static const hl_collector_ops cycle_ops = {
    .name = "cycle",
    .description = "reference counting + CPython 3.11/3.12's generational cycle collector",
    .flags = HL_GC_FREES_CYCLES | HL_GC_FINALIZES,
    .unavailable = NULL,
    .init = cycle_init,
    .fini = cycle_fini,
    .new_object = cycle_new_object,
    .new_child = cycle_new_child,
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
