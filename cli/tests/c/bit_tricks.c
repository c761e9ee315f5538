/* Bit manipulation that gcc -march=mips32r2 maps to single instructions: clz, wsbh+rotr (bswap),
 * rotr/rotrv, ext, ins, seb, seh (plus clo via inline asm). popcount goes through libgcc's __popcountsi2, ctz
 * through a clz sequence. */
#include <stdint.h>
#include <stdio.h>

__attribute__((noinline)) uint32_t rotr_var(uint32_t x, unsigned n) { return (x >> (n & 31)) | (x << ((32 - n) & 31)); }
__attribute__((noinline)) uint32_t rotl7(uint32_t x) { return (x << 7) | (x >> 25); }
__attribute__((noinline)) uint32_t extract_bits(uint32_t x) { return (x >> 5) & 0x3ff; }
/* A bitfield store is what makes gcc use ins. */
union fields {
    uint32_t word;
    struct {
        uint32_t low : 12, mid : 8, high : 12;
    } f;
};
__attribute__((noinline)) uint32_t insert_bits(uint32_t x, uint32_t v) {
    union fields u = {.word = x};
    u.f.mid = v;
    return u.word;
}
__attribute__((noinline)) int32_t sign_byte(uint32_t x) { return (int8_t)x; }
__attribute__((noinline)) int32_t sign_half(uint32_t x) { return (int16_t)x; }
__attribute__((noinline)) uint32_t swap32(uint32_t x) { return __builtin_bswap32(x); }
__attribute__((noinline)) uint16_t swap16(uint16_t x) { return __builtin_bswap16(x); }
__attribute__((noinline)) int leading_zeros(uint32_t x) { return x ? __builtin_clz(x) : 32; }
/* gcc never emits clo from C (it uses nor + clz), so clo comes from inline asm. */
__attribute__((noinline)) int leading_ones(uint32_t x) {
    int n;
    __asm__("clo %0, %1" : "=r"(n) : "r"(x));
    return n;
}
__attribute__((noinline)) int trailing_zeros(uint32_t x) { return x ? __builtin_ctz(x) : 32; }
__attribute__((noinline)) int ones(uint32_t x) { return __builtin_popcount(x); }
__attribute__((noinline)) int ones64(uint64_t x) { return __builtin_popcountll(x); }
__attribute__((noinline)) int parity(uint32_t x) { return __builtin_parity(x); }

int main(void) {
    static const uint32_t vals[] = {0, 1, 0x80, 0x7f, 0xff, 0x8000, 0x7fff, 0xffff, 0x80000000u, 0x7fffffff,
                                    0xffffffffu, 0x12345678, 0xdeadbeefu, 0x00f0f000, 0xa5a5a5a5u, 0x10000};
    uint32_t total = 0;
    for (unsigned i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        uint32_t v = vals[i];
        printf("%08x: clz %2d clo %2d ctz %2d pop %2d par %d bswap %08x bswap16 %04x rotl7 %08x ext %03x ins %08x "
               "seb %d seh %d\n",
               v, leading_zeros(v), leading_ones(v), trailing_zeros(v), ones(v), parity(v), swap32(v),
               swap16((uint16_t)v), rotl7(v), extract_bits(v), insert_bits(v, v >> 3), sign_byte(v), sign_half(v));
        for (unsigned n = 0; n < 32; n += 5) total += rotr_var(v, n) ^ n;
    }
    printf("pop64 %d %d\n", ones64(0xffffffff00000001ULL), ones64(0));
    printf("rotr total %08x\n", total);
    return 0;
}
