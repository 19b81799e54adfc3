/*
 * stress_blocks.c - the stress workload's block engine: the alloc and
 * threads variants (see stress.c for the workload, stress.h for the cookie
 * pattern both engines share).  NOT a benchmark.
 *
 *   alloc    raw blocks over cfg->alloc in a table of `slots` slots.  Each op
 *            picks a slot: an empty one gets a new block; a full one is
 *            freed (45%), reallocated to a new size (30%) or verified (25%).
 *            Every block is checked entirely before it is freed or
 *            reallocated, the preserved prefix is checked after a realloc,
 *            and every block is checked once more at the end.  Sizes:
 *
 *                bytes         weight        bytes          weight
 *                0               1%          1025-4096        10%
 *                1-16           14%          4097-16384        5%
 *                17-64          25%          16385-max_size    2%
 *                65-256         25%
 *                257-1024       18%         (uniform within a band)
 *
 *            max_size (default 64 KiB) caps every band.  A corrupted block
 *            is counted and NOT freed (its header may be damaged): the run
 *            goes on, so it reports how many it found, not just the first.
 *
 *   threads  the alloc sequence on several threads that hand blocks to one
 *            another: on a full slot, 10% of ops hand the block to the next
 *            thread (t + 1 mod T) through its inbox (a mutex-protected array)
 *            instead of freeing it, and 5% of all ops drain the thread's own
 *            inbox, checking and freeing what arrived.  So blocks are freed
 *            by threads that did not allocate them, the case thread caches
 *            and remote-free lists exist for.  Blocks still in an inbox at
 *            the end are checked and freed by the main thread.
 *
 * What a thread count means (alloc and threads variants): `threads` = T
 * threads share the run's work, not multiply it.  Operation i of the run is
 * thread (i mod T)'s, and each thread owns slots/T slots, so the total ops
 * and the live set stay the same as T grows; each thread draws from its own
 * generator (seeded from seed and its index), so its sequence does not
 * depend on how the harness cuts the run into steps.  T = 1 runs on the
 * harness's thread and works under any allocator (the threads variant then
 * hands blocks to itself); the harness runs T > 1 only on thread-safe
 * allocators under manual.  Setup (filling the slots) runs on the threads.
 *
 * Checksum: each thread folds its own sequence in order and what it
 * received as a sum (arrival order varies); the threads' figures are folded
 * in thread order.
 */
#include "workloads/stress.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "workloads/crew.h"

typedef struct stress_block {
    unsigned char *p; /* NULL when the slot is empty */
    size_t size;
    uint64_t gen;     /* blocks this slot has held: names the cookie */
    uint64_t cookie;
} stress_block;

/* A block on its way to another thread. */
typedef struct stress_parcel {
    unsigned char *p;
    size_t size;
    uint64_t cookie;
    uint32_t from, slot;
} stress_parcel;

/* A thread's inbox: senders append under the lock; the owner swaps the
 * array for its empty spare under the lock and checks the parcels outside
 * it.  Both arrays live in untracked memory and grow by doubling. */
typedef struct stress_inbox {
    pthread_mutex_t lock;
    stress_parcel *items; /* guarded by lock */
    size_t n, cap;        /* guarded by lock */
    stress_parcel *spare; /* the owner's alone */
    size_t spare_cap;
} stress_inbox;

#define STRESS_INBOX_MIN 256

/* The size bands of the table in the header comment. */
static const struct {
    uint32_t lo, hi;
    uint8_t percent;
} stress_bands[] = {
    {0, 0, 1},           {1, 16, 14},       {17, 64, 25},       {65, 256, 25},
    {257, 1024, 18},     {1025, 4096, 10},  {4097, 16384, 5},   {16385, 65536, 2},
};
#define STRESS_NBANDS (sizeof stress_bands / sizeof stress_bands[0])

