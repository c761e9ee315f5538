//! The statement layer of the one-shard EVM wrap circuit (`MipsWrapCircuit`) at test size: an
//! EVM proof of fibonacci under the test-only outer settings (`WRAP_TEST_FRI`, the same tables
//! and statement as production, 3 queries) satisfies the circuit, and the circuit is unsatisfied
//! when a public input (programVKey, publicValuesDigest), the entry or the exit code is altered.
//! The production-size circuit over a real `zkmips prove --evm` proof (satisfied, size guarded,
//! Groth16-proven and verified on the EVM): `cli/tests/prove_evm.rs`. Tampering with the STARK
//! proof itself: `batch_verifier.rs`.

use std::sync::OnceLock;

use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystem, OptimizationGoal};
use p3_field::PrimeCharacteristicRing;
use p3_koala_bear::KoalaBear;
use zkmips_prover::evm::{EvmProgram, prove_evm};
use zkmips_prover::outer::WRAP_TEST_FRI;
use zkmips_wrapper::Fr;
use zkmips_wrapper::verifier::mips::MipsWrapCircuit;

fn example(path: &str) -> Vec<u8> {
    let path = format!("{}/../examples/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The circuit over a test-settings EVM proof of fibonacci (the run that fills the CPU table).
fn honest() -> &'static MipsWrapCircuit {
    static CIRCUIT: OnceLock<MipsWrapCircuit> = OnceLock::new();
    CIRCUIT.get_or_init(|| {
        let program = EvmProgram::from_elf(&example("bin/fibonacci.elf"))
            .unwrap()
            .with_fri(WRAP_TEST_FRI);
        let proof = prove_evm(&program, vec![example("fibonacci/input.bin")], vec![]).unwrap();
        MipsWrapCircuit::new(&program, &proof).expect("the proof verifies natively")
    })
}

fn satisfied(circuit: MipsWrapCircuit) -> bool {
    let cs = ConstraintSystem::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    // A synthesis error (a shape the circuit refuses) is a rejection too.
    circuit.generate_constraints(cs.clone()).is_ok() && cs.is_satisfied().unwrap()
}

#[test]
fn the_honest_witness_satisfies_the_circuit() {
    assert!(satisfied(honest().clone()));
}

#[test]
fn a_wrong_program_vkey_is_rejected() {
    let mut circuit = honest().clone();
    circuit.public_inputs[0] += Fr::from(1u64);
    assert!(!satisfied(circuit));
}

#[test]
fn a_wrong_public_values_digest_is_rejected() {
    let mut circuit = honest().clone();
    circuit.public_inputs[1] += Fr::from(1u64);
    assert!(!satisfied(circuit));
}

#[test]
fn another_entry_is_rejected() {
    // The vkey binds the entry, and the CPU must start there.
    let mut circuit = honest().clone();
    circuit.entry += 4;
    assert!(!satisfied(circuit));
}

#[test]
fn a_nonzero_exit_code_is_rejected() {
    // The exit code is a public value of the image table (instance 12), low limb first.
    let mut circuit = honest().clone();
    circuit.public_values[12][0] = KoalaBear::ONE;
    assert!(!satisfied(circuit));
}
