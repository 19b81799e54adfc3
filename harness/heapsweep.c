/*
 * heapsweep.c - --heap-sweep: each collector's time and pauses as its heap
 * grows (Blackburn, Cheng and McKinley, "Myths and Realities", SIGMETRICS
 * 2004, measure every collector this way).
 *
 * tracing and marksweep take a heap limit (hl_gc_config.heap_limit: Boehm's
 * GC_set_max_heap_size, marksweep's bound on its live_bytes; both collect
 * before they fail).  For each of their cells the sweep
 *   1. finds the minimum heap: the smallest limit the cell completes under
 *      (exit 0, every timed checksum equal to the memory pass's), by
 *      bisection over probe runs (find_minimum);
 *   2. runs one cell per factor F of --heap-sweep at a limit of
 *      ceil(F x minimum), each a cell like any other: its own process(es),
 *      its rows, its place in the table, kept when a run is stopped.
 * cycle has no heap to bound: its cells become one per generation-0
 * threshold of a ladder around CPython's 700 (cycle_ladder), gen1 and gen2
 * at CPython's 10 and 10.
 *
 * Probes are not results: each is a run of the cell in a process of its
 * own (the same command as the cell's, one repetition, with
 * --gc-heap-limit), whose rows are dropped; only what the bisection
 * learnt is kept, on every row of the sweep's points (heap_min_bytes,
 * heap_min_below_bytes, heap_probes).  Bisection assumes that a run that
 * completes under a limit completes under any larger one.
 */
#include "harness/heapsweep.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/child.h"
#include "harness/interrupt.h"

/* cycle's generation-0 thresholds: halving and doubling around CPython's
 * 700, with 100 (near every object a collection) and 350 below. */
static const int64_t cycle_ladder[] = {100, 350, 700, 1400, 2800, 5600, 11200};
#define CYCLE_RUNGS (sizeof cycle_ladder / sizeof cycle_ladder[0])

/* How far the bracket's upper end may double when the unlimited run's
 * heap is not enough under a limit (Boehm's heap grows in sections). */
#define HEAP_MAX_DOUBLINGS 3
/* Bisection stops once the bracket is this narrow: a page. */
#define HEAP_PRECISION_FLOOR 4096

static int limited(const hl_collector_ops *c)
{
    return strcmp(c->name, "tracing") == 0 || strcmp(c->name, "marksweep") == 0;
}

static int laddered(const hl_collector_ops *c)
{
    return strcmp(c->name, "cycle") == 0;
}

/* "/heap:1.5x" or "/gc0:700": what a point adds to its cell's name. */
static void sweep_suffix(const hl_plan_cell *cell, char *buf, size_t len)
{
    buf[0] = '\0';
    if (cell->heap_factor > 0)
        snprintf(buf, len, "/heap:%gx", cell->heap_factor);
    else if (cell->gc_threshold0 > 0)
        snprintf(buf, len, "/gc0:%" PRId64, cell->gc_threshold0);
}

void hl_heapsweep_label(const hl_plan_cell *cell, char *buf, size_t len)
{
    buf[0] = '\0';
    if (cell->heap_factor > 0)
        snprintf(buf, len, "%gx", cell->heap_factor);
    else if (cell->gc_threshold0 > 0)
        snprintf(buf, len, "g0=%" PRId64, cell->gc_threshold0);
}

/* Append to `into` one copy of `cell` per point; points[] are factors
 * (heap) or thresholds (ladder). */
static int add_points(hl_plan *into, const hl_plan_cell *cell, const double *factors, size_t n,
                      int ladder)
{
    size_t first = into->n;
    for (size_t i = 0; i < n; i++) {
        hl_plan_cell point = *cell;
        char suffix[64];
        if (ladder)
            point.gc_threshold0 = cycle_ladder[i];
        else
            point.heap_factor = factors[i];
        point.sweep_first = first;
        sweep_suffix(&point, suffix, sizeof suffix);
        snprintf(point.name, sizeof point.name, "%.190s%s", cell->name, suffix);
        if (hl_plan_push(into, &point) != 0)
            return -1;
    }
    return 0;
}