/* One thread's share: its slots, generator, figures and inbox. */
typedef struct stress_heap {
    stress_blocks *owner;
    const hl_allocator *alloc;
    stress_block *slots;
    uint32_t nslots;
    uint32_t index; /* thread index t */
    hl_rng rng;
    int filled;     /* the slots were filled (setup's round) */
    int failed;     /* err is set; the heap does nothing more */
    hl_error err;
    uint64_t checksum;     /* of its own sequence, in order */
    uint64_t received_sum; /* of what it received, in any order */
    uint64_t count[SC_COUNT];
    stress_fault fault;
    stress_inbox inbox;
    stress_inbox *next; /* the inbox of thread (t + 1) mod T */
} stress_heap;

struct stress_blocks {
    size_t variant;
    uint64_t seed;
    uint32_t band_lo[STRESS_NBANDS], band_hi[STRESS_NBANDS];
    uint8_t band_of_percent[100];
    uint32_t nthreads;
    stress_heap *heaps;
    uint64_t ops_done;
    /* The crew runs heap t's share of ops [start, start + count) on worker
     * t; start and count are written before each dispatch. */
    hl_crew crew;
    uint64_t start, count;
};

/* A size from the band table, from 64 random bits: the high half picks the
 * band, the low half the size within it. */
static size_t blocks_draw_size(const stress_blocks *b, uint64_t r)
{
    unsigned band = b->band_of_percent[hl_rng_below((uint32_t)(r >> 32), 100)];
    uint64_t span = (uint64_t)b->band_hi[band] - b->band_lo[band] + 1u;
    return b->band_lo[band] + (size_t)(((r & 0xffffffffu) * span) >> 32);
}

static int heap_oom(stress_heap *h, size_t size)
{
    h->failed = 1;
    return hl_fail(&h->err, "out of memory: allocation of %zu bytes failed (thread %u)", size,
                   h->index);
}

/* Where a block of this heap is, for error messages. */
static void heap_where(const stress_heap *h, uint32_t from, uint32_t slot, char *out, size_t len)
{
    if (h->owner->nthreads > 1)
        snprintf(out, len, "thread %u slot %u", from, slot);
    else
        snprintf(out, len, "slot %u", slot);
}

/* Check len bytes of a block against its cookie.  Returns 0 and sets *fold
 * when intact; else notes the fault and returns -1. */
static int heap_check(stress_heap *h, const unsigned char *p, size_t len, uint64_t cookie,
                      uint32_t from, uint32_t slot, const char *what, uint64_t *fold)
{
    h->count[SC_CHECKED]++;
    size_t bad = stress_check(p, len, cookie, fold);
    if (__builtin_expect(bad == SIZE_MAX, 1))
        return 0;
    char where[48];
    heap_where(h, from, slot, where, sizeof where);
    hl_stress_fault_note(&h->fault, "%s, byte %zu%s: expected 0x%02x got 0x%02x", where, bad, what,
                      stress_expected_byte(cookie, bad), p[bad]);
    return -1;
}

/* Allocate slot s's next block and fill it.  Returns 0 or -1 (out of memory). */
static int heap_alloc(stress_heap *h, uint32_t s, size_t size)
{
    stress_block *blk = &h->slots[s];
    unsigned char *p = hl_alloc(h->alloc, size);
    if (__builtin_expect(p == NULL, 0))
        return heap_oom(h, size);
    blk->gen++;
    blk->cookie = stress_cookie(h->owner->seed, ((uint64_t)h->index << 32) | s, blk->gen);
    stress_fill(p, size, blk->cookie);
    blk->p = p;
    blk->size = size;
    h->checksum = stress_fold(h->checksum, blk->cookie ^ size);
    return 0;
}

/* Check slot s's block entirely; fold it in.  A corrupted block leaves the
 * slot unfreed.  Returns 0 when intact. */
