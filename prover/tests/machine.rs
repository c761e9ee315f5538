//! Whole runs: a bundled example proven in several shards verifies; the verifier rejects a proof
//! for another program, changed public values or exit code, a dropped, repeated or reordered
//! shard, a forged memory interface and corrupted proof bytes; unprovable runs are refused
//! before proving.

use std::sync::OnceLock;

use zkmips_executor::{Executor, Program};
use zkmips_prover::chips::ProgramChip;
use zkmips_prover::chips::memory::BoundaryEntry;
use zkmips_prover::config::inner_config;
use zkmips_prover::machine::{
    MachineError, MachineProof, MachineVerifyError, check_no_code_access, check_provable,
    executor_config, prove_run, verify_run,
};
use zkmips_prover::vkey::{ProgramVkey, program_vkey};

const FIBONACCI: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/bin/fibonacci.elf");
const SDK_CHECK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/bin/sdk-check.elf");

fn elf(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn vkey_of(elf: &[u8]) -> ProgramVkey {
    program_vkey(&inner_config(), &Program::from_elf(elf).unwrap()).unwrap()
}

/// fib(20) (about 4.8k cycles) proven in shards of 1500 cycles: 4 shards. Proven once, shared.
fn proof_bytes() -> &'static [u8] {
    static PROOF: OnceLock<Vec<u8>> = OnceLock::new();
    PROOF.get_or_init(|| {
        let input = 20u32.to_le_bytes().to_vec();
        let (proof, timings) =
            prove_run(&elf(FIBONACCI), vec![input], vec![], 1500, |_, _| {}).unwrap();
        assert_eq!(timings.shards.len(), 4);
        proof.to_bytes().unwrap()
    })
}

fn proof() -> MachineProof {
    MachineProof::from_bytes(proof_bytes()).unwrap()
}

fn fib_vkey() -> ProgramVkey {
    vkey_of(&elf(FIBONACCI))
}

#[test]
fn fibonacci_proves_and_verifies_in_several_shards() {
    let run = verify_run(&proof(), &fib_vkey()).expect("honest proof verifies");
    assert_eq!(run.exit_code, 0);
    assert_eq!(run.shards, 4);
    // The guest commits n (u32) then fib(n) (u64), little-endian.
    let mut expected = 20u32.to_le_bytes().to_vec();
    expected.extend(6765u64.to_le_bytes());
    assert_eq!(run.public_values, expected);
}

#[test]
fn proof_for_another_program_is_rejected() {
    let other = vkey_of(&elf(SDK_CHECK));
    assert!(matches!(
        verify_run(&proof(), &other),
        Err(MachineVerifyError::WrongProgram { .. })
    ));
    // Swapping in the other ELF while keeping the claimed vkey does not help either.
    let mut proof = proof();
    proof.elf = elf(SDK_CHECK);
    assert!(matches!(
        verify_run(&proof, &fib_vkey()),
        Err(MachineVerifyError::WrongProgram { .. })
    ));
}

#[test]
fn changed_public_values_are_rejected() {
    let mut proof = proof();
    proof.public_values[4] ^= 1;
    assert!(matches!(
        verify_run(&proof, &fib_vkey()),
        Err(MachineVerifyError::PublicValues)
    ));
    let mut proof = self::proof();
    proof.public_values.push(0);
    assert!(verify_run(&proof, &fib_vkey()).is_err());
}

#[test]
fn changed_exit_code_is_rejected() {
    let mut proof = proof();
    proof.exit_code = 1;
    assert!(matches!(
        verify_run(&proof, &fib_vkey()),
        Err(MachineVerifyError::ExitCode { .. })
    ));
}

#[test]
fn dropped_repeated_or_reordered_shards_are_rejected() {
    let vkey = fib_vkey();
    for (name, edit) in [
        (
            "drop the first",
            (|s: &mut Vec<_>| drop(s.remove(0))) as fn(&mut Vec<_>),
        ),
        ("drop a middle one", |s| drop(s.remove(1))),
        ("drop the last", |s| drop(s.pop())),
        ("swap two", |s| s.swap(1, 2)),
        ("repeat one", |s| {
            let copy = MachineProof::from_bytes(proof_bytes())
                .unwrap()
                .shards
                .remove(1);
            s.insert(1, copy);
        }),
        ("no shards", |s| s.clear()),
    ] {
        let mut proof = proof();
        edit(&mut proof.shards);
        assert!(verify_run(&proof, &vkey).is_err(), "{name}: accepted");
    }
}

