//! The outer Poseidon2-BN254 permutation (width 3, 8 full + 56 partial rounds, x^5) over
//! `FpVar<Fr>`, with the round constants committed in `zkmips_prover::outer`.
//!
//! Cost: 3 constraints per S-box (x^2, x^4, x^5) and nothing for linear layers or constants, so
//! (8 * 3 + 56) * 3 = 240 constraints per permutation of variable inputs.

use std::sync::OnceLock;

use ark_ff::{BigInt, PrimeField};
use ark_r1cs_std::fields::FieldVar;
use ark_r1cs_std::fields::fp::FpVar;
use ark_relations::gr1cs::SynthesisError;
use zkmips_prover::outer::hex_to_limbs;
use zkmips_prover::outer::poseidon2_bn254_constants::{
    EXTERNAL_INITIAL, EXTERNAL_TERMINAL, INTERNAL,
};

use crate::Fr;

/// State width of the outer permutation.
pub const WIDTH: usize = 3;

/// The outer permutation's round constants as arkworks field elements.
pub struct Poseidon2Constants {
    pub initial: Vec<[Fr; WIDTH]>,
    pub internal: Vec<Fr>,
    pub terminal: Vec<[Fr; WIDTH]>,
}

fn fr_from_hex(hex: &str) -> Fr {
    let limbs =
        hex_to_limbs(hex).unwrap_or_else(|| panic!("malformed Poseidon2-BN254 constant {hex:?}"));
    Fr::from_bigint(BigInt::new(limbs))
        .unwrap_or_else(|| panic!("Poseidon2-BN254 constant {hex} is not below the modulus"))
}

impl Poseidon2Constants {
    /// The committed constants (parsed once per process).
    pub fn outer() -> &'static Self {
        static CONSTANTS: OnceLock<Poseidon2Constants> = OnceLock::new();
        CONSTANTS.get_or_init(|| Self {
            initial: EXTERNAL_INITIAL
                .iter()
                .map(|r| r.map(fr_from_hex))
                .collect(),
            internal: INTERNAL.iter().map(|c| fr_from_hex(c)).collect(),
            terminal: EXTERNAL_TERMINAL
                .iter()
                .map(|r| r.map(fr_from_hex))
                .collect(),
        })
    }
}

fn sbox(x: &FpVar<Fr>) -> Result<FpVar<Fr>, SynthesisError> {
    let x2 = x.square()?;
    let x4 = x2.square()?;
    Ok(x4 * x)
}

/// circ(2, 1, 1): each cell plus the sum of all cells.
fn external_linear_layer(state: &mut [FpVar<Fr>; WIDTH]) {
    let sum = &state[0] + &state[1] + &state[2];
    for cell in state.iter_mut() {
        *cell += &sum;
    }
}

/// J + diag(1, 1, 2), the reference's internal matrix for t = 3.
fn internal_linear_layer(state: &mut [FpVar<Fr>; WIDTH]) {
    let sum = &state[0] + &state[1] + &state[2];
    state[0] += &sum;
    state[1] += &sum;
    state[2] = state[2].double().expect("doubling is linear") + &sum;
}

fn full_round(
    state: &mut [FpVar<Fr>; WIDTH],
    constants: &[Fr; WIDTH],
) -> Result<(), SynthesisError> {
    for (cell, c) in state.iter_mut().zip(constants) {
        *cell = sbox(&(&*cell + *c))?;
    }
    external_linear_layer(state);
    Ok(())
}

/// The outer Poseidon2 permutation of `state`.
pub fn permute(state: &[FpVar<Fr>; WIDTH]) -> Result<[FpVar<Fr>; WIDTH], SynthesisError> {
    let constants = Poseidon2Constants::outer();
    let mut state = state.clone();
    external_linear_layer(&mut state);
    for round in &constants.initial {
        full_round(&mut state, round)?;
    }
    for c in &constants.internal {
        state[0] = sbox(&(&state[0] + *c))?;
        internal_linear_layer(&mut state);
    }
    for round in &constants.terminal {
        full_round(&mut state, round)?;
    }
    Ok(state)
}

