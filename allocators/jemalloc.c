/*
 * jemalloc.c - `--allocator=jemalloc`: Debian's libjemalloc2 (5.3), brought
 * into a fresh process by LD_PRELOAD.
 *
 * Proof of identity: malloc resolves into libjemalloc, and its `mallctl`
 * answers "version".  Statistics: stats.allocated, active, resident, mapped
 * and retained, after an `epoch` write refreshes them.  Debian's build has
 * no symbol prefix, so the API is plain mallctl.
 */
#include "allocators/system.h"

#include <stdint.h>
#include <stdio.h>

#define JEMALLOC_SO HL_LIBDIR "/libjemalloc.so.2"

typedef int (*mallctl_fn)(const char *, void *, size_t *, void *, size_t);

static const char *jemalloc_unavailable(void)
{
    return hl_system_missing(JEMALLOC_SO, "libjemalloc2");
}

static int jemalloc_identify(char *version, size_t version_len, char *why, size_t why_len)
{
    if (hl_system_expect_owner("libjemalloc", "jemalloc", why, why_len) != 0)
        return -1;
    mallctl_fn mallctl = (mallctl_fn)hl_system_symbol("mallctl");
    const char *v = NULL;
    size_t len = sizeof v;
    if (mallctl == NULL || mallctl("version", &v, &len, NULL, 0) != 0 || v == NULL) {
        snprintf(why, why_len, "malloc is in libjemalloc but mallctl(\"version\") failed");
        return -1;
    }
    snprintf(version, version_len, "jemalloc %s", v);
    return 0;
}

static void jemalloc_stats(void *ctx, hl_stats *out)
{
    static const struct {
        const char *ctl, *name;
    } figures[] = {
        {"stats.allocated", "allocated_bytes"}, {"stats.active", "active_bytes"},
        {"stats.resident", "resident_bytes"},   {"stats.mapped", "mapped_bytes"},
        {"stats.retained", "retained_bytes"},
    };
    (void)ctx;
    mallctl_fn mallctl = (mallctl_fn)hl_system_symbol("mallctl");
    if (mallctl == NULL)
        return;
    uint64_t epoch = 1;
    size_t len = sizeof epoch;
    if (mallctl("epoch", &epoch, &len, &epoch, len) != 0)
        return;
    for (size_t i = 0; i < sizeof figures / sizeof figures[0]; i++) {
        size_t value = 0;
        len = sizeof value;
        if (mallctl(figures[i].ctl, &value, &len, NULL, 0) == 0)
            hl_stats_add(out, figures[i].name, "bytes", (double)value);
    }
    /* allocated counts blocks at their size class; resident is what the
     * process pays for. */
    hl_stats_add_waste(out, hl_stats_get(out, "resident_bytes", -1),
                       hl_stats_get(out, "allocated_bytes", -1));
}

static const hl_allocator_ops jemalloc_ops = {
    .name = "jemalloc",
    .description = "jemalloc 5 from Debian's libjemalloc2, via LD_PRELOAD",
    .flags = HL_ALLOC_SYSTEM | HL_ALLOC_THREAD_SAFE,
    .preload = JEMALLOC_SO,
    .unavailable = jemalloc_unavailable,
    .identify = jemalloc_identify,
    .init = hl_system_init,
    .fini = hl_system_fini,
    .alloc = hl_system_alloc,
    .free = hl_system_free,
    .realloc = hl_system_realloc,
    .stats = jemalloc_stats,
};

const hl_allocator_ops *hl_jemalloc_allocator(void)
{
    return &jemalloc_ops;
}