#[test]
fn forged_memory_interface_is_rejected() {
    let vkey = fib_vkey();
    // A value before the shard that is not the previous shard's value after it.
    let mut proof = proof();
    proof.shards[1].interface[0].init_value ^= 1;
    assert!(matches!(
        verify_run(&proof, &vkey),
        Err(MachineVerifyError::Chain { shard: 1, .. })
    ));
    // A value after the shard other than what the shard's accesses left: the shard proof
    // was made for the honest interface.
    let mut proof = self::proof();
    let entry = &mut proof.shards[1].interface[3];
    entry.final_value = entry.final_value.wrapping_add(1);
    assert!(matches!(
        verify_run(&proof, &vkey),
        Err(MachineVerifyError::Shard { shard: 1, .. })
    ));
    // A location dropped from the interface (its accesses then have nothing to chain from).
    let mut proof = self::proof();
    proof.shards[2].interface.remove(0);
    assert!(verify_run(&proof, &vkey).is_err());
}

#[test]
fn corrupted_proof_bytes_are_rejected_without_panicking() {
    let bytes = proof_bytes();
    let vkey = fib_vkey();
    // A spread of positions through the file: header, ELF, interface, batch proofs.
    let step = bytes.len() / 23;
    for position in (0..bytes.len())
        .step_by(step)
        .chain([0, 9, bytes.len() - 1])
    {
        let mut corrupt = bytes.to_vec();
        corrupt[position] ^= 0x5a;
        let outcome = std::panic::catch_unwind(|| match MachineProof::from_bytes(&corrupt) {
            Err(_) => false,
            Ok(proof) => verify_run(&proof, &vkey).is_ok(),
        });
        match outcome {
            Ok(accepted) => assert!(!accepted, "byte {position} flipped: accepted"),
            Err(_) => panic!("byte {position} flipped: the verifier panicked"),
        }
    }
    assert!(MachineProof::from_bytes(&bytes[..bytes.len() / 2]).is_err());
    assert!(MachineProof::from_bytes(b"not a proof").is_err());
}

/// A run using an instruction the prover does not cover is refused before proving, naming it.
#[test]
fn unprovable_instruction_is_refused_before_proving() {
    // `mtc1 $zero, $f0` (FPU), then HALT: `lui $v0, 1; syscall`.
    let program = Program::from_code(0x0040_0000, &[0x4480_0000, 0x3c02_0001, 0x0000_000c]);
    let mut executor = Executor::new(&program, executor_config(vec![], vec![], 100)).unwrap();
    let shards = executor.run().unwrap().record.unwrap().shards;
    let chip = ProgramChip::new(&program).unwrap();
    let err = check_provable(&chip, &shards).unwrap_err();
    assert!(matches!(
        err,
        MachineError::Unprovable {
            pc: 0x0040_0000,
            ..
        }
    ));
    let message = err.to_string();
    assert!(message.contains("mtc1"), "{message}");
    assert!(message.contains("0x00400000"), "{message}");
}

/// Code is not data: a run that loads from its text segment is refused before proving, naming the
/// instruction, and the verifier rejects a memory interface reaching into code.
#[test]
fn code_is_never_accessed_as_data() {
    // `lui $t0, 0x40; lw $t1, 4($t0); lui $v0, 1; syscall`.
    let program = Program::from_code(
        0x0040_0000,
        &[0x3c08_0040, 0x8d09_0004, 0x3c02_0001, 0x0000_000c],
    );
    let mut executor = Executor::new(&program, executor_config(vec![], vec![], 100)).unwrap();
    let shards = executor.run().unwrap().record.unwrap().shards;
    let err = check_no_code_access(&program, &shards).unwrap_err();
    assert!(
        matches!(
            err,
            MachineError::CodeAccess {
                pc: 0x0040_0004,
                addr: 0x0040_0004,
                ..
            }
        ),
        "{err}"
    );

    let mut proof = proof();
    let code = Program::from_elf(&proof.elf).unwrap().entry;
    proof.shards[1].interface.push(BoundaryEntry {
        addr: code,
        init_value: 0,
        final_value: 0,
        final_ts: 0,
    });
    let err = verify_run(&proof, &fib_vkey()).unwrap_err();
    assert!(
        matches!(err, MachineVerifyError::Chain { shard: 1, .. })
            && err.to_string().contains("executable"),
        "{err}"
    );
}

