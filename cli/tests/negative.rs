//! CLI-level failures: bad guests and bad inputs must make `zkmips run` exit with code 2 and a one-line
//! `error: ...` message that names what went wrong and where (pc, instruction word, address), never a panic
//! and never a hang.

#[macro_use]
mod support;

use std::fs;
use std::path::Path;
use std::process::Command;

use support::{
    GCC, Invocation, NM, OBJDUMP, Outcome, build_c, disassemble_at, find_instructions,
    run_captured, run_zkmips, scratch_dir, symbol_address, symbols,
};

/// Asserts the common shape of a failed run and returns the `error:` line.
fn expect_error(outcome: &Outcome, what: &str) -> String {
    let stderr = outcome.stderr_text();
    assert!(
        !stderr.contains("panicked"),
        "{what}: zkmips panicked:\n{stderr}"
    );
    assert_eq!(
        outcome.status.code(),
        Some(2),
        "{what}: expected exit code 2, got {}; stderr:\n{stderr}",
        outcome.describe()
    );
    let line = stderr.lines().find(|l| l.starts_with("error:"));
    line.unwrap_or_else(|| panic!("{what}: no `error:` line on stderr:\n{stderr}"))
        .to_string()
}

/// Runs a `tests/c` program under zkmips with `flags` and returns the outcome and the ELF path.
fn run_program(
    test: &str,
    program: &str,
    inv: Invocation,
    flags: &[&str],
) -> (Outcome, std::path::PathBuf) {
    let elf = build_c(program);
    let work = scratch_dir(&["negative", test]);
    (run_zkmips(&elf, &inv, flags, &work), elf)
}

/// The address of `label` and the instruction word stored there.
fn labelled_instruction(elf: &Path, label: &str) -> (u32, u32) {
    let pc = symbol_address(&symbols(elf), label).unwrap_or_else(|| panic!("no symbol {label}"));
    let (word, _) =
        disassemble_at(elf, pc).unwrap_or_else(|| panic!("objdump shows nothing at {pc:#x}"));
    (pc, word)
}

fn assert_names(error: &str, pc: u32, word: u32) {
    let pc = format!("{pc:#010x}");
    let word = format!("{word:#010x}");
    assert!(error.contains(&pc), "error should name pc {pc}: {error}");
    assert!(
        error.contains(&word),
        "error should name instruction word {word}: {error}"
    );
}

#[test]
fn unknown_instruction_names_pc_and_word() {
    require_tools!(GCC, NM, OBJDUMP);
    let (outcome, elf) = run_program(
        "unknown_instruction",
        "bad_unknown_instruction",
        Invocation::default(),
        &[],
    );
    let error = expect_error(&outcome, "unknown instruction");
    let (pc, word) = labelled_instruction(&elf, "bad_instruction");
    assert_eq!(word, 0xffff_ffff);
    assert_names(&error, pc, word);
    assert!(error.to_lowercase().contains("instruction"), "{error}");
    // Output written before the fault still reaches the user; nothing after it runs.
    assert_eq!(outcome.stdout_text(), "before the bad instruction\n");
}

#[test]
fn misaligned_load_names_pc_word_and_address() {
    require_tools!(GCC, NM, OBJDUMP);
    let (outcome, elf) = run_program(
        "misaligned_load",
        "bad_misaligned_load",
        Invocation::default(),
        &[],
    );
    let error = expect_error(&outcome, "misaligned load");
    let (pc, word) = labelled_instruction(&elf, "bad_load");
    assert_eq!(
        word >> 26,
        0x23,
        "bad_load should be an lw, found {word:#010x}"
    );
    assert_names(&error, pc, word);
    // The program prints the aligned base; the faulting address is one byte past it.
    let stdout = outcome.stdout_text();
    let base = stdout
        .trim()
        .strip_prefix("loading from 0x")
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|hex| u32::from_str_radix(hex, 16).ok())
        .unwrap_or_else(|| panic!("unexpected stdout {stdout:?}"));
    let addr = format!("{:#010x}", base + 1);
    assert!(
        error.contains(&addr),
        "error should name the address {addr}: {error}"
    );
    assert!(error.to_lowercase().contains("misaligned"), "{error}");
}

#[test]
fn branch_in_delay_slot_is_rejected() {
    require_tools!(GCC, NM, OBJDUMP);
    let (outcome, elf) = run_program(
        "branch_in_delay_slot",
        "bad_branch_in_delay_slot",
        Invocation::default(),
        &[],
    );
    let error = expect_error(&outcome, "branch in delay slot");
    let (slot_pc, slot_word) = labelled_instruction(&elf, "bad_slot_branch");
    assert_names(&error, slot_pc, slot_word);
    assert!(error.contains("delay slot"), "{error}");
    assert_eq!(outcome.stdout_text(), "before the branches\n");
}

