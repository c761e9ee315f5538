//! The native side of the verifier circuit: the circuit shape derived from the AIR and the FRI
//! settings (never from the proof, except the trace height it is built for), and the proof
//! rearranged into the witness the circuit consumes.
//!
//! The shape includes the three Fiat-Shamir domain-separator seeds p3 0.8 absorbs
//! (`p3-uni-stark`'s `StarkShape`, `p3-fri`'s `PcsShape` and `FriShape`): they depend only on the
//! shape, so the circuit observes them as constants. They are produced by p3's own
//! `DomainSeparator::seed`, recorded here, so nothing of their encoding is re-implemented.
//!
//! p3 0.8 sends *pruned* Merkle multi-openings. The circuit checks one full path per query, so
//! [`extract_uni_stark`] expands them with `MerkleTreeMmcs::restore_and_recompute_paths`; the
//! FRI commit-phase rows (the folded value at its position plus the sent siblings) come from
//! p3's own `open_inputs` and `fold_query`. A proof those reject is reported as an error: the
//! wrapper only wraps proofs the native verifier accepts.

use core::marker::PhantomData;

use p3_air::symbolic::{AirLayout, SymbolicAirBuilder};
use p3_air::{Air, BaseAir};
use p3_bn254::Bn254;
use p3_challenger::{CanObserve, CanSample, CanSampleBits, GrindingChallenger};
use p3_commit::{CommitmentOpening, PolynomialSpace};
use p3_field::coset::TwoAdicMultiplicativeCoset;
use p3_field::{BasedVectorSpace, PrimeCharacteristicRing, TwoAdicField};
use p3_fri::verifier::{fold_query, open_inputs};
use p3_fri::{FriShape, PcsShape, TwoAdicFriFolding, fold_schedule};
use p3_koala_bear::KoalaBear;
use p3_matrix::Dimensions;
use p3_symmetric::MerkleCap;
use p3_uni_stark::{Proof, StarkShape, get_log_num_quotient_chunks};
use zkmips_prover::config::FriSettings;
use zkmips_prover::outer::{
    OuterChallenge, OuterChallengeMmcs, OuterChallenger, OuterConfig, OuterValMmcs, outer_perm,
    outer_val_mmcs,
};

use crate::Fr;
use crate::convert::bn254_to_fr;

/// A Merkle commitment of the outer MMCS (cap height 0: one root).
pub type OuterCommitment = MerkleCap<KoalaBear, [Bn254; 1]>;

/// Why a proof cannot be turned into a circuit witness.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WitnessError {
    #[error("proof shape: {0}")]
    Shape(String),
    #[error("the proof does not verify natively: {0}")]
    Rejected(String),
}

fn shape_error(message: impl Into<String>) -> WitnessError {
    WitnessError::Shape(message.into())
}

/// Collects what a domain separator absorbs into the challenger.
#[derive(Default)]
struct SeedRecorder(Vec<KoalaBear>);

impl CanObserve<KoalaBear> for SeedRecorder {
    fn observe(&mut self, value: KoalaBear) {
        self.0.push(value);
    }
}

/// Everything about a uni-STARK proof the circuit is built for that is not witness: fixed per
/// (AIR, trace height, FRI settings), i.e. per Groth16 circuit.
#[derive(Clone, Debug)]
pub struct UniStarkShape {
    pub settings: FriSettings,
    /// log2 of the trace height (the outer config is not zero-knowledge).
    pub degree_bits: usize,
    pub main_width: usize,
    pub num_public_values: usize,
    /// Whether the AIR reads the next row (then the trace is also opened at ζ·g).
    pub opens_next_row: bool,
    pub log_num_quotient_chunks: usize,
    /// FRI folding arities (log2) per round, from `p3_fri::fold_schedule`.
    pub log_arities: Vec<usize>,
    /// log2 of the LDE height: the query index width.
    pub log_lde_height: usize,
    pub stark_seed: Vec<KoalaBear>,
    pub pcs_seed: Vec<KoalaBear>,
    pub fri_seed: Vec<KoalaBear>,
}