#[cfg(test)]
mod tests {
    use ark_r1cs_std::GR1CSVar;
    use ark_r1cs_std::alloc::AllocVar;
    use ark_r1cs_std::eq::EqGadget;
    use ark_relations::gr1cs::ConstraintSystem;
    use ark_std::UniformRand;
    use ark_std::rand::SeedableRng;
    use ark_std::rand::rngs::StdRng;
    use p3_symmetric::Permutation;
    use zkmips_prover::outer::outer_perm;

    use super::*;
    use crate::convert::{bn254_to_fr, fr_to_bn254};

    /// Guard: the permutation gadget must stay at 240 constraints.
    const PERMUTATION_CONSTRAINTS: usize = 240;

    fn native(input: [Fr; WIDTH]) -> [Fr; WIDTH] {
        outer_perm()
            .permute(input.map(fr_to_bn254))
            .map(bn254_to_fr)
    }

    #[test]
    fn gadget_equals_native_permutation_on_random_inputs() {
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..8 {
            let input: [Fr; WIDTH] = std::array::from_fn(|_| Fr::rand(&mut rng));
            let cs = ConstraintSystem::<Fr>::new_ref();
            let vars = input.map(|x| FpVar::new_witness(cs.clone(), || Ok(x)).unwrap());
            let output = permute(&vars).unwrap();
            let expected = native(input);
            for (o, e) in output.iter().zip(expected) {
                assert_eq!(o.value().unwrap(), e);
            }
            assert!(cs.is_satisfied().unwrap());
        }
    }

    #[test]
    fn constant_inputs_give_the_native_result_for_free() {
        let input = [Fr::from(0u64), Fr::from(1u64), Fr::from(2u64)];
        let output = permute(&input.map(FpVar::constant)).unwrap();
        let expected = native(input);
        for (o, e) in output.iter().zip(expected) {
            assert!(o.is_constant());
            assert_eq!(o.value().unwrap(), e);
        }
    }

    #[test]
    fn constraint_count_is_guarded() {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let vars =
            [1u64, 2, 3].map(|x| FpVar::new_witness(cs.clone(), || Ok(Fr::from(x))).unwrap());
        let before = cs.num_constraints();
        let _ = permute(&vars).unwrap();
        let count = cs.num_constraints() - before;
        println!("Poseidon2-BN254 t=3 permutation: {count} constraints");
        assert_eq!(count, PERMUTATION_CONSTRAINTS);
    }

    #[test]
    fn every_witness_of_the_permutation_is_bound() {
        crate::test_util::assert_every_witness_is_bound(|cs| {
            let input = [11u64, 12, 13].map(Fr::from);
            let expected = native(input);
            let vars = input.map(|x| FpVar::new_witness(cs.clone(), || Ok(x)).unwrap());
            let output = permute(&vars)?;
            for (o, e) in output.iter().zip(expected) {
                o.enforce_equal(&FpVar::new_input(cs.clone(), || Ok(e))?)?;
            }
            Ok(())
        });
    }

    #[test]
    fn wrong_claimed_output_is_unsatisfied() {
        let input = [Fr::from(5u64), Fr::from(6u64), Fr::from(7u64)];
        let expected = native(input);
        let cs = ConstraintSystem::<Fr>::new_ref();
        let vars = input.map(|x| FpVar::new_witness(cs.clone(), || Ok(x)).unwrap());
        let output = permute(&vars).unwrap();
        let claimed = FpVar::new_input(cs.clone(), || Ok(expected[0] + Fr::from(1u64))).unwrap();
        output[0].enforce_equal(&claimed).unwrap();
        assert!(!cs.is_satisfied().unwrap());
    }
}
