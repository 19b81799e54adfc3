/*
 * matrix.c - the matrix driver: expand the selection into cells, run each
 * cell in a fresh process of this same program, collect its rows, and write
 * one results document.
 *
 * Why a process per cell: glibc, jemalloc, mimalloc and tcmalloc each own
 * the process's malloc, so two of them never share a process; a system
 * allocator is brought in by LD_PRELOAD of Debian's library (as
 * mimalloc-bench does), and the child proves which malloc it got before it
 * measures anything.  In-process allocators (pool, arena) get a process of
 * their own too, with nothing preloaded, so that no cell inherits another's
 * heap and a crash or hang in one cell never loses the others' results.
 *
 * Nor does a stop: SIGINT, SIGTERM or SIGHUP ends the running cell, no
 * further cell starts, the finished cells are written with an interrupted
 * row for each of the others, and bench dies of the signal (interrupt.c,
 * docs/results.md).  Each cell's scratch files (.cell-PID-N.*) are removed
 * once its process is reaped, whatever ended it.
 */
#include "harness/matrix.h"

#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness/interrupt.h"
#include "harness/cell.h"
#include "harness/metrics.h"
#include "harness/pinning.h"
#include "harness/results.h"

extern char **environ;

#ifndef HL_GIT_COMMIT
#define HL_GIT_COMMIT "unknown"
#endif
#define HL_VERSION "0.1.0"

typedef struct plan_cell {
    const hl_workload_ops *w;
    size_t variant;
    const hl_allocator_ops *a;
    const hl_collector_ops *c;
    int64_t threads;  /* the "threads" parameter, or 0 when the workload has none */
    const char *skip; /* why the cell is not run, or NULL */
    char name[256];   /* workload/variant/allocator/collector[/threads:N] */
    cJSON *rows;      /* rows collected from its runs */
    cJSON *samples;   /* memory over time of its first run */
    size_t runs_failed;
    size_t runs_done;   /* runs that ended by themselves (ok or failed) */
    int64_t runs;       /* processes it needs: one per repetition when interleaved
                           or when its collector has its own heap, else one */
    int cut;            /* a run of it was killed by a stopping signal */
} plan_cell;

typedef struct plan {
    plan_cell *cells;
    size_t n, cap;
} plan;

static int plan_add(plan *p, plan_cell cell)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        plan_cell *cells = realloc(p->cells, cap * sizeof *cells);
        if (cells == NULL)
            return -1;
        p->cells = cells;
        p->cap = cap;
    }
    p->cells[p->n++] = cell;
    return 0;
}

/* Why a cell cannot run, or NULL. */
static const char *plan_skip_reason(const hl_options *o, const plan_cell *cell, size_t ai)
{
    const char *missing = cell->a->unavailable ? cell->a->unavailable() : NULL;
    const char *no_gc = cell->c->unavailable ? cell->c->unavailable() : NULL;
    if (!hl_workload_supports(cell->w, cell->c))
        return "workload does not run under this collector";
    if (no_gc != NULL)
        return no_gc;
    if ((cell->c->flags & HL_GC_OWN_HEAP) && ai > 0)
        return "the collector brings its own heap: run once, under the first allocator";
    if (cell->threads > 1 && !(cell->a->flags & HL_ALLOC_THREAD_SAFE))
        return "allocator is single-threaded: runs at threads=1 only";
    if (cell->threads > 1 && !(cell->c->flags & HL_GC_MANUAL))
        return "heaplab's collectors are single-threaded: threads > 1 runs under manual only";
    if (missing != NULL && o->allocators_all)
        return missing;
    return NULL;
}

/* Expand workloads x variants x collectors x allocators x thread counts into
 * cells; the ones that make no sense are kept with the reason they are
 * skipped. */
static int plan_build(const hl_options *o, plan *p)
{
    static const int64_t one_count[1] = {1};
    for (size_t wi = 0; wi < o->nworkloads; wi++) {
        const hl_workload_ops *w = o->workloads[wi];
        const hl_collector_ops *defaults[1] = {hl_collector_find(w->default_collector)};
        const hl_collector_ops *const *collectors = o->ncollectors ? o->collectors : defaults;
        size_t ncollectors = o->ncollectors ? o->ncollectors : 1;
        int only = o->variant ? hl_workload_variant_index(w, o->variant) : -1;
        int threaded = hl_workload_param_index(w, HL_THREADS_PARAM) >= 0;
        const int64_t *counts = threaded && o->nthreads ? o->threads : one_count;
        size_t ncounts = threaded && o->nthreads ? o->nthreads : 1;
        for (size_t v = 0; v < w->nvariants; v++) {
            if (only >= 0 && (size_t)only != v)
                continue;
            for (size_t ci = 0; ci < ncollectors; ci++) {
                for (size_t ai = 0; ai < o->nallocators; ai++) {
                    for (size_t ti = 0; ti < ncounts; ti++) {
                        plan_cell cell = {.w = w, .variant = v, .a = o->allocators[ai],
                                          .c = collectors[ci]};
                        if (threaded) {
                            int64_t values[HL_MAX_PARAMS];
                            hl_options_resolve_params(o, w, values);
                            cell.threads = o->nthreads ? counts[ti]
                                                       : values[hl_workload_param_index(w, HL_THREADS_PARAM)];
                        }
                        hl_cell_name(w, v, cell.a, cell.c, cell.threads, cell.name, sizeof cell.name);
                        cell.skip = plan_skip_reason(o, &cell, ai);
                        if (plan_add(p, cell) != 0)
                            return -1;
                    }
                }
            }
        }
    }
    return 0;
}

