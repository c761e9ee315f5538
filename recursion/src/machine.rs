//! Proving and verifying a run of a recursion program as one `p3-batch-stark` proof.
//!
//! The tables, always in this order: memory cells, base ALU, extension ALU, Poseidon2, public
//! values. Their preprocessed parts (hence the preprocessed commitment, the verifying key) are
//! determined by the program alone; a proof says "this program accepted some witness stream
//! and exposed these public values".

use p3_batch_stark::{BatchProof, Domain, StarkGenericConfig, Val as ConfigVal};
use p3_challenger::GrindingChallenger;
use p3_commit::Pcs;
use p3_field::{Algebra, BasedVectorSpace, PrimeField64};
use p3_uni_stark::{PcsProverError, SymbolicExpressionExt};
use thiserror::Error;
use zkmips_prover::batch::{self, ProveError, Table, VerifyError};

use crate::chips::alu::AluKind;
use crate::chips::{
    AluChip, MIN_HEIGHT, MemoryChip, Poseidon2Chip, Poseidon2RoundsChip, PublicValuesChip,
    RecursionAir,
};
use crate::ir::{Program, Val};
use crate::runtime::{Execution, RuntimeError, execute};
use p3_field::{Field, PrimeField32};

/// Index of each table in a proof.
pub mod table {
    pub const MEMORY: usize = 0;
    pub const BASE_ALU: usize = 1;
    pub const EXT_ALU: usize = 2;
    pub const POSEIDON2: usize = 3;
    pub const PUBLIC: usize = 4;
    pub const COUNT: usize = 5;
}

#[derive(Debug, Error)]
pub enum RecursionError {
    #[error("the program rejects the witness: {0}")]
    Runtime(#[from] RuntimeError),
    #[error("proving failed: {0}")]
    Prove(#[from] ProveError),
}

/// A proof of one run and the public values it exposes.
pub struct RecursionProof<SC: StarkGenericConfig> {
    pub proof: BatchProof<SC>,
    pub public_values: Vec<Val>,
}

/// How the Poseidon2 table lays out a permutation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Poseidon2Layout {
    /// One permutation per row (164 columns): short tables, cheapest to prove and to verify
    /// inside another recursion program.
    #[default]
    PermutationPerRow,
    /// One full round or five partial rounds per row (21 columns, 14 rows a permutation):
    /// cheapest to verify in the Groth16 wrapper, where columns cost constraints and rows
    /// almost nothing.
    RoundPerRow,
}

/// A program with its tables: proves runs of it and verifies their proofs.
#[derive(Clone, Debug)]
pub struct RecursionMachine {
    program: Program,
    min_height: usize,
    /// The public table's minimum height (it may stay shorter than the others: see
    /// [`Self::with_uniform_heights`]).
    public_min_height: usize,
    poseidon2_layout: Poseidon2Layout,
    airs: Vec<RecursionAir>,
}

impl RecursionMachine {
    pub fn new(program: Program) -> Self {
        Self::with_min_height(program, MIN_HEIGHT)
    }

    /// The machine with every table at least `min_height` rows (a power of two): FRI settings
    /// with a final polynomial of `2^k` coefficients need traces taller than `2^k` rows.
    pub fn with_min_height(program: Program, min_height: usize) -> Self {
        Self::with_layout(program, min_height, Poseidon2Layout::default())
    }

    /// The machine with every table at least `min_height` rows and its Poseidon2 table laid
    /// out as `poseidon2_layout`.
    pub fn with_layout(
        program: Program,
        min_height: usize,
        poseidon2_layout: Poseidon2Layout,
    ) -> Self {
        Self::with_heights(program, min_height, min_height, poseidon2_layout)
    }

    fn with_heights(
        program: Program,
        min_height: usize,
        public_min_height: usize,
        poseidon2_layout: Poseidon2Layout,
    ) -> Self {
        let poseidon2 = match poseidon2_layout {
            Poseidon2Layout::PermutationPerRow => {
                RecursionAir::Poseidon2(Poseidon2Chip::new(&program, min_height))
            }
            Poseidon2Layout::RoundPerRow => {
                RecursionAir::Poseidon2Rounds(Poseidon2RoundsChip::new(&program, min_height))
            }
        };
        let airs = vec![
            RecursionAir::Memory(MemoryChip::new(&program, min_height)),
            RecursionAir::Alu(AluChip::new(&program, AluKind::Base, min_height)),
            RecursionAir::Alu(AluChip::new(&program, AluKind::Ext, min_height)),
            poseidon2,
            RecursionAir::Public(PublicValuesChip::new(&program, public_min_height)),
        ];
        Self {
            program,
            min_height,
            public_min_height,
            poseidon2_layout,
            airs,
        }
    }

