/*
 * test_boehm.c - the tracing collectors: `tracing` (Boehm GC) and
 * `marksweep` (heaplab's own), through the collector method table only.
 *
 * usage: test_boehm            (ctest: collectors.boehm)
 *
 * Both: a rooted graph survives collections (automatic and explicit) with
 * its data intact; dropped 2-cycles are reclaimed, and many rounds of
 * building and dropping them do not grow the live heap; a weak reference
 * reads NULL once its target was dropped and collected, and its callback
 * runs once (none when the weak reference dies with its target); every
 * collection is counted and timed.
 *
 * tracing: Boehm is conservative (a stale word on the stack may keep an
 * object), so the objects a check expects to die are made and dropped in
 * helper frames and the stack is scrubbed before collecting; checks on
 * Boehm's live bytes allow a little slack.  The test's own lists of
 * objects live in untracked memory, which Boehm does not scan, exactly as
 * a workload's do.
 *
 * marksweep: exact, over the pool, arena and glibc allocators wrapped in the
 * tracker: after everything is dropped and collected the tracker's live
 * bytes are 0, and every count is checked to the object.
 *
 * Both, finalizers (last section): hl_type.finalize and legacy_del run once
 * per dead object, before anything of the dead set is freed and inside the
 * collection's pause; a resurrected object survives with what it reaches
 * and is not finalized again.
 *
 * tracing only (last): objects without reference slots are atomic blocks
 * (a pointer in their data keeps nothing alive) and come zeroed; the root
 * count packed in the 8-byte header survives 70000 retains, and the
 * finalized flag beside it neither disturbs the count nor is lost by it;
 * an object an earlier instance left alive is counted by no later census
 * and its finalizer does not run there.
 */
#include <inttypes.h>
#include <stdint.h>
#include <string.h>

#include "allocators/allocator.h"
#include "collectors/collector.h"
#include "tests/check.h"
#include "tests/each_allocator.h"

#include <gc/gc.h>
#include <gc/gc_inline.h>
#include <gc/gc_mark.h>

static const hl_type node_type = {.name = "node"};

#define NOINLINE __attribute__((noinline))

/* Untracked scratch arrays of object pointers, invisible to Boehm. */
static hl_object **slots_new(size_t n)
{
    return hl_untracked_alloc(n * sizeof(hl_object *));
}

static void slots_free(hl_object **s, size_t n)
{
    hl_untracked_free(s, n * sizeof(hl_object *));
}

/* Overwrite dead stack below the caller, so Boehm finds no stale pointer
 * to an object a check expects to die. */
static NOINLINE void scrub_stack(void)
{
    volatile unsigned char junk[64 * 1024];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = 0;
}

/* Collect with the stack scrubbed first.  A macro, not a function: the
 * scrub must start right below the frame of the test itself, or the new
 * frame's unwritten slots would keep what an earlier call left there. */
#define collect_clean(gc) (scrub_stack(), hl_collect((gc), -1))

static hl_gc_stats stats_of(const hl_gc *gc)
{
    hl_gc_stats s;
    memset(&s, 0, sizeof s);
    gc->ops->stats(gc->ctx, &s);
    return s;
}

static uint64_t *node_words(hl_object *o)
{
    return hl_object_data(o);
}

/* ------------------------------------------------------------ graphs -- */

enum { LIST_DATA = 32 };

/* A list of n nodes, each with refs[0] = next, refs[1] = a back edge to
 * the head (a cycle through every node) and data words i, ~i, ...
 * Returns the head, held by one workload reference; the rest are held only
 * by the list. */
static NOINLINE hl_object *list_build(const hl_gc *gc, size_t n)
{
    hl_object *head = hl_new(gc, &node_type, 2, LIST_DATA);
    if (head == NULL)
        return NULL;
    hl_object *tail = head;
    node_words(head)[0] = 0;
    node_words(head)[1] = ~(uint64_t)0;
    for (size_t i = 1; i < n; i++) {
        hl_object *o = hl_new(gc, &node_type, 2, LIST_DATA);
        if (o == NULL)
            return head;
        node_words(o)[0] = i;
        node_words(o)[1] = ~(uint64_t)i;
        hl_store(gc, o, 1, head);
        hl_store(gc, tail, 0, o);
        hl_release(gc, o);
        tail = o;
    }
    return head;
}

/* Nodes counted along refs[0] whose data and back edge are intact. */
static NOINLINE size_t list_intact(hl_object *head)
{
    size_t i = 0;
    for (hl_object *o = head; o != NULL; o = o->refs[0], i++) {
        if (node_words(o)[0] != i || node_words(o)[1] != ~(uint64_t)i)
            return i;
        if (i > 0 && o->refs[1] != head)
            return i;
    }
    return i;
}

/* Make `count` garbage objects (enough to set off automatic collections). */
static NOINLINE void make_garbage(const hl_gc *gc, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        hl_object *o = hl_new(gc, &node_type, 1, 48);
        if (o == NULL)
            return;
        hl_release(gc, o);
    }
}

/* n 2-cycles (a <-> b), each held by the workload through `a` in held[]. */
static NOINLINE void cycles_build(const hl_gc *gc, hl_object **held, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        hl_object *a = hl_new(gc, &node_type, 1, 16);
        hl_object *b = hl_new(gc, &node_type, 1, 16);
        if (a == NULL || b == NULL)
            return;
        hl_store(gc, a, 0, b);
        hl_store(gc, b, 0, a);
        hl_release(gc, b);
        held[i] = a;
    }
}

static NOINLINE void cycles_drop(const hl_gc *gc, hl_object **held, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (held[i] != NULL)
            hl_release(gc, held[i]);
        held[i] = NULL;
    }
}

/* ---------------------------------------------------- weak references -- */

typedef struct callback_log {
    int runs;
    int target_was_null; /* every run saw the reference already cleared */
    const hl_gc *gc;
} callback_log;

static void on_weak_death(hl_object *w, void *arg)
{
    callback_log *log = arg;
    log->runs++;
    if (hl_weak_get(log->gc, w) != NULL)
        log->target_was_null = 0;
}

enum { WEAK_TARGETS = 64 };

/* WEAK_TARGETS rooted targets, each with three weak references with a
 * callback: weak[i], kept; doomed[i], dropped together with its target;
 * and one dropped at once, while its target lives. */
static NOINLINE void weak_build(const hl_gc *gc, hl_object **targets, hl_object **weak,
                                hl_object **doomed, callback_log *log)
{
    for (size_t i = 0; i < WEAK_TARGETS; i++) {
        targets[i] = hl_new(gc, &node_type, 0, 8);
        if (targets[i] == NULL)
            return;
        node_words(targets[i])[0] = i;
        weak[i] = hl_weak_new(gc, targets[i], on_weak_death, log);
        doomed[i] = hl_weak_new(gc, targets[i], on_weak_death, log);
        hl_object *early = hl_weak_new(gc, targets[i], on_weak_death, log);
        if (early != NULL)
            hl_release(gc, early);
    }
}

/* Weak references still reading their live targets. */
static NOINLINE size_t weak_count_live(const hl_gc *gc, hl_object **targets, hl_object **weak)
{
    size_t n = 0;
    for (size_t i = 0; i < WEAK_TARGETS; i++)
        n += weak[i] != NULL && hl_weak_get(gc, weak[i]) == targets[i] &&
             node_words(targets[i])[0] == i;
    return n;
}

