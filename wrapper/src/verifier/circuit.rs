//! The uni-STARK verifier circuit: `p3_uni_stark::verify` (p3 0.8) under the outer config, for
//! any AIR without preprocessed or periodic columns, as an arkworks `ConstraintSynthesizer`.

use ark_r1cs_std::alloc::AllocVar;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::FieldVar;
use ark_r1cs_std::fields::fp::FpVar;
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};
use p3_air::symbolic::{
    AirLayout, SymbolicAirBuilder, SymbolicExpression, get_symbolic_constraints,
};
use p3_air::{Air, BaseAir};
use p3_field::{PrimeCharacteristicRing, PrimeField32, TwoAdicField};
use p3_koala_bear::KoalaBear;
use p3_uni_stark::Proof;
use zkmips_prover::config::FriSettings;
use zkmips_prover::outer::OuterConfig;

use super::pcs::{
    BatchClaimVar, FriProofVar, MatrixClaimVar, PcsShapeVar, QueryVar, check_pow, observe_seed,
    verify_pcs,
};
use super::witness::{UniStarkShape, UniStarkWitness, WitnessError, extract_uni_stark};
use crate::Fr;
use crate::air::{
    ChunkDomain, OpenedRowsVar, ZetaPowers, enforce_ood_check, fold_constraints,
    recompose_quotient, selectors_at_point,
};
use crate::challenger::ChallengerVar;
use crate::koalabear::{KbExtVar, KbVar, KoalaBearExt};

/// KoalaBear public values packed per Groth16 public input (8 × 31 bits < 253 bits).
pub const PUBLIC_VALUES_PER_INPUT: usize = 8;

/// The Groth16 public inputs for `public_values`: 8 canonical values per BN254 element, value
/// `i` of a chunk weighted by `2^(31 i)` (injective: each value is range-checked to 31 bits).
pub fn pack_public_values(public_values: &[KoalaBear]) -> Vec<Fr> {
    public_values
        .chunks(PUBLIC_VALUES_PER_INPUT)
        .map(|chunk| {
            let mut packed = Fr::from(0u64);
            let mut weight = Fr::from(1u64);
            for value in chunk {
                packed += weight * Fr::from(value.as_canonical_u32());
                weight *= Fr::from(1u64 << 31);
            }
            packed
        })
        .collect()
}

