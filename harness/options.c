/*
 * options.c - `bench`'s command line: getopt_long, then validation against
 * the registries.  Every error is one line naming the flag, the bad value
 * and what is valid.
 *
 * No silent conflicts: nothing given on the command line is dropped or
 * overridden without a word.  Each option may be given once; a repeat with
 * the very same text is harmless and accepted, a repeat with other text is an
 * error (which of two values did the user mean?).  --param is the one flag
 * meant to repeat, and the rule holds per parameter NAME.  Flags that do not
 * go together, and parameter values that break an order the workload
 * declares (min <= max), are refused here, before any cell runs.
 */
#include "harness/options.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_LIST = 256,
    OPT_ALLOCATOR,
    OPT_COLLECTOR,
    OPT_WORKLOAD,
    OPT_PARAM,
    OPT_QUICK,
    OPT_SEED,
    OPT_REPETITIONS,
    OPT_MIN_TIME,
    OPT_TIMEOUT,
    OPT_OUT,
    OPT_RUN_CELL,
    OPT_CELL_OUT,
    OPT_GC_THRESHOLD,
    OPT_GC_LONG_LIVED,
    OPT_SAMPLE_HZ,
    OPT_COMPARE,
    OPT_THRESHOLDS,
    OPT_REPORT,
    OPT_EXPORT_ACTION,
    OPT_INSTRUCTIONS,
    OPT_DECORATE,
    OPT_THREADS,
    OPT_SHUFFLE,
    OPT_FAIL_ALLOC,
    OPT_MEM_LIMIT,
    OPT_RLIMIT_AS,
    OPT_DURATION,
    OPT_STRESS,
    OPT_IDENTIFY,
    OPT_VERBOSE,
    OPT_REQUIRE_SAME_CELLS,
    OPT_END /* one past the last option code: the size of the repeat check's table */
};

static const struct option long_options[] = {
    {"help", no_argument, NULL, 'h'},
    {"list", no_argument, NULL, OPT_LIST},
    {"allocator", required_argument, NULL, OPT_ALLOCATOR},
    {"collector", required_argument, NULL, OPT_COLLECTOR},
    {"workload", required_argument, NULL, OPT_WORKLOAD},
    {"param", required_argument, NULL, OPT_PARAM},
    {"quick", no_argument, NULL, OPT_QUICK},
    {"seed", required_argument, NULL, OPT_SEED},
    {"repetitions", required_argument, NULL, OPT_REPETITIONS},
    {"min-time", required_argument, NULL, OPT_MIN_TIME},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"out", required_argument, NULL, OPT_OUT},
    {"run-cell", no_argument, NULL, OPT_RUN_CELL},
    {"cell-out", required_argument, NULL, OPT_CELL_OUT},
    {"gc-threshold", required_argument, NULL, OPT_GC_THRESHOLD},
    {"gc-long-lived", required_argument, NULL, OPT_GC_LONG_LIVED},
    {"sample-hz", required_argument, NULL, OPT_SAMPLE_HZ},
    {"compare", no_argument, NULL, OPT_COMPARE},
    {"thresholds", required_argument, NULL, OPT_THRESHOLDS},
    {"report", required_argument, NULL, OPT_REPORT},
    {"export-action", required_argument, NULL, OPT_EXPORT_ACTION},
    {"instructions", no_argument, NULL, OPT_INSTRUCTIONS},
    {"decorate", required_argument, NULL, OPT_DECORATE},
    {"identify", no_argument, NULL, OPT_IDENTIFY},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"shuffle", optional_argument, NULL, OPT_SHUFFLE},
    {"fail-alloc", required_argument, NULL, OPT_FAIL_ALLOC},
    {"mem-limit", required_argument, NULL, OPT_MEM_LIMIT},
    {"rlimit-as", required_argument, NULL, OPT_RLIMIT_AS},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"stress", no_argument, NULL, OPT_STRESS},
    {"verbose", no_argument, NULL, OPT_VERBOSE},
    {"require-same-cells", no_argument, NULL, OPT_REQUIRE_SAME_CELLS},
    {NULL, 0, NULL, 0},
};

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
    int64_t value;
    if (parse_int(what, eq + 1, 0, INT64_MAX, &value, err, err_len) != 0)
        return -1;
    if (name_len >= sizeof o->params[0].name)
        return bad(err, err_len, "--param: parameter name '%.*s' is too long", (int)name_len, text);
    char name[sizeof o->params[0].name];
    memcpy(name, text, name_len);
    name[name_len] = '\0';
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

