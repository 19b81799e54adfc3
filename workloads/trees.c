/*
 * trees.c - `--workload=trees`: the classic garbage-collector benchmarks.
 *
 * The lesson: a program that makes many short-lived trees while a few
 * long-lived structures stay alive is what every collector is tuned for
 * (the generational hypothesis), and the two benchmarks below are how the
 * field has compared collectors for thirty years.  Both are all
 * allocation: one op = one tree node allocated, and ops() counts them
 * exactly from the depth parameter.
 *
 * Variant `binarytrees` (the Computer Language Benchmarks Game), with
 * N = depth:  min depth 4, max depth max(6, N).
 *   1. a stretch tree of depth max+1: built, checked, dropped;
 *   2. a long-lived tree of depth max, kept until the end;
 *   3. for d = 4, 6, ..., max: 2^(max-d+4) trees of depth d, each built,
 *      checked and dropped; check = node count, summed per depth;
 *   4. the long-lived tree checked last.
 * Trees are built top-down (parent first, then its children stored into
 * it); the Benchmarks Game programs build bottom-up, which allocates the
 * same nodes in another order.  At N = 10 the checks are the reference
 * output: stretch depth 11 check 4095; 1024 trees of depth 4 check 31744;
 * 256 of depth 6 32512; 64 of depth 8 32704; 16 of depth 10 32752; long
 * lived depth 10 check 2047.
 *
 * Variant `gcbench` (Ellis, Kovac and Boehm's GCBench), scaled by D = depth
 * (D = 16 is the original):
 *   1. a stretch tree of depth D+2, built bottom-up (MakeTree), checked,
 *      dropped;
 *   2. a long-lived tree of depth D built top-down (Populate), kept;
 *   3. an array of 500000 * 2^(D-16) doubles (a data object, not a node:
 *      the one allocation ops() does not count), half of it filled with
 *      1/i and kept;
 *   4. for d = 4, 6, ..., D: NumIters(d) = 2*TreeSize(D+2)/TreeSize(d) trees
 *      built top-down, then as many bottom-up, each dropped at once;
 *      TreeSize(d) = 2^(d+1) - 1;
 *   5. the long-lived tree and array[1000] checked last.
 * As in GCBench the short-lived trees are not walked; their roots are
 * checked before they die.
 *
 * A node is an object with two references (left, right) and 8 bytes of
 * data, like GCBench's Node with its two ints: 40 bytes before the
 * collector's prefix.  The data holds a cookie of the tree and the node's
 * depth; every walk checks it and the shape (an inner node has two
 * children, a leaf none), so a check value is a count of nodes that really
 * were there.  The trees are built and walked with explicit stacks, never
 * recursion, so a step can stop after exactly n nodes in the middle of a
 * tree and the next one goes on from there.
 *
 * Under `manual` a dead tree is freed node by node (iteratively); under
 * every other collector the workload drops its reference to the root and
 * the collector reclaims the tree.
 *
 * Collectors: manual, refcount, cycle, tracing, marksweep.
 * Default collector: refcount.  The trees are acyclic, so reference
 * counting alone reclaims every tree the moment its root is dropped -- it is
 * what CPython does for this program, and the row the reference tables set
 * against manual free over mimalloc (C's own binary-trees); `cycle` adds the
 * generational collector's passes over the long-lived tree, a separate
 * lesson best read as its own row.
 *
 * Parameters: depth (N for binarytrees; D for gcbench); seed from --seed
 * (it salts the cookies and so the checksum, never the shape).
 * Sources: benchmarksgame-team.pages.debian.net binary-trees; Hans Boehm's
 * GCBench.java / GCBench.c (Ellis, Kovac, Boehm); facts and reference output
 * in ../shared/reference/cpython-memory.md.
 */
#include "workloads/rng.h"
#include "workloads/workload.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

enum { TREES_DEPTH };

/* The deepest tree: a stretch tree at the largest depth parameter. */
#define TREES_DEPTH_MAX 22
#define TREES_TREE_DEPTH_MAX (TREES_DEPTH_MAX + 2)
#define TREES_MIN_DEPTH 4

