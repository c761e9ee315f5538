//! The MIPS32r2 interpreter.
//!
//! # Machine model
//! The state is `pc`/`next_pc` (the delay-slot model of the MIPS manual), 32 GPRs, HI/LO, the LL bit, the
//! FPU registers and paged memory. Each step executes the instruction at `pc`, then `pc <- next_pc` and
//! `next_pc <- next_pc + 4`, or the branch target if a branch/jump was taken. Branch-likely instructions
//! that are not taken skip (annul) their delay slot: the slot is not executed and not counted.
//!
//! Deterministic choices where the manual leaves results UNPREDICTABLE:
//! - MUL leaves HI and LO unchanged.
//! - DIV/DIVU by zero: `LO = 0xffff_ffff`, `HI = rs` (the dividend). gcc guards divisions with
//!   `teq divisor, $zero, 7`, so compiled code traps before reaching this.
//! - DIV of `i32::MIN` by `-1`: `LO = i32::MIN`, `HI = 0` (the wrapping result).
//! - A branch or jump in a delay slot is an error ([`ExecError::BranchInDelaySlot`]).
//! - SC succeeds iff the LL bit is set; LL sets it, SC clears it. Syscalls do not clear it: the zkVM has
//!   no exception return (`eret`, which clears it on Linux), and the bit is a memory-mapped location
//!   (`events::REG_LLBIT`) that only LL and SC touch, so SC is provable. Plain stores do not clear it
//!   (one hart, no other writers).
//! - RDHWR: `$0` CPUNum = 0, `$1` SYNCI_Step = 0 (no caches to synchronise), `$2` CC = low 32 bits of the
//!   cycle count, `$3` CCRes = 1, `$29` UserLocal = the thread pointer set by `set_thread_area`.
//! - MOVZ/MOVN with a false condition leave `rd` unchanged; so does ADD/ADDI/SUB when it traps.
//!
//! Memory: accesses below `layout::NULL_GUARD_END` or at/above `layout::USER_END` fault, as do misaligned
//! ones, and every store into an executable segment (`WriteToCode`): the prover fixes the code in a
//! preprocessed table, so self-modifying code (or data kept in a writable+executable segment) is refused.
//!
//! # Performance
//! Every word of the executable segments is decoded once, at load, into a `Vec` indexed by
//! `(pc - text_base) / 4`. The step function is generic over tracing (`const TRACE: bool`) so the fast
//! mode carries no recording code. The cycle limit and shard boundaries share a single counter compare
//! per step.

mod fpu;

use std::collections::BTreeMap;
use std::io::Write;

use zkmips_abi::layout;

use crate::context::GuestContext;
use crate::elf::Program;
use crate::error::{ExecError, TrapKind};
use crate::events::*;
use crate::instruction::{InstrClass, Instruction, Opcode, decode};
use crate::memory::{MemFault, Memory};
use crate::record::{CpuState, ExecutionRecord, Recorder, Shard};
use crate::syscalls::{SyscallConfig, SyscallOutcome, SyscallState, dispatch};

pub use fpu::Fpu;

/// Execution mode.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// Run as fast as possible; no record.
    #[default]
    Fast,
    /// Record every event for the prover ([`ExecutionReport::record`]).
    Tracing,
}

/// Default shard size in cycles.
pub const DEFAULT_SHARD_CYCLES: u64 = 1 << 22;

/// Largest shard size: shard-local timestamps (8 per cycle) must fit in a `u32`.
pub const MAX_SHARD_CYCLES: u64 = 1 << 28;

/// How to run a program.
pub struct ExecutorConfig {
    /// Stop with [`ExecError::CycleLimit`] before executing instruction number `max_cycles + 1`.
    pub max_cycles: Option<u64>,
    pub mode: Mode,
    /// Tracing mode: cut a shard after this many cycles (one more if that would split a delay slot).
    /// Clamped to `1..=`[`MAX_SHARD_CYCLES`].
    pub shard_cycles: u64,
    /// `argv` (the first is the program name) and `NAME=value` environment strings.
    pub args: Vec<String>,
    pub env: Vec<String>,
    pub syscalls: SyscallConfig,
    /// Where to write every executed PC as `0x%08x\n` (delay slots included, annulled slots excluded).
    /// Written once per instruction: pass a buffered writer. Flushed when `run` returns, even on error.
    pub trace_pcs: Option<Box<dyn Write + Send>>,
    /// Tracing mode: sees each shard as soon as it is complete, so a long run never holds its whole
    /// record in memory (about 95 bytes per cycle). A sink that only reads the shard lets the executor
    /// reuse its buffers for the next one (the fast way to stream); one that keeps it takes it with
    /// `std::mem::take`. With a sink, [`ExecutionReport::record`] has no shards.
    pub shard_sink: Option<ShardSink>,
    /// Count executed instructions per opcode for [`ExecutionReport::opcode_counts`] and
    /// [`ExecutionReport::class_counts`] (both empty when off). Costs a memory update per instruction,
    /// so a run that does not print statistics turns it off.
    pub count_opcodes: bool,
}

/// Consumer of finished shards (see [`ExecutorConfig::shard_sink`]).
pub type ShardSink = Box<dyn FnMut(&mut Shard) + Send>;

impl Default for ExecutorConfig {
    fn default() -> Self {
        Self {
            max_cycles: None,
            mode: Mode::Fast,
            shard_cycles: DEFAULT_SHARD_CYCLES,
            args: Vec::new(),
            env: Vec::new(),
            syscalls: SyscallConfig::default(),
            trace_pcs: None,
            shard_sink: None,
            count_opcodes: true,
        }
    }
}

impl core::fmt::Debug for ExecutorConfig {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ExecutorConfig")
            .field("max_cycles", &self.max_cycles)
            .field("mode", &self.mode)
            .field("shard_cycles", &self.shard_cycles)
            .field("args", &self.args)
            .field("env", &self.env)
            .field("syscalls", &self.syscalls)
            .field("trace_pcs", &self.trace_pcs.is_some())
            .field("shard_sink", &self.shard_sink.is_some())
            .field("count_opcodes", &self.count_opcodes)
            .finish()
    }
}

/// The first FPU instruction a run executed (FPU code runs but can never be proven).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FpuUse {
    pub pc: u32,
    pub word: u32,
}

/// The outcome of a completed run.
#[derive(Clone, Debug)]
pub struct ExecutionReport {
    pub exit_code: u32,
    /// Instructions executed (delay slots included, annulled slots excluded).
    pub cycles: u64,
    /// Executed count per opcode (non-zero only), in opcode order; empty unless
    /// [`ExecutorConfig::count_opcodes`].
    pub opcode_counts: Vec<(Opcode, u64)>,
    /// Executed count per class (non-zero only); empty unless [`ExecutorConfig::count_opcodes`].
    pub class_counts: Vec<(InstrClass, u64)>,
    pub used_fpu: Option<FpuUse>,
    pub public_values: Vec<u8>,
    /// Captured guest output (empty when `SyscallConfig::echo_output` sent it to the host).
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub hint_output: Vec<u8>,
    /// How many times each syscall number was served.
    pub syscall_counts: BTreeMap<u32, u64>,
    /// The record, in tracing mode.
    pub record: Option<ExecutionRecord>,
    /// Number of shards the run was cut into (tracing mode; 0 in fast mode), whether they were kept in
    /// `record` or handed to a sink.
    pub shards: u32,
    /// Set if writing the PC trace failed (the run itself is unaffected).
    pub trace_pcs_error: Option<String>,
}

