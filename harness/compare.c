/*
 * compare.c - the regression check: `bench --compare BASELINE CURRENT`.
 *
 * Two kinds of figure, judged differently, because these machines are shared
 * and noisy:
 *
 *   deterministic  allocation and free counts, bytes allocated, live and
 *                  leaked bytes, collections and objects collected per
 *                  generation, checksums and Callgrind instruction counts:
 *                  the same build on the same inputs gives the same number
 *                  every time, so any change beyond the configured slack is
 *                  real and gates hard;
 *   timing         time per operation, judged over repetitions with a
 *                  two-sided Mann-Whitney U test AND a minimum effect size,
 *                  so that a regression is both statistically clear and big
 *                  enough to matter; with too few repetitions it is reported
 *                  but never gates.  The time judged is CPU time by
 *                  default (configurable): on a shared machine wall-clock
 *                  time also counts the time the process waited for a CPU,
 *                  which is the neighbours' doing, not the code's.
 *
 * Thresholds come from a committed JSON file (results/baseline/thresholds.json
 * unless --thresholds names another).  Baseline and current may each be a
 * results file or a directory of them (all *.json inside, merged).  Cells are
 * matched by run_name; a cell missing from the current run, or failed in it,
 * is a regression; a cell the current run was interrupted before finishing
 * (Ctrl-C, `timeout`) was not measured: it is "not judged", and counted in
 * the summary.  Environments that differ (CPU, kernel, compiler, build
 * type, allocator versions) are warned about, since then differences may be
 * the machine's.
 *
 * Output: a table per cell and metric (old, new, change, verdict) on stdout,
 * optionally the same as markdown (--report=FILE) for CI logs.  Exit status:
 * 0 no regression, 1 a regression, 2 bad input.
 */
#include "harness/compare.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "harness/results.h"
#include "harness/stats.h"

#define CMP_MAX_RULES 64
#define CMP_MAX_DOCS 256

/* One deterministic metric's rule. */
typedef struct cmp_rule {
    char metric[64];
    double max_increase_pct; /* allowed growth, percent of the baseline */
    double max_increase_abs; /* allowed growth, in the metric's unit */
    int must_equal;          /* any change at all is a regression (checksums) */
} cmp_rule;

typedef struct cmp_config {
    cmp_rule rules[CMP_MAX_RULES];
    size_t nrules;
    char time_key[32];      /* "cpu_time" or "real_time": the time judged */
    double alpha;           /* significance level of the timing test */
    double min_effect_pct;  /* smallest median change that counts */
    int min_repetitions;    /* fewer: timing is reported, never judged */
} cmp_config;

/* One cell's rows in one result set. */
typedef struct cmp_cell {
    const char *key;      /* run_name */
    const cJSON *first;   /* its first iteration row */
    double *times;        /* real_time of each repetition, ns */
    size_t ntimes;
    const char *error;    /* error_message when the cell failed */
    int interrupted;      /* the run was stopped before the cell finished */
} cmp_cell;

typedef struct cmp_set {
    const char *path;
    const char *time_key; /* which time of each repetition to keep */
    cJSON *docs[CMP_MAX_DOCS];
    size_t ndocs;
    cmp_cell *cells;
    size_t ncells;
} cmp_set;

/* ------------------------------------------------------------ loading -- */

