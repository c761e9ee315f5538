//! Proving and verifying a set of chips as one `p3-batch-stark` proof.
//!
//! [`prove`] checks the shape of every table before handing them to `p3`, so a malformed input is
//! an error naming the table, not a panic inside Plonky3. [`verify`] trusts nothing in the proof:
//! it rebuilds the preprocessed commitment and the bus layout from the AIRs and the heights the
//! proof claims (after checking those heights against the chips' fixed tables), and turns any
//! panic of the `p3` verifier on a malformed proof into an error.

use std::panic::{AssertUnwindSafe, catch_unwind};

use p3_air::{Air, BaseAir};
use p3_batch_stark::common::GlobalPreprocessed;
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
    #[error("{got} tables, the fixed tables are for {expected}")]
    TableCount { got: usize, expected: usize },
    #[error("table {index} ({chip}): trace height {got}, the fixed tables are for {expected}")]
    FixedHeight {
        index: usize,
        chip: &'static str,
        got: usize,
        expected: usize,
    },
    #[error(
        "table {index} ({chip}): the fixed tables were built for another chip ({expected}): \
         its {what} differs"
    )]
    FixedChip {
        index: usize,
        chip: &'static str,
        expected: &'static str,
        what: &'static str,
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

/// One table of a shape given by chips and `log2` heights, checked ([`shape_tables`]).
struct ShapeTable<F: Clone + Send + Sync> {
    height: usize,
    preprocessed: Option<RowMajorMatrix<F>>,
}

/// Checks a shape — one `log2` height per chip, at least one chip, every height in range and
/// equal to the height of the chip's fixed table — and returns each table's height with its
/// fixed table, so that callers never build a fixed table twice.
fn shape_tables<SC, A>(
    airs: &[A],
    log_heights: &[usize],
) -> Result<Vec<ShapeTable<Val<SC>>>, ProveError>
where
    SC: StarkGenericConfig,
    A: BatchAir<SC>,
{
    if log_heights.len() != airs.len() {
        return Err(ProveError::TableCount {
            got: log_heights.len(),
            expected: airs.len(),
        });
    }
    if airs.is_empty() {
        return Err(ProveError::Empty);
    }
    airs.iter()
        .zip(log_heights)
        .enumerate()
        .map(|(index, (air, &log_height))| {
            // Out of range (0 if it does not even fit a `usize`): `check_height` refuses it.
            let height = u32::try_from(log_height)
                .ok()
                .and_then(|bits| 1usize.checked_shl(bits))
                .unwrap_or(0);
            let preprocessed = <A as BaseAir<Val<SC>>>::preprocessed_trace(air);
            check_height(
                index,
                air.name(),
                height,
                preprocessed.as_ref().map(|t| t.height()),
            )?;
            Ok(ShapeTable {
                height,
                preprocessed,
            })
        })
        .collect()
}

/// Each table's height, and its chip's fingerprint (what fixed tables are checked against).
fn heights_and_fingerprints<F, A>(
    airs: &[A],
    tables: &[ShapeTable<F>],
) -> (Vec<usize>, Vec<ChipFingerprint>)
where
    F: PrimeField64,
    A: NamedAir + BaseAir<F>,
{
    airs.iter()
        .zip(tables)
        .map(|(air, table)| {
            (
                table.height,
                ChipFingerprint::of(air, table.preprocessed.as_ref()),
            )
        })
        .unzip()
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
    check_tables(tables)?;
    let instances = instances(tables);
    let prover_data = ProverData::from_instances(config, &instances)
        .map_err(|err| ProveError::Commitment(err.to_string()))?;
    let heights: Vec<usize> = tables.iter().map(|t| t.trace.height()).collect();
    check_multiplicity_height_bound(&prover_data.common.lookups, &heights)
        .map_err(|err| ProveError::LookupBound(err.to_string()))?;
    prove_batch(config, &instances, &prover_data)
        .map_err(|err| ProveError::Commitment(err.to_string()))
}

/// Each table's width, height (against its fixed table) and public value count.
fn check_tables<SC, A>(tables: &[Table<A, Val<SC>>]) -> Result<(), ProveError>
where
    SC: StarkGenericConfig,
    A: BatchAir<SC>,
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
    Ok(())
}

fn instances<SC: StarkGenericConfig, A>(
    tables: &[Table<A, Val<SC>>],
) -> Vec<StarkInstance<'_, SC, A>> {
    tables
        .iter()
        .map(|table| StarkInstance {
            air: &table.air,
            trace: &table.trace,
            public_values: table.public_values.clone(),
        })
        .collect()
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
        let heights: Vec<usize> = shape_tables::<SC, A>(airs, log_heights)
            .map_err(|e| shape(e.to_string()))?
            .iter()
            .map(|table| table.height)
            .collect();
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

/// What one chip fixes in a batch, recorded in [`FixedTables`] so that tables or AIRs handed
/// to [`prove_with_fixed`] / [`verify_with_fixed`] are checked to be the ones it was built for.
#[derive(Clone, Debug, PartialEq, Eq)]
struct ChipFingerprint {
    name: &'static str,
    width: usize,
    preprocessed_width: usize,
    num_public_values: usize,
    /// SHA-256 of the preprocessed trace's dimensions and values, if the chip has one: two
    /// programs of one shape differ only here.
    preprocessed: Option<[u8; 32]>,
}

impl ChipFingerprint {
    /// The fingerprint of `air`, whose preprocessed trace is `preprocessed`.
    fn of<F: PrimeField64, A: NamedAir + BaseAir<F>>(
        air: &A,
        preprocessed: Option<&RowMajorMatrix<F>>,
    ) -> Self {
        Self {
            name: air.name(),
            width: air.width(),
            preprocessed_width: air.preprocessed_width(),
            num_public_values: air.num_public_values(),
            preprocessed: preprocessed.map(matrix_digest),
        }
    }

