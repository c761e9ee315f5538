//! Lockstep tests: the sequence of executed PCs under zkmips (`zkmips run --trace-pcs`) must equal qemu's
//! (`qemu-mipsel -singlestep -d exec,nochain`). With `-singlestep` every translation block holds one
//! instruction, so qemu logs each executed instruction on its own `Trace` line, delay slots included (the
//! branch and its slot are separate blocks; checked on real traces, see docs/TESTING.md). zkmips writes
//! delay slots too, so the sequences compare one to one without normalisation.
//!
//! A divergence is reported with the surrounding PCs, their functions (from `nm`) and the instruction at the
//! divergence (from `objdump`), which is usually enough to name the syscall or instruction at fault.

#[macro_use]
mod support;

use std::fs;
use std::path::Path;

use support::{
    GCC, Invocation, NM, OBJDUMP, QEMU, StdoutTo, build_c, disassemble_at, run_qemu, run_zkmips,
    scratch_dir, symbol_address, symbolize, symbols,
};

/// glibc's stdio `fstat`s stdout before its first write and calls `isatty` (an `ioctl`) only for a character
/// device, so qemu's stdout must be the same kind of file as zkmips reports: a pipe (`STD_FD_MODE` in
/// executor/src/syscalls/linux.rs). Stdout contents are compared by the differential tests, not here.
const QEMU_STDOUT: StdoutTo = StdoutTo::Pipe;

/// Which part of the execution must match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Window {
    /// Everything from the ELF entry point to the final syscall.
    Whole,
    /// From the first instruction of `main` to the first instruction of `exit`: skips glibc start-up,
    /// whose path depends on host-specific syscall results (see docs/TESTING.md).
    Main,
}

/// One line of qemu's `-d exec` log: `Trace 0: 0x7f.. [00000000/00400790/000000e2/00000201] symbol`. The
/// bracketed fields are cs_base, the guest pc, the translation block's hflags and its cflags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct QemuStep {
    pc: u32,
    hflags: u32,
}

/// qemu's `MIPS_HFLAG_BMASK` bits (target/mips/cpu.h): set on a block that is a delay slot, giving the
/// kind of branch it belongs to.
const HFLAG_BRANCH_MASK: u32 = 0x3800;
/// `MIPS_HFLAG_BL`: the delay slot of a branch-likely.
const HFLAG_BRANCH_LIKELY: u32 = 0x1800;

fn parse_qemu_trace(text: &str) -> Vec<QemuStep> {
    text.lines()
        .filter(|line| line.starts_with("Trace "))
        .map(|line| {
            let fields: Vec<&str> = line
                .split('[')
                .nth(1)
                .and_then(|rest| rest.split(']').next())
                .map(|inside| inside.split('/').collect())
                .unwrap_or_default();
            let hex = |i: usize| {
                fields
                    .get(i)
                    .and_then(|f| u32::from_str_radix(f, 16).ok())
                    .unwrap_or_else(|| panic!("unexpected qemu trace line {line:?}"))
            };
            QemuStep {
                pc: hex(1),
                hflags: hex(2),
            }
        })
        .collect()
}

/// The executed PCs in qemu's log. qemu logs the delay slot of a branch-likely even when the branch is not
/// taken and the slot is annulled (the block runs, tests the condition and skips the instruction), while
/// zkmips only lists instructions that execute. An annulled slot is recognised by its block flags
/// ([`HFLAG_BRANCH_LIKELY`]) and by execution continuing right after it although the branch's target is
/// elsewhere. (A branch-likely whose target is the instruction after its slot is ambiguous in qemu's log;
/// gcc never emits branch-likely, and the hand-written ones in tests/c jump further.)
fn executed_pcs(
    steps: &[QemuStep],
    branch_target: &mut impl FnMut(u32) -> Option<u32>,
) -> Vec<u32> {
    let mut pcs = Vec::with_capacity(steps.len());
    for (i, step) in steps.iter().enumerate() {
        if step.hflags & HFLAG_BRANCH_MASK == HFLAG_BRANCH_LIKELY {
            let falls_through = steps
                .get(i + 1)
                .is_some_and(|next| next.pc == step.pc.wrapping_add(4));
            let target = branch_target(step.pc.wrapping_sub(4));
            if falls_through && target != Some(step.pc.wrapping_add(4)) {
                continue;
            }
        }
        pcs.push(step.pc);
    }
    pcs
}

/// The target of the PC-relative branch at `pc` (a branch's offset counts from its delay slot).
fn branch_target_in(elf: &Path, pc: u32) -> Option<u32> {
    let (word, _) = disassemble_at(elf, pc)?;
    let offset = ((word & 0xffff) as i16 as i32) << 2;
    Some(pc.wrapping_add(4).wrapping_add(offset as u32))
}

