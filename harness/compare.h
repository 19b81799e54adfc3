/*
 * compare.h - the regression check and the export for continuous
 * benchmarking services (see compare.c).
 */
#ifndef HEAPLAB_COMPARE_H
#define HEAPLAB_COMPARE_H

/* Compare CURRENT with BASELINE (files or directories of results).
 * thresholds: a JSON file, or NULL for the built-in defaults; report_path:
 * where to write a markdown report, or NULL; verbose: show every check, not
 * only those that say something; require_same_cells: a cell on one side
 * only is a regression.  Returns the exit status: 0 no regression, 1 a
 * regression, 2 bad input (after one line on stderr: also a decorated
 * baseline or no cell in common), 3 nothing could be judged. */
int hl_compare_main(const char *baseline, const char *current, const char *thresholds,
                    const char *report_path, int verbose, int require_same_cells);

/* Write the cells of `results` as github-action-benchmark's
 * customSmallerIsBetter JSON.  Returns the exit status. */
int hl_export_action_main(const char *results, const char *out_path);

#endif
