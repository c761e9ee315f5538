/* main's return value becomes the exit code (via exit -> exit_group), after flushing buffered stdout. */
#include <stdio.h>

int main(void) {
    printf("about to return 3");
    return 3;
}
