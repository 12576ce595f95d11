/* Multi-threaded stress test: every item pushed is popped exactly once, and
 * each producer's items come out in the order it pushed them.
 *
 * Producers mix single, timed and bulk pushes; consumers mix single, timed
 * and bulk pops. Producers finish, the main thread closes the queue, and the
 * consumers drain it until they see RINGQ_ERR_CLOSED. The queues are small so
 * that full and empty are hit all the time.
 *
 * Every call also leaves errno as it found it, including the timed calls
 * that park and time out.
 *
 * Sizes stay small because valgrind runs one thread at a time; pass a number
 * of items per producer as the first argument for a longer run. */
#include <ringq.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAIL(...)                                                   \
    do {                                                            \
        fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);             \
        fprintf(stderr, __VA_ARGS__);                               \
        fputc('\n', stderr);                                        \
        exit(1);                                                    \
    } while (0)

#define MAX_THREADS 4
#define BATCH 8
#define TIMEOUT_NS 1000000 /* 1 ms, only to exercise the timed calls */

static size_t items_per_producer = 5000;

/* Item n of producer p, as a pointer-sized value (never dereferenced). */
static void *encode(size_t p, size_t n) { return (void *)(uintptr_t)((p << 24) | n); }
static size_t producer_of(void *item) { return (uintptr_t)item >> 24; }
static size_t seq_of(void *item) { return (uintptr_t)item & 0xffffff; }

typedef enum { SPSC, BOUNDED, UNBOUNDED } queue_kind;

typedef struct {
    queue_kind kind;
    void *q;
} queue;

/* A value no system call sets errno to: every ringq call must leave it. */
#define ERRNO_SENTINEL 12345

static void check_errno(const char *what) {
    if (errno != ERRNO_SENTINEL) FAIL("%s changed errno to %d (%s)", what, errno, strerror(errno));
}

static ringq_result q_push(queue *q, void *item, unsigned mode) {
    ringq_result r;
    errno = ERRNO_SENTINEL;
    switch (q->kind) {
    case SPSC:
        r = mode == 0 ? ringq_spsc_push(q->q, item) : ringq_spsc_push_timeout(q->q, item, TIMEOUT_NS);
        break;
    case BOUNDED:
        r = mode == 0 ? ringq_bounded_push(q->q, item) : ringq_bounded_push_timeout(q->q, item, TIMEOUT_NS);
        break;
    default:
        r = mode == 0 ? ringq_unbounded_push(q->q, item) : ringq_unbounded_push_timeout(q->q, item, TIMEOUT_NS);
        break;
    }
    check_errno("push");
    return r;
}

static ringq_result q_try_push_many(queue *q, void *const *items, size_t n, size_t *pushed) {
    ringq_result r;
    errno = ERRNO_SENTINEL;
    switch (q->kind) {
    case SPSC: r = ringq_spsc_try_push_many(q->q, items, n, pushed); break;
    case BOUNDED: r = ringq_bounded_try_push_many(q->q, items, n, pushed); break;
    default: r = ringq_unbounded_try_push_many(q->q, items, n, pushed); break;
    }
    check_errno("try_push_many");
    return r;
}

static ringq_result q_pop(queue *q, void **out, unsigned mode) {
    ringq_result r;
    errno = ERRNO_SENTINEL;
    switch (q->kind) {
    case SPSC:
        r = mode == 0 ? ringq_spsc_pop(q->q, out) : ringq_spsc_pop_timeout(q->q, out, TIMEOUT_NS);
        break;
    case BOUNDED:
        r = mode == 0 ? ringq_bounded_pop(q->q, out) : ringq_bounded_pop_timeout(q->q, out, TIMEOUT_NS);
        break;
    default:
        r = mode == 0 ? ringq_unbounded_pop(q->q, out) : ringq_unbounded_pop_timeout(q->q, out, TIMEOUT_NS);
        break;
    }
    check_errno("pop");
    return r;
}

static ringq_result q_try_pop_many(queue *q, void **out, size_t max, size_t *popped) {
    ringq_result r;
    errno = ERRNO_SENTINEL;
    switch (q->kind) {
    case SPSC: r = ringq_spsc_try_pop_many(q->q, out, max, popped); break;
    case BOUNDED: r = ringq_bounded_try_pop_many(q->q, out, max, popped); break;
    default: r = ringq_unbounded_try_pop_many(q->q, out, max, popped); break;
    }
    check_errno("try_pop_many");
    return r;
}

typedef struct {
    queue *q;
    size_t id;
} producer_arg;

/* Pushes items 0..items_per_producer in order, cycling through blocking,
 * timed (retried on timeout) and bulk pushes (retried on full). */
static void *producer(void *arg) {
    producer_arg *a = arg;
    size_t n = 0;
    unsigned round = 0;
    while (n < items_per_producer) {
        unsigned mode = round++ % 3;
        if (mode < 2) {
            ringq_result r;
            while ((r = q_push(a->q, encode(a->id, n), mode)) == RINGQ_ERR_TIMED_OUT) {
            }
            if (r != RINGQ_OK) FAIL("push: %s", ringq_strerror(r));
            n++;
        } else {
            void *batch[BATCH];
            size_t count = items_per_producer - n < BATCH ? items_per_producer - n : BATCH;
            for (size_t i = 0; i < count; i++) batch[i] = encode(a->id, n + i);
            size_t done = 0;
            while (done < count) {
                size_t pushed = 0;
                ringq_result r = q_try_push_many(a->q, batch + done, count - done, &pushed);
                if (r != RINGQ_OK && r != RINGQ_ERR_FULL) FAIL("try_push_many: %s", ringq_strerror(r));
                done += pushed;
                if (r == RINGQ_ERR_FULL) sched_yield();
            }
            n += count;
        }
    }
    return NULL;
}

