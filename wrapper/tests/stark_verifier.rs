//! The verifier circuit on real outer proofs of a small AIR: satisfied for the honest proof,
//! unsatisfied when any part of the proof or the public input is altered; its size is guarded.

use core::borrow::Borrow;

use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystem, OptimizationGoal};
use p3_air::{Air, AirBuilder, BaseAir, WindowAccess};
use p3_field::{BasedVectorSpace, PrimeCharacteristicRing, PrimeField32};
use p3_koala_bear::KoalaBear;
use p3_matrix::dense::RowMajorMatrix;
use p3_uni_stark::{Proof, prove, verify};
use zkmips_prover::config::FriSettings;
use zkmips_prover::outer::{OUTER_FRI, OuterConfig, outer_config_with};

use zkmips_wrapper::Fr;
use zkmips_wrapper::koalabear::KoalaBearExt;
use zkmips_wrapper::verifier::{StarkVerifierCircuit, pack_public_values, synthesize_uni_stark};

/// Fast settings for the tamper tests: few queries, but every grinding site active and two
/// folding rounds of different arity (2^6-row LDE → 2^3: arities 4 then 2).
const TEST_FRI: FriSettings = FriSettings {
    log_blowup: 2,
    num_queries: 3,
    query_pow_bits: 3,
    commit_pow_bits: 2,
    batch_pow_bits: 2,
    lookup_pow_bits: 0,
    ood_pow_bits: 2,
    log_final_poly_len: 1,
    max_log_arity: 2,
};

/// Columns (a, b). a' = a·b + 1 and b' = b + a² on transitions; public values: a and b on the
/// first row, a on the last. Degree 3 with the transition selector: two quotient chunks.
struct ProductChainAir;
const WIDTH: usize = 2;

struct ChainRow<T> {
    a: T,
    b: T,
}

impl<T> Borrow<ChainRow<T>> for [T] {
    fn borrow(&self) -> &ChainRow<T> {
        assert_eq!(self.len(), WIDTH);
        // SAFETY: `ChainRow` is two `T` fields, laid out like `[T; 2]` (length checked).
        unsafe { &*(self.as_ptr() as *const ChainRow<T>) }
    }
}

impl<F> BaseAir<F> for ProductChainAir {
    fn width(&self) -> usize {
        WIDTH
    }
    fn num_public_values(&self) -> usize {
        3
    }
    fn max_constraint_degree(&self) -> Option<usize> {
        Some(3)
    }
}

impl<AB: AirBuilder> Air<AB> for ProductChainAir {
    fn eval(&self, builder: &mut AB) {
        let main = builder.main();
        let public = builder.public_values();
        let (a0, b0, a_last) = (public[0], public[1], public[2]);
        let local: &ChainRow<AB::Var> = main.current_slice().borrow();
        let next: &ChainRow<AB::Var> = main.next_slice().borrow();
        builder.when_first_row().assert_eq(local.a, a0);
        builder.when_first_row().assert_eq(local.b, b0);
        builder
            .when_transition()
            .assert_eq(next.a, local.a * local.b + AB::Expr::ONE);
        builder
            .when_transition()
            .assert_eq(next.b, local.b + local.a * local.a);
        builder.when_last_row().assert_eq(local.a, a_last);
    }
}

fn chain_trace(log_rows: usize) -> (RowMajorMatrix<KoalaBear>, Vec<KoalaBear>) {
    let (a0, b0) = (KoalaBear::from_u32(3), KoalaBear::from_u32(5));
    let (mut a, mut b) = (a0, b0);
    let mut values = Vec::new();
    for _ in 0..1 << log_rows {
        values.extend([a, b]);
        (a, b) = (a * b + KoalaBear::ONE, b + a * a);
    }
    let last = values[values.len() - WIDTH];
    (RowMajorMatrix::new(values, WIDTH), vec![a0, b0, last])
}

fn proof_of_chain(settings: &FriSettings, log_rows: usize) -> (Proof<OuterConfig>, Vec<KoalaBear>) {
    let config = outer_config_with(settings);
    let (trace, public) = chain_trace(log_rows);
    let proof = prove(&config, &ProductChainAir, trace, &public).expect("prove");
    verify(&config, &ProductChainAir, &proof, &public).expect("native verify");
    (proof, public)
}

fn test_circuit() -> StarkVerifierCircuit {
    let (proof, public) = proof_of_chain(&TEST_FRI, 4);
    StarkVerifierCircuit::new(&TEST_FRI, &ProductChainAir, &proof, &public).expect("witness")
}

/// Synthesizes the circuit and checks the constraints. Synthesis must succeed even for a
/// tampered witness: the rejection has to come from the R1CS (what Groth16 enforces), not from
/// witness generation, which a cheating prover would not run.
fn satisfied(circuit: StarkVerifierCircuit) -> bool {
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    circuit
        .generate_constraints(cs.clone())
        .expect("synthesis succeeds for any witness of the right shape");
    cs.is_satisfied().expect("witness values")
}

