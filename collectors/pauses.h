/*
 * pauses.h - a log of collection pauses, for the collectors that pause.
 *
 * Every collection is timed with the monotonic clock and its duration kept
 * (in untracked memory, outside the measured heap), so the summary gives
 * exact percentiles, not a histogram's estimate.  Collections are counted in
 * thousands, not millions, so keeping each one costs little.
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
} hl_pause_log;

/* Keep one pause of `ns` nanoseconds.  When the log cannot grow the pause
 * still counts in total and max (percentiles then cover those kept). */
void hl_pause_record(hl_pause_log *log, double ns);

/* Fill out's pause figures: count, total, max, p50 and p99 (-1 without
 * pauses).  O(1). */
void hl_pause_summary(hl_pause_log *log, hl_gc_stats *out);

void hl_pause_free(hl_pause_log *log);

#endif
