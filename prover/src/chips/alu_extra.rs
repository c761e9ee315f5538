//! `AluExtraChip`: `MOVZ`/`MOVN`, `CLZ`/`CLO`, `SEB`/`SEH`/`WSBH`, `EXT`/`INS` on the ALU bus.
//!
//! Every row receives `(op, a, b, c, d)` from [`crate::buses::ALU_BUS`] with count `is_real`
//! (`d` the destination's old value for MOVZ/MOVN/INS, 0 otherwise) and proves `a`, held as
//! four range-checked bytes (the CPU writes it to a register). `b` is held as four range-checked
//! bytes too, since most operations read its bytes.
//!
//! - `MOVZ`/`MOVN`: `z = [c == 0]` from the limbs of `c` (`z c_lo = z c_hi = 0` and
//!   `c_lo inv_lo + c_hi inv_hi = 1 - z`), then `a = sel b + (1 - sel) d` limb-wise with
//!   `sel = z` (MOVZ) or `1 - z` (MOVN).
//! - `CLZ`/`CLO`: the bytes `x_i` of `b` (CLZ) or of `!b` (CLO) are looked up in the byte
//!   table's `CLZ` column (`z_i` = leading zeros of `x_i`); `e_i = [x_i == 0]` by an inverse
//!   witness; `a = z_3 + e_3 (z_2 + e_2 (z_1 + e_1 z_0))`, with the products of the `e_i` as
//!   columns to keep the degree at 3.
//! - `SEB`/`SEH`: the sign `s` of byte 0 (SEB) or 1 (SEH) of `b` from the byte table's `MSB`
//!   column; the upper bytes of `a` are `255 s`.
//! - `WSBH`: `a`'s bytes are `b`'s bytes permuted.
//! - `EXT`/`INS`: `c = pos + 256 size` with `pos ∈ [0, 31]`, `size - 1 ∈ [0, 31]` and
//!   `u = 32 - pos - size ∈ [0, 31]` (each proven by range-checking `k` and `8 k` as bytes), so
//!   the field is inside the word and every shift amount below is in `[0, 31]`. The shifts are
//!   delegated to the shift and bitwise chips by *sending* ALU requests:
//!   - `EXT`: `t = b << u`, `a = t >> (32 - size)` (logical);
//!   - `INS`: `t = b << (32 - size)`, `v = t >> u` (the low `size` bits of `b` moved to `pos`),
//!     `tm = 0xffffffff << (32 - size)`, `mask = tm >> u`, `dm = d & mask`, and
//!     `a = d - dm + v` limb by limb: `dm`'s bits are a subset of `d`'s and `v`'s of `mask`,
//!     so no limb borrows or carries.
//!
//! Every constraint has degree at most 3 and every bus message degree at most 2.
//!
//! 55 columns; per row 12 byte-table lookups, up to five ALU-bus sends (EXT: 2, INS: 5) and the
//! ALU-bus receive. Whoever builds the batch must prove [`AluExtraChip::requests`] with the shift
//! and bitwise chips.

use p3_air::{Air, BaseAir, PermutationAirBuilder, WindowAccess};
use p3_field::{Field, PrimeCharacteristicRing};
use p3_lookup::{Count, InteractionBuilder};
use p3_matrix::dense::RowMajorMatrix;
use zkmips_executor::Opcode;

use super::word::{eval_byte_pair, eval_byte_pairs, limbs, word_byte_pairs, word_bytes};
use super::{
    AluRow, ByteCounts, TraceError, eval_alu_flags, padded_trace, receive_alu_op_with_old,
};
use crate::buses::{ALU_BUS, AluOp, BYTE_BUS, ByteOp, word_limbs};
use crate::shard::{ClassEvent, Executed};

pub(crate) mod cols {
    pub const IS_MOVZ: usize = 0;
    pub const IS_MOVN: usize = 1;
    pub const IS_CLZ: usize = 2;
    pub const IS_CLO: usize = 3;
    pub const IS_SEB: usize = 4;
    pub const IS_SEH: usize = 5;
    pub const IS_WSBH: usize = 6;
    pub const IS_EXT: usize = 7;
    pub const IS_INS: usize = 8;
    /// Bytes of the result and of `b` (little-endian).
    pub const A: usize = 9;
    pub const B: usize = 13;
    /// Limbs of `c` and `d`.
    pub const C: usize = 17;
    pub const D: usize = 19;
    /// MOVZ/MOVN: `[c == 0]` and the inverse witnesses of `c`'s limbs.
    pub const C_IS_ZERO: usize = 21;
    pub const C_INV: usize = 22;
    /// CLZ/CLO: the bytes counted (`b`'s or `!b`'s), their leading zeros, `[x_i == 0]`, the
    /// inverses of `x_i`, and the products `e_3 e_2`, `e_3 e_2 e_1`.
    pub const X: usize = 24;
    pub const ZEROS: usize = 28;
    pub const X_IS_ZERO: usize = 32;
    pub const X_INV: usize = 36;
    pub const ZERO_PREFIX: usize = 40;
    /// SEB/SEH: the sign bit extended.
    pub const SIGN: usize = 42;
    /// EXT/INS: the field, and the limbs of the intermediate words (see the module docs).
    pub const POS: usize = 43;
    pub const SIZE: usize = 44;
    pub const T: usize = 45;
    pub const V: usize = 47;
    pub const TM: usize = 49;
    pub const MASK: usize = 51;
    pub const DM: usize = 53;
    pub const WIDTH: usize = 55;
}

