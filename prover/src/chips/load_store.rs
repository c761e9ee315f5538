//! `LoadStoreChip`: the integer loads and stores `LB`, `LBU`, `LH`, `LHU`, `LW`, `LWL`, `LWR`,
//! `LL`, `SB`, `SH`, `SW`, `SWL`, `SWR`, `SC`, bit for bit as the executor runs them.
//!
//! # Interface
//!
//! Each real row receives one [`MEM_INSTR_BUS`] message `[opcode, clk, rs, rt, result, imm]`
//! (words as 16-bit limbs, see [`message`]) with count `is_real`, and performs the instruction's
//! memory-word access at `8 clk + SLOT_MEM` and, for `LL`/`SC`, its LLbit access (location
//! [`REG_LLBIT`]) at `8 clk + SLOT_LLBIT`, both through the access helper
//! ([`super::memory::eval_access`]). The chip relies on the CPU for one fact: `clk` is an integer
//! below `2^23` (a row counter), so both timestamps are integers below `2^27` as the helper
//! requires. Everything else it receives is checked here: `rs` and `rt` are byte-decomposed and
//! range-checked, `imm` is taken as a 16-bit low half with a high half `0xffff · sign` (the
//! program table sign-extends load/store offsets; any other high half cannot match).
//!
//! # Design (60 columns, 16 byte lookups per row, degree 3)
//!
//! Address. `addr = rs + imm mod 2^32` is held as `addr = 4 q + off + 2^8 a1 + 2^16 a2 + 2^24 a3`
//! with a one-hot offset `off = 0..3` (`e_0..e_3`); the limb equations `rs_lo + imm_lo = addr_lo +
//! 2^16 c0`, `rs_hi + imm_hi + c0 = addr_hi + 2^16 c1` with boolean carries hold over the
//! integers (all terms are far below `p`), so the address is exactly the wrapped sum. Lookups
//! prove `q < 64` (`(q, 4q)` as a byte pair), `a1`, `a2` bytes and `a3 < 128` (`MSB(a3) = 0`),
//! hence `addr < 2^31 = USER_END`; `ge16 = [a1 >= 16]` comes from the `LTU(15, a1)` lookup, and
//! `(ge16 + a2 + a3) · inv = 1` proves `addr >= 2^12 = NULL_GUARD_END`. So the accessed word
//! `addr - off` is a user address: it can never alias a register-space location `0..=34` on the
//! memory bus. Alignment: `e_1 = e_2 = e_3 = 0` for word accesses, `e_1 = e_3 = 0` for halves.
//!
//! Data. `m_0..m_3` are the bytes of the word before the access (range-checked; they *are* the
//! helper's previous value), `t_0..t_3` those of `rt`. Every byte of the result and of the word
//! after the access is a fixed choice per opcode and offset among `m_i`, `t_i`, `0`, `255 s`
//! (`s` the loaded sign, from an `MSB` lookup on the sign byte) and the SC success bit: see
//! [`result_source`] / [`stored_source`], which encode the executor's little-endian lane rules
//! (including the LWL/LWR/SWL/SWR merges). As selections of proven bytes, the result and the new
//! word are canonical limbs without further lookups, and a store cannot touch bytes outside its
//! lanes (they are `m_i` by construction).
//!
//! LL/SC. LL writes 1 to LLbit; SC writes 0 and reads the old value `b` (`b` boolean, high limb
//! 0): SC's result is `b`, its memory access writes `rt` iff `b = 1`, otherwise it is a read.
//!
//! Not proven here: that a store does not hit an executable segment (`MemFault::WriteToCode`):
//! the code ranges are per program and this chip has no program data. The program table keeps
//! fetches apart from data memory, so such a store cannot change executed code, but a proof of
//! a run where the executor would have faulted is possible until that check is added.

use p3_air::{Air, BaseAir, PermutationAirBuilder, WindowAccess};
use p3_field::{Field, PrimeCharacteristicRing};
use p3_lookup::{Count, InteractionBuilder};
use p3_matrix::dense::RowMajorMatrix;
use zkmips_abi::layout::{NULL_GUARD_END, USER_END};
use zkmips_executor::events::{REG_LLBIT, SLOT_LLBIT, SLOT_MEM, SLOT_RS, SLOT_RT, SLOTS_PER_CYCLE};
use zkmips_executor::{MemoryAccess, Opcode};

use super::memory::{AccessExprs, MAX_TIMESTAMP, MemoryAccessCols, access_cols, eval_access};
use super::word::{eval_byte_pair, limbs, word_bytes};
use super::{ByteCounts, TraceError, padded_trace};
use crate::buses::{BYTE_BUS, ByteOp, MEM_INSTR_BUS, MEM_INSTR_MESSAGE_WIDTH, word_limbs};
use crate::shard::{ClassEvent, Executed};

// The address-range constraints hard-code these two bounds.
const _: () = assert!(NULL_GUARD_END == 1 << 12 && USER_END == 1 << 31);

/// The opcodes of the chip, in the order of their flag columns.
pub const OPCODES: [Opcode; 14] = [
    Opcode::Lb,
    Opcode::Lbu,
    Opcode::Lh,
    Opcode::Lhu,
    Opcode::Lw,
    Opcode::Lwl,
    Opcode::Lwr,
    Opcode::Ll,
    Opcode::Sb,
    Opcode::Sh,
    Opcode::Sw,
    Opcode::Swl,
    Opcode::Swr,
    Opcode::Sc,
];

pub(crate) mod cols {
    /// One flag per opcode of [`super::OPCODES`]; `is_real` is their sum.
    pub const FLAGS: usize = 0;
    /// Shard-local cycle (from the CPU).
    pub const CLK: usize = 14;
    /// Bytes of `rs`, `rt` (range-checked).
    pub const RS: usize = 15;
    pub const RT: usize = 19;
    /// Bytes of the immediate's low half (range-checked) and its sign (high half `0xffff sign`).
    pub const IMM: usize = 23;
    pub const IMM_SIGN: usize = 25;
    /// One-hot `addr mod 4`.
    pub const OFFSET: usize = 26;
    /// `(addr byte 0 - offset) / 4`, in `[0, 63]`.
    pub const WORD_Q: usize = 30;
    /// Address bytes 1, 2, 3.
    pub const ADDR1: usize = 31;
    pub const ADDR2: usize = 32;
    pub const ADDR3: usize = 33;
    /// `1` iff address byte 1 is at least 16.
    pub const GE16: usize = 34;
    /// Inverse of `ge16 + a2 + a3` (non-zero iff the address is at least `NULL_GUARD_END`).
    pub const HIGH_INV: usize = 35;
    /// Carries of the two limb additions.
    pub const CARRY: usize = 36;
    /// Bytes of the memory word before the access.
    pub const MEM: usize = 38;
    /// The word access's helper columns without its previous value (the bytes above are it):
    /// previous timestamp, then the 4 timestamp-difference bytes.
    pub const MEM_PREV_TS: usize = 42;
    pub const MEM_TS_DIFF: usize = 43;
    /// Limbs of the memory word after the access.
    pub const NEW: usize = 47;
    /// Limbs of the value written to `rt` (0 for plain stores).
    pub const RESULT: usize = 49;
    /// The byte whose top bit is the sign of LB/LH (0 for the other opcodes), and that bit.
    pub const SIGN_BYTE: usize = 51;
    pub const SIGN: usize = 52;
    /// The LLbit access's helper columns (`access_cols` layout); its previous value's low limb is
    /// SC's success bit.
    pub const LLBIT: usize = 53;
    pub const WIDTH: usize = LLBIT + super::access_cols::WIDTH;
}

/// Where a byte of the result or of the new memory word comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    /// Byte `i` of the memory word before the access.
    Mem(usize),
    /// Byte `i` of `rt`.
    Rt(usize),
    Zero,
    /// `255 s`: sign extension of LB/LH.
    SignFill,
    /// SC's success bit (the old LLbit).
    Success,
    /// SC's new memory byte `i`: `rt`'s if it succeeds, else unchanged.
    RtIfSuccess(usize),
}

/// Whether the lane choice of `op` depends on the address offset.
const fn uses_offset(op: Opcode) -> bool {
    use Opcode::*;
    matches!(op, Lb | Lbu | Lh | Lhu | Lwl | Lwr | Sb | Sh | Swl | Swr)
}