    /// The first property in which `other` differs.
    fn difference(&self, other: &Self) -> Option<&'static str> {
        if self.name != other.name {
            Some("name")
        } else if self.width != other.width {
            Some("width")
        } else if self.preprocessed_width != other.preprocessed_width {
            Some("preprocessed width")
        } else if self.num_public_values != other.num_public_values {
            Some("public value count")
        } else if self.preprocessed != other.preprocessed {
            Some("preprocessed table")
        } else {
            None
        }
    }
}

/// SHA-256 of a matrix's width, height and canonical values.
fn matrix_digest<F: PrimeField64>(matrix: &RowMajorMatrix<F>) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update((matrix.width() as u64).to_le_bytes());
    hasher.update((matrix.height() as u64).to_le_bytes());
    // Hashed in chunks: one `update` per value would dominate the cost.
    let mut bytes = Vec::with_capacity(8 * 4096);
    for chunk in matrix.values.chunks(4096) {
        bytes.clear();
        for value in chunk {
            bytes.extend_from_slice(&value.as_canonical_u64().to_le_bytes());
        }
        hasher.update(&bytes);
    }
    hasher.finalize().into()
}

/// A copy of `common` (p3 0.8's `CommonData` is not `Clone`; the copy is the root, the
/// per-instance metadata and the bus layout, not the trees).
fn copy_common<SC: StarkGenericConfig>(common: &CommonData<SC>) -> CommonData<SC> {
    let preprocessed = common
        .preprocessed
        .as_ref()
        .map(|global| GlobalPreprocessed {
            commitment: global.commitment.clone(),
            instances: global.instances.clone(),
            matrix_to_instance: global.matrix_to_instance.clone(),
        });
    CommonData::new(preprocessed, common.lookups.clone())
}

/// Everything about a batch that its chips and heights fix: the fixed (preprocessed) tables'
/// commitment and prover data (their LDE and Merkle tree) and the bus layout. For a recursion
/// program the commitment is the verifying key, and committing it is a sizeable share of every
/// proof; built once with [`FixedTables::new`], it serves any number of [`prove_with_fixed`]
/// calls and verifiers ([`FixedTables::shape_key`], [`verify_with_fixed`]).
pub struct FixedTables<SC: StarkGenericConfig> {
    log_heights: Vec<usize>,
    /// `1` if the configuration doubles trace domains for zero knowledge.
    is_zk: usize,
    chips: Vec<ChipFingerprint>,
    data: ProverData<SC>,
}

impl<SC> FixedTables<SC>
where
    SC: StarkGenericConfig,
    Val<SC>: PrimeField64,
    SymbolicExpressionExt<Val<SC>, SC::Challenge>: Algebra<SC::Challenge>,
{
    /// Commits the fixed tables of `airs` (in proving order) for traces of `2^log_heights[i]`
    /// rows under `config`; the same checks as [`ShapeKey::new`].
    pub fn new<A: BatchAir<SC>>(
        config: &SC,
        airs: &[A],
        log_heights: &[usize],
    ) -> Result<Self, ProveError> {
        let tables = shape_tables::<SC, A>(airs, log_heights)?;
        let (heights, chips) = heights_and_fingerprints(airs, &tables);
        let is_zk = config.is_zk();
        let extended: Vec<usize> = log_heights.iter().map(|h| h + is_zk).collect();
        let data = ProverData::from_airs_and_degrees(config, airs, &extended)
            .map_err(|err| ProveError::Commitment(err.to_string()))?;
        check_multiplicity_height_bound(&data.common.lookups, &heights)
            .map_err(|err| ProveError::LookupBound(err.to_string()))?;
        Ok(Self {
            log_heights: log_heights.to_vec(),
            is_zk,
            chips,
            data,
        })
    }
}

impl<SC: StarkGenericConfig> FixedTables<SC> {
    /// `log2` of each table's height.
    pub fn log_heights(&self) -> &[usize] {
        &self.log_heights
    }

    /// Each table's height as a proof claims it (`BatchProof::degree_bits`: `log2` of the
    /// height, plus one under a zero-knowledge configuration).
    pub fn degree_bits(&self) -> Vec<usize> {
        self.log_heights.iter().map(|h| h + self.is_zk).collect()
    }

    /// What prover and verifier share: the preprocessed commitment and the bus layout.
    pub fn common(&self) -> &CommonData<SC> {
        &self.data.common
    }

    /// `p3`'s prover data: [`Self::common`] plus the preprocessed LDE and Merkle tree.
    pub fn prover_data(&self) -> &ProverData<SC> {
        &self.data
    }

    /// The verifier's key for this shape, without committing anything again.
    pub fn shape_key(&self) -> ShapeKey<SC> {
        ShapeKey {
            log_heights: self.log_heights.clone(),
            common: copy_common(&self.data.common),
        }
    }

    /// Whether `airs` are the chips these fixed tables were built for, in order, with the same
    /// fixed tables (an error names the first that is not).
    pub fn check_chips<A>(&self, airs: &[A]) -> Result<(), ProveError>
    where
        A: NamedAir + BaseAir<Val<SC>>,
        Val<SC>: PrimeField64,
    {
        self.check_airs(airs.iter())
    }