/// Parses `zkmips run --trace-pcs`: one `0x%08x` per line.
fn parse_zkmips_trace(text: &str) -> Vec<u32> {
    text.lines()
        .map(|line| {
            let hex = line
                .trim()
                .strip_prefix("0x")
                .unwrap_or_else(|| panic!("bad zkmips trace line {line:?}"));
            u32::from_str_radix(hex, 16)
                .unwrap_or_else(|_| panic!("bad zkmips trace line {line:?}"))
        })
        .collect()
}

/// The slice from the first `main` to the first `exit` after it.
fn main_window(trace: &[u32], main: u32, exit: u32) -> Option<&[u32]> {
    let start = trace.iter().position(|&pc| pc == main)?;
    let len = trace[start..].iter().position(|&pc| pc == exit)?;
    Some(&trace[start..start + len])
}

/// One stretch where the traces disagree: `qemu[q]` vs `zkmips[z]`, after which they agree again (or end).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Gap {
    q: std::ops::Range<usize>,
    z: std::ops::Range<usize>,
}

/// How far each side may run off on its own before a gap counts as unrecoverable.
const MAX_SKIP: usize = 4000;
/// How many equal steps make the traces "back in step" after a gap.
const RESYNC_RUN: usize = 24;
const MAX_GAPS: usize = 8;

/// All regions where the traces disagree (up to [`MAX_GAPS`]), resynchronising after each one: a legitimate
/// difference (say, a syscall result taking another path through glibc) then shows up as one short gap
/// instead of hiding every later difference.
fn find_gaps(qemu: &[u32], zkmips: &[u32]) -> Vec<Gap> {
    let (mut i, mut j) = (0, 0);
    let mut gaps = Vec::new();
    while gaps.len() < MAX_GAPS {
        while i < qemu.len() && j < zkmips.len() && qemu[i] == zkmips[j] {
            i += 1;
            j += 1;
        }
        if i == qemu.len() && j == zkmips.len() {
            break;
        }
        let in_step = |a: usize, b: usize| {
            let (q, z) = (&qemu[i + a..], &zkmips[j + b..]);
            if q.len() < RESYNC_RUN || z.len() < RESYNC_RUN {
                q == z
            } else {
                q[..RESYNC_RUN] == z[..RESYNC_RUN]
            }
        };
        let resync = (1..=2 * MAX_SKIP).find_map(|d| {
            (d.saturating_sub(MAX_SKIP)..=d.min(MAX_SKIP))
                .map(|a| (a, d - a))
                .find(|&(a, b)| i + a <= qemu.len() && j + b <= zkmips.len() && in_step(a, b))
        });
        match resync {
            Some((a, b)) => {
                gaps.push(Gap {
                    q: i..i + a,
                    z: j..j + b,
                });
                i += a;
                j += b;
            }
            None => {
                gaps.push(Gap {
                    q: i..qemu.len(),
                    z: j..zkmips.len(),
                });
                break;
            }
        }
    }
    gaps
}

/// Describes where two PC sequences disagree, or `None` if they are equal. `offset` is the step of the run
/// at which the sequences start (non-zero for the main window).
fn divergence(elf: &Path, qemu: &[u32], zkmips: &[u32], offset: usize) -> Option<String> {
    let gaps = find_gaps(qemu, zkmips);
    let first = gaps.first()?;
    let syms = symbols(elf);
    let line = |pc: u32| -> String {
        let insn = disassemble_at(elf, pc)
            .map(|(word, text)| format!("{word:08x}  {text}"))
            .unwrap_or_default();
        format!("{pc:#010x} {:<36} {insn}", symbolize(&syms, pc))
    };
    let functions = |pcs: &[u32]| -> String {
        let mut names: Vec<String> = Vec::new();
        for &pc in pcs {
            let name = symbolize(&syms, pc);
            let name = name.split('+').next().unwrap_or("?").to_string();
            if !names.contains(&name) {
                names.push(name);
            }
        }
        let more = if names.len() > 6 { ", ..." } else { "" };
        names.truncate(6);
        format!("{}{more}", names.join(", "))
    };
    let common = first.q.start;
    let mut report = format!(
        "PC sequences diverge after {common} matching instructions (step {} of the run; qemu ran {}, zkmips {}).\n",
        offset + common,
        qemu.len(),
        zkmips.len()
    );
    report.push_str("last common steps:\n");
    for &pc in &qemu[common.saturating_sub(12)..common] {
        report.push_str(&format!("    {}\n", line(pc)));
    }
    for (name, trace, start) in [
        ("qemu", qemu, first.q.start),
        ("zkmips", zkmips, first.z.start),
    ] {
        report.push_str(&format!("then {name}:\n"));
        if start == trace.len() {
            report.push_str("    <end of trace>\n");
        }
        for &pc in trace.iter().skip(start).take(8) {
            report.push_str(&format!("    {}\n", line(pc)));
        }
    }
    report.push_str(
        "all divergent stretches (after each, the traces agree again unless it runs to the end):\n",
    );
    for gap in &gaps {
        report.push_str(&format!(
            "  at step {}: qemu {} steps [{}] / zkmips {} steps [{}]{}\n",
            offset + gap.q.start,
            gap.q.len(),
            functions(&qemu[gap.q.clone()]),
            gap.z.len(),
            functions(&zkmips[gap.z.clone()]),
            if gap.q.end == qemu.len() && gap.z.end == zkmips.len() {
                " (to the end)"
            } else {
                ""
            }
        ));
    }
    Some(report)
}

