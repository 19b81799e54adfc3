/*
 * trace.c - writing and reading heaplab's allocation traces (trace.h,
 * docs/trace-format.md).
 *
 * The writer keeps, per slot, the requested size, whether it is live, the
 * thread of its last event and how many events it has seen; per thread, the
 * encoded stream so far.  Dead slots are reused last-in first-out, which
 * keeps slot deltas small (the slot just freed is the next one taken, as a
 * malloc reuses the block just freed).  The reader never holds a stream
 * whole: each thread decodes through its own 64 KiB buffer, so replaying a
 * trace costs its slot table and a buffer per thread, not its size.
 */
#include "common/trace.h"

#include "common/io.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TAG_KIND_MASK 0x07u
#define TAG_WAIT 0x08u
#define TAG_DELTA_SHIFT 4
#define TAG_DELTA_ESCAPE 15u /* the slot delta follows as a varint */
#define CHECKSUM_OFFSET 56

static int trace_fail(hl_trace_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int trace_fail(hl_trace_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return -1;
}

/* FNV-1a, 64 bits: cheap, and any flipped or lost byte changes it. */
static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * UINT64_C(0x100000001b3);
    return h;
}

#define FNV_SEED UINT64_C(0xcbf29ce484222325)

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint64_t zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static int64_t unzigzag(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* ------------------------------------------------------------ writing -- */

typedef struct stream_buf {
    unsigned char *data;
    size_t len, cap;
    uint64_t events;
    uint32_t prev_slot;
} stream_buf;

typedef struct slot_state {
    uint64_t size;
    uint32_t last_thread;
    uint32_t steps; /* events seen, modulo 2^32 (the reader compares equality) */
    int live;
} slot_state;

struct hl_trace_writer {
    stream_buf *threads; /* HL_TRACE_MAX_THREADS, zeroed until used */
    uint32_t nthreads;
    slot_state *slots;
    uint64_t nslots, slots_cap;
    uint32_t *free_slots; /* LIFO of dead slots */
    uint64_t nfree;
    uint64_t events, live, live_peak, max_size;
};

hl_trace_writer *hl_trace_writer_new(void)
{
    hl_trace_writer *w = calloc(1, sizeof *w);
    if (w != NULL)
        w->threads = calloc(HL_TRACE_MAX_THREADS, sizeof *w->threads);
    if (w != NULL && w->threads == NULL) {
        free(w);
        w = NULL;
    }
    return w;
}

void hl_trace_writer_free(hl_trace_writer *w)
{
    if (w == NULL)
        return;
    for (uint32_t t = 0; t < w->nthreads; t++)
        free(w->threads[t].data);
    free(w->threads);
    free(w->slots);
    free(w->free_slots);
    free(w);
}

uint64_t hl_trace_writer_events(const hl_trace_writer *w)
{
    return w->events;
}

uint64_t hl_trace_writer_live_peak(const hl_trace_writer *w)
{
    return w->live_peak;
}

/* Room for `more` bytes in b; -1 when memory is exhausted. */
static int stream_reserve(stream_buf *b, size_t more)
{
    if (b->len + more <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap * 2 : 4096;
    while (cap < b->len + more)
        cap *= 2;
    unsigned char *data = realloc(b->data, cap);
    if (data == NULL)
        return -1;
    b->data = data;
    b->cap = cap;
    return 0;
}

static size_t put_varint(unsigned char *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (unsigned char)v;
    return n;
}

/* A slot for a new object: the most recently freed one, or a new one. */
static int writer_take_slot(hl_trace_writer *w, uint32_t *slot)
{
    if (w->nfree > 0) {
        *slot = w->free_slots[--w->nfree];
        return 0;
    }
    if (w->nslots >= UINT32_MAX)
        return -1;
    if (w->nslots == w->slots_cap) {
        uint64_t cap = w->slots_cap ? w->slots_cap * 2 : 1024;
        slot_state *slots = realloc(w->slots, cap * sizeof *slots);
        uint32_t *free_slots = realloc(w->free_slots, cap * sizeof *free_slots);
        if (slots != NULL)
            w->slots = slots;
        if (free_slots != NULL)
            w->free_slots = free_slots;
        if (slots == NULL || free_slots == NULL)
            return -1;
        w->slots_cap = cap;
    }
    w->slots[w->nslots] = (slot_state){0};
    *slot = (uint32_t)w->nslots++;
    return 0;
}

/* Encode ev as the next event of stream b. */
static void writer_encode(stream_buf *b, const hl_trace_event *ev)
{
    unsigned char *p = b->data + b->len;
    uint64_t delta = zigzag((int64_t)ev->slot - (int64_t)b->prev_slot);
    unsigned nibble = delta < TAG_DELTA_ESCAPE ? (unsigned)delta : TAG_DELTA_ESCAPE;
    size_t n = 0;
    p[n++] = (unsigned char)((unsigned)ev->kind | (ev->wait ? TAG_WAIT : 0) | nibble << TAG_DELTA_SHIFT);
    if (nibble == TAG_DELTA_ESCAPE)
        n += put_varint(p + n, delta);
    if (ev->wait)
        n += put_varint(p + n, ev->step);
    if (ev->kind != HL_TRACE_FREE && ev->kind != HL_TRACE_USABLE)
        n += put_varint(p + n, ev->size);
    if (ev->kind == HL_TRACE_ALIGNED)
        p[n++] = (unsigned char)ev->align_log2;
    b->len += n;
    b->prev_slot = ev->slot;
    b->events++;
}

int hl_trace_put(hl_trace_writer *w, uint32_t thread, hl_trace_kind kind, uint32_t *slot,
                 uint64_t size, unsigned align_log2, hl_trace_error *err)
{
    if (thread >= HL_TRACE_MAX_THREADS)
        return trace_fail(err, "more than %d threads: a trace holds at most that many",
                          HL_TRACE_MAX_THREADS);
    int allocates = kind == HL_TRACE_MALLOC || kind == HL_TRACE_CALLOC || kind == HL_TRACE_ALIGNED;
    if (allocates) {
        if (writer_take_slot(w, slot) != 0)
            return trace_fail(err, "out of memory for the trace's slot table");
    } else if (*slot >= w->nslots || !w->slots[*slot].live) {
        return trace_fail(err, "event on slot %" PRIu32 ", which holds no live object", *slot);
    }
    stream_buf *b = &w->threads[thread];
    if (stream_reserve(b, 1 + 3 * 10 + 1) != 0)
        return trace_fail(err, "out of memory for the trace's streams");
    if (thread >= w->nthreads)
        w->nthreads = thread + 1;
    slot_state *s = &w->slots[*slot];
    hl_trace_event ev = {.kind = kind, .slot = *slot, .size = size, .align_log2 = align_log2,
                         .wait = s->steps != 0 && s->last_thread != thread, .step = s->steps};
    writer_encode(b, &ev);
    if (allocates) {
        s->live = 1;
        s->size = size;
        w->live += size;
    } else if (kind == HL_TRACE_REALLOC) {
        w->live = w->live - s->size + size;
        s->size = size;
    } else if (kind == HL_TRACE_FREE) {
        w->live -= s->size;
        s->live = 0;
        w->free_slots[w->nfree++] = *slot;
    }
    if (w->live > w->live_peak)
        w->live_peak = w->live;
    if (allocates || kind == HL_TRACE_REALLOC)
        w->max_size = size > w->max_size ? size : w->max_size;
    s->steps++;
    s->last_thread = thread;
    w->events++;
    return 0;
}

int64_t hl_trace_writer_write(hl_trace_writer *w, int fd, hl_trace_error *err)
{
    if (w->events == 0)
        return trace_fail(err, "no events to write: a trace holds at least one");
    size_t table_len = (size_t)w->nthreads * HL_TRACE_THREAD_BYTES;
    unsigned char header[HL_TRACE_HEADER_BYTES] = {0};
    unsigned char *table = calloc(1, table_len);
    if (table == NULL)
        return trace_fail(err, "out of memory for the trace's thread table");
    uint64_t payload = 0;
    for (uint32_t t = 0; t < w->nthreads; t++) {
        put_u64(table + t * HL_TRACE_THREAD_BYTES, w->threads[t].events);
        put_u64(table + t * HL_TRACE_THREAD_BYTES + 8, w->threads[t].len);
        payload += w->threads[t].len;
    }
    memcpy(header, HL_TRACE_MAGIC, sizeof HL_TRACE_MAGIC);
    put_u32(header + 8, HL_TRACE_VERSION);
    put_u32(header + 12, w->nthreads);
    put_u64(header + 16, w->events);
    put_u64(header + 24, w->nslots);
    put_u64(header + 32, w->live_peak);
    put_u64(header + 40, w->max_size);
    put_u64(header + 48, payload);
    uint64_t h = fnv1a(FNV_SEED, header, CHECKSUM_OFFSET);
    h = fnv1a(h, table, table_len);
    for (uint32_t t = 0; t < w->nthreads; t++)
        h = fnv1a(h, w->threads[t].data, w->threads[t].len);
    put_u64(header + CHECKSUM_OFFSET, h);
    int rc = hl_write_all(fd, header, sizeof header) | hl_write_all(fd, table, table_len);
    for (uint32_t t = 0; t < w->nthreads && rc == 0; t++)
        rc = hl_write_all(fd, w->threads[t].data, w->threads[t].len);
    free(table);
    if (rc != 0)
        return trace_fail(err, "cannot write the trace: %s", strerror(errno ? errno : EIO));
    return (int64_t)(sizeof header + table_len + payload);
}

/* ------------------------------------------------------------ reading -- */

/* Read exactly n bytes at off; 0, or -1 (short file, I/O error). */
static int read_at(int fd, void *buf, size_t n, uint64_t off)
{
    char *p = buf;
    while (n > 0) {
        ssize_t k = pread(fd, p, n, (off_t)off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
        off += (uint64_t)k;
    }
    return 0;
}

/* "NAME: " before a message, or nothing when the caller names the file. */
#define PFX(what) (what) ? (what) : "", (what) ? ": " : ""

#define VALID_TEXT "valid: a trace written by bench --record (docs/trace-format.md)"

/* The header's fields into info, each checked against the file's size. */
static int open_header(int fd, const char *what, hl_trace_info *info, unsigned char *header,
                       hl_trace_error *err)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return trace_fail(err, "%s%scannot read it: %s", PFX(what), strerror(errno));
    info->file_bytes = (uint64_t)st.st_size;
    size_t have = info->file_bytes < HL_TRACE_HEADER_BYTES ? (size_t)info->file_bytes
                                                           : HL_TRACE_HEADER_BYTES;
    if (read_at(fd, header, have, 0) != 0)
        return trace_fail(err, "%s%scannot read its header: %s", PFX(what), strerror(errno ? errno : EIO));
    size_t magic_len = sizeof HL_TRACE_MAGIC;
    if (have < magic_len || memcmp(header, HL_TRACE_MAGIC, magic_len) != 0)
        return trace_fail(err, "%s%snot a heaplab trace (it does not start with HLTRACE); "
                          VALID_TEXT, PFX(what));
    if (have < HL_TRACE_HEADER_BYTES)
        return trace_fail(err, "%s%struncated trace: %zu bytes, shorter than the %d-byte "
                          "header; " VALID_TEXT, PFX(what), have, HL_TRACE_HEADER_BYTES);
    info->version = get_u32(header + 8);
    info->nthreads = get_u32(header + 12);
    info->nevents = get_u64(header + 16);
    info->nslots = get_u64(header + 24);
    info->live_peak_bytes = get_u64(header + 32);
    info->max_size = get_u64(header + 40);
    info->payload_bytes = get_u64(header + 48);
    if (info->version > HL_TRACE_VERSION)
        return trace_fail(err, "%s%strace format version %" PRIu32 " is newer than this heaplab "
                          "reads (versions 1 to %d); record it again with this heaplab or use "
                          "a newer one", PFX(what), info->version, HL_TRACE_VERSION);
    if (info->version == 0)
        return trace_fail(err, "%s%scorrupted trace: format version 0 does not exist; " VALID_TEXT,
                          PFX(what));
    if (info->nevents == 0 || info->nthreads == 0)
        return trace_fail(err, "%s%sthe trace holds zero events; valid: a trace of at least one "
                          "allocation event", PFX(what));
    if (info->nthreads > HL_TRACE_MAX_THREADS || info->payload_bytes > INT64_MAX)
        return trace_fail(err, "%s%scorrupted trace: its header claims %" PRIu32 " threads "
                          "(at most %d); " VALID_TEXT, PFX(what), info->nthreads, HL_TRACE_MAX_THREADS);
    uint64_t want = HL_TRACE_HEADER_BYTES + (uint64_t)info->nthreads * HL_TRACE_THREAD_BYTES +
                    info->payload_bytes;
    if (info->file_bytes < want)
        return trace_fail(err, "%s%struncated trace: %" PRIu64 " of its %" PRIu64 " bytes; "
                          VALID_TEXT, PFX(what), info->file_bytes, want);
    if (info->file_bytes > want)
        return trace_fail(err, "%s%scorrupted trace: %" PRIu64 " bytes after its end; " VALID_TEXT,
                          PFX(what), info->file_bytes - want);
    return 0;
}

/* The checksum over the whole file (header without its checksum field). */
static int open_checksum(int fd, const char *what, const hl_trace_info *info,
                         const unsigned char *header, hl_trace_error *err)
{
    uint64_t h = fnv1a(FNV_SEED, header, CHECKSUM_OFFSET);
    unsigned char *buf = malloc(65536);
    if (buf == NULL)
        return trace_fail(err, "out of memory");
    for (uint64_t off = HL_TRACE_HEADER_BYTES; off < info->file_bytes;) {
        size_t n = info->file_bytes - off < 65536 ? (size_t)(info->file_bytes - off) : 65536;
        if (read_at(fd, buf, n, off) != 0) {
            free(buf);
            return trace_fail(err, "%s%scannot read it: %s", PFX(what), strerror(errno ? errno : EIO));
        }
        h = fnv1a(h, buf, n);
        off += n;
    }
    free(buf);
    if (h != get_u64(header + CHECKSUM_OFFSET))
        return trace_fail(err, "%s%scorrupted trace: its checksum does not match its bytes; "
                          VALID_TEXT, PFX(what));
    return 0;
}

/* The thread table: each stream's place, the counts adding up. */
static int open_table(int fd, const char *what, hl_trace_info *info, hl_trace_error *err)
{
    unsigned char entry[HL_TRACE_THREAD_BYTES];
    uint64_t events = 0, bytes = 0;
    uint64_t off = HL_TRACE_HEADER_BYTES + (uint64_t)info->nthreads * HL_TRACE_THREAD_BYTES;
    for (uint32_t t = 0; t < info->nthreads; t++) {
        if (read_at(fd, entry, sizeof entry, HL_TRACE_HEADER_BYTES + (uint64_t)t * sizeof entry) != 0)
            return trace_fail(err, "%s%scannot read its thread table", PFX(what));
        info->thread_events[t] = get_u64(entry);
        info->thread_bytes[t] = get_u64(entry + 8);
        info->thread_offset[t] = off + bytes;
        if (info->thread_bytes[t] > info->payload_bytes - bytes ||
            info->thread_events[t] > info->thread_bytes[t])
            return trace_fail(err, "%s%scorrupted trace: thread %" PRIu32 "'s stream does not fit "
                              "the file; " VALID_TEXT, PFX(what), t);
        events += info->thread_events[t];
        bytes += info->thread_bytes[t];
    }
    if (events != info->nevents || bytes != info->payload_bytes || info->nslots == 0 ||
        info->nslots > info->nevents)
        return trace_fail(err, "%s%scorrupted trace: its thread table disagrees with its header; "
                          VALID_TEXT, PFX(what));
    return 0;
}

int hl_trace_open(int fd, const char *what, hl_trace_info *info, hl_trace_error *err)
{
    unsigned char header[HL_TRACE_HEADER_BYTES];
    memset(info, 0, sizeof *info);
    if (open_header(fd, what, info, header, err) != 0 ||
        open_checksum(fd, what, info, header, err) != 0)
        return -1;
    return open_table(fd, what, info, err);
}

void hl_trace_stream_init(hl_trace_stream *s, int fd, const hl_trace_info *info, uint32_t t)
{
    s->fd = fd;
    s->pos = info->thread_offset[t];
    s->end = s->pos + info->thread_bytes[t];
    s->left = info->thread_events[t];
    s->nslots = info->nslots;
    s->prev_slot = 0;
    s->buf_pos = s->buf_len = 0;
}

/* The next byte of the stream; -1 past its end. */
static int stream_byte(hl_trace_stream *s)
{
    if (s->buf_pos == s->buf_len) {
        if (s->pos >= s->end)
            return -1;
        size_t n = s->end - s->pos < sizeof s->buf ? (size_t)(s->end - s->pos) : sizeof s->buf;
        if (read_at(s->fd, s->buf, n, s->pos) != 0)
            return -1;
        s->pos += n;
        s->buf_pos = 0;
        s->buf_len = n;
    }
    return s->buf[s->buf_pos++];
}

static int stream_varint(hl_trace_stream *s, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        int b = stream_byte(s);
        if (b < 0)
            return -1;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

int hl_trace_next(hl_trace_stream *s, hl_trace_event *ev, hl_trace_error *err)
{
    if (s->left == 0) {
        if (s->buf_pos != s->buf_len || s->pos != s->end)
            return trace_fail(err, "corrupted trace: bytes left after a stream's last event");
        return 0;
    }
    int tag = stream_byte(s);
    uint64_t delta, v = 0;
    if (tag < 0)
        return trace_fail(err, "corrupted trace: a stream ends before its last event");
    ev->kind = (hl_trace_kind)(tag & TAG_KIND_MASK);
    ev->wait = (tag & TAG_WAIT) != 0;
    delta = (unsigned)tag >> TAG_DELTA_SHIFT;
    if (ev->kind >= HL_TRACE_KINDS)
        return trace_fail(err, "corrupted trace: event kind %d does not exist", (int)ev->kind);
    if ((delta == TAG_DELTA_ESCAPE && stream_varint(s, &delta) != 0) ||
        (ev->wait && stream_varint(s, &v) != 0))
        return trace_fail(err, "corrupted trace: an event runs past its stream's end");
    ev->step = (uint32_t)v;
    int64_t slot = (int64_t)s->prev_slot + unzigzag(delta);
    if (slot < 0 || (uint64_t)slot >= s->nslots)
        return trace_fail(err, "corrupted trace: slot %" PRId64 " is outside 0..%" PRIu64, slot,
                          s->nslots - 1);
    ev->slot = (uint32_t)slot;
    ev->size = 0;
    ev->align_log2 = 0;
    if (ev->kind != HL_TRACE_FREE && ev->kind != HL_TRACE_USABLE &&
        stream_varint(s, &ev->size) != 0)
        return trace_fail(err, "corrupted trace: an event runs past its stream's end");
    if (ev->kind == HL_TRACE_ALIGNED) {
        int a = stream_byte(s);
        if (a < 0 || a > HL_TRACE_MAX_ALIGN_LOG2)
            return trace_fail(err, "corrupted trace: alignment 2^%d is outside 2^0..2^%d", a,
                              HL_TRACE_MAX_ALIGN_LOG2);
        ev->align_log2 = (unsigned)a;
    }
    s->prev_slot = ev->slot;
    s->left--;
    return 1;
}
