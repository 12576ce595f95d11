/* A C producer for a queue that another process, in any language, consumes.
 *
 * It opens the shared-memory queue created under NAME (by
 * examples/python/c_producer.py, say, with ringq.ProcessQueue(name=...)),
 * pushes COUNT messages "job 0", "job 1", ... as raw bytes, and closes the
 * queue for everyone: the consumer then drains what is left and sees the
 * close (ringq.ShutDown in Python, RINGQ_ERR_CLOSED in C). Raw bytes pair
 * with Python's get_bytes; pickled objects are Python's own business.
 *
 * Build: cc shm_producer.c $(pkg-config --cflags --libs ringq)
 * Usage: shm_producer NAME COUNT */
#include <ringq.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static void die(const char *what, ringq_result r) {
    fprintf(stderr, "shm_producer: %s: %s\n", what, ringq_strerror(r));
    exit(1);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s NAME COUNT\n", argv[0]);
        return 2;
    }
    char *end;
    errno = 0;
    unsigned long count = strtoul(argv[2], &end, 10);
    /* strtoul would take "-1" as the largest count. */
    if (errno != 0 || *end != '\0' || end == argv[2] || argv[2][0] == '-') {
        fprintf(stderr, "shm_producer: COUNT must be a whole number of 0 or more, not \"%s\"\n", argv[2]);
        return 2;
    }

    ringq_shm *queue;
    ringq_result r = ringq_shm_open(argv[1], &queue);
    if (r != RINGQ_OK) die("open", r);

    char message[32];
    for (unsigned long i = 0; i < count; i++) {
        int len = snprintf(message, sizeof message, "job %lu", i);
        /* Blocks while the queue is full: the consumer sets the pace. */
        r = ringq_shm_push(queue, message, (size_t)len);
        if (r != RINGQ_OK) die("push", r);
    }

    r = ringq_shm_close(queue);
    if (r != RINGQ_OK) die("close", r);
    ringq_shm_free(queue);
    printf("shm_producer: pushed %lu messages\n", count);
    return 0;
}
