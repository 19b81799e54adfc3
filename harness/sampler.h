/*
 * sampler.h - memory over time: resident set size and live bytes sampled
 * at a fixed rate during a cell's memory pass, with phase marks.
 *
 * The sampler runs on the workload's own thread, between the batches of
 * operations the harness hands to step(), so it needs no second thread and
 * reads the tracker's counters without a race.  A sample is due every
 * 1/hz seconds; when one batch takes longer, samples simply come further
 * apart (they carry their own timestamps).  At every phase boundary it also
 * takes a sample and closes the phase's peak RSS (VmHWM, reset at the
 * phase's start), so each phase reports its own peak.
 *
 * Phases: setup (the workload builds its initial state), run (the measured
 * operations), drain (finish: the workload drops everything), teardown (a
 * full collection and closing the collector).
 */
#ifndef HEAPLAB_SAMPLER_H
#define HEAPLAB_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

#include "allocators/allocator.h"

typedef enum hl_phase {
    HL_PHASE_SETUP,
    HL_PHASE_RUN,
    HL_PHASE_DRAIN,
    HL_PHASE_TEARDOWN,
    HL_PHASE_COUNT,
} hl_phase;

extern const char *const hl_phase_names[HL_PHASE_COUNT];

typedef struct hl_sample {
    double t_s;        /* seconds since the sampler started */
    long long rss;     /* bytes, or -1 */
    long long live;    /* bytes the tracker sees live, or -1 */
    int phase;
} hl_sample;

typedef struct hl_sampler {
    uint64_t t0_ns, period_ns, next_ns;
    const hl_allocator *tracked; /* made by hl_tracker_wrap, or NULL */
    int phase;                   /* current phase, -1 before the first */
    int isolated;                /* the current phase's peak was reset at its start */
    long long phase_peak[HL_PHASE_COUNT]; /* -1 where unknown */
    hl_sample *samples;          /* in untracked memory */
    size_t n, cap;
} hl_sampler;

/* Start sampling at hz (> 0) samples per second; live bytes come from
 * `tracked` when it is not NULL. */
void hl_sampler_start(hl_sampler *s, double hz, const hl_allocator *tracked);

/* Take a sample when one is due.  Cheap when none is: one clock read. */
void hl_sampler_tick(hl_sampler *s);

/* Enter `phase`: close the previous phase's peak, sample, reset the peak. */
void hl_sampler_phase(hl_sampler *s, hl_phase phase);

/* Close the last phase and take a final sample. */
void hl_sampler_stop(hl_sampler *s);

void hl_sampler_free(hl_sampler *s);

#endif
