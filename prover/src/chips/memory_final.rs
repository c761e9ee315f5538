//! `MemoryFinalChip`: the memory boundary of a run proven in ONE shard, as a main trace whose
//! soundness comes from constraints (not from a verifier-built table), so that the proof's
//! preprocessed commitment depends on the program only.
//!
//! One row per location of the program's image ([`super::memory_image::image_entries`]), touched
//! or not, plus one per touched location outside the image (a *fresh* location, initially 0),
//! sorted by strictly increasing address; all-zero padding rows follow. Each real row opens its
//! location on the [`MEMORY_BUS`] at `(addr, init, 0)` and closes it at `(addr, final, final_ts)`,
//! as `MemoryBoundaryChip` does; the within-shard argument (`docs/MEMORY_ARGUMENT.md`) then makes
//! every access chain run from `init` to `final`.
//!
//! Why the initial values are the program's:
//! - image rows (`is_image = 1`) receive `(addr, init, final, locked)` from the [`IMAGE_BUS`]; the
//!   image chip sends each of its (distinct) locations once, and the addresses here strictly
//!   increase, so the image rows are exactly the image, each location once, with its initial value;
//! - fresh rows (`is_real = 1`, `is_image = 0`) have `init = 0`, `locked = 0`, and an address that
//!   is a memory location, `0x1000 <= addr < 0x8000_0000` and word-aligned. By distinctness no
//!   fresh row holds an image address, and every location outside the image starts at 0 (the image
//!   lists every word the loader writes), so fresh rows start at the true initial value. Register
//!   locations are all in the image;
//! - locked rows (code words) have `final_ts = 0`: since every access has `ts > 0`, the row's own
//!   opening is the only state with `ts = 0` its closing can consume, so no access touches the word.
//!
//! Address checks of a fresh row, with `addr = b0 + 2^8 b1 + 2^16 b2 + 2^24 b3` (bytes, looked up):
//! `b0 = 4 q` with `q` a byte (aligned); `2 b3` a byte (`addr < 2^31`); `t` a byte with
//! `16 b1 - 256 t` a byte, i.e. `t = b1 >> 4`, and `page = t + 16 (b2 + 256 b3)` (= `addr >> 12`)
//! invertible (`addr >= 0x1000`).

use std::collections::BTreeMap;

use p3_air::{Air, AirBuilder, BaseAir, PermutationAirBuilder, WindowAccess};
use p3_field::{Field, PrimeCharacteristicRing};
use p3_lookup::{Count, InteractionBuilder};
use p3_matrix::dense::RowMajorMatrix;
use zkmips_abi::layout::{NULL_GUARD_END, USER_END};

use super::memory::{BoundaryEntry, MAX_TIMESTAMP, address_order_witness};
use super::memory_image::ImageEntry;
use super::word::{eval_byte_pair, fill_range_checked_word, limbs, word_bytes};
use super::{ByteCounts, MIN_TRACE_HEIGHT, TraceError};
use crate::batch::MAX_LOG_TRACE_HEIGHT;
use crate::buses::{ByteOp, IMAGE_BUS, MEMORY_BUS, word_limbs};

const CHIP: &str = "MemoryFinal";

pub mod cols {
    pub const IS_REAL: usize = 0;
    /// 1 on rows of image locations (received from the image bus).
    pub const IS_IMAGE: usize = 1;
    /// 1 on code words (image rows only).
    pub const LOCKED: usize = 2;
    /// Address bytes (little-endian), range-checked.
    pub const ADDR: usize = 3;
    /// Initial value limbs (from the image bus, or 0 on fresh rows).
    pub const INIT: usize = 7;
    /// Final value limbs (consumed on the memory bus).
    pub const FINAL: usize = 9;
    /// Shard-local timestamp of the last access (0: untouched).
    pub const FINAL_TS: usize = 11;
    /// 1 when the next row's address has the same high limb (then the low limbs are compared).
    pub const HI_EQUAL: usize = 12;
    /// Bytes of the compared limb difference minus one (`next - this - 1`, 16 bits).
    pub const ORDER_DIFF: usize = 13;
    /// Fresh rows: `addr_byte0 / 4`.
    pub const QUARTER: usize = 15;
    /// Fresh rows: the high nibble of `addr_byte1`.
    pub const NIBBLE: usize = 16;
    /// Fresh rows: the inverse of `addr >> 12`.
    pub const PAGE_INV: usize = 17;
    pub const WIDTH: usize = 18;
}

/// One boundary row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FinalRow {
    pub addr: u32,
    pub init_value: u32,
    pub final_value: u32,
    /// Shard-local timestamp of the last access, 0 if untouched.
    pub final_ts: u32,
    /// An image location (else a fresh one, initially 0).
    pub is_image: bool,
    /// A code word (image rows only); never accessed.
    pub locked: bool,
}

/// Whether a location outside the image may be opened as fresh: a word-aligned memory address
/// outside the null guard and the kernel half.
pub fn is_fresh_location(addr: u32) -> bool {
    addr.is_multiple_of(4) && (NULL_GUARD_END..USER_END).contains(&addr)
}

fn invalid(row: usize, reason: String) -> TraceError {
    TraceError::InvalidRow {
        chip: CHIP,
        row,
        reason,
    }
}

/// `2^k` as a field element.
fn pow2<F: PrimeCharacteristicRing>(k: u32) -> F {
    F::from_u32(1 << k)
}

/// The fresh-row witness `(q, t, page)` of `addr`: `b0 / 4`, `b1 >> 4`, `addr >> 12`.
fn fresh_witness(addr: u32) -> (u8, u8, u32) {
    let [b0, b1, _, _] = word_bytes(addr);
    (b0 >> 2, b1 >> 4, addr >> 12)
}

#[derive(Clone, Copy, Debug, Default)]
pub struct MemoryFinalChip;

