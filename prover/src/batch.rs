//! Proving and verifying a set of chips as one `p3-batch-stark` proof.
//!
//! [`prove`] checks the shape of every table before handing them to `p3`, so a malformed input is
//! an error naming the table, not a panic inside Plonky3. [`verify`] trusts nothing in the proof:
//! it rebuilds the preprocessed commitment and the bus layout from the AIRs and the heights the
//! proof claims (after checking those heights against the chips' fixed tables), and turns any
//! panic of the `p3` verifier on a malformed proof into an error.

use std::panic::{AssertUnwindSafe, catch_unwind};

use p3_air::{Air, BaseAir};
use p3_batch_stark::folder::{
    ProverConstraintFolderWithLookups, VerifierConstraintFolderWithLookups,
};
use p3_batch_stark::{
    BatchProof, CommonData, Domain, ProverData, StarkGenericConfig, StarkInstance, Val,
    prove_batch, verify_batch,
};
use p3_challenger::GrindingChallenger;
use p3_commit::Pcs;
use p3_field::{Algebra, BasedVectorSpace, PrimeField64};
use p3_lookup::{InteractionSymbolicBuilder, check_multiplicity_height_bound};
use p3_matrix::Matrix;
use p3_matrix::dense::RowMajorMatrix;
use p3_uni_stark::{PcsProverError, SymbolicExpressionExt};
use thiserror::Error;

/// Largest trace height accepted, as `log2`. KoalaBear's two-adicity is 24 and the inner
/// configuration doubles the domain; anything above this is rejected before reaching `p3`.
pub const MAX_LOG_TRACE_HEIGHT: usize = 23;

/// An AIR that can name itself in errors (implemented by every [`air_enum!`](crate::air_enum)).
pub trait NamedAir {
    fn name(&self) -> &'static str;
}

/// Everything `p3-batch-stark` requires of the AIR type of a batch under configuration `SC`.
/// Debug builds additionally run `p3`'s constraint checker inside the prover.
#[cfg(debug_assertions)]
pub trait BatchAir<SC: StarkGenericConfig>:
    NamedAir
    + Clone
    + Air<InteractionSymbolicBuilder<Val<SC>, SC::Challenge>>
    + for<'a> Air<p3_air::DebugConstraintBuilder<'a, Val<SC>, SC::Challenge>>
    + for<'a> Air<ProverConstraintFolderWithLookups<'a, SC>>
    + for<'a> Air<VerifierConstraintFolderWithLookups<'a, SC>>
{
}

#[cfg(debug_assertions)]
impl<SC, A> BatchAir<SC> for A
where
    SC: StarkGenericConfig,
    A: NamedAir
        + Clone
        + Air<InteractionSymbolicBuilder<Val<SC>, SC::Challenge>>
        + for<'a> Air<p3_air::DebugConstraintBuilder<'a, Val<SC>, SC::Challenge>>
        + for<'a> Air<ProverConstraintFolderWithLookups<'a, SC>>
        + for<'a> Air<VerifierConstraintFolderWithLookups<'a, SC>>,
{
}

/// Everything `p3-batch-stark` requires of the AIR type of a batch under configuration `SC`.
#[cfg(not(debug_assertions))]
pub trait BatchAir<SC: StarkGenericConfig>:
    NamedAir
    + Clone
    + Air<InteractionSymbolicBuilder<Val<SC>, SC::Challenge>>
    + for<'a> Air<ProverConstraintFolderWithLookups<'a, SC>>
    + for<'a> Air<VerifierConstraintFolderWithLookups<'a, SC>>
{
}

#[cfg(not(debug_assertions))]
impl<SC, A> BatchAir<SC> for A
where
    SC: StarkGenericConfig,
    A: NamedAir
        + Clone
        + Air<InteractionSymbolicBuilder<Val<SC>, SC::Challenge>>
        + for<'a> Air<ProverConstraintFolderWithLookups<'a, SC>>
        + for<'a> Air<VerifierConstraintFolderWithLookups<'a, SC>>,
{
}

/// One chip with its trace and public values, ready to be proved.
#[derive(Clone, Debug)]
pub struct Table<A, F> {
    pub air: A,
    pub trace: RowMajorMatrix<F>,
    pub public_values: Vec<F>,
}

