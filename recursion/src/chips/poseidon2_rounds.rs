//! The Poseidon2 permutation of the inner configuration ([`Instr::Poseidon2`]) with **one round
//! per row** (several partial rounds per row): the narrow alternative to
//! [`super::Poseidon2Chip`] (one permutation per row, 164 main columns).
//!
//! Why: the proof of the last recursion layer is verified inside Groth16, where every column
//! of every table costs constraints (its out-of-domain evaluation, its opened values' range
//! checks, its share of every query's Merkle leaves) while rows cost only a logarithmic Merkle
//! depth — but rows cost proving time (the outer STARK hashes every LDE row with Poseidon2 over
//! BN254). Here a permutation takes [`ROWS_PER_PERMUTATION`] rows of 16 state columns:
//!
//! | row | preprocessed operation | transition to the next row |
//! |---|---|---|
//! | 0 | `IS_INITIAL` | `next = M_E(state)`, halves exchanged first if `swap` (see below) |
//! | 1..=4 | `IS_FULL`, round constants | `next = M_E((state + rc)^3)` |
//! | 5..=8 | `IS_PARTIAL`, `rc[0..5]` | five partial rounds `s = M_I(((s[0] + rc[j])^3, s[1..]))` |
//! | 9..=12 | `IS_FULL`, round constants | as rows 1..=4 |
//! | 13 | none | none: the state is the permutation's output |
//!
//! with `p3-koala-bear`'s constants and linear layers — the permutation
//! `zkmips_prover::config::inner_perm` hashes with.
//!
//! **Partial rounds, [`PARTIAL_ROUNDS_PER_ROW`] per row.** A partial round cubes one element,
//! so after `j` rounds of a row the state is a *linear* form in the row's 16 state columns and
//! the `j` S-box outputs before it. A partial row therefore keeps the first four S-box outputs
//! as main columns `SBOX` (each constrained to `(form + rc[j])^3`, degree 3 times the flag)
//! and constrains the next row's state to its linear form plus the fifth S-box, inline. The
//! forms' coefficients are computed once from `M_I` ([`PartialRowForms`]) and used both by the
//! trace generator and by the AIR, so the two cannot drift; a test checks them against five
//! plain rounds. 20 partial rounds take 4 rows instead of 20: 14 rows per permutation instead
//! of 30, which keeps the shrink program's 7.5k permutations under 2^17 rows (2^18 before),
//! for 4 more main columns.
//!
//! Memory: row 0 looks up its 16 inputs, the output row provides its 16 outputs with their read
//! counts. Both are one interaction per state column whose multiplicity is a preprocessed
//! column (`-1` on the input row, the read count on the output row, 0 elsewhere), so 16 interactions
//! instead of 32. Every multiplicity is fixed by the program, so the prover cannot make
//! them sum to anything else.
//!
//! **Swap bit** (`Instr::Poseidon2 { swap: Some(bit), .. }`): one more main column `swap`,
//! nonzero only on the input row of a permutation with a swap bit, where it is looked up in
//! memory at the preprocessed `SWAP_ADDR` with the preprocessed multiplicity `SWAP_MULT` (`-1`
//! there, 0 elsewhere); it is proven boolean and `swap * (1 + SWAP_MULT) = 0` forces it to zero
//! on every other row. The input row's state columns hold the memory cells' values as read
//! (before the swap), so every lookup's value is one column. The swap happens in the input
//! row's transition: `next = M_E(s)` with `s[i] = state[i] + swap * (state[i ^ 8] - state[i])`,
//! the halves exchanged when `swap = 1`. Why there and not in the lookups: `p3-batch-stark`
//! packs several lookups of one bus into one LogUp column only up to the table's constraint
//! degree, and a degree-2 lookup value halves how many fit, nearly doubling the LogUp columns
//! that dominate this table's width. The transition is of degree 3 (flag, bit, state), below
//! the rounds' degree 4, so the quotient degree is unchanged too.
//!
//! Every operation flag, round constant, address and multiplicity is preprocessed, so the
//! program fixes which row does what; padding rows carry no operation and touch no memory. A
//! table's height is a power of two and `ROWS_PER_PERMUTATION` is not, so the last row is never
//! a round row and the transition constraints never need a wrap-around row.