    /// [`Self::check_chips`] for any sequence of AIRs.
    fn check_airs<'a, A>(
        &self,
        airs: impl ExactSizeIterator<Item = &'a A>,
    ) -> Result<(), ProveError>
    where
        A: NamedAir + BaseAir<Val<SC>> + 'a,
        Val<SC>: PrimeField64,
    {
        if airs.len() != self.chips.len() {
            return Err(ProveError::TableCount {
                got: airs.len(),
                expected: self.chips.len(),
            });
        }
        for (index, (air, expected)) in airs.zip(&self.chips).enumerate() {
            let preprocessed = air.preprocessed_trace();
            let got = ChipFingerprint::of(air, preprocessed.as_ref());
            if let Some(what) = expected.difference(&got) {
                return Err(ProveError::FixedChip {
                    index,
                    chip: got.name,
                    expected: expected.name,
                    what,
                });
            }
        }
        Ok(())
    }
}

/// Version of the [`FixedTables`] file layout; bump it when the layout or anything hashed into
/// a file's key changes, so old files read as stale instead of being misread.
pub const FIXED_TABLES_FORMAT: u32 = 1;

const FIXED_TABLES_MAGIC: &[u8; 8] = b"zkmFIXT\0";
/// Magic, format version, key.
const FIXED_TABLES_HEADER_LEN: usize = 8 + 4 + 32;
const CHECKSUM_LEN: usize = 32;

/// Why a [`FixedTables`] file could not be used (the caller commits the tables afresh).
#[derive(Debug, Error)]
pub enum FixedTablesFileError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a fixed tables file")]
    NotFixedTables { path: String },
    #[error("{path}: format version {got}, this build reads version {expected}")]
    Version {
        path: String,
        got: u32,
        expected: u32,
    },
    #[error(
        "{path}: written for other chips, fixed table contents, heights or configuration \
         (stale)"
    )]
    Stale { path: String },
    #[error("{path}: corrupt: {what}")]
    Corrupt { path: String, what: String },
    #[error("{path}: {source}")]
    Build { path: String, source: ProveError },
}

/// How [`FixedTables::load_or_build`] obtained the fixed tables.
#[derive(Debug)]
pub enum FixedTablesOrigin {
    /// Read from the file.
    Loaded,
    /// Committed afresh because the file could not be used (`reason`, e.g. it does not exist),
    /// then written to it (`saved`; a failure there only costs the next run the same work).
    Built {
        reason: FixedTablesFileError,
        saved: Result<(), FixedTablesFileError>,
    },
}

/// The PCS prover data of configuration `SC` (of the fixed tables: their LDE and Merkle tree).
type PcsData<SC> = <<SC as StarkGenericConfig>::Pcs as Pcs<
    <SC as StarkGenericConfig>::Challenge,
    <SC as StarkGenericConfig>::Challenger,
>>::ProverData;

/// What a file holds besides its header: everything of [`FixedTables`] that costs committing.
/// The rest (per-table metadata, bus layout) is derived again on loading from the AIRs, so a
/// file only ever supplies what its key (the fixed tables' contents, heights, configuration)
/// determines.
#[derive(serde::Serialize)]
struct FixedTablesFileRef<'a, C, D> {
    commitment: Option<&'a C>,
    prover_data: Option<&'a D>,
}

#[derive(serde::Deserialize)]
struct FixedTablesFile<C, D> {
    commitment: Option<C>,
    prover_data: Option<D>,
}

/// `air` reporting no preprocessed trace (all else forwarded): `p3` then derives its bus layout
/// exactly as for `air` (it reads the preprocessed width, not the trace) and commits nothing.
struct WithoutFixedTable<'a, A>(&'a A);

impl<F, A: BaseAir<F>> BaseAir<F> for WithoutFixedTable<'_, A> {
    fn width(&self) -> usize {
        self.0.width()
    }
    fn preprocessed_width(&self) -> usize {
        self.0.preprocessed_width()
    }
    fn num_periodic_columns(&self) -> usize {
        self.0.num_periodic_columns()
    }
    fn periodic_columns(&self) -> std::borrow::Cow<'_, [Vec<F>]>
    where
        F: Clone,
    {
        self.0.periodic_columns()
    }
    fn main_next_row_columns(&self) -> Vec<usize> {
        self.0.main_next_row_columns()
    }
    fn preprocessed_next_row_columns(&self) -> Vec<usize> {
        self.0.preprocessed_next_row_columns()
    }
    fn num_constraints(&self) -> Option<usize> {
        self.0.num_constraints()
    }
    fn max_constraint_degree(&self) -> Option<usize> {
        self.0.max_constraint_degree()
    }
    fn num_public_values(&self) -> usize {
        self.0.num_public_values()
    }
    fn public_boundary_io(&self) -> &[p3_air::BoundaryPublic] {
        self.0.public_boundary_io()
    }
    fn assumes_boolean_trace(&self) -> bool {
        self.0.assumes_boolean_trace()
    }
}

impl<AB: p3_air::AirBuilder, A: Air<AB>> Air<AB> for WithoutFixedTable<'_, A> {
    fn eval(&self, builder: &mut AB) {
        self.0.eval(builder)
    }
}

/// Passes writes through, hashing them.
struct HashingWriter<W> {
    inner: W,
    hasher: sha2::Sha256,
}

impl<W: std::io::Write> std::io::Write for HashingWriter<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        use sha2::Digest;
        let written = self.inner.write(bytes)?;
        self.hasher.update(&bytes[..written]);
        Ok(written)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl<SC> FixedTables<SC>
