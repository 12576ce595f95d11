#define _GNU_SOURCE /* popen */
/* ringq's C API against its peers, in one run: throughput (SPSC and MPMC)
 * and a thread pool.
 *
 * Peers:
 *   mutex     a bounded ring behind a pthread mutex and two condition
 *             variables, written here (what C code often uses instead)
 *   ck_ring   Concurrency Kit's ring (Debian libck-dev), in the matching mode:
 *             ck_ring_enqueue_spsc/dequeue_spsc and ..._mpmc
 *   rust core ringq's Rust queues called directly, from a small Rust binary
 *             (c-api/examples/core_bench.rs) given with --rust-core: the gap
 *             to "ringq (C API)" is the cost of the C ABI
 *
 * Throughput: 1 producer and 1 consumer (SPSC), 2 and 2 (MPMC). The
 * lock-free queues use their non-blocking calls with the same spin-then-yield
 * loop as the Rust binary; the mutex queue blocks on its condition variables,
 * which is how it is meant to be used. Each queue's loop is compiled for that
 * queue, so ck_ring's inline functions are inlined and ringq's are called
 * directly through the shared library, as in a user's program.
 *
 * Thread pool: 4 producers submit tasks to one queue, 4 workers take them,
 * compute, and put the results on a second queue, which one collector drains
 * and checks (every task exactly once, with the right output). Every thread
 * uses the blocking calls and the queues shut down by close. It runs on
 * ringq_bounded and on the mutex queue; besides wall time it reports the
 * CPU time and context switches of the whole process (getrusage), which is
 * where a lock-free queue pays off on a machine with few cores.
 *
 * Every round runs every (workload, queue) pair once, in an order rotated
 * from round to round so that drift on a shared machine spreads evenly; the
 * tables report medians and paired ratios (the median over rounds of one
 * queue's time over ringq's in the same round), and a last section says which
 * of the library's targets this run met.
 *
 * Usage: bench [--rust-core PATH] [--rounds N] [--items N] [--pool-tasks N]
 *              [--pool-work N] */
#include <ringq.h>

#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_CK
#include <ck_ring.h>
#endif

#define CAPACITY 1024
#define MAX_ROUNDS 64
#define POOL_PRODUCERS 4
#define POOL_WORKERS 4
#define POOL_CAPACITY 256

static size_t items = 1000000;
static int rounds = 11;
static size_t pool_tasks = 200000;
static unsigned pool_work = 200;
static const char *rust_core = NULL;

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Spin 64 times, then yield; reset per item. Same policy in core_bench.rs. */
static inline void snooze(unsigned *spins) {
    if (*spins < 64) {
        (*spins)++;
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    } else {
        sched_yield();
    }
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *values, int n) {
    double sorted[MAX_ROUNDS];
    memcpy(sorted, values, sizeof(double) * (size_t)n);
    qsort(sorted, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

static double min_of(const double *v, int n) {
    double m = v[0];
    for (int i = 1; i < n; i++) m = v[i] < m ? v[i] : m;
    return m;
}

static double max_of(const double *v, int n) {
    double m = v[0];
    for (int i = 1; i < n; i++) m = v[i] > m ? v[i] : m;
    return m;
}

/* ---- the mutex + condvar queue (the hand-written peer) ------------------- */

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t not_full, not_empty;
    size_t head, len, capacity;
    int closed;
    void **slots;
} mutex_queue;

static mutex_queue *mutex_queue_new(size_t capacity) {
    mutex_queue *q = calloc(1, sizeof *q);
    if (!q) return NULL;
    q->slots = calloc(capacity, sizeof *q->slots);
    if (!q->slots) {
        free(q);
        return NULL;
    }
    q->capacity = capacity;
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->not_full, NULL);
    pthread_cond_init(&q->not_empty, NULL);
    return q;
}

static void mutex_queue_free(mutex_queue *q) {
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->not_full);
    pthread_cond_destroy(&q->not_empty);
    free(q->slots);
    free(q);
}

/* 0 once pushed, -1 if the queue is closed. */
static int mutex_queue_push(mutex_queue *q, void *item) {
    pthread_mutex_lock(&q->lock);
    while (q->len == q->capacity && !q->closed) pthread_cond_wait(&q->not_full, &q->lock);
    if (q->closed) {
        pthread_mutex_unlock(&q->lock);
        return -1;
    }
    q->slots[(q->head + q->len++) % q->capacity] = item;
    pthread_cond_signal(&q->not_empty);
    pthread_mutex_unlock(&q->lock);
    return 0;
}

