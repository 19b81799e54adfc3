/*
 * plan.c - expand the selection into cells and say why a cell is skipped
 * (see plan.h).  The plan knows nothing of processes: child.c runs a cell,
 * matrix.c drives the plan.
 */
#include "harness/plan.h"

#include <stdlib.h>
#include <string.h>

#include "harness/cell.h"

int hl_plan_push(hl_plan *p, const hl_plan_cell *cell)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        hl_plan_cell *cells = realloc(p->cells, cap * sizeof *cells);
        if (cells == NULL)
            return -1;
        p->cells = cells;
        p->cap = cap;
    }
    p->cells[p->n++] = *cell;
    return 0;
}

/* Why a cell cannot run, or NULL. */
static const char *plan_skip_reason(const hl_options *o, const hl_plan_cell *cell, size_t ai)
{
    const char *missing = cell->a->unavailable ? cell->a->unavailable() : NULL;
    const char *no_gc = cell->c->unavailable ? cell->c->unavailable() : NULL;
    if (!hl_workload_supports(cell->w, cell->c))
        return "workload does not run under this collector";
    if (no_gc != NULL)
        return no_gc;
    if ((cell->c->flags & HL_GC_OWN_HEAP) && ai > 0)
        return "the collector brings its own heap: run once, under the first allocator";
    if (cell->threads > 1 && !(cell->a->flags & HL_ALLOC_THREAD_SAFE))
        return "allocator is single-threaded: runs at threads=1 only";
    if (cell->threads > 1 && !(cell->c->flags & HL_GC_MANUAL))
        return "heaplab's collectors are single-threaded: threads > 1 runs under manual only";
    if (missing != NULL && o->allocators_all)
        return missing;
    return NULL;
}

/* Expand workloads x variants x collectors x allocators x thread counts into
 * cells; the ones that make no sense are kept with the reason they are
 * skipped. */
int hl_plan_build(const hl_options *o, hl_plan *p)
{
    static const int64_t one_count[1] = {1};
    for (size_t wi = 0; wi < o->nworkloads; wi++) {
        const hl_workload_ops *w = o->workloads[wi];
        const hl_collector_ops *defaults[1] = {hl_collector_find(w->default_collector)};
        const hl_collector_ops *const *collectors = o->ncollectors ? o->collectors : defaults;
        size_t ncollectors = o->ncollectors ? o->ncollectors : 1;
        int only = o->variant ? hl_workload_variant_index(w, o->variant) : -1;
        int threaded = hl_workload_param_index(w, HL_THREADS_PARAM) >= 0;
        const int64_t *counts = threaded && o->nthreads ? o->threads : one_count;
        size_t ncounts = threaded && o->nthreads ? o->nthreads : 1;
        for (size_t v = 0; v < w->nvariants; v++) {
            if (only >= 0 && (size_t)only != v)
                continue;
            for (size_t ci = 0; ci < ncollectors; ci++) {
                for (size_t ai = 0; ai < o->nallocators; ai++) {
                    for (size_t ti = 0; ti < ncounts; ti++) {
                        hl_plan_cell cell = {.w = w, .variant = v, .a = o->allocators[ai],
                                          .c = collectors[ci]};
                        if (threaded) {
                            int64_t values[HL_MAX_PARAMS];
                            hl_options_resolve_params(o, w, values);
                            cell.threads = o->nthreads ? counts[ti]
                                                       : values[hl_workload_param_index(w, HL_THREADS_PARAM)];
                        }
                        hl_cell_name(w, v, cell.a, cell.c, cell.threads, cell.name, sizeof cell.name);
                        cell.skip = plan_skip_reason(o, &cell, ai);
                        if (hl_plan_push(p, &cell) != 0)
                            return -1;
                    }
                }
            }
        }
    }
    return 0;
}

/* The processes a cell needs.  Interleaved repetitions run one process
 * each.  So do the timed repetitions of a collector with its own heap
 * (HL_GC_OWN_HEAP: Boehm's), which cannot start a fresh heap inside a
 * process: each repetition's collections and pauses are then those of a run
 * from a fresh heap, never of a heap that an earlier repetition grew
 * (docs/design-notes.md).  Untimed passes (--instructions, --duration) run
 * once. */
int64_t hl_plan_cell_runs(const hl_options *o, const hl_plan_cell *cell, int interleave)
{
    if (interleave)
        return o->repetitions;
    if ((cell->c->flags & HL_GC_OWN_HEAP) && !o->instructions && o->duration <= 0)
        return o->repetitions;
    return 1;
}
