//! What a verifier of a batch proof knows before reading the proof: per instance its widths,
//! quotient chunks, buses and symbolic constraints (in the order they are folded); the
//! committed matrices in opening order; the FRI folding schedule; and the Fiat-Shamir domain
//! separators. All of it is derived from the AIRs, their trace heights and the FRI settings,
//! exactly as `p3_batch_stark::verify_batch` derives it, never from the proof.
//!
//! Every verifier that re-implements `verify_batch` elsewhere (the Groth16 wrapper circuit,
//! the recursion programs) reads its shape from here, so they cannot disagree on it.

use std::collections::HashMap;

use p3_air::symbolic::{AirLayout, SymbolicExpression, SymbolicExpressionExt};
use p3_air::{Air, BaseAir};
use p3_batch_stark::symbolic::{
    get_constraint_layout, get_log_num_quotient_chunks_for_domain, get_symbolic_constraints,
};
use p3_batch_stark::{BatchShape, CommonData, StarkGenericConfig};
use p3_challenger::CanObserve;
use p3_commit::{Pcs, PolynomialSpace};
use p3_field::coset::TwoAdicMultiplicativeCoset;
use p3_field::{PrimeCharacteristicRing, TwoAdicField};
use p3_fri::{FriShape, PcsShape, fold_schedule};
use p3_lookup::{InteractionSymbolicBuilder, Kind as LookupKind, LogUpGadget, Lookups};
use thiserror::Error;

use crate::config::{Challenge, FriSettings, Val};

/// Extension degree of the challenge field: an extension column is committed as this many
/// base columns.
pub const EXT_DEGREE: usize = 4;

#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[error("batch proof shape: {0}")]
pub struct ShapeError(pub String);

fn shape_error(message: impl Into<String>) -> ShapeError {
    ShapeError(message.into())
}

/// One constraint of a batch-STARK instance, in the global emission order the verifier folds:
/// base-field (`assert_zero`) or extension-field (`assert_zero_ext`, the LogUp constraints).
#[derive(Clone, Debug)]
pub enum MixedConstraint {
    Base(SymbolicExpression<Val>),
    Ext(SymbolicExpressionExt<Val, Challenge>),
}

/// A quotient chunk's domain: the coset `shift · <g>` of `2^log_size` points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkDomain {
    pub shift: Val,
    pub log_size: usize,
}

/// Everything about one instance of the batch that is not in the proof.
#[derive(Clone, Debug)]
pub struct InstanceShape {
    /// log2 of the trace height (the configurations are not zero-knowledge).
    pub degree_bits: usize,
    pub main_width: usize,
    pub num_public_values: usize,
    /// 0 when the AIR has no preprocessed columns.
    pub preprocessed_width: usize,
    pub opens_main_next: bool,
    pub opens_preprocessed_next: bool,
    pub log_num_quotient_chunks: usize,
    /// The global bus index of each of the instance's lookups (p3's challenge layout).
    pub bus_ids: Vec<usize>,
    /// The instance's constraints in the order the verifier folds them.
    pub constraints: Vec<MixedConstraint>,
}

impl InstanceShape {
    pub fn num_quotient_chunks(&self) -> usize {
        1 << self.log_num_quotient_chunks
    }

    pub fn num_lookups(&self) -> usize {
        self.bus_ids.len()
    }

    /// Extension columns of the permutation trace: one accumulator plus one per lookup.
    pub fn permutation_width(&self) -> usize {
        if self.bus_ids.is_empty() {
            0
        } else {
            self.bus_ids.len() + 1
        }
    }

    pub fn log_lde_height(&self, settings: &FriSettings) -> usize {
        self.degree_bits + settings.log_blowup
    }
}

/// What a committed matrix holds (claim order of `commitments_with_opening_points`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatrixKind {
    Main,
    QuotientChunk(usize),
    Preprocessed,
    Permutation,
}

/// One committed matrix as the opening argument sees it.
#[derive(Clone, Debug)]
pub struct MatrixLayout {
    pub instance: usize,
    pub kind: MatrixKind,
    pub log_lde_height: usize,
    pub width: usize,
    /// Opened at ζ·g_i as well as ζ.
    pub opens_next: bool,
}

