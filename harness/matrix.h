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

#endif
