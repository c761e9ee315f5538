//! The batch-STARK verifier circuit: `p3_batch_stark::verify_batch` (p3 0.8) under the outer
//! config, for several AIRs of different heights with preprocessed traces and LogUp buses
//! (`p3-lookup`), as an arkworks `ConstraintSynthesizer`.
//!
//! Mirrored function by function (see docs/WRAPPER.md §4b):
//! - the shape (`BatchShape` seed, per-instance widths, quotient chunk counts, the bus layout of
//!   the lookup challenges, the preprocessed commitment) comes from the AIRs and the heights the
//!   circuit is built for, never from the proof — as the native verifier derives it;
//! - the transcript of `BatchVerifierTranscript`: degree bits, main commitment, public values,
//!   preprocessed commitment, lookup PoW and the pair (α_L, β_L), permutation commitment and
//!   terminals, the folding α, quotient commitment, OOD PoW, ζ — then the opening argument
//!   (`pcs::verify_pcs`, on the same sponge);
//! - per instance the OOD check over its own symbolic constraints, base and LogUp (extension)
//!   constraints folded in their global emission order (`air::fold_mixed_constraints`);
//! - the LogUp terminal sum over all instances is zero.

use ark_r1cs_std::alloc::AllocVar;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::FieldVar;
use ark_r1cs_std::fields::fp::FpVar;
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};
use p3_air::{Air, BaseAir};
use p3_batch_stark::folder::VerifierConstraintFolderWithLookups;
use p3_batch_stark::{BatchProof, ProverData, verify_batch};
use p3_challenger::{CanObserve, CanSample, CanSampleBits, GrindingChallenger};
use p3_field::{BasedVectorSpace, PrimeCharacteristicRing, TwoAdicField};
use p3_koala_bear::KoalaBear;
use p3_lookup::InteractionSymbolicBuilder;
use p3_matrix::Dimensions;
use zkmips_prover::batch::{FixedTables, NamedAir};
use zkmips_prover::config::FriSettings;
use zkmips_prover::outer::{
    OuterChallenge, OuterChallenger, OuterConfig, outer_config_with, outer_perm, outer_val_mmcs,
};
use zkmips_prover::proof_shape::{
    BatchProofShape, EXT_DEGREE, InstanceShape, MatrixKind, OpenedInstance,
};

use super::circuit::{
    ConstraintBreakdown, Meter, PUBLIC_VALUES_PER_INPUT, base_witness, ext_witnesses,
    pack_public_values,
};
use super::pcs::{BatchClaimVar, MatrixClaimVar, PcsShapeVar, check_pow, observe_seed, verify_pcs};
use super::witness::{
    CommitRoundWitness, InputOpeningWitness, OuterCommitment, QueryWitness, WitnessError,
};
use crate::Fr;
use crate::air::{
    LookupRowsVar, OpenedRowsVar, ZetaPowers, enforce_ood_check, fold_mixed_constraints,
    recompose_quotient, selectors_at_point,
};
use crate::challenger::ChallengerVar;
use crate::convert::bn254_to_fr;
use crate::koalabear::{KbExtVar, KbVar, KoalaBearExt};

fn shape_error(message: impl Into<String>) -> WitnessError {
    WitnessError::Shape(message.into())
}

fn root(commitment: &OuterCommitment) -> Fr {
    bn254_to_fr(commitment[0][0])
}

/// Everything about a batch-STARK proof the circuit is built for that is not witness: fixed per
/// (AIRs, trace heights, FRI settings), i.e. per Groth16 circuit. The shape common to every
/// verifier ([`BatchProofShape`]) plus the preprocessed commitment under the outer config.
#[derive(Clone, Debug)]
pub struct BatchStarkShape {
    pub proof: BatchProofShape,
    /// The global preprocessed commitment, derived from the AIRs as the native verifier's
    /// `CommonData` does: a circuit constant.
    pub preprocessed_commitment: Option<Fr>,
}

impl std::ops::Deref for BatchStarkShape {
    type Target = BatchProofShape;

    fn deref(&self) -> &BatchProofShape {
        &self.proof
    }
}

/// The AIR bounds of the native batch verifier under the outer config.
pub trait OuterBatchAir:
    BaseAir<KoalaBear>
    + Air<InteractionSymbolicBuilder<KoalaBear, OuterChallenge>>
    + for<'a> Air<VerifierConstraintFolderWithLookups<'a, OuterConfig>>
{
}

impl<A> OuterBatchAir for A where
    A: BaseAir<KoalaBear>
        + Air<InteractionSymbolicBuilder<KoalaBear, OuterChallenge>>
        + for<'a> Air<VerifierConstraintFolderWithLookups<'a, OuterConfig>>
{
}

