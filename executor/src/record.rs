//! The execution record handed to the prover: the run cut into shards, each with its initial and final
//! machine state, its events and the memory it touched, so shards can be proven independently and chained.
//!
//! Chaining: shard `k + 1`'s `initial_state` equals shard `k`'s `final_state`. For every location a shard
//! touches, `memory_init` holds the value and timestamp it had before the shard's first access (timestamp 0
//! = initial image, otherwise a timestamp from an earlier shard) and `memory_final` the value and timestamp
//! after its last access. The prover's memory argument consumes `memory_init`, produces `memory_final`,
//! and across shards every `memory_init` entry must match the latest earlier `memory_final` entry (or the
//! initial image). A shard never ends between a branch and its delay slot.
//!
//! The initial image is the program's segments (bss zero) plus the initial stack block that
//! `image::build_initial_stack` builds from the run's arguments and environment; registers start at zero
//! except `$sp` (see shard 0's `initial_state`).
//!
//! Timestamps are global `u64`s (see [`crate::events`]). A prover that wants small, shard-local timestamps
//! can map every timestamp `t` of a shard to `t - timestamp(initial_state.clk, 0) + 1` and every
//! `prev_timestamp` from before the shard (exactly the first access of each location, listed in
//! `memory_init`) to 0: within a shard, order is all the memory argument needs, and the cross-shard link
//! is carried by the values in `memory_init`/`memory_final`.

use std::collections::HashMap;

use crate::events::*;
use crate::memory::{Memory, NUM_PAGES, PAGE_BITS, WORDS_PER_PAGE};

/// Architectural state at a shard boundary (FPU state is not part of the provable machine).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CpuState {
    /// Cycle number of the next instruction to execute (the first instruction of a run has `clk = 1`).
    pub clk: u64,
    pub pc: u32,
    pub next_pc: u32,
    pub regs: [u32; 32],
    pub hi: u32,
    pub lo: u32,
    pub llbit: bool,
}

/// One shard of the execution.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shard {
    pub index: u32,
    pub initial_state: Option<CpuState>,
    pub final_state: Option<CpuState>,
    pub cpu: Vec<CpuEvent>,
    pub accesses: Vec<MemoryAccess>,
    pub alu: Vec<AluEvent>,
    pub mul_div: Vec<MulDivEvent>,
    pub branch: Vec<BranchEvent>,
    pub memory: Vec<MemoryEvent>,
    pub syscall: Vec<SyscallEvent>,
    pub precompile: Vec<PrecompileEvent>,
    /// First touch of each location in this shard: its value and timestamp before the shard.
    pub memory_init: Vec<MemoryEntry>,
    /// Same locations, in the same order: value and timestamp after the shard.
    pub memory_final: Vec<MemoryEntry>,
}

impl Shard {
    /// Number of instructions executed in this shard.
    pub fn cycles(&self) -> u64 {
        self.cpu.len() as u64
    }
}

/// Everything the prover needs from a traced run (together with the program itself).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExecutionRecord {
    /// Address of predecoded instruction 0 (`CpuEvent::instr_index` counts words from here).
    pub text_base: u32,
    pub shards: Vec<Shard>,
}

type TsPage = [u64; WORDS_PER_PAGE];

/// Builds the record while the executor runs in tracing mode.
#[derive(Clone, Debug)]
pub(crate) struct Recorder {
    reg_ts: [u64; NUM_REG_LOCATIONS],
    mem_ts: Vec<Option<Box<TsPage>>>,
    /// Cycle number of the instruction being executed.
    pub clk: u64,
    shard_start_ts: u64,
    pub cur: Shard,
    pub shards: Vec<Shard>,
    /// During a syscall: location -> index in `cur.accesses`, to merge repeated accesses.
    syscall_index: HashMap<u32, usize>,
    pub in_syscall: bool,
    /// Shards started so far (finished shards may have been handed to a sink already).
    shards_opened: u32,
}

impl Recorder {
    /// A recorder; the timestamp table (a few MiB) is only allocated when `tracing`.
    pub fn new(tracing: bool) -> Self {
        Self {
            reg_ts: [0; NUM_REG_LOCATIONS],
            mem_ts: if tracing {
                vec![None; NUM_PAGES]
            } else {
                Vec::new()
            },
            clk: 0,
            shard_start_ts: 0,
            cur: Shard::default(),
            shards: Vec::new(),
            syscall_index: HashMap::new(),
            in_syscall: false,
            shards_opened: 0,
        }
    }