static NOINLINE void weak_drop_targets(const hl_gc *gc, hl_object **targets,
                                       hl_object **doomed)
{
    for (size_t i = 0; i < WEAK_TARGETS; i++) {
        if (targets[i] != NULL)
            hl_release(gc, targets[i]);
        if (doomed[i] != NULL)
            hl_release(gc, doomed[i]);
        targets[i] = doomed[i] = NULL;
    }
}

static NOINLINE size_t weak_count_cleared(const hl_gc *gc, hl_object **weak)
{
    size_t n = 0;
    for (size_t i = 0; i < WEAK_TARGETS; i++)
        n += weak[i] != NULL && hl_weak_get(gc, weak[i]) == NULL;
    return n;
}

/* The weak reference part shared by both collectors.  `slack`: targets a
 * conservative collector may fail to free. */
static void check_weakrefs(const hl_gc *gc, size_t slack)
{
    hl_object **targets = slots_new(WEAK_TARGETS), **weak = slots_new(WEAK_TARGETS);
    hl_object **doomed = slots_new(WEAK_TARGETS);
    callback_log log = {.runs = 0, .target_was_null = 1, .gc = gc};
    weak_build(gc, targets, weak, doomed, &log);
    collect_clean(gc);
    CHECK(weak_count_live(gc, targets, weak) == WEAK_TARGETS,
          "%s: a weak reference lost a live target", gc->ops->name);
    CHECK(log.runs == 0, "%s: %d callbacks ran for live targets", gc->ops->name, log.runs);

    weak_drop_targets(gc, targets, doomed);
    collect_clean(gc);
    collect_clean(gc); /* Boehm: callbacks run after the collection that found them */
    size_t cleared = weak_count_cleared(gc, weak);
    CHECK(cleared + slack >= WEAK_TARGETS, "%s: only %zu of %d weak references cleared",
          gc->ops->name, cleared, WEAK_TARGETS);
    /* A doomed reference that a conservative collector still sees as
     * reachable also calls back (its target is gone): up to `slack` more. */
    CHECK(log.runs >= (int)cleared && log.runs <= (int)(cleared + slack),
          "%s: %d callbacks ran for %zu cleared references", gc->ops->name, log.runs, cleared);
    CHECK(log.target_was_null, "%s: a callback saw its weak reference uncleared",
          gc->ops->name);
    hl_gc_stats s = stats_of(gc);
    CHECK(s.callbacks_run == (uint64_t)log.runs, "%s: callbacks_run %llu, ran %d",
          gc->ops->name, (unsigned long long)s.callbacks_run, log.runs);

    for (size_t i = 0; i < WEAK_TARGETS; i++)
        if (weak[i] != NULL)
            hl_release(gc, weak[i]);
    int runs = log.runs;
    collect_clean(gc);
    CHECK(log.runs == runs, "%s: callbacks ran again", gc->ops->name);

    /* A weak reference to nothing reads NULL. */
    hl_object *w = hl_weak_new(gc, NULL, NULL, NULL);
    CHECK(w != NULL && hl_weak_get(gc, w) == NULL, "%s: weak reference to NULL",
          gc->ops->name);
    if (w != NULL)
        hl_release(gc, w);
    slots_free(targets, WEAK_TARGETS);
    slots_free(weak, WEAK_TARGETS);
    slots_free(doomed, WEAK_TARGETS);
}

/* The pause log agrees with the collection count. */
static void check_pauses(const hl_gc *gc, uint64_t at_least)
{
    hl_gc_stats s = stats_of(gc);
    CHECK(s.collections[0] >= at_least, "%s: %llu collections, expected at least %llu",
          gc->ops->name, (unsigned long long)s.collections[0], (unsigned long long)at_least);
    CHECK(s.pauses == s.collections[0], "%s: %llu pauses timed for %llu collections",
          gc->ops->name, (unsigned long long)s.pauses, (unsigned long long)s.collections[0]);
    CHECK(s.pauses == 0 || (s.pause_total_ns > 0 && s.pause_max_ns > 0 &&
                            s.pause_p50_ns >= 0 && s.pause_p99_ns >= s.pause_p50_ns &&
                            s.pause_max_ns >= s.pause_p99_ns),
          "%s: pause figures total %.0f max %.0f p50 %.0f p99 %.0f", gc->ops->name,
          s.pause_total_ns, s.pause_max_ns, s.pause_p50_ns, s.pause_p99_ns);
}

/* ------------------------------------------------------------ tracing -- */

enum { LIST_N = 20000, CYCLES_N = 20000, ROUNDS = 40 };