/// The lookups and preprocessed data of `airs` at these heights, as the native verifier's
/// `CommonData` (p3's own `ProverData::from_airs_and_degrees`).
fn common_data<A: OuterBatchAir>(
    settings: &FriSettings,
    airs: &[A],
    degree_bits: &[usize],
) -> Result<p3_batch_stark::CommonData<OuterConfig>, WitnessError> {
    let config = outer_config_with(settings);
    ProverData::from_airs_and_degrees(&config, airs, degree_bits)
        .map(|data| data.common)
        .map_err(|e| shape_error(format!("preprocessed commitment: {e}")))
}

impl BatchStarkShape {
    /// The shape of a batch proof of `airs` with traces of `2^degree_bits[i]` rows.
    pub fn new<A: OuterBatchAir>(
        settings: &FriSettings,
        airs: &[A],
        degree_bits: &[usize],
    ) -> Result<Self, WitnessError> {
        let common = common_data(settings, airs, degree_bits)?;
        Self::from_common(settings, airs, degree_bits, &common)
    }

    /// The shape of a batch proof of `airs` made with `fixed` (their fixed tables committed
    /// under `outer_config_with(settings)`): the preprocessed commitment is taken from `fixed`,
    /// not committed again (`fixed` is checked to be these chips').
    pub fn from_fixed<A: OuterBatchAir + NamedAir>(
        settings: &FriSettings,
        airs: &[A],
        fixed: &FixedTables<OuterConfig>,
    ) -> Result<Self, WitnessError> {
        fixed
            .check_chips(airs)
            .map_err(|e| shape_error(e.to_string()))?;
        Self::from_common(settings, airs, &fixed.degree_bits(), fixed.common())
    }

    fn from_common<A: OuterBatchAir>(
        settings: &FriSettings,
        airs: &[A],
        degree_bits: &[usize],
        common: &p3_batch_stark::CommonData<OuterConfig>,
    ) -> Result<Self, WitnessError> {
        let proof = BatchProofShape::from_common(settings, airs, degree_bits, common)
            .map_err(|e| shape_error(e.0))?;
        let preprocessed_commitment = match &common.preprocessed {
            Some(global) => {
                if global.commitment.num_roots() != 1 {
                    return Err(shape_error("Merkle cap height"));
                }
                Some(root(&global.commitment))
            }
            None => None,
        };
        Ok(Self {
            proof,
            preprocessed_commitment,
        })
    }
}

/// One instance's opened values and lookup terminal.
pub type BatchInstanceWitness = OpenedInstance;

/// A batch proof as the circuit's private witness.
#[derive(Clone, Debug)]
pub struct BatchStarkWitness {
    pub main_commitment: Fr,
    pub permutation_commitment: Option<Fr>,
    pub quotient_commitment: Fr,
    pub instances: Vec<BatchInstanceWitness>,
    pub lookup_pow_witness: Option<KoalaBear>,
    pub ood_pow_witness: KoalaBear,
    pub batch_pow_witness: KoalaBear,
    pub commit_phase_commitments: Vec<Fr>,
    pub commit_pow_witnesses: Vec<KoalaBear>,
    pub final_poly: Vec<OuterChallenge>,
    pub query_pow_witness: KoalaBear,
    /// Per query, one input opening per commitment in claim order.
    pub queries: Vec<QueryWitness>,
}

impl BatchStarkWitness {
    /// A witness of the right dimensions for `shape` whose values are all zero: what key
    /// generation synthesizes (setup mode never reads witness values), so keys do not need a
    /// proof. It does not satisfy the circuit.
    pub fn blank(shape: &BatchStarkShape) -> Self {
        let ext = |n: usize| vec![OuterChallenge::ZERO; n];
        let settings = &shape.settings;
        let instances = shape
            .instances
            .iter()
            .map(|s| {
                let perm = s.permutation_width() * EXT_DEGREE;
                BatchInstanceWitness {
                    trace_local: ext(s.main_width),
                    trace_next: ext(if s.opens_main_next { s.main_width } else { 0 }),
                    preprocessed_local: ext(s.preprocessed_width),
                    preprocessed_next: ext(if s.opens_preprocessed_next {
                        s.preprocessed_width
                    } else {
                        0
                    }),
                    permutation_local: ext(perm),
                    permutation_next: ext(perm),
                    quotient_chunks: vec![ext(EXT_DEGREE); s.num_quotient_chunks()],
                    terminal: (s.num_lookups() > 0).then_some(OuterChallenge::ZERO),
                }
            })
            .collect();
        let layout = shape.claim_layout();
        let query = QueryWitness {
            inputs: layout
                .iter()
                .map(|matrices| InputOpeningWitness {
                    rows: matrices
                        .iter()
                        .map(|m| vec![KoalaBear::ZERO; m.width])
                        .collect(),
                    siblings: vec![
                        Fr::from(0u64);
                        matrices.iter().map(|m| m.log_lde_height).max().unwrap_or(0)
                    ],
                })
                .collect(),
            rounds: {
                let mut log_height = shape.log_lde_height;
                shape
                    .log_arities
                    .iter()
                    .map(|&log_arity| {
                        log_height -= log_arity;
                        CommitRoundWitness {
                            row: ext(1 << log_arity),
                            siblings: vec![Fr::from(0u64); log_height],
                        }
                    })
                    .collect()
            },
        };
        let rounds = shape.log_arities.len();
        Self {
            main_commitment: Fr::from(0u64),
            permutation_commitment: shape.has_lookups().then(|| Fr::from(0u64)),
            quotient_commitment: Fr::from(0u64),
            instances,
            lookup_pow_witness: shape.has_lookups().then_some(KoalaBear::ZERO),
            ood_pow_witness: KoalaBear::ZERO,
            batch_pow_witness: KoalaBear::ZERO,
            commit_phase_commitments: vec![Fr::from(0u64); rounds],
            commit_pow_witnesses: vec![KoalaBear::ZERO; rounds],
            final_poly: ext(1 << settings.log_final_poly_len),
            query_pow_witness: KoalaBear::ZERO,
            queries: vec![query; settings.num_queries],
        }
    }
}

