//! The Groth16 key cache (wrapper/src/keys.rs): round trip, corruption and circuit-change
//! detection (on the small stand-in circuit: the real one's setup takes minutes), proving with
//! the digest checked on the prover's own synthesis (wrapper/src/groth16.rs), and that the
//! committed Solidity verifier and EVM fixture belong to the cached keys of the real wrap
//! circuit.

mod evm_support;

use std::path::{Path, PathBuf};

use ark_bn254::Fr;
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};
use evm_support::{EVM_FIXTURE_PATH, repo_root};
use zkmips_wrapper::fixture::EvmFixture;
use zkmips_wrapper::keys::{
    CURRENT_WRAP_CIRCUIT_NAME, DEFAULT_KEYS_DIR, KeyCache, KeyError, KeySource,
    STAND_IN_CIRCUIT_NAME, StandInCircuit, circuit_digest, current_wrap_circuit, derive_dev_keys,
    dev_seed, render_dev_verifier,
};
use zkmips_wrapper::solidity::{GROTH16_VERIFIER_PATH, verifying_key_hash};

/// A fresh, empty cache directory under the target dir (unique per test).
fn scratch_cache(test: &str) -> KeyCache {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("zkmips-keys-test-{test}"));
    let _ = std::fs::remove_dir_all(&dir);
    KeyCache::new(dir)
}

fn flip_byte(path: &Path, index: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    let index = index % bytes.len();
    bytes[index] ^= 0x01;
    std::fs::write(path, bytes).unwrap();
}

/// The stand-in plus one extra constraint: same name, different circuit.
#[derive(Clone, Default)]
struct ChangedCircuit;

impl ConstraintSynthesizer<Fr> for ChangedCircuit {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        use ark_r1cs_std::alloc::AllocVar;
        use ark_r1cs_std::eq::EqGadget;
        use ark_r1cs_std::fields::fp::FpVar;
        StandInCircuit::default().generate_constraints(cs.clone())?;
        let x = FpVar::new_witness(cs.clone(), || Ok(Fr::from(0u64)))?;
        x.enforce_equal(&(&x * &x))
    }
}

/// `y = x^3` with `x` public; `extra` adds one more constraint (another circuit).
#[derive(Clone, Copy)]
struct CubeCircuit {
    x: Fr,
    y: Fr,
    extra: bool,
}

impl CubeCircuit {
    fn new(x: u64, y: u64) -> Self {
        Self {
            x: Fr::from(x),
            y: Fr::from(y),
            extra: false,
        }
    }
}

impl ConstraintSynthesizer<Fr> for CubeCircuit {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        use ark_r1cs_std::alloc::AllocVar;
        use ark_r1cs_std::eq::EqGadget;
        use ark_r1cs_std::fields::FieldVar;
        use ark_r1cs_std::fields::fp::FpVar;
        let x = FpVar::new_input(cs.clone(), || Ok(self.x))?;
        let y = FpVar::new_witness(cs.clone(), || Ok(self.y))?;
        y.enforce_equal(&(&x * &x * &x))?;
        if self.extra {
            y.enforce_equal(&(&y * FpVar::one()))?;
        }
        Ok(())
    }
}

#[test]
fn proving_checks_the_keys_against_its_own_synthesis() {
    use ark_groth16::Groth16;
    use ark_snark::SNARK;
    use rand_chacha::ChaCha20Rng;
    use rand_chacha::rand_core::SeedableRng;
    use zkmips_wrapper::groth16::{Groth16Error, prove};

    let cache = scratch_cache("prove");
    let name = "cube-test";
    let derived = cache
        .load_or_derive_for_proving(name, CubeCircuit::new(0, 0))
        .unwrap();
    assert_eq!(derived.source, KeySource::Derived);
    // A cached entry loads without synthesizing the circuit: the prover checks the digest.
    let keys = cache
        .load_or_derive_for_proving(name, CubeCircuit::new(0, 0))
        .unwrap();
    assert_eq!(keys.source, KeySource::Loaded);
    assert_eq!(keys.circuit_digest, derived.circuit_digest);

    let seed = [7u8; 32];
    let honest = CubeCircuit::new(3, 27);
    let proved = prove(honest, &[Fr::from(3u64)], &keys, seed).unwrap();
    let cs = ark_relations::gr1cs::ConstraintSystem::<Fr>::new_ref();
    cs.set_optimization_goal(ark_relations::gr1cs::OptimizationGoal::Constraints);
    honest.generate_constraints(cs.clone()).unwrap();
    cs.finalize();
    assert_eq!(proved.num_constraints, cs.num_constraints());
    let proof = proved.proof;
    // The same proof as ark-groth16's own prover with the same randomness.
    let mut rng = ChaCha20Rng::from_seed(seed);
    let expected = Groth16::<ark_bn254::Bn254>::prove(&keys.proving_key, honest, &mut rng).unwrap();
    assert_eq!(proof, expected);

    let err = prove(CubeCircuit::new(3, 28), &[Fr::from(3u64)], &keys, seed).unwrap_err();
    assert!(
        matches!(err, Groth16Error::Rejected { .. }),
        "wrong witness: {err}"
    );
    let changed = CubeCircuit {
        extra: true,
        ..honest
    };
    let err = prove(changed, &[Fr::from(3u64)], &keys, seed).unwrap_err();
    assert!(
        matches!(err, Groth16Error::KeysForAnotherCircuit { .. }),
        "keys of another circuit: {err}"
    );
}

