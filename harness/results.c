/*
 * results.c - result files (JSON and CSV, written whole or not at all) and
 * the console table.
 */
#include "harness/results.h"

#include "common/io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "harness/metrics.h"

/* Write len bytes to a new temporary file beside path (its name in tmp) and
 * flush them to the disk.  Returns 0, or -1 with a reason in err and no
 * temporary file left. */
static int write_temporary(const char *path, const char *data, size_t len, char *tmp,
                           size_t tmp_len, char *err, size_t err_len)
{
    snprintf(tmp, tmp_len, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        snprintf(err, err_len, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    if (hl_write_all(fd, data, len) != 0) {
        snprintf(err, err_len, "cannot write %s: %s", path, strerror(errno));
        close(fd);
        unlink(tmp);
        return -1;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        snprintf(err, err_len, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

int hl_write_file_atomic(const char *path, const char *data, size_t len, char *err,
                         size_t err_len)
{
    char tmp[4096];
    if (write_temporary(path, data, len, tmp, sizeof tmp, err, err_len) != 0)
        return -1;
    if (rename(tmp, path) != 0) {
        snprintf(err, err_len, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* Write a file under a name nobody holds yet: the whole text goes to a
 * temporary file, which link(2) then gives its name only if that name does
 * not exist, in one atomic step (on a file system without hard links, an
 * O_EXCL placeholder reserves the name and rename fills it).  Returns 0, 1
 * when path exists already (nothing written), or -1 with a reason in err. */
static int write_file_exclusive(const char *path, const char *data, size_t len, char *err,
                                size_t err_len)
{
    char tmp[4096];
    if (write_temporary(path, data, len, tmp, sizeof tmp, err, err_len) != 0)
        return -1;
    int linked = link(tmp, path) == 0;
    if (linked || errno == EEXIST) {
        unlink(tmp);
        return linked ? 0 : 1;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0 && errno == EEXIST) {
        unlink(tmp);
        return 1;
    }
    if (fd < 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        snprintf(err, err_len, "cannot write %s: %s", path, strerror(errno));
        if (fd >= 0)
            unlink(path); /* our empty placeholder */
        unlink(tmp);
        return -1;
    }
    return 0;
}

cJSON *hl_read_json_file(const char *path, char *err, size_t err_len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, err_len, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, len = 0, n;
    char *buf = malloc(cap);
    while (buf != NULL && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (len + 1 == cap) { /* full: double the buffer */
            char *bigger = realloc(buf, cap * 2);
            if (bigger == NULL)
                free(buf);
            buf = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf == NULL) {
        snprintf(err, err_len, "out of memory reading %s", path);
        return NULL;
    }
    buf[len] = '\0';
    cJSON *doc = cJSON_Parse(buf);
    if (doc == NULL) {
        const char *at = cJSON_GetErrorPtr();
        snprintf(err, err_len, "%s is not valid JSON (near byte %ld)", path,
                 at ? (long)(at - buf) : 0L);
    }
    free(buf);
    return doc;
}

int hl_make_dirs(const char *dir, char *err, size_t err_len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", dir);
    for (char *p = path + 1; ; p++) {
        char c = *p;
        if (c == '/' || c == '\0') {
            *p = '\0';
            if (mkdir(path, 0755) != 0 && errno != EEXIST) {
                snprintf(err, err_len, "cannot create directory %s: %s", path, strerror(errno));
                return -1;
            }
            *p = c;
        }
        if (c == '\0')
            break;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, err_len, "%s is not a directory", dir);
        return -1;
    }
    return 0;
}

/* --------------------------------------------------------------- CSV -- */

static const char *const csv_columns[] = {
    "status",   "error_message", "workload",  "variant",         "allocator",    "allocator_version",
    "collector", "params",       "seed",      "repetition_index", "threads",      "ops",
    "seconds",  "ns_per_op",     "ops_per_sec", "rss_base",       "rss_peak",     "rss_end",
    "live_peak", "fragmentation", "leaked_bytes", "allocs",        "frees",        "reallocs",
    "bytes_allocated", "checksum",
};

typedef struct strbuf {
    char *data;
    size_t len, cap;
    int failed;
} strbuf;

static void sb_add(strbuf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (d == NULL) {
            b->failed = 1;
            return;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void sb_str(strbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

/* One CSV field: quoted when it holds a comma, quote or line break. */
static void sb_field(strbuf *b, const cJSON *v)
{
    char num[64];
    if (v == NULL || cJSON_IsNull(v))
        return;
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d == (double)(long long)d && d < 9e15 && d > -9e15)
            snprintf(num, sizeof num, "%lld", (long long)d);
        else
            snprintf(num, sizeof num, "%.6g", d);
        sb_str(b, num);
        return;
    }
    const char *s = cJSON_IsBool(v) ? (cJSON_IsTrue(v) ? "true" : "false") : v->valuestring;
    if (s == NULL)
        return;
    if (strpbrk(s, ",\"\n\r") == NULL) {
        sb_str(b, s);
        return;
    }
    sb_str(b, "\"");
    for (const char *p = s; *p; p++)
        sb_add(b, *p == '"' ? "\"\"" : p, *p == '"' ? 2 : 1);
    sb_str(b, "\"");
}

/* Keys that have a fixed column, or that only Google Benchmark's own tools
 * need (its bookkeeping repeats what the fixed columns say). */
static int csv_is_core(const char *key)
{
    static const char *const gb_only[] = {
        "name", "run_name", "run_type", "family_index", "per_family_instance_index",
        "repetitions", "iterations", "real_time", "cpu_time", "time_unit", "aggregate_name",
        "aggregate_unit", "error_occurred", "items_per_second", "label",
        "interrupted", /* said by the status column */
    };
    for (size_t i = 0; i < sizeof csv_columns / sizeof csv_columns[0]; i++)
        if (strcmp(key, csv_columns[i]) == 0)
            return 1;
    for (size_t i = 0; i < sizeof gb_only / sizeof gb_only[0]; i++)
        if (strcmp(key, gb_only[i]) == 0)
            return 1;
    return 0;
}

static int is_csv_row(const cJSON *row)
{
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(row, "run_type");
    return !cJSON_IsString(type) || strcmp(type->valuestring, "iteration") == 0;
}

char *hl_results_csv(const cJSON *doc)
{
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(doc, "benchmarks");
    const size_t ncore = sizeof csv_columns / sizeof csv_columns[0];
    /* Every other figure any row has (allocator statistics, collections,
     * phases, workload figures ...): the union of their keys, in the order
     * first seen, after the fixed columns. */
    const char *extra[256];
    size_t nextra = 0;
    const cJSON *row, *kv;
    cJSON_ArrayForEach(row, rows) cJSON_ArrayForEach(kv, row)
    {
        if (nextra == 256 || cJSON_IsObject(kv) || cJSON_IsArray(kv) || csv_is_core(kv->string))
            continue;
        size_t k = 0;
        while (k < nextra && strcmp(extra[k], kv->string) != 0)
            k++;
        if (k == nextra)
            extra[nextra++] = kv->string;
    }
    strbuf b = {0};
    for (size_t i = 0; i < ncore + nextra; i++) {
        sb_str(&b, i ? "," : "");
        sb_str(&b, i < ncore ? csv_columns[i] : extra[i - ncore]);
    }
    sb_str(&b, "\n");
    cJSON_ArrayForEach(row, rows)
    {
        if (!is_csv_row(row))
            continue;
        int failed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(row, "error_occurred"));
        int interrupted = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(row, "interrupted"));
        for (size_t i = 0; i < ncore + nextra; i++) {
            sb_str(&b, i ? "," : "");
            if (i == 0)
                sb_str(&b, interrupted ? "interrupted" : failed ? "error" : "ok");
            else
                sb_field(&b, cJSON_GetObjectItemCaseSensitive(
                                 row, i < ncore ? csv_columns[i] : extra[i - ncore]));
        }
        sb_str(&b, "\n");
    }
    if (b.failed) {
        free(b.data);
        return NULL;
    }
    return b.data;
}

/* The samples CSV text of series: one line per sample (see results.h);
 * NULL when memory runs out.  Caller frees. */
static char *samples_csv(const cJSON *series)
{
    static const char *const ids[] = {"name", "workload", "variant", "allocator", "collector"};
    strbuf b = {0};
    sb_str(&b, "name,workload,variant,allocator,collector,t_s,phase,rss_bytes,live_bytes\n");
    const cJSON *cell, *sample;
    cJSON_ArrayForEach(cell, series)
    {
        cJSON_ArrayForEach(sample, cJSON_GetObjectItemCaseSensitive(cell, "samples"))
        {
            for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
                sb_field(&b, cJSON_GetObjectItemCaseSensitive(cell, ids[i]));
                sb_str(&b, ",");
            }
            for (int k = 0; k < 4; k++) {
                sb_field(&b, cJSON_GetArrayItem(sample, k));
                sb_str(&b, k < 3 ? "," : "\n");
            }
        }
    }
    if (b.failed) {
        free(b.data);
        return NULL;
    }
    return b.data;
}

/* "YYYYmmdd-HHMMSS" in local time: the start of a results file's name, so
 * that names sort by time.  HEAPLAB_TEST_FIXED_TIME=SECONDS (since the
 * epoch) fixes it, so that a test can make runs meet in one second. */
static void results_stamp(char *buf, size_t len)
{
    const char *fixed = getenv("HEAPLAB_TEST_FIXED_TIME");
    time_t now = fixed != NULL ? (time_t)strtoll(fixed, NULL, 10) : time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(buf, len, "%Y%m%d-%H%M%S", &tm);
}

/* One candidate stem: "<stamp>_<label>", then "<stamp>-2_<label>", ...
 * Returns 0, or -1 when it does not fit. */
static int candidate_stem(char *stem, size_t len, const char *stamp, unsigned n,
                          const char *label)
{
    int w = n == 1 ? snprintf(stem, len, "%s_%s", stamp, label)
                   : snprintf(stem, len, "%s-%u_%s", stamp, n, label);
    return w > 0 && (size_t)w < len ? 0 : -1;
}

int hl_results_write(const char *dir, const char *label, const cJSON *doc, const cJSON *series,
                     char *stem, size_t stem_len, char *err, size_t err_len)
{
    if (hl_make_dirs(dir, err, err_len) != 0)
        return -1;
    char *texts[3] = {cJSON_Print(doc), hl_results_csv(doc), samples_csv(series)};
    static const char *const suffixes[3] = {".json", ".csv", ".samples.csv"};
    char paths[3][4096], stamp[32];
    int rc = -1;
    results_stamp(stamp, sizeof stamp);
    if (texts[0] == NULL || texts[1] == NULL || texts[2] == NULL)
        snprintf(err, err_len, "out of memory while formatting results");
    for (unsigned n = 1; rc == -1 && texts[2] != NULL && texts[1] != NULL && texts[0] != NULL;
         n++) {
        if (n > 10000 || candidate_stem(stem, stem_len, stamp, n, label) != 0) {
            snprintf(err, err_len, "cannot find a free name for results %s_%s in %s", stamp,
                     label, dir);
            break;
        }
        for (int k = 0; k < 3; k++)
            snprintf(paths[k], sizeof paths[k], "%s/%s%s", dir, stem, suffixes[k]);
        /* A leftover CSV of a set whose JSON is gone keeps its name too. */
        if (access(paths[1], F_OK) == 0 || access(paths[2], F_OK) == 0)
            continue;
        int got = write_file_exclusive(paths[0], texts[0], strlen(texts[0]), err, err_len);
        if (got == 1)
            continue; /* another run has this name: try the next */
        if (got != 0)
            break;
        rc = 0;
        for (int k = 1; k < 3 && rc == 0; k++)
            rc = hl_write_file_atomic(paths[k], texts[k], strlen(texts[k]), err, err_len);
        if (rc != 0) /* the set is whole or absent */
            for (int k = 0; k < 3; k++)
                unlink(paths[k]);
        break;
    }
    for (int k = 0; k < 3; k++)
        free(texts[k]);
    return rc;
}

/* ------------------------------------------------------------- table -- */

static double row_number(const cJSON *row, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, key);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* The row that speaks for a cell: its median when it has repetitions. */
static const cJSON *table_pick(const cJSON *rows, const char *aggregate)
{
    const cJSON *row, *first = NULL;
    cJSON_ArrayForEach(row, rows)
    {
        const cJSON *agg = cJSON_GetObjectItemCaseSensitive(row, "aggregate_name");
        if (aggregate == NULL && first == NULL && !cJSON_IsString(agg))
            first = row;
        if (aggregate != NULL && cJSON_IsString(agg) && strcmp(agg->valuestring, aggregate) == 0)
            return row;
    }
    return first;
}

static void format_bytes(char *buf, size_t len, double bytes)
{
    if (bytes < 0)
        snprintf(buf, len, "-");
    else if (bytes >= 1024.0 * 1024 * 1024)
        snprintf(buf, len, "%.2f GiB", bytes / (1024.0 * 1024 * 1024));
    else
        snprintf(buf, len, "%.1f MiB", bytes / (1024.0 * 1024));
}

/* The console table's name columns: at least as wide as their headings,
 * widened by hl_table_fit to the longest name the run will print, so that
 * a long variant ("binarytrees", "default/t16") does not push the figures
 * out of line.  Rows stream as cells finish, so the widths are fixed before
 * the header is printed. */
static struct {
    int workload, variant, allocator, collector;
} table_width = {8, 8, 9, 9};

static void widen(int *width, const char *name)
{
    int n = (int)strlen(name);
    if (n > *width)
        *width = n < 40 ? n : 40; /* a pathological name may still overflow */
}

void hl_table_fit(const char *workload, const char *variant, const char *allocator,
                  const char *collector)
{
    widen(&table_width.workload, workload);
    widen(&table_width.variant, variant);
    widen(&table_width.allocator, allocator);
    widen(&table_width.collector, collector);
}

/* The figure columns: ns/op, Mops/s, rss_peak, live_peak, leaked, frag. */
#define TABLE_FIGURES "%9s %8s %10s %10s %10s %7s  %s\n"

static void table_names(const char *workload, const char *variant, const char *allocator,
                        const char *collector)
{
    printf("%-*s %-*s %-*s %-*s ", table_width.workload, workload, table_width.variant, variant,
           table_width.allocator, allocator, table_width.collector, collector);
}

/* Leaked bytes are usually none or a few: exact below 1 KiB, where "0.0
 * MiB" would hide whether anything leaked. */
static void format_leak(char *buf, size_t len, double bytes)
{
    if (bytes >= 0 && bytes < 1024)
        snprintf(buf, len, "%.0f B", bytes);
    else if (bytes >= 1024 && bytes < 1024.0 * 1024)
        snprintf(buf, len, "%.1f KiB", bytes / 1024);
    else
        format_bytes(buf, len, bytes);
}

void hl_table_header(void)
{
    table_names("workload", "variant", "allocator", "collector");
    printf(TABLE_FIGURES, "ns/op", "Mops/s", "rss_peak", "live_peak", "leaked", "frag", "status");
}

void hl_table_row(const cJSON *rows, const char *workload, const char *variant,
                  const char *allocator, const char *collector, const char *status)
{
    const cJSON *row = table_pick(rows, "median");
    const cJSON *cv = table_pick(rows, "cv");
    if (row == NULL)
        row = table_pick(rows, NULL);
    char ns[32] = "-", mops[32] = "-", rss[32] = "-", live[32] = "-", leaked[32] = "-",
         frag[32] = "-";
    if (row != NULL) {
        double ns_per_op = row_number(row, "ns_per_op");
        if (ns_per_op > 0) {
            snprintf(ns, sizeof ns, "%.2f", ns_per_op);
            snprintf(mops, sizeof mops, "%.1f", 1e3 / ns_per_op);
        }
        format_bytes(rss, sizeof rss, row_number(row, "rss_peak"));
        format_bytes(live, sizeof live, row_number(row, "live_peak"));
        format_leak(leaked, sizeof leaked, row_number(row, "leaked_bytes"));
        /* The row carries fragmentation only where live_peak is large enough
         * for the ratio to mean something (cell.c); elsewhere "-". */
        double f = row_number(row, "fragmentation");
        if (cJSON_GetObjectItemCaseSensitive(row, "fragmentation") != NULL)
            snprintf(frag, sizeof frag, "%.2f", f);
    }
    char shown_status[320];
    double cv_value = cv ? row_number(cv, "real_time") : -1;
    double instructions = row ? row_number(row, "instructions_per_op") : -1;
    if (cv_value >= 0 && strcmp(status, "ok") == 0)
        snprintf(shown_status, sizeof shown_status, "ok (cv %.1f%%)", cv_value * 100);
    else if (instructions >= 0 && strcmp(status, "ok") == 0)
        snprintf(shown_status, sizeof shown_status, "ok (%.1f instructions/op)", instructions);
    else
        snprintf(shown_status, sizeof shown_status, "%s", status);
    table_names(workload, variant, allocator, collector);
    printf(TABLE_FIGURES, ns, mops, rss, live, leaked, frag, shown_status);
    fflush(stdout);
}

/* ---------------------------------------------------- context -- */

#ifndef HL_GIT_COMMIT
#define HL_GIT_COMMIT "unknown"
#endif
#define HL_VERSION "0.1.0"

/* The CPU topology from sysfs: logical CPUs, physical cores, packages and
 * NUMA nodes, so that a thread count can be read against the machine. */
static void add_topology(cJSON *c)
{
    int cpus = 0, cores = 0, packages = 0, nodes = 0;
    long seen_core[4096], seen_package[256];
    for (int cpu = 0; cpu < 4096; cpu++) {
        char path[128], line[64];
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/topology/core_id", cpu);
        if (hl_read_line(path, line, sizeof line) == NULL)
            continue;
        long core = atol(line), package = 0;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/topology/physical_package_id",
                 cpu);
        if (hl_read_line(path, line, sizeof line) != NULL)
            package = atol(line);
        cpus++;
        long key = package * 65536 + core;
        int known = 0;
        for (int i = 0; i < cores && !known; i++)
            known = seen_core[i] == key;
        if (!known && cores < 4096)
            seen_core[cores++] = key;
        known = 0;
        for (int i = 0; i < packages && !known; i++)
            known = seen_package[i] == package;
        if (!known && packages < 256)
            seen_package[packages++] = package;
    }
    for (int node = 0; node < 1024; node++) {
        char path[128];
        snprintf(path, sizeof path, "/sys/devices/system/node/node%d", node);
        nodes += access(path, F_OK) == 0;
    }
    if (cpus == 0)
        return; /* sysfs says nothing: leave the topology out */
    cJSON *t = cJSON_AddObjectToObject(c, "cpu_topology");
    cJSON_AddNumberToObject(t, "logical_cpus", cpus);
    cJSON_AddNumberToObject(t, "physical_cores", cores);
    cJSON_AddNumberToObject(t, "packages", packages);
    if (nodes > 0)
        cJSON_AddNumberToObject(t, "numa_nodes", nodes);
    cJSON_AddNumberToObject(t, "online_cpus", (double)sysconf(_SC_NPROCESSORS_ONLN));
}

/* Google Benchmark's context (from the first cell) plus the environment. */
cJSON *hl_results_context(cJSON *from_cell, int argc, char **argv)
{
    cJSON *c = from_cell ? from_cell : cJSON_CreateObject();
    char buf[512];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S%z", &tm);
    cJSON_AddStringToObject(c, "date", buf);
    double load[3];
    if (getloadavg(load, 3) == 3) {
        cJSON *la = cJSON_AddArrayToObject(c, "load_avg");
        for (int i = 0; i < 3; i++)
            cJSON_AddItemToArray(la, cJSON_CreateNumber(load[i]));
    }
    cJSON_AddStringToObject(c, "heaplab_version", HL_VERSION);
    cJSON_AddStringToObject(c, "heaplab_commit", HL_GIT_COMMIT);
#ifdef NDEBUG
    cJSON_AddStringToObject(c, "heaplab_build_type", "release");
#else
    cJSON_AddStringToObject(c, "heaplab_build_type", "debug");
#endif
    cJSON_AddStringToObject(c, "compiler", __VERSION__);
    struct utsname u;
    if (uname(&u) == 0) {
        snprintf(buf, sizeof buf, "%s %s %s", u.sysname, u.release, u.machine);
        cJSON_AddStringToObject(c, "kernel", buf);
    }
    if (hl_read_line("/etc/debian_version", buf, sizeof buf) != NULL)
        cJSON_AddStringToObject(c, "debian_version", buf);
    if (hl_cpu_model(buf, sizeof buf) != NULL)
        cJSON_AddStringToObject(c, "cpu_model", buf);
    if (hl_thp_mode(buf, sizeof buf) != NULL)
        cJSON_AddStringToObject(c, "transparent_hugepages", buf);
    add_topology(c);
    cJSON *cmd = cJSON_AddArrayToObject(c, "command_line");
    for (int i = 0; i < argc; i++)
        cJSON_AddItemToArray(cmd, cJSON_CreateString(argv[i]));
    return c;
}

/* ------------------------------------------------------ naming -- */

/* "churn" / "glibc+pool" / "all": part of a results file's name. */
static void stem_part(char *buf, size_t len, const char *const *names, size_t n, int all)
{
    size_t used = 0;
    buf[0] = '\0';
    if (all) {
        snprintf(buf, len, "all");
        return;
    }
    if (n > 3) { /* keep file names short: "churn+11more" */
        snprintf(buf, len, "%s+%zumore", names[0], n - 1);
        return;
    }
    for (size_t i = 0; i < n && used + 1 < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? "+" : "", names[i]);
}

/* hl_results_write adds the date, and a number when the name is taken. */
void hl_results_label(const hl_options *o, char *label, size_t len)
{
    const char *names[HL_MAX_SELECTED];
    char workloads[128], allocators[128];
    size_t registered = hl_workload_count();
    for (size_t i = 0; i < o->nworkloads; i++)
        names[i] = o->workloads[i]->name;
    stem_part(workloads, sizeof workloads, names, o->nworkloads,
              o->nworkloads == registered && registered > 1);
    for (size_t i = 0; i < o->nallocators; i++)
        names[i] = o->allocators[i]->name;
    stem_part(allocators, sizeof allocators, names, o->nallocators, o->allocators_all);
    snprintf(label, len, "%s_%s", workloads, allocators);
}

int hl_results_check_dir(const char *dir, char *err, size_t err_len)
{
    char probe[4096], why[4400];
    snprintf(probe, sizeof probe, "%s/.heaplab-write-test", dir);
    if (hl_make_dirs(dir, why, sizeof why) != 0 ||
        hl_write_file_atomic(probe, "", 0, why, sizeof why) != 0) {
        snprintf(err, err_len, "--out: cannot write results to %s (%s)", dir, why);
        return -1;
    }
    unlink(probe);
    return 0;
}