/* 0 with an item, -1 once the queue is closed and empty. */
static int mutex_queue_pop(mutex_queue *q, void **item) {
    pthread_mutex_lock(&q->lock);
    while (q->len == 0 && !q->closed) pthread_cond_wait(&q->not_empty, &q->lock);
    if (q->len == 0) {
        pthread_mutex_unlock(&q->lock);
        return -1;
    }
    *item = q->slots[q->head];
    q->head = (q->head + 1) % q->capacity;
    q->len--;
    pthread_cond_signal(&q->not_full);
    pthread_mutex_unlock(&q->lock);
    return 0;
}

static void mutex_queue_close(mutex_queue *q) {
    pthread_mutex_lock(&q->lock);
    q->closed = 1;
    pthread_cond_broadcast(&q->not_full);
    pthread_cond_broadcast(&q->not_empty);
    pthread_mutex_unlock(&q->lock);
}

/* ---- throughput ----------------------------------------------------------- */

typedef struct {
    void *q;
    size_t first, stride; /* producers: the values first, first + stride, ... */
    size_t count;         /* consumers: how many items to pop */
    uint64_t sum;
} worker;

/* A producer and a consumer loop for one non-blocking queue, compiled with
 * that queue's calls in place: TRY_PUSH(q, item) and TRY_POP(q, &item) are
 * true on success. */
#define SPIN_LOOPS(NAME, TRY_PUSH, TRY_POP)                                         \
    static void *NAME##_producer(void *arg) {                                      \
        worker *w = arg;                                                           \
        void *q = w->q;                                                            \
        for (size_t v = w->first; v <= items; v += w->stride) {                    \
            void *item = (void *)(uintptr_t)v;                                     \
            unsigned spins = 0;                                                    \
            while (!(TRY_PUSH(q, item))) snooze(&spins);                           \
        }                                                                          \
        return NULL;                                                               \
    }                                                                              \
    static void *NAME##_consumer(void *arg) {                                      \
        worker *w = arg;                                                           \
        void *q = w->q;                                                            \
        uint64_t sum = 0;                                                          \
        for (size_t i = 0; i < w->count; i++) {                                    \
            void *item;                                                            \
            unsigned spins = 0;                                                    \
            while (!(TRY_POP(q, &item))) snooze(&spins);                           \
            sum += (uintptr_t)item;                                                \
        }                                                                          \
        w->sum = sum;                                                              \
        return NULL;                                                               \
    }

#define RINGQ_SPSC_PUSH(q, item) (ringq_spsc_try_push((q), (item)) == RINGQ_OK)
#define RINGQ_SPSC_POP(q, out) (ringq_spsc_try_pop((q), (out)) == RINGQ_OK)
#define RINGQ_BOUNDED_PUSH(q, item) (ringq_bounded_try_push((q), (item)) == RINGQ_OK)
#define RINGQ_BOUNDED_POP(q, out) (ringq_bounded_try_pop((q), (out)) == RINGQ_OK)
SPIN_LOOPS(ringq_spsc, RINGQ_SPSC_PUSH, RINGQ_SPSC_POP)
SPIN_LOOPS(ringq_bounded, RINGQ_BOUNDED_PUSH, RINGQ_BOUNDED_POP)

static void *ringq_create(int mpmc) {
    if (mpmc) {
        ringq_bounded *q = NULL;
        return ringq_bounded_new(CAPACITY, &q) == RINGQ_OK ? (void *)q : NULL;
    }
    ringq_spsc *q = NULL;
    return ringq_spsc_new(CAPACITY, &q) == RINGQ_OK ? (void *)q : NULL;
}
static void ringq_destroy(void *q, int mpmc) {
    if (mpmc) ringq_bounded_free(q);
    else ringq_spsc_free(q);
}

static void *mutex_producer(void *arg) {
    worker *w = arg;
    for (size_t v = w->first; v <= items; v += w->stride) mutex_queue_push(w->q, (void *)(uintptr_t)v);
    return NULL;
}
static void *mutex_consumer(void *arg) {
    worker *w = arg;
    uint64_t sum = 0;
    for (size_t i = 0; i < w->count; i++) {
        void *item = NULL;
        mutex_queue_pop(w->q, &item);
        sum += (uintptr_t)item;
    }
    w->sum = sum;
    return NULL;
}
static void *mutex_create(int mpmc) {
    (void)mpmc;
    return mutex_queue_new(CAPACITY);
}
static void mutex_destroy(void *q, int mpmc) {
    (void)mpmc;
    mutex_queue_free(q);
}

