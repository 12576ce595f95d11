#define _GNU_SOURCE /* popen, sysconf */
/* Throughput of ringq's C API against its peers, SPSC and MPMC in one run.
 *
 * Peers:
 *   mutex     a bounded ring behind a pthread mutex and two condition
 *             variables, written here (what C code often uses instead)
 *   ck_ring   Concurrency Kit's ring (Debian libck-dev), in the matching mode:
 *             ck_ring_enqueue_spsc/dequeue_spsc and ..._mpmc
 *   rust core ringq's Rust queues called directly, from a small Rust binary
 *             (c-api/examples/core_bench.rs) given with --rust-core: the gap
 *             to "ringq (C)" is the cost of the C ABI
 *
 * Every round runs every (scenario, queue) pair once, in an order rotated
 * from round to round so that drift on a shared machine spreads evenly; the
 * table reports medians. The lock-free queues use their non-blocking calls
 * with the same spin-then-yield loop; the mutex queue blocks on its condition
 * variables, which is how it is meant to be used.
 *
 * Usage: bench [--rust-core PATH] [--rounds N] [--items N] */
#include <ringq.h>

#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_CK
#include <ck_ring.h>
#endif

#define CAPACITY 1024
#define MAX_THREADS 4

static size_t items = 1000000;
static int rounds = 11;
static const char *rust_core = NULL;

typedef struct {
    const char *name;
    int producers, consumers;
} scenario;

static const scenario SCENARIOS[] = {{"SPSC 1p/1c", 1, 1}, {"MPMC 2p/2c", 2, 2}};
#define N_SCENARIOS 2

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

/* ---- the queues, behind one interface ------------------------------------ */

typedef struct queue_impl {
    const char *name;
    void *(*create)(int mpmc);
    void (*destroy)(void *q, int mpmc);
    int (*try_push)(void *q, void *item, int mpmc); /* 1 on success */
    int (*try_pop)(void *q, void **item, int mpmc);
    int blocking; /* push/pop below block instead */
    void (*push)(void *q, void *item);
    void *(*pop)(void *q);
} queue_impl;

/* ringq through the C API: ringq_spsc for SPSC, ringq_bounded for MPMC. */
static void *ringq_create(int mpmc) {
    if (mpmc) {
        ringq_bounded *q = NULL;
        return ringq_bounded_new(CAPACITY, &q) == RINGQ_OK ? q : NULL;
    }
    ringq_spsc *q = NULL;
    return ringq_spsc_new(CAPACITY, &q) == RINGQ_OK ? q : NULL;
}
static void ringq_destroy(void *q, int mpmc) {
    if (mpmc) ringq_bounded_free(q);
    else ringq_spsc_free(q);
}
static int ringq_try_push(void *q, void *item, int mpmc) {
    return (mpmc ? ringq_bounded_try_push(q, item) : ringq_spsc_try_push(q, item)) == RINGQ_OK;
}
static int ringq_try_pop(void *q, void **item, int mpmc) {
    return (mpmc ? ringq_bounded_try_pop(q, item) : ringq_spsc_try_pop(q, item)) == RINGQ_OK;
}

/* The hand-written mutex + condvar bounded queue. */
typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t not_full, not_empty;
    size_t head, len;
    void *slots[CAPACITY];
} mutex_queue;

static void *mutex_create(int mpmc) {
    (void)mpmc;
    mutex_queue *q = calloc(1, sizeof *q);
    if (!q) return NULL;
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->not_full, NULL);
    pthread_cond_init(&q->not_empty, NULL);
    return q;
}
static void mutex_destroy(void *p, int mpmc) {
    (void)mpmc;
    mutex_queue *q = p;
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->not_full);
    pthread_cond_destroy(&q->not_empty);
    free(q);
}
static void mutex_push(void *p, void *item) {
    mutex_queue *q = p;
    pthread_mutex_lock(&q->lock);
    while (q->len == CAPACITY) pthread_cond_wait(&q->not_full, &q->lock);
    q->slots[(q->head + q->len++) % CAPACITY] = item;
    pthread_cond_signal(&q->not_empty);
    pthread_mutex_unlock(&q->lock);
}
static void *mutex_pop(void *p) {
    mutex_queue *q = p;
    pthread_mutex_lock(&q->lock);
    while (q->len == 0) pthread_cond_wait(&q->not_empty, &q->lock);
    void *item = q->slots[q->head];
    q->head = (q->head + 1) % CAPACITY;
    q->len--;
    pthread_cond_signal(&q->not_full);
    pthread_mutex_unlock(&q->lock);
    return item;
}

