/*
 * test_collectors.c - every available collector against an oracle.
 *
 * usage: test_collectors [ALLOCATOR]      (ctest: collectors.oracle)
 *
 * Uses only the generic collector API (collector.h), so collectors written
 * elsewhere (tracing, marksweep) are held to the same oracle; a collector
 * whose unavailable() gives a reason is skipped with that reason.
 *
 * The oracle.  Random object graphs with random roots and random mutations
 * (new, store, retain, release, weak references), driven by a seeded
 * generator, under each collector over every registered allocator
 * (tests/each_allocator.h: the system ones in a child under their preload)
 * wrapped in the tracker.  The test keeps its own copy of every
 * object's fields and of the references it holds, and computes reachability
 * itself by breadth-first search from those references over the fields.
 * At checkpoints and after a final full collection:
 *   - every reachable object is intact: its data pattern and its fields are
 *     what the oracle says;
 *   - what is unreachable is gone, as precisely as the collector promises:
 *       manual     the test frees the unreachable objects itself first;
 *       refcount   acyclic garbage is gone; what remains is exactly the
 *                  objects lying on a cycle of garbage and what they reach;
 *       others     (HL_GC_FREES_CYCLES) nothing unreachable remains;
 *     checked through the collector's object counts and through the
 *     tracker's live bytes, which must equal the surviving objects' sizes
 *     plus the collector's per-object prefix (measured on a fresh instance)
 *     plus the weak reference objects.  HL_GC_OWN_HEAP collectors (their
 *     heap is invisible to the tracker, and Boehm is conservative) are
 *     checked on the reachable side only;
 *   - weak references read their target while it lives and NULL after,
 *     and each callback has run exactly once by then;
 *   - after everything is dropped, collected and the collector closed, the
 *     tracker's live bytes are zero.
 * Plus: weak reference semantics under each collector (cleared on death,
 * callbacks once, newest first, a callback sees every weak reference to the
 * garbage already cleared, a weak reference dying with its referent in a
 * cycle collection gets no callback); a ten-million-node chain freed by
 * releasing its head under refcount and cycle (one million under ASan);
 * cycle's thresholds and long-lived rule, checked against a model of
 * CPython's rules; its per-generation statistics.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "allocators/allocator.h"
#include "collectors/collector.h"
#include "common/clock.h"
#include "tests/check.h"
#include "tests/gc_env.h"
#include "tests/each_allocator.h"
#include "workloads/rng.h"

#if defined(__SANITIZE_ADDRESS__)
#define CHAIN_LENGTH 1000000L
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CHAIN_LENGTH 1000000L
#endif
#endif
#ifndef CHAIN_LENGTH
#define CHAIN_LENGTH 10000000L
#endif

#define MAX_REFS 5
#define MAX_NODES 600
#define MAX_WEAKS 64
#define ROUND_OPS 2500
#define CHECK_EVERY 250

/* What the oracle rounds of one collector exercised, for the summary line. */
static struct tally {
    long rounds, objects, garbage, leaked, weak, weak_cleared;
} tally;

/* ------------------------------------------------------------ basics -- */

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rng_next(rng *r)
{
    return hl_splitmix64(&r->s);
}

static uint32_t rng_below(rng *r, uint32_t n)
{
    return (uint32_t)(((rng_next(r) >> 32) * n) >> 32);
}

static const hl_type node_type = {.name = "test-node"};

/* Same fields as the default, through a type's own traverse. */
static void listed_traverse(hl_object *o, hl_visit_fn visit, void *arg)
{
    for (uint32_t i = 0; i < o->nrefs; i++)
        if (o->refs[i] != NULL)
            visit(&o->refs[i], arg);
}

static const hl_type listed_type = {.name = "test-listed", .traverse = listed_traverse};

static unsigned char pattern_byte(uint64_t pattern, uint32_t j)
{
    return (unsigned char)((pattern >> ((j & 7u) * 8u)) ^ j);
}

static void pattern_fill(hl_object *o, uint64_t pattern)
{
    unsigned char *d = hl_object_data(o);
    for (uint32_t j = 0; j < o->data_size; j++)
        d[j] = pattern_byte(pattern, j);
}

static int pattern_intact(hl_object *o, uint64_t pattern)
{
    const unsigned char *d = hl_object_data(o);
    for (uint32_t j = 0; j < o->data_size; j++)
        if (d[j] != pattern_byte(pattern, j))
            return 0;
    return 1;
}

static double now_s(void)
{
    return (double)hl_now_ns() / 1e9;
}

/* --------------------------------------------------------- instances -- */

/* Drop the test's reference to o: free it under manual, release otherwise. */
static void env_drop(env *e, hl_object *o)
{
    if (e->manual)
        hl_free_object(&e->gc, o);
    else
        hl_release(&e->gc, o);
}

/* What one object costs in the tracked heap beyond hl_object_size(), and
 * what a weak reference object costs, measured on a fresh instance.  ok is
 * 0 when the collector does not allocate object by object from the
 * allocator (its own heap, or a measure that is not consistent). */
typedef struct calibration {
    int ok;
    int64_t prefix, weak_bytes;
} calibration;

static calibration calibrate(const hl_collector_ops *c)
{
    calibration cal = {0, 0, 0};
    env e;
    if (c->flags & HL_GC_OWN_HEAP)
        return cal;
    if (env_open(&e, c, "pool", NULL) != 0)
        return cal;
    int64_t b0 = (int64_t)env_live(&e);
    hl_object *a = hl_new(&e.gc, &node_type, 2, 24);
    int64_t b1 = (int64_t)env_live(&e);
    hl_object *b = hl_new(&e.gc, &node_type, 5, 3);
    int64_t b2 = (int64_t)env_live(&e);
    hl_object *w = hl_weak_new(&e.gc, a, NULL, NULL);
    int64_t b3 = (int64_t)env_live(&e);
    int64_t p1 = b1 - b0 - (int64_t)hl_object_size(2, 24);
    int64_t p2 = b2 - b1 - (int64_t)hl_object_size(5, 3);
    cal.ok = a != NULL && b != NULL && w != NULL && p1 == p2 && p1 >= 0;
    cal.prefix = p1;
    cal.weak_bytes = b3 - b2;
    CHECK(cal.ok, "%s: per-object prefix not measurable (%" PRId64 " vs %" PRId64 ")", c->name,
          p1, p2);
    if (w != NULL)
        env_drop(&e, w);
    if (b != NULL)
        env_drop(&e, b);
    if (a != NULL)
        env_drop(&e, a);
    env_close(&e);
    return cal;
}

/* ------------------------------------------------------------ oracle -- */

typedef struct onode {
    hl_object *obj;
    uint32_t nrefs, data_size;
    int32_t refs[MAX_REFS]; /* oracle ids, -1 for NULL */
    uint32_t roots;         /* references the test holds */
    uint64_t pattern;
    unsigned char freed;    /* manual: the test freed it */
    unsigned char reach;    /* reachable from the test's references */
    unsigned char alive;    /* expected still allocated after a full collection */
} onode;

typedef struct oweak {
    hl_object *w;
    const hl_gc *gc;
    int32_t target;
    int has_cb;
    int callbacks;
    int saw_target; /* the callback found the reference not cleared */
} oweak;

typedef struct oracle {
    env e;
    calibration cal;
    rng r;
    onode nodes[MAX_NODES];
    int n;
    oweak weaks[MAX_WEAKS];
    int nweak;
    int32_t queue[MAX_NODES];
    int32_t reach[MAX_NODES]; /* ids of reachable nodes */
    int nreach;
    const char *what; /* "collector/allocator/config" for messages */
} oracle;

static void oracle_weak_callback(hl_object *w, void *arg)
{
    oweak *ow = arg;
    ow->callbacks++;
    if (hl_weak_get(ow->gc, w) != NULL)
        ow->saw_target = 1;
}

/* Breadth-first search from the test's references: reach[] and marks. */
static void oracle_mark(oracle *o)
{
    int head = 0, tail = 0;
    for (int i = 0; i < o->n; i++) {
        o->nodes[i].reach = 0;
        if (o->nodes[i].roots > 0) {
            o->nodes[i].reach = 1;
            o->queue[tail++] = i;
        }
    }
    while (head < tail) {
        onode *nd = &o->nodes[o->queue[head++]];
        for (uint32_t f = 0; f < nd->nrefs; f++) {
            int32_t t = nd->refs[f];
            if (t >= 0 && !o->nodes[t].reach) {
                o->nodes[t].reach = 1;
                o->queue[tail++] = t;
            }
        }
    }
    o->nreach = 0;
    for (int i = 0; i < o->n; i++)
        if (o->nodes[i].reach)
            o->reach[o->nreach++] = i;
}

static int oracle_pick_reachable(oracle *o)
{
    return o->nreach ? o->reach[rng_below(&o->r, (uint32_t)o->nreach)] : -1;
}

/* Whether node i's object is what the oracle says: data and fields. */
static int oracle_intact(oracle *o, int i)
{
    onode *nd = &o->nodes[i];
    hl_object *obj = nd->obj;
    if (obj->nrefs != nd->nrefs || obj->data_size != nd->data_size)
        return 0;
    if (!pattern_intact(obj, nd->pattern))
        return 0;
    for (uint32_t f = 0; f < nd->nrefs; f++) {
        hl_object *want = nd->refs[f] < 0 ? NULL : o->nodes[nd->refs[f]].obj;
        if (obj->refs[f] != want)
            return 0;
    }
    return 1;
}