#ifdef HAVE_CK
/* ck_ring: a power-of-two ring holding CAPACITY - 1 items. */
typedef struct {
    ck_ring_t ring;
    ck_ring_buffer_t *buffer;
} ck_queue;

#define CK_SPSC_PUSH(q, item) ck_ring_enqueue_spsc(&((ck_queue *)(q))->ring, ((ck_queue *)(q))->buffer, (item))
#define CK_SPSC_POP(q, out) ck_ring_dequeue_spsc(&((ck_queue *)(q))->ring, ((ck_queue *)(q))->buffer, (out))
#define CK_MPMC_PUSH(q, item) ck_ring_enqueue_mpmc(&((ck_queue *)(q))->ring, ((ck_queue *)(q))->buffer, (item))
#define CK_MPMC_POP(q, out) ck_ring_dequeue_mpmc(&((ck_queue *)(q))->ring, ((ck_queue *)(q))->buffer, (out))
SPIN_LOOPS(ck_spsc, CK_SPSC_PUSH, CK_SPSC_POP)
SPIN_LOOPS(ck_mpmc, CK_MPMC_PUSH, CK_MPMC_POP)

static void *ck_create(int mpmc) {
    (void)mpmc;
    ck_queue *q = calloc(1, sizeof *q);
    if (!q) return NULL;
    q->buffer = calloc(CAPACITY, sizeof *q->buffer);
    if (!q->buffer) {
        free(q);
        return NULL;
    }
    ck_ring_init(&q->ring, CAPACITY);
    return q;
}
static void ck_destroy(void *p, int mpmc) {
    (void)mpmc;
    ck_queue *q = p;
    free(q->buffer);
    free(q);
}
#endif

typedef struct {
    const char *name;
    void *(*create)(int mpmc);
    void (*destroy)(void *q, int mpmc);
    void *(*producer[2])(void *); /* [0] SPSC, [1] MPMC */
    void *(*consumer[2])(void *);
} queue_impl;

enum { IMPL_RINGQ, IMPL_RUST, IMPL_MUTEX, IMPL_CK, N_IMPLS };

static const queue_impl IMPLS[N_IMPLS] = {
    [IMPL_RINGQ] = {"ringq (C API)", ringq_create, ringq_destroy,
                    {ringq_spsc_producer, ringq_bounded_producer},
                    {ringq_spsc_consumer, ringq_bounded_consumer}},
    [IMPL_RUST] = {"ringq (Rust core)", NULL, NULL, {NULL, NULL}, {NULL, NULL}},
    [IMPL_MUTEX] = {"mutex+condvar", mutex_create, mutex_destroy, {mutex_producer, mutex_producer},
                    {mutex_consumer, mutex_consumer}},
#ifdef HAVE_CK
    [IMPL_CK] = {"ck_ring", ck_create, ck_destroy, {ck_spsc_producer, ck_mpmc_producer},
                 {ck_spsc_consumer, ck_mpmc_consumer}},
#else
    [IMPL_CK] = {"ck_ring", NULL, NULL, {NULL, NULL}, {NULL, NULL}},
#endif
};

typedef struct {
    const char *name;
    int producers, consumers;
} scenario;

#define N_SCENARIOS 2
static const scenario SCENARIOS[N_SCENARIOS] = {{"SPSC 1p/1c", 1, 1}, {"MPMC 2p/2c", 2, 2}};

/* Runs one throughput round in C; returns ns per item, or -1 on error. */
static double run_c(const queue_impl *impl, const scenario *s) {
    int mpmc = s->producers > 1 || s->consumers > 1;
    void *q = impl->create(mpmc);
    if (!q) return -1;
    pthread_t threads[8];
    worker workers[8];
    int n = 0;
    double start = now_ns();
    for (int c = 0; c < s->consumers; c++, n++) {
        workers[n] = (worker){q, 0, 0, items / (size_t)s->consumers, 0};
        if (pthread_create(&threads[n], NULL, impl->consumer[mpmc], &workers[n]) != 0) return -1;
    }
    for (int p = 0; p < s->producers; p++, n++) {
        workers[n] = (worker){q, (size_t)p + 1, (size_t)s->producers, 0, 0};
        if (pthread_create(&threads[n], NULL, impl->producer[mpmc], &workers[n]) != 0) return -1;
    }
    uint64_t sum = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(threads[i], NULL);
        sum += workers[i].sum;
    }
    double elapsed = now_ns() - start;
    impl->destroy(q, mpmc);
    if (sum != (uint64_t)items * (items + 1) / 2) {
        fprintf(stderr, "bench: %s lost or duplicated items\n", impl->name);
        exit(1);
    }
    return elapsed / (double)items;
}