/* --------------------------------------------------------- children -- */

typedef struct child_outcome {
    int ok;
    char error[512];
    char stderr_tail[2048];
    cJSON *rows; /* the cell's rows, or NULL */
    cJSON *context;
    cJSON *samples; /* memory over time, or NULL */
} child_outcome;

char **hl_preload_environment(const char *preload, char *preload_var, size_t var_len)
{
    size_t n = 0;
    while (environ[n] != NULL)
        n++;
    char **env = calloc(n + 2, sizeof *env);
    if (env == NULL)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0)
            env[k++] = environ[i];
    if (preload != NULL) {
        snprintf(preload_var, var_len, "LD_PRELOAD=%s", preload);
        env[k++] = preload_var;
    }
    env[k] = NULL;
    return env;
}

void hl_read_tail(const char *path, char *buf, size_t max)
{
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    long from = size > (long)max - 1 ? size - ((long)max - 1) : 0;
    fseek(f, from, SEEK_SET);
    size_t n = fread(buf, 1, max - 1, f);
    buf[n] = '\0';
    fclose(f);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
}

static const char *last_line(const char *text)
{
    const char *nl = strrchr(text, '\n');
    return nl ? nl + 1 : text;
}

/* Describe how the child ended when it did not exit cleanly. */
static void describe_status(int status, const hl_options *o, const char *tail, char *out,
                            size_t len)
{
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        if (sig == SIGALRM)
            snprintf(out, len, "timed out after %" PRId64 " s", o->timeout_s);
        else if (sig == SIGKILL)
            snprintf(out, len, "killed by SIGKILL (out of memory?)");
        else
            snprintf(out, len, "crashed: signal %d (%s)", sig, strsignal(sig));
    } else if (tail[0] != '\0') {
        snprintf(out, len, "%.500s", last_line(tail)); /* the error line, cut to fit */
    } else {
        snprintf(out, len, "exited with status %d", WEXITSTATUS(status));
    }
}

/* Add Callgrind's instruction total (the "totals:" line of its output: the
 * sum of what it counted; its "summary:" line reads 0 once instrumentation
 * has been switched off) to the cell's rows; a cell whose total cannot be
 * read fails. */
static void add_instructions(child_outcome *out, const char *cg_out)
{
    FILE *f = fopen(cg_out, "r");
    char line[512];
    long long total = -1;
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "totals: %lld", &total) == 1)
            break;
    if (f != NULL)
        fclose(f);
    if (total < 0) {
        out->ok = 0;
        snprintf(out->error, sizeof out->error, "no instruction count in Callgrind's output");
        return;
    }
    cJSON *row;
    cJSON_ArrayForEach(row, out->rows)
    {
        const cJSON *ops = cJSON_GetObjectItemCaseSensitive(row, "ops");
        cJSON_AddNumberToObject(row, "instructions", (double)total);
        if (cJSON_IsNumber(ops) && ops->valuedouble > 0)
            cJSON_AddNumberToObject(row, "instructions_per_op", (double)total / ops->valuedouble);
    }
}

/* Remove every scratch file of cell index: its rows, its stderr, Callgrind's
 * output, and the temporary file its process leaves when it is killed in
 * the middle of writing its rows. */
static void remove_cell_files(const char *out_dir, size_t index)
{
    char prefix[128];
    snprintf(prefix, sizeof prefix, ".cell-%ld-%zu.", (long)getpid(), index);
    hl_remove_prefixed(out_dir, prefix);
}