static int cmp_fail(char *err, size_t err_len, const char *what)
{
    snprintf(err, err_len, "%s", what);
    return -1;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static cmp_cell *set_cell(cmp_set *set, const char *key)
{
    for (size_t i = 0; i < set->ncells; i++)
        if (strcmp(set->cells[i].key, key) == 0)
            return &set->cells[i];
    cmp_cell *cells = realloc(set->cells, (set->ncells + 1) * sizeof *cells);
    if (cells == NULL)
        return NULL;
    set->cells = cells;
    cmp_cell *c = &set->cells[set->ncells++];
    memset(c, 0, sizeof *c);
    c->key = key;
    return c;
}

/* Add the iteration rows of one document to the set. */
static int set_add_doc(cmp_set *set, cJSON *doc, const char *path, char *err, size_t err_len)
{
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(doc, "benchmarks");
    if (!cJSON_IsArray(rows)) {
        snprintf(err, err_len, "%s is not a results file (it has no \"benchmarks\" array)", path);
        return -1;
    }
    if (set->ndocs == CMP_MAX_DOCS)
        return cmp_fail(err, err_len, "too many results files");
    set->docs[set->ndocs++] = doc;
    const cJSON *row;
    cJSON_ArrayForEach(row, rows)
    {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(row, "run_type");
        const cJSON *key = cJSON_GetObjectItemCaseSensitive(row, "run_name");
        if (!cJSON_IsString(key))
            key = cJSON_GetObjectItemCaseSensitive(row, "name");
        if (!cJSON_IsString(key)) {
            snprintf(err, err_len, "%s: a benchmark entry has no name", path);
            return -1;
        }
        if (cJSON_IsString(type) && strcmp(type->valuestring, "iteration") != 0)
            continue;
        cmp_cell *c = set_cell(set, key->valuestring);
        if (c == NULL)
            return cmp_fail(err, err_len, "out of memory");
        const cJSON *error = cJSON_GetObjectItemCaseSensitive(row, "error_message");
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(row, "error_occurred"))) {
            c->error = cJSON_IsString(error) ? error->valuestring : "failed";
            c->interrupted |= cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(row, "interrupted"));
            continue;
        }
        if (c->first == NULL)
            c->first = row;
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(row, set->time_key);
        if (cJSON_IsNumber(t)) {
            double *times = realloc(c->times, (c->ntimes + 1) * sizeof *times);
            if (times == NULL)
                return cmp_fail(err, err_len, "out of memory");
            c->times = times;
            c->times[c->ntimes++] = t->valuedouble;
        }
    }
    return 0;
}

static int set_add_file(cmp_set *set, const char *path, char *err, size_t err_len)
{
    cJSON *doc = hl_read_json_file(path, err, err_len);
    if (doc == NULL)
        return -1;
    if (set_add_doc(set, doc, path, err, err_len) != 0) {
        if (set->ndocs == 0 || set->docs[set->ndocs - 1] != doc)
            cJSON_Delete(doc);
        return -1;
    }
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A results file, or every results file in a directory; keep each
 * repetition's `time_key`. */
static int set_load(cmp_set *set, const char *path, const char *time_key, char *err,
                    size_t err_len)
{
    struct stat st;
    memset(set, 0, sizeof *set);
    set->path = path;
    set->time_key = time_key;
    if (stat(path, &st) != 0) {
        snprintf(err, err_len, "cannot read %s: no such file or directory", path);
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return set_add_file(set, path, err, err_len);
    DIR *dir = opendir(path);
    if (dir == NULL) {
        snprintf(err, err_len, "cannot read directory %s", path);
        return -1;
    }
    char *names[CMP_MAX_DOCS];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL && n < CMP_MAX_DOCS)
        if (e->d_name[0] != '.' && ends_with(e->d_name, ".json") &&
            strcmp(e->d_name, "thresholds.json") != 0)
            names[n++] = strdup(e->d_name);
    closedir(dir);
    qsort(names, n, sizeof *names, by_name);
    int rc = n ? 0 : -1;
    if (n == 0)
        snprintf(err, err_len, "%s holds no results files (*.json)", path);
    for (size_t i = 0; i < n; i++) {
        char file[4096];
        snprintf(file, sizeof file, "%s/%s", path, names[i]);
        if (rc == 0 && names[i] != NULL)
            rc = set_add_file(set, file, err, err_len);
        free(names[i]);
    }
    return rc;
}

static void set_free(cmp_set *set)
{
    for (size_t i = 0; i < set->ncells; i++)
        free(set->cells[i].times);
    free(set->cells);
    for (size_t i = 0; i < set->ndocs; i++)
        cJSON_Delete(set->docs[i]);
    memset(set, 0, sizeof *set);
}

/* ------------------------------------------------------ configuration -- */

static void config_defaults(cmp_config *cfg)
{
    static const char *const exact[] = {
        "allocs", "frees", "reallocs", "bytes_allocated", "objects_allocated",
        "gc_collections_gen0", "gc_collections_gen1", "gc_collections_gen2",
    };
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
        snprintf(cfg->rules[cfg->nrules++].metric, sizeof cfg->rules[0].metric, "%s", exact[i]);
    snprintf(cfg->rules[cfg->nrules].metric, 64, "checksum");
    cfg->rules[cfg->nrules++].must_equal = 1;
    snprintf(cfg->rules[cfg->nrules].metric, 64, "live_peak");
    cfg->rules[cfg->nrules++].max_increase_pct = 1;
    snprintf(cfg->rules[cfg->nrules++].metric, 64, "leaked_bytes");
    snprintf(cfg->rules[cfg->nrules].metric, 64, "instructions");
    cfg->rules[cfg->nrules++].max_increase_pct = 2;
    snprintf(cfg->time_key, sizeof cfg->time_key, "cpu_time");
    cfg->alpha = 0.01;
    cfg->min_effect_pct = 5;
    cfg->min_repetitions = 9;
}

static int config_number(const cJSON *obj, const char *key, double *out, const char *path,
                         char *err, size_t err_len)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (v == NULL)
        return 0;
    if (!cJSON_IsNumber(v) || v->valuedouble < 0) {
        snprintf(err, err_len, "%s: \"%s\" must be a number >= 0", path, key);
        return -1;
    }
    *out = v->valuedouble;
    return 0;
}

