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
 *                  real and gates hard.  Each rule names the direction that
 *                  is worse: up (instructions, live bytes), down, or either
 *                  way where neither is plainly good (collections); frees
 *                  are judged through unfreed = allocs - frees, so fewer
 *                  frees for the same allocations is a leak, not a gain;
 *   timing         time per operation, judged over repetitions with a
 *                  two-sided Mann-Whitney U test AND a minimum effect size,
 *                  so that a regression is both statistically clear and big
 *                  enough to matter; with too few repetitions it is reported
 *                  but never gates.  The time judged is CPU time by
 *                  default (configurable): on a shared machine wall-clock
 *                  time also counts the time the process waited for a CPU,
 *                  which is the neighbours' doing, not the code's.
 *
 * Instruction counts depend on the machine only through the C library's
 * CPU-dependent choices; counted runs pin those (pinning.c) and record the
 * pinning, so counts are judged across CPU models when both runs carry the
 * same pinning, and "not judged", with the reason, otherwise.  A compiler,
 * build type or Debian release that differs also leaves them not judged.
 *
 * Thresholds come from a committed JSON file (results/baseline/thresholds.json
 * unless --thresholds names another).  Baseline and current may each be a
 * results file or a directory of them (all *.json inside, merged).  Cells are
 * matched by run_name; a cell failed in the current run is a regression, a
 * cell present on one side only is "not compared" (a regression under
 * --require-same-cells), a cell the current run was interrupted before
 * finishing (Ctrl-C, `timeout`) was not measured: it is "not judged".  A
 * baseline recorded with --decorate, or two sides with no cell in common,
 * are refused as bad input.
 *
 * Output: the checks that say something (regressions, improvements,
 * changes, not judged, notes; every check with --verbose), then a summary
 * that counts judged and not-judged checks with the reasons grouped; the
 * same as markdown with --report=FILE.  Exit status: 0 no regression, 1 a
 * regression, 2 bad input, 3 nothing could be judged.
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

/* Which way a deterministic metric gets worse. */
typedef enum cmp_direction {
    DIR_LOWER_IS_BETTER,  /* growth beyond the slack regresses, a drop improves */
    DIR_HIGHER_IS_BETTER, /* a drop beyond the slack regresses, growth improves */
    DIR_TWO_SIDED,        /* a change either way beyond the slack regresses */
    DIR_INFORMATIONAL,    /* shown when it changes, judged through another rule */
} cmp_direction;

static const char *const direction_names[] = {"lower_is_better", "higher_is_better",
                                              "two_sided", "informational"};

/* One deterministic metric's rule. */
typedef struct cmp_rule {
    char metric[64];
    double max_increase_pct; /* allowed change, percent of the baseline */
    double max_increase_abs; /* allowed change, in the metric's unit */
    int must_equal;          /* any change at all is a regression (checksums) */
    cmp_direction direction;
} cmp_rule;

/* Metrics computed from two of a row's figures: "what was allocated and
 * never freed" is what a leak changes, whatever else changed. */
static const struct {
    const char *name, *minuend, *subtrahend;
} derived_metrics[] = {
    {"unfreed", "allocs", "frees"},
    {"objects_unfreed", "objects_allocated", "objects_freed"},
};

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
    const char *error;    /* error_message when the cell (or one of its runs) failed */
    int interrupted;      /* the run was stopped before the cell finished */
    int folded;           /* an error row now carried by its named cell: skip it */
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

/* Whether a cell that produced only an error row (failed or interrupted)
 * stands for the cell whose finished rows are keyed `key`: an error row
 * carries the cell's name (workload/variant/allocator/collector), which
 * Google Benchmark's run_name extends ("/iterations:N/real_time"). */
static int error_row_names(const cmp_cell *c, const char *key)
{
    size_t n = strlen(c->key);
    return c->first == NULL && c->error != NULL && strncmp(key, c->key, n) == 0 &&
           (key[n] == '/' || key[n] == '\0');
}

