//! A tiny assembler and program builder for executor tests: hand-encoded MIPS32r2 words, no toolchain.
#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use zkmips_executor::elf::Program;

use zkmips_executor::events::{
    EventKind, REG_HI, REG_LLBIT, REG_LO, SLOT_LLBIT, SLOT_SYSCALL, SLOTS_PER_CYCLE, event_kind,
    is_register,
};
use zkmips_executor::{
    ExecError, ExecutionRecord, ExecutionReport, Executor, ExecutorConfig, Mode, Opcode, decode,
};

pub const TEXT: u32 = 0x0040_0000;
pub const DATA: u32 = 0x1000_0000;

// Register numbers.
pub const ZERO: u32 = 0;
pub const V0: u32 = 2;
pub const A0: u32 = 4;
pub const A1: u32 = 5;
pub const A2: u32 = 6;
pub const A3: u32 = 7;
pub const T0: u32 = 8;
pub const T1: u32 = 9;
pub const T2: u32 = 10;
pub const T3: u32 = 11;
pub const T4: u32 = 12;
pub const S0: u32 = 16;
pub const T9: u32 = 25;
pub const SP: u32 = 29;
pub const RA: u32 = 31;

pub fn special(funct: u32, rs: u32, rt: u32, rd: u32, sa: u32) -> u32 {
    (rs << 21) | (rt << 16) | (rd << 11) | (sa << 6) | funct
}
pub fn itype(op: u32, rs: u32, rt: u32, imm: i32) -> u32 {
    (op << 26) | (rs << 21) | (rt << 16) | (imm as u32 & 0xffff)
}
pub fn regimm(code: u32, rs: u32, imm: i32) -> u32 {
    itype(1, rs, code, imm)
}
pub fn special2(funct: u32, rs: u32, rt: u32, rd: u32) -> u32 {
    (0x1c << 26) | (rs << 21) | (rt << 16) | (rd << 11) | funct
}
pub fn special3(funct: u32, rs: u32, rt: u32, rd: u32, sa: u32) -> u32 {
    (0x1f << 26) | (rs << 21) | (rt << 16) | (rd << 11) | (sa << 6) | funct
}

pub fn nop() -> u32 {
    0
}
pub fn lui(rt: u32, imm: u32) -> u32 {
    itype(0x0f, 0, rt, imm as i32)
}
pub fn ori(rt: u32, rs: u32, imm: u32) -> u32 {
    itype(0x0d, rs, rt, imm as i32)
}
pub fn addiu(rt: u32, rs: u32, imm: i32) -> u32 {
    itype(0x09, rs, rt, imm)
}
pub fn addu(rd: u32, rs: u32, rt: u32) -> u32 {
    special(0x21, rs, rt, rd, 0)
}
/// Load a 32-bit constant (always two words).
pub fn li(rt: u32, value: u32) -> [u32; 2] {
    [lui(rt, value >> 16), ori(rt, rt, value & 0xffff)]
}
pub fn syscall() -> u32 {
    0x0000_000c
}
pub fn beq(rs: u32, rt: u32, off: i32) -> u32 {
    itype(0x04, rs, rt, off)
}
pub fn bne(rs: u32, rt: u32, off: i32) -> u32 {
    itype(0x05, rs, rt, off)
}
pub fn lw(rt: u32, off: i32, base: u32) -> u32 {
    itype(0x23, base, rt, off)
}
pub fn sw(rt: u32, off: i32, base: u32) -> u32 {
    itype(0x2b, base, rt, off)
}
pub fn jr(rs: u32) -> u32 {
    special(0x08, rs, 0, 0, 0)
}
pub fn jalr(rd: u32, rs: u32) -> u32 {
    special(0x09, rs, 0, rd, 0)
}
pub fn j(target: u32) -> u32 {
    (0x02 << 26) | ((target >> 2) & 0x03ff_ffff)
}
pub fn jal(target: u32) -> u32 {
    (0x03 << 26) | ((target >> 2) & 0x03ff_ffff)
}

/// `$v0 = HALT; syscall` with the exit code already in `$a0`.
pub fn halt() -> Vec<u32> {
    vec![
        lui(V0, zkmips_abi::syscall::HALT >> 16),
        ori(V0, V0, zkmips_abi::syscall::HALT & 0xffff),
        syscall(),
    ]
}

/// Address of instruction `index` of a program built by [`program`].
pub fn pc_of(index: usize) -> u32 {
    TEXT + 4 * index as u32
}

/// A program: `words` at [`TEXT`] (executable), `data` at [`DATA`] in a writable 64 KiB segment.
pub fn program_raw(words: &[u32], data: &[u8]) -> Program {
    Program::from_code(TEXT, words).with_data_segment(DATA, 0x1_0000, data)
}

/// `body` followed by a HALT; every word must decode (catches mistakes in the hand encodings).
pub fn program(body: &[u32], data: &[u8]) -> Program {
    let mut words = body.to_vec();
    words.extend(halt());
    for (i, w) in words.iter().enumerate() {
        assert!(
            decode(*w).is_ok(),
            "test bug: word {i} ({w:#010x}) does not decode"
        );
    }
    program_raw(&words, data)
}

