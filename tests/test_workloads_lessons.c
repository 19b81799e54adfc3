/*
 * test_workloads_lessons.c - the lesson workloads (ring, slots, trees) do
 * the work they claim and teach what they say.
 *
 * Each workload runs through the workload interface as the harness runs it
 * -- a collector opened over a tracked allocator, setup, step in batches
 * until ops() operations are done, finish, a full collection -- under every
 * collector that is built (placeholders whose unavailable() says why are
 * skipped) and the pool, arena and glibc allocators.  Checked:
 *   - every cell of a workload ends with the same checksum: the same work
 *     under every strategy, and (by design) under both variants of ring and
 *     of slots, which send the same messages / hold the same values;
 *   - ops performed = ops(); nothing leaks (tracker live bytes 0 after
 *     finish and a full collection); every object is one allocation;
 *   - ring: the ring variant allocates 0 objects per message after setup,
 *     the alloc variant exactly 1;
 *   - slots: a dict instance takes more bytes than a slotted one, in the
 *     workload's own figure and in the tracker's live peak, and the figure
 *     is the tracker's live bytes of the population / objects (absent
 *     where the tracker sees nothing);
 *   - trees: at depth 10 every binarytrees check equals the Benchmarks
 *     Game's reference output exactly, gcbench's counts equal GCBench's
 *     formulas, and ops() equals the nodes the collector allocated;
 *   - the checksum does not depend on how the run is cut into steps.
 */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "tests/check.h"
#include "tests/drive.h"
#include "tests/each_allocator.h"
#include "workloads/workload.h"


typedef struct outcome {
    int rc;
    char error[256];
    uint64_t ops;        /* what ops() promised */
    hl_workload_result res;
    hl_tracker_counts counts; /* after finish and a full collection */
    uint64_t live_before_setup, live_after_run; /* tracker live bytes */
    hl_gc_stats gc;
} outcome;



/* One cell, as the harness's memory pass runs it, with steps of `batch`. */
static outcome run_cell(const hl_workload_ops *w, const char *variant, const hl_collector_ops *c,
                        const char *alloc_name, const drive_setting *over, uint64_t seed,
                        uint64_t batch)
{
    outcome out = {0};
    int64_t params[16];
    drive_params(w, over, params);
    hl_allocator base = {0}, tracked = {0};
    hl_gc gc = {0};
    hl_error err = {{0}};
    if (hl_allocator_open(&base, hl_allocator_find(alloc_name)) != 0 ||
        hl_tracker_wrap(&tracked, &base) != 0 || hl_gc_open(&gc, c, &tracked, NULL) != 0) {
        out.rc = -1;
        snprintf(out.error, sizeof out.error, "could not open %s over %s", c->name, alloc_name);
        hl_allocator_close(&tracked);
        hl_allocator_close(&base);
        return out;
    }
    int v = hl_workload_variant_index(w, variant);
    hl_workload_config cfg = {&tracked, &gc, params, (size_t)(v < 0 ? 0 : v), seed,
                              (c->flags & HL_GC_OWN_HEAP) ? NULL : &tracked, NULL, 0};
    out.ops = w->ops(&cfg);
    void *state;
    out.live_before_setup = hl_tracker_read(&tracked).live_bytes;
    out.rc = drive_run(w, &cfg, batch, &state, &err);
    out.live_after_run = hl_tracker_read(&tracked).live_bytes;
    out.rc = drive_finish(w, state, out.rc, &out.res, &err);
    hl_collect(&gc, -1);
    gc.ops->stats(gc.ctx, &out.gc);
    out.counts = hl_tracker_read(&tracked);
    hl_gc_close(&gc);
    hl_allocator_close(&tracked);
    hl_allocator_close(&base);
    snprintf(out.error, sizeof out.error, "%s", err.msg);
    return out;
}

static int own_heap(const hl_collector_ops *c)
{
    return (c->flags & HL_GC_OWN_HEAP) != 0;
}

static double figure(const outcome *o, const char *name)
{
    return hl_stats_get(&o->res.figures, name, NAN);
}