static void oracle_check_reachable(oracle *o, const char *when)
{
    for (int k = 0; k < o->nreach; k++) {
        int i = o->reach[k];
        CHECK(oracle_intact(o, i), "%s: %s: reachable object %d damaged", o->what, when, i);
    }
}

static void op_new(oracle *o)
{
    if (o->n >= MAX_NODES)
        return;
    int i = o->n;
    onode *nd = &o->nodes[i];
    nd->nrefs = rng_below(&o->r, MAX_REFS + 1);
    nd->data_size = rng_below(&o->r, 49);
    nd->pattern = rng_next(&o->r);
    const hl_type *t = rng_below(&o->r, 4) == 0 ? &listed_type : &node_type;
    hl_object *obj = hl_new(&o->e.gc, t, nd->nrefs, nd->data_size);
    CHECK(obj != NULL, "%s: new_object failed", o->what);
    if (obj == NULL)
        return;
    CHECK(obj->type == t && obj->nrefs == nd->nrefs && obj->data_size == nd->data_size,
          "%s: new object header wrong", o->what);
    int clean = 1;
    for (uint32_t f = 0; f < nd->nrefs; f++)
        clean &= obj->refs[f] == NULL;
    for (uint32_t j = 0; j < nd->data_size; j++)
        clean &= ((unsigned char *)hl_object_data(obj))[j] == 0;
    CHECK(clean, "%s: new object not zeroed", o->what);
    pattern_fill(obj, nd->pattern);
    for (int f = 0; f < MAX_REFS; f++)
        nd->refs[f] = -1;
    nd->obj = obj;
    nd->roots = 1;
    nd->reach = 1;
    o->reach[o->nreach++] = i;
    o->n++;
}

static void op_store(oracle *o)
{
    int src = -1;
    for (int tries = 0; tries < 8 && src < 0; tries++) {
        int i = oracle_pick_reachable(o);
        if (i >= 0 && o->nodes[i].nrefs > 0)
            src = i;
    }
    if (src < 0)
        return;
    onode *nd = &o->nodes[src];
    uint32_t f = rng_below(&o->r, nd->nrefs);
    int dst = rng_below(&o->r, 5) == 0 ? -1 : oracle_pick_reachable(o);
    hl_store(&o->e.gc, nd->obj, f, dst < 0 ? NULL : o->nodes[dst].obj);
    nd->refs[f] = dst;
    oracle_mark(o);
}

static void op_retain(oracle *o)
{
    int i = oracle_pick_reachable(o);
    if (i < 0)
        return;
    hl_retain(&o->e.gc, o->nodes[i].obj);
    o->nodes[i].roots++;
}

static void op_release(oracle *o)
{
    if (o->nreach == 0)
        return;
    int start = (int)rng_below(&o->r, (uint32_t)o->nreach);
    for (int k = 0; k < o->nreach; k++) {
        int i = o->reach[(start + k) % o->nreach];
        if (o->nodes[i].roots > 0) {
            o->nodes[i].roots--;
            if (!o->e.manual)
                hl_release(&o->e.gc, o->nodes[i].obj);
            oracle_mark(o);
            return;
        }
    }
}

static void op_weak(oracle *o)
{
    int i = oracle_pick_reachable(o);
    if (i < 0 || o->nweak >= MAX_WEAKS)
        return;
    oweak *ow = &o->weaks[o->nweak];
    memset(ow, 0, sizeof *ow);
    ow->gc = &o->e.gc;
    ow->target = i;
    ow->has_cb = rng_below(&o->r, 2) == 0;
    ow->w = hl_weak_new(&o->e.gc, o->nodes[i].obj, ow->has_cb ? oracle_weak_callback : NULL, ow);
    CHECK(ow->w != NULL, "%s: weak_new failed", o->what);
    if (ow->w == NULL)
        return;
    CHECK(hl_weak_get(&o->e.gc, ow->w) == o->nodes[i].obj, "%s: fresh weak reference wrong",
          o->what);
    o->nweak++;
}

/* manual: free every unreachable object not yet freed (the workload's job). */
static void oracle_free_unreachable(oracle *o)
{
    for (int i = 0; i < o->n; i++) {
        onode *nd = &o->nodes[i];
        if (!nd->reach && !nd->freed) {
            hl_free_object(&o->e.gc, nd->obj);
            nd->freed = 1;
        }
    }
}

/* refcount: mark alive the unreachable objects that lie on a cycle of
 * unreachable objects, and everything they reach.  (An unreachable object
 * off every such path has a count that fell to zero, in an order, so it
 * died; one on it is held by an object that never dies.) */
static void oracle_mark_cyclic_garbage(oracle *o)
{
    static unsigned char seen[MAX_NODES];
    int tail = 0;
    for (int v = 0; v < o->n; v++) {
        if (o->nodes[v].reach)
            continue;
        /* Is v reachable from its own successors through unreachable nodes? */
        memset(seen, 0, (size_t)o->n);
        int h = 0, t = 0, on_cycle = 0;
        o->queue[t++] = v;
        while (h < t && !on_cycle) {
            onode *nd = &o->nodes[o->queue[h++]];
            for (uint32_t f = 0; f < nd->nrefs; f++) {
                int32_t s = nd->refs[f];
                if (s < 0 || o->nodes[s].reach || seen[s])
                    continue;
                if (s == v) {
                    on_cycle = 1;
                    break;
                }
                seen[s] = 1;
                o->queue[t++] = s;
            }
        }
        if (on_cycle)
            o->nodes[v].alive = 2; /* a seed, expanded below */
    }
    for (int v = 0; v < o->n; v++)
        if (o->nodes[v].alive == 2)
            o->queue[tail++] = v;
    for (int h = 0; h < tail; h++) {
        onode *nd = &o->nodes[o->queue[h]];
        nd->alive = 1;
        for (uint32_t f = 0; f < nd->nrefs; f++) {
            int32_t s = nd->refs[f];
            if (s >= 0 && !o->nodes[s].alive) {
                o->nodes[s].alive = 2;
                o->queue[tail++] = s;
            }
        }
    }
}

/* After a full collection: what must still be allocated (alive), checked
 * against the object's contents, the weak references, the collector's
 * counts and the tracker's live bytes. */
static void oracle_check_heap(oracle *o, const char *when)
{
    for (int i = 0; i < o->n; i++)
        o->nodes[i].alive = o->nodes[i].reach;
    if (!o->e.manual && !o->e.frees_cycles && !o->e.own_heap)
        oracle_mark_cyclic_garbage(o);
    int64_t alive = 0, bytes = 0;
    for (int i = 0; i < o->n; i++) {
        onode *nd = &o->nodes[i];
        if (!nd->alive)
            continue;
        alive++;
        bytes += (int64_t)hl_object_size(nd->nrefs, nd->data_size) + o->cal.prefix;
        CHECK(oracle_intact(o, i), "%s: %s: %s object %d damaged", o->what, when,
              nd->reach ? "reachable" : "leaked", i);
    }
    for (int k = 0; k < o->nweak; k++) {
        oweak *ow = &o->weaks[k];
        onode *t = &o->nodes[ow->target];
        hl_object *got = hl_weak_get(&o->e.gc, ow->w);
        if (t->alive) {
            CHECK(got == t->obj, "%s: %s: weak reference %d lost a live target", o->what, when, k);
            CHECK(ow->callbacks == 0, "%s: %s: callback of weak reference %d ran with its "
                  "target alive", o->what, when, k);
        } else if (!o->e.own_heap) {
            CHECK(got == NULL, "%s: %s: weak reference %d not cleared", o->what, when, k);
            CHECK(ow->callbacks == ow->has_cb, "%s: %s: weak reference %d: %d callbacks, "
                  "expected %d", o->what, when, k, ow->callbacks, ow->has_cb);
        } else {
            CHECK(got == NULL || got == t->obj, "%s: %s: weak reference %d reads garbage",
                  o->what, when, k);
            CHECK(ow->callbacks <= 1, "%s: %s: callback ran twice", o->what, when);
        }
        CHECK(!ow->saw_target, "%s: %s: callback of weak reference %d ran before clearing",
              o->what, when, k);
    }
    if (strcmp(when, "final collection") == 0) {
        tally.rounds++;
        tally.objects += o->n;
        for (int i = 0; i < o->n; i++) {
            tally.garbage += !o->nodes[i].reach;
            tally.leaked += !o->nodes[i].reach && o->nodes[i].alive;
        }
        tally.weak += o->nweak;
        for (int k = 0; k < o->nweak; k++)
            tally.weak_cleared += !o->nodes[o->weaks[k].target].alive;
    }
    if (o->e.own_heap)
        return;
    hl_gc_stats s = env_stats(&o->e);
    int64_t objects = (int64_t)(s.objects_allocated - s.objects_freed);
    CHECK(objects == alive + o->nweak, "%s: %s: %" PRId64 " objects allocated, expected %" PRId64
          " (+%d weak)", o->what, when, objects, alive, o->nweak);
    if (o->cal.ok) {
        int64_t want = bytes + o->nweak * o->cal.weak_bytes;
        int64_t live = (int64_t)env_live(&o->e);
        CHECK(live == want, "%s: %s: %" PRId64 " bytes live, expected %" PRId64, o->what, when,
              live, want);
    }
}

