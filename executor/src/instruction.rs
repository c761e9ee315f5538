//! MIPS32r2 instructions, decoded once at load time.
//!
//! Field conventions of [`Instruction`] (the decoder fills them so the executor never re-extracts bits):
//! - `rs`, `rt`, `rd`: register numbers from the word (0..=31); `sa`: the 5-bit shift amount.
//! - `imm`:
//!   - ADDI/ADDIU/SLTI/SLTIU, loads/stores, LL/SC, PREF, trap-immediates: the 16-bit immediate sign-extended.
//!   - ANDI/ORI/XORI: zero-extended. LUI: `imm16 << 16`.
//!   - Conditional branches (incl. branch-likely, BAL, BC1T/F): the sign-extended offset `<< 2`; target =
//!     `pc + 4 + imm`.
//!   - J/JAL: `instr_index << 2`; target = `((pc + 4) & 0xf000_0000) | imm`.
//!   - TEQ/TNE/TGE/TGEU/TLT/TLTU: the 10-bit code; BREAK/SYSCALL: the 20-bit code.
//! - EXT: `sa` = pos, `rd` = size (msbd + 1). INS: `sa` = pos (lsb), `rd` = size (msb - lsb + 1).
//! - RDHWR: `rt` = destination, `rd` = hardware register number.
//! - COP1 moves/loads/stores: `rt` = GPR (or base in `rs` for loads/stores), `rd` = FPU register `fs`/`ft`
//!   as the manual names it; FpuArith keeps everything in `word`.
//! - `word`: the original instruction word, for error messages and the slow FPU path.
//!
//! Fields a form does not use are 0, so equal operations compare equal. In detail:
//! - Linking forms (JAL, BLTZAL, BGEZAL, BLTZALL, BGEZALL) carry `rd = 31`, the register they write, like
//!   JALR carries its `rd`.
//! - REGIMM forms (BLTZ..BGEZALL, the trap-immediates, SYNCI) have `rt = 0`: that field is a sub-opcode.
//! - JR/JALR: `sa` = the hint field (16 for the `.hb` forms). SYNC: `sa` = stype. PREF: `sa` = hint.
//! - SEB/SEH/WSBH: `rt` = source, `rd` = destination, `sa = 0`. ROTR: `rs = 0`. ROTRV: `sa = 0`.
//! - CLZ/CLO: `rd` = destination (`rt` repeats it, as the encoding requires).
//! - LWC1/LDC1/SWC1/SDC1: `rs` = base, `rd` = ft, `rt = 0`. CFC1/CTC1: `rd` = FPU control register.
//! - BC1F/BC1T/BC1FL/BC1TL: `sa` = the condition code (0..=7).
//! - FpuArith (COP1 arithmetic, MOVF/MOVT, COP1X): the operation lives in `word`; the register fields
//!   only name the GPRs it touches: MOVF/MOVT `rs` = source, `rd` = destination; the COP1X indexed
//!   loads/stores and PREFX `rs` = base, `rt` = index. Everything else is 0.

use core::fmt;

/// Every operation the executor understands. `#[repr(u8)]` so the prover can use it as a column value.
#[rustfmt::skip]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[repr(u8)]
pub enum Opcode {
    // ALU, register form
    Add, Addu, Sub, Subu, And, Or, Xor, Nor, Slt, Sltu,
    Sll, Srl, Sra, Sllv, Srlv, Srav, Rotr, Rotrv,
    Movz, Movn, Clz, Clo, Seb, Seh, Wsbh, Ext, Ins,
    // ALU, immediate form
    Addi, Addiu, Slti, Sltiu, Andi, Ori, Xori, Lui,
    // multiply / divide / HI-LO
    Mul, Mult, Multu, Madd, Maddu, Msub, Msubu, Div, Divu, Mfhi, Mflo, Mthi, Mtlo,
    // branches and jumps (all have a delay slot)
    Beq, Bne, Blez, Bgtz, Bltz, Bgez, Bltzal, Bgezal,
    Beql, Bnel, Blezl, Bgtzl, Bltzl, Bgezl, Bltzall, Bgezall,
    J, Jal, Jr, Jalr,
    // loads / stores
    Lb, Lbu, Lh, Lhu, Lw, Lwl, Lwr, Ll, Sb, Sh, Sw, Swl, Swr, Sc,
    // traps
    Teq, Tne, Tge, Tgeu, Tlt, Tltu, Teqi, Tnei, Tgei, Tgeiu, Tlti, Tltiu, Break,
    // system
    Syscall, Sync, Synci, Pref, Rdhwr,
    // COP1 (FPU): executed so unmodified static glibc binaries run, never provable.
    Lwc1, Swc1, Ldc1, Sdc1, Mfc1, Mtc1, Mfhc1, Mthc1, Cfc1, Ctc1, Bc1f, Bc1t, Bc1fl, Bc1tl, FpuArith,
}

impl Opcode {
    /// Every opcode in declaration order, so `Opcode::ALL[op as usize] == op`.
    #[rustfmt::skip]
    pub const ALL: [Opcode; 115] = {
        use Opcode::*;
        [
            Add, Addu, Sub, Subu, And, Or, Xor, Nor, Slt, Sltu, Sll, Srl, Sra, Sllv, Srlv, Srav, Rotr,
            Rotrv, Movz, Movn, Clz, Clo, Seb, Seh, Wsbh, Ext, Ins, Addi, Addiu, Slti, Sltiu, Andi, Ori,
            Xori, Lui, Mul, Mult, Multu, Madd, Maddu, Msub, Msubu, Div, Divu, Mfhi, Mflo, Mthi, Mtlo,
            Beq, Bne, Blez, Bgtz, Bltz, Bgez, Bltzal, Bgezal, Beql, Bnel, Blezl, Bgtzl, Bltzl, Bgezl,
            Bltzall, Bgezall, J, Jal, Jr, Jalr, Lb, Lbu, Lh, Lhu, Lw, Lwl, Lwr, Ll, Sb, Sh, Sw, Swl,
            Swr, Sc, Teq, Tne, Tge, Tgeu, Tlt, Tltu, Teqi, Tnei, Tgei, Tgeiu, Tlti, Tltiu, Break,
            Syscall, Sync, Synci, Pref, Rdhwr, Lwc1, Swc1, Ldc1, Sdc1, Mfc1, Mtc1, Mfhc1, Mthc1, Cfc1,
            Ctc1, Bc1f, Bc1t, Bc1fl, Bc1tl, FpuArith,
        ]
    };
}

/// A decoded instruction. See the module docs for what each field holds per opcode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Instruction {
    pub opcode: Opcode,
    pub rs: u8,
    pub rt: u8,
    pub rd: u8,
    pub sa: u8,
    pub imm: u32,
    pub word: u32,
}

/// A word that is not a MIPS32r2 user-mode instruction this machine implements: a reserved encoding, a
/// field the manual requires to be zero that is not, an UNPREDICTABLE operand combination, or a privileged
/// or unsupported extension (COP0, COP2, paired single, MIPS16e, DSP, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot decode instruction word {word:#010x}: {reason}")]
pub struct DecodeError {
    pub word: u32,
    pub reason: &'static str,
}

/// What kind of work an opcode does; the executor and the prover group opcodes by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InstrClass {
    /// Integer computation into a GPR with no memory access and no control flow: register and immediate
    /// arithmetic/logic, shifts and rotates, set-on-less-than, MOVZ/MOVN, CLZ/CLO, SEB/SEH/WSBH, EXT/INS,
    /// LUI.
    Alu,
    /// The multiplier/divider: MUL (GPR result), MULT(U), MADD(U), MSUB(U), DIV(U) and the HI/LO moves
    /// MFHI/MFLO/MTHI/MTLO.
    MulDiv,
    /// PC-relative conditional branches, including the branch-likely and linking (BLTZAL/BGEZAL) forms.
    Branch,
    /// Unconditional jumps: J/JAL (region-absolute) and JR/JALR (register).
    Jump,
    /// Integer loads: LB/LBU/LH/LHU/LW, the unaligned LWL/LWR and LL.
    Load,
    /// Integer stores: SB/SH/SW, the unaligned SWL/SWR and SC (which also writes `rt`).
    Store,
    /// Instructions that may stop the machine with a trap: the conditional traps and BREAK.
    Trap,
    /// SYSCALL, and instructions that only matter to a multi-core or cached machine (SYNC, SYNCI, PREF)
    /// or read machine state (RDHWR).
    System,
    /// Anything touching coprocessor 1 (the FPU): loads/stores, moves, BC1 branches, arithmetic. Executed
    /// on a slow path so unmodified glibc runs, never provable.
    Fpu,
}

impl Opcode {
    /// The [`InstrClass`] of this opcode.
    pub fn class(self) -> InstrClass {
        use Opcode::*;
        match self {
            Add | Addu | Sub | Subu | And | Or | Xor | Nor | Slt | Sltu | Sll | Srl | Sra
            | Sllv | Srlv | Srav | Rotr | Rotrv | Movz | Movn | Clz | Clo | Seb | Seh | Wsbh
            | Ext | Ins | Addi | Addiu | Slti | Sltiu | Andi | Ori | Xori | Lui => InstrClass::Alu,
            Mul | Mult | Multu | Madd | Maddu | Msub | Msubu | Div | Divu | Mfhi | Mflo | Mthi
            | Mtlo => InstrClass::MulDiv,
            Beq | Bne | Blez | Bgtz | Bltz | Bgez | Bltzal | Bgezal | Beql | Bnel | Blezl
            | Bgtzl | Bltzl | Bgezl | Bltzall | Bgezall => InstrClass::Branch,
            J | Jal | Jr | Jalr => InstrClass::Jump,
            Lb | Lbu | Lh | Lhu | Lw | Lwl | Lwr | Ll => InstrClass::Load,
            Sb | Sh | Sw | Swl | Swr | Sc => InstrClass::Store,
            Teq | Tne | Tge | Tgeu | Tlt | Tltu | Teqi | Tnei | Tgei | Tgeiu | Tlti | Tltiu
            | Break => InstrClass::Trap,
            Syscall | Sync | Synci | Pref | Rdhwr => InstrClass::System,
            Lwc1 | Swc1 | Ldc1 | Sdc1 | Mfc1 | Mtc1 | Mfhc1 | Mthc1 | Cfc1 | Ctc1 | Bc1f | Bc1t
            | Bc1fl | Bc1tl | FpuArith => InstrClass::Fpu,
        }
    }

