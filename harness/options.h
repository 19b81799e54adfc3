/*
 * options.h - the command line of `bench`, parsed and validated.
 *
 * Parsing never exits or prints: a bad flag or value yields one line naming
 * what was wrong and the valid choices, which main() prints before exiting
 * with status 2.
 *
 * Every option is one row of one table (hl_option_spec, options.c): its
 * name, argument, help, parser, the modes it applies to and how it reaches
 * a cell's child process.  --help, getopt's option array, the child's
 * command line and -- PROGRAM's refusals are generated from that table, so
 * a new option is one row.
 */
#ifndef HEAPLAB_OPTIONS_H
#define HEAPLAB_OPTIONS_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "allocators/allocator.h"
#include "collectors/collector.h"
#include "workloads/workload.h"

#define HL_MAX_SELECTED 32
#define HL_MAX_PARAMS 32
#define HL_MAX_HEAP_FACTORS 16

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
    int latency;                      /* --latency: a timed pass per alloc and free (latency.c) */
    int heap_sweep;                   /* --heap-sweep[=FACTORS] (harness/heapsweep.c) */
    double heap_factors[HL_MAX_HEAP_FACTORS]; /* multiples of the minimum heap, ascending */
    size_t nheap_factors;
    uint64_t shuffle_seed;
    const char *paths[2]; /* --compare's BASELINE and CURRENT; --export-action's RESULTS */
    const char *thresholds; /* --thresholds=FILE, or NULL */
    const char *report;     /* --report=FILE (markdown), or NULL */
    int verbose;            /* --verbose: --compare shows every check */
    int require_same_cells; /* --require-same-cells: a lone cell is a regression */
    const char *export_out; /* --export-action=FILE */
    const char *record;     /* --record=FILE: the trace -- PROGRAM's run is recorded into */
    char **program;         /* after "--": the program and its arguments */
    const char *program_stdout; /* --program-stdout=DIR: each run's stdout kept there */
    int nprogram;
    uint64_t given;         /* bit i: row i of the option table was given */
} hl_options;

/* How an option reaches the child process that runs one cell
 * (`bench --run-cell ...`, harness/child.c). */
typedef enum hl_forwarding {
    HL_FORWARD_NONE,     /* it does not apply to a cell (--compare, --list, ...) */
    HL_FORWARD_RESOLVED, /* the parent turns it into each cell's own arguments
                            (--workload, --quick, --threads, --repetitions, ...) */
    HL_FORWARD_COPY,     /* given to the parent, passed to each child as it was parsed */
} hl_forwarding;

/* How a row's argument is parsed into its field of hl_options. */
typedef enum hl_option_type {
    HL_OPT_FLAG,     /* int field set to 1 */
    HL_OPT_INT,      /* int64_t field, a whole number in [min, max] */
    HL_OPT_UINT,     /* uint64_t field, a whole number in [min, max] */
    HL_OPT_POSITIVE, /* double field, more than 0 and at most max, in `unit`s */
    HL_OPT_BYTES,    /* int64_t field, a byte count (K, M, G) of at least min */
    HL_OPT_TEXT,     /* const char * field; `unit` names it when it must not be empty */
    HL_OPT_CUSTOM,   /* parse() and, when forwarded, format() */
} hl_option_type;

typedef struct hl_option_spec hl_option_spec;

/* One option: everything bench knows about it, in one row.  `modes` is a
 * bit per hl_mode (1 << HL_MODE_RUN, ...): the modes it applies to; an
 * option given in another mode is refused. */
struct hl_option_spec {
    const char *name;     /* the long name, without "--" */
    char short_name;      /* 'h' for -h, or 0 */
    int argument;         /* no_argument, required_argument or optional_argument */
    const char *usage;    /* --help's left column; NULL: "--NAME" */
    const char *help;     /* --help's text, lines separated by '\n' */
    int section;          /* which heading of --help it stands under */
    hl_option_type type;
    size_t offset, size;  /* the field of hl_options it sets (size 0: none) */
    int64_t min, max;     /* INT, UINT: the range; BYTES: min; POSITIVE: max */
    const char *unit;     /* POSITIVE: "seconds"; TEXT: "file name", or NULL */
    /* CUSTOM: parse arg into o; -1 with one line in err. */
    int (*parse)(hl_options *o, const char *arg, char *err, size_t err_len);
    /* CUSTOM and forwarded: o's value as the argument's text. */
    void (*format)(const hl_options *o, char *buf, size_t len);
    unsigned modes;
    int selects_mode;     /* the option itself chooses what bench does */
    int repeats;          /* may be given many times (--param), so no repeat check */
    int refused_by_program; /* let through to -- PROGRAM, which refuses it (program.c) */
    hl_forwarding forwarding;
    const char *example;  /* COPY: an argument other than the default, for tests */
};

/* The option table: *count rows. */
const hl_option_spec *hl_option_table(size_t *count);

/* getopt_long's array generated from the table: count + 1 entries (the
 * last all zero).  Row i's val is its short name, or 256 + i. */
void hl_option_getopt_table(struct option *out);

/* A command line being built: argv[0..argc) point into text. */
#define HL_MAX_ARGS (64 + 2 * HL_MAX_PARAMS)
typedef struct hl_arglist {
    int argc;
    char *argv[HL_MAX_ARGS + 1]; /* NULL-terminated */
    char text[32768];
    size_t used;
} hl_arglist;

/* Append one argument, printf-style.  Returns 0, or -1 when l is full. */
int hl_arglist_add(hl_arglist *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Append to l every HL_FORWARD_COPY option that o was given, as
 * "--NAME=VALUE" (or "--NAME"), in table order.  Returns 0, or -1 when l
 * is full. */
int hl_options_forward(const hl_options *o, hl_arglist *l);

/* The first option o was given that -- PROGRAM refuses ("--collector"), or
 * NULL. */
const char *hl_options_program_refuses(const hl_options *o);

/* Parse argv into o.  Returns 0, or -1 with one line in err.  An option
 * given twice with different text, flags that conflict, and parameter
 * values that break a workload's declared order are errors. */
int hl_options_parse(int argc, char **argv, hl_options *o, char *err, size_t err_len);

/* The value of each of w's parameters under o (defaults, --quick, --param),
 * written into values[w->nparams]. */
void hl_options_resolve_params(const hl_options *o, const hl_workload_ops *w, int64_t *values);

/* The text of each of w's text parameters given with --param, or NULL,
 * written into texts[w->nparams] (NULL for every whole-number one). */
void hl_options_resolve_texts(const hl_options *o, const hl_workload_ops *w, const char **texts);

/* --help, generated from the option table, written to f. */
void hl_write_help(FILE *f, const char *prog);
void hl_print_help(const char *prog);
void hl_print_list(void);

#endif
