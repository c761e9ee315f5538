//! The batch-STARK verifier circuit on real outer `p3-batch-stark` proofs of three small AIRs of
//! different heights exchanging two LogUp buses (one with a preprocessed table read at ζ and ζ·g,
//! two with public values): satisfied for the honest proof, unsatisfied when any part of the
//! proof, the public input or the preprocessed commitment is altered; its size is guarded.

use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystem, OptimizationGoal};
use p3_air::{Air, AirBuilder, BaseAir, PermutationAirBuilder, WindowAccess};
use p3_batch_stark::{BatchProof, ProverData, StarkInstance, prove_batch};
use p3_field::{Field, PrimeCharacteristicRing};
use p3_koala_bear::KoalaBear;
use p3_lookup::{Count, InteractionBuilder, PermutationCheckBus};
use p3_matrix::dense::RowMajorMatrix;
use zkmips_prover::config::FriSettings;
use zkmips_prover::outer::{OUTER_FRI, OuterConfig, WRAP_TEST_FRI, outer_config_with};

use zkmips_wrapper::Fr;
use zkmips_wrapper::koalabear::KoalaBearExt;
use zkmips_wrapper::verifier::batch::{BatchStarkVerifierCircuit, synthesize_batch_stark};

/// The bus: `(t, t²)` pairs.
const SQUARES: PermutationCheckBus<'static> = PermutationCheckBus::new("squares");

/// A second bus with narrower messages `(t)`: exercises a second bus offset (index 1, with the
/// offset power fixed by the widest message) and two lookups per AIR.
const VALUES: PermutationCheckBus<'static> = PermutationCheckBus::new("values");

/// Rows of the preprocessed table `t = 0..64`.
const TABLE_LOG_ROWS: usize = 6;

#[derive(Clone, Copy, Debug)]
enum TestAir {
    /// Columns (x, y): x starts at public value 0 and counts up, y = x² (also asserted as
    /// y·x = x³, a degree-3 constraint), and each row sends (x, y) on the bus.
    Squares,
    /// Preprocessed column t = row index (read at ζ and ζ·g); columns (sq, m): sq = t², m
    /// boolean; each row receives (t, sq) with multiplicity m.
    Table,
    /// Squares without any bus: a batch of these has no lookup phase, no permutation
    /// commitment and no preprocessed commitment.
    Plain,
}

impl<F: Field> BaseAir<F> for TestAir {
    fn width(&self) -> usize {
        2
    }
    fn num_public_values(&self) -> usize {
        match self {
            Self::Squares | Self::Plain => 1,
            Self::Table => 0,
        }
    }
    fn preprocessed_trace(&self) -> Option<RowMajorMatrix<F>> {
        match self {
            Self::Squares | Self::Plain => None,
            Self::Table => Some(RowMajorMatrix::new(
                (0..1u32 << TABLE_LOG_ROWS).map(F::from_u32).collect(),
                1,
            )),
        }
    }
    fn preprocessed_width(&self) -> usize {
        match self {
            Self::Squares | Self::Plain => 0,
            Self::Table => 1,
        }
    }
    fn main_next_row_columns(&self) -> Vec<usize> {
        match self {
            Self::Squares | Self::Plain => vec![0, 1],
            Self::Table => vec![],
        }
    }
}

impl<AB: PermutationAirBuilder + InteractionBuilder> Air<AB> for TestAir {
    fn eval(&self, builder: &mut AB) {
        match self {
            Self::Squares | Self::Plain => {
                let main = builder.main();
                let (x, y) = (main.current_slice()[0], main.current_slice()[1]);
                let x_next = main.next_slice()[0];
                let x0 = builder.public_values()[0];
                builder.when_first_row().assert_eq(x, x0);
                builder
                    .when_transition()
                    .assert_eq(x_next, x.into() + AB::Expr::ONE);
                builder.assert_eq(y, x * x);
                // Redundant, but degree 3: this AIR's quotient has two chunks, the table's one.
                builder.assert_eq(y * x, x * x * x);
                if matches!(self, Self::Squares) {
                    SQUARES.send(builder, [x, y], 1);
                    VALUES.send(builder, [x], 1);
                }
            }
            Self::Table => {
                let preprocessed = builder.preprocessed();
                let (t, t_next) = (
                    preprocessed.current_slice()[0],
                    preprocessed.next_slice()[0],
                );
                let main = builder.main();
                let (sq, m) = (main.current_slice()[0], main.current_slice()[1]);
                builder.assert_eq(sq, t * t);
                builder.assert_bool(m);
                builder
                    .when_transition()
                    .assert_eq(t_next, t.into() + AB::Expr::ONE);
                SQUARES.receive(builder, [t, sq], Count::bounded(m.into(), 1));
                VALUES.receive(builder, [t], Count::bounded(m.into(), 1));
            }
        }
    }
}

