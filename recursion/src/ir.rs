//! The recursion program: a straight-line list of field operations over a write-once memory.
//!
//! Every memory cell holds a [`Block`], an element of the degree-4 extension written as its
//! four base coordinates; a base-field value is a block whose coordinates 1..3 are zero. Each
//! cell is written by exactly one instruction and read by any number of later ones. That is
//! what makes the memory argument a plain lookup: the writer offers `(address, value)` once,
//! with a multiplicity equal to the number of reads, and every read looks it up
//! (`MEMORY_BUS`, see [`crate::chips`]). The program itself, with its addresses and
//! multiplicities, is the preprocessed (fixed) part of every table, so the verifying key of a
//! recursion proof pins the exact computation; only the values are chosen by the prover.

use p3_field::extension::BinomialExtensionField;
use p3_field::{BasedVectorSpace, PrimeCharacteristicRing};
use p3_koala_bear::KoalaBear;
use serde::{Deserialize, Serialize};

/// Base field of the recursion machine (the field of the proofs it verifies).
pub type Val = KoalaBear;
/// Degree-4 extension: the challenge field of the proofs it verifies.
pub type Challenge = BinomialExtensionField<Val, 4>;
/// Contents of one memory cell: the four base coordinates of an extension element.
pub type Block = [Val; 4];
/// Width of the Poseidon2 permutation the machine provides (the inner configuration's hash).
pub const PERM_WIDTH: usize = 16;

/// `state` with its halves `[0, 8)` and `[8, 16)` exchanged when `swapped` (the input a
/// [`Instr::Poseidon2`] with a set swap bit permutes).
pub fn swap_halves<T: Clone>(state: &[T; PERM_WIDTH], swapped: bool) -> [T; PERM_WIDTH] {
    let half = PERM_WIDTH / 2;
    core::array::from_fn(|i| {
        if swapped {
            state[(i + half) % PERM_WIDTH].clone()
        } else {
            state[i].clone()
        }
    })
}

/// The block of a base-field value.
pub fn base_block(value: Val) -> Block {
    [value, Val::ZERO, Val::ZERO, Val::ZERO]
}

/// The block of an extension element.
pub fn ext_block(value: Challenge) -> Block {
    let coordinates = value.as_basis_coefficients_slice();
    [
        coordinates[0],
        coordinates[1],
        coordinates[2],
        coordinates[3],
    ]
}

/// The extension element a block denotes.
pub fn block_ext(block: Block) -> Challenge {
    Challenge::from_basis_coefficients_fn(|i| block[i])
}

/// Index of a memory cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Addr(pub u32);

impl Addr {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Arithmetic performed by the ALU tables, on base values ([`Instr::BaseAlu`]) or on extension
/// elements ([`Instr::ExtAlu`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AluOp {
    /// `out = a + b`
    Add,
    /// `out = a - b`
    Sub,
    /// `out = a * b`
    Mul,
    /// `out = 1 / a`; the row proves `out * a = 1`, hence `a != 0` (`b` is not read).
    Inv,
    /// No output: the row proves `a = b`.
    AssertEq,
}

impl AluOp {
    pub const ALL: [AluOp; 5] = [
        AluOp::Add,
        AluOp::Sub,
        AluOp::Mul,
        AluOp::Inv,
        AluOp::AssertEq,
    ];

    /// Whether the row writes `out`.
    pub fn has_output(self) -> bool {
        self != AluOp::AssertEq
    }

    /// Whether the row reads `b`.
    pub fn reads_b(self) -> bool {
        self != AluOp::Inv
    }
}

/// How the runtime fills a hinted cell. Hints are free witness values: the program must
/// constrain them with later instructions (e.g. bits are checked to be boolean and to
/// recompose their input), since the proof only says they were *some* values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Hint {
    /// Bit `bit` of the canonical representative of the base value at `input`.
    Bit { input: Addr, bit: u32 },
    /// Base coordinate `coordinate` of the extension element at `input`.
    Coordinate { input: Addr, coordinate: u32 },
}

/// Where a memory-table row's value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CellSource {
    /// A constant fixed by the program (part of the verifying key).
    Const(Block),
    /// The next value(s) of the witness stream: one base element, or four for an extension
    /// element (its coordinates in order).
    Witness { ext: bool },
    /// Computed by the runtime from earlier cells; a base value.
    Hint(Hint),
}

