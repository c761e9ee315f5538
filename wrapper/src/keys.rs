//! Groth16 keys of the wrap circuit: derived from a PUBLIC deterministic dev seed, cached on disk,
//! and checked by hash on every load.
//!
//! **These are development keys, NOT the output of a trusted-setup ceremony.** The setup
//! randomness ("toxic waste") comes from [`dev_seed`], which anyone can recompute, so anyone
//! can forge proofs under these keys. They exist so that the Solidity verifier, the fixtures and
//! the tests are reproducible bit for bit; a production deployment needs keys from a real
//! multi-party ceremony.
//!
//! A cache entry is a directory `<keys dir>/<circuit name>/` holding
//! - `proving_key.bin`, `verifying_key.bin`: arkworks *compressed* serializations;
//! - `manifest.json`: circuit name, circuit digest ([`circuit_digest`]), seed label, and the
//!   sha256 of both key files (the verifying-key hash is also `VERIFIER_HASH()` on chain).
//!
//! Loading recomputes the file hashes and the circuit digest and refuses any mismatch (a
//! corrupt file, or a circuit that changed since the keys were derived) with an error naming
//! the file; [`KeyCache::regenerate`] re-derives on request. The hashes catch corruption and
//! stale keys, not an attacker who can write the directory (they can rewrite the manifest too).
//!
//! Derivation is deterministic, so concurrent writers of one entry write identical bytes; files
//! are written to a temporary name and renamed, the manifest last.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use ark_bn254::{Bn254, Fr};
use ark_ff::PrimeField;
use ark_groth16::{Groth16, ProvingKey, VerifyingKey};
use ark_r1cs_std::alloc::AllocVar;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::fp::FpVar;
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, ConstraintSystemRef, OptimizationGoal, SynthesisError,
    SynthesisMode,
};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize, Compress, Validate};
use ark_snark::SNARK;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::solidity::{RenderError, render_groth16_verifier, verifying_key_hash};

/// Label of the dev seed derivation; part of every manifest. Bump the version to change keys.
pub const DEV_SEED_LABEL: &str = "zkmips/groth16-dev-setup/v1";

/// Environment variable overriding the key directory.
pub const KEYS_DIR_ENV: &str = "ZKMIPS_KEYS_DIR";

/// Default key directory (relative to the working directory) when `ZKMIPS_KEYS_DIR` is unset.
pub const DEFAULT_KEYS_DIR: &str = "target/zkmips-keys";

const PROVING_KEY_FILE: &str = "proving_key.bin";
const VERIFYING_KEY_FILE: &str = "verifying_key.bin";
const MANIFEST_FILE: &str = "manifest.json";
/// Format 2: the proving key is stored uncompressed and loaded without curve checks (its
/// SHA-256 is checked instead): decompressing and subgroup-checking the millions of points of a
/// real circuit's key took longer than deriving it. A wrong proving key can only produce proofs
/// the (checked) verifying key rejects, and every proof is verified before it is returned.
const MANIFEST_FORMAT: u64 = 2;

/// Prepended to generated Solidity and printed by `zkmips export-verifier`.
pub const DEV_KEYS_WARNING: &str = "DEVELOPMENT KEYS from a public deterministic seed \
(zkmips/groth16-dev-setup/v1): NOT a trusted-setup ceremony. Anyone can forge proofs for this \
verifier. Never deploy it where a proof must mean something.";

/// The circuit `zkmips export-verifier`, `zkmips prove --evm` and the EVM tests use: Groth16
/// over the shrink proof of the recursion path ([`crate::evm_prover`]), one circuit for every
/// guest program.
pub const CURRENT_WRAP_CIRCUIT_NAME: &str = crate::evm_prover::COMPRESSED_WRAP_CIRCUIT_NAME;

/// A blank (setup-mode) instance of the current wrap circuit. Building it needs the shrink
/// program's fixed tables, read from (or committed once and written to) the circuit's entry in
/// `cache`.
pub fn current_wrap_circuit(
    cache: &KeyCache,
) -> Result<crate::verifier::compressed::CompressedWrapCircuit, KeyError> {
    let synthesis = |reason: String| KeyError::Synthesis {
        circuit: CURRENT_WRAP_CIRCUIT_NAME.to_string(),
        reason,
    };
    let (prover, _) =
        crate::evm_prover::EvmProver::production(cache).map_err(|e| synthesis(e.to_string()))?;
    prover.blank_circuit().map_err(|e| synthesis(e.to_string()))
}

