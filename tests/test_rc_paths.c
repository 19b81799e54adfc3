/*
 * test_rc_paths.c - the fast paths of the reference-counting collectors
 * (refcount, cycle) held to the slow paths they stand in for.
 *
 * usage: test_rc_paths            (ctest: collectors.rc_paths)
 *
 *   new_child    a scripted, seeded run of new objects, children made by
 *                hl_new_child, stores that close cycles, retains and
 *                releases, under the collector as it is and under a copy of
 *                its method table without new_child (hl_new_child then does
 *                hl_new, hl_store, hl_release): after every step both must
 *                agree on every count (objects allocated and freed,
 *                collections and collected objects by generation, tracked
 *                objects) and on the tracker's live bytes.  Small
 *                thresholds make cycle collect every few allocations, so a
 *                collection that new_child starts at another point than
 *                new_object would shows at once; dict parents check that a
 *                child stored into an untracked container tracks it; every
 *                parent is checked intact after each step (it must survive a
 *                collection its child's allocation starts).
 *   objset       collectors/objset.h alone: a freed slot is the next one
 *                reused (last freed, first reused), n is the high-water
 *                mark, each index in an object's word names its own slot,
 *                and a walk of the members finds every member exactly once,
 *                against a model, over a seeded random run.
 *   fini         refcount closed with leaked cycles and held objects whose
 *                slots lie among freed and reused ones: the tracker must see
 *                every block freed, once (live bytes and live blocks zero,
 *                frees equal to allocations).  Among them what refcount
 *                never registers (refcount.c): a chain of new_child children
 *                hanging off a leaked cycle, a cycle made of new_child
 *                children alone and closed by a store, a new_child child
 *                held by the workload's retain after its parent died; and
 *                a survivor whose type's traverse visits NULL slots.
 *   order        where deaths run code the cascade keeps its order: a tree
 *                of finalizing nodes, and a tree of plain nodes with a weak
 *                reference (and callback) to each node, die in the order
 *                rc.h gives (each object's referents die in slot order; the
 *                last to die is torn down first), under refcount and cycle.
 *                (Where no death runs code, rc.h may tear down in another
 *                order; the live bytes must still reach zero.)
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "allocators/allocator.h"
#include "allocators/decorator.h"
#include "collectors/collector.h"
#include "collectors/objset.h"
#include "tests/check.h"
#include "tests/gc_env.h"
#include "workloads/rng.h"

/* ------------------------------------------------------------ basics -- */

static const hl_type node_type = {.name = "rc-node"};
static const hl_type dict_type = {.name = "rc-dict", .kind = HL_KIND_DICT};

/* ---------------------------------------------------------- new_child -- */

#define HELD_MAX 24
#define SCRIPT_STEPS 6000

/* The workload side of one scripted run: the objects it holds, each with
 * the stamp its data must keep. */
typedef struct script {
    env e;
    hl_object *held[HELD_MAX];
    uint64_t stamp[HELD_MAX];
    int n;
    uint64_t next_stamp;
} script;

static hl_object *script_stamped(script *s, hl_object *o)
{
    uint64_t v = ++s->next_stamp;
    memcpy(hl_object_data(o), &v, sizeof v);
    return o;
}

static int script_intact(const script *s, int i)
{
    uint64_t v;
    memcpy(&v, hl_object_data(s->held[i]), sizeof v);
    return v == s->stamp[i];
}

static void script_hold(script *s, hl_object *o)
{
    uint64_t v;
    memcpy(&v, hl_object_data(o), sizeof v);
    s->held[s->n] = o;
    s->stamp[s->n] = v;
    s->n++;
}

static void script_drop(script *s, int i)
{
    hl_release(&s->e.gc, s->held[i]);
    s->held[i] = s->held[--s->n];
    s->stamp[i] = s->stamp[s->n];
}

/* One step of the script, the same under both method tables (the choices
 * depend on the generator and the held set only, never on addresses). */
