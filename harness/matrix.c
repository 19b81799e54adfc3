/*
 * matrix.c - the matrix driver: build the plan (plan.c), run each cell in
 * a fresh process of this same program (child.c), keep its rows, add the
 * aggregates of interleaved repetitions (stats.c), and write one results
 * document with its context (results.c), drawing the progress bar
 * (progress.c) as it goes.
 *
 * A stop ends the matrix early: SIGINT, SIGTERM or SIGHUP ends the running
 * cell, no further cell starts, the finished cells are written with an
 * interrupted row for each of the others, and bench dies of the signal
 * (interrupt.c, docs/results.md).
 */
#include "harness/matrix.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "harness/child.h"
#include "harness/heapsweep.h"
#include "harness/interrupt.h"
#include "harness/plan.h"
#include "harness/progress.h"
#include "harness/results.h"
#include "harness/stats.h"
#include "workloads/rng.h"

/* ------------------------------------------------------------- driver -- */

/* The variant as the table shows it: with its thread count in a sweep. */
static void table_variant(const hl_options *o, const hl_plan_cell *cell, char *buf, size_t len)
{
    snprintf(buf, len, "%s", cell->w->variants[cell->variant].name);
    if (o->nthreads && cell->threads > 0)
        snprintf(buf, len, "%.60s/t%" PRId64, cell->w->variants[cell->variant].name,
                 cell->threads);
    char point[32];
    hl_heapsweep_label(cell, point, sizeof point);
    if (point[0] != '\0')
        snprintf(buf, len, "%.60s/%s", cell->w->variants[cell->variant].name, point);
}

/* When a stopping signal ended the run that just returned (it did not end
 * by itself), mark the cell cut, drop what the run left and say so in the
 * table; returns 1 then, else 0 with nothing done.  A run that finished
 * before the signal reached it is kept as finished. */
static int cell_was_cut(const hl_options *o, hl_plan_cell *cell, hl_child_outcome *out,
                        const hl_progress *pr)
{
    if (hl_stop_signal() == 0 || out->ok)
        return 0;
    cell->cut = 1;
    cJSON_Delete(out->rows);
    cJSON_Delete(out->context);
    cJSON_Delete(out->samples);
    char variant[96];
    table_variant(o, cell, variant, sizeof variant);
    hl_progress_clear(pr);
    hl_table_row(NULL, cell->w->name, variant, cell->a->name, cell->c->name, "interrupted");
    return 1;
}

/* Run one repetition (or, without interleaving, all of them) of a cell and
 * keep what it produced. */
static void run_one(const hl_options *o, hl_plan_cell *cell, size_t index, int64_t rep,
                    int64_t reps_in_child, cJSON **context, hl_progress *pr)
{
    hl_child_outcome out;
    hl_child_run(o, cell, index, reps_in_child, &out);
    if (cell_was_cut(o, cell, &out, pr))
        return;
    cell->runs_done++;
    cJSON *fresh = out.rows != NULL ? out.rows : cJSON_CreateArray();
    if (out.rows == NULL)
        cJSON_AddItemToArray(fresh, hl_child_failed_row(o, cell, &out, rep));
    hl_heapsweep_annotate(cell, fresh);
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
    hl_progress_clear(pr);
    char variant[96];
    table_variant(o, cell, variant, sizeof variant);
    hl_table_row(fresh, cell->w->name, variant, cell->a->name, cell->c->name, status);
    pr->done++;
    hl_progress_draw(pr);
    while ((row = cJSON_DetachItemFromArray(fresh, 0)) != NULL)
        cJSON_AddItemToArray(cell->rows, row);
    cJSON_Delete(fresh);
}

/* A --heap-sweep point whose sweep found no minimum heap: one failed row
 * saying why, and the cell counts as done (it has nothing to run). */
static void sweep_point_failed(const hl_options *o, hl_plan_cell *cell, hl_progress *pr)
{
    hl_child_outcome why;
    memset(&why, 0, sizeof why);
    snprintf(why.error, sizeof why.error, "%.500s", cell->sweep_error);
    cJSON *fresh = cJSON_CreateArray();
    cJSON *row = hl_child_failed_row(o, cell, &why, 0);
    cJSON_DeleteItemFromObjectCaseSensitive(row, "stderr_tail");
    cJSON_AddItemToArray(fresh, row);
    hl_heapsweep_annotate(cell, fresh);
    char status[700], variant[96];
    snprintf(status, sizeof status, "FAILED: %s", cell->sweep_error);
    table_variant(o, cell, variant, sizeof variant);
    hl_progress_clear(pr);
    hl_table_row(fresh, cell->w->name, variant, cell->a->name, cell->c->name, status);
    cJSON_AddItemToArray(cell->rows, cJSON_DetachItemFromArray(fresh, 0));
    cJSON_Delete(fresh);
    cell->runs_done = (size_t)cell->runs;
    cell->runs_failed++;
    pr->done += (size_t)cell->runs;
    hl_progress_draw(pr);
}

/* ----------------------------------------------------- interruption -- */

/* After a stop: one error row (error_occurred, interrupted: true) for each
 * runnable cell that did not finish, in its place among the cells, so that
 * Google Benchmark's compare.py passes over it as over any failed
 * benchmark and --compare can tell it from a failure.  A cell with finished
 * repetitions (interleaved) keeps their rows beside this one. */
