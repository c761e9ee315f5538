//! `ShiftChip`: `SLL`, `SRL`, `SRA`, `ROTR` and their variable forms `SLLV`, `SRLV`, `SRAV`,
//! `ROTRV` (the ALU bus carries the amount as `c`; the chip uses `s = c mod 32`).
//!
//! # Design (38 columns, 11 byte lookups per row)
//!
//! The amount `s = 8 q + r` is split into a byte shift `q` (one-hot `q_0..q_3`) and a bit shift
//! `r` (bits `r_0, r_1, r_2`); `c_lo = r + 8 q + 32 h + 256 c_1` with `h` proven in `[0, 7]` by
//! range-checking `(h, 32 h)`, and `c_1, c_2, c_3` bytes, so `s` is exactly `c mod 32`.
//!
//! Bit shift within bytes. `E = (1 + r_0)(1 + 3 r_1)(1 + 15 r_2) - 1 = 2^r - 1`. A pair
//! `(M, M')` with `M M' = 256` is `(2^r, 2^(8-r))` for right shifts/rotates and
//! `(2^(8-r), 2^r)` for the left shift. Every byte of `b` is split as `b_i = hi_i M + lo_i`;
//! range-checking `hi_i`, `hi_i M`, `lo_i` and `lo_i M'` as bytes proves `lo_i < M`,
//! `b_i <= 255` and that the split is the integer division (so `b` itself needs no columns).
//! Then, per byte:
//! - right (`SRL`/`SRA`/`ROTR`): `T_i = hi_i + lo_{i+1} M'` is byte `i` of `b` rotated right
//!   by `r`;
//! - left (`SLL`): `T_i = lo_i M' + hi_{i-1}` is byte `i` of `b` rotated left by `r`.
//!
//! Byte shift. With `q` one-hot, result byte `i` is `sum_k q_k V(i, k)`:
//! - `ROTR`: `V = T_{(i+k) mod 4}`;
//! - `SRL`/`SRA`: `V = T_{i+k}` if `i + k < 3`; `hi_3 + top_fill` if `i + k = 3` (the top byte
//!   without the wrapped bits, plus `r` copies of the sign for `SRA`:
//!   `top_fill = fill (256 - M')`, `fill = is_sra * sign`); `255 fill` beyond;
//! - `SLL`: `V = T_{i-k}` if `i - k > 0`; `lo_0 M'` (no wrapped bits) if `i = k`; 0 below.
//!
//! Each of these is a canonical byte by construction, so the result bytes need no range check.
//! `sign` is `b`'s top bit, proven by range-checking `2 (b_3 - 128 sign)`. Every constraint has
//! degree at most 3 and every bus message degree at most 2.
//!
//! Alternatives: a 32-bit decomposition of `b` with a 5-stage barrel shifter costs over 160
//! columns; a decomposition of `b` into bits with one-hot amount selection about 75 columns.

use p3_air::{Air, BaseAir, PermutationAirBuilder, WindowAccess};
use p3_field::{Field, PrimeCharacteristicRing};
use p3_lookup::InteractionBuilder;
use p3_matrix::dense::RowMajorMatrix;

use super::word::{eval_byte_pairs, fill_word_bytes, limbs, word_bytes};
use super::{
    AluRow, ByteCounts, TraceError, check_alu_rows, eval_alu_flags, padded_trace, receive_alu_op,
};
use crate::buses::{AluOp, ByteOp};

pub(crate) mod cols {
    pub const IS_SLL: usize = 0;
    pub const IS_SRL: usize = 1;
    pub const IS_SRA: usize = 2;
    pub const IS_ROTR: usize = 3;
    /// Bytes of the result.
    pub const A: usize = 4;
    /// Bytes 1..3 of the amount operand `c` (byte 0 is `r + 8 q + 32 h`).
    pub const C1: usize = 8;
    pub const C2: usize = 9;
    pub const C3: usize = 10;
    /// `(c_0 - s) / 32`, in `[0, 7]`.
    pub const H: usize = 11;
    /// Bits of `r = s mod 8`.
    pub const R: usize = 12;
    /// One-hot `q = s / 8`.
    pub const Q: usize = 15;
    /// `2^r - 1`.
    pub const E: usize = 19;
    /// The split multiplier `M` and its co-factor `M' = 256 / M`.
    pub const M: usize = 20;
    pub const M_INV: usize = 21;
    /// `b_i = HI_i * M + LO_i`.
    pub const HI: usize = 22;
    pub const LO: usize = 26;
    /// Bytes of `b` rotated by `r` (right, or left for `SLL`).
    pub const T: usize = 30;
    /// Top bit of `b`.
    pub const SIGN: usize = 34;
    /// `is_sra * sign`.
    pub const FILL: usize = 35;
    /// `fill * (256 - M')`: the sign bits entering the top byte of `SRA`.
    pub const TOP_FILL: usize = 36;
    /// `lo_0 * M'`: the lowest byte of `SLL` before the byte shift.
    pub const LOW0: usize = 37;
    pub const WIDTH: usize = 38;
}