static int apply_selection(hl_options *o, int which, const char *text, char *err, size_t err_len)
{
    size_t picked[HL_MAX_SELECTED];
    int is_all = 0, n;
    if (which == OPT_ALLOCATOR) {
        n = parse_selection("allocator", text, allocator_name_at, picked, HL_MAX_SELECTED, &is_all,
                            err, err_len);
        for (int i = 0; i < n; i++)
            o->allocators[i] = hl_allocator_at(picked[i]);
        o->nallocators = n < 0 ? 0 : (size_t)n;
        o->allocators_all = is_all;
    } else if (which == OPT_COLLECTOR) {
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

/* What bench does, as a bit per mode, and which modes each option applies
 * to.  An option given where it does not apply is refused rather than
 * silently ignored (--seed with --compare, --report with a run).  -- PROGRAM
 * refuses the run options it cannot honour itself (program.c), so they are
 * let through to it here. */
enum {
    IN_RUN = 1 << HL_MODE_RUN,
    IN_CELL = 1 << HL_MODE_CELL,
    IN_PROGRAM = 1 << HL_MODE_PROGRAM,
    IN_COMPARE = 1 << HL_MODE_COMPARE,
    IN_EXPORT = 1 << HL_MODE_EXPORT,
    IN_LIST = 1 << HL_MODE_LIST,
    IN_IDENTIFY = 1 << HL_MODE_IDENTIFY,
    IN_RUNS = IN_RUN | IN_CELL | IN_PROGRAM,
};

typedef struct option_scope {
    int code;
    unsigned modes;    /* the modes the option applies to */
    int selects_mode;  /* the option itself chooses what bench does */
} option_scope;

static const option_scope option_scopes[] = {
    {OPT_LIST, IN_LIST, 1},
    {OPT_COMPARE, IN_COMPARE, 1},
    {OPT_EXPORT_ACTION, IN_EXPORT, 1},
    {OPT_IDENTIFY, IN_IDENTIFY, 1},
    {OPT_RUN_CELL, IN_CELL, 1},
    {OPT_STRESS, IN_RUN, 0},
    {OPT_ALLOCATOR, IN_RUNS | IN_IDENTIFY, 0},
    {OPT_CELL_OUT, IN_CELL, 0},
    {OPT_THRESHOLDS, IN_COMPARE, 0},
    {OPT_REPORT, IN_COMPARE, 0},
    {OPT_VERBOSE, IN_COMPARE, 0},
    {OPT_REQUIRE_SAME_CELLS, IN_COMPARE, 0},
};

/* The modes option c applies to: its entry above, or every run mode. */
static const option_scope *option_scope_of(int c)
{
    static const option_scope runs = {0, IN_RUNS, 0};
    for (size_t i = 0; i < sizeof option_scopes / sizeof option_scopes[0]; i++)
        if (option_scopes[i].code == c)
            return &option_scopes[i];
    return &runs;
}

/* Option code c's place in the repeat check's record: --help first, then
 * the long options in code order. */
static size_t option_slot(int c)
{
    return c == 'h' ? 0 : (size_t)(c - OPT_LIST + 1);
}

/* The name of option code c, for messages ("seed" for OPT_SEED). */
static const char *option_name(int c)
{
    for (const struct option *opt = long_options; opt->name != NULL; opt++)
        if (opt->val == c)
            return opt->name;
    return "?";
}

/* The repeat rule for every option but --param (which keeps it per name):
 * the first time, remember the text given (NULL for a flag without a
 * value); a repeat with the same text is accepted, one with other text is
 * an error.  given[] holds each option's text, `seen` whether it was given. */
static int check_repeat(int c, const char *text, const char **given, unsigned char *seen,
                        char *err, size_t err_len)
{
    size_t slot = option_slot(c);
    if (!seen[slot]) {
        seen[slot] = 1;
        given[slot] = text;
        return 0;
    }
    if ((text == NULL) == (given[slot] == NULL) && (text == NULL || strcmp(text, given[slot]) == 0))
        return 0;
    return bad(err, err_len, "--%s given twice with different values (%s%s%s, then %s%s%s); give "
               "it once", option_name(c), given[slot] ? "'" : "", given[slot] ? given[slot]
               : "no value", given[slot] ? "'" : "", text ? "'" : "", text ? text : "no value",
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
 * (--help, which wins over everything, is settled before.)  `seen` is the
 * repeat check's record. */
static int check_scopes(const hl_options *o, const unsigned char *seen, char *err, size_t err_len)
{
    int chooser = 0;
    for (const struct option *opt = long_options; opt->name != NULL; opt++) {
        const option_scope *scope = option_scope_of(opt->val);
        if (!seen[option_slot(opt->val)] || !scope->selects_mode)
            continue;
        if (o->program != NULL)
            return bad(err, err_len, "--%s does not go with -- PROGRAM: each chooses what bench "
                       "does; give one", opt->name);
        if (chooser != 0)
            return bad(err, err_len, "--%s and --%s do not go together: each chooses what bench "
                       "does; give one", option_name(chooser), opt->name);
        chooser = opt->val;
    }
    for (const struct option *opt = long_options; opt->name != NULL; opt++)
        if (seen[option_slot(opt->val)] && !(option_scope_of(opt->val)->modes & (1u << o->mode)))
        {
            char valid[160];
            describe_modes(option_scope_of(opt->val)->modes, valid, sizeof valid);
            return bad(err, err_len, "--%s does not apply to %s; it goes with %s", opt->name,
                       mode_flag(o->mode), valid);
        }
    if (o->nparams > 0 && !(IN_RUNS & (1u << o->mode)))
        return bad(err, err_len, "--param does not apply to %s; it goes with a run",
                   mode_flag(o->mode));
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
    int given_workload = 0, given_allocator = 0, stress = 0;
    int64_t v;
    const char *given[OPT_END - OPT_LIST + 1];
    unsigned char seen[OPT_END - OPT_LIST + 1] = {0};

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
    while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
        int rc = 0;
        switch (c) {
        case 'h':
            o->mode = HL_MODE_HELP;
            break;
        case OPT_LIST:
            o->mode = HL_MODE_LIST;
            break;
        case OPT_ALLOCATOR:
        case OPT_COLLECTOR:
        case OPT_WORKLOAD:
            given_allocator |= c == OPT_ALLOCATOR;
            given_workload |= c == OPT_WORKLOAD;
            rc = apply_selection(o, c, optarg, err, err_len);
            break;
        case OPT_PARAM:
            rc = parse_param(o, optarg, err, err_len);
            break;
        case OPT_QUICK:
            o->quick = 1;
            break;
        case OPT_SEED:
            rc = parse_int("--seed", optarg, 0, INT64_MAX, &v, err, err_len);
            o->seed = (uint64_t)v;
            break;
        case OPT_REPETITIONS:
            rc = parse_int("--repetitions", optarg, 1, 1000, &o->repetitions, err, err_len);
            break;
        case OPT_MIN_TIME:
            rc = parse_positive("--min-time", optarg, "seconds", 3600, &o->min_time, err, err_len);
            break;
        case OPT_TIMEOUT:
            rc = parse_int("--timeout", optarg, 1, 86400, &o->timeout_s, err, err_len);
            break;
        case OPT_OUT:
            if (optarg[0] == '\0')
                rc = bad(err, err_len, "--out: missing directory name");
            o->out_dir = optarg;
            break;
        case OPT_RUN_CELL:
            o->mode = o->mode == HL_MODE_RUN ? HL_MODE_CELL : o->mode;
            break;
        case OPT_CELL_OUT:
            o->cell_out = optarg;
            break;
        case OPT_GC_THRESHOLD:
            rc = parse_thresholds(o, optarg, err, err_len);
            break;
        case OPT_SAMPLE_HZ:
            rc = parse_positive("--sample-hz", optarg, "samples per second", 10000, &o->sample_hz,
                                err, err_len);
            break;
        case OPT_FAIL_ALLOC:
            rc = parse_int("--fail-alloc", optarg, 1, INT64_MAX, &o->fail_alloc, err, err_len);
            break;
        case OPT_MEM_LIMIT:
            rc = parse_bytes("--mem-limit", optarg, 1, &o->mem_limit, err, err_len);
            break;
        case OPT_RLIMIT_AS:
            rc = parse_bytes("--rlimit-as", optarg, 16 << 20, &o->rlimit_as, err, err_len);
            break;
        case OPT_STRESS:
            /* The stress workload under every strategy; --allocator and
             * --collector narrow it (--workload is refused below). */
            stress = 1;
            break;
        case OPT_DURATION:
            rc = parse_positive("--duration", optarg, "seconds", 7 * 86400, &o->duration, err,
                                err_len);
            break;
        case OPT_THREADS:
            rc = parse_threads(o, optarg, err, err_len);
            break;
        case OPT_SHUFFLE:
            o->shuffle = 1;
            o->shuffle_seed = 1;
            if (optarg != NULL) {
                rc = parse_int("--shuffle", optarg, 0, INT64_MAX, &v, err, err_len);
                o->shuffle_seed = (uint64_t)v;
            }
            break;
        case OPT_DECORATE:
            o->decorator = hl_decorator_find(optarg);
            if (o->decorator == NULL)
                rc = bad(err, err_len, "--decorate: unknown decorator '%s'; valid: slow, leak, "
                         "corrupt (test-only)", optarg);
            break;
        case OPT_INSTRUCTIONS:
            o->instructions = 1;
            break;
        case OPT_IDENTIFY:
            o->mode = HL_MODE_IDENTIFY;
            break;
        case OPT_COMPARE:
            o->mode = HL_MODE_COMPARE;
            break;
        case OPT_VERBOSE:
            o->verbose = 1;
            break;
        case OPT_REQUIRE_SAME_CELLS:
            o->require_same_cells = 1;
            break;
        case OPT_THRESHOLDS:
        case OPT_REPORT:
        case OPT_EXPORT_ACTION:
            if (optarg[0] == '\0')
                rc = bad(err, err_len, "%s: missing file name", c == OPT_THRESHOLDS ? "--thresholds"
                         : c == OPT_REPORT ? "--report" : "--export-action");
            if (c == OPT_THRESHOLDS)
                o->thresholds = optarg;
            else if (c == OPT_REPORT)
                o->report = optarg;
            else {
                o->export_out = optarg;
                o->mode = HL_MODE_EXPORT;
            }
            break;
        case OPT_GC_LONG_LIVED:
            if (strcmp(optarg, "on") == 0 || strcmp(optarg, "off") == 0)
                o->gc.long_lived_rule = strcmp(optarg, "on") == 0;
            else
                rc = bad(err, err_len, "--gc-long-lived: '%s' is not on or off", optarg);
            break;
        case ':':
            rc = bad(err, err_len, "%s: missing value (see --help)", argv[optind - 1]);
            break;
        default:
            if (optopt != 0 && optopt < 256)
                rc = bad(err, err_len, "unknown option '-%c'; see --help for the valid options",
                         optopt);
            else
                rc = bad(err, err_len, "unknown option '%s'; see --help for the valid options",
                         argv[optind - 1]);
            break;
        }
        if (rc != 0)
            return -1;
        if (c != OPT_PARAM && c != ':' && c != '?' &&
            check_repeat(c, optarg, given, seen, err, err_len) != 0)
            return -1;
    }
    if (seen[option_slot('h')]) { /* --help wins over every other option */
        o->mode = HL_MODE_HELP;
        return 0;
    }
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
    if (check_scopes(o, seen, err, err_len) != 0)
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

    if (o->mode == HL_MODE_PROGRAM && (given_workload || o->nparams || o->variant))
        return bad(err, err_len, "--workload and --param do not apply to -- PROGRAM: the program "
                   "is the workload");
    if (stress && !given_workload) {
        o->workloads[0] = hl_workload_find("stress");
        o->nworkloads = 1;
        given_workload = 1;
    }
    if (stress && !given_allocator) {
        size_t count = hl_allocator_count();
        for (size_t i = 0; i < count && i < HL_MAX_SELECTED; i++)
            o->allocators[i] = hl_allocator_at(i);
        o->nallocators = count;
        o->allocators_all = 1;
        given_allocator = 1;
    }
    if (stress && o->ncollectors == 0) {
        size_t count = hl_collector_count();
        for (size_t i = 0; i < count && i < HL_MAX_SELECTED; i++)
            o->collectors[i] = hl_collector_at(i);
        o->ncollectors = count;
        o->collectors_all = 1;
    }
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

void hl_print_help(const char *prog)
{
    printf("usage: %s [options]\n"
           "\n"
           "Run heaplab workloads under allocator and collector strategies and measure\n"
           "throughput and memory.  Each cell (workload x variant x allocator x collector)\n"
           "runs in its own process; system allocators are brought in by LD_PRELOAD.\n"
           "\n"
           "  --allocator=LIST    allocators: a name, a comma list or 'all' (default glibc)\n"
           "  --collector=LIST    collectors (default: each workload's own)\n"
           "  --workload=LIST     workloads (default churn)\n"
           "  --param NAME=VALUE  set a workload parameter; 'variant=NAME' picks one variant\n"
           "                      (without it every variant runs as its own row)\n"
           "  --quick             small fixed sizes, for tests and CI\n"
           "  --seed=N            seed of every random choice (default 1)\n"
           "  --repetitions=N     repetitions of each timed run, via Google Benchmark (default 1)\n"
           "  --instructions      count each cell's instructions under Callgrind (valgrind)\n"
           "                      instead of timing it: a deterministic figure for CI gates\n"
           "  --min-time=SECONDS  let Google Benchmark choose the operation count (open-ended\n"
           "                      workloads only; others keep their fixed work)\n"
           "  --threads=LIST      thread counts to sweep for workloads with a threads parameter\n"
           "                      (e.g. 1,2,4); single-threaded allocators run at 1 only\n"
           "  --shuffle[=SEED]    run cells in a seeded random order, and with --repetitions\n"
           "                      interleave them: one process per repetition, round-robin\n"
           "  --timeout=SECONDS   kill a cell that runs longer (default 900)\n"
           "\n"
           "Stress:\n"
           "  --stress            the stress workload (long seeded random sequences, every\n"
           "                      block and object checked) under every allocator and\n"
           "                      collector; exits 1 on any corruption (see docs/stress.md)\n"
           "\n"
           "Soak:\n"
           "  --duration=SECONDS  repeat each cell's workload on one allocator for SECONDS,\n"
           "                      sampling RSS and live bytes; report both slopes and fail a\n"
           "                      cell whose RSS grows more than its live bytes explain\n"
           "\n"
           "Faults:\n"
           "  --fail-alloc=N      the Nth allocation of each run fails\n"
           "  --mem-limit=BYTES   allocations past BYTES live fail (K, M, G suffixes)\n"
           "  --rlimit-as=BYTES   the address-space limit (RLIMIT_AS) of each cell's process\n"
           "  --gc-threshold=A,B,C  the cycle collector's generation thresholds (default\n"
           "                      700,10,10 as CPython 3.11/3.12; 0 disables collection)\n"
           "  --gc-long-lived=on|off  skip full collections while long_lived_pending <\n"
           "                      long_lived_total / 4 (default on, as CPython)\n"
           "  --sample-hz=N       memory samples per second during each cell (default 100)\n"
           "  --out=DIR           where results go (default results/)\n"
           "  --list              every allocator, collector and workload, with availability\n"
           "  --decorate=NAME     wrap the allocator in a test-only decorator (slow, leak) to\n"
           "                      prove that the regression check catches what it should\n"
           "  -- PROGRAM ARGS...  run PROGRAM under each system allocator (LD_PRELOAD) instead\n"
           "                      of a workload: time, peak RSS, faults, RSS over time\n"
           "                      (docs/program.md)\n"
           "\n"
           "Regression check:\n"
           "  --compare BASELINE CURRENT   compare two results files or directories; exit 1 on\n"
           "                      a regression (deterministic figures gate hard; ns/op by a\n"
           "                      Mann-Whitney U test over >= 9 repetitions and a minimum effect);\n"
           "                      2 on bad input (also a --decorate'd baseline, or no cell in\n"
           "                      common); 3 when nothing could be judged\n"
           "  --thresholds=FILE   the gate's thresholds (default results/baseline/thresholds.json)\n"
           "  --report=FILE       also write the comparison as markdown\n"
           "  --verbose           show every check, not only regressions, improvements,\n"
           "                      changes, not-judged checks and notes\n"
           "  --require-same-cells  a cell present on one side only is a regression (by\n"
           "                      default it is \"not compared\")\n"
           "  --export-action=OUT RESULTS  write github-action-benchmark customSmallerIsBetter JSON\n"
           "  -h, --help          this text\n"
           "\n"
           "Examples:\n"
           "  %s --allocator=pool --workload=churn\n"
           "  %s --allocator=all --quick\n"
           "  %s --allocator=glibc,mimalloc --param live=100000 --repetitions=5\n"
           "\n"
           "Exit status: 0 all cells ran; 1 a cell failed (the others are still written);\n"
           "2 bad command line.\n",
           prog, prog, prog, prog);
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
            printf("               %-12s %s (default %" PRId64 ", --quick %" PRId64 ", range %s)\n",
                   p->name, p->description, p->def, p->quick, param_range(p, range, sizeof range));
        }
        for (size_t k = 0; k < w->norders; k++)
            printf("             constraint: %s <= %s\n", w->params[w->orders[k].lesser].name,
                   w->params[w->orders[k].greater].name);
    }
}