const FLAGS: [(usize, AluOp); 9] = [
    (cols::IS_MOVZ, AluOp::Movz),
    (cols::IS_MOVN, AluOp::Movn),
    (cols::IS_CLZ, AluOp::Clz),
    (cols::IS_CLO, AluOp::Clo),
    (cols::IS_SEB, AluOp::Seb),
    (cols::IS_SEH, AluOp::Seh),
    (cols::IS_WSBH, AluOp::Wsbh),
    (cols::IS_EXT, AluOp::Ext),
    (cols::IS_INS, AluOp::Ins),
];

/// One operation of this chip: `a = op(b, c, d)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AluExtraRow {
    pub op: AluOp,
    pub a: u32,
    pub b: u32,
    pub c: u32,
    pub d: u32,
}

impl AluExtraRow {
    /// The row with its result computed; `None` for an invalid EXT/INS field or an operation
    /// of another chip.
    pub fn new(op: AluOp, b: u32, c: u32, d: u32) -> Option<Self> {
        if !FLAGS.iter().any(|(_, o)| *o == op) {
            return None;
        }
        let d = if op.uses_old_value() { d } else { 0 };
        op.evaluate_with_old(b, c, d)
            .map(|a| Self { op, a, b, c, d })
    }

    /// The ALU-bus message of this row: `[op, a, b, c, d]` as limbs.
    pub fn message(&self) -> [u32; 9] {
        let [a, b, c, d] = [self.a, self.b, self.c, self.d].map(word_limbs);
        [
            self.op as u32,
            a[0],
            a[1],
            b[0],
            b[1],
            c[0],
            c[1],
            d[0],
            d[1],
        ]
    }

    /// `(pos, size, u = 32 - pos - size)` of an EXT/INS field (unchecked).
    fn field(&self) -> (u32, u32, u32) {
        let (pos, size) = (self.c & 0xff, (self.c >> 8) & 0xff);
        (pos, size, 32u32.wrapping_sub(pos).wrapping_sub(size))
    }
}

/// The operation of this chip an executor opcode maps to.
pub fn alu_extra_op(opcode: Opcode) -> Option<AluOp> {
    Some(match opcode {
        Opcode::Movz => AluOp::Movz,
        Opcode::Movn => AluOp::Movn,
        Opcode::Clz => AluOp::Clz,
        Opcode::Clo => AluOp::Clo,
        Opcode::Seb => AluOp::Seb,
        Opcode::Seh => AluOp::Seh,
        Opcode::Wsbh => AluOp::Wsbh,
        Opcode::Ext => AluOp::Ext,
        Opcode::Ins => AluOp::Ins,
        _ => return None,
    })
}

#[derive(Clone, Copy, Debug, Default)]
pub struct AluExtraChip;

impl AluExtraChip {
    pub const fn name(&self) -> &'static str {
        "AluExtra"
    }

    /// The rows of this chip in a shard: every MOVZ/MOVN/CLZ/CLO/SEB/SEH/WSBH/EXT/INS, from its
    /// ALU event, checked against the reference semantics.
    pub fn rows(executed: &[Executed]) -> Result<Vec<AluExtraRow>, TraceError> {
        let mut rows = Vec::new();
        for instr in executed {
            let Some(op) = alu_extra_op(instr.instruction.opcode) else {
                continue;
            };
            let ClassEvent::Alu(event) = instr.event else {
                return Err(instr.error("AluExtra", "no ALU event for this instruction"));
            };
            let row = AluExtraRow {
                op,
                a: event.a,
                b: event.b,
                c: event.c,
                d: event.d,
            };
            check_row("AluExtra", rows.len(), &row)
                .map_err(|err| instr.error("AluExtra", err.to_string()))?;
            rows.push(row);
        }
        Ok(rows)
    }

    /// The trace for `rows`, recording its byte lookups in `bytes`. Fails, before recording
    /// anything, on a row of another chip, an invalid EXT/INS field or a wrong result.
    pub fn generate_trace<F: Field>(
        &self,
        rows: &[AluExtraRow],
        bytes: &mut ByteCounts,
    ) -> Result<RowMajorMatrix<F>, TraceError> {
        for (index, row) in rows.iter().enumerate() {
            check_row(self.name(), index, row)?;
        }
        Ok(Self::fill_trace(rows, bytes, |_, row| {
            word_bytes(row.a).map(u32::from)
        }))
    }

    /// The ALU requests this chip sends for `rows` (EXT and INS delegate their shifts and
    /// masking), to be proved by the shift and bitwise chips of the same batch.
    pub fn requests(rows: &[AluExtraRow]) -> Vec<AluRow> {
        let mut requests = Vec::new();
        for row in rows {
            let (_, size, u) = row.field();
            let rest = 32u32.wrapping_sub(size);
            let request = |op: AluOp, b: u32, c: u32| AluRow {
                opcode: op,
                a: op.evaluate(b, c).unwrap_or(0),
                b,
                c,
            };
            match row.op {
                AluOp::Ext => {
                    let t = request(AluOp::Sll, row.b, u);
                    requests.push(t);
                    requests.push(request(AluOp::Srl, t.a, rest));
                }
                AluOp::Ins => {
                    let t = request(AluOp::Sll, row.b, rest);
                    requests.push(t);
                    requests.push(request(AluOp::Srl, t.a, u));
                    let tm = request(AluOp::Sll, u32::MAX, rest);
                    requests.push(tm);
                    let mask = request(AluOp::Srl, tm.a, u);
                    requests.push(mask);
                    requests.push(request(AluOp::And, row.d, mask.a));
                }
                _ => {}
            }
        }
        requests
    }

    /// Fills the trace without checking the rows: the result bytes are `result_bytes(i, row)`
    /// (which tests may set out of range), every other column is derived from `b`, `c`, `d`.
    /// Byte lookups are recorded only for entries in the table. Rows must have valid EXT/INS
    /// fields.
    pub(crate) fn fill_trace<F: Field>(
        rows: &[AluExtraRow],
        bytes: &mut ByteCounts,
        result_bytes: impl Fn(usize, &AluExtraRow) -> [u32; 4],
    ) -> RowMajorMatrix<F> {
        padded_trace(rows, cols::WIDTH, |index, row, out| {
            fill_row(out, row, result_bytes(index, row), bytes);
        })
    }
}

