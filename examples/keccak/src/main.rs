//! Keccak-256 of the input twice: with `tiny-keccak` running as MIPS code, and with the SDK's
//! `keccak256`, which runs each keccak-f\[1600\] permutation as one `KECCAK_PERMUTE` service call. The guest
//! asserts that both agree, so a run also checks the precompile against an independent implementation.
//!
//! Input: one item, the message (any bytes). Public values: the 32-byte digest.
#![no_std]
#![no_main]

use tiny_keccak::{Hasher, Keccak};
use zkmips_zkvm::{io, precompiles, println};

zkmips_zkvm::entrypoint!(main);

fn main() {
    let message = io::read_vec();

    let mut software = [0u8; 32];
    let mut hasher = Keccak::v256();
    hasher.update(&message);
    hasher.finalize(&mut software);

    let accelerated = precompiles::keccak256(&message);
    assert_eq!(
        software, accelerated,
        "keccak: tiny-keccak and the KECCAK_PERMUTE precompile disagree"
    );

    io::commit_slice(&accelerated);
    println!("keccak256({} bytes) = {}", message.len(), Hex(&accelerated));
}

/// Lower-case hex formatting without allocating a string.
struct Hex<'a>(&'a [u8]);

impl core::fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.0.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
    }
}