/* Run one cell in a fresh process and collect its rows. */
static void run_child(const hl_options *o, const plan_cell *cell, size_t index,
                      int64_t repetitions, child_outcome *out)
{
    char cell_out[4096], err_path[4096], workload[128], allocator[128], collector[128];
    char variant[160], seed[64], reps[64], timeout[64], min_time[64], cell_arg[4200];
    char thresholds[128], long_lived[64], sample_hz[64], cg_out[4096], cg_arg[4200];
    char self[4096], decorate[96], fail_arg[64], limit_arg[64], rlimit_arg[64], duration[64];
    char param_args[HL_MAX_PARAMS][160];
    char preload_var[4200], pinned_var[8192];
    char *argv[32 + 2 * HL_MAX_PARAMS];
    int argc = 0;

    memset(out, 0, sizeof *out);
    snprintf(cell_out, sizeof cell_out, "%s/.cell-%ld-%zu.json", o->out_dir, (long)getpid(), index);
    snprintf(err_path, sizeof err_path, "%s/.cell-%ld-%zu.err", o->out_dir, (long)getpid(), index);
    snprintf(workload, sizeof workload, "--workload=%s", cell->w->name);
    snprintf(allocator, sizeof allocator, "--allocator=%s", cell->a->name);
    snprintf(collector, sizeof collector, "--collector=%s", cell->c->name);
    snprintf(variant, sizeof variant, "variant=%s", cell->w->variants[cell->variant].name);
    snprintf(seed, sizeof seed, "--seed=%" PRIu64, o->seed);
    snprintf(reps, sizeof reps, "--repetitions=%" PRId64, repetitions);
    snprintf(timeout, sizeof timeout, "--timeout=%" PRId64, o->timeout_s);
    snprintf(cell_arg, sizeof cell_arg, "--cell-out=%s", cell_out);

    /* Under --instructions the cell runs inside Callgrind, which counts
     * only where the cell switches instrumentation on (around the steps),
     * on every thread. */
    ssize_t self_len = readlink("/proc/self/exe", self, sizeof self - 1);
    self[self_len > 0 ? self_len : 0] = '\0';
    snprintf(cg_out, sizeof cg_out, "%s/.cell-%ld-%zu.callgrind", o->out_dir, (long)getpid(), index);
    snprintf(cg_arg, sizeof cg_arg, "--callgrind-out-file=%s", cg_out);
    if (o->instructions) {
        argv[argc++] = "valgrind";
        argv[argc++] = "--tool=callgrind";
        argv[argc++] = "--instr-atstart=no";
        argv[argc++] = cg_arg;
        argv[argc++] = self;
        argv[argc++] = "--instructions";
    } else {
        argv[argc++] = self;
    }
    argv[argc++] = "--run-cell";
    argv[argc++] = workload;
    argv[argc++] = allocator;
    argv[argc++] = collector;
    argv[argc++] = "--param";
    argv[argc++] = variant;
    int64_t values[HL_MAX_PARAMS];
    hl_options_resolve_params(o, cell->w, values);
    for (size_t i = 0; i < cell->w->nparams; i++) {
        if (cell->threads > 0 && strcmp(cell->w->params[i].name, HL_THREADS_PARAM) == 0)
            values[i] = cell->threads;
        snprintf(param_args[i], sizeof param_args[i], "%s=%" PRId64, cell->w->params[i].name,
                 values[i]);
        argv[argc++] = "--param";
        argv[argc++] = param_args[i];
    }
    snprintf(thresholds, sizeof thresholds, "--gc-threshold=%" PRId64 ",%" PRId64 ",%" PRId64,
             o->gc.threshold[0], o->gc.threshold[1], o->gc.threshold[2]);
    snprintf(long_lived, sizeof long_lived, "--gc-long-lived=%s", o->gc.long_lived_rule ? "on" : "off");
    argv[argc++] = seed;
    argv[argc++] = reps;
    argv[argc++] = timeout;
    snprintf(sample_hz, sizeof sample_hz, "--sample-hz=%g", o->sample_hz);
    argv[argc++] = thresholds;
    argv[argc++] = long_lived;
    argv[argc++] = sample_hz;
    if (o->min_time > 0) {
        snprintf(min_time, sizeof min_time, "--min-time=%g", o->min_time);
        argv[argc++] = min_time;
    }
    if (o->decorator != NULL) {
        snprintf(decorate, sizeof decorate, "--decorate=%s", o->decorator->name);
        argv[argc++] = decorate;
    }
    if (o->fail_alloc != 0) {
        snprintf(fail_arg, sizeof fail_arg, "--fail-alloc=%" PRId64, o->fail_alloc);
        argv[argc++] = fail_arg;
    }
    if (o->mem_limit != 0) {
        snprintf(limit_arg, sizeof limit_arg, "--mem-limit=%" PRId64, o->mem_limit);
        argv[argc++] = limit_arg;
    }
    if (o->duration > 0) {
        snprintf(duration, sizeof duration, "--duration=%g", o->duration);
        argv[argc++] = duration;
    }
    if (o->rlimit_as != 0) {
        snprintf(rlimit_arg, sizeof rlimit_arg, "--rlimit-as=%" PRId64, o->rlimit_as);
        argv[argc++] = rlimit_arg;
    }
    argv[argc++] = cell_arg;
    argv[argc] = NULL;

    char **env = hl_preload_environment(cell->a->preload, preload_var, sizeof preload_var);
    if (o->instructions && env != NULL) {
        /* Counted runs pin glibc's CPU-dependent choices, so that counts
         * carry from one CPU model to another (pinning.c). */
        char **pinned = hl_pinning_environment(env, pinned_var, sizeof pinned_var);
        free(env);
        env = pinned;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid;
    int rc = env == NULL ? ENOMEM
             : o->instructions ? posix_spawnp(&pid, "valgrind", &actions, NULL, argv, env)
                               : posix_spawn(&pid, self, &actions, NULL, argv, env);
    posix_spawn_file_actions_destroy(&actions);
    free(env);
    if (rc != 0) {
        snprintf(out->error, sizeof out->error, "cannot start the cell's process: %s%s",
                 strerror(rc), o->instructions ? " (is valgrind installed?)" : "");
        return;
    }
    int status = 0;
    hl_stop_wait_child(pid, &status);
    hl_read_tail(err_path, out->stderr_tail, sizeof out->stderr_tail);
    out->ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!out->ok)
        describe_status(status, o, out->stderr_tail, out->error, sizeof out->error);

    char why[512];
    cJSON *doc = access(cell_out, F_OK) == 0 ? hl_read_json_file(cell_out, why, sizeof why) : NULL;
    if (doc != NULL) {
        out->rows = cJSON_DetachItemFromObjectCaseSensitive(doc, "benchmarks");
        out->context = cJSON_DetachItemFromObjectCaseSensitive(doc, "context");
        out->samples = cJSON_DetachItemFromObjectCaseSensitive(doc, "samples");
        cJSON_Delete(doc);
    } else if (out->ok) {
        out->ok = 0;
        snprintf(out->error, sizeof out->error, "the cell wrote no results");
    }
    if (o->instructions && out->rows != NULL)
        add_instructions(out, cg_out);
    remove_cell_files(o->out_dir, index);
}