fn check_row(chip: &'static str, index: usize, row: &AluExtraRow) -> Result<(), TraceError> {
    if !FLAGS.iter().any(|(_, op)| *op == row.op) {
        return Err(TraceError::UnsupportedOp {
            chip,
            row: index,
            op: row.op,
        });
    }
    if !row.op.uses_old_value() && row.d != 0 {
        return Err(TraceError::InvalidRow {
            chip,
            row: index,
            reason: format!("{:?} has no old value, but d = {:#010x}", row.op, row.d),
        });
    }
    let Some(expected) = row.op.evaluate_with_old(row.b, row.c, row.d) else {
        return Err(TraceError::InvalidRow {
            chip,
            row: index,
            reason: format!(
                "{:?} field {:#x} (pos | size << 8) is not inside the word",
                row.op, row.c
            ),
        });
    };
    let c_must_be_zero = matches!(
        row.op,
        AluOp::Clz | AluOp::Clo | AluOp::Seb | AluOp::Seh | AluOp::Wsbh
    );
    if c_must_be_zero && row.c != 0 {
        return Err(TraceError::InvalidRow {
            chip,
            row: index,
            reason: format!(
                "{:?} takes no second operand, but c = {:#010x}",
                row.op, row.c
            ),
        });
    }
    if expected != row.a {
        return Err(TraceError::WrongResult {
            chip,
            row: index,
            op: row.op,
            b: row.b,
            c: row.c,
            expected,
            claimed: row.a,
        });
    }
    Ok(())
}

fn fill_row<F: Field>(out: &mut [F], row: &AluExtraRow, a: [u32; 4], bytes: &mut ByteCounts) {
    let Some(&(flag, _)) = FLAGS.iter().find(|(_, op)| *op == row.op) else {
        return;
    };
    out[flag] = F::ONE;
    let mut record = |op: ByteOp, x: u32, y: u32| {
        if let (Ok(x), Ok(y)) = (u8::try_from(x), u8::try_from(y)) {
            bytes.record(op, x, y);
        }
    };
    let b = word_bytes(row.b);
    for i in 0..4 {
        out[cols::A + i] = F::from_u32(a[i]);
        out[cols::B + i] = F::from_u8(b[i]);
    }
    record(ByteOp::RangePair, a[0], a[1]);
    record(ByteOp::RangePair, a[2], a[3]);
    record(ByteOp::RangePair, b[0].into(), b[1].into());
    record(ByteOp::RangePair, b[2].into(), b[3].into());
    let [c_lo, c_hi] = word_limbs(row.c);
    let [d_lo, d_hi] = word_limbs(row.d);
    out[cols::C] = F::from_u32(c_lo);
    out[cols::C + 1] = F::from_u32(c_hi);
    out[cols::D] = F::from_u32(d_lo);
    out[cols::D + 1] = F::from_u32(d_hi);

    match row.op {
        AluOp::Movz | AluOp::Movn => {
            out[cols::C_IS_ZERO] = F::from_bool(row.c == 0);
            // One non-zero limb's inverse is enough to show `c != 0`.
            if c_lo != 0 {
                out[cols::C_INV] = F::from_u32(c_lo).inverse();
            } else if c_hi != 0 {
                out[cols::C_INV + 1] = F::from_u32(c_hi).inverse();
            }
        }
        AluOp::Clz | AluOp::Clo => {
            let x = if row.op == AluOp::Clz {
                b
            } else {
                b.map(|v| !v)
            };
            for i in 0..4 {
                out[cols::X + i] = F::from_u8(x[i]);
                out[cols::ZEROS + i] = F::from_u32(x[i].leading_zeros());
                out[cols::X_IS_ZERO + i] = F::from_bool(x[i] == 0);
                if x[i] != 0 {
                    out[cols::X_INV + i] = F::from_u8(x[i]).inverse();
                }
                record(ByteOp::Clz, x[i].into(), 0);
            }
            let e = |i: usize| u32::from(x[i] == 0);
            out[cols::ZERO_PREFIX] = F::from_u32(e(3) * e(2));
            out[cols::ZERO_PREFIX + 1] = F::from_u32(e(3) * e(2) * e(1));
        }
        AluOp::Seb | AluOp::Seh => {
            let top = if row.op == AluOp::Seb { b[0] } else { b[1] };
            out[cols::SIGN] = F::from_u8(top >> 7);
            record(ByteOp::Msb, top.into(), 0);
        }
        AluOp::Ext | AluOp::Ins => {
            let (pos, size, u) = row.field();
            out[cols::POS] = F::from_u32(pos);
            out[cols::SIZE] = F::from_u32(size);
            record(ByteOp::RangePair, pos, size.wrapping_sub(1));
            record(
                ByteOp::RangePair,
                pos.wrapping_mul(8),
                size.wrapping_sub(1).wrapping_mul(8),
            );
            record(ByteOp::RangePair, u.wrapping_mul(8), 0);
            let requests = AluExtraChip::requests(core::slice::from_ref(row));
            let columns: &[usize] = if row.op == AluOp::Ext {
                &[cols::T, cols::V]
            } else {
                &[cols::T, cols::V, cols::TM, cols::MASK, cols::DM]
            };
            for (&column, request) in columns.iter().zip(&requests) {
                let [lo, hi] = word_limbs(request.a);
                out[column] = F::from_u32(lo);
                out[column + 1] = F::from_u32(hi);
            }
        }
        _ => {}
    }
}

