/*
 * test_workloads_objects.c - the object-model workloads teach what they
 * claim: cycles, cache and genlist.
 *
 * Each workload runs through its method table, as the harness runs it: a
 * collector opened over a tracked allocator, setup, step until ops() are
 * done, a look at live bytes, finish, a full collection, and whatever is
 * still allocated counts as leaked.  Every collector that is built here
 * takes part (one that answers unavailable() is skipped), and the
 * in-process allocators (pool, arena, the C library's malloc) under one of
 * them.  The checks:
 *
 *   all       the same seed gives the same checksum under every collector,
 *             allocator and variant that promises it; ops are as asked.
 *   cycles    leaked bytes are > 0 under refcount and grow with the work;
 *             0 under manual, cycle and marksweep; by default the workload
 *             collects nothing itself and the cycle collector's thresholds
 *             do the work; with collect=1 the explicit collections free
 *             exactly the objects built; the CPython gc.collect() shape
 *             (one batch, automatic collection off) reports its cost; the
 *             -fin variants compute their shape's checksum and report
 *             finalizer calls, never more than the nodes; under manual,
 *             which finalizes on free, one call per node passes
 *             and a second call per node fails the run.
 *   cache     unbounded's live bytes grow with requests; lru's stay within
 *             capacity times the largest entry plus the table; weak entries
 *             vanish; nothing leaks.
 *   genlist   list's peak grows linearly with N, generator's stays flat;
 *             its peak_live_bytes figure is the tracker's live_peak;
 *             nothing leaks.
 *
 * The sizes are small: the whole test runs in well under a second in a
 * release build.
 */
#include <inttypes.h>
#include <string.h>

#include "tests/check.h"
#include "tests/drive.h"
#include "tests/each_allocator.h"
#include "workloads/workload.h"

#define MAX_OVERRIDES 8
#define MAX_PARAMS 16

/* A parameter set: the workload's --quick values with some overridden. */
typedef struct params {
    const char *name[MAX_OVERRIDES];
    int64_t value[MAX_OVERRIDES];
    int n;
} params;

typedef struct outcome {
    int rc;
    char error[256];
    hl_workload_result res;
    uint64_t live_before_finish; /* tracker live bytes with the workload's live set */
    uint64_t live_peak;
    long long leaked;            /* after finish and a full collection */
    int own_heap;                /* the tracker sees nothing (tracing) */
    hl_gc_stats gc;
} outcome;

static double figure(const outcome *o, const char *name)
{
    return hl_stats_get(&o->res.figures, name, -1);
}

/* Run w's `variant` under collector c and allocator with `p`, tracked. */
static outcome run_ops(const hl_workload_ops *w, const char *variant, const hl_collector_ops *c,
                       const char *allocator, params p, uint64_t seed, const hl_gc_config *gcfg)
{
    outcome out = {0};
    int64_t values[MAX_PARAMS];
    for (size_t i = 0; i < w->nparams; i++)
        values[i] = w->params[i].quick;
    for (int i = 0; i < p.n; i++) {
        int k = hl_workload_param_index(w, p.name[i]);
        if (k < 0) {
            out.rc = -1;
            snprintf(out.error, sizeof out.error, "no parameter %s", p.name[i]);
            return out;
        }
        values[k] = p.value[i];
    }
    const char *collector = c->name;
    out.own_heap = (c->flags & HL_GC_OWN_HEAP) != 0;
    hl_allocator base = {0}, tracked = {0};
    hl_error err = {{0}};
    hl_gc gc = {0};
    if (hl_allocator_open(&base, hl_allocator_find(allocator)) != 0 ||
        hl_tracker_wrap(&tracked, &base) != 0 || hl_gc_open(&gc, c, &tracked, gcfg) != 0) {
        out.rc = -1;
        snprintf(out.error, sizeof out.error, "cannot open %s over %s", collector, allocator);
        hl_allocator_close(&tracked);
        hl_allocator_close(&base);
        return out;
    }
    hl_workload_config cfg = {&tracked, &gc, values,
                              (size_t)hl_workload_variant_index(w, variant), seed,
                              out.own_heap ? NULL : &tracked, NULL, 0};
    void *state;
    out.rc = drive_run(w, &cfg, 1024, &state, &err);
    out.live_before_finish = hl_tracker_read(&tracked).live_bytes;
    out.rc = drive_finish(w, state, out.rc, &out.res, &err);
    hl_collect(&gc, -1);
    gc.ops->stats(gc.ctx, &out.gc);
    hl_tracker_counts counts = hl_tracker_read(&tracked);
    out.live_peak = counts.live_peak;
    out.leaked = out.own_heap ? out.gc.own_live_bytes : (long long)counts.live_bytes;
    snprintf(out.error, sizeof out.error, "%s", err.msg);
    hl_gc_close(&gc);
    hl_allocator_close(&tracked);
    hl_allocator_close(&base);
    return out;
}

