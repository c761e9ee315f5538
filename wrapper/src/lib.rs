//! Groth16 (BN254) wrapper for zkmips outer STARK proofs: R1CS gadgets that re-compute, inside
//! the circuit, exactly what the native outer verifier (`zkmips_prover::outer`, Plonky3 0.8)
//! computes. Each gadget is tested equal to the Plonky3 code it mirrors. See docs/WRAPPER.md.
//!
//! - [`poseidon2`]: the Poseidon2-BN254 (t = 3) permutation, 240 constraints.
//! - [`koalabear`]: KoalaBear and its degree-4 extension with lazy reduction.
//! - [`merkle`]: outer-MMCS leaf hashing, paths and batch openings (mixed heights).
//! - [`challenger`]: the `MultiField32Challenger` transcript (observe, sample, proof of work).
//! - [`air`]: the out-of-domain constraint check for any AIR's symbolic constraints.
//! - [`fri`]: one FRI fold of a query.
//! - [`verifier`]: the full verifier circuit of a uni-STARK proof under the outer config
//!   (transcript replay, OOD check, DEEP openings, FRI queries) as a Groth16 circuit.

pub mod air;
pub mod challenger;
pub mod convert;
pub mod evm;
pub mod evm_prover;
pub mod fixture;
pub mod fri;
pub mod groth16;
pub mod keys;
pub mod koalabear;
pub mod merkle;
pub mod poseidon2;
pub mod solidity;
#[cfg(test)]
mod test_util;
pub mod verifier;

/// The circuit field: the BN254 scalar field.
pub use ark_bn254::Fr;