/// One instruction. Addresses written are fresh: the builder allocates each once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Instr {
    /// Writes `out` from outside the arithmetic (a memory-table row).
    Cell { out: Addr, source: CellSource },
    /// Base-field arithmetic: every operand and the result are base values.
    BaseAlu {
        op: AluOp,
        a: Addr,
        b: Addr,
        out: Addr,
    },
    /// Extension-field arithmetic.
    ExtAlu {
        op: AluOp,
        a: Addr,
        b: Addr,
        out: Addr,
    },
    /// `output = Poseidon2(input)` over 16 base values, with the inner configuration's
    /// permutation (`p3-koala-bear`'s width-16 constants). With `swap: Some(bit)`, the cell
    /// `bit` must hold 0 or 1, and when it holds 1 the permutation's input is `input` with its
    /// halves `[0, 8)` and `[8, 16)` exchanged: a Merkle node compression that orders
    /// `(digest, sibling)` by an index bit without any ALU instruction.
    Poseidon2 {
        input: [Addr; PERM_WIDTH],
        output: [Addr; PERM_WIDTH],
        swap: Option<Addr>,
    },
    /// Appends the base value at `input` to the proof's public values.
    Public { input: Addr },
}

impl Instr {
    /// The cells this instruction reads.
    pub fn reads(&self) -> Vec<Addr> {
        match self {
            Instr::Cell { .. } => Vec::new(),
            Instr::BaseAlu { op, a, b, .. } | Instr::ExtAlu { op, a, b, .. } => {
                if op.reads_b() {
                    vec![*a, *b]
                } else {
                    vec![*a]
                }
            }
            Instr::Poseidon2 { input, swap, .. } => {
                let mut reads = input.to_vec();
                reads.extend(swap);
                reads
            }
            Instr::Public { input } => vec![*input],
        }
    }

    /// The cells this instruction writes.
    pub fn writes(&self) -> Vec<Addr> {
        match self {
            Instr::Cell { out, .. } => vec![*out],
            Instr::BaseAlu { op, out, .. } | Instr::ExtAlu { op, out, .. } => {
                if op.has_output() {
                    vec![*out]
                } else {
                    Vec::new()
                }
            }
            Instr::Poseidon2 { output, .. } => output.to_vec(),
            Instr::Public { .. } => Vec::new(),
        }
    }
}

/// Why a list of instructions is not a valid program.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProgramError {
    #[error("instruction {index}: writes cell {addr}, already written by instruction {first}")]
    WrittenTwice {
        index: usize,
        addr: u32,
        first: usize,
    },
    #[error("instruction {index}: reads cell {addr}, which no earlier instruction writes")]
    ReadBeforeWrite { index: usize, addr: u32 },
    #[error("instruction {index}: cell {addr} is outside the program's {cells} cells")]
    OutOfRange { index: usize, addr: u32, cells: u32 },
    #[error("instruction {index}: cell {addr} is read {reads} times, more than the field allows")]
    TooManyReads { index: usize, addr: u32, reads: u64 },
}

/// A checked program: every read follows the one write of its cell, and the number of reads
/// of every cell (the multiplicity its writer offers on the memory bus) is known.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Program {
    instrs: Vec<Instr>,
    num_cells: u32,
    /// `reads[addr]`: how many instructions read the cell.
    reads: Vec<u32>,
}

impl Program {
    /// Checks `instrs` (write-once, read-after-write, addresses below `num_cells`) and counts
    /// the reads of every cell.
    pub fn new(instrs: Vec<Instr>, num_cells: u32) -> Result<Self, ProgramError> {
        const UNWRITTEN: usize = usize::MAX;
        let mut writer = vec![UNWRITTEN; num_cells as usize];
        let mut reads = vec![0u64; num_cells as usize];
        for (index, instr) in instrs.iter().enumerate() {
            let in_range = |addr: Addr| {
                if addr.0 < num_cells {
                    Ok(addr.index())
                } else {
                    Err(ProgramError::OutOfRange {
                        index,
                        addr: addr.0,
                        cells: num_cells,
                    })
                }
            };
            for addr in instr.reads() {
                let cell = in_range(addr)?;
                if writer[cell] == UNWRITTEN {
                    return Err(ProgramError::ReadBeforeWrite {
                        index,
                        addr: addr.0,
                    });
                }
                reads[cell] += 1;
            }
            for addr in instr.writes() {
                let cell = in_range(addr)?;
                if writer[cell] != UNWRITTEN {
                    return Err(ProgramError::WrittenTwice {
                        index,
                        addr: addr.0,
                        first: writer[cell],
                    });
                }
                writer[cell] = index;
            }
        }
        // A multiplicity is a field element: keep it far below p so a count never wraps.
        const MAX_READS: u64 = 1 << 30;
        let mut counted = Vec::with_capacity(reads.len());
        for (cell, &count) in reads.iter().enumerate() {
            if count >= MAX_READS {
                return Err(ProgramError::TooManyReads {
                    index: writer[cell],
                    addr: cell as u32,
                    reads: count,
                });
            }
            counted.push(count as u32);
        }
        Ok(Self {
            instrs,
            num_cells,
            reads: counted,
        })
    }