/* Run w's `variant` under the registered collector called `collector`. */
static outcome run(const hl_workload_ops *w, const char *variant, const char *collector,
                   const char *allocator, params p, uint64_t seed, const hl_gc_config *gcfg)
{
    return run_ops(w, variant, hl_collector_find(collector), allocator, p, seed, gcfg);
}

/* The cycles workload's finalizer oracle must catch a collector that
 * finalizes an object twice.  The planted collector is manual (whose
 * free_object finalizes once, manual.c) with `extra_finalize_calls` more
 * calls before it: 0 is the real collector, 1 the bug.  The cycles
 * finalizer does not use its gc argument, so it gets NULL. */
static int extra_finalize_calls;
static void (*manual_free_object)(void *, hl_object *);

static void finalizing_free_object(void *ctx, hl_object *o)
{
    for (int i = 0; i < extra_finalize_calls; i++)
        if (o->type != NULL && o->type->finalize != NULL)
            o->type->finalize(NULL, o);
    manual_free_object(ctx, o);
}

static const hl_collector_ops *finalizing_manual(void)
{
    static hl_collector_ops ops;
    ops = *hl_manual_collector();
    ops.name = "manual+extra-finalize";
    manual_free_object = ops.free_object;
    ops.free_object = finalizing_free_object;
    return &ops;
}

/* ------------------------------------------------------------ collectors -- */

static const char *collectors[8];
static int ncollectors;
static const char *usual; /* the collector the allocator sweep runs under */

static void find_collectors(void)
{
    for (size_t i = 0; i < hl_collector_count() && ncollectors < 8; i++) {
        const hl_collector_ops *c = hl_collector_at(i);
        if (c->unavailable != NULL && c->unavailable() != NULL) {
            printf("collector %s skipped: %s\n", c->name, c->unavailable());
            continue;
        }
        collectors[ncollectors++] = c->name;
        if (!(c->flags & HL_GC_OWN_HEAP) && (usual == NULL || strcmp(c->name, "refcount") == 0))
            usual = c->name;
    }
}

static int available(const char *collector)
{
    for (int i = 0; i < ncollectors; i++)
        if (strcmp(collectors[i], collector) == 0)
            return 1;
    return 0;
}

/* Whether garbage without cycles dies the moment its last reference goes,
 * so that live bytes are exactly the live set. */
static int frees_promptly(const char *collector)
{
    return strcmp(collector, "manual") == 0 || strcmp(collector, "refcount") == 0 ||
           strcmp(collector, "cycle") == 0;
}

/* Leaks under a collector with its own heap (Boehm): the tracker sees
 * nothing, and what a full collection keeps is whatever the conservative
 * scan of this test's own stack frames and registers reaches, where one
 * stale word can keep a whole cache table or list.  So cache and genlist
 * check leaks only where the heap is ours; cycles, whose structures are
 * small and separate, bound what Boehm keeps loosely. */

