/*
 * program.h - `bench [options] -- PROGRAM ARGS...`: a user's own program
 * run under each system allocator, the way mimalloc-bench runs its
 * benchmarks (see program.c and docs/program.md).
 */
#ifndef HEAPLAB_PROGRAM_H
#define HEAPLAB_PROGRAM_H

#include "harness/options.h"

/* Run o->program under each selected system allocator, o->repetitions
 * times, interleaved (repetition 1 of every allocator, then repetition 2,
 * ...), each run a fresh process with the allocator's library preloaded.
 * argv is recorded in the results' context.  Prints one line per run and
 * writes <out>/<stem>.json, .csv and .samples.csv.  Returns the exit status:
 * 0 every run succeeded, 1 a run failed (its row carries the error, the
 * others are kept), 2 bad input (one line on stderr, nothing run). */
int hl_program_main(const hl_options *o, int argc, char **argv);

/* `bench --identify --allocator=NAME` (internal): prove which allocator
 * serves this process's malloc and print its version on stdout (exit 0),
 * or one line on stderr (exit 1).  The program driver runs it under the
 * same LD_PRELOAD as the program to learn the library's version. */
int hl_program_identify(const hl_options *o);

#endif
