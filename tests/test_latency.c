/*
 * test_latency.c - the latency decorator's sampling, against counts worked
 * out by hand (no timing is judged: only how many operations were timed).
 *
 * allocators/latency.c times every `every`-th alloc and free of a thread,
 * starting with every operation, and when a thread's buffer of
 * HL_LATENCY_CAPACITY samples fills it keeps every second one and doubles
 * the period.  So after N operations of a kind on one thread:
 *     every = the smallest power of two with ceil(N / every) <= capacity
 *     samples = ceil(N / every)   (operations 0, every, 2 every, ...)
 * Two threads with different counts are merged at the larger period, each
 * thread's samples thinned to it.  Also: frees of NULL are not timed, and
 * the timer's cost is measured (positive) on a machine with a timer.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "allocators/allocator.h"
#include "allocators/latency.h"
#include "tests/check.h"

typedef struct job {
    const hl_allocator *a;
    size_t ops;
} job;

/* ops allocs and ops frees, one block at a time, and one free of NULL. */
static void *churn(void *arg)
{
    const job *j = arg;
    for (size_t i = 0; i < j->ops; i++)
        hl_free(j->a, hl_alloc(j->a, 32), 32);
    hl_free(j->a, NULL, 0);
    return NULL;
}

static uint64_t period_for(size_t ops)
{
    uint64_t every = 1;
    while ((ops + every - 1) / every > HL_LATENCY_CAPACITY)
        every *= 2;
    return every;
}

static void run_case(const char *what, size_t ops0, size_t ops1)
{
    hl_allocator base = {0}, timed = {0};
    CHECK(hl_allocator_open(&base, hl_allocator_find("glibc")) == 0, "%s: glibc failed", what);
    CHECK(hl_latency_wrap(&timed, &base) == 0, "%s: wrap failed", what);
    job j0 = {&timed, ops0}, j1 = {&timed, ops1};
    pthread_t t;
    churn(&j0);
    if (ops1 > 0) {
        pthread_create(&t, NULL, churn, &j1);
        pthread_join(t, NULL);
    }
    hl_latency_samples s;
    CHECK(hl_latency_collect(&timed, &s) == 0, "%s: collect failed", what);
    uint64_t every = period_for(ops0 > ops1 ? ops0 : ops1);
    size_t want = (ops0 + every - 1) / every;
    if (ops1 > 0) {
        /* The other thread's samples, at its own period, thinned to every. */
        uint64_t own = period_for(ops1);
        size_t kept = (ops1 + own - 1) / own;
        want += (kept + every / own - 1) / (every / own);
    }
    CHECK(s.every == every, "%s: sampled every %llu, expected %llu", what,
          (unsigned long long)s.every, (unsigned long long)every);
    CHECK(s.threads == (ops1 > 0 ? 2 : 1), "%s: %d threads recorded", what, s.threads);
    for (int k = 0; k < HL_LATENCY_KINDS; k++)
        CHECK(s.n[k] == want, "%s: %s samples %zu, expected %zu", what,
              k == HL_LATENCY_ALLOC ? "alloc" : "free", s.n[k], want);
    CHECK(s.timer_ticks >= 0 && strlen(s.clock) > 0, "%s: timer cost %g on %s", what,
          s.timer_ticks, s.clock);
    hl_latency_samples_free(&s);
    hl_allocator_close(&timed);
    hl_allocator_close(&base);
}

int main(void)
{
    run_case("every operation", 1000, 0);
    run_case("exactly full", HL_LATENCY_CAPACITY, 0);
    run_case("one past full", HL_LATENCY_CAPACITY + 1, 0);
    run_case("five times full", 5 * HL_LATENCY_CAPACITY + 3, 0);
    run_case("two threads, periods 1 and 4", 1000, 3 * HL_LATENCY_CAPACITY + 7);
    return check_status("test_latency");
}