static int is(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

static const hl_collector_ops *ops_of(const char *collector)
{
    return hl_collector_find(collector);
}

/* Checksum bookkeeping: the first run of a group sets the reference. */
typedef struct reference {
    int set;
    uint64_t checksum;
    char who[96];
} reference;

static void same_checksum(reference *ref, const outcome *o, const char *what)
{
    if (!ref->set) {
        ref->set = 1;
        ref->checksum = o->res.checksum;
        snprintf(ref->who, sizeof ref->who, "%s", what);
        return;
    }
    CHECK(o->res.checksum == ref->checksum, "%s: checksum %016" PRIx64 " != %s's %016" PRIx64,
          what, o->res.checksum, ref->who, ref->checksum);
}


/* ---------------------------------------------------------------- cycles -- */

static void test_cycles(void)
{
    const hl_workload_ops *w = hl_cycles_workload();
    static const char *const variants[] = {"pairs",     "rings",     "dlist",     "tree",
                                           "pairs-fin", "rings-fin", "dlist-fin", "tree-fin"};
    static const unsigned nodes[] = {2, 8, 16, 15, 2, 8, 16, 15};
    const size_t nshapes = 4;
    const int64_t ops = 2000, batch = 100;
    params small = {{"ops", "batch", "collect"}, {ops, batch, 1}, 3};
    params twice = {{"ops", "batch", "collect"}, {2 * ops, batch, 1}, 3};
    params automatic = {{"ops", "batch"}, {ops, batch}, 2};
    reference refs[4] = {{0}}; /* per shape: with and without finalizers alike */
    for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
        reference *ref = &refs[v % nshapes];
        char what[96];
        for (int i = 0; i < ncollectors; i++) {
            const char *c = collectors[i];
            outcome o = run(w, variants[v], c, "pool", small, 7, NULL);
            snprintf(what, sizeof what, "cycles/%s under %s", variants[v], c);
            CHECK(o.rc == 0, "%s failed: %s", what, o.error);
            if (o.rc != 0)
                continue;
            CHECK(o.res.ops == (uint64_t)ops, "%s: %" PRIu64 " ops", what, o.res.ops);
            same_checksum(ref, &o, what);
            uint64_t objects = (uint64_t)ops * nodes[v];
            CHECK(figure(&o, "objects") == (double)objects, "%s: %g objects, expected %" PRIu64,
                  what, figure(&o, "objects"), objects);
            if (is(c, "refcount")) {
                outcome o2 = run(w, variants[v], c, "pool", twice, 7, NULL);
                CHECK(o.leaked > 0, "%s: refcount leaked nothing", what);
                CHECK(o2.leaked >= 2 * o.leaked - o.leaked / 20,
                      "%s: leaked bytes do not grow with the work (%lld, then %lld for twice "
                      "the structures)", what, o.leaked, o2.leaked);
            } else if (ops_of(c)->flags & HL_GC_OWN_HEAP) {
                /* A conservative collector may keep a structure a stale
                 * stack word points at; nothing more. */
                CHECK(o.leaked >= 0 && (uint64_t)o.leaked <= objects * 64 / 100,
                      "%s: %lld bytes still reachable", what, o.leaked);
            } else {
                CHECK(o.leaked == 0, "%s: %lld bytes leaked", what, o.leaked);
            }
            if (ops_of(c)->flags & HL_GC_FREES_CYCLES) {
                CHECK(figure(&o, "collections") == (double)(ops / batch),
                      "%s: %g explicit collections, expected %" PRId64, what,
                      figure(&o, "collections"), ops / batch);
                if (!(ops_of(c)->flags & HL_GC_OWN_HEAP))
                    CHECK(figure(&o, "collect_objects") == (double)objects,
                          "%s: the collections freed %g objects, expected %" PRIu64, what,
                          figure(&o, "collect_objects"), objects);
                CHECK(figure(&o, "collect_ns_per_object") > 0, "%s: no collect_ns_per_object",
                      what);
            } else {
                CHECK(figure(&o, "collections") < 0, "%s: collected without reclaiming cycles",
                      what);
            }
            double fin = figure(&o, "finalized");
            if (v >= nshapes)
                CHECK(fin >= 0 && fin <= (double)objects, "%s: %g finalizer calls for %" PRIu64
                      " nodes", what, fin, objects);
            else
                CHECK(fin < 0, "%s: finalizer calls reported without finalizers", what);
            /* By default the workload leaves collecting to the collector. */
            outcome a = run(w, variants[v], c, "pool", automatic, 7, NULL);
            CHECK(a.rc == 0, "%s, collect=0, failed: %s", what, a.error);
            same_checksum(ref, &a, what);
            CHECK(figure(&a, "collections") < 0, "%s, collect=0: the workload collected", what);
            if (is(c, "cycle"))
                CHECK(a.gc.collections[0] > 0 && a.leaked == 0,
                      "%s, collect=0: %" PRIu64 " automatic collections, %lld bytes leaked",
                      what, a.gc.collections[0], a.leaked);
        }
        for (size_t a = 0; usual != NULL && a < each_allocator_count; a++) {
            outcome o = run(w, variants[v], usual, each_allocators[a], small, 7, NULL);
            snprintf(what, sizeof what, "cycles/%s under %s on %s", variants[v], usual,
                     each_allocators[a]);
            CHECK(o.rc == 0, "%s failed: %s", what, o.error);
            same_checksum(ref, &o, what);
        }
        if (usual != NULL) {
            outcome other = run(w, variants[v], usual, "pool", small, 8, NULL);
            CHECK(other.res.checksum != ref->checksum, "cycles/%s: the seed does not change the "
                  "checksum", variants[v]);
        }
    }
    /* The finalizer oracle: under manual (which finalizes on free) one call
     * per node is counted and passes; a second call per node fails the
     * run. */
    for (size_t v = nshapes; v < sizeof variants / sizeof variants[0]; v++) {
        uint64_t objects = (uint64_t)ops * nodes[v];
        extra_finalize_calls = 0;
        outcome o = run_ops(w, variants[v], finalizing_manual(), "pool", small, 7, NULL);
        CHECK(o.rc == 0 && figure(&o, "finalized") == (double)objects,
              "cycles/%s, finalized once per node: rc %d (%s), %g calls for %" PRIu64 " nodes",
              variants[v], o.rc, o.error, figure(&o, "finalized"), objects);
        extra_finalize_calls = 1;
        o = run_ops(w, variants[v], finalizing_manual(), "pool", small, 7, NULL);
        CHECK(o.rc != 0 && strstr(o.error, "more than once") != NULL,
              "cycles/%s, finalized twice per node: rc %d (%s)", variants[v], o.rc, o.error);
        extra_finalize_calls = 0;
        /* The collectors that find dead cycles themselves, with a
         * collection after every batch (collect=1), finalize each node once
         * before the workload finishes. */
        static const char *const finders[] = {"cycle", "marksweep"};
        for (size_t k = 0; k < sizeof finders / sizeof finders[0]; k++) {
            if (!available(finders[k]))
                continue;
            o = run(w, variants[v], finders[k], "pool", small, 7, NULL);
            CHECK(o.rc == 0 && figure(&o, "finalized") == (double)objects,
                  "cycles/%s under %s: rc %d (%s), %g finalizer calls for %" PRIu64 " nodes",
                  variants[v], finders[k], o.rc, o.error, figure(&o, "finalized"), objects);
        }
    }
    if (available("cycle")) {
        /* CPython's measurement in small: one batch of 2-cycles, automatic
         * collection off, one timed gc.collect(). */
        hl_gc_config off = hl_gc_default_config();
        off.threshold[0] = off.threshold[1] = off.threshold[2] = 0;
        params one = {{"ops", "batch", "collect"}, {20000, 20000, 1}, 3};
        outcome o = run(w, "pairs", "cycle", "pool", one, 7, &off);
        CHECK(o.rc == 0, "cycles/pairs as one batch failed: %s", o.error);
        CHECK(figure(&o, "collections") == 1 && figure(&o, "collect_objects") == 40000,
              "one batch: %g collections freed %g objects, expected 1 and 40000",
              figure(&o, "collections"), figure(&o, "collect_objects"));
        CHECK(figure(&o, "collect_ns_per_object") > 0 && figure(&o, "build_ns_per_object") > 0,
              "one batch: no cost per object reported");
        CHECK(o.gc.collections[0] == 0 && o.gc.collections[1] == 0,
              "one batch: automatic collections ran with thresholds 0 (%" PRIu64 ", %" PRIu64
              ")", o.gc.collections[0], o.gc.collections[1]);
        printf("cycles/pairs, one batch of 40000 objects under cycle: collect %.1f ns/object, "
               "build %.1f ns/object\n", figure(&o, "collect_ns_per_object"),
               figure(&o, "build_ns_per_object"));
    }
}