fn observe_ext_native(challenger: &mut OuterChallenger, value: &OuterChallenge) {
    for &c in BasedVectorSpace::<KoalaBear>::as_basis_coefficients_slice(value) {
        challenger.observe(c);
    }
}

fn sample_ext_native(challenger: &mut OuterChallenger) -> OuterChallenge {
    <OuterChallenge as BasedVectorSpace<KoalaBear>>::from_basis_coefficients_fn(|_| {
        CanSample::<KoalaBear>::sample(challenger)
    })
}

struct PcsChallenges {
    fri_alpha: OuterChallenge,
    betas: Vec<OuterChallenge>,
    indices: Vec<usize>,
}

fn pow_ok(challenger: &mut OuterChallenger, bits: usize, witness: KoalaBear) -> bool {
    if bits == 0 {
        witness == KoalaBear::ZERO
    } else {
        challenger.check_witness(bits, witness)
    }
}

/// The PCS + FRI transcript replayed natively (the circuit replays the same order).
fn replay_pcs_native(
    challenger: &mut OuterChallenger,
    shape: &BatchStarkShape,
    claimed: &[OuterChallenge],
    fri: &p3_batch_stark::PcsProof<OuterConfig>,
) -> Result<PcsChallenges, WitnessError> {
    let settings = &shape.settings;
    let reject = |site: &str| WitnessError::Rejected(format!("{site} proof-of-work witness"));
    for &v in &shape.pcs_seed {
        challenger.observe(v);
    }
    for value in claimed {
        observe_ext_native(challenger, value);
    }
    if !pow_ok(challenger, settings.batch_pow_bits, fri.batch_pow_witness) {
        return Err(reject("batching"));
    }
    let fri_alpha = sample_ext_native(challenger);
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
        if !pow_ok(challenger, settings.commit_pow_bits, witness) {
            return Err(reject("commit-phase"));
        }
        betas.push(sample_ext_native(challenger));
    }
    for value in &fri.final_poly {
        observe_ext_native(challenger, value);
    }
    if !pow_ok(challenger, settings.query_pow_bits, fri.query_pow_witness) {
        return Err(reject("query"));
    }
    let indices = (0..settings.num_queries)
        .map(|_| challenger.sample_bits(shape.log_lde_height))
        .collect();
    Ok(PcsChallenges {
        fri_alpha,
        betas,
        indices,
    })
}

/// The circuit shape and witness for `proof` of `airs` with `public_values`, proven under
/// `outer_config_with(settings)`. The proof must pass p3's own `verify_batch` first.
pub fn extract_batch_stark<A: OuterBatchAir>(
    settings: &FriSettings,
    airs: &[A],
    proof: &BatchProof<OuterConfig>,
    public_values: &[Vec<KoalaBear>],
) -> Result<(BatchStarkShape, BatchStarkWitness), WitnessError> {
    if proof.degree_bits.len() != airs.len() {
        return Err(shape_error("instance count"));
    }
    let common = common_data(settings, airs, &proof.degree_bits)?;
    extract_with_common(settings, airs, &common, proof, public_values)
}

