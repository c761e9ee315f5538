//! Shared test helpers.

use ark_ff::Zero;
use ark_relations::gr1cs::{
    ConstraintSystem, ConstraintSystemRef, OptimizationGoal, R1CS_PREDICATE_LABEL, SynthesisError,
};

use crate::Fr;

/// A small deterministic generator for test inputs.
pub fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Builds a circuit with an honest witness, checks it is satisfied, then changes each witness
/// variable in turn (by +1) and checks that some R1CS row `<A,z> * <B,z> = <C,z>` breaks: no
/// witness is left free for a cheating prover. Works on the finalized (inlined) matrices — what
/// Groth16 proves — and only re-evaluates the rows that mention the changed variable.
pub fn assert_every_witness_is_bound(
    build: impl FnOnce(&ConstraintSystemRef<Fr>) -> Result<(), SynthesisError>,
) {
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    build(&cs).expect("synthesis");
    cs.finalize();
    assert!(cs.is_satisfied().unwrap(), "honest witness must satisfy");

    let matrices = cs.to_matrices().expect("matrices");
    assert_eq!(matrices.len(), 1, "only the R1CS predicate is used");
    let [a, b, c] = <[_; 3]>::try_from(matrices[R1CS_PREDICATE_LABEL].clone()).expect("A, B, C");
    let (mut z, num_instance) = {
        let inner = cs.borrow().expect("cs");
        let instance = &inner.assignments.instance_assignment;
        let z: Vec<Fr> = instance
            .iter()
            .chain(&inner.assignments.witness_assignment)
            .copied()
            .collect();
        (z, instance.len())
    };
    assert!(z.len() > num_instance, "the circuit has witnesses");
    let dot = |row: &[(Fr, usize)], z: &[Fr]| -> Fr { row.iter().map(|(k, i)| *k * z[*i]).sum() };
    let row_holds = |r: usize, z: &[Fr]| dot(&a[r], z) * dot(&b[r], z) == dot(&c[r], z);
    assert!(
        (0..a.len()).all(|r| row_holds(r, &z)),
        "matrices agree with is_satisfied"
    );

    let mut rows_of_column = vec![Vec::new(); z.len()];
    for matrix in [&a, &b, &c] {
        for (r, row) in matrix.iter().enumerate() {
            for &(k, i) in row {
                if !k.is_zero() {
                    rows_of_column[i].push(r);
                }
            }
        }
    }
    for column in num_instance..z.len() {
        let original = z[column];
        z[column] = original + Fr::from(1u64);
        let detected = rows_of_column[column].iter().any(|&r| !row_holds(r, &z));
        z[column] = original;
        assert!(
            detected,
            "witness {} is unconstrained",
            column - num_instance
        );
    }
}

#[cfg(test)]
mod tests {
    use ark_r1cs_std::alloc::AllocVar;
    use ark_r1cs_std::eq::EqGadget;
    use ark_r1cs_std::fields::fp::FpVar;

    use super::*;

    #[test]
    #[should_panic(expected = "witness 1 is unconstrained")]
    fn the_harness_reports_a_free_witness() {
        assert_every_witness_is_bound(|cs| {
            let x = FpVar::new_witness(cs.clone(), || Ok(Fr::from(3u64)))?;
            let _free = FpVar::new_witness(cs.clone(), || Ok(Fr::from(4u64)))?;
            let nine = FpVar::new_input(cs.clone(), || Ok(Fr::from(9u64)))?;
            (&x * &x).enforce_equal(&nine)
        });
    }
}