fn lockstep(test: &str, program: &str, inv: Invocation, window: Window) {
    require_tools!(GCC, QEMU, NM, OBJDUMP);
    let elf = build_c(program);
    let qemu_dir = scratch_dir(&["lockstep", test, "qemu"]);
    let zkmips_dir = scratch_dir(&["lockstep", test, "zkmips"]);
    let qemu_log = qemu_dir.join("exec.log");
    let zkmips_log = zkmips_dir.join("pcs.txt");
    let qemu_log_arg = qemu_log.to_str().expect("utf-8 path");
    let qemu = run_qemu(
        &elf,
        &inv,
        &["-singlestep", "-d", "exec,nochain", "-D", qemu_log_arg],
        QEMU_STDOUT,
    );
    let zkmips_log_arg = zkmips_log.to_str().expect("utf-8 path");
    let zkmips = run_zkmips(&elf, &inv, &["--trace-pcs", zkmips_log_arg], &zkmips_dir);
    assert!(
        !zkmips.stderr_text().contains("panicked"),
        "zkmips panicked:\n{}",
        zkmips.stderr_text()
    );
    assert!(
        qemu.status.code().is_some(),
        "{program} under qemu: {}",
        qemu.describe()
    );

    let qemu_steps = parse_qemu_trace(&fs::read_to_string(&qemu_log).expect("read qemu log"));
    let mut targets = std::collections::HashMap::new();
    let qemu_pcs = executed_pcs(&qemu_steps, &mut |pc| {
        *targets
            .entry(pc)
            .or_insert_with(|| branch_target_in(&elf, pc))
    });
    let zkmips_text = fs::read_to_string(&zkmips_log).unwrap_or_else(|e| {
        panic!(
            "zkmips wrote no pc trace ({e}); it ended with {}:\n{}",
            zkmips.describe(),
            zkmips.stderr_text()
        )
    });
    let zkmips_pcs = parse_zkmips_trace(&zkmips_text);
    assert!(
        !qemu_pcs.is_empty(),
        "qemu wrote no trace lines to {}",
        qemu_log.display()
    );

    let outcome = format!(
        "zkmips ended with {}; stderr:\n{}",
        zkmips.describe(),
        zkmips.stderr_text()
    );
    let (qemu_slice, zkmips_slice, offset) = match window {
        Window::Whole => (&qemu_pcs[..], &zkmips_pcs[..], 0),
        Window::Main => {
            let syms = symbols(&elf);
            let main = symbol_address(&syms, "main").expect("no main symbol");
            let exit = symbol_address(&syms, "exit").expect("no exit symbol");
            let q =
                main_window(&qemu_pcs, main, exit).expect("qemu trace has no main..exit window");
            let offset = qemu_pcs.iter().position(|&pc| pc == main).unwrap_or(0);
            let z = main_window(&zkmips_pcs, main, exit).unwrap_or_else(|| {
                panic!(
                    "zkmips trace ({} steps) never ran main..exit; {}",
                    zkmips_pcs.len(),
                    divergence(&elf, &qemu_pcs, &zkmips_pcs, 0).unwrap_or_default()
                )
            });
            (q, z, offset)
        }
    };
    if let Some(report) = divergence(&elf, qemu_slice, zkmips_slice, offset) {
        panic!(
            "{program} ({window:?} window, {}; traces kept in {} and {}):\n{report}\n{outcome}",
            elf.display(),
            qemu_log.display(),
            zkmips_log.display()
        );
    }
    assert_eq!(
        qemu.status.code(),
        zkmips.status.code(),
        "{program}: {outcome}"
    );
    // The logs are tens of MB; keep them only when a test fails, for inspection.
    let _ = fs::remove_file(&qemu_log);
    let _ = fs::remove_file(&zkmips_log);
}

const NO_ARGS: Invocation = Invocation {
    args: &[],
    env: &[],
    stdin: None,
};

