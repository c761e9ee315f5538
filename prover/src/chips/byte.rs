//! `ByteChip`: the byte lookup table.
//!
//! A preprocessed table with one row per byte pair `(x, y)` (`2^16` rows) holding `x & y`,
//! `x | y`, `x ^ y`, `x < y`, the top bit of `x` and the leading zeros of `x`. Each row provides
//! one entry per [`ByteOp`] on [`BYTE_BUS`] — `(AND, x, y, x&y)`, …, `(RANGE_PAIR, x, y, 0)`,
//! `(LTU, x, y, x<y)`, `(MSB, x, y, x>>7)`, `(CLZ, x, y, clz8(x))` — each with its own
//! multiplicity column in the main trace. (`MSB`/`CLZ` ignore `y`; callers use `y = 0`.)
//!
//! There is nothing to constrain: the table is fixed by the preprocessed commitment, and the
//! multiplicities may be any field elements. LogUp is sound for the queries as long as the total
//! query count stays below `p`, which `p3-lookup` enforces from the per-row bounds the querying
//! chips declare (`Count::bounded(is_real, 1)`, with `is_real` constrained boolean) and the
//! trace heights; the table side is `Count::provided` and carries no bound.

use p3_air::{Air, BaseAir, PermutationAirBuilder, WindowAccess};
use p3_field::{Field, PrimeCharacteristicRing};
use p3_lookup::InteractionBuilder;
use p3_matrix::dense::RowMajorMatrix;

use super::ByteCounts;
use crate::buses::{BYTE_BUS, ByteOp};

/// `log2` of the table height.
pub const LOG_BYTE_TABLE_HEIGHT: usize = 16;
/// One row per byte pair.
pub const BYTE_TABLE_HEIGHT: usize = 1 << LOG_BYTE_TABLE_HEIGHT;

/// Row of the table holding the pair `(x, y)`.
pub const fn table_row(x: u8, y: u8) -> usize {
    x as usize | (y as usize) << 8
}

/// Preprocessed columns.
pub(crate) mod prep {
    pub const X: usize = 0;
    pub const Y: usize = 1;
    pub const AND: usize = 2;
    pub const OR: usize = 3;
    pub const XOR: usize = 4;
    pub const LTU: usize = 5;
    pub const MSB: usize = 6;
    pub const CLZ: usize = 7;
    pub const WIDTH: usize = 8;
}

/// Main columns: one multiplicity per [`ByteOp`], at `MULTIPLICITY + op.index()`.
pub(crate) mod cols {
    pub const MULTIPLICITY: usize = 0;
    pub const WIDTH: usize = crate::buses::ByteOp::ALL.len();
}

#[derive(Clone, Copy, Debug, Default)]
pub struct ByteChip;

impl ByteChip {
    pub const fn name(&self) -> &'static str {
        "Byte"
    }

    /// The multiplicity trace for the lookups recorded in `counts`.
    pub fn generate_trace<F: Field>(&self, counts: &ByteCounts) -> RowMajorMatrix<F> {
        let mut values = F::zero_vec(BYTE_TABLE_HEIGHT * cols::WIDTH);
        for op in ByteOp::ALL {
            for (row, &count) in counts.column(op).iter().enumerate() {
                values[row * cols::WIDTH + cols::MULTIPLICITY + op.index()] = F::from_u32(count);
            }
        }
        RowMajorMatrix::new(values, cols::WIDTH)
    }
}

impl<F: Field> BaseAir<F> for ByteChip {
    fn width(&self) -> usize {
        cols::WIDTH
    }

    fn preprocessed_trace(&self) -> Option<RowMajorMatrix<F>> {
        let mut values = F::zero_vec(BYTE_TABLE_HEIGHT * prep::WIDTH);
        for (row, chunk) in values.chunks_exact_mut(prep::WIDTH).enumerate() {
            let (x, y) = ((row & 0xff) as u8, (row >> 8) as u8);
            chunk[prep::X] = F::from_u8(x);
            chunk[prep::Y] = F::from_u8(y);
            chunk[prep::AND] = F::from_u8(ByteOp::And.apply(x, y));
            chunk[prep::OR] = F::from_u8(ByteOp::Or.apply(x, y));
            chunk[prep::XOR] = F::from_u8(ByteOp::Xor.apply(x, y));
            chunk[prep::LTU] = F::from_u8(ByteOp::Ltu.apply(x, y));
            chunk[prep::MSB] = F::from_u8(ByteOp::Msb.apply(x, y));
            chunk[prep::CLZ] = F::from_u8(ByteOp::Clz.apply(x, y));
        }
        Some(RowMajorMatrix::new(values, prep::WIDTH))
    }

