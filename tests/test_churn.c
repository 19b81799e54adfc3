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
#include "workloads/workload.h"

typedef struct outcome {
    int rc;
    hl_workload_result res;
    hl_tracker_counts counts;
    char error[256];
} outcome;

/* A test-only decorator that corrupts memory it handed out: after
 * `corrupt_after` allocations it overwrites the last byte of a block that is
 * still live, once. */
typedef struct corrupter {
    hl_allocator inner;
    uint64_t allocs, corrupt_after;
    unsigned char *victim;
    size_t victim_size;
    int done;
} corrupter;

static void *corrupter_alloc(void *ctx, size_t size)
{
    corrupter *c = ctx;
    if (!c->done && c->victim != NULL) {
        c->victim[c->victim_size - 1] ^= 0xff;
        c->done = 1;
    }
    unsigned char *p = hl_alloc(&c->inner, size);
    if (++c->allocs == c->corrupt_after) {
        c->victim = p;
        c->victim_size = size;
    }
    return p;
}

static void corrupter_free(void *ctx, void *p, size_t size)
{
    corrupter *c = ctx;
    if (p == c->victim && !c->done)
        c->victim = NULL, c->corrupt_after = c->allocs + 1; /* pick the next block */
    hl_free(&c->inner, p, size);
}

static void *corrupter_realloc(void *ctx, void *p, size_t old_size, size_t new_size)
{
    corrupter *c = ctx;
    return hl_realloc(&c->inner, p, old_size, new_size);
}

static void corrupter_fini(void *ctx)
{
    (void)ctx;
}

static const hl_allocator_ops corrupter_ops = {
    .name = "corrupter",
    .description = "test decorator: corrupts one live block",
    .fini = corrupter_fini,
    .alloc = corrupter_alloc,
    .free = corrupter_free,
    .realloc = corrupter_realloc,
};

/* Run churn with (live, ops) under `alloc_name`, tracked.  `corrupt` > 0
 * corrupts a live block after that many allocations. */
static outcome run_churn(const char *alloc_name, const char *variant, uint64_t seed, int64_t live,
                         int64_t ops, uint64_t corrupt)
{
    outcome out = {0};
    const hl_workload_ops *w = hl_churn_workload();
    hl_allocator base, tracked;
    hl_allocator_open(&base, hl_allocator_find(alloc_name));
    corrupter bad = {.inner = base, .corrupt_after = corrupt};
    hl_allocator corrupting = {&corrupter_ops, &bad};
    hl_tracker_wrap(&tracked, corrupt ? &corrupting : &base);
    int64_t params[2];
    params[hl_workload_param_index(w, "live")] = live;
    params[hl_workload_param_index(w, "ops")] = ops;
    hl_workload_config cfg = {&tracked, NULL, params,
                              (size_t)hl_workload_variant_index(w, variant), seed};
    hl_error err = {{0}};
    void *state = NULL;
    out.rc = w->setup(&cfg, &state, &err);
    if (out.rc == 0)
        out.rc = w->step(state, w->ops(&cfg), &err);
    if (state != NULL) {
        hl_error fin = {{0}};
        int rc = w->finish(state, &out.res, &fin);
        if (out.rc == 0 && rc != 0) {
            out.rc = rc;
            err = fin;
        }
    }
    snprintf(out.error, sizeof out.error, "%s", err.msg);
    out.counts = hl_tracker_read(&tracked);
    hl_allocator_close(&tracked);
    hl_allocator_close(&base);
    return out;
}

int main(void)
{
    static const char *const allocators[] = {"pool", "arena", "glibc"};
    const int64_t live = 500, ops = 20000;
    outcome first = run_churn("pool", "mixed", 7, live, ops, 0);
    CHECK(first.rc == 0, "churn under pool failed: %s", first.error);
    CHECK(first.res.ops == (uint64_t)ops, "ops %" PRIu64 " != %" PRId64, first.res.ops, ops);
    for (size_t i = 0; i < sizeof allocators / sizeof allocators[0]; i++) {
        outcome o = run_churn(allocators[i], "mixed", 7, live, ops, 0);
        CHECK(o.rc == 0, "churn under %s failed: %s", allocators[i], o.error);
        CHECK(o.res.checksum == first.res.checksum, "%s checksum %016" PRIx64 " != pool's %016"
              PRIx64, allocators[i], o.res.checksum, first.res.checksum);
        CHECK(o.counts.allocs == (uint64_t)(ops + live), "%s: %" PRIu64 " allocations, expected %"
              PRId64, allocators[i], o.counts.allocs, ops + live);
        CHECK(o.counts.frees == o.counts.allocs, "%s: frees %" PRIu64 " != allocs %" PRIu64,
              allocators[i], o.counts.frees, o.counts.allocs);
        CHECK(o.counts.live_bytes == 0, "%s: %" PRIu64 " bytes leaked", allocators[i],
              o.counts.live_bytes);
        CHECK(o.counts.live_peak >= (uint64_t)live * 16 && o.counts.live_peak <= (uint64_t)live * 512,
              "%s: live peak %" PRIu64 " outside the window's bounds", allocators[i],
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
    return check_status("test_churn");
}
