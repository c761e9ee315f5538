//! The memory argument's specification: honest access sequences (random and from real executor
//! shards) prove and verify; each way of lying about memory is rejected.

use std::collections::HashMap;

use p3_air::check_all_constraints;
use p3_field::PrimeCharacteristicRing;
use p3_lookup::{Kind, Lookup, Lookups};
use zkmips_abi::syscall::HALT;
use zkmips_executor::{Executor, ExecutorConfig, Mode, Program};

use super::*;
use crate::batch::Table;
use crate::chips::ByteChip;
use crate::chips::testing::{TestAir, assert_rejected, lookups_balance, prove_and_verify};
use crate::config::{Challenge, Val};

/// Position of each chip in [`Scenario::tables`].
const ACCESSES: usize = 0;
const BOUNDARY: usize = 1;

/// A shard's memory activity as a (possibly lying) prover presents it.
#[derive(Clone, Debug)]
struct Scenario {
    accesses: Vec<TestAccess>,
    boundary: Vec<BoundaryEntry>,
}

impl Scenario {
    /// Honest run of `ops` (`(addr, Some(value))` writes, `(addr, None)` reads) at timestamps
    /// `ts`, starting from memory `init`.
    fn simulate(ops: &[(u32, Option<u32>, u32)], init: impl Fn(u32) -> u32) -> Self {
        let mut state: HashMap<u32, (u32, u32)> = HashMap::new();
        let mut order = Vec::new();
        let mut accesses = Vec::new();
        for &(addr, write, ts) in ops {
            let (prev_value, prev_timestamp) = *state.entry(addr).or_insert_with(|| {
                order.push(addr);
                (init(addr), 0)
            });
            let value = write.unwrap_or(prev_value);
            state.insert(addr, (value, ts));
            accesses.push(TestAccess {
                access: MemoryAccess {
                    addr,
                    value,
                    prev_value,
                    prev_timestamp,
                    timestamp: ts,
                },
                is_write: write.is_some(),
            });
        }
        let boundary = order
            .iter()
            .map(|&addr| BoundaryEntry {
                addr,
                init_value: init(addr),
                final_value: state[&addr].0,
                final_ts: state[&addr].1,
            })
            .collect();
        Self { accesses, boundary }
    }

    /// The tables through the checked trace generation.
    fn honest_tables(&self) -> Vec<Table<TestAir, Val>> {
        let mut bytes = ByteCounts::new();
        let accesses = AccessTestChip::generate_trace(&self.accesses, &mut bytes).unwrap();
        let boundary = MemoryBoundaryChip
            .generate_trace(&self.boundary, &mut bytes)
            .unwrap();
        assemble(accesses, boundary, &bytes)
    }

    /// The tables filled as given (boundary sorted by address, duplicates kept), byte counts
    /// consistent with every byte filled: only the constraints stand between them and a proof.
    fn forged_tables(&self) -> Vec<Table<TestAir, Val>> {
        let mut bytes = ByteCounts::new();
        let accesses = AccessTestChip::fill_trace(&self.accesses, &mut bytes);
        let boundary = MemoryBoundaryChip::fill_trace(&self.sorted_boundary(), &mut bytes);
        assemble(accesses, boundary, &bytes)
    }

    fn sorted_boundary(&self) -> Vec<BoundaryEntry> {
        let mut sorted = self.boundary.clone();
        sorted.sort_by_key(|e| e.addr);
        sorted
    }

    /// Row of `addr` in the (sorted) boundary trace.
    fn boundary_row(&self, addr: u32) -> usize {
        self.sorted_boundary()
            .iter()
            .position(|e| e.addr == addr)
            .unwrap()
    }

    /// Re-links the accesses to `addr` after index `from` (each takes the previous one's value
    /// and timestamp, reads keep it) and the boundary's final entry, as a forger who changed
    /// access `from` would, so that the memory bus stays balanced.
    fn relink_after(&mut self, from: usize) {
        let addr = self.accesses[from].access.addr;
        let mut last = (
            self.accesses[from].access.value,
            self.accesses[from].access.timestamp,
        );
        for row in self.accesses[from + 1..]
            .iter_mut()
            .filter(|r| r.access.addr == addr)
        {
            row.access.prev_value = last.0;
            row.access.prev_timestamp = last.1;
            if !row.is_write {
                row.access.value = last.0;
            }
            last = (row.access.value, row.access.timestamp);
        }
        let entry = self.boundary.iter_mut().find(|e| e.addr == addr).unwrap();
        entry.final_value = last.0;
        entry.final_ts = last.1;
    }

    /// Index of the first access satisfying `pred` that is followed by another access to the
    /// same location.
    fn find_with_successor(&self, pred: impl Fn(&TestAccess) -> bool) -> usize {
        (0..self.accesses.len())
            .find(|&i| {
                let a = &self.accesses[i];
                pred(a)
                    && self.accesses[i + 1..]
                        .iter()
                        .any(|b| b.access.addr == a.access.addr)
            })
            .expect("scenario has such an access")
    }