static void test_tracing(void)
{
    const hl_collector_ops *ops = hl_collector_find("tracing");
    CHECK(ops != NULL && ops->unavailable != NULL && ops->unavailable() == NULL,
          "tracing is not available");
    if (ops == NULL || ops->unavailable == NULL || ops->unavailable() != NULL)
        return;
    CHECK((ops->flags & HL_GC_OWN_HEAP) && (ops->flags & HL_GC_FREES_CYCLES),
          "tracing flags %#x", ops->flags);
    hl_allocator base = {0};
    CHECK(hl_allocator_open(&base, hl_allocator_find("pool")) == 0, "pool failed to open");
    hl_gc gc = {0};
    CHECK(hl_gc_open(&gc, ops, &base, NULL) == 0, "tracing failed to open");
    if (gc.ops == NULL)
        return;
    hl_gc other = {0};
    CHECK(hl_gc_open(&other, ops, &base, NULL) != 0, "a second Boehm instance opened");

    /* Baseline: what this instance holds before any test object. */
    hl_collect(&gc, -1);
    hl_gc_stats s0 = stats_of(&gc);
    CHECK(s0.own_live_bytes == 0, "fresh instance holds %lld bytes",
          (long long)s0.own_live_bytes);
    CHECK(s0.own_heap_bytes > 0, "Boehm heap size %lld", (long long)s0.own_heap_bytes);

    /* A rooted list survives explicit and automatic collections intact. */
    hl_object **root = slots_new(1);
    root[0] = list_build(&gc, LIST_N);
    CHECK(root[0] != NULL, "list_build failed");
    make_garbage(&gc, 400000); /* ~40 MB of garbage: Boehm collects by itself */
    collect_clean(&gc);
    hl_gc_stats s1 = stats_of(&gc);
    CHECK(s1.collections[0] >= 3, "only %llu collections",
          (unsigned long long)s1.collections[0]);
    CHECK(list_intact(root[0]) == LIST_N, "list damaged: %zu of %d nodes intact",
          list_intact(root[0]), LIST_N);
    CHECK(s1.objects_allocated == LIST_N + 400000u, "objects_allocated %llu",
          (unsigned long long)s1.objects_allocated);
    CHECK(s1.objects_freed + 100 >= 400000u && s1.objects_freed <= 400000u,
          "objects_freed %llu of 400000 garbage", (unsigned long long)s1.objects_freed);
    CHECK(s1.collected[0] == s1.objects_freed, "collected %llu != freed %llu",
          (unsigned long long)s1.collected[0], (unsigned long long)s1.objects_freed);
    int64_t list_bytes = s1.own_live_bytes;
    CHECK(list_bytes >= (int64_t)LIST_N * (int64_t)hl_object_size(2, LIST_DATA),
          "live bytes %lld below the list's", (long long)list_bytes);
    check_pauses(&gc, 3);

    /* Dropping the list (a cycle through every node) gives its bytes back. */
    hl_release(&gc, root[0]);
    root[0] = NULL;
    collect_clean(&gc);
    hl_gc_stats s2 = stats_of(&gc);
    CHECK(s2.own_live_bytes >= 0 && s2.own_live_bytes < list_bytes / 10,
          "dropped list: live bytes %lld (were %lld)", (long long)s2.own_live_bytes,
          (long long)list_bytes);

    /* Rounds of 2-cycles: reclaimed each time, the live heap does not grow. */
    hl_object **held = slots_new(CYCLES_N);
    int64_t live_round1 = -1, live_max = 0, built_max = 0;
    for (int round = 0; round < ROUNDS; round++) {
        cycles_build(&gc, held, CYCLES_N);
        collect_clean(&gc);
        hl_gc_stats b = stats_of(&gc);
        if (b.own_live_bytes > built_max)
            built_max = b.own_live_bytes;
        cycles_drop(&gc, held, CYCLES_N);
        collect_clean(&gc);
        hl_gc_stats d = stats_of(&gc);
        if (round == 0)
            live_round1 = d.own_live_bytes;
        if (d.own_live_bytes > live_max)
            live_max = d.own_live_bytes;
    }
    int64_t cycle_bytes = (int64_t)CYCLES_N * 2 * (int64_t)hl_object_size(1, 16);
    CHECK(built_max >= cycle_bytes, "built cycles: live bytes %lld < %lld",
          (long long)built_max, (long long)cycle_bytes);
    CHECK(live_max < cycle_bytes / 10, "dropped cycles: live bytes up to %lld",
          (long long)live_max);
    CHECK(live_max <= live_round1 + 64 * 1024, "live bytes grew from %lld to %lld",
          (long long)live_round1, (long long)live_max);
    hl_gc_stats s3 = stats_of(&gc);
    CHECK(s3.own_heap_bytes < 256ll << 20, "Boehm heap grew to %lld bytes",
          (long long)s3.own_heap_bytes);
    slots_free(held, CYCLES_N);
    slots_free(root, 1);

    check_weakrefs(&gc, 2);
    check_pauses(&gc, 3 + 2 * ROUNDS);
    hl_gc_close(&gc);

    /* Boehm outlives its instances: a second one starts from zero. */
    CHECK(hl_gc_open(&gc, ops, &base, NULL) == 0, "tracing failed to reopen");
    if (gc.ops != NULL) {
        hl_collect(&gc, -1);
        hl_gc_stats s4 = stats_of(&gc);
        CHECK(s4.objects_allocated == 0 && s4.own_live_bytes == 0 && s4.callbacks_run == 0,
              "reopened instance: %llu objects, %lld live bytes",
              (unsigned long long)s4.objects_allocated, (long long)s4.own_live_bytes);
        hl_gc_close(&gc);
    }
    hl_allocator_close(&base);
}

/* ---------------------------------------------------------- marksweep -- */

/* A marksweep instance over `name`, wrapped in the tracker. */
typedef struct ms_rig {
    hl_allocator base, tracked;
    hl_gc gc;
} ms_rig;

static int rig_open(ms_rig *r, const char *alloc_name)
{
    memset(r, 0, sizeof *r);
    const hl_allocator_ops *a = hl_allocator_find(alloc_name);
    CHECK(a != NULL, "no allocator %s", alloc_name);
    if (a == NULL || hl_allocator_open(&r->base, a) != 0)
        return -1;
    if (hl_tracker_wrap(&r->tracked, &r->base) != 0) {
        hl_allocator_close(&r->base);
        return -1;
    }
    if (hl_gc_open(&r->gc, hl_collector_find("marksweep"), &r->tracked, NULL) != 0) {
        hl_allocator_close(&r->tracked);
        hl_allocator_close(&r->base);
        return -1;
    }
    return 0;
}

/* Close the collector (which frees what is left) and check nothing leaked. */
static void rig_close(ms_rig *r, const char *alloc_name)
{
    hl_gc_close(&r->gc);
    hl_tracker_counts c = hl_tracker_read(&r->tracked);
    CHECK(c.live_bytes == 0 && c.live_blocks == 0,
          "marksweep/%s: %llu bytes in %llu blocks left after close", alloc_name,
          (unsigned long long)c.live_bytes, (unsigned long long)c.live_blocks);
    hl_allocator_close(&r->tracked);
    hl_allocator_close(&r->base);
}

static hl_tracker_counts counts(const ms_rig *r)
{
    return hl_tracker_read(&r->tracked);
}

/* A parent with `width` fields, each a child with a data word: marking it
 * pushes far more than the first mark stack holds. */
static hl_object *wide_build(const hl_gc *gc, uint32_t width)
{
    hl_object *parent = hl_new(gc, &node_type, width, 0);
    if (parent == NULL)
        return NULL;
    for (uint32_t i = 0; i < width; i++) {
        hl_object *c = hl_new(gc, &node_type, 1, 8);
        if (c == NULL)
            break;
        node_words(c)[0] = i;
        hl_store(gc, c, 0, parent);
        hl_store(gc, parent, i, c);
        hl_release(gc, c);
    }
    return parent;
}

static int wide_intact(hl_object *parent, uint32_t width)
{
    for (uint32_t i = 0; i < width; i++)
        if (parent->refs[i] == NULL || node_words(parent->refs[i])[0] != i)
            return 0;
    return 1;
}