/* ----------------------------------------------------------------- cache -- */

static void test_cache(void)
{
    const hl_workload_ops *w = hl_cache_workload();
    static const char *const variants[] = {"unbounded", "lru", "weak"};
    const int64_t ops = 20000, keys = 1 << 16, capacity = 200;
    params p = {{"ops", "keys", "capacity"}, {ops, keys, capacity}, 3};
    reference ref = {0}; /* one checksum for every variant: the values follow from the keys */
    char what[96];
    for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
        for (int i = 0; i < ncollectors; i++) {
            const char *c = collectors[i];
            outcome o = run(w, variants[v], c, "pool", p, 7, NULL);
            snprintf(what, sizeof what, "cache/%s under %s", variants[v], c);
            CHECK(o.rc == 0, "%s failed: %s", what, o.error);
            if (o.rc != 0)
                continue;
            same_checksum(&ref, &o, what);
            CHECK(o.res.ops == (uint64_t)ops, "%s: %" PRIu64 " ops", what, o.res.ops);
            CHECK(figure(&o, "hits") + figure(&o, "misses") == (double)ops,
                  "%s: %g hits + %g misses != %" PRId64 " requests", what, figure(&o, "hits"),
                  figure(&o, "misses"), ops);
            CHECK(figure(&o, "hits") > 0, "%s: no hits", what);
            if (!o.own_heap) /* see "Leaks under a collector with its own heap" */
                CHECK(o.leaked == 0, "%s: %lld bytes leaked", what, o.leaked);
            if (v == 1)
                CHECK(figure(&o, "evictions") > 0 && figure(&o, "entries") == (double)capacity,
                      "%s: %g evictions, %g entries", what, figure(&o, "evictions"),
                      figure(&o, "entries"));
            /* Under a counting collector a weak entry dies the moment the
             * program lets go of its value. */
            if (v == 2 && !(ops_of(c)->flags & HL_GC_OWN_HEAP) && !is(c, "marksweep"))
                CHECK(figure(&o, "vanished") > 0, "%s: no weak entry vanished", what);
            /* A weak entry leaves the table only through its callback (the
             * workload fails a lookup or finish that meets a dead entry), so
             * every miss's entry is still there or vanished. */
            if (v == 2)
                CHECK(figure(&o, "vanished") > 0 &&
                      figure(&o, "entries") == figure(&o, "misses") - figure(&o, "vanished"),
                      "%s: %g entries, %g misses, %g vanished", what, figure(&o, "entries"),
                      figure(&o, "misses"), figure(&o, "vanished"));
        }
        for (size_t a = 0; usual != NULL && a < each_allocator_count; a++) {
            outcome o = run(w, variants[v], usual, each_allocators[a], p, 7, NULL);
            snprintf(what, sizeof what, "cache/%s under %s on %s", variants[v], usual,
                     each_allocators[a]);
            CHECK(o.rc == 0, "%s failed: %s", what, o.error);
            same_checksum(&ref, &o, what);
        }
    }
    if (usual == NULL)
        return;
    /* Live bytes against requests: 5,000 then 40,000. */
    params few = p, many = p;
    few.value[0] = 5000;
    many.value[0] = 40000;
    outcome u1 = run(w, "unbounded", usual, "pool", few, 7, NULL);
    outcome u2 = run(w, "unbounded", usual, "pool", many, 7, NULL);
    CHECK(u2.live_before_finish > u1.live_before_finish + u1.live_before_finish / 2,
          "cache/unbounded: live bytes do not grow with requests (%" PRIu64 ", then %" PRIu64
          ")", u1.live_before_finish, u2.live_before_finish);
    outcome l1 = run(w, "lru", usual, "pool", few, 7, NULL);
    outcome l2 = run(w, "lru", usual, "pool", many, 7, NULL);
    const uint64_t prefix = 64; /* room for any collector's per-object header */
    uint64_t bound = (uint64_t)capacity * (hl_object_size(0, 256) + prefix) +
                     hl_object_size((uint32_t)capacity, (uint32_t)capacity * 24) +
                     hl_object_size(0, 256 * 4) + 2 * prefix;
    CHECK(l1.live_before_finish <= bound && l2.live_before_finish <= bound &&
              l2.live_peak <= bound,
          "cache/lru: live bytes %" PRIu64 " and %" PRIu64 " (peak %" PRIu64 ") exceed the "
          "bound %" PRIu64, l1.live_before_finish, l2.live_before_finish, l2.live_peak, bound);
    outcome k1 = run(w, "weak", usual, "pool", few, 7, NULL);
    outcome k2 = run(w, "weak", usual, "pool", many, 7, NULL);
    CHECK(k2.live_before_finish < 2 * k1.live_before_finish + 4096,
          "cache/weak: live bytes grow with requests (%" PRIu64 ", then %" PRIu64 ")",
          k1.live_before_finish, k2.live_before_finish);
    printf("cache live bytes after 5000 / 40000 requests under %s: unbounded %" PRIu64 " / %"
           PRIu64 ", lru %" PRIu64 " / %" PRIu64 ", weak %" PRIu64 " / %" PRIu64 "\n", usual,
           u1.live_before_finish, u2.live_before_finish, l1.live_before_finish,
           l2.live_before_finish, k1.live_before_finish, k2.live_before_finish);
}