/* A row standing for a cell that produced no rows of its own. */
static cJSON *failed_row(const hl_options *o, const plan_cell *cell, const child_outcome *out,
                         int64_t repetition)
{
    cJSON *row = cJSON_CreateObject();
    cJSON_AddStringToObject(row, "name", cell->name);
    cJSON_AddStringToObject(row, "run_name", cell->name);
    cJSON_AddStringToObject(row, "run_type", "iteration");
    cJSON_AddNumberToObject(row, "repetitions", (double)o->repetitions);
    cJSON_AddNumberToObject(row, "repetition_index", (double)repetition);
    cJSON_AddNumberToObject(row, "threads", cell->threads > 0 ? (double)cell->threads : 1);
    cJSON_AddBoolToObject(row, "error_occurred", 1);
    cJSON_AddStringToObject(row, "error_message", out->error);
    cJSON_AddStringToObject(row, "workload", cell->w->name);
    cJSON_AddStringToObject(row, "variant", cell->w->variants[cell->variant].name);
    cJSON_AddStringToObject(row, "allocator", cell->a->name);
    cJSON_AddStringToObject(row, "collector", cell->c->name);
    cJSON_AddNumberToObject(row, "seed", (double)o->seed);
    cJSON_AddStringToObject(row, "stderr_tail", out->stderr_tail);
    return row;
}

/* ---------------------------------------------------------- context -- */

/* The CPU topology from sysfs: logical CPUs, physical cores, packages and
 * NUMA nodes, so that a thread count can be read against the machine. */
static void add_topology(cJSON *c)
{
    int cpus = 0, cores = 0, packages = 0, nodes = 0;
    long seen_core[4096], seen_package[256];
    for (int cpu = 0; cpu < 4096; cpu++) {
        char path[128], line[64];
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/topology/core_id", cpu);
        if (hl_read_line(path, line, sizeof line) == NULL)
            continue;
        long core = atol(line), package = 0;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/topology/physical_package_id",
                 cpu);
        if (hl_read_line(path, line, sizeof line) != NULL)
            package = atol(line);
        cpus++;
        long key = package * 65536 + core;
        int known = 0;
        for (int i = 0; i < cores && !known; i++)
            known = seen_core[i] == key;
        if (!known && cores < 4096)
            seen_core[cores++] = key;
        known = 0;
        for (int i = 0; i < packages && !known; i++)
            known = seen_package[i] == package;
        if (!known && packages < 256)
            seen_package[packages++] = package;
    }
    for (int node = 0; node < 1024; node++) {
        char path[128];
        snprintf(path, sizeof path, "/sys/devices/system/node/node%d", node);
        nodes += access(path, F_OK) == 0;
    }
    if (cpus == 0)
        return; /* sysfs says nothing: leave the topology out */
    cJSON *t = cJSON_AddObjectToObject(c, "cpu_topology");
    cJSON_AddNumberToObject(t, "logical_cpus", cpus);
    cJSON_AddNumberToObject(t, "physical_cores", cores);
    cJSON_AddNumberToObject(t, "packages", packages);
    if (nodes > 0)
        cJSON_AddNumberToObject(t, "numa_nodes", nodes);
    cJSON_AddNumberToObject(t, "online_cpus", (double)sysconf(_SC_NPROCESSORS_ONLN));
}

/* Google Benchmark's context (from the first cell) plus the environment. */
cJSON *hl_results_context(cJSON *from_cell, int argc, char **argv)
{
    cJSON *c = from_cell ? from_cell : cJSON_CreateObject();
    char buf[512];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S%z", &tm);
    cJSON_AddStringToObject(c, "date", buf);
    double load[3];
    if (getloadavg(load, 3) == 3) {
        cJSON *la = cJSON_AddArrayToObject(c, "load_avg");
        for (int i = 0; i < 3; i++)
            cJSON_AddItemToArray(la, cJSON_CreateNumber(load[i]));
    }
    cJSON_AddStringToObject(c, "heaplab_version", HL_VERSION);
    cJSON_AddStringToObject(c, "heaplab_commit", HL_GIT_COMMIT);
#ifdef NDEBUG
    cJSON_AddStringToObject(c, "heaplab_build_type", "release");
#else
    cJSON_AddStringToObject(c, "heaplab_build_type", "debug");
#endif
    cJSON_AddStringToObject(c, "compiler", __VERSION__);
    struct utsname u;
    if (uname(&u) == 0) {
        snprintf(buf, sizeof buf, "%s %s %s", u.sysname, u.release, u.machine);
        cJSON_AddStringToObject(c, "kernel", buf);
    }
    if (hl_read_line("/etc/debian_version", buf, sizeof buf) != NULL)
        cJSON_AddStringToObject(c, "debian_version", buf);
    if (hl_cpu_model(buf, sizeof buf) != NULL)
        cJSON_AddStringToObject(c, "cpu_model", buf);
    if (hl_thp_mode(buf, sizeof buf) != NULL)
        cJSON_AddStringToObject(c, "transparent_hugepages", buf);
    add_topology(c);
    cJSON *cmd = cJSON_AddArrayToObject(c, "command_line");
    for (int i = 0; i < argc; i++)
        cJSON_AddItemToArray(cmd, cJSON_CreateString(argv[i]));
    return c;
}

/* "churn" / "glibc+pool" / "all": part of a results file's name. */
static void stem_part(char *buf, size_t len, const char *const *names, size_t n, int all)
{
    size_t used = 0;
    buf[0] = '\0';
    if (all) {
        snprintf(buf, len, "all");
        return;
    }
    if (n > 3) { /* keep file names short: "churn+11more" */
        snprintf(buf, len, "%s+%zumore", names[0], n - 1);
        return;
    }
    for (size_t i = 0; i < n && used + 1 < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? "+" : "", names[i]);
}

