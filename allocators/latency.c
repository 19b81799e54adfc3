/*
 * latency.c - the latency decorator: how long each alloc and free of the
 * wrapped allocator takes, one operation at a time.
 *
 * Built only for the harness's latency pass (bench --latency), a run of its
 * own, so the throughput figures never carry the timer's cost.
 *
 * Timer.  On x86 the time-stamp counter: `lfence; rdtsc; lfence` before the
 * operation (earlier instructions finish first, the operation starts
 * after) and `rdtscp; lfence` after it (rdtscp waits for the operation).
 * About 20-40 cycles a pair; the decorator measures it when it is built
 * (LATENCY_TIMER_PAIRS back-to-back pairs, their median) and takes that off
 * every sample, clamping at zero.  Ticks become nanoseconds with a
 * calibration against CLOCK_MONOTONIC that the harness takes over the whole
 * pass (harness/cell.c).  Elsewhere the monotonic clock itself (tens of ns,
 * measured and subtracted the same way).
 *
 * Sampling.  Each thread times every `every`-th of its allocs and, apart,
 * every `every`-th of its frees, starting with every = 1 (every
 * operation).  A thread keeps HL_LATENCY_CAPACITY samples per kind; when
 * they are full it keeps every second one and doubles its period, so a
 * run of any length stays within 2 x 4 MiB per thread and its samples stay
 * evenly spread over the run.  Operations between samples are not timed
 * at all (one counter increment).  The period is a power of two; a
 * workload whose pattern repeats with a power-of-two period could alias
 * with it (none of heaplab's does with the periods runs reach).  realloc
 * is passed through untimed.
 *
 * Threads.  A thread's first operation claims a slot with one atomic
 * increment; from then on it writes only its own buffers (lock-free, no
 * sharing).  A thread-local pointer caches the slot, tagged with the
 * decorator's serial number so a later decorator is not handed a stale
 * slot.  The buffers come from hl_untracked_alloc, outside the measured
 * allocator.  hl_latency_collect merges them after the threads are done.
 */
#include "allocators/latency.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "allocators/decorator.h"
#include "common/clock.h"

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define LATENCY_HAS_TSC 1
#else
#define LATENCY_HAS_TSC 0
#endif

/* Back-to-back timer pairs whose median is the timer's own cost. */
#define LATENCY_TIMER_PAIRS 10001

typedef struct latency_thread {
    uint32_t *ticks[HL_LATENCY_KINDS]; /* HL_LATENCY_CAPACITY each */
    size_t n[HL_LATENCY_KINDS];
    uint64_t seen[HL_LATENCY_KINDS];  /* operations of each kind so far */
    uint64_t every[HL_LATENCY_KINDS]; /* this thread's period, a power of two */
} latency_thread;

typedef struct latency {
    hl_decorated base; /* first: the wrapped allocator */
    uint64_t serial;
    uint32_t timer_ticks; /* median cost of a timer pair */
    uint32_t timer_step;  /* the timer's resolution; 0 if never seen to move */
    int slots_used; /* atomic: slots claimed, may pass HL_LATENCY_THREADS */
    latency_thread slot[HL_LATENCY_THREADS];
} latency;

static uint64_t latency_serial; /* atomic: one number per decorator built */

static __thread latency_thread *latency_mine;
static __thread uint64_t latency_mine_serial;

static inline uint64_t latency_begin(void)
{
#if LATENCY_HAS_TSC
    _mm_lfence();
    uint64_t t = __rdtsc();
    _mm_lfence();
    return t;
#else
    return hl_now_ns();
#endif
}

static inline uint64_t latency_end(void)
{
#if LATENCY_HAS_TSC
    unsigned aux;
    uint64_t t = __rdtscp(&aux);
    _mm_lfence();
    return t;
#else
    return hl_now_ns();
#endif
}

uint64_t hl_latency_ticks(void)
{
#if LATENCY_HAS_TSC
    return __rdtsc();
#else
    return hl_now_ns();
#endif
}

