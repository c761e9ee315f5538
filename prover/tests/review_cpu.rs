//! Adversarial review of the CPU, the program table and the native shard chain
//! (`machine::verify_run`): each test forges one part of an honest proof or witness and asserts
//! that the forgery is rejected. Two findings of this review were fixed and are kept here as
//! regression tests:
//! - `vkey_binds_the_whole_initial_image`, `proof_elf_with_another_initial_image_is_rejected`,
//!   `wrong_exit_code_through_an_unbound_auxv_is_rejected`: the vkey did not commit
//!   `Program::phnum` / `phdr_vaddr`, which the initial stack (auxv) depends on — it now hashes
//!   the initial stack block itself;
//! - `cycle_count_aliased_modulo_p_is_rejected`, `pc_chain_aliased_modulo_p_is_rejected`: the
//!   `u32` CPU public values are reduced into the field, so `x + p` proved like `x` — the
//!   verifier now requires canonical values.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;

use p3_field::PrimeCharacteristicRing;
use zkmips_executor::{Executor, Program, Shard};
use zkmips_prover::batch;
use zkmips_prover::chips::ProgramChip;
use zkmips_prover::chips::cpu::cols;
use zkmips_prover::chips::memory::BoundaryEntry;
use zkmips_prover::chips::memory_interface::MemoryInterfaceChip;
use zkmips_prover::chips::program::fetch;
use zkmips_prover::config::{Val, inner_config};
use zkmips_prover::machine::{
    MachineProof, MachineVerifyError, executor_config, prove_run, shard_airs, shard_tables,
    verify_run,
};
use zkmips_prover::vkey::{ProgramVkey, program_vkey};

const FIBONACCI: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/bin/fibonacci.elf");

/// The KoalaBear modulus: public values travel as `u32`s reduced into the field.
const P: u32 = 0x7f00_0001;

/// Offset of `e_phnum` in an ELF32 header.
const E_PHNUM: usize = 0x2c;

fn elf() -> Vec<u8> {
    std::fs::read(FIBONACCI).unwrap_or_else(|e| panic!("{FIBONACCI}: {e}"))
}

fn vkey_of(elf: &[u8]) -> ProgramVkey {
    program_vkey(&inner_config(), &Program::from_elf(elf).unwrap()).unwrap()
}

/// fib(5) in shards of 400 cycles (at least two shards). Proven once, shared.
fn proof_bytes() -> &'static [u8] {
    static PROOF: OnceLock<Vec<u8>> = OnceLock::new();
    PROOF.get_or_init(|| {
        let input = 5u32.to_le_bytes().to_vec();
        let (proof, _) = prove_run(&elf(), vec![input], vec![], 400, |_, _| {}).unwrap();
        assert!(proof.shards.len() >= 2, "the review needs a chained run");
        proof.to_bytes().unwrap()
    })
}

fn proof() -> MachineProof {
    MachineProof::from_bytes(proof_bytes()).unwrap()
}

/// `verify_run`, with a panic counted as a failure of the test (never a rejection).
fn verify(proof: &MachineProof) -> Result<zkmips_prover::machine::VerifiedRun, MachineVerifyError> {
    catch_unwind(AssertUnwindSafe(|| verify_run(proof, &vkey_of(&elf()))))
        .expect("verify_run must not panic on a malformed proof")
}

/// The fibonacci ELF with its program header count lowered to the `PT_LOAD` entries only (the
/// `REGINFO`/`ABIFLAGS` headers dropped). The header table is not inside any loaded segment, so
/// every loaded byte, the entry point and the program table are unchanged.
fn elf_with_fewer_program_headers() -> Vec<u8> {
    let mut bytes = elf();
    let phnum = u16::from_le_bytes([bytes[E_PHNUM], bytes[E_PHNUM + 1]]);
    let program = Program::from_elf(&bytes).unwrap();
    let loads = program.segments.len() as u16;
    assert!(phnum > loads, "the example has non-load program headers");
    bytes[E_PHNUM..E_PHNUM + 2].copy_from_slice(&loads.to_le_bytes());
    let patched = Program::from_elf(&bytes).unwrap();
    assert_eq!(patched.segments, program.segments);
    assert_eq!(patched.entry, program.entry);
    assert_ne!(patched.phnum, program.phnum);
    bytes
}

