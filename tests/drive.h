/*
 * drive.h - what the workload tests share: driving a workload through its
 * interface the way the harness does (setup, every step in batches, finish)
 * and a decorator that corrupts a live block behind the workload's back.
 * and the parameters a test sets.  Header-only: each test is one
 * translation unit.
 */
#ifndef HEAPLAB_TEST_DRIVE_H
#define HEAPLAB_TEST_DRIVE_H

#include "tests/check.h"
#include "workloads/workload.h"

/* One parameter set by a test, in a list ended by a NULL name. */
typedef struct drive_setting {
    const char *name;
    int64_t value;
} drive_setting;

/* w's parameters into params[w->nparams]: the --quick values, then each of
 * `over` (which must name parameters w has). */
static inline void drive_params(const hl_workload_ops *w, const drive_setting *over,
                                int64_t *params)
{
    for (size_t i = 0; i < w->nparams; i++)
        params[i] = w->params[i].quick;
    for (; over != NULL && over->name != NULL; over++) {
        int i = hl_workload_param_index(w, over->name);
        CHECK(i >= 0, "%s has no parameter %s", w->name, over->name);
        if (i >= 0)
            params[i] = over->value;
    }
}

/* Set up w under cfg into *state and run all of its operations in batches
 * of `batch` (0: the workload's own, else 1024).  Returns 0, or -1 with err
 * set; *state is set whenever setup got far enough to need finish. */
static inline int drive_run(const hl_workload_ops *w, const hl_workload_config *cfg,
                            uint64_t batch, void **state, hl_error *err)
{
    uint64_t ops = w->ops(cfg);
    if (batch == 0)
        batch = w->batch ? w->batch : 1024;
    *state = NULL;
    int rc = w->setup(cfg, state, err);
    for (uint64_t done = 0; rc == 0 && done < ops; done += batch)
        rc = w->step(*state, ops - done < batch ? ops - done : batch, err);
    return rc;
}

/* Finish what drive_run started (when it left a state) and combine the
 * outcomes: the first error wins.  Returns the combined status. */
static inline int drive_finish(const hl_workload_ops *w, void *state, int rc,
                               hl_workload_result *res, hl_error *err)
{
    if (state == NULL)
        return rc;
    hl_error fin = {{0}};
    if (w->finish(state, res, &fin) != 0 && rc == 0) {
        *err = fin;
        rc = -1;
    }
    return rc;
}

/* A test-only decorator that corrupts memory it handed out: the
 * `victim_at`-th allocation has its first byte flipped at the next
 * allocation while it is still live (or the next block's, if it was freed
 * first), once. */
typedef struct corrupter {
    hl_allocator inner;
    uint64_t allocs, victim_at;
    unsigned char *victim;
    int done;
} corrupter;

static inline void *corrupter_alloc(void *ctx, size_t size)
{
    corrupter *c = ctx;
    if (!c->done && c->victim != NULL) {
        c->victim[0] ^= 0x40;
        c->done = 1;
    }
    unsigned char *p = hl_alloc(&c->inner, size);
    if (++c->allocs == c->victim_at)
        c->victim = p;
    return p;
}

static inline void corrupter_free(void *ctx, void *p, size_t size)
{
    corrupter *c = ctx;
    if (p == c->victim && !c->done) {
        c->victim = NULL; /* pick the next block */
        c->victim_at = c->allocs + 1;
    }
    hl_free(&c->inner, p, size);
}

static inline void *corrupter_realloc(void *ctx, void *p, size_t old_size, size_t new_size)
{
    corrupter *c = ctx;
    return hl_realloc(&c->inner, p, old_size, new_size);
}

static inline void corrupter_fini(void *ctx)
{
    (void)ctx; /* the corrupter lives on the test's stack */
}

static const hl_allocator_ops corrupter_ops = {
    .name = "corrupter",
    .description = "test decorator: corrupts one live block",
    .fini = corrupter_fini,
    .alloc = corrupter_alloc,
    .free = corrupter_free,
    .realloc = corrupter_realloc,
};

/* Wrap inner in the corrupter c (which must outlive the result). */
static inline hl_allocator corrupter_wrap(corrupter *c, const hl_allocator *inner,
                                          uint64_t victim_at)
{
    *c = (corrupter){.inner = *inner, .victim_at = victim_at};
    return (hl_allocator){&corrupter_ops, c};
}

#endif
