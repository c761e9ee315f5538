//! `AddSubChip`: `ADD`, `ADDU`, `SUB`, `SUBU` (and through the ALU bus mapping `ADDI`,
//! `ADDIU`).
//!
//! Every row is one 32-bit addition `x + y = z (mod 2^32)` on byte columns:
//! - `ADD`/`ADDU` (`a = b + c`): `x = b`, `y = c`, `z = a`;
//! - `SUB`/`SUBU` (`a = b - c`, i.e. `a + c = b`): `x = a`, `y = c`, `z = b`.
//!
//! Constraints:
//! - one-hot opcode flags; `is_real` (their sum) is boolean;
//! - the addition on 16-bit limbs `lo = byte0 + 256 byte1`, `hi = byte2 + 256 byte3`:
//!   `x_lo + y_lo = z_lo + 2^16 c0` and `x_hi + y_hi + c0 = z_hi + 2^16 c1`, with `c0`, `c1`
//!   boolean. All twelve bytes are range-checked on the byte bus (pairs), so both equations hold
//!   over the integers (every term is far below `p`);
//! - for the trapping `ADD`/`SUB`, no signed overflow: with `s_x, s_y, s_z` the top bits, the
//!   carry into bit 31 is `cin = s_z + 2 c1 - s_x - s_y` and overflow is `cin XOR c1`. A top bit
//!   `s` of byte `t` is proven by range-checking `2 (t - 128 s)` as a byte: it lies in `[0, 255]`
//!   exactly when `s` is the top bit of `t`;
//! - the row receives `(op, a, b, c)` from the ALU bus with count `is_real`.

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
    pub const IS_ADD: usize = 0;
    pub const IS_ADDU: usize = 1;
    pub const IS_SUB: usize = 2;
    pub const IS_SUBU: usize = 3;
    /// Bytes of the adder's first operand (little-endian).
    pub const X: usize = 4;
    /// Bytes of the adder's second operand (always `c`).
    pub const Y: usize = 8;
    /// Bytes of the adder's sum.
    pub const Z: usize = 12;
    /// Carries out of the low and the high 16-bit limb.
    pub const CARRY: usize = 16;
    pub const SIGN_X: usize = 18;
    pub const SIGN_Y: usize = 19;
    pub const SIGN_Z: usize = 20;
    pub const WIDTH: usize = 21;
}

/// Opcode flag columns and the operation each selects.
const FLAGS: [(usize, AluOp); 4] = [
    (cols::IS_ADD, AluOp::Add),
    (cols::IS_ADDU, AluOp::Addu),
    (cols::IS_SUB, AluOp::Sub),
    (cols::IS_SUBU, AluOp::Subu),
];

const SUPPORTED: [AluOp; 4] = [AluOp::Add, AluOp::Addu, AluOp::Sub, AluOp::Subu];

#[derive(Clone, Copy, Debug, Default)]
pub struct AddSubChip;

impl AddSubChip {
    pub const fn name(&self) -> &'static str {
        "AddSub"
    }

    /// The trace for `rows`, recording its byte lookups in `bytes`. Fails, before recording
    /// anything, on a row this chip does not handle, a trapping row or a wrong result.
    pub fn generate_trace<F: Field>(
        &self,
        rows: &[AluRow],
        bytes: &mut ByteCounts,
    ) -> Result<RowMajorMatrix<F>, TraceError> {
        check_alu_rows(self.name(), rows, &SUPPORTED)?;
        Ok(Self::fill_trace(rows, bytes))
    }

    /// Fills the trace without checking the rows: the columns are derived from `a`, `b`, `c`
    /// as given, so a wrong result yields a trace that violates the constraints (tests use this
    /// to forge witnesses).
    pub(crate) fn fill_trace<F: Field>(
        rows: &[AluRow],
        bytes: &mut ByteCounts,
    ) -> RowMajorMatrix<F> {
        padded_trace(rows, cols::WIDTH, |_, row, out| {
            let flag = FLAGS
                .iter()
                .find(|(_, op)| *op == row.opcode)
                .map_or(cols::IS_ADDU, |(column, _)| *column);
            out[flag] = F::ONE;
            let (x, y, z) = match row.opcode {
                AluOp::Sub | AluOp::Subu => (row.a, row.c, row.b),
                _ => (row.b, row.c, row.a),
            };
            let carry_lo = ((x & 0xffff) + (y & 0xffff)) >> 16;
            let carry_hi = ((x >> 16) + (y >> 16) + carry_lo) >> 16;
            out[cols::CARRY] = F::from_u32(carry_lo);
            out[cols::CARRY + 1] = F::from_u32(carry_hi);
            for (base, sign, word) in [
                (cols::X, cols::SIGN_X, x),
                (cols::Y, cols::SIGN_Y, y),
                (cols::Z, cols::SIGN_Z, z),
            ] {
                fill_range_checked_word(&mut out[base..], word, bytes);
                out[sign] = F::from_u32(word >> 31);
            }
            let [_, _, _, x3] = word_bytes(x);
            let [_, _, _, y3] = word_bytes(y);
            let [_, _, _, z3] = word_bytes(z);
            bytes.record(ByteOp::RangePair, sign_check_byte(x3), sign_check_byte(y3));
            bytes.record(ByteOp::RangePair, sign_check_byte(z3), 0);
        })
    }
}

