/*
 * cell.c - run one cell in this process: prove the allocator, measure
 * memory in a tracked pass, time the workload through Google Benchmark, and
 * write the rows.  See cell.h for the two passes and why they are separate:
 * the tracker's counting never touches a timed run, and memory figures come
 * from a cold process rather than one warmed by earlier repetitions.
 */
#include "harness/cell.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <valgrind/callgrind.h>

#include "allocators/latency.h"
#include "common/clock.h"
#include "common/io.h"
#include "common/quantile.h"
#include "harness/bench_shim.h"
#include "harness/metrics.h"
#include "harness/pinning.h"
#include "harness/results.h"
#include "harness/sampler.h"
#include "harness/stats.h"
#include "collectors/pauses.h"

/* Operations per batch handed to step(): large enough that the shim's cost
 * per batch vanishes, small enough to stop promptly. */
#define CELL_BATCH 1024

/* fragmentation = (rss_peak - rss_base) / live_peak is left out below this
 * live_peak.  The numerator also holds costs that do not scale with the
 * live set: whole 4 KiB pages, an allocator's first pool, chunk or segment
 * and its metadata (tens to hundreds of KiB: tcmalloc's and mimalloc's
 * start-up), the workload's untracked bookkeeping and the sampler.  At
 * 1 MiB live, 100 KiB of them moves the ratio by 0.1; at a few KiB live
 * they alone make the ratio read in the thousands.  docs/metrics.md. */
#define HL_FRAGMENTATION_MIN_LIVE ((uint64_t)1 << 20)

/* What the memory pass measured.  -1 marks a figure this machine could not
 * give; it is written as absent, never as zero. */
typedef struct memory_figures {
    long long rss_base, rss_peak, rss_end;
    hl_sampler sampler; /* memory over time, with each phase's peak */
    hl_tracker_counts counts;
    long long leaked; /* bytes still allocated after finish and a full collection */
    hl_stats alloc_stats;
    hl_gc_stats gc;
    hl_workload_result result;
    /* --duration (soak): the workload repeated on one allocator instance. */
    uint64_t soak_cycles;
    double soak_seconds, soak_from_s; /* slopes are fitted from soak_from_s on */
    double rss_slope, live_slope;     /* bytes per second; NAN when unknown */
} memory_figures;

/* The percentiles the latency pass reports, in order, with their keys'
 * suffixes: latency_alloc_p50_ns ... latency_alloc_max_ns. */
#define LATENCY_POINTS 7
static const double latency_q[LATENCY_POINTS] = {0.0, 0.50, 0.90, 0.99, 0.999, 0.9999, 1.0};
static const char *const latency_q_name[LATENCY_POINTS] = {"min", "p50", "p90", "p99",
                                                          "p999", "p9999", "max"};

/* What the latency pass measured (--latency); `measured` 0 leaves every
 * figure off the rows. */
typedef struct latency_figures {
    int measured;
    double ns[HL_LATENCY_KINDS][LATENCY_POINTS]; /* -1: no sample of that kind */
    size_t samples[HL_LATENCY_KINDS];
    uint64_t every;             /* one operation in `every` timed, per thread */
    double timer_ns;            /* the timer pair's median cost, subtracted */
    double resolution_ns;       /* the timer's smallest step (-1: not seen) */
    double ticks_per_ns;        /* calibration against CLOCK_MONOTONIC */
    double calibration_ms;      /* over how long */
    int threads, threads_untimed;
    const char *clock;
} latency_figures;

/* The windows whose minimum mutator utilisation a timed run's row carries
 * (mmu_1ms ... mmu_10s), those no longer than the run; 1-2-5 steps, so the
 * curve can be drawn from the row. */
#define MMU_POINTS 13
static const double mmu_window_ms[MMU_POINTS] = {1, 2, 5, 10, 20, 50, 100, 200, 500,
                                                 1000, 2000, 5000, 10000};
static const char *const mmu_key[MMU_POINTS] = {
    "mmu_1ms", "mmu_2ms", "mmu_5ms", "mmu_10ms", "mmu_20ms", "mmu_50ms", "mmu_100ms",
    "mmu_200ms", "mmu_500ms", "mmu_1s", "mmu_2s", "mmu_5s", "mmu_10s"};
/* Windows per decade on the finer grid (from 1 ms) that the reported
 * curve is the lower envelope of (see cell_mmu). */
#define MMU_GRID_PER_DECADE 20

/* What one run of the workload leaves behind, before the collector closes. */
typedef struct run_outcome run_outcome;
struct run_outcome {
    hl_workload_result result;
    hl_gc_stats gc;
    /* Timed runs with pauses only: minimum mutator utilisation over the
     * timed steps, per window of mmu_window_ms (-1: longer than the run),
     * and over the whole of them; run_ms their length.  have_mmu 0: none. */
    int have_mmu;
    double mmu[MMU_POINTS], mmu_run, run_ms;
};

typedef struct cell {
    const hl_options *o;
    const hl_workload_ops *w;
    const hl_allocator_ops *a;
    const hl_collector_ops *c;
    int64_t params[HL_MAX_PARAMS];
    const char *texts[HL_MAX_PARAMS]; /* text parameters (--param trace=FILE), or NULL */
    hl_workload_config cfg; /* alloc is filled per run */
    uint64_t ops;
    char version[256];
    char params_text[512];
    char bench_name[256];
    memory_figures mem;
    latency_figures lat;
    cJSON *rows;
    cJSON *context;
    char first_error[256]; /* of a timed run Google Benchmark reported failed */
    /* The run an untimed row stands for (instructions, soak): its figures
     * go on the row.  NULL for Google Benchmark's rows, whose runs hand
     * theirs over as counters. */
    const struct run_outcome *untimed_run;
} cell;

/* What a pass adds to a plain run of the workload; every field may be
 * zero. */
typedef struct run_hooks {
    hl_sampler *sampler;           /* memory over time, with phase marks */
    void (*before_finish)(cell *); /* sees the live set before finish frees it */
    void (*after_collect)(cell *); /* sees the heap after finish and a full
                                      collection, before the collector closes */
    int count_instructions;        /* Callgrind instruments only the steps */
    const hl_allocator *tracker;   /* the live-bytes oracle the workload may
                                      read (cfg.tracker); NULL: untracked */
} run_hooks;

/* Minimum mutator utilisation of a timed run whose steps ran from t0 to t1
 * (ns), from the collector's pause timeline (in out->gc), into out.  Each
 * reported figure is the least utilisation over every window of that
 * length or longer, taken on a log grid of MMU_GRID_PER_DECADE windows a
 * decade from 1 ms to the run's length: plain MMU can fall as the window
 * grows (pauses every 2 ms of 1 ms: 1/2 at 2 ms, 1/3 at 3 ms), and a curve
 * that reads "no window this long or longer does worse" cannot.  Costs
 * O(pauses) per grid window. */
static int by_length_down(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a < b) - (a > b);
}