static int heap_verify(stress_heap *h, uint32_t s)
{
    stress_block *blk = &h->slots[s];
    uint64_t fold;
    if (heap_check(h, blk->p, blk->size, blk->cookie, h->index, s, "", &fold) != 0) {
        blk->p = NULL; /* leaked on purpose: its header may be damaged */
        return -1;
    }
    h->checksum = stress_fold(h->checksum, fold);
    return 0;
}

static void heap_free(stress_heap *h, uint32_t s)
{
    stress_block *blk = &h->slots[s];
    if (heap_verify(h, s) == 0) {
        hl_free(h->alloc, blk->p, blk->size);
        blk->p = NULL;
    }
}

/* Resize slot s's block: check it, realloc, check the preserved prefix,
 * refill under the next generation's cookie.  Returns 0 or -1 (out of
 * memory; the block is then untouched). */
static int heap_realloc(stress_heap *h, uint32_t s, size_t size)
{
    stress_block *blk = &h->slots[s];
    if (heap_verify(h, s) != 0)
        return 0;
    unsigned char *q = hl_realloc(h->alloc, blk->p, blk->size, size);
    if (__builtin_expect(q == NULL, 0))
        return heap_oom(h, size);
    uint64_t fold;
    size_t keep = blk->size < size ? blk->size : size;
    if (heap_check(h, q, keep, blk->cookie, h->index, s, " after realloc", &fold) != 0) {
        blk->p = NULL;
        return 0;
    }
    blk->gen++;
    blk->cookie = stress_cookie(h->owner->seed, ((uint64_t)h->index << 32) | s, blk->gen);
    stress_fill(q, size, blk->cookie);
    blk->p = q;
    blk->size = size;
    h->checksum = stress_fold(h->checksum, fold ^ blk->cookie);
    return 0;
}

/* Append a parcel to an inbox.  Returns 0, or -1 when its array cannot grow. */
static int inbox_push(stress_inbox *box, const stress_parcel *parcel)
{
    int rc = 0;
    pthread_mutex_lock(&box->lock);
    if (box->n == box->cap) {
        size_t cap = box->cap ? 2 * box->cap : STRESS_INBOX_MIN;
        stress_parcel *items = hl_untracked_alloc(cap * sizeof *items);
        if (items == NULL) {
            rc = -1;
        } else {
            if (box->n > 0)
                memcpy(items, box->items, box->n * sizeof *items);
            hl_untracked_free(box->items, box->cap * sizeof *items);
            box->items = items;
            box->cap = cap;
        }
    }
    if (rc == 0)
        box->items[box->n++] = *parcel;
    pthread_mutex_unlock(&box->lock);
    return rc;
}

/* Hand slot s's block to the next thread, unchecked: the receiver checks. */
static int heap_handoff(stress_heap *h, uint32_t s)
{
    stress_block *blk = &h->slots[s];
    stress_parcel parcel = {blk->p, blk->size, blk->cookie, h->index, s};
    if (inbox_push(h->next, &parcel) != 0) {
        h->failed = 1;
        return hl_fail(&h->err, "out of memory for an inbox of the threads variant");
    }
    h->checksum = stress_fold(h->checksum, blk->cookie);
    blk->p = NULL;
    return 0;
}

/* Check and free every parcel in h's inbox (a corrupted one is counted and
 * left unfreed).  Folded into received_sum, whose order does not matter. */
static void heap_receive(stress_heap *h)
{
    stress_inbox *box = &h->inbox;
    pthread_mutex_lock(&box->lock);
    stress_parcel *items = box->items;
    size_t n = box->n, cap = box->cap;
    box->items = box->spare;
    box->cap = box->spare_cap;
    box->n = 0;
    pthread_mutex_unlock(&box->lock);
    box->spare = items;
    box->spare_cap = cap;
    for (size_t i = 0; i < n; i++) {
        const stress_parcel *parcel = &items[i];
        uint64_t fold;
        if (heap_check(h, parcel->p, parcel->size, parcel->cookie, parcel->from, parcel->slot,
                       " (received)", &fold) != 0)
            continue;
        h->received_sum += hl_mix64(fold ^ parcel->cookie);
        hl_free(h->alloc, parcel->p, parcel->size);
    }
    h->count[SC_RECEIVED] += n;
}

