/*
 * rc.h - reference counting, shared by refcount.c and cycle.c.  Private to
 * collectors/.
 *
 * The count lives in the low 32 bits of the 8-byte word just before the
 * object (the "rc word", the last word of each collector's prefix); the high
 * 32 bits belong to the collector (refcount keeps its set membership there,
 * see objset.h) but for the finalized bit (62).  A new object holds 1 (the
 * workload's reference, or under new_child its parent's); store takes a
 * reference to the new value before dropping the old one, so
 * storing a field's own value is safe.
 *
 * Death without recursion.  Freeing an object drops its references, which
 * can free a whole chain; done recursively, a ten-million-node list would
 * need ten million C frames.  CPython's "trashcan" defers nested
 * deallocations past a depth limit; heaplab defers all of them: an object
 * whose count reaches zero is taken off the collector's books (the
 * collector's rc_unregister) and pushed onto a stack of dying objects
 * threaded through its own rc word (the count is zero, the index is no
 * longer needed), and a single loop pops and tears down one object at a
 * time.  Extra memory: O(1), whatever the shape of the garbage.  Deaths
 * that happen while the loop runs (from referents, or from weak-reference
 * callbacks) just push; the running loop takes them.
 *
 * Death, in CPython's order (subtype_dealloc), when the count reaches zero:
 *   1. rc_call_finalizer  the type's finalize (PEP 442), once per object:
 *      the object is held by a reference of ours while it runs, and if
 *      anything else holds it afterwards it was resurrected and lives on
 *      (its weak references untouched);
 *   2. rc_clear_weakrefs  every weak reference to it reads NULL from here
 *      on; then their callbacks run, newest first;
 *   3. the legacy finalizer (tp_del), under the same rule as 1 (called again
 *      should a resurrected object die again, as CPython does);
 *   4. off the collector's books (rc_unregister), and onto the dying stack.
 * All of this happens at once, when the count reaches zero, even in the
 * middle of another object's teardown: so no object ever waits on the
 * dying stack with weak references that still read it, and a callback or
 * finalizer that calls weak_get gets either NULL or an object whose count
 * is above zero, which it may retain.  Only the recursive part, dropping
 * the references the dead object holds, is deferred to the loop.  Deaths
 * caused by a finalizer or callback push like any other (the caller's
 * loop takes them), so finalizers and callbacks never nest inside a
 * teardown deeper than they nest inside each other.
 *
 * The finalized bit.  Bit 62 of the rc word (RC_FINALIZED) records that
 * the finalizer has run, CPython's _PyGC_FINALIZED: set before the call,
 * never cleared, so no object is finalized twice whether it dies by count
 * or, under cycle, in a collection.  CPython keeps the bit in the GC
 * header's gc_prev; heaplab keeps it here so the death path shared by both
 * collectors can read it.  The collector's half of the word is therefore
 * bits 32..61 and 63 (refcount's member bit: the sign, one test).
 *
 * Tearing down one dead object (rc_dealloc): if it is not a weak reference
 * (a weak reference was detached as it died), drop its references; free
 * its memory (sized: prefix + hl_object_size()).  The plain death (no
 * finalizer, no weak reference) is the one the teardown loop inlines; the
 * rest go through rc_object_died_rare, out of line.  When no death can run
 * code (rc_order_is_free) a cascade drops slots last to first, for the
 * allocator's sake; the order of deaths is otherwise as described here
 * (rc_teardown says why and what it is worth).
 *
 * Weak references queued for a callback are kept alive by a reference of
 * ours while callbacks run, as CPython does, so a callback that drops
 * another queued weak reference cannot free it under the loop.
 *
 * Limits (asserted in debug builds): a count stays below 2^32.
 */
#ifndef HEAPLAB_RC_H
#define HEAPLAB_RC_H

#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "collectors/collector.h"
#include "collectors/weakref.h"

typedef struct rc_heap rc_heap;

/* Take a dead object off the collector's books (lists, sets, counters).
 * Called once, as the count reaches zero, before the rc word is reused.
 * Each collector that includes this file defines it (static dispatch: a
 * call through a pointer here cost an indirect call on every death, and
 * kept the compiler from inlining a one-line set removal). */
static inline void rc_unregister(rc_heap *h, hl_object *o);