/* Runs one round of the Rust core in its own process; its timing covers only
 * the queue work, not the process start. */
static double run_rust(const scenario *s) {
    char cmd[4096];
    int mpmc = s->producers > 1 || s->consumers > 1;
    snprintf(cmd, sizeof cmd, "'%s' %s %zu %d %d %d", rust_core, mpmc ? "mpmc" : "spsc", items,
             s->producers, s->consumers, CAPACITY);
    FILE *f = popen(cmd, "r");
    if (!f) return -1;
    double ns = -1;
    if (fscanf(f, "%lf", &ns) != 1) ns = -1;
    if (pclose(f) != 0) ns = -1;
    return ns;
}

/* ---- thread pool ---------------------------------------------------------- */

typedef struct {
    uint64_t input, output;
    uint64_t expected; /* work(input), computed before the clock starts */
} task;

/* The work a task stands for: `pool_work` rounds of a 64-bit mixer. */
static uint64_t work(uint64_t x) {
    for (unsigned i = 0; i < pool_work; i++) {
        x ^= x >> 33;
        x *= 0xff51afd7ed558ccdULL;
    }
    return x;
}

/* The blocking calls a pool needs, for each queue. push and pop return 0 on
 * success and nonzero once the queue is closed (and, for pop, drained). */
typedef struct {
    const char *name;
    void *(*create)(void);
    void (*destroy)(void *q);
    int (*push)(void *q, void *item);
    int (*pop)(void *q, void **item);
    void (*close)(void *q);
} pool_impl;

static void *pool_ringq_create(void) {
    ringq_bounded *q = NULL;
    return ringq_bounded_new(POOL_CAPACITY, &q) == RINGQ_OK ? (void *)q : NULL;
}
static void pool_ringq_destroy(void *q) { ringq_bounded_free(q); }
static int pool_ringq_push(void *q, void *item) { return ringq_bounded_push(q, item) != RINGQ_OK; }
static int pool_ringq_pop(void *q, void **item) { return ringq_bounded_pop(q, item) != RINGQ_OK; }
static void pool_ringq_close(void *q) { ringq_bounded_close(q); }

static void *pool_mutex_create(void) { return mutex_queue_new(POOL_CAPACITY); }
static void pool_mutex_destroy(void *q) { mutex_queue_free(q); }
static int pool_mutex_push(void *q, void *item) { return mutex_queue_push(q, item); }
static int pool_mutex_pop(void *q, void **item) { return mutex_queue_pop(q, item); }
static void pool_mutex_close(void *q) { mutex_queue_close(q); }

enum { POOL_RINGQ, POOL_MUTEX, N_POOL_IMPLS };

static const pool_impl POOL_IMPLS[N_POOL_IMPLS] = {
    {"ringq_bounded", pool_ringq_create, pool_ringq_destroy, pool_ringq_push, pool_ringq_pop,
     pool_ringq_close},
    {"mutex+condvar", pool_mutex_create, pool_mutex_destroy, pool_mutex_push, pool_mutex_pop,
     pool_mutex_close},
};

typedef struct {
    const pool_impl *impl;
    void *tasks, *results;
    task *all;
    size_t first; /* producers submit tasks first, first + POOL_PRODUCERS, ... */
    unsigned char *seen; /* collector */
    size_t collected;
} pool_arg;

static void *pool_producer(void *p) {
    pool_arg *a = p;
    for (size_t i = a->first; i < pool_tasks; i += POOL_PRODUCERS) {
        if (a->impl->push(a->tasks, &a->all[i]) != 0) {
            fprintf(stderr, "bench: %s refused a task before the close\n", a->impl->name);
            exit(1);
        }
    }
    return NULL;
}