/// The fibonacci ELF with its last (non-load) program header turned into a `PT_PHDR` pointing
/// at the start of the text segment, which `Program::from_elf` accepts (it only checks that the
/// address is file-backed, not that the table is there). The initial stack gains an `AT_PHDR`
/// entry, so the words above the auxv move; again no loaded byte changes.
fn elf_with_a_phdr_header() -> Vec<u8> {
    let mut bytes = elf();
    let word = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
    let phoff = word(&bytes, 0x1c) as usize;
    let phnum = u16::from_le_bytes([bytes[E_PHNUM], bytes[E_PHNUM + 1]]) as usize;
    let last = phoff + 32 * (phnum - 1);
    assert_ne!(word(&bytes, last), 1, "the last header is not a PT_LOAD");
    let text = Program::from_elf(&bytes).unwrap().entry & !0xfff;
    bytes[last..last + 4].copy_from_slice(&6u32.to_le_bytes()); // PT_PHDR
    bytes[last + 8..last + 12].copy_from_slice(&text.to_le_bytes()); // p_vaddr
    let (original, patched) = (
        Program::from_elf(&elf()).unwrap(),
        Program::from_elf(&bytes).unwrap(),
    );
    assert_eq!(patched.segments, original.segments);
    assert_eq!(patched.phdr_vaddr, Some(text));
    assert_eq!(original.phdr_vaddr, None);
    bytes
}

/// The words of the initial stack region that differ between the runs of two programs
/// (`$sp` upwards, 4 KiB).
fn initial_stack_differences(a: &Program, b: &Program) -> Vec<u32> {
    let new = |p: &Program| Executor::new(p, executor_config(vec![], vec![], 1)).unwrap();
    let (a, b) = (new(a), new(b));
    let sp = a.reg(29).min(b.reg(29));
    let mut differ = Vec::new();
    if a.reg(29) != b.reg(29) {
        differ.push(29);
    }
    for addr in (sp..sp.saturating_add(0x1000)).step_by(4) {
        if a.memory().peek_word(addr) != b.memory().peek_word(addr) {
            differ.push(addr);
        }
    }
    differ
}

/// FINDING (vkey binding): the verifying key commits the entry point, the loaded segments and
/// the program table, but the initial image the verifier rebuilds (`machine::InitialImage`, via
/// `Executor::new`) also depends on `Program::phnum` / `phdr_vaddr` (the `AT_PHNUM`/`AT_PHDR`
/// auxv entries of the initial stack). Two ELFs with different initial memory share one vkey.
#[test]
fn vkey_binds_the_whole_initial_image() {
    let original = Program::from_elf(&elf()).unwrap();
    let mut shared = Vec::new();
    for (name, patched_elf) in [
        ("AT_PHNUM changed", elf_with_fewer_program_headers()),
        ("AT_PHDR added, auxv moved", elf_with_a_phdr_header()),
    ] {
        let patched = Program::from_elf(&patched_elf).unwrap();
        let differences = initial_stack_differences(&original, &patched);
        assert!(
            !differences.is_empty(),
            "{name}: the initial stack is unchanged"
        );
        if vkey_of(&elf()) == vkey_of(&patched_elf) {
            shared.push(format!(
                "{name}: {} differing words/registers, first {:#x}",
                differences.len(),
                differences[0]
            ));
        }
    }
    assert!(
        shared.is_empty(),
        "initial images that differ from the program's share its vkey: {shared:?}"
    );
}

/// FINDING (same root cause, end to end): an honest proof whose embedded ELF is replaced by
/// one with the same vkey but another initial stack still verifies, so `verify_run` accepts a
/// claim about a run from an initial state the vkey does not pin down.
#[test]
fn proof_elf_with_another_initial_image_is_rejected() {
    let mut accepted = Vec::new();
    for (name, patched_elf) in [
        ("AT_PHNUM changed", elf_with_fewer_program_headers()),
        ("AT_PHDR added", elf_with_a_phdr_header()),
    ] {
        let mut proof = proof();
        proof.elf = patched_elf;
        if verify(&proof).is_ok() {
            accepted.push(name);
        }
    }
    assert!(
        accepted.is_empty(),
        "proofs carrying an ELF with another initial stack verify under the same vkey: {accepted:?}"
    );
}

