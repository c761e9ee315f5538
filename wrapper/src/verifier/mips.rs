//! The Groth16 statement of `zkmips prove --evm`: "this EVM proof (`zkmips_prover::evm`) is
//! valid for the program with key `programVKey`, and the run's public values hash to
//! `publicValuesDigest`".
//!
//! Public inputs, in the order `ZkmipsVerifier` passes them:
//! 1. `programVKey` = `compress(C, entry)` (outer Poseidon2-BN254), `C` the preprocessed
//!    commitment of the proof: recomputed here from the witnessed `C` and entry, so one circuit
//!    serves every program of the EVM shape.
//! 2. `publicValuesDigest` = SHA-256 of the committed bytes with its top 3 bits cleared: here
//!    rebuilt from the 16 limbs of the digest words the image table exposes, bit by bit.
//!
//! Besides the batch-STARK verifier ([`synthesize_batch_stark_with`]) over the witnessed public
//! values, the circuit pins what makes a run a run: the CPU starts at `(entry, entry + 4)`, the
//! machine halted, and the exit code is 0.

use std::sync::{Arc, OnceLock};

use ark_ff::Field;
use ark_r1cs_std::alloc::AllocVar;
use ark_r1cs_std::boolean::Boolean;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::FieldVar;
use ark_r1cs_std::fields::fp::FpVar;
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};
use p3_field::PrimeCharacteristicRing;
use p3_koala_bear::KoalaBear;
use zkmips_executor::Program;
use zkmips_prover::chips::MipsAir;
use zkmips_prover::config::FriSettings;
use zkmips_prover::evm::{CPU_INSTANCE, EvmProgram, EvmProof, IMAGE_INSTANCE, degree_bits};
use zkmips_prover::outer::OUTER_FRI;

use super::batch::{
    BatchStarkShape, BatchStarkWitness, extract_batch_stark, synthesize_batch_stark_with,
};
use super::circuit::base_witness;
use super::witness::WitnessError;
use crate::Fr;
use crate::koalabear::KbVar;
use crate::solidity::{EncodingError, groth16_public_inputs};

/// Name of the circuit in the key cache; its version is [`EVM_STATEMENT_VERSION`] (checked by a
/// test), so a new statement gets new keys.
pub const MIPS_WRAP_CIRCUIT_NAME: &str = "mips-evm-shard-v1";

/// CPU public values used by the statement (`CpuPublicValues::to_field` order).
const CPU_INITIAL_PC: usize = 0;
const CPU_INITIAL_NEXT_PC: usize = 1;
const CPU_HALTED: usize = 5;
/// Image public values: exit code limbs, then the digest words' limbs.
const IMAGE_EXIT_CODE: usize = 0;
const IMAGE_DIGEST: usize = 2;
const DIGEST_LIMBS: usize = 16;

/// The shape every EVM proof has (AIRs, heights, FRI settings), built once from a reference
/// program: nothing in it depends on the program but the preprocessed commitment, which the
/// circuit takes as a witness.
pub fn mips_wrap_shape() -> Result<Arc<BatchStarkShape>, WitnessError> {
    static SHAPE: OnceLock<Arc<BatchStarkShape>> = OnceLock::new();
    if let Some(shape) = SHAPE.get() {
        return Ok(shape.clone());
    }
    let shape = Arc::new(mips_wrap_shape_with(&OUTER_FRI)?);
    Ok(SHAPE.get_or_init(|| shape).clone())
}

/// The EVM shape under other outer FRI settings (tests: the statement at a cheaper size).
pub fn mips_wrap_shape_with(settings: &FriSettings) -> Result<BatchStarkShape, WitnessError> {
    // `lui $v0, 1; syscall`: HALT.
    let reference = EvmProgram::new(Program::from_code(0x0040_0000, &[0x3c02_0001, 0x0000_000c]))
        .map_err(|e| WitnessError::Shape(e.to_string()))?;
    BatchStarkShape::new(settings, &reference.airs(), &degree_bits())
}

/// The wrap circuit for one EVM proof (or a blank instance for key generation).
#[derive(Clone)]
pub struct MipsWrapCircuit {
    pub shape: Arc<BatchStarkShape>,
    pub entry: u32,
    pub preprocessed_commitment: Fr,
    pub public_values: Vec<Vec<KoalaBear>>,
    pub witness: BatchStarkWitness,
    /// `[programVKey, publicValuesDigest]`.
    pub public_inputs: [Fr; 2],
}

impl MipsWrapCircuit {
    /// The circuit for `proof` of `program`. Fails if the proof does not verify natively.
    pub fn new(program: &EvmProgram, proof: &EvmProof) -> Result<Self, WitnessError> {
        let shape = if *program.fri() == OUTER_FRI {
            mips_wrap_shape()?
        } else {
            Arc::new(mips_wrap_shape_with(program.fri())?)
        };
        zkmips_prover::evm::verify_evm(program, proof)
            .map_err(|e| WitnessError::Rejected(e.to_string()))?;
        let airs: Vec<MipsAir> = program.airs();
        let public_values = proof.instance_public_values();
        let (own_shape, witness) =
            extract_batch_stark(program.fri(), &airs, &proof.proof, &public_values)?;
        if own_shape.batch_seed != shape.batch_seed
            || own_shape.pcs_seed != shape.pcs_seed
            || own_shape.fri_seed != shape.fri_seed
        {
            return Err(WitnessError::Shape(
                "the proof's shape differs from the EVM shape".into(),
            ));
        }
        let preprocessed_commitment = own_shape
            .preprocessed_commitment
            .ok_or_else(|| WitnessError::Shape("no preprocessed commitment".into()))?;
        let vkey = program
            .vkey()
            .map_err(|e| WitnessError::Shape(e.to_string()))?;
        let public_inputs = groth16_public_inputs(&vkey.0, &proof.public_values)
            .map_err(|e: EncodingError| WitnessError::Shape(e.to_string()))?;
        Ok(Self {
            shape,
            entry: program.program().entry,
            preprocessed_commitment,
            public_values,
            witness,
            public_inputs,
        })
    }

