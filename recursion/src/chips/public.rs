//! The program's public values ([`Instr::Public`]): one row per public value, in order.
//!
//! Row `i` holds the value at the address of the program's `i`-th public value (looked up in
//! memory) and must equal the proof's public value `i`. The binding uses preprocessed one-hot
//! selectors (column `i` is 1 on row `i` only): the constraint `Σ_i sel_i · (value − pv_i) = 0`.
//! Why rows rather than one row of `n` columns: every column costs constraints in the Groth16
//! wrapper, and a lookup per column would cost an extension-field LogUp column each; here the
//! table has one main column and one lookup whatever `n` is.

use p3_air::{Air, PermutationAirBuilder, WindowAccess};
use p3_field::{Field, PrimeCharacteristicRing, PrimeField32};
use p3_lookup::{Count, InteractionBuilder};
use p3_matrix::dense::RowMajorMatrix;

use super::{MEMORY_BUS, table_height};
use crate::ir::{Instr, Program};
use crate::runtime::Execution;

pub(crate) mod prep {
    pub const ADDR: usize = 0;
    /// 1 on the rows of public values, 0 on padding rows.
    pub const IS_REAL: usize = 1;
    /// Column `SELECT + i` is 1 on row `i` only.
    pub const SELECT: usize = 2;
}

/// The public-values table: one row per public value (padded to a power of two, at least the
/// machine's minimum height), one main column.
#[derive(Clone, Debug)]
pub struct PublicValuesChip {
    addrs: Vec<u32>,
    height: usize,
}

impl PublicValuesChip {
    pub fn new(program: &Program, min_height: usize) -> Self {
        let addrs: Vec<u32> = program
            .instrs()
            .iter()
            .filter_map(|instr| match instr {
                Instr::Public { input } => Some(input.0),
                _ => None,
            })
            .collect();
        let height = table_height(addrs.len(), min_height);
        Self { addrs, height }
    }

    pub fn name(&self) -> &'static str {
        "RecursionPublicValues"
    }

    pub fn height(&self) -> usize {
        self.height
    }

    pub fn num_values(&self) -> usize {
        self.addrs.len()
    }

    /// The main trace: row `i` holds public value `i`.
    pub fn generate_trace<F: Field>(&self, execution: &Execution) -> RowMajorMatrix<F> {
        let mut values = vec![F::ZERO; self.height];
        for (slot, &addr) in values.iter_mut().zip(&self.addrs) {
            *slot = F::from_u32(execution.memory[addr as usize][0].as_canonical_u32());
        }
        RowMajorMatrix::new(values, 1)
    }
}

impl PublicValuesChip {
    fn main_width(&self) -> usize {
        1
    }

    fn fixed_width(&self) -> usize {
        prep::SELECT + self.addrs.len()
    }

    /// Row `i < n`: the address, `is_real = 1` and the one-hot selector of `i`.
    fn fixed_values(&self) -> Vec<u32> {
        let width = self.fixed_width();
        let mut values = vec![0; self.height * width];
        for (row, &addr) in self.addrs.iter().enumerate() {
            let cells = &mut values[row * width..(row + 1) * width];
            cells[prep::ADDR] = addr;
            cells[prep::IS_REAL] = 1;
            cells[prep::SELECT + row] = 1;
        }
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
        let value: AB::Expr = main.current_slice()[0].into();
        let prep: Vec<AB::Expr> = super::preprocessed_row(builder);
        let publics: Vec<AB::Expr> = builder.public_values().iter().map(|&v| v.into()).collect();
        let is_real = prep[prep::IS_REAL].clone();
        // Preprocessed, so fixed by the program; asserted anyway because the lookup's count
        // bound relies on it.
        builder.assert_bool(is_real.clone());
        let mut binding = AB::Expr::ZERO;
        for (i, public) in publics.into_iter().enumerate() {
            binding += prep[prep::SELECT + i].clone() * (value.clone() - public);
        }
        builder.assert_zero(binding);
        MEMORY_BUS.lookup_key(
            builder,
            super::base_cell(prep[prep::ADDR].clone(), value),
            Count::bounded(is_real, 1),
        );
    }
}
