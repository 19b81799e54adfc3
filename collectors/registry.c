/*
 * registry.c - every collector heaplab knows, in --list order.
 *
 * A static const table of the collectors' getters whose size the compiler
 * counts; nothing is filled at run time.  To add a collector: write
 * collectors/<name>.c with one getter, declare it in collector.h, add one
 * line to `collectors` below and the file to HEAPLAB_COLLECTOR_SOURCES.
 * The matrix, --list and the tests pick it up from here, and every object
 * workload runs under it (a workload says what it needs of a collector,
 * hl_workload_ops.gc_needs, never which collectors by name).
 *
 * HEAPLAB_TEST_COLLECTORS: defined only where tests/CMakeLists.txt compiles
 * this file a second time into the heaplab_testreg binary.  It registers
 * `manual-copy` (tests/manual_copy.c), a collector that exists to prove the
 * line above is all a new collector takes; release builds never see it.
 */
#include "collectors/collector.h"

#include <string.h>

#ifdef HEAPLAB_TEST_COLLECTORS
const hl_collector_ops *hl_manual_copy_collector(void);
#endif

static const hl_collector_getter collectors[] = {
    hl_manual_collector,
    hl_refcount_collector,
    hl_cycle_collector,
    hl_tracing_collector,
    hl_marksweep_collector,
#ifdef HEAPLAB_TEST_COLLECTORS
    hl_manual_copy_collector,
#endif
};

#define NCOLLECTORS (sizeof collectors / sizeof collectors[0])

size_t hl_collector_count(void)
{
    return NCOLLECTORS;
}

const hl_collector_ops *hl_collector_at(size_t i)
{
    return i < NCOLLECTORS ? collectors[i]() : NULL;
}

const hl_collector_ops *hl_collector_find(const char *name)
{
    for (size_t i = 0; i < NCOLLECTORS; i++)
        if (strcmp(collectors[i]()->name, name) == 0)
            return collectors[i]();
    return NULL;
}
