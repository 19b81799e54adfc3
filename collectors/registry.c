/*
 * registry.c - every collector heaplab knows, in --list order.  To add one:
 * write collectors/<name>.c with one getter, declare it in collector.h and
 * list it here and in CMakeLists.txt.
 */
#include "collectors/collector.h"

#include <string.h>

const hl_collector_ops *const *hl_collector_registry(size_t *count)
{
    static const hl_collector_ops *table[5];
    if (table[0] == NULL) {
        table[0] = hl_manual_collector();
        table[1] = hl_refcount_collector();
        table[2] = hl_cycle_collector();
        table[3] = hl_tracing_collector();
        table[4] = hl_marksweep_collector();
    }
    *count = sizeof table / sizeof table[0];
    return table;
}

const hl_collector_ops *hl_collector_find(const char *name)
{
    size_t n;
    const hl_collector_ops *const *all = hl_collector_registry(&n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(all[i]->name, name) == 0)
            return all[i];
    return NULL;
}