where
    SC: StarkGenericConfig,
    Val<SC>: PrimeField64,
    SymbolicExpressionExt<Val<SC>, SC::Challenge>: Algebra<SC::Challenge>,
{
    /// The key of a file of these fixed tables: everything the stored commitment and prover
    /// data depend on. `config_id` must name every setting of the configuration that changes
    /// the commitment (blowup, hash, Merkle cap), e.g. `format!("outer {settings:?}")`.
    fn file_key(&self, config_id: &[u8]) -> [u8; 32] {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        let number = |hasher: &mut Sha256, n: usize| hasher.update((n as u64).to_le_bytes());
        hasher.update(b"zkmips fixed tables key");
        number(&mut hasher, FIXED_TABLES_FORMAT as usize);
        number(&mut hasher, config_id.len());
        hasher.update(config_id);
        number(&mut hasher, self.is_zk);
        number(&mut hasher, self.chips.len());
        for (chip, &log_height) in self.chips.iter().zip(&self.log_heights) {
            number(&mut hasher, chip.name.len());
            hasher.update(chip.name.as_bytes());
            number(&mut hasher, chip.width);
            number(&mut hasher, chip.preprocessed_width);
            number(&mut hasher, chip.num_public_values);
            number(&mut hasher, log_height);
            match chip.preprocessed {
                Some(digest) => {
                    number(&mut hasher, 1);
                    hasher.update(digest);
                }
                None => number(&mut hasher, 0),
            }
        }
        hasher.finalize().into()
    }

    /// Writes these fixed tables to `path` (through a temporary file renamed into place, so a
    /// reader never sees half a file). `config_id`: see [`Self::load`].
    pub fn save(&self, path: &std::path::Path, config_id: &[u8]) -> Result<(), FixedTablesFileError>
    where
        <SC::Pcs as Pcs<SC::Challenge, SC::Challenger>>::ProverData: serde::Serialize,
    {
        use sha2::{Digest, Sha256};
        use std::io::Write;
        let io = |source: std::io::Error| FixedTablesFileError::Io {
            path: path.display().to_string(),
            source,
        };
        let temporary = path.with_extension(format!("tmp{}", std::process::id()));
        let write = || -> Result<(), FixedTablesFileError> {
            let file = std::fs::File::create(&temporary).map_err(io)?;
            let mut writer = std::io::BufWriter::with_capacity(
                1 << 20,
                HashingWriter {
                    inner: file,
                    hasher: Sha256::new(),
                },
            );
            writer.write_all(FIXED_TABLES_MAGIC).map_err(io)?;
            writer
                .write_all(&FIXED_TABLES_FORMAT.to_le_bytes())
                .map_err(io)?;
            writer.write_all(&self.file_key(config_id)).map_err(io)?;
            let payload = FixedTablesFileRef {
                commitment: self
                    .data
                    .common
                    .preprocessed
                    .as_ref()
                    .map(|g| &g.commitment),
                prover_data: self.data.prover_only.preprocessed_prover_data.as_ref(),
            };
            let mut writer = postcard::to_io(&payload, writer)
                .map_err(|e| io(std::io::Error::other(format!("serialization failed: {e}"))))?;
            writer.flush().map_err(io)?;
            let HashingWriter {
                inner: mut file,
                hasher,
            } = writer.into_inner().map_err(|e| io(e.into_error()))?;
            file.write_all(&hasher.finalize()).map_err(io)?;
            file.sync_all().map_err(io)
        };
        let written = write().and_then(|()| std::fs::rename(&temporary, path).map_err(io));
        if written.is_err() {
            let _ = std::fs::remove_file(&temporary);
        }
        written
    }

    /// The fixed tables of `airs` at `log_heights` under `config` (identified by `config_id`:
    /// every setting that changes the commitment, the same bytes as given to [`Self::save`]),
    /// read from `path`. The file supplies only the commitment and its prover data, and only
    /// if its key matches these chips' fixed table contents, heights and `config_id`; the rest
    /// is derived from `airs`. A stale, foreign or corrupt file is an error, never a panic.
    ///
    /// The file is trusted like the prover's own memory: its checksum detects accidents, not a
    /// forger who recomputes it. Reading holds the whole file and the decoded data in memory.
    pub fn load<A: BatchAir<SC>>(
        config: &SC,
        config_id: &[u8],
        airs: &[A],
        log_heights: &[usize],
        path: &std::path::Path,
    ) -> Result<Self, FixedTablesFileError>
    where
        <SC::Pcs as Pcs<SC::Challenge, SC::Challenger>>::ProverData: serde::de::DeserializeOwned,
    {
        use sha2::{Digest, Sha256};
        let name = || path.display().to_string();
        let corrupt = |what: &str| FixedTablesFileError::Corrupt {
            path: name(),
            what: what.to_string(),
        };
        let bytes = std::fs::read(path).map_err(|source| FixedTablesFileError::Io {
            path: name(),
            source,
        })?;
        if bytes.len() < FIXED_TABLES_HEADER_LEN + CHECKSUM_LEN || &bytes[..8] != FIXED_TABLES_MAGIC
        {
            return Err(FixedTablesFileError::NotFixedTables { path: name() });
        }
        let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        if version != FIXED_TABLES_FORMAT {
            return Err(FixedTablesFileError::Version {
                path: name(),
                got: version,
                expected: FIXED_TABLES_FORMAT,
            });
        }
        let (content, checksum) = bytes.split_at(bytes.len() - CHECKSUM_LEN);

        // Everything but the committing: the chips' fingerprints (hence the key) and the bus
        // layout, from AIRs that report no preprocessed trace.
        let build = |source: ProveError| FixedTablesFileError::Build {
            path: name(),
            source,
        };
        let tables = shape_tables::<SC, A>(airs, log_heights).map_err(build)?;
        let unfixed: Vec<WithoutFixedTable<'_, A>> = airs.iter().map(WithoutFixedTable).collect();
        let (heights, chips) = heights_and_fingerprints(airs, &tables);
        let is_zk = config.is_zk();
        // As `p3` lays out the global preprocessed commitment: one matrix per instance with a
        // non-empty preprocessed trace, in instance order.
        let mut matrix_to_instance = Vec::new();
        let metas: Vec<_> = tables
            .iter()
            .zip(log_heights)
            .enumerate()
            .map(|(index, (table, &log_height))| match &table.preprocessed {
                Some(trace) if trace.width() > 0 => {
                    matrix_to_instance.push(index);
                    Some(p3_batch_stark::common::PreprocessedInstanceMeta {
                        matrix_index: matrix_to_instance.len() - 1,
                        width: trace.width(),
                        degree_bits: log_height + is_zk,
                    })
                }
                _ => None,
            })
            .collect();
        let extended: Vec<usize> = log_heights.iter().map(|h| h + is_zk).collect();
        let layout = ProverData::from_airs_and_degrees(config, &unfixed, &extended)
            .map_err(|err| build(ProveError::Commitment(err.to_string())))?;
        check_multiplicity_height_bound(&layout.common.lookups, &heights)
            .map_err(|err| build(ProveError::LookupBound(err.to_string())))?;
        let mut fixed = Self {
            log_heights: log_heights.to_vec(),
            is_zk,
            chips,
            data: ProverData {
                common: CommonData::new(None, layout.common.lookups),
                prover_only: p3_batch_stark::ProverOnlyData::empty(),
            },
        };
        // The key first: a stale file is told apart without hashing all of it.
        if content[12..FIXED_TABLES_HEADER_LEN] != fixed.file_key(config_id) {
            return Err(FixedTablesFileError::Stale { path: name() });
        }
        if Sha256::digest(content).as_slice() != checksum {
            return Err(corrupt("checksum mismatch"));
        }

        let stored: FixedTablesFile<p3_batch_stark::Commitment<SC>, PcsData<SC>> =
            postcard::from_bytes(&content[FIXED_TABLES_HEADER_LEN..])
                .map_err(|e| corrupt(&format!("undecodable contents: {e}")))?;
        match (
            stored.commitment,
            stored.prover_data,
            matrix_to_instance.is_empty(),
        ) {
            (Some(commitment), Some(prover_data), false) => {
                fixed.data.common.preprocessed = Some(GlobalPreprocessed {
                    commitment,
                    instances: metas,
                    matrix_to_instance,
                });
                fixed.data.prover_only.preprocessed_prover_data = Some(prover_data);
            }
            (None, None, true) => {}
            _ => return Err(corrupt("fixed tables missing or unexpected")),
        }
        Ok(fixed)
    }

    /// [`Self::load`] from `path`, or, if the file cannot be used (missing, stale, corrupt),
    /// [`Self::new`] and [`Self::save`] to `path` for the next run.
    pub fn load_or_build<A: BatchAir<SC>>(
        config: &SC,
        config_id: &[u8],
        airs: &[A],
        log_heights: &[usize],
        path: &std::path::Path,
    ) -> Result<(Self, FixedTablesOrigin), ProveError>
    where
        <SC::Pcs as Pcs<SC::Challenge, SC::Challenger>>::ProverData:
            serde::Serialize + serde::de::DeserializeOwned,
    {
        match Self::load(config, config_id, airs, log_heights, path) {
            Ok(fixed) => Ok((fixed, FixedTablesOrigin::Loaded)),
            // The chips themselves are at fault: building would fail the same way.
            Err(FixedTablesFileError::Build { source, .. }) => Err(source),
            Err(reason) => {
                let fixed = Self::new(config, airs, log_heights)?;
                let saved = fixed.save(path, config_id);
                Ok((fixed, FixedTablesOrigin::Built { reason, saved }))
            }
        }
    }
}