/* One round: random mutations with checks along the way, a full
 * collection with the oracle's verdict, then everything dropped. */
static void oracle_round(const hl_collector_ops *c, const char *alloc_name,
                         const hl_gc_config *cfg, const char *cfg_name, uint64_t seed,
                         calibration cal)
{
    oracle *o = calloc(1, sizeof *o);
    if (o == NULL || env_open(&o->e, c, alloc_name, cfg) != 0) {
        free(o);
        return;
    }
    char what[128];
    snprintf(what, sizeof what, "%s/%s/%s/seed %" PRIu64, c->name, alloc_name, cfg_name, seed);
    o->what = what;
    o->cal = cal;
    o->r.s = seed;
    for (int step = 1; step <= ROUND_OPS; step++) {
        uint32_t dice = rng_below(&o->r, 100);
        if (dice < 30)
            op_new(o);
        else if (dice < 60)
            op_store(o);
        else if (dice < 73)
            op_retain(o);
        else if (dice < 98)
            op_release(o);
        else
            op_weak(o);
        if (step % CHECK_EVERY == 0) {
            oracle_check_reachable(o, "mid-run");
            if (o->e.manual)
                oracle_free_unreachable(o);
            else if (rng_below(&o->r, 2) == 0)
                hl_collect(&o->e.gc, (int)rng_below(&o->r, 4) - 1);
            oracle_check_reachable(o, "after a collection");
        }
    }
    hl_collect(&o->e.gc, -1);
    if (o->e.manual)
        oracle_free_unreachable(o);
    oracle_check_heap(o, "final collection");

    /* Drop everything; only leaked cycles (refcount) may remain. */
    for (int i = 0; i < o->n; i++) {
        onode *nd = &o->nodes[i];
        if (o->e.manual) {
            if (!nd->freed)
                hl_free_object(&o->e.gc, nd->obj);
            nd->freed = 1;
        } else {
            for (; nd->roots > 0; nd->roots--)
                hl_release(&o->e.gc, nd->obj);
        }
        nd->roots = 0;
    }
    for (int k = 0; k < o->nweak; k++)
        env_drop(&o->e, o->weaks[k].w);
    o->nweak = 0;
    hl_collect(&o->e.gc, -1);
    oracle_mark(o);
    if (!o->e.own_heap)
        oracle_check_heap(o, "everything dropped");
    env_close(&o->e);
    free(o);
}

static void test_oracle(const hl_collector_ops *c)
{
    calibration cal = calibrate(c);
    memset(&tally, 0, sizeof tally);
    hl_gc_config dflt = hl_gc_default_config();
    hl_gc_config eager = {.threshold = {5, 2, 2}, .long_lived_rule = 1};
    for (size_t a = 0; a < each_allocator_count; a++) {
        for (uint64_t seed = 1; seed <= 3; seed++) {
            oracle_round(c, each_allocators[a], &dflt, "default", seed, cal);
            oracle_round(c, each_allocators[a], &eager, "eager", seed * 977, cal);
        }
    }
    printf("  %s: oracle: %ld rounds, %ld objects, %ld garbage at the end (%ld left as cyclic "
           "garbage), %ld weak references (%ld to garbage); prefix %s%" PRId64 " bytes\n",
           c->name, tally.rounds, tally.objects, tally.garbage, tally.leaked, tally.weak,
           tally.weak_cleared, cal.ok ? "" : "unmeasured ", cal.prefix);
}

/* ---------------------------------------------------- weak semantics -- */

/* What weak-reference callbacks saw, for the scripted tests below. */
typedef struct weak_log {
    const hl_gc *gc;
    int order[8];
    int n;
    hl_object *watch[8]; /* weak references that must read NULL in any callback */
    int nwatch;
    int not_cleared;     /* a callback saw a watched reference not yet cleared */
    hl_object *drop;     /* dropped by the first callback (robustness test) */
    int drop_manual;
} weak_log;

typedef struct weak_tag {
    weak_log *log;
    int id;
} weak_tag;

static void weak_log_callback(hl_object *w, void *arg)
{
    weak_tag *t = arg;
    weak_log *log = t->log;
    if (log->n < 8)
        log->order[log->n] = t->id;
    log->n++;
    if (hl_weak_get(log->gc, w) != NULL)
        log->not_cleared = 1;
    for (int i = 0; i < log->nwatch; i++)
        if (hl_weak_get(log->gc, log->watch[i]) != NULL)
            log->not_cleared = 1;
    if (log->drop != NULL) {
        hl_object *d = log->drop;
        log->drop = NULL;
        if (log->drop_manual)
            hl_free_object(log->gc, d);
        else
            hl_release(log->gc, d);
    }
}

/* Kill o as the collector allows: free (manual), release, then collect. */
static void kill_object(env *e, hl_object *o)
{
    env_drop(e, o);
    hl_collect(&e->gc, -1);
}

/* Three weak references to one object: cleared when it dies, each callback
 * once, every reference already cleared when any callback runs, newest
 * first under the counting and manual collectors. */
static void test_weak_death(const hl_collector_ops *c, int ordered)
{
    env e;
    if (env_open(&e, c, "pool", NULL) != 0)
        return;
    weak_log log = {.gc = &e.gc};
    weak_tag tags[3];
    hl_object *t = hl_new(&e.gc, &node_type, 1, 16);
    hl_object *w[3];
    for (int i = 0; i < 3; i++) {
        tags[i] = (weak_tag){&log, i};
        w[i] = hl_weak_new(&e.gc, t, weak_log_callback, &tags[i]);
        log.watch[log.nwatch++] = w[i];
        CHECK(hl_weak_get(&e.gc, w[i]) == t, "%s: weak reference does not read its target",
              c->name);
    }
    hl_gc_stats before = env_stats(&e);
    kill_object(&e, t);
    hl_gc_stats after = env_stats(&e);
    if (!e.own_heap) {
        CHECK(log.n == 3, "%s: %d callbacks, expected 3", c->name, log.n);
        for (int i = 0; i < 3; i++)
            CHECK(hl_weak_get(&e.gc, w[i]) == NULL, "%s: weak reference %d not cleared", c->name,
                  i);
        CHECK(!log.not_cleared, "%s: a callback ran before every reference was cleared",
              c->name);
        CHECK(after.callbacks_run - before.callbacks_run == 3, "%s: callbacks_run %" PRIu64,
              c->name, after.callbacks_run - before.callbacks_run);
        CHECK(after.weakrefs_cleared - before.weakrefs_cleared == 3,
              "%s: weakrefs_cleared %" PRIu64, c->name,
              after.weakrefs_cleared - before.weakrefs_cleared);
        if (ordered && log.n == 3)
            CHECK(log.order[0] == 2 && log.order[1] == 1 && log.order[2] == 0,
                  "%s: callbacks ran %d %d %d, not newest first", c->name, log.order[0],
                  log.order[1], log.order[2]);
        hl_collect(&e.gc, -1);
        CHECK(log.n == 3, "%s: callbacks ran again", c->name);
    }

    /* A weak reference dropped before its target: no callback. */
    log.n = 0;
    log.nwatch = 0;
    hl_object *t2 = hl_new(&e.gc, &node_type, 0, 8);
    weak_tag tag = {&log, 7};
    hl_object *w2 = hl_weak_new(&e.gc, t2, weak_log_callback, &tag);
    kill_object(&e, w2);
    kill_object(&e, t2);
    if (!e.own_heap) /* Boehm may keep w2 through a stale word */
        CHECK(log.n == 0, "%s: callback of a dead weak reference ran", c->name);

    /* The newest callback drops the older weak reference: no crash, no
     * leak, no callback twice (ASan watches the rest). */
    log.n = 0;
    hl_object *t3 = hl_new(&e.gc, &node_type, 0, 8);
    weak_tag ta = {&log, 1}, tb = {&log, 2};
    hl_object *wa = hl_weak_new(&e.gc, t3, weak_log_callback, &ta);
    hl_object *wb = hl_weak_new(&e.gc, t3, weak_log_callback, &tb);
    log.drop = wa;
    log.drop_manual = e.manual;
    kill_object(&e, t3);
    if (!e.own_heap) {
        CHECK(log.n >= 1 && log.n <= 2, "%s: %d callbacks with one dropped", c->name, log.n);
        CHECK(log.drop == NULL, "%s: the dropping callback did not run", c->name);
    }
    if (log.drop != NULL)
        kill_object(&e, wa);
    kill_object(&e, wb);
    for (int i = 0; i < 3; i++)
        kill_object(&e, w[i]);
    hl_collect(&e.gc, -1);
    if (!e.own_heap) {
        hl_gc_stats s = env_stats(&e);
        CHECK(s.objects_allocated == s.objects_freed, "%s: %" PRIu64 " of %" PRIu64
              " objects freed", c->name, s.objects_freed, s.objects_allocated);
    }
    env_close(&e);
}

/* A 2-cycle A <-> B dropped by the test, with weak references: WA to A and
 * WB to B held by the test (their callbacks must run, once, after every
 * weak reference to the garbage is cleared), and WD to B held only by A,
 * dying in the same collection (its callback must not run).  Under
 * refcount the cycle leaks and nothing fires. */
