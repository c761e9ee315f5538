//! Probe: the final-circuit path of docs/RECURSION.md — a recursion-machine proof made under
//! the outer config with the production settings (`OUTER_FRI`), wrapped by the generic
//! batch-STARK verifier circuit. For each program: table heights, outer proving time, R1CS
//! size with its breakdown; then Groth16 setup and proof of the last one (if small enough)
//! with the process's peak RSS.
//!
//! Programs, smallest first:
//! - `small`: a few instructions touching every table;
//! - `verifier3`: a verifier of a proof of `small` with 3 inner queries;
//! - `verifier`: a verifier of a proof of `small` under the production inner settings;
//! - `shrink`: a verifier of a proof of `verifier` under the production inner settings (a
//!   verifier of a verifier program: the shape of the last recursion layer).
//! - `mips`: the final form's chain — fibonacci proven as an EVM-shape MIPS shard, its
//!   statement program (`MipsShardVerifier::statement`, the "compress" layer) proven under
//!   [`COMPRESS_FRI`], and the verifier of that proof (the "shrink" layer) wrapped.
//!
//! Usage: `cargo run --release -p zkmips-wrapper --example recursion_wrap_probe -- \
//!   [small] [verifier3] [verifier] [shrink] [mips] [--groth16] [--narrow] [--uniform]`
//! (default: all, no Groth16). `--narrow` proves the wrapped program with the one-round-per-row
//! Poseidon2 table (`Poseidon2Layout::RoundPerRow`) instead of the one-permutation-per-row
//! table; `--uniform` pads every table of the wrapped program to the tallest one's height.
//! `ZKMIPS_TRACE=1` prints the duration of every Plonky3 span (the prover's phases);
//! `ZKMIPS_TRACE=debug` adds the debug spans (Merkle trees, LDEs, openings).

use std::time::Instant;

use ark_relations::gr1cs::{ConstraintSystem, OptimizationGoal};
use p3_field::PrimeCharacteristicRing;
use p3_koala_bear::KoalaBear;
use zkmips_prover::config::{COMPRESS_FRI, FriSettings, INNER_FRI, inner_config_with};
use zkmips_prover::evm::EvmProgram;
use zkmips_prover::outer::{OUTER_FRI, outer_config};
use zkmips_recursion::builder::{Builder, Felt};
use zkmips_recursion::ir::{PERM_WIDTH, Val};
use zkmips_recursion::layers::VerifierLayer;
use zkmips_recursion::machine::{Poseidon2Layout, RecursionMachine, table};
use zkmips_recursion::mips::{MipsShardVerifier, prove_mips_shard};
use zkmips_wrapper::Fr;
use zkmips_wrapper::verifier::batch::{BatchStarkVerifierCircuit, synthesize_batch_stark};

/// Inner settings with 3 queries (the `verifier3` case).
const INNER_FEW_QUERIES: FriSettings = FriSettings {
    num_queries: 3,
    query_pow_bits: 2,
    commit_pow_bits: 1,
    batch_pow_bits: 1,
    lookup_pow_bits: 1,
    ood_pow_bits: 1,
    ..INNER_FRI
};

/// Groth16 is attempted only below this many constraints (memory and time on the probe host).
const GROTH16_LIMIT: usize = 3_000_000;

fn small_machine() -> (RecursionMachine, Vec<Val>) {
    let mut b = Builder::new();
    let x = b.witness();
    let y = b.witness();
    let state: [Felt; PERM_WIDTH] = core::array::from_fn(|i| if i % 2 == 0 { x } else { y });
    let out = b.poseidon2(state);
    let e = b.ext_mul(out[0].as_ext(), y.as_ext());
    let coordinates = b.ext_coordinates(e);
    let product = b.mul(coordinates[0], x);
    b.public(product);
    b.public(out[1]);
    let machine = RecursionMachine::with_min_height(
        b.build().expect("valid program"),
        RecursionMachine::min_height_for(&OUTER_FRI),
    );
    (machine, vec![Val::from_u32(3), Val::from_u32(5)])
}

fn per_table(public_values: &[Val]) -> Vec<Vec<KoalaBear>> {
    let mut publics = vec![Vec::new(); table::COUNT];
    publics[table::PUBLIC] = public_values.to_vec();
    publics
}

/// The verifier layer of proofs of `inner` (run on `witness`) made under
/// `inner_config_with(settings)`, with the witness stream of one such proof. It pins the inner
/// program and re-exposes its public values; its tables are tall enough for `OUTER_FRI`.
fn verifier_of(
    inner: &RecursionMachine,
    witness: &[Val],
    settings: &FriSettings,
) -> (RecursionMachine, Vec<Val>) {
    let config = inner_config_with(settings);
    let start = Instant::now();
    let proof = inner.prove(&config, witness).expect("inner proof");
    inner.verify(&config, &proof).expect("inner proof verifies");
    println!(
        "  inner proof (inner config, {} queries): heights 2^{:?}, {:.1?}",
        settings.num_queries,
        proof.proof.degree_bits,
        start.elapsed()
    );
    let layer = VerifierLayer::new(
        inner,
        &proof.proof.degree_bits,
        settings,
        RecursionMachine::min_height_for(&OUTER_FRI),
    )
    .expect("verifier layer");
    let stream = layer.witness(inner, &proof).expect("inner proof witness");
    (layer.machine().clone(), stream)
}