/* Checks every cell shares: it ran, did ops() operations, matched the
 * reference checksum (set by the first cell), and left nothing behind. */
static void check_cell(const char *what, const hl_collector_ops *c, const char *alloc,
                       const outcome *o, uint64_t *reference, int *have_reference)
{
    CHECK(o->rc == 0, "%s under %s/%s failed: %s", what, c->name, alloc, o->error);
    if (o->rc != 0)
        return;
    CHECK(o->res.ops == o->ops, "%s under %s/%s: %" PRIu64 " ops, ops() said %" PRIu64, what,
          c->name, alloc, o->res.ops, o->ops);
    if (!*have_reference) {
        *reference = o->res.checksum;
        *have_reference = 1;
    }
    CHECK(o->res.checksum == *reference, "%s under %s/%s: checksum %016" PRIx64 " != %016" PRIx64,
          what, c->name, alloc, o->res.checksum, *reference);
    CHECK(o->gc.objects_freed == o->gc.objects_allocated || own_heap(c),
          "%s under %s/%s: %" PRIu64 " objects allocated, %" PRIu64 " freed", what, c->name, alloc,
          o->gc.objects_allocated, o->gc.objects_freed);
    if (own_heap(c))
        return; /* the tracker cannot see a collector's own heap */
    CHECK(o->counts.live_bytes == 0, "%s under %s/%s: %" PRIu64 " bytes leaked", what, c->name,
          alloc, o->counts.live_bytes);
    CHECK(o->counts.allocs == o->gc.objects_allocated, "%s under %s/%s: %" PRIu64 " allocations for %"
          PRIu64 " objects", what, c->name, alloc, o->counts.allocs, o->gc.objects_allocated);
}

/* The collectors built so far. */
static size_t available_collectors(const hl_collector_ops **out)
{
    size_t count = 0;
    for (size_t i = 0; i < hl_collector_count(); i++) {
        const hl_collector_ops *c = hl_collector_at(i);
        const char *why = c->unavailable ? c->unavailable() : NULL;
        if (why == NULL)
            out[count++] = c;
        else
            printf("test_workloads_lessons: skipping collector %s: %s\n", c->name, why);
    }
    return count;
}

/* ------------------------------------------------------------------ ring -- */

static void test_ring(const hl_collector_ops *const *cs, size_t ncs)
{
    const hl_workload_ops *w = hl_ring_workload();
    const int64_t messages = 20000, capacity = 64;
    const drive_setting over[] = {{"messages", messages}, {"capacity", capacity}, {NULL, 0}};
    static const char *const variants[] = {"ring", "alloc"};
    uint64_t reference = 0;
    int have = 0;
    for (size_t ci = 0; ci < ncs; ci++)
        for (size_t ai = 0; ai < each_allocator_count; ai++)
            for (int v = 0; v < 2; v++) {
                char what[64];
                snprintf(what, sizeof what, "ring/%s", variants[v]);
                outcome o = run_cell(w, variants[v], cs[ci], each_allocators[ai], over, 11, 1000);
                check_cell(what, cs[ci], each_allocators[ai], &o, &reference, &have);
                if (o.rc != 0)
                    continue;
                double per_message = figure(&o, "allocs_per_message");
                double expect_objects = v == 0 ? (double)capacity : (double)messages;
                CHECK(per_message == (v == 0 ? 0.0 : 1.0), "%s under %s/%s: %g allocations per "
                      "message", what, cs[ci]->name, each_allocators[ai], per_message);
                CHECK((double)o.gc.objects_allocated == expect_objects, "%s under %s/%s: %" PRIu64
                      " objects allocated, expected %g", what, cs[ci]->name, each_allocators[ai],
                      o.gc.objects_allocated, expect_objects);
                double depth = figure(&o, "max_queue_depth");
                CHECK(depth > 1 && depth <= (double)capacity, "%s: max queue depth %g outside (1, %"
                      PRId64 "]", what, depth, capacity);
            }
}

/* ----------------------------------------------------------------- slots -- */