#[test]
fn division_by_zero_traps_at_the_teq() {
    require_tools!(GCC, NM, OBJDUMP);
    let (outcome, elf) = run_program(
        "division_by_zero",
        "div_by_zero",
        Invocation::default(),
        &[],
    );
    let error = expect_error(&outcome, "division by zero");
    let teqs = find_instructions(&elf, "main", "teq");
    assert_eq!(teqs.len(), 1, "expected one teq in main, found {teqs:x?}");
    let (word, _) = disassemble_at(&elf, teqs[0]).expect("teq word");
    assert_names(&error, teqs[0], word);
    assert!(error.contains("trap"), "{error}");
    assert_eq!(outcome.stdout_text(), "dividing by 0\n");
}

#[test]
fn cycle_limit_stops_a_long_program() {
    require_tools!(GCC);
    let (outcome, _) = run_program(
        "cycle_limit",
        "sha256_bench",
        Invocation::default(),
        &["--max-cycles", "1000"],
    );
    let error = expect_error(&outcome, "cycle limit");
    assert!(
        error.contains("1000"),
        "error should name the limit: {error}"
    );
    assert!(error.contains("pc 0x"), "error should name the pc: {error}");
    assert!(
        outcome.stdout.is_empty(),
        "start-up prints nothing in 1000 instructions"
    );
}

/// Runs zkmips on a file that is not a runnable MIPS program and returns the `error:` line.
fn run_bad_file(test: &str, bytes: Option<&[u8]>) -> (String, String) {
    let work = scratch_dir(&["negative", test]);
    let path = work.join("program.elf");
    match bytes {
        Some(bytes) => fs::write(&path, bytes).expect("write test file"),
        None => {
            let _ = fs::remove_file(&path);
        }
    }
    let mut cmd = Command::new(support::zkmips_bin());
    cmd.env_clear().arg("run").arg(&path);
    let outcome = run_captured(cmd, None);
    (expect_error(&outcome, test), path.display().to_string())
}

#[test]
fn missing_file_is_named() {
    let (error, path) = run_bad_file("missing_file", None);
    assert!(error.contains(&path), "error should name the file: {error}");
}

#[test]
fn empty_file_is_rejected() {
    run_bad_file("empty_file", Some(b""));
}

#[test]
fn text_file_is_rejected() {
    run_bad_file(
        "text_file",
        Some(b"#!/bin/sh\necho this is not an ELF file\n"),
    );
}

#[test]
fn x86_64_elf_is_rejected() {
    // This test binary is itself an x86-64 ELF.
    let exe = fs::read(std::env::current_exe().expect("current exe")).expect("read test binary");
    let (error, _) = run_bad_file("x86_64_elf", Some(&exe));
    let lower = error.to_lowercase();
    assert!(
        lower.contains("mips")
            || lower.contains("machine")
            || lower.contains("64")
            || lower.contains("class"),
        "error should say why the ELF is unsuitable: {error}"
    );
}

#[test]
fn truncated_elf_is_rejected() {
    require_tools!(GCC);
    let elf = fs::read(build_c("exit_call")).expect("read ELF");
    // Just the ELF header; then header plus program headers with the segment data cut off.
    for (name, len) in [
        ("truncated_header", 30),
        ("truncated_elf_header_only", 52),
        ("truncated_elf_segments", 4096),
    ] {
        run_bad_file(name, Some(&elf[..len]));
    }
}

#[test]
fn big_endian_elf_is_rejected() {
    require_tools!(GCC);
    let mut elf = fs::read(build_c("exit_call")).expect("read ELF");
    elf[5] = 2; // EI_DATA = ELFDATA2MSB
    let (error, _) = run_bad_file("big_endian_elf", Some(&elf));
    assert!(
        error.to_lowercase().contains("endian"),
        "error should mention endianness: {error}"
    );
}

#[test]
fn entry_point_outside_code_is_rejected() {
    require_tools!(GCC);
    let mut elf = fs::read(build_c("exit_call")).expect("read ELF");
    elf[24..28].copy_from_slice(&0x0000_2000u32.to_le_bytes()); // e_entry
    let (error, _) = run_bad_file("entry_outside_code", Some(&elf));
    assert!(
        error.contains("0x00002000"),
        "error should name the entry point: {error}"
    );
}

#[test]
fn missing_stdin_file_is_named() {
    require_tools!(GCC);
    let elf = build_c("exit_call");
    let work = scratch_dir(&["negative", "missing_stdin"]);
    let stdin = work.join("no-such-stdin");
    let mut cmd = Command::new(support::zkmips_bin());
    cmd.env_clear()
        .arg("run")
        .arg(&elf)
        .arg("--stdin")
        .arg(&stdin);
    let outcome = run_captured(cmd, None);
    let error = expect_error(&outcome, "missing stdin");
    assert!(
        error.contains(&stdin.display().to_string()),
        "error should name the file: {error}"
    );
}
