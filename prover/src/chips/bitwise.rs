//! `BitwiseChip`: `AND`, `OR`, `XOR`, `NOR` (and through the ALU bus mapping `ANDI`, `ORI`,
//! `XORI`, whose zero-extended immediate arrives as `c`).
//!
//! Each row holds the bytes of `a`, `b`, `c` and looks up, for each byte position `i`,
//! `(op, b_i, c_i, r_i)` in the byte table, where `op` is the byte operation of the row
//! (`NOR` uses `OR`) and `r_i = a_i`, or `255 - a_i` for `NOR`. Table membership proves at once
//! that `b_i`, `c_i` and `r_i` are bytes and that `r_i = op(b_i, c_i)`, hence that `a_i` is the
//! right byte. The one-hot opcode flags are boolean, their sum `is_real` is boolean, and the row
//! receives `(op, a, b, c)` from the ALU bus with count `is_real`.

use p3_air::{Air, BaseAir, PermutationAirBuilder, WindowAccess};
use p3_field::{Field, PrimeCharacteristicRing};
use p3_lookup::{Count, InteractionBuilder};
use p3_matrix::dense::RowMajorMatrix;

use super::word::{fill_word_bytes, limbs, word_bytes};
use super::{
    AluRow, ByteCounts, TraceError, check_alu_rows, eval_alu_flags, padded_trace, receive_alu_op,
};
use crate::buses::{AluOp, BYTE_BUS, ByteOp};

pub(crate) mod cols {
    pub const IS_AND: usize = 0;
    pub const IS_OR: usize = 1;
    pub const IS_XOR: usize = 2;
    pub const IS_NOR: usize = 3;
    /// Bytes of the result (little-endian).
    pub const A: usize = 4;
    pub const B: usize = 8;
    pub const C: usize = 12;
    pub const WIDTH: usize = 16;
}

/// Opcode flag columns, the operation each selects, and the byte-table operation it uses.
const FLAGS: [(usize, AluOp, ByteOp); 4] = [
    (cols::IS_AND, AluOp::And, ByteOp::And),
    (cols::IS_OR, AluOp::Or, ByteOp::Or),
    (cols::IS_XOR, AluOp::Xor, ByteOp::Xor),
    (cols::IS_NOR, AluOp::Nor, ByteOp::Or),
];

const SUPPORTED: [AluOp; 4] = [AluOp::And, AluOp::Or, AluOp::Xor, AluOp::Nor];

#[derive(Clone, Copy, Debug, Default)]
pub struct BitwiseChip;

impl BitwiseChip {
    pub const fn name(&self) -> &'static str {
        "Bitwise"
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

    /// Fills the trace without checking the rows (tests use this to forge witnesses). Byte
    /// lookups are recorded only for entries that exist in the table.
    pub(crate) fn fill_trace<F: Field>(
        rows: &[AluRow],
        bytes: &mut ByteCounts,
    ) -> RowMajorMatrix<F> {
        padded_trace(rows, cols::WIDTH, |_, row, out| {
            let Some(&(flag, _, byte_op)) = FLAGS.iter().find(|(_, op, _)| *op == row.opcode)
            else {
                return;
            };
            out[flag] = F::ONE;
            for (base, word) in [(cols::A, row.a), (cols::B, row.b), (cols::C, row.c)] {
                fill_word_bytes(&mut out[base..], word);
            }
            let (a, b, c) = (word_bytes(row.a), word_bytes(row.b), word_bytes(row.c));
            for i in 0..4 {
                let looked_up = if row.opcode == AluOp::Nor {
                    !a[i]
                } else {
                    a[i]
                };
                if byte_op.apply(b[i], c[i]) == looked_up {
                    bytes.record(byte_op, b[i], c[i]);
                }
            }
        })
    }
}

impl<F: Field> BaseAir<F> for BitwiseChip {
    fn width(&self) -> usize {
        cols::WIDTH
    }

    fn main_next_row_columns(&self) -> Vec<usize> {
        vec![]
    }
}

