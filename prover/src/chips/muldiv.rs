//! `MulDivChip`: multiply, divide and the HI/LO moves.
//!
//! Under construction: the chip below has no columns' meaning yet and is not part of any proof.

use p3_air::{Air, BaseAir, PermutationAirBuilder};
use p3_lookup::InteractionBuilder;

#[derive(Clone, Copy, Debug, Default)]
pub struct MulDivChip;

impl MulDivChip {
    pub const fn name(&self) -> &'static str {
        "MulDiv"
    }
}

impl<F> BaseAir<F> for MulDivChip {
    fn width(&self) -> usize {
        1
    }

    fn main_next_row_columns(&self) -> Vec<usize> {
        vec![]
    }
}

impl<AB: PermutationAirBuilder + InteractionBuilder> Air<AB> for MulDivChip {
    fn eval(&self, _builder: &mut AB) {}
}
