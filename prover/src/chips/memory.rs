//! The within-shard memory argument: the access helper every chip embeds to touch a register or
//! a memory word, and the `MemoryBoundaryChip` that opens and closes each touched location.
//!
//! Design and soundness argument: `docs/MEMORY_ARGUMENT.md`. In short, on the
//! [`MEMORY_BUS`] (a multiset equality) every access *consumes* its location's previous state
//! `(addr, prev_value, prev_ts)` and *produces* its new state `(addr, value, ts)`, with
//! `prev_ts < ts` proven by a range check of `ts - prev_ts - 1`. The boundary chip produces each
//! touched location's initial state `(addr, init_value, 0)` and consumes its final state
//! `(addr, final_value, final_ts)`; its addresses strictly increase down the table, so each
//! location has one boundary row. The bus then balances iff, per address, the accesses form one
//! chain from the initial to the final state in which every read returns the last value written.
//!
//! Messages are `[addr_lo, addr_hi, value_lo, value_hi, ts]`: words as two 16-bit limbs (a word
//! does not fit in a KoalaBear element), the shard-local timestamp as one element.

use p3_air::{Air, AirBuilder, BaseAir, PermutationAirBuilder, WindowAccess};
use p3_field::{Field, PrimeCharacteristicRing};
use p3_lookup::{Count, InteractionBuilder};
use p3_matrix::dense::RowMajorMatrix;
use thiserror::Error;
use zkmips_executor::{MemoryAccess, Shard};

use super::word::{eval_byte_pair, fill_range_checked_word, word_bytes};
pub use super::word::{eval_word_bytes_range, record_word_bytes};
use super::{ByteCounts, padded_trace};
use crate::buses::{ByteOp, MEMORY_BUS, word_limbs};

/// Shard-local timestamps must be below this bound (exclusive). It keeps every honest
/// `ts - prev_ts - 1` inside the 27-bit range the access helper proves, and is far above what a
/// provable shard uses (`8 · (2^23 + 1)` for the largest table height).
pub const MAX_TIMESTAMP: u32 = 1 << 27;

/// Why the memory argument's traces cannot be built from the given accesses / boundary.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum MemoryTraceError {
    #[error(
        "memory access {index} to {addr:#010x}: timestamp {timestamp} does not follow the previous access's {prev_timestamp}"
    )]
    TimestampNotIncreasing {
        index: usize,
        addr: u32,
        prev_timestamp: u32,
        timestamp: u32,
    },
    #[error(
        "memory access {index} to {addr:#010x}: timestamp {timestamp} is not below 2^27 (shard too long)"
    )]
    TimestampTooLarge {
        index: usize,
        addr: u32,
        timestamp: u32,
    },
    #[error(
        "memory access {index} to {addr:#010x}: a read returns {value:#010x}, but the location holds {prev_value:#010x}"
    )]
    ReadChangesValue {
        index: usize,
        addr: u32,
        prev_value: u32,
        value: u32,
    },
    #[error(
        "shard {shard}: memory_init has {init} entries but memory_final has {fin}; they must list the same locations"
    )]
    BoundaryLengths { shard: u32, init: usize, fin: usize },
    #[error(
        "shard {shard}: boundary entry {index} is {init_addr:#010x} in memory_init but {final_addr:#010x} in memory_final"
    )]
    BoundaryAddressMismatch {
        shard: u32,
        index: usize,
        init_addr: u32,
        final_addr: u32,
    },
    #[error(
        "shard {shard}: location {addr:#010x} was last accessed at global timestamp {timestamp}, outside the shard (local timestamps 1..2^27 after base {base})"
    )]
    FinalTimestampOutsideShard {
        shard: u32,
        addr: u32,
        timestamp: u64,
        base: u64,
    },
    #[error("memory boundary: location {addr:#010x} is listed twice")]
    DuplicateAddress { addr: u32 },
}

// ---------------------------------------------------------------------------------------------
// The access helper
// ---------------------------------------------------------------------------------------------

