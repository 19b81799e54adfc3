/*
 * sampler.c - memory over time (see sampler.h).
 */
#include "harness/sampler.h"

#include <string.h>

#include "common/clock.h"
#include "harness/metrics.h"

const char *const hl_phase_names[HL_PHASE_COUNT] = {"setup", "run", "drain", "teardown"};

/* Append one sample taken now.  A sample that finds no room is dropped. */
static void sampler_take(hl_sampler *s, uint64_t now)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        hl_sample *grown = hl_untracked_alloc(cap * sizeof *grown);
        if (grown == NULL)
            return;
        if (s->n)
            memcpy(grown, s->samples, s->n * sizeof *grown);
        hl_untracked_free(s->samples, s->cap * sizeof *grown);
        s->samples = grown;
        s->cap = cap;
    }
    hl_sample *x = &s->samples[s->n++];
    x->t_s = (double)(now - s->t0_ns) / 1e9;
    x->rss = hl_rss_now();
    x->live = s->tracked ? (long long)hl_tracker_read(s->tracked).live_bytes : -1;
    x->phase = s->phase < 0 ? 0 : s->phase;
    s->next_ns = now + s->period_ns;
}

void hl_sampler_start(hl_sampler *s, double hz, const hl_allocator *tracked)
{
    memset(s, 0, sizeof *s);
    s->tracked = tracked;
    s->phase = -1;
    s->period_ns = (uint64_t)(1e9 / hz);
    for (int p = 0; p < HL_PHASE_COUNT; p++)
        s->phase_peak[p] = -1;
    s->t0_ns = hl_now_ns();
}

void hl_sampler_tick(hl_sampler *s)
{
    uint64_t now = hl_now_ns();
    if (now >= s->next_ns)
        sampler_take(s, now);
}

/* The peak of the phase that is ending: VmHWM since its start. */
static void sampler_close_phase(hl_sampler *s)
{
    if (s->phase < 0)
        return;
    /* A phase may come round again (a soak repeats the workload): keep its
     * highest peak. */
    long long peak = s->isolated ? hl_rss_peak() : -1;
    if (peak < 0)
        s->phase_peak[s->phase] = -1;
    else if (peak > s->phase_peak[s->phase])
        s->phase_peak[s->phase] = peak;
}

void hl_sampler_phase(hl_sampler *s, hl_phase phase)
{
    sampler_close_phase(s);
    sampler_take(s, hl_now_ns()); /* the last sample of the old phase */
    s->phase = (int)phase;
    s->isolated = hl_rss_reset_peak() == 0;
    sampler_take(s, hl_now_ns());
}

void hl_sampler_stop(hl_sampler *s)
{
    sampler_close_phase(s);
    sampler_take(s, hl_now_ns());
}

void hl_sampler_free(hl_sampler *s)
{
    hl_untracked_free(s->samples, s->cap * sizeof *s->samples);
    memset(s, 0, sizeof *s);
}