struct rc_heap {
    const hl_allocator *alloc;
    hl_gc self;                  /* this collector, as finalizers receive it */
    hl_weak_table *weak;
    size_t prefix;               /* bytes before each object; the rc word ends it */
    hl_object *dying;            /* stack of dead objects awaiting teardown */
    int tearing_down;            /* the teardown loop, or a death's finalizers and
                                    callbacks, are running: deaths only push */
    int finalizing_made;         /* an object whose type has a finalizer of either
                                    kind was made: rc_note_type sets it under
                                    refcount, cycle's allocation beside its own
                                    finalizers_seen / legacy_seen */
    const hl_type *noted_type;   /* refcount's: the type rc_note_type saw last
                                    (starts NULL: a NULL type has no finalizer) */
    uint64_t allocated, freed, weak_cleared, callbacks_run;
    uint64_t finalizers_run, resurrected;
};

#define RC_FINALIZED (UINT64_C(1) << 62)

static inline uint64_t *rc_word(hl_object *o)
{
    return (uint64_t *)(void *)o - 1;
}

static inline uint32_t rc_count(hl_object *o)
{
    return (uint32_t)*rc_word(o);
}

static inline void rc_incref(hl_object *o)
{
    assert(rc_count(o) < UINT32_MAX);
    ++*rc_word(o);
}

static inline void rc_decref(rc_heap *h, hl_object *o);
static inline int rc_last_rites(rc_heap *h, hl_object *o);
static inline int rc_needs_last_rites(const rc_heap *h, const hl_object *o);
static inline int rc_order_is_free(const rc_heap *h);

/* Bytes of o's allocation, prefix included. */
static inline size_t rc_block_size(const rc_heap *h, const hl_object *o)
{
    return h->prefix + hl_object_size(o->nrefs, o->data_size);
}

/* o is dying and has weak references: clear them all, then run their
 * callbacks newest first, each queued reference held alive meanwhile. */
static inline void rc_clear_weakrefs(rc_heap *h, hl_object *o)
{
    hl_object *pending = NULL;
    h->weak_cleared += hl_weak_clear(h->weak, o, &pending);
    for (hl_object *w = pending; w != NULL; w = hl_weak_data_of(w)->pending_next)
        rc_incref(w);
    h->callbacks_run += hl_weak_run_callbacks(pending, NULL, NULL);
    for (hl_object *w = pending, *next; w != NULL; w = next) {
        next = hl_weak_data_of(w)->pending_next;
        rc_decref(h, w);
    }
}

/* Call fn on o, whose count is zero, holding a reference of ours
 * meanwhile.  Returns 1 when o is still dead afterwards, 0 when fn
 * resurrected it (something else now holds a reference). */
static inline int rc_call_holding(rc_heap *h, hl_object *o,
                                  void (*fn)(const hl_gc *, hl_object *))
{
    ++*rc_word(o);
    fn(&h->self, o);
    assert(rc_count(o) > 0);
    if ((uint32_t)--*rc_word(o) == 0)
        return 1;
    h->resurrected++;
    return 0;
}

/* Step 1 of a death: o's finalizer, unless it ran before.  Returns 1 when
 * o is still dead, 0 when the finalizer resurrected it. */
static inline int rc_call_finalizer(rc_heap *h, hl_object *o)
{
    if (*rc_word(o) & RC_FINALIZED)
        return 1;
    *rc_word(o) |= RC_FINALIZED;
    h->finalizers_run++;
    return rc_call_holding(h, o, o->type->finalize);
}

/* Steps 1-3 of a death, for an object whose type has a finalizer or that
 * has weak references. */
static inline int rc_call_rites(rc_heap *h, hl_object *o)
{
    const hl_type *t = o->type;
    if (t != NULL && t->finalize != NULL && !rc_call_finalizer(h, o))
        return 0;
    if (hl_weak_has(h->weak, o))
        rc_clear_weakrefs(h, o);
    if (t != NULL && t->legacy_del != NULL && !rc_call_holding(h, o, t->legacy_del))
        return 0;
    return 1;
}

/* Whether o's death is plain: no finalizer of either kind, not a weak
 * reference, no weak reference to it (one load when none exist).  Plain
 * deaths run no code but the collector's, so their order is nobody's
 * business but the allocator's. */
static inline int rc_death_is_plain(const rc_heap *h, const hl_object *o)
{
    const hl_type *t = o->type;
    return !hl_type_finalizes(t) && t != &hl_weakref_type && !hl_weak_has(h->weak, o);
}

/* o, dead and past its rites: off the collector's books and onto the
 * dying stack, threaded through its rc word. */
static inline void rc_push_dying(rc_heap *h, hl_object *o)
{
    rc_unregister(h, o);
    *rc_word(o) = (uint64_t)(uintptr_t)h->dying;
    h->dying = o;
}

