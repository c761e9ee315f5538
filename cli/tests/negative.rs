//! CLI-level failures: bad guests and bad inputs must make `zkmips run` exit with code 2 and a one-line
//! `error: ...` message that names what went wrong and where (pc, instruction word, address), never a panic
//! and never a hang.

#[macro_use]
mod support;

use std::fs;
use std::path::Path;
use std::process::Command;

use support::{
    GCC, Invocation, NM, OBJDUMP, Outcome, StdoutTo, build_c, disassemble_at, find_instructions,
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
    let outcome = run_captured(cmd, None, StdoutTo::Pipe);
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
    let outcome = run_captured(cmd, None, StdoutTo::Pipe);
    let error = expect_error(&outcome, "missing stdin");
    assert!(
        error.contains(&stdin.display().to_string()),
        "error should name the file: {error}"
    );
}

/// The file offset of virtual address `vaddr` in a little-endian ELF32, from its program headers.
fn file_offset_of(elf: &[u8], vaddr: u32) -> usize {
    let u16_at = |at: usize| u16::from_le_bytes([elf[at], elf[at + 1]]) as usize;
    let u32_at = |at: usize| u32::from_le_bytes(elf[at..at + 4].try_into().unwrap());
    let (phoff, phentsize, phnum) = (u32_at(28) as usize, u16_at(42), u16_at(44));
    (0..phnum)
        .map(|i| phoff + i * phentsize)
        .find_map(|ph| {
            let (offset, segment_vaddr, file_size) =
                (u32_at(ph + 4), u32_at(ph + 8), u32_at(ph + 16));
            (u32_at(ph) == 1 && vaddr >= segment_vaddr && vaddr - segment_vaddr < file_size)
                .then(|| (offset + vaddr - segment_vaddr) as usize)
        })
        .unwrap_or_else(|| panic!("{vaddr:#x} is not in a loaded segment"))
}

/// Robustness: the word at `bad_instruction` is replaced by one word per primary opcode and by every
/// function code of the SPECIAL, SPECIAL2, SPECIAL3, REGIMM and COP1 groups, with arbitrary register
/// fields. Whatever the word does (run, fault, trap, jump into the weeds), zkmips must end with an exit
/// code and, for exit code 2, an `error:` line; never a panic, a signal or a hang.
#[test]
fn arbitrary_instruction_words_never_panic() {
    require_tools!(GCC, NM);
    let elf_path = build_c("bad_unknown_instruction");
    let original = fs::read(&elf_path).expect("read ELF");
    let pc =
        symbol_address(&symbols(&elf_path), "bad_instruction").expect("bad_instruction symbol");
    let at = file_offset_of(&original, pc);
    assert_eq!(original[at..at + 4], 0xffff_ffffu32.to_le_bytes());

    let mut seed = 0x9e37_79b9u32;
    let mut random = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    // rs, rt, rd and sa fields; the opcode and the function code come from the loops.
    const REGISTER_FIELDS: u32 = 0x03ff_ffc0;
    let mut words = Vec::new();
    for opcode in 0..64u32 {
        words.push(opcode << 26 | random() & 0x03ff_ffff);
    }
    for group in [0x00u32, 0x1c, 0x1f] {
        for function in 0..64u32 {
            words.push(group << 26 | random() & REGISTER_FIELDS | function);
        }
    }
    for selector in 0..32u32 {
        // REGIMM: rt selects the operation. COP1: rs selects the format or move.
        words.push(0x01 << 26 | random() & 0x03e0_ffff | selector << 16);
        words.push(0x11 << 26 | selector << 21 | random() & 0x001f_ffff);
    }

    let work = scratch_dir(&["negative", "arbitrary_words"]);
    let mut outcomes = std::collections::BTreeMap::<String, usize>::new();
    for word in words {
        let mut elf = original.clone();
        elf[at..at + 4].copy_from_slice(&word.to_le_bytes());
        let path = work.join(format!("{word:08x}.elf"));
        fs::write(&path, &elf).expect("write patched ELF");
        let outcome = run_zkmips(
            &path,
            &Invocation::default(),
            &["--max-cycles", "200000"],
            &work,
        );
        let stderr = outcome.stderr_text();
        assert!(
            !stderr.contains("panicked"),
            "word {word:#010x}: zkmips panicked:\n{stderr}"
        );
        let code = outcome.status.code().unwrap_or_else(|| {
            panic!(
                "word {word:#010x}: zkmips was killed ({}):\n{stderr}",
                outcome.describe()
            )
        });
        if code == 2 {
            let error = stderr.lines().find(|l| l.starts_with("error:"));
            let error =
                error.unwrap_or_else(|| panic!("word {word:#010x}: exit 2 without an error line"));
            // The message's kind, without addresses: a summary for failure output.
            let kind: String = error
                .split(" at ")
                .next()
                .unwrap_or(error)
                .chars()
                .take(40)
                .collect();
            *outcomes.entry(kind).or_default() += 1;
        } else {
            *outcomes.entry(format!("exit {code}")).or_default() += 1;
        }
        let _ = fs::remove_file(&path);
    }
    eprintln!("outcomes: {outcomes:#?}");
}
