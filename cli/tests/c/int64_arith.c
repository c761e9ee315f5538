/* 64-bit multiply/divide/modulo, signed and unsigned: on MIPS32 these call libgcc's __divdi3, __udivdi3,
 * __moddi3, __umoddi3 and use multu/mfhi/mflo for products. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>

__attribute__((noinline)) static void show(int64_t a, int64_t b) {
    uint64_t ua = (uint64_t)a, ub = (uint64_t)b;
    printf("a=%lld b=%lld mul=%lld", (long long)a, (long long)b, (long long)(int64_t)(ua * ub));
    if (b != 0 && !(a == INT64_MIN && b == -1))
        printf(" div=%lld mod=%lld", (long long)(a / b), (long long)(a % b));
    if (ub != 0) printf(" udiv=%llu umod=%llu", (unsigned long long)(ua / ub), (unsigned long long)(ua % ub));
    printf(" shl=%llx sar=%llx shr=%llx\n", (unsigned long long)(ua << (b & 63)), (unsigned long long)(a >> (b & 63)),
           (unsigned long long)(ua >> (b & 63)));
}

int main(void) {
    static const int64_t vals[] = {0, 1, -1, 2, -2, 7, -7, 10, 1000000007, -1000000007, 0x7fffffffLL, 0x80000000LL,
                                   0xffffffffLL, 0x100000000LL, -0x100000001LL, 0x123456789abcdefLL, INT64_MAX,
                                   INT64_MIN, INT64_MIN + 1};
    const int n = sizeof vals / sizeof vals[0];
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j += 3) show(vals[i], vals[j]);

    uint64_t h = 0xcbf29ce484222325ULL;
    for (uint32_t i = 1; i < 5000; i++) {
        h ^= i;
        h *= 0x100000001b3ULL;
        h = h / (i | 1) + h % 1000003 + (uint64_t)((int64_t)h / -(int64_t)(i + 2));
    }
    printf("mix %016llx\n", (unsigned long long)h);

    uint32_t x = 0xfffffff1u, y = 0xfffffff3u;
    int32_t sx = -123456789, sy = 987654;
    printf("u32xu32 %llu s32xs32 %lld\n", (unsigned long long)x * y, (long long)sx * sy);
    printf("u32 div %u mod %u s32 div %d mod %d\n", x / 7, x % 7, sx / 13, sx % 13);
    printf("neg s32 div %d mod %d\n", -sx / -13, -sx % -13);
    return 0;
}