/// Columns of one access, at some offset inside the embedding chip's row.
///
/// The embedding chip owns `addr`, `value`, `ts` and the `is_real` / `is_write` selectors (the
/// CPU already has them: register numbers from the instruction, values from the ALU bus, the
/// timestamp from its clock); the helper adds the location's previous state and the proof that
/// time moved forward.
pub mod access_cols {
    /// `prev_value` as two 16-bit limbs `(lo, hi)`. Not range-checked: it is consumed from the
    /// bus, so it equals a produced (range-checked) value — see the docs.
    pub const PREV_VALUE: usize = 0;
    /// Shard-local timestamp of the previous access (0 = before this shard).
    pub const PREV_TS: usize = 2;
    /// `ts - prev_ts - 1 = d0 + 2^8 d1 + 2^16 d2 + 2^24 d3`, bytes with `d3 < 8`; the lookups
    /// prove `d0, d1, d2` and `32 d3` are bytes.
    pub const TS_DIFF: usize = 3;
    pub const WIDTH: usize = 7;
}

/// The helper's columns of one access, typed (see [`access_cols`]).
#[derive(Clone, Copy, Debug)]
pub struct MemoryAccessCols<T> {
    pub prev_value: [T; 2],
    pub prev_ts: T,
    pub ts_diff: [T; 4],
}

impl<T: Clone> MemoryAccessCols<T> {
    /// The columns starting at `slice[0]` (`slice` holds at least [`access_cols::WIDTH`] cells).
    pub fn from_slice(slice: &[T]) -> Self {
        use access_cols::*;
        Self {
            prev_value: [slice[PREV_VALUE].clone(), slice[PREV_VALUE + 1].clone()],
            prev_ts: slice[PREV_TS].clone(),
            ts_diff: core::array::from_fn(|i| slice[TS_DIFF + i].clone()),
        }
    }
}

/// One access as the helper's caller describes it, all as expressions of the caller's row.
pub struct AccessExprs<E> {
    /// Location as two 16-bit limbs (registers: `(r, 0)`).
    pub addr: [E; 2],
    /// Value after the access, two 16-bit limbs. For a write the caller must prove the limbs are
    /// canonical (e.g. they are an ALU-bus operand, which the ALU chips range-check, or the caller
    /// range-checks them with [`eval_word_bytes_range`]).
    pub value: [E; 2],
    /// Shard-local timestamp; the caller must prove it is an integer in `[0, 2^28)` (the CPU: a
    /// clock counting rows; test chips: a byte decomposition).
    pub ts: E,
    /// 1 on rows performing the access, else 0; the caller proves it boolean.
    pub is_real: E,
    /// 1 for a write, 0 for a read. The helper enforces `value == prev_value` unless
    /// `is_write = is_real`, so the value can change only on a real row with `is_write = 1`,
    /// whatever `is_write` holds elsewhere: the helper needs no constraint on it. Which accesses
    /// may write is the caller's semantics (the CPU: its opcode flags). A read-only call site
    /// passes zero.
    pub is_write: E,
}

/// `2^k` as a field element.
fn pow2<F: PrimeCharacteristicRing>(k: u32) -> F {
    F::from_u32(1 << k)
}

/// The field value of a timestamp difference decomposition `d0 + 2^8 d1 + 2^16 d2 + 2^24 d3`.
fn ts_diff_value<E: PrimeCharacteristicRing + Clone>(d: &[E; 4]) -> E {
    d[0].clone()
        + d[1].clone() * pow2::<E>(8)
        + d[2].clone() * pow2::<E>(16)
        + d[3].clone() * pow2::<E>(24)
}

/// Constraints and bus interactions of one access (2 memory-bus messages, 2 byte lookups, two
/// degree-2 constraints):
/// - `is_real · (ts - prev_ts - 1 - D) = 0` with `D = d0 + 2^8 d1 + 2^16 d2 + 2^24 d3` and
///   `(d0, d1)`, `(d2, 32 d3)` looked up as byte pairs. Then `D < 2^28` as an integer (since
///   `2^24 d3 = 2^19 (32 d3)`), which with both timestamps below `2^28` means `prev_ts < ts`.
/// - `(is_real - is_write) · (value - prev_value) = 0` per limb: a read returns what it found.
/// - consume `(addr, prev_value, prev_ts)` and produce `(addr, value, ts)` with count `is_real`.
pub fn eval_access<AB: PermutationAirBuilder + InteractionBuilder>(
    builder: &mut AB,
    access: AccessExprs<AB::Expr>,
    cols: &MemoryAccessCols<AB::Expr>,
) {
    let AccessExprs {
        addr,
        value,
        ts,
        is_real,
        is_write,
    } = access;

    let diff = ts_diff_value(&cols.ts_diff);
    builder
        .assert_zero(is_real.clone() * (ts.clone() - cols.prev_ts.clone() - AB::Expr::ONE - diff));
    let [d0, d1, d2, d3] = cols.ts_diff.clone();
    eval_byte_pair(builder, d0, d1, is_real.clone());
    eval_byte_pair(builder, d2, d3 * pow2::<AB::Expr>(5), is_real.clone());

    let is_read = is_real.clone() - is_write;
    for (v, prev) in value.iter().zip(&cols.prev_value) {
        builder.assert_zero(is_read.clone() * (v.clone() - prev.clone()));
    }

    let [addr_lo, addr_hi] = addr;
    MEMORY_BUS.receive(
        builder,
        [
            addr_lo.clone(),
            addr_hi.clone(),
            cols.prev_value[0].clone(),
            cols.prev_value[1].clone(),
            cols.prev_ts.clone(),
        ],
        Count::bounded(is_real.clone(), 1),
    );
    let [value_lo, value_hi] = value;
    MEMORY_BUS.send(
        builder,
        [addr_lo, addr_hi, value_lo, value_hi, ts],
        Count::bounded(is_real, 1),
    );
}