/* Read the thresholds file: {"deterministic": {METRIC: {"max_increase_pct":
 * P, "max_increase_abs": A, "equal": true}}, "timing": {"alpha": ...,
 * "min_effect_pct": ..., "min_repetitions": ...}}. */
static int config_load(cmp_config *cfg, const char *path, char *err, size_t err_len)
{
    config_defaults(cfg);
    if (path == NULL)
        return 0;
    cJSON *doc = hl_read_json_file(path, err, err_len);
    if (doc == NULL)
        return -1;
    int rc = 0;
    const cJSON *det = cJSON_GetObjectItemCaseSensitive(doc, "deterministic");
    const cJSON *timing = cJSON_GetObjectItemCaseSensitive(doc, "timing");
    const cJSON *item;
    cJSON_ArrayForEach(item, doc)
    {
        if (strcmp(item->string, "deterministic") != 0 && strcmp(item->string, "timing") != 0 &&
            item->string[0] != '_') {
            snprintf(err, err_len, "%s: unknown key \"%s\"; valid: deterministic, timing", path,
                     item->string);
            rc = -1;
        }
    }
    if (rc == 0 && det != NULL) {
        cfg->nrules = 0;
        cJSON_ArrayForEach(item, det)
        {
            if (cfg->nrules == CMP_MAX_RULES || !cJSON_IsObject(item)) {
                snprintf(err, err_len, "%s: deterministic.%s must be an object", path,
                         item->string);
                rc = -1;
                break;
            }
            cmp_rule *r = &cfg->rules[cfg->nrules++];
            memset(r, 0, sizeof *r);
            snprintf(r->metric, sizeof r->metric, "%s", item->string);
            r->must_equal = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(item, "equal"));
            if (config_number(item, "max_increase_pct", &r->max_increase_pct, path, err,
                              err_len) != 0 ||
                config_number(item, "max_increase_abs", &r->max_increase_abs, path, err,
                              err_len) != 0) {
                rc = -1;
                break;
            }
        }
    }
    const cJSON *metric = cJSON_GetObjectItemCaseSensitive(timing, "metric");
    if (rc == 0 && metric != NULL) {
        if (cJSON_IsString(metric) && (strcmp(metric->valuestring, "cpu_time") == 0 ||
                                       strcmp(metric->valuestring, "real_time") == 0)) {
            snprintf(cfg->time_key, sizeof cfg->time_key, "%s", metric->valuestring);
        } else {
            snprintf(err, err_len, "%s: timing.metric must be \"cpu_time\" or \"real_time\"", path);
            rc = -1;
        }
    }
    double reps = cfg->min_repetitions;
    if (rc == 0 && timing != NULL &&
        (config_number(timing, "alpha", &cfg->alpha, path, err, err_len) != 0 ||
         config_number(timing, "min_effect_pct", &cfg->min_effect_pct, path, err, err_len) != 0 ||
         config_number(timing, "min_repetitions", &reps, path, err, err_len) != 0))
        rc = -1;
    cfg->min_repetitions = (int)reps;
    cJSON_Delete(doc);
    return rc;
}

