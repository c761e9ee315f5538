//! Computes the n-th Fibonacci number modulo 2^64 (fib(0) = 0, fib(1) = 1).
//!
//! Input: one item, `n` as 4 little-endian bytes (`printf '\xe8\x03\x00\x00' > n.bin` for n = 1000).
//! Public values: `n` (4 bytes LE) followed by fib(n) mod 2^64 (8 bytes LE).
#![no_std]
#![no_main]

use zkmips_zkvm::{io, println};

zkmips_zkvm::entrypoint!(main);

fn main() {
    let input = io::read_vec();
    let n = u32::from_le_bytes(
        input
            .as_slice()
            .try_into()
            .expect("fibonacci: the input item must be n as exactly 4 little-endian bytes"),
    );

    let (mut a, mut b) = (0u64, 1u64);
    for _ in 0..n {
        (a, b) = (b, a.wrapping_add(b));
    }

    io::commit_slice(&n.to_le_bytes());
    io::commit_slice(&a.to_le_bytes());
    println!("fib({n}) mod 2^64 = {a}");
}