    /// Index of the last access to each location.
    fn last_accesses(&self) -> Vec<usize> {
        let mut last = HashMap::new();
        for (i, a) in self.accesses.iter().enumerate() {
            last.insert(a.access.addr, i);
        }
        let mut v: Vec<usize> = last.into_values().collect();
        v.sort();
        v
    }
}

fn assemble(
    accesses: RowMajorMatrix<Val>,
    boundary: RowMajorMatrix<Val>,
    bytes: &ByteCounts,
) -> Vec<Table<TestAir, Val>> {
    let table = |air, trace| Table {
        air,
        trace,
        public_values: vec![],
    };
    vec![
        table(TestAir::AccessTest(AccessTestChip), accesses),
        table(TestAir::MemoryBoundary(MemoryBoundaryChip), boundary),
        table(TestAir::Byte(ByteChip), ByteChip.generate_trace(bytes)),
    ]
}

/// Registers (including `$zero`, HI = 32, LO = 33) and memory words whose limbs exercise the
/// ordering (equal high limbs, equal low limbs, the extremes).
const LOCATIONS: [u32; 14] = [
    0,
    2,
    29,
    31,
    32,
    33,
    0x0000_1000,
    0x0000_1004,
    0x1000_0000,
    0x1001_0000,
    0x1001_fffc,
    0x7fff_effc,
    0xffff_0000,
    0xffff_fffc,
];

fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut state = seed;
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}

/// `n` pseudo-random reads and writes over [`LOCATIONS`] plus one location touched once, with
/// timestamps that sometimes jump far (to use the top byte of the difference).
fn random_scenario(seed: u64, n: usize) -> Scenario {
    let mut next = xorshift(seed);
    let mut ts = 0u32;
    let mut ops: Vec<(u32, Option<u32>, u32)> = (0..n)
        .map(|i| {
            ts += if i == n / 2 {
                1 << 26
            } else {
                1 + (next() % 9) as u32
            };
            let addr = LOCATIONS[(next() % LOCATIONS.len() as u64) as usize];
            let write = match next() % 4 {
                0 | 1 => None,
                2 => Some(next() as u32),
                _ => Some(0xffff_ffff),
            };
            (addr, write, ts)
        })
        .collect();
    ops.push((0x2000_0040, None, ts + 3));
    Scenario::simulate(&ops, |addr| addr.wrapping_mul(0x9e37_79b9) ^ 0x5555_0000)
}

fn scenario() -> Scenario {
    random_scenario(0x1234_5678_9abc_def1, 60)
}

#[test]
fn honest_random_accesses_verify() {
    let s = scenario();
    assert!(s.accesses.iter().any(|a| a.is_write) && s.accesses.iter().any(|a| !a.is_write));
    assert!(
        s.boundary.len() < s.accesses.len(),
        "locations are accessed repeatedly"
    );
    // The checked and the forging trace generation agree on honest input.
    let honest = s.honest_tables();
    let filled = s.forged_tables();
    for (a, b) in honest.iter().zip(&filled) {
        assert_eq!(a.trace, b.trace);
    }
    prove_and_verify(&honest).expect("honest accesses verify");
}

#[test]
fn larger_random_batch_verifies() {
    prove_and_verify(&random_scenario(7, 700).honest_tables()).expect("honest accesses verify");
}

/// A shard touching nothing has an empty boundary and no accesses.
#[test]
fn empty_memory_argument_verifies() {
    prove_and_verify(&Scenario::simulate(&[], |_| 0).honest_tables()).expect("empty verifies");
}

// --- real executor shards ---------------------------------------------------------------------

mod asm {
    pub const ZERO: u32 = 0;
    pub const V0: u32 = 2;
    pub const A0: u32 = 4;
    pub const T0: u32 = 8;
    pub const T1: u32 = 9;
    pub const S0: u32 = 16;

    fn itype(op: u32, rs: u32, rt: u32, imm: i32) -> u32 {
        (op << 26) | (rs << 21) | (rt << 16) | (imm as u32 & 0xffff)
    }
    pub fn lui(rt: u32, imm: u32) -> u32 {
        itype(0x0f, 0, rt, imm as i32)
    }
    pub fn addiu(rt: u32, rs: u32, imm: i32) -> u32 {
        itype(0x09, rs, rt, imm)
    }
    pub fn lw(rt: u32, off: i32, base: u32) -> u32 {
        itype(0x23, base, rt, off)
    }
    pub fn sw(rt: u32, off: i32, base: u32) -> u32 {
        itype(0x2b, base, rt, off)
    }
    pub fn bne(rs: u32, rt: u32, off: i32) -> u32 {
        itype(0x05, rs, rt, off)
    }
    pub fn addu(rd: u32, rs: u32, rt: u32) -> u32 {
        (rs << 21) | (rt << 16) | (rd << 11) | 0x21
    }
    pub const NOP: u32 = 0;
    pub const SYSCALL: u32 = 0x0000_000c;
}

