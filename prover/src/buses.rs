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

/// ALU requests: sent by the CPU (and by chips that reuse an ALU operation), received by the
/// ALU chips.
///
/// Message: `[op, a_lo, a_hi, b_lo, b_hi, c_lo, c_hi, d_lo, d_hi]` meaning `a = op(b, c, d)`,
/// with `op` an [`AluOp`]; `d` is the destination's old value, used only by MOVZ/MOVN/INS
/// (which keep some or all of it) and 0 for every other operation. It is a multiset equality:
/// every send must be matched by exactly one receive.
pub const ALU_BUS: PermutationCheckBus<'static> = PermutationCheckBus::new("alu");

/// Width of an [`ALU_BUS`] message.
pub const ALU_MESSAGE_WIDTH: usize = 9;

/// Multiply/divide instructions, sent by the CPU, received by the mul/div chip.
///
/// Message: `[opcode, clk, rs_lo, rs_hi, rt_lo, rt_hi, result_lo, result_hi]`, `opcode` the
/// executor's [`zkmips_executor::Opcode`] (`as u8`), `clk` the instruction's shard-local cycle
/// (its HI/LO accesses are at `8 clk + SLOT_HI / SLOT_LO`), `rs`/`rt` the register values the
/// CPU read (0 when the instruction does not read that register), `result` the value the CPU
/// writes to the destination register (MUL, MFHI, MFLO; 0 for the others, which write none).
/// The receiver range-checks `result` (the CPU writes it to a register).
pub const MULDIV_BUS: PermutationCheckBus<'static> = PermutationCheckBus::new("muldiv");

/// Width of a [`MULDIV_BUS`] message.
pub const MULDIV_MESSAGE_WIDTH: usize = 8;

/// Branches, jumps and (non-firing) traps, sent by the CPU, received by the branch chip.
///
/// Message: `[opcode, pc, next_pc, new_next_pc, annul, rs_lo, rs_hi, rt_lo, rt_hi, imm_lo,
/// imm_hi, link_lo, link_hi]`: the instruction at `pc` runs with `next_pc` (its delay slot);
/// the CPU's next state is `(next_pc + 4 annul, new_next_pc)`. `imm` is the program table's
/// immediate: the absolute target for PC-relative branches and J/JAL, the sign-extended
/// immediate for the trap-immediate forms, 0 otherwise. `link` is the value the CPU writes to
/// the link register (`pc + 8` for the linking forms, 0 when nothing is written). The receiver
/// proves `annul`, `new_next_pc`, `link` (range-checked) and, for traps, that the trap does not
/// fire.
pub const BRANCH_BUS: PermutationCheckBus<'static> = PermutationCheckBus::new("branch");

/// Width of a [`BRANCH_BUS`] message.
pub const BRANCH_MESSAGE_WIDTH: usize = 13;

/// Loads and stores, sent by the CPU, received by the load/store chip.
///
/// Message: `[opcode, clk, rs_lo, rs_hi, rt_lo, rt_hi, result_lo, result_hi, imm_lo, imm_hi]`:
/// the effective address is `rs + imm` (`imm` sign-extended by the program table); `rt` is the
/// value stored, or the old `rt` for LWL/LWR (which merge into it); `result` is the value the
/// CPU writes to `rt` (the loaded value, SC's success flag; 0 for the other stores, which write
/// none). The memory word is accessed at `8 clk + SLOT_MEM`. The receiver range-checks `result`.
pub const MEM_INSTR_BUS: PermutationCheckBus<'static> = PermutationCheckBus::new("mem_instr");

/// Width of a [`MEM_INSTR_BUS`] message.
pub const MEM_INSTR_MESSAGE_WIDTH: usize = 10;

/// SYSCALL instructions, sent by the CPU, received by the syscall chip.
///
/// Message: `[clk, is_halt]`: the syscall's accesses are at `8 clk + SLOT_SYSCALL`; `is_halt` is
/// 1 iff the service is HALT (the CPU then ends the run on this row).
pub const SYSCALL_BUS: PermutationCheckBus<'static> = PermutationCheckBus::new("syscall");

/// Width of a [`SYSCALL_BUS`] message.
pub const SYSCALL_MESSAGE_WIDTH: usize = 2;

