//! Executor throughput (instructions per second) in fast and tracing modes on a hand-assembled loop that
//! mixes ALU, multiply, load/store and a branch with a filled delay slot (13 instructions per iteration).
//!
//! Tracing is measured twice: `tracing_loop` keeps the whole record in memory (one shard, so every byte
//! of it is fresh memory the kernel has to fault in), `tracing_stream` hands 2^18-cycle shards to a sink
//! that only reads them, as `zkmips run --trace` does, so the executor reuses the shard buffers.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use zkmips_executor::elf::Program;
use zkmips_executor::{Executor, ExecutorConfig, Mode};

const TEXT: u32 = 0x0040_0000;
const DATA: u32 = 0x1000_0000;
const V0: u32 = 2;
const A0: u32 = 4;
const T0: u32 = 8;
const T1: u32 = 9;
const T2: u32 = 10;
const T3: u32 = 11;
const T4: u32 = 12;
const T5: u32 = 13;
const S0: u32 = 16;

fn special(funct: u32, rs: u32, rt: u32, rd: u32, sa: u32) -> u32 {
    (rs << 21) | (rt << 16) | (rd << 11) | (sa << 6) | funct
}
fn itype(op: u32, rs: u32, rt: u32, imm: i32) -> u32 {
    (op << 26) | (rs << 21) | (rt << 16) | (imm as u32 & 0xffff)
}
fn li(rt: u32, v: u32) -> [u32; 2] {
    [
        itype(0x0f, 0, rt, (v >> 16) as i32),
        itype(0x0d, rt, rt, (v & 0xffff) as i32),
    ]
}

/// The loop program; `iterations` times 13 instructions plus a few of setup and exit.
fn loop_program(iterations: u32) -> Program {
    let mut w = Vec::new();
    w.extend(li(T0, iterations));
    w.extend(li(T1, 1));
    w.extend(li(S0, DATA));
    let body = [
        (0x1c << 26) | special(0x02, T1, T0, T2, 0), // mul t2, t1, t0
        itype(0x09, T1, T1, 7),                      // addiu t1, t1, 7
        special(0x21, T1, T2, T1, 0),                // addu t1, t1, t2
        special(0x2b, T1, T2, T3, 0),                // sltu t3, t1, t2
        special(0x02, 0, T1, T4, 3),                 // srl t4, t1, 3
        special(0x26, T1, T4, T1, 0),                // xor t1, t1, t4
        itype(0x23, S0, T5, 0),                      // lw t5, 0(s0)
        special(0x21, T5, T1, T5, 0),                // addu t5, t5, t1
        itype(0x2b, S0, T5, 0),                      // sw t5, 0(s0)
        special(0x00, 0, T3, T3, 2),                 // sll t3, t3, 2
        itype(0x09, T0, T0, -1),                     // addiu t0, t0, -1
        itype(0x05, T0, 0, -12),                     // bne t0, zero, loop
        special(0x21, T1, T3, T1, 0),                // addu t1, t1, t3 (delay slot)
    ];
    w.extend(body);
    w.extend(li(V0, zkmips_abi::syscall::HALT));
    w.push(special(0x21, 0, 0, A0, 0));
    w.push(0x0000_000c);
    Program::from_code(TEXT, &w).with_data_segment(DATA, 0x1000, &[])
}

/// How a benchmark runs the loop.
#[derive(Clone, Copy)]
enum Setup {
    Fast,
    /// Tracing, every shard kept in the report.
    Tracing,
    /// Tracing with shards of this many cycles handed to a sink that leaves them in place.
    TracingStream(u64),
}

fn config(setup: Setup) -> ExecutorConfig {
    match setup {
        Setup::Fast => ExecutorConfig::default(),
        Setup::Tracing => ExecutorConfig {
            mode: Mode::Tracing,
            ..Default::default()
        },
        Setup::TracingStream(shard_cycles) => ExecutorConfig {
            mode: Mode::Tracing,
            shard_cycles,
            shard_sink: Some(Box::new(|shard| {
                std::hint::black_box(shard.cpu.len());
            })),
            ..Default::default()
        },
    }
}

fn bench_mode(c: &mut Criterion, name: &str, setup: Setup, iterations: u32) {
    let program = loop_program(iterations);
    let cycles = Executor::new(&program, config(setup))
        .unwrap()
        .run()
        .unwrap()
        .cycles;
    let mut group = c.benchmark_group("execute");
    group.throughput(Throughput::Elements(cycles));
    group.sample_size(10);
    group.bench_function(name, |b| {
        b.iter(|| {
            let mut e = Executor::new(&program, config(setup)).unwrap();
            let report = e.run().unwrap();
            assert_eq!(report.cycles, cycles);
            report.exit_code
        })
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    bench_mode(c, "fast_loop", Setup::Fast, 2_000_000);
    bench_mode(c, "tracing_loop", Setup::Tracing, 200_000);
    bench_mode(c, "tracing_stream", Setup::TracingStream(1 << 18), 200_000);
}

criterion_group!(execute, benches);
criterion_main!(execute);
