/*
 * fuzz_cli.c - libFuzzer target: `bench`'s command-line parser,
 * hl_options_parse (harness/options.c), on arbitrary argv.
 *
 * The input is split into words at NUL and newline bytes (at most
 * CLI_MAX_WORDS words of at most CLI_MAX_WORD bytes; longer ones are cut),
 * which become argv[1..] after a fixed argv[0].  Each word, the argv array
 * and the error buffer are separate exact-size heap blocks, so ASan sees any
 * read or write past one.  Checked, with a trap on any discrepancy:
 *   - the parser never crashes;
 *   - on -1 the error is one non-empty line: no '\n', NUL-terminated inside
 *     the buffer;
 *   - on 0 the options are consistent with their mode: a run selects at
 *     least one workload and one allocator, every selection and value lies
 *     in its registry or range, a cell names exactly one of each, compare
 *     and export carry their paths; hl_options_resolve_params then runs on
 *     every selected workload;
 *   - parsing is repeatable: the same argv parsed again, with an error
 *     buffer of CLI_SMALL_ERR bytes, gives the same result, and an error
 *     that is the first CLI_SMALL_ERR - 1 bytes of the first one.
 *
 * getopt keeps state between calls (glibc: the position inside a group of
 * short options).  The target resets it before each input, so that an input
 * means the same thing whatever ran before it; the second parse is not
 * reset, so state that hl_options_parse leaves behind shows as a mismatch
 * (it found one: resetting with optind = 1 leaves glibc inside a half-parsed
 * "-xy"; hl_options_parse now resets with optind = 0).
 */
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness/options.h"
#include "tests/fuzz/fuzz_input.h"

#define CLI_MAX_WORDS 48
#define CLI_MAX_WORD 256
#define CLI_ERR 1024 /* as harness/main.c */
#define CLI_SMALL_ERR 24

typedef struct cli_args {
    int argc;
    char *word[CLI_MAX_WORDS + 1]; /* word[0] is the program name */
} cli_args;

static char *copy_word(const uint8_t *p, size_t len)
{
    char *w = malloc(len + 1);
    FUZZ_CHECK(w != NULL);
    memcpy(w, p, len);
    w[len] = '\0';
    return w;
}

static void split_words(cli_args *a, const uint8_t *data, size_t size)
{
    a->argc = 0;
    a->word[a->argc++] = copy_word((const uint8_t *)"heaplab", 7);
    size_t start = 0;
    for (size_t i = 0; i <= size && a->argc < CLI_MAX_WORDS + 1; i++) {
        if (i < size && data[i] != '\0' && data[i] != '\n')
            continue;
        /* An empty input is no words; a trailing separator ends the last. */
        if (!(i == size && start == size)) {
            size_t len = i - start;
            a->word[a->argc++] = copy_word(data + start, len > CLI_MAX_WORD ? CLI_MAX_WORD : len);
        }
        start = i + 1;
    }
}

static void free_words(cli_args *a)
{
    for (int i = 0; i < a->argc; i++)
        free(a->word[i]);
}

/* A fresh argv array (getopt permutes it), NULL-terminated. */
static char **make_argv(const cli_args *a)
{
    char **argv = malloc(((size_t)a->argc + 1) * sizeof *argv);
    FUZZ_CHECK(argv != NULL);
    memcpy(argv, a->word, (size_t)a->argc * sizeof *argv);
    argv[a->argc] = NULL;
    return argv;
}

/* Forget what earlier getopt calls left behind: optind 0 makes glibc
 * reinitialise its state. */
static void getopt_reset(void)
{
    static char prog[] = "reset";
    char *argv[] = {prog, NULL};
    optind = 0;
    opterr = 0;
    while (getopt(1, argv, "") != -1)
        ;
}

/* ---------------------------------------------------------------- checks -- */

static void check_error(const char *err, size_t err_len)
{
    const char *end = memchr(err, '\0', err_len);
    FUZZ_CHECK(end != NULL);
    FUZZ_CHECK(end > err);
    FUZZ_CHECK(memchr(err, '\n', (size_t)(end - err)) == NULL);
}

static int in_allocators(const hl_allocator_ops *p)
{
    for (size_t i = 0; i < hl_allocator_count(); i++)
        if (hl_allocator_at(i) == p)
            return 1;
    return 0;
}

static int in_collectors(const hl_collector_ops *p)
{
    for (size_t i = 0; i < hl_collector_count(); i++)
        if (hl_collector_at(i) == p)
            return 1;
    return 0;
}

static int in_workloads(const hl_workload_ops *p)
{
    for (size_t i = 0; i < hl_workload_count(); i++)
        if (hl_workload_at(i) == p)
            return 1;
    return 0;
}

static void check_selection(const hl_options *o)
{
    FUZZ_CHECK(o->nworkloads <= HL_MAX_SELECTED && o->nallocators <= HL_MAX_SELECTED &&
               o->ncollectors <= HL_MAX_SELECTED && o->nparams <= HL_MAX_PARAMS);
    for (size_t i = 0; i < o->nworkloads; i++)
        FUZZ_CHECK(o->workloads[i] != NULL && in_workloads(o->workloads[i]));
    for (size_t i = 0; i < o->nallocators; i++)
        FUZZ_CHECK(o->allocators[i] != NULL && in_allocators(o->allocators[i]));
    for (size_t i = 0; i < o->ncollectors; i++)
        FUZZ_CHECK(o->collectors[i] != NULL && in_collectors(o->collectors[i]));
    for (size_t i = 0; i < o->nparams; i++) {
        FUZZ_CHECK(memchr(o->params[i].name, '\0', sizeof o->params[i].name) != NULL);
        FUZZ_CHECK(o->params[i].name[0] != '\0' && o->params[i].value >= 0);
    }
    for (size_t w = 0; w < o->nworkloads; w++) {
        size_t np = o->workloads[w]->nparams;
        int64_t *values = malloc((np ? np : 1) * sizeof *values);
        FUZZ_CHECK(values != NULL);
        hl_options_resolve_params(o, o->workloads[w], values);
        free(values);
    }
}

