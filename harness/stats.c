/*
 * stats.c - median and the Mann-Whitney U test (see stats.h).
 */
#include "harness/stats.h"

#include <math.h>
#include <stdlib.h>

static int by_value(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

double hl_median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, by_value);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

typedef struct ranked {
    double value;
    int from_a;
} ranked;

static int by_ranked_value(const void *x, const void *y)
{
    return by_value(&((const ranked *)x)->value, &((const ranked *)y)->value);
}

double hl_mann_whitney_p(const double *a, size_t na, const double *b, size_t nb)
{
    size_t n = na + nb;
    if (na == 0 || nb == 0)
        return 1.0;
    ranked *all = malloc(n * sizeof *all);
    if (all == NULL)
        return 1.0;
    for (size_t i = 0; i < na; i++)
        all[i] = (ranked){a[i], 1};
    for (size_t i = 0; i < nb; i++)
        all[na + i] = (ranked){b[i], 0};
    qsort(all, n, sizeof *all, by_ranked_value);

    /* Mid-ranks for ties; sum of a's ranks; tie term sum(t^3 - t). */
    double rank_sum_a = 0, tie_term = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && all[j + 1].value == all[i].value)
            j++;
        double mid = (double)(i + j + 2) / 2; /* ranks are 1-based */
        double t = (double)(j - i + 1);
        tie_term += t * t * t - t;
        for (size_t k = i; k <= j; k++)
            if (all[k].from_a)
                rank_sum_a += mid;
        i = j + 1;
    }
    free(all);

    double u = rank_sum_a - (double)na * (double)(na + 1) / 2;
    double mean = (double)na * (double)nb / 2;
    double var = (double)na * (double)nb / 12 *
                 ((double)(n + 1) - tie_term / ((double)n * (double)(n - 1)));
    if (var <= 0)
        return 1.0;
    double z = (fabs(u - mean) - 0.5) / sqrt(var);
    if (z < 0)
        z = 0;
    return erfc(z / sqrt(2.0));
}