static void test_slots(const hl_collector_ops *const *cs, size_t ncs)
{
    const hl_workload_ops *w = hl_slots_workload();
    const int64_t objects = 2000;
    const drive_setting over[] = {{"objects", objects}, {"attrs", 5}, {"accesses", 20000},
                            {NULL, 0}};
    uint64_t reference = 0;
    int have = 0;
    for (size_t ci = 0; ci < ncs; ci++)
        for (size_t ai = 0; ai < each_allocator_count; ai++) {
            outcome d = run_cell(w, "dict", cs[ci], each_allocators[ai], over, 5, 1000);
            outcome s = run_cell(w, "slots", cs[ci], each_allocators[ai], over, 5, 1000);
            check_cell("slots/dict", cs[ci], each_allocators[ai], &d, &reference, &have);
            check_cell("slots/slots", cs[ci], each_allocators[ai], &s, &reference, &have);
            if (d.rc != 0 || s.rc != 0)
                continue;
            double bd = figure(&d, "bytes_per_object"), bs = figure(&s, "bytes_per_object");
            if (own_heap(cs[ci])) {
                /* The tracker sees nothing: the figure is absent, not computed. */
                CHECK(isnan(bd) && isnan(bs), "%s/%s: bytes per object %g and %g without a "
                      "tracker", cs[ci]->name, each_allocators[ai], bd, bs);
                continue;
            }
            CHECK(bd > bs, "dict bytes per object %g <= slots' %g", bd, bs);
            /* Measured, not computed: the bytes the tracker saw the
             * population take (accesses allocate nothing), per instance. */
            for (int k = 0; k < 2; k++) {
                const outcome *o = k == 0 ? &d : &s;
                double measured = (double)(o->live_after_run - o->live_before_setup) /
                                  (double)objects;
                CHECK(figure(o, "bytes_per_object") == measured, "%s/%s/%s: bytes per object "
                      "%g, the tracker saw %g", k == 0 ? "dict" : "slots", cs[ci]->name,
                      each_allocators[ai], figure(o, "bytes_per_object"), measured);
            }
            CHECK(figure(&d, "attributes_per_object") == 5 && figure(&s, "attributes_per_object") == 5,
                  "attributes per object is not 5");
            CHECK(d.gc.objects_allocated == 2 * (uint64_t)objects &&
                  s.gc.objects_allocated == (uint64_t)objects,
                  "objects allocated: dict %" PRIu64 ", slots %" PRIu64 " for %" PRId64 " instances",
                  d.gc.objects_allocated, s.gc.objects_allocated, objects);
            if (!own_heap(cs[ci]))
                CHECK(d.counts.live_peak > s.counts.live_peak && s.counts.live_peak >=
                      (uint64_t)(bs * (double)objects), "%s/%s: live peak dict %" PRIu64
                      ", slots %" PRIu64 " (slots' own objects alone take %g)", cs[ci]->name,
                      each_allocators[ai], d.counts.live_peak, s.counts.live_peak,
                      bs * (double)objects);
        }
}

/* ----------------------------------------------------------------- trees -- */

static uint64_t tree_size(int d)
{
    return (UINT64_C(2) << d) - 1;
}

/* binarytrees at N = 10: the Benchmarks Game's reference output. */
static const struct {
    const char *name;
    double value;
} binarytrees_reference[] = {
    {"stretch_check", 4095},                      /* stretch tree of depth 11 */
    {"trees_d4", 1024},  {"check_d4", 31744},
    {"trees_d6", 256},   {"check_d6", 32512},
    {"trees_d8", 64},    {"check_d8", 32704},
    {"trees_d10", 16},   {"check_d10", 32752},
    {"long_lived_check", 2047},                   /* long lived tree of depth 10 */
};