fn assert_rejected(alter: impl FnOnce(&mut StarkVerifierCircuit), what: &str) {
    let mut circuit = test_circuit();
    alter(&mut circuit);
    assert!(!satisfied(circuit), "{what} must be rejected");
}

fn bump(value: &mut KoalaBearExt) {
    *value += KoalaBearExt::ONE;
}

#[test]
fn honest_proof_satisfies_the_circuit() {
    let circuit = test_circuit();
    assert_eq!(circuit.shape.log_arities, vec![2, 1]);
    assert_eq!(circuit.shape.num_quotient_chunks(), 2);
    assert!(satisfied(circuit));
}

#[test]
fn a_proof_for_other_public_values_is_not_wrapped() {
    let (proof, mut public) = proof_of_chain(&TEST_FRI, 4);
    public[2] += KoalaBear::ONE;
    assert!(StarkVerifierCircuit::new(&TEST_FRI, &ProductChainAir, &proof, &public).is_err());
}

#[test]
fn altered_public_input_is_rejected() {
    assert_rejected(
        |c| c.public_values[2] += KoalaBear::ONE,
        "a different public value",
    );
}

#[test]
fn altered_opened_value_is_rejected() {
    assert_rejected(|c| bump(&mut c.witness.trace_local[1]), "trace_local");
    assert_rejected(|c| bump(&mut c.witness.trace_next[0]), "trace_next");
    assert_rejected(
        |c| bump(&mut c.witness.quotient_chunks[1][3]),
        "quotient chunk",
    );
}

#[test]
fn altered_input_opening_is_rejected() {
    assert_rejected(
        |c| c.witness.queries[0].inputs[0].rows[0][1] += KoalaBear::ONE,
        "opened trace row",
    );
    assert_rejected(
        |c| c.witness.queries[2].inputs[1].rows[1][0] += KoalaBear::ONE,
        "opened quotient row",
    );
}

#[test]
fn altered_merkle_sibling_is_rejected() {
    assert_rejected(
        |c| c.witness.queries[1].inputs[0].siblings[2] += Fr::from(1u64),
        "input Merkle sibling",
    );
    assert_rejected(
        |c| c.witness.queries[0].rounds[1].siblings[0] += Fr::from(1u64),
        "commit-phase Merkle sibling",
    );
}

#[test]
fn altered_commit_phase_value_is_rejected() {
    for j in 0..4 {
        assert_rejected(
            |c| bump(&mut c.witness.queries[0].rounds[0].row[j]),
            "commit-phase row value",
        );
    }
    assert_rejected(
        |c| c.witness.commit_phase_commitments[1] += Fr::from(1u64),
        "commit-phase commitment",
    );
}

#[test]
fn altered_final_polynomial_is_rejected() {
    assert_rejected(
        |c| bump(&mut c.witness.final_poly[0]),
        "final poly coefficient 0",
    );
    assert_rejected(
        |c| bump(&mut c.witness.final_poly[1]),
        "final poly coefficient 1",
    );
}

#[test]
fn altered_pow_witness_is_rejected() {
    assert_rejected(|c| c.witness.ood_pow_witness += KoalaBear::ONE, "OOD PoW");
    assert_rejected(
        |c| c.witness.batch_pow_witness += KoalaBear::ONE,
        "batch PoW",
    );
    assert_rejected(
        |c| c.witness.commit_pow_witnesses[0] += KoalaBear::ONE,
        "commit PoW",
    );
    assert_rejected(
        |c| c.witness.query_pow_witness += KoalaBear::ONE,
        "query PoW",
    );
}

#[test]
fn altered_commitments_are_rejected() {
    assert_rejected(
        |c| c.witness.trace_commitment += Fr::from(1u64),
        "trace commitment",
    );
    assert_rejected(
        |c| c.witness.quotient_commitment += Fr::from(1u64),
        "quotient commitment",
    );
}

#[test]
fn public_values_pack_eight_per_input() {
    let values: Vec<KoalaBear> = (1..=9).map(KoalaBear::from_u32).collect();
    let packed = pack_public_values(&values);
    assert_eq!(packed.len(), 2);
    assert_eq!(packed[1], Fr::from(9u64));
    let mut expected = Fr::from(0u64);
    for v in values[..8].iter().rev() {
        expected = expected * Fr::from(1u64 << 31) + Fr::from(v.as_canonical_u32());
    }
    assert_eq!(packed[0], expected);
}

/// The production settings on a 2^6-row trace: one arity-8 round, 22 queries.
#[test]
fn real_settings_constraint_count_is_guarded() {
    let (proof, public) = proof_of_chain(&OUTER_FRI, 6);
    let circuit =
        StarkVerifierCircuit::new(&OUTER_FRI, &ProductChainAir, &proof, &public).expect("witness");
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    let breakdown = synthesize_uni_stark(
        &cs,
        &circuit.shape,
        &circuit.constraints,
        &circuit.public_values,
        &circuit.witness,
    )
    .expect("synthesis");
    assert!(cs.is_satisfied().unwrap());
    println!("uni-STARK verifier, 2^6-row 2-column AIR, OUTER_FRI:");
    for (part, count) in &breakdown.parts {
        println!("  {count:>9}  {part}");
    }
    println!("  {:>9}  total", cs.num_constraints());
    assert_eq!(breakdown.total(), cs.num_constraints());
    assert!(cs.num_constraints() <= 330_000, "{}", cs.num_constraints());
}

