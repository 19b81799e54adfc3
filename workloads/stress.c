/*
 * stress.c - `--workload=stress` (`bench --stress`): long seeded random
 * sequences that try to break allocators and collectors, checking
 * everything they touch.
 *
 * THIS IS NOT A BENCHMARK.  Every byte of every block is written and read
 * back, so the timings measure the checking far more than the strategy;
 * do not compare them.  What a run reports is whether anything broke: the
 * figures wl_checked (blocks or objects verified) and wl_errors (corrupted
 * ones found), and the checksum, which is the same under every allocator
 * and collector when nothing broke.  A run that finds corruption fails its
 * cell with "N corrupted blocks found (first: slot S, byte B: expected X
 * got Y)", so `bench` exits 1.  The habits are those of mimalloc's
 * test/test-stress.c: a deterministic generator per thread, every block
 * filled with a cookie and checked before it is freed, blocks handed
 * between threads.
 *
 * The cookie.  A block's contents are a pattern derived from (seed, thread,
 * slot, generation): word k of the block is cookie + k * 0x9e3779b97f4a7c15,
 * stored little end first, the last partial word cut short.  So every byte
 * depends on the block's identity and on its position in the block: a
 * block handed out twice, a stale write into a freed-and-reused block, an
 * allocator's free-list link written into a live block, a realloc that
 * loses or shifts bytes - each shows as a wrong byte somewhere.  Object
 * data uses the same pattern, from (seed, object number).
 *
 * Variants (one op = one step of the sequence: an alloc, a free, a store...):
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
 *   graph    the object model under cfg->gc, every collector.  `slots` root
 *            slots hold objects with 0-4 reference fields and 8-4096 bytes
 *            of cookie-filled data.  Ops: new objects into empty slots (75%)
 *            or another slot's object retained there (25%); on a full slot,
 *            drop it (25%, checked first), store an object reached from one
 *            root into a field of one reached from another (35%), hang a new
 *            child on a reached object (10%), verify a reached object (10%),
 *            make or drop a weak reference (8%), read one back (11.9%),
 *            collect (0.1%, a random generation or everything).  A shadow of
 *            the graph (node table outside the measured heap) says what each
 *            object must hold; the workload never follows a pointer it read
 *            from the heap, so a corrupted object cannot lead it astray.
 *            After each collection it marks the shadow from the roots,
 *            checks every object it reaches (type, sizes, every reference,
 *            every data byte), forgets the rest - and under manual frees
 *            them, as a C program frees what it knows is unreachable - and
 *            reads every weak reference: one whose target a root holds must
 *            read that target; under manual one whose target was freed must
 *            read NULL; and any target a weak reference still returns must
 *            be intact (wl_weak_alive counts such targets the workload no
 *            longer held: the collector had not freed them yet).  Everything
 *            reachable is checked once more at the end.  Always one thread:
 *            heaplab's collectors are single-threaded, so `threads` is
 *            ignored here.
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
 * Checksum: of what was read back, so the same under every allocator and
 * collector when no error is found.  Each thread folds its own sequence in
 * order and what it received as a sum (arrival order varies); the threads'
 * figures are folded in thread order.  The graph folds what each check read,
 * in the shadow's order, which no collector changes.
 *
 * Figures (rows: wl_<name>): checked, errors, one count per kind of op
 * (ops_alloc, ops_free, ops_store, ...), received (blocks that arrived from
 * another thread), unreachable (objects the shadow found unreachable).
 *
 * Parameters: ops, slots, max_size, threads; seed from --seed.
 * Source: mimalloc's test/test-stress.c (Leijen et al., MIT) for the habits;
 * glibc's malloc/tst-malloc-thread-fail.c for freeing on another thread.
 */
#include "workloads/crew.h"
#include "workloads/rng.h"
#include "workloads/workload.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum { STRESS_OPS, STRESS_SLOTS, STRESS_MAX_SIZE, STRESS_THREADS };

static const hl_param_spec stress_params[] = {
    [STRESS_OPS] = {"ops", "operations per run, over all threads", 2000000, 200000, 1,
                    INT64_C(1000000000000)},
    [STRESS_SLOTS] = {"slots", "block slots (alloc, threads: shared out among the threads) or "
                      "root slots (graph)", 1024, 1024, 1, 1 << 24},
    [STRESS_MAX_SIZE] = {"max_size", "largest block in bytes (alloc, threads)", 65536, 65536, 1,
                         1 << 26},
    [STRESS_THREADS] = {HL_THREADS_PARAM, "threads sharing the ops and slots (alloc, threads; "
                        "graph runs one)", 1, 1, 1, 1024},
};

