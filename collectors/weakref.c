/*
 * weakref.c - weak references for the collectors on heaplab's object model
 * (see weakref.h for the API and for why clearing and callbacks are two
 * separate steps).
 *
 * A weak reference is an object of type hl_weakref_type whose data area is
 * an hl_weak_data.  The references to one target form a doubly linked list
 * through `older` / `newer`, newest first; the list's head is found through
 * a per-collector table keyed by the target's address, because objects
 * carry no slot for it (CPython keeps that slot, tp_weaklistoffset, in every
 * object that can be weakly referenced; heaplab pays only when weak
 * references exist).
 *
 * The table: open addressing with linear probing over a power-of-two array
 * of (target, newest weak reference) pairs in untracked memory, Fibonacci
 * hashing of the address, deletion by backward shift (Knuth 6.4, algorithm
 * R) so no tombstones accumulate.  Empty, it holds no array at all and
 * hl_weak_has() (inline, weakref.h) is the single load of `count`.
 *
 * Tunables (invariants):
 *   WEAK_MIN_SLOTS  first array size; a power of two.
 *   load factor     count <= capacity / 2 at all times, so every probe
 *                   sequence ends at an empty slot.
 *
 * Callbacks: hl_weak_clear() threads the cleared references that have a
 * callback onto a pending list through `pending_next`, newest first, and
 * hl_weak_run_callbacks() walks that list reading each `next` before the
 * callback runs and never rewriting it, so the caller can walk the list
 * again afterwards (to drop references it took to keep the weak reference
 * objects alive while callbacks ran).  A reference whose `cb` was reset to
 * NULL after it was queued is skipped: that is how a collector cancels the
 * callback of a weak reference freed while callbacks run.
 */
#include "collectors/weakref.h"

#include <stddef.h>

#include <errno.h>
#include <string.h>

#define WEAK_MIN_SLOTS 64u

typedef struct weak_slot {
    const hl_object *target; /* NULL: empty */
    hl_object *newest;       /* head of target's list of weak references */
} weak_slot;

struct hl_weak_table {
    size_t count;     /* targets with at least one weak reference; first, as
                         hl_weak_table_head (weakref.h) reads it inline */
    size_t capacity;  /* slots; 0 or a power of two >= WEAK_MIN_SLOTS */
    unsigned shift;   /* 64 - log2(capacity): the hash keeps the top bits */
    weak_slot *slots; /* untracked; NULL while capacity is 0 */
};

_Static_assert(offsetof(struct hl_weak_table, count) == offsetof(hl_weak_table_head, count),
               "hl_weak_has reads count through hl_weak_table_head");

/* A weak reference has no strong fields: traversal visits nothing. */
static void weakref_traverse(hl_object *o, hl_visit_fn visit, void *arg)
{
    (void)o;
    (void)visit;
    (void)arg;
}

const hl_type hl_weakref_type = {.name = "weakref", .traverse = weakref_traverse};

static size_t weak_home(const hl_weak_table *t, const hl_object *target)
{
    return (size_t)(((uint64_t)(uintptr_t)target * UINT64_C(0x9E3779B97F4A7C15)) >> t->shift);
}

/* The slot holding target, or NULL.  Needs a non-empty table. */
static weak_slot *weak_find(const hl_weak_table *t, const hl_object *target)
{
    size_t mask = t->capacity - 1;
    for (size_t i = weak_home(t, target);; i = (i + 1) & mask) {
        weak_slot *s = &t->slots[i];
        if (s->target == target)
            return s;
        if (s->target == NULL)
            return NULL;
    }
}

/* Put (target, newest) in its first free slot; target must be absent and
 * the table below its load limit. */
static void weak_place(hl_weak_table *t, const hl_object *target, hl_object *newest)
{
    size_t mask = t->capacity - 1;
    size_t i = weak_home(t, target);
    while (t->slots[i].target != NULL)
        i = (i + 1) & mask;
    t->slots[i].target = target;
    t->slots[i].newest = newest;
}

/* Double the array (or create the first one), rehashing every pair.
 * Returns 0 or -ENOMEM (the table is then unchanged). */
static int weak_grow(hl_weak_table *t)
{
    size_t old_cap = t->capacity;
    weak_slot *old = t->slots;
    size_t cap = old_cap ? old_cap * 2 : WEAK_MIN_SLOTS;
    weak_slot *slots = hl_untracked_alloc(cap * sizeof *slots);
    if (slots == NULL)
        return -ENOMEM;
    unsigned bits = 0;
    while (((size_t)1 << bits) < cap)
        bits++;
    t->slots = slots;
    t->capacity = cap;
    t->shift = 64u - bits;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].target != NULL)
            weak_place(t, old[i].target, old[i].newest);
    hl_untracked_free(old, old_cap * sizeof *old);
    return 0;
}

