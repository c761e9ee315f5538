//! `MulDivChip`: the multiply / divide instructions and the HI/LO moves — `MUL`, `MULT`, `MULTU`,
//! `MADD`, `MADDU`, `MSUB`, `MSUBU`, `DIV`, `DIVU`, `MFHI`, `MFLO`, `MTHI`, `MTLO` — bit for bit
//! as `zkmips_executor` runs them.
//!
//! # Interface
//!
//! Each real row receives one [`MULDIV_BUS`] message `[opcode, clk, rs, rt, result]` (words as
//! 16-bit limbs) from the CPU with count `is_real`, and performs the HI (register 32) / LO
//! (register 33) accesses the executor records for that instruction, through the memory access
//! helper at timestamps `8 clk + SLOT_HI` / `8 clk + SLOT_LO`:
//!
//! | opcode | HI access | LO access | result |
//! |---|---|---|---|
//! | `MUL` | – | – | low word of `rs · rt` |
//! | `MULT(U)`, `MADD(U)`, `MSUB(U)`, `DIV(U)` | write | write | 0 |
//! | `MFHI` / `MFLO` | read / – | – / read | the value read |
//! | `MTHI` / `MTLO` | write `rs` / – | – / write `rs` | 0 |
//!
//! The chip trusts the CPU for `clk` being an integer below `2^23` (it counts the CPU's rows), so
//! the access timestamps are integers below `2^27`, as the helper's caller contract requires.
//! Every value the chip writes (HI, LO) and the `result` it returns are built from range-checked
//! bytes, so they are canonical limbs.
//!
//! # One relation for all arithmetic: `A · B + C = D (mod 2^64)`
//!
//! `A` and `B` are 32-bit words extended to 64 bits by a bit (`a_ext`, `b_ext`: the upper four
//! bytes are `255 · ext`); `C` and `D` are 64-bit values as four 16-bit limbs. The relation is
//! checked per 16-bit limb `k` with byte products:
//! `Σ_{i+j=2k} a_i b_j + 2^8 Σ_{i+j=2k+1} a_i b_j + C_k + carry_{k-1} = D_k + 2^16 carry_k`,
//! carries range-checked below `2^12` (honest ones stay below 2041). Every term is below `2^28`, so
//! each limb equation holds over the integers, and together they give `A B + C ≡ D (mod 2^64)`.
//!
//! | opcode | `A` | `B` | `C` | `D` |
//! |---|---|---|---|---|
//! | `MUL`, `MULT(U)` | `rs` | `rt` | 0 | `(HI, LO)` new |
//! | `MADD(U)` | `rs` | `rt` | `(HI, LO)` old | `(HI, LO)` new |
//! | `MSUB(U)` | `rs` | `rt` | `(HI, LO)` new | `(HI, LO)` old |
//! | `DIV(U)` | `q = LO` | `d = rt` | `r = HI`, extended | `n = rs`, extended |
//!
//! (`MUL` keeps the product in the HI/LO columns without accessing HI/LO; its result is the LO
//! column.) The signed forms extend `rs`/`rt` by their sign bits, the unsigned ones by 0; `C`/`D`
//! limbs are canonical (range-checked bytes, or old values consumed from the memory bus), so the
//! new HI:LO is the unique 64-bit value satisfying the relation.
//!
//! # Division
//!
//! `DIV`/`DIVU` prove `q · d + r = n` with the remainder conditions, which (truncated division
//! theorem) fix `q` and `r` uniquely:
//! - `d = 0` is detected with an inverse witness (`d_zero`, and `(rt_lo + rt_hi) · inv = 1`
//!   otherwise); then `q = 0xffff_ffff` is enforced and the relation gives `r = n`.
//! - `d ≠ 0`: `|d| − |r| − 1 = T ≥ 0`, with `T` four range-checked bytes, checked on limbs
//!   through the signs (`|x| = x` or `2^32 − x`) with one small carry; for `DIV`, a non-zero `r`
//!   has the sign of `n` (`(s_r − s_n) · r = 0`).
//! - For `DIV` the quotient's extension bit `a_ext` is free: `A = q − 2^32 a_ext` ranges over
//!   `[−2^32, 2^32)`, so `|A d + r − n| < 2^64` and the congruence is an integer equation;
//!   division then forces `A = trunc(n / d)`, which is `2^31` for `i32::MIN / −1` — so `LO` is
//!   `0x8000_0000` and `HI` is 0, the wrapping result, with no special case. For `DIVU`
//!   `a_ext = 0` and `q d + r < 2^64`.
//!
//! 65 columns, 20 byte lookups, 4 memory-bus messages and 1 mul/div message per row; constraints
//! of degree at most 3, bus messages of degree at most 2.

use p3_air::{Air, BaseAir, PermutationAirBuilder, WindowAccess};
use p3_field::{Field, PrimeCharacteristicRing};
use p3_lookup::{Count, InteractionBuilder};
use p3_matrix::dense::RowMajorMatrix;
use zkmips_executor::events::{REG_HI, REG_LO, SLOT_HI, SLOT_LO, SLOTS_PER_CYCLE};
use zkmips_executor::{MemoryAccess, Opcode};

use super::memory::{AccessExprs, MemoryAccessCols, check_access, eval_access, fill_access};
use super::word::{
    eval_byte_pairs, fill_range_checked_word, limbs, sign_check, sign_check_byte, word_byte_pairs,
    word_bytes,
};
use super::{ByteCounts, TraceError, padded_trace};
use crate::buses::{ByteOp, MULDIV_BUS, MULDIV_MESSAGE_WIDTH, word_limbs};
use crate::shard::{ClassEvent, Executed};

/// The instructions this chip proves, in the order of their flag columns.
pub const OPCODES: [Opcode; 13] = [
    Opcode::Mul,
    Opcode::Mult,
    Opcode::Multu,
    Opcode::Madd,
    Opcode::Maddu,
    Opcode::Msub,
    Opcode::Msubu,
    Opcode::Div,
    Opcode::Divu,
    Opcode::Mfhi,
    Opcode::Mflo,
    Opcode::Mthi,
    Opcode::Mtlo,
];

pub(crate) mod cols {
    /// One flag per opcode of [`super::OPCODES`]; their sum is `is_real`.
    pub const FLAGS: usize = 0;
    /// The instruction's shard-local cycle (from the CPU).
    pub const CLK: usize = 13;
    /// Bytes (little-endian) of `rs`, `rt` and of the HI and LO columns: the values after the
    /// instruction (for `MUL` the 64-bit product, not written).
    pub const RS: usize = 14;
    pub const RT: usize = 18;
    pub const HI: usize = 22;
    pub const LO: usize = 26;
    /// Top bits of `rs`, `rt` and the HI column.
    pub const SIGN_RS: usize = 30;
    pub const SIGN_RT: usize = 31;
    pub const SIGN_HI: usize = 32;
    /// Extension bits of `A`, `B` and of `C`'s remainder (see the module docs).
    pub const A_EXT: usize = 33;
    pub const B_EXT: usize = 34;
    pub const C_EXT: usize = 35;
    /// Four carries of the limb equations, each `lo + 256 hi` with `lo` a byte, `hi < 16`.
    pub const CARRY: usize = 36;
    /// Division by zero flag and the inverse of `rt_lo + rt_hi` otherwise.
    pub const D_ZERO: usize = 44;
    pub const D_INV: usize = 45;
    /// Bytes of `T = |d| - |r| - 1` and the carry between its limb equations (in `[-2, 253]`).
    pub const REM_GAP: usize = 46;
    pub const REM_CARRY: usize = 50;
    /// Memory access helper columns of the HI and the LO access.
    pub const HI_ACCESS: usize = 51;
    pub const LO_ACCESS: usize = HI_ACCESS + super::super::memory::access_cols::WIDTH;
    pub const WIDTH: usize = LO_ACCESS + super::super::memory::access_cols::WIDTH;
}

/// Which opcodes access HI / LO, and whether that access writes.
const fn hi_access(op: Opcode) -> Option<bool> {
    use Opcode::*;
    match op {
        Mult | Multu | Madd | Maddu | Msub | Msubu | Div | Divu | Mthi => Some(true),
        Mfhi => Some(false),
        _ => None,
    }
}

const fn lo_access(op: Opcode) -> Option<bool> {
    use Opcode::*;
    match op {
        Mult | Multu | Madd | Maddu | Msub | Msubu | Div | Divu | Mtlo => Some(true),
        Mflo => Some(false),
        _ => None,
    }
}

const fn is_signed_product(op: Opcode) -> bool {
    matches!(op, Opcode::Mul | Opcode::Mult | Opcode::Madd | Opcode::Msub)
}