static void cell_mmu(run_outcome *out, uint64_t t0, uint64_t t1)
{
    const hl_gc_stats *g = &out->gc;
    double span = (double)(t1 - t0);
    out->have_mmu = 0;
    if (g->pauses == 0 || g->pause_timeline_n == 0 || span < 1e6)
        return;
    /* The windows: the grid, the reported ones, the run; longest first, so
     * that the running minimum is the envelope. */
    enum { MMU_MAX_WINDOWS = 12 * MMU_GRID_PER_DECADE + MMU_POINTS + 1 };
    double w[MMU_MAX_WINDOWS];
    int nw = 0;
    for (int i = 0; nw < 12 * MMU_GRID_PER_DECADE; i++) {
        double x = 1e6 * pow(10, (double)i / MMU_GRID_PER_DECADE);
        if (x >= span)
            break;
        w[nw++] = x;
    }
    for (int q = 0; q < MMU_POINTS; q++) {
        out->mmu[q] = -1;
        if (mmu_window_ms[q] * 1e6 <= span)
            w[nw++] = mmu_window_ms[q] * 1e6;
    }
    w[nw++] = span;
    qsort(w, (size_t)nw, sizeof w[0], by_length_down);
    double least = 1;
    for (int i = 0; i < nw; i++) {
        double u = hl_mmu(g->pause_at_ns, g->pause_len_ns, g->pause_timeline_n, (double)t0,
                          (double)t1, w[i]);
        if (u < 0)
            return;
        least = u < least ? u : least;
        if (i == 0)
            out->mmu_run = u;
        for (int q = 0; q < MMU_POINTS; q++)
            if (mmu_window_ms[q] * 1e6 == w[i])
                out->mmu[q] = least;
    }
    out->run_ms = span / 1e6;
    out->have_mmu = 1;
}

/* Run setup, every step and finish on `alloc`, with the cell's collector
 * over it.  Without a bench state the steps run untimed for `ops`
 * operations; with one, Google Benchmark sets the count.  Returns 0, or -1
 * with err set. */
static int cell_run_workload(cell *cl, const hl_allocator *alloc, hl_bench_state *st,
                             const run_hooks *hooks, run_outcome *out, hl_error *err)
{
    hl_sampler *sampler = hooks->sampler;
    hl_gc gc = {0};
    int rc = hl_gc_open(&gc, cl->c, alloc, &cl->o->gc);
    if (rc != 0)
        return hl_fail(err, "collector %s failed to start (error %d)", cl->c->name, rc);
    uint64_t steps_t0 = 0, steps_t1 = 0; /* the timed steps, for MMU */
    hl_workload_config cfg = cl->cfg;
    cfg.alloc = alloc;
    cfg.gc = &gc;
    cfg.tracker = hooks->tracker;
    void *state = NULL;
    if (sampler != NULL)
        hl_sampler_phase(sampler, HL_PHASE_SETUP);
    rc = cl->w->setup(&cfg, &state, err);
    if (rc == 0) {
        size_t batch = cl->w->batch ? cl->w->batch : CELL_BATCH;
        if (st != NULL) {
            size_t n;
            steps_t0 = hl_now_ns();
            while (rc == 0 && (n = hl_bench_keep_running_batch(st, batch)) > 0)
                rc = cl->w->step(state, n, err);
            steps_t1 = hl_now_ns();
        } else {
            if (sampler != NULL)
                hl_sampler_phase(sampler, HL_PHASE_RUN);
            /* Instrumentation is process-wide, so the workload's own
             * threads are counted while they run its steps; Callgrind's
             * collection switch would be this thread's alone. */
            if (hooks->count_instructions)
                CALLGRIND_START_INSTRUMENTATION;
            for (uint64_t done = 0; rc == 0 && done < cl->ops; done += batch) {
                uint64_t n = cl->ops - done < batch ? cl->ops - done : batch;
                rc = cl->w->step(state, n, err);
                if (sampler != NULL)
                    hl_sampler_tick(sampler);
            }
            if (hooks->count_instructions)
                CALLGRIND_STOP_INSTRUMENTATION;
        }
    }
    if (rc == 0 && hooks->before_finish != NULL)
        hooks->before_finish(cl);
    if (sampler != NULL)
        hl_sampler_phase(sampler, HL_PHASE_DRAIN);
    if (state != NULL) {
        hl_error finish_err;
        if (cl->w->finish(state, &out->result, &finish_err) != 0 && rc == 0) {
            *err = finish_err;
            rc = -1;
        }
    }
    if (sampler != NULL)
        hl_sampler_phase(sampler, HL_PHASE_TEARDOWN);
    hl_collect(&gc, -1);
    gc.ops->stats(gc.ctx, &out->gc);
    if (st != NULL && steps_t1 > steps_t0)
        cell_mmu(out, steps_t0, steps_t1); /* the timeline dies with the collector */
    out->gc.pause_at_ns = out->gc.pause_len_ns = NULL;
    out->gc.pause_timeline_n = 0;
    if (hooks->after_collect != NULL)
        hooks->after_collect(cl);
    hl_gc_close(&gc);
    if (sampler != NULL)
        hl_sampler_stop(sampler);
    return rc;
}

/* The layers the command line puts around a run's allocator: the
 * --decorate decorator, then the fault injector (--fail-alloc,
 * --mem-limit), outermost so its refusals reach the workload directly. */
typedef struct cell_chain {
    hl_allocator layer[2];
    int n;
} cell_chain;

/* Wrap `inner` in the layers the options ask for.  Returns the allocator the
 * run uses (inner itself when there are none), or NULL with err set. */
static const hl_allocator *cell_chain_open(const cell *cl, const hl_allocator *inner,
                                           cell_chain *ch, hl_error *err)
{
    const hl_allocator *top = inner;
    ch->n = 0;
    if (cl->o->decorator != NULL) {
        if (cl->o->decorator->wrap(&ch->layer[ch->n], top) != 0) {
            hl_fail(err, "out of memory");
            return NULL;
        }
        top = &ch->layer[ch->n++];
    }
    if (cl->o->fail_alloc != 0 || cl->o->mem_limit != 0) {
        if (hl_fail_wrap(&ch->layer[ch->n], top, cl->o->fail_alloc, cl->o->mem_limit) != 0) {
            hl_fail(err, "out of memory");
            while (ch->n > 0)
                hl_allocator_close(&ch->layer[--ch->n]);
            return NULL;
        }
        top = &ch->layer[ch->n++];
    }
    return top;
}

static void cell_chain_close(cell_chain *ch)
{
    while (ch->n > 0)
        hl_allocator_close(&ch->layer[--ch->n]);
}

/* Least-squares slope of y over t for the samples from `from_s` on, in
 * bytes per second; NAN with fewer than 3 usable samples.  `live` picks the
 * live-bytes series instead of RSS. */
