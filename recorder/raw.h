/*
 * raw.h - the recorder's raw file, shared by the LD_PRELOAD recorder
 * (record_preload.c), which writes it, and bench (harness/record.c), which
 * turns it into a trace (common/trace.h) and deletes it.  Never kept: its
 * layout may change with any build, so it carries no version of its own,
 * only the build's.
 *
 * The file is a sequence of RAW_CHUNK_BYTES chunks, each owned by one
 * thread of one process: a header, then events in that thread's program
 * order.  A chunk is a MAP_SHARED window of the file, so what a thread
 * wrote survives _exit and crashes (the kernel's page cache has it); the
 * header's count is stored after each event, so a torn event is never
 * counted.  A chunk whose magic is zero was reserved but never used.
 *
 * Event: three little-endian 64-bit words.
 *   w0  seq << 8 | kind    seq: the process-wide order, an atomic counter
 *   w1  address            the block the call returned or was given
 *   w2  size | align_log2 << 56
 */
#ifndef HEAPLAB_RECORD_RAW_H
#define HEAPLAB_RECORD_RAW_H

#include <stdint.h>

#define RAW_CHUNK_BYTES 65536u
#define RAW_MAGIC 0x43524c48u /* "HLRC" */
#define RAW_ENV_DIR "HEAPLAB_RECORD_DIR"

typedef struct raw_chunk_header {
    uint32_t magic;
    uint32_t thread; /* the recorder's index of the thread, 0 first */
    uint32_t count;  /* events written so far */
    uint32_t pad;
} raw_chunk_header;

typedef struct raw_event {
    uint64_t seq_kind;
    uint64_t addr;
    uint64_t size_align;
} raw_event;

#define RAW_EVENTS_PER_CHUNK ((RAW_CHUNK_BYTES - sizeof(raw_chunk_header)) / sizeof(raw_event))

/* What the recorder saw.  A realloc is two events of one thread: BEGIN at
 * the old address before the call (from then on the address may be
 * reused), END at the new address after it (size 0 and address 0: it
 * freed; address 0 with a size: it failed and the old block stays). */
enum raw_kind {
    RAW_MALLOC = 1,
    RAW_CALLOC,
    RAW_REALLOC_BEGIN,
    RAW_REALLOC_END,
    RAW_FREE,
    RAW_POSIX_MEMALIGN,
    RAW_ALIGNED_ALLOC,
    RAW_MEMALIGN,
    RAW_VALLOC,
    RAW_USABLE,
    RAW_KINDS,
};

#endif
