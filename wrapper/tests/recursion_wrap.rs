//! The path of the final Groth16 circuit (docs/RECURSION.md): a *recursion machine* proof made
//! under the outer config, verified by the generic batch-STARK verifier circuit
//! (`verifier::batch`). Two programs are wrapped: a small one touching every table, and the
//! realistic case, a verifier program (`zkmips_recursion::stark`) that checks a recursion
//! proof of the small one. For each: the outer proof verifies natively, the honest R1CS is
//! satisfied, a tampered opened value / public value / commitment leaves it unsatisfied, and
//! the constraint count under the production outer FRI settings is printed and guarded.

use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystem, OptimizationGoal};
use p3_field::PrimeCharacteristicRing;
use p3_koala_bear::KoalaBear;
use zkmips_prover::config::{FriSettings, INNER_FRI, inner_config_with};
use zkmips_prover::outer::{OUTER_FRI, OuterConfig, WRAP_TEST_FRI, outer_config_with};
use zkmips_recursion::builder::{Builder, Felt};
use zkmips_recursion::chips::MIN_HEIGHT;
use zkmips_recursion::ir::{PERM_WIDTH, Val};
use zkmips_recursion::layers::VerifierLayer;
use zkmips_recursion::machine::{Poseidon2Layout, RecursionMachine, RecursionProof, table};

use zkmips_wrapper::Fr;
use zkmips_wrapper::koalabear::KoalaBearExt;
use zkmips_wrapper::verifier::batch::{BatchStarkVerifierCircuit, synthesize_batch_stark};

/// Inner settings of the proof the verifier program checks: the inner FRI shape (blowup 2,
/// binary folding) with few queries and light grinding, so the program stays small.
const INNER_TEST_FRI: FriSettings = FriSettings {
    num_queries: 3,
    query_pow_bits: 2,
    commit_pow_bits: 1,
    batch_pow_bits: 1,
    lookup_pow_bits: 1,
    ood_pow_bits: 1,
    ..INNER_FRI
};

/// A program touching every table: a Poseidon2 permutation, extension and base arithmetic,
/// two public values. Witness: `x`, `y`.
fn small_machine(min_height: usize) -> RecursionMachine {
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
    RecursionMachine::with_min_height(b.build().expect("valid program"), min_height)
}

fn small_witness() -> Vec<Val> {
    vec![Val::from_u32(3), Val::from_u32(5)]
}

/// The per-table public values of a recursion proof (only the public-values table has any).
fn per_table(public_values: &[Val]) -> Vec<Vec<KoalaBear>> {
    let mut publics = vec![Vec::new(); table::COUNT];
    publics[table::PUBLIC] = public_values.to_vec();
    publics
}

/// The verifier layer (`zkmips_recursion::layers`) of proofs of [`small_machine`] made under
/// `inner_config_with(inner)`, with its tables tall enough for `outer`, and the witness stream
/// of one such proof. The layer pins the inner program (its preprocessed commitment) and
/// re-exposes the inner public values.
fn verifier_machine(
    inner: &FriSettings,
    outer: &FriSettings,
) -> (RecursionMachine, Vec<Val>, Vec<Val>) {
    let machine = small_machine(MIN_HEIGHT);
    let config = inner_config_with(inner);
    let proof = machine
        .prove(&config, &small_witness())
        .expect("inner proof");
    machine
        .verify(&config, &proof)
        .expect("inner proof verifies");
    let layer = VerifierLayer::new(
        &machine,
        &proof.proof.degree_bits,
        inner,
        RecursionMachine::min_height_for(outer),
    )
    .expect("verifier layer");
    let stream = layer
        .witness(&machine, &proof)
        .expect("inner proof witness");
    (layer.machine().clone(), stream, proof.public_values)
}

/// Proves a run of `machine` under `outer_config_with(settings)` and checks it natively.
fn prove_outer(
    machine: &RecursionMachine,
    witness: &[Val],
    settings: &FriSettings,
) -> RecursionProof<OuterConfig> {
    let config = outer_config_with(settings);
    let proof = machine.prove(&config, witness).expect("outer proof");
    machine
        .verify(&config, &proof)
        .expect("outer proof verifies");
    proof
}

fn wrap(
    machine: &RecursionMachine,
    proof: &RecursionProof<OuterConfig>,
    settings: &FriSettings,
) -> BatchStarkVerifierCircuit {
    BatchStarkVerifierCircuit::new(
        settings,
        machine.airs(),
        &proof.proof,
        &per_table(&proof.public_values),
    )
    .expect("circuit witness")
}

/// Synthesizes `circuit` and checks its constraints. Synthesis must succeed for a tampered
/// witness too: rejection has to come from the R1CS.
fn satisfied(circuit: BatchStarkVerifierCircuit) -> bool {
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    circuit
        .generate_constraints(cs.clone())
        .expect("synthesis succeeds for any witness of the right shape");
    cs.is_satisfied().expect("witness values")
}