/* ---------------------------------------------------------- reporting -- */

typedef enum verdict { V_OK, V_IMPROVED, V_REGRESSION, V_NOT_JUDGED, V_NOTE } verdict;

static const char *const verdict_names[] = {"ok", "improved", "REGRESSION", "not judged", "note"};

typedef struct report {
    FILE *md; /* markdown report, or NULL */
    int env_differs; /* CPU, compiler or OS differ: instruction counts are not comparable */
    size_t regressions, improvements, compared;
    size_t interrupted; /* cells the current run was stopped before finishing */
} report;

static void report_line(report *r, const char *cell, const char *metric, const char *old,
                        const char *new_, const char *change, verdict v, const char *why)
{
    printf("%-58s %-22s %14s %14s %9s  %s%s%s\n", cell, metric, old, new_, change,
           verdict_names[v], why[0] ? ": " : "", why);
    if (r->md != NULL)
        fprintf(r->md, "| `%s` | %s | %s | %s | %s | %s%s%s |\n", cell, metric, old, new_, change,
                v == V_REGRESSION ? "**REGRESSION**" : verdict_names[v], why[0] ? ": " : "",
                why);
    r->regressions += v == V_REGRESSION;
    r->improvements += v == V_IMPROVED;
}

static void format_value(char *buf, size_t len, const cJSON *v)
{
    if (v == NULL)
        snprintf(buf, len, "-");
    else if (cJSON_IsString(v))
        snprintf(buf, len, "%.14s", v->valuestring);
    else if (fabs(v->valuedouble) >= 1e6 || v->valuedouble == (double)(long long)v->valuedouble)
        snprintf(buf, len, "%.0f", v->valuedouble);
    else
        snprintf(buf, len, "%.4g", v->valuedouble);
}

static void format_change(char *buf, size_t len, double old, double new_)
{
    if (old == new_)
        snprintf(buf, len, "0%%");
    else if (old == 0)
        snprintf(buf, len, "new");
    else
        snprintf(buf, len, "%+.2f%%", (new_ - old) / fabs(old) * 100);
}

/* Judge one deterministic metric of one cell. */
static void judge_rule(report *r, const char *cell, const cmp_rule *rule, const cJSON *old_row,
                       const cJSON *new_row)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(old_row, rule->metric);
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(new_row, rule->metric);
    if (a == NULL && b == NULL)
        return;
    char old[64], new_[64], change[32] = "";
    format_value(old, sizeof old, a);
    format_value(new_, sizeof new_, b);
    if (a == NULL || b == NULL) {
        report_line(r, cell, rule->metric, old, new_, "", V_NOTE,
                    a == NULL ? "not in the baseline" : "no longer measured");
        return;
    }
    if (rule->must_equal || cJSON_IsString(a) || cJSON_IsString(b)) {
        int same = cJSON_Compare(a, b, 1);
        report_line(r, cell, rule->metric, old, new_, same ? "same" : "changed",
                    same ? V_OK : V_REGRESSION, same ? "" : "the run did different work");
        return;
    }
    double x = a->valuedouble, y = b->valuedouble;
    format_change(change, sizeof change, x, y);
    if (r->env_differs && strncmp(rule->metric, "instructions", 12) == 0) {
        /* The same code counts differently on another CPU (the C library
         * picks its string functions by CPU features) or compiler. */
        report_line(r, cell, rule->metric, old, new_, change, V_NOT_JUDGED,
                    "environments differ");
        return;
    }
    double limit = x + fabs(x) * rule->max_increase_pct / 100 + rule->max_increase_abs;
    char why[96] = "";
    verdict v = V_OK;
    if (y > limit) {
        v = V_REGRESSION;
        snprintf(why, sizeof why, "allowed up to %.6g", limit);
    } else if (y < x - (limit - x)) {
        v = V_IMPROVED; /* by more than the slack that a regression is allowed */
    }
    report_line(r, cell, rule->metric, old, new_, change, v, why);
}

