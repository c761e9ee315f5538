//! Groth16 proving against cached keys with one synthesis of the circuit.
//!
//! `ark-groth16`'s `prove` synthesizes the circuit and keeps nothing, so checking that cached
//! keys belong to the circuit ([`crate::keys::circuit_digest`]) used to cost a second full
//! synthesis. Here the circuit is synthesized once in prove mode with its matrices kept: their
//! digest is compared with the keys', then the proof is made from the same matrices and
//! assignment, and verified natively before it is returned.

use ark_bn254::{Bn254, Fr};
use ark_ff::UniformRand;
use ark_groth16::{Groth16, Proof};
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, Matrix, OptimizationGoal, R1CS_PREDICATE_LABEL,
    SynthesisError, SynthesisMode,
};
use ark_snark::SNARK;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;
use thiserror::Error;

use crate::keys::{CircuitKeys, synthesized_circuit_digest};

#[derive(Debug, Error)]
pub enum Groth16Error {
    #[error("synthesizing circuit `{circuit}`: {source}")]
    Synthesis {
        circuit: String,
        source: SynthesisError,
    },
    #[error(
        "the Groth16 keys of circuit `{circuit}` were derived for circuit digest {keys}, but this \
         build's circuit has digest {current}: the circuit changed (re-derive with \
         `--regenerate-keys`)"
    )]
    KeysForAnotherCircuit {
        circuit: String,
        keys: String,
        current: String,
    },
    #[error(
        "the Groth16 proof of circuit `{circuit}` does not verify: the witness does not satisfy \
         the circuit"
    )]
    Rejected { circuit: String },
}

/// A Groth16 proof and the size of the circuit it was made for.
#[derive(Clone, Debug)]
pub struct Groth16Proof {
    pub proof: Proof<Bn254>,
    pub num_constraints: usize,
}

/// A circuit synthesized in prove mode and reduced to what the Groth16 prover reads: its R1CS
/// matrices and full assignment. The constraint system itself (every linear combination, kept
/// twice while it is inlined) is dropped on the way, so that proving starts from the smallest
/// state; synthesizing before the proving key is loaded keeps the two from peaking together.
pub struct SynthesizedCircuit {
    circuit: String,
    digest: [u8; 32],
    r1cs: Vec<Matrix<Fr>>,
    num_inputs: usize,
    num_constraints: usize,
    full_assignment: Vec<Fr>,
}

impl SynthesizedCircuit {
    /// Synthesizes `circuit` (named `name` in errors) with its matrices.
    pub fn new<C: ConstraintSynthesizer<Fr>>(name: &str, circuit: C) -> Result<Self, Groth16Error> {
        let synthesis = |source: SynthesisError| Groth16Error::Synthesis {
            circuit: name.to_string(),
            source,
        };
        let cs = ConstraintSystem::<Fr>::new_ref();
        cs.set_optimization_goal(OptimizationGoal::Constraints);
        cs.set_mode(SynthesisMode::Prove {
            construct_matrices: true,
            generate_lc_assignments: false,
        });
        circuit
            .generate_constraints(cs.clone())
            .map_err(synthesis)?;
        cs.finalize();

        let mut matrices = cs.to_matrices().map_err(synthesis)?;
        let digest = synthesized_circuit_digest(&cs, &matrices);
        let r1cs = matrices
            .remove(R1CS_PREDICATE_LABEL)
            .ok_or_else(|| synthesis(SynthesisError::MissingCS))?;
        drop(matrices);
        let full_assignment = [
            cs.instance_assignment().map_err(synthesis)?,
            cs.witness_assignment().map_err(synthesis)?,
        ]
        .concat();
        Ok(Self {
            circuit: name.to_string(),
            digest,
            r1cs,
            num_inputs: cs.num_instance_variables(),
            num_constraints: cs.num_constraints(),
            full_assignment,
        })
    }

    /// The digest keys are derived for ([`crate::keys::circuit_digest`]).
    pub fn digest(&self) -> [u8; 32] {
        self.digest
    }

    pub fn num_constraints(&self) -> usize {
        self.num_constraints
    }

    /// The Groth16 proof of this circuit with public inputs `public_inputs` under `keys`, with
    /// the zero-knowledge randomness drawn from `seed` (`r`, then `s`: the order of
    /// `Groth16::prove`, so a seed gives the same proof either way). The keys must have been
    /// derived for this circuit, and the proof is verified natively before it is returned.
    pub fn prove(
        self,
        public_inputs: &[Fr],
        keys: &CircuitKeys,
        seed: [u8; 32],
    ) -> Result<Groth16Proof, Groth16Error> {
        let synthesis = |source: SynthesisError| Groth16Error::Synthesis {
            circuit: self.circuit.clone(),
            source,
        };
        if self.digest != keys.circuit_digest {
            return Err(Groth16Error::KeysForAnotherCircuit {
                circuit: keys.circuit.clone(),
                keys: hex::encode(keys.circuit_digest),
                current: hex::encode(self.digest),
            });
        }
        let mut rng = ChaCha20Rng::from_seed(seed);
        let r = Fr::rand(&mut rng);
        let s = Fr::rand(&mut rng);
        let proof = Groth16::<Bn254>::create_proof_with_reduction_and_matrices(
            &keys.proving_key,
            r,
            s,
            &self.r1cs,
            self.num_inputs,
            self.num_constraints,
            &self.full_assignment,
        )
        .map_err(synthesis)?;

        let valid = Groth16::<Bn254>::verify(&keys.verifying_key, public_inputs, &proof)
            .map_err(synthesis)?;
        if !valid {
            return Err(Groth16Error::Rejected {
                circuit: keys.circuit.clone(),
            });
        }
        Ok(Groth16Proof {
            proof,
            num_constraints: self.num_constraints,
        })
    }
}

/// The Groth16 proof of `circuit` with public inputs `public_inputs` under `keys`
/// ([`SynthesizedCircuit::new`], then [`SynthesizedCircuit::prove`]).
pub fn prove<C: ConstraintSynthesizer<Fr>>(
    circuit: C,
    public_inputs: &[Fr],
    keys: &CircuitKeys,
    seed: [u8; 32],
) -> Result<Groth16Proof, Groth16Error> {
    SynthesizedCircuit::new(&keys.circuit, circuit)?.prove(public_inputs, keys, seed)
}