#[derive(Debug, Error)]
pub enum ProveError {
    #[error("no tables to prove")]
    Empty,
    #[error("table {index} ({chip}): trace has {got} columns, the chip has {expected}")]
    Width {
        index: usize,
        chip: &'static str,
        got: usize,
        expected: usize,
    },
    #[error("table {index} ({chip}): trace height {height} is not a power of two in [2, 2^{max}]", max = MAX_LOG_TRACE_HEIGHT)]
    Height {
        index: usize,
        chip: &'static str,
        height: usize,
    },
    #[error("table {index} ({chip}): its fixed table has {expected} rows, the trace {got}")]
    PreprocessedHeight {
        index: usize,
        chip: &'static str,
        got: usize,
        expected: usize,
    },
    #[error("table {index} ({chip}): {got} public values, the chip takes {expected}")]
    PublicValues {
        index: usize,
        chip: &'static str,
        got: usize,
        expected: usize,
    },
    #[error("bus counts could wrap around the field: {0}")]
    LookupBound(String),
    #[error("commitment failed: {0}")]
    Commitment(String),
}

#[derive(Debug, Error)]
pub enum VerifyError {
    #[error("malformed proof: {0}")]
    Shape(String),
    #[error("proof rejected: {0}")]
    Rejected(String),
}

fn check_height(
    index: usize,
    chip: &'static str,
    height: usize,
    fixed_height: Option<usize>,
) -> Result<(), ProveError> {
    if !height.is_power_of_two() || !(2..=1 << MAX_LOG_TRACE_HEIGHT).contains(&height) {
        return Err(ProveError::Height {
            index,
            chip,
            height,
        });
    }
    match fixed_height {
        Some(expected) if expected != height => Err(ProveError::PreprocessedHeight {
            index,
            chip,
            got: height,
            expected,
        }),
        _ => Ok(()),
    }
}

/// Proves all `tables` in one batch proof under `config`.
pub fn prove<SC, A>(config: &SC, tables: &[Table<A, Val<SC>>]) -> Result<BatchProof<SC>, ProveError>
where
    SC: StarkGenericConfig,
    A: BatchAir<SC>,
    Val<SC>: PrimeField64,
    SymbolicExpressionExt<Val<SC>, SC::Challenge>: Algebra<SC::Challenge>,
    Domain<SC>: Send + Sync,
    SC::Pcs: Sync,
    PcsProverError<SC>: Send,
    SC::Challenger: GrindingChallenger<Witness = Val<SC>>,
    <SC::Pcs as Pcs<SC::Challenge, SC::Challenger>>::ProverData: Sync,
    <SC::Pcs as Pcs<SC::Challenge, SC::Challenger>>::Commitment: Sync,
{
    if tables.is_empty() {
        return Err(ProveError::Empty);
    }
    for (index, table) in tables.iter().enumerate() {
        let chip = table.air.name();
        let expected = <A as BaseAir<Val<SC>>>::width(&table.air);
        if table.trace.width() != expected {
            return Err(ProveError::Width {
                index,
                chip,
                got: table.trace.width(),
                expected,
            });
        }
        let fixed = <A as BaseAir<Val<SC>>>::preprocessed_trace(&table.air).map(|t| t.height());
        check_height(index, chip, table.trace.height(), fixed)?;
        let expected = <A as BaseAir<Val<SC>>>::num_public_values(&table.air);
        if table.public_values.len() != expected {
            return Err(ProveError::PublicValues {
                index,
                chip,
                got: table.public_values.len(),
                expected,
            });
        }
    }

    let instances: Vec<StarkInstance<'_, SC, A>> = tables
        .iter()
        .map(|table| StarkInstance {
            air: &table.air,
            trace: &table.trace,
            public_values: table.public_values.clone(),
        })
        .collect();
    let prover_data = ProverData::from_instances(config, &instances)
        .map_err(|err| ProveError::Commitment(err.to_string()))?;
    let heights: Vec<usize> = tables.iter().map(|t| t.trace.height()).collect();
    check_multiplicity_height_bound(&prover_data.common.lookups, &heights)
        .map_err(|err| ProveError::LookupBound(err.to_string()))?;
    prove_batch(config, &instances, &prover_data)
        .map_err(|err| ProveError::Commitment(err.to_string()))
}

/// What a verifier derives from the chips and their heights alone: the preprocessed commitment
/// and the bus layout. Building it commits the fixed tables (the byte table is `2^16` rows), so
/// a verifier checking many proofs of one shape builds it once with [`ShapeKey::new`] and calls
/// [`verify_with_key`].
pub struct ShapeKey<SC: StarkGenericConfig> {
    log_heights: Vec<usize>,
    common: CommonData<SC>,
}