/// FINDING (public values not canonical): `CpuPublicValues` are `u32`s reduced into the field,
/// so `cycles + p` proves the same shard; `VerifiedRun::cycles` (printed by `zkmips verify`)
/// can be inflated by `p` per shard.
#[test]
fn cycle_count_aliased_modulo_p_is_rejected() {
    let honest = verify(&proof()).expect("honest proof verifies").cycles;
    let mut proof = proof();
    let shard = &mut proof.shards[0].cpu;
    assert!(shard.cycles < u32::MAX - P);
    shard.cycles += P;
    match verify(&proof) {
        Err(_) => {}
        Ok(run) => panic!(
            "accepted with {} cycles claimed, the run has {honest}",
            run.cycles
        ),
    }
}

/// Same aliasing on the pc chain: shard 0's final pc and shard 1's initial pc both moved by `p`
/// (consistent natively, the same field element in both proofs).
#[test]
fn pc_chain_aliased_modulo_p_is_rejected() {
    let mut proof = proof();
    assert!(proof.shards[0].cpu.final_pc < u32::MAX - P);
    proof.shards[0].cpu.final_pc += P;
    proof.shards[1].cpu.initial_pc += P;
    assert!(
        verify(&proof).is_err(),
        "a pc outside the u32 range of the field accepted"
    );
}

/// Interface entries naming no location (between the registers and the null guard, unaligned,
/// above user memory, in code) or twice the same one are refused natively, before the shard
/// proof (whose preprocessed table the verifier builds from the list) is even checked.
#[test]
fn interface_entries_outside_the_location_space_are_rejected() {
    let program = Program::from_elf(&elf()).unwrap();
    let code = program
        .segments
        .iter()
        .find(|s| s.executable)
        .unwrap()
        .vaddr;
    for addr in [
        35,
        36,
        0x0ffc,
        0x1001,
        0x1002,
        0x8000_0000,
        0xffff_fffc,
        code,
    ] {
        let mut proof = proof();
        proof.shards[0].interface.push(BoundaryEntry {
            addr,
            init_value: 0,
            final_value: 0,
            final_ts: 0,
        });
        assert!(
            matches!(
                verify(&proof),
                Err(MachineVerifyError::Chain { shard: 0, .. })
            ),
            "interface entry at {addr:#x} accepted"
        );
    }
    let mut proof = proof();
    let copy = proof.shards[1].interface[0];
    proof.shards[1].interface.push(copy);
    assert!(matches!(
        verify(&proof),
        Err(MachineVerifyError::Chain { shard: 1, .. })
    ));
}

/// An untouched location added to the interface with `init = final` changes the preprocessed
/// table the verifier commits, so the honest shard proof no longer verifies.
#[test]
fn unused_interface_entry_is_rejected() {
    let mut proof = proof();
    let addr = 0x7fff_0000;
    assert!(proof.shards[0].interface.iter().all(|e| e.addr != addr));
    proof.shards[0].interface.push(BoundaryEntry {
        addr,
        init_value: 0,
        final_value: 0,
        final_ts: 0,
    });
    assert!(matches!(
        verify(&proof),
        Err(MachineVerifyError::Shard { shard: 0, .. })
    ));
}

