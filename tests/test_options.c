/*
 * test_options.c - the option table (harness/options.c) is the one place
 * an option is declared: every row appears in --help and in getopt's
 * array, every option that applies to a cell says how it reaches the
 * cell's child process, and every option copied to children round-trips:
 * parsed by the parent, written into the child's command line, parsed by
 * the child, it gives the child the very field the parent had.
 *
 * The round trip is what catches an option that a cell silently loses
 * (the child would run with the default instead).  Each copied row's
 * `example` must differ from the default, so a lost option shows.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "harness/child.h"
#include "harness/options.h"
#include "harness/plan.h"
#include "tests/check.h"

/* Whether --NAME (or -h) appears in text as a whole option name. */
static int names_option(const char *text, const char *flag)
{
    size_t len = strlen(flag);
    for (const char *p = strstr(text, flag); p != NULL; p = strstr(p + 1, flag)) {
        char after = p[len];
        if (!isalnum((unsigned char)after) && after != '-')
            return 1;
    }
    return 0;
}

static void check_help(const hl_option_spec *table, size_t n)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    hl_write_help(f, "bench");
    fclose(f);
    for (size_t i = 0; i < n; i++) {
        char flag[80];
        snprintf(flag, sizeof flag, "--%s", table[i].name);
        CHECK(names_option(text, flag), "--help does not show %s", flag);
        if (table[i].short_name) {
            snprintf(flag, sizeof flag, "-%c", table[i].short_name);
            CHECK(names_option(text, flag), "--help does not show %s", flag);
        }
        CHECK(table[i].help != NULL && table[i].help[0] != '\0', "--%s has no help",
              table[i].name);
    }
    free(text);
}

static void check_getopt(const hl_option_spec *table, size_t n)
{
    struct option *opts = calloc(n + 1, sizeof *opts);
    hl_option_getopt_table(opts);
    for (size_t i = 0; i < n; i++) {
        CHECK(opts[i].name != NULL && strcmp(opts[i].name, table[i].name) == 0,
              "getopt's entry %zu is not --%s", i, table[i].name);
        CHECK(opts[i].has_arg == table[i].argument, "--%s: getopt's argument differs",
              table[i].name);
        for (size_t k = 0; k < i; k++)
            CHECK(opts[k].val != opts[i].val, "--%s and --%s share getopt's value",
                  table[k].name, table[i].name);
    }
    CHECK(opts[n].name == NULL, "getopt's array is not terminated");
    free(opts);
}

/* An option that applies to a cell must say how the cell gets it; one
 * copied to children needs an example and must be accepted by --run-cell. */
static void check_forwarding_declared(const hl_option_spec *table, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const hl_option_spec *s = &table[i];
        int in_cell = (s->modes >> HL_MODE_CELL) & 1;
        if (in_cell && !s->selects_mode)
            CHECK(s->forwarding != HL_FORWARD_NONE, "--%s applies to a cell but says nothing of "
                  "how a cell's process gets it", s->name);
        if (s->forwarding == HL_FORWARD_COPY) {
            CHECK(in_cell, "--%s is copied to a cell's process, which refuses it", s->name);
            CHECK(s->example != NULL && s->size > 0, "--%s is copied but has no example or "
                  "field", s->name);
        }
    }
}

static int parse(int argc, char **argv, hl_options *o)
{
    char err[1024];
    int rc = hl_options_parse(argc, argv, o, err, sizeof err);
    CHECK(rc == 0, "%s", err);
    return rc;
}

/* Parent: bench --workload=churn --allocator=pool --OPTION[=EXAMPLE].
 * Child: the command line the matrix gives the plan's first cell
 * (hl_child_command), parsed as the child parses it. */
