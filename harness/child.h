/*
 * child.h - run one cell of the plan in a fresh process of this program
 * (`bench --run-cell ...`) and collect its rows (see child.c).
 */
#ifndef HEAPLAB_CHILD_H
#define HEAPLAB_CHILD_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "harness/options.h"
#include "harness/plan.h"

/* What one cell's process left. */
typedef struct hl_child_outcome {
    int ok;
    char error[512];
    char stderr_tail[2048];
    cJSON *rows; /* the cell's rows, or NULL */
    cJSON *context;
    cJSON *samples; /* memory over time, or NULL */
} hl_child_outcome;

/* The child's command line for one cell: valgrind's when counting
 * instructions, then self, --run-cell with the cell's own selection and
 * parameters and `repetitions`, every option the table copies to children
 * (hl_options_forward), and --cell-out=cell_out.  Returns 0, or -1 when it
 * does not fit in l. */
int hl_child_command(const hl_options *o, const hl_plan_cell *cell, int64_t repetitions,
                     const char *self, const char *cg_out, const char *cell_out, hl_arglist *l);

/* Run cell (number index of the plan) in a fresh process that repeats it
 * `repetitions` times, wait for it, and fill out: its rows, context and
 * samples, or why it failed.  Its scratch files are removed. */
void hl_child_run(const hl_options *o, const hl_plan_cell *cell, size_t index,
                  int64_t repetitions, hl_child_outcome *out);

/* A row standing for a cell that produced no rows of its own: named as the
 * cell, error_occurred, out's error and stderr tail. */
cJSON *hl_child_failed_row(const hl_options *o, const hl_plan_cell *cell,
                           const hl_child_outcome *out, int64_t repetition);

#endif