enum { STRESS_ALLOC, STRESS_GRAPH, STRESS_HANDOFF };

static const hl_variant_spec stress_variants[] = {
    [STRESS_ALLOC] = {"alloc", "raw alloc/free/realloc, every byte cookie-checked"},
    [STRESS_GRAPH] = {"graph", "random object graphs, stores, weak references and collections, "
                      "checked against a shadow"},
    [STRESS_HANDOFF] = {"threads", "the alloc sequence on several threads that hand blocks to "
                        "one another to free"},
};

/* ------------------------------------------------------------ counters -- */

#define STRESS_IN(v) (1u << (v))
#define STRESS_BLOCKS (STRESS_IN(STRESS_ALLOC) | STRESS_IN(STRESS_HANDOFF))

/* What a run counts, and in which variants it reports each figure. */
#define STRESS_COUNTERS(X)                                                               \
    X(CHECKED, "checked", "blocks", STRESS_BLOCKS | STRESS_IN(STRESS_GRAPH))              \
    X(ALLOC, "ops_alloc", "ops", STRESS_BLOCKS)                                          \
    X(FREE, "ops_free", "ops", STRESS_BLOCKS)                                            \
    X(REALLOC, "ops_realloc", "ops", STRESS_BLOCKS)                                      \
    X(VERIFY, "ops_verify", "ops", STRESS_BLOCKS | STRESS_IN(STRESS_GRAPH))              \
    X(HANDOFF, "ops_handoff", "ops", STRESS_IN(STRESS_HANDOFF))                          \
    X(RECEIVE, "ops_receive", "ops", STRESS_IN(STRESS_HANDOFF))                          \
    X(RECEIVED, "received", "blocks", STRESS_IN(STRESS_HANDOFF))                         \
    X(NEW, "ops_new", "ops", STRESS_IN(STRESS_GRAPH))                                    \
    X(RETAIN, "ops_retain", "ops", STRESS_IN(STRESS_GRAPH))                              \
    X(DROP, "ops_drop", "ops", STRESS_IN(STRESS_GRAPH))                                  \
    X(STORE, "ops_store", "ops", STRESS_IN(STRESS_GRAPH))                                \
    X(CHILD, "ops_child", "ops", STRESS_IN(STRESS_GRAPH))                                \
    X(WEAK_NEW, "ops_weak_new", "ops", STRESS_IN(STRESS_GRAPH))                          \
    X(WEAK_DROP, "ops_weak_drop", "ops", STRESS_IN(STRESS_GRAPH))                        \
    X(WEAK_CHECK, "ops_weak_check", "ops", STRESS_IN(STRESS_GRAPH))                      \
    X(COLLECT, "ops_collect", "ops", STRESS_IN(STRESS_GRAPH))                            \
    X(UNREACHABLE, "unreachable", "objects", STRESS_IN(STRESS_GRAPH))                    \
    X(WEAK_ALIVE, "weak_alive", "objects", STRESS_IN(STRESS_GRAPH))

#define STRESS_ENUM(id, name, unit, variants) SC_##id,
enum stress_counter { STRESS_COUNTERS(STRESS_ENUM) SC_COUNT };
#undef STRESS_ENUM

#define STRESS_ROW(id, name, unit, variants) {name, unit, variants},
static const struct {
    const char *name, *unit;
    unsigned variants;
} stress_counter_table[SC_COUNT] = {STRESS_COUNTERS(STRESS_ROW)};
#undef STRESS_ROW

/* ------------------------------------------------------------- cookies -- */

#define STRESS_GOLDEN 0x9e3779b97f4a7c15ull

static inline uint64_t stress_cookie(uint64_t seed, uint64_t a, uint64_t b)
{
    return hl_mix64(seed ^ hl_mix64(b ^ hl_mix64(a)));
}

/* Word k of the pattern of `cookie`. */
static inline uint64_t stress_word(uint64_t cookie, size_t k)
{
    return cookie + (uint64_t)k * STRESS_GOLDEN;
}

