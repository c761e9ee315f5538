//! `zkmips run`: execute a program and report what it did.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use zkmips_executor::{
    DEFAULT_SHARD_CYCLES, ExecError, ExecutionReport, Executor, ExecutorConfig, Mode, Program,
    PublicDigestStatus, Shard, SyscallConfig, public_digest_status,
};

/// Options of `zkmips run`.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// The little-endian MIPS32r2 ELF to run.
    pub program: PathBuf,
    /// Bytes the guest reads from file descriptor 0 (Linux `read`).
    #[arg(long, value_name = "FILE")]
    pub stdin: Option<PathBuf>,
    /// One item of the input stream (the file's raw bytes); repeat for more items, in order.
    #[arg(long = "input", value_name = "FILE")]
    pub inputs: Vec<PathBuf>,
    /// One item of the hint stream; repeat for more items, in order.
    #[arg(long = "hint", value_name = "FILE")]
    pub hints: Vec<PathBuf>,
    /// Stop with an error after this many instructions.
    #[arg(long, value_name = "N")]
    pub max_cycles: Option<u64>,
    /// Record the prover's events and cut shards (tracing mode) instead of running in fast mode.
    #[arg(long)]
    pub trace: bool,
    /// Shard size in cycles for tracing mode.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_SHARD_CYCLES)]
    pub shard_cycles: u64,
    /// Print instructions, cycles, per-class counts, shards and speed to stderr.
    #[arg(long)]
    pub stats: bool,
    /// Write the committed public-values bytes to this file.
    #[arg(long, value_name = "FILE")]
    pub public_values_out: Option<PathBuf>,
    /// Write every executed pc (`0x%08x` per line) to this file, for lockstep comparison with
    /// `qemu-mipsel -singlestep -d exec,nochain`.
    #[arg(long, value_name = "FILE")]
    pub trace_pcs: Option<PathBuf>,
    /// `NAME=value` environment strings passed to the guest (repeatable).
    #[arg(long = "env", value_name = "NAME=VALUE")]
    pub env: Vec<String>,
    /// Arguments passed to the guest after its program name (`argv[1..]`).
    #[arg(last = true)]
    pub args: Vec<String>,
}

/// How a run ended, for the process exit code.
pub enum RunOutcome {
    /// The guest halted with this exit code.
    Exited(u32),
    /// The guest stopped on an error (trap, fault, bad syscall...).
    Failed(ExecError),
}

fn read_file(path: &PathBuf, what: &str) -> Result<Vec<u8>> {
    fs::read(path).with_context(|| format!("cannot read {what} {}", path.display()))
}

/// Runs `zkmips run`. Errors are host-side problems (unreadable files, invalid ELF); guest failures come
/// back as [`RunOutcome::Failed`].
pub fn run(args: &RunArgs) -> Result<RunOutcome> {
    let elf = read_file(&args.program, "program")?;
    let program = Program::from_elf(&elf)
        .with_context(|| format!("{} is not a program zkmips can run", args.program.display()))?;

    let syscalls = SyscallConfig {
        stdin: match &args.stdin {
            Some(path) => read_file(path, "stdin file")?,
            None => Vec::new(),
        },
        inputs: args
            .inputs
            .iter()
            .map(|p| read_file(p, "input file"))
            .collect::<Result<_>>()?,
        hints: args
            .hints
            .iter()
            .map(|p| read_file(p, "hint file"))
            .collect::<Result<_>>()?,
        echo_output: true,
    };
    let trace_pcs: Option<Box<dyn Write + Send>> = match &args.trace_pcs {
        Some(path) => {
            let file = fs::File::create(path)
                .with_context(|| format!("cannot create pc trace {}", path.display()))?;
            Some(Box::new(BufWriter::with_capacity(1 << 20, file)))
        }
        None => None,
    };
    let program_name = args.program.to_string_lossy().into_owned();
    let config = ExecutorConfig {
        max_cycles: args.max_cycles,
        mode: if args.trace {
            Mode::Tracing
        } else {
            Mode::Fast
        },
        shard_cycles: args.shard_cycles.max(1),
        args: std::iter::once(program_name)
            .chain(args.args.iter().cloned())
            .collect(),
        env: args.env.clone(),
        syscalls,
        trace_pcs,
        // Per-opcode counting costs time on every instruction; only `--stats` prints the counts.
        count_opcodes: args.stats,
        // Nothing consumes the shards yet: a sink that leaves them in place lets the executor reuse
        // their buffers, so memory stays at one shard however long the run is.
        shard_sink: if args.trace {
            Some(Box::new(|_: &mut Shard| {}))
        } else {
            None
        },
    };

    let mut executor = match Executor::new(&program, config) {
        Ok(executor) => executor,
        Err(err) => return Ok(RunOutcome::Failed(err)),
    };
    let start = Instant::now();
    let result = executor.run();
    let elapsed = start.elapsed();
    std::io::stdout().flush().ok();

    let report = match result {
        Ok(report) => report,
        Err(err) => {
            if args.stats {
                eprintln!(
                    "stats: stopped after {} cycles in {:.3} s",
                    executor.cycles(),
                    elapsed.as_secs_f64()
                );
            }
            return Ok(RunOutcome::Failed(err));
        }
    };
    if let Some(err) = &report.trace_pcs_error {
        eprintln!("warning: writing the pc trace failed: {err}");
    }
    if let Some(path) = &args.public_values_out {
        fs::write(path, &report.public_values)
            .with_context(|| format!("cannot write public values to {}", path.display()))?;
    }
    if args.stats {
        let digest_status = public_digest_status(executor.memory(), &report.public_values);
        print_stats(
            &report,
            elapsed.as_secs_f64(),
            args.shard_cycles,
            digest_status,
        );
    }
    Ok(RunOutcome::Exited(report.exit_code))
}