/// The part of the machine a syscall handler sees: registers and memory, plus the recorder so every
/// access a handler makes lands in the record.
#[derive(Clone, Debug)]
pub struct Machine {
    pub(crate) regs: [u32; 32],
    pub(crate) hi: u32,
    pub(crate) lo: u32,
    pub(crate) pc: u32,
    pub(crate) next_pc: u32,
    pub(crate) llbit: bool,
    pub(crate) mem: Memory,
    /// Word of the instruction being executed (for syscall error messages).
    pub(crate) word: u32,
    pub(crate) tracing: bool,
    pub(crate) rec: Recorder,
}

impl Machine {
    #[inline(always)]
    fn r<const T: bool>(&mut self, reg: u8, slot: u64) -> u32 {
        let i = (reg & 31) as usize;
        let v = self.regs[i];
        if T {
            self.rec.reg(i as u32, v, v, slot);
        }
        v
    }

    #[inline(always)]
    fn w<const T: bool>(&mut self, reg: u8, value: u32) {
        let i = (reg & 31) as usize;
        if T {
            let kept = if i == 0 { 0 } else { value };
            self.rec.reg(i as u32, self.regs[i], kept, SLOT_DST);
        }
        // Branch-free write; register 0 is restored instead of tested.
        self.regs[i] = value;
        self.regs[0] = 0;
    }

    #[inline(always)]
    fn set_hi<const T: bool>(&mut self, value: u32) {
        if T {
            self.rec.reg(REG_HI, self.hi, value, SLOT_HI);
        }
        self.hi = value;
    }

    #[inline(always)]
    fn set_lo<const T: bool>(&mut self, value: u32) {
        if T {
            self.rec.reg(REG_LO, self.lo, value, SLOT_LO);
        }
        self.lo = value;
    }

    #[inline(always)]
    fn get_hi<const T: bool>(&mut self) -> u32 {
        if T {
            self.rec.reg(REG_HI, self.hi, self.hi, SLOT_HI);
        }
        self.hi
    }

    #[inline(always)]
    fn get_lo<const T: bool>(&mut self) -> u32 {
        if T {
            self.rec.reg(REG_LO, self.lo, self.lo, SLOT_LO);
        }
        self.lo
    }

    /// Set the LL/SC link bit, recording the access to [`REG_LLBIT`] (previous bit, new bit).
    #[inline(always)]
    fn set_llbit<const T: bool>(&mut self, value: bool) {
        if T {
            self.rec
                .reg(REG_LLBIT, self.llbit as u32, value as u32, SLOT_LLBIT);
        }
        self.llbit = value;
    }

    /// Record a read of the memory word containing `addr` (already checked).
    #[inline(always)]
    fn note_read<const T: bool>(&mut self, addr: u32) -> u32 {
        let word_addr = addr & !3;
        let v = self.mem.peek_word(word_addr);
        if T {
            self.rec.mem(word_addr, v, v, SLOT_MEM);
        }
        v
    }

    /// Whether `GuestContext` accesses are recorded: in tracing mode, while a syscall is being served.
    /// (Host edits through `GuestContext` outside a syscall are not part of the execution and are not
    /// recorded; making them in tracing mode leaves a record the prover will reject.)
    fn recording(&self) -> bool {
        self.tracing && self.rec.in_syscall
    }

    fn state(&self, clk: u64) -> CpuState {
        CpuState {
            clk,
            pc: self.pc,
            next_pc: self.next_pc,
            regs: self.regs,
            hi: self.hi,
            lo: self.lo,
            llbit: self.llbit,
        }
    }

    fn fault(&self, f: MemFault) -> ExecError {
        f.at(self.pc, self.word)
    }

    /// In tracing mode, record a syscall access to each word overlapping `[addr, addr+len)`.
    fn note_syscall_words(&mut self, addr: u32, len: u32, prev: &[u32]) {
        if len == 0 {
            return;
        }
        let first = addr & !3;
        let last = (addr + (len - 1)) & !3;
        for (i, w) in (first..=last).step_by(4).enumerate() {
            let now = self.mem.peek_word(w);
            let before = prev.get(i).copied().unwrap_or(now);
            self.rec.syscall_access(w, before, now);
        }
    }

    fn words_in(&self, addr: u32, len: u32) -> Vec<u32> {
        if len == 0 {
            return Vec::new();
        }
        let first = addr & !3;
        let last = (addr + (len - 1)) & !3;
        (first..=last)
            .step_by(4)
            .map(|w| self.mem.peek_word(w))
            .collect()
    }
}

impl GuestContext for Machine {
    fn pc(&self) -> u32 {
        self.pc
    }

    fn reg(&self, index: usize) -> u32 {
        self.regs.get(index).copied().unwrap_or(0)
    }

    fn set_reg(&mut self, index: usize, value: u32) {
        if index == 0 || index >= 32 {
            return;
        }
        if self.recording() {
            self.rec
                .syscall_access(index as u32, self.regs[index], value);
        }
        self.regs[index] = value;
    }

    fn read_word(&mut self, addr: u32) -> Result<u32, ExecError> {
        let v = self.mem.load_word(addr).map_err(|f| self.fault(f))?;
        if self.recording() {
            self.rec.syscall_access(addr, v, v);
        }
        Ok(v)
    }

    fn write_word(&mut self, addr: u32, value: u32) -> Result<(), ExecError> {
        let prev = self
            .mem
            .store_word(addr, value)
            .map_err(|f| self.fault(f))?;
        if self.recording() {
            self.rec.syscall_access(addr, prev, value);
        }
        Ok(())
    }

    fn read_bytes(&mut self, addr: u32, len: u32) -> Result<Vec<u8>, ExecError> {
        self.mem
            .check_range(addr, len, false)
            .map_err(|f| self.fault(f))?;
        let bytes = (0..len).map(|i| self.mem.peek_byte(addr + i)).collect();
        if self.recording() {
            self.note_syscall_words(addr, len, &[]);
        }
        Ok(bytes)
    }

    fn write_bytes(&mut self, addr: u32, bytes: &[u8]) -> Result<(), ExecError> {
        let len = u32::try_from(bytes.len())
            .map_err(|_| self.fault(MemFault::InvalidAddress { addr }))?;
        self.mem
            .check_range(addr, len, true)
            .map_err(|f| self.fault(f))?;
        let prev = if self.recording() {
            self.words_in(addr, len)
        } else {
            Vec::new()
        };
        self.mem.poke_bytes(addr, bytes);
        if self.recording() {
            self.note_syscall_words(addr, len, &prev);
        }
        Ok(())
    }
}

/// A loaded program ready to run.
pub struct Executor {
    m: Machine,
    /// Predecoded instructions from `text_base`; `None` for words outside executable segments or words that
    /// do not decode (an error only if executed).
    code: Vec<Option<Instruction>>,
    text_base: u32,
    /// Executable ranges `[start, end)`, to tell "not code" from "bad instruction".
    exec_ranges: Vec<(u32, u32)>,
    syscalls: SyscallState,
    fpu: Fpu,
    mode: Mode,
    max_cycles: u64,
    shard_cycles: u64,
    /// Cycle count at which the run loop must leave its fast path (cycle limit, shard boundary or exit).
    next_check: u64,
    /// Cycle count at which the current shard should end.
    shard_end: u64,
    trace_pcs: Option<Box<dyn Write + Send>>,
    trace_pcs_error: Option<String>,
    shard_sink: Option<ShardSink>,
    cycles: u64,
    counts: [u64; NUM_OPCODES],
    count_opcodes: bool,
    used_fpu: Option<FpuUse>,
    exit_code: Option<u32>,
    /// Cycle number (`clk`) of the delay slot of the last branch or jump that had one: only branches
    /// write and read it, so ordinary instructions pay nothing for the branch-in-delay-slot check.
    delay_slot_clk: u64,
    record_taken: bool,
    /// Shards finished so far (kept or handed to the sink).
    shards_cut: u32,
}

