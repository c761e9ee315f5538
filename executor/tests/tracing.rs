//! Tracing mode: the record is deterministic, internally consistent (a replay of every access agrees with
//! its claimed previous value and timestamp), shards chain and never split a branch from its delay slot.

mod common;

use std::collections::HashSet;

use common::*;
use zkmips_executor::events::{PrecompileKind, SLOT_SYSCALL, SLOTS_PER_CYCLE, is_register};
use zkmips_executor::{Executor, ExecutorConfig, Mode, Opcode};

/// A loop with loads/stores/multiply-accumulate, LL/SC, a COMMIT and a SHA-256 extend syscall, and an
/// annulled branch-likely slot.
fn mixed_body() -> Vec<u32> {
    let mut b = li(S0, DATA).to_vec(); // 0,1
    b.push(addiu(T0, ZERO, 20)); // 2
    // loop at 3
    b.push(lw(T1, 0, S0)); // 3
    b.push(addu(T1, T1, T0)); // 4
    b.push(sw(T1, 0, S0)); // 5
    b.push(itype(0x28, S0, T0, 5)); // 6 sb t0, 5(s0)
    b.push(special2(0x00, T0, T1, 0)); // 7 madd
    b.push(addiu(T0, T0, -1)); // 8
    b.push(bne(T0, ZERO, -7)); // 9 -> 3
    b.push(addiu(T2, T2, 1)); // 10 delay slot
    b.push(itype(0x30, S0, T3, 8)); // ll t3, 8(s0)
    b.push(addiu(T3, T3, 1));
    b.push(itype(0x38, S0, T3, 8)); // sc
    b.push(addu(A0, S0, ZERO));
    b.push(addiu(A1, ZERO, 8));
    b.extend(li(V0, zkmips_abi::syscall::COMMIT));
    b.push(syscall());
    b.extend(li(A0, DATA + 0x100));
    b.extend(li(V0, zkmips_abi::syscall::SHA256_EXTEND));
    b.push(syscall());
    b.push(itype(0x15, ZERO, ZERO, 1)); // bnel not taken: annul
    b.push(addiu(T4, ZERO, 1));
    b.push(special(0x12, 0, 0, T4, 0)); // mflo
    // INPUT_READ into an unaligned buffer, read it back; WRITE an unaligned slice of it to stdout.
    b.extend(li(A0, DATA + 0x301));
    b.push(addiu(A1, ZERO, 6));
    b.extend(li(V0, zkmips_abi::syscall::INPUT_READ));
    b.push(syscall());
    b.push(lw(T0, 0x300, S0));
    b.push(lw(T1, 0x304, S0));
    b.push(addiu(A0, ZERO, 1));
    b.extend(li(A1, DATA + 0x302));
    b.push(addiu(A2, ZERO, 4));
    b.extend(li(V0, zkmips_abi::syscall::WRITE));
    b.push(syscall());
    b.push(addu(A0, ZERO, ZERO));
    b
}

/// The input item [`mixed_body`] reads.
const INPUT: &[u8] = b"abcdef";

fn mixed_config(mode: Mode) -> ExecutorConfig {
    let mut cfg = config(mode);
    cfg.syscalls.inputs = vec![INPUT.to_vec()];
    cfg
}

fn mixed_data() -> Vec<u8> {
    let mut d = vec![0u8; 0x400];
    for (i, byte) in d.iter_mut().enumerate() {
        *byte = (i * 7 + 3) as u8;
    }
    d
}

fn traced(shard_cycles: u64) -> (Executor, zkmips_executor::ExecutionReport) {
    let cfg = ExecutorConfig {
        shard_cycles,
        ..mixed_config(Mode::Tracing)
    };
    run_report(&mixed_body(), &mixed_data(), cfg)
}