fn groth16_round_trip(circuit: StarkVerifierCircuit) {
    use ark_bn254::Bn254;
    use ark_groth16::Groth16;
    use ark_snark::SNARK;
    use ark_std::rand::SeedableRng;
    use ark_std::rand::rngs::StdRng;

    let public_inputs = circuit.public_inputs();
    let mut rng = StdRng::seed_from_u64(0x7a6b_6d69_7073_7772);
    let start = std::time::Instant::now();
    let (pk, vk) =
        Groth16::<Bn254>::circuit_specific_setup(circuit.clone(), &mut rng).expect("setup");
    let setup = start.elapsed();
    let start = std::time::Instant::now();
    let proof = Groth16::<Bn254>::prove(&pk, circuit, &mut rng).expect("prove");
    let prove = start.elapsed();
    println!("Groth16 (test key from a fixed seed): setup {setup:?}, prove {prove:?}");
    assert!(Groth16::<Bn254>::verify(&vk, &public_inputs, &proof).expect("verify"));
    let mut other = public_inputs.clone();
    other[0] += Fr::from(1u64);
    assert!(
        !Groth16::<Bn254>::verify(&vk, &other, &proof).expect("verify"),
        "the proof must not verify for other public values"
    );
}

#[test]
fn groth16_proves_and_verifies_the_small_circuit() {
    let circuit = test_circuit();
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    circuit.clone().generate_constraints(cs.clone()).unwrap();
    println!(
        "small verifier circuit (TEST_FRI, 2^4 rows): {} constraints",
        cs.num_constraints()
    );
    groth16_round_trip(circuit);
}

/// The production settings end to end (~0.33 M constraints). Run with `--ignored`; the numbers
/// are in docs/WRAPPER.md.
#[test]
#[ignore = "slow: Groth16 setup and proof of the real-settings circuit"]
fn groth16_proves_and_verifies_the_real_settings_circuit() {
    let (proof, public) = proof_of_chain(&OUTER_FRI, 6);
    let circuit =
        StarkVerifierCircuit::new(&OUTER_FRI, &ProductChainAir, &proof, &public).expect("witness");
    groth16_round_trip(circuit);
}

/// An AIR that never reads the next row (p3 then opens the trace at ζ only): y = x³ on every
/// row and x = public value on the first row.
struct CubeAir;

impl<F> BaseAir<F> for CubeAir {
    fn width(&self) -> usize {
        2
    }
    fn main_next_row_columns(&self) -> Vec<usize> {
        Vec::new()
    }
    fn num_public_values(&self) -> usize {
        1
    }
    fn max_constraint_degree(&self) -> Option<usize> {
        Some(3)
    }
}

impl<AB: AirBuilder> Air<AB> for CubeAir {
    fn eval(&self, builder: &mut AB) {
        let main = builder.main();
        let x0 = builder.public_values()[0];
        let local = main.current_slice();
        let (x, y) = (local[0], local[1]);
        builder.assert_eq(y, x * x * x);
        builder.when_first_row().assert_eq(x, x0);
    }
}

#[test]
fn an_air_without_next_row_openings_is_verified() {
    let config = outer_config_with(&TEST_FRI);
    let values: Vec<KoalaBear> = (0..16u32)
        .flat_map(|i| {
            let x = KoalaBear::from_u32(i * 7 + 2);
            [x, x * x * x]
        })
        .collect();
    let public = vec![KoalaBear::from_u32(2)];
    let proof = prove(&config, &CubeAir, RowMajorMatrix::new(values, 2), &public).expect("prove");
    let circuit = StarkVerifierCircuit::new(&TEST_FRI, &CubeAir, &proof, &public).expect("witness");
    assert!(!circuit.shape.opens_next_row);
    assert!(circuit.witness.trace_next.is_empty());
    assert!(satisfied(circuit.clone()));
    let mut tampered = circuit;
    bump(&mut tampered.witness.trace_local[1]);
    assert!(!satisfied(tampered));
}

/// An opening point inside KoalaBear could coincide with a query point (p3 rejects that case);
/// the circuit rejects any such point, whatever the prover's auxiliary witness.
#[test]
fn opening_points_in_the_base_field_are_rejected() {
    use zkmips_wrapper::koalabear::KbExtVar;
    use zkmips_wrapper::verifier::pcs::enforce_outside_base_field;

    let outside = KoalaBearExt::from_basis_coefficients_fn(|i| KoalaBear::from_u32(i as u32 + 5));
    let inside = KoalaBearExt::from(KoalaBear::from_u32(77));
    for (point, accepted) in [(outside, true), (inside, false)] {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let var = KbExtVar::new_witness(cs.clone(), || Ok(point)).unwrap();
        enforce_outside_base_field(&var).unwrap();
        assert_eq!(cs.is_satisfied().unwrap(), accepted);
    }
}
