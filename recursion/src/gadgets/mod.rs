//! Verifier pieces written as recursion programs. Each gadget replays the native Plonky3 0.8
//! code of the inner configuration step for step, so a program built from them computes
//! exactly what the native verifier computes.
//!
//! - [`challenger`]: the duplex Fiat-Shamir transcript (`DuplexChallenger`), with proof-of-work
//!   checks.
//! - [`merkle`]: leaf hashing, 2-to-1 compression and batch openings of `MerkleTreeMmcs`
//!   (matrices of mixed heights), plus the flattening `ExtensionMmcs` applies to extension rows.

pub mod air;
pub mod challenger;
pub mod merkle;
pub mod pcs;
