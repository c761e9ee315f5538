//! Verifying a `p3-batch-stark` proof of the inner configuration inside a recursion program:
//! `p3_batch_stark::verify_batch` (p3 0.8, not zero-knowledge) replayed step by step.
//!
//! - The shape ([`StarkVerifierShape`]: instances, constraints, buses, claim layout, FRI
//!   schedule, domain separators) comes from the AIRs and heights the program is built for
//!   ([`zkmips_prover::proof_shape`]), never from the proof.
//! - The proof is read from the witness stream ([`BatchProofVar::read`]); the native side
//!   ([`BatchProofWitness`]) writes the same values in the same order, side by side with the
//!   reader so the two cannot drift.
//! - [`verify_batch_proof`] emits the batch transcript (domain separator, degree bits, main
//!   commitment, public values, preprocessed commitment, lookup grinding and challenges,
//!   permutation commitment and terminals, α, quotient commitment, DEEP grinding, ζ), each
//!   instance's out-of-domain check over its own symbolic constraints
//!   ([`crate::gadgets::air`]), the LogUp terminal sum, and the opening argument
//!   ([`crate::gadgets::pcs`]) on the same transcript.

use p3_air::{Air, BaseAir};
use p3_batch_stark::folder::VerifierConstraintFolderWithLookups;
use p3_batch_stark::{BatchProof, ProverData, verify_batch};
use p3_field::{PrimeCharacteristicRing, TwoAdicField};
use p3_lookup::InteractionSymbolicBuilder;
use thiserror::Error;
use zkmips_prover::config::{Challenger, FriSettings, InnerConfig, inner_config_with, inner_perm};
use zkmips_prover::proof_shape::{
    BatchProofShape, EXT_DEGREE, MatrixKind, OpenedInstance, ShapeError,
};

use crate::builder::{Builder, Ext, Felt};
use crate::gadgets::air::{
    AirCheckError, LookupRows, OpenedRows, ZetaPowers, bus_prefixes, fold_constraints,
    instance_lookup_challenges, ood_check, recompose_ext_columns, recompose_quotient,
    selectors_at_point,
};
use crate::gadgets::challenger::DuplexChallengerVar;
use crate::gadgets::merkle::{DIGEST_ELEMS, DigestVar};
use crate::gadgets::pcs::{
    BatchClaimVar, FriProofVar, FriProofWitness, MatrixClaimVar, MatrixShape, PcsError, PcsShape,
    cap_root, check_pow, extract_fri_witness, observe_seed, verify_pcs,
};
use crate::ir::{Challenge, Val};