static unsigned stress_expected_byte(uint64_t cookie, size_t i)
{
    uint64_t w = stress_word(cookie, i >> 3);
    unsigned char b[8];
    memcpy(b, &w, 8);
    return b[i & 7];
}

/* Write the pattern of `cookie` over p[0..len).  Cost: O(len). */
static void stress_fill(unsigned char *p, size_t len, uint64_t cookie)
{
    size_t words = len >> 3, k;
    for (k = 0; k < words; k++) {
        uint64_t w = stress_word(cookie, k);
        memcpy(p + 8 * k, &w, 8);
    }
    if (len & 7) {
        uint64_t w = stress_word(cookie, k);
        memcpy(p + 8 * k, &w, len & 7);
    }
}

/* Check p[0..len) against the pattern of `cookie`.  Returns SIZE_MAX when
 * every byte matches, with a fold of what was read in *fold; else the
 * offset of the first wrong byte.  Cost: O(len). */
static size_t stress_check(const unsigned char *p, size_t len, uint64_t cookie, uint64_t *fold)
{
    size_t words = len >> 3, k;
    uint64_t acc = len, w;
    for (k = 0; k < words; k++) {
        memcpy(&w, p + 8 * k, 8);
        if (__builtin_expect(w != stress_word(cookie, k), 0))
            goto bad;
        acc += w;
    }
    if (len & 7) {
        uint64_t e = stress_word(cookie, k);
        w = 0;
        memcpy(&w, p + 8 * k, len & 7);
        if (memcmp(&w, &e, len & 7) != 0)
            goto bad;
        acc += w;
    }
    *fold = acc;
    return SIZE_MAX;
bad:
    for (size_t i = 8 * k; i < len; i++)
        if (p[i] != stress_expected_byte(cookie, i))
            return i;
    return SIZE_MAX; /* not reached: some byte of word k differed */
}

/* -------------------------------------------------------------- faults -- */

/* Corrupted blocks found: how many, and a description of the first. */
typedef struct stress_fault {
    uint64_t count;
    char first[192];
} stress_fault;

__attribute__((format(printf, 2, 3))) static void stress_fault_note(stress_fault *f,
                                                                     const char *fmt, ...)
{
    if (f->count++ > 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->first, sizeof f->first, fmt, ap);
    va_end(ap);
}

static inline uint64_t stress_fold(uint64_t h, uint64_t v)
{
    return (h ^ v) * 0x100000001b3ull;
}

/* ============================================================== blocks == */
/* The alloc and threads variants: slots of raw blocks, one heap per thread. */

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

typedef struct stress_blocks stress_blocks;

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
    stress_fault_note(&h->fault, "%s, byte %zu%s: expected 0x%02x got 0x%02x", where, bad, what,
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

static int blocks_setup(const hl_workload_config *cfg, void **state, hl_error *err)
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

static int blocks_step(stress_blocks *b, uint64_t n, hl_error *err)
{
    int rc = blocks_round(b, b->ops_done, n, err);
    b->ops_done += n;
    return rc;
}

/* Stop the threads; check and free what is left (inboxes first, in thread
 * order, each as its owner would); fold the checksum in thread order. */
static int blocks_finish(stress_blocks *b, hl_workload_result *res, hl_error *err)
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
    hl_stats_add(&res->figures, "errors", "blocks", (double)fault.count);
    for (int k = 0; k < SC_COUNT; k++)
        if (stress_counter_table[k].variants & STRESS_IN(b->variant))
            hl_stats_add(&res->figures, stress_counter_table[k].name,
                         stress_counter_table[k].unit, (double)count[k]);
    hl_untracked_free(b->heaps, b->nthreads * sizeof *b->heaps);
    hl_untracked_free(b, sizeof *b);
    if (fault.count > 0)
        return hl_fail(err, "%" PRIu64 " corrupted block%s found (first: %s)", fault.count,
                       fault.count == 1 ? "" : "s", fault.first);
    return 0;
}

/* =============================================================== graph == */
/* The graph variant: objects under a collector, checked against a shadow. */

#define GRAPH_MAX_REFS 4
#define GRAPH_NONE (-1)

static const hl_type graph_type = {.name = "stress"};

/* What the workload knows of one object.  Invariant: a node in use whose
 * refs[f] names node j has node j in use too (nodes are forgotten only by
 * graph_sweep, and only when no reachable node names them). */
