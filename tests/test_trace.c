/*
 * test_trace.c - the trace writer and reader (common/trace.h) against each
 * other: a seeded sequence of events over several threads, with slots far
 * apart (the slot delta's escape), sizes up to 2^40, alignments and
 * cross-thread frees, decodes to exactly what was written, each event with
 * WAIT and the step its slot had seen exactly when the slot's previous event
 * was another thread's; the header's live peak and slot count are the ones
 * computed here; and every single-byte corruption of a small trace, and
 * every truncation, is refused by hl_trace_open.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/trace.h"
#include "tests/check.h"
#include "workloads/rng.h"

#define THREADS 5
#define EVENTS 20000
#define MAX_LIVE 3000

typedef struct expected {
    hl_trace_event ev;
    uint32_t thread;
} expected;

typedef struct model_slot {
    uint64_t size;
    uint32_t steps, last_thread;
} model_slot;

/* Write a seeded trace to a memfd, keeping what each event must decode to.
 * Returns the fd; *n the events; the live peak and slots in *peak, *slots. */
static int write_trace(expected *out, size_t *n, uint64_t *peak, uint64_t *slots)
{
    hl_trace_writer *w = hl_trace_writer_new();
    model_slot *model = calloc(EVENTS, sizeof *model);
    uint32_t live[MAX_LIVE];
    size_t nlive = 0;
    uint64_t bytes = 0;
    hl_rng rng;
    hl_rng_seed(&rng, 42);
    hl_trace_error err = {{0}};
    *n = *peak = *slots = 0;
    for (int i = 0; i < EVENTS; i++) {
        uint64_t r = hl_rng_next(&rng);
        uint32_t t = hl_rng_below((uint32_t)r, THREADS);
        uint32_t roll = hl_rng_below((uint32_t)(r >> 32), 100);
        uint64_t size = (hl_rng_next(&rng) & 0xff) << (hl_rng_next(&rng) % 33);
        hl_trace_event ev = {.size = size};
        if (nlive == 0 || (roll < 45 && nlive < MAX_LIVE)) {
            ev.kind = roll % 3 == 0 ? HL_TRACE_ALIGNED : roll % 3 == 1 ? HL_TRACE_CALLOC
                                                                      : HL_TRACE_MALLOC;
            ev.align_log2 = ev.kind == HL_TRACE_ALIGNED ? (unsigned)(r % 31) : 0;
            CHECK(hl_trace_put(w, t, ev.kind, &ev.slot, size, ev.align_log2, &err) == 0, "%s",
                  err.msg);
            live[nlive++] = ev.slot;
            bytes += size;
            *slots = ev.slot + 1 > *slots ? ev.slot + 1 : *slots;
        } else {
            size_t k = hl_rng_below((uint32_t)hl_rng_next(&rng), (uint32_t)nlive);
            ev.slot = live[k];
            ev.kind = roll < 60 ? HL_TRACE_REALLOC : roll < 65 ? HL_TRACE_USABLE : HL_TRACE_FREE;
            ev.size = ev.kind == HL_TRACE_REALLOC ? size : 0;
            CHECK(hl_trace_put(w, t, ev.kind, &ev.slot, ev.size, 0, &err) == 0, "%s", err.msg);
            if (ev.kind == HL_TRACE_REALLOC)
                bytes = bytes - model[ev.slot].size + size;
            if (ev.kind == HL_TRACE_FREE) {
                bytes -= model[ev.slot].size;
                live[k] = live[--nlive];
            }
        }
        model_slot *m = &model[ev.slot];
        ev.wait = m->steps != 0 && m->last_thread != t;
        ev.step = m->steps;
        if (ev.kind != HL_TRACE_FREE && ev.kind != HL_TRACE_USABLE)
            m->size = ev.size;
        m->steps++;
        m->last_thread = t;
        *peak = bytes > *peak ? bytes : *peak;
        out[(*n)++] = (expected){ev, t};
    }
    int fd = memfd_create("test-trace", MFD_CLOEXEC);
    CHECK(hl_trace_writer_write(w, fd, &err) > 0, "%s", err.msg);
    CHECK(hl_trace_writer_events(w) == *n, "writer counted %llu events",
          (unsigned long long)hl_trace_writer_events(w));
    hl_trace_writer_free(w);
    free(model);
    return fd;
}