pub fn config(mode: Mode) -> ExecutorConfig {
    ExecutorConfig {
        max_cycles: Some(100_000),
        mode,
        ..ExecutorConfig::default()
    }
}

/// Run `body` (+ HALT) in fast mode; returns the executor after the run.
pub fn run_ok(body: &[u32], data: &[u8]) -> Executor {
    let mut e = Executor::new(&program(body, data), config(Mode::Fast)).unwrap();
    e.run().unwrap_or_else(|err| panic!("run failed: {err}"));
    e
}

/// Run `body` (+ HALT) in both modes, check they agree on registers, and return the fast executor.
pub fn run_both(body: &[u32], data: &[u8]) -> Executor {
    let fast = run_ok(body, data);
    let mut traced = Executor::new(&program(body, data), config(Mode::Tracing)).unwrap();
    traced
        .run()
        .unwrap_or_else(|err| panic!("traced run failed: {err}"));
    assert_eq!(
        fast.regs(),
        traced.regs(),
        "fast and tracing modes disagree"
    );
    assert_eq!((fast.hi(), fast.lo()), (traced.hi(), traced.lo()));
    fast
}

/// Run `body` (+ HALT) and return the error it must stop with.
pub fn run_err(body: &[u32], data: &[u8]) -> ExecError {
    run_err_program(&program(body, data))
}

pub fn run_err_program(p: &Program) -> ExecError {
    for mode in [Mode::Tracing, Mode::Fast] {
        let mut e = Executor::new(p, config(mode)).unwrap();
        if mode == Mode::Fast {
            return e.run().expect_err("run must fail");
        }
        let _ = e.run().expect_err("traced run must fail");
    }
    unreachable!()
}

pub fn run_report(body: &[u32], data: &[u8], cfg: ExecutorConfig) -> (Executor, ExecutionReport) {
    let mut e = Executor::new(&program(body, data), cfg).unwrap();
    let r = e.run().unwrap_or_else(|err| panic!("run failed: {err}"));
    (e, r)
}

