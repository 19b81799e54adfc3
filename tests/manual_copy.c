/*
 * manual_copy.c - `--collector=manual-copy`: a test-only collector that
 * proves a new collector is its own file plus one registry line.
 *
 * Built only into heaplab_testreg (tests/CMakeLists.txt), which compiles
 * collectors/registry.c with HEAPLAB_TEST_COLLECTORS so that its table gains
 * this collector's getter; release builds, and `./bench --list`, never see
 * it.  Nothing else is edited to add it: no workload, no harness file, no
 * test list.  tests/registry_test.sh then checks that --list shows it, that
 * every object workload lists it and runs under it, and that each run gives
 * the checksum and counts it gives under `manual`.
 *
 * It is `manual` under another name: every method forwards to manual's
 * table (store, retain and release are NULL there too), and its flags are
 * manual's, so each run under it must equal the
 * same run under manual, figure for figure (what the test compares).
 */
#include "collectors/collector.h"

const hl_collector_ops *hl_manual_copy_collector(void);

static int copy_init(void **ctx, const hl_allocator *alloc, const hl_gc_config *cfg)
{
    return hl_manual_collector()->init(ctx, alloc, cfg);
}

static void copy_fini(void *ctx)
{
    hl_manual_collector()->fini(ctx);
}

static hl_object *copy_new_object(void *ctx, const hl_type *t, uint32_t nrefs, uint32_t data_size)
{
    return hl_manual_collector()->new_object(ctx, t, nrefs, data_size);
}

static void copy_free_object(void *ctx, hl_object *o)
{
    hl_manual_collector()->free_object(ctx, o);
}

static void copy_collect(void *ctx, int generation)
{
    hl_manual_collector()->collect(ctx, generation);
}

static hl_object *copy_weak_new(void *ctx, hl_object *target, hl_weak_callback cb, void *arg)
{
    return hl_manual_collector()->weak_new(ctx, target, cb, arg);
}

static hl_object *copy_weak_get(void *ctx, hl_object *weakref)
{
    return hl_manual_collector()->weak_get(ctx, weakref);
}

static void copy_stats(void *ctx, hl_gc_stats *out)
{
    hl_manual_collector()->stats(ctx, out);
}

static const hl_collector_ops manual_copy_ops = {
    .name = "manual-copy",
    .description = "test only: manual under another name (proves the registry seam)",
    .flags = HL_GC_MANUAL | HL_GC_FINALIZES,
    .init = copy_init,
    .fini = copy_fini,
    .new_object = copy_new_object,
    .store = NULL, /* as manual's: plain stores, no counts (collector.h) */
    .retain = NULL,
    .release = NULL,
    .free_object = copy_free_object,
    .collect = copy_collect,
    .weak_new = copy_weak_new,
    .weak_get = copy_weak_get,
    .stats = copy_stats,
};

const hl_collector_ops *hl_manual_copy_collector(void)
{
    return &manual_copy_ops;
}