const TEXT: u32 = 0x0040_0000;
const DATA: u32 = 0x1000_0000;

/// A loop that reads, updates and stores two memory words and then exits with the last one.
fn loop_program() -> Program {
    use asm::*;
    let words = [
        lui(S0, DATA >> 16),
        addiu(T0, ZERO, 6),
        lw(T1, 0, S0), // loop
        addu(T1, T1, T0),
        sw(T1, 0, S0),
        sw(T0, 4, S0),
        addiu(T0, T0, -1),
        bne(T0, ZERO, -6),
        NOP,
        lw(A0, 4, S0),
        lui(V0, HALT >> 16),
        SYSCALL,
    ];
    Program::from_code(TEXT, &words).with_data_segment(
        DATA,
        0x100,
        &[5, 0, 0, 0, 0xaa, 0xbb, 0xcc, 0xdd],
    )
}

fn shard_scenario(shard: &Shard) -> Scenario {
    Scenario {
        accesses: shard
            .accesses
            .iter()
            .map(|&access| TestAccess {
                access,
                is_write: access.value != access.prev_value,
            })
            .collect(),
        boundary: boundary_entries(shard).expect("the executor's boundary is consistent"),
    }
}

fn traced_shards() -> Vec<Shard> {
    let config = ExecutorConfig {
        max_cycles: Some(10_000),
        mode: Mode::Tracing,
        shard_cycles: 16,
        ..ExecutorConfig::default()
    };
    let mut executor = Executor::new(&loop_program(), config).unwrap();
    let report = executor.run().expect("the loop runs");
    assert_eq!(report.exit_code, 1);
    report.record.expect("tracing mode keeps a record").shards
}

/// Every shard of a real traced run: its accesses (registers and memory) and its
/// `memory_init`/`memory_final` prove and verify the memory argument.
#[test]
fn executor_shards_verify() {
    let shards = traced_shards();
    assert!(shards.len() >= 3, "the run spans several shards");
    for shard in &shards {
        let s = shard_scenario(shard);
        assert!(s.accesses.iter().any(|a| !is_register_addr(a.access.addr)));
        prove_and_verify(&s.honest_tables())
            .unwrap_or_else(|e| panic!("shard {}: {e}", shard.index));
    }
}

fn is_register_addr(addr: u32) -> bool {
    zkmips_executor::events::is_register(addr)
}

/// A real shard whose loaded memory word is read back wrong is rejected.
#[test]
fn executor_shard_with_a_wrong_load_is_rejected() {
    let shard = &traced_shards()[1];
    let mut s = shard_scenario(shard);
    let k = s.find_with_successor(|a| a.access.addr == DATA && !a.is_write);
    s.accesses[k].access.value ^= 0x0100_0000;
    s.relink_after(k);
    assert_caught_by(&s.forged_tables(), &["AccessTest"], &[]);
}

/// What `p3`'s debug checks flag in `tables`: the chips with a violated constraint and the
/// buses that do not balance. Tamper tests assert it so that each shows the one check that
/// catches the lie (everything else having been forged consistently).
fn diagnose(tables: &[Table<TestAir, Val>]) -> (Vec<&'static str>, Vec<&'static str>) {
    let chips = tables
        .iter()
        .filter(|t| !check_all_constraints(&t.air, &t.trace, &t.public_values, Some(8)).is_ok())
        .map(|t| t.air.name())
        .collect();
    let buses = ["memory", "byte"]
        .into_iter()
        .filter(|bus| !bus_balances(tables, bus))
        .collect();
    (chips, buses)
}

fn bus_balances(tables: &[Table<TestAir, Val>], bus: &str) -> bool {
    let lookups: Vec<Vec<Lookup<Val>>> = tables
        .iter()
        .map(|t| {
            Lookups::from_air::<Challenge, _>(&t.air)
                .iter()
                .filter(|l| matches!(&l.kind, Kind::Global(name) if name == bus))
                .cloned()
                .collect()
        })
        .collect();
    lookups_balance(tables, &lookups)
}

/// `tables` fail exactly the given constraints / buses, and the prover or verifier rejects them.
fn assert_caught_by(tables: &[Table<TestAir, Val>], chips: &[&str], buses: &[&str]) {
    let (failed_chips, failed_buses) = diagnose(tables);
    assert_eq!(
        (failed_chips.as_slice(), failed_buses.as_slice()),
        (chips, buses),
        "unexpected set of failing checks"
    );
    assert_rejected(tables);
}

// --- trace generation refuses bad input -------------------------------------------------------