const FLAGS: [(usize, AluOp); 4] = [
    (cols::IS_SLL, AluOp::Sll),
    (cols::IS_SRL, AluOp::Srl),
    (cols::IS_SRA, AluOp::Sra),
    (cols::IS_ROTR, AluOp::Rotr),
];

const SUPPORTED: [AluOp; 4] = [AluOp::Sll, AluOp::Srl, AluOp::Sra, AluOp::Rotr];

/// The witness choices of one row that tests may forge: the shift amount the row decomposes
/// and the sign bit it claims.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ShiftWitness {
    pub amount: u32,
    pub sign: u32,
}

impl ShiftWitness {
    pub(crate) fn honest(row: &AluRow) -> Self {
        Self {
            amount: row.c & 31,
            sign: row.b >> 31,
        }
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct ShiftChip;

impl ShiftChip {
    pub const fn name(&self) -> &'static str {
        "Shift"
    }

    /// The trace for `rows`, recording its byte lookups in `bytes`. Fails, before recording
    /// anything, on a row this chip does not handle or a wrong result.
    pub fn generate_trace<F: Field>(
        &self,
        rows: &[AluRow],
        bytes: &mut ByteCounts,
    ) -> Result<RowMajorMatrix<F>, TraceError> {
        check_alu_rows(self.name(), rows, &SUPPORTED)?;
        Ok(Self::fill_trace(rows, bytes))
    }

    /// Fills the trace without checking the rows: the result bytes are `a` as given, the rest
    /// derived from `b` and `c` (tests use this to forge witnesses).
    pub(crate) fn fill_trace<F: Field>(
        rows: &[AluRow],
        bytes: &mut ByteCounts,
    ) -> RowMajorMatrix<F> {
        Self::fill_trace_with(rows, bytes, |_, row| ShiftWitness::honest(row))
    }

    /// [`Self::fill_trace`] with the amount and sign of each row chosen by `witness`. Byte
    /// lookups are recorded only for pairs that are in the table.
    pub(crate) fn fill_trace_with<F: Field>(
        rows: &[AluRow],
        bytes: &mut ByteCounts,
        witness: impl Fn(usize, &AluRow) -> ShiftWitness,
    ) -> RowMajorMatrix<F> {
        padded_trace(rows, cols::WIDTH, |index, row, out| {
            fill_row(out, row, witness(index, row), bytes);
        })
    }
}

fn fill_row<F: Field>(out: &mut [F], row: &AluRow, witness: ShiftWitness, bytes: &mut ByteCounts) {
    let Some(&(flag, _)) = FLAGS.iter().find(|(_, op)| *op == row.opcode) else {
        return;
    };
    out[flag] = F::ONE;
    let is_left = row.opcode == AluOp::Sll;
    let (r, q) = (witness.amount % 8, (witness.amount / 8) % 4);
    let (m, m_inv) = if is_left {
        (1u32 << (8 - r), 1u32 << r)
    } else {
        (1u32 << r, 1u32 << (8 - r))
    };
    let b = word_bytes(row.b);
    let hi: [u32; 4] = core::array::from_fn(|i| u32::from(b[i]) / m);
    let lo: [u32; 4] = core::array::from_fn(|i| u32::from(b[i]) % m);
    let t: [u32; 4] = core::array::from_fn(|i| {
        if is_left {
            lo[i] * m_inv + hi[(i + 3) % 4]
        } else {
            hi[i] + lo[(i + 1) % 4] * m_inv
        }
    });
    let fill = u32::from(row.opcode == AluOp::Sra) * witness.sign;

    fill_word_bytes(&mut out[cols::A..], row.a);
    let c = word_bytes(row.c);
    out[cols::C1] = F::from_u8(c[1]);
    out[cols::C2] = F::from_u8(c[2]);
    out[cols::C3] = F::from_u8(c[3]);
    // `h = (c_0 - s) / 32` in the field: not an integer in [0, 7] when `s` is forged.
    let h = (F::from_u8(c[0]) - F::from_u32(witness.amount % 32)) * F::from_u8(32).inverse();
    out[cols::H] = h;
    for bit in 0..3 {
        out[cols::R + bit] = F::from_u32((r >> bit) & 1);
    }
    out[cols::Q + q as usize] = F::ONE;
    out[cols::E] = F::from_u32((1 << r) - 1);
    out[cols::M] = F::from_u32(m);
    out[cols::M_INV] = F::from_u32(m_inv);
    for i in 0..4 {
        out[cols::HI + i] = F::from_u32(hi[i]);
        out[cols::LO + i] = F::from_u32(lo[i]);
        out[cols::T + i] = F::from_u32(t[i]);
    }
    out[cols::SIGN] = F::from_u32(witness.sign);
    out[cols::FILL] = F::from_u32(fill);
    out[cols::TOP_FILL] = F::from_u32(fill * (256 - m_inv));
    out[cols::LOW0] = F::from_u32(lo[0] * m_inv);

    let mut record = |x: u32, y: u32| {
        if let (Ok(x), Ok(y)) = (u8::try_from(x), u8::try_from(y)) {
            bytes.record(ByteOp::RangePair, x, y);
        }
    };
    for i in 0..4 {
        record(hi[i], hi[i] * m);
        record(lo[i], lo[i] * m_inv);
    }
    let c0_minus_amount = u32::from(c[0]).wrapping_sub(witness.amount % 32);
    if c0_minus_amount % 32 == 0 && c0_minus_amount < 256 {
        record(c0_minus_amount / 32, c0_minus_amount);
    }
    // `2 (b_3 - 128 sign)`; out of the table (never recorded) when the sign is forged.
    let sign_check = (2 * (i64::from(b[3]) - 128 * i64::from(witness.sign))).clamp(-1, 256);
    record(u32::from(c[1]), sign_check as u32);
    record(u32::from(c[2]), u32::from(c[3]));
}

impl<F: Field> BaseAir<F> for ShiftChip {
    fn width(&self) -> usize {
        cols::WIDTH
    }