/// A named edit of a proof.
type Edit = (&'static str, fn(&mut MachineProof));

/// Malformed shapes are errors, never panics: absurd, missing and extra trace heights, and a
/// shard proof moved to another shard's place.
#[test]
fn malformed_shard_proofs_are_rejected_without_panic() {
    let edits: [Edit; 7] = [
        ("huge height", |p| {
            p.shards[0].proof.degree_bits[0] = usize::MAX
        }),
        ("height 2^40", |p| p.shards[0].proof.degree_bits[0] = 40),
        ("height 0", |p| p.shards[0].proof.degree_bits[0] = 0),
        ("a height missing", |p| {
            p.shards[0].proof.degree_bits.pop();
        }),
        ("an extra height", |p| p.shards[0].proof.degree_bits.push(4)),
        ("CPU height doubled", |p| {
            p.shards[0].proof.degree_bits[0] += 1
        }),
        ("proofs of two shards swapped", |p| {
            let (a, b) = p.shards.split_at_mut(1);
            std::mem::swap(&mut a[0].proof, &mut b[0].proof);
        }),
    ];
    for (name, edit) in edits {
        let mut proof = proof();
        edit(&mut proof);
        assert!(verify(&proof).is_err(), "{name}: accepted");
    }
}

/// Flipping `halted` on any shard changes a public value its proof was made for.
#[test]
fn halted_flag_cannot_be_moved() {
    let count = proof().shards.len();
    for index in 0..count {
        let mut proof = proof();
        proof.shards[index].cpu.halted ^= true;
        assert!(verify(&proof).is_err(), "halted flipped on shard {index}");
    }
    // Cutting the run after a non-final shard and claiming it halted.
    let mut proof = proof();
    proof.shards.truncate(1);
    proof.shards[0].cpu.halted = true;
    assert!(verify(&proof).is_err());
}

// ---- AIR-level forgeries on the tables of a real shard (all chips, real prover) ----

/// A short real shard of the fibonacci run (the second one, so it starts mid-run).
fn real_shard() -> (ProgramChip, Shard) {
    let program = Program::from_elf(&elf()).unwrap();
    let config = executor_config(vec![5u32.to_le_bytes().to_vec()], vec![], 60);
    let mut executor = Executor::new(&program, config).unwrap();
    let report = executor.run().unwrap();
    let mut shards = report.record.unwrap().shards;
    (ProgramChip::new(&program).unwrap(), shards.remove(1))
}

/// Asserts that the tables with `tamper` applied to the CPU trace cannot be proven into a
/// proof that verifies (the debug prover's constraint check panics, or the verifier fails).
fn assert_cpu_forgery_rejected(name: &str, tamper: impl FnOnce(&mut [Val], usize, usize)) {
    let (program, shard) = real_shard();
    let (mut tables, _, interface) = shard_tables(&program, &shard).unwrap();
    let cpu_rows = shard.cpu.len();
    tamper(&mut tables[0].trace.values, cols::WIDTH, cpu_rows);
    let public: Vec<Vec<Val>> = tables.iter().map(|t| t.public_values.clone()).collect();
    let config = inner_config();
    let proved = catch_unwind(AssertUnwindSafe(|| batch::prove(&config, &tables)));
    let Ok(Ok(proof)) = proved else {
        return; // refused by the prover's checks
    };
    let airs = shard_airs(&program, MemoryInterfaceChip::new(interface));
    assert!(
        batch::verify(&config, &airs, &proof, &public).is_err(),
        "{name}: forged CPU trace verifies"
    );
}

#[test]
fn honest_real_shard_tables_verify() {
    let (program, shard) = real_shard();
    let (tables, _, interface) = shard_tables(&program, &shard).unwrap();
    let public: Vec<Vec<Val>> = tables.iter().map(|t| t.public_values.clone()).collect();
    let config = inner_config();
    let proof = batch::prove(&config, &tables).unwrap();
    let airs = shard_airs(&program, MemoryInterfaceChip::new(interface));
    batch::verify(&config, &airs, &proof, &public).expect("honest shard verifies");
}

/// `in_delay_slot` claimed on a row that follows no branch (it would let that row be a
/// branch's "slot" and the real slot skip the check).
#[test]
fn forged_in_delay_slot_is_rejected() {
    let (_, shard) = real_shard();
    let program = ProgramChip::new(&Program::from_elf(&elf()).unwrap()).unwrap();
    // A row that is neither a delay slot nor a branch.
    let row = (1..shard.cpu.len())
        .find(|&i| {
            let is_branch = |i: usize| {
                program
                    .instruction_at(shard.cpu[i].pc)
                    .is_some_and(|inst| inst.opcode.is_branch_or_jump())
            };
            !is_branch(i) && !is_branch(i - 1)
        })
        .expect("a plain row");
    assert_cpu_forgery_rejected("in_delay_slot", |v, w, _| {
        v[row * w + cols::IN_DELAY_SLOT] = Val::ONE;
    });
}

/// A padding row that "fetches" a syscall flagged as HALT (making the shard look halted)
/// without a real fetch.
#[test]
fn padding_row_with_fetched_flags_is_rejected() {
    assert_cpu_forgery_rejected("padding syscall", |v, w, rows| {
        let height = v.len() / w;
        assert!(rows < height, "the shard needs a padding row");
        let last = (height - 1) * w;
        v[last + cols::fetched(fetch::IS_SYSCALL)] = Val::ONE;
        v[last + cols::IS_HALT] = Val::ONE;
    });
}

/// A real row whose fetched register-write flag is cleared (a skipped destination write).
#[test]
fn skipped_destination_write_is_rejected() {
    let (_, shard) = real_shard();
    let program = ProgramChip::new(&Program::from_elf(&elf()).unwrap()).unwrap();
    let row = shard
        .cpu
        .iter()
        .position(|e| {
            program
                .instruction_at(e.pc)
                .is_some_and(|i| i.opcode == zkmips_executor::Opcode::Addiu && i.rt != 0)
        })
        .expect("an ADDIU with a destination");
    assert_cpu_forgery_rejected("skipped write", |v, w, _| {
        v[row * w + cols::fetched(fetch::WRITES_DST)] = Val::ZERO;
    });
}

// ---- End to end: a wrong exit code for a program, through the vkey gap ----

/// A hand-built guest whose exit code is the sum of the 64 words above its initial `$sp` (the
/// argc/argv/envp/auxv block), which publishes the digest of empty public values and halts.
/// One `PT_LOAD` (text, file offset 0x1000, so the program headers are not loaded) and one
/// `PT_NULL` header; `phnum` is `e_phnum`.
fn auxv_probe_elf(phnum: u16) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    const TEXT: u32 = 0x0040_0000;
    const CODE_OFF: usize = 0x1000;
    let r = |rs: u32, rt: u32, rd: u32, funct: u32| rs << 21 | rt << 16 | rd << 11 | funct;
    let i = |op: u32, rs: u32, rt: u32, imm: u32| op << 26 | rs << 21 | rt << 16 | (imm & 0xffff);
    let (t0, t1, t2, t3, a0, v0, sp) = (8, 9, 10, 11, 4, 2, 29);
    let mut code = vec![
        r(sp, 0, t0, 0x21),              // addu  t0, sp, zero
        i(0x09, 0, t1, 64),              // addiu t1, zero, 64
        r(0, 0, a0, 0x21),               // addu  a0, zero, zero
        i(0x23, t0, t2, 0),              // loop: lw t2, 0(t0)
        i(0x09, t0, t0, 4),              // addiu t0, t0, 4
        i(0x09, t1, t1, (-1i32) as u32), // addiu t1, t1, -1
        i(0x05, t1, 0, (-4i32) as u32),  // bne   t1, zero, loop
        r(a0, t2, a0, 0x21),             // addu  a0, a0, t2 (delay slot)
    ];
    let digest = Sha256::digest(b"");
    for (k, chunk) in digest.chunks_exact(4).enumerate() {
        let word = u32::from_le_bytes(chunk.try_into().unwrap());
        code.push(i(0x0f, 0, t3, word >> 16)); // lui t3, hi
        code.push(i(0x0d, t3, t3, word)); // ori t3, t3, lo
        code.push(i(0x2b, 0, t3, 0x1000 + 4 * k as u32)); // sw t3, digest+4k(zero)
    }
    code.push(i(0x0f, 0, v0, zkmips_abi::syscall::HALT >> 16)); // lui v0, HALT >> 16
    code.push(0x0000_000c); // syscall
    code.push(0); // nop

    let code_len = 4 * code.len();
    let mut b = vec![0u8; CODE_OFF + code_len];
    let put16 =
        |b: &mut Vec<u8>, at: usize, v: u16| b[at..at + 2].copy_from_slice(&v.to_le_bytes());
    let put32 =
        |b: &mut Vec<u8>, at: usize, v: u32| b[at..at + 4].copy_from_slice(&v.to_le_bytes());
    b[..7].copy_from_slice(b"\x7fELF\x01\x01\x01");
    put16(&mut b, 16, 2); // ET_EXEC
    put16(&mut b, 18, 8); // EM_MIPS
    put32(&mut b, 20, 1);
    put32(&mut b, 24, TEXT); // e_entry
    put32(&mut b, 28, 52); // e_phoff
    put32(&mut b, 36, 0x7000_1007);
    put16(&mut b, 40, 52);
    put16(&mut b, 42, 32);
    put16(&mut b, E_PHNUM, phnum);
    // PT_LOAD text; the second header stays all zero (PT_NULL).
    for (field, value) in [(0, 1), (4, CODE_OFF as u32), (8, TEXT), (12, TEXT)] {
        put32(&mut b, 52 + field, value);
    }
    for (field, value) in [
        (16, code_len as u32),
        (20, code_len as u32),
        (24, 5),
        (28, 0x1000),
    ] {
        put32(&mut b, 52 + field, value);
    }
    for (k, word) in code.iter().enumerate() {
        put32(&mut b, CODE_OFF + 4 * k, *word);
    }
    b
}