#[derive(Debug, Error)]
pub enum StarkVerifierError {
    #[error(transparent)]
    Shape(#[from] ShapeError),
    #[error("out-of-domain check: {0}")]
    Air(#[from] AirCheckError),
    #[error("opening argument: {0}")]
    Pcs(#[from] PcsError),
    #[error("the proof does not verify natively: {0}")]
    Rejected(String),
    #[error("{0}")]
    Mismatch(String),
}

/// The AIR bounds of the native batch verifier under the inner configuration.
pub trait InnerBatchAir:
    BaseAir<Val>
    + Air<InteractionSymbolicBuilder<Val, Challenge>>
    + for<'a> Air<VerifierConstraintFolderWithLookups<'a, InnerConfig>>
{
}

impl<A> InnerBatchAir for A where
    A: BaseAir<Val>
        + Air<InteractionSymbolicBuilder<Val, Challenge>>
        + for<'a> Air<VerifierConstraintFolderWithLookups<'a, InnerConfig>>
{
}

/// Everything about the proofs a program verifies that is not in them.
#[derive(Clone, Debug)]
pub struct StarkVerifierShape {
    pub proof: BatchProofShape,
    pub pcs: PcsShape,
    /// The preprocessed commitment the AIRs define (the verifier's `CommonData`), if any.
    pub preprocessed_commitment: Option<[Val; DIGEST_ELEMS]>,
}

fn common_data<A: InnerBatchAir>(
    settings: &FriSettings,
    airs: &[A],
    degree_bits: &[usize],
) -> Result<p3_batch_stark::CommonData<InnerConfig>, StarkVerifierError> {
    ProverData::from_airs_and_degrees(&inner_config_with(settings), airs, degree_bits)
        .map(|data| data.common)
        .map_err(|e| StarkVerifierError::Mismatch(format!("preprocessed commitment: {e}")))
}

impl StarkVerifierShape {
    /// The shape of batch proofs of `airs` with traces of `2^degree_bits[i]` rows, proven with
    /// `inner_config_with(settings)`.
    pub fn new<A: InnerBatchAir>(
        settings: &FriSettings,
        airs: &[A],
        degree_bits: &[usize],
    ) -> Result<Self, StarkVerifierError> {
        let common = common_data(settings, airs, degree_bits)?;
        Self::from_common(settings, airs, degree_bits, &common)
    }

    fn from_common<A: InnerBatchAir>(
        settings: &FriSettings,
        airs: &[A],
        degree_bits: &[usize],
        common: &p3_batch_stark::CommonData<InnerConfig>,
    ) -> Result<Self, StarkVerifierError> {
        let proof = BatchProofShape::from_common(settings, airs, degree_bits, common)?;
        let batches = proof
            .claim_layout()
            .iter()
            .map(|matrices| {
                matrices
                    .iter()
                    .map(|m| MatrixShape {
                        log_lde_height: m.log_lde_height,
                        width: m.width,
                        num_points: if m.opens_next { 2 } else { 1 },
                    })
                    .collect()
            })
            .collect();
        let pcs = PcsShape::new(settings, batches)?;
        // One schedule and one set of domain separators, whichever side derives them.
        if pcs.log_arities != proof.log_arities
            || pcs.pcs_seed != proof.pcs_seed
            || pcs.fri_seed != proof.fri_seed
        {
            return Err(StarkVerifierError::Mismatch(
                "the opening argument's shape differs from the batch's".into(),
            ));
        }
        let preprocessed_commitment = common
            .preprocessed
            .as_ref()
            .map(|global| cap_root(&global.commitment))
            .transpose()?;
        Ok(Self {
            proof,
            pcs,
            preprocessed_commitment,
        })
    }
}

/// One instance's opened values and LogUp terminal.
#[derive(Clone, Debug)]
pub struct InstanceOpenedVar {
    pub trace_local: Vec<Ext>,
    /// Empty when the AIR does not read the next row.
    pub trace_next: Vec<Ext>,
    pub preprocessed_local: Vec<Ext>,
    pub preprocessed_next: Vec<Ext>,
    /// The permutation trace's base columns at ζ / ζ·g (4 per extension column).
    pub permutation_local: Vec<Ext>,
    pub permutation_next: Vec<Ext>,
    pub quotient_chunks: Vec<[Ext; EXT_DEGREE]>,
    pub terminal: Option<Ext>,
}

/// A batch proof as program variables.
#[derive(Clone, Debug)]
pub struct BatchProofVar {
    pub main_commitment: DigestVar,
    pub permutation_commitment: Option<DigestVar>,
    pub quotient_commitment: DigestVar,
    pub instances: Vec<InstanceOpenedVar>,
    pub lookup_pow_witness: Option<Felt>,
    pub ood_pow_witness: Felt,
    pub fri: FriProofVar,
}

/// One instance's opened values as native values, in the layout of [`InstanceOpenedVar`].
pub type InstanceOpenedWitness = OpenedInstance;

/// A batch proof as native values, in the layout of [`BatchProofVar`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchProofWitness {
    pub main_commitment: [Val; DIGEST_ELEMS],
    pub permutation_commitment: Option<[Val; DIGEST_ELEMS]>,
    pub quotient_commitment: [Val; DIGEST_ELEMS],
    pub instances: Vec<InstanceOpenedWitness>,
    pub lookup_pow_witness: Option<Val>,
    pub ood_pow_witness: Val,
    pub fri: FriProofWitness,
}

// The witness stream layout. `BatchProofVar::read` and `BatchProofWitness::stream` walk the
// same order and must stay side by side:
//   main commitment (8); permutation commitment (8, with lookups); quotient commitment (8);
//   per instance: main at ζ, main at ζ·g (if read), preprocessed at ζ, at ζ·g (if read),
//     permutation at ζ, at ζ·g, quotient chunks (4 each), terminal (with lookups);
//     every opened value as 4 coordinates;
//   lookup PoW witness (with lookups); DEEP PoW witness; the FRI proof (`FriProofVar::read`).

fn read_digest(builder: &mut Builder) -> DigestVar {
    core::array::from_fn(|_| builder.witness())
}

fn read_exts(builder: &mut Builder, n: usize) -> Vec<Ext> {
    (0..n).map(|_| builder.witness_ext()).collect()
}

impl BatchProofVar {
    /// Allocates a proof of `shape` from the witness stream.
    pub fn read(builder: &mut Builder, shape: &StarkVerifierShape) -> Self {
        let s = &shape.proof;
        let main_commitment = read_digest(builder);
        let permutation_commitment = s.has_lookups().then(|| read_digest(builder));
        let quotient_commitment = read_digest(builder);
        let instances = s
            .instances
            .iter()
            .map(|i| {
                let perm = i.permutation_width() * EXT_DEGREE;
                InstanceOpenedVar {
                    trace_local: read_exts(builder, i.main_width),
                    trace_next: read_exts(
                        builder,
                        if i.opens_main_next { i.main_width } else { 0 },
                    ),
                    preprocessed_local: read_exts(builder, i.preprocessed_width),
                    preprocessed_next: read_exts(
                        builder,
                        if i.opens_preprocessed_next {
                            i.preprocessed_width
                        } else {
                            0
                        },
                    ),
                    permutation_local: read_exts(builder, perm),
                    permutation_next: read_exts(builder, perm),
                    quotient_chunks: (0..i.num_quotient_chunks())
                        .map(|_| core::array::from_fn(|_| builder.witness_ext()))
                        .collect(),
                    terminal: (i.num_lookups() > 0).then(|| builder.witness_ext()),
                }
            })
            .collect();
        let lookup_pow_witness = s.has_lookups().then(|| builder.witness());
        let ood_pow_witness = builder.witness();
        let fri = FriProofVar::read(builder, &shape.pcs);
        Self {
            main_commitment,
            permutation_commitment,
            quotient_commitment,
            instances,
            lookup_pow_witness,
            ood_pow_witness,
            fri,
        }
    }
}

fn push_exts(stream: &mut Vec<Val>, values: &[Challenge]) {
    for value in values {
        stream.extend_from_slice(
            p3_field::BasedVectorSpace::<Val>::as_basis_coefficients_slice(value),
        );
    }
}

impl BatchProofWitness {
    /// The witness stream [`BatchProofVar::read`] consumes.
    pub fn stream(&self) -> Vec<Val> {
        let mut stream = Vec::new();
        stream.extend_from_slice(&self.main_commitment);
        if let Some(c) = &self.permutation_commitment {
            stream.extend_from_slice(c);
        }
        stream.extend_from_slice(&self.quotient_commitment);
        for i in &self.instances {
            push_exts(&mut stream, &i.trace_local);
            push_exts(&mut stream, &i.trace_next);
            push_exts(&mut stream, &i.preprocessed_local);
            push_exts(&mut stream, &i.preprocessed_next);
            push_exts(&mut stream, &i.permutation_local);
            push_exts(&mut stream, &i.permutation_next);
            for chunk in &i.quotient_chunks {
                push_exts(&mut stream, chunk);
            }
            push_exts(&mut stream, i.terminal.as_slice());
        }
        stream.extend(self.lookup_pow_witness);
        stream.push(self.ood_pow_witness);
        stream.extend(self.fri.stream());
        stream
    }

    /// The witness of `proof` of `airs` with `public_values`, for a program built for `shape`.
    /// The proof must pass p3's own `verify_batch` first, and have exactly the shape's
    /// dimensions.
    pub fn new<A: InnerBatchAir>(
        shape: &StarkVerifierShape,
        airs: &[A],
        proof: &BatchProof<InnerConfig>,
        public_values: &[Vec<Val>],
    ) -> Result<Self, StarkVerifierError> {
        let s = &shape.proof;
        let settings = &s.settings;
        let mismatch = |what: &str| StarkVerifierError::Mismatch(format!("proof shape: {what}"));
        let degree_bits: Vec<usize> = s.instances.iter().map(|i| i.degree_bits).collect();
        if proof.degree_bits != degree_bits || airs.len() != s.instances.len() {
            return Err(mismatch("trace heights or instance count"));
        }
        if public_values.len() != airs.len()
            || public_values
                .iter()
                .zip(&s.instances)
                .any(|(p, i)| p.len() != i.num_public_values)
        {
            return Err(mismatch("public values"));
        }
        let config = inner_config_with(settings);
        let common = common_data(settings, airs, &degree_bits)?;
        if common
            .preprocessed
            .as_ref()
            .map(|g| cap_root(&g.commitment))
            .transpose()?
            != shape.preprocessed_commitment
        {
            return Err(mismatch("preprocessed commitment"));
        }
        verify_batch(&config, airs, proof, public_values, &common)
            .map_err(|e| StarkVerifierError::Rejected(format!("{e:?}")))?;
        if proof.commitments.random.is_some() {
            return Err(mismatch("randomization commitment"));
        }
        if proof.commitments.permutation.is_some() != s.has_lookups()
            || proof.lookup_pow_witness.is_some() != s.has_lookups()
        {
            return Err(mismatch("lookup data"));
        }

        // The transcript up to the opening argument, on p3's own BatchVerifierTranscript.
        let mut challenger = Challenger::new(inner_perm());
        let fri = s.replay_to_opening(
            &config,
            airs,
            &common,
            proof,
            public_values,
            &mut challenger,
            |challenger, claims| {
                extract_fri_witness(&shape.pcs, claims, &proof.opening_proof, challenger)
            },
        )??;

        let instances = OpenedInstance::all_of(proof);
        if instances.len() != s.instances.len()
            || s.instances.iter().zip(&instances).any(|(i, w)| !w.fits(i))
        {
            return Err(mismatch("opened values"));
        }
        Ok(Self {
            main_commitment: cap_root(&proof.commitments.main)?,
            permutation_commitment: proof
                .commitments
                .permutation
                .as_ref()
                .map(cap_root)
                .transpose()?,
            quotient_commitment: cap_root(&proof.commitments.quotient_chunks)?,
            instances,
            lookup_pow_witness: proof.lookup_pow_witness,
            ood_pow_witness: proof.ood_pow_witness,
            fri,
        })
    }
}

/// Emits the checks of `p3_batch_stark::verify_batch` for `proof` with every instance's
/// `public_values`. `preprocessed_commitment` is the commitment to the fixed tables: pass the
/// shape's own as constants to pin the AIRs' fixed tables, or a variable the program exposes
/// (one program then serves every program-specific fixed table of this shape).
pub fn verify_batch_proof(
    builder: &mut Builder,
    shape: &StarkVerifierShape,
    preprocessed_commitment: Option<DigestVar>,
    public_values: &[Vec<Felt>],
    proof: &BatchProofVar,
) -> Result<(), StarkVerifierError> {
    let s = &shape.proof;
    let settings = &s.settings;
    let mismatch = |what: &str| Err(StarkVerifierError::Mismatch(what.into()));
    if public_values.len() != s.instances.len()
        || public_values
            .iter()
            .zip(&s.instances)
            .any(|(p, i)| p.len() != i.num_public_values)
    {
        return mismatch("public values do not match the shape");
    }
    if preprocessed_commitment.is_some() != s.has_preprocessed
        || proof.permutation_commitment.is_some() != s.has_lookups()
        || proof.lookup_pow_witness.is_some() != s.has_lookups()
        || proof.instances.len() != s.instances.len()
    {
        return mismatch("the proof variables do not match the shape");
    }

    // The batch transcript (BatchVerifierTranscript).
    let mut challenger = DuplexChallengerVar::new(builder);
    observe_seed(builder, &mut challenger, &s.batch_seed);
    for instance in &s.instances {
        // Degree bits as an extension element: (bits, 0, 0, 0).
        observe_seed(
            builder,
            &mut challenger,
            &[
                Val::from_usize(instance.degree_bits),
                Val::ZERO,
                Val::ZERO,
                Val::ZERO,
            ],
        );
    }
    challenger.observe_digest(builder, proof.main_commitment);
    for values in public_values {
        challenger.observe_slice(builder, values);
    }
    if let Some(commitment) = preprocessed_commitment {
        challenger.observe_digest(builder, commitment);
    }
    let lookup_pair = match proof.lookup_pow_witness {
        Some(witness) => {
            check_pow(builder, &mut challenger, settings.lookup_pow_bits, witness);
            let lookup_alpha = challenger.sample_ext(builder);
            let lookup_beta = challenger.sample_ext(builder);
            Some((lookup_alpha, lookup_beta))
        }
        None => None,
    };
    if let Some(commitment) = proof.permutation_commitment {
        challenger.observe_digest(builder, commitment);
    }
    for terminal in proof.instances.iter().filter_map(|v| v.terminal) {
        challenger.observe_ext(builder, terminal);
    }
    let alpha = challenger.sample_ext(builder);
    challenger.observe_digest(builder, proof.quotient_commitment);
    check_pow(
        builder,
        &mut challenger,
        settings.ood_pow_bits,
        proof.ood_pow_witness,
    );
    let zeta = challenger.sample_ext(builder);

    // Per instance: the out-of-domain check at ζ over its own constraints (base and LogUp).
    let prefixes = match lookup_pair {
        Some((lookup_alpha, lookup_beta)) => bus_prefixes(
            builder,
            lookup_alpha,
            lookup_beta,
            s.max_message_width,
            s.num_buses,
        )?,
        None => Vec::new(),
    };
    let mut zeta_powers = ZetaPowers::new(zeta);
    let mut terminal_sum: Option<Ext> = None;
    for (i, (instance, opened)) in s.instances.iter().zip(&proof.instances).enumerate() {
        let selectors = selectors_at_point(builder, instance.degree_bits, &mut zeta_powers)?;
        let rows = OpenedRows {
            main_local: &opened.trace_local,
            main_next: instance
                .opens_main_next
                .then_some(opened.trace_next.as_slice()),
            preprocessed_local: &opened.preprocessed_local,
            preprocessed_next: instance
                .opens_preprocessed_next
                .then_some(opened.preprocessed_next.as_slice()),
            public_values: &public_values[i],
        };
        let challenges = match lookup_pair {
            Some((_, lookup_beta)) => {
                instance_lookup_challenges(&prefixes, lookup_beta, &instance.bus_ids)?
            }
            None => Vec::new(),
        };
        let permutation_local = recompose_ext_columns(builder, &opened.permutation_local)?;
        let permutation_next = recompose_ext_columns(builder, &opened.permutation_next)?;
        let values: Vec<Ext> = opened.terminal.into_iter().collect();
        let lookups = LookupRows {
            permutation_local: &permutation_local,
            permutation_next: &permutation_next,
            challenges: &challenges,
            values: &values,
        };
        let folded = fold_constraints(
            builder,
            &instance.constraints,
            &rows,
            &lookups,
            &selectors,
            alpha,
        )?;
        let quotient = recompose_quotient(
            builder,
            &s.quotient_chunk_domains(i),
            &opened.quotient_chunks,
            &mut zeta_powers,
        )?;
        ood_check(builder, folded, &selectors, quotient);
        if let Some(terminal) = opened.terminal {
            terminal_sum = Some(match terminal_sum {
                Some(sum) => builder.ext_add(sum, terminal),
                None => terminal,
            });
        }
    }

    // The global LogUp check: the terminals of all instances sum to zero.
    if let Some(sum) = terminal_sum {
        let zero = builder.ext_constant(Challenge::ZERO);
        builder.ext_assert_eq(sum, zero);
    }

    // The opening argument: the claims of `commitments_with_opening_points`.
    let layout = s.claim_layout();
    let mut commitments = vec![proof.main_commitment, proof.quotient_commitment];
    commitments.extend(preprocessed_commitment);
    commitments.extend(proof.permutation_commitment);
    if commitments.len() != layout.len() {
        return mismatch("commitment count");
    }
    // One ζ·g cell per trace height: the opening argument shares the DEEP division of claims
    // at the same point cell.
    let mut next_points = std::collections::BTreeMap::<usize, Ext>::new();
    let zeta_next: Vec<Ext> = s
        .instances
        .iter()
        .map(|instance| {
            *next_points.entry(instance.degree_bits).or_insert_with(|| {
                let generator = builder.ext_constant(Challenge::from(Val::two_adic_generator(
                    instance.degree_bits,
                )));
                builder.ext_mul(zeta, generator)
            })
        })
        .collect();
    let claims: Vec<BatchClaimVar> = layout
        .iter()
        .zip(commitments)
        .map(|(matrices, commitment)| BatchClaimVar {
            commitment,
            matrices: matrices
                .iter()
                .map(|m| {
                    let v = &proof.instances[m.instance];
                    let (local, next): (Vec<Ext>, &[Ext]) = match m.kind {
                        MatrixKind::Main => (v.trace_local.clone(), &v.trace_next),
                        MatrixKind::QuotientChunk(c) => {
                            (v.quotient_chunks[c].to_vec(), &v.trace_next)
                        }
                        MatrixKind::Preprocessed => {
                            (v.preprocessed_local.clone(), &v.preprocessed_next)
                        }
                        MatrixKind::Permutation => {
                            (v.permutation_local.clone(), &v.permutation_next)
                        }
                    };
                    let mut points = vec![(zeta, local)];
                    if m.opens_next {
                        points.push((zeta_next[m.instance], next.to_vec()));
                    }
                    MatrixClaimVar { points }
                })
                .collect(),
        })
        .collect();
    verify_pcs(builder, &mut challenger, &shape.pcs, &claims, &proof.fri)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use p3_field::PrimeCharacteristicRing;
    use zkmips_prover::config::{INNER_FRI, inner_config_with};

    use super::*;
    use crate::chips::RecursionAir;
    use crate::machine::{RecursionMachine, table};
    use crate::runtime::{RuntimeError, execute};

    /// Small but complete settings: every grinding site and the folding run, few queries.
    const TEST_FRI: FriSettings = FriSettings {
        num_queries: 3,
        query_pow_bits: 2,
        commit_pow_bits: 1,
        batch_pow_bits: 1,
        lookup_pow_bits: 1,
        ood_pow_bits: 1,
        ..INNER_FRI
    };

    /// A recursion program touching every table (so the verified proof has preprocessed
    /// tables, lookups on one bus and public values).
    fn inner_machine() -> RecursionMachine {
        let mut b = Builder::new();
        let x = b.witness();
        let y = b.witness();
        let state: [Felt; 16] = core::array::from_fn(|i| if i % 2 == 0 { x } else { y });
        let out = b.poseidon2(state);
        let e = b.ext_mul(out[0].as_ext(), y.as_ext());
        let coordinates = b.ext_coordinates(e);
        let product = b.mul(coordinates[0], x);
        b.public(product);
        b.public(out[1]);
        RecursionMachine::new(b.build().unwrap())
    }

    struct Fixture {
        machine: RecursionMachine,
        shape: StarkVerifierShape,
        witness: BatchProofWitness,
        public_values: Vec<Val>,
    }

    fn fixture() -> Fixture {
        let machine = inner_machine();
        let config = inner_config_with(&TEST_FRI);
        let proof = machine
            .prove(&config, &[Val::from_u32(3), Val::from_u32(5)])
            .unwrap();
        machine.verify(&config, &proof).unwrap();
        let shape =
            StarkVerifierShape::new(&TEST_FRI, machine.airs(), &proof.proof.degree_bits).unwrap();
        let mut publics = vec![Vec::new(); table::COUNT];
        publics[table::PUBLIC] = proof.public_values.clone();
        let witness =
            BatchProofWitness::new(&shape, machine.airs(), &proof.proof, &publics).unwrap();
        Fixture {
            machine,
            shape,
            witness,
            public_values: proof.public_values,
        }
    }

    /// The verifier program: reads the inner public values, then the proof; exposes the inner
    /// public values.
    fn verifier_program(shape: &StarkVerifierShape, num_public: usize) -> crate::ir::Program {
        let mut b = Builder::new();
        let publics: Vec<Felt> = (0..num_public).map(|_| b.witness()).collect();
        let proof = BatchProofVar::read(&mut b, shape);
        let commitment = shape
            .preprocessed_commitment
            .map(|c| c.map(|v| b.constant(v)));
        let mut per_table = vec![Vec::new(); table::COUNT];
        per_table[table::PUBLIC] = publics.clone();
        verify_batch_proof(&mut b, shape, commitment, &per_table, &proof).unwrap();
        for value in publics {
            b.public(value);
        }
        b.build().unwrap()
    }

    fn stream(publics: &[Val], witness: &BatchProofWitness) -> Vec<Val> {
        let mut stream = publics.to_vec();
        stream.extend(witness.stream());
        stream
    }

    #[test]
    fn a_recursion_proof_verifies_inside_a_recursion_program() {
        let f = fixture();
        let program = verifier_program(&f.shape, f.public_values.len());
        let execution = execute(&program, &stream(&f.public_values, &f.witness)).unwrap();
        assert_eq!(execution.public_values, f.public_values);
        let _ = f.machine;
    }

    /// Two layers: the verifier program's run is itself proven by the recursion machine, and
    /// that proof verifies natively with the inner public values.
    #[test]
    fn the_verifier_program_is_proven_by_the_recursion_machine() {
        let f = fixture();
        let program = verifier_program(&f.shape, f.public_values.len());
        let outer = RecursionMachine::new(program);
        let config = inner_config_with(&TEST_FRI);
        let proof = outer
            .prove(&config, &stream(&f.public_values, &f.witness))
            .unwrap();
        assert_eq!(proof.public_values, f.public_values);
        outer.verify(&config, &proof).unwrap();
        let heights: Vec<usize> = proof.proof.degree_bits.clone();
        eprintln!(
            "verifier program: {} instructions, table log heights {heights:?}",
            outer.program().instrs().len()
        );
    }

    #[test]
    fn tampered_proofs_make_the_verifier_program_fail() {
        let f = fixture();
        let program = verifier_program(&f.shape, f.public_values.len());
        let rejects = |publics: &[Val], witness: &BatchProofWitness| {
            execute(&program, &stream(publics, witness)).is_err()
        };
        // A wrong public value of the inner proof.
        let mut publics = f.public_values.clone();
        publics[0] += Val::ONE;
        assert!(rejects(&publics, &f.witness));
        // An opened value of each instance.
        for index in 0..f.witness.instances.len() {
            let mut w = f.witness.clone();
            w.instances[index].trace_local[0] += Challenge::ONE;
            assert!(rejects(&f.public_values, &w), "instance {index}");
        }
        // A quotient chunk, a permutation column, a terminal (balanced by another).
        let mut w = f.witness.clone();
        w.instances[0].quotient_chunks[0][1] += Challenge::ONE;
        assert!(rejects(&f.public_values, &w));
        let mut w = f.witness.clone();
        w.instances[1].permutation_next[0] += Challenge::ONE;
        assert!(rejects(&f.public_values, &w));
        let mut w = f.witness.clone();
        let shift = Challenge::from(Val::from_u32(7));
        let with_terminal: Vec<usize> = (0..w.instances.len())
            .filter(|&i| w.instances[i].terminal.is_some())
            .collect();
        *w.instances[with_terminal[0]].terminal.as_mut().unwrap() += shift;
        *w.instances[with_terminal[1]].terminal.as_mut().unwrap() -= shift;
        assert!(rejects(&f.public_values, &w));
        // Commitments and PoW witnesses.
        let mut w = f.witness.clone();
        w.main_commitment[0] += Val::ONE;
        assert!(rejects(&f.public_values, &w));
        let mut w = f.witness.clone();
        w.quotient_commitment[3] += Val::ONE;
        assert!(rejects(&f.public_values, &w));
        let mut w = f.witness.clone();
        w.ood_pow_witness += Val::ONE;
        assert!(rejects(&f.public_values, &w));
        // FRI data.
        let mut w = f.witness.clone();
        w.fri.final_poly[0] += Challenge::ONE;
        assert!(rejects(&f.public_values, &w));
        let mut w = f.witness.clone();
        w.fri.queries[0].input_openings[0].rows[0][0] += Val::ONE;
        assert!(rejects(&f.public_values, &w));
    }

    #[test]
    fn a_proof_of_another_program_is_rejected() {
        let f = fixture();
        // Same shape, other constants: another preprocessed commitment.
        let mut b = Builder::new();
        let x = b.witness();
        let y = b.witness();
        let state: [Felt; 16] = core::array::from_fn(|i| if i % 2 == 0 { y } else { x });
        let out = b.poseidon2(state);
        let e = b.ext_mul(out[0].as_ext(), y.as_ext());
        let coordinates = b.ext_coordinates(e);
        let product = b.mul(coordinates[0], x);
        b.public(product);
        b.public(out[1]);
        let other = RecursionMachine::new(b.build().unwrap());
        let degree_bits: Vec<usize> = f
            .shape
            .proof
            .instances
            .iter()
            .map(|i| i.degree_bits)
            .collect();
        let other_shape = StarkVerifierShape::new(&TEST_FRI, other.airs(), &degree_bits).unwrap();
        assert_ne!(
            other_shape.preprocessed_commitment,
            f.shape.preprocessed_commitment
        );
        let program = verifier_program(&other_shape, f.public_values.len());
        assert!(matches!(
            execute(&program, &stream(&f.public_values, &f.witness)),
            Err(RuntimeError::AssertionFailed { .. })
        ));
        let _: Option<&RecursionAir> = other.airs().first();
    }
}