typedef struct graph_node {
    hl_object *obj;    /* NULL: on the free list */
    uint64_t id;       /* creation number: names the data's cookie */
    uint32_t nrefs, data_size;
    int32_t refs[GRAPH_MAX_REFS]; /* node of each field's target, or GRAPH_NONE */
    uint32_t roots;    /* root slots holding it */
    uint32_t mark;     /* epoch of the last shadow mark that reached it */
    int32_t next_free;
    int bad;           /* found corrupted: counted once, never freed by us */
} graph_node;

/* A weak reference the workload holds, and what it was made to. */
typedef struct graph_weak {
    hl_object *ref; /* NULL: the slot is empty */
    hl_object *target;
    uint64_t target_id;
    int32_t target_node;
} graph_weak;

typedef struct stress_graph {
    const hl_gc *gc;
    int manual;
    uint64_t seed;
    hl_rng rng;
    uint32_t nroots, nweak;
    int32_t *roots;     /* node held by each root slot, or GRAPH_NONE */
    graph_weak *weak;
    graph_node *nodes;
    int32_t *stack;     /* the shadow mark's work list, as long as nodes */
    uint32_t cap;
    int32_t free_head;
    uint32_t epoch;
    uint64_t next_id;
    uint64_t ops_done;
    uint64_t checksum;
    uint64_t count[SC_COUNT];
    stress_fault fault;
} stress_graph;

static uint64_t graph_cookie(const stress_graph *g, uint64_t id)
{
    return stress_cookie(g->seed, id, UINT64_C(0x6772617068)); /* "graph" */
}

/* Double the node table (and the mark stack).  Returns 0 or -1. */
static int graph_grow(stress_graph *g)
{
    uint32_t cap = g->cap ? 2 * g->cap : 1024;
    graph_node *nodes = hl_untracked_alloc((size_t)cap * sizeof *nodes);
    int32_t *stack = hl_untracked_alloc((size_t)cap * sizeof *stack);
    if (nodes == NULL || stack == NULL) {
        hl_untracked_free(nodes, (size_t)cap * sizeof *nodes);
        hl_untracked_free(stack, (size_t)cap * sizeof *stack);
        return -1;
    }
    if (g->cap > 0)
        memcpy(nodes, g->nodes, (size_t)g->cap * sizeof *nodes);
    for (uint32_t i = cap; i-- > g->cap;) {
        nodes[i].next_free = g->free_head;
        g->free_head = (int32_t)i;
    }
    hl_untracked_free(g->nodes, (size_t)g->cap * sizeof *g->nodes);
    hl_untracked_free(g->stack, (size_t)g->cap * sizeof *g->stack);
    g->nodes = nodes;
    g->stack = stack;
    g->cap = cap;
    return 0;
}

/* How graph_check accounts for a check: checks that every collector makes
 * alike are counted and folded; the others (weak references to objects a
 * collector may or may not have freed yet) are neither. */
enum { GRAPH_FOLD = 1u << 0, GRAPH_COUNT = 1u << 1, GRAPH_ALIKE = GRAPH_FOLD | GRAPH_COUNT };

/* Check one object against its node: type, sizes, every reference, every
 * data byte.  A node found bad is counted once and skipped afterwards.
 * Returns 0 when intact. */
static int graph_check(stress_graph *g, int32_t idx, unsigned how)
{
    graph_node *n = &g->nodes[idx];
    if (n->bad)
        return -1;
    hl_object *o = n->obj;
    if (how & GRAPH_COUNT)
        g->count[SC_CHECKED]++;
    if (o->type != &graph_type || o->nrefs != n->nrefs || o->data_size != n->data_size) {
        stress_fault_note(&g->fault, "object %" PRIu64 ": header says type %p, %u refs, %u data "
                          "bytes; expected %p, %u, %u", n->id, (const void *)o->type, o->nrefs,
                          o->data_size, (const void *)&graph_type, n->nrefs, n->data_size);
        n->bad = 1;
        return -1;
    }
    for (uint32_t f = 0; f < n->nrefs; f++) {
        hl_object *want = n->refs[f] == GRAPH_NONE ? NULL : g->nodes[n->refs[f]].obj;
        if (o->refs[f] != want) {
            stress_fault_note(&g->fault, "object %" PRIu64 ": refs[%u] is %p, expected %p",
                              n->id, f, (void *)o->refs[f], (void *)want);
            n->bad = 1;
            return -1;
        }
    }
    uint64_t cookie = graph_cookie(g, n->id), sum;
    const unsigned char *data = hl_object_data(o);
    size_t bad = stress_check(data, n->data_size, cookie, &sum);
    if (bad != SIZE_MAX) {
        stress_fault_note(&g->fault, "object %" PRIu64 ", data byte %zu: expected 0x%02x got "
                          "0x%02x", n->id, bad, stress_expected_byte(cookie, bad), data[bad]);
        n->bad = 1;
        return -1;
    }
    if (how & GRAPH_FOLD)
        g->checksum = stress_fold(g->checksum, sum ^ n->id);
    return 0;
}