fn assert_rejected(
    circuit: &BatchStarkVerifierCircuit,
    alter: impl FnOnce(&mut BatchStarkVerifierCircuit),
    what: &str,
) {
    let mut circuit = circuit.clone();
    alter(&mut circuit);
    assert!(!satisfied(circuit), "{what} must be rejected");
}

fn bump(value: &mut KoalaBearExt) {
    *value += KoalaBearExt::ONE;
}

/// The honest circuit is satisfied; altering the claimed public values, any instance's opened
/// main row, a preprocessed value, a LogUp column or terminal, a quotient chunk or a
/// commitment leaves it unsatisfied.
fn check_honest_and_tampered(circuit: &BatchStarkVerifierCircuit) {
    assert!(satisfied(circuit.clone()), "the honest wrap is satisfied");
    assert_rejected(
        circuit,
        |c| c.public_values[table::PUBLIC][0] += KoalaBear::ONE,
        "a wrong public value",
    );
    let last = circuit.public_values[table::PUBLIC].len() - 1;
    assert_rejected(
        circuit,
        |c| c.public_values[table::PUBLIC][last] += KoalaBear::ONE,
        "a wrong last public value",
    );
    for instance in 0..table::COUNT {
        assert_rejected(
            circuit,
            |c| bump(&mut c.witness.instances[instance].trace_local[0]),
            &format!("an opened main value of table {instance}"),
        );
    }
    assert_rejected(
        circuit,
        |c| bump(&mut c.witness.instances[table::MEMORY].preprocessed_local[0]),
        "an opened preprocessed value",
    );
    assert_rejected(
        circuit,
        |c| bump(&mut c.witness.instances[table::POSEIDON2].permutation_local[0]),
        "an opened LogUp column",
    );
    assert_rejected(
        circuit,
        |c| bump(&mut c.witness.instances[table::BASE_ALU].quotient_chunks[0][0]),
        "a quotient chunk",
    );
    assert_rejected(
        circuit,
        |c| {
            bump(
                c.witness.instances[table::PUBLIC]
                    .terminal
                    .as_mut()
                    .unwrap(),
            )
        },
        "a LogUp terminal",
    );
    assert_rejected(
        circuit,
        |c| {
            let p = c.shape.preprocessed_commitment.as_mut().unwrap();
            *p += Fr::from(1u64);
        },
        "another program's preprocessed commitment",
    );
    assert_rejected(
        circuit,
        |c| c.witness.main_commitment += Fr::from(1u64),
        "the main commitment",
    );
    assert_rejected(
        circuit,
        |c| c.witness.queries[0].inputs[0].rows[0][0] += KoalaBear::ONE,
        "an opened input row of a query",
    );
}

/// Synthesizes `circuit`, prints its shape and per-part constraint counts, checks it is
/// satisfied and returns the total.
fn measure(label: &str, circuit: &BatchStarkVerifierCircuit) -> usize {
    let shape = &circuit.shape;
    println!(
        "{label}: table log heights {:?}, widths {:?}, quotient chunks {:?}, LDE 2^{}, \
         arities {:?}",
        shape
            .instances
            .iter()
            .map(|s| s.degree_bits)
            .collect::<Vec<_>>(),
        shape
            .instances
            .iter()
            .map(|s| (s.preprocessed_width, s.main_width, s.permutation_width()))
            .collect::<Vec<_>>(),
        shape
            .instances
            .iter()
            .map(|s| s.num_quotient_chunks())
            .collect::<Vec<_>>(),
        shape.log_lde_height,
        shape.log_arities,
    );
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    let breakdown = synthesize_batch_stark(
        &cs,
        &circuit.shape,
        &circuit.public_values,
        &circuit.witness,
    )
    .expect("synthesis");
    for (part, count) in &breakdown.parts {
        println!("| {part} | {count} |");
    }
    println!("| total | {} |", breakdown.total());
    assert!(cs.is_satisfied().unwrap());
    assert_eq!(breakdown.total(), cs.num_constraints());
    breakdown.total()
}

#[test]
fn a_small_recursion_proof_is_wrapped() {
    let machine = small_machine(RecursionMachine::min_height_for(&WRAP_TEST_FRI));
    let proof = prove_outer(&machine, &small_witness(), &WRAP_TEST_FRI);
    let circuit = wrap(&machine, &proof, &WRAP_TEST_FRI);
    assert_eq!(circuit.shape.instances.len(), table::COUNT);
    assert!(circuit.shape.has_lookups());
    check_honest_and_tampered(&circuit);
}

/// The narrow layout meant for the wrapped layer (one Poseidon2 round per row, which reads
/// the next row): the same checks, plus its opened next row.
#[test]
fn a_small_recursion_proof_with_one_poseidon2_round_per_row_is_wrapped() {
    let machine = small_machine(RecursionMachine::min_height_for(&WRAP_TEST_FRI))
        .with_poseidon2_layout(Poseidon2Layout::RoundPerRow);
    let proof = prove_outer(&machine, &small_witness(), &WRAP_TEST_FRI);
    let circuit = wrap(&machine, &proof, &WRAP_TEST_FRI);
    assert!(
        !circuit.witness.instances[table::POSEIDON2]
            .trace_next
            .is_empty()
    );
    check_honest_and_tampered(&circuit);
    assert_rejected(
        &circuit,
        |c| bump(&mut c.witness.instances[table::POSEIDON2].trace_next[5]),
        "an opened next-row value of the Poseidon2 rounds",
    );
}

