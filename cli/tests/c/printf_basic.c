/* printf formatting of integers, strings, hex and padding: exercises glibc's vfprintf (integer conversion,
 * width/precision handling, locale-free paths) without touching the FPU. */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

int main(void) {
    static const int ints[] = {0, 1, -1, 7, -42, 1000, 65535, -65536, INT_MAX, INT_MIN, 123456789};
    for (unsigned i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        int v = ints[i];
        printf("[%d] [%5d] [%-7d] [%+d] [%05d] [%x] [%X] [%#x] [%o] [%u] [%.3d]\n", v, v, v, v, v,
               (unsigned)v, (unsigned)v, (unsigned)v, (unsigned)v, (unsigned)v, v);
    }
    static const long long wide[] = {0, -1, 1LL << 40, -(1LL << 50) - 3, LLONG_MAX, LLONG_MIN};
    for (unsigned i = 0; i < sizeof wide / sizeof wide[0]; i++) {
        long long v = wide[i];
        printf("ll [%lld] [%20lld] [%llx] [%llu] [%-22lld|]\n", v, v, (unsigned long long)v,
               (unsigned long long)v, v);
    }
    printf("short [%hd] [%hu] char [%hhd] [%hhu]\n", (short)-12345, (unsigned short)54321, (signed char)-7,
           (unsigned char)250);
    printf("size [%zu] ptrdiff [%td] intmax [%jd]\n", sizeof(long long), (ptrdiff_t)-5, (intmax_t)-9876543210LL);

    const char *words[] = {"", "a", "hello", "zkmips differential"};
    for (unsigned i = 0; i < 4; i++)
        printf("s [%s] [%10s] [%-10s] [%.3s] [%*s] [%-*.*s]\n", words[i], words[i], words[i], words[i], 8,
               words[i], 12, 2, words[i]);
    printf("c [%c%c%c] pct [%%] ptr-null [%p]\n", 'z', 'k', '!', (void *)0);

    char buf[64];
    int n = snprintf(buf, sizeof buf, "%s-%d-%04x", "snp", -3, 0xbeef);
    printf("snprintf -> %d [%s]\n", n, buf);
    const char *volatile long_text = "truncated output here";
    n = snprintf(buf, 8, "%s", long_text);
    printf("truncated -> %d [%s] len %zu\n", n, buf, strlen(buf));

    int consumed = 0;
    printf("count:%n", &consumed);
    printf(" %d\n", consumed);

    unsigned long long sum = 0;
    for (int i = 0; i < 200; i++) {
        n = snprintf(buf, sizeof buf, "%08x:%d:%s", (unsigned)(i * 2654435761u), i - 100, i & 1 ? "odd" : "even");
        for (int j = 0; j < n; j++) sum = sum * 131 + (unsigned char)buf[j];
    }
    printf("checksum %016llx\n", sum);
    fprintf(stderr, "stderr line %d\n", 7);
    return 0;
}
