//! A shard of the execution record as the chips see it: one [`Executed`] per instruction, with its
//! shard-local cycle, decoded instruction, memory accesses and class event paired up.
//!
//! The executor stores per-class events without cycle numbers (the `k`-th event of a class belongs
//! to the `k`-th instruction of that class, see `zkmips_executor::events`); [`executed_instructions`]
//! does that pairing once, checking that every list is consumed exactly, so each chip's trace
//! generation only filters the instructions it proves.

use zkmips_executor::events::{
    AluEvent, BranchEvent, EventKind, MemoryEvent, MulDivEvent, PrecompileEvent, SLOTS_PER_CYCLE,
    SyscallEvent, event_kind,
};
use zkmips_executor::{Instruction, MemoryAccess, Shard};

use crate::chips::{ProgramChip, TraceError};

/// The class event of one instruction.
#[derive(Clone, Copy, Debug)]
pub enum ClassEvent<'a> {
    /// Instructions without one (non-firing traps, SYNC, SYNCI, PREF).
    None,
    Alu(&'a AluEvent),
    MulDiv(&'a MulDivEvent),
    Branch(&'a BranchEvent),
    Memory(&'a MemoryEvent),
    Syscall(&'a SyscallEvent, Option<&'a PrecompileEvent>),
}

/// One executed instruction of a shard.
#[derive(Clone, Copy, Debug)]
pub struct Executed<'a> {
    /// Position in the shard (row of the CPU table).
    pub index: usize,
    /// Shard-local cycle: the shard's first instruction has `clk = 1`; its accesses are at
    /// `8 clk + slot` (local timestamps).
    pub clk: u32,
    pub pc: u32,
    pub next_pc: u32,
    pub instruction: Instruction,
    /// The instruction's memory and register accesses, in timestamp order.
    pub accesses: &'a [MemoryAccess],
    pub event: ClassEvent<'a>,
    /// Set on a branch-likely whose delay slot was annulled.
    pub annulled_slot: bool,
}

impl Executed<'_> {
    /// The access at `slot` of this instruction to `addr`, if any.
    pub fn access(&self, slot: u64, addr: u32) -> Option<&MemoryAccess> {
        let ts = u64::from(self.clk) * SLOTS_PER_CYCLE + slot;
        self.accesses
            .iter()
            .find(|a| u64::from(a.timestamp) == ts && a.addr == addr)
    }

    /// Every access of this instruction at `slot`.
    pub fn accesses_at(&self, slot: u64) -> impl Iterator<Item = &MemoryAccess> {
        let ts = u64::from(self.clk) * SLOTS_PER_CYCLE + slot;
        self.accesses
            .iter()
            .filter(move |a| u64::from(a.timestamp) == ts)
    }

    /// An error about this instruction, naming it.
    pub fn error(&self, chip: &'static str, reason: impl Into<String>) -> TraceError {
        TraceError::Instruction {
            chip,
            clk: self.clk,
            pc: self.pc,
            word: self.instruction.word,
            reason: reason.into(),
        }
    }
}

/// Pairs every CPU event of `shard` with its instruction (from `program`), accesses and class
/// event. Fails, naming the instruction, if the record is inconsistent (a pc outside the program,
/// accesses out of range, a class list too short or too long).
pub fn executed_instructions<'a>(
    shard: &'a Shard,
    program: &ProgramChip,
) -> Result<Vec<Executed<'a>>, TraceError> {
    let mut alu = shard.alu.iter();
    let mut mul_div = shard.mul_div.iter();
    let mut branch = shard.branch.iter();
    let mut memory = shard.memory.iter();
    let mut syscall = shard.syscall.iter();
    let mut executed = Vec::with_capacity(shard.cpu.len());
    for (index, cpu) in shard.cpu.iter().enumerate() {
        let clk = u32::try_from(index + 1).map_err(|_| TraceError::ShardTooLong {
            cycles: shard.cpu.len(),
        })?;
        let instruction =
            program
                .instruction_at(cpu.pc)
                .ok_or(TraceError::FetchOutsideProgram {
                    row: index,
                    pc: cpu.pc,
                })?;
        let record_error = |reason: String| TraceError::Instruction {
            chip: "Record",
            clk,
            pc: cpu.pc,
            word: instruction.word,
            reason,
        };
        if cpu.opcode != instruction.opcode {
            return Err(record_error(format!(
                "the record says {:?}, the program holds {:?}",
                cpu.opcode, instruction.opcode
            )));
        }
        let start = cpu.access_start as usize;
        let accesses = start
            .checked_add(cpu.access_count as usize)
            .and_then(|end| shard.accesses.get(start..end))
            .ok_or_else(|| record_error("its accesses lie outside the shard's list".into()))?;
        let missing = |kind: &str| record_error(format!("no {kind} event left for it"));
        let event = match event_kind(cpu.opcode) {
            None => ClassEvent::None,
            Some(EventKind::Alu) => ClassEvent::Alu(alu.next().ok_or_else(|| missing("ALU"))?),
            Some(EventKind::MulDiv) => {
                ClassEvent::MulDiv(mul_div.next().ok_or_else(|| missing("mul/div"))?)
            }
            Some(EventKind::Branch) => {
                ClassEvent::Branch(branch.next().ok_or_else(|| missing("branch"))?)
            }
            Some(EventKind::Memory) => {
                ClassEvent::Memory(memory.next().ok_or_else(|| missing("memory"))?)
            }
            Some(EventKind::Syscall) => {
                let event = syscall.next().ok_or_else(|| missing("syscall"))?;
                let precompile = shard.precompile.iter().find(|p| p.clk == event.clk);
                ClassEvent::Syscall(event, precompile)
            }
        };
        executed.push(Executed {
            index,
            clk,
            pc: cpu.pc,
            next_pc: cpu.next_pc,
            instruction,
            accesses,
            event,
            annulled_slot: cpu.annulled_slot,
        });
    }
    let leftover = alu.len() + mul_div.len() + branch.len() + memory.len() + syscall.len();
    if leftover != 0 {
        return Err(TraceError::UnpairedEvents { count: leftover });
    }
    Ok(executed)
}