/// Name of [`StandInCircuit`] in the key cache.
pub const STAND_IN_CIRCUIT_NAME: &str = "stand-in-cube-v1";

/// A small circuit with the wrap circuit's public-input layout, for tests of the key cache
/// (deriving keys of the real circuit takes minutes).
///
/// Stand-in statement with the real wrap circuit's public-input layout
/// `[programVKey, publicValuesDigest]`: the prover knows `cube = (programVKey + digest)^3`.
/// Both public inputs are bound by a constraint, so a proof verifies for exactly one input pair.
/// It proves nothing about any execution.
#[derive(Clone, Default)]
pub struct StandInCircuit {
    pub program_vkey: Option<Fr>,
    pub public_values_digest: Option<Fr>,
}

impl ConstraintSynthesizer<Fr> for StandInCircuit {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let program_vkey = FpVar::new_input(cs.clone(), || {
            self.program_vkey.ok_or(SynthesisError::AssignmentMissing)
        })?;
        let digest = FpVar::new_input(cs.clone(), || {
            self.public_values_digest
                .ok_or(SynthesisError::AssignmentMissing)
        })?;
        let cube = FpVar::new_witness(cs.clone(), || {
            let sum = self.program_vkey.ok_or(SynthesisError::AssignmentMissing)?
                + self
                    .public_values_digest
                    .ok_or(SynthesisError::AssignmentMissing)?;
            Ok(sum * sum * sum)
        })?;
        let sum = &program_vkey + &digest;
        cube.enforce_equal(&(&sum * &sum * &sum))
    }
}

/// Why keys could not be loaded, derived or stored.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("synthesizing circuit `{circuit}` failed: {reason}")]
    Synthesis { circuit: String, reason: String },
    #[error("Groth16 setup of circuit `{circuit}` failed: {reason}")]
    Setup { circuit: String, reason: String },
    #[error("no cached keys for circuit `{circuit}` in {dir}")]
    Missing { circuit: String, dir: PathBuf },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: malformed manifest: {reason}")]
    Manifest { path: PathBuf, reason: String },
    #[error(
        "{path}: sha256 is {actual} but the manifest records {expected}: the key file is corrupt \
         or was replaced (re-derive with `zkmips export-verifier --regenerate-keys`)"
    )]
    FileHash {
        path: PathBuf,
        expected: String,
        actual: String,
    },
    #[error(
        "{path}: keys were derived for circuit digest {cached}, but circuit `{circuit}` now has \
         digest {current}: the circuit changed (re-derive with `--regenerate-keys`)"
    )]
    CircuitChanged {
        path: PathBuf,
        circuit: String,
        cached: String,
        current: String,
    },
    #[error("{path}: {reason}")]
    Inconsistent { path: PathBuf, reason: String },
    #[error("{path}: cannot deserialize the key: {reason}")]
    Corrupt { path: PathBuf, reason: String },
}

/// Where a [`CircuitKeys`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    /// Read from the cache and checked.
    Loaded,
    /// Derived from the dev seed (and written to the cache).
    Derived,
}

/// A circuit's Groth16 keys together with what identifies them.
#[derive(Clone)]
pub struct CircuitKeys {
    pub circuit: String,
    pub circuit_digest: [u8; 32],
    pub proving_key: ProvingKey<Bn254>,
    pub verifying_key: VerifyingKey<Bn254>,
    /// sha256 of the compressed verifying key (= [`verifying_key_hash`], `VERIFIER_HASH()`).
    pub verifying_key_hash: [u8; 32],
    pub proving_key_hash: [u8; 32],
    pub source: KeySource,
}