impl core::fmt::Debug for Executor {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Executor")
            .field("pc", &self.m.pc)
            .field("next_pc", &self.m.next_pc)
            .field("cycles", &self.cycles)
            .field("mode", &self.mode)
            .field("exit_code", &self.exit_code)
            .finish_non_exhaustive()
    }
}

impl Executor {
    /// Load `program`: copy its segments, zero bss, predecode its code, build the initial stack.
    pub fn new(program: &Program, config: ExecutorConfig) -> Result<Executor, ExecError> {
        let mut mem = Memory::new();
        let mut exec_ranges = Vec::new();
        for seg in &program.segments {
            if seg.mem_size == 0 {
                continue;
            }
            let end = u64::from(seg.vaddr) + u64::from(seg.mem_size);
            if seg.vaddr < layout::NULL_GUARD_END || end > u64::from(layout::USER_END) {
                return Err(ExecError::InvalidAddress {
                    pc: program.entry,
                    word: 0,
                    addr: seg.vaddr,
                });
            }
            let file_len = seg.data.len().min(seg.mem_size as usize);
            mem.poke_bytes(seg.vaddr, &seg.data[..file_len]);
            if seg.executable {
                exec_ranges.push((seg.vaddr, end as u32));
            }
        }
        exec_ranges.sort_unstable();
        for &(s, e) in &exec_ranges {
            mem.add_code_range(s, e);
        }

        let text_base = exec_ranges.iter().map(|r| r.0 & !3).min().unwrap_or(0);
        let text_end = exec_ranges.iter().map(|r| r.1).max().unwrap_or(0);
        let words = (text_end - text_base).div_ceil(4) as usize;
        let code = (0..words)
            .map(|i| {
                let addr = text_base + 4 * i as u32;
                if exec_ranges.iter().any(|&(s, e)| addr >= s && addr < e) {
                    decode(mem.peek_word(addr)).ok()
                } else {
                    None
                }
            })
            .collect();

        let stack = crate::image::try_build_initial_stack(program, &config.args, &config.env)?;
        mem.poke_bytes(stack.base, &stack.bytes);
        let mut regs = [0u32; 32];
        regs[29] = stack.sp;

        let tracing = config.mode == Mode::Tracing;
        let mut exec = Executor {
            m: Machine {
                regs,
                hi: 0,
                lo: 0,
                pc: program.entry,
                next_pc: program.entry.wrapping_add(4),
                llbit: false,
                mem,
                word: 0,
                tracing,
                rec: Recorder::new(tracing),
            },
            code,
            text_base,
            exec_ranges,
            syscalls: {
                let mut state = SyscallState::new(&config.syscalls, program.brk_start());
                state.set_exe_path(config.args.first().map_or("", String::as_str));
                state
            },
            fpu: Fpu::default(),
            mode: config.mode,
            max_cycles: config.max_cycles.unwrap_or(u64::MAX),
            shard_cycles: config.shard_cycles.clamp(1, MAX_SHARD_CYCLES),
            next_check: 0,
            shard_end: u64::MAX,
            trace_pcs: config.trace_pcs,
            trace_pcs_error: None,
            shard_sink: config.shard_sink,
            cycles: 0,
            counts: [0; NUM_OPCODES],
            count_opcodes: config.count_opcodes,
            used_fpu: None,
            exit_code: None,
            delay_slot_clk: 0,
            record_taken: false,
            shards_cut: 0,
        };
        if tracing {
            exec.shard_end = exec.shard_cycles;
            let state = exec.m.state(1);
            exec.m.rec.open_shard(state, exec.shard_cycles);
        }
        exec.update_next_check();
        Ok(exec)
    }

    fn update_next_check(&mut self) {
        self.next_check = if self.exit_code.is_some() {
            0
        } else {
            self.max_cycles.min(self.shard_end)
        };
    }

    /// Run until the guest exits or an error stops it.
    pub fn run(&mut self) -> Result<ExecutionReport, ExecError> {
        match (self.mode, self.trace_pcs.is_some(), self.count_opcodes) {
            (Mode::Fast, false, false) => self.run_loop::<false, false, false>()?,
            (Mode::Fast, false, true) => self.run_loop::<false, false, true>()?,
            (Mode::Fast, true, false) => self.run_loop::<false, true, false>()?,
            (Mode::Fast, true, true) => self.run_loop::<false, true, true>()?,
            (Mode::Tracing, false, false) => self.run_loop::<true, false, false>()?,
            (Mode::Tracing, false, true) => self.run_loop::<true, false, true>()?,
            (Mode::Tracing, true, false) => self.run_loop::<true, true, false>()?,
            (Mode::Tracing, true, true) => self.run_loop::<true, true, true>()?,
        }
        Ok(self.report())
    }

    /// Execute one instruction. Returns the exit code once the guest has exited (and then does nothing).
    pub fn step(&mut self) -> Result<Option<u32>, ExecError> {
        if self.cycles >= self.next_check && self.boundary()? {
            return Ok(self.exit_code);
        }
        if self.trace_pcs.is_some() {
            self.emit_pc();
        }
        // Stepping is for tests and debuggers: always count, `report` drops the counts when not asked.
        let (pc, next_pc) = (self.m.pc, self.m.next_pc);
        let (new_pc, new_next) = match self.mode {
            Mode::Fast => self.exec::<false, true>(pc, next_pc)?,
            Mode::Tracing => self.exec::<true, true>(pc, next_pc)?,
        };
        self.m.pc = new_pc;
        self.m.next_pc = new_next;
        Ok(self.exit_code)
    }

    fn run_loop<const T: bool, const PCS: bool, const STATS: bool>(
        &mut self,
    ) -> Result<(), ExecError> {
        let result = self.run_until_stop::<T, PCS, STATS>();
        // Flush even after an error: the PC trace is most useful when the guest failed.
        if let Some(w) = self.trace_pcs.as_mut()
            && let Err(e) = w.flush()
            && self.trace_pcs_error.is_none()
        {
            self.trace_pcs_error = Some(e.to_string());
        }
        result
    }

    fn run_until_stop<const T: bool, const PCS: bool, const STATS: bool>(
        &mut self,
    ) -> Result<(), ExecError> {
        let mut pc = self.m.pc;
        let mut next_pc = self.m.next_pc;
        loop {
            if self.cycles >= self.next_check {
                self.m.pc = pc;
                self.m.next_pc = next_pc;
                if self.boundary()? {
                    return Ok(());
                }
            }
            if PCS {
                self.m.pc = pc;
                self.emit_pc();
            }
            match self.exec::<T, STATS>(pc, next_pc) {
                Ok((new_pc, new_next)) => (pc, next_pc) = (new_pc, new_next),
                Err(e) => {
                    // Leave the machine at the failing instruction, as a debugger would show it.
                    self.m.pc = pc;
                    self.m.next_pc = next_pc;
                    return Err(e);
                }
            }
        }
    }

