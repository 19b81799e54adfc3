/*
 * registry.c - every allocator heaplab knows, in --list order.
 *
 * To add an allocator: write allocators/<name>.c exporting one getter,
 * declare the getter in allocator.h, add it to the table below and to
 * HEAPLAB_ALLOCATOR_SOURCES in CMakeLists.txt.  Nothing else changes: the
 * command line, --list, the conformance tests and the matrix driver all read
 * this table.
 */
#include "allocators/allocator.h"

#include <string.h>

const hl_allocator_ops *const *hl_allocator_registry(size_t *count)
{
    static const hl_allocator_ops *table[6];
    if (table[0] == NULL) {
        table[0] = hl_glibc_allocator();
        table[1] = hl_jemalloc_allocator();
        table[2] = hl_mimalloc_allocator();
        table[3] = hl_tcmalloc_allocator();
        table[4] = hl_pool_allocator();
        table[5] = hl_arena_allocator();
    }
    *count = sizeof table / sizeof table[0];
    return table;
}

const hl_allocator_ops *hl_allocator_find(const char *name)
{
    size_t n;
    const hl_allocator_ops *const *all = hl_allocator_registry(&n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(all[i]->name, name) == 0)
            return all[i];
    return NULL;
}

const hl_decorator *hl_decorator_registry(size_t *count)
{
    static const hl_decorator table[] = {
        {"slow", "test only: about a dozen extra instructions per allocation", hl_slow_wrap},
        {"leak", "test only: drops every 100th free", hl_leak_wrap},
        {"corrupt", "test only: flips a byte of a live block every 50,000 allocations",
         hl_corrupt_wrap},
    };
    *count = sizeof table / sizeof table[0];
    return table;
}

const hl_decorator *hl_decorator_find(const char *name)
{
    size_t n;
    const hl_decorator *all = hl_decorator_registry(&n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(all[i].name, name) == 0)
            return &all[i];
    return NULL;
}
