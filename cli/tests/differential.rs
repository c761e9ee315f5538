//! Differential tests: each C program in `tests/c` is built as an unmodified static glibc binary and run
//! under `qemu-mipsel` (the reference) and `zkmips run` with the same arguments, environment and stdin.
//! Stdout, the exit code and (where the program writes to it) stderr must be identical. Programs that trap
//! must make both fail. One test per program, so a failure names the program. See docs/TESTING.md.

#[macro_use]
mod support;

use support::{
    GCC, Invocation, Outcome, QEMU, StdoutTo, build_c, first_difference, run_qemu, run_zkmips,
    scratch_dir,
};

/// What the two runs must agree on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Same stdout and exit code; stderr compared only when `compare_stderr`.
    SameOutput { compare_stderr: bool },
    /// The program traps: qemu dies of a signal, zkmips exits with code 2 and an `error:` line naming the
    /// trap. Stdout up to the trap must still match.
    BothTrap { error_mentions: &'static str },
    /// The program raises `signal` (e.g. `abort()`): qemu dies of it, zkmips exits with 128 + signal as a
    /// shell would report it. Stdout and stderr must match (qemu's own "uncaught target signal" line aside).
    BothSignal { signal: i32 },
}

fn check(test: &str, program: &str, inv: Invocation, expect: Expect) {
    check_with_flags(test, program, inv, expect, &[]);
}

/// Like [`check`], with extra `zkmips run` flags (e.g. tracing mode).
fn check_with_flags(test: &str, program: &str, inv: Invocation, expect: Expect, flags: &[&str]) {
    require_tools!(GCC, QEMU);
    let elf = build_c(program);
    let zkmips_dir = scratch_dir(&["differential", test]);
    let qemu = run_qemu(&elf, &inv, &[], StdoutTo::Pipe);
    let zkmips = run_zkmips(&elf, &inv, flags, &zkmips_dir);
    let report = compare(program, &qemu, &zkmips, expect);
    assert!(
        report.is_empty(),
        "{program} ({}):\n{}",
        elf.display(),
        report.join("\n")
    );
}

/// Every disagreement between the runs, as readable lines (empty = agreement).
fn compare(program: &str, qemu: &Outcome, zkmips: &Outcome, expect: Expect) -> Vec<String> {
    let mut problems = Vec::new();
    let zk_err = zkmips.stderr_text();
    if zk_err.contains("panicked") {
        problems.push(format!("zkmips panicked:\n{zk_err}"));
    }
    match expect {
        Expect::SameOutput { compare_stderr } => {
            // The reference run must itself be sane, or the comparison means nothing.
            assert!(
                qemu.status.code().is_some(),
                "{program} under qemu: {}\n{}",
                qemu.describe(),
                qemu.stderr_text()
            );
            if qemu.status.code() != zkmips.status.code() {
                problems.push(format!(
                    "exit status: qemu {}, zkmips {}; zkmips stderr:\n{zk_err}",
                    qemu.describe(),
                    zkmips.describe()
                ));
            }
            if qemu.stdout != zkmips.stdout {
                problems.push(format!(
                    "stdout differs: {}",
                    first_difference(&qemu.stdout, &zkmips.stdout)
                ));
            }
            if compare_stderr && qemu.stderr != zkmips.stderr {
                problems.push(format!(
                    "stderr differs: {}",
                    first_difference(&qemu.stderr, &zkmips.stderr)
                ));
            }
        }
        Expect::BothSignal { signal } => {
            use std::os::unix::process::ExitStatusExt;
            assert_eq!(
                qemu.status.signal(),
                Some(signal),
                "{program} was expected to die of signal {signal} under qemu, but: {}",
                qemu.describe()
            );
            if zkmips.status.code() != Some(128 + signal) {
                problems.push(format!(
                    "zkmips should exit with code {} (128 + signal {signal}), got {}; stderr:\n{zk_err}",
                    128 + signal,
                    zkmips.describe()
                ));
            }
            if qemu.stdout != zkmips.stdout {
                problems.push(format!(
                    "stdout differs: {}",
                    first_difference(&qemu.stdout, &zkmips.stdout)
                ));
            }
            let qemu_err: String = qemu
                .stderr_text()
                .lines()
                .filter(|l| !l.starts_with("qemu: uncaught target signal"))
                .map(|l| format!("{l}\n"))
                .collect();
            if qemu_err.as_bytes() != zkmips.stderr {
                problems.push(format!(
                    "stderr differs: {}",
                    first_difference(qemu_err.as_bytes(), &zkmips.stderr)
                ));
            }
        }
        Expect::BothTrap { error_mentions } => {
            assert!(
                qemu.status.code().is_none(),
                "{program} was expected to die of a signal under qemu, but: {}",
                qemu.describe()
            );
            if zkmips.status.code() != Some(2) {
                problems.push(format!(
                    "zkmips should exit with code 2 on a trap, got {}",
                    zkmips.describe()
                ));
            }
            let error_line = zk_err
                .lines()
                .find(|l| l.starts_with("error:"))
                .unwrap_or("");
            if !error_line.to_lowercase().contains(error_mentions) || !error_line.contains("pc 0x")
            {
                problems.push(format!(
                    "zkmips stderr should have an `error:` line naming `{error_mentions}` and the pc, got:\n{zk_err}"
                ));
            }
            if qemu.stdout != zkmips.stdout {
                problems.push(format!(
                    "stdout before the trap differs: {}",
                    first_difference(&qemu.stdout, &zkmips.stdout)
                ));
            }
        }
    }
    problems
}