    /// Slow path at `next_check`: returns `true` when the run is over (exit), errors at the cycle limit,
    /// cuts shards in tracing mode.
    #[cold]
    #[inline(never)]
    fn boundary(&mut self) -> Result<bool, ExecError> {
        if self.exit_code.is_some() {
            self.next_check = 0;
            return Ok(true);
        }
        if self.cycles >= self.max_cycles {
            return Err(ExecError::CycleLimit {
                pc: self.m.pc,
                limit: self.max_cycles,
            });
        }
        if self.mode == Mode::Tracing && self.cycles >= self.shard_end {
            if self.in_delay_slot() {
                // Never separate a branch from its delay slot: look again after the slot.
                self.next_check = self.cycles + 1;
                return Ok(false);
            }
            let state = self.m.state(self.cycles + 1);
            let shard = self.m.rec.close_shard(state, &self.m.mem);
            self.deliver(shard);
            self.m.rec.open_shard(state, self.shard_cycles);
            self.shard_end = self.cycles.saturating_add(self.shard_cycles);
        }
        self.update_next_check();
        Ok(false)
    }

    /// Hand a finished shard to the sink (then reuse its buffers) or keep it in the record.
    fn deliver(&mut self, mut shard: Shard) {
        self.shards_cut += 1;
        match self.shard_sink.as_mut() {
            Some(sink) => {
                sink(&mut shard);
                self.m.rec.recycle(shard);
            }
            None => self.m.rec.keep(shard),
        }
    }

    fn emit_pc(&mut self) {
        let mut buf = *b"0x00000000\n";
        let pc = self.m.pc;
        for i in 0..8 {
            let nibble = ((pc >> (28 - 4 * i)) & 15) as usize;
            buf[2 + i] = b"0123456789abcdef"[nibble];
        }
        if let Some(w) = self.trace_pcs.as_mut()
            && self.trace_pcs_error.is_none()
            && let Err(e) = w.write_all(&buf)
        {
            self.trace_pcs_error = Some(e.to_string());
        }
    }

    #[cold]
    fn fetch_error(&self, pc: u32) -> ExecError {
        if pc & 3 != 0 {
            return ExecError::MisalignedPc { pc };
        }
        if !self.exec_ranges.iter().any(|&(s, e)| pc >= s && pc < e) {
            return ExecError::PcOutsideCode { pc };
        }
        let word = self.m.mem.peek_word(pc);
        match decode(word) {
            Err(e) => ExecError::UnknownInstruction {
                pc,
                word: e.word,
                reason: e.reason,
            },
            // Unreachable: decodable words in code are predecoded.
            Ok(_) => ExecError::UnknownInstruction {
                pc,
                word,
                reason: "instruction was not predecoded",
            },
        }
    }

