/*
 * program.c - `bench [options] -- PROGRAM ARGS...`: a user's own program
 * run under each system allocator.
 *
 * What it models: mimalloc-bench's protocol for real programs (redis, lean,
 * a lua build).  The allocator is swapped in by LD_PRELOAD of its Debian
 * library into a fresh process; glibc runs with nothing preloaded; each run
 * is measured from outside, as GNU time measures it: wall time, user and sys
 * time, peak RSS and page faults.  heaplab adds what mimalloc-bench lacks:
 * RSS over time, a proof that the library really is inside the program,
 * the library's version, and repetitions interleaved across allocators (all
 * allocators' first runs, then all second runs, ...) so that a machine that
 * drifts during the session drifts under every allocator alike.
 *
 * One run:
 *   spawn   fork and exec (the parent learns of a failed exec through a
 *           close-on-exec pipe) into a process group of its own; stdin
 *           /dev/null, stdout /dev/null or, with --program-stdout, a file
 *           of the run's own (so that a suite can check every run's
 *           answer), stderr to a file whose tail a failed run keeps
 *   watch   sigtimedwait on SIGCHLD, waking at the next sample or at the
 *           deadline: the exit is seen at once, so sampling adds nothing to
 *           the wall time
 *   sample  RSS from /proc/PID/statm; from the second sample on, also
 *           /proc/PID/maps for the proof (the latest check decides)
 *   reap    wait4: exit status or signal, and rusage (user, sys, ru_maxrss,
 *           minor and major faults)
 *
 * Why fork and not posix_spawn: the kernel carries the launching memory's
 * high-water mark into the program's ru_maxrss at exec.  posix_spawn's
 * child shares all of bench's memory (file pages included); a fork child
 * holds copies of bench's anonymous pages only, so GNU time's bias (about
 * 1 MiB here) is what remains.  Whatever grows during a session (the runs'
 * records, their samples) lives in mappings marked MADV_DONTFORK, so the
 * tenth run's rss_peak carries no more of bench than the first one's.
 *
 * In-process allocators (pool, arena) are skipped: they serve heaplab's own
 * workloads through the method table and cannot replace a program's malloc.
 */
#include "harness/program.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "harness/interrupt.h"
#include "harness/proc.h"
#include "harness/record.h"
#include "harness/results.h"
#include "recorder/raw.h"
#include "workloads/rng.h"

extern char **environ;

#define TAIL_MAX 2048 /* bytes of a failed run's stderr kept in its row */

/* Where the proof that the allocator is inside the program stands, as of
 * the latest check; a run that ends before its maps could be read stays
 * UNCHECKED and is never counted as verified. */
typedef enum proof_state {
    PROOF_UNCHECKED, /* /proc/PID/maps was never read while the program ran */
    PROOF_UNSEEN,    /* read, but the library was not mapped (yet) */
    PROOF_MAPPED,    /* the library is mapped (glibc: libc, and no other allocator) */
    PROOF_FOREIGN,   /* glibc run, but another allocator's library is mapped */
} proof_state;

/* One selected allocator and what is known about it before any run. */
typedef struct program_allocator {
    const hl_allocator_ops *a;
    size_t index;              /* position in the selection: family_index */
    const char *skip;          /* why it is not run at all, or NULL */
    const char *unavailable;   /* named but missing here: its runs fail, or NULL */
    char library[PATH_MAX];    /* the preloaded file, symlinks resolved; "" for glibc */
    char version[256];         /* from the identity probe, or "" */
    char version_error[512];   /* why the probe failed, or "" */
} program_allocator;

typedef struct rss_sample {
    double t_s;
    long long rss;
} rss_sample;

typedef struct program_run {
    size_t rep;      /* repetition_index */
    size_t alloc;    /* which of the session's allocators */
    long pid;        /* the program's process, once forked */
    int spawned;     /* the program started; the figures below are measured */
    int status;      /* wait4's status */
    int timed_out;
    int interrupted; /* the signal that stopped bench itself, or 0 */
    double wall_s, user_s, sys_s;
    long long rss_peak, minor_faults, major_faults;
    proof_state proof;
    int checks;        /* reads of /proc/PID/maps of the live program */
    int mapped_checks; /* those that found the allocator's library */
    char evidence[PATH_MAX + 1280]; /* preload_evidence */
    char stdout_file[PATH_MAX];     /* --program-stdout: where its stdout went, or "" */
    rss_sample *samples;
    size_t nsamples, cap;
    char error[768];
    char stderr_tail[TAIL_MAX];
} program_run;

