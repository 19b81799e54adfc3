/*
 * test_workloads_classic.c - the classic allocator benchmarks (larson,
 * xmalloc, falseshare, fragadv, mlarge) do the work they claim.
 *
 * Each workload runs through the workload interface as the harness runs it
 * - the manual collector opened over the allocator, setup, step in batches
 * until ops() operations are done, finish - at --quick sizes (some shrunk
 * further).  Checked:
 *   - single-threaded, under pool, arena and glibc wrapped in the tracker:
 *     the same checksum under every allocator, ops performed = ops(),
 *     nothing leaked (live bytes 0 and frees = allocations at the end), and
 *     the allocations the design implies;
 *   - the checksum does not depend on how the run is cut into steps;
 *   - the threaded workloads at 1, 2 and 4 threads under glibc (thread-safe),
 *     tracked (the tracker's counters are atomic), give the same checksum
 *     and ops as at 1 thread and leak nothing;
 *   - larson frees remotely only with more than one thread; falseshare's
 *     scratch and thrash variants do the same work;
 *   - fragadv's tracked live peak is exactly the design's formula;
 *   - a block corrupted behind a workload's back is reported;
 *   - the crew announces its threads to the allocators: shared is seen on
 *     every worker while the crew lives and not before or after, nor for a
 *     crew of one; and a tracker driven by a crew of two threads, each
 *     doing a million allocations and frees, counts every one of them
 *     (its counters are atomic only while the crew is announced).
 */
#include <inttypes.h>
#include <string.h>

#include "tests/check.h"
#include "tests/drive.h"
#include "tests/each_allocator.h"
#include "workloads/crew.h"
#include "workloads/workload.h"


typedef struct outcome {
    int rc;
    char error[256];
    uint64_t ops; /* what ops() promised */
    hl_workload_result res;
    hl_tracker_counts counts; /* after finish (tracked runs only) */
} outcome;



typedef struct run_spec {
    const char *alloc_name;
    int tracked;
    uint64_t corrupt_at; /* > 0: corrupt a live block after this many allocations */
    uint64_t batch;      /* 0: the workload's own batch, as the harness uses it */
} run_spec;

/* One run of w (variant, over, seed) as the harness's passes run it. */
static outcome run_one(const hl_workload_ops *w, const char *variant, const drive_setting *over,
                       uint64_t seed, run_spec spec)
{
    outcome out = {0};
    int64_t params[16];
    drive_params(w, over, params);
    hl_allocator base = {0}, tracked = {0};
    corrupter bad;
    hl_allocator corrupting;
    hl_gc gc = {0};
    if (hl_allocator_open(&base, hl_allocator_find(spec.alloc_name)) != 0) {
        out.rc = -1;
        snprintf(out.error, sizeof out.error, "could not open %s", spec.alloc_name);
        return out;
    }
    corrupting = corrupter_wrap(&bad, &base, spec.corrupt_at);
    const hl_allocator *under = spec.corrupt_at ? &corrupting : &base;
    const hl_allocator *top = under;
    if (spec.tracked) {
        if (hl_tracker_wrap(&tracked, under) != 0) {
            hl_allocator_close(&base);
            out.rc = -1;
            snprintf(out.error, sizeof out.error, "could not open the tracker");
            return out;
        }
        top = &tracked;
    }
    if (hl_gc_open(&gc, hl_manual_collector(), top, NULL) != 0) {
        hl_allocator_close(&tracked);
        hl_allocator_close(&base);
        out.rc = -1;
        snprintf(out.error, sizeof out.error, "could not open the manual collector");
        return out;
    }
    int v = hl_workload_variant_index(w, variant);
    CHECK(v >= 0, "%s has no variant %s", w->name, variant);
    hl_workload_config cfg = {top, &gc, params, (size_t)(v < 0 ? 0 : v), seed, NULL, NULL, 0};
    out.ops = w->ops(&cfg);
    hl_error err = {{0}};
    void *state;
    out.rc = drive_run(w, &cfg, spec.batch, &state, &err);
    out.rc = drive_finish(w, state, out.rc, &out.res, &err);
    snprintf(out.error, sizeof out.error, "%s", err.msg);
    hl_gc_close(&gc);
    if (spec.tracked)
        out.counts = hl_tracker_read(&tracked);
    hl_allocator_close(&tracked);
    hl_allocator_close(&base);
    return out;
}