impl MemoryFinalChip {
    pub const fn name(&self) -> &'static str {
        "MemoryFinal"
    }

    /// The boundary rows of a one-shard run: `image` (sorted, distinct, as
    /// [`super::memory_image::image_entries`] returns it) merged with the shard's boundary
    /// `touched` (from `boundary_entries`). An image location takes its touched final value and
    /// timestamp, or keeps its initial value at time 0; a touched location outside the image
    /// becomes a fresh row. Errors name the address: a repeated touched location, a touched
    /// location whose initial value is not the image's (or not 0 outside it), a touched code word,
    /// a touched address that is not a location.
    pub fn rows(
        image: &[ImageEntry],
        touched: &[BoundaryEntry],
    ) -> Result<Vec<FinalRow>, TraceError> {
        let mut by_addr: BTreeMap<u32, (usize, BoundaryEntry)> = BTreeMap::new();
        for (index, entry) in touched.iter().enumerate() {
            if by_addr.insert(entry.addr, (index, *entry)).is_some() {
                return Err(invalid(
                    index,
                    format!("location {:#010x} is touched twice", entry.addr),
                ));
            }
        }
        let mut rows: BTreeMap<u32, FinalRow> = BTreeMap::new();
        for (index, image_entry) in image.iter().enumerate() {
            let row = match by_addr.remove(&image_entry.addr) {
                Some((_, t)) if image_entry.locked => {
                    return Err(invalid(
                        index,
                        format!(
                            "code word {:#010x} is accessed (last at local time {}); code is never data",
                            t.addr, t.final_ts
                        ),
                    ));
                }
                Some((_, t)) if t.init_value != image_entry.value => {
                    return Err(invalid(
                        index,
                        format!(
                            "location {:#010x} starts the shard at {:#010x}, but the image holds {:#010x}",
                            t.addr, t.init_value, image_entry.value
                        ),
                    ));
                }
                Some((_, t)) => FinalRow {
                    addr: t.addr,
                    init_value: t.init_value,
                    final_value: t.final_value,
                    final_ts: t.final_ts,
                    is_image: true,
                    locked: false,
                },
                None => FinalRow {
                    addr: image_entry.addr,
                    init_value: image_entry.value,
                    final_value: image_entry.value,
                    final_ts: 0,
                    is_image: true,
                    locked: image_entry.locked,
                },
            };
            if rows.insert(row.addr, row).is_some() {
                return Err(invalid(
                    index,
                    format!("image location {:#010x} is listed twice", row.addr),
                ));
            }
        }
        for (addr, (index, t)) in by_addr {
            if !is_fresh_location(addr) {
                return Err(invalid(
                    index,
                    format!(
                        "touched address {addr:#010x} is not a location (registers are 0..35, memory words are aligned in [{NULL_GUARD_END:#x}, {USER_END:#x}))"
                    ),
                ));
            }
            if t.init_value != 0 {
                return Err(invalid(
                    index,
                    format!(
                        "location {addr:#010x} is outside the initial image but starts at {:#010x}, not 0",
                        t.init_value
                    ),
                ));
            }
            rows.insert(
                addr,
                FinalRow {
                    addr,
                    init_value: 0,
                    final_value: t.final_value,
                    final_ts: t.final_ts,
                    is_image: false,
                    locked: false,
                },
            );
        }
        Ok(rows.into_values().collect())
    }

    /// The trace of `rows` padded with all-zero rows to `height` (a power of two: fixed heights
    /// give the proof a fixed shape), recording its byte lookups. Checks first, recording nothing
    /// on error: addresses strictly increase, fresh rows are valid locations starting at 0 and
    /// not locked, locked rows are untouched, timestamps are below 2^27.
    pub fn generate_trace<F: Field>(
        &self,
        rows: &[FinalRow],
        height: usize,
        bytes: &mut ByteCounts,
    ) -> Result<RowMajorMatrix<F>, TraceError> {
        if !height.is_power_of_two()
            || !(MIN_TRACE_HEIGHT..=1 << MAX_LOG_TRACE_HEIGHT).contains(&height)
            || rows.len() > height
        {
            return Err(invalid(
                rows.len().min(height),
                format!(
                    "{} rows do not fit a table of height {height} (a power of two in [{MIN_TRACE_HEIGHT}, 2^23])",
                    rows.len()
                ),
            ));
        }
        for (index, pair) in rows.windows(2).enumerate() {
            if pair[1].addr <= pair[0].addr {
                return Err(invalid(
                    index + 1,
                    format!(
                        "address {:#010x} does not follow {:#010x} (rows must strictly increase)",
                        pair[1].addr, pair[0].addr
                    ),
                ));
            }
        }
        for (index, row) in rows.iter().enumerate() {
            let reason = if row.final_ts >= MAX_TIMESTAMP {
                Some(format!(
                    "location {:#010x}: final timestamp {} is not below 2^27",
                    row.addr, row.final_ts
                ))
            } else if row.locked && (!row.is_image || row.final_ts != 0) {
                Some(format!(
                    "code word {:#010x} is accessed or not from the image",
                    row.addr
                ))
            } else if row.locked && row.final_value != row.init_value {
                Some(format!("code word {:#010x} changes", row.addr))
            } else if !row.is_image && (!is_fresh_location(row.addr) || row.init_value != 0) {
                Some(format!(
                    "fresh location {:#010x} must be an aligned memory word starting at 0",
                    row.addr
                ))
            } else {
                None
            };
            if let Some(reason) = reason {
                return Err(invalid(index, reason));
            }
        }
        Ok(Self::fill_trace(rows, height, bytes))
    }

    /// Fills the trace with `rows` in the given order, unchecked (tests forge with it). The
    /// ordering witness follows the AIR's rule (the low 16 bits of the wrapped difference for
    /// rows out of order); the fresh-row witness is that of the row's address.
    pub(crate) fn fill_trace<F: Field>(
        rows: &[FinalRow],
        height: usize,
        bytes: &mut ByteCounts,
    ) -> RowMajorMatrix<F> {
        use cols::*;
        let mut values = F::zero_vec(height.max(rows.len()) * WIDTH);
        for (index, (row, out)) in rows.iter().zip(values.chunks_exact_mut(WIDTH)).enumerate() {
            out[IS_REAL] = F::ONE;
            out[IS_IMAGE] = F::from_bool(row.is_image);
            out[LOCKED] = F::from_bool(row.locked);
            fill_range_checked_word(&mut out[ADDR..], row.addr, bytes);
            for (base, word) in [(INIT, row.init_value), (FINAL, row.final_value)] {
                let [lo, hi] = word_limbs(word);
                out[base] = F::from_u32(lo);
                out[base + 1] = F::from_u32(hi);
            }
            out[FINAL_TS] = F::from_u32(row.final_ts);
            let (hi_equal, [d0, d1]) =
                address_order_witness(row.addr, rows.get(index + 1).map(|r| r.addr));
            out[HI_EQUAL] = F::from_bool(hi_equal);
            out[ORDER_DIFF] = F::from_u8(d0);
            out[ORDER_DIFF + 1] = F::from_u8(d1);
            bytes.record(ByteOp::RangePair, d0, d1);
            if !row.is_image {
                let [_, b1, _, b3] = word_bytes(row.addr);
                let (quarter, nibble, page) = fresh_witness(row.addr);
                out[QUARTER] = F::from_u8(quarter);
                out[NIBBLE] = F::from_u8(nibble);
                out[PAGE_INV] = F::from_u32(page).try_inverse().unwrap_or(F::ZERO);
                bytes.record(ByteOp::RangePair, quarter, b3.wrapping_mul(2));
                bytes.record(ByteOp::RangePair, nibble, b1.wrapping_mul(16));
            }
        }
        RowMajorMatrix::new(values, WIDTH)
    }
}