static int bad_input(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One line on stderr, nothing on stdout, exit status 2. */
static int bad_input(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 2;
}

/* Zero-filled memory that a fork child does not inherit (MADV_DONTFORK):
 * the session's growing records stay out of the programs' ru_maxrss.
 * NULL on failure; release with unshared_free and the same size. */
static void *unshared_alloc(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    madvise(p, size, MADV_DONTFORK);
    return p;
}

static void unshared_free(void *p, size_t size)
{
    if (p != NULL)
        munmap(p, size);
}

static double timeval_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* ----------------------------------------------------------- the program -- */

static int is_executable_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* The file execvp would run for `name`: name itself when it holds a slash,
 * else the first executable file of that name along PATH (an empty entry is
 * the current directory).  Returns 0, or -1 with a one-line reason. */
static int resolve_program(const char *name, char *path, size_t len, char *err, size_t err_len)
{
    struct stat st;
    if (name[0] == '\0') {
        snprintf(err, err_len, "the program name after -- is empty");
        return -1;
    }
    if (strchr(name, '/') != NULL) {
        if (stat(name, &st) != 0)
            snprintf(err, err_len, "program '%s' not found: %s", name, strerror(errno));
        else if (!S_ISREG(st.st_mode))
            snprintf(err, err_len, "program '%s' is not a file", name);
        else if (access(name, X_OK) != 0)
            snprintf(err, err_len, "program '%s' is not executable", name);
        else {
            snprintf(path, len, "%s", name);
            return 0;
        }
        return -1;
    }
    char fallback[256] = "/usr/local/bin:/usr/bin:/bin";
    const char *search = getenv("PATH");
    if (search == NULL && confstr(_CS_PATH, fallback, sizeof fallback) > 0)
        search = fallback;
    for (const char *p = search ? search : fallback;;) {
        size_t n = strcspn(p, ":");
        snprintf(path, len, "%.*s/%s", (int)(n ? n : 1), n ? p : ".", name);
        if (is_executable_file(path))
            return 0;
        if (p[n] == '\0')
            break;
        p += n + 1;
    }
    snprintf(err, err_len, "program '%s' not found in PATH (or not executable)", name);
    return -1;
}

/* `arg` as a shell word: unchanged when it needs no quoting, else in single
 * quotes.  Appends to buf, which has room (4 * strlen + 3 bytes). */
static void append_shell_word(char *buf, const char *arg)
{
    static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                               "0123456789_@%+=:,./-";
    char *end = buf + strlen(buf);
    if (arg[0] != '\0' && strspn(arg, safe) == strlen(arg)) {
        strcpy(end, arg);
        return;
    }
    *end++ = '\'';
    for (const char *p = arg; *p; p++) {
        if (*p == '\'') {
            memcpy(end, "'\\''", 4);
            end += 4;
        } else {
            *end++ = *p;
        }
    }
    *end++ = '\'';
    *end = '\0';
}

/* The program's command line as one shell-quoted string; caller frees. */
static char *join_command(char **args, int n)
{
    size_t len = 1;
    for (int i = 0; i < n; i++)
        len += 4 * strlen(args[i]) + 3;
    char *text = calloc(1, len);
    for (int i = 0; text != NULL && i < n; i++) {
        if (i > 0)
            strcat(text, " ");
        append_shell_word(text, args[i]);
    }
    return text;
}

/* `name` with every character that does not belong in a file name
 * replaced by '_', for the results' stem. */
static void file_safe(const char *name, char *out, size_t len)
{
    size_t k = 0;
    for (const char *p = name; *p && k + 1 < len; p++)
        out[k++] = (*p == '.' || *p == '-' || *p == '_' || (*p >= '0' && *p <= '9') ||
                    (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
                       ? *p
                       : '_';
    out[k] = '\0';
}

/* ---------------------------------------------------------- allocators -- */

/* The allocator's version, learnt by running this executable with
 * --identify under the same LD_PRELOAD as the program: the library proves
 * itself there (hl_allocator_ops.identify) and names its version.  On
 * failure pa->version stays empty and pa->version_error says why. */
static void probe_version(const char *self, program_allocator *pa)
{
    char flag[160], var[PATH_MAX + 16], out[1024];
    char *args[] = {(char *)self, "--identify", flag, NULL};
    snprintf(flag, sizeof flag, "--allocator=%s", pa->a->name);
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        snprintf(pa->version_error, sizeof pa->version_error, "pipe: %s", strerror(errno));
        return;
    }
    char **env = hl_preload_environment(pa->library[0] ? pa->library : NULL, var, sizeof var);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
    pid_t pid;
    int rc = env == NULL ? ENOMEM : posix_spawn(&pid, self, &fa, NULL, args, env);
    posix_spawn_file_actions_destroy(&fa);
    free(env);
    close(fds[1]);
    size_t len = 0;
    ssize_t n;
    while (rc == 0 && len + 1 < sizeof out &&
           ((n = read(fds[0], out + len, sizeof out - 1 - len)) > 0 || (n < 0 && errno == EINTR)))
        len += n > 0 ? (size_t)n : 0;
    close(fds[0]);
    out[len] = '\0';
    while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == ' '))
        out[--len] = '\0';
    if (rc != 0) {
        snprintf(pa->version_error, sizeof pa->version_error, "cannot run %.300s --identify: %s",
                 self, strerror(rc));
        return;
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    const char *last = strrchr(out, '\n');
    last = last ? last + 1 : out;
    if (strncmp(last, "bench: ", 7) == 0)
        last += 7;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && len > 0 && last == out)
        snprintf(pa->version, sizeof pa->version, "%.255s", out);
    else
        snprintf(pa->version_error, sizeof pa->version_error, "%.511s", last[0] ? last
                 : WIFSIGNALED(status) ? "--identify crashed" : "--identify printed nothing");
}

/* Decide, for each selected allocator, whether it runs, fails or is
 * skipped.  Returns how many will run or fail. */
static size_t plan_allocators(const hl_options *o, program_allocator *pas)
{
    size_t active = 0;
    for (size_t i = 0; i < o->nallocators; i++) {
        program_allocator *pa = &pas[i];
        memset(pa, 0, sizeof *pa);
        pa->a = o->allocators[i];
        pa->index = i;
        const char *missing = pa->a->unavailable ? pa->a->unavailable() : NULL;
        if (!(pa->a->flags & HL_ALLOC_SYSTEM))
            pa->skip = "an in-process allocator serves heaplab's workloads only; it cannot "
                       "replace a program's malloc";
        else if (missing != NULL && o->allocators_all)
            pa->skip = missing;
        else if (missing != NULL)
            pa->unavailable = missing;
        else if (pa->a->preload != NULL && realpath(pa->a->preload, pa->library) == NULL)
            pa->unavailable = "its library cannot be resolved";
        active += pa->skip == NULL;
    }
    return active;
}