impl<F: Field> BaseAir<F> for AluExtraChip {
    fn width(&self) -> usize {
        cols::WIDTH
    }

    fn main_next_row_columns(&self) -> Vec<usize> {
        vec![]
    }
}

impl<AB: PermutationAirBuilder + InteractionBuilder> Air<AB> for AluExtraChip {
    fn eval(&self, builder: &mut AB) {
        let main = builder.main();
        let local: Vec<AB::Expr> = main.current_slice().iter().map(|&v| v.into()).collect();
        let col = |i: usize| local[i].clone();
        let f = |v: u32| AB::Expr::from_u32(v);
        let pair = |base: usize| [col(base), col(base + 1)];

        let (is_real, opcode) = eval_alu_flags(builder, &FLAGS.map(|(flag, op)| (col(flag), op)));
        let [
            is_movz,
            is_movn,
            is_clz,
            is_clo,
            is_seb,
            is_seh,
            is_wsbh,
            is_ext,
            is_ins,
        ] = FLAGS.map(|(flag, _)| col(flag));
        let a_bytes: Vec<AB::Expr> = (0..4).map(|i| col(cols::A + i)).collect();
        let b_bytes: Vec<AB::Expr> = (0..4).map(|i| col(cols::B + i)).collect();
        let (a, b) = (limbs(&a_bytes), limbs(&b_bytes));
        let (c, d) = (pair(cols::C), pair(cols::D));

        // `a` and `b` are words: every byte in range.
        let mut pairs = word_byte_pairs(&a_bytes).to_vec();
        pairs.extend(word_byte_pairs(&b_bytes));
        eval_byte_pairs(builder, pairs, &is_real);

        // Operands an operation does not take are 0, so each request has one encoding.
        let no_old_value = is_real.clone() - is_movz.clone() - is_movn.clone() - is_ins.clone();
        let is_count = is_clz.clone() + is_clo.clone();
        let is_sign = is_seb.clone() + is_seh.clone();
        let one_operand = is_count.clone() + is_sign.clone() + is_wsbh.clone();
        for k in 0..2 {
            builder.assert_zero(no_old_value.clone() * d[k].clone());
            builder.assert_zero(one_operand.clone() * c[k].clone());
        }

        // MOVZ/MOVN: z = [c == 0], then a = sel ? b : d.
        let is_move = is_movz.clone() + is_movn.clone();
        let z = col(cols::C_IS_ZERO);
        for limb in &c {
            builder.assert_zero(z.clone() * limb.clone());
        }
        builder.assert_zero(
            is_move.clone()
                * (c[0].clone() * col(cols::C_INV)
                    + c[1].clone() * col(cols::C_INV + 1)
                    + z.clone()
                    - AB::Expr::ONE),
        );
        let select = is_movz * z.clone() + is_movn * (AB::Expr::ONE - z);
        for k in 0..2 {
            builder.assert_zero(
                is_move.clone() * a[k].clone()
                    - select.clone() * b[k].clone()
                    - (is_move.clone() - select.clone()) * d[k].clone(),
            );
        }

        // CLZ/CLO: leading zeros of the bytes x_i, chained while the bytes above are zero.
        let x: Vec<AB::Expr> = (0..4).map(|i| col(cols::X + i)).collect();
        let zeros: Vec<AB::Expr> = (0..4).map(|i| col(cols::ZEROS + i)).collect();
        let e: Vec<AB::Expr> = (0..4).map(|i| col(cols::X_IS_ZERO + i)).collect();
        for i in 0..4 {
            builder.assert_eq(
                x[i].clone(),
                is_clz.clone() * b_bytes[i].clone()
                    + is_clo.clone() * (f(255) - b_bytes[i].clone()),
            );
            builder.assert_zero(e[i].clone() * x[i].clone());
            builder.assert_zero(
                is_count.clone()
                    * (x[i].clone() * col(cols::X_INV + i) + e[i].clone() - AB::Expr::ONE),
            );
            BYTE_BUS.lookup_key(
                builder,
                [
                    AB::Expr::from_u8(ByteOp::Clz as u8),
                    x[i].clone(),
                    AB::Expr::ZERO,
                    zeros[i].clone(),
                ],
                Count::bounded(is_count.clone(), 1),
            );
        }
        let (prefix2, prefix3) = (col(cols::ZERO_PREFIX), col(cols::ZERO_PREFIX + 1));
        builder.assert_eq(prefix2.clone(), e[3].clone() * e[2].clone());
        builder.assert_eq(prefix3.clone(), prefix2.clone() * e[1].clone());
        let count = zeros[3].clone()
            + e[3].clone() * zeros[2].clone()
            + prefix2 * zeros[1].clone()
            + prefix3 * zeros[0].clone();
        builder.assert_zero(is_count.clone() * (a[0].clone() - count));
        builder.assert_zero(is_count * a[1].clone());

        // SEB/SEH: the sign of byte 0 or 1 fills the upper bytes.
        let sign = col(cols::SIGN);
        BYTE_BUS.lookup_key(
            builder,
            [
                AB::Expr::from_u8(ByteOp::Msb as u8),
                is_seb.clone() * b_bytes[0].clone() + is_seh.clone() * b_bytes[1].clone(),
                AB::Expr::ZERO,
                sign.clone(),
            ],
            Count::bounded(is_sign.clone(), 1),
        );
        let fill = sign * f(255);
        builder.assert_zero(is_sign.clone() * (a_bytes[0].clone() - b_bytes[0].clone()));
        builder.assert_zero(
            is_seb * (a_bytes[1].clone() - fill.clone())
                + is_seh * (a_bytes[1].clone() - b_bytes[1].clone()),
        );
        for byte in &a_bytes[2..] {
            builder.assert_zero(is_sign.clone() * (byte.clone() - fill.clone()));
        }

        // WSBH: the bytes of each half swapped.
        for (i, j) in [(0, 1), (1, 0), (2, 3), (3, 2)] {
            builder.assert_zero(is_wsbh.clone() * (a_bytes[i].clone() - b_bytes[j].clone()));
        }

        // EXT/INS: c = pos + 256 size with the field inside the word.
        let is_field = is_ext.clone() + is_ins.clone();
        let (pos, size) = (col(cols::POS), col(cols::SIZE));
        builder
            .assert_zero(is_field.clone() * (c[0].clone() - pos.clone() - size.clone() * f(256)));
        builder.assert_zero(is_field.clone() * c[1].clone());
        let size_minus_one = size.clone() - AB::Expr::ONE;
        let u = f(32) - pos.clone() - size.clone();
        eval_byte_pair(
            builder,
            pos.clone(),
            size_minus_one.clone(),
            is_field.clone(),
        );
        eval_byte_pair(builder, pos * f(8), size_minus_one * f(8), is_field.clone());
        eval_byte_pair(builder, u.clone() * f(8), AB::Expr::ZERO, is_field.clone());

        let word = |lo: AB::Expr, hi: AB::Expr| [lo, hi];
        let amount = |s: AB::Expr| [s, AB::Expr::ZERO];
        let send = |builder: &mut AB, op: AluOp, [r, x, y]: [[AB::Expr; 2]; 3], count: AB::Expr| {
            let [r_lo, r_hi] = r;
            let [x_lo, x_hi] = x;
            let [y_lo, y_hi] = y;
            ALU_BUS.send(
                builder,
                [
                    AB::Expr::from_u8(op as u8),
                    r_lo,
                    r_hi,
                    x_lo,
                    x_hi,
                    y_lo,
                    y_hi,
                    AB::Expr::ZERO,
                    AB::Expr::ZERO,
                ],
                Count::bounded(count, 1),
            );
        };
        let (t, v) = (pair(cols::T), pair(cols::V));
        let (tm, mask, dm) = (pair(cols::TM), pair(cols::MASK), pair(cols::DM));
        let left_amount = is_ext.clone() * u.clone() + is_ins.clone() * (f(32) - size.clone());
        let right_amount = is_ext.clone() * (f(32) - size.clone()) + is_ins.clone() * u.clone();
        send(
            builder,
            AluOp::Sll,
            [t.clone(), b.clone(), amount(left_amount)],
            is_field.clone(),
        );
        send(
            builder,
            AluOp::Srl,
            [v.clone(), t, amount(right_amount)],
            is_field,
        );
        let ones = f(0xffff);
        send(
            builder,
            AluOp::Sll,
            [tm.clone(), word(ones.clone(), ones), amount(f(32) - size)],
            is_ins.clone(),
        );
        send(
            builder,
            AluOp::Srl,
            [mask.clone(), tm, amount(u)],
            is_ins.clone(),
        );
        send(
            builder,
            AluOp::And,
            [dm.clone(), d.clone(), mask],
            is_ins.clone(),
        );
        for k in 0..2 {
            builder.assert_zero(is_ext.clone() * (a[k].clone() - v[k].clone()));
            builder.assert_zero(
                is_ins.clone() * (a[k].clone() - d[k].clone() + dm[k].clone() - v[k].clone()),
            );
        }

        receive_alu_op_with_old(builder, opcode, [a, b, c, d], is_real);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use zkmips_executor::{Executor, ExecutorConfig, Mode, Program, Shard};

    use super::*;
    use crate::batch::Table;
    use crate::buses::ALU_MESSAGE_WIDTH;
    use crate::chips::testing::{
        SenderChip, TestAir, assert_rejected, assert_rejected_after, prove_and_verify,
    };
    use crate::chips::{BitwiseChip, ByteChip, ProgramChip, ShiftChip, split_alu_rows};
    use crate::config::Val;
    use crate::shard::executed_instructions;

    /// Positions of the tables in [`tables`].
    const EXTRA: usize = 1;

    /// Runs `words` (loaded at 0x0040_0000) in tracing mode; the program and its shards.
    pub(crate) fn run_traced(words: &[u32]) -> (Program, Vec<Shard>) {
        let program = Program::from_code(0x0040_0000, words);
        let config = ExecutorConfig {
            max_cycles: Some(10_000),
            mode: Mode::Tracing,
            shard_cycles: 64,
            ..ExecutorConfig::default()
        };
        let mut executor = Executor::new(&program, config).expect("the program loads");
        let report = executor.run().expect("the program runs to its HALT");
        let shards = report.record.expect("tracing mode keeps a record").shards;
        (program, shards)
    }

    /// Instruction encoders for the test programs.
    pub(crate) mod asm {
        pub const ZERO: u32 = 0;
        pub const V0: u32 = 2;
        pub const T0: u32 = 8;
        pub const T1: u32 = 9;
        pub const T2: u32 = 10;
        pub const T3: u32 = 11;
        pub const T4: u32 = 12;
        pub const T5: u32 = 13;
        pub const T6: u32 = 14;
        pub const T7: u32 = 15;
        pub const S0: u32 = 16;
        pub const S1: u32 = 17;
        pub const S2: u32 = 18;
        pub const RA: u32 = 31;
        pub const NOP: u32 = 0;

        pub fn itype(op: u32, rs: u32, rt: u32, imm: i32) -> u32 {
            (op << 26) | (rs << 21) | (rt << 16) | (imm as u32 & 0xffff)
        }
        pub fn rtype(op: u32, rs: u32, rt: u32, rd: u32, sa: u32, funct: u32) -> u32 {
            (op << 26) | (rs << 21) | (rt << 16) | (rd << 11) | (sa << 6) | funct
        }
        pub fn lui(rt: u32, imm: u32) -> u32 {
            itype(0x0f, 0, rt, imm as i32)
        }
        pub fn ori(rt: u32, rs: u32, imm: u32) -> u32 {
            itype(0x0d, rs, rt, imm as i32)
        }
        pub fn addiu(rt: u32, rs: u32, imm: i32) -> u32 {
            itype(0x09, rs, rt, imm)
        }
        /// `rt = value` in two instructions.
        pub fn li(rt: u32, value: u32) -> [u32; 2] {
            [lui(rt, value >> 16), ori(rt, rt, value & 0xffff)]
        }
        /// `$v0 = HALT; syscall`.
        pub fn halt() -> [u32; 2] {
            [lui(V0, zkmips_abi::syscall::HALT >> 16), 0x0000_000c]
        }
    }

    fn row(op: AluOp, b: u32, c: u32, d: u32) -> AluExtraRow {
        AluExtraRow::new(op, b, c, d).expect("valid fixture row")
    }

    fn honest_bytes(_: usize, row: &AluExtraRow) -> [u32; 4] {
        word_bytes(row.a).map(u32::from)
    }

    /// Sender (standing in for the CPU) sending `sent`, this chip proving `proved` with result
    /// bytes `result_bytes`, the shift and bitwise chips proving its requests, the byte table.
    fn tables_with(
        sent: &[AluExtraRow],
        proved: &[AluExtraRow],
        result_bytes: impl Fn(usize, &AluExtraRow) -> [u32; 4],
    ) -> Vec<Table<TestAir, Val>> {
        let sender = SenderChip::new("alu", ALU_MESSAGE_WIDTH);
        let messages: Vec<Vec<Val>> = sent
            .iter()
            .map(|r| r.message().map(Val::from_u32).to_vec())
            .collect();
        let mut bytes = ByteCounts::new();
        let extra = AluExtraChip::fill_trace(proved, &mut bytes, result_bytes);
        let [_, bitwise_rows, shift_rows, _] = split_alu_rows(&AluExtraChip::requests(proved));
        let shift = ShiftChip.generate_trace(&shift_rows, &mut bytes).unwrap();
        let bitwise = BitwiseChip
            .generate_trace(&bitwise_rows, &mut bytes)
            .unwrap();
        let table = |air, trace| Table {
            air,
            trace,
            public_values: vec![],
        };
        vec![
            table(TestAir::Sender(sender), sender.trace(&messages)),
            table(TestAir::AluExtra(AluExtraChip), extra),
            table(TestAir::Shift(ShiftChip), shift),
            table(TestAir::Bitwise(BitwiseChip), bitwise),
            table(TestAir::Byte(ByteChip), ByteChip.generate_trace(&bytes)),
        ]
    }

    /// Honest tables through the production trace generation.
    fn tables(rows: &[AluExtraRow]) -> Vec<Table<TestAir, Val>> {
        let mut check = ByteCounts::new();
        AluExtraChip
            .generate_trace::<Val>(rows, &mut check)
            .expect("honest rows");
        tables_with(rows, rows, honest_bytes)
    }

    /// The rows taken as given (even wrong), every table consistent with them.
    fn forged(rows: &[AluExtraRow]) -> Vec<Table<TestAir, Val>> {
        tables_with(rows, rows, honest_bytes)
    }

    const EDGES: [u32; 8] = [
        0,
        1,
        0xffff_ffff,
        0x8000_0000,
        0x7fff_ffff,
        0x0000_0080,
        0x0000_8000,
        0x00ff_0100,
    ];

    fn field(pos: u32, size: u32) -> u32 {
        pos | size << 8
    }

    fn honest_rows() -> Vec<AluExtraRow> {
        let mut rows = Vec::new();
        for (i, &b) in EDGES.iter().enumerate() {
            let other = EDGES[(i + 3) % EDGES.len()];
            rows.push(row(AluOp::Movz, b, 0, other));
            rows.push(row(AluOp::Movz, b, other | 1, 0x1234_5678));
            rows.push(row(AluOp::Movn, b, 0x0001_0000, other));
            rows.push(row(AluOp::Movn, b, 0, 0x1234_5678));
            for op in [AluOp::Clz, AluOp::Clo, AluOp::Seb, AluOp::Seh, AluOp::Wsbh] {
                rows.push(row(op, b, 0, 0));
            }
        }
        for b in [
            0x0000_0001,
            0x0001_0000,
            0x0100_0000,
            0xfeff_ffff,
            0xffff_fffe,
        ] {
            rows.push(row(AluOp::Clz, b, 0, 0));
            rows.push(row(AluOp::Clo, b, 0, 0));
        }
        let (b, d) = (0x8765_4321, 0xdead_beef);
        for (pos, size) in [
            (0, 32),
            (0, 1),
            (31, 1),
            (4, 12),
            (16, 16),
            (0, 16),
            (7, 25),
        ] {
            rows.push(row(AluOp::Ext, b, field(pos, size), 0));
            rows.push(row(AluOp::Ext, !b, field(pos, size), 0));
            rows.push(row(AluOp::Ins, b, field(pos, size), d));
            rows.push(row(AluOp::Ins, !b, field(pos, size), 0));
        }
        rows
    }

    fn xorshift(mut state: u64) -> impl FnMut() -> u32 {
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u32
        }
    }