    fn main_next_row_columns(&self) -> Vec<usize> {
        vec![]
    }
}

impl<AB: PermutationAirBuilder + InteractionBuilder> Air<AB> for ShiftChip {
    fn eval(&self, builder: &mut AB) {
        let main = builder.main();
        let local: Vec<AB::Expr> = main.current_slice().iter().map(|&v| v.into()).collect();
        let col = |i: usize| local[i].clone();
        let f = |v: u32| AB::F::from_u32(v);

        let (is_real, opcode) = eval_alu_flags(builder, &FLAGS.map(|(flag, op)| (col(flag), op)));
        let is_left = col(cols::IS_SLL);
        let is_right = col(cols::IS_SRL) + col(cols::IS_SRA) + col(cols::IS_ROTR);

        // The amount: bits of r, one-hot q (all zero on padding rows).
        let r: Vec<AB::Expr> = (0..3).map(|bit| col(cols::R + bit)).collect();
        let q: Vec<AB::Expr> = (0..4).map(|k| col(cols::Q + k)).collect();
        for bit in r.iter().chain(&q) {
            builder.assert_bool(bit.clone());
        }
        let q_sum: AB::Expr = q.iter().cloned().sum();
        builder.assert_eq(q_sum, is_real.clone());

        // E = 2^r - 1; (M, M') = (2^r, 2^(8-r)) right, (2^(8-r), 2^r) left.
        let pow = (AB::Expr::ONE + r[0].clone())
            * (AB::Expr::ONE + r[1].clone() * f(3))
            * (AB::Expr::ONE + r[2].clone() * f(15));
        builder.assert_eq(col(cols::E), pow - AB::Expr::ONE);
        let (m, m_inv) = (col(cols::M), col(cols::M_INV));
        let two_pow_r = col(cols::E) + AB::Expr::ONE;
        builder.assert_zero(is_right.clone() * (m.clone() - two_pow_r.clone()));
        builder.assert_zero(is_left.clone() * (m_inv.clone() - two_pow_r));
        builder.assert_eq(m.clone() * m_inv.clone(), is_real.clone() * f(256));

        // b_i = hi_i M + lo_i, and the bytes rotated by r.
        let hi: Vec<AB::Expr> = (0..4).map(|i| col(cols::HI + i)).collect();
        let lo: Vec<AB::Expr> = (0..4).map(|i| col(cols::LO + i)).collect();
        let t: Vec<AB::Expr> = (0..4).map(|i| col(cols::T + i)).collect();
        let b: Vec<AB::Expr> = (0..4)
            .map(|i| hi[i].clone() * m.clone() + lo[i].clone())
            .collect();
        for i in 0..4 {
            let rotated_right = hi[i].clone() + lo[(i + 1) % 4].clone() * m_inv.clone();
            let rotated_left = lo[i].clone() * m_inv.clone() + hi[(i + 3) % 4].clone();
            builder.assert_eq(
                t[i].clone(),
                is_right.clone() * rotated_right + is_left.clone() * rotated_left,
            );
        }

        // Sign fill for SRA, and the unwrapped lowest byte for SLL.
        let sign = col(cols::SIGN);
        builder.assert_bool(sign.clone());
        let (fill, top_fill, low0) = (col(cols::FILL), col(cols::TOP_FILL), col(cols::LOW0));
        builder.assert_eq(fill.clone(), col(cols::IS_SRA) * sign.clone());
        builder.assert_eq(
            top_fill.clone(),
            fill.clone() * (AB::Expr::from_u32(256) - m_inv.clone()),
        );
        builder.assert_eq(low0.clone(), lo[0].clone() * m_inv.clone());

        // The result, byte by byte; exactly one flag is set on a real row.
        let is_right_shift = col(cols::IS_SRL) + col(cols::IS_SRA);
        for i in 0..4 {
            let a = col(cols::A + i);
            let mut rotate = AB::Expr::ZERO;
            let mut right = AB::Expr::ZERO;
            let mut left = AB::Expr::ZERO;
            for k in 0..4 {
                rotate += q[k].clone() * t[(i + k) % 4].clone();
                let from_right = match i + k {
                    j if j < 3 => t[j].clone(),
                    3 => hi[3].clone() + top_fill.clone(),
                    _ => fill.clone() * f(255),
                };
                right += q[k].clone() * from_right;
                let from_left = match i.checked_sub(k) {
                    Some(0) => low0.clone(),
                    Some(j) => t[j].clone(),
                    None => AB::Expr::ZERO,
                };
                left += q[k].clone() * from_left;
            }
            builder.assert_zero(
                col(cols::IS_ROTR) * (a.clone() - rotate)
                    + is_right_shift.clone() * (a.clone() - right)
                    + is_left.clone() * (a - left),
            );
        }

        // Range checks.
        let h = col(cols::H);
        let sign_check = (b[3].clone() - sign * f(128)) * AB::F::TWO;
        let mut pairs: Vec<(AB::Expr, AB::Expr)> = Vec::with_capacity(11);
        for i in 0..4 {
            pairs.push((hi[i].clone(), hi[i].clone() * m.clone()));
            pairs.push((lo[i].clone(), lo[i].clone() * m_inv.clone()));
        }
        pairs.push((h.clone(), h.clone() * f(32)));
        pairs.push((col(cols::C1), sign_check));
        pairs.push((col(cols::C2), col(cols::C3)));
        eval_byte_pairs(builder, pairs, &is_real);

        // Receive `(op, a, b, c)`.
        let amount_low_byte = r[0].clone()
            + r[1].clone() * AB::F::TWO
            + r[2].clone() * f(4)
            + (q[1].clone() + q[2].clone() * AB::F::TWO + q[3].clone() * f(3)) * f(8)
            + h * f(32);
        let c = [amount_low_byte, col(cols::C1), col(cols::C2), col(cols::C3)];
        let words = [limbs(&local[cols::A..cols::A + 4]), limbs(&b), limbs(&c)];
        receive_alu_op(builder, opcode, words, is_real);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chips::ByteChip;
    use crate::chips::byte::{self, table_row};
    use crate::chips::testing::{
        AluFixture, TableId, assert_rejected, assert_rejected_after, prove_and_verify,
    };
    use crate::config::Val;

    fn row(op: AluOp, b: u32, c: u32) -> AluRow {
        AluRow::new(op, b, c).expect("shifts never trap")
    }

    fn honest_rows() -> Vec<AluRow> {
        let mut rows = Vec::new();
        let values = [0x8765_4321u32, 0x1234_5678];
        for op in SUPPORTED {
            for (i, amount) in [0u32, 1, 7, 8, 9, 15, 16, 23, 24, 31]
                .into_iter()
                .enumerate()
            {
                rows.push(row(op, values[i % 2], amount));
            }
        }
        // Variable forms: only the low five bits of the register count.
        rows.push(row(AluOp::Sll, 0xffff_ffff, 33));
        rows.push(row(AluOp::Srl, 0x8000_0000, 0xffff_ffe1));
        rows.push(row(AluOp::Sra, 0x8000_0000, 0x1234_561f));
        rows.push(row(AluOp::Rotr, 0x0000_00ff, 0x100));
        rows.push(row(AluOp::Sra, 0x7fff_ffff, 31));
        rows
    }

    #[test]
    fn honest_rows_verify() {
        prove_and_verify(&AluFixture::new(&honest_rows()).tables())
            .expect("honest batch must verify");
    }

    #[test]
    fn trace_generation_refuses_bad_rows() {
        let mut bytes = ByteCounts::new();
        let wrong = AluRow {
            a: 0,
            ..row(AluOp::Sll, 1, 33)
        };
        assert!(matches!(
            ShiftChip.generate_trace::<Val>(&[wrong], &mut bytes),
            Err(TraceError::WrongResult {
                expected: 2,
                claimed: 0,
                ..
            })
        ));
        assert!(matches!(
            ShiftChip.generate_trace::<Val>(&[row(AluOp::Slt, 1, 1)], &mut bytes),
            Err(TraceError::UnsupportedOp { .. })
        ));
        assert_eq!(bytes, ByteCounts::new());
    }

    /// One wrong bit in the result of each operation.
    #[test]
    fn wrong_result_is_rejected() {
        for (index, flip) in [(3, 0x10u32), (12, 0x8000_0000), (25, 1), (39, 0x0100_0000)] {
            let mut rows = honest_rows();
            rows[index].a ^= flip;
            assert_rejected(&AluFixture::forged(&rows).tables());
        }
    }

    /// `SLLV` by 33 answered as if amounts of 32 or more cleared the word.
    #[test]
    fn amount_of_32_or_more_is_taken_modulo_32() {
        let mut rows = honest_rows();
        rows.push(AluRow {
            opcode: AluOp::Sll,
            a: 0,
            b: 0xffff_ffff,
            c: 33,
        });
        assert_rejected(&AluFixture::forged(&rows).tables());
    }

    /// `SLL 1, 1` proved as a shift by 2: the amount decomposition claims `s = 2` and absorbs
    /// the difference in `h = -1/32`, which the `(h, 32 h)` range check refuses.
    #[test]
    fn forged_amount_is_rejected() {
        let mut rows = honest_rows();
        rows.push(AluRow {
            opcode: AluOp::Sll,
            a: 4,
            b: 1,
            c: 1,
        });
        let forged = rows.len() - 1;
        let fixture = AluFixture::forged_with_shift(&rows, |index, row| {
            let mut witness = ShiftWitness::honest(row);
            if index == forged {
                witness.amount = 2;
            }
            witness
        });
        assert_rejected(&fixture.tables());
    }

    /// `SRA 0x80000000, 4` answered with the logical shift by claiming a zero sign bit.
    #[test]
    fn forged_sign_bit_is_rejected() {
        let mut rows = honest_rows();
        rows.push(AluRow {
            opcode: AluOp::Sra,
            a: 0x0800_0000,
            b: 0x8000_0000,
            c: 4,
        });
        let forged = rows.len() - 1;
        let fixture = AluFixture::forged_with_shift(&rows, |index, row| {
            let mut witness = ShiftWitness::honest(row);
            if index == forged {
                witness.sign = 0;
            }
            witness
        });
        assert_rejected(&fixture.tables());
    }

    /// The byte lookups a shift trace makes, read back from its cells (mirrors the AIR), so a
    /// hand-edited trace gets a byte table consistent with it.
    fn lookups_of(trace: &RowMajorMatrix<Val>) -> ByteCounts {
        use p3_field::PrimeField32;
        let mut counts = ByteCounts::new();
        for row in trace.values.chunks_exact(cols::WIDTH) {
            if row[cols::IS_SLL..=cols::IS_ROTR]
                .iter()
                .all(|f| *f == Val::ZERO)
            {
                continue;
            }
            let (m, m_inv) = (row[cols::M], row[cols::M_INV]);
            let mut pairs = Vec::new();
            for i in 0..4 {
                pairs.push((row[cols::HI + i], row[cols::HI + i] * m));
                pairs.push((row[cols::LO + i], row[cols::LO + i] * m_inv));
            }
            pairs.push((row[cols::H], row[cols::H] * Val::from_u8(32)));
            let b3 = row[cols::HI + 3] * m + row[cols::LO + 3];
            pairs.push((
                row[cols::C1],
                (b3 - row[cols::SIGN] * Val::from_u8(128)) * Val::TWO,
            ));
            pairs.push((row[cols::C2], row[cols::C3]));
            for (x, y) in pairs {
                let byte = |v: Val| u8::try_from(v.as_canonical_u32()).ok();
                if let (Some(x), Some(y)) = (byte(x), byte(y)) {
                    counts.record(ByteOp::RangePair, x, y);
                }
            }
        }
        counts
    }

    /// `SRA 0x80000000, 1` answered with the logical shift `0x40000000`: `b`'s bytes are
    /// written `(0, 0, 256, 0x7f)`, which keeps its limbs but hides the sign bit, split as
    /// `256 = 128·2 + 0` and `0x7f = 0x3f·2 + 1`. Every constraint holds and the byte table is
    /// consistent with the trace; only the `hi_i · M` range check (`256`) catches it.
    #[test]
    fn non_canonical_operand_bytes_are_rejected() {
        let rows = vec![AluRow {
            opcode: AluOp::Sra,
            a: 0x4000_0000,
            b: 0x8000_0000,
            c: 1,
        }];
        let fixture = AluFixture::forged_with_shift(&rows, |_, row| ShiftWitness {
            sign: 0,
            ..ShiftWitness::honest(row)
        });
        let mut tables = fixture.tables();
        let trace = &mut tables[TableId::Shift as usize].trace;
        for (column, value) in [
            (cols::HI + 2, 128),
            (cols::LO + 2, 0),
            (cols::HI + 3, 0x3f),
            (cols::LO + 3, 1),
            (cols::T + 2, 256),
            (cols::T + 3, 0x3f),
            (cols::A + 2, 256),
            (cols::A + 3, 0x3f),
        ] {
            trace.values[column] = Val::from_u32(value);
        }
        let bytes = lookups_of(trace);
        tables[TableId::Byte as usize].trace = ByteChip.generate_trace(&bytes);
        assert_rejected(&tables);
    }

    /// `SRL 3, 1` answered 0 by splitting `b_0 = 3` as `0·2 + 3`, a remainder not below
    /// `M = 2`: the bit that should stay is moved into the wrapped part. Only the `lo_i · M'`
    /// range check (`3 · 128 = 384`) catches it.
    #[test]
    fn oversized_remainder_is_rejected() {
        let rows = vec![AluRow {
            opcode: AluOp::Srl,
            a: 0,
            b: 3,
            c: 1,
        }];
        let mut tables = AluFixture::forged(&rows).tables();
        let trace = &mut tables[TableId::Shift as usize].trace;
        for (column, value) in [
            (cols::HI, 0),
            (cols::LO, 3),
            (cols::T, 0),
            (cols::T + 3, 384),
            (cols::LOW0, 384),
        ] {
            trace.values[column] = Val::from_u32(value);
        }
        let bytes = lookups_of(trace);
        tables[TableId::Byte as usize].trace = ByteChip.generate_trace(&bytes);
        assert_rejected(&tables);
    }

    #[test]
    fn skipped_row_is_rejected() {
        let rows = honest_rows();
        let fixture = AluFixture::with_chip_rows(&rows, &rows[1..]);
        assert_rejected(&fixture.tables());
    }

    /// A byte-table multiplicity one short of this chip's lookups.
    #[test]
    fn wrong_multiplicity_is_rejected() {
        let rows = vec![row(AluOp::Rotr, 0x1234_5678, 4)];
        let tables = AluFixture::new(&rows).tables();
        assert_rejected_after(tables, TableId::Byte as usize, |trace| {
            // The amount's upper bytes: (c_2, c_3) = (0, 0).
            let cell = table_row(0, 0) * byte::cols::WIDTH
                + byte::cols::MULTIPLICITY
                + ByteOp::RangePair.index();
            assert_ne!(trace[cell], Val::ZERO);
            trace[cell] -= Val::ONE;
        });
    }

    /// A padding row switched on has no valid `(M, M')` pair.
    #[test]
    fn activated_padding_row_is_rejected() {
        let rows = vec![row(AluOp::Srl, 0x1234_5678, 4)];
        let tables = AluFixture::new(&rows).tables();
        assert_rejected_after(tables, TableId::Shift as usize, |trace| {
            trace[cols::WIDTH + cols::IS_SRL] = Val::ONE;
        });
    }
}