/// Reference semantics (those of `zkmips_executor`): `(hi, lo, result)` after `op` runs with
/// register values `rs`, `rt` and HI/LO `(hi, lo)`; `None` for an opcode of another chip.
pub fn evaluate(op: Opcode, rs: u32, rt: u32, hi: u32, lo: u32) -> Option<(u32, u32, u32)> {
    use Opcode::*;
    let signed = (rs as i32 as i64).wrapping_mul(rt as i32 as i64) as u64;
    let unsigned = u64::from(rs) * u64::from(rt);
    let old = (u64::from(hi) << 32) | u64::from(lo);
    let split = |v: u64| ((v >> 32) as u32, v as u32, 0);
    Some(match op {
        Mul => (hi, lo, signed as u32),
        Mult => split(signed),
        Multu => split(unsigned),
        Madd => split(old.wrapping_add(signed)),
        Maddu => split(old.wrapping_add(unsigned)),
        Msub => split(old.wrapping_sub(signed)),
        Msubu => split(old.wrapping_sub(unsigned)),
        Div if rt == 0 => (rs, u32::MAX, 0),
        Div => {
            let (n, d) = (rs as i32, rt as i32);
            (n.wrapping_rem(d) as u32, n.wrapping_div(d) as u32, 0)
        }
        Divu if rt == 0 => (rs, u32::MAX, 0),
        Divu => (rs % rt, rs / rt, 0),
        Mfhi => (hi, lo, hi),
        Mflo => (hi, lo, lo),
        Mthi => (rs, lo, 0),
        Mtlo => (hi, rs, 0),
        _ => return None,
    })
}

/// One instruction as this chip proves it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MulDivRow {
    pub opcode: Opcode,
    /// Shard-local cycle, pc and instruction word (the last two only name the row in errors).
    pub clk: u32,
    pub pc: u32,
    pub word: u32,
    /// The register values the CPU read (0 for a register the instruction does not read).
    pub rs: u32,
    pub rt: u32,
    /// The value written to `rd` (`MUL`, `MFHI`, `MFLO`; 0 otherwise).
    pub result: u32,
    /// The HI / LO accesses, present exactly for the opcodes that make them.
    pub hi: Option<MemoryAccess>,
    pub lo: Option<MemoryAccess>,
}

impl MulDivRow {
    /// The [`MULDIV_BUS`] message the CPU sends for this instruction.
    pub fn message(&self) -> [u32; MULDIV_MESSAGE_WIDTH] {
        let [rs_lo, rs_hi] = word_limbs(self.rs);
        let [rt_lo, rt_hi] = word_limbs(self.rt);
        let [res_lo, res_hi] = word_limbs(self.result);
        [
            u32::from(self.opcode as u8),
            self.clk,
            rs_lo,
            rs_hi,
            rt_lo,
            rt_hi,
            res_lo,
            res_hi,
        ]
    }

    /// HI and LO before the instruction (the accesses' previous values; 0 when not accessed).
    fn old_hi_lo(&self) -> (u32, u32) {
        (
            self.hi.map_or(0, |a| a.prev_value),
            self.lo.map_or(0, |a| a.prev_value),
        )
    }

    /// The HI and LO columns: the accessed values, the product for `MUL`, 0 where unused.
    fn hi_lo_columns(&self) -> (u32, u32) {
        if self.opcode == Opcode::Mul {
            let product = (self.rs as i32 as i64).wrapping_mul(self.rt as i32 as i64) as u64;
            return ((product >> 32) as u32, self.result);
        }
        (
            self.hi.map_or(0, |a| a.value),
            self.lo.map_or(0, |a| a.value),
        )
    }

    /// Checks the row against the reference semantics and the access pattern; the reason if not.
    pub fn check(&self) -> Result<(), String> {
        let op = self.opcode;
        if !OPCODES.contains(&op) {
            return Err(format!("{op:?} is not a multiply/divide instruction"));
        }
        let (reads_rs, reads_rt) = match op {
            Opcode::Mfhi | Opcode::Mflo => (false, false),
            Opcode::Mthi | Opcode::Mtlo => (true, false),
            _ => (true, true),
        };
        if (!reads_rs && self.rs != 0) || (!reads_rt && self.rt != 0) {
            return Err(format!(
                "{op:?} reads no rs/rt, but the row carries rs {:#010x}, rt {:#010x}",
                self.rs, self.rt
            ));
        }
        let base = u64::from(self.clk) * SLOTS_PER_CYCLE;
        for (name, access, expected, addr, slot) in [
            ("HI", self.hi, hi_access(op), REG_HI, SLOT_HI),
            ("LO", self.lo, lo_access(op), REG_LO, SLOT_LO),
        ] {
            match (access, expected) {
                (None, None) => {}
                (Some(a), Some(is_write)) => {
                    if a.addr != addr || u64::from(a.timestamp) != base + slot {
                        return Err(format!(
                            "its {name} access is to {:#x} at timestamp {}, expected {addr:#x} at {}",
                            a.addr,
                            a.timestamp,
                            base + slot
                        ));
                    }
                    if !is_write && a.value != a.prev_value {
                        return Err(format!("its {name} read changes the value"));
                    }
                    check_access(0, &a).map_err(|e| e.to_string())?;
                }
                (Some(_), None) => return Err(format!("{op:?} does not access {name}")),
                (None, Some(_)) => return Err(format!("{op:?} must access {name}")),
            }
        }
        let (old_hi, old_lo) = self.old_hi_lo();
        let (hi, lo, result) = evaluate(op, self.rs, self.rt, old_hi, old_lo).expect("checked op");
        let claimed_hi = self.hi.map_or(hi, |a| a.value);
        let claimed_lo = self.lo.map_or(lo, |a| a.value);
        if (claimed_hi, claimed_lo, self.result) != (hi, lo, result) {
            return Err(format!(
                "{op:?} rs {:#010x}, rt {:#010x}, HI:LO {old_hi:#010x}:{old_lo:#010x} gives HI:LO \
                 {hi:#010x}:{lo:#010x}, result {result:#010x}; the row claims HI:LO \
                 {claimed_hi:#010x}:{claimed_lo:#010x}, result {:#010x}",
                self.rs, self.rt, self.result
            ));
        }
        Ok(())
    }

    fn error(&self, reason: String) -> TraceError {
        TraceError::Instruction {
            chip: "MulDiv",
            clk: self.clk,
            pc: self.pc,
            word: self.word,
            reason,
        }
    }
}

/// Witness choices a forging test may impose on a row instead of the honest ones (the
/// carries and the remainder gap then follow from them).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Tweak {
    pub sign_rs: Option<bool>,
    pub a_ext: Option<bool>,
    pub b_ext: Option<bool>,
    pub c_ext: Option<bool>,
}

/// Values of one row's relation `A · B + C = D (mod 2^64)` and remainder check, derived from
/// the row as given (so a forged row gets the witness an attacker would use).
struct Witness {
    sign_rs: bool,
    a_ext: bool,
    b_ext: bool,
    c_ext: bool,
    carries: [u32; 4],
    d_zero: bool,
    /// `T = |d| - |r| - 1` (wrapped when a forged row breaks the bound) and the limb carry.
    rem_gap: u32,
    rem_carry: i64,
}