/* Judge wall-clock time per operation over the repetitions. */
static void judge_timing(report *r, const char *cell, const cmp_config *cfg, const cmp_cell *a,
                         const cmp_cell *b)
{
    if (a->ntimes == 0 || b->ntimes == 0)
        return;
    double *x = malloc(a->ntimes * sizeof *x), *y = malloc(b->ntimes * sizeof *y);
    if (x == NULL || y == NULL) {
        free(x);
        free(y);
        return;
    }
    memcpy(x, a->times, a->ntimes * sizeof *x);
    memcpy(y, b->times, b->ntimes * sizeof *y);
    double p = hl_mann_whitney_p(x, a->ntimes, y, b->ntimes);
    double mx = hl_median(x, a->ntimes), my = hl_median(y, b->ntimes);
    free(x);
    free(y);
    char old[64], new_[64], change[32], why[160];
    snprintf(old, sizeof old, "%.3f", mx);
    snprintf(new_, sizeof new_, "%.3f", my);
    format_change(change, sizeof change, mx, my);
    double effect = mx > 0 ? (my - mx) / mx * 100 : 0;
    verdict v = V_OK;
    if ((int)a->ntimes < cfg->min_repetitions || (int)b->ntimes < cfg->min_repetitions) {
        v = V_NOT_JUDGED;
        snprintf(why, sizeof why, "%zu and %zu repetitions; %d needed", a->ntimes, b->ntimes,
                 cfg->min_repetitions);
    } else {
        snprintf(why, sizeof why, "Mann-Whitney p=%.3g over %zu+%zu repetitions", p, a->ntimes,
                 b->ntimes);
        if (p < cfg->alpha && effect > cfg->min_effect_pct)
            v = V_REGRESSION;
        else if (p < cfg->alpha && effect < -cfg->min_effect_pct)
            v = V_IMPROVED;
    }
    char metric[48];
    snprintf(metric, sizeof metric, "%s/op (median)", cfg->time_key);
    report_line(r, cell, metric, old, new_, change, v, why);
}

/* Warn when the two runs were measured in different environments. */
static void warn_environment(const cmp_set *a, const cmp_set *b, report *r)
{
    /* The first four change instruction paths; the rest only memory and time. */
    static const char *const keys[] = {"cpu_model", "compiler", "heaplab_build_type",
                                       "debian_version", "kernel", "transparent_hugepages"};
    const cJSON *ca = cJSON_GetObjectItemCaseSensitive(a->docs[0], "context");
    const cJSON *cb = cJSON_GetObjectItemCaseSensitive(b->docs[0], "context");
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(ca, keys[i]);
        const cJSON *y = cJSON_GetObjectItemCaseSensitive(cb, keys[i]);
        if (cJSON_IsString(x) && cJSON_IsString(y) && strcmp(x->valuestring, y->valuestring) != 0) {
            printf("warning: environments differ: %s '%s' vs '%s'\n", keys[i], x->valuestring,
                   y->valuestring);
            r->env_differs |= i < 4;
            if (r->md != NULL)
                fprintf(r->md, "> warning: environments differ: %s `%s` vs `%s`\n\n", keys[i],
                        x->valuestring, y->valuestring);
        }
    }
    for (size_t i = 0; i < a->ncells; i++) {
        for (size_t k = 0; k < b->ncells; k++) {
            if (strcmp(a->cells[i].key, b->cells[k].key) != 0 || !a->cells[i].first ||
                !b->cells[k].first)
                continue;
            const cJSON *x = cJSON_GetObjectItemCaseSensitive(a->cells[i].first, "allocator_version");
            const cJSON *y = cJSON_GetObjectItemCaseSensitive(b->cells[k].first, "allocator_version");
            if (cJSON_IsString(x) && cJSON_IsString(y) && strcmp(x->valuestring, y->valuestring))
                printf("warning: %s: allocator version '%s' vs '%s'\n", a->cells[i].key,
                       x->valuestring, y->valuestring);
        }
    }
}

