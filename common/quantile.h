/*
 * quantile.h - heaplab's one percentile: the nearest-rank quantile of a
 * sorted sample.  It sits in common/ because the collectors' pause log and
 * the harness's statistics (hl_statistic's "pNN" names, the latency pass)
 * both take it, and collectors may not reach up into the harness.
 */
#ifndef HEAPLAB_QUANTILE_H
#define HEAPLAB_QUANTILE_H

#include <stddef.h>

/* The q-quantile (0 <= q <= 1) of ascending v[0..n), n > 0, by the
 * nearest-rank method: the smallest value with at least q * n values at or
 * below it (q = 0 gives the minimum, q = 1 the maximum).  Always one of the
 * sample's own values, never an interpolation, so a percentile reported is
 * a latency or pause that happened.  O(1). */
double hl_quantile_sorted(const double *v, size_t n, double q);

#endif