    fn preprocessed_width(&self) -> usize {
        prep::WIDTH
    }

    fn main_next_row_columns(&self) -> Vec<usize> {
        vec![]
    }

    fn preprocessed_next_row_columns(&self) -> Vec<usize> {
        vec![]
    }
}

impl<AB: PermutationAirBuilder + InteractionBuilder> Air<AB> for ByteChip {
    fn eval(&self, builder: &mut AB) {
        let main = builder.main();
        let multiplicities: Vec<AB::Expr> = (0..cols::WIDTH)
            .map(|i| main.current_slice()[cols::MULTIPLICITY + i].into())
            .collect();
        let prep = builder.preprocessed().current_slice().to_vec();
        let (x, y) = (prep[prep::X], prep[prep::Y]);

        for op in ByteOp::ALL {
            let result: AB::Expr = match op {
                ByteOp::And => prep[prep::AND].into(),
                ByteOp::Or => prep[prep::OR].into(),
                ByteOp::Xor => prep[prep::XOR].into(),
                ByteOp::RangePair => AB::Expr::ZERO,
                ByteOp::Ltu => prep[prep::LTU].into(),
                ByteOp::Msb => prep[prep::MSB].into(),
                ByteOp::Clz => prep[prep::CLZ].into(),
            };
            BYTE_BUS.table_entry(
                builder,
                [AB::Expr::from_u8(op as u8), x.into(), y.into(), result],
                multiplicities[op.index()].clone(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use p3_matrix::Matrix;

    use super::*;
    use crate::buses::AluOp;
    use crate::chips::AluRow;
    use crate::chips::testing::{AluFixture, TableId, assert_rejected_after, prove_and_verify};
    use crate::config::Val;

    #[test]
    fn table_rows_hold_the_byte_functions() {
        let table = <ByteChip as BaseAir<Val>>::preprocessed_trace(&ByteChip).unwrap();
        assert_eq!(table.height(), BYTE_TABLE_HEIGHT);
        let row = table.row_slice(table_row(0xf0, 0x3c)).unwrap().to_vec();
        assert_eq!(row[prep::X], Val::from_u8(0xf0));
        assert_eq!(row[prep::Y], Val::from_u8(0x3c));
        assert_eq!(row[prep::AND], Val::from_u8(0x30));
        assert_eq!(row[prep::OR], Val::from_u8(0xfc));
        assert_eq!(row[prep::XOR], Val::from_u8(0xcc));
    }

    fn fixture() -> AluFixture {
        AluFixture::new(&[
            AluRow::new(AluOp::Addu, 7, 9).unwrap(),
            AluRow::new(AluOp::And, 0xff00_ff00, 0x0ff0_0ff0).unwrap(),
            AluRow::new(AluOp::Xor, 0x1234_5678, 0x9abc_def0).unwrap(),
        ])
    }

    #[test]
    fn honest_multiplicities_verify() {
        prove_and_verify(&fixture().tables()).expect("honest batch must verify");
    }

    /// One multiplicity too many: the table provides an entry nobody looked up.
    #[test]
    fn extra_multiplicity_is_rejected() {
        assert_rejected_after(fixture().tables(), TableId::Byte as usize, |byte| {
            byte[table_row(3, 200) * cols::WIDTH
                + cols::MULTIPLICITY
                + ByteOp::RangePair.index()] += Val::ONE;
        });
    }

    /// One multiplicity too few: a lookup is left unmatched.
    #[test]
    fn missing_multiplicity_is_rejected() {
        assert_rejected_after(fixture().tables(), TableId::Byte as usize, |byte| {
            let cell =
                table_row(0x00, 0xf0) * cols::WIDTH + cols::MULTIPLICITY + ByteOp::And.index();
            assert_ne!(byte[cell], Val::ZERO, "the fixture looks this entry up");
            byte[cell] -= Val::ONE;
        });
    }

    /// Moving a count to a neighbouring entry keeps the total but not the multiset.
    #[test]
    fn multiplicity_on_the_wrong_entry_is_rejected() {
        assert_rejected_after(fixture().tables(), TableId::Byte as usize, |byte| {
            let from =
                table_row(0x00, 0xf0) * cols::WIDTH + cols::MULTIPLICITY + ByteOp::And.index();
            let to = table_row(0x01, 0xf0) * cols::WIDTH + cols::MULTIPLICITY + ByteOp::And.index();
            byte[from] -= Val::ONE;
            byte[to] += Val::ONE;
        });
    }
}