/* This thread's slot in l, claimed on first use; NULL once every slot is
 * taken (the thread then runs untimed). */
static latency_thread *latency_thread_slot(latency *l)
{
    if (latency_mine_serial == l->serial)
        return latency_mine;
    int i = __atomic_fetch_add(&l->slots_used, 1, __ATOMIC_RELAXED);
    latency_thread *t = NULL;
    if (i < HL_LATENCY_THREADS) {
        t = &l->slot[i];
        for (int k = 0; k < HL_LATENCY_KINDS; k++) {
            t->ticks[k] = hl_untracked_alloc(HL_LATENCY_CAPACITY * sizeof *t->ticks[k]);
            t->every[k] = 1;
        }
        if (t->ticks[HL_LATENCY_ALLOC] == NULL || t->ticks[HL_LATENCY_FREE] == NULL)
            t = NULL; /* left untimed; latency_fini frees what was mapped */
    }
    latency_mine = t;
    latency_mine_serial = l->serial;
    return t;
}

/* Keep every second sample and double the period: the buffer is full. */
static void latency_thin(latency_thread *t, int kind)
{
    for (size_t i = 0; i < t->n[kind] / 2; i++)
        t->ticks[kind][i] = t->ticks[kind][2 * i];
    t->n[kind] /= 2;
    t->every[kind] *= 2;
}

/* Whether this operation of `kind` is one to time (every `every`-th). */
static inline int latency_due(latency_thread *t, int kind)
{
    return t != NULL && (t->seen[kind]++ & (t->every[kind] - 1)) == 0;
}

static void latency_keep(latency *l, latency_thread *t, int kind, uint64_t ticks)
{
    ticks = ticks > l->timer_ticks ? ticks - l->timer_ticks : 0;
    if (t->n[kind] == HL_LATENCY_CAPACITY)
        latency_thin(t, kind);
    t->ticks[kind][t->n[kind]++] = ticks > UINT32_MAX ? UINT32_MAX : (uint32_t)ticks;
}

static void *latency_alloc(void *ctx, size_t size)
{
    latency *l = ctx;
    latency_thread *t = latency_thread_slot(l);
    if (!latency_due(t, HL_LATENCY_ALLOC))
        return hl_pass_alloc(l, size);
    uint64_t t0 = latency_begin();
    void *p = hl_pass_alloc(l, size);
    uint64_t t1 = latency_end();
    latency_keep(l, t, HL_LATENCY_ALLOC, t1 - t0);
    return p;
}

static void latency_free(void *ctx, void *p, size_t size)
{
    latency *l = ctx;
    if (p == NULL)
        return hl_pass_free(l, p, size);
    latency_thread *t = latency_thread_slot(l);
    if (!latency_due(t, HL_LATENCY_FREE))
        return hl_pass_free(l, p, size);
    uint64_t t0 = latency_begin();
    hl_pass_free(l, p, size);
    uint64_t t1 = latency_end();
    latency_keep(l, t, HL_LATENCY_FREE, t1 - t0);
}

static void latency_fini(void *ctx)
{
    latency *l = ctx;
    for (int i = 0; i < HL_LATENCY_THREADS; i++)
        for (int k = 0; k < HL_LATENCY_KINDS; k++)
            hl_untracked_free(l->slot[i].ticks[k], HL_LATENCY_CAPACITY * sizeof(uint32_t));
    hl_pass_fini(ctx);
}

/* Built by hl_latency_wrap only. */
static int latency_init(void **ctx)
{
    (void)ctx;
    return -EINVAL;
}

static const hl_allocator_ops latency_ops = {
    .name = "latency",
    .description = "decorator: times sampled allocs and frees of the allocator it wraps (rdtsc)",
    .flags = 0,
    .init = latency_init,
    .fini = latency_fini,
    .alloc = latency_alloc,
    .free = latency_free,
    .realloc = hl_pass_realloc,
    .stats = hl_pass_stats,
};

