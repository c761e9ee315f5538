//! Measures one recursion step over a real MIPS shard: fibonacci (`examples/bin/fibonacci`)
//! proven in the EVM shape under the inner configuration, its verifier program, and the
//! recursion proof of that program's run, for the production FRI settings and a few
//! recursion-friendly candidates (higher blowup and folding arity, fewer queries; each keeps
//! `log_blowup * num_queries + query_pow_bits` at about 100).
//!
//! `cargo run --release -p zkmips-recursion --example recursion_probe [setting]`: without an
//! argument every setting runs in its own process (so each peak RSS is its own).

use std::process::Command;
use std::time::Instant;

use zkmips_prover::config::{FriSettings, INNER_FRI, inner_config_with};
use zkmips_prover::evm::{EVM_SHAPE, EvmProgram};
use zkmips_recursion::ir::Val;
use zkmips_recursion::machine::RecursionMachine;
use zkmips_recursion::mips::{InstrCounts, MipsShardVerifier, prove_mips_shard};
use zkmips_recursion::runtime::execute;

const SETTINGS: [(&str, FriSettings); 4] = [
    ("inner", INNER_FRI),
    (
        "blowup2-arity2-q42",
        FriSettings {
            log_blowup: 2,
            max_log_arity: 2,
            num_queries: 42,
            ..INNER_FRI
        },
    ),
    (
        "blowup3-arity2-q28",
        FriSettings {
            log_blowup: 3,
            max_log_arity: 2,
            num_queries: 28,
            ..INNER_FRI
        },
    ),
    (
        "blowup3-arity3-q28",
        FriSettings {
            log_blowup: 3,
            max_log_arity: 3,
            num_queries: 28,
            ..INNER_FRI
        },
    ),
];

fn read(path: &str) -> Vec<u8> {
    let path = format!("{}/../examples/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Peak resident set size of this process, from `/proc/self/status` (Linux only).
fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l["VmHWM:".len()..].trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn probe(name: &str, settings: &FriSettings) -> Result<(), Box<dyn std::error::Error>> {
    println!("== {name}: {settings:?}");
    let program = EvmProgram::from_elf(&read("bin/fibonacci.elf"))?;
    let input = read("fibonacci/input.bin");

    let start = Instant::now();
    let shard = prove_mips_shard(settings, &program, vec![input], vec![])?;
    println!(
        "MIPS shard proof (EVM shape, log heights {:?}): {:.2?}",
        EVM_SHAPE.map(|(_, log)| log),
        start.elapsed()
    );

    let start = Instant::now();
    let verifier = MipsShardVerifier::new(settings, &program)?;
    let build = start.elapsed();
    let start = Instant::now();
    let witness = verifier.witness(&program, &shard)?;
    let stream = witness.stream();
    let witness_time = start.elapsed();
    let counts = InstrCounts::of(verifier.program());
    println!(
        "verifier program: {} instructions, built in {build:.2?}; {counts:?}",
        verifier.program().instrs().len()
    );
    println!(
        "witness: {} field elements, made in {witness_time:.2?}",
        stream.len()
    );

    let start = Instant::now();
    let execution = execute(verifier.program(), &stream)?;
    println!("execution: {:.2?}", start.elapsed());
    assert_eq!(execution.public_values, witness.exposed());

    let machine = RecursionMachine::new(verifier.program().clone());
    // Trace generation alone (the proof below repeats it), to split the proof time.
    let start = Instant::now();
    let tables = machine.tables::<Val>(&execution);
    println!(
        "recursion trace generation: {:.2?} ({} tables)",
        start.elapsed(),
        tables.len()
    );
    drop(tables);
    let config = inner_config_with(settings);
    let start = Instant::now();
    let proof = machine.prove(&config, &stream)?;
    println!(
        "recursion proof (same settings), table log heights {:?} (memory, base ALU, ext ALU, Poseidon2, public): {:.2?}",
        proof.proof.degree_bits,
        start.elapsed()
    );
    let start = Instant::now();
    machine.verify(&config, &proof)?;
    println!("recursion verify: {:.2?}", start.elapsed());
    println!("peak RSS: {}", peak_rss());
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    match std::env::args().nth(1) {
        Some(name) => {
            let (name, settings) = SETTINGS
                .iter()
                .find(|(n, _)| *n == name)
                .ok_or_else(|| format!("unknown setting {name}"))?;
            probe(name, settings)
        }
        None => {
            let exe = std::env::current_exe()?;
            for (name, _) in SETTINGS {
                let status = Command::new(&exe).arg(name).status()?;
                if !status.success() {
                    return Err(format!("setting {name} failed: {status}").into());
                }
            }
            Ok(())
        }
    }
}
