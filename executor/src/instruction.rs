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

/// Every operation the executor understands. `#[repr(u8)]` so the prover can use it as a column value.
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
