/*
 * objset.h - refcount's set of registered objects: the ones from which
 * fini finds everything the workload left behind (the cycles it leaks).
 * Private to collectors/.  (manual keeps none: a C program's leak stays a
 * leak; docs/design-notes.md.  Which objects refcount registers, and why
 * that is enough: refcount.c.)
 *
 * An array of slots in untracked memory; each member has bit 63 (the sign
 * bit: one test) of the 8-byte word just before it set and its slot's
 * index in bits 32..61 (the word is the last of the collector's prefix;
 * refcount keeps its count in the low 32 bits, rc.h its finalized flag in
 * bit 62).  A slot holds a member (an
 * object pointer, 8-aligned: bit 0 clear) or is free: then it holds,
 * shifted left by one with bit 0 set, the index plus one of the next free
 * slot (0: none).  The free slots form a stack threaded through the array
 * itself.
 *
 *   add      pop a free slot, or append when none is free (the array
 *            doubles when full);
 *   remove   the member's slot joins the free stack;
 *   each     walk slots[0..n) and skip the tagged ones (fini).
 * O(1) both ways, and removal writes only the member's own slot: nothing
 * of any other object.  (The dense swap-with-last array this replaces
 * wrote the last member's header on every removal: a cold cache line
 * whenever a large tree died top-down, issue 13.)  The price: n is the
 * high-water mark of members, not their number, so fini walks the peak;
 * and the array never shrinks.
 *
 * Why not a doubly linked list through the prefix: that costs 16 bytes in
 * every object, inside the measured heap; the index costs 4 bytes of a word
 * the prefix needs anyway, plus 8 bytes per member at the peak (16 at worst
 * just after a doubling) in the untracked array.
 *
 * Tunables (invariants):
 *   OBJSET_MIN   first capacity, in slots; the array doubles when full.
 *   OBJSET_MAX   at most 2^30 slots: the highest index, 2^30 - 1, must fit 30 bits.
 */
#ifndef HEAPLAB_OBJSET_H
#define HEAPLAB_OBJSET_H

#include <stdint.h>
#include <string.h>

#include "collectors/collector.h"

#define OBJSET_MIN ((size_t)4096)
#define OBJSET_MAX ((size_t)1 << 30)
#define OBJSET_INDEX_SHIFT 32
#define OBJSET_INDEX_MASK (UINT64_C(0x3fffffff) << OBJSET_INDEX_SHIFT)
#define OBJSET_MEMBER (UINT64_C(1) << 63)
#define OBJSET_FREE_TAG ((uintptr_t)1)

typedef struct objset {
    uintptr_t *slots; /* slots[0..n): a member's pointer, or a tagged free link */
    size_t n, cap;    /* slots in use (members and free), allocated */
    size_t free_top;  /* index + 1 of the top free slot; 0: none is free */
} objset;

/* The word before o: the member bit 63 and the index in bits 32..61, the
 * rest the owner's. */
static inline uint64_t *objset_word(hl_object *o)
{
    return (uint64_t *)(void *)o - 1;
}

/* Whether `word`, the word before an object, is a member's (a sign test:
 * a store's check of its value costs a test and a branch). */
static inline int objset_word_is_member(uint64_t word)
{
    return (int64_t)word < 0;
}

/* The slot of o, a member. */
static inline size_t objset_index_of(hl_object *o)
{
    return (size_t)((*objset_word(o) & OBJSET_INDEX_MASK) >> OBJSET_INDEX_SHIFT);
}

/* Whether slot i (< n) holds a member. */
static inline int objset_is_member(const objset *s, size_t i)
{
    return (s->slots[i] & OBJSET_FREE_TAG) == 0;
}

/* Grow the array (n == cap).  Returns 0, or -1 when it cannot (memory, or
 * OBJSET_MAX).  Not inlined: it runs log(peak) times in a whole run, and
 * kept apart it costs the add path nothing.  O(n). */
static __attribute__((noinline)) int objset_grow(objset *s)
{
    if (s->n >= OBJSET_MAX)
        return -1;
    size_t cap = s->cap ? s->cap * 2 : OBJSET_MIN;
    uintptr_t *slots = hl_untracked_alloc(cap * sizeof *slots);
    if (slots == NULL)
        return -1;
    if (s->n)
        memcpy(slots, s->slots, s->n * sizeof *slots);
    hl_untracked_free(s->slots, s->cap * sizeof *slots);
    s->slots = slots;
    s->cap = cap;
    return 0;
}

#define OBJSET_FULL ((size_t)-1)

/* Add o and return the index of its slot, for the caller to write into
 * o's word (objset_index_word) along with its own bits: one store instead
 * of a read-modify-write.  OBJSET_FULL, the set unchanged, when the array
 * cannot grow.  Touches no other object.  O(1) but for a doubling. */
static inline size_t objset_add(objset *s, hl_object *o)
{
    size_t i;
    if (s->free_top != 0) {
        i = s->free_top - 1;
        s->free_top = (size_t)(s->slots[i] >> 1);
    } else {
        if (__builtin_expect(s->n == s->cap, 0) && objset_grow(s) != 0)
            return OBJSET_FULL;
        i = s->n++;
    }
    s->slots[i] = (uintptr_t)o;
    return i;
}

/* The member bit and index bits of o's word for slot i. */
static inline uint64_t objset_index_word(size_t i)
{
    return OBJSET_MEMBER | (uint64_t)i << OBJSET_INDEX_SHIFT;
}

/* Remove o, a member: its slot becomes the top free slot.  Its word's index
 * bits are left stale (the owner may reuse the word).  Touches o's word
 * (read) and its slot only. */
static inline void objset_remove(objset *s, hl_object *o)
{
    size_t i = objset_index_of(o);
    assert(i < s->n && s->slots[i] == (uintptr_t)o);
    s->slots[i] = ((uintptr_t)s->free_top << 1) | OBJSET_FREE_TAG;
    s->free_top = i + 1;
}

static inline void objset_free(objset *s)
{
    hl_untracked_free(s->slots, s->cap * sizeof *s->slots);
    memset(s, 0, sizeof *s);
}

#endif