static double cell_slope(const hl_sampler *s, double from_s, int live)
{
    double n = 0, st = 0, sy = 0, stt = 0, sty = 0;
    for (size_t i = 0; i < s->n; i++) {
        const hl_sample *x = &s->samples[i];
        long long y = live ? x->live : x->rss;
        if (x->t_s < from_s || y < 0)
            continue;
        n++;
        st += x->t_s;
        sy += (double)y;
        stt += x->t_s * x->t_s;
        sty += x->t_s * (double)y;
    }
    double den = n * stt - st * st;
    return n < 3 || den <= 0 ? NAN : (n * sty - st * sy) / den;
}

/* The memory pass's allocators, for the hooks below. */
static hl_allocator *cell_memory_alloc;   /* untracked */
static hl_allocator *cell_memory_tracked; /* the tracker over it */

static hl_stats cell_base_stats; /* the allocator's view before setup */

/* The allocator's view before the workload starts, with nothing requested:
 * its waste figures then hold what the process (the harness, the C
 * library) had already, to be taken off the figures after the run. */
static void cell_snapshot_base(cell *cl)
{
    const hl_allocator *a = cell_memory_alloc;
    memset(&cell_base_stats, 0, sizeof cell_base_stats);
    cell_base_stats.has_requested_live = !(cl->c->flags & HL_GC_OWN_HEAP);
    if (a->ops->stats != NULL)
        a->ops->stats(a->ctx, &cell_base_stats);
}

/* The allocator's view after the run phase, live set still allocated.  The
 * waste figures count from the state before setup, so what the process
 * held before the workload began is not charged to the workload. */
static void cell_snapshot_stats(cell *cl)
{
    const hl_allocator *a = cell_memory_alloc;
    hl_stats *st = &cl->mem.alloc_stats;
    if (a->ops->stats == NULL)
        return;
    if (!(cl->c->flags & HL_GC_OWN_HEAP)) {
        st->has_requested_live = 1;
        st->requested_live = (double)hl_tracker_read(cell_memory_tracked).live_bytes +
                             hl_stats_get(&cell_base_stats, "internal_waste_bytes", 0);
    }
    a->ops->stats(a->ctx, st);
    double before = hl_stats_get(&cell_base_stats, "external_waste_bytes", 0);
    for (int i = 0; i < st->count; i++)
        if (strcmp(st->item[i].name, "external_waste_bytes") == 0)
            st->item[i].value -= before;
}

static void cell_measure_leak(cell *cl)
{
    cl->mem.leaked = (long long)hl_tracker_read(cell_memory_tracked).live_bytes;
}

/* The memory pass: one tracked run in a cold process. */
static int cell_memory_pass(cell *cl, hl_error *err)
{
    hl_allocator base = {0}, tracked = {0};
    int rc = hl_allocator_open(&base, cl->a);
    if (rc != 0)
        return hl_fail(err, "allocator %s failed to start (error %d)", cl->a->name, rc);
    if (hl_tracker_wrap(&tracked, &base) != 0) {
        hl_allocator_close(&base);
        return hl_fail(err, "out of memory for the tracker");
    }
    cell_chain chain;
    const hl_allocator *top = cell_chain_open(cl, &tracked, &chain, err);
    if (top == NULL) {
        hl_allocator_close(&tracked);
        hl_allocator_close(&base);
        return -1;
    }
    cell_memory_alloc = &base;
    cell_memory_tracked = &tracked;
    memory_figures *m = &cl->mem;
    run_outcome out = {0};
    cell_snapshot_base(cl);
    m->rss_base = hl_rss_now();
    hl_sampler_start(&m->sampler, cl->o->sample_hz,
                     (cl->c->flags & HL_GC_OWN_HEAP) ? NULL : &tracked);
    run_hooks hooks = {.sampler = &m->sampler,
                       .before_finish = cell_snapshot_stats,
                       .after_collect = cell_measure_leak,
                       .tracker = (cl->c->flags & HL_GC_OWN_HEAP) ? NULL : &tracked};
    rc = cell_run_workload(cl, top, NULL, &hooks, &out, err);
    /* A soak repeats the whole workload on the same allocator until the
     * duration is spent; the first run is the warm-up the slopes leave out. */
    uint64_t soak_start = hl_now_ns();
    m->soak_cycles = 1;
    m->soak_from_s = m->sampler.n ? m->sampler.samples[m->sampler.n - 1].t_s : 0;
    while (rc == 0 && cl->o->duration > 0 &&
           (double)(hl_now_ns() - soak_start) / 1e9 < cl->o->duration) {
        run_outcome again = {0};
        rc = cell_run_workload(cl, top, NULL, &hooks, &again, err);
        m->soak_cycles++;
    }
    m->soak_seconds = (double)(hl_now_ns() - soak_start) / 1e9;
    m->rss_end = hl_rss_now();
    /* The pass's peak is its phases' highest; without per-phase peaks, the
     * process's own peak (an upper bound: it includes start-up). */
    m->rss_peak = -1;
    for (int p = 0; p < HL_PHASE_COUNT; p++) {
        if (m->sampler.phase_peak[p] < 0) {
            m->rss_peak = hl_rss_peak();
            break;
        }
        if (m->sampler.phase_peak[p] > m->rss_peak)
            m->rss_peak = m->sampler.phase_peak[p];
    }
    m->counts = hl_tracker_read(&tracked);
    m->result = out.result;
    m->gc = out.gc;
    if (cl->c->flags & HL_GC_OWN_HEAP)
        m->leaked = out.gc.own_live_bytes;
    cell_chain_close(&chain);
    hl_allocator_close(&tracked);
    hl_allocator_close(&base);
    return rc;
}

/* The latency pass's calibration is taken over at least this long, so
 * that the clock's own granularity (and one late wake-up) is a small part
 * of it: a --quick run lasts a few milliseconds. */
#define LATENCY_CALIBRATION_MIN_NS 20000000ull

/* The samples' percentiles in nanoseconds, into cl->lat (the samples are
 * sorted in place). */
static void cell_latency_figures(cell *cl, hl_latency_samples *s)
{
    latency_figures *f = &cl->lat;
    for (int k = 0; k < HL_LATENCY_KINDS; k++) {
        f->samples[k] = s->n[k];
        for (int q = 0; q < LATENCY_POINTS; q++)
            f->ns[k][q] = -1;
        if (s->n[k] == 0)
            continue;
        hl_sort_doubles(s->ticks[k], s->n[k]); /* the quantiles below read it sorted */
        for (int q = 0; q < LATENCY_POINTS; q++)
            f->ns[k][q] = hl_quantile_sorted(s->ticks[k], s->n[k], latency_q[q]) / f->ticks_per_ns;
    }
    f->every = s->every;
    f->timer_ns = s->timer_ticks / f->ticks_per_ns;
    f->resolution_ns = s->timer_step_ticks > 0 ? s->timer_step_ticks / f->ticks_per_ns : -1;
    f->threads = s->threads;
    f->threads_untimed = s->threads_untimed;
    f->clock = s->clock;
    f->measured = 1;
}

/* The latency pass (--latency): one untimed run of the workload whose
 * allocs and frees the latency decorator times one at a time, next to the
 * allocator (inside the --decorate and fault layers).  Its own run, so the
 * timed runs carry no timer.  The decorator's ticks are calibrated against
 * CLOCK_MONOTONIC over the whole pass (at least
 * LATENCY_CALIBRATION_MIN_NS).  Collectors with their own heap allocate
 * outside the allocator: no pass, no figures.  Returns 0, or -1 with err
 * set. */
