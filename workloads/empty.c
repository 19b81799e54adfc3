/*
 * empty.c - `--workload=empty`: no work at all, to measure the harness.
 *
 * What it models: nothing.  Each operation adds its index to a sum, the
 * least a step can do while still proving it ran every operation (the
 * checksum is the sum of 0..ops-1).  Its ns/op is what the harness itself
 * costs per operation: Google Benchmark's loop through the C shim, with
 * batching (bench_shim.h), and the call to step() once per batch.  heaplab's
 * target: under 1 ns per operation.
 *
 * Parameters: ops.  No allocation, so every allocator and collector gives
 * the same figure; it runs under manual.
 */
#include "workloads/workload.h"

#include <stdlib.h>

enum { EMPTY_OPS };

static const hl_param_spec empty_params[] = {
    [EMPTY_OPS] = {"ops", "operations per run", 1000000000, 10000000, 1, INT64_C(1000000000000)},
};

static const hl_variant_spec empty_variants[] = {{"default", "no work: the harness alone"}};

typedef struct empty {
    uint64_t next, sum;
} empty;

static uint64_t empty_ops(const hl_workload_config *cfg)
{
    return (uint64_t)cfg->params[EMPTY_OPS];
}

static int empty_setup(const hl_workload_config *cfg, void **state, hl_error *err)
{
    (void)cfg;
    empty *e = calloc(1, sizeof *e);
    if (e == NULL)
        return hl_fail(err, "out of memory for the empty workload's state");
    *state = e;
    return 0;
}

/* n operations; the compiler may fold the loop, which is the point: the
 * figure is the harness's cost, not the loop's. */
static int empty_step(void *state, uint64_t n, hl_error *err)
{
    (void)err;
    empty *e = state;
    for (uint64_t i = 0; i < n; i++)
        e->sum += e->next++;
    return 0;
}

static int empty_finish(void *state, hl_workload_result *res, hl_error *err)
{
    (void)err;
    empty *e = state;
    res->ops = e->next;
    res->checksum = e->sum;
    free(e);
    return 0;
}

static const hl_workload_ops empty_ops_table = {
    .name = "empty",
    .description = "no work: measures the harness's own cost per operation (target < 1 ns)",
    .default_collector = "manual",
    .gc_needs = HL_GC_MANUAL, /* raw bytes: manual only */
    .params = empty_params,
    .nparams = sizeof empty_params / sizeof empty_params[0],
    .variants = empty_variants,
    .nvariants = 1,
    .flags = HL_WORKLOAD_OPEN_ENDED,
    .ops = empty_ops,
    .setup = empty_setup,
    .step = empty_step,
    .finish = empty_finish,
};

const hl_workload_ops *hl_empty_workload(void)
{
    return &empty_ops_table;
}
