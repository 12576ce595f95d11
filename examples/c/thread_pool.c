/* A thread pool on two ringq queues.
 *
 * The main thread puts tasks on a bounded MPMC queue; a pool of workers takes
 * them, computes, and puts each finished task on an unbounded MPMC queue of
 * results; the main thread collects and checks every result. Closing the task
 * queue is the shutdown signal: workers finish what is queued, see
 * RINGQ_ERR_CLOSED and exit.
 *
 * Build: cc -pthread thread_pool.c $(pkg-config --cflags --libs ringq) */
#include <ringq.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define WORKERS 4
#define TASKS 2000

typedef struct {
    uint64_t input;
    uint64_t output; /* written by the worker */
    int done_by;     /* which worker ran it */
} task;

typedef struct {
    int id;
    ringq_bounded *tasks;
    ringq_unbounded *results;
} worker_arg;

/* Sum of the first n odd numbers: n * n, the slow way. */
static uint64_t work(uint64_t n) {
    uint64_t sum = 0;
    for (uint64_t i = 0; i < n; i++) sum += 2 * i + 1;
    return sum;
}

static void die(const char *what, ringq_result r) {
    fprintf(stderr, "thread_pool: %s: %s\n", what, ringq_strerror(r));
    exit(1);
}

static void *worker(void *p) {
    worker_arg *a = p;
    for (;;) {
        void *item;
        ringq_result r = ringq_bounded_pop(a->tasks, &item);
        if (r == RINGQ_ERR_CLOSED) return NULL; /* closed and drained: shut down */
        if (r != RINGQ_OK) die("pop task", r);
        task *t = item;
        t->output = work(t->input);
        t->done_by = a->id;
        /* The unbounded queue never fills, so this push never waits. */
        r = ringq_unbounded_push(a->results, t);
        if (r != RINGQ_OK) die("push result", r);
    }
}

int main(void) {
    ringq_bounded *tasks = NULL;
    ringq_unbounded *results = NULL;
    ringq_result r;
    if ((r = ringq_bounded_new(64, &tasks)) != RINGQ_OK) die("new task queue", r);
    if ((r = ringq_unbounded_new(&results)) != RINGQ_OK) die("new result queue", r);

    pthread_t threads[WORKERS];
    worker_arg args[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        args[i] = (worker_arg){i, tasks, results};
        if (pthread_create(&threads[i], NULL, worker, &args[i]) != 0) {
            fprintf(stderr, "thread_pool: pthread_create failed\n");
            return 1;
        }
    }

    /* The tasks live in one array owned by main; the queues carry pointers. */
    task *all = calloc(TASKS, sizeof *all);
    if (!all) return 1;
    for (int i = 0; i < TASKS; i++) {
        all[i].input = (uint64_t)i;
        all[i].done_by = -1;
        /* Blocks while 64 tasks are waiting: back-pressure on the submitter. */
        if ((r = ringq_bounded_push(tasks, &all[i])) != RINGQ_OK) die("push task", r);
    }
    /* No more tasks: workers drain the queue, then their pops report CLOSED. */
    if ((r = ringq_bounded_close(tasks)) != RINGQ_OK) die("close", r);

    int per_worker[WORKERS] = {0};
    unsigned char *seen = calloc(TASKS, 1);
    if (!seen) return 1;
    for (int i = 0; i < TASKS; i++) {
        void *item;
        if ((r = ringq_unbounded_pop(results, &item)) != RINGQ_OK) die("pop result", r);
        task *t = item;
        ptrdiff_t index = t - all;
        if (index < 0 || index >= TASKS || seen[index]++) {
            fprintf(stderr, "thread_pool: unexpected result %p\n", item);
            return 1;
        }
        if (t->output != t->input * t->input || t->done_by < 0 || t->done_by >= WORKERS) {
            fprintf(stderr, "thread_pool: wrong result for task %d\n", (int)index);
            return 1;
        }
        per_worker[t->done_by]++;
    }
    for (int i = 0; i < WORKERS; i++) pthread_join(threads[i], NULL);

    size_t left = 1;
    if ((r = ringq_unbounded_len(results, &left)) != RINGQ_OK || left != 0) {
        fprintf(stderr, "thread_pool: results left over\n");
        return 1;
    }
    ringq_bounded_free(tasks);
    ringq_unbounded_free(results);
    free(seen);
    free(all);

    printf("thread_pool: %d tasks checked; per worker:", TASKS);
    for (int i = 0; i < WORKERS; i++) printf(" %d", per_worker[i]);
    printf("\n");
    return 0;
}