static int cell_latency_pass(cell *cl, hl_error *err)
{
    if (cl->c->flags & HL_GC_OWN_HEAP)
        return 0;
    hl_allocator base = {0}, timed = {0};
    if (hl_allocator_open(&base, cl->a) != 0)
        return hl_fail(err, "allocator %s failed to start", cl->a->name);
    if (hl_latency_wrap(&timed, &base) != 0) {
        hl_allocator_close(&base);
        return hl_fail(err, "out of memory for the latency decorator");
    }
    uint64_t ns0 = hl_now_ns(), tick0 = hl_latency_ticks();
    run_outcome out = {0};
    run_hooks hooks = {0};
    cell_chain chain;
    const hl_allocator *top = cell_chain_open(cl, &timed, &chain, err);
    int rc = top == NULL ? -1 : cell_run_workload(cl, top, NULL, &hooks, &out, err);
    cell_chain_close(&chain);
    while (hl_now_ns() - ns0 < LATENCY_CALIBRATION_MIN_NS)
        ;
    uint64_t ns1 = hl_now_ns(), tick1 = hl_latency_ticks();
    hl_latency_samples samples;
    if (rc == 0 && out.result.checksum != cl->mem.result.checksum)
        rc = hl_fail(err, "checksum differs from the memory pass's for the same work");
    if (rc == 0 && hl_latency_collect(&timed, &samples) != 0)
        rc = hl_fail(err, "out of memory for the latency samples");
    hl_allocator_close(&timed);
    hl_allocator_close(&base);
    if (rc != 0)
        return -1;
    cl->lat.ticks_per_ns = (double)(tick1 - tick0) / (double)(ns1 - ns0);
    cl->lat.calibration_ms = (double)(ns1 - ns0) / 1e6;
    cell_latency_figures(cl, &samples);
    hl_latency_samples_free(&samples);
    return 0;
}

/* The latency pass's figures as keys of a row; none without the pass. */
static void cell_add_latency(const cell *cl, cJSON *row)
{
    const latency_figures *f = &cl->lat;
    static const char *const kind_name[HL_LATENCY_KINDS] = {"alloc", "free"};
    if (!f->measured)
        return;
    for (int k = 0; k < HL_LATENCY_KINDS; k++) {
        char key[64];
        snprintf(key, sizeof key, "latency_%s_samples", kind_name[k]);
        cJSON_AddNumberToObject(row, key, (double)f->samples[k]);
        for (int q = 0; q < LATENCY_POINTS && f->samples[k] > 0; q++) {
            snprintf(key, sizeof key, "latency_%s_%s_ns", kind_name[k], latency_q_name[q]);
            cJSON_AddNumberToObject(row, key, f->ns[k][q]);
        }
    }
    cJSON_AddNumberToObject(row, "latency_sample_every", (double)f->every);
    cJSON_AddNumberToObject(row, "latency_timer_ns", f->timer_ns);
    if (f->resolution_ns > 0)
        cJSON_AddNumberToObject(row, "latency_resolution_ns", f->resolution_ns);
    cJSON_AddNumberToObject(row, "latency_ticks_per_ns", f->ticks_per_ns);
    cJSON_AddNumberToObject(row, "latency_calibration_ms", f->calibration_ms);
    cJSON_AddNumberToObject(row, "latency_threads", (double)f->threads);
    if (f->threads_untimed > 0)
        cJSON_AddNumberToObject(row, "latency_threads_untimed", (double)f->threads_untimed);
    cJSON_AddStringToObject(row, "latency_clock", f->clock);
}

/* The memory pass of a collector with its own heap (HL_GC_OWN_HEAP), in a
 * forked child, so that the heap it grows is never the one a later pass of
 * this process runs on.  Boehm's heap is one per process and cannot be
 * shut down or re-initialised: a timed run after an in-process memory pass
 * would start on a heap already grown to the workload's peak and collect
 * less often than a run from a fresh heap.  This process must not have
 * started that heap yet (the child then starts it fresh, and this process
 * still can).  The child sends back its status, error, figures and the
 * sampler's samples (pointers into static data, such as figure names, stay
 * valid: the child is this program) and exits without running exit
 * handlers.  The child dies with this process (a stopped or timed-out cell
 * leaves nothing running) and keeps what is left of its alarm.  Returns the
 * memory pass's status; -1 with err set when the child died or its report
 * was cut. */
static int cell_memory_pass_isolated(cell *cl, hl_error *err)
{
    int fds[2];
    if (pipe(fds) != 0)
        return hl_fail(err, "pipe for the memory pass failed: %s", strerror(errno));
    fflush(NULL);
    unsigned alarm_left = alarm(0);
    alarm(alarm_left);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return hl_fail(err, "fork for the memory pass failed: %s", strerror(errno));
    }
    if (pid == 0) {
        close(fds[0]);
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
            _exit(1); /* the parent is gone already */
        alarm(alarm_left);
        int rc = cell_memory_pass(cl, err);
        const hl_sampler *s = &cl->mem.sampler;
        int ok = hl_write_all(fds[1], &rc, sizeof rc) == 0 &&
                 hl_write_all(fds[1], err, sizeof *err) == 0 &&
                 hl_write_all(fds[1], &cl->mem, sizeof cl->mem) == 0 &&
                 hl_write_all(fds[1], s->samples, s->n * sizeof *s->samples) == 0;
        _exit(ok ? 0 : 1);
    }
    close(fds[1]);
    int rc = -1;
    memory_figures m;
    int got = hl_read_all(fds[0], &rc, sizeof rc) == 0 &&
              hl_read_all(fds[0], err, sizeof *err) == 0 &&
              hl_read_all(fds[0], &m, sizeof m) == 0;
    if (got) {
        m.sampler.cap = m.sampler.n;
        m.sampler.samples = m.sampler.n ? hl_untracked_alloc(m.sampler.n * sizeof *m.sampler.samples)
                                        : NULL;
        got = (m.sampler.n == 0 || m.sampler.samples != NULL) &&
              hl_read_all(fds[0], m.sampler.samples, m.sampler.n * sizeof *m.sampler.samples) == 0;
        if (!got)
            hl_sampler_free(&m.sampler);
    }
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!got) {
        if (WIFSIGNALED(status))
            return hl_fail(err, "the memory pass's process died of signal %d", WTERMSIG(status));
        return hl_fail(err, "the memory pass's process ended without its figures");
    }
    cl->mem = m;
    return rc;
}

/* Where a run's own figures go: the keys of its row, or the counters of a
 * timed run (which Google Benchmark puts on that repetition's row and
 * aggregates over the repetitions). */
typedef void (*figure_sink)(void *to, const char *key, double value);

static void put_in_row(void *row, const char *key, double value)
{
    cJSON_AddNumberToObject(row, key, value);
}

