/*
 * pauses.h - a log of collection pauses, for the collectors that pause.
 *
 * Every collection is timed with the monotonic clock and its duration kept
 * (in untracked memory, outside the measured heap), so the summary gives
 * exact percentiles, not a histogram's estimate.  Collections are counted in
 * thousands, not millions, so keeping each one costs little.  Each pause's
 * place in time is kept as well, for minimum mutator utilisation.
 */
#ifndef HEAPLAB_PAUSES_H
#define HEAPLAB_PAUSES_H

#include <stddef.h>
#include <stdint.h>

#include "collectors/collector.h"
#include "common/clock.h" /* hl_now_ns, which times every pause */

typedef struct hl_pause_log {
    double *ns;      /* one duration per pause, kept in ascending order */
    size_t n, cap;
    double total_ns, max_ns;
    /* The timeline, in the order pauses were recorded: pause i ran from
     * at_ns[i] for len_ns[i] on CLOCK_MONOTONIC (what hl_now_ns reads).
     * Minimum mutator utilisation is computed from it (hl_mmu). */
    double *at_ns, *len_ns;
    size_t timeline_n, timeline_cap;
} hl_pause_log;

/* Keep one pause of `ns` nanoseconds that has just ended.  Its start on
 * the timeline is now - ns, with now read from CLOCK_MONOTONIC directly
 * (not through hl_now_ns, so the read is not part of any timed pause and
 * a test's scripted hl_now_ns sees the collectors' own reads only): later
 * than the collector's own end stamp by the few nanoseconds of this call.
 * When the log cannot grow the pause still counts in total and max
 * (percentiles then cover those kept). */
void hl_pause_record(hl_pause_log *log, double ns);

/* Keep one pause that ran from at_ns for ns nanoseconds (the timeline's
 * clock is CLOCK_MONOTONIC); hl_pause_record with a known start. */
void hl_pause_record_at(hl_pause_log *log, double at_ns, double ns);

/* Fill out's pause figures: count, total, max, p50 and p99 (-1 without
 * pauses), and point out->pause_at_ns / pause_len_ns at the timeline (valid
 * until the log changes or is freed).  O(1). */
void hl_pause_summary(hl_pause_log *log, hl_gc_stats *out);

/* Minimum mutator utilisation (Cheng and Blelloch, 2001) of a run from t0
 * to t1 (ns) whose pauses are at[i] .. at[i] + len[i], i < n, ascending by
 * start and not overlapping: over every window of `window` ns inside the
 * run, the smallest fraction of the window not spent in a pause.  Pauses
 * are clipped to the run.  A window longer than the run is the run.
 * Returns a value in [0, 1] (1 without pauses), or -1 when memory for a
 * clipped copy of the pauses is exhausted.  O(n): the busiest window
 * starts at a pause's start or ends at a pause's end, and both candidate
 * sequences are walked with two monotone pointers. */
double hl_mmu(const double *at, const double *len, size_t n, double t0, double t1,
              double window);

void hl_pause_free(hl_pause_log *log);

#endif