/* -------------------------------------------------------------- one run -- */

/* The resident set size of process pid in bytes, or -1 (gone, a zombie, or
 * unreadable): a process that has exited shows zero, which is no sample. */
static long long read_rss(pid_t pid)
{
    char path[64], buf[128];
    snprintf(path, sizeof path, "/proc/%ld/statm", (long)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    long long size, resident;
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    if (sscanf(buf, "%lld %lld", &size, &resident) != 2 || resident <= 0)
        return -1;
    return resident * (long long)sysconf(_SC_PAGESIZE);
}

/* Whether the file `base` (a library's file name) belongs to one of the
 * registered system allocators that are brought in by preloading. */
static const char *foreign_allocator(const char *base)
{
    for (size_t i = 0; i < hl_allocator_count(); i++) {
        const hl_allocator_ops *a = hl_allocator_at(i);
        char stem[64];
        snprintf(stem, sizeof stem, "lib%s", a->name);
        if ((a->flags & HL_ALLOC_SYSTEM) && a->preload != NULL && strncmp(base, stem, strlen(stem)) == 0)
            return a->name;
    }
    return NULL;
}

/* One look at /proc/PID/maps for the proof; the latest look decides, so a
 * program that execs something without the preload (env -u LD_PRELOAD ...)
 * is not credited with what its first image had.  A preloaded allocator is
 * proven when its library file is mapped.  glibc (nothing preloaded) is
 * proven when libc.so is mapped and no other allocator's library is (a
 * program may link one itself).  A read is a check only when the process
 * still had its memory afterwards (/proc/PID/exe resolves): the kernel
 * detaches the memory before tearing it down, and a read during the
 * teardown shows a partial list.  Costs one read of the maps file. */
static void check_maps(pid_t pid, const program_allocator *pa, program_run *run)
{
    char path[64], line[PATH_MAX + 256], libc[PATH_MAX] = "", other[PATH_MAX] = "";
    snprintf(path, sizeof path, "/proc/%ld/maps", (long)pid);
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return;
    int lines = 0, found = 0;
    while (!found && fgets(line, sizeof line, f) != NULL) {
        int at = 0;
        lines++;
        line[strcspn(line, "\n")] = '\0';
        if (sscanf(line, "%*s %*s %*s %*s %*s %n", &at) < 0 || at <= 0 || line[at] != '/')
            continue;
        const char *file = line + at, *base = strrchr(file, '/') + 1;
        if (pa->library[0] != '\0')
            found = strcmp(file, pa->library) == 0;
        else if (strncmp(base, "libc.so", 7) == 0)
            snprintf(libc, sizeof libc, "%s", file);
        else if (foreign_allocator(base) != NULL)
            snprintf(other, sizeof other, "%s", file);
    }
    fclose(f);
    char exe_link[64], exe[PATH_MAX];
    snprintf(exe_link, sizeof exe_link, "/proc/%ld/exe", (long)pid);
    ssize_t exe_len = readlink(exe_link, exe, sizeof exe - 1);
    if (lines == 0 || exe_len <= 0)
        return;
    exe[exe_len] = '\0';
    run->checks++;
    if (pa->library[0] == '\0')
        found = libc[0] != '\0' && other[0] == '\0';
    run->proof = found ? PROOF_MAPPED : other[0] ? PROOF_FOREIGN : PROOF_UNSEEN;
    run->mapped_checks += found;
    if (pa->library[0] != '\0')
        snprintf(run->evidence, sizeof run->evidence, "%s %s in %.1024s at the last check "
                 "(mapped at %d of %d checks)", pa->library, found ? "mapped" : "NOT mapped",
                 exe, run->mapped_checks, run->checks);
    else if (other[0] != '\0')
        snprintf(run->evidence, sizeof run->evidence, "%s is mapped in %.1024s at the last "
                 "check: its malloc may not be glibc's", other, exe);
    else
        snprintf(run->evidence, sizeof run->evidence, "%s in %.1024s at the last check, and "
                 "no other allocator's library (%d of %d checks)",
                 found ? libc : "libc.so NOT mapped", exe, run->mapped_checks, run->checks);
}

static void add_sample(program_run *run, double t_s, long long rss)
{
    if (rss < 0)
        return;
    if (run->nsamples == run->cap) {
        size_t cap = run->cap ? run->cap * 2 : 4096; /* 64 KiB first */
        rss_sample *s = run->samples == NULL
                            ? unshared_alloc(cap * sizeof *s)
                            : mremap(run->samples, run->cap * sizeof *s, cap * sizeof *s,
                                     MREMAP_MAYMOVE); /* keeps MADV_DONTFORK */
        if (s == NULL || s == MAP_FAILED)
            return; /* memory over time is incomplete; the run still counts */
        run->samples = s;
        run->cap = cap;
    }
    run->samples[run->nsamples++] = (rss_sample){t_s, rss};
}

/* Kill the program's whole process group and reap the program. */
static void kill_and_reap(pid_t pid, int *status, struct rusage *ru)
{
    killpg(pid, SIGKILL);
    kill(pid, SIGKILL);
    while (wait4(pid, status, 0, ru) < 0 && errno == EINTR) {
    }
}

/* The forked child: its own process group, stdin /dev/null, stdout to
 * out_path (truncated; /dev/null when it is ""), stderr to err_path,
 * bench's original signal mask, the address-space limit of --rlimit-as when
 * one is given, then the program.  On failure the errno goes up `report`
 * and the child exits 127.  Only async-signal-safe calls from fork to exec. */
static void exec_program(const char *file, char **args, char **env, const char *out_path,
                         const char *err_path, const sigset_t *mask,
                         const struct rlimit *as_limit, int report)
{
    int in = open("/dev/null", O_RDONLY);
    int out = out_path[0] ? open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644)
                          : open("/dev/null", O_WRONLY);
    int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (setpgid(0, 0) == 0 && in >= 0 && out >= 0 && err >= 0 && dup2(in, 0) == 0 &&
        dup2(out, 1) == 1 && dup2(err, 2) == 2 && sigprocmask(SIG_SETMASK, mask, NULL) == 0 &&
        (as_limit == NULL || setrlimit(RLIMIT_AS, as_limit) == 0)) {
        int opened[] = {in, out, err};
        for (int i = 0; i < 3; i++)
            if (opened[i] > 2)
                close(opened[i]);
        execve(file, args, env);
    }
    int e = errno;
    if (write(report, &e, sizeof e) < 0)
        _exit(126);
    _exit(127);
}

