/* Driver for the generated random instruction blocks (cli/tests/random_isa.rs): for each case, fill the
 * scratch buffer from the case's seed, run the block, and dump the registers, HI/LO and the buffer as hex
 * text with write(2), so a difference names the register or word. */
#include <stdint.h>
#include <unistd.h>

struct zk_case {
    void (*run)(uint32_t *scratch);
    uint32_t memory_seed;
};
extern const struct zk_case zk_cases[];
extern const uint32_t zk_case_count;

/* 64 words of register dump below the 64 scratch words the block addresses through its base register. */
static uint32_t area[128] __attribute__((aligned(8)));

static char out[4096];
static unsigned used;

static void put_str(const char *s) {
    while (*s)
        out[used++] = *s++;
}

static void put_line(const char *name, unsigned index, uint32_t value) {
    put_str(name);
    if (index < 100) {
        out[used++] = (char)('0' + index / 10);
        out[used++] = (char)('0' + index % 10);
    }
    out[used++] = ' ';
    for (int shift = 28; shift >= 0; shift -= 4)
        out[used++] = "0123456789abcdef"[(value >> shift) & 15];
    out[used++] = '\n';
}

int main(void) {
    for (uint32_t i = 0; i < zk_case_count; i++) {
        uint32_t x = zk_cases[i].memory_seed;
        for (unsigned w = 0; w < 128; w++) {
            x ^= x << 13; /* xorshift32 */
            x ^= x >> 17;
            x ^= x << 5;
            area[w] = w < 64 ? 0 : x;
        }
        zk_cases[i].run(&area[64]);
        used = 0;
        put_line("case ", 100, i);
        for (unsigned reg = 1; reg < 32; reg++)
            if (reg != 26 && reg != 27 && reg != 29 && reg != 30)
                put_line("r", reg, area[reg]);
        put_line("hi", 100, area[32]);
        put_line("lo", 100, area[33]);
        for (unsigned w = 0; w < 64; w++)
            put_line("m", w, area[64 + w]);
        if (write(1, out, used) != (ssize_t)used)
            return 1;
    }
    return 0;
}