/* Whether an interrupted cell's key names the cell whose finished rows are
 * keyed `key`: an interrupted row carries the cell's name
 * (workload/variant/allocator/collector), which Google Benchmark's
 * run_name extends ("/iterations:N/real_time"). */
static int interrupted_names(const cmp_cell *c, const char *key)
{
    size_t n = strlen(c->key);
    return c->interrupted && strncmp(key, c->key, n) == 0 && (key[n] == '/' || key[n] == '\0');
}

/* Compare every cell of the baseline with the current run. */
static void compare_sets(const cmp_set *a, const cmp_set *b, const cmp_config *cfg, report *r)
{
    for (size_t i = 0; i < a->ncells; i++) {
        const cmp_cell *old = &a->cells[i], *new_ = NULL;
        for (size_t k = 0; k < b->ncells && new_ == NULL; k++)
            if (strcmp(b->cells[k].key, old->key) == 0)
                new_ = &b->cells[k];
        for (size_t k = 0; k < b->ncells && new_ == NULL; k++)
            if (interrupted_names(&b->cells[k], old->key))
                new_ = &b->cells[k];
        if (old->first == NULL)
            continue; /* failed in the baseline: nothing to hold the current run to */
        if (new_ == NULL) {
            report_line(r, old->key, "cell", "ran", "missing", "", V_REGRESSION,
                        "not in the current run");
            continue;
        }
        if (new_->interrupted) { /* not measured, so neither better nor worse */
            report_line(r, old->key, "cell", "ran", "interrupted", "", V_NOT_JUDGED, new_->error);
            r->interrupted++;
            continue;
        }
        if (new_->first == NULL) {
            report_line(r, old->key, "cell", "ran", "failed", "", V_REGRESSION,
                        new_->error ? new_->error : "failed");
            continue;
        }
        r->compared++;
        for (size_t k = 0; k < cfg->nrules; k++)
            judge_rule(r, old->key, &cfg->rules[k], old->first, new_->first);
        judge_timing(r, old->key, cfg, old, new_);
    }
    for (size_t k = 0; k < b->ncells; k++) {
        int known = 0;
        for (size_t i = 0; i < a->ncells && !known; i++)
            known = strcmp(a->cells[i].key, b->cells[k].key) == 0 ||
                    interrupted_names(&b->cells[k], a->cells[i].key);
        if (!known)
            report_line(r, b->cells[k].key, "cell", "-", "new", "", V_NOTE, "not in the baseline");
    }
}

