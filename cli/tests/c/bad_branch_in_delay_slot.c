/* A branch placed in the delay slot of another branch: UNPREDICTABLE in MIPS32r2, so a VM must refuse it. */
#include <stdio.h>

int main(void) {
    printf("before the branches\n");
    fflush(stdout);
    __asm__ volatile(".set push\n.set noreorder\n"
                     "beq $zero, $zero, 1f\n"
                     ".globl bad_slot_branch\nbad_slot_branch:\n"
                     "beq $zero, $zero, 1f\n"
                     "nop\n"
                     "1:\n"
                     ".set pop");
    printf("after the branches\n");
    return 0;
}