static void add_interrupted_rows(const hl_options *o, hl_plan *p, int sig)
{
    for (size_t i = 0; i < p->n; i++) {
        hl_plan_cell *cell = &p->cells[i];
        int64_t rounds = cell->runs;
        if (cell->skip != NULL || cell->runs_done == (size_t)rounds)
            continue;
        hl_child_outcome why;
        memset(&why, 0, sizeof why);
        if (cell->runs_done > 0)
            snprintf(why.error, sizeof why.error, "interrupted by %s after %zu of %" PRId64
                     " repetitions", hl_stop_name(sig), cell->runs_done, rounds);
        else
            snprintf(why.error, sizeof why.error, "interrupted by %s before it %s",
                     hl_stop_name(sig), cell->cut ? "finished" : "started");
        cJSON *row = hl_child_failed_row(o, cell, &why, (int64_t)cell->runs_done);
        cJSON_DeleteItemFromObjectCaseSensitive(row, "stderr_tail");
        cJSON_AddBoolToObject(row, "interrupted", 1);
        cJSON *one = cJSON_CreateArray();
        cJSON_AddItemToArray(one, row);
        hl_heapsweep_annotate(cell, one);
        cJSON_AddItemToArray(cell->rows, cJSON_DetachItemFromArray(one, 0));
        cJSON_Delete(one);
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
static stop_tally tally_cells(const hl_plan *p)
{
    stop_tally t = {0};
    for (size_t i = 0; i < p->n; i++) {
        const hl_plan_cell *cell = &p->cells[i];
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
    if (hl_results_check_dir(o->out_dir, err, sizeof err) != 0) {
        fprintf(stderr, "bench: %s\n", err);
        return 2;
    }
    hl_plan p = {0};
    if (hl_plan_build(o, &p) != 0 || (o->heap_sweep && hl_heapsweep_expand(o, &p) != 0)) {
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
    size_t total_runs = 0;
    for (size_t i = 0; i < p.n; i++) {
        p.cells[i].rows = cJSON_CreateArray();
        p.cells[i].runs = hl_plan_cell_runs(o, &p.cells[i], interleave);
        total_runs += p.cells[i].skip == NULL ? (size_t)p.cells[i].runs : 0;
    }
    hl_progress pr = {.tty = isatty(STDOUT_FILENO), .total = total_runs, .start_ns = hl_now_ns()};
    printf("heaplab: %zu cell(s), seed %" PRIu64 ", %" PRId64 " repetition(s)%s%s\n", p.n, o->seed,
           o->repetitions, interleave ? " interleaved" : "", o->quick ? ", quick sizes" : "");
    if (o->shuffle)
        printf("heaplab: cells in random order (--shuffle=%" PRIu64 ")\n", o->shuffle_seed);
    for (size_t i = 0; i < p.n; i++) {
        char variant[96];
        table_variant(o, &p.cells[i], variant, sizeof variant);
        hl_table_fit(p.cells[i].w->name, variant, p.cells[i].a->name, p.cells[i].c->name);
    }
    hl_table_header();
    for (size_t i = 0; i < p.n; i++) {
        const hl_plan_cell *cell = &p.cells[i];
        if (cell->skip == NULL)
            continue;
        char status[600], variant[96];
        snprintf(status, sizeof status, "skipped: %s", cell->skip);
        table_variant(o, cell, variant, sizeof variant);
        hl_table_row(NULL, cell->w->name, variant, cell->a->name, cell->c->name, status);
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
            hl_shuffle(order, p.n, &shuffle_state);
        for (size_t k = 0; k < p.n && !hl_stop_signal(); k++) {
            hl_plan_cell *cell = &p.cells[order[k]];
            if (cell->skip != NULL || (size_t)cell->runs == cell->runs_done)
                continue;
            hl_progress_clear(&pr);
            if (hl_heapsweep_ready(o, &p, order[k]) != 0) { /* bisection: probe runs */
                if (!hl_stop_signal())
                    sweep_point_failed(o, cell, &pr);
                continue;
            }
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
    hl_progress_clear(&pr);
    free(order);
    int stopped_by = hl_stop_signal();
    stop_tally tally = tally_cells(&p);
    if (stopped_by)
        add_interrupted_rows(o, &p, stopped_by);

    cJSON *rows = cJSON_CreateArray();
    cJSON *series = cJSON_CreateArray(); /* each cell's samples, for <stem>.samples.csv */
    for (size_t i = 0; i < p.n; i++) {
        hl_plan_cell *cell = &p.cells[i];
        if (cell->skip == NULL) {
            if (cell->runs > 1 && cell->runs_done == (size_t)cell->runs)
                hl_stats_add_aggregates(cell->rows);
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
    hl_results_label(o, label, sizeof label);
    int status = tally.failed ? 1 : 0;
    if (stopped_by) {
        keep_interrupted(o, doc, series, label, stopped_by, &tally);
        cJSON_Delete(series);
        cJSON_Delete(doc);
        hl_stop_die(stopped_by);
        return 128 + stopped_by; /* when the signal could not end us */
    }
    if (tally.cells == 0) {
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
    if (tally.failed)
        fprintf(stderr, "bench: %zu of %zu cell(s) failed; their rows carry the error\n",
                tally.failed, tally.cells);
    cJSON_Delete(doc);
    return status;
}
