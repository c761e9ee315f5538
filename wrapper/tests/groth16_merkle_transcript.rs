//! Groth16 round trip of a circuit using every gadget: a Merkle opening of a native outer-MMCS
//! commitment (KoalaBear row witnesses, index bits, siblings) and a transcript that observes the
//! root and samples an extension challenge, with the root and the challenge as public inputs.
//! Key generation runs the gadgets without witness values (setup mode). Fixed seed: a test
//! setup, not a ceremony.

use ark_bn254::{Bn254, Fr};
use ark_groth16::Groth16;
use ark_r1cs_std::alloc::AllocVar;
use ark_r1cs_std::boolean::Boolean;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::fp::FpVar;
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};
use ark_snark::SNARK;
use ark_std::rand::SeedableRng;
use ark_std::rand::rngs::StdRng;
use p3_challenger::{CanObserve, CanSample};
use p3_commit::Mmcs;
use p3_field::{BasedVectorSpace, PrimeCharacteristicRing, PrimeField32};
use p3_koala_bear::KoalaBear;
use p3_matrix::dense::RowMajorMatrix;
use p3_symmetric::MerkleCap;
use zkmips_prover::outer::{OuterChallenge, OuterChallenger, outer_perm, outer_val_mmcs};
use zkmips_wrapper::challenger::ChallengerVar;
use zkmips_wrapper::convert::bn254_to_fr;
use zkmips_wrapper::koalabear::KbVar;
use zkmips_wrapper::merkle::verify_path;

const HEIGHT_BITS: usize = 3;
const WIDTH: usize = 10;

#[derive(Clone, Default)]
struct OpeningWitness {
    row: Vec<KoalaBear>,
    index: usize,
    siblings: Vec<Fr>,
}

/// Public inputs: the Merkle root, then the 4 coefficients of the challenge sampled after
/// observing it.
#[derive(Clone)]
struct OpeningCircuit {
    witness: Option<OpeningWitness>,
    public: Option<[Fr; 5]>,
}

fn missing() -> SynthesisError {
    SynthesisError::AssignmentMissing
}

impl ConstraintSynthesizer<Fr> for OpeningCircuit {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let public = (0..5)
            .map(|i| FpVar::new_input(cs.clone(), || self.public.map(|p| p[i]).ok_or_else(missing)))
            .collect::<Result<Vec<_>, _>>()?;
        let w = self.witness.as_ref();
        let row = (0..WIDTH)
            .map(|i| KbVar::new_witness(cs.clone(), || w.map(|w| w.row[i]).ok_or_else(missing)))
            .collect::<Result<Vec<_>, _>>()?;
        let bits = (0..HEIGHT_BITS)
            .map(|i| {
                Boolean::new_witness(cs.clone(), || {
                    w.map(|w| (w.index >> i) & 1 == 1).ok_or_else(missing)
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let siblings = (0..HEIGHT_BITS)
            .map(|i| {
                FpVar::new_witness(cs.clone(), || w.map(|w| w.siblings[i]).ok_or_else(missing))
            })
            .collect::<Result<Vec<_>, _>>()?;
        verify_path(&row, &bits, &siblings, &public[0])?;

        let mut challenger = ChallengerVar::new(cs.clone());
        challenger.observe_digest(&public[0])?;
        let challenge = challenger.sample_ext()?;
        for (coefficient, expected) in challenge.coeffs.iter().zip(&public[1..]) {
            coefficient.fp().enforce_equal(expected)?;
        }
        Ok(())
    }
}

#[test]
fn groth16_proves_a_merkle_opening_and_a_transcript_challenge() {
    let values: Vec<KoalaBear> = (0..(WIDTH << HEIGHT_BITS) as u32)
        .map(|i| KoalaBear::from_u32(i.wrapping_mul(0x9e37_79b9) % KoalaBear::ORDER_U32))
        .collect();
    let mmcs = outer_val_mmcs(&outer_perm());
    let (commitment, prover_data) = mmcs.commit_matrix(RowMajorMatrix::new(values, WIDTH));
    let index = 5;
    let opening = mmcs.open_batch(index, &prover_data);

    let mut native = OuterChallenger::new(outer_perm()).unwrap();
    native.observe(MerkleCap::<KoalaBear, _>::from(vec![commitment[0]]));
    let challenge: OuterChallenge = native.sample();
    let mut public = [bn254_to_fr(commitment[0][0]); 5];
    for (slot, c) in
        public[1..]
            .iter_mut()
            .zip(BasedVectorSpace::<KoalaBear>::as_basis_coefficients_slice(
                &challenge,
            ))
    {
        *slot = Fr::from(c.as_canonical_u32());
    }
    let witness = OpeningWitness {
        row: opening.opened_values[0].clone(),
        index,
        siblings: opening
            .opening_proof
            .iter()
            .map(|d| bn254_to_fr(d[0]))
            .collect(),
    };

    let mut rng = StdRng::seed_from_u64(0x7a6b_6d69_7073_0002);
    let shape = OpeningCircuit {
        witness: None,
        public: None,
    };
    let (pk, vk) = Groth16::<Bn254>::circuit_specific_setup(shape, &mut rng).expect("setup");
    let circuit = OpeningCircuit {
        witness: Some(witness.clone()),
        public: Some(public),
    };
    let proof = Groth16::<Bn254>::prove(&pk, circuit, &mut rng).expect("prove");
    assert!(Groth16::<Bn254>::verify(&vk, &public, &proof).expect("verify"));

    let mut wrong_challenge = public;
    wrong_challenge[2] += Fr::from(1u64);
    assert!(!Groth16::<Bn254>::verify(&vk, &wrong_challenge, &proof).expect("verify"));

    // A prover with a tampered row cannot satisfy the circuit.
    let mut tampered = witness;
    tampered.row[0] += KoalaBear::ONE;
    let cs = ark_relations::gr1cs::ConstraintSystem::<Fr>::new_ref();
    OpeningCircuit {
        witness: Some(tampered),
        public: Some(public),
    }
    .generate_constraints(cs.clone())
    .unwrap();
    assert!(!cs.is_satisfied().unwrap());
    println!(
        "merkle + transcript circuit: {} constraints",
        cs.num_constraints()
    );
}