static void script_step(script *s, uint64_t *seed)
{
    const hl_gc *gc = &s->e.gc;
    uint64_t r = hl_splitmix64(seed);
    unsigned op = (unsigned)(r % 100);
    if (s->n == 0 || (op < 12 && s->n < HELD_MAX)) {
        const hl_type *t = (r >> 8) % 4 == 0 ? &dict_type : &node_type;
        hl_object *o = hl_new(gc, t, 2, 8);
        CHECK(o != NULL, "new_object failed");
        if (o != NULL)
            script_hold(s, script_stamped(s, o));
        return;
    }
    int i = (int)((r >> 16) % (uint64_t)s->n);
    hl_object *p = s->held[i];
    uint32_t field = (uint32_t)((r >> 24) & 1);
    if (op < 70) {
        /* A child (now and then an atom, which generation 0 does not
         * count), replacing what the field held. */
        uint32_t nrefs = (r >> 32) % 8 == 0 ? 0 : 2;
        hl_object *c = hl_new_child(gc, p, field, &node_type, nrefs, 8);
        CHECK(c != NULL && p->refs[field] == c, "new_child did not store its child");
        if (c != NULL)
            script_stamped(s, c);
        if (c != NULL && nrefs > 0 && (r >> 40) % 6 == 0 && s->n < HELD_MAX) {
            hl_retain(gc, c); /* the workload takes the child too */
            script_hold(s, c);
        }
    } else if (op < 80) {
        /* Close a cycle, or link two held objects. */
        int j = (int)((r >> 40) % (uint64_t)s->n);
        hl_store(gc, p, field, s->held[j]);
    } else if (op < 90) {
        hl_store(gc, p, field, NULL);
    } else {
        script_drop(s, i);
    }
}

/* The figures both runs must agree on after each step. */
typedef struct snapshot {
    uint64_t allocated, freed, live_bytes;
    uint64_t collections[HL_GC_GENERATIONS], collected[HL_GC_GENERATIONS];
    int64_t tracked;
} snapshot;

static snapshot take_snapshot(const script *s)
{
    hl_gc_stats st = env_stats(&s->e);
    snapshot n;
    memset(&n, 0, sizeof n);
    n.allocated = st.objects_allocated;
    n.freed = st.objects_freed;
    n.live_bytes = hl_tracker_read(&s->e.tracked).live_bytes;
    for (int g = 0; g < HL_GC_GENERATIONS; g++) {
        n.collections[g] = st.collections[g];
        n.collected[g] = st.collected[g];
    }
    n.tracked = st.tracked_objects;
    return n;
}

/* Run the script under `fast` (the collector's own table) and `slow` (the
 * same without new_child and without fast paths) in lock step, comparing after every step.
 * Returns the number of steps at which fast collected, so the caller can
 * tell the run exercised collections. */
static uint64_t compare_new_child(const hl_collector_ops *fast, const hl_gc_config *cfg)
{
    hl_collector_ops slow_ops = *fast;
    slow_ops.new_child = NULL;
    slow_ops.fast = NULL; /* hl_new_child must take the three steps, not the inline path */
    CHECK(fast->new_child != NULL, "%s has no new_child", fast->name);
    script *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
    if (a == NULL || b == NULL || env_open(&a->e, fast, "pool", cfg) != 0) {
        CHECK(0, "setup failed");
        free(a);
        free(b);
        return 0;
    }
    if (env_open(&b->e, &slow_ops, "pool", cfg) != 0) {
        env_close(&a->e);
        free(a);
        free(b);
        return 0;
    }
    uint64_t seed_a = 0x5eed0013, seed_b = seed_a;
    int reported = 0;
    for (long step = 0; step < SCRIPT_STEPS && !reported; step++) {
        script_step(a, &seed_a);
        script_step(b, &seed_b);
        snapshot x = take_snapshot(a), y = take_snapshot(b);
        for (int i = 0; i < a->n; i++)
            if (!script_intact(a, i)) {
                CHECK(0, "%s step %ld: a held object lost its data under new_child", fast->name,
                      step);
                reported = 1;
                break;
            }
        if (memcmp(&x, &y, sizeof x) != 0) {
            CHECK(0,
                  "%s step %ld: new_child and new+store+release disagree: allocated %" PRIu64
                  "/%" PRIu64 " freed %" PRIu64 "/%" PRIu64 " live bytes %" PRIu64 "/%" PRIu64
                  " collections %" PRIu64 ",%" PRIu64 ",%" PRIu64 "/%" PRIu64 ",%" PRIu64
                  ",%" PRIu64 " collected %" PRIu64 "/%" PRIu64 " tracked %" PRId64 "/%" PRId64,
                  fast->name, step, x.allocated, y.allocated, x.freed, y.freed, x.live_bytes,
                  y.live_bytes, x.collections[0], x.collections[1], x.collections[2],
                  y.collections[0], y.collections[1], y.collections[2],
                  x.collected[0] + x.collected[1] + x.collected[2],
                  y.collected[0] + y.collected[1] + y.collected[2], x.tracked, y.tracked);
            reported = 1;
        }
    }
    while (a->n > 0)
        script_drop(a, 0);
    while (b->n > 0)
        script_drop(b, 0);
    hl_collect(&a->e.gc, -1);
    hl_collect(&b->e.gc, -1);
    snapshot x = take_snapshot(a), y = take_snapshot(b);
    CHECK(memcmp(&x, &y, sizeof x) == 0, "%s: the runs disagree after the final collection",
          fast->name);
    uint64_t collections = x.collections[0] + x.collections[1] + x.collections[2];
    env_close(&a->e);
    env_close(&b->e);
    free(a);
    free(b);
    return collections;
}

