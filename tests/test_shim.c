/*
 * test_shim.c - the C shim over Google Benchmark measures a process whole.
 *
 * A benchmark whose timed work is done by another thread (the caller only
 * starts it and waits) must report that thread's CPU time: cpu_time is the
 * CPU time of the whole process over the timed part (docs/metrics.md).  The
 * check is an inequality that holds however loaded the machine is: each
 * worker lives wholly inside the timed part, so the process's CPU time over
 * that part is at least the sum of the workers' own thread CPU times.  A
 * shim that measured the calling thread alone reports almost nothing, since
 * the caller sleeps in pthread_join.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "harness/bench_shim.h"
#include "tests/check.h"

#define ITERATIONS 16
#define BURN_NS 2000000.0 /* CPU work per iteration: 2 ms of the worker's CPU time */

static double thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Spin until this thread has used BURN_NS of CPU; store what it used. */
static void *burn(void *arg)
{
    double *used = arg;
    double start = thread_cpu_ns(), now = start;
    volatile uint64_t sink = 0;
    while ((now = thread_cpu_ns()) - start < BURN_NS)
        for (int i = 0; i < 1000; i++)
            sink += (uint64_t)i;
    *used = now - start;
    return NULL;
}

typedef struct probe {
    double worker_cpu_ns; /* the workers' CPU time in the latest run */
    int reports;
    double reported_cpu_ns; /* cpu_time x iterations of the reported run */
    int64_t iterations;
} probe;

/* One worker thread per iteration, started and joined inside the timed part. */
static void run_on_worker(hl_bench_state *st, void *user)
{
    probe *p = user;
    p->worker_cpu_ns = 0;
    while (hl_bench_keep_running_batch(st, 1) > 0) {
        pthread_t t;
        double used = 0;
        if (pthread_create(&t, NULL, burn, &used) != 0) {
            hl_bench_skip_with_error(st, "pthread_create failed");
            hl_bench_keep_running_batch(st, 0);
            return;
        }
        pthread_join(t, NULL);
        p->worker_cpu_ns += used;
    }
}

static void on_report(const hl_bench_report *r, void *user)
{
    probe *p = user;
    CHECK(r->error == NULL, "the run failed: %s", r->error);
    p->reports++;
    p->iterations = r->iterations;
    p->reported_cpu_ns = r->cpu_time_ns * (double)r->iterations;
}

int main(void)
{
    static probe p;
    char name[] = "test_shim";
    char *argv[] = {name, NULL};
    CHECK(hl_bench_register("shim/worker_thread", run_on_worker, &p, ITERATIONS) == 0,
          "registration refused");
    CHECK(hl_bench_run_all(1, argv, NULL, on_report, &p) == 1, "one benchmark should run");
    CHECK(p.reports == 1, "%d reports for one repetition", p.reports);
    CHECK(p.iterations == ITERATIONS, "%lld iterations, registered %d", (long long)p.iterations,
          ITERATIONS);
    CHECK(p.worker_cpu_ns >= ITERATIONS * BURN_NS, "the workers burned only %.0f ns",
          p.worker_cpu_ns);
    CHECK(p.reported_cpu_ns >= p.worker_cpu_ns,
          "cpu_time covers %.0f ns but the worker threads alone used %.0f ns: "
          "not the whole process's CPU time",
          p.reported_cpu_ns, p.worker_cpu_ns);
    return check_status("test_shim");
}
