/*
 * weakref.h - weak references, shared by the collectors that run on
 * heaplab's object model (manual, refcount, cycle, marksweep).  Private to
 * collectors/.
 *
 * A weak reference is itself an object, of the built-in type
 * hl_weakref_type: no strong fields, and an hl_weak_data in its data area.
 * The weak references to one target form a doubly linked list, newest
 * first, whose head is found through a per-collector table keyed by the
 * target's address (objects carry no slot for it).  The table is empty in
 * most runs, and hl_weak_has() then costs one load, so an object's death
 * pays for weak references only when some exist.
 *
 * Clearing and callbacks are separate steps, because CPython's cycle
 * collector clears every weak reference to the garbage first and only then
 * runs the callbacks of the weak references that are themselves reachable.
 */
#ifndef HEAPLAB_WEAKREF_H
#define HEAPLAB_WEAKREF_H

#include <stddef.h>

#include "collectors/collector.h"

extern const hl_type hl_weakref_type;

/* The data area of a weak reference object. */
typedef struct hl_weak_data {
    hl_object *target;       /* NULL once cleared */
    hl_weak_callback cb;     /* may be NULL */
    void *arg;
    hl_object *older, *newer; /* siblings on the target's list */
    hl_object *pending_next;  /* on a list of cleared references awaiting callbacks */
} hl_weak_data;

typedef struct hl_weak_table hl_weak_table;

static inline hl_weak_data *hl_weak_data_of(hl_object *w)
{
    return (hl_weak_data *)hl_object_data(w);
}

/* The referent of w, or NULL once cleared. */
static inline hl_object *hl_weak_target(hl_object *w)
{
    return hl_weak_data_of(w)->target;
}

/* Create / destroy a table (in untracked memory).  init returns 0 or -ENOMEM. */
int hl_weak_table_init(hl_weak_table **table);
void hl_weak_table_fini(hl_weak_table *table);

/* Make w (a fresh object of hl_weakref_type with nrefs 0 and data_size
 * sizeof(hl_weak_data)) a weak reference to target, newest on its list.
 * Returns 0 or -ENOMEM. */
int hl_weak_attach(hl_weak_table *table, hl_object *w, hl_object *target, hl_weak_callback cb,
                   void *arg);

/* w itself is dying: unlink it from its target's list; no callback. */
void hl_weak_detach(hl_weak_table *table, hl_object *w);

/* The table's first member, public so that the common case (no weak
 * reference anywhere) is one inline load on every death, not a call. */
typedef struct hl_weak_table_head {
    size_t count; /* targets with at least one weak reference */
} hl_weak_table_head;

/* Whether any object has a weak reference: one inline load. */
static inline int hl_weak_any(const hl_weak_table *table)
{
    return ((const hl_weak_table_head *)(const void *)table)->count != 0;
}

/* Whether target has weak references, looked up (table not empty). */
int hl_weak_lookup(const hl_weak_table *table, const hl_object *target);

/* Whether target has weak references.  One inline load when the table is
 * empty. */
static inline int hl_weak_has(const hl_weak_table *table, const hl_object *target)
{
    return hl_weak_any(table) && hl_weak_lookup(table, target);
}

/* target is dying: clear every weak reference to it, newest first, and push
 * those with a callback onto *pending (through pending_next).  Returns the
 * number cleared. */
size_t hl_weak_clear(hl_weak_table *table, hl_object *target, hl_object **pending);

/* Run the callbacks of the references on `pending`, in list order, except
 * those for which skip(w, skip_arg) returns nonzero (skip may be NULL).
 * Returns the number run. */
size_t hl_weak_run_callbacks(hl_object *pending, int (*skip)(hl_object *w, void *arg),
                             void *skip_arg);

#endif