/// Checks one access for the helper: time moves forward within [`MAX_TIMESTAMP`].
pub fn check_access(index: usize, access: &MemoryAccess) -> Result<(), MemoryTraceError> {
    if access.timestamp >= MAX_TIMESTAMP {
        return Err(MemoryTraceError::TimestampTooLarge {
            index,
            addr: access.addr,
            timestamp: access.timestamp,
        });
    }
    if access.prev_timestamp >= access.timestamp {
        return Err(MemoryTraceError::TimestampNotIncreasing {
            index,
            addr: access.addr,
            prev_timestamp: access.prev_timestamp,
            timestamp: access.timestamp,
        });
    }
    Ok(())
}

/// Fills the helper's [`access_cols::WIDTH`] cells for `access` (checked with [`check_access`]
/// first) and records its byte lookups.
pub fn populate_access<F: Field>(
    index: usize,
    out: &mut [F],
    access: &MemoryAccess,
    bytes: &mut ByteCounts,
) -> Result<(), MemoryTraceError> {
    check_access(index, access)?;
    fill_access(out, access, bytes);
    Ok(())
}

/// [`populate_access`] without the check: a timestamp that does not increase gets the low 27
/// bits of the wrapped difference (valid bytes, a violated equation), so tests can forge it.
pub(crate) fn fill_access<F: Field>(out: &mut [F], access: &MemoryAccess, bytes: &mut ByteCounts) {
    use access_cols::*;
    let [lo, hi] = word_limbs(access.prev_value);
    out[PREV_VALUE] = F::from_u32(lo);
    out[PREV_VALUE + 1] = F::from_u32(hi);
    out[PREV_TS] = F::from_u32(access.prev_timestamp);
    let diff = access
        .timestamp
        .wrapping_sub(access.prev_timestamp)
        .wrapping_sub(1)
        & (MAX_TIMESTAMP - 1);
    let d = word_bytes(diff);
    for (cell, byte) in out[TS_DIFF..TS_DIFF + 4].iter_mut().zip(d) {
        *cell = F::from_u8(byte);
    }
    bytes.record(ByteOp::RangePair, d[0], d[1]);
    bytes.record(ByteOp::RangePair, d[2], d[3] << 5);
}

// ---------------------------------------------------------------------------------------------
// The boundary chip
// ---------------------------------------------------------------------------------------------

/// One touched location of a shard: its value before the shard (produced at local time 0) and
/// its value and local timestamp after its last access (consumed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BoundaryEntry {
    pub addr: u32,
    pub init_value: u32,
    pub final_value: u32,
    /// Shard-local timestamp of the location's last access in the shard.
    pub final_ts: u32,
}

/// The boundary entries of `shard`, from its `memory_init` / `memory_final` lists (global final
/// timestamps converted to shard-local ones).
pub fn boundary_entries(shard: &Shard) -> Result<Vec<BoundaryEntry>, MemoryTraceError> {
    if shard.memory_init.len() != shard.memory_final.len() {
        return Err(MemoryTraceError::BoundaryLengths {
            shard: shard.index,
            init: shard.memory_init.len(),
            fin: shard.memory_final.len(),
        });
    }
    let base = shard.timestamp_base();
    shard
        .memory_init
        .iter()
        .zip(&shard.memory_final)
        .enumerate()
        .map(|(index, (init, fin))| {
            if init.addr != fin.addr {
                return Err(MemoryTraceError::BoundaryAddressMismatch {
                    shard: shard.index,
                    index,
                    init_addr: init.addr,
                    final_addr: fin.addr,
                });
            }
            let local = fin
                .timestamp
                .checked_sub(base)
                .filter(|&t| (1..u64::from(MAX_TIMESTAMP)).contains(&t))
                .ok_or(MemoryTraceError::FinalTimestampOutsideShard {
                    shard: shard.index,
                    addr: fin.addr,
                    timestamp: fin.timestamp,
                    base,
                })?;
            Ok(BoundaryEntry {
                addr: init.addr,
                init_value: init.value,
                final_value: fin.value,
                final_ts: local as u32,
            })
        })
        .collect()
}