/* One op of h's sequence.  Returns 0 or -1 with h->err set. */
static int heap_op(stress_heap *h)
{
    const stress_blocks *b = h->owner;
    uint64_t r = hl_rng_next(&h->rng);
    uint32_t s = hl_rng_below((uint32_t)(r >> 32), h->nslots);
    unsigned pct = (unsigned)(((r & 0xffff) * 100u) >> 16);
    size_t size = blocks_draw_size(b, hl_rng_next(&h->rng));
    if (b->variant == STRESS_HANDOFF && pct < 5) {
        h->count[SC_RECEIVE]++;
        heap_receive(h);
        return 0;
    }
    if (h->slots[s].p == NULL) {
        h->count[SC_ALLOC]++;
        return heap_alloc(h, s, size);
    }
    unsigned free_below = b->variant == STRESS_HANDOFF ? 40 : 45;
    if (pct < free_below) {
        h->count[SC_FREE]++;
        heap_free(h, s);
    } else if (pct < free_below + 30) {
        h->count[SC_REALLOC]++;
        return heap_realloc(h, s, size);
    } else if (b->variant == STRESS_HANDOFF && pct < 80) {
        h->count[SC_HANDOFF]++;
        return heap_handoff(h, s);
    } else {
        h->count[SC_VERIFY]++;
        heap_verify(h, s);
    }
    return 0;
}

/* How many of the run's ops [0, x) are thread t's (op i is thread i mod T's). */
static uint64_t blocks_share(uint64_t x, uint32_t t, uint32_t nthreads)
{
    return x > t ? (x - t - 1) / nthreads + 1 : 0;
}

/* Thread t's part of a round: fill the slots first time round, then its
 * ops among [start, start + count). */
static void heap_run(stress_heap *h, uint64_t start, uint64_t count)
{
    const stress_blocks *b = h->owner;
    if (!h->filled) {
        h->filled = 1;
        for (uint32_t s = 0; s < h->nslots && !h->failed; s++)
            heap_alloc(h, s, blocks_draw_size(b, hl_rng_next(&h->rng)));
    }
    uint64_t n = blocks_share(start + count, h->index, b->nthreads) -
                 blocks_share(start, h->index, b->nthreads);
    for (uint64_t i = 0; i < n && !h->failed; i++)
        heap_op(h);
}

/* The crew's job: heap `worker`'s share of the current round. */
static int blocks_job(void *ctx, unsigned worker, hl_error *err)
{
    stress_blocks *b = ctx;
    stress_heap *h = &b->heaps[worker];
    heap_run(h, b->start, b->count);
    if (h->failed) {
        *err = h->err;
        return -1;
    }
    return 0;
}

/* Run ops [start, start + count) on every thread and wait for them all;
 * returns 0, or -1 with err set from the first thread that failed. */
static int blocks_round(stress_blocks *b, uint64_t start, uint64_t count, hl_error *err)
{
    b->start = start;
    b->count = count;
    return hl_crew_run(&b->crew, err);
}