typedef struct {
    queue *q;
    size_t producers;
    /* How often this consumer saw each item, and the last sequence number
     * it saw from each producer (+1, so 0 means none yet). */
    unsigned char *seen;
    size_t last[MAX_THREADS];
} consumer_arg;

static void record(consumer_arg *a, void *item) {
    size_t p = producer_of(item), n = seq_of(item);
    if (p >= a->producers || n >= items_per_producer) FAIL("corrupt item %p", item);
    if (n + 1 <= a->last[p]) FAIL("producer %zu: item %zu after item %zu", p, n, a->last[p] - 1);
    a->last[p] = n + 1;
    if (a->seen[p * items_per_producer + n]++ != 0) FAIL("item %zu of producer %zu popped twice", n, p);
}

/* Pops until the queue is closed and drained, cycling through blocking, timed
 * and bulk pops. */
static void *consumer(void *arg) {
    consumer_arg *a = arg;
    unsigned round = 0;
    for (;;) {
        unsigned mode = round++ % 3;
        if (mode < 2) {
            void *item;
            ringq_result r = q_pop(a->q, &item, mode);
            if (r == RINGQ_ERR_CLOSED) return NULL;
            if (r == RINGQ_ERR_TIMED_OUT) continue;
            if (r != RINGQ_OK) FAIL("pop: %s", ringq_strerror(r));
            record(a, item);
        } else {
            void *batch[BATCH];
            size_t popped = 0;
            ringq_result r = q_try_pop_many(a->q, batch, BATCH, &popped);
            if (r == RINGQ_ERR_CLOSED) return NULL;
            if (r == RINGQ_ERR_EMPTY) {
                sched_yield();
                continue;
            }
            if (r != RINGQ_OK) FAIL("try_pop_many: %s", ringq_strerror(r));
            for (size_t i = 0; i < popped; i++) record(a, batch[i]);
        }
    }
}

static void run(const char *name, queue_kind kind, size_t producers, size_t consumers) {
    queue q = {kind, NULL};
    ringq_result r;
    switch (kind) {
    case SPSC: {
        ringq_spsc *h = NULL;
        r = ringq_spsc_new(16, &h);
        q.q = h;
        break;
    }
    case BOUNDED: {
        ringq_bounded *h = NULL;
        r = ringq_bounded_new(16, &h);
        q.q = h;
        break;
    }
    default: {
        ringq_unbounded *h = NULL;
        r = ringq_unbounded_new(&h);
        q.q = h;
        break;
    }
    }
    if (r != RINGQ_OK) FAIL("new: %s", ringq_strerror(r));

    pthread_t pt[MAX_THREADS], ct[MAX_THREADS];
    producer_arg pa[MAX_THREADS];
    consumer_arg ca[MAX_THREADS];
    size_t total = producers * items_per_producer;
    for (size_t i = 0; i < consumers; i++) {
        ca[i] = (consumer_arg){&q, producers, calloc(total, 1), {0}};
        if (!ca[i].seen) FAIL("out of memory");
        if (pthread_create(&ct[i], NULL, consumer, &ca[i]) != 0) FAIL("pthread_create");
    }
    for (size_t i = 0; i < producers; i++) {
        pa[i] = (producer_arg){&q, i};
        if (pthread_create(&pt[i], NULL, producer, &pa[i]) != 0) FAIL("pthread_create");
    }
    for (size_t i = 0; i < producers; i++) pthread_join(pt[i], NULL);
    /* Every producer has returned, so closing now loses nothing (for SPSC the
     * join hands the producer role to this thread, making the close exact). */
    switch (kind) {
    case SPSC: r = ringq_spsc_close(q.q); break;
    case BOUNDED: r = ringq_bounded_close(q.q); break;
    default: r = ringq_unbounded_close(q.q); break;
    }
    if (r != RINGQ_OK) FAIL("close: %s", ringq_strerror(r));
    for (size_t i = 0; i < consumers; i++) pthread_join(ct[i], NULL);

    /* Exactly once, across all consumers. */
    for (size_t j = 0; j < total; j++) {
        unsigned times = 0;
        for (size_t i = 0; i < consumers; i++) times += ca[i].seen[j];
        if (times != 1)
            FAIL("%s: item %zu of producer %zu popped %u times", name, j % items_per_producer,
                 j / items_per_producer, times);
    }
    for (size_t i = 0; i < consumers; i++) free(ca[i].seen);
    switch (kind) {
    case SPSC: ringq_spsc_free(q.q); break;
    case BOUNDED: ringq_bounded_free(q.q); break;
    default: ringq_unbounded_free(q.q); break;
    }
    printf("test_stress: %s, %zu producers x %zu items, %zu consumers: exactly once, in order\n",
           name, producers, items_per_producer, consumers);
}

int main(int argc, char **argv) {
    if (argc > 1) {
        items_per_producer = strtoul(argv[1], NULL, 10);
        if (items_per_producer == 0 || items_per_producer > 0xffffff) FAIL("bad item count");
    }
    run("spsc", SPSC, 1, 1);
    run("bounded", BOUNDED, 3, 3);
    run("unbounded", UNBOUNDED, 3, 3);
    printf("test_stress: passed\n");
    return 0;
}
