//! Every bus of the machine, its message layout, and the operation codes carried on it.
//!
//! A bus is a global LogUp argument inside one batch proof: all interactions with the same
//! name share one challenge pair, and the verifier rejects unless the signed sum over all
//! chips is zero. Every message on one bus must have the same number of fields (`p3-lookup`
//! rejects mixed widths, since a short tuple could alias a zero-padded long one).
//!
//! Words are 32 bits and do not fit in a KoalaBear element (`p < 2^31`), so on every bus a word
//! travels as two 16-bit limbs `(lo, hi)`, `word = lo + 2^16 * hi`. The chip that *receives* a
//! word is responsible for range-checking its limbs.

use p3_lookup::{LookupBus, PermutationCheckBus};

/// Byte lookups, provided by [`crate::chips::byte::ByteChip`].
///
/// Message: `[op, x, y, z]` with `op` a [`ByteOp`]. Queries use a count bounded by 1 per row
/// and message; the table side provides a free multiplicity column.
pub const BYTE_BUS: LookupBus<'static> = LookupBus::new("byte");

/// Width of a [`BYTE_BUS`] message.
pub const BYTE_MESSAGE_WIDTH: usize = 4;

/// ALU requests: sent by the CPU (for now a test dispatcher), received by the ALU chips.
///
/// Message: `[op, a_lo, a_hi, b_lo, b_hi, c_lo, c_hi]` meaning `a = op(b, c)`, with `op` an
/// [`AluOp`]. It is a multiset equality: every send must be matched by exactly one receive.
pub const ALU_BUS: PermutationCheckBus<'static> = PermutationCheckBus::new("alu");

/// Width of an [`ALU_BUS`] message.
pub const ALU_MESSAGE_WIDTH: usize = 7;

/// Instruction fetches from the program table, provided by
/// [`crate::chips::program::ProgramChip`].
///
/// Message: `[pc, opcode, rs, rt, rd, sa, imm_lo, imm_hi, has_delay_slot, is_likely]` (see
/// [`crate::chips::program::fetch_message`]); `pc` is one field element (code addresses are below
/// `0x7000_0000 < p`), `imm` travels as two 16-bit halves. The fetching chip (the CPU) queries
/// with a count bounded by 1 per row; the table side provides a free multiplicity, forced to zero
/// on rows that hold no instruction.
pub const PROGRAM_BUS: LookupBus<'static> = LookupBus::new("program");

/// Width of a [`PROGRAM_BUS`] message.
pub const PROGRAM_MESSAGE_WIDTH: usize = 10;

/// Memory and register states, for the offline memory-checking argument (see
/// [`crate::chips::memory`] and `docs/MEMORY_ARGUMENT.md`).
///
/// Message: `[addr_lo, addr_hi, value_lo, value_hi, ts]`, the state of location `addr` (a
/// register number `0..=33` or a word-aligned memory address, as two 16-bit limbs) holding
/// `value` since shard-local timestamp `ts`. Every access receives its previous state and sends
/// its new one; `MemoryBoundaryChip` sends each location's initial state (at `ts = 0`) and
/// receives its final state. Counts are `is_real`, bounded by 1.
pub const MEMORY_BUS: PermutationCheckBus<'static> = PermutationCheckBus::new("memory");

/// Width of a [`MEMORY_BUS`] message.
pub const MEMORY_MESSAGE_WIDTH: usize = 5;

/// Operations of the byte table. Each `(op, x, y, z)` with `x, y` bytes is in the table iff
/// `z` is the stated function of `x` and `y`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ByteOp {
    /// `z = x & y`.
    And = 1,
    /// `z = x | y`.
    Or = 2,
    /// `z = x ^ y`.
    Xor = 3,
    /// `z = 0`: proves that both `x` and `y` are bytes.
    RangePair = 4,
}

impl ByteOp {
    pub const ALL: [ByteOp; 4] = [ByteOp::And, ByteOp::Or, ByteOp::Xor, ByteOp::RangePair];

    /// The result the table holds for `(self, x, y)`.
    pub const fn apply(self, x: u8, y: u8) -> u8 {
        match self {
            ByteOp::And => x & y,
            ByteOp::Or => x | y,
            ByteOp::Xor => x ^ y,
            ByteOp::RangePair => 0,
        }
    }

    /// Position of the operation in [`ByteOp::ALL`] (and of its multiplicity column).
    pub const fn index(self) -> usize {
        self as usize - 1
    }
}