pub(crate) mod boundary_cols {
    pub const IS_REAL: usize = 0;
    /// Address bytes (little-endian), range-checked: the ordering argument needs canonical limbs.
    pub const ADDR: usize = 1;
    /// Initial value bytes, range-checked: the value is produced on the bus.
    pub const INIT: usize = 5;
    /// Final value limbs (consumed, so equal to a produced, canonical value).
    pub const FINAL: usize = 9;
    pub const FINAL_TS: usize = 11;
    /// 1 when the next row's address has the same high limb (then the low limbs are compared).
    pub const HI_EQUAL: usize = 12;
    /// Bytes of the compared limb difference minus one (`next - this - 1`, 16 bits).
    pub const ORDER_DIFF: usize = 13;
    pub const WIDTH: usize = 15;
}

/// Opens and closes every location the shard touches: one row per location, in strictly
/// increasing address order (so no location has two rows), producing `(addr, init_value, 0)` and
/// consuming `(addr, final_value, final_ts)` on the [`MEMORY_BUS`]. Real rows come first.
#[derive(Clone, Copy, Debug, Default)]
pub struct MemoryBoundaryChip;

impl MemoryBoundaryChip {
    pub const fn name(&self) -> &'static str {
        "MemoryBoundary"
    }

    /// The trace for `entries` (any order; sorted here), recording its byte lookups. Fails on a
    /// repeated address or a final timestamp not below 2^27, before recording anything.
    pub fn generate_trace<F: Field>(
        &self,
        entries: &[BoundaryEntry],
        bytes: &mut ByteCounts,
    ) -> Result<RowMajorMatrix<F>, MemoryTraceError> {
        let mut sorted = entries.to_vec();
        sorted.sort_by_key(|e| e.addr);
        for pair in sorted.windows(2) {
            if pair[0].addr == pair[1].addr {
                return Err(MemoryTraceError::DuplicateAddress { addr: pair[0].addr });
            }
        }
        for (index, e) in sorted.iter().enumerate() {
            if e.final_ts >= MAX_TIMESTAMP {
                return Err(MemoryTraceError::TimestampTooLarge {
                    index,
                    addr: e.addr,
                    timestamp: e.final_ts,
                });
            }
        }
        Ok(Self::fill_trace(&sorted, bytes))
    }

    /// Fills the trace with `entries` in the given order, unchecked (tests forge with it). The
    /// ordering witness compares each row with the next by the rule the AIR checks; for entries
    /// out of order it holds the low 16 bits of the wrapped difference.
    pub(crate) fn fill_trace<F: Field>(
        entries: &[BoundaryEntry],
        bytes: &mut ByteCounts,
    ) -> RowMajorMatrix<F> {
        use boundary_cols::*;
        padded_trace(entries, WIDTH, |index, entry, out| {
            out[IS_REAL] = F::ONE;
            for (base, word) in [(ADDR, entry.addr), (INIT, entry.init_value)] {
                fill_range_checked_word(&mut out[base..], word, bytes);
            }
            let [lo, hi] = word_limbs(entry.final_value);
            out[FINAL] = F::from_u32(lo);
            out[FINAL + 1] = F::from_u32(hi);
            out[FINAL_TS] = F::from_u32(entry.final_ts);
            let (hi_equal, [d0, d1]) =
                address_order_witness(entry.addr, entries.get(index + 1).map(|e| e.addr));
            out[HI_EQUAL] = F::from_bool(hi_equal);
            out[ORDER_DIFF] = F::from_u8(d0);
            out[ORDER_DIFF + 1] = F::from_u8(d1);
            bytes.record(ByteOp::RangePair, d0, d1);
        })
    }
}

impl<F: Field> BaseAir<F> for MemoryBoundaryChip {
    fn width(&self) -> usize {
        boundary_cols::WIDTH
    }

