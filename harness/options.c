/*
 * options.c - `bench`'s command line: one table of options, getopt_long,
 * then validation against the registries.  Every error is one line naming
 * the flag, the bad value and what is valid.
 *
 * The table (option_table below) is the only place an option is declared:
 * getopt's array, --help, the repeat and scope checks, the arguments a
 * cell's child process is given and -- PROGRAM's refusals are all walked
 * from it (tests/test_options.c proves each).  Like mimalloc's options, a
 * row says everything: name, argument, help, how its value is parsed (a
 * typed field with its range, or a function), the modes it applies to and
 * how it is forwarded.
 *
 * No silent conflicts: nothing given on the command line is dropped or
 * overridden without a word.  Each option may be given once; a repeat with
 * the very same text is harmless and accepted, a repeat with other text is an
 * error (which of two values did the user mean?).  --param is the one flag
 * meant to repeat, and the rule holds per parameter NAME.  A text parameter
 * (a name some workload marks in text_params: --param trace=FILE) keeps its
 * text, which the workload's check_text validates here.  Flags that do not
 * go together, and parameter values that break an order the workload
 * declares (min <= max), are refused here, before any cell runs.
 */
#include "harness/options.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int bad(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int bad(char *err, size_t err_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
    return -1;
}

/* Parse a whole number in [min, max]; -1 with err naming `what` otherwise. */
static int parse_int(const char *what, const char *text, int64_t min, int64_t max, int64_t *out,
                     char *err, size_t err_len)
{
    char *end = NULL;
    errno = 0;
    if (text == NULL || *text == '\0')
        return bad(err, err_len, "%s: missing value; expected a whole number from %" PRId64
                   " to %" PRId64, what, min, max);
    long long v = strtoll(text, &end, 10);
    if (*end != '\0' || end == text)
        return bad(err, err_len, "%s: '%s' is not a whole number; expected %" PRId64 " to %" PRId64,
                   what, text, min, max);
    if (errno == ERANGE || v < min || v > max)
        return bad(err, err_len, "%s: %s is out of range; expected %" PRId64 " to %" PRId64, what,
                   text, min, max);
    *out = v;
    return 0;
}

/* "LO..HI": a parameter's valid range, as --list prints it and as every
 * message about a parameter value quotes it, so the two cannot disagree. */
static const char *param_range(const hl_param_spec *spec, char *buf, size_t len)
{
    snprintf(buf, len, "%" PRId64 "..%" PRId64, spec->min, spec->max);
    return buf;
}

/* The message for `value` outside spec's range on workload wl; `flag`
 * names where the value came from ("--param live", "--threads"). */
static int param_out_of_range(const char *flag, int64_t value, const hl_workload_ops *wl,
                              const hl_param_spec *spec, char *err, size_t err_len)
{
    char range[64];
    return bad(err, err_len, "%s=%" PRId64 ": out of range for workload %s; valid range %s (as "
               "--list shows)", flag, value, wl->name, param_range(spec, range, sizeof range));
}

/* "a, b, c" of every name in a registry, for error messages. */
typedef const char *(*name_at_fn)(size_t i, size_t *count);

static const char *allocator_name_at(size_t i, size_t *count)
{
    *count = hl_allocator_count();
    return i < *count ? hl_allocator_at(i)->name : NULL;
}

static const char *collector_name_at(size_t i, size_t *count)
{
    *count = hl_collector_count();
    return i < *count ? hl_collector_at(i)->name : NULL;
}

static const char *workload_name_at(size_t i, size_t *count)
{
    *count = hl_workload_count();
    return i < *count ? hl_workload_at(i)->name : NULL;
}

/* Append to buf[0..len) at *used, cutting what does not fit (the list of
 * valid values in a message may be long; it is never allowed to overflow). */