/// Collects what a domain separator absorbs into the challenger.
#[derive(Default)]
struct SeedRecorder(Vec<Val>);

impl CanObserve<Val> for SeedRecorder {
    fn observe(&mut self, value: Val) {
        self.0.push(value);
    }
}

/// The preprocessed data of a batch, as the verifier's `CommonData` holds it, without the
/// commitment itself (whose type depends on the configuration).
#[derive(Clone, Debug, Default)]
struct PreprocessedLayout {
    /// Per instance, 0 when it has no preprocessed columns.
    widths: Vec<usize>,
    /// Instance of each preprocessed matrix, in commitment order.
    matrix_to_instance: Vec<usize>,
}

/// Everything about a batch proof that is not in it: fixed per (AIRs, trace heights, FRI
/// settings).
#[derive(Clone, Debug)]
pub struct BatchProofShape {
    pub settings: FriSettings,
    pub instances: Vec<InstanceShape>,
    /// Whether the batch has a preprocessed commitment (some AIR has fixed columns).
    pub has_preprocessed: bool,
    /// Instance of each preprocessed matrix, in commitment order.
    pub preprocessed_instances: Vec<usize>,
    /// Widest bus message (fixes the bus offset power β^W) and the number of buses.
    pub max_message_width: usize,
    pub num_buses: usize,
    /// FRI folding arities (log2), round by round.
    pub log_arities: Vec<usize>,
    /// The tallest LDE among the committed matrices.
    pub log_lde_height: usize,
    /// What the batch transcript's domain separator observes first.
    pub batch_seed: Vec<Val>,
    /// What the opening argument's domain separator observes before the claimed values.
    pub pcs_seed: Vec<Val>,
    /// What FRI's domain separator observes before the commit phase.
    pub fri_seed: Vec<Val>,
}

impl BatchProofShape {
    /// The shape of a batch proof of `airs` with traces of `2^degree_bits[i]` rows, whose
    /// lookups and preprocessed data are `common` (p3's own `ProverData::from_airs_and_degrees`
    /// under the configuration the proof is made with).
    pub fn from_common<SC, A>(
        settings: &FriSettings,
        airs: &[A],
        degree_bits: &[usize],
        common: &CommonData<SC>,
    ) -> Result<Self, ShapeError>
    where
        SC: StarkGenericConfig<Challenge = Challenge>,
        SC::Pcs: Pcs<Challenge, SC::Challenger, Domain = TwoAdicMultiplicativeCoset<Val>>,
        A: BaseAir<Val> + Air<InteractionSymbolicBuilder<Val, Challenge>>,
    {
        let preprocessed = match &common.preprocessed {
            Some(global) => {
                for (m, &i) in global.matrix_to_instance.iter().enumerate() {
                    let meta = global
                        .instances
                        .get(i)
                        .and_then(Option::as_ref)
                        .ok_or_else(|| shape_error("preprocessed metadata"))?;
                    if meta.matrix_index != m || degree_bits.get(i) != Some(&meta.degree_bits) {
                        return Err(shape_error("preprocessed metadata"));
                    }
                }
                Some(PreprocessedLayout {
                    widths: (0..airs.len())
                        .map(|i| {
                            global
                                .instances
                                .get(i)
                                .and_then(|m| m.as_ref().map(|m| m.width))
                                .unwrap_or(0)
                        })
                        .collect(),
                    matrix_to_instance: global.matrix_to_instance.clone(),
                })
            }
            None => None,
        };
        Self::from_parts(settings, airs, degree_bits, &common.lookups, preprocessed)
    }

