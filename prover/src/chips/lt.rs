//! `LtChip`: `SLT`, `SLTU` (and through the ALU bus mapping `SLTI`, `SLTIU`, whose
//! sign-extended immediate arrives as `c`).
//!
//! Every row proves `c + d = b + 2^32 * ltu` for some 32-bit `d`, on byte columns with two
//! 16-bit limb equations and boolean carries (`ltu` is the carry out of the high limb). With
//! all twelve bytes range-checked the equation holds over the integers, so `d = b - c` when
//! `b >= c` (no carry) and `d = b - c + 2^32` when `b < c`: `ltu = [b < c]` (unsigned).
//!
//! Signed comparison flips both sign bits, which flips the comparison iff the signs differ:
//! `slt = s_b XOR s_c XOR ltu`, with `s_b`, `s_c` the top bits of `b` and `c`, each proven by
//! range-checking `2 (t - 128 s)` for the top byte `t` (in `[0, 255]` iff `s` is `t`'s top bit).
//! `sign_xor = s_b XOR s_c` is a column so every constraint stays at degree 3.
//!
//! The row receives `(op, result, b, c)` from the ALU bus with count `is_real`, the result as
//! limbs `(result, 0)`. 20 columns, 7 byte lookups per row.

use p3_air::{Air, BaseAir, PermutationAirBuilder, WindowAccess};
use p3_field::{Field, PrimeCharacteristicRing};
use p3_lookup::InteractionBuilder;
use p3_matrix::dense::RowMajorMatrix;

use super::word::{
    eval_byte_pairs, fill_range_checked_word, limbs, sign_check, sign_check_byte, word_byte_pairs,
    word_bytes,
};
use super::{
    AluRow, ByteCounts, TraceError, check_alu_rows, eval_alu_flags, padded_trace, receive_alu_op,
};
use crate::buses::{AluOp, ByteOp};

pub(crate) mod cols {
    pub const IS_SLT: usize = 0;
    pub const IS_SLTU: usize = 1;
    /// Bytes of `b`, `c` and of the difference `d` (little-endian).
    pub const B: usize = 2;
    pub const C: usize = 6;
    pub const D: usize = 10;
    /// Carries out of the low and the high limb of `c + d`; the high one is `[b < c]`.
    pub const CARRY: usize = 14;
    pub const SIGN_B: usize = 16;
    pub const SIGN_C: usize = 17;
    pub const SIGN_XOR: usize = 18;
    pub const RESULT: usize = 19;
    pub const WIDTH: usize = 20;
}

const FLAGS: [(usize, AluOp); 2] = [(cols::IS_SLT, AluOp::Slt), (cols::IS_SLTU, AluOp::Sltu)];

const SUPPORTED: [AluOp; 2] = [AluOp::Slt, AluOp::Sltu];

#[derive(Clone, Copy, Debug, Default)]
pub struct LtChip;

impl LtChip {
    pub const fn name(&self) -> &'static str {
        "Lt"
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

    /// Fills the trace without checking the rows: every column but the result is derived
    /// from `b` and `c`, the result column is `a` as given (tests use this to forge witnesses).
    pub(crate) fn fill_trace<F: Field>(
        rows: &[AluRow],
        bytes: &mut ByteCounts,
    ) -> RowMajorMatrix<F> {
        padded_trace(rows, cols::WIDTH, |_, row, out| {
            let flag = if row.opcode == AluOp::Slt {
                cols::IS_SLT
            } else {
                cols::IS_SLTU
            };
            out[flag] = F::ONE;
            let (b, c) = (row.b, row.c);
            let d = b.wrapping_sub(c);
            let carry_lo = ((c & 0xffff) + (d & 0xffff)) >> 16;
            out[cols::CARRY] = F::from_u32(carry_lo);
            out[cols::CARRY + 1] = F::from_bool(b < c);
            for (base, word) in [(cols::B, b), (cols::C, c), (cols::D, d)] {
                fill_range_checked_word(&mut out[base..], word, bytes);
            }
            let (sign_b, sign_c) = (b >> 31, c >> 31);
            out[cols::SIGN_B] = F::from_u32(sign_b);
            out[cols::SIGN_C] = F::from_u32(sign_c);
            out[cols::SIGN_XOR] = F::from_u32(sign_b ^ sign_c);
            out[cols::RESULT] = F::from_u32(row.a);
            bytes.record(
                ByteOp::RangePair,
                sign_check_byte(word_bytes(b)[3]),
                sign_check_byte(word_bytes(c)[3]),
            );
        })
    }
}