const fn is_store(op: Opcode) -> bool {
    use Opcode::*;
    matches!(op, Sb | Sh | Sw | Swl | Swr | Sc)
}

/// Access size the executor's alignment check uses (LWL/LWR/SWL/SWR take any address).
const fn alignment(op: Opcode) -> u32 {
    use Opcode::*;
    match op {
        Lw | Ll | Sw | Sc => 4,
        Lh | Lhu | Sh => 2,
        _ => 1,
    }
}

/// Byte `i` of the value `op` writes to `rt`, at offset `k` (little-endian, as the executor).
pub(crate) const fn result_source(op: Opcode, k: usize, i: usize) -> Source {
    use Opcode::*;
    match op {
        Lb | Lbu if i == 0 => Source::Mem(k),
        Lh | Lhu if i < 2 => {
            if k + i < 4 {
                Source::Mem(k + i)
            } else {
                Source::Zero
            }
        }
        Lb | Lh => Source::SignFill,
        Lw | Ll => Source::Mem(i),
        // (mem << 8 (3 - k)) | (old & low bytes below 3 - k)
        Lwl if i + k >= 3 => Source::Mem(i + k - 3),
        // (mem >> 8 k) | (old & bytes above 3 - k)
        Lwr if i + k <= 3 => Source::Mem(i + k),
        Lwl | Lwr => Source::Rt(i),
        Sc if i == 0 => Source::Success,
        _ => Source::Zero,
    }
}

/// Byte `i` of the memory word after `op` at offset `k`.
pub(crate) const fn stored_source(op: Opcode, k: usize, i: usize) -> Source {
    use Opcode::*;
    match op {
        Sb if i == k => Source::Rt(0),
        Sh if i == k || i == k + 1 => Source::Rt(i - k),
        Sw => Source::Rt(i),
        // (rt >> 8 (3 - k)) into bytes 0..=k
        Swl if i <= k => Source::Rt(i + 3 - k),
        // (rt << 8 k) into bytes k..=3
        Swr if i >= k => Source::Rt(i - k),
        Sc => Source::RtIfSuccess(i),
        _ => Source::Mem(i),
    }
}

/// Byte whose top bit LB/LH extend (`None` for the other opcodes), at offset `k`.
const fn sign_source(op: Opcode, k: usize) -> Option<usize> {
    match op {
        Opcode::Lb => Some(k),
        Opcode::Lh if k + 1 < 4 => Some(k + 1),
        _ => None,
    }
}

/// One load or store, as the chip proves it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoadStoreRow {
    pub opcode: Opcode,
    /// Shard-local cycle.
    pub clk: u32,
    /// For errors only: where the instruction is.
    pub pc: u32,
    pub word: u32,
    /// Base register value.
    pub rs: u32,
    /// `rt` as the CPU read it: the value stored, the old `rt` of LWL/LWR, 0 for other loads.
    pub rt: u32,
    /// The value written to `rt`: loaded (merged) value, SC's success flag, 0 for other stores.
    pub result: u32,
    /// The sign-extended offset.
    pub imm: u32,
    /// The access to the memory word at `8 clk + SLOT_MEM`.
    pub mem: MemoryAccess,
    /// LL/SC: the access to [`REG_LLBIT`] at `8 clk + SLOT_LLBIT`.
    pub llbit: Option<MemoryAccess>,
}

impl LoadStoreRow {
    /// The effective address `rs + imm mod 2^32`.
    pub fn addr(&self) -> u32 {
        self.rs.wrapping_add(self.imm)
    }
}

/// What `op` produces at `addr` from `rt`, the memory word `mem` and the LLbit `llbit`:
/// `(result, new memory word)`, as the executor computes them.
pub fn execute(op: Opcode, addr: u32, rt: u32, mem: u32, llbit: bool) -> (u32, u32) {
    use Opcode::*;
    let k = addr & 3;
    let byte = (mem >> (8 * k)) & 0xff;
    let half = (mem >> (8 * (k & 2))) & 0xffff;
    let low_mask = |bits: u32| {
        if bits >= 32 {
            u32::MAX
        } else {
            (1 << bits) - 1
        }
    };
    match op {
        Lb => (byte as u8 as i8 as u32, mem),
        Lbu => (byte, mem),
        Lh => (half as u16 as i16 as u32, mem),
        Lhu => (half, mem),
        Lw | Ll => (mem, mem),
        Lwl => {
            let shift = (3 - k) * 8;
            ((mem << shift) | (rt & low_mask(shift)), mem)
        }
        Lwr => {
            let shift = k * 8;
            ((mem >> shift) | (rt & !(u32::MAX >> shift)), mem)
        }
        Sb => (0, (mem & !(0xff << (8 * k))) | ((rt & 0xff) << (8 * k))),
        Sh => (0, (mem & !(0xffff << (8 * k))) | ((rt & 0xffff) << (8 * k))),
        Sw => (0, rt),
        Swl => {
            let shift = (3 - k) * 8;
            (0, (rt >> shift) | (mem & !(u32::MAX >> shift)))
        }
        Swr => {
            let shift = k * 8;
            (0, (rt << shift) | (mem & low_mask(shift)))
        }
        Sc if llbit => (1, rt),
        Sc => (0, mem),
        _ => (0, mem),
    }
}

/// The [`MEM_INSTR_BUS`] message of `row`, as the CPU sends it:
/// `[opcode, clk, rs_lo, rs_hi, rt_lo, rt_hi, result_lo, result_hi, imm_lo, imm_hi]`.
pub fn message(row: &LoadStoreRow) -> [u32; MEM_INSTR_MESSAGE_WIDTH] {
    let [rs_lo, rs_hi] = word_limbs(row.rs);
    let [rt_lo, rt_hi] = word_limbs(row.rt);
    let [result_lo, result_hi] = word_limbs(row.result);
    let [imm_lo, imm_hi] = word_limbs(row.imm);
    [
        row.opcode as u32,
        row.clk,
        rs_lo,
        rs_hi,
        rt_lo,
        rt_hi,
        result_lo,
        result_hi,
        imm_lo,
        imm_hi,
    ]
}

fn mem_timestamp(clk: u32) -> u64 {
    u64::from(clk) * SLOTS_PER_CYCLE + SLOT_MEM
}

fn llbit_timestamp(clk: u32) -> u64 {
    u64::from(clk) * SLOTS_PER_CYCLE + SLOT_LLBIT
}

/// Why `row` is not a correct execution of its instruction, if it is not.
fn check_row(row: &LoadStoreRow) -> Result<(), String> {
    let op = row.opcode;
    if !OPCODES.contains(&op) {
        return Err(format!("{op:?} is not a load or store"));
    }
    if llbit_timestamp(row.clk) >= u64::from(MAX_TIMESTAMP) {
        return Err(format!("cycle {} is too large for a shard", row.clk));
    }
    if row.imm != row.imm as u16 as i16 as u32 {
        return Err(format!(
            "offset {:#x} is not a sign-extended 16-bit value",
            row.imm
        ));
    }
    let addr = row.addr();
    if !addr.is_multiple_of(alignment(op)) {
        return Err(format!("address {addr:#010x} is misaligned for {op:?}"));
    }
    if !(NULL_GUARD_END..USER_END).contains(&addr) {
        return Err(format!("address {addr:#010x} is outside user memory"));
    }
    let mem = &row.mem;
    if mem.addr != addr & !3 || u64::from(mem.timestamp) != mem_timestamp(row.clk) {
        return Err(format!(
            "its memory access is to {:#010x} at {}, expected {:#010x} at {}",
            mem.addr,
            mem.timestamp,
            addr & !3,
            mem_timestamp(row.clk)
        ));
    }
    super::memory::check_access(0, mem).map_err(|e| e.to_string())?;
    let llbit = match (row.llbit, matches!(op, Opcode::Ll | Opcode::Sc)) {
        (None, false) => false,
        (Some(access), true) => {
            if access.addr != REG_LLBIT
                || u64::from(access.timestamp) != llbit_timestamp(row.clk)
                || access.prev_value > 1
                || access.value != u32::from(op == Opcode::Ll)
            {
                return Err(format!("its LLbit access {access:?} is not LL's or SC's"));
            }
            super::memory::check_access(0, &access).map_err(|e| e.to_string())?;
            access.prev_value == 1
        }
        (access, _) => return Err(format!("LLbit access {access:?} does not fit {op:?}")),
    };
    let (result, new) = execute(op, addr, row.rt, mem.prev_value, llbit);
    if (row.result, mem.value) != (result, new) {
        return Err(format!(
            "{op:?} at {addr:#010x} with rt {:#010x}, word {:#010x}: expected result {result:#010x} \
             and word {new:#010x}, the row has {:#010x} and {:#010x}",
            row.rt, mem.prev_value, row.result, mem.value
        ));
    }
    Ok(())
}

