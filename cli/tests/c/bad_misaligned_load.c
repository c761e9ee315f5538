/* A word load from an address that is not 4-byte aligned: an address error on real hardware. */
#include <stdint.h>
#include <stdio.h>

static uint32_t words[4] = {0x11111111, 0x22222222, 0x33333333, 0x44444444};

int main(void) {
    uint32_t value;
    char *volatile base = (char *)words;
    printf("loading from %p + 1\n", (void *)base);
    fflush(stdout);
    __asm__ volatile(".globl bad_load\nbad_load:\nlw %0, 1(%1)" : "=r"(value) : "r"(base) : "memory");
    printf("loaded %08x\n", value);
    return 0;
}