static void *pool_worker(void *p) {
    pool_arg *a = p;
    void *item;
    while (a->impl->pop(a->tasks, &item) == 0) {
        task *t = item;
        t->output = work(t->input);
        if (a->impl->push(a->results, t) != 0) {
            fprintf(stderr, "bench: %s refused a result before the close\n", a->impl->name);
            exit(1);
        }
    }
    return NULL;
}

static void *pool_collector(void *p) {
    pool_arg *a = p;
    void *item;
    while (a->impl->pop(a->results, &item) == 0) {
        task *t = item;
        ptrdiff_t i = t - a->all;
        if (i < 0 || (size_t)i >= pool_tasks || a->seen[i]++ != 0 || t->output != t->expected) {
            fprintf(stderr, "bench: %s: task %td lost, repeated or wrong\n", a->impl->name, i);
            exit(1);
        }
        a->collected++;
    }
    return NULL;
}

typedef struct {
    double ns_per_task, cpu_ns_per_task, voluntary_per_1k, involuntary_per_1k;
} pool_result;

static double tv_ns(struct timeval tv) { return (double)tv.tv_sec * 1e9 + (double)tv.tv_usec * 1e3; }

/* Runs one pool round; the rusage covers the whole process, which runs
 * nothing else meanwhile. Returns 0, or -1 on error. */
static int run_pool(const pool_impl *impl, pool_result *out) {
    task *all = calloc(pool_tasks, sizeof *all);
    unsigned char *seen = calloc(pool_tasks, 1);
    void *tasks = impl->create(), *results = impl->create();
    if (!all || !seen || !tasks || !results) return -1;
    for (size_t i = 0; i < pool_tasks; i++) {
        all[i].input = i;
        all[i].expected = work(i);
    }
    pthread_t producers[POOL_PRODUCERS], workers[POOL_WORKERS], collector;
    pool_arg args[POOL_PRODUCERS];
    pool_arg shared = {impl, tasks, results, all, 0, seen, 0};

    struct rusage before, after;
    getrusage(RUSAGE_SELF, &before);
    double start = now_ns();
    if (pthread_create(&collector, NULL, pool_collector, &shared) != 0) return -1;
    for (int i = 0; i < POOL_WORKERS; i++)
        if (pthread_create(&workers[i], NULL, pool_worker, &shared) != 0) return -1;
    for (int i = 0; i < POOL_PRODUCERS; i++) {
        args[i] = shared;
        args[i].first = (size_t)i;
        if (pthread_create(&producers[i], NULL, pool_producer, &args[i]) != 0) return -1;
    }
    for (int i = 0; i < POOL_PRODUCERS; i++) pthread_join(producers[i], NULL);
    impl->close(tasks); /* workers finish what is queued, then stop */
    for (int i = 0; i < POOL_WORKERS; i++) pthread_join(workers[i], NULL);
    impl->close(results);
    pthread_join(collector, NULL);
    double elapsed = now_ns() - start;
    getrusage(RUSAGE_SELF, &after);

    if (shared.collected != pool_tasks) {
        fprintf(stderr, "bench: %s: %zu of %zu tasks collected\n", impl->name, shared.collected,
                pool_tasks);
        exit(1);
    }
    double n = (double)pool_tasks;
    out->ns_per_task = elapsed / n;
    out->cpu_ns_per_task = (tv_ns(after.ru_utime) - tv_ns(before.ru_utime) +
                            tv_ns(after.ru_stime) - tv_ns(before.ru_stime)) / n;
    out->voluntary_per_1k = (double)(after.ru_nvcsw - before.ru_nvcsw) * 1000 / n;
    out->involuntary_per_1k = (double)(after.ru_nivcsw - before.ru_nivcsw) * 1000 / n;
    impl->destroy(tasks);
    impl->destroy(results);
    free(seen);
    free(all);
    return 0;
}

/* ---- main ------------------------------------------------------------------ */

