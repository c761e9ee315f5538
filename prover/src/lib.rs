//! zkmips prover: STARK proofs of MIPS32r2 execution on Plonky3 0.8 (`p3-batch-stark` with
//! LogUp buses). See `docs/PROVER.md`.
//!
//! - [`config`]: the inner STARK configuration (KoalaBear, Poseidon2-16, FRI parameters).
//! - [`security`]: proven / conjectured soundness of a batch, computed with `p3-security`.
//! - [`buses`]: every bus, its message layout and operation codes.
//! - [`chips`]: the AIR tables and the [`chips::MipsAir`] enum a batch is made of.
//! - [`batch`]: proving and verifying a set of chips as one batch proof.
//! - [`vkey`]: the program verifying key (`zkmips vkey program.elf`).
//! - `outer`: the BN254-friendly outer configuration (owned by the wrapper).

pub mod batch;
pub mod buses;
pub mod chips;
pub mod config;
pub mod evm;
pub mod machine;
pub mod outer;
pub mod proof_shape;
pub mod security;
pub mod septic;
pub mod shard;
pub mod vkey;

pub use vkey::{ProgramVkey, VkeyError, program_vkey, vkey_of_elf};

/// Plonky3 crates used by [`air_enum!`] expansions in other crates.
#[doc(hidden)]
pub mod __p3 {
    pub use {p3_air, p3_field, p3_lookup, p3_matrix};
}
