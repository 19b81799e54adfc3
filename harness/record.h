/*
 * record.h - `bench --record=FILE -- PROGRAM ARGS`: the program runs once
 * under glibc with the recorder (recorder/record_preload.c) preloaded, and
 * what it recorded becomes a trace file (common/trace.h) that
 * `--workload=replay --param trace=FILE` replays under every allocator.
 * See record.c and docs/replay.md.
 */
#ifndef HEAPLAB_RECORD_H
#define HEAPLAB_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "harness/options.h"

/* A recording in progress: where the recorder writes its raw files. */
typedef struct hl_record_session {
    char library[4096]; /* the recorder's shared library */
    char raw_dir[4200]; /* a fresh directory beside FILE */
} hl_record_session;

/* What one conversion found. */
typedef struct hl_record_stats {
    uint64_t raw_events;    /* as the recorder wrote them (a realloc is two) */
    uint64_t events;        /* in the trace */
    uint64_t bytes;         /* of the trace file */
    uint64_t threads;
    uint64_t live_peak;
    uint64_t unknown_frees; /* frees of blocks the recorder never saw allocated */
} hl_record_stats;

/* Check what --record needs before anything runs: the recorder library
 * beside bench's executable and a writable directory for FILE; create the
 * raw directory.  Returns 0, or -1 with one line in err (bad input). */
int hl_record_prepare(const hl_options *o, hl_record_session *rs, char *err, size_t err_len);

/* Turn the raw files of a run whose first process was `pid` into
 * o->record (the first image of pid) and o->record + ".<pid>-<n>" (every
 * other process image: fork children, exec'd programs), each written
 * whole through a temporary name; print one line per trace and fill
 * main_trace with FILE's figures (zeroed when none is written).  `ok`: the
 * run succeeded (otherwise nothing is kept).  Always removes the raw
 * directory.  Returns 0, or -1 with one line in err (nothing written). */
int hl_record_finish(const hl_options *o, hl_record_session *rs, long pid, int ok,
                     hl_record_stats *main_trace, char *err, size_t err_len);

/* Convert one raw file into a trace at out_path (through a temporary file
 * and rename).  Returns 0, or -1 with err set (no file left). */
int hl_record_convert(const char *raw_path, const char *out_path, hl_record_stats *st,
                      char *err, size_t err_len);

#endif
