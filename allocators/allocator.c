/*
 * allocator.c - the allocator front end: statistics lists and opening and
 * closing instances.  Shared by every allocator; knows none of them.
 */
#include "allocators/allocator.h"

#include <assert.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

void hl_stats_add(hl_stats *stats, const char *name, const char *unit, double value)
{
    if (stats->count >= HL_STATS_MAX)
        return;
    stats->item[stats->count].name = name;
    stats->item[stats->count].unit = unit;
    stats->item[stats->count].value = value;
    stats->count++;
}

void hl_stats_add_waste(hl_stats *stats, double held, double held_for_live)
{
    if (stats->has_requested_live && held_for_live >= 0)
        hl_stats_add(stats, "internal_waste_bytes", "bytes", held_for_live - stats->requested_live);
    if (held >= 0 && held_for_live >= 0)
        hl_stats_add(stats, "external_waste_bytes", "bytes", held - held_for_live);
}

double hl_stats_get(const hl_stats *stats, const char *name, double fallback)
{
    for (int i = 0; i < stats->count; i++)
        if (strcmp(stats->item[i].name, name) == 0)
            return stats->item[i].value;
    return fallback;
}

int hl_allocator_open(hl_allocator *a, const hl_allocator_ops *ops)
{
    a->ops = ops;
    a->ctx = NULL;
    int rc = ops->init(&a->ctx);
    if (rc != 0)
        a->ops = NULL;
    return rc;
}

void hl_allocator_close(hl_allocator *a)
{
    if (a->ops != NULL)
        a->ops->fini(a->ctx);
    a->ops = NULL;
    a->ctx = NULL;
}

int hl_allocator_shared_depth;

void hl_allocator_threads_begin(void)
{
    __atomic_fetch_add(&hl_allocator_shared_depth, 1, __ATOMIC_RELAXED);
}

void hl_allocator_threads_end(void)
{
    int before = __atomic_fetch_sub(&hl_allocator_shared_depth, 1, __ATOMIC_RELAXED);
    assert(before > 0 && "hl_allocator_threads_end without a begin");
    (void)before;
}

void *hl_untracked_alloc(size_t size)
{
    void *p = mmap(NULL, size ? size : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void hl_untracked_free(void *p, size_t size)
{
    if (p != NULL)
        munmap(p, size ? size : 1);
}

/* mincore() in windows of this many pages, so the vector stays on the
 * stack whatever the mapping's size. */
#define RESIDENT_WINDOW_PAGES 4096

long long hl_resident_bytes(const void *addr, size_t len)
{
    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0 || ((uintptr_t)addr & (uintptr_t)(page - 1)) != 0)
        return -1;
    unsigned char vec[RESIDENT_WINDOW_PAGES];
    size_t pages = (len + (size_t)page - 1) / (size_t)page;
    long long resident = 0;
    for (size_t done = 0; done < pages;) {
        size_t n = pages - done < RESIDENT_WINDOW_PAGES ? pages - done : RESIDENT_WINDOW_PAGES;
        if (mincore((char *)addr + done * (size_t)page, n * (size_t)page, vec) != 0)
            return -1;
        for (size_t i = 0; i < n; i++)
            resident += vec[i] & 1;
        done += n;
    }
    return resident * page;
}

long long hl_resident_add(long long total, const void *addr, size_t len)
{
    long long r = total < 0 ? -1 : hl_resident_bytes(addr, len);
    return r < 0 ? -1 : total + r;
}
