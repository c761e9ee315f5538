//! Shared by the `evm_*` tests and the key tests: the keys of the wrap circuit, the committed
//! EVM fixture and paths.
//!
//! The keys come from a public seed (`zkmips_wrapper::keys::dev_seed`): anyone can derive the
//! toxic waste, so this is NOT a trusted setup. The committed `contracts/src/Groth16Verifier.sol`
//! is rendered from them (`zkmips export-verifier`) and `contracts/fixtures/fibonacci_evm.json`
//! is a real `zkmips prove --evm` proof of the fibonacci example under them.

#![allow(dead_code)] // each test binary uses a different part

use std::path::PathBuf;
use std::sync::OnceLock;

use ark_bn254::{Bn254, Fr};
use ark_groth16::{ProvingKey, VerifyingKey};
use zkmips_wrapper::evm::CompiledContracts;
use zkmips_wrapper::keys::{
    CURRENT_WRAP_CIRCUIT_NAME, DEFAULT_KEYS_DIR, KeyCache, current_wrap_circuit,
};
use zkmips_wrapper::solidity::fr_to_be_bytes;

/// The committed fixture, relative to the repository root: written by `zkmips prove --evm
/// examples/bin/fibonacci.elf --input examples/fibonacci/input.bin -o contracts/fixtures/fibonacci`
/// (then renamed; docs/CONTRACTS.md).
pub const EVM_FIXTURE_PATH: &str = "contracts/fixtures/fibonacci_evm.json";

/// The dev proving and verifying keys, from the key cache (`$ZKMIPS_KEYS_DIR` or
/// `target/zkmips-keys/` at the repository root): derived from the public dev seed on first
/// use, loaded and hash-checked afterwards (that they are the current circuit's:
/// `keys.rs::committed_verifier_and_fixture_match_the_cached_keys`, which re-synthesizes it).
/// Loaded once per test binary.
pub fn dev_keys() -> &'static (ProvingKey<Bn254>, VerifyingKey<Bn254>) {
    static KEYS: OnceLock<(ProvingKey<Bn254>, VerifyingKey<Bn254>)> = OnceLock::new();
    KEYS.get_or_init(|| {
        let cache = KeyCache::from_env_or(repo_root().join(DEFAULT_KEYS_DIR));
        let circuit = current_wrap_circuit(&cache).unwrap();
        let keys = cache
            .load_or_derive_for_proving(CURRENT_WRAP_CIRCUIT_NAME, circuit)
            .unwrap_or_else(|e| panic!("dev keys: {e}"));
        (keys.proving_key, keys.verifying_key)
    })
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("wrapper/ has a parent")
        .to_path_buf()
}

/// `contracts/src` compiled with `scripts/solc`, once per test binary.
pub fn compiled_contracts() -> &'static CompiledContracts {
    static CONTRACTS: OnceLock<CompiledContracts> = OnceLock::new();
    CONTRACTS.get_or_init(|| {
        CompiledContracts::compile(&repo_root())
            .unwrap_or_else(|e| panic!("compiling contracts/src: {e}"))
    })
}

/// Big-endian bytes of a field element (for readable assertions).
pub fn be(value: &Fr) -> [u8; 32] {
    fr_to_be_bytes(value)
}