impl<F: Field> BaseAir<F> for LtChip {
    fn width(&self) -> usize {
        cols::WIDTH
    }

    fn main_next_row_columns(&self) -> Vec<usize> {
        vec![]
    }
}

impl<AB: PermutationAirBuilder + InteractionBuilder> Air<AB> for LtChip {
    fn eval(&self, builder: &mut AB) {
        let main = builder.main();
        let local: Vec<AB::Expr> = main.current_slice().iter().map(|&v| v.into()).collect();
        let col = |i: usize| local[i].clone();
        let [b, c, d] = [cols::B, cols::C, cols::D].map(|base| limbs(&local[base..base + 4]));
        let two_pow_16 = AB::F::from_u32(1 << 16);
        let xor = |x: AB::Expr, y: AB::Expr| x.clone() + y.clone() - x * y * AB::F::TWO;

        let (is_real, opcode) = eval_alu_flags(builder, &FLAGS.map(|(flag, op)| (col(flag), op)));

        // c + d = b + 2^32 ltu.
        let (c0, ltu) = (col(cols::CARRY), col(cols::CARRY + 1));
        builder.assert_bool(c0.clone());
        builder.assert_bool(ltu.clone());
        builder.assert_zero(c[0].clone() + d[0].clone() - b[0].clone() - c0.clone() * two_pow_16);
        builder.assert_zero(
            c[1].clone() + d[1].clone() + c0 - b[1].clone() - ltu.clone() * two_pow_16,
        );

        // The result.
        let (sign_b, sign_c, sign_xor) =
            (col(cols::SIGN_B), col(cols::SIGN_C), col(cols::SIGN_XOR));
        builder.assert_bool(sign_b.clone());
        builder.assert_bool(sign_c.clone());
        builder.assert_eq(sign_xor.clone(), xor(sign_b.clone(), sign_c.clone()));
        let result = col(cols::RESULT);
        builder.assert_zero(col(cols::IS_SLTU) * (result.clone() - ltu.clone()));
        builder.assert_zero(col(cols::IS_SLT) * (result.clone() - xor(sign_xor, ltu)));

        // Range checks: every byte, and the two sign bits.
        let mut pairs: Vec<(AB::Expr, AB::Expr)> = [cols::B, cols::C, cols::D]
            .iter()
            .flat_map(|&base| word_byte_pairs(&local[base..]))
            .collect();
        pairs.push((
            sign_check(col(cols::B + 3), sign_b),
            sign_check(col(cols::C + 3), sign_c),
        ));
        eval_byte_pairs(builder, pairs, &is_real);

        // Receive `(op, a, b, c)`.
        receive_alu_op(builder, opcode, [[result, AB::Expr::ZERO], b, c], is_real);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chips::byte::{self, table_row};
    use crate::chips::testing::{
        AluFixture, TableId, assert_rejected, assert_rejected_after, prove_and_verify,
    };
    use crate::config::Val;

    fn row(op: AluOp, b: u32, c: u32) -> AluRow {
        AluRow::new(op, b, c).expect("comparisons never trap")
    }

    fn honest_rows() -> Vec<AluRow> {
        vec![
            row(AluOp::Slt, 3, 5),
            row(AluOp::Slt, 5, 3),
            row(AluOp::Slt, 7, 7),
            row(AluOp::Slt, (-1i32) as u32, 0),
            row(AluOp::Slt, 0, (-1i32) as u32),
            row(AluOp::Slt, 0x8000_0000, 0x7fff_ffff),
            row(AluOp::Slt, (-7i32) as u32, (-3i32) as u32),
            row(AluOp::Sltu, 3, 5),
            row(AluOp::Sltu, 0xffff_ffff, 0),
            row(AluOp::Sltu, 0, 0xffff_ffff),
            row(AluOp::Sltu, 0x0001_0000, 0x0000_ffff),
            row(AluOp::Sltu, 0x1234_5678, 0x1234_5678),
        ]
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
            ..row(AluOp::Slt, (-1i32) as u32, 0)
        };
        assert!(matches!(
            LtChip.generate_trace::<Val>(&[wrong], &mut bytes),
            Err(TraceError::WrongResult {
                expected: 1,
                claimed: 0,
                ..
            })
        ));
        assert!(matches!(
            LtChip.generate_trace::<Val>(&[row(AluOp::Addu, 1, 1)], &mut bytes),
            Err(TraceError::UnsupportedOp { .. })
        ));
        assert_eq!(bytes, ByteCounts::new());
    }