/* The run under pool, tracked: every allocator must match it. */
static outcome check_allocators(const hl_workload_ops *w, const char *variant,
                                const drive_setting *over, uint64_t expected_allocs)
{
    outcome first = {0};
    for (size_t a = 0; a < each_allocator_count; a++) {
        const char *name = each_allocators[a];
        outcome o = run_one(w, variant, over, 42, (run_spec){name, 1, 0, 0});
        CHECK(o.rc == 0, "%s/%s under %s failed: %s", w->name, variant, name, o.error);
        CHECK(o.res.ops == o.ops, "%s/%s under %s: %" PRIu64 " ops done, ops() says %" PRIu64,
              w->name, variant, name, o.res.ops, o.ops);
        CHECK(o.counts.live_bytes == 0 && o.counts.live_blocks == 0,
              "%s/%s under %s: %" PRIu64 " bytes in %" PRIu64 " blocks leaked", w->name, variant,
              name, o.counts.live_bytes, o.counts.live_blocks);
        CHECK(o.counts.frees == o.counts.allocs, "%s/%s under %s: %" PRIu64 " frees, %" PRIu64
              " allocations", w->name, variant, name, o.counts.frees, o.counts.allocs);
        if (expected_allocs != 0)
            CHECK(o.counts.allocs == expected_allocs, "%s/%s under %s: %" PRIu64 " allocations,"
                  " the design says %" PRIu64, w->name, variant, name, o.counts.allocs,
                  expected_allocs);
        if (a == 0)
            first = o;
        else
            CHECK(o.res.checksum == first.res.checksum, "%s/%s: checksum under %s %016" PRIx64
                  " != under %s %016" PRIx64, w->name, variant, name, o.res.checksum,
                  each_allocators[0], first.res.checksum);
    }
    /* Cutting the run into other steps changes nothing. */
    outcome cut = run_one(w, variant, over, 42, (run_spec){"pool", 0, 0, 777});
    CHECK(cut.rc == 0 && cut.res.checksum == first.res.checksum,
          "%s/%s: steps of 777 give checksum %016" PRIx64 " (rc %d: %s), not %016" PRIx64,
          w->name, variant, cut.res.checksum, cut.rc, cut.error, first.res.checksum);
    outcome other = run_one(w, variant, over, 43, (run_spec){"pool", 0, 0, 0});
    CHECK(other.res.checksum != first.res.checksum, "%s/%s: the seed does not change the checksum",
          w->name, variant);
    return first;
}

/* `threads` = 1, 2, 4 under glibc, tracked, give base's checksum and ops
 * and leave nothing live. */
static void check_threads(const hl_workload_ops *w, const char *variant, const drive_setting *over,
                          const outcome *base)
{
    static const int64_t counts[] = {1, 2, 4};
    for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
        drive_setting with[8];
        size_t n = 0;
        for (; over != NULL && over[n].name != NULL && n < 6; n++)
            with[n] = over[n];
        with[n++] = (drive_setting){"threads", counts[k]};
        with[n] = (drive_setting){NULL, 0};
        outcome o = run_one(w, variant, with, 42, (run_spec){"glibc", 1, 0, 0});
        CHECK(o.rc == 0, "%s/%s at %" PRId64 " threads failed: %s", w->name, variant, counts[k],
              o.error);
        CHECK(o.counts.live_bytes == 0 && o.counts.frees == o.counts.allocs,
              "%s/%s at %" PRId64 " threads: %" PRIu64 " bytes leaked, %" PRIu64 " frees of %"
              PRIu64 " allocations", w->name, variant, counts[k], o.counts.live_bytes,
              o.counts.frees, o.counts.allocs);
        CHECK(o.res.ops == base->res.ops && o.res.checksum == base->res.checksum,
              "%s/%s at %" PRId64 " threads: %" PRIu64 " ops, checksum %016" PRIx64
              "; 1 thread: %" PRIu64 ", %016" PRIx64, w->name, variant, counts[k], o.res.ops,
              o.res.checksum, base->res.ops, base->res.checksum);
        if (strcmp(w->name, "larson") == 0) {
            double remote = hl_stats_get(&o.res.figures, "remote_frees", -1);
            CHECK(counts[k] == 1 ? remote == 0 : remote > 0,
                  "larson at %" PRId64 " threads: %.0f remote frees", counts[k], remote);
        }
        /* Cut differently, threaded: still the same. */
        outcome cut = run_one(w, variant, with, 42, (run_spec){"glibc", 0, 0, 999});
        CHECK(cut.rc == 0 && cut.res.checksum == base->res.checksum,
              "%s/%s at %" PRId64 " threads in steps of 999: checksum %016" PRIx64 " (%s)",
              w->name, variant, counts[k], cut.res.checksum, cut.error);
    }
}