impl<F: Field> BaseAir<F> for AddSubChip {
    fn width(&self) -> usize {
        cols::WIDTH
    }

    fn main_next_row_columns(&self) -> Vec<usize> {
        vec![]
    }
}

impl<AB: PermutationAirBuilder + InteractionBuilder> Air<AB> for AddSubChip {
    fn eval(&self, builder: &mut AB) {
        let main = builder.main();
        let local: Vec<AB::Expr> = main.current_slice().iter().map(|&v| v.into()).collect();
        let col = |i: usize| local[i].clone();
        let [x, y, z] = [cols::X, cols::Y, cols::Z].map(|base| limbs(&local[base..base + 4]));
        let two_pow_16 = AB::F::from_u32(1 << 16);

        let (is_real, opcode) = eval_alu_flags(builder, &FLAGS.map(|(flag, op)| (col(flag), op)));

        // The addition, limb by limb.
        let (c0, c1) = (col(cols::CARRY), col(cols::CARRY + 1));
        builder.assert_bool(c0.clone());
        builder.assert_bool(c1.clone());
        builder.assert_zero(x[0].clone() + y[0].clone() - z[0].clone() - c0.clone() * two_pow_16);
        builder
            .assert_zero(x[1].clone() + y[1].clone() + c0 - z[1].clone() - c1.clone() * two_pow_16);

        // No signed overflow for the trapping operations.
        let (sx, sy, sz) = (col(cols::SIGN_X), col(cols::SIGN_Y), col(cols::SIGN_Z));
        builder.assert_bool(sx.clone());
        builder.assert_bool(sy.clone());
        builder.assert_bool(sz.clone());
        let carry_into_top = sz.clone() + c1.clone() * AB::F::TWO - sx.clone() - sy.clone();
        let overflow = carry_into_top.clone() + c1.clone() - carry_into_top * c1 * AB::F::TWO;
        builder.assert_zero((col(cols::IS_ADD) + col(cols::IS_SUB)) * overflow);

        // Range checks: every byte, and the three top bits.
        let mut pairs: Vec<(AB::Expr, AB::Expr)> = [cols::X, cols::Y, cols::Z]
            .iter()
            .flat_map(|&base| word_byte_pairs(&local[base..]))
            .collect();
        pairs.push((
            sign_check(col(cols::X + 3), sx),
            sign_check(col(cols::Y + 3), sy),
        ));
        pairs.push((sign_check(col(cols::Z + 3), sz), AB::Expr::ZERO));
        eval_byte_pairs(builder, pairs, &is_real);

        // Receive `(op, a, b, c)`: `(z, x, y)` for an addition, `(x, z, y)` for a subtraction.
        let forward = col(cols::IS_ADD) + col(cols::IS_ADDU);
        let backward = col(cols::IS_SUB) + col(cols::IS_SUBU);
        let select = |if_forward: &[AB::Expr; 2], if_backward: &[AB::Expr; 2]| {
            [0, 1].map(|k| {
                forward.clone() * if_forward[k].clone() + backward.clone() * if_backward[k].clone()
            })
        };
        receive_alu_op(
            builder,
            opcode,
            [select(&z, &x), select(&x, &z), y],
            is_real,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chips::testing::{
        AluFixture, TableId, assert_rejected, assert_rejected_after, prove_and_verify,
    };
    use crate::config::Val;

    fn row(op: AluOp, b: u32, c: u32) -> AluRow {
        AluRow::new(op, b, c).expect("test rows do not trap")
    }

    /// `ADD 0x7fffffff, 1` claiming the wrapped sum: MIPS traps on this signed overflow.
    fn trapping_add() -> AluRow {
        AluRow {
            opcode: AluOp::Add,
            a: 0x8000_0000,
            b: 0x7fff_ffff,
            c: 1,
        }
    }

    fn honest_rows() -> Vec<AluRow> {
        vec![
            row(AluOp::Add, 5, 7),
            row(AluOp::Add, 0x7fff_fffe, 1),
            row(AluOp::Add, (-5i32) as u32, 3),
            row(AluOp::Add, 0x8000_0000, 0x7fff_ffff),
            row(AluOp::Addu, 0xffff_ffff, 1),
            row(AluOp::Addu, 0x7fff_ffff, 0x7fff_ffff),
            row(AluOp::Addu, 0x0000_ffff, 0x0000_0001),
            row(AluOp::Sub, 3, 5),
            row(AluOp::Sub, 0x8000_0001, 1),
            row(AluOp::Sub, 0, 0x7fff_ffff),
            row(AluOp::Subu, 0, 1),
            row(AluOp::Subu, 0x8000_0000, 0x7fff_ffff),
            row(AluOp::Subu, 0x1234_5678, 0x1234_5678),
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
        let overflow = trapping_add();
        assert!(matches!(
            AddSubChip.generate_trace::<Val>(&[overflow], &mut bytes),
            Err(TraceError::Traps { row: 0, .. })
        ));
        let wrong = AluRow {
            a: 13,
            ..row(AluOp::Addu, 5, 7)
        };
        assert!(matches!(
            AddSubChip.generate_trace::<Val>(&[row(AluOp::Sub, 1, 1), wrong], &mut bytes),
            Err(TraceError::WrongResult {
                row: 1,
                expected: 12,
                claimed: 13,
                ..
            })
        ));
        assert!(matches!(
            AddSubChip.generate_trace::<Val>(&[row(AluOp::And, 1, 1)], &mut bytes),
            Err(TraceError::UnsupportedOp { op: AluOp::And, .. })
        ));
        assert_eq!(
            bytes,
            ByteCounts::new(),
            "a refused trace records no lookups"
        );
    }

    /// Every column is derived from a wrong sum; only the addition constraint can catch it.
    #[test]
    fn wrong_sum_is_rejected() {
        let mut rows = honest_rows();
        rows[4].a = rows[4].a.wrapping_add(1);
        assert_rejected(&AluFixture::forged(&rows).tables());
    }

    #[test]
    fn wrong_difference_is_rejected() {
        let mut rows = honest_rows();
        rows[10].a ^= 0x0001_0000;
        assert_rejected(&AluFixture::forged(&rows).tables());
    }

    /// `ADD` with a signed overflow has no result (MIPS traps); the wrapped sum is rejected.
    #[test]
    fn trapping_add_is_rejected() {
        let mut rows = honest_rows();
        rows.push(trapping_add());
        assert_rejected(&AluFixture::forged(&rows).tables());
    }

    #[test]
    fn trapping_sub_is_rejected() {
        let mut rows = honest_rows();
        rows.push(AluRow {
            opcode: AluOp::Sub,
            a: 0x7fff_ffff,
            b: 0x8000_0000,
            c: 1,
        });
        assert_rejected(&AluFixture::forged(&rows).tables());
    }

    /// A trapping `ADD` whose sum's sign bit is lied about (which would hide the overflow) fails
    /// the sign-bit range check.
    #[test]
    fn forged_sign_bit_is_rejected() {
        let mut rows = honest_rows();
        rows.push(trapping_add());
        let last = rows.len() - 1;
        let tables = AluFixture::forged(&rows).tables();
        assert_rejected_after(tables, TableId::AddSub as usize, |trace| {
            trace[last * cols::WIDTH + cols::SIGN_Z] = Val::ZERO;
        });
    }

    /// The dispatcher asks for an addition the chip never proves.
    #[test]
    fn skipped_row_is_rejected() {
        let rows = honest_rows();
        let fixture = AluFixture::with_chip_rows(&rows, &rows[..rows.len() - 1]);
        assert_rejected(&fixture.tables());
    }

    /// A trapping `ADD` request answered by an `ADDU` row (whose wrapped sum is correct) does not
    /// balance the ALU bus: the opcode is part of the message.
    #[test]
    fn trapping_request_answered_as_unsigned_is_rejected() {
        let mut sent = honest_rows();
        let mut proved = sent.clone();
        sent.push(trapping_add());
        proved.push(row(AluOp::Addu, 0x7fff_ffff, 1));
        assert_rejected(&AluFixture::with_chip_rows(&sent, &proved).tables());
    }

    /// The chip proves an addition nobody asked for.
    #[test]
    fn extra_row_is_rejected() {
        let rows = honest_rows();
        let mut chip_rows = rows.clone();
        chip_rows.push(row(AluOp::Addu, 1, 2));
        let fixture = AluFixture::with_chip_rows(&rows, &chip_rows);
        assert_rejected(&fixture.tables());
    }

    /// A padding row switched on receives a request for `0 + 0 = 0` that nobody sent.
    #[test]
    fn activated_padding_row_is_rejected() {
        let rows = honest_rows();
        let tables = AluFixture::new(&rows).tables();
        assert_rejected_after(tables, TableId::AddSub as usize, |trace| {
            assert!(
                trace.len() / cols::WIDTH > rows.len(),
                "fixture has padding"
            );
            trace[rows.len() * cols::WIDTH + cols::IS_ADDU] = Val::ONE;
        });
    }
}