    /// Whether the opcode transfers control and so has a delay slot (every branch and jump, including the
    /// FPU branches BC1F/BC1T and their likely forms).
    pub fn is_branch_or_jump(self) -> bool {
        matches!(self.class(), InstrClass::Branch | InstrClass::Jump)
            || matches!(
                self,
                Opcode::Bc1f | Opcode::Bc1t | Opcode::Bc1fl | Opcode::Bc1tl
            )
    }

    /// Whether the opcode is a branch-likely: its delay slot is annulled (not executed) when the branch is
    /// not taken.
    pub fn is_likely(self) -> bool {
        use Opcode::*;
        matches!(
            self,
            Beql | Bnel | Blezl | Bgtzl | Bltzl | Bgezl | Bltzall | Bgezall | Bc1fl | Bc1tl
        )
    }

    /// The mnemonic as `objdump -d -M no-aliases` prints it (so ROTR/ROTRV are `ror`/`rorv`, binutils'
    /// canonical names). FpuArith covers many operations and answers `cop1`; [`Instruction`]'s `Display`
    /// names the actual operation.
    pub fn mnemonic(self) -> &'static str {
        use Opcode::*;
        match self {
            Add => "add",
            Addu => "addu",
            Sub => "sub",
            Subu => "subu",
            And => "and",
            Or => "or",
            Xor => "xor",
            Nor => "nor",
            Slt => "slt",
            Sltu => "sltu",
            Sll => "sll",
            Srl => "srl",
            Sra => "sra",
            Sllv => "sllv",
            Srlv => "srlv",
            Srav => "srav",
            Rotr => "ror",
            Rotrv => "rorv",
            Movz => "movz",
            Movn => "movn",
            Clz => "clz",
            Clo => "clo",
            Seb => "seb",
            Seh => "seh",
            Wsbh => "wsbh",
            Ext => "ext",
            Ins => "ins",
            Addi => "addi",
            Addiu => "addiu",
            Slti => "slti",
            Sltiu => "sltiu",
            Andi => "andi",
            Ori => "ori",
            Xori => "xori",
            Lui => "lui",
            Mul => "mul",
            Mult => "mult",
            Multu => "multu",
            Madd => "madd",
            Maddu => "maddu",
            Msub => "msub",
            Msubu => "msubu",
            Div => "div",
            Divu => "divu",
            Mfhi => "mfhi",
            Mflo => "mflo",
            Mthi => "mthi",
            Mtlo => "mtlo",
            Beq => "beq",
            Bne => "bne",
            Blez => "blez",
            Bgtz => "bgtz",
            Bltz => "bltz",
            Bgez => "bgez",
            Bltzal => "bltzal",
            Bgezal => "bgezal",
            Beql => "beql",
            Bnel => "bnel",
            Blezl => "blezl",
            Bgtzl => "bgtzl",
            Bltzl => "bltzl",
            Bgezl => "bgezl",
            Bltzall => "bltzall",
            Bgezall => "bgezall",
            J => "j",
            Jal => "jal",
            Jr => "jr",
            Jalr => "jalr",
            Lb => "lb",
            Lbu => "lbu",
            Lh => "lh",
            Lhu => "lhu",
            Lw => "lw",
            Lwl => "lwl",
            Lwr => "lwr",
            Ll => "ll",
            Sb => "sb",
            Sh => "sh",
            Sw => "sw",
            Swl => "swl",
            Swr => "swr",
            Sc => "sc",
            Teq => "teq",
            Tne => "tne",
            Tge => "tge",
            Tgeu => "tgeu",
            Tlt => "tlt",
            Tltu => "tltu",
            Teqi => "teqi",
            Tnei => "tnei",
            Tgei => "tgei",
            Tgeiu => "tgeiu",
            Tlti => "tlti",
            Tltiu => "tltiu",
            Break => "break",
            Syscall => "syscall",
            Sync => "sync",
            Synci => "synci",
            Pref => "pref",
            Rdhwr => "rdhwr",
            Lwc1 => "lwc1",
            Swc1 => "swc1",
            Ldc1 => "ldc1",
            Sdc1 => "sdc1",
            Mfc1 => "mfc1",
            Mtc1 => "mtc1",
            Mfhc1 => "mfhc1",
            Mthc1 => "mthc1",
            Cfc1 => "cfc1",
            Ctc1 => "ctc1",
            Bc1f => "bc1f",
            Bc1t => "bc1t",
            Bc1fl => "bc1fl",
            Bc1tl => "bc1tl",
            FpuArith => "cop1",
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------------------

/// The raw bit fields of a word, named as in the manual's R/I/J formats.
#[derive(Clone, Copy)]
struct Fields {
    op: u32,
    rs: u8,
    rt: u8,
    rd: u8,
    sa: u8,
    funct: u32,
    imm16: u32,
}

impl Fields {
    fn of(word: u32) -> Self {
        Fields {
            op: word >> 26,
            rs: ((word >> 21) & 31) as u8,
            rt: ((word >> 16) & 31) as u8,
            rd: ((word >> 11) & 31) as u8,
            sa: ((word >> 6) & 31) as u8,
            funct: word & 0x3f,
            imm16: word & 0xffff,
        }
    }

    fn simm(self) -> u32 {
        self.imm16 as u16 as i16 as i32 as u32
    }

    fn branch_offset(self) -> u32 {
        self.simm() << 2
    }
}

/// FPU formats (the `fmt` field of COP1 arithmetic).
const FMT_S: u8 = 0x10;
const FMT_D: u8 = 0x11;
const FMT_W: u8 = 0x14;
const FMT_L: u8 = 0x15;

/// The FPU control registers MIPS32r2 defines: FIR, FCCR, FEXR, FENR, FCSR.
const FCR_FIR: u8 = 0;
fn is_defined_fcr(fs: u8) -> bool {
    matches!(fs, 0 | 25 | 26 | 28 | 31)
}

/// Decode one instruction word (little-endian user mode, MIPS32 Release 2).
pub fn decode(word: u32) -> Result<Instruction, DecodeError> {
    Decoder {
        word,
        f: Fields::of(word),
    }
    .decode()
}

struct Decoder {
    word: u32,
    f: Fields,
}

impl Decoder {
    fn err<T>(&self, reason: &'static str) -> Result<T, DecodeError> {
        Err(DecodeError {
            word: self.word,
            reason,
        })
    }

    fn ins(&self, opcode: Opcode) -> Instruction {
        Instruction {
            opcode,
            rs: 0,
            rt: 0,
            rd: 0,
            sa: 0,
            imm: 0,
            word: self.word,
        }
    }

    /// Three-register form `rd = rs op rt`; `sa` must be zero.
    fn r3(&self, opcode: Opcode) -> Result<Instruction, DecodeError> {
        if self.f.sa != 0 {
            return self.err("shift-amount field must be zero");
        }
        Ok(Instruction {
            rs: self.f.rs,
            rt: self.f.rt,
            rd: self.f.rd,
            ..self.ins(opcode)
        })
    }

    /// `rs`/`rt` into HI/LO (MULT, DIV, MADD, ...): `rd` and `sa` must be zero.
    fn hilo_op(&self, opcode: Opcode) -> Result<Instruction, DecodeError> {
        if self.f.rd != 0 || self.f.sa != 0 {
            return self.err("rd and shift-amount fields must be zero");
        }
        Ok(Instruction {
            rs: self.f.rs,
            rt: self.f.rt,
            ..self.ins(opcode)
        })
    }

    /// I-type with a sign-extended immediate (ALU immediates, loads, stores).
    fn imm_signed(&self, opcode: Opcode) -> Instruction {
        Instruction {
            rs: self.f.rs,
            rt: self.f.rt,
            imm: self.f.simm(),
            ..self.ins(opcode)
        }
    }

    fn imm_zero_ext(&self, opcode: Opcode) -> Instruction {
        Instruction {
            rs: self.f.rs,
            rt: self.f.rt,
            imm: self.f.imm16,
            ..self.ins(opcode)
        }
    }

    /// BEQ/BNE and likely forms: two registers.
    fn branch2(&self, opcode: Opcode) -> Instruction {
        Instruction {
            rs: self.f.rs,
            rt: self.f.rt,
            imm: self.f.branch_offset(),
            ..self.ins(opcode)
        }
    }

    /// BLEZ/BGTZ and likely forms: `rt` must be zero.
    fn branch1(&self, opcode: Opcode) -> Result<Instruction, DecodeError> {
        if self.f.rt != 0 {
            return self.err("rt field of BLEZ/BGTZ must be zero");
        }
        Ok(Instruction {
            rs: self.f.rs,
            imm: self.f.branch_offset(),
            ..self.ins(opcode)
        })
    }

    fn decode(&self) -> Result<Instruction, DecodeError> {
        use Opcode::*;
        let f = self.f;
        Ok(match f.op {
            0x00 => return self.special(),
            0x01 => return self.regimm(),
            0x02 => Instruction {
                imm: (self.word & 0x03ff_ffff) << 2,
                ..self.ins(J)
            },
            0x03 => Instruction {
                rd: 31,
                imm: (self.word & 0x03ff_ffff) << 2,
                ..self.ins(Jal)
            },
            0x04 => self.branch2(Beq),
            0x05 => self.branch2(Bne),
            0x06 => return self.branch1(Blez),
            0x07 => return self.branch1(Bgtz),
            0x08 => self.imm_signed(Addi),
            0x09 => self.imm_signed(Addiu),
            0x0a => self.imm_signed(Slti),
            0x0b => self.imm_signed(Sltiu),
            0x0c => self.imm_zero_ext(Andi),
            0x0d => self.imm_zero_ext(Ori),
            0x0e => self.imm_zero_ext(Xori),
            0x0f => {
                if f.rs != 0 {
                    return self.err("rs field of LUI must be zero");
                }
                Instruction {
                    rt: f.rt,
                    imm: f.imm16 << 16,
                    ..self.ins(Lui)
                }
            }
            0x10 => return self.err("COP0 instructions are privileged"),
            0x11 => return self.cop1(),
            0x12 => return self.err("COP2 instructions are not supported"),
            0x13 => return self.cop1x(),
            0x14 => self.branch2(Beql),
            0x15 => self.branch2(Bnel),
            0x16 => return self.branch1(Blezl),
            0x17 => return self.branch1(Bgtzl),
            0x1c => return self.special2(),
            0x1d => return self.err("JALX (switch to MIPS16e/microMIPS) is not supported"),
            0x1e => return self.err("MSA and MDMX instructions are not supported"),
            0x1f => return self.special3(),
            0x20 => self.imm_signed(Lb),
            0x21 => self.imm_signed(Lh),
            0x22 => self.imm_signed(Lwl),
            0x23 => self.imm_signed(Lw),
            0x24 => self.imm_signed(Lbu),
            0x25 => self.imm_signed(Lhu),
            0x26 => self.imm_signed(Lwr),
            0x28 => self.imm_signed(Sb),
            0x29 => self.imm_signed(Sh),
            0x2a => self.imm_signed(Swl),
            0x2b => self.imm_signed(Sw),
            0x2e => self.imm_signed(Swr),
            0x2f => return self.err("CACHE is privileged"),
            0x30 => self.imm_signed(Ll),
            0x31 => self.fpu_mem(Lwc1),
            0x33 => Instruction {
                rs: f.rs,
                sa: f.rt,
                imm: f.simm(),
                ..self.ins(Pref)
            },
            0x35 => self.fpu_mem(Ldc1),
            0x38 => self.imm_signed(Sc),
            0x39 => self.fpu_mem(Swc1),
            0x3d => self.fpu_mem(Sdc1),
            0x32 | 0x36 | 0x3a | 0x3e => {
                return self.err("COP2 loads and stores are not supported");
            }
            _ => return self.err("reserved primary opcode"),
        })
    }

    fn special(&self) -> Result<Instruction, DecodeError> {
        use Opcode::*;
        let f = self.f;
        let shift_imm = |opcode| Instruction {
            rt: f.rt,
            rd: f.rd,
            sa: f.sa,
            ..self.ins(opcode)
        };
        let shift_var = |opcode| Instruction {
            rs: f.rs,
            rt: f.rt,
            rd: f.rd,
            ..self.ins(opcode)
        };
        Ok(match f.funct {
            0x00 if f.rs == 0 => shift_imm(Sll),
            0x02 if f.rs == 0 => shift_imm(Srl),
            // Release 2 reuses bit 21 (the low bit of the rs field) to turn SRL into ROTR.
            0x02 if f.rs == 1 => shift_imm(Rotr),
            0x03 if f.rs == 0 => shift_imm(Sra),
            0x00 | 0x02 | 0x03 => {
                return self.err("rs field of SLL/SRL/ROTR/SRA must be zero (bit 21 selects ROTR)");
            }
            0x01 => {
                // MOVF/MOVT: rt holds cc (bits 20..18), a zero bit and tf (bit 16).
                if f.sa != 0 || f.rt & 2 != 0 {
                    return self.err("bits 17 and 10..6 of MOVF/MOVT must be zero");
                }
                Instruction {
                    rs: f.rs,
                    rd: f.rd,
                    ..self.ins(FpuArith)
                }
            }
            0x04 if f.sa == 0 => shift_var(Sllv),
            0x06 if f.sa == 0 => shift_var(Srlv),
            // Likewise bit 6 (the low bit of the sa field) turns SRLV into ROTRV.
            0x06 if f.sa == 1 => shift_var(Rotrv),
            0x07 if f.sa == 0 => shift_var(Srav),
            0x04 | 0x06 | 0x07 => {
                return self.err(
                    "shift-amount field of SLLV/SRLV/ROTRV/SRAV must be zero (bit 6 selects ROTRV)",
                );
            }
            0x08 | 0x09 => {
                let opcode = if f.funct == 0x08 { Jr } else { Jalr };
                // Bits 10..6 hold the hint: 0, or 16 for the .HB (hazard barrier) form; the rest are reserved.
                if f.rt != 0 || (opcode == Jr && f.rd != 0) {
                    return self.err("unused register fields of JR/JALR must be zero");
                }
                if f.sa != 0 && f.sa != 16 {
                    return self.err("reserved JR/JALR hint");
                }
                if opcode == Jalr && f.rs == f.rd {
                    return self.err("JALR with rs == rd is UNPREDICTABLE");
                }
                Instruction {
                    rs: f.rs,
                    rd: f.rd,
                    sa: f.sa,
                    ..self.ins(opcode)
                }
            }
            0x0a => return self.r3(Movz),
            0x0b => return self.r3(Movn),
            0x0c => Instruction {
                imm: (self.word >> 6) & 0xf_ffff,
                ..self.ins(Syscall)
            },
            0x0d => Instruction {
                imm: (self.word >> 6) & 0xf_ffff,
                ..self.ins(Break)
            },
            0x0f => {
                if (self.word >> 11) & 0x7fff != 0 {
                    return self.err("bits 25..11 of SYNC must be zero");
                }
                Instruction {
                    sa: f.sa,
                    ..self.ins(Sync)
                }
            }
            0x10 | 0x12 => {
                if f.rs != 0 || f.rt != 0 || f.sa != 0 {
                    return self.err("rs, rt and shift-amount fields of MFHI/MFLO must be zero");
                }
                Instruction {
                    rd: f.rd,
                    ..self.ins(if f.funct == 0x10 { Mfhi } else { Mflo })
                }
            }
            0x11 | 0x13 => {
                if f.rt != 0 || f.rd != 0 || f.sa != 0 {
                    return self.err("rt, rd and shift-amount fields of MTHI/MTLO must be zero");
                }
                Instruction {
                    rs: f.rs,
                    ..self.ins(if f.funct == 0x11 { Mthi } else { Mtlo })
                }
            }
            0x18 => return self.hilo_op(Mult),
            0x19 => return self.hilo_op(Multu),
            0x1a => return self.hilo_op(Div),
            0x1b => return self.hilo_op(Divu),
            0x20 => return self.r3(Add),
            0x21 => return self.r3(Addu),
            0x22 => return self.r3(Sub),
            0x23 => return self.r3(Subu),
            0x24 => return self.r3(And),
            0x25 => return self.r3(Or),
            0x26 => return self.r3(Xor),
            0x27 => return self.r3(Nor),
            0x2a => return self.r3(Slt),
            0x2b => return self.r3(Sltu),
            0x30..=0x34 | 0x36 => {
                let opcode = match f.funct {
                    0x30 => Tge,
                    0x31 => Tgeu,
                    0x32 => Tlt,
                    0x33 => Tltu,
                    0x34 => Teq,
                    _ => Tne,
                };
                Instruction {
                    rs: f.rs,
                    rt: f.rt,
                    imm: (self.word >> 6) & 0x3ff,
                    ..self.ins(opcode)
                }
            }
            _ => return self.err("reserved SPECIAL function"),
        })
    }

    fn regimm(&self) -> Result<Instruction, DecodeError> {
        use Opcode::*;
        let f = self.f;
        let branch = |opcode| Instruction {
            rs: f.rs,
            imm: f.branch_offset(),
            ..self.ins(opcode)
        };
        let branch_link = |opcode| Instruction {
            rd: 31,
            ..branch(opcode)
        };
        let trap = |opcode| Instruction {
            rs: f.rs,
            imm: f.simm(),
            ..self.ins(opcode)
        };
        Ok(match f.rt {
            0x00 => branch(Bltz),
            0x01 => branch(Bgez),
            0x02 => branch(Bltzl),
            0x03 => branch(Bgezl),
            0x08 => trap(Tgei),
            0x09 => trap(Tgeiu),
            0x0a => trap(Tlti),
            0x0b => trap(Tltiu),
            0x0c => trap(Teqi),
            0x0e => trap(Tnei),
            0x10 => branch_link(Bltzal),
            0x11 => branch_link(Bgezal),
            0x12 => branch_link(Bltzall),
            0x13 => branch_link(Bgezall),
            0x1f => Instruction {
                rs: f.rs,
                imm: f.simm(),
                ..self.ins(Synci)
            },
            _ => return self.err("reserved REGIMM function"),
        })
    }

    fn special2(&self) -> Result<Instruction, DecodeError> {
        use Opcode::*;
        let f = self.f;
        match f.funct {
            0x00 => self.hilo_op(Madd),
            0x01 => self.hilo_op(Maddu),
            0x02 => self.r3(Mul),
            0x04 => self.hilo_op(Msub),
            0x05 => self.hilo_op(Msubu),
            0x20 | 0x21 => {
                if f.sa != 0 {
                    return self.err("shift-amount field of CLZ/CLO must be zero");
                }
                // The manual requires rt == rd (a MIPS64 compatibility artefact); anything else is
                // UNPREDICTABLE, so refuse it rather than guess.
                if f.rt != f.rd {
                    return self.err("CLZ/CLO with rt != rd is UNPREDICTABLE");
                }
                let opcode = if f.funct == 0x20 { Clz } else { Clo };
                Ok(Instruction {
                    rs: f.rs,
                    rt: f.rt,
                    rd: f.rd,
                    ..self.ins(opcode)
                })
            }
            0x3f => self.err("SDBBP is a debug instruction"),
            _ => self.err("reserved SPECIAL2 function"),
        }
    }

    fn special3(&self) -> Result<Instruction, DecodeError> {
        use Opcode::*;
        let f = self.f;
        match f.funct {
            0x00 => {
                let (msbd, lsb) = (f.rd, f.sa);
                if lsb + msbd > 31 {
                    return self.err("EXT with pos + size > 32 is UNPREDICTABLE");
                }
                Ok(Instruction {
                    rs: f.rs,
                    rt: f.rt,
                    rd: msbd + 1,
                    sa: lsb,
                    ..self.ins(Ext)
                })
            }
            0x04 => {
                let (msb, lsb) = (f.rd, f.sa);
                if msb < lsb {
                    return self.err("INS with msb < lsb is UNPREDICTABLE");
                }
                Ok(Instruction {
                    rs: f.rs,
                    rt: f.rt,
                    rd: msb - lsb + 1,
                    sa: lsb,
                    ..self.ins(Ins)
                })
            }
            0x20 => {
                if f.rs != 0 {
                    return self.err("rs field of SEB/SEH/WSBH must be zero");
                }
                let opcode = match f.sa {
                    0x02 => Wsbh,
                    0x10 => Seb,
                    0x18 => Seh,
                    _ => return self.err("reserved BSHFL function"),
                };
                Ok(Instruction {
                    rt: f.rt,
                    rd: f.rd,
                    ..self.ins(opcode)
                })
            }
            0x3b => {
                if f.rs != 0 || f.sa != 0 {
                    return self.err("rs and shift-amount fields of RDHWR must be zero");
                }
                // 0 CPUNum, 1 SYNCI_Step, 2 CC, 3 CCRes, 29 UserLocal; 4..=28 are reserved and 30/31 are
                // implementation-dependent registers this machine does not have.
                if !matches!(f.rd, 0..=3 | 29) {
                    return self.err("RDHWR of a reserved hardware register");
                }
                Ok(Instruction {
                    rt: f.rt,
                    rd: f.rd,
                    ..self.ins(Rdhwr)
                })
            }
            _ => self.err("reserved or unsupported SPECIAL3 function"),
        }
    }

    fn fpu_mem(&self, opcode: Opcode) -> Instruction {
        Instruction {
            rs: self.f.rs,
            rd: self.f.rt,
            imm: self.f.simm(),
            ..self.ins(opcode)
        }
    }

    /// COP1X: indexed FPU loads/stores, PREFX and the (unfused) multiply-add family. All become
    /// `FpuArith` (the FPU slow path reads its operands from the word); the indexed forms also carry their
    /// GPRs, base in `rs` and index in `rt`.
    fn cop1x(&self) -> Result<Instruction, DecodeError> {
        cop1x_form(self.word).map_err(|reason| DecodeError {
            word: self.word,
            reason,
        })?;
        let indexed = self.f.funct < 0x10;
        Ok(Instruction {
            rs: if indexed { self.f.rs } else { 0 },
            rt: if indexed { self.f.rt } else { 0 },
            ..self.ins(Opcode::FpuArith)
        })
    }

    fn cop1(&self) -> Result<Instruction, DecodeError> {
        use Opcode::*;
        let f = self.f;
        let low11_clear = self.word & 0x7ff == 0;
        let mov = |opcode| -> Result<Instruction, DecodeError> {
            if !low11_clear {
                return self.err("bits 10..0 of an FPU move must be zero");
            }
            Ok(Instruction {
                rt: f.rt,
                rd: f.rd,
                ..self.ins(opcode)
            })
        };
        match f.rs {
            0x00 => mov(Mfc1),
            0x03 => mov(Mfhc1),
            0x04 => mov(Mtc1),
            0x07 => mov(Mthc1),
            0x02 | 0x06 => {
                let writes = f.rs == 0x06;
                if !is_defined_fcr(f.rd) || (writes && f.rd == FCR_FIR) {
                    return self.err(
                        "CFC1/CTC1 of an undefined (or, for CTC1, read-only) FPU control register",
                    );
                }
                mov(if writes { Ctc1 } else { Cfc1 })
            }
            0x08 => {
                let likely = self.word & (1 << 17) != 0;
                let on_true = self.word & (1 << 16) != 0;
                let opcode = match (likely, on_true) {
                    (false, false) => Bc1f,
                    (false, true) => Bc1t,
                    (true, false) => Bc1fl,
                    (true, true) => Bc1tl,
                };
                Ok(Instruction {
                    sa: f.rt >> 2,
                    imm: f.branch_offset(),
                    ..self.ins(opcode)
                })
            }
            FMT_S | FMT_D | FMT_W | FMT_L => {
                fpu_arith_form(self.word).map_err(|reason| DecodeError {
                    word: self.word,
                    reason,
                })?;
                Ok(self.ins(FpuArith))
            }
            0x16 => self.err("paired-single FPU instructions are not supported"),
            0x09 | 0x0a => self.err("MIPS-3D FPU branches are not supported"),
            _ => self.err("reserved COP1 format"),
        }
    }
}

/// The operands of an FPU arithmetic instruction, for validation and disassembly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FpuOperands {
    /// `fd, fs, ft`
    Three { fd: u8, fs: u8, ft: u8 },
    /// `fd, fs`
    Two { fd: u8, fs: u8 },
    /// C.cond.fmt: `cc, fs, ft`
    Compare { cc: u8, fs: u8, ft: u8 },
    /// MOVF.fmt/MOVT.fmt: `fd, fs, cc`
    MoveOnCc { fd: u8, fs: u8, cc: u8 },
    /// MOVZ.fmt/MOVN.fmt: `fd, fs, rt` (rt is a GPR)
    MoveOnGpr { fd: u8, fs: u8, rt: u8 },
}

/// A validated FPU arithmetic word: operation name (without the format), format letter and operands.
struct FpuArithForm {
    name: &'static str,
    fmt: &'static str,
    operands: FpuOperands,
}

const FPU_COMPARE_CONDITIONS: [&str; 16] = [
    "c.f", "c.un", "c.eq", "c.ueq", "c.olt", "c.ult", "c.ole", "c.ule", "c.sf", "c.ngle", "c.seq",
    "c.ngl", "c.lt", "c.nge", "c.le", "c.ngt",
];

/// Check an FPU arithmetic word (COP1, fmt S/D/W/L) against the MIPS32r2 encoding tables.
fn fpu_arith_form(word: u32) -> Result<FpuArithForm, &'static str> {
    let f = Fields::of(word);
    let (fmt_code, ft, fs, fd) = (f.rs, f.rt, f.rd, f.sa);
    let fmt = match fmt_code {
        FMT_S => "s",
        FMT_D => "d",
        FMT_W => "w",
        FMT_L => "l",
        _ => return Err("reserved COP1 format"),
    };
    let two = |name| {
        if ft != 0 {
            Err("ft field of a one-operand FPU instruction must be zero")
        } else {
            Ok(FpuArithForm {
                name,
                fmt,
                operands: FpuOperands::Two { fd, fs },
            })
        }
    };
    if fmt_code == FMT_W || fmt_code == FMT_L {
        // Fixed-point formats only convert to floating point.
        return match f.funct {
            0x20 => two("cvt.s"),
            0x21 => two("cvt.d"),
            _ => Err("reserved FPU function for format W/L"),
        };
    }
    let is_double = fmt_code == FMT_D;
    let three = |name| {
        Ok(FpuArithForm {
            name,
            fmt,
            operands: FpuOperands::Three { fd, fs, ft },
        })
    };
    match f.funct {
        0x00 => three("add"),
        0x01 => three("sub"),
        0x02 => three("mul"),
        0x03 => three("div"),
        0x04 => two("sqrt"),
        0x05 => two("abs"),
        0x06 => two("mov"),
        0x07 => two("neg"),
        0x08 => two("round.l"),
        0x09 => two("trunc.l"),
        0x0a => two("ceil.l"),
        0x0b => two("floor.l"),
        0x0c => two("round.w"),
        0x0d => two("trunc.w"),
        0x0e => two("ceil.w"),
        0x0f => two("floor.w"),
        0x11 => {
            // ft = cc (3 bits), 0, tf.
            if ft & 2 != 0 {
                return Err("bit 17 of MOVF.fmt/MOVT.fmt must be zero");
            }
            let name = if ft & 1 == 0 { "movf" } else { "movt" };
            Ok(FpuArithForm {
                name,
                fmt,
                operands: FpuOperands::MoveOnCc {
                    fd,
                    fs,
                    cc: ft >> 2,
                },
            })
        }
        0x12 | 0x13 => {
            let name = if f.funct == 0x12 { "movz" } else { "movn" };
            Ok(FpuArithForm {
                name,
                fmt,
                operands: FpuOperands::MoveOnGpr { fd, fs, rt: ft },
            })
        }
        0x15 => two("recip"),
        0x16 => two("rsqrt"),
        0x20 if is_double => two("cvt.s"),
        0x21 if !is_double => two("cvt.d"),
        0x24 => two("cvt.w"),
        0x25 => two("cvt.l"),
        0x26 => Err("CVT.PS.S (paired single) is not supported"),
        0x30..=0x3f => {
            if fd & 3 != 0 {
                return Err("bits 7..6 of C.cond.fmt must be zero");
            }
            let name = FPU_COMPARE_CONDITIONS[(f.funct & 15) as usize];
            Ok(FpuArithForm {
                name,
                fmt,
                operands: FpuOperands::Compare {
                    cc: fd >> 2,
                    fs,
                    ft,
                },
            })
        }
        _ => Err("reserved FPU function"),
    }
}