static const hl_param_spec trees_params[] = {
    [TREES_DEPTH] = {"depth", "binarytrees: N (max depth max(6, N)); gcbench: long-lived and "
                     "largest tree depth D (16 is GCBench's own)", 16, 10, TREES_MIN_DEPTH,
                     TREES_DEPTH_MAX},
};

enum { TREES_BINARYTREES, TREES_GCBENCH };

static const hl_variant_spec trees_variants[] = {
    [TREES_BINARYTREES] = {"binarytrees", "Benchmarks Game binary-trees: stretch, long-lived, "
                           "2^(max-d+4) checked trees per depth"},
    [TREES_GCBENCH] = {"gcbench", "Ellis/Kovac/Boehm GCBench: trees of depth 4..D built "
                       "top-down and bottom-up beside a long-lived tree and array"},
};

/* Figure names (literals: they outlive the stats), by (d - 4) / 2. */
#define TREES_DEPTH_SLOTS ((TREES_DEPTH_MAX - TREES_MIN_DEPTH) / 2 + 1)
static const char *const trees_check_names[TREES_DEPTH_SLOTS] = {
    "check_d4",  "check_d6",  "check_d8",  "check_d10", "check_d12",
    "check_d14", "check_d16", "check_d18", "check_d20", "check_d22",
};
static const char *const trees_count_names[TREES_DEPTH_SLOTS] = {
    "trees_d4",  "trees_d6",  "trees_d8",  "trees_d10", "trees_d12",
    "trees_d14", "trees_d16", "trees_d18", "trees_d20", "trees_d22",
};

static const hl_type trees_node_type = {.name = "tree_node"};
static const hl_type trees_array_type = {.name = "double_array"};

#define TREES_NODE_REFS 2u /* left, right */
#define TREES_NODE_DATA 8u
#define TREES_GCBENCH_ARRAY 500000u /* doubles at D = 16 */
#define TREES_GCBENCH_PROBE 1000u   /* GCBench checks array[1000] == 1.0/1000 */

/* ------------------------------------------------------------- the plan -- */

/* A run is a list of jobs; each builds `trees` trees of one depth one way,
 * except JOB_ARRAY, which allocates GCBench's array (no nodes). */
typedef enum { JOB_STRETCH, JOB_LONG_LIVED, JOB_ARRAY, JOB_BATCH } trees_job_kind;
typedef enum { BUILD_TOP_DOWN, BUILD_BOTTOM_UP } trees_build;

typedef struct trees_job {
    trees_job_kind kind;
    trees_build build;
    int depth;
    uint64_t trees;
} trees_job;

#define TREES_MAX_JOBS (3 + 2 * TREES_DEPTH_SLOTS)

typedef struct trees_plan {
    trees_job job[TREES_MAX_JOBS];
    int njobs;
    uint64_t array_len; /* gcbench: doubles in the array */
} trees_plan;

/* Nodes in a complete tree of depth d (depth 0: a single node). */
static uint64_t trees_size(int d)
{
    return (UINT64_C(2) << d) - 1;
}

static void trees_plan_add(trees_plan *p, trees_job_kind kind, trees_build build, int depth,
                           uint64_t trees)
{
    p->job[p->njobs++] = (trees_job){kind, build, depth, trees};
}

/* The jobs of one run, from the parameters alone. */
static void trees_make_plan(const hl_workload_config *cfg, trees_plan *p)
{
    int n = (int)cfg->params[TREES_DEPTH];
    memset(p, 0, sizeof *p);
    if (cfg->variant == TREES_BINARYTREES) {
        int max = n > TREES_MIN_DEPTH + 2 ? n : TREES_MIN_DEPTH + 2;
        trees_plan_add(p, JOB_STRETCH, BUILD_TOP_DOWN, max + 1, 1);
        trees_plan_add(p, JOB_LONG_LIVED, BUILD_TOP_DOWN, max, 1);
        for (int d = TREES_MIN_DEPTH; d <= max; d += 2)
            trees_plan_add(p, JOB_BATCH, BUILD_TOP_DOWN, d, UINT64_C(1)
                                                                << (max - d + TREES_MIN_DEPTH));
        return;
    }
    int stretch = n + 2;
    trees_plan_add(p, JOB_STRETCH, BUILD_BOTTOM_UP, stretch, 1);
    trees_plan_add(p, JOB_LONG_LIVED, BUILD_TOP_DOWN, n, 1);
    trees_plan_add(p, JOB_ARRAY, BUILD_TOP_DOWN, 0, 0);
    p->array_len = n >= 16 ? (uint64_t)TREES_GCBENCH_ARRAY << (n - 16)
                           : TREES_GCBENCH_ARRAY >> (16 - n);
    for (int d = TREES_MIN_DEPTH; d <= n; d += 2) {
        uint64_t iters = 2 * trees_size(stretch) / trees_size(d);
        trees_plan_add(p, JOB_BATCH, BUILD_TOP_DOWN, d, iters);
        trees_plan_add(p, JOB_BATCH, BUILD_BOTTOM_UP, d, iters);
    }
}

