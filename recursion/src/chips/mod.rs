//! The tables that prove a run of a recursion [`Program`](crate::ir::Program).
//!
//! Every table has the same shape as the machine's chips (`zkmips_prover::chips`): a
//! preprocessed part fixed by the program (addresses, multiplicities, operation flags: one row
//! per instruction of the table's kind, in program order), a main part holding the values the
//! prover claims, its constraints, and its interactions on [`MEMORY_BUS`].
//!
//! # The memory argument
//!
//! Memory is write-once (`ir` module docs), so it is a lookup: the instruction writing a cell
//! *provides* `(address, value)` with the cell's read count as its multiplicity (a
//! preprocessed column, so a prover cannot change it), and every read *looks up*
//! `(address, value)` with count 1 (times the row's preprocessed `is_real`). The bus balances
//! only if every read value is the value written. Messages are `[address, v0, v1, v2, v3]`: a
//! base value travels with zero coordinates 1..3, so a base read of an extension cell fails.

pub mod alu;
pub mod memory;
pub mod poseidon2;
pub mod poseidon2_rounds;
pub mod public;

use p3_lookup::LookupBus;

pub use alu::AluChip;
pub use memory::MemoryChip;
pub use poseidon2::Poseidon2Chip;
pub use poseidon2_rounds::Poseidon2RoundsChip;
pub use public::PublicValuesChip;

/// Cells of the write-once memory: `[address, v0, v1, v2, v3]`.
pub const MEMORY_BUS: LookupBus<'static> = LookupBus::new("recursion_memory");

/// Width of a [`MEMORY_BUS`] message.
pub const MEMORY_MESSAGE_WIDTH: usize = 5;

/// The [`MEMORY_BUS`] message of a base value at `address`: `[address, value, 0, 0, 0]`.
pub(crate) fn base_cell<E: p3_field::PrimeCharacteristicRing>(
    address: E,
    value: E,
) -> [E; MEMORY_MESSAGE_WIDTH] {
    [address, value, E::ZERO, E::ZERO, E::ZERO]
}

/// The current row of a table's preprocessed part, as expressions.
pub(crate) fn preprocessed_row<AB: p3_air::AirBuilder>(builder: &AB) -> Vec<AB::Expr> {
    use p3_air::WindowAccess;
    builder
        .preprocessed()
        .current_slice()
        .iter()
        .map(|&v| v.into())
        .collect()
}

/// Smallest trace height the batch prover accepts.
pub const MIN_HEIGHT: usize = 2;

/// Height of a table with `rows` real rows: the next power of two, at least `min_height` (a
/// power of two, at least [`MIN_HEIGHT`]: FRI settings with a final polynomial longer than one
/// coefficient need taller traces).
pub fn table_height(rows: usize, min_height: usize) -> usize {
    rows.next_power_of_two().max(min_height).max(MIN_HEIGHT)
}

/// Implements `BaseAir` for a table whose preprocessed part is fixed by the program and which
/// reads no next row. The chip provides `main_width()`, `fixed_width()`, `fixed_values()` (its
/// preprocessed rows, row-major, as canonical `u32`s) and `num_publics()`.
macro_rules! fixed_table_base_air {
    ($chip:ty) => {
        impl<F: p3_field::Field> p3_air::BaseAir<F> for $chip {
            fn width(&self) -> usize {
                self.main_width()
            }

            fn preprocessed_trace(&self) -> Option<p3_matrix::dense::RowMajorMatrix<F>> {
                Some(p3_matrix::dense::RowMajorMatrix::new(
                    self.fixed_values()
                        .iter()
                        .map(|&v| F::from_u32(v))
                        .collect(),
                    self.fixed_width(),
                ))
            }

            fn preprocessed_width(&self) -> usize {
                self.fixed_width()
            }

            fn num_public_values(&self) -> usize {
                self.num_publics()
            }

            fn main_next_row_columns(&self) -> Vec<usize> {
                vec![]
            }

            fn preprocessed_next_row_columns(&self) -> Vec<usize> {
                vec![]
            }
        }
    };
}
pub(crate) use fixed_table_base_air;

zkmips_prover::air_enum! {
    /// Every table of the recursion machine, as the single AIR type of a batch proof.
    pub enum RecursionAir {
        Memory(MemoryChip),
        Alu(AluChip),
        Poseidon2(Poseidon2Chip),
        Poseidon2Rounds(Poseidon2RoundsChip),
        Public(PublicValuesChip),
    }
}