/// A validated COP1X word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cop1xForm {
    /// LWXC1/LDXC1/LUXC1/SWXC1/SDXC1/SUXC1 `$f{fpr},index(base)`.
    Indexed {
        name: &'static str,
        fpr: u8,
        index: u8,
        base: u8,
    },
    /// PREFX `hint,index(base)`.
    Prefetch { hint: u8, index: u8, base: u8 },
    /// MADD/MSUB/NMADD/NMSUB.fmt `fd, fr, fs, ft`.
    MultiplyAdd {
        name: &'static str,
        fmt: &'static str,
        fd: u8,
        fr: u8,
        fs: u8,
        ft: u8,
    },
}

/// Check a COP1X word (primary opcode 0x13) against the MIPS32r2 encoding tables.
fn cop1x_form(word: u32) -> Result<Cop1xForm, &'static str> {
    let f = Fields::of(word);
    // Indexed forms: base in bits 25..21, index in 20..16, fs (stores) or fd (loads) in 15..11 / 10..6.
    let (base, index, fs, fd) = (f.rs, f.rt, f.rd, f.sa);
    let load = |name| {
        if fs != 0 {
            return Err("bits 15..11 of an indexed FPU load must be zero");
        }
        Ok(Cop1xForm::Indexed {
            name,
            fpr: fd,
            index,
            base,
        })
    };
    let store = |name| {
        if fd != 0 {
            return Err("bits 10..6 of an indexed FPU store must be zero");
        }
        Ok(Cop1xForm::Indexed {
            name,
            fpr: fs,
            index,
            base,
        })
    };
    match f.funct {
        0x00 => load("lwxc1"),
        0x01 => load("ldxc1"),
        0x05 => load("luxc1"),
        0x08 => store("swxc1"),
        0x09 => store("sdxc1"),
        0x0d => store("suxc1"),
        0x0f => {
            if fd != 0 {
                return Err("bits 10..6 of PREFX must be zero");
            }
            Ok(Cop1xForm::Prefetch {
                hint: fs,
                index,
                base,
            })
        }
        0x20..=0x3f => {
            let name = match (f.funct >> 3) & 3 {
                0 => "madd",
                1 => "msub",
                2 => "nmadd",
                _ => "nmsub",
            };
            let fmt = match f.funct & 7 {
                0 => "s",
                1 => "d",
                6 => return Err("paired-single FPU instructions are not supported"),
                _ => return Err("reserved COP1X multiply-add format"),
            };
            Ok(Cop1xForm::MultiplyAdd {
                name,
                fmt,
                fd,
                fr: f.rs,
                fs,
                ft: f.rt,
            })
        }
        _ => Err("reserved COP1X function"),
    }
}