    /// Execute the instruction at `pc` (with `next_pc` after it); returns the new `(pc, next_pc)`.
    /// `self.m.pc`/`next_pc` may be stale: the run loop keeps them in locals and writes them back only
    /// where something reads them (syscalls, the FPU's errors, boundaries, errors).
    #[inline(always)]
    fn exec<const T: bool, const STATS: bool>(
        &mut self,
        pc: u32,
        next_pc: u32,
    ) -> Result<(u32, u32), ExecError> {
        use Opcode::*;
        let inst = match self
            .code
            .get((pc.wrapping_sub(self.text_base) >> 2) as usize)
        {
            Some(Some(inst)) if pc & 3 == 0 => *inst,
            _ => return Err(self.fetch_error(pc)),
        };
        self.cycles += 1;
        if STATS {
            self.counts[inst.opcode as usize] += 1;
        }
        let clk = self.cycles;
        let access_start = if T {
            // (`m.word`, for syscall error messages, is set by the syscall path itself.)
            self.m.rec.clk = clk;
            self.m.rec.cur.accesses.len()
        } else {
            0
        };
        let op = inst.opcode;
        let word = inst.word;
        let imm = inst.imm;
        let mut new_pc = next_pc;
        let mut new_next = next_pc.wrapping_add(4);
        let mut annulled = false;
        let m = &mut self.m;

        macro_rules! alu {
            ($a:expr, $b:expr, $c:expr, $d:expr) => {
                if T {
                    m.rec.cur.alu.push(AluEvent {
                        opcode: op,
                        a: $a,
                        b: $b,
                        c: $c,
                        d: $d,
                    });
                }
            };
        }
        // rd = f(rs, rt)
        macro_rules! rrr {
            (|$b:ident, $c:ident| $e:expr) => {{
                let $b = m.r::<T>(inst.rs, SLOT_RS);
                let $c = m.r::<T>(inst.rt, SLOT_RT);
                let a = $e;
                m.w::<T>(inst.rd, a);
                alu!(a, $b, $c, 0);
            }};
        }
        // rt = f(rs, imm)
        macro_rules! rri {
            (|$b:ident, $c:ident| $e:expr) => {{
                let $b = m.r::<T>(inst.rs, SLOT_RS);
                let $c = imm;
                let a = $e;
                m.w::<T>(inst.rt, a);
                alu!(a, $b, $c, 0);
            }};
        }
        // rd = f(rt, sa)
        macro_rules! shift_imm {
            (|$b:ident, $c:ident| $e:expr) => {{
                let $b = m.r::<T>(inst.rt, SLOT_RT);
                let $c = inst.sa as u32;
                let a = $e;
                m.w::<T>(inst.rd, a);
                alu!(a, $b, $c, 0);
            }};
        }
        // rd = f(rt, rs & 31)
        macro_rules! shift_var {
            (|$b:ident, $c:ident| $e:expr) => {{
                let $c = m.r::<T>(inst.rs, SLOT_RS) & 31;
                let $b = m.r::<T>(inst.rt, SLOT_RT);
                let a = $e;
                m.w::<T>(inst.rd, a);
                alu!(a, $b, $c, 0);
            }};
        }
        // rd = f(rt)
        macro_rules! unary_rt {
            (|$b:ident| $e:expr) => {{
                let $b = m.r::<T>(inst.rt, SLOT_RT);
                let a = $e;
                m.w::<T>(inst.rd, a);
                alu!(a, $b, 0, 0);
            }};
        }
        // First thing in every branch/jump arm, before any (recorded) register read: a branch executed in
        // the delay slot of another is an error, reported as if this instruction never started.
        macro_rules! not_in_delay_slot {
            () => {
                if self.delay_slot_clk == clk {
                    self.cycles -= 1;
                    if STATS {
                        self.counts[op as usize] -= 1;
                    }
                    return Err(ExecError::BranchInDelaySlot { pc, word });
                }
            };
        }
        macro_rules! trap {
            ($kind:expr) => {
                return Err(ExecError::Trap {
                    pc,
                    word,
                    kind: $kind,
                })
            };
        }
        macro_rules! fault {
            ($e:expr) => {
                $e.map_err(|f: MemFault| f.at(pc, word))?
            };
        }
        // A conditional branch: `$taken`, with `rs`/`rt` values for the event.
        macro_rules! branch {
            ($rs:expr, $rt:expr, $taken:expr, likely: $likely:expr, link: $link:expr) => {{
                let rs_value = $rs;
                let rt_value = $rt;
                let taken: bool = $taken;
                let link = if $link {
                    m.w::<T>(31, pc.wrapping_add(8));
                    pc.wrapping_add(8)
                } else {
                    0
                };
                let target = pc.wrapping_add(4).wrapping_add(imm);
                if taken {
                    new_next = target;
                    self.delay_slot_clk = clk + 1;
                } else if $likely {
                    new_pc = next_pc.wrapping_add(4);
                    new_next = next_pc.wrapping_add(8);
                    annulled = true;
                } else {
                    self.delay_slot_clk = clk + 1;
                }
                if T {
                    m.rec.cur.branch.push(BranchEvent {
                        pc,
                        opcode: op,
                        taken,
                        rs_value,
                        rt_value,
                        target,
                        link,
                    });
                }
            }};
        }
        macro_rules! jump {
            ($rs_value:expr, $target:expr, $link_reg:expr) => {{
                let target: u32 = $target;
                let link = match $link_reg {
                    Some(r) => {
                        m.w::<T>(r, pc.wrapping_add(8));
                        pc.wrapping_add(8)
                    }
                    None => 0,
                };
                new_next = target;
                self.delay_slot_clk = clk + 1;
                if T {
                    m.rec.cur.branch.push(BranchEvent {
                        pc,
                        opcode: op,
                        taken: true,
                        rs_value: $rs_value,
                        rt_value: 0,
                        target,
                        link,
                    });
                }
            }};
        }
        macro_rules! mem_event {
            ($addr:expr, $reg:expr, $prev:expr, $new:expr) => {
                if T {
                    m.rec.cur.memory.push(MemoryEvent {
                        opcode: op,
                        addr: $addr,
                        reg_value: $reg,
                        mem_prev: $prev,
                        mem_value: $new,
                    });
                }
            };
        }
        // rt = extend(load(rs + imm))
        macro_rules! load {
            ($load:ident, |$v:ident| $ext:expr) => {{
                let addr = m.r::<T>(inst.rs, SLOT_RS).wrapping_add(imm);
                let $v = fault!(m.mem.$load(addr));
                let mem_word = if T { m.note_read::<T>(addr) } else { 0 };
                let value = $ext;
                m.w::<T>(inst.rt, value);
                mem_event!(addr, value, mem_word, mem_word);
            }};
        }
        macro_rules! store_sub {
            ($store:ident) => {{
                let addr = m.r::<T>(inst.rs, SLOT_RS).wrapping_add(imm);
                let value = m.r::<T>(inst.rt, SLOT_RT);
                let (prev, new) = fault!(m.mem.$store(addr, value));
                if T {
                    m.rec.mem(addr & !3, prev, new, SLOT_MEM);
                }
                mem_event!(addr, value, prev, new);
            }};
        }
        macro_rules! muldiv {
            ($b:expr, $c:expr, $hi:expr, $lo:expr, $prev_hi:expr, $prev_lo:expr) => {
                if T {
                    m.rec.cur.mul_div.push(MulDivEvent {
                        opcode: op,
                        b: $b,
                        c: $c,
                        hi: $hi,
                        lo: $lo,
                        prev_hi: $prev_hi,
                        prev_lo: $prev_lo,
                    });
                }
            };
        }
        // HI:LO = f(rs, rt, HI:LO)
        macro_rules! hilo_op {
            (accumulate: $acc:expr, |$b:ident, $c:ident, $old:ident| $e:expr) => {{
                let $b = m.r::<T>(inst.rs, SLOT_RS);
                let $c = m.r::<T>(inst.rt, SLOT_RT);
                let (prev_hi, prev_lo) = if $acc {
                    (m.get_hi::<false>(), m.get_lo::<false>())
                } else {
                    (m.hi, m.lo)
                };
                let $old = ((prev_hi as u64) << 32) | prev_lo as u64;
                let result: u64 = $e;
                let (hi, lo) = ((result >> 32) as u32, result as u32);
                m.set_hi::<T>(hi);
                m.set_lo::<T>(lo);
                muldiv!($b, $c, hi, lo, prev_hi, prev_lo);
            }};
        }

        match op {
            // --- ALU, register form ---
            Add => {
                let b = m.r::<T>(inst.rs, SLOT_RS);
                let c = m.r::<T>(inst.rt, SLOT_RT);
                let Some(a) = (b as i32).checked_add(c as i32) else {
                    trap!(TrapKind::IntegerOverflow)
                };
                m.w::<T>(inst.rd, a as u32);
                alu!(a as u32, b, c, 0);
            }
            Sub => {
                let b = m.r::<T>(inst.rs, SLOT_RS);
                let c = m.r::<T>(inst.rt, SLOT_RT);
                let Some(a) = (b as i32).checked_sub(c as i32) else {
                    trap!(TrapKind::IntegerOverflow)
                };
                m.w::<T>(inst.rd, a as u32);
                alu!(a as u32, b, c, 0);
            }
            Addu => rrr!(|b, c| b.wrapping_add(c)),
            Subu => rrr!(|b, c| b.wrapping_sub(c)),
            And => rrr!(|b, c| b & c),
            Or => rrr!(|b, c| b | c),
            Xor => rrr!(|b, c| b ^ c),
            Nor => rrr!(|b, c| !(b | c)),
            Slt => rrr!(|b, c| ((b as i32) < (c as i32)) as u32),
            Sltu => rrr!(|b, c| (b < c) as u32),
            Sll => shift_imm!(|b, c| b << c),
            Srl => shift_imm!(|b, c| b >> c),
            Sra => shift_imm!(|b, c| ((b as i32) >> c) as u32),
            Rotr => shift_imm!(|b, c| b.rotate_right(c)),
            Sllv => shift_var!(|b, c| b << c),
            Srlv => shift_var!(|b, c| b >> c),
            Srav => shift_var!(|b, c| ((b as i32) >> c) as u32),
            Rotrv => shift_var!(|b, c| b.rotate_right(c)),
            Movz | Movn => {
                let b = m.r::<T>(inst.rs, SLOT_RS);
                let c = m.r::<T>(inst.rt, SLOT_RT);
                let old = m.regs[(inst.rd & 31) as usize];
                let cond = if op == Movz { c == 0 } else { c != 0 };
                let a = if cond { b } else { old };
                // The destination is written either way (with its old value when the condition is false)
                // so every MOVZ/MOVN has the same access shape.
                m.w::<T>(inst.rd, a);
                alu!(a, b, c, old);
            }
            Clz => {
                let b = m.r::<T>(inst.rs, SLOT_RS);
                let a = b.leading_zeros();
                m.w::<T>(inst.rd, a);
                alu!(a, b, 0, 0);
            }
            Clo => {
                let b = m.r::<T>(inst.rs, SLOT_RS);
                let a = b.leading_ones();
                m.w::<T>(inst.rd, a);
                alu!(a, b, 0, 0);
            }
            Seb => unary_rt!(|b| b as i8 as i32 as u32),
            Seh => unary_rt!(|b| b as i16 as i32 as u32),
            Wsbh => unary_rt!(|b| ((b & 0x00ff_00ff) << 8) | ((b >> 8) & 0x00ff_00ff)),
            Ext => {
                let (pos, size) = (inst.sa as u32, inst.rd as u32);
                if size == 0 || pos + size > 32 {
                    return Err(ExecError::UnknownInstruction {
                        pc,
                        word,
                        reason: "EXT/INS field outside the register",
                    });
                }
                let b = m.r::<T>(inst.rs, SLOT_RS);
                let a = (b >> pos) & low_mask(size);
                m.w::<T>(inst.rt, a);
                alu!(a, b, pos | (size << 8), 0);
            }
            Ins => {
                let (pos, size) = (inst.sa as u32, inst.rd as u32);
                if size == 0 || pos + size > 32 {
                    return Err(ExecError::UnknownInstruction {
                        pc,
                        word,
                        reason: "EXT/INS field outside the register",
                    });
                }
                let b = m.r::<T>(inst.rs, SLOT_RS);
                let old = m.r::<T>(inst.rt, SLOT_RT);
                let mask = low_mask(size) << pos;
                let a = (old & !mask) | ((b << pos) & mask);
                m.w::<T>(inst.rt, a);
                alu!(a, b, pos | (size << 8), old);
            }

            // --- ALU, immediate form ---
            Addi => {
                let b = m.r::<T>(inst.rs, SLOT_RS);
                let Some(a) = (b as i32).checked_add(imm as i32) else {
                    trap!(TrapKind::IntegerOverflow)
                };
                m.w::<T>(inst.rt, a as u32);
                alu!(a as u32, b, imm, 0);
            }
            Addiu => rri!(|b, c| b.wrapping_add(c)),
            Slti => rri!(|b, c| ((b as i32) < (c as i32)) as u32),
            Sltiu => rri!(|b, c| (b < c) as u32),
            Andi => rri!(|b, c| b & c),
            Ori => rri!(|b, c| b | c),
            Xori => rri!(|b, c| b ^ c),
            Lui => {
                m.w::<T>(inst.rt, imm);
                alu!(imm, 0, imm, 0);
            }

            // --- multiply / divide ---
            Mul => {
                let b = m.r::<T>(inst.rs, SLOT_RS);
                let c = m.r::<T>(inst.rt, SLOT_RT);
                let a = (b as i32).wrapping_mul(c as i32) as u32;
                m.w::<T>(inst.rd, a);
                muldiv!(b, c, m.hi, a, m.hi, m.lo);
            }
            Mult => {
                hilo_op!(accumulate: false, |b, c, _old| (b as i32 as i64 * c as i32 as i64) as u64)
            }
            Multu => hilo_op!(accumulate: false, |b, c, _old| b as u64 * c as u64),
            Madd => {
                hilo_op!(accumulate: true, |b, c, old| old.wrapping_add((b as i32 as i64 * c as i32 as i64) as u64))
            }
            Maddu => hilo_op!(accumulate: true, |b, c, old| old.wrapping_add(b as u64 * c as u64)),
            Msub => {
                hilo_op!(accumulate: true, |b, c, old| old.wrapping_sub((b as i32 as i64 * c as i32 as i64) as u64))
            }
            Msubu => hilo_op!(accumulate: true, |b, c, old| old.wrapping_sub(b as u64 * c as u64)),
            Div => hilo_op!(accumulate: false, |b, c, _old| {
                let (q, r) = if c == 0 {
                    (u32::MAX, b)
                } else {
                    ((b as i32).wrapping_div(c as i32) as u32, (b as i32).wrapping_rem(c as i32) as u32)
                };
                ((r as u64) << 32) | q as u64
            }),
            Divu => hilo_op!(accumulate: false, |b, c, _old| {
                let (q, r) = match b.checked_div(c) {
                    Some(q) => (q, b % c),
                    None => (u32::MAX, b),
                };
                ((r as u64) << 32) | q as u64
            }),
            Mfhi => {
                let v = m.get_hi::<T>();
                m.w::<T>(inst.rd, v);
                muldiv!(0, 0, v, m.lo, v, m.lo);
            }
            Mflo => {
                let v = m.get_lo::<T>();
                m.w::<T>(inst.rd, v);
                muldiv!(0, 0, m.hi, v, m.hi, v);
            }
            Mthi => {
                let v = m.r::<T>(inst.rs, SLOT_RS);
                let prev = m.hi;
                m.set_hi::<T>(v);
                muldiv!(v, 0, v, m.lo, prev, m.lo);
            }
            Mtlo => {
                let v = m.r::<T>(inst.rs, SLOT_RS);
                let prev = m.lo;
                m.set_lo::<T>(v);
                muldiv!(v, 0, m.hi, v, m.hi, prev);
            }

            // --- branches ---
            Beq | Beql => {
                not_in_delay_slot!();
                let (b, c) = (m.r::<T>(inst.rs, SLOT_RS), m.r::<T>(inst.rt, SLOT_RT));
                branch!(b, c, b == c, likely: op == Beql, link: false)
            }
            Bne | Bnel => {
                not_in_delay_slot!();
                let (b, c) = (m.r::<T>(inst.rs, SLOT_RS), m.r::<T>(inst.rt, SLOT_RT));
                branch!(b, c, b != c, likely: op == Bnel, link: false)
            }
            Blez | Blezl => {
                not_in_delay_slot!();
                let b = m.r::<T>(inst.rs, SLOT_RS);
                branch!(b, 0, (b as i32) <= 0, likely: op == Blezl, link: false)
            }
            Bgtz | Bgtzl => {
                not_in_delay_slot!();
                let b = m.r::<T>(inst.rs, SLOT_RS);
                branch!(b, 0, (b as i32) > 0, likely: op == Bgtzl, link: false)
            }
            Bltz | Bltzl | Bltzal | Bltzall => {
                not_in_delay_slot!();
                let b = m.r::<T>(inst.rs, SLOT_RS);
                branch!(b, 0, (b as i32) < 0, likely: matches!(op, Bltzl | Bltzall), link: matches!(op, Bltzal | Bltzall))
            }
            Bgez | Bgezl | Bgezal | Bgezall => {
                not_in_delay_slot!();
                let b = m.r::<T>(inst.rs, SLOT_RS);
                branch!(b, 0, (b as i32) >= 0, likely: matches!(op, Bgezl | Bgezall), link: matches!(op, Bgezal | Bgezall))
            }
            J => {
                not_in_delay_slot!();
                jump!(0, (pc.wrapping_add(4) & 0xf000_0000) | imm, None::<u8>)
            }
            Jal => {
                not_in_delay_slot!();
                jump!(0, (pc.wrapping_add(4) & 0xf000_0000) | imm, Some(31u8))
            }
            Jr => {
                not_in_delay_slot!();
                let t = m.r::<T>(inst.rs, SLOT_RS);
                jump!(t, t, None::<u8>)
            }
            Jalr => {
                not_in_delay_slot!();
                let t = m.r::<T>(inst.rs, SLOT_RS);
                jump!(t, t, Some(inst.rd))
            }

            // --- loads / stores ---
            Lb => load!(load_byte, |v| v as u8 as i8 as i32 as u32),
            Lbu => load!(load_byte, |v| v),
            Lh => load!(load_half, |v| v as u16 as i16 as i32 as u32),
            Lhu => load!(load_half, |v| v),
            Lw => load!(load_word, |v| v),
            Ll => {
                load!(load_word, |v| v);
                m.set_llbit::<T>(true);
            }
            Lwl | Lwr => {
                let addr = m.r::<T>(inst.rs, SLOT_RS).wrapping_add(imm);
                let old = m.r::<T>(inst.rt, SLOT_RT);
                let mem_word = fault!(m.mem.load_word(addr & !3));
                if T {
                    m.note_read::<T>(addr);
                }
                let value = if op == Lwl {
                    let shift = (3 - (addr & 3)) * 8;
                    (mem_word << shift) | (old & low_mask(shift))
                } else {
                    let shift = (addr & 3) * 8;
                    (mem_word >> shift) | (old & !(u32::MAX >> shift))
                };
                m.w::<T>(inst.rt, value);
                mem_event!(addr, value, mem_word, mem_word);
            }
            Sb => store_sub!(store_byte),
            Sh => store_sub!(store_half),
            Sw => {
                let addr = m.r::<T>(inst.rs, SLOT_RS).wrapping_add(imm);
                let value = m.r::<T>(inst.rt, SLOT_RT);
                let prev = fault!(m.mem.store_word(addr, value));
                if T {
                    m.rec.mem(addr, prev, value, SLOT_MEM);
                }
                mem_event!(addr, value, prev, value);
            }
            Swl | Swr => {
                let addr = m.r::<T>(inst.rs, SLOT_RS).wrapping_add(imm);
                let value = m.r::<T>(inst.rt, SLOT_RT);
                let word_addr = addr & !3;
                let prev = fault!(m.mem.load_word(word_addr));
                let new = if op == Swl {
                    let shift = (3 - (addr & 3)) * 8;
                    (value >> shift) | (prev & !(u32::MAX >> shift))
                } else {
                    let shift = (addr & 3) * 8;
                    (value << shift) | (prev & low_mask(shift))
                };
                fault!(m.mem.store_word(word_addr, new));
                if T {
                    m.rec.mem(word_addr, prev, new, SLOT_MEM);
                }
                mem_event!(addr, value, prev, new);
            }
            Sc => {
                let addr = m.r::<T>(inst.rs, SLOT_RS).wrapping_add(imm);
                let value = m.r::<T>(inst.rt, SLOT_RT);
                let (prev, new, ok) = if m.llbit {
                    let prev = fault!(m.mem.store_word(addr, value));
                    (prev, value, 1)
                } else {
                    // A failed SC still checks its address, like a load.
                    let prev = fault!(m.mem.load_word(addr));
                    (prev, prev, 0)
                };
                if T {
                    m.rec.mem(addr, prev, new, SLOT_MEM);
                }
                m.w::<T>(inst.rt, ok);
                // Read-and-clear at `SLOT_LLBIT`, after the `rt` write: accesses stay in
                // timestamp order.
                m.set_llbit::<T>(false);
                mem_event!(addr, ok, prev, new);
            }

            // --- traps ---
            Teq | Tne | Tge | Tgeu | Tlt | Tltu => {
                let b = m.r::<T>(inst.rs, SLOT_RS);
                let c = m.r::<T>(inst.rt, SLOT_RT);
                if trap_condition(op, b, c) {
                    trap!(TrapKind::Conditional { code: imm });
                }
            }
            Teqi | Tnei | Tgei | Tgeiu | Tlti | Tltiu => {
                let b = m.r::<T>(inst.rs, SLOT_RS);
                if trap_condition(op, b, imm) {
                    trap!(TrapKind::Conditional { code: 0 });
                }
            }
            Break => trap!(TrapKind::Break { code: imm }),

            // --- system ---
            Syscall => {
                m.pc = pc;
                m.next_pc = next_pc;
                self.syscall::<T>(pc, inst)?
            }
            Sync | Synci | Pref => {}
            Rdhwr => {
                let value = match inst.rd {
                    0 | 1 => 0,
                    2 => clk as u32,
                    3 => 1,
                    29 => self.syscalls.thread_pointer(),
                    _ => {
                        return Err(ExecError::UnsupportedInstruction {
                            pc,
                            word,
                            what: "RDHWR of this register",
                        });
                    }
                };
                m.w::<T>(inst.rt, value);
                alu!(value, inst.rd as u32, 0, 0);
            }

            // --- FPU (slow path; never provable) ---
            Lwc1 | Swc1 | Ldc1 | Sdc1 | Mfc1 | Mtc1 | Mfhc1 | Mthc1 | Cfc1 | Ctc1 | FpuArith => {
                if self.used_fpu.is_none() {
                    self.used_fpu = Some(FpuUse { pc, word });
                }
                m.pc = pc;
                m.next_pc = next_pc;
                fpu::exec::<T>(m, &mut self.fpu, inst)?;
            }
            Bc1f | Bc1t | Bc1fl | Bc1tl => {
                not_in_delay_slot!();
                if self.used_fpu.is_none() {
                    self.used_fpu = Some(FpuUse { pc, word });
                }
                let cc = self.fpu.condition(inst.sa);
                let taken = if matches!(op, Bc1t | Bc1tl) { cc } else { !cc };
                branch!(cc as u32, 0, taken, likely: matches!(op, Bc1fl | Bc1tl), link: false)
            }
        }

        if T {
            let rec = &mut self.m.rec;
            let access_count = (rec.cur.accesses.len() - access_start) as u32;
            rec.cur.cpu.push(CpuEvent {
                pc,
                next_pc,
                access_start: access_start as u32,
                access_count,
                opcode: op,
                annulled_slot: annulled,
            });
        }
        Ok((new_pc, new_next))
    }

