//! Shared by the differential, lockstep and negative tests: building the C programs in `tests/c` with the
//! MIPS cross gcc, and running them under `qemu-mipsel` and `zkmips run` with a wall-clock limit.
#![allow(dead_code)] // each test binary uses a different subset

use std::collections::hash_map::DefaultHasher;
use std::fs;
use std::hash::{Hash, Hasher};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub const GCC: &str = "mipsel-linux-gnu-gcc";
pub const QEMU: &str = "qemu-mipsel";
pub const NM: &str = "mipsel-linux-gnu-nm";
pub const OBJDUMP: &str = "mipsel-linux-gnu-objdump";

/// How every C program is built: unmodified static glibc binaries, the way a user would build them.
pub const CFLAGS: &[&str] = &["-O2", "-march=mips32r2", "-static", "-Wall", "-Wextra"];

/// Wall-clock limit for one process; a hang is a bug, and must fail the test rather than stall the suite.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(300);

/// An instruction budget far above any test program (the largest runs ~13M instructions), so a runaway
/// guest fails with a cycle-limit error instead of spinning until [`RUN_TIMEOUT`].
pub const MAX_CYCLES: &str = "400000000";

pub fn zkmips_bin() -> &'static str {
    env!("CARGO_BIN_EXE_zkmips")
}

/// Returns whether all `tools` answer `--version`. Without them the tests print a note and pass, except
/// when the environment variable `CI` is set: there a silently skipped suite would hide regressions, so
/// this panics instead.
pub fn tools_available(tools: &[&str]) -> bool {
    let missing: Vec<&str> = tools
        .iter()
        .copied()
        .filter(|tool| {
            !Command::new(tool)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .collect();
    if missing.is_empty() {
        return true;
    }
    let message = format!(
        "missing tools: {} (Debian: apt-get install gcc-mipsel-linux-gnu binutils-mipsel-linux-gnu qemu-user)",
        missing.join(", ")
    );
    if std::env::var_os("CI").is_some() {
        panic!("{message}; CI is set, so this is an error rather than a skip");
    }
    eprintln!("skipping: {message}");
    false
}

/// Skips (returns from) the calling test when the listed tools are missing; see [`tools_available`].
macro_rules! require_tools {
    ($($tool:expr),* $(,)?) => {
        if !$crate::support::tools_available(&[$($tool),*]) {
            return;
        }
    };
}

pub fn c_source_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("c")
}

/// A directory under cargo's per-target scratch space, created on demand.
pub fn scratch_dir(parts: &[&str]) -> PathBuf {
    let mut dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    for part in parts {
        dir.push(part);
    }
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}

fn compiler_identity() -> &'static str {
    static IDENTITY: OnceLock<String> = OnceLock::new();
    IDENTITY.get_or_init(|| {
        let out = Command::new(GCC)
            .arg("--version")
            .output()
            .expect("gcc --version");
        String::from_utf8_lossy(&out.stdout).into_owned()
    })
}

