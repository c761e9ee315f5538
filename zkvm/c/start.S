/*
 * C guest entry: _start -> main(argc, argv, envp) -> zkmips_halt(main's return value), which publishes the
 * digest of the public values (zkmips.c) and halts.
 *
 * The executor starts with $sp at the Linux-style block argc, argv[0..argc], NULL, envp..., NULL, auxv.
 * Memory starts zeroed, so .bss needs no clearing.
 */
#include "zkmips.h"

    .set    noreorder
    .set    noat
    .section .text._start, "ax", @progbits
    .globl  _start
    .type   _start, @function
_start:
    lw      $4, 0($29)              /* argc */
    addiu   $5, $29, 4              /* argv */
    sll     $6, $4, 2
    addu    $6, $6, $5
    addiu   $6, $6, 4               /* envp = argv + argc + 1 */
    lui     $28, %hi(_gp)           /* gcc addresses small data (-G 8) relative to $gp */
    addiu   $28, $28, %lo(_gp)
    addiu   $8, $0, -8
    and     $29, $29, $8            /* o32: 8-byte aligned stack ... */
    addiu   $29, $29, -16           /* ... with the 16-byte argument save area */
    jal     main
    nop
    jal     zkmips_halt             /* never returns */
    move    $4, $2                  /* (delay slot) exit code = main's return value */
1:  b       1b
    nop
    .size   _start, . - _start
