//! The on-chain side of a Groth16 (BN254) proof: the generated Solidity verifier and the exact
//! byte encodings `contracts/src/ZkmipsVerifier.sol` expects (docs/CONTRACTS.md).
//!
//! - Verifier contract: rendered from a [`VerifyingKey`] by `taceo-groth16-sol` (the gnark-style
//!   template: one `0x08` pairing call, `0x06`/`0x07` for the public-input sum), renamed to
//!   `Groth16Verifier`, plus a file-level `GROTH16_VERIFYING_KEY_HASH` constant.
//! - Verifying-key hash: sha256 of the key's arkworks *compressed* serialization. Its first
//!   4 bytes are the selector every proof starts with.
//! - Proof bytes: `selector ‖ A.x ‖ A.y ‖ B.x.c1 ‖ B.x.c0 ‖ B.y.c1 ‖ B.y.c0 ‖ C.x ‖ C.y`, each
//!   coordinate a 32-byte big-endian word (EIP-197 order: G2 coordinates imaginary part first);
//!   260 bytes.
//! - Public inputs, in order: `programVKey` read as a big-endian integer (must be < r), then
//!   `sha256(publicValues)` with the top 3 bits cleared (always < r, since r > 2^253).

use ark_bn254::{Bn254, Fq, Fq2, Fr, G1Affine, G2Affine};
use ark_ff::{BigInt, BigInteger, PrimeField, Zero};
use ark_groth16::{Groth16, Proof, VerifyingKey};
use ark_serialize::CanonicalSerialize;
use ark_snark::SNARK;
use sha2::{Digest, Sha256};
use taceo_groth16_sol::askama::Template;
use taceo_groth16_sol::{SolidityVerifierConfig, SolidityVerifierContext};

/// Where the committed, generated verifier lives (relative to the repository root).
pub const GROTH16_VERIFIER_PATH: &str = "contracts/src/Groth16Verifier.sol";

/// Length of an encoded Groth16 proof without the selector: 8 coordinates of 32 bytes.
pub const GROTH16_PROOF_LEN: usize = 8 * 32;

/// Length of `proofBytes` as `ZkmipsVerifier.verifyProof` takes it: selector + proof.
pub const PROOF_BYTES_LEN: usize = 4 + GROTH16_PROOF_LEN;

/// Solidity pragma of the generated verifier (custom errors and calldata slices need 0.8.x).
const SOLIDITY_PRAGMA: &str = "^0.8.20";

/// The template's contract name and the name zkmips gives it.
const TEMPLATE_CONTRACT: &str = "contract Verifier {";
const GENERATED_CONTRACT: &str = "contract Groth16Verifier {";

/// Why encoded proof data was rejected (mirrors the reasons the Solidity verifier reverts).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodingError {
    #[error("proof bytes are {actual} bytes long, expected {expected} (4-byte selector + 256)")]
    ProofLength { actual: usize, expected: usize },
    #[error(
        "proof selector 0x{received} does not match this verifying key's selector 0x{expected}"
    )]
    WrongSelector { received: String, expected: String },
    #[error("proof coordinate {index} (of 8) is not below the BN254 base-field modulus")]
    CoordinateNotInField { index: usize },
    #[error("proof point {point} is not on its curve or not in the prime-order subgroup")]
    PointNotOnCurve { point: &'static str },
    #[error("programVKey 0x{0} is not below the BN254 scalar-field modulus r")]
    ProgramVKeyNotInField(String),
    #[error("the Groth16 pairing check failed: the proof is not valid for these public inputs")]
    ProofInvalid,
    #[error("Groth16 verification error: {0}")]
    Groth16(String),
}

/// Why the verifier contract could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("rendering the taceo-groth16-sol template failed: {0}")]
    Template(String),
    #[error("the verifying key has no public inputs (gamma_abc_g1 has {0} entries)")]
    NoPublicInputs(usize),
    #[error("the template output changed shape: expected exactly one `{0}`")]
    UnexpectedTemplate(&'static str),
}

/// sha256 of the verifying key's arkworks compressed serialization: `VERIFIER_HASH()` on chain.
pub fn verifying_key_hash(vk: &VerifyingKey<Bn254>) -> [u8; 32] {
    let mut bytes = Vec::new();
    vk.serialize_compressed(&mut bytes)
        .expect("serializing into a Vec cannot fail");
    Sha256::digest(&bytes).into()
}

