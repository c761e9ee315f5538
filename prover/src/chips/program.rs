//! `ProgramChip`: the program table, one preprocessed row per instruction word of the ELF's
//! executable segments.
//!
//! Each row holds the decoded instruction at `pc` (the fields of
//! [`zkmips_executor::Instruction`], `imm` as two 16-bit halves), two flags the CPU needs for pc
//! sequencing (`has_delay_slot` for every branch and jump, `is_likely` for the branch-likely
//! forms whose slot is annulled when not taken) and `valid`. It provides
//! [`fetch_message`]`(pc, instruction)` on [`PROGRAM_BUS`] with a free multiplicity (main
//! column). Being preprocessed, the table is part of the verifying key
//! ([`crate::vkey`]): a prover cannot change the code.
//!
//! Words that do not decode (data in a text segment, reserved encodings) and padding rows have
//! `valid = 0`, opcode [`INVALID_OPCODE`] (a value no `Opcode` has, so no chip accepts it) and
//! zero fields. They can never be fetched: the AIR constrains `multiplicity * (1 - valid) = 0`,
//! so the only way to balance a fetch of such a row is a non-zero multiplicity the constraint
//! forbids. Trace generation refuses such fetches with an error naming the pc and word.
//!
//! `pc` is a single field element: [`zkmips_executor::Program::from_elf`] only loads segments
//! below `0x7000_0000 < p`; [`ProgramChip::new`] refuses anything at or above
//! [`MAX_CODE_ADDRESS`] (a hand-built program), so distinct pcs are distinct field elements.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use p3_air::{Air, BaseAir, PermutationAirBuilder, WindowAccess};
use p3_field::{Field, PrimeCharacteristicRing};
use p3_lookup::InteractionBuilder;
use p3_matrix::dense::RowMajorMatrix;
use thiserror::Error;
use zkmips_executor::{InstrClass, Instruction, Opcode, Program, decode};

use super::{TraceError, padded_height};
use crate::batch::MAX_LOG_TRACE_HEIGHT;
use crate::buses::{AluOp, PROGRAM_BUS, PROGRAM_MESSAGE_WIDTH};

/// Opcode column of rows that hold no instruction: no `Opcode` discriminant is this large.
pub const INVALID_OPCODE: u8 = 0xff;
const _: () = assert!(zkmips_executor::Opcode::ALL.len() < INVALID_OPCODE as usize);

/// Code must lie below this address so that a pc is one canonical field element (it is also
/// the top of the executor's load range).
pub const MAX_CODE_ADDRESS: u32 = 0x7000_0000;

/// The fields of a [`PROGRAM_BUS`] message: the instruction at `pc` decoded into what the CPU
/// needs to run it, so that the CPU holds no per-opcode decoding logic (its columns are
/// whatever the table says, fixed by the verifying key).
pub mod fetch {
    pub const PC: usize = 0;
    /// The executor's `Opcode` as `u8`, forwarded to the instruction's chip.
    pub const OPCODE: usize = 1;
    /// Register read at slot `SLOT_RS` (0 when none is read).
    pub const RS: usize = 2;
    /// Register read at slot `SLOT_RT` (0 when none is read).
    pub const RT: usize = 3;
    /// Register written at slot `SLOT_DST` (`rd`, `rt` or 31; 0 when none is written).
    pub const DST: usize = 4;
    /// The operand immediate as two 16-bit halves: the extended immediate of I-type ALU
    /// operations, loads, stores and trap-immediates; `sa` for immediate shifts;
    /// `pos | size << 8` for EXT/INS; the absolute target of PC-relative branches and J/JAL;
    /// 0 otherwise.
    pub const IMM_LO: usize = 5;
    pub const IMM_HI: usize = 6;
    pub const READS_RS: usize = 7;
    pub const READS_RT: usize = 8;
    pub const WRITES_DST: usize = 9;
    /// The destination is `$zero`: the write stores 0 whatever the result.
    pub const DST_IS_ZERO: usize = 10;
    /// The `AluOp` of an ALU-class instruction (LUI is `OR` of 0 and its immediate), else 0.
    pub const ALU_OP: usize = 11;
    /// ALU operand selection: `b = B_IS_RS·rs + B_IS_RT·rt`,
    /// `c = C_IS_RS·rs + C_IS_RT·rt + imm`, `d = USES_D·(old destination value)`.
    pub const B_IS_RS: usize = 12;
    pub const B_IS_RT: usize = 13;
    pub const C_IS_RS: usize = 14;
    pub const C_IS_RT: usize = 15;
    pub const USES_D: usize = 16;
    /// Which chip proves the instruction (at most one is set; none for SYNC/SYNCI/PREF, which
    /// do nothing).
    pub const IS_ALU: usize = 17;
    pub const IS_MULDIV: usize = 18;
    /// Branches, jumps and the conditional traps (proven not to fire).
    pub const IS_BRANCH: usize = 19;
    pub const IS_MEM: usize = 20;
    pub const IS_SYSCALL: usize = 21;
    pub const HAS_DELAY_SLOT: usize = 22;
    pub const IS_LIKELY: usize = 23;
    pub const WIDTH: usize = 24;
}

