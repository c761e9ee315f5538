//! The Poseidon2 permutation of the inner configuration ([`Instr::Poseidon2`]): one permutation
//! per row.
//!
//! The permutation's own constraints are `p3-poseidon2-air`'s (width 16, S-box `x^3`, 4 + 4
//! full rounds and 20 partial rounds with `p3-koala-bear`'s constants, the same permutation
//! `zkmips_prover::config::inner_perm` hashes with); the main trace is exactly its columns.
//! This chip adds the memory: the preprocessed part holds the 16 input addresses, the 16 output
//! addresses and their read counts, and `is_real`; each real row looks up its 16 inputs and
//! provides its 16 outputs. Padding rows permute zeros, which satisfies the permutation's
//! constraints, and touch no memory.
//!
//! **Swap bit** (`Instr::Poseidon2 { swap: Some(bit), .. }`): one more main column `swap`
//! holds the bit, looked up in memory at the preprocessed `SWAP_ADDR` with the preprocessed
//! flag `IS_SWAPPED` as count, proven boolean, and forced to zero on rows without a swap. The
//! permutation columns hold the input *as permuted*; the value row `i` reads from memory is
//! `inputs[i] + swap * (inputs[i ^ 8] - inputs[i])`, i.e. the permuted input with its halves
//! exchanged back when `swap = 1`. That expression is of degree 2, so each input lookup's
//! LogUp constraint is of degree 3 — the permutation's own degree (S-box `x^3`, no
//! registers) — and the table's quotient degree is unchanged. Witnessing 16 raw-input
//! columns instead would keep degree 2 lookups but cost 16 columns per row for nothing.

use core::borrow::Borrow;

use p3_air::{Air, AirBuilder, PermutationAirBuilder, WindowAccess};
use p3_field::{Field, PrimeCharacteristicRing, PrimeField32};
use p3_koala_bear::{
    GenericPoseidon2LinearLayersKoalaBear, KOALABEAR_POSEIDON2_HALF_FULL_ROUNDS,
    KOALABEAR_POSEIDON2_PARTIAL_ROUNDS_16, KOALABEAR_POSEIDON2_RC_16_EXTERNAL_FINAL,
    KOALABEAR_POSEIDON2_RC_16_EXTERNAL_INITIAL, KOALABEAR_POSEIDON2_RC_16_INTERNAL, KoalaBear,
};
use p3_lookup::{Count, InteractionBuilder};
use p3_matrix::dense::RowMajorMatrix;
use p3_poseidon2_air::{
    Poseidon2Air, Poseidon2Cols, RoundConstants, generate_trace_rows, num_cols,
};
use p3_uni_stark::SubAirBuilder;

use super::{MEMORY_BUS, table_height};
use crate::ir::{Addr, Instr, PERM_WIDTH, Program, Val, swap_halves};
use crate::runtime::Execution;

const SBOX_DEGREE: u64 = 3;
const SBOX_REGISTERS: usize = 0;
const HALF_FULL_ROUNDS: usize = KOALABEAR_POSEIDON2_HALF_FULL_ROUNDS;
const PARTIAL_ROUNDS: usize = KOALABEAR_POSEIDON2_PARTIAL_ROUNDS_16;

/// Width of the permutation's main trace.
pub const PERM_COLS: usize =
    num_cols::<PERM_WIDTH, SBOX_DEGREE, SBOX_REGISTERS, HALF_FULL_ROUNDS, PARTIAL_ROUNDS>();

/// Main column of the swap bit, after the permutation's columns.
pub const SWAP_COL: usize = PERM_COLS;

/// Width of the table's main trace.
pub const MAIN_WIDTH: usize = SWAP_COL + 1;

type PermAir<F> = Poseidon2Air<
    F,
    GenericPoseidon2LinearLayersKoalaBear,
    PERM_WIDTH,
    SBOX_DEGREE,
    SBOX_REGISTERS,
    HALF_FULL_ROUNDS,
    PARTIAL_ROUNDS,
>;