    #[test]
    fn honest_rows_verify() {
        prove_and_verify(&tables(&honest_rows())).expect("honest batch must verify");
    }

    #[test]
    fn random_rows_verify() {
        let mut next = xorshift(0x5eed_1234_abcd_0001);
        let rows: Vec<AluExtraRow> = (0..120)
            .map(|i| {
                let op = FLAGS[i % FLAGS.len()].1;
                let (b, d) = (next(), next());
                // Small values of c now and then, so MOVZ/MOVN see zero.
                let c = match op {
                    AluOp::Ext | AluOp::Ins => {
                        let size = next() % 32 + 1;
                        field(next() % (33 - size), size)
                    }
                    AluOp::Movz | AluOp::Movn => next() & (next() % 3).wrapping_sub(1),
                    _ => 0,
                };
                // Leading runs of zeros and ones for CLZ/CLO.
                let b = if i % 2 == 0 { b >> (next() % 32) } else { b };
                row(op, b, c, d)
            })
            .collect();
        prove_and_verify(&tables(&rows)).expect("honest batch must verify");
    }

    /// A real run of every operation of this chip: rows picked from the executor's shard.
    #[test]
    fn executor_rows_verify() {
        use asm::*;
        let mut words = Vec::new();
        words.extend(li(T0, 0x8765_4321));
        words.extend(li(T2, 0xdead_beef));
        words.extend([
            rtype(0, T0, ZERO, T3, 0, 0x0a),          // movz t3, t0, zero (moves)
            rtype(0, T0, T0, T4, 0, 0x0a),            // movz t4, t0, t0 (keeps)
            rtype(0, T0, T0, T5, 0, 0x0b),            // movn t5, t0, t0 (moves)
            rtype(0x1c, T0, T6, T6, 0, 0x20),         // clz t6, t0
            rtype(0x1c, T0, T7, T7, 0, 0x21),         // clo t7, t0
            rtype(0x1f, 0, T0, S0, 0x10, 0x20),       // seb s0, t0
            rtype(0x1f, 0, T0, S1, 0x18, 0x20),       // seh s1, t0
            rtype(0x1f, 0, T0, S2, 0x02, 0x20),       // wsbh s2, t0
            rtype(0x1f, T0, T1, 11, 4, 0x00),         // ext t1, t0, 4, 12
            rtype(0x1f, T0, T2, 8 + 16 - 1, 8, 0x04), // ins t2, t0, 8, 16
            rtype(0x1c, ZERO, T1, T1, 0, 0x20),       // clz t1, zero
        ]);
        words.extend(halt());
        let (program, shards) = run_traced(&words);
        let program = ProgramChip::new(&program).unwrap();
        let mut all = Vec::new();
        for shard in &shards {
            let executed = executed_instructions(shard, &program).unwrap();
            all.extend(AluExtraChip::rows(&executed).unwrap());
        }
        assert_eq!(all.len(), 11);
        assert!(all.contains(&row(AluOp::Ins, 0x8765_4321, field(8, 16), 0xdead_beef)));
        assert!(all.contains(&row(AluOp::Clz, 0, 0, 0)));
        prove_and_verify(&tables(&all)).expect("executor rows must verify");
    }

