/*
 * stress.c - `--workload=stress` (`bench --stress`): long seeded random
 * sequences that try to break allocators and collectors, checking
 * everything they touch.
 *
 * THIS IS NOT A BENCHMARK.  Every byte of every block is written and read
 * back, so the timings measure the checking far more than the strategy;
 * do not compare them.  What a run reports is whether anything broke: the
 * figures wl_checked (blocks or objects verified) and wl_errors (corrupted
 * ones found), and the checksum, which is the same under every allocator
 * and collector when nothing broke.  A run that finds corruption fails its
 * cell with "N corrupted blocks found (first: slot S, byte B: expected X
 * got Y)", so `bench` exits 1.  The habits are those of mimalloc's
 * test/test-stress.c: a deterministic generator per thread, every block
 * filled with a cookie and checked before it is freed, blocks handed
 * between threads.
 *
 * The cookie.  A block's contents are a pattern derived from (seed, thread,
 * slot, generation): word k of the block is cookie + k * 0x9e3779b97f4a7c15,
 * stored little end first, the last partial word cut short.  So every byte
 * depends on the block's identity and on its position in the block: a
 * block handed out twice, a stale write into a freed-and-reused block, an
 * allocator's free-list link written into a live block, a realloc that
 * loses or shifts bytes - each shows as a wrong byte somewhere.  Object
 * data uses the same pattern, from (seed, object number).
 *
 * Two engines run it, one file each, chosen by variant:
 *
 *   alloc, threads   stress_blocks.c: raw blocks over cfg->alloc in a table
 *                    of slots, freed, reallocated and verified at random;
 *                    threads hands blocks to another thread to free.
 *   graph            stress_graph.c: object graphs under cfg->gc (every
 *                    collector), stores, weak references and collections,
 *                    checked against a shadow of the graph.
 *
 * One op is one step of a sequence (an alloc, a free, a store...).  Each
 * engine's file opens with its algorithm and its odds.  This file is the
 * workload: its parameters, variants, what it counts, and the method table
 * that hands each call to the variant's engine; stress.h holds what both
 * engines share (the cookie pattern, fault notes, reporting).
 *
 * Checksum: of what was read back, so the same under every allocator and
 * collector when no error is found (each engine's file says in what
 * order it folds).
 *
 * Figures (rows: wl_<name>): checked, errors, one count per kind of op
 * (ops_alloc, ops_free, ops_store, ...), received (blocks that arrived from
 * another thread), unreachable (objects the shadow found unreachable).
 *
 * Parameters: ops, slots, max_size, threads; seed from --seed.
 * Source: mimalloc's test/test-stress.c (Leijen et al., MIT) for the habits;
 * glibc's malloc/tst-malloc-thread-fail.c for freeing on another thread.
 */
#include "workloads/stress.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

static const hl_param_spec stress_params[] = {
    [STRESS_OPS] = {"ops", "operations per run, over all threads", 2000000, 200000, 1,
                    INT64_C(1000000000000)},
    [STRESS_SLOTS] = {"slots", "block slots (alloc, threads: shared out among the threads) or "
                      "root slots (graph)", 1024, 1024, 1, 1 << 24},
    [STRESS_MAX_SIZE] = {"max_size", "largest block in bytes (alloc, threads)", 65536, 65536, 1,
                         1 << 26},
    [STRESS_THREADS] = {HL_THREADS_PARAM, "threads sharing the ops and slots (alloc, threads; "
                        "graph runs one)", 1, 1, 1, 1024},
};

static const hl_variant_spec stress_variants[] = {
    [STRESS_ALLOC] = {"alloc", "raw alloc/free/realloc, every byte cookie-checked"},
    [STRESS_GRAPH] = {"graph", "random object graphs, stores, weak references and collections, "
                      "checked against a shadow"},
    [STRESS_HANDOFF] = {"threads", "the alloc sequence on several threads that hand blocks to "
                        "one another to free"},
};

/* ------------------------------------------------------------ counters -- */

#define STRESS_ROW(id, name, unit, variants) {name, unit, variants},
static const struct {
    const char *name, *unit;
    unsigned variants;
} stress_counter_table[SC_COUNT] = {STRESS_COUNTERS(STRESS_ROW)};
#undef STRESS_ROW

__attribute__((format(printf, 2, 3))) void hl_stress_fault_note(stress_fault *f,
                                                                const char *fmt, ...)
{
    if (f->count++ > 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->first, sizeof f->first, fmt, ap);
    va_end(ap);
}

int hl_stress_report(hl_workload_result *res, unsigned variant, const uint64_t count[SC_COUNT],
                     const stress_fault *fault, const char *noun, hl_error *err)
{
    char unit[16];
    snprintf(unit, sizeof unit, "%ss", noun);
    hl_stats_add(&res->figures, "errors", unit, (double)fault->count);
    for (int k = 0; k < SC_COUNT; k++)
        if (stress_counter_table[k].variants & STRESS_IN(variant))
            hl_stats_add(&res->figures, stress_counter_table[k].name,
                         stress_counter_table[k].unit, (double)count[k]);
    if (fault->count > 0)
        return hl_fail(err, "%" PRIu64 " corrupted %s%s found (first: %s)", fault->count, noun,
                       fault->count == 1 ? "" : "s", fault->first);
    return 0;
}

/* ======================================================= method table == */

/* The state's first field says which engine runs it. */
typedef struct stress_state {
    int graph;
    void *engine;
} stress_state;

static uint64_t stress_ops(const hl_workload_config *cfg)
{
    return (uint64_t)cfg->params[STRESS_OPS];
}

static int stress_setup(const hl_workload_config *cfg, void **state, hl_error *err)
{
    stress_state *st = hl_untracked_alloc(sizeof *st);
    if (st == NULL)
        return hl_fail(err, "out of memory for the stress state");
    st->graph = cfg->variant == STRESS_GRAPH;
    *state = st;
    return st->graph ? hl_stress_graph_setup(cfg, &st->engine, err)
                     : hl_stress_blocks_setup(cfg, &st->engine, err);
}

static int stress_step(void *state, uint64_t n, hl_error *err)
{
    stress_state *st = state;
    return st->graph ? hl_stress_graph_step(st->engine, n, err)
                     : hl_stress_blocks_step(st->engine, n, err);
}

static int stress_finish(void *state, hl_workload_result *res, hl_error *err)
{
    stress_state *st = state;
    int rc = 0;
    if (st->engine != NULL)
        rc = st->graph ? hl_stress_graph_finish(st->engine, res, err)
                       : hl_stress_blocks_finish(st->engine, res, err);
    hl_untracked_free(st, sizeof *st);
    return rc;
}

static const hl_workload_ops stress_ops_table = {
    .name = "stress",
    .description = "NOT a benchmark: seeded random alloc/free/realloc, object graphs and "
                   "cross-thread frees, every byte checked; fails on corruption",
    .default_collector = "manual",
    .params = stress_params,
    .nparams = sizeof stress_params / sizeof stress_params[0],
    .variants = stress_variants,
    .nvariants = sizeof stress_variants / sizeof stress_variants[0],
    .flags = 0,
    .batch = 16384,
    .ops = stress_ops,
    .setup = stress_setup,
    .step = stress_step,
    .finish = stress_finish,
};

const hl_workload_ops *hl_stress_workload(void)
{
    return &stress_ops_table;
}