/*
 * test_pauses.c - pause percentiles against known distributions.
 *
 * docs/metrics.md defines gc_pause_p50_ns and gc_pause_p99_ns by the
 * nearest-rank method: of a run's n pauses sorted ascending, the q-quantile
 * is the ceil(q * n)-th smallest (the smallest when q * n rounds to 0).  A
 * percentile computed from the wrong rank, by interpolation, or as another
 * percentile (p99 := p50) passes any test that only checks p50 <= p99 <=
 * max on measured pauses; here the pauses are chosen, so every figure has
 * one right value.
 *
 * Two paths are checked:
 *  1. the pause log itself (collectors/pauses.h), fed pauses in a shuffled
 *     order (the log keeps them sorted as they arrive);
 *  2. each collector that times pauses (cycle, marksweep), through its own
 *     stats() method: the test is linked with -Wl,--wrap=hl_now_ns, so the
 *     collectors' clock is the scripted one below and each explicit
 *     collection lasts exactly the pause the test chose.  This is a link-time
 *     seam: no test hook lives in library code.
 * And minimum mutator utilisation (hl_mmu) on a pause timeline whose every
 * figure is worked out by hand, directly and through the pause log.
 */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "allocators/allocator.h"
#include "collectors/collector.h"
#include "collectors/pauses.h"
#include "tests/check.h"

/* ---------------------------------------------------- the fake clock -- */

/* Each timed pause reads the clock twice (start, end).  The first read
 * returns `now`; the second returns now + the scripted pause and moves the
 * clock on.  clock_reads lets the test prove that assumption held. */
static uint64_t clock_now = 1000000000u;
static uint64_t clock_next_pause;
static uint64_t clock_reads;

/* The name is fixed by the linker's --wrap convention. */
uint64_t __wrap_hl_now_ns(void);

uint64_t __wrap_hl_now_ns(void)
{
    clock_reads++;
    if (clock_reads % 2 == 1)
        return clock_now;
    clock_now += clock_next_pause;
    return clock_now;
}

/* -------------------------------------------------- distributions -- */

/* 1..1000 microseconds, each once, in a seeded shuffled order.  Nearest
 * rank: p50 = the 500th smallest = 500 us; p99 = the 990th = 990 us (an
 * interpolating p99 would be 990.01 us); max 1000 us; total 500500 us. */
#define UNIFORM_N 1000
static void uniform_pauses(double *ns)
{
    for (size_t i = 0; i < UNIFORM_N; i++)
        ns[i] = (double)(i + 1) * 1000;
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (size_t i = UNIFORM_N - 1; i > 0; i--) { /* Fisher-Yates, xorshift64 */
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t j = (size_t)(x % (i + 1));
        double t = ns[i];
        ns[i] = ns[j];
        ns[j] = t;
    }
}

/* A skewed run as collectors produce it: 150 short pauses (10 us), 47
 * medium (100 us), 3 long (5000 us), interleaved.  n = 200: p50 is rank 100
 * (10 us), p99 is rank 198 (5000 us; rank 197 would be 100 us), max 5000. */
#define SKEWED_N 200
static void skewed_pauses(double *ns)
{
    for (size_t i = 0; i < SKEWED_N; i++)
        ns[i] = i % 66 == 65 ? 5000e3 : i % 4 == 1 && i < 190 ? 100e3 : 10e3;
}

typedef struct expected {
    uint64_t pauses;
    double total, max, p50, p99;
} expected;

static void check_summary(const char *what, const hl_gc_stats *s, const expected *e)
{
    CHECK(s->pauses == e->pauses, "%s: %" PRIu64 " pauses, expected %" PRIu64, what, s->pauses,
          e->pauses);
    CHECK(s->pause_total_ns == e->total, "%s: total %.0f ns, expected %.0f", what,
          s->pause_total_ns, e->total);
    CHECK(s->pause_max_ns == e->max, "%s: max %.0f ns, expected %.0f", what, s->pause_max_ns,
          e->max);
    CHECK(s->pause_p50_ns == e->p50, "%s: p50 %.2f ns, expected %.0f", what, s->pause_p50_ns,
          e->p50);
    CHECK(s->pause_p99_ns == e->p99, "%s: p99 %.2f ns, expected %.0f", what, s->pause_p99_ns,
          e->p99);
}

/* The expected figures of `ns`, written out by hand above; checked here to
 * be what the distribution really holds (so a typo in a constant cannot
 * make both sides agree by accident). */
static expected expect(const double *ns, size_t n, double p50, double p99)
{
    expected e = {n, 0, 0, p50, p99};
    for (size_t i = 0; i < n; i++) {
        e.total += ns[i];
        e.max = ns[i] > e.max ? ns[i] : e.max;
    }
    return e;
}

/* ------------------------------------------------ 1. the pause log -- */

static void log_case(const char *what, const double *ns, size_t n, const expected *e)
{
    hl_pause_log log;
    memset(&log, 0, sizeof log);
    for (size_t i = 0; i < n; i++)
        hl_pause_record(&log, ns[i]);
    hl_gc_stats s;
    memset(&s, 0, sizeof s);
    hl_pause_summary(&log, &s);
    check_summary(what, &s, e);
    hl_pause_free(&log);
}

