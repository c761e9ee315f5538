//! Execution events: what the prover turns into trace rows.
//!
//! # Memory model
//! Registers are memory-mapped into the low, never-valid part of the address space: general-purpose
//! register `i` is "address" `i`, HI is [`REG_HI`], LO is [`REG_LO`] and the LL/SC link bit is
//! [`REG_LLBIT`] (value 0 or 1: LL writes 1, SC reads it and writes 0). Real memory addresses are always
//! `>= zkmips_abi::layout::NULL_GUARD_END` and word-aligned (byte and halfword accesses touch their
//! containing word), so the two never collide and one memory argument covers both. See
//! [`is_register`].
//!
//! Every access is a [`MemoryAccess`]: `(addr, prev_value, prev_timestamp) -> (addr, value, timestamp)`.
//! Timestamps count slots: the instruction with cycle number `clk` (the first instruction of the run has
//! `clk = 1`) accesses its locations at `8 * clk + slot` with the slot constants below, so timestamps
//! strictly increase within an instruction and between instructions. A location is accessed at most once
//! per slot; a syscall merges all its accesses to one location into a single read-modify-write access at
//! [`SLOT_SYSCALL`].
//!
//! Inside a shard, accesses carry **shard-local** `u32` timestamps: the global timestamp minus
//! [`crate::Shard::timestamp_base`] (so the shard's first instruction is at local cycle 1, and in shard 0
//! local and global timestamps coincide). A `prev_timestamp` of 0 means "before this shard": the location's
//! value and global timestamp at that point are its [`crate::Shard::memory_init`] entry. Order within the
//! shard is all the memory argument needs; the cross-shard link is carried by `memory_init`/`memory_final`,
//! whose timestamps are global `u64`s (0 = the initial image).
//!
//! Writes to register 0 are recorded as an access that leaves it 0 (`value == 0`), whatever the
//! instruction computed; the computed value is still in the class event.
//!
//! # Class events
//! Besides one [`CpuEvent`] per instruction, a shard lists per-class events in execution order. They
//! carry no cycle number: the `k`-th event of a list belongs to the `k`-th [`CpuEvent`] whose opcode has
//! that [`EventKind`] (see [`event_kind`]), so nothing is stored twice.

use crate::instruction::Opcode;

/// "Address" of HI in the register space.
pub const REG_HI: u32 = 32;
/// "Address" of LO in the register space.
pub const REG_LO: u32 = 33;
/// "Address" of the LL/SC link bit (LLbit) in the register space: 0 or 1. LL sets it, SC reads and
/// clears it (succeeding iff it was 1), both at [`SLOT_LLBIT`]. Nothing else touches it: the zkVM has no
/// exception return (ERET), the only other event that clears LLbit in MIPS32r2, and syscalls leave it
/// alone. Being a location, it is carried across shards by the memory argument like a register.
pub const REG_LLBIT: u32 = 34;
/// Number of locations in the register space.
pub const NUM_REG_LOCATIONS: usize = 35;

/// Whether a [`MemoryAccess::addr`] names a register rather than memory.
#[inline(always)]
pub fn is_register(addr: u32) -> bool {
    addr < NUM_REG_LOCATIONS as u32
}

/// Timestamp slot: read of `rs`.
pub const SLOT_RS: u64 = 0;
/// Timestamp slot: read of `rt` (including the old `rt` of LWL/LWR/INS/MOVZ/MOVN reads).
pub const SLOT_RT: u64 = 1;
/// Timestamp slot: HI read/write.
pub const SLOT_HI: u64 = 2;
/// Timestamp slot: LO read/write.
pub const SLOT_LO: u64 = 3;
/// Timestamp slot: the memory word of a load/store.
pub const SLOT_MEM: u64 = 4;
/// Timestamp slot: the destination register write (`rd`, `rt` or `$ra`).
pub const SLOT_DST: u64 = 5;
/// Timestamp slot: every access made by a syscall (merged per location).
pub const SLOT_SYSCALL: u64 = 6;
/// Timestamp slot: the LLbit ([`REG_LLBIT`]) access of LL (write 1) and SC (read, write 0); the last
/// access of the instruction.
pub const SLOT_LLBIT: u64 = 7;
/// Timestamps per cycle.
pub const SLOTS_PER_CYCLE: u64 = 8;

/// The timestamp of `slot` in cycle `clk`.
#[inline(always)]
pub const fn timestamp(clk: u64, slot: u64) -> u64 {
    clk * SLOTS_PER_CYCLE + slot
}

/// One access to a register or memory word, with shard-local timestamps (see the module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MemoryAccess {
    pub addr: u32,
    /// Value after the access (equal to `prev_value` for reads).
    pub value: u32,
    /// Value before the access.
    pub prev_value: u32,
    /// Shard-local timestamp of the previous access to `addr`, or 0 when that was before this shard.
    pub prev_timestamp: u32,
    /// Shard-local timestamp of this access.
    pub timestamp: u32,
}