#ifdef HAVE_CK
/* ck_ring: a power-of-two ring holding CAPACITY - 1 items. */
typedef struct {
    ck_ring_t ring;
    ck_ring_buffer_t *buffer;
} ck_queue;

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
static int ck_try_push(void *p, void *item, int mpmc) {
    ck_queue *q = p;
    return mpmc ? ck_ring_enqueue_mpmc(&q->ring, q->buffer, item)
                : ck_ring_enqueue_spsc(&q->ring, q->buffer, item);
}
static int ck_try_pop(void *p, void **item, int mpmc) {
    ck_queue *q = p;
    return mpmc ? ck_ring_dequeue_mpmc(&q->ring, q->buffer, item)
                : ck_ring_dequeue_spsc(&q->ring, q->buffer, item);
}
#endif

enum { IMPL_RINGQ, IMPL_RUST, IMPL_MUTEX, IMPL_CK, N_IMPLS };

static const queue_impl IMPLS[N_IMPLS] = {
    [IMPL_RINGQ] = {"ringq (C API)", ringq_create, ringq_destroy, ringq_try_push, ringq_try_pop, 0, NULL, NULL},
    [IMPL_RUST] = {"ringq (Rust core)", NULL, NULL, NULL, NULL, 0, NULL, NULL},
    [IMPL_MUTEX] = {"mutex+condvar", mutex_create, mutex_destroy, NULL, NULL, 1, mutex_push, mutex_pop},
#ifdef HAVE_CK
    [IMPL_CK] = {"ck_ring", ck_create, ck_destroy, ck_try_push, ck_try_pop, 0, NULL, NULL},
#else
    [IMPL_CK] = {"ck_ring", NULL, NULL, NULL, NULL, 0, NULL, NULL},
#endif
};

/* ---- one round ----------------------------------------------------------- */

typedef struct {
    const queue_impl *impl;
    void *q;
    int mpmc, id, stride;
    size_t count; /* items to pop (consumers) */
    uint64_t sum;
} worker;

static void *producer_main(void *p) {
    worker *w = p;
    for (size_t v = (size_t)w->id + 1; v <= items; v += (size_t)w->stride) {
        void *item = (void *)(uintptr_t)v;
        if (w->impl->blocking) {
            w->impl->push(w->q, item);
        } else {
            unsigned spins = 0;
            while (!w->impl->try_push(w->q, item, w->mpmc)) snooze(&spins);
        }
    }
    return NULL;
}

static void *consumer_main(void *p) {
    worker *w = p;
    uint64_t sum = 0;
    for (size_t i = 0; i < w->count; i++) {
        void *item;
        if (w->impl->blocking) {
            item = w->impl->pop(w->q);
        } else {
            unsigned spins = 0;
            while (!w->impl->try_pop(w->q, &item, w->mpmc)) snooze(&spins);
        }
        sum += (uintptr_t)item;
    }
    w->sum = sum;
    return NULL;
}