    fn from_parts<A>(
        settings: &FriSettings,
        airs: &[A],
        degree_bits: &[usize],
        lookups: &[Lookups<Val>],
        preprocessed: Option<PreprocessedLayout>,
    ) -> Result<Self, ShapeError>
    where
        A: BaseAir<Val> + Air<InteractionSymbolicBuilder<Val, Challenge>>,
    {
        if airs.is_empty() || airs.len() != degree_bits.len() || lookups.len() != airs.len() {
            return Err(shape_error("one trace height per AIR, at least one AIR"));
        }
        // As `verify_batch`: LogUp multiplicities must not wrap modulo p at these heights.
        let heights: Vec<usize> = degree_bits.iter().map(|&b| 1usize << b.min(30)).collect();
        p3_lookup::check_multiplicity_height_bound(lookups, &heights)
            .map_err(|e| shape_error(format!("LogUp multiplicity bound: {e}")))?;
        let gadget = LogUpGadget::new();
        let preprocessed_widths = preprocessed
            .as_ref()
            .map(|p| p.widths.clone())
            .unwrap_or_else(|| vec![0; airs.len()]);

        // The bus layout of `lay_out_lookup_challenges`: global buses share an index by name,
        // local ones take a fresh index; W is the widest message.
        let mut global_ids = HashMap::<String, usize>::new();
        let mut num_buses = 0usize;
        let mut max_message_width = 1usize;
        let mut bus_ids = Vec::new();
        for instance_lookups in lookups {
            let mut ids = Vec::new();
            for lookup in instance_lookups.iter() {
                let width = p3_lookup::assert_uniform_tuple_width(&lookup.elements, "lookup");
                max_message_width = max_message_width.max(width);
                let id = match &lookup.kind {
                    LookupKind::Global(name) => {
                        *global_ids.entry(name.clone()).or_insert_with(|| {
                            num_buses += 1;
                            num_buses - 1
                        })
                    }
                    LookupKind::Local => {
                        num_buses += 1;
                        num_buses - 1
                    }
                };
                ids.push(id);
            }
            bus_ids.push(ids);
        }

        let mut instances = Vec::with_capacity(airs.len());
        for (i, air) in airs.iter().enumerate() {
            let db = degree_bits[i];
            if !air.public_boundary_io().is_empty() {
                return Err(shape_error(
                    "boundary-IO public values (unsupported by batch-stark)",
                ));
            }
            if air.num_periodic_columns() > 0 {
                return Err(shape_error(format!(
                    "instance {i}: periodic columns are not supported"
                )));
            }
            if db + settings.log_blowup >= 31
                || db + settings.log_blowup > Val::TWO_ADICITY
                || db + settings.log_blowup <= settings.log_blowup + settings.log_final_poly_len
            {
                return Err(shape_error(format!(
                    "instance {i}: trace height 2^{db} outside the supported range (its LDE must \
                     be above the FRI final height)"
                )));
            }
            let layout = AirLayout {
                preprocessed_width: preprocessed_widths[i],
                main_width: air.width(),
                num_public_values: air.num_public_values(),
                num_periodic_columns: 0,
                ..Default::default()
            };
            let instance_lookups = &lookups[i];
            let log_num_quotient_chunks =
                get_log_num_quotient_chunks_for_domain::<_, Challenge, A, _>(
                    air,
                    layout,
                    TwoAdicMultiplicativeCoset::new(Val::ONE, db)
                        .ok_or_else(|| shape_error("trace height"))?,
                    instance_lookups,
                    0,
                    &gadget,
                );
            let (base, ext) = get_symbolic_constraints::<Val, Challenge, A, _>(
                air,
                layout,
                instance_lookups,
                &gadget,
            );
            let order = get_constraint_layout::<Val, Challenge, A, _>(
                air,
                layout,
                instance_lookups,
                &gadget,
            );
            if order.base_indices.len() != base.len() || order.ext_indices.len() != ext.len() {
                return Err(shape_error("constraint layout"));
            }
            let mut constraints: Vec<Option<MixedConstraint>> = vec![None; base.len() + ext.len()];
            for (index, c) in order.base_indices.iter().zip(base) {
                constraints[*index] = Some(MixedConstraint::Base(c));
            }
            for (index, c) in order.ext_indices.iter().zip(ext) {
                constraints[*index] = Some(MixedConstraint::Ext(c));
            }
            let constraints = constraints
                .into_iter()
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| shape_error("constraint layout has gaps"))?;
            instances.push(InstanceShape {
                degree_bits: db,
                main_width: air.width(),
                num_public_values: air.num_public_values(),
                preprocessed_width: preprocessed_widths[i],
                opens_main_next: !air.main_next_row_columns().is_empty(),
                opens_preprocessed_next: !air.preprocessed_next_row_columns().is_empty(),
                log_num_quotient_chunks,
                bus_ids: bus_ids[i].clone(),
                constraints,
            });
        }