static void test_weak_cycle(const hl_collector_ops *c)
{
    env e;
    if (env_open(&e, c, "pool", NULL) != 0)
        return;
    weak_log log = {.gc = &e.gc};
    weak_tag ta = {&log, 0}, tb = {&log, 1}, td = {&log, 2}, te = {&log, 3};
    hl_object *a = hl_new(&e.gc, &node_type, 2, 8);
    hl_object *b = hl_new(&e.gc, &node_type, 1, 8);
    hl_store(&e.gc, a, 0, b);
    hl_store(&e.gc, b, 0, a);
    hl_object *wa = hl_weak_new(&e.gc, a, weak_log_callback, &ta);
    hl_object *wb = hl_weak_new(&e.gc, b, weak_log_callback, &tb);
    hl_object *wd = hl_weak_new(&e.gc, b, weak_log_callback, &td);
    hl_object *we = hl_weak_new(&e.gc, a, NULL, &te); /* no callback, must read NULL */
    hl_store(&e.gc, a, 1, wd);
    log.watch[log.nwatch++] = wa;
    log.watch[log.nwatch++] = wb;
    log.watch[log.nwatch++] = we;
    hl_release(&e.gc, wd);
    hl_release(&e.gc, a);
    hl_release(&e.gc, b);
    hl_gc_stats before = env_stats(&e);
    hl_collect(&e.gc, -1);
    hl_gc_stats after = env_stats(&e);
    if (e.frees_cycles && !e.own_heap) {
        CHECK(log.n == 2, "%s: %d callbacks after the cycle died, expected 2", c->name, log.n);
        int ran_a = 0, ran_b = 0, ran_d = 0;
        for (int i = 0; i < log.n && i < 8; i++) {
            ran_a += log.order[i] == 0;
            ran_b += log.order[i] == 1;
            ran_d += log.order[i] == 2;
        }
        CHECK(ran_a == 1 && ran_b == 1, "%s: callbacks of reachable weak references ran %d, %d "
              "times", c->name, ran_a, ran_b);
        CHECK(ran_d == 0, "%s: callback of a weak reference dying with its referent ran",
              c->name);
        CHECK(!log.not_cleared, "%s: a callback ran before all weak references to the garbage "
              "were cleared", c->name);
        CHECK(hl_weak_get(&e.gc, wa) == NULL && hl_weak_get(&e.gc, wb) == NULL &&
              hl_weak_get(&e.gc, we) == NULL, "%s: weak references to the garbage not cleared",
              c->name);
        CHECK(after.callbacks_run - before.callbacks_run == 2, "%s: callbacks_run %" PRIu64,
              c->name, after.callbacks_run - before.callbacks_run);
        CHECK(after.objects_freed - before.objects_freed == 3, "%s: %" PRIu64 " freed, expected "
              "the cycle and the weak reference in it", c->name,
              after.objects_freed - before.objects_freed);
    } else if (!e.frees_cycles && !e.manual) {
        CHECK(log.n == 0, "%s: a callback ran though the cycle leaks", c->name);
        CHECK(hl_weak_get(&e.gc, wa) == a && hl_weak_get(&e.gc, wb) == b,
              "%s: weak references to a leaked cycle were cleared", c->name);
    } else if (e.manual) {
        /* The test is the workload: under manual it frees what it made. */
        hl_object *made[] = {a, b, wd};
        for (size_t i = 0; i < sizeof made / sizeof made[0]; i++)
            hl_free_object(&e.gc, made[i]);
    }
    env_drop(&e, wa);
    env_drop(&e, wb);
    env_drop(&e, we);
    env_close(&e);
}

/* What the callback of test_weak_teardown saw. */
typedef struct teardown_probe {
    const hl_gc *gc;
    hl_object *wa;       /* weak reference to A, read by the callback */
    hl_object *wc;       /* weak reference to C, which stays alive */
    hl_object *got_a;    /* what weak_get(wa) gave, retained by the callback */
    hl_object *got_c;
    int calls;
} teardown_probe;

static void teardown_probe_callback(hl_object *w, void *arg)
{
    (void)w;
    teardown_probe *p = arg;
    p->calls++;
    p->got_a = hl_weak_get(p->gc, p->wa);
    if (p->got_a != NULL)
        hl_retain(p->gc, p->got_a); /* must be safe whatever weak_get returns */
    p->got_c = hl_weak_get(p->gc, p->wc);
    if (p->got_c != NULL)
        hl_retain(p->gc, p->got_c);
}

/* R holds A and B; wA is a weak reference to A; wB one to B whose callback
 * reads wA and retains what it gets.  Dropping R kills A and B in one
 * teardown.  When R drops A first (a_first), A is dead by the time B's
 * callback runs: the callback must find wA cleared (NULL), never A dead
 * but not yet torn down (until the fix it got A, and retaining it wrote
 * into the teardown's bookkeeping: a crash).  When R drops B first, A may
 * still be alive (reference counting: R has not let go of it yet), and
 * then what the callback retained must stay alive and intact until the
 * test releases it.  The callback also retains C, alive throughout,
 * through another weak reference.  Under manual the test frees R, then A,
 * then B. */
static void test_weak_teardown(const hl_collector_ops *c, int a_first)
{
    env e;
    if (env_open(&e, c, "pool", NULL) != 0)
        return;
    const char *order = a_first ? "A dropped first" : "B dropped first";
    teardown_probe p = {.gc = &e.gc};
    hl_object *r = hl_new(&e.gc, &node_type, 2, 8);
    hl_object *a = hl_new(&e.gc, &node_type, 0, 16);
    hl_object *b = hl_new(&e.gc, &node_type, 1, 8);
    hl_object *cobj = hl_new(&e.gc, &node_type, 0, 8);
    pattern_fill(a, 0xA11CE);
    hl_store(&e.gc, r, a_first ? 0 : 1, a);
    hl_store(&e.gc, r, a_first ? 1 : 0, b);
    p.wa = hl_weak_new(&e.gc, a, NULL, NULL);
    p.wc = hl_weak_new(&e.gc, cobj, NULL, NULL);
    hl_object *wb = hl_weak_new(&e.gc, b, teardown_probe_callback, &p);
    if (!e.manual) {
        hl_release(&e.gc, a);
        hl_release(&e.gc, b);
        hl_release(&e.gc, r);
        hl_collect(&e.gc, -1);
    } else {
        hl_free_object(&e.gc, r);
        hl_free_object(&e.gc, a);
        hl_free_object(&e.gc, b);
    }
    if (!e.own_heap)
        CHECK(p.calls == 1, "%s (%s): %d callbacks after B died, expected 1", c->name, order,
              p.calls);
    if (a_first)
        CHECK(p.calls == 0 || p.got_a == NULL, "%s (%s): a weak-reference callback got A from "
              "weak_get after A died in the same teardown", c->name, order);
    if (p.got_a != NULL) {
        CHECK(p.got_a == a && pattern_intact(a, 0xA11CE), "%s (%s): what the callback "
              "retained through weak_get is not A intact", c->name, order);
        CHECK(hl_weak_get(&e.gc, p.wa) == a, "%s (%s): A, retained, lost its weak reference",
              c->name, order);
        if (!e.manual)
            hl_release(&e.gc, p.got_a);
        hl_collect(&e.gc, -1);
    }
    CHECK(p.calls == 0 || p.got_c == cobj, "%s (%s): a callback lost a live object", c->name,
          order);
    if (!e.own_heap)
        CHECK(hl_weak_get(&e.gc, p.wa) == NULL, "%s (%s): the weak reference to A not cleared",
              c->name, order);
    if (p.got_c != NULL && !e.manual)
        hl_release(&e.gc, p.got_c);
    env_drop(&e, cobj);
    env_drop(&e, wb);
    env_drop(&e, p.wa);
    env_drop(&e, p.wc);
    hl_collect(&e.gc, -1);
    if (!e.own_heap) {
        hl_gc_stats s = env_stats(&e);
        CHECK(s.objects_allocated == s.objects_freed, "%s (%s): %" PRIu64 " of %" PRIu64
              " objects freed", c->name, order, s.objects_freed, s.objects_allocated);
    }
    env_close(&e);
}

/* ------------------------------------------------------------- chain -- */

/* A chain of `length` nodes, each holding the previous one, held only by
 * its head; releasing the head must free it all without recursion. */
static void test_chain(const hl_collector_ops *c, long length)
{
    env e;
    if (env_open(&e, c, "pool", NULL) != 0)
        return;
    double t0 = now_s();
    hl_object *head = hl_new(&e.gc, &node_type, 1, 0);
    long made = head != NULL;
    for (long i = 1; i < length && head != NULL; i++) {
        hl_object *n = hl_new(&e.gc, &node_type, 1, 0);
        if (n == NULL)
            break;
        hl_store(&e.gc, n, 0, head);
        hl_release(&e.gc, head);
        head = n;
        made++;
    }
    CHECK(made == length, "%s: only %ld of %ld chain nodes allocated", c->name, made, length);
    double t1 = now_s();
    if (head != NULL)
        hl_release(&e.gc, head);
    double t2 = now_s();
    hl_gc_stats s = env_stats(&e);
    CHECK(s.objects_freed == s.objects_allocated, "%s: chain: %" PRIu64 " of %" PRIu64 " freed",
          c->name, s.objects_freed, s.objects_allocated);
    CHECK(env_live(&e) == 0, "%s: chain: %" PRIu64 " bytes live", c->name, env_live(&e));
    printf("  %s: chain of %ld built in %.2f s, freed by releasing its head in %.2f s\n", c->name,
           length, t1 - t0, t2 - t1);
    env_close(&e);
}