#[test]
fn fast_and_tracing_agree() {
    let (fast, fast_report) = run_report(&mixed_body(), &mixed_data(), mixed_config(Mode::Fast));
    let (traced, report) = traced(1 << 20);
    assert_eq!(fast.regs(), traced.regs());
    assert_eq!((fast.hi(), fast.lo()), (traced.hi(), traced.lo()));
    assert_eq!(fast_report.cycles, report.cycles);
    assert_eq!(fast_report.public_values, report.public_values);
    assert_eq!(report.public_values.len(), 8);
    assert!(fast_report.record.is_none());
    assert_eq!(report.record.as_ref().unwrap().shards.len(), 1);
    // The loop ran: t2 counts iterations; the SC succeeded; the annulled slot did not run.
    assert_eq!(traced.reg(T2 as usize), 20);
    assert_eq!(traced.reg(T3 as usize), 1);
    assert_eq!(traced.reg(T4 as usize), traced.lo());
    // The syscall wrote guest memory (checked by reading it back) and read it (stdout).
    let mut expect = mixed_data()[0x300..0x308].to_vec();
    expect[1..7].copy_from_slice(INPUT);
    assert_eq!(
        traced.reg(T0 as usize),
        u32::from_le_bytes(expect[..4].try_into().unwrap())
    );
    assert_eq!(
        traced.reg(T1 as usize),
        u32::from_le_bytes(expect[4..].try_into().unwrap())
    );
    assert_eq!(report.stdout, &INPUT[1..5]);
    assert_eq!(fast_report.stdout, report.stdout);
}

#[test]
fn record_is_deterministic_and_consistent() {
    for shard_cycles in [1u64, 2, 5, 7, 64, 1 << 22] {
        let (_, a) = traced(shard_cycles);
        let (_, b) = traced(shard_cycles);
        let record = a.record.as_ref().unwrap();
        assert_eq!(
            a.record, b.record,
            "two runs differ (shard_cycles {shard_cycles})"
        );
        let fresh = Executor::new(
            &program(&mixed_body(), &mixed_data()),
            mixed_config(Mode::Tracing),
        )
        .unwrap();
        check_record(record, a.cycles, &fresh);
        for shard in &record.shards[..record.shards.len() - 1] {
            // A shard ends at the limit or one instruction later (to keep a delay slot with its branch).
            assert!(shard.cycles() == shard_cycles || shard.cycles() == shard_cycles + 1);
        }
    }
}

#[test]
fn shard_boundary_is_moved_past_a_delay_slot() {
    // With one-cycle shards every branch forces a two-cycle shard.
    let (_, report) = traced(1);
    let record = report.record.unwrap();
    let two = record.shards.iter().filter(|s| s.cycles() == 2).count();
    let branches = record
        .shards
        .iter()
        .flat_map(|s| &s.cpu)
        .filter(|e| e.opcode.is_branch_or_jump() && !e.annulled_slot)
        .count();
    assert_eq!(two, branches);
    for s in &record.shards {
        if s.cycles() == 2 {
            assert!(s.cpu[0].opcode.is_branch_or_jump());
        }
    }
}