static void test_marksweep_on(const char *alloc_name)
{
    ms_rig r;
    if (rig_open(&r, alloc_name) != 0) {
        CHECK(0, "marksweep over %s failed to open", alloc_name);
        return;
    }
    const hl_gc *gc = &r.gc;
    CHECK(gc->ops->flags == (HL_GC_FREES_CYCLES | HL_GC_FINALIZES), "marksweep flags %#x",
          gc->ops->flags);

    /* A rooted list (one big cycle) survives, exactly. */
    hl_object *head = list_build(gc, LIST_N);
    hl_collect(gc, -1);
    CHECK(list_intact(head) == LIST_N, "marksweep/%s: list damaged", alloc_name);
    CHECK(counts(&r).live_blocks == LIST_N, "marksweep/%s: %llu blocks live, want %d",
          alloc_name, (unsigned long long)counts(&r).live_blocks, LIST_N);
    hl_gc_stats s = stats_of(gc);
    CHECK(s.collections[0] >= 1 && s.collected[0] == 0 && s.objects_freed == 0 &&
              s.objects_allocated == LIST_N,
          "marksweep/%s: after keeping the list: %llu collections, %llu collected",
          alloc_name, (unsigned long long)s.collections[0],
          (unsigned long long)s.collected[0]);

    /* Garbage sets off the 2x trigger by itself; the heap stays near it. */
    uint64_t live_before = counts(&r).live_bytes;
    make_garbage(gc, 200000);
    s = stats_of(gc);
    CHECK(s.collections[0] >= 3, "marksweep/%s: only %llu collections from 200000 objects",
          alloc_name, (unsigned long long)s.collections[0]);
    hl_tracker_counts c = counts(&r);
    uint64_t bound = 2 * live_before + (2u << 20);
    CHECK(c.live_peak <= bound, "marksweep/%s: live peak %llu above %llu", alloc_name,
          (unsigned long long)c.live_peak, (unsigned long long)bound);
    CHECK(list_intact(head) == LIST_N, "marksweep/%s: list damaged by automatic collections",
          alloc_name);
    hl_collect(gc, -1);
    CHECK(counts(&r).live_bytes == live_before, "marksweep/%s: %llu live bytes, want %llu",
          alloc_name, (unsigned long long)counts(&r).live_bytes,
          (unsigned long long)live_before);
    s = stats_of(gc);
    CHECK(s.collected[0] == 200000 && s.objects_freed == 200000,
          "marksweep/%s: collected %llu of 200000", alloc_name,
          (unsigned long long)s.collected[0]);

    /* Dropping the list frees all of it. */
    hl_release(gc, head);
    hl_collect(gc, -1);
    CHECK(counts(&r).live_bytes == 0, "marksweep/%s: %llu bytes live after dropping the list",
          alloc_name, (unsigned long long)counts(&r).live_bytes);

    /* Wide fan-out: the mark stack grows. */
    enum { WIDE = 50000 };
    hl_object *wide = wide_build(gc, WIDE);
    hl_collect(gc, -1);
    CHECK(wide != NULL && wide_intact(wide, WIDE), "marksweep/%s: wide object damaged",
          alloc_name);
    CHECK(counts(&r).live_blocks == WIDE + 1, "marksweep/%s: wide: %llu blocks", alloc_name,
          (unsigned long long)counts(&r).live_blocks);
    if (wide != NULL)
        hl_release(gc, wide);

    /* Rounds of 2-cycles: each round's are freed, to the object. */
    hl_object **held = slots_new(CYCLES_N);
    for (int round = 0; round < 10; round++) {
        uint64_t freed_before = stats_of(gc).collected[0];
        cycles_build(gc, held, CYCLES_N);
        hl_collect(gc, -1);
        uint64_t freed_wide = round == 0 ? WIDE + 1 : 0;
        CHECK(counts(&r).live_blocks == 2 * CYCLES_N, "marksweep/%s: round %d: %llu blocks",
              alloc_name, round, (unsigned long long)counts(&r).live_blocks);
        cycles_drop(gc, held, CYCLES_N);
        hl_collect(gc, -1);
        CHECK(counts(&r).live_bytes == 0, "marksweep/%s: round %d: %llu bytes survive",
              alloc_name, round, (unsigned long long)counts(&r).live_bytes);
        CHECK(stats_of(gc).collected[0] - freed_before == 2 * CYCLES_N + freed_wide,
              "marksweep/%s: round %d: collected %llu", alloc_name, round,
              (unsigned long long)(stats_of(gc).collected[0] - freed_before));
    }
    slots_free(held, CYCLES_N);

    /* Weak references, with exact counts: the kept and the doomed ones are
     * cleared, only the kept ones call back. */
    uint64_t cleared_before = stats_of(gc).weakrefs_cleared;
    check_weakrefs(gc, 0);
    s = stats_of(gc);
    CHECK(s.weakrefs_cleared - cleared_before == 2 * WEAK_TARGETS,
          "marksweep/%s: %llu weak references cleared, want %d", alloc_name,
          (unsigned long long)(s.weakrefs_cleared - cleared_before), 2 * WEAK_TARGETS);
    CHECK(s.callbacks_run == WEAK_TARGETS, "marksweep/%s: %llu callbacks", alloc_name,
          (unsigned long long)s.callbacks_run);
    hl_collect(gc, -1);
    CHECK(counts(&r).live_bytes == 0, "marksweep/%s: %llu bytes after the weak references",
          alloc_name, (unsigned long long)counts(&r).live_bytes);

    check_pauses(gc, 20);
    s = stats_of(gc);
    CHECK(s.objects_allocated == s.objects_freed, "marksweep/%s: %llu allocated, %llu freed",
          alloc_name, (unsigned long long)s.objects_allocated,
          (unsigned long long)s.objects_freed);
    CHECK(s.own_live_bytes == -1 && s.own_heap_bytes == -1,
          "marksweep/%s: own-heap figures should be unknown", alloc_name);

    /* Objects still alive at close are freed by fini. */
    callback_log unused = {.runs = 0, .target_was_null = 1, .gc = gc};
    hl_object *kept = list_build(gc, 1000);
    hl_object *w = hl_weak_new(gc, kept, on_weak_death, &unused);
    CHECK(w != NULL && hl_weak_get(gc, w) == kept, "marksweep/%s: weak_get", alloc_name);
    rig_close(&r, alloc_name);
    CHECK(unused.runs == 0, "marksweep/%s: fini ran %d callbacks", alloc_name, unused.runs);
}

/* -------------------------------------------------------- finalizers -- */

/* PEP 442 finalizers (hl_type.finalize) and legacy ones (legacy_del) under
 * both tracing collectors: each runs once per object, on a dead set that
 * is still intact (a finalizer reads its dead peer), and an object its
 * finalizer resurrects survives with what it reaches, and later dies
 * without being finalized again.  Boehm may keep an object a stale stack
 * word reaches, so its counts allow FIN_SLACK; double finalization is
 * checked exactly by the log of finalized addresses (no finalizing object
 * is allocated after the first round, so no address may appear twice). */

enum { FIN_PAIRS = 1000, FIN_RESURRECT = 100, FIN_LEGACY = 1000, FIN_SLACK = 64 };
#define FIN_COOKIE 0x5eedf17a1u

typedef struct fin_data {
    uint64_t cookie;
    uint32_t calls;     /* finalize + legacy_del calls on this object */
    uint32_t resurrect; /* the finalizer retains it (once) */
} fin_data;

typedef struct fin_log {
    hl_object **seen; /* every finalized object, in call order (untracked) */
    size_t nseen;
    hl_object **boat; /* objects their finalizer resurrected (untracked) */
    size_t nboat;
    size_t finalize_calls, legacy_calls, bad_peer;
    uint64_t pauses_seen; /* the most pauses stats() gave inside a finalizer */
} fin_log;

static fin_log fin; /* the finalizers' only way to report */

static fin_data *fin_data_of(hl_object *o)
{
    return hl_object_data(o);
}

static void fin_record(const hl_gc *gc, hl_object *o)
{
    fin_data *d = fin_data_of(o);
    d->calls++;
    if (fin.nseen < 8) { /* stats() may walk the heap: a few samples suffice */
        hl_gc_stats st = stats_of(gc);
        if (st.pauses > fin.pauses_seen)
            fin.pauses_seen = st.pauses;
    }
    if (fin.nseen < 2 * FIN_PAIRS + FIN_LEGACY + FIN_RESURRECT)
        fin.seen[fin.nseen++] = o;
    if (o->nrefs > 0 && o->refs[0] != NULL && fin_data_of(o->refs[0])->cookie != FIN_COOKIE)
        fin.bad_peer++;
    if (d->resurrect) {
        d->resurrect = 0;
        hl_retain(gc, o);
        fin.boat[fin.nboat++] = o;
    }
}