/// Squares rows `x0 .. x0 + 2^log_rows`, public value x0.
fn squares_trace(x0: u32, log_rows: usize) -> (RowMajorMatrix<KoalaBear>, Vec<KoalaBear>) {
    let values = (x0..x0 + (1 << log_rows))
        .flat_map(|x| [KoalaBear::from_u32(x), KoalaBear::from_u32(x * x)])
        .collect();
    (
        RowMajorMatrix::new(values, 2),
        vec![KoalaBear::from_u32(x0)],
    )
}

/// The table receiving every `t` some sender sends.
fn table_trace(received: &[u32]) -> RowMajorMatrix<KoalaBear> {
    let values = (0..1u32 << TABLE_LOG_ROWS)
        .flat_map(|t| {
            [
                KoalaBear::from_u32(t * t),
                KoalaBear::from_bool(received.contains(&t)),
            ]
        })
        .collect();
    RowMajorMatrix::new(values, 2)
}

const AIRS: [TestAir; 3] = [TestAir::Squares, TestAir::Table, TestAir::Squares];

/// Three instances of three different heights: squares of `0..2^first_log`, the table
/// (2^6 rows), squares of `40..40 + 2^second_log`.
fn batch_proof(
    settings: &FriSettings,
    first_log: usize,
    second_log: usize,
) -> (BatchProof<OuterConfig>, Vec<Vec<KoalaBear>>) {
    let config = outer_config_with(settings);
    let (first, first_public) = squares_trace(0, first_log);
    let (second, second_public) = squares_trace(40, second_log);
    let received: Vec<u32> = (0..1 << first_log)
        .chain(40..40 + (1 << second_log))
        .collect();
    let table = table_trace(&received);
    let instances = vec![
        StarkInstance {
            air: &AIRS[0],
            trace: &first,
            public_values: first_public.clone(),
        },
        StarkInstance {
            air: &AIRS[1],
            trace: &table,
            public_values: vec![],
        },
        StarkInstance {
            air: &AIRS[2],
            trace: &second,
            public_values: second_public.clone(),
        },
    ];
    let data = ProverData::from_instances(&config, &instances).expect("prover data");
    let proof = prove_batch(&config, &instances, &data).expect("prove");
    (proof, vec![first_public, vec![], second_public])
}

fn test_circuit() -> BatchStarkVerifierCircuit {
    let (proof, public) = batch_proof(&WRAP_TEST_FRI, 4, 3);
    BatchStarkVerifierCircuit::new(&WRAP_TEST_FRI, &AIRS, &proof, &public).expect("witness")
}

/// Synthesizes the circuit and checks the constraints. Synthesis must succeed even for a
/// tampered witness: the rejection has to come from the R1CS, not from witness generation.
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

#[test]
fn honest_batch_proof_satisfies_the_circuit() {
    let circuit = test_circuit();
    let shape = &circuit.shape;
    assert_eq!(
        shape
            .instances
            .iter()
            .map(|s| s.degree_bits)
            .collect::<Vec<_>>(),
        vec![4, 6, 3]
    );
    assert!(shape.preprocessed_commitment.is_some());
    assert_eq!(shape.num_buses, 2);
    assert_eq!(shape.max_message_width, 2);
    assert_eq!(shape.instances[1].permutation_width(), 3);
    assert_eq!(
        shape
            .instances
            .iter()
            .map(|s| s.num_quotient_chunks())
            .collect::<Vec<_>>(),
        vec![2, 1, 2]
    );
    // Mixed heights: the two shorter inputs are rolled in during folding.
    assert_eq!(shape.log_lde_height, 8);
    assert_eq!(shape.log_arities.iter().sum::<usize>(), 5);
    assert!(shape.log_arities.len() >= 3, "{:?}", shape.log_arities);
    let cs = ConstraintSystem::<Fr>::new_ref();
    let breakdown = synthesize_batch_stark(
        &cs,
        &circuit.shape,
        &circuit.public_values,
        &circuit.witness,
    )
    .expect("synthesis");
    println!("small batch circuit: {} constraints", breakdown.total());
    assert!(
        breakdown
            .parts
            .iter()
            .any(|(part, n)| *part == "LogUp terminal sum" && *n > 0),
        "the global LogUp check is in the circuit"
    );
    assert!(cs.is_satisfied().unwrap());
}

