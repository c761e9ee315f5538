/*
 * zkmips C runtime: the running SHA-256 of the public values and the exit path that publishes it.
 *
 * A proof binds the public values through memory: zkmips_commit() feeds every committed byte to the hash
 * below, and zkmips_halt() (which start.S also calls when main returns) stores the digest at
 * ZKMIPS_PUBLIC_DIGEST_ADDR just before the HALT service. The verifier compares that region of the proven
 * final memory with the SHA-256 of the public values it is given. The hash is plain C, proven like the rest
 * of the guest; it needs no precompile.
 *
 * Link this file into every C guest (see zkmips.h).
 */
#include "zkmips.h"

/* FIPS 180-4 section 4.2.2: the first 32 bits of the fractional parts of the cube roots of the first 64
 * primes. */
static const uint32_t round_constants[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/* The running hash: chaining state (starting at the FIPS 180-4 initial value), the start of the next
 * incomplete block (bytes in stream order; words only for cheap copying), and the number of bytes absorbed.
 * Statically initialised, so nothing runs at start-up. */
static uint32_t hash_state[8] = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};
static union {
    uint8_t bytes[64];
    uint32_t words[16];
} pending;
static uint64_t absorbed;

static uint32_t rotr(uint32_t x, unsigned n)
{
    return (x >> n) | (x << (32 - n));
}

/* One round of FIPS 180-4 section 6.2.2 step 3. Instead of shifting the eight working variables, the caller
 * rotates the names it passes, so only d and h change. */
#define ROUND(a, b, c, d, e, f, g, h, t)                                                                 \
    do {                                                                                               \
        uint32_t t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) +            \
                      round_constants[t] + w[t];                                                       \
        uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));        \
        d += t1;                                                                                       \
        h = t1 + t2;                                                                                   \
    } while (0)

/* One compression of the 64-byte big-endian block into `state`. */
static void compress(uint32_t state[8], const uint8_t block[64])
{
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)block[4 * i] << 24 | (uint32_t)block[4 * i + 1] << 16 |
               (uint32_t)block[4 * i + 2] << 8 | block[4 * i + 3];
    for (int t = 16; t < 64; t++) {
        uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
        uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
        w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
    for (int t = 0; t < 64; t += 8) {
        ROUND(a, b, c, d, e, f, g, h, t);
        ROUND(h, a, b, c, d, e, f, g, t + 1);
        ROUND(g, h, a, b, c, d, e, f, t + 2);
        ROUND(f, g, h, a, b, c, d, e, t + 3);
        ROUND(e, f, g, h, a, b, c, d, t + 4);
        ROUND(d, e, f, g, h, a, b, c, t + 5);
        ROUND(c, d, e, f, g, h, a, b, t + 6);
        ROUND(b, c, d, e, f, g, h, a, t + 7);
    }
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
    state[4] += e;
    state[5] += f;
    state[6] += g;
    state[7] += h;
}

void zkmips_public_absorb(const void *buf, size_t len)
{
    const uint8_t *bytes = buf;
    unsigned used = (unsigned)(absorbed % 64);
    absorbed += len;
    while (len != 0) {
        pending.bytes[used++] = *bytes++;
        len--;
        if (used == 64) {
            compress(hash_state, pending.bytes);
            used = 0;
        }
    }
}

/* The final chaining state of the hash of everything absorbed so far; the running hash is left as is. */
static void final_state(uint32_t state[8])
{
    union {
        uint8_t bytes[64];
        uint32_t words[16];
    } last;
    unsigned used = (unsigned)(absorbed % 64);
    uint64_t bits = absorbed * 8;
    for (int i = 0; i < 8; i++)
        state[i] = hash_state[i];
    for (int i = 0; i < 16; i++)
        last.words[i] = pending.words[i];
    /* Bytes past `used` are stale; padding is 0x80 then zeros. */
    last.bytes[used] = 0x80;
    for (unsigned i = used + 1; i < 64; i++)
        last.bytes[i] = 0;
    /* The 8-byte bit length must fit after the 0x80 marker; otherwise it goes in one more block. */
    if (used >= 56) {
        compress(state, last.bytes);
        for (int i = 0; i < 16; i++)
            last.words[i] = 0;
    }
    for (int i = 0; i < 8; i++)
        last.bytes[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
    compress(state, last.bytes);
}

void zkmips_public_digest(uint8_t digest[32])
{
    uint32_t state[8];
    final_state(state);
    for (int i = 0; i < 32; i++)
        digest[i] = (uint8_t)(state[i / 4] >> (24 - 8 * (i % 4)));
}

void zkmips_halt(uint32_t code)
{
    uint32_t state[8];
    final_state(state);
    /* Digest byte i at ADDR + i: each big-endian state word, byte-swapped into this little-endian memory.
     * Volatile because nothing in the guest reads the region back; the verifier does. */
    volatile uint32_t *region = (volatile uint32_t *)ZKMIPS_PUBLIC_DIGEST_ADDR;
    for (int i = 0; i < ZKMIPS_PUBLIC_DIGEST_LEN / 4; i++)
        region[i] = __builtin_bswap32(state[i]);
    zkmips_syscall3(ZKMIPS_SYS_HALT, code, 0, 0);
    __builtin_unreachable();
}
