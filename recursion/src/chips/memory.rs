//! Cells written from outside the arithmetic: constants, witness values and hints
//! ([`Instr::Cell`]). One row per such instruction, in program order.
//!
//! The row provides `(address, value)` on the memory bus with the cell's read count. Constants
//! are pinned by the preprocessed columns; witness and hint values are free (the program's
//! later instructions constrain them), except that a cell the program treats as a base value
//! must have zero coordinates 1..3, so no read of it as an extension element can see anything
//! else.

use p3_air::{Air, PermutationAirBuilder, WindowAccess};
use p3_field::{Field, PrimeField32};
use p3_lookup::InteractionBuilder;
use p3_matrix::dense::RowMajorMatrix;

use super::{MEMORY_BUS, table_height};
use crate::ir::{CellSource, Instr, Program};
use crate::runtime::Execution;

pub(crate) mod prep {
    pub const ADDR: usize = 0;
    /// Read count of the cell (its multiplicity on the memory bus).
    pub const MULT: usize = 1;
    /// 1 for a constant: the value must equal `CONST`.
    pub const IS_CONST: usize = 2;
    /// 1 for a base cell (witness or hint): coordinates 1..3 must be zero.
    pub const IS_BASE: usize = 3;
    pub const CONST: usize = 4;
    pub const WIDTH: usize = 8;
}

pub(crate) mod cols {
    pub const VALUE: usize = 0;
    pub const WIDTH: usize = 4;
}

/// The memory table of one program.
#[derive(Clone, Debug)]
pub struct MemoryChip {
    /// Preprocessed rows, canonical values, `prep::WIDTH` per row.
    prep: Vec<u32>,
    /// Row `i` writes cell `addrs[i]`.
    addrs: Vec<u32>,
}

impl MemoryChip {
    pub fn new(program: &Program, min_height: usize) -> Self {
        let mut prep = Vec::new();
        let mut addrs = Vec::new();
        for instr in program.instrs() {
            let Instr::Cell { out, source } = instr else {
                continue;
            };
            let mut row = [0u32; prep::WIDTH];
            row[prep::ADDR] = out.0;
            row[prep::MULT] = program.reads_of(*out);
            match source {
                CellSource::Const(block) => {
                    row[prep::IS_CONST] = 1;
                    for (slot, value) in row[prep::CONST..].iter_mut().zip(block) {
                        *slot = value.as_canonical_u32();
                    }
                }
                CellSource::Witness { ext: false } | CellSource::Hint(_) => row[prep::IS_BASE] = 1,
                CellSource::Witness { ext: true } => {}
            }
            prep.extend_from_slice(&row);
            addrs.push(out.0);
        }
        prep.resize(table_height(addrs.len(), min_height) * prep::WIDTH, 0);
        Self { prep, addrs }
    }

    pub fn name(&self) -> &'static str {
        "RecursionMemory"
    }

    pub fn height(&self) -> usize {
        self.prep.len() / prep::WIDTH
    }

    /// The main trace: each row's cell value.
    pub fn generate_trace<F: Field>(&self, execution: &Execution) -> RowMajorMatrix<F> {
        let mut values = vec![F::ZERO; self.height() * cols::WIDTH];
        for (row, &addr) in self.addrs.iter().enumerate() {
            let block = execution.memory[addr as usize];
            for (slot, value) in values[row * cols::WIDTH..(row + 1) * cols::WIDTH]
                .iter_mut()
                .zip(block)
            {
                *slot = F::from_u32(value.as_canonical_u32());
            }
        }
        RowMajorMatrix::new(values, cols::WIDTH)
    }
}

impl MemoryChip {
    fn main_width(&self) -> usize {
        cols::WIDTH
    }

    fn fixed_width(&self) -> usize {
        prep::WIDTH
    }

    fn fixed_values(&self) -> &[u32] {
        &self.prep
    }

    fn num_publics(&self) -> usize {
        0
    }
}

super::fixed_table_base_air!(MemoryChip);

impl<AB: PermutationAirBuilder + InteractionBuilder> Air<AB> for MemoryChip {
    fn eval(&self, builder: &mut AB) {
        let main = builder.main();
        let value: Vec<AB::Expr> = main.current_slice()[cols::VALUE..cols::VALUE + 4]
            .iter()
            .map(|&v| v.into())
            .collect();
        let prep: Vec<AB::Expr> = super::preprocessed_row(builder);

        let is_const = prep[prep::IS_CONST].clone();
        let is_base = prep[prep::IS_BASE].clone();
        for i in 0..4 {
            builder
                .assert_zero(is_const.clone() * (value[i].clone() - prep[prep::CONST + i].clone()));
        }
        for coordinate in &value[1..] {
            builder.assert_zero(is_base.clone() * coordinate.clone());
        }

        let mut message = vec![prep[prep::ADDR].clone()];
        message.extend(value);
        MEMORY_BUS.table_entry(builder, message, prep[prep::MULT].clone());
    }
}