#[test]
fn trace_generation_refuses_bad_input() {
    let mut bytes = ByteCounts::new();
    let s = scenario();

    let mut bad = s.accesses.clone();
    let k = bad.iter().position(|a| !a.is_write).unwrap();
    bad[k].access.value ^= 1;
    assert!(matches!(
        AccessTestChip::generate_trace::<Val>(&bad, &mut bytes),
        Err(MemoryTraceError::ReadChangesValue { index, .. }) if index == k
    ));

    let mut bad = s.accesses.clone();
    bad[3].access.prev_timestamp = bad[3].access.timestamp;
    assert!(matches!(
        AccessTestChip::generate_trace::<Val>(&bad, &mut bytes),
        Err(MemoryTraceError::TimestampNotIncreasing { index: 3, .. })
    ));

    // The helper's own entry point fills what the test chip's trace holds, and checks the same.
    let mut cells = [Val::ZERO; access_cols::WIDTH];
    populate_access(0, &mut cells, &s.accesses[3].access, &mut bytes).unwrap();
    let row = AccessTestChip::fill_trace::<Val>(&s.accesses[3..4], &mut ByteCounts::new());
    let at = access_test_cols::ACCESS;
    assert_eq!(cells[..], row.values[at..at + access_cols::WIDTH]);
    assert!(matches!(
        populate_access(7, &mut cells, &bad[3].access, &mut bytes),
        Err(MemoryTraceError::TimestampNotIncreasing { index: 7, .. })
    ));
    bytes = ByteCounts::new();

    let mut bad = s.accesses.clone();
    bad[0].access.timestamp = MAX_TIMESTAMP;
    assert!(matches!(
        AccessTestChip::generate_trace::<Val>(&bad, &mut bytes),
        Err(MemoryTraceError::TimestampTooLarge { index: 0, .. })
    ));

    let mut bad = s.boundary.clone();
    bad.push(bad[2]);
    assert_eq!(
        MemoryBoundaryChip.generate_trace::<Val>(&bad, &mut bytes),
        Err(MemoryTraceError::DuplicateAddress { addr: bad[2].addr })
    );
    assert_eq!(bytes, ByteCounts::new(), "refused traces record nothing");

    let mut shard = traced_shards().remove(1);
    shard.memory_final.swap(0, 1);
    assert!(matches!(
        boundary_entries(&shard),
        Err(MemoryTraceError::BoundaryAddressMismatch { index: 0, .. })
    ));
    shard.memory_final.pop();
    assert!(matches!(
        boundary_entries(&shard),
        Err(MemoryTraceError::BoundaryLengths { .. })
    ));
}

// --- tampering --------------------------------------------------------------------------------

/// A read returns a value other than the one stored; the chain after it is forged consistently
/// (so the bus balances): only `value == prev_value` on reads catches it.
#[test]
fn read_of_a_wrong_value_is_rejected() {
    let mut s = scenario();
    let k = s.find_with_successor(|a| !a.is_write);
    s.accesses[k].access.value = s.accesses[k].access.prev_value.wrapping_add(1);
    s.relink_after(k);
    assert_caught_by(&s.forged_tables(), &["AccessTest"], &[]);
}

/// A read claims an older value (the location's initial one) than the last written, and is
/// internally consistent (`value == prev_value`): its consumed state was never produced.
#[test]
fn stale_read_is_rejected() {
    let mut s = scenario();
    let k = (0..s.accesses.len())
        .find(|&k| {
            let a = &s.accesses[k];
            let init = s.boundary.iter().find(|e| e.addr == a.access.addr).unwrap();
            !a.is_write && a.access.prev_value != init.init_value
        })
        .expect("a read after a write");
    let init = s
        .boundary
        .iter()
        .find(|e| e.addr == s.accesses[k].access.addr)
        .unwrap()
        .init_value;
    s.accesses[k].access.prev_value = init;
    s.accesses[k].access.value = init;
    s.relink_after(k);
    assert_caught_by(&s.forged_tables(), &[], &["memory"]);
}

/// [`scenario`] with a phantom read inserted as access 6: a read of access 5's location that
/// consumes and re-produces access 5's final state at that state's own timestamp.
fn scenario_with_phantom_read() -> (Scenario, TestAccess) {
    let mut s = scenario();
    let mut phantom = s.accesses[5];
    phantom.is_write = false;
    phantom.access.prev_value = phantom.access.value;
    phantom.access.prev_timestamp = phantom.access.timestamp;
    s.accesses.insert(6, phantom);
    (s, phantom)
}

/// An extra read that consumes and re-produces the same state `(addr, v, t)` at time `t`
/// balances the bus by itself; only `prev_ts < ts` stops such phantom accesses.
#[test]
fn access_at_its_previous_timestamp_is_rejected() {
    let (s, _) = scenario_with_phantom_read();
    assert_caught_by(&s.forged_tables(), &["AccessTest"], &[]);
}