/// FINDING, end to end: program A (two program headers) exits with some code `x`. An ELF B with
/// one program header has the same vkey; proving B honestly yields a proof that `verify_run`
/// accepts for A's vkey with B's exit code `x - 1`: a false statement about program A.
#[test]
fn wrong_exit_code_through_an_unbound_auxv_is_rejected() {
    let (elf_a, elf_b) = (auxv_probe_elf(2), auxv_probe_elf(1));
    let exit_code = |elf: &[u8]| {
        let program = Program::from_elf(elf).unwrap();
        let mut executor =
            Executor::new(&program, executor_config(vec![], vec![], 1 << 19)).unwrap();
        executor.run().unwrap().exit_code
    };
    let (honest, other) = (exit_code(&elf_a), exit_code(&elf_b));
    assert_ne!(honest, other, "the probe must see the auxv difference");
    let (proof_b, _) = prove_run(&elf_b, vec![], vec![], 1 << 19, |_, _| {}).unwrap();
    assert_eq!(proof_b.exit_code, other);
    match verify_run(&proof_b, &vkey_of(&elf_a)) {
        Err(_) => {}
        Ok(run) => panic!(
            "program A's vkey accepted exit code {:#x}; A exits with {honest:#x}",
            run.exit_code
        ),
    }
}