/* "<workloads>_<allocators>": the results files' name after their date
 * (hl_results_write adds the date, and a number when the name is taken). */
static void results_label(const hl_options *o, char *label, size_t len)
{
    const char *names[HL_MAX_SELECTED];
    char workloads[128], allocators[128];
    size_t registered = hl_workload_count();
    for (size_t i = 0; i < o->nworkloads; i++)
        names[i] = o->workloads[i]->name;
    stem_part(workloads, sizeof workloads, names, o->nworkloads,
              o->nworkloads == registered && registered > 1);
    for (size_t i = 0; i < o->nallocators; i++)
        names[i] = o->allocators[i]->name;
    stem_part(allocators, sizeof allocators, names, o->nallocators, o->allocators_all);
    snprintf(label, len, "%s_%s", workloads, allocators);
}

/* Fail early, before any cell runs, when results could not be written. */
static int check_out_dir(const char *dir, char *err, size_t err_len)
{
    char probe[4096], why[512];
    snprintf(probe, sizeof probe, "%s/.heaplab-write-test", dir);
    if (hl_make_dirs(dir, why, sizeof why) != 0 ||
        hl_write_file_atomic(probe, "", 0, why, sizeof why) != 0) {
        snprintf(err, err_len, "--out: cannot write results to %s (%s)", dir, why);
        return -1;
    }
    unlink(probe);
    return 0;
}

/* ------------------------------------------------------ aggregates -- */

/* Keys that name or count a row rather than measure it: never aggregated.
 * (`ops` is measured: a run's own count, aggregated like any figure.) */
static int is_identity_key(const char *key)
{
    static const char *const keys[] = {"family_index", "per_family_instance_index", "repetitions",
                                       "repetition_index", "threads", "iterations", "seed"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(key, keys[i]) == 0)
            return 1;
    return 0;
}

static int is_time_key(const char *key)
{
    return strcmp(key, "real_time") == 0 || strcmp(key, "cpu_time") == 0;
}

static int by_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One statistic of v[0..n): mean, median, stddev (sample) or cv. */
static double statistic(const char *stat, double *v, size_t n)
{
    double mean = 0, var = 0;
    for (size_t i = 0; i < n; i++)
        mean += v[i] / (double)n;
    for (size_t i = 0; i < n; i++)
        var += (v[i] - mean) * (v[i] - mean) / (double)(n > 1 ? n - 1 : 1);
    if (strcmp(stat, "median") == 0) {
        qsort(v, n, sizeof *v, by_double);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }
    if (strcmp(stat, "stddev") == 0)
        return sqrt(var);
    if (strcmp(stat, "cv") == 0)
        return mean != 0 ? sqrt(var) / mean : 0;
    return mean;
}

/* Keys that total a whole run: only a mean or a median of them reads as a
 * run's (as on Google Benchmark's in-process aggregates). */
static int is_run_total_key(const char *key)
{
    return strcmp(key, "ops") == 0 || strcmp(key, "seconds") == 0;
}

/* With interleaved repetitions each run is its own process, so the
 * aggregates Google Benchmark would compute in one process are computed
 * here, in its shape: mean, median, stddev and cv rows (cv of the times
 * only, as a ratio), each figure that statistic over the repetitions, and
 * `iterations` the number of repetitions, as Google Benchmark counts it. */
static void add_aggregates(plan_cell *cell)
{
    static const char *const stats[] = {"mean", "median", "stddev", "cv"};
    cJSON *good[1024];
    size_t n = 0;
    cJSON *row;
    cJSON_ArrayForEach(row, cell->rows)
        if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(row, "error_occurred")) && n < 1024)
            good[n++] = row;
    if (n < 2)
        return;
    double *v = malloc(n * sizeof *v);
    if (v == NULL)
        return;
    for (size_t k = 0; k < sizeof stats / sizeof stats[0]; k++) {
        int cv = strcmp(stats[k], "cv") == 0;
        cJSON *agg = cJSON_CreateObject();
        const cJSON *field;
        cJSON_ArrayForEach(field, good[0])
        {
            const char *key = field->string;
            if (strcmp(key, "repetition_index") == 0 || strcmp(key, "run_type") == 0)
                continue;
            if (!cJSON_IsNumber(field) || is_identity_key(key)) {
                if (!cv || !cJSON_IsNumber(field))
                    cJSON_AddItemToObject(agg, key, cJSON_Duplicate(field, 1));
                continue;
            }
            if (cv && !is_time_key(key))
                continue;
            if (is_run_total_key(key) && strcmp(stats[k], "mean") != 0 &&
                strcmp(stats[k], "median") != 0)
                continue;
            size_t m = 0;
            for (size_t i = 0; i < n; i++) {
                const cJSON *x = cJSON_GetObjectItemCaseSensitive(good[i], key);
                if (cJSON_IsNumber(x))
                    v[m++] = x->valuedouble;
            }
            if (m == n)
                cJSON_AddNumberToObject(agg, key, statistic(stats[k], v, m));
        }
        char name[320];
        snprintf(name, sizeof name, "%s_%s", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(good[0], "run_name")),
                 stats[k]);
        cJSON_ReplaceItemInObjectCaseSensitive(agg, "name", cJSON_CreateString(name));
        cJSON_DeleteItemFromObjectCaseSensitive(agg, "iterations");
        cJSON_AddNumberToObject(agg, "iterations", (double)n);
        cJSON_AddStringToObject(agg, "run_type", "aggregate");
        cJSON_AddStringToObject(agg, "aggregate_name", stats[k]);
        cJSON_AddStringToObject(agg, "aggregate_unit", cv ? "percentage" : "time");
        cJSON_AddItemToArray(cell->rows, agg);
    }
    free(v);
}

