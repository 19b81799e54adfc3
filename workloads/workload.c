/*
 * workload.c - what every workload shares: errors, parameter and variant
 * look-up, and which collectors a workload runs under.  The registry is
 * registry.c.
 */
#include "workloads/workload.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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

int hl_param_is_text(const hl_workload_ops *w, size_t i)
{
    return i < 32 && (w->text_params >> i & 1u);
}

int hl_param_name_is_text(const char *name)
{
    for (size_t k = 0; k < hl_workload_count(); k++) {
        const hl_workload_ops *w = hl_workload_at(k);
        int i = hl_workload_param_index(w, name);
        if (i >= 0 && hl_param_is_text(w, (size_t)i))
            return 1;
    }
    return 0;
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

int hl_workload_supports(const hl_workload_ops *w, const hl_collector_ops *c)
{
    return (c->flags & w->gc_needs) == w->gc_needs;
}