/* Run the program once under pa and measure it into run, its stdout into
 * out_path ("" for /dev/null).  `watched` holds the signals blocked in
 * bench during runs (SIGCHLD and the ones that stop bench); `mask` is the
 * signal mask the program starts with.  Never exits: every outcome,
 * interruption included, lands in run. */
static void run_program(const hl_options *o, const program_allocator *pa, const char *file,
                        char **args, const char *out_path, const char *err_path,
                        const sigset_t *watched, const sigset_t *mask, program_run *run)
{
    memset(run, 0, sizeof *run);
    snprintf(run->stdout_file, sizeof run->stdout_file, "%s", out_path);
    run->rss_peak = run->minor_faults = run->major_faults = -1;
    if (pa->unavailable != NULL) {
        snprintf(run->error, sizeof run->error, "allocator %s unavailable: %s", pa->a->name,
                 pa->unavailable);
        return;
    }
    char var[PATH_MAX + 16];
    char **env = hl_preload_environment(pa->library[0] ? pa->library : NULL, var, sizeof var);
    int fds[2] = {-1, -1}, rc = env == NULL ? ENOMEM : pipe2(fds, O_CLOEXEC) != 0 ? errno : 0;
    uint64_t t0 = hl_now_ns();
    struct rlimit as_limit = {(rlim_t)o->rlimit_as, (rlim_t)o->rlimit_as};
    pid_t pid = rc == 0 ? fork() : -1;
    if (pid == 0) /* never returns */
        exec_program(file, args, env, out_path, err_path, mask,
                     o->rlimit_as ? &as_limit : NULL, fds[1]);
    if (rc == 0 && pid < 0)
        rc = errno;
    run->pid = pid;
    if (pid > 0) {
        setpgid(pid, pid); /* as the child does: no window without its group */
        close(fds[1]);
        int child_errno = 0;
        ssize_t n;
        while ((n = read(fds[0], &child_errno, sizeof child_errno)) < 0 && errno == EINTR) {
        }
        if (n > 0) { /* the exec failed: nothing of the program ran */
            int status;
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
            }
            rc = child_errno;
        }
    }
    if (fds[0] >= 0)
        close(fds[0]);
    if (pid <= 0 && fds[1] >= 0)
        close(fds[1]);
    free(env);
    if (rc != 0) {
        snprintf(run->error, sizeof run->error, "cannot start %.500s: %s", file, strerror(rc));
        return;
    }
    run->spawned = 1;

    uint64_t period = (uint64_t)(1e9 / o->sample_hz);
    period = period ? period : 1;
    uint64_t deadline = t0 + (uint64_t)o->timeout_s * 1000000000u;
    uint64_t next = t0, t_end;
    int first = 1, status = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    for (;;) {
        pid_t w = wait4(pid, &status, WNOHANG, &ru);
        uint64_t now = hl_now_ns();
        if (w == pid) {
            t_end = now;
            break;
        }
        if (w < 0 && errno != EINTR) { /* cannot happen while SIGCHLD is not ignored */
            snprintf(run->error, sizeof run->error, "lost the program: wait4: %s",
                     strerror(errno));
            run->spawned = 0;
            return;
        }
        if (now >= deadline) {
            kill_and_reap(pid, &status, &ru);
            t_end = hl_now_ns();
            run->timed_out = 1;
            break;
        }
        if (now >= next) {
            add_sample(run, (double)(now - t0) / 1e9, read_rss(pid));
            /* Not at the first sample: the loader has only just started. */
            if (!first)
                check_maps(pid, pa, run);
            first = 0;
            next += ((now - next) / period + 1) * period;
        }
        uint64_t until = (next < deadline ? next : deadline) - now;
        struct timespec ts = {(time_t)(until / 1000000000u), (long)(until % 1000000000u)};
        int sig = sigtimedwait(watched, NULL, &ts);
        if (sig > 0 && sig != SIGCHLD) {
            kill_and_reap(pid, &status, &ru);
            run->interrupted = sig;
            return;
        }
    }
    run->status = status;
    run->wall_s = (double)(t_end - t0) / 1e9;
    run->user_s = timeval_s(ru.ru_utime);
    run->sys_s = timeval_s(ru.ru_stime);
    run->rss_peak = (long long)ru.ru_maxrss * 1024;
    run->minor_faults = ru.ru_minflt;
    run->major_faults = ru.ru_majflt;
    if (run->proof == PROOF_UNCHECKED)
        snprintf(run->evidence, sizeof run->evidence, "not checked: the program ended before "
                 "its first check (%g s after the start)", 1.0 / o->sample_hz);

    hl_read_tail(err_path, run->stderr_tail, sizeof run->stderr_tail);
    const char *last = strrchr(run->stderr_tail, '\n');
    last = last ? last + 1 : run->stderr_tail;
    if (run->timed_out)
        snprintf(run->error, sizeof run->error, "timed out after %" PRId64 " s (killed)",
                 o->timeout_s);
    else if (WIFSIGNALED(status))
        snprintf(run->error, sizeof run->error, "crashed: signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else if (WEXITSTATUS(status) != 0)
        snprintf(run->error, sizeof run->error, "exited with status %d%s%.600s",
                 WEXITSTATUS(status), last[0] ? ": " : "", last);
}