    /// Start a shard whose first instruction has cycle `state.clk`.
    pub fn open_shard(&mut self, state: CpuState, expected_cycles: u64) {
        // Reserving up front avoids repeatedly copying huge vectors as they grow; untouched capacity
        // costs no physical memory.
        let n = expected_cycles.min(1 << 22) as usize;
        self.cur = Shard {
            index: self.shards_opened,
            initial_state: Some(state),
            cpu: Vec::with_capacity(n),
            accesses: Vec::with_capacity(3 * n),
            alu: Vec::with_capacity(n / 2),
            ..Shard::default()
        };
        self.shards_opened += 1;
        self.shard_start_ts = timestamp(state.clk, 0);
    }

    /// Finish the current shard: fill `memory_final` from the live machine state.
    pub fn close_shard(&mut self, state: CpuState, mem: &Memory) {
        let mut shard = core::mem::take(&mut self.cur);
        // Give back the capacity reserved in `open_shard` that this shard did not use.
        shard.cpu.shrink_to_fit();
        shard.accesses.shrink_to_fit();
        shard.alu.shrink_to_fit();
        shard.memory_final = shard
            .memory_init
            .iter()
            .map(|e| {
                let (value, timestamp) = if is_register(e.addr) {
                    let value = match e.addr {
                        REG_HI => state.hi,
                        REG_LO => state.lo,
                        r => state.regs[r as usize],
                    };
                    (value, self.reg_ts[e.addr as usize])
                } else {
                    (mem.peek_word(e.addr), self.mem_ts_of(e.addr))
                };
                MemoryEntry {
                    addr: e.addr,
                    value,
                    timestamp,
                }
            })
            .collect();
        shard.final_state = Some(state);
        self.shards.push(shard);
    }

    /// Whether the current shard has executed anything.
    pub fn shard_is_empty(&self) -> bool {
        self.cur.cpu.is_empty()
    }

    fn mem_ts_of(&self, addr: u32) -> u64 {
        match &self.mem_ts[(addr >> PAGE_BITS) as usize] {
            Some(p) => p[((addr >> 2) as usize) & (WORDS_PER_PAGE - 1)],
            None => 0,
        }
    }

    #[inline(always)]
    fn mem_ts_slot(&mut self, addr: u32) -> &mut u64 {
        let page = self.mem_ts[(addr >> PAGE_BITS) as usize]
            .get_or_insert_with(|| Box::new([0; WORDS_PER_PAGE]));
        &mut page[((addr >> 2) as usize) & (WORDS_PER_PAGE - 1)]
    }

    #[inline(always)]
    fn push(
        &mut self,
        addr: u32,
        prev_value: u32,
        value: u32,
        prev_timestamp: u64,
        timestamp: u64,
    ) {
        if prev_timestamp < self.shard_start_ts {
            self.cur.memory_init.push(MemoryEntry {
                addr,
                value: prev_value,
                timestamp: prev_timestamp,
            });
        }
        self.cur.accesses.push(MemoryAccess {
            addr,
            value,
            prev_value,
            prev_timestamp,
            timestamp,
        });
    }

    /// Record an access to register-space location `r` at `slot` of the current cycle.
    #[inline(always)]
    pub fn reg(&mut self, r: u32, prev_value: u32, value: u32, slot: u64) {
        let ts = timestamp(self.clk, slot);
        let prev_ts = core::mem::replace(&mut self.reg_ts[r as usize], ts);
        self.push(r, prev_value, value, prev_ts, ts);
    }

    /// Record an access to the memory word at `addr` (word-aligned) at `slot` of the current cycle.
    #[inline(always)]
    pub fn mem(&mut self, addr: u32, prev_value: u32, value: u32, slot: u64) {
        let ts = timestamp(self.clk, slot);
        let prev_ts = core::mem::replace(self.mem_ts_slot(addr), ts);
        self.push(addr, prev_value, value, prev_ts, ts);
    }

    /// Begin recording a syscall's accesses (merged per location).
    pub fn begin_syscall(&mut self) {
        self.syscall_index.clear();
        self.in_syscall = true;
    }

    pub fn end_syscall(&mut self) {
        self.in_syscall = false;
    }

    /// Record a syscall access to `addr` (register-space or word-aligned memory): the first access creates
    /// the record, later ones only update its final value.
    pub fn syscall_access(&mut self, addr: u32, prev_value: u32, value: u32) {
        if let Some(&i) = self.syscall_index.get(&addr) {
            self.cur.accesses[i].value = value;
            return;
        }
        self.syscall_index.insert(addr, self.cur.accesses.len());
        if is_register(addr) {
            self.reg(addr, prev_value, value, SLOT_SYSCALL);
        } else {
            self.mem(addr, prev_value, value, SLOT_SYSCALL);
        }
    }

    /// Finish: close the last shard if it holds anything and return the record.
    pub fn finish(mut self, state: CpuState, mem: &Memory, text_base: u32) -> ExecutionRecord {
        if !self.shard_is_empty() || self.shards.is_empty() {
            self.close_shard(state, mem);
        }
        ExecutionRecord {
            text_base,
            shards: self.shards,
        }
    }
}
