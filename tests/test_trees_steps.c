/*
 * test_trees_steps.c - the trees workload does the same work however the
 * harness slices it into steps.
 *
 * trees builds a tree node by node with a frame machine when a step ends in
 * the middle of a subtree, and a whole subtree by recursion when it fits
 * in what is left of the step (trees_populate).  Both must allocate the same
 * nodes in the same order, link them the same way and free them in the same
 * order: the allocation order is the memory layout every allocator sees,
 * and the checksum (node counts and cookies) cannot tell two orders apart.
 *
 * So this test runs each variant under a logging allocator, with steps of 1
 * node (only the frame machine), 7 and 1000 nodes (both, switching at odd
 * places) and the whole run in one step (the fast path from the first
 * node), and requires one log: each allocation's size and each free's
 * allocation number, folded into a hash, with the counts.  Under `manual`
 * (the workload frees node by node) and `refcount` (stores and releases go
 * through the collector; deaths cascade).
 */
#include "allocators/allocator.h"
#include "collectors/collector.h"
#include "tests/check.h"
#include "tests/drive.h"
#include "workloads/workload.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A decorator that numbers every allocation and logs allocations and
 * frees into a running hash.  The number of a live block is found through
 * an open-addressing map from address to number (the blocks belong to the
 * workload, so nothing is written into them). */
typedef struct logger {
    hl_allocator inner;
    uint64_t allocs, frees, hash;
    size_t cap;
    struct {
        void *p;
        uint64_t id;
    } *map;
} logger;

static size_t slot_of(const logger *l, const void *p)
{
    size_t i = (size_t)(((uintptr_t)p >> 4) * 0x9e3779b97f4a7c15ull) & (l->cap - 1);
    while (l->map[i].p != NULL && l->map[i].p != p)
        i = (i + 1) & (l->cap - 1);
    return i;
}

static void log_event(logger *l, uint64_t event)
{
    l->hash = (l->hash ^ event) * 0x100000001b3ull;
}

static void *logger_alloc(void *ctx, size_t size)
{
    logger *l = ctx;
    void *p = hl_alloc(&l->inner, size);
    if (p == NULL)
        return NULL;
    size_t i = slot_of(l, p);
    l->map[i].p = p;
    l->map[i].id = l->allocs++;
    log_event(l, (uint64_t)size << 1);
    return p;
}

/* Remove slot i, keeping every probe sequence whole (backward shift). */
static void map_remove(logger *l, size_t i)
{
    size_t j = i;
    for (;;) {
        l->map[i].p = NULL;
        for (;;) {
            j = (j + 1) & (l->cap - 1);
            if (l->map[j].p == NULL)
                return;
            size_t home = (size_t)(((uintptr_t)l->map[j].p >> 4) * 0x9e3779b97f4a7c15ull) &
                          (l->cap - 1);
            if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j))
                break;
        }
        l->map[i] = l->map[j];
        i = j;
    }
}

static void logger_free(void *ctx, void *p, size_t size)
{
    logger *l = ctx;
    if (p == NULL)
        return;
    size_t i = slot_of(l, p);
    CHECK(l->map[i].p == p, "free of a block the logger never handed out");
    log_event(l, (l->map[i].id << 1) | 1);
    l->frees++;
    map_remove(l, i);
    hl_free(&l->inner, p, size);
}

static void *logger_realloc(void *ctx, void *p, size_t old_size, size_t new_size)
{
    (void)ctx, (void)p, (void)old_size, (void)new_size;
    CHECK(0, "trees never reallocates");
    return NULL;
}

static const hl_allocator_ops logger_ops = {
    .name = "logger",
    .description = "test only: logs allocations and frees",
    .alloc = logger_alloc,
    .free = logger_free,
    .realloc = logger_realloc,
};

typedef struct run_log {
    int rc;
    uint64_t allocs, frees, hash, checksum;
} run_log;

/* Run trees' `variant` at --quick size under `collector` over a logger on
 * the pool, in steps of `batch` nodes (0: the whole run in one step). */
static run_log run_logged(const char *variant, const char *collector, uint64_t batch)
{
    const hl_workload_ops *w = hl_workload_find("trees");
    run_log out = {-1, 0, 0, 0, 0};
    int64_t params[8];
    drive_params(w, NULL, params);
    static logger l;
    memset(&l, 0, sizeof l);
    l.cap = (size_t)1 << 22;
    l.map = calloc(l.cap, sizeof *l.map);
    hl_allocator logged = {&logger_ops, &l};
    hl_gc gc = {0};
    if (l.map == NULL || hl_allocator_open(&l.inner, hl_allocator_find("pool")) != 0 ||
        hl_gc_open(&gc, hl_collector_find(collector), &logged, NULL) != 0) {
        CHECK(0, "cannot open %s over the logged pool", collector);
        free(l.map);
        return out;
    }
    hl_workload_config cfg = {.alloc = &logged, .gc = &gc, .params = params,
                              .variant = (size_t)hl_workload_variant_index(w, variant), .seed = 1};
    void *state;
    hl_error err = {{0}};
    hl_workload_result res;
    memset(&res, 0, sizeof res);
    int rc = drive_run(w, &cfg, batch ? batch : w->ops(&cfg), &state, &err);
    out.rc = drive_finish(w, state, rc, &res, &err);
    CHECK(out.rc == 0, "trees/%s under %s, steps of %" PRIu64 ": %s", variant, collector, batch,
          err.msg);
    hl_collect(&gc, -1);
    hl_gc_close(&gc);
    out.allocs = l.allocs;
    out.frees = l.frees;
    out.hash = l.hash;
    out.checksum = res.checksum;
    hl_allocator_close(&l.inner);
    free(l.map);
    return out;
}

int main(void)
{
    static const char *const variants[] = {"binarytrees", "gcbench"};
    static const char *const collectors[] = {"manual", "refcount"};
    static const uint64_t batches[] = {1, 7, 1000, 0};
    for (size_t v = 0; v < 2; v++) {
        for (size_t c = 0; c < 2; c++) {
            run_log first = run_logged(variants[v], collectors[c], batches[0]);
            CHECK(first.allocs > 1000 && first.frees == first.allocs,
                  "trees/%s under %s: %" PRIu64 " allocations, %" PRIu64 " frees",
                  variants[v], collectors[c], first.allocs, first.frees);
            for (size_t b = 1; b < sizeof batches / sizeof batches[0]; b++) {
                run_log r = run_logged(variants[v], collectors[c], batches[b]);
                CHECK(r.allocs == first.allocs && r.frees == first.frees &&
                      r.hash == first.hash && r.checksum == first.checksum,
                      "trees/%s under %s: steps of %" PRIu64 " (0: one step) give %" PRIu64
                      " allocations, %"
                      PRIu64 " frees, log %016" PRIx64 ", checksum %016" PRIx64
                      "; steps of 1 give %" PRIu64 ", %" PRIu64 ", %016" PRIx64 ", %016" PRIx64,
                      variants[v], collectors[c], batches[b], r.allocs, r.frees, r.hash,
                      r.checksum, first.allocs, first.frees, first.hash, first.checksum);
            }
            printf("trees/%s under %s: %" PRIu64 " allocations, one log for steps of 1, 7, "
                   "1000 and the whole run\n", variants[v], collectors[c], first.allocs);
        }
    }
    return check_status("test_trees_steps");
}