/* ------------------------------------------------------------- reporting -- */

static int run_failed(const program_run *run)
{
    return run->error[0] != '\0';
}

/* One console line per run. */
static void print_run(size_t rep, int64_t reps, const program_allocator *pa,
                      const program_run *run)
{
    printf("rep %zu/%" PRId64 "  %-9s %-7s", rep + 1, reps, pa->a->name,
           run_failed(run) ? "FAILED" : "ok");
    if (run->spawned)
        printf("  wall %8.3f s  user %8.3f s  sys %7.3f s  peak RSS %9.1f MiB  faults %lld "
               "minor %lld major", run->wall_s, run->user_s, run->sys_s,
               (double)run->rss_peak / (1024.0 * 1024.0), run->minor_faults, run->major_faults);
    if (run_failed(run))
        printf("  %s\n", run->error);
    else
        printf("  allocator %s\n", run->proof == PROOF_MAPPED      ? "verified"
                                   : run->proof == PROOF_UNCHECKED ? "not checked (ended first)"
                                                                   : "NOT verified");
    fflush(stdout);
}

/* The run's row, in Google Benchmark's shape with heaplab's figures as
 * top-level keys; absent figures are left out, never written as zero. */
static cJSON *run_row(const hl_options *o, const program_allocator *pa, const char *variant,
                      const char *command, size_t rep, const program_run *run)
{
    char name[512];
    snprintf(name, sizeof name, "program/%s/%s/-", variant, pa->a->name);
    cJSON *row = cJSON_CreateObject();
    cJSON_AddStringToObject(row, "name", name);
    cJSON_AddNumberToObject(row, "family_index", (double)pa->index);
    cJSON_AddNumberToObject(row, "per_family_instance_index", 0);
    cJSON_AddStringToObject(row, "run_name", name);
    cJSON_AddStringToObject(row, "run_type", "iteration");
    cJSON_AddNumberToObject(row, "repetitions", (double)o->repetitions);
    cJSON_AddNumberToObject(row, "repetition_index", (double)rep);
    cJSON_AddNumberToObject(row, "threads", 1);
    if (run_failed(run)) {
        cJSON_AddBoolToObject(row, "error_occurred", 1);
        cJSON_AddStringToObject(row, "error_message", run->error);
    }
    if (run->spawned) {
        cJSON_AddNumberToObject(row, "iterations", 1);
        cJSON_AddNumberToObject(row, "real_time", run->wall_s * 1e9);
        cJSON_AddNumberToObject(row, "cpu_time", (run->user_s + run->sys_s) * 1e9);
        cJSON_AddStringToObject(row, "time_unit", "ns");
    }
    cJSON_AddStringToObject(row, "workload", "program");
    cJSON_AddStringToObject(row, "variant", variant);
    cJSON_AddStringToObject(row, "allocator", pa->a->name);
    if (pa->version[0] != '\0')
        cJSON_AddStringToObject(row, "allocator_version", pa->version);
    else if (pa->version_error[0] != '\0')
        cJSON_AddStringToObject(row, "allocator_version_error", pa->version_error);
    cJSON_AddStringToObject(row, "collector", "-");
    cJSON_AddStringToObject(row, "params", command);
    if (run->spawned) {
        cJSON_AddNumberToObject(row, "seconds", run->wall_s);
        cJSON_AddNumberToObject(row, "user_seconds", run->user_s);
        cJSON_AddNumberToObject(row, "sys_seconds", run->sys_s);
        if (run->rss_peak > 0)
            cJSON_AddNumberToObject(row, "rss_peak", (double)run->rss_peak);
        cJSON_AddNumberToObject(row, "minor_faults", (double)run->minor_faults);
        cJSON_AddNumberToObject(row, "major_faults", (double)run->major_faults);
        if (WIFEXITED(run->status) && !run->timed_out)
            cJSON_AddNumberToObject(row, "exit_status", WEXITSTATUS(run->status));
        else
            cJSON_AddNumberToObject(row, "signal", WTERMSIG(run->status));
        if (run->timed_out)
            cJSON_AddBoolToObject(row, "timed_out", 1);
        cJSON_AddBoolToObject(row, "preload_verified", run->proof == PROOF_MAPPED);
        if (pa->library[0] != '\0')
            cJSON_AddStringToObject(row, "preload_library", pa->library);
        cJSON_AddNumberToObject(row, "preload_checks", run->checks);
        cJSON_AddStringToObject(row, "preload_evidence", run->evidence);
        if (run->stdout_file[0] != '\0')
            cJSON_AddStringToObject(row, "stdout_file", run->stdout_file);
    }
    if (run_failed(run) && run->stderr_tail[0] != '\0')
        cJSON_AddStringToObject(row, "stderr_tail", run->stderr_tail);
    return row;
}