        let mut shape = Self {
            settings: *settings,
            instances,
            has_preprocessed: preprocessed.is_some(),
            preprocessed_instances: preprocessed
                .map(|p| p.matrix_to_instance)
                .unwrap_or_default(),
            max_message_width,
            num_buses,
            log_arities: Vec::new(),
            log_lde_height: 0,
            batch_seed: Vec::new(),
            pcs_seed: Vec::new(),
            fri_seed: Vec::new(),
        };
        let mut batch_seed = SeedRecorder::default();
        shape
            .batch_shape()
            .domain_separator::<Val, Challenge>()
            .seed(&mut batch_seed);
        shape.batch_seed = batch_seed.0;

        let layout = shape.claim_layout();
        let pcs_shape = PcsShape {
            claimed_evaluation_counts: layout
                .iter()
                .map(|matrices| {
                    matrices
                        .iter()
                        .map(|m| vec![m.width; if m.opens_next { 2 } else { 1 }])
                        .collect()
                })
                .collect(),
            batch_pow_bits: settings.batch_pow_bits,
        };
        let mut pcs_seed = SeedRecorder::default();
        pcs_shape
            .domain_separator::<Val, Challenge>()
            .seed(&mut pcs_seed);

        let mut heights: Vec<usize> = layout.iter().flatten().map(|m| m.log_lde_height).collect();
        heights.sort_unstable_by(|a, b| b.cmp(a));
        heights.dedup();
        let log_lde_height = heights[0];
        let log_arities = fold_schedule(
            &heights,
            settings.log_blowup + settings.log_final_poly_len,
            settings.max_log_arity,
        );
        let params = settings.fri_parameters(());
        let fri_shape = FriShape::with_schedule(&params, log_arities.clone(), log_lde_height);
        let mut fri_seed = SeedRecorder::default();
        fri_shape
            .domain_separator::<Val, Challenge>()
            .seed(&mut fri_seed);
        shape.pcs_seed = pcs_seed.0;
        shape.fri_seed = fri_seed.0;
        shape.log_arities = log_arities;
        shape.log_lde_height = log_lde_height;
        Ok(shape)
    }

    pub fn has_lookups(&self) -> bool {
        self.instances.iter().any(|s| s.num_lookups() > 0)
    }

    /// log2 of the height FRI folds down to (the final polynomial's LDE).
    pub fn log_final_height(&self) -> usize {
        self.settings.log_blowup + self.settings.log_final_poly_len
    }

    /// The committed matrices per commitment, in `commitments_with_opening_points` order: main
    /// traces, quotient chunks, preprocessed traces (if any), permutation traces (if any).
    pub fn claim_layout(&self) -> Vec<Vec<MatrixLayout>> {
        let settings = &self.settings;
        let mut layout = Vec::new();
        layout.push(
            self.instances
                .iter()
                .enumerate()
                .map(|(i, s)| MatrixLayout {
                    instance: i,
                    kind: MatrixKind::Main,
                    log_lde_height: s.log_lde_height(settings),
                    width: s.main_width,
                    opens_next: s.opens_main_next,
                })
                .collect(),
        );
        layout.push(
            self.instances
                .iter()
                .enumerate()
                .flat_map(|(i, s)| {
                    (0..s.num_quotient_chunks()).map(move |c| MatrixLayout {
                        instance: i,
                        kind: MatrixKind::QuotientChunk(c),
                        log_lde_height: s.log_lde_height(settings),
                        width: EXT_DEGREE,
                        opens_next: false,
                    })
                })
                .collect(),
        );
        if self.has_preprocessed {
            layout.push(
                self.preprocessed_instances
                    .iter()
                    .map(|&i| {
                        let s = &self.instances[i];
                        MatrixLayout {
                            instance: i,
                            kind: MatrixKind::Preprocessed,
                            log_lde_height: s.log_lde_height(settings),
                            width: s.preprocessed_width,
                            opens_next: s.opens_preprocessed_next,
                        }
                    })
                    .collect(),
            );
        }
        if self.has_lookups() {
            layout.push(
                self.instances
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| s.num_lookups() > 0)
                    .map(|(i, s)| MatrixLayout {
                        instance: i,
                        kind: MatrixKind::Permutation,
                        log_lde_height: s.log_lde_height(settings),
                        width: s.permutation_width() * EXT_DEGREE,
                        opens_next: true,
                    })
                    .collect(),
            );
        }
        layout
    }

    /// The quotient chunk domains of instance `i`.
    pub fn quotient_chunk_domains(&self, i: usize) -> Vec<ChunkDomain> {
        let s = &self.instances[i];
        let trace = TwoAdicMultiplicativeCoset::new(Val::ONE, s.degree_bits)
            .expect("trace height checked against the two-adicity");
        trace
            .create_disjoint_domain(1 << (s.degree_bits + s.log_num_quotient_chunks))
            .split_domains(s.num_quotient_chunks())
            .into_iter()
            .map(|d| ChunkDomain {
                shift: d.first_point(),
                log_size: s.degree_bits,
            })
            .collect()
    }
}