/// The ChaCha20 seed of circuit `circuit`'s dev setup: `sha256(DEV_SEED_LABEL ‖ 0x00 ‖ circuit)`.
/// Public by design (see the module docs).
pub fn dev_seed(circuit: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(DEV_SEED_LABEL.as_bytes());
    hasher.update([0u8]);
    hasher.update(circuit.as_bytes());
    hasher.finalize().into()
}

/// A digest of the circuit's shape after synthesis exactly as the Groth16 generator does it
/// (setup mode, constraint-optimised, finalized): variable and constraint counts and every
/// coefficient and variable index of every constraint matrix. Any change to the constraints
/// changes it.
pub fn circuit_digest<C: ConstraintSynthesizer<Fr>>(
    name: &str,
    circuit: C,
) -> Result<[u8; 32], KeyError> {
    let synthesis = |reason: String| KeyError::Synthesis {
        circuit: name.to_string(),
        reason,
    };
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    cs.set_mode(SynthesisMode::Setup);
    circuit
        .generate_constraints(cs.clone())
        .map_err(|e| synthesis(e.to_string()))?;
    cs.finalize();
    let matrices = cs.to_matrices().map_err(|e| synthesis(e.to_string()))?;
    Ok(synthesized_circuit_digest(&cs, &matrices))
}

/// The constraint matrices of a synthesized circuit, by predicate label.
pub type CircuitMatrices =
    std::collections::BTreeMap<String, Vec<ark_relations::gr1cs::Matrix<Fr>>>;

/// [`circuit_digest`] of a finalized constraint system and its `matrices` (setup mode, or prove
/// mode with `construct_matrices`: the matrices do not depend on the witness), so a prover can
/// check its keys against the synthesis it does anyway.
pub fn synthesized_circuit_digest(
    cs: &ConstraintSystemRef<Fr>,
    matrices: &CircuitMatrices,
) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"zkmips/circuit-digest/v1\0");
    for count in [
        cs.num_instance_variables(),
        cs.num_witness_variables(),
        cs.num_constraints(),
        matrices.len(),
    ] {
        hasher.update((count as u64).to_le_bytes());
    }
    for (label, predicate) in matrices {
        hasher.update((label.len() as u64).to_le_bytes());
        hasher.update(label.as_bytes());
        hasher.update((predicate.len() as u64).to_le_bytes());
        for matrix in predicate {
            hasher.update((matrix.len() as u64).to_le_bytes());
            for row in matrix {
                hasher.update((row.len() as u64).to_le_bytes());
                for (coeff, index) in row {
                    hasher.update(coeff.into_bigint().0.map(u64::to_le_bytes).concat());
                    hasher.update((*index as u64).to_le_bytes());
                }
            }
        }
    }
    hasher.finalize().into()
}

/// Derives the dev keys of a circuit (no cache involved).
pub fn derive_dev_keys<C: ConstraintSynthesizer<Fr> + Clone>(
    name: &str,
    circuit: C,
) -> Result<CircuitKeys, KeyError> {
    let circuit_digest = circuit_digest(name, circuit.clone())?;
    let mut rng = ChaCha20Rng::from_seed(dev_seed(name));
    let (proving_key, verifying_key) = Groth16::<Bn254>::circuit_specific_setup(circuit, &mut rng)
        .map_err(|e| KeyError::Setup {
            circuit: name.to_string(),
            reason: e.to_string(),
        })?;
    Ok(CircuitKeys {
        circuit: name.to_string(),
        circuit_digest,
        verifying_key_hash: verifying_key_hash(&verifying_key),
        proving_key_hash: Sha256::digest(uncompressed(&proving_key)).into(),
        proving_key,
        verifying_key,
        source: KeySource::Derived,
    })
}

/// The generated Solidity verifier for dev keys: [`render_groth16_verifier`] with a header
/// saying these are not ceremony keys. This is what `contracts/src/Groth16Verifier.sol` holds.
pub fn render_dev_verifier(vk: &VerifyingKey<Bn254>) -> Result<String, RenderError> {
    let rendered = render_groth16_verifier(vk)?;
    let mut out = String::new();
    out.push_str(
        "// !!! DEVELOPMENT KEYS: NOT A TRUSTED-SETUP CEREMONY !!!\n\
         // The Groth16 keys behind this verifier come from a PUBLIC deterministic seed\n",
    );
    let _ = writeln!(
        out,
        "// ({DEV_SEED_LABEL}, wrapper/src/keys.rs): anyone can forge proofs for it.\n\
         // Never deploy it where a proof must mean something.\n\
         // Regenerate with `zkmips export-verifier` (docs/CONTRACTS.md)."
    );
    out.push_str(&rendered);
    Ok(out)
}