    #[inline(never)]
    fn syscall<const T: bool>(&mut self, pc: u32, inst: Instruction) -> Result<(), ExecError> {
        let m = &mut self.m;
        m.word = inst.word;
        let number = m.regs[2];
        let args = [m.regs[4], m.regs[5], m.regs[6], m.regs[7]];
        let access_start = m.rec.cur.accesses.len();
        if T {
            m.rec.begin_syscall();
            // The o32 syscall ABI registers are always read; handlers' further reads go through
            // `GuestContext` and are recorded there.
            for r in [2u32, 4, 5, 6, 7] {
                let v = m.regs[r as usize];
                m.rec.syscall_access(r, v, v);
            }
        }
        let outcome = dispatch(&mut self.m, &mut self.syscalls);
        let m = &mut self.m;
        if T {
            m.rec.end_syscall();
        }
        let outcome = outcome?;
        // Syscalls leave LLbit alone (see `events::REG_LLBIT`): an LL ... SC pair around a syscall
        // behaves as if the syscall were ordinary code.
        let exit = match outcome {
            SyscallOutcome::Continue => None,
            SyscallOutcome::Exit(code) => Some(code),
        };
        if T {
            let clk = self.cycles;
            m.rec.cur.syscall.push(SyscallEvent {
                clk,
                pc,
                number,
                args,
                result: m.regs[2],
                error_flag: m.regs[7],
                exit,
            });
            if let Some(kind) = PrecompileKind::from_syscall(number) {
                let accesses = m.rec.cur.accesses[access_start..]
                    .iter()
                    .filter(|a| !is_register(a.addr))
                    .copied()
                    .collect();
                m.rec.cur.precompile.push(PrecompileEvent {
                    clk,
                    kind,
                    args: [args[0], args[1]],
                    accesses,
                });
            }
        }
        if let Some(code) = exit {
            self.exit_code = Some(code);
            self.next_check = 0;
        }
        Ok(())
    }