static void fin_finalize(const hl_gc *gc, hl_object *o)
{
    fin.finalize_calls++;
    fin_record(gc, o);
}

static void fin_legacy(const hl_gc *gc, hl_object *o)
{
    fin.legacy_calls++;
    fin_record(gc, o);
}

static const hl_type fin_type = {.name = "finalized", .finalize = fin_finalize};
static const hl_type legacy_type = {.name = "legacy", .legacy_del = fin_legacy};

static NOINLINE hl_object *fin_new(const hl_gc *gc, const hl_type *t, uint32_t nrefs)
{
    hl_object *o = hl_new(gc, t, nrefs, sizeof(fin_data));
    if (o != NULL)
        *fin_data_of(o) = (fin_data){.cookie = FIN_COOKIE};
    return o;
}

/* FIN_PAIRS dropped 2-cycles of finalizing objects (the first
 * FIN_RESURRECT of them resurrect their first object, which reaches its
 * peer) and FIN_LEGACY dropped objects with a legacy finalizer. */
static NOINLINE void fin_build_and_drop(const hl_gc *gc)
{
    for (size_t i = 0; i < FIN_PAIRS; i++) {
        hl_object *a = fin_new(gc, &fin_type, 1), *b = fin_new(gc, &fin_type, 1);
        if (a == NULL || b == NULL)
            return;
        hl_store(gc, a, 0, b);
        hl_store(gc, b, 0, a);
        fin_data_of(a)->resurrect = i < FIN_RESURRECT;
        hl_release(gc, a);
        hl_release(gc, b);
    }
    for (size_t i = 0; i < FIN_LEGACY; i++) {
        hl_object *o = fin_new(gc, &legacy_type, 0);
        if (o != NULL)
            hl_release(gc, o);
    }
}

/* Resurrected objects and their peers as the finalizers left them: intact,
 * each finalized once.  Returns how many are. */
static NOINLINE size_t fin_count_intact(void)
{
    size_t n = 0;
    for (size_t i = 0; i < fin.nboat; i++) {
        hl_object *a = fin.boat[i], *b = a->refs[0];
        n += fin_data_of(a)->cookie == FIN_COOKIE && fin_data_of(a)->calls == 1 && b != NULL &&
             fin_data_of(b)->cookie == FIN_COOKIE && fin_data_of(b)->calls == 1 &&
             b->refs[0] == a;
    }
    return n;
}

/* A weak reference with a callback to each resurrected object (under Boehm
 * this registers a finalizer on it again), then the objects are dropped. */
static NOINLINE void fin_drop_boat(const hl_gc *gc, hl_object **weak, callback_log *log)
{
    for (size_t i = 0; i < fin.nboat; i++) {
        weak[i] = hl_weak_new(gc, fin.boat[i], on_weak_death, log);
        hl_release(gc, fin.boat[i]);
        fin.boat[i] = NULL;
    }
}

/* How many addresses the log holds twice: objects finalized twice. */
static size_t fin_twice(void)
{
    size_t twice = 0;
    for (size_t i = 0; i < fin.nseen; i++)
        for (size_t j = i + 1; j < fin.nseen; j++)
            twice += fin.seen[i] == fin.seen[j];
    return twice;
}

/* The finalizer checks on an open collector.  `slack`: objects a
 * conservative collector may fail to find dead. */
static void check_finalizers(const hl_gc *gc, size_t slack)
{
    const char *name = gc->ops->name;
    size_t cap = 2 * FIN_PAIRS + FIN_LEGACY + FIN_RESURRECT;
    memset(&fin, 0, sizeof fin);
    fin.seen = slots_new(cap);
    fin.boat = slots_new(FIN_RESURRECT);
    hl_object **weak = slots_new(FIN_RESURRECT);
    callback_log log = {.runs = 0, .target_was_null = 1, .gc = gc};
    if (fin.seen == NULL || fin.boat == NULL || weak == NULL) {
        CHECK(0, "%s: out of memory for the finalizer test", name);
        return;
    }
    hl_gc_stats before = stats_of(gc);
    fin_build_and_drop(gc);
    collect_clean(gc);
    CHECK(fin.finalize_calls + slack >= 2 * FIN_PAIRS && fin.finalize_calls <= 2 * FIN_PAIRS,
          "%s: %zu finalize calls for %d dead objects", name, fin.finalize_calls, 2 * FIN_PAIRS);
    CHECK(fin.legacy_calls + slack >= FIN_LEGACY && fin.legacy_calls <= FIN_LEGACY,
          "%s: %zu legacy_del calls for %d dead objects", name, fin.legacy_calls, FIN_LEGACY);
    CHECK(fin.bad_peer == 0, "%s: %zu finalizers saw their dead peer already freed", name,
          fin.bad_peer);
    /* A finalizer runs inside its collection's pause: the pause is recorded
     * only after it returned (no timing measured, only the order). */
    CHECK(fin.nseen == 0 || stats_of(gc).pauses > fin.pauses_seen,
          "%s: a finalizer saw %llu pauses recorded, %llu after its collection: its time is "
          "not in the pause", name, (unsigned long long)fin.pauses_seen,
          (unsigned long long)stats_of(gc).pauses);
    CHECK(fin.nboat + slack >= FIN_RESURRECT, "%s: %zu of %d objects resurrected", name,
          fin.nboat, FIN_RESURRECT);
    collect_clean(gc); /* the resurrected must survive this one too */
    CHECK(fin_count_intact() == fin.nboat,
          "%s: %zu of %zu resurrected objects (with their peers) intact and finalized once",
          name, fin_count_intact(), fin.nboat);
    if (slack == 0) {
        hl_gc_stats s = stats_of(gc);
        uint64_t want = 2 * FIN_PAIRS + FIN_LEGACY - 2 * FIN_RESURRECT;
        CHECK(s.objects_freed - before.objects_freed == want,
              "%s: %llu objects freed, want %llu (the resurrected pairs survive)", name,
              (unsigned long long)(s.objects_freed - before.objects_freed),
              (unsigned long long)want);
    }
    if (gc->ops->flags & HL_GC_FINALIZES) { /* its statistics count what ran */
        hl_gc_stats s = stats_of(gc);
        CHECK(s.finalizers_run - before.finalizers_run ==
                      fin.finalize_calls + fin.legacy_calls &&
                  s.resurrected - before.resurrected == 2 * fin.nboat,
              "%s: statistics say %llu objects finalized and %llu resurrected; the finalizers "
              "saw %zu objects and resurrected %zu pairs", name,
              (unsigned long long)(s.finalizers_run - before.finalizers_run),
              (unsigned long long)(s.resurrected - before.resurrected),
              fin.finalize_calls + fin.legacy_calls, fin.nboat);
    }

    size_t calls = fin.finalize_calls + fin.legacy_calls;
    size_t boat = fin.nboat;
    fin_drop_boat(gc, weak, &log);
    collect_clean(gc);
    collect_clean(gc); /* Boehm keeps a finalizable object one collection more */
    CHECK(fin_twice() == 0, "%s: %zu objects finalized twice", name, fin_twice());
    CHECK(slack > 0 || fin.finalize_calls + fin.legacy_calls == calls,
          "%s: %zu finalizer calls after the resurrected died, %zu before", name,
          fin.finalize_calls + fin.legacy_calls, calls);
    CHECK((size_t)log.runs + slack >= boat && (size_t)log.runs <= boat && log.target_was_null,
          "%s: %d callbacks for %zu resurrected objects that died again", name, log.runs, boat);
    for (size_t i = 0; i < boat; i++)
        if (weak[i] != NULL)
            hl_release(gc, weak[i]);
    slots_free(weak, FIN_RESURRECT);
    slots_free(fin.boat, FIN_RESURRECT);
    slots_free(fin.seen, cap);
    memset(&fin, 0, sizeof fin);
}