impl<AB: PermutationAirBuilder + InteractionBuilder> Air<AB> for BitwiseChip {
    fn eval(&self, builder: &mut AB) {
        let main = builder.main();
        let local: Vec<AB::Expr> = main.current_slice().iter().map(|&v| v.into()).collect();
        let col = |i: usize| local[i].clone();

        let (is_real, opcode) =
            eval_alu_flags(builder, &FLAGS.map(|(flag, op, _)| (col(flag), op)));

        let byte_op: AB::Expr = FLAGS
            .iter()
            .map(|&(flag, _, op)| col(flag) * AB::F::from_u8(op as u8))
            .sum();
        let is_nor = col(cols::IS_NOR);
        for i in 0..4 {
            let a = col(cols::A + i);
            // `a` for AND/OR/XOR, `255 - a` for NOR.
            let looked_up = a.clone() + is_nor.clone() * (AB::Expr::from_u8(255) - a * AB::F::TWO);
            BYTE_BUS.lookup_key(
                builder,
                [
                    byte_op.clone(),
                    col(cols::B + i),
                    col(cols::C + i),
                    looked_up,
                ],
                Count::bounded(is_real.clone(), 1),
            );
        }

        let words = [cols::A, cols::B, cols::C].map(|base| limbs(&local[base..base + 4]));
        receive_alu_op(builder, opcode, words, is_real);
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
        AluRow::new(op, b, c).expect("bitwise operations never trap")
    }

    fn honest_rows() -> Vec<AluRow> {
        vec![
            row(AluOp::And, 0xdead_beef, 0x0ff0_f00f),
            row(AluOp::And, 0xffff_ffff, 0x0000_0000),
            row(AluOp::Or, 0x1200_0034, 0x0056_7800),
            row(AluOp::Xor, 0xaaaa_5555, 0xffff_0000),
            row(AluOp::Nor, 0x0f0f_0000, 0x00ff_0000),
            row(AluOp::Nor, 0, 0),
            row(AluOp::Xor, 0x0000_ffff, 0x0000_1234),
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
            a: 1,
            ..row(AluOp::Xor, 1, 1)
        };
        assert!(matches!(
            BitwiseChip.generate_trace::<Val>(&[wrong], &mut bytes),
            Err(TraceError::WrongResult {
                row: 0,
                expected: 0,
                claimed: 1,
                ..
            })
        ));
        assert!(matches!(
            BitwiseChip.generate_trace::<Val>(&[row(AluOp::Subu, 1, 1)], &mut bytes),
            Err(TraceError::UnsupportedOp {
                op: AluOp::Subu,
                ..
            })
        ));
    }

    #[test]
    fn wrong_and_is_rejected() {
        let mut rows = honest_rows();
        rows[0].a ^= 0x0000_0100;
        assert_rejected(&AluFixture::forged(&rows).tables());
    }

    /// `NOR` answered with the un-inverted `OR`.
    #[test]
    fn nor_without_inversion_is_rejected() {
        let mut rows = honest_rows();
        rows[4].a = rows[4].b | rows[4].c;
        assert_rejected(&AluFixture::forged(&rows).tables());
    }

    /// A result "byte" outside `[0, 255]` whose limb still equals the right value:
    /// `a_0 = x + 256`, `a_1 = y - 1` leaves `a_lo` unchanged, so only the byte lookup catches it.
    #[test]
    fn non_canonical_result_bytes_are_rejected() {
        let tables = AluFixture::new(&honest_rows()).tables();
        assert_rejected_after(tables, TableId::Bitwise as usize, |trace| {
            // Row 3: XOR 0xaaaa5555 ^ 0xffff0000 = 0x55555555, byte 1 is 0x55 > 0.
            trace[3 * cols::WIDTH + cols::A] += Val::from_u32(256);
            trace[3 * cols::WIDTH + cols::A + 1] -= Val::ONE;
        });
    }

    #[test]
    fn skipped_row_is_rejected() {
        let rows = honest_rows();
        let fixture = AluFixture::with_chip_rows(&rows, &rows[1..]);
        assert_rejected(&fixture.tables());
    }
}