/* A corrupted live block must be reported as such. */
static void check_corruption(const hl_workload_ops *w, const char *variant,
                             const drive_setting *over,
                             uint64_t after)
{
    outcome o = run_one(w, variant, over, 42, (run_spec){"pool", 1, after, 0});
    CHECK(o.rc != 0 && strstr(o.error, "corrupted") != NULL,
          "%s/%s: a corrupted block went unnoticed (rc %d, '%s')", w->name, variant, o.rc,
          o.error);
    CHECK(o.counts.live_bytes == 0, "%s/%s: a failed run leaked %" PRIu64 " bytes", w->name,
          variant, o.counts.live_bytes);
}

static void test_larson(void)
{
    const hl_workload_ops *w = hl_larson_workload();
    /* 500 slots a thread, rounds of 5000: at 4 threads each does 10 rounds. */
    const drive_setting over[] = {{"ops", 100000}, {NULL, 0}};
    outcome base = check_allocators(w, "default", over, 500 + 100000);
    CHECK(hl_stats_get(&base.res.figures, "remote_frees", -1) == 0,
          "larson at 1 thread freed remotely");
    check_threads(w, "default", over, &base);
    check_corruption(w, "default", over, 20000);
}

static void test_xmalloc(void)
{
    const hl_workload_ops *w = hl_xmalloc_workload();
    const drive_setting over[] = {{"ops", 50000}, {"min", 8}, {"max", 300}, {NULL, 0}};
    outcome base = check_allocators(w, "default", over, 50000);
    check_threads(w, "default", over, &base);
    const drive_setting tiny_queue[] = {{"ops", 50000}, {"min", 8}, {"max", 300}, {"batch", 3},
                                  {"queue", 1}, {"threads", 4}, {NULL, 0}};
    outcome q = run_one(w, "default", tiny_queue, 42, (run_spec){"glibc", 0, 0, 0});
    CHECK(q.rc == 0 && q.res.checksum == base.res.checksum,
          "xmalloc with batches of 3 and a queue of 1: checksum %016" PRIx64 " (%s)",
          q.res.checksum, q.error);
    check_corruption(w, "default", over, 1000);
}

static void test_falseshare(void)
{
    const hl_workload_ops *w = hl_falseshare_workload();
    const drive_setting over[] = {{"ops", 200}, {"writes", 300}, {"size", 24}, {NULL, 0}};
    outcome thrash = check_allocators(w, "thrash", over, 200);
    outcome scratch = check_allocators(w, "scratch", over, 200 + 1);
    CHECK(thrash.res.checksum == scratch.res.checksum,
          "falseshare: scratch and thrash do different work (%016" PRIx64 " vs %016" PRIx64 ")",
          scratch.res.checksum, thrash.res.checksum);
    check_threads(w, "thrash", over, &thrash);
    check_threads(w, "scratch", over, &scratch);
    const drive_setting one_byte[] = {{"ops", 100}, {"writes", 1000}, {"size", 1}, {NULL, 0}};
    check_allocators(w, "scratch", one_byte, 100 + 1);
}