/* A new object of random shape held by one root reference (node returned),
 * or GRAPH_NONE when memory is exhausted (err set). */
static int32_t graph_new(stress_graph *g, hl_error *err)
{
    if (g->free_head == GRAPH_NONE && graph_grow(g) != 0) {
        hl_fail(err, "out of memory for the shadow graph (%u nodes)", g->cap);
        return GRAPH_NONE;
    }
    uint64_t r = hl_rng_next(&g->rng), r2 = hl_rng_next(&g->rng);
    uint32_t nrefs = hl_rng_below((uint32_t)r, GRAPH_MAX_REFS + 1);
    /* 8-256 data bytes, 1 in 50 up to 4 KiB; whole words, so an object's
     * last bytes are always its data. */
    int big = hl_rng_below((uint32_t)(r >> 32), 50) == 0;
    uint32_t data_size = 8 * (1 + hl_rng_below((uint32_t)r2, big ? 512 : 32));
    hl_object *o = hl_new(g->gc, &graph_type, nrefs, data_size);
    if (o == NULL) {
        hl_fail(err, "out of memory: new object (%u refs, %u data bytes) failed after %" PRIu64
                " operations", nrefs, data_size, g->ops_done);
        return GRAPH_NONE;
    }
    int32_t idx = g->free_head;
    graph_node *n = &g->nodes[idx];
    g->free_head = n->next_free;
    *n = (graph_node){.obj = o, .id = g->next_id++, .nrefs = nrefs, .data_size = data_size,
                      .refs = {GRAPH_NONE, GRAPH_NONE, GRAPH_NONE, GRAPH_NONE}, .roots = 1,
                      .mark = g->epoch};
    stress_fill(hl_object_data(o), data_size, graph_cookie(g, n->id));
    g->checksum = stress_fold(g->checksum, n->id ^ data_size ^ nrefs);
    return idx;
}

/* From root slot `slot`, follow up to 3 random references of the shadow;
 * the node reached (reachable by construction), or GRAPH_NONE for an empty
 * slot. */
static int32_t graph_walk(const stress_graph *g, uint32_t slot, uint64_t r)
{
    int32_t idx = g->roots[slot];
    unsigned depth = r & 3;
    r >>= 2;
    for (unsigned d = 0; d < depth && idx != GRAPH_NONE; d++, r >>= 8) {
        const graph_node *n = &g->nodes[idx];
        if (n->nrefs == 0)
            break;
        int32_t next = n->refs[(r & 0xff) % n->nrefs];
        if (next == GRAPH_NONE)
            break;
        idx = next;
    }
    return idx;
}

/* Drop one root reference to node idx (the object is checked first). */
static void graph_unroot(stress_graph *g, int32_t idx)
{
    graph_check(g, idx, GRAPH_ALIKE);
    hl_release(g->gc, g->nodes[idx].obj);
    g->nodes[idx].roots--;
}

/* Read weak slot w back.  Its target must be what it was made to or NULL;
 * NULL is wrong while a root holds the target and required under manual
 * once the target was freed; a target still returned must be intact. */
