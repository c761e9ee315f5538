//! Test harness: a tiny ALU dispatcher chip standing in for the CPU, a batch of
//! dispatcher + ALU chips + byte table, and the honest / rejected assertions every chip test uses.
//!
//! How tampering is shown to be rejected depends on the build (see `docs/PROVER.md`):
//! - always: `p3`'s constraint checker (`check_all_constraints`) or bus replay (`check_lookups`)
//!   must flag the tampered batch;
//! - release builds: the prover runs no checks, so it produces a proof, and the real verifier
//!   must return an error;
//! - debug builds: `prove_batch` itself runs those checks and panics, which counts as rejection
//!   (if it does produce a proof, the verifier must still reject it).

use std::panic::{AssertUnwindSafe, catch_unwind};

use p3_air::{
    Air, AirBuilder, BaseAir, PermutationAirBuilder, WindowAccess, check_all_constraints,
};
use p3_field::{Field, PrimeCharacteristicRing};
use p3_lookup::debug_util::{LookupDebugInstance, check_lookups};
use p3_lookup::{Count, InteractionBuilder, Lookup, Lookups};
use p3_matrix::dense::RowMajorMatrix;

use super::shift::ShiftWitness;
use super::{
    AddSubChip, AluRow, BitwiseChip, ByteChip, ByteCounts, LtChip, MipsAir, ProgramChip, ShiftChip,
    alu_tables, padded_height, padded_trace, split_alu_rows,
};
use crate::batch::{ShapeKey, Table, prove, verify, verify_with_key};
use crate::buses::{ALU_BUS, AluOp, PROGRAM_BUS, PROGRAM_MESSAGE_WIDTH, word_limbs};
use crate::config::{Challenge, InnerConfig, Val, inner_config};

/// Stands in for the CPU: sends one ALU request per real row, and exposes the number of
/// requests as its only public value (bound by a running count).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct AluDispatcherChip;

pub(crate) mod dispatcher_cols {
    pub const OPCODE: usize = 0;
    /// Limbs `(lo, hi)` of `a`, `b`, `c`.
    pub const A: usize = 1;
    pub const B: usize = 3;
    pub const C: usize = 5;
    pub const IS_REAL: usize = 7;
    /// Number of real rows up to and including this one.
    pub const COUNT: usize = 8;
    pub const WIDTH: usize = 9;
}

impl AluDispatcherChip {
    pub(crate) const fn name(&self) -> &'static str {
        "AluDispatcher"
    }

    pub(crate) fn generate_trace<F: Field>(rows: &[AluRow]) -> (RowMajorMatrix<F>, Vec<F>) {
        use dispatcher_cols::*;
        let height = padded_height(rows.len());
        let mut values = F::zero_vec(height * WIDTH);
        for (index, out) in values.chunks_exact_mut(WIDTH).enumerate() {
            out[COUNT] = F::from_usize((index + 1).min(rows.len()));
            let Some(row) = rows.get(index) else {
                continue;
            };
            out[OPCODE] = F::from_u8(row.opcode as u8);
            for (base, word) in [(A, row.a), (B, row.b), (C, row.c)] {
                let [lo, hi] = word_limbs(word);
                out[base] = F::from_u32(lo);
                out[base + 1] = F::from_u32(hi);
            }
            out[IS_REAL] = F::ONE;
        }
        (
            RowMajorMatrix::new(values, WIDTH),
            vec![F::from_usize(rows.len())],
        )
    }
}

impl<F: Field> BaseAir<F> for AluDispatcherChip {
    fn width(&self) -> usize {
        dispatcher_cols::WIDTH
    }

    fn num_public_values(&self) -> usize {
        1
    }

    fn main_next_row_columns(&self) -> Vec<usize> {
        vec![dispatcher_cols::IS_REAL, dispatcher_cols::COUNT]
    }
}

