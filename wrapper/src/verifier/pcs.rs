//! The opening argument in-circuit: `TwoAdicFriPcs::verify` and `p3_fri::verifier::verify_fri`
//! of p3-fri 0.8 over any list of claims (commitments → matrices → points), so the uni-STARK
//! circuit and the batch-STARK circuit (several AIRs, more commitments) share it.
//!
//! Mirrored step by step:
//! - PCS transcript: the `PcsShape` seed, every claimed evaluation (commitment, matrix, point
//!   order), the batching proof of work, the batching challenge α.
//! - FRI transcript: the `FriShape` seed; per round the commitment, its proof of work and β;
//!   the final polynomial, the query proof of work, the query indices (`log_lde_height` bits).
//! - `open_inputs`: each input commitment's rows at the query (one full Merkle path per query)
//!   and the DEEP quotients `Σ_points (Σ α^(o+i) p_i(z) − Σ α^(o+i) f_i(x)) / (z − x)` per height,
//!   with `x = GENERATOR · g_h^rev(index)` and the α offsets running per height as p3's ladder.
//! - `fold_query`: per round the opened coset row must hold the current value at the position
//!   the low index bits select and be a leaf of the round's commitment; the row is folded
//!   (`fri::fold_row`), shorter inputs are rolled in with β^arity, and the last value must equal
//!   the final polynomial at `g_L^rev(index)`.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use ark_r1cs_std::boolean::Boolean;
use ark_r1cs_std::fields::FieldVar;
use ark_r1cs_std::fields::fp::FpVar;
use ark_relations::gr1cs::SynthesisError;
use p3_field::{BasedVectorSpace, Field, PrimeCharacteristicRing, TwoAdicField};
use p3_koala_bear::KoalaBear;
use zkmips_prover::config::FriSettings;

use crate::Fr;
use crate::challenger::ChallengerVar;
use crate::fri::{beta_powers, fold_row, power_of_reversed_index};
use ark_r1cs_std::GR1CSVar;

use crate::koalabear::{KbExtVar, KbVar, KoalaBearExt};
use crate::merkle::{flatten_ext_row, verify_batch, verify_path};

/// One committed matrix: its LDE height and the points it is opened at with the claimed values.
pub struct MatrixClaimVar {
    pub log_lde_height: usize,
    pub points: Vec<(KbExtVar, Vec<KbExtVar>)>,
}

/// One input commitment and its matrices, in commitment order.
pub struct BatchClaimVar {
    pub commitment: FpVar<Fr>,
    pub matrices: Vec<MatrixClaimVar>,
}

/// One query's input openings and FRI rounds.
pub struct QueryVar {
    /// `inputs[batch][matrix]`: the opened row (canonical base values).
    pub inputs: Vec<Vec<Vec<KbVar>>>,
    /// `input_siblings[batch]`: its full Merkle path, bottom-up.
    pub input_siblings: Vec<Vec<FpVar<Fr>>>,
    /// Per round: the opened coset row (canonical) and its Merkle path.
    pub rounds: Vec<(Vec<KbExtVar>, Vec<FpVar<Fr>>)>,
}

pub struct FriProofVar {
    pub batch_pow_witness: KbVar,
    pub commit_phase_commitments: Vec<FpVar<Fr>>,
    pub commit_pow_witnesses: Vec<KbVar>,
    pub final_poly: Vec<KbExtVar>,
    pub query_pow_witness: KbVar,
    pub queries: Vec<QueryVar>,
}

/// The circuit-shape data of the opening argument (see `witness::UniStarkShape`).
pub struct PcsShapeVar<'a> {
    pub settings: &'a FriSettings,
    pub pcs_seed: &'a [KoalaBear],
    pub fri_seed: &'a [KoalaBear],
    pub log_arities: &'a [usize],
    pub log_lde_height: usize,
}

/// A proof-of-work site: with `bits > 0` the challenger check; with `bits = 0` p3 requires the
/// witness to be zero (`check_canonical_pow_witnesses`) and observes nothing.
pub fn check_pow(
    challenger: &mut ChallengerVar,
    bits: usize,
    witness: &KbVar,
) -> Result<(), SynthesisError> {
    if bits == 0 {
        return witness.enforce_equal(&KbVar::zero());
    }
    challenger.check_witness(bits, witness)
}

