//! Program entry: `_start` and the Rust side of start-up.
use core::arch::global_asm;

// The executor starts the guest with `$sp` pointing at a Linux-style block: argc, argv[0..argc], NULL,
// envp..., NULL, auxv. `_start` hands that pointer to Rust, sets `$gp` for any small-data accesses, aligns
// the stack to 8 bytes (o32) and reserves the 16-byte argument save area every o32 callee may use.
global_asm!(
    ".section .text._start, \"ax\", @progbits",
    ".globl _start",
    ".type _start, @function",
    ".set push",
    ".set noreorder",
    ".set noat",
    "_start:",
    "    move  $4, $29",
    "    lui   $28, %hi(_gp)",
    "    addiu $28, $28, %lo(_gp)",
    "    addiu $8, $zero, -8",
    "    and   $29, $29, $8",
    "    addiu $29, $29, -16",
    "    jal   __zkmips_rust_start",
    "    nop",
    // Not reached: __zkmips_rust_start halts.
    "1:  b     1b",
    "    nop",
    ".set pop",
    ".size _start, . - _start",
);

unsafe extern "C" {
    /// Defined by [`crate::entrypoint!`] in the guest binary.
    fn __zkmips_main();
}

/// Called by `_start` with the initial stack pointer; runs the guest's entry function and halts with 0.
///
/// # Safety
/// Only `_start` may call this, once, with the executor's initial stack pointer.
#[doc(hidden)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __zkmips_rust_start(initial_sp: *const u32) -> ! {
    // SAFETY: the executor's initial stack starts with argc followed by argv.
    unsafe { crate::env::init(initial_sp) };
    // SAFETY: the guest binary defines `__zkmips_main` through `entrypoint!`.
    unsafe { __zkmips_main() };
    crate::halt(0)
}
