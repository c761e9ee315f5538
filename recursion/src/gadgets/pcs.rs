//! The opening argument of the inner configuration as a recursion program:
//! `TwoAdicFriPcs::verify` and `p3_fri::verifier::verify_fri` of p3-fri 0.8, replayed step by
//! step, plus the native side that turns a p3 proof into the witness stream the program reads.
//!
//! Native behaviour mirrored here (p3-fri 0.8.0 `two_adic_pcs.rs`, `verifier.rs`,
//! `pcs_transcript.rs`, `transcript.rs`, `config.rs`):
//! - Shape (verifier-known, never read from the proof): the LDE height of a matrix is its
//!   domain height times the blowup; the tallest one, `L`, starts the folding; the rounds and
//!   their arities come from `fold_schedule` over the distinct input heights. Zero queries, rate
//!   one, a zero folding cap, no matrices, a matrix opened at no point, and heights above the
//!   two-adicity are rejected, as natively.
//! - PCS transcript: the `PcsShape` domain-separator seed (observed as constants), every claimed
//!   evaluation (commitment, matrix, point, column order), the batching proof of work, α.
//! - FRI transcript: the `FriShape` seed; per round the commitment, its proof of work and β; the
//!   final polynomial, the query proof of work and one `sample_bits(L)` index per query. A proof
//!   of work with 0 bits observes nothing and its witness must be zero
//!   (`check_canonical_pow_witnesses`).
//! - `open_inputs`: every input batch is a Merkle leaf at the query index shifted down to the
//!   batch's tallest height; per height the DEEP sum `Σ_points (Σ_i α^(o+i) (p_i(z) − p_i(x))) /
//!   (z − x)` with `x = GENERATOR · ω_h^rev_h(index >> (L − h))` and the α offset `o` running per
//!   height over (batch, matrix, point). `z = x` is rejected (here: the inverse of zero fails).
//!   A reduced opening at height `log_blowup` (a one-row trace) must be zero. (Here the
//!   quotients of points that are the same cell at one height share one division, and each
//!   matrix's `Σ_i α^i row_i` is formed once and shifted by `α^o` per point: the same sums.)
//! - `fold_query`: per round the opened row is the current value at the position the low index
//!   bits select and the proof's `arity − 1` siblings in order around it; the row is a leaf of
//!   the round's commitment at the folded index; it is folded at β by interpolation over the
//!   coset `s·<ω_arity>` listed in bit-reversed order (`s = ω_(h+a)^rev_h(folded index)`);
//!   inputs of the new height are rolled in with `β^arity`.
//! - Final check: the folded value equals the final polynomial (coefficient 0 first) at
//!   `ω_L^rev_L(index >> Σ arities)`.
//!
//! p3 0.8 sends *pruned* Merkle multi-openings; the program checks one full path per query (as
//! sound: each opened row must hash to the root), so [`extract_fri_witness`] expands them with
//! `MerkleTreeMmcs::restore_and_recompute_paths`. The native values it needs (indices, folded
//! rows) come from p3's own transcript objects, `open_inputs` and `fold_query`; a proof those
//! reject is an error, never a witness.
//!
//! Everything data-dependent (index bits) is arithmetic; everything shape-dependent is Rust
//! control flow on [`PcsShape`], so one program serves every proof of that shape.

use core::marker::PhantomData;
use std::collections::BTreeMap;

use p3_challenger::CanObserve;
use p3_commit::CommitmentOpening;
use p3_field::coset::TwoAdicMultiplicativeCoset;
use p3_field::{Field, PrimeCharacteristicRing, TwoAdicField};
use p3_fri::verifier::{fold_query, open_inputs};
use p3_fri::{FriShape, PcsVerifierTranscript, TwoAdicFriFolding, VerifierTranscript};
use p3_matrix::Dimensions;
use thiserror::Error;
use zkmips_prover::config::{
    ChallengeMmcs, Challenger, Dft, FriSettings, LeafHash, NodeCompress, Pcs as InnerPcs, ValMmcs,
    inner_perm,
};

use crate::builder::{Builder, Ext, Felt};
use crate::gadgets::challenger::DuplexChallengerVar;
use crate::gadgets::merkle::{self, DIGEST_ELEMS, DigestVar, EXT_DEGREE, MerkleShapeError};
use crate::ir::{Challenge, Val};

/// Largest LDE height (log2) the verifier supports: query indices are sampled as bits of one
/// KoalaBear value and the final point is a root of unity of that order.
pub const MAX_LOG_LDE_HEIGHT: usize = 24;

/// Why a shape, claim list or proof cannot be verified (decided while building the program, or,
/// for the native side, while extracting the witness).
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum PcsError {
    #[error("FRI with zero queries proves nothing")]
    ZeroQueries,
    #[error("FRI with log_blowup = 0 accepts any word")]
    ZeroBlowup,
    #[error("FRI with max_log_arity = 0 never folds")]
    ZeroFoldingArity,
    #[error("no committed matrix")]
    NoCommittedMatrices,
    #[error("batch {batch}: no matrices")]
    EmptyBatch { batch: usize },
    #[error("batch {batch}, matrix {matrix}: opened at no point")]
    MatrixWithoutPoints { batch: usize, matrix: usize },
    #[error(
        "batch {batch}, matrix {matrix}: log LDE height {log_lde_height} is outside \
         [log_blowup = {log_blowup}, {MAX_LOG_LDE_HEIGHT}]"
    )]
    HeightOutOfRange {
        batch: usize,
        matrix: usize,
        log_lde_height: usize,
        log_blowup: usize,
    },
    #[error("input height 2^{log_height} is never reached by the folding schedule")]
    HeightNeverFolded { log_height: usize },
    #[error("folding ends at height 2^{reached}, the final polynomial needs 2^{expected}")]
    FinalHeight { reached: usize, expected: usize },
    #[error("{what}: expected {expected}, got {got}")]
    Count {
        what: String,
        expected: usize,
        got: usize,
    },
    #[error("Merkle opening: {0}")]
    Merkle(#[from] MerkleShapeError),
    #[error("the proof does not verify natively: {0}")]
    Rejected(String),
}

