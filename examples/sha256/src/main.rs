//! SHA-256 of the input, computed by the `sha2` crate as ordinary MIPS code (compare the `keccak` example,
//! which also uses a precompile).
//!
//! Input: one item, the message (any bytes). Public values: the 32-byte digest.
#![no_std]
#![no_main]

use sha2::{Digest, Sha256};
use zkmips_zkvm::{io, println};

zkmips_zkvm::entrypoint!(main);

fn main() {
    let message = io::read_vec();
    let digest: [u8; 32] = Sha256::digest(&message).into();
    io::commit_slice(&digest);
    println!("sha256({} bytes) = {}", message.len(), Hex(&digest));
}

/// Lower-case hex formatting without allocating a string.
struct Hex<'a>(&'a [u8]);

impl core::fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.0.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
    }
}