#[derive(Clone, Copy, Debug, Default)]
pub struct LoadStoreChip;

impl LoadStoreChip {
    pub const fn name(&self) -> &'static str {
        "LoadStore"
    }

    /// The rows of the loads and stores among `executed`, checked against the executor's
    /// semantics; an inconsistent record is an error naming the instruction.
    pub fn rows(executed: &[Executed]) -> Result<Vec<LoadStoreRow>, TraceError> {
        let name = LoadStoreChip.name();
        let mut rows = Vec::new();
        for e in executed {
            let ClassEvent::Memory(event) = e.event else {
                continue;
            };
            let op = e.instruction.opcode;
            if !OPCODES.contains(&op) || event.opcode != op {
                return Err(e.error(name, format!("memory event {event:?} for {op:?}")));
            }
            let reg_read = |slot: u64, reg: u8| {
                e.access(slot, u32::from(reg))
                    .map(|a| a.prev_value)
                    .ok_or_else(|| e.error(name, format!("no read of register {reg}")))
            };
            let rs = reg_read(SLOT_RS, e.instruction.rs)?;
            let rt = if is_store(op) || matches!(op, Opcode::Lwl | Opcode::Lwr) {
                reg_read(SLOT_RT, e.instruction.rt)?
            } else {
                0
            };
            let mem = *e.access(SLOT_MEM, event.addr & !3).ok_or_else(|| {
                e.error(
                    name,
                    format!("no access to the word at {:#010x}", event.addr & !3),
                )
            })?;
            let llbit = match op {
                Opcode::Ll | Opcode::Sc => Some(
                    *e.access(SLOT_LLBIT, REG_LLBIT)
                        .ok_or_else(|| e.error(name, "no LLbit access"))?,
                ),
                _ => None,
            };
            let result = match op {
                Opcode::Sb | Opcode::Sh | Opcode::Sw | Opcode::Swl | Opcode::Swr => 0,
                _ => event.reg_value,
            };
            let row = LoadStoreRow {
                opcode: op,
                clk: e.clk,
                pc: e.pc,
                word: e.instruction.word,
                rs,
                rt,
                result,
                imm: e.instruction.imm,
                mem,
                llbit,
            };
            if row.addr() != event.addr {
                return Err(e.error(
                    name,
                    format!(
                        "address {:#010x}, the event says {:#010x}",
                        row.addr(),
                        event.addr
                    ),
                ));
            }
            check_row(&row).map_err(|reason| e.error(name, reason))?;
            rows.push(row);
        }
        Ok(rows)
    }

    /// The trace for `rows`, recording its byte lookups. Fails, before recording anything, on
    /// a row that is not a correct execution of its instruction.
    pub fn generate_trace<F: Field>(
        &self,
        rows: &[LoadStoreRow],
        bytes: &mut ByteCounts,
    ) -> Result<RowMajorMatrix<F>, TraceError> {
        for row in rows {
            check_row(row).map_err(|reason| TraceError::Instruction {
                chip: self.name(),
                clk: row.clk,
                pc: row.pc,
                word: row.word,
                reason,
            })?;
        }
        Ok(Self::fill_trace(rows, bytes, |_, _| {}))
    }

    /// Fills the trace from `rows` unchecked, each row's cells as integers passed through
    /// `tamper` before the byte lookups are recorded from them (tests forge witnesses with it;
    /// lookups are recorded only for entries that are in the table).
    pub(crate) fn fill_trace<F: Field>(
        rows: &[LoadStoreRow],
        bytes: &mut ByteCounts,
        tamper: impl Fn(usize, &mut [i64]),
    ) -> RowMajorMatrix<F> {
        padded_trace(rows, cols::WIDTH, |index, row, out| {
            let mut cells = witness(row);
            tamper(index, &mut cells);
            record_lookups(&cells, bytes);
            for (cell, &value) in out.iter_mut().zip(&cells) {
                *cell = F::from_i64(value);
            }
            let high = cells[cols::GE16] + cells[cols::ADDR2] + cells[cols::ADDR3];
            out[cols::HIGH_INV] = F::from_i64(high).try_inverse().unwrap_or(F::ZERO);
        })
    }
}

/// The honest cells of `row` as integers (the inverse column is filled from them later).
fn witness(row: &LoadStoreRow) -> [i64; cols::WIDTH] {
    use cols::*;
    let mut c = [0i64; WIDTH];
    let Some(flag) = OPCODES.iter().position(|&op| op == row.opcode) else {
        return c;
    };
    c[FLAGS + flag] = 1;
    c[CLK] = i64::from(row.clk);
    let put_bytes = |c: &mut [i64; WIDTH], base: usize, word: u32, n: usize| {
        for (i, b) in word_bytes(word).into_iter().take(n).enumerate() {
            c[base + i] = i64::from(b);
        }
    };
    put_bytes(&mut c, RS, row.rs, 4);
    put_bytes(&mut c, RT, row.rt, 4);
    put_bytes(&mut c, IMM, row.imm, 2);
    c[IMM_SIGN] = i64::from(row.imm >> 31);
    let addr = row.addr();
    let a = word_bytes(addr).map(i64::from);
    let k = (addr & 3) as usize;
    c[OFFSET + k] = 1;
    c[WORD_Q] = a[0] >> 2;
    c[ADDR1] = a[1];
    c[ADDR2] = a[2];
    c[ADDR3] = a[3];
    c[GE16] = i64::from(a[1] >= 16);
    let [rs_lo, rs_hi] = word_limbs(row.rs).map(i64::from);
    let [imm_lo, imm_hi] = word_limbs(row.imm).map(i64::from);
    c[CARRY] = (rs_lo + imm_lo) >> 16;
    c[CARRY + 1] = (rs_hi + imm_hi + c[CARRY]) >> 16;
    put_bytes(&mut c, MEM, row.mem.prev_value, 4);
    fill_access_cells(&mut c[MEM_PREV_TS..MEM_PREV_TS + 5], &row.mem);
    let [new_lo, new_hi] = word_limbs(row.mem.value).map(i64::from);
    c[NEW] = new_lo;
    c[NEW + 1] = new_hi;
    let [res_lo, res_hi] = word_limbs(row.result).map(i64::from);
    c[RESULT] = res_lo;
    c[RESULT + 1] = res_hi;
    if let Some(i) = sign_source(row.opcode, k) {
        let sign_byte = i64::from(word_bytes(row.mem.prev_value)[i]);
        c[SIGN_BYTE] = sign_byte;
        c[SIGN] = sign_byte >> 7;
    }
    if let Some(llbit) = &row.llbit {
        let [lo, hi] = word_limbs(llbit.prev_value).map(i64::from);
        c[LLBIT + access_cols::PREV_VALUE] = lo;
        c[LLBIT + access_cols::PREV_VALUE + 1] = hi;
        fill_access_cells(&mut c[LLBIT + access_cols::PREV_TS..WIDTH], llbit);
    }
    c
}

/// The helper's previous timestamp and timestamp-difference bytes of `access` (`ts - prev_ts -
/// 1` reduced to 27 bits, as the helper's own filler does).
fn fill_access_cells(out: &mut [i64], access: &MemoryAccess) {
    out[0] = i64::from(access.prev_timestamp);
    let diff = access
        .timestamp
        .wrapping_sub(access.prev_timestamp)
        .wrapping_sub(1)
        & (MAX_TIMESTAMP - 1);
    for (cell, byte) in out[1..5].iter_mut().zip(word_bytes(diff)) {
        *cell = i64::from(byte);
    }
}

