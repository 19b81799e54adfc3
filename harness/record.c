/*
 * record.c - `bench --record=FILE -- PROGRAM`: preparing a recording and
 * turning the recorder's raw files into traces (record.h).
 *
 * Conversion, one raw file (recorder/raw.h) into one trace
 * (common/trace.h):
 *   map      the raw file is mapped read-only and its used chunks listed;
 *   merge    the chunks (each sorted: one thread's events in order) are
 *            merged by sequence number with a binary heap: the process-wide
 *            order the recorder saw;
 *   resolve  addresses become slots through an open-addressing table
 *            (address -> slot) as the events go by: an allocation maps its
 *            address, a free unmaps it, a realloc unmaps the old address at
 *            its BEGIN and maps the new one at its END (in between, another
 *            thread may already have been given the old address);
 *   write    the trace writer encodes the events per thread, and the file
 *            is written under a temporary name and renamed, so FILE appears
 *            whole or not at all.
 * Addresses end here: a trace holds none.  Cost: O(E log C) for E events
 * in C chunks; memory: the table of live addresses and the encoded trace.
 */
#include "harness/record.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/trace.h"
#include "recorder/raw.h"

static int fail(char *err, size_t err_len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t err_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
    return -1;
}

/* ------------------------------------------------------ address table -- */

/* Live address -> slot, linear probing, deletion by backward shift (no
 * tombstones, so a long recording never degrades it).  Key 0 is empty. */
typedef struct addr_map {
    uint64_t *keys;
    uint32_t *slots;
    size_t cap, n; /* cap a power of two, n <= cap / 2 */
} addr_map;

static size_t addr_home(const addr_map *m, uint64_t key)
{
    return (size_t)((key >> 4) * UINT64_C(0x9E3779B97F4A7C15) >> 20) & (m->cap - 1);
}

static int addr_find(const addr_map *m, uint64_t key, uint32_t *slot)
{
    for (size_t i = addr_home(m, key);; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == 0)
            return 0;
        if (m->keys[i] == key) {
            *slot = m->slots[i];
            return 1;
        }
    }
}

static int addr_put(addr_map *m, uint64_t key, uint32_t slot);

static int addr_grow(addr_map *m)
{
    addr_map bigger = {calloc(m->cap * 2, sizeof *m->keys), calloc(m->cap * 2, sizeof *m->slots),
                       m->cap * 2, 0};
    if (bigger.keys == NULL || bigger.slots == NULL) {
        free(bigger.keys);
        free(bigger.slots);
        return -1;
    }
    for (size_t i = 0; i < m->cap; i++)
        if (m->keys[i] != 0)
            addr_put(&bigger, m->keys[i], m->slots[i]);
    free(m->keys);
    free(m->slots);
    *m = bigger;
    return 0;
}

/* Map key to slot (replacing an existing mapping). */
static int addr_put(addr_map *m, uint64_t key, uint32_t slot)
{
    if ((m->n + 1) * 2 > m->cap && addr_grow(m) != 0)
        return -1;
    size_t i = addr_home(m, key);
    while (m->keys[i] != 0 && m->keys[i] != key)
        i = (i + 1) & (m->cap - 1);
    m->n += m->keys[i] == 0;
    m->keys[i] = key;
    m->slots[i] = slot;
    return 0;
}

/* Unmap key; 1 with its slot, or 0 when it was not mapped. */
static int addr_take(addr_map *m, uint64_t key, uint32_t *slot)
{
    size_t i = addr_home(m, key);
    while (m->keys[i] != key) {
        if (m->keys[i] == 0)
            return 0;
        i = (i + 1) & (m->cap - 1);
    }
    *slot = m->slots[i];
    m->keys[i] = 0;
    m->n--;
    /* Backward shift: move up every later entry of the run that may no
     * longer be reachable from its home. */
    for (size_t j = (i + 1) & (m->cap - 1); m->keys[j] != 0; j = (j + 1) & (m->cap - 1)) {
        size_t home = addr_home(m, m->keys[j]);
        int movable = i <= j ? (home <= i || home > j) : (home <= i && home > j);
        if (movable) {
            m->keys[i] = m->keys[j];
            m->slots[i] = m->slots[j];
            m->keys[j] = 0;
            i = j;
        }
    }
    return 1;
}