    #[test]
    fn trace_generation_refuses_bad_rows() {
        let mut bytes = ByteCounts::new();
        let wrong = AluExtraRow {
            a: 3,
            ..row(AluOp::Clz, 1, 0, 0)
        };
        assert!(matches!(
            AluExtraChip.generate_trace::<Val>(&[wrong], &mut bytes),
            Err(TraceError::WrongResult {
                expected: 31,
                claimed: 3,
                ..
            })
        ));
        let outside = AluExtraRow {
            op: AluOp::Ext,
            a: 0,
            b: 1,
            c: field(20, 13),
            d: 0,
        };
        assert!(matches!(
            AluExtraChip.generate_trace::<Val>(&[outside], &mut bytes),
            Err(TraceError::InvalidRow { .. })
        ));
        let unsupported = AluExtraRow {
            op: AluOp::Addu,
            a: 2,
            b: 1,
            c: 1,
            d: 0,
        };
        assert!(matches!(
            AluExtraChip.generate_trace::<Val>(&[unsupported], &mut bytes),
            Err(TraceError::UnsupportedOp { .. })
        ));
        let stray_old = AluExtraRow {
            d: 5,
            ..row(AluOp::Seb, 1, 0, 0)
        };
        assert!(
            AluExtraChip
                .generate_trace::<Val>(&[stray_old], &mut bytes)
                .is_err()
        );
        assert_eq!(bytes, ByteCounts::new());
    }

