/*
 * metrics.c - resident-set and environment readers over /proc and /sys.
 */
#include "harness/metrics.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

long long hl_rss_now(void)
{
    /* statm is cheaper to read than status: two numbers, in pages. */
    char buf[128];
    int fd = open("/proc/self/statm", O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    long long size, resident;
    if (sscanf(buf, "%lld %lld", &size, &resident) != 2)
        return -1;
    return resident * sysconf(_SC_PAGESIZE);
}

long long hl_rss_peak(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL)
        return -1;
    char line[256];
    long long kib = -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "VmHWM: %lld kB", &kib) == 1)
            break;
    fclose(f);
    return kib < 0 ? -1 : kib * 1024;
}

int hl_rss_reset_peak(void)
{
    int fd = open("/proc/self/clear_refs", O_WRONLY);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, "5", 1);
    close(fd);
    return n == 1 ? 0 : -1;
}

const char *hl_read_line(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    char *got = fgets(buf, (int)len, f);
    fclose(f);
    if (got == NULL)
        return NULL;
    buf[strcspn(buf, "\n")] = '\0';
    return buf;
}

const char *hl_thp_mode(char *buf, size_t len)
{
    char line[256];
    if (hl_read_line("/sys/kernel/mm/transparent_hugepage/enabled", line, sizeof line) == NULL)
        return NULL;
    /* The selected mode is the bracketed one: "always [madvise] never". */
    char *open_b = strchr(line, '['), *close_b = open_b ? strchr(open_b, ']') : NULL;
    if (open_b == NULL || close_b == NULL)
        return NULL;
    *close_b = '\0';
    snprintf(buf, len, "%s", open_b + 1);
    return buf;
}

const char *hl_cpu_model(char *buf, size_t len)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f == NULL)
        return NULL;
    char line[512];
    const char *found = NULL;
    while (fgets(line, sizeof line, f) != NULL) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) == 0 && colon != NULL) {
            colon += 1 + (colon[1] == ' ');
            colon[strcspn(colon, "\n")] = '\0';
            snprintf(buf, len, "%s", colon);
            found = buf;
            break;
        }
    }
    fclose(f);
    return found;
}