    /// The same program with its Poseidon2 table laid out as `layout` (a different verifying
    /// key: the preprocessed tables change).
    pub fn with_poseidon2_layout(&self, layout: Poseidon2Layout) -> Self {
        Self::with_heights(
            self.program.clone(),
            self.min_height,
            self.public_min_height,
            layout,
        )
    }

    /// The same program with every table as tall as its tallest, but the public table, for
    /// proofs under `settings`. Costs proving time, saves FRI rounds: FRI folds by at most its
    /// maximum arity but must stop wherever a shorter table's codeword joins, so tables of
    /// many heights force smaller rounds — each a Merkle path per query in whatever verifies
    /// the proof (worth it for the Groth16-wrapped layer). The public table (a few dozen rows,
    /// but one preprocessed selector column per public value) keeps the shortest height at
    /// which it joins where a fold of the maximum arity lands, so it costs no FRI round and
    /// leaves its columns out of the tall Merkle leaves.
    pub fn with_uniform_heights(&self, settings: &zkmips_prover::config::FriSettings) -> Self {
        let tallest = self.heights().into_iter().max().unwrap_or(MIN_HEIGHT);
        let log_tallest = tallest.trailing_zeros() as usize;
        let natural = self.heights()[table::PUBLIC].trailing_zeros() as usize;
        let arity = settings.max_log_arity.max(1);
        let mut log_public = natural;
        while log_public < log_tallest && !(log_tallest - log_public).is_multiple_of(arity) {
            log_public += 1;
        }
        Self::with_heights(
            self.program.clone(),
            tallest,
            (1 << log_public).max(self.public_min_height),
            self.poseidon2_layout,
        )
    }

    /// Every table's height, in proving order.
    pub fn heights(&self) -> Vec<usize> {
        self.airs
            .iter()
            .map(|air| match air {
                RecursionAir::Memory(chip) => chip.height(),
                RecursionAir::Alu(chip) => chip.height(),
                RecursionAir::Poseidon2(chip) => chip.height(),
                RecursionAir::Poseidon2Rounds(chip) => chip.height(),
                RecursionAir::Public(chip) => chip.height(),
            })
            .collect()
    }

    pub fn poseidon2_layout(&self) -> Poseidon2Layout {
        self.poseidon2_layout
    }

    /// The smallest table height that `settings` can prove (its LDE must be taller than the
    /// final polynomial's).
    pub fn min_height_for(settings: &zkmips_prover::config::FriSettings) -> usize {
        (1usize << (settings.log_final_poly_len + 1)).max(MIN_HEIGHT)
    }

    pub fn program(&self) -> &Program {
        &self.program
    }

    /// The tables, in proving order.
    pub fn airs(&self) -> &[RecursionAir] {
        &self.airs
    }

    /// Runs the program on `witness`.
    pub fn execute(&self, witness: &[Val]) -> Result<Execution, RuntimeError> {
        execute(&self.program, witness)
    }

    /// Every table with its main trace for `execution`, in proving order.
    pub fn tables<F: Field>(&self, execution: &Execution) -> Vec<Table<RecursionAir, F>> {
        self.airs
            .iter()
            .map(|air| {
                let (trace, public_values) = match air {
                    RecursionAir::Memory(chip) => (chip.generate_trace(execution), Vec::new()),
                    RecursionAir::Alu(chip) => (chip.generate_trace(execution), Vec::new()),
                    RecursionAir::Poseidon2(chip) => (chip.generate_trace(execution), Vec::new()),
                    RecursionAir::Poseidon2Rounds(chip) => {
                        (chip.generate_trace(execution), Vec::new())
                    }
                    RecursionAir::Public(chip) => (
                        chip.generate_trace(execution),
                        convert(&execution.public_values),
                    ),
                };
                Table {
                    air: air.clone(),
                    trace,
                    public_values,
                }
            })
            .collect()
    }

    /// Runs the program on `witness` and proves the run under `config`.
    pub fn prove<SC>(
        &self,
        config: &SC,
        witness: &[Val],
    ) -> Result<RecursionProof<SC>, RecursionError>
    where
        SC: StarkGenericConfig,
        ConfigVal<SC>: PrimeField64,
        SymbolicExpressionExt<ConfigVal<SC>, SC::Challenge>: Algebra<SC::Challenge>,
        Domain<SC>: Send + Sync,
        SC::Pcs: Sync,
        PcsProverError<SC>: Send,
        SC::Challenger: GrindingChallenger<Witness = ConfigVal<SC>>,
        <SC::Pcs as Pcs<SC::Challenge, SC::Challenger>>::ProverData: Sync,
        <SC::Pcs as Pcs<SC::Challenge, SC::Challenger>>::Commitment: Sync,
    {
        let execution = self.execute(witness)?;
        let tables = self.tables::<ConfigVal<SC>>(&execution);
        let proof = batch::prove(config, &tables)?;
        Ok(RecursionProof {
            proof,
            public_values: execution.public_values,
        })
    }

