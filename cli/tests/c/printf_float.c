/* Floating-point formatting and arithmetic: glibc's printf_fp, strtod and libm paths use the FPU (ldc1/sdc1,
 * mtc1/mfc1, add.d/mul.d/div.d, c.cond.d, cvt.*). Kept apart so FPU gaps show up in one named test. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile double sink;

/* argv[1] = number of round-trip samples (default 400; the lockstep test uses fewer). */
int main(int argc, char **argv) {
    int samples = argc > 1 ? atoi(argv[1]) : 400;
    static const double vals[] = {0.0, -0.0, 1.0, -1.5, 3.141592653589793, 2.718281828459045, 1e-10, 6.02214076e23,
                                  1.0 / 3.0, 123456.789, -0.000123};
    for (unsigned i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        double v = vals[i];
        printf("[%f] [%.2f] [%10.4f] [%-12.3e] [%g] [%G] [%a]\n", v, v, v, v, v, v, v);
    }
    float f = 1.25f;
    for (int i = 0; i < 6; i++) {
        f = f * 3.5f - 0.75f;
        printf("float step %d: %.6f\n", i, (double)f);
    }
    double acc = 0.0;
    for (int i = 1; i <= 1000; i++) acc += 1.0 / ((double)i * (double)i);
    printf("basel partial %.12f\n", acc);

    double x = 2.0, root = 1.0;
    for (int i = 0; i < 30; i++) root = 0.5 * (root + x / root);
    printf("sqrt2 newton %.15f\n", root);

    printf("compare %d %d %d\n", acc < root, acc > root, acc == acc);
    int truncated = (int)(-7.9);
    unsigned big = (unsigned)3.9e9;
    printf("conversions %d %u %d\n", truncated, big, (int)(float)12345678);

    char *end;
    double parsed = strtod("  -12.5e3xyz", &end);
    printf("strtod %f rest [%s]\n", parsed, end);
    printf("atof %.3f\n", atof("0.125"));
    /* Round trips through glibc's multi-precision conversion code: random bit patterns (finite ones) to
     * "%.17g" and back must give the same bits. */
    uint64_t state = 0x9e3779b97f4a7c15ULL, text_hash = 1469598103934665603ULL;
    int mismatches = 0, tried = 0;
    for (int i = 0; i < samples; i++) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        double d;
        memcpy(&d, &state, sizeof d);
        if (d != d || d - d != 0.0) continue; /* NaN or infinity */
        char text[40];
        snprintf(text, sizeof text, "%.17g", d);
        for (char *c = text; *c; c++) text_hash = (text_hash ^ (unsigned char)*c) * 1099511628211ULL;
        double back = strtod(text, NULL);
        mismatches += memcmp(&back, &d, sizeof d) != 0;
        tried++;
        if (i % 40 == 0) printf("%s\n", text);
    }
    printf("round trips %d, mismatches %d, text hash %016llx\n", tried, mismatches, (unsigned long long)text_hash);
    sink = acc;
    return 0;
}
