/*
 * record_preload.c - libheaplab_record.so, the LD_PRELOAD interposer behind
 * `bench --record=FILE -- PROGRAM`: it records every call a program makes
 * to malloc, calloc, realloc, reallocarray, free, posix_memalign,
 * aligned_alloc, memalign, valloc and malloc_usable_size, the thread that
 * made it and a process-wide order, and passes each call on to the next
 * malloc in the search order (glibc's).  It is built as its own shared
 * library and never linked into heaplab.
 *
 * Where events go: the directory named by HEAPLAB_RECORD_DIR (without it
 * the library passes every call through and records nothing).  Each
 * process image writes its own raw file (raw.h), "<pid>-<n>.raw", n
 * counting the images a pid has been (exec keeps the pid): bench converts
 * each into a trace and deletes it.
 *
 * The global order: one counter, one fetch-and-add per event once the
 * program has threads.  A free takes its number BEFORE the block is handed
 * back and an allocation AFTER the block is obtained, so when one thread
 * frees a block that another thread's malloc then returns, the free's
 * number is the smaller (the allocator's own synchronisation orders the
 * two calls, and the counter's modification order respects it).  realloc
 * is two events, one before (the old address) and one after (the new).
 * This was chosen over a single locked buffer (every event would serialise
 * the program's threads) and over timestamps (not unique, not ordered
 * across cores).  Until the program makes its second thread the counter is
 * advanced by a load and a store instead: the lock-prefixed add was most
 * of the interposers' own cost (perf: 85% of free's samples on it, about 7%
 * of a recorded python3 run).  `threaded` says which: the pthread_create
 * interposer sets it before the thread exists (creation orders that store
 * before everything the new thread does), so no two threads ever advance
 * the counter by plain stores.  A thread with its own thread state that did
 * not come through this pthread_create (one a library starts from inside
 * libc, say) sets it at its first event; its first number could then
 * collide with one another thread is taking at that instant, and bench's
 * conversion, which rejects a number seen twice, rejects such a recording
 * rather than reorder it silently.  (A raw clone sharing its creator's
 * thread-local state is beyond the recorder either way: it would write
 * into its creator's chunk.)
 *
 * Per-thread buffers: each thread writes into a 64 KiB chunk of the file
 * mapped MAP_SHARED, reserved with one atomic add and grown with
 * fallocate; no lock on the path of an event but the counter.  What a
 * thread wrote is in the page cache the moment it is stored, so nothing is
 * lost at _exit, at a crash, or when a thread ends without warning; bench
 * merges the chunks by sequence number afterwards.
 *
 * Bootstrap: dlsym(RTLD_NEXT) itself may call calloc (for its error
 * buffer); while the real functions are being looked up, allocations come
 * from a static 64 KiB area that free ignores.  A thread-local `busy` flag
 * keeps the recorder's own calls (dlsym, pthread_atfork, the key) out of
 * the trace and out of recursion.
 *
 * fork: a handler registered with pthread_atfork gives the child a fresh
 * state, so the child records into its own file ("<childpid>-0.raw") and
 * never into its parent's chunks.  exec: the new image loads the library
 * again (LD_PRELOAD is inherited) and takes "<pid>-1.raw".  vfork children
 * run no handler and may only exec or _exit, so they record nothing of
 * their own.
 *
 * Not recorded: calls that fail (no block: nothing to replay, except a
 * failed realloc, whose old block stays), free(NULL), and allocations that
 * bypass malloc (mmap, the dynamic loader's own minimal malloc before libc
 * is up, pvalloc).  A free of a block the recorder never saw allocated is
 * counted and dropped by bench.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "recorder/raw.h"

#define EXPORT __attribute__((visibility("default")))
#define TLS __thread __attribute__((tls_model("initial-exec")))

enum { OFF_UNSET, OFF_STARTING, ON, OFF };

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void *(*real_reallocarray)(void *, size_t, size_t);
static void (*real_free)(void *);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static void *(*real_memalign)(size_t, size_t);
static void *(*real_valloc)(size_t);
static size_t (*real_usable)(void *);
static int (*real_pthread_create)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
static atomic_int resolve_state; /* 0 not yet, 1 looking up, 2 done */
static atomic_int threaded;      /* a second thread may take numbers (above) */