macro_rules! lockstep_tests {
    ($($(#[$attr:meta])* $test:ident: $program:literal, $inv:expr, $window:expr;)*) => {
        $(
            #[test]
            $(#[$attr])*
            fn $test() {
                lockstep(stringify!($test), $program, $inv, $window);
            }
        )*
    };
}

lockstep_tests! {
    whole_exit_call: "exit_call", NO_ARGS, Window::Whole;
    whole_argv_envp: "argv_envp", Invocation { args: &["x", "yz"], env: &["K=v"], stdin: None }, Window::Whole;
    whole_setjmp_longjmp: "setjmp_longjmp", NO_ARGS, Window::Whole;
    whole_madd_msub: "madd_msub", NO_ARGS, Window::Whole;
    whole_stdin_echo: "stdin_echo",
        Invocation { args: &[], env: &[], stdin: Some(b"0123456789abcdef\nline\n 4 5\ntail\n") }, Window::Whole;
    main_exit_call: "exit_call", NO_ARGS, Window::Main;
    main_stdin_rot13: "stdin_rot13",
        Invocation { args: &[], env: &[], stdin: Some(b"Uryyb, jbeyq!\nThe lazy dog; 0123456789\n") }, Window::Main;
    main_bit_tricks: "bit_tricks", NO_ARGS, Window::Main;
    main_setjmp_longjmp: "setjmp_longjmp", NO_ARGS, Window::Main;
    main_argv_envp: "argv_envp", Invocation { args: &["x", "yz"], env: &["K=v"], stdin: None }, Window::Main;
    main_madd_msub: "madd_msub", NO_ARGS, Window::Main;
    main_isa_mix: "isa_mix", Invocation { args: &["16", "11"], env: &[], stdin: None }, Window::Main;
    main_unaligned_packed: "unaligned_packed", NO_ARGS, Window::Main;
    main_printf_float: "printf_float",
        Invocation { args: &["30"], env: &[], stdin: None }, Window::Main;
    main_printf_basic: "printf_basic", NO_ARGS, Window::Main;
}

#[test]
fn qemu_trace_parser_reads_the_pc_field() {
    let log = "Trace 0: 0x7f6811e000c0 [00000000/00400790/000000e2/00000201] \n\
               some other line\n\
               Trace 0: 0x7f6811e00180 [00000000/0040079c/000108e2/00000201] __start\n";
    let steps = parse_qemu_trace(log);
    assert_eq!(
        steps,
        vec![
            QemuStep {
                pc: 0x0040_0790,
                hflags: 0xe2
            },
            QemuStep {
                pc: 0x0040_079c,
                hflags: 0x108e2
            }
        ]
    );
    assert_eq!(
        parse_zkmips_trace("0x00400790\n0x0040079c\n"),
        vec![0x0040_0790, 0x0040_079c]
    );
}

#[test]
fn annulled_branch_likely_slots_are_dropped() {
    let likely_slot = |pc| QemuStep {
        pc,
        hflags: 0x118e2,
    };
    let plain = |pc| QemuStep { pc, hflags: 0xe2 };
    // beql at 0x100 jumping to 0x10c: not taken (0x104 annulled, then 0x108), then taken (0x104, 0x10c).
    let steps = [
        plain(0x100),
        likely_slot(0x104),
        plain(0x108),
        plain(0x100),
        likely_slot(0x104),
        plain(0x10c),
    ];
    let mut target = |pc: u32| (pc == 0x100).then_some(0x10c);
    assert_eq!(
        executed_pcs(&steps, &mut target),
        vec![0x100, 0x108, 0x100, 0x104, 0x10c]
    );
    // Ordinary delay slots are always kept.
    let steps = [
        plain(0x100),
        QemuStep {
            pc: 0x104,
            hflags: 0x110e2,
        },
        plain(0x108),
    ];
    assert_eq!(executed_pcs(&steps, &mut target), vec![0x100, 0x104, 0x108]);
}

#[test]
fn gaps_resynchronise_after_a_detour() {
    let common: Vec<u32> = (0..100).collect();
    let mut qemu = common[..50].to_vec();
    qemu.extend([1000, 1001, 1002]);
    qemu.extend(&common[50..]);
    let mut zkmips = common[..50].to_vec();
    zkmips.push(2000);
    zkmips.extend(&common[50..]);
    assert_eq!(
        find_gaps(&qemu, &zkmips),
        vec![Gap {
            q: 50..53,
            z: 50..51
        }]
    );
    assert_eq!(find_gaps(&common, &common), vec![]);
    // A trace that stops early is one gap running to the end.
    assert_eq!(
        find_gaps(&common, &common[..60]),
        vec![Gap {
            q: 60..100,
            z: 60..60
        }]
    );
}

#[test]
fn main_window_stops_at_exit() {
    let trace = [1, 2, 10, 11, 12, 20, 21, 10];
    assert_eq!(main_window(&trace, 10, 20), Some(&[10, 11, 12][..]));
    assert_eq!(main_window(&trace, 99, 20), None);
}