/// The prover's order (`zkmips prove --evm`): keys derived only if missing and not kept, the
/// circuit synthesized, then the keys loaded (streamed from disk) and the proof made.
#[test]
fn synthesis_before_loading_the_keys() {
    use zkmips_wrapper::groth16::{Groth16Error, SynthesizedCircuit};

    let cache = scratch_cache("synthesis-first");
    let name = "cube-test";
    let blank = CubeCircuit::new(0, 0);
    assert_eq!(
        cache.derive_if_missing(name, blank).unwrap(),
        KeySource::Derived
    );
    assert_eq!(
        cache.derive_if_missing(name, blank).unwrap(),
        KeySource::Loaded
    );

    let synthesized = SynthesizedCircuit::new(name, CubeCircuit::new(3, 27)).unwrap();
    assert_eq!(synthesized.digest(), circuit_digest(name, blank).unwrap());
    let keys = cache.load_for_proving(name).unwrap();
    let proved = synthesized
        .prove(&[Fr::from(3u64)], &keys, [7u8; 32])
        .unwrap();
    assert_eq!(
        proved.num_constraints,
        synthesized_constraints(CubeCircuit::new(3, 27))
    );

    // The wrong public input: the native check refuses the proof.
    let err = SynthesizedCircuit::new(name, CubeCircuit::new(3, 27))
        .unwrap()
        .prove(&[Fr::from(4u64)], &keys, [7u8; 32])
        .unwrap_err();
    assert!(matches!(err, Groth16Error::Rejected { .. }), "{err}");

    // A truncated proving key is refused by its hash before it is parsed; a present but broken
    // entry is never re-derived behind the caller's back.
    let pk = cache.entry_dir(name).join("proving_key.bin");
    let bytes = std::fs::read(&pk).unwrap();
    std::fs::write(&pk, &bytes[..bytes.len() / 2]).unwrap();
    let Err(err) = cache.load_for_proving(name) else {
        panic!("a truncated proving key loaded");
    };
    assert!(matches!(err, KeyError::FileHash { .. }), "{err}");
    assert_eq!(
        cache.derive_if_missing(name, blank).unwrap(),
        KeySource::Loaded
    );
    assert!(matches!(
        cache.load_for_proving(name),
        Err(KeyError::FileHash { .. })
    ));
}

fn synthesized_constraints(circuit: CubeCircuit) -> usize {
    let cs = ark_relations::gr1cs::ConstraintSystem::<Fr>::new_ref();
    cs.set_optimization_goal(ark_relations::gr1cs::OptimizationGoal::Constraints);
    circuit.generate_constraints(cs.clone()).unwrap();
    cs.finalize();
    cs.num_constraints()
}

#[test]
fn key_cache_round_trips() {
    let cache = scratch_cache("round-trip");
    let name = STAND_IN_CIRCUIT_NAME;
    assert!(matches!(
        cache.load(name, StandInCircuit::default()),
        Err(KeyError::Missing { .. })
    ));
    let derived = cache
        .load_or_derive(name, StandInCircuit::default())
        .unwrap();
    assert_eq!(derived.source, KeySource::Derived);
    let loaded = cache
        .load_or_derive(name, StandInCircuit::default())
        .unwrap();
    assert_eq!(loaded.source, KeySource::Loaded);
    assert_eq!(loaded.verifying_key, derived.verifying_key);
    assert_eq!(loaded.proving_key.vk, derived.proving_key.vk);
    assert_eq!(loaded.proving_key.a_query, derived.proving_key.a_query);
    assert_eq!(loaded.proving_key.h_query, derived.proving_key.h_query);
    assert_eq!(loaded.proving_key_hash, derived.proving_key_hash);
    assert_eq!(loaded.circuit_digest, derived.circuit_digest);
    // The manifest's vk hash is the on-chain VERIFIER_HASH().
    assert_eq!(
        loaded.verifying_key_hash,
        verifying_key_hash(&loaded.verifying_key)
    );
    // Deterministic: re-deriving from the seed gives the same keys.
    let again = derive_dev_keys(name, StandInCircuit::default()).unwrap();
    assert_eq!(again.verifying_key, derived.verifying_key);
    assert_eq!(again.proving_key_hash, derived.proving_key_hash);
}