impl<AB: PermutationAirBuilder + InteractionBuilder> Air<AB> for AluDispatcherChip {
    fn eval(&self, builder: &mut AB) {
        use dispatcher_cols::*;
        let main = builder.main();
        let local: Vec<AB::Expr> = main.current_slice().iter().map(|&v| v.into()).collect();
        let next_is_real: AB::Expr = main.next_slice()[IS_REAL].into();
        let next_count: AB::Expr = main.next_slice()[COUNT].into();
        let num_requests: AB::Expr = builder.public_values()[0].into();

        let is_real = local[IS_REAL].clone();
        let count = local[COUNT].clone();
        builder.assert_bool(is_real.clone());
        builder
            .when_first_row()
            .assert_eq(count.clone(), is_real.clone());
        builder
            .when_transition()
            .assert_eq(next_count, count.clone() + next_is_real);
        builder.when_last_row().assert_eq(count, num_requests);

        let mut message: Vec<AB::Expr> = (OPCODE..IS_REAL).map(|i| local[i].clone()).collect();
        // No old destination value (`d = 0`): the dispatcher only sends three-operand requests.
        message.extend([AB::Expr::ZERO, AB::Expr::ZERO]);
        ALU_BUS.send(builder, message, Count::bounded(is_real, 1));
    }
}

/// Stands in for the CPU's instruction fetch: one [`PROGRAM_BUS`] query per real row.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct FetcherChip;

pub(crate) mod fetcher_cols {
    /// The fetch message, `PROGRAM_MESSAGE_WIDTH` columns.
    pub const MESSAGE: usize = 0;
    pub const IS_REAL: usize = super::PROGRAM_MESSAGE_WIDTH;
    pub const WIDTH: usize = IS_REAL + 1;
}

impl FetcherChip {
    pub(crate) const fn name(&self) -> &'static str {
        "Fetcher"
    }
}

impl<F: Field> BaseAir<F> for FetcherChip {
    fn width(&self) -> usize {
        fetcher_cols::WIDTH
    }

    fn main_next_row_columns(&self) -> Vec<usize> {
        vec![]
    }
}

impl<AB: PermutationAirBuilder + InteractionBuilder> Air<AB> for FetcherChip {
    fn eval(&self, builder: &mut AB) {
        use fetcher_cols::*;
        let main = builder.main();
        let local: Vec<AB::Expr> = main.current_slice().iter().map(|&v| v.into()).collect();
        let is_real = local[IS_REAL].clone();
        builder.assert_bool(is_real.clone());
        PROGRAM_BUS.lookup_key(
            builder,
            local[MESSAGE..MESSAGE + PROGRAM_MESSAGE_WIDTH].to_vec(),
            Count::bounded(is_real, 1),
        );
    }
}

/// Stands in for the CPU (or any sender) on one permutation bus in tests: each row is a
/// `width`-field message followed by its count `is_real` (boolean), sent with that count.
/// Build its trace with [`SenderChip::trace`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct SenderChip {
    pub bus_name: &'static str,
    pub width: usize,
    /// Receive instead of send (stands in for a chip that proves what the CPU sends).
    pub receive: bool,
}

impl SenderChip {
    pub(crate) const fn name(&self) -> &'static str {
        "Sender"
    }

    /// A sender on `bus` with `width`-field messages.
    pub(crate) const fn new(bus_name: &'static str, width: usize) -> Self {
        Self {
            bus_name,
            width,
            receive: false,
        }
    }

    /// A receiver on `bus` with `width`-field messages.
    pub(crate) const fn receiver(bus_name: &'static str, width: usize) -> Self {
        Self {
            bus_name,
            width,
            receive: true,
        }
    }

    /// The trace sending `messages` (each `width` long), padded with inert rows.
    pub(crate) fn trace(&self, messages: &[Vec<Val>]) -> RowMajorMatrix<Val> {
        padded_trace(messages, self.width + 1, |_, message, out| {
            assert_eq!(message.len(), self.width, "message width");
            out[..self.width].copy_from_slice(message);
            out[self.width] = Val::ONE;
        })
    }
}

impl<F: Field> BaseAir<F> for SenderChip {
    fn width(&self) -> usize {
        self.width + 1
    }

    fn main_next_row_columns(&self) -> Vec<usize> {
        vec![]
    }
}

impl<AB: PermutationAirBuilder + InteractionBuilder> Air<AB> for SenderChip {
    fn eval(&self, builder: &mut AB) {
        let main = builder.main();
        let local: Vec<AB::Expr> = main.current_slice().iter().map(|&v| v.into()).collect();
        let is_real = local[self.width].clone();
        builder.assert_bool(is_real.clone());
        let bus = p3_lookup::PermutationCheckBus::new(self.bus_name);
        let message = local[..self.width].to_vec();
        if self.receive {
            bus.receive(builder, message, Count::bounded(is_real, 1));
        } else {
            bus.send(builder, message, Count::bounded(is_real, 1));
        }
    }
}

