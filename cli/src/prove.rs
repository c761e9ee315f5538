//! `zkmips prove` and `zkmips verify`.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use zkmips_prover::machine::{MachineProof, prove_run, verify_run};
use zkmips_prover::vkey::ProgramVkey;

#[derive(clap::Args, Debug)]
pub struct ProveArgs {
    /// The guest's ELF file.
    pub program: PathBuf,
    /// An item of the input stream (raw bytes of the file); repeat for several, in order.
    #[arg(long, value_name = "FILE")]
    pub input: Vec<PathBuf>,
    /// An item of the hint stream; repeat for several.
    #[arg(long, value_name = "FILE")]
    pub hint: Vec<PathBuf>,
    /// Instructions per shard (smaller shards use less memory; each is proven separately).
    #[arg(long, value_name = "N", default_value_t = zkmips_prover::machine::DEFAULT_SHARD_CYCLES)]
    pub shard_size: u64,
    /// Print every chip's trace size (rows, columns, cells per cycle) after proving.
    #[arg(long)]
    pub stats: bool,
    /// Where to write the proof (with `--evm`: a directory, default `evm-proof`).
    #[arg(short, long, value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// Prove for the EVM: one fixed-shape shard wrapped in Groth16, written with its public
    /// values, calldata and a Foundry fixture, and checked by the verifier contract in an
    /// in-process EVM (gas printed).
    #[arg(long)]
    pub evm: bool,
    /// Groth16 key cache for `--evm` [default: $ZKMIPS_KEYS_DIR, else target/zkmips-keys].
    #[arg(long, value_name = "DIR", requires = "evm")]
    pub keys_dir: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    /// The proof file written by `zkmips prove`.
    pub proof: PathBuf,
    /// The program the proof must be for.
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "vkey",
        conflicts_with = "vkey"
    )]
    pub elf: Option<PathBuf>,
    /// The program's verifying key (bytes32 hex, as `zkmips vkey` prints it).
    #[arg(long, value_name = "HEX")]
    pub vkey: Option<String>,
}

pub(crate) fn read(path: &PathBuf) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn prove(args: &ProveArgs) -> Result<()> {
    if args.evm {
        return crate::prove_evm::prove_evm(args);
    }
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from("proof.bin"));
    let elf = read(&args.program)?;
    let inputs = args.input.iter().map(read).collect::<Result<Vec<_>>>()?;
    let hints = args.hint.iter().map(read).collect::<Result<Vec<_>>>()?;
    let start = Instant::now();
    let mut stderr = std::io::stderr();
    let (proof, timings) = prove_run(&elf, inputs, hints, args.shard_size, |done, total| {
        let _ = write!(
            stderr,
            "\rproving shard {done}/{total} [{:>6.1} s]",
            start.elapsed().as_secs_f64()
        );
        let _ = stderr.flush();
    })
    .with_context(|| format!("{}", args.program.display()))?;
    eprintln!();
    let write_start = Instant::now();
    let bytes = proof.to_bytes()?;
    std::fs::write(&output, &bytes)
        .with_context(|| format!("cannot write {}", output.display()))?;
    let cycles: u64 = proof.shards.iter().map(|s| u64::from(s.cpu.cycles)).sum();
    let proving: f64 = timings.shards.iter().map(|d| d.as_secs_f64()).sum();
    eprintln!("program vkey:   {}", proof.vkey.to_hex());
    eprintln!("exit code:      {}", proof.exit_code);
    eprintln!("public values:  {} bytes", proof.public_values.len());
    eprintln!(
        "cycles:         {cycles} in {} shard(s)",
        proof.shards.len()
    );
    eprintln!("execute:        {:.3} s", timings.execute.as_secs_f64());
    eprintln!(
        "prove:          {proving:.3} s ({:.0} cycles/s)",
        cycles as f64 / proving.max(1e-9)
    );
    eprintln!(
        "write:          {:.3} s",
        write_start.elapsed().as_secs_f64()
    );
    eprintln!(
        "proof:          {} ({} bytes)",
        output.display(),
        bytes.len()
    );
    if args.stats {
        print_shapes(&timings.shapes, cycles);
    }
    Ok(())
}

/// Per chip, summed over the shards: rows, columns and cells per proven cycle.
fn print_shapes(shapes: &[Vec<zkmips_prover::machine::ChipShape>], cycles: u64) {
    let Some(first) = shapes.first() else { return };
    eprintln!(
        "{:<16} {:>10} {:>6} {:>6} {:>6} {:>12} {:>12}",
        "chip", "rows", "main", "logup", "prep", "main/cycle", "total/cycle"
    );
    let (mut main_total, mut all_total) = (0f64, 0f64);
    for (index, chip) in first.iter().enumerate() {
        let rows: usize = shapes.iter().map(|s| s[index].height).sum();
        let main = (rows * chip.main_width) as f64 / cycles.max(1) as f64;
        let all = (rows * (chip.main_width + chip.logup_width + chip.preprocessed_width)) as f64
            / cycles.max(1) as f64;
        main_total += main;
        all_total += all;
        eprintln!(
            "{:<16} {:>10} {:>6} {:>6} {:>6} {:>12.1} {:>12.1}",
            chip.name, rows, chip.main_width, chip.logup_width, chip.preprocessed_width, main, all
        );
    }
    eprintln!(
        "{:<16} {:>10} {:>6} {:>6} {:>6} {:>12.1} {:>12.1}",
        "total", "", "", "", "", main_total, all_total
    );
}

/// Verifies and prints what the proof establishes; any failure is an error.
pub fn verify(args: &VerifyArgs) -> Result<()> {
    let bytes = read(&args.proof)?;
    let proof =
        MachineProof::from_bytes(&bytes).with_context(|| format!("{}", args.proof.display()))?;
    let expected = match (&args.elf, &args.vkey) {
        (Some(elf), _) => {
            let hex = zkmips_prover::vkey_of_elf(&read(elf)?)
                .with_context(|| format!("{}", elf.display()))?;
            ProgramVkey::from_hex(&hex).context("vkey")?
        }
        (None, Some(hex)) => ProgramVkey::from_hex(hex).context("--vkey")?,
        (None, None) => bail!("give the program with --elf or its verifying key with --vkey"),
    };
    let start = Instant::now();
    let run = verify_run(&proof, &expected)
        .with_context(|| format!("{}: verification failed", args.proof.display()))?;
    println!(
        "verified:       {} shard(s), {} cycles",
        run.shards, run.cycles
    );
    println!("program vkey:   {}", run.vkey.to_hex());
    println!("exit code:      {}", run.exit_code);
    println!("public values:  {}", hex(&run.public_values));
    eprintln!("verify:         {:.3} s", start.elapsed().as_secs_f64());
    Ok(())
}