impl UniStarkShape {
    /// The shape of a uni-STARK proof of `air` over `2^degree_bits` rows under `settings`.
    pub fn new<A>(settings: &FriSettings, air: &A, degree_bits: usize) -> Result<Self, WitnessError>
    where
        A: BaseAir<KoalaBear> + Air<SymbolicAirBuilder<KoalaBear>>,
    {
        if air.preprocessed_width() > 0 || air.num_periodic_columns() > 0 {
            return Err(shape_error(
                "preprocessed and periodic columns are not supported by the uni-STARK circuit yet",
            ));
        }
        if !air.public_boundary_io().is_empty() {
            // As `p3_uni_stark::verify`: public values must be bound by the AIR's constraints.
            return Err(shape_error(
                "boundary-IO public values are not supported by uni-STARK proofs",
            ));
        }
        let log_lde_height = degree_bits + settings.log_blowup;
        // Query indices are sampled as bits of one KoalaBear value.
        if log_lde_height >= 31 || log_lde_height > KoalaBear::TWO_ADICITY {
            return Err(shape_error(format!(
                "LDE height 2^{log_lde_height} too large"
            )));
        }
        if log_lde_height < settings.log_blowup + settings.log_final_poly_len {
            return Err(shape_error(format!(
                "LDE height 2^{log_lde_height} is below the FRI final height 2^{}",
                settings.log_blowup + settings.log_final_poly_len
            )));
        }
        let layout = AirLayout::from_air::<KoalaBear>(air);
        let log_num_quotient_chunks =
            get_log_num_quotient_chunks::<KoalaBear, A>(air, layout, 1 << degree_bits, 0);
        let num_quotient_chunks = 1usize << log_num_quotient_chunks;
        let opens_next_row = !air.main_next_row_columns().is_empty();
        let main_width = air.width();

        let stark_shape = StarkShape::new::<KoalaBear, A>(
            air,
            0,
            degree_bits,
            degree_bits,
            num_quotient_chunks,
            false,
            settings.ood_pow_bits,
        );
        let mut stark_seed = SeedRecorder::default();
        stark_shape
            .domain_separator::<KoalaBear, OuterChallenge>()
            .seed(&mut stark_seed);

        // The claims of `p3_uni_stark::verify`: the trace (ζ and, if read, ζ·g), then each
        // quotient chunk (4 base columns) at ζ.
        let trace_counts = if opens_next_row {
            vec![main_width, main_width]
        } else {
            vec![main_width]
        };
        let pcs_shape = PcsShape {
            claimed_evaluation_counts: vec![vec![trace_counts], vec![vec![4]; num_quotient_chunks]],
            batch_pow_bits: settings.batch_pow_bits,
        };
        let mut pcs_seed = SeedRecorder::default();
        pcs_shape
            .domain_separator::<KoalaBear, OuterChallenge>()
            .seed(&mut pcs_seed);

        // Every committed matrix has the trace height, so the schedule has one input height.
        let params = settings.fri_parameters(());
        let log_arities = fold_schedule(
            &[log_lde_height],
            settings.log_blowup + settings.log_final_poly_len,
            settings.max_log_arity,
        );
        let fri_shape = FriShape::with_schedule(&params, log_arities.clone(), log_lde_height);
        let mut fri_seed = SeedRecorder::default();
        fri_shape
            .domain_separator::<KoalaBear, OuterChallenge>()
            .seed(&mut fri_seed);

        Ok(Self {
            settings: *settings,
            degree_bits,
            main_width,
            num_public_values: air.num_public_values(),
            opens_next_row,
            log_num_quotient_chunks,
            log_arities,
            log_lde_height,
            stark_seed: stark_seed.0,
            pcs_seed: pcs_seed.0,
            fri_seed: fri_seed.0,
        })
    }

    pub fn num_quotient_chunks(&self) -> usize {
        1 << self.log_num_quotient_chunks
    }

    pub fn log_final_height(&self) -> usize {
        self.settings.log_blowup + self.settings.log_final_poly_len
    }

    /// The quotient chunk domains `(shift, log_size)` the verifier recomposes ζ's quotient over.
    pub fn quotient_chunk_domains(&self) -> Vec<(KoalaBear, usize)> {
        let trace = TwoAdicMultiplicativeCoset::new(KoalaBear::ONE, self.degree_bits)
            .expect("trace height checked against the two-adicity");
        trace
            .create_disjoint_domain(1 << (self.degree_bits + self.log_num_quotient_chunks))
            .split_domains(self.num_quotient_chunks())
            .into_iter()
            .map(|d| (d.first_point(), self.degree_bits))
            .collect()
    }
}