/* --------------------------------------------------------- chunk merge -- */

typedef struct cursor {
    const raw_event *ev;
    uint32_t left;
    uint32_t thread;
} cursor;

static uint64_t cursor_seq(const cursor *c)
{
    return c->ev->seq_kind >> 8;
}

/* Restore the min-heap property below position i. */
static void heap_down(cursor *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && cursor_seq(&h[l]) < cursor_seq(&h[m]))
            m = l;
        if (r < n && cursor_seq(&h[r]) < cursor_seq(&h[m]))
            m = r;
        if (m == i)
            return;
        cursor t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

/* The used chunks of the raw file at base[0..len), as cursors. */
static cursor *list_chunks(const unsigned char *base, size_t len, size_t *n, uint32_t *nthreads,
                           uint64_t *raw_events)
{
    size_t count = len / RAW_CHUNK_BYTES, used = 0;
    cursor *cs = calloc(count ? count : 1, sizeof *cs);
    if (cs == NULL)
        return NULL;
    *nthreads = 0;
    *raw_events = 0;
    for (size_t i = 0; i < count; i++) {
        const raw_chunk_header *hd = (const raw_chunk_header *)(base + i * RAW_CHUNK_BYTES);
        uint32_t events = hd->count < RAW_EVENTS_PER_CHUNK ? hd->count : RAW_EVENTS_PER_CHUNK;
        if (hd->magic != RAW_MAGIC || events == 0)
            continue;
        cs[used++] = (cursor){(const raw_event *)(hd + 1), events, hd->thread};
        *nthreads = hd->thread + 1 > *nthreads ? hd->thread + 1 : *nthreads;
        *raw_events += events;
    }
    *n = used;
    return cs;
}

/* --------------------------------------------------------- conversion -- */

typedef struct converter {
    hl_trace_writer *w;
    addr_map map;
    int64_t *pending;       /* per raw thread: the slot a realloc is moving, or -1 */
    uint64_t *pending_addr; /* and its old address */
    hl_record_stats *st;
    hl_trace_error terr;
} converter;

#define PENDING_NONE (-1)

/* An allocation of `kind` at addr by thread t. */
static int convert_alloc(converter *cv, uint32_t t, hl_trace_kind kind, uint64_t addr,
                         uint64_t size, unsigned align_log2)
{
    uint32_t slot;
    /* The allocator handed out an address still live in the trace: its free
     * went by a path the recorder does not see.  The old object is dead. */
    if (addr_take(&cv->map, addr, &slot)) {
        cv->st->unknown_frees++;
        if (hl_trace_put(cv->w, t, HL_TRACE_FREE, &slot, 0, 0, &cv->terr) != 0)
            return -1;
    }
    if (hl_trace_put(cv->w, t, kind, &slot, size, align_log2, &cv->terr) != 0)
        return -1;
    return addr_put(&cv->map, addr, slot) == 0 ? 0 : -1;
}

