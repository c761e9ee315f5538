//! Randomized differential test of instruction semantics: seeded random blocks of MIPS32r2 integer
//! instructions (generator: `random_isa/generator.rs`), assembled with a small C driver
//! (`random_isa/harness.c`) into one static ELF per batch, run under `qemu-mipsel` (the reference) and
//! `zkmips run` in fast and in tracing mode. Each case starts from edge-biased register, HI/LO and memory
//! values and dumps every register, HI/LO and its 256-byte scratch buffer; the dumps must be identical.
//!
//! The blocks avoid what the manual leaves UNPREDICTABLE (division by zero, JALR rd == rs, linking branches
//! on `$ra`, a branch in a delay slot, SC without its LL) and never trap (ADD/SUB/ADDI on halved operands or
//! on constants that fit, conditional traps whose condition is false), so any difference is a bug on one
//! side. On a mismatch the case is bisected over its units (any prefix is a valid program) down to the first
//! unit that produces a difference, which is reported with its instruction words, the state before it and
//! the differing values.
//!
//! `ZKMIPS_RANDOM_ISA_SEEDS` (`N` = seeds `0..N`, or `A..B`) drives the ignored long run:
//! `cargo test -p zkmips-cli --test random_isa -- --ignored`.

#[macro_use]
mod support;
#[path = "random_isa/generator.rs"]
mod generator;

use std::collections::hash_map::DefaultHasher;
use std::fs;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use generator::{Case, FREE_REGS, generate};
use support::{
    CFLAGS, GCC, Invocation, OBJDUMP, Outcome, QEMU, StdoutTo, disassemble_at, run_qemu,
    run_zkmips, scratch_dir, symbol_address, symbols,
};

/// Debian's assembler puts a `sync` before every `ll` (a Loongson 3 erratum work-around); keep the blocks
/// exactly as listed.
const ASSEMBLER_FLAG: &str = "-Wa,-mno-fix-loongson3-llsc";

/// Units per case (a unit is 1 to ~10 instructions; see the generator).
const BLOCK_LEN: usize = 200;
/// Cases per ELF in the long run: one build, one qemu run and two zkmips runs per batch.
const LONG_BATCH: usize = 100;

/// The zkmips modes compared with qemu. Tracing mode uses small shards so shard boundaries fall inside
/// the blocks (in delay slots and HI/LO sequences too).
const MODES: &[(&str, &[&str])] = &[
    ("fast", &[]),
    ("traced", &["--trace", "--shard-cycles", "997"]),
];

#[test]
fn random_instruction_blocks_match_qemu() {
    require_tools!(GCC, QEMU, OBJDUMP);
    check_seeds(&(0..40).collect::<Vec<u64>>(), BLOCK_LEN, 40);
}

#[test]
#[ignore = "long run: thousands of random cases; set ZKMIPS_RANDOM_ISA_SEEDS"]
fn random_instruction_blocks_match_qemu_long() {
    require_tools!(GCC, QEMU, OBJDUMP);
    let spec = std::env::var("ZKMIPS_RANDOM_ISA_SEEDS").unwrap_or_else(|_| "2000".to_string());
    let seeds: Vec<u64> = match spec.split_once("..") {
        Some((from, to)) => (parse_seed(from)..parse_seed(to)).collect(),
        None => (0..parse_seed(&spec)).collect(),
    };
    let len = match std::env::var("ZKMIPS_RANDOM_ISA_LEN") {
        Ok(text) => text
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("ZKMIPS_RANDOM_ISA_LEN: {text:?} is not a number")),
        Err(_) => BLOCK_LEN,
    };
    check_seeds(&seeds, len, LONG_BATCH);
    // A trapping case is one ELF and three runs of its own: a fiftieth as many.
    let first = seeds.first().copied().unwrap_or(0);
    check_traps(first..first + seeds.len() as u64 / 50);
}

/// Random blocks ending in an instruction that must trap (ADD/ADDI/SUB overflow, a satisfied conditional
/// trap, BREAK): qemu must die of a signal and zkmips must stop with exit code 2 and an `error:` line
/// naming the trapping instruction's pc and word, in both modes.
#[test]
fn random_blocks_ending_in_a_trap_stop_both() {
    require_tools!(GCC, QEMU, OBJDUMP);
    check_traps(0..8);
}