/// Operations on the ALU bus.
///
/// One code per distinct *semantics*, not per mnemonic: the CPU maps
/// - `ADD`, `ADDI` → [`AluOp::Add`] (traps on signed overflow, so the chip proves there was none),
/// - `ADDU`, `ADDIU` → [`AluOp::Addu`],
/// - `SUB` → [`AluOp::Sub`] (trapping), `SUBU` → [`AluOp::Subu`],
/// - `AND`/`ANDI`, `OR`/`ORI`, `XOR`/`XORI`, `NOR` → [`AluOp::And`], [`AluOp::Or`],
///   [`AluOp::Xor`], [`AluOp::Nor`],
///
/// - `SLT`/`SLTI` → [`AluOp::Slt`], `SLTU`/`SLTIU` → [`AluOp::Sltu`] (`a` is 0 or 1),
/// - `SLL`/`SLLV` → [`AluOp::Sll`], `SRL`/`SRLV` → [`AluOp::Srl`], `SRA`/`SRAV` → [`AluOp::Sra`],
///   `ROTR`/`ROTRV` → [`AluOp::Rotr`], with `b` the shifted value (`rt`) and `c` the amount: the
///   `sa` field for the immediate forms, the whole `rs` value for the variable forms (the chip
///   uses `c mod 32`, as MIPS does),
///
/// with `c` the immediate already extended as MIPS specifies (sign-extended for `ADDI`/`ADDIU`/
/// `SLTI`/`SLTIU`, zero-extended for `ANDI`/`ORI`/`XORI`). Codes start at 1 so that an all-zero
/// row can never be mistaken for a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum AluOp {
    Add = 1,
    Addu = 2,
    Sub = 3,
    Subu = 4,
    And = 5,
    Or = 6,
    Xor = 7,
    Nor = 8,
    Slt = 9,
    Sltu = 10,
    Sll = 11,
    Srl = 12,
    Sra = 13,
    Rotr = 14,
}

impl AluOp {
    pub const ALL: [AluOp; 14] = [
        AluOp::Add,
        AluOp::Addu,
        AluOp::Sub,
        AluOp::Subu,
        AluOp::And,
        AluOp::Or,
        AluOp::Xor,
        AluOp::Nor,
        AluOp::Slt,
        AluOp::Sltu,
        AluOp::Sll,
        AluOp::Srl,
        AluOp::Sra,
        AluOp::Rotr,
    ];

    /// The 32-bit result, or `None` when MIPS traps (signed overflow of `ADD`/`SUB`).
    pub fn evaluate(self, b: u32, c: u32) -> Option<u32> {
        match self {
            AluOp::Add => (b as i32).checked_add(c as i32).map(|v| v as u32),
            AluOp::Addu => Some(b.wrapping_add(c)),
            AluOp::Sub => (b as i32).checked_sub(c as i32).map(|v| v as u32),
            AluOp::Subu => Some(b.wrapping_sub(c)),
            AluOp::And => Some(b & c),
            AluOp::Or => Some(b | c),
            AluOp::Xor => Some(b ^ c),
            AluOp::Nor => Some(!(b | c)),
            AluOp::Slt => Some(u32::from((b as i32) < (c as i32))),
            AluOp::Sltu => Some(u32::from(b < c)),
            AluOp::Sll => Some(b << (c & 31)),
            AluOp::Srl => Some(b >> (c & 31)),
            AluOp::Sra => Some(((b as i32) >> (c & 31)) as u32),
            AluOp::Rotr => Some(b.rotate_right(c & 31)),
        }
    }
}

/// The two 16-bit limbs `(lo, hi)` a word travels as on a bus.
pub const fn word_limbs(word: u32) -> [u32; 2] {
    [word & 0xffff, word >> 16]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trapping_ops_detect_signed_overflow() {
        assert_eq!(AluOp::Add.evaluate(i32::MAX as u32, 1), None);
        assert_eq!(AluOp::Addu.evaluate(i32::MAX as u32, 1), Some(0x8000_0000));
        assert_eq!(AluOp::Sub.evaluate(i32::MIN as u32, 1), None);
        assert_eq!(AluOp::Subu.evaluate(0, 1), Some(u32::MAX));
        assert_eq!(
            AluOp::Nor.evaluate(0x0f0f_0000, 0x00ff_0000),
            Some(0xf000_ffff)
        );
    }

    #[test]
    fn shifts_use_the_amount_modulo_32_and_comparisons_the_sign() {
        assert_eq!(AluOp::Sll.evaluate(1, 33), Some(2));
        assert_eq!(
            AluOp::Srl.evaluate(0x8000_0000, 0xffff_ffe1),
            Some(0x4000_0000)
        );
        assert_eq!(AluOp::Sra.evaluate(0x8000_0000, 4), Some(0xf800_0000));
        assert_eq!(AluOp::Rotr.evaluate(0x0000_0001, 4), Some(0x1000_0000));
        assert_eq!(AluOp::Slt.evaluate(u32::MAX, 0), Some(1));
        assert_eq!(AluOp::Sltu.evaluate(u32::MAX, 0), Some(0));
    }

    #[test]
    fn byte_op_indices_are_dense() {
        for (position, op) in ByteOp::ALL.iter().enumerate() {
            assert_eq!(op.index(), position);
        }
    }
}