static void test_finalizers(void)
{
    const hl_collector_ops *ops = hl_collector_find("tracing");
    hl_allocator base = {0};
    CHECK(hl_allocator_open(&base, hl_allocator_find("pool")) == 0, "pool failed to open");
    hl_gc gc = {0};
    if (ops != NULL && hl_gc_open(&gc, ops, &base, NULL) == 0) {
        check_finalizers(&gc, FIN_SLACK);
        hl_gc_close(&gc);
    } else {
        CHECK(0, "tracing failed to open");
    }
    hl_allocator_close(&base);

    for (size_t i = 0; i < each_allocator_count; i++) {
        ms_rig r;
        if (rig_open(&r, each_allocators[i]) != 0) {
            CHECK(0, "marksweep/%s failed to open", each_allocators[i]);
            continue;
        }
        check_finalizers(&r.gc, 0);
        hl_collect(&r.gc, -1);
        CHECK(counts(&r).live_bytes == 0, "marksweep/%s: %llu bytes live after the finalizers",
              each_allocators[i], (unsigned long long)counts(&r).live_bytes);
        rig_close(&r, each_allocators[i]);
    }
}

/* ------------------------------------------------- atomic allocation -- */

/* A fresh tracing instance (over a pool it ignores) into *gc.  Returns 0,
 * or -1 with the failure checked and nothing left open. */
static int tracing_open(hl_allocator *base, hl_gc *gc)
{
    CHECK(hl_allocator_open(base, hl_allocator_find("pool")) == 0, "pool failed to open");
    if (hl_gc_open(gc, hl_collector_find("tracing"), base, NULL) != 0) {
        CHECK(0, "tracing failed to open");
        hl_allocator_close(base);
        return -1;
    }
    return 0;
}

enum { HOLDERS = 64, HOLDER_DATA = 64, JUNK_N = 4096 };

/* HOLDERS holders of `nrefs` slots, each holding in its data words the
 * only pointer to a target, watched through weak[i]; the holders stay
 * rooted, the targets do not. */
static NOINLINE void holders_build(const hl_gc *gc, uint32_t nrefs, hl_object **holders,
                                   hl_object **weak)
{
    for (size_t i = 0; i < HOLDERS; i++) {
        hl_object *target = hl_new(gc, &node_type, 1, 8);
        holders[i] = hl_new(gc, &node_type, nrefs, HOLDER_DATA);
        if (target == NULL || holders[i] == NULL)
            return;
        weak[i] = hl_weak_new(gc, target, NULL, NULL);
        node_words(holders[i])[1] = (uint64_t)(uintptr_t)target;
        hl_release(gc, target);
    }
}

/* HOLDERS holders and weak references are released; `weak` counts those
 * whose target was still alive. */
static NOINLINE size_t holders_drop(const hl_gc *gc, hl_object **holders, hl_object **weak)
{
    size_t alive = 0;
    for (size_t i = 0; i < HOLDERS; i++) {
        alive += weak[i] != NULL && hl_weak_get(gc, weak[i]) != NULL;
        if (weak[i] != NULL)
            hl_release(gc, weak[i]);
        if (holders[i] != NULL)
            hl_release(gc, holders[i]);
        holders[i] = weak[i] = NULL;
    }
    return alive;
}

/* JUNK_N atomic objects filled with ones and dropped, so that the next ones
 * of their size are likely to reuse their blocks. */
static NOINLINE void atomic_junk(const hl_gc *gc)
{
    for (size_t i = 0; i < JUNK_N; i++) {
        hl_object *o = hl_new(gc, &node_type, 0, HOLDER_DATA);
        if (o == NULL)
            return;
        memset(node_words(o), 0xff, HOLDER_DATA);
        hl_release(gc, o);
    }
}

/* Atomic objects made over the junk's blocks whose data is not all zero. */
static NOINLINE size_t atomic_dirty(const hl_gc *gc)
{
    size_t dirty = 0;
    for (size_t i = 0; i < JUNK_N; i++) {
        hl_object *o = hl_new(gc, &node_type, 0, HOLDER_DATA);
        if (o == NULL)
            return JUNK_N;
        for (size_t w = 0; w < HOLDER_DATA / 8; w++)
            if (node_words(o)[w] != 0) {
                dirty++;
                break;
            }
        hl_release(gc, o);
    }
    return dirty;
}

/* Under tracing an object without reference slots is an atomic block
 * (never scanned: GCBench's array of doubles), zeroed by the collector
 * since Boehm does not clear atomic blocks; one with slots is scanned
 * whole, data words included (Boehm's conservatism). */
static void test_tracing_atomic(void)
{
    hl_allocator base = {0};
    hl_gc gc = {0};
    if (tracing_open(&base, &gc) != 0)
        return;
    hl_object **holders = slots_new(HOLDERS), **weak = slots_new(HOLDERS);
    holders_build(&gc, 0, holders, weak);
    collect_clean(&gc);
    size_t kept = holders_drop(&gc, holders, weak);
    CHECK(kept <= 2, "tracing: %zu of %d targets kept alive by a pointer in an atomic "
          "object's data (atomic blocks are scanned)", kept, HOLDERS);
    holders_build(&gc, 2, holders, weak);
    collect_clean(&gc);
    kept = holders_drop(&gc, holders, weak);
    CHECK(kept == HOLDERS, "tracing: only %zu of %d targets kept alive by a pointer in a "
          "scanned object's data", kept, HOLDERS);
    slots_free(holders, HOLDERS);
    slots_free(weak, HOLDERS);

    atomic_junk(&gc);
    collect_clean(&gc);
    size_t dirty = atomic_dirty(&gc);
    CHECK(dirty == 0, "tracing: %zu of %d atomic objects made over dropped ones were not "
          "zeroed", dirty, JUNK_N);
    hl_gc_close(&gc);
    hl_allocator_close(&base);
}

/* ------------------------------------------------------ the header -- */

enum { STICKY_N = 16, STICKY_RETAINS = 70000 };

/* STICKY_N objects, each retained STICKY_RETAINS times more than new_object's
 * reference and released as many times again, watched through weak[i]. */
static NOINLINE void sticky_build(const hl_gc *gc, hl_object **objs, hl_object **weak)
{
    for (size_t i = 0; i < STICKY_N; i++) {
        objs[i] = hl_new(gc, &node_type, 1, 8);
        if (objs[i] == NULL)
            return;
        node_words(objs[i])[0] = i;
        weak[i] = hl_weak_new(gc, objs[i], NULL, NULL);
        for (size_t r = 0; r < STICKY_RETAINS; r++)
            hl_retain(gc, objs[i]);
        for (size_t r = 0; r < STICKY_RETAINS; r++)
            hl_release(gc, objs[i]);
    }
}