/* The bootstrap area: a 16-byte header holding the size before each block. */
static _Alignas(16) unsigned char boot_area[65536];
static atomic_size_t boot_used;

static atomic_int state = OFF_UNSET;
static int fd = -1;
static atomic_uint_fast64_t next_seq, next_chunk;
static atomic_uint next_thread;
static uint64_t file_chunks; /* chunks the file has room for; under grow_lock */
static atomic_flag grow_lock = ATOMIC_FLAG_INIT;
static unsigned epoch;       /* bumped in a fork child: older thread states are stale */
static int atfork_registered;
static pthread_key_t exit_key;
static char dir_path[4096];

static TLS struct {
    raw_chunk_header *chunk; /* NULL: none mapped yet */
    raw_event *events;
    uint32_t thread;
    int has_thread;
    int busy;
    unsigned epoch;
} self;

/* ---------------------------------------------------------- bootstrap -- */

static int in_boot(const void *p)
{
    return (const unsigned char *)p >= boot_area && (const unsigned char *)p < boot_area + sizeof boot_area;
}

static void *boot_alloc(size_t n)
{
    size_t need = (n + 16 + 15) & ~(size_t)15;
    size_t at = atomic_fetch_add(&boot_used, need);
    if (at + need > sizeof boot_area)
        return NULL;
    memcpy(boot_area + at, &n, sizeof n);
    return boot_area + at + 16;
}

static size_t boot_size(const void *p)
{
    size_t n;
    memcpy(&n, (const unsigned char *)p - 16, sizeof n);
    return n;
}

/* Look up the next definitions; allocations during the look-up come from
 * the bootstrap area. */
static void resolve(void)
{
    int expected = 0;
    if (!atomic_compare_exchange_strong(&resolve_state, &expected, 1)) {
        while (atomic_load(&resolve_state) != 2) {
        }
        return;
    }
    real_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
    real_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
    real_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
    real_reallocarray = (void *(*)(void *, size_t, size_t))dlsym(RTLD_NEXT, "reallocarray");
    real_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
    real_posix_memalign = (int (*)(void **, size_t, size_t))dlsym(RTLD_NEXT, "posix_memalign");
    real_aligned_alloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "aligned_alloc");
    real_memalign = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "memalign");
    real_valloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "valloc");
    real_usable = (size_t (*)(void *))dlsym(RTLD_NEXT, "malloc_usable_size");
    real_pthread_create = (int (*)(pthread_t *, const pthread_attr_t *, void *(*)(void *),
                                   void *))dlsym(RTLD_NEXT, "pthread_create");
    atomic_store(&resolve_state, 2);
}

/* Whether the real functions are known; 0 while dlsym is running, when the
 * caller must serve from the bootstrap area. */
static int ready(void)
{
    if (atomic_load_explicit(&resolve_state, memory_order_acquire) == 2)
        return 1;
    if (self.busy || atomic_load(&resolve_state) == 1)
        return 0;
    self.busy = 1;
    resolve();
    self.busy = 0;
    return 1;
}

/* ------------------------------------------------------------- the file -- */

