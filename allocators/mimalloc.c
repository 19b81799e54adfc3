/*
 * mimalloc.c - `--allocator=mimalloc`: Debian's libmimalloc2.0 (2.0.9),
 * brought into a fresh process by LD_PRELOAD.
 *
 * Proof of identity: malloc resolves into libmimalloc, and mi_version()
 * answers (209 means 2.0.9).  Statistics: mi_process_info's committed
 * memory.  mimalloc 2.0.9 reports commit as "current rss" there; heaplab
 * reads RSS from /proc instead and labels this figure as committed bytes.
 */
#include "allocators/system.h"

#include <stdio.h>

#define MIMALLOC_SO HL_LIBDIR "/libmimalloc.so.2"

typedef int (*mi_version_fn)(void);
typedef void (*mi_process_info_fn)(size_t *, size_t *, size_t *, size_t *, size_t *, size_t *,
                                   size_t *, size_t *);

static const char *mimalloc_unavailable(void)
{
    return hl_system_missing(MIMALLOC_SO, "libmimalloc2.0");
}

static int mimalloc_identify(char *version, size_t version_len, char *why, size_t why_len)
{
    if (hl_system_expect_owner("libmimalloc", "mimalloc", why, why_len) != 0)
        return -1;
    mi_version_fn mi_version = (mi_version_fn)hl_system_symbol("mi_version");
    if (mi_version == NULL) {
        snprintf(why, why_len, "malloc is in libmimalloc but mi_version is missing");
        return -1;
    }
    int v = mi_version();
    snprintf(version, version_len, "mimalloc %d.%d.%d", v / 100, (v / 10) % 10, v % 10);
    return 0;
}

static void mimalloc_stats(void *ctx, hl_stats *out)
{
    (void)ctx;
    mi_process_info_fn info = (mi_process_info_fn)hl_system_symbol("mi_process_info");
    if (info == NULL)
        return;
    size_t elapsed, user, sys, rss, peak_rss, commit, peak_commit, faults;
    info(&elapsed, &user, &sys, &rss, &peak_rss, &commit, &peak_commit, &faults);
    hl_stats_add(out, "committed_bytes", "bytes", (double)commit);
    hl_stats_add(out, "committed_peak_bytes", "bytes", (double)peak_commit);
}

static const hl_allocator_ops mimalloc_ops = {
    .name = "mimalloc",
    .description = "mimalloc 2 from Debian's libmimalloc2.0, via LD_PRELOAD",
    .flags = HL_ALLOC_SYSTEM | HL_ALLOC_THREAD_SAFE,
    .preload = MIMALLOC_SO,
    .unavailable = mimalloc_unavailable,
    .identify = mimalloc_identify,
    .init = hl_system_init,
    .fini = hl_system_fini,
    .alloc = hl_system_alloc,
    .free = hl_system_free,
    .realloc = hl_system_realloc,
    .stats = mimalloc_stats,
};

const hl_allocator_ops *hl_mimalloc_allocator(void)
{
    return &mimalloc_ops;
}