    /// Verifies that `proof` is a proof of a run of this program exposing its public values.
    pub fn verify<SC>(&self, config: &SC, proof: &RecursionProof<SC>) -> Result<(), VerifyError>
    where
        SC: StarkGenericConfig,
        ConfigVal<SC>: PrimeField64,
        SymbolicExpressionExt<ConfigVal<SC>, SC::Challenge>: Algebra<SC::Challenge>,
        SC::Challenge: BasedVectorSpace<ConfigVal<SC>>,
        SC::Challenger: GrindingChallenger<Witness = ConfigVal<SC>>,
    {
        if proof.public_values.len() != self.program.num_public_values() {
            return Err(VerifyError::Shape(format!(
                "{} public values, the program exposes {}",
                proof.public_values.len(),
                self.program.num_public_values()
            )));
        }
        let mut public_values = vec![Vec::new(); table::COUNT];
        public_values[table::PUBLIC] = convert(&proof.public_values);
        batch::verify(config, &self.airs, &proof.proof, &public_values)
    }
}

fn convert<F: Field>(values: &[Val]) -> Vec<F> {
    values
        .iter()
        .map(|v| F::from_u32(v.as_canonical_u32()))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::panic::{AssertUnwindSafe, catch_unwind};

    use p3_field::{BasedVectorSpace, PrimeCharacteristicRing};
    use p3_matrix::dense::RowMajorMatrix;
    use p3_symmetric::Permutation;
    use zkmips_prover::config::{InnerConfig, inner_config, inner_perm};

    use super::*;
    use crate::builder::Builder;
    use crate::chips::{alu, memory, poseidon2, poseidon2_rounds};
    use crate::ir::{Challenge, PERM_WIDTH};

    /// A program touching every table: base and extension arithmetic (incl. inverses and
    /// assertions), a bit decomposition, a select, a Poseidon2 permutation and public values.
    /// Witness: `x`, `y` (base), `e` (extension), 16 permutation inputs; exposes
    /// `x * y + 5`, `bit 4 of x`, `1 / y`, the coordinates of `e^2 + e / y`, and the
    /// permutation's first two outputs.
    fn sample_program() -> RecursionMachine {
        let mut b = Builder::new();
        let x = b.witness();
        let y = b.witness();
        let e = b.witness_ext();
        let state: [_; PERM_WIDTH] = core::array::from_fn(|_| b.witness());

        let xy = b.mul(x, y);
        let sum = b.add_const(xy, Val::from_u32(5));
        b.public(sum);
        let bits = b.bits(x);
        b.public(bits[4]);
        let y_inv = b.inv(y);
        let one = b.mul(y_inv, y);
        b.assert_eq_const(one, Val::ONE);
        b.public(y_inv);
        let e2 = b.ext_mul(e, e);
        let e_over_y = b.ext_div(e, y.as_ext());
        let z = b.ext_add(e2, e_over_y);
        let chosen = b.ext_select(bits[0], z, e);
        let coordinates = b.ext_coordinates(chosen);
        for c in coordinates {
            b.public(c);
        }
        let out = b.poseidon2(state);
        b.public(out[0]);
        b.public(out[1]);
        RecursionMachine::new(b.build().expect("valid program"))
    }

    fn sample_witness() -> Vec<Val> {
        let mut witness = vec![Val::from_u32(0b1011_0101), Val::from_u32(77)];
        witness.extend([3u32, 1, 4, 1].map(Val::from_u32));
        witness.extend((0..PERM_WIDTH as u32).map(|i| Val::from_u32(i * i + 1)));
        witness
    }

    fn expected_public_values() -> Vec<Val> {
        let (x, y) = (Val::from_u32(0b1011_0101), Val::from_u32(77));
        let e = Challenge::from_basis_coefficients_fn(|i| Val::from_u32([3, 1, 4, 1][i]));
        let z = e * e + e * y.inverse();
        // Bit 0 of x is 1: the select keeps z.
        let mut expected = vec![x * y + Val::from_u32(5), Val::ONE, y.inverse()];
        expected.extend_from_slice(z.as_basis_coefficients_slice());
        let state: [Val; PERM_WIDTH] = core::array::from_fn(|i| Val::from_u32((i * i + 1) as u32));
        let out = inner_perm().permute(state);
        expected.extend([out[0], out[1]]);
        expected
    }

    #[test]
    fn runs_compute_what_the_program_says() {
        let machine = sample_program();
        let execution = machine.execute(&sample_witness()).unwrap();
        assert_eq!(execution.public_values, expected_public_values());
    }

    #[test]
    fn honest_run_proves_and_verifies() {
        let machine = sample_program();
        let config = inner_config();
        let proof = machine.prove(&config, &sample_witness()).unwrap();
        assert_eq!(proof.public_values, expected_public_values());
        machine.verify(&config, &proof).unwrap();
    }

    #[test]
    fn runtime_failures_name_the_instruction() {
        let machine = sample_program();
        let mut witness = sample_witness();
        witness[1] = Val::ZERO;
        assert!(matches!(
            machine.execute(&witness),
            Err(RuntimeError::InverseOfZero { .. })
        ));
        assert!(matches!(
            machine.execute(&witness[..3]),
            Err(RuntimeError::WitnessExhausted { .. })
        ));
    }

    #[test]
    fn wrong_public_value_is_rejected() {
        let machine = sample_program();
        let config = inner_config();
        let mut proof = machine.prove(&config, &sample_witness()).unwrap();
        proof.public_values[0] += Val::ONE;
        assert!(machine.verify(&config, &proof).is_err());
        proof.public_values.pop();
        assert!(machine.verify(&config, &proof).is_err());
    }

    /// A proof of a different program (same shape, one constant changed) does not verify.
    #[test]
    fn proof_of_another_program_is_rejected() {
        let config = inner_config();
        let build = |constant: u32| {
            let mut b = Builder::new();
            let x = b.witness();
            let y = b.add_const(x, Val::from_u32(constant));
            b.public(y);
            RecursionMachine::new(b.build().unwrap())
        };
        let (ours, theirs) = (build(1), build(2));
        let proof = theirs.prove(&config, &[Val::from_u32(10)]).unwrap();
        theirs.verify(&config, &proof).unwrap();
        assert!(ours.verify(&config, &proof).is_err());
    }

    /// Proves `tables` after `tamper` changed one table's main trace; rejection is an error
    /// from the prover or the verifier, or a panic of `p3`'s debug constraint checker.
    fn assert_rejected(machine: &RecursionMachine, index: usize, tamper: impl Fn(&mut [Val])) {
        assert_rejected_with_publics(machine, index, tamper, |_| {});
    }

    /// [`assert_rejected`], also changing the claimed public values.
    fn assert_rejected_with_publics(
        machine: &RecursionMachine,
        index: usize,
        tamper: impl Fn(&mut [Val]),
        tamper_publics: impl Fn(&mut Vec<Val>),
    ) {
        let config: InnerConfig = inner_config();
        let execution = machine.execute(&sample_witness()).unwrap();
        let mut tables = machine.tables::<Val>(&execution);
        let trace = &mut tables[index].trace;
        let width = trace.width;
        tamper(&mut trace.values);
        tables[index].trace = RowMajorMatrix::new(trace.values.clone(), width);
        let mut public_values = execution.public_values.clone();
        tamper_publics(&mut public_values);
        tables[table::PUBLIC].public_values = public_values.clone();
        assert!(
            !proves_and_verifies(machine, &config, &tables, public_values),
            "a tampered trace of table {index} was accepted"
        );
    }

    /// Whether `tables` prove and the proof verifies as a run exposing `public_values`; a panic
    /// of `p3`'s debug constraint checker counts as a rejection.
    fn proves_and_verifies(
        machine: &RecursionMachine,
        config: &InnerConfig,
        tables: &[Table<RecursionAir, Val>],
        public_values: Vec<Val>,
    ) -> bool {
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let proof = batch::prove(config, tables).map_err(|e| e.to_string())?;
            machine
                .verify(
                    config,
                    &RecursionProof {
                        proof,
                        public_values,
                    },
                )
                .map_err(|e| e.to_string())
        }));
        matches!(outcome, Ok(Ok(())))
    }

    /// Row of the first ALU instruction with `op` in the table of `kind`.
    fn alu_row(machine: &RecursionMachine, kind: AluKind, op: crate::ir::AluOp) -> usize {
        machine
            .program()
            .instrs()
            .iter()
            .filter_map(|instr| match (instr, kind) {
                (crate::ir::Instr::BaseAlu { op, .. }, AluKind::Base)
                | (crate::ir::Instr::ExtAlu { op, .. }, AluKind::Ext) => Some(*op),
                _ => None,
            })
            .position(|o| o == op)
            .expect("the sample program has this operation")
    }

    #[test]
    fn wrong_alu_results_are_rejected() {
        let machine = sample_program();
        for op in [
            crate::ir::AluOp::Add,
            crate::ir::AluOp::Mul,
            crate::ir::AluOp::Inv,
        ] {
            let row = alu_row(&machine, AluKind::Base, op);
            assert_rejected(&machine, table::BASE_ALU, |t| t[row * 3 + 2] += Val::ONE);
        }
        for op in [
            crate::ir::AluOp::Add,
            crate::ir::AluOp::Mul,
            crate::ir::AluOp::Inv,
            crate::ir::AluOp::Sub,
        ] {
            let row = alu_row(&machine, AluKind::Ext, op);
            // A wrong higher coordinate of the result.
            assert_rejected(&machine, table::EXT_ALU, |t| {
                t[row * 12 + 8 + 3] += Val::ONE
            });
        }
    }

    /// A row that "proves" an assertion between different values, with the operand it
    /// compares changed consistently is still caught by the memory lookup.
    #[test]
    fn forged_operands_are_rejected() {
        let machine = sample_program();
        let row = alu_row(&machine, AluKind::Base, crate::ir::AluOp::AssertEq);
        // Make `a = b` hold by changing `a` (which memory does not hold).
        assert_rejected(&machine, table::BASE_ALU, |t| {
            t[row * 3] = t[row * 3 + 1];
            t[row * 3] += Val::ONE;
            t[row * 3 + 1] += Val::ONE;
        });
        let row = alu_row(&machine, AluKind::Base, crate::ir::AluOp::Mul);
        // Change an operand and the result together: the row is consistent, the read is not.
        assert_rejected(&machine, table::BASE_ALU, |t| {
            t[row * 3] += Val::ONE;
            t[row * 3 + 2] = t[row * 3] * t[row * 3 + 1];
        });
    }

    #[test]
    fn wrong_memory_values_are_rejected() {
        let machine = sample_program();
        // Row 0 is the witness `x`: changing it breaks every read of it.
        assert_rejected(&machine, table::MEMORY, |t| {
            t[memory::cols::VALUE] += Val::ONE
        });
        // A base cell with a non-zero higher coordinate.
        assert_rejected(&machine, table::MEMORY, |t| {
            t[memory::cols::VALUE + 2] += Val::ONE
        });
        // The constant row of 5 (found by value) changed.
        let execution = machine.execute(&sample_witness()).unwrap();
        let tables = machine.tables::<Val>(&execution);
        let five = tables[table::MEMORY]
            .trace
            .values
            .chunks(memory::cols::WIDTH)
            .position(|row| row == [Val::from_u32(5), Val::ZERO, Val::ZERO, Val::ZERO])
            .expect("the constant 5 is a memory row");
        assert_rejected(&machine, table::MEMORY, |t| {
            t[five * memory::cols::WIDTH] = Val::from_u32(6)
        });
    }

    #[test]
    fn forged_bit_decomposition_is_rejected() {
        let machine = sample_program();
        // Bits are memory rows (hints); flipping bit 4 of x breaks the boolean/recomposition
        // checks that read it.
        let execution = machine.execute(&sample_witness()).unwrap();
        let bit3 = machine
            .program()
            .instrs()
            .iter()
            .filter(|instr| matches!(instr, crate::ir::Instr::Cell { .. }))
            .position(|instr| {
                matches!(
                    instr,
                    crate::ir::Instr::Cell {
                        source: crate::ir::CellSource::Hint(crate::ir::Hint::Bit { bit: 4, .. }),
                        ..
                    }
                )
            })
            .unwrap();
        assert_eq!(execution.public_values[1], Val::ONE, "bit 4 of 0b1011_0101");
        assert_rejected(&machine, table::MEMORY, |t| {
            t[bit3 * memory::cols::WIDTH] = Val::ZERO
        });
    }

    #[test]
    fn wrong_poseidon2_output_is_rejected() {
        let machine = sample_program();
        // Any column of the permutation: an input, an intermediate, the output.
        for column in [0, 40, poseidon2::PERM_COLS - 16, poseidon2::PERM_COLS - 1] {
            assert_rejected(&machine, table::POSEIDON2, |t| t[column] += Val::ONE);
        }
    }

    fn round_per_row(machine: &RecursionMachine) -> RecursionMachine {
        machine.with_poseidon2_layout(Poseidon2Layout::RoundPerRow)
    }

    #[test]
    fn honest_run_proves_and_verifies_with_one_poseidon2_round_per_row() {
        let machine = round_per_row(&sample_program());
        let config = inner_config();
        let proof = machine.prove(&config, &sample_witness()).unwrap();
        assert_eq!(proof.public_values, expected_public_values());
        machine.verify(&config, &proof).unwrap();
        // The layouts are different programs as far as verifying keys go.
        assert!(sample_program().verify(&config, &proof).is_err());
    }

    #[test]
    fn uniform_heights_prove_and_verify() {
        let machine = round_per_row(&sample_program());
        assert_ne!(
            machine.heights().iter().min(),
            machine.heights().iter().max()
        );
        // Arity 8, as the outer settings fold.
        let settings = zkmips_prover::config::FriSettings {
            max_log_arity: 3,
            ..zkmips_prover::config::INNER_FRI
        };
        let uniform = machine.with_uniform_heights(&settings);
        let tallest = *machine.heights().iter().max().unwrap();
        let heights = uniform.heights();
        for (index, &height) in heights.iter().enumerate() {
            if index == table::PUBLIC {
                // Shorter, joining FRI where a fold of the maximum arity lands.
                let gap = tallest.trailing_zeros() - height.trailing_zeros();
                assert_eq!(gap as usize % settings.max_log_arity, 0);
                assert!(height <= tallest);
            } else {
                assert_eq!(height, tallest, "table {index}");
            }
        }
        let config = inner_config();
        let proof = uniform.prove(&config, &sample_witness()).unwrap();
        assert_eq!(proof.public_values, expected_public_values());
        uniform.verify(&config, &proof).unwrap();
    }

    #[test]
    fn wrong_poseidon2_rounds_are_rejected() {
        let machine = round_per_row(&sample_program());
        let width = poseidon2_rounds::cols::WIDTH;
        let output_row = poseidon2_rounds::ROWS_PER_PERMUTATION - 1;
        let (first_partial, last_partial) = (5, 8);
        let sbox = poseidon2_rounds::cols::SBOX;
        // An input (the lookup and the initial layer), a full round's result, a partial
        // row's result and its S-box columns (the first and the last), the output.
        for (row, column) in [
            (0, 3),
            (2, 7),
            (first_partial + 1, 0),
            (first_partial + 1, 9),
            (first_partial, sbox),
            (last_partial, poseidon2_rounds::cols::WIDTH - 1),
            (output_row, 15),
        ] {
            assert_rejected(&machine, table::POSEIDON2, |t| {
                t[row * width + column] += Val::ONE
            });
        }
        // A skipped round: two partial rows swapped.
        assert_rejected(&machine, table::POSEIDON2, |t| {
            let (rows5, rows6) = t.split_at_mut(6 * width);
            rows5[5 * width..].swap_with_slice(&mut rows6[..width]);
        });
        // The output row replaced by the last round's input: a round left out.
        assert_rejected(&machine, table::POSEIDON2, |t| {
            let last_round = (output_row - 1) * width;
            t.copy_within(last_round..last_round + width, output_row * width);
        });
    }

    /// A permutation whose halves a bit orders, and a plain one of the same input. The bit
    /// is a raw witness that the program never checks, so only the Poseidon2 table proves it
    /// boolean. Witness: the bit, then 16 inputs; exposes the ordered permutation's 16
    /// outputs and the plain one's first output.
    fn swap_program(layout: Poseidon2Layout) -> RecursionMachine {
        let mut b = Builder::new();
        let bit = b.witness();
        let input: [_; PERM_WIDTH] = core::array::from_fn(|_| b.witness());
        let left = core::array::from_fn(|i| input[i]);
        let right = core::array::from_fn(|i| input[PERM_WIDTH / 2 + i]);
        let ordered = b.poseidon2_ordered(bit, left, right);
        let plain = b.poseidon2(input);
        for value in ordered {
            b.public(value);
        }
        b.public(plain[0]);
        RecursionMachine::with_layout(b.build().unwrap(), MIN_HEIGHT, layout)
    }

    fn swap_input() -> [Val; PERM_WIDTH] {
        core::array::from_fn(|i| Val::from_u32(1000 + 17 * i as u32))
    }

    fn swap_witness(bit: u32) -> Vec<Val> {
        let mut witness = vec![Val::from_u32(bit)];
        witness.extend(swap_input());
        witness
    }

    const LAYOUTS: [Poseidon2Layout; 2] = [
        Poseidon2Layout::PermutationPerRow,
        Poseidon2Layout::RoundPerRow,
    ];

    #[test]
    fn swap_bit_orders_the_permutation_input() {
        let config = inner_config();
        for layout in LAYOUTS {
            let machine = swap_program(layout);
            for bit in [0, 1] {
                let proof = machine.prove(&config, &swap_witness(bit)).unwrap();
                let ordered = crate::ir::swap_halves(&swap_input(), bit == 1);
                let mut expected = inner_perm().permute(ordered).to_vec();
                expected.push(inner_perm().permute(swap_input())[0]);
                assert_eq!(proof.public_values, expected, "{layout:?}, bit {bit}");
                machine.verify(&config, &proof).unwrap();
            }
            assert!(matches!(
                machine.execute(&swap_witness(2)),
                Err(RuntimeError::NotBoolean { .. })
            ));
        }
    }

    /// The swap bit's lookups are of degree 3: the per-row table stays at the permutation's
    /// degree 3 (2 quotient chunks), the per-round table at its rounds' degree 4 (4 chunks).
    #[test]
    fn swap_bits_keep_the_quotient_degree() {
        for (layout, log_chunks) in LAYOUTS.into_iter().zip([1, 2]) {
            let machine = swap_program(layout);
            let degree_bits: Vec<usize> = machine
                .heights()
                .iter()
                .map(|h| h.trailing_zeros() as usize)
                .collect();
            let shape = crate::stark::StarkVerifierShape::new(
                &zkmips_prover::config::INNER_FRI,
                machine.airs(),
                &degree_bits,
            )
            .unwrap();
            assert_eq!(
                shape.proof.instances[table::POSEIDON2].log_num_quotient_chunks,
                log_chunks,
                "{layout:?}"
            );
        }
    }

    /// The per-round table's memory lookups read one column each (degree 1), so `p3` packs as
    /// many of them into a LogUp column as its degree budget allows: the swap bit costs its
    /// own read, not a halved packing (degree-2 values nearly doubled the LogUp columns).
    #[test]
    fn swap_bits_keep_the_logup_packing() {
        let machine = swap_program(Poseidon2Layout::RoundPerRow);
        let degree_bits: Vec<usize> = machine
            .heights()
            .iter()
            .map(|h| h.trailing_zeros() as usize)
            .collect();
        let air = &machine.airs()[table::POSEIDON2];
        let unpacked = p3_lookup::Lookups::<Val>::from_air::<Challenge, _>(air);
        assert_eq!(unpacked.len(), PERM_WIDTH + 1, "16 state cells and the bit");
        assert!(
            unpacked
                .iter()
                .flat_map(|lookup| lookup.elements.iter().flatten())
                .all(|element| element.degree_multiple() <= 1)
        );
        let data = p3_batch_stark::ProverData::from_airs_and_degrees(
            &inner_config(),
            machine.airs(),
            &degree_bits,
        )
        .unwrap();
        // 4 quotient chunks (`swap_bits_keep_the_quotient_degree`) allow a LogUp constraint of
        // degree 5: 4 fractions of degree-1 values and multiplicities per column.
        let packed = &data.common.lookups[table::POSEIDON2];
        assert_eq!(packed.len(), unpacked.len().div_ceil(4));
    }

    /// Whether a run of [`swap_program`] is accepted (proved and verified, `p3`'s debug
    /// checker included) when memory holds `bit` in the bit cell and the honest inputs, the
    /// ordered permutation's row holds `swap_column` and permutes `state` (its outputs, in
    /// memory and public, follow), and the plain permutation's row holds `plain_swap` and
    /// permutes `plain_state`. In the per-round table both input rows hold the honest inputs
    /// (what memory has), whatever the rounds start from.
    fn forged_swap_accepted(
        layout: Poseidon2Layout,
        bit: Val,
        swap_column: Val,
        state: [Val; PERM_WIDTH],
        plain_swap: Val,
        plain_state: [Val; PERM_WIDTH],
    ) -> bool {
        let machine = swap_program(layout);
        let output = inner_perm().permute(state);
        let plain = inner_perm().permute(plain_state);
        let states = [state, plain_state];
        let swaps = [swap_column, plain_swap];
        let trace = match &machine.airs()[table::POSEIDON2] {
            RecursionAir::Poseidon2(chip) => chip.trace_of(&states, &swaps),
            RecursionAir::Poseidon2Rounds(chip) => {
                chip.trace_of(&[swap_input(), swap_input()], &states, &swaps)
            }
            _ => unreachable!("table {} is the Poseidon2 table", table::POSEIDON2),
        };
        swap_run_accepted(&machine, bit, trace, [output, plain])
    }

    /// Whether a run of [`swap_program`] is accepted when memory holds `bit` in the bit cell
    /// and the honest inputs, the Poseidon2 table is `trace`, and the two permutations'
    /// outputs (in memory, and public) are `outputs`.
    fn swap_run_accepted(
        machine: &RecursionMachine,
        bit: Val,
        trace: RowMajorMatrix<Val>,
        outputs: [[Val; PERM_WIDTH]; 2],
    ) -> bool {
        let mut execution = machine.execute(&swap_witness(0)).unwrap();
        let permutations: Vec<_> = machine
            .program()
            .instrs()
            .iter()
            .filter_map(|instr| match instr {
                crate::ir::Instr::Poseidon2 { output, swap, .. } => Some((*output, *swap)),
                _ => None,
            })
            .collect();
        let (ordered_output, Some(bit_addr)) = permutations[0] else {
            panic!("the first permutation has a swap bit");
        };
        let (plain_output, None) = permutations[1] else {
            panic!("the second permutation has no swap bit");
        };
        execution.memory[bit_addr.index()] = crate::ir::base_block(bit);
        let [output, plain] = outputs;
        for (addr, value) in ordered_output.iter().zip(output) {
            execution.memory[addr.index()] = crate::ir::base_block(value);
        }
        for (addr, value) in plain_output.iter().zip(plain) {
            execution.memory[addr.index()] = crate::ir::base_block(value);
        }
        execution.public_values[..PERM_WIDTH].copy_from_slice(&output);
        execution.public_values[PERM_WIDTH] = plain[0];
        let mut tables = machine.tables::<Val>(&execution);
        tables[table::POSEIDON2].trace = trace;
        tables[table::PUBLIC].public_values = execution.public_values.clone();
        proves_and_verifies(machine, &inner_config(), &tables, execution.public_values)
    }

    /// A partial row's S-box column forged, and everything after it in the permutation
    /// (later S-boxes, rows, the output in memory and public) consistent with the forgery:
    /// only the column's own cube constraint stands in the way.
    #[test]
    fn forged_sbox_columns_are_rejected() {
        let machine = swap_program(Poseidon2Layout::RoundPerRow);
        let RecursionAir::Poseidon2Rounds(chip) = &machine.airs()[table::POSEIDON2] else {
            unreachable!("table {} is the Poseidon2 table", table::POSEIDON2);
        };
        let raw = [swap_input(), swap_input()];
        let swaps = [Val::ZERO, Val::ZERO];
        let accepted = |permutation, partial_row, sbox, offset| {
            let forgery = poseidon2_rounds::SboxForgery {
                permutation,
                partial_row,
                sbox,
                offset,
            };
            let (trace, outputs) = chip.trace_with_forged_sbox(&raw, &swaps, forgery);
            swap_run_accepted(&machine, Val::ZERO, trace, [outputs[0], outputs[1]])
        };
        // The forging itself is sound: no offset is the honest run.
        assert!(accepted(0, 0, 0, Val::ZERO));
        for (permutation, partial_row, sbox) in [(0, 0, 0), (0, 1, 2), (1, 3, 3)] {
            assert!(
                !accepted(permutation, partial_row, sbox, Val::ONE),
                "permutation {permutation}, partial row {partial_row}, S-box {sbox}"
            );
        }
    }

    #[test]
    fn forged_swap_bits_are_rejected() {
        let input = swap_input();
        let swapped = crate::ir::swap_halves(&input, true);
        let (zero, one, two) = (Val::ZERO, Val::ONE, Val::TWO);
        let partner = |p: &[Val; PERM_WIDTH], i: usize| p[(i + PERM_WIDTH / 2) % PERM_WIDTH];
        let mut accepted = Vec::new();
        for layout in LAYOUTS {
            // With the bit 2, a permuted input whose rows read the honest memory values: only
            // the boolean constraint stands in the way. The per-permutation table reads
            // `p[i] + 2 (p[i ^ 8] - p[i])` for the `p` it permutes, so `p` solves that equal to
            // `input[i]`; the per-round table reads `input` and permutes
            // `input[i] + 2 (input[i ^ 8] - input[i])`.
            let non_boolean: [Val; PERM_WIDTH] = match layout {
                Poseidon2Layout::PermutationPerRow => core::array::from_fn(|i| {
                    (input[i] + two * partner(&input, i)) * Val::from_u32(3).inverse()
                }),
                Poseidon2Layout::RoundPerRow => {
                    core::array::from_fn(|i| input[i] + two * (partner(&input, i) - input[i]))
                }
            };
            // The forging itself is sound: honest rows are accepted.
            assert!(forged_swap_accepted(layout, one, one, swapped, zero, input));
            assert!(forged_swap_accepted(layout, zero, zero, input, zero, input));
            for (what, bit, column, state, plain_swap, plain_state) in [
                ("a non-boolean swap bit", two, two, non_boolean, zero, input),
                (
                    "a swap bit unlike memory (1)",
                    one,
                    zero,
                    input,
                    zero,
                    input,
                ),
                (
                    "a swap bit unlike memory (0)",
                    zero,
                    one,
                    swapped,
                    zero,
                    input,
                ),
                (
                    "a swapped state with bit 0",
                    zero,
                    zero,
                    swapped,
                    zero,
                    input,
                ),
                (
                    "an unswapped state with bit 1",
                    one,
                    one,
                    input,
                    zero,
                    input,
                ),
                (
                    "a swap on a row without a bit",
                    zero,
                    zero,
                    input,
                    one,
                    swapped,
                ),
            ] {
                if forged_swap_accepted(layout, bit, column, state, plain_swap, plain_state) {
                    accepted.push(format!("{layout:?}: {what}"));
                }
            }
        }
        assert!(accepted.is_empty(), "accepted forgeries: {accepted:?}");
    }

    #[test]
    fn wrong_public_row_is_rejected() {
        let machine = sample_program();
        // The value column disagrees with the claimed public value.
        assert_rejected(&machine, table::PUBLIC, |t| t[0] += Val::ONE);
        // The last public value's row, and two rows swapped.
        let last = expected_public_values().len() - 1;
        assert_rejected(&machine, table::PUBLIC, |t| t[last] += Val::ONE);
        assert_rejected(&machine, table::PUBLIC, |t| t.swap(0, 1));
        // The value column agrees with the claimed public value but not with memory.
        assert_rejected_with_publics(
            &machine,
            table::PUBLIC,
            |t| t[0] += Val::ONE,
            |publics| publics[0] += Val::ONE,
        );
    }

    #[test]
    fn alu_widths_match_their_kind() {
        let machine = sample_program();
        let execution = machine.execute(&sample_witness()).unwrap();
        let tables = machine.tables::<Val>(&execution);
        assert_eq!(tables[table::BASE_ALU].trace.width, 3);
        assert_eq!(tables[table::EXT_ALU].trace.width, 12);
        let _ = alu::prep::WIDTH;
    }
}
