/*
 * latency.h - the latency decorator: times each sampled alloc and free of
 * the allocator it wraps with the CPU's time-stamp counter.  Built only by
 * the harness's latency pass (bench --latency, harness/cell.c); see
 * allocators/latency.c for the method and docs/metrics.md for the figures.
 */
#ifndef HEAPLAB_LATENCY_H
#define HEAPLAB_LATENCY_H

#include <stddef.h>
#include <stdint.h>

#include "allocators/allocator.h"

/* Threads that can record; a thread beyond them runs untimed. */
#define HL_LATENCY_THREADS 64
/* Samples each thread keeps per kind (alloc, free) before it thins them. */
#define HL_LATENCY_CAPACITY ((size_t)1 << 20)

enum hl_latency_kind { HL_LATENCY_ALLOC, HL_LATENCY_FREE, HL_LATENCY_KINDS };

/* What one pass recorded, merged over its threads, in timer ticks with the
 * timer's own cost already taken off.  `ticks[k]` holds n[k] values, every
 * `every`-th operation of kind k on each thread; the caller frees it with
 * hl_latency_samples_free. */
typedef struct hl_latency_samples {
    double *ticks[HL_LATENCY_KINDS];
    size_t n[HL_LATENCY_KINDS];
    size_t cap[HL_LATENCY_KINDS];
    uint64_t every;      /* the sampling period: 1 = every operation */
    double timer_ticks;  /* median cost of one timer read pair, subtracted */
    double timer_step_ticks; /* the timer's resolution (0: not seen) */
    int threads;         /* threads that recorded */
    int threads_untimed; /* threads past HL_LATENCY_THREADS (ran untimed) */
    const char *clock;   /* "rdtsc", or "clock_gettime" where there is no TSC */
} hl_latency_samples;

/* Wrap `inner` in a latency decorator.  Measures the timer's cost first
 * (back-to-back reads, their median).  Returns 0 or -ENOMEM. */
int hl_latency_wrap(hl_allocator *out, const hl_allocator *inner);

/* The decorator's samples, merged over every thread that recorded (call
 * once those threads have finished their operations, before closing the
 * decorator).  Threads that sampled less often than others are thinned to
 * the sparsest one's period, so that every sample weighs the same.
 * Returns 0, or -ENOMEM. */
int hl_latency_collect(const hl_allocator *timed, hl_latency_samples *out);

void hl_latency_samples_free(hl_latency_samples *s);

/* The timer's ticks now, unfenced (the TSC; the monotonic clock's ns
 * where there is none): for calibrating ticks against CLOCK_MONOTONIC
 * over a whole pass, not for timing one operation. */
uint64_t hl_latency_ticks(void);

#endif