    fn report(&mut self) -> ExecutionReport {
        // The record moves into the report: it can be hundreds of MiB.
        let record = if self.mode == Mode::Tracing && !self.record_taken {
            self.record_taken = true;
            let state = self.m.state(self.cycles + 1);
            if let Some(last) = self.m.rec.finish(state, &self.m.mem) {
                self.deliver(last);
            }
            let rec = core::mem::replace(&mut self.m.rec, Recorder::new(false));
            Some(ExecutionRecord {
                text_base: self.text_base,
                shards: rec.shards,
            })
        } else {
            None
        };
        let opcode_counts: Vec<(Opcode, u64)> = all_opcodes()
            .iter()
            .zip(self.counts.iter())
            .filter(|(_, n)| self.count_opcodes && **n > 0)
            .map(|(op, n)| (*op, *n))
            .collect();
        let mut class_counts: Vec<(InstrClass, u64)> = Vec::new();
        for &(op, n) in &opcode_counts {
            match class_counts.iter_mut().find(|(c, _)| *c == op.class()) {
                Some(entry) => entry.1 += n,
                None => class_counts.push((op.class(), n)),
            }
        }
        ExecutionReport {
            exit_code: self.exit_code.unwrap_or(0),
            cycles: self.cycles,
            opcode_counts,
            class_counts,
            used_fpu: self.used_fpu,
            public_values: self.syscalls.public_values().to_vec(),
            stdout: self.syscalls.stdout().to_vec(),
            stderr: self.syscalls.stderr().to_vec(),
            hint_output: self.syscalls.hint_output().to_vec(),
            syscall_counts: self.syscalls.syscall_counts().clone(),
            record,
            shards: self.shards_cut,
            trace_pcs_error: self.trace_pcs_error.clone(),
        }
    }

