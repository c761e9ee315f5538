//! The KECCAK_PERMUTE precompile: `$a0` points at 25 little-endian 64-bit lanes (200 bytes), the
//! syscall replaces them with keccak-f[1600] of themselves.
//!
//! # Layout
//!
//! One permutation is a block of [`NUM_ROUNDS`] = 24 rows. Each row is `p3-keccak-air`'s
//! [`KeccakCols`] (one round per row; its [`KeccakAir`] constraints are evaluated unchanged on
//! that prefix of the row through [`KeccakSubBuilder`]) followed by this chip's columns (see
//! [`cols`]):
//! - `is_real`, `clk`, `ptr` and the permutation's output `output` (the 25 lanes as 16-bit limbs)
//!   are constant over a block; `output` equals the keccak columns' round-24 result on the block's
//!   last row. A block that is real must end with that last row: the trace's last row is never a
//!   real one, and its height (a power of two) is never a multiple of 24, so the trailing partial
//!   block is padding.
//! - the block's first row receives `[clk, ptr_lo, ptr_hi]` on [`KECCAK_BUS`] and proves `ptr`
//!   4-aligned with the whole state inside `[0x1000, 0x8000_0000)` (so no word aliases a
//!   register location `0..=34`), with 7 byte-pair lookups.
//! - every row has three memory-access slots; slot `j` of round `r` accesses word `w = 3 r + j`
//!   (rounds 0..=16 cover the 50 words) at `ptr + 4 w` and timestamp `8 clk + SLOT_SYSCALL`,
//!   reading the input lane half (`preimage`, which the keccak columns hold on every row of the
//!   block) and writing the output lane half. Lane `i` is word `2 i` (low half) and `2 i + 1`
//!   (high half); the 16-bit limbs of a half are keccak limbs `2 h, 2 h + 1`.
//!
//! The address of a slot is `(ptr_lo + 4 w - 2^16 carry, ptr_hi + carry)` with a boolean
//! `carry`: only one choice gives a canonical low limb, and the memory argument accepts only
//! canonical address limbs (every address tuple on the bus equals a range-checked boundary row's,
//! see `docs/MEMORY_ARGUMENT.md`), so the address is forced. Written limbs are the output limbs,
//! which `p3-keccak-air` composes from boolean columns: canonical, as the access helper requires.
//!
//! `clk` is taken from the message: the sender (the syscall chip, from the CPU's clock) makes it
//! an integer below `2^23`, so `8 clk + 6` is a timestamp the access helper accepts. The
//! syscall's register accesses (`$v0`, `$a0..$a3`) are the syscall chip's, not this chip's.
//!
//! Cost: 2633 keccak columns + 146 (width 2779), 24 rows per call, 20 bus interactions per row
//! (1 call receive, 7 pointer byte lookups, 3 × (2 memory + 2 byte)), constraint degree 3.

use core::borrow::Borrow;

use p3_air::{Air, AirBuilder, BaseAir, PermutationAirBuilder, WindowAccess};
use p3_field::{PrimeCharacteristicRing, PrimeField64};
use p3_keccak_air::{KeccakAir, KeccakCols, NUM_KECCAK_COLS, NUM_ROUNDS, generate_trace_rows};
use p3_lookup::{Count, InteractionBuilder};
use p3_matrix::dense::RowMajorMatrix;
use zkmips_abi::syscall::KECCAK_PERMUTE;
use zkmips_executor::MemoryAccess;
use zkmips_executor::events::{PrecompileKind, SLOT_SYSCALL, SLOTS_PER_CYCLE};

use super::memory::{
    AccessExprs, MAX_TIMESTAMP, MemoryAccessCols, access_cols, check_access, eval_access,
    fill_access,
};
use super::word::eval_byte_pair;
use super::{ByteCounts, MIN_TRACE_HEIGHT, TraceError};
use crate::buses::{ByteOp, KECCAK_BUS, KECCAK_MESSAGE_WIDTH, word_limbs};
use crate::shard::{ClassEvent, Executed};

const CHIP: &str = "Keccak";

/// Lanes of the keccak state.
pub const LANES: usize = 25;
/// 32-bit memory words of the state.
pub const WORDS: usize = 2 * LANES;
/// Memory-access slots per row.
pub const SLOTS: usize = 3;
/// Lowest state pointer: the null guard `[0, 0x1000)` holds no state (and the register locations
/// `0..=34` lie inside it).
pub const MIN_PTR: u32 = 0x1000;
/// Highest state pointer: the state's last byte is at most `0x7fff_ffff`.
pub const MAX_PTR: u32 = 0x8000_0000 - 4 * WORDS as u32;
/// Word-index bounds of the pointer (`ptr / 4`), as the AIR checks them.
const MIN_WORD: u32 = MIN_PTR / 4;
const MAX_WORD: u32 = MAX_PTR / 4;

/// The word slot `slot` of round `round` accesses, if any.
pub const fn slot_word(round: usize, slot: usize) -> Option<usize> {
    let word = SLOTS * round + slot;
    if word < WORDS { Some(word) } else { None }
}

/// Column indices. The first [`NUM_KECCAK_COLS`] are `p3-keccak-air`'s [`KeccakCols`].
pub mod cols {
    use super::{LANES, NUM_KECCAK_COLS, SLOTS};