static void graph_weak_check(stress_graph *g, graph_weak *w, int swept)
{
    hl_object *got = hl_weak_get(g->gc, w->ref);
    graph_node *n = &g->nodes[w->target_node];
    int known = n->obj == w->target && n->id == w->target_id;
    int held = known && (n->roots > 0 || (swept && n->mark == g->epoch));
    if (got != NULL && got != w->target) {
        stress_fault_note(&g->fault, "weak reference to object %" PRIu64 " reads %p, expected "
                          "%p or NULL", w->target_id, (void *)got, (void *)w->target);
        return;
    }
    if (got == NULL) {
        if (held)
            stress_fault_note(&g->fault, "weak reference to object %" PRIu64 " reads NULL "
                              "while the object is reachable", w->target_id);
        return;
    }
    if (g->manual && !known) {
        stress_fault_note(&g->fault, "weak reference to object %" PRIu64 " still reads it "
                          "after manual freed it", w->target_id);
        return;
    }
    if (held) {
        g->checksum = stress_fold(g->checksum, w->target_id);
        graph_check(g, w->target_node, GRAPH_COUNT);
        return;
    }
    /* Alive, though the workload no longer holds it: check what it can. */
    g->count[SC_WEAK_ALIVE]++;
    if (known) {
        graph_check(g, w->target_node, 0);
        return;
    }
    uint64_t sum;
    if (got->type != &graph_type ||
        stress_check(hl_object_data(got), got->data_size, graph_cookie(g, w->target_id), &sum) !=
            SIZE_MAX)
        stress_fault_note(&g->fault, "object %" PRIu64 ", still returned by a weak reference, "
                          "is corrupted", w->target_id);
}

/* Mark the shadow from the roots, checking each object reached, in an
 * order no collector changes; forget every node not reached (under manual,
 * free its object); read back every weak reference.  Cost: O(nodes). */
static void graph_sweep(stress_graph *g)
{
    uint32_t epoch = ++g->epoch, top = 0;
    for (uint32_t s = 0; s < g->nroots; s++) {
        int32_t idx = g->roots[s];
        if (idx == GRAPH_NONE || g->nodes[idx].mark == epoch)
            continue;
        g->nodes[idx].mark = epoch;
        g->stack[top++] = idx;
        while (top > 0) {
            graph_node *n = &g->nodes[g->stack[--top]];
            graph_check(g, (int32_t)(n - g->nodes), GRAPH_ALIKE);
            for (uint32_t f = 0; f < n->nrefs; f++) {
                int32_t j = n->refs[f];
                if (j != GRAPH_NONE && g->nodes[j].mark != epoch) {
                    g->nodes[j].mark = epoch;
                    g->stack[top++] = j;
                }
            }
        }
    }
    for (uint32_t i = 0; i < g->cap; i++) {
        graph_node *n = &g->nodes[i];
        if (n->obj == NULL || n->mark == epoch)
            continue;
        if (g->manual && !n->bad)
            hl_free_object(g->gc, n->obj);
        n->obj = NULL;
        n->next_free = g->free_head;
        g->free_head = (int32_t)i;
        g->count[SC_UNREACHABLE]++;
    }
    for (uint32_t k = 0; k < g->nweak; k++)
        if (g->weak[k].ref != NULL)
            graph_weak_check(g, &g->weak[k], 1);
}

static void graph_weak_drop(stress_graph *g, graph_weak *w)
{
    hl_release(g->gc, w->ref);
    if (g->manual)
        hl_free_object(g->gc, w->ref);
    w->ref = NULL;
}