/// The opening claims of a batch proof, as `commitments_with_opening_points` builds them.
pub type OpeningClaims<SC> = Vec<
    p3_commit::CommitmentWithOpeningPoints<
        p3_batch_stark::Challenge<SC>,
        p3_batch_stark::Commitment<SC>,
        p3_batch_stark::Domain<SC>,
    >,
>;

impl BatchProofShape {
    /// The numbers `p3_batch_stark`'s transcript is described with (its domain separator).
    pub fn batch_shape(&self) -> BatchShape {
        BatchShape {
            trace_widths: self.instances.iter().map(|s| s.main_width).collect(),
            public_value_counts: self.instances.iter().map(|s| s.num_public_values).collect(),
            preprocessed_widths: self
                .instances
                .iter()
                .map(|s| s.preprocessed_width)
                .collect(),
            has_preprocessed_commitment: self.has_preprocessed,
            num_lookup_instances: self
                .instances
                .iter()
                .filter(|s| s.num_lookups() > 0)
                .count(),
            lookup_pow_bits: self.settings.lookup_pow_bits,
            has_randomization_commitment: false,
            ood_pow_bits: self.settings.ood_pow_bits,
        }
    }

    /// The native side of a verifier re-implemented elsewhere: replays `verify_batch`'s
    /// transcript for `proof` on p3's own `BatchVerifierTranscript` up to the opening argument,
    /// builds the opening claims, and runs `opening` on the challenger at that point (its
    /// result is returned). The proof must already have passed `verify_batch`.
    #[allow(clippy::too_many_arguments)]
    pub fn replay_to_opening<SC, A, R>(
        &self,
        config: &SC,
        airs: &[A],
        common: &CommonData<SC>,
        proof: &p3_batch_stark::BatchProof<SC>,
        public_values: &[Vec<Val>],
        challenger: &mut SC::Challenger,
        opening: impl FnOnce(&mut SC::Challenger, &OpeningClaims<SC>) -> R,
    ) -> Result<R, ShapeError>
    where
        SC: StarkGenericConfig<Challenge = Challenge>,
        SC::Pcs: Pcs<Challenge, SC::Challenger, Domain = TwoAdicMultiplicativeCoset<Val>>,
        SC::Challenger: p3_challenger::GrindingChallenger<Witness = Val>
            + p3_challenger::CanObserve<p3_batch_stark::Commitment<SC>>
            + p3_challenger::CanSampleBits<usize>,
        A: BaseAir<Val>,
    {
        let rejected = |e: &dyn core::fmt::Debug| shape_error(format!("transcript: {e:?}"));
        let degree_bits: Vec<usize> = self.instances.iter().map(|s| s.degree_bits).collect();
        let gadget = LogUpGadget::new();
        let mut transcript = p3_batch_stark::BatchVerifierTranscript::<
            SC::Challenger,
            Val,
            Challenge,
            p3_batch_stark::Commitment<SC>,
        >::new(challenger, self.batch_shape());
        transcript.instance_bindings(&degree_bits);
        transcript.main_phase(proof.commitments.main.clone(), public_values);
        transcript.preprocessed_phase(common.preprocessed.as_ref().map(|g| g.commitment.clone()));
        // The per-instance challenges are recomputed by the re-implemented verifier; here only
        // the sponge advances.
        transcript
            .lookup_phase(&common.lookups, &gadget, proof.lookup_pow_witness)
            .map_err(|e| rejected(&e))?;
        let terminals: Vec<Challenge> = proof
            .lookup_terminals
            .iter()
            .flatten()
            .map(|t| t.0)
            .collect();
        let _alpha =
            transcript.permutation_phase(proof.commitments.permutation.clone(), &terminals);
        transcript.quotient_phase(proof.commitments.quotient_chunks.clone(), None);
        let zeta = transcript
            .ood_phase(proof.ood_pow_witness)
            .map_err(|e| rejected(&e))?;
        let preprocessed_widths: Vec<usize> = self
            .instances
            .iter()
            .map(|s| s.preprocessed_width)
            .collect();
        let log_chunks: Vec<usize> = self
            .instances
            .iter()
            .map(|s| s.log_num_quotient_chunks)
            .collect();
        let (claims, _, _) = p3_batch_stark::verifier::commitments_with_opening_points(
            config,
            airs,
            zeta,
            &proof.commitments,
            &proof.opened_values,
            common,
            &degree_bits,
            &preprocessed_widths,
            &log_chunks,
        )
        .map_err(|e| rejected(&e))?;
        let result = transcript.delegate(|challenger| opening(challenger, &claims));
        transcript.finish();
        Ok(result)
    }
}

