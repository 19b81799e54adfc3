/*
 * heapsweep.h - --heap-sweep: time-space curves for the collectors.
 *
 * The plan's tracing and marksweep cells become one cell per heap factor,
 * run under a heap limit of factor x the workload's minimum heap, which a
 * bisection of probe runs finds first; cycle cells become one cell per
 * generation-0 threshold of a fixed ladder.  See heapsweep.c and
 * docs/heap-sweep.md.
 */
#ifndef HEAPLAB_HEAPSWEEP_H
#define HEAPLAB_HEAPSWEEP_H

#include <cjson/cJSON.h>

#include "harness/options.h"
#include "harness/plan.h"

/* Bisection steps after the bracket is found: the minimum is known to
 * within (upper bound) / 2^HL_HEAP_BISECT_STEPS. */
#define HL_HEAP_BISECT_STEPS 8

/* Replace each runnable tracing or marksweep cell of p by one cell per
 * factor of o->heap_factors, and each cycle cell by one per rung of the
 * threshold ladder; skipped cells stay as they are.  Returns 0, or -1 when
 * memory is exhausted.  O(cells x points). */
int hl_heapsweep_expand(const hl_options *o, hl_plan *p);

/* Before cell `index` runs: when it is a heap-limited point whose sweep has
 * no minimum yet, bisect for it with probe runs (processes of their own,
 * rows discarded) and give every point of the sweep its limit.  Returns 0
 * when the cell can run; -1 when it cannot: its sweep found no minimum
 * (cell->sweep_error says why) or a stopping signal came during a probe.
 * Costs up to HL_HEAP_BISECT_STEPS + 5 runs of the cell, once per sweep. */
int hl_heapsweep_ready(const hl_options *o, hl_plan *p, size_t index);

/* Give each row of a sweep point (rows from its run, or a failed row) the
 * point's name and its sweep figures: heap_factor, heap_limit_bytes,
 * heap_min_bytes, heap_min_below_bytes, heap_upper_bytes, heap_probes, or
 * gc_threshold0.
 * Rows of other cells are left alone. */
void hl_heapsweep_annotate(const hl_plan_cell *cell, cJSON *rows);

/* The point's label for the console table ("1.5x", "g0=700"), or "" for
 * a cell that is no sweep point. */
void hl_heapsweep_label(const hl_plan_cell *cell, char *buf, size_t len);

#endif
