/*
 * test_churn.c - the churn workload does the work it claims.
 *
 * Runs churn through the workload interface under every in-process
 * allocator (pool, arena, and the C library's malloc), wrapped in the
 * tracker, and checks: the same seed gives the same checksum and operation
 * count under every allocator; a different seed gives a different checksum;
 * the tracker sees exactly one allocation and one free per operation plus
 * the window; live bytes peak within the window's bounds and end at zero;
 * and a block corrupted behind the workload's back is reported, not
 * silently counted.
 */
#include <inttypes.h>
#include <string.h>

#include "tests/check.h"
#include "tests/drive.h"
#include "tests/each_allocator.h"
#include "workloads/workload.h"

typedef struct outcome {
    int rc;
    hl_workload_result res;
    hl_tracker_counts counts;
    char error[256];
} outcome;

/* Run churn with (live, ops) under `alloc_name`, tracked.  `corrupt` > 0
 * corrupts a live block after that many allocations (tests/drive.h). */
static outcome run_churn(const char *alloc_name, const char *variant, uint64_t seed, int64_t live,
                         int64_t ops, uint64_t corrupt)
{
    outcome out = {0};
    const hl_workload_ops *w = hl_churn_workload();
    hl_allocator base, tracked;
    hl_allocator_open(&base, hl_allocator_find(alloc_name));
    corrupter bad;
    hl_allocator corrupting = corrupter_wrap(&bad, &base, corrupt);
    hl_tracker_wrap(&tracked, corrupt ? &corrupting : &base);
    int64_t params[2];
    params[hl_workload_param_index(w, "live")] = live;
    params[hl_workload_param_index(w, "ops")] = ops;
    hl_workload_config cfg = {&tracked, NULL, params,
                              (size_t)hl_workload_variant_index(w, variant), seed, &tracked, NULL, 0};
    hl_error err = {{0}};
    void *state;
    out.rc = drive_run(w, &cfg, w->ops(&cfg), &state, &err); /* one step for all */
    out.rc = drive_finish(w, state, out.rc, &out.res, &err);
    snprintf(out.error, sizeof out.error, "%s", err.msg);
    out.counts = hl_tracker_read(&tracked);
    hl_allocator_close(&tracked);
    hl_allocator_close(&base);
    return out;
}

int main(int argc, char **argv)
{
    if (each_allocator_init(argc, argv, "test_churn", 0) != 0)
        return 2;
    const int64_t live = 500, ops = 20000;
    outcome first = run_churn("pool", "mixed", 7, live, ops, 0);
    CHECK(first.rc == 0, "churn under pool failed: %s", first.error);
    CHECK(first.res.ops == (uint64_t)ops, "ops %" PRIu64 " != %" PRId64, first.res.ops, ops);
    for (size_t i = 0; i < each_allocator_count; i++) {
        outcome o = run_churn(each_allocators[i], "mixed", 7, live, ops, 0);
        CHECK(o.rc == 0, "churn under %s failed: %s", each_allocators[i], o.error);
        CHECK(o.res.checksum == first.res.checksum, "%s checksum %016" PRIx64 " != pool's %016"
              PRIx64, each_allocators[i], o.res.checksum, first.res.checksum);
        CHECK(o.counts.allocs == (uint64_t)(ops + live), "%s: %" PRIu64 " allocations, expected %"
              PRId64, each_allocators[i], o.counts.allocs, ops + live);
        CHECK(o.counts.frees == o.counts.allocs, "%s: frees %" PRIu64 " != allocs %" PRIu64,
              each_allocators[i], o.counts.frees, o.counts.allocs);
        CHECK(o.counts.live_bytes == 0, "%s: %" PRIu64 " bytes leaked", each_allocators[i],
              o.counts.live_bytes);
        CHECK(o.counts.live_peak >= (uint64_t)live * 16 && o.counts.live_peak <= (uint64_t)live * 512,
              "%s: live peak %" PRIu64 " outside the window's bounds", each_allocators[i],
              o.counts.live_peak);
    }
    outcome other_seed = run_churn("pool", "mixed", 8, live, ops, 0);
    CHECK(other_seed.res.checksum != first.res.checksum, "seed does not change the checksum");

    outcome fixed = run_churn("pool", "fixed64", 7, live, ops, 0);
    CHECK(fixed.rc == 0, "fixed64 failed: %s", fixed.error);
    CHECK(fixed.counts.live_peak == (uint64_t)live * 64, "fixed64 live peak %" PRIu64 " != %" PRId64,
          fixed.counts.live_peak, live * 64);

    outcome corrupt = run_churn("pool", "mixed", 7, live, ops, 5000);
    CHECK(corrupt.rc != 0 && strstr(corrupt.error, "corrupted") != NULL,
          "a corrupted block went unnoticed (rc %d, '%s')", corrupt.rc, corrupt.error);
    return each_allocator_finish(check_status("test_churn"));
}