static void verdict(int met, const char *what, const char *measured, const char *target) {
    printf("%-4s %-44s %-22s target %s\n", met ? "MET" : "MISS", what, measured, target);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0); /* keep progress and tables in order when piped */
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--rust-core") && i + 1 < argc) rust_core = argv[++i];
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--items") && i + 1 < argc) items = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--pool-tasks") && i + 1 < argc)
            pool_tasks = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--pool-work") && i + 1 < argc)
            pool_work = (unsigned)strtoul(argv[++i], NULL, 10);
        else {
            fprintf(stderr,
                    "usage: %s [--rust-core PATH] [--rounds N] [--items N] [--pool-tasks N] "
                    "[--pool-work N]\n",
                    argv[0]);
            return 2;
        }
    }
    if (rounds < 1 || rounds > MAX_ROUNDS || items < 4 || items % 2 || pool_tasks < 1) {
        fprintf(stderr, "bench: need 1 <= rounds <= %d, an even item count >= 4 and tasks >= 1\n",
                MAX_ROUNDS);
        return 2;
    }
    int enabled[N_IMPLS] = {1, rust_core != NULL, 1, IMPLS[IMPL_CK].create != NULL};
    if (!enabled[IMPL_CK]) printf("bench: ck_ring skipped: built without Concurrency Kit (libck-dev)\n");
    if (!enabled[IMPL_RUST]) printf("bench: Rust core skipped: no --rust-core binary given\n");
    printf("bench: ringq %s; throughput: %zu items per run, capacity %d; pool: %zu tasks of %u "
           "mixer rounds, capacity %d; %d rounds; %ld CPUs online\n",
           ringq_version(), items, CAPACITY, pool_tasks, pool_work, POOL_CAPACITY, rounds,
           sysconf(_SC_NPROCESSORS_ONLN));

    double load = 0;
    FILE *loadavg = fopen("/proc/loadavg", "r");
    if (loadavg) {
        if (fscanf(loadavg, "%lf", &load) != 1) load = 0;
        fclose(loadavg);
    }
    if (load > 0.5)
        printf("bench: warning: load average %.1f before starting; other work competes for the "
               "CPUs and makes these numbers noisy (compare min and max)\n", load);

    static double tput[N_SCENARIOS][N_IMPLS][MAX_ROUNDS];
    static pool_result pool[N_POOL_IMPLS][MAX_ROUNDS];
    enum { SLOTS = N_SCENARIOS * N_IMPLS + N_POOL_IMPLS };
    for (int r = 0; r < rounds; r++) {
        for (int k = 0; k < SLOTS; k++) {
            int slot = (k + r) % SLOTS; /* rotate the order */
            if (slot >= N_SCENARIOS * N_IMPLS) {
                int p = slot - N_SCENARIOS * N_IMPLS;
                if (run_pool(&POOL_IMPLS[p], &pool[p][r]) != 0) {
                    fprintf(stderr, "bench: thread pool on %s failed\n", POOL_IMPLS[p].name);
                    return 1;
                }
                continue;
            }
            int s = slot / N_IMPLS, i = slot % N_IMPLS;
            if (!enabled[i]) continue;
            double ns = i == IMPL_RUST ? run_rust(&SCENARIOS[s]) : run_c(&IMPLS[i], &SCENARIOS[s]);
            if (ns < 0) {
                fprintf(stderr, "bench: %s failed in %s\n", IMPLS[i].name, SCENARIOS[s].name);
                return 1;
            }
            tput[s][i][r] = ns;
        }
        fprintf(stderr, "bench: round %d/%d done\n", r + 1, rounds);
    }

    /* Throughput table. `paired` is the median over rounds of the peer's time
     * divided by ringq's in the same round, which cancels most of the drift
     * between rounds; above 1 means ringq was faster. */
    double med[N_SCENARIOS][N_IMPLS] = {{0}}, paired[N_SCENARIOS][N_IMPLS] = {{0}};
    printf("\n%-11s %-18s %8s %8s %8s %8s   %s\n", "scenario", "queue", "median", "min", "max",
           "paired", "(ns/item; paired = median of peer / ringq (C API) per round)");
    for (int s = 0; s < N_SCENARIOS; s++) {
        for (int i = 0; i < N_IMPLS; i++) {
            if (!enabled[i]) continue;
            double ratios[MAX_ROUNDS];
            for (int r = 0; r < rounds; r++) ratios[r] = tput[s][i][r] / tput[s][IMPL_RINGQ][r];
            med[s][i] = median(tput[s][i], rounds);
            paired[s][i] = median(ratios, rounds);
            char ratio[32] = "";
            if (i != IMPL_RINGQ) snprintf(ratio, sizeof ratio, "%.2fx", paired[s][i]);
            printf("%-11s %-18s %8.1f %8.1f %8.1f %8s\n", SCENARIOS[s].name, IMPLS[i].name,
                   med[s][i], min_of(tput[s][i], rounds), max_of(tput[s][i], rounds), ratio);
        }
        if (enabled[IMPL_RUST])
            printf("%-11s C API cost over the Rust core: %+.1f%% paired, %+.1f%% between medians, "
                   "%+.1f%% between best rounds\n",
                   SCENARIOS[s].name, (1 / paired[s][IMPL_RUST] - 1) * 100,
                   (med[s][IMPL_RINGQ] / med[s][IMPL_RUST] - 1) * 100,
                   (min_of(tput[s][IMPL_RINGQ], rounds) / min_of(tput[s][IMPL_RUST], rounds) - 1) * 100);
        printf("\n");
    }

    /* Thread pool table. */
    printf("thread pool: %d producers -> %d workers -> 1 collector, blocking calls, medians\n",
           POOL_PRODUCERS, POOL_WORKERS);
    printf("%-15s %12s %14s %16s %18s\n", "queue", "ns/task", "CPU ns/task", "voluntary cs/1k",
           "involuntary cs/1k");
    pool_result pm[N_POOL_IMPLS];
    for (int p = 0; p < N_POOL_IMPLS; p++) {
        double v[4][MAX_ROUNDS];
        for (int r = 0; r < rounds; r++) {
            v[0][r] = pool[p][r].ns_per_task;
            v[1][r] = pool[p][r].cpu_ns_per_task;
            v[2][r] = pool[p][r].voluntary_per_1k;
            v[3][r] = pool[p][r].involuntary_per_1k;
        }
        pm[p] = (pool_result){median(v[0], rounds), median(v[1], rounds), median(v[2], rounds),
                              median(v[3], rounds)};
        printf("%-15s %12.1f %14.1f %16.1f %18.1f\n", POOL_IMPLS[p].name, pm[p].ns_per_task,
               pm[p].cpu_ns_per_task, pm[p].voluntary_per_1k, pm[p].involuntary_per_1k);
    }
    double wall[MAX_ROUNDS], cpu[MAX_ROUNDS];
    for (int r = 0; r < rounds; r++) {
        wall[r] = pool[POOL_MUTEX][r].ns_per_task / pool[POOL_RINGQ][r].ns_per_task;
        cpu[r] = pool[POOL_MUTEX][r].cpu_ns_per_task / pool[POOL_RINGQ][r].cpu_ns_per_task;
    }
    const pool_result *pr = &pm[POOL_RINGQ], *px = &pm[POOL_MUTEX];
    printf("mutex / ringq: wall %.2fx and CPU %.2fx (paired); voluntary switches %.1fx and "
           "involuntary %.1fx (medians)\n\n",
           median(wall, rounds), median(cpu, rounds),
           pr->voluntary_per_1k > 0 ? px->voluntary_per_1k / pr->voluntary_per_1k : 0.0,
           pr->involuntary_per_1k > 0 ? px->involuntary_per_1k / pr->involuntary_per_1k : 0.0);

    /* The library's targets, judged on this run's paired ratios. */
    printf("targets (paired ratios of this run):\n");
    char m[64];
    for (int s = 0; s < N_SCENARIOS; s++) {
        char what[64];
        if (enabled[IMPL_RUST]) {
            double cost = (1 / paired[s][IMPL_RUST] - 1) * 100;
            snprintf(what, sizeof what, "%s C ABI cost over the Rust core", SCENARIOS[s].name);
            snprintf(m, sizeof m, "%+.1f%%", cost);
            verdict(cost <= 10, what, m, "<= +10%");
        } else {
            printf("SKIP %s C ABI cost (no --rust-core)\n", SCENARIOS[s].name);
        }
        if (enabled[IMPL_CK]) {
            snprintf(what, sizeof what, "%s ringq vs ck_ring", SCENARIOS[s].name);
            snprintf(m, sizeof m, "%.2fx", paired[s][IMPL_CK]);
            verdict(paired[s][IMPL_CK] >= 1, what, m, ">= 1x");
        } else {
            printf("SKIP %s ringq vs ck_ring (no libck-dev)\n", SCENARIOS[s].name);
        }
        snprintf(what, sizeof what, "%s ringq vs mutex+condvar", SCENARIOS[s].name);
        snprintf(m, sizeof m, "%.2fx", paired[s][IMPL_MUTEX]);
        verdict(paired[s][IMPL_MUTEX] >= 5, what, m, ">= 5x");
    }
    return 0;
}
