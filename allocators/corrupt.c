/*
 * corrupt.c - a test-only decorator that corrupts memory it handed out:
 * after every CORRUPT_EVERY-th allocation it flips one byte of a block it
 * returned earlier that is still live.
 *
 * It exists to prove that the stress workload (`bench --stress`) catches
 * corruption: a run under --decorate=corrupt must fail with "corrupted
 * blocks found".  Selected with --decorate=corrupt; never part of a real
 * measurement.
 *
 * Which byte.  The decorator remembers the last CORRUPT_RECENT blocks it
 * returned (alloc and realloc both count as allocations) and forgets a block
 * the moment it is freed or reallocated, so it never writes to memory it
 * does not own.  At the N-th allocation it picks the most recent remembered
 * block - allocated before this one, so the program has written it - and
 * inverts one of its last 8 bytes (a different one each time), then
 * forgets it, so no block is hit twice.  The last bytes because that is
 * where a stray write past a neighbour's end lands, and because in the
 * object model a block's last bytes are the object's data, never a
 * collector's header or link: a hit is found by the checks, not by a crash.
 * Zero-byte blocks are never remembered.
 *
 * Thread-safe when the allocator it wraps is (one mutex around its own
 * books); its flip is, by design, a race with whoever owns the block.
 * Its stats add corrupt_flips (bytes flipped) to the wrapped allocator's.
 */
#include "allocators/decorator.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#define CORRUPT_EVERY 50000 /* allocations between flips */
#define CORRUPT_RECENT 16   /* live blocks remembered as candidates */

typedef struct corrupt_block {
    unsigned char *p; /* NULL: the entry is empty */
    size_t size;
} corrupt_block;

typedef struct corrupt {
    hl_decorated base; /* first: the wrapped allocator */
    pthread_mutex_t lock;
    uint64_t allocations; /* alloc and realloc calls that returned a block */
    uint64_t flips;
    corrupt_block recent[CORRUPT_RECENT]; /* a ring; next is the oldest slot */
    unsigned next;
} corrupt;

/* Forget p (freed or moved).  Caller holds the lock.  O(CORRUPT_RECENT). */
static void corrupt_forget(corrupt *c, const void *p)
{
    for (unsigned i = 0; i < CORRUPT_RECENT; i++)
        if (c->recent[i].p == p)
            c->recent[i].p = NULL;
}

/* Flip a byte of the most recently returned live block, if any.  Caller
 * holds the lock. */
static void corrupt_flip(corrupt *c)
{
    for (unsigned k = 1; k <= CORRUPT_RECENT; k++) {
        corrupt_block *b = &c->recent[(c->next + CORRUPT_RECENT - k) % CORRUPT_RECENT];
        if (b->p == NULL)
            continue;
        size_t span = b->size < 8 ? b->size : 8;
        b->p[b->size - 1 - c->flips % span] ^= 0xff;
        b->p = NULL;
        c->flips++;
        return;
    }
}

/* Count an allocation that returned p; flip first when it is the N-th. */
static void corrupt_returned(corrupt *c, void *p, size_t size)
{
    pthread_mutex_lock(&c->lock);
    if (++c->allocations % CORRUPT_EVERY == 0)
        corrupt_flip(c);
    if (size > 0) {
        c->recent[c->next] = (corrupt_block){p, size};
        c->next = (c->next + 1) % CORRUPT_RECENT;
    }
    pthread_mutex_unlock(&c->lock);
}

static void *corrupt_alloc(void *ctx, size_t size)
{
    corrupt *c = ctx;
    void *p = hl_pass_alloc(c, size);
    if (p != NULL)
        corrupt_returned(c, p, size);
    return p;
}

static void corrupt_free(void *ctx, void *p, size_t size)
{
    corrupt *c = ctx;
    if (p != NULL) {
        pthread_mutex_lock(&c->lock);
        corrupt_forget(c, p);
        pthread_mutex_unlock(&c->lock);
    }
    hl_pass_free(c, p, size);
}

static void *corrupt_realloc(void *ctx, void *p, size_t old_size, size_t new_size)
{
    corrupt *c = ctx;
    if (p != NULL) {
        pthread_mutex_lock(&c->lock);
        corrupt_forget(c, p);
        pthread_mutex_unlock(&c->lock);
    }
    void *q = hl_pass_realloc(c, p, old_size, new_size);
    if (q != NULL)
        corrupt_returned(c, q, new_size);
    return q;
}

static void corrupt_stats(void *ctx, hl_stats *out)
{
    corrupt *c = ctx;
    hl_pass_stats(c, out);
    pthread_mutex_lock(&c->lock);
    double flips = (double)c->flips;
    pthread_mutex_unlock(&c->lock);
    hl_stats_add(out, "corrupt_flips", "bytes", flips);
}

static void corrupt_fini(void *ctx)
{
    corrupt *c = ctx;
    pthread_mutex_destroy(&c->lock);
    hl_pass_fini(c);
}

static const hl_allocator_ops corrupt_ops = {
    .name = "corrupt",
    .description = "test decorator: flips a byte of a live block every 50,000 allocations",
    .fini = corrupt_fini,
    .alloc = corrupt_alloc,
    .free = corrupt_free,
    .realloc = corrupt_realloc,
    .stats = corrupt_stats,
};

int hl_corrupt_wrap(hl_allocator *out, const hl_allocator *inner)
{
    corrupt *c = hl_decorator_new(sizeof(corrupt), &corrupt_ops, inner, out);
    if (c == NULL)
        return -ENOMEM;
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        hl_pass_fini(c);
        return -ENOMEM;
    }
    return 0;
}