/// Observes a domain-separator seed (constants).
pub fn observe_seed(
    challenger: &mut ChallengerVar,
    seed: &[KoalaBear],
) -> Result<(), SynthesisError> {
    for &value in seed {
        challenger.observe(&KbVar::constant(value))?;
    }
    Ok(())
}

/// Enforces that `point` is not in the base field: its coefficients 1..3 are not all zero,
/// shown by witnesses `s_i` with `Σ c_i s_i = 1` (an inverse of the first non-zero one).
pub fn enforce_outside_base_field(point: &KbExtVar) -> Result<(), SynthesisError> {
    let cs = point
        .coeffs
        .iter()
        .map(|c| c.fp().cs())
        .find(|cs| !cs.is_none());
    let Some(cs) = cs else {
        // A constant point: decided at synthesis.
        let value = point.value()?;
        return if BasedVectorSpace::<KoalaBear>::as_basis_coefficients_slice(&value)[1..]
            .iter()
            .any(|c| *c != KoalaBear::ZERO)
        {
            Ok(())
        } else {
            Err(SynthesisError::Unsatisfiable)
        };
    };
    let mut sum = KbVar::zero();
    for i in 1..4 {
        let weight = KbVar::new_witness(cs.clone(), || {
            let value = point.value()?;
            let coeffs: &[KoalaBear] = value.as_basis_coefficients_slice();
            let first_non_zero = (1..4).find(|&j| coeffs[j] != KoalaBear::ZERO);
            Ok(match first_non_zero {
                Some(j) if j == i => coeffs[i].inverse(),
                _ => KoalaBear::ZERO,
            })
        })?;
        sum = sum.add(&point.coeffs[i].mul(&weight)?)?;
    }
    sum.enforce_equal(&KbVar::constant(KoalaBear::ONE))
}

/// `[1, α, …, α^(n-1)]`, canonical.
fn alpha_powers(alpha: &KbExtVar, n: usize) -> Result<Vec<KbExtVar>, SynthesisError> {
    let alpha = alpha.reduce()?;
    let mut powers = vec![KbExtVar::constant(KoalaBearExt::ONE)];
    while powers.len() < n {
        let next = powers[powers.len() - 1].mul(&alpha)?.reduce()?;
        powers.push(next);
    }
    powers.truncate(n);
    Ok(powers)
}

/// One-hot flags of the value of `bits` (little-endian): `flags[j] = [value == j]`.
fn one_hot(bits: &[Boolean<Fr>]) -> Vec<FpVar<Fr>> {
    let mut flags = vec![FpVar::one()];
    for bit in bits {
        let bit = FpVar::from(bit.clone());
        let half = flags.len();
        let mut next = vec![FpVar::zero(); 2 * half];
        for (j, flag) in flags.iter().enumerate() {
            let with_bit = flag * &bit;
            next[j] = flag - &with_bit;
            next[j + half] = with_bit;
        }
        flags = next;
    }
    flags
}

/// `Σ_j flags[j] · row[j]`: the row entry the one-hot flags select.
fn select(flags: &[FpVar<Fr>], row: &[KbExtVar]) -> Result<KbExtVar, SynthesisError> {
    let mut selected = KbExtVar::constant(KoalaBearExt::ZERO);
    for (flag, value) in flags.iter().zip(row) {
        let flag = KbVar::from_flag(flag.clone());
        selected = selected.add(&value.mul_base(&flag)?)?;
    }
    Ok(selected)
}

/// A DEEP opening point: its height, its α offset in that height's ladder and the
/// query-independent `Σ α^(o+i) p_i(z)`.
struct PointReduction {
    log_height: usize,
    offset: usize,
    sum_at_z: KbExtVar,
}

/// Constraints per part of the opening argument, summed over queries.
#[derive(Clone, Debug, Default)]
pub struct PcsCost {
    pub transcript: usize,
    pub deep_global: usize,
    pub input_merkle: usize,
    pub deep_per_query: usize,
    pub fri_rounds: usize,
    pub final_poly: usize,
}

