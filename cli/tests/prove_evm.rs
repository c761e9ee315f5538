//! `zkmips prove --evm` end to end on the fibonacci example (a run that fills the EVM shape's
//! CPU table): the command proves, wraps in Groth16 and verifies in the in-process EVM; it
//! reproduces the committed Foundry fixture byte for byte (which `forge test` verifies on chain);
//! and the Groth16 circuit is satisfied by the written STARK proof (its size guarded). The
//! circuit's rejections of an altered public input, entry or exit code run on the same statement
//! at test size (`wrapper/tests/mips_wrap.rs`); tampering with the STARK proof itself:
//! `wrapper/tests/batch_verifier.rs`.
//!
//! The Groth16 keys come from the shared cache (`target/zkmips-keys`, derived from the dev seed on
//! first use).

#[macro_use]
#[allow(unused_macros)]
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystem, OptimizationGoal};
use support::{scratch_dir, zkmips_bin};
use zkmips_prover::evm::{EvmProgram, EvmProof};
use zkmips_wrapper::verifier::mips::MipsWrapCircuit;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn prove_evm_writes_the_committed_fixture_and_its_stark_proof_satisfies_the_circuit() {
    let out = scratch_dir(&["prove-evm", "fibonacci"]);
    let output = Command::new(zkmips_bin())
        .current_dir(repo())
        .args(["prove", "--evm", "examples/bin/fibonacci.elf"])
        .args(["--input", "examples/fibonacci/input.bin"])
        .arg("-o")
        .arg(&out)
        .arg("--keys-dir")
        .arg(repo().join("target/zkmips-keys"))
        .output()
        .expect("zkmips runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("EVM gas"), "{stdout}");
    assert!(stderr.contains("NOT a trusted-setup ceremony"), "{stderr}");

    // Deterministic end to end: the committed fixture is what this command writes.
    let written = std::fs::read_to_string(out.join("fixture.json")).unwrap();
    let committed =
        std::fs::read_to_string(repo().join("contracts/fixtures/fibonacci_evm.json")).unwrap();
    assert_eq!(
        written, committed,
        "contracts/fixtures/fibonacci_evm.json is stale: regenerate it (docs/CONTRACTS.md)"
    );
    assert_eq!(
        std::fs::read(out.join("public_values.bin")).unwrap(),
        [
            &1000u32.to_le_bytes()[..],
            &817770325994397771u64.to_le_bytes()[..]
        ]
        .concat()
    );

    // The circuit over the written STARK proof.
    let elf = std::fs::read(repo().join("examples/bin/fibonacci.elf")).unwrap();
    let program = EvmProgram::from_elf(&elf).unwrap();
    let proof: EvmProof =
        postcard::from_bytes(&std::fs::read(out.join("stark_proof.bin")).unwrap()).unwrap();
    let honest = MipsWrapCircuit::new(&program, &proof).unwrap();
    let cs = ConstraintSystem::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    honest.generate_constraints(cs.clone()).unwrap();
    assert!(cs.is_satisfied().unwrap(), "the honest witness");
    // Size guard (BENCHMARKS.md): 4,529,939 at the time of writing.
    let constraints = cs.num_constraints();
    println!("wrap circuit: {constraints} constraints");
    assert!(constraints <= 4_600_000, "{constraints} constraints");
}
