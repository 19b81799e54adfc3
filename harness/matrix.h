/*
 * matrix.h - run every selected cell, each in its own process, and write
 * one results document (see matrix.c).
 */
#ifndef HEAPLAB_MATRIX_H
#define HEAPLAB_MATRIX_H

#include <cjson/cJSON.h>

#include "harness/options.h"

/* Run the matrix o selects.  argv is recorded in the results' context.
 * Returns the exit status: 0 every cell ran, 1 a cell failed (the others are
 * still written), 2 the output directory cannot be written.  Stopped by
 * SIGINT, SIGTERM or SIGHUP, it writes the finished cells and the others as
 * interrupted, and does not return: it dies of the signal. */
int hl_matrix_main(const hl_options *o, int argc, char **argv);

/* A results document's context: from_cell (or a new object) plus the date,
 * load, heaplab's version and build, kernel, CPU, THP mode and argv. */
cJSON *hl_results_context(cJSON *from_cell, int argc, char **argv);

/* The environment for a child process: ours without LD_PRELOAD, plus
 * LD_PRELOAD=preload (written into preload_var) when preload is not NULL.
 * The array borrows our strings; free it.  NULL when memory is exhausted. */
char **hl_preload_environment(const char *preload, char *preload_var, size_t var_len);

/* The last max - 1 bytes of the file at path, trailing blanks trimmed; an
 * empty string when it cannot be read. */
void hl_read_tail(const char *path, char *buf, size_t max);

#endif