    // --- accessors ---

    /// Current program counter.
    pub fn pc(&self) -> u32 {
        self.m.pc
    }
    /// The PC after the current instruction (the delay-slot model's `next_pc`).
    pub fn next_pc(&self) -> u32 {
        self.m.next_pc
    }
    /// General-purpose register `index` (0..=31).
    pub fn reg(&self, index: usize) -> u32 {
        self.m.regs[index & 31]
    }
    /// Set a general-purpose register (writes to register 0 are ignored).
    pub fn set_reg(&mut self, index: usize, value: u32) {
        if index != 0 {
            self.m.regs[index & 31] = value;
        }
    }
    pub fn regs(&self) -> &[u32; 32] {
        &self.m.regs
    }
    pub fn hi(&self) -> u32 {
        self.m.hi
    }
    pub fn lo(&self) -> u32 {
        self.m.lo
    }
    pub fn llbit(&self) -> bool {
        self.m.llbit
    }
    /// Guest memory.
    pub fn memory(&self) -> &Memory {
        &self.m.mem
    }
    /// The machine as syscall handlers see it.
    pub fn machine(&mut self) -> &mut Machine {
        &mut self.m
    }
    pub fn fpu(&self) -> &Fpu {
        &self.fpu
    }
    pub fn cycles(&self) -> u64 {
        self.cycles
    }
    pub fn exit_code(&self) -> Option<u32> {
        self.exit_code
    }
    pub fn syscall_state(&self) -> &SyscallState {
        &self.syscalls
    }
    /// The predecoded program (`None` where a word is not code or does not decode).
    pub fn code(&self) -> &[Option<Instruction>] {
        &self.code
    }
    /// Address of `code()[0]`.
    pub fn text_base(&self) -> u32 {
        self.text_base
    }
    /// Whether the instruction at `pc` executes in a delay slot.
    pub fn in_delay_slot(&self) -> bool {
        self.delay_slot_clk == self.cycles + 1
    }
}

impl GuestContext for Executor {
    fn pc(&self) -> u32 {
        self.m.pc
    }
    fn reg(&self, index: usize) -> u32 {
        GuestContext::reg(&self.m, index)
    }
    fn set_reg(&mut self, index: usize, value: u32) {
        GuestContext::set_reg(&mut self.m, index, value)
    }
    fn read_word(&mut self, addr: u32) -> Result<u32, ExecError> {
        self.m.read_word(addr)
    }
    fn write_word(&mut self, addr: u32, value: u32) -> Result<(), ExecError> {
        self.m.write_word(addr, value)
    }
    fn read_bytes(&mut self, addr: u32, len: u32) -> Result<Vec<u8>, ExecError> {
        self.m.read_bytes(addr, len)
    }
    fn write_bytes(&mut self, addr: u32, bytes: &[u8]) -> Result<(), ExecError> {
        self.m.write_bytes(addr, bytes)
    }
}

/// The low `bits` bits set (`bits` in 0..=32).
#[inline(always)]
fn low_mask(bits: u32) -> u32 {
    if bits >= 32 {
        u32::MAX
    } else {
        (1u32 << bits) - 1
    }
}

#[inline(always)]
fn trap_condition(op: Opcode, b: u32, c: u32) -> bool {
    use Opcode::*;
    match op {
        Teq | Teqi => b == c,
        Tne | Tnei => b != c,
        Tge | Tgei => (b as i32) >= (c as i32),
        Tgeu | Tgeiu => b >= c,
        Tlt | Tlti => (b as i32) < (c as i32),
        Tltu | Tltiu => b < c,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elf::Segment;

    /// `addiu $t0, $zero, 3; loop: addiu $t0, $t0, -1; bne $t0, $zero, loop; nop; li $v0, HALT;
    /// move $a0, $t0; syscall`.
    fn countdown() -> Program {
        let halt = zkmips_abi::syscall::HALT;
        let words = [
            0x2408_0003u32,                // addiu $t0, $zero, 3
            0x2508_ffff,                   // addiu $t0, $t0, -1
            0x1500_fffe,                   // bne $t0, $zero, -2
            0x0000_0000,                   // nop (delay slot)
            0x3c02_0000 | (halt >> 16),    // lui $v0, HALT >> 16
            0x3442_0000 | (halt & 0xffff), // ori $v0, $v0, HALT & 0xffff
            0x0008_2021,                   // addu $a0, $zero, $t0
            0x0000_000c,                   // syscall
        ];
        let data: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        Program {
            entry: layout::GUEST_TEXT_START,
            segments: vec![Segment {
                vaddr: layout::GUEST_TEXT_START,
                mem_size: data.len() as u32,
                data,
                readable: true,
                writable: false,
                executable: true,
            }],
            phdr_vaddr: None,
            phent: 32,
            phnum: 1,
        }
    }

    fn run(count_opcodes: bool) -> ExecutionReport {
        let config = ExecutorConfig {
            count_opcodes,
            ..ExecutorConfig::default()
        };
        Executor::new(&countdown(), config).unwrap().run().unwrap()
    }

    #[test]
    fn opcode_counts_only_when_asked() {
        let counted = run(true);
        let uncounted = run(false);
        // 1 + 3 * (addiu, bne, nop) + lui, ori, addu, syscall
        assert_eq!(counted.cycles, 14);
        assert_eq!(uncounted.cycles, counted.cycles);
        assert_eq!(uncounted.exit_code, 0);
        assert_eq!(counted.exit_code, 0);
        assert!(uncounted.opcode_counts.is_empty());
        assert!(uncounted.class_counts.is_empty());
        let find = |op| {
            counted
                .opcode_counts
                .iter()
                .find(|(o, _)| *o == op)
                .map(|c| c.1)
        };
        assert_eq!(find(Opcode::Addiu), Some(4));
        assert_eq!(find(Opcode::Bne), Some(3));
        assert_eq!(find(Opcode::Syscall), Some(1));
        let total: u64 = counted.class_counts.iter().map(|c| c.1).sum();
        assert_eq!(total, counted.cycles);
    }
}