/// Preprocessed columns: the [`PROGRAM_BUS`] message (indices of [`fetch`]), then `VALID`.
pub mod prep {
    pub use super::fetch::*;
    /// 1 iff the row holds a provable instruction (fields `PC..WIDTH` are its message).
    pub const VALID: usize = super::fetch::WIDTH;
    pub const WIDTH: usize = VALID + 1;
}

/// Main columns.
pub(crate) mod cols {
    /// How many times the row is fetched.
    pub const MULTIPLICITY: usize = 0;
    pub const WIDTH: usize = 1;
}

/// Whether the prover covers `opcode`: everything but the FPU, RDHWR (reads host state) and
/// BREAK (always traps). Table rows of other opcodes can never be fetched.
pub fn is_provable(opcode: Opcode) -> bool {
    !matches!(opcode.class(), InstrClass::Fpu) && !matches!(opcode, Opcode::Rdhwr | Opcode::Break)
}

/// The [`PROGRAM_BUS`] message for fetching `instruction` at `pc` (see [`fetch`]). Only
/// meaningful for [`is_provable`] opcodes (the others get a message with no chip flag).
pub fn fetch_message(pc: u32, instruction: &Instruction) -> [u32; PROGRAM_MESSAGE_WIDTH] {
    use Opcode::*;
    let op = instruction.opcode;
    let (rs, rt, rd) = (
        u32::from(instruction.rs),
        u32::from(instruction.rt),
        u32::from(instruction.rd),
    );
    let mut m = [0u32; PROGRAM_MESSAGE_WIDTH];
    m[fetch::PC] = pc;
    m[fetch::OPCODE] = op as u32;
    let mut imm = 0u32;
    // Register usage mirrors exactly which accesses the executor records.
    let (mut reads_rs, mut reads_rt, mut dst) = (false, false, None::<u32>);
    let alu = |m: &mut [u32; PROGRAM_MESSAGE_WIDTH], alu_op: AluOp, b: u8, c: u8| {
        // b, c: 0 = none, 1 = rs, 2 = rt.
        m[fetch::IS_ALU] = 1;
        m[fetch::ALU_OP] = alu_op as u32;
        m[fetch::B_IS_RS] = u32::from(b == 1);
        m[fetch::B_IS_RT] = u32::from(b == 2);
        m[fetch::C_IS_RS] = u32::from(c == 1);
        m[fetch::C_IS_RT] = u32::from(c == 2);
        m[fetch::USES_D] = u32::from(alu_op.uses_old_value());
    };
    match op {
        Add | Addu | Sub | Subu | And | Or | Xor | Nor | Slt | Sltu | Movz | Movn => {
            (reads_rs, reads_rt, dst) = (true, true, Some(rd));
            alu(&mut m, alu_op_of(op), 1, 2);
        }
        Sll | Srl | Sra | Rotr => {
            (reads_rt, dst, imm) = (true, Some(rd), u32::from(instruction.sa));
            alu(&mut m, alu_op_of(op), 2, 0);
        }
        Sllv | Srlv | Srav | Rotrv => {
            (reads_rs, reads_rt, dst) = (true, true, Some(rd));
            alu(&mut m, alu_op_of(op), 2, 1);
        }
        Clz | Clo => {
            (reads_rs, dst) = (true, Some(rd));
            alu(&mut m, alu_op_of(op), 1, 0);
        }
        Seb | Seh | Wsbh => {
            (reads_rt, dst) = (true, Some(rd));
            alu(&mut m, alu_op_of(op), 2, 0);
        }
        Ext | Ins => {
            // EXT/INS: pos in `sa`, size in `rd` (as the executor reads them).
            imm = u32::from(instruction.sa) | rd << 8;
            (reads_rs, reads_rt, dst) = (true, op == Ins, Some(rt));
            alu(&mut m, alu_op_of(op), 1, 0);
        }
        Addi | Addiu | Slti | Sltiu | Andi | Ori | Xori => {
            (reads_rs, dst, imm) = (true, Some(rt), instruction.imm);
            alu(&mut m, alu_op_of(op), 1, 0);
        }
        Lui => {
            (dst, imm) = (Some(rt), instruction.imm);
            alu(&mut m, AluOp::Or, 0, 0);
        }
        Mul | Mult | Multu | Madd | Maddu | Msub | Msubu | Div | Divu | Mfhi | Mflo | Mthi
        | Mtlo => {
            m[fetch::IS_MULDIV] = 1;
            reads_rs = !matches!(op, Mfhi | Mflo);
            reads_rt = !matches!(op, Mfhi | Mflo | Mthi | Mtlo);
            dst = matches!(op, Mul | Mfhi | Mflo).then_some(rd);
        }
        Beq | Bne | Beql | Bnel | Blez | Bgtz | Bltz | Bgez | Blezl | Bgtzl | Bltzl | Bgezl
        | Bltzal | Bgezal | Bltzall | Bgezall => {
            m[fetch::IS_BRANCH] = 1;
            imm = pc.wrapping_add(4).wrapping_add(instruction.imm);
            reads_rs = true;
            reads_rt = matches!(op, Beq | Bne | Beql | Bnel);
            dst = matches!(op, Bltzal | Bgezal | Bltzall | Bgezall).then_some(31);
        }
        J | Jal => {
            m[fetch::IS_BRANCH] = 1;
            imm = (pc.wrapping_add(4) & 0xf000_0000) | instruction.imm;
            dst = (op == Jal).then_some(31);
        }
        Jr | Jalr => {
            m[fetch::IS_BRANCH] = 1;
            reads_rs = true;
            dst = (op == Jalr).then_some(rd);
        }
        Teq | Tne | Tge | Tgeu | Tlt | Tltu => {
            // The immediate of the register forms is a trap code, not an operand.
            m[fetch::IS_BRANCH] = 1;
            (reads_rs, reads_rt) = (true, true);
        }
        Teqi | Tnei | Tgei | Tgeiu | Tlti | Tltiu => {
            m[fetch::IS_BRANCH] = 1;
            (reads_rs, imm) = (true, instruction.imm);
        }
        Lb | Lbu | Lh | Lhu | Lw | Ll | Lwl | Lwr | Sb | Sh | Sw | Swl | Swr | Sc => {
            m[fetch::IS_MEM] = 1;
            imm = instruction.imm;
            reads_rs = true;
            reads_rt = matches!(op, Lwl | Lwr | Sb | Sh | Sw | Swl | Swr | Sc);
            dst = matches!(op, Lb | Lbu | Lh | Lhu | Lw | Ll | Lwl | Lwr | Sc).then_some(rt);
        }
        Syscall => m[fetch::IS_SYSCALL] = 1,
        // No architectural effect on this machine; unprovable opcodes get no chip.
        _ => {}
    }
    if reads_rs {
        m[fetch::READS_RS] = 1;
        m[fetch::RS] = rs;
    }
    if reads_rt {
        m[fetch::READS_RT] = 1;
        m[fetch::RT] = rt;
    }
    if let Some(dst) = dst {
        m[fetch::WRITES_DST] = 1;
        m[fetch::DST] = dst;
        m[fetch::DST_IS_ZERO] = u32::from(dst == 0);
    }
    m[fetch::IMM_LO] = imm & 0xffff;
    m[fetch::IMM_HI] = imm >> 16;
    m[fetch::HAS_DELAY_SLOT] = u32::from(op.is_branch_or_jump());
    m[fetch::IS_LIKELY] = u32::from(op.is_likely());
    m
}