    fn forged_at(index: usize, op: AluOp, b: u32, c: u32, d: u32, a: u32) -> Vec<AluExtraRow> {
        let mut rows = honest_rows();
        rows.insert(index, AluExtraRow { op, a, b, c, d });
        rows
    }

    /// MOVZ with `c = 0` answering the old value, and MOVN with `c != 0` keeping it.
    #[test]
    fn wrong_move_choice_is_rejected() {
        assert_rejected(&forged(&forged_at(0, AluOp::Movz, 7, 0, 9, 9)));
        assert_rejected(&forged(&forged_at(5, AluOp::Movn, 7, 0x0001_0000, 9, 9)));
        assert_rejected(&forged(&forged_at(5, AluOp::Movz, 7, 0x0001_0000, 9, 7)));
    }

    /// MOVN with `c != 0` answered with the old value by also claiming `c == 0`.
    #[test]
    fn forged_zero_test_is_rejected() {
        let rows = forged_at(0, AluOp::Movn, 7, 0x0001_0000, 9, 9);
        assert_rejected_after(forged(&rows), EXTRA, |trace| {
            trace[cols::C_IS_ZERO] = Val::ONE;
            trace[cols::C_INV + 1] = Val::ZERO;
        });
    }

    #[test]
    fn wrong_count_is_rejected() {
        assert_rejected(&forged(&forged_at(0, AluOp::Clz, 0x0001_0000, 0, 0, 16)));
        assert_rejected(&forged(&forged_at(0, AluOp::Clo, 0xffff_0000, 0, 0, 15)));
        assert_rejected(&forged(&forged_at(0, AluOp::Clz, 0, 0, 0, 0)));
    }

