/*
 * objset.h - the set of live objects of refcount, the collector without
 * generation lists that must free what the workload left behind at fini
 * (the cycles it leaks).  Private to collectors/.  (manual keeps none: a
 * C program's leak stays a leak; docs/design-notes.md.)
 *
 * A dense array of object pointers in untracked memory; each object keeps
 * its own index in bits 32..62 of the 8-byte word just before it (the last
 * word of the collector's prefix; refcount keeps its count in the low 32
 * bits of the same word, and rc.h its finalized flag in bit 63).  Adding appends; removing moves the last
 * element into the hole and rewrites that element's index: O(1) both ways.
 *
 * Why not a doubly linked list through the prefix: that costs 16 bytes in
 * every object, inside the measured heap; the index costs 4 bytes of a word
 * the prefix needs anyway, plus 8 bytes per object (16 at worst just after a
 * doubling) in the untracked array.  Removal touches the array slot, the
 * array's last slot and the moved object's word: about the two cache lines
 * a list unlink would touch.
 *
 * Tunables (invariants):
 *   OBJSET_MIN   first capacity, in objects; the array doubles when full.
 *   OBJSET_MAX   at most 2^31 - 1 live objects: the index must fit 31 bits.
 */
#ifndef HEAPLAB_OBJSET_H
#define HEAPLAB_OBJSET_H

#include <stdint.h>
#include <string.h>

#include "collectors/collector.h"

#define OBJSET_MIN ((size_t)4096)
#define OBJSET_MAX ((size_t)INT32_MAX)
#define OBJSET_INDEX_MASK (UINT64_C(0x7fffffff) << 32)

typedef struct objset {
    hl_object **items; /* items[0..n): every live object, in no useful order */
    size_t n, cap;
} objset;

/* The word before o: the index in bits 32..62, the rest the owner's. */
static inline uint64_t *objset_word(hl_object *o)
{
    return (uint64_t *)(void *)o - 1;
}

static inline void objset_set_index(hl_object *o, size_t i)
{
    uint64_t *w = objset_word(o);
    *w = (*w & ~OBJSET_INDEX_MASK) | ((uint64_t)i << 32);
}

/* Make room for one more object.  Returns 0, or -1 when the array cannot
 * grow (memory, or OBJSET_MAX). */
static inline int objset_reserve(objset *s)
{
    if (s->n < s->cap)
        return 0;
    if (s->n >= OBJSET_MAX)
        return -1;
    size_t cap = s->cap ? s->cap * 2 : OBJSET_MIN;
    hl_object **items = hl_untracked_alloc(cap * sizeof *items);
    if (items == NULL)
        return -1;
    if (s->n)
        memcpy(items, s->items, s->n * sizeof *items);
    hl_untracked_free(s->items, s->cap * sizeof *items);
    s->items = items;
    s->cap = cap;
    return 0;
}

/* Add o (room reserved by objset_reserve); writes o's index. */
static inline void objset_add(objset *s, hl_object *o)
{
    objset_set_index(o, s->n);
    s->items[s->n++] = o;
}

/* Remove o, a member.  Its word's index bits are left stale. */
static inline void objset_remove(objset *s, hl_object *o)
{
    size_t i = (size_t)((*objset_word(o) & OBJSET_INDEX_MASK) >> 32);
    hl_object *last = s->items[--s->n];
    s->items[i] = last;
    objset_set_index(last, i);
}

static inline void objset_free(objset *s)
{
    hl_untracked_free(s->items, s->cap * sizeof *s->items);
    memset(s, 0, sizeof *s);
}

#endif