/// An on-disk key cache: one subdirectory per circuit name (see the module docs).
#[derive(Debug, Clone)]
pub struct KeyCache {
    dir: PathBuf,
}

impl KeyCache {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// `$ZKMIPS_KEYS_DIR` if set, else `default`.
    pub fn from_env_or(default: impl Into<PathBuf>) -> Self {
        match std::env::var_os(KEYS_DIR_ENV) {
            Some(dir) if !dir.is_empty() => Self::new(dir),
            _ => Self::new(default),
        }
    }

    /// `$ZKMIPS_KEYS_DIR` if set, else [`DEFAULT_KEYS_DIR`] under the working directory.
    pub fn from_env() -> Self {
        Self::from_env_or(DEFAULT_KEYS_DIR)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The directory holding circuit `name`'s files.
    pub fn entry_dir(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Cached keys if present and valid; derives and stores them if absent. A present but
    /// invalid entry (corrupt file, changed circuit) is an error: it is never silently replaced.
    pub fn load_or_derive<C: ConstraintSynthesizer<Fr> + Clone>(
        &self,
        name: &str,
        circuit: C,
    ) -> Result<CircuitKeys, KeyError> {
        match self.load(name, circuit.clone()) {
            Err(KeyError::Missing { .. }) => self.regenerate(name, circuit),
            other => other,
        }
    }

    /// Derives the keys from the dev seed and overwrites the cache entry.
    pub fn regenerate<C: ConstraintSynthesizer<Fr> + Clone>(
        &self,
        name: &str,
        circuit: C,
    ) -> Result<CircuitKeys, KeyError> {
        validate_name(name)?;
        let keys = derive_dev_keys(name, circuit)?;
        let entry = self.entry_dir(name);
        std::fs::create_dir_all(&entry).map_err(|source| KeyError::Io {
            path: entry.clone(),
            source,
        })?;
        write_atomic(
            &entry.join(PROVING_KEY_FILE),
            &uncompressed(&keys.proving_key),
        )?;
        write_atomic(
            &entry.join(VERIFYING_KEY_FILE),
            &compressed(&keys.verifying_key),
        )?;
        let manifest = json!({
            "format": MANIFEST_FORMAT,
            "circuit": name,
            "circuitDigest": hex::encode(keys.circuit_digest),
            "seedLabel": DEV_SEED_LABEL,
            "provingKeySha256": hex::encode(keys.proving_key_hash),
            "verifyingKeySha256": hex::encode(keys.verifying_key_hash),
            "warning": DEV_KEYS_WARNING,
        });
        let text = serde_json::to_string_pretty(&manifest).expect("a JSON value serializes");
        write_atomic(&entry.join(MANIFEST_FILE), format!("{text}\n").as_bytes())?;
        Ok(keys)
    }

    /// Loads and checks circuit `name`'s cached keys: manifest fields, the circuit digest of
    /// `circuit` (a blank instance), both file hashes, canonical deserialization with curve and
    /// subgroup checks, and that the proving key embeds the verifying key.
    pub fn load<C: ConstraintSynthesizer<Fr>>(
        &self,
        name: &str,
        circuit: C,
    ) -> Result<CircuitKeys, KeyError> {
        let current = circuit_digest(name, circuit)?;
        self.load_entry(name, Some(current))
    }

    /// [`KeyCache::load_or_derive`] for a prover: a cached entry is loaded with every check
    /// but the circuit digest, which [`crate::groth16::prove`] checks on the synthesis it does
    /// anyway (one synthesis of a multi-million-constraint circuit instead of two).
    pub fn load_or_derive_for_proving<C: ConstraintSynthesizer<Fr> + Clone>(
        &self,
        name: &str,
        circuit: C,
    ) -> Result<CircuitKeys, KeyError> {
        match self.load_entry(name, None) {
            Err(KeyError::Missing { .. }) => self.regenerate(name, circuit),
            other => other,
        }
    }

    /// Derives and stores circuit `name`'s keys if the cache has no entry for it, without keeping
    /// them: a prover that synthesizes its witness first ([`crate::groth16::SynthesizedCircuit`])
    /// loads them afterwards with [`KeyCache::load_for_proving`], so the proving key and the
    /// synthesis never occupy memory together. A present entry is left to that load to check.
    pub fn derive_if_missing<C: ConstraintSynthesizer<Fr> + Clone>(
        &self,
        name: &str,
        circuit: C,
    ) -> Result<KeySource, KeyError> {
        validate_name(name)?;
        if self.entry_dir(name).join(MANIFEST_FILE).exists() {
            return Ok(KeySource::Loaded);
        }
        self.regenerate(name, circuit)?;
        Ok(KeySource::Derived)
    }

    /// Loads circuit `name`'s cached keys with every check but the circuit digest, which the
    /// prover compares with its own synthesis ([`crate::groth16::SynthesizedCircuit::prove`]).
    pub fn load_for_proving(&self, name: &str) -> Result<CircuitKeys, KeyError> {
        self.load_entry(name, None)
    }

    /// Loads circuit `name`'s entry; `current` is the circuit's digest when the caller computed
    /// it (else the returned keys carry the manifest's digest, to be checked by the prover).
    fn load_entry(&self, name: &str, current: Option<[u8; 32]>) -> Result<CircuitKeys, KeyError> {
        validate_name(name)?;
        let entry = self.entry_dir(name);
        let manifest_path = entry.join(MANIFEST_FILE);
        let manifest_text = match std::fs::read_to_string(&manifest_path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(KeyError::Missing {
                    circuit: name.to_string(),
                    dir: entry,
                });
            }
            Err(source) => {
                return Err(KeyError::Io {
                    path: manifest_path,
                    source,
                });
            }
        };
        let manifest = Manifest::parse(&manifest_path, &manifest_text)?;
        let inconsistent = |reason: String| KeyError::Inconsistent {
            path: manifest_path.clone(),
            reason,
        };
        if manifest.format != MANIFEST_FORMAT {
            return Err(inconsistent(format!(
                "manifest format {} (this build reads {MANIFEST_FORMAT})",
                manifest.format
            )));
        }
        if manifest.circuit != name {
            return Err(inconsistent(format!(
                "manifest is for circuit `{}`, expected `{name}`",
                manifest.circuit
            )));
        }
        if manifest.seed_label != DEV_SEED_LABEL {
            return Err(inconsistent(format!(
                "keys were derived with seed label `{}`, this build uses `{DEV_SEED_LABEL}`",
                manifest.seed_label
            )));
        }
        if let Some(current) = current
            && manifest.circuit_digest != current
        {
            return Err(KeyError::CircuitChanged {
                path: manifest_path,
                circuit: name.to_string(),
                cached: hex::encode(manifest.circuit_digest),
                current: hex::encode(current),
            });
        }
        let pk_path = entry.join(PROVING_KEY_FILE);
        let vk_path = entry.join(VERIFYING_KEY_FILE);
        check_file_hash(&pk_path, &manifest.proving_key_sha256)?;
        check_file_hash(&vk_path, &manifest.verifying_key_sha256)?;
        let proving_key: ProvingKey<Bn254> =
            deserialize_file(&pk_path, Compress::No, Validate::No)?;
        let verifying_key: VerifyingKey<Bn254> =
            deserialize_file(&vk_path, Compress::Yes, Validate::Yes)?;
        if proving_key.vk != verifying_key {
            return Err(KeyError::Inconsistent {
                path: pk_path,
                reason: format!(
                    "the proving key embeds a different verifying key than {}",
                    vk_path.display()
                ),
            });
        }
        Ok(CircuitKeys {
            circuit: name.to_string(),
            circuit_digest: manifest.circuit_digest,
            proving_key,
            verifying_key,
            verifying_key_hash: manifest.verifying_key_sha256,
            proving_key_hash: manifest.proving_key_sha256,
            source: KeySource::Loaded,
        })
    }
}

struct Manifest {
    format: u64,
    circuit: String,
    circuit_digest: [u8; 32],
    seed_label: String,
    proving_key_sha256: [u8; 32],
    verifying_key_sha256: [u8; 32],
}

impl Manifest {
    fn parse(path: &Path, text: &str) -> Result<Self, KeyError> {
        let bad = |reason: String| KeyError::Manifest {
            path: path.to_path_buf(),
            reason,
        };
        let value: Value = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        let string = |field: &str| {
            value
                .get(field)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| bad(format!("field `{field}` is missing or not a string")))
        };
        let hash = |field: &str| -> Result<[u8; 32], KeyError> {
            let text = string(field)?;
            let bytes = hex::decode(&text).map_err(|e| bad(format!("field `{field}`: {e}")))?;
            bytes
                .try_into()
                .map_err(|_| bad(format!("field `{field}` is not 32 bytes of hex")))
        };
        Ok(Self {
            format: value
                .get("format")
                .and_then(Value::as_u64)
                .ok_or_else(|| bad("field `format` is missing or not an integer".into()))?,
            circuit: string("circuit")?,
            circuit_digest: hash("circuitDigest")?,
            seed_label: string("seedLabel")?,
            proving_key_sha256: hash("provingKeySha256")?,
            verifying_key_sha256: hash("verifyingKeySha256")?,
        })
    }
}