/* fragadv's live peak, from the design comment's formula. */
static uint64_t fragadv_expected_peak(int64_t phases, int64_t count, int64_t small, int64_t spacing,
                                      int64_t large)
{
    uint64_t groups = (uint64_t)((count + spacing - 1) / spacing);
    uint64_t survivors = 0, prev_large = 0, peak = 0;
    for (int64_t p = 0; p < phases; p++) {
        uint64_t s = (uint64_t)(small * (p + 1));
        if (survivors + prev_large + (uint64_t)count * s > peak)
            peak = survivors + prev_large + (uint64_t)count * s;
        survivors += groups * s;
        prev_large = ((uint64_t)count - groups) * s / (uint64_t)large * (uint64_t)large;
    }
    return peak;
}

static void test_fragadv(void)
{
    const hl_workload_ops *w = hl_fragadv_workload();
    /* A count that is no multiple of the spacing: the last group is short. */
    const drive_setting over[] = {{"count", 3001}, {NULL, 0}};
    int64_t params[16];
    drive_params(w, over, params);
    int64_t phases = params[hl_workload_param_index(w, "phases")];
    int64_t count = params[hl_workload_param_index(w, "count")];
    int64_t small = params[hl_workload_param_index(w, "small")];
    int64_t spacing = params[hl_workload_param_index(w, "spacing")];
    int64_t large = params[hl_workload_param_index(w, "large")];
    uint64_t groups = (uint64_t)((count + spacing - 1) / spacing), larges = 0;
    for (int64_t p = 0; p < phases; p++)
        larges += ((uint64_t)count - groups) * (uint64_t)(small * (p + 1)) / (uint64_t)large;
    outcome base = check_allocators(w, "default", over, (uint64_t)(phases * count) + larges);
    uint64_t want = fragadv_expected_peak(phases, count, small, spacing, large);
    for (size_t a = 0; a < each_allocator_count; a++) {
        outcome o = run_one(w, "default", over, 42, (run_spec){each_allocators[a], 1, 0, 0});
        CHECK(o.counts.live_peak == want, "fragadv under %s: live peak %" PRIu64 ", the design "
              "says %" PRIu64, each_allocators[a], o.counts.live_peak, want);
    }
    CHECK(hl_stats_get(&base.res.figures, "live_peak_design", -1) == (double)want,
          "fragadv's own live_peak_design %.0f != %" PRIu64,
          hl_stats_get(&base.res.figures, "live_peak_design", -1), want);
    CHECK(hl_stats_get(&base.res.figures, "survivors", -1) == (double)(groups * (uint64_t)phases),
          "fragadv: %.0f survivors", hl_stats_get(&base.res.figures, "survivors", -1));
    CHECK(hl_stats_get(&base.res.figures, "holes", -1) ==
              (double)(((uint64_t)count - groups) * (uint64_t)phases),
          "fragadv: %.0f holes", hl_stats_get(&base.res.figures, "holes", -1));
    /* Survivors of a pool cannot be packed better than their bytes allow. */
    CHECK(hl_stats_get(&base.res.figures, "survivor_pages", 0) >=
              hl_stats_get(&base.res.figures, "survivor_pages_min", 1),
          "fragadv: survivor pages below the packed minimum");
    check_corruption(w, "default", over, 5000);
}

static void test_mlarge(void)
{
    const hl_workload_ops *w = hl_mlarge_workload();
    const drive_setting over[] = {{"min_kib", 64}, {"max_kib", 200}, {"ops", 60}, {NULL, 0}};
    check_allocators(w, "default", over, 4 + 60);
    const drive_setting big[] = {{"ops", 20}, {"touches", 0}, {NULL, 0}};
    check_allocators(w, "default", big, 4 + 20);
    check_corruption(w, "default", over, 10);
    const drive_setting crowded[] = {{"min_kib", 1}, {"max_kib", 1}, {"touches", 200}, {NULL, 0}};
    outcome o = run_one(w, "default", crowded, 42, (run_spec){"pool", 0, 0, 0});
    CHECK(o.rc != 0, "mlarge accepted 200 touches in 1 KiB blocks");
}

/* ------------------------------------------------------------- crew -- */

#define CREW_OPS 1000000

