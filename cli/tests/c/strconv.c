/* Number parsing and errno: strtol/strtoul/strtoll in several bases, overflow to ERANGE, end pointers,
 * atoi, and sscanf with mixed conversions. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int main(void) {
    static const char *inputs[] = {"0", "42", "-17", "  +99xyz", "0x1fZ", "0777", "2147483647", "2147483648",
                                   "-2147483649", "99999999999999999999", "", "abc", "1e5", "-0"};
    static const int bases[] = {10, 0, 16, 8, 36};
    for (unsigned i = 0; i < sizeof inputs / sizeof inputs[0]; i++)
        for (unsigned b = 0; b < sizeof bases / sizeof bases[0]; b++) {
            char *end;
            errno = 0;
            long v = strtol(inputs[i], &end, bases[b]);
            int e1 = errno;
            errno = 0;
            unsigned long u = strtoul(inputs[i], NULL, bases[b]);
            int e2 = errno;
            errno = 0;
            long long ll = strtoll(inputs[i], NULL, bases[b]);
            int e3 = errno;
            printf("[%s] base %d: l %ld (errno %d, used %td) ul %lu (errno %d) ll %lld (errno %d)\n", inputs[i],
                   bases[b], v, e1, end - inputs[i], u, e2, ll, e3);
        }
    printf("atoi %d %d %d\n", atoi("123abc"), atoi("-0042"), atoi("x"));
    int a, c;
    unsigned x;
    char word[16];
    int got = sscanf("17 0x2A hello 99", "%d %x %15s %d", &a, &x, word, &c);
    printf("sscanf %d: %d %u %s %d\n", got, a, x, word, c);
    return 0;
}
