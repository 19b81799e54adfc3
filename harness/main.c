/*
 * main.c - `bench`: parse the command line and hand over to the matrix
 * driver, to a single cell (inside a child process), or to --list/--help.
 */
#include <stdio.h>

#include <unistd.h>

#include "harness/cell.h"
#include "harness/compare.h"
#include "harness/matrix.h"
#include "harness/options.h"
#include "harness/program.h"

int main(int argc, char **argv)
{
    hl_options o;
    char err[1024];
    if (hl_options_parse(argc, argv, &o, err, sizeof err) != 0) {
        fprintf(stderr, "bench: %s\n", err);
        return 2;
    }
    switch (o.mode) {
    case HL_MODE_HELP:
        hl_print_help("bench");
        return 0;
    case HL_MODE_LIST:
        hl_print_list();
        return 0;
    case HL_MODE_CELL:
        return hl_cell_main(&o);
    case HL_MODE_COMPARE: {
        const char *thresholds = o.thresholds;
        if (thresholds == NULL && access("results/baseline/thresholds.json", R_OK) == 0)
            thresholds = "results/baseline/thresholds.json";
        return hl_compare_main(o.paths[0], o.paths[1], thresholds, o.report, o.verbose,
                               o.require_same_cells);
    }
    case HL_MODE_EXPORT:
        return hl_export_action_main(o.paths[0], o.export_out);
    case HL_MODE_PROGRAM:
        return hl_program_main(&o, argc, argv);
    case HL_MODE_IDENTIFY:
        return hl_program_identify(&o);
    case HL_MODE_RUN:
        break;
    }
    return hl_matrix_main(&o, argc, argv);
}