    pub const IS_REAL: usize = NUM_KECCAK_COLS;
    /// The syscall's shard-local cycle (from the bus message).
    pub const CLK: usize = IS_REAL + 1;
    /// `$a0` as limbs `(lo, hi)` (from the bus message).
    pub const PTR: usize = CLK + 1;
    /// `ptr = 4 a + 2^8 b + 2^16 c + 2^24 d` (block's first row only): `a < 64`, `b`, `c`
    /// bytes, `d < 128`.
    pub const PTR_PARTS: usize = PTR + 2;
    /// Bytes of `ptr / 4 - MIN_PTR / 4` (the top one below 32).
    pub const GAP_BELOW: usize = PTR_PARTS + 4;
    /// Bytes of `MAX_PTR / 4 - ptr / 4` (the top one below 32).
    pub const GAP_ABOVE: usize = GAP_BELOW + 4;
    /// The permutation's output: lane `i` (standard order `x + 5 y`) at `OUTPUT + 4 i`, four
    /// 16-bit limbs, little-endian.
    pub const OUTPUT: usize = GAP_ABOVE + 4;
    pub const SLOT_BASE: usize = OUTPUT + 4 * LANES;
    /// Within a slot: the address carry, the written value's limbs, the access helper's columns.
    pub mod slot {
        pub const CARRY: usize = 0;
        pub const VALUE: usize = 1;
        pub const ACCESS: usize = 3;
        pub const WIDTH: usize = ACCESS + crate::chips::memory::access_cols::WIDTH;
    }
    pub const fn slot_col(slot: usize, col: usize) -> usize {
        SLOT_BASE + slot * slot::WIDTH + col
    }
    pub const WIDTH: usize = SLOT_BASE + SLOTS * slot::WIDTH;
}

/// One KECCAK_PERMUTE call as the chip proves it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeccakRow {
    /// Shard-local cycle of the syscall.
    pub clk: u32,
    /// `$a0`, the state's address.
    pub ptr: u32,
    pub before: [u64; LANES],
    pub after: [u64; LANES],
    /// `accesses[i]` is the access to word `i` (address `ptr + 4 i`).
    pub accesses: Vec<MemoryAccess>,
}

/// keccak-f[1600] as the executor computes it.
pub fn keccak_f(mut lanes: [u64; LANES]) -> [u64; LANES] {
    zkmips_executor::syscalls::keccak_permute_lanes(&mut lanes);
    lanes
}

/// Word `w` of a state (`w = 2 i` the low half of lane `i`, `2 i + 1` the high half).
pub fn state_word(lanes: &[u64; LANES], w: usize) -> u32 {
    (lanes[w / 2] >> (32 * (w % 2))) as u32
}

/// The [`KECCAK_BUS`] message of `row`: `[clk, ptr_lo, ptr_hi]`.
pub fn message(row: &KeccakRow) -> [u32; KECCAK_MESSAGE_WIDTH] {
    let [lo, hi] = word_limbs(row.ptr);
    [row.clk, lo, hi]
}

/// Checks that `row` is a provable call: pointer in range, the 50 accesses to `ptr + 4 i` at the
/// syscall's timestamp reading `before` and writing `after`, and `after = keccak_f(before)`.
fn check_row(row: &KeccakRow) -> Result<(), String> {
    if !row.ptr.is_multiple_of(4) || !(MIN_PTR..=MAX_PTR).contains(&row.ptr) {
        return Err(format!(
            "state pointer {:#010x} is not a 4-aligned 200-byte region inside [{MIN_PTR:#x}, 0x80000000)",
            row.ptr
        ));
    }
    let ts = u64::from(row.clk) * SLOTS_PER_CYCLE + SLOT_SYSCALL;
    if ts >= u64::from(MAX_TIMESTAMP) {
        return Err(format!("cycle {} is too large for a timestamp", row.clk));
    }
    if row.accesses.len() != WORDS {
        return Err(format!(
            "{} state word accesses, expected {WORDS}",
            row.accesses.len()
        ));
    }
    for (i, access) in row.accesses.iter().enumerate() {
        let addr = row.ptr + 4 * i as u32;
        if access.addr != addr || u64::from(access.timestamp) != ts {
            return Err(format!(
                "state word {i}: access to {:#010x} at timestamp {}, expected {addr:#010x} at {ts}",
                access.addr, access.timestamp
            ));
        }
        check_access(i, access).map_err(|e| e.to_string())?;
        let (before, after) = (state_word(&row.before, i), state_word(&row.after, i));
        if access.prev_value != before || access.value != after {
            return Err(format!(
                "state word {i} at {addr:#010x}: access {:#010x} -> {:#010x}, the lanes say {before:#010x} -> {after:#010x}",
                access.prev_value, access.value
            ));
        }
    }
    if keccak_f(row.before) != row.after {
        return Err("the written state is not keccak-f[1600] of the read one".into());
    }
    Ok(())
}