static void rc_teardown(rc_heap *h);

/* The rare death (rc_death_is_plain says no): last rites at once
 * (finalizers, weak references cleared, callbacks), then, unless
 * resurrected, off the books and onto the dying stack.  A weak reference
 * leaves its target's list at once: if the target dies later in the same
 * cascade, a dead weak reference must get no callback (and its count word,
 * which now links the dying stack, must not be touched).  Runs the
 * teardown loop when none runs.  Kept out of line, so the plain death
 * that inlines into the loop carries none of it. */
static __attribute__((noinline)) void rc_object_died_rare(rc_heap *h, hl_object *o)
{
    /* Not plain (rc_death_is_plain looked): anything but a weak reference
     * has rites here (a finalizer, or weak references to it); a weak
     * reference has them only when it is itself weakly referenced (its
     * type has no finalizer). */
    int rites = o->type != &hl_weakref_type || hl_weak_has(h->weak, o);
    assert(rites == rc_needs_last_rites(h, o));
    if (rites && !rc_last_rites(h, o))
        return; /* resurrected */
    if (o->type == &hl_weakref_type)
        hl_weak_detach(h->weak, o);
    rc_push_dying(h, o);
    if (!h->tearing_down)
        rc_teardown(h);
}

/* Drop one reference to o inside the teardown loop (tearing_down set); if
 * that was the last, a plain death only pushes, the rest take the rare
 * path, which pushes too (the running loop takes them).  `free_order`: the
 * loop runs under rc_order_is_free, where no type with a finalizer was
 * ever made and no weak reference exists, and none can appear while only
 * the collector runs: a death is then plain unless o is itself a weak
 * reference (one compare instead of rc_death_is_plain's four loads).
 * Inline in the loop. */
static inline __attribute__((always_inline)) void rc_decref_tearing(rc_heap *h, hl_object *o,
                                                                    int free_order)
{
    assert(h->tearing_down && rc_count(o) > 0);
    if ((uint32_t)--*rc_word(o) != 0)
        return;
    assert(!free_order || rc_order_is_free(h));
    int plain = free_order ? o->type != &hl_weakref_type : rc_death_is_plain(h, o);
    assert(plain == rc_death_is_plain(h, o));
    if (__builtin_expect(plain, 1))
        rc_push_dying(h, o);
    else
        rc_object_died_rare(h, o);
}

static inline void rc_visit_decref_tearing(hl_object **field, void *arg)
{
    if (*field != NULL)
        rc_decref_tearing(arg, *field, 0);
}

/* Give o's memory back (sized: prefix + hl_object_size()). */
static inline void rc_free_block(rc_heap *h, hl_object *o)
{
    hl_free(h->alloc, (char *)o - h->prefix, rc_block_size(h, o));
    h->freed++;
}

/* Tear down o, dead, unregistered and off the dying stack: drop its
 * references (unless it is a weak reference: detached when it died), free
 * its memory (sized: prefix + hl_object_size()).  Referents that die
 * meanwhile only push.  `last_first`: drop the default slots from the last
 * to the first, so that the first slot's referent is pushed last and torn
 * down next (see rc_teardown); only when no death can run code, since it
 * changes the order of deaths. */
static inline __attribute__((always_inline)) void rc_dealloc(rc_heap *h, hl_object *o,
                                                             int last_first)
{
    const hl_type *t = o->type;
    if (last_first && (t == NULL || t->traverse == NULL)) {
        for (uint32_t i = o->nrefs; i-- > 0;)
            if (o->refs[i] != NULL)
                rc_decref_tearing(h, o->refs[i], 1);
    } else if (t != &hl_weakref_type) {
        hl_object_traverse(o, rc_visit_decref_tearing, h);
    }
    rc_free_block(h, o);
}

/* Whether no death can run code of the workload's: no object of a type
 * with a finalizer was ever made, and no object has a weak reference.
 * Then the order in which a cascade dies is nobody's business but the
 * allocator's (nothing can make a weak reference or a finalizing object
 * while only the collector runs). */
static inline int rc_order_is_free(const rc_heap *h)
{
    return !h->finalizing_made && !hl_weak_any(h->weak);
}