/// The [`AluOp`] proving an ALU-class `opcode` (LUI excluded: it is `OR` with 0).
fn alu_op_of(opcode: Opcode) -> AluOp {
    use Opcode::*;
    match opcode {
        Add | Addi => AluOp::Add,
        Addu | Addiu => AluOp::Addu,
        Sub => AluOp::Sub,
        Subu => AluOp::Subu,
        And | Andi => AluOp::And,
        Or | Ori | Lui => AluOp::Or,
        Xor | Xori => AluOp::Xor,
        Nor => AluOp::Nor,
        Slt | Slti => AluOp::Slt,
        Sltu | Sltiu => AluOp::Sltu,
        Sll | Sllv => AluOp::Sll,
        Srl | Srlv => AluOp::Srl,
        Sra | Srav => AluOp::Sra,
        Rotr | Rotrv => AluOp::Rotr,
        Movz => AluOp::Movz,
        Movn => AluOp::Movn,
        Clz => AluOp::Clz,
        Clo => AluOp::Clo,
        Seb => AluOp::Seb,
        Seh => AluOp::Seh,
        Wsbh => AluOp::Wsbh,
        Ext => AluOp::Ext,
        Ins => AluOp::Ins,
        other => unreachable!("{other:?} is not an ALU operation"),
    }
}

