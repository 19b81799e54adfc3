/*
 * stats.h - the statistics the harness takes over repetitions: the one
 * median (cells' own aggregates, interleaved repetitions' aggregate rows and
 * the regression check use it), aggregate rows, and the
 * Mann-Whitney U test (Wilcoxon rank-sum), two-sided, by the normal
 * approximation with a tie correction and a continuity correction.  The
 * approximation is good from about 8 samples a side, which is why the check
 * asks for at least 9 repetitions (as Google Benchmark's compare.py warns).
 */
#ifndef HEAPLAB_STATS_H
#define HEAPLAB_STATS_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* Sort v[0..n) ascending, in place (for quantiles of the result). */
void hl_sort_doubles(double *v, size_t n);

/* The median of v[0..n) (n > 0): the middle value, or the mean of the two
 * middle ones when n is even.  v is sorted in place.  O(n log n). */
double hl_median(double *v, size_t n);

/* One statistic of v[0..n) (n > 0) as Google Benchmark's aggregate rows
 * name them: "mean", "median", "stddev" (sample) or "cv" (stddev / mean);
 * any other name gives the mean.  v may be reordered. */
double hl_statistic(const char *stat, double *v, size_t n);

/* The two-sided p-value that samples a and b come from the same
 * distribution.  1.0 when either side is empty or every value ties. */
double hl_mann_whitney_p(const double *a, size_t na, const double *b, size_t nb);

/* Add Google Benchmark's aggregate rows (mean, median, stddev, cv) over the
 * error-free repetition rows of one cell, each run in a process of its own
 * (see stats.c).  Nothing is added for fewer than two.  O(rows x keys). */
void hl_stats_add_aggregates(cJSON *rows);

#endif