static void append(char *buf, size_t len, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void append(char *buf, size_t len, size_t *used, const char *fmt, ...)
{
    if (*used + 1 >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *used, len - *used, fmt, ap);
    va_end(ap);
    if (n > 0)
        *used = *used + (size_t)n < len ? *used + (size_t)n : len - 1;
}

static void join_names(name_at_fn name_at, char *buf, size_t len)
{
    size_t count = 0, used = 0;
    buf[0] = '\0';
    for (size_t i = 0; name_at(i, &count) != NULL; i++)
        append(buf, len, &used, "%s, ", name_at(i, &count));
    append(buf, len, &used, "all");
}

/* Split a comma list or "all" into registry indices.  `kind` names the flag
 * for messages.  Returns the count, or -1 with err set. */
static int parse_selection(const char *kind, const char *text, name_at_fn name_at,
                           size_t *picked, size_t max, int *is_all, char *err, size_t err_len)
{
    char valid[512];
    join_names(name_at, valid, sizeof valid);
    if (text == NULL || *text == '\0')
        return bad(err, err_len, "--%s: missing value; valid: %s", kind, valid);
    size_t count = 0, n = 0;
    *is_all = 0;
    if (strcmp(text, "all") == 0) {
        *is_all = 1;
        while (name_at(n, &count) != NULL && n < max) {
            picked[n] = n;
            n++;
        }
        return (int)n;
    }
    const char *p = text;
    while (1) {
        size_t len = strcspn(p, ",");
        if (len == 0)
            return bad(err, err_len, "--%s: empty name in '%s'; valid: %s", kind, text, valid);
        if (len == 3 && strncmp(p, "all", 3) == 0)
            return bad(err, err_len, "--%s: 'all' cannot be mixed with names in '%s'; give "
                       "either all or a list of: %.*s", kind, text,
                       (int)(strlen(valid) > 5 ? strlen(valid) - 5 : 0), valid);
        size_t found = SIZE_MAX;
        for (size_t i = 0; name_at(i, &count) != NULL; i++) {
            const char *name = name_at(i, &count);
            if (strlen(name) == len && strncmp(name, p, len) == 0)
                found = i;
        }
        if (found == SIZE_MAX)
            return bad(err, err_len, "--%s: unknown %s '%.*s'; valid: %s", kind, kind, (int)len, p,
                       valid);
        int dup = 0;
        for (size_t k = 0; k < n; k++)
            dup |= picked[k] == found;
        if (!dup) {
            if (n == max)
                return bad(err, err_len, "--%s: too many names", kind);
            picked[n++] = found;
        }
        if (p[len] == '\0')
            break;
        p += len + 1;
    }
    return (int)n;
}

/* --threads sweeps the "threads" parameter, so every selected workload must
 * have one (else the flag would silently do nothing for it), and every
 * count must lie in that parameter's range.  O(workloads x counts). */
static int validate_threads(const hl_options *o, char *err, size_t err_len)
{
    if (o->nthreads == 0)
        return 0;
    char without[512] = "", with[512] = "";
    size_t used_without = 0, used_with = 0;
    for (size_t i = 0; i < hl_workload_count(); i++)
        if (hl_workload_param_index(hl_workload_at(i), HL_THREADS_PARAM) >= 0)
            append(with, sizeof with, &used_with, "%s%s", used_with ? ", " : "",
                   hl_workload_at(i)->name);
    for (size_t w = 0; w < o->nworkloads; w++) {
        const hl_workload_ops *wl = o->workloads[w];
        int idx = hl_workload_param_index(wl, HL_THREADS_PARAM);
        if (idx < 0) {
            append(without, sizeof without, &used_without, "%s%s", used_without ? ", " : "",
                   wl->name);
            continue;
        }
        for (size_t t = 0; t < o->nthreads; t++)
            if (o->threads[t] < wl->params[idx].min || o->threads[t] > wl->params[idx].max)
                return param_out_of_range("--threads", o->threads[t], wl, &wl->params[idx], err,
                                          err_len);
    }
    if (used_without)
        return bad(err, err_len, "--threads: workload(s) %s have no threads parameter; workloads "
                   "with threads: %s", without, with);
    return 0;
}

/* Every order a selected workload declares (min <= max) must hold for the
 * values its cells would run with: defaults, --quick and --param together. */
static int validate_orders(const hl_options *o, char *err, size_t err_len)
{
    for (size_t w = 0; w < o->nworkloads; w++) {
        const hl_workload_ops *wl = o->workloads[w];
        int64_t values[HL_MAX_PARAMS];
        if (wl->nparams > HL_MAX_PARAMS)
            return bad(err, err_len, "workload %s has more than %d parameters", wl->name,
                       HL_MAX_PARAMS);
        hl_options_resolve_params(o, wl, values);
        const hl_param_order *broken = hl_workload_broken_order(wl, values);
        if (broken != NULL) {
            const hl_param_spec *lo = &wl->params[broken->lesser], *hi = &wl->params[broken->greater];
            return bad(err, err_len, "--param: %s=%" PRId64 " is larger than %s=%" PRId64 " for "
                       "workload %s; %s must not exceed %s", lo->name, values[broken->lesser],
                       hi->name, values[broken->greater], wl->name, lo->name, hi->name);
        }
    }
    return 0;
}

/* Check each --param against the selected workloads. */
static int validate_params(hl_options *o, char *err, size_t err_len)
{
    for (size_t k = 0; k < o->nparams; k++) {
        const char *name = o->params[k].name;
        int known = 0;
        char valid[512] = "";
        size_t used = 0;
        for (size_t w = 0; w < o->nworkloads; w++) {
            const hl_workload_ops *wl = o->workloads[w];
            int idx = hl_workload_param_index(wl, name);
            for (size_t i = 0; i < wl->nparams; i++)
                append(valid, sizeof valid, &used, "%s%s.%s", used ? ", " : "", wl->name,
                       wl->params[i].name);
            if (idx < 0)
                continue;
            known = 1;
            const hl_param_spec *spec = &wl->params[idx];
            char flag[96];
            snprintf(flag, sizeof flag, "--param %s", name);
            if (hl_param_is_text(wl, (size_t)idx)) {
                hl_error why = {{0}};
                if (wl->check_text != NULL && wl->check_text((size_t)idx, o->params[k].text, &why) != 0)
                    return bad(err, err_len, "%s=%s: %s", flag, o->params[k].text, why.msg);
                continue;
            }
            if (o->params[k].value < spec->min || o->params[k].value > spec->max)
                return param_out_of_range(flag, o->params[k].value, wl, spec, err, err_len);
        }
        if (!known)
            return bad(err, err_len, "--param: unknown parameter '%s' for the selected workloads; "
                       "valid: variant, %s", name, valid);
    }
    if (o->variant != NULL) {
        int known = 0;
        char valid[512] = "";
        size_t used = 0;
        for (size_t w = 0; w < o->nworkloads; w++) {
            known |= hl_workload_variant_index(o->workloads[w], o->variant) >= 0;
            for (size_t i = 0; i < o->workloads[w]->nvariants; i++)
                append(valid, sizeof valid, &used, "%s%s", used ? ", " : "",
                       o->workloads[w]->variants[i].name);
        }
        if (!known)
            return bad(err, err_len, "--param variant: unknown variant '%s' for the selected "
                       "workloads; valid: %s", o->variant, valid);
    }
    if (validate_threads(o, err, err_len) != 0)
        return -1;
    return validate_orders(o, err, err_len);
}

/* NAME=VALUE from --param. */
static int parse_param(hl_options *o, const char *text, char *err, size_t err_len)
{
    const char *eq = strchr(text, '=');
    if (eq == NULL || eq == text)
        return bad(err, err_len, "--param: '%s' is not NAME=VALUE (e.g. --param ops=100000)", text);
    size_t name_len = (size_t)(eq - text);
    if (name_len == 7 && strncmp(text, "variant", 7) == 0) {
        if (eq[1] == '\0')
            return bad(err, err_len, "--param variant: missing variant name");
        if (o->variant != NULL && strcmp(o->variant, eq + 1) != 0)
            return bad(err, err_len, "--param variant given twice with different values ('%s', "
                       "then '%s'); give it once", o->variant, eq + 1);
        o->variant = eq + 1;
        return 0;
    }
    if (o->nparams == HL_MAX_PARAMS)
        return bad(err, err_len, "--param: more than %d parameters", HL_MAX_PARAMS);
    char what[96];
    snprintf(what, sizeof what, "--param %.*s", (int)name_len, text);
    if (name_len >= sizeof o->params[0].name)
        return bad(err, err_len, "--param: parameter name '%.*s' is too long", (int)name_len, text);
    char name[sizeof o->params[0].name];
    memcpy(name, text, name_len);
    name[name_len] = '\0';
    int64_t value = 0; /* a text parameter keeps its text only */
    if (hl_param_name_is_text(name)) {
        if (eq[1] == '\0')
            return bad(err, err_len, "%s: missing value", what);
    } else if (parse_int(what, eq + 1, 0, INT64_MAX, &value, err, err_len) != 0) {
        return -1;
    }
    for (size_t k = 0; k < o->nparams; k++) {
        if (strcmp(o->params[k].name, name) != 0)
            continue;
        if (strcmp(o->params[k].text, eq + 1) != 0)
            return bad(err, err_len, "--param %s given twice with different values ('%s', then "
                       "'%s'); give it once", name, o->params[k].text, eq + 1);
        return 0;
    }
    memcpy(o->params[o->nparams].name, name, name_len + 1);
    o->params[o->nparams].value = value;
    o->params[o->nparams].text = eq + 1;
    o->nparams++;
    return 0;
}

/* A positive number up to max; `kind` names it in messages ("seconds"). */
static int parse_positive(const char *what, const char *text, const char *kind, double max,
                          double *out, char *err, size_t err_len)
{
    char *end = NULL;
    errno = 0;
    double v = text ? strtod(text, &end) : 0;
    if (text == NULL || *text == '\0' || *end != '\0' || errno == ERANGE || !isfinite(v) ||
        v <= 0 || v > max)
        return bad(err, err_len, "%s: '%s' is not a valid number of %s; expected more than 0 "
                   "and at most %g", what, text ? text : "", kind, max);
    *out = v;
    return 0;
}

/* A byte count: digits with an optional K, M or G suffix (powers of 1024). */
static int parse_bytes(const char *what, const char *text, int64_t min, int64_t *out, char *err,
                       size_t err_len)
{
    char *end = NULL;
    errno = 0;
    long long v = text && *text ? strtoll(text, &end, 10) : -1;
    int shift = 0;
    if (end != NULL && *end != '\0' && end[1] == '\0')
        shift = *end == 'K' || *end == 'k' ? 10 : *end == 'M' || *end == 'm' ? 20
              : *end == 'G' || *end == 'g' ? 30 : -1;
    if (text == NULL || *text == '\0' || end == text || errno == ERANGE || shift < 0 ||
        (shift == 0 && end != NULL && *end != '\0') || v < 0 || v > (INT64_MAX >> shift) ||
        (v << shift) < min)
        return bad(err, err_len, "%s: '%s' is not a byte count of at least %" PRId64 " (digits "
                   "with an optional K, M or G suffix)", what, text ? text : "", min);
    *out = (int64_t)v << shift;
    return 0;
}

/* "1,2,4": thread counts for threaded workloads.  Only the form is checked
 * here; each count is checked against the selected workloads' own threads
 * parameter (its range as --list shows it) by validate_threads. */
static int parse_threads(hl_options *o, const char *text, char *err, size_t err_len)
{
    const char *p = text;
    o->nthreads = 0;
    while (1) {
        size_t len = strcspn(p, ",");
        char part[32];
        if (len == 0 || len >= sizeof part || o->nthreads == HL_MAX_SELECTED)
            return bad(err, err_len, "--threads: '%s' is not a list of thread counts (e.g. "
                       "1,2,4)", text);
        memcpy(part, p, len);
        part[len] = '\0';
        char *end = NULL;
        errno = 0;
        long long v = strtoll(part, &end, 10);
        if (*end != '\0' || errno == ERANGE || v < 1)
            return bad(err, err_len, "--threads: '%s' is not a thread count: a whole number from "
                       "1 to the workload's threads range (as --list shows)", part);
        o->threads[o->nthreads] = v;
        o->nthreads++;
        if (p[len] == '\0')
            return 0;
        p += len + 1;
    }
}

/* "700,10,10": the generational collector's three thresholds. */
static int parse_thresholds(hl_options *o, const char *text, char *err, size_t err_len)
{
    char part[3][32];
    const char *p = text ? text : "";
    for (int g = 0; g < HL_GC_GENERATIONS; g++) {
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= sizeof part[g] || (g < 2 && p[len] != ',') || (g == 2 && p[len] != '\0'))
            return bad(err, err_len, "--gc-threshold: '%s' is not three whole numbers "
                       "A,B,C (CPython's are 700,10,10; 0 disables collection)", text ? text : "");
        memcpy(part[g], p, len);
        part[g][len] = '\0';
        p += len + (g < 2);
        char what[48];
        snprintf(what, sizeof what, "--gc-threshold (generation %d)", g);
        if (parse_int(what, part[g], 0, 1000000000, &o->gc.threshold[g], err, err_len) != 0)
            return -1;
    }
    return 0;
}