impl<SC> ShapeKey<SC>
where
    SC: StarkGenericConfig,
    Val<SC>: PrimeField64,
    SymbolicExpressionExt<Val<SC>, SC::Challenge>: Algebra<SC::Challenge>,
{
    /// The key for `airs` (in proving order) with traces of `2^log_heights[i]` rows.
    pub fn new<A: BatchAir<SC>>(
        config: &SC,
        airs: &[A],
        log_heights: &[usize],
    ) -> Result<Self, VerifyError> {
        let shape = |message: String| VerifyError::Shape(message);
        if log_heights.len() != airs.len() {
            return Err(shape(format!(
                "{} chips but {} heights",
                airs.len(),
                log_heights.len()
            )));
        }
        let mut heights = Vec::with_capacity(airs.len());
        for (index, (air, &log_height)) in airs.iter().zip(log_heights).enumerate() {
            let chip = air.name();
            if log_height > MAX_LOG_TRACE_HEIGHT {
                return Err(shape(format!(
                    "table {index} ({chip}): height 2^{log_height}"
                )));
            }
            let fixed = <A as BaseAir<Val<SC>>>::preprocessed_trace(air).map(|t| t.height());
            check_height(index, chip, 1 << log_height, fixed).map_err(|e| shape(e.to_string()))?;
            heights.push(1usize << log_height);
        }
        let extended: Vec<usize> = log_heights.iter().map(|h| h + config.is_zk()).collect();
        let common = ProverData::from_airs_and_degrees(config, airs, &extended)
            .map_err(|err| shape(err.to_string()))?
            .common;
        check_multiplicity_height_bound(&common.lookups, &heights)
            .map_err(|err| shape(err.to_string()))?;
        Ok(Self {
            log_heights: log_heights.to_vec(),
            common,
        })
    }

    /// `log2` of each table's height.
    pub fn log_heights(&self) -> &[usize] {
        &self.log_heights
    }
}

/// Verifies `proof` for the chips `airs` (in proving order) and their public values, deriving
/// the [`ShapeKey`] from the heights the proof claims (each checked against the chips).
pub fn verify<SC, A>(
    config: &SC,
    airs: &[A],
    proof: &BatchProof<SC>,
    public_values: &[Vec<Val<SC>>],
) -> Result<(), VerifyError>
where
    SC: StarkGenericConfig,
    A: BatchAir<SC>,
    Val<SC>: PrimeField64,
    SymbolicExpressionExt<Val<SC>, SC::Challenge>: Algebra<SC::Challenge>,
    SC::Challenge: BasedVectorSpace<Val<SC>>,
    SC::Challenger: GrindingChallenger<Witness = Val<SC>>,
{
    let is_zk = config.is_zk();
    let log_heights = proof
        .degree_bits
        .iter()
        .map(|&bits| bits.checked_sub(is_zk))
        .collect::<Option<Vec<usize>>>()
        .ok_or_else(|| VerifyError::Shape("a claimed height is below the ZK padding".into()))?;
    let key = ShapeKey::new(config, airs, &log_heights)?;
    verify_with_key(config, airs, &key, proof, public_values)
}

/// Verifies `proof` against a prebuilt [`ShapeKey`]; a proof of any other shape is rejected.
pub fn verify_with_key<SC, A>(
    config: &SC,
    airs: &[A],
    key: &ShapeKey<SC>,
    proof: &BatchProof<SC>,
    public_values: &[Vec<Val<SC>>],
) -> Result<(), VerifyError>
where
    SC: StarkGenericConfig,
    A: BatchAir<SC>,
    Val<SC>: PrimeField64,
    SymbolicExpressionExt<Val<SC>, SC::Challenge>: Algebra<SC::Challenge>,
    SC::Challenge: BasedVectorSpace<Val<SC>>,
    SC::Challenger: GrindingChallenger<Witness = Val<SC>>,
{
    let shape = |message: String| VerifyError::Shape(message);
    let expected_bits: Vec<usize> = key.log_heights.iter().map(|h| h + config.is_zk()).collect();
    if airs.len() != key.log_heights.len() || proof.degree_bits != expected_bits {
        return Err(shape(format!(
            "the key is for {} tables of heights 2^{:?}, the proof has 2^{:?} ({} chips given)",
            key.log_heights.len(),
            key.log_heights,
            proof.degree_bits,
            airs.len()
        )));
    }
    if public_values.len() != airs.len() {
        return Err(shape(format!(
            "{} chips but {} public-value lists",
            airs.len(),
            public_values.len()
        )));
    }
    for (index, (air, values)) in airs.iter().zip(public_values).enumerate() {
        let expected = <A as BaseAir<Val<SC>>>::num_public_values(air);
        if values.len() != expected {
            return Err(shape(format!(
                "table {index} ({}): {} public values, the chip takes {expected}",
                air.name(),
                values.len()
            )));
        }
    }
    // `p3` 0.8 still panics on a few malformed shapes (e.g. quotient chunk counts); a panic
    // here can only come from the proof, so it is a rejection.
    match catch_unwind(AssertUnwindSafe(|| {
        verify_batch(config, airs, proof, public_values, &key.common)
    })) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(err)) => Err(VerifyError::Rejected(format!("{err:?}"))),
        Err(_) => Err(VerifyError::Rejected(
            "the verifier panicked on the proof".into(),
        )),
    }
}
