//! Guest SDK for the zkmips zkVM.
//!
//! A guest is a `#![no_std]`, `#![no_main]` Rust binary built for `mipsel-unknown-none` that names its entry
//! function with [`entrypoint!`]:
//!
//! ```ignore
//! #![no_std]
//! #![no_main]
//! zkmips_zkvm::entrypoint!(main);
//!
//! fn main() {
//!     let n: u32 = zkmips_zkvm::io::read();
//!     zkmips_zkvm::io::commit(&(n * 2));
//! }
//! ```
//!
//! The SDK supplies everything else a bare-metal program needs: `_start` (stack alignment, `$gp`, then the
//! entry function, then [`halt`]`(0)`), a linker script (`link.x`), a bump allocator for `alloc`, and a panic
//! handler that prints the message to stderr and halts with exit code 1. [`io`] reads the input and hint
//! streams and commits public values; [`precompiles`] exposes the accelerated SHA-256 and Keccak services;
//! [`syscalls`] has the raw service calls of [`zkmips_abi`].
//!
//! Every exit path (return from the entry function, [`halt`], a panic) first publishes the SHA-256 digest of
//! the committed public values at [`PUBLIC_DIGEST_ADDR`](zkmips_abi::layout::PUBLIC_DIGEST_ADDR), where the
//! verifier reads it from the proven final memory: that is how a proof binds the public values.
#![no_std]
#![feature(asm_experimental_arch)]

extern crate alloc;

pub mod env;
mod heap;
pub mod io;
mod panic;
pub mod precompiles;
mod public_values;
mod start;
pub mod syscalls;

pub use zkmips_abi as abi;

#[doc(hidden)]
pub use start::__zkmips_rust_start;

pub use heap::{HEAP_END, heap_used};

/// Stops the machine with `code` as the exit status (0 = success). The public values committed so far are
/// the program's public output; their SHA-256 digest is published at
/// [`PUBLIC_DIGEST_ADDR`](zkmips_abi::layout::PUBLIC_DIGEST_ADDR) first, which is how a proof binds them.
pub fn halt(code: u32) -> ! {
    syscalls::halt(code)
}

/// Declares the guest's entry function, a `fn()` that the SDK's `_start` calls once. When it returns the
/// machine halts with exit code 0; to fail, panic (exit code 1) or call [`halt`] with another code.
#[macro_export]
macro_rules! entrypoint {
    ($path:path) => {
        // The SDK's `_start` calls this symbol; the wrapper also type-checks the user's function.
        #[unsafe(no_mangle)]
        extern "C" fn __zkmips_main() {
            let main: fn() = $path;
            main()
        }
    };
}

/// Prints to the host's stdout (service `WRITE`, fd 1). Output is not part of the proven statement.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => { $crate::io::_print($crate::abi::fd::STDOUT, format_args!($($arg)*)) };
}

/// Prints to the host's stdout with a trailing newline.
#[macro_export]
macro_rules! println {
    () => { $crate::print!("\n") };
    ($($arg:tt)*) => { $crate::io::_print($crate::abi::fd::STDOUT, format_args!("{}\n", format_args!($($arg)*))) };
}

/// Prints to the host's stderr (service `WRITE`, fd 2).
#[macro_export]
macro_rules! eprint {
    ($($arg:tt)*) => { $crate::io::_print($crate::abi::fd::STDERR, format_args!($($arg)*)) };
}

/// Prints to the host's stderr with a trailing newline.
#[macro_export]
macro_rules! eprintln {
    () => { $crate::eprint!("\n") };
    ($($arg:tt)*) => { $crate::io::_print($crate::abi::fd::STDERR, format_args!("{}\n", format_args!($($arg)*))) };
}
