//! The program's public values ([`Instr::Public`]): one row whose columns are the values, each
//! looked up in memory and equal to the proof's public value of the same index.

use p3_air::{Air, PermutationAirBuilder, WindowAccess};
use p3_field::{Field, PrimeCharacteristicRing, PrimeField32};
use p3_lookup::{Count, InteractionBuilder};
use p3_matrix::dense::RowMajorMatrix;

use super::{MEMORY_BUS, table_height};
use crate::ir::{Instr, Program};
use crate::runtime::Execution;

/// The public-values table: one real row (padded to the machine's minimum height), one column
/// per public value; the preprocessed
/// part holds the addresses on row 0 and `is_real` (1 on row 0 only) in its last column.
#[derive(Clone, Debug)]
pub struct PublicValuesChip {
    addrs: Vec<u32>,
    height: usize,
}

impl PublicValuesChip {
    pub fn new(program: &Program, min_height: usize) -> Self {
        let addrs = program
            .instrs()
            .iter()
            .filter_map(|instr| match instr {
                Instr::Public { input } => Some(input.0),
                _ => None,
            })
            .collect();
        Self {
            addrs,
            height: table_height(1, min_height),
        }
    }

    pub fn name(&self) -> &'static str {
        "RecursionPublicValues"
    }

    pub fn num_values(&self) -> usize {
        self.addrs.len()
    }

    pub fn generate_trace<F: Field>(&self, execution: &Execution) -> RowMajorMatrix<F> {
        let width = self.width_cols();
        let mut values = vec![F::ZERO; self.height * width];
        for (column, &addr) in self.addrs.iter().enumerate() {
            values[column] = F::from_u32(execution.memory[addr as usize][0].as_canonical_u32());
        }
        RowMajorMatrix::new(values, width)
    }

    /// One column per value, and at least one so the table is never empty.
    fn width_cols(&self) -> usize {
        self.addrs.len().max(1)
    }
}

impl PublicValuesChip {
    fn main_width(&self) -> usize {
        self.width_cols()
    }

    fn fixed_width(&self) -> usize {
        self.addrs.len() + 1
    }

    /// Row 0: the addresses and `is_real = 1`; the other rows: zeros.
    fn fixed_values(&self) -> Vec<u32> {
        let width = self.fixed_width();
        let mut values = vec![0; self.height * width];
        values[..self.addrs.len()].copy_from_slice(&self.addrs);
        values[width - 1] = 1;
        values
    }

    fn num_publics(&self) -> usize {
        self.addrs.len()
    }
}

super::fixed_table_base_air!(PublicValuesChip);

impl<AB: PermutationAirBuilder + InteractionBuilder> Air<AB> for PublicValuesChip {
    fn eval(&self, builder: &mut AB) {
        let main = builder.main();
        let values: Vec<AB::Expr> = main.current_slice().iter().map(|&v| v.into()).collect();
        let prep: Vec<AB::Expr> = builder
            .preprocessed()
            .current_slice()
            .iter()
            .map(|&v| v.into())
            .collect();
        let publics: Vec<AB::Expr> = builder.public_values().iter().map(|&v| v.into()).collect();
        let is_real = prep[self.addrs.len()].clone();
        builder.assert_bool(is_real.clone());
        for (i, public) in publics.into_iter().enumerate() {
            builder.assert_zero(is_real.clone() * (values[i].clone() - public));
            MEMORY_BUS.lookup_key(
                builder,
                [
                    prep[i].clone(),
                    values[i].clone(),
                    AB::Expr::ZERO,
                    AB::Expr::ZERO,
                    AB::Expr::ZERO,
                ],
                Count::bounded(is_real.clone(), 1),
            );
        }
    }
}