/// One instance's opened values and LogUp terminal, as a verifier re-implemented elsewhere reads
/// them from a proof (absent next rows and preprocessed values as empty lists).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenedInstance {
    pub trace_local: Vec<Challenge>,
    /// Empty when the AIR does not read the next row.
    pub trace_next: Vec<Challenge>,
    pub preprocessed_local: Vec<Challenge>,
    pub preprocessed_next: Vec<Challenge>,
    /// The permutation trace's base columns at ζ / ζ·g (4 per extension column).
    pub permutation_local: Vec<Challenge>,
    pub permutation_next: Vec<Challenge>,
    pub quotient_chunks: Vec<Vec<Challenge>>,
    /// The LogUp terminal (sum of the instance's fractions); `None` without lookups.
    pub terminal: Option<Challenge>,
}

impl OpenedInstance {
    /// Every instance's opened values in `proof`, in instance order.
    pub fn all_of<SC>(proof: &p3_batch_stark::BatchProof<SC>) -> Vec<Self>
    where
        SC: StarkGenericConfig<Challenge = Challenge>,
    {
        proof
            .opened_values
            .instances
            .iter()
            .zip(&proof.lookup_terminals)
            .map(|(o, terminal)| {
                let base = &o.base_opened_values;
                Self {
                    trace_local: base.trace_local.clone(),
                    trace_next: base.trace_next.clone().unwrap_or_default(),
                    preprocessed_local: base
                        .preprocessed
                        .as_ref()
                        .map(|p| p.local.clone())
                        .unwrap_or_default(),
                    preprocessed_next: base
                        .preprocessed
                        .as_ref()
                        .and_then(|p| p.next.clone())
                        .unwrap_or_default(),
                    permutation_local: o.permutation_local.clone(),
                    permutation_next: o.permutation_next.clone(),
                    quotient_chunks: base.quotient_chunks.clone(),
                    terminal: terminal.as_ref().map(|t| t.0),
                }
            })
            .collect()
    }

    /// Whether every list has the length `shape` gives it.
    pub fn fits(&self, shape: &InstanceShape) -> bool {
        let perm = shape.permutation_width() * EXT_DEGREE;
        let next = |opens: bool, width: usize| if opens { width } else { 0 };
        self.trace_local.len() == shape.main_width
            && self.trace_next.len() == next(shape.opens_main_next, shape.main_width)
            && self.preprocessed_local.len() == shape.preprocessed_width
            && self.preprocessed_next.len()
                == next(shape.opens_preprocessed_next, shape.preprocessed_width)
            && self.permutation_local.len() == perm
            && self.permutation_next.len() == perm
            && self.quotient_chunks.len() == shape.num_quotient_chunks()
            && self.quotient_chunks.iter().all(|c| c.len() == EXT_DEGREE)
            && self.terminal.is_some() == (shape.num_lookups() > 0)
    }
}