crate::air_enum! {
    /// The machine's chips plus the test dispatcher, fetcher and sender.
    pub(crate) enum TestAir {
        Dispatcher(AluDispatcherChip),
        Fetcher(FetcherChip),
        Sender(SenderChip),
        Cpu(super::CpuChip),
        AluExtra(super::AluExtraChip),
        MulDiv(super::MulDivChip),
        Branch(super::BranchChip),
        LoadStore(super::LoadStoreChip),
        Syscall(super::SyscallChip),
        SyscallMemory(super::SyscallMemoryChip),
        Program(ProgramChip),
        AddSub(AddSubChip),
        Bitwise(BitwiseChip),
        Shift(ShiftChip),
        Lt(LtChip),
        Byte(ByteChip),
        MemoryBoundary(super::MemoryBoundaryChip),
        MemoryInterface(super::MemoryInterfaceChip),
        MemoryImage(super::MemoryImageChip),
        MemoryFinal(super::MemoryFinalChip),
        AccessTest(super::memory::AccessTestChip),
        Keccak(super::KeccakChip),
    }
}

/// Position of each chip in [`AluFixture::tables`].
#[derive(Clone, Copy, Debug)]
pub(crate) enum TableId {
    Dispatcher = 0,
    AddSub = 1,
    Bitwise = 2,
    Shift = 3,
    Lt = 4,
    Byte = 5,
}

/// A batch of a fetcher and a program table: `[Fetcher, Program]`.
pub(crate) struct FetchFixture {
    program: ProgramChip,
    fetches: Vec<[u32; PROGRAM_MESSAGE_WIDTH]>,
    multiplicities: RowMajorMatrix<Val>,
}

impl FetchFixture {
    pub(crate) const PROGRAM: usize = 1;

    /// Honest fetches of `pcs` (each must hold a valid instruction).
    pub(crate) fn new(program: ProgramChip, pcs: &[u32]) -> Self {
        let fetches = pcs
            .iter()
            .map(|&pc| {
                let instruction = program.instruction_at(pc).expect("fixture pcs are valid");
                super::program::fetch_message(pc, &instruction)
            })
            .collect();
        let multiplicities = program.generate_trace(pcs).expect("fixture pcs are valid");
        Self {
            program,
            fetches,
            multiplicities,
        }
    }

    /// Replaces the message of fetch `index` (the table's multiplicities are unchanged).
    pub(crate) fn set_fetch(&mut self, index: usize, message: [u32; PROGRAM_MESSAGE_WIDTH]) {
        self.fetches[index] = message;
    }

    /// Recounts the table's multiplicities for fetches of `pcs`, valid or not.
    pub(crate) fn recount(&mut self, pcs: &[u32]) {
        self.multiplicities = self.program.fill_trace(pcs);
    }

    pub(crate) fn tables(&self) -> Vec<Table<TestAir, Val>> {
        use fetcher_cols::*;
        let fetcher = padded_trace(&self.fetches, WIDTH, |_, message, out: &mut [Val]| {
            for (cell, value) in out[MESSAGE..].iter_mut().zip(message) {
                *cell = Val::from_u32(*value);
            }
            out[IS_REAL] = Val::ONE;
        });
        vec![
            Table {
                air: TestAir::Fetcher(FetcherChip),
                trace: fetcher,
                public_values: vec![],
            },
            Table {
                air: TestAir::Program(self.program.clone()),
                trace: self.multiplicities.clone(),
                public_values: vec![],
            },
        ]
    }
}

/// A batch where the dispatcher sends some rows and the ALU chips prove some rows.
pub(crate) struct AluFixture {
    tables: Vec<Table<TestAir, Val>>,
}