use p3_air::{Air, AirBuilder, BaseAir, PermutationAirBuilder, WindowAccess};
use p3_field::{Field, PrimeCharacteristicRing, PrimeField32};
use p3_koala_bear::{
    GenericPoseidon2LinearLayersKoalaBear, KOALABEAR_POSEIDON2_HALF_FULL_ROUNDS,
    KOALABEAR_POSEIDON2_PARTIAL_ROUNDS_16, KOALABEAR_POSEIDON2_RC_16_EXTERNAL_FINAL,
    KOALABEAR_POSEIDON2_RC_16_EXTERNAL_INITIAL, KOALABEAR_POSEIDON2_RC_16_INTERNAL, KoalaBear,
};
use p3_lookup::InteractionBuilder;
use p3_matrix::dense::RowMajorMatrix;
use p3_poseidon2::GenericPoseidon2LinearLayers;

use super::{MEMORY_BUS, table_height};
use crate::ir::{Addr, Instr, PERM_WIDTH, Program, Val, swap_halves};
use crate::runtime::Execution;

type LinearLayers = GenericPoseidon2LinearLayersKoalaBear;

const HALF_FULL_ROUNDS: usize = KOALABEAR_POSEIDON2_HALF_FULL_ROUNDS;
const PARTIAL_ROUNDS: usize = KOALABEAR_POSEIDON2_PARTIAL_ROUNDS_16;

/// Partial rounds computed by one row. Five: 20 rounds in 4 rows, and the main trace (21
/// columns) still fits the same two 16-value blocks of a Merkle leaf hash as 17 columns.
pub const PARTIAL_ROUNDS_PER_ROW: usize = 5;
const _: () = assert!(PARTIAL_ROUNDS.is_multiple_of(PARTIAL_ROUNDS_PER_ROW));

/// Rows of the partial rounds.
const PARTIAL_ROWS: usize = PARTIAL_ROUNDS / PARTIAL_ROUNDS_PER_ROW;

/// S-box outputs a partial row keeps as columns: all but its last round's, which its
/// transition applies inline.
const SBOX_COLUMNS: usize = PARTIAL_ROUNDS_PER_ROW - 1;

/// Rows of one permutation: the input row (initial linear layer), one per full round, the
/// partial rows, the output.
pub const ROWS_PER_PERMUTATION: usize = 1 + 2 * HALF_FULL_ROUNDS + PARTIAL_ROWS + 1;

/// Row (within a permutation) whose state is the output.
const OUTPUT_ROW: usize = ROWS_PER_PERMUTATION - 1;

pub(crate) mod prep {
    use crate::ir::PERM_WIDTH;

    /// Memory address of each state column: the inputs on the input row, the outputs on the
    /// output row.
    pub const ADDR: usize = 0;
    /// Round constants of a full round (all 16) or of a row's partial rounds (one per round,
    /// in order). They share the address columns: a round row's multiplicities are 0, so
    /// what its lookups would read is never counted, and the 16 columns fewer are a sixth
    /// of every preprocessed Merkle leaf of the shrink proof.
    pub const RC: usize = ADDR;
    /// Multiplicity each state column provides on the memory bus: `-1` (a read) on the input
    /// row, the output cell's read count on the output row.
    pub const MULT: usize = ADDR + PERM_WIDTH;
    pub const IS_INITIAL: usize = MULT + PERM_WIDTH;
    pub const IS_FULL: usize = IS_INITIAL + 1;
    pub const IS_PARTIAL: usize = IS_FULL + 1;
    /// Address of the swap bit on the input row of a permutation that has one.
    pub const SWAP_ADDR: usize = IS_PARTIAL + 1;
    /// `-1` (a read) where `SWAP_ADDR` is read, 0 elsewhere.
    pub const SWAP_MULT: usize = SWAP_ADDR + 1;
    pub const WIDTH: usize = SWAP_MULT + 1;
}