/// Circuit names become directory names: keep them to a safe alphabet.
fn validate_name(name: &str) -> Result<(), KeyError> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(KeyError::Synthesis {
            circuit: name.to_string(),
            reason: "circuit names may only use ASCII letters, digits, '-', '_' and '.'".into(),
        })
    }
}

fn compressed<T: CanonicalSerialize>(value: &T) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(value.serialized_size(Compress::Yes));
    value
        .serialize_compressed(&mut bytes)
        .expect("serializing into a Vec cannot fail");
    bytes
}

fn uncompressed<T: CanonicalSerialize>(value: &T) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(value.serialized_size(Compress::No));
    value
        .serialize_uncompressed(&mut bytes)
        .expect("serializing into a Vec cannot fail");
    bytes
}

/// Deserializes a whole file through a buffer: the proving key (about a gigabyte for the EVM
/// circuit) is never held twice, as bytes and as points. The file's hash is checked first
/// ([`check_file_hash`]), so only a file written by [`KeyCache::regenerate`] gets here.
fn deserialize_file<T: CanonicalDeserialize>(
    path: &Path,
    compress: Compress,
    validate: Validate,
) -> Result<T, KeyError> {
    let io = |source| KeyError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut reader = std::io::BufReader::new(std::fs::File::open(path).map_err(io)?);
    let value = T::deserialize_with_mode(&mut reader, compress, validate).map_err(|e| {
        KeyError::Corrupt {
            path: path.to_path_buf(),
            reason: e.to_string(),
        }
    })?;
    let trailing = std::io::copy(&mut reader, &mut std::io::sink()).map_err(io)?;
    if trailing != 0 {
        return Err(KeyError::Corrupt {
            path: path.to_path_buf(),
            reason: format!("{trailing} trailing bytes"),
        });
    }
    Ok(value)
}

/// Checks a file's SHA-256 against the manifest, streaming it.
fn check_file_hash(path: &Path, expected: &[u8; 32]) -> Result<(), KeyError> {
    let io = |source| KeyError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut hasher = Sha256::new();
    std::io::copy(&mut std::fs::File::open(path).map_err(io)?, &mut hasher).map_err(io)?;
    let actual: [u8; 32] = hasher.finalize().into();
    if &actual != expected {
        return Err(KeyError::FileHash {
            path: path.to_path_buf(),
            expected: hex::encode(expected),
            actual: hex::encode(actual),
        });
    }
    Ok(())
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), KeyError> {
    let io = |source| KeyError::Io {
        path: path.to_path_buf(),
        source,
    };
    // Unique per process and call, so concurrent writers never share a temporary file.
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_extension(format!("tmp.{}.{n}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}
