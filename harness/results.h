/*
 * results.h - reading and writing result files.
 *
 * A results document is Google Benchmark's JSON: a `context` object and a
 * `benchmarks` array whose entries carry heaplab's figures as top-level
 * keys, so Google Benchmark's compare.py reads it unchanged.  Beside it goes
 * a CSV with one row per repetition (or failed or interrupted cell).  Files
 * are written to a temporary name and renamed (or linked), so they appear
 * whole or not at all.
 */
#ifndef HEAPLAB_RESULTS_H
#define HEAPLAB_RESULTS_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "harness/options.h"

/* Write len bytes to path through a temporary file and rename.  Returns 0,
 * or -1 with a one-line reason in err. */
int hl_write_file_atomic(const char *path, const char *data, size_t len, char *err,
                         size_t err_len);

/* mkdir -p dir.  Returns 0, or -1 with a reason in err. */
int hl_make_dirs(const char *dir, char *err, size_t err_len);

/* Parse the JSON file at path.  NULL with a reason in err on failure. */
cJSON *hl_read_json_file(const char *path, char *err, size_t err_len);

/* Write one run's result set into dir (created when needed), whole or not at
 * all: <stem>.json (doc), <stem>.csv (its rows) and <stem>.samples.csv
 * (memory over time: one line per sample,
 * `name,workload,variant,allocator,collector,t_s,phase,rss_bytes,live_bytes`,
 * an absent figure an empty field; `series` is an array of objects with
 * those names and a `samples` array of [t_s, phase, rss, live]).
 *
 * The stem is "<YYYYmmdd-HHMMSS>_<label>", written into stem.  Its JSON is
 * created under a name nobody holds (link(2) of a complete temporary file),
 * so a run that finishes in the same second as another into the same dir
 * takes "<stamp>-2_<label>", then -3, ...: names sort by time and no run
 * overwrites another.  On failure no file of the set is left.  Returns 0,
 * or -1 with a one-line reason in err. */
int hl_results_write(const char *dir, const char *label, const cJSON *doc, const cJSON *series,
                     char *stem, size_t stem_len, char *err, size_t err_len);

/* The CSV text of doc's iteration rows (and error rows); caller frees. */
char *hl_results_csv(const cJSON *doc);

/* Console table: hl_table_fit for every row it will hold (the name columns
 * widen to the longest name), then the header, then one line per cell from
 * its rows. */
void hl_table_fit(const char *workload, const char *variant, const char *allocator,
                  const char *collector);
void hl_table_header(void);
void hl_table_row(const cJSON *rows, const char *workload, const char *variant,
                  const char *allocator, const char *collector, const char *status);

/* A results document's context: from_cell (or a new object) plus the date,
 * load, heaplab's version and build, kernel, CPU and its topology, THP
 * mode and argv. */
cJSON *hl_results_context(cJSON *from_cell, int argc, char **argv);

/* "<workloads>_<allocators>": the name of o's results files after their
 * date ("churn_glibc+pool", "all_all", "churn+11more_pool"). */
void hl_results_label(const hl_options *o, char *label, size_t len);

/* Fail early, before anything runs, when results could not be written to
 * dir (created when missing).  Returns 0, or -1 with err as "--out: cannot
 * write results to DIR (why)". */
int hl_results_check_dir(const char *dir, char *err, size_t err_len);

#endif