pub(crate) mod cols {
    use crate::ir::PERM_WIDTH;

    pub const STATE: usize = 0;
    /// The swap bit, on the input row of a permutation with one (0 elsewhere).
    pub const SWAP: usize = STATE + PERM_WIDTH;
    /// On a partial row: the S-box outputs of its rounds but the last (0 elsewhere).
    pub const SBOX: usize = SWAP + 1;
    pub const WIDTH: usize = SBOX + super::SBOX_COLUMNS;
}

/// The operation row `row` (within a permutation) applies, with its round constants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RoundOp {
    Initial,
    Full([KoalaBear; PERM_WIDTH]),
    Partial([KoalaBear; PARTIAL_ROUNDS_PER_ROW]),
    Output,
}

fn round_op(row: usize) -> RoundOp {
    let full_start = 1;
    let partial_start = full_start + HALF_FULL_ROUNDS;
    let final_start = partial_start + PARTIAL_ROWS;
    match row {
        0 => RoundOp::Initial,
        r if r < partial_start => {
            RoundOp::Full(KOALABEAR_POSEIDON2_RC_16_EXTERNAL_INITIAL[r - full_start])
        }
        r if r < final_start => {
            let first = (r - partial_start) * PARTIAL_ROUNDS_PER_ROW;
            RoundOp::Partial(core::array::from_fn(|j| {
                KOALABEAR_POSEIDON2_RC_16_INTERNAL[first + j]
            }))
        }
        r if r < OUTPUT_ROW => {
            RoundOp::Full(KOALABEAR_POSEIDON2_RC_16_EXTERNAL_FINAL[r - final_start])
        }
        _ => RoundOp::Output,
    }
}

fn cube<R: PrimeCharacteristicRing>(x: R) -> R {
    x.clone() * x.square()
}

/// The next row's state after the input row's initial linear layer (`full_rc` none) or a full
/// round, over any ring: the trace generator runs it on field values, the AIR on symbolic
/// expressions, so both follow one definition.
fn apply_external<R: PrimeCharacteristicRing + Clone>(
    state: &[R; PERM_WIDTH],
    full_rc: Option<&[R; PERM_WIDTH]>,
) -> [R; PERM_WIDTH] {
    let mut next = state.clone();
    if let Some(rc) = full_rc {
        for (slot, c) in next.iter_mut().zip(rc) {
            *slot = cube(slot.clone() + c.clone());
        }
    }
    LinearLayers::external_linear_layer(&mut next);
    next
}

/// Variables of a partial row: its 16 state columns, then its S-box columns.
const PARTIAL_VARS: usize = PERM_WIDTH + SBOX_COLUMNS;

/// A linear form over a partial row's variables (no constant term: round constants enter only
/// through the S-boxes).
type LinearForm = [Val; PARTIAL_VARS];

/// A partial row's rounds as linear forms over its variables: the trace generator and the AIR
/// both evaluate these, so they compute the same function.
struct PartialRowForms {
    /// `sbox_input[j]`: the first state element entering round `j` (before its constant).
    sbox_input: [LinearForm; PARTIAL_ROUNDS_PER_ROW],
    /// The next row's state is `next[i] + last_sbox[i] * x`, `x` the last round's S-box
    /// output.
    next: [LinearForm; PERM_WIDTH],
    last_sbox: [Val; PERM_WIDTH],
}