    pub fn instrs(&self) -> &[Instr] {
        &self.instrs
    }

    pub fn num_cells(&self) -> u32 {
        self.num_cells
    }

    /// How many instructions read `addr` (the multiplicity its writer offers).
    pub fn reads_of(&self, addr: Addr) -> u32 {
        self.reads[addr.index()]
    }

    /// How many public values the program exposes.
    pub fn num_public_values(&self) -> usize {
        self.instrs
            .iter()
            .filter(|instr| matches!(instr, Instr::Public { .. }))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(out: u32) -> Instr {
        Instr::Cell {
            out: Addr(out),
            source: CellSource::Witness { ext: false },
        }
    }

    #[test]
    fn counts_reads_per_cell() {
        let program = Program::new(
            vec![
                cell(0),
                cell(1),
                Instr::BaseAlu {
                    op: AluOp::Mul,
                    a: Addr(0),
                    b: Addr(0),
                    out: Addr(2),
                },
                Instr::BaseAlu {
                    op: AluOp::Inv,
                    a: Addr(2),
                    b: Addr(1),
                    out: Addr(3),
                },
                Instr::Public { input: Addr(3) },
            ],
            4,
        )
        .unwrap();
        assert_eq!(program.reads_of(Addr(0)), 2);
        // `Inv` does not read `b`.
        assert_eq!(program.reads_of(Addr(1)), 0);
        assert_eq!(program.reads_of(Addr(2)), 1);
        assert_eq!(program.reads_of(Addr(3)), 1);
        assert_eq!(program.num_public_values(), 1);
    }

    #[test]
    fn swap_bits_count_as_reads() {
        let program = Program::new(
            vec![
                cell(0),
                cell(1),
                Instr::Poseidon2 {
                    input: [Addr(0); PERM_WIDTH],
                    output: core::array::from_fn(|i| Addr(2 + i as u32)),
                    swap: Some(Addr(1)),
                },
            ],
            18,
        )
        .unwrap();
        assert_eq!(program.reads_of(Addr(0)), 16);
        assert_eq!(program.reads_of(Addr(1)), 1);
    }

    #[test]
    fn rejects_double_writes_early_reads_and_stray_addresses() {
        assert_eq!(
            Program::new(vec![cell(0), cell(0)], 1),
            Err(ProgramError::WrittenTwice {
                index: 1,
                addr: 0,
                first: 0
            })
        );
        assert_eq!(
            Program::new(vec![Instr::Public { input: Addr(0) }, cell(0)], 1),
            Err(ProgramError::ReadBeforeWrite { index: 0, addr: 0 })
        );
        // The swap bit of a permutation is a read like its inputs.
        let permutation = |swap| Instr::Poseidon2 {
            input: [Addr(0); PERM_WIDTH],
            output: core::array::from_fn(|i| Addr(2 + i as u32)),
            swap: Some(Addr(swap)),
        };
        assert_eq!(
            Program::new(vec![cell(0), permutation(1), cell(1)], 18),
            Err(ProgramError::ReadBeforeWrite { index: 1, addr: 1 })
        );
        assert_eq!(
            Program::new(vec![cell(0), permutation(20)], 18),
            Err(ProgramError::OutOfRange {
                index: 1,
                addr: 20,
                cells: 18
            })
        );
        assert_eq!(
            Program::new(vec![cell(5)], 2),
            Err(ProgramError::OutOfRange {
                index: 0,
                addr: 5,
                cells: 2
            })
        );
    }
}