/// One opened row of an input commitment: the rows of its matrices at the (reduced) query
/// index and a full Merkle path.
#[derive(Clone, Debug)]
pub struct InputOpeningWitness {
    pub rows: Vec<Vec<KoalaBear>>,
    pub siblings: Vec<Fr>,
}

/// One FRI round of one query: the whole opened coset row (the folded value at its position
/// and the `arity - 1` values the proof sends) and its Merkle path.
#[derive(Clone, Debug)]
pub struct CommitRoundWitness {
    pub row: Vec<OuterChallenge>,
    pub siblings: Vec<Fr>,
}

#[derive(Clone, Debug)]
pub struct QueryWitness {
    /// One per input commitment, in claim order (trace, quotient).
    pub inputs: Vec<InputOpeningWitness>,
    pub rounds: Vec<CommitRoundWitness>,
}

/// The proof as the circuit's private witness.
#[derive(Clone, Debug)]
pub struct UniStarkWitness {
    pub trace_commitment: Fr,
    pub quotient_commitment: Fr,
    pub trace_local: Vec<OuterChallenge>,
    /// Empty when the AIR does not read the next row.
    pub trace_next: Vec<OuterChallenge>,
    pub quotient_chunks: Vec<Vec<OuterChallenge>>,
    pub ood_pow_witness: KoalaBear,
    pub batch_pow_witness: KoalaBear,
    pub commit_phase_commitments: Vec<Fr>,
    pub commit_pow_witnesses: Vec<KoalaBear>,
    pub final_poly: Vec<OuterChallenge>,
    pub query_pow_witness: KoalaBear,
    pub queries: Vec<QueryWitness>,
}

/// The challenges of a native replay of the transcript.
struct NativeChallenges {
    fri_alpha: OuterChallenge,
    zeta: OuterChallenge,
    betas: Vec<OuterChallenge>,
    indices: Vec<usize>,
}

fn root(commitment: &OuterCommitment) -> Fr {
    bn254_to_fr(commitment[0][0])
}

fn observe_ext(challenger: &mut OuterChallenger, value: &OuterChallenge) {
    for &c in BasedVectorSpace::<KoalaBear>::as_basis_coefficients_slice(value) {
        challenger.observe(c);
    }
}

fn sample_ext(challenger: &mut OuterChallenger) -> OuterChallenge {
    <OuterChallenge as BasedVectorSpace<KoalaBear>>::from_basis_coefficients_fn(|_| {
        CanSample::<KoalaBear>::sample(challenger)
    })
}

fn check_pow(
    challenger: &mut OuterChallenger,
    bits: usize,
    witness: KoalaBear,
    site: &str,
) -> Result<(), WitnessError> {
    if challenger.check_witness(bits, witness) {
        Ok(())
    } else {
        Err(WitnessError::Rejected(format!(
            "{site} proof-of-work witness"
        )))
    }
}

/// The transcript of `p3_uni_stark::verify` + `TwoAdicFriPcs::verify` + `verify_fri`, replayed on
/// the native challenger in exactly the order the circuit replays it.
fn replay_native(
    shape: &UniStarkShape,
    proof: &Proof<OuterConfig>,
    public_values: &[KoalaBear],
) -> Result<NativeChallenges, WitnessError> {
    let settings = &shape.settings;
    let fri = &proof.opening_proof;
    let opened = &proof.opened_values;
    let mut challenger =
        OuterChallenger::new(outer_perm()).map_err(|e| shape_error(format!("{e:?}")))?;
    for &v in &shape.stark_seed {
        challenger.observe(v);
    }
    challenger.observe(proof.commitments.trace.clone());
    for &v in public_values {
        challenger.observe(v);
    }
    let _alpha = sample_ext(&mut challenger);
    challenger.observe(proof.commitments.quotient_chunks.clone());
    check_pow(
        &mut challenger,
        settings.ood_pow_bits,
        proof.ood_pow_witness,
        "out-of-domain",
    )?;
    let zeta = sample_ext(&mut challenger);

    for &v in &shape.pcs_seed {
        challenger.observe(v);
    }
    for value in opened
        .trace_local
        .iter()
        .chain(opened.trace_next.iter().flatten())
    {
        observe_ext(&mut challenger, value);
    }
    for value in opened.quotient_chunks.iter().flatten() {
        observe_ext(&mut challenger, value);
    }
    check_pow(
        &mut challenger,
        settings.batch_pow_bits,
        fri.batch_pow_witness,
        "batching",
    )?;
    let fri_alpha = sample_ext(&mut challenger);

    for &v in &shape.fri_seed {
        challenger.observe(v);
    }
    let mut betas = Vec::new();
    for (commitment, &witness) in fri
        .commit_phase_commits
        .iter()
        .zip(&fri.commit_pow_witnesses)
    {
        challenger.observe(commitment.clone());
        check_pow(
            &mut challenger,
            settings.commit_pow_bits,
            witness,
            "commit-phase",
        )?;
        betas.push(sample_ext(&mut challenger));
    }
    for value in &fri.final_poly {
        observe_ext(&mut challenger, value);
    }
    check_pow(
        &mut challenger,
        settings.query_pow_bits,
        fri.query_pow_witness,
        "query",
    )?;
    let indices = (0..settings.num_queries)
        .map(|_| challenger.sample_bits(shape.log_lde_height))
        .collect();
    Ok(NativeChallenges {
        fri_alpha,
        zeta,
        betas,
        indices,
    })
}