impl PartialRowForms {
    fn get() -> &'static Self {
        static FORMS: std::sync::OnceLock<PartialRowForms> = std::sync::OnceLock::new();
        FORMS.get_or_init(Self::compute)
    }

    fn compute() -> Self {
        // `m[i][l]`: coefficient of input `l` in output `i` of the internal linear layer.
        let m: [[Val; PERM_WIDTH]; PERM_WIDTH] = {
            let columns: [[Val; PERM_WIDTH]; PERM_WIDTH] = core::array::from_fn(|l| {
                let mut unit = [Val::ZERO; PERM_WIDTH];
                unit[l] = Val::ONE;
                LinearLayers::internal_linear_layer(&mut unit);
                unit
            });
            core::array::from_fn(|i| core::array::from_fn(|l| columns[l][i]))
        };
        let unit = |var: usize| {
            let mut form = [Val::ZERO; PARTIAL_VARS];
            form[var] = Val::ONE;
            form
        };
        // `M_I` applied to `(x, state[1..])` with `x` the variable `x_var` (left out when none:
        // the caller adds it).
        let mix = |state: &[LinearForm; PERM_WIDTH], x_var: Option<usize>| {
            core::array::from_fn(|i| {
                let mut form = x_var.map_or([Val::ZERO; PARTIAL_VARS], |var| {
                    let mut form = [Val::ZERO; PARTIAL_VARS];
                    form[var] = m[i][0];
                    form
                });
                for (l, input) in state.iter().enumerate().skip(1) {
                    for (slot, c) in form.iter_mut().zip(input) {
                        *slot += m[i][l] * *c;
                    }
                }
                form
            })
        };
        let mut state: [LinearForm; PERM_WIDTH] = core::array::from_fn(unit);
        let mut sbox_input = [[Val::ZERO; PARTIAL_VARS]; PARTIAL_ROUNDS_PER_ROW];
        for (j, input) in sbox_input.iter_mut().enumerate().take(SBOX_COLUMNS) {
            *input = state[0];
            state = mix(&state, Some(PERM_WIDTH + j));
        }
        sbox_input[SBOX_COLUMNS] = state[0];
        Self {
            sbox_input,
            next: mix(&state, None),
            last_sbox: core::array::from_fn(|i| m[i][0]),
        }
    }

    /// The S-box columns and the next row's state of a partial row holding `state` with the
    /// round constants `rc`. `offsets` are added to the S-box columns (zero in honest traces;
    /// tests forge a column and let the rest of the row follow from it).
    fn apply(
        &self,
        state: &[Val; PERM_WIDTH],
        rc: &[Val],
        offsets: &[Val; SBOX_COLUMNS],
    ) -> ([Val; SBOX_COLUMNS], [Val; PERM_WIDTH]) {
        let mut vars: Vec<Val> = state.to_vec();
        for (j, offset) in offsets.iter().enumerate() {
            vars.push(cube(evaluate(&self.sbox_input[j], &vars) + rc[j]) + *offset);
        }
        let sboxes = core::array::from_fn(|j| vars[PERM_WIDTH + j]);
        let last = cube(evaluate(&self.sbox_input[SBOX_COLUMNS], &vars) + rc[SBOX_COLUMNS]);
        let next =
            core::array::from_fn(|i| evaluate(&self.next[i], &vars) + last * self.last_sbox[i]);
        (sboxes, next)
    }
}

fn constant<R: PrimeCharacteristicRing>(c: Val) -> R {
    R::from_u32(c.as_canonical_u32())
}

/// `form` at `vars` (a prefix of the row's variables: a form never reads past them).
fn evaluate<R: PrimeCharacteristicRing + Clone>(form: &LinearForm, vars: &[R]) -> R {
    let mut sum = R::ZERO;
    for (i, &c) in form.iter().enumerate() {
        if c == Val::ZERO {
            continue;
        }
        let var = vars[i].clone();
        sum += if c == Val::ONE {
            var
        } else {
            var * constant::<R>(c)
        };
    }
    sum
}

/// The narrow Poseidon2 table of one program.
#[derive(Clone, Debug)]
pub struct Poseidon2RoundsChip {
    prep: Vec<u32>,
    /// Input addresses and swap bit of every permutation.
    inputs: Vec<([Addr; PERM_WIDTH], Option<Addr>)>,
}