static void test_new_child(void)
{
    hl_gc_config small = hl_gc_default_config();
    small.threshold[0] = 2;
    small.threshold[1] = 3;
    small.threshold[2] = 2;
    compare_new_child(hl_refcount_collector(), NULL);
    uint64_t n = compare_new_child(hl_cycle_collector(), &small);
    CHECK(n > 100, "cycle collected only %" PRIu64 " times: the script exercised too little", n);
    compare_new_child(hl_cycle_collector(), NULL);
    printf("new_child: refcount and cycle agree with new+store+release (%" PRIu64
           " collections)\n",
           n);
}

/* ------------------------------------------------------------- objset -- */

#define FAKE_MAX 3000

/* Stand-ins for objects: a word before each (the index lives there) and a
 * header; only the word and the address are used. */
typedef struct fake {
    uint64_t word;
    hl_object obj;
} fake;

/* The set's members, once each, are exactly the model's; each member's
 * word names its slot. */
static void objset_agrees(const objset *s, fake *f, const unsigned char *in, const char *when)
{
    size_t members = 0;
    unsigned char *seen = calloc(FAKE_MAX, 1);
    for (size_t i = 0; i < s->n; i++) {
        if (!objset_is_member(s, i))
            continue;
        fake *x = (fake *)(void *)((char *)s->slots[i] - offsetof(fake, obj));
        size_t k = (size_t)(x - f);
        if (k >= FAKE_MAX || !in[k] || seen[k]) {
            CHECK(0, "%s: slot %zu holds %s", when, i,
                  k >= FAKE_MAX ? "a stranger" : !in[k] ? "a removed object" : "a duplicate");
            break;
        }
        seen[k] = 1;
        CHECK(objset_index_of(&x->obj) == i, "%s: object %zu's word says slot %zu, it is in %zu",
              when, k, objset_index_of(&x->obj), i);
        members++;
    }
    size_t expected = 0;
    for (size_t k = 0; k < FAKE_MAX; k++)
        expected += in[k];
    CHECK(members == expected, "%s: walk found %zu members, the model %zu", when, members,
          expected);
    free(seen);
}

static void objset_put(objset *s, fake *x)
{
    size_t i = objset_add(s, &x->obj);
    CHECK(i != OBJSET_FULL, "objset_add failed");
    if (i == OBJSET_FULL)
        return;
    x->word = (x->word & ~OBJSET_INDEX_MASK) | objset_index_word(i);
}

