/*
 * registry.c - every allocator and command-line decorator heaplab knows,
 * in --list order.
 *
 * Both registries are static const tables whose sizes the compiler counts:
 * nothing is filled at run time, so a look-up is safe from any thread and
 * an entry cannot be forgotten by a hand-kept count.  The allocator table
 * holds each file's getter (the one symbol an allocator file exports), so
 * the method tables themselves stay private to their files.
 *
 * To add an allocator: write allocators/<name>.c exporting one getter,
 * declare the getter in allocator.h, add one line to `allocators` below and
 * the file to HEAPLAB_ALLOCATOR_SOURCES in CMakeLists.txt.  Nothing else
 * changes: the command line, --list, the matrix driver and every test that
 * runs "each allocator" (tests/each_allocator.h) read this table.
 */
#include "allocators/allocator.h"

#include <string.h>

static const hl_allocator_getter allocators[] = {
    hl_glibc_allocator,
    hl_jemalloc_allocator,
    hl_mimalloc_allocator,
    hl_tcmalloc_allocator,
    hl_pool_allocator,
    hl_arena_allocator,
};

#define NALLOCATORS (sizeof allocators / sizeof allocators[0])

size_t hl_allocator_count(void)
{
    return NALLOCATORS;
}

const hl_allocator_ops *hl_allocator_at(size_t i)
{
    return i < NALLOCATORS ? allocators[i]() : NULL;
}

const hl_allocator_ops *hl_allocator_find(const char *name)
{
    for (size_t i = 0; i < NALLOCATORS; i++)
        if (strcmp(allocators[i]()->name, name) == 0)
            return allocators[i]();
    return NULL;
}

static const hl_decorator decorators[] = {
    {"slow", "test only: about a dozen extra instructions per allocation", hl_slow_wrap},
    {"leak", "test only: drops every 100th free", hl_leak_wrap},
    {"corrupt", "test only: flips a byte of a live block every 50,000 allocations",
     hl_corrupt_wrap},
};

#define NDECORATORS (sizeof decorators / sizeof decorators[0])

size_t hl_decorator_count(void)
{
    return NDECORATORS;
}

const hl_decorator *hl_decorator_at(size_t i)
{
    return i < NDECORATORS ? &decorators[i] : NULL;
}

const hl_decorator *hl_decorator_find(const char *name)
{
    for (size_t i = 0; i < NDECORATORS; i++)
        if (strcmp(decorators[i].name, name) == 0)
            return &decorators[i];
    return NULL;
}
