//! The outer ("wrap") STARK configuration: KoalaBear values, with every hash — Merkle leaves,
//! Merkle nodes and the Fiat-Shamir transcript — computed by Poseidon2 over the BN254 scalar
//! field, so that a BN254 Groth16 circuit (crate `zkmips-wrapper`) can re-verify the proof
//! cheaply. See docs/WRAPPER.md.

pub mod config;
pub mod poseidon2;
pub mod poseidon2_bn254_constants;

pub use config::{
    OUTER_COLLISION_BITS, OUTER_FRI, OuterChallenge, OuterChallengeMmcs, OuterChallenger,
    OuterCompress, OuterConfig, OuterDft, OuterHash, OuterPcs, OuterVal, OuterValMmcs,
    WRAP_TEST_FRI, outer_config, outer_config_with, outer_config_with_fri, outer_val_mmcs,
};
pub use poseidon2::{OuterPerm, bn254_from_hex, hex_to_limbs, outer_perm};
