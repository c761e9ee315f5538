//! The EVM shape of a run (`zkmips_prover::evm`), which the recursion path of `prove --evm`
//! proves, compresses and wraps: a bundled example far shorter than the shape fills every table
//! at its shape height (the CPU table pads with its own rows) with the statement's public
//! values; the programVKey depends on the program; runs outside the statement (too long, never
//! halting, keccak) are refused before any table is built. Proving and verifying these tables:
//! `zkmips_recursion::mips` and `evm_chain` (test settings), `cli/tests/prove_evm.rs`
//! (production settings).

use p3_field::PrimeField32;
use sha2::{Digest, Sha256};
use zkmips_executor::Program;
use zkmips_prover::config::INNER_TEST_FRI;
use zkmips_prover::evm::{
    CPU_INSTANCE, EVM_SHAPE, EvmError, EvmProgram, IMAGE_INSTANCE, evm_run_tables,
    image_public_values,
};

fn read(path: &str) -> Vec<u8> {
    let path = format!("{}/../examples/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn example(name: &str) -> Vec<u8> {
    read(&format!("bin/{name}.elf"))
}

fn evm_program(name: &str) -> EvmProgram {
    EvmProgram::from_elf(&example(name)).unwrap()
}

#[test]
fn a_bundled_example_fills_the_shape_with_the_statement() {
    // c-sum: about 5k instructions, a third of the CPU table.
    let program = evm_program("c-sum");
    let (tables, committed) =
        evm_run_tables(&program, vec![read("c-sum/input.txt")], vec![]).unwrap();
    assert_eq!(tables.len(), EVM_SHAPE.len());
    for (table, (chip, log_height)) in tables.iter().zip(EVM_SHAPE) {
        assert_eq!(
            table.trace.values.len() / table.trace.width,
            1 << log_height,
            "{chip}"
        );
    }
    assert!(!committed.is_empty());
    // The CPU starts at the entry and halts; the image exposes exit code 0 and the digest.
    let entry = program.program().entry;
    let cpu: Vec<u32> = tables[CPU_INSTANCE]
        .public_values
        .iter()
        .map(|v| v.as_canonical_u32())
        .collect();
    // `CpuPublicValues::to_field` order: initial pc, initial next pc, ..., halted last.
    assert_eq!((cpu[0], cpu[1], cpu[5]), (entry, entry + 4, 1));
    let digest: [u8; 32] = Sha256::digest(&committed).into();
    assert_eq!(
        tables[IMAGE_INSTANCE].public_values,
        image_public_values(0, &digest)
    );
}

#[test]
fn the_vkey_depends_on_the_program() {
    let vkey = |name| evm_program(name).compressed_vkey(&INNER_TEST_FRI).unwrap();
    assert_ne!(vkey("c-sum"), vkey("fibonacci"));
}

#[test]
fn runs_outside_the_evm_statement_are_refused() {
    let keccak = EvmProgram::from_elf(&example("keccak")).unwrap();
    let result = evm_run_tables(&keccak, vec![read("keccak/input.txt")], vec![]);
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
    let result = evm_run_tables(&program, vec![], vec![]);
    assert!(
        matches!(result, Err(EvmError::Keccak { pc: 0x0040_000c })),
        "{:?}",
        result.err()
    );

    // `b .; nop`: never halts; refused after one shard's worth of instructions, not run forever.
    let program = EvmProgram::new(Program::from_code(0x0040_0000, &[0x1000_ffff, 0])).unwrap();
    let result = evm_run_tables(&program, vec![], vec![]);
    assert!(
        matches!(result, Err(EvmError::TooLong { .. })),
        "{:?}",
        result.err()
    );
}