/// Why a program cannot be turned into a program table.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum ProgramError {
    #[error("executable segment at {vaddr:#010x} is not word-aligned")]
    UnalignedSegment { vaddr: u32 },
    #[error(
        "executable segment at {vaddr:#010x} ends at {end:#x}, above the provable code limit {MAX_CODE_ADDRESS:#010x}"
    )]
    CodeTooHigh { vaddr: u32, end: u64 },
    #[error("{words} instruction words need a program table above 2^{MAX_LOG_TRACE_HEIGHT} rows")]
    TooLarge { words: usize },
    #[error("{words} instruction words do not fit a program table of {height} rows")]
    DoesNotFit { words: usize, height: usize },
}

/// One word of the executable segments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProgramWord {
    pub pc: u32,
    pub word: u32,
    /// `None` if the word does not decode; such a row can never be fetched.
    pub instruction: Option<Instruction>,
}

/// The preprocessed program table of one program. Cheap to clone (shared).
#[derive(Clone)]
pub struct ProgramChip {
    words: Arc<Vec<ProgramWord>>,
    /// Row of each pc.
    rows: Arc<HashMap<u32, usize>>,
    /// Table height when fixed by a proof shape (0: the smallest that fits).
    fixed_height: usize,
}

impl fmt::Debug for ProgramChip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProgramChip")
            .field("words", &self.words.len())
            .field("height", &self.height())
            .finish()
    }
}