// ---------------------------------------------------------------------------------------------------------
// Disassembly
// ---------------------------------------------------------------------------------------------------------

/// GPR names as binutils prints them for o32.
const GPR_NAMES: [&str; 32] = [
    "zero", "at", "v0", "v1", "a0", "a1", "a2", "a3", "t0", "t1", "t2", "t3", "t4", "t5", "t6",
    "t7", "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "t8", "t9", "k0", "k1", "gp", "sp", "s8",
    "ra",
];

fn gpr(index: u8) -> &'static str {
    GPR_NAMES[(index & 31) as usize]
}

/// FPU control register names as binutils prints them for MIPS32.
fn fcr_name(index: u8) -> String {
    match index {
        0 => "c1_fir".into(),
        25 => "c1_fccr".into(),
        26 => "c1_fexr".into(),
        28 => "c1_fenr".into(),
        31 => "c1_fcsr".into(),
        n => format!("${n}"),
    }
}

/// Hardware register names (RDHWR) as binutils prints them for MIPS32r2.
fn hwr_name(index: u8) -> String {
    match index {
        0 => "hwr_cpunum".into(),
        1 => "hwr_synci_step".into(),
        2 => "hwr_cc".into(),
        3 => "hwr_ccres".into(),
        n => format!("${n}"),
    }
}