static uint64_t trees_ops(const hl_workload_config *cfg)
{
    trees_plan p;
    trees_make_plan(cfg, &p);
    uint64_t nodes = 0;
    for (int i = 0; i < p.njobs; i++)
        if (p.job[i].kind != JOB_ARRAY)
            nodes += p.job[i].trees * trees_size(p.job[i].depth);
    return nodes;
}

/* ---------------------------------------------------------- the state -- */

/* One pending piece of a tree under construction.
 *   top-down:  `node` exists; stage 0 and 1 allocate its left and right
 *              child, stage 2 moves on to the children;
 *   bottom-up: a subtree of `depth` to build; stage 0 starts the left
 *              subtree, 1 waits for it, 2 starts the right, 3 waits, 4
 *              allocates the node over `left` and `right`, which the
 *              workload holds by a reference until then. */
typedef struct trees_frame {
    hl_object *node, *left, *right;
    int depth;
    int stage;
} trees_frame;

/* Enough for either builder: top-down keeps at most two frames per level,
 * bottom-up one. */
#define TREES_STACK (2 * TREES_TREE_DEPTH_MAX + 2)

typedef struct trees {
    const hl_gc *gc;
    int manual;
    int variant;
    uint64_t seed;
    trees_plan plan;

    /* Where the run is: job index, trees of it still to build. */
    int job;
    uint64_t trees_left;

    /* The tree under construction. */
    int building;
    trees_build build;
    int depth;
    uint64_t salt;        /* of the tree: its nodes' cookies */
    uint64_t trees_begun; /* names each tree's salt */
    hl_object *root;      /* top-down: held by a workload reference */
    trees_frame frame[TREES_STACK];
    int nframes;

    hl_object *long_lived;
    uint64_t long_lived_salt;
    int long_lived_depth;
    hl_object *array;

    uint64_t ops_done;
    uint64_t checksum;
    uint64_t stretch_check;
    uint64_t check[TREES_DEPTH_SLOTS];
    uint64_t count[TREES_DEPTH_SLOTS];
} trees;

static inline void trees_fold(trees *t, uint64_t v)
{
    t->checksum = (t->checksum ^ v) * 0x100000001b3ull;
}

/* The cookie a node of `depth` in the tree salted `salt` carries. */
static inline uint64_t trees_cookie(uint64_t salt, int depth)
{
    return salt ^ ((uint64_t)(depth + 1) * 0x9e3779b97f4a7c15ull);
}

/* hl_object_data of a node, whose slot count is known: no load of nrefs
 * on the walk's hot path. */
static inline void *trees_node_data(hl_object *o)
{
    return (void *)(o->refs + TREES_NODE_REFS);
}

static inline uint64_t trees_node_cookie(hl_object *o)
{
    uint64_t v;
    memcpy(&v, trees_node_data(o), sizeof v);
    return v;
}

/* Node o (fresh, or NULL when its allocation failed) gets the cookie of
 * `depth` in the current tree.  Returns o, or NULL with err set. */
static inline hl_object *trees_stamp(trees *t, hl_object *o, int depth, hl_error *err)
{
    if (__builtin_expect(o == NULL, 0)) {
        hl_fail(err, "out of memory: node allocation failed after %" PRIu64 " nodes",
                t->ops_done);
        return NULL;
    }
    uint64_t cookie = trees_cookie(t->salt, depth);
    memcpy(trees_node_data(o), &cookie, sizeof cookie);
    return o;
}

