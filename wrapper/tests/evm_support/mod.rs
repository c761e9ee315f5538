//! Shared by the `evm_*` tests: a small stand-in Groth16 circuit with the public-input layout of
//! the real wrap circuit (`[programVKey, publicValuesDigest]`), its keys, and paths.
//!
//! The keys come from a public seed (`zkmips_wrapper::keys::dev_seed`): anyone can derive the toxic waste, so
//! this is NOT a trusted setup and proofs under these keys prove nothing. The committed
//! `contracts/src/Groth16Verifier.sol` and `contracts/fixtures/groth16_dev.json` are generated
//! from them until the STARK-verifier wrap circuit replaces this circuit.

#![allow(dead_code)] // each test binary uses a different part

use std::path::PathBuf;
use std::sync::OnceLock;

use ark_bn254::{Bn254, Fr};
use ark_groth16::{Groth16, Proof, ProvingKey, VerifyingKey};
use ark_snark::SNARK;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;
use zkmips_wrapper::evm::CompiledContracts;
use zkmips_wrapper::keys::{
    CURRENT_WRAP_CIRCUIT_NAME, DEFAULT_KEYS_DIR, KeyCache, current_wrap_circuit,
};
use zkmips_wrapper::solidity::{fr_to_be_bytes, public_values_digest};

/// The committed fixture, relative to the repository root.
pub const DEV_FIXTURE_PATH: &str = "contracts/fixtures/groth16_dev.json";

/// The stand-in circuit now lives in `zkmips_wrapper::keys` (the CLI exports its verifier).
pub use zkmips_wrapper::keys::StandInCircuit as DevCircuit;

/// The dev proving and verifying keys, from the key cache (`$ZKMIPS_KEYS_DIR` or
/// `target/zkmips-keys/` at the repository root): derived from the public dev seed on first
/// use, loaded and hash-checked afterwards. Loaded once per test binary.
pub fn dev_keys() -> &'static (ProvingKey<Bn254>, VerifyingKey<Bn254>) {
    static KEYS: OnceLock<(ProvingKey<Bn254>, VerifyingKey<Bn254>)> = OnceLock::new();
    KEYS.get_or_init(|| {
        let keys = KeyCache::from_env_or(repo_root().join(DEFAULT_KEYS_DIR))
            .load_or_derive(CURRENT_WRAP_CIRCUIT_NAME, current_wrap_circuit())
            .unwrap_or_else(|e| panic!("dev keys: {e}"));
        (keys.proving_key, keys.verifying_key)
    })
}

/// A real Groth16 proof of the dev circuit for (`program_vkey`, digest of `public_values`).
pub fn prove(program_vkey: &[u8; 32], public_values: &[u8], seed: u64) -> Proof<Bn254> {
    let inputs = zkmips_wrapper::solidity::groth16_public_inputs(program_vkey, public_values)
        .expect("programVKey below r");
    let circuit = DevCircuit {
        program_vkey: Some(inputs[0]),
        public_values_digest: Some(inputs[1]),
    };
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    Groth16::<Bn254>::prove(&dev_keys().0, circuit, &mut rng).expect("dev circuit proof")
}

/// Placeholder program vkey of the dev fixture: sha256 of a label, masked below r.
pub fn dev_program_vkey() -> [u8; 32] {
    public_values_digest(b"zkmips dev fixture: placeholder program vkey")
}

/// Public values in the fibonacci guest's layout: n (u32 LE) ‖ fib(n) mod 2^64 (u64 LE).
pub fn fibonacci_public_values(n: u32) -> Vec<u8> {
    let (mut a, mut b) = (0u64, 1u64);
    for _ in 0..n {
        (a, b) = (b, a.wrapping_add(b));
    }
    let mut out = n.to_le_bytes().to_vec();
    out.extend_from_slice(&a.to_le_bytes());
    out
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