    fn main_next_row_columns(&self) -> Vec<usize> {
        use boundary_cols::*;
        (IS_REAL..ADDR + 4).collect()
    }
}

impl<AB: PermutationAirBuilder + InteractionBuilder> Air<AB> for MemoryBoundaryChip {
    fn eval(&self, builder: &mut AB) {
        use boundary_cols::*;
        let main = builder.main();
        let local: Vec<AB::Expr> = main.current_slice().iter().map(|&v| v.into()).collect();
        let next: Vec<AB::Expr> = main.next_slice().iter().map(|&v| v.into()).collect();
        let byte_limb = |row: &[AB::Expr], base: usize, k: usize| {
            row[base + 2 * k].clone() + row[base + 2 * k + 1].clone() * pow2::<AB::Expr>(8)
        };

        let is_real = local[IS_REAL].clone();
        let next_is_real = next[IS_REAL].clone();
        builder.assert_bool(is_real.clone());
        // Real rows form a prefix, so the ordering below links every pair of real rows.
        builder
            .when_transition()
            .assert_zero(next_is_real.clone() * (AB::Expr::ONE - is_real.clone()));

        // Strictly increasing addresses: compare high limbs, or low limbs when the high ones are
        // equal; the compared difference minus one is a 16-bit number (range-checked below).
        let hi_equal = local[HI_EQUAL].clone();
        builder.assert_bool(hi_equal.clone());
        let (lo, hi) = (byte_limb(&local, ADDR, 0), byte_limb(&local, ADDR, 1));
        let (next_lo, next_hi) = (byte_limb(&next, ADDR, 0), byte_limb(&next, ADDR, 1));
        let order_diff = byte_limb(&local, ORDER_DIFF, 0);
        let compared = hi_equal.clone() * (next_lo - lo.clone() - AB::Expr::ONE)
            + (AB::Expr::ONE - hi_equal.clone()) * (next_hi.clone() - hi.clone() - AB::Expr::ONE);
        let mut transition = builder.when_transition();
        transition.assert_zero(next_is_real.clone() * hi_equal * (next_hi - hi.clone()));
        transition.assert_zero(next_is_real * (compared - order_diff));

        let addr_bytes: [AB::Expr; 4] = core::array::from_fn(|i| local[ADDR + i].clone());
        let init_bytes: [AB::Expr; 4] = core::array::from_fn(|i| local[INIT + i].clone());
        let [addr_lo, addr_hi] = eval_word_bytes_range(builder, &addr_bytes, is_real.clone());
        let [init_lo, init_hi] = eval_word_bytes_range(builder, &init_bytes, is_real.clone());
        eval_byte_pair(
            builder,
            local[ORDER_DIFF].clone(),
            local[ORDER_DIFF + 1].clone(),
            is_real.clone(),
        );

        MEMORY_BUS.send(
            builder,
            [
                addr_lo.clone(),
                addr_hi.clone(),
                init_lo,
                init_hi,
                AB::Expr::ZERO,
            ],
            Count::bounded(is_real.clone(), 1),
        );
        MEMORY_BUS.receive(
            builder,
            [
                addr_lo,
                addr_hi,
                local[FINAL].clone(),
                local[FINAL + 1].clone(),
                local[FINAL_TS].clone(),
            ],
            Count::bounded(is_real, 1),
        );
    }
}

/// The witness that sorted boundary rows strictly increase in address: whether the next row's
/// high limb equals this one's, and the bytes of `next − addr − 1` on the deciding limb (range
/// checked by the AIR); `(false, [0, 0])` on the last row.
pub(crate) fn address_order_witness(addr: u32, next: Option<u32>) -> (bool, [u8; 2]) {
    let Some(next) = next else {
        return (false, [0, 0]);
    };
    let [lo, hi] = word_limbs(addr);
    let [next_lo, next_hi] = word_limbs(next);
    let (hi_equal, diff) = if next_hi == hi {
        (true, next_lo.wrapping_sub(lo).wrapping_sub(1))
    } else {
        (false, next_hi.wrapping_sub(hi).wrapping_sub(1))
    };
    let [d0, d1, _, _] = word_bytes(diff);
    (hi_equal, [d0, d1])
}

// ---------------------------------------------------------------------------------------------
// Test chip
// ---------------------------------------------------------------------------------------------

/// One access as the test chip performs it.
#[cfg(test)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TestAccess {
    pub access: MemoryAccess,
    pub is_write: bool,
}

