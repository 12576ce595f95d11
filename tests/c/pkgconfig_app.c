/* The smallest ringq program, built with `cc app.c $(pkg-config --cflags
 * --libs ringq)` against an installed copy of the library. */
#include <ringq.h>
#include <stdio.h>
#include <string.h>

int main(void) {
    ringq_bounded *q = NULL;
    int value = 42;
    void *out = NULL;
    if (ringq_bounded_new(4, &q) != RINGQ_OK) return 1;
    if (ringq_bounded_push(q, &value) != RINGQ_OK) return 1;
    if (ringq_bounded_pop(q, &out) != RINGQ_OK || out != &value) return 1;
    ringq_bounded_free(q);
    if (strcmp(ringq_version(), RINGQ_VERSION) != 0) return 1;
    printf("pkg-config app: linked ringq %s\n", ringq_version());
    return 0;
}