/// The KECCAK_PERMUTE calls of `executed`, in order. Refuses (naming the instruction) a call
/// whose record is inconsistent or whose state the chip cannot prove.
pub fn rows(executed: &[Executed]) -> Result<Vec<KeccakRow>, TraceError> {
    let mut rows = Vec::new();
    for e in executed {
        let ClassEvent::Syscall(event, precompile) = e.event else {
            continue;
        };
        let keccak = precompile.filter(|p| p.kind == PrecompileKind::KeccakPermute);
        if event.number != KECCAK_PERMUTE {
            if keccak.is_some() {
                return Err(e.error(
                    CHIP,
                    format!(
                        "syscall {:#x} carries a KECCAK_PERMUTE precompile event",
                        event.number
                    ),
                ));
            }
            continue;
        }
        let Some(p) = keccak else {
            return Err(e.error(CHIP, "KECCAK_PERMUTE without its precompile event"));
        };
        let ptr = p.args[0];
        if event.args[0] != ptr {
            return Err(e.error(
                CHIP,
                format!(
                    "precompile pointer {ptr:#010x} is not $a0 = {:#010x}",
                    event.args[0]
                ),
            ));
        }
        let mut by_word: Vec<Option<MemoryAccess>> = vec![None; WORDS];
        for access in &p.accesses {
            let offset = access.addr.wrapping_sub(ptr);
            let slot = offset
                .is_multiple_of(4)
                .then_some(offset as usize / 4)
                .and_then(|w| by_word.get_mut(w))
                .ok_or_else(|| {
                    e.error(
                        CHIP,
                        format!("access to {:#010x} is outside the state", access.addr),
                    )
                })?;
            if slot.replace(*access).is_some() {
                return Err(e.error(
                    CHIP,
                    format!("state word {:#010x} is accessed twice", access.addr),
                ));
            }
        }
        let accesses: Vec<MemoryAccess> = by_word
            .iter()
            .enumerate()
            .map(|(w, a)| {
                a.ok_or_else(|| {
                    e.error(
                        CHIP,
                        format!(
                            "state word {w} ({:#010x}) is not accessed",
                            ptr.wrapping_add(4 * w as u32)
                        ),
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        let lanes = |value: fn(&MemoryAccess) -> u32| -> [u64; LANES] {
            core::array::from_fn(|i| {
                u64::from(value(&accesses[2 * i])) | (u64::from(value(&accesses[2 * i + 1])) << 32)
            })
        };
        let row = KeccakRow {
            clk: e.clk,
            ptr,
            before: lanes(|a| a.prev_value),
            after: lanes(|a| a.value),
            accesses,
        };
        check_row(&row).map_err(|reason| e.error(CHIP, reason))?;
        rows.push(row);
    }
    Ok(rows)
}

/// Proves KECCAK_PERMUTE calls: their memory accesses and `after = keccak_f(before)`.
#[derive(Clone, Copy, Debug, Default)]
pub struct KeccakChip;

impl KeccakChip {
    pub const fn name(&self) -> &'static str {
        CHIP
    }

    /// The trace of `rows` (checked first), recording its byte lookups.
    pub fn generate_trace<F: PrimeField64>(
        &self,
        rows: &[KeccakRow],
        bytes: &mut ByteCounts,
    ) -> Result<RowMajorMatrix<F>, TraceError> {
        for (index, row) in rows.iter().enumerate() {
            check_row(row).map_err(|reason| TraceError::InvalidRow {
                chip: CHIP,
                row: index,
                reason,
            })?;
        }
        Ok(Self::fill_trace(rows, bytes))
    }

    /// The trace of `rows` unchecked: the keccak columns from `before`, `output` from `after`,
    /// the slots from `accesses`, so tests can make each disagree with the others.
    pub(crate) fn fill_trace<F: PrimeField64>(
        rows: &[KeccakRow],
        bytes: &mut ByteCounts,
    ) -> RowMajorMatrix<F> {
        use cols::*;
        // p3 pads with (truncated) permutations of the zero state, which satisfy its constraints.
        let inputs: Vec<[u64; LANES]> = if rows.is_empty() {
            vec![[0; LANES]]
        } else {
            rows.iter().map(|r| r.before).collect()
        };
        let keccak = generate_trace_rows::<F>(inputs, 0);
        let height = (rows.len() * NUM_ROUNDS)
            .next_power_of_two()
            .max(MIN_TRACE_HEIGHT);
        let mut values = F::zero_vec(height * WIDTH);
        for (out, round) in values
            .chunks_exact_mut(WIDTH)
            .zip(keccak.values.chunks_exact(NUM_KECCAK_COLS))
        {
            out[..NUM_KECCAK_COLS].copy_from_slice(round);
        }
        for (row, block) in rows.iter().zip(values.chunks_exact_mut(NUM_ROUNDS * WIDTH)) {
            for (round, out) in block.chunks_exact_mut(WIDTH).enumerate() {
                out[IS_REAL] = F::ONE;
                out[CLK] = F::from_u32(row.clk);
                let [lo, hi] = word_limbs(row.ptr);
                out[PTR] = F::from_u32(lo);
                out[PTR + 1] = F::from_u32(hi);
                for (lane, value) in row.after.iter().enumerate() {
                    for limb in 0..4 {
                        out[OUTPUT + 4 * lane + limb] =
                            F::from_u64((value >> (16 * limb)) & 0xffff);
                    }
                }
                if round == 0 {
                    fill_pointer_checks(out, row.ptr, bytes);
                }
                for slot in 0..SLOTS {
                    let Some(w) = slot_word(round, slot) else {
                        continue;
                    };
                    // The address and timestamp are not columns: the AIR derives them from
                    // `ptr` and `clk`.
                    let access = &row.accesses[w];
                    let cell = |col| slot_col(slot, col);
                    out[cell(slot::CARRY)] =
                        F::from_bool((row.ptr & 0xffff) + 4 * w as u32 > 0xffff);
                    let [v_lo, v_hi] = word_limbs(access.value);
                    out[cell(slot::VALUE)] = F::from_u32(v_lo);
                    out[cell(slot::VALUE + 1)] = F::from_u32(v_hi);
                    fill_access(&mut out[cell(slot::ACCESS)..], access, bytes);
                }
            }
        }
        RowMajorMatrix::new(values, WIDTH)
    }
}

/// Records a byte-pair lookup whose operands are bytes (a forged trace may hold others; their
/// lookups then find nothing to match).
fn record_pair(bytes: &mut ByteCounts, x: u32, y: u32) {
    if let (Ok(x), Ok(y)) = (u8::try_from(x), u8::try_from(y)) {
        bytes.record(ByteOp::RangePair, x, y);
    }
}

/// Fills the pointer decomposition and the two word-index gaps of a block's first row.
fn fill_pointer_checks<F: PrimeField64>(out: &mut [F], ptr: u32, bytes: &mut ByteCounts) {
    use cols::*;
    let [lo, hi] = word_limbs(ptr);
    // `a = (ptr_lo mod 256) / 4` in the field: an integer below 64 only if `ptr` is aligned.
    let a = F::from_u32(lo & 0xff) * F::from_u8(4).inverse();
    let (b, c, d) = (lo >> 8, hi & 0xff, hi >> 8);
    out[PTR_PARTS] = a;
    out[PTR_PARTS + 1] = F::from_u32(b);
    out[PTR_PARTS + 2] = F::from_u32(c);
    out[PTR_PARTS + 3] = F::from_u32(d);
    if lo % 4 == 0 {
        record_pair(bytes, (lo & 0xff) / 4, lo & 0xff);
    }
    record_pair(bytes, b, c);
    record_pair(bytes, d, 2 * d);
    // The gaps as the AIR computes them (field elements); out of range they have no
    // decomposition into bytes with a top byte below 32, so their lookups fail.
    let word = a
        + F::from_u32(b) * F::from_u32(1 << 6)
        + F::from_u32(c) * F::from_u32(1 << 14)
        + F::from_u32(d) * F::from_u32(1 << 22);
    for (base, gap) in [
        (GAP_BELOW, word - F::from_u32(MIN_WORD)),
        (GAP_ABOVE, F::from_u32(MAX_WORD) - word),
    ] {
        let g = (gap.as_canonical_u64() as u32).to_le_bytes().map(u32::from);
        for (cell, byte) in out[base..base + 4].iter_mut().zip(g) {
            *cell = F::from_u32(byte);
        }
        record_pair(bytes, g[0], g[1]);
        record_pair(bytes, g[2], 8 * g[3]);
    }
}

/// Presents the keccak prefix of the row to [`KeccakAir`]: its `eval` reads the main row as
/// exactly [`KeccakCols`], so this builder hides the columns after it and forwards everything
/// else (constraints, selectors) to the real builder.
pub struct KeccakSubBuilder<'a, AB: AirBuilder> {
    inner: &'a mut AB,
}

/// The first [`NUM_KECCAK_COLS`] columns of a window.
#[derive(Clone)]
pub struct KeccakWindow<W> {
    inner: W,
}

impl<T, W: WindowAccess<T>> WindowAccess<T> for KeccakWindow<W> {
    fn current_slice(&self) -> &[T] {
        &self.inner.current_slice()[..NUM_KECCAK_COLS]
    }

    fn next_slice(&self) -> &[T] {
        &self.inner.next_slice()[..NUM_KECCAK_COLS]
    }
}

impl<AB: AirBuilder> AirBuilder for KeccakSubBuilder<'_, AB> {
    type F = AB::F;
    type Expr = AB::Expr;
    type Var = AB::Var;
    type PreprocessedWindow = AB::PreprocessedWindow;
    type MainWindow = KeccakWindow<AB::MainWindow>;
    type PublicVar = AB::PublicVar;
    type PeriodicVar = AB::PeriodicVar;

    fn main(&self) -> Self::MainWindow {
        KeccakWindow {
            inner: self.inner.main(),
        }
    }

    fn preprocessed(&self) -> &Self::PreprocessedWindow {
        self.inner.preprocessed()
    }

    fn is_first_row(&self) -> Self::Expr {
        self.inner.is_first_row()
    }

    fn is_last_row(&self) -> Self::Expr {
        self.inner.is_last_row()
    }

    fn is_transition(&self) -> Self::Expr {
        self.inner.is_transition()
    }

    fn assert_zero<I: Into<Self::Expr>>(&mut self, x: I) {
        self.inner.assert_zero(x);
    }

    fn assert_zeros<const N: usize, I: Into<Self::Expr>>(&mut self, array: [I; N]) {
        self.inner.assert_zeros(array);
    }
}

/// Column indices of the keccak prefix ([`KeccakCols`] of indices).
fn keccak_col_indices() -> Vec<usize> {
    (0..NUM_KECCAK_COLS).collect()
}

impl<F> BaseAir<F> for KeccakChip {
    fn width(&self) -> usize {
        cols::WIDTH
    }

    fn main_next_row_columns(&self) -> Vec<usize> {
        let indices = keccak_col_indices();
        let map: &KeccakCols<usize> = indices.as_slice().borrow();
        // `KeccakAir` compares the round flags, the preimage and the round input with the next
        // row; this chip keeps its block constants equal down the block.
        let mut next: Vec<usize> = map.step_flags.to_vec();
        next.extend(map.preimage.iter().flatten().flatten());
        next.extend(map.a.iter().flatten().flatten());
        next.extend([cols::IS_REAL, cols::CLK, cols::PTR, cols::PTR + 1]);
        next.extend(cols::OUTPUT..cols::OUTPUT + 4 * LANES);
        next
    }
}

impl<AB: PermutationAirBuilder + InteractionBuilder> Air<AB> for KeccakChip {
    fn eval(&self, builder: &mut AB) {
        use cols::*;
        KeccakAir {}.eval(&mut KeccakSubBuilder { inner: builder });

        let main = builder.main();
        let local: Vec<AB::Var> = main.current_slice().to_vec();
        let next: Vec<AB::Var> = main.next_slice().to_vec();
        let keccak: &KeccakCols<AB::Var> = local[..NUM_KECCAK_COLS].borrow();
        let col = |i: usize| -> AB::Expr { local[i].into() };
        let flag = |round: usize| -> AB::Expr { keccak.step_flags[round].into() };

        let is_real = col(IS_REAL);
        builder.assert_bool(is_real.clone());
        // The last row always lies in the trailing partial block (24 never divides the height),
        // so forcing it to padding leaves no real block without its final round.
        builder.when_last_row().assert_zero(is_real.clone());

        // Block constants: equal on the next row unless this row ends the block.
        let same_block = builder.is_transition() * (AB::Expr::ONE - flag(NUM_ROUNDS - 1));
        let constants = [IS_REAL, CLK, PTR, PTR + 1]
            .into_iter()
            .chain(OUTPUT..OUTPUT + 4 * LANES);
        for c in constants {
            builder
                .when(same_block.clone())
                .assert_eq(next[c], local[c]);
        }

        // The output is the last round's result.
        let last_round = is_real.clone() * flag(NUM_ROUNDS - 1);
        for y in 0..5 {
            for x in 0..5 {
                for limb in 0..4 {
                    builder.when(last_round.clone()).assert_eq(
                        col(OUTPUT + 4 * (x + 5 * y) + limb),
                        keccak.a_prime_prime_prime(y, x, limb),
                    );
                }
            }
        }

        // The call, received once per block (on its first row).
        let start = is_real.clone() * flag(0);
        let (clk, ptr_lo, ptr_hi) = (col(CLK), col(PTR), col(PTR + 1));
        KECCAK_BUS.receive(
            builder,
            [clk.clone(), ptr_lo.clone(), ptr_hi.clone()],
            Count::bounded(start.clone(), 1),
        );
        eval_pointer_checks(builder, &local, start);

        // The 50 word accesses, three per row on rounds 0..=16.
        let ts = clk * AB::Expr::from_u64(SLOTS_PER_CYCLE) + AB::Expr::from_u64(SLOT_SYSCALL);
        let input_limb = |w: usize, k: usize| -> AB::Expr {
            let (lane, half) = (w / 2, w % 2);
            keccak.preimage[lane / 5][lane % 5][2 * half + k].into()
        };
        let output_limb = |w: usize, k: usize| col(OUTPUT + 2 * w + k);
        for slot in 0..SLOTS {
            let cell = |c: usize| col(slot_col(slot, c));
            let words: Vec<(usize, usize)> = (0..NUM_ROUNDS)
                .filter_map(|r| slot_word(r, slot).map(|w| (r, w)))
                .collect();
            // Exactly one round flag is set on every row, so these select this row's word.
            let active: AB::Expr = words.iter().map(|&(r, _)| flag(r)).sum();
            let offset: AB::Expr = words
                .iter()
                .map(|&(r, w)| flag(r) * AB::Expr::from_usize(4 * w))
                .sum();
            let select = |limb: &dyn Fn(usize, usize) -> AB::Expr, k: usize| -> AB::Expr {
                words.iter().map(|&(r, w)| flag(r) * limb(w, k)).sum()
            };

            let carry = cell(slot::CARRY);
            builder.assert_bool(carry.clone());
            let access_cols: Vec<AB::Expr> = (0..access_cols::WIDTH)
                .map(|i| cell(slot::ACCESS + i))
                .collect();
            let access = MemoryAccessCols::from_slice(&access_cols);
            let value = [cell(slot::VALUE), cell(slot::VALUE + 1)];
            for (k, (read, written)) in access.prev_value.iter().zip(&value).enumerate() {
                // Read the input half, write the output half (where the slot is active).
                builder
                    .when(is_real.clone())
                    .assert_eq(active.clone() * read.clone(), select(&input_limb, k));
                builder
                    .when(is_real.clone())
                    .assert_eq(active.clone() * written.clone(), select(&output_limb, k));
            }
            let does_access = is_real.clone() * active;
            eval_access(
                builder,
                AccessExprs {
                    addr: [
                        ptr_lo.clone() + offset - carry.clone() * AB::Expr::from_u32(1 << 16),
                        ptr_hi.clone() + carry,
                    ],
                    value,
                    ts: ts.clone(),
                    is_real: does_access.clone(),
                    is_write: does_access,
                },
                &access,
            );
        }
    }
}

/// On a block's first row (`start`): `ptr = 4 a + 2^8 b + 2^16 c + 2^24 d` with `a < 64`, `b`,
/// `c` bytes and `d < 128` (so `ptr` is aligned and its limbs canonical), and the word index
/// `W = a + 2^6 b + 2^14 c + 2^22 d < 2^29` satisfies `W - MIN_PTR/4 = G` and
/// `MAX_PTR/4 - W = H` with `G, H < 2^29` as bytes: as `|W - MIN_PTR/4|, |MAX_PTR/4 - W| < p`,
/// both hold over the integers, so `MIN_PTR <= ptr <= MAX_PTR`.
fn eval_pointer_checks<AB: InteractionBuilder>(
    builder: &mut AB,
    local: &[AB::Var],
    start: AB::Expr,
) {
    use cols::*;
    let col = |i: usize| -> AB::Expr { local[i].into() };
    let c = |v: u32| AB::Expr::from_u32(v);
    let [a, b, cc, d] = core::array::from_fn(|i| col(PTR_PARTS + i));
    builder
        .when(start.clone())
        .assert_eq(col(PTR), a.clone() * c(4) + b.clone() * c(1 << 8));
    builder
        .when(start.clone())
        .assert_eq(col(PTR + 1), cc.clone() + d.clone() * c(1 << 8));
    eval_byte_pair(builder, a.clone(), a.clone() * c(4), start.clone());
    eval_byte_pair(builder, b.clone(), cc.clone(), start.clone());
    eval_byte_pair(builder, d.clone(), d.clone() * c(2), start.clone());
    let word = a + b * c(1 << 6) + cc * c(1 << 14) + d * c(1 << 22);
    for (base, gap) in [
        (GAP_BELOW, word.clone() - c(MIN_WORD)),
        (GAP_ABOVE, c(MAX_WORD) - word),
    ] {
        let g: [AB::Expr; 4] = core::array::from_fn(|i| col(base + i));
        let value = g[0].clone()
            + g[1].clone() * c(1 << 8)
            + g[2].clone() * c(1 << 16)
            + g[3].clone() * c(1 << 24);
        builder.when(start.clone()).assert_eq(gap, value);
        eval_byte_pair(builder, g[0].clone(), g[1].clone(), start.clone());
        eval_byte_pair(builder, g[2].clone(), g[3].clone() * c(8), start.clone());
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use p3_field::PrimeCharacteristicRing;
    use zkmips_abi::syscall::HALT;
    use zkmips_executor::{Executor, ExecutorConfig, Mode, Program};

    use super::*;
    use crate::batch::Table;
    use crate::chips::memory::{BoundaryEntry, boundary_cols};
    use crate::chips::testing::{
        SenderChip, TestAir, assert_rejected, lookups_balance, prove_and_verify,
    };
    use crate::chips::{ByteChip, MemoryBoundaryChip, ProgramChip};
    use crate::config::Challenge;
    use crate::config::Val;
    use crate::shard::executed_instructions;
    use p3_air::check_all_constraints;
    use p3_lookup::{Kind, Lookup, Lookups};

    /// Position of each chip in [`tables`] (the sender is first).
    const KECCAK: usize = 1;
    const BOUNDARY: usize = 2;
    const BYTE: usize = 3;

    const TEXT: u32 = 0x0040_0000;
    const DATA: u32 = 0x1000_ff00;
    /// The state straddles the 64 KiB boundary at `0x1001_0000`, so some addresses carry.
    const STATE: u32 = DATA + 0xa0;

    fn itype(op: u32, rs: u32, rt: u32, imm: u32) -> u32 {
        (op << 26) | (rs << 21) | (rt << 16) | (imm & 0xffff)
    }

    /// `$a0 = STATE`; KECCAK_PERMUTE twice; HALT with exit code 0.
    fn program() -> Program {
        const V0: u32 = 2;
        const A0: u32 = 4;
        const SYSCALL: u32 = 0x0000_000c;
        let lui = |rt, imm| itype(0x0f, 0, rt, imm);
        let ori = |rt, rs, imm| itype(0x0d, rs, rt, imm);
        let keccak = [
            lui(V0, KECCAK_PERMUTE >> 16),
            ori(V0, V0, KECCAK_PERMUTE),
            SYSCALL,
        ];
        let mut code = vec![lui(A0, STATE >> 16), ori(A0, A0, STATE)];
        code.extend(keccak);
        code.extend(keccak);
        code.extend([ori(A0, 0, 0), lui(V0, HALT >> 16), SYSCALL]);
        let data: Vec<u8> = (0..0x200u32).map(|i| (i * 37 + 11) as u8).collect();
        Program::from_code(TEXT, &code).with_data_segment(DATA, 0x200, &data)
    }

    /// The KECCAK_PERMUTE rows of a real traced run of [`program`].
    fn executor_rows() -> Vec<KeccakRow> {
        let program = program();
        let config = ExecutorConfig {
            max_cycles: Some(1_000),
            mode: Mode::Tracing,
            shard_cycles: 1 << 10,
            ..ExecutorConfig::default()
        };
        let mut executor = Executor::new(&program, config).unwrap();
        let report = executor.run().expect("the program runs");
        assert_eq!(report.exit_code, 0);
        let shards = report.record.expect("tracing mode keeps a record").shards;
        assert_eq!(shards.len(), 1);
        let executed = executed_instructions(&shards[0], &ProgramChip::new(&program).unwrap())
            .expect("the record pairs up");
        rows(&executed).expect("both calls are provable")
    }

    /// A call at cycle `clk` on `before` at `ptr`, the words untouched earlier in the shard.
    fn fresh_row(clk: u32, ptr: u32, before: [u64; LANES]) -> KeccakRow {
        let after = keccak_f(before);
        let timestamp = 8 * clk + 6;
        KeccakRow {
            clk,
            ptr,
            before,
            after,
            accesses: (0..WORDS)
                .map(|w| MemoryAccess {
                    addr: ptr.wrapping_add(4 * w as u32),
                    value: state_word(&after, w),
                    prev_value: state_word(&before, w),
                    prev_timestamp: 0,
                    timestamp,
                })
                .collect(),
        }
    }

    /// The memory boundary of exactly these accesses (each chain starts at time 0).
    fn boundary_of(rows: &[KeccakRow]) -> Vec<BoundaryEntry> {
        let mut entries: BTreeMap<u32, BoundaryEntry> = BTreeMap::new();
        for a in rows.iter().flat_map(|r| &r.accesses) {
            let entry = entries.entry(a.addr).or_insert(BoundaryEntry {
                addr: a.addr,
                init_value: a.prev_value,
                final_value: a.value,
                final_ts: a.timestamp,
            });
            entry.final_value = a.value;
            entry.final_ts = a.timestamp;
        }
        entries.into_values().collect()
    }

    /// `[Sender, Keccak, MemoryBoundary, Byte]`: the sender sends `sends`, the chip proves
    /// `rows` as given (unchecked), the boundary closes the rows' accesses.
    fn tables_with(
        rows: &[KeccakRow],
        sends: &[[u32; 3]],
        boundary: &[BoundaryEntry],
    ) -> Vec<Table<TestAir, Val>> {
        let mut bytes = ByteCounts::new();
        let keccak = KeccakChip::fill_trace::<Val>(rows, &mut bytes);
        let boundary = MemoryBoundaryChip
            .generate_trace(boundary, &mut bytes)
            .expect("boundary entries are well formed");
        let sender = SenderChip::new("keccak", crate::buses::KECCAK_MESSAGE_WIDTH);
        let messages: Vec<Vec<Val>> = sends
            .iter()
            .map(|m| m.iter().map(|&v| Val::from_u32(v)).collect())
            .collect();
        let table = |air, trace| Table {
            air,
            trace,
            public_values: vec![],
        };
        vec![
            table(TestAir::Sender(sender), sender.trace(&messages)),
            table(TestAir::Keccak(KeccakChip), keccak),
            table(TestAir::MemoryBoundary(MemoryBoundaryChip), boundary),
            table(TestAir::Byte(ByteChip), ByteChip.generate_trace(&bytes)),
        ]
    }

    fn tables(rows: &[KeccakRow]) -> Vec<Table<TestAir, Val>> {
        let sends: Vec<[u32; 3]> = rows.iter().map(message).collect();
        tables_with(rows, &sends, &boundary_of(rows))
    }

    fn honest_row() -> KeccakRow {
        let before = core::array::from_fn(|i| 0x0123_4567_89ab_cdef_u64.rotate_left(7 * i as u32));
        fresh_row(3, STATE, before)
    }

    /// What p3's debug checks flag in `tables`: the chips whose constraints fail and the buses
    /// that do not balance (`"bus:<name>"`).
    fn failures(tables: &[Table<TestAir, Val>]) -> Vec<String> {
        let mut failed: Vec<String> = tables
            .iter()
            .filter(|t| !check_all_constraints(&t.air, &t.trace, &t.public_values, Some(4)).is_ok())
            .map(|t| t.air.name().to_string())
            .collect();
        for bus in ["keccak", "memory", "byte"] {
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
            if !lookups_balance(tables, &lookups) {
                failed.push(format!("bus:{bus}"));
            }
        }
        failed
    }

    /// The batch is rejected (debug checks, prover, verifier), and the debug checks flag exactly
    /// `culprits` (chips whose constraints fail, then `"bus:<name>"`s).
    fn assert_rejected_by(tables: &[Table<TestAir, Val>], culprits: &[&str]) {
        assert_eq!(failures(tables), culprits, "the checks flag other failures");
        assert_rejected(tables);
    }

    /// Trace cell `col` of the row of round `round` of block `block`.
    fn cell(block: usize, round: usize, col: usize) -> usize {
        (block * NUM_ROUNDS + round) * cols::WIDTH + col
    }

    /// Where word `w` is accessed: `(round, slot)`.
    fn word_slot(w: usize) -> (usize, usize) {
        (w / SLOTS, w % SLOTS)
    }

    #[test]
    fn executor_run_of_two_permutations_verifies() {
        let rows = executor_rows();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[1].before, rows[0].after,
            "the second call permutes the first's output"
        );
        assert!(rows.iter().all(|r| r.ptr == STATE));
        assert!(rows[0].accesses.iter().all(|a| a.prev_timestamp == 0));
        let tables = tables(&rows);
        assert_eq!(tables[KECCAK].trace.values.len(), 64 * cols::WIDTH);
        // The checked trace generation agrees with the forging one on honest rows.
        let checked = KeccakChip
            .generate_trace::<Val>(&rows, &mut ByteCounts::new())
            .unwrap();
        assert_eq!(checked, tables[KECCAK].trace);
        prove_and_verify(&tables).expect("an honest run verifies");
    }

    /// keccak-f[1600] of the zero state, as published with the Keccak reference code: the AIR's
    /// own round-24 columns hold it.
    #[test]
    fn zero_state_matches_the_known_answer() {
        let row = fresh_row(1, 0x2000, [0; LANES]);
        assert_eq!(row.after[0], 0xf125_8f79_40e1_dde7);
        assert_eq!(row.after[1], 0x84d5_ccf9_33c0_478a);
        let tables = tables(std::slice::from_ref(&row));
        let trace = &tables[KECCAK].trace.values;
        let last = &trace[cell(0, NUM_ROUNDS - 1, 0)..cell(0, NUM_ROUNDS - 1, NUM_KECCAK_COLS)];
        let keccak: &KeccakCols<Val> = last.borrow();
        let lane = |x: usize| -> u64 {
            (0..4)
                .map(|limb| {
                    keccak.a_prime_prime_prime(0, x, limb).as_canonical_u64() << (16 * limb)
                })
                .sum()
        };
        assert_eq!(lane(0), 0xf125_8f79_40e1_dde7);
        assert_eq!(lane(1), 0x84d5_ccf9_33c0_478a);
        prove_and_verify(&tables).expect("the zero state verifies");
    }

    /// Every constraint (LogUp included) has degree at most 3: two quotient chunks at rate 1/2.
    #[test]
    fn constraint_degree_is_at_most_three() {
        let shape = crate::security::batch_shape::<Val, Challenge, _>(
            &[crate::chips::MipsAir::Keccak(KeccakChip)],
            &[5],
        );
        assert_eq!(shape.max_constraint_degree, 3);
        assert_eq!(shape.num_quotient_chunks, 2);
        assert_eq!(NUM_KECCAK_COLS, 2633);
        assert_eq!(cols::WIDTH, NUM_KECCAK_COLS + 146);
    }

    #[test]
    fn empty_chip_verifies() {
        let tables = tables(&[]);
        assert_eq!(tables[KECCAK].trace.values.len(), 4 * cols::WIDTH);
        prove_and_verify(&tables).expect("no calls verify");
    }

    #[test]
    fn trace_generation_refuses_bad_rows() {
        let refuses = |row: KeccakRow, what: &str| {
            let err = KeccakChip
                .generate_trace::<Val>(&[honest_row(), row], &mut ByteCounts::new())
                .unwrap_err();
            assert!(
                matches!(&err, TraceError::InvalidRow { row: 1, reason, .. } if reason.contains(what)),
                "{err}"
            );
        };
        let mut row = honest_row();
        row.after[4] ^= 1;
        refuses(row, "lanes say");
        let mut row = honest_row();
        row.after[4] ^= 1;
        row.accesses[8].value ^= 1;
        refuses(row, "not keccak-f");
        for ptr in [STATE + 2, 0xf00, MAX_PTR + 4, 0xffff_fff0] {
            refuses(fresh_row(3, ptr, [7; LANES]), "state pointer");
        }
        let mut row = honest_row();
        row.accesses[9].addr += 4;
        refuses(row, "state word 9");
        let mut row = honest_row();
        row.accesses.pop();
        refuses(row, "49 state word accesses");
        let mut row = honest_row();
        row.accesses[0].prev_timestamp = row.accesses[0].timestamp;
        refuses(row, "does not follow");
        assert!(MAX_PTR + 4 * WORDS as u32 == 0x8000_0000);
        KeccakChip
            .generate_trace::<Val>(&[fresh_row(3, MAX_PTR, [7; LANES])], &mut ByteCounts::new())
            .expect("the highest state fits");
    }

    /// The executor's record, doctored: the chip's `rows` refuses it.
    #[test]
    fn rows_refuse_an_inconsistent_record() {
        let program = program();
        let config = ExecutorConfig {
            max_cycles: Some(1_000),
            mode: Mode::Tracing,
            shard_cycles: 1 << 10,
            ..ExecutorConfig::default()
        };
        let mut executor = Executor::new(&program, config).unwrap();
        let report = executor.run().unwrap();
        let mut shard = report.record.unwrap().shards.pop().unwrap();
        shard.precompile[1].accesses[17].value ^= 0x100;
        let chip = ProgramChip::new(&program).unwrap();
        let executed = executed_instructions(&shard, &chip).unwrap();
        let err = rows(&executed).unwrap_err().to_string();
        assert!(
            err.contains("cycle 8") && err.contains("not keccak-f"),
            "{err}"
        );

        shard.precompile[1].accesses[17].value ^= 0x100;
        shard.precompile[1].accesses.swap_remove(3);
        let executed = executed_instructions(&shard, &chip).unwrap();
        let err = rows(&executed).unwrap_err();
        assert!(err.to_string().contains("is not accessed"), "{err}");
    }

    /// Output word 7 (high half of lane 3) changed in memory and in the chip's output columns:
    /// the output must be the last round's result.
    #[test]
    fn wrong_output_word_is_rejected() {
        let mut row = honest_row();
        row.after[3] ^= 1 << 40;
        row.accesses[7].value ^= 1 << 8;
        assert_rejected_by(&tables(&[row]), &["Keccak"]);
    }

    /// Lane 5's halves written to each other's words: the slots must write the right half.
    #[test]
    fn swapped_lane_halves_are_rejected() {
        let mut row = honest_row();
        let (lo, hi) = (row.accesses[10].value, row.accesses[11].value);
        row.accesses[10].value = hi;
        row.accesses[11].value = lo;
        assert_rejected_by(&tables(&[row]), &["Keccak"]);
    }

    /// Input word 4 read as another value than the permutation's input (memory consistent with
    /// the read): the slots must read the preimage.
    #[test]
    fn forged_input_word_is_rejected() {
        let mut row = honest_row();
        row.accesses[4].prev_value ^= 0x8000_0000;
        assert_rejected_by(&tables(&[row]), &["Keccak"]);
    }

    /// Memory without word 10's access: the chip cannot leave a word out (its slot's count is
    /// the round flag, not a free column).
    #[test]
    fn skipped_word_access_is_rejected() {
        let row = honest_row();
        let mut boundary = boundary_of(std::slice::from_ref(&row));
        boundary.retain(|e| e.addr != row.ptr + 40);
        let tables = tables_with(std::slice::from_ref(&row), &[message(&row)], &boundary);
        assert_rejected_by(&tables, &["bus:memory"]);
    }

    /// The chip works on the state 4 bytes further on than the syscall's pointer (memory
    /// consistent with what it did).
    #[test]
    fn state_at_the_wrong_address_is_rejected() {
        let row = honest_row();
        let shifted = fresh_row(row.clk, row.ptr + 4, row.before);
        let rows = [shifted];
        assert_rejected_by(
            &tables_with(&rows, &[message(&row)], &boundary_of(&rows)),
            &["bus:keccak"],
        );
    }

    /// One slot's carry flipped: its address limbs stop being canonical.
    #[test]
    fn flipped_address_carry_is_rejected() {
        let row = honest_row();
        // Word 40 is at 0x1001_0040, past the 64 KiB boundary: its carry is 1.
        let (round, slot) = word_slot(40);
        let carry = cell(0, round, cols::slot_col(slot, cols::slot::CARRY));
        let mut tables = tables(&[row]);
        assert_eq!(tables[KECCAK].trace.values[carry], Val::ONE);
        tables[KECCAK].trace.values[carry] = Val::ZERO;
        assert_rejected_by(&tables, &["bus:memory"]);
    }

    fn assert_pointer_rejected(ptr: u32) {
        let row = fresh_row(3, ptr, honest_row().before);
        assert_rejected_by(&tables(&[row]), &["bus:byte"]);
    }

    #[test]
    fn unaligned_pointer_is_rejected() {
        assert_pointer_rejected(STATE + 2);
    }

    /// Below 0x1000 the words could reach the register locations.
    #[test]
    fn pointer_below_the_null_guard_end_is_rejected() {
        assert_pointer_rejected(MIN_PTR - 4);
    }

    #[test]
    fn state_reaching_kernel_space_is_rejected() {
        assert_pointer_rejected(MAX_PTR + 4);
    }

    /// Two blocks proving the same (single) call.
    #[test]
    fn second_block_for_one_call_is_rejected() {
        let row = honest_row();
        let rows = [row.clone(), row.clone()];
        assert_rejected_by(
            &tables_with(&rows, &[message(&row)], &boundary_of(&rows[..1])),
            &["bus:keccak", "bus:memory"],
        );
    }

    /// Written word 0 as limbs `(lo + 2^16, hi - 1)` (same field value), the memory boundary
    /// consuming those limbs.
    #[test]
    fn non_canonical_written_limbs_are_rejected() {
        let row = honest_row();
        let mut tables = tables(std::slice::from_ref(&row));
        let value = cell(0, 0, cols::slot_col(0, cols::slot::VALUE));
        let shift = Val::from_u32(1 << 16);
        tables[KECCAK].trace.values[value] += shift;
        tables[KECCAK].trace.values[value + 1] -= Val::ONE;
        assert_ne!(row.accesses[0].value >> 16, 0, "the high limb can lend");
        // Word 0 has the lowest address: boundary row 0.
        let fin = boundary_cols::FINAL;
        tables[BOUNDARY].trace.values[fin] += shift;
        tables[BOUNDARY].trace.values[fin + 1] -= Val::ONE;
        assert_rejected_by(&tables, &["Keccak"]);
    }

    /// The trailing partial block (rounds 0..8 of a zero-state permutation) claimed real, as a
    /// call on a zero state writing a made-up output to words 0..24: consistent with memory, the
    /// bus and every per-row constraint, it never reaches the last round that would fix the
    /// output. Only "the last row is padding" stops it.
    #[test]
    fn real_partial_block_is_rejected() {
        let honest = honest_row();
        let mut forged = fresh_row(9, 0x3000, [0; LANES]);
        forged.after = [0x1111_2222_3333_4444; LANES];
        for (w, a) in forged.accesses.iter_mut().enumerate() {
            a.value = state_word(&forged.after, w);
        }
        let partial = 32 - NUM_ROUNDS;
        let touched = &forged.accesses[..SLOTS * partial];
        // Both calls as full blocks, cut to the 32 rows of the honest call's trace.
        let mut full = KeccakChip::fill_trace::<Val>(
            &[honest.clone(), forged.clone()],
            &mut ByteCounts::new(),
        );
        full.values.truncate(32 * cols::WIDTH);
        // The byte lookups of the rows kept.
        let mut bytes = ByteCounts::new();
        let mut scratch = vec![Val::ZERO; cols::WIDTH];
        KeccakChip::fill_trace::<Val>(std::slice::from_ref(&honest), &mut bytes);
        fill_pointer_checks(&mut scratch, forged.ptr, &mut bytes);
        for a in touched {
            fill_access(&mut scratch, a, &mut bytes);
        }
        let mut boundary = boundary_of(std::slice::from_ref(&honest));
        boundary.extend(touched.iter().map(|a| BoundaryEntry {
            addr: a.addr,
            init_value: a.prev_value,
            final_value: a.value,
            final_ts: a.timestamp,
        }));
        let mut tables = tables_with(&[], &[message(&honest), message(&forged)], &[]);
        tables[KECCAK].trace = full;
        tables[BOUNDARY].trace = MemoryBoundaryChip
            .generate_trace(&boundary, &mut bytes)
            .unwrap();
        tables[BYTE].trace = ByteChip.generate_trace(&bytes);
        assert_rejected_by(&tables, &["Keccak"]);
    }
}