/* "1.25,1.5,2": --heap-sweep's multiples of the minimum heap, each at
 * least 1 and at most 100, ascending; no argument: 1.25,1.5,2,3,4,6. */
static int parse_heap_factors(hl_options *o, const char *text, char *err, size_t err_len)
{
    static const double defaults[] = {1.25, 1.5, 2, 3, 4, 6};
    o->heap_sweep = 1;
    o->nheap_factors = 0;
    if (text == NULL) {
        memcpy(o->heap_factors, defaults, sizeof defaults);
        o->nheap_factors = sizeof defaults / sizeof defaults[0];
        return 0;
    }
    const char *p = text;
    while (1) {
        size_t len = strcspn(p, ",");
        char part[32], *end = NULL;
        if (len == 0 || len >= sizeof part || o->nheap_factors == HL_MAX_HEAP_FACTORS)
            return bad(err, err_len, "--heap-sweep: '%s' is not a list of at most %d heap factors "
                       "(e.g. 1.25,1.5,2,3,4,6)", text, HL_MAX_HEAP_FACTORS);
        memcpy(part, p, len);
        part[len] = '\0';
        errno = 0;
        double v = strtod(part, &end);
        if (*end != '\0' || errno == ERANGE || !isfinite(v) || v < 1 || v > 100)
            return bad(err, err_len, "--heap-sweep: '%s' is not a heap factor: a number from 1 to "
                       "100, a multiple of the minimum heap (e.g. 1.25,1.5,2,3,4,6)", part);
        if (o->nheap_factors > 0 && v <= o->heap_factors[o->nheap_factors - 1])
            return bad(err, err_len, "--heap-sweep: factors must ascend, each once ('%s' after "
                       "%g); e.g. 1.25,1.5,2,3,4,6", part, o->heap_factors[o->nheap_factors - 1]);
        o->heap_factors[o->nheap_factors++] = v;
        if (p[len] == '\0')
            return 0;
        p += len + 1;
    }
}

/* --allocator, --collector or --workload (`kind`) from text. */
static int apply_selection(hl_options *o, const char *kind, const char *text, char *err,
                           size_t err_len)
{
    size_t picked[HL_MAX_SELECTED];
    int is_all = 0, n;
    if (strcmp(kind, "allocator") == 0) {
        n = parse_selection("allocator", text, allocator_name_at, picked, HL_MAX_SELECTED, &is_all,
                            err, err_len);
        for (int i = 0; i < n; i++)
            o->allocators[i] = hl_allocator_at(picked[i]);
        o->nallocators = n < 0 ? 0 : (size_t)n;
        o->allocators_all = is_all;
    } else if (strcmp(kind, "collector") == 0) {
        n = parse_selection("collector", text, collector_name_at, picked, HL_MAX_SELECTED, &is_all,
                            err, err_len);
        for (int i = 0; i < n; i++)
            o->collectors[i] = hl_collector_at(picked[i]);
        o->ncollectors = n < 0 ? 0 : (size_t)n;
        o->collectors_all = is_all;
    } else {
        n = parse_selection("workload", text, workload_name_at, picked, HL_MAX_SELECTED, &is_all,
                            err, err_len);
        for (int i = 0; i < n; i++)
            o->workloads[i] = hl_workload_at(picked[i]);
        o->nworkloads = n < 0 ? 0 : (size_t)n;
    }
    return n < 0 ? -1 : 0;
}

/* ------------------------------------------------------------ the table -- */

/* What bench does, as a bit per mode: the modes an option applies to.  An
 * option given where it does not apply is refused rather than silently
 * ignored (--seed with --compare, --report with a run).  -- PROGRAM refuses
 * the run options it cannot honour itself (refused_by_program), so they
 * are let through to it here. */
enum {
    IN_RUN = 1 << HL_MODE_RUN,
    IN_CELL = 1 << HL_MODE_CELL,
    IN_PROGRAM = 1 << HL_MODE_PROGRAM,
    IN_COMPARE = 1 << HL_MODE_COMPARE,
    IN_EXPORT = 1 << HL_MODE_EXPORT,
    IN_LIST = 1 << HL_MODE_LIST,
    IN_IDENTIFY = 1 << HL_MODE_IDENTIFY,
    IN_HELP = 1 << HL_MODE_HELP,
    IN_RUNS = IN_RUN | IN_CELL | IN_PROGRAM,
    IN_ALL = IN_RUNS | IN_COMPARE | IN_EXPORT | IN_LIST | IN_IDENTIFY | IN_HELP,
};

/* --help's headings, in the order it prints them; `note` is text printed
 * under the heading's options (for what is not an option: -- PROGRAM). */
enum { SEC_RUN, SEC_STRESS, SEC_SOAK, SEC_FAULTS, SEC_GC, SEC_OUTPUT, SEC_PROGRAM, SEC_COMPARE,
       SEC_OTHER, SEC_INTERNAL, SEC_COUNT };

static const struct {
    const char *title;
    const char *note;
} help_sections[SEC_COUNT] = {
    [SEC_RUN] = {NULL, NULL},
    [SEC_STRESS] = {"Stress:", NULL},
    [SEC_SOAK] = {"Soak:", NULL},
    [SEC_FAULTS] = {"Faults:", NULL},
    [SEC_GC] = {"The cycle collector:", NULL},
    [SEC_OUTPUT] = {"Output:", NULL},
    [SEC_PROGRAM] = {"A program instead of a workload:",
                     "  -- PROGRAM ARGS...  run PROGRAM under each system allocator (LD_PRELOAD) "
                     "instead\n"
                     "                      of a workload: time, peak RSS, faults, RSS over time\n"
                     "                      (docs/program.md); these do not apply to it:\n"},
    [SEC_COMPARE] = {"Regression check:", NULL},
    [SEC_OTHER] = {"Other:", NULL},
    [SEC_INTERNAL] = {"Internal (bench gives these to the processes it starts):", NULL},
};

static int set_help(hl_options *o, const char *arg, char *err, size_t err_len)
{
    (void)arg, (void)err, (void)err_len;
    o->mode = HL_MODE_HELP;
    return 0;
}

static int set_list(hl_options *o, const char *arg, char *err, size_t err_len)
{
    (void)arg, (void)err, (void)err_len;
    o->mode = HL_MODE_LIST;
    return 0;
}

static int set_compare(hl_options *o, const char *arg, char *err, size_t err_len)
{
    (void)arg, (void)err, (void)err_len;
    o->mode = HL_MODE_COMPARE;
    return 0;
}

static int set_identify(hl_options *o, const char *arg, char *err, size_t err_len)
{
    (void)arg, (void)err, (void)err_len;
    o->mode = HL_MODE_IDENTIFY;
    return 0;
}

/* --run-cell leaves another mode in place, so that the scope check names
 * the two that clash. */
static int set_run_cell(hl_options *o, const char *arg, char *err, size_t err_len)
{
    (void)arg, (void)err, (void)err_len;
    o->mode = o->mode == HL_MODE_RUN ? HL_MODE_CELL : o->mode;
    return 0;
}

static int set_export(hl_options *o, const char *arg, char *err, size_t err_len)
{
    if (arg[0] == '\0')
        return bad(err, err_len, "--export-action: missing file name");
    o->export_out = arg;
    o->mode = HL_MODE_EXPORT;
    return 0;
}

/* The stress workload under every strategy; --allocator and --collector
 * narrow it (--workload is refused).  Its given bit is all it leaves. */
