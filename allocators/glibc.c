/*
 * glibc.c - `--allocator=glibc`: the GNU C library's malloc (ptmalloc2), as
 * Debian ships it, in a process with nothing preloaded.
 *
 * Proof of identity: malloc resolves into libc.so, and none of the other
 * allocators' entry points (mallctl, mi_version, tc_version) is present.
 * Statistics: mallinfo2(), glibc >= 2.33.
 */
#include "allocators/system.h"

#include <gnu/libc-version.h>
#include <malloc.h>
#include <stdio.h>

static int glibc_identify(char *version, size_t version_len, char *why, size_t why_len)
{
    static const char *const foreign[] = {"mallctl", "mi_version", "tc_version"};
    if (hl_system_expect_owner("libc.so", "glibc", why, why_len) != 0)
        return -1;
    for (size_t i = 0; i < sizeof foreign / sizeof foreign[0]; i++) {
        if (hl_system_symbol(foreign[i]) != NULL) {
            snprintf(why, why_len, "allocator glibc requested, but %s is loaded (another allocator "
                     "is preloaded)", foreign[i]);
            return -1;
        }
    }
    snprintf(version, version_len, "glibc %s", gnu_get_libc_version());
    return 0;
}

static void glibc_stats(void *ctx, hl_stats *out)
{
    (void)ctx;
    struct mallinfo2 mi = mallinfo2();
    hl_stats_add(out, "heap_bytes", "bytes", (double)mi.arena);
    hl_stats_add(out, "mmapped_bytes", "bytes", (double)mi.hblkhd);
    hl_stats_add(out, "in_use_bytes", "bytes", (double)mi.uordblks);
    hl_stats_add(out, "free_bytes", "bytes", (double)mi.fordblks);
    hl_stats_add(out, "trimmable_bytes", "bytes", (double)mi.keepcost);
    /* In-use chunks include their headers; the rest of the heap is free. */
    hl_stats_add_waste(out, (double)(mi.arena + mi.hblkhd), (double)(mi.uordblks + mi.hblkhd));
}

static const hl_allocator_ops glibc_ops = {
    .name = "glibc",
    .description = "GNU C library malloc (ptmalloc2), Debian's libc6",
    .flags = HL_ALLOC_SYSTEM | HL_ALLOC_THREAD_SAFE,
    .preload = NULL,
    .identify = glibc_identify,
    .init = hl_system_init,
    .fini = hl_system_fini,
    .alloc = hl_system_alloc,
    .free = hl_system_free,
    .realloc = hl_system_realloc,
    .stats = glibc_stats,
};

const hl_allocator_ops *hl_glibc_allocator(void)
{
    return &glibc_ops;
}