int hl_compare_main(const char *baseline, const char *current, const char *thresholds,
                    const char *report_path)
{
    char err[1024];
    cmp_config cfg;
    cmp_set a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    if (config_load(&cfg, thresholds, err, sizeof err) != 0 ||
        set_load(&a, baseline, cfg.time_key, err, sizeof err) != 0 ||
        set_load(&b, current, cfg.time_key, err, sizeof err) != 0) {
        fprintf(stderr, "bench: --compare: %s\n", err);
        set_free(&a);
        set_free(&b);
        return 2;
    }
    report r = {0};
    if (report_path != NULL && (r.md = fopen(report_path, "w")) == NULL) {
        fprintf(stderr, "bench: --report: cannot write %s\n", report_path);
        set_free(&a);
        set_free(&b);
        return 2;
    }
    printf("baseline: %s\ncurrent:  %s\nthresholds: %s\n", baseline, current,
           thresholds ? thresholds : "built-in defaults");
    if (r.md != NULL)
        fprintf(r.md, "## heaplab regression check\n\nbaseline `%s`, current `%s`, thresholds "
                "`%s`\n\n", baseline, current, thresholds ? thresholds : "built-in defaults");
    warn_environment(&a, &b, &r);
    printf("%-58s %-22s %14s %14s %9s  %s\n", "cell", "metric", "old", "new", "change", "verdict");
    if (r.md != NULL)
        fprintf(r.md, "| cell | metric | old | new | change | verdict |\n"
                      "| --- | --- | ---: | ---: | ---: | --- |\n");
    compare_sets(&a, &b, &cfg, &r);
    printf("\n%zu cell(s) compared: %zu regression(s), %zu improvement(s)\n", r.compared,
           r.regressions, r.improvements);
    if (r.interrupted > 0)
        printf("%zu cell(s) not judged: the current run was interrupted before they finished\n",
               r.interrupted);
    if (r.md != NULL) {
        fprintf(r.md, "\n%zu cell(s) compared: **%zu regression(s)**, %zu improvement(s)\n",
                r.compared, r.regressions, r.improvements);
        if (r.interrupted > 0)
            fprintf(r.md, "\n%zu cell(s) not judged: the current run was interrupted before "
                    "they finished\n", r.interrupted);
        fclose(r.md);
    }
    set_free(&a);
    set_free(&b);
    return r.regressions ? 1 : 0;
}

/* ------------------------------------------------------------- export -- */

int hl_export_action_main(const char *results, const char *out_path)
{
    static const struct {
        const char *key, *unit;
    } figures[] = {
        {"rss_peak", "bytes"},      {"live_peak", "bytes"}, {"leaked_bytes", "bytes"},
        {"instructions", "instructions"},
    };
    char err[1024];
    cmp_set set;
    if (set_load(&set, results, "real_time", err, sizeof err) != 0) {
        fprintf(stderr, "bench: --export-action: %s\n", err);
        set_free(&set);
        return 2;
    }
    cJSON *out = cJSON_CreateArray();
    for (size_t i = 0; i < set.ncells; i++) {
        const cmp_cell *c = &set.cells[i];
        if (c->first == NULL)
            continue;
        char name[512];
        if (c->ntimes > 0) {
            double *t = malloc(c->ntimes * sizeof *t);
            if (t == NULL)
                continue;
            memcpy(t, c->times, c->ntimes * sizeof *t);
            cJSON *e = cJSON_CreateObject();
            snprintf(name, sizeof name, "%s ns_per_op", c->key);
            cJSON_AddStringToObject(e, "name", name);
            cJSON_AddStringToObject(e, "unit", "ns/op");
            cJSON_AddNumberToObject(e, "value", hl_median(t, c->ntimes));
            snprintf(name, sizeof name, "median of %zu repetitions", c->ntimes);
            cJSON_AddStringToObject(e, "extra", name);
            cJSON_AddItemToArray(out, e);
            free(t);
        }
        for (size_t k = 0; k < sizeof figures / sizeof figures[0]; k++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->first, figures[k].key);
            if (!cJSON_IsNumber(v))
                continue;
            cJSON *e = cJSON_CreateObject();
            snprintf(name, sizeof name, "%s %s", c->key, figures[k].key);
            cJSON_AddStringToObject(e, "name", name);
            cJSON_AddStringToObject(e, "unit", figures[k].unit);
            cJSON_AddNumberToObject(e, "value", v->valuedouble);
            cJSON_AddItemToArray(out, e);
        }
    }
    char *text = cJSON_Print(out);
    cJSON_Delete(out);
    set_free(&set);
    if (text == NULL)
        snprintf(err, sizeof err, "out of memory");
    int rc = text ? hl_write_file_atomic(out_path, text, strlen(text), err, sizeof err) : -1;
    free(text);
    if (rc != 0) {
        fprintf(stderr, "bench: --export-action: %s\n", err);
        return 1;
    }
    printf("wrote %s (github-action-benchmark, customSmallerIsBetter)\n", out_path);
    return 0;
}