/* A failed run of a cell that also has finished runs (a repetition in a
 * process of its own: --shuffle, or a collector with its own heap) leaves a
 * short-named error row beside them: carry its error on the cell it names,
 * so that the cell is judged failed, and skip the error row from then on.
 * An interrupted run's row only marks the repetitions that never ran; the
 * finished ones are judged as they are.  O(cells^2), once per set. */
static void set_fold_error_rows(cmp_set *set)
{
    for (size_t e = 0; e < set->ncells; e++) {
        cmp_cell *err_row = &set->cells[e];
        for (size_t k = 0; k < set->ncells && !err_row->folded; k++) {
            cmp_cell *cell = &set->cells[k];
            if (cell->first == NULL || !error_row_names(err_row, cell->key))
                continue;
            err_row->folded = 1;
            if (!err_row->interrupted && cell->error == NULL)
                cell->error = err_row->error;
        }
    }
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
    if (!S_ISDIR(st.st_mode)) {
        int rc = set_add_file(set, path, err, err_len);
        set_fold_error_rows(set);
        return rc;
    }
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
    set_fold_error_rows(set);
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

/* The built-in rules, the same as the committed thresholds file. */
static const cmp_rule default_rules[] = {
    {"checksum", 0, 0, 1, DIR_TWO_SIDED},
    {"allocs", 0, 0, 0, DIR_LOWER_IS_BETTER},
    {"frees", 0, 0, 0, DIR_INFORMATIONAL},
    {"unfreed", 0, 0, 0, DIR_LOWER_IS_BETTER},
    {"reallocs", 0, 0, 0, DIR_LOWER_IS_BETTER},
    {"bytes_allocated", 0, 0, 0, DIR_LOWER_IS_BETTER},
    {"objects_allocated", 0, 0, 0, DIR_LOWER_IS_BETTER},
    {"objects_unfreed", 0, 0, 0, DIR_LOWER_IS_BETTER},
    {"live_peak", 1, 0, 0, DIR_LOWER_IS_BETTER},
    {"leaked_bytes", 0, 0, 0, DIR_LOWER_IS_BETTER},
    {"gc_collections_gen0", 0, 0, 0, DIR_TWO_SIDED},
    {"gc_collections_gen1", 0, 0, 0, DIR_TWO_SIDED},
    {"gc_collections_gen2", 0, 0, 0, DIR_TWO_SIDED},
    {"gc_collected_gen0", 0, 0, 0, DIR_TWO_SIDED},
    {"gc_collected_gen1", 0, 0, 0, DIR_TWO_SIDED},
    {"gc_collected_gen2", 0, 0, 0, DIR_TWO_SIDED},
    {"instructions", 2, 0, 0, DIR_LOWER_IS_BETTER},
};

static void config_defaults(cmp_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->nrules = sizeof default_rules / sizeof default_rules[0];
    memcpy(cfg->rules, default_rules, sizeof default_rules);
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

/* The rule's "direction", if given: one of direction_names. */
static int config_direction(const cJSON *item, cmp_rule *r, const char *path, char *err,
                            size_t err_len)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(item, "direction");
    if (v == NULL)
        return 0;
    for (size_t i = 0; cJSON_IsString(v) && i < sizeof direction_names / sizeof direction_names[0];
         i++) {
        if (strcmp(v->valuestring, direction_names[i]) == 0) {
            r->direction = (cmp_direction)i;
            return 0;
        }
    }
    snprintf(err, err_len, "%s: deterministic.%s.direction must be one of lower_is_better, "
             "higher_is_better, two_sided, informational", path, item->string);
    return -1;
}

/* Read the thresholds file: {"deterministic": {METRIC: {"max_increase_pct":
 * P, "max_increase_abs": A, "equal": true, "direction": D}}, "timing":
 * {"alpha": ..., "min_effect_pct": ..., "min_repetitions": ...}}. */
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
                              err_len) != 0 ||
                config_direction(item, r, path, err, err_len) != 0) {
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

typedef enum verdict {
    V_OK,
    V_IMPROVED,
    V_REGRESSION,
    V_CHANGED,      /* an informational figure moved; another rule judges it */
    V_SAME,         /* an informational figure did not move */
    V_NOT_JUDGED,   /* measured on both sides, but the comparison would mean nothing */
    V_NOT_COMPARED, /* a cell on one side only */
    V_NOTE,
} verdict;

static const char *const verdict_names[] = {"ok", "improved", "REGRESSION", "changed", "same",
                                            "not judged", "not compared", "note"};

#define CMP_MAX_REASONS 16

typedef struct report {
    FILE *md;               /* markdown report, or NULL */
    int verbose;            /* show every check, not only those that say something */
    int require_same_cells; /* a cell on one side only is a regression */
    char instructions_not_judged[200]; /* why instruction counts are not judged, or "" */
    size_t regressions, improvements, judged, not_judged, notes, shown;
    size_t cells_compared, cells_not_compared;
    size_t interrupted; /* cells the current run was stopped before finishing */
    struct {
        char reason[200];
        size_t count;
    } reasons[CMP_MAX_REASONS]; /* not-judged checks, grouped by reason */
    size_t nreasons;
} report;

/* Count a not-judged check under its reason. */
static void count_reason(report *r, const char *reason)
{
    for (size_t i = 0; i < r->nreasons; i++) {
        if (strcmp(r->reasons[i].reason, reason) == 0) {
            r->reasons[i].count++;
            return;
        }
    }
    if (r->nreasons == CMP_MAX_REASONS)
        reason = "other reasons"; /* the last slot gathers the rest */
    size_t i = r->nreasons < CMP_MAX_REASONS ? r->nreasons++ : CMP_MAX_REASONS - 1;
    snprintf(r->reasons[i].reason, sizeof r->reasons[i].reason, "%s", reason);
    r->reasons[i].count++;
}

/* Count one check and show it when it says something (or under
 * --verbose).  `group` is the reason a not-judged check is counted under. */
static void report_line(report *r, const char *cell, const char *metric, const char *old,
                        const char *new_, const char *change, verdict v, const char *why,
                        const char *group)
{
    switch (v) {
    case V_OK:
    case V_IMPROVED:
    case V_REGRESSION:
        r->judged++;
        break;
    case V_NOT_JUDGED:
        r->not_judged++;
        count_reason(r, group ? group : why);
        break;
    case V_NOT_COMPARED: /* counted per cell */
    case V_SAME:         /* informational and unchanged: nothing to say */
        break;
    case V_CHANGED:
    case V_NOTE:
        r->notes++;
        break;
    }
    r->regressions += v == V_REGRESSION;
    r->improvements += v == V_IMPROVED;
    if ((v == V_OK || v == V_SAME) && !r->verbose)
        return;
    r->shown++;
    printf("%-58s %-22s %14s %14s %9s  %s%s%s\n", cell, metric, old, new_, change,
           verdict_names[v], why[0] ? ": " : "", why);
    if (r->md != NULL)
        fprintf(r->md, "| `%s` | %s | %s | %s | %s | %s%s%s |\n", cell, metric, old, new_, change,
                v == V_REGRESSION ? "**REGRESSION**" : verdict_names[v], why[0] ? ": " : "",
                why);
}

/* One figure of a row: a number, a string (checksums), or absent.  Derived
 * metrics (derived_metrics) are computed from their two parts. */
typedef struct figure {
    int present, is_string;
    double num;
    const char *str;
} figure;

static figure row_figure(const cJSON *row, const char *metric)
{
    figure f = {0};
    for (size_t i = 0; i < sizeof derived_metrics / sizeof derived_metrics[0]; i++) {
        if (strcmp(metric, derived_metrics[i].name) != 0)
            continue;
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(row, derived_metrics[i].minuend);
        const cJSON *y = cJSON_GetObjectItemCaseSensitive(row, derived_metrics[i].subtrahend);
        if (cJSON_IsNumber(x) && cJSON_IsNumber(y)) {
            f.present = 1;
            f.num = x->valuedouble - y->valuedouble;
        }
        return f;
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, metric);
    if (cJSON_IsString(v)) {
        f.present = f.is_string = 1;
        f.str = v->valuestring;
    } else if (cJSON_IsNumber(v)) {
        f.present = 1;
        f.num = v->valuedouble;
    }
    return f;
}

static void format_figure(char *buf, size_t len, const figure *f)
{
    if (!f->present)
        snprintf(buf, len, "-");
    else if (f->is_string)
        snprintf(buf, len, "%.14s", f->str);
    else if (fabs(f->num) >= 1e6 || f->num == (double)(long long)f->num)
        snprintf(buf, len, "%.0f", f->num);
    else
        snprintf(buf, len, "%.4g", f->num);
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

/* Judge one deterministic metric of one cell, in the rule's direction. */
static void judge_rule(report *r, const char *cell, const cmp_rule *rule, const cJSON *old_row,
                       const cJSON *new_row)
{
    figure a = row_figure(old_row, rule->metric), b = row_figure(new_row, rule->metric);
    if (!a.present && !b.present)
        return;
    char old[64], new_[64], change[32] = "";
    format_figure(old, sizeof old, &a);
    format_figure(new_, sizeof new_, &b);
    if (!a.present || !b.present) {
        report_line(r, cell, rule->metric, old, new_, "", V_NOTE,
                    !a.present ? "not in the baseline" : "no longer measured", NULL);
        return;
    }
    if (rule->must_equal || a.is_string || b.is_string) {
        int same = a.is_string == b.is_string &&
                   (a.is_string ? strcmp(a.str, b.str) == 0 : a.num == b.num);
        report_line(r, cell, rule->metric, old, new_, same ? "same" : "changed",
                    same ? V_OK : V_REGRESSION, same ? "" : "the run did different work", NULL);
        return;
    }
    double x = a.num, y = b.num;
    format_change(change, sizeof change, x, y);
    if (strncmp(rule->metric, "instructions", 12) == 0 && r->instructions_not_judged[0]) {
        report_line(r, cell, rule->metric, old, new_, change, V_NOT_JUDGED,
                    r->instructions_not_judged, NULL);
        return;
    }
    double slack = fabs(x) * rule->max_increase_pct / 100 + rule->max_increase_abs;
    int up = y > x + slack, down = y < x - slack;
    char why[160] = "";
    verdict v = V_OK;
    switch (rule->direction) {
    case DIR_LOWER_IS_BETTER:
        v = up ? V_REGRESSION : down ? V_IMPROVED : V_OK;
        if (up)
            snprintf(why, sizeof why, "allowed up to %.6g", x + slack);
        break;
    case DIR_HIGHER_IS_BETTER:
        v = down ? V_REGRESSION : up ? V_IMPROVED : V_OK;
        if (down)
            snprintf(why, sizeof why, "allowed down to %.6g", x - slack);
        break;
    case DIR_TWO_SIDED:
        v = up || down ? V_REGRESSION : V_OK;
        if (v == V_REGRESSION)
            snprintf(why, sizeof why, "changed beyond %.6g..%.6g (neither way is plainly better)",
                     x - slack, x + slack);
        break;
    case DIR_INFORMATIONAL:
        v = x != y ? V_CHANGED : V_SAME;
        if (v == V_CHANGED)
            snprintf(why, sizeof why, "not gated itself%s",
                     strcmp(rule->metric, "frees") == 0 ? "; judged as unfreed = allocs - frees"
                                                        : "");
        break;
    }
    report_line(r, cell, rule->metric, old, new_, change, v, why, NULL);
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
    report_line(r, cell, metric, old, new_, change, v, why, "timing: too few repetitions");
}

static const char *context_string(const cJSON *context, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(context, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The pinning's scheme name for messages: "none" when absent. */
static const char *pinning_name(const cJSON *pinning)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(pinning, "scheme");
    return cJSON_IsString(v) ? v->valuestring : pinning ? "unnamed" : "none";
}

/* Decide whether instruction counts can be judged: the same compiler,
 * build type and Debian release (they change the instructions themselves),
 * and either the same CPU model with the same pinning, or any CPU models
 * when both runs carry the same pinning (pinning.c).  Sets
 * r->instructions_not_judged to the reason, or leaves it empty. */
static void decide_instructions(const cJSON *ca, const cJSON *cb, report *r)
{
    static const char *const code_keys[] = {"compiler", "heaplab_build_type", "debian_version"};
    for (size_t i = 0; i < sizeof code_keys / sizeof code_keys[0]; i++) {
        const char *x = context_string(ca, code_keys[i]), *y = context_string(cb, code_keys[i]);
        if (x != NULL && y != NULL && strcmp(x, y) != 0) {
            snprintf(r->instructions_not_judged, sizeof r->instructions_not_judged,
                     "instructions: the %s differs", code_keys[i]);
            return;
        }
    }
    const cJSON *pa = cJSON_GetObjectItemCaseSensitive(ca, "instruction_pinning");
    const cJSON *pb = cJSON_GetObjectItemCaseSensitive(cb, "instruction_pinning");
    int same_pinning = (pa == NULL && pb == NULL) || (pa && pb && cJSON_Compare(pa, pb, 1));
    const char *x = context_string(ca, "cpu_model"), *y = context_string(cb, "cpu_model");
    int cpu_differs = x != NULL && y != NULL && strcmp(x, y) != 0;
    if (cpu_differs && !(pa && same_pinning))
        snprintf(r->instructions_not_judged, sizeof r->instructions_not_judged,
                 "instructions: CPU models differ and the runs do not carry the same instruction "
                 "pinning (baseline %s, current %s)", pinning_name(pa), pinning_name(pb));
    else if (!same_pinning)
        snprintf(r->instructions_not_judged, sizeof r->instructions_not_judged,
                 "instructions: the runs carry different instruction pinning (baseline %s, "
                 "current %s)", pinning_name(pa), pinning_name(pb));
    else if (cpu_differs) {
        printf("note: instruction counts are judged across CPU models: both runs carry "
               "instruction pinning %s\n", pinning_name(pa));
        if (r->md != NULL)
            fprintf(r->md, "> note: instruction counts are judged across CPU models: both runs "
                    "carry instruction pinning `%s`\n\n", pinning_name(pa));
    }
}

/* Warn when the two runs were measured in different environments, and
 * decide whether instruction counts can be judged. */
static void warn_environment(const cmp_set *a, const cmp_set *b, report *r)
{
    static const char *const keys[] = {"cpu_model", "compiler", "heaplab_build_type",
                                       "debian_version", "kernel", "transparent_hugepages"};
    const cJSON *ca = cJSON_GetObjectItemCaseSensitive(a->docs[0], "context");
    const cJSON *cb = cJSON_GetObjectItemCaseSensitive(b->docs[0], "context");
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *x = context_string(ca, keys[i]), *y = context_string(cb, keys[i]);
        if (x != NULL && y != NULL && strcmp(x, y) != 0) {
            printf("warning: environments differ: %s '%s' vs '%s'\n", keys[i], x, y);
            if (r->md != NULL)
                fprintf(r->md, "> warning: environments differ: %s `%s` vs `%s`\n\n", keys[i], x,
                        y);
        }
    }
    decide_instructions(ca, cb, r);
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

/* The cell of `s` keyed `key`, or the error row standing for it, or NULL. */
static const cmp_cell *find_cell(const cmp_set *s, const char *key)
{
    for (size_t k = 0; k < s->ncells; k++)
        if (!s->cells[k].folded && strcmp(s->cells[k].key, key) == 0)
            return &s->cells[k];
    for (size_t k = 0; k < s->ncells; k++)
        if (!s->cells[k].folded && error_row_names(&s->cells[k], key))
            return &s->cells[k];
    return NULL;
}

/* The cell of `s` that `c` stands for: the same key, or, with an error row
 * on either side, the same cell under its shorter name; NULL when none. */
static const cmp_cell *find_match(const cmp_set *s, const cmp_cell *c)
{
    const cmp_cell *m = find_cell(s, c->key);
    for (size_t i = 0; i < s->ncells && m == NULL; i++)
        if (!s->cells[i].folded && error_row_names(c, s->cells[i].key))
            m = &s->cells[i];
    return m;
}

/* A cell on one side only: "not compared", or a regression when the
 * caller asked for the same cells on both sides. */
static void report_lone_cell(report *r, const char *key, int in_baseline)
{
    r->cells_not_compared++;
    report_line(r, key, "cell", in_baseline ? "ran" : "-", in_baseline ? "missing" : "new", "",
                r->require_same_cells ? V_REGRESSION : V_NOT_COMPARED,
                in_baseline ? "not in the current run" : "not in the baseline", NULL);
}

/* Whether two runs of a cell did different work: their parameters or seed
 * differ (--param, --quick, --min-time, --seed).  Then nothing about them
 * can be compared; `why` says what differs. */
static int setup_differs(const cJSON *old, const cJSON *new_, char *why, size_t len)
{
    static const char *const keys[] = {"params", "seed"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(old, keys[i]);
        const cJSON *y = cJSON_GetObjectItemCaseSensitive(new_, keys[i]);
        char a[160], b[160];
        snprintf(a, sizeof a, "%s", cJSON_IsString(x) ? x->valuestring : "");
        snprintf(b, sizeof b, "%s", cJSON_IsString(y) ? y->valuestring : "");
        if (cJSON_IsNumber(x))
            snprintf(a, sizeof a, "%.0f", x->valuedouble);
        if (cJSON_IsNumber(y))
            snprintf(b, sizeof b, "%.0f", y->valuedouble);
        if (strcmp(a, b) != 0) {
            snprintf(why, len, "the runs did different work: %s %s, then %s", keys[i], a, b);
            return 1;
        }
    }
    return 0;
}

/* Compare every cell of the baseline with the current run. */
static void compare_sets(const cmp_set *a, const cmp_set *b, const cmp_config *cfg, report *r)
{
    for (size_t i = 0; i < a->ncells; i++) {
        const cmp_cell *old = &a->cells[i], *new_ = find_match(b, old);
        if (old->folded)
            continue;
        if (new_ == NULL) {
            report_lone_cell(r, old->key, 1);
            continue;
        }
        if (old->first == NULL) {
            r->cells_not_compared++;
            report_line(r, old->key, "cell", "failed", new_->first ? "ran" : "failed", "",
                        V_NOT_COMPARED, "failed in the baseline: nothing to hold it to", NULL);
            continue;
        }
        if (new_->interrupted) { /* not measured, so neither better nor worse */
            r->interrupted++;
            report_line(r, old->key, "cell", "ran", "interrupted", "", V_NOT_JUDGED, new_->error,
                        "cell(s): the current run was interrupted before they finished");
            continue;
        }
        if (new_->first == NULL || new_->error != NULL) { /* it, or one of its runs, failed */
            r->cells_compared++;
            report_line(r, old->key, "cell", "ran", "failed", "", V_REGRESSION,
                        new_->error ? new_->error : "failed", NULL);
            continue;
        }
        char why[400];
        if (setup_differs(old->first, new_->first, why, sizeof why)) {
            r->cells_not_compared++;
            report_line(r, old->key, "cell", "ran", "ran", "", V_NOT_COMPARED, why, NULL);
            continue;
        }
        r->cells_compared++;
        for (size_t k = 0; k < cfg->nrules; k++)
            judge_rule(r, old->key, &cfg->rules[k], old->first, new_->first);
        judge_timing(r, old->key, cfg, old, new_);
    }
    for (size_t k = 0; k < b->ncells; k++)
        if (!b->cells[k].folded && find_match(a, &b->cells[k]) == NULL)
            report_lone_cell(r, b->cells[k].key, 0);
}

/* ------------------------------------------------- refusing bad input -- */

/* The decorator a results set was recorded with: a row's "decorator" other
 * than "none", or --decorate on a file's recorded command line; NULL when
 * undecorated. */
static const char *set_decorator(const cmp_set *s)
{
    for (size_t d = 0; d < s->ndocs; d++) {
        const cJSON *row;
        cJSON_ArrayForEach(row, cJSON_GetObjectItemCaseSensitive(s->docs[d], "benchmarks"))
        {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, "decorator");
            if (cJSON_IsString(v) && strcmp(v->valuestring, "none") != 0)
                return v->valuestring;
        }
        const cJSON *context = cJSON_GetObjectItemCaseSensitive(s->docs[d], "context");
        const cJSON *arg;
        cJSON_ArrayForEach(arg, cJSON_GetObjectItemCaseSensitive(context, "command_line"))
        {
            if (cJSON_IsString(arg) && strncmp(arg->valuestring, "--decorate=", 11) == 0)
                return arg->valuestring + 11;
        }
    }
    return NULL;
}

static size_t cells_in_common(const cmp_set *a, const cmp_set *b)
{
    size_t n = 0;
    for (size_t i = 0; i < a->ncells; i++)
        n += !a->cells[i].folded && find_match(b, &a->cells[i]) != NULL;
    return n;
}

/* Refuse a comparison that cannot mean anything: a decorated baseline, or
 * no cell in common.  Returns 0, or -1 with one line in err. */
static int check_comparable(const cmp_set *a, const cmp_set *b, char *err, size_t err_len)
{
    const char *decorator = set_decorator(a);
    if (decorator != NULL) {
        snprintf(err, err_len, "the baseline %s was recorded with --decorate=%s, a test-only "
                 "decorator; a decorated run cannot be a baseline (record it without --decorate)",
                 a->path, decorator);
        return -1;
    }
    if (cells_in_common(a, b) == 0) {
        snprintf(err, err_len, "%s and %s have no cell in common (%zu and %zu cells; cells are "
                 "matched by run_name, e.g. '%s' vs '%s')", a->path, b->path, a->ncells, b->ncells,
                 a->ncells ? a->cells[0].key : "-", b->ncells ? b->cells[0].key : "-");
        return -1;
    }
    return 0;
}

/* ----------------------------------------------------------- summary -- */

/* "212 checks: 180 judged (0 regressions, 1 improvement), 32 not judged
 * (32 timing: too few repetitions)", with the cell counts and the result;
 * to `f`, in markdown when `md`. */
static void print_summary(FILE *f, const report *r, int md)
{
    fprintf(f, "\n%zu cell(s) compared, %zu not compared\n%s", r->cells_compared,
            r->cells_not_compared, md ? "\n" : "");
    fprintf(f, "%zu checks: %zu judged (%s%zu regression(s)%s, %zu improvement(s)), %zu not judged",
            r->judged + r->not_judged, r->judged, md ? "**" : "", r->regressions, md ? "**" : "",
            r->improvements, r->not_judged);
    for (size_t i = 0; i < r->nreasons; i++)
        fprintf(f, "%s%zu %s", i == 0 ? " (" : "; ", r->reasons[i].count, r->reasons[i].reason);
    fprintf(f, "%s", r->nreasons ? ")" : "");
    if (r->notes)
        fprintf(f, ", %zu note(s)", r->notes);
    fprintf(f, "\n%sresult: %s\n", md ? "\n" : "",
            r->regressions    ? "REGRESSION (exit 1)"
            : r->judged == 0  ? "nothing could be judged (exit 3)"
                              : "no regression (exit 0)");
}

int hl_compare_main(const char *baseline, const char *current, const char *thresholds,
                    const char *report_path, int verbose, int require_same_cells)
{
    char err[1024];
    cmp_config cfg;
    cmp_set a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    if (config_load(&cfg, thresholds, err, sizeof err) != 0) {
        /* The thresholds file is --thresholds' (or its default): say so. */
        fprintf(stderr, "bench: --thresholds: %s\n", err);
        return 2;
    }
    if (set_load(&a, baseline, cfg.time_key, err, sizeof err) != 0 ||
        set_load(&b, current, cfg.time_key, err, sizeof err) != 0 ||
        check_comparable(&a, &b, err, sizeof err) != 0) {
        fprintf(stderr, "bench: --compare: %s\n", err);
        set_free(&a);
        set_free(&b);
        return 2;
    }
    report r = {.verbose = verbose, .require_same_cells = require_same_cells};
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
    if (r.shown == 0) {
        printf("(no changes: every check is ok; --verbose shows them all)\n");
        if (r.md != NULL)
            fprintf(r.md, "| (no changes: every check is ok) | | | | | |\n");
    }
    print_summary(stdout, &r, 0);
    if (r.md != NULL) {
        print_summary(r.md, &r, 1);
        fclose(r.md);
    }
    set_free(&a);
    set_free(&b);
    return r.regressions ? 1 : r.judged == 0 ? 3 : 0;
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