#[test]
fn flipped_key_bytes_are_detected() {
    let cache = scratch_cache("flipped");
    let name = STAND_IN_CIRCUIT_NAME;
    cache.regenerate(name, StandInCircuit::default()).unwrap();
    for (file, offsets) in [
        ("proving_key.bin", [0usize, 100, 100_000]),
        ("verifying_key.bin", [0, 40, 1_000]),
    ] {
        let path = cache.entry_dir(name).join(file);
        for offset in offsets {
            flip_byte(&path, offset);
            let err = match cache.load_or_derive(name, StandInCircuit::default()) {
                Err(err) => err,
                Ok(_) => panic!("{file} byte {offset} flipped: load accepted it"),
            };
            assert!(
                matches!(&err, KeyError::FileHash { path: p, .. } if p == &path),
                "{file} byte {offset}: unexpected error {err}"
            );
            // Never silently replaced: still refused until regenerated on request.
            assert!(cache.load(name, StandInCircuit::default()).is_err());
            flip_byte(&path, offset);
            cache.load(name, StandInCircuit::default()).unwrap();
        }
    }
    // A corrupt file whose manifest hash was updated to match is caught by deserialization.
    let vk_path = cache.entry_dir(name).join("verifying_key.bin");
    let mut bytes = std::fs::read(&vk_path).unwrap();
    let good_hash = hex::encode(sha256(&bytes));
    bytes.truncate(bytes.len() - 1);
    std::fs::write(&vk_path, &bytes).unwrap();
    let manifest_path = cache.entry_dir(name).join("manifest.json");
    let manifest = std::fs::read_to_string(&manifest_path).unwrap();
    std::fs::write(
        &manifest_path,
        manifest.replace(&good_hash, &hex::encode(sha256(&bytes))),
    )
    .unwrap();
    let err = cache.load(name, StandInCircuit::default()).err().unwrap();
    assert!(
        matches!(err, KeyError::Corrupt { .. }),
        "unexpected error {err}"
    );
    // Regenerating on request repairs the entry.
    cache.regenerate(name, StandInCircuit::default()).unwrap();
    cache.load(name, StandInCircuit::default()).unwrap();
}

#[test]
fn changed_circuit_is_refused() {
    let cache = scratch_cache("changed");
    let name = STAND_IN_CIRCUIT_NAME;
    cache.regenerate(name, StandInCircuit::default()).unwrap();
    assert_ne!(
        circuit_digest(name, ChangedCircuit).unwrap(),
        circuit_digest(name, StandInCircuit::default()).unwrap()
    );
    let err = cache.load_or_derive(name, ChangedCircuit).err().unwrap();
    assert!(
        matches!(err, KeyError::CircuitChanged { .. }),
        "unexpected error {err}"
    );
    // A manifest for another seed label is refused too.
    let manifest_path = cache.entry_dir(name).join("manifest.json");
    let manifest = std::fs::read_to_string(&manifest_path).unwrap();
    std::fs::write(
        &manifest_path,
        manifest.replace("groth16-dev-setup/v1\"", "groth16-dev-setup/v0\""),
    )
    .unwrap();
    let err = cache.load(name, StandInCircuit::default()).err().unwrap();
    assert!(
        matches!(err, KeyError::Inconsistent { .. }),
        "unexpected error {err}"
    );
}

#[test]
fn dev_seed_is_domain_separated() {
    assert_ne!(dev_seed("a"), dev_seed("b"));
    let seed = dev_seed(CURRENT_WRAP_CIRCUIT_NAME);
    let mut expected = b"zkmips/groth16-dev-setup/v1".to_vec();
    expected.push(0);
    expected.extend_from_slice(CURRENT_WRAP_CIRCUIT_NAME.as_bytes());
    assert_eq!(seed, sha256(&expected));
}

/// The committed verifier is exactly what `zkmips export-verifier` renders from the cached keys,
/// and the committed fixture verifies against them: keys and contract cannot drift.
#[test]
fn committed_verifier_and_fixture_match_the_cached_keys() {
    let cache = KeyCache::from_env_or(repo_root().join(DEFAULT_KEYS_DIR));
    // A cache entry is the seed's derivation for the circuit digest in its manifest (the load
    // checks that digest against the current circuit); that derivation is deterministic
    // (`key_cache_round_trips`), so a fresh clone regenerates exactly these keys.
    let keys = cache
        .load_or_derive(
            CURRENT_WRAP_CIRCUIT_NAME,
            current_wrap_circuit(&cache).unwrap(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let rendered = render_dev_verifier(&keys.verifying_key).unwrap();
    let committed = std::fs::read_to_string(repo_root().join(GROTH16_VERIFIER_PATH)).unwrap();
    assert!(
        rendered == committed,
        "{GROTH16_VERIFIER_PATH} differs from the verifier of the cached keys; run \
         `zkmips export-verifier` (docs/CONTRACTS.md)"
    );
    assert!(committed.contains("NOT A TRUSTED-SETUP CEREMONY"));
    assert!(committed.contains(&hex::encode(keys.verifying_key_hash)));

    let fixture = EvmFixture::read(&repo_root().join(EVM_FIXTURE_PATH)).unwrap();
    assert_eq!(fixture.vkey_hash, keys.verifying_key_hash);
    fixture
        .verify(&keys.verifying_key)
        .expect("the committed fixture verifies against the cached keys");
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).into()
}