type PermCols<T> =
    Poseidon2Cols<T, PERM_WIDTH, SBOX_DEGREE, SBOX_REGISTERS, HALF_FULL_ROUNDS, PARTIAL_ROUNDS>;

/// `p3-koala-bear`'s width-16 round constants, carried into `F` (KoalaBear itself whenever a
/// proof is made; the AIR is generic only because the batch machinery is).
fn round_constants<F: PrimeCharacteristicRing>()
-> RoundConstants<F, PERM_WIDTH, HALF_FULL_ROUNDS, PARTIAL_ROUNDS> {
    let convert = |value: &KoalaBear| F::from_u32(value.as_canonical_u32());
    RoundConstants::new(
        KOALABEAR_POSEIDON2_RC_16_EXTERNAL_INITIAL.map(|round| round.each_ref().map(convert)),
        KOALABEAR_POSEIDON2_RC_16_INTERNAL.each_ref().map(convert),
        KOALABEAR_POSEIDON2_RC_16_EXTERNAL_FINAL.map(|round| round.each_ref().map(convert)),
    )
}

pub(crate) mod prep {
    use crate::ir::PERM_WIDTH;

    pub const IN_ADDR: usize = 0;
    pub const OUT_ADDR: usize = IN_ADDR + PERM_WIDTH;
    pub const OUT_MULT: usize = OUT_ADDR + PERM_WIDTH;
    pub const IS_REAL: usize = OUT_MULT + PERM_WIDTH;
    /// Address of the swap bit (0 on rows without one).
    pub const SWAP_ADDR: usize = IS_REAL + 1;
    /// 1 on a row whose instruction has a swap bit.
    pub const IS_SWAPPED: usize = SWAP_ADDR + 1;
    pub const WIDTH: usize = IS_SWAPPED + 1;
}

/// The Poseidon2 table of one program.
#[derive(Clone, Debug)]
pub struct Poseidon2Chip {
    prep: Vec<u32>,
    /// Input addresses and swap bit of every real row.
    inputs: Vec<([Addr; PERM_WIDTH], Option<Addr>)>,
}

impl Poseidon2Chip {
    pub fn new(program: &Program, min_height: usize) -> Self {
        let mut prep = Vec::new();
        let mut inputs = Vec::new();
        for instr in program.instrs() {
            let Instr::Poseidon2 {
                input,
                output,
                swap,
            } = instr
            else {
                continue;
            };
            let mut row = [0u32; prep::WIDTH];
            for i in 0..PERM_WIDTH {
                row[prep::IN_ADDR + i] = input[i].0;
                row[prep::OUT_ADDR + i] = output[i].0;
                row[prep::OUT_MULT + i] = program.reads_of(output[i]);
            }
            row[prep::IS_REAL] = 1;
            if let Some(bit) = swap {
                row[prep::SWAP_ADDR] = bit.0;
                row[prep::IS_SWAPPED] = 1;
            }
            prep.extend_from_slice(&row);
            inputs.push((*input, *swap));
        }
        prep.resize(table_height(inputs.len(), min_height) * prep::WIDTH, 0);
        Self { prep, inputs }
    }