static int set_stress(hl_options *o, const char *arg, char *err, size_t err_len)
{
    (void)o, (void)arg, (void)err, (void)err_len;
    return 0;
}

static int set_allocators(hl_options *o, const char *arg, char *err, size_t err_len)
{
    return apply_selection(o, "allocator", arg, err, err_len);
}

static int set_collectors(hl_options *o, const char *arg, char *err, size_t err_len)
{
    return apply_selection(o, "collector", arg, err, err_len);
}

static int set_workloads(hl_options *o, const char *arg, char *err, size_t err_len)
{
    return apply_selection(o, "workload", arg, err, err_len);
}

static int set_shuffle(hl_options *o, const char *arg, char *err, size_t err_len)
{
    int64_t v = 1;
    o->shuffle = 1;
    o->shuffle_seed = 1;
    if (arg != NULL && parse_int("--shuffle", arg, 0, INT64_MAX, &v, err, err_len) != 0)
        return -1;
    o->shuffle_seed = (uint64_t)v;
    return 0;
}

static int set_decorator(hl_options *o, const char *arg, char *err, size_t err_len)
{
    o->decorator = hl_decorator_find(arg);
    if (o->decorator == NULL)
        return bad(err, err_len, "--decorate: unknown decorator '%s'; valid: slow, leak, "
                   "corrupt (test-only)", arg);
    return 0;
}

static void format_decorator(const hl_options *o, char *buf, size_t len)
{
    snprintf(buf, len, "%s", o->decorator->name);
}

static int set_long_lived(hl_options *o, const char *arg, char *err, size_t err_len)
{
    if (strcmp(arg, "on") != 0 && strcmp(arg, "off") != 0)
        return bad(err, err_len, "--gc-long-lived: '%s' is not on or off", arg);
    o->gc.long_lived_rule = strcmp(arg, "on") == 0;
    return 0;
}

static void format_long_lived(const hl_options *o, char *buf, size_t len)
{
    snprintf(buf, len, "%s", o->gc.long_lived_rule ? "on" : "off");
}

static void format_thresholds(const hl_options *o, char *buf, size_t len)
{
    snprintf(buf, len, "%" PRId64 ",%" PRId64 ",%" PRId64, o->gc.threshold[0], o->gc.threshold[1],
             o->gc.threshold[2]);
}

#define FIELD(f) offsetof(hl_options, f), sizeof(((hl_options *)0)->f)

/* Every option, in the order getopt, the repeat check and the scope check
 * walk them (so that of two faults the same one is named as before); --help
 * groups them by section.  Unnamed fields are zero: no short name, usage
 * "--NAME", no field, applies to no mode, not forwarded. */