fn expect_count(what: impl Into<String>, expected: usize, got: usize) -> Result<(), PcsError> {
    if expected == got {
        Ok(())
    } else {
        Err(PcsError::Count {
            what: what.into(),
            expected,
            got,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Shape
// ---------------------------------------------------------------------------------------------

/// One committed matrix as the verifier knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MatrixShape {
    /// log2 of the committed (LDE) height: log2 of the domain size plus `log_blowup`.
    pub log_lde_height: usize,
    /// Number of columns (claimed evaluations per point).
    pub width: usize,
    /// Number of opening points.
    pub num_points: usize,
}

/// Everything about an opening argument that is not witness: fixed per program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PcsShape {
    pub settings: FriSettings,
    /// Per input commitment, its matrices in commitment order.
    pub batches: Vec<Vec<MatrixShape>>,
    /// `L`: log2 of the tallest LDE height, the width of the query indices.
    pub log_global_max_height: usize,
    /// Fold arities (log2) per round, from `p3_fri::fold_schedule`.
    pub log_arities: Vec<usize>,
    /// What `p3_fri::PcsShape`'s domain separator absorbs.
    pub pcs_seed: Vec<Val>,
    /// What `p3_fri::FriShape`'s domain separator absorbs.
    pub fri_seed: Vec<Val>,
}

/// Collects what a domain separator absorbs.
#[derive(Default)]
struct SeedRecorder(Vec<Val>);

impl CanObserve<Val> for SeedRecorder {
    fn observe(&mut self, value: Val) {
        self.0.push(value);
    }
}

impl PcsShape {
    /// The shape of an opening of `batches` under `settings`; rejects what the native verifier
    /// rejects before reading a proof.
    pub fn new(settings: &FriSettings, batches: Vec<Vec<MatrixShape>>) -> Result<Self, PcsError> {
        if settings.num_queries == 0 {
            return Err(PcsError::ZeroQueries);
        }
        if settings.log_blowup == 0 {
            return Err(PcsError::ZeroBlowup);
        }
        if settings.max_log_arity == 0 {
            return Err(PcsError::ZeroFoldingArity);
        }
        if batches.iter().all(Vec::is_empty) {
            return Err(PcsError::NoCommittedMatrices);
        }
        for (batch, matrices) in batches.iter().enumerate() {
            // An empty batch has no Merkle tree of positive height to open.
            if matrices.is_empty() {
                return Err(PcsError::EmptyBatch { batch });
            }
            for (matrix, shape) in matrices.iter().enumerate() {
                if shape.num_points == 0 {
                    return Err(PcsError::MatrixWithoutPoints { batch, matrix });
                }
                if shape.log_lde_height < settings.log_blowup
                    || shape.log_lde_height > MAX_LOG_LDE_HEIGHT
                {
                    return Err(PcsError::HeightOutOfRange {
                        batch,
                        matrix,
                        log_lde_height: shape.log_lde_height,
                        log_blowup: settings.log_blowup,
                    });
                }
            }
        }
        let mut input_log_heights: Vec<usize> =
            batches.iter().flatten().map(|m| m.log_lde_height).collect();
        input_log_heights.sort_unstable_by(|a, b| b.cmp(a));
        input_log_heights.dedup();
        let log_global_max_height = input_log_heights[0];
        let log_final_height = settings.log_blowup + settings.log_final_poly_len;
        let log_arities =
            p3_fri::fold_schedule(&input_log_heights, log_final_height, settings.max_log_arity);
        // Every input must be rolled in: at the start or after some round (native
        // `UnconsumedReducedOpenings` / `FinalFoldHeightMismatch` otherwise).
        let mut visited = vec![log_global_max_height];
        for &log_arity in &log_arities {
            visited.push(visited[visited.len() - 1] - log_arity);
        }
        if let Some(&log_height) = input_log_heights.iter().find(|h| !visited.contains(h)) {
            return Err(PcsError::HeightNeverFolded { log_height });
        }
        let reached = visited[visited.len() - 1];
        if reached != log_final_height {
            return Err(PcsError::FinalHeight {
                reached,
                expected: log_final_height,
            });
        }

        let params = settings.fri_parameters(());
        let pcs_shape = p3_fri::PcsShape {
            claimed_evaluation_counts: batches
                .iter()
                .map(|matrices| {
                    matrices
                        .iter()
                        .map(|m| vec![m.width; m.num_points])
                        .collect()
                })
                .collect(),
            batch_pow_bits: settings.batch_pow_bits,
        };
        let mut pcs_seed = SeedRecorder::default();
        pcs_shape
            .domain_separator::<Val, Challenge>()
            .seed(&mut pcs_seed);
        let fri_shape =
            p3_fri::FriShape::with_schedule(&params, log_arities.clone(), log_global_max_height);
        let mut fri_seed = SeedRecorder::default();
        fri_shape
            .domain_separator::<Val, Challenge>()
            .seed(&mut fri_seed);

        Ok(Self {
            settings: *settings,
            batches,
            log_global_max_height,
            log_arities,
            pcs_seed: pcs_seed.0,
            fri_seed: fri_seed.0,
        })
    }

    pub fn log_final_height(&self) -> usize {
        self.settings.log_blowup + self.settings.log_final_poly_len
    }

    pub fn num_rounds(&self) -> usize {
        self.log_arities.len()
    }

    /// log2 of the tallest height of `batch` (its Merkle tree depth).
    pub fn batch_log_height(&self, batch: usize) -> usize {
        self.batches[batch]
            .iter()
            .map(|m| m.log_lde_height)
            .max()
            .unwrap_or(0)
    }

    /// log2 of the height of the codeword committed in `round` (its Merkle tree depth).
    pub fn round_log_height(&self, round: usize) -> usize {
        self.log_global_max_height - self.log_arities[..=round].iter().sum::<usize>()
    }

    fn batch_dimensions(&self, batch: usize) -> Vec<Dimensions> {
        self.batches[batch]
            .iter()
            .map(|m| Dimensions {
                width: m.width,
                height: 1 << m.log_lde_height,
            })
            .collect()
    }

    /// The base dimensions of round `round`'s commitment (rows of `arity` extension values,
    /// flattened by `ExtensionMmcs`).
    fn round_dimensions(&self, round: usize) -> Dimensions {
        Dimensions {
            width: EXT_DEGREE << self.log_arities[round],
            height: 1 << self.round_log_height(round),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Claims and proof as program variables
// ---------------------------------------------------------------------------------------------

/// The claims on one matrix: per opening point, the point and one value per column.
#[derive(Clone, Debug)]
pub struct MatrixClaimVar {
    pub points: Vec<(Ext, Vec<Ext>)>,
}

/// One input commitment and the claims on its matrices, in commitment order.
#[derive(Clone, Debug)]
pub struct BatchClaimVar {
    pub commitment: DigestVar,
    pub matrices: Vec<MatrixClaimVar>,
}

/// One query's opening of one input commitment.
#[derive(Clone, Debug)]
pub struct InputOpeningVar {
    /// The row of every matrix at the (shifted) query index, commitment order.
    pub rows: Vec<Vec<Felt>>,
    /// The full Merkle path, leaf level first.
    pub siblings: Vec<DigestVar>,
}

/// One query's opening of one commit-phase codeword.
#[derive(Clone, Debug)]
pub struct CommitPhaseOpeningVar {
    /// The `arity − 1` other values of the queried row, in row order, as base coordinates.
    pub sibling_values: Vec<[Felt; EXT_DEGREE]>,
    /// The full Merkle path, leaf level first.
    pub siblings: Vec<DigestVar>,
}

#[derive(Clone, Debug)]
pub struct QueryProofVar {
    /// One per input commitment.
    pub input_openings: Vec<InputOpeningVar>,
    /// One per folding round.
    pub commit_phase_openings: Vec<CommitPhaseOpeningVar>,
}

/// A `FriProof` of the inner configuration as program variables (pruned Merkle proofs expanded
/// to one path per query).
#[derive(Clone, Debug)]
pub struct FriProofVar {
    pub batch_pow_witness: Felt,
    pub commit_phase_commitments: Vec<DigestVar>,
    pub commit_pow_witnesses: Vec<Felt>,
    pub final_poly: Vec<Ext>,
    pub query_pow_witness: Felt,
    pub queries: Vec<QueryProofVar>,
}

/// A `FriProof` as native values, in the layout of [`FriProofVar`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FriProofWitness {
    pub batch_pow_witness: Val,
    pub commit_phase_commitments: Vec<[Val; DIGEST_ELEMS]>,
    pub commit_pow_witnesses: Vec<Val>,
    pub final_poly: Vec<Challenge>,
    pub query_pow_witness: Val,
    pub queries: Vec<QueryWitness>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryWitness {
    pub input_openings: Vec<InputOpeningWitness>,
    pub commit_phase_openings: Vec<CommitPhaseOpeningWitness>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputOpeningWitness {
    pub rows: Vec<Vec<Val>>,
    pub siblings: Vec<[Val; DIGEST_ELEMS]>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitPhaseOpeningWitness {
    pub sibling_values: Vec<Challenge>,
    pub siblings: Vec<[Val; DIGEST_ELEMS]>,
}

// The witness stream layout. `FriProofVar::read` and `FriProofWitness::stream` below walk the
// same order and must stay side by side:
//   batch PoW witness;
//   per round: commitment (8), PoW witness;
//   final polynomial (4 coordinates per coefficient);
//   query PoW witness;
//   per query: per input batch: rows (matrix order), siblings (leaf level first);
//              per round: sibling values (4 coordinates each), siblings (leaf level first).

fn read_digest(builder: &mut Builder) -> DigestVar {
    core::array::from_fn(|_| builder.witness())
}

impl FriProofVar {
    /// Allocates a proof of `shape` from the witness stream.
    pub fn read(builder: &mut Builder, shape: &PcsShape) -> Self {
        let batch_pow_witness = builder.witness();
        let mut commit_phase_commitments = Vec::with_capacity(shape.num_rounds());
        let mut commit_pow_witnesses = Vec::with_capacity(shape.num_rounds());
        for _ in 0..shape.num_rounds() {
            commit_phase_commitments.push(read_digest(builder));
            commit_pow_witnesses.push(builder.witness());
        }
        let final_poly = (0..1usize << shape.settings.log_final_poly_len)
            .map(|_| builder.witness_ext())
            .collect();
        let query_pow_witness = builder.witness();
        let queries = (0..shape.settings.num_queries)
            .map(|_| QueryProofVar {
                input_openings: (0..shape.batches.len())
                    .map(|batch| InputOpeningVar {
                        rows: shape.batches[batch]
                            .iter()
                            .map(|m| (0..m.width).map(|_| builder.witness()).collect())
                            .collect(),
                        siblings: (0..shape.batch_log_height(batch))
                            .map(|_| read_digest(builder))
                            .collect(),
                    })
                    .collect(),
                commit_phase_openings: (0..shape.num_rounds())
                    .map(|round| CommitPhaseOpeningVar {
                        sibling_values: (1..1usize << shape.log_arities[round])
                            .map(|_| core::array::from_fn(|_| builder.witness()))
                            .collect(),
                        siblings: (0..shape.round_log_height(round))
                            .map(|_| read_digest(builder))
                            .collect(),
                    })
                    .collect(),
            })
            .collect();
        Self {
            batch_pow_witness,
            commit_phase_commitments,
            commit_pow_witnesses,
            final_poly,
            query_pow_witness,
            queries,
        }
    }
}

fn ext_coordinates_native(value: &Challenge) -> &[Val] {
    p3_field::BasedVectorSpace::<Val>::as_basis_coefficients_slice(value)
}

impl FriProofWitness {
    /// The witness stream [`FriProofVar::read`] consumes.
    pub fn stream(&self) -> Vec<Val> {
        let mut out = vec![self.batch_pow_witness];
        for (commitment, witness) in self
            .commit_phase_commitments
            .iter()
            .zip(&self.commit_pow_witnesses)
        {
            out.extend_from_slice(commitment);
            out.push(*witness);
        }
        for coefficient in &self.final_poly {
            out.extend_from_slice(ext_coordinates_native(coefficient));
        }
        out.push(self.query_pow_witness);
        for query in &self.queries {
            for opening in &query.input_openings {
                out.extend(opening.rows.iter().flatten());
                out.extend(opening.siblings.iter().flatten());
            }
            for opening in &query.commit_phase_openings {
                for value in &opening.sibling_values {
                    out.extend_from_slice(ext_coordinates_native(value));
                }
                out.extend(opening.siblings.iter().flatten());
            }
        }
        out
    }

    /// Whether the lengths fit `shape` (so that [`Self::stream`] is exactly what
    /// [`FriProofVar::read`] reads).
    pub fn check_shape(&self, shape: &PcsShape) -> Result<(), PcsError> {
        let rounds = shape.num_rounds();
        expect_count(
            "commit-phase commitments",
            rounds,
            self.commit_phase_commitments.len(),
        )?;
        expect_count(
            "commit-phase PoW witnesses",
            rounds,
            self.commit_pow_witnesses.len(),
        )?;
        expect_count(
            "final polynomial coefficients",
            1 << shape.settings.log_final_poly_len,
            self.final_poly.len(),
        )?;
        expect_count("queries", shape.settings.num_queries, self.queries.len())?;
        for (q, query) in self.queries.iter().enumerate() {
            expect_count(
                format!("query {q}: input openings"),
                shape.batches.len(),
                query.input_openings.len(),
            )?;
            for (batch, opening) in query.input_openings.iter().enumerate() {
                expect_count(
                    format!("query {q}, batch {batch}: rows"),
                    shape.batches[batch].len(),
                    opening.rows.len(),
                )?;
                for (matrix, (row, m)) in opening.rows.iter().zip(&shape.batches[batch]).enumerate()
                {
                    expect_count(
                        format!("query {q}, batch {batch}, matrix {matrix}: row width"),
                        m.width,
                        row.len(),
                    )?;
                }
                expect_count(
                    format!("query {q}, batch {batch}: Merkle siblings"),
                    shape.batch_log_height(batch),
                    opening.siblings.len(),
                )?;
            }
            expect_count(
                format!("query {q}: commit-phase openings"),
                rounds,
                query.commit_phase_openings.len(),
            )?;
            for (round, opening) in query.commit_phase_openings.iter().enumerate() {
                expect_count(
                    format!("query {q}, round {round}: sibling values"),
                    (1 << shape.log_arities[round]) - 1,
                    opening.sibling_values.len(),
                )?;
                expect_count(
                    format!("query {q}, round {round}: Merkle siblings"),
                    shape.round_log_height(round),
                    opening.siblings.len(),
                )?;
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// The verifier program
// ---------------------------------------------------------------------------------------------

/// A proof-of-work site: with `bits > 0` the challenger check; with `bits = 0` nothing is
/// observed and the witness must be zero (native `check_canonical_pow_witnesses`).
pub fn check_pow(
    builder: &mut Builder,
    challenger: &mut DuplexChallengerVar,
    bits: usize,
    witness: Felt,
) {
    if bits == 0 {
        builder.assert_eq_const(witness, Val::ZERO);
    } else {
        challenger.check_witness(builder, bits, witness);
    }
}

/// Observes a domain-separator seed (constants of the shape).
pub fn observe_seed(builder: &mut Builder, challenger: &mut DuplexChallengerVar, seed: &[Val]) {
    for &value in seed {
        let constant = builder.constant(value);
        challenger.observe(builder, constant);
    }
}

/// `Π_i (bits[i] ? factors[i] : 1)` for boolean `bits`: each factor is `1 + bit·(c − 1)`.
fn product_of_selected(builder: &mut Builder, bits: &[Felt], factors: &[Val]) -> Felt {
    let mut product: Option<Felt> = None;
    for (&bit, &factor) in bits.iter().zip(factors) {
        if factor == Val::ONE {
            continue;
        }
        let scaled = builder.mul_const(bit, factor - Val::ONE);
        let selected = builder.add_const(scaled, Val::ONE);
        product = Some(match product {
            None => selected,
            Some(acc) => builder.mul(acc, selected),
        });
    }
    product.unwrap_or_else(|| builder.constant(Val::ONE))
}

/// `base^rev_n(index)` for the `n` little-endian `bits` of `index` (bit `i` weighs
/// `2^(n − 1 − i)` after the reversal).
fn power_of_reversed_index(builder: &mut Builder, base: Val, bits: &[Felt]) -> Felt {
    let n = bits.len();
    let factors: Vec<Val> = (0..n).map(|i| base.exp_power_of_2(n - 1 - i)).collect();
    product_of_selected(builder, bits, &factors)
}

/// `value^(2^k)`.
fn square_times(builder: &mut Builder, mut value: Felt, k: usize) -> Felt {
    for _ in 0..k {
        value = builder.mul(value, value);
    }
    value
}

/// `value · c` for a base constant `c`, skipping the product when `c = 1`.
fn ext_scale(builder: &mut Builder, value: Ext, c: Val) -> Ext {
    if c == Val::ONE {
        value
    } else {
        let constant = builder.ext_constant(Challenge::from(c));
        builder.ext_mul(value, constant)
    }
}

/// Opening points of one height that are the same cell: their DEEP quotients share one
/// denominator, `(Σ_p (Σ_i α^(o_p+i) p_i(z)) − Σ_p α^(o_p) R_p(x)) / (z − x)`, which is the sum
/// of the native per-point quotients.
struct DeepGroup {
    log_height: usize,
    point: Ext,
    /// `Σ` over the group's points of `Σ_i α^(o+i) p_i(z)`: query-independent.
    sum_at_z: Ext,
}

/// Query-independent data shared by every query.
struct Precomputed {
    alpha_powers: Vec<Ext>,
    /// Per opening point, in (batch, matrix, point) order: its α offset and its DEEP group.
    point_slots: Vec<(usize, usize)>,
    groups: Vec<DeepGroup>,
    /// Per round: `[1, β, …, β^(arity−1)]`.
    beta_powers: Vec<Vec<Ext>>,
    /// Per round: `β^arity`.
    beta_to_arity: Vec<Ext>,
}

fn check_claims(shape: &PcsShape, claims: &[BatchClaimVar]) -> Result<(), PcsError> {
    expect_count("input commitments", shape.batches.len(), claims.len())?;
    for (batch, (claim, matrices)) in claims.iter().zip(&shape.batches).enumerate() {
        expect_count(
            format!("batch {batch}: matrices"),
            matrices.len(),
            claim.matrices.len(),
        )?;
        for (matrix, (claim, m)) in claim.matrices.iter().zip(matrices).enumerate() {
            expect_count(
                format!("batch {batch}, matrix {matrix}: points"),
                m.num_points,
                claim.points.len(),
            )?;
            for (point, (_, values)) in claim.points.iter().enumerate() {
                expect_count(
                    format!("batch {batch}, matrix {matrix}, point {point}: values"),
                    m.width,
                    values.len(),
                )?;
            }
        }
    }
    Ok(())
}

fn check_proof_var(shape: &PcsShape, proof: &FriProofVar) -> Result<(), PcsError> {
    let rounds = shape.num_rounds();
    expect_count(
        "commit-phase commitments",
        rounds,
        proof.commit_phase_commitments.len(),
    )?;
    expect_count(
        "commit-phase PoW witnesses",
        rounds,
        proof.commit_pow_witnesses.len(),
    )?;
    expect_count(
        "final polynomial coefficients",
        1 << shape.settings.log_final_poly_len,
        proof.final_poly.len(),
    )?;
    expect_count("queries", shape.settings.num_queries, proof.queries.len())?;
    for (q, query) in proof.queries.iter().enumerate() {
        expect_count(
            format!("query {q}: input openings"),
            shape.batches.len(),
            query.input_openings.len(),
        )?;
        expect_count(
            format!("query {q}: commit-phase openings"),
            rounds,
            query.commit_phase_openings.len(),
        )?;
        for (round, opening) in query.commit_phase_openings.iter().enumerate() {
            expect_count(
                format!("query {q}, round {round}: sibling values"),
                (1 << shape.log_arities[round]) - 1,
                opening.sibling_values.len(),
            )?;
        }
    }
    Ok(())
}

/// Replays the PCS + FRI transcript on `challenger` and emits every check of the opening
/// argument for `claims` (allocated by the caller, who binds them to its own checks: the
/// commitments it observed, the points it sampled, the values its constraint check reads).
pub fn verify_pcs(
    builder: &mut Builder,
    challenger: &mut DuplexChallengerVar,
    shape: &PcsShape,
    claims: &[BatchClaimVar],
    proof: &FriProofVar,
) -> Result<(), PcsError> {
    check_claims(shape, claims)?;
    check_proof_var(shape, proof)?;
    let settings = &shape.settings;
    let log_max = shape.log_global_max_height;

    // PCS transcript.
    observe_seed(builder, challenger, &shape.pcs_seed);
    for claim in claims {
        for matrix in &claim.matrices {
            for (_, values) in &matrix.points {
                for &value in values {
                    challenger.observe_ext(builder, value);
                }
            }
        }
    }
    check_pow(
        builder,
        challenger,
        settings.batch_pow_bits,
        proof.batch_pow_witness,
    );
    let alpha = challenger.sample_ext(builder);

    // FRI transcript.
    observe_seed(builder, challenger, &shape.fri_seed);
    let mut betas = Vec::with_capacity(shape.num_rounds());
    for (&commitment, &witness) in proof
        .commit_phase_commitments
        .iter()
        .zip(&proof.commit_pow_witnesses)
    {
        challenger.observe_digest(builder, commitment);
        check_pow(builder, challenger, settings.commit_pow_bits, witness);
        betas.push(challenger.sample_ext(builder));
    }
    for &coefficient in &proof.final_poly {
        challenger.observe_ext(builder, coefficient);
    }
    check_pow(
        builder,
        challenger,
        settings.query_pow_bits,
        proof.query_pow_witness,
    );
    let indices: Vec<Vec<Felt>> = (0..settings.num_queries)
        .map(|_| challenger.sample_bits(builder, log_max).bits)
        .collect();

    // α powers and the sums at the opening points, per height ladder.
    let mut ladder_lengths = BTreeMap::<usize, usize>::new();
    for (claim, matrices) in claims.iter().zip(&shape.batches) {
        for (matrix, m) in claim.matrices.iter().zip(matrices) {
            for (_, values) in &matrix.points {
                *ladder_lengths.entry(m.log_lde_height).or_insert(0) += values.len();
            }
        }
    }
    let max_ladder = ladder_lengths.values().copied().max().unwrap_or(0);
    let mut alpha_powers = Vec::with_capacity(max_ladder);
    if max_ladder > 0 {
        alpha_powers.push(builder.ext_constant(Challenge::ONE));
    }
    while alpha_powers.len() < max_ladder {
        let next = builder.ext_mul(alpha_powers[alpha_powers.len() - 1], alpha);
        alpha_powers.push(next);
    }
    let mut ladder_offsets = BTreeMap::<usize, usize>::new();
    let mut point_slots = Vec::new();
    let mut groups: Vec<DeepGroup> = Vec::new();
    let mut group_of = BTreeMap::<(usize, u32), usize>::new();
    for (claim, matrices) in claims.iter().zip(&shape.batches) {
        for (matrix, m) in claim.matrices.iter().zip(matrices) {
            for &(point, ref values) in &matrix.points {
                let offset = ladder_offsets.entry(m.log_lde_height).or_insert(0);
                let mut sum_at_z = builder.ext_constant(Challenge::ZERO);
                for (&power, &value) in alpha_powers[*offset..].iter().zip(values) {
                    let term = builder.ext_mul(power, value);
                    sum_at_z = builder.ext_add(sum_at_z, term);
                }
                let group = *group_of
                    .entry((m.log_lde_height, point.addr().0))
                    .or_insert_with(|| {
                        groups.push(DeepGroup {
                            log_height: m.log_lde_height,
                            point,
                            sum_at_z: builder.ext_constant(Challenge::ZERO),
                        });
                        groups.len() - 1
                    });
                groups[group].sum_at_z = builder.ext_add(groups[group].sum_at_z, sum_at_z);
                point_slots.push((*offset, group));
                *offset += values.len();
            }
        }
    }

    // Per round: powers of β for the fold, β^arity for rolling in.
    let mut beta_powers = Vec::with_capacity(betas.len());
    let mut beta_to_arity = Vec::with_capacity(betas.len());
    for (&beta, &log_arity) in betas.iter().zip(&shape.log_arities) {
        let mut powers = vec![builder.ext_constant(Challenge::ONE), beta];
        while powers.len() <= 1 << log_arity {
            let next = builder.ext_mul(powers[powers.len() - 1], beta);
            powers.push(next);
        }
        beta_to_arity.push(powers[1 << log_arity]);
        powers.truncate(1 << log_arity);
        beta_powers.push(powers);
    }
    let precomputed = Precomputed {
        alpha_powers,
        point_slots,
        groups,
        beta_powers,
        beta_to_arity,
    };

    for (bits, query) in indices.iter().zip(&proof.queries) {
        verify_query(
            builder,
            shape,
            claims,
            &precomputed,
            &proof.commit_phase_commitments,
            &proof.final_poly,
            bits,
            query,
        )?;
    }
    Ok(())
}

/// A commit-phase row as the fold needs it.
enum OpenedRow {
    /// Arity 2: the row is `(folded, sibling)` if `bit = 0`, `(sibling, folded)` if 1.
    Pair { bit: Felt, sibling: Ext },
    /// Larger arities: the row in committed order.
    Full(Vec<Ext>),
}

/// The row of one round in committed order: the current value `folded` at the position
/// `position_bits` select, the siblings in order around it. Returns it for the fold and as base
/// coordinates (the Merkle leaf).
fn commit_phase_row(
    builder: &mut Builder,
    position_bits: &[Felt],
    folded: Ext,
    sibling_values: &[[Felt; EXT_DEGREE]],
) -> (OpenedRow, Vec<Felt>) {
    let folded_coordinates = builder.ext_coordinates(folded);
    if let ([bit], [sibling]) = (position_bits, sibling_values) {
        // Per coordinate, with one shared product: first = folded + bit·(sibling − folded),
        // second = sibling − bit·(sibling − folded).
        let mut flat = Vec::with_capacity(2 * EXT_DEGREE);
        let mut second = Vec::with_capacity(EXT_DEGREE);
        for k in 0..EXT_DEGREE {
            let difference = builder.sub(sibling[k], folded_coordinates[k]);
            let shift = builder.mul(*bit, difference);
            flat.push(builder.add(folded_coordinates[k], shift));
            second.push(builder.sub(sibling[k], shift));
        }
        flat.extend(second);
        let sibling = builder.ext_from_coordinates(*sibling);
        return (OpenedRow::Pair { bit: *bit, sibling }, flat);
    }

    // One-hot flags of the position: flags[j] = [position == j].
    let one = builder.constant(Val::ONE);
    let mut flags = vec![one];
    for &bit in position_bits {
        let half = flags.len();
        let mut next = vec![one; 2 * half];
        for (j, &flag) in flags.iter().enumerate() {
            let with_bit = builder.mul(flag, bit);
            next[j] = builder.sub(flag, with_bit);
            next[j + half] = with_bit;
        }
        flags = next;
    }
    let arity = flags.len();
    // Entry j is `folded` if the position is j, sibling j−1 if the position is before j,
    // sibling j if after: weights flag_j, Σ_{p<j} flag_p, Σ_{p>j} flag_p.
    let mut before = builder.constant(Val::ZERO);
    let mut coordinates = Vec::with_capacity(arity * EXT_DEGREE);
    for j in 0..arity {
        let after = {
            let taken = builder.add(before, flags[j]);
            builder.sub(one, taken)
        };
        for k in 0..EXT_DEGREE {
            let mut value = builder.mul(flags[j], folded_coordinates[k]);
            if j > 0 {
                let term = builder.mul(before, sibling_values[j - 1][k]);
                value = builder.add(value, term);
            }
            if j + 1 < arity {
                let term = builder.mul(after, sibling_values[j][k]);
                value = builder.add(value, term);
            }
            coordinates.push(value);
        }
        before = builder.add(before, flags[j]);
    }
    let row = coordinates
        .chunks(EXT_DEGREE)
        .map(|chunk| builder.ext_from_coordinates([chunk[0], chunk[1], chunk[2], chunk[3]]))
        .collect();
    (OpenedRow::Full(row), coordinates)
}

/// The interpolant of `row` (values at the coset `s·<ω>` in bit-reversed order) at β:
/// `(1/n) Σ_k (Σ_m y_m ω^(−mk)) · β^k · s^(−k)` with `y_m = row[rev(m)]`.
fn fold_row(
    builder: &mut Builder,
    log_arity: usize,
    row: &[Ext],
    beta_powers: &[Ext],
    s_inverse: Felt,
) -> Ext {
    let arity = 1usize << log_arity;
    let omega_inverse = Val::two_adic_generator(log_arity).inverse();
    let mut result: Option<Ext> = None;
    let mut s_inverse_power = builder.constant(Val::ONE);
    for (k, &beta_power) in beta_powers.iter().enumerate() {
        let mut coefficient: Option<Ext> = None;
        for m in 0..arity {
            let y = row[p3_util::reverse_bits_len(m, log_arity)];
            let weight = omega_inverse.exp_u64((m * k % arity) as u64);
            coefficient = Some(match coefficient {
                None => ext_scale(builder, y, weight),
                Some(acc) if weight == Val::NEG_ONE => builder.ext_sub(acc, y),
                Some(acc) => {
                    let term = ext_scale(builder, y, weight);
                    builder.ext_add(acc, term)
                }
            });
        }
        let coefficient = coefficient.expect("arity >= 2");
        let term = if k == 0 {
            coefficient
        } else {
            s_inverse_power = if k == 1 {
                s_inverse
            } else {
                builder.mul(s_inverse_power, s_inverse)
            };
            let scaled = builder.ext_mul(beta_power, s_inverse_power.as_ext());
            builder.ext_mul(coefficient, scaled)
        };
        result = Some(match result {
            None => term,
            Some(acc) => builder.ext_add(acc, term),
        });
    }
    let result = result.expect("arity >= 2");
    ext_scale(builder, result, Val::from_usize(arity).inverse())
}

#[allow(clippy::too_many_arguments)]
fn verify_query(
    builder: &mut Builder,
    shape: &PcsShape,
    claims: &[BatchClaimVar],
    precomputed: &Precomputed,
    commitments: &[DigestVar],
    final_poly: &[Ext],
    bits: &[Felt],
    query: &QueryProofVar,
) -> Result<(), PcsError> {
    let log_max = shape.log_global_max_height;

    // Input openings: each batch is a leaf at the index shifted to its tallest height.
    for (batch, (claim, opening)) in claims.iter().zip(&query.input_openings).enumerate() {
        let batch_log_height = shape.batch_log_height(batch);
        merkle::verify_batch(
            builder,
            claim.commitment,
            &shape.batch_dimensions(batch),
            &bits[log_max - batch_log_height..],
            &opening.rows,
            &opening.siblings,
        )?;
    }

    // y_h = ω_h^rev_h(index >> (L − h)): y_L from the bits, then y_(h−1) = y_h².
    let mut heights: Vec<usize> = shape
        .batches
        .iter()
        .flatten()
        .map(|m| m.log_lde_height)
        .collect();
    heights.sort_unstable();
    heights.dedup();
    let mut query_points = BTreeMap::<usize, Felt>::new();
    let y_top = power_of_reversed_index(builder, Val::two_adic_generator(log_max), bits);
    let mut y = y_top;
    let mut log_height = log_max;
    loop {
        if heights.contains(&log_height) {
            let x = builder.mul_const(y, Val::GENERATOR);
            query_points.insert(log_height, x);
        }
        if log_height == heights[0] {
            break;
        }
        y = builder.mul(y, y);
        log_height -= 1;
    }

    // DEEP quotients per height. Per matrix `R(x) = Σ_i α^i row_i` once; a point at ladder
    // offset o contributes `α^o R(x) = Σ_i α^(o+i) row_i`, the native `sum_at_x`.
    let mut at_x: Vec<Option<Ext>> = vec![None; precomputed.groups.len()];
    let mut slots = precomputed.point_slots.iter();
    for (claim, opening) in claims.iter().zip(&query.input_openings) {
        for (matrix, row) in claim.matrices.iter().zip(&opening.rows) {
            let mut combined: Option<Ext> = None;
            for (&power, &value) in precomputed.alpha_powers.iter().zip(row) {
                let term = builder.ext_mul(power, value.as_ext());
                combined = Some(match combined {
                    None => term,
                    Some(acc) => builder.ext_add(acc, term),
                });
            }
            for _ in &matrix.points {
                let &(offset, group) = slots.next().expect("one slot per point");
                // A zero-width matrix contributes nothing at x.
                let Some(combined) = combined else { continue };
                let term = if offset == 0 {
                    combined
                } else {
                    builder.ext_mul(precomputed.alpha_powers[offset], combined)
                };
                at_x[group] = Some(match at_x[group] {
                    None => term,
                    Some(acc) => builder.ext_add(acc, term),
                });
            }
        }
    }
    let mut reduced = BTreeMap::<usize, Ext>::new();
    for (group, sum_at_x) in precomputed.groups.iter().zip(at_x) {
        let numerator = match sum_at_x {
            None => group.sum_at_z,
            Some(sum_at_x) => builder.ext_sub(group.sum_at_z, sum_at_x),
        };
        // Fails (inverse of zero) exactly when the native verifier reports
        // `OpeningPointMatchesQueryPoint`.
        let x = query_points[&group.log_height].as_ext();
        let denominator = builder.ext_sub(group.point, x);
        let term = builder.ext_div(numerator, denominator);
        match reduced.get(&group.log_height) {
            None => {
                reduced.insert(group.log_height, term);
            }
            Some(&acc) => {
                let sum = builder.ext_add(acc, term);
                reduced.insert(group.log_height, sum);
            }
        }
    }
    if let Some(&at_blowup) = reduced.get(&shape.settings.log_blowup) {
        // A one-row trace's quotient must vanish (native `FinalPolyMismatch`).
        let zero = builder.ext_constant(Challenge::ZERO);
        builder.ext_assert_eq(at_blowup, zero);
    }

    // Folding.
    let mut folded = *reduced
        .get(&log_max)
        .expect("the tallest input height has a reduced opening");
    let mut consumed = 0;
    let mut log_height = log_max;
    let mut s_inverse: Option<Felt> = None;
    for (round, (&log_arity, opening)) in shape
        .log_arities
        .iter()
        .zip(&query.commit_phase_openings)
        .enumerate()
    {
        let position_bits = &bits[consumed..consumed + log_arity];
        let folded_index_bits = &bits[consumed + log_arity..];
        let log_folded_height = log_height - log_arity;

        let (row, flat_row) =
            commit_phase_row(builder, position_bits, folded, &opening.sibling_values);
        merkle::verify_batch(
            builder,
            commitments[round],
            &[shape.round_dimensions(round)],
            folded_index_bits,
            &[flat_row],
            &opening.siblings,
        )?;

        // s = ω_h^rev_(h−a)(index >> (consumed + a)), h the height before the fold. With
        // rev_h(j) = rev_(h−a)(j >> a) + Σ_(i<a) b_i 2^(h−1−i) (b_i the position bits):
        // ω_h^rev_h(j) = s · Π (b_i ? ω_h^(2^(h−1−i)) : 1). In round 0 the left side is y_L; in
        // later rounds it is the previous s raised to 2^(previous arity).
        let omega = Val::two_adic_generator(log_height);
        let at_full_index_inverse = match s_inverse {
            // y_L ≠ 0: a root of unity.
            None => builder.inv(y_top),
            Some(previous) => square_times(builder, previous, shape.log_arities[round - 1]),
        };
        let factors: Vec<Val> = (0..log_arity)
            .map(|i| omega.exp_power_of_2(log_height - 1 - i))
            .collect();
        let correction = product_of_selected(builder, position_bits, &factors);
        let s_inv = builder.mul(at_full_index_inverse, correction);
        s_inverse = Some(s_inv);

        let beta_powers = &precomputed.beta_powers[round];
        folded = match row {
            OpenedRow::Pair { bit, sibling } => {
                // (lo + hi)/2 + (lo − hi)·β/(2s) with (lo, hi) = (folded, sibling) or swapped:
                // lo + hi never depends on the order, lo − hi = (1 − 2·bit)(folded − sibling).
                let sum = builder.ext_add(folded, sibling);
                let difference = builder.ext_sub(folded, sibling);
                let doubled = builder.mul_const(bit, Val::TWO);
                let one = builder.constant(Val::ONE);
                let sign = builder.sub(one, doubled);
                let weight = builder.mul(sign, s_inv);
                let scaled = builder.ext_mul(beta_powers[1], weight.as_ext());
                let odd = builder.ext_mul(difference, scaled);
                let total = builder.ext_add(sum, odd);
                ext_scale(builder, total, Val::TWO.inverse())
            }
            OpenedRow::Full(row) => fold_row(builder, log_arity, &row, beta_powers, s_inv),
        };
        consumed += log_arity;
        log_height = log_folded_height;
        if let Some(&input) = reduced.get(&log_height) {
            let rolled = builder.ext_mul(precomputed.beta_to_arity[round], input);
            folded = builder.ext_add(folded, rolled);
        }
    }

    // The final polynomial at ω_L^rev_L(index >> consumed), coefficient 0 first.
    let evaluation = if final_poly.len() == 1 {
        final_poly[0]
    } else {
        let remaining = &bits[consumed..];
        let omega = Val::two_adic_generator(log_max);
        let factors: Vec<Val> = (0..remaining.len())
            .map(|i| omega.exp_power_of_2(log_max - 1 - i))
            .collect();
        let x = product_of_selected(builder, remaining, &factors);
        let mut evaluation = final_poly[final_poly.len() - 1];
        for &coefficient in final_poly.iter().rev().skip(1) {
            let shifted = builder.ext_mul(evaluation, x.as_ext());
            evaluation = builder.ext_add(shifted, coefficient);
        }
        evaluation
    };
    builder.ext_assert_eq(evaluation, folded);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Native side: a p3 proof as the witness of `FriProofVar`
// ---------------------------------------------------------------------------------------------

/// A commitment of the inner input MMCS (a Merkle cap; height 0 here, one root).
pub type InnerCommitment = <ValMmcs as p3_commit::Mmcs<Val>>::Commitment;
/// The opening proof of the inner PCS (`BatchProof<InnerConfig>::opening_proof`).
pub type InnerPcsProof = <InnerPcs as p3_commit::Pcs<Challenge, Challenger>>::Proof;
/// One input commitment with its claims, as `Pcs::verify` takes them.
pub type InnerClaim =
    CommitmentOpening<Challenge, InnerCommitment, TwoAdicMultiplicativeCoset<Val>>;

fn rejected(what: &str, error: impl core::fmt::Debug) -> PcsError {
    PcsError::Rejected(format!("{what}: {error:?}"))
}

/// The single root of a height-0 Merkle cap.
pub fn cap_root(commitment: &InnerCommitment) -> Result<[Val; DIGEST_ELEMS], PcsError> {
    match commitment.roots() {
        [root] => Ok(*root),
        roots => Err(PcsError::Count {
            what: "Merkle cap roots".into(),
            expected: 1,
            got: roots.len(),
        }),
    }
}

/// The shape of native `claims` under `settings` (the verifier's claims, never the proof).
pub fn shape_of_claims(
    settings: &FriSettings,
    claims: &[InnerClaim],
) -> Result<PcsShape, PcsError> {
    let batches = claims
        .iter()
        .map(|claim| {
            claim
                .matrices
                .iter()
                .map(|matrix| MatrixShape {
                    log_lde_height: p3_util::log2_strict_usize(matrix.domain.size())
                        + settings.log_blowup,
                    width: matrix.points.first().map_or(0, |p| p.values.len()),
                    num_points: matrix.points.len(),
                })
                .collect()
        })
        .collect();
    PcsShape::new(settings, batches)
}

fn inner_mmcs() -> (ValMmcs, ChallengeMmcs) {
    let perm = inner_perm();
    let val_mmcs = ValMmcs::new(LeafHash::new(perm.clone()), NodeCompress::new(perm), 0);
    (val_mmcs.clone(), ChallengeMmcs::new(val_mmcs))
}

/// The witness of [`FriProofVar`] for `proof` of `claims`, with `challenger` the native
/// transcript just before `Pcs::verify`. The proof must verify natively (checked first, with
/// p3's own `TwoAdicFriPcs::verify`); the query indices, folding challenges and folded rows are
/// taken from p3's own transcript objects, `open_inputs` and `fold_query`.
pub fn extract_fri_witness(
    shape: &PcsShape,
    claims: &[InnerClaim],
    proof: &InnerPcsProof,
    challenger: &Challenger,
) -> Result<FriProofWitness, PcsError> {
    let settings = &shape.settings;
    if shape_of_claims(settings, claims)? != *shape {
        return Err(PcsError::Rejected(
            "the claims do not have the program's shape".into(),
        ));
    }
    let (val_mmcs, challenge_mmcs) = inner_mmcs();
    let params = settings.fri_parameters(challenge_mmcs.clone());
    let pcs = InnerPcs::new(Dft::default(), val_mmcs.clone(), params.clone());
    p3_commit::Pcs::<Challenge, Challenger>::verify(
        &pcs,
        claims.to_vec(),
        proof,
        &mut challenger.clone(),
    )
    .map_err(|e| rejected("TwoAdicFriPcs::verify", e))?;

    // The transcript, replayed with p3's own drivers.
    let log_max = shape.log_global_max_height;
    let mut native = challenger.clone();
    let mut transcript = PcsVerifierTranscript::<Challenger, Val, Challenge>::new(
        &mut native,
        p3_fri::PcsShape::from_claims(&params, claims),
    );
    transcript
        .claimed_openings(claims)
        .map_err(|e| rejected("claimed openings", e))?;
    let alpha = transcript
        .batch_phase(Some(proof.batch_pow_witness))
        .map_err(|e| rejected("batch phase", e))?;
    let (betas, indices) = transcript
        .delegate(|challenger| {
            let mut fri = VerifierTranscript::<Challenger, Val, Challenge>::new(
                challenger,
                FriShape::with_schedule(&params, shape.log_arities.clone(), log_max),
            );
            let betas =
                fri.commit_rounds(&proof.commit_phase_commits, &proof.commit_pow_witnesses)?;
            let indices = fri.query_phase(&proof.final_poly, Some(proof.query_pow_witness))?;
            fri.finish();
            Ok::<_, p3_fri::TranscriptFailure>((betas, indices))
        })
        .map_err(|e| rejected("FRI transcript", e))?;
    transcript.finish();

    // The rows every round's shared Merkle proof authenticates, from the native fold.
    let reduced = open_inputs(
        &params,
        log_max,
        &indices,
        &proof.input_openings,
        alpha,
        &val_mmcs,
        claims,
    )
    .map_err(|e| rejected("input openings", e))?;
    let rounds = shape.num_rounds();
    let folding = TwoAdicFriFolding::<(), ()>(PhantomData);
    let mut group_indices: Vec<Vec<usize>> = vec![Vec::new(); rounds];
    let mut rows_by_round: Vec<Vec<Vec<Vec<Challenge>>>> = vec![Vec::new(); rounds];
    for (query, (&index, openings)) in indices.iter().zip(reduced).enumerate() {
        let mut domain_index = index;
        // The folded value itself was checked against the final polynomial by `verify`.
        let _folded = fold_query::<_, Val, Challenge, ChallengeMmcs>(
            &folding,
            query,
            &mut domain_index,
            &betas,
            &shape.log_arities,
            &proof.commit_phase_openings,
            openings,
            log_max,
            shape.log_final_height(),
            &mut group_indices,
            &mut rows_by_round,
        )
        .map_err(|e| rejected("folding", e))?;
    }

    // Full Merkle paths, one per query.
    let mut input_paths = Vec::with_capacity(shape.batches.len());
    for (batch, opening) in proof.input_openings.iter().enumerate() {
        let shift = log_max - shape.batch_log_height(batch);
        let batch_indices: Vec<usize> = indices.iter().map(|&index| index >> shift).collect();
        let paths = val_mmcs
            .restore_and_recompute_paths(
                &shape.batch_dimensions(batch),
                &batch_indices,
                &opening.opened_values,
                &opening.opening_proof,
            )
            .map_err(|e| rejected("input Merkle paths", e))?;
        input_paths.push(paths);
    }
    let mut round_paths = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let flat_rows: Vec<Vec<Vec<Val>>> = rows_by_round[round]
            .iter()
            .map(|rows| {
                rows.iter()
                    .map(|row| {
                        row.iter()
                            .flat_map(|value| ext_coordinates_native(value).to_vec())
                            .collect()
                    })
                    .collect()
            })
            .collect();
        let paths = val_mmcs
            .restore_and_recompute_paths(
                &[shape.round_dimensions(round)],
                &group_indices[round],
                &flat_rows,
                &proof.commit_phase_openings[round].opening_proof,
            )
            .map_err(|e| rejected("commit-phase Merkle paths", e))?;
        round_paths.push(paths);
    }

    let queries = (0..settings.num_queries)
        .map(|q| QueryWitness {
            input_openings: proof
                .input_openings
                .iter()
                .zip(&input_paths)
                .map(|(opening, paths)| InputOpeningWitness {
                    rows: opening.opened_values[q].clone(),
                    siblings: paths[q].siblings.clone(),
                })
                .collect(),
            commit_phase_openings: proof
                .commit_phase_openings
                .iter()
                .zip(&round_paths)
                .map(|(opening, paths)| CommitPhaseOpeningWitness {
                    sibling_values: opening.sibling_values[q].clone(),
                    siblings: paths[q].siblings.clone(),
                })
                .collect(),
        })
        .collect();
    let witness = FriProofWitness {
        batch_pow_witness: proof.batch_pow_witness,
        commit_phase_commitments: proof
            .commit_phase_commits
            .iter()
            .map(cap_root)
            .collect::<Result<_, _>>()?,
        commit_pow_witnesses: proof.commit_pow_witnesses.clone(),
        final_poly: proof.final_poly.clone(),
        query_pow_witness: proof.query_pow_witness,
        queries,
    };
    witness.check_shape(shape)?;
    Ok(witness)
}

#[cfg(test)]
mod tests {
    use p3_challenger::FieldChallenger;
    use p3_commit::{OpeningRequest, Pcs as _};
    use p3_field::PrimeField32;
    use p3_matrix::dense::RowMajorMatrix;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use zkmips_prover::config::INNER_FRI;

    use super::*;
    use crate::ir::{CellSource, Instr, Program};
    use crate::runtime::{RuntimeError, execute};

    /// One committed matrix: log2 of its trace height, its width, whether it is also opened at
    /// ζ·g (as a trace read on the next row).
    #[derive(Clone, Copy, Debug)]
    struct Spec {
        log_degree: usize,
        width: usize,
        opens_next: bool,
    }

    const fn spec(log_degree: usize, width: usize, opens_next: bool) -> Spec {
        Spec {
            log_degree,
            width,
            opens_next,
        }
    }

    /// Rate 1/2, arity 2, constant final polynomial as the inner config, with few queries and
    /// small (non-zero) grinding so the transcript's PoW checks run.
    const SMALL_INNER: FriSettings = FriSettings {
        log_blowup: 1,
        num_queries: 3,
        query_pow_bits: 8,
        commit_pow_bits: 2,
        batch_pow_bits: 4,
        lookup_pow_bits: 0,
        ood_pow_bits: 0,
        log_final_poly_len: 0,
        max_log_arity: 1,
    };

    /// Heights 2^4 (two matrices, one opened at two points), 2^3, 2^2 and a one-row trace
    /// (LDE height = blowup: its quotient must vanish), one batch each but the first.
    fn small_inner_specs() -> Vec<Vec<Spec>> {
        vec![
            vec![spec(3, 3, true), spec(2, 5, false)],
            vec![spec(3, 4, false)],
            vec![spec(1, 2, true)],
            vec![spec(0, 2, false)],
        ]
    }

    /// Rate 1/4, arities up to 8, a final polynomial of 2 coefficients, no grinding (every
    /// PoW witness must then be zero).
    const WIDE_ARITY: FriSettings = FriSettings {
        log_blowup: 2,
        num_queries: 2,
        query_pow_bits: 0,
        commit_pow_bits: 0,
        batch_pow_bits: 0,
        lookup_pow_bits: 0,
        ood_pow_bits: 0,
        log_final_poly_len: 1,
        max_log_arity: 3,
    };

    /// LDE heights 2^9 and 2^4: the schedule folds by 8, 4 and 2.
    fn wide_arity_specs() -> Vec<Vec<Spec>> {
        vec![
            vec![spec(7, 2, true)],
            vec![spec(2, 3, false), spec(2, 1, true)],
        ]
    }

    struct Fixture {
        specs: Vec<Vec<Spec>>,
        claims: Vec<InnerClaim>,
        proof: InnerPcsProof,
        /// The verifier's transcript just before `Pcs::verify`.
        challenger: Challenger,
        shape: PcsShape,
    }

    fn points_of(spec: &Spec, zeta: Challenge) -> Vec<Challenge> {
        let mut points = vec![zeta];
        if spec.opens_next {
            points.push(zeta * Val::two_adic_generator(spec.log_degree));
        }
        points
    }

    /// A real opening proof of random matrices: commit each batch, observe the commitments,
    /// sample ζ, open with p3's prover.
    fn fixture(settings: FriSettings, specs: Vec<Vec<Spec>>, seed: u64) -> Fixture {
        let mut rng = StdRng::seed_from_u64(seed);
        let (val_mmcs, challenge_mmcs) = inner_mmcs();
        let pcs = InnerPcs::new(
            Dft::default(),
            val_mmcs,
            settings.fri_parameters(challenge_mmcs),
        );
        let mut commitments = Vec::new();
        let mut prover_data = Vec::new();
        for batch in &specs {
            let evaluations: Vec<_> = batch
                .iter()
                .map(|m| {
                    let domain = p3_commit::Pcs::<Challenge, Challenger>::natural_domain_for_degree(
                        &pcs,
                        1 << m.log_degree,
                    );
                    let values = (0..(m.width << m.log_degree))
                        .map(|_| Val::from_u32(rng.random_range(0..Val::ORDER_U32)))
                        .collect();
                    (domain, RowMajorMatrix::new(values, m.width))
                })
                .collect();
            let (commitment, data) =
                p3_commit::Pcs::<Challenge, Challenger>::commit(&pcs, evaluations).unwrap();
            commitments.push(commitment);
            prover_data.push(data);
        }
        let mut challenger = Challenger::new(inner_perm());
        for commitment in &commitments {
            challenger.observe(commitment.clone());
        }
        let zeta: Challenge = challenger.sample_algebra_element();
        let verifier_challenger = challenger.clone();
        let requests = specs
            .iter()
            .zip(&prover_data)
            .map(|(batch, data)| OpeningRequest {
                prover_data: data,
                points: batch.iter().map(|m| points_of(m, zeta)).collect(),
            })
            .collect();
        let (opened, proof) = pcs.open(requests, &mut challenger).unwrap();
        let claims: Vec<InnerClaim> = specs
            .iter()
            .zip(commitments)
            .zip(opened)
            .map(|((batch, commitment), opened)| {
                let matrices: Vec<_> = batch
                    .iter()
                    .zip(opened)
                    .map(|(m, values)| {
                        let domain =
                            p3_commit::Pcs::<Challenge, Challenger>::natural_domain_for_degree(
                                &pcs,
                                1 << m.log_degree,
                            );
                        let points: Vec<_> = points_of(m, zeta).into_iter().zip(values).collect();
                        (domain, points)
                    })
                    .collect();
                (commitment, matrices).into()
            })
            .collect();
        p3_commit::Pcs::<Challenge, Challenger>::verify(
            &pcs,
            claims.clone(),
            &proof,
            &mut verifier_challenger.clone(),
        )
        .expect("the native verifier accepts the fixture");
        let shape = shape_of_claims(&settings, &claims).unwrap();
        Fixture {
            specs,
            claims,
            proof,
            challenger: verifier_challenger,
            shape,
        }
    }

    /// The program of a fixture: the commitments and claimed values read from the witness, ζ
    /// sampled in-program after observing the commitments (as natively), the points derived
    /// from ζ, then the opening argument.
    fn program(specs: &[Vec<Spec>], shape: &PcsShape) -> Program {
        let mut builder = Builder::new();
        let mut challenger = DuplexChallengerVar::new(&mut builder);
        let commitments: Vec<DigestVar> = specs.iter().map(|_| read_digest(&mut builder)).collect();
        for &commitment in &commitments {
            challenger.observe_digest(&mut builder, commitment);
        }
        let zeta = challenger.sample_ext(&mut builder);
        let claims: Vec<BatchClaimVar> = specs
            .iter()
            .zip(commitments)
            .map(|(batch, commitment)| BatchClaimVar {
                commitment,
                matrices: batch
                    .iter()
                    .map(|m| {
                        let mut points = vec![zeta];
                        if m.opens_next {
                            let g = builder.ext_constant(Challenge::from(Val::two_adic_generator(
                                m.log_degree,
                            )));
                            points.push(builder.ext_mul(zeta, g));
                        }
                        MatrixClaimVar {
                            points: points
                                .into_iter()
                                .map(|point| {
                                    (point, (0..m.width).map(|_| builder.witness_ext()).collect())
                                })
                                .collect(),
                        }
                    })
                    .collect(),
            })
            .collect();
        let proof = FriProofVar::read(&mut builder, shape);
        verify_pcs(&mut builder, &mut challenger, shape, &claims, &proof).unwrap();
        builder.build().unwrap()
    }

    /// What [`program`] reads before the proof: commitment roots, then every claimed value.
    fn claims_stream(claims: &[InnerClaim]) -> Vec<Val> {
        let mut out = Vec::new();
        for claim in claims {
            out.extend_from_slice(&cap_root(&claim.commitment).unwrap());
        }
        for claim in claims {
            for matrix in &claim.matrices {
                for point in &matrix.points {
                    for value in &point.values {
                        out.extend_from_slice(ext_coordinates_native(value));
                    }
                }
            }
        }
        out
    }

    fn run(
        fixture: &Fixture,
        witness: &FriProofWitness,
    ) -> Result<(), crate::runtime::RuntimeError> {
        let mut stream = claims_stream(&fixture.claims);
        stream.extend(witness.stream());
        execute(&program(&fixture.specs, &fixture.shape), &stream).map(|_| ())
    }

    fn honest_witness(fixture: &Fixture) -> FriProofWitness {
        extract_fri_witness(
            &fixture.shape,
            &fixture.claims,
            &fixture.proof,
            &fixture.challenger,
        )
        .unwrap()
    }

    #[test]
    fn inner_like_opening_verifies() {
        let fixture = fixture(SMALL_INNER, small_inner_specs(), 1);
        assert_eq!(fixture.shape.log_global_max_height, 4);
        assert_eq!(fixture.shape.log_arities, vec![1, 1, 1]);
        let witness = honest_witness(&fixture);
        run(&fixture, &witness).expect("the honest opening passes");
    }

    #[test]
    fn wide_arity_opening_verifies() {
        let fixture = fixture(WIDE_ARITY, wide_arity_specs(), 2);
        assert_eq!(fixture.shape.log_global_max_height, 9);
        assert_eq!(fixture.shape.log_arities, vec![3, 2, 1]);
        let witness = honest_witness(&fixture);
        run(&fixture, &witness).expect("the honest opening passes");
    }

    /// Every cell `FriProofVar::read` allocates holds the native value it stands for, and the
    /// stream is consumed exactly (`execute` rejects leftovers and shortfalls).
    #[test]
    fn witness_stream_round_trips() {
        for (settings, specs, seed) in [
            (SMALL_INNER, small_inner_specs(), 3),
            (WIDE_ARITY, wide_arity_specs(), 4),
        ] {
            let fixture = fixture(settings, specs, seed);
            let witness = honest_witness(&fixture);
            let mut builder = Builder::new();
            let proof = FriProofVar::read(&mut builder, &fixture.shape);
            let execution = execute(&builder.build().unwrap(), &witness.stream()).unwrap();
            let base = |felt: Felt| {
                let block = execution.value(felt.addr());
                assert!(block[1..].iter().all(|c| *c == Val::ZERO));
                block[0]
            };
            let ext = |value: Ext| crate::ir::block_ext(execution.value(value.addr()));
            let digest = |d: &DigestVar| d.map(base);
            let read_back = FriProofWitness {
                batch_pow_witness: base(proof.batch_pow_witness),
                commit_phase_commitments: proof
                    .commit_phase_commitments
                    .iter()
                    .map(digest)
                    .collect(),
                commit_pow_witnesses: proof
                    .commit_pow_witnesses
                    .iter()
                    .map(|&w| base(w))
                    .collect(),
                final_poly: proof.final_poly.iter().map(|&c| ext(c)).collect(),
                query_pow_witness: base(proof.query_pow_witness),
                queries: proof
                    .queries
                    .iter()
                    .map(|query| QueryWitness {
                        input_openings: query
                            .input_openings
                            .iter()
                            .map(|opening| InputOpeningWitness {
                                rows: opening
                                    .rows
                                    .iter()
                                    .map(|row| row.iter().map(|&v| base(v)).collect())
                                    .collect(),
                                siblings: opening.siblings.iter().map(digest).collect(),
                            })
                            .collect(),
                        commit_phase_openings: query
                            .commit_phase_openings
                            .iter()
                            .map(|opening| CommitPhaseOpeningWitness {
                                sibling_values: opening
                                    .sibling_values
                                    .iter()
                                    .map(|c| {
                                        <Challenge as p3_field::BasedVectorSpace<
                                                            Val,
                                                        >>::from_basis_coefficients_fn(
                                                            |i| base(c[i]),
                                                        )
                                    })
                                    .collect(),
                                siblings: opening.siblings.iter().map(digest).collect(),
                            })
                            .collect(),
                    })
                    .collect(),
            };
            assert_eq!(read_back, witness);
        }
    }

    /// The run fails on an assertion or an inverse of zero (never on the stream's length:
    /// tampering keeps the layout).
    fn assert_rejected(fixture: &Fixture, witness: &FriProofWitness, what: &str) {
        match run(fixture, witness) {
            Err(RuntimeError::AssertionFailed { .. } | RuntimeError::InverseOfZero { .. }) => {}
            other => panic!("{what} must be rejected by a check, got {other:?}"),
        }
    }

    #[test]
    fn tampered_witness_is_rejected() {
        let fixture = fixture(SMALL_INNER, small_inner_specs(), 5);
        let honest = honest_witness(&fixture);
        run(&fixture, &honest).expect("the honest opening passes");
        let one = Challenge::ONE;

        let mut w = honest.clone();
        w.queries[0].input_openings[0].rows[1][4] += Val::ONE;
        assert_rejected(&fixture, &w, "an opened input value");

        let mut w = honest.clone();
        w.queries[2].input_openings[3].rows[0][1] += Val::ONE;
        assert_rejected(&fixture, &w, "an opened value of the one-row trace");

        let mut w = honest.clone();
        w.queries[1].input_openings[1].siblings[2][5] += Val::ONE;
        assert_rejected(&fixture, &w, "an input Merkle sibling");

        let mut w = honest.clone();
        w.queries[0].commit_phase_openings[1].sibling_values[0] += one;
        assert_rejected(&fixture, &w, "a commit-phase sibling value");

        let mut w = honest.clone();
        w.queries[2].commit_phase_openings[0].siblings[1][0] += Val::ONE;
        assert_rejected(&fixture, &w, "a commit-phase Merkle sibling");

        let mut w = honest.clone();
        w.commit_phase_commitments[2][7] += Val::ONE;
        assert_rejected(&fixture, &w, "a commit-phase commitment");

        let mut w = honest.clone();
        w.final_poly[0] += one;
        assert_rejected(&fixture, &w, "a final-polynomial coefficient");

        for (site, tamper) in [("batch", 0usize), ("commit", 1), ("query", 2)] {
            let mut w = honest.clone();
            match tamper {
                0 => w.batch_pow_witness += Val::ONE,
                1 => w.commit_pow_witnesses[1] += Val::ONE,
                _ => w.query_pow_witness += Val::ONE,
            }
            assert_rejected(&fixture, &w, &format!("the {site} PoW witness"));
        }

        // A claimed value differs from the one the proof was made for.
        let mut claims = fixture.claims.clone();
        claims[0].matrices[0].points[1].values[2] += one;
        let mut stream = claims_stream(&claims);
        stream.extend(honest.stream());
        assert!(matches!(
            execute(&program(&fixture.specs, &fixture.shape), &stream),
            Err(RuntimeError::AssertionFailed { .. })
        ));

        // The witness of another query order (queries swapped) does not fit the sampled indices.
        let mut w = honest.clone();
        w.queries.swap(0, 1);
        assert_rejected(&fixture, &w, "the openings of another query");
    }

    #[test]
    fn zero_bit_pow_witnesses_must_be_zero() {
        let fixture = fixture(WIDE_ARITY, wide_arity_specs(), 6);
        let honest = honest_witness(&fixture);
        run(&fixture, &honest).expect("the honest opening passes");
        let mut w = honest.clone();
        w.batch_pow_witness = Val::ONE;
        assert_rejected(&fixture, &w, "a non-zero batch PoW witness at 0 bits");
        let mut w = honest.clone();
        w.commit_pow_witnesses[2] = Val::ONE;
        assert_rejected(&fixture, &w, "a non-zero commit PoW witness at 0 bits");
        let mut w = honest.clone();
        w.query_pow_witness = Val::ONE;
        assert_rejected(&fixture, &w, "a non-zero query PoW witness at 0 bits");
        // Arity-8 and arity-4 rows: a sibling value in each.
        for round in 0..2 {
            let mut w = honest.clone();
            w.queries[1].commit_phase_openings[round].sibling_values[round + 1] += Challenge::ONE;
            assert_rejected(&fixture, &w, &format!("a round-{round} sibling value"));
        }
        let mut w = honest.clone();
        w.final_poly[1] += Challenge::ONE;
        assert_rejected(&fixture, &w, "the degree-1 final coefficient");
    }

    #[test]
    fn native_extraction_rejects_a_bad_proof() {
        let fixture = fixture(SMALL_INNER, small_inner_specs(), 7);
        let mut proof = fixture.proof.clone();
        proof.final_poly[0] += Challenge::ONE;
        assert!(matches!(
            extract_fri_witness(&fixture.shape, &fixture.claims, &proof, &fixture.challenger),
            Err(PcsError::Rejected(_))
        ));
    }

    #[test]
    fn malformed_shapes_are_errors() {
        let m = |log_lde_height, width, num_points| MatrixShape {
            log_lde_height,
            width,
            num_points,
        };
        let with = |f: fn(&mut FriSettings)| {
            let mut settings = SMALL_INNER;
            f(&mut settings);
            settings
        };
        let ok = vec![vec![m(4, 2, 1)]];
        assert!(PcsShape::new(&SMALL_INNER, ok.clone()).is_ok());
        assert_eq!(
            PcsShape::new(&with(|s| s.num_queries = 0), ok.clone()),
            Err(PcsError::ZeroQueries)
        );
        assert_eq!(
            PcsShape::new(&with(|s| s.log_blowup = 0), ok.clone()),
            Err(PcsError::ZeroBlowup)
        );
        assert_eq!(
            PcsShape::new(&with(|s| s.max_log_arity = 0), ok.clone()),
            Err(PcsError::ZeroFoldingArity)
        );
        assert_eq!(
            PcsShape::new(&SMALL_INNER, vec![vec![]]),
            Err(PcsError::NoCommittedMatrices)
        );
        assert_eq!(
            PcsShape::new(&SMALL_INNER, vec![vec![m(4, 2, 0)]]),
            Err(PcsError::MatrixWithoutPoints {
                batch: 0,
                matrix: 0
            })
        );
        assert!(matches!(
            PcsShape::new(&SMALL_INNER, vec![vec![m(0, 2, 1)]]),
            Err(PcsError::HeightOutOfRange { .. })
        ));
        assert!(matches!(
            PcsShape::new(&SMALL_INNER, vec![vec![m(25, 2, 1)]]),
            Err(PcsError::HeightOutOfRange { .. })
        ));
        // A final polynomial of 4 coefficients over an LDE of 2^2 rows.
        assert!(PcsShape::new(&with(|s| s.log_final_poly_len = 2), ok.clone()).is_ok());
        assert!(matches!(
            PcsShape::new(&with(|s| s.log_final_poly_len = 2), vec![vec![m(2, 2, 1)]]),
            Err(PcsError::FinalHeight { .. })
        ));
        // An input below the final height is never rolled in.
        assert!(matches!(
            PcsShape::new(
                &with(|s| s.log_final_poly_len = 2),
                vec![vec![m(6, 2, 1), m(2, 1, 1)]]
            ),
            Err(PcsError::HeightNeverFolded { log_height: 2 })
        ));

        // Claims or proof variables of another shape are errors, not programs.
        let shape = PcsShape::new(&SMALL_INNER, ok).unwrap();
        let mut builder = Builder::new();
        let mut challenger = DuplexChallengerVar::new(&mut builder);
        let proof = FriProofVar::read(&mut builder, &shape);
        let commitment = read_digest(&mut builder);
        let point = builder.witness_ext();
        let claims = vec![BatchClaimVar {
            commitment,
            matrices: vec![MatrixClaimVar {
                points: vec![(point, vec![point])],
            }],
        }];
        assert!(matches!(
            verify_pcs(&mut builder, &mut challenger, &shape, &claims, &proof),
            Err(PcsError::Count { .. })
        ));
        let mut short = proof.clone();
        short.queries.pop();
        let claims = vec![BatchClaimVar {
            commitment,
            matrices: vec![MatrixClaimVar {
                points: vec![(point, vec![point, point])],
            }],
        }];
        assert!(matches!(
            verify_pcs(&mut builder, &mut challenger, &shape, &claims, &short),
            Err(PcsError::Count { .. })
        ));
    }

    #[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
    struct Counts {
        base_alu: usize,
        ext_alu: usize,
        poseidon2: usize,
        witness_cells: usize,
        hint_cells: usize,
        const_cells: usize,
    }

    impl core::ops::Sub for Counts {
        type Output = Counts;
        fn sub(self, other: Counts) -> Counts {
            Counts {
                base_alu: self.base_alu - other.base_alu,
                ext_alu: self.ext_alu - other.ext_alu,
                poseidon2: self.poseidon2 - other.poseidon2,
                witness_cells: self.witness_cells - other.witness_cells,
                hint_cells: self.hint_cells - other.hint_cells,
                const_cells: self.const_cells - other.const_cells,
            }
        }
    }

    fn counts(program: &Program) -> Counts {
        let mut counts = Counts::default();
        for instr in program.instrs() {
            match instr {
                Instr::BaseAlu { .. } => counts.base_alu += 1,
                Instr::ExtAlu { .. } => counts.ext_alu += 1,
                Instr::Poseidon2 { .. } => counts.poseidon2 += 1,
                Instr::Cell { source, .. } => match source {
                    CellSource::Witness { .. } => counts.witness_cells += 1,
                    CellSource::Hint(_) => counts.hint_cells += 1,
                    CellSource::Const(_) => counts.const_cells += 1,
                },
                Instr::Public { .. } => {}
            }
        }
        counts
    }

    /// The opening-argument program alone for `batches` (claims read from the witness).
    fn shape_program(settings: &FriSettings, batches: Vec<Vec<MatrixShape>>) -> Program {
        let shape = PcsShape::new(settings, batches).unwrap();
        let mut builder = Builder::new();
        let mut challenger = DuplexChallengerVar::new(&mut builder);
        let claims: Vec<BatchClaimVar> = shape
            .batches
            .iter()
            .map(|matrices| BatchClaimVar {
                commitment: read_digest(&mut builder),
                matrices: matrices
                    .iter()
                    .map(|m| MatrixClaimVar {
                        points: (0..m.num_points)
                            .map(|_| {
                                let point = builder.witness_ext();
                                (point, (0..m.width).map(|_| builder.witness_ext()).collect())
                            })
                            .collect(),
                    })
                    .collect(),
            })
            .collect();
        let proof = FriProofVar::read(&mut builder, &shape);
        verify_pcs(&mut builder, &mut challenger, &shape, &claims, &proof).unwrap();
        builder.build().unwrap()
    }

    fn per_query(settings: &FriSettings, batches: Vec<Vec<MatrixShape>>) -> (Counts, Counts) {
        let mut one = *settings;
        one.num_queries = 1;
        let mut two = *settings;
        two.num_queries = 2;
        let single = counts(&shape_program(&one, batches.clone()));
        let double = counts(&shape_program(&two, batches));
        let query = double - single;
        (single - query, query)
    }

    /// Instruction counts of the inner opening argument: per query and for the whole proof, on
    /// a one-matrix shape and on a MIPS-sized batch (an estimate of a shard: 12 chips with
    /// traces of 2^8..2^20 rows, their LogUp columns and quotient chunks).
    #[test]
    fn instruction_counts_of_the_inner_opening() {
        let m = |log_degree: usize, width, num_points| MatrixShape {
            log_lde_height: log_degree + INNER_FRI.log_blowup,
            width,
            num_points,
        };
        let small = vec![vec![m(10, 8, 2)]];
        let chips: [(usize, usize, usize); 12] = [
            (20, 60, 6),
            (19, 40, 4),
            (18, 30, 3),
            (18, 50, 4),
            (17, 25, 3),
            (16, 20, 2),
            (16, 35, 3),
            (14, 15, 2),
            (12, 10, 2),
            (10, 10, 1),
            (8, 6, 1),
            (8, 4, 1),
        ];
        let mips = vec![
            chips.iter().map(|&(d, w, _)| m(d, w, 2)).collect(),
            chips.iter().map(|&(d, _, l)| m(d, 4 * l, 2)).collect(),
            chips
                .iter()
                .flat_map(|&(d, _, _)| [m(d, 4, 1), m(d, 4, 1)])
                .collect(),
        ];
        for (name, batches) in [("one 2^10 x 8 trace", small), ("MIPS-sized batch", mips)] {
            let (fixed, query) = per_query(&INNER_FRI, batches);
            let total = |per: usize, once: usize| once + INNER_FRI.num_queries * per;
            println!(
                "{name}: per query {query:?}; once {fixed:?}; whole proof ({} queries): base ALU {}, \
                 ext ALU {}, Poseidon2 {}",
                INNER_FRI.num_queries,
                total(query.base_alu, fixed.base_alu),
                total(query.ext_alu, fixed.ext_alu),
                total(query.poseidon2, fixed.poseidon2),
            );
            assert!(query.poseidon2 > 0 && query.base_alu > 0 && query.ext_alu > 0);
        }
    }
}