/// The 4-byte selector proofs for `vk` start with: the first bytes of [`verifying_key_hash`].
pub fn verifier_selector(vk: &VerifyingKey<Bn254>) -> [u8; 4] {
    let hash = verifying_key_hash(vk);
    [hash[0], hash[1], hash[2], hash[3]]
}

/// Renders `contracts/src/Groth16Verifier.sol` for `vk`: the generated contract
/// `Groth16Verifier` with `verifyProof(uint256[8] proof, uint256[N] input)` (reverts with
/// `ProofInvalid` / `PublicInputNotInField`), and the file-level `GROTH16_VERIFYING_KEY_HASH`.
pub fn render_groth16_verifier(vk: &VerifyingKey<Bn254>) -> Result<String, RenderError> {
    // The template reads vk.gamma_abc_g1[0] (constant term) and one point per public input.
    if vk.gamma_abc_g1.len() < 2 {
        return Err(RenderError::NoPublicInputs(vk.gamma_abc_g1.len()));
    }
    let context = SolidityVerifierContext {
        vk: vk.clone(),
        config: SolidityVerifierConfig {
            pragma_version: SOLIDITY_PRAGMA.to_string(),
        },
    };
    let rendered = context
        .render()
        .map_err(|e| RenderError::Template(e.to_string()))?;
    if rendered.matches(TEMPLATE_CONTRACT).count() != 1 {
        return Err(RenderError::UnexpectedTemplate(TEMPLATE_CONTRACT));
    }
    let pragma_line = format!("pragma solidity {SOLIDITY_PRAGMA};");
    if rendered.matches(&pragma_line).count() != 1 {
        return Err(RenderError::UnexpectedTemplate("pragma solidity"));
    }
    let body = rendered.replacen(TEMPLATE_CONTRACT, GENERATED_CONTRACT, 1);
    let hash_constant = format!(
        "{pragma_line}\n\n\
         // sha256 of the Groth16 verifying key (arkworks compressed serialization). Proofs for this\n\
         // verifier start with its first 4 bytes; `ZkmipsVerifier.VERIFIER_HASH()` returns it.\n\
         bytes32 constant GROTH16_VERIFYING_KEY_HASH = 0x{};",
        hex::encode(verifying_key_hash(vk))
    );
    let body = body.replacen(&pragma_line, &hash_constant, 1);
    // askama drops the final newline.
    Ok(format!(
        "// GENERATED by zkmips-wrapper (wrapper/src/solidity.rs) from a Groth16 verifying key with\n\
         // {} public inputs, using the taceo-groth16-sol template. Do not edit; regenerate instead\n\
         // (docs/CONTRACTS.md).\n{}\n",
        vk.gamma_abc_g1.len() - 1,
        body.trim_end()
    ))
}

/// The 256-byte EIP-197 encoding of a proof (see the module docs).
pub fn encode_groth16_proof(proof: &Proof<Bn254>) -> [u8; GROTH16_PROOF_LEN] {
    let words = taceo_groth16_sol::prepare_uncompressed_proof(proof);
    let mut out = [0u8; GROTH16_PROOF_LEN];
    for (chunk, word) in out.chunks_exact_mut(32).zip(words.iter()) {
        chunk.copy_from_slice(&word.to_be_bytes::<32>());
    }
    out
}

/// `proofBytes` for `ZkmipsVerifier.verifyProof`: selector of `vk` followed by the proof.
pub fn encode_proof_bytes(vk: &VerifyingKey<Bn254>, proof: &Proof<Bn254>) -> Vec<u8> {
    let mut out = Vec::with_capacity(PROOF_BYTES_LEN);
    out.extend_from_slice(&verifier_selector(vk));
    out.extend_from_slice(&encode_groth16_proof(proof));
    out
}