    /// `SLTU` answered as if signed (`0xffffffff < 0` as signed is true).
    #[test]
    fn wrong_result_is_rejected() {
        let mut rows = honest_rows();
        rows[8].a = 1;
        assert_rejected(&AluFixture::forged(&rows).tables());
        let mut rows = honest_rows();
        rows[3].a = 0;
        assert_rejected(&AluFixture::forged(&rows).tables());
    }

    /// A result of 2 (not a bit) fails the result constraint.
    #[test]
    fn non_boolean_result_is_rejected() {
        let mut rows = honest_rows();
        rows[0].a = 2;
        assert_rejected(&AluFixture::forged(&rows).tables());
    }

    /// `SLT -1, 0` answered 0 by lying about `b`'s sign bit (and the XOR consistently): only
    /// the sign-bit range check catches it.
    #[test]
    fn forged_sign_bit_is_rejected() {
        let mut rows = honest_rows();
        rows[3].a = 0;
        let tables = AluFixture::forged(&rows).tables();
        assert_rejected_after(tables, TableId::Lt as usize, |trace| {
            let base = 3 * cols::WIDTH;
            trace[base + cols::SIGN_B] = Val::ZERO;
            trace[base + cols::SIGN_XOR] = Val::ZERO;
        });
    }

    /// A difference "byte" out of range whose limb is right: `d_0 + 256`, `d_1 - 1`, so the
    /// limb equation would let a wrong carry through; the range check stops it.
    #[test]
    fn non_canonical_difference_is_rejected() {
        let tables = AluFixture::new(&honest_rows()).tables();
        assert_rejected_after(tables, TableId::Lt as usize, |trace| {
            // Row 1: 5 - 3 = 2, so d_1 = 0 and d_1 - 1 wraps below zero.
            trace[cols::WIDTH + cols::D] += Val::from_u32(256);
            trace[cols::WIDTH + cols::D + 1] -= Val::ONE;
        });
    }

    #[test]
    fn skipped_row_is_rejected() {
        let rows = honest_rows();
        let fixture = AluFixture::with_chip_rows(&rows, &rows[..rows.len() - 1]);
        assert_rejected(&fixture.tables());
    }

    /// A byte-table multiplicity one short of this chip's range checks.
    #[test]
    fn wrong_multiplicity_is_rejected() {
        let tables = AluFixture::new(&honest_rows()).tables();
        assert_rejected_after(tables, TableId::Byte as usize, |trace| {
            let cell = table_row(0xff, 0xff) * byte::cols::WIDTH
                + byte::cols::MULTIPLICITY
                + ByteOp::RangePair.index();
            assert_ne!(trace[cell], Val::ZERO, "the fixture looks 0xffff up");
            trace[cell] -= Val::ONE;
        });
    }

    /// A padding row switched on claims `0 < 0` is 0: a request nobody sent.
    #[test]
    fn activated_padding_row_is_rejected() {
        let rows = honest_rows();
        let tables = AluFixture::new(&rows).tables();
        assert_rejected_after(tables, TableId::Lt as usize, |trace| {
            assert!(trace.len() / cols::WIDTH > rows.len());
            trace[rows.len() * cols::WIDTH + cols::IS_SLTU] = Val::ONE;
        });
    }
}