/* Weak references whose target is alive and intact (or, with `cleared`,
 * cleared). */
static NOINLINE size_t sticky_count(const hl_gc *gc, hl_object **weak, int cleared)
{
    size_t n = 0;
    for (size_t i = 0; i < STICKY_N; i++) {
        hl_object *o = weak[i] == NULL ? NULL : hl_weak_get(gc, weak[i]);
        n += cleared ? weak[i] != NULL && o == NULL : o != NULL && node_words(o)[0] == i;
    }
    return n;
}

static NOINLINE void sticky_drop(const hl_gc *gc, hl_object **objs)
{
    for (size_t i = 0; i < STICKY_N; i++)
        if (objs[i] != NULL)
            hl_release(gc, objs[i]);
}

/* The root count packed in the 8-byte header counts every retain: an
 * object retained far more often than 2^16 times stays rooted exactly
 * until its last reference goes. */
/* The census is exact while the instance's free lists hold blocks: K
 * rooted objects of one size, the rest of their list's refill still on the
 * list (blocks of heaplab's kind, marked, with a link or NULL where a
 * header would be), must count as K objects and K blocks' bytes, nothing
 * freed.  A test of header_is_mine against free-list blocks. */
enum { CENSUS_K = 100 };
static void test_tracing_census_exact(void)
{
    hl_allocator base = {0};
    hl_gc gc = {0};
    if (tracing_open(&base, &gc) != 0)
        return;
    hl_object **objs = slots_new(CENSUS_K);
    for (size_t i = 0; i < CENSUS_K; i++)
        objs[i] = hl_new(&gc, &node_type, 2, 8);
    collect_clean(&gc);
    hl_gc_stats s = stats_of(&gc);
    int64_t want = (int64_t)CENSUS_K * (int64_t)(8 + hl_object_size(2, 8));
    CHECK(s.objects_freed == 0 && s.own_live_bytes == want,
          "tracing census with a partly used free list: %" PRIu64 " freed, %lld live bytes, "
          "want 0 and %lld (a free-list block counted as an object?)", s.objects_freed,
          (long long)s.own_live_bytes, (long long)want);
    for (size_t i = 0; i < CENSUS_K; i++)
        hl_release(&gc, objs[i]);
    slots_free(objs, CENSUS_K);
    hl_gc_close(&gc);
    hl_allocator_close(&base);
}

static void test_tracing_root_count(void)
{
    hl_allocator base = {0};
    hl_gc gc = {0};
    if (tracing_open(&base, &gc) != 0)
        return;
    hl_object **objs = slots_new(STICKY_N), **weak = slots_new(STICKY_N);
    sticky_build(&gc, objs, weak);
    collect_clean(&gc);
    CHECK(sticky_count(&gc, weak, 0) == STICKY_N,
          "tracing: %zu of %d objects alive after %d retains and releases (one reference "
          "left)", sticky_count(&gc, weak, 0), STICKY_N, STICKY_RETAINS);
    sticky_drop(&gc, objs);
    collect_clean(&gc);
    CHECK(sticky_count(&gc, weak, 1) + 2 >= STICKY_N,
          "tracing: only %zu of %d objects died after their last release (still rooted?)",
          sticky_count(&gc, weak, 1), STICKY_N);
    for (size_t i = 0; i < STICKY_N; i++)
        if (weak[i] != NULL)
            hl_release(&gc, weak[i]);
    slots_free(objs, STICKY_N);
    slots_free(weak, STICKY_N);
    hl_gc_close(&gc);
    hl_allocator_close(&base);
}

enum { PHOENIX_N = 32, PHOENIX_RETAINS = 3 };

/* Objects whose finalizer resurrects them with PHOENIX_RETAINS references
 * (the finalized flag is set in the same header word as the count), and
 * watches them with a weak reference with a callback. */
static struct {
    hl_object **objs, **weak; /* untracked */
    size_t n, calls, callbacks;
} phoenix;

/* The weak reference's callback only counts: the weak reference that
 * phoenix_finalize makes is what registers a Boehm finalizer on the
 * object again, so that its second death reaches the finalized flag. */
static void phoenix_weak_death(hl_object *w, void *arg)
{
    (void)w, (void)arg;
    phoenix.callbacks++;
}

static void phoenix_finalize(const hl_gc *gc, hl_object *o)
{
    phoenix.calls++;
    for (int r = 0; r < PHOENIX_RETAINS; r++)
        hl_retain(gc, o);
    if (phoenix.n < PHOENIX_N) {
        /* The slot first: hl_weak_new may run other finalizers. */
        size_t i = phoenix.n++;
        phoenix.objs[i] = o;
        phoenix.weak[i] = hl_weak_new(gc, o, phoenix_weak_death, NULL);
    }
}

static const hl_type phoenix_type = {.name = "phoenix", .finalize = phoenix_finalize};

static NOINLINE void phoenix_build(const hl_gc *gc)
{
    for (size_t i = 0; i < PHOENIX_N; i++) {
        hl_object *o = hl_new(gc, &phoenix_type, 1, 8);
        if (o == NULL)
            return;
        hl_release(gc, o);
    }
}

/* The resurrected objects, each released `times` times. */
static NOINLINE void phoenix_release(const hl_gc *gc, int times)
{
    for (size_t i = 0; i < phoenix.n; i++)
        for (int r = 0; r < times; r++)
            hl_release(gc, phoenix.objs[i]);
}

/* Resurrected objects still alive, by their weak references. */
static NOINLINE size_t phoenix_alive(const hl_gc *gc)
{
    size_t n = 0;
    for (size_t i = 0; i < phoenix.n; i++)
        n += phoenix.weak[i] != NULL && hl_weak_get(gc, phoenix.weak[i]) == phoenix.objs[i];
    return n;
}

/* The finalized flag shares a word with the root count: setting it leaves
 * the count a resurrecting finalizer builds intact (the object lives until
 * its last reference goes), and counting leaves the flag (no second
 * finalization when it dies again). */