fn print_stats(
    report: &ExecutionReport,
    seconds: f64,
    shard_cycles: u64,
    digest_status: PublicDigestStatus,
) {
    let mut err = std::io::stderr().lock();
    let mhz = report.cycles as f64 / seconds.max(1e-9) / 1e6;
    let _ = writeln!(err, "stats: exit code        {}", report.exit_code);
    let _ = writeln!(err, "stats: cycles           {}", report.cycles);
    let _ = writeln!(
        err,
        "stats: time             {seconds:.3} s ({mhz:.1} M instructions/s)"
    );
    for (class, count) in &report.class_counts {
        let share = 100.0 * *count as f64 / report.cycles.max(1) as f64;
        let _ = writeln!(
            err,
            "stats: class {:<10} {count} ({share:.1}%)",
            format!("{class:?}")
        );
    }
    if report.record.is_some() {
        let _ = writeln!(err, "stats: shards           {}", report.shards);
    } else {
        // Fast mode cuts no shards; tracing may add one instruction per cut to keep delay slots whole.
        let estimate = report.cycles.div_ceil(shard_cycles.max(1));
        let _ = writeln!(
            err,
            "stats: shards           about {estimate} of {shard_cycles} cycles (--trace cuts them)"
        );
    }
    if !report.syscall_counts.is_empty() {
        let calls: Vec<String> = report
            .syscall_counts
            .iter()
            .map(|(n, c)| format!("{}:{c}", syscall_label(*n)))
            .collect();
        let _ = writeln!(err, "stats: syscalls (number:count) {}", calls.join(" "));
    }
    if let Some(fpu) = &report.used_fpu {
        let _ = writeln!(
            err,
            "stats: used the FPU (not provable): first at pc {:#010x} (instruction {:#010x})",
            fpu.pc, fpu.word
        );
    }
    let digest = Sha256::digest(&report.public_values);
    let _ = writeln!(
        err,
        "stats: public values    {} bytes",
        report.public_values.len()
    );
    let _ = writeln!(err, "stats: public values sha256: {}", hex(&digest));
    let _ = writeln!(err, "stats: {}", public_digest_line(digest_status));
}

/// Whether the guest's runtime stored the public-values digest where the verifier reads it (see
/// `zkmips_abi::layout::PUBLIC_DIGEST_ADDR`): without it, a proof of this run would not verify.
fn public_digest_line(status: PublicDigestStatus) -> String {
    match status {
        PublicDigestStatus::Published => "public values digest: published".to_string(),
        PublicDigestStatus::Mismatch { expected, found } => format!(
            "public values digest: missing or wrong (expected {} at {:#x}, found {}); a proof of this \
             run will not verify",
            hex(&expected),
            zkmips_abi::layout::PUBLIC_DIGEST_ADDR,
            hex(&found)
        ),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Linux o32 syscalls by their decimal number (as `strace`/the kernel tables show them), zkVM services in hex.
fn syscall_label(number: u32) -> String {
    if number < 0x1_0000 {
        number.to_string()
    } else {
        format!("{number:#x}")
    }
}