/// Decodes the 256-byte encoding back into a proof, checking what the EVM precompiles check:
/// coordinates below the modulus, points on their curves (and, for G2, in the subgroup).
pub fn decode_groth16_proof(bytes: &[u8]) -> Result<Proof<Bn254>, EncodingError> {
    if bytes.len() != GROTH16_PROOF_LEN {
        return Err(EncodingError::ProofLength {
            actual: bytes.len(),
            expected: GROTH16_PROOF_LEN,
        });
    }
    let mut coords = [Fq::from(0u64); 8];
    for (index, (coord, chunk)) in coords.iter_mut().zip(bytes.chunks_exact(32)).enumerate() {
        *coord = fq_from_be_bytes(chunk).ok_or(EncodingError::CoordinateNotInField { index })?;
    }
    let g1 = |x: Fq, y: Fq, point| {
        if x.is_zero() && y.is_zero() {
            return Ok(G1Affine::identity());
        }
        let p = G1Affine::new_unchecked(x, y);
        if p.is_on_curve() && p.is_in_correct_subgroup_assuming_on_curve() {
            Ok(p)
        } else {
            Err(EncodingError::PointNotOnCurve { point })
        }
    };
    let a = g1(coords[0], coords[1], "A")?;
    let c = g1(coords[6], coords[7], "C")?;
    // EIP-197 order: (x.c1, x.c0, y.c1, y.c0).
    let bx = Fq2::new(coords[3], coords[2]);
    let by = Fq2::new(coords[5], coords[4]);
    let b = if bx.is_zero() && by.is_zero() {
        G2Affine::identity()
    } else {
        let p = G2Affine::new_unchecked(bx, by);
        if !(p.is_on_curve() && p.is_in_correct_subgroup_assuming_on_curve()) {
            return Err(EncodingError::PointNotOnCurve { point: "B" });
        }
        p
    };
    Ok(Proof { a, b, c })
}

/// The second public input: `sha256(public_values)` with the top 3 bits cleared, as 32
/// big-endian bytes (what `ZkmipsVerifier.hashPublicValues` returns).
pub fn public_values_digest(public_values: &[u8]) -> [u8; 32] {
    let mut digest: [u8; 32] = Sha256::digest(public_values).into();
    digest[0] &= 0x1f;
    digest
}

/// The Groth16 public inputs `[programVKey, publicValuesDigest]` the contract feeds the verifier.
pub fn groth16_public_inputs(
    program_vkey: &[u8; 32],
    public_values: &[u8],
) -> Result<[Fr; 2], EncodingError> {
    let vkey = fr_from_be_bytes(program_vkey)
        .ok_or_else(|| EncodingError::ProgramVKeyNotInField(hex::encode(program_vkey)))?;
    let digest =
        fr_from_be_bytes(&public_values_digest(public_values)).expect("a 253-bit value is below r");
    Ok([vkey, digest])
}

/// Checks `proof_bytes` exactly as `ZkmipsVerifier.verifyProof` does, natively: selector,
/// length, encoding, then the Groth16 pairing check against `vk`.
pub fn verify_proof_bytes(
    vk: &VerifyingKey<Bn254>,
    program_vkey: &[u8; 32],
    public_values: &[u8],
    proof_bytes: &[u8],
) -> Result<(), EncodingError> {
    if proof_bytes.len() != PROOF_BYTES_LEN {
        return Err(EncodingError::ProofLength {
            actual: proof_bytes.len(),
            expected: PROOF_BYTES_LEN,
        });
    }
    let expected = verifier_selector(vk);
    if proof_bytes[..4] != expected {
        return Err(EncodingError::WrongSelector {
            received: hex::encode(&proof_bytes[..4]),
            expected: hex::encode(expected),
        });
    }
    let proof = decode_groth16_proof(&proof_bytes[4..])?;
    let inputs = groth16_public_inputs(program_vkey, public_values)?;
    match Groth16::<Bn254>::verify(vk, &inputs, &proof) {
        Ok(true) => Ok(()),
        Ok(false) => Err(EncodingError::ProofInvalid),
        Err(e) => Err(EncodingError::Groth16(e.to_string())),
    }
}

/// A scalar-field element as 32 big-endian bytes (how `bytes32`/`uint256` hold it).
pub fn fr_to_be_bytes(value: &Fr) -> [u8; 32] {
    value
        .into_bigint()
        .to_bytes_be()
        .try_into()
        .expect("a BN254 scalar is 32 bytes")
}

/// 32 big-endian bytes as a scalar-field element; `None` if the integer is not below r.
pub fn fr_from_be_bytes(bytes: &[u8; 32]) -> Option<Fr> {
    Fr::from_bigint(bigint_from_be_bytes(bytes))
}

fn fq_from_be_bytes(bytes: &[u8]) -> Option<Fq> {
    let bytes: &[u8; 32] = bytes.try_into().ok()?;
    Fq::from_bigint(bigint_from_be_bytes(bytes))
}

