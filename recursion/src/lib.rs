//! zkmips recursion machine: STARK proofs of straight-line field programs, the layer that
//! verifies STARK proofs inside STARK proofs (docs/RECURSION.md).
//!
//! - [`ir`]: the program (write-once memory of extension-field cells, ALU and Poseidon2
//!   instructions) and its checks.
//! - [`builder`]: writing programs with typed cells ([`builder::Felt`], [`builder::Ext`]).
//! - [`runtime`]: running a program on a witness stream.
//! - [`chips`]: the tables that prove a run; [`machine`]: proving and verifying it.
//! - [`gadgets`]: verifier pieces written as programs (transcript, Merkle paths, ...).

pub mod builder;
pub mod chips;
pub mod evm_chain;
pub mod fixed;
pub mod gadgets;
pub mod ir;
pub mod layers;
pub mod machine;
pub mod mips;
pub mod runtime;
pub mod stark;