impl Poseidon2RoundsChip {
    pub fn new(program: &Program, min_height: usize) -> Self {
        let mut prep = Vec::new();
        let mut inputs = Vec::new();
        let minus_one = (-Val::ONE).as_canonical_u32();
        for instr in program.instrs() {
            let Instr::Poseidon2 {
                input,
                output,
                swap,
            } = instr
            else {
                continue;
            };
            for r in 0..ROWS_PER_PERMUTATION {
                let mut row = [0u32; prep::WIDTH];
                match round_op(r) {
                    RoundOp::Initial => {
                        row[prep::IS_INITIAL] = 1;
                        for i in 0..PERM_WIDTH {
                            row[prep::ADDR + i] = input[i].0;
                            row[prep::MULT + i] = minus_one;
                        }
                        if let Some(bit) = swap {
                            row[prep::SWAP_ADDR] = bit.0;
                            row[prep::SWAP_MULT] = minus_one;
                        }
                    }
                    RoundOp::Full(rc) => {
                        row[prep::IS_FULL] = 1;
                        for i in 0..PERM_WIDTH {
                            row[prep::RC + i] = rc[i].as_canonical_u32();
                        }
                    }
                    RoundOp::Partial(rc) => {
                        row[prep::IS_PARTIAL] = 1;
                        for (j, c) in rc.iter().enumerate() {
                            row[prep::RC + j] = c.as_canonical_u32();
                        }
                    }
                    RoundOp::Output => {
                        for i in 0..PERM_WIDTH {
                            row[prep::ADDR + i] = output[i].0;
                            row[prep::MULT + i] = program.reads_of(output[i]);
                        }
                    }
                }
                prep.extend_from_slice(&row);
            }
            inputs.push((*input, *swap));
        }
        let height = table_height(inputs.len() * ROWS_PER_PERMUTATION, min_height);
        prep.resize(height * prep::WIDTH, 0);
        Self { prep, inputs }
    }