/* A new node of `depth` in the current tree, held by a workload reference. */
static inline hl_object *trees_new_node(trees *t, int depth, hl_error *err)
{
    return trees_stamp(t, hl_new(t->gc, &trees_node_type, TREES_NODE_REFS, TREES_NODE_DATA),
                       depth, err);
}

/* Drop the workload's reference to o (the collector decides its fate). */
static inline void trees_release(trees *t, hl_object *o)
{
    if (!t->manual)
        hl_release(t->gc, o);
}

/* Free the subtree at o under manual, children before parents, the left
 * subtree first: the order of the recursive free in C's binary-trees.
 * Missing children (a half-built tree) are fine.  Recursion at most
 * TREES_TREE_DEPTH_MAX + 1 deep. */
static void trees_free_subtree(trees *t, hl_object *o)
{
    hl_object *left = o->refs[0], *right = o->refs[1];
    if (left != NULL)
        trees_free_subtree(t, left);
    if (right != NULL)
        trees_free_subtree(t, right);
    hl_free_object(t->gc, o);
}

/* The tree at root is dead: free it node by node under manual, or drop
 * the reference to its root.  Costs O(nodes) under manual, O(1) here
 * otherwise (the collector pays). */
static void trees_drop(trees *t, hl_object *root)
{
    if (root == NULL)
        return;
    if (!t->manual) {
        hl_release(t->gc, root);
        return;
    }
    trees_free_subtree(t, root);
}

/* The first node found wrong by trees_count, and its depth. */
typedef struct trees_fault {
    hl_object *node;
    int depth;
} trees_fault;

/* The node count of the complete tree at o, of depth d, whose nodes at
 * depth k carry cookie[k]; each node's cookie and shape (an inner node has
 * two children, a leaf none) are checked.  At the first wrong node, *fault
 * names it and the count stops there (the caller must test fault->node).
 * Recursion, at most TREES_TREE_DEPTH_MAX deep.  Cost: O(nodes). */
static uint64_t trees_count(hl_object *o, int d, const uint64_t *cookie, trees_fault *fault)
{
    int inner = d > 0;
    if (__builtin_expect(trees_node_cookie(o) != cookie[d] || (o->refs[0] != NULL) != inner ||
                             (o->refs[1] != NULL) != inner, 0)) {
        *fault = (trees_fault){o, d};
        return 0;
    }
    if (!inner)
        return 1;
    uint64_t left = trees_count(o->refs[0], d - 1, cookie, fault);
    if (__builtin_expect(fault->node != NULL, 0))
        return 0;
    return 1 + left + trees_count(o->refs[1], d - 1, cookie, fault);
}

/* Walk the complete tree at root (of `depth`, salted `salt`): check every
 * node's cookie and shape, and set *nodes to the node count (the
 * Benchmarks Game's check).  Returns 0, or -1 with err set. */
static int trees_walk(const trees *t, hl_object *root, int depth, uint64_t salt,
                      uint64_t *nodes, hl_error *err)
{
    uint64_t cookie[TREES_TREE_DEPTH_MAX + 1];
    for (int d = 0; d <= depth; d++)
        cookie[d] = trees_cookie(salt, d);
    trees_fault fault = {NULL, 0};
    uint64_t count = trees_count(root, depth, cookie, &fault);
    if (fault.node != NULL) {
        hl_object *o = fault.node;
        if (trees_node_cookie(o) != cookie[fault.depth])
            return hl_fail(err, "corrupted node %p at depth %d: cookie %016" PRIx64 ", expected "
                           "%016" PRIx64 " (after %" PRIu64 " nodes)", (void *)o, fault.depth,
                           trees_node_cookie(o), cookie[fault.depth], t->ops_done);
        return hl_fail(err, "malformed tree: node %p at depth %d has children %p, %p", (void *)o,
                       fault.depth, (void *)o->refs[0], (void *)o->refs[1]);
    }
    *nodes = count;
    return 0;
}

/* -------------------------------------------------------- the builders -- */

static inline trees_frame *trees_push(trees *t, int depth)
{
    trees_frame *f = &t->frame[t->nframes++];
    *f = (trees_frame){.depth = depth};
    return f;
}