/* Runs one round in C; returns ns per item, or a negative value on error. */
static double run_c(const queue_impl *impl, const scenario *s) {
    int mpmc = s->producers > 1 || s->consumers > 1;
    void *q = impl->create(mpmc);
    if (!q) return -1;
    pthread_t threads[2 * MAX_THREADS];
    worker workers[2 * MAX_THREADS];
    int n = 0;
    double start = now_ns();
    for (int c = 0; c < s->consumers; c++, n++) {
        workers[n] = (worker){impl, q, mpmc, c, 0, items / (size_t)s->consumers, 0};
        if (pthread_create(&threads[n], NULL, consumer_main, &workers[n]) != 0) return -1;
    }
    for (int p = 0; p < s->producers; p++, n++) {
        workers[n] = (worker){impl, q, mpmc, p, s->producers, 0, 0};
        if (pthread_create(&threads[n], NULL, producer_main, &workers[n]) != 0) return -1;
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

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0); /* keep progress and table in order when piped */
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--rust-core") && i + 1 < argc) rust_core = argv[++i];
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--items") && i + 1 < argc) items = strtoul(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "usage: %s [--rust-core PATH] [--rounds N] [--items N]\n", argv[0]);
            return 2;
        }
    }
    if (rounds < 1 || items < 4 || items % 2) {
        fprintf(stderr, "bench: need rounds >= 1 and an even item count >= 4\n");
        return 2;
    }
    int enabled[N_IMPLS] = {1, rust_core != NULL, 1, IMPLS[IMPL_CK].create != NULL};
    if (!enabled[IMPL_CK]) printf("bench: ck_ring skipped: built without Concurrency Kit (libck-dev)\n");
    if (!enabled[IMPL_RUST]) printf("bench: Rust core skipped: no --rust-core binary given\n");
    printf("bench: ringq %s, %zu items per run, queue capacity %d, %d rounds, %ld CPUs online\n",
           ringq_version(), items, CAPACITY, rounds, sysconf(_SC_NPROCESSORS_ONLN));

    double load = 0;
    FILE *loadavg = fopen("/proc/loadavg", "r");
    if (loadavg) {
        if (fscanf(loadavg, "%lf", &load) != 1) load = 0;
        fclose(loadavg);
    }
    if (load > 0.5)
        printf("bench: warning: load average %.1f before starting; other work competes for the "
               "CPUs and makes these numbers noisy (compare min and max)\n", load);

    static double results[N_SCENARIOS][N_IMPLS][64];
    if (rounds > 64) rounds = 64;
    for (int r = 0; r < rounds; r++) {
        for (int k = 0; k < N_SCENARIOS * N_IMPLS; k++) {
            int slot = (k + r) % (N_SCENARIOS * N_IMPLS); /* rotate the order */
            int s = slot / N_IMPLS, i = slot % N_IMPLS;
            if (!enabled[i]) continue;
            double ns = i == IMPL_RUST ? run_rust(&SCENARIOS[s]) : run_c(&IMPLS[i], &SCENARIOS[s]);
            if (ns < 0) {
                fprintf(stderr, "bench: %s failed in %s\n", IMPLS[i].name, SCENARIOS[s].name);
                return 1;
            }
            results[s][i][r] = ns;
        }
        fprintf(stderr, "bench: round %d/%d done\n", r + 1, rounds);
    }

    printf("\n%-11s %-18s %10s %10s %10s   %s\n", "scenario", "queue", "median", "min", "max",
           "(ns/item; ratio = peer median / ringq (C API) median)");
    for (int s = 0; s < N_SCENARIOS; s++) {
        double med[N_IMPLS] = {0};
        for (int i = 0; i < N_IMPLS; i++) {
            if (!enabled[i]) continue;
            double sorted[64];
            memcpy(sorted, results[s][i], sizeof(double) * (size_t)rounds);
            qsort(sorted, (size_t)rounds, sizeof(double), cmp_double);
            med[i] = rounds % 2 ? sorted[rounds / 2] : (sorted[rounds / 2 - 1] + sorted[rounds / 2]) / 2;
            char ratio[64] = "";
            if (i != IMPL_RINGQ) snprintf(ratio, sizeof ratio, "%.2fx", med[i] / med[IMPL_RINGQ]);
            printf("%-11s %-18s %10.1f %10.1f %10.1f   %s\n", SCENARIOS[s].name, IMPLS[i].name,
                   med[i], sorted[0], sorted[rounds - 1], ratio);
        }
        double best = med[IMPL_MUTEX];
        const char *best_name = IMPLS[IMPL_MUTEX].name;
        if (enabled[IMPL_CK] && med[IMPL_CK] < best) {
            best = med[IMPL_CK];
            best_name = IMPLS[IMPL_CK].name;
        }
        printf("%-11s ringq (C API) vs best peer (%s): %.2fx", SCENARIOS[s].name, best_name,
               best / med[IMPL_RINGQ]);
        printf("; vs mutex: %.1fx", med[IMPL_MUTEX] / med[IMPL_RINGQ]);
        if (enabled[IMPL_RUST])
            printf("; C API cost vs Rust core: %+.1f%%", (med[IMPL_RINGQ] / med[IMPL_RUST] - 1) * 100);
        printf("\n\n");
    }
    return 0;
}