int hl_heapsweep_expand(const hl_options *o, hl_plan *p)
{
    hl_plan out = {0};
    int rc = 0;
    for (size_t i = 0; i < p->n && rc == 0; i++) {
        const hl_plan_cell *cell = &p->cells[i];
        if (cell->skip == NULL && limited(cell->c))
            rc = add_points(&out, cell, o->heap_factors, o->nheap_factors, 0);
        else if (cell->skip == NULL && laddered(cell->c))
            rc = add_points(&out, cell, NULL, CYCLE_RUNGS, 1);
        else
            rc = hl_plan_push(&out, cell); /* skipped, or not swept: as it was */
    }
    if (rc != 0) {
        free(out.cells);
        return -1;
    }
    free(p->cells);
    *p = out;
    return 0;
}

/* ------------------------------------------------------------ probes -- */

typedef enum probe_result { PROBE_OK, PROBE_FAILED, PROBE_STOPPED } probe_result;

/* The largest value of `key` over rows, or 0. */
static int64_t rows_max(const cJSON *rows, const char *key)
{
    int64_t best = 0;
    const cJSON *row;
    cJSON_ArrayForEach(row, rows)
    {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, key);
        if (cJSON_IsNumber(v) && v->valuedouble > (double)best)
            best = (int64_t)v->valuedouble;
    }
    return best;
}

/* Run cell once under `limit` bytes (0: none) in a process of its own.
 * *upper, when not NULL, gets the heap the run used: Boehm's heap size
 * (gc_heap_bytes) under tracing, the peak of live bytes under marksweep
 * (whose heap the tracker sees); why[] the error of a failed run. */
static probe_result probe(const hl_options *o, const hl_plan_cell *cell, size_t index,
                          int64_t limit, int64_t *upper, char *why, size_t why_len)
{
    hl_plan_cell trial = *cell;
    trial.heap_limit = limit;
    hl_child_outcome out;
    hl_child_run(o, &trial, index, 1, &out);
    probe_result r = out.ok ? PROBE_OK : hl_stop_signal() ? PROBE_STOPPED : PROBE_FAILED;
    if (upper != NULL)
        *upper = rows_max(out.rows, strcmp(cell->c->name, "tracing") == 0 ? "gc_heap_bytes"
                                                                           : "live_peak");
    if (r == PROBE_FAILED)
        snprintf(why, why_len, "%s", out.error);
    cJSON_Delete(out.rows);
    cJSON_Delete(out.context);
    cJSON_Delete(out.samples);
    return r;
}

/* A probe limit: the midpoint of (lo, hi), always above lo. */
static int64_t midpoint(int64_t lo, int64_t hi)
{
    int64_t mid = lo + (hi - lo) / 2;
    return mid > lo ? mid : lo + 1;
}

/* The minimum heap of cell: the smallest limit found to complete (*min)
 * and the largest found to fail (*below, 0 when none was tried lower).
 * Step 1: the unlimited run's heap is the bracket's upper end, confirmed
 * by a probe under it (doubled up to HEAP_MAX_DOUBLINGS times if needed).
 * Step 2: HL_HEAP_BISECT_STEPS halvings of [0, upper], stopping early once
 * the bracket is a page wide.  Returns the probe result that ended it:
 * PROBE_OK with *min set, PROBE_FAILED with why[] set, or PROBE_STOPPED. */
static probe_result find_minimum(const hl_options *o, const hl_plan_cell *cell, size_t index,
                                 int64_t *min, int64_t *below, int64_t *top, int *probes, char *why,
                                 size_t why_len)
{
    int64_t upper = 0;
    char err[512];
    probe_result r = probe(o, cell, index, 0, &upper, err, sizeof err);
    *probes = 1;
    if (r == PROBE_FAILED)
        snprintf(why, why_len, "no minimum heap: the run fails without a limit: %.300s", err);
    if (r != PROBE_OK)
        return r;
    if (upper <= 0) {
        snprintf(why, why_len, "no minimum heap: the unlimited run reported no heap size");
        return PROBE_FAILED;
    }
    int64_t hi = upper, lo = 0;
    for (int d = 0;; d++) {
        r = probe(o, cell, index, hi, NULL, err, sizeof err);
        ++*probes;
        if (r == PROBE_STOPPED)
            return r;
        if (r == PROBE_OK)
            break;
        if (d == HEAP_MAX_DOUBLINGS) {
            snprintf(why, why_len, "no minimum heap: the run fails even under a limit of %" PRId64
                     " bytes (%d x the %" PRId64 " it used unlimited): %.200s", hi,
                     1 << HEAP_MAX_DOUBLINGS, upper, err);
            return PROBE_FAILED;
        }
        lo = hi;
        hi *= 2;
    }
    *top = hi;
    for (int step = 0; step < HL_HEAP_BISECT_STEPS && hi - lo > HEAP_PRECISION_FLOOR; step++) {
        int64_t mid = midpoint(lo, hi);
        r = probe(o, cell, index, mid, NULL, err, sizeof err);
        ++*probes;
        if (r == PROBE_STOPPED)
            return r;
        if (r == PROBE_OK)
            hi = mid;
        else
            lo = mid;
    }
    *min = hi;
    *below = lo;
    return PROBE_OK;
}