/* ------------------------------------------------------- generations -- */

/* CPython 3.11/3.12's triggering rules, for objects that never die. */
typedef struct gen_model {
    int64_t threshold[3], count[3], size[3];
    int64_t pending, total;
    int rule;
    uint64_t collections[3];
} gen_model;

static void model_collect(gen_model *m, int g)
{
    if (g + 1 < 3)
        m->count[g + 1]++;
    int64_t merged = 0;
    for (int i = 0; i <= g; i++) {
        m->count[i] = 0;
        merged += m->size[i];
        m->size[i] = 0;
    }
    if (g < 2) {
        m->size[g + 1] += merged;
        if (g == 1)
            m->pending += merged;
    } else {
        m->size[2] = merged;
        m->pending = 0;
        m->total = merged;
    }
    m->collections[g]++;
}

static void model_alloc(gen_model *m)
{
    m->count[0]++;
    if (m->threshold[0] > 0 && m->count[0] > m->threshold[0]) {
        for (int i = 2; i >= 0; i--) {
            if (m->count[i] <= m->threshold[i])
                continue;
            if (i == 2 && m->rule && m->pending < m->total / 4)
                continue;
            model_collect(m, i);
            break;
        }
    }
    m->size[0]++;
}

/* Allocate `n` tracked objects that all stay alive and compare the
 * collections of each generation with the model at every step of `every`. */
static void thresholds_case(const hl_collector_ops *c, hl_gc_config cfg, long n, long every)
{
    env e;
    if (env_open(&e, c, "pool", &cfg) != 0)
        return;
    gen_model m = {.rule = cfg.long_lived_rule};
    for (int i = 0; i < 3; i++)
        m.threshold[i] = cfg.threshold[i];
    hl_object **held = calloc((size_t)n, sizeof *held);
    int mismatches = 0;
    for (long k = 0; k < n && held != NULL; k++) {
        held[k] = hl_new(&e.gc, &node_type, 1, 0);
        model_alloc(&m);
        if ((k + 1) % every == 0 || k + 1 == n) {
            hl_gc_stats s = env_stats(&e);
            int same = 1;
            for (int g = 0; g < 3; g++)
                same &= s.collections[g] == m.collections[g];
            if (!same && mismatches++ == 0)
                CHECK(same, "%s: thresholds %" PRId64 "/%" PRId64 "/%" PRId64 " rule %d: after "
                      "%ld allocations collections %" PRIu64 "/%" PRIu64 "/%" PRIu64
                      ", CPython's rules give %" PRIu64 "/%" PRIu64 "/%" PRIu64, c->name,
                      cfg.threshold[0], cfg.threshold[1], cfg.threshold[2], cfg.long_lived_rule,
                      k + 1, s.collections[0], s.collections[1], s.collections[2],
                      m.collections[0], m.collections[1], m.collections[2]);
        }
    }
    for (long k = 0; k < n && held != NULL; k++)
        hl_release(&e.gc, held[k]);
    free(held);
    env_close(&e);
}

static hl_gc_stats collections_after(const hl_collector_ops *c, hl_gc_config cfg, long n)
{
    env e;
    hl_gc_stats s;
    memset(&s, 0, sizeof s);
    if (env_open(&e, c, "pool", &cfg) != 0)
        return s;
    hl_object **held = calloc((size_t)n, sizeof *held);
    for (long k = 0; k < n && held != NULL; k++)
        held[k] = hl_new(&e.gc, &node_type, 1, 0);
    s = env_stats(&e);
    for (long k = 0; k < n && held != NULL; k++)
        hl_release(&e.gc, held[k]);
    free(held);
    env_close(&e);
    return s;
}

static void test_thresholds(const hl_collector_ops *c)
{
    hl_gc_config plain = {.threshold = {700, 10, 10}, .long_lived_rule = 0};
    /* Worked by hand: a generation-0 collection on the 701st allocation;
     * the 12th collection is of generation 1 (its count is then 11 > 10). */
    hl_gc_stats s = collections_after(c, plain, 700);
    CHECK(s.collections[0] == 0, "%s: collected before the threshold was exceeded", c->name);
    s = collections_after(c, plain, 701);
    CHECK(s.collections[0] == 1 && s.collections[1] == 0, "%s: 701 allocations gave %" PRIu64
          "/%" PRIu64 " collections", c->name, s.collections[0], s.collections[1]);
    s = collections_after(c, plain, 701 * 12);
    CHECK(s.collections[0] == 11 && s.collections[1] == 1 && s.collections[2] == 0,
          "%s: 8412 allocations gave %" PRIu64 "/%" PRIu64 "/%" PRIu64, c->name,
          s.collections[0], s.collections[1], s.collections[2]);
    hl_gc_config off = {.threshold = {0, 10, 10}, .long_lived_rule = 1};
    s = collections_after(c, off, 20000);
    CHECK(s.collections[0] + s.collections[1] + s.collections[2] == 0,
          "%s: threshold 0 did not disable automatic collection", c->name);

    /* Against the model, with and without the long-lived rule. */
    thresholds_case(c, hl_gc_default_config(), 200000, 997);
    thresholds_case(c, plain, 100000, 997);
    thresholds_case(c, (hl_gc_config){.threshold = {20, 3, 2}, .long_lived_rule = 1}, 60000, 13);
    thresholds_case(c, (hl_gc_config){.threshold = {20, 3, 2}, .long_lived_rule = 0}, 20000, 13);
    thresholds_case(c, (hl_gc_config){.threshold = {7, 0, 1}, .long_lived_rule = 1}, 20000, 1);

    /* Generation 0's count is allocations minus deallocations. */
    env e;
    hl_gc_config ten = {.threshold = {10, 10, 10}, .long_lived_rule = 1};
    if (env_open(&e, c, "pool", &ten) == 0) {
        hl_object *o[14];
        for (int i = 0; i < 10; i++)
            o[i] = hl_new(&e.gc, &node_type, 1, 0);
        for (int i = 0; i < 3; i++)
            hl_release(&e.gc, o[i]);
        for (int i = 10; i < 13; i++)
            o[i] = hl_new(&e.gc, &node_type, 1, 0);
        CHECK(env_stats(&e).collections[0] == 0, "%s: deallocations not subtracted from the "
              "generation-0 count", c->name);
        for (int i = 0; i < 40; i++) /* no reference fields: untracked, counts nothing */
            hl_release(&e.gc, hl_new(&e.gc, &node_type, 0, 8));
        CHECK(env_stats(&e).collections[0] == 0, "%s: untracked objects counted", c->name);
        o[13] = hl_new(&e.gc, &node_type, 1, 0);
        CHECK(env_stats(&e).collections[0] == 1, "%s: the 11th net allocation did not collect",
              c->name);
        for (int i = 3; i < 14; i++)
            hl_release(&e.gc, o[i]);
        env_close(&e);
    }
}

/* `pairs` 2-cycles, dropped: garbage for the next collection. */
static void make_garbage_cycles(env *e, int pairs)
{
    for (int i = 0; i < pairs; i++) {
        hl_object *x = hl_new(&e->gc, &node_type, 1, 8);
        hl_object *y = hl_new(&e->gc, &listed_type, 1, 8);
        hl_store(&e->gc, x, 0, y);
        hl_store(&e->gc, y, 0, x);
        hl_release(&e->gc, x);
        hl_release(&e->gc, y);
    }
}

/* Per-generation statistics, and that a young collection leaves older
 * generations alone. */
static void test_generation_stats(const hl_collector_ops *c)
{
    env e;
    hl_gc_config manual_only = {.threshold = {0, 10, 10}, .long_lived_rule = 1};
    if (env_open(&e, c, "pool", &manual_only) != 0)
        return;
    make_garbage_cycles(&e, 100);
    hl_collect(&e.gc, 0);
    hl_gc_stats s = env_stats(&e);
    CHECK(s.collections[0] == 1 && s.collected[0] == 200, "%s: gen 0: %" PRIu64
          " collections, %" PRIu64 " collected", c->name, s.collections[0], s.collected[0]);

    /* A cycle that survives a young collection ages into generation 1. */
    hl_object *x = hl_new(&e.gc, &node_type, 1, 0), *y = hl_new(&e.gc, &node_type, 1, 0);
    hl_store(&e.gc, x, 0, y);
    hl_store(&e.gc, y, 0, x);
    hl_collect(&e.gc, 0);
    hl_release(&e.gc, x);
    hl_release(&e.gc, y);
    hl_collect(&e.gc, 0);
    s = env_stats(&e);
    CHECK(s.collections[0] == 3 && s.collected[0] == 200, "%s: a gen-0 collection reached "
          "generation 1 (%" PRIu64 " collected)", c->name, s.collected[0]);
    make_garbage_cycles(&e, 50);
    hl_collect(&e.gc, 1);
    s = env_stats(&e);
    CHECK(s.collections[1] == 1 && s.collected[1] == 102, "%s: gen 1: %" PRIu64
          " collections, %" PRIu64 " collected", c->name, s.collections[1], s.collected[1]);
    make_garbage_cycles(&e, 30);
    hl_collect(&e.gc, -1);
    s = env_stats(&e);
    CHECK(s.collections[2] == 1 && s.collected[2] == 60, "%s: gen 2: %" PRIu64
          " collections, %" PRIu64 " collected", c->name, s.collections[2], s.collected[2]);
    CHECK(s.uncollectable[0] + s.uncollectable[1] + s.uncollectable[2] == 0,
          "%s: uncollectable objects without finalizers", c->name);
    CHECK(s.pauses == 5 && s.pause_total_ns > 0 && s.pause_max_ns >= s.pause_p50_ns &&
          s.pause_p99_ns >= s.pause_p50_ns, "%s: %" PRIu64 " pauses logged, expected 5",
          c->name, s.pauses);
    CHECK(s.objects_freed == s.objects_allocated, "%s: %" PRIu64 " of %" PRIu64 " freed",
          c->name, s.objects_freed, s.objects_allocated);
    env_close(&e);
}