impl<F: Field> BaseAir<F> for MemoryFinalChip {
    fn width(&self) -> usize {
        cols::WIDTH
    }

    fn main_next_row_columns(&self) -> Vec<usize> {
        use cols::*;
        let mut columns = vec![IS_REAL];
        columns.extend(ADDR..ADDR + 4);
        columns
    }
}

impl<AB: PermutationAirBuilder + InteractionBuilder> Air<AB> for MemoryFinalChip {
    fn eval(&self, builder: &mut AB) {
        use cols::*;
        let main = builder.main();
        let local: Vec<AB::Expr> = main.current_slice().iter().map(|&v| v.into()).collect();
        let next: Vec<AB::Expr> = main.next_slice().iter().map(|&v| v.into()).collect();

        let is_real = local[IS_REAL].clone();
        let is_image = local[IS_IMAGE].clone();
        let locked = local[LOCKED].clone();
        let next_is_real = next[IS_REAL].clone();
        builder.assert_bool(is_real.clone());
        builder.assert_bool(is_image.clone());
        // `locked` needs no constraint of its own: image rows take it from the image bus, fresh
        // rows pin it to 0, and on padding rows it touches nothing.
        // Only real rows may be image rows, so `fresh` below is boolean and padding is inert.
        builder.assert_zero(is_image.clone() * (AB::Expr::ONE - is_real.clone()));
        let fresh = is_real.clone() - is_image.clone();
        // Real rows form a prefix, so the ordering below links every pair of real rows.
        builder
            .when_transition()
            .assert_zero(next_is_real.clone() * (AB::Expr::ONE - is_real.clone()));

        // Strictly increasing addresses (as in `MemoryBoundaryChip`): compare the high limbs, or
        // the low ones when the high ones are equal; the difference minus one is 16-bit.
        let addr_bytes: Vec<AB::Expr> = local[ADDR..ADDR + 4].to_vec();
        let [lo, hi] = limbs(&addr_bytes);
        let [next_lo, next_hi] = limbs(&next[ADDR..ADDR + 4]);
        let hi_equal = local[HI_EQUAL].clone();
        builder.assert_bool(hi_equal.clone());
        let order_diff =
            local[ORDER_DIFF].clone() + local[ORDER_DIFF + 1].clone() * pow2::<AB::Expr>(8);
        let compared = hi_equal.clone() * (next_lo - lo.clone() - AB::Expr::ONE)
            + (AB::Expr::ONE - hi_equal.clone()) * (next_hi.clone() - hi.clone() - AB::Expr::ONE);
        let mut transition = builder.when_transition();
        transition.assert_zero(next_is_real.clone() * hi_equal * (next_hi - hi.clone()));
        transition.assert_zero(next_is_real * (compared - order_diff));
        eval_byte_pair(
            builder,
            addr_bytes[0].clone(),
            addr_bytes[1].clone(),
            is_real.clone(),
        );
        eval_byte_pair(
            builder,
            addr_bytes[2].clone(),
            addr_bytes[3].clone(),
            is_real.clone(),
        );
        eval_byte_pair(
            builder,
            local[ORDER_DIFF].clone(),
            local[ORDER_DIFF + 1].clone(),
            is_real.clone(),
        );

        // Fresh rows: initially 0, not code, and a memory location (see the module docs).
        let init = [local[INIT].clone(), local[INIT + 1].clone()];
        for limb in &init {
            builder.assert_zero(fresh.clone() * limb.clone());
        }
        builder.assert_zero(fresh.clone() * locked.clone());
        let quarter = local[QUARTER].clone();
        let nibble = local[NIBBLE].clone();
        builder.assert_zero(
            fresh.clone() * (addr_bytes[0].clone() - quarter.clone() * pow2::<AB::Expr>(2)),
        );
        eval_byte_pair(
            builder,
            quarter,
            addr_bytes[3].clone() * pow2::<AB::Expr>(1),
            fresh.clone(),
        );
        eval_byte_pair(
            builder,
            nibble.clone(),
            addr_bytes[1].clone() * pow2::<AB::Expr>(4) - nibble.clone() * pow2::<AB::Expr>(8),
            fresh.clone(),
        );
        let page = nibble + hi.clone() * pow2::<AB::Expr>(4);
        builder.assert_zero(fresh.clone() * (page * local[PAGE_INV].clone() - AB::Expr::ONE));

        // Code words are never accessed: closing at time 0, a locked row can only consume its
        // own opening (every access produces a later time), so `final = init` follows too.
        let final_value = [local[FINAL].clone(), local[FINAL + 1].clone()];
        let final_ts = local[FINAL_TS].clone();
        builder.assert_zero(locked.clone() * final_ts.clone());

        let [init_lo, init_hi] = init;
        let [final_lo, final_hi] = final_value;
        IMAGE_BUS.receive(
            builder,
            [
                lo.clone(),
                hi.clone(),
                init_lo.clone(),
                init_hi.clone(),
                final_lo.clone(),
                final_hi.clone(),
                locked,
            ],
            Count::bounded(is_image, 1),
        );
        MEMORY_BUS.send(
            builder,
            [lo.clone(), hi.clone(), init_lo, init_hi, AB::Expr::ZERO],
            Count::bounded(is_real.clone(), 1),
        );
        MEMORY_BUS.receive(
            builder,
            [lo, hi, final_lo, final_hi, final_ts],
            Count::bounded(is_real, 1),
        );
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::HashMap;

    use p3_air::check_all_constraints;
    use p3_field::PrimeField32;
    use p3_lookup::{Kind, Lookup, Lookups};
    use zkmips_abi::syscall::HALT;
    use zkmips_executor::{Executor, MemoryAccess, Program};

    use super::*;
    use crate::batch::Table;
    use crate::chips::byte::table_row;
    use crate::chips::memory::{AccessTestChip, TestAccess, access_test_cols, boundary_entries};
    use crate::chips::memory_image::{
        MemoryImageChip, PUBLIC_WORDS, encode_public_words, image_entries,
    };
    use crate::chips::testing::{TestAir, assert_rejected, lookups_balance, prove_and_verify};
    use crate::chips::{ByteChip, padded_height};
    use crate::config::{Challenge, Val};

    /// Position of the image chip in [`Run::honest_tables`].
    pub(crate) const IMAGE: usize = 1;

    pub(crate) const CODE: u32 = 0x0040_0000;
    pub(crate) const DATA: u32 = 0x1000_0000;
    pub(crate) const DIGEST: u32 = zkmips_abi::layout::PUBLIC_DIGEST_ADDR;
    const SP: u32 = 0x7fff_e000;

    /// A small image: the registers (`$sp` set), two locked code words, two data words and the
    /// digest region, with the exit code and digest slots.
    pub(crate) fn synthetic_image() -> Vec<ImageEntry> {
        let entry = |addr, value, locked, public_slot| ImageEntry {
            addr,
            value,
            locked,
            public_slot,
        };
        let mut entries: Vec<ImageEntry> = (0..35)
            .map(|r| {
                entry(
                    r,
                    if r == 29 { SP } else { 0 },
                    false,
                    (r == 4).then_some(0),
                )
            })
            .collect();
        entries.extend((0..8).map(|k| entry(DIGEST + 4 * k, 0, false, Some(1 + k as usize))));
        entries.push(entry(CODE, 0x2404_0007, true, None));
        entries.push(entry(CODE + 4, 0x0000_000c, true, None));
        entries.push(entry(DATA, 0x1234_5678, false, None));
        entries.push(entry(DATA + 4, 0x9abc_def0, false, None));
        entries.sort_by_key(|e| e.addr);
        entries
    }

    /// `(addr, write, ts)` of the synthetic run: registers, image words (one untouched data word,
    /// untouched code), the digest, and fresh words (one in the image's high limb, one below
    /// `0x1_0000`, the highest one, one only read).
    pub(crate) const SYNTHETIC_OPS: [(u32, Option<u32>, u32); 11] = [
        (29, None, 9),
        (4, Some(7), 13),
        (DATA, None, 17),
        (DATA, Some(0x1234_5679), 25),
        (DIGEST, Some(0xdead_beef), 33),
        (DIGEST + 12, Some(0x0102_0304), 41),
        (DATA + 0x100, Some(42), 49),
        (0x2000, Some(1), 57),
        (0x7fff_fffc, Some(0xffff_ffff), 65),
        (0x3000_0000, None, 73),
        (DATA + 0x100, None, 81),
    ];

    /// A one-shard run as a (possibly lying) prover presents it.
    #[derive(Clone, Debug)]
    pub(crate) struct Run {
        pub image: MemoryImageChip,
        pub accesses: Vec<TestAccess>,
        pub rows: Vec<FinalRow>,
        pub height: usize,
    }

    impl Run {
        /// The honest run of `ops` (`(addr, Some(value))` writes, `(addr, None)` reads at `ts`)
        /// from `image` (other locations start at 0).
        pub(crate) fn simulate(image: Vec<ImageEntry>, ops: &[(u32, Option<u32>, u32)]) -> Self {
            let init: HashMap<u32, u32> = image.iter().map(|e| (e.addr, e.value)).collect();
            let mut state: HashMap<u32, (u32, u32)> = HashMap::new();
            let mut order = Vec::new();
            let mut accesses = Vec::new();
            for &(addr, write, ts) in ops {
                let (prev_value, prev_timestamp) = *state.entry(addr).or_insert_with(|| {
                    order.push(addr);
                    (init.get(&addr).copied().unwrap_or(0), 0)
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
            let touched: Vec<BoundaryEntry> = order
                .iter()
                .map(|&addr| BoundaryEntry {
                    addr,
                    init_value: init.get(&addr).copied().unwrap_or(0),
                    final_value: state[&addr].0,
                    final_ts: state[&addr].1,
                })
                .collect();
            Self::new(image, accesses, &touched)
        }

        fn new(
            image: Vec<ImageEntry>,
            accesses: Vec<TestAccess>,
            touched: &[BoundaryEntry],
        ) -> Self {
            let rows = MemoryFinalChip::rows(&image, touched).expect("honest boundary");
            let height = padded_height(rows.len());
            let image_height = padded_height(image.len());
            Self {
                image: MemoryImageChip::new(image, image_height).expect("valid image"),
                accesses,
                rows,
                height,
            }
        }

        pub(crate) fn synthetic() -> Self {
            Self::simulate(synthetic_image(), &SYNTHETIC_OPS)
        }

        /// The tables through the checked trace generation:
        /// `[AccessTest, MemoryImage, MemoryFinal, Byte]`.
        pub(crate) fn honest_tables(&self) -> Vec<Table<TestAir, Val>> {
            let mut bytes = ByteCounts::new();
            let accesses = AccessTestChip::generate_trace(&self.accesses, &mut bytes).unwrap();
            let finals = self.image.finals(&self.rows).unwrap();
            let image = self.image.generate_trace(&finals).unwrap();
            let boundary = MemoryFinalChip
                .generate_trace(&self.rows, self.height, &mut bytes)
                .unwrap();
            let words = self.image.public_words_of(&finals).unwrap();
            self.assemble(accesses, image, words, boundary, &bytes)
        }

        /// The tables as a forger fills them: the rows as given (any order, duplicates kept),
        /// then `patch(access_cells, final_cells)`; the image chip's final values are whatever
        /// the final trace's `is_image` rows hand it (so the image bus balances whenever those
        /// rows carry the image's addresses, initial values and locks), the public values follow
        /// them, and the byte counts match every lookup the final trace makes with byte operands.
        /// Only the constraints and the buses stand between these tables and a proof.
        pub(crate) fn forged_tables(
            &self,
            patch: impl FnOnce(&mut [Val], &mut [Val]),
        ) -> Vec<Table<TestAir, Val>> {
            let mut bytes = ByteCounts::new();
            let mut accesses = AccessTestChip::fill_trace(&self.accesses, &mut bytes);
            let mut boundary =
                MemoryFinalChip::fill_trace::<Val>(&self.rows, self.height, &mut ByteCounts::new());
            patch(&mut accesses.values, &mut boundary.values);
            let received = received_finals(&boundary.values);
            let finals: Vec<u32> = self
                .image
                .entries()
                .iter()
                .map(|e| received.get(&e.addr).copied().unwrap_or(e.value))
                .collect();
            let image = self.image.generate_trace(&finals).unwrap();
            let words = self.image.public_words_of(&finals).unwrap();
            let lookups = final_lookups(&boundary.values);
            let mut tables = self.assemble(accesses, image, words, boundary, &bytes);
            // The byte table's multiplicities are free: they match the final trace's lookups,
            // whatever their counts.
            let byte = &mut tables.last_mut().unwrap().trace.values;
            for (x, y, count) in lookups {
                let column = crate::chips::byte::cols::MULTIPLICITY + ByteOp::RangePair.index();
                byte[table_row(x, y) * crate::chips::byte::cols::WIDTH + column] += count;
            }
            tables
        }

        fn assemble(
            &self,
            accesses: RowMajorMatrix<Val>,
            image: RowMajorMatrix<Val>,
            words: [u32; PUBLIC_WORDS],
            boundary: RowMajorMatrix<Val>,
            bytes: &ByteCounts,
        ) -> Vec<Table<TestAir, Val>> {
            let table = |air, trace, public_values| Table {
                air,
                trace,
                public_values,
            };
            vec![
                table(TestAir::AccessTest(AccessTestChip), accesses, vec![]),
                table(
                    TestAir::MemoryImage(self.image.clone()),
                    image,
                    encode_public_words(&words),
                ),
                table(TestAir::MemoryFinal(MemoryFinalChip), boundary, vec![]),
                table(
                    TestAir::Byte(ByteChip),
                    ByteChip.generate_trace(bytes),
                    vec![],
                ),
            ]
        }

        /// Index of the row of `addr` (the first one).
        pub(crate) fn row_of(&self, addr: u32) -> usize {
            self.rows.iter().position(|r| r.addr == addr).unwrap()
        }

        /// Adds an access and its own boundary row, re-sorted (stable: a row for an address
        /// already present goes after it).
        fn add(&mut self, access: TestAccess, row: FinalRow) {
            self.accesses.push(access);
            self.rows.push(row);
            self.rows.sort_by_key(|r| r.addr);
        }
    }

    fn read(addr: u32, value: u32, prev_timestamp: u32, timestamp: u32) -> TestAccess {
        TestAccess {
            access: MemoryAccess {
                addr,
                value,
                prev_value: value,
                prev_timestamp,
                timestamp,
            },
            is_write: false,
        }
    }

    fn write(addr: u32, value: u32, timestamp: u32) -> TestAccess {
        TestAccess {
            access: MemoryAccess {
                addr,
                value,
                prev_value: 0,
                prev_timestamp: 0,
                timestamp,
            },
            is_write: true,
        }
    }

    fn fresh(addr: u32, init_value: u32, final_value: u32, final_ts: u32) -> FinalRow {
        FinalRow {
            addr,
            init_value,
            final_value,
            final_ts,
            is_image: false,
            locked: false,
        }
    }

    fn cell(values: &[Val], row: usize, column: usize) -> u32 {
        values[row * cols::WIDTH + column].as_canonical_u32()
    }

    /// The byte lookups the final chip's AIR makes on `values` with a nonzero count (real rows:
    /// address and ordering pairs, count `is_real`; the location checks, count
    /// `is_real - is_image`), as `(x, y, count)`, for those whose operands are bytes: the others
    /// cannot be matched by any table entry.
    fn final_lookups(values: &[Val]) -> Vec<(u8, u8, Val)> {
        use cols::*;
        let as_byte = |v: Val| u8::try_from(v.as_canonical_u32()).ok();
        let mut lookups = Vec::new();
        for row in values.chunks_exact(WIDTH) {
            let fresh = row[IS_REAL] - row[IS_IMAGE];
            let pairs = [
                (row[ADDR], row[ADDR + 1], row[IS_REAL]),
                (row[ADDR + 2], row[ADDR + 3], row[IS_REAL]),
                (row[ORDER_DIFF], row[ORDER_DIFF + 1], row[IS_REAL]),
                (row[QUARTER], row[ADDR + 3] * Val::TWO, fresh),
                (
                    row[NIBBLE],
                    row[ADDR + 1] * Val::from_u32(16) - row[NIBBLE] * Val::from_u32(256),
                    fresh,
                ),
            ];
            for (x, y, count) in pairs {
                if let (Some(x), Some(y), false) = (as_byte(x), as_byte(y), count == Val::ZERO) {
                    lookups.push((x, y, count));
                }
            }
        }
        lookups
    }

    /// The final value each `is_image` row (real or not) hands the image chip, by address.
    fn received_finals(values: &[Val]) -> HashMap<u32, u32> {
        use cols::*;
        values
            .chunks_exact(WIDTH)
            .filter(|row| row[IS_IMAGE] == Val::ONE)
            .map(|row| {
                let limb = |base: usize, k: usize| {
                    row[base + 2 * k].as_canonical_u32()
                        + 256 * row[base + 2 * k + 1].as_canonical_u32()
                };
                let addr = limb(ADDR, 0) + (limb(ADDR, 1) << 16);
                let value =
                    row[FINAL].as_canonical_u32() + (row[FINAL + 1].as_canonical_u32() << 16);
                (addr, value)
            })
            .collect()
    }

    /// What `p3`'s debug checks flag in `tables`: the chips with a violated constraint and the
    /// buses that do not balance.
    fn diagnose(tables: &[Table<TestAir, Val>]) -> (Vec<&'static str>, Vec<&'static str>) {
        let chips = tables
            .iter()
            .filter(|t| !check_all_constraints(&t.air, &t.trace, &t.public_values, Some(4)).is_ok())
            .map(|t| t.air.name())
            .collect();
        let buses = ["memory", "image", "byte"]
            .into_iter()
            .filter(|&bus| {
                let selected: Vec<Vec<Lookup<Val>>> = tables
                    .iter()
                    .map(|t| {
                        Lookups::from_air::<Challenge, _>(&t.air)
                            .iter()
                            .filter(|l| matches!(&l.kind, Kind::Global(name) if name == bus))
                            .cloned()
                            .collect()
                    })
                    .collect();
                !lookups_balance(tables, &selected)
            })
            .collect();
        (chips, buses)
    }

    /// `tables` fail exactly the given constraints and buses (the tamper is caught by the check
    /// it targets, everything else having been forged consistently), and are rejected.
    pub(crate) fn assert_caught_by(tables: &[Table<TestAir, Val>], chips: &[&str], buses: &[&str]) {
        let (failed_chips, failed_buses) = diagnose(tables);
        assert_eq!(
            (failed_chips.as_slice(), failed_buses.as_slice()),
            (chips, buses),
            "unexpected set of failing checks"
        );
        assert_rejected(tables);
    }

    #[test]
    fn honest_synthetic_run_verifies() {
        let run = Run::synthetic();
        assert_eq!(run.rows.len(), synthetic_image().len() + 4);
        assert!(run.rows.iter().any(|r| r.locked && r.final_ts == 0));
        assert!(
            run.rows
                .iter()
                .any(|r| r.addr == DATA + 4 && r.final_ts == 0)
        );
        prove_and_verify(&run.honest_tables()).expect("honest run verifies");
        // The forging machinery alone changes nothing: the tamper tests below fail only
        // because of their tamper.
        prove_and_verify(&run.forged_tables(|_, _| {})).expect("unpatched forgery verifies");
    }

    /// A traced program: reads and writes a data word, writes a fresh (bss) word and two
    /// digest words, reads the initial stack, exits with 3.
    pub(crate) fn program() -> Program {
        const T0: u32 = 8;
        const T1: u32 = 9;
        const T2: u32 = 10;
        const T3: u32 = 11;
        const SP: u32 = 29;
        let itype = |op: u32, rs: u32, rt: u32, imm: i32| {
            (op << 26) | (rs << 21) | (rt << 16) | (imm as u32 & 0xffff)
        };
        let (lui, addiu, lw, sw) = (0x0f, 0x09, 0x23, 0x2b);
        let words = [
            itype(lui, 0, T0, (DATA >> 16) as i32),
            itype(lw, T0, T1, 0),
            itype(addiu, T1, T1, 0x41),
            itype(sw, T0, T1, 0),
            itype(sw, T0, T1, 0x100),
            itype(addiu, 0, T2, DIGEST as i32),
            itype(sw, T2, T1, 0),
            itype(sw, T2, T0, 28),
            itype(lw, SP, T3, 0),
            itype(addiu, 0, 4, 3),
            itype(lui, 0, 2, (HALT >> 16) as i32),
            0x0000_000c, // syscall
        ];
        Program::from_code(CODE, &words).with_data_segment(DATA, 0x200, &[1, 0, 0, 0, 2, 0, 0, 0])
    }

    /// The run of [`program`] in one shard, through the executor.
    pub(crate) fn program_run() -> Run {
        let program = program();
        let config = crate::machine::executor_config(vec![], vec![], 1 << 16);
        let mut executor = Executor::new(&program, config).unwrap();
        let report = executor.run().expect("the program runs");
        assert_eq!(report.exit_code, 3);
        let shards = report.record.expect("tracing").shards;
        assert_eq!(shards.len(), 1);
        let shard = &shards[0];
        let accesses = shard
            .accesses
            .iter()
            .map(|&access| TestAccess {
                access,
                is_write: access.value != access.prev_value,
            })
            .collect();
        let touched = boundary_entries(shard).unwrap();
        Run::new(image_entries(&program).unwrap(), accesses, &touched)
    }

    #[test]
    fn executor_run_verifies() {
        let run = program_run();
        assert!(
            run.rows
                .iter()
                .any(|r| !r.is_image && r.addr == DATA + 0x100)
        );
        assert!(run.rows.iter().any(|r| r.locked));
        assert!(run.height <= 256);
        let finals = run.image.finals(&run.rows).unwrap();
        let words = run.image.public_words_of(&finals).unwrap();
        assert_eq!(words, [3, 0x42, 0, 0, 0, 0, 0, 0, DATA]);
        prove_and_verify(&run.honest_tables()).expect("the executor's run verifies");
    }

    #[test]
    fn rows_refuse_inconsistent_boundaries() {
        let image = synthetic_image();
        let entry = |addr, init_value| BoundaryEntry {
            addr,
            init_value,
            final_value: 1,
            final_ts: 8,
        };
        let reason = |touched: &[BoundaryEntry]| match MemoryFinalChip::rows(&image, touched) {
            Err(TraceError::InvalidRow { reason, .. }) => reason,
            other => panic!("expected an error, got {other:?}"),
        };
        assert!(reason(&[entry(CODE, 0x2404_0007)]).contains("code word 0x00400000"));
        assert!(reason(&[entry(DATA, 0)]).contains("image holds 0x12345678"));
        assert!(reason(&[entry(0x2000, 5)]).contains("0x00002000 is outside the initial image"));
        for addr in [40, 0xffc, 0x2002, 0x8000_0000] {
            assert!(
                reason(&[entry(addr, 0)]).contains("is not a location"),
                "{addr:#x}"
            );
        }
        assert!(reason(&[entry(0x2000, 0), entry(0x2000, 0)]).contains("touched twice"));
    }

    #[test]
    fn generate_trace_refuses_bad_rows_and_heights() {
        let run = Run::synthetic();
        let mut bytes = ByteCounts::new();
        let mut build = |rows: &[FinalRow], height| {
            MemoryFinalChip.generate_trace::<Val>(rows, height, &mut bytes)
        };
        assert!(build(&run.rows, run.height / 2).is_err());
        assert!(build(&run.rows, run.height + 1).is_err());
        let mut swapped = run.rows.clone();
        swapped.swap(3, 4);
        assert!(build(&swapped, run.height).is_err());
        let mut bad = run.rows.clone();
        let k = run.row_of(0x2000);
        bad[k].init_value = 1;
        assert!(build(&bad, run.height).is_err());
        let mut accessed_code = run.rows.clone();
        accessed_code[run.row_of(CODE)].final_ts = 5;
        assert!(build(&accessed_code, run.height).is_err());
        assert!(build(&run.rows, run.height).is_ok());
        assert_eq!(bytes, {
            let mut honest = ByteCounts::new();
            MemoryFinalChip::fill_trace::<Val>(&run.rows, run.height, &mut honest);
            honest
        });
    }

    /// The exit code's boundary row claims a final value the accesses did not leave (the public
    /// value follows it): the memory bus does not balance.
    #[test]
    fn wrong_final_value_is_rejected() {
        let mut run = Run::synthetic();
        let k = run.row_of(4);
        run.rows[k].final_value = 8;
        assert_caught_by(&run.forged_tables(|_, _| {}), &[], &["memory"]);
    }

    #[test]
    fn wrong_fresh_final_value_is_rejected() {
        let mut run = Run::synthetic();
        let k = run.row_of(0x2000);
        run.rows[k].final_value = 2;
        assert_caught_by(&run.forged_tables(|_, _| {}), &[], &["memory"]);
    }

    /// Two rows for one fresh location, each opening its own chain at 0 (a read that ignores an
    /// earlier write): both buses balance; the ordering forbids the repeated address.
    #[test]
    fn duplicate_address_is_rejected() {
        let mut run = Run::synthetic();
        run.add(read(0x2000, 0, 0, 90), fresh(0x2000, 0, 0, 90));
        assert_caught_by(&run.forged_tables(|_, _| {}), &["MemoryFinal"], &[]);
    }

    /// A fresh row next to the image row of the same address, opening a second chain at 0.
    #[test]
    fn fresh_duplicate_of_an_image_address_is_rejected() {
        let mut run = Run::synthetic();
        run.add(read(DATA, 0, 0, 90), fresh(DATA, 0, 0, 90));
        assert_caught_by(&run.forged_tables(|_, _| {}), &["MemoryFinal"], &[]);
    }

    /// Two rows with the same high limb out of order, with a non-boolean `hi_equal` chosen so
    /// that the compared difference is 0: only `hi_equal`'s booleanity objects.
    #[test]
    fn non_boolean_order_flag_is_rejected() {
        let mut run = Run::synthetic();
        let k = run.row_of(DATA);
        run.rows.swap(k, k + 1);
        assert_eq!(run.rows[k].addr, DATA + 4);
        let tables = run.forged_tables(|_, boundary| {
            use cols::*;
            // With hi' = hi the compared value is h (lo' - lo - 1) + (1 - h)(-1) = h (lo' - lo) - 1
            // = -4 h - 1, which h = -1/4 makes 0.
            boundary[k * WIDTH + HI_EQUAL] = -Val::from_u32(4).inverse();
            boundary[k * WIDTH + ORDER_DIFF] = Val::ZERO;
            boundary[k * WIDTH + ORDER_DIFF + 1] = Val::ZERO;
        });
        assert_caught_by(&tables, &["MemoryFinal"], &[]);
    }

    #[test]
    fn unsorted_rows_are_rejected() {
        let mut run = Run::synthetic();
        let k = run.row_of(0x2000);
        run.rows.swap(k, k + 1);
        assert_caught_by(&run.forged_tables(|_, _| {}), &["MemoryFinal"], &[]);
    }

    /// The image row of a data word replaced by a fresh row starting at 0, which a read then
    /// returns: the image bus misses the word.
    #[test]
    fn fresh_row_replacing_an_image_row_is_rejected() {
        let mut run = Run::synthetic();
        let k = run.row_of(DATA + 4);
        run.rows[k] = fresh(DATA + 4, 0, 0, 90);
        run.accesses.push(read(DATA + 4, 0, 0, 90));
        assert_caught_by(&run.forged_tables(|_, _| {}), &[], &["image"]);
    }

    /// A fresh location opened at a nonzero value, which a read returns.
    #[test]
    fn fresh_row_with_nonzero_init_is_rejected() {
        let mut run = Run::synthetic();
        let k = run.row_of(0x3000_0000);
        run.rows[k].init_value = 0x55;
        run.rows[k].final_value = 0x55;
        for a in run
            .accesses
            .iter_mut()
            .filter(|a| a.access.addr == 0x3000_0000)
        {
            a.access.value = 0x55;
            a.access.prev_value = 0x55;
        }
        assert_caught_by(&run.forged_tables(|_, _| {}), &["MemoryFinal"], &[]);
    }

    /// A code word read by an access: the buses balance, but a locked row must be untouched.
    #[test]
    fn accessed_code_word_is_rejected() {
        let mut run = Run::synthetic();
        let k = run.row_of(CODE);
        run.rows[k].final_ts = 90;
        run.accesses.push(read(CODE, 0x2404_0007, 0, 90));
        assert_caught_by(&run.forged_tables(|_, _| {}), &["MemoryFinal"], &[]);
    }

    /// The same access with the row claiming the word is not code: the image bus disagrees.
    #[test]
    fn unlocked_code_word_is_rejected() {
        let mut run = Run::synthetic();
        let k = run.row_of(CODE);
        run.rows[k].final_ts = 90;
        run.rows[k].locked = false;
        run.accesses.push(read(CODE, 0x2404_0007, 0, 90));
        assert_caught_by(&run.forged_tables(|_, _| {}), &[], &["image"]);
    }

    #[test]
    fn skipped_image_row_is_rejected() {
        let mut run = Run::synthetic();
        let k = run.row_of(DATA + 4);
        run.rows.remove(k);
        assert_caught_by(&run.forged_tables(|_, _| {}), &[], &["image"]);
    }

    /// Fresh rows at addresses that are not memory locations, each written by an access: a
    /// register-space address, the null guard, the kernel half, misaligned words.
    #[test]
    fn fresh_rows_outside_memory_are_rejected() {
        // Register space and null guard: `addr >> 12 = 0` has no inverse; misaligned: the low
        // byte is not 4 q; kernel half: `2 b3` is not a byte.
        for (addr, chips, buses) in [
            (40, &["MemoryFinal"][..], &[][..]),
            (0xffc, &["MemoryFinal"], &[]),
            (0x2000_0002, &["MemoryFinal"], &[]),
            (0x2000_0001, &["MemoryFinal"], &[]),
            (0x8000_0000, &[], &["byte"]),
            (0xffff_fffc, &[], &["byte"]),
        ] {
            let mut run = Run::synthetic();
            run.add(write(addr, 9, 90), fresh(addr, 0, 9, 90));
            assert_caught_by(&run.forged_tables(|_, _| {}), chips, buses);
        }
    }

    /// An untouched digest word moved to a row with `is_real = 0` but `is_image = 1`: it still
    /// answers the image bus (with a forged final value, which becomes public) but opens and
    /// closes nothing on the memory bus, so without `is_image <= is_real` it would verify.
    #[test]
    fn inert_row_answering_the_image_is_rejected() {
        let mut run = Run::synthetic();
        let k = run.row_of(DIGEST + 20);
        let mut moved = run.rows.remove(k);
        moved.final_value = 0x0bad_f00d;
        let padding = run.rows.len();
        assert!(padding < run.height);
        let filled = MemoryFinalChip::fill_trace::<Val>(&[moved], 4, &mut ByteCounts::new());
        let tables = run.forged_tables(|_, boundary| {
            let row = &mut boundary[padding * cols::WIDTH..(padding + 1) * cols::WIDTH];
            row.copy_from_slice(&filled.values[..cols::WIDTH]);
            row[cols::IS_REAL] = Val::ZERO;
            // With `is_real - is_image = -1`, the fresh-location checks apply (negated): give
            // them their witness so that only `is_image <= is_real` is left to object.
            let (quarter, nibble, page) = fresh_witness(moved.addr);
            row[cols::QUARTER] = Val::from_u8(quarter);
            row[cols::NIBBLE] = Val::from_u8(nibble);
            row[cols::PAGE_INV] = Val::from_u32(page).inverse();
        });
        assert_eq!(tables[IMAGE].public_values[2 * 6], Val::from_u32(0xf00d));
        assert_caught_by(&tables, &["MemoryFinal"], &[]);
    }

    /// A padding row sending on the memory bus is impossible too (its counts are `is_real`):
    /// a padding row with a nonzero `is_image` alone is refused.
    #[test]
    fn padding_row_with_image_flag_is_rejected() {
        let run = Run::synthetic();
        let last = run.height - 1;
        assert!(last >= run.rows.len());
        assert_caught_by(
            &run.forged_tables(|_, boundary| {
                boundary[last * cols::WIDTH + cols::IS_IMAGE] = Val::ONE;
            }),
            &["MemoryFinal"],
            &["image"],
        );
    }

    /// A fresh address written with non-canonical limbs `(lo + 2^16, hi - 1)` (the same integer,
    /// another bus tuple), used consistently by the access and with an ordering witness that
    /// matches: only the byte range check of the address catches it.
    #[test]
    fn address_limb_out_of_range_is_rejected() {
        let run = Run::synthetic();
        let addr = 0x3000_0000u32;
        let k = run.row_of(addr);
        let access = run
            .accesses
            .iter()
            .position(|a| a.access.addr == addr)
            .unwrap();
        let tables = run.forged_tables(|accesses, boundary| {
            use cols::*;
            let (lo, hi) = (0x1_0000u32, 0x2fffu32);
            let at = |row: usize, column: usize| row * WIDTH + column;
            boundary[at(k, ADDR + 1)] = Val::from_u32(256);
            boundary[at(k, ADDR + 2)] = Val::from_u32(0xff);
            boundary[at(k, ADDR + 3)] = Val::from_u32(0x2f);
            boundary[at(k, NIBBLE)] = Val::from_u32(16);
            let page = Val::from_u32(16 + 16 * hi);
            boundary[at(k, PAGE_INV)] = page.inverse();
            // Ordering witnesses against the neighbours (all different high limbs).
            let prev_hi = cell(boundary, k - 1, ADDR + 2) + 256 * cell(boundary, k - 1, ADDR + 3);
            let next_hi = cell(boundary, k + 1, ADDR + 2) + 256 * cell(boundary, k + 1, ADDR + 3);
            for (row, diff) in [(k - 1, hi - prev_hi - 1), (k, next_hi - hi - 1)] {
                assert_eq!(cell(boundary, row, HI_EQUAL), 0);
                boundary[at(row, ORDER_DIFF)] = Val::from_u32(diff & 0xff);
                boundary[at(row, ORDER_DIFF + 1)] = Val::from_u32(diff >> 8);
            }
            let base = access * access_test_cols::WIDTH + access_test_cols::ADDR;
            accesses[base] = Val::from_u32(lo);
            accesses[base + 1] = Val::from_u32(hi);
        });
        assert_caught_by(&tables, &[], &["byte"]);
    }
}