/// A location's value and global timestamp at a shard boundary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MemoryEntry {
    pub addr: u32,
    pub value: u32,
    pub timestamp: u64,
}

/// One executed instruction. Its accesses are `accesses[access_start .. access_start + access_count]`
/// of the shard, in timestamp order. `pc`/`next_pc` are the machine state before the instruction; the
/// state after it is the next event's `pc`/`next_pc` (or the shard's final state). Its cycle number is
/// its position: [`crate::Shard::clk_of`]; the instruction word is the program's word at `pc`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CpuEvent {
    pub pc: u32,
    pub next_pc: u32,
    pub access_start: u32,
    pub access_count: u32,
    pub opcode: Opcode,
    /// Set when this instruction is a branch-likely whose delay slot was annulled (not executed).
    pub annulled_slot: bool,
}

/// Which per-class event list an instruction adds to (besides its [`CpuEvent`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// [`AluEvent`]: the ALU class and RDHWR.
    Alu,
    /// [`MulDivEvent`].
    MulDiv,
    /// [`BranchEvent`]: branches, jumps and the BC1 branches.
    Branch,
    /// [`MemoryEvent`]: integer loads and stores.
    Memory,
    /// [`SyscallEvent`] (and a [`PrecompileEvent`] for precompile syscalls).
    Syscall,
}

/// The event list an executed `opcode` adds to, if any (traps that do not fire, SYNC/SYNCI/PREF and FPU
/// instructions other than the BC1 branches add none).
pub fn event_kind(opcode: Opcode) -> Option<EventKind> {
    use crate::instruction::InstrClass;
    use Opcode::*;
    match opcode {
        Rdhwr => Some(EventKind::Alu),
        Syscall => Some(EventKind::Syscall),
        Bc1f | Bc1t | Bc1fl | Bc1tl => Some(EventKind::Branch),
        _ => match opcode.class() {
            InstrClass::Alu => Some(EventKind::Alu),
            InstrClass::MulDiv => Some(EventKind::MulDiv),
            InstrClass::Branch | InstrClass::Jump => Some(EventKind::Branch),
            InstrClass::Load | InstrClass::Store => Some(EventKind::Memory),
            InstrClass::Trap | InstrClass::System | InstrClass::Fpu => None,
        },
    }
}

/// Register-to-register or immediate ALU operation: `a = op(b, c)`, `a` being the value written.
/// - `b` is `rs`, except for shifts/rotates and SEB/SEH/WSBH where it is `rt` (the value shifted).
/// - `c` is `rt`, the immediate (as decoded), the shift amount (`rs & 31` for the variable forms) or, for
///   EXT/INS, `pos | size << 8`; 0 for one-operand forms (CLZ/CLO/SEB/SEH/WSBH).
/// - `d` is the old destination value for MOVZ/MOVN/INS (which keep some or all of it), otherwise 0.
/// - RDHWR is recorded here too: `a` = value read, `b` = hardware register number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AluEvent {
    pub opcode: Opcode,
    pub a: u32,
    pub b: u32,
    pub c: u32,
    pub d: u32,
}

/// Multiply/divide and HI/LO moves. `b`, `c` are the operands; `hi`, `lo` the values after, `prev_hi`,
/// `prev_lo` before. For MUL, `lo` is the value written to `rd` (HI/LO are left unchanged).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MulDivEvent {
    pub opcode: Opcode,
    pub b: u32,
    pub c: u32,
    pub hi: u32,
    pub lo: u32,
    pub prev_hi: u32,
    pub prev_lo: u32,
}

/// Branch or jump. `link` is the value written to the link register (`pc + 8`) or 0 when none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BranchEvent {
    pub pc: u32,
    pub opcode: Opcode,
    pub taken: bool,
    pub rs_value: u32,
    pub rt_value: u32,
    pub target: u32,
    pub link: u32,
}

/// Load or store. `addr` is the effective byte address; `mem_prev`/`mem_value` are the containing word
/// before/after; `reg_value` is the register value stored or loaded (after merging for LWL/LWR).
/// For SC, `reg_value` is the success flag written back; a failed SC leaves memory unchanged. LL and SC
/// also access [`REG_LLBIT`] at [`SLOT_LLBIT`] (only in the access list).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MemoryEvent {
    pub opcode: Opcode,
    pub addr: u32,
    pub reg_value: u32,
    pub mem_prev: u32,
    pub mem_value: u32,
}