/// The compress layer of fibonacci: the EVM-shape MIPS shard proven under [`COMPRESS_FRI`],
/// the statement program verifying such proofs and its witness stream for this one.
fn mips_compress() -> (RecursionMachine, Vec<Val>) {
    let read = |path: &str| {
        let path = format!("{}/../examples/{path}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    };
    let program = EvmProgram::from_elf(&read("bin/fibonacci.elf")).expect("fibonacci ELF");
    let start = Instant::now();
    let shard = prove_mips_shard(
        &COMPRESS_FRI,
        &program,
        vec![read("fibonacci/input.bin")],
        vec![],
    )
    .expect("MIPS shard proof");
    println!("  MIPS shard proof: {:.1?}", start.elapsed());
    let verifier = MipsShardVerifier::statement(&COMPRESS_FRI, &program).expect("compress program");
    let stream = verifier
        .witness(&program, &shard)
        .expect("shard witness")
        .stream();
    println!(
        "  compress program: {} instructions",
        verifier.program().instrs().len()
    );
    (RecursionMachine::new(verifier.program().clone()), stream)
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

/// Proves `machine` on `witness` under the production outer config, wraps the proof and
/// reports; returns the circuit and its constraint count.
fn probe(
    label: &str,
    machine: &RecursionMachine,
    witness: &[Val],
    layout: Poseidon2Layout,
) -> (BatchStarkVerifierCircuit, usize) {
    let machine = &machine.with_poseidon2_layout(layout);
    let uniform;
    let machine = if std::env::args().any(|a| a == "--uniform") {
        uniform = machine.with_uniform_heights(&OUTER_FRI);
        &uniform
    } else {
        machine
    };
    println!(
        "== {label}: {} instructions",
        machine.program().instrs().len()
    );
    let config = outer_config();
    // The program's fixed tables (LDE, Merkle tree, commitment: the verifying key) are the same
    // for every run: committed once, then shared by the prover, the native verifier and the
    // circuit shape.
    let start = Instant::now();
    let fixed = machine.fixed_tables(&config).expect("fixed tables");
    let fixed_time = start.elapsed();
    let start = Instant::now();
    let proof = machine
        .prove_with_fixed(&config, &fixed, witness)
        .expect("outer proof");
    let prove_time = start.elapsed();
    machine
        .verify_with_fixed(&config, &fixed, &proof)
        .expect("outer proof verifies");
    println!(
        "  outer proof (OUTER_FRI): heights 2^{:?} (memory, base ALU, ext ALU, Poseidon2, \
         public), fixed tables {fixed_time:.1?} (once per program), proving {prove_time:.1?}",
        proof.proof.degree_bits
    );
    // Committed base columns per table (outer STARK cost ~ height x these, at blowup 16).
    for (i, opened) in proof.proof.opened_values.instances.iter().enumerate() {
        let base = &opened.base_opened_values;
        let preprocessed = base.preprocessed.as_ref().map_or(0, |p| p.local.len());
        // Extension columns are committed (and opened) as their base coordinates.
        let lookups = opened.permutation_local.len();
        let quotient: usize = base.quotient_chunks.iter().map(Vec::len).sum();
        println!(
            "  table {i}: preprocessed {preprocessed}, main {}, LogUp {lookups}, quotient \
             {quotient} ({} chunks) base columns",
            base.trace_local.len(),
            base.quotient_chunks.len(),
        );
    }
    let start = Instant::now();
    let circuit = BatchStarkVerifierCircuit::with_fixed(
        &OUTER_FRI,
        machine.airs(),
        &fixed,
        &proof.proof,
        &per_table(&proof.public_values),
    )
    .expect("circuit witness");
    println!(
        "  circuit witness {:.1?}; LDE 2^{}, arities {:?}, quotient chunks {:?}",
        start.elapsed(),
        circuit.shape.log_lde_height,
        circuit.shape.log_arities,
        circuit
            .shape
            .instances
            .iter()
            .map(|s| s.num_quotient_chunks())
            .collect::<Vec<_>>()
    );
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    let start = Instant::now();
    let breakdown = synthesize_batch_stark(
        &cs,
        &circuit.shape,
        &circuit.public_values,
        &circuit.witness,
    )
    .expect("synthesis");
    println!("  synthesis {:.1?}", start.elapsed());
    for (part, count) in &breakdown.parts {
        println!("  | {part} | {count} |");
    }
    let total = breakdown.total();
    println!(
        "  | total | {total} | (2^{:.2}; budget 2^21 = {})",
        (total as f64).log2(),
        1 << 21
    );
    println!("  satisfied: {:?}", cs.is_satisfied());
    println!("  peak RSS so far: {}", peak_rss());
    (circuit, total)
}

fn groth16(circuit: BatchStarkVerifierCircuit) {
    use ark_bn254::Bn254;
    use ark_groth16::Groth16;
    use ark_snark::SNARK;
    use ark_std::rand::SeedableRng;
    use ark_std::rand::rngs::StdRng;

    let public_inputs = circuit.public_inputs();
    // A throwaway key from a fixed seed: this measures cost, it is not a trusted setup.
    let mut rng = StdRng::seed_from_u64(0x7265_6375_7273_696f);
    let start = Instant::now();
    let (pk, vk) =
        Groth16::<Bn254>::circuit_specific_setup(circuit.clone(), &mut rng).expect("setup");
    println!(
        "  Groth16 setup {:.1?}, peak RSS {}",
        start.elapsed(),
        peak_rss()
    );
    let start = Instant::now();
    let proof = Groth16::<Bn254>::prove(&pk, circuit, &mut rng).expect("prove");
    println!(
        "  Groth16 prove {:.1?}, peak RSS {}",
        start.elapsed(),
        peak_rss()
    );
    let verified = Groth16::<Bn254>::verify(&vk, &public_inputs, &proof).expect("verify");
    let mut other = public_inputs.clone();
    other[0] += Fr::from(1u64);
    let forged = Groth16::<Bn254>::verify(&vk, &other, &proof).expect("verify");
    println!("  Groth16 verifies: {verified}; with another public input: {forged}");
    assert!(verified && !forged);
}

fn main() {
    // `ZKMIPS_TRACE=1`: Plonky3's spans with their durations on stderr (where the outer STARK's
    // time goes: trace commitments, quotient, openings, FRI). Only `p3_*` targets: arkworks'
    // R1CS spans would be one per constraint (gigabytes).
    if let Some(level) = std::env::var_os("ZKMIPS_TRACE") {
        use tracing_subscriber::filter::{LevelFilter, filter_fn};
        // `ZKMIPS_TRACE=debug` adds p3's debug spans (Merkle trees, LDEs, openings).
        let max = if level == "debug" {
            LevelFilter::DEBUG
        } else {
            LevelFilter::INFO
        };
        use tracing_subscriber::fmt::format::FmtSpan;
        use tracing_subscriber::prelude::*;
        let layer = tracing_subscriber::fmt::layer()
            .with_span_events(FmtSpan::CLOSE)
            .with_ansi(false)
            .with_writer(std::io::stderr)
            .with_filter(filter_fn(move |meta| {
                meta.target().starts_with("p3_") && max >= *meta.level()
            }));
        tracing_subscriber::registry().with(layer).init();
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let run_groth16 = args.iter().any(|a| a == "--groth16");
    let layout = if args.iter().any(|a| a == "--narrow") {
        Poseidon2Layout::RoundPerRow
    } else {
        Poseidon2Layout::PermutationPerRow
    };
    let cases: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let all = ["small", "verifier3", "verifier", "shrink", "mips"];
    let cases: Vec<&str> = if cases.is_empty() {
        all.to_vec()
    } else {
        cases
    };
    for case in &cases {
        assert!(all.contains(case), "unknown case {case}; known: {all:?}");
    }

    let (small, small_witness) = small_machine();
    let mut last = None;
    if cases.contains(&"small") {
        last = Some(probe("small program", &small, &small_witness, layout));
    }
    if cases.contains(&"verifier3") {
        println!("== building verifier3");
        let (machine, stream) = verifier_of(&small, &small_witness, &INNER_FEW_QUERIES);
        last = Some(probe(
            "verifier of a small proof (3 inner queries)",
            &machine,
            &stream,
            layout,
        ));
    }
    if cases.contains(&"verifier") || cases.contains(&"shrink") {
        println!("== building verifier");
        let (machine, stream) = verifier_of(&small, &small_witness, &INNER_FRI);
        if cases.contains(&"verifier") {
            last = Some(probe(
                "verifier of a small proof (INNER_FRI)",
                &machine,
                &stream,
                layout,
            ));
        }
        if cases.contains(&"shrink") {
            println!("== building shrink");
            let (shrink, shrink_stream) = verifier_of(&machine, &stream, &INNER_FRI);
            last = Some(probe(
                "verifier of a verifier-program proof (INNER_FRI)",
                &shrink,
                &shrink_stream,
                layout,
            ));
        }
    }
    if cases.contains(&"mips") {
        println!("== building mips (MIPS shard -> compress -> shrink)");
        let (compress, stream) = mips_compress();
        let (shrink, shrink_stream) = verifier_of(&compress, &stream, &COMPRESS_FRI);
        last = Some(probe(
            "shrink: verifier of a compress proof of a MIPS shard (COMPRESS_FRI)",
            &shrink,
            &shrink_stream,
            layout,
        ));
    }
    if run_groth16 {
        match last {
            Some((circuit, total)) if total < GROTH16_LIMIT => {
                println!("== Groth16 on the last circuit ({total} constraints)");
                groth16(circuit);
            }
            Some((_, total)) => {
                println!("== Groth16 skipped: {total} constraints ≥ {GROTH16_LIMIT}")
            }
            None => {}
        }
    }
    println!("peak RSS: {}", peak_rss());
}