/// The phantom read again (`prev_ts = ts`), now with the timestamp difference witnessed exactly
/// in the field: `D = 2^24 d3 = -1` with `d3 = -1 / 2^24`. The equation holds; the lookup of
/// `32 d3`, not a byte, fails — no byte witness can reach `p - 1` (the largest is below `2^28`).
#[test]
fn difference_wrapped_through_the_field_is_rejected() {
    use access_cols::TS_DIFF;
    use access_test_cols::{ACCESS, WIDTH};
    let (s, phantom) = scenario_with_phantom_read();
    let mut tables = s.forged_tables();
    let diff = 6 * WIDTH + ACCESS + TS_DIFF;
    let cells = &mut tables[ACCESSES].trace.values;
    cells[diff..diff + 3].fill(Val::ZERO);
    cells[diff + 3] = -Val::from_u32(1 << 24).inverse();
    // Byte counts: every other row as filled, and the phantom's lookups as it now makes them,
    // except the impossible `(0, 32 d3)`.
    let mut bytes = ByteCounts::new();
    let mut others = s.accesses.clone();
    others.remove(6);
    let _ = AccessTestChip::fill_trace::<Val>(&others, &mut bytes);
    let _ = MemoryBoundaryChip::fill_trace::<Val>(&s.sorted_boundary(), &mut bytes);
    record_word_bytes(phantom.access.value, &mut bytes);
    let [t0, t1, t2, t3] = word_bytes(phantom.access.timestamp);
    bytes.record(ByteOp::RangePair, t0, t1);
    bytes.record(ByteOp::RangePair, t2, t3 << 5);
    bytes.record(ByteOp::RangePair, 0, 0);
    tables[2].trace = ByteChip.generate_trace(&bytes);
    assert_caught_by(&tables, &[], &["byte"]);
}

/// The same phantom with everything zero, as an all-zero padding row switched on would be.
#[test]
fn phantom_access_at_time_zero_is_rejected() {
    let mut s = scenario();
    s.accesses.push(TestAccess {
        access: MemoryAccess::default(),
        is_write: false,
    });
    assert_caught_by(&s.forged_tables(), &["AccessTest"], &[]);
}

/// A read placed *before* the access whose value it returns (its timestamp is below its
/// previous timestamp), with the boundary closing the location after it.
#[test]
fn timestamp_going_backwards_is_rejected() {
    let mut s = scenario();
    let last = *s.last_accesses().last().unwrap();
    let previous = s.accesses[last].access;
    assert!(previous.timestamp > 1);
    let read = MemoryAccess {
        addr: previous.addr,
        value: previous.value,
        prev_value: previous.value,
        prev_timestamp: previous.timestamp,
        timestamp: previous.timestamp - 1,
    };
    s.accesses.push(TestAccess {
        access: read,
        is_write: false,
    });
    let entry = s.boundary.iter_mut().find(|e| e.addr == read.addr).unwrap();
    entry.final_ts = read.timestamp;
    assert_caught_by(&s.forged_tables(), &["AccessTest"], &[]);
}

/// An access the other chips performed but that has no row here.
#[test]
fn skipped_access_is_rejected() {
    let mut s = scenario();
    let k = s.find_with_successor(|a| a.is_write);
    s.accesses.remove(k);
    assert_caught_by(&s.forged_tables(), &[], &["memory"]);
}

#[test]
fn duplicated_access_is_rejected() {
    let mut s = scenario();
    let k = s.find_with_successor(|a| !a.is_write);
    let copy = s.accesses[k];
    s.accesses.insert(k + 1, copy);
    assert_caught_by(&s.forged_tables(), &[], &["memory"]);
}

#[test]
fn forged_initial_value_is_rejected() {
    let mut s = scenario();
    s.boundary[3].init_value ^= 0x8000_0000;
    assert_caught_by(&s.forged_tables(), &[], &["memory"]);
}

#[test]
fn forged_final_value_is_rejected() {
    let mut s = scenario();
    s.boundary[4].final_value ^= 1;
    assert_caught_by(&s.forged_tables(), &[], &["memory"]);
}

#[test]
fn forged_final_timestamp_is_rejected() {
    let mut s = scenario();
    s.boundary[4].final_ts += 1;
    assert_caught_by(&s.forged_tables(), &[], &["memory"]);
}