static void put_in_counter(void *st, const char *key, double value)
{
    hl_bench_counter(st, key, value, HL_COUNTER_DEFAULT);
}

/* The figures one run measures of itself, whatever kind of run it is: its
 * collector's collections and objects (object workloads) and the
 * workload's wl_* figures.  They go on that run's row and no other, so a
 * figure that varies between runs (collect_ns_per_object) varies between
 * rows. */
static void cell_run_figures(const cell *cl, const run_outcome *run, figure_sink put, void *to)
{
    const hl_gc_stats *g = &run->gc;
    if (g->objects_allocated > 0 && !(cl->c->flags & HL_GC_MANUAL)) {
        static const char *const gen_keys[3][3] = {
            {"gc_collections_gen0", "gc_collected_gen0", "gc_uncollectable_gen0"},
            {"gc_collections_gen1", "gc_collected_gen1", "gc_uncollectable_gen1"},
            {"gc_collections_gen2", "gc_collected_gen2", "gc_uncollectable_gen2"},
        };
        for (int k = 0; k < HL_GC_GENERATIONS; k++) {
            put(to, gen_keys[k][0], (double)g->collections[k]);
            put(to, gen_keys[k][1], (double)g->collected[k]);
            put(to, gen_keys[k][2], (double)g->uncollectable[k]);
        }
    }
    if (g->objects_allocated > 0) {
        put(to, "objects_allocated", (double)g->objects_allocated);
        put(to, "objects_freed", (double)g->objects_freed);
        put(to, "weakrefs_cleared", (double)g->weakrefs_cleared);
        put(to, "weak_callbacks_run", (double)g->callbacks_run);
    }
    if (g->objects_allocated > 0 && (cl->c->flags & HL_GC_FINALIZES)) {
        /* Left out under collectors that do not call the types' finalizers:
         * there a zero would claim a measurement. */
        put(to, "gc_finalizers_run", (double)g->finalizers_run);
        put(to, "gc_resurrected", (double)g->resurrected);
    }
    for (int i = 0; i < run->result.figures.count; i++) {
        char key[96];
        snprintf(key, sizeof key, "wl_%s", run->result.figures.item[i].name);
        put(to, key, run->result.figures.item[i].value);
    }
}

/* Google Benchmark's run function: one timed repetition. */
static void cell_timed_run(hl_bench_state *st, void *user)
{
    cell *cl = user;
    hl_allocator base = {0};
    hl_error err = {{0}};
    if (hl_allocator_open(&base, cl->a) != 0) {
        hl_bench_skip_with_error(st, "allocator failed to start");
        return;
    }
    run_outcome out = {0};
    run_hooks hooks = {0};
    cell_chain chain;
    const hl_allocator *top = cell_chain_open(cl, &base, &chain, &err);
    int rc = top == NULL ? -1 : cell_run_workload(cl, top, st, &hooks, &out, &err);
    cell_chain_close(&chain);
    hl_allocator_close(&base);
    const hl_workload_result res = out.result;
    if (rc != 0) {
        hl_bench_skip_with_error(st, err.msg);
        return;
    }
    if (res.ops == cl->mem.result.ops && res.checksum != cl->mem.result.checksum) {
        snprintf(err.msg, sizeof err.msg, "checksum %016" PRIx64 " differs from the memory "
                 "pass's %016" PRIx64 " for the same work", res.checksum,
                 cl->mem.result.checksum);
        hl_bench_skip_with_error(st, err.msg);
        return;
    }
    hl_bench_items_processed(st, (int64_t)res.ops);
    cell_run_figures(cl, &out, put_in_counter, st);
    if (out.gc.objects_allocated == 0)
        return; /* a raw-byte workload: no collector figures */
    /* Pauses are timing: they come from each timed run, not the memory pass. */
    hl_bench_counter(st, "gc_pauses", (double)out.gc.pauses, HL_COUNTER_DEFAULT);
    hl_bench_counter(st, "gc_pause_total_ns", out.gc.pause_total_ns, HL_COUNTER_DEFAULT);
    if (out.gc.pauses > 0) {
        hl_bench_counter(st, "gc_pause_max_ns", out.gc.pause_max_ns, HL_COUNTER_DEFAULT);
        hl_bench_counter(st, "gc_pause_p50_ns", out.gc.pause_p50_ns, HL_COUNTER_DEFAULT);
        hl_bench_counter(st, "gc_pause_p99_ns", out.gc.pause_p99_ns, HL_COUNTER_DEFAULT);
    }
    if (out.have_mmu) {
        for (int q = 0; q < MMU_POINTS; q++)
            if (out.mmu[q] >= 0)
                hl_bench_counter(st, mmu_key[q], out.mmu[q], HL_COUNTER_DEFAULT);
        hl_bench_counter(st, "mmu_run", out.mmu_run, HL_COUNTER_DEFAULT);
        hl_bench_counter(st, "mmu_run_ms", out.run_ms, HL_COUNTER_DEFAULT);
    }
}

static void add_figure(cJSON *row, const char *key, long long value)
{
    if (value >= 0)
        cJSON_AddNumberToObject(row, key, (double)value);
}

/* The memory pass's figures as keys of a row: those only a tracked pass
 * in a cold process can measure, and memory_pass_ops, the operations they
 * are for.  A wl_* figure that the row's own run did not give (one only the
 * tracked pass can measure) is added as memory_pass_wl_*, never under the
 * run's name. */
static void cell_add_memory(const cell *cl, cJSON *row)
{
    const memory_figures *m = &cl->mem;
    add_figure(row, "memory_pass_ops", (long long)m->result.ops);
    add_figure(row, "rss_base", m->rss_base);
    add_figure(row, "rss_peak", m->rss_peak);
    add_figure(row, "rss_end", m->rss_end);
    static const char *const phase_keys[HL_PHASE_COUNT] = {
        "rss_peak_setup", "rss_peak_run", "rss_peak_drain", "rss_peak_teardown"};
    for (int p = 0; p < HL_PHASE_COUNT; p++)
        add_figure(row, phase_keys[p], m->sampler.phase_peak[p]);
    add_figure(row, "leaked_bytes", m->leaked);
    /* A collector with its own heap bypasses the tracker: its counts would
     * read zero, so they are left out rather than reported as zero. */
    if (!(cl->c->flags & HL_GC_OWN_HEAP)) {
        add_figure(row, "live_peak", (long long)m->counts.live_peak);
        if (m->rss_base >= 0 && m->rss_peak >= 0 &&
            m->counts.live_peak >= HL_FRAGMENTATION_MIN_LIVE)
            cJSON_AddNumberToObject(row, "fragmentation", (double)(m->rss_peak - m->rss_base) /
                                                              (double)m->counts.live_peak);
        add_figure(row, "allocs", (long long)m->counts.allocs);
        add_figure(row, "frees", (long long)m->counts.frees);
        add_figure(row, "reallocs", (long long)m->counts.reallocs);
        add_figure(row, "bytes_allocated", (long long)m->counts.bytes_allocated);
    }
    if (m->gc.own_heap_bytes >= 0 && (cl->c->flags & HL_GC_OWN_HEAP))
        add_figure(row, "gc_heap_bytes", m->gc.own_heap_bytes);
    /* Both passes of an own-heap collector start from a fresh heap, so the
     * memory pass's collections are the row's own run's reference: equal for
     * the same allocation sequence where Boehm's heap grows alike in both
     * (docs/design-notes.md says where it does not). */
    if ((cl->c->flags & HL_GC_OWN_HEAP) && m->gc.objects_allocated > 0)
        add_figure(row, "memory_pass_gc_collections_gen0", (long long)m->gc.collections[0]);
    for (int i = 0; i < m->result.figures.count; i++) {
        char key[96], own[96];
        snprintf(own, sizeof own, "wl_%s", m->result.figures.item[i].name);
        if (cJSON_GetObjectItemCaseSensitive(row, own) != NULL)
            continue;
        snprintf(key, sizeof key, "memory_pass_wl_%s", m->result.figures.item[i].name);
        cJSON_AddNumberToObject(row, key, m->result.figures.item[i].value);
    }
    for (int i = 0; i < m->alloc_stats.count; i++) {
        char key[96];
        snprintf(key, sizeof key, "alloc_%s", m->alloc_stats.item[i].name);
        cJSON_AddNumberToObject(row, key, m->alloc_stats.item[i].value);
    }
}

