/*
 * registry.c - every workload heaplab knows, in --list order.
 *
 * A static const table of the workloads' getters whose size the compiler
 * counts; nothing is filled at run time.  To add a workload: write
 * workloads/<name>.c exporting one getter, declare it in workload.h, add
 * one line to `workloads` below and the file to HEAPLAB_WORKLOAD_SOURCES.
 * --list, --workload=all, the matrix and the checksum pins read this table.
 */
#include "workloads/workload.h"

#include <string.h>

static const hl_workload_getter workloads[] = {
    hl_churn_workload,
    hl_cycles_workload,
    hl_cache_workload,
    hl_genlist_workload,
    hl_ring_workload,
    hl_slots_workload,
    hl_trees_workload,
    hl_larson_workload,
    hl_xmalloc_workload,
    hl_falseshare_workload,
    hl_fragadv_workload,
    hl_mlarge_workload,
    hl_replay_workload,
    hl_stress_workload,
    hl_empty_workload,
};

#define NWORKLOADS (sizeof workloads / sizeof workloads[0])

size_t hl_workload_count(void)
{
    return NWORKLOADS;
}

const hl_workload_ops *hl_workload_at(size_t i)
{
    return i < NWORKLOADS ? workloads[i]() : NULL;
}

const hl_workload_ops *hl_workload_find(const char *name)
{
    for (size_t i = 0; i < NWORKLOADS; i++)
        if (strcmp(workloads[i]()->name, name) == 0)
            return workloads[i]();
    return NULL;
}