/* The run's memory over time, for <stem>.samples.csv: one series per run,
 * named by its row and repetition. */
static cJSON *run_series(const program_allocator *pa, const char *variant, size_t rep,
                         const program_run *run)
{
    char name[512];
    snprintf(name, sizeof name, "program/%s/%s/-/rep%zu", variant, pa->a->name, rep);
    cJSON *one = cJSON_CreateObject();
    cJSON_AddStringToObject(one, "name", name);
    cJSON_AddStringToObject(one, "workload", "program");
    cJSON_AddStringToObject(one, "variant", variant);
    cJSON_AddStringToObject(one, "allocator", pa->a->name);
    cJSON_AddStringToObject(one, "collector", "-");
    cJSON *samples = cJSON_AddArrayToObject(one, "samples");
    for (size_t i = 0; i < run->nsamples; i++) {
        cJSON *s = cJSON_CreateArray();
        cJSON_AddItemToArray(s, cJSON_CreateNumber(run->samples[i].t_s));
        cJSON_AddItemToArray(s, cJSON_CreateString("run"));
        cJSON_AddItemToArray(s, cJSON_CreateNumber((double)run->samples[i].rss));
        cJSON_AddItemToArray(s, cJSON_CreateNull());
        cJSON_AddItemToArray(samples, s);
    }
    return one;
}

/* Google Benchmark's context keys that a cell would have given, plus what
 * was run; hl_results_context adds the environment. */
static cJSON *program_context(const hl_options *o, const char *file, const char *command,
                              int argc, char **argv)
{
    cJSON *c = cJSON_CreateObject();
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    cJSON_AddStringToObject(c, "host_name", host);
    cJSON_AddStringToObject(c, "executable", file);
    cJSON_AddNumberToObject(c, "num_cpus", (double)sysconf(_SC_NPROCESSORS_ONLN));
    cJSON_AddStringToObject(c, "program", command);
    cJSON_AddStringToObject(c, "program_stdout", o->program_stdout ? o->program_stdout
                                                                   : "/dev/null");
    cJSON_AddStringToObject(c, "program_stderr", "a temporary file; a failed run keeps its tail");
    return hl_results_context(c, argc, argv);
}

/* program-<name>_<allocators>: the results files' name after their date
 * (hl_results_write adds the date, and a number when the name is taken). */
static void results_label(const hl_options *o, const char *variant, char *label, size_t len)
{
    char allocators[256] = "", safe[128];
    size_t used = 0;
    for (size_t i = 0; i < o->nallocators && !o->allocators_all && used + 1 < sizeof allocators;
         i++)
        used += (size_t)snprintf(allocators + used, sizeof allocators - used, "%s%s",
                                 i ? "+" : "", o->allocators[i]->name);
    file_safe(variant, safe, sizeof safe);
    snprintf(label, len, "program-%s_%s", safe, o->allocators_all ? "all" : allocators);
}

/* ------------------------------------------------------------------ main -- */

/* Everything one session keeps, in memory the programs do not inherit. */
typedef struct session {
    program_allocator pas[HL_MAX_SELECTED];
    size_t active;      /* allocators that run (or fail for want of a library) */
    program_run *runs;  /* repetitions x active, in the order they ran */
    size_t nruns, cap;
    size_t failed;
    int interrupted;    /* the signal that stopped the session, or 0 */
    hl_record_stats record; /* --record: the trace written (record.bytes > 0) */
} session;

/* Every run, interleaved: repetition 1 of each allocator, then repetition
 * 2, ...; with --shuffle each repetition takes the allocators in its own
 * seeded random order (Mesh's and Google Benchmark's advice against order
 * effects).  While a program runs, bench waits for SIGCHLD in sigtimedwait and
 * turns the signals that would stop it into killing the program first (the
 * program's process group is out of the terminal's reach).  Prints one line
 * per run. */
static void run_all(const hl_options *o, const char *file, session *ss)
{
    sigset_t watched, saved;
    sigemptyset(&watched);
    sigaddset(&watched, SIGCHLD);
    /* A blocked signal is queued even when ignored: leave ignored ones
     * (nohup's SIGHUP, a background job's SIGINT) alone. */
    hl_stop_signals(&watched);
    struct sigaction dfl = {.sa_handler = SIG_DFL}, saved_chld;
    sigaction(SIGCHLD, &dfl, &saved_chld); /* an ignored SIGCHLD would reap for us */
    sigprocmask(SIG_BLOCK, &watched, &saved);

    size_t order[HL_MAX_SELECTED];
    uint64_t shuffle_state = o->shuffle_seed;
    for (int64_t rep = 0; rep < o->repetitions && !ss->interrupted; rep++) {
        for (size_t i = 0; i < o->nallocators; i++)
            order[i] = i;
        if (o->shuffle)
            hl_shuffle(order, o->nallocators, &shuffle_state);
        for (size_t k = 0; k < o->nallocators && !ss->interrupted; k++) {
            size_t i = order[k];
            const program_allocator *pa = &ss->pas[i];
            if (pa->skip != NULL || ss->nruns == ss->cap)
                continue;
            program_run *run = &ss->runs[ss->nruns];
            char err_path[PATH_MAX + 64], out_path[PATH_MAX] = "";
            snprintf(err_path, sizeof err_path, "%s/.program-%ld-%zu.err", o->out_dir,
                     (long)getpid(), ss->nruns);
            if (o->program_stdout != NULL)
                snprintf(out_path, sizeof out_path, "%s/%s-rep%" PRId64 ".stdout",
                         o->program_stdout, pa->a->name, rep);
            run_program(o, pa, file, o->program, out_path, err_path, &watched, &saved, run);
            unlink(err_path);
            run->rep = (size_t)rep;
            run->alloc = i;
            ss->interrupted = run->interrupted;
            if (!ss->interrupted) {
                print_run(run->rep, o->repetitions, pa, run);
                ss->failed += run_failed(run);
                ss->nruns++;
            }
        }
    }
    sigprocmask(SIG_SETMASK, &saved, NULL);
    sigaction(SIGCHLD, &saved_chld, NULL);
}