static void cell_on_context(const hl_bench_context *ctx, void *user)
{
    cell *cl = user;
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "host_name", ctx->host_name);
    cJSON_AddStringToObject(c, "executable", ctx->executable);
    cJSON_AddNumberToObject(c, "num_cpus", ctx->num_cpus);
    cJSON_AddNumberToObject(c, "mhz_per_cpu", (double)(long long)ctx->mhz_per_cpu);
    cJSON_AddBoolToObject(c, "cpu_scaling_enabled", ctx->cpu_scaling_enabled);
    cJSON *caches = cJSON_Parse(ctx->caches_json);
    cJSON_AddItemToObject(c, "caches", caches ? caches : cJSON_CreateArray());
    cJSON_AddStringToObject(c, "library_build_type", ctx->library_build_type);
    cl->context = c;
}

/* Statistic `stat` ("mean" or "median") of `key` over the cell's
 * repetition rows so far (Google Benchmark reports them before their
 * aggregates); NAN when no row has it. */
static double cell_repetition_stat(const cell *cl, const char *key, const char *stat)
{
    double *v = malloc(((size_t)cJSON_GetArraySize(cl->rows) + 1) * sizeof *v);
    size_t n = 0;
    const cJSON *row;
    cJSON_ArrayForEach(row, cl->rows)
    {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(row, "run_type");
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(row, key);
        if (v != NULL && cJSON_IsNumber(x) && cJSON_IsString(type) &&
            strcmp(type->valuestring, "iteration") == 0)
            v[n++] = x->valuedouble;
    }
    double result = n > 0 ? hl_statistic(stat, v, n) : NAN;
    free(v);
    return result;
}

/* The cell's thread count: its threads parameter, or 0 when the workload
 * has none. */
static int64_t cell_threads(const cell *cl)
{
    int i = hl_workload_param_index(cl->w, HL_THREADS_PARAM);
    return i >= 0 ? cl->params[i] : 0;
}

/* One row per Google Benchmark run, in Google Benchmark's JSON shape with
 * heaplab's figures added as top-level keys. */
static void cell_on_report(const hl_bench_report *r, void *user)
{
    cell *cl = user;
    cJSON *row = cJSON_CreateObject();
    cJSON_AddStringToObject(row, "name", r->name);
    cJSON_AddNumberToObject(row, "family_index", 0);
    cJSON_AddNumberToObject(row, "per_family_instance_index", 0);
    cJSON_AddStringToObject(row, "run_name", r->run_name);
    cJSON_AddStringToObject(row, "run_type", r->is_aggregate ? "aggregate" : "iteration");
    cJSON_AddNumberToObject(row, "repetitions", (double)r->repetitions);
    if (!r->is_aggregate)
        cJSON_AddNumberToObject(row, "repetition_index", (double)r->repetition_index);
    /* The workload's own threads (Google Benchmark runs one thread that the
     * workload's crew works beside): what the row's name says. */
    int64_t threads = cell_threads(cl);
    cJSON_AddNumberToObject(row, "threads", threads > 0 ? (double)threads : (double)r->threads);
    if (r->is_aggregate) {
        cJSON_AddStringToObject(row, "aggregate_name", r->aggregate_name);
        cJSON_AddStringToObject(row, "aggregate_unit",
                                r->aggregate_is_percentage ? "percentage" : "time");
    }
    if (r->error != NULL) {
        if (cl->first_error[0] == '\0')
            snprintf(cl->first_error, sizeof cl->first_error, "%s", r->error);
        cJSON_AddBoolToObject(row, "error_occurred", 1);
        cJSON_AddStringToObject(row, "error_message", r->error);
    }
    cJSON_AddNumberToObject(row, "iterations", (double)r->iterations);
    cJSON_AddNumberToObject(row, "real_time", r->real_time_ns);
    cJSON_AddNumberToObject(row, "cpu_time", r->cpu_time_ns);
    cJSON_AddStringToObject(row, "time_unit", "ns");
    for (size_t i = 0; i < r->counter_count; i++)
        cJSON_AddNumberToObject(row, r->counter_names[i], r->counter_values[i]);

    cJSON_AddStringToObject(row, "workload", cl->w->name);
    cJSON_AddStringToObject(row, "variant", cl->w->variants[cl->cfg.variant].name);
    cJSON_AddStringToObject(row, "allocator", cl->a->name);
    cJSON_AddStringToObject(row, "allocator_version", cl->version);
    cJSON_AddStringToObject(row, "collector", cl->c->name);
    cJSON_AddStringToObject(row, "params", cl->params_text);
    cJSON_AddNumberToObject(row, "seed", (double)cl->cfg.seed);
    /* A decorated run measures a test-only wrapper, not the allocator: every
     * row says so, and --compare refuses such a run as a baseline. */
    cJSON_AddStringToObject(row, "decorator", cl->o->decorator ? cl->o->decorator->name : "none");
    char checksum[32];
    snprintf(checksum, sizeof checksum, "%016" PRIx64, cl->mem.result.checksum);
    cJSON_AddStringToObject(row, "checksum", checksum);
    int is_time = !r->is_aggregate || strcmp(r->aggregate_name, "mean") == 0 ||
                  strcmp(r->aggregate_name, "median") == 0;
    /* An aggregate's `iterations` is Google Benchmark's count of the
     * repetitions, not of operations: its ops and seconds are the same
     * statistic of the repetitions' own. */
    if (r->error == NULL && is_time && r->real_time_ns > 0) {
        double ops = (double)r->iterations;
        double seconds = r->real_time_ns * (double)r->iterations / 1e9;
        if (r->is_aggregate) {
            ops = cell_repetition_stat(cl, "ops", r->aggregate_name);
            seconds = cell_repetition_stat(cl, "seconds", r->aggregate_name);
        }
        if (!isnan(ops))
            cJSON_AddNumberToObject(row, "ops", ops);
        if (!isnan(seconds))
            cJSON_AddNumberToObject(row, "seconds", seconds);
        cJSON_AddNumberToObject(row, "ns_per_op", r->real_time_ns);
        cJSON_AddNumberToObject(row, "ops_per_sec", 1e9 / r->real_time_ns);
    }
    if (cl->untimed_run != NULL)
        cell_run_figures(cl, cl->untimed_run, put_in_row, row);
    if (is_time)
        cell_add_memory(cl, row);
    if (is_time)
        cell_add_latency(cl, row);
    cJSON_AddItemToArray(cl->rows, row);
}