/* Advance through the steps that allocate nothing until the next one does.
 * Returns 1 when the tree is complete (t->root set), 0 otherwise. */
static int trees_settle(trees *t)
{
    while (t->nframes > 0) {
        trees_frame *f = &t->frame[t->nframes - 1];
        if (t->build == BUILD_TOP_DOWN) {
            if (f->stage < 2)
                return 0;
            hl_object *node = f->node;
            int d = f->depth - 1;
            t->nframes--;
            if (d > 0) { /* left on top: built first, as Populate recurses */
                trees_push(t, d)->node = node->refs[1];
                trees_push(t, d)->node = node->refs[0];
            }
        } else {
            if (f->depth == 0 || f->stage == 4)
                return 0;
            if (f->stage == 0 || f->stage == 2) {
                f->stage++;
                trees_push(t, f->depth - 1);
            } else {
                return 0; /* waiting stages are never on top */
            }
        }
    }
    return t->root != NULL;
}

/* A bottom-up subtree is finished: hand it to the frame below, or it is the
 * tree. */
static void trees_deliver(trees *t, hl_object *subtree)
{
    if (t->nframes == 0) {
        t->root = subtree;
        return;
    }
    trees_frame *parent = &t->frame[t->nframes - 1];
    if (parent->stage == 1)
        parent->left = subtree;
    else
        parent->right = subtree;
    parent->stage++;
}

/* Begin the next tree of the current job. */
static void trees_begin(trees *t)
{
    const trees_job *j = &t->plan.job[t->job];
    t->building = 1;
    t->build = j->build;
    t->depth = j->depth;
    t->salt = hl_mix64(t->seed ^ (++t->trees_begun * 0xd1b54a32d192ed03ull));
    t->root = NULL;
    t->nframes = 0;
    if (t->build == BUILD_BOTTOM_UP) {
        trees_push(t, t->depth);
        trees_settle(t);
    }
}

/* A new node of `depth` stored into o's field `field`, held by o alone
 * (hl_new_child): the top-down builder's one move.  Returns the node
 * (borrowed), or NULL with err set. */
static inline hl_object *trees_add_child(trees *t, hl_object *o, uint32_t field, int depth,
                                         hl_error *err)
{
    return trees_stamp(t, hl_new_child(t->gc, o, field, &trees_node_type, TREES_NODE_REFS,
                                       TREES_NODE_DATA),
                       depth, err);
}

/* Give node o (of `depth`, with no children yet) its whole subtree at
 * once, in the order the frame machine would (both children, then the left
 * subtree, then the right: GCBench's Populate), 2^(depth+1) - 2 nodes.
 * The fast path for a subtree that fits in the step's budget: recursion
 * (depth <= TREES_TREE_DEPTH_MAX) instead of a frame per node.  Returns 0,
 * or -1 with err set (what was built hangs off o, for trees_abandon). */
static int trees_populate(trees *t, hl_object *o, int depth, hl_error *err)
{
    if (depth == 0)
        return 0;
    hl_object *left = trees_add_child(t, o, 0, depth - 1, err);
    hl_object *right = left == NULL ? NULL : trees_add_child(t, o, 1, depth - 1, err);
    if (right == NULL)
        return -1;
    t->ops_done += 2;
    if (trees_populate(t, left, depth - 1, err) != 0)
        return -1;
    return trees_populate(t, right, depth - 1, err);
}

/* Allocate the next nodes of the tree under construction: one, or a whole
 * subtree when the top frame is one whose subtree is no larger than
 * `budget` (>= 1) nodes.  ops_done counts them.  Returns 1 when that
 * completed the tree, 0 when more nodes follow, -1 with err set. */