fn check_proof_shape(
    shape: &UniStarkShape,
    proof: &Proof<OuterConfig>,
    public_values: &[KoalaBear],
) -> Result<(), WitnessError> {
    let opened = &proof.opened_values;
    let fri = &proof.opening_proof;
    let expect = |ok: bool, what: &str| if ok { Ok(()) } else { Err(shape_error(what)) };
    expect(
        proof.degree_bits == shape.degree_bits,
        "trace height differs from the circuit's",
    )?;
    expect(
        public_values.len() == shape.num_public_values,
        "public value count",
    )?;
    expect(
        proof.commitments.random.is_none() && opened.random.is_none(),
        "randomization (zero-knowledge) is not used by the outer config",
    )?;
    expect(
        opened.preprocessed.is_none(),
        "unexpected preprocessed opening",
    )?;
    expect(
        opened.trace_local.len() == shape.main_width,
        "trace_local width",
    )?;
    let next_ok = match &opened.trace_next {
        Some(next) => shape.opens_next_row && next.len() == shape.main_width,
        None => !shape.opens_next_row,
    };
    expect(next_ok, "trace_next presence or width")?;
    expect(
        opened.quotient_chunks.len() == shape.num_quotient_chunks()
            && opened.quotient_chunks.iter().all(|c| c.len() == 4),
        "quotient chunk count or width",
    )?;
    let rounds = shape.log_arities.len();
    expect(
        fri.commit_phase_commits.len() == rounds
            && fri.commit_pow_witnesses.len() == rounds
            && fri.commit_phase_openings.len() == rounds,
        "FRI round count",
    )?;
    expect(
        fri.final_poly.len() == 1 << shape.settings.log_final_poly_len,
        "final polynomial length",
    )?;
    expect(fri.input_openings.len() == 2, "input commitment count")?;
    for commitment in [&proof.commitments.trace, &proof.commitments.quotient_chunks]
        .into_iter()
        .chain(&fri.commit_phase_commits)
    {
        expect(commitment.num_roots() == 1, "Merkle cap height")?;
    }
    Ok(())
}