/* "live=1000,ops=200000" for the row.  With `min_time` > 0 Google
 * Benchmark chose how many operations the timed runs did, so the `ops`
 * parameter (what the memory pass ran, on each row as memory_pass_ops) is
 * written as the minimum time that decided instead: "live=1000,min_time=2". */
static void cell_format_params(cell *cl, double min_time)
{
    size_t used = 0;
    cl->params_text[0] = '\0';
    for (size_t i = 0; i < cl->w->nparams && used < sizeof cl->params_text; i++) {
        const char *sep = i ? "," : "";
        if (min_time > 0 && strcmp(cl->w->params[i].name, "ops") == 0)
            used += (size_t)snprintf(cl->params_text + used, sizeof cl->params_text - used,
                                     "%smin_time=%g", sep, min_time);
        else if (hl_param_is_text(cl->w, i))
            used += (size_t)snprintf(cl->params_text + used, sizeof cl->params_text - used,
                                     "%s%s=%s", sep, cl->w->params[i].name,
                                     cl->texts[i] ? cl->texts[i] : "");
        else
            used += (size_t)snprintf(cl->params_text + used, sizeof cl->params_text - used,
                                     "%s%s=%" PRId64, sep, cl->w->params[i].name, cl->params[i]);
    }
}

/* Time the workload through Google Benchmark; rows land in cl->rows. */
static int cell_timed_passes(cell *cl, hl_error *err)
{
    char reps[64], min_time[64];
    char *argv[4] = {"heaplab", reps, NULL, NULL};
    int argc = 2;
    snprintf(reps, sizeof reps, "--benchmark_repetitions=%" PRId64, cl->o->repetitions);
    int open_ended = cl->o->min_time > 0 && (cl->w->flags & HL_WORKLOAD_OPEN_ENDED);
    if (open_ended) {
        snprintf(min_time, sizeof min_time, "--benchmark_min_time=%g", cl->o->min_time);
        argv[argc++] = min_time;
        cell_format_params(cl, cl->o->min_time);
    }
    if (hl_bench_register(cl->bench_name, cell_timed_run, cl, open_ended ? 0 : (int64_t)cl->ops) != 0)
        return hl_fail(err, "Google Benchmark refused the benchmark %s", cl->bench_name);
    if (hl_bench_run_all(argc, argv, cell_on_context, cell_on_report, cl) < 0)
        return hl_fail(err, "Google Benchmark rejected its arguments");
    return 0;
}

/* A row for a pass that measured no time (instruction counts, soaks): the
 * figures of `run` and the memory pass's under the name
 * <cell>/iterations:<ops>/<kind>, with no real_time or cpu_time rather than
 * zeros. */
static cJSON *cell_untimed_row(cell *cl, const char *kind, const run_outcome *run)
{
    char name[320];
    snprintf(name, sizeof name, "%s/iterations:%" PRIu64 "/%s", cl->bench_name, cl->ops, kind);
    hl_bench_report r = {.name = name, .run_name = name, .repetitions = 1, .threads = 1,
                         .iterations = (int64_t)cl->ops, .aggregate_name = ""};
    cl->untimed_run = run;
    cell_on_report(&r, cl);
    cl->untimed_run = NULL;
    cJSON *row = cJSON_GetArrayItem(cl->rows, cJSON_GetArraySize(cl->rows) - 1);
    cJSON_DeleteItemFromObjectCaseSensitive(row, "real_time");
    cJSON_DeleteItemFromObjectCaseSensitive(row, "cpu_time");
    cJSON_AddNumberToObject(row, "ops", (double)cl->ops);
    return row;
}

/* The instruction pass: one untracked run whose steps alone Callgrind
 * counts, on every thread of the process (the driver runs this process
 * under `valgrind --tool=callgrind --instr-atstart=no` and reads the
 * total; the steps switch instrumentation on and off).  It writes one row
 * with this run's own figures; no timing, which means nothing under
 * Valgrind. */
static int cell_instruction_pass(cell *cl, hl_error *err)
{
    hl_allocator base = {0};
    if (hl_allocator_open(&base, cl->a) != 0)
        return hl_fail(err, "allocator %s failed to start", cl->a->name);
    run_outcome out = {0};
    run_hooks hooks = {.count_instructions = 1};
    cell_chain chain;
    const hl_allocator *top = cell_chain_open(cl, &base, &chain, err);
    int rc = top == NULL ? -1 : cell_run_workload(cl, top, NULL, &hooks, &out, err);
    cell_chain_close(&chain);
    hl_allocator_close(&base);
    if (rc != 0)
        return -1;
    if (out.result.checksum != cl->mem.result.checksum)
        return hl_fail(err, "checksum differs from the memory pass's for the same work");
    cell_untimed_row(cl, "instructions", &out);
    /* The pinning this count ran under, as this process saw it in force;
     * absent when it was not (pinning.c). */
    cJSON *pinning = hl_pinning_record();
    if (pinning != NULL) {
        if (cl->context == NULL)
            cl->context = cJSON_CreateObject();
        cJSON_AddItemToObject(cl->context, "instruction_pinning", pinning);
    }
    return 0;
}

/* Growth over a soak that live bytes do not explain: bytes, or 0.  Live
 * growth is allowed SOAK_OVERHEAD of allocator overhead on top (headers,
 * size-class rounding of the blocks that stay); what is left is flagged when
 * it exceeds both SOAK_MIN_GROWTH and SOAK_MIN_FRACTION of the RSS the soak
 * started from. */
#define SOAK_OVERHEAD 0.25
#define SOAK_MIN_GROWTH (1 << 20)
#define SOAK_MIN_FRACTION 0.05

static double cell_unexplained_growth(const cell *cl)
{
    const memory_figures *m = &cl->mem;
    if (isnan(m->rss_slope))
        return 0;
    double live = isnan(m->live_slope) || m->live_slope < 0 ? 0 : m->live_slope;
    double growth = (m->rss_slope - live * (1 + SOAK_OVERHEAD)) * m->soak_seconds;
    double floor = SOAK_MIN_FRACTION * (double)(m->rss_base > 0 ? m->rss_base : 0);
    return growth > SOAK_MIN_GROWTH && growth > floor ? growth : 0;
}