/// Proves and verifies a bundled example on `inputs`/`hints` (shards of 2^16 cycles); returns the
/// proven exit code.
fn prove_example_with(name: &str, inputs: Vec<Vec<u8>>, hints: Vec<Vec<u8>>) -> u32 {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples");
    let elf = elf(&format!("{root}/bin/{name}.elf"));
    let (proof, _) = prove_run(&elf, inputs, hints, 1 << 16, |_, _| {})
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let bytes = proof.to_bytes().unwrap();
    let proof = MachineProof::from_bytes(&bytes).unwrap();
    let run = verify_run(&proof, &vkey_of(&elf)).unwrap_or_else(|e| panic!("{name}: {e}"));
    run.exit_code
}

/// sdk-check with its inputs (x = 10^12 + 5, a postcard `Vec<u32>`) and hints (isqrt(x), 5
/// bytes), as `cli/tests/examples.rs` runs it.
#[test]
fn example_sdk_check_proves() {
    let x: u64 = 1_000_000_000_005;
    let values: Vec<u32> = vec![7, 70_000, u32::MAX, 0];
    let inputs = vec![
        x.to_le_bytes().to_vec(),
        postcard::to_allocvec(&values).unwrap(),
    ];
    let hints = vec![
        postcard::to_allocvec(&1_000_000u64).unwrap(),
        b"extra".to_vec(),
    ];
    assert_eq!(prove_example_with("sdk-check", inputs, hints), 0);
}

/// A guest that panics (sdk-check without its inputs) exits with code 1: a proof of that run
/// verifies and proves exit code 1.
#[test]
fn panicking_guest_proves_exit_code_1() {
    assert_eq!(prove_example_with("sdk-check", vec![], vec![]), 1);
}

/// Shards are independent jobs: each shard's input (the `Shard`) and output (the `ShardProof`)
/// round-trip through bytes, the shards are proven in reverse order, and the assembled proof
/// verifies.
#[test]
fn shards_are_independent_serializable_jobs() {
    use zkmips_prover::machine::{ShardProof, prove_shard};
    let elf = elf(FIBONACCI);
    let program = Program::from_elf(&elf).unwrap();
    let chip = ProgramChip::new(&program).unwrap();
    let mut executor = Executor::new(
        &program,
        executor_config(vec![7u32.to_le_bytes().to_vec()], vec![], 1000),
    )
    .unwrap();
    let report = executor.run().unwrap();
    let shards = report.record.unwrap().shards;
    assert!(shards.len() >= 3);
    let jobs: Vec<Vec<u8>> = shards
        .iter()
        .map(|s| postcard::to_allocvec(s).unwrap())
        .collect();
    let config = inner_config();
    let mut results: Vec<(usize, Vec<u8>)> = jobs
        .iter()
        .enumerate()
        .rev()
        .map(|(index, job)| {
            let shard: zkmips_executor::Shard = postcard::from_bytes(job).unwrap();
            let proof = prove_shard(&config, &chip, &shard).unwrap();
            (index, postcard::to_allocvec(&proof).unwrap())
        })
        .collect();
    results.sort_by_key(|(index, _)| *index);
    let proof = MachineProof {
        vkey: vkey_of(&elf),
        elf: elf.clone(),
        exit_code: report.exit_code,
        public_values: report.public_values,
        shards: results
            .iter()
            .map(|(_, bytes)| postcard::from_bytes::<ShardProof>(bytes).unwrap())
            .collect(),
    };
    let run = verify_run(&proof, &vkey_of(&elf)).unwrap();
    assert_eq!(run.shards, shards.len());
}
