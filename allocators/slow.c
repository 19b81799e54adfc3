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
#include "allocators/decorator.h"

#include <errno.h>

#define SLOW_ROUNDS 3 /* multiply-add rounds per allocation */

typedef struct slow {
    hl_decorated base; /* first: the wrapped allocator */
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
    return hl_pass_alloc(s, size);
}

static void *slow_realloc(void *ctx, void *p, size_t old_size, size_t new_size)
{
    slow *s = ctx;
    slow_burn(s, new_size);
    return hl_pass_realloc(s, p, old_size, new_size);
}

static const hl_allocator_ops slow_ops = {
    .name = "slow",
    .description = "test decorator: about a dozen extra instructions per allocation",
    .fini = hl_pass_fini,
    .alloc = slow_alloc,
    .free = hl_pass_free,
    .realloc = slow_realloc,
    .stats = hl_pass_stats,
};

int hl_slow_wrap(hl_allocator *out, const hl_allocator *inner)
{
    return hl_decorator_new(sizeof(slow), &slow_ops, inner, out) ? 0 : -ENOMEM;
}