    /// CLZ of `0x0001_0fff` (15) answered 19 by claiming byte 2 (`0x01`, 7 leading zeros) is
    /// zero, so the count runs on into byte 1 (`0x0f`, 4 more): the prefix chain and the count
    /// are consistent with the lie (and `x_2 inv_2 + e_2 = 1` holds with `inv_2 = 0`); only
    /// `e_2 x_2 = 0` refuses it.
    #[test]
    fn forged_zero_byte_is_rejected() {
        let rows = forged_at(0, AluOp::Clz, 0x0001_0fff, 0, 0, 19);
        assert_rejected_after(forged(&rows), EXTRA, |trace| {
            trace[cols::X_IS_ZERO + 2] = Val::ONE;
            trace[cols::X_INV + 2] = Val::ZERO;
            trace[cols::ZERO_PREFIX] = Val::ONE;
        });
    }

    /// SEB/SEH answered with the zero extension; and SEB with the sign of the wrong byte.
    #[test]
    fn wrong_sign_extension_is_rejected() {
        assert_rejected(&forged(&forged_at(0, AluOp::Seb, 0x0000_0080, 0, 0, 0x80)));
        assert_rejected(&forged(&forged_at(
            0,
            AluOp::Seh,
            0x0000_8000,
            0,
            0,
            0x8000,
        )));
        assert_rejected(&forged(&forged_at(
            0,
            AluOp::Seb,
            0x0000_807f,
            0,
            0,
            0xffff_ff7f,
        )));
    }

    /// SEB of `0x80` answered `0x80` by also claiming a zero sign bit: the MSB lookup refuses.
    #[test]
    fn forged_sign_bit_is_rejected() {
        let rows = forged_at(0, AluOp::Seb, 0x0000_0080, 0, 0, 0x80);
        assert_rejected_after(forged(&rows), EXTRA, |trace| {
            trace[cols::SIGN] = Val::ZERO;
        });
    }

    #[test]
    fn wrong_field_is_rejected() {
        let (b, d) = (0x8765_4321u32, 0xdead_beefu32);
        // EXT off by one bit position, and INS keeping the old field.
        assert_rejected(&forged(&forged_at(
            0,
            AluOp::Ext,
            b,
            field(4, 8),
            0,
            (b >> 5) & 0xff,
        )));
        assert_rejected(&forged(&forged_at(0, AluOp::Ins, b, field(8, 8), d, d)));
        assert_rejected(&forged(&forged_at(
            0,
            AluOp::Ins,
            b,
            field(8, 8),
            d,
            (d & !0xff00) | ((b & 0xff) << 9),
        )));
    }

    /// A field reaching past bit 31 (`pos 20, size 20`): `u = 32 - pos - size` is negative,
    /// which neither the `8 u` range check nor the shift chip's amount accept.
    #[test]
    fn field_outside_the_word_is_rejected() {
        let b = 0x8765_4321u32;
        let rows = forged_at(0, AluOp::Ext, b, field(20, 20), 0, b >> 20);
        assert_rejected(&forged(&rows));
    }

    /// EXT with `size = 0` (`c = 4`): the requests `t = b << 28`, `v = t >> 32` are what the
    /// shift chip proves (it takes amounts mod 32, so `v = t`), and the row answers `v`; only
    /// the range check of `size - 1` refuses it.
    #[test]
    fn empty_field_is_rejected() {
        let b = 0x8765_4321u32;
        let rows = forged_at(0, AluOp::Ext, b, field(4, 0), 0, b << 28);
        assert_rejected(&forged(&rows));
    }

    /// `MOVZ` result `0x0000_0100` written with bytes `(256, 0, 0, 0)`: the limbs match, only
    /// the range check of the result's bytes refuses it.
    #[test]
    fn non_canonical_result_bytes_are_rejected() {
        let rows = vec![row(AluOp::Movz, 0x0000_0100, 0, 5)];
        let tables = tables_with(&rows, &rows, |_, _| [256, 0, 0, 0]);
        assert_rejected(&tables);
    }

    /// A flag of 2 paired with a flag of -1: one-hot sum 1, opcode `2 Movz - Movn`... refused
    /// by the flags' booleanity.
    #[test]
    fn non_boolean_flags_are_rejected() {
        let rows = honest_rows();
        assert_rejected_after(tables(&rows), EXTRA, |trace| {
            trace[cols::IS_MOVZ] = Val::TWO;
            trace[cols::IS_MOVN] = -Val::ONE;
        });
        assert_rejected_after(tables(&rows), EXTRA, |trace| {
            trace[cols::IS_MOVZ] = Val::TWO;
        });
    }

    #[test]
    fn skipped_row_is_rejected() {
        let rows = honest_rows();
        assert_rejected(&tables_with(&rows, &rows[1..], honest_bytes));
    }

    #[test]
    fn activated_padding_row_is_rejected() {
        let rows = vec![row(AluOp::Wsbh, 0x1122_3344, 0, 0)];
        assert_rejected_after(tables(&rows), EXTRA, |trace| {
            trace[cols::WIDTH + cols::IS_WSBH] = Val::ONE;
        });
    }

    /// Every constraint, the bus ones included, stays within degree 3 (the rate-1/2 code's
    /// quotient bound).
    #[test]
    fn constraint_degree_is_at_most_3() {
        use crate::chips::MipsAir;
        use crate::config::Challenge;
        use crate::security::batch_shape;
        let shape = batch_shape::<Val, Challenge, _>(&[MipsAir::AluExtra(AluExtraChip)], &[8]);
        assert!(
            shape.max_constraint_degree <= 3,
            "{}",
            shape.max_constraint_degree
        );
    }
}