static int trees_tick(trees *t, uint64_t budget, hl_error *err)
{
    if (t->build == BUILD_TOP_DOWN) {
        if (t->root == NULL) {
            t->root = trees_new_node(t, t->depth, err);
            if (t->root == NULL)
                return -1;
            t->ops_done++;
            if (trees_size(t->depth) <= budget)
                return trees_populate(t, t->root, t->depth, err) == 0 ? 1 : -1;
            if (t->depth > 0)
                trees_push(t, t->depth)->node = t->root;
        } else {
            trees_frame *f = &t->frame[t->nframes - 1];
            if (f->stage == 0 && trees_size(f->depth) - 1 <= budget) {
                t->nframes--;
                if (trees_populate(t, f->node, f->depth, err) != 0)
                    return -1;
            } else {
                if (trees_add_child(t, f->node, (uint32_t)f->stage, f->depth - 1, err) == NULL)
                    return -1;
                t->ops_done++;
                f->stage++;
            }
        }
        return t->nframes == 0 ? 1 : trees_settle(t);
    }
    trees_frame *f = &t->frame[t->nframes - 1];
    hl_object *node = trees_new_node(t, f->depth, err);
    if (node == NULL)
        return -1;
    if (f->depth > 0) {
        hl_store(t->gc, node, 0, f->left);
        hl_store(t->gc, node, 1, f->right);
        trees_release(t, f->left);
        trees_release(t, f->right);
    }
    t->ops_done++;
    t->nframes--;
    trees_deliver(t, node);
    return trees_settle(t);
}

/* Drop whatever a build left half done (finish after an error). */
static void trees_abandon(trees *t)
{
    if (t->build == BUILD_TOP_DOWN) {
        trees_drop(t, t->root);
    } else {
        for (int i = 0; i < t->nframes; i++) {
            trees_drop(t, t->frame[i].left);
            if (t->frame[i].stage > 3)
                trees_drop(t, t->frame[i].right);
        }
        trees_drop(t, t->root);
    }
    t->root = NULL;
    t->nframes = 0;
    t->building = 0;
}

/* ------------------------------------------------------------- the run -- */

/* Run the jobs that allocate no nodes (GCBench's array) until one that does
 * is current, or the plan is done. */
static int trees_next_job(trees *t, hl_error *err)
{
    while (t->job < t->plan.njobs && t->plan.job[t->job].kind == JOB_ARRAY) {
        uint64_t len = t->plan.array_len;
        t->array = hl_new(t->gc, &trees_array_type, 0, (uint32_t)(len * sizeof(double)));
        if (t->array == NULL)
            return hl_fail(err, "out of memory: array of %" PRIu64 " doubles", len);
        double *a = hl_object_data(t->array);
        for (uint64_t i = 1; i < len / 2; i++) /* a[0] stays 0: GCBench's 1.0/0 */
            a[i] = 1.0 / (double)i;
        t->job++;
    }
    if (t->job < t->plan.njobs)
        t->trees_left = t->plan.job[t->job].trees;
    return 0;
}

/* The tree just built is complete: check it and drop or keep it. */
static int trees_complete(trees *t, hl_error *err)
{
    const trees_job *j = &t->plan.job[t->job];
    hl_object *root = t->root;
    uint64_t nodes = 0;
    t->building = 0;
    t->root = NULL;
    switch (j->kind) {
    case JOB_LONG_LIVED:
        t->long_lived = root;
        t->long_lived_salt = t->salt;
        t->long_lived_depth = t->depth;
        break;
    case JOB_STRETCH:
        if (trees_walk(t, root, t->depth, t->salt, &nodes, err) != 0) {
            trees_drop(t, root);
            return -1;
        }
        t->stretch_check = nodes;
        trees_fold(t, nodes);
        trees_drop(t, root);
        break;
    case JOB_BATCH:
        if (t->variant == TREES_BINARYTREES) {
            if (trees_walk(t, root, t->depth, t->salt, &nodes, err) != 0) {
                trees_drop(t, root);
                return -1;
            }
            t->check[(t->depth - TREES_MIN_DEPTH) / 2] += nodes;
            trees_fold(t, nodes);
        } else {
            uint64_t cookie = trees_node_cookie(root);
            if (cookie != trees_cookie(t->salt, t->depth)) {
                trees_drop(t, root);
                return hl_fail(err, "corrupted root %p of a depth-%d tree: cookie %016" PRIx64,
                               (void *)root, t->depth, cookie);
            }
            trees_fold(t, cookie);
        }
        t->count[(t->depth - TREES_MIN_DEPTH) / 2]++;
        trees_drop(t, root);
        break;
    case JOB_ARRAY:
        break;
    }
    if (--t->trees_left == 0) {
        t->job++;
        return trees_next_job(t, err);
    }
    return 0;
}

