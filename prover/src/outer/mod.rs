//! The outer ("wrap") STARK configuration: KoalaBear values, with every hash — Merkle leaves,
//! Merkle nodes and the Fiat-Shamir transcript — computed by Poseidon2 over the BN254 scalar
//! field, so that a BN254 Groth16 circuit (crate `zkmips-wrapper`) can re-verify the proof
//! cheaply. See docs/WRAPPER.md.

pub mod config;
pub mod poseidon2;
pub mod poseidon2_bn254_constants;

pub use config::{
    OUTER_FRI_LOG_BLOWUP, OUTER_FRI_LOG_FINAL_POLY_LEN, OUTER_FRI_MAX_LOG_ARITY,
    OUTER_FRI_NUM_QUERIES, OUTER_FRI_QUERY_POW_BITS, OuterChallenge, OuterChallengeMmcs,
    OuterChallenger, OuterCompress, OuterConfig, OuterDft, OuterHash, OuterPcs, OuterVal,
    OuterValMmcs, outer_config, outer_config_with_fri, outer_fri_parameters,
};
pub use poseidon2::{OuterPerm, bn254_from_hex, hex_to_limbs, outer_perm};
