/*
 * tcmalloc.c - `--allocator=tcmalloc`: gperftools' tcmalloc (2.10) from
 * Debian's libtcmalloc-minimal4, brought into a fresh process by LD_PRELOAD.
 *
 * Proof of identity: malloc resolves into libtcmalloc, and tc_version()
 * answers.  Statistics: MallocExtension numeric properties.
 */
#include "allocators/system.h"

#include <stdio.h>

#define TCMALLOC_SO HL_LIBDIR "/libtcmalloc_minimal.so.4"

typedef const char *(*tc_version_fn)(int *, int *, const char **);
typedef int (*tc_property_fn)(const char *, size_t *);

static const char *tcmalloc_unavailable(void)
{
    return hl_system_missing(TCMALLOC_SO, "libtcmalloc-minimal4");
}

static int tcmalloc_identify(char *version, size_t version_len, char *why, size_t why_len)
{
    if (hl_system_expect_owner("libtcmalloc", "tcmalloc", why, why_len) != 0)
        return -1;
    tc_version_fn tc_version = (tc_version_fn)hl_system_symbol("tc_version");
    const char *v = tc_version != NULL ? tc_version(NULL, NULL, NULL) : NULL;
    if (v == NULL) {
        snprintf(why, why_len, "malloc is in libtcmalloc but tc_version is missing");
        return -1;
    }
    snprintf(version, version_len, "tcmalloc (%s)", v);
    return 0;
}

static void tcmalloc_stats(void *ctx, hl_stats *out)
{
    static const struct {
        const char *property, *name;
    } figures[] = {
        {"generic.current_allocated_bytes", "allocated_bytes"},
        {"generic.heap_size", "heap_bytes"},
        {"tcmalloc.pageheap_free_bytes", "pageheap_free_bytes"},
        {"tcmalloc.pageheap_unmapped_bytes", "pageheap_unmapped_bytes"},
        {"generic.total_physical_bytes", "physical_bytes"},
    };
    (void)ctx;
    tc_property_fn get = (tc_property_fn)hl_system_symbol("MallocExtension_GetNumericProperty");
    if (get == NULL)
        return;
    for (size_t i = 0; i < sizeof figures / sizeof figures[0]; i++) {
        size_t value = 0;
        if (get(figures[i].property, &value))
            hl_stats_add(out, figures[i].name, "bytes", (double)value);
    }
    /* What it holds is its physical memory: the heap less the pages given
     * back to the kernel, plus its metadata -- the counterpart of
     * jemalloc's stats.resident (and like it, an upper bound: pages mapped
     * and never touched count). */
    hl_stats_add_waste(out, hl_stats_get(out, "physical_bytes", -1),
                       hl_stats_get(out, "allocated_bytes", -1));
}

static const hl_allocator_ops tcmalloc_ops = {
    .name = "tcmalloc",
    .description = "gperftools tcmalloc from Debian's libtcmalloc-minimal4, via LD_PRELOAD",
    .flags = HL_ALLOC_SYSTEM | HL_ALLOC_THREAD_SAFE,
    .preload = TCMALLOC_SO,
    .unavailable = tcmalloc_unavailable,
    .identify = tcmalloc_identify,
    .init = hl_system_init,
    .fini = hl_system_fini,
    .alloc = hl_system_alloc,
    .free = hl_system_free,
    .realloc = hl_system_realloc,
    .stats = tcmalloc_stats,
};

const hl_allocator_ops *hl_tcmalloc_allocator(void)
{
    return &tcmalloc_ops;
}