/// Proves `tables` in one batch proof under `config` with their fixed tables' prover data
/// already committed in `fixed`: the tables must be those `fixed` was built for (chips, fixed
/// table contents, heights), else an error names the first that is not.
pub fn prove_with_fixed<SC, A>(
    config: &SC,
    fixed: &FixedTables<SC>,
    tables: &[Table<A, Val<SC>>],
) -> Result<BatchProof<SC>, ProveError>
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
    check_tables(tables)?;
    // Hashing the fixed tables costs a small fraction of committing them, and a mismatch would
    // otherwise surface as an unexplained rejection (or a panic inside `p3`).
    fixed.check_airs(tables.iter().map(|t| &t.air))?;
    for (index, (table, &log_height)) in tables.iter().zip(&fixed.log_heights).enumerate() {
        if table.trace.height() != 1 << log_height {
            return Err(ProveError::FixedHeight {
                index,
                chip: table.air.name(),
                got: table.trace.height(),
                expected: 1 << log_height,
            });
        }
    }
    if config.is_zk() != fixed.is_zk {
        return Err(ProveError::Commitment(
            "the fixed tables were built under a configuration with another zero-knowledge setting"
                .into(),
        ));
    }
    prove_batch(config, &instances(tables), &fixed.data)
        .map_err(|err| ProveError::Commitment(err.to_string()))
}

/// Verifies `proof` of the chips `airs` against the key in `fixed` (see [`verify_with_key`]).
/// `airs` are checked to be the chips `fixed` was built for, fixed table contents included:
/// the commitment in `fixed` is the verifying key, so fixed tables of another program of the
/// same shape would otherwise make this accept that program's proofs. (Hashing the fixed
/// tables is cheap next to committing them, though it can exceed the rest of verification; a
/// verifier that has vouched for the pairing once can use [`FixedTables::shape_key`].)
pub fn verify_with_fixed<SC, A>(
    config: &SC,
    airs: &[A],
    fixed: &FixedTables<SC>,
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
    fixed
        .check_airs(airs.iter())
        .map_err(|err| VerifyError::Shape(err.to_string()))?;
    verify_against(
        config,
        airs,
        &fixed.log_heights,
        &fixed.data.common,
        proof,
        public_values,
    )
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
    verify_against(
        config,
        airs,
        &key.log_heights,
        &key.common,
        proof,
        public_values,
    )
}