/* The results document and the memory series of the session's finished
 * runs, written whole (a stopped session's too: its context then names the
 * signal), the stem used in stem.  Returns 0, or -1 with a reason in err. */
static int write_results(const hl_options *o, const session *ss, const char *file,
                         const char *variant, const char *command, int argc, char **argv,
                         char *stem, size_t stem_len, char *err, size_t err_len)
{
    cJSON *doc = cJSON_CreateObject(), *rows = cJSON_CreateArray();
    cJSON *skipped = cJSON_CreateArray(), *series = cJSON_CreateArray();
    for (size_t k = 0; k < ss->nruns; k++) {
        const program_run *run = &ss->runs[k];
        const program_allocator *pa = &ss->pas[run->alloc];
        cJSON_AddItemToArray(rows, run_row(o, pa, variant, command, run->rep, run));
        if (run->nsamples > 0)
            cJSON_AddItemToArray(series, run_series(pa, variant, run->rep, run));
    }
    for (size_t i = 0; i < o->nallocators; i++) {
        char name[512];
        if (ss->pas[i].skip == NULL)
            continue;
        cJSON *one = cJSON_CreateObject();
        snprintf(name, sizeof name, "program/%s/%s/-", variant, ss->pas[i].a->name);
        cJSON_AddStringToObject(one, "name", name);
        cJSON_AddStringToObject(one, "reason", ss->pas[i].skip);
        cJSON_AddItemToArray(skipped, one);
    }
    cJSON *context = program_context(o, file, command, argc, argv);
    if (ss->record.bytes > 0) { /* --record: what the trace holds */
        cJSON *rec = cJSON_AddObjectToObject(context, "recorded_trace");
        cJSON_AddStringToObject(rec, "file", o->record);
        cJSON_AddNumberToObject(rec, "events", (double)ss->record.events);
        cJSON_AddNumberToObject(rec, "calls_seen", (double)ss->record.raw_events);
        cJSON_AddNumberToObject(rec, "threads", (double)ss->record.threads);
        cJSON_AddNumberToObject(rec, "bytes", (double)ss->record.bytes);
        cJSON_AddNumberToObject(rec, "bytes_per_event",
                                (double)ss->record.bytes / (double)ss->record.events);
        cJSON_AddNumberToObject(rec, "live_peak_bytes", (double)ss->record.live_peak);
        cJSON_AddNumberToObject(rec, "unknown_frees", (double)ss->record.unknown_frees);
    }
    if (ss->interrupted)
        cJSON_AddStringToObject(context, "interrupted_by", hl_stop_name(ss->interrupted));
    cJSON_AddItemToObject(doc, "context", context);
    cJSON_AddItemToObject(doc, "benchmarks", rows);
    cJSON_AddItemToObject(doc, "skipped", skipped);
    char label[512];
    results_label(o, variant, label, sizeof label);
    int rc = hl_results_write(o->out_dir, label, doc, series, stem, stem_len, err, err_len);
    cJSON_Delete(doc);
    cJSON_Delete(series);
    return rc;
}

/* A stopped session (its program killed) keeps the runs that finished, and
 * says in one line on stderr what was kept and where; with none finished it
 * writes nothing. */
static void keep_interrupted(const hl_options *o, const session *ss, const char *file,
                             const char *variant, const char *command, int argc, char **argv)
{
    char stem[600], err[1024];
    const char *sig = hl_stop_name(ss->interrupted);
    fflush(stdout);
    if (ss->nruns == 0)
        fprintf(stderr, "bench: interrupted by %s before any run finished; the program was "
                "killed and nothing written\n", sig);
    else if (write_results(o, ss, file, variant, command, argc, argv, stem, sizeof stem, err,
                           sizeof err) != 0)
        fprintf(stderr, "bench: interrupted by %s; the finished runs are lost: %s\n", sig, err);
    else
        fprintf(stderr, "bench: interrupted by %s: kept %zu of %zu run(s) in %s/%s.json (.csv, "
                ".samples.csv); the program's run in progress was killed\n", sig, ss->nruns,
                ss->cap, o->out_dir, stem);
}