impl Witness {
    fn new(row: &MulDivRow, tweak: Tweak) -> Self {
        use Opcode::*;
        let op = row.opcode;
        let (hi, lo) = row.hi_lo_columns();
        let (old_hi, old_lo) = row.old_hi_lo();
        let is_div_any = matches!(op, Div | Divu);
        let sign = |x: u32| x >> 31 == 1;
        let sign_rs = tweak.sign_rs.unwrap_or(sign(row.rs));
        let b_ext = tweak
            .b_ext
            .unwrap_or((is_signed_product(op) || op == Div) && sign(row.rt));
        let c_ext = tweak.c_ext.unwrap_or(op == Div && sign(hi));
        let a_ext = tweak.a_ext.unwrap_or(if op == Div {
            // The quotient's extension: whichever makes `A d + r = n` hold (the honest one is
            // the sign of the true quotient, 0 for `i32::MIN / -1`).
            let (q, d, r, n) = (
                i128::from(lo),
                i128::from(row.rt as i32),
                i128::from(hi as i32),
                i128::from(row.rs as i32),
            );
            (q - (1 << 32)) * d + r == n && q * d + r != n
        } else {
            is_signed_product(op) && sign_rs
        });
        let a_word = if is_div_any { lo } else { row.rs };
        let extend = |word: u32, ext: bool| -> [u32; 8] {
            let [b0, b1, b2, b3] = word_bytes(word).map(u32::from);
            let e = if ext { 255 } else { 0 };
            [b0, b1, b2, b3, e, e, e, e]
        };
        let (a, b) = (extend(a_word, a_ext), extend(row.rt, b_ext));
        let quad = |high: u32, low: u32| {
            let [l0, l1] = word_limbs(low);
            let [h0, h1] = word_limbs(high);
            [l0, l1, h0, h1]
        };
        let ext_limbs = |word: u32, ext: bool| {
            let e = if ext { 0xffff } else { 0 };
            let [w0, w1] = word_limbs(word);
            [w0, w1, e, e]
        };
        let (c, d) = match op {
            Mul | Mult | Multu => ([0; 4], quad(hi, lo)),
            Madd | Maddu => (quad(old_hi, old_lo), quad(hi, lo)),
            Msub | Msubu => (quad(hi, lo), quad(old_hi, old_lo)),
            Div | Divu => (
                ext_limbs(hi, c_ext),
                ext_limbs(row.rs, op == Div && sign_rs),
            ),
            _ => ([0; 4], [0; 4]),
        };
        let mut carries = [0; 4];
        let mut carry_in = 0i64;
        for (k, carry) in carries.iter_mut().enumerate() {
            let mut total = i64::from(c[k]) + carry_in - i64::from(d[k]);
            for (i, &ai) in a.iter().enumerate() {
                for (j, &bj) in b.iter().enumerate() {
                    let weight = match (i + j).checked_sub(2 * k) {
                        Some(0) => 1,
                        Some(1) => 256,
                        _ => 0,
                    };
                    total += weight * i64::from(ai) * i64::from(bj);
                }
            }
            carry_in = total.div_euclid(1 << 16);
            *carry = (carry_in as u32) & 0xfff;
        }
        let d_zero = is_div_any && row.rt == 0;
        let (rem_gap, rem_carry) = if is_div_any && !d_zero {
            let sigma_d: i64 = if b_ext { -1 } else { 1 };
            let sigma_r: i64 = if c_ext { 1 } else { -1 };
            let [d0, d1] = word_limbs(row.rt).map(i64::from);
            let [r0, r1] = word_limbs(hi).map(i64::from);
            let x0 = sigma_d * d0 + sigma_r * r0 - 1;
            let x1 =
                sigma_d * d1 + sigma_r * r1 + (1 << 16) * (i64::from(b_ext) - i64::from(c_ext));
            let gap = (x0 + (1 << 16) * x1) as u32;
            let carry = (i64::from(gap & 0xffff) - x0).div_euclid(1 << 16);
            (gap, carry)
        } else {
            (0, 0)
        };
        Self {
            sign_rs,
            a_ext,
            b_ext,
            c_ext,
            carries,
            d_zero,
            rem_gap,
            rem_carry,
        }
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct MulDivChip;

impl MulDivChip {
    pub const fn name(&self) -> &'static str {
        "MulDiv"
    }

    /// The row of `executed` if it is a mul/div instruction (with its class event), unchecked.
    pub fn row_of(executed: &Executed) -> Option<MulDivRow> {
        let ClassEvent::MulDiv(event) = executed.event else {
            return None;
        };
        let result = match event.opcode {
            Opcode::Mul | Opcode::Mflo => event.lo,
            Opcode::Mfhi => event.hi,
            _ => 0,
        };
        Some(MulDivRow {
            opcode: event.opcode,
            clk: executed.clk,
            pc: executed.pc,
            word: executed.instruction.word,
            rs: event.b,
            rt: event.c,
            result,
            hi: executed.access(SLOT_HI, REG_HI).copied(),
            lo: executed.access(SLOT_LO, REG_LO).copied(),
        })
    }

    /// The [`MULDIV_BUS`] message the CPU sends for `executed`, if it is a mul/div instruction.
    pub fn message_of(executed: &Executed) -> Option<[u32; MULDIV_MESSAGE_WIDTH]> {
        Self::row_of(executed).map(|row| row.message())
    }

    /// The rows of the mul/div instructions of a shard, checked (errors name the instruction).
    pub fn rows(executed: &[Executed]) -> Result<Vec<MulDivRow>, TraceError> {
        executed
            .iter()
            .filter_map(|e| Self::row_of(e).map(|row| (e, row)))
            .map(|(e, row)| {
                if row.opcode != e.instruction.opcode {
                    return Err(e.error("MulDiv", "its event is for another opcode"));
                }
                row.check().map_err(|reason| e.error("MulDiv", reason))?;
                Ok(row)
            })
            .collect()
    }

    /// The trace for `rows`, recording its byte lookups in `bytes`. Fails, before recording
    /// anything, on a row that disagrees with the reference semantics or the access pattern.
    pub fn generate_trace<F: Field>(
        &self,
        rows: &[MulDivRow],
        bytes: &mut ByteCounts,
    ) -> Result<RowMajorMatrix<F>, TraceError> {
        for row in rows {
            row.check().map_err(|reason| row.error(reason))?;
        }
        Ok(Self::fill_trace(rows, bytes))
    }

    /// Fills the trace without checking the rows: the witness is derived from each row as given
    /// (tests use this to forge). A missing access that the opcode makes gets zero columns.
    pub(crate) fn fill_trace<F: Field>(
        rows: &[MulDivRow],
        bytes: &mut ByteCounts,
    ) -> RowMajorMatrix<F> {
        Self::fill_trace_with(rows, bytes, |_| Tweak::default())
    }

    /// [`Self::fill_trace`] with the witness choices of row `i` overridden by `tweak(i)`.
    pub(crate) fn fill_trace_with<F: Field>(
        rows: &[MulDivRow],
        bytes: &mut ByteCounts,
        tweak: impl Fn(usize) -> Tweak,
    ) -> RowMajorMatrix<F> {
        use cols::*;
        padded_trace(rows, WIDTH, |index, row, out| {
            let flag = OPCODES.iter().position(|&op| op == row.opcode);
            if let Some(flag) = flag {
                out[FLAGS + flag] = F::ONE;
            }
            out[CLK] = F::from_u32(row.clk);
            let (hi, lo) = row.hi_lo_columns();
            for (base, word) in [(RS, row.rs), (RT, row.rt), (HI, hi), (LO, lo)] {
                fill_range_checked_word(&mut out[base..], word, bytes);
            }
            let w = Witness::new(row, tweak(index));
            out[SIGN_RS] = F::from_bool(w.sign_rs);
            out[SIGN_RT] = F::from_u32(row.rt >> 31);
            out[SIGN_HI] = F::from_u32(hi >> 31);
            out[A_EXT] = F::from_bool(w.a_ext);
            out[B_EXT] = F::from_bool(w.b_ext);
            out[C_EXT] = F::from_bool(w.c_ext);
            for (k, &carry) in w.carries.iter().enumerate() {
                let (low, high) = ((carry & 0xff) as u8, (carry >> 8) as u8);
                out[CARRY + 2 * k] = F::from_u8(low);
                out[CARRY + 2 * k + 1] = F::from_u8(high);
                bytes.record(ByteOp::RangePair, low, high << 4);
            }
            out[D_ZERO] = F::from_bool(w.d_zero);
            let [rt_lo, rt_hi] = word_limbs(row.rt);
            if matches!(row.opcode, Opcode::Div | Opcode::Divu) && !w.d_zero {
                out[D_INV] = F::from_u32(rt_lo + rt_hi).inverse();
            }
            fill_range_checked_word(&mut out[REM_GAP..], w.rem_gap, bytes);
            let rem_carry_byte = (w.rem_carry + 2) as u8;
            out[REM_CARRY] = F::from_u8(rem_carry_byte) - F::TWO;

            bytes.record(
                ByteOp::RangePair,
                sign_check_byte(word_bytes(row.rs)[3]),
                sign_check_byte(word_bytes(row.rt)[3]),
            );
            bytes.record(
                ByteOp::RangePair,
                sign_check_byte(word_bytes(hi)[3]),
                rem_carry_byte,
            );

            for (base, access, pattern, addr, slot) in [
                (HI_ACCESS, row.hi, hi_access(row.opcode), REG_HI, SLOT_HI),
                (LO_ACCESS, row.lo, lo_access(row.opcode), REG_LO, SLOT_LO),
            ] {
                if pattern.is_none() {
                    continue;
                }
                // A forged row without its access: the columns of an access from time 0.
                let access = access.unwrap_or(MemoryAccess {
                    addr,
                    value: if addr == REG_HI { hi } else { lo },
                    prev_value: 0,
                    prev_timestamp: 0,
                    timestamp: (u64::from(row.clk) * SLOTS_PER_CYCLE + slot) as u32,
                });
                fill_access(&mut out[base..], &access, bytes);
            }
        })
    }
}

impl<F> BaseAir<F> for MulDivChip {
    fn width(&self) -> usize {
        cols::WIDTH
    }