/* -------------------------------------------------------- finalizers -- */

/* What the finalizers of the scripted tests below saw.  One at a time:
 * each test resets it. */
static struct fin_log {
    int finalized, legacy, callbacks; /* calls */
    char order[16];                   /* 'F' finalize, 'W' callback, 'L' legacy_del */
    int n;
    hl_object *resurrect_into;        /* finalize stores its object in slot 0 of this */
    hl_object *watch;                 /* a weak reference to the dying object */
    int watch_set_in_finalize;        /* the weak reference still read the object */
    int watch_set_in_legacy;
    int fields_cleared;               /* a finalizer found a slot of its object NULL */
} fin;

static void fin_note(char what)
{
    if (fin.n < (int)sizeof fin.order - 1)
        fin.order[fin.n++] = what;
}

static void fin_reset(void)
{
    memset(&fin, 0, sizeof fin);
}

static void fin_finalize(const hl_gc *gc, hl_object *o)
{
    fin.finalized++;
    fin_note('F');
    for (uint32_t i = 0; i < o->nrefs; i++)
        fin.fields_cleared += o->refs[i] == NULL;
    if (fin.watch != NULL && hl_weak_get(gc, fin.watch) == o)
        fin.watch_set_in_finalize = 1;
    if (fin.resurrect_into != NULL) {
        hl_store(gc, fin.resurrect_into, 0, o);
        fin.resurrect_into = NULL; /* once */
    }
}

static void fin_legacy(const hl_gc *gc, hl_object *o)
{
    fin.legacy++;
    fin_note('L');
    if (fin.watch != NULL && hl_weak_get(gc, fin.watch) == o)
        fin.watch_set_in_legacy = 1;
}

static void fin_callback(hl_object *w, void *arg)
{
    (void)w;
    (void)arg;
    fin.callbacks++;
    fin_note('W');
}

static const hl_type fin_type = {.name = "test-finalized", .finalize = fin_finalize};
static const hl_type legacy_type = {.name = "test-legacy", .legacy_del = fin_legacy};
static const hl_type both_type = {.name = "test-both", .finalize = fin_finalize,
                                  .legacy_del = fin_legacy};

/* What a weak reference callback of test_fast_paths does: free another
 * weak reference object (manual defers its memory until the callbacks are
 * over) and note whether the inline free was on meanwhile. */
typedef struct fast_cb {
    const hl_gc *gc;
    hl_object *victim;
    int inline_during;
} fast_cb;

static void fast_cb_free_victim(hl_object *w, void *arg)
{
    (void)w;
    fast_cb *cb = arg;
    hl_free_object(cb->gc, cb->victim);
    cb->inline_during = cb->gc->fast->free_inline;
}

/* The fast paths (collector.h's hl_gc_fast), for a collector that offers
 * them: a child made inline is laid out, zeroed, counted and reclaimed as
 * the table's would be; a child of a type with finalizers, or one stored
 * over an object already in the field, still gets what the table gives it
 * (its finalizer; the old value dropped).  Under a collector that frees
 * inline (manual), free_inline is off exactly while a free must do more
 * than free: while any weak reference object is alive (one freed inside a
 * callback included, until its memory goes) and once an object with a
 * finalizer was made, for as long as one may be alive. */
static void test_fast_paths(const hl_collector_ops *c)
{
    env e;
    if (env_open(&e, c, "glibc", NULL) != 0)
        return;
    hl_gc_fast *f = e.gc.fast;
    CHECK((f != NULL) == (c->fast != NULL),
          "%s: hl_gc_open left fast %p for a table whose fast is %s", c->name, (void *)f,
          c->fast ? "set" : "NULL");
    if (f == NULL) {
        env_close(&e);
        return;
    }
    hl_gc_stats s0 = env_stats(&e);
    hl_object *p = hl_new(&e.gc, &node_type, 2, 8);
    hl_object *a = p ? hl_new_child(&e.gc, p, 0, &node_type, 1, 24) : NULL;
    CHECK(a != NULL && p->refs[0] == a && p->refs[1] == NULL, "%s: inline child not stored",
          c->name);
    if (a == NULL) {
        env_close(&e);
        return;
    }
    const unsigned char *d = hl_object_data(a);
    int zero = a->refs[0] == NULL;
    for (int i = 0; i < 24; i++)
        zero &= d[i] == 0;
    CHECK(a->type == &node_type && a->nrefs == 1 && a->data_size == 24 && zero,
          "%s: inline child's header %s/%u/%u or fields not as made", c->name,
          a->type ? a->type->name : "NULL", a->nrefs, a->data_size);
    hl_gc_stats s1 = env_stats(&e);
    CHECK(s1.objects_allocated == s0.objects_allocated + 2, "%s: %" PRIu64 " objects counted for 2",
          c->name, s1.objects_allocated - s0.objects_allocated);
    /* A second child over the first: the table's case, which drops the old
     * value under a counting collector (under manual it is the workload's). */
    hl_object *b = hl_new_child(&e.gc, p, 0, &node_type, 0, 8);
    hl_gc_stats s2 = env_stats(&e);
    CHECK(b != NULL && p->refs[0] == b, "%s: child over a child not stored", c->name);
    if (e.manual)
        hl_free_object(&e.gc, a);
    else
        CHECK(e.own_heap || s2.objects_freed == s1.objects_freed + 1,
              "%s: the child stored over was not dropped (%" PRIu64 " freed)", c->name,
              s2.objects_freed - s1.objects_freed);
    /* A child with a finalizer: the table's, whose finalizer runs at death. */
    fin_reset();
    hl_object *x = hl_new_child(&e.gc, p, 1, &fin_type, 0, 16);
    CHECK(x != NULL && p->refs[1] == x, "%s: finalizing child not stored", c->name);
    if (e.manual) {
        CHECK(!f->free_inline, "%s: frees inline after an object with a finalizer was made",
              c->name);
        hl_free_object(&e.gc, b);
        hl_free_object(&e.gc, x);
        hl_free_object(&e.gc, p);
    } else {
        hl_release(&e.gc, p); /* each child's one reference was the parent's */
    }
    CHECK(fin.finalized == 1, "%s: the finalizing child's finalizer ran %d times", c->name,
          fin.finalized);
    hl_gc_stats s3 = env_stats(&e);
    CHECK(e.own_heap || s3.objects_freed == s0.objects_freed + 4,
          "%s: %" PRIu64 " objects freed for 4 (inline children must die like the table's)",
          c->name, s3.objects_freed - s0.objects_freed);
    env_close(&e);
    if (!e.manual)
        return;

    /* manual's free_inline, on a fresh collector. */
    if (env_open(&e, c, "glibc", NULL) != 0)
        return;
    f = e.gc.fast;
    CHECK(f->free_inline, "%s: a fresh collector does not free inline", c->name);
    hl_object *t = hl_new(&e.gc, &node_type, 0, 8);
    fast_cb cb = {.gc = &e.gc};
    hl_object *w1 = hl_weak_new(&e.gc, t, fast_cb_free_victim, &cb);
    cb.victim = hl_weak_new(&e.gc, t, NULL, NULL);
    CHECK(!f->free_inline, "%s: frees inline while a weak reference is alive", c->name);
    hl_free_object(&e.gc, t); /* w1's callback frees the other weak reference */
    CHECK(!cb.inline_during, "%s: freed inline inside a weak reference callback", c->name);
    CHECK(hl_weak_get(&e.gc, w1) == NULL, "%s: weak reference not cleared by the free", c->name);
    CHECK(!f->free_inline, "%s: frees inline while one weak reference is still alive (the "
          "one freed in the callback counted twice?)", c->name);
    hl_free_object(&e.gc, w1);
    CHECK(f->free_inline, "%s: not freeing inline again once the last weak reference went",
          c->name);
    fin_reset();
    hl_object *y = hl_new(&e.gc, &fin_type, 0, 16), *z = hl_new(&e.gc, &fin_type, 0, 16);
    hl_free_object(&e.gc, y);
    hl_free_object(&e.gc, z); /* the second finalizing object still needs the table */
    CHECK(fin.finalized == 2, "%s: %d finalizers ran for two objects freed one after the other",
          c->name, fin.finalized);
    env_close(&e);
}

/* Death by count (manual: by free_object): the finalizer runs first, with
 * the object and its weak references intact, then the weak references are
 * cleared and their callbacks run, then the legacy finalizer, each once.
 * Counting collectors: a finalizer that stores its object into a live one
 * resurrects it, and its second death calls no finalizer again. */
