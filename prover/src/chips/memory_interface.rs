//! `MemoryInterfaceChip`: a shard's memory interface as a preprocessed table the verifier builds
//! itself from the entries it is given.
//!
//! One row per location the shard touches: it produces `(addr, init_value, 0)` and consumes
//! `(addr, final_value, final_ts)` on the [`MEMORY_BUS`], like `MemoryBoundaryChip`, but its
//! columns are *preprocessed*: the verifier commits them from the entry list carried in the proof,
//! so the prover cannot choose them, and the verifier checks natively that the addresses are
//! distinct and that every shard's initial values are the previous shards' final values (or the
//! initial image). This makes cross-shard consistency a plain native check at the price of
//! proofs (and verifier work) linear in the touched locations; a later aggregation layer can
//! replace it by an in-circuit argument. Soundness: `docs/MEMORY_ARGUMENT.md`.

use std::sync::Arc;

use p3_air::{Air, BaseAir, PermutationAirBuilder, WindowAccess};
use p3_field::{Field, PrimeCharacteristicRing};
use p3_lookup::{Count, InteractionBuilder};
use p3_matrix::dense::RowMajorMatrix;

use super::memory::BoundaryEntry;
use super::padded_height;
use crate::buses::{MEMORY_BUS, word_limbs};

/// Preprocessed columns.
pub mod prep {
    pub const IS_REAL: usize = 0;
    pub const ADDR: usize = 1;
    pub const INIT: usize = 3;
    pub const FINAL: usize = 5;
    pub const FINAL_TS: usize = 7;
    pub const WIDTH: usize = 8;
}

/// The interface of one shard (entries in any order; addresses must be distinct, which the
/// verifier checks before building the chip).
#[derive(Clone, Debug)]
pub struct MemoryInterfaceChip {
    entries: Arc<Vec<BoundaryEntry>>,
}

impl MemoryInterfaceChip {
    pub const fn name(&self) -> &'static str {
        "MemoryInterface"
    }

    pub fn new(entries: Vec<BoundaryEntry>) -> Self {
        Self {
            entries: Arc::new(entries),
        }
    }

    pub fn entries(&self) -> &[BoundaryEntry] {
        &self.entries
    }

    pub fn height(&self) -> usize {
        padded_height(self.entries.len())
    }

    /// The main trace: one unused zero column (the table lives in the preprocessed columns).
    pub fn generate_trace<F: Field>(&self) -> RowMajorMatrix<F> {
        RowMajorMatrix::new(F::zero_vec(self.height()), 1)
    }
}

impl<F: Field> BaseAir<F> for MemoryInterfaceChip {
    fn width(&self) -> usize {
        1
    }

    fn preprocessed_trace(&self) -> Option<RowMajorMatrix<F>> {
        let mut values = F::zero_vec(self.height() * prep::WIDTH);
        for (entry, out) in self
            .entries
            .iter()
            .zip(values.chunks_exact_mut(prep::WIDTH))
        {
            out[prep::IS_REAL] = F::ONE;
            for (base, word) in [
                (prep::ADDR, entry.addr),
                (prep::INIT, entry.init_value),
                (prep::FINAL, entry.final_value),
            ] {
                let [lo, hi] = word_limbs(word);
                out[base] = F::from_u32(lo);
                out[base + 1] = F::from_u32(hi);
            }
            out[prep::FINAL_TS] = F::from_u32(entry.final_ts);
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

impl<AB: PermutationAirBuilder + InteractionBuilder> Air<AB> for MemoryInterfaceChip {
    fn eval(&self, builder: &mut AB) {
        use prep::*;
        let p: Vec<AB::Expr> = builder
            .preprocessed()
            .current_slice()
            .iter()
            .map(|&v| v.into())
            .collect();
        // The main column is never used; pin it so the trace has nothing free.
        let unused: AB::Expr = builder.main().current_slice()[0].into();
        builder.assert_zero(unused);
        let is_real = p[IS_REAL].clone();
        MEMORY_BUS.send(
            builder,
            [
                p[ADDR].clone(),
                p[ADDR + 1].clone(),
                p[INIT].clone(),
                p[INIT + 1].clone(),
                AB::Expr::ZERO,
            ],
            Count::bounded(is_real.clone(), 1),
        );
        MEMORY_BUS.receive(
            builder,
            [
                p[ADDR].clone(),
                p[ADDR + 1].clone(),
                p[FINAL].clone(),
                p[FINAL + 1].clone(),
                p[FINAL_TS].clone(),
            ],
            Count::bounded(is_real, 1),
        );
    }
}
