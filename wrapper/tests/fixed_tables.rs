//! A recursion program's fixed tables committed once (`zkmips_prover::batch::FixedTables`)
//! serve the Groth16 wrapper: the circuit shape and witness built from them are the ones
//! derived from scratch, and fixed tables of another program are refused.

use p3_field::PrimeCharacteristicRing;
use p3_koala_bear::KoalaBear;
use zkmips_prover::outer::{WRAP_TEST_FRI, outer_config_with};
use zkmips_recursion::builder::Builder;
use zkmips_recursion::ir::{PERM_WIDTH, Val};
use zkmips_recursion::machine::{RecursionMachine, table};
use zkmips_wrapper::verifier::batch::{BatchStarkShape, BatchStarkVerifierCircuit};

/// Every table: a permutation, extension and base arithmetic, `x * y + constant` public.
fn machine(constant: u32) -> RecursionMachine {
    let mut b = Builder::new();
    let x = b.witness();
    let y = b.witness();
    let state = core::array::from_fn(|i| if i % 2 == 0 { x } else { y });
    let out = b.poseidon2(state);
    let e = b.ext_mul(out[0].as_ext(), y.as_ext());
    let coordinates = b.ext_coordinates(e);
    let xy = b.mul(x, y);
    let sum = b.add_const(xy, Val::from_u32(constant));
    b.public(sum);
    b.public(coordinates[0]);
    b.public(out[PERM_WIDTH - 1]);
    RecursionMachine::with_min_height(
        b.build().expect("valid program"),
        RecursionMachine::min_height_for(&WRAP_TEST_FRI),
    )
}

fn witness() -> Vec<Val> {
    vec![Val::from_u32(3), Val::from_u32(5)]
}

/// Everything in a shape but the constraints themselves (symbolic expressions sharing
/// subtrees, whose `Debug` output is exponential), which are counted.
fn summary(shape: &BatchStarkShape) -> String {
    let instances: Vec<String> = shape
        .instances
        .iter()
        .map(|i| {
            format!(
                "{} {} {} {} {} {} {} {:?} {}",
                i.degree_bits,
                i.main_width,
                i.num_public_values,
                i.preprocessed_width,
                i.opens_main_next,
                i.opens_preprocessed_next,
                i.log_num_quotient_chunks,
                i.bus_ids,
                i.constraints.len()
            )
        })
        .collect();
    format!(
        "{:?} {instances:?} {} {:?} {} {} {:?} {} {:?} {:?} {:?}",
        shape.preprocessed_commitment,
        shape.has_preprocessed,
        shape.preprocessed_instances,
        shape.max_message_width,
        shape.num_buses,
        shape.log_arities,
        shape.log_lde_height,
        shape.batch_seed,
        shape.pcs_seed,
        shape.fri_seed
    )
}

fn per_table(public_values: &[Val]) -> Vec<Vec<KoalaBear>> {
    let mut publics = vec![Vec::new(); table::COUNT];
    publics[table::PUBLIC] = public_values.to_vec();
    publics
}

#[test]
fn circuit_from_fixed_tables_is_the_derived_circuit() {
    let settings = WRAP_TEST_FRI;
    let config = outer_config_with(&settings);
    let machine = machine(1);
    let fixed = machine.fixed_tables(&config).expect("fixed tables");
    let proof = machine
        .prove_with_fixed(&config, &fixed, &witness())
        .expect("outer proof");
    let publics = per_table(&proof.public_values);
    let derived =
        BatchStarkVerifierCircuit::new(&settings, machine.airs(), &proof.proof, &publics).unwrap();
    let shared = BatchStarkVerifierCircuit::with_fixed(
        &settings,
        machine.airs(),
        &fixed,
        &proof.proof,
        &publics,
    )
    .unwrap();
    assert!(shared.shape.preprocessed_commitment.is_some());
    assert_eq!(summary(&shared.shape), summary(&derived.shape));
    let (ours, theirs) = (&shared.witness, &derived.witness);
    assert_eq!(ours.main_commitment, theirs.main_commitment);
    assert_eq!(ours.permutation_commitment, theirs.permutation_commitment);
    assert_eq!(ours.quotient_commitment, theirs.quotient_commitment);
    assert_eq!(
        ours.commit_phase_commitments,
        theirs.commit_phase_commitments
    );
    assert_eq!(ours.final_poly, theirs.final_poly);
    assert_eq!(ours.queries.len(), theirs.queries.len());
    assert_eq!(shared.public_inputs(), derived.public_inputs());
    let shape = BatchStarkShape::from_fixed(&settings, machine.airs(), &fixed).unwrap();
    let fresh_shape =
        BatchStarkShape::new(&settings, machine.airs(), &fixed.degree_bits()).unwrap();
    assert_eq!(summary(&shape), summary(&fresh_shape));
}

#[test]
fn fixed_tables_of_another_program_are_refused() {
    let settings = WRAP_TEST_FRI;
    let config = outer_config_with(&settings);
    let (ours, theirs) = (machine(1), machine(2));
    assert_eq!(ours.heights(), theirs.heights());
    let their_fixed = theirs.fixed_tables(&config).expect("fixed tables");
    let proof = ours.prove(&config, &witness()).expect("outer proof");
    let publics = per_table(&proof.public_values);
    assert!(
        BatchStarkVerifierCircuit::with_fixed(
            &settings,
            ours.airs(),
            &their_fixed,
            &proof.proof,
            &publics
        )
        .is_err()
    );
    assert!(BatchStarkShape::from_fixed(&settings, ours.airs(), &their_fixed).is_err());
}
