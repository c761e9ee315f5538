//! Exercises the SDK paths the other examples leave out; `cli/tests/examples.rs` checks its outputs.
//!
//! Inputs: item 1 = `x` as 8 little-endian bytes (read with `read_into`), item 2 = `postcard(Vec<u32>)`.
//! Hints: item 1 = `postcard(u64)`, the claimed integer square root of `x` (checked, not trusted);
//! item 2 = any bytes. Arguments: any (`zkmips run sdk-check.elf ... -- ARGS`).
//! Public values: `postcard((args, isqrt(x), sum of the vector, hint 2 length, heap checks))`, committed one
//! field at a time (a postcard tuple is its fields' encodings in a row), so the SDK's running hash of the
//! public values sees pieces of many sizes.
//! Hint output: `postcard((x, isqrt(x)))` then the bytes `done`.
//! Exit code: 0, or N when an argument is `exit-code=N` (through `zkmips_zkvm::halt`, after committing).
#![no_std]
#![no_main]

extern crate alloc;

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use zkmips_zkvm::{env, eprintln, io};

zkmips_zkvm::entrypoint!(main);

fn main() {
    let args: Vec<String> = env::args()
        .map(|arg| {
            arg.to_str()
                .expect("sdk-check: arguments are UTF-8")
                .to_string()
        })
        .collect();
    assert_eq!(args.len(), env::argc());

    let mut x_bytes = [0u8; 8];
    io::read_into(&mut x_bytes);
    let x = u64::from_le_bytes(x_bytes);
    let values: Vec<u32> = io::read();
    assert!(
        io::input_len().is_none(),
        "sdk-check: expected exactly two input items"
    );

    // The prover claims the square root; the guest only checks it, which is the point of hints.
    let root: u64 = io::read_hint();
    let fits = |r: u64| r.checked_mul(r).is_some_and(|square| square <= x);
    assert!(
        fits(root) && !fits(root + 1),
        "sdk-check: hint {root} is not the integer square root of {x}"
    );
    let extra_hint = io::hint_vec();
    assert!(
        io::hint_len().is_none(),
        "sdk-check: expected exactly two hint items"
    );

    let sum: u64 = values.iter().map(|&v| u64::from(v)).sum();
    let heap = heap_checks();

    io::hint(&(x, root));
    io::hint_slice(b"done");
    eprintln!("sdk-check: {} args, {} values", args.len(), values.len());
    let exit_code = args
        .iter()
        .find_map(|arg| arg.strip_prefix("exit-code="))
        .map(|code| {
            code.parse::<u32>()
                .expect("sdk-check: exit-code=N takes a u32")
        });
    io::commit(&args);
    io::commit_slice(&[]);
    io::commit(&root);
    io::commit(&sum);
    io::commit(&(extra_hint.len() as u32));
    io::commit(&heap);
    if let Some(code) = exit_code {
        zkmips_zkvm::halt(code);
    }
}

/// Allocation patterns the bump allocator special-cases; returns values the host recomputes.
fn heap_checks() -> (u32, u64, u32) {
    // Freeing the newest block hands its (dirty) memory out again: `vec![0; n]` must still be all zero.
    let dirty = vec![0xaau8; 4096];
    let dirty_sum: u32 = dirty.iter().map(|&b| u32::from(b)).sum();
    drop(dirty);
    let zeroed = vec![0u8; 8192];
    assert!(
        zeroed.iter().all(|&b| b == 0),
        "sdk-check: alloc_zeroed returned dirty memory"
    );
    drop(zeroed);

    // Growth in place (newest block) and by copying (an older block).
    let mut grown: Vec<u32> = Vec::new();
    let mut older: Vec<u64> = Vec::with_capacity(1);
    for i in 0..5_000u32 {
        grown.push(i);
        if i % 50 == 0 {
            older.push(u64::from(i) * 3);
        }
    }
    let boxed = Box::new(older.len() as u32);
    let grown_sum: u64 =
        grown.iter().map(|&v| u64::from(v)).sum::<u64>() + older.iter().sum::<u64>();
    (dirty_sum, grown_sum, *boxed)
}