/// [`verify_with_key`] for a key given as its parts.
fn verify_against<SC, A>(
    config: &SC,
    airs: &[A],
    log_heights: &[usize],
    common: &CommonData<SC>,
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
    let expected_bits: Vec<usize> = log_heights.iter().map(|h| h + config.is_zk()).collect();
    if airs.len() != log_heights.len() || proof.degree_bits != expected_bits {
        return Err(shape(format!(
            "the key is for {} tables of heights 2^{:?}, the proof has 2^{:?} ({} chips given)",
            log_heights.len(),
            log_heights,
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
        verify_batch(config, airs, proof, public_values, common)
    })) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(err)) => Err(VerifyError::Rejected(format!("{err:?}"))),
        Err(_) => Err(VerifyError::Rejected(
            "the verifier panicked on the proof".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::panic::{AssertUnwindSafe, catch_unwind};

    use p3_field::PrimeCharacteristicRing;

    use super::*;
    use crate::buses::AluOp;
    use crate::chips::program::tests::{ADDIU_V0_5, NOP, SYSCALL, TEXT, program};
    use crate::chips::testing::{AluFixture, FetchFixture, TestAir};
    use crate::chips::{AluRow, ProgramChip};
    use crate::config::{InnerConfig, Val, inner_config};

    /// The dispatcher and ALU batch (with the 2^16-row byte table) for three requests whose
    /// first operand is `seed`: every seed gives the same shape.
    fn alu_tables(seed: u32, copies: usize) -> Vec<Table<TestAir, Val>> {
        let rows: Vec<AluRow> = (0..copies)
            .flat_map(|_| {
                [
                    AluRow::new(AluOp::Addu, seed, 2).unwrap(),
                    AluRow::new(AluOp::Or, 0x10, seed).unwrap(),
                    AluRow::new(AluOp::Subu, 10, 3).unwrap(),
                ]
            })
            .collect();
        AluFixture::new(&rows).tables()
    }

    fn airs(tables: &[Table<TestAir, Val>]) -> Vec<TestAir> {
        tables.iter().map(|t| t.air.clone()).collect()
    }

    fn public_values(tables: &[Table<TestAir, Val>]) -> Vec<Vec<Val>> {
        tables.iter().map(|t| t.public_values.clone()).collect()
    }

    fn log_heights(tables: &[Table<TestAir, Val>]) -> Vec<usize> {
        tables
            .iter()
            .map(|t| t.trace.height().trailing_zeros() as usize)
            .collect()
    }

    fn fixed_for(tables: &[Table<TestAir, Val>]) -> FixedTables<InnerConfig> {
        FixedTables::new(&inner_config(), &airs(tables), &log_heights(tables)).unwrap()
    }

    fn root<SC: StarkGenericConfig>(common: &CommonData<SC>) -> Vec<u8> {
        let commitment = &common
            .preprocessed
            .as_ref()
            .expect("fixed tables")
            .commitment;
        postcard::to_allocvec(commitment).unwrap()
    }

    /// Per table: height, then opened widths of the preprocessed, main, LogUp and quotient
    /// columns.
    fn proof_shape(proof: &BatchProof<InnerConfig>) -> Vec<[usize; 5]> {
        proof
            .opened_values
            .instances
            .iter()
            .zip(&proof.degree_bits)
            .map(|(opened, &bits)| {
                let base = &opened.base_opened_values;
                [
                    bits,
                    base.preprocessed.as_ref().map_or(0, |p| p.local.len()),
                    base.trace_local.len(),
                    opened.permutation_local.len(),
                    base.quotient_chunks.iter().map(Vec::len).sum(),
                ]
            })
            .collect()
    }

    /// Proving with shared fixed tables gives a proof of the shape `prove` gives, verifiable by
    /// every verifier entry point, and the data serves other runs of the same shape.
    #[test]
    fn proof_with_fixed_tables_matches_prove() {
        let config = inner_config();
        let tables = alu_tables(1, 1);
        let fixed = fixed_for(&tables);
        let shared = prove_with_fixed(&config, &fixed, &tables).unwrap();
        let fresh = prove(&config, &tables).unwrap();
        assert_eq!(proof_shape(&shared), proof_shape(&fresh));
        let (airs, values) = (airs(&tables), public_values(&tables));
        verify(&config, &airs, &shared, &values).unwrap();
        verify_with_fixed(&config, &airs, &fixed, &shared, &values).unwrap();
        let key = fixed.shape_key();
        verify_with_key(&config, &airs, &key, &fresh, &values).unwrap();
        // The key copied out of the fixed tables is the one a verifier derives on its own.
        let own = ShapeKey::new(&config, &airs, &log_heights(&tables)).unwrap();
        assert_eq!(root(&key.common), root(&own.common));
        assert_eq!(
            format!("{:?}", key.common.lookups),
            format!("{:?}", own.common.lookups)
        );
        assert_eq!(fixed.degree_bits(), shared.degree_bits);

        // Another run of the same shape, same data; its public values are bound.
        let other = alu_tables(7, 1);
        let proof = prove_with_fixed(&config, &fixed, &other).unwrap();
        let mut values = public_values(&other);
        verify_with_fixed(&config, &airs, &fixed, &proof, &values).unwrap();
        values[0][0] += Val::ONE;
        assert!(matches!(
            verify_with_fixed(&config, &airs, &fixed, &proof, &values),
            Err(VerifyError::Rejected(_))
        ));
    }

    #[test]
    fn fixed_tables_refuse_tables_of_another_shape() {
        let config = inner_config();
        let tables = alu_tables(1, 1);
        let fixed = fixed_for(&tables);

        assert!(matches!(
            prove_with_fixed(&config, &fixed, &tables[..5]),
            Err(ProveError::TableCount {
                got: 5,
                expected: 6
            })
        ));
        // Three times the requests: taller dispatcher and ALU tables.
        let taller = alu_tables(1, 3);
        assert!(matches!(
            prove_with_fixed(&config, &fixed, &taller),
            Err(ProveError::FixedHeight { index: 0, .. })
        ));
        let mut swapped = tables.clone();
        swapped.swap(1, 2);
        assert!(matches!(
            prove_with_fixed(&config, &fixed, &swapped),
            Err(ProveError::FixedChip {
                index: 1,
                what: "name",
                ..
            })
        ));
        let mut no_publics = tables.clone();
        no_publics[0].public_values.clear();
        assert!(matches!(
            prove_with_fixed(&config, &fixed, &no_publics),
            Err(ProveError::PublicValues { index: 0, .. })
        ));

        // The verifier side refuses other chips and other heights before any cryptography.
        let proof = prove_with_fixed(&config, &fixed, &tables).unwrap();
        let values = public_values(&tables);
        assert!(matches!(
            verify_with_fixed(&config, &airs(&swapped), &fixed, &proof, &values),
            Err(VerifyError::Shape(_))
        ));
        let taller_proof = prove(&config, &taller).unwrap();
        assert!(matches!(
            verify_with_fixed(
                &config,
                &airs(&taller),
                &fixed,
                &taller_proof,
                &public_values(&taller)
            ),
            Err(VerifyError::Shape(_))
        ));

        // Building: one height per chip, each in range and matching the chip's fixed table.
        let airs = airs(&tables);
        let mut heights = log_heights(&tables);
        assert!(matches!(
            FixedTables::new(&config, &airs, &heights[..5]),
            Err(ProveError::TableCount { .. })
        ));
        heights[0] = 64;
        assert!(matches!(
            FixedTables::new(&config, &airs, &heights),
            Err(ProveError::Height { index: 0, .. })
        ));
        heights = log_heights(&tables);
        heights[5] -= 1;
        assert!(matches!(
            FixedTables::new(&config, &airs, &heights),
            Err(ProveError::PreprocessedHeight { index: 5, .. })
        ));
    }

    /// A fresh path in the temporary directory (removed by the caller).
    fn scratch_file(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("zkmips-fixed-{}-{name}", std::process::id()))
    }

    const CONFIG_ID: &[u8] = b"inner INNER_FRI";

    /// Written and read back, fixed tables are the ones committed afresh: same commitment and
    /// bus layout, and proofs made with them verify against a key derived independently.
    #[test]
    fn fixed_tables_file_round_trip() {
        let config = inner_config();
        let tables = fetch_tables([ADDIU_V0_5, NOP, SYSCALL], &[TEXT, TEXT + 8]);
        let (airs, heights) = (airs(&tables), log_heights(&tables));
        let fresh = fixed_for(&tables);
        let path = scratch_file("round-trip");
        fresh.save(&path, CONFIG_ID).unwrap();
        let loaded = FixedTables::load(&config, CONFIG_ID, &airs, &heights, &path);
        std::fs::remove_file(&path).unwrap();
        let loaded = loaded.unwrap();
        assert_eq!(root(loaded.common()), root(fresh.common()));
        assert_eq!(
            format!("{:?}", loaded.common().lookups),
            format!("{:?}", fresh.common().lookups)
        );
        let (ours, theirs) = (
            loaded.common().preprocessed.as_ref().unwrap(),
            fresh.common().preprocessed.as_ref().unwrap(),
        );
        assert_eq!(ours.matrix_to_instance, theirs.matrix_to_instance);
        let meta = |g: &GlobalPreprocessed<InnerConfig>| {
            g.instances
                .iter()
                .map(|m| m.as_ref().map(|m| (m.matrix_index, m.width, m.degree_bits)))
                .collect::<Vec<_>>()
        };
        assert_eq!(meta(ours), meta(theirs));

        let proof = prove_with_fixed(&config, &loaded, &tables).unwrap();
        let key = ShapeKey::new(&config, &airs, &heights).unwrap();
        verify_with_key(&config, &airs, &key, &proof, &public_values(&tables)).unwrap();
    }

    /// Files that cannot be used are errors naming why: missing, not ours, another version,
    /// stale (other program, heights or configuration), corrupt or truncated.
    #[test]
    fn unusable_fixed_tables_files_are_errors() {
        let config = inner_config();
        let ours = fetch_tables([ADDIU_V0_5, NOP, SYSCALL], &[TEXT, TEXT + 8]);
        let theirs = fetch_tables([ADDIU_V0_5, SYSCALL, NOP], &[TEXT, TEXT + 4]);
        let (our_airs, heights) = (airs(&ours), log_heights(&ours));
        let their_airs = airs(&theirs);
        let airs = our_airs;
        let path = scratch_file("unusable");
        let load = |airs: &[TestAir], heights: &[usize], id: &[u8]| {
            FixedTables::<InnerConfig>::load(&config, id, airs, heights, &path)
        };
        assert!(matches!(
            load(&airs, &heights, CONFIG_ID),
            Err(FixedTablesFileError::Io { .. })
        ));
        fixed_for(&ours).save(&path, CONFIG_ID).unwrap();
        let good = std::fs::read(&path).unwrap();
        let outcomes = {
            let mut outcomes = Vec::new();
            let mut with = |bytes: &[u8], airs: &[TestAir], heights: &[usize], id: &[u8]| {
                std::fs::write(&path, bytes).unwrap();
                outcomes.push(load(airs, heights, id).err());
            };
            with(&good, &their_airs, &heights, CONFIG_ID);
            with(&good, &airs, &heights, b"inner, another blowup");
            let mut other_heights = heights.clone();
            other_heights[0] += 1;
            with(&good, &airs, &other_heights, CONFIG_ID);
            let mut flipped = good.clone();
            flipped[good.len() / 2] ^= 1;
            with(&flipped, &airs, &heights, CONFIG_ID);
            with(&good[..good.len() - 1], &airs, &heights, CONFIG_ID);
            let mut version = good.clone();
            version[8] ^= 1;
            with(&version, &airs, &heights, CONFIG_ID);
            with(
                b"not a fixed tables file at all, just some text",
                &airs,
                &heights,
                CONFIG_ID,
            );
            outcomes
        };
        std::fs::remove_file(&path).unwrap();
        let stale = |e: &Option<FixedTablesFileError>| {
            matches!(e, Some(FixedTablesFileError::Stale { .. }))
        };
        let corrupt = |e: &Option<FixedTablesFileError>| {
            matches!(e, Some(FixedTablesFileError::Corrupt { .. }))
        };
        assert!(stale(&outcomes[0]), "another program: {:?}", outcomes[0]);
        assert!(
            stale(&outcomes[1]),
            "another configuration: {:?}",
            outcomes[1]
        );
        assert!(stale(&outcomes[2]), "other heights: {:?}", outcomes[2]);
        assert!(corrupt(&outcomes[3]), "a flipped bit: {:?}", outcomes[3]);
        assert!(corrupt(&outcomes[4]), "truncated: {:?}", outcomes[4]);
        assert!(
            matches!(outcomes[5], Some(FixedTablesFileError::Version { .. })),
            "another version: {:?}",
            outcomes[5]
        );
        assert!(
            matches!(
                outcomes[6],
                Some(FixedTablesFileError::NotFixedTables { .. })
            ),
            "not a file of ours: {:?}",
            outcomes[6]
        );
    }

    /// The first run builds and writes the file, the next loads it; a stale file is rebuilt
    /// and replaced.
    #[test]
    fn fixed_tables_are_cached_on_disk() {
        let config = inner_config();
        let ours = fetch_tables([ADDIU_V0_5, NOP, SYSCALL], &[TEXT, TEXT + 8]);
        let theirs = fetch_tables([ADDIU_V0_5, SYSCALL, NOP], &[TEXT, TEXT + 4]);
        let path = scratch_file("cache");
        let cached = |tables: &[Table<TestAir, Val>]| {
            FixedTables::load_or_build(
                &config,
                CONFIG_ID,
                &airs(tables),
                &log_heights(tables),
                &path,
            )
            .unwrap()
        };
        let (built, first) = cached(&ours);
        let (loaded, second) = cached(&ours);
        let (rebuilt, third) = cached(&theirs);
        let (_, fourth) = cached(&theirs);
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(
            first,
            FixedTablesOrigin::Built {
                reason: FixedTablesFileError::Io { .. },
                saved: Ok(())
            }
        ));
        assert!(matches!(second, FixedTablesOrigin::Loaded));
        assert_eq!(root(built.common()), root(loaded.common()));
        assert!(matches!(
            third,
            FixedTablesOrigin::Built {
                reason: FixedTablesFileError::Stale { .. },
                saved: Ok(())
            }
        ));
        assert!(matches!(fourth, FixedTablesOrigin::Loaded));
        assert_eq!(root(rebuilt.common()), root(fixed_for(&theirs).common()));
    }

    /// A fetcher and program table batch for a program of three words.
    fn fetch_tables(words: [u32; 3], pcs: &[u32]) -> Vec<Table<TestAir, Val>> {
        FetchFixture::new(ProgramChip::new(&program(&words)).unwrap(), pcs).tables()
    }

    /// Fixed tables of another program of the same shape are refused by name of the table; and
    /// were they used anyway (bypassing the check), the proof would not verify as either
    /// program's.
    #[test]
    fn fixed_tables_of_another_program_are_refused() {
        let config = inner_config();
        let ours = fetch_tables([ADDIU_V0_5, NOP, SYSCALL], &[TEXT, TEXT + 8]);
        let theirs = fetch_tables([ADDIU_V0_5, SYSCALL, NOP], &[TEXT, TEXT + 4]);
        assert_eq!(log_heights(&ours), log_heights(&theirs));
        let their_fixed = fixed_for(&theirs);
        assert!(matches!(
            prove_with_fixed(&config, &their_fixed, &ours),
            Err(ProveError::FixedChip {
                index: FetchFixture::PROGRAM,
                what: "preprocessed table",
                ..
            })
        ));
        let our_fixed = fixed_for(&ours);
        assert_ne!(root(our_fixed.common()), root(their_fixed.common()));

        let outcome = catch_unwind(AssertUnwindSafe(|| {
            prove_batch(&config, &instances(&ours), their_fixed.prover_data())
        }));
        if let Ok(Ok(proof)) = outcome {
            let values = public_values(&ours);
            assert!(verify(&config, &airs(&ours), &proof, &values).is_err());
            assert!(
                verify_with_fixed(&config, &airs(&ours), &their_fixed, &proof, &values).is_err()
            );
        }
    }
}