/// Stands in for the CPU: one access per real row through [`eval_access`], with the value and
/// the timestamp range-checked as bytes (the CPU will get both from the ALU bus and its clock).
#[cfg(test)]
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct AccessTestChip;

#[cfg(test)]
pub(crate) mod access_test_cols {
    pub const IS_REAL: usize = 0;
    pub const IS_WRITE: usize = 1;
    /// Address limbs (not range-checked: they must match a boundary row's canonical limbs).
    pub const ADDR: usize = 2;
    /// Value bytes.
    pub const VALUE: usize = 4;
    /// Timestamp bytes `t0 + 2^8 t1 + 2^16 t2 + 2^24 t3`, looked up as `(t0, t1)`, `(t2, 32 t3)`.
    pub const TS: usize = 8;
    pub const ACCESS: usize = 12;
    pub const WIDTH: usize = ACCESS + super::access_cols::WIDTH;
}

#[cfg(test)]
impl AccessTestChip {
    pub(crate) const fn name(&self) -> &'static str {
        "AccessTest"
    }

    /// Checked trace: reads keep the value, timestamps increase.
    pub(crate) fn generate_trace<F: Field>(
        rows: &[TestAccess],
        bytes: &mut ByteCounts,
    ) -> Result<RowMajorMatrix<F>, MemoryTraceError> {
        for (index, row) in rows.iter().enumerate() {
            check_access(index, &row.access)?;
            if !row.is_write && row.access.value != row.access.prev_value {
                return Err(MemoryTraceError::ReadChangesValue {
                    index,
                    addr: row.access.addr,
                    prev_value: row.access.prev_value,
                    value: row.access.value,
                });
            }
        }
        Ok(Self::fill_trace(rows, bytes))
    }

    pub(crate) fn fill_trace<F: Field>(
        rows: &[TestAccess],
        bytes: &mut ByteCounts,
    ) -> RowMajorMatrix<F> {
        use access_test_cols::*;
        padded_trace(rows, WIDTH, |_, row, out| {
            let a = &row.access;
            out[IS_REAL] = F::ONE;
            out[IS_WRITE] = F::from_bool(row.is_write);
            let [lo, hi] = word_limbs(a.addr);
            out[ADDR] = F::from_u32(lo);
            out[ADDR + 1] = F::from_u32(hi);
            fill_range_checked_word(&mut out[VALUE..], a.value, bytes);
            let ts = a.timestamp & (MAX_TIMESTAMP - 1);
            super::word::fill_word_bytes(&mut out[TS..], ts);
            let t = word_bytes(ts);
            bytes.record(ByteOp::RangePair, t[0], t[1]);
            bytes.record(ByteOp::RangePair, t[2], t[3] << 5);
            fill_access(&mut out[ACCESS..], a, bytes);
        })
    }
}

#[cfg(test)]
impl<F: Field> BaseAir<F> for AccessTestChip {
    fn width(&self) -> usize {
        access_test_cols::WIDTH
    }

    fn main_next_row_columns(&self) -> Vec<usize> {
        vec![]
    }
}

#[cfg(test)]
impl<AB: PermutationAirBuilder + InteractionBuilder> Air<AB> for AccessTestChip {
    fn eval(&self, builder: &mut AB) {
        use access_test_cols::*;
        let main = builder.main();
        let local: Vec<AB::Expr> = main.current_slice().iter().map(|&v| v.into()).collect();
        let (is_real, is_write) = (local[IS_REAL].clone(), local[IS_WRITE].clone());
        // `is_write` needs no constraint (see `AccessExprs::is_write`); `is_real` must be boolean.
        builder.assert_bool(is_real.clone());

        let value_bytes: [AB::Expr; 4] = core::array::from_fn(|i| local[VALUE + i].clone());
        let value = eval_word_bytes_range(builder, &value_bytes, is_real.clone());
        let t: [AB::Expr; 4] = core::array::from_fn(|i| local[TS + i].clone());
        eval_byte_pair(builder, t[0].clone(), t[1].clone(), is_real.clone());
        eval_byte_pair(
            builder,
            t[2].clone(),
            t[3].clone() * pow2::<AB::Expr>(5),
            is_real.clone(),
        );
        let ts = ts_diff_value(&t);

        let cols = MemoryAccessCols::from_slice(&local[ACCESS..]);
        eval_access(
            builder,
            AccessExprs {
                addr: [local[ADDR].clone(), local[ADDR + 1].clone()],
                value,
                ts,
                is_real,
                is_write,
            },
            &cols,
        );
    }
}

#[cfg(test)]
mod tests;