impl PcsCost {
    pub fn parts(&self) -> Vec<(&'static str, usize)> {
        vec![
            (
                "PCS + FRI transcript (seeds, claimed values, PoW, α, β, indices)",
                self.transcript,
            ),
            (
                "DEEP: α powers and sums at the opening points (once)",
                self.deep_global,
            ),
            ("input Merkle openings (all queries)", self.input_merkle),
            (
                "DEEP quotients at the query points (all queries)",
                self.deep_per_query,
            ),
            (
                "FRI rounds: position check, Merkle path, fold (all queries)",
                self.fri_rounds,
            ),
            ("final polynomial evaluation (all queries)", self.final_poly),
        ]
    }
}

struct Counter {
    cs: ark_relations::gr1cs::ConstraintSystemRef<Fr>,
    last: usize,
}

impl Counter {
    fn new(cs: ark_relations::gr1cs::ConstraintSystemRef<Fr>) -> Self {
        let last = cs.num_constraints();
        Self { cs, last }
    }
    /// Constraints added since the previous call.
    fn take(&mut self) -> usize {
        let now = self.cs.num_constraints();
        let added = now - self.last;
        self.last = now;
        added
    }
}

/// Replays the PCS + FRI transcript on `challenger` and enforces the whole opening argument
/// for `claims` (values already allocated by the caller, who binds them to its own checks).
pub fn verify_pcs(
    challenger: &mut ChallengerVar,
    shape: &PcsShapeVar<'_>,
    claims: &[BatchClaimVar],
    proof: &FriProofVar,
) -> Result<PcsCost, SynthesisError> {
    let mut cost = PcsCost::default();
    let mut counter = Counter::new(challenger.cs());
    let settings = shape.settings;
    let log_lde = shape.log_lde_height;
    let rounds = shape.log_arities.len();
    let shape_ok = proof.commit_phase_commitments.len() == rounds
        && proof.commit_pow_witnesses.len() == rounds
        && proof.final_poly.len() == 1 << settings.log_final_poly_len
        && proof.queries.len() == settings.num_queries
        && shape.log_arities.iter().sum::<usize>()
            + settings.log_blowup
            + settings.log_final_poly_len
            == log_lde
        && claims.iter().all(|c| {
            c.matrices
                .iter()
                .all(|m| m.log_lde_height <= log_lde && !m.points.is_empty())
        });
    if !shape_ok {
        return Err(SynthesisError::Unsatisfiable);
    }

    // PCS transcript.
    observe_seed(challenger, shape.pcs_seed)?;
    for claim in claims {
        for matrix in &claim.matrices {
            for (_, values) in &matrix.points {
                for value in values {
                    challenger.observe_ext(value)?;
                }
            }
        }
    }
    check_pow(
        challenger,
        settings.batch_pow_bits,
        &proof.batch_pow_witness,
    )?;
    let alpha = challenger.sample_ext()?;

    // FRI transcript.
    observe_seed(challenger, shape.fri_seed)?;
    let mut betas = Vec::with_capacity(rounds);
    for (commitment, witness) in proof
        .commit_phase_commitments
        .iter()
        .zip(&proof.commit_pow_witnesses)
    {
        challenger.observe_digest(commitment)?;
        check_pow(challenger, settings.commit_pow_bits, witness)?;
        betas.push(challenger.sample_ext()?);
    }
    for coefficient in &proof.final_poly {
        challenger.observe_ext(coefficient)?;
    }
    check_pow(
        challenger,
        settings.query_pow_bits,
        &proof.query_pow_witness,
    )?;
    let indices = (0..settings.num_queries)
        .map(|_| challenger.sample_bits(log_lde))
        .collect::<Result<Vec<_>, _>>()?;
    cost.transcript = counter.take();

    // Query-independent DEEP data: α powers and the sums at the opening points.
    let mut ladder_lengths = BTreeMap::<usize, usize>::new();
    for claim in claims {
        for matrix in &claim.matrices {
            for (_, values) in &matrix.points {
                *ladder_lengths.entry(matrix.log_lde_height).or_insert(0) += values.len();
            }
        }
    }
    let max_ladder = ladder_lengths.values().copied().max().unwrap_or(0);
    let powers = alpha_powers(&alpha, max_ladder)?;
    let mut ladder_offsets = BTreeMap::<usize, usize>::new();
    let mut reductions = Vec::new();
    for claim in claims {
        for matrix in &claim.matrices {
            for (_, values) in &matrix.points {
                let offset = ladder_offsets.entry(matrix.log_lde_height).or_insert(0);
                let mut sum_at_z = KbExtVar::constant(KoalaBearExt::ZERO);
                for (power, value) in powers[*offset..].iter().zip(values) {
                    sum_at_z = sum_at_z.add(&power.mul(value)?)?;
                }
                reductions.push(PointReduction {
                    log_height: matrix.log_lde_height,
                    offset: *offset,
                    sum_at_z,
                });
                *offset += values.len();
            }
        }
    }

    // Per round: powers of β for the fold and β^arity for rolling in shorter inputs.
    let round_powers = betas
        .iter()
        .zip(shape.log_arities)
        .map(|(beta, &log_arity)| beta_powers(beta, log_arity))
        .collect::<Result<Vec<_>, _>>()?;
    let beta_to_arity = betas
        .iter()
        .zip(&round_powers)
        .map(|(beta, powers)| powers[powers.len() - 1].mul(beta))
        .collect::<Result<Vec<_>, _>>()?;

    // p3 rejects an opening point equal to a query point (`OpeningPointMatchesQueryPoint`).
    // Query points lie in KoalaBear; requiring every opening point to lie outside it excludes
    // that once, instead of an inverse per query (an honest ζ is in the base field with
    // probability 2^-93).
    for claim in claims {
        for matrix in &claim.matrices {
            for (point, _) in &matrix.points {
                enforce_outside_base_field(point)?;
            }
        }
    }
    cost.deep_global = counter.take();

    for (bits, query) in indices.iter().zip(&proof.queries) {
        verify_query(
            &mut cost,
            &mut counter,
            shape,
            claims,
            &powers,
            &reductions,
            &round_powers,
            &beta_to_arity,
            &proof.commit_phase_commitments,
            &proof.final_poly,
            bits,
            query,
        )?;
    }
    Ok(cost)
}