static void test_finalizer_death(const hl_collector_ops *c)
{
    env e;
    if (env_open(&e, c, "pool", NULL) != 0)
        return;
    fin_reset();
    hl_object *x = hl_new(&e.gc, &both_type, 1, 16);
    hl_object *child = hl_new(&e.gc, &node_type, 0, 8);
    hl_store(&e.gc, x, 0, child);
    if (!e.manual)
        hl_release(&e.gc, child); /* x's now */
    pattern_fill(x, 0xF1);
    fin.watch = hl_weak_new(&e.gc, x, fin_callback, NULL);
    env_drop(&e, x);
    if (e.manual)
        hl_free_object(&e.gc, child);
    CHECK(fin.finalized == 1 && fin.legacy == 1 && fin.callbacks == 1, "%s: death: %d "
          "finalize, %d legacy_del, %d callback calls, expected 1 each", c->name, fin.finalized,
          fin.legacy, fin.callbacks);
    CHECK(strcmp(fin.order, "FWL") == 0, "%s: death ran %s, expected finalize, callback, "
          "legacy_del (FWL)", c->name, fin.order);
    CHECK(fin.watch_set_in_finalize && !fin.watch_set_in_legacy, "%s: weak references %s "
          "during the finalizer, %s during legacy_del", c->name,
          fin.watch_set_in_finalize ? "set" : "cleared",
          fin.watch_set_in_legacy ? "set" : "cleared");
    CHECK(fin.fields_cleared == 0, "%s: a finalizer found its object's fields cleared", c->name);
    CHECK(hl_weak_get(&e.gc, fin.watch) == NULL, "%s: weak reference not cleared", c->name);
    env_drop(&e, fin.watch);
    hl_gc_stats s = env_stats(&e);
    CHECK(s.finalizers_run == 1 && s.resurrected == 0, "%s: finalizers_run %" PRIu64
          ", resurrected %" PRIu64, c->name, s.finalizers_run, s.resurrected);
    CHECK(s.objects_allocated == s.objects_freed, "%s: death: %" PRIu64 " of %" PRIu64
          " freed", c->name, s.objects_freed, s.objects_allocated);

    if (!e.manual) {
        /* Resurrection: the finalizer stores x into holder. */
        fin_reset();
        hl_object *holder = hl_new(&e.gc, &node_type, 1, 0);
        x = hl_new(&e.gc, &fin_type, 0, 16);
        pattern_fill(x, 0xF2);
        fin.watch = hl_weak_new(&e.gc, x, fin_callback, NULL);
        fin.resurrect_into = holder;
        hl_release(&e.gc, x);
        CHECK(fin.finalized == 1 && fin.callbacks == 0, "%s: resurrection: %d finalize, %d "
              "callback calls, expected 1, 0", c->name, fin.finalized, fin.callbacks);
        CHECK(holder->refs[0] == x && pattern_intact(x, 0xF2) &&
              hl_weak_get(&e.gc, fin.watch) == x, "%s: the resurrected object is not intact "
              "and weakly referenced", c->name);
        s = env_stats(&e);
        CHECK(s.resurrected == 1, "%s: resurrected %" PRIu64 ", expected 1", c->name,
              s.resurrected);
        hl_store(&e.gc, holder, 0, NULL); /* its second death */
        CHECK(fin.finalized == 1, "%s: finalizer called %d times for one object", c->name,
              fin.finalized);
        CHECK(fin.callbacks == 1 && hl_weak_get(&e.gc, fin.watch) == NULL, "%s: the second "
              "death cleared no weak reference", c->name);
        hl_release(&e.gc, fin.watch);
        hl_release(&e.gc, holder);
        hl_collect(&e.gc, -1);
        s = env_stats(&e);
        CHECK(s.objects_allocated == s.objects_freed, "%s: resurrection: %" PRIu64 " of %"
              PRIu64 " freed", c->name, s.objects_freed, s.objects_allocated);
    }
    env_close(&e);
}

/* A 2-cycle of objects with finalizers, collected: each finalizer runs
 * once, before anything of the cycle is cleared; a later collection calls
 * none again. */
static void test_finalizer_once(const hl_collector_ops *c)
{
    env e;
    hl_gc_config manual_only = {.threshold = {0, 10, 10}, .long_lived_rule = 1};
    if (env_open(&e, c, "pool", &manual_only) != 0)
        return;
    fin_reset();
    hl_object *a = hl_new(&e.gc, &fin_type, 1, 8), *b = hl_new(&e.gc, &fin_type, 1, 8);
    hl_store(&e.gc, a, 0, b);
    hl_store(&e.gc, b, 0, a);
    hl_release(&e.gc, a);
    hl_release(&e.gc, b);
    hl_collect(&e.gc, 0);
    hl_gc_stats s = env_stats(&e);
    CHECK(fin.finalized == 2, "%s: %d finalizer calls for a 2-cycle, expected 2", c->name,
          fin.finalized);
    CHECK(fin.fields_cleared == 0, "%s: a finalizer ran after its cycle was cleared", c->name);
    CHECK(s.collected[0] == 2 && s.finalizers_run == 2 && s.resurrected == 0,
          "%s: collected %" PRIu64 ", finalizers_run %" PRIu64 ", resurrected %" PRIu64,
          c->name, s.collected[0], s.finalizers_run, s.resurrected);
    hl_collect(&e.gc, -1);
    CHECK(fin.finalized == 2, "%s: finalizers ran again", c->name);
    s = env_stats(&e);
    CHECK(s.objects_allocated == s.objects_freed, "%s: %" PRIu64 " of %" PRIu64 " freed",
          c->name, s.objects_freed, s.objects_allocated);
    env_close(&e);
}

/* A finalizer resurrects its object out of a garbage cycle A <-> B -> C:
 * all three survive the collection intact (handle_resurrected_objects),
 * none is counted as collected; once dropped again they are collected
 * without a second finalizer call. */
static void test_resurrection(const hl_collector_ops *c)
{
    env e;
    hl_gc_config manual_only = {.threshold = {0, 10, 10}, .long_lived_rule = 1};
    if (env_open(&e, c, "pool", &manual_only) != 0)
        return;
    fin_reset();
    hl_object *holder = hl_new(&e.gc, &node_type, 1, 0);
    hl_object *a = hl_new(&e.gc, &fin_type, 1, 16);
    hl_object *b = hl_new(&e.gc, &node_type, 2, 16);
    hl_object *cc = hl_new(&e.gc, &node_type, 1, 16);
    pattern_fill(a, 0xA);
    pattern_fill(b, 0xB);
    pattern_fill(cc, 0xC);
    hl_store(&e.gc, a, 0, b);
    hl_store(&e.gc, b, 0, a);
    hl_store(&e.gc, b, 1, cc);
    fin.resurrect_into = holder;
    hl_release(&e.gc, a);
    hl_release(&e.gc, b);
    hl_release(&e.gc, cc);
    hl_collect(&e.gc, -1);
    hl_gc_stats s = env_stats(&e);
    CHECK(fin.finalized == 1, "%s: %d finalizer calls, expected 1", c->name, fin.finalized);
    CHECK(s.collected[2] == 0, "%s: %" PRIu64 " objects collected though a finalizer "
          "resurrected their cycle", c->name, s.collected[2]);
    CHECK(s.resurrected == 3, "%s: resurrected %" PRIu64 ", expected 3", c->name,
          s.resurrected);
    CHECK(holder->refs[0] == a && a->refs[0] == b && b->refs[0] == a && b->refs[1] == cc &&
          pattern_intact(a, 0xA) && pattern_intact(b, 0xB) && pattern_intact(cc, 0xC),
          "%s: the resurrected cycle is damaged", c->name);
    CHECK(s.objects_allocated - s.objects_freed == 4, "%s: %" PRIu64 " objects alive, "
          "expected 4", c->name, s.objects_allocated - s.objects_freed);

    hl_store(&e.gc, holder, 0, NULL); /* garbage again */
    hl_collect(&e.gc, -1);
    s = env_stats(&e);
    CHECK(fin.finalized == 1, "%s: the finalizer ran again (%d calls)", c->name,
          fin.finalized);
    CHECK(s.collected[2] == 3, "%s: %" PRIu64 " collected the second time, expected 3",
          c->name, s.collected[2]);
    hl_release(&e.gc, holder);
    s = env_stats(&e);
    CHECK(s.objects_allocated == s.objects_freed, "%s: %" PRIu64 " of %" PRIu64 " freed",
          c->name, s.objects_freed, s.objects_allocated);
    env_close(&e);
}

/* A cycle holding an object with a legacy finalizer is uncollectable: it
 * stays alive and intact (on the garbage list), is counted as
 * uncollectable in the generation collected, once, and its memory is
 * freed at close (ASan's leak check and the tracker watch).  A legacy
 * object that merely hangs off a collectable cycle is not: the cycle's
 * deletion frees it by count, calling its legacy finalizer then. */
