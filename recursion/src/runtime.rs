//! Running a recursion [`Program`] on a witness stream.
//!
//! The program is straight-line, so running it fills every cell exactly once, in order. The
//! result, [`Execution`], is everything trace generation needs: the value of every cell (each
//! table reads the values of its rows' addresses) and the public values. A failed assertion or
//! an inverse of zero is an error naming the instruction, never a panic: such a program has no
//! proof for this witness.

use p3_field::{Field, PrimeCharacteristicRing, PrimeField32};
use p3_symmetric::Permutation;
use thiserror::Error;
use zkmips_prover::config::inner_perm;

use crate::ir::{
    Addr, AluOp, Block, CellSource, Hint, Instr, PERM_WIDTH, Program, Val, base_block, block_ext,
    ext_block, swap_halves,
};

/// The filled memory and the public values of one run.
#[derive(Clone, Debug)]
pub struct Execution {
    pub memory: Vec<Block>,
    pub public_values: Vec<Val>,
}

impl Execution {
    pub fn value(&self, addr: Addr) -> Block {
        self.memory[addr.index()]
    }
}

#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum RuntimeError {
    #[error("instruction {index}: the witness stream ended ({len} values given)")]
    WitnessExhausted { index: usize, len: usize },
    #[error("{len} witness values given, the program read {used}")]
    WitnessLeftOver { used: usize, len: usize },
    #[error("instruction {index}: inverse of zero (cell {addr})")]
    InverseOfZero { index: usize, addr: u32 },
    #[error(
        "instruction {index}: assertion failed: cell {a} = {a_value:?}, cell {b} = {b_value:?}"
    )]
    AssertionFailed {
        index: usize,
        a: u32,
        b: u32,
        a_value: Block,
        b_value: Block,
    },
    #[error("instruction {index}: base operand cell {addr} holds the extension element {value:?}")]
    NotBase {
        index: usize,
        addr: u32,
        value: Block,
    },
    #[error("instruction {index}: the swap bit in cell {addr} holds {value}, not 0 or 1")]
    NotBoolean { index: usize, addr: u32, value: Val },
    #[error("instruction {index}: bit {bit} of a 31-bit value")]
    BitOutOfRange { index: usize, bit: u32 },
    #[error("instruction {index}: coordinate {coordinate} of a degree-4 extension element")]
    CoordinateOutOfRange { index: usize, coordinate: u32 },
}

/// One ALU instruction over the base field or the extension: its result (`None` for
/// `AssertEq`), or why it has none. `site` is (instruction index, a, b) for errors.
fn alu<T: Field>(
    op: AluOp,
    x: T,
    y: T,
    block: fn(T) -> Block,
    (index, a, b): (usize, Addr, Addr),
) -> Result<Option<T>, RuntimeError> {
    Ok(Some(match op {
        AluOp::Add => x + y,
        AluOp::Sub => x - y,
        AluOp::Mul => x * y,
        AluOp::Inv => x
            .try_inverse()
            .ok_or(RuntimeError::InverseOfZero { index, addr: a.0 })?,
        AluOp::AssertEq if x == y => return Ok(None),
        AluOp::AssertEq => {
            return Err(RuntimeError::AssertionFailed {
                index,
                a: a.0,
                b: b.0,
                a_value: block(x),
                b_value: block(y),
            });
        }
    }))
}

fn is_base(block: &Block) -> bool {
    block[1..].iter().all(|c| c.is_zero())
}

/// Runs `program`, taking witness values from `witness` in order; every value must be used.
pub fn execute(program: &Program, witness: &[Val]) -> Result<Execution, RuntimeError> {
    let mut memory = vec![[Val::default(); 4]; program.num_cells() as usize];
    let mut public_values = Vec::new();
    let mut next_witness = 0usize;
    let perm = inner_perm();
    for (index, instr) in program.instrs().iter().enumerate() {
        let base = |memory: &Vec<Block>, addr: Addr| -> Result<Val, RuntimeError> {
            let block = memory[addr.index()];
            if is_base(&block) {
                Ok(block[0])
            } else {
                Err(RuntimeError::NotBase {
                    index,
                    addr: addr.0,
                    value: block,
                })
            }
        };
        match *instr {
            Instr::Cell { out, source } => {
                let value = match source {
                    CellSource::Const(block) => block,
                    CellSource::Witness { ext } => {
                        let count = if ext { 4 } else { 1 };
                        let values = witness.get(next_witness..next_witness + count).ok_or(
                            RuntimeError::WitnessExhausted {
                                index,
                                len: witness.len(),
                            },
                        )?;
                        next_witness += count;
                        let mut block = [Val::default(); 4];
                        block[..count].copy_from_slice(values);
                        block
                    }
                    CellSource::Hint(Hint::Bit { input, bit }) => {
                        if bit >= 31 {
                            return Err(RuntimeError::BitOutOfRange { index, bit });
                        }
                        let value = base(&memory, input)?.as_canonical_u32();
                        base_block(Val::from_bool((value >> bit) & 1 == 1))
                    }
                    CellSource::Hint(Hint::Coordinate { input, coordinate }) => {
                        let block = memory[input.index()];
                        let value = block
                            .get(coordinate as usize)
                            .ok_or(RuntimeError::CoordinateOutOfRange { index, coordinate })?;
                        base_block(*value)
                    }
                };
                memory[out.index()] = value;
            }
            Instr::BaseAlu { op, a, b, out } => {
                let x = base(&memory, a)?;
                let y = if op.reads_b() { base(&memory, b)? } else { x };
                if let Some(result) = alu(op, x, y, base_block, (index, a, b))? {
                    memory[out.index()] = base_block(result);
                }
            }
            Instr::ExtAlu { op, a, b, out } => {
                let x = block_ext(memory[a.index()]);
                let y = block_ext(memory[b.index()]);
                if let Some(result) = alu(op, x, y, ext_block, (index, a, b))? {
                    memory[out.index()] = ext_block(result);
                }
            }
            Instr::Poseidon2 {
                input,
                output,
                swap,
            } => {
                let mut state = [Val::default(); PERM_WIDTH];
                for (slot, addr) in state.iter_mut().zip(input) {
                    *slot = base(&memory, addr)?;
                }
                let swapped = match swap {
                    None => false,
                    Some(addr) => match base(&memory, addr)? {
                        value if value == Val::ZERO => false,
                        value if value == Val::ONE => true,
                        value => {
                            return Err(RuntimeError::NotBoolean {
                                index,
                                addr: addr.0,
                                value,
                            });
                        }
                    },
                };
                let state = perm.permute(swap_halves(&state, swapped));
                for (value, addr) in state.into_iter().zip(output) {
                    memory[addr.index()] = base_block(value);
                }
            }
            Instr::Public { input } => public_values.push(base(&memory, input)?),
        }
    }
    if next_witness != witness.len() {
        return Err(RuntimeError::WitnessLeftOver {
            used: next_witness,
            len: witness.len(),
        });
    }
    Ok(Execution {
        memory,
        public_values,
    })
}