#[allow(clippy::too_many_arguments)]
fn verify_query(
    cost: &mut PcsCost,
    counter: &mut Counter,
    shape: &PcsShapeVar<'_>,
    claims: &[BatchClaimVar],
    alpha_powers: &[KbExtVar],
    reductions: &[PointReduction],
    round_powers: &[Vec<KbExtVar>],
    beta_to_arity: &[KbExtVar],
    commitments: &[FpVar<Fr>],
    final_poly: &[KbExtVar],
    bits: &[Boolean<Fr>],
    query: &QueryVar,
) -> Result<(), SynthesisError> {
    let log_lde = shape.log_lde_height;
    if query.inputs.len() != claims.len()
        || query.input_siblings.len() != claims.len()
        || query.rounds.len() != shape.log_arities.len()
    {
        return Err(SynthesisError::Unsatisfiable);
    }

    // open_inputs: Merkle openings and DEEP quotients per height.
    let mut reduced = BTreeMap::<usize, KbExtVar>::new();
    let mut query_points = BTreeMap::<usize, KbVar>::new();
    let mut next_reduction = reductions.iter();
    for ((claim, rows), siblings) in claims.iter().zip(&query.inputs).zip(&query.input_siblings) {
        if rows.len() != claim.matrices.len() {
            return Err(SynthesisError::Unsatisfiable);
        }
        let batch_log_height = claim
            .matrices
            .iter()
            .map(|m| m.log_lde_height)
            .max()
            .ok_or(SynthesisError::Unsatisfiable)?;
        let openings: Vec<(usize, Vec<KbVar>)> = claim
            .matrices
            .iter()
            .zip(rows)
            .map(|(m, row)| (1usize << m.log_lde_height, row.clone()))
            .collect();
        cost.deep_per_query += counter.take();
        verify_batch(
            &openings,
            &bits[log_lde - batch_log_height..],
            siblings,
            &claim.commitment,
        )?;
        cost.input_merkle += counter.take();

        for (matrix, row) in claim.matrices.iter().zip(rows) {
            let log_height = matrix.log_lde_height;
            // x = GENERATOR · g_h^rev(index >> (L - h)), once per height and query.
            let x = match query_points.entry(log_height) {
                Entry::Occupied(known) => known.get().clone(),
                Entry::Vacant(slot) => {
                    let power = power_of_reversed_index(
                        KoalaBear::two_adic_generator(log_height),
                        &bits[log_lde - log_height..],
                    )?;
                    slot.insert(power.mul_constant(KoalaBear::GENERATOR)?.reduce()?)
                        .clone()
                }
            };
            for (point, values) in &matrix.points {
                let reduction = next_reduction.next().ok_or(SynthesisError::Unsatisfiable)?;
                if values.len() != row.len() || reduction.log_height != log_height {
                    return Err(SynthesisError::Unsatisfiable);
                }
                let mut sum_at_x = KbExtVar::constant(KoalaBearExt::ZERO);
                for (power, value) in alpha_powers[reduction.offset..].iter().zip(row) {
                    sum_at_x = sum_at_x.add(&power.mul_base(value)?)?;
                }
                // z ∉ KoalaBear (enforced once per point) and x ∈ KoalaBear, so z − x ≠ 0 and
                // the division's quotient is unique.
                let denominator = point.sub(&KbExtVar::from_base(x.clone()))?;
                let term = reduction.sum_at_z.sub(&sum_at_x)?.div(&denominator)?;
                let entry = reduced
                    .entry(log_height)
                    .or_insert_with(|| KbExtVar::constant(KoalaBearExt::ZERO));
                // Lazy: reduced only where a later product or equality needs it.
                *entry = entry.add(&term)?;
            }
        }
    }
    if let Some(at_blowup) = reduced.get(&shape.settings.log_blowup) {
        // A degree-0 input must reduce to zero (p3 rejects otherwise).
        at_blowup.enforce_equal(&KbExtVar::constant(KoalaBearExt::ZERO))?;
    }

    cost.deep_per_query += counter.take();

    // fold_query.
    let mut folded = reduced
        .remove(&log_lde)
        .ok_or(SynthesisError::Unsatisfiable)?;
    let mut consumed = 0;
    let mut log_height = log_lde;
    for (round, ((row, siblings), &log_arity)) in
        query.rounds.iter().zip(shape.log_arities).enumerate()
    {
        if row.len() != 1 << log_arity {
            return Err(SynthesisError::Unsatisfiable);
        }
        let position_bits = &bits[consumed..consumed + log_arity];
        let folded_index_bits = &bits[consumed + log_arity..];
        // The opened coset holds the current value at the position of the query.
        select(&one_hot(position_bits), row)?.enforce_equal(&folded)?;
        verify_path(
            &flatten_ext_row(row),
            folded_index_bits,
            siblings,
            &commitments[round],
        )?;
        folded = fold_row(folded_index_bits, log_arity, &round_powers[round], row)?;
        consumed += log_arity;
        log_height -= log_arity;
        if let Some(input) = reduced.remove(&log_height) {
            folded = folded.add(&beta_to_arity[round].mul(&input)?)?;
        }
    }
    if !reduced.is_empty() {
        // An input height the schedule never reaches: p3 rejects such a proof shape.
        return Err(SynthesisError::Unsatisfiable);
    }

    cost.fri_rounds += counter.take();

    // The final polynomial at x = g_L^rev_L(remaining index): Σ c_i x^i (p3's Horner sum,
    // coefficient 0 first), with canonical base powers of x so no extension value is reduced.
    let mut padded: Vec<Boolean<Fr>> = bits[consumed..].to_vec();
    padded.extend(std::iter::repeat_n(Boolean::FALSE, consumed));
    let x = power_of_reversed_index(KoalaBear::two_adic_generator(log_lde), &padded)?.reduce()?;
    let mut x_power = KbVar::constant(KoalaBear::ONE);
    let mut evaluation = KbExtVar::constant(KoalaBearExt::ZERO);
    for (i, coefficient) in final_poly.iter().enumerate() {
        if i > 0 {
            x_power = x_power.mul(&x)?.reduce()?;
        }
        evaluation = evaluation.add(&coefficient.mul_base(&x_power)?)?;
    }
    evaluation.enforce_equal(&folded)?;
    cost.final_poly += counter.take();
    Ok(())
}