int hl_heapsweep_ready(const hl_options *o, hl_plan *p, size_t index)
{
    hl_plan_cell *cell = &p->cells[index];
    if (cell->heap_factor <= 0 || cell->heap_limit > 0)
        return 0;
    if (cell->sweep_error[0] != '\0')
        return -1;
    int64_t min = 0, below = 0, top = 0;
    int probes = 0;
    char why[sizeof cell->sweep_error] = "";
    probe_result r = find_minimum(o, cell, index, &min, &below, &top, &probes, why,
                                  sizeof why);
    if (r == PROBE_STOPPED)
        return -1;
    size_t first = cell->sweep_first;
    for (size_t i = first; i < p->n && p->cells[i].sweep_first == first && p->cells[i].heap_factor > 0;
         i++) {
        hl_plan_cell *point = &p->cells[i];
        point->heap_probes = probes;
        if (r != PROBE_OK) {
            snprintf(point->sweep_error, sizeof point->sweep_error, "%s", why);
            continue;
        }
        point->heap_min = min;
        point->heap_min_below = below;
        point->heap_upper = top;
        point->heap_limit = (int64_t)ceil(point->heap_factor * (double)min);
    }
    char suffix[64];
    sweep_suffix(&p->cells[first], suffix, sizeof suffix);
    if (r == PROBE_OK) /* the cell's name without its point's suffix */
        printf("heap-sweep: %.*s: minimum heap %" PRId64 " bytes (%.2f MiB; fails at %" PRId64
               "), %d probe runs\n", (int)(strlen(p->cells[first].name) - strlen(suffix)),
               p->cells[first].name, min, (double)min / (1 << 20), below, probes);
    return r == PROBE_OK ? 0 : -1;
}

/* --------------------------------------------------------------- rows -- */

/* Rename a row's name-like field from the cell's base name to the point's:
 * "trees/.../tracing/repeats:3" becomes "trees/.../tracing/heap:2x/repeats:3". */
static void rename_field(cJSON *row, const char *key, const char *base, const char *suffix)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, key);
    size_t n = strlen(base);
    if (!cJSON_IsString(v) || strncmp(v->valuestring, base, n) != 0)
        return;
    if (strncmp(v->valuestring + n, suffix, strlen(suffix)) == 0)
        return; /* named for the point already (a failed row) */
    char name[512];
    snprintf(name, sizeof name, "%s%s%s", base, suffix, v->valuestring + n);
    cJSON_ReplaceItemInObjectCaseSensitive(row, key, cJSON_CreateString(name));
}

void hl_heapsweep_annotate(const hl_plan_cell *cell, cJSON *rows)
{
    char suffix[64], base[256];
    sweep_suffix(cell, suffix, sizeof suffix);
    if (suffix[0] == '\0')
        return;
    size_t n = strlen(cell->name) - strlen(suffix);
    snprintf(base, sizeof base, "%.*s", (int)n, cell->name);
    cJSON *row;
    cJSON_ArrayForEach(row, rows)
    {
        rename_field(row, "name", base, suffix);
        rename_field(row, "run_name", base, suffix);
        if (cell->gc_threshold0 > 0) {
            cJSON_AddNumberToObject(row, "gc_threshold0", (double)cell->gc_threshold0);
            continue;
        }
        cJSON_AddNumberToObject(row, "heap_factor", cell->heap_factor);
        if (cell->heap_probes > 0)
            cJSON_AddNumberToObject(row, "heap_probes", cell->heap_probes);
        if (cell->heap_limit <= 0)
            continue; /* no minimum: the figures are absent, not 0 */
        cJSON_AddNumberToObject(row, "heap_limit_bytes", (double)cell->heap_limit);
        cJSON_AddNumberToObject(row, "heap_min_bytes", (double)cell->heap_min);
        cJSON_AddNumberToObject(row, "heap_min_below_bytes", (double)cell->heap_min_below);
        cJSON_AddNumberToObject(row, "heap_upper_bytes", (double)cell->heap_upper);
    }
}