/// Buffers of the zkVM services, provided by the syscall chip (one entry per syscall with a
/// non-empty buffer, free multiplicity), looked up by the syscall memory chip once per memory
/// word the service touches.
///
/// Message: `[clk, writable, first_word, first_offset, last_word, last_offset]`: the buffer's
/// first byte is `4 first_word + first_offset`, its last byte `4 last_word + last_offset`
/// (offsets `0..4`, word indices as single elements, below `2^29`); `writable` is 1 iff the
/// service may write the buffer (INPUT_READ, HINT_READ).
pub const SYSCALL_BUFFER_BUS: LookupBus<'static> = LookupBus::new("syscall_buffer");

/// Width of a [`SYSCALL_BUFFER_BUS`] message.
pub const SYSCALL_BUFFER_MESSAGE_WIDTH: usize = 6;

/// KECCAK_PERMUTE precompile calls, sent by the syscall chip (one per call), received by
/// [`crate::chips::keccak::KeccakChip`] once per permutation.
///
/// Message: `[clk, ptr_lo, ptr_hi]`: the call's accesses are at `8 clk + SLOT_SYSCALL`; `ptr` is
/// `$a0` (as two 16-bit limbs), the address of the 25 little-endian 64-bit lanes. The receiver
/// proves `ptr` 4-aligned with the 200-byte state inside `[0x1000, 0x8000_0000)`, performs the
/// 50 word accesses and proves that they write keccak-f[1600] of what they read.
pub const KECCAK_BUS: PermutationCheckBus<'static> = PermutationCheckBus::new("keccak");

/// Width of a [`KECCAK_BUS`] message.
pub const KECCAK_MESSAGE_WIDTH: usize = 3;

/// Instruction fetches from the program table, provided by
/// [`crate::chips::program::ProgramChip`].
///
/// Message: the instruction at `pc` decoded into the CPU's control fields (layout
/// [`crate::chips::program::fetch`], built by [`crate::chips::program::fetch_message`]): opcode,
/// registers read and written, the operand immediate, ALU operand selection, which chip proves
/// it, and the delay-slot flags. `pc` is one field element (code addresses are below
/// `0x7000_0000 < p`). The fetching chip (the CPU) queries with a count bounded by 1 per row;
/// the table side provides a free multiplicity, forced to zero on rows that hold no provable
/// instruction.
pub const PROGRAM_BUS: LookupBus<'static> = LookupBus::new("program");

/// Width of a [`PROGRAM_BUS`] message.
pub const PROGRAM_MESSAGE_WIDTH: usize = crate::chips::program::fetch::WIDTH;

/// Memory and register states, for the offline memory-checking argument (see
/// [`crate::chips::memory`] and `docs/MEMORY_ARGUMENT.md`).
///
/// Message: `[addr_lo, addr_hi, value_lo, value_hi, ts]`, the state of location `addr` (a
/// register-space location `0..=34`: GPRs, HI, LO, LLbit; or a word-aligned memory address; as
/// two 16-bit limbs) holding `value` since shard-local timestamp `ts`. Every access receives its previous state and sends
/// its new one; `MemoryBoundaryChip` sends each location's initial state (at `ts = 0`) and
/// receives its final state. Counts are `is_real`, bounded by 1.
pub const MEMORY_BUS: PermutationCheckBus<'static> = PermutationCheckBus::new("memory");

/// Width of a [`MEMORY_BUS`] message.
pub const MEMORY_MESSAGE_WIDTH: usize = 5;

/// The program's initial memory image against a one-shard run's memory boundary: sent by
/// [`crate::chips::memory_image::MemoryImageChip`] (one message per image location, count its
/// preprocessed `is_real`), received by [`crate::chips::memory_final::MemoryFinalChip`] (count
/// its `is_image` flag). A multiset equality.
///
/// Message: `[addr_lo, addr_hi, init_lo, init_hi, final_lo, final_hi, locked]`: location `addr`
/// starts the run holding `init` and ends it holding `final`; `locked` is 1 for code words, which
/// no access may touch. Addresses, initial values and `locked` come from the verifier-built
/// image (canonical); `final` is what the boundary consumed on the [`MEMORY_BUS`] (canonical).
pub const IMAGE_BUS: PermutationCheckBus<'static> = PermutationCheckBus::new("image");

/// Width of an [`IMAGE_BUS`] message.
pub const IMAGE_MESSAGE_WIDTH: usize = 7;

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
    /// `z = 1` if `x < y` else 0.
    Ltu = 5,
    /// `z = x >> 7`, the top bit of `x` (look it up with `y = 0`).
    Msb = 6,
    /// `z` = the number of leading zero bits of `x` as an 8-bit value, `0..=8` (with `y = 0`).
    Clz = 7,
}