/* One op of the graph sequence.  Returns 0 or -1 with err set. */
static int graph_op(stress_graph *g, hl_error *err)
{
    uint64_t r = hl_rng_next(&g->rng), r2 = hl_rng_next(&g->rng);
    uint32_t slot = hl_rng_below((uint32_t)(r >> 32), g->nroots);
    unsigned per = (unsigned)(((r & 0xffff) * 1000u) >> 16); /* per mille */
    int32_t here = g->roots[slot];
    if (here == GRAPH_NONE) {
        uint32_t from = hl_rng_below((uint32_t)r2, g->nroots);
        int32_t other = per < 250 ? graph_walk(g, from, r2 >> 32) : GRAPH_NONE;
        if (other != GRAPH_NONE) {
            g->count[SC_RETAIN]++;
            hl_retain(g->gc, g->nodes[other].obj);
            g->nodes[other].roots++;
            g->roots[slot] = other;
            return 0;
        }
        g->count[SC_NEW]++;
        int32_t idx = graph_new(g, err);
        if (idx == GRAPH_NONE)
            return -1;
        g->roots[slot] = idx;
        return 0;
    }
    if (per < 250) {
        g->count[SC_DROP]++;
        g->roots[slot] = GRAPH_NONE;
        graph_unroot(g, here);
    } else if (per < 600) {
        int32_t src = graph_walk(g, slot, r2);
        graph_node *n = &g->nodes[src];
        if (n->nrefs == 0 || n->bad) {
            g->count[SC_VERIFY]++;
            graph_check(g, src, GRAPH_ALIKE);
            return 0;
        }
        g->count[SC_STORE]++;
        uint32_t field = (uint32_t)(r2 >> 40) % n->nrefs;
        uint64_t r3 = hl_rng_next(&g->rng);
        int32_t dst = (r2 >> 48) % 10 == 0
                          ? GRAPH_NONE
                          : graph_walk(g, hl_rng_below((uint32_t)r3, g->nroots), r3 >> 32);
        hl_store(g->gc, n->obj, field, dst == GRAPH_NONE ? NULL : g->nodes[dst].obj);
        n->refs[field] = dst;
    } else if (per < 700) {
        int32_t parent = graph_walk(g, slot, r2);
        if (g->nodes[parent].nrefs == 0 || g->nodes[parent].bad) {
            g->count[SC_VERIFY]++;
            graph_check(g, parent, GRAPH_ALIKE);
            return 0;
        }
        g->count[SC_CHILD]++;
        int32_t child = graph_new(g, err);
        if (child == GRAPH_NONE)
            return -1;
        graph_node *p = &g->nodes[parent]; /* graph_new may have moved the table */
        uint32_t field = (uint32_t)(r2 >> 40) % p->nrefs;
        hl_store(g->gc, p->obj, field, g->nodes[child].obj);
        p->refs[field] = child;
        hl_release(g->gc, g->nodes[child].obj); /* the parent holds it now */
        g->nodes[child].roots = 0;
    } else if (per < 800) {
        g->count[SC_VERIFY]++;
        graph_check(g, graph_walk(g, slot, r2), GRAPH_ALIKE);
    } else if (per < 880) {
        graph_weak *w = &g->weak[hl_rng_below((uint32_t)r2, g->nweak)];
        if (w->ref != NULL) {
            g->count[SC_WEAK_DROP]++;
            graph_weak_check(g, w, 0);
            graph_weak_drop(g, w);
            return 0;
        }
        g->count[SC_WEAK_NEW]++;
        int32_t target = graph_walk(g, slot, r2 >> 32);
        hl_object *ref = hl_weak_new(g->gc, g->nodes[target].obj, NULL, NULL);
        if (ref == NULL)
            return hl_fail(err, "out of memory: new weak reference failed after %" PRIu64
                           " operations", g->ops_done);
        *w = (graph_weak){ref, g->nodes[target].obj, g->nodes[target].id, target};
    } else if (per < 999) {
        g->count[SC_WEAK_CHECK]++;
        graph_weak *w = &g->weak[hl_rng_below((uint32_t)r2, g->nweak)];
        if (w->ref != NULL)
            graph_weak_check(g, w, 0);
    } else {
        g->count[SC_COLLECT]++;
        unsigned gen = (unsigned)(r2 & 3);
        hl_collect(g->gc, gen == 3 ? -1 : (int)gen);
        graph_sweep(g);
    }
    return 0;
}

static int graph_setup(const hl_workload_config *cfg, void **state, hl_error *err)
{
    stress_graph *g = hl_untracked_alloc(sizeof *g);
    if (g == NULL)
        return hl_fail(err, "out of memory for the stress state");
    g->gc = cfg->gc;
    g->manual = hl_gc_is_manual(cfg->gc);
    g->seed = cfg->seed;
    hl_rng_seed(&g->rng, cfg->seed);
    g->nroots = (uint32_t)cfg->params[STRESS_SLOTS];
    g->nweak = g->nroots / 4 + 1;
    g->free_head = GRAPH_NONE;
    g->roots = hl_untracked_alloc(g->nroots * sizeof *g->roots);
    g->weak = hl_untracked_alloc(g->nweak * sizeof *g->weak);
    *state = g;
    if (g->roots == NULL || g->weak == NULL)
        return hl_fail(err, "out of memory for %u root slots", g->nroots);
    for (uint32_t s = 0; s < g->nroots; s++)
        g->roots[s] = GRAPH_NONE;
    for (uint32_t s = 0; s < g->nroots; s++)
        if ((g->roots[s] = graph_new(g, err)) == GRAPH_NONE)
            return -1;
    return 0;
}