/// The circuit shape and witness for `proof` of `air` with `public_values`, proven under the
/// outer config built from `settings` (`zkmips_prover::outer::outer_config_with(settings)`).
pub fn extract_uni_stark<A>(
    settings: &FriSettings,
    air: &A,
    proof: &Proof<OuterConfig>,
    public_values: &[KoalaBear],
) -> Result<(UniStarkShape, UniStarkWitness), WitnessError>
where
    A: BaseAir<KoalaBear> + Air<SymbolicAirBuilder<KoalaBear>>,
{
    let shape = UniStarkShape::new(settings, air, proof.degree_bits)?;
    check_proof_shape(&shape, proof, public_values)?;
    let challenges = replay_native(&shape, proof, public_values)?;
    let opened = &proof.opened_values;
    let fri = &proof.opening_proof;

    // The claims exactly as `p3_uni_stark::verify` hands them to the PCS.
    let trace_domain = TwoAdicMultiplicativeCoset::new(KoalaBear::ONE, shape.degree_bits)
        .ok_or_else(|| shape_error("trace height"))?;
    let zeta = challenges.zeta;
    let zeta_next = zeta * KoalaBear::two_adic_generator(shape.degree_bits);
    let mut trace_points = vec![(zeta, opened.trace_local.clone())];
    if let Some(next) = &opened.trace_next {
        trace_points.push((zeta_next, next.clone()));
    }
    let claims: Vec<CommitmentOpening<OuterChallenge, OuterCommitment, _>> = vec![
        (
            proof.commitments.trace.clone(),
            vec![(trace_domain, trace_points)],
        )
            .into(),
        (
            proof.commitments.quotient_chunks.clone(),
            opened
                .quotient_chunks
                .iter()
                .map(|chunk| (trace_domain, vec![(zeta, chunk.clone())]))
                .collect::<Vec<_>>(),
        )
            .into(),
    ];

    let val_mmcs = outer_val_mmcs(&outer_perm());
    let log_lde = shape.log_lde_height;
    let FoldedQueries {
        group_indices,
        rows_by_round,
    } = fold_queries(
        settings,
        log_lde,
        &shape.log_arities,
        shape.log_final_height(),
        &challenges.indices,
        challenges.fri_alpha,
        &challenges.betas,
        fri,
        &val_mmcs,
        &claims,
    )?;
    let rounds = shape.log_arities.len();

    // Full Merkle paths per query.
    let lde_height = 1usize << log_lde;
    let mut input_paths = Vec::new();
    for (batch, widths) in [vec![shape.main_width], vec![4; shape.num_quotient_chunks()]]
        .iter()
        .enumerate()
    {
        let dims: Vec<Dimensions> = widths
            .iter()
            .map(|&width| Dimensions {
                width,
                height: lde_height,
            })
            .collect();
        let opening = &fri.input_openings[batch];
        let paths = val_mmcs
            .restore_and_recompute_paths(
                &dims,
                &challenges.indices,
                &opening.opened_values,
                &opening.opening_proof,
            )
            .map_err(|e| WitnessError::Rejected(format!("input Merkle paths: {e:?}")))?;
        input_paths.push(paths);
    }
    let round_paths = commit_phase_paths(
        &val_mmcs,
        log_lde,
        &shape.log_arities,
        &rows_by_round,
        &group_indices,
        fri,
    )?;

    let siblings_of = |path: &p3_merkle_tree::MerkleAuthPath<Bn254, 1>| -> Vec<Fr> {
        path.siblings.iter().map(|d| bn254_to_fr(d[0])).collect()
    };
    let queries = (0..settings.num_queries)
        .map(|q| QueryWitness {
            inputs: (0..2)
                .map(|batch| InputOpeningWitness {
                    rows: fri.input_openings[batch].opened_values[q].clone(),
                    siblings: siblings_of(&input_paths[batch][q]),
                })
                .collect(),
            rounds: (0..rounds)
                .map(|round| CommitRoundWitness {
                    row: rows_by_round[round][q][0].clone(),
                    siblings: siblings_of(&round_paths[round][q]),
                })
                .collect(),
        })
        .collect();

    let witness = UniStarkWitness {
        trace_commitment: root(&proof.commitments.trace),
        quotient_commitment: root(&proof.commitments.quotient_chunks),
        trace_local: opened.trace_local.clone(),
        trace_next: opened.trace_next.clone().unwrap_or_default(),
        quotient_chunks: opened.quotient_chunks.clone(),
        ood_pow_witness: proof.ood_pow_witness,
        batch_pow_witness: fri.batch_pow_witness,
        commit_phase_commitments: fri.commit_phase_commits.iter().map(root).collect(),
        commit_pow_witnesses: fri.commit_pow_witnesses.clone(),
        final_poly: fri.final_poly.clone(),
        query_pow_witness: fri.query_pow_witness,
        queries,
    };
    Ok((shape, witness))
}

/// Per FRI round, every query's opened coset row and its index (what [`commit_phase_paths`]
/// needs), from the query phase replayed natively: the claims reduced at each query index
/// (`open_inputs`), folded through every round, and the final polynomial checked at the query's
/// point.
pub(crate) struct FoldedQueries {
    pub(crate) group_indices: Vec<Vec<usize>>,
    pub(crate) rows_by_round: Vec<Vec<Vec<Vec<OuterChallenge>>>>,
}