    fn main_next_row_columns(&self) -> Vec<usize> {
        vec![]
    }
}

impl<AB: PermutationAirBuilder + InteractionBuilder> Air<AB> for MulDivChip {
    fn eval(&self, builder: &mut AB) {
        use Opcode::*;
        use cols::*;
        let main = builder.main();
        let local: Vec<AB::Expr> = main.current_slice().iter().map(|&v| v.into()).collect();
        let col = |i: usize| local[i].clone();
        let flag = |op: Opcode| {
            let index = OPCODES.iter().position(|&o| o == op).expect("own opcode");
            col(FLAGS + index)
        };
        let any = |ops: &[Opcode]| ops.iter().map(|&op| flag(op)).sum::<AB::Expr>();
        let constant = |v: u32| AB::Expr::from_u32(v);

        // One-hot opcode flags: a real row is exactly one instruction, a padding row none.
        for &op in &OPCODES {
            builder.assert_bool(flag(op));
        }
        let is_real = any(&OPCODES);
        builder.assert_bool(is_real.clone());
        let opcode: AB::Expr = OPCODES
            .iter()
            .map(|&op| flag(op) * AB::F::from_u8(op as u8))
            .sum();

        let [rs, rt, hi, lo] = [RS, RT, HI, LO].map(|base| limbs(&local[base..base + 4]));
        let (sign_rs, sign_rt, sign_hi) = (col(SIGN_RS), col(SIGN_RT), col(SIGN_HI));
        builder.assert_bool(sign_rs.clone());
        builder.assert_bool(sign_rt.clone());
        builder.assert_bool(sign_hi.clone());

        // Extension bits: signed products extend by the sign bits, unsigned ones by 0; DIV's
        // quotient extension is free (see the module docs), its operands' are their signs.
        let is_div_any = any(&[Div, Divu]);
        let is_signed_product = any(&[Mul, Mult, Madd, Msub]);
        let (a_ext, b_ext, c_ext) = (col(A_EXT), col(B_EXT), col(C_EXT));
        builder.assert_bool(a_ext.clone());
        builder.assert_zero(
            (AB::Expr::ONE - flag(Div))
                * (a_ext.clone() - is_signed_product.clone() * sign_rs.clone()),
        );
        builder.assert_eq(b_ext.clone(), (is_signed_product + flag(Div)) * sign_rt);
        builder.assert_eq(c_ext.clone(), flag(Div) * sign_hi.clone());

        // The helper's columns; their previous values are the old HI / LO.
        let hi_cols = MemoryAccessCols::from_slice(&local[HI_ACCESS..]);
        let lo_cols = MemoryAccessCols::from_slice(&local[LO_ACCESS..]);
        let old_hi = hi_cols.prev_value.clone();
        let old_lo = lo_cols.prev_value.clone();

        // A · B + C = D (mod 2^64), per 16-bit limb.
        let byte_a: Vec<AB::Expr> = (0..8)
            .map(|i| match i {
                0..4 => col(RS + i) + is_div_any.clone() * (col(LO + i) - col(RS + i)),
                _ => a_ext.clone() * constant(255),
            })
            .collect();
        let byte_b: Vec<AB::Expr> = (0..8)
            .map(|j| match j {
                0..4 => col(RT + j),
                _ => b_ext.clone() * constant(255),
            })
            .collect();
        let new_quad = [lo[0].clone(), lo[1].clone(), hi[0].clone(), hi[1].clone()];
        let old_quad = [
            old_lo[0].clone(),
            old_lo[1].clone(),
            old_hi[0].clone(),
            old_hi[1].clone(),
        ];
        let (product_to_new, accumulate, subtract) = (
            any(&[Mul, Mult, Multu, Madd, Maddu]),
            any(&[Madd, Maddu]),
            any(&[Msub, Msubu]),
        );
        let n_ext = flag(Div) * sign_rs.clone() * constant(0xffff);
        let mut carry_in = AB::Expr::ZERO;
        for k in 0..4 {
            let mut product = AB::Expr::ZERO;
            for (i, a) in byte_a.iter().enumerate() {
                for (j, b) in byte_b.iter().enumerate() {
                    match (i + j).checked_sub(2 * k) {
                        Some(0) => product += a.clone() * b.clone(),
                        Some(1) => product += a.clone() * b.clone() * constant(256),
                        _ => {}
                    }
                }
            }
            // DIV(U): C = r, D = n, their high limbs the sign extensions (0 for DIVU).
            let (c_div, d_div) = if k < 2 {
                (
                    is_div_any.clone() * hi[k].clone(),
                    is_div_any.clone() * rs[k].clone(),
                )
            } else {
                (c_ext.clone() * constant(0xffff), n_ext.clone())
            };
            let c_limb = accumulate.clone() * old_quad[k].clone()
                + subtract.clone() * new_quad[k].clone()
                + c_div;
            let d_limb = product_to_new.clone() * new_quad[k].clone()
                + subtract.clone() * old_quad[k].clone()
                + d_div;
            let carry = col(CARRY + 2 * k) + col(CARRY + 2 * k + 1) * constant(256);
            builder.assert_zero(
                product + c_limb + carry_in - d_limb - carry.clone() * constant(1 << 16),
            );
            carry_in = carry;
        }

        // Division by zero: `d_zero` only on DIV/DIVU rows, set iff `rt = 0` (its limbs are
        // canonical, so their sum vanishes only when both do); then the quotient is all ones.
        let (d_zero, d_inv) = (col(D_ZERO), col(D_INV));
        let rt_sum = rt[0].clone() + rt[1].clone();
        builder.assert_bool(d_zero.clone());
        builder.assert_zero(d_zero.clone() * (AB::Expr::ONE - is_div_any.clone()));
        builder.assert_zero(d_zero.clone() * rt_sum.clone());
        let divides = is_div_any - d_zero.clone();
        builder.assert_zero(divides.clone() * (rt_sum * d_inv - AB::Expr::ONE));
        for limb in &lo {
            builder.assert_zero(d_zero.clone() * (limb.clone() - constant(0xffff)));
        }

        // |d| - |r| - 1 = T >= 0 on limbs, with |x| = σ x + 2^32 s (σ = ±1 by the sign s).
        let sigma_d = AB::Expr::ONE - b_ext.clone() * AB::Expr::TWO;
        let sigma_r = c_ext.clone() * AB::Expr::TWO - AB::Expr::ONE;
        let gap = limbs(&local[REM_GAP..REM_GAP + 4]);
        let rem_carry = col(REM_CARRY);
        let x0 = sigma_d.clone() * rt[0].clone() + sigma_r.clone() * hi[0].clone() - AB::Expr::ONE;
        let x1 =
            sigma_d * rt[1].clone() + sigma_r * hi[1].clone() + (b_ext - c_ext) * constant(1 << 16);
        builder.assert_zero(
            divides.clone() * (gap[0].clone() - x0 - rem_carry.clone() * constant(1 << 16)),
        );
        builder.assert_zero(divides * (gap[1].clone() - x1 + rem_carry.clone()));
        // A non-zero signed remainder has the dividend's sign.
        for limb in &hi {
            builder.assert_zero(flag(Div) * (sign_hi.clone() - sign_rs.clone()) * limb.clone());
        }

        // The moves to HI / LO.
        for k in 0..2 {
            builder.assert_zero(flag(Mthi) * (hi[k].clone() - rs[k].clone()));
            builder.assert_zero(flag(Mtlo) * (lo[k].clone() - rs[k].clone()));
        }

        // Range checks: every byte column, the carries, the sign bits and the remainder carry.
        let mut pairs: Vec<(AB::Expr, AB::Expr)> = [RS, RT, HI, LO, REM_GAP]
            .iter()
            .flat_map(|&base| word_byte_pairs(&local[base..base + 4]))
            .collect();
        for k in 0..4 {
            pairs.push((col(CARRY + 2 * k), col(CARRY + 2 * k + 1) * constant(16)));
        }
        pairs.push((
            sign_check(col(RS + 3), sign_rs),
            sign_check(col(RT + 3), col(SIGN_RT)),
        ));
        pairs.push((sign_check(col(HI + 3), sign_hi), rem_carry + AB::Expr::TWO));
        eval_byte_pairs(builder, pairs, &is_real);

        // The HI / LO accesses, exactly those the executor records.
        let clk = col(CLK);
        let ts = |slot: u64| clk.clone() * constant(SLOTS_PER_CYCLE as u32) + constant(slot as u32);
        let hi_real = any(&[Mult, Multu, Madd, Maddu, Msub, Msubu, Div, Divu, Mfhi, Mthi]);
        let lo_real = any(&[Mult, Multu, Madd, Maddu, Msub, Msubu, Div, Divu, Mflo, Mtlo]);
        for (addr, value, slot, is_access, read, access_cols) in [
            (REG_HI, hi.clone(), SLOT_HI, hi_real, Mfhi, &hi_cols),
            (REG_LO, lo.clone(), SLOT_LO, lo_real, Mflo, &lo_cols),
        ] {
            eval_access(
                builder,
                AccessExprs {
                    addr: [constant(addr), AB::Expr::ZERO],
                    value,
                    ts: ts(slot),
                    is_write: is_access.clone() - flag(read),
                    is_real: is_access,
                },
                access_cols,
            );
        }

        // Receive the instruction from the CPU.
        let to_rd_from_lo = any(&[Mul, Mflo]);
        let result =
            [0, 1].map(|k| to_rd_from_lo.clone() * lo[k].clone() + flag(Mfhi) * hi[k].clone());
        let [rs_lo, rs_hi] = rs;
        let [rt_lo, rt_hi] = rt;
        let [res_lo, res_hi] = result;
        MULDIV_BUS.receive(
            builder,
            [opcode, clk, rs_lo, rs_hi, rt_lo, rt_hi, res_lo, res_hi],
            Count::bounded(is_real, 1),
        );
    }
}

#[cfg(test)]
mod tests {
    use p3_air::check_all_constraints;
    use p3_field::PrimeCharacteristicRing;
    use p3_lookup::{Kind, Lookup, Lookups};
    use zkmips_abi::syscall::HALT;
    use zkmips_executor::{Executor, ExecutorConfig, Mode, Program};