static const hl_option_spec option_table[] = {
    {.name = "help", .short_name = 'h', .argument = no_argument, .usage = "-h, --help",
     .help = "this text", .section = SEC_OTHER, .type = HL_OPT_CUSTOM, .parse = set_help,
     .modes = IN_ALL, .selects_mode = 1},
    {.name = "list", .argument = no_argument,
     .help = "every allocator, collector and workload, with availability", .section = SEC_OTHER,
     .type = HL_OPT_CUSTOM, .parse = set_list, .modes = IN_LIST, .selects_mode = 1},
    {.name = "allocator", .argument = required_argument, .usage = "--allocator=LIST",
     .help = "allocators: a name, a comma list or 'all' (default glibc)", .section = SEC_RUN,
     .type = HL_OPT_CUSTOM, .parse = set_allocators, .modes = IN_RUNS | IN_IDENTIFY,
     .forwarding = HL_FORWARD_RESOLVED},
    {.name = "collector", .argument = required_argument, .usage = "--collector=LIST",
     .help = "collectors (default: each workload's own)", .section = SEC_RUN,
     .type = HL_OPT_CUSTOM, .parse = set_collectors, .modes = IN_RUNS, .refused_by_program = 1,
     .forwarding = HL_FORWARD_RESOLVED},
    {.name = "workload", .argument = required_argument, .usage = "--workload=LIST",
     .help = "workloads (default churn)", .section = SEC_RUN, .type = HL_OPT_CUSTOM,
     .parse = set_workloads, .modes = IN_RUNS, .forwarding = HL_FORWARD_RESOLVED},
    {.name = "param", .argument = required_argument, .usage = "--param NAME=VALUE",
     .help = "set a workload parameter; 'variant=NAME' picks one variant\n"
             "(without it every variant runs as its own row)", .section = SEC_RUN,
     .type = HL_OPT_CUSTOM, .parse = parse_param, .modes = IN_RUNS, .repeats = 1,
     .forwarding = HL_FORWARD_RESOLVED},
    {.name = "quick", .argument = no_argument, .help = "small fixed sizes, for tests and CI",
     .section = SEC_RUN, .type = HL_OPT_FLAG, FIELD(quick), .modes = IN_RUNS,
     .refused_by_program = 1, .forwarding = HL_FORWARD_RESOLVED},
    {.name = "seed", .argument = required_argument, .usage = "--seed=N",
     .help = "seed of every random choice (default 1)", .section = SEC_RUN, .type = HL_OPT_UINT,
     FIELD(seed), .min = 0, .max = INT64_MAX, .modes = IN_RUNS, .forwarding = HL_FORWARD_COPY,
     .example = "7"},
    {.name = "repetitions", .argument = required_argument, .usage = "--repetitions=N",
     .help = "repetitions of each timed run, via Google Benchmark (default 1)",
     .section = SEC_RUN, .type = HL_OPT_INT, FIELD(repetitions), .min = 1, .max = 1000,
     .modes = IN_RUNS, .forwarding = HL_FORWARD_RESOLVED},
    {.name = "min-time", .argument = required_argument, .usage = "--min-time=SECONDS",
     .help = "let Google Benchmark choose the operation count (open-ended\n"
             "workloads only; others keep their fixed work)", .section = SEC_RUN,
     .type = HL_OPT_POSITIVE, FIELD(min_time), .max = 3600, .unit = "seconds",
     .modes = IN_RUNS, .refused_by_program = 1, .forwarding = HL_FORWARD_COPY,
     .example = "0.125"},
    {.name = "timeout", .argument = required_argument, .usage = "--timeout=SECONDS",
     .help = "kill a cell that runs longer (default 900)", .section = SEC_RUN,
     .type = HL_OPT_INT, FIELD(timeout_s), .min = 1, .max = 86400, .modes = IN_RUNS,
     .forwarding = HL_FORWARD_COPY, .example = "33"},
    {.name = "out", .argument = required_argument, .usage = "--out=DIR",
     .help = "where results go (default results/)", .section = SEC_OUTPUT, .type = HL_OPT_TEXT,
     FIELD(out_dir), .unit = "directory name", .modes = IN_RUNS,
     .forwarding = HL_FORWARD_RESOLVED},
    {.name = "run-cell", .argument = no_argument,
     .help = "run exactly one cell in this process (the matrix's child)",
     .section = SEC_INTERNAL, .type = HL_OPT_CUSTOM, .parse = set_run_cell, .modes = IN_CELL,
     .selects_mode = 1, .forwarding = HL_FORWARD_RESOLVED},
    {.name = "cell-out", .argument = required_argument, .usage = "--cell-out=FILE",
     .help = "where --run-cell writes its rows", .section = SEC_INTERNAL, .type = HL_OPT_TEXT,
     FIELD(cell_out), .modes = IN_CELL, .forwarding = HL_FORWARD_RESOLVED},
    {.name = "gc-threshold", .argument = required_argument, .usage = "--gc-threshold=A,B,C",
     .help = "the cycle collector's generation thresholds (default\n"
             "700,10,10 as CPython 3.11/3.12; 0 disables collection)", .section = SEC_GC,
     .type = HL_OPT_CUSTOM, FIELD(gc.threshold), .parse = parse_thresholds,
     .format = format_thresholds, .modes = IN_RUNS, .forwarding = HL_FORWARD_COPY,
     .example = "500,7,3"},
    {.name = "gc-long-lived", .argument = required_argument, .usage = "--gc-long-lived=on|off",
     .help = "skip full collections while long_lived_pending <\n"
             "long_lived_total / 4 (default on, as CPython)", .section = SEC_GC,
     .type = HL_OPT_CUSTOM, FIELD(gc.long_lived_rule), .parse = set_long_lived,
     .format = format_long_lived, .modes = IN_RUNS, .forwarding = HL_FORWARD_COPY,
     .example = "off"},
    {.name = "sample-hz", .argument = required_argument, .usage = "--sample-hz=N",
     .help = "memory samples per second during each cell (default 100)", .section = SEC_OUTPUT,
     .type = HL_OPT_POSITIVE, FIELD(sample_hz), .max = 10000, .unit = "samples per second",
     .modes = IN_RUNS, .forwarding = HL_FORWARD_COPY, .example = "250"},
    {.name = "program-stdout", .argument = required_argument, .usage = "--program-stdout=DIR",
     .help = "keep each run's stdout in DIR/ALLOCATOR-repN.stdout (default\n"
             "/dev/null), for checking what the program printed", .section = SEC_PROGRAM,
     .type = HL_OPT_TEXT, FIELD(program_stdout), .unit = "directory name", .modes = IN_PROGRAM},
    {.name = "compare", .argument = no_argument, .usage = "--compare BASELINE CURRENT",
     .help = "compare two results files or directories; exit 1 on\n"
             "a regression (deterministic figures gate hard; ns/op by a\n"
             "Mann-Whitney U test over >= 9 repetitions and a minimum effect);\n"
             "2 on bad input (also a --decorate'd baseline, or no cell in\n"
             "common); 3 when nothing could be judged", .section = SEC_COMPARE,
     .type = HL_OPT_CUSTOM, .parse = set_compare, .modes = IN_COMPARE, .selects_mode = 1},
    {.name = "thresholds", .argument = required_argument, .usage = "--thresholds=FILE",
     .help = "the gate's thresholds (default results/baseline/thresholds.json)",
     .section = SEC_COMPARE, .type = HL_OPT_TEXT, FIELD(thresholds), .unit = "file name",
     .modes = IN_COMPARE},
    {.name = "report", .argument = required_argument, .usage = "--report=FILE",
     .help = "also write the comparison as markdown", .section = SEC_COMPARE,
     .type = HL_OPT_TEXT, FIELD(report), .unit = "file name", .modes = IN_COMPARE},
    {.name = "export-action", .argument = required_argument,
     .usage = "--export-action=OUT RESULTS",
     .help = "write github-action-benchmark customSmallerIsBetter JSON", .section = SEC_COMPARE,
     .type = HL_OPT_CUSTOM, .parse = set_export, .modes = IN_EXPORT, .selects_mode = 1},
    {.name = "instructions", .argument = no_argument,
     .help = "count each cell's instructions under Callgrind (valgrind)\n"
             "instead of timing it: a deterministic figure for CI gates", .section = SEC_RUN,
     .type = HL_OPT_FLAG, FIELD(instructions), .modes = IN_RUNS, .refused_by_program = 1,
     .forwarding = HL_FORWARD_COPY, .example = ""},
    {.name = "decorate", .argument = required_argument, .usage = "--decorate=NAME",
     .help = "wrap the allocator in a test-only decorator (slow, leak) to\n"
             "prove that the regression check catches what it should", .section = SEC_OTHER,
     .type = HL_OPT_CUSTOM, FIELD(decorator), .parse = set_decorator,
     .format = format_decorator, .modes = IN_RUNS, .refused_by_program = 1,
     .forwarding = HL_FORWARD_COPY, .example = "slow"},
    {.name = "identify", .argument = no_argument,
     .help = "print the allocator's version as this process sees it", .section = SEC_INTERNAL,
     .type = HL_OPT_CUSTOM, .parse = set_identify, .modes = IN_IDENTIFY, .selects_mode = 1},
    {.name = "threads", .argument = required_argument, .usage = "--threads=LIST",
     .help = "thread counts to sweep for workloads with a threads parameter\n"
             "(e.g. 1,2,4); single-threaded allocators run at 1 only", .section = SEC_RUN,
     .type = HL_OPT_CUSTOM, .parse = parse_threads, .modes = IN_RUNS, .refused_by_program = 1,
     .forwarding = HL_FORWARD_RESOLVED},
    {.name = "shuffle", .argument = optional_argument, .usage = "--shuffle[=SEED]",
     .help = "run cells in a seeded random order, and with --repetitions\n"
             "interleave them: one process per repetition, round-robin", .section = SEC_RUN,
     .type = HL_OPT_CUSTOM, .parse = set_shuffle, .modes = IN_RUNS,
     .forwarding = HL_FORWARD_RESOLVED},
    {.name = "fail-alloc", .argument = required_argument, .usage = "--fail-alloc=N",
     .help = "the Nth allocation of each run fails", .section = SEC_FAULTS, .type = HL_OPT_INT,
     FIELD(fail_alloc), .min = 1, .max = INT64_MAX, .modes = IN_RUNS, .refused_by_program = 1,
     .forwarding = HL_FORWARD_COPY, .example = "1000"},
    {.name = "mem-limit", .argument = required_argument, .usage = "--mem-limit=BYTES",
     .help = "allocations past BYTES live fail (K, M, G suffixes)", .section = SEC_FAULTS,
     .type = HL_OPT_BYTES, FIELD(mem_limit), .min = 1, .modes = IN_RUNS,
     .refused_by_program = 1, .forwarding = HL_FORWARD_COPY, .example = "3M"},
    {.name = "rlimit-as", .argument = required_argument, .usage = "--rlimit-as=BYTES",
     .help = "the address-space limit (RLIMIT_AS) of each cell's process", .section = SEC_FAULTS,
     .type = HL_OPT_BYTES, FIELD(rlimit_as), .min = 16 << 20, .modes = IN_RUNS,
     .forwarding = HL_FORWARD_COPY, .example = "2G"},
    {.name = "duration", .argument = required_argument, .usage = "--duration=SECONDS",
     .help = "repeat each cell's workload on one allocator for SECONDS,\n"
             "sampling RSS and live bytes; report both slopes and fail a\n"
             "cell whose RSS grows more than its live bytes explain", .section = SEC_SOAK,
     .type = HL_OPT_POSITIVE, FIELD(duration), .max = 7 * 86400, .unit = "seconds",
     .modes = IN_RUNS, .refused_by_program = 1, .forwarding = HL_FORWARD_COPY,
     .example = "1.1"},
    {.name = "latency", .argument = no_argument,
     .help = "add a pass per cell that times each sampled alloc and free\n"
             "(rdtsc): p50 to p99.99 and max, apart for each (docs/metrics.md)",
     .section = SEC_RUN, .type = HL_OPT_FLAG, FIELD(latency), .modes = IN_RUNS,
     .refused_by_program = 1, .forwarding = HL_FORWARD_COPY, .example = ""},
    {.name = "heap-sweep", .argument = optional_argument, .usage = "--heap-sweep[=FACTORS]",
     .help = "time-space curves: find each workload's minimum heap under\n"
             "tracing and marksweep by bisection, run at FACTORS times it\n"
             "(default 1.25,1.5,2,3,4,6), and cycle over a ladder of\n"
             "thresholds (docs/heap-sweep.md)", .section = SEC_RUN,
     .type = HL_OPT_CUSTOM, .parse = parse_heap_factors, .modes = IN_RUN,
     .forwarding = HL_FORWARD_RESOLVED},
    {.name = "gc-heap-limit", .argument = required_argument, .usage = "--gc-heap-limit=BYTES",
     .help = "tracing's or marksweep's heap limit (--heap-sweep)",
     .section = SEC_INTERNAL, .type = HL_OPT_BYTES, FIELD(gc.heap_limit), .min = 1,
     .modes = IN_CELL, .forwarding = HL_FORWARD_RESOLVED},
    {.name = "stress", .argument = no_argument,
     .help = "the stress workload (long seeded random sequences, every\n"
             "block and object checked) under every allocator and\n"
             "collector; exits 1 on any corruption (see docs/stress.md)", .section = SEC_STRESS,
     .type = HL_OPT_CUSTOM, .parse = set_stress, .modes = IN_RUN,
     .forwarding = HL_FORWARD_RESOLVED},
    {.name = "record", .argument = required_argument, .usage = "--record=FILE",
     .help = "record the program's allocation calls into the trace FILE\n"
             "(runs it once, under glibc; replay the trace with\n"
             "--workload=replay --param trace=FILE; docs/replay.md)", .section = SEC_PROGRAM,
     .type = HL_OPT_TEXT, FIELD(record), .unit = "file name", .modes = IN_PROGRAM},
    {.name = "verbose", .argument = no_argument,
     .help = "show every check, not only regressions, improvements,\n"
             "changes, not-judged checks and notes", .section = SEC_COMPARE, .type = HL_OPT_FLAG,
     FIELD(verbose), .modes = IN_COMPARE},
    {.name = "require-same-cells", .argument = no_argument,
     .help = "a cell present on one side only is a regression (by\n"
             "default it is \"not compared\")", .section = SEC_COMPARE, .type = HL_OPT_FLAG,
     FIELD(require_same_cells), .modes = IN_COMPARE},
};

