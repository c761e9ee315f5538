//! Groth16 (BN254) wrapper for zkmips outer STARK proofs: R1CS gadgets that re-compute, inside
//! the circuit, exactly what the native outer verifier (`zkmips_prover::outer`) computes.
//!
//! Status: foundations — the Poseidon2-BN254 permutation, KoalaBear base/extension arithmetic
//! with lazy reduction, outer-MMCS leaf hashing and Merkle paths, the outer Fiat-Shamir
//! challenger, and Groth16 round trips.
//! The full STARK verifier circuit is planned in docs/WRAPPER.md.

pub mod air;
pub mod challenger;
pub mod convert;
pub mod fri;
pub mod koalabear;
pub mod merkle;
pub mod poseidon2;
#[cfg(test)]
mod test_util;

/// The circuit field: the BN254 scalar field.
pub use ark_bn254::Fr;