/* Empty slot s and shift later members of its probe run back, so that
 * every remaining key stays reachable from its home slot. */
static void weak_delete(hl_weak_table *t, weak_slot *s)
{
    size_t mask = t->capacity - 1;
    size_t hole = (size_t)(s - t->slots);
    for (size_t j = (hole + 1) & mask; t->slots[j].target != NULL; j = (j + 1) & mask) {
        size_t home = weak_home(t, t->slots[j].target);
        /* Move j into the hole unless its home lies cyclically in (hole, j]. */
        int stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
        if (!stays) {
            t->slots[hole] = t->slots[j];
            hole = j;
        }
    }
    t->slots[hole].target = NULL;
    t->slots[hole].newest = NULL;
    t->count--;
}

int hl_weak_table_init(hl_weak_table **table)
{
    hl_weak_table *t = hl_untracked_alloc(sizeof *t);
    if (t == NULL)
        return -ENOMEM;
    *table = t;
    return 0;
}

void hl_weak_table_fini(hl_weak_table *table)
{
    if (table == NULL)
        return;
    hl_untracked_free(table->slots, table->capacity * sizeof *table->slots);
    hl_untracked_free(table, sizeof *table);
}

int hl_weak_attach(hl_weak_table *table, hl_object *w, hl_object *target, hl_weak_callback cb,
                   void *arg)
{
    hl_weak_data *d = hl_weak_data_of(w);
    weak_slot *s = table->count ? weak_find(table, target) : NULL;
    hl_object *older = NULL;
    if (s != NULL) {
        older = s->newest;
        s->newest = w;
    } else {
        if ((table->count + 1) * 2 > table->capacity && weak_grow(table) != 0)
            return -ENOMEM;
        weak_place(table, target, w);
        table->count++;
    }
    d->target = target;
    d->cb = cb;
    d->arg = arg;
    d->older = older;
    d->newer = NULL;
    d->pending_next = NULL;
    if (older != NULL)
        hl_weak_data_of(older)->newer = w;
    return 0;
}

void hl_weak_detach(hl_weak_table *table, hl_object *w)
{
    hl_weak_data *d = hl_weak_data_of(w);
    if (d->target == NULL)
        return; /* already cleared: on no list */
    if (d->newer != NULL) {
        hl_weak_data_of(d->newer)->older = d->older;
    } else {
        weak_slot *s = weak_find(table, d->target);
        if (d->older != NULL)
            s->newest = d->older;
        else
            weak_delete(table, s);
    }
    if (d->older != NULL)
        hl_weak_data_of(d->older)->newer = d->newer;
    d->target = NULL;
    d->older = d->newer = NULL;
}

int hl_weak_lookup(const hl_weak_table *table, const hl_object *target)
{
    return weak_find(table, target) != NULL;
}

size_t hl_weak_clear(hl_weak_table *table, hl_object *target, hl_object **pending)
{
    if (table->count == 0)
        return 0;
    weak_slot *s = weak_find(table, target);
    if (s == NULL)
        return 0;
    hl_object *w = s->newest, *oldest = NULL;
    weak_delete(table, s);
    size_t n = 0;
    /* Newest to oldest: every reference reads as empty from here on. */
    for (; w != NULL; w = hl_weak_data_of(w)->older) {
        hl_weak_data_of(w)->target = NULL;
        oldest = w;
        n++;
    }
    /* Oldest to newest, pushing: the pending list comes out newest first. */
    for (w = oldest; w != NULL;) {
        hl_weak_data *d = hl_weak_data_of(w);
        hl_object *newer = d->newer;
        d->older = d->newer = NULL;
        if (d->cb != NULL) {
            d->pending_next = *pending;
            *pending = w;
        }
        w = newer;
    }
    return n;
}

size_t hl_weak_run_callbacks(hl_object *pending, int (*skip)(hl_object *w, void *arg),
                             void *skip_arg)
{
    size_t n = 0;
    for (hl_object *w = pending, *next; w != NULL; w = next) {
        hl_weak_data *d = hl_weak_data_of(w);
        next = d->pending_next;
        if (d->cb == NULL || (skip != NULL && skip(w, skip_arg)))
            continue;
        d->cb(w, d->arg);
        n++;
    }
    return n;
}