/* One raw event, in the global order. */
static int convert_event(converter *cv, uint32_t t, const raw_event *e)
{
    unsigned kind = (unsigned)(e->seq_kind & 0xff);
    uint64_t addr = e->addr, size = e->size_align & ((UINT64_C(1) << 56) - 1);
    unsigned align_log2 = (unsigned)(e->size_align >> 56);
    uint32_t slot;
    switch (kind) {
    case RAW_MALLOC:
        return convert_alloc(cv, t, HL_TRACE_MALLOC, addr, size, 0);
    case RAW_CALLOC:
        return convert_alloc(cv, t, HL_TRACE_CALLOC, addr, size, 0);
    case RAW_POSIX_MEMALIGN:
    case RAW_ALIGNED_ALLOC:
    case RAW_MEMALIGN:
    case RAW_VALLOC:
        return convert_alloc(cv, t, HL_TRACE_ALIGNED, addr, size,
                             align_log2 > HL_TRACE_MAX_ALIGN_LOG2 ? HL_TRACE_MAX_ALIGN_LOG2 : align_log2);
    case RAW_FREE:
        if (!addr_take(&cv->map, addr, &slot)) {
            cv->st->unknown_frees++;
            return 0;
        }
        return hl_trace_put(cv->w, t, HL_TRACE_FREE, &slot, 0, 0, &cv->terr);
    case RAW_USABLE:
        if (!addr_find(&cv->map, addr, &slot))
            return 0;
        return hl_trace_put(cv->w, t, HL_TRACE_USABLE, &slot, 0, 0, &cv->terr);
    case RAW_REALLOC_BEGIN:
        cv->pending[t] = PENDING_NONE;
        cv->pending_addr[t] = addr;
        if (addr != 0 && addr_take(&cv->map, addr, &slot))
            cv->pending[t] = slot;
        else if (addr != 0)
            cv->st->unknown_frees++; /* realloc of an unseen block: a new object below */
        return 0;
    case RAW_REALLOC_END: {
        int64_t old = cv->pending[t];
        cv->pending[t] = PENDING_NONE;
        if (old == PENDING_NONE) /* realloc(NULL, n), or of an unseen block */
            return addr != 0 ? convert_alloc(cv, t, HL_TRACE_MALLOC, addr, size, 0) : 0;
        slot = (uint32_t)old;
        if (addr == 0 && size == 0) /* realloc(p, 0) freed p */
            return hl_trace_put(cv->w, t, HL_TRACE_FREE, &slot, 0, 0, &cv->terr);
        if (addr == 0) /* failed: p stays where it was */
            return addr_put(&cv->map, cv->pending_addr[t], slot);
        uint32_t other;
        if (addr_take(&cv->map, addr, &other)) {
            cv->st->unknown_frees++;
            if (hl_trace_put(cv->w, t, HL_TRACE_FREE, &other, 0, 0, &cv->terr) != 0)
                return -1;
        }
        if (hl_trace_put(cv->w, t, HL_TRACE_REALLOC, &slot, size, 0, &cv->terr) != 0)
            return -1;
        return addr_put(&cv->map, addr, slot);
    }
    default:
        snprintf(cv->terr.msg, sizeof cv->terr.msg, "raw event kind %u does not exist", kind);
        return -1;
    }
}

/* Merge the chunks by sequence number and convert every event.  The
 * numbers must come out strictly increasing: the recorder gives each number
 * once, so a number seen twice means two threads took it (the order itself
 * is wrong), and the recording is rejected, not reordered.  A number may be
 * missing: a thread that took one as the process ended (an exit or exec
 * while other threads allocate) never wrote its event. */
static int convert_all(converter *cv, cursor *heap, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        heap_down(heap, n, i);
    uint64_t due = 0; /* the least number not seen yet */
    while (n > 0) {
        cursor *top = &heap[0];
        if (cursor_seq(top) < due) {
            snprintf(cv->terr.msg, sizeof cv->terr.msg,
                     "the recorded order is broken: event number %" PRIu64 " was taken twice",
                     cursor_seq(top));
            return -1;
        }
        due = cursor_seq(top) + 1;
        if (convert_event(cv, top->thread, top->ev) != 0)
            return -1;
        top->ev++;
        if (--top->left == 0)
            heap[0] = heap[--n];
        heap_down(heap, n, 0);
    }
    return 0;
}

/* Write the trace under a temporary name beside out_path, flush it to the
 * disk and rename it: the trace is whole or absent, even across a crash of
 * the machine (without the fsync, the rename could reach the disk before
 * the data and leave an empty or partial file under the final name). */