/// Forges a second chain for a location picked by `pick`: a read that has a predecessor now
/// returns a never-written value from a chain starting at time 0. Returns the location's honest
/// entry, now closing the honest chain before that read, and the forged entry for the second
/// chain (not added to the boundary). Every timestamp increases and the bus balances once both
/// entries are in the boundary.
fn forge_second_chain(s: &mut Scenario, pick: impl Fn(u32) -> bool) -> BoundaryEntry {
    let k = s.find_with_successor(|a| {
        !a.is_write && a.access.prev_timestamp != 0 && pick(a.access.addr)
    });
    let addr = s.accesses[k].access.addr;
    let before = (
        s.accesses[k].access.prev_value,
        s.accesses[k].access.prev_timestamp,
    );
    let forged_value = before.0 ^ 0xdead_beef;
    s.accesses[k].access.prev_value = forged_value;
    s.accesses[k].access.value = forged_value;
    s.accesses[k].access.prev_timestamp = 0;
    s.relink_after(k);
    let entry = s.boundary.iter_mut().find(|e| e.addr == addr).unwrap();
    let end = (entry.final_value, entry.final_ts);
    entry.final_value = before.0;
    entry.final_ts = before.1;
    BoundaryEntry {
        addr,
        init_value: forged_value,
        final_value: end.0,
        final_ts: end.1,
    }
}

/// A second boundary row for a location starts a second chain with an arbitrary value, so a
/// read can return a value never written; everything balances and every timestamp increases:
/// only the strictly increasing address order catches it.
#[test]
fn duplicate_address_in_the_boundary_is_rejected() {
    let mut s = scenario();
    let forged = forge_second_chain(&mut s, |addr| addr >= 0x1000);
    s.boundary.push(forged);
    assert_caught_by(&s.forged_tables(), &["MemoryBoundary"], &[]);
}

/// Builds the tables with the boundary rows exactly as given, `(entry, is_real)`, each row's
/// ordering witness comparing it with the row below it (rows with `is_real = 0` make no
/// lookups). `tweak` may edit each filled row before its lookups are counted.
fn tables_with_boundary_rows(
    s: &Scenario,
    rows: &[(BoundaryEntry, bool)],
    tweak: impl Fn(usize, &mut [Val]),
) -> Vec<Table<TestAir, Val>> {
    use boundary_cols::{ORDER_DIFF, WIDTH};
    use p3_field::PrimeField32;
    let mut bytes = ByteCounts::new();
    let accesses = AccessTestChip::fill_trace(&s.accesses, &mut bytes);
    let mut values = Val::zero_vec(crate::chips::padded_height(rows.len()) * WIDTH);
    for (index, &(entry, is_real)) in rows.iter().enumerate() {
        let pair: Vec<BoundaryEntry> = std::iter::once(entry)
            .chain(rows.get(index + 1).map(|&(next, _)| next))
            .collect();
        let filled = MemoryBoundaryChip::fill_trace::<Val>(&pair, &mut ByteCounts::new());
        let first = &mut values[index * WIDTH..(index + 1) * WIDTH];
        first.copy_from_slice(&filled.values[..WIDTH]);
        tweak(index, first);
        if !is_real {
            values[index * WIDTH + boundary_cols::IS_REAL] = Val::ZERO;
            continue;
        }
        record_word_bytes(entry.addr, &mut bytes);
        record_word_bytes(entry.init_value, &mut bytes);
        let order = |k: usize| first[ORDER_DIFF + k].as_canonical_u32() as u8;
        bytes.record(ByteOp::RangePair, order(0), order(1));
    }
    assemble(accesses, RowMajorMatrix::new(values, WIDTH), &bytes)
}

/// The duplicate hidden behind a row with `is_real = 0` (whose address is below the duplicate's,
/// so the ordering from it holds): the ordering is only checked into real rows, so only "real
/// rows form a prefix" catches it.
#[test]
fn duplicate_hidden_behind_a_gap_is_rejected() {
    let mut s = scenario();
    let forged = forge_second_chain(&mut s, |addr| addr >= 0x1000);
    let mut rows: Vec<(BoundaryEntry, bool)> =
        s.sorted_boundary().into_iter().map(|e| (e, true)).collect();
    let gap = BoundaryEntry {
        addr: forged.addr - 4,
        ..forged
    };
    rows.push((gap, false));
    rows.push((forged, true));
    assert_caught_by(
        &tables_with_boundary_rows(&s, &rows, |_, _| {}),
        &["MemoryBoundary"],
        &[],
    );
}

/// The duplicate placed right after a larger address with the same high limb, the ordering
/// witnessed with a non-boolean "high limbs equal" flag `h = (D + 1) / (lo_next - lo)`: only the
/// flag's boolean constraint catches it.
#[test]
fn out_of_order_rows_with_a_forged_flag_are_rejected() {
    let mut s = scenario();
    let forged = forge_second_chain(&mut s, |addr| addr < 0x1_0000);
    let sorted = s.sorted_boundary();
    let at = sorted.iter().position(|e| e.addr == forged.addr).unwrap() + 1;
    let larger = sorted[at];
    assert_eq!(larger.addr >> 16, 0, "same high limb");
    let mut rows: Vec<(BoundaryEntry, bool)> = sorted.into_iter().map(|e| (e, true)).collect();
    rows.insert(at + 1, (forged, true));
    let mut tables = tables_with_boundary_rows(&s, &rows, |_, _| {});
    // Row `at` (the larger address) is followed by the smaller duplicate; its witness holds
    // `D = (lo_next - lo - 1) mod 2^16`, which the forged flag makes consistent in the field.
    let w = boundary_cols::WIDTH;
    let cells = &mut tables[BOUNDARY].trace.values;
    let d = cells[at * w + boundary_cols::ORDER_DIFF]
        + cells[at * w + boundary_cols::ORDER_DIFF + 1] * Val::from_u32(256);
    let step = Val::from_u32(forged.addr) - Val::from_u32(larger.addr);
    cells[at * w + boundary_cols::HI_EQUAL] = (d + Val::ONE) * step.inverse();
    assert_caught_by(&tables, &["MemoryBoundary"], &[]);
}

