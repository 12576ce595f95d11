#define _GNU_SOURCE /* clock_gettime, getrusage */
/* One producer or consumer process of the shared-memory queue benchmark,
 * on ringq's C API. benches/benches/shm.rs starts these (and its own Rust
 * workers, which follow the same protocol) and reports the results.
 *
 * Usage: shm_worker NAME ROLE ID COUNT SIZE BATCH
 *   ROLE producer: pushes COUNT messages of SIZE bytes (BATCH at a time
 *        when BATCH > 1), each naming producer ID and its sequence number;
 *        then reports one task done, and the last producer to do so closes
 *        the queue.
 *   ROLE consumer: pops (BATCH at a time when BATCH > 1) until the queue is
 *        closed and drained, checking each message's order per producer.
 *   ROLE idle: pops one message, however long it takes (to measure what a
 *        blocked consumer costs while it waits).
 *
 * Protocol: the worker opens the queue, prints "ready", waits for its stdin
 * to close (the start signal, so process start-up is not timed), runs,
 * then prints
 *   done START_NS END_NS CPU_NS COUNT CHECKSUM ORDER_OK
 * with CLOCK_MONOTONIC times, its own user + system CPU time over the run,
 * the messages it moved, the sum of their (producer << 32 | seq) values and
 * whether every producer's messages came in order. */
#include <ringq.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

enum { MAX_PRODUCERS = 64 };

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t cpu_ns(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000u +
           ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000u;
}

static void fail(const char *what, ringq_result r) {
    fprintf(stderr, "shm_worker: %s: %s\n", what, ringq_strerror(r));
    exit(1);
}

static void fill(unsigned char *m, uint32_t producer, uint32_t seq, size_t size) {
    memcpy(m, &producer, 4);
    memcpy(m + 4, &seq, 4);
    memset(m + 8, (int)(seq & 0xff), size - 8);
}

int main(int argc, char **argv) {
    if (argc != 7) {
        fprintf(stderr, "usage: shm_worker NAME ROLE ID COUNT SIZE BATCH\n");
        return 2;
    }
    const char *name = argv[1], *role = argv[2];
    uint32_t id = (uint32_t)strtoul(argv[3], NULL, 10);
    uint64_t count = strtoull(argv[4], NULL, 10);
    size_t size = strtoull(argv[5], NULL, 10);
    size_t batch = strtoull(argv[6], NULL, 10);
    if (size < 8 || batch == 0) return 2;

    ringq_shm *q = NULL;
    ringq_result r = ringq_shm_open(name, &q);
    if (r != RINGQ_OK) fail("open", r);
    unsigned char *buf = malloc(size * batch);
    const void **datas = malloc(sizeof(void *) * batch);
    size_t *lens = malloc(sizeof(size_t) * batch);
    if (buf == NULL || datas == NULL || lens == NULL) return 1;
    printf("ready\n");
    fflush(stdout);
    while (getchar() != EOF) {
    }

    uint64_t moved = 0, checksum = 0, start = now_ns(), cpu = cpu_ns();
    int order_ok = 1;
    if (strcmp(role, "producer") == 0) {
        for (uint64_t s = 0; s < count;) {
            size_t n = count - s < batch ? (size_t)(count - s) : batch;
            for (size_t i = 0; i < n; i++) {
                fill(buf + i * size, id, (uint32_t)(s + i), size);
                datas[i] = buf + i * size;
                lens[i] = size;
                checksum += ((uint64_t)id << 32) | (s + i);
            }
            if (batch == 1) {
                r = ringq_shm_push(q, buf, size);
                if (r != RINGQ_OK) fail("push", r);
            } else {
                for (size_t done = 0; done < n;) {
                    size_t pushed = 0;
                    r = ringq_shm_push_many(q, datas + done, lens + done, n - done, &pushed);
                    if (r != RINGQ_OK) fail("push_many", r);
                    done += pushed;
                }
            }
            s += n;
            moved += n;
        }
        r = ringq_shm_task_done(q);
        if (r != RINGQ_OK) fail("task_done", r);
        uint64_t left = 1;
        ringq_shm_unfinished_tasks(q, &left);
        if (left == 0) ringq_shm_close(q);
    } else if (strcmp(role, "consumer") == 0) {
        int64_t last[MAX_PRODUCERS];
        for (int i = 0; i < MAX_PRODUCERS; i++) last[i] = -1;
        for (;;) {
            size_t n = 0;
            if (batch == 1) {
                r = ringq_shm_pop(q, buf, size, &lens[0]);
                n = r == RINGQ_OK;
            } else {
                r = ringq_shm_pop_many(q, buf, size * batch, lens, batch, &n);
            }
            if (r == RINGQ_ERR_CLOSED) break;
            if (r != RINGQ_OK) fail("pop", r);
            size_t at = 0;
            for (size_t i = 0; i < n; i++) {
                uint32_t producer, seq;
                memcpy(&producer, buf + at, 4);
                memcpy(&seq, buf + at + 4, 4);
                at += lens[i];
                if (producer >= MAX_PRODUCERS || (int64_t)seq <= last[producer]) order_ok = 0;
                else last[producer] = seq;
                checksum += ((uint64_t)producer << 32) | seq;
            }
            moved += n;
        }
    } else if (strcmp(role, "idle") == 0) {
        r = ringq_shm_pop(q, buf, size, &lens[0]);
        if (r != RINGQ_OK) fail("pop", r);
        moved = 1;
    } else {
        return 2;
    }
    uint64_t end = now_ns();
    cpu = cpu_ns() - cpu;
    printf("done %llu %llu %llu %llu %llu %d\n", (unsigned long long)start,
           (unsigned long long)end, (unsigned long long)cpu, (unsigned long long)moved,
           (unsigned long long)checksum, order_ok);
    fflush(stdout);
    ringq_shm_free(q);
    free(buf);
    free(datas);
    free(lens);
    return 0;
}