    use super::*;
    use crate::batch::Table;
    use crate::chips::memory::{BoundaryEntry, MemoryBoundaryChip, boundary_entries};
    use crate::chips::testing::{
        SenderChip, TestAir, assert_rejected, assert_rejected_after, lookups_balance,
        prove_and_verify,
    };
    use crate::chips::{ByteChip, ProgramChip};
    use crate::config::{Challenge, Val};
    use crate::shard::executed_instructions;

    /// Position of each chip in the tables of a batch.
    const SENDER: usize = 0;
    const CHIP: usize = 1;

    const MIN: u32 = 0x8000_0000;
    const NEG1: u32 = u32::MAX;

    fn neg(x: i32) -> u32 {
        x as u32
    }

    /// What an instruction claims to leave in HI, LO and `rd`; tests forge it before the run
    /// continues from the forged state.
    #[derive(Clone, Copy, Debug)]
    struct Outputs {
        hi: u32,
        lo: u32,
        result: u32,
    }

    /// A run of mul/div instructions with consistent HI/LO accesses and boundary.
    #[derive(Clone, Debug)]
    struct Run {
        rows: Vec<MulDivRow>,
        boundary: Vec<BoundaryEntry>,
    }

    /// Runs `ops` (`(opcode, rs, rt)`, clocks 1, 2, ...) from HI:LO = `init`, letting `forge`
    /// change each instruction's outputs; later instructions see the forged state, so the HI/LO
    /// chain and the boundary stay consistent and only the chip's constraints can object.
    fn simulate(
        ops: &[(Opcode, u32, u32)],
        init: (u32, u32),
        mut forge: impl FnMut(usize, &mut Outputs),
    ) -> Run {
        let inits = [init.0, init.1];
        let mut state = [(init.0, 0u32), (init.1, 0u32)];
        let mut touched = [false; 2];
        let rows = ops
            .iter()
            .enumerate()
            .map(|(index, &(opcode, rs, rt))| {
                let clk = index as u32 + 1;
                let (hi, lo, result) = evaluate(opcode, rs, rt, state[0].0, state[1].0).unwrap();
                let mut out = Outputs { hi, lo, result };
                forge(index, &mut out);
                let mut access = |k: usize, pattern: Option<bool>, value: u32| {
                    pattern.map(|_| {
                        let (prev_value, prev_timestamp) = state[k];
                        let timestamp = 8 * clk + 2 + k as u32;
                        state[k] = (value, timestamp);
                        touched[k] = true;
                        MemoryAccess {
                            addr: REG_HI + k as u32,
                            value,
                            prev_value,
                            prev_timestamp,
                            timestamp,
                        }
                    })
                };
                let hi = access(0, hi_access(opcode), out.hi);
                let lo = access(1, lo_access(opcode), out.lo);
                MulDivRow {
                    opcode,
                    clk,
                    pc: 0x0040_0000 + 4 * index as u32,
                    word: 0,
                    rs,
                    rt,
                    result: out.result,
                    hi,
                    lo,
                }
            })
            .collect();
        let boundary = (0..2)
            .filter(|&k| touched[k])
            .map(|k| BoundaryEntry {
                addr: REG_HI + k as u32,
                init_value: inits[k],
                final_value: state[k].0,
                final_ts: state[k].1,
            })
            .collect();
        Run { rows, boundary }
    }

    fn honest(ops: &[(Opcode, u32, u32)]) -> Run {
        simulate(ops, (0x0123_4567, 0x89ab_cdef), |_, _| {})
    }

    /// `ops` with instruction `index`'s outputs forged.
    fn forged(ops: &[(Opcode, u32, u32)], index: usize, f: impl Fn(&mut Outputs)) -> Run {
        simulate(ops, (0x0123_4567, 0x89ab_cdef), |i, out| {
            if i == index {
                f(out)
            }
        })
    }

    /// `[Sender, MulDiv, MemoryBoundary, Byte]`: the sender sends `sent`'s messages, `chip` is
    /// the mul/div trace whose lookups `bytes` already counts.
    fn assemble(
        sent: &[MulDivRow],
        chip: RowMajorMatrix<Val>,
        boundary: &[BoundaryEntry],
        mut bytes: ByteCounts,
    ) -> Vec<Table<TestAir, Val>> {
        let sender = SenderChip::new("muldiv", MULDIV_MESSAGE_WIDTH);
        let messages: Vec<Vec<Val>> = sent
            .iter()
            .map(|row| row.message().iter().map(|&v| Val::from_u32(v)).collect())
            .collect();
        let boundary = MemoryBoundaryChip
            .generate_trace(boundary, &mut bytes)
            .expect("test boundary is valid");
        let table = |air, trace| Table {
            air,
            trace,
            public_values: vec![],
        };
        vec![
            table(TestAir::Sender(sender), sender.trace(&messages)),
            table(TestAir::MulDiv(MulDivChip), chip),
            table(TestAir::MemoryBoundary(MemoryBoundaryChip), boundary),
            table(TestAir::Byte(ByteChip), ByteChip.generate_trace(&bytes)),
        ]
    }

    impl Run {
        /// Through the checked trace generation.
        fn tables(&self) -> Vec<Table<TestAir, Val>> {
            let mut bytes = ByteCounts::new();
            let chip = MulDivChip
                .generate_trace(&self.rows, &mut bytes)
                .expect("honest rows");
            assemble(&self.rows, chip, &self.boundary, bytes)
        }

        /// Filled as given: only the constraints stand between the rows and a proof.
        fn forged_tables(&self) -> Vec<Table<TestAir, Val>> {
            let mut bytes = ByteCounts::new();
            let chip = MulDivChip::fill_trace(&self.rows, &mut bytes);
            assemble(&self.rows, chip, &self.boundary, bytes)
        }
    }

    /// What `p3`'s debug checks flag in `tables`: the violated constraints of the mul/div chip
    /// (positions in `eval`), the other chips with a violated constraint, and the unbalanced
    /// buses.
    fn diagnose(
        tables: &[Table<TestAir, Val>],
    ) -> (Vec<usize>, Vec<&'static str>, Vec<&'static str>) {
        let mut constraints = Vec::new();
        let mut chips = Vec::new();
        for t in tables {
            let report = check_all_constraints(&t.air, &t.trace, &t.public_values, None);
            if t.air.name() == "MulDiv" {
                constraints.extend(report.failures.iter().map(|f| f.constraint));
            } else if !report.is_ok() {
                chips.push(t.air.name());
            }
        }
        constraints.sort();
        constraints.dedup();
        let buses = ["muldiv", "memory", "byte"]
            .into_iter()
            .filter(|&bus| {
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
                !lookups_balance(tables, &lookups)
            })
            .collect();
        (constraints, chips, buses)
    }

    /// `tables` fail exactly the given mul/div constraints (see [`constraint`]) and buses (no
    /// other chip objects), and the prover or verifier rejects them.
    fn assert_caught_by(tables: &[Table<TestAir, Val>], constraints: &[usize], buses: &[&str]) {
        let (failed, chips, failed_buses) = diagnose(tables);
        assert_eq!(
            (failed.as_slice(), chips.as_slice(), failed_buses.as_slice()),
            (constraints, &[][..], buses),
            "unexpected set of failing checks"
        );
        assert_rejected(tables);
    }

