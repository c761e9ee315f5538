/* exit() from a nested call runs atexit handlers in reverse order and flushes stdio. */
#include <stdio.h>
#include <stdlib.h>

static void first(void) { printf("atexit first (runs last)\n"); }
static void second(void) { printf("atexit second (runs first)\n"); }

__attribute__((noinline)) static void leave(int code) {
    printf("leaving with %d\n", code);
    exit(code);
}

int main(void) {
    atexit(first);
    atexit(second);
    leave(42);
    printf("unreachable\n");
    return 0;
}
