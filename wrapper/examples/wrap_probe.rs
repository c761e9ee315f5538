//! Probe: an EVM proof of the fibonacci example wrapped in the Groth16 circuit, with timings.
use std::time::Instant;

use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystem, OptimizationGoal};
use zkmips_prover::evm::{EvmProgram, prove_evm};
use zkmips_wrapper::verifier::mips::MipsWrapCircuit;

fn main() {
    let elf = std::fs::read("examples/bin/fibonacci.elf").unwrap();
    let input = std::fs::read("examples/fibonacci/input.bin").unwrap();
    let program = EvmProgram::from_elf(&elf).unwrap();
    let start = Instant::now();
    let proof = prove_evm(&program, vec![input], vec![]).unwrap();
    println!("evm prove: {:?}", start.elapsed());
    let start = Instant::now();
    let circuit = MipsWrapCircuit::new(&program, &proof).unwrap();
    println!("circuit witness: {:?}", start.elapsed());
    let cs = ConstraintSystem::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    let start = Instant::now();
    circuit.clone().generate_constraints(cs.clone()).unwrap();
    println!("synthesize: {:?}", start.elapsed());
    println!("total constraints {}", cs.num_constraints());
    println!("satisfied: {:?}", cs.is_satisfied());
    let mut bad = circuit.clone();
    bad.public_inputs[1] += zkmips_wrapper::Fr::from(1u64);
    let cs = ConstraintSystem::new_ref();
    bad.generate_constraints(cs.clone()).unwrap();
    println!("wrong digest satisfied: {:?}", cs.is_satisfied());
}