/// Builds `tests/c/<name>.c` and returns the ELF's path. Binaries are cached under the content hash of
/// source, flags and compiler version, so each program is compiled once even when tests run in parallel
/// threads (a losing racer just renames an identical file over the winner's).
pub fn build_c(name: &str) -> PathBuf {
    let source_path = c_source_dir().join(format!("{name}.c"));
    let source = fs::read(&source_path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", source_path.display()));
    let mut hasher = DefaultHasher::new();
    source.hash(&mut hasher);
    CFLAGS.hash(&mut hasher);
    compiler_identity().hash(&mut hasher);
    let dir = scratch_dir(&["c-programs"]);
    // Canonical, because qemu answers readlink("/proc/self/exe") with the binary's real path and glibc's
    // start-up uses it; argv[0] (this path) should be the same string.
    let dir = fs::canonicalize(&dir).expect("canonical scratch dir");
    let elf = dir.join(format!("{name}-{:016x}.elf", hasher.finish()));
    if elf.exists() {
        return elf;
    }
    let tmp = dir.join(format!(
        "{name}.{}.{:?}.tmp",
        std::process::id(),
        std::thread::current().id()
    ));
    let out = Command::new(GCC)
        .args(CFLAGS)
        .arg("-o")
        .arg(&tmp)
        .arg(&source_path)
        .output()
        .expect("cannot start the MIPS cross gcc");
    assert!(
        out.status.success(),
        "building {} failed:\n{}",
        source_path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    fs::rename(&tmp, &elf).expect("cannot move the built ELF into the cache");
    elf
}

/// The zkVM C SDK directory (`zkvm/c`: zkmips.h, zkmips.c, start.S, link.ld).
pub fn c_sdk_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("cli/ has a parent")
        .join("zkvm")
        .join("c")
}

/// Flags of a zkVM C guest: bare metal against the C SDK, as `examples/build.sh` builds `c-sum`.
pub const GUEST_CFLAGS: &[&str] = &[
    "-O2",
    "-march=mips32r2",
    "-nostdlib",
    "-ffreestanding",
    "-static",
    "-fno-pic",
    "-mno-abicalls",
    "-Wall",
    "-Wextra",
    "-Wl,--build-id=none",
    "-Wl,-z,max-page-size=4096",
];

/// Builds `tests/c/<name>.c` as a zkVM guest with the C SDK (`start.S`, `zkmips.c`, `link.ld`) and returns
/// the ELF's path; cached like [`build_c`], keyed on the SDK's sources too.
pub fn build_c_guest(name: &str) -> PathBuf {
    let source_path = c_source_dir().join(format!("{name}.c"));
    let sdk = c_sdk_dir();
    let sdk_files = ["zkmips.h", "zkmips.c", "start.S", "link.ld"];
    let mut hasher = DefaultHasher::new();
    for path in std::iter::once(source_path.clone()).chain(sdk_files.iter().map(|f| sdk.join(f))) {
        fs::read(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
            .hash(&mut hasher);
    }
    GUEST_CFLAGS.hash(&mut hasher);
    compiler_identity().hash(&mut hasher);
    let dir = scratch_dir(&["c-guests"]);
    let elf = dir.join(format!("{name}-{:016x}.elf", hasher.finish()));
    if elf.exists() {
        return elf;
    }
    let tmp = dir.join(format!(
        "{name}.{}.{:?}.tmp",
        std::process::id(),
        std::thread::current().id()
    ));
    let out = Command::new(GCC)
        .args(GUEST_CFLAGS)
        .arg("-I")
        .arg(&sdk)
        .arg("-T")
        .arg(sdk.join("link.ld"))
        .arg(sdk.join("start.S"))
        .arg(sdk.join("zkmips.c"))
        .arg(&source_path)
        .arg("-lgcc")
        .arg("-o")
        .arg(&tmp)
        .output()
        .expect("cannot start the MIPS cross gcc");
    assert!(
        out.status.success(),
        "building {} with the C SDK failed:\n{}",
        source_path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    fs::rename(&tmp, &elf).expect("cannot move the built ELF into the cache");
    elf
}

/// What a finished process left behind.
#[derive(Debug)]
pub struct Outcome {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Outcome {
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
    /// "exit code N" or "killed by signal N", for messages.
    pub fn describe(&self) -> String {
        use std::os::unix::process::ExitStatusExt;
        match (self.status.code(), self.status.signal()) {
            (Some(code), _) => format!("exit code {code}"),
            (None, Some(signal)) => format!("killed by signal {signal}"),
            _ => format!("{:?}", self.status),
        }
    }
}

/// Where a child's stdout goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StdoutTo {
    /// A pipe the harness reads (a FIFO for the guest's `fstat`).
    Pipe,
    /// `/dev/null`: a character device that is not a terminal, like zkmips's model of the standard
    /// descriptors (executor/src/syscalls/linux.rs `STD_FD_MODE`). The output is not captured.
    DevNull,
}

/// Runs `cmd` with `stdin` bytes (or an empty stdin) on a pipe, capturing stdout (see [`StdoutTo`]) and
/// stderr, and kills it after [`RUN_TIMEOUT`].
pub fn run_captured(mut cmd: Command, stdin: Option<&[u8]>, stdout_to: StdoutTo) -> Outcome {
    cmd.stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .stdout(match stdout_to {
            StdoutTo::Pipe => Stdio::piped(),
            StdoutTo::DevNull => Stdio::null(),
        });
    let description = format!("{cmd:?}");
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {description}: {e}"));
    let input = stdin.unwrap_or_default().to_vec();
    let mut child_stdin = child.stdin.take().expect("stdin pipe");
    // A guest may exit without reading all its input: a broken pipe here is fine.
    let writer = std::thread::spawn(move || {
        let _ = child_stdin.write_all(&input);
    });
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            pipe.read_to_end(&mut bytes).expect("read child output");
            bytes
        })
    };
    let stdout = drain(match child.stdout.take() {
        Some(pipe) => Box::new(pipe),
        None => Box::new(std::io::empty()),
    });
    let stderr = drain(Box::new(child.stderr.take().expect("stderr pipe")));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for child") {
            break status;
        }
        if start.elapsed() > RUN_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{description} did not finish within {RUN_TIMEOUT:?} (hang?)");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    writer.join().expect("stdin writer");
    Outcome {
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    }
}

/// A guest invocation, identical for qemu and zkmips.
#[derive(Clone, Debug, Default)]
pub struct Invocation<'a> {
    pub args: &'a [&'a str],
    /// `NAME=value` strings; both sides get exactly these and nothing else.
    pub env: &'a [&'a str],
    pub stdin: Option<&'a [u8]>,
}

/// Writes the invocation's stdin (if any) into `work` and returns its path, for `zkmips run --stdin`.
fn stdin_file(inv: &Invocation, work: &Path) -> Option<PathBuf> {
    inv.stdin.map(|bytes| {
        let path = work.join("stdin");
        fs::write(&path, bytes).expect("write stdin file");
        path
    })
}

