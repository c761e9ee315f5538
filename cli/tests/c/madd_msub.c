/* 64-bit accumulation of 32x32 products: gcc emits madd/maddu/msub/msubu with mthi/mtlo/mfhi/mflo. */
#include <stdint.h>
#include <stdio.h>

__attribute__((noinline)) int64_t dot_signed(const int32_t *a, const int32_t *b, int n) {
    int64_t acc = 0;
    for (int i = 0; i < n; i++) acc += (int64_t)a[i] * b[i];
    return acc;
}

__attribute__((noinline)) uint64_t dot_unsigned(const uint32_t *a, const uint32_t *b, int n) {
    uint64_t acc = 0x0123456789abcdefULL;
    for (int i = 0; i < n; i++) acc += (uint64_t)a[i] * b[i];
    return acc;
}

__attribute__((noinline)) int64_t sub_signed(int64_t acc, const int32_t *a, const int32_t *b, int n) {
    for (int i = 0; i < n; i++) acc -= (int64_t)a[i] * b[i];
    return acc;
}

__attribute__((noinline)) uint64_t sub_unsigned(uint64_t acc, const uint32_t *a, const uint32_t *b, int n) {
    for (int i = 0; i < n; i++) acc -= (uint64_t)a[i] * b[i];
    return acc;
}

int main(void) {
    static int32_t sa[64], sb[64];
    static uint32_t ua[64], ub[64];
    uint32_t s = 0x9e3779b9u;
    for (int i = 0; i < 64; i++) {
        s = s * 747796405u + 2891336453u;
        sa[i] = (int32_t)s;
        ua[i] = s ^ 0xffff0000u;
        s = s * 747796405u + 2891336453u;
        sb[i] = (int32_t)s >> (i & 7);
        ub[i] = s | 0x80000000u;
    }
    sa[0] = INT32_MIN;
    sb[0] = INT32_MIN;
    sa[1] = INT32_MAX;
    sb[1] = -1;
    for (int n = 1; n <= 64; n *= 2)
        printf("n=%2d dot %lld udot %llu msub %lld umsub %llu\n", n, (long long)dot_signed(sa, sb, n),
               (unsigned long long)dot_unsigned(ua, ub, n), (long long)sub_signed(-5, sa, sb, n),
               (unsigned long long)sub_unsigned(3, ua, ub, n));
    return 0;
}