fn bigint_from_be_bytes(bytes: &[u8; 32]) -> BigInt<4> {
    let mut limbs = [0u64; 4];
    for (i, chunk) in bytes.chunks_exact(8).enumerate() {
        limbs[3 - i] = u64::from_be_bytes(chunk.try_into().expect("8-byte chunk"));
    }
    BigInt(limbs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ec::{AffineRepr, CurveGroup};
    use ark_std::UniformRand;
    use rand_chacha::ChaCha20Rng;
    use rand_chacha::rand_core::SeedableRng;

    fn random_proof(seed: u8) -> Proof<Bn254> {
        let mut rng = ChaCha20Rng::from_seed([seed; 32]);
        Proof {
            a: (G1Affine::generator() * Fr::rand(&mut rng)).into_affine(),
            b: (G2Affine::generator() * Fr::rand(&mut rng)).into_affine(),
            c: (G1Affine::generator() * Fr::rand(&mut rng)).into_affine(),
        }
    }

    #[test]
    fn proof_encoding_round_trips() {
        for seed in 0..4 {
            let proof = random_proof(seed);
            let encoded = encode_groth16_proof(&proof);
            assert_eq!(decode_groth16_proof(&encoded).unwrap(), proof);
        }
    }

    #[test]
    fn proof_encoding_is_eip197_order() {
        let proof = random_proof(7);
        let encoded = encode_groth16_proof(&proof);
        let word = |i: usize| &encoded[32 * i..32 * (i + 1)];
        let fq_be = |x: Fq| x.into_bigint().to_bytes_be();
        assert_eq!(word(0), fq_be(proof.a.x).as_slice());
        assert_eq!(word(1), fq_be(proof.a.y).as_slice());
        assert_eq!(word(2), fq_be(proof.b.x.c1).as_slice());
        assert_eq!(word(3), fq_be(proof.b.x.c0).as_slice());
        assert_eq!(word(4), fq_be(proof.b.y.c1).as_slice());
        assert_eq!(word(5), fq_be(proof.b.y.c0).as_slice());
        assert_eq!(word(6), fq_be(proof.c.x).as_slice());
        assert_eq!(word(7), fq_be(proof.c.y).as_slice());
    }

    #[test]
    fn decoding_rejects_bad_coordinates_and_points() {
        let mut encoded = encode_groth16_proof(&random_proof(3));
        encoded[32 * 6..32 * 7].fill(0xff);
        assert_eq!(
            decode_groth16_proof(&encoded),
            Err(EncodingError::CoordinateNotInField { index: 6 })
        );
        let mut encoded = encode_groth16_proof(&random_proof(3));
        encoded[31] ^= 1;
        assert_eq!(
            decode_groth16_proof(&encoded),
            Err(EncodingError::PointNotOnCurve { point: "A" })
        );
        let mut encoded = encode_groth16_proof(&random_proof(3));
        encoded[32 * 3 + 31] ^= 1;
        assert_eq!(
            decode_groth16_proof(&encoded),
            Err(EncodingError::PointNotOnCurve { point: "B" })
        );
        assert!(matches!(
            decode_groth16_proof(&encoded[1..]),
            Err(EncodingError::ProofLength { .. })
        ));
    }

    #[test]
    fn digest_is_masked_sha256() {
        let digest = public_values_digest(b"abc");
        let full: [u8; 32] = Sha256::digest(b"abc").into();
        assert_eq!(digest[0], full[0] & 0x1f);
        assert_eq!(digest[1..], full[1..]);
        // sha256("abc") starts with 0xba, so masking really changes it.
        assert_ne!(digest[0], full[0]);
    }

    #[test]
    fn program_vkey_must_be_below_r() {
        let r_bytes: [u8; 32] = Fr::MODULUS.to_bytes_be().try_into().unwrap();
        assert!(matches!(
            groth16_public_inputs(&r_bytes, b""),
            Err(EncodingError::ProgramVKeyNotInField(_))
        ));
        let mut below = r_bytes;
        below[31] -= 1;
        let inputs = groth16_public_inputs(&below, b"").unwrap();
        assert_eq!(inputs[0], -Fr::from(1u64));
        assert_eq!(fr_to_be_bytes(&inputs[0]), below);
    }
}