    pub fn name(&self) -> &'static str {
        "RecursionPoseidon2Rounds"
    }

    pub fn height(&self) -> usize {
        self.prep.len() / prep::WIDTH
    }

    /// The main trace: every permutation's input as read from memory on its input row, then
    /// the state before each later row's operation (computed from the input as permuted: halves
    /// exchanged when the swap bit is 1), and the swap bits.
    pub fn generate_trace<F: Field>(&self, execution: &Execution) -> RowMajorMatrix<F> {
        let mut raw = Vec::with_capacity(self.inputs.len());
        let mut permuted = Vec::with_capacity(self.inputs.len());
        let mut swaps = Vec::with_capacity(self.inputs.len());
        for (input, swap) in &self.inputs {
            let state: [Val; PERM_WIDTH] = input.map(|addr| execution.value(addr)[0]);
            let bit = swap.map_or(Val::ZERO, |addr| execution.value(addr)[0]);
            raw.push(state);
            permuted.push(swap_halves(&state, bit == Val::ONE));
            swaps.push(bit);
        }
        self.trace_of(&raw, &permuted, &swaps)
    }

    /// The main trace for the given permutation inputs: `raw` on their input rows (what the
    /// lookups read), `permuted` the state the initial linear layer and the rounds start from,
    /// `swaps` the swap bits of their input rows. Honest traces have `permuted = raw` with the
    /// halves exchanged when the bit is 1; tests forge traces with other choices.
    pub(crate) fn trace_of<F: Field>(
        &self,
        raw: &[[Val; PERM_WIDTH]],
        permuted: &[[Val; PERM_WIDTH]],
        swaps: &[Val],
    ) -> RowMajorMatrix<F> {
        self.trace_with(raw, permuted, swaps, None).0
    }

    /// [`Self::trace_of`] with one S-box column forged: `forgery` is added to S-box column
    /// `sbox` of the partial row `partial_row` (0..4) of permutation `permutation`, and every
    /// later value of that permutation follows from the forged one. Returns the trace and
    /// every permutation's output.
    #[cfg(test)]
    pub(crate) fn trace_with_forged_sbox<F: Field>(
        &self,
        raw: &[[Val; PERM_WIDTH]],
        swaps: &[Val],
        forgery: SboxForgery,
    ) -> (RowMajorMatrix<F>, Vec<[Val; PERM_WIDTH]>) {
        let permuted: Vec<_> = raw
            .iter()
            .zip(swaps)
            .map(|(raw, &bit)| swap_halves(raw, bit == Val::ONE))
            .collect();
        self.trace_with(raw, &permuted, swaps, Some(forgery))
    }

    fn trace_with<F: Field>(
        &self,
        raw: &[[Val; PERM_WIDTH]],
        permuted: &[[Val; PERM_WIDTH]],
        swaps: &[Val],
        forgery: Option<SboxForgery>,
    ) -> (RowMajorMatrix<F>, Vec<[Val; PERM_WIDTH]>) {
        let mut values = vec![F::ZERO; self.height() * cols::WIDTH];
        let mut outputs = Vec::with_capacity(raw.len());
        for (index, ((raw, input), swap)) in raw.iter().zip(permuted).zip(swaps).enumerate() {
            let mut state = *input;
            for r in 0..ROWS_PER_PERMUTATION {
                let row = index * ROWS_PER_PERMUTATION + r;
                let cells = &mut values[row * cols::WIDTH..(row + 1) * cols::WIDTH];
                let shown = if r == 0 { raw } else { &state };
                for (slot, value) in cells[cols::STATE..].iter_mut().zip(shown) {
                    *slot = F::from_u32(value.as_canonical_u32());
                }
                if r == 0 {
                    cells[cols::SWAP] = F::from_u32(swap.as_canonical_u32());
                }
                state = match round_op(r) {
                    RoundOp::Initial => apply_external(&state, None),
                    RoundOp::Full(rc) => apply_external(&state, Some(&rc)),
                    RoundOp::Partial(rc) => {
                        let mut offsets = [Val::ZERO; SBOX_COLUMNS];
                        if let Some(f) = forgery
                            && f.permutation == index
                            && r == 1 + HALF_FULL_ROUNDS + f.partial_row
                        {
                            offsets[f.sbox] = f.offset;
                        }
                        let (sboxes, next) = PartialRowForms::get().apply(&state, &rc, &offsets);
                        for (slot, value) in cells[cols::SBOX..].iter_mut().zip(sboxes) {
                            *slot = F::from_u32(value.as_canonical_u32());
                        }
                        next
                    }
                    RoundOp::Output => state,
                };
            }
            outputs.push(state);
        }
        (RowMajorMatrix::new(values, cols::WIDTH), outputs)
    }
}

/// Where a test forges an S-box column ([`Poseidon2RoundsChip::trace_with_forged_sbox`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct SboxForgery {
    pub permutation: usize,
    pub partial_row: usize,
    pub sbox: usize,
    pub offset: Val,
}

impl<F: Field> BaseAir<F> for Poseidon2RoundsChip {
    fn width(&self) -> usize {
        cols::WIDTH
    }

    fn preprocessed_trace(&self) -> Option<RowMajorMatrix<F>> {
        Some(RowMajorMatrix::new(
            self.prep.iter().map(|&v| F::from_u32(v)).collect(),
            prep::WIDTH,
        ))
    }

    fn preprocessed_width(&self) -> usize {
        prep::WIDTH
    }

    fn num_public_values(&self) -> usize {
        0
    }

    fn main_next_row_columns(&self) -> Vec<usize> {
        (cols::STATE..cols::STATE + PERM_WIDTH).collect()
    }

    fn preprocessed_next_row_columns(&self) -> Vec<usize> {
        vec![]
    }
}

