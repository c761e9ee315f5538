/* Reads stdin three ways: raw read(2) first (before stdio buffers anything), then fgets line by line and
 * scanf for numbers, then getchar to EOF. Echoes a transformed version so both the data and the read
 * boundaries are checked. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void) {
    char raw[8];
    for (int i = 0; i < 2; i++) {
        ssize_t r = read(0, raw, sizeof raw);
        printf("raw read %d -> %zd [", i, r);
        for (ssize_t j = 0; j < r; j++) putchar(raw[j] == '\n' ? '|' : raw[j]);
        printf("]\n");
    }
    char line[128];
    for (int i = 0; i < 3 && fgets(line, sizeof line, stdin); i++) {
        size_t n = strlen(line);
        for (size_t j = 0; j < n; j++) line[j] = (char)toupper((unsigned char)line[j]);
        printf("line %d (%zu): %s", i, n, line);
    }
    int a = 0, b = 0;
    int got = scanf("%d %d", &a, &b);
    printf("scanf got %d: %d + %d = %d\n", got, a, b, a + b);
    int c;
    unsigned long rest = 0, sum = 0;
    while ((c = getchar()) != EOF) {
        rest++;
        sum = sum * 7 + (unsigned)c;
    }
    printf("rest: %lu bytes, sum %lu, eof %d, read at eof %zd\n", rest, sum, feof(stdin), read(0, raw, sizeof raw));
    return 0;
}