static int write_trace(hl_trace_writer *w, const char *out_path, hl_record_stats *st, char *err,
                       size_t err_len)
{
    char tmp[PATH_MAX + 64];
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", out_path, (long)getpid());
    int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0)
        return fail(err, err_len, "cannot write %s: %s", tmp, strerror(errno));
    hl_trace_error terr = {{0}};
    int64_t bytes = hl_trace_writer_write(w, out, &terr);
    if (bytes >= 0 && fsync(out) != 0) {
        snprintf(terr.msg, sizeof terr.msg, "cannot flush the trace to disk: %s", strerror(errno));
        bytes = -1;
    }
    if (close(out) != 0 && bytes >= 0) {
        snprintf(terr.msg, sizeof terr.msg, "cannot write the trace: %s", strerror(errno));
        bytes = -1;
    }
    if (bytes < 0 || rename(tmp, out_path) != 0) {
        unlink(tmp);
        return fail(err, err_len, "%s: %s", out_path, bytes < 0 ? terr.msg : strerror(errno));
    }
    st->bytes = (uint64_t)bytes;
    return 0;
}

int hl_record_convert(const char *raw_path, const char *out_path, hl_record_stats *st,
                      char *err, size_t err_len)
{
    memset(st, 0, sizeof *st);
    int fd = open(raw_path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        if (fd >= 0)
            close(fd);
        return fail(err, err_len, "cannot read the recorder's file %s: %s", raw_path, strerror(errno));
    }
    size_t len = (size_t)sb.st_size;
    void *base = len ? mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
    close(fd);
    if (base == MAP_FAILED)
        return fail(err, err_len, "cannot map %s: %s", raw_path, strerror(errno));
    size_t nchunks = 0;
    uint32_t nthreads = 0;
    cursor *heap = list_chunks(base, len, &nchunks, &nthreads, &st->raw_events);
    converter cv = {.w = hl_trace_writer_new(), .st = st,
                    .map = {calloc(1024, sizeof(uint64_t)), calloc(1024, sizeof(uint32_t)), 1024, 0},
                    .pending = malloc((nthreads + 1) * sizeof(int64_t)),
                    .pending_addr = calloc(nthreads + 1, sizeof(uint64_t))};
    int rc = 0;
    if (heap == NULL || cv.w == NULL || cv.map.keys == NULL || cv.map.slots == NULL ||
        cv.pending == NULL || cv.pending_addr == NULL) {
        rc = fail(err, err_len, "out of memory converting %s", raw_path);
    } else if (nthreads > HL_TRACE_MAX_THREADS) {
        rc = fail(err, err_len, "the program ran %" PRIu32 " threads; a trace holds at most %d",
                  nthreads, HL_TRACE_MAX_THREADS);
    } else {
        for (uint32_t t = 0; t <= nthreads; t++)
            cv.pending[t] = PENDING_NONE;
        if (convert_all(&cv, heap, nchunks) != 0)
            rc = fail(err, err_len, "%s: %s", raw_path, cv.terr.msg[0] ? cv.terr.msg : "out of memory");
    }
    if (rc == 0) {
        st->events = hl_trace_writer_events(cv.w);
        st->threads = nthreads;
        st->live_peak = hl_trace_writer_live_peak(cv.w);
        if (st->events > 0)
            rc = write_trace(cv.w, out_path, st, err, err_len);
    }
    if (base != NULL)
        munmap(base, len);
    free(heap);
    free(cv.map.keys);
    free(cv.map.slots);
    free(cv.pending);
    free(cv.pending_addr);
    hl_trace_writer_free(cv.w);
    return rc;
}

/* ------------------------------------------------------------ session -- */

int hl_record_prepare(const hl_options *o, hl_record_session *rs, char *err, size_t err_len)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    self[n > 0 ? n : 0] = '\0';
    snprintf(rs->library, sizeof rs->library, "%s/libheaplab_record.so", dirname(self));
    if (access(rs->library, R_OK) != 0)
        return fail(err, err_len, "--record: the recorder library %s is missing; build it with "
                    "make build", rs->library);
    struct stat sb;
    if (o->record[0] == '\0' || (stat(o->record, &sb) == 0 && S_ISDIR(sb.st_mode)))
        return fail(err, err_len, "--record=%s: not a file name; give the trace file to write",
                    o->record);
    snprintf(rs->raw_dir, sizeof rs->raw_dir, "%s.raw-%ld", o->record, (long)getpid());
    if (mkdir(rs->raw_dir, 0700) != 0)
        return fail(err, err_len, "--record=%s: cannot write beside it (%s)", o->record,
                    strerror(errno));
    return 0;
}

