/*
 * replay.c - `--workload=replay --param trace=FILE`: a recorded program's
 * allocations (bench --record, docs/replay.md) replayed under any
 * allocator, pool and arena included.
 *
 * What it models: the user's own program, without the program.  Each event
 * of the trace (common/trace.h) goes through the allocator's method table:
 * malloc, calloc and the aligned calls as alloc (the table has no aligned
 * alloc: HL_ALIGNMENT covers what most programs ask; the count of aligned
 * events is a figure), realloc as realloc, free as sized free with the
 * recorded size, malloc_usable_size as a read of the block's size.  Every
 * block is written whole when it is allocated (memset with a fill byte),
 * (and again whole after a realloc), as a program writes what it
 * allocates, so the pages a block spans become
 * resident as they did in the program; its size is stored in its first 8
 * bytes (sizes below 8 ride in the top byte of the slot's pointer), so the
 * replay's own table costs 8 bytes per live object, not 16.
 *
 * Threads: each recorded thread replays as a thread (the crew, crew.h),
 * its own events in its own order.  An event that touches an object whose
 * previous event was another thread's waits until that object's slot has
 * seen the number of events the trace names (trace.h): a free always
 * follows its allocation and a reused slot its previous free, in the
 * recorded order, while unrelated events run concurrently as they did in
 * the program.  This is the ordering a correct replay needs and no more: a
 * global total order would serialise the threads.  Allocators that are not
 * thread-safe (pool, arena) run a threaded trace with one lock around each
 * allocator call.  A step of n events runs every thread until the threads
 * together have replayed n more; a thread waiting on an event that the step
 * does not reach keeps its event for the next step (so a step never waits
 * on work it will not do), and the memory pass samples RSS between steps.
 *
 * Determinism: the fill byte of an event is a hash of (thread, index of
 * the event in its thread); at each free (and on the old block of each
 * realloc) the replay folds the block's stored size and last byte into the
 * thread's sum, and the checksum is the sum of the threads' sums, so it
 * depends on the trace alone: the same under every allocator and every
 * interleaving, and a block that an allocator corrupted changes it.  The
 * row's live_peak does not: with threads it is the peak of the
 * interleaving that ran, and varies from run to run by a few hundred
 * bytes (wl_trace_live_peak_bytes is the recorded order's).
 *
 * Variants:
 *   replay  every event through the allocator (the measured run);
 *   dry     no allocator at all: the same decoding, waits, fill and checks,
 *           writing into one scratch block as large as the trace's largest
 *           (reused, so it stays in cache) and keeping sizes in the slot
 *           table.  Its time is the replay's own cost, the "allocator that
 *           does nothing" (a real do-nothing allocator cannot exist here: a
 *           block it returns must hold what is written into it).  Replay
 *           minus dry is the allocator's cost plus its cache misses.
 *
 * Parameters: trace (text: a file written by bench --record).  Without it
 * the workload replays a built-in trace generated from the seed (two
 * threads, about 36 000 events, objects handed between the threads), so
 * `--workload=all` and the checksum pins need no file.
 *
 * Figures: wl_trace_events, wl_trace_threads, wl_trace_live_peak_bytes
 * (the exact peak of requested live bytes in the recorded order, from the
 * trace's header), wl_trace_bytes_per_event, wl_trace_aligned_events,
 * wl_trace_cross_thread_events, wl_replay_left_live (objects the program
 * never freed, freed by finish) and wl_replay_table_bytes (the replay's
 * own slot table, resident from setup on).
 */
#include "workloads/workload.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/trace.h"
#include "workloads/crew.h"
#include "workloads/rng.h"

enum { REPLAY_TRACE };
enum { VARIANT_REPLAY, VARIANT_DRY };

static const hl_param_spec replay_params[] = {
    [REPLAY_TRACE] = {"trace", "the trace to replay (bench --record=FILE -- PROGRAM); without it "
                      "a built-in trace generated from the seed", 0, 0, 0, 0},
};

static const hl_variant_spec replay_variants[] = {
    [VARIANT_REPLAY] = {"replay", "every recorded call through the allocator, each block written "
                        "whole and checked at its free"},
    [VARIANT_DRY] = {"dry", "no allocator: decoding, ordering and writes into one scratch block "
                     "(the replay's own cost)"},
};

