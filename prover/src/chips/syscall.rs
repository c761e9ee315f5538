//! `SyscallChip`: the zkVM services.
//!
//! Under construction: the chip below has no columns' meaning yet and is not part of any proof.

use p3_air::{Air, BaseAir, PermutationAirBuilder};
use p3_lookup::InteractionBuilder;

#[derive(Clone, Copy, Debug, Default)]
pub struct SyscallChip;

impl SyscallChip {
    pub const fn name(&self) -> &'static str {
        "Syscall"
    }
}

impl<F> BaseAir<F> for SyscallChip {
    fn width(&self) -> usize {
        1
    }

    fn main_next_row_columns(&self) -> Vec<usize> {
        vec![]
    }
}

impl<AB: PermutationAirBuilder + InteractionBuilder> Air<AB> for SyscallChip {
    fn eval(&self, _builder: &mut AB) {}
}
