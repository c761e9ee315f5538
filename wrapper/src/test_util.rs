//! Shared test helpers.

use ark_relations::gr1cs::{ConstraintSystem, ConstraintSystemRef, OptimizationGoal, SynthesisError};

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
/// variable in turn (by +1) and checks the system becomes unsatisfied: no witness is left free
/// for a cheating prover. Symbolic linear combinations are inlined first and their cached values
/// dropped, so every check re-evaluates from the (tampered) witnesses.
pub fn assert_every_witness_is_bound(
    build: impl FnOnce(&ConstraintSystemRef<Fr>) -> Result<(), SynthesisError>,
) {
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    build(&cs).expect("synthesis");
    cs.finalize();
    cs.borrow_mut().expect("cs").assignments.lc_assignment.clear();
    assert!(cs.is_satisfied().unwrap(), "honest witness must satisfy");
    let witnesses = cs.num_witness_variables();
    assert!(witnesses > 0);
    for i in 0..witnesses {
        let original = cs.borrow().expect("cs").assignments.witness_assignment[i];
        cs.borrow_mut().expect("cs").assignments.witness_assignment[i] = original + Fr::from(1u64);
        assert!(!cs.is_satisfied().unwrap(), "witness {i} of {witnesses} is unconstrained");
        cs.borrow_mut().expect("cs").assignments.witness_assignment[i] = original;
    }
}