/// A SYSCALL (rare, so it keeps its global cycle number `clk`). `args` are `$a0..$a3` before; `result` is
/// `$v0` and `error_flag` is `$a3` after.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SyscallEvent {
    pub clk: u64,
    pub pc: u32,
    pub number: u32,
    pub args: [u32; 4],
    pub result: u32,
    pub error_flag: u32,
    /// Exit code when this syscall stopped the machine.
    pub exit: Option<u32>,
}

/// Which precompile a [`PrecompileEvent`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum PrecompileKind {
    Sha256Extend,
    Sha256Compress,
    KeccakPermute,
}

impl PrecompileKind {
    /// The precompile served by syscall `number`, if any.
    pub fn from_syscall(number: u32) -> Option<Self> {
        use zkmips_abi::syscall::*;
        match number {
            SHA256_EXTEND => Some(Self::Sha256Extend),
            SHA256_COMPRESS => Some(Self::Sha256Compress),
            KECCAK_PERMUTE => Some(Self::KeccakPermute),
            _ => None,
        }
    }
}

/// A precompile call (global cycle number `clk`) with its memory accesses: copies of the syscall's
/// non-register accesses (shard-local timestamps, all at the syscall's slot), one per word, in order of
/// first touch.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PrecompileEvent {
    pub clk: u64,
    pub kind: PrecompileKind,
    /// `$a0`, `$a1` (pointers).
    pub args: [u32; 2],
    pub accesses: Vec<MemoryAccess>,
}

/// Number of [`Opcode`] variants (the opcode is `#[repr(u8)]` and dense from 0).
pub const NUM_OPCODES: usize = Opcode::FpuArith as usize + 1;

/// Every opcode, indexed by its `u8` value.
pub fn all_opcodes() -> [Opcode; NUM_OPCODES] {
    use Opcode::*;
    let all = [
        Add, Addu, Sub, Subu, And, Or, Xor, Nor, Slt, Sltu, Sll, Srl, Sra, Sllv, Srlv, Srav, Rotr,
        Rotrv, Movz, Movn, Clz, Clo, Seb, Seh, Wsbh, Ext, Ins, Addi, Addiu, Slti, Sltiu, Andi, Ori,
        Xori, Lui, Mul, Mult, Multu, Madd, Maddu, Msub, Msubu, Div, Divu, Mfhi, Mflo, Mthi, Mtlo,
        Beq, Bne, Blez, Bgtz, Bltz, Bgez, Bltzal, Bgezal, Beql, Bnel, Blezl, Bgtzl, Bltzl, Bgezl,
        Bltzall, Bgezall, J, Jal, Jr, Jalr, Lb, Lbu, Lh, Lhu, Lw, Lwl, Lwr, Ll, Sb, Sh, Sw, Swl,
        Swr, Sc, Teq, Tne, Tge, Tgeu, Tlt, Tltu, Teqi, Tnei, Tgei, Tgeiu, Tlti, Tltiu, Break,
        Syscall, Sync, Synci, Pref, Rdhwr, Lwc1, Swc1, Ldc1, Sdc1, Mfc1, Mtc1, Mfhc1, Mthc1, Cfc1,
        Ctc1, Bc1f, Bc1t, Bc1fl, Bc1tl, FpuArith,
    ];
    debug_assert!(all.iter().enumerate().all(|(i, op)| *op as usize == i));
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opcode_table_is_dense_and_ordered() {
        for (i, op) in all_opcodes().iter().enumerate() {
            assert_eq!(*op as usize, i, "{op:?}");
        }
    }

    #[test]
    fn event_kinds_follow_the_classes() {
        assert_eq!(event_kind(Opcode::Addu), Some(EventKind::Alu));
        assert_eq!(event_kind(Opcode::Rdhwr), Some(EventKind::Alu));
        assert_eq!(event_kind(Opcode::Mflo), Some(EventKind::MulDiv));
        assert_eq!(event_kind(Opcode::Jalr), Some(EventKind::Branch));
        assert_eq!(event_kind(Opcode::Bc1tl), Some(EventKind::Branch));
        assert_eq!(event_kind(Opcode::Sc), Some(EventKind::Memory));
        assert_eq!(event_kind(Opcode::Syscall), Some(EventKind::Syscall));
        for op in [
            Opcode::Teq,
            Opcode::Sync,
            Opcode::Pref,
            Opcode::Ldc1,
            Opcode::FpuArith,
        ] {
            assert_eq!(event_kind(op), None, "{op:?}");
        }
    }

    #[test]
    fn hot_events_stay_small() {
        // The record costs about 3 accesses and one CPU event per instruction; keep them lean.
        assert_eq!(core::mem::size_of::<MemoryAccess>(), 20);
        assert_eq!(core::mem::size_of::<CpuEvent>(), 20);
        assert_eq!(core::mem::size_of::<AluEvent>(), 20);
        assert_eq!(core::mem::size_of::<MemoryEvent>(), 20);
    }
}