impl<AB> Air<AB> for Poseidon2RoundsChip
where
    AB: PermutationAirBuilder + InteractionBuilder,
{
    fn eval(&self, builder: &mut AB) {
        let main = builder.main();
        let state: [AB::Expr; PERM_WIDTH] =
            core::array::from_fn(|i| main.current_slice()[cols::STATE + i].into());
        let next: [AB::Expr; PERM_WIDTH] =
            core::array::from_fn(|i| main.next_slice()[cols::STATE + i].into());
        let prep: Vec<AB::Expr> = super::preprocessed_row(builder);
        let rc: [AB::Expr; PERM_WIDTH] = core::array::from_fn(|i| prep[prep::RC + i].clone());

        // The swap bit is 0 or 1, and 0 except where the program reads one (else any row could
        // exchange the halves of what it provides or reads).
        let swap: AB::Expr = main.current_slice()[cols::SWAP].into();
        let swap_mult = prep[prep::SWAP_MULT].clone();
        builder.assert_bool(swap.clone());
        builder.assert_zero(swap.clone() * (AB::Expr::ONE + swap_mult.clone()));
        MEMORY_BUS.table_entry(
            builder,
            super::base_cell(prep[prep::SWAP_ADDR].clone(), swap.clone()),
            swap_mult,
        );

        // The input row holds the memory values; the permutation starts from them with the
        // halves exchanged when `swap = 1` (degree 2, times the flag 3). `swap` is 0 on every
        // other row, where this is `state` itself.
        let half = PERM_WIDTH / 2;
        let swapped: [AB::Expr; PERM_WIDTH] = core::array::from_fn(|i| {
            let partner = state[(i + half) % PERM_WIDTH].clone();
            state[i].clone() + swap.clone() * (partner - state[i].clone())
        });
        let after_initial = apply_external(&swapped, None);
        let after_full = apply_external(&state, Some(&rc));
        let (is_initial, is_full, is_partial) = (
            prep[prep::IS_INITIAL].clone(),
            prep[prep::IS_FULL].clone(),
            prep[prep::IS_PARTIAL].clone(),
        );

        // A partial row: each S-box column is its round's cube (degree 3, times the flag 4);
        // the last round's cube is inline in the transition.
        let sbox_columns: [AB::Expr; SBOX_COLUMNS] =
            core::array::from_fn(|j| main.current_slice()[cols::SBOX + j].into());
        let forms = PartialRowForms::get();
        let mut vars: Vec<AB::Expr> = state.to_vec();
        for (j, column) in sbox_columns.iter().enumerate() {
            let cube_of_input = cube(evaluate(&forms.sbox_input[j], &vars) + rc[j].clone());
            builder.assert_zero(is_partial.clone() * (column.clone() - cube_of_input));
            vars.push(column.clone());
        }
        let last =
            cube(evaluate(&forms.sbox_input[SBOX_COLUMNS], &vars) + rc[SBOX_COLUMNS].clone());
        let after_partial: [AB::Expr; PERM_WIDTH] = core::array::from_fn(|i| {
            evaluate(&forms.next[i], &vars)
                + last.clone() * constant::<AB::Expr>(forms.last_sbox[i])
        });
        for i in 0..PERM_WIDTH {
            // The flags are preprocessed and at most one is set per row: on a row with none
            // (output, padding) the next row is unconstrained.
            builder.when_transition().assert_zero(
                is_initial.clone() * (next[i].clone() - after_initial[i].clone())
                    + is_full.clone() * (next[i].clone() - after_full[i].clone())
                    + is_partial.clone() * (next[i].clone() - after_partial[i].clone()),
            );
        }

        // One column per lookup value (degree 1), so p3 packs as many lookups per LogUp column
        // as without swaps.
        for i in 0..PERM_WIDTH {
            MEMORY_BUS.table_entry(
                builder,
                super::base_cell(prep[prep::ADDR + i].clone(), state[i].clone()),
                prep[prep::MULT + i].clone(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use p3_symmetric::Permutation;
    use zkmips_prover::config::inner_perm;

    use super::*;
    use crate::builder::Builder;

    /// The linear forms of a partial row compute five plain partial rounds, S-box by S-box.
    #[test]
    fn partial_row_forms_are_plain_partial_rounds() {
        let mut state: [Val; PERM_WIDTH] =
            core::array::from_fn(|i| Val::from_u32(0x1234_5678 + 977 * i as u32));
        let rc: [Val; PARTIAL_ROUNDS_PER_ROW] =
            core::array::from_fn(|j| Val::from_u32(31 * j as u32 + 7));
        let (sboxes, next) = PartialRowForms::get().apply(&state, &rc, &[Val::ZERO; SBOX_COLUMNS]);
        for (j, &c) in rc.iter().enumerate() {
            let sbox = cube(state[0] + c);
            if j < SBOX_COLUMNS {
                assert_eq!(sboxes[j], sbox, "round {j}");
            }
            state[0] = sbox;
            LinearLayers::internal_linear_layer(&mut state);
        }
        assert_eq!(next, state);
    }

    #[test]
    fn rows_compute_the_inner_permutation() {
        let mut b = Builder::new();
        let input: [_; PERM_WIDTH] = core::array::from_fn(|_| b.witness());
        let output = b.poseidon2(input);
        for value in output {
            b.public(value);
        }
        let program = b.build().unwrap();
        let witness: Vec<Val> = (0..PERM_WIDTH as u32)
            .map(|i| Val::from_u32(i * 7919 + 3))
            .collect();
        let execution = crate::runtime::execute(&program, &witness).unwrap();
        let chip = Poseidon2RoundsChip::new(&program, 2);
        let trace = chip.generate_trace::<Val>(&execution);
        assert_eq!(ROWS_PER_PERMUTATION, 14);
        assert_eq!(chip.height(), 16);
        let expected = inner_perm().permute(core::array::from_fn(|i| witness[i]));
        let output_row = &trace.values[OUTPUT_ROW * cols::WIDTH..(OUTPUT_ROW + 1) * cols::WIDTH];
        assert_eq!(output_row[cols::STATE..cols::STATE + PERM_WIDTH], expected);
        // No swap bit anywhere.
        assert!(
            trace
                .values
                .chunks(cols::WIDTH)
                .all(|row| row[cols::SWAP] == Val::ZERO)
        );
        assert_eq!(&execution.public_values[..], expected);
    }

    /// With the swap bit 1 the input row still holds memory's values (what the lookups read),
    /// and the rounds permute the exchanged halves.
    #[test]
    fn input_row_holds_memory_values_and_rounds_permute_the_swapped_input() {
        let mut b = Builder::new();
        let bit = b.witness();
        let input: [_; PERM_WIDTH] = core::array::from_fn(|_| b.witness());
        let left = core::array::from_fn(|i| input[i]);
        let right = core::array::from_fn(|i| input[PERM_WIDTH / 2 + i]);
        let output = b.poseidon2_ordered(bit, left, right);
        b.public(output[0]);
        let program = b.build().unwrap();
        let raw: [Val; PERM_WIDTH] = core::array::from_fn(|i| Val::from_u32(5 * i as u32 + 2));
        let mut witness = vec![Val::ONE];
        witness.extend(raw);
        let execution = crate::runtime::execute(&program, &witness).unwrap();
        let chip = Poseidon2RoundsChip::new(&program, 2);
        let trace = chip.generate_trace::<Val>(&execution);
        let row = |r: usize| &trace.values[r * cols::WIDTH..(r + 1) * cols::WIDTH];
        assert_eq!(row(0)[cols::STATE..cols::STATE + PERM_WIDTH], raw);
        assert_eq!(row(0)[cols::SWAP], Val::ONE);
        let expected = inner_perm().permute(swap_halves(&raw, true));
        assert_eq!(
            row(OUTPUT_ROW)[cols::STATE..cols::STATE + PERM_WIDTH],
            expected
        );
        assert_eq!(execution.public_values[0], expected[0]);
        assert!((1..chip.height()).all(|r| row(r)[cols::SWAP] == Val::ZERO));
    }
}