static void test_pause_log(void)
{
    double ns[UNIFORM_N];
    uniform_pauses(ns);
    expected e = expect(ns, UNIFORM_N, 500e3, 990e3);
    CHECK(e.total == 500500e3 && e.max == 1000e3, "uniform distribution is not 1..1000 us");
    log_case("log, 1..1000 us", ns, UNIFORM_N, &e);

    skewed_pauses(ns);
    e = expect(ns, SKEWED_N, 10e3, 5000e3);
    CHECK(e.max == 5000e3, "skewed distribution has no long pause");
    log_case("log, skewed", ns, SKEWED_N, &e);

    /* Small logs: the rank never falls off either end. */
    double one[] = {7}, two[] = {9, 3};
    expected e1 = {1, 7, 7, 7, 7}, e2 = {2, 12, 9, 3, 9};
    log_case("log, one pause", one, 1, &e1);
    log_case("log, two pauses", two, 2, &e2);

    /* No pauses: percentiles are absent (-1), not zero. */
    expected none = {0, 0, 0, -1, -1};
    log_case("log, no pauses", NULL, 0, &none);
}

/* ------------------------------------------- 2. through collectors -- */

/* Open collector `name` over the pool, make one explicit full collection
 * per pause in ns[] (each lasting exactly that long on the fake clock),
 * and check what its stats() reports. */
static void collector_case(const char *name, const double *ns, size_t n, const expected *e)
{
    const hl_collector_ops *c = hl_collector_find(name);
    hl_allocator base;
    hl_gc gc;
    CHECK(c != NULL, "no collector %s", name);
    if (c == NULL || hl_allocator_open(&base, hl_allocator_find("pool")) != 0)
        return;
    if (hl_gc_open(&gc, c, &base, NULL) != 0) {
        CHECK(0, "%s failed to open", name);
        hl_allocator_close(&base);
        return;
    }
    hl_gc_stats before;
    memset(&before, 0, sizeof before);
    gc.ops->stats(gc.ctx, &before);
    CHECK(before.pauses == 0, "%s: %" PRIu64 " pauses before any collection", name,
          before.pauses);
    clock_reads = 0;
    for (size_t i = 0; i < n; i++) {
        clock_next_pause = (uint64_t)ns[i];
        hl_collect(&gc, -1);
    }
    CHECK(clock_reads == 2 * n, "%s read the clock %" PRIu64 " times for %zu collections; this "
          "test scripts two reads per pause", name, clock_reads, n);
    hl_gc_stats s;
    memset(&s, 0, sizeof s);
    gc.ops->stats(gc.ctx, &s);
    char what[64];
    snprintf(what, sizeof what, "%s, %zu pauses", name, n);
    check_summary(what, &s, e);
    hl_gc_close(&gc);
    hl_allocator_close(&base);
}

static void test_collectors(void)
{
    static const char *const timed[] = {"cycle", "marksweep"};
    double ns[UNIFORM_N];
    for (size_t k = 0; k < sizeof timed / sizeof timed[0]; k++) {
        uniform_pauses(ns);
        expected e = expect(ns, UNIFORM_N, 500e3, 990e3);
        collector_case(timed[k], ns, UNIFORM_N, &e);
        skewed_pauses(ns);
        e = expect(ns, SKEWED_N, 10e3, 5000e3);
        collector_case(timed[k], ns, SKEWED_N, &e);
    }
}

/* ------------------------------------- 3. minimum mutator utilisation -- */

/* A run of 100 ms with three pauses, 10-12, 20-25 and 26-27 ms.  By hand:
 * a window of 5 ms or less fits inside the 5 ms pause (0); 6 ms holds 5 ms
 * of pause wherever it sits (20-26: 5; 21-27: 4 + 1), so 1/6; 7 ms holds
 * 20-27, 6 ms of pause: 1/7 (less than at 6 ms: MMU need not grow with the
 * window); 10 ms holds 17-27, 6 ms: 0.4; 16 ms holds 10-26 or 11-27, 7 ms:
 * 9/16; 20 ms holds all 8 ms (7-27): 0.6; 100 ms and longer is the run: 92/100.
 * The same run seen from 15 ms on loses the first pause: over its 85 ms,
 * 6 ms of pause. */
#define MS 1e6
static const double mmu_at[] = {10 * MS, 20 * MS, 26 * MS};
static const double mmu_len[] = {2 * MS, 5 * MS, 1 * MS};

static void mmu_case(const double *at, const double *len, size_t n, double t0, double window,
                     double want)
{
    double got = hl_mmu(at, len, n, t0, 100 * MS, window);
    CHECK(fabs(got - want) < 1e-12, "MMU over %g ms from %g ms: %.15f, expected %.15f",
          window / MS, t0 / MS, got, want);
}

static void test_mmu(void)
{
    static const struct {
        double window_ms, want;
    } known[] = {{1, 0}, {2, 0}, {5, 0}, {6, 1.0 / 6}, {7, 1.0 / 7}, {10, 0.4}, {16, 9.0 / 16},
                 {20, 0.6}, {50, 0.84}, {100, 0.92}, {150, 0.92}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        mmu_case(mmu_at, mmu_len, 3, 0, known[i].window_ms * MS, known[i].want);
    mmu_case(mmu_at, mmu_len, 3, 15 * MS, 200 * MS, 1 - 6.0 / 85);
    mmu_case(mmu_at, mmu_len, 0, 0, 10 * MS, 1);

    /* Through the pause log: the timeline it keeps is the one recorded. */
    hl_pause_log log;
    memset(&log, 0, sizeof log);
    for (size_t i = 0; i < 3; i++)
        hl_pause_record_at(&log, mmu_at[i], mmu_len[i]);
    hl_gc_stats s;
    memset(&s, 0, sizeof s);
    hl_pause_summary(&log, &s);
    CHECK(s.pause_timeline_n == 3, "the log's timeline holds %zu pauses, expected 3",
          s.pause_timeline_n);
    if (s.pause_timeline_n == 3)
        mmu_case(s.pause_at_ns, s.pause_len_ns, 3, 0, 7 * MS, 1.0 / 7);
    hl_pause_free(&log);
}

int main(void)
{
    test_pause_log();
    test_collectors();
    test_mmu();
    return check_status("test_pauses");
}