#define OPTION_COUNT (sizeof option_table / sizeof option_table[0])

_Static_assert(OPTION_COUNT <= 64, "hl_options.given holds a bit per option");

const hl_option_spec *hl_option_table(size_t *count)
{
    *count = OPTION_COUNT;
    return option_table;
}

void hl_option_getopt_table(struct option *out)
{
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        const hl_option_spec *s = &option_table[i];
        out[i] = (struct option){s->name, s->argument, NULL,
                                 s->short_name ? s->short_name : 256 + (int)i};
    }
    out[OPTION_COUNT] = (struct option){NULL, 0, NULL, 0};
}

/* The row getopt_long's return value c stands for, or -1 (':', '?'). */
static int option_row(int c)
{
    if (c >= 256 && c < 256 + (int)OPTION_COUNT)
        return c - 256;
    for (size_t i = 0; i < OPTION_COUNT; i++)
        if (option_table[i].short_name != 0 && option_table[i].short_name == c)
            return (int)i;
    return -1;
}

static int was_given(const hl_options *o, size_t row)
{
    return (o->given >> row) & 1;
}

/* The row named `name` (it is in the table: callers name their own rows). */
static size_t row_named(const char *name)
{
    size_t i = 0;
    while (i + 1 < OPTION_COUNT && strcmp(option_table[i].name, name) != 0)
        i++;
    return i;
}

/* Parse arg into row s's field of o, by its type.  -1 with err set. */
static int parse_row(const hl_option_spec *s, hl_options *o, const char *arg, char *err,
                     size_t err_len)
{
    char what[64];
    char *field = (char *)o + s->offset;
    int64_t v = 0;
    snprintf(what, sizeof what, "--%s", s->name);
    switch (s->type) {
    case HL_OPT_FLAG:
        *(int *)field = 1;
        return 0;
    case HL_OPT_INT:
        return parse_int(what, arg, s->min, s->max, (int64_t *)field, err, err_len);
    case HL_OPT_UINT:
        if (parse_int(what, arg, s->min, s->max, &v, err, err_len) != 0)
            return -1;
        *(uint64_t *)field = (uint64_t)v;
        return 0;
    case HL_OPT_POSITIVE:
        return parse_positive(what, arg, s->unit, (double)s->max, (double *)field, err, err_len);
    case HL_OPT_BYTES:
        return parse_bytes(what, arg, s->min, (int64_t *)field, err, err_len);
    case HL_OPT_TEXT:
        if (s->unit != NULL && arg[0] == '\0')
            return bad(err, err_len, "%s: missing %s", what, s->unit);
        *(const char **)field = arg;
        return 0;
    case HL_OPT_CUSTOM:
        return s->parse(o, arg, err, err_len);
    }
    return bad(err, err_len, "%s: no parser", what);
}

/* Row s's value in o as the text of its argument ("" for a flag). */
static void format_row(const hl_option_spec *s, const hl_options *o, char *buf, size_t len)
{
    const char *field = (const char *)o + s->offset;
    buf[0] = '\0';
    switch (s->type) {
    case HL_OPT_FLAG:
        break;
    case HL_OPT_INT:
    case HL_OPT_BYTES:
        snprintf(buf, len, "%" PRId64, *(const int64_t *)field);
        break;
    case HL_OPT_UINT:
        snprintf(buf, len, "%" PRIu64, *(const uint64_t *)field);
        break;
    case HL_OPT_POSITIVE: /* %.17g: the child parses back the very same double */
        snprintf(buf, len, "%.17g", *(const double *)field);
        break;
    case HL_OPT_TEXT:
        snprintf(buf, len, "%s", *(const char *const *)field);
        break;
    case HL_OPT_CUSTOM:
        if (s->format != NULL)
            s->format(o, buf, len);
        break;
    }
}

int hl_arglist_add(hl_arglist *l, const char *fmt, ...)
{
    if (l->argc >= HL_MAX_ARGS || l->used >= sizeof l->text)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(l->text + l->used, sizeof l->text - l->used, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof l->text - l->used)
        return -1;
    l->argv[l->argc++] = l->text + l->used;
    l->argv[l->argc] = NULL;
    l->used += (size_t)n + 1;
    return 0;
}

int hl_options_forward(const hl_options *o, hl_arglist *l)
{
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        const hl_option_spec *s = &option_table[i];
        if (s->forwarding != HL_FORWARD_COPY || !was_given(o, i))
            continue;
        char value[256];
        format_row(s, o, value, sizeof value);
        int rc = s->argument == no_argument ? hl_arglist_add(l, "--%s", s->name)
                                            : hl_arglist_add(l, "--%s=%s", s->name, value);
        if (rc != 0)
            return -1;
    }
    return 0;
}

const char *hl_options_program_refuses(const hl_options *o)
{
    for (size_t i = 0; i < OPTION_COUNT; i++)
        if (option_table[i].refused_by_program && was_given(o, i))
            return option_table[i].name;
    return NULL;
}

/* ------------------------------------------------------------ the checks -- */

/* The collectors --heap-sweep sweeps (a heap limit, or cycle's thresholds). */
static const char *const sweep_collectors[] = {"tracing", "marksweep", "cycle"};
#define SWEEP_COLLECTORS (sizeof sweep_collectors / sizeof sweep_collectors[0])

static int is_sweep_collector(const hl_collector_ops *c)
{
    for (size_t i = 0; i < SWEEP_COLLECTORS; i++)
        if (strcmp(c->name, sweep_collectors[i]) == 0)
            return 1;
    return 0;
}

/* --heap-sweep: refuse the flags it cannot go with (a counted or soak run
 * has no time to plot; it sets cycle's thresholds and the heap limit
 * itself), default the collectors to the three it sweeps, refuse any other,
 * and refuse a workload none of them runs (it would sweep nothing).
 * O(workloads x collectors). */
static int validate_heap_sweep(hl_options *o, char *err, size_t err_len)
{
    static const char *const clash[] = {"instructions", "duration", "gc-threshold", "mem-limit",
                                        "fail-alloc"};
    for (size_t i = 0; i < sizeof clash / sizeof clash[0]; i++)
        if (was_given(o, row_named(clash[i])))
            return bad(err, err_len, "--heap-sweep does not go with --%s: the sweep times each "
                       "point and sets the heap limit and cycle's thresholds itself", clash[i]);
    if (o->ncollectors == 0)
        for (size_t i = 0; i < SWEEP_COLLECTORS; i++)
            o->collectors[o->ncollectors++] = hl_collector_find(sweep_collectors[i]);
    for (size_t i = 0; i < o->ncollectors; i++)
        if (!is_sweep_collector(o->collectors[i]))
            return bad(err, err_len, "--heap-sweep: collector %s has no heap limit or threshold "
                       "to sweep; valid: tracing, marksweep, cycle", o->collectors[i]->name);
    for (size_t w = 0; w < o->nworkloads; w++) {
        int any = 0;
        for (size_t i = 0; i < o->ncollectors; i++)
            any |= hl_workload_supports(o->workloads[w], o->collectors[i]);
        if (!any) {
            char with[512] = "";
            size_t used = 0;
            for (size_t k = 0; k < hl_workload_count(); k++)
                for (size_t i = 0; i < o->ncollectors; i++)
                    if (hl_workload_supports(hl_workload_at(k), o->collectors[i])) {
                        append(with, sizeof with, &used, "%s%s", used ? ", " : "",
                               hl_workload_at(k)->name);
                        break;
                    }
            return bad(err, err_len, "--heap-sweep: workload %s runs under none of the swept "
                       "collectors; workloads that do: %s", o->workloads[w]->name, with);
        }
    }
    return 0;
}