impl From<MipsAir> for TestAir {
    fn from(air: MipsAir) -> Self {
        match air {
            MipsAir::Byte(chip) => TestAir::Byte(chip),
            MipsAir::Program(chip) => TestAir::Program(chip),
            MipsAir::AddSub(chip) => TestAir::AddSub(chip),
            MipsAir::Bitwise(chip) => TestAir::Bitwise(chip),
            MipsAir::Shift(chip) => TestAir::Shift(chip),
            MipsAir::Lt(chip) => TestAir::Lt(chip),
            MipsAir::MemoryBoundary(chip) => TestAir::MemoryBoundary(chip),
            MipsAir::MemoryInterface(chip) => TestAir::MemoryInterface(chip),
            MipsAir::MemoryImage(chip) => TestAir::MemoryImage(chip),
            MipsAir::MemoryFinal(chip) => TestAir::MemoryFinal(chip),
            MipsAir::Cpu(chip) => TestAir::Cpu(chip),
            MipsAir::AluExtra(chip) => TestAir::AluExtra(chip),
            MipsAir::MulDiv(chip) => TestAir::MulDiv(chip),
            MipsAir::Branch(chip) => TestAir::Branch(chip),
            MipsAir::LoadStore(chip) => TestAir::LoadStore(chip),
            MipsAir::Syscall(chip) => TestAir::Syscall(chip),
            MipsAir::SyscallMemory(chip) => TestAir::SyscallMemory(chip),
            MipsAir::Keccak(chip) => TestAir::Keccak(chip),
        }
    }
}

impl AluFixture {
    /// Honest batch: the chips prove exactly what the dispatcher sends.
    pub(crate) fn new(rows: &[AluRow]) -> Self {
        Self::with_chip_rows(rows, rows)
    }

    /// The dispatcher sends `sent`; the chips prove `proved` through [`alu_tables`] (the
    /// production trace generation).
    pub(crate) fn with_chip_rows(sent: &[AluRow], proved: &[AluRow]) -> Self {
        let (dispatcher, public_values) = AluDispatcherChip::generate_trace(sent);
        let mut tables = vec![Table {
            air: TestAir::Dispatcher(AluDispatcherChip),
            trace: dispatcher,
            public_values,
        }];
        let alu = alu_tables::<Val>(proved).expect("fixture rows are valid");
        tables.extend(alu.into_iter().map(|t| Table {
            air: t.air.into(),
            trace: t.trace,
            public_values: t.public_values,
        }));
        Self { tables }
    }

    /// The rows are taken as given, even with wrong results, and every table is filled
    /// consistently with them: only the chips' constraints stand between them and a proof.
    pub(crate) fn forged(rows: &[AluRow]) -> Self {
        Self::forged_with_shift(rows, |_, row| ShiftWitness::honest(row))
    }

    /// [`Self::forged`] with the shift chip's amount and sign witness chosen per row.
    pub(crate) fn forged_with_shift(
        rows: &[AluRow],
        shift_witness: impl Fn(usize, &AluRow) -> ShiftWitness,
    ) -> Self {
        let [add_sub_rows, bitwise_rows, shift_rows, lt_rows] = split_alu_rows(rows);
        let mut bytes = ByteCounts::new();
        let traces = [
            AddSubChip::fill_trace(&add_sub_rows, &mut bytes),
            BitwiseChip::fill_trace(&bitwise_rows, &mut bytes),
            ShiftChip::fill_trace_with(&shift_rows, &mut bytes, shift_witness),
            LtChip::fill_trace(&lt_rows, &mut bytes),
        ];
        Self::assemble(rows, traces, &bytes)
    }

    fn assemble(sent: &[AluRow], traces: [RowMajorMatrix<Val>; 4], bytes: &ByteCounts) -> Self {
        let (dispatcher, public_values) = AluDispatcherChip::generate_trace(sent);
        let [add_sub, bitwise, shift, lt] = traces;
        let table = |air, trace, public_values| Table {
            air,
            trace,
            public_values,
        };
        Self {
            tables: vec![
                table(
                    TestAir::Dispatcher(AluDispatcherChip),
                    dispatcher,
                    public_values,
                ),
                table(TestAir::AddSub(AddSubChip), add_sub, vec![]),
                table(TestAir::Bitwise(BitwiseChip), bitwise, vec![]),
                table(TestAir::Shift(ShiftChip), shift, vec![]),
                table(TestAir::Lt(LtChip), lt, vec![]),
                table(
                    TestAir::Byte(ByteChip),
                    ByteChip.generate_trace(bytes),
                    vec![],
                ),
            ],
        }
    }

    pub(crate) fn tables(&self) -> Vec<Table<TestAir, Val>> {
        self.tables.clone()
    }
}

