/*
 * manual.c - `--collector=manual`: explicit free.
 *
 * The workload knows when each object dies and frees it at once, as C
 * programs do.  It is the baseline every automatic collector is measured
 * against: no counting, no tracing, no pauses.
 */
#include "collectors/collector.h"

static const hl_collector_ops manual_ops = {
    .name = "manual",
    .description = "explicit free: the workload frees each object when it knows it is dead",
};

const hl_collector_ops *hl_manual_collector(void)
{
    return &manual_ops;
}