/* The repeat rule for every option but --param (which keeps it per name):
 * the first time, remember the text given (NULL for a flag without a
 * value) and set the row's bit in o->given; a repeat with the same text is
 * accepted, one with other text is an error.  given[] holds each row's text. */
static int check_repeat(hl_options *o, size_t row, const char *text, const char **given,
                        char *err, size_t err_len)
{
    if (!was_given(o, row)) {
        o->given |= (uint64_t)1 << row;
        given[row] = text;
        return 0;
    }
    if ((text == NULL) == (given[row] == NULL) && (text == NULL || strcmp(text, given[row]) == 0))
        return 0;
    return bad(err, err_len, "--%s given twice with different values (%s%s%s, then %s%s%s); give "
               "it once", option_table[row].name, given[row] ? "'" : "", given[row] ? given[row]
               : "no value", given[row] ? "'" : "", text ? "'" : "", text ? text : "no value",
               text ? "'" : "");
}

/* How a mode is named in messages. */
static const char *mode_flag(hl_mode mode)
{
    switch (mode) {
    case HL_MODE_LIST: return "--list";
    case HL_MODE_COMPARE: return "--compare";
    case HL_MODE_EXPORT: return "--export-action";
    case HL_MODE_IDENTIFY: return "--identify";
    case HL_MODE_CELL: return "--run-cell";
    case HL_MODE_PROGRAM: return "-- PROGRAM";
    default: return "a run";
    }
}

/* "a run or -- PROGRAM": the modes in `modes`, for messages (--run-cell,
 * internal, is named only when it is the one). */
static void describe_modes(unsigned modes, char *buf, size_t len)
{
    static const hl_mode order[] = {HL_MODE_RUN, HL_MODE_PROGRAM, HL_MODE_COMPARE, HL_MODE_EXPORT,
                                    HL_MODE_LIST, HL_MODE_IDENTIFY, HL_MODE_CELL};
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        if (!(modes & (1u << order[i])) || (order[i] == HL_MODE_CELL && modes != IN_CELL))
            continue;
        int n = snprintf(buf + used, len - used, "%s%s", used ? " or " : "", mode_flag(order[i]));
        if (n < 0 || (size_t)n >= len - used)
            break;
        used += (size_t)n;
    }
}

/* Refuse two options that each choose what bench does (--list and
 * --compare, or either with -- PROGRAM), and an option given in a mode it
 * does not apply to, instead of letting the last one win or ignoring it.
 * (--help, which wins over everything, is settled before.)  O(options). */
static int check_scopes(const hl_options *o, char *err, size_t err_len)
{
    const hl_option_spec *chooser = NULL;
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        const hl_option_spec *s = &option_table[i];
        if (!was_given(o, i) || !s->selects_mode)
            continue;
        if (o->program != NULL)
            return bad(err, err_len, "--%s does not go with -- PROGRAM: each chooses what bench "
                       "does; give one", s->name);
        if (chooser != NULL)
            return bad(err, err_len, "--%s and --%s do not go together: each chooses what bench "
                       "does; give one", chooser->name, s->name);
        chooser = s;
    }
    for (size_t i = 0; i < OPTION_COUNT; i++)
        if (was_given(o, i) && !(option_table[i].modes & (1u << o->mode))) {
            char valid[160];
            describe_modes(option_table[i].modes, valid, sizeof valid);
            return bad(err, err_len, "--%s does not apply to %s; it goes with %s",
                       option_table[i].name, mode_flag(o->mode), valid);
        }
    return 0;
}

int hl_options_parse(int argc, char **argv, hl_options *o, char *err, size_t err_len)
{
    memset(o, 0, sizeof *o);
    o->mode = HL_MODE_RUN;
    o->seed = 1;
    o->repetitions = 1;
    o->timeout_s = 900;
    o->out_dir = "results";
    o->gc = hl_gc_default_config();
    o->sample_hz = 100;
    const char *given[OPTION_COUNT];
    struct option longopts[OPTION_COUNT + 1];
    char shortopts[2 + 2 * OPTION_COUNT] = ":";
    hl_option_getopt_table(longopts);
    for (size_t i = 0, k = 1; i < OPTION_COUNT; i++)
        if (option_table[i].short_name != 0) {
            shortopts[k++] = option_table[i].short_name;
            if (option_table[i].argument != no_argument)
                shortopts[k++] = ':';
        }

    for (int i = 1; i < argc; i++) { /* getopt sees only what precedes "--" */
        if (strcmp(argv[i], "--") == 0) {
            o->mode = HL_MODE_PROGRAM;
            o->program = argv + i + 1;
            o->nprogram = argc - i - 1;
            argc = i;
            break;
        }
    }
    opterr = 0; /* our own messages, one line each */
    optind = 0; /* 0, not 1: glibc then also forgets a half-parsed "-xy" */
    int c;
    while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        int row = option_row(c);
        if (c == ':')
            return bad(err, err_len, "%s: missing value (see --help)", argv[optind - 1]);
        if (row < 0) {
            if (optopt != 0 && optopt < 256)
                return bad(err, err_len, "unknown option '-%c'; see --help for the valid options",
                           optopt);
            return bad(err, err_len, "unknown option '%s'; see --help for the valid options",
                       argv[optind - 1]);
        }
        if (parse_row(&option_table[row], o, optarg, err, err_len) != 0)
            return -1;
        if (option_table[row].repeats) /* --param keeps its repeat rule per name */
            o->given |= (uint64_t)1 << row;
        else if (check_repeat(o, (size_t)row, optarg, given, err, err_len) != 0)
            return -1;
    }
    if (was_given(o, row_named("help"))) { /* --help wins over every other option */
        o->mode = HL_MODE_HELP;
        return 0;
    }
    int stress = was_given(o, row_named("stress"));
    int given_workload = was_given(o, row_named("workload"));
    int given_allocator = was_given(o, row_named("allocator"));
    if (stress && given_workload)
        return bad(err, err_len, "--stress runs the stress workload: it does not go with "
                   "--workload (narrow it with --allocator, --collector or --param variant=NAME)");
    if (stress && o->mode == HL_MODE_COMPARE)
        return bad(err, err_len, "--stress and --compare do not go together: --compare reads "
                   "results, it runs nothing");
    if (o->thresholds != NULL && o->mode != HL_MODE_COMPARE)
        return bad(err, err_len, "--thresholds applies to --compare only (the regression check's "
                   "thresholds file)");
    if (o->report != NULL && o->mode != HL_MODE_COMPARE)
        return bad(err, err_len, "--report applies to --compare only (the comparison written as "
                   "markdown)");
    if (check_scopes(o, err, err_len) != 0)
        return -1;
    if (o->mode == HL_MODE_COMPARE || o->mode == HL_MODE_EXPORT) {
        int want = o->mode == HL_MODE_COMPARE ? 2 : 1;
        if (argc - optind != want)
            return bad(err, err_len, o->mode == HL_MODE_COMPARE
                                         ? "--compare needs two paths: BASELINE CURRENT (results "
                                           "files or directories)"
                                         : "--export-action=OUT needs one path: the results file "
                                           "or directory to export");
        o->paths[0] = argv[optind];
        o->paths[1] = want == 2 ? argv[optind + 1] : NULL;
        return 0;
    }
    if (optind < argc)
        return bad(err, err_len, "unexpected argument '%s'; options take the form --name=value "
                   "(see --help)", argv[optind]);
    if (o->mode == HL_MODE_HELP || o->mode == HL_MODE_LIST)
        return 0;

    for (size_t i = 0; o->record != NULL && given_allocator && i < o->nallocators; i++)
        if (strcmp(o->allocators[i]->name, "glibc") != 0)
            return bad(err, err_len, "--record runs the program once, under glibc (the recorder "
                       "passes each call on to glibc's malloc): it does not go with --allocator=%s;"
                       " replay the trace under each allocator instead", o->allocators[i]->name);
    if (o->record != NULL && o->repetitions > 1)
        return bad(err, err_len, "--record runs the program once: it does not go with "
                   "--repetitions=%" PRId64, o->repetitions);
    if (o->mode == HL_MODE_PROGRAM && (given_workload || o->nparams || o->variant))
        return bad(err, err_len, "--workload and --param do not apply to -- PROGRAM: the program "
                   "is the workload");
    if (stress && !given_workload) {
        o->workloads[0] = hl_workload_find("stress");
        o->nworkloads = 1;
        given_workload = 1;
    }
    /* --stress tries every allocator and collector unless narrowed. */
    if (stress && !given_allocator) {
        if (apply_selection(o, "allocator", "all", err, err_len) != 0)
            return -1;
        given_allocator = 1;
    }
    if (stress && o->ncollectors == 0 && apply_selection(o, "collector", "all", err, err_len) != 0)
        return -1;
    if (!given_workload) {
        o->workloads[0] = hl_workload_at(0);
        o->nworkloads = 1;
    }
    if (!given_allocator) {
        o->allocators[0] = hl_allocator_find("glibc");
        o->nallocators = 1;
    }
    if (o->duration > 0 && o->instructions)
        return bad(err, err_len, "--duration and --instructions do not go together: a soak "
                   "measures memory over time, not instructions");
    if (o->latency && (o->instructions || o->duration > 0))
        return bad(err, err_len, "--latency does not go with %s: it adds a timed pass to a "
                   "timed run, and a %s has none", o->instructions ? "--instructions" : "--duration",
                   o->instructions ? "Callgrind count" : "soak");
    if (o->heap_sweep && validate_heap_sweep(o, err, err_len) != 0)
        return -1;
    if (o->mode == HL_MODE_CELL && (o->cell_out == NULL || o->nworkloads != 1 ||
                                    o->nallocators != 1 || o->ncollectors != 1))
        return bad(err, err_len, "--run-cell needs --cell-out and exactly one workload, allocator "
                   "and collector");
    return validate_params(o, err, err_len);
}