/* Append decimal v to buf at *n. */
static void put_decimal(char *buf, size_t *n, unsigned long v)
{
    char digits[24];
    int k = 0;
    do {
        digits[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (k > 0)
        buf[(*n)++] = digits[--k];
}

/* "<dir>/<pid>-<gen><suffix>" */
static void file_name(char *buf, size_t len, unsigned gen, const char *suffix)
{
    size_t n = strlen(dir_path);
    if (n + 64 > len)
        n = 0;
    memcpy(buf, dir_path, n);
    buf[n++] = '/';
    put_decimal(buf, &n, (unsigned long)getpid());
    buf[n++] = '-';
    put_decimal(buf, &n, gen);
    strcpy(buf + n, suffix);
}

static unsigned image_gen;

/* Say that this image's trace is incomplete (bench refuses to keep it). */
static void mark_lost(void)
{
    char path[4200];
    file_name(path, sizeof path, image_gen, ".lost");
    int lost = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (lost >= 0)
        close(lost);
    atomic_store(&state, OFF);
}

static void thread_exit(void *unused);
static void after_fork_child(void);

/* Open this image's raw file; ON, or OFF when not asked to record. */
static void start(void)
{
    int expected = OFF_UNSET;
    if (!atomic_compare_exchange_strong(&state, &expected, OFF_STARTING))
        return;
    const char *dir = getenv(RAW_ENV_DIR);
    if (dir == NULL || dir[0] == '\0' || strlen(dir) >= sizeof dir_path) {
        atomic_store(&state, OFF);
        return;
    }
    strcpy(dir_path, dir);
    char path[4200];
    for (image_gen = 0; image_gen < 1000; image_gen++) {
        file_name(path, sizeof path, image_gen, ".raw");
        fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0 || errno != EEXIST)
            break;
    }
    if (fd < 0) {
        atomic_store(&state, OFF);
        return;
    }
    if (!atfork_registered) {
        atfork_registered = 1;
        pthread_atfork(NULL, NULL, after_fork_child);
        pthread_key_create(&exit_key, thread_exit);
    }
    atomic_store(&state, ON);
}

/* The child of a fork: forget the parent's file and chunks; the next event
 * starts this process's own file. */
static void after_fork_child(void)
{
    if (self.chunk != NULL)
        munmap(self.chunk, RAW_CHUNK_BYTES);
    self.chunk = NULL;
    self.has_thread = 0;
    if (fd >= 0)
        close(fd);
    fd = -1;
    epoch++;
    self.epoch = epoch;
    atomic_store(&next_seq, 0);
    atomic_store(&next_chunk, 0);
    atomic_store(&next_thread, 0);
    atomic_store(&threaded, 0); /* the child of a fork has one thread */
    file_chunks = 0;
    atomic_flag_clear(&grow_lock);
    atomic_store(&state, OFF_UNSET);
}

/* A thread ends: unmap its chunk (what it wrote stays in the file). */
static void thread_exit(void *unused)
{
    (void)unused;
    if (self.chunk != NULL)
        munmap(self.chunk, RAW_CHUNK_BYTES);
    self.chunk = NULL;
}

/* Room in the file for chunk idx, reserved with fallocate so that a full
 * disk is an error here and never a SIGBUS later.  The file doubles, from
 * one chunk up to steps of 256 (16 MiB): a short-lived process (a shell a
 * program runs) costs 64 KiB, a long recording few calls. */
static int reserve_chunk(uint64_t idx)
{
    while (atomic_flag_test_and_set_explicit(&grow_lock, memory_order_acquire)) {
    }
    int rc = 0;
    if (file_chunks <= idx) {
        uint64_t step = file_chunks < 1 ? 1 : file_chunks < 256 ? file_chunks : 256;
        uint64_t want = file_chunks + step > idx + 1 ? file_chunks + step : idx + 1;
        rc = fallocate(fd, 0, (off_t)(file_chunks * RAW_CHUNK_BYTES),
                       (off_t)((want - file_chunks) * RAW_CHUNK_BYTES));
        if (rc == 0)
            file_chunks = want;
    }
    atomic_flag_clear_explicit(&grow_lock, memory_order_release);
    return rc;
}

/* Map a new chunk for this thread; 0, or -1 (recording stops, marked lost). */
static int next_chunk_for_thread(void)
{
    if (self.chunk != NULL)
        munmap(self.chunk, RAW_CHUNK_BYTES);
    self.chunk = NULL;
    uint64_t idx = atomic_fetch_add(&next_chunk, 1);
    void *map = MAP_FAILED;
    if (reserve_chunk(idx) == 0)
        map = mmap(NULL, RAW_CHUNK_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
                   (off_t)(idx * RAW_CHUNK_BYTES));
    if (map == MAP_FAILED) {
        mark_lost();
        return -1;
    }
    self.chunk = map;
    self.chunk->thread = self.thread;
    self.chunk->count = 0;
    self.chunk->magic = RAW_MAGIC;
    self.events = (raw_event *)(self.chunk + 1);
    return 0;
}

/* ---------------------------------------------------------- recording -- */

/* Whether this call is to be recorded: the recorder is on and this thread
 * is not inside it.  Starts the recorder at the first call. */
static int enter(void)
{
    if (self.busy)
        return 0;
    int st = atomic_load_explicit(&state, memory_order_acquire);
    if (st == OFF_UNSET) {
        self.busy = 1;
        start();
        self.busy = 0;
        st = atomic_load(&state);
    }
    if (st != ON)
        return 0;
    if (self.epoch != epoch) { /* a thread state from before a fork */
        self.epoch = epoch;
        self.chunk = NULL;
        self.has_thread = 0;
    }
    if (!self.has_thread) {
        self.thread = atomic_fetch_add(&next_thread, 1);
        if (self.thread > 0) /* made without pthread_create, or threaded already */
            atomic_store(&threaded, 1);
        self.has_thread = 1;
        self.busy = 1;
        pthread_setspecific(exit_key, &self);
        self.busy = 0;
    }
    return 1;
}

/* The next number of the global order (above): an atomic add once the
 * program has threads, a load and a store before. */
static uint64_t take_seq(void)
{
    if (atomic_load_explicit(&threaded, memory_order_relaxed))
        return atomic_fetch_add_explicit(&next_seq, 1, memory_order_relaxed);
    uint64_t seq = atomic_load_explicit(&next_seq, memory_order_relaxed);
    atomic_store_explicit(&next_seq, seq + 1, memory_order_relaxed);
    return seq;
}

/* floor(log2(a)), 0 for a <= 1: one instruction, on every aligned call. */
static unsigned log2_of(size_t a)
{
    return a > 1 ? 63u - (unsigned)__builtin_clzl(a) : 0;
}

/* Append one event to this thread's chunk. */
static void record(unsigned kind, uint64_t seq, const void *addr, size_t size, unsigned align_log2)
{
    if (self.chunk == NULL || self.chunk->count == RAW_EVENTS_PER_CHUNK) {
        if (next_chunk_for_thread() != 0)
            return;
    }
    uint32_t n = self.chunk->count;
    raw_event *e = &self.events[n];
    e->seq_kind = seq << 8 | kind;
    e->addr = (uint64_t)(uintptr_t)addr;
    e->size_align = (uint64_t)size | (uint64_t)align_log2 << 56;
    __atomic_store_n(&self.chunk->count, n + 1, __ATOMIC_RELEASE);
}

/* ---------------------------------------------------- the interposers -- */

EXPORT void *malloc(size_t n)
{
    if (!ready())
        return boot_alloc(n);
    if (!enter())
        return real_malloc(n);
    self.busy = 1;
    void *p = real_malloc(n);
    if (p != NULL)
        record(RAW_MALLOC, take_seq(), p, n, 0);
    self.busy = 0;
    return p;
}

EXPORT void *calloc(size_t n, size_t m)
{
    if (m != 0 && n > SIZE_MAX / m) {
        errno = ENOMEM;
        return NULL;
    }
    if (!ready())
        return boot_alloc(n * m); /* the area is static: already zero */
    if (!enter())
        return real_calloc(n, m);
    self.busy = 1;
    void *p = real_calloc(n, m);
    if (p != NULL)
        record(RAW_CALLOC, take_seq(), p, n * m, 0);
    self.busy = 0;
    return p;
}

EXPORT void free(void *p)
{
    if (p == NULL || in_boot(p))
        return;
    if (!ready())
        return;
    if (!enter()) {
        real_free(p);
        return;
    }
    self.busy = 1;
    record(RAW_FREE, take_seq(), p, 0, 0);
    real_free(p);
    self.busy = 0;
}

/* realloc and reallocarray: BEGIN before the call, END after it. */
static void *recorded_realloc(void *p, size_t n, size_t m, int array)
{
    size_t bytes = n * m;
    if (in_boot(p)) { /* a bootstrap block moves to the real heap */
        void *q = malloc(bytes);
        if (q != NULL)
            memcpy(q, p, boot_size(p) < bytes ? boot_size(p) : bytes);
        return q;
    }
    if (!ready())
        return NULL;
    if (!enter())
        return array ? real_reallocarray(p, n, m) : real_realloc(p, bytes);
    self.busy = 1;
    record(RAW_REALLOC_BEGIN, take_seq(), p, 0, 0);
    void *q = array ? real_reallocarray(p, n, m) : real_realloc(p, bytes);
    record(RAW_REALLOC_END, take_seq(), q, bytes, 0);
    self.busy = 0;
    return q;
}

EXPORT void *realloc(void *p, size_t n)
{
    return recorded_realloc(p, n, 1, 0);
}

EXPORT void *reallocarray(void *p, size_t n, size_t m)
{
    if (m != 0 && n > SIZE_MAX / m) {
        errno = ENOMEM;
        return NULL;
    }
    return recorded_realloc(p, n, m, 1);
}

EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
    if (!ready())
        return ENOMEM;
    if (!enter())
        return real_posix_memalign(out, align, n);
    self.busy = 1;
    int rc = real_posix_memalign(out, align, n);
    if (rc == 0)
        record(RAW_POSIX_MEMALIGN, take_seq(), *out, n, log2_of(align));
    self.busy = 0;
    return rc;
}