/// See [`FoldedQueries`]; `claims` in the order the PCS verifier takes them.
#[allow(clippy::too_many_arguments)]
pub(crate) fn fold_queries(
    settings: &FriSettings,
    log_lde: usize,
    log_arities: &[usize],
    log_final_height: usize,
    indices: &[usize],
    fri_alpha: OuterChallenge,
    betas: &[OuterChallenge],
    fri: &p3_batch_stark::PcsProof<OuterConfig>,
    val_mmcs: &OuterValMmcs,
    claims: &[CommitmentOpening<
        OuterChallenge,
        OuterCommitment,
        TwoAdicMultiplicativeCoset<KoalaBear>,
    >],
) -> Result<FoldedQueries, WitnessError> {
    let params = settings.fri_parameters(OuterChallengeMmcs::new(val_mmcs.clone()));
    let reduced = open_inputs(
        &params,
        log_lde,
        indices,
        &fri.input_openings,
        fri_alpha,
        val_mmcs,
        claims,
    )
    .map_err(|e| WitnessError::Rejected(format!("input openings: {e:?}")))?;
    let rounds = log_arities.len();
    let folding = TwoAdicFriFolding::<(), ()>(PhantomData);
    let mut group_indices: Vec<Vec<usize>> = vec![Vec::new(); rounds];
    let mut rows_by_round: Vec<Vec<Vec<Vec<OuterChallenge>>>> = vec![Vec::new(); rounds];
    for (query, (&index, ro)) in indices.iter().zip(reduced).enumerate() {
        let mut domain_index = index;
        let folded = fold_query::<_, KoalaBear, OuterChallenge, OuterChallengeMmcs>(
            &folding,
            query,
            &mut domain_index,
            betas,
            log_arities,
            &fri.commit_phase_openings,
            ro,
            log_lde,
            log_final_height,
            &mut group_indices,
            &mut rows_by_round,
        )
        .map_err(|e| WitnessError::Rejected(format!("folding: {e:?}")))?;
        let x = KoalaBear::two_adic_generator(log_lde)
            .exp_u64(p3_util::reverse_bits_len(domain_index, log_lde) as u64);
        let mut eval = OuterChallenge::ZERO;
        for &c in fri.final_poly.iter().rev() {
            eval = eval * x + c;
        }
        if eval != folded {
            return Err(WitnessError::Rejected("final polynomial evaluation".into()));
        }
    }
    Ok(FoldedQueries {
        group_indices,
        rows_by_round,
    })
}

/// Per commit-phase round, the full Merkle path of every query's folded row (the proof carries
/// them pruned), recomputed from the rows the native folding visited.
pub(crate) fn commit_phase_paths(
    val_mmcs: &OuterValMmcs,
    log_lde: usize,
    log_arities: &[usize],
    rows_by_round: &[Vec<Vec<Vec<OuterChallenge>>>],
    group_indices: &[Vec<usize>],
    fri: &p3_batch_stark::PcsProof<OuterConfig>,
) -> Result<Vec<Vec<p3_merkle_tree::MerkleAuthPath<Bn254, 1>>>, WitnessError> {
    let mut round_paths = Vec::new();
    let mut log_height = log_lde;
    for (round, &log_arity) in log_arities.iter().enumerate() {
        log_height -= log_arity;
        let dims = [Dimensions {
            width: <OuterChallenge as BasedVectorSpace<KoalaBear>>::DIMENSION << log_arity,
            height: 1 << log_height,
        }];
        let flat_rows: Vec<Vec<Vec<KoalaBear>>> = rows_by_round[round]
            .iter()
            .map(|rows| {
                rows.iter()
                    .map(|row| {
                        row.iter()
                            .flat_map(|e| {
                                BasedVectorSpace::<KoalaBear>::as_basis_coefficients_slice(e)
                                    .to_vec()
                            })
                            .collect()
                    })
                    .collect()
            })
            .collect();
        let paths = val_mmcs
            .restore_and_recompute_paths(
                &dims,
                &group_indices[round],
                &flat_rows,
                &fri.commit_phase_openings[round].opening_proof,
            )
            .map_err(|e| WitnessError::Rejected(format!("FRI round {round} paths: {e:?}")))?;
        round_paths.push(paths);
    }
    Ok(round_paths)
}