/// Each CPU public value of a real shard moved by one (a shifted start or end state, a wrong
/// cycle count, a claimed HALT) with every chip real.
#[test]
fn forged_public_values_on_a_real_shard_are_rejected() {
    let (program, shard) = real_shard();
    let (tables, _, interface) = shard_tables(&program, &shard).unwrap();
    let config = inner_config();
    let airs = shard_airs(&program, MemoryInterfaceChip::new(interface));
    let proof = batch::prove(&config, &tables).unwrap();
    let honest: Vec<Vec<Val>> = tables.iter().map(|t| t.public_values.clone()).collect();
    for index in 0..honest[0].len() {
        let mut public = honest.clone();
        public[0][index] += Val::ONE;
        // The honest proof against the forged statement.
        assert!(
            batch::verify(&config, &airs, &proof, &public).is_err(),
            "public value {index} moved, honest proof accepted"
        );
        // A proof made for the forged statement.
        let mut forged = tables.clone();
        forged[0].public_values = public[0].clone();
        let proved = catch_unwind(AssertUnwindSafe(|| batch::prove(&config, &forged)));
        if let Ok(Ok(proof)) = proved {
            assert!(
                batch::verify(&config, &airs, &proof, &public).is_err(),
                "public value {index} moved, forged proof accepted"
            );
        }
    }
}