int hl_stress_blocks_setup(const hl_workload_config *cfg, void **state, hl_error *err)
{
    stress_blocks *b = hl_untracked_alloc(sizeof *b);
    if (b == NULL)
        return hl_fail(err, "out of memory for the stress state");
    b->variant = cfg->variant;
    b->seed = cfg->seed;
    b->nthreads = (uint32_t)cfg->params[STRESS_THREADS];
    uint32_t slots = (uint32_t)cfg->params[STRESS_SLOTS];
    if (b->nthreads > slots)
        b->nthreads = slots; /* every thread owns at least one slot */
    uint32_t max_size = (uint32_t)cfg->params[STRESS_MAX_SIZE];
    unsigned pct = 0;
    for (unsigned k = 0; k < STRESS_NBANDS; k++) {
        /* the top band runs to max_size; every band stops there */
        b->band_hi[k] = k + 1 == STRESS_NBANDS || stress_bands[k].hi > max_size
                            ? max_size
                            : stress_bands[k].hi;
        b->band_lo[k] = stress_bands[k].lo < b->band_hi[k] ? stress_bands[k].lo : b->band_hi[k];
        for (unsigned i = 0; i < stress_bands[k].percent; i++)
            b->band_of_percent[pct++] = (uint8_t)k;
    }
    b->heaps = hl_untracked_alloc(b->nthreads * sizeof *b->heaps);
    if (b->heaps == NULL) {
        hl_untracked_free(b, sizeof *b);
        return hl_fail(err, "out of memory for the stress state");
    }
    *state = b; /* from here on finish() releases what was made */
    for (uint32_t t = 0; t < b->nthreads; t++)
        pthread_mutex_init(&b->heaps[t].inbox.lock, NULL);
    for (uint32_t t = 0; t < b->nthreads; t++) {
        stress_heap *h = &b->heaps[t];
        h->owner = b;
        h->alloc = cfg->alloc;
        h->index = t;
        h->nslots = slots / b->nthreads + (t < slots % b->nthreads);
        h->next = &b->heaps[(t + 1) % b->nthreads].inbox;
        hl_rng_seed(&h->rng, cfg->seed ^ hl_mix64(t + 1));
        h->slots = hl_untracked_alloc(h->nslots * sizeof *h->slots);
        if (h->slots == NULL)
            return hl_fail(err, "out of memory for %u slots", h->nslots);
    }
    if (hl_crew_start(&b->crew, "stress", b->nthreads, blocks_job, b, err) != 0)
        return -1;
    return blocks_round(b, 0, 0, err); /* each thread fills its slots */
}

int hl_stress_blocks_step(stress_blocks *b, uint64_t n, hl_error *err)
{
    int rc = blocks_round(b, b->ops_done, n, err);
    b->ops_done += n;
    return rc;
}

/* Stop the threads; check and free what is left (inboxes first, in thread
 * order, each as its owner would); fold the checksum in thread order. */
int hl_stress_blocks_finish(stress_blocks *b, hl_workload_result *res, hl_error *err)
{
    hl_crew_stop(&b->crew);
    uint64_t checksum = 0xcbf29ce484222325ull, count[SC_COUNT] = {0};
    stress_fault fault = {0};
    for (uint32_t t = 0; t < b->nthreads; t++)
        if (b->heaps[t].slots != NULL)
            heap_receive(&b->heaps[t]);
    for (uint32_t t = 0; t < b->nthreads; t++) {
        stress_heap *h = &b->heaps[t];
        for (uint32_t s = 0; h->slots != NULL && s < h->nslots; s++)
            if (h->slots[s].p != NULL)
                heap_free(h, s);
        checksum = stress_fold(stress_fold(checksum, h->checksum), h->received_sum);
        for (int k = 0; k < SC_COUNT; k++)
            count[k] += h->count[k];
        if (fault.count == 0)
            fault = h->fault;
        else
            fault.count += h->fault.count;
        hl_untracked_free(h->slots, h->nslots * sizeof *h->slots);
        hl_untracked_free(h->inbox.items, h->inbox.cap * sizeof(stress_parcel));
        hl_untracked_free(h->inbox.spare, h->inbox.spare_cap * sizeof(stress_parcel));
        pthread_mutex_destroy(&h->inbox.lock);
    }
    res->ops = b->ops_done;
    res->checksum = checksum;
    int rc = hl_stress_report(res, (unsigned)b->variant, count, &fault, "block", err);
    hl_untracked_free(b->heaps, b->nthreads * sizeof *b->heaps);
    hl_untracked_free(b, sizeof *b);
    return rc;
}
