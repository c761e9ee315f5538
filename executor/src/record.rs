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
//! Accesses inside a shard carry shard-local `u32` timestamps, `memory_init`/`memory_final` global `u64`
//! ones (see [`crate::events`]). This is sound: within a shard, order is all the memory argument needs,
//! every first access of a location in the shard (local `prev_timestamp` 0) is matched by exactly one
//! `memory_init` entry, and the cross-shard link is carried by `memory_init`/`memory_final`. Local
//! timestamps fit in `u32` because a shard is at most [`crate::executor::MAX_SHARD_CYCLES`] + 1 cycles.
//!
//! # Cost
//! About 95 bytes per instruction of compiled C (a 20-byte [`CpuEvent`], ~2.7 accesses of 20 bytes and
//! ~0.9 class events of 20 to 28 bytes):
//! the buffers of a shard are reserved up front, and when a shard sink only looks at a shard (does not
//! take it), its buffers are reused for the next one, so a long run faults in fresh memory only once.

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

    /// Cycle number of the shard's first instruction.
    pub fn first_clk(&self) -> u64 {
        self.initial_state.map_or(1, |s| s.clk)
    }

    /// Cycle number of `self.cpu[index]`.
    pub fn clk_of(&self, index: usize) -> u64 {
        self.first_clk() + index as u64
    }

    /// What is subtracted from a global timestamp to get this shard's local one: local timestamps put
    /// the shard's first instruction at cycle 1.
    pub fn timestamp_base(&self) -> u64 {
        timestamp(self.first_clk() - 1, 0)
    }

    /// The global timestamp of local timestamp `local` (which must not be 0, "before the shard").
    pub fn global_timestamp(&self, local: u32) -> u64 {
        self.timestamp_base() + u64::from(local)
    }

    /// Empty every list, keeping the allocations.
    fn clear(&mut self) {
        // Destructured so that a new field cannot be forgotten here (stale data in a reused shard).
        let Shard {
            index,
            initial_state,
            final_state,
            cpu,
            accesses,
            alu,
            mul_div,
            branch,
            memory,
            syscall,
            precompile,
            memory_init,
            memory_final,
        } = self;
        *index = 0;
        *initial_state = None;
        *final_state = None;
        cpu.clear();
        accesses.clear();
        alu.clear();
        mul_div.clear();
        branch.clear();
        memory.clear();
        syscall.clear();
        precompile.clear();
        memory_init.clear();
        memory_final.clear();
    }

    fn shrink_to_fit(&mut self) {
        self.cpu.shrink_to_fit();
        self.accesses.shrink_to_fit();
        self.alu.shrink_to_fit();
        self.memory.shrink_to_fit();
        self.branch.shrink_to_fit();
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
    /// Global timestamp of the last access to each register-space location.
    reg_ts: [u64; NUM_REG_LOCATIONS],
    /// Same for memory words, paged like guest memory.
    mem_ts: Vec<Option<Box<TsPage>>>,
    /// Cycle number of the instruction being executed.
    pub clk: u64,
    /// Global timestamp of the current shard's first slot: earlier accesses are "before the shard".
    shard_start_ts: u64,
    /// Global minus local timestamp in the current shard.
    ts_base: u64,
    pub cur: Shard,
    /// Finished shards kept in memory (no sink).
    pub shards: Vec<Shard>,
    /// Buffers of a finished shard the sink did not take, reused by the next `open_shard`.
    spare: Option<Shard>,
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
            ts_base: 0,
            cur: Shard::default(),
            shards: Vec::new(),
            spare: None,
            syscall_index: HashMap::new(),
            in_syscall: false,
            shards_opened: 0,
        }
    }

    /// Start a shard whose first instruction has cycle `state.clk`.
    pub fn open_shard(&mut self, state: CpuState, expected_cycles: u64) {
        let mut shard = self.spare.take().unwrap_or_default();
        shard.clear();
        // Reserving up front avoids repeatedly copying huge vectors as they grow; untouched capacity
        // costs no physical memory. Reused buffers already have it.
        let n = expected_cycles.min(1 << 22) as usize;
        shard.cpu.reserve(n);
        shard.accesses.reserve(3 * n);
        shard.alu.reserve(n);
        shard.index = self.shards_opened;
        shard.initial_state = Some(state);
        self.cur = shard;
        self.shards_opened += 1;
        self.shard_start_ts = timestamp(state.clk, 0);
        self.ts_base = self.cur.timestamp_base();
    }

    /// Finish the current shard: fill `memory_final` from the live machine state and return it.
    pub fn close_shard(&mut self, state: CpuState, mem: &Memory) -> Shard {
        let mut shard = core::mem::take(&mut self.cur);
        let mut finals = core::mem::take(&mut shard.memory_final);
        finals.extend(shard.memory_init.iter().map(|e| {
            let (value, timestamp) = if is_register(e.addr) {
                let value = match e.addr {
                    REG_HI => state.hi,
                    REG_LO => state.lo,
                    REG_LLBIT => state.llbit as u32,
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
        }));
        shard.memory_final = finals;
        shard.final_state = Some(state);
        shard
    }

    /// Keep a finished shard in the record (no sink): give back the capacity it did not use.
    pub fn keep(&mut self, mut shard: Shard) {
        shard.shrink_to_fit();
        self.shards.push(shard);
    }

    /// A finished shard the sink has seen: reuse its buffers (if it left them) for the next shard.
    pub fn recycle(&mut self, shard: Shard) {
        self.spare = Some(shard);
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
        let prev_local = if prev_timestamp < self.shard_start_ts {
            self.cur.memory_init.push(MemoryEntry {
                addr,
                value: prev_value,
                timestamp: prev_timestamp,
            });
            0
        } else {
            (prev_timestamp - self.ts_base) as u32
        };
        self.cur.accesses.push(MemoryAccess {
            addr,
            value,
            prev_value,
            prev_timestamp: prev_local,
            timestamp: (timestamp - self.ts_base) as u32,
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

    /// Finish: close the last shard if it holds anything (or is the only one) and return it.
    pub fn finish(&mut self, state: CpuState, mem: &Memory) -> Option<Shard> {
        if !self.shard_is_empty() || self.shards_opened == 1 {
            Some(self.close_shard(state, mem))
        } else {
            None
        }
    }
}