/// `p3`'s debug checks, runnable in any build: every constraint on every row, then the
/// balance of every bus. Returns what failed.
pub(crate) fn debug_check(tables: &[Table<TestAir, Val>]) -> Result<(), String> {
    for table in tables {
        let report = check_all_constraints(&table.air, &table.trace, &table.public_values, Some(8));
        if !report.is_ok() {
            return Err(format!(
                "{}: constraint failures {:?}",
                table.air.name(),
                report.failures
            ));
        }
    }
    let lookups: Vec<Vec<Lookup<Val>>> = tables
        .iter()
        .map(|t| Lookups::from_air::<Challenge, _>(&t.air).to_vec())
        .collect();
    if lookups_balance(tables, &lookups) {
        Ok(())
    } else {
        Err("bus imbalance (see the panic message above)".to_string())
    }
}

/// Replays the buses of `tables`, table `i` making the interactions `lookups[i]` (all of its
/// AIR's, or a selection); whether every bus balances. `p3` reports an imbalance by panicking,
/// with the details in the panic message.
pub(crate) fn lookups_balance(
    tables: &[Table<TestAir, Val>],
    lookups: &[Vec<Lookup<Val>>],
) -> bool {
    let preprocessed: Vec<_> = tables
        .iter()
        .map(|t| <TestAir as BaseAir<Val>>::preprocessed_trace(&t.air))
        .collect();
    let instances: Vec<LookupDebugInstance<'_, Val>> = tables
        .iter()
        .zip(lookups)
        .zip(&preprocessed)
        .map(|((table, lookups), preprocessed)| LookupDebugInstance {
            main_trace: &table.trace,
            preprocessed_trace: preprocessed,
            public_values: &table.public_values,
            lookups,
            permutation_challenges: &[],
        })
        .collect();
    catch_unwind(AssertUnwindSafe(|| check_lookups(&instances))).is_ok()
}

fn log_heights(tables: &[Table<TestAir, Val>]) -> Vec<usize> {
    tables
        .iter()
        .map(|t| t.trace.values.len() / t.trace.width)
        .map(|height| height.trailing_zeros() as usize)
        .collect()
}

fn split_tables(tables: &[Table<TestAir, Val>]) -> (Vec<TestAir>, Vec<Vec<Val>>) {
    (
        tables.iter().map(|t| t.air.clone()).collect(),
        tables.iter().map(|t| t.public_values.clone()).collect(),
    )
}

/// Debug checks, a real proof, a serialization round trip, and the real verifier.
pub(crate) fn prove_and_verify(tables: &[Table<TestAir, Val>]) -> Result<(), String> {
    debug_check(tables)?;
    let config: InnerConfig = inner_config();
    let proof = prove(&config, tables).map_err(|e| e.to_string())?;
    let bytes = postcard::to_allocvec(&proof).map_err(|e| e.to_string())?;
    let decoded = postcard::from_bytes(&bytes).map_err(|e| e.to_string())?;
    let (airs, public_values) = split_tables(tables);
    verify(&config, &airs, &decoded, &public_values).map_err(|e| e.to_string())
}

/// The tampered batch must be flagged by the debug checks and rejected by the prover (debug
/// builds) or by the real verifier.
pub(crate) fn assert_rejected(tables: &[Table<TestAir, Val>]) {
    assert!(
        debug_check(tables).is_err(),
        "p3's debug checks accept the tampered batch"
    );
    let config: InnerConfig = inner_config();
    let proved = catch_unwind(AssertUnwindSafe(|| prove(&config, tables)));
    let proof = match proved {
        Ok(Ok(proof)) => proof,
        Ok(Err(err)) => panic!("the prover refused the batch instead of proving it: {err}"),
        Err(_) if cfg!(debug_assertions) => return, // p3's in-prover debug check fired
        Err(_) => panic!("the prover panicked in a release build"),
    };
    let (airs, public_values) = split_tables(tables);
    match verify(&config, &airs, &proof, &public_values) {
        Ok(()) => panic!("the verifier accepted a tampered batch"),
        Err(err) => eprintln!("rejected as expected: {err}"),
    }
}

/// [`assert_rejected`] for `tables` once `tamper` has changed the (row-major) cells of the trace
/// of table `index`.
pub(crate) fn assert_rejected_after(
    mut tables: Vec<Table<TestAir, Val>>,
    index: usize,
    tamper: impl FnOnce(&mut [Val]),
) {
    tamper(&mut tables[index].trace.values);
    assert_rejected(&tables);
}