/* Remove the raw directory and what is in it. */
static void remove_raw_dir(const hl_record_session *rs)
{
    DIR *d = opendir(rs->raw_dir);
    if (d != NULL) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL)
            if (e->d_name[0] != '.')
                unlinkat(dirfd(d), e->d_name, 0);
        closedir(d);
    }
    rmdir(rs->raw_dir);
}

static void print_trace(const char *path, const hl_record_stats *st)
{
    printf("record: %s: %" PRIu64 " events (%" PRIu64 " calls seen), %" PRIu64 " thread(s), %"
           PRIu64 " bytes = %.2f bytes/event, live peak %" PRIu64 " bytes; %" PRIu64
           " frees of blocks it never saw allocated dropped\n", path, st->events,
           st->raw_events, st->threads, st->bytes, (double)st->bytes / (double)st->events,
           st->live_peak, st->unknown_frees);
}

/* Convert every other process image's raw file into FILE.<name>. */
static int finish_others(const hl_options *o, const hl_record_session *rs, const char *main_name,
                         char *err, size_t err_len)
{
    DIR *d = opendir(rs->raw_dir);
    if (d == NULL)
        return fail(err, err_len, "cannot read %s: %s", rs->raw_dir, strerror(errno));
    struct dirent *e;
    int rc = 0, others = 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".raw") != 0 || strcmp(e->d_name, main_name) == 0)
            continue;
        char raw[PATH_MAX + 4400], out[PATH_MAX];
        hl_record_stats st;
        snprintf(raw, sizeof raw, "%s/%s", rs->raw_dir, e->d_name);
        snprintf(out, sizeof out, "%s.%.*s", o->record, (int)(len - 4), e->d_name);
        rc = hl_record_convert(raw, out, &st, err, err_len);
        if (rc == 0 && st.events > 0)
            print_trace(out, &st);
        else if (rc == 0)
            printf("record: process image %.*s made no allocation: no trace\n", (int)(len - 4),
                   e->d_name);
        others++;
    }
    closedir(d);
    if (rc == 0 && others > 0)
        printf("record: %d other process image(s) (fork children, exec'd programs) recorded "
               "into their own traces above\n", others);
    return rc;
}

int hl_record_finish(const hl_options *o, hl_record_session *rs, long pid, int ok,
                     hl_record_stats *main_trace, char *err, size_t err_len)
{
    memset(main_trace, 0, sizeof *main_trace);
    char main_name[64], raw[PATH_MAX + 4400];
    snprintf(main_name, sizeof main_name, "%ld-0.raw", pid);
    snprintf(raw, sizeof raw, "%s/%s", rs->raw_dir, main_name);
    int rc = 0;
    DIR *d = opendir(rs->raw_dir);
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL)
        if (strstr(e->d_name, ".lost") != NULL)
            rc = fail(err, err_len, "no trace written: the recorder could not grow its file in "
                      "%s (disk full?), so the recording is incomplete", rs->raw_dir);
    if (d != NULL)
        closedir(d);
    hl_record_stats st;
    if (rc == 0 && !ok)
        rc = fail(err, err_len, "no trace written: the program's run failed (its row says why)");
    else if (rc == 0 && access(raw, R_OK) != 0)
        rc = fail(err, err_len, "no trace written: the recorder saw no allocation (a static or "
                  "set-user-ID program never loads it)");
    else if (rc == 0 && hl_record_convert(raw, o->record, &st, err, err_len) != 0)
        rc = -1;
    else if (rc == 0 && st.events == 0)
        rc = fail(err, err_len, "no trace written: the recorder saw no allocation in the program");
    if (rc == 0) {
        print_trace(o->record, &st);
        *main_trace = st;
        rc = finish_others(o, rs, main_name, err, err_len);
    }
    remove_raw_dir(rs);
    return rc;
}