void hl_options_resolve_params(const hl_options *o, const hl_workload_ops *w, int64_t *values)
{
    for (size_t i = 0; i < w->nparams; i++) {
        values[i] = o->quick ? w->params[i].quick : w->params[i].def;
        for (size_t k = 0; k < o->nparams; k++)
            if (strcmp(o->params[k].name, w->params[i].name) == 0)
                values[i] = o->params[k].value;
    }
}

void hl_options_resolve_texts(const hl_options *o, const hl_workload_ops *w, const char **texts)
{
    for (size_t i = 0; i < w->nparams; i++) {
        texts[i] = NULL;
        for (size_t k = 0; k < o->nparams && hl_param_is_text(w, i); k++)
            if (strcmp(o->params[k].name, w->params[i].name) == 0)
                texts[i] = o->params[k].text;
    }
}

/* Row s's help: its usage in a column of 18, its text beside and below. */
static void write_option_help(FILE *f, const hl_option_spec *s)
{
    char usage[64];
    if (s->usage != NULL)
        snprintf(usage, sizeof usage, "%s", s->usage);
    else
        snprintf(usage, sizeof usage, "--%s", s->name);
    fprintf(f, strlen(usage) <= 18 ? "  %-18s  " : "  %s  ", usage);
    for (const char *line = s->help; *line != '\0';) {
        size_t len = strcspn(line, "\n");
        fprintf(f, "%s%.*s\n", line == s->help ? "" : "                      ", (int)len, line);
        line += len + (line[len] == '\n');
    }
}

/* The options -- PROGRAM refuses, wrapped in --help's right column. */
static void write_program_refusals(FILE *f)
{
    size_t column = 0;
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        if (!option_table[i].refused_by_program)
            continue;
        size_t len = strlen(option_table[i].name) + 3;
        if (column == 0 || column + len > 58) {
            fprintf(f, "%s                      ", column == 0 ? "" : "\n");
            column = 0;
        }
        fprintf(f, "%s--%s", column ? " " : "", option_table[i].name);
        column += len;
    }
    fprintf(f, "\n");
}

void hl_write_help(FILE *f, const char *prog)
{
    fprintf(f, "usage: %s [options]\n"
            "       %s [options] -- PROGRAM ARGS...\n"
            "\n"
            "Run heaplab workloads under allocator and collector strategies and measure\n"
            "throughput and memory.  Each cell (workload x variant x allocator x collector)\n"
            "runs in its own process; system allocators are brought in by LD_PRELOAD.\n",
            prog, prog);
    for (int sec = 0; sec < SEC_COUNT; sec++) {
        fprintf(f, "\n");
        if (help_sections[sec].title != NULL)
            fprintf(f, "%s\n", help_sections[sec].title);
        for (size_t i = 0; i < OPTION_COUNT; i++)
            if (option_table[i].section == sec)
                write_option_help(f, &option_table[i]);
        if (help_sections[sec].note != NULL)
            fputs(help_sections[sec].note, f);
        if (sec == SEC_PROGRAM)
            write_program_refusals(f);
    }
    fprintf(f, "\n"
            "Examples:\n"
            "  %s --allocator=pool --workload=churn\n"
            "  %s --allocator=all --quick\n"
            "  %s --allocator=glibc,mimalloc --param live=100000 --repetitions=5\n"
            "\n"
            "Exit status: 0 all cells ran; 1 a cell failed (the others are still written);\n"
            "2 bad command line.\n",
            prog, prog, prog);
}

void hl_print_help(const char *prog)
{
    hl_write_help(stdout, prog);
}

void hl_print_list(void)
{
    printf("allocators (--allocator=):\n");
    for (size_t i = 0; i < hl_allocator_count(); i++) {
        const hl_allocator_ops *a = hl_allocator_at(i);
        const char *why = a->unavailable ? a->unavailable() : NULL;
        printf("  %-10s %-11s %s%s%s%s\n", a->name, why ? "unavailable" : "available",
               a->description, a->flags & HL_ALLOC_THREAD_SAFE ? "" : " [single-threaded]",
               why ? "; " : "", why ? why : "");
        if (a->preload != NULL)
            printf("             preload: %s\n", a->preload);
    }
    printf("\ncollectors (--collector=):\n");
    for (size_t i = 0; i < hl_collector_count(); i++) {
        const hl_collector_ops *c = hl_collector_at(i);
        const char *why = c->unavailable ? c->unavailable() : NULL;
        printf("  %-10s %-11s %s%s%s\n", c->name, why ? "unavailable" : "available",
               c->description, why ? "; " : "", why ? why : "");
    }
    printf("\nworkloads (--workload=):\n");
    for (size_t i = 0; i < hl_workload_count(); i++) {
        const hl_workload_ops *w = hl_workload_at(i);
        printf("  %-10s %-11s %s\n", w->name, "available", w->description);
        printf("             collectors:");
        for (size_t k = 0; k < hl_collector_count(); k++) {
            const hl_collector_ops *c = hl_collector_at(k);
            if (hl_workload_supports(w, c))
                printf(" %s%s", c->name, strcmp(c->name, w->default_collector) == 0 ? " (default)" : "");
        }
        printf("\n             variants:");
        for (size_t k = 0; k < w->nvariants; k++)
            printf(" %s%s", w->variants[k].name, k + 1 < w->nvariants ? "," : "");
        printf("\n");
        for (size_t k = 0; k < w->nvariants; k++)
            printf("               %-12s %s\n", w->variants[k].name, w->variants[k].description);
        printf("             parameters (--param NAME=VALUE):\n");
        for (size_t k = 0; k < w->nparams; k++) {
            const hl_param_spec *p = &w->params[k];
            char range[64];
            if (hl_param_is_text(w, k))
                printf("               %-12s %s (text)\n", p->name, p->description);
            else
                printf("               %-12s %s (default %" PRId64 ", --quick %" PRId64 ", range %s)\n",
                       p->name, p->description, p->def, p->quick, param_range(p, range, sizeof range));
        }
        for (size_t k = 0; k < w->norders; k++)
            printf("             constraint: %s <= %s\n", w->params[w->orders[k].lesser].name,
                   w->params[w->orders[k].greater].name);
    }
}