static void test_objset(void)
{
    fake *f = calloc(FAKE_MAX, sizeof *f);
    unsigned char *in = calloc(FAKE_MAX, 1);
    objset s;
    memset(&s, 0, sizeof s);
    /* Last freed, first reused; the owner's bits of the word kept (the low
     * 32, and bit 62: rc.h's finalized flag, RC_FINALIZED). */
    const uint64_t finalized = UINT64_C(1) << 62;
    for (int k = 0; k < 5; k++) {
        f[k].word = 0x1234u + (unsigned)k + (k % 2 == 0 ? finalized : 0);
        objset_put(&s, &f[k]);
        in[k] = 1;
    }
    objset_remove(&s, &f[1].obj);
    objset_remove(&s, &f[3].obj);
    in[1] = in[3] = 0;
    objset_put(&s, &f[5]);
    objset_put(&s, &f[6]);
    in[5] = in[6] = 1;
    CHECK(objset_index_of(&f[5].obj) == 3 && objset_index_of(&f[6].obj) == 1,
          "freed slots not reused last freed first: got %zu and %zu, want 3 and 1",
          objset_index_of(&f[5].obj), objset_index_of(&f[6].obj));
    CHECK(s.n == 5, "n is %zu after reusing two slots of five, want 5", s.n);
    CHECK((uint32_t)f[2].word == 0x1236u, "the owner's bits of a word changed");
    for (int k = 0; k < 7; k++)
        CHECK(k == 1 || k == 3 || objset_word_is_member(f[k].word),
              "object %d was added but its word says it is no member", k);
    CHECK((f[0].word & finalized) && (f[2].word & finalized) && (f[4].word & finalized) &&
              !(f[5].word & finalized) && !(f[6].word & finalized),
          "the set's index bits touched bit 62 (the finalized flag)");
    objset_agrees(&s, f, in, "scripted");
    objset_put(&s, &f[7]);
    in[7] = 1;
    CHECK(objset_index_of(&f[7].obj) == 5 && s.n == 6,
          "with no slot free an add must append: slot %zu, n %zu", objset_index_of(&f[7].obj),
          s.n);
    /* A seeded random run past a doubling (OBJSET_MIN is 4096 > FAKE_MAX:
     * the growth happens once, at the first add). */
    uint64_t seed = 42;
    size_t live = 6, peak = live;
    for (long step = 0; step < 200000; step++) {
        size_t k = (size_t)(hl_splitmix64(&seed) % FAKE_MAX);
        if (in[k]) {
            objset_remove(&s, &f[k].obj);
            in[k] = 0;
            live--;
        } else {
            objset_put(&s, &f[k]);
            in[k] = 1;
            live++;
        }
        peak = live > peak ? live : peak;
        if (step % 20000 == 0)
            objset_agrees(&s, f, in, "random run");
    }
    objset_agrees(&s, f, in, "random run, end");
    CHECK(s.n <= peak, "n %zu exceeds the peak of live members %zu: slots not reused", s.n,
          peak);
    objset_free(&s);
    free(in);
    free(f);
    printf("objset: slots reused last freed first, members walked once each\n");
}

/* --------------------------------------------------------------- fini -- */

/* refcount's fini must free every object still alive exactly once: leaked
 * 2-cycles and held objects, their slots interleaved with freed and reused
 * ones. */
/* A type whose traverse visits both slots whether NULL or not, as a
 * type's own traverse may (hl_type's contract does not forbid it). */
static void both_slots(hl_object *o, hl_visit_fn visit, void *arg)
{
    visit(&o->refs[0], arg);
    visit(&o->refs[1], arg);
}

static const hl_type null_visiting_type = {.name = "rc-null-visiting", .traverse = both_slots};

static void test_fini(void)
{
    env e;
    if (env_open(&e, hl_refcount_collector(), "pool", NULL) != 0)
        return;
    const hl_gc *gc = &e.gc;
    uint64_t seed = 7;
    hl_object *keep[64];
    int nkeep = 0;
    for (int round = 0; round < 2000; round++) {
        hl_object *a = hl_new(gc, &node_type, 2, 8), *b = hl_new(gc, &node_type, 2, 8);
        hl_object *d = hl_new(gc, &node_type, 1, 8);
        if (a == NULL || b == NULL || d == NULL) {
            CHECK(0, "new_object failed");
            break;
        }
        hl_new_child(gc, d, 0, &node_type, 0, 16);
        hl_release(gc, d); /* d and its child die: two slots free */
        unsigned r = (unsigned)(hl_splitmix64(&seed) % 6);
        if (r == 0) { /* a leaked cycle, with a chain of children off it */
            hl_store(gc, a, 0, b);
            hl_store(gc, b, 0, a);
            hl_object *x = hl_new_child(gc, a, 1, &node_type, 1, 8);
            for (int k = 0; x != NULL && k < 5; k++)
                x = hl_new_child(gc, x, 0, &node_type, 1, 8);
            hl_release(gc, a);
            hl_release(gc, b);
        } else if (r == 1 && nkeep < 64) { /* held to the end */
            keep[nkeep++] = a;
            hl_release(gc, b);
        } else if (r == 2) { /* a leaked cycle of new_child children, closed by a store */
            hl_object *x = hl_new_child(gc, a, 0, &node_type, 2, 8);
            hl_object *y = x == NULL ? NULL : hl_new_child(gc, x, 0, &node_type, 2, 8);
            if (y != NULL)
                hl_store(gc, y, 1, x);
            hl_release(gc, a); /* a dies; x and y keep each other */
            hl_release(gc, b);
        } else if (r == 4 && nkeep < 64) { /* held to the end, its traverse visiting NULL */
            hl_object *x = hl_new_child(gc, a, 0, &null_visiting_type, 2, 8);
            if (x != NULL)
                hl_new_child(gc, x, 1, &node_type, 0, 8); /* x's slot 0 stays NULL */
            keep[nkeep++] = a;
            hl_release(gc, b);
        } else if (r == 3) { /* a new_child child the workload retains, its parent gone */
            hl_object *x = hl_new_child(gc, a, 0, &node_type, 2, 8);
            if (x != NULL && nkeep < 64) {
                hl_retain(gc, x);
                keep[nkeep++] = x;
            }
            hl_release(gc, a);
            hl_release(gc, b);
        } else { /* both die */
            hl_release(gc, a);
            hl_release(gc, b);
        }
    }
    (void)keep;
    hl_gc_stats st = env_stats(&e);
    CHECK(st.objects_allocated > st.objects_freed, "nothing was left for fini to free");
    env_close(&e);
    printf("fini: refcount freed %" PRIu64 " leftover objects once each\n",
           st.objects_allocated - st.objects_freed);
}