    fn edge_ops() -> Vec<(Opcode, u32, u32)> {
        use Opcode::*;
        vec![
            (Mult, 0, 0),
            (Mult, 1, NEG1),
            (Mult, MIN, MIN),
            (Mult, MIN, NEG1),
            (Mult, i32::MAX as u32, MIN),
            (Multu, NEG1, NEG1),
            (Multu, MIN, 2),
            (Multu, 0x1234_5678, 0x9abc_def0),
            (Mfhi, 0, 0),
            (Mflo, 0, 0),
            (Mul, NEG1, NEG1),
            (Mul, MIN, NEG1),
            (Mul, 0x1234, 0x10),
            (Mul, 0x7fff_ffff, 0x7fff_ffff),
            (Mthi, NEG1, 0),
            (Mtlo, NEG1, 0),
            // MADD wrapping past 2^64: old HI:LO = all ones, plus 1.
            (Maddu, 1, 1),
            (Mfhi, 0, 0),
            (Madd, NEG1, 1),
            (Madd, MIN, MIN),
            (Maddu, NEG1, NEG1),
            (Msub, MIN, MIN),
            (Msub, NEG1, NEG1),
            (Mtlo, 0, 0),
            (Mthi, 0, 0),
            (Msubu, NEG1, NEG1),
            (Msubu, 0, 5),
            (Mflo, 0, 0),
            (Div, neg(-7), 2),
            (Div, 7, neg(-2)),
            (Div, neg(-7), neg(-2)),
            (Div, 7, 2),
            (Div, MIN, NEG1),
            (Div, MIN, 1),
            (Div, MIN, MIN),
            (Div, 5, MIN),
            (Div, neg(-5), MIN),
            (Div, i32::MAX as u32, MIN),
            (Div, 0, neg(-3)),
            (Div, neg(-6), 3),
            (Div, neg(-100), 0),
            (Div, 0, 0),
            (Divu, 100, 7),
            (Divu, NEG1, 1),
            (Divu, NEG1, NEG1),
            (Divu, 5, NEG1),
            (Divu, NEG1, 0),
            (Divu, 0, 0),
            (Divu, MIN, 3),
            (Mfhi, 0, 0),
            (Mflo, 0, 0),
        ]
    }

    #[test]
    fn reference_semantics_special_cases() {
        use Opcode::*;
        assert_eq!(evaluate(Div, 5, 0, 1, 2), Some((5, u32::MAX, 0)));
        assert_eq!(
            evaluate(Divu, neg(-5), 0, 1, 2),
            Some((neg(-5), u32::MAX, 0))
        );
        assert_eq!(evaluate(Div, MIN, NEG1, 1, 2), Some((0, MIN, 0)));
        assert_eq!(evaluate(Div, neg(-7), 2, 0, 0), Some((NEG1, neg(-3), 0)));
        assert_eq!(evaluate(Div, 7, neg(-2), 0, 0), Some((1, neg(-3), 0)));
        assert_eq!(evaluate(Maddu, 1, 1, NEG1, NEG1), Some((0, 0, 0)));
        assert_eq!(evaluate(Msubu, 1, 1, 0, 0), Some((NEG1, NEG1, 0)));
        assert_eq!(evaluate(Mul, MIN, NEG1, 3, 4), Some((3, 4, MIN)));
        assert_eq!(evaluate(Addu, 1, 1, 0, 0), None);
    }

    #[test]
    fn honest_edge_cases_verify() {
        let run = honest(&edge_ops());
        assert_eq!(run.rows.len(), edge_ops().len());
        // The checked and the forging trace generation agree on honest rows.
        let (checked, filled) = (run.tables(), run.forged_tables());
        for (a, b) in checked.iter().zip(&filled) {
            assert_eq!(a.trace, b.trace);
        }
        prove_and_verify(&checked).expect("honest rows verify");
    }

    fn xorshift(seed: u64) -> impl FnMut() -> u64 {
        let mut state = seed;
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        }
    }

    /// Eight pseudo-random instructions per opcode, in a shuffled order, with operands biased
    /// towards small and extreme values.
    #[test]
    fn random_rows_verify() {
        let mut next = xorshift(0x5eed_cafe_f00d_0001);
        let value = |next: &mut dyn FnMut() -> u64| match next() % 5 {
            0 => (next() % 16) as u32,
            1 => neg(-((next() % 16) as i32)),
            2 => MIN ^ (next() % 4) as u32,
            _ => next() as u32,
        };
        let mut ops: Vec<(Opcode, u32, u32)> = Vec::new();
        for _ in 0..8 {
            for &op in &OPCODES {
                let (rs, rt) = match op {
                    Opcode::Mfhi | Opcode::Mflo => (0, 0),
                    Opcode::Mthi | Opcode::Mtlo => (value(&mut next), 0),
                    _ => (value(&mut next), value(&mut next)),
                };
                ops.push((op, rs, rt));
            }
        }
        for i in (1..ops.len()).rev() {
            ops.swap(i, (next() % (i as u64 + 1)) as usize);
        }
        prove_and_verify(&honest(&ops).tables()).expect("random rows verify");
    }

    mod asm {
        pub const ZERO: u32 = 0;
        pub const V0: u32 = 2;
        pub const A0: u32 = 4;
        pub const A1: u32 = 5;
        pub const A2: u32 = 6;
        pub const A3: u32 = 7;
        pub const T0: u32 = 8;
        pub const T1: u32 = 9;
        pub const T2: u32 = 10;
        pub const T3: u32 = 11;

        fn itype(op: u32, rs: u32, rt: u32, imm: i32) -> u32 {
            (op << 26) | (rs << 21) | (rt << 16) | (imm as u32 & 0xffff)
        }
        pub fn lui(rt: u32, imm: u32) -> u32 {
            itype(0x0f, 0, rt, imm as i32)
        }
        pub fn addiu(rt: u32, rs: u32, imm: i32) -> u32 {
            itype(0x09, rs, rt, imm)
        }
        pub fn special(rs: u32, rt: u32, rd: u32, funct: u32) -> u32 {
            (rs << 21) | (rt << 16) | (rd << 11) | funct
        }
        pub fn special2(rs: u32, rt: u32, rd: u32, funct: u32) -> u32 {
            (0x1c << 26) | special(rs, rt, rd, funct)
        }
        pub const SYSCALL: u32 = 0x0000_000c;
    }

    /// Every mul/div instruction, including MIN / -1, division by zero and accumulation.
    fn muldiv_program() -> Program {
        use asm::*;
        let (mfhi, mflo) = (|rd| special(0, 0, rd, 0x10), |rd| special(0, 0, rd, 0x12));
        let words = [
            lui(T0, 0x8000),
            addiu(T1, ZERO, -1),
            addiu(T2, ZERO, 7),
            addiu(T3, ZERO, -100),
            special(T3, T2, 0, 0x18), // mult
            mflo(A0),
            mfhi(A1),
            special(T0, T1, 0, 0x19),   // multu
            special2(T3, T2, 0, 0x00),  // madd
            special2(T0, T0, 0, 0x01),  // maddu
            special2(T1, T2, 0, 0x04),  // msub
            special2(T3, T0, 0, 0x05),  // msubu
            special2(T3, T2, A2, 0x02), // mul
            special(T3, T2, 0, 0x1a),   // div
            mfhi(A3),
            special(T0, T1, 0, 0x1a),   // div MIN, -1
            special(T3, T2, 0, 0x1b),   // divu
            special(T2, ZERO, 0, 0x1a), // div by zero
            special(T3, ZERO, 0, 0x1b), // divu by zero
            mflo(A0),
            special(T3, 0, 0, 0x11), // mthi
            special(T2, 0, 0, 0x13), // mtlo
            mfhi(A0),
            mflo(A1),
            lui(V0, HALT >> 16),
            addiu(V0, V0, (HALT & 0xffff) as i32),
            SYSCALL,
        ];
        Program::from_code(0x0040_0000, &words)
    }

    /// Rows taken from a real traced run, with the HI/LO part of its shard's boundary.
    #[test]
    fn executor_run_verifies() {
        let program = muldiv_program();
        let config = ExecutorConfig {
            max_cycles: Some(1_000),
            mode: Mode::Tracing,
            shard_cycles: 1 << 10,
            ..ExecutorConfig::default()
        };
        let mut executor = Executor::new(&program, config).unwrap();
        let report = executor.run().expect("the program runs");
        let shards = report.record.expect("tracing mode keeps a record").shards;
        assert_eq!(shards.len(), 1);
        let shard = &shards[0];
        let program_chip = ProgramChip::new(&program).unwrap();
        let executed = executed_instructions(shard, &program_chip).unwrap();
        let rows = MulDivChip::rows(&executed).expect("the executor's rows check");
        for op in OPCODES {
            assert!(rows.iter().any(|r| r.opcode == op), "{op:?} is exercised");
        }
        let messages: Vec<_> = executed.iter().filter_map(MulDivChip::message_of).collect();
        assert_eq!(
            messages,
            rows.iter().map(MulDivRow::message).collect::<Vec<_>>()
        );

        // A record whose MULT wrote another LO is refused, naming the instruction.
        let mult = rows.iter().find(|r| r.opcode == Opcode::Mult).unwrap();
        let mut bad = shard.clone();
        let lo_write = mult.lo.unwrap();
        bad.accesses
            .iter_mut()
            .find(|a| **a == lo_write)
            .unwrap()
            .value ^= 1;
        let bad_executed = executed_instructions(&bad, &program_chip).unwrap();
        let err = MulDivChip::rows(&bad_executed).unwrap_err();
        assert!(
            matches!(err, TraceError::Instruction { clk, pc, .. } if clk == mult.clk && pc == mult.pc),
            "{err}"
        );

        let boundary: Vec<BoundaryEntry> = boundary_entries(shard)
            .unwrap()
            .into_iter()
            .filter(|e| e.addr == REG_HI || e.addr == REG_LO)
            .collect();
        assert_eq!(boundary.len(), 2);
        let run = Run { rows, boundary };
        prove_and_verify(&run.tables()).expect("the executor's rows verify");
    }