#define TAG_SHIFT 56
#define SPIN_BEFORE_YIELD 64

typedef struct replay_thread {
    hl_trace_stream stream;
    uint32_t index;
    uint64_t done;    /* events replayed */
    uint64_t sum;     /* the fold of what it read back */
    uint64_t waits;
    uint64_t aligned;
    hl_trace_event pending; /* decoded, not yet replayed (it waits) */
    int has_pending;
} replay_thread;

typedef struct replay {
    const hl_allocator *alloc;
    int dry, threaded, serialise;
    int fd;
    hl_trace_info *info;
    uint64_t *slots;   /* per slot: the block and (tag) its size; 0 when empty */
    uint32_t *steps;   /* per slot: events seen (threaded traces only) */
    size_t table_bytes;
    unsigned char *scratch; /* dry: the one block */
    size_t scratch_bytes;
    replay_thread *threads;
    hl_crew crew;
    int crew_started;
    pthread_mutex_t lock;
    int abort;         /* a thread failed: the others stop waiting */
    uint64_t done;     /* events replayed by all threads (atomic) */
    uint64_t target;   /* what the current step runs up to */
    uint64_t left_live;
    uint64_t final_sum;
} replay;

/* ------------------------------------------------------ built-in trace -- */

#define BUILTIN_EVENTS 40000
#define BUILTIN_THREADS 2

/* A seeded trace of two threads: bursts of allocations (mostly small,
 * some of a few pages), reallocs, frees of a thread's own objects and of
 * objects the other thread handed over, a few aligned allocations and
 * usable-size queries; some objects are left live at the end, as a program
 * leaves them at exit.  Written through the same writer as a recording. */
static int builtin_generate(hl_trace_writer *w, uint64_t seed, hl_trace_error *err)
{
    enum { MAX_LIVE = 4096 };
    uint32_t live[BUILTIN_THREADS][MAX_LIVE];
    size_t nlive[BUILTIN_THREADS] = {0};
    hl_rng rng;
    hl_rng_seed(&rng, seed);
    uint32_t t = 0;
    for (int i = 0; i < BUILTIN_EVENTS; i++) {
        uint64_t r = hl_rng_next(&rng);
        if (hl_rng_below((uint32_t)r, 16) == 0)
            t = (t + 1) % BUILTIN_THREADS; /* bursts of about 16 events per thread */
        uint32_t roll = hl_rng_below((uint32_t)(r >> 32), 100);
        size_t *n = &nlive[t];
        uint64_t size = 8 + (hl_rng_next(&rng) & 0x1ff);
        if ((r & 0xff00) == 0)
            size = 4096 + (hl_rng_next(&rng) & 0x3fff);
        if (*n == 0 || (roll < 50 && *n < MAX_LIVE)) {
            hl_trace_kind kind = roll % 10 == 1 ? HL_TRACE_CALLOC
                               : roll % 25 == 2 ? HL_TRACE_ALIGNED : HL_TRACE_MALLOC;
            uint32_t slot;
            if (hl_trace_put(w, t, kind, &slot, size, kind == HL_TRACE_ALIGNED ? 6 : 0, err) != 0)
                return -1;
            live[t][(*n)++] = slot;
            continue;
        }
        size_t k = hl_rng_below((uint32_t)hl_rng_next(&rng), (uint32_t)*n);
        uint32_t slot = live[t][k];
        if (roll < 62) {
            if (hl_trace_put(w, t, HL_TRACE_REALLOC, &slot, size, 0, err) != 0)
                return -1;
        } else if (roll < 64) {
            if (hl_trace_put(w, t, HL_TRACE_USABLE, &slot, 0, 0, err) != 0)
                return -1;
        } else if (roll < 74 && nlive[1 - t] < MAX_LIVE) { /* hand over */
            live[t][k] = live[t][--*n];
            live[1 - t][nlive[1 - t]++] = slot;
        } else {
            live[t][k] = live[t][--*n];
            if (hl_trace_put(w, t, HL_TRACE_FREE, &slot, 0, 0, err) != 0)
                return -1;
        }
    }
    return 0;
}

