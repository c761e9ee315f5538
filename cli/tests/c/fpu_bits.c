/* FPU arithmetic without printf("%f"): results are printed as raw IEEE bit patterns, so a failure points
 * at the arithmetic itself rather than at glibc's float formatting. Covers add/sub/mul/div/sqrt/abs/neg,
 * madd.d/msub.d, int<->float conversions (incl. libgcc's 64-bit ones), single<->double. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static uint64_t bits64(double d) {
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}
static uint32_t bits32(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* gcc does not contract a * b + c into madd.d here, so the COP1X multiply-adds come from inline asm. */
__attribute__((noinline)) double fused(double a, double b, double c) {
    double r;
    __asm__("madd.d %0, %3, %1, %2" : "=f"(r) : "f"(a), "f"(b), "f"(c));
    return r;
}
__attribute__((noinline)) double fused_sub(double a, double b, double c) {
    double r;
    __asm__("msub.d %0, %3, %1, %2" : "=f"(r) : "f"(a), "f"(b), "f"(c));
    return r;
}
__attribute__((noinline)) float fused_single(float a, float b, float c) { return a * b + c; }
/* Inline asm: a libm sqrt call would need -lm and errno handling. */
__attribute__((noinline)) double root(double x) {
    double r;
    __asm__("sqrt.d %0, %1" : "=f"(r) : "f"(x));
    return r;
}
__attribute__((noinline)) int to_int(double x) { return (int)x; }
__attribute__((noinline)) double from_int(int x) { return (double)x; }
__attribute__((noinline)) double from_uint(unsigned x) { return (double)x; }
__attribute__((noinline)) long long to_ll(double x) { return (long long)x; }
__attribute__((noinline)) float narrow(double x) { return (float)x; }

int main(void) {
    static const double vals[] = {0.0, 1.0, -2.5, 3.141592653589793, 1e300, -1e-300, 65536.125, 0.1};
    const int n = sizeof vals / sizeof vals[0];
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j += 3) {
            double a = vals[i], b = vals[j];
            printf("%d,%d add %016llx sub %016llx mul %016llx div %016llx fma %016llx fms %016llx\n", i, j,
                   (unsigned long long)bits64(a + b), (unsigned long long)bits64(a - b),
                   (unsigned long long)bits64(a * b), (unsigned long long)bits64(b != 0.0 ? a / b : a),
                   (unsigned long long)bits64(fused(a, b, 0.5)), (unsigned long long)bits64(fused_sub(a, b, 0.5)));
        }
    for (int i = 0; i < n; i++) {
        double a = vals[i];
        printf("%d sqrt %016llx abs %016llx neg %016llx int %d ll %lld narrow %08x\n", i,
               (unsigned long long)bits64(root(__builtin_fabs(a))), (unsigned long long)bits64(__builtin_fabs(a)),
               (unsigned long long)bits64(-a), __builtin_fabs(a) < 2e9 ? to_int(a) : -1, __builtin_fabs(a) < 9e18 ? to_ll(a) : -1,
               bits32(narrow(a)));
    }
    static const int ints[] = {0, 1, -1, 123456789, -2147483647 - 1, 2147483647};
    for (int i = 0; i < 6; i++)
        printf("int %d -> %016llx uint -> %016llx\n", ints[i], (unsigned long long)bits64(from_int(ints[i])),
               (unsigned long long)bits64(from_uint((unsigned)ints[i])));
    /* Invalid operations give the legacy-MIPS default NaN (0x7ff7ffffffffffff / 0x7fbfffff, the x86 quiet
     * NaN is 0x7ff8000000000000); NaN compares unordered; an out-of-range cvt.w.d gives 0x7fffffff. */
    volatile double zero = 0.0, minus_one = -1.0, big = 1e10;
    double inf = 1.0 / zero, nan = zero / zero;
    volatile float fzero = 0.0f;
    printf("nan %016llx inf-inf %016llx 0*inf %016llx sqrt(-1) %016llx float nan %08x\n",
           (unsigned long long)bits64(nan), (unsigned long long)bits64(inf - inf),
           (unsigned long long)bits64(zero * inf), (unsigned long long)bits64(root(minus_one)),
           bits32(fzero / fzero));
    printf("nan compares: == %d < %d > %d != %d; inf %016llx -inf %016llx\n", nan == nan, nan < 1.0, nan > 1.0,
           nan != nan, (unsigned long long)bits64(inf), (unsigned long long)bits64(-inf));
    int overflowed;
    float scratch;
    __asm__ volatile("cvt.w.d %1, %2\n mfc1 %0, %1" : "=r"(overflowed), "=f"(scratch) : "f"((double)big));
    printf("cvt.w.d(1e10) %08x\n", (unsigned)overflowed);
    float f = 0.75f;
    for (int i = 0; i < 8; i++) f = fused_single(f, 1.5f, -0.25f);
    printf("single chain %08x\n", bits32(f));
    return 0;
}