/// Every byte lookup of the AIR for one row, in the same order: `(op, x, y, z, count column
/// set)`. `z` is what the AIR claims.
fn lookups(c: &[i64]) -> Vec<(ByteOp, i64, i64, i64, bool)> {
    use cols::*;
    let pair = |x: i64, y: i64| (ByteOp::RangePair, x, y, 0, false);
    let mut all = vec![
        pair(c[RS], c[RS + 1]),
        pair(c[RS + 2], c[RS + 3]),
        pair(c[RT], c[RT + 1]),
        pair(c[RT + 2], c[RT + 3]),
        pair(c[IMM], c[IMM + 1]),
        pair(c[WORD_Q], 4 * c[WORD_Q]),
        (ByteOp::Ltu, 15, c[ADDR1], c[GE16], false),
        (ByteOp::Msb, c[ADDR3], 0, 0, false),
        pair(c[ADDR2], 0),
        pair(c[MEM], c[MEM + 1]),
        pair(c[MEM + 2], c[MEM + 3]),
        pair(c[MEM_TS_DIFF], c[MEM_TS_DIFF + 1]),
        pair(c[MEM_TS_DIFF + 2], 32 * c[MEM_TS_DIFF + 3]),
        (ByteOp::Msb, c[SIGN_BYTE], 0, c[SIGN], false),
    ];
    let ll_diff = LLBIT + access_cols::TS_DIFF;
    all.push((ByteOp::RangePair, c[ll_diff], c[ll_diff + 1], 0, true));
    all.push((
        ByteOp::RangePair,
        c[ll_diff + 2],
        32 * c[ll_diff + 3],
        0,
        true,
    ));
    all
}

/// Records the lookups of [`lookups`] that the row makes (count 1) and that are in the table.
fn record_lookups(c: &[i64], bytes: &mut ByteCounts) {
    let flag = |op: Opcode| c[cols::FLAGS + OPCODES.iter().position(|&o| o == op).unwrap()];
    let is_real: i64 = (0..OPCODES.len()).map(|i| c[cols::FLAGS + i]).sum();
    let is_llsc = flag(Opcode::Ll) + flag(Opcode::Sc);
    for (op, x, y, z, llbit_only) in lookups(c) {
        let count = if llbit_only { is_llsc } else { is_real };
        let (Ok(x), Ok(y)) = (u8::try_from(x), u8::try_from(y)) else {
            continue;
        };
        if count == 1 && i64::from(op.apply(x, y)) == z {
            bytes.record(op, x, y);
        }
    }
}

impl<F: Field> BaseAir<F> for LoadStoreChip {
    fn width(&self) -> usize {
        cols::WIDTH
    }

    fn main_next_row_columns(&self) -> Vec<usize> {
        vec![]
    }
}