    /// Every constraint (LogUp included) has degree at most 3: two quotient chunks at rate 1/2.
    #[test]
    fn constraint_degree_is_at_most_three() {
        let shape = crate::security::batch_shape::<Val, Challenge, _>(
            &[crate::chips::MipsAir::MulDiv(MulDivChip)],
            &[8],
        );
        assert_eq!(shape.max_constraint_degree, 3);
        assert!(shape.num_quotient_chunks <= 2);
    }

    #[test]
    fn empty_chip_verifies() {
        prove_and_verify(&honest(&[]).tables()).expect("an empty batch verifies");
    }

    #[test]
    fn trace_generation_refuses_bad_rows() {
        use Opcode::*;
        let run = honest(&[(Mult, 3, 5), (Mul, 3, 5), (Mfhi, 0, 0)]);
        let refuse = |rows: &[MulDivRow], needle: &str| {
            let mut bytes = ByteCounts::new();
            let err = MulDivChip
                .generate_trace::<Val>(rows, &mut bytes)
                .unwrap_err();
            assert!(
                matches!(&err, TraceError::Instruction { reason, .. } if reason.contains(needle)),
                "{err}"
            );
            assert_eq!(bytes, ByteCounts::new());
        };
        let mut rows = run.rows.clone();
        rows[0].lo.as_mut().unwrap().value = 16;
        refuse(&rows, "claims");
        let mut rows = run.rows.clone();
        rows[1].result = 16;
        refuse(&rows, "claims");
        let mut rows = run.rows.clone();
        rows[0].hi = None;
        refuse(&rows, "must access HI");
        let mut rows = run.rows.clone();
        rows[1].lo = rows[0].lo;
        refuse(&rows, "does not access LO");
        let mut rows = run.rows.clone();
        rows[2].rs = 1;
        refuse(&rows, "reads no rs/rt");
        let mut rows = run.rows.clone();
        rows[2].hi.as_mut().unwrap().timestamp += 1;
        refuse(&rows, "timestamp");
        let mut rows = run.rows.clone();
        rows[2].opcode = Addu;
        refuse(&rows, "not a multiply/divide");
    }

    /// Positions of the mul/div chip's constraints in `eval`, as p3's checker numbers them,
    /// so each tamper test names the check that catches it.
    mod constraint {
        /// The flag of `MUL` and `is_real` (both must be boolean).
        pub const FLAG_MUL_BOOL: usize = 0;
        pub const IS_REAL_BOOL: usize = 13;
        pub const A_EXT: usize = 18;
        pub const B_EXT: usize = 19;
        pub const C_EXT: usize = 20;
        /// The four limb equations of `A B + C = D`.
        pub const PRODUCT: [usize; 4] = [21, 22, 23, 24];
        pub const D_ZERO_ONLY_ON_DIVISIONS: usize = 26;
        pub const D_ZERO_NEEDS_ZERO_DIVISOR: usize = 27;
        pub const NON_ZERO_DIVISOR_INVERTIBLE: usize = 28;
        pub const QUOTIENT_ALL_ONES: [usize; 2] = [29, 30];
        /// `|d| - |r| - 1 = T`, low and high limb.
        pub const GAP: [usize; 2] = [31, 32];
        pub const REMAINDER_SIGN: [usize; 2] = [33, 34];
        /// `MTHI`'s HI = rs, low limb.
        pub const MTHI_LO_LIMB: usize = 35;
        /// The HI read of `MFHI` keeps the value, low limb.
        pub const HI_READ_LO_LIMB: usize = 40;
    }
    use constraint::*;

    fn ops_with(op: (Opcode, u32, u32)) -> Vec<(Opcode, u32, u32)> {
        vec![
            (Opcode::Mthi, 9, 0),
            op,
            (Opcode::Mfhi, 0, 0),
            (Opcode::Mflo, 0, 0),
        ]
    }

    /// The tables of `run` with the witness choices of its row 1 overridden.
    fn tweaked_tables(run: &Run, tweak: Tweak) -> Vec<Table<TestAir, Val>> {
        let mut bytes = ByteCounts::new();
        let chip = MulDivChip::fill_trace_with(&run.rows, &mut bytes, |i| {
            if i == 1 { tweak } else { Tweak::default() }
        });
        assemble(&run.rows, chip, &run.boundary, bytes)
    }

    #[test]
    fn wrong_lo_is_rejected() {
        let ops = ops_with((Opcode::Mult, neg(-3), 0x1234_5678));
        let run = forged(&ops, 1, |out| out.lo ^= 1);
        assert_caught_by(&run.forged_tables(), &PRODUCT, &[]);
    }

    #[test]
    fn wrong_hi_is_rejected() {
        let ops = ops_with((Opcode::Multu, NEG1, NEG1));
        let run = forged(&ops, 1, |out| out.hi = out.hi.wrapping_add(1));
        assert_caught_by(&run.forged_tables(), &PRODUCT[2..], &[]);
    }

    #[test]
    fn wrong_mul_result_is_rejected() {
        let ops = ops_with((Opcode::Mul, 0x1234_5678, 0x9abc_def0));
        let run = forged(&ops, 1, |out| out.result ^= 0x8000);
        assert_caught_by(&run.forged_tables(), &PRODUCT, &[]);
    }

    /// `MULT -1, 2` answered as `MULTU` (HI = 1): with `rs`'s sign bit claimed 0 the product
    /// relation holds and only the sign bit's range check objects; with the true sign bit but
    /// no extension, only the extension constraint does.
    #[test]
    fn mult_answered_unsigned_is_rejected() {
        let ops = ops_with((Opcode::Mult, NEG1, 2));
        let run = forged(&ops, 1, |out| out.hi = 1);
        let forged_sign = Tweak {
            sign_rs: Some(false),
            ..Tweak::default()
        };
        assert_caught_by(&tweaked_tables(&run, forged_sign), &[], &["byte"]);
        let no_extension = Tweak {
            a_ext: Some(false),
            ..Tweak::default()
        };
        assert_caught_by(&tweaked_tables(&run, no_extension), &[A_EXT], &[]);
        // The same for `rt`, whose extension is `b_ext`.
        let ops = ops_with((Opcode::Mult, 2, NEG1));
        let run = forged(&ops, 1, |out| out.hi = 1);
        let no_extension = Tweak {
            b_ext: Some(false),
            ..Tweak::default()
        };
        assert_caught_by(&tweaked_tables(&run, no_extension), &[B_EXT], &[]);
    }

    /// `q - 1` with `r + d`: `q d + r = n` still holds, only `|r| < |d|` fails.
    #[test]
    fn forged_quotient_with_adjusted_remainder_is_rejected() {
        let ops = ops_with((Opcode::Divu, 100, 7));
        let run = forged(&ops, 1, |out| {
            out.lo -= 1;
            out.hi += 7;
        });
        assert_eq!(
            (run.rows[1].lo.unwrap().value, run.rows[1].hi.unwrap().value),
            (13, 9)
        );
        assert_caught_by(&run.forged_tables(), &GAP[1..], &[]);
        // Signed: -100 / 7 = -14 rem -2, claimed -13 rem -9.
        let ops = ops_with((Opcode::Div, neg(-100), 7));
        let run = forged(&ops, 1, |out| {
            out.lo = out.lo.wrapping_add(1);
            out.hi = out.hi.wrapping_sub(7);
        });
        assert_eq!(run.rows[1].hi.unwrap().value, neg(-9));
        assert_caught_by(&run.forged_tables(), &GAP[1..], &[]);
    }

    /// Floor instead of truncating division: -7 / 2 = -4 rem 1 satisfies `q d + r = n` and
    /// `|r| < |d|`; only the remainder's sign is wrong.
    #[test]
    fn wrong_remainder_sign_is_rejected() {
        let ops = ops_with((Opcode::Div, neg(-7), 2));
        let run = forged(&ops, 1, |out| {
            out.lo = neg(-4);
            out.hi = 1;
        });
        assert_caught_by(&run.forged_tables(), &REMAINDER_SIGN[..1], &[]);
    }

    /// A negative remainder treated as unsigned in `C` (its extension bit cleared).
    #[test]
    fn unextended_negative_remainder_is_rejected() {
        let run = honest(&ops_with((Opcode::Div, neg(-7), 2)));
        let tweak = Tweak {
            c_ext: Some(false),
            ..Tweak::default()
        };
        let (failed, _, _) = diagnose(&tweaked_tables(&run, tweak));
        assert!(failed.contains(&C_EXT), "{failed:?}");
        assert_rejected(&tweaked_tables(&run, tweak));
    }