static void test_uncollectable(const hl_collector_ops *c)
{
    env e;
    hl_gc_config manual_only = {.threshold = {0, 10, 10}, .long_lived_rule = 1};
    if (env_open(&e, c, "pool", &manual_only) != 0)
        return;
    fin_reset();
    hl_object *l = hl_new(&e.gc, &legacy_type, 1, 16), *m = hl_new(&e.gc, &node_type, 2, 16);
    hl_object *leaf = hl_new(&e.gc, &node_type, 1, 16);
    pattern_fill(l, 0x1);
    pattern_fill(m, 0x2);
    hl_store(&e.gc, l, 0, m);
    hl_store(&e.gc, m, 0, l);
    hl_store(&e.gc, m, 1, leaf);
    hl_object *wl = hl_weak_new(&e.gc, l, fin_callback, NULL);
    hl_release(&e.gc, l);
    hl_release(&e.gc, m);
    hl_release(&e.gc, leaf);
    make_garbage_cycles(&e, 5);
    hl_collect(&e.gc, 0);
    hl_gc_stats s = env_stats(&e);
    CHECK(s.uncollectable[0] == 3 && s.collected[0] == 10, "%s: uncollectable %" PRIu64
          ", collected %" PRIu64 ", expected 3 and 10", c->name, s.uncollectable[0],
          s.collected[0]);
    CHECK(fin.legacy == 0 && fin.callbacks == 0, "%s: an uncollectable cycle ran %d legacy "
          "finalizers, %d callbacks", c->name, fin.legacy, fin.callbacks);
    CHECK(l->refs[0] == m && m->refs[0] == l && m->refs[1] == leaf && pattern_intact(l, 0x1) &&
          pattern_intact(m, 0x2) && hl_weak_get(&e.gc, wl) == l,
          "%s: an uncollectable cycle was damaged", c->name);
    hl_collect(&e.gc, -1);
    s = env_stats(&e);
    CHECK(s.uncollectable[2] == 0, "%s: uncollectable objects counted again (%" PRIu64
          ") once on the garbage list", c->name, s.uncollectable[2]);

    /* G1 <-> G2 -> L: L is not on a cycle, so it dies by count. */
    hl_object *g1 = hl_new(&e.gc, &node_type, 2, 0), *g2 = hl_new(&e.gc, &node_type, 1, 0);
    hl_object *l2 = hl_new(&e.gc, &legacy_type, 1, 0);
    hl_store(&e.gc, g1, 0, g2);
    hl_store(&e.gc, g2, 0, g1);
    hl_store(&e.gc, g1, 1, l2);
    hl_release(&e.gc, g1);
    hl_release(&e.gc, g2);
    hl_release(&e.gc, l2);
    hl_collect(&e.gc, -1);
    s = env_stats(&e);
    CHECK(fin.legacy == 1 && s.uncollectable[2] == 0 && s.collected[2] == 2,
          "%s: a legacy object off a garbage cycle: %d legacy calls, uncollectable %" PRIu64
          ", collected %" PRIu64 ", expected 1, 0, 2", c->name, fin.legacy,
          s.uncollectable[2], s.collected[2]);
    CHECK(s.objects_allocated - s.objects_freed == 4, "%s: %" PRIu64 " objects alive, "
          "expected the 3 uncollectable and a weak reference", c->name,
          s.objects_allocated - s.objects_freed);
    hl_release(&e.gc, wl);
    env_close(&e); /* frees the garbage list's objects; the tracker checks */
}

/* Untracking.  Tuples whose slots hold only atoms (NULL, objects without
 * slots) or untracked tuples leave the generations at the first collection
 * that sees them; a tuple holding a tracked object stays.  Dicts start
 * untracked, are tracked by a store of a trackable value, untracked only by
 * a full collection, and a cycle through a dict is still collected. */
static void test_untracking(const hl_collector_ops *c)
{
    static const hl_type tuple_type = {.name = "test-tuple", .kind = HL_KIND_TUPLE};
    static const hl_type dict_type = {.name = "test-dict", .kind = HL_KIND_DICT};
    env e;
    hl_gc_config manual_only = {.threshold = {0, 10, 10}, .long_lived_rule = 1};
    if (env_open(&e, c, "pool", &manual_only) != 0)
        return;
    int64_t t0 = env_stats(&e).tracked_objects;
    hl_object *atom = hl_new(&e.gc, &node_type, 0, 8);
    hl_object *list = hl_new(&e.gc, &node_type, 1, 0);
    hl_object *t_null = hl_new(&e.gc, &tuple_type, 2, 8);
    hl_object *t_atom = hl_new(&e.gc, &tuple_type, 2, 8);
    hl_store(&e.gc, t_atom, 0, atom);
    hl_object *t_list = hl_new(&e.gc, &tuple_type, 1, 0);
    hl_store(&e.gc, t_list, 0, list);
    hl_object *t_tuple = hl_new(&e.gc, &tuple_type, 1, 0);
    hl_store(&e.gc, t_tuple, 0, t_atom);
    int64_t t1 = env_stats(&e).tracked_objects;
    CHECK(t1 - t0 == 5, "%s: %" PRId64 " objects tracked, expected the 4 tuples and the list",
          c->name, t1 - t0);
    hl_collect(&e.gc, 0);
    int64_t t2 = env_stats(&e).tracked_objects;
    CHECK(t2 - t0 == 2, "%s: after a collection %" PRId64 " tracked, expected the list and "
          "the tuple holding it", c->name, t2 - t0);
    CHECK(t_atom->refs[0] == atom && t_tuple->refs[0] == t_atom && t_list->refs[0] == list,
          "%s: untracked tuples damaged", c->name);

    hl_object *d = hl_new(&e.gc, &dict_type, 2, 0);
    CHECK(env_stats(&e).tracked_objects == t2, "%s: a new dict is tracked", c->name);
    hl_store(&e.gc, d, 0, atom);
    CHECK(env_stats(&e).tracked_objects == t2, "%s: storing an atom tracked a dict", c->name);
    hl_store(&e.gc, d, 1, list);
    CHECK(env_stats(&e).tracked_objects == t2 + 1, "%s: storing a tracked object into a dict "
          "did not track it", c->name);
    hl_store(&e.gc, d, 1, NULL);
    hl_collect(&e.gc, 0);
    CHECK(env_stats(&e).tracked_objects == t2 + 1, "%s: a young collection untracked a dict",
          c->name);
    hl_collect(&e.gc, -1);
    CHECK(env_stats(&e).tracked_objects == t2, "%s: a full collection left a dict of atoms "
          "tracked", c->name);
    hl_object *d2 = hl_new(&e.gc, &dict_type, 1, 0);
    hl_store(&e.gc, d, 1, d2);
    CHECK(env_stats(&e).tracked_objects == t2 + 1, "%s: storing a dict into an untracked "
          "dict did not track it", c->name);
    hl_store(&e.gc, d, 1, NULL);
    hl_release(&e.gc, d2);
    hl_collect(&e.gc, -1);

    /* A cycle through a dict tracked again: collected. */
    hl_gc_stats before = env_stats(&e);
    hl_object *x = hl_new(&e.gc, &node_type, 1, 0);
    hl_store(&e.gc, d, 0, x);
    hl_store(&e.gc, x, 0, d);
    hl_release(&e.gc, x);
    hl_release(&e.gc, d);
    hl_collect(&e.gc, -1);
    hl_gc_stats after = env_stats(&e);
    CHECK(after.collected[2] - before.collected[2] == 2, "%s: a cycle through a dict: %" PRIu64
          " collected, expected 2", c->name, after.collected[2] - before.collected[2]);

    hl_release(&e.gc, t_null);
    hl_release(&e.gc, t_atom);
    hl_release(&e.gc, t_list);
    hl_release(&e.gc, t_tuple);
    hl_release(&e.gc, list);
    hl_release(&e.gc, atom);
    hl_gc_stats s = env_stats(&e);
    CHECK(s.objects_allocated == s.objects_freed && s.tracked_objects == t0,
          "%s: %" PRIu64 " of %" PRIu64 " freed, %" PRId64 " tracked", c->name,
          s.objects_freed, s.objects_allocated, s.tracked_objects);
    env_close(&e);
}

/* -------------------------------------------------------------- main -- */

/* What does not depend on the allocators swept: weak references, the
 * chain, finalizers and cycle's own rules, over pool. */
static void test_semantics(const hl_collector_ops *c)
{
    int counting = strcmp(c->name, "refcount") == 0 || strcmp(c->name, "cycle") == 0;
    int ordered = counting || (c->flags & HL_GC_MANUAL);
    test_weak_death(c, ordered);
    test_weak_cycle(c);
    test_weak_teardown(c, 0);
    test_weak_teardown(c, 1);
    if (counting)
        test_chain(c, CHAIN_LENGTH);
    if (ordered) /* death at the last reference (or at free_object) */
        test_finalizer_death(c);
    if (strcmp(c->name, "cycle") == 0) {
        test_thresholds(c);
        test_generation_stats(c);
        test_finalizer_once(c);
        test_resurrection(c);
        test_uncollectable(c);
        test_untracking(c);
    }
}

int main(int argc, char **argv)
{
    if (each_allocator_init(argc, argv, "test_collectors", 0) != 0)
        return 2;
    for (size_t i = 0; i < hl_collector_count(); i++) {
        const hl_collector_ops *c = hl_collector_at(i);
        const char *why = c->unavailable ? c->unavailable() : NULL;
        if (why != NULL) {
            printf("%s: skipped (%s)\n", c->name, why);
            continue;
        }
        int before = check_failures;
        double t0 = now_s();
        test_oracle(c);
        if (!each_allocator_only) { /* a child: its parent ran these */
            test_semantics(c);
            test_fast_paths(c);
        }
        printf("%s: %s (%.1f s)\n", c->name, check_failures == before ? "ok" : "FAILED",
               now_s() - t0);
    }
    return each_allocator_finish(check_status("test_collectors"));
}
