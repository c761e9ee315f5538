//! The EVM statement of the recursion path (docs/RECURSION.md §0): Groth16 over a **shrink**
//! proof — a recursion-machine proof, under the outer configuration, of the program verifying
//! a compress proof (`zkmips_recursion::mips::MipsShardVerifier::statement`) — instead of over
//! the whole MIPS machine (docs/WRAPPER.md §4d).
//!
//! The shrink proof's public values are the statement the compress layer checked (the run
//! started at the entry, halted, exited with 0) and exposed: the MIPS inner commitment `C` (8
//! values), the entry and the 16 digest limbs (`zkmips_recursion::mips::statement`). The
//! circuit turns them into the two Groth16 public inputs:
//! - `programVKey = compress(pack(C), entry)` (`zkmips_prover::evm::compressed_vkey_of`);
//! - `publicValuesDigest` rebuilt from the limbs bit by bit ([`digest_from_limbs`]).
//!
//! The shrink program is one fixed program, so its preprocessed commitment is a constant of
//! the circuit: the circuit accepts proofs of that program only.

use ark_ff::Field;
use ark_r1cs_std::alloc::AllocVar;
use ark_r1cs_std::boolean::Boolean;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::FieldVar;
use ark_r1cs_std::fields::fp::FpVar;
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};
use p3_batch_stark::BatchProof;
use p3_field::{PrimeCharacteristicRing, PrimeField32};
use p3_koala_bear::KoalaBear;
use zkmips_prover::batch::FixedTables;
use zkmips_prover::config::FriSettings;
use zkmips_prover::evm::compressed_vkey_of;
use zkmips_prover::outer::OuterConfig;
use zkmips_recursion::chips::RecursionAir;
use zkmips_recursion::machine::table;
use zkmips_recursion::mips::statement;

use super::batch::{
    BatchStarkShape, BatchStarkWitness, extract_batch_stark, extract_batch_stark_with_fixed,
    synthesize_batch_stark_with,
};
use super::circuit::base_witness;
use super::witness::WitnessError;
use crate::Fr;
use crate::koalabear::KbVar;
use crate::solidity::fr_from_be_bytes;

/// The wrap circuit of one shrink proof.
#[derive(Clone)]
pub struct CompressedWrapCircuit {
    pub shape: BatchStarkShape,
    /// The shrink proof's public values ([`statement`] layout).
    pub statement: Vec<KoalaBear>,
    pub witness: BatchStarkWitness,
    /// `[programVKey, publicValuesDigest]`.
    pub public_inputs: [Fr; 2],
}

/// The 32-byte publicValuesDigest (top 3 bits cleared) the 16 digest limbs encode.
pub fn digest_bytes(limbs: &[KoalaBear]) -> [u8; 32] {
    let mut digest = [0u8; 32];
    for (j, limb) in limbs.iter().enumerate() {
        let value = limb.as_canonical_u32();
        digest[2 * j] = value as u8;
        digest[2 * j + 1] = (value >> 8) as u8;
    }
    digest[0] &= 0x1f;
    digest
}

impl CompressedWrapCircuit {
    /// The circuit for `proof`, a proof of the shrink program whose tables are `airs`, under
    /// `outer_config_with(settings)`, exposing `statement`. Fails if the proof does not verify
    /// natively or the values are not a statement.
    pub fn new(
        settings: &FriSettings,
        airs: &[RecursionAir],
        proof: &BatchProof<OuterConfig>,
        statement: &[KoalaBear],
    ) -> Result<Self, WitnessError> {
        let public_values = check_statement(statement)?;
        let (shape, witness) = extract_batch_stark(settings, airs, proof, &public_values)?;
        Self::assemble(shape, witness, statement)
    }

    /// [`Self::new`] for a proof made with `fixed`, the shrink program's fixed tables (their
    /// commitment becomes the circuit's constant without being computed again).
    pub fn with_fixed(
        settings: &FriSettings,
        airs: &[RecursionAir],
        fixed: &FixedTables<OuterConfig>,
        proof: &BatchProof<OuterConfig>,
        statement: &[KoalaBear],
    ) -> Result<Self, WitnessError> {
        let public_values = check_statement(statement)?;
        let (shape, witness) =
            extract_batch_stark_with_fixed(settings, airs, fixed, proof, &public_values)?;
        Self::assemble(shape, witness, statement)
    }

    /// A blank instance (all-zero witness and statement) of the circuit verifying proofs made
    /// with `fixed`: what key generation synthesizes. It does not satisfy the circuit.
    pub fn blank(
        settings: &FriSettings,
        airs: &[RecursionAir],
        fixed: &FixedTables<OuterConfig>,
    ) -> Result<Self, WitnessError> {
        let shape = BatchStarkShape::from_fixed(settings, airs, fixed)?;
        Ok(Self {
            witness: BatchStarkWitness::blank(&shape),
            shape,
            statement: vec![KoalaBear::ZERO; statement::LEN],
            public_inputs: [Fr::from(0u64); 2],
        })
    }

    fn assemble(
        shape: BatchStarkShape,
        witness: BatchStarkWitness,
        statement: &[KoalaBear],
    ) -> Result<Self, WitnessError> {
        let commitment: [KoalaBear; 8] = statement[statement::COMMITMENT]
            .try_into()
            .expect("the statement layout has 8 commitment values");
        let entry = statement[statement::ENTRY].as_canonical_u32();
        let vkey = compressed_vkey_of(&commitment, entry);
        let program_vkey = fr_from_be_bytes(&vkey.0)
            .ok_or_else(|| WitnessError::Shape("programVKey is not below r".into()))?;
        let digest = fr_from_be_bytes(&digest_bytes(&statement[statement::DIGEST]))
            .expect("a 253-bit value is below r");
        Ok(Self {
            shape,
            statement: statement.to_vec(),
            witness,
            public_inputs: [program_vkey, digest],
        })
    }
}