/* --------------------------------------------------------- progress -- */

typedef struct progress {
    int tty;       /* draw a bar on the terminal; else plain lines only */
    size_t done, total;
    uint64_t start_ns;
} progress;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Erase the bar before a table line is printed. */
static void progress_clear(const progress *pr)
{
    if (pr->tty && pr->done > 0)
        fputs("\r\033[K", stdout);
}

/* Draw "[#####.....] 12/40 runs, 1:20 left" under the table. */
static void progress_draw(const progress *pr)
{
    if (!pr->tty || pr->total == 0)
        return;
    enum { WIDTH = 30 };
    size_t filled = pr->done * WIDTH / pr->total;
    double elapsed = (double)(now_ns() - pr->start_ns) / 1e9;
    double left = pr->done ? elapsed / (double)pr->done * (double)(pr->total - pr->done) : 0;
    char bar[WIDTH + 1];
    for (size_t i = 0; i < WIDTH; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[WIDTH] = '\0';
    printf("[%s] %zu/%zu runs, %d:%02d left", bar, pr->done, pr->total, (int)left / 60,
           (int)left % 60);
    fflush(stdout);
}

/* ------------------------------------------------------------- driver -- */

/* The processes a cell needs.  Interleaved repetitions run one process
 * each.  So do the timed repetitions of a collector with its own heap
 * (HL_GC_OWN_HEAP: Boehm's), which cannot start a fresh heap inside a
 * process: each repetition's collections and pauses are then those of a run
 * from a fresh heap, never of a heap that an earlier repetition grew
 * (docs/design-notes.md).  Untimed passes (--instructions, --duration) run
 * once. */
static int64_t cell_runs(const hl_options *o, const plan_cell *cell, int interleave)
{
    if (interleave)
        return o->repetitions;
    if ((cell->c->flags & HL_GC_OWN_HEAP) && !o->instructions && o->duration <= 0)
        return o->repetitions;
    return 1;
}

/* A Fisher-Yates shuffle of order[0..n) from a seeded splitmix64 stream. */
static void shuffle(size_t *order, size_t n, uint64_t *state)
{
    for (size_t i = n; i > 1; i--) {
        uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        z ^= z >> 31;
        size_t j = (size_t)(z % i);
        size_t t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
}

/* The variant as the table shows it: with its thread count in a sweep. */
static void table_variant(const hl_options *o, const plan_cell *cell, char *buf, size_t len)
{
    snprintf(buf, len, "%s", cell->w->variants[cell->variant].name);
    if (o->nthreads && cell->threads > 0)
        snprintf(buf, len, "%.60s/t%" PRId64, cell->w->variants[cell->variant].name,
                 cell->threads);
}

/* When a stopping signal ended the run that just returned (it did not end
 * by itself), mark the cell cut, drop what the run left and say so in the
 * table; returns 1 then, else 0 with nothing done.  A run that finished
 * before the signal reached it is kept as finished. */
static int cell_was_cut(const hl_options *o, plan_cell *cell, child_outcome *out,
                        const progress *pr)
{
    if (hl_stop_signal() == 0 || out->ok)
        return 0;
    cell->cut = 1;
    cJSON_Delete(out->rows);
    cJSON_Delete(out->context);
    cJSON_Delete(out->samples);
    char variant[96];
    table_variant(o, cell, variant, sizeof variant);
    progress_clear(pr);
    hl_table_row(NULL, cell->w->name, variant, cell->a->name, cell->c->name, "interrupted");
    return 1;
}

/* Run one repetition (or, without interleaving, all of them) of a cell and
 * keep what it produced. */
static void run_one(const hl_options *o, plan_cell *cell, size_t index, int64_t rep,
                    int64_t reps_in_child, cJSON **context, progress *pr)
{
    child_outcome out;
    run_child(o, cell, index, reps_in_child, &out);
    if (cell_was_cut(o, cell, &out, pr))
        return;
    cell->runs_done++;
    cJSON *fresh = out.rows != NULL ? out.rows : cJSON_CreateArray();
    if (out.rows == NULL)
        cJSON_AddItemToArray(fresh, failed_row(o, cell, &out, rep));
    cJSON *row;
    cJSON_ArrayForEach(row, fresh)
    {
        if (reps_in_child == 1 && o->repetitions > 1) {
            /* One repetition of an interleaved series. */
            cJSON_ReplaceItemInObjectCaseSensitive(row, "repetitions",
                                                   cJSON_CreateNumber((double)o->repetitions));
            cJSON_ReplaceItemInObjectCaseSensitive(row, "repetition_index",
                                                   cJSON_CreateNumber((double)rep));
        }
        if (cell->threads > 0)
            cJSON_ReplaceItemInObjectCaseSensitive(row, "threads",
                                                   cJSON_CreateNumber((double)cell->threads));
    }
    if (*context == NULL)
        *context = out.context;
    else
        cJSON_Delete(out.context);
    if (cell->samples == NULL)
        cell->samples = out.samples;
    else
        cJSON_Delete(out.samples);
    cell->runs_failed += !out.ok;

    char status[700];
    if (out.ok && reps_in_child == 1 && o->repetitions > 1)
        snprintf(status, sizeof status, "ok (repetition %" PRId64 " of %" PRId64 ")", rep + 1,
                 o->repetitions);
    else
        snprintf(status, sizeof status, "%s%s", out.ok ? "ok" : "FAILED: ", out.ok ? "" : out.error);
    progress_clear(pr);
    char variant[96];
    table_variant(o, cell, variant, sizeof variant);
    hl_table_row(fresh, cell->w->name, variant, cell->a->name, cell->c->name, status);
    pr->done++;
    progress_draw(pr);
    while ((row = cJSON_DetachItemFromArray(fresh, 0)) != NULL)
        cJSON_AddItemToArray(cell->rows, row);
    cJSON_Delete(fresh);
}

/* ----------------------------------------------------- interruption -- */

/* After a stop: one error row (error_occurred, interrupted: true) for each
 * runnable cell that did not finish, in its place among the cells, so that
 * Google Benchmark's compare.py passes over it as over any failed
 * benchmark and --compare can tell it from a failure.  A cell with finished
 * repetitions (interleaved) keeps their rows beside this one. */
static void add_interrupted_rows(const hl_options *o, plan *p, int sig)
{
    for (size_t i = 0; i < p->n; i++) {
        plan_cell *cell = &p->cells[i];
        int64_t rounds = cell->runs;
        if (cell->skip != NULL || cell->runs_done == (size_t)rounds)
            continue;
        child_outcome why;
        memset(&why, 0, sizeof why);
        if (cell->runs_done > 0)
            snprintf(why.error, sizeof why.error, "interrupted by %s after %zu of %" PRId64
                     " repetitions", hl_stop_name(sig), cell->runs_done, rounds);
        else
            snprintf(why.error, sizeof why.error, "interrupted by %s before it %s",
                     hl_stop_name(sig), cell->cut ? "finished" : "started");
        cJSON *row = failed_row(o, cell, &why, (int64_t)cell->runs_done);
        cJSON_DeleteItemFromObjectCaseSensitive(row, "stderr_tail");
        cJSON_AddBoolToObject(row, "interrupted", 1);
        cJSON_AddItemToArray(cell->rows, row);
    }
}

/* What a stopped run got done: counted over the runnable cells. */
typedef struct stop_tally {
    size_t cells;    /* runnable cells */
    size_t finished; /* cells whose every run ended by itself */
    size_t failed;   /* cells with a failed run */
    size_t partial;  /* finished repetitions of cells that did not finish */
} stop_tally;

/* Count what the run got done against the runs each cell needs. */
static stop_tally tally_cells(const plan *p)
{
    stop_tally t = {0};
    for (size_t i = 0; i < p->n; i++) {
        const plan_cell *cell = &p->cells[i];
        if (cell->skip != NULL)
            continue;
        int done = cell->runs_done == (size_t)cell->runs;
        t.cells++;
        t.finished += done;
        t.failed += cell->runs_failed > 0;
        t.partial += done ? 0 : cell->runs_done;
    }
    return t;
}

/* Write what a stopped run finished and say in one line on stderr what was
 * kept and where.  A run that finished nothing (no cell, no repetition)
 * writes nothing: an empty set would pass for the newest results. */
static void keep_interrupted(const hl_options *o, cJSON *doc, const cJSON *series,
                             const char *label, int sig, const stop_tally *t)
{
    char err[1024], stem[600], extra[160] = "";
    fflush(stdout);
    if (t->finished == 0 && t->partial == 0) {
        fprintf(stderr, "bench: interrupted by %s before any of %zu cell(s) finished; nothing "
                "written\n", hl_stop_name(sig), t->cells);
        return;
    }
    cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(doc, "context"), "interrupted_by",
                            hl_stop_name(sig));
    if (hl_results_write(o->out_dir, label, doc, series, stem, sizeof stem, err, sizeof err) != 0) {
        fprintf(stderr, "bench: interrupted by %s; what finished is lost: %s\n", hl_stop_name(sig),
                err);
        return;
    }
    size_t used = 0;
    if (t->partial > 0)
        used += (size_t)snprintf(extra, sizeof extra, " and %zu repetition(s) of unfinished cells",
                                 t->partial);
    if (t->failed > 0 && used < sizeof extra)
        snprintf(extra + used, sizeof extra - used, " (%zu cell(s) failed: see their rows)",
                 t->failed);
    fprintf(stderr, "bench: interrupted by %s: kept %zu of %zu cell(s)%s in %s/%s.json (.csv, "
            ".samples.csv); %zu not finished, recorded as interrupted\n", hl_stop_name(sig),
            t->finished, t->cells, extra, o->out_dir, stem, t->cells - t->finished);
}

int hl_matrix_main(const hl_options *o, int argc, char **argv)
{
    char err[1024];
    if (check_out_dir(o->out_dir, err, sizeof err) != 0) {
        fprintf(stderr, "bench: %s\n", err);
        return 2;
    }
    plan p = {0};
    if (plan_build(o, &p) != 0) {
        fprintf(stderr, "bench: out of memory\n");
        return 1;
    }
    /* Interleave repetitions (one process each, round-robin over the cells)
     * when the order is shuffled; otherwise Google Benchmark repeats inside
     * each cell's process. */
    int interleave = o->shuffle && o->repetitions > 1;
    int64_t rounds = interleave ? o->repetitions : 1;
    size_t *order = calloc(p.n ? p.n : 1, sizeof *order);
    cJSON *skipped = cJSON_CreateArray(), *context = NULL;
    size_t runnable = 0;
    size_t total_runs = 0;
    for (size_t i = 0; i < p.n; i++) {
        p.cells[i].rows = cJSON_CreateArray();
        p.cells[i].runs = cell_runs(o, &p.cells[i], interleave);
        runnable += p.cells[i].skip == NULL;
        total_runs += p.cells[i].skip == NULL ? (size_t)p.cells[i].runs : 0;
    }
    progress pr = {.tty = isatty(STDOUT_FILENO), .total = total_runs, .start_ns = now_ns()};
    printf("heaplab: %zu cell(s), seed %" PRIu64 ", %" PRId64 " repetition(s)%s%s\n", p.n, o->seed,
           o->repetitions, interleave ? " interleaved" : "", o->quick ? ", quick sizes" : "");
    if (o->shuffle)
        printf("heaplab: cells in random order (--shuffle=%" PRIu64 ")\n", o->shuffle_seed);
    hl_table_header();
    for (size_t i = 0; i < p.n; i++) {
        const plan_cell *cell = &p.cells[i];
        if (cell->skip == NULL)
            continue;
        char status[600];
        snprintf(status, sizeof status, "skipped: %s", cell->skip);
        hl_table_row(NULL, cell->w->name, cell->w->variants[cell->variant].name, cell->a->name,
                     cell->c->name, status);
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "name", cell->name);
        cJSON_AddStringToObject(s, "reason", cell->skip);
        cJSON_AddItemToArray(skipped, s);
    }
    uint64_t shuffle_state = o->shuffle_seed;
    hl_stop_install(); /* from here a stop keeps what finished */
    for (int64_t round = 0; round < rounds && order != NULL && !hl_stop_signal(); round++) {
        for (size_t i = 0; i < p.n; i++)
            order[i] = i;
        if (o->shuffle)
            shuffle(order, p.n, &shuffle_state);
        for (size_t k = 0; k < p.n && !hl_stop_signal(); k++) {
            plan_cell *cell = &p.cells[order[k]];
            if (cell->skip != NULL)
                continue;
            if (interleave || cell->runs == 1) {
                run_one(o, cell, order[k], round, interleave ? 1 : o->repetitions, &context, &pr);
                hl_stop_test_pause(pr.done);
                continue;
            }
            for (int64_t rep = 0; rep < cell->runs && !hl_stop_signal(); rep++) {
                run_one(o, cell, order[k], rep, 1, &context, &pr);
                hl_stop_test_pause(pr.done);
            }
        }
    }
    progress_clear(&pr);
    free(order);
    int stopped_by = hl_stop_signal();
    stop_tally tally = tally_cells(&p);
    if (stopped_by)
        add_interrupted_rows(o, &p, stopped_by);

    cJSON *rows = cJSON_CreateArray();
    cJSON *series = cJSON_CreateArray(); /* each cell's samples, for <stem>.samples.csv */
    size_t failed = 0, ran = 0;
    for (size_t i = 0; i < p.n; i++) {
        plan_cell *cell = &p.cells[i];
        if (cell->skip == NULL) {
            ran++;
            failed += cell->runs_failed > 0;
            if (cell->runs > 1 && cell->runs_done == (size_t)cell->runs)
                add_aggregates(cell);
        }
        cJSON *row;
        while ((row = cJSON_DetachItemFromArray(cell->rows, 0)) != NULL)
            cJSON_AddItemToArray(rows, row);
        cJSON_Delete(cell->rows);
        if (cell->samples != NULL) {
            cJSON *one = cJSON_CreateObject();
            cJSON_AddStringToObject(one, "name", cell->name);
            cJSON_AddStringToObject(one, "workload", cell->w->name);
            cJSON_AddStringToObject(one, "variant", cell->w->variants[cell->variant].name);
            cJSON_AddStringToObject(one, "allocator", cell->a->name);
            cJSON_AddStringToObject(one, "collector", cell->c->name);
            cJSON_AddItemToObject(one, "samples", cell->samples);
            cJSON_AddItemToArray(series, one);
        }
    }
    free(p.cells);

    cJSON *doc = cJSON_CreateObject();
    cJSON_AddItemToObject(doc, "context", hl_results_context(context, argc, argv));
    cJSON_AddItemToObject(doc, "benchmarks", rows);
    cJSON_AddItemToObject(doc, "skipped", skipped);
    char label[512], stem[600];
    results_label(o, label, sizeof label);
    int status = failed ? 1 : 0;
    if (stopped_by) {
        keep_interrupted(o, doc, series, label, stopped_by, &tally);
        cJSON_Delete(series);
        cJSON_Delete(doc);
        hl_stop_die(stopped_by);
        return 128 + stopped_by; /* when the signal could not end us */
    }
    if (ran == 0) {
        printf("heaplab: no cell could run here; nothing written\n");
        status = 1;
    } else if (hl_results_write(o->out_dir, label, doc, series, stem, sizeof stem, err,
                                sizeof err) != 0) {
        fprintf(stderr, "bench: %s\n", err);
        status = 1;
    } else {
        printf("results: %s/%s.json, .csv and .samples.csv\n", o->out_dir, stem);
    }
    cJSON_Delete(series);
    if (failed)
        fprintf(stderr, "bench: %zu of %zu cell(s) failed; their rows carry the error\n", failed,
                ran);
    cJSON_Delete(doc);
    return status;
}