/* Tear down every object on the dying stack, including those that die
 * meanwhile.  Not re-entered: deaths during it only push.  Cost per
 * object: its fields' decrefs and the free; no call but the allocator's
 * for a plain death.
 *
 * The order.  Where deaths run code (finalizers, weak references), each
 * object's referents die in slot order and the last to die is torn down
 * first: the order of deaths the oracle pins.  Where none can
 * (rc_order_is_free), the slots are dropped last to first, so the first
 * slot's subtree is torn down first: a tree then goes back to the
 * allocator left subtree first, near the order it was allocated in, as
 * manual's recursive free returns it.  The allocator hands the blocks out
 * again in reverse, and the next tree is built in memory laid out as its
 * predecessor was; right-first cost refcount about a third more time on
 * trees/binarytrees under mimalloc (docs/design-notes.md has the run). */
static __attribute__((noinline)) void rc_teardown(rc_heap *h)
{
    h->tearing_down = 1;
    hl_object *o;
    if (rc_order_is_free(h)) {
        while ((o = h->dying) != NULL) {
            h->dying = (hl_object *)(uintptr_t)*rc_word(o);
            rc_dealloc(h, o, 1);
        }
    } else {
        while ((o = h->dying) != NULL) {
            h->dying = (hl_object *)(uintptr_t)*rc_word(o);
            rc_dealloc(h, o, 0);
        }
    }
    h->tearing_down = 0;
}

/* Record that an object of type t is made: a finalizing type ends the
 * free order of deaths for the rest of the collector's life.  The type
 * last looked at is remembered, so a run of one type pays a compare (the
 * look at the type's two finalizers cost 6 instructions an allocation). */
static inline void rc_note_type(rc_heap *h, const hl_type *t)
{
    if (__builtin_expect(t == h->noted_type, 1))
        return;
    h->noted_type = t;
    if (hl_type_finalizes(t))
        h->finalizing_made = 1;
}

/* Steps 1-3 of o's death, with tearing_down set while they run, so that
 * deaths inside finalizers and callbacks only push.  Returns 1 when o is
 * to be torn down (tearing_down is then as it was), 0 when it was
 * resurrected (what died meanwhile is torn down by then, or will be by
 * the loop already running). */
static inline int rc_last_rites(rc_heap *h, hl_object *o)
{
    int outermost = !h->tearing_down;
    h->tearing_down = 1;
    int dead = rc_call_rites(h, o);
    if (outermost) {
        if (!dead)
            rc_teardown(h);
        h->tearing_down = 0;
    }
    return dead;
}

/* Whether a death of o runs code beyond the collector's own: a finalizer,
 * or weak references (one load when none exist). */
static inline int rc_needs_last_rites(const rc_heap *h, const hl_object *o)
{
    const hl_type *t = o->type;
    return hl_type_finalizes(t) || hl_weak_has(h->weak, o);
}

/* o's count just reached zero outside the teardown loop (a workload's
 * release, a store, a collector's own decref): its death, in rc.h's order,
 * and the teardown of everything it brings down.  Out of line: a call per
 * cascade, not per object. */
static __attribute__((noinline)) void rc_object_died(rc_heap *h, hl_object *o)
{
    if (__builtin_expect(!rc_death_is_plain(h, o), 0)) {
        rc_object_died_rare(h, o);
        return;
    }
    if (__builtin_expect(h->tearing_down, 0)) { /* inside a finalizer or callback */
        rc_push_dying(h, o);
        return;
    }
    if (o->nrefs == 0) { /* holds nothing: no cascade, no loop */
        rc_unregister(h, o);
        rc_free_block(h, o);
        return;
    }
    rc_push_dying(h, o);
    rc_teardown(h);
}

static inline void rc_decref(rc_heap *h, hl_object *o)
{
    assert(rc_count(o) > 0);
    if ((uint32_t)--*rc_word(o) == 0)
        rc_object_died(h, o);
}

/* o->refs[field] = value, where value's reference for the field is
 * already counted (a new child made with count 1 for it, or a value store
 * just increfed); the old value's reference is dropped after the write, so
 * storing a field's own value is safe. */
static inline void rc_store_owned(rc_heap *h, hl_object *o, uint32_t field, hl_object *value)
{
    hl_object *old = o->refs[field];
    o->refs[field] = value;
    if (old != NULL)
        rc_decref(h, old);
}

/* o->refs[field] = value, counts kept.  Written out rather than through
 * rc_store_owned: with the old value loaded after the incref, gcc 12's
 * code for cycle's store cost 26 more instructions an operation on
 * genlist/list (the regression gate's +2.3%). */
static inline void rc_store(rc_heap *h, hl_object *o, uint32_t field, hl_object *value)
{
    hl_object *old = o->refs[field];
    if (value != NULL)
        rc_incref(value);
    o->refs[field] = value;
    if (old != NULL)
        rc_decref(h, old);
}

#endif
