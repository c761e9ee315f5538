/* Large, fully buffered output (~300 KiB): many write(2) calls of glibc's buffer size, more than a pipe
 * holds, plus a few unbuffered stderr lines interleaved. */
#include <stdio.h>

int main(void) {
    unsigned h = 1;
    for (int i = 0; i < 12000; i++) {
        h = h * 1103515245u + 12345u;
        printf("%6d %08x %s\n", i, h, (h & 1) ? "odd-ish line with some padding text" : "even");
        if (i % 4000 == 0) fprintf(stderr, "progress %d\n", i);
    }
    fputs("done\n", stdout);
    return 0;
}