int hl_program_main(const hl_options *o, int argc, char **argv)
{
    char err[1024] = "", file[PATH_MAX], self[PATH_MAX];
    if (o->nprogram == 0)
        return bad_input("-- needs a program to run: bench [options] -- PROGRAM [ARGS...]");
    if (hl_options_program_refuses(o) != NULL)
        return bad_input("--%s does not apply to -- PROGRAM (the program is measured from "
                         "outside)", hl_options_program_refuses(o));
    if (resolve_program(o->program[0], file, sizeof file, err, sizeof err) != 0)
        return bad_input("%s", err);
    if (hl_results_check_dir(o->out_dir, err, sizeof err) != 0)
        return bad_input("%s", err);
    hl_record_session record; /* --record: the recorder is glibc's preload */
    if (o->record != NULL && hl_record_prepare(o, &record, err, sizeof err) != 0)
        return bad_input("%s", err);
    if (o->program_stdout != NULL && (hl_make_dirs(o->program_stdout, err, sizeof err) != 0 ||
                                      access(o->program_stdout, W_OK | X_OK) != 0))
        return bad_input("--program-stdout: cannot write to %s (%s)", o->program_stdout,
                         err[0] ? err : strerror(errno));
    ssize_t self_len = readlink("/proc/self/exe", self, sizeof self - 1);
    self[self_len > 0 ? self_len : 0] = '\0';

    session *ss = unshared_alloc(sizeof *ss);
    if (ss == NULL) {
        fprintf(stderr, "bench: out of memory\n");
        return 1;
    }
    ss->active = plan_allocators(o, ss->pas);
    if (ss->active == 0) {
        size_t used = 0;
        for (size_t i = 0; i < o->nallocators && used + 1 < sizeof err; i++)
            used += (size_t)snprintf(err + used, sizeof err - used, "%s%s: %s", i ? "; " : "",
                                     ss->pas[i].a->name, ss->pas[i].skip);
        unshared_free(ss, sizeof *ss);
        return bad_input("no selected allocator can run a program (%s)", err);
    }
    ss->cap = (size_t)o->repetitions * ss->active;
    ss->runs = unshared_alloc(ss->cap * sizeof *ss->runs);
    const char *slash = strrchr(o->program[0], '/');
    const char *variant = slash ? slash + 1 : o->program[0];
    char *command = join_command(o->program, o->nprogram);
    if (ss->runs == NULL || command == NULL) {
        fprintf(stderr, "bench: out of memory\n");
        unshared_free(ss->runs, ss->cap * sizeof *ss->runs);
        unshared_free(ss, sizeof *ss);
        free(command);
        return 1;
    }

    printf("heaplab: program %s under %zu allocator(s), %" PRId64 " repetition(s) "
           "interleaved; its stdout to %s, its stderr to a file (tail kept on failure)\n",
           command, ss->active, o->repetitions,
           o->program_stdout ? o->program_stdout : "/dev/null");
    if (o->shuffle)
        printf("heaplab: allocators in random order in each repetition (--shuffle=%" PRIu64 ")\n",
               o->shuffle_seed);
    for (size_t i = 0; i < o->nallocators; i++) {
        program_allocator *pa = &ss->pas[i];
        if (pa->skip != NULL) {
            printf("skip      %-9s %s\n", pa->a->name, pa->skip);
        } else if (pa->unavailable == NULL) {
            probe_version(self, pa);
            if (pa->version[0] == '\0')
                printf("note      %-9s version unknown: %s\n", pa->a->name, pa->version_error);
        }
    }
    if (o->record != NULL) { /* after the identity probes: they must not be recorded */
        snprintf(ss->pas[0].library, sizeof ss->pas[0].library, "%s", record.library);
        setenv(RAW_ENV_DIR, record.raw_dir, 1);
        printf("heaplab: recording the program's allocation calls into %s (docs/replay.md)\n",
               o->record);
    }
    fflush(stdout);
    run_all(o, file, ss);
    int record_failed = 0;
    if (o->record != NULL) {
        unsetenv(RAW_ENV_DIR);
        if (hl_record_finish(o, &record, ss->nruns ? ss->runs[0].pid : -1,
                             ss->nruns == 1 && !ss->interrupted && !run_failed(&ss->runs[0]),
                             &ss->record, err, sizeof err) != 0 && !ss->interrupted) {
            fprintf(stderr, "bench: --record=%s: %s\n", o->record, err);
            record_failed = 1;
        }
        fflush(stdout);
    }

    int status = ss->failed || record_failed ? 1 : 0;
    char stem[600];
    if (ss->interrupted) {
        keep_interrupted(o, ss, file, variant, command, argc, argv);
        status = 128 + ss->interrupted;
    } else if (write_results(o, ss, file, variant, command, argc, argv, stem, sizeof stem, err,
                             sizeof err) != 0) {
        fprintf(stderr, "bench: %s\n", err);
        status = 1;
    } else {
        printf("results: %s/%s.json, .csv and .samples.csv\n", o->out_dir, stem);
        fflush(stdout);
        if (ss->failed)
            fprintf(stderr, "bench: %zu of %zu run(s) failed; their rows carry the error\n",
                    ss->failed, ss->nruns);
    }
    int interrupted = ss->interrupted;
    for (size_t k = 0; k < ss->cap; k++)
        unshared_free(ss->runs[k].samples, ss->runs[k].cap * sizeof *ss->runs[k].samples);
    unshared_free(ss->runs, ss->cap * sizeof *ss->runs);
    unshared_free(ss, sizeof *ss);
    free(command);
    if (interrupted)
        hl_stop_die(interrupted); /* die of the signal, as the shell expects */
    return status;
}

int hl_program_identify(const hl_options *o)
{
    char version[256] = "", why[512] = "";
    if (o->nallocators != 1)
        return bad_input("--identify needs exactly one allocator");
    const hl_allocator_ops *a = o->allocators[0];
    if (a->identify == NULL) {
        fprintf(stderr, "bench: allocator %s cannot identify itself\n", a->name);
        return 1;
    }
    if (a->identify(version, sizeof version, why, sizeof why) != 0) {
        fprintf(stderr, "bench: %s\n", why);
        return 1;
    }
    printf("%s\n", version);
    return 0;
}