/// The shrink proof's per-table public values for `statement`, which must be one (its length,
/// 16-bit digest limbs).
fn check_statement(statement: &[KoalaBear]) -> Result<Vec<Vec<KoalaBear>>, WitnessError> {
    if statement.len() != statement::LEN {
        return Err(WitnessError::Shape(format!(
            "{} public values, a statement has {}",
            statement.len(),
            statement::LEN
        )));
    }
    if let Some(limb) = statement[statement::DIGEST]
        .iter()
        .find(|l| l.as_canonical_u32() >= 1 << 16)
    {
        return Err(WitnessError::Shape(format!(
            "digest limb {limb} is not 16 bits"
        )));
    }
    let mut public_values = vec![Vec::new(); table::COUNT];
    public_values[table::PUBLIC] = statement.to_vec();
    Ok(public_values)
}

/// The 16 bits of `limb` (little-endian), which also proves `limb < 2^16`.
fn limb_bits(
    cs: &ConstraintSystemRef<Fr>,
    limb: &FpVar<Fr>,
    value: Result<u32, SynthesisError>,
) -> Result<Vec<Boolean<Fr>>, SynthesisError> {
    let bits = (0..16)
        .map(|i| Boolean::new_witness(cs.clone(), || value.map(|v| (v >> i) & 1 == 1)))
        .collect::<Result<Vec<_>, _>>()?;
    let mut sum = FpVar::zero();
    for (i, bit) in bits.iter().enumerate() {
        sum += FpVar::from(bit.clone()) * Fr::from(1u64 << i);
    }
    sum.enforce_equal(limb)?;
    Ok(bits)
}

/// publicValuesDigest from the digest's 16 limbs (the in-circuit [`digest_bytes`]): byte `i` of
/// the digest (memory order) weighs 2^(8(31 - i)) in the big-endian integer; limb `j` holds
/// bytes 2j (low) and 2j + 1. Bits at or above 2^253 are the mask. Each limb is proven below
/// 2^16 by its bit decomposition.
fn digest_from_limbs(
    cs: &ConstraintSystemRef<Fr>,
    limbs: &[KbVar],
) -> Result<FpVar<Fr>, SynthesisError> {
    if limbs.len() != statement::DIGEST_LIMBS {
        return Err(SynthesisError::Unsatisfiable);
    }
    let mut sum = FpVar::zero();
    for (j, limb) in limbs.iter().enumerate() {
        let value = limb.value().map(|v| v.as_canonical_u32());
        let bits = limb_bits(cs, limb.fp(), value)?;
        for (k, bit) in bits.iter().enumerate() {
            let byte = 2 * j + k / 8;
            let exponent = 8 * (31 - byte) + k % 8;
            if exponent < 253 {
                let weight = Fr::from(2u64).pow([exponent as u64]);
                sum += FpVar::from(bit.clone()) * weight;
            }
        }
    }
    Ok(sum)
}

/// Seed of the Groth16 prover's randomness for one statement. Deterministic on purpose: the
/// STARK under the wrap is not zero-knowledge either, so hiding randomness would buy nothing,
/// and one STARK proof then always gives the same Groth16 proof. (The STARK itself can differ
/// between runs: Plonky3 keeps whichever proof-of-work witness its parallel search finds.)
pub(crate) fn prover_seed(public_inputs: &[Fr; 2]) -> [u8; 32] {
    use ark_serialize::CanonicalSerialize;
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(b"zkmips/groth16-prove/v1\0");
    for input in public_inputs {
        let mut bytes = Vec::new();
        input
            .serialize_compressed(&mut bytes)
            .expect("serializing into a Vec cannot fail");
        hasher.update(bytes);
    }
    hasher.finalize().into()
}

impl ConstraintSynthesizer<Fr> for CompressedWrapCircuit {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let [vkey_value, digest_value] = self.public_inputs;
        let program_vkey = FpVar::new_input(cs.clone(), || Ok(vkey_value))?;
        let digest = FpVar::new_input(cs.clone(), || Ok(digest_value))?;
        if self.statement.len() != statement::LEN || self.shape.instances.len() != table::COUNT {
            return Err(SynthesisError::Unsatisfiable);
        }
        // Canonical (< p) values: the packing below is injective on them.
        let values = self
            .statement
            .iter()
            .map(|&v| base_witness(&cs, v))
            .collect::<Result<Vec<_>, _>>()?;

        // programVKey = compress(Σ C_i · 2^(31 i), entry).
        let mut packed = FpVar::zero();
        let mut weight = Fr::from(1u64);
        for value in &values[statement::COMMITMENT] {
            packed += value.fp() * weight;
            weight *= Fr::from(1u64 << 31);
        }
        crate::merkle::compress(&packed, values[statement::ENTRY].fp())?
            .enforce_equal(&program_vkey)?;

        digest_from_limbs(&cs, &values[statement::DIGEST])?.enforce_equal(&digest)?;

        let mut public = vec![Vec::new(); table::COUNT];
        public[table::PUBLIC] = values;
        let commitment = self.shape.preprocessed_commitment.map(FpVar::constant);
        synthesize_batch_stark_with(&cs, &self.shape, &public, commitment, &self.witness)
            .map(|_| ())
    }
}