/* Decode every stream and compare, event by event, with what was written. */
static void check_roundtrip(int fd, const expected *want, size_t n, uint64_t peak, uint64_t slots)
{
    hl_trace_info *info = malloc(sizeof *info);
    hl_trace_error err = {{0}};
    CHECK(hl_trace_open(fd, "roundtrip", info, &err) == 0, "%s", err.msg);
    CHECK(info->nevents == n && info->nthreads == THREADS, "header: %llu events, %u threads",
          (unsigned long long)info->nevents, info->nthreads);
    CHECK(info->live_peak_bytes == peak, "live peak %llu, expected %llu",
          (unsigned long long)info->live_peak_bytes, (unsigned long long)peak);
    CHECK(info->nslots == slots, "slots %llu, expected %llu", (unsigned long long)info->nslots,
          (unsigned long long)slots);
    hl_trace_stream *s = malloc(sizeof *s);
    size_t seen = 0;
    for (uint32_t t = 0; t < info->nthreads; t++) {
        hl_trace_stream_init(s, fd, info, t);
        size_t next = 0;
        hl_trace_event ev;
        int got;
        while ((got = hl_trace_next(s, &ev, &err)) == 1) {
            while (next < n && want[next].thread != t)
                next++;
            const hl_trace_event *w = &want[next].ev;
            CHECK(next < n && ev.kind == w->kind && ev.slot == w->slot && ev.wait == w->wait &&
                      (!w->wait || ev.step == w->step) && ev.size == w->size &&
                      ev.align_log2 == w->align_log2,
                  "thread %u event %zu: kind %d slot %u wait %d step %u size %llu align %u; "
                  "wrote kind %d slot %u wait %d step %u size %llu align %u", t, next, ev.kind,
                  ev.slot, ev.wait, ev.step, (unsigned long long)ev.size, ev.align_log2, w->kind,
                  w->slot, w->wait, w->step, (unsigned long long)w->size, w->align_log2);
            next++;
            seen++;
        }
        CHECK(got == 0, "thread %u: %s", t, err.msg);
    }
    CHECK(seen == n, "decoded %zu of %zu events", seen, n);
    free(s);
    free(info);
}

/* Give a damaged trace a valid checksum again (docs/trace-format.md: FNV-1a
 * 64 over the whole file but the checksum's own 8 bytes at 56, stored
 * little-endian there), so that only the reader's consistency checks can
 * refuse it. */
static void reseal(unsigned char *file, size_t len)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < len; i++)
        if (i < 56 || i >= 64)
            h = (h ^ file[i]) * UINT64_C(0x100000001b3);
    for (int b = 0; b < 8; b++)
        file[56 + b] = (unsigned char)(h >> (8 * b));
}

/* Every byte flipped, and every shorter length, is refused; so is damage
 * behind a recomputed checksum. */
static void check_damage(void)
{
    hl_trace_writer *w = hl_trace_writer_new();
    hl_trace_error err = {{0}};
    uint32_t slot, other;
    hl_trace_put(w, 0, HL_TRACE_MALLOC, &slot, 100, 0, &err);
    hl_trace_put(w, 1, HL_TRACE_ALIGNED, &other, 1 << 20, 12, &err);
    hl_trace_put(w, 1, HL_TRACE_FREE, &slot, 0, 0, &err);
    int fd = memfd_create("test-trace-small", MFD_CLOEXEC);
    int64_t len = hl_trace_writer_write(w, fd, &err);
    hl_trace_writer_free(w);
    unsigned char good[512];
    CHECK(len > 0 && len <= (int64_t)sizeof good, "small trace of %lld bytes", (long long)len);
    CHECK(pread(fd, good, (size_t)len, 0) == len, "read back");
    close(fd);
    hl_trace_info *info = malloc(sizeof *info);
    int accepted = 0;
    for (int64_t i = 0; i < len; i++) {
        for (int variant = 0; variant < 2; variant++) {
            int bad = memfd_create("test-trace-bad", MFD_CLOEXEC);
            unsigned char copy[512];
            memcpy(copy, good, (size_t)len);
            copy[i] ^= 0x01;
            /* variant 0: one bit flipped; variant 1: cut at byte i */
            ssize_t wrote = variant == 0 ? write(bad, copy, (size_t)len) : write(bad, good, (size_t)i);
            (void)wrote;
            if (hl_trace_open(bad, "damaged", info, &err) == 0) {
                accepted++;
                fprintf(stderr, "accepted: %s at byte %lld\n", variant ? "cut" : "flip",
                        (long long)i);
            }
            close(bad);
        }
    }
    CHECK(accepted == 0, "%d damaged traces accepted", accepted);

    /* Damage the checksum cannot see (the file re-sealed after it): the
     * consistency checks alone must refuse it.  Thread 0's table entry
     * (events at HEADER, bytes at HEADER + 8) made to disagree with the
     * header, or to run past the file. */
    static const struct {
        size_t at;
        const char *what;
    } lie[] = {{HL_TRACE_HEADER_BYTES, "thread 0 claims one event more than the header"},
               {HL_TRACE_HEADER_BYTES + 8, "thread 0's stream runs past the file"}};
    for (size_t k = 0; k < sizeof lie / sizeof lie[0]; k++) {
        unsigned char copy[512];
        memcpy(copy, good, (size_t)len);
        copy[lie[k].at] += 1;
        reseal(copy, (size_t)len);
        int bad = memfd_create("test-trace-resealed", MFD_CLOEXEC);
        ssize_t wrote = write(bad, copy, (size_t)len);
        (void)wrote;
        CHECK(hl_trace_open(bad, "resealed", info, &err) != 0,
              "a re-sealed trace where %s was accepted", lie[k].what);
        close(bad);
    }
    free(info);
}

int main(void)
{
    expected *want = malloc(EVENTS * sizeof *want);
    size_t n;
    uint64_t peak, slots;
    int fd = write_trace(want, &n, &peak, &slots);
    check_roundtrip(fd, want, n, peak, slots);
    close(fd);
    check_damage();
    free(want);
    return check_status("test_trace");
}