/* The built-in trace in an anonymous file; its fd, or -1 with err set. */
static int builtin_open(uint64_t seed, hl_error *err)
{
    hl_trace_error terr = {{0}};
    hl_trace_writer *w = hl_trace_writer_new();
    int fd = memfd_create("heaplab-builtin-trace", MFD_CLOEXEC);
    int rc = w == NULL || fd < 0 ? -1 : builtin_generate(w, seed, &terr);
    if (rc == 0 && hl_trace_writer_write(w, fd, &terr) < 0)
        rc = -1;
    hl_trace_writer_free(w);
    if (rc != 0) {
        if (fd >= 0)
            close(fd);
        return hl_fail(err, "replay: cannot build the built-in trace: %s",
                       terr.msg[0] ? terr.msg : strerror(errno));
    }
    return fd;
}

/* ---------------------------------------------------------- the check -- */

/* --param trace=FILE, checked in bench's own process before any cell. */
static int replay_check_text(size_t param, const char *text, hl_error *err)
{
    (void)param;
    int fd = open(text, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return hl_fail(err, "cannot read it (%s); valid: a trace written by bench --record",
                       strerror(errno));
    hl_trace_info *info = malloc(sizeof *info);
    hl_trace_error terr = {{0}};
    int rc = info == NULL ? -1 : hl_trace_open(fd, NULL, info, &terr);
    close(fd);
    free(info);
    if (rc != 0)
        return hl_fail(err, "%s", terr.msg[0] ? terr.msg : "out of memory");
    return 0;
}

/* ------------------------------------------------------------ a block -- */

static uint8_t fill_byte(uint32_t thread, uint64_t index)
{
    return (uint8_t)hl_mix64((uint64_t)thread << 40 ^ index);
}

/* What a free folds: the block's size and its last byte (beyond the
 * stored size); the same value in both variants. */
static uint64_t fold_value(uint64_t size, uint8_t last)
{
    return hl_mix64(size << 8 | (size > 8 ? last : 0));
}

/* A slot word of the replay variant: the block, and its size when below 8. */
static uint64_t slot_word(void *p, uint64_t size)
{
    return (uint64_t)(uintptr_t)p | (size < 8 ? (size + 1) << TAG_SHIFT : 0);
}

static void *slot_block(uint64_t word)
{
    return (void *)(uintptr_t)(word & ((UINT64_C(1) << TAG_SHIFT) - 1));
}

static uint64_t slot_size(uint64_t word)
{
    uint64_t tag = word >> TAG_SHIFT, size;
    if (tag != 0)
        return tag - 1;
    memcpy(&size, slot_block(word), sizeof size);
    return size;
}

/* A dry slot word: size and fill byte, never 0 while live. */
static uint64_t dry_word(uint64_t size, uint8_t fill)
{
    return size << 9 | (uint64_t)fill << 1 | 1;
}

/* Write a block's bytes [from, size) with fill, then its size.  A realloc
 * rewrites the whole block (from 0), as a program that grows a buffer
 * fills it, so that its last byte is always the latest fill. */
static void block_write(unsigned char *p, uint64_t from, uint64_t size, uint8_t fill)
{
    if (size > from)
        memset(p + from, fill, size - from);
    if (size >= 8)
        memcpy(p, &size, sizeof size);
}

/* ------------------------------------------------------------- events -- */

/* Wait until slot has seen `step` events (a cross-thread dependency).
 * Returns 1 when it has, 0 when the dispatch's target was reached first
 * (the event stays pending for the next step) or another thread failed
 * (whose error the crew reports: this thread's is no error). */
static int replay_wait(replay *r, uint32_t slot, uint32_t step)
{
    for (unsigned spins = 0; __atomic_load_n(&r->steps[slot], __ATOMIC_ACQUIRE) != step; spins++) {
        if (__atomic_load_n(&r->done, __ATOMIC_RELAXED) >= r->target ||
            __atomic_load_n(&r->abort, __ATOMIC_RELAXED))
            return 0;
        if (spins >= SPIN_BEFORE_YIELD)
            sched_yield();
    }
    return 1;
}

static int corrupt(hl_error *err, const hl_trace_event *ev, const char *what)
{
    return hl_fail(err, "replay: corrupted trace: event of kind %d on slot %u %s", (int)ev->kind,
                   ev->slot, what);
}

/* One event in the replay variant.  Returns 0 or -1 with err set. */
static int replay_real(replay *r, replay_thread *t, const hl_trace_event *ev, uint8_t fill,
                       hl_error *err)
{
    uint64_t *slot = &r->slots[ev->slot];
    int allocates = ev->kind <= HL_TRACE_ALIGNED;
    if (allocates ? *slot != 0 : *slot == 0)
        return corrupt(err, ev, allocates ? "allocates into a live slot" : "names no live object");
    if (ev->kind == HL_TRACE_USABLE) {
        t->sum += hl_mix64(slot_size(*slot) ^ 0x5a5a);
        return 0;
    }
    if (allocates) {
        unsigned char *p = hl_alloc(r->alloc, ev->size);
        if (p == NULL)
            return hl_fail(err, "replay: out of memory allocating %llu bytes",
                           (unsigned long long)ev->size);
        block_write(p, 0, ev->size, fill);
        *slot = slot_word(p, ev->size);
        t->aligned += ev->kind == HL_TRACE_ALIGNED;
        return 0;
    }
    unsigned char *p = slot_block(*slot);
    uint64_t size = slot_size(*slot);
    t->sum += fold_value(size, size > 8 ? p[size - 1] : 0);
    if (ev->kind == HL_TRACE_FREE) {
        hl_free(r->alloc, p, size);
        *slot = 0;
        return 0;
    }
    unsigned char *q;
    if (ev->size == 0) { /* what realloc does at size 0 differs between allocators */
        hl_free(r->alloc, p, size);
        q = hl_alloc(r->alloc, 0);
    } else {
        q = hl_realloc(r->alloc, p, size, ev->size);
    }
    if (q == NULL)
        return hl_fail(err, "replay: out of memory reallocating to %llu bytes",
                       (unsigned long long)ev->size);
    block_write(q, 0, ev->size, fill);
    *slot = slot_word(q, ev->size);
    return 0;
}

/* One event in the dry variant: the same checks and writes, no allocator. */
static int replay_dry(replay *r, replay_thread *t, const hl_trace_event *ev, uint8_t fill,
                      hl_error *err)
{
    uint64_t *slot = &r->slots[ev->slot];
    int allocates = ev->kind <= HL_TRACE_ALIGNED;
    if (allocates ? *slot != 0 : *slot == 0)
        return corrupt(err, ev, allocates ? "allocates into a live slot" : "names no live object");
    uint64_t size = *slot >> 9;
    uint8_t last = (uint8_t)(*slot >> 1);
    if (ev->kind == HL_TRACE_USABLE) {
        t->sum += hl_mix64(size ^ 0x5a5a);
        return 0;
    }
    if (!allocates)
        t->sum += fold_value(size, last);
    if (ev->kind == HL_TRACE_FREE) {
        *slot = 0;
        return 0;
    }
    block_write(r->scratch, 0, ev->size, fill);
    *slot = dry_word(ev->size, fill);
    t->aligned += ev->kind == HL_TRACE_ALIGNED;
    return 0;
}

/* The next event of thread t, waited for and replayed.  Returns 1, 0 at
 * the end of its stream or when the dispatch's target was reached while it
 * waited, -1 with err set. */
static int replay_next(replay *r, replay_thread *t, hl_error *err)
{
    if (!t->has_pending) {
        hl_trace_error terr;
        int got = hl_trace_next(&t->stream, &t->pending, &terr);
        if (got < 0)
            return hl_fail(err, "replay: %s", terr.msg);
        if (got == 0)
            return 0;
        t->has_pending = 1;
        t->waits += t->pending.wait;
    }
    const hl_trace_event *ev = &t->pending;
    if (ev->wait && r->threaded) {
        int ready = replay_wait(r, ev->slot, ev->step);
        if (ready <= 0)
            return ready;
    }
    uint8_t fill = fill_byte(t->index, t->done);
    if (r->serialise)
        pthread_mutex_lock(&r->lock);
    int rc = r->dry ? replay_dry(r, t, ev, fill, err) : replay_real(r, t, ev, fill, err);
    if (r->serialise)
        pthread_mutex_unlock(&r->lock);
    if (rc != 0)
        return -1;
    if (r->threaded)
        __atomic_store_n(&r->steps[ev->slot], r->steps[ev->slot] + 1, __ATOMIC_RELEASE);
    t->has_pending = 0;
    t->done++;
    __atomic_fetch_add(&r->done, 1, __ATOMIC_RELAXED);
    return 1;
}

/* The crew's job: worker w replays thread w's events until the dispatch's
 * target (events done by all threads together) is reached or its stream
 * ends.  Threads may overshoot the target by an event each; the next step
 * does that much less, and the last one ends every stream. */
static int replay_thread_job(void *ctx, unsigned worker, hl_error *err)
{
    replay *r = ctx;
    replay_thread *t = &r->threads[worker];
    int got = 1;
    while (__atomic_load_n(&r->done, __ATOMIC_RELAXED) < r->target &&
           !__atomic_load_n(&r->abort, __ATOMIC_RELAXED) && (got = replay_next(r, t, err)) == 1) {
    }
    if (got < 0)
        __atomic_store_n(&r->abort, 1, __ATOMIC_RELAXED);
    return got < 0 ? -1 : 0;
}

/* ------------------------------------------------------------ the run -- */

static uint64_t replay_ops(const hl_workload_config *cfg)
{
    const char *path = cfg->texts ? cfg->texts[REPLAY_TRACE] : NULL;
    if (path == NULL) { /* generated again: a hand-over is no event, so count them */
        hl_trace_error terr;
        hl_trace_writer *w = hl_trace_writer_new();
        uint64_t n = w && builtin_generate(w, cfg->seed, &terr) == 0 ? hl_trace_writer_events(w) : 0;
        hl_trace_writer_free(w);
        return n;
    }
    hl_trace_info *info = malloc(sizeof *info);
    hl_trace_error terr;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    uint64_t n = 0;
    if (info != NULL && fd >= 0 && hl_trace_open(fd, path, info, &terr) == 0)
        n = info->nevents;
    if (fd >= 0)
        close(fd);
    free(info);
    return n;
}

static void replay_release(replay *r)
{
    if (r->crew_started)
        hl_crew_stop(&r->crew);
    if (r->slots != NULL)
        hl_untracked_free(r->slots, r->table_bytes);
    if (r->scratch != NULL)
        hl_untracked_free(r->scratch, r->scratch_bytes);
    if (r->threads != NULL)
        hl_untracked_free(r->threads, r->info->nthreads * sizeof *r->threads);
    if (r->fd >= 0)
        close(r->fd);
    free(r->info);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

static int replay_setup(const hl_workload_config *cfg, void **state, hl_error *err)
{
    const char *path = cfg->texts ? cfg->texts[REPLAY_TRACE] : NULL;
    replay *r = calloc(1, sizeof *r);
    if (r == NULL)
        return hl_fail(err, "replay: out of memory for its state");
    pthread_mutex_init(&r->lock, NULL);
    r->fd = -1;
    r->alloc = cfg->alloc;
    r->dry = cfg->variant == VARIANT_DRY;
    r->info = malloc(sizeof *r->info);
    r->fd = path ? open(path, O_RDONLY | O_CLOEXEC) : builtin_open(cfg->seed, err);
    hl_trace_error terr = {{0}};
    if (r->info == NULL || r->fd < 0) {
        if (path != NULL || r->info == NULL)
            hl_fail(err, "replay: cannot read %s: %s", path ? path : "the trace", strerror(errno));
        replay_release(r);
        return -1;
    }
    if (hl_trace_open(r->fd, path ? path : "the built-in trace", r->info, &terr) != 0) {
        replay_release(r);
        return hl_fail(err, "replay: %s", terr.msg);
    }
    uint32_t nthreads = r->info->nthreads;
    r->threaded = nthreads > 1;
    r->serialise = r->threaded && !cfg->alloc_thread_safe && !r->dry;
    /* The table is touched here, before the timed steps and before the
     * memory pass samples: its pages are the replay's own, not the trace's. */
    r->table_bytes = r->info->nslots * (sizeof *r->slots + (r->threaded ? sizeof *r->steps : 0));
    r->slots = hl_untracked_alloc(r->table_bytes);
    r->steps = r->slots && r->threaded ? (uint32_t *)(r->slots + r->info->nslots) : NULL;
    r->scratch_bytes = r->dry ? r->info->max_size + 8 : 0;
    r->scratch = r->dry ? hl_untracked_alloc(r->scratch_bytes) : NULL;
    r->threads = hl_untracked_alloc(nthreads * sizeof *r->threads);
    if (r->slots == NULL || r->threads == NULL || (r->dry && r->scratch == NULL)) {
        replay_release(r);
        return hl_fail(err, "replay: out of memory for its slot table");
    }
    memset(r->slots, 0, r->table_bytes);
    for (uint32_t t = 0; t < nthreads; t++) {
        r->threads[t].index = t;
        hl_trace_stream_init(&r->threads[t].stream, r->fd, r->info, t);
    }
    /* One thread: the crew runs the job on the caller, no thread, no lock. */
    if (hl_crew_start(&r->crew, "replay", nthreads, replay_thread_job, r, err) != 0) {
        replay_release(r);
        return -1;
    }
    r->crew_started = 1;
    *state = r;
    return 0;
}

static int replay_step(void *state, uint64_t n, hl_error *err)
{
    replay *r = state;
    r->target += n;
    if (r->target > r->info->nevents)
        r->target = r->info->nevents;
    return hl_crew_run(&r->crew, err);
}

/* Free what the program left live, folding it as a free would. */
static void replay_free_left(replay *r)
{
    for (uint64_t s = 0; s < r->info->nslots; s++) {
        uint64_t w = r->slots[s];
        if (w == 0)
            continue;
        r->left_live++;
        if (r->dry) {
            r->final_sum += fold_value(w >> 9, (uint8_t)(w >> 1));
        } else {
            unsigned char *p = slot_block(w);
            uint64_t size = slot_size(w);
            r->final_sum += fold_value(size, size > 8 ? p[size - 1] : 0);
            hl_free(r->alloc, p, size);
        }
        r->slots[s] = 0;
    }
}

static int replay_finish(void *state, hl_workload_result *res, hl_error *err)
{
    replay *r = state;
    uint64_t done = 0, sum = 0, waits = 0, aligned = 0;
    replay_free_left(r);
    for (uint32_t t = 0; t < r->info->nthreads; t++) {
        done += r->threads[t].done;
        sum += r->threads[t].sum;
        waits += r->threads[t].waits;
        aligned += r->threads[t].aligned;
    }
    res->ops = done;
    res->checksum = sum + r->final_sum;
    hl_stats_add(&res->figures, "trace_events", "count", (double)r->info->nevents);
    hl_stats_add(&res->figures, "trace_threads", "count", (double)r->info->nthreads);
    hl_stats_add(&res->figures, "trace_live_peak_bytes", "bytes", (double)r->info->live_peak_bytes);
    hl_stats_add(&res->figures, "trace_bytes_per_event", "bytes",
                 (double)r->info->file_bytes / (double)r->info->nevents);
    hl_stats_add(&res->figures, "trace_aligned_events", "count", (double)aligned);
    hl_stats_add(&res->figures, "trace_cross_thread_events", "count", (double)waits);
    hl_stats_add(&res->figures, "replay_left_live", "count", (double)r->left_live);
    hl_stats_add(&res->figures, "replay_table_bytes", "bytes", (double)r->table_bytes);
    int rc = 0;
    if (done != r->info->nevents)
        rc = hl_fail(err, "replay: %llu of %llu events replayed", (unsigned long long)done,
                     (unsigned long long)r->info->nevents);
    replay_release(r);
    return rc;
}

static const hl_workload_ops replay_ops_table = {
    .name = "replay",
    .description = "a recorded program's allocations (bench --record) replayed, its threads as "
                   "threads",
    .default_collector = "manual",
    .gc_needs = HL_GC_MANUAL,
    .params = replay_params,
    .nparams = sizeof replay_params / sizeof replay_params[0],
    .variants = replay_variants,
    .nvariants = sizeof replay_variants / sizeof replay_variants[0],
    .text_params = 1u << REPLAY_TRACE,
    .check_text = replay_check_text,
    .batch = 65536,
    .ops = replay_ops,
    .setup = replay_setup,
    .step = replay_step,
    .finish = replay_finish,
};

const hl_workload_ops *hl_replay_workload(void)
{
    return &replay_ops_table;
}