typedef struct crew_probe {
    const hl_allocator *a; /* NULL: only look at the flag */
    int seen_shared[4];
} crew_probe;

/* Each worker records whether it sees the allocators shared, then (with an
 * allocator) does CREW_OPS allocations and frees of 16..256 bytes. */
static int crew_probe_job(void *ctx, unsigned worker, hl_error *err)
{
    (void)err;
    crew_probe *p = ctx;
    p->seen_shared[worker] = hl_allocator_threads_shared();
    if (p->a == NULL)
        return 0;
    for (uint32_t i = 0; i < CREW_OPS; i++) {
        size_t size = 16 + 16 * (i % 16);
        hl_free(p->a, hl_alloc(p->a, size), size);
    }
    return 0;
}

static void test_crew_shares(void)
{
    hl_error err = {{0}};
    hl_crew crew;
    crew_probe probe = {0};
    CHECK(!hl_allocator_threads_shared(), "crew: allocators shared before any crew");
    CHECK(hl_crew_start(&crew, "probe", 1, crew_probe_job, &probe, &err) == 0 &&
              hl_crew_run(&crew, &err) == 0, "crew of one: %s", err.msg);
    CHECK(!probe.seen_shared[0], "crew of one: it announced threads it never made");
    hl_crew_stop(&crew);
    CHECK(hl_crew_start(&crew, "probe", 3, crew_probe_job, &probe, &err) == 0 &&
              hl_crew_run(&crew, &err) == 0, "crew of three: %s", err.msg);
    CHECK(probe.seen_shared[0] && probe.seen_shared[1] && probe.seen_shared[2],
          "crew of three: workers saw shared %d %d %d, want 1 1 1", probe.seen_shared[0],
          probe.seen_shared[1], probe.seen_shared[2]);
    hl_crew_stop(&crew);
    CHECK(!hl_allocator_threads_shared(), "crew: allocators still shared after the crew stopped");

    /* Exact counts from two threads at once over glibc (thread-safe). */
    hl_allocator base = {0}, tracked = {0};
    if (hl_allocator_open(&base, hl_allocator_find("glibc")) != 0 ||
        hl_tracker_wrap(&tracked, &base) != 0) {
        CHECK(0, "crew: glibc with the tracker did not open");
        return;
    }
    probe.a = &tracked;
    CHECK(hl_crew_start(&crew, "probe", 2, crew_probe_job, &probe, &err) == 0 &&
              hl_crew_run(&crew, &err) == 0, "crew of two: %s", err.msg);
    hl_crew_stop(&crew);
    hl_tracker_counts c = hl_tracker_read(&tracked);
    uint64_t bytes = 0;
    for (uint32_t i = 0; i < CREW_OPS; i++)
        bytes += 16 + 16 * (i % 16);
    CHECK(c.allocs == 2 * CREW_OPS && c.frees == 2 * CREW_OPS && c.live_blocks == 0 &&
              c.live_bytes == 0 && c.bytes_allocated == 2 * bytes,
          "crew of two over the tracker: %" PRIu64 " allocs, %" PRIu64 " frees, %" PRIu64
          " live blocks, %" PRIu64 " live bytes, %" PRIu64 " bytes allocated; want %u, %u, 0, "
          "0, %" PRIu64, c.allocs, c.frees, c.live_blocks, c.live_bytes, c.bytes_allocated,
          2 * CREW_OPS, 2 * CREW_OPS, 2 * bytes);
    hl_allocator_close(&tracked);
    hl_allocator_close(&base);
    if (c.allocs == 2 * CREW_OPS && c.live_bytes == 0)
        printf("crew: announced to the allocators while it lives; a tracker under two threads "
               "counted %" PRIu64 " allocations exactly\n", c.allocs);
}

int main(int argc, char **argv)
{
    if (each_allocator_init(argc, argv, "test_workloads_classic", 0) != 0)
        return 2;
    test_larson();
    test_xmalloc();
    test_falseshare();
    test_fragadv();
    test_mlarge();
    if (!each_allocator_only) /* a child: its parent ran it */
        test_crew_shares();
    return each_allocator_finish(check_status("test_workloads_classic"));
}
