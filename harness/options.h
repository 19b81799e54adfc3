/*
 * options.h - the command line of `bench`, parsed and validated.
 *
 * Parsing never exits or prints: a bad flag or value yields one line naming
 * what was wrong and the valid choices, which main() prints before exiting
 * with status 2.
 */
#ifndef HEAPLAB_OPTIONS_H
#define HEAPLAB_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "allocators/allocator.h"
#include "collectors/collector.h"
#include "workloads/workload.h"

#define HL_MAX_SELECTED 32
#define HL_MAX_PARAMS 32

typedef enum hl_mode {
    HL_MODE_RUN,  /* run the matrix of selected cells */
    HL_MODE_LIST, /* --list */
    HL_MODE_HELP, /* --help */
    HL_MODE_CELL, /* --run-cell: one cell in this process (internal) */
    HL_MODE_COMPARE, /* --compare BASELINE CURRENT */
    HL_MODE_EXPORT,  /* --export-action=OUT RESULTS */
    HL_MODE_PROGRAM, /* -- PROGRAM ARGS...: a program under each allocator */
    HL_MODE_IDENTIFY, /* --identify: print the allocator's version (internal) */
} hl_mode;

typedef struct hl_param_setting {
    char name[64];
    int64_t value;
    const char *text; /* the value as given, for the repeat check */
} hl_param_setting;

typedef struct hl_options {
    hl_mode mode;
    const hl_workload_ops *workloads[HL_MAX_SELECTED];
    size_t nworkloads;
    const hl_allocator_ops *allocators[HL_MAX_SELECTED];
    size_t nallocators;
    int allocators_all; /* "all": unavailable ones are skipped, not failed */
    const hl_collector_ops *collectors[HL_MAX_SELECTED];
    size_t ncollectors; /* 0: each workload's default collector */
    int collectors_all;
    hl_param_setting params[HL_MAX_PARAMS];
    size_t nparams;
    const char *variant; /* --param variant=NAME, or NULL for every variant */
    int quick;
    uint64_t seed;
    int64_t repetitions;
    double min_time; /* seconds; 0 = fixed work */
    int64_t timeout_s;
    const char *out_dir;
    const char *cell_out; /* --cell-out, with --run-cell */
    hl_gc_config gc;      /* --gc-threshold, --gc-long-lived */
    double sample_hz;     /* --sample-hz: memory samples per second */
    int instructions;     /* --instructions: count with Callgrind instead of timing */
    const hl_decorator *decorator; /* --decorate=NAME, or NULL */
    int64_t threads[HL_MAX_SELECTED]; /* --threads=LIST for threaded workloads */
    size_t nthreads;                  /* 0: each workload's own default */
    int shuffle;                      /* --shuffle[=SEED]: random cell order, interleaved reps */
    int64_t fail_alloc;               /* --fail-alloc=N: the Nth allocation fails (0 off) */
    int64_t mem_limit;                /* --mem-limit=BYTES: allocations past it fail (0 off) */
    int64_t rlimit_as;                /* --rlimit-as=BYTES: the cell's address-space limit */
    double duration;                  /* --duration=SECONDS: soak instead of timing (0 off) */
    uint64_t shuffle_seed;
    const char *paths[2]; /* --compare's BASELINE and CURRENT; --export-action's RESULTS */
    const char *thresholds; /* --thresholds=FILE, or NULL */
    const char *report;     /* --report=FILE (markdown), or NULL */
    int verbose;            /* --verbose: --compare shows every check */
    int require_same_cells; /* --require-same-cells: a lone cell is a regression */
    const char *export_out; /* --export-action=FILE */
    char **program;         /* after "--": the program and its arguments */
    int nprogram;
} hl_options;

/* Parse argv into o.  Returns 0, or -1 with one line in err.  An option
 * given twice with different text, flags that conflict, and parameter
 * values that break a workload's declared order are errors. */
int hl_options_parse(int argc, char **argv, hl_options *o, char *err, size_t err_len);

/* The value of each of w's parameters under o (defaults, --quick, --param),
 * written into values[w->nparams]. */
void hl_options_resolve_params(const hl_options *o, const hl_workload_ops *w, int64_t *values);

void hl_print_help(const char *prog);
void hl_print_list(void);

#endif