/* aligned_alloc, memalign and valloc: one shape, three kinds. */
static void *recorded_aligned(void *(*real)(size_t, size_t), unsigned kind, size_t align, size_t n)
{
    if (!ready())
        return NULL;
    if (!enter())
        return real(align, n);
    self.busy = 1;
    void *p = real(align, n);
    if (p != NULL)
        record(kind, take_seq(), p, n, log2_of(align));
    self.busy = 0;
    return p;
}

EXPORT void *aligned_alloc(size_t align, size_t n)
{
    return ready() ? recorded_aligned(real_aligned_alloc, RAW_ALIGNED_ALLOC, align, n) : NULL;
}

EXPORT void *memalign(size_t align, size_t n)
{
    return ready() ? recorded_aligned(real_memalign, RAW_MEMALIGN, align, n) : NULL;
}

static void *valloc_shim(size_t align, size_t n)
{
    (void)align;
    return real_valloc(n);
}

EXPORT void *valloc(size_t n)
{
    return ready() ? recorded_aligned(valloc_shim, RAW_VALLOC, (size_t)sysconf(_SC_PAGESIZE), n)
                   : NULL;
}

EXPORT size_t malloc_usable_size(void *p)
{
    if (p == NULL)
        return 0;
    if (in_boot(p))
        return boot_size(p);
    if (!ready())
        return 0;
    if (!enter())
        return real_usable(p);
    self.busy = 1;
    record(RAW_USABLE, take_seq(), p, 0, 0);
    size_t n = real_usable(p);
    self.busy = 0;
    return n;
}

/* Every new thread: `threaded` is set before it exists, so that from its
 * first event on (and the creator's next) numbers are taken atomically. */
EXPORT int pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*fn)(void *),
                          void *arg)
{
    atomic_store(&threaded, 1);
    if (atomic_load_explicit(&resolve_state, memory_order_acquire) != 2)
        resolve(); /* or wait for the thread that is resolving */
    if (real_pthread_create == NULL)
        return EAGAIN;
    return real_pthread_create(thread, attr, fn, arg);
}