impl ProgramChip {
    pub const fn name(&self) -> &'static str {
        "Program"
    }

    /// The table of every whole word of every executable segment of `program`, in address
    /// order (segments are sorted and disjoint). Bytes past a segment's file data are zero, as
    /// when loaded; a trailing partial word is left out (it cannot be fetched whole).
    pub fn new(program: &Program) -> Result<Self, ProgramError> {
        let mut words = Vec::new();
        for segment in program.segments.iter().filter(|s| s.executable) {
            if segment.vaddr % 4 != 0 {
                return Err(ProgramError::UnalignedSegment {
                    vaddr: segment.vaddr,
                });
            }
            if segment.end() > u64::from(MAX_CODE_ADDRESS) {
                return Err(ProgramError::CodeTooHigh {
                    vaddr: segment.vaddr,
                    end: segment.end(),
                });
            }
            let byte = |offset: usize| segment.data.get(offset).copied().unwrap_or(0);
            for offset in (0..segment.mem_size as usize / 4).map(|i| 4 * i) {
                let word = u32::from_le_bytes([
                    byte(offset),
                    byte(offset + 1),
                    byte(offset + 2),
                    byte(offset + 3),
                ]);
                words.push(ProgramWord {
                    pc: segment.vaddr + offset as u32,
                    word,
                    instruction: decode(word).ok(),
                });
            }
            if words.len() > 1 << MAX_LOG_TRACE_HEIGHT {
                return Err(ProgramError::TooLarge { words: words.len() });
            }
        }
        let rows = words
            .iter()
            .enumerate()
            .map(|(row, w)| (w.pc, row))
            .collect();
        Ok(Self {
            words: Arc::new(words),
            rows: Arc::new(rows),
            fixed_height: 0,
        })
    }

    /// The same table padded (with inert all-zero rows) to `height`, a power of two: a fixed
    /// proof shape gives every program's table the same height. Fails if the program does not
    /// fit.
    pub fn with_height(mut self, height: usize) -> Result<Self, ProgramError> {
        if !height.is_power_of_two() || height < padded_height(self.words.len()) {
            return Err(ProgramError::DoesNotFit {
                words: self.words.len(),
                height,
            });
        }
        self.fixed_height = height;
        Ok(self)
    }

    /// Every word of the table, in row order.
    pub fn words(&self) -> &[ProgramWord] {
        &self.words
    }

    /// Height of the (preprocessed and main) trace.
    pub fn height(&self) -> usize {
        padded_height(self.words.len()).max(self.fixed_height)
    }

    /// The decoded instruction at `pc`, if the table has a valid row for it.
    pub fn instruction_at(&self, pc: u32) -> Option<Instruction> {
        self.rows
            .get(&pc)
            .and_then(|&row| self.words[row].instruction)
    }

    /// The multiplicity trace for fetches of `pcs` (one entry per fetch). Fails, naming the
    /// fetch, on a pc outside the executable segments or holding a word that does not decode.
    pub fn generate_trace<F: Field>(&self, pcs: &[u32]) -> Result<RowMajorMatrix<F>, TraceError> {
        for (index, &pc) in pcs.iter().enumerate() {
            match self.rows.get(&pc) {
                None => return Err(TraceError::FetchOutsideProgram { row: index, pc }),
                Some(&row) if self.words[row].instruction.is_none() => {
                    return Err(TraceError::FetchOfInvalidWord {
                        row: index,
                        pc,
                        word: self.words[row].word,
                    });
                }
                Some(&row) => {
                    if let Some(instruction) = self.words[row]
                        .instruction
                        .filter(|i| !is_provable(i.opcode))
                    {
                        return Err(TraceError::Unprovable {
                            row: index,
                            pc,
                            instruction: instruction.disassemble(pc),
                        });
                    }
                }
            }
        }
        Ok(self.fill_trace(pcs))
    }

    /// Counts the fetches of `pcs` without checking them: unknown pcs are skipped, fetches of
    /// invalid rows are counted (tests use this to forge witnesses).
    pub(crate) fn fill_trace<F: Field>(&self, pcs: &[u32]) -> RowMajorMatrix<F> {
        let mut counts = vec![0u32; self.height()];
        for pc in pcs {
            if let Some(&row) = self.rows.get(pc) {
                counts[row] += 1;
            }
        }
        RowMajorMatrix::new(counts.into_iter().map(F::from_u32).collect(), cols::WIDTH)
    }
}

impl<F: Field> BaseAir<F> for ProgramChip {
    fn width(&self) -> usize {
        cols::WIDTH
    }