static int trees_setup(const hl_workload_config *cfg, void **state, hl_error *err)
{
    trees *t = calloc(1, sizeof *t);
    if (t == NULL)
        return hl_fail(err, "out of memory for the trees state");
    t->gc = cfg->gc;
    t->manual = hl_gc_is_manual(cfg->gc);
    t->variant = (int)cfg->variant;
    t->seed = cfg->seed;
    trees_make_plan(cfg, &t->plan);
    *state = t;
    return trees_next_job(t, err);
}

static int trees_step(void *state, uint64_t n, hl_error *err)
{
    trees *t = state;
    uint64_t end = t->ops_done + n;
    while (t->ops_done < end) {
        if (!t->building) {
            if (t->job >= t->plan.njobs)
                return hl_fail(err, "asked for more than the run's %" PRIu64 " nodes",
                               t->ops_done);
            trees_begin(t);
        }
        int rc = trees_tick(t, end - t->ops_done, err);
        if (rc < 0)
            return -1;
        if (rc == 1 && trees_complete(t, err) != 0)
            return -1;
    }
    return 0;
}

static int trees_finish(void *state, hl_workload_result *res, hl_error *err)
{
    trees *t = state;
    int rc = 0;
    if (t->building)
        trees_abandon(t);
    hl_stats *fig = &res->figures;
    if (t->plan.job[0].kind == JOB_STRETCH && t->stretch_check > 0)
        hl_stats_add(fig, "stretch_check", "nodes", (double)t->stretch_check);
    if (t->long_lived != NULL) {
        uint64_t nodes = 0;
        if (trees_walk(t, t->long_lived, t->long_lived_depth, t->long_lived_salt, &nodes,
                       err) != 0)
            rc = -1;
        trees_fold(t, nodes);
        hl_stats_add(fig, "long_lived_check", "nodes", (double)nodes);
        trees_drop(t, t->long_lived);
    }
    if (t->array != NULL) {
        uint64_t half = t->plan.array_len / 2;
        uint64_t probe = half > TREES_GCBENCH_PROBE ? TREES_GCBENCH_PROBE : half - 1;
        double v = ((const double *)hl_object_data(t->array))[probe];
        if (rc == 0 && v != 1.0 / (double)probe)
            rc = hl_fail(err, "array[%" PRIu64 "] is %g, expected 1/%" PRIu64, probe, v, probe);
        uint64_t bits;
        memcpy(&bits, &v, sizeof bits);
        trees_fold(t, bits);
        hl_stats_add(fig, "array_doubles", "doubles", (double)t->plan.array_len);
        if (t->manual)
            hl_free_object(t->gc, t->array);
        else
            hl_release(t->gc, t->array);
    }
    for (int i = 0; i < t->plan.njobs; i++) {
        const trees_job *j = &t->plan.job[i];
        if (j->kind != JOB_BATCH || j->build == BUILD_BOTTOM_UP)
            continue; /* one figure per depth; gcbench's two passes are counted together */
        int slot = (j->depth - TREES_MIN_DEPTH) / 2;
        hl_stats_add(fig, trees_count_names[slot], "trees", (double)t->count[slot]);
        if (t->variant == TREES_BINARYTREES)
            hl_stats_add(fig, trees_check_names[slot], "nodes", (double)t->check[slot]);
    }
    res->ops = t->ops_done;
    res->checksum = t->checksum;
    free(t);
    return rc;
}

static const hl_workload_ops trees_ops_table = {
    .name = "trees",
    .description = "the classic GC benchmarks: binary-trees and GCBench, many short-lived "
                   "trees beside long-lived ones; one op = one node",
    .default_collector = "refcount",
    .params = trees_params,
    .nparams = sizeof trees_params / sizeof trees_params[0],
    .variants = trees_variants,
    .nvariants = sizeof trees_variants / sizeof trees_variants[0],
    .flags = 0,
    /* Large steps let whole subtrees take the recursive fast path
     * (trees_populate); the frame machine only runs at a step's edges. */
    .batch = 16384,
    .ops = trees_ops,
    .setup = trees_setup,
    .step = trees_step,
    .finish = trees_finish,
};

const hl_workload_ops *hl_trees_workload(void)
{
    return &trees_ops_table;
}