/* -------------------------------------------------------------- order -- */

static char death_log[64];
static size_t death_n;

static void log_death(hl_object *o)
{
    char id;
    memcpy(&id, hl_object_data(o), 1);
    if (death_n + 1 < sizeof death_log)
        death_log[death_n++] = id;
    death_log[death_n] = '\0';
}

static void order_finalize(const hl_gc *gc, hl_object *o)
{
    (void)gc;
    log_death(o);
}

static void order_callback(hl_object *w, void *arg)
{
    (void)w;
    log_death(arg);
}

static const hl_type fin_node_type = {.name = "rc-fin-node", .finalize = order_finalize};

static hl_object *named(hl_object *o, char id)
{
    if (o != NULL)
        memcpy(hl_object_data(o), &id, 1);
    return o;
}

/* A two-level tree r -> (a, b), a -> (c, d), b -> (e, f), r of type
 * root_t and the rest of type t, each node named by its letter in its
 * data; with `weak`, a weak reference to each node whose callback logs the
 * letter (kept in a tag object the test holds: the node is gone when the
 * callback runs), otherwise t's finalizer logs it.  Releasing r must log
 * the deaths in the order rc.h gives: r; its referents in slot order, a,
 * b; then the last pushed, b, is torn down first: e, f; then a: c, d.  A
 * plain root over finalizing nodes (no "r" in the log) must keep that
 * order below it, whatever the root's type. */
static void order_case(const hl_collector_ops *c, const hl_type *root_t, const hl_type *t,
                       int weak, const char *want)
{
    env e;
    if (env_open(&e, c, "pool", NULL) != 0)
        return;
    const hl_gc *gc = &e.gc;
    death_n = 0;
    death_log[0] = '\0';
    hl_object *r = named(hl_new(gc, root_t, 2, 8), 'r');
    hl_object *a = named(hl_new_child(gc, r, 0, t, 2, 8), 'a');
    hl_object *b = named(hl_new_child(gc, r, 1, t, 2, 8), 'b');
    named(hl_new_child(gc, a, 0, t, 2, 8), 'c');
    named(hl_new_child(gc, a, 1, t, 2, 8), 'd');
    named(hl_new_child(gc, b, 0, t, 2, 8), 'e');
    named(hl_new_child(gc, b, 1, t, 2, 8), 'f');
    hl_object *w[7], *tag[7];
    int nw = 0;
    if (weak) {
        hl_object *all[7] = {r, a, b, a->refs[0], a->refs[1], b->refs[0], b->refs[1]};
        for (int i = 0; i < 7; i++) {
            char id;
            memcpy(&id, hl_object_data(all[i]), 1);
            tag[i] = named(hl_new(gc, &node_type, 0, 8), id);
            w[i] = hl_weak_new(gc, all[i], order_callback, tag[i]);
            CHECK(w[i] != NULL, "weak_new failed");
            nw++;
        }
    }
    hl_release(gc, r);
    CHECK(strcmp(death_log, want) == 0, "%s, %s%s: deaths in the order %s, want %s", c->name,
          weak ? "weak callbacks" : "finalizers", root_t != t ? " under a plain root" : "",
          death_log, want);
    for (int i = 0; i < nw; i++) {
        hl_release(gc, w[i]);
        hl_release(gc, tag[i]);
    }
    env_close(&e);
}

