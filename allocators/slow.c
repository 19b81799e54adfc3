/*
 * slow.c - a test-only decorator that makes any allocator a little slower.
 *
 * It exists to prove that the regression check catches a modest slowdown:
 * every allocation first runs a short dependent chain of multiply-adds, about
 * a dozen instructions, roughly 10% of the instructions of one quick churn
 * operation under the pool (allocation, free and the workload's own work).
 * The allocations themselves are untouched.  Selected with --decorate=slow;
 * never part of a real measurement.
 */
#include "allocators/allocator.h"

#include <errno.h>
#include <stdlib.h>

#define SLOW_ROUNDS 3 /* multiply-add rounds per allocation */

typedef struct slow {
    hl_allocator inner;
    uint64_t sink; /* keeps the extra work from being optimised away */
} slow;

/* The extra work: SLOW_ROUNDS dependent multiply-adds. */
static void slow_burn(slow *s, size_t size)
{
    uint64_t x = s->sink ^ size;
    for (int i = 0; i < SLOW_ROUNDS; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        __asm__ volatile("" : "+r"(x));
    }
    s->sink = x;
}

static void *slow_alloc(void *ctx, size_t size)
{
    slow *s = ctx;
    slow_burn(s, size);
    return hl_alloc(&s->inner, size);
}

static void slow_free(void *ctx, void *p, size_t size)
{
    slow *s = ctx;
    hl_free(&s->inner, p, size);
}

static void *slow_realloc(void *ctx, void *p, size_t old_size, size_t new_size)
{
    slow *s = ctx;
    slow_burn(s, new_size);
    return hl_realloc(&s->inner, p, old_size, new_size);
}

static void slow_stats(void *ctx, hl_stats *out)
{
    slow *s = ctx;
    if (s->inner.ops->stats != NULL)
        s->inner.ops->stats(s->inner.ctx, out);
}

static void slow_fini(void *ctx)
{
    free(ctx);
}

static const hl_allocator_ops slow_ops = {
    .name = "slow",
    .description = "test decorator: about a dozen extra instructions per allocation",
    .fini = slow_fini,
    .alloc = slow_alloc,
    .free = slow_free,
    .realloc = slow_realloc,
    .stats = slow_stats,
};

int hl_slow_wrap(hl_allocator *out, const hl_allocator *inner)
{
    slow *s = calloc(1, sizeof *s);
    if (s == NULL)
        return -ENOMEM;
    s->inner = *inner;
    out->ops = &slow_ops;
    out->ctx = s;
    return 0;
}
