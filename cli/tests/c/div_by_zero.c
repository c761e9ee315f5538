/* Integer division by zero: gcc guards div with `teq divisor, $zero, 7`, which traps (SIGFPE on Linux).
 * The divisor comes from argc so the compiler cannot fold it. */
#include <stdio.h>

int main(int argc, char **argv) {
    (void)argv;
    volatile int divisor = argc - 1;
    printf("dividing by %d\n", divisor);
    fflush(stdout);
    int q = 100 / divisor;
    printf("quotient %d\n", q);
    return 0;
}
