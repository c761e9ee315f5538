//! Probe: the EVM proof of the recursion path at production settings, stage by stage — what
//! `zkmips prove --evm` will run once it switches to it (docs/RECURSION.md §0):
//! fibonacci as an EVM-shape MIPS shard and the compress proof under `COMPRESS_FRI`, the
//! shrink proof under `OUTER_FRI` (its fixed tables committed once and cached in a file), the
//! `CompressedWrapCircuit` witness, Groth16 dev keys derived from the blank circuit, and the
//! Groth16 proof. Prints each stage's time and the process's peak RSS after it.
//!
//! Usage: `cargo run --release -p zkmips-wrapper --example compressed_evm_probe -- \
//!   [--fixed-tables FILE] [--no-groth16]`
//! (default file `target/zkmips-probe/shrink-fixed-tables.bin`: the first run commits and
//! writes it, later runs load it).

use std::path::PathBuf;
use std::time::Instant;

use zkmips_prover::batch::FixedTablesOrigin;
use zkmips_prover::config::COMPRESS_FRI;
use zkmips_prover::evm::EvmProgram;
use zkmips_prover::outer::OUTER_FRI;
use zkmips_recursion::evm_chain::EvmRecursionChain;
use zkmips_wrapper::keys::derive_dev_keys;
use zkmips_wrapper::verifier::compressed::CompressedWrapCircuit;

fn read(path: &str) -> Vec<u8> {
    let path = format!("{}/../examples/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM"))
                .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
        })
        .unwrap_or_else(|| "unknown".into())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let fixed_path = args
        .iter()
        .position(|a| a == "--fixed-tables")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../target/zkmips-probe/shrink-fixed-tables.bin")
        });
    let groth16 = !args.iter().any(|a| a == "--no-groth16");

    let program = EvmProgram::from_elf(&read("bin/fibonacci.elf")).expect("fibonacci ELF");
    let start = Instant::now();
    let chain = EvmRecursionChain::new(&COMPRESS_FRI, &OUTER_FRI, &program).expect("chain");
    println!(
        "chain (compress + shrink programs built): {:.1?}; shrink heights {:?}",
        start.elapsed(),
        chain.shrink().heights()
    );

    if let Some(dir) = fixed_path.parent() {
        std::fs::create_dir_all(dir).expect("fixed tables directory");
    }
    let start = Instant::now();
    let (fixed, origin) = chain
        .shrink_fixed_tables_cached(&fixed_path)
        .expect("shrink fixed tables");
    let origin = match origin {
        FixedTablesOrigin::Loaded => "loaded".to_string(),
        FixedTablesOrigin::Built { reason, saved } => {
            format!("committed ({reason}); saved: {saved:?}")
        }
    };
    let size = std::fs::metadata(&fixed_path).map_or(0, |m| m.len());
    println!(
        "shrink fixed tables: {:.1?}, {origin}, file {} MB; peak RSS {}",
        start.elapsed(),
        size >> 20,
        peak_rss()
    );

    let start = Instant::now();
    let proved = chain
        .prove(&program, vec![read("fibonacci/input.bin")], vec![], &fixed)
        .expect("chain proof");
    let t = proved.timings;
    println!(
        "STARK chain: {:.1?} (MIPS shard {:.1?}, compress {:.1?}, shrink {:.1?}); peak RSS {}",
        start.elapsed(),
        t.shard,
        t.compress,
        t.shrink,
        peak_rss()
    );

    let start = Instant::now();
    let airs = chain.shrink().airs();
    let circuit = CompressedWrapCircuit::with_fixed(
        &OUTER_FRI,
        airs,
        &fixed,
        &proved.proof.proof,
        &proved.proof.public_values,
    )
    .expect("wrap circuit");
    println!(
        "wrap circuit witness: {:.1?}; peak RSS {}",
        start.elapsed(),
        peak_rss()
    );
    if !groth16 {
        return;
    }

    let start = Instant::now();
    let blank = CompressedWrapCircuit::blank(&OUTER_FRI, airs, &fixed).expect("blank circuit");
    let keys = derive_dev_keys("compressed-evm-probe", blank).expect("keys");
    println!(
        "Groth16 dev keys (digest synthesis + setup): {:.1?}; peak RSS {}",
        start.elapsed(),
        peak_rss()
    );
    drop(fixed);

    let start = Instant::now();
    let inputs = circuit.public_inputs;
    let proof =
        zkmips_wrapper::groth16::prove(circuit, &inputs, &keys, [7u8; 32]).expect("Groth16 proof");
    println!(
        "Groth16 proof ({} constraints, verified natively): {:.1?}; peak RSS {}",
        proof.num_constraints,
        start.elapsed(),
        peak_rss()
    );
}