/// Replays every access of the record and checks all chaining properties.
/// `initial` is a freshly loaded executor: its memory is the initial image timestamp-0 values must match.
pub fn check_record(record: &ExecutionRecord, cycles: u64, initial: &Executor) {
    let shards = &record.shards;
    assert!(!shards.is_empty());
    // location -> (value, timestamp) as the replay knows it.
    let mut known: HashMap<u32, (u32, u64)> = HashMap::new();
    let mut total = 0u64;
    let first = shards[0].initial_state.unwrap();
    assert_eq!(first.clk, 1);
    for (k, shard) in shards.iter().enumerate() {
        assert_eq!(shard.index as usize, k);
        let init = shard.initial_state.unwrap();
        let fin = shard.final_state.unwrap();
        if k + 1 < shards.len() {
            assert_eq!(
                Some(fin),
                shards[k + 1].initial_state,
                "shard {k} does not chain"
            );
            // Never end a shard between a branch and its delay slot.
            let last = shard.cpu.last().unwrap();
            assert!(
                !last.opcode.is_branch_or_jump() || last.annulled_slot,
                "shard {k} splits a delay slot"
            );
        }
        // Control flow inside the shard.
        assert_eq!(shard.first_clk(), init.clk);
        assert_eq!(shard.timestamp_base(), SLOTS_PER_CYCLE * (init.clk - 1));
        assert_eq!(
            shard.cpu.first().map(|e| (e.pc, e.next_pc)),
            Some((init.pc, init.next_pc))
        );
        for pair in shard.cpu.windows(2) {
            let expect_pc = if pair[0].annulled_slot {
                pair[0].next_pc + 4
            } else {
                pair[0].next_pc
            };
            assert_eq!(pair[1].pc, expect_pc);
        }
        assert_eq!(fin.clk, init.clk + shard.cpu.len() as u64);
        total += shard.cpu.len() as u64;

        // Accesses: the events partition them in order, timestamps belong to their cycle.
        let mut next = 0u32;
        for (i, ev) in shard.cpu.iter().enumerate() {
            let clk = shard.clk_of(i);
            assert_eq!(ev.access_start, next);
            next += ev.access_count;
            let accesses = &shard.accesses
                [ev.access_start as usize..(ev.access_start + ev.access_count) as usize];
            let mut last_ts = 0;
            let mut syscall_addrs = HashSet::new();
            for a in accesses {
                let timestamp = shard.global_timestamp(a.timestamp);
                assert_eq!(timestamp / SLOTS_PER_CYCLE, clk);
                if timestamp % SLOTS_PER_CYCLE == SLOT_SYSCALL {
                    assert_eq!(ev.opcode, Opcode::Syscall);
                    assert!(
                        syscall_addrs.insert(a.addr),
                        "syscall touched {:#x} twice",
                        a.addr
                    );
                    assert!(timestamp >= last_ts);
                } else {
                    assert!(
                        timestamp > last_ts || last_ts == 0,
                        "timestamps not increasing in {ev:?}"
                    );
                }
                last_ts = timestamp;
            }
        }
        assert_eq!(next as usize, shard.accesses.len());

        // memory_init: first touch of each location, no duplicates.
        let mut init_addrs = HashSet::new();
        for e in &shard.memory_init {
            assert!(
                init_addrs.insert(e.addr),
                "duplicate memory_init for {:#x}",
                e.addr
            );
            match known.get(&e.addr) {
                Some(&(v, ts)) => assert_eq!(
                    (e.value, e.timestamp),
                    (v, ts),
                    "memory_init of {:#x}",
                    e.addr
                ),
                None => {
                    assert_eq!(e.timestamp, 0);
                    let image = match e.addr {
                        REG_HI | REG_LO => 0,
                        REG_LLBIT => u32::from(first.llbit),
                        r if is_register(r) => first.regs[r as usize],
                        a => initial.memory().peek_word(a),
                    };
                    assert_eq!(e.value, image, "initial value of {:#x}", e.addr);
                    known.insert(e.addr, (e.value, 0));
                }
            }
        }
        let touched: HashSet<u32> = shard.accesses.iter().map(|a| a.addr).collect();
        assert_eq!(
            touched, init_addrs,
            "memory_init must list exactly the touched locations"
        );
        // Replay with global timestamps: local `prev_timestamp` 0 means "before the shard", exactly
        // when the replay last saw the location in an earlier shard (or the initial image).
        let shard_start = SLOTS_PER_CYCLE * init.clk;
        for a in &shard.accesses {
            let (v, ts) = known[&a.addr];
            let timestamp = shard.global_timestamp(a.timestamp);
            let prev_timestamp = if a.prev_timestamp == 0 {
                assert!(ts < shard_start, "prev_timestamp 0 inside the shard: {a:?}");
                ts
            } else {
                shard.global_timestamp(a.prev_timestamp)
            };
            assert_eq!((a.prev_value, prev_timestamp), (v, ts), "access {a:?}");
            assert!(prev_timestamp < timestamp);
            if a.addr == 0 {
                assert_eq!(a.value, 0, "register 0 written non-zero");
            }
            if a.addr == REG_LLBIT {
                assert!(a.value <= 1, "LLbit holds {a:?}");
                assert_eq!(
                    u64::from(a.timestamp) % SLOTS_PER_CYCLE,
                    SLOT_LLBIT,
                    "{a:?}"
                );
            }
            known.insert(a.addr, (a.value, timestamp));
        }
        // Each class list pairs, in order, with the CPU events of its kind.
        let kinds: Vec<Opcode> = shard.cpu.iter().map(|e| e.opcode).collect();
        let of_kind = |kind: EventKind| -> Vec<Opcode> {
            kinds
                .iter()
                .copied()
                .filter(|op| event_kind(*op) == Some(kind))
                .collect()
        };
        let opcodes = |ops: &mut dyn Iterator<Item = Opcode>| ops.collect::<Vec<_>>();
        assert_eq!(
            of_kind(EventKind::Alu),
            opcodes(&mut shard.alu.iter().map(|e| e.opcode))
        );
        assert_eq!(
            of_kind(EventKind::MulDiv),
            opcodes(&mut shard.mul_div.iter().map(|e| e.opcode))
        );
        assert_eq!(
            of_kind(EventKind::Branch),
            opcodes(&mut shard.branch.iter().map(|e| e.opcode))
        );
        assert_eq!(
            of_kind(EventKind::Memory),
            opcodes(&mut shard.memory.iter().map(|e| e.opcode))
        );
        assert_eq!(of_kind(EventKind::Syscall).len(), shard.syscall.len());
        let syscall_clks: Vec<u64> = (0..shard.cpu.len())
            .filter(|&i| shard.cpu[i].opcode == Opcode::Syscall)
            .map(|i| shard.clk_of(i))
            .collect();
        assert_eq!(
            syscall_clks,
            shard.syscall.iter().map(|s| s.clk).collect::<Vec<_>>()
        );
        assert_eq!(shard.memory_final.len(), shard.memory_init.len());
        for e in &shard.memory_final {
            assert_eq!(
                known[&e.addr],
                (e.value, e.timestamp),
                "memory_final of {:#x}",
                e.addr
            );
        }
        // Final register state agrees with the replay.
        for r in 0..32u32 {
            if let Some(&(v, _)) = known.get(&r) {
                assert_eq!(fin.regs[r as usize], v, "register {r} at end of shard {k}");
            }
        }
        for (r, value) in [
            (REG_HI, fin.hi),
            (REG_LO, fin.lo),
            (REG_LLBIT, u32::from(fin.llbit)),
        ] {
            if let Some(&(v, _)) = known.get(&r) {
                assert_eq!(value, v, "location {r} at end of shard {k}");
            }
        }
    }
    assert_eq!(total, cycles);
}
