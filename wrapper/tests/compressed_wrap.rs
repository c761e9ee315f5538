//! The EVM statement over the recursion path, end to end at test size: a MIPS shard proof
//! (c-sum, EVM shape, inner config) → the compress program checking the statement → its proof →
//! the shrink program verifying that proof, proven under the outer config with one Poseidon2
//! round per row and uniform heights → the Groth16 circuit `CompressedWrapCircuit`, whose
//! public inputs must be the program's compressed programVKey and the committed values'
//! digest. Tampered public inputs, statement values and opened values leave it unsatisfied.

use std::sync::OnceLock;

use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystem, OptimizationGoal};
use p3_field::PrimeCharacteristicRing;
use p3_koala_bear::KoalaBear;
use zkmips_prover::config::{FriSettings, INNER_FRI, inner_config_with};
use zkmips_prover::evm::EvmProgram;
use zkmips_prover::outer::{WRAP_TEST_FRI, outer_config_with};
use zkmips_recursion::layers::VerifierLayer;
use zkmips_recursion::machine::{Poseidon2Layout, RecursionMachine, table};
use zkmips_recursion::mips::{MipsShardVerifier, prove_mips_shard, statement};
use zkmips_wrapper::Fr;
use zkmips_wrapper::koalabear::KoalaBearExt;
use zkmips_wrapper::solidity::groth16_public_inputs;
use zkmips_wrapper::verifier::compressed::{CompressedWrapCircuit, digest_bytes};

/// Inner settings of the MIPS shard and compress proofs: every grinding site and folding
/// round, few queries (the verifier programs stay small).
const INNER_TEST_FRI: FriSettings = FriSettings {
    num_queries: 2,
    query_pow_bits: 1,
    commit_pow_bits: 1,
    batch_pow_bits: 1,
    lookup_pow_bits: 1,
    ood_pow_bits: 1,
    ..INNER_FRI
};

fn read(path: &str) -> Vec<u8> {
    let path = format!("{}/../examples/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

struct Fixture {
    circuit: CompressedWrapCircuit,
    expected_inputs: [Fr; 2],
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let program = EvmProgram::from_elf(&read("bin/c-sum.elf")).unwrap();
        let shard = prove_mips_shard(
            &INNER_TEST_FRI,
            &program,
            vec![read("c-sum/input.txt")],
            vec![],
        )
        .unwrap();

        // Compress: the statement program over the shard proof.
        let compress = MipsShardVerifier::statement(&INNER_TEST_FRI, &program).unwrap();
        let stream = compress.witness(&program, &shard).unwrap().stream();
        let compress_machine = RecursionMachine::new(compress.program().clone());
        let inner_config = inner_config_with(&INNER_TEST_FRI);
        let compress_proof = compress_machine.prove(&inner_config, &stream).unwrap();
        compress_machine
            .verify(&inner_config, &compress_proof)
            .unwrap();

        // Shrink: the verifier of compress proofs, in the layout made for the wrap.
        let layer = VerifierLayer::new(
            &compress_machine,
            &compress_proof.proof.degree_bits,
            &INNER_TEST_FRI,
            RecursionMachine::min_height_for(&WRAP_TEST_FRI),
        )
        .unwrap();
        let shrink_stream = layer.witness(&compress_machine, &compress_proof).unwrap();
        let shrink = layer
            .machine()
            .with_poseidon2_layout(Poseidon2Layout::RoundPerRow)
            .with_uniform_heights(&WRAP_TEST_FRI);
        let outer_config = outer_config_with(&WRAP_TEST_FRI);
        let shrink_proof = shrink.prove(&outer_config, &shrink_stream).unwrap();
        shrink.verify(&outer_config, &shrink_proof).unwrap();
        assert_eq!(shrink_proof.public_values, compress_proof.public_values);

        let circuit = CompressedWrapCircuit::new(
            &WRAP_TEST_FRI,
            shrink.airs(),
            &shrink_proof.proof,
            &shrink_proof.public_values,
        )
        .unwrap();
        let vkey = program.compressed_vkey(&INNER_TEST_FRI).unwrap();
        let expected_inputs = groth16_public_inputs(&vkey.0, &shard.committed).unwrap();
        Fixture {
            circuit,
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