impl<AB: PermutationAirBuilder + InteractionBuilder> Air<AB> for LoadStoreChip {
    fn eval(&self, builder: &mut AB) {
        use cols::*;
        let main = builder.main();
        let local: Vec<AB::Expr> = main.current_slice().iter().map(|&v| v.into()).collect();
        let col = |i: usize| local[i].clone();
        let f = |v: u32| AB::Expr::from_u32(v);
        let flag = |op: Opcode| col(FLAGS + OPCODES.iter().position(|&o| o == op).unwrap());
        let bytes_at = |base: usize| -> [AB::Expr; 4] { core::array::from_fn(|i| col(base + i)) };

        // One-hot opcode: `is_real` is boolean and selects exactly one opcode on a real row.
        for i in 0..OPCODES.len() {
            builder.assert_bool(col(FLAGS + i));
        }
        let is_real: AB::Expr = (0..OPCODES.len()).map(|i| col(FLAGS + i)).sum();
        builder.assert_bool(is_real.clone());
        let opcode: AB::Expr = OPCODES
            .iter()
            .map(|&op| flag(op) * AB::Expr::from_u8(op as u8))
            .sum();
        let any = |ops: &[Opcode]| -> AB::Expr { ops.iter().map(|&op| flag(op)).sum() };

        // Offset: one-hot, all zero on padding rows; alignment per access size.
        let e = bytes_at(OFFSET);
        for k in &e {
            builder.assert_bool(k.clone());
        }
        let e_sum: AB::Expr = e.iter().cloned().sum();
        builder.assert_eq(e_sum, is_real.clone());
        let words = any(&[Opcode::Lw, Opcode::Ll, Opcode::Sw, Opcode::Sc]);
        let halves = any(&[Opcode::Lh, Opcode::Lhu, Opcode::Sh]);
        builder.assert_zero(words * (e[1].clone() + e[2].clone() + e[3].clone()));
        builder.assert_zero(halves * (e[1].clone() + e[3].clone()));

        // Effective address = rs + imm (mod 2^32), limb by limb with boolean carries.
        let rs = bytes_at(RS);
        let rt = bytes_at(RT);
        let [rs_lo, rs_hi] = limbs(&rs);
        let imm_lo = col(IMM) + col(IMM + 1) * f(256);
        let imm_sign = col(IMM_SIGN);
        builder.assert_bool(imm_sign.clone());
        let imm_hi = imm_sign * f(0xffff);
        let offset = e[1].clone() + e[2].clone() * f(2) + e[3].clone() * f(3);
        let word_lo = col(WORD_Q) * f(4) + col(ADDR1) * f(256);
        let addr_hi = col(ADDR2) + col(ADDR3) * f(256);
        let [c0, c1] = [col(CARRY), col(CARRY + 1)];
        builder.assert_bool(c0.clone());
        builder.assert_bool(c1.clone());
        builder.assert_eq(
            rs_lo.clone() + imm_lo.clone(),
            word_lo.clone() + offset + c0.clone() * f(1 << 16),
        );
        builder.assert_eq(
            rs_hi.clone() + imm_hi.clone() + c0,
            addr_hi.clone() + c1 * f(1 << 16),
        );
        // addr >= NULL_GUARD_END: one of a1 >= 16, a2, a3 is non-zero (all are non-negative).
        let high = col(GE16) + col(ADDR2) + col(ADDR3);
        builder.assert_eq(high * col(HIGH_INV), is_real.clone());

        // Sign of LB/LH: the sign byte is the selected memory byte (0 for other opcodes).
        let mem = bytes_at(MEM);
        let mut sign_byte = AB::Expr::ZERO;
        for op in [Opcode::Lb, Opcode::Lh] {
            let mut selected = AB::Expr::ZERO;
            for (k, ek) in e.iter().enumerate() {
                if let Some(i) = sign_source(op, k) {
                    selected += ek.clone() * mem[i].clone();
                }
            }
            sign_byte += flag(op) * selected;
        }
        builder.assert_eq(col(SIGN_BYTE), sign_byte);

        // Result and new memory word, byte by byte from their sources.
        let ll_prev = [
            col(LLBIT + access_cols::PREV_VALUE),
            col(LLBIT + access_cols::PREV_VALUE + 1),
        ];
        let success = ll_prev[0].clone();
        builder.assert_bool(success.clone());
        builder.assert_zero(flag(Opcode::Sc) * ll_prev[1].clone());
        let value_of = |source: Source| -> AB::Expr {
            match source {
                Source::Mem(i) => mem[i].clone(),
                Source::Rt(i) => rt[i].clone(),
                Source::Zero => AB::Expr::ZERO,
                Source::SignFill => col(SIGN) * f(255),
                Source::Success => success.clone(),
                Source::RtIfSuccess(i) => {
                    mem[i].clone() + success.clone() * (rt[i].clone() - mem[i].clone())
                }
            }
        };
        let select = |op: Opcode, source: fn(Opcode, usize, usize) -> Source, i: usize| {
            if uses_offset(op) {
                e.iter()
                    .enumerate()
                    .map(|(k, ek)| ek.clone() * value_of(source(op, k, i)))
                    .sum()
            } else {
                value_of(source(op, 0, i))
            }
        };
        let limb_of = |source: fn(Opcode, usize, usize) -> Source, limb: usize| -> AB::Expr {
            OPCODES
                .iter()
                .map(|&op| {
                    flag(op)
                        * (select(op, source, 2 * limb) + select(op, source, 2 * limb + 1) * f(256))
                })
                .sum()
        };
        for limb in 0..2 {
            builder.assert_eq(col(RESULT + limb), limb_of(result_source, limb));
            builder.assert_eq(col(NEW + limb), limb_of(stored_source, limb));
        }

        // Range checks and table lookups (mirrored by `lookups`).
        let lookup = |builder: &mut AB, op: ByteOp, x: AB::Expr, y: AB::Expr, z: AB::Expr| {
            BYTE_BUS.lookup_key(
                builder,
                [AB::Expr::from_u8(op as u8), x, y, z],
                Count::bounded(is_real.clone(), 1),
            );
        };
        let range = |builder: &mut AB, x: AB::Expr, y: AB::Expr| {
            eval_byte_pair(builder, x, y, is_real.clone());
        };
        range(builder, rs[0].clone(), rs[1].clone());
        range(builder, rs[2].clone(), rs[3].clone());
        range(builder, rt[0].clone(), rt[1].clone());
        range(builder, rt[2].clone(), rt[3].clone());
        range(builder, col(IMM), col(IMM + 1));
        range(builder, col(WORD_Q), col(WORD_Q) * f(4));
        lookup(builder, ByteOp::Ltu, f(15), col(ADDR1), col(GE16));
        lookup(builder, ByteOp::Msb, col(ADDR3), f(0), f(0));
        range(builder, col(ADDR2), f(0));
        range(builder, mem[0].clone(), mem[1].clone());
        range(builder, mem[2].clone(), mem[3].clone());

        // The memory word access (its byte lookups come next, inside the helper).
        let clk = col(CLK);
        let ts = |slot: u64| clk.clone() * f(SLOTS_PER_CYCLE as u32) + f(slot as u32);
        let stores = any(&[Opcode::Sb, Opcode::Sh, Opcode::Sw, Opcode::Swl, Opcode::Swr]);
        let mem_cols = MemoryAccessCols {
            prev_value: limbs(&mem),
            prev_ts: col(MEM_PREV_TS),
            ts_diff: bytes_at(MEM_TS_DIFF),
        };
        eval_access(
            builder,
            AccessExprs {
                addr: [word_lo, addr_hi],
                value: [col(NEW), col(NEW + 1)],
                ts: ts(SLOT_MEM),
                is_real: is_real.clone(),
                is_write: stores + flag(Opcode::Sc) * success,
            },
            &mem_cols,
        );
        lookup(builder, ByteOp::Msb, col(SIGN_BYTE), f(0), col(SIGN));

        // LLbit: LL writes 1, SC writes 0 (and read the old bit above).
        let is_llsc = flag(Opcode::Ll) + flag(Opcode::Sc);
        eval_access(
            builder,
            AccessExprs {
                addr: [f(REG_LLBIT), AB::Expr::ZERO],
                value: [flag(Opcode::Ll), AB::Expr::ZERO],
                ts: ts(SLOT_LLBIT),
                is_real: is_llsc.clone(),
                is_write: is_llsc,
            },
            &MemoryAccessCols::from_slice(&local[LLBIT..]),
        );

        MEM_INSTR_BUS.receive(
            builder,
            [
                opcode,
                clk,
                rs_lo,
                rs_hi,
                rt[0].clone() + rt[1].clone() * f(256),
                rt[2].clone() + rt[3].clone() * f(256),
                col(RESULT),
                col(RESULT + 1),
                imm_lo,
                imm_hi,
            ],
            Count::bounded(is_real, 1),
        );
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use p3_field::PrimeCharacteristicRing;
    use zkmips_abi::syscall::HALT;
    use zkmips_executor::{Executor, ExecutorConfig, Mode, Program};

    use super::*;
    use crate::batch::Table;
    use crate::chips::memory::BoundaryEntry;
    use crate::chips::testing::prove_and_verify;
    use crate::chips::testing::{SenderChip, TestAir, assert_rejected, debug_check};
    use crate::chips::{ByteChip, MemoryBoundaryChip, ProgramChip};
    use crate::config::Val;
    use crate::shard::executed_instructions;

    const SENDER: usize = 0;
    const CHIP: usize = 1;

    /// The boundary of the locations `rows` access, each opened before the rows (local time 0)
    /// with the value its first access found and closed after its last access; accesses for
    /// which `skip(row, access)` holds are left out of the chains.
    fn boundary(
        rows: &[LoadStoreRow],
        skip: impl Fn(usize, &MemoryAccess) -> bool,
    ) -> Vec<BoundaryEntry> {
        let mut entries: BTreeMap<u32, BoundaryEntry> = BTreeMap::new();
        for (index, row) in rows.iter().enumerate() {
            for access in [Some(row.mem), row.llbit].into_iter().flatten() {
                if skip(index, &access) {
                    continue;
                }
                let entry = entries.entry(access.addr).or_insert_with(|| {
                    assert_eq!(access.prev_timestamp, 0, "first access {access:?}");
                    BoundaryEntry {
                        addr: access.addr,
                        init_value: access.prev_value,
                        final_value: 0,
                        final_ts: 0,
                    }
                });
                entry.final_value = access.value;
                entry.final_ts = access.timestamp;
            }
        }
        entries.into_values().collect()
    }

    /// `[Sender (the CPU's messages), LoadStore, MemoryBoundary, Byte]`, the chip filled from
    /// `rows` unchecked with each row's cells passed through `tamper`.
    fn tables_with(
        rows: &[LoadStoreRow],
        boundary: &[BoundaryEntry],
        tamper: impl Fn(usize, &mut [i64]),
    ) -> Vec<Table<TestAir, Val>> {
        let mut bytes = ByteCounts::new();
        let chip = LoadStoreChip::fill_trace(rows, &mut bytes, tamper);
        let boundary = MemoryBoundaryChip
            .generate_trace(boundary, &mut bytes)
            .expect("test boundaries are consistent");
        let sender = SenderChip::new("mem_instr", MEM_INSTR_MESSAGE_WIDTH);
        let messages: Vec<Vec<Val>> = rows
            .iter()
            .map(|row| message(row).map(Val::from_u32).to_vec())
            .collect();
        let table = |air, trace| Table {
            air,
            trace,
            public_values: vec![],
        };
        vec![
            table(TestAir::Sender(sender), sender.trace(&messages)),
            table(TestAir::LoadStore(LoadStoreChip), chip),
            table(TestAir::MemoryBoundary(MemoryBoundaryChip), boundary),
            table(TestAir::Byte(ByteChip), ByteChip.generate_trace(&bytes)),
        ]
    }

    /// The batch for `rows` (unchecked) with their own chains.
    fn forged_tables(rows: &[LoadStoreRow]) -> Vec<Table<TestAir, Val>> {
        tables_with(rows, &boundary(rows, |_, _| false), |_, _| {})
    }

    /// The batch through the checked trace generation.
    fn honest_tables(rows: &[LoadStoreRow]) -> Vec<Table<TestAir, Val>> {
        let mut bytes = ByteCounts::new();
        LoadStoreChip
            .generate_trace::<Val>(rows, &mut bytes)
            .expect("honest rows");
        forged_tables(rows)
    }

    /// Rejected, and first flagged by a constraint of this chip (`by_constraint`) or by a bus.
    fn assert_caught(tables: &[Table<TestAir, Val>], by_constraint: bool) {
        let err = debug_check(tables).expect_err("the debug checks must flag the batch");
        if by_constraint {
            assert!(err.starts_with("LoadStore: constraint"), "{err}");
        } else {
            assert!(err.contains("bus imbalance"), "{err}");
        }
        assert_rejected(tables);
    }

    fn initial_word(addr: u32) -> u32 {
        // Bytes 0x80, 0x7f, 0xff, 0x00 in every word, rotated by a byte per word: sign edge
        // cases in every lane and both halves.
        0x00ff_7f80u32.rotate_left((addr & 0xc) << 1)
    }

    /// A reference machine for hand-made rows: memory, LLbit and their last access times.
    struct Sim {
        mem: HashMap<u32, (u32, u32)>,
        llbit: (u32, u32),
        clk: u32,
        rows: Vec<LoadStoreRow>,
    }

    impl Sim {
        fn new() -> Self {
            Self {
                mem: HashMap::new(),
                llbit: (0, 0),
                clk: 0,
                rows: Vec::new(),
            }
        }

        /// Runs `op` on `rs + imm` with no fault checks (so tests can build forbidden rows) and
        /// returns the index of its row.
        fn run(&mut self, op: Opcode, rs: u32, rt: u32, imm: i16) -> usize {
            self.clk += 1;
            let imm = imm as i32 as u32;
            let addr = rs.wrapping_add(imm);
            let word = addr & !3;
            let (prev, prev_ts) = *self.mem.get(&word).unwrap_or(&(initial_word(word), 0));
            let (result, new) = execute(op, addr, rt, prev, self.llbit.0 == 1);
            let timestamp = 8 * self.clk + 4;
            self.mem.insert(word, (new, timestamp));
            let mem = MemoryAccess {
                addr: word,
                value: new,
                prev_value: prev,
                prev_timestamp: prev_ts,
                timestamp,
            };
            let llbit = matches!(op, Opcode::Ll | Opcode::Sc).then(|| {
                let value = u32::from(op == Opcode::Ll);
                let access = MemoryAccess {
                    addr: REG_LLBIT,
                    value,
                    prev_value: self.llbit.0,
                    prev_timestamp: self.llbit.1,
                    timestamp: 8 * self.clk + 7,
                };
                self.llbit = (value, access.timestamp);
                access
            });
            let reads_rt = is_store(op) || matches!(op, Opcode::Lwl | Opcode::Lwr);
            self.rows.push(LoadStoreRow {
                opcode: op,
                clk: self.clk,
                pc: 0x0040_0000 + 4 * self.clk,
                word: 0,
                rs,
                rt: if reads_rt { rt } else { 0 },
                result,
                imm,
                mem,
                llbit,
            });
            self.rows.len() - 1
        }
    }

    const DATA: u32 = 0x1000_0000;

    /// Every opcode at every offset it allows (sign edge cases in every lane), LL/SC success and
    /// failure, a negative offset and both ends of user memory, through the reference machine.
    fn sim_rows() -> Vec<LoadStoreRow> {
        use Opcode::*;
        let mut sim = Sim::new();
        for k in 0..8 {
            for op in [Lb, Lbu, Lwl, Lwr] {
                sim.run(op, DATA, 0x1122_3344, k);
            }
        }
        for k in [0, 2, 4, 6] {
            for op in [Lh, Lhu] {
                sim.run(op, DATA, 0, k);
            }
        }
        sim.run(Lw, DATA, 0, 4);
        for k in 0..4 {
            for op in [Sb, Swl, Swr] {
                sim.run(op, DATA + 0x40, 0xc1c2_c3c4 + k as u32, 4 * k + k);
            }
        }
        sim.run(Sh, DATA + 0x80, 0xd1d2_d3d4, 0);
        sim.run(Sh, DATA + 0x80, 0xe1e2_e3e4, 2);
        sim.run(Sw, DATA + 0x90, 0xf1f2_f3f4, -4);
        sim.run(Sc, DATA + 0xa0, 0x55, 0); // no LL: fails
        sim.run(Ll, DATA + 0xa0, 0, 0);
        sim.run(Sc, DATA + 0xa0, 0x66, 0); // succeeds
        sim.run(Sc, DATA + 0xa0, 0x77, 0); // after an SC: fails
        sim.run(Lw, 0xffff_a000, 0, 0x7000); // wraps to NULL_GUARD_END
        sim.run(Lbu, 0x7fff_fff0, 0, 0xf); // the last user byte
        sim.rows
    }

    #[test]
    fn every_opcode_at_every_offset_verifies() {
        let rows = sim_rows();
        for op in OPCODES {
            assert!(rows.iter().any(|r| r.opcode == op), "{op:?}");
        }
        prove_and_verify(&honest_tables(&rows)).expect("honest batch must verify");
    }

    /// Every constraint (LogUp included) has degree at most 3: two quotient chunks at rate 1/2.
    #[test]
    fn constraint_degree_is_at_most_three() {
        use crate::chips::MipsAir;
        use crate::config::Challenge;
        let shape = crate::security::batch_shape::<Val, Challenge, _>(
            &[MipsAir::LoadStore(LoadStoreChip)],
            &[8],
        );
        assert_eq!(shape.max_constraint_degree, 3);
        assert!(shape.num_quotient_chunks <= 2);
    }

    #[test]
    fn empty_chip_verifies() {
        prove_and_verify(&honest_tables(&[])).expect("an empty batch verifies");
    }

    mod asm {
        pub const ZERO: u32 = 0;
        pub const V0: u32 = 2;
        pub const A0: u32 = 4;
        pub const T0: u32 = 8;
        pub const T1: u32 = 9;
        pub const T2: u32 = 10;
        pub const T3: u32 = 11;
        pub const T4: u32 = 12;
        pub const S0: u32 = 16;
        pub const S1: u32 = 17;
        pub const S2: u32 = 18;
        pub const S3: u32 = 19;

        pub fn itype(op: u32, rs: u32, rt: u32, imm: i32) -> u32 {
            (op << 26) | (rs << 21) | (rt << 16) | (imm as u32 & 0xffff)
        }
        pub fn li(rt: u32, value: u32) -> [u32; 2] {
            [
                itype(0x0f, 0, rt, (value >> 16) as i32),
                itype(0x0d, rt, rt, (value & 0xffff) as i32),
            ]
        }
        pub fn addiu(rt: u32, rs: u32, imm: i32) -> u32 {
            itype(0x09, rs, rt, imm)
        }
        pub fn mv(rd: u32, rs: u32) -> u32 {
            (rs << 21) | (rd << 11) | 0x21
        }
        pub const LB: u32 = 0x20;
        pub const LH: u32 = 0x21;
        pub const LWL: u32 = 0x22;
        pub const LW: u32 = 0x23;
        pub const LBU: u32 = 0x24;
        pub const LHU: u32 = 0x25;
        pub const LWR: u32 = 0x26;
        pub const SB: u32 = 0x28;
        pub const SH: u32 = 0x29;
        pub const SWL: u32 = 0x2a;
        pub const SW: u32 = 0x2b;
        pub const SWR: u32 = 0x2e;
        pub const LL: u32 = 0x30;
        pub const SC: u32 = 0x38;
        pub const SYSCALL: u32 = 0x0000_000c;
    }

    /// A program running every load and store at every offset it allows, LL/SC success and
    /// failure, negative offsets and both ends of user memory.
    fn executor_program() -> Program {
        use asm::*;
        let mut w = Vec::new();
        w.extend(li(S0, DATA));
        w.extend(li(T1, 0x1122_3344));
        w.extend(li(T3, 0xc1c2_c3c4));
        for k in 0..8 {
            w.extend([itype(LB, S0, T0, k), itype(LBU, S0, T0, k)]);
            w.extend([mv(T2, T1), itype(LWL, S0, T2, k)]);
            w.extend([mv(T2, T1), itype(LWR, S0, T2, k)]);
        }
        for k in [0, 2, 4, 6] {
            w.extend([itype(LH, S0, T0, k), itype(LHU, S0, T0, k)]);
        }
        w.extend([itype(LW, S0, T0, 0), itype(LW, S0, T0, 4)]);
        for k in 0..4 {
            w.push(itype(SB, S0, T3, 8 + k));
            w.push(itype(SWL, S0, T3, 16 + 5 * k));
            w.push(itype(SWR, S0, T3, 32 + 5 * k));
        }
        w.extend([itype(SH, S0, T3, 12), itype(SH, S0, T3, 14)]);
        w.push(itype(SW, S0, T1, 48));
        // SC without LL fails; LL, SC succeeds; a second SC fails.
        w.extend(li(T4, 0x55));
        w.push(itype(SC, S0, T4, 52));
        w.push(itype(LL, S0, T0, 52));
        w.extend(li(T4, 0x66));
        w.push(itype(SC, S0, T4, 52));
        w.extend(li(T4, 0x77));
        w.push(itype(SC, S0, T4, 52));
        w.push(itype(LW, S0, T0, 52));
        // Negative offsets.
        w.push(addiu(S1, S0, 0x100));
        w.push(itype(LW, S1, T0, -0xfc));
        w.push(itype(SB, S1, T3, -0xc1));
        // 0xffff_a000 + 0x7000 wraps to NULL_GUARD_END; 0x7fff_ffff is the last user byte.
        w.extend(li(S2, 0xffff_a000));
        w.push(itype(LW, S2, T0, 0x7000));
        w.extend(li(S3, 0x7fff_fff0));
        w.push(itype(LBU, S3, T0, 0xf));
        w.push(itype(LW, ZERO, T0, 0x1000));
        w.extend([
            mv(A0, ZERO),
            itype(0x0f, 0, V0, (HALT >> 16) as i32),
            SYSCALL,
        ]);
        let mut data = Vec::new();
        for word in 0..16u32 {
            data.extend(initial_word(DATA + 4 * word).to_le_bytes());
        }
        Program::from_code(0x0040_0000, &w).with_data_segment(DATA, 0x100, &data)
    }

    /// The load/store rows of one traced run of [`executor_program`] (one shard).
    fn executor_rows() -> Vec<LoadStoreRow> {
        let program = executor_program();
        let config = ExecutorConfig {
            max_cycles: Some(10_000),
            mode: Mode::Tracing,
            shard_cycles: 1 << 12,
            ..ExecutorConfig::default()
        };
        let mut executor = Executor::new(&program, config).expect("the program loads");
        let report = executor.run().expect("the program runs to its HALT");
        assert_eq!(report.exit_code, 0);
        let shards = report.record.expect("tracing mode keeps a record").shards;
        assert_eq!(shards.len(), 1);
        let chip = ProgramChip::new(&program).unwrap();
        let executed = executed_instructions(&shards[0], &chip).unwrap();
        LoadStoreChip::rows(&executed).expect("the executor's rows are consistent")
    }

    /// The executor's own run: the rows it records are what this chip proves.
    #[test]
    fn executor_rows_verify() {
        let rows = executor_rows();
        assert_eq!(
            rows.len(),
            8 * 4 + 4 * 2 + 2 + 4 * 3 + 2 + 1 + 4 + 1 + 2 + 3
        );
        for op in OPCODES {
            assert!(rows.iter().any(|r| r.opcode == op), "{op:?}");
        }
        let sc: Vec<u32> = rows
            .iter()
            .filter(|r| r.opcode == Opcode::Sc)
            .map(|r| r.result)
            .collect();
        assert_eq!(sc, [0, 1, 0]);
        // The rows agree with the reference machine run on the same operations.
        let lb_of_0x80 = rows
            .iter()
            .find(|r| r.opcode == Opcode::Lb && r.result == 0xffff_ff80);
        assert!(lb_of_0x80.is_some());
        prove_and_verify(&honest_tables(&rows)).expect("executor rows must verify");
    }

    #[test]
    fn message_has_the_cpu_layout() {
        let rows = sim_rows();
        let row = rows.iter().find(|r| r.opcode == Opcode::Swl).unwrap();
        let m = message(row);
        assert_eq!(m[0], Opcode::Swl as u32);
        assert_eq!(m[1], row.clk);
        assert_eq!((m[2], m[3]), (row.rs & 0xffff, row.rs >> 16));
        assert_eq!((m[4], m[5]), (row.rt & 0xffff, row.rt >> 16));
        assert_eq!((m[6], m[7]), (row.result & 0xffff, row.result >> 16));
        assert_eq!((m[8], m[9]), (row.imm & 0xffff, row.imm >> 16));
    }

    #[test]
    fn trace_generation_refuses_bad_rows() {
        use Opcode::*;
        let mut sim = Sim::new();
        let misaligned = sim.run(Lw, DATA, 0, 2);
        let guard = sim.run(Lw, 0, 0, 20);
        let top = sim.run(Lbu, 0x8000_0000, 0, 0);
        let wrong = sim.run(Lb, DATA, 0, 0);
        let sc = sim.run(Sc, DATA, 5, 0);
        let mut rows = sim.rows;
        rows[wrong].result ^= 0x100;
        rows[sc].llbit = None;
        let cases = [
            (misaligned, "misaligned"),
            (guard, "outside user memory"),
            (top, "outside user memory"),
            (wrong, "expected result"),
            (sc, "LLbit access None"),
        ];
        for (index, reason) in cases {
            let mut bytes = ByteCounts::new();
            let err = LoadStoreChip
                .generate_trace::<Val>(&rows[index..=index], &mut bytes)
                .unwrap_err();
            let text = err.to_string();
            assert!(text.contains(reason), "{text}");
            assert!(
                text.contains(&format!("cycle {}", rows[index].clk)),
                "{text}"
            );
            assert_eq!(bytes, ByteCounts::new());
        }
    }

    /// The row of the first `op` at offset `k` in `rows`.
    fn find(rows: &[LoadStoreRow], op: Opcode, k: u32) -> usize {
        rows.iter()
            .position(|r| r.opcode == op && r.addr() & 3 == k)
            .unwrap()
    }

    #[test]
    fn wrong_loaded_byte_is_rejected() {
        let mut rows = sim_rows();
        let i = find(&rows, Opcode::Lbu, 1);
        rows[i].result ^= 1;
        assert_caught(&forged_tables(&rows), true);
    }

    /// LB of 0x80 answered zero-extended.
    #[test]
    fn wrong_sign_extension_is_rejected() {
        let mut rows = sim_rows();
        let i = rows
            .iter()
            .position(|r| r.opcode == Opcode::Lb && r.result == 0xffff_ff80)
            .unwrap();
        rows[i].result = 0x80;
        assert_caught(&forged_tables(&rows), true);
        // The same with the sign bit forged to 0 to match: the sign lookup fails.
        let rows = rows.clone();
        let tables = tables_with(&rows, &boundary(&rows, |_, _| false), |index, c| {
            if index == i {
                c[cols::SIGN] = 0;
            }
        });
        assert_caught(&tables, false);
        // ... or with the sign byte forged to a positive one: it is not the loaded byte.
        let tables = tables_with(&rows, &boundary(&rows, |_, _| false), |index, c| {
            if index == i {
                c[cols::SIGN_BYTE] = 0x7f;
                c[cols::SIGN] = 0;
            }
        });
        assert_caught(&tables, true);
    }

    /// LH of 0x807f zero-extended.
    #[test]
    fn wrong_half_sign_extension_is_rejected() {
        let mut rows = sim_rows();
        let i = rows
            .iter()
            .position(|r| r.opcode == Opcode::Lh && r.result >> 15 == 0x1ffff)
            .unwrap();
        rows[i].result &= 0xffff;
        assert_caught(&forged_tables(&rows), true);
    }

    /// LBU at offset 1 claiming offset 2 (and its byte): the address no longer adds up.
    #[test]
    fn wrong_offset_lane_is_rejected() {
        let mut rows = sim_rows();
        let i = find(&rows, Opcode::Lbu, 1);
        rows[i].result = (rows[i].mem.prev_value >> 16) & 0xff;
        assert_ne!(rows[i].result, (rows[i].mem.prev_value >> 8) & 0xff);
        let tables = tables_with(&rows, &boundary(&rows, |_, _| false), |index, c| {
            if index == i {
                c[cols::OFFSET + 1] = 0;
                c[cols::OFFSET + 2] = 1;
            }
        });
        assert_caught(&tables, true);
        // Balancing the address with `q - 1/4` instead: `q` is no longer a 6-bit integer.
        let mut tables = tables_with(&rows, &boundary(&rows, |_, _| false), |index, c| {
            if index == i {
                c[cols::OFFSET + 1] = 0;
                c[cols::OFFSET + 2] = 1;
            }
        });
        tables[CHIP].trace.values[i * cols::WIDTH + cols::WORD_Q] -= Val::from_u32(4).inverse();
        assert_caught(&tables, false);
    }

    /// SB at offset 1 that also changes byte 3 of the word (the memory chain follows it).
    #[test]
    fn store_changing_a_byte_outside_its_lane_is_rejected() {
        let mut rows = sim_rows();
        let i = find(&rows, Opcode::Sb, 1);
        rows[i].mem.value ^= 0x0100_0000;
        // Later accesses to the word carry the forged value on.
        let word = rows[i].mem.addr;
        for row in rows[i + 1..].iter_mut().filter(|r| r.mem.addr == word) {
            row.mem.prev_value ^= 0x0100_0000;
            row.mem.value ^= 0x0100_0000;
        }
        assert_caught(&forged_tables(&rows), true);
    }

    /// LWR at offset 2 answering the bare shift, without merging the old `rt`'s top half.
    #[test]
    fn wrong_merge_is_rejected() {
        let mut rows = sim_rows();
        let i = find(&rows, Opcode::Lwr, 2);
        rows[i].result = rows[i].mem.prev_value >> 16;
        assert_caught(&forged_tables(&rows), true);
    }

    #[test]
    fn unaligned_word_and_half_accesses_are_rejected() {
        for (op, rt, imm) in [
            (Opcode::Lw, 0, 2),
            (Opcode::Lh, 0, 1),
            (Opcode::Lhu, 0, 3),
            (Opcode::Sw, 0x1234_5678, 1),
            (Opcode::Sh, 0x1234_5678, 3),
            (Opcode::Ll, 0, 2),
            (Opcode::Sc, 0x1234_5678, 2),
        ] {
            let mut sim = Sim::new();
            sim.run(Opcode::Ll, DATA, 0, 0);
            sim.run(op, DATA + 8, rt, imm);
            assert_caught(&forged_tables(&sim.rows), true);
        }
    }

    /// Loads from below NULL_GUARD_END: the word address would be a register location (LW at
    /// 20 reads "register 20", LB at 5 "register 4").
    #[test]
    fn address_below_the_null_guard_is_rejected() {
        for (op, imm) in [(Opcode::Lw, 20), (Opcode::Lb, 5), (Opcode::Sw, 0xffc)] {
            let mut sim = Sim::new();
            sim.run(op, 0, 7, imm);
            assert!(sim.rows[0].mem.addr < NULL_GUARD_END);
            assert_caught(&forged_tables(&sim.rows), true);
        }
    }

    /// LW at 0x800 (below the guard, so `ge16 + a2 + a3 = 0`) claiming `a1 >= 16`.
    #[test]
    fn guard_bypass_with_a_forged_comparison_is_rejected() {
        let mut sim = Sim::new();
        sim.run(Opcode::Lw, 0x800, 0, 0);
        let tables = tables_with(&sim.rows, &boundary(&sim.rows, |_, _| false), |_, c| {
            c[cols::GE16] = 1;
        });
        assert_caught(&tables, false);
    }

    #[test]
    fn address_at_or_above_user_end_is_rejected() {
        for (rs, imm) in [(0x8000_0000, 0), (0x7fff_fff0, 0x10), (0xffff_fff0, 0)] {
            let mut sim = Sim::new();
            sim.run(Opcode::Lw, rs, 0, imm);
            assert_caught(&forged_tables(&sim.rows), false);
        }
    }

    /// `0xffff_fff0 + 0x20` wraps to 0x10 (in the null guard); a forger claiming 0x0001_0010
    /// instead balances the high limb with a carry that is a field element, not a bit.
    #[test]
    fn address_overflow_wrap_is_rejected() {
        let mut sim = Sim::new();
        sim.run(Opcode::Lw, 0xffff_fff0, 0, 0x20);
        let mut rows = sim.rows;
        rows[0].mem.addr = 0x0001_0010;
        let mut tables = tables_with(&rows, &boundary(&rows, |_, _| false), |_, c| {
            c[cols::ADDR2] = 1;
            c[cols::GE16] = 0;
        });
        // rs_hi + imm_hi + c0 = 0xffff + 0 + 1 must equal addr_hi + 2^16 c1 = 1 + 2^16 c1.
        let carry = Val::from_u32(0xffff) * Val::from_u32(1 << 16).inverse();
        tables[CHIP].trace.values[cols::CARRY + 1] = carry;
        assert_caught(&tables, true);
    }

    /// SC claiming success (result 1, memory written) though LLbit was 0.
    #[test]
    fn sc_success_forged_with_llbit_zero_is_rejected() {
        let mut sim = Sim::new();
        let i = sim.run(Opcode::Sc, DATA, 0x1234_5678, 0);
        let mut rows = sim.rows;
        assert_eq!(rows[i].llbit.unwrap().prev_value, 0);
        rows[i].result = 1;
        rows[i].mem.value = 0x1234_5678;
        assert_caught(&forged_tables(&rows), true);
        // Claiming success without writing memory is caught as well.
        rows[i].mem.value = rows[i].mem.prev_value;
        assert_caught(&forged_tables(&rows), true);
    }

    /// A failed SC (result 0) that still writes memory.
    #[test]
    fn failed_sc_that_writes_memory_is_rejected() {
        let mut sim = Sim::new();
        sim.run(Opcode::Ll, DATA, 0, 0);
        sim.run(Opcode::Sc, DATA, 1, 0);
        let i = sim.run(Opcode::Sc, DATA, 0x1234_5678, 0);
        let mut rows = sim.rows;
        assert_eq!(rows[i].result, 0);
        rows[i].mem.value = 0x1234_5678;
        assert_caught(&forged_tables(&rows), true);
    }

    /// SC reading an LLbit of 2 (say, a forged initial value) would answer 2: the success bit
    /// must be a bit.
    #[test]
    fn llbit_that_is_not_a_bit_is_rejected() {
        let mut sim = Sim::new();
        let word = initial_word(DATA);
        // Storing the word memory already holds, so the new word `m + 2 (rt - m)` is canonical.
        let i = sim.run(Opcode::Sc, DATA, word, 0);
        let mut rows = sim.rows;
        rows[i].llbit.as_mut().unwrap().prev_value = 2;
        rows[i].result = 2;
        assert_caught(&forged_tables(&rows), true);
        // High limb set instead, on a failing SC.
        rows[i].llbit.as_mut().unwrap().prev_value = 0x1_0000;
        rows[i].result = 0;
        assert_caught(&forged_tables(&rows), true);
    }

    /// LL that leaves LLbit at 0 (it must write 1).
    #[test]
    fn ll_not_setting_llbit_is_rejected() {
        let mut sim = Sim::new();
        let i = sim.run(Opcode::Ll, DATA, 0, 0);
        let mut rows = sim.rows;
        rows[i].llbit.as_mut().unwrap().value = 0;
        assert_caught(&forged_tables(&rows), false);
    }

    /// LW's result as limbs `(lo + 2^16, hi - 1)`: the same integer, not canonical.
    #[test]
    fn non_canonical_result_limbs_are_rejected() {
        let rows = sim_rows();
        let i = rows
            .iter()
            .position(|r| r.opcode == Opcode::Lw && r.result >> 16 != 0)
            .unwrap();
        let mut tables = forged_tables(&rows);
        let sender_width = MEM_INSTR_MESSAGE_WIDTH + 1;
        let shift = Val::from_u32(1 << 16);
        tables[SENDER].trace.values[i * sender_width + 6] += shift;
        tables[SENDER].trace.values[i * sender_width + 7] -= Val::ONE;
        tables[CHIP].trace.values[i * cols::WIDTH + cols::RESULT] += shift;
        tables[CHIP].trace.values[i * cols::WIDTH + cols::RESULT + 1] -= Val::ONE;
        assert_caught(&tables, true);
    }

    /// A store whose memory access is left out of the memory chain.
    #[test]
    fn skipped_memory_access_is_rejected() {
        let rows = sim_rows();
        let i = find(&rows, Opcode::Sw, 0);
        let entries = boundary(&rows, |index, access| {
            index == i && access.addr != REG_LLBIT
        });
        assert_caught(&tables_with(&rows, &entries, |_, _| {}), false);
    }

    /// An SC whose LLbit access is left out of the LLbit chain.
    #[test]
    fn skipped_llbit_access_is_rejected() {
        let mut sim = Sim::new();
        sim.run(Opcode::Ll, DATA, 0, 0);
        let i = sim.run(Opcode::Sc, DATA, 9, 0);
        let rows = sim.rows;
        let entries = boundary(&rows, |index, access| {
            index == i && access.addr == REG_LLBIT
        });
        assert_caught(&tables_with(&rows, &entries, |_, _| {}), false);
    }

    /// Two opcode flags on one row.
    #[test]
    fn two_opcodes_on_one_row_are_rejected() {
        let rows = sim_rows();
        let i = find(&rows, Opcode::Lbu, 0);
        let tables = tables_with(&rows, &boundary(&rows, |_, _| false), |index, c| {
            if index == i {
                c[cols::FLAGS] = 1; // LB as well
            }
        });
        assert_caught(&tables, true);
    }
}