/// Verifies `tables`' proof against altered public values: must be rejected.
pub(crate) fn assert_public_values_bound(
    tables: &[Table<TestAir, Val>],
    alter: impl FnOnce(&mut Vec<Vec<Val>>),
) {
    let config: InnerConfig = inner_config();
    let proof = prove(&config, tables).expect("honest batch proves");
    let (airs, mut public_values) = split_tables(tables);
    let key = ShapeKey::new(&config, &airs, &log_heights(tables)).unwrap();
    verify_with_key(&config, &airs, &key, &proof, &public_values).expect("honest batch verifies");
    alter(&mut public_values);
    assert!(verify_with_key(&config, &airs, &key, &proof, &public_values).is_err());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::{ProveError, VerifyError};

    fn rows() -> Vec<AluRow> {
        vec![
            AluRow::new(AluOp::Addu, 1, 2).unwrap(),
            AluRow::new(AluOp::Or, 0x10, 0x01).unwrap(),
            AluRow::new(AluOp::Subu, 10, 3).unwrap(),
        ]
    }

    /// 256 pseudo-random requests over every operation (trapping ones replaced by their
    /// non-trapping twin): the shape a benchmark would use, checked for correctness only.
    #[test]
    fn mixed_batch_of_256_requests_verifies() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let rows: Vec<AluRow> = (0..256)
            .map(|_| {
                let op = AluOp::BASIC[(next() % AluOp::BASIC.len() as u64) as usize];
                let (b, c) = (next() as u32, next() as u32);
                AluRow::new(op, b, c).unwrap_or_else(|| {
                    let twin = if op == AluOp::Add {
                        AluOp::Addu
                    } else {
                        AluOp::Subu
                    };
                    AluRow::new(twin, b, c).expect("unsigned operations never trap")
                })
            })
            .collect();
        assert!(rows.iter().any(|r| r.opcode == AluOp::Add));
        prove_and_verify(&AluFixture::new(&rows).tables()).expect("honest batch must verify");
    }

    /// Compile-time half of the genericity check below, so CI keeps it: the machine's chips
    /// satisfy every bound of `prove`/`verify` under the outer configuration.
    const _: () = {
        let _ = prove::<crate::outer::OuterConfig, crate::chips::MipsAir>;
        let _ = verify::<crate::outer::OuterConfig, crate::chips::MipsAir>;
    };

    /// The chips and the batch helpers are generic over the STARK configuration: the same batch
    /// proves and verifies under the BN254-friendly outer configuration (with a cheap FRI shape,
    /// since this checks genericity, not security), and altered public values are rejected.
    #[test]
    #[ignore = "about 30 s: BN254 Poseidon2 hashing of the 2^16-row byte table; run with --ignored"]
    fn chips_prove_under_the_outer_config() {
        use p3_fri::FriParameters;

        use crate::outer::{OuterConfig, outer_config_with_fri};

        let config: OuterConfig = outer_config_with_fri(|mmcs| FriParameters {
            log_blowup: 1,
            log_final_poly_len: 0,
            max_log_arity: 1,
            num_queries: 2,
            batch_proof_of_work_bits: 0,
            commit_proof_of_work_bits: 0,
            query_proof_of_work_bits: 0,
            mmcs,
        });
        let tables = AluFixture::new(&rows()).tables();
        let (airs, public_values) = split_tables(&tables);
        let proof = prove(&config, &tables).expect("outer proof");
        let key = ShapeKey::new(&config, &airs, &log_heights(&tables)).unwrap();
        verify_with_key(&config, &airs, &key, &proof, &public_values)
            .expect("outer proof verifies");

        let mut altered = public_values.clone();
        altered[TableId::Dispatcher as usize][0] += Val::ONE;
        assert!(verify_with_key(&config, &airs, &key, &proof, &altered).is_err());
    }

    /// A key fixes the shape: a proof with another table height is refused before any
    /// cryptography, and the matching proof verifies against it.
    #[test]
    fn shape_key_refuses_other_shapes() {
        let config = inner_config();
        let small = AluFixture::new(&rows()).tables();
        let mut more = rows();
        more.extend(rows());
        more.extend(rows());
        let large = AluFixture::new(&more).tables();
        let (airs, public_values) = split_tables(&small);
        let key = ShapeKey::new(&config, &airs, &log_heights(&small)).unwrap();
        let large_proof = prove(&config, &large).unwrap();
        let (_, large_values) = split_tables(&large);
        assert!(matches!(
            verify_with_key(&config, &airs, &key, &large_proof, &large_values),
            Err(VerifyError::Shape(_))
        ));
        let small_proof = prove(&config, &small).unwrap();
        verify_with_key(&config, &airs, &key, &small_proof, &public_values).unwrap();
    }

    #[test]
    fn empty_chips_verify() {
        prove_and_verify(&AluFixture::new(&[]).tables()).expect("an empty batch verifies");
    }

    /// The public request count is bound: a proof does not verify with another count.
    #[test]
    fn wrong_public_value_is_rejected() {
        assert_public_values_bound(&AluFixture::new(&rows()).tables(), |values| {
            values[TableId::Dispatcher as usize][0] += Val::ONE;
        });
    }

    /// A trace whose last count disagrees with the public value does not prove.
    #[test]
    fn count_disagreeing_with_public_value_is_rejected() {
        let mut tables = AluFixture::new(&rows()).tables();
        tables[TableId::Dispatcher as usize].public_values[0] = Val::from_u32(2);
        assert_rejected(&tables);
    }

    /// A request sent with multiplicity 2 and proved twice balances the bus and the count; only
    /// the boolean constraint on `is_real` stops it.
    #[test]
    fn request_multiplicity_two_is_rejected() {
        let sent = rows();
        let mut proved = sent.clone();
        proved.push(sent[0]);
        let fixture = AluFixture::with_chip_rows(&sent, &proved);
        let mut tables = fixture.tables();
        let trace = &mut tables[TableId::Dispatcher as usize].trace;
        use dispatcher_cols::*;
        trace.values[IS_REAL] = Val::TWO;
        for row in 0..trace.values.len() / WIDTH {
            trace.values[row * WIDTH + COUNT] += Val::ONE;
        }
        tables[TableId::Dispatcher as usize].public_values[0] += Val::ONE;
        assert!(debug_check(&tables).is_err());
        assert_rejected(&tables);
    }

    #[test]
    fn malformed_tables_are_refused_with_an_error() {
        let config = inner_config();
        let mut tables = AluFixture::new(&rows()).tables();
        tables[TableId::AddSub as usize].trace = RowMajorMatrix::new(Val::zero_vec(8 * 3), 3);
        assert!(matches!(
            prove(&config, &tables),
            Err(ProveError::Width { index: 1, .. })
        ));

        let mut tables = AluFixture::new(&rows()).tables();
        let byte = &mut tables[TableId::Byte as usize].trace;
        byte.values.truncate(byte.values.len() / 2);
        assert!(matches!(
            prove(&config, &tables),
            Err(ProveError::PreprocessedHeight { index, .. }) if index == TableId::Byte as usize
        ));

        let mut tables = AluFixture::new(&rows()).tables();
        tables[TableId::Dispatcher as usize].public_values.clear();
        assert!(matches!(
            prove(&config, &tables),
            Err(ProveError::PublicValues { index: 0, .. })
        ));
    }

    #[test]
    fn proof_for_other_chips_or_shapes_is_refused() {
        let config = inner_config();
        let tables = AluFixture::new(&rows()).tables();
        let proof = prove(&config, &tables).unwrap();
        let (airs, public_values) = split_tables(&tables);

        // Fewer chips than the proof covers.
        assert!(matches!(
            verify(&config, &airs[..3], &proof, &public_values[..3]),
            Err(VerifyError::Shape(_))
        ));
        // The chips in another order.
        let mut swapped = airs.clone();
        swapped.swap(1, 2);
        assert!(verify(&config, &swapped, &proof, &public_values).is_err());
        // A claimed height that contradicts the byte table.
        let mut bent = postcard::from_bytes::<p3_batch_stark::BatchProof<InnerConfig>>(
            &postcard::to_allocvec(&proof).unwrap(),
        )
        .unwrap();
        bent.degree_bits[TableId::Byte as usize] -= 1;
        assert!(matches!(
            verify(&config, &airs, &bent, &public_values),
            Err(VerifyError::Shape(_))
        ));
        verify(&config, &airs, &proof, &public_values).expect("the untouched proof verifies");
    }
}