/// Runs `elf` under qemu-mipsel with a cleared host environment (qemu hands its own environment to the
/// guest) plus `qemu_flags`.
pub fn run_qemu(elf: &Path, inv: &Invocation, qemu_flags: &[&str], stdout_to: StdoutTo) -> Outcome {
    let mut cmd = Command::new(QEMU);
    cmd.env_clear();
    // qemu pushes each -E entry onto the front of the guest environment, so pass them in reverse.
    for var in inv.env.iter().rev() {
        cmd.arg("-E").arg(var);
    }
    cmd.args(qemu_flags).arg(elf).args(inv.args);
    run_captured(cmd, inv.stdin, stdout_to)
}

/// Runs `elf` under `zkmips run` with `flags` (before `--`), a generous cycle limit and a cleared host
/// environment.
pub fn run_zkmips(elf: &Path, inv: &Invocation, flags: &[&str], work: &Path) -> Outcome {
    let stdin = stdin_file(inv, work);
    let mut cmd = Command::new(zkmips_bin());
    cmd.env_clear().arg("run").arg(elf);
    if let Some(path) = &stdin {
        cmd.arg("--stdin").arg(path);
    }
    for var in inv.env {
        cmd.arg("--env").arg(var);
    }
    if !flags.contains(&"--max-cycles") {
        cmd.args(["--max-cycles", MAX_CYCLES]);
    }
    cmd.args(flags).arg("--").args(inv.args);
    run_captured(cmd, None, StdoutTo::Pipe)
}

/// The program's function symbols, sorted by address, from `nm`.
pub fn symbols(elf: &Path) -> Vec<(u32, String)> {
    let out = Command::new(NM)
        .arg("-n")
        .arg(elf)
        .output()
        .expect("cannot run nm");
    assert!(out.status.success(), "nm failed on {}", elf.display());
    let mut syms: Vec<(u32, String)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let mut parts = line.split_whitespace();
            let addr = u32::from_str_radix(parts.next()?, 16).ok()?;
            let kind = parts.next()?;
            let name = parts.next()?;
            matches!(kind, "T" | "t" | "W" | "w").then(|| (addr, name.to_string()))
        })
        .collect();
    syms.sort();
    syms
}

pub fn symbol_address(syms: &[(u32, String)], name: &str) -> Option<u32> {
    syms.iter().find(|(_, n)| n == name).map(|(a, _)| *a)
}

/// `name+0xoff` for the function containing `pc`.
pub fn symbolize(syms: &[(u32, String)], pc: u32) -> String {
    match syms.partition_point(|(addr, _)| *addr <= pc) {
        0 => "?".to_string(),
        i => {
            let (addr, name) = &syms[i - 1];
            format!("{name}+{:#x}", pc - addr)
        }
    }
}

/// The disassembly of the instruction at `addr`: (raw word, text), from objdump.
pub fn disassemble_at(elf: &Path, addr: u32) -> Option<(u32, String)> {
    let out = Command::new(OBJDUMP)
        .arg("-d")
        .arg(format!("--start-address={addr:#x}"))
        .arg(format!("--stop-address={:#x}", addr + 4))
        .arg(elf)
        .output()
        .ok()?;
    let wanted = format!("{addr:x}:");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|line| {
            let line = line.trim_start();
            let rest = line.strip_prefix(&wanted)?;
            let mut fields = rest.trim_start().splitn(2, char::is_whitespace);
            let word = u32::from_str_radix(fields.next()?, 16).ok()?;
            Some((word, fields.next().unwrap_or("").trim().to_string()))
        })
}

/// The addresses of instructions in `function` whose mnemonic is `mnemonic`, from objdump.
pub fn find_instructions(elf: &Path, function: &str, mnemonic: &str) -> Vec<u32> {
    let out = Command::new(OBJDUMP)
        .arg("-d")
        .arg(format!("--disassemble={function}"))
        .arg(elf)
        .output()
        .expect("cannot run objdump");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let (addr, rest) = line.trim_start().split_once(':')?;
            let addr = u32::from_str_radix(addr, 16).ok()?;
            let mut fields = rest.split_whitespace();
            let _word = fields.next()?;
            (fields.next()? == mnemonic).then_some(addr)
        })
        .collect()
}

/// A short, line-oriented description of where two outputs first differ.
pub fn first_difference(expected: &[u8], got: &[u8]) -> String {
    let expected = String::from_utf8_lossy(expected);
    let got = String::from_utf8_lossy(got);
    let e: Vec<&str> = expected.split_inclusive('\n').collect();
    let g: Vec<&str> = got.split_inclusive('\n').collect();
    let line = e
        .iter()
        .zip(&g)
        .position(|(a, b)| a != b)
        .unwrap_or(e.len().min(g.len()));
    let show = |lines: &[&str]| -> String {
        let from = line.saturating_sub(2);
        let to = (line + 3).min(lines.len());
        lines[from..to]
            .iter()
            .enumerate()
            .map(|(i, l)| {
                format!(
                    "  {:>5}{} {l:?}\n",
                    from + i + 1,
                    if from + i == line { '>' } else { ':' }
                )
            })
            .collect()
    };
    format!(
        "first difference at line {} (qemu has {} lines, zkmips {}):\n qemu:\n{} zkmips:\n{}",
        line + 1,
        e.len(),
        g.len(),
        show(&e),
        show(&g)
    )
}