impl Instruction {
    /// Disassemble as `objdump -d -M no-aliases` does, with branch and jump targets resolved against `pc`,
    /// the address of this instruction (targets print as bare hex, without objdump's `<symbol>` suffix).
    pub fn disassemble(&self, pc: u32) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = self.write_asm(&mut text, Some(pc));
        text
    }

    /// Where a branch/jump goes, as text: absolute hex when the pc is known, else relative to this
    /// instruction (`.+N`) for branches and the in-region address for J/JAL.
    fn target_text(&self, pc: Option<u32>) -> String {
        let region_jump = matches!(self.opcode, Opcode::J | Opcode::Jal);
        match (pc, region_jump) {
            (Some(pc), false) => format!("{:x}", pc.wrapping_add(4).wrapping_add(self.imm)),
            (Some(pc), true) => format!("{:x}", (pc.wrapping_add(4) & 0xf000_0000) | self.imm),
            (None, false) => format!(".{:+}", (self.imm as i32).wrapping_add(4)),
            (None, true) => format!("{:#x}", self.imm),
        }
    }

    fn write_asm(&self, out: &mut impl fmt::Write, pc: Option<u32>) -> fmt::Result {
        use Opcode::*;
        let (rs, rt, rd) = (gpr(self.rs), gpr(self.rt), gpr(self.rd));
        let simm = self.imm as i32;
        let name = self.opcode.mnemonic();
        match self.opcode {
            // binutils treats `sub(u) rd, zero, rt` as a real `neg(u)` instruction, not an alias.
            Sub | Subu if self.rs == 0 => {
                let neg = if self.opcode == Sub { "neg" } else { "negu" };
                write!(out, "{neg}\t{rd},{rt}")
            }
            Add | Addu | Sub | Subu | And | Or | Xor | Nor | Slt | Sltu | Movz | Movn | Mul => {
                write!(out, "{name}\t{rd},{rs},{rt}")
            }
            // `sll zero,zero,5` is PAUSE (Release 2.5); binutils lists it as its own instruction, not an
            // alias. Writing $zero, it is a no-op either way on a single hart.
            Sll if self.rd == 0 && self.rt == 0 && self.sa == 5 => write!(out, "pause"),
            Sll | Srl | Sra | Rotr => write!(out, "{name}\t{rd},{rt},{:#x}", self.sa),
            Sllv | Srlv | Srav | Rotrv => write!(out, "{name}\t{rd},{rt},{rs}"),
            Clz | Clo => write!(out, "{name}\t{rd},{rs}"),
            Seb | Seh | Wsbh => write!(out, "{name}\t{rd},{rt}"),
            Ext | Ins => write!(out, "{name}\t{rt},{rs},{:#x},{:#x}", self.sa, self.rd),
            Addi | Addiu | Slti | Sltiu => write!(out, "{name}\t{rt},{rs},{simm}"),
            Andi | Ori | Xori => write!(out, "{name}\t{rt},{rs},{:#x}", self.imm),
            Lui => write!(out, "{name}\t{rt},{:#x}", self.imm >> 16),
            Mult | Multu | Madd | Maddu | Msub | Msubu => write!(out, "{name}\t{rs},{rt}"),
            // binutils prints the three-operand form with an explicit `zero` destination.
            Div | Divu => write!(out, "{name}\tzero,{rs},{rt}"),
            Mfhi | Mflo => write!(out, "{name}\t{rd}"),
            Mthi | Mtlo => write!(out, "{name}\t{rs}"),
            Beq | Bne | Beql | Bnel => write!(out, "{name}\t{rs},{rt},{}", self.target_text(pc)),
            Blez | Bgtz | Bltz | Bgez | Bltzal | Bgezal | Blezl | Bgtzl | Bltzl | Bgezl
            | Bltzall | Bgezall => {
                write!(out, "{name}\t{rs},{}", self.target_text(pc))
            }
            J | Jal => write!(out, "{name}\t{}", self.target_text(pc)),
            Jr | Jalr => {
                let hb = if self.sa == 16 { ".hb" } else { "" };
                if self.opcode == Jalr && self.rd != 31 {
                    write!(out, "{name}{hb}\t{rd},{rs}")
                } else {
                    write!(out, "{name}{hb}\t{rs}")
                }
            }
            Lb | Lbu | Lh | Lhu | Lw | Lwl | Lwr | Ll | Sb | Sh | Sw | Swl | Swr | Sc => {
                write!(out, "{name}\t{rt},{simm}({rs})")
            }
            Teq | Tne | Tge | Tgeu | Tlt | Tltu => {
                write!(out, "{name}\t{rs},{rt}")?;
                if self.imm != 0 {
                    write!(out, ",{:#x}", self.imm)?;
                }
                Ok(())
            }
            Teqi | Tnei | Tgei | Tgeiu | Tlti | Tltiu => write!(out, "{name}\t{rs},{simm}"),
            // binutils splits the 20-bit code into two 10-bit halves.
            Break => match (self.imm >> 10, self.imm & 0x3ff) {
                (0, 0) => write!(out, "{name}"),
                (high, 0) => write!(out, "{name}\t{high:#x}"),
                (high, low) => write!(out, "{name}\t{high:#x},{low:#x}"),
            },
            Syscall if self.imm == 0 => write!(out, "{name}"),
            Syscall => write!(out, "{name}\t{:#x}", self.imm),
            Sync if self.sa == 0 => write!(out, "{name}"),
            Sync => write!(out, "{name}\t{:#x}", self.sa),
            Synci => write!(out, "{name}\t{simm}({rs})"),
            Pref => write!(out, "{name}\t{:#x},{simm}({rs})", self.sa),
            Rdhwr => write!(out, "{name}\t{rt},{}", hwr_name(self.rd)),
            Lwc1 | Swc1 | Ldc1 | Sdc1 => write!(out, "{name}\t$f{},{simm}({rs})", self.rd),
            Mfc1 | Mtc1 | Mfhc1 | Mthc1 => write!(out, "{name}\t{rt},$f{}", self.rd),
            Cfc1 | Ctc1 => write!(out, "{name}\t{rt},{}", fcr_name(self.rd)),
            Bc1f | Bc1t | Bc1fl | Bc1tl => {
                if self.sa == 0 {
                    write!(out, "{name}\t{}", self.target_text(pc))
                } else {
                    write!(out, "{name}\t$fcc{},{}", self.sa, self.target_text(pc))
                }
            }
            // MOVF/MOVT (SPECIAL): the GPR move on an FPU condition code.
            FpuArith if self.word >> 26 == 0 => {
                let name = if self.word & (1 << 16) != 0 {
                    "movt"
                } else {
                    "movf"
                };
                let cc = (self.word >> 18) & 7;
                write!(out, "{name}\t{rd},{rs},$fcc{cc}")
            }
            FpuArith if self.word >> 26 == 0x13 => match cop1x_form(self.word) {
                Ok(Cop1xForm::Indexed {
                    name,
                    fpr,
                    index,
                    base,
                }) => write!(out, "{name}\t$f{fpr},{}({})", gpr(index), gpr(base)),
                Ok(Cop1xForm::Prefetch { hint, index, base }) => {
                    write!(out, "prefx\t{hint:#x},{}({})", gpr(index), gpr(base))
                }
                Ok(Cop1xForm::MultiplyAdd {
                    name,
                    fmt,
                    fd,
                    fr,
                    fs,
                    ft,
                }) => write!(out, "{name}.{fmt}\t$f{fd},$f{fr},$f{fs},$f{ft}"),
                Err(_) => write!(out, "cop1x\t{:#010x}", self.word),
            },
            FpuArith => match fpu_arith_form(self.word) {
                Ok(form) => {
                    write!(out, "{}.{}\t", form.name, form.fmt)?;
                    match form.operands {
                        FpuOperands::Three { fd, fs, ft } => write!(out, "$f{fd},$f{fs},$f{ft}"),
                        FpuOperands::Two { fd, fs } => write!(out, "$f{fd},$f{fs}"),
                        FpuOperands::Compare { cc: 0, fs, ft } => write!(out, "$f{fs},$f{ft}"),
                        FpuOperands::Compare { cc, fs, ft } => {
                            write!(out, "$fcc{cc},$f{fs},$f{ft}")
                        }
                        FpuOperands::MoveOnCc { fd, fs, cc } => {
                            write!(out, "$f{fd},$f{fs},$fcc{cc}")
                        }
                        FpuOperands::MoveOnGpr { fd, fs, rt } => {
                            write!(out, "$f{fd},$f{fs},{}", gpr(rt))
                        }
                    }
                }
                // Only reachable for an Instruction built by hand, not by `decode`.
                Err(_) => write!(out, "cop1\t{:#010x}", self.word),
            },
        }
    }
}

