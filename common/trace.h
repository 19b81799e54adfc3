/*
 * trace.h - heaplab's allocation trace format (docs/trace-format.md):
 * the writer that encodes a globally ordered sequence of allocation events
 * into per-thread streams, and the reader that validates a trace file and
 * decodes its streams one event at a time.
 *
 * What a trace holds: for each recorded thread, its allocation calls in
 * program order, each naming an object by a SLOT (a small integer: the
 * writer reuses the slots of dead objects, so the replay needs a table of
 * only the peak number of live objects, and never an address).  The global
 * order the recorder saw survives only where it matters: an event on a slot
 * whose previous event was another thread's carries that slot's step count
 * (how many events the slot had seen before it), and the replay waits until
 * the slot has seen exactly that many.  A free therefore always follows its
 * allocation, a reused slot its previous free, in the recorded order; events
 * that touch no other thread's object run as freely as the original did.
 *
 * Encoding, per event: a tag byte (kind in bits 0-2, WAIT in bit 3, the
 * zigzag slot delta from the thread's previous event in bits 4-7 when it is
 * below 15), then LEB128 varints: the slot delta (when the nibble is 15),
 * the step (WAIT), the size (allocations, realloc), one byte of log2
 * alignment (aligned allocations).  Typical events take 2 to 4 bytes.
 *
 * The library never prints or exits: every failure is one line in an
 * hl_trace_error, naming what is wrong and what is valid.
 */
#ifndef HEAPLAB_TRACE_H
#define HEAPLAB_TRACE_H

#include <stddef.h>
#include <stdint.h>

#define HL_TRACE_MAGIC "HLTRACE"  /* 7 characters and a NUL: 8 bytes */
#define HL_TRACE_VERSION 1        /* the newest version this code reads and writes */
#define HL_TRACE_HEADER_BYTES 64
#define HL_TRACE_THREAD_BYTES 16  /* one thread table entry */
#define HL_TRACE_MAX_THREADS 4096
#define HL_TRACE_MAX_ALIGN_LOG2 30

typedef enum hl_trace_kind {
    HL_TRACE_MALLOC = 0,
    HL_TRACE_CALLOC = 1,
    HL_TRACE_ALIGNED = 2, /* posix_memalign, aligned_alloc, memalign, valloc */
    HL_TRACE_REALLOC = 3, /* the slot keeps its object; size is the new size */
    HL_TRACE_FREE = 4,
    HL_TRACE_USABLE = 5,  /* malloc_usable_size on a live object */
    HL_TRACE_KINDS = 6,
} hl_trace_kind;

typedef struct hl_trace_error {
    char msg[256];
} hl_trace_error;

/* One decoded event. */
typedef struct hl_trace_event {
    hl_trace_kind kind;
    uint32_t slot;
    int wait;          /* wait until the slot has seen `step` events */
    uint32_t step;
    uint64_t size;     /* MALLOC, CALLOC, ALIGNED, REALLOC */
    unsigned align_log2; /* ALIGNED */
} hl_trace_event;

/* What the header says, checked against the file. */
typedef struct hl_trace_info {
    uint32_t version;
    uint32_t nthreads;
    uint64_t nevents;
    uint64_t nslots;          /* the most objects live at once */
    uint64_t live_peak_bytes; /* requested bytes, in the recorded global order */
    uint64_t max_size;        /* the largest block */
    uint64_t payload_bytes;   /* the streams' total length */
    uint64_t file_bytes;
    uint64_t thread_events[HL_TRACE_MAX_THREADS];
    uint64_t thread_offset[HL_TRACE_MAX_THREADS]; /* of each stream in the file */
    uint64_t thread_bytes[HL_TRACE_MAX_THREADS];
} hl_trace_info;

/* ------------------------------------------------------------ writing -- */

typedef struct hl_trace_writer hl_trace_writer;

/* A writer for events given in their global order.  NULL when memory is
 * exhausted.  Cost: memory of the encoded streams plus 16 bytes per slot. */
hl_trace_writer *hl_trace_writer_new(void);
void hl_trace_writer_free(hl_trace_writer *w);

/* Append one event of thread `thread` (0-based, < HL_TRACE_MAX_THREADS).
 * An allocation (MALLOC, CALLOC, ALIGNED) takes a free slot and returns it
 * in *slot; REALLOC, FREE and USABLE name a live slot.  Returns 0, or -1
 * with err set (memory exhausted, a thread index too large, a dead slot).
 * O(1) amortised. */
int hl_trace_put(hl_trace_writer *w, uint32_t thread, hl_trace_kind kind, uint32_t *slot,
                 uint64_t size, unsigned align_log2, hl_trace_error *err);

/* Events and the live peak so far. */
uint64_t hl_trace_writer_events(const hl_trace_writer *w);
uint64_t hl_trace_writer_live_peak(const hl_trace_writer *w);

/* Write the whole trace to fd (at its current offset).  Returns the bytes
 * written, or -1 with err set (a failed write; zero events). */
int64_t hl_trace_writer_write(hl_trace_writer *w, int fd, hl_trace_error *err);

/* ------------------------------------------------------------ reading -- */

/* Validate the trace in fd (magic, version, sizes against the file,
 * checksum over every byte, per-thread counts) and fill info.  `what`
 * names the file in messages (NULL: the caller names it).  Returns 0, or -1 with one line in err.
 * Cost: one sequential read of the file through a 64 KiB buffer. */
int hl_trace_open(int fd, const char *what, hl_trace_info *info, hl_trace_error *err);

/* One thread's stream, read with pread through its own buffer. */
typedef struct hl_trace_stream {
    int fd;
    uint64_t pos, end;   /* file offsets: next unread byte, end of stream */
    uint64_t left;       /* events not yet decoded */
    uint64_t nslots;
    uint32_t prev_slot;
    unsigned char buf[65536];
    size_t buf_pos, buf_len;
} hl_trace_stream;

/* Position s at thread t's stream of the trace described by info. */
void hl_trace_stream_init(hl_trace_stream *s, int fd, const hl_trace_info *info, uint32_t t);

/* Decode the next event into ev.  Returns 1, 0 at the end of the stream,
 * or -1 with err set (a malformed event: a bad kind or slot, a varint past
 * the stream's end, bytes left over). */
int hl_trace_next(hl_trace_stream *s, hl_trace_event *ev, hl_trace_error *err);

#endif
