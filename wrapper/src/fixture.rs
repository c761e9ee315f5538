//! Foundry fixtures: one JSON file per proof, read by the forge tests in `contracts/test/`
//! (`vm.parseJsonBytes32` / `vm.parseJsonBytes`). All values are `0x`-prefixed hex strings:
//!
//! | key | value |
//! |---|---|
//! | `programVKey` | bytes32, first argument of `verifyProof` |
//! | `publicValues` | the raw committed bytes |
//! | `proof` | `proofBytes`: 4-byte selector ‖ 256-byte Groth16 proof |
//! | `vkeyHash` | `VERIFIER_HASH()`: sha256 of the Groth16 verifying key |
//! | `publicValuesDigest` | sha256(publicValues) with the top 3 bits cleared |
//! | `note` | free text: where the proof comes from |

use std::path::Path;

use ark_bn254::Bn254;
use ark_groth16::{Proof, VerifyingKey};
use serde_json::{Map, Value};

use crate::solidity::{
    EncodingError, encode_proof_bytes, public_values_digest, verify_proof_bytes, verifying_key_hash,
};

/// Everything a forge test or an application needs to verify one proof on chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvmFixture {
    pub program_vkey: [u8; 32],
    pub public_values: Vec<u8>,
    /// `proofBytes` (selector ‖ proof).
    pub proof_bytes: Vec<u8>,
    /// `VERIFIER_HASH()` of the verifying key the proof is for.
    pub vkey_hash: [u8; 32],
    pub note: String,
}

/// Why a fixture could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    #[error("fixture JSON is malformed: {0}")]
    Json(#[from] serde_json::Error),
    #[error("fixture field `{field}` is missing or not a string")]
    MissingField { field: &'static str },
    #[error("fixture field `{field}` is not 0x-prefixed hex: {reason}")]
    BadHex { field: &'static str, reason: String },
    #[error("fixture field `{field}` must be {expected} bytes, found {actual}")]
    BadLength {
        field: &'static str,
        expected: usize,
        actual: usize,
    },
    #[error(
        "fixture field `publicValuesDigest` 0x{found} does not match sha256(publicValues) masked, 0x{expected}"
    )]
    DigestMismatch { found: String, expected: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("fixture proof does not verify: {0}")]
    Invalid(#[from] EncodingError),
}

impl EvmFixture {
    /// A fixture for `proof` under `vk` of the statement (`program_vkey`, `public_values`).
    pub fn new(
        vk: &VerifyingKey<Bn254>,
        proof: &Proof<Bn254>,
        program_vkey: [u8; 32],
        public_values: Vec<u8>,
        note: impl Into<String>,
    ) -> Self {
        Self {
            program_vkey,
            public_values,
            proof_bytes: encode_proof_bytes(vk, proof),
            vkey_hash: verifying_key_hash(vk),
            note: note.into(),
        }
    }

    /// Checks the fixture natively, exactly as the contract would (selector, encoding, pairing).
    pub fn verify(&self, vk: &VerifyingKey<Bn254>) -> Result<(), EncodingError> {
        verify_proof_bytes(
            vk,
            &self.program_vkey,
            &self.public_values,
            &self.proof_bytes,
        )
    }

    /// The JSON text (keys as in the module docs), ending in a newline.
    pub fn to_json(&self) -> String {
        let hex0x = |bytes: &[u8]| Value::String(format!("0x{}", hex::encode(bytes)));
        let mut object = Map::new();
        object.insert("note".into(), Value::String(self.note.clone()));
        object.insert("programVKey".into(), hex0x(&self.program_vkey));
        object.insert("publicValues".into(), hex0x(&self.public_values));
        object.insert(
            "publicValuesDigest".into(),
            hex0x(&public_values_digest(&self.public_values)),
        );
        object.insert("proof".into(), hex0x(&self.proof_bytes));
        object.insert("vkeyHash".into(), hex0x(&self.vkey_hash));
        let mut text = serde_json::to_string_pretty(&Value::Object(object))
            .expect("a JSON object of strings serializes");
        text.push('\n');
        text
    }

    /// Parses [`Self::to_json`] output; checks lengths and the redundant digest field.
    pub fn from_json(text: &str) -> Result<Self, FixtureError> {
        let value: Value = serde_json::from_str(text)?;
        let field = |name: &'static str| -> Result<&str, FixtureError> {
            value
                .get(name)
                .and_then(Value::as_str)
                .ok_or(FixtureError::MissingField { field: name })
        };
        let bytes = |name: &'static str| -> Result<Vec<u8>, FixtureError> {
            let text = field(name)?;
            let digits = text.strip_prefix("0x").ok_or(FixtureError::BadHex {
                field: name,
                reason: "missing 0x prefix".into(),
            })?;
            hex::decode(digits).map_err(|e| FixtureError::BadHex {
                field: name,
                reason: e.to_string(),
            })
        };
        let bytes32 = |name: &'static str| -> Result<[u8; 32], FixtureError> {
            let b = bytes(name)?;
            b.as_slice()
                .try_into()
                .map_err(|_| FixtureError::BadLength {
                    field: name,
                    expected: 32,
                    actual: b.len(),
                })
        };
        let fixture = Self {
            program_vkey: bytes32("programVKey")?,
            public_values: bytes("publicValues")?,
            proof_bytes: bytes("proof")?,
            vkey_hash: bytes32("vkeyHash")?,
            note: field("note")?.to_string(),
        };
        let found = bytes32("publicValuesDigest")?;
        let expected = public_values_digest(&fixture.public_values);
        if found != expected {
            return Err(FixtureError::DigestMismatch {
                found: hex::encode(found),
                expected: hex::encode(expected),
            });
        }
        Ok(fixture)
    }

    /// Writes the JSON to `path`, creating parent directories.
    pub fn write(&self, path: &Path) -> Result<(), FixtureError> {
        let io = |source| FixtureError::Io {
            path: path.display().to_string(),
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        std::fs::write(path, self.to_json()).map_err(io)
    }

    /// Reads and parses a fixture file.
    pub fn read(path: &Path) -> Result<Self, FixtureError> {
        let text = std::fs::read_to_string(path).map_err(|source| FixtureError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_json(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> EvmFixture {
        EvmFixture {
            program_vkey: [7; 32],
            public_values: vec![1, 2, 3],
            proof_bytes: vec![0xab; 260],
            vkey_hash: [9; 32],
            note: "sample".into(),
        }
    }

    #[test]
    fn json_round_trips() {
        let fixture = sample();
        assert_eq!(EvmFixture::from_json(&fixture.to_json()).unwrap(), fixture);
    }

    #[test]
    fn json_rejects_wrong_digest_and_lengths() {
        let text = sample().to_json();
        let digest = hex::encode(public_values_digest(&[1, 2, 3]));
        let tampered = text.replace(&digest, &"00".repeat(32));
        assert!(matches!(
            EvmFixture::from_json(&tampered),
            Err(FixtureError::DigestMismatch { .. })
        ));
        let short = text.replace(&format!("0x{}", "07".repeat(32)), "0x0707");
        assert!(matches!(
            EvmFixture::from_json(&short),
            Err(FixtureError::BadLength {
                field: "programVKey",
                ..
            })
        ));
        assert!(matches!(
            EvmFixture::from_json("{}"),
            Err(FixtureError::MissingField { .. })
        ));
    }
}