    fn preprocessed_trace(&self) -> Option<RowMajorMatrix<F>> {
        let mut values = F::zero_vec(self.height() * prep::WIDTH);
        for (row, out) in values.chunks_exact_mut(prep::WIDTH).enumerate() {
            out[prep::OPCODE] = F::from_u8(INVALID_OPCODE);
            let Some(word) = self.words.get(row) else {
                continue;
            };
            out[prep::PC] = F::from_u32(word.pc);
            if let Some(instruction) = word.instruction.filter(|i| is_provable(i.opcode)) {
                for (cell, value) in out.iter_mut().zip(fetch_message(word.pc, &instruction)) {
                    *cell = F::from_u32(value);
                }
                out[prep::VALID] = F::ONE;
            }
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

impl<AB: PermutationAirBuilder + InteractionBuilder> Air<AB> for ProgramChip {
    fn eval(&self, builder: &mut AB) {
        let multiplicity: AB::Expr = builder.main().current_slice()[cols::MULTIPLICITY].into();
        let prep: Vec<AB::Expr> = builder
            .preprocessed()
            .current_slice()
            .iter()
            .map(|&v| v.into())
            .collect();
        // Rows without an instruction are never fetched.
        builder.assert_zero(multiplicity.clone() * (AB::Expr::ONE - prep[prep::VALID].clone()));
        PROGRAM_BUS.table_entry(
            builder,
            prep[..PROGRAM_MESSAGE_WIDTH].to_vec(),
            multiplicity,
        );
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use zkmips_executor::Opcode;

    use super::*;
    use crate::chips::testing::{FetchFixture, assert_rejected, prove_and_verify};
    use crate::config::Val;

    /// `addiu $v0, $zero, 5`.
    pub(crate) const ADDIU_V0_5: u32 = 0x2402_0005;
    /// `beql $zero, $zero, +8` (branch-likely, has a delay slot).
    pub(crate) const BEQL: u32 = 0x5000_0002;
    /// `sll $zero, $zero, 0` (nop).
    pub(crate) const NOP: u32 = 0;
    /// `syscall`.
    pub(crate) const SYSCALL: u32 = 0x0000_000c;
    /// Opcode 0x3f (a reserved primary opcode in MIPS32r2 user mode): does not decode.
    pub(crate) const UNDECODABLE: u32 = 0xfc00_0000;

    pub(crate) const TEXT: u32 = 0x0040_0000;

    /// A program whose text is `words` at `TEXT`, plus a writable data segment.
    pub(crate) fn program(words: &[u32]) -> Program {
        Program {
            phent: 32,
            phnum: 2,
            ..Program::from_code(TEXT, words).with_data_segment(0x0041_0000, 0x100, &[1, 2, 3, 4])
        }
    }

    fn chip() -> ProgramChip {
        ProgramChip::new(&program(&[ADDIU_V0_5, BEQL, NOP, UNDECODABLE, SYSCALL])).unwrap()
    }

    /// The pcs of the honest fetches: every valid word, some twice.
    fn fetches() -> Vec<u32> {
        vec![TEXT, TEXT + 4, TEXT + 8, TEXT + 16, TEXT, TEXT + 8]
    }

    #[test]
    fn table_holds_the_decoded_words() {
        let chip = chip();
        assert_eq!(chip.words().len(), 5);
        assert_eq!(chip.height(), 8);
        let beql = chip.instruction_at(TEXT + 4).unwrap();
        assert_eq!(beql.opcode, Opcode::Beql);
        let message = fetch_message(TEXT + 4, &beql);
        assert_eq!(
            &message[fetch::HAS_DELAY_SLOT..],
            &[1, 1],
            "beql has a delay slot and is likely"
        );
        assert_eq!(message[fetch::IS_BRANCH], 1);
        assert_eq!(
            message[fetch::IMM_LO] + (message[fetch::IMM_HI] << 16),
            TEXT + 4 + 4 + 8,
            "the table holds the absolute target"
        );
        assert_eq!(chip.instruction_at(TEXT + 12), None, "undecodable word");
        assert_eq!(chip.instruction_at(0x0041_0000), None, "data is not code");

        let table = <ProgramChip as BaseAir<Val>>::preprocessed_trace(&chip).unwrap();
        let row = |r: usize| table.values[r * prep::WIDTH..(r + 1) * prep::WIDTH].to_vec();
        let addiu = row(0);
        assert_eq!(addiu[prep::PC], Val::from_u32(TEXT));
        assert_eq!(addiu[prep::OPCODE], Val::from_u8(Opcode::Addiu as u8));
        assert_eq!(addiu[prep::DST], Val::from_u8(2));
        assert_eq!(addiu[prep::RS], Val::ZERO);
        assert_eq!(addiu[prep::READS_RS], Val::ONE);
        assert_eq!(addiu[prep::IS_ALU], Val::ONE);
        assert_eq!(addiu[prep::ALU_OP], Val::from_u8(AluOp::Addu as u8));
        assert_eq!(addiu[prep::IMM_LO], Val::from_u32(5));
        assert_eq!(addiu[prep::VALID], Val::ONE);
        let invalid = row(3);
        assert_eq!(invalid[prep::OPCODE], Val::from_u8(INVALID_OPCODE));
        assert_eq!(invalid[prep::VALID], Val::ZERO);
        let padding = row(7);
        assert_eq!(padding[prep::OPCODE], Val::from_u8(INVALID_OPCODE));
        assert_eq!(padding[prep::VALID], Val::ZERO);
    }

    #[test]
    fn bad_programs_and_fetches_are_errors() {
        let mut unaligned = program(&[NOP]);
        unaligned.segments[0].vaddr += 2;
        assert_eq!(
            ProgramChip::new(&unaligned).unwrap_err(),
            ProgramError::UnalignedSegment { vaddr: TEXT + 2 }
        );
        let mut high = program(&[NOP]);
        high.segments[0].vaddr = 0x7fff_0000;
        assert!(matches!(
            ProgramChip::new(&high),
            Err(ProgramError::CodeTooHigh { .. })
        ));
        let chip = chip();
        assert_eq!(
            chip.generate_trace::<Val>(&[TEXT, 0x0041_0000])
                .unwrap_err(),
            TraceError::FetchOutsideProgram {
                row: 1,
                pc: 0x0041_0000
            }
        );
        assert_eq!(
            chip.generate_trace::<Val>(&[TEXT + 12]).unwrap_err(),
            TraceError::FetchOfInvalidWord {
                row: 0,
                pc: TEXT + 12,
                word: UNDECODABLE
            }
        );
    }

    #[test]
    fn honest_fetches_verify() {
        prove_and_verify(&FetchFixture::new(chip(), &fetches()).tables())
            .expect("honest fetches must verify");
    }

    /// The fetcher claims the instruction of `TEXT + 4` sits at `TEXT`.
    #[test]
    fn wrong_pc_instruction_pair_is_rejected() {
        let chip = chip();
        let mut fixture = FetchFixture::new(chip.clone(), &fetches());
        let beql = chip.instruction_at(TEXT + 4).unwrap();
        fixture.set_fetch(0, fetch_message(TEXT, &beql));
        assert_rejected(&fixture.tables());
    }

    /// A register field changed in an otherwise honest fetch.
    #[test]
    fn wrong_instruction_field_is_rejected() {
        let chip = chip();
        let mut fixture = FetchFixture::new(chip.clone(), &fetches());
        let mut message = fetch_message(TEXT, &chip.instruction_at(TEXT).unwrap());
        message[prep::DST] = 3;
        fixture.set_fetch(0, message);
        assert_rejected(&fixture.tables());
    }

    /// A fetched branch-likely whose likely flag is dropped (it would make the CPU execute an
    /// annulled slot).
    #[test]
    fn wrong_flag_is_rejected() {
        let chip = chip();
        let mut fixture = FetchFixture::new(chip.clone(), &fetches());
        let mut message = fetch_message(TEXT + 4, &chip.instruction_at(TEXT + 4).unwrap());
        message[prep::IS_LIKELY] = 0;
        fixture.set_fetch(1, message);
        assert_rejected(&fixture.tables());
    }

    #[test]
    fn wrong_multiplicity_is_rejected() {
        let fixture = FetchFixture::new(chip(), &fetches());
        let mut tables = fixture.tables();
        tables[FetchFixture::PROGRAM].trace.values[2] += Val::ONE;
        assert_rejected(&tables);
        let mut tables = fixture.tables();
        tables[FetchFixture::PROGRAM].trace.values[0] -= Val::ONE;
        assert_rejected(&tables);
    }

    /// A pc of the data segment (whose word would decode) is not in the table.
    #[test]
    fn fetch_outside_the_program_is_rejected() {
        let mut fixture = FetchFixture::new(chip(), &fetches());
        let fake = decode(0x0403_0201).expect("the data word decodes");
        fixture.set_fetch(0, fetch_message(0x0041_0000, &fake));
        assert_rejected(&fixture.tables());
    }

    /// Fetching the undecodable word exactly as the table holds it, with the multiplicity to
    /// balance the bus: only `multiplicity * (1 - valid) = 0` stops it.
    #[test]
    fn fetch_of_an_invalid_row_is_rejected() {
        let mut fixture = FetchFixture::new(chip(), &fetches());
        let mut message = [0; PROGRAM_MESSAGE_WIDTH];
        message[prep::PC] = TEXT + 12;
        message[prep::OPCODE] = u32::from(INVALID_OPCODE);
        fixture.set_fetch(0, message);
        fixture.recount(&[TEXT + 12, TEXT + 4, TEXT + 8, TEXT + 16, TEXT, TEXT + 8]);
        assert_rejected(&fixture.tables());
    }

    /// Same for a padding row (pc 0).
    #[test]
    fn fetch_of_a_padding_row_is_rejected() {
        let mut fixture = FetchFixture::new(chip(), &fetches());
        let mut message = [0; PROGRAM_MESSAGE_WIDTH];
        message[prep::OPCODE] = u32::from(INVALID_OPCODE);
        fixture.set_fetch(0, message);
        let mut tables = fixture.tables();
        let program = &mut tables[FetchFixture::PROGRAM].trace.values;
        program[0] -= Val::ONE;
        program[7] += Val::ONE;
        assert_rejected(&tables);
    }
}