/* --------------------------------------------------------------- genlist -- */

static void test_genlist(void)
{
    const hl_workload_ops *w = hl_genlist_workload();
    static const char *const variants[] = {"list", "generator"};
    const int64_t n = 5000;
    params small = {{"items"}, {n}, 1}, large = {{"items"}, {10 * n}, 1};
    reference ref = {0}; /* list and generator consume the same items */
    uint64_t big_peak[2][8] = {{0}};
    char what[96];
    for (size_t v = 0; v < 2; v++) {
        for (int i = 0; i < ncollectors; i++) {
            const char *c = collectors[i];
            outcome o = run(w, variants[v], c, "pool", small, 7, NULL);
            snprintf(what, sizeof what, "genlist/%s under %s", variants[v], c);
            CHECK(o.rc == 0, "%s failed: %s", what, o.error);
            if (o.rc != 0)
                continue;
            same_checksum(&ref, &o, what);
            CHECK(o.res.ops == (uint64_t)n, "%s: %" PRIu64 " ops", what, o.res.ops);
            double expect = v == 0 ? (double)n : 1;
            CHECK(figure(&o, "peak_items_alive") == expect, "%s: peak %g items alive, expected %g",
                  what, figure(&o, "peak_items_alive"), expect);
            /* The peak in bytes is the tracker's measurement, the row's
             * live_peak, never a size computed from the items; absent
             * where the tracker sees nothing. */
            double peak = figure(&o, "peak_live_bytes");
            CHECK(o.own_heap ? peak == -1 : peak == (double)o.live_peak,
                  "%s: wl_peak_live_bytes %g, the tracker's live_peak %" PRIu64 "%s", what, peak,
                  o.live_peak, o.own_heap ? " (own heap: should be absent)" : "");
            if (o.own_heap) /* see "Leaks under a collector with its own heap" */
                continue;
            CHECK(o.leaked == 0, "%s: %lld bytes leaked", what, o.leaked);
            outcome big = run(w, variants[v], c, "pool", large, 7, NULL);
            CHECK(big.rc == 0, "%s with 10x items failed: %s", what, big.error);
            big_peak[v][i] = big.live_peak;
            if (!frees_promptly(c))
                continue; /* garbage waits for a collection: the peak is the heap policy's */
            if (v == 0)
                CHECK(big.live_peak > 8 * o.live_peak,
                      "%s: the list's peak does not grow with N (%" PRIu64 ", then %" PRIu64
                      " for 10x the items)", what, o.live_peak, big.live_peak);
            else
                CHECK(big.live_peak < 2 * o.live_peak,
                      "%s: the generator's peak grows with N (%" PRIu64 ", then %" PRIu64
                      " for 10x the items)", what, o.live_peak, big.live_peak);
            if (is(c, usual))
                printf("genlist/%s under %s: live peak %" PRIu64 " for %" PRId64 " items, %"
                       PRIu64 " for %" PRId64 "\n", variants[v], c, o.live_peak, n,
                       big.live_peak, 10 * n);
        }
        for (size_t a = 0; usual != NULL && a < each_allocator_count; a++) {
            outcome o = run(w, variants[v], usual, each_allocators[a], small, 7, NULL);
            snprintf(what, sizeof what, "genlist/%s under %s on %s", variants[v], usual,
                     each_allocators[a]);
            CHECK(o.rc == 0, "%s failed: %s", what, o.error);
            same_checksum(&ref, &o, what);
        }
    }
    /* Whatever the collector's heap policy, materialising costs more. */
    for (int i = 0; i < ncollectors; i++)
        CHECK(big_peak[0][i] == 0 || big_peak[0][i] > 2 * big_peak[1][i],
              "genlist under %s: list's peak %" PRIu64 " is not well above the generator's %"
              PRIu64, collectors[i], big_peak[0][i], big_peak[1][i]);
}

int main(int argc, char **argv)
{
    if (each_allocator_init(argc, argv, "test_workloads_objects", 0) != 0)
        return 2;
    find_collectors();
    if (ncollectors == 0) {
        printf("test_workloads_objects: no collector is built yet; nothing to run\n");
        return 0;
    }
    test_cycles();
    test_cache();
    test_genlist();
    return each_allocator_finish(check_status("test_workloads_objects"));
}
