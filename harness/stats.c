/*
 * stats.c - median, the Mann-Whitney U test, and the aggregate rows of
 * repetitions run in separate processes (see stats.h).  The one median of
 * heaplab: the regression check and the aggregates both take it.
 */
#include "harness/stats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int by_value(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

void hl_sort_doubles(double *v, size_t n)
{
    qsort(v, n, sizeof *v, by_value);
}

double hl_median(double *v, size_t n)
{
    hl_sort_doubles(v, n);
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

/* Keys that name or count a row rather than measure it: never aggregated.
 * (`ops` is measured: a run's own count, aggregated like any figure.) */
static int is_identity_key(const char *key)
{
    static const char *const keys[] = {"family_index", "per_family_instance_index", "repetitions",
                                       "repetition_index", "threads", "iterations", "seed"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(key, keys[i]) == 0)
            return 1;
    return 0;
}

static int is_time_key(const char *key)
{
    return strcmp(key, "real_time") == 0 || strcmp(key, "cpu_time") == 0;
}

/* One statistic of v[0..n): mean, median, stddev (sample) or cv. */
double hl_statistic(const char *stat, double *v, size_t n)
{
    double mean = 0, var = 0;
    for (size_t i = 0; i < n; i++)
        mean += v[i] / (double)n;
    for (size_t i = 0; i < n; i++)
        var += (v[i] - mean) * (v[i] - mean) / (double)(n > 1 ? n - 1 : 1);
    if (strcmp(stat, "median") == 0) {
        return hl_median(v, n);
    }
    if (strcmp(stat, "stddev") == 0)
        return sqrt(var);
    if (strcmp(stat, "cv") == 0)
        return mean != 0 ? sqrt(var) / mean : 0;
    return mean;
}

/* Keys that total a whole run: only a mean or a median of them reads as a
 * run's (as on Google Benchmark's in-process aggregates). */
static int is_run_total_key(const char *key)
{
    return strcmp(key, "ops") == 0 || strcmp(key, "seconds") == 0;
}

/* With interleaved repetitions each run is its own process, so the
 * aggregates Google Benchmark would compute in one process are computed
 * here, in its shape: mean, median, stddev and cv rows (cv of the times
 * only, as a ratio), each figure that statistic over the repetitions, and
 * `iterations` the number of repetitions, as Google Benchmark counts it. */
void hl_stats_add_aggregates(cJSON *rows)
{
    static const char *const stats[] = {"mean", "median", "stddev", "cv"};
    cJSON *good[1024];
    size_t n = 0;
    cJSON *row;
    cJSON_ArrayForEach(row, rows)
        if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(row, "error_occurred")) && n < 1024)
            good[n++] = row;
    if (n < 2)
        return;
    double *v = malloc(n * sizeof *v);
    if (v == NULL)
        return;
    for (size_t k = 0; k < sizeof stats / sizeof stats[0]; k++) {
        int cv = strcmp(stats[k], "cv") == 0;
        cJSON *agg = cJSON_CreateObject();
        const cJSON *field;
        cJSON_ArrayForEach(field, good[0])
        {
            const char *key = field->string;
            if (strcmp(key, "repetition_index") == 0 || strcmp(key, "run_type") == 0)
                continue;
            if (!cJSON_IsNumber(field) || is_identity_key(key)) {
                if (!cv || !cJSON_IsNumber(field))
                    cJSON_AddItemToObject(agg, key, cJSON_Duplicate(field, 1));
                continue;
            }
            if (cv && !is_time_key(key))
                continue;
            if (is_run_total_key(key) && strcmp(stats[k], "mean") != 0 &&
                strcmp(stats[k], "median") != 0)
                continue;
            size_t m = 0;
            for (size_t i = 0; i < n; i++) {
                const cJSON *x = cJSON_GetObjectItemCaseSensitive(good[i], key);
                if (cJSON_IsNumber(x))
                    v[m++] = x->valuedouble;
            }
            if (m == n)
                cJSON_AddNumberToObject(agg, key, hl_statistic(stats[k], v, m));
        }
        char name[320];
        snprintf(name, sizeof name, "%s_%s", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(good[0], "run_name")),
                 stats[k]);
        cJSON_ReplaceItemInObjectCaseSensitive(agg, "name", cJSON_CreateString(name));
        cJSON_DeleteItemFromObjectCaseSensitive(agg, "iterations");
        cJSON_AddNumberToObject(agg, "iterations", (double)n);
        cJSON_AddStringToObject(agg, "run_type", "aggregate");
        cJSON_AddStringToObject(agg, "aggregate_name", stats[k]);
        cJSON_AddStringToObject(agg, "aggregate_unit", cv ? "percentage" : "time");
        cJSON_AddItemToArray(rows, agg);
    }
    free(v);
}
