//! `AluExtraChip`: MOVZ/MOVN, CLZ/CLO, SEB/SEH/WSBH, EXT/INS on the ALU bus.
//!
//! Under construction: the chip below has no columns' meaning yet and is not part of any proof.

use p3_air::{Air, BaseAir, PermutationAirBuilder};
use p3_lookup::InteractionBuilder;

#[derive(Clone, Copy, Debug, Default)]
pub struct AluExtraChip;

impl AluExtraChip {
    pub const fn name(&self) -> &'static str {
        "AluExtra"
    }
}

impl<F> BaseAir<F> for AluExtraChip {
    fn width(&self) -> usize {
        1
    }

    fn main_next_row_columns(&self) -> Vec<usize> {
        vec![]
    }
}

impl<AB: PermutationAirBuilder + InteractionBuilder> Air<AB> for AluExtraChip {
    fn eval(&self, _builder: &mut AB) {}
}
