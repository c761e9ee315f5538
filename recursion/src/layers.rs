//! Recursion layers: a program that verifies a proof of another recursion program and
//! re-exposes its public values.
//!
//! A recursion proof's table heights are fixed by its program, so the verifier of one program
//! is one fixed program too. Chaining such layers shrinks a proof step by step; the last layer
//! is proven under the outer (BN254-friendly) configuration for the Groth16 wrapper. The
//! verified program's preprocessed commitment — which *is* that program — is a constant of the
//! verifier, so a layer's proof says "a proof of exactly that program exists, with these public
//! values".

use zkmips_prover::config::{FriSettings, InnerConfig};

use crate::builder::{Builder, Felt};
use crate::ir::{Program, Val};
use crate::machine::{RecursionMachine, RecursionProof, table};
use crate::stark::{
    BatchProofVar, BatchProofWitness, StarkVerifierError, StarkVerifierShape, verify_batch_proof,
};

/// The verifier of proofs of `inner` made with `inner_config_with(settings)`.
#[derive(Clone, Debug)]
pub struct VerifierLayer {
    shape: StarkVerifierShape,
    machine: RecursionMachine,
    num_public_values: usize,
}

impl VerifierLayer {
    /// Builds the program verifying proofs of `inner` (whose tables have the heights
    /// `degree_bits`, as every proof of it has) under `settings`; its own tables are at least
    /// `min_height` rows (see [`RecursionMachine::min_height_for`] for the configuration that
    /// will prove it).
    pub fn new(
        inner: &RecursionMachine,
        degree_bits: &[usize],
        settings: &FriSettings,
        min_height: usize,
    ) -> Result<Self, StarkVerifierError> {
        let shape = StarkVerifierShape::new(settings, inner.airs(), degree_bits)?;
        let num_public_values = inner.program().num_public_values();
        let mut b = Builder::new();
        // The stream: the inner public values, then the proof.
        let publics: Vec<Felt> = (0..num_public_values).map(|_| b.witness()).collect();
        let proof = BatchProofVar::read(&mut b, &shape);
        let commitment = shape
            .preprocessed_commitment
            .map(|digest| digest.map(|v| b.constant(v)));
        let mut per_table = vec![Vec::new(); table::COUNT];
        per_table[table::PUBLIC] = publics.clone();
        verify_batch_proof(&mut b, &shape, commitment, &per_table, &proof)?;
        for value in publics {
            b.public(value);
        }
        let program = b
            .build()
            .map_err(|e| StarkVerifierError::Mismatch(format!("verifier program: {e}")))?;
        Ok(Self {
            shape,
            machine: RecursionMachine::with_min_height(program, min_height),
            num_public_values,
        })
    }

    /// The layer's own program and tables.
    pub fn machine(&self) -> &RecursionMachine {
        &self.machine
    }

    pub fn program(&self) -> &Program {
        self.machine.program()
    }

    /// The witness stream for verifying `proof` of `inner`.
    pub fn witness(
        &self,
        inner: &RecursionMachine,
        proof: &RecursionProof<InnerConfig>,
    ) -> Result<Vec<Val>, StarkVerifierError> {
        if proof.public_values.len() != self.num_public_values {
            return Err(StarkVerifierError::Mismatch(format!(
                "{} public values, the verified program exposes {}",
                proof.public_values.len(),
                self.num_public_values
            )));
        }
        let mut publics = vec![Vec::new(); table::COUNT];
        publics[table::PUBLIC] = proof.public_values.clone();
        let witness = BatchProofWitness::new(&self.shape, inner.airs(), &proof.proof, &publics)?;
        let mut stream = proof.public_values.clone();
        stream.extend(witness.stream());
        Ok(stream)
    }
}

#[cfg(test)]
mod tests {
    use p3_field::PrimeCharacteristicRing;
    use zkmips_prover::config::{INNER_TEST_FRI, inner_config_with};
    use zkmips_prover::outer::{OUTER_FRI, outer_config_with};

    use super::*;

    /// The outer configuration's shape (a final polynomial of 2^3 coefficients, so tables need
    /// a minimum height) at test cost.
    const TEST_OUTER_FRI: FriSettings = FriSettings {
        log_blowup: 1,
        num_queries: 2,
        query_pow_bits: 1,
        commit_pow_bits: 1,
        batch_pow_bits: 1,
        lookup_pow_bits: 1,
        ood_pow_bits: 1,
        ..OUTER_FRI
    };

    fn base_program() -> RecursionMachine {
        let mut b = Builder::new();
        let x = b.witness();
        let state: [Felt; 16] = core::array::from_fn(|_| x);
        let out = b.poseidon2(state);
        let square = b.ext_mul(out[3].as_ext(), out[3].as_ext());
        let coordinates = b.ext_coordinates(square);
        b.public(coordinates[0]);
        b.public(x);
        RecursionMachine::new(b.build().unwrap())
    }

    /// Program → verifier (inner config) → verifier of that, proven under the outer config:
    /// the public values travel unchanged and the last proof verifies natively.
    #[test]
    fn two_layers_end_under_the_outer_config() {
        let inner_config = inner_config_with(&INNER_TEST_FRI);
        let base = base_program();
        let base_proof = base.prove(&inner_config, &[Val::from_u32(9)]).unwrap();

        let first =
            VerifierLayer::new(&base, &base_proof.proof.degree_bits, &INNER_TEST_FRI, 2).unwrap();
        let stream = first.witness(&base, &base_proof).unwrap();
        let first_proof = first.machine().prove(&inner_config, &stream).unwrap();
        assert_eq!(first_proof.public_values, base_proof.public_values);

        let second = VerifierLayer::new(
            first.machine(),
            &first_proof.proof.degree_bits,
            &INNER_TEST_FRI,
            RecursionMachine::min_height_for(&TEST_OUTER_FRI),
        )
        .unwrap();
        let stream = second.witness(first.machine(), &first_proof).unwrap();
        let outer_config = outer_config_with(&TEST_OUTER_FRI);
        let last = second.machine().prove(&outer_config, &stream).unwrap();
        assert_eq!(last.public_values, base_proof.public_values);
        second.machine().verify(&outer_config, &last).unwrap();
        eprintln!(
            "layer 1: {} instructions, heights {:?}; layer 2: {} instructions, heights {:?}",
            first.program().instrs().len(),
            first_proof.proof.degree_bits,
            second.program().instrs().len(),
            last.proof.degree_bits
        );
    }

    #[test]
    fn a_layer_refuses_a_proof_with_other_public_values() {
        let inner_config = inner_config_with(&INNER_TEST_FRI);
        let base = base_program();
        let mut proof = base.prove(&inner_config, &[Val::from_u32(9)]).unwrap();
        let layer =
            VerifierLayer::new(&base, &proof.proof.degree_bits, &INNER_TEST_FRI, 2).unwrap();
        proof.public_values[1] += Val::ONE;
        // The native check refuses to build a witness for a proof that does not verify.
        assert!(matches!(
            layer.witness(&base, &proof),
            Err(StarkVerifierError::Rejected(_))
        ));
    }
}