#[test]
fn a_batch_without_lookups_or_preprocessed_traces_is_verified() {
    let config = outer_config_with(&WRAP_TEST_FRI);
    let airs = [TestAir::Plain, TestAir::Plain];
    let (first, first_public) = squares_trace(3, 4);
    let (second, second_public) = squares_trace(7, 3);
    let instances = vec![
        StarkInstance {
            air: &airs[0],
            trace: &first,
            public_values: first_public.clone(),
        },
        StarkInstance {
            air: &airs[1],
            trace: &second,
            public_values: second_public.clone(),
        },
    ];
    let data = ProverData::from_instances(&config, &instances).expect("prover data");
    let proof = prove_batch(&config, &instances, &data).expect("prove");
    let public = vec![first_public, second_public];
    let circuit =
        BatchStarkVerifierCircuit::new(&WRAP_TEST_FRI, &airs, &proof, &public).expect("witness");
    assert!(circuit.shape.preprocessed_commitment.is_none());
    assert!(circuit.witness.permutation_commitment.is_none());
    assert!(circuit.witness.lookup_pow_witness.is_none());
    assert!(satisfied(circuit.clone()));
    assert_rejected(
        &circuit,
        |c| c.public_values[1][0] += KoalaBear::ONE,
        "a wrong public value",
    );
    assert_rejected(
        &circuit,
        |c| bump(&mut c.witness.instances[1].trace_local[0]),
        "an opened main value",
    );
}

#[test]
fn a_proof_for_other_public_values_is_not_wrapped() {
    let (proof, mut public) = batch_proof(&WRAP_TEST_FRI, 4, 3);
    public[2][0] += KoalaBear::ONE;
    assert!(BatchStarkVerifierCircuit::new(&WRAP_TEST_FRI, &AIRS, &proof, &public).is_err());
}

#[test]
fn tampered_openings_and_transcript_values_are_rejected() {
    let circuit = test_circuit();
    assert_rejected(
        &circuit,
        |c| c.public_values[2][0] += KoalaBear::ONE,
        "a wrong public value",
    );
    assert_rejected(
        &circuit,
        |c| bump(&mut c.witness.instances[0].trace_local[1]),
        "an opened main value at ζ",
    );
    assert_rejected(
        &circuit,
        |c| bump(&mut c.witness.instances[2].trace_next[0]),
        "an opened main value at ζ·g",
    );
    assert_rejected(
        &circuit,
        |c| bump(&mut c.witness.instances[1].preprocessed_local[0]),
        "an opened preprocessed value at ζ",
    );
    assert_rejected(
        &circuit,
        |c| bump(&mut c.witness.instances[1].preprocessed_next[0]),
        "an opened preprocessed value at ζ·g",
    );
    assert_rejected(
        &circuit,
        |c| bump(&mut c.witness.instances[1].permutation_local[5]),
        "an opened permutation (LogUp) value at ζ",
    );
    assert_rejected(
        &circuit,
        |c| bump(&mut c.witness.instances[0].permutation_next[0]),
        "an opened permutation (LogUp) value at ζ·g",
    );
    assert_rejected(
        &circuit,
        |c| bump(&mut c.witness.instances[2].quotient_chunks[0][3]),
        "a quotient chunk value",
    );
    assert_rejected(
        &circuit,
        |c| bump(c.witness.instances[1].terminal.as_mut().unwrap()),
        "a terminal (global LogUp sum non-zero)",
    );
}

#[test]
fn a_balanced_shift_of_the_terminals_is_still_rejected() {
    // Moving δ from one terminal to another keeps the global sum at zero: only the per-instance
    // LogUp constraints (and the transcript) catch it.
    let circuit = test_circuit();
    assert_rejected(
        &circuit,
        |c| {
            bump(c.witness.instances[0].terminal.as_mut().unwrap());
            let t = c.witness.instances[1].terminal.as_mut().unwrap();
            *t -= KoalaBearExt::ONE;
        },
        "terminals shifted by ±1",
    );
}