const SAME: Expect = Expect::SameOutput {
    compare_stderr: false,
};
const SAME_WITH_STDERR: Expect = Expect::SameOutput {
    compare_stderr: true,
};

/// Declares one differential test per program.
macro_rules! differential {
    ($($test:ident: $program:literal, $inv:expr, $expect:expr;)*) => {
        $(
            #[test]
            fn $test() {
                check(stringify!($test), $program, $inv, $expect);
            }
        )*
    };
}

const NO_ARGS: Invocation = Invocation {
    args: &[],
    env: &[],
    stdin: None,
};

const STDIN_TEXT: &[u8] =
    b"hello world\nsecond line\nthird\nfourth line is here\n  12 30\nrest of the data\nand more\n";

/// A few KiB with every byte value, so the rot13 loop crosses many short reads.
fn binary_stdin() -> &'static [u8] {
    static BYTES: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BYTES.get_or_init(|| {
        let mut bytes: Vec<u8> = (0..4099u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        bytes.extend_from_slice(b"\nThe Quick Brown Fox jumps over the lazy dog.\n");
        bytes
    })
}

differential! {
    printf_basic: "printf_basic", NO_ARGS, SAME_WITH_STDERR;
    printf_float: "printf_float", NO_ARGS, SAME;
    fpu_bits: "fpu_bits", NO_ARGS, SAME;
    big_output: "big_output", NO_ARGS, SAME_WITH_STDERR;
    strconv: "strconv", NO_ARGS, SAME;
    malloc_churn: "malloc_churn", NO_ARGS, SAME;
    qsort_bsearch: "qsort_bsearch", NO_ARGS, SAME;
    unaligned_packed: "unaligned_packed", NO_ARGS, SAME;
    int64_arith: "int64_arith", NO_ARGS, SAME;
    bit_tricks: "bit_tricks", NO_ARGS, SAME;
    isa_mix: "isa_mix", NO_ARGS, SAME;
    setjmp_longjmp: "setjmp_longjmp", NO_ARGS, SAME;
    string_funcs: "string_funcs", NO_ARGS, SAME;
    recursion: "recursion", NO_ARGS, SAME;
    madd_msub: "madd_msub", NO_ARGS, SAME;
    exit_return: "exit_return", NO_ARGS, SAME;
    exit_call: "exit_call", NO_ARGS, SAME;
    sha256_bench: "sha256_bench", NO_ARGS, SAME;
    sha256_bench_args: "sha256_bench", Invocation { args: &["3", "5"], env: &[], stdin: None }, SAME;
    argv_envp_none: "argv_envp", NO_ARGS, SAME;
    argv_envp_args: "argv_envp",
        Invocation { args: &["one", "two words", "", "--flag=x", "ünïcödé"], env: &[], stdin: None }, SAME;
    argv_envp_env: "argv_envp",
        Invocation { args: &["a"], env: &["ZKMIPS_A=1", "EMPTY=", "PATH=/usr/bin:/bin"], stdin: None }, SAME;
    stdin_echo: "stdin_echo", Invocation { args: &[], env: &[], stdin: Some(STDIN_TEXT) }, SAME;
    stdin_echo_empty: "stdin_echo", Invocation { args: &[], env: &[], stdin: Some(b"") }, SAME;
    stdin_echo_no_stdin: "stdin_echo", NO_ARGS, SAME;
    div_by_zero_ok: "div_by_zero", Invocation { args: &["x", "y"], env: &[], stdin: None }, SAME;
    div_by_zero_traps: "div_by_zero", NO_ARGS, Expect::BothTrap { error_mentions: "trap" };
    abort: "abort_assert", Invocation { args: &["abort"], env: &[], stdin: None }, Expect::BothSignal { signal: 6 };
    assert_fails: "abort_assert", Invocation { args: &["assert"], env: &[], stdin: None }, Expect::BothSignal { signal: 6 };
}