/// Disassembly without the instruction's address: branch targets print relative to the branch itself
/// (`beq a0,a1,.+12`), J/JAL targets as the address within the current 256 MiB region.
impl fmt::Display for Instruction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_asm(f, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// R-type word from its fields.
    fn r(op: u32, rs: u32, rt: u32, rd: u32, sa: u32, funct: u32) -> u32 {
        (op << 26) | (rs << 21) | (rt << 16) | (rd << 11) | (sa << 6) | funct
    }

    /// I-type word from its fields.
    fn i(op: u32, rs: u32, rt: u32, imm: u16) -> u32 {
        (op << 26) | (rs << 21) | (rt << 16) | imm as u32
    }

    fn ok(word: u32) -> Instruction {
        decode(word).unwrap_or_else(|e| panic!("{word:#010x} should decode: {e}"))
    }

    fn rejected(word: u32) -> &'static str {
        match decode(word) {
            Ok(instruction) => {
                panic!("{word:#010x} should be rejected, decoded as {instruction:?}")
            }
            Err(error) => {
                assert_eq!(error.word, word);
                error.reason
            }
        }
    }

    fn fields(ins: Instruction) -> (Opcode, u8, u8, u8, u8, u32) {
        (ins.opcode, ins.rs, ins.rt, ins.rd, ins.sa, ins.imm)
    }

    #[test]
    fn all_lists_every_opcode_in_declaration_order() {
        for (index, op) in Opcode::ALL.iter().enumerate() {
            assert_eq!(*op as usize, index, "{op:?}");
        }
        assert_eq!(Opcode::FpuArith as usize, Opcode::ALL.len() - 1);
        let mnemonics: std::collections::HashSet<_> =
            Opcode::ALL.iter().map(|op| op.mnemonic()).collect();
        assert_eq!(
            mnemonics.len(),
            Opcode::ALL.len(),
            "mnemonics must be distinct"
        );
    }

    #[test]
    fn register_forms() {
        // addu v0,a0,a1
        assert_eq!(fields(ok(0x0085_1021)), (Opcode::Addu, 4, 5, 2, 0, 0));
        assert_eq!(
            fields(ok(r(0, 31, 30, 29, 0, 0x2b))),
            (Opcode::Sltu, 31, 30, 29, 0, 0)
        );
        assert_eq!(
            fields(ok(r(0, 1, 2, 3, 0, 0x0b))),
            (Opcode::Movn, 1, 2, 3, 0, 0)
        );
        assert_eq!(
            fields(ok(r(0x1c, 4, 5, 6, 0, 2))),
            (Opcode::Mul, 4, 5, 6, 0, 0)
        );
        assert_eq!(
            fields(ok(r(0x1c, 4, 5, 0, 0, 1))),
            (Opcode::Maddu, 4, 5, 0, 0, 0)
        );
        assert_eq!(
            fields(ok(r(0, 4, 5, 0, 0, 0x1b))),
            (Opcode::Divu, 4, 5, 0, 0, 0)
        );
        assert_eq!(
            fields(ok(r(0, 0, 0, 7, 0, 0x10))),
            (Opcode::Mfhi, 0, 0, 7, 0, 0)
        );
        assert_eq!(
            fields(ok(r(0, 8, 0, 0, 0, 0x13))),
            (Opcode::Mtlo, 8, 0, 0, 0, 0)
        );
        // clz v0,a0 (rt repeats rd)
        assert_eq!(
            fields(ok(r(0x1c, 4, 2, 2, 0, 0x20))),
            (Opcode::Clz, 4, 2, 2, 0, 0)
        );
        assert_eq!(
            fields(ok(r(0x1f, 0, 5, 6, 0x10, 0x20))),
            (Opcode::Seb, 0, 5, 6, 0, 0)
        );
        assert_eq!(
            fields(ok(r(0x1f, 0, 5, 6, 0x18, 0x20))),
            (Opcode::Seh, 0, 5, 6, 0, 0)
        );
        assert_eq!(
            fields(ok(r(0x1f, 0, 5, 6, 0x02, 0x20))),
            (Opcode::Wsbh, 0, 5, 6, 0, 0)
        );
        // rdhwr v1,$29: the TLS pointer read glibc does everywhere.
        assert_eq!(fields(ok(0x7c03_e83b)), (Opcode::Rdhwr, 0, 3, 29, 0, 0));
    }

    #[test]
    fn shifts_and_rotates_are_told_apart_by_bit_21_and_bit_6() {
        // srl v0,v1,16 vs ror v0,v1,16: only bit 21 differs.
        assert_eq!(
            fields(ok(r(0, 0, 3, 2, 16, 2))),
            (Opcode::Srl, 0, 3, 2, 16, 0)
        );
        assert_eq!(
            fields(ok(r(0, 1, 3, 2, 16, 2))),
            (Opcode::Rotr, 0, 3, 2, 16, 0)
        );
        assert_eq!(r(0, 1, 3, 2, 16, 2) ^ r(0, 0, 3, 2, 16, 2), 1 << 21);
        // srlv vs rotrv: only bit 6 differs.
        assert_eq!(
            fields(ok(r(0, 4, 3, 2, 0, 6))),
            (Opcode::Srlv, 4, 3, 2, 0, 0)
        );
        assert_eq!(
            fields(ok(r(0, 4, 3, 2, 1, 6))),
            (Opcode::Rotrv, 4, 3, 2, 0, 0)
        );
        assert_eq!(
            fields(ok(r(0, 0, 3, 2, 31, 0))),
            (Opcode::Sll, 0, 3, 2, 31, 0)
        );
        assert_eq!(
            fields(ok(r(0, 0, 3, 2, 31, 3))),
            (Opcode::Sra, 0, 3, 2, 31, 0)
        );
        // The other values of those bits are reserved, as is a non-zero rs for SLL/SRA.
        rejected(r(0, 2, 3, 2, 16, 2));
        rejected(r(0, 3, 3, 2, 16, 2));
        rejected(r(0, 16, 3, 2, 16, 2));
        rejected(r(0, 4, 3, 2, 2, 6));
        rejected(r(0, 4, 3, 2, 16, 6));
        rejected(r(0, 1, 3, 2, 1, 0));
        rejected(r(0, 1, 3, 2, 1, 3));
        rejected(r(0, 4, 3, 2, 1, 4));
        rejected(r(0, 4, 3, 2, 1, 7));
    }

    #[test]
    fn immediates_follow_the_field_conventions() {
        // addiu sp,sp,-32: sign-extended.
        assert_eq!(
            fields(ok(0x27bd_ffe0)),
            (Opcode::Addiu, 29, 29, 0, 0, (-32i32) as u32)
        );
        assert_eq!(ok(i(0x0a, 1, 2, 0x8000)).imm, 0xffff_8000);
        assert_eq!(ok(i(0x0b, 1, 2, 0x7fff)).imm, 0x7fff);
        // andi/ori/xori: zero-extended.
        assert_eq!(
            fields(ok(i(0x0c, 2, 2, 0xffff))),
            (Opcode::Andi, 2, 2, 0, 0, 0xffff)
        );
        assert_eq!(ok(i(0x0d, 2, 2, 0x8000)).imm, 0x8000);
        assert_eq!(ok(i(0x0e, 2, 2, 0x8001)).imm, 0x8001);
        // lui gp,0xa: pre-shifted.
        assert_eq!(
            fields(ok(0x3c1c_000a)),
            (Opcode::Lui, 0, 28, 0, 0, 0x000a_0000)
        );
        rejected(i(0x0f, 1, 28, 0xa));
        // Loads/stores: base in rs, offset sign-extended.
        assert_eq!(
            fields(ok(i(0x23, 29, 2, 0xfffc))),
            (Opcode::Lw, 29, 2, 0, 0, (-4i32) as u32)
        );
        assert_eq!(fields(ok(i(0x2e, 4, 5, 3))), (Opcode::Swr, 4, 5, 0, 0, 3));
        assert_eq!(fields(ok(i(0x30, 4, 5, 0))), (Opcode::Ll, 4, 5, 0, 0, 0));
        assert_eq!(
            fields(ok(i(0x38, 4, 5, 0x8000))),
            (Opcode::Sc, 4, 5, 0, 0, 0xffff_8000)
        );
        // pref hint,offset(base): hint in sa, no register in rt.
        assert_eq!(fields(ok(i(0x33, 5, 4, 0))), (Opcode::Pref, 5, 0, 0, 4, 0));
    }

    #[test]
    fn branches_and_jumps() {
        // beq a0,a1,.-0 (offset -1 -> imm -4: target = pc + 4 - 4 = pc).
        let beq = ok(i(0x04, 4, 5, 0xffff));
        assert_eq!(fields(beq), (Opcode::Beq, 4, 5, 0, 0, (-4i32) as u32));
        assert_eq!(beq.disassemble(0x40_0100), "beq\ta0,a1,400100");
        assert_eq!(beq.to_string(), "beq\ta0,a1,.+0");
        assert_eq!(ok(i(0x05, 4, 5, 0x7fff)).imm, 0x1fffc);
        assert_eq!(ok(i(0x15, 4, 5, 0x8000)).imm, 0xfffe_0000);
        assert_eq!(fields(ok(i(0x06, 4, 0, 3))), (Opcode::Blez, 4, 0, 0, 0, 12));
        assert_eq!(
            fields(ok(i(0x17, 4, 0, 3))),
            (Opcode::Bgtzl, 4, 0, 0, 0, 12)
        );
        rejected(i(0x06, 4, 1, 3));
        rejected(i(0x17, 4, 1, 3));
        // REGIMM: the sub-opcode is not a register; linking forms carry rd = 31.
        assert_eq!(
            fields(ok(i(0x01, 6, 0x00, 1))),
            (Opcode::Bltz, 6, 0, 0, 0, 4)
        );
        assert_eq!(
            fields(ok(i(0x01, 0, 0x11, 2))),
            (Opcode::Bgezal, 0, 0, 31, 0, 8)
        );
        assert_eq!(
            fields(ok(i(0x01, 6, 0x12, 2))),
            (Opcode::Bltzall, 6, 0, 31, 0, 8)
        );
        assert_eq!(
            fields(ok(i(0x01, 6, 0x03, 2))),
            (Opcode::Bgezl, 6, 0, 0, 0, 8)
        );
        rejected(i(0x01, 6, 0x04, 2));
        rejected(i(0x01, 6, 0x1c, 2)); // BPOSGE32 (DSP)
        // j/jal: index << 2, target in the current 256 MiB region.
        let jal = ok(0x0c10_0000);
        assert_eq!(fields(jal), (Opcode::Jal, 0, 0, 31, 0, 0x0040_0000));
        assert_eq!(jal.disassemble(0x1000_0000), "jal\t10400000");
        assert_eq!(ok(0x0bff_ffff).imm, 0x0fff_fffc);
        assert_eq!(ok(0x0bff_ffff).disassemble(0x7000_0000), "j\t7ffffffc");
        // jr ra, jalr t9, jalr.hb
        assert_eq!(fields(ok(0x03e0_0008)), (Opcode::Jr, 31, 0, 0, 0, 0));
        assert_eq!(fields(ok(0x0320_f809)), (Opcode::Jalr, 25, 0, 31, 0, 0));
        assert_eq!(ok(0x0320_fc09).disassemble(0), "jalr.hb\tt9");
        assert_eq!(ok(r(0, 25, 0, 4, 0, 9)).disassemble(0), "jalr\ta0,t9");
        rejected(r(0, 31, 0, 1, 0, 8)); // jr with rd != 0
        rejected(r(0, 25, 1, 31, 0, 9)); // jalr with rt != 0
        rejected(r(0, 25, 0, 31, 1, 9)); // reserved hint
        rejected(r(0, 25, 0, 25, 0, 9)); // jalr with rs == rd
    }

    #[test]
    fn ext_and_ins_sizes() {
        // ext rt,rs,pos,size: rd field = size - 1, sa = pos.
        let ext = ok(r(0x1f, 2, 21, 3, 8, 0));
        assert_eq!(fields(ext), (Opcode::Ext, 2, 21, 4, 8, 0));
        assert_eq!(ext.disassemble(0), "ext\ts5,v0,0x8,0x4");
        assert_eq!(
            fields(ok(r(0x1f, 2, 3, 31, 0, 0))),
            (Opcode::Ext, 2, 3, 32, 0, 0)
        );
        assert_eq!(
            fields(ok(r(0x1f, 2, 3, 0, 31, 0))),
            (Opcode::Ext, 2, 3, 1, 31, 0)
        );
        rejected(r(0x1f, 2, 3, 31, 1, 0)); // pos 1 + size 32 > 32
        rejected(r(0x1f, 2, 3, 1, 31, 0)); // pos 31 + size 2 > 32
        // ins rt,rs,pos,size: rd field = msb = pos + size - 1.
        let ins = ok(r(0x1f, 0, 4, 12, 12, 4));
        assert_eq!(fields(ins), (Opcode::Ins, 0, 4, 1, 12, 0));
        assert_eq!(ins.disassemble(0), "ins\ta0,zero,0xc,0x1");
        assert_eq!(
            fields(ok(r(0x1f, 5, 4, 31, 0, 4))),
            (Opcode::Ins, 5, 4, 32, 0, 0)
        );
        assert_eq!(
            fields(ok(r(0x1f, 5, 4, 31, 31, 4))),
            (Opcode::Ins, 5, 4, 1, 31, 0)
        );
        rejected(r(0x1f, 5, 4, 11, 12, 4)); // msb < lsb
    }

    #[test]
    fn traps_and_system() {
        // teq s4,zero,7: the division-by-zero check gcc emits.
        assert_eq!(
            fields(ok(r(0, 20, 0, 0, 7, 0x34))),
            (Opcode::Teq, 20, 0, 0, 0, 7)
        );
        assert_eq!(ok(r(0, 20, 0, 0, 7, 0x34)).to_string(), "teq\ts4,zero,0x7");
        assert_eq!(ok(r(0, 31, 31, 31, 31, 0x36)).imm, 0x3ff); // tne ra,ra with the largest code
        // Trap-immediates: sign-extended.
        assert_eq!(
            fields(ok(i(0x01, 6, 0x0c, 0xffff))),
            (Opcode::Teqi, 6, 0, 0, 0, u32::MAX)
        );
        assert_eq!(
            fields(ok(i(0x01, 6, 0x09, 0x8000))),
            (Opcode::Tgeiu, 6, 0, 0, 0, 0xffff_8000)
        );
        // break/syscall: the 20-bit code.
        assert_eq!(
            fields(ok(0x03ff_ffcd)),
            (Opcode::Break, 0, 0, 0, 0, 0xfffff)
        );
        assert_eq!(ok(0x0001_008d).to_string(), "break\t0x1,0x2");
        assert_eq!(fields(ok(0x0000_000c)), (Opcode::Syscall, 0, 0, 0, 0, 0));
        assert_eq!(fields(ok(0x0000_040f)), (Opcode::Sync, 0, 0, 0, 0x10, 0));
        rejected(0x0000_080f); // sync with bit 11 set
        assert_eq!(
            fields(ok(i(0x01, 4, 0x1f, 8))),
            (Opcode::Synci, 4, 0, 0, 0, 8)
        );
        rejected(r(0x1f, 0, 3, 4, 0, 0x3b)); // rdhwr of reserved hardware register 4
        rejected(r(0x1f, 0, 3, 30, 0, 0x3b));
        rejected(r(0x1f, 1, 3, 29, 0, 0x3b));
    }

    #[test]
    fn required_zero_fields_and_reserved_encodings_are_rejected() {
        rejected(r(0, 1, 2, 3, 1, 0x21)); // addu with sa != 0
        rejected(r(0, 1, 2, 3, 0, 0x18)); // mult with rd != 0
        rejected(r(0, 1, 0, 3, 0, 0x10)); // mfhi with rs != 0
        rejected(r(0, 1, 0, 3, 0, 0x11)); // mthi with rd != 0
        rejected(r(0x1c, 1, 2, 3, 0, 0x00)); // madd with rd != 0
        rejected(r(0x1c, 1, 2, 3, 0, 0x20)); // clz with rt != rd
        rejected(r(0x1c, 1, 3, 3, 1, 0x21)); // clo with sa != 0
        rejected(r(0x1f, 1, 5, 6, 0x10, 0x20)); // seb with rs != 0
        rejected(r(0x1f, 0, 5, 6, 0x11, 0x20)); // reserved BSHFL op
        rejected(r(0, 0, 0, 0, 0, 0x05)); // reserved SPECIAL function
        rejected(r(0, 1, 2, 2, 0, 0x01)); // MOVF with bit 17 set
        rejected(r(0, 1, 0, 2, 1, 0x01)); // MOVF with sa != 0
        rejected(r(0x1c, 0, 0, 0, 0, 0x3f)); // SDBBP
        rejected(0x4200_0018); // ERET (COP0)
        rejected(0xbc80_0000); // CACHE
        rejected(0x4d09_0880); // LWXC1 with bits 15..11 set
        rejected(0x4d09_28c8); // SWXC1 with bits 10..6 set
        rejected(0x4d09_284f); // PREFX with bits 10..6 set
        rejected(0x4d09_2802); // reserved COP1X function
        rejected(0x4c62_0a26); // MADD.PS
        rejected(0x4c62_0a22); // reserved multiply-add format
        rejected(0x6000_0000); // reserved primary opcode
        rejected(0x7000_0010); // reserved SPECIAL2 function
        rejected(0x7c00_0001); // reserved SPECIAL3 function
        rejected(0x7400_0000); // JALX
    }

    #[test]
    fn fpu_forms() {
        // ldc1 $f0,-8(v0): base in rs, FPU register in rd.
        let ldc1 = ok(i(0x35, 2, 0, 0xfff8));
        assert_eq!(fields(ldc1), (Opcode::Ldc1, 2, 0, 0, 0, (-8i32) as u32));
        assert_eq!(ldc1.to_string(), "ldc1\t$f0,-8(v0)");
        assert_eq!(
            fields(ok(i(0x39, 29, 31, 4))),
            (Opcode::Swc1, 29, 0, 31, 0, 4)
        );
        // mfc1 a2,$f0 / mthc1 v1,$f2 / cfc1 v1,$31
        assert_eq!(
            fields(ok(r(0x11, 0, 6, 0, 0, 0))),
            (Opcode::Mfc1, 0, 6, 0, 0, 0)
        );
        assert_eq!(
            fields(ok(r(0x11, 7, 3, 2, 0, 0))),
            (Opcode::Mthc1, 0, 3, 2, 0, 0)
        );
        let cfc1 = ok(r(0x11, 2, 3, 31, 0, 0));
        assert_eq!(fields(cfc1), (Opcode::Cfc1, 0, 3, 31, 0, 0));
        assert_eq!(cfc1.to_string(), "cfc1\tv1,c1_fcsr");
        rejected(r(0x11, 0, 6, 0, 0, 1)); // mfc1 with low bits set
        rejected(r(0x11, 2, 3, 5, 0, 0)); // cfc1 of an undefined control register
        rejected(r(0x11, 6, 3, 0, 0, 0)); // ctc1 to the read-only FIR
        // bc1t $fcc3, bc1fl: cc in sa, likely flag.
        let bc1t = ok(i(0x11, 8, (3 << 2) | 1, 2));
        assert_eq!(fields(bc1t), (Opcode::Bc1t, 0, 0, 0, 3, 8));
        assert_eq!(bc1t.disassemble(0x100), "bc1t\t$fcc3,10c");
        let bc1fl = ok(i(0x11, 8, 2, 0xffff));
        assert_eq!(bc1fl.opcode, Opcode::Bc1fl);
        assert!(bc1fl.opcode.is_likely() && bc1fl.opcode.is_branch_or_jump());
        // Arithmetic keeps everything in the word.
        let add_d = ok(r(0x11, 0x11, 4, 2, 0, 0));
        assert_eq!(fields(add_d), (Opcode::FpuArith, 0, 0, 0, 0, 0));
        assert_eq!(add_d.to_string(), "add.d\t$f0,$f2,$f4");
        assert_eq!(
            ok(r(0x11, 0x14, 0, 2, 0, 0x21)).to_string(),
            "cvt.d.w\t$f0,$f2"
        );
        assert_eq!(
            ok(r(0x11, 0x11, 0, 0, 0, 0x31)).to_string(),
            "c.un.d\t$f0,$f0"
        );
        assert_eq!(
            ok(r(0x11, 0x10, 4, 2, 8, 0x32)).to_string(),
            "c.eq.s\t$fcc2,$f2,$f4"
        );
        rejected(r(0x11, 0x10, 0, 2, 0, 0x20)); // cvt.s.s
        rejected(r(0x11, 0x11, 0, 2, 0, 0x21)); // cvt.d.d
        rejected(r(0x11, 0x14, 0, 2, 0, 0x00)); // add.w
        rejected(r(0x11, 0x11, 1, 2, 0, 0x04)); // sqrt.d with ft != 0
        rejected(r(0x11, 0x11, 4, 2, 1, 0x32)); // c.eq.d with bits 7..6 set
        rejected(r(0x11, 0x11, 2, 2, 0, 0x11)); // movf.d with bit 17 set
        rejected(r(0x11, 0x16, 4, 2, 0, 0)); // add.ps
        rejected(r(0x11, 0x11, 4, 2, 0, 0x1c)); // recip2.d (MIPS-3D)
    }

    #[test]
    fn movci_and_cop1x_forms() {
        // movf a1,a0,$fcc7 / movt ra,zero,$fcc3: GPRs in rs/rd, the rest in the word.
        let movf = ok(0x009c_2801);
        assert_eq!(fields(movf), (Opcode::FpuArith, 4, 0, 5, 0, 0));
        assert_eq!(movf.to_string(), "movf\ta1,a0,$fcc7");
        assert_eq!(ok(0x000d_f801).to_string(), "movt\tra,zero,$fcc3");
        // Indexed loads/stores: base in rs, index in rt.
        let ldxc1 = ok(0x4d09_0081);
        assert_eq!(fields(ldxc1), (Opcode::FpuArith, 8, 9, 0, 0, 0));
        assert_eq!(ldxc1.to_string(), "ldxc1\t$f2,t1(t0)");
        assert_eq!(ok(0x4d09_2808).to_string(), "swxc1\t$f5,t1(t0)");
        assert_eq!(ok(0x4d09_100d).to_string(), "suxc1\t$f2,t1(t0)");
        assert_eq!(ok(0x4d09_200f).to_string(), "prefx\t0x4,t1(t0)");
        // Multiply-add: no GPRs.
        let madd = ok(0x4c82_01a1);
        assert_eq!(fields(madd), (Opcode::FpuArith, 0, 0, 0, 0, 0));
        assert_eq!(madd.to_string(), "madd.d\t$f6,$f4,$f0,$f2");
        assert_eq!(ok(0x4c62_0a38).to_string(), "nmsub.s\t$f8,$f3,$f1,$f2");
        assert_eq!(madd.opcode.class(), InstrClass::Fpu);
    }

    #[test]
    fn classes_and_flags() {
        assert_eq!(Opcode::Rotr.class(), InstrClass::Alu);
        assert_eq!(Opcode::Lui.class(), InstrClass::Alu);
        assert_eq!(Opcode::Mul.class(), InstrClass::MulDiv);
        assert_eq!(Opcode::Mflo.class(), InstrClass::MulDiv);
        assert_eq!(Opcode::Bgezall.class(), InstrClass::Branch);
        assert_eq!(Opcode::Jalr.class(), InstrClass::Jump);
        assert_eq!(Opcode::Ll.class(), InstrClass::Load);
        assert_eq!(Opcode::Sc.class(), InstrClass::Store);
        assert_eq!(Opcode::Break.class(), InstrClass::Trap);
        assert_eq!(Opcode::Rdhwr.class(), InstrClass::System);
        assert_eq!(Opcode::Ldc1.class(), InstrClass::Fpu);
        assert_eq!(Opcode::Bc1t.class(), InstrClass::Fpu);
        let branches: Vec<Opcode> = Opcode::ALL
            .iter()
            .copied()
            .filter(|op| op.is_branch_or_jump())
            .collect();
        assert_eq!(branches.len(), 16 + 4 + 4, "{branches:?}");
        let likely: Vec<Opcode> = Opcode::ALL
            .iter()
            .copied()
            .filter(|op| op.is_likely())
            .collect();
        assert_eq!(likely.len(), 10, "{likely:?}");
        assert!(likely.iter().all(|op| op.is_branch_or_jump()));
        assert!(!Opcode::Beq.is_likely() && Opcode::Beql.is_likely());
    }

    #[test]
    fn display_matches_objdump_style() {
        assert_eq!(ok(0x0085_1021).to_string(), "addu\tv0,a0,a1");
        assert_eq!(ok(0x0015_1023).to_string(), "negu\tv0,s5");
        assert_eq!(ok(0x27bd_ffe0).to_string(), "addiu\tsp,sp,-32");
        assert_eq!(ok(0xafbe_0048).to_string(), "sw\ts8,72(sp)");
        assert_eq!(ok(0x0000_0000).to_string(), "sll\tzero,zero,0x0");
        assert_eq!(ok(0x0000_0140).to_string(), "pause");
        assert_eq!(ok(0x0022_1402).to_string(), "ror\tv0,v0,0x10");
        assert_eq!(ok(0x7c03_e83b).to_string(), "rdhwr\tv1,$29");
        assert_eq!(ok(r(0, 4, 5, 0, 0, 0x1a)).to_string(), "div\tzero,a0,a1");
        assert_eq!(ok(i(0x01, 0, 0x11, 0xfffe)).to_string(), "bgezal\tzero,.-4");
    }

    #[test]
    fn decode_and_display_never_panic() {
        // A cheap deterministic sample of the whole word space (xorshift32).
        let mut x = 0x9e37_79b9u32;
        let mut accepted = 0;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            match decode(x) {
                Ok(instruction) => {
                    accepted += 1;
                    assert_eq!(instruction.word, x);
                    assert!(!instruction.disassemble(x).is_empty());
                }
                Err(error) => assert!(error.to_string().contains(&format!("{x:#010x}"))),
            }
        }
        assert!(accepted > 10_000, "only {accepted} random words decoded");
    }
}