static void check_values(const hl_options *o)
{
    FUZZ_CHECK(o->repetitions >= 1 && o->repetitions <= 1000);
    FUZZ_CHECK(o->timeout_s >= 1 && o->timeout_s <= 86400);
    FUZZ_CHECK(o->min_time >= 0 && o->min_time <= 3600);
    FUZZ_CHECK(o->sample_hz > 0 && o->sample_hz <= 10000);
    for (int g = 0; g < HL_GC_GENERATIONS; g++)
        FUZZ_CHECK(o->gc.threshold[g] >= 0);
    FUZZ_CHECK(o->out_dir != NULL);
}

static void check_options(const hl_options *o)
{
    switch (o->mode) {
    case HL_MODE_RUN:
        FUZZ_CHECK(o->nworkloads >= 1 && o->nallocators >= 1);
        check_selection(o);
        check_values(o);
        break;
    case HL_MODE_CELL:
        FUZZ_CHECK(o->nworkloads == 1 && o->nallocators == 1 && o->ncollectors == 1);
        FUZZ_CHECK(o->cell_out != NULL);
        check_selection(o);
        check_values(o);
        break;
    case HL_MODE_COMPARE:
        FUZZ_CHECK(o->paths[0] != NULL && o->paths[1] != NULL);
        break;
    case HL_MODE_EXPORT:
        FUZZ_CHECK(o->paths[0] != NULL && o->paths[1] == NULL && o->export_out != NULL);
        break;
    default:
        /* Help, list, and modes newer than this target: nothing more is
         * promised about them here. */
        break;
    }
}

/* Two parses of one argv agree (pointers into argv compare equal: both
 * arrays hold the same words). */
static void check_same(const hl_options *a, const hl_options *b)
{
    FUZZ_CHECK(a->mode == b->mode);
    FUZZ_CHECK(a->nworkloads == b->nworkloads && a->nallocators == b->nallocators &&
               a->ncollectors == b->ncollectors && a->nparams == b->nparams);
    FUZZ_CHECK(memcmp(a->workloads, b->workloads, a->nworkloads * sizeof a->workloads[0]) == 0);
    FUZZ_CHECK(memcmp(a->allocators, b->allocators, a->nallocators * sizeof a->allocators[0]) == 0);
    FUZZ_CHECK(memcmp(a->collectors, b->collectors, a->ncollectors * sizeof a->collectors[0]) == 0);
    for (size_t i = 0; i < a->nparams; i++)
        FUZZ_CHECK(strcmp(a->params[i].name, b->params[i].name) == 0 &&
                   a->params[i].value == b->params[i].value);
    FUZZ_CHECK(a->variant == b->variant && a->out_dir == b->out_dir &&
               a->cell_out == b->cell_out && a->paths[0] == b->paths[0] &&
               a->paths[1] == b->paths[1] && a->thresholds == b->thresholds &&
               a->report == b->report && a->export_out == b->export_out);
    FUZZ_CHECK(a->quick == b->quick && a->seed == b->seed && a->repetitions == b->repetitions &&
               a->timeout_s == b->timeout_s && a->instructions == b->instructions &&
               a->decorator == b->decorator);
    FUZZ_CHECK(memcmp(&a->gc, &b->gc, sizeof a->gc) == 0);
}

/* ---------------------------------------------------------------- target -- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static cli_args args;
    static hl_options first, second;
    split_words(&args, data, size);
    getopt_reset();

    char **argv = make_argv(&args);
    char *err = malloc(CLI_ERR);
    FUZZ_CHECK(err != NULL);
    int rc = hl_options_parse(args.argc, argv, &first, err, CLI_ERR);
    FUZZ_CHECK(rc == 0 || rc == -1);
    if (rc == 0)
        check_options(&first);
    else
        check_error(err, CLI_ERR);

    char **argv2 = make_argv(&args);
    char *err2 = malloc(CLI_SMALL_ERR);
    FUZZ_CHECK(err2 != NULL);
    int rc2 = hl_options_parse(args.argc, argv2, &second, err2, CLI_SMALL_ERR);
    if (rc2 != rc || (rc != 0 && strncmp(err, err2, CLI_SMALL_ERR - 1) != 0))
        fprintf(stderr, "first parse: %d \"%s\"\nsecond parse: %d \"%s\"\n", rc,
                rc ? err : "", rc2, rc2 ? err2 : "");
    FUZZ_CHECK(rc2 == rc);
    if (rc == 0) {
        check_same(&first, &second);
    } else {
        check_error(err2, CLI_SMALL_ERR);
        FUZZ_CHECK(strncmp(err, err2, CLI_SMALL_ERR - 1) == 0);
    }

    free(err2);
    free(argv2);
    free(err);
    free(argv);
    free_words(&args);
    getopt_reset();
    return 0;
}