/// [`extract_batch_stark`] for a proof made with `fixed` (the fixed tables of `airs` committed
/// under `outer_config_with(settings)`), whose commitment and bus layout are used instead of
/// being derived again; `fixed` is checked to be these chips' at the proof's heights.
pub fn extract_batch_stark_with_fixed<A: OuterBatchAir + NamedAir>(
    settings: &FriSettings,
    airs: &[A],
    fixed: &FixedTables<OuterConfig>,
    proof: &BatchProof<OuterConfig>,
    public_values: &[Vec<KoalaBear>],
) -> Result<(BatchStarkShape, BatchStarkWitness), WitnessError> {
    // The commitment in `fixed` becomes a circuit constant: it must be these chips'.
    fixed
        .check_chips(airs)
        .map_err(|e| shape_error(e.to_string()))?;
    if proof.degree_bits != fixed.degree_bits() {
        return Err(shape_error(format!(
            "the proof's heights 2^{:?} are not the fixed tables' 2^{:?}",
            proof.degree_bits,
            fixed.degree_bits()
        )));
    }
    extract_with_common(settings, airs, fixed.common(), proof, public_values)
}

/// [`extract_batch_stark`] with the lookups and preprocessed commitment of `airs` at the
/// proof's heights already derived (`common`).
fn extract_with_common<A: OuterBatchAir>(
    settings: &FriSettings,
    airs: &[A],
    common: &p3_batch_stark::CommonData<OuterConfig>,
    proof: &BatchProof<OuterConfig>,
    public_values: &[Vec<KoalaBear>],
) -> Result<(BatchStarkShape, BatchStarkWitness), WitnessError> {
    let config = outer_config_with(settings);
    let degree_bits = proof.degree_bits.clone();
    if degree_bits.len() != airs.len() || public_values.len() != airs.len() {
        return Err(shape_error("instance count"));
    }
    let shape = BatchStarkShape::from_common(settings, airs, &degree_bits, common)?;
    verify_batch(&config, airs, proof, public_values, common)
        .map_err(|e| WitnessError::Rejected(format!("{e:?}")))?;
    let fri = &proof.opening_proof;
    if proof.commitments.random.is_some() {
        return Err(shape_error("randomization commitment"));
    }
    for commitment in [&proof.commitments.main, &proof.commitments.quotient_chunks]
        .into_iter()
        .chain(&proof.commitments.permutation)
        .chain(&fri.commit_phase_commits)
    {
        if commitment.num_roots() != 1 {
            return Err(shape_error("Merkle cap height"));
        }
    }
    if fri.commit_phase_commits.len() != shape.log_arities.len() {
        return Err(shape_error("FRI round count"));
    }

    // The transcript, replayed on p3's own BatchVerifierTranscript (then the PCS order).
    let mut challenger =
        OuterChallenger::new(outer_perm()).map_err(|e| shape_error(format!("{e:?}")))?;
    let (claims, pcs) = shape
        .replay_to_opening(
            &config,
            airs,
            common,
            proof,
            public_values,
            &mut challenger,
            |challenger, claims| {
                let claimed: Vec<OuterChallenge> = claims
                    .iter()
                    .flat_map(|c| c.matrices.iter())
                    .flat_map(|m| m.points.iter())
                    .flat_map(|p| p.values.iter().copied())
                    .collect();
                (
                    claims.clone(),
                    replay_pcs_native(challenger, &shape, &claimed, fri),
                )
            },
        )
        .map_err(|e| WitnessError::Rejected(e.0))?;
    let pcs = pcs?;

    // The claim structure must be the one the shape predicts.
    let layout = shape.claim_layout();
    let layout_ok = layout.len() == claims.len()
        && layout.iter().zip(&claims).all(|(matrices, claim)| {
            matrices.len() == claim.matrices.len()
                && matrices.iter().zip(&claim.matrices).all(|(m, c)| {
                    c.points.len() == if m.opens_next { 2 } else { 1 }
                        && c.points.iter().all(|p| p.values.len() == m.width)
                        && c.domain.log_size() + settings.log_blowup == m.log_lde_height
                })
        });
    if !layout_ok || fri.input_openings.len() != claims.len() {
        return Err(shape_error("opening claims differ from the circuit shape"));
    }

    let val_mmcs = outer_val_mmcs(&outer_perm());
    let log_lde = shape.log_lde_height;
    let super::witness::FoldedQueries {
        group_indices,
        rows_by_round,
    } = super::witness::fold_queries(
        settings,
        log_lde,
        &shape.log_arities,
        shape.log_final_height(),
        &pcs.indices,
        pcs.fri_alpha,
        &pcs.betas,
        fri,
        &val_mmcs,
        &claims,
    )?;
    let rounds = shape.log_arities.len();

    // Full Merkle paths per query and commitment.
    let mut input_paths = Vec::new();
    for (batch, matrices) in layout.iter().enumerate() {
        let dims: Vec<Dimensions> = matrices
            .iter()
            .map(|m| Dimensions {
                width: m.width,
                height: 1 << m.log_lde_height,
            })
            .collect();
        let opening = &fri.input_openings[batch];
        let max_log = matrices.iter().map(|m| m.log_lde_height).max().unwrap_or(0);
        let batch_indices: Vec<usize> = pcs
            .indices
            .iter()
            .map(|&i| i >> (log_lde - max_log))
            .collect();
        let paths = val_mmcs
            .restore_and_recompute_paths(
                &dims,
                &batch_indices,
                &opening.opened_values,
                &opening.opening_proof,
            )
            .map_err(|e| WitnessError::Rejected(format!("input Merkle paths: {e:?}")))?;
        input_paths.push(paths);
    }
    let round_paths = super::witness::commit_phase_paths(
        &val_mmcs,
        log_lde,
        &shape.log_arities,
        &rows_by_round,
        &group_indices,
        fri,
    )?;
    let siblings_of = |path: &p3_merkle_tree::MerkleAuthPath<p3_bn254::Bn254, 1>| -> Vec<Fr> {
        path.siblings.iter().map(|d| bn254_to_fr(d[0])).collect()
    };
    let queries = (0..settings.num_queries)
        .map(|q| QueryWitness {
            inputs: (0..layout.len())
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

    let instances = OpenedInstance::all_of(proof);
    let witness = BatchStarkWitness {
        main_commitment: root(&proof.commitments.main),
        permutation_commitment: proof.commitments.permutation.as_ref().map(root),
        quotient_commitment: root(&proof.commitments.quotient_chunks),
        instances,
        lookup_pow_witness: proof.lookup_pow_witness,
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

/// One instance's opened values, allocated.
struct InstanceVars {
    trace_local: Vec<KbExtVar>,
    trace_next: Vec<KbExtVar>,
    preprocessed_local: Vec<KbExtVar>,
    preprocessed_next: Vec<KbExtVar>,
    permutation_local: Vec<KbExtVar>,
    permutation_next: Vec<KbExtVar>,
    quotient_chunks: Vec<Vec<KbExtVar>>,
    terminal: Option<KbExtVar>,
}

/// The extension columns of a base-flattened permutation row: column `j` is
/// `Σ_k row[4j + k] · X^k` (p3's `from_ext_basis_coefficients` on the opened values).
fn recompose_ext_columns(flat: &[KbExtVar]) -> Result<Vec<KbExtVar>, SynthesisError> {
    flat.chunks(EXT_DEGREE)
        .map(|chunk| {
            let mut value = KbExtVar::constant(KoalaBearExt::ZERO);
            for (k, coefficient) in chunk.iter().enumerate() {
                value = value.add(&coefficient.mul_by_monomial(k)?)?;
            }
            Ok(value)
        })
        .collect()
}

fn instance_shape_ok(s: &InstanceShape, v: &InstanceVars) -> bool {
    let perm = s.permutation_width() * EXT_DEGREE;
    v.trace_local.len() == s.main_width
        && v.trace_next.len() == if s.opens_main_next { s.main_width } else { 0 }
        && v.preprocessed_local.len() == s.preprocessed_width
        && v.preprocessed_next.len()
            == if s.opens_preprocessed_next {
                s.preprocessed_width
            } else {
                0
            }
        && v.permutation_local.len() == perm
        && v.permutation_next.len() == perm
        && v.quotient_chunks.len() == s.num_quotient_chunks()
        && v.quotient_chunks.iter().all(|c| c.len() == EXT_DEGREE)
        && v.terminal.is_some() == (s.num_lookups() > 0)
}

/// Enforces, in `cs`, that `witness` is a batch proof of the AIRs whose shape is given, with
/// all instances' `public_values` (concatenated in instance order) exposed as packed public
/// inputs ([`pack_public_values`]). Mirrors `p3_batch_stark::verify_batch` (not
/// zero-knowledge) with `TwoAdicFriPcs::verify` as its opening argument.
pub fn synthesize_batch_stark(
    cs: &ConstraintSystemRef<Fr>,
    shape: &BatchStarkShape,
    public_values: &[Vec<KoalaBear>],
    witness: &BatchStarkWitness,
) -> Result<ConstraintBreakdown, SynthesisError> {
    if public_values.len() != shape.instances.len() {
        return Err(SynthesisError::Unsatisfiable);
    }
    let start = cs.num_constraints();
    // Public values: canonical witnesses bound to the packed public inputs.
    let flat_public: Vec<KoalaBear> = public_values.iter().flatten().copied().collect();
    let public_flat_vars = flat_public
        .iter()
        .map(|&v| base_witness(cs, v))
        .collect::<Result<Vec<_>, _>>()?;
    for (chunk, packed) in public_flat_vars
        .chunks(PUBLIC_VALUES_PER_INPUT)
        .zip(pack_public_values(&flat_public))
    {
        let input = FpVar::new_input(cs.clone(), || Ok(packed))?;
        let mut sum = FpVar::zero();
        let mut weight = Fr::from(1u64);
        for value in chunk {
            sum += value.fp() * weight;
            weight *= Fr::from(1u64 << 31);
        }
        sum.enforce_equal(&input)?;
    }
    let mut public = Vec::with_capacity(public_values.len());
    let mut rest = public_flat_vars.as_slice();
    for values in public_values {
        let (head, tail) = rest.split_at(values.len());
        public.push(head.to_vec());
        rest = tail;
    }
    let preprocessed_commitment = shape.preprocessed_commitment.map(FpVar::constant);
    let packing = cs.num_constraints() - start;
    let mut breakdown =
        synthesize_batch_stark_with(cs, shape, &public, preprocessed_commitment, witness)?;
    breakdown.parts.insert(
        0,
        (
            "public values: range checks and packed public inputs",
            packing,
        ),
    );
    Ok(breakdown)
}

/// [`synthesize_batch_stark`] for a caller that allocates the public values itself (and
/// decides what to expose of them) and supplies the preprocessed commitment as a variable — a
/// witness when one circuit serves every program whose fixed tables have this shape. The
/// commitment must be present exactly when the shape has preprocessed matrices.
pub fn synthesize_batch_stark_with(
    cs: &ConstraintSystemRef<Fr>,
    shape: &BatchStarkShape,
    public: &[Vec<KbVar>],
    preprocessed_commitment: Option<FpVar<Fr>>,
    witness: &BatchStarkWitness,
) -> Result<ConstraintBreakdown, SynthesisError> {
    let settings = &shape.settings;
    let mut meter = Meter::new(cs);
    let n = shape.instances.len();
    if public.len() != n
        || witness.instances.len() != n
        || shape
            .instances
            .iter()
            .zip(public)
            .any(|(s, p)| s.num_public_values != p.len())
        || witness.permutation_commitment.is_some() != shape.has_lookups()
        || witness.lookup_pow_witness.is_some() != shape.has_lookups()
        || preprocessed_commitment.is_some() != shape.preprocessed_commitment.is_some()
    {
        return Err(SynthesisError::Unsatisfiable);
    }

    // The proof.
    let main_commitment = FpVar::new_witness(cs.clone(), || Ok(witness.main_commitment))?;
    let permutation_commitment = witness
        .permutation_commitment
        .map(|c| FpVar::new_witness(cs.clone(), || Ok(c)))
        .transpose()?;
    let quotient_commitment = FpVar::new_witness(cs.clone(), || Ok(witness.quotient_commitment))?;
    let instances = witness
        .instances
        .iter()
        .map(|w| {
            Ok(InstanceVars {
                trace_local: ext_witnesses(cs, &w.trace_local)?,
                trace_next: ext_witnesses(cs, &w.trace_next)?,
                preprocessed_local: ext_witnesses(cs, &w.preprocessed_local)?,
                preprocessed_next: ext_witnesses(cs, &w.preprocessed_next)?,
                permutation_local: ext_witnesses(cs, &w.permutation_local)?,
                permutation_next: ext_witnesses(cs, &w.permutation_next)?,
                quotient_chunks: w
                    .quotient_chunks
                    .iter()
                    .map(|c| ext_witnesses(cs, c))
                    .collect::<Result<_, _>>()?,
                terminal: w
                    .terminal
                    .map(|t| KbExtVar::new_witness(cs.clone(), || Ok(t)))
                    .transpose()?,
            })
        })
        .collect::<Result<Vec<_>, SynthesisError>>()?;
    if shape
        .instances
        .iter()
        .zip(&instances)
        .any(|(s, v)| !instance_shape_ok(s, v))
    {
        return Err(SynthesisError::Unsatisfiable);
    }
    let lookup_pow_witness = witness
        .lookup_pow_witness
        .map(|w| base_witness(cs, w))
        .transpose()?;
    let ood_pow_witness = base_witness(cs, witness.ood_pow_witness)?;
    let fri_proof = super::circuit::fri_proof_witness(
        cs,
        witness.batch_pow_witness,
        &witness.commit_phase_commitments,
        &witness.commit_pow_witnesses,
        &witness.final_poly,
        witness.query_pow_witness,
        &witness.queries,
    )?;
    meter.mark("proof witness allocation: range checks of every opened value and PoW witness");

    // The batch-STARK transcript (BatchVerifierTranscript).
    let mut challenger = ChallengerVar::new(cs.clone());
    observe_seed(&mut challenger, &shape.batch_seed)?;
    for s in &shape.instances {
        // Degree bits as an extension element: (bits, 0, 0, 0).
        observe_seed(
            &mut challenger,
            &[
                KoalaBear::from_usize(s.degree_bits),
                KoalaBear::ZERO,
                KoalaBear::ZERO,
                KoalaBear::ZERO,
            ],
        )?;
    }
    challenger.observe_digest(&main_commitment)?;
    for values in public {
        for value in values {
            challenger.observe(value)?;
        }
    }
    if let Some(commitment) = &preprocessed_commitment {
        challenger.observe_digest(commitment)?;
    }
    let mut lookup_pair = None;
    if let Some(witness) = &lookup_pow_witness {
        check_pow(&mut challenger, settings.lookup_pow_bits, witness)?;
        let lookup_alpha = challenger.sample_ext()?;
        let lookup_beta = challenger.sample_ext()?;
        lookup_pair = Some((lookup_alpha, lookup_beta));
    }
    if let Some(commitment) = &permutation_commitment {
        challenger.observe_digest(commitment)?;
    }
    for terminal in instances.iter().filter_map(|v| v.terminal.as_ref()) {
        challenger.observe_ext(terminal)?;
    }
    let alpha = challenger.sample_ext()?;
    challenger.observe_digest(&quotient_commitment)?;
    check_pow(&mut challenger, settings.ood_pow_bits, &ood_pow_witness)?;
    let zeta = challenger.sample_ext()?;
    meter.mark("batch transcript (seed, degree bits, commitments, public values, PoW, α_L, β_L, terminals, α, ζ)");

    // Lookup challenges per instance: [prefix(bus), β_L] per lookup, prefix(i) = α_L + (i+1)·β_L^W.
    let bus_prefixes = match &lookup_pair {
        Some((lookup_alpha, lookup_beta)) => {
            let mut gamma = KbExtVar::constant(KoalaBearExt::ONE);
            for _ in 0..shape.max_message_width {
                gamma = gamma.mul(lookup_beta)?.reduce()?;
            }
            let mut prefixes = Vec::with_capacity(shape.num_buses);
            let mut prefix = lookup_alpha.clone();
            for _ in 0..shape.num_buses {
                prefix = prefix.add(&gamma)?.reduce()?;
                prefixes.push(prefix.clone());
            }
            prefixes
        }
        None => Vec::new(),
    };

    // Per instance: the out-of-domain check at ζ over its own constraints (base and LogUp).
    let mut zeta_powers = ZetaPowers::new(&zeta);
    for (i, (s, v)) in shape.instances.iter().zip(&instances).enumerate() {
        let selectors = selectors_at_point(s.degree_bits, &mut zeta_powers)?;
        let zeros;
        let main_next = if s.opens_main_next {
            v.trace_next.as_slice()
        } else {
            zeros = vec![KbExtVar::constant(KoalaBearExt::ZERO); s.main_width];
            zeros.as_slice()
        };
        let pre_zeros;
        let preprocessed_next = if s.opens_preprocessed_next {
            v.preprocessed_next.as_slice()
        } else {
            pre_zeros = vec![KbExtVar::constant(KoalaBearExt::ZERO); s.preprocessed_width];
            pre_zeros.as_slice()
        };
        let opened = OpenedRowsVar {
            main_local: &v.trace_local,
            main_next,
            preprocessed_local: &v.preprocessed_local,
            preprocessed_next,
            periodic: &[],
            public_values: &public[i],
        };
        let challenges = match &lookup_pair {
            Some((_, lookup_beta)) => s
                .bus_ids
                .iter()
                .flat_map(|&bus| [bus_prefixes[bus].clone(), lookup_beta.clone()])
                .collect(),
            None => Vec::new(),
        };
        let permutation_local = recompose_ext_columns(&v.permutation_local)?;
        let permutation_next = recompose_ext_columns(&v.permutation_next)?;
        let values: Vec<KbExtVar> = v.terminal.iter().cloned().collect();
        let lookups = LookupRowsVar {
            permutation_local: &permutation_local,
            permutation_next: &permutation_next,
            challenges: &challenges,
            values: &values,
        };
        let folded = fold_mixed_constraints(&s.constraints, &opened, &lookups, &selectors, &alpha)?;
        let chunk_arrays: Vec<[KbExtVar; 4]> = v
            .quotient_chunks
            .iter()
            .map(|c| [c[0].clone(), c[1].clone(), c[2].clone(), c[3].clone()])
            .collect();
        let quotient = recompose_quotient(
            &shape.quotient_chunk_domains(i),
            &chunk_arrays,
            &mut zeta_powers,
        )?;
        enforce_ood_check(&folded, &selectors, &quotient)?;
    }
    meter.mark("out-of-domain constraint checks (base + LogUp) and quotient recompositions");

    // The global LogUp check: the terminals of all instances sum to zero.
    let mut terminal_sum = KbExtVar::constant(KoalaBearExt::ZERO);
    for terminal in instances.iter().filter_map(|v| v.terminal.as_ref()) {
        terminal_sum = terminal_sum.add(terminal)?;
    }
    terminal_sum.enforce_equal(&KbExtVar::constant(KoalaBearExt::ZERO))?;
    meter.mark("LogUp terminal sum");

    // The opening argument: the claims of `commitments_with_opening_points`.
    let zeta_next: Vec<KbExtVar> = shape
        .instances
        .iter()
        .map(|s| zeta.mul_base_constant(KoalaBear::two_adic_generator(s.degree_bits)))
        .collect::<Result<_, _>>()?;
    let layout = shape.claim_layout();
    let mut commitments = vec![main_commitment, quotient_commitment];
    commitments.extend(preprocessed_commitment);
    commitments.extend(permutation_commitment);
    if commitments.len() != layout.len() {
        return Err(SynthesisError::Unsatisfiable);
    }
    let claims: Vec<BatchClaimVar> = layout
        .iter()
        .zip(commitments)
        .map(|(matrices, commitment)| BatchClaimVar {
            commitment,
            matrices: matrices
                .iter()
                .map(|m| {
                    let v = &instances[m.instance];
                    let (local, next) = match m.kind {
                        MatrixKind::Main => (&v.trace_local, &v.trace_next),
                        MatrixKind::QuotientChunk(c) => (&v.quotient_chunks[c], &v.trace_next),
                        MatrixKind::Preprocessed => (&v.preprocessed_local, &v.preprocessed_next),
                        MatrixKind::Permutation => (&v.permutation_local, &v.permutation_next),
                    };
                    let mut points = vec![(zeta.clone(), local.clone())];
                    if m.opens_next {
                        points.push((zeta_next[m.instance].clone(), next.clone()));
                    }
                    MatrixClaimVar {
                        log_lde_height: m.log_lde_height,
                        points,
                    }
                })
                .collect(),
        })
        .collect();
    let pcs_shape = PcsShapeVar {
        settings,
        pcs_seed: &shape.pcs_seed,
        fri_seed: &shape.fri_seed,
        log_arities: &shape.log_arities,
        log_lde_height: shape.log_lde_height,
    };
    meter.mark("opening claims");
    let pcs_cost = verify_pcs(&mut challenger, &pcs_shape, &claims, &fri_proof)?;
    meter.breakdown.parts.extend(pcs_cost.parts());
    meter.last = cs.num_constraints();
    Ok(meter.breakdown)
}

/// A Groth16 circuit verifying one batch-STARK proof of fixed AIRs and heights under the outer
/// config.
///
/// Private witness: the whole proof. Public inputs: every instance's public values in instance
/// order, 8 per BN254 element ([`pack_public_values`]). The AIRs (constraints, widths, buses,
/// preprocessed commitment), heights and FRI settings are the circuit's shape.
#[derive(Clone)]
pub struct BatchStarkVerifierCircuit {
    pub shape: BatchStarkShape,
    pub public_values: Vec<Vec<KoalaBear>>,
    pub witness: BatchStarkWitness,
}

impl BatchStarkVerifierCircuit {
    /// The circuit for `proof` of `airs` with `public_values`, proven with
    /// `outer_config_with(settings)`. Fails if the proof does not verify natively.
    pub fn new<A: OuterBatchAir>(
        settings: &FriSettings,
        airs: &[A],
        proof: &BatchProof<OuterConfig>,
        public_values: &[Vec<KoalaBear>],
    ) -> Result<Self, WitnessError> {
        let (shape, witness) = extract_batch_stark(settings, airs, proof, public_values)?;
        Ok(Self {
            shape,
            public_values: public_values.to_vec(),
            witness,
        })
    }

    /// [`Self::new`] for a proof made with `fixed` (the fixed tables of `airs` committed under
    /// `outer_config_with(settings)`), whose commitment and bus layout are used instead of
    /// being derived again. Fails if the proof does not verify natively against them.
    pub fn with_fixed<A: OuterBatchAir + NamedAir>(
        settings: &FriSettings,
        airs: &[A],
        fixed: &FixedTables<OuterConfig>,
        proof: &BatchProof<OuterConfig>,
        public_values: &[Vec<KoalaBear>],
    ) -> Result<Self, WitnessError> {
        let (shape, witness) =
            extract_batch_stark_with_fixed(settings, airs, fixed, proof, public_values)?;
        Ok(Self {
            shape,
            public_values: public_values.to_vec(),
            witness,
        })
    }

    /// The Groth16 public inputs of this instance.
    pub fn public_inputs(&self) -> Vec<Fr> {
        let flat: Vec<KoalaBear> = self.public_values.iter().flatten().copied().collect();
        pack_public_values(&flat)
    }
}

impl ConstraintSynthesizer<Fr> for BatchStarkVerifierCircuit {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        synthesize_batch_stark(&cs, &self.shape, &self.public_values, &self.witness).map(|_| ())
    }
}