/* The soak's row: memory figures, the cycles run and the two slopes. */
static void cell_soak_row(cell *cl)
{
    memory_figures *m = &cl->mem;
    m->rss_slope = cell_slope(&m->sampler, m->soak_from_s, 0);
    m->live_slope = (cl->c->flags & HL_GC_OWN_HEAP) ? NAN : cell_slope(&m->sampler, m->soak_from_s, 1);
    run_outcome soak = {.result = m->result, .gc = m->gc}; /* the memory pass is the soak */
    cJSON *row = cell_untimed_row(cl, "soak", &soak);
    cJSON_AddNumberToObject(row, "soak_cycles", (double)m->soak_cycles);
    cJSON_AddNumberToObject(row, "soak_seconds", m->soak_seconds);
    if (!isnan(m->rss_slope))
        cJSON_AddNumberToObject(row, "rss_slope_bytes_per_s", m->rss_slope);
    if (!isnan(m->live_slope))
        cJSON_AddNumberToObject(row, "live_slope_bytes_per_s", m->live_slope);
    cJSON_AddBoolToObject(row, "soak_unexplained_growth", cell_unexplained_growth(cl) > 0);
}

/* The memory pass's samples as rows [t_s, phase, rss_bytes, live_bytes],
 * absent figures as null. */
static cJSON *cell_samples_json(const hl_sampler *s)
{
    cJSON *rows = cJSON_CreateArray();
    for (size_t i = 0; i < s->n; i++) {
        const hl_sample *x = &s->samples[i];
        cJSON *r = cJSON_CreateArray();
        cJSON_AddItemToArray(r, cJSON_CreateNumber(x->t_s));
        cJSON_AddItemToArray(r, cJSON_CreateString(hl_phase_names[x->phase]));
        cJSON_AddItemToArray(r, x->rss >= 0 ? cJSON_CreateNumber((double)x->rss) : cJSON_CreateNull());
        cJSON_AddItemToArray(r, x->live >= 0 ? cJSON_CreateNumber((double)x->live) : cJSON_CreateNull());
        cJSON_AddItemToArray(rows, r);
    }
    return rows;
}

static int cell_write(cell *cl, hl_error *err)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddItemToObject(doc, "context", cl->context ? cl->context : cJSON_CreateObject());
    cl->context = NULL;
    cJSON_AddItemToObject(doc, "benchmarks", cl->rows);
    cl->rows = NULL;
    cJSON_AddItemToObject(doc, "samples", cell_samples_json(&cl->mem.sampler));
    char *text = cJSON_Print(doc);
    cJSON_Delete(doc);
    if (text == NULL)
        return hl_fail(err, "out of memory while writing the cell's results");
    char why[256];
    int rc = hl_write_file_atomic(cl->o->cell_out, text, strlen(text), why, sizeof why);
    free(text);
    return rc == 0 ? 0 : hl_fail(err, "%s", why);
}

void hl_cell_name(const hl_workload_ops *w, size_t variant, const hl_allocator_ops *a,
                  const hl_collector_ops *c, int64_t threads, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s/%s/%s/%s", w->name, w->variants[variant].name, a->name,
                     c->name);
    if (threads > 0 && n > 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, "/threads:%" PRId64, threads);
}


int hl_cell_main(const hl_options *o)
{
    static cell cl; /* static: large, and one per process */
    hl_error err = {{0}};
    cl.o = o;
    cl.w = o->workloads[0];
    cl.a = o->allocators[0];
    cl.c = o->collectors[0];
    int variant = o->variant ? hl_workload_variant_index(cl.w, o->variant) : 0;
    if (variant < 0) {
        fprintf(stderr, "heaplab: workload %s has no variant %s\n", cl.w->name, o->variant);
        return 1;
    }
    hl_options_resolve_params(o, cl.w, cl.params);
    hl_options_resolve_texts(o, cl.w, cl.texts);
    cl.cfg = (hl_workload_config){.params = cl.params, .variant = (size_t)variant,
                                  .seed = o->seed, .texts = cl.texts,
                                  .alloc_thread_safe = (cl.a->flags & HL_ALLOC_THREAD_SAFE) != 0};
    cl.ops = cl.w->ops(&cl.cfg);
    cell_format_params(&cl, 0);
    hl_cell_name(cl.w, (size_t)variant, cl.a, cl.c, cell_threads(&cl), cl.bench_name,
                 sizeof cl.bench_name);
    alarm((unsigned)o->timeout_s); /* a hung cell dies by SIGALRM; the driver says so */
    if (o->rlimit_as != 0) {
        struct rlimit lim = {(rlim_t)o->rlimit_as, (rlim_t)o->rlimit_as};
        if (setrlimit(RLIMIT_AS, &lim) != 0) {
            fprintf(stderr, "heaplab: --rlimit-as: setrlimit failed\n");
            return 1;
        }
    }

    char why[256] = "";
    const char *missing = cl.a->unavailable ? cl.a->unavailable() : NULL;
    if (missing != NULL) {
        fprintf(stderr, "heaplab: allocator %s unavailable: %s\n", cl.a->name, missing);
        return 1;
    }
    const char *no_gc = cl.c->unavailable ? cl.c->unavailable() : NULL;
    if (no_gc != NULL) {
        fprintf(stderr, "heaplab: collector %s unavailable: %s\n", cl.c->name, no_gc);
        return 1;
    }
    if (cl.a->identify(cl.version, sizeof cl.version, why, sizeof why) != 0) {
        fprintf(stderr, "heaplab: %s\n", why);
        return 1;
    }
    cl.rows = cJSON_CreateArray();
    /* A collector with its own heap gets it fresh in every pass: the
     * memory pass in a child, the timed or counted pass here (and the matrix
     * runs each repetition of such a cell in its own process). */
    int rc = (cl.c->flags & HL_GC_OWN_HEAP) ? cell_memory_pass_isolated(&cl, &err)
                                            : cell_memory_pass(&cl, &err);
    if (rc == 0 && o->latency)
        rc = cell_latency_pass(&cl, &err);
    if (rc == 0 && o->duration > 0)
        cell_soak_row(&cl);
    else if (rc == 0)
        rc = o->instructions ? cell_instruction_pass(&cl, &err) : cell_timed_passes(&cl, &err);
    if (rc != 0 || cell_write(&cl, &err) != 0) {
        fprintf(stderr, "heaplab: %s: %s\n", cl.bench_name, err.msg);
        return 1;
    }
    double unexplained = o->duration > 0 ? cell_unexplained_growth(&cl) : 0;
    if (unexplained > 0) {
        fprintf(stderr, "heaplab: %s: RSS grew %.0f KiB/s over %.1f s of soak, %.0f KiB more "
                "than live bytes explain\n", cl.bench_name, cl.mem.rss_slope / 1024,
                cl.mem.soak_seconds, unexplained / 1024);
        return 1;
    }
    if (cl.first_error[0] != '\0') {
        fprintf(stderr, "heaplab: %s: %s\n", cl.bench_name, cl.first_error);
        return 1;
    }
    return 0;
}
