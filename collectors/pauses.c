/*
 * pauses.c - the pause log (see pauses.h).
 */
#include "collectors/pauses.h"

#include "common/quantile.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Double the log's room.  Returns 0, or -1 when memory is exhausted. */
static int pause_grow(hl_pause_log *log)
{
    size_t cap = log->cap ? log->cap * 2 : 4096;
    double *ns = hl_untracked_alloc(cap * sizeof *ns);
    if (ns == NULL)
        return -1;
    if (log->n)
        memcpy(ns, log->ns, log->n * sizeof *ns);
    hl_untracked_free(log->ns, log->cap * sizeof *ns);
    log->ns = ns;
    log->cap = cap;
    return 0;
}

/* Keep the log sorted as it grows (binary search and a move of the tail),
 * so that a summary, which collectors give at every stats() call, costs no
 * sort.  A pause is recorded after it was timed, so the move is never part
 * of a measured pause. */
void hl_pause_record(hl_pause_log *log, double ns)
{
    log->total_ns += ns;
    if (ns > log->max_ns)
        log->max_ns = ns;
    if (log->n == log->cap && pause_grow(log) != 0)
        return;
    size_t lo = 0, hi = log->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (log->ns[mid] <= ns)
            lo = mid + 1;
        else
            hi = mid;
    }
    memmove(log->ns + lo + 1, log->ns + lo, (log->n - lo) * sizeof *log->ns);
    log->ns[lo] = ns;
    log->n++;
}

void hl_pause_summary(hl_pause_log *log, hl_gc_stats *out)
{
    out->pauses = log->n;
    out->pause_total_ns = log->total_ns;
    out->pause_max_ns = log->max_ns;
    out->pause_p50_ns = out->pause_p99_ns = -1;
    if (log->n == 0)
        return;
    out->pause_p50_ns = hl_quantile_sorted(log->ns, log->n, 0.50);
    out->pause_p99_ns = hl_quantile_sorted(log->ns, log->n, 0.99);
}

void hl_pause_free(hl_pause_log *log)
{
    hl_untracked_free(log->ns, log->cap * sizeof *log->ns);
    memset(log, 0, sizeof *log);
}
