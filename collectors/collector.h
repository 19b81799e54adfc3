/*
 * collector.h - the object-lifetime axis of a heaplab strategy.
 *
 * A collector decides how an object's life ends: `manual` (the workload
 * frees what it knows is dead), and, as the object model grows, reference
 * counting, CPython's generational cycle collector and tracing.  Like
 * allocators, collectors are const method tables in a static registry, one
 * file each; a collector knows nothing of which allocator serves it.
 *
 * Workloads that allocate raw bytes (churn and the classic allocator
 * benchmarks) run under `manual` only: they free explicitly, and that is the
 * whole of their collector.
 */
#ifndef HEAPLAB_COLLECTOR_H
#define HEAPLAB_COLLECTOR_H

#include <stddef.h>

typedef struct hl_collector_ops {
    const char *name;        /* the value of --collector= */
    const char *description; /* one line for --list */
} hl_collector_ops;

const hl_collector_ops *hl_manual_collector(void);

/* All registered collectors, in --list order. */
const hl_collector_ops *const *hl_collector_registry(size_t *count);
/* The collector called `name`, or NULL. */
const hl_collector_ops *hl_collector_find(const char *name);

#endif
