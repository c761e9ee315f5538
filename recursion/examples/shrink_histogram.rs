//! Measures the shape of the shrink program (the last recursion layer, proven under the outer
//! configuration) of the MIPS chain: fibonacci's EVM-shape shard under `COMPRESS_FRI` → the
//! compress program (`MipsShardVerifier::statement`) → its verifier under `COMPRESS_FRI` (the
//! shrink program).
//!
//! No proof is made: a verifier program depends only on the verified program and its table
//! heights (the proof's `degree_bits` are the log2 of the verified machine's heights), so the
//! shrink program is built from the compress machine's heights directly.
//!
//! Prints the instruction histogram (cells by source, base and extension ALU by operation,
//! Poseidon2 with and without an in-permutation child swap, public values), how many base-ALU
//! instructions are Merkle child orderings and selects (recognised by their instruction
//! pattern), and the table heights and widths of the shrink program under
//! `Poseidon2Layout::RoundPerRow`, with and without uniform heights.
//!
//! `cargo run --release -p zkmips-recursion --example shrink_histogram`

use std::collections::BTreeMap;

use p3_air::BaseAir;
use zkmips_prover::config::COMPRESS_FRI;
use zkmips_prover::evm::EvmProgram;
use zkmips_prover::outer::OUTER_FRI;
use zkmips_recursion::ir::{AluOp, CellSource, Hint, Instr, Program, Val};
use zkmips_recursion::layers::VerifierLayer;
use zkmips_recursion::machine::{Poseidon2Layout, RecursionMachine};
use zkmips_recursion::mips::MipsShardVerifier;
use zkmips_recursion::stark::StarkVerifierShape;

