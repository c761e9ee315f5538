/* Executes a word that is not a MIPS32r2 instruction (opcode 0x3f, unused by MIPS32r2 user code).
 * The label lets the test find its address. */
#include <stdio.h>

int main(void) {
    printf("before the bad instruction\n");
    fflush(stdout);
    __asm__ volatile(".globl bad_instruction\nbad_instruction:\n.word 0xffffffff");
    printf("after the bad instruction\n");
    return 0;
}
