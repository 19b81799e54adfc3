/*
 * plan.h - a matrix's plan: the selection expanded into cells (workload x
 * variant x collector x allocator x thread count), each with the reason it
 * is skipped, if it is, and what the driver records as its runs finish.
 */
#ifndef HEAPLAB_PLAN_H
#define HEAPLAB_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "harness/options.h"

typedef struct hl_plan_cell {
    const hl_workload_ops *w;
    size_t variant;
    const hl_allocator_ops *a;
    const hl_collector_ops *c;
    int64_t threads;  /* the "threads" parameter, or 0 when the workload has none */
    const char *skip; /* why the cell is not run, or NULL */
    char name[256];   /* workload/variant/allocator/collector[/threads:N] */
    cJSON *rows;      /* rows collected from its runs */
    cJSON *samples;   /* memory over time of its first run */
    size_t runs_failed;
    size_t runs_done;   /* runs that ended by themselves (ok or failed) */
    int64_t runs;       /* processes it needs: one per repetition when interleaved
                           or when its collector has its own heap, else one */
    int cut;            /* a run of it was killed by a stopping signal */
    /* --heap-sweep (harness/heapsweep.c); all 0 in other cells. */
    double heap_factor;     /* tracing, marksweep: this point's multiple of the minimum heap */
    int64_t heap_limit;     /* its runs' --gc-heap-limit, bytes; 0 until the minimum is known */
    int64_t heap_min;       /* the smallest limit a probe completed under, bytes */
    int64_t heap_min_below; /* the largest limit a probe failed under, bytes */
    int64_t heap_upper;     /* the bisection's confirmed upper end, bytes */
    int heap_probes;        /* probe runs the bisection took */
    int64_t gc_threshold0;  /* cycle: this point's generation-0 threshold */
    size_t sweep_first;     /* the plan index of its sweep's first point */
    char sweep_error[512];  /* why its sweep found no minimum, or "" */
} hl_plan_cell;

typedef struct hl_plan {
    hl_plan_cell *cells;
    size_t n, cap;
} hl_plan;

/* Expand o's selection into p's cells, in the order the table shows them;
 * cells that make no sense are kept with their skip reason.  Returns 0, or
 * -1 when memory is exhausted.  O(cells). */
int hl_plan_build(const hl_options *o, hl_plan *p);

/* Append a copy of *cell to p, growing it.  Returns 0, or -1 when memory
 * is exhausted (p unchanged).  Amortised O(1). */
int hl_plan_push(hl_plan *p, const hl_plan_cell *cell);

/* The processes cell needs (see plan.c). */
int64_t hl_plan_cell_runs(const hl_options *o, const hl_plan_cell *cell, int interleave);

#endif