fn read(path: &str) -> Vec<u8> {
    let path = format!("{}/../examples/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn alu_name(op: AluOp) -> &'static str {
    match op {
        AluOp::Add => "add",
        AluOp::Sub => "sub",
        AluOp::Mul => "mul",
        AluOp::Inv => "inv",
        AluOp::AssertEq => "assert_eq",
    }
}

/// `(op, a, b, out)` of an ALU instruction.
type AluFields = (AluOp, u32, u32, u32);

/// `(op, a, b, out)` of a base-ALU instruction.
fn base_alu(instr: &Instr) -> Option<AluFields> {
    match *instr {
        Instr::BaseAlu { op, a, b, out } => Some((op, a.0, b.0, out.0)),
        _ => None,
    }
}

/// `(op, a, b, out)` of an extension-ALU instruction.
fn ext_alu(instr: &Instr) -> Option<AluFields> {
    match *instr {
        Instr::ExtAlu { op, a, b, out } => Some((op, a.0, b.0, out.0)),
        _ => None,
    }
}

/// Whether `window` is the 4-instruction child ordering of the Merkle gadget:
/// `t = s - d; u = bit * t; left = d + u; right = s - u`.
fn is_order_children(window: &[Instr]) -> bool {
    let [w0, w1, w2, w3] = window else {
        return false;
    };
    let (Some(i0), Some(i1), Some(i2), Some(i3)) =
        (base_alu(w0), base_alu(w1), base_alu(w2), base_alu(w3))
    else {
        return false;
    };
    let (sibling, digest, t) = (i0.1, i0.2, i0.3);
    i0.0 == AluOp::Sub
        && i1.0 == AluOp::Mul
        && i1.2 == t
        && i2.0 == AluOp::Add
        && i2.1 == digest
        && i2.2 == i1.3
        && i3.0 == AluOp::Sub
        && i3.1 == sibling
        && i3.2 == i1.3
}

/// Whether `window` is a 3-instruction select (`Builder::select` / `ext_select`):
/// `d = x - y; s = bit * d; out = y + s`.
fn is_select(window: &[Instr], alu: fn(&Instr) -> Option<AluFields>) -> bool {
    let [w0, w1, w2] = window else {
        return false;
    };
    let (Some(i0), Some(i1), Some(i2)) = (alu(w0), alu(w1), alu(w2)) else {
        return false;
    };
    i0.0 == AluOp::Sub
        && i1.0 == AluOp::Mul
        && i1.2 == i0.3
        && i2.0 == AluOp::Add
        && i2.1 == i0.2
        && i2.2 == i1.3
}

fn histogram(program: &Program) {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for instr in program.instrs() {
        let key = match instr {
            Instr::Cell { source, .. } => match source {
                CellSource::Const(_) => "cell const".to_string(),
                CellSource::Witness { ext: false } => "cell witness (base)".to_string(),
                CellSource::Witness { ext: true } => "cell witness (ext)".to_string(),
                CellSource::Hint(Hint::Bit { .. }) => "cell hint bit".to_string(),
                CellSource::Hint(Hint::Coordinate { .. }) => "cell hint coordinate".to_string(),
            },
            Instr::BaseAlu { op, .. } => format!("base alu {}", alu_name(*op)),
            Instr::ExtAlu { op, .. } => format!("ext alu {}", alu_name(*op)),
            Instr::Poseidon2 { .. } if instr.reads().len() > 16 => {
                "poseidon2 (ordered by a swap bit)".to_string()
            }
            Instr::Poseidon2 { .. } => "poseidon2".to_string(),
            Instr::Public { .. } => "public".to_string(),
        };
        *counts.entry(key).or_default() += 1;
    }
    let total = program.instrs().len();
    println!("  {total} instructions, {} cells", program.num_cells());
    for (key, count) in &counts {
        println!("  | {key:<36} | {count:>9} |");
    }
    let base_total: usize = counts
        .iter()
        .filter(|(k, _)| k.starts_with("base alu"))
        .map(|(_, c)| c)
        .sum();
    let ext_total: usize = counts
        .iter()
        .filter(|(k, _)| k.starts_with("ext alu"))
        .map(|(_, c)| c)
        .sum();
    println!("  | base alu total                       | {base_total:>9} |");
    println!("  | ext alu total                        | {ext_total:>9} |");

    // Patterns, scanned left to right without overlap: a Merkle child ordering first (its
    // first three instructions are not a select, but be explicit about the priority).
    let instrs = program.instrs();
    let (mut order_children, mut base_selects, mut ext_selects) = (0usize, 0usize, 0usize);
    let mut i = 0;
    while i < instrs.len() {
        if i + 4 <= instrs.len() && is_order_children(&instrs[i..i + 4]) {
            order_children += 1;
            i += 4;
        } else if i + 3 <= instrs.len() && is_select(&instrs[i..i + 3], base_alu) {
            base_selects += 1;
            i += 3;
        } else if i + 3 <= instrs.len() && is_select(&instrs[i..i + 3], ext_alu) {
            ext_selects += 1;
            i += 3;
        } else {
            i += 1;
        }
    }
    // Before the swap bit, every Merkle level ordered its 8 digest pairs this way; what is left
    // is the FRI arity-2 row ordering (`pcs::commit_phase_row`, 4 coordinate pairs a round).
    println!(
        "  pair orderings (sub, mul, add, sub): {order_children} pairs = {} base-ALU \
         instructions",
        4 * order_children,
    );
    println!(
        "  base selects: {base_selects} = {} base-ALU instructions; ext selects: \
         {ext_selects} = {} ext-ALU instructions",
        3 * base_selects,
        3 * ext_selects
    );
}

fn heights(label: &str, machine: &RecursionMachine) {
    let names = ["memory", "base ALU", "ext ALU", "Poseidon2", "public"];
    let mut cells = 0usize;
    println!("  {label}:");
    for ((air, height), name) in machine.airs().iter().zip(machine.heights()).zip(names) {
        let main = <_ as BaseAir<Val>>::width(air);
        let prep = <_ as BaseAir<Val>>::preprocessed_width(air);
        cells += height * (main + prep);
        println!(
            "  | {name:<10} | 2^{:<2} ({height:>7} rows) | main {main:>3} | preprocessed {prep:>3} |",
            height.trailing_zeros()
        );
    }
    println!("  | sum of height × (main + preprocessed width) = {cells}");
    let degree_bits: Vec<usize> = machine
        .heights()
        .iter()
        .map(|h| h.trailing_zeros() as usize)
        .collect();
    // The number of quotient chunks depends on the AIRs only, not on the FRI settings.
    let shape = StarkVerifierShape::new(&COMPRESS_FRI, machine.airs(), &degree_bits)
        .expect("verifier shape");
    let chunks: Vec<usize> = shape
        .proof
        .instances
        .iter()
        .map(|i| i.num_quotient_chunks())
        .collect();
    println!("  | quotient chunks per table: {chunks:?}");
}

fn main() {
    let program = EvmProgram::from_elf(&read("bin/fibonacci.elf")).expect("fibonacci ELF");
    let compress = MipsShardVerifier::statement(&COMPRESS_FRI, &program).expect("compress");
    let compress = RecursionMachine::new(compress.program().clone());
    println!("== compress program");
    histogram(compress.program());
    heights("PermutationPerRow", &compress);
    let degree_bits: Vec<usize> = compress
        .heights()
        .iter()
        .map(|h| h.trailing_zeros() as usize)
        .collect();
    println!("  compress heights 2^{degree_bits:?}");

    let shrink = VerifierLayer::new(
        &compress,
        &degree_bits,
        &COMPRESS_FRI,
        RecursionMachine::min_height_for(&OUTER_FRI),
    )
    .expect("shrink layer");
    println!("== shrink program (verifier of a compress proof under COMPRESS_FRI)");
    histogram(shrink.program());
    let narrow = shrink
        .machine()
        .with_poseidon2_layout(Poseidon2Layout::RoundPerRow);
    heights("RoundPerRow", &narrow);
    heights(
        "RoundPerRow, uniform heights",
        &narrow.with_uniform_heights(&OUTER_FRI),
    );
}
