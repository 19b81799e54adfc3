/*
 * pauses.c - the pause log (see pauses.h).
 */
#include "collectors/pauses.h"

#include "common/quantile.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* Double the timeline's room.  Returns 0, or -1 when memory is exhausted. */
static int pause_grow_timeline(hl_pause_log *log)
{
    size_t cap = log->timeline_cap ? log->timeline_cap * 2 : 4096;
    double *at = hl_untracked_alloc(cap * sizeof *at);
    double *len = hl_untracked_alloc(cap * sizeof *len);
    if (at == NULL || len == NULL) {
        hl_untracked_free(at, cap * sizeof *at);
        hl_untracked_free(len, cap * sizeof *len);
        return -1;
    }
    if (log->timeline_n) {
        memcpy(at, log->at_ns, log->timeline_n * sizeof *at);
        memcpy(len, log->len_ns, log->timeline_n * sizeof *len);
    }
    hl_untracked_free(log->at_ns, log->timeline_cap * sizeof *at);
    hl_untracked_free(log->len_ns, log->timeline_cap * sizeof *len);
    log->at_ns = at;
    log->len_ns = len;
    log->timeline_cap = cap;
    return 0;
}

/* CLOCK_MONOTONIC in ns, read here rather than through hl_now_ns (see
 * hl_pause_record). */
static double pause_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

void hl_pause_record(hl_pause_log *log, double ns)
{
    hl_pause_record_at(log, pause_clock_ns() - ns, ns);
}

/* Keep the log sorted as it grows (binary search and a move of the tail),
 * so that a summary, which collectors give at every stats() call, costs no
 * sort.  A pause is recorded after it was timed, so the move is never part
 * of a measured pause. */
void hl_pause_record_at(hl_pause_log *log, double at_ns, double ns)
{
    if (log->timeline_n < log->timeline_cap || pause_grow_timeline(log) == 0) {
        log->at_ns[log->timeline_n] = at_ns;
        log->len_ns[log->timeline_n++] = ns;
    }
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
    out->pause_at_ns = log->at_ns;
    out->pause_len_ns = log->len_ns;
    out->pause_timeline_n = log->timeline_n;
    if (log->n == 0)
        return;
    out->pause_p50_ns = hl_quantile_sorted(log->ns, log->n, 0.50);
    out->pause_p99_ns = hl_quantile_sorted(log->ns, log->n, 0.99);
}

/* Pause time in the run before x: a cursor over the pauses, for x that
 * only grow (each pointer walks the pauses once). */
typedef struct pause_cursor {
    const double *at, *len;
    size_t n, i;   /* pauses [0, i) end at or before x */
    double before; /* their total length */
} pause_cursor;

static double pause_time_before(pause_cursor *c, double x)
{
    while (c->i < c->n && c->at[c->i] + c->len[c->i] <= x)
        c->before += c->len[c->i++];
    double partial = c->i < c->n && c->at[c->i] < x ? x - c->at[c->i] : 0;
    return c->before + partial;
}

/* The most pause time in a window [a, a + w) over the ascending starts
 * a = first(k), k < count, each clamped into [lo, hi]: two cursors, one at
 * each edge of the window. */
static double pause_busiest(const double *at, const double *len, size_t n, double w, double lo,
                            double hi, double (*first)(const double *, const double *, size_t,
                                                       double),
                            size_t count)
{
    pause_cursor left = {at, len, n, 0, 0}, right = {at, len, n, 0, 0};
    double most = 0;
    for (size_t k = 0; k < count; k++) {
        double a = first(at, len, k, w);
        a = a < lo ? lo : a > hi ? hi : a;
        double busy = pause_time_before(&right, a + w) - pause_time_before(&left, a);
        if (busy > most)
            most = busy;
    }
    return most;
}

/* Window starts: at a pause's start, or ending at a pause's end. */
static double window_at_start(const double *at, const double *len, size_t k, double w)
{
    (void)len;
    (void)w;
    return at[k];
}

static double window_at_end(const double *at, const double *len, size_t k, double w)
{
    return at[k] + len[k] - w;
}

double hl_mmu(const double *at, const double *len, size_t n, double t0, double t1, double window)
{
    double span = t1 - t0;
    if (span <= 0)
        return 1;
    double w = window < span ? window : span;
    if (w <= 0)
        return 1;
    /* The pauses clipped to the run: cursors then count only time inside
     * it.  Clipping keeps the order; an untracked copy keeps the caller's. */
    double *cat = hl_untracked_alloc((n ? n : 1) * 2 * sizeof *cat);
    if (cat == NULL)
        return -1;
    double *clen = cat + (n ? n : 1);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        double a = at[i] < t0 ? t0 : at[i];
        double b = at[i] + len[i] > t1 ? t1 : at[i] + len[i];
        if (b > a) {
            cat[m] = a;
            clen[m++] = b - a;
        }
    }
    double busy = pause_busiest(cat, clen, m, w, t0, t1 - w, window_at_start, m);
    double other = pause_busiest(cat, clen, m, w, t0, t1 - w, window_at_end, m);
    hl_untracked_free(cat, (n ? n : 1) * 2 * sizeof *cat);
    busy = other > busy ? other : busy;
    double u = 1 - busy / w;
    return u < 0 ? 0 : u > 1 ? 1 : u;
}

void hl_pause_free(hl_pause_log *log)
{
    hl_untracked_free(log->at_ns, log->timeline_cap * sizeof *log->at_ns);
    hl_untracked_free(log->len_ns, log->timeline_cap * sizeof *log->len_ns);
    hl_untracked_free(log->ns, log->cap * sizeof *log->ns);
    memset(log, 0, sizeof *log);
}
