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

use core::borrow::Borrow;

use p3_air::{Air, PermutationAirBuilder, WindowAccess};
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

use super::{MEMORY_BUS, table_height};
use crate::ir::{Addr, Instr, PERM_WIDTH, Program};
use crate::runtime::Execution;

const SBOX_DEGREE: u64 = 3;
const SBOX_REGISTERS: usize = 0;
const HALF_FULL_ROUNDS: usize = KOALABEAR_POSEIDON2_HALF_FULL_ROUNDS;
const PARTIAL_ROUNDS: usize = KOALABEAR_POSEIDON2_PARTIAL_ROUNDS_16;

/// Width of the permutation's main trace.
pub const PERM_COLS: usize =
    num_cols::<PERM_WIDTH, SBOX_DEGREE, SBOX_REGISTERS, HALF_FULL_ROUNDS, PARTIAL_ROUNDS>();

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
    pub const WIDTH: usize = IS_REAL + 1;
}

/// The Poseidon2 table of one program.
#[derive(Clone, Debug)]
pub struct Poseidon2Chip {
    prep: Vec<u32>,
    inputs: Vec<[Addr; PERM_WIDTH]>,
}

impl Poseidon2Chip {
    pub fn new(program: &Program, min_height: usize) -> Self {
        let mut prep = Vec::new();
        let mut inputs = Vec::new();
        for instr in program.instrs() {
            let Instr::Poseidon2 { input, output } = instr else {
                continue;
            };
            let mut row = [0u32; prep::WIDTH];
            for i in 0..PERM_WIDTH {
                row[prep::IN_ADDR + i] = input[i].0;
                row[prep::OUT_ADDR + i] = output[i].0;
                row[prep::OUT_MULT + i] = program.reads_of(output[i]);
            }
            row[prep::IS_REAL] = 1;
            prep.extend_from_slice(&row);
            inputs.push(*input);
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

    /// The main trace: the permutation columns of every row's input (zeros on padding rows).
    pub fn generate_trace<F: Field>(&self, execution: &Execution) -> RowMajorMatrix<F> {
        let mut states = vec![[KoalaBear::ZERO; PERM_WIDTH]; self.height()];
        for (state, input) in states.iter_mut().zip(&self.inputs) {
            for (slot, &addr) in state.iter_mut().zip(input) {
                *slot = execution.value(addr)[0];
            }
        }
        let trace = generate_trace_rows::<
            KoalaBear,
            GenericPoseidon2LinearLayersKoalaBear,
            PERM_WIDTH,
            SBOX_DEGREE,
            SBOX_REGISTERS,
            HALF_FULL_ROUNDS,
            PARTIAL_ROUNDS,
        >(states, &round_constants::<KoalaBear>(), 0);
        RowMajorMatrix::new(
            trace
                .values
                .iter()
                .map(|v| F::from_u32(v.as_canonical_u32()))
                .collect(),
            PERM_COLS,
        )
    }
}

impl Poseidon2Chip {
    fn main_width(&self) -> usize {
        PERM_COLS
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
        PermAir::<AB::F>::new(round_constants()).eval(builder);

        let main = builder.main();
        let local: &PermCols<AB::Var> = main.current_slice().borrow();
        let inputs: Vec<AB::Expr> = local.inputs.iter().map(|&v| v.into()).collect();
        let outputs: Vec<AB::Expr> = local.ending_full_rounds[HALF_FULL_ROUNDS - 1]
            .post
            .iter()
            .map(|&v| v.into())
            .collect();
        let prep: Vec<AB::Expr> = super::preprocessed_row(builder);
        let is_real = prep[prep::IS_REAL].clone();
        builder.assert_bool(is_real.clone());

        for i in 0..PERM_WIDTH {
            MEMORY_BUS.lookup_key(
                builder,
                super::base_cell(prep[prep::IN_ADDR + i].clone(), inputs[i].clone()),
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
