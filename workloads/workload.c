/*
 * workload.c - the workload registry and what every workload shares:
 * errors, parameter and variant look-up, and bookkeeping memory.
 *
 * To add a workload, list its getter in the table below.
 */
#include "workloads/workload.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const hl_workload_ops *const *hl_workload_registry(size_t *count)
{
    static const hl_workload_ops *table[14];
    if (table[0] == NULL) {
        table[0] = hl_churn_workload();
        table[1] = hl_cycles_workload();
        table[2] = hl_cache_workload();
        table[3] = hl_genlist_workload();
        table[4] = hl_ring_workload();
        table[5] = hl_slots_workload();
        table[6] = hl_trees_workload();
        table[7] = hl_larson_workload();
        table[8] = hl_xmalloc_workload();
        table[9] = hl_falseshare_workload();
        table[10] = hl_fragadv_workload();
        table[11] = hl_mlarge_workload();
        table[12] = hl_stress_workload();
        table[13] = hl_empty_workload();
    }
    *count = sizeof table / sizeof table[0];
    return table;
}

const hl_workload_ops *hl_workload_find(const char *name)
{
    size_t n;
    const hl_workload_ops *const *all = hl_workload_registry(&n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(all[i]->name, name) == 0)
            return all[i];
    return NULL;
}

int hl_fail(hl_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return -1;
}

int hl_workload_param_index(const hl_workload_ops *w, const char *name)
{
    for (size_t i = 0; i < w->nparams; i++)
        if (strcmp(w->params[i].name, name) == 0)
            return (int)i;
    return -1;
}

const hl_param_order *hl_workload_broken_order(const hl_workload_ops *w, const int64_t *values)
{
    for (size_t i = 0; i < w->norders; i++)
        if (values[w->orders[i].lesser] > values[w->orders[i].greater])
            return &w->orders[i];
    return NULL;
}

int hl_workload_variant_index(const hl_workload_ops *w, const char *name)
{
    for (size_t i = 0; i < w->nvariants; i++)
        if (strcmp(w->variants[i].name, name) == 0)
            return (int)i;
    return -1;
}

int hl_workload_supports(const hl_workload_ops *w, const char *collector)
{
    for (const char *const *c = w->collectors; *c != NULL; c++)
        if (strcmp(*c, collector) == 0)
            return 1;
    return 0;
}