impl ByteOp {
    pub const ALL: [ByteOp; 7] = [
        ByteOp::And,
        ByteOp::Or,
        ByteOp::Xor,
        ByteOp::RangePair,
        ByteOp::Ltu,
        ByteOp::Msb,
        ByteOp::Clz,
    ];

    /// The result the table holds for `(self, x, y)`.
    pub const fn apply(self, x: u8, y: u8) -> u8 {
        match self {
            ByteOp::And => x & y,
            ByteOp::Or => x | y,
            ByteOp::Xor => x ^ y,
            ByteOp::RangePair => 0,
            ByteOp::Ltu => (x < y) as u8,
            ByteOp::Msb => x >> 7,
            ByteOp::Clz => x.leading_zeros() as u8,
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
    /// `a = (c == 0) ? b : d` (`d` the old `rd`).
    Movz = 15,
    /// `a = (c != 0) ? b : d`.
    Movn = 16,
    /// `a` = leading zeros of `b` (`c = 0`).
    Clz = 17,
    /// `a` = leading ones of `b` (`c = 0`).
    Clo = 18,
    /// `a` = `b`'s low byte sign-extended (`b` = `rt`, `c = 0`).
    Seb = 19,
    /// `a` = `b`'s low half sign-extended (`b` = `rt`, `c = 0`).
    Seh = 20,
    /// `a` = `b` with the bytes of each half swapped (`b` = `rt`, `c = 0`).
    Wsbh = 21,
    /// `a = (b >> pos) & (2^size - 1)` with `c = pos | size << 8` (`b` = `rs`).
    Ext = 22,
    /// `a` = `d` with bits `pos .. pos + size` replaced by `b`'s low `size` bits, `c = pos |
    /// size << 8`, `d` the old `rt`.
    Ins = 23,
}

impl AluOp {
    /// The operations of the basic ALU chips (AddSub, Bitwise, Shift, Lt): the first 14.
    pub const BASIC: [AluOp; 14] = {
        let mut basic = [AluOp::Add; 14];
        let mut i = 0;
        while i < 14 {
            basic[i] = AluOp::ALL[i];
            i += 1;
        }
        basic
    };

    pub const ALL: [AluOp; 23] = [
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
        AluOp::Movz,
        AluOp::Movn,
        AluOp::Clz,
        AluOp::Clo,
        AluOp::Seb,
        AluOp::Seh,
        AluOp::Wsbh,
        AluOp::Ext,
        AluOp::Ins,
    ];

    /// The 32-bit result of `op(b, c, d)`, or `None` when MIPS traps (signed overflow of
    /// `ADD`/`SUB`) or the operands are not a valid encoding (EXT/INS fields outside the word).
    pub fn evaluate_with_old(self, b: u32, c: u32, d: u32) -> Option<u32> {
        let field = |c: u32| {
            let (pos, size) = (c & 0xff, c >> 8);
            (size >= 1 && pos + size <= 32 && c >> 16 == 0).then_some((pos, size))
        };
        let low_mask = |size: u32| {
            if size == 32 {
                u32::MAX
            } else {
                (1 << size) - 1
            }
        };
        match self {
            AluOp::Movz => Some(if c == 0 { b } else { d }),
            AluOp::Movn => Some(if c != 0 { b } else { d }),
            AluOp::Clz => Some(b.leading_zeros()),
            AluOp::Clo => Some(b.leading_ones()),
            AluOp::Seb => Some(b as i8 as i32 as u32),
            AluOp::Seh => Some(b as i16 as i32 as u32),
            AluOp::Wsbh => Some(((b & 0x00ff_00ff) << 8) | ((b >> 8) & 0x00ff_00ff)),
            AluOp::Ext => field(c).map(|(pos, size)| (b >> pos) & low_mask(size)),
            AluOp::Ins => field(c).map(|(pos, size)| {
                let mask = low_mask(size) << pos;
                (d & !mask) | ((b << pos) & mask)
            }),
            _ => self.evaluate(b, c),
        }
    }

    /// Whether the operation reads the destination's old value `d`.
    pub const fn uses_old_value(self) -> bool {
        matches!(self, AluOp::Movz | AluOp::Movn | AluOp::Ins)
    }

    /// The 32-bit result, or `None` when MIPS traps (signed overflow of `ADD`/`SUB`). For the
    /// operations that read the old destination value, `d = 0`; see [`Self::evaluate_with_old`].
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
            _ => self.evaluate_with_old(b, c, 0),
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
