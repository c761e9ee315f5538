//! Groth16 round trip on one outer Poseidon2 permutation: public output = cell 0 of the
//! permutation of a private input. Keys come from a fixed seed (a test setup, not a ceremony).

use ark_bn254::{Bn254, Fr};
use ark_groth16::Groth16;
use ark_r1cs_std::alloc::AllocVar;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::fp::FpVar;
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};
use ark_snark::SNARK;
use ark_std::rand::SeedableRng;
use ark_std::rand::rngs::StdRng;
use p3_symmetric::Permutation;
use zkmips_prover::outer::outer_perm;
use zkmips_wrapper::convert::{bn254_to_fr, fr_to_bn254};
use zkmips_wrapper::poseidon2::permute;

/// Proves knowledge of a preimage `input` with `permute(input)[0] == output`.
#[derive(Clone)]
struct PermutationPreimage {
    input: Option<[Fr; 3]>,
    output: Option<Fr>,
}

impl ConstraintSynthesizer<Fr> for PermutationPreimage {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let output = FpVar::new_input(cs.clone(), || {
            self.output.ok_or(SynthesisError::AssignmentMissing)
        })?;
        let input = (0..3)
            .map(|i| {
                FpVar::new_witness(cs.clone(), || {
                    self.input
                        .map(|x| x[i])
                        .ok_or(SynthesisError::AssignmentMissing)
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let state = permute(&input.try_into().expect("3 cells"))?;
        state[0].enforce_equal(&output)
    }
}

#[test]
fn groth16_proves_and_verifies_one_permutation() {
    let input = [Fr::from(3u64), Fr::from(1u64), Fr::from(4u64)];
    let output = bn254_to_fr(outer_perm().permute(input.map(fr_to_bn254))[0]);

    let mut rng = StdRng::seed_from_u64(0x7a6b_6d69_7073);
    let shape = PermutationPreimage {
        input: None,
        output: None,
    };
    let (pk, vk) = Groth16::<Bn254>::circuit_specific_setup(shape, &mut rng).expect("setup");
    let circuit = PermutationPreimage {
        input: Some(input),
        output: Some(output),
    };
    let proof = Groth16::<Bn254>::prove(&pk, circuit, &mut rng).expect("prove");

    assert!(Groth16::<Bn254>::verify(&vk, &[output], &proof).expect("verify"));
    assert!(
        !Groth16::<Bn254>::verify(&vk, &[output + Fr::from(1u64)], &proof).expect("verify"),
        "the proof must not verify for another public output"
    );
}