/* A decorator that logs the blocks freed through it, in order (at most
 * FREE_LOG_MAX), then passes each free on. */
#define FREE_LOG_MAX 16
static void *free_log[FREE_LOG_MAX];
static size_t free_log_n;

static void logging_free(void *ctx, void *p, size_t size)
{
    if (free_log_n < FREE_LOG_MAX)
        free_log[free_log_n++] = p;
    hl_pass_free(ctx, p, size);
}

static const hl_allocator_ops logging_ops = {
    .name = "free-log",
    .description = "test decorator: logs the order of frees",
    .fini = hl_pass_fini,
    .alloc = hl_pass_alloc,
    .free = logging_free,
    .realloc = hl_pass_realloc,
    .stats = hl_pass_stats,
};

/* Where in the free log the block of o (under collector c) was freed, or
 * -1.  The block starts at the collector's prefix: the rc word, 8 bytes
 * under refcount, and CPython's GC links before it under cycle. */
static int freed_at(const hl_object *o, size_t prefix)
{
    for (size_t i = 0; i < free_log_n; i++)
        if (free_log[i] == (const char *)o - prefix)
            return (int)i;
    return -1;
}

/* Plain nodes, no weak reference: the order is free, and rc.h frees the
 * tree left subtree first: for r -> (a, b), a -> (c, d), b -> (e, f),
 * every block of a's subtree goes back to the allocator before any of
 * b's (the ordered path tears b's subtree down first). */
static void plain_teardown(const hl_collector_ops *c, size_t prefix)
{
    hl_allocator base, logged;
    hl_gc g;
    if (hl_allocator_open(&base, hl_pool_allocator()) != 0 ||
        hl_decorator_new(sizeof(hl_decorated), &logging_ops, &base, &logged) == NULL ||
        hl_gc_open(&g, c, &logged, NULL) != 0) {
        CHECK(0, "%s: could not open the pool, the logger or the collector", c->name);
        return;
    }
    const hl_gc *gc = &g;
    hl_object *r = hl_new(gc, &node_type, 2, 8);
    hl_object *a = hl_new_child(gc, r, 0, &node_type, 2, 8);
    hl_object *b = hl_new_child(gc, r, 1, &node_type, 2, 8);
    hl_object *left[3] = {a, hl_new_child(gc, a, 0, &node_type, 2, 8),
                          hl_new_child(gc, a, 1, &node_type, 2, 8)};
    hl_object *right[3] = {b, hl_new_child(gc, b, 0, &node_type, 2, 8),
                           hl_new_child(gc, b, 1, &node_type, 2, 8)};
    free_log_n = 0;
    hl_release(gc, r);
    CHECK(free_log_n == 7, "%s: a plain tree of 7 nodes made %zu frees", c->name, free_log_n);
    int last_left = -1, first_right = FREE_LOG_MAX;
    for (int i = 0; i < 3; i++) {
        int l = freed_at(left[i], prefix), rt = freed_at(right[i], prefix);
        CHECK(l >= 0 && rt >= 0, "%s: a node of the tree was not freed", c->name);
        last_left = l > last_left ? l : last_left;
        first_right = rt < first_right ? rt : first_right;
    }
    CHECK(last_left < first_right,
          "%s: a plain tree was not freed left subtree first (the left subtree's last free "
          "is #%d, the right subtree's first #%d)", c->name, last_left, first_right);
    hl_gc_close(&g);
    hl_allocator_close(&logged);
    hl_allocator_close(&base);
}

static void test_order(void)
{
    const hl_collector_ops *cs[] = {hl_refcount_collector(), hl_cycle_collector()};
    const size_t prefixes[] = {8, 24}; /* the rc word; CPython's GC links and the rc word */
    for (int i = 0; i < 2; i++) {
        order_case(cs[i], &fin_node_type, &fin_node_type, 0, "rabefcd");
        order_case(cs[i], &node_type, &node_type, 1, "rabefcd");
        order_case(cs[i], &node_type, &fin_node_type, 0, "abefcd");
        plain_teardown(cs[i], prefixes[i]);
    }
    printf("order: deaths that run code keep rc.h's order under refcount and cycle, plain "
           "trees go back left subtree first\n");
}

int main(void)
{
    test_new_child();
    test_objset();
    test_fini();
    test_order();
    return check_status("test_rc_paths");
}