#[test]
fn stdin_rot13() {
    let inv = Invocation {
        args: &[],
        env: &[],
        stdin: Some(binary_stdin()),
    };
    check("stdin_rot13", "stdin_rot13", inv, SAME_WITH_STDERR);
}

#[test]
fn stdin_rot13_empty() {
    check(
        "stdin_rot13_empty",
        "stdin_rot13",
        NO_ARGS,
        SAME_WITH_STDERR,
    );
}

/// Tracing mode (event recording for the prover, cut into small shards so that shard boundaries fall
/// inside syscalls, delay slots and HI/LO sequences) must not change what the guest does. Only small
/// programs: tracing keeps every event in memory.
const TRACED: &[&str] = &["--trace", "--shard-cycles", "4096"];

macro_rules! traced {
    ($($test:ident: $program:literal, $inv:expr, $expect:expr;)*) => {
        $(
            #[test]
            fn $test() {
                check_with_flags(stringify!($test), $program, $inv, $expect, TRACED);
            }
        )*
    };
}

traced! {
    traced_isa_mix: "isa_mix", Invocation { args: &["16", "11"], env: &[], stdin: None }, SAME;
    traced_printf_basic: "printf_basic", NO_ARGS, SAME_WITH_STDERR;
    traced_setjmp_longjmp: "setjmp_longjmp", NO_ARGS, SAME;
    traced_unaligned_packed: "unaligned_packed", NO_ARGS, SAME;
    traced_madd_msub: "madd_msub", NO_ARGS, SAME;
    traced_exit_call: "exit_call", NO_ARGS, SAME;
    traced_stdin_rot13: "stdin_rot13",
        Invocation { args: &[], env: &[], stdin: Some(b"Gur dhvpx oebja sbk\n0123456789\n") }, SAME_WITH_STDERR;
    traced_div_by_zero_traps: "div_by_zero", NO_ARGS, Expect::BothTrap { error_mentions: "trap" };
}

/// glibc asserts that `readlink("/proc/self/exe")` is absolute; a program started by a relative path must
/// still run (zkmips then answers ENOENT rather than a relative path).
#[test]
fn static_binary_runs_by_relative_path() {
    require_tools!(GCC);
    let elf = build_c("exit_return");
    let dir = elf.parent().expect("the ELF lives in a directory");
    let name = elf.file_name().expect("the ELF has a file name");
    let out = std::process::Command::new(support::zkmips_bin())
        .arg("run")
        .arg(name)
        .current_dir(dir)
        .output()
        .expect("zkmips runs");
    assert_eq!(
        out.status.code(),
        Some(3),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "about to return 3");
}