fn check_traps(seeds: std::ops::Range<u64>) {
    use std::os::unix::process::ExitStatusExt;
    let mut problems = Vec::new();
    for seed in seeds {
        let case = generator::generate_trapping(seed, 40);
        let elf = build(&[(&case, case.units.len())]);
        let pc = symbol_address(&symbols(&elf), generator::TRAP_LABEL).expect("trap label");
        let (word, text) = disassemble_at(&elf, pc).expect("objdump the trapping instruction");
        let what = format!("seed {seed}: `{text}` at {pc:#010x} ({})", elf.display());
        let problems_before = problems.len();
        let qemu = run_qemu(&elf, &Invocation::default(), &[], StdoutTo::Pipe);
        if qemu.status.signal().is_none() {
            problems.push(format!("{what}: qemu did not trap ({})", qemu.describe()));
            continue;
        }
        for (mode, flags) in MODES {
            let zkmips = run_zkmips(&elf, &Invocation::default(), flags, &work_dir());
            let stderr = zkmips.stderr_text();
            let named = stderr.contains("error:")
                && stderr.contains(&format!("{pc:#010x}"))
                && stderr.contains(&format!("{word:#010x}"));
            if zkmips.status.code() != Some(2) || !named || stderr.contains("panicked") {
                problems.push(format!(
                    "{what}: zkmips ({mode}) should stop with exit code 2 naming the pc and word; {}:\n{stderr}",
                    zkmips.describe()
                ));
            }
        }
        if problems.len() == problems_before {
            discard(&elf);
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn parse_seed(text: &str) -> u64 {
    text.trim().parse().unwrap_or_else(|_| {
        panic!("ZKMIPS_RANDOM_ISA_SEEDS: {text:?} is not a number (use N or A..B)")
    })
}

/// Runs every seed (one case each) in batches and panics with a report of every mismatch.
fn check_seeds(seeds: &[u64], len: usize, batch: usize) {
    let mut reports = Vec::new();
    for chunk in seeds.chunks(batch) {
        let cases: Vec<Case> = chunk.iter().map(|&seed| generate(seed, len)).collect();
        let full: Vec<(&Case, usize)> = cases.iter().map(|c| (c, c.units.len())).collect();
        let elf = build(&full);
        let reports_before = reports.len();
        let qemu = run_qemu(&elf, &Invocation::default(), &[], StdoutTo::Pipe);
        let expected = dumps(&qemu, "qemu", &elf, cases.len());
        for (mode, flags) in MODES {
            let zkmips = run_zkmips(&elf, &Invocation::default(), flags, &work_dir());
            let got = match checked_dumps(&zkmips, cases.len()) {
                Ok(got) => got,
                Err(problem) => {
                    // A crash hides which case is at fault: bisect each case alone until one fails.
                    reports.push(format!("{mode} run of {}: {problem}", elf.display()));
                    let culprit = cases
                        .iter()
                        .find(|case| run_single(case, case.units.len(), flags).is_some());
                    if let Some(case) = culprit {
                        reports.push(bisect(case, mode, flags));
                    }
                    continue;
                }
            };
            let mut mismatched = 0;
            for (i, case) in cases.iter().enumerate() {
                if expected[i] != got[i] {
                    mismatched += 1;
                    // Detail for the first few: each bisection costs a dozen builds and runs.
                    if mismatched <= 3 {
                        reports.push(bisect(case, mode, flags));
                    } else {
                        reports.push(format!("{mode}: seed {} also differs", case.seed));
                    }
                }
            }
        }
        if reports.len() == reports_before {
            discard(&elf);
        }
    }
    eprintln!(
        "random_isa: {} cases x {len} units, {} problem(s)",
        seeds.len(),
        reports.len()
    );
    assert!(
        reports.is_empty(),
        "zkmips disagrees with qemu-mipsel on random instruction blocks:\n\n{}",
        reports.join("\n\n")
    );
}

fn work_dir() -> PathBuf {
    fs::canonicalize(scratch_dir(&["random_isa"])).expect("canonical scratch dir")
}

fn harness_source() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/random_isa/harness.c")
}

/// Assembles and links the cases (each truncated to its unit count) with the C driver into a file of its
/// own (`NAME.elf` next to `NAME.S`), which the caller [`discard`]s once it is no longer evidence. Not
/// cached: a long run would leave gigabytes of ELFs behind.
fn build(cases: &[(&Case, usize)]) -> PathBuf {
    static BUILDS: AtomicUsize = AtomicUsize::new(0);
    let asm = generator::emit_file(cases);
    let mut hasher = DefaultHasher::new();
    asm.hash(&mut hasher);
    let stem = format!(
        "random-{:016x}-{}-{}",
        hasher.finish(),
        std::process::id(),
        BUILDS.fetch_add(1, Ordering::Relaxed)
    );
    let elf = work_dir().join(format!("{stem}.elf"));
    let asm_path = elf.with_extension("S");
    fs::write(&asm_path, &asm).expect("write generated assembly");
    let out = Command::new(GCC)
        .args(CFLAGS)
        .arg(ASSEMBLER_FLAG)
        .arg("-o")
        .arg(&elf)
        .arg(harness_source())
        .arg(&asm_path)
        .output()
        .expect("cannot start the MIPS cross gcc");
    assert!(
        out.status.success(),
        "building {} failed:\n{}",
        asm_path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    // The generator must produce plain instructions: an assembler warning (a macro expanded, a hazard
    // nop inserted) would mean the block is not what the listing says.
    assert!(
        out.stderr.is_empty(),
        "assembler warnings for {}:\n{}",
        asm_path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    check_instruction_counts(&elf, cases);
    elf
}

/// Removes an ELF made by [`build`] and its assembly source.
fn discard(elf: &Path) {
    let _ = fs::remove_file(elf);
    let _ = fs::remove_file(elf.with_extension("S"));
}

/// Each case's units must assemble to exactly the instructions listed (no inserted nops or syncs, no
/// expanded macros), or a reported listing would not be what ran.
fn check_instruction_counts(elf: &Path, cases: &[(&Case, usize)]) {
    let syms = symbols(elf);
    for (i, (case, units)) in cases.iter().enumerate() {
        let listed: usize = case.units[..*units]
            .iter()
            .flat_map(|unit| &unit.lines)
            .filter(|line| !line.ends_with(':'))
            .count();
        let address = |name: String| {
            symbol_address(&syms, &name)
                .unwrap_or_else(|| panic!("no symbol {name} in {}", elf.display()))
        };
        let start = if *units == 0 {
            address(format!("zk_case{i}_end"))
        } else {
            address(format!("zk_case{i}_u0"))
        };
        let assembled = (address(format!("zk_case{i}_end")) - start) as usize / 4;
        assert_eq!(
            assembled,
            listed,
            "case {i} (seed {}) of {}: instructions assembled vs listed",
            case.seed,
            elf.display()
        );
    }
}

/// One case's dump: `name value` lines (`r1`..`r31`, `hi`, `lo`, `m00`..`m63` scratch words).
type Dump = Vec<(String, String)>;

/// Splits a successful run's stdout into one dump per case.
fn checked_dumps(outcome: &Outcome, count: usize) -> Result<Vec<Dump>, String> {
    let stderr = outcome.stderr_text();
    if outcome.status.code() != Some(0) || stderr.contains("panicked") {
        return Err(format!(
            "{}, stderr:\n{}",
            outcome.describe(),
            stderr.lines().take(20).collect::<Vec<_>>().join("\n")
        ));
    }
    let mut cases: Vec<Dump> = Vec::new();
    for line in outcome.stdout_text().lines() {
        let (name, value) = line
            .split_once(' ')
            .ok_or_else(|| format!("malformed output line {line:?}"))?;
        if name == "case" {
            cases.push(Vec::new());
        } else {
            cases
                .last_mut()
                .ok_or("output does not start with a case line")?
                .push((name.to_string(), value.to_string()));
        }
    }
    if cases.len() != count {
        return Err(format!("{} case dumps, expected {count}", cases.len()));
    }
    Ok(cases)
}

/// The reference dumps: qemu must run the program cleanly, or the comparison means nothing.
fn dumps(outcome: &Outcome, who: &str, elf: &Path, count: usize) -> Vec<Dump> {
    checked_dumps(outcome, count).unwrap_or_else(|e| panic!("{who} on {}: {e}", elf.display()))
}

/// Runs the first `units` units of `case` alone on both sides. `None` when they agree, else the qemu dump
/// and zkmips's dump (or its failure).
fn run_single(case: &Case, units: usize, flags: &[&str]) -> Option<(Dump, Result<Dump, String>)> {
    let elf = build(&[(case, units)]);
    let qemu = run_qemu(&elf, &Invocation::default(), &[], StdoutTo::Pipe);
    let expected = dumps(&qemu, "qemu", &elf, 1).remove(0);
    let zkmips = run_zkmips(&elf, &Invocation::default(), flags, &work_dir());
    discard(&elf);
    match checked_dumps(&zkmips, 1) {
        Ok(got) if got[0] == expected => None,
        Ok(mut got) => Some((expected, Ok(got.remove(0)))),
        Err(e) => Some((expected, Err(e))),
    }
}

/// Finds a unit `k` such that the first `k` units agree and the first `k + 1` do not, and describes it.
fn bisect(case: &Case, mode: &str, flags: &[&str]) -> String {
    let seed = case.seed;
    let mut header = format!("seed {seed} ({mode} mode): ");
    let Some(mut bad) = run_single(case, case.units.len(), flags) else {
        header.push_str("differs inside a batch but not alone (state leaking between cases?)");
        return header;
    };
    if let Some(diff) = run_single(case, 0, flags) {
        header.push_str("differs with no instructions at all (the set-up or the dump):\n");
        header.push_str(&describe_difference(&diff.0, &diff.1));
        return header;
    }
    let (mut good, mut bad_len) = (0, case.units.len());
    while bad_len - good > 1 {
        let mid = (good + bad_len) / 2;
        match run_single(case, mid, flags) {
            Some(diff) => {
                bad = diff;
                bad_len = mid;
            }
            None => good = mid,
        }
    }
    let unit = bad_len - 1;
    let before = build(&[(case, unit)]);
    let state = dumps(
        &run_qemu(&before, &Invocation::default(), &[], StdoutTo::Pipe),
        "qemu",
        &before,
        1,
    )
    .remove(0);
    discard(&before);
    // Kept, with its `.S`, as the reproducer.
    let elf = build(&[(case, bad_len)]);
    let mut report = header;
    report.push_str(&format!(
        "unit {unit} of {} is the first to differ (reproduce: ELF {})\n",
        case.units.len(),
        elf.display()
    ));
    let from = unit.saturating_sub(3);
    report.push_str(&format!("source (units {from}..={unit}):\n"));
    for (i, u) in case.units[from..=unit].iter().enumerate() {
        for line in &u.lines {
            report.push_str(&format!("  u{:<4} {line}\n", from + i));
        }
    }
    report.push_str("instruction words of the differing unit:\n");
    report.push_str(&disassemble_unit(&elf, unit));
    report.push_str("state before it (qemu):\n");
    report.push_str(&format_state(&state));
    report.push_str("after it, qemu vs zkmips:\n");
    report.push_str(&describe_difference(&bad.0, &bad.1));
    report
}

fn disassemble_unit(elf: &Path, unit: usize) -> String {
    let syms = symbols(elf);
    let start = symbol_address(&syms, &format!("zk_case0_u{unit}"));
    let end = symbol_address(&syms, &format!("zk_case0_u{}", unit + 1))
        .or_else(|| symbol_address(&syms, "zk_case0_end"));
    let (Some(start), Some(end)) = (start, end) else {
        return "  (symbols not found)\n".to_string();
    };
    let out = Command::new(OBJDUMP)
        .args(["-d", "-M", "no-aliases"])
        .arg(format!("--start-address={start:#x}"))
        .arg(format!("--stop-address={end:#x}"))
        .arg(elf)
        .output()
        .expect("cannot run objdump");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|line| {
            line.trim_start()
                .split(':')
                .next()
                .is_some_and(|a| u32::from_str_radix(a, 16).is_ok())
        })
        .map(|line| format!("  {}\n", line.trim()))
        .collect()
}

fn format_state(dump: &Dump) -> String {
    let mut s = String::new();
    let regs: Vec<&(String, String)> = dump.iter().filter(|(n, _)| !n.starts_with('m')).collect();
    for row in regs.chunks(6) {
        s.push(' ');
        for (name, value) in row {
            s.push_str(&format!(" {name:>3}={value}"));
        }
        s.push('\n');
    }
    s
}

fn describe_difference(expected: &Dump, got: &Result<Dump, String>) -> String {
    match got {
        Err(problem) => format!("  qemu ran cleanly; zkmips: {problem}\n"),
        Ok(got) => expected
            .iter()
            .zip(got)
            .filter(|(e, g)| e != g)
            .map(|((name, e), (_, g))| {
                let place = match name.strip_prefix('m') {
                    Some(word) => format!("scratch+{}", 4 * word.parse::<u32>().unwrap_or(0)),
                    None => name.clone(),
                };
                format!("  {place}: qemu {e}, zkmips {g}\n")
            })
            .collect(),
    }
}

/// The generator keeps to registers the harness does not need; a change there must keep the dump sane.
#[test]
fn generator_is_deterministic_and_avoids_reserved_registers() {
    let a = generator::emit_function(&generate(7, 300), "f", 300);
    let b = generator::emit_function(&generate(7, 300), "f", 300);
    assert_eq!(a, b, "same seed, different program");
    assert_ne!(a, generator::emit_function(&generate(8, 300), "f", 300));
    for reg in [26, 27, 29, generator::BASE] {
        assert!(
            !FREE_REGS.contains(&reg),
            "${reg} must not be a free register"
        );
    }
    // Every mnemonic in the coverage list is actually generated over a few cases.
    let text: String = (0..20)
        .map(|seed| generator::emit_function(&generate(seed, 400), "f", 400))
        .collect();
    let used: std::collections::HashSet<&str> = text
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    for mnemonic in generator::MNEMONICS {
        assert!(used.contains(mnemonic), "{mnemonic} is never generated");
    }
}
