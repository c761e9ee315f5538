//! EVM proofs (one fixed-shape shard under the outer config): a bundled example far shorter
//! than the shape proves and verifies (the CPU table pads with its own rows); a proof is
//! rejected for another program, other public values, other public values of the CPU or a run
//! that does not start at the entry; runs outside the statement (too long, never halting,
//! keccak) are refused before proving. The proofs here use the test-only outer settings
//! (`WRAP_TEST_FRI`: the same statement, a cheaper proof); `cli/tests/prove_evm.rs` covers the
//! production settings with a run filling the shape.

use std::sync::OnceLock;

use zkmips_executor::Program;
use zkmips_prover::evm::{EvmError, EvmProgram, EvmProof, prove_evm, verify_evm};
use zkmips_prover::outer::WRAP_TEST_FRI;

fn read(path: &str) -> Vec<u8> {
    let path = format!("{}/../examples/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn example(name: &str) -> Vec<u8> {
    read(&format!("bin/{name}.elf"))
}

fn evm_program(name: &str) -> EvmProgram {
    EvmProgram::from_elf(&example(name))
        .unwrap()
        .with_fri(WRAP_TEST_FRI)
}

/// c-sum: about 5k instructions, a third of the CPU table.
fn c_sum() -> &'static (EvmProgram, EvmProof) {
    static PROOF: OnceLock<(EvmProgram, EvmProof)> = OnceLock::new();
    PROOF.get_or_init(|| {
        let program = evm_program("c-sum");
        let input = read("c-sum/input.txt");
        let proof = prove_evm(&program, vec![input], vec![]).unwrap();
        (program, proof)
    })
}

#[test]
fn a_bundled_example_proves_and_verifies() {
    let (program, proof) = c_sum();
    verify_evm(program, proof).unwrap();
    assert!(proof.cpu.halted);
    assert!(!proof.public_values.is_empty());
}

#[test]
fn a_proof_is_bound_to_its_program_and_public_values() {
    let (program, proof) = c_sum();
    let other = evm_program("fibonacci");
    assert!(
        verify_evm(&other, proof).is_err(),
        "another program's fixed tables"
    );

    let bytes = postcard::to_allocvec(proof).unwrap();
    let mut forged: EvmProof = postcard::from_bytes(&bytes).unwrap();
    forged.public_values[0] ^= 1;
    assert!(
        verify_evm(program, &forged).is_err(),
        "other committed bytes"
    );

    let mut forged: EvmProof = postcard::from_bytes(&bytes).unwrap();
    forged.cpu.cycles += 1;
    assert!(verify_evm(program, &forged).is_err(), "other cycle count");

    let mut forged: EvmProof = postcard::from_bytes(&bytes).unwrap();
    forged.cpu.final_pc += 4;
    assert!(verify_evm(program, &forged).is_err(), "another final state");

    let mut forged: EvmProof = postcard::from_bytes(&bytes).unwrap();
    forged.cpu.halted = false;
    assert!(verify_evm(program, &forged).is_err(), "not halted");

    let mut forged: EvmProof = postcard::from_bytes(&bytes).unwrap();
    forged.proof.degree_bits[2] += 1;
    assert!(verify_evm(program, &forged).is_err(), "another shape");

    let mut forged: EvmProof = postcard::from_bytes(&bytes).unwrap();
    forged.cpu.initial_pc += 4;
    forged.cpu.initial_next_pc += 4;
    assert!(
        verify_evm(program, &forged).is_err(),
        "a start after the entry"
    );
}

#[test]
fn the_vkey_depends_on_the_program() {
    let (program, _) = c_sum();
    let other = evm_program("fibonacci");
    assert_ne!(program.vkey().unwrap(), other.vkey().unwrap());
}

#[test]
fn runs_outside_the_evm_statement_are_refused_before_proving() {
    let keccak = EvmProgram::from_elf(&example("keccak")).unwrap();
    let result = prove_evm(&keccak, vec![read("keccak/input.txt")], vec![]);
    assert!(
        matches!(result, Err(EvmError::TooLong { .. })),
        "{:?}",
        result.err()
    );

    // `ori $a0, $zero, 0x2000; lui $v0, 1; ori $v0, $v0, 0x102; syscall` (KECCAK_PERMUTE on
    // 0x2000), then HALT: `lui $v0, 1; syscall`.
    let code = [
        0x3404_2000,
        0x3c02_0001,
        0x3442_0102,
        0x0000_000c,
        0x3c02_0001,
        0x0000_000c,
    ];
    let program = EvmProgram::new(Program::from_code(0x0040_0000, &code)).unwrap();
    let result = prove_evm(&program, vec![], vec![]);
    assert!(
        matches!(result, Err(EvmError::Keccak { pc: 0x0040_000c })),
        "{:?}",
        result.err()
    );

    // `b .; nop`: never halts; refused after one shard's worth of instructions, not run forever.
    let program = EvmProgram::new(Program::from_code(0x0040_0000, &[0x1000_ffff, 0])).unwrap();
    let result = prove_evm(&program, vec![], vec![]);
    assert!(
        matches!(result, Err(EvmError::TooLong { .. })),
        "{:?}",
        result.err()
    );
}