/// The realistic case: the proof wrapped is a run of a program verifying another recursion
/// proof; the Groth16 public inputs are the inner proof's public values.
#[test]
fn a_recursion_verifier_proof_is_wrapped() {
    let (verifier, stream, inner_publics) = verifier_machine(&INNER_TEST_FRI, &WRAP_TEST_FRI);
    let proof = prove_outer(&verifier, &stream, &WRAP_TEST_FRI);
    assert_eq!(proof.public_values, inner_publics);
    let circuit = wrap(&verifier, &proof, &WRAP_TEST_FRI);
    assert_eq!(
        circuit.public_inputs(),
        zkmips_wrapper::verifier::circuit::pack_public_values(&inner_publics)
    );
    // Every synthesis costs over a million constraints (the out-of-domain check of the wide
    // Poseidon2 table): the full tamper list runs on the small program, a few here.
    assert!(satisfied(circuit.clone()), "the honest wrap is satisfied");
    assert_rejected(
        &circuit,
        |c| c.public_values[table::PUBLIC][1] += KoalaBear::ONE,
        "a wrong public value",
    );
    assert_rejected(
        &circuit,
        |c| bump(&mut c.witness.instances[table::EXT_ALU].trace_local[3]),
        "an opened extension-ALU value",
    );
    assert_rejected(
        &circuit,
        |c| *c.shape.preprocessed_commitment.as_mut().unwrap() += Fr::from(1u64),
        "another program's preprocessed commitment",
    );
}

/// A proof for other public values is refused before any circuit is built.
#[test]
fn a_recursion_proof_for_other_public_values_is_not_wrapped() {
    let machine = small_machine(RecursionMachine::min_height_for(&WRAP_TEST_FRI));
    let proof = prove_outer(&machine, &small_witness(), &WRAP_TEST_FRI);
    let mut publics = per_table(&proof.public_values);
    publics[table::PUBLIC][1] += KoalaBear::ONE;
    assert!(
        BatchStarkVerifierCircuit::new(&WRAP_TEST_FRI, machine.airs(), &proof.proof, &publics)
            .is_err()
    );
}

/// The production outer settings (`OUTER_FRI`): the honest wraps of both programs satisfy
/// the circuit; prints the per-part counts and guards the totals. Run with `--nocapture` to
/// see the numbers. Minutes of proving and synthesis: a measurement, run on demand
/// (figures in BENCHMARKS.md).
#[test]
#[ignore = "production-size measurement: cargo test -p zkmips-wrapper --test recursion_wrap -- --ignored --nocapture"]
fn real_settings_constraint_counts_are_guarded() {
    let machine = small_machine(RecursionMachine::min_height_for(&OUTER_FRI));
    let proof = prove_outer(&machine, &small_witness(), &OUTER_FRI);
    let small = measure("small program", &wrap(&machine, &proof, &OUTER_FRI));

    let (verifier, stream, _) = verifier_machine(&INNER_TEST_FRI, &OUTER_FRI);
    let proof = prove_outer(&verifier, &stream, &OUTER_FRI);
    let large = measure(
        "verifier program (inner proof with 3 queries)",
        &wrap(&verifier, &proof, &OUTER_FRI),
    );
    println!(
        "constraints: small {small}, verifier {large} ({} instructions)",
        verifier.program().instrs().len()
    );
    // The same programs with one Poseidon2 round per row (the layout of the wrapped layer).
    let narrow = machine.with_poseidon2_layout(Poseidon2Layout::RoundPerRow);
    let proof = prove_outer(&narrow, &small_witness(), &OUTER_FRI);
    let small_narrow = measure(
        "small program, narrow Poseidon2",
        &wrap(&narrow, &proof, &OUTER_FRI),
    );
    let narrow = verifier.with_poseidon2_layout(Poseidon2Layout::RoundPerRow);
    let proof = prove_outer(&narrow, &stream, &OUTER_FRI);
    let large_narrow = measure(
        "verifier program, narrow Poseidon2",
        &wrap(&narrow, &proof, &OUTER_FRI),
    );
    println!(
        "constraints with one Poseidon2 round per row: small {small_narrow}, verifier {large_narrow}"
    );
    // Measured: 2_154_044 and 3_014_086; narrow 1_152_709 and 2_071_712 (docs/RECURSION.md
    // budget: 2^21 = 2_097_152).
    assert!(small <= 2_160_000, "{small}");
    assert!(large <= 3_020_000, "{large}");
    assert!(small_narrow <= 1_160_000, "{small_narrow}");
    assert!(large_narrow <= 2_080_000, "{large_narrow}");
}