static int graph_step(stress_graph *g, uint64_t n, hl_error *err)
{
    for (uint64_t i = 0; i < n; i++) {
        if (graph_op(g, err) != 0)
            return -1;
        g->ops_done++;
    }
    return 0;
}

/* Collect everything, check all that is reachable once more, then drop
 * every reference (under manual, free every object still known). */
static int graph_finish(stress_graph *g, hl_workload_result *res, hl_error *err)
{
    if (g->roots != NULL && g->weak != NULL) {
        hl_collect(g->gc, -1);
        graph_sweep(g);
        for (uint32_t k = 0; k < g->nweak; k++)
            if (g->weak[k].ref != NULL)
                graph_weak_drop(g, &g->weak[k]);
        for (uint32_t s = 0; s < g->nroots; s++)
            if (g->roots[s] != GRAPH_NONE)
                hl_release(g->gc, g->nodes[g->roots[s]].obj);
        for (uint32_t i = 0; g->manual && i < g->cap; i++)
            if (g->nodes[i].obj != NULL && !g->nodes[i].bad)
                hl_free_object(g->gc, g->nodes[i].obj);
    }
    res->ops = g->ops_done;
    res->checksum = g->checksum;
    hl_stats_add(&res->figures, "errors", "objects", (double)g->fault.count);
    for (int k = 0; k < SC_COUNT; k++)
        if (stress_counter_table[k].variants & STRESS_IN(STRESS_GRAPH))
            hl_stats_add(&res->figures, stress_counter_table[k].name,
                         stress_counter_table[k].unit, (double)g->count[k]);
    stress_fault fault = g->fault;
    hl_untracked_free(g->roots, g->nroots * sizeof *g->roots);
    hl_untracked_free(g->weak, g->nweak * sizeof *g->weak);
    hl_untracked_free(g->nodes, (size_t)g->cap * sizeof *g->nodes);
    hl_untracked_free(g->stack, (size_t)g->cap * sizeof *g->stack);
    hl_untracked_free(g, sizeof *g);
    if (fault.count > 0)
        return hl_fail(err, "%" PRIu64 " corrupted object%s found (first: %s)", fault.count,
                       fault.count == 1 ? "" : "s", fault.first);
    return 0;
}

/* ======================================================= method table == */

/* The state's first field says which engine runs it. */
typedef struct stress_state {
    int graph;
    void *engine;
} stress_state;

static uint64_t stress_ops(const hl_workload_config *cfg)
{
    return (uint64_t)cfg->params[STRESS_OPS];
}

static int stress_setup(const hl_workload_config *cfg, void **state, hl_error *err)
{
    stress_state *st = hl_untracked_alloc(sizeof *st);
    if (st == NULL)
        return hl_fail(err, "out of memory for the stress state");
    st->graph = cfg->variant == STRESS_GRAPH;
    *state = st;
    return st->graph ? graph_setup(cfg, &st->engine, err) : blocks_setup(cfg, &st->engine, err);
}

static int stress_step(void *state, uint64_t n, hl_error *err)
{
    stress_state *st = state;
    return st->graph ? graph_step(st->engine, n, err) : blocks_step(st->engine, n, err);
}

static int stress_finish(void *state, hl_workload_result *res, hl_error *err)
{
    stress_state *st = state;
    int rc = 0;
    if (st->engine != NULL)
        rc = st->graph ? graph_finish(st->engine, res, err) : blocks_finish(st->engine, res, err);
    hl_untracked_free(st, sizeof *st);
    return rc;
}

static const hl_workload_ops stress_ops_table = {
    .name = "stress",
    .description = "NOT a benchmark: seeded random alloc/free/realloc, object graphs and "
                   "cross-thread frees, every byte checked; fails on corruption",
    .default_collector = "manual",
    .params = stress_params,
    .nparams = sizeof stress_params / sizeof stress_params[0],
    .variants = stress_variants,
    .nvariants = sizeof stress_variants / sizeof stress_variants[0],
    .flags = 0,
    .batch = 16384,
    .ops = stress_ops,
    .setup = stress_setup,
    .step = stress_step,
    .finish = stress_finish,
};

const hl_workload_ops *hl_stress_workload(void)
{
    return &stress_ops_table;
}
