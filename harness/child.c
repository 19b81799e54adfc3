/*
 * child.c - one cell in its own process.
 *
 * Why a process per cell: glibc, jemalloc, mimalloc and tcmalloc each own
 * the process's malloc, so two of them never share a process; a system
 * allocator is brought in by LD_PRELOAD of Debian's library (as
 * mimalloc-bench does), and the child proves which malloc it got before it
 * measures anything.  In-process allocators (pool, arena) get a process of
 * their own too, with nothing preloaded, so that no cell inherits another's
 * heap and a crash or hang in one cell never loses the others' results.
 *
 * The child's command line is generated: the cell's own selection here,
 * every other option from the option table (hl_options_forward).  Each
 * cell's scratch files (.cell-PID-N.*: rows, stderr, Callgrind's output)
 * are removed once its process is reaped, whatever ended it.  Under
 * --instructions the instruction count is read from Callgrind's output.
 */
#include "harness/child.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/interrupt.h"
#include "harness/pinning.h"
#include "harness/proc.h"
#include "harness/results.h"

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
static void add_instructions(hl_child_outcome *out, const char *cg_out)
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

/* The child's command line for one cell: valgrind's when counting
 * instructions, then this program, --run-cell with the cell's own
 * selection and parameters, every option the table copies to children
 * (hl_options_forward), and --cell-out.  -1 when it does not fit. */
int hl_child_command(const hl_options *o, const hl_plan_cell *cell, int64_t repetitions,
                         const char *self, const char *cg_out, const char *cell_out,
                         hl_arglist *l)
{
    int rc = 0;
    l->argc = 0;
    l->used = 0;
    l->argv[0] = NULL;
    /* Under --instructions the cell runs inside Callgrind, which counts
     * only where the cell switches instrumentation on (around the steps),
     * on every thread. */
    if (o->instructions) {
        rc |= hl_arglist_add(l, "valgrind");
        rc |= hl_arglist_add(l, "--tool=callgrind");
        rc |= hl_arglist_add(l, "--instr-atstart=no");
        rc |= hl_arglist_add(l, "--callgrind-out-file=%s", cg_out);
    }
    rc |= hl_arglist_add(l, "%s", self);
    rc |= hl_arglist_add(l, "--run-cell");
    rc |= hl_arglist_add(l, "--workload=%s", cell->w->name);
    rc |= hl_arglist_add(l, "--allocator=%s", cell->a->name);
    rc |= hl_arglist_add(l, "--collector=%s", cell->c->name);
    rc |= hl_arglist_add(l, "--param");
    rc |= hl_arglist_add(l, "variant=%s", cell->w->variants[cell->variant].name);
    int64_t values[HL_MAX_PARAMS];
    const char *texts[HL_MAX_PARAMS];
    hl_options_resolve_params(o, cell->w, values);
    hl_options_resolve_texts(o, cell->w, texts);
    for (size_t i = 0; i < cell->w->nparams; i++) {
        if (cell->threads > 0 && strcmp(cell->w->params[i].name, HL_THREADS_PARAM) == 0)
            values[i] = cell->threads;
        if (hl_param_is_text(cell->w, i) && texts[i] == NULL)
            continue; /* a text parameter not given stays not given */
        rc |= hl_arglist_add(l, "--param");
        if (hl_param_is_text(cell->w, i))
            rc |= hl_arglist_add(l, "%s=%s", cell->w->params[i].name, texts[i]);
        else
            rc |= hl_arglist_add(l, "%s=%" PRId64, cell->w->params[i].name, values[i]);
    }
    rc |= hl_arglist_add(l, "--repetitions=%" PRId64, repetitions);
    /* A --heap-sweep point's own limit or threshold (harness/heapsweep.c). */
    if (cell->heap_limit > 0)
        rc |= hl_arglist_add(l, "--gc-heap-limit=%" PRId64, cell->heap_limit);
    if (cell->gc_threshold0 > 0)
        rc |= hl_arglist_add(l, "--gc-threshold=%" PRId64 ",10,10", cell->gc_threshold0);
    rc |= hl_options_forward(o, l);
    rc |= hl_arglist_add(l, "--cell-out=%s", cell_out);
    return rc != 0 ? -1 : 0;
}

/* Run one cell in a fresh process and collect its rows. */
void hl_child_run(const hl_options *o, const hl_plan_cell *cell, size_t index,
                      int64_t repetitions, hl_child_outcome *out)
{
    char cell_out[4096], err_path[4096], cg_out[4096], self[4096];
    char preload_var[4200], pinned_var[8192];
    hl_arglist args;

    memset(out, 0, sizeof *out);
    snprintf(cell_out, sizeof cell_out, "%s/.cell-%ld-%zu.json", o->out_dir, (long)getpid(), index);
    snprintf(err_path, sizeof err_path, "%s/.cell-%ld-%zu.err", o->out_dir, (long)getpid(), index);
    snprintf(cg_out, sizeof cg_out, "%s/.cell-%ld-%zu.callgrind", o->out_dir, (long)getpid(), index);
    ssize_t self_len = readlink("/proc/self/exe", self, sizeof self - 1);
    self[self_len > 0 ? self_len : 0] = '\0';
    if (hl_child_command(o, cell, repetitions, self, cg_out, cell_out, &args) != 0) {
        snprintf(out->error, sizeof out->error, "the cell's command line is too long");
        return;
    }
    char **argv = args.argv;

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
cJSON *hl_child_failed_row(const hl_options *o, const hl_plan_cell *cell,
                           const hl_child_outcome *out, int64_t repetition)
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