    pub fn name(&self) -> &'static str {
        "RecursionPoseidon2"
    }

    pub fn height(&self) -> usize {
        self.prep.len() / prep::WIDTH
    }

    /// The main trace: the permutation columns of every row's input, as permuted (halves
    /// exchanged when the row's swap bit is 1), and the swap bit (zeros on padding rows).
    pub fn generate_trace<F: Field>(&self, execution: &Execution) -> RowMajorMatrix<F> {
        let (states, swaps): (Vec<_>, Vec<_>) = self
            .inputs
            .iter()
            .map(|(input, swap)| {
                let state: [Val; PERM_WIDTH] = input.map(|addr| execution.value(addr)[0]);
                let bit = swap.map_or(Val::ZERO, |addr| execution.value(addr)[0]);
                (swap_halves(&state, bit == Val::ONE), bit)
            })
            .unzip();
        self.trace_of(&states, &swaps)
    }

    /// The main trace for the given permutation inputs (as permuted) and swap-bit column,
    /// row by row; padding rows permute zeros. Tests forge traces with it.
    pub(crate) fn trace_of<F: Field>(
        &self,
        states: &[[Val; PERM_WIDTH]],
        swaps: &[Val],
    ) -> RowMajorMatrix<F> {
        let mut padded = vec![[KoalaBear::ZERO; PERM_WIDTH]; self.height()];
        padded[..states.len()].copy_from_slice(states);
        let trace = generate_trace_rows::<
            KoalaBear,
            GenericPoseidon2LinearLayersKoalaBear,
            PERM_WIDTH,
            SBOX_DEGREE,
            SBOX_REGISTERS,
            HALF_FULL_ROUNDS,
            PARTIAL_ROUNDS,
        >(padded, &round_constants::<KoalaBear>(), 0);
        let mut values = Vec::with_capacity(self.height() * MAIN_WIDTH);
        for (row, permutation) in trace.values.chunks(PERM_COLS).enumerate() {
            values.extend(
                permutation
                    .iter()
                    .map(|v| F::from_u32(v.as_canonical_u32())),
            );
            let swap = swaps.get(row).copied().unwrap_or(Val::ZERO);
            values.push(F::from_u32(swap.as_canonical_u32()));
        }
        RowMajorMatrix::new(values, MAIN_WIDTH)
    }
}

impl Poseidon2Chip {
    fn main_width(&self) -> usize {
        MAIN_WIDTH
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

super::fixed_table_base_air!(Poseidon2Chip);

impl<AB> Air<AB> for Poseidon2Chip
where
    AB: PermutationAirBuilder + InteractionBuilder,
{
    fn eval(&self, builder: &mut AB) {
        // The permutation's constraints over its own columns (the swap column follows them).
        PermAir::<AB::F>::new(round_constants()).eval(&mut SubAirBuilder::<
            AB,
            PermAir<AB::F>,
            AB::Var,
        >::new(builder, 0..PERM_COLS));

        let main = builder.main();
        let row = main.current_slice();
        let local: &PermCols<AB::Var> = row[..PERM_COLS].borrow();
        let permuted: Vec<AB::Expr> = local.inputs.iter().map(|&v| v.into()).collect();
        let outputs: Vec<AB::Expr> = local.ending_full_rounds[HALF_FULL_ROUNDS - 1]
            .post
            .iter()
            .map(|&v| v.into())
            .collect();
        let swap: AB::Expr = row[SWAP_COL].into();
        let prep: Vec<AB::Expr> = super::preprocessed_row(builder);
        let is_real = prep[prep::IS_REAL].clone();
        let is_swapped = prep[prep::IS_SWAPPED].clone();
        builder.assert_bool(is_real.clone());
        builder.assert_bool(is_swapped.clone());
        // The bit is 0 or 1, and 0 on a row that reads none (else a row without a swap bit
        // could permute its input with the halves exchanged).
        builder.assert_bool(swap.clone());
        builder
            .when(AB::Expr::ONE - is_swapped.clone())
            .assert_zero(swap.clone());
        MEMORY_BUS.lookup_key(
            builder,
            super::base_cell(prep[prep::SWAP_ADDR].clone(), swap.clone()),
            Count::bounded(is_swapped, 1),
        );

        let half = PERM_WIDTH / 2;
        for i in 0..PERM_WIDTH {
            // Memory holds the input before the swap: undo it (degree 2).
            let partner = permuted[(i + half) % PERM_WIDTH].clone();
            let read = permuted[i].clone() + swap.clone() * (partner - permuted[i].clone());
            MEMORY_BUS.lookup_key(
                builder,
                super::base_cell(prep[prep::IN_ADDR + i].clone(), read),
                Count::bounded(is_real.clone(), 1),
            );
        }
        for i in 0..PERM_WIDTH {
            MEMORY_BUS.table_entry(
                builder,
                super::base_cell(prep[prep::OUT_ADDR + i].clone(), outputs[i].clone()),
                prep[prep::OUT_MULT + i].clone(),
            );
        }
    }
}
