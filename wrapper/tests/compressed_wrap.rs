//! The EVM statement over the recursion path, end to end at test size (`EvmRecursionChain`): a
//! MIPS shard proof (c-sum, EVM shape, inner config) → the compress program checking the
//! statement → its proof → the shrink program verifying that proof, proven under the outer
//! config in the wrap's layout → the Groth16 circuit `CompressedWrapCircuit`, whose public
//! inputs must be the program's compressed programVKey and the committed values' digest.
//! Tampered public inputs, statement values and opened values leave it unsatisfied; the blank
//! circuit keys are derived from is the same circuit.

use std::sync::OnceLock;

use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystem, OptimizationGoal};
use p3_field::PrimeCharacteristicRing;
use p3_koala_bear::KoalaBear;
use zkmips_prover::config::INNER_TEST_FRI;
use zkmips_prover::evm::EvmProgram;
use zkmips_prover::outer::WRAP_TEST_FRI;
use zkmips_recursion::evm_chain::EvmRecursionChain;
use zkmips_recursion::machine::table;
use zkmips_recursion::mips::statement;
use zkmips_wrapper::Fr;
use zkmips_wrapper::keys::circuit_digest;
use zkmips_wrapper::koalabear::KoalaBearExt;
use zkmips_wrapper::solidity::groth16_public_inputs;
use zkmips_wrapper::verifier::compressed::{CompressedWrapCircuit, digest_bytes};

fn read(path: &str) -> Vec<u8> {
    let path = format!("{}/../examples/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

struct Fixture {
    circuit: CompressedWrapCircuit,
    /// The circuit Groth16 keys are derived from: the shape alone.
    blank: CompressedWrapCircuit,
    expected_inputs: [Fr; 2],
}

/// c-sum down the chain (built from fibonacci's shape: one chain serves every guest), the
/// shrink proof wrapped with the chain's shared fixed tables.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let chain = EvmRecursionChain::new(
            &INNER_TEST_FRI,
            &WRAP_TEST_FRI,
            &EvmProgram::from_elf(&read("bin/fibonacci.elf")).unwrap(),
        )
        .unwrap();
        let fixed = chain.shrink_fixed_tables().unwrap();
        let program = EvmProgram::from_elf(&read("bin/c-sum.elf")).unwrap();
        let proved = chain
            .prove(&program, vec![read("c-sum/input.txt")], vec![], &fixed)
            .unwrap();
        let airs = chain.shrink().airs();
        let circuit = CompressedWrapCircuit::with_fixed(
            &WRAP_TEST_FRI,
            airs,
            &fixed,
            &proved.proof.proof,
            &proved.proof.public_values,
        )
        .unwrap();
        let blank = CompressedWrapCircuit::blank(&WRAP_TEST_FRI, airs, &fixed).unwrap();
        let vkey = program.compressed_vkey(&INNER_TEST_FRI).unwrap();
        let expected_inputs = groth16_public_inputs(&vkey.0, &proved.committed).unwrap();
        Fixture {
            circuit,
            blank,
            expected_inputs,
        }
    })
}

fn satisfied(circuit: CompressedWrapCircuit) -> bool {
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    circuit
        .generate_constraints(cs.clone())
        .expect("synthesis succeeds for any witness of the right shape");
    cs.is_satisfied().expect("witness values")
}

fn assert_rejected(alter: impl FnOnce(&mut CompressedWrapCircuit), what: &str) {
    let mut circuit = fixture().circuit.clone();
    alter(&mut circuit);
    assert!(!satisfied(circuit), "{what} must be rejected");
}

#[test]
fn the_public_inputs_are_the_programs_vkey_and_the_committed_digest() {
    let f = fixture();
    assert_eq!(f.circuit.public_inputs, f.expected_inputs);
    assert_eq!(f.circuit.statement.len(), statement::LEN);
}

/// Keys derived from the blank circuit serve real proofs: both synthesize the same constraint
/// matrices (the digest the key cache checks).
#[test]
fn the_blank_circuit_is_the_proving_circuit() {
    let f = fixture();
    let digest = |circuit: &CompressedWrapCircuit| circuit_digest("compressed", circuit.clone());
    assert_eq!(digest(&f.blank).unwrap(), digest(&f.circuit).unwrap());
    assert!(!satisfied(f.blank.clone()), "the blank witness is no proof");
}

#[test]
fn the_honest_wrap_is_satisfied_and_tampering_is_not() {
    assert!(satisfied(fixture().circuit.clone()), "the honest wrap");
    assert_rejected(
        |c| c.public_inputs[0] += Fr::from(1u64),
        "another programVKey",
    );
    assert_rejected(|c| c.public_inputs[1] += Fr::from(1u64), "another digest");
    // A statement value changed together with the public input it determines: the values
    // are the shrink proof's public values, so the STARK verifier refuses them.
    assert_rejected(
        |c| {
            c.statement[statement::DIGEST.start] += KoalaBear::ONE;
            let bytes = digest_bytes(&c.statement[statement::DIGEST]);
            c.public_inputs[1] = zkmips_wrapper::solidity::fr_from_be_bytes(&bytes).unwrap();
        },
        "a digest limb with its digest",
    );
    assert_rejected(
        |c| c.statement[statement::ENTRY] += KoalaBear::ONE,
        "another entry",
    );
    assert_rejected(
        |c| c.witness.instances[table::POSEIDON2].trace_next[3] += KoalaBearExt::ONE,
        "an opened Poseidon2 round value",
    );
}