static void check_round_trip(const hl_option_spec *table, size_t row)
{
    const hl_option_spec *s = &table[row];
    char flag[160];
    if (s->argument == no_argument)
        snprintf(flag, sizeof flag, "--%s", s->name);
    else
        snprintf(flag, sizeof flag, "--%s=%s", s->name, s->example);
    char *parent_argv[] = {"bench", "--workload=churn", "--allocator=pool", flag, NULL};
    hl_options defaults, parent, child;
    if (parse(3, parent_argv, &defaults) != 0 || parse(4, parent_argv, &parent) != 0)
        return;
    CHECK(memcmp((char *)&parent + s->offset, (char *)&defaults + s->offset, s->size) != 0,
          "--%s: the example %s leaves the default", s->name, flag);

    hl_plan plan = {0};
    if (hl_plan_build(&parent, &plan) != 0 || plan.n == 0) {
        CHECK(0, "--%s: no plan", s->name);
        free(plan.cells);
        return;
    }
    static hl_arglist args;
    int rc = hl_child_command(&parent, &plan.cells[0], 1, "bench", "/nonexistent/cg.out",
                              "/nonexistent/cell.json", &args);
    free(plan.cells);
    CHECK(rc == 0, "--%s: the child's command line does not fit", s->name);
    int self = 0; /* under --instructions, valgrind's arguments come first */
    while (self < args.argc && strcmp(args.argv[self], "bench") != 0)
        self++;
    CHECK(self < args.argc, "--%s: the child's command line does not run bench", s->name);
    if (self == args.argc || parse(args.argc - self, args.argv + self, &child) != 0)
        return;
    CHECK(child.mode == HL_MODE_CELL, "--%s: the child is not a cell", s->name);
    CHECK(memcmp((char *)&child + s->offset, (char *)&parent + s->offset, s->size) == 0,
          "--%s: the child does not get the parent's value (%s)", s->name, flag);
}

/* The options the parent resolves into each cell's own arguments
 * (HL_FORWARD_RESOLVED: the selection, --quick, --param, --threads,
 * --repetitions): the child must run exactly the cell's workload, variant,
 * allocator, collector and parameter values, with the repetitions it was
 * given. */
static void check_resolved(void)
{
    char *parent_argv[] = {"bench", "--workload=larson", "--allocator=glibc", "--quick",
                           "--param", "min=32", "--threads=2", NULL};
    hl_options parent, child;
    if (parse(7, parent_argv, &parent) != 0)
        return;
    hl_plan plan = {0};
    if (hl_plan_build(&parent, &plan) != 0 || plan.n == 0) {
        CHECK(0, "resolved options: no plan");
        free(plan.cells);
        return;
    }
    const hl_plan_cell cell = plan.cells[0];
    free(plan.cells);
    static hl_arglist args;
    CHECK(hl_child_command(&parent, &cell, 3, "bench", "/nonexistent/cg.out",
                           "/nonexistent/cell.json", &args) == 0,
          "resolved options: the child's command line does not fit");
    if (parse(args.argc, args.argv, &child) != 0)
        return;
    CHECK(child.nworkloads == 1 && child.workloads[0] == cell.w && child.nallocators == 1 &&
              child.allocators[0] == cell.a && child.ncollectors == 1 &&
              child.collectors[0] == cell.c,
          "resolved options: the child runs another workload, allocator or collector");
    CHECK(child.variant != NULL && strcmp(child.variant, cell.w->variants[cell.variant].name) == 0,
          "resolved options: the child runs variant %s", child.variant ? child.variant : "(all)");
    CHECK(child.repetitions == 3, "resolved options: the child runs %lld repetitions, not 3",
          (long long)child.repetitions);
    int64_t want[HL_MAX_PARAMS], got[HL_MAX_PARAMS];
    hl_options_resolve_params(&parent, cell.w, want);
    hl_options_resolve_params(&child, cell.w, got);
    int threads = hl_workload_param_index(cell.w, HL_THREADS_PARAM);
    if (threads >= 0)
        want[threads] = cell.threads;
    for (size_t i = 0; i < cell.w->nparams; i++)
        CHECK(want[i] == got[i], "resolved options: the child's %s is %lld, the cell's %lld",
              cell.w->params[i].name, (long long)got[i], (long long)want[i]);
    CHECK(cell.threads == 2, "resolved options: the cell's threads are %lld, not 2",
          (long long)cell.threads);
}

int main(void)
{
    size_t n;
    const hl_option_spec *table = hl_option_table(&n);
    CHECK(n > 0, "the option table is empty");
    check_help(table, n);
    check_getopt(table, n);
    check_forwarding_declared(table, n);
    for (size_t i = 0; i < n; i++)
        if (table[i].forwarding == HL_FORWARD_COPY)
            check_round_trip(table, i);
    check_resolved();
    return check_status("options");
}