static void test_tracing_finalized_flag(void)
{
    hl_allocator base = {0};
    hl_gc gc = {0};
    if (tracing_open(&base, &gc) != 0)
        return;
    memset(&phoenix, 0, sizeof phoenix);
    phoenix.objs = slots_new(PHOENIX_N);
    phoenix.weak = slots_new(PHOENIX_N);
    phoenix_build(&gc);
    collect_clean(&gc);
    collect_clean(&gc);
    CHECK(phoenix.n + 2 >= PHOENIX_N && phoenix.calls == phoenix.n,
          "tracing: %zu of %d objects resurrected, %zu finalize calls", phoenix.n, PHOENIX_N,
          phoenix.calls);
    size_t resurrected = phoenix.n;
    CHECK(phoenix_alive(&gc) == resurrected,
          "tracing: %zu of %zu resurrected objects alive with %d references",
          phoenix_alive(&gc), resurrected, PHOENIX_RETAINS);
    phoenix_release(&gc, PHOENIX_RETAINS - 1);
    collect_clean(&gc);
    collect_clean(&gc);
    CHECK(phoenix_alive(&gc) == resurrected,
          "tracing: %zu of %zu resurrected objects alive with one of %d references left",
          phoenix_alive(&gc), resurrected, PHOENIX_RETAINS);
    if (phoenix_alive(&gc) == resurrected) { /* else the objects are gone */
        phoenix_release(&gc, 1);
        collect_clean(&gc);
        collect_clean(&gc);
        CHECK(phoenix_alive(&gc) <= 2 && phoenix.callbacks + 2 >= resurrected,
              "tracing: %zu of %zu resurrected objects alive after their last release, %zu "
              "callbacks", phoenix_alive(&gc), resurrected, phoenix.callbacks);
    }
    CHECK(phoenix.calls == resurrected, "tracing: %zu finalize calls for %zu objects (one "
          "finalized twice: the flag was lost)", phoenix.calls, resurrected);
    for (size_t i = 0; i < phoenix.n; i++)
        if (phoenix.weak[i] != NULL)
            hl_release(&gc, phoenix.weak[i]);
    slots_free(phoenix.weak, PHOENIX_N);
    slots_free(phoenix.objs, PHOENIX_N);
    hl_gc_close(&gc);
    hl_allocator_close(&base);
}

/* ---------------------------------------------------------- leftovers -- */

/* What one instance leaves alive past its close: a root of Boehm's own
 * (GC_add_roots; tracing has Boehm skip the program's data otherwise). */
static hl_object *volatile leftover_kept;
static size_t leftover_calls;

static void leftover_finalize(const hl_gc *gc, hl_object *o)
{
    (void)gc, (void)o;
    leftover_calls++;
}

static const hl_type leftover_type = {.name = "leftover", .finalize = leftover_finalize};

/* One object of type t, kept alive by leftover_kept, and by the workload's
 * reference too when `rooted` (a reference never dropped before close). */
static NOINLINE void leftover_make(const hl_gc *gc, const hl_type *t, int rooted)
{
    hl_object *o = hl_new(gc, t, 1, 8);
    if (o == NULL)
        return;
    node_words(o)[0] = 0x1ef70e7u;
    leftover_kept = o;
    if (!rooted)
        hl_release(gc, o);
}

/* An object an earlier instance left alive (kept by a root of Boehm's
 * own), unrooted or still rooted when it closed, belongs to no later
 * instance: its census does not count it, and its finalizer does not run
 * there. */
static void test_tracing_leftovers(void)
{
    hl_allocator base = {0};
    hl_gc gc = {0};
    const hl_type *types[3] = {&node_type, &leftover_type, &node_type};
    GC_add_roots((void *)&leftover_kept, (char *)&leftover_kept + sizeof leftover_kept);
    for (int k = 0; k < 3; k++) {
        if (tracing_open(&base, &gc) != 0)
            return;
        leftover_make(&gc, types[k], k == 2);
        hl_gc_close(&gc);
        hl_allocator_close(&base);
        if (tracing_open(&base, &gc) != 0)
            return;
        collect_clean(&gc);
        hl_gc_stats s = stats_of(&gc);
        CHECK(leftover_kept != NULL && node_words(leftover_kept)[0] == 0x1ef70e7u,
              "tracing: the object kept past its instance's close was damaged");
        CHECK(s.own_live_bytes == 0 && s.objects_freed == 0,
              "tracing (%s%s): a later instance counts an earlier one's object: %lld live "
              "bytes, %llu freed of %llu", types[k]->name, k == 2 ? ", rooted" : "",
              (long long)s.own_live_bytes,
              (unsigned long long)s.objects_freed, (unsigned long long)s.objects_allocated);
        leftover_kept = NULL;
        leftover_calls = 0;
        collect_clean(&gc);
        collect_clean(&gc);
        CHECK(leftover_calls == 0, "tracing: a finalizer of a closed instance's object ran "
              "in a later instance (%zu calls)", leftover_calls);
        hl_gc_close(&gc);
        hl_allocator_close(&base);
    }
    GC_remove_roots((void *)&leftover_kept, (char *)&leftover_kept + sizeof leftover_kept);
}

/* A parent with `width` children made by hl_new_child, in a frame of its
 * own (so no stale word of the test's frame points at a child). */
static NOINLINE hl_object *children_build(const hl_gc *gc, uint32_t width)
{
    hl_object *parent = hl_new(gc, &node_type, width, 0);
    for (uint32_t i = 0; parent != NULL && i < width; i++) {
        hl_object *c = hl_new_child(gc, parent, i, &node_type, 1, 8);
        if (c == NULL)
            break;
        node_words(c)[0] = i;
    }
    return parent;
}

/* tracing's new_child leaves no root: the children live while their parent
 * holds them (through automatic and explicit collections) and die with it.
 * A child left on the root table would survive its parent. */
static void test_tracing_new_child(void)
{
    enum { WIDTH = 20000 };
    hl_allocator base = {0};
    hl_gc gc = {0};
    if (tracing_open(&base, &gc) != 0)
        return;
    CHECK(gc.ops->new_child != NULL, "tracing has no new_child");
    collect_clean(&gc);
    int64_t empty = stats_of(&gc).own_live_bytes;
    hl_object **held = slots_new(1);
    held[0] = children_build(&gc, WIDTH);
    make_garbage(&gc, 400000); /* Boehm collects by itself meanwhile */
    collect_clean(&gc);
    int64_t full = stats_of(&gc).own_live_bytes;
    CHECK(held[0] != NULL && wide_intact(held[0], WIDTH),
          "tracing: children made by new_child did not survive collections under their parent");
    int64_t children = (int64_t)WIDTH * (int64_t)hl_object_size(1, 8);
    CHECK(full - empty >= children, "tracing: %lld live bytes with %d children of %zu bytes",
          (long long)(full - empty), WIDTH, hl_object_size(1, 8));
    hl_release(&gc, held[0]);
    held[0] = NULL;
    collect_clean(&gc);
    int64_t after = stats_of(&gc).own_live_bytes;
    CHECK(after - empty < children / 10, "tracing: %lld bytes still live after the parent of %d "
          "new_child children died (a child left rooted?)", (long long)(after - empty), WIDTH);
    slots_free(held, 1);
    hl_gc_close(&gc);
    hl_allocator_close(&base);
}

/* Each test starts on a scrubbed stack: a frame's unwritten slots (an
 * ASan redzone, padding) keep whatever an earlier test's calls left there,
 * and a stale word that once pointed at a block Boehm since gave to a new
 * object would keep that object alive through every check of the test. */
int main(int argc, char **argv)
{
    if (each_allocator_init(argc, argv, "test_boehm", 0) != 0)
        return 2;
    scrub_stack();
    test_tracing();
    for (size_t i = 0; i < each_allocator_count; i++)
        test_marksweep_on(each_allocators[i]);
    scrub_stack();
    test_finalizers();
    scrub_stack();
    test_tracing_atomic();
    scrub_stack();
    test_tracing_new_child();
    scrub_stack();
    test_tracing_root_count();
    test_tracing_census_exact();
    scrub_stack();
    test_tracing_finalized_flag();
    scrub_stack();
    test_tracing_leftovers();
    return each_allocator_finish(check_status("test_boehm"));
}