/// The duplicate placed right after the next larger address, whose high limb is larger but
/// low limb smaller, the ordering witnessed as if the high limbs were equal (`hi_equal = 1`,
/// comparing the low limbs, which do increase): only `hi_equal · (hi_next - hi) = 0` catches it.
#[test]
fn high_limbs_claimed_equal_are_rejected() {
    let mut s = scenario();
    let sorted = s.sorted_boundary();
    let qualifies = |addr: u32| {
        sorted.windows(2).any(|w| {
            w[0].addr == addr && w[1].addr >> 16 != addr >> 16 && w[1].addr & 0xffff < addr & 0xffff
        })
    };
    let forged = forge_second_chain(&mut s, qualifies);
    let sorted = s.sorted_boundary();
    let at = sorted.iter().position(|e| e.addr == forged.addr).unwrap() + 1;
    let larger = sorted[at];
    let mut rows: Vec<(BoundaryEntry, bool)> = sorted.into_iter().map(|e| (e, true)).collect();
    rows.insert(at + 1, (forged, true));
    let low_diff = (forged.addr & 0xffff) - (larger.addr & 0xffff) - 1;
    let tables = tables_with_boundary_rows(&s, &rows, |index, row| {
        if index == at {
            row[boundary_cols::HI_EQUAL] = Val::ONE;
            row[boundary_cols::ORDER_DIFF] = Val::from_u32(low_diff & 0xff);
            row[boundary_cols::ORDER_DIFF + 1] = Val::from_u32(low_diff >> 8);
        }
    });
    assert_caught_by(&tables, &["MemoryBoundary"], &[]);
}

/// The last boundary entry counted twice (`is_real = 2`), with every access to its location
/// performed twice: the bus balances, every timestamp increases, only `is_real` boolean catches
/// it (the bound 1 declared for the LogUp counts relies on it).
#[test]
fn boundary_entry_counted_twice_is_rejected() {
    let mut s = scenario();
    let last = *s.sorted_boundary().last().unwrap();
    let doubled: Vec<TestAccess> = s
        .accesses
        .iter()
        .filter(|a| a.access.addr == last.addr)
        .copied()
        .collect();
    s.accesses.extend(doubled);
    let mut tables = s.forged_tables();
    let row = s.boundary.len() - 1;
    tables[BOUNDARY].trace.values[row * boundary_cols::WIDTH + boundary_cols::IS_REAL] = Val::TWO;
    // Its five byte lookups (address, initial value, the last row's zero order witness) now
    // count twice.
    let mut bytes = ByteCounts::new();
    let _ = AccessTestChip::fill_trace::<Val>(&s.accesses, &mut bytes);
    let _ = MemoryBoundaryChip::fill_trace::<Val>(&s.sorted_boundary(), &mut bytes);
    record_word_bytes(last.addr, &mut bytes);
    record_word_bytes(last.init_value, &mut bytes);
    bytes.record(ByteOp::RangePair, 0, 0);
    tables[2].trace = ByteChip.generate_trace(&bytes);
    assert_caught_by(&tables, &["MemoryBoundary"], &[]);
}

/// A write replaced by another value while the CPU-side row stays: a copy of the honest row with
/// `is_real = is_write = -1` cancels its bus effect, and a forged write of another value takes
/// its place in the chain. Everything balances and every timestamp increases: only `is_real`
/// boolean catches it.
#[test]
fn access_cancelled_by_a_negative_row_is_rejected() {
    use access_test_cols::{IS_REAL, IS_WRITE, WIDTH};
    let mut s = scenario();
    let k = s.find_with_successor(|a| a.is_write);
    let honest = s.accesses[k];
    let mut forged = honest;
    forged.access.value ^= 0x0bad_f00d;
    // The chain after k continues from the forged value...
    s.accesses[k] = forged;
    s.relink_after(k);
    // ... while row k stays honest, cancelled by a negative copy; the forged write is appended.
    s.accesses[k] = honest;
    s.accesses.push(honest);
    let cancel = s.accesses.len() - 1;
    s.accesses.push(forged);
    let mut tables = s.forged_tables();
    let cells = &mut tables[ACCESSES].trace.values;
    cells[cancel * WIDTH + IS_REAL] = -Val::ONE;
    cells[cancel * WIDTH + IS_WRITE] = -Val::ONE;
    // Byte lookups: the cancelling row's count -1 offsets the honest row's identical ones.
    let mut bytes = ByteCounts::new();
    let kept: Vec<TestAccess> = s
        .accesses
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != k && i != cancel)
        .map(|(_, a)| *a)
        .collect();
    let _ = AccessTestChip::fill_trace::<Val>(&kept, &mut bytes);
    let _ = MemoryBoundaryChip::fill_trace::<Val>(&s.sorted_boundary(), &mut bytes);
    tables[2].trace = ByteChip.generate_trace(&bytes);
    assert_caught_by(&tables, &["AccessTest"], &[]);
}

