/*
 * quantile.c - the nearest-rank quantile (see quantile.h).
 */
#include "common/quantile.h"

#include <math.h>

double hl_quantile_sorted(const double *v, size_t n, double q)
{
    /* A small tolerance: 0.999 * 1000 is 998.9999... in binary, whose
     * ceiling would skip to rank 1000. */
    double exact = q * (double)n;
    size_t rank = (size_t)ceil(exact - 1e-9 * exact);
    return v[rank == 0 ? 0 : (rank > n ? n : rank) - 1];
}