static int by_tick(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return (a > b) - (a < b);
}

/* The timer's own cost: the median of back-to-back begin/end pairs, read
 * the way every sample is, into l->timer_ticks; and its resolution, the
 * smallest step between two distinct pair readings (some machines advance
 * the counter in steps of tens of ticks, so no figure is finer than that).
 * Costs about LATENCY_TIMER_PAIRS x 30 ns. */
static void latency_timer_cost(latency *l)
{
    static uint32_t pair[LATENCY_TIMER_PAIRS];
    for (size_t i = 0; i < LATENCY_TIMER_PAIRS; i++) {
        uint64_t t0 = latency_begin();
        uint64_t t1 = latency_end();
        pair[i] = t1 - t0 > UINT32_MAX ? UINT32_MAX : (uint32_t)(t1 - t0);
    }
    qsort(pair, LATENCY_TIMER_PAIRS, sizeof pair[0], by_tick);
    l->timer_ticks = pair[LATENCY_TIMER_PAIRS / 2];
    l->timer_step = 0;
    for (size_t i = 1; i < LATENCY_TIMER_PAIRS; i++)
        if (pair[i] > pair[i - 1] && (l->timer_step == 0 || pair[i] - pair[i - 1] < l->timer_step))
            l->timer_step = pair[i] - pair[i - 1];
}

int hl_latency_wrap(hl_allocator *out, const hl_allocator *inner)
{
    latency *l = hl_decorator_new(sizeof(latency), &latency_ops, inner, out);
    if (l == NULL)
        return -ENOMEM;
    l->serial = __atomic_add_fetch(&latency_serial, 1, __ATOMIC_RELAXED);
    latency_timer_cost(l);
    return 0;
}

int hl_latency_collect(const hl_allocator *timed, hl_latency_samples *out)
{
    const latency *l = timed->ctx;
    int used = __atomic_load_n(&l->slots_used, __ATOMIC_ACQUIRE);
    memset(out, 0, sizeof *out);
    out->threads = used < HL_LATENCY_THREADS ? used : HL_LATENCY_THREADS;
    out->threads_untimed = used - out->threads;
    out->timer_ticks = l->timer_ticks;
    out->timer_step_ticks = l->timer_step;
    out->clock = LATENCY_HAS_TSC ? "rdtsc" : "clock_gettime";
    out->every = 1;
    for (int i = 0; i < out->threads; i++)
        for (int k = 0; k < HL_LATENCY_KINDS; k++)
            if (l->slot[i].ticks[k] != NULL && l->slot[i].every[k] > out->every)
                out->every = l->slot[i].every[k];
    for (int k = 0; k < HL_LATENCY_KINDS; k++) {
        size_t total = 0;
        for (int i = 0; i < out->threads; i++)
            total += l->slot[i].n[k];
        out->cap[k] = total ? total : 1;
        out->ticks[k] = hl_untracked_alloc(out->cap[k] * sizeof(double));
        if (out->ticks[k] == NULL) {
            hl_latency_samples_free(out);
            return -ENOMEM;
        }
        /* A thread sampling every e-th operation keeps one in out->every / e
         * of its samples, so that every merged sample stands for the same
         * number of operations. */
        for (int i = 0; i < out->threads; i++) {
            const latency_thread *t = &l->slot[i];
            if (t->ticks[k] == NULL)
                continue;
            uint64_t step = out->every / t->every[k];
            for (size_t j = 0; j < t->n[k]; j += step)
                out->ticks[k][out->n[k]++] = t->ticks[k][j];
        }
    }
    return 0;
}

void hl_latency_samples_free(hl_latency_samples *s)
{
    for (int k = 0; k < HL_LATENCY_KINDS; k++)
        if (s->ticks[k] != NULL)
            hl_untracked_free(s->ticks[k], s->cap[k] * sizeof(double));
    memset(s, 0, sizeof *s);
}