#[test]
fn tampered_commitments_paths_fri_and_pow_are_rejected() {
    let circuit = test_circuit();
    assert_rejected(
        &circuit,
        |c| {
            let p = c.shape.preprocessed_commitment.as_mut().unwrap();
            *p += Fr::from(1u64);
        },
        "another preprocessed commitment constant",
    );
    assert_rejected(
        &circuit,
        |c| c.witness.main_commitment += Fr::from(1u64),
        "main commitment",
    );
    assert_rejected(
        &circuit,
        |c| *c.witness.permutation_commitment.as_mut().unwrap() += Fr::from(1u64),
        "permutation commitment",
    );
    assert_rejected(
        &circuit,
        |c| c.witness.quotient_commitment += Fr::from(1u64),
        "quotient commitment",
    );
    for batch in 0..4 {
        assert_rejected(
            &circuit,
            |c| c.witness.queries[1].inputs[batch].siblings[2] += Fr::from(1u64),
            "an input Merkle sibling",
        );
        assert_rejected(
            &circuit,
            |c| c.witness.queries[0].inputs[batch].rows[0][0] += KoalaBear::ONE,
            "an opened input row",
        );
    }
    assert_rejected(
        &circuit,
        |c| c.witness.queries[2].rounds[0].siblings[0] += Fr::from(1u64),
        "a commit-phase Merkle sibling",
    );
    assert_rejected(
        &circuit,
        |c| bump(&mut c.witness.queries[0].rounds[1].row[1]),
        "an FRI coset value",
    );
    assert_rejected(
        &circuit,
        |c| bump(&mut c.witness.final_poly[1]),
        "a final-polynomial coefficient",
    );
    assert_rejected(
        &circuit,
        |c| c.witness.commit_phase_commitments[0] += Fr::from(1u64),
        "a commit-phase commitment",
    );
    assert_rejected(
        &circuit,
        |c| *c.witness.lookup_pow_witness.as_mut().unwrap() += KoalaBear::ONE,
        "the lookup PoW witness",
    );
    assert_rejected(
        &circuit,
        |c| c.witness.ood_pow_witness += KoalaBear::ONE,
        "the OOD PoW witness",
    );
    assert_rejected(
        &circuit,
        |c| c.witness.batch_pow_witness += KoalaBear::ONE,
        "the batching PoW witness",
    );
    assert_rejected(
        &circuit,
        |c| c.witness.commit_pow_witnesses[0] += KoalaBear::ONE,
        "a commit-phase PoW witness",
    );
    assert_rejected(
        &circuit,
        |c| c.witness.query_pow_witness += KoalaBear::ONE,
        "the query PoW witness",
    );
}

/// The real outer settings (`OUTER_FRI`: blowup 16, 22 queries, 16-bit grinding): the honest
/// proof satisfies the circuit; prints the per-part constraint counts (docs/WRAPPER.md) and
/// guards the total.
#[test]
fn real_settings_constraint_count_is_guarded() {
    let (proof, public) = batch_proof(&OUTER_FRI, 5, 4);
    let circuit =
        BatchStarkVerifierCircuit::new(&OUTER_FRI, &AIRS, &proof, &public).expect("witness");
    println!(
        "shape: heights 2^{:?}, LDE 2^{}, arities {:?}, quotient chunks {:?}",
        circuit
            .shape
            .instances
            .iter()
            .map(|s| s.degree_bits)
            .collect::<Vec<_>>(),
        circuit.shape.log_lde_height,
        circuit.shape.log_arities,
        circuit
            .shape
            .instances
            .iter()
            .map(|s| s.num_quotient_chunks())
            .collect::<Vec<_>>(),
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
    assert!(breakdown.total() <= 850_000, "{}", breakdown.total());
}

/// Groth16 setup, proof and verification of the small batch circuit (~0.16 M constraints; too
/// slow for every run on 2 shared cores). Run with `--ignored`; timings in docs/WRAPPER.md.
#[test]
#[ignore = "slow: Groth16 setup and proof of the small batch circuit"]
fn groth16_proves_and_verifies_the_small_batch_circuit() {
    use ark_bn254::Bn254;
    use ark_groth16::Groth16;
    use ark_snark::SNARK;
    use ark_std::rand::SeedableRng;
    use ark_std::rand::rngs::StdRng;

    let circuit = test_circuit();
    let public_inputs = circuit.public_inputs();
    let mut rng = StdRng::seed_from_u64(0x6261_7463_6877_7261);
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

/// Key generation synthesizes a blank witness (no proof needed): it must yield exactly the
/// constraint system of a real proof of the same shape, and must not satisfy it.
#[test]
fn the_blank_witness_has_the_shape_of_a_real_proof() {
    use zkmips_wrapper::keys::circuit_digest;
    use zkmips_wrapper::verifier::batch::BatchStarkWitness;
    let honest = test_circuit();
    let mut blank = honest.clone();
    blank.witness = BatchStarkWitness::blank(&honest.shape);
    assert_eq!(
        circuit_digest("batch", honest.clone()).unwrap(),
        circuit_digest("batch", blank.clone()).unwrap()
    );
    assert!(satisfied(honest));
    assert!(!satisfied(blank));
}