    #[test]
    fn division_by_zero_with_another_result_is_rejected() {
        for op in [Opcode::Div, Opcode::Divu] {
            let ops = ops_with((op, 5, 0));
            let run = forged(&ops, 1, |out| out.lo = 0);
            assert_caught_by(&run.forged_tables(), &QUOTIENT_ALL_ONES, &[]);
            let run = forged(&ops, 1, |out| out.hi = 0);
            assert_caught_by(&run.forged_tables(), &PRODUCT, &[]);
            // Denying the division by zero instead: no inverse of 0 exists.
            let run = forged(&ops, 1, |out| out.lo = 0);
            let tables = run.forged_tables();
            let (failed, _, _) = diagnose(&tables);
            assert!(failed.contains(&QUOTIENT_ALL_ONES[0]));
            assert_rejected_after(tables, CHIP, |trace| {
                trace[cols::WIDTH + cols::D_ZERO] = Val::ZERO;
            });
        }
    }

    /// `d_zero` claimed where the divisor is not zero, or on a row that does not divide.
    #[test]
    fn misplaced_division_by_zero_flag_is_rejected() {
        let run = honest(&ops_with((Opcode::Divu, 5, 7)));
        let mut tables = run.tables();
        tables[CHIP].trace.values[cols::WIDTH + cols::D_ZERO] = Val::ONE;
        let (failed, _, _) = diagnose(&tables);
        assert!(failed.contains(&D_ZERO_NEEDS_ZERO_DIVISOR), "{failed:?}");
        assert_rejected(&tables);

        // MULTU x, 1 leaves LO = x = 0xffff_ffff, so the all-ones quotient check holds.
        let run = honest(&ops_with((Opcode::Multu, NEG1, 1)));
        let mut tables = run.tables();
        tables[CHIP].trace.values[cols::WIDTH + cols::D_ZERO] = Val::ONE;
        let (failed, _, _) = diagnose(&tables);
        assert!(failed.contains(&D_ZERO_ONLY_ON_DIVISIONS), "{failed:?}");
        assert_rejected(&tables);

        // Denying a division by zero: nothing inverts 0.
        let run = honest(&ops_with((Opcode::Divu, 5, 0)));
        let mut tables = run.tables();
        tables[CHIP].trace.values[cols::WIDTH + cols::D_ZERO] = Val::ZERO;
        let (failed, _, _) = diagnose(&tables);
        assert!(failed.contains(&NON_ZERO_DIVISOR_INVERTIBLE), "{failed:?}");
        assert_rejected(&tables);
    }

    /// MIN / -1 is LO = MIN, HI = 0; other answers are refused.
    #[test]
    fn min_over_minus_one_with_another_result_is_rejected() {
        let ops = ops_with((Opcode::Div, MIN, NEG1));
        assert_rejected(&forged(&ops, 1, |out| out.hi = MIN).forged_tables());
        let run = forged(&ops, 1, |out| out.lo = i32::MAX as u32);
        assert_caught_by(&run.forged_tables(), &PRODUCT[..1], &[]);
    }

    #[test]
    fn madd_ignoring_the_old_hi_lo_is_rejected() {
        for op in [Opcode::Madd, Opcode::Msubu] {
            let ops = ops_with((op, 0x1234, neg(-5)));
            let run = forged(&ops, 1, |out| {
                let product = if op == Opcode::Madd {
                    (0x1234i64 * -5) as u64
                } else {
                    0u64.wrapping_sub(u64::from(0x1234u32) * u64::from(neg(-5)))
                };
                out.hi = (product >> 32) as u32;
                out.lo = product as u32;
            });
            let (failed, chips, buses) = diagnose(&run.forged_tables());
            assert!(failed.iter().all(|c| PRODUCT.contains(c)) && !failed.is_empty());
            assert!(chips.is_empty() && buses.is_empty());
            assert_rejected(&run.forged_tables());
        }
    }

    /// A flipped quotient extension bit breaks `A d + r = n` (the bit is free only in name).
    #[test]
    fn flipped_quotient_extension_is_rejected() {
        let run = honest(&ops_with((Opcode::Div, neg(-100), 7)));
        let tweak = Tweak {
            a_ext: Some(false),
            ..Tweak::default()
        };
        let (failed, _, _) = diagnose(&tweaked_tables(&run, tweak));
        assert!(failed.iter().all(|c| PRODUCT.contains(c)) && !failed.is_empty());
        assert_rejected(&tweaked_tables(&run, tweak));
    }

    #[test]
    fn mthi_writing_another_value_is_rejected() {
        let run = forged(&ops_with((Opcode::Mthi, 5, 0)), 1, |out| out.hi = 6);
        assert_caught_by(&run.forged_tables(), &[MTHI_LO_LIMB], &[]);
    }

    /// `MFHI` returning another value than HI holds: as the read's value, the read constraint
    /// objects; as the result only, the CPU's message has no matching row.
    #[test]
    fn mfhi_returning_another_value_is_rejected() {
        let ops = ops_with((Opcode::Mult, 3, 5));
        let run = forged(&ops, 2, |out| {
            out.hi += 1;
            out.result += 1;
        });
        assert_caught_by(&run.forged_tables(), &[HI_READ_LO_LIMB], &[]);
        let run = forged(&ops, 2, |out| out.result += 1);
        assert_caught_by(&run.forged_tables(), &[], &["muldiv"]);
    }

    /// A MULT that does not write HI: the next MFHI reads the stale value and the boundary
    /// closes the chain without the write; the chip's row still makes its access.
    #[test]
    fn skipped_hi_access_is_rejected() {
        let ops = ops_with((Opcode::Mult, 0x1_0000, 0x1_0000));
        let mut run = honest(&ops);
        let skipped = run.rows[1].hi.unwrap();
        let mfhi = run.rows[2].hi.as_mut().unwrap();
        mfhi.prev_value = skipped.prev_value;
        mfhi.prev_timestamp = skipped.prev_timestamp;
        mfhi.value = skipped.prev_value;
        run.rows[2].result = skipped.prev_value;
        let closing = run.boundary.iter_mut().find(|e| e.addr == REG_HI).unwrap();
        closing.final_value = skipped.prev_value;
        assert_caught_by(&run.forged_tables(), &[], &["memory"]);
    }

    /// `MUL`'s result as limbs `(lo + 2^16, hi - 1)`: the same integer, so the product relation
    /// holds (with the carry out of the low limb adjusted), but the LO bytes are out of range.
    #[test]
    fn non_canonical_result_limb_is_rejected() {
        let ops = ops_with((Opcode::Mul, 0x1234, 0x10));
        let run = honest(&ops);
        assert_eq!(run.rows[1].result, 0x0001_2340);
        let mut tables = run.forged_tables();
        let sender = &mut tables[SENDER].trace.values;
        sender[(MULDIV_MESSAGE_WIDTH + 1) + 6] += Val::from_u32(1 << 16);
        sender[(MULDIV_MESSAGE_WIDTH + 1) + 7] -= Val::ONE;
        let chip = &mut tables[CHIP].trace.values;
        chip[cols::WIDTH + cols::LO + 1] += Val::from_u32(256);
        chip[cols::WIDTH + cols::LO + 2] -= Val::ONE;
        assert_eq!(chip[cols::WIDTH + cols::CARRY], Val::ONE);
        chip[cols::WIDTH + cols::CARRY] = Val::ZERO;
        assert_caught_by(&tables, &[], &["byte"]);
    }

    /// One `MUL 0, 5` row with flag 2 answering the same message sent twice, its byte lookups
    /// counted twice: the boolean checks object (and the received opcode doubles with the
    /// flag, so the message no longer matches either).
    #[test]
    fn non_boolean_is_real_is_rejected() {
        let run = honest(&ops_with((Opcode::Mul, 0, 5)));
        let mut sent = run.rows.clone();
        sent.push(run.rows[1]);
        let mut bytes = ByteCounts::new();
        MulDivChip::fill_trace::<Val>(&sent, &mut bytes);
        let mut chip = MulDivChip::fill_trace::<Val>(&run.rows, &mut ByteCounts::new());
        chip.values[cols::WIDTH + cols::FLAGS] = Val::TWO;
        let tables = assemble(&sent, chip, &run.boundary, bytes);
        assert_caught_by(&tables, &[FLAG_MUL_BOOL, IS_REAL_BOOL], &["muldiv"]);
    }

    /// A padding row switched on claims `MUL 0, 0 = 0`, which nobody sent.
    #[test]
    fn activated_padding_row_is_rejected() {
        let run = honest(&ops_with((Opcode::Mul, 6, 7))[..3]);
        let mut tables = run.tables();
        let trace = &mut tables[CHIP].trace.values;
        assert!(trace.len() / cols::WIDTH > run.rows.len());
        trace[run.rows.len() * cols::WIDTH + cols::FLAGS] = Val::ONE;
        assert_caught_by(&tables, &[], &["muldiv", "byte"]);
    }
}