static void test_trees(const hl_collector_ops *const *cs, size_t ncs)
{
    const hl_workload_ops *w = hl_trees_workload();
    const drive_setting over[] = {{"depth", 10}, {NULL, 0}};
    int64_t params[4];
    drive_params(w, over, params);

    /* ops() from the parameters alone: every node the reference output
     * counts, and GCBench's formulas. */
    hl_workload_config cfg = {NULL, NULL, params, 0, 1, NULL, NULL, 0};
    uint64_t bt_nodes = 4095 + 2047 + 31744 + 32512 + 32704 + 32752;
    CHECK(w->ops(&cfg) == bt_nodes, "binarytrees ops() %" PRIu64 " != %" PRIu64, w->ops(&cfg),
          bt_nodes);
    uint64_t gcb_nodes = tree_size(12) + tree_size(10), gcb_trees_d4 = 0;
    for (int d = 4; d <= 10; d += 2) {
        uint64_t iters = 2 * tree_size(12) / tree_size(d);
        gcb_nodes += 2 * iters * tree_size(d);
        if (d == 4)
            gcb_trees_d4 = 2 * iters;
    }
    cfg.variant = (size_t)hl_workload_variant_index(w, "gcbench");
    CHECK(w->ops(&cfg) == gcb_nodes, "gcbench ops() %" PRIu64 " != %" PRIu64, w->ops(&cfg),
          gcb_nodes);

    static const char *const variants[] = {"binarytrees", "gcbench"};
    for (int v = 0; v < 2; v++) {
        uint64_t reference = 0;
        int have = 0;
        char what[64];
        snprintf(what, sizeof what, "trees/%s", variants[v]);
        for (size_t ci = 0; ci < ncs; ci++)
            for (size_t ai = 0; ai < each_allocator_count; ai++) {
                outcome o = run_cell(w, variants[v], cs[ci], each_allocators[ai], over, 3, 1024);
                check_cell(what, cs[ci], each_allocators[ai], &o, &reference, &have);
                if (o.rc != 0)
                    continue;
                /* Nodes, plus GCBench's one array. */
                uint64_t objects = o.ops + (v == 1);
                CHECK(o.gc.objects_allocated == objects, "%s under %s/%s: %" PRIu64 " objects "
                      "allocated for %" PRIu64 " nodes", what, cs[ci]->name, each_allocators[ai],
                      o.gc.objects_allocated, o.ops);
                if (v == 0) {
                    for (size_t i = 0; i < sizeof binarytrees_reference /
                                               sizeof binarytrees_reference[0]; i++)
                        CHECK(figure(&o, binarytrees_reference[i].name) ==
                              binarytrees_reference[i].value, "%s under %s/%s: %s = %g, the "
                              "reference output says %g", what, cs[ci]->name, each_allocators[ai],
                              binarytrees_reference[i].name,
                              figure(&o, binarytrees_reference[i].name),
                              binarytrees_reference[i].value);
                } else {
                    CHECK(figure(&o, "stretch_check") == (double)tree_size(12) &&
                          figure(&o, "long_lived_check") == (double)tree_size(10) &&
                          figure(&o, "trees_d4") == (double)gcb_trees_d4,
                          "gcbench under %s/%s: stretch %g, long-lived %g, trees of depth 4 %g",
                          cs[ci]->name, each_allocators[ai], figure(&o, "stretch_check"),
                          figure(&o, "long_lived_check"), figure(&o, "trees_d4"));
                }
            }
        /* The same run cut into other steps: the same checksum. */
        if (ncs > 0 && have) {
            outcome o = run_cell(w, variants[v], cs[0], "pool", over, 3, 7);
            check_cell(what, cs[0], "pool (steps of 7)", &o, &reference, &have);
        }
    }
}

int main(int argc, char **argv)
{
    if (each_allocator_init(argc, argv, "test_workloads_lessons", 0) != 0)
        return 2;
    const hl_collector_ops *cs[8];
    size_t ncs = available_collectors(cs);
    if (ncs == 0)
        printf("test_workloads_lessons: no collector is built yet; checking ops() only\n");
    test_ring(cs, ncs);
    test_slots(cs, ncs);
    test_trees(cs, ncs);
    return each_allocator_finish(check_status("test_workloads_lessons"));
}
