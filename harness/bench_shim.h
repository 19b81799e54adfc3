/*
 * bench_shim.h - a small C interface to Google Benchmark.
 *
 * Google Benchmark has no C API upstream; this header and bench_shim.cc are
 * the whole bridge.  C code registers a benchmark (a name, a run function
 * and user data), and the run function drives the timer through an opaque
 * state: it asks for batches of iterations, may pause and resume timing, and
 * sets counters.  Repetitions, aggregates (mean, median, stddev, cv) and the
 * minimum time are Google Benchmark's own, set through its --benchmark_*
 * flags.  Results come back to C one run at a time through a callback, so
 * the harness can write them with its own figures added.
 */
#ifndef HEAPLAB_BENCH_SHIM_H
#define HEAPLAB_BENCH_SHIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hl_bench_state hl_bench_state;
typedef void (*hl_bench_fn)(hl_bench_state *state, void *user);

/* Counter flags, mirroring benchmark::Counter::Flags. */
enum hl_bench_counter_flags {
    HL_COUNTER_DEFAULT = 0,
    HL_COUNTER_RATE = 1,            /* divided by the run's time */
    HL_COUNTER_AVG_THREADS = 2,     /* averaged over threads instead of summed */
    HL_COUNTER_AVG_ITERATIONS = 4,  /* divided by the iteration count */
};

/* Register a benchmark, timed by wall clock, with cpu_time the CPU time of
 * the whole process (every thread) over the timed part.  `iterations` > 0 fixes the iteration count (fixed
 * work; --benchmark_min_time is then ignored by Google Benchmark); 0 lets
 * Google Benchmark choose it from the minimum time.  Returns 0 or -1. */
int hl_bench_register(const char *name, hl_bench_fn fn, void *user, int64_t iterations);

/* The number of iterations to run next, at most `max_batch`; 0 once the run
 * is over.  The total never exceeds the benchmark's iteration count, so a
 * fixed-work benchmark does exactly the work it registered. */
size_t hl_bench_keep_running_batch(hl_bench_state *state, size_t max_batch);

/* The iteration count of this run (fixed, or chosen by Google Benchmark). */
int64_t hl_bench_max_iterations(const hl_bench_state *state);

void hl_bench_pause(hl_bench_state *state);
void hl_bench_resume(hl_bench_state *state);
void hl_bench_counter(hl_bench_state *state, const char *name, double value, unsigned flags);
void hl_bench_items_processed(hl_bench_state *state, int64_t items);
void hl_bench_label(hl_bench_state *state, const char *label);
/* Mark the run as failed; the run function must then return without asking
 * for more batches. */
void hl_bench_skip_with_error(hl_bench_state *state, const char *message);

/* One run as Google Benchmark reports it. */
typedef struct hl_bench_report {
    const char *name;           /* full benchmark name, aggregates suffixed (without
                                   Google Benchmark's "/process_time": all are) */
    const char *run_name;       /* name without the aggregate suffix */
    int is_aggregate;
    const char *aggregate_name; /* "mean", "median", "stddev", "cv" or "" */
    int aggregate_is_percentage;/* the cv aggregate is a ratio, not a time */
    int64_t repetitions;
    int64_t repetition_index;   /* -1 for aggregates */
    int64_t threads;
    int64_t iterations;
    double real_time_ns;        /* per iteration; a ratio for percentage aggregates */
    double cpu_time_ns;         /* process CPU per iteration; a ratio for percentage aggregates */
    const char *label;
    const char *error;          /* NULL unless the run was skipped with an error */
    size_t counter_count;
    const char *const *counter_names;
    const double *counter_values;
} hl_bench_report;

/* Context of the machine, as Google Benchmark measures it. */
typedef struct hl_bench_context {
    const char *host_name;
    const char *executable;
    int num_cpus;
    double mhz_per_cpu;
    int cpu_scaling_enabled;
    const char *library_build_type; /* "debug" or "release": Google Benchmark's own build */
    const char *caches_json;        /* JSON array text of the CPU caches */
} hl_bench_context;

typedef void (*hl_bench_context_fn)(const hl_bench_context *context, void *user);
typedef void (*hl_bench_report_fn)(const hl_bench_report *report, void *user);

/* Initialise Google Benchmark with `argv` (only --benchmark_* flags), run
 * every registered benchmark and hand each run to `on_report`.  Prints
 * nothing.  Returns the number of benchmarks run, or -1 when argv holds an
 * argument Google Benchmark does not know. */
int hl_bench_run_all(int argc, char **argv, hl_bench_context_fn on_context,
                     hl_bench_report_fn on_report, void *user);

#ifdef __cplusplus
}
#endif

#endif