#[test]
fn events_carry_operands() {
    let (e, report) = traced(1 << 20);
    let shard = &report.record.unwrap().shards[0];
    // 20 iterations: each has one LW, SW, SB (the loop) and the bne.
    let loads = shard
        .memory
        .iter()
        .filter(|m| m.opcode == Opcode::Lw && m.addr < DATA + 0x300)
        .count();
    assert_eq!(loads, 20);
    let stores: Vec<_> = shard
        .memory
        .iter()
        .filter(|m| m.opcode == Opcode::Sb)
        .collect();
    assert_eq!(stores.len(), 20);
    assert_eq!(stores[0].addr, DATA + 5);
    assert_eq!(stores[0].reg_value, 20);
    assert_eq!(
        stores[0].mem_value,
        (stores[0].mem_prev & !0xff00) | (20 << 8)
    );
    let madds: Vec<_> = shard
        .mul_div
        .iter()
        .filter(|m| m.opcode == Opcode::Madd)
        .collect();
    assert_eq!(madds.len(), 20);
    let last = madds.last().unwrap();
    let acc = ((last.prev_hi as u64) << 32 | last.prev_lo as u64)
        .wrapping_add((last.b as i32 as i64 * last.c as i32 as i64) as u64);
    assert_eq!(((acc >> 32) as u32, acc as u32), (last.hi, last.lo));
    assert_eq!((last.hi, last.lo), (e.hi(), e.lo()));
    let branches: Vec<_> = shard
        .branch
        .iter()
        .filter(|b| b.opcode == Opcode::Bne)
        .collect();
    assert_eq!(branches.len(), 20);
    assert_eq!(branches.iter().filter(|b| b.taken).count(), 19);
    assert_eq!(branches[0].target, pc_of(3));
    let addu = shard.alu.iter().find(|a| a.opcode == Opcode::Addu).unwrap();
    assert_eq!(addu.a, addu.b.wrapping_add(addu.c));
    // Syscalls: COMMIT, SHA256_EXTEND, HALT.
    let numbers: Vec<u32> = shard.syscall.iter().map(|s| s.number).collect();
    use zkmips_abi::syscall::*;
    assert_eq!(
        numbers,
        vec![COMMIT, SHA256_EXTEND, INPUT_READ, WRITE, HALT]
    );
    assert_eq!(shard.syscall[0].args[..2], [DATA, 8]);
    assert_eq!(shard.syscall[4].exit, Some(0));
    // INPUT_READ's accesses: the two words its unaligned 6-byte buffer overlaps, written.
    let input_clk = shard.syscall[2].clk;
    let ev = &shard.cpu[(input_clk - shard.first_clk()) as usize];
    assert_eq!(ev.opcode, Opcode::Syscall);
    let words: Vec<_> = shard.accesses
        [ev.access_start as usize..(ev.access_start + ev.access_count) as usize]
        .iter()
        .filter(|a| !is_register(a.addr))
        .collect();
    assert_eq!(
        words.iter().map(|a| a.addr).collect::<Vec<_>>(),
        vec![DATA + 0x300, DATA + 0x304]
    );
    assert!(words.iter().all(|a| a.value != a.prev_value));
    // The precompile event lists w[16..64] among its accesses, all at one timestamp.
    assert_eq!(shard.precompile.len(), 1);
    let pre = &shard.precompile[0];
    assert_eq!(pre.kind, PrecompileKind::Sha256Extend);
    assert_eq!(pre.args[0], DATA + 0x100);
    let addrs: HashSet<u32> = pre.accesses.iter().map(|a| a.addr).collect();
    for i in 16..64 {
        assert!(addrs.contains(&(DATA + 0x100 + 4 * i)), "w[{i}] missing");
    }
    assert!(
        pre.accesses
            .iter()
            .all(|a| a.timestamp == pre.accesses[0].timestamp)
    );
    assert!(
        pre.accesses
            .iter()
            .all(|a| shard.global_timestamp(a.timestamp) % SLOTS_PER_CYCLE == SLOT_SYSCALL)
    );
    // The annulled branch-likely is flagged.
    assert_eq!(shard.cpu.iter().filter(|c| c.annulled_slot).count(), 1);
}

#[test]
fn shard_sink_receives_the_same_shards() {
    use std::sync::{Arc, Mutex};
    let got = Arc::new(Mutex::new(Vec::new()));
    let sink_store = got.clone();
    let cfg = ExecutorConfig {
        shard_cycles: 16,
        shard_sink: Some(Box::new(move |s| {
            sink_store.lock().unwrap().push(std::mem::take(s))
        })),
        ..mixed_config(Mode::Tracing)
    };
    let (_, with_sink) = run_report(&mixed_body(), &mixed_data(), cfg);
    assert!(with_sink.record.unwrap().shards.is_empty());
    let (_, plain) = traced(16);
    let plain = plain.record.unwrap().shards;
    assert!(plain.len() > 3);
    assert!(
        *got.lock().unwrap() == plain,
        "sink shards differ from the in-memory record"
    );
}

#[test]
fn a_sink_that_only_reads_sees_the_same_shards() {
    // The sink leaves each shard in place, so the executor reuses its buffers for the next one: what the
    // sink saw must still equal the in-memory record, shard by shard.
    use std::sync::{Arc, Mutex};
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink_seen = seen.clone();
    let cfg = ExecutorConfig {
        shard_cycles: 16,
        shard_sink: Some(Box::new(move |s| sink_seen.lock().unwrap().push(s.clone()))),
        ..mixed_config(Mode::Tracing)
    };
    let (_, with_sink) = run_report(&mixed_body(), &mixed_data(), cfg);
    let (_, plain) = traced(16);
    let shards = plain.record.unwrap().shards;
    assert_eq!(with_sink.shards as usize, shards.len());
    assert_eq!(plain.shards as usize, shards.len());
    assert!(
        *seen.lock().unwrap() == shards,
        "reused buffers leaked data"
    );
}