/// Constraints added by each part of the circuit (for the docs and the size guard).
#[derive(Clone, Debug, Default)]
pub struct ConstraintBreakdown {
    pub parts: Vec<(&'static str, usize)>,
}

impl ConstraintBreakdown {
    pub fn total(&self) -> usize {
        self.parts.iter().map(|(_, n)| n).sum()
    }
}

pub(crate) struct Meter {
    cs: ConstraintSystemRef<Fr>,
    pub(crate) last: usize,
    pub(crate) breakdown: ConstraintBreakdown,
}

impl Meter {
    pub(crate) fn new(cs: &ConstraintSystemRef<Fr>) -> Self {
        Self {
            cs: cs.clone(),
            last: cs.num_constraints(),
            breakdown: ConstraintBreakdown::default(),
        }
    }
    pub(crate) fn mark(&mut self, part: &'static str) {
        let now = self.cs.num_constraints();
        if now > self.last {
            self.breakdown.parts.push((part, now - self.last));
        }
        self.last = now;
    }
}

pub(crate) fn ext_witnesses(
    cs: &ConstraintSystemRef<Fr>,
    values: &[crate::koalabear::KoalaBearExt],
) -> Result<Vec<KbExtVar>, SynthesisError> {
    values
        .iter()
        .map(|&v| KbExtVar::new_witness(cs.clone(), || Ok(v)))
        .collect()
}

pub(crate) fn base_witness(
    cs: &ConstraintSystemRef<Fr>,
    value: KoalaBear,
) -> Result<KbVar, SynthesisError> {
    KbVar::new_witness(cs.clone(), || Ok(value))
}

pub(crate) fn fr_witnesses(
    cs: &ConstraintSystemRef<Fr>,
    values: &[Fr],
) -> Result<Vec<FpVar<Fr>>, SynthesisError> {
    values
        .iter()
        .map(|&v| FpVar::new_witness(cs.clone(), || Ok(v)))
        .collect()
}

/// The FRI part of a proof (PoW witnesses, commit-phase commitments and openings, final
/// polynomial) as range-checked circuit witnesses, shared by the uni- and batch-STARK circuits.
pub(crate) fn fri_proof_witness(
    cs: &ConstraintSystemRef<Fr>,
    batch_pow_witness: KoalaBear,
    commit_phase_commitments: &[Fr],
    commit_pow_witnesses: &[KoalaBear],
    final_poly: &[KoalaBearExt],
    query_pow_witness: KoalaBear,
    queries: &[super::witness::QueryWitness],
) -> Result<FriProofVar, SynthesisError> {
    Ok(FriProofVar {
        batch_pow_witness: base_witness(cs, batch_pow_witness)?,
        commit_phase_commitments: fr_witnesses(cs, commit_phase_commitments)?,
        commit_pow_witnesses: commit_pow_witnesses
            .iter()
            .map(|&w| base_witness(cs, w))
            .collect::<Result<_, _>>()?,
        final_poly: ext_witnesses(cs, final_poly)?,
        query_pow_witness: base_witness(cs, query_pow_witness)?,
        queries: queries
            .iter()
            .map(|query| {
                Ok(QueryVar {
                    inputs: query
                        .inputs
                        .iter()
                        .map(|input| {
                            input
                                .rows
                                .iter()
                                .map(|row| {
                                    row.iter()
                                        .map(|&v| base_witness(cs, v))
                                        .collect::<Result<Vec<_>, _>>()
                                })
                                .collect::<Result<Vec<_>, _>>()
                        })
                        .collect::<Result<_, _>>()?,
                    input_siblings: query
                        .inputs
                        .iter()
                        .map(|input| fr_witnesses(cs, &input.siblings))
                        .collect::<Result<_, _>>()?,
                    rounds: query
                        .rounds
                        .iter()
                        .map(|round| {
                            Ok((
                                ext_witnesses(cs, &round.row)?,
                                fr_witnesses(cs, &round.siblings)?,
                            ))
                        })
                        .collect::<Result<_, SynthesisError>>()?,
                })
            })
            .collect::<Result<_, SynthesisError>>()?,
    })
}

/// Enforces, in `cs`, that `witness` is a proof of the AIR whose `constraints` are given, with
/// `public_values` exposed as packed public inputs ([`pack_public_values`]). Mirrors
/// `p3_uni_stark::verify_with_preprocessed` (no preprocessed trace, not zero-knowledge) with
/// `TwoAdicFriPcs::verify` as its opening argument.
pub fn synthesize_uni_stark(
    cs: &ConstraintSystemRef<Fr>,
    shape: &UniStarkShape,
    constraints: &[SymbolicExpression<KoalaBear>],
    public_values: &[KoalaBear],
    witness: &UniStarkWitness,
) -> Result<ConstraintBreakdown, SynthesisError> {
    let settings = &shape.settings;
    let mut meter = Meter::new(cs);

    // Public values: canonical witnesses bound to the packed public inputs.
    if public_values.len() != shape.num_public_values {
        return Err(SynthesisError::Unsatisfiable);
    }
    let public = public_values
        .iter()
        .map(|&v| base_witness(cs, v))
        .collect::<Result<Vec<_>, _>>()?;
    for (chunk, packed) in public
        .chunks(PUBLIC_VALUES_PER_INPUT)
        .zip(pack_public_values(public_values))
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

    // The proof.
    let trace_commitment = FpVar::new_witness(cs.clone(), || Ok(witness.trace_commitment))?;
    let quotient_commitment = FpVar::new_witness(cs.clone(), || Ok(witness.quotient_commitment))?;
    let trace_local = ext_witnesses(cs, &witness.trace_local)?;
    let trace_next = ext_witnesses(cs, &witness.trace_next)?;
    let quotient_chunks = witness
        .quotient_chunks
        .iter()
        .map(|chunk| ext_witnesses(cs, chunk))
        .collect::<Result<Vec<_>, _>>()?;
    let ood_pow_witness = base_witness(cs, witness.ood_pow_witness)?;
    let fri_proof = fri_proof_witness(
        cs,
        witness.batch_pow_witness,
        &witness.commit_phase_commitments,
        &witness.commit_pow_witnesses,
        &witness.final_poly,
        witness.query_pow_witness,
        &witness.queries,
    )?;
    let shape_ok = trace_local.len() == shape.main_width
        && trace_next.len()
            == if shape.opens_next_row {
                shape.main_width
            } else {
                0
            }
        && quotient_chunks.len() == shape.num_quotient_chunks()
        && quotient_chunks.iter().all(|c| c.len() == 4);
    if !shape_ok {
        return Err(SynthesisError::Unsatisfiable);
    }
    meter.mark("proof witness allocation: range checks of every opened value and PoW witness");

    // The uni-STARK transcript (StarkVerifierTranscript).
    let mut challenger = ChallengerVar::new(cs.clone());
    observe_seed(&mut challenger, &shape.stark_seed)?;
    challenger.observe_digest(&trace_commitment)?;
    for value in &public {
        challenger.observe(value)?;
    }
    let alpha = challenger.sample_ext()?;
    challenger.observe_digest(&quotient_commitment)?;
    check_pow(&mut challenger, settings.ood_pow_bits, &ood_pow_witness)?;
    let zeta = challenger.sample_ext()?;
    meter.mark("STARK transcript (seed, commitments, public values, OOD PoW, α, ζ)");

    // Out-of-domain check at ζ.
    let mut zeta_powers = ZetaPowers::new(&zeta);
    let selectors = selectors_at_point(shape.degree_bits, &mut zeta_powers)?;
    let zeros;
    let main_next = if shape.opens_next_row {
        trace_next.as_slice()
    } else {
        zeros = vec![KbExtVar::constant(KoalaBearExt::ZERO); shape.main_width];
        zeros.as_slice()
    };
    let opened = OpenedRowsVar {
        main_local: &trace_local,
        main_next,
        preprocessed_local: &[],
        preprocessed_next: &[],
        periodic: &[],
        public_values: &public,
    };
    let folded = fold_constraints(constraints, &opened, &selectors, &alpha)?;
    let domains: Vec<ChunkDomain> = shape
        .quotient_chunk_domains()
        .into_iter()
        .map(|(shift, log_size)| ChunkDomain { shift, log_size })
        .collect();
    let chunk_arrays: Vec<[KbExtVar; 4]> = quotient_chunks
        .iter()
        .map(|c| [c[0].clone(), c[1].clone(), c[2].clone(), c[3].clone()])
        .collect();
    let quotient = recompose_quotient(&domains, &chunk_arrays, &mut zeta_powers)?;
    enforce_ood_check(&folded, &selectors, &quotient)?;
    meter.mark("out-of-domain constraint check and quotient recomposition");

    // The opening argument: the claims of p3_uni_stark::verify.
    let log_lde_height = shape.log_lde_height;
    let zeta_next = zeta.mul_base_constant(KoalaBear::two_adic_generator(shape.degree_bits))?;
    let mut trace_points = vec![(zeta.clone(), trace_local.clone())];
    if shape.opens_next_row {
        trace_points.push((zeta_next, trace_next.clone()));
    }
    let claims = vec![
        BatchClaimVar {
            commitment: trace_commitment,
            matrices: vec![MatrixClaimVar {
                log_lde_height,
                points: trace_points,
            }],
        },
        BatchClaimVar {
            commitment: quotient_commitment,
            matrices: quotient_chunks
                .iter()
                .map(|chunk| MatrixClaimVar {
                    log_lde_height,
                    points: vec![(zeta.clone(), chunk.clone())],
                })
                .collect(),
        },
    ];
    let pcs_shape = PcsShapeVar {
        settings,
        pcs_seed: &shape.pcs_seed,
        fri_seed: &shape.fri_seed,
        log_arities: &shape.log_arities,
        log_lde_height,
    };
    meter.mark("opening claims");
    let pcs_cost = verify_pcs(&mut challenger, &pcs_shape, &claims, &fri_proof)?;
    meter.breakdown.parts.extend(pcs_cost.parts());
    meter.last = cs.num_constraints();
    Ok(meter.breakdown)
}

/// A Groth16 circuit verifying one uni-STARK proof of a fixed AIR under the outer config.
///
/// Private witness: the whole proof. Public inputs: the AIR's public values, 8 per BN254
/// element ([`pack_public_values`]). The AIR itself — its symbolic constraints, widths, trace
/// height and the FRI settings — is the circuit's shape, fixed at Groth16 setup, so the
/// verifying key commits to it (no separate vkey input for now; see docs/WRAPPER.md).
#[derive(Clone)]
pub struct StarkVerifierCircuit {
    pub shape: UniStarkShape,
    pub constraints: Vec<SymbolicExpression<KoalaBear>>,
    pub public_values: Vec<KoalaBear>,
    pub witness: UniStarkWitness,
}

impl StarkVerifierCircuit {
    /// The circuit for `proof` of `air` with `public_values`, proven with
    /// `outer_config_with(settings)`. Fails if the proof does not verify natively.
    pub fn new<A>(
        settings: &FriSettings,
        air: &A,
        proof: &Proof<OuterConfig>,
        public_values: &[KoalaBear],
    ) -> Result<Self, WitnessError>
    where
        A: BaseAir<KoalaBear> + Air<SymbolicAirBuilder<KoalaBear>>,
    {
        let (shape, witness) = extract_uni_stark(settings, air, proof, public_values)?;
        let constraints =
            get_symbolic_constraints::<KoalaBear, A>(air, AirLayout::from_air::<KoalaBear>(air));
        Ok(Self {
            shape,
            constraints,
            public_values: public_values.to_vec(),
            witness,
        })
    }

    /// The Groth16 public inputs of this instance.
    pub fn public_inputs(&self) -> Vec<Fr> {
        pack_public_values(&self.public_values)
    }
}

impl ConstraintSynthesizer<Fr> for StarkVerifierCircuit {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        synthesize_uni_stark(
            &cs,
            &self.shape,
            &self.constraints,
            &self.public_values,
            &self.witness,
        )
        .map(|_| ())
    }
}