/// A write whose value limbs are `(lo + 2^16, hi - 1)`: the same number `lo + 2^16 hi`, but not
/// canonical limbs. The location's last access, so the boundary consumes the limbs as written:
/// only the byte range check on the written value catches it.
#[test]
fn out_of_range_written_limb_is_rejected() {
    use access_test_cols::VALUE;
    let s = scenario();
    let k = *s
        .last_accesses()
        .iter()
        .find(|&&k| s.accesses[k].is_write && (s.accesses[k].access.value >> 16) & 0xff != 0)
        .expect("a final write with a non-zero third byte");
    let value = s.accesses[k].access.value;
    let row = s.boundary_row(s.accesses[k].access.addr);
    let mut tables = s.forged_tables();
    let width = access_test_cols::WIDTH;
    let cells = &mut tables[ACCESSES].trace.values;
    cells[k * width + VALUE + 1] += Val::from_u32(256);
    cells[k * width + VALUE + 2] -= Val::ONE;
    let boundary = &mut tables[BOUNDARY].trace.values;
    let [lo, hi] = word_limbs(value);
    boundary[row * boundary_cols::WIDTH + boundary_cols::FINAL] = Val::from_u32(lo + (1 << 16));
    boundary[row * boundary_cols::WIDTH + boundary_cols::FINAL + 1] = Val::from_u32(hi - 1);
    assert_caught_by(&tables, &[], &["byte"]);
}

/// The boundary produces an initial value with limbs `(lo + 2^16, hi - 1)`, which the first
/// access (a write) consumes as its previous value: only the boundary's range check catches it.
#[test]
fn out_of_range_initial_limb_is_rejected() {
    use boundary_cols::INIT;
    let s = scenario();
    let k = (0..s.accesses.len())
        .find(|&k| {
            let a = &s.accesses[k];
            a.is_write && a.access.prev_timestamp == 0 && (a.access.prev_value >> 16) & 0xff != 0
        })
        .expect("a first write over a value with a non-zero third byte");
    let init = s.accesses[k].access.prev_value;
    let row = s.boundary_row(s.accesses[k].access.addr);
    let mut tables = s.forged_tables();
    let boundary = &mut tables[BOUNDARY].trace.values;
    boundary[row * boundary_cols::WIDTH + INIT + 1] += Val::from_u32(256);
    boundary[row * boundary_cols::WIDTH + INIT + 2] -= Val::ONE;
    let cells = &mut tables[ACCESSES].trace.values;
    let prev = k * access_test_cols::WIDTH + access_test_cols::ACCESS + access_cols::PREV_VALUE;
    let [lo, hi] = word_limbs(init);
    cells[prev] = Val::from_u32(lo + (1 << 16));
    cells[prev + 1] = Val::from_u32(hi - 1);
    assert_caught_by(&tables, &[], &["byte"]);
}

/// A boundary row switched on after the real rows (an extra location at address 0, initial and
/// final value 0 at time 0, which balances the bus by itself) breaks the address order.
#[test]
fn boundary_row_after_the_real_rows_is_rejected() {
    let s = scenario();
    let mut tables = s.forged_tables();
    let rows = s.boundary.len();
    let boundary = &mut tables[BOUNDARY].trace.values;
    assert!(boundary.len() / boundary_cols::WIDTH > rows, "has padding");
    boundary[rows * boundary_cols::WIDTH + boundary_cols::IS_REAL] = Val::ONE;
    // Its lookups: two zero address pairs, two zero value pairs, one zero order pair.
    let mut bytes = ByteCounts::new();
    let _ = AccessTestChip::fill_trace::<Val>(&s.accesses, &mut bytes);
    let _ = MemoryBoundaryChip::fill_trace::<Val>(&s.sorted_boundary(), &mut bytes);
    for _ in 0..5 {
        bytes.record(ByteOp::RangePair, 0, 0);
    }
    tables[2].trace = ByteChip.generate_trace(&bytes);
    assert_caught_by(&tables, &["MemoryBoundary"], &[]);
}