    /// A blank instance (all-zero witness) of the right shape: what key generation synthesizes.
    pub fn blank() -> Result<Self, WitnessError> {
        let shape = mips_wrap_shape()?;
        Ok(Self {
            entry: 0,
            preprocessed_commitment: Fr::from(0u64),
            public_values: shape
                .instances
                .iter()
                .map(|s| vec![KoalaBear::ZERO; s.num_public_values])
                .collect(),
            witness: BatchStarkWitness::blank(&shape),
            public_inputs: [Fr::from(0u64); 2],
            shape,
        })
    }
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

/// publicValuesDigest from the digest's 16 limbs: byte `i` of the digest (memory order) weighs
/// 2^(8(31 - i)) in the big-endian integer; limb `j` holds bytes 2j (low) and 2j + 1. Bits at
/// or above 2^253 are the mask. Each limb is proven below 2^16 by its bit decomposition.
pub(crate) fn digest_from_limbs(
    cs: &ConstraintSystemRef<Fr>,
    limbs: &[KbVar],
) -> Result<FpVar<Fr>, SynthesisError> {
    if limbs.len() != DIGEST_LIMBS {
        return Err(SynthesisError::Unsatisfiable);
    }
    let mut sum = FpVar::zero();
    for (j, limb) in limbs.iter().enumerate() {
        let value = limb.value().map(|v| {
            use p3_field::PrimeField32;
            v.as_canonical_u32()
        });
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

impl ConstraintSynthesizer<Fr> for MipsWrapCircuit {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let [vkey_value, digest_value] = self.public_inputs;
        let program_vkey = FpVar::new_input(cs.clone(), || Ok(vkey_value))?;
        let digest = FpVar::new_input(cs.clone(), || Ok(digest_value))?;
        if self.public_values.len() != self.shape.instances.len() {
            return Err(SynthesisError::Unsatisfiable);
        }
        let public = self
            .public_values
            .iter()
            .map(|values| {
                values
                    .iter()
                    .map(|&v| base_witness(&cs, v))
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect::<Result<Vec<_>, _>>()?;
        let commitment = FpVar::new_witness(cs.clone(), || Ok(self.preprocessed_commitment))?;
        let entry = base_witness(&cs, KoalaBear::from_u32(self.entry))?;

        // programVKey = compress(C, entry).
        crate::merkle::compress(&commitment, entry.fp())?.enforce_equal(&program_vkey)?;

        // The run starts at the entry, halts, and exits with 0.
        let cpu = public
            .get(CPU_INSTANCE)
            .ok_or(SynthesisError::Unsatisfiable)?;
        let image = public
            .get(IMAGE_INSTANCE)
            .ok_or(SynthesisError::Unsatisfiable)?;
        if cpu.len() <= CPU_HALTED || image.len() != IMAGE_DIGEST + DIGEST_LIMBS {
            return Err(SynthesisError::Unsatisfiable);
        }
        cpu[CPU_INITIAL_PC].fp().enforce_equal(entry.fp())?;
        cpu[CPU_INITIAL_NEXT_PC]
            .fp()
            .enforce_equal(&(entry.fp() + Fr::from(4u64)))?;
        cpu[CPU_HALTED].fp().enforce_equal(&FpVar::one())?;
        for limb in &image[IMAGE_EXIT_CODE..IMAGE_EXIT_CODE + 2] {
            limb.fp().enforce_equal(&FpVar::zero())?;
        }

        digest_from_limbs(&cs, &image[IMAGE_DIGEST..IMAGE_DIGEST + DIGEST_LIMBS])?
            .enforce_equal(&digest)?;

        synthesize_batch_stark_with(&cs, &self.shape, &public, Some(commitment), &self.witness)
            .map(|_| ())
    }
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

/// The Groth16 proof of `circuit` under `keys` ([`crate::groth16::prove`]: one synthesis, the
/// keys checked against it, the proof verified natively before it is returned).
pub fn prove_groth16(
    circuit: MipsWrapCircuit,
    keys: &crate::keys::CircuitKeys,
) -> Result<crate::groth16::Groth16Proof, crate::groth16::Groth16Error> {
    let inputs = circuit.public_inputs;
    crate::groth16::prove(circuit, &inputs, keys, prover_seed(&inputs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use zkmips_prover::evm::EVM_STATEMENT_VERSION;

    #[test]
    fn the_circuit_name_carries_the_statement_version() {
        assert!(MIPS_WRAP_CIRCUIT_NAME.ends_with(&format!("-v{EVM_STATEMENT_VERSION}")));
    }
}
