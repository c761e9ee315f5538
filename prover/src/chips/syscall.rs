//! The zkVM services: `SyscallChip` (one row per provable SYSCALL instruction) and
//! `SyscallMemoryChip` (one row per memory word a service reads or writes).
//!
//! # What is proven
//!
//! A SYSCALL instruction with shard-local cycle `clk` makes all its accesses at
//! `ts = 8 clk + SLOT_SYSCALL`, each location once (the executor merges a service's accesses per
//! location into one read-modify-write). The CPU sends `[clk, is_halt]` on [`SYSCALL_BUS`]; a
//! `SyscallChip` row receives it and proves, bit for bit as the executor does:
//! - it reads `$v0` (register 2), holding the service number, and `$a0..$a3` (4..7), which it
//!   leaves unchanged; it writes `$v0`'s new value. No other register is touched.
//! - the number is one of the provable services (one-hot flags; both limbs of `$v0` are bound)
//!   and `is_halt` is the HALT flag;
//! - the result: HALT keeps `$v0`; WRITE returns `$a2` and requires `$a0 ∈ {1, 2}`; COMMIT,
//!   HINT_WRITE, INPUT_READ, HINT_READ return 0; INPUT_LEN / HINT_LEN return a prover-chosen
//!   (range-checked) word — the length is private input.
//!
//! Services with a buffer (`WRITE`: `[$a1, $a1 + $a2)`; `COMMIT`, `HINT_WRITE`, `INPUT_READ`,
//! `HINT_READ`: `[$a0, $a0 + $a1)`) provide it on [`SYSCALL_BUFFER_BUS`] as word indices and byte
//! offsets of its first and last byte, with `0x1000 <= start` and `last < 2^31`. Every
//! `SyscallMemoryChip` row looks up its syscall's buffer: its word lies in the buffer's word
//! range (so it is never a register location), its access is at that syscall's timestamp, and it
//! may write only when the service is INPUT_READ / HINT_READ (`writable`), changing only bytes
//! inside the buffer. The bytes written are the prover's (private input). The services that
//! only read their buffer (WRITE, COMMIT, HINT_WRITE) cannot change memory: their rows are reads.
//!
//! KECCAK_PERMUTE is proven with `KeccakChip`: this chip does its register accesses (result 0)
//! and sends `[clk, $a0]` on `KECCAK_BUS`; the keccak chip proves the 50 state words.
//!
//! Not provable here (trace generation refuses them by number, name, cycle and pc): the SHA-256
//! precompiles (later chips), every Linux syscall and unknown numbers. Public values are not
//! handled here: the guest publishes their digest in memory (see `zkmips_abi::syscall::COMMIT`).
//!
//! Known gap shared with the store instructions: the AIR does not know the code ranges, so it
//! does not refuse an INPUT_READ into the text segment (the executor does).

use p3_air::{Air, AirBuilder, BaseAir, PermutationAirBuilder, WindowAccess};
use p3_field::{Field, PrimeCharacteristicRing};
use p3_lookup::{Count, InteractionBuilder};
use p3_matrix::dense::RowMajorMatrix;
use zkmips_abi::syscall as nr;
use zkmips_executor::MemoryAccess;
use zkmips_executor::events::{SLOT_SYSCALL, SLOTS_PER_CYCLE, is_register};

use super::memory::{AccessExprs, MemoryAccessCols, access_cols, eval_access};
use super::word::{eval_byte_pair, eval_word_bytes_range, fill_range_checked_word};
use super::{ByteCounts, TraceError, padded_trace};
use crate::buses::{BYTE_BUS, ByteOp, KECCAK_BUS, SYSCALL_BUFFER_BUS, SYSCALL_BUS, word_limbs};
use crate::shard::{ClassEvent, Executed};

const CHIP: &str = "Syscall";

/// The provable zkVM services, in the order of the chip's flag columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    Halt,
    Write,
    Commit,
    InputLen,
    InputRead,
    HintLen,
    HintRead,
    HintWrite,
    /// The keccak-f[1600] precompile: this chip does its register accesses and hands the state
    /// pointer to `KeccakChip` on `KECCAK_BUS`, which proves the 50 state words.
    KeccakPermute,
}

impl Service {
    pub const ALL: [Service; 9] = [
        Service::Halt,
        Service::Write,
        Service::Commit,
        Service::InputLen,
        Service::InputRead,
        Service::HintLen,
        Service::HintRead,
        Service::HintWrite,
        Service::KeccakPermute,
    ];

    pub const fn number(self) -> u32 {
        match self {
            Service::Halt => nr::HALT,
            Service::Write => nr::WRITE,
            Service::Commit => nr::COMMIT,
            Service::InputLen => nr::INPUT_LEN,
            Service::InputRead => nr::INPUT_READ,
            Service::HintLen => nr::HINT_LEN,
            Service::HintRead => nr::HINT_READ,
            Service::HintWrite => nr::HINT_WRITE,
            Service::KeccakPermute => nr::KECCAK_PERMUTE,
        }
    }

    pub fn from_number(number: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.number() == number)
    }

    /// Position of the service's flag column.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// Whether the service writes its buffer (the others only read theirs, if any).
    pub const fn writes_buffer(self) -> bool {
        matches!(self, Service::InputRead | Service::HintRead)
    }

    /// Whether the service reads its buffer without changing it.
    pub const fn reads_buffer(self) -> bool {
        matches!(self, Service::Write | Service::Commit | Service::HintWrite)
    }

    /// Whether the service returns 0 in `$v0`.
    const fn returns_zero(self) -> bool {
        matches!(
            self,
            Service::Commit
                | Service::HintWrite
                | Service::InputRead
                | Service::HintRead
                | Service::KeccakPermute
        )
    }

    /// The buffer `(start, len)` of the service given `$a0..$a3`, if it has one.
    pub const fn buffer(self, args: [u32; 4]) -> Option<(u32, u32)> {
        match self {
            Service::Write => Some((args[1], args[2])),
            Service::Commit | Service::HintWrite | Service::InputRead | Service::HintRead => {
                Some((args[0], args[1]))
            }
            // The keccak state is proven by `KeccakChip`, not as a buffer here.
            Service::Halt | Service::InputLen | Service::HintLen | Service::KeccakPermute => None,
        }
    }
}

/// A human name for syscall `number`, for errors.
pub fn syscall_name(number: u32) -> &'static str {
    match number {
        nr::HALT => "HALT",
        nr::WRITE => "WRITE",
        nr::COMMIT => "COMMIT",
        nr::INPUT_LEN => "INPUT_LEN",
        nr::INPUT_READ => "INPUT_READ",
        nr::HINT_LEN => "HINT_LEN",
        nr::HINT_READ => "HINT_READ",
        nr::HINT_WRITE => "HINT_WRITE",
        nr::SHA256_EXTEND => "SHA256_EXTEND (precompile)",
        nr::SHA256_COMPRESS => "SHA256_COMPRESS (precompile)",
        nr::KECCAK_PERMUTE => "KECCAK_PERMUTE (precompile)",
        4000..=4999 => "a Linux syscall",
        _ => "unknown",
    }
}

/// The registers a syscall row accesses, in column order: `$v0`, `$a0..$a3`.
pub const REGISTERS: [u32; 5] = [2, 4, 5, 6, 7];

/// Lowest address a buffer may start at (the end of the null guard; below it lie the register
/// locations, which a buffer must never alias).
pub const BUFFER_MIN_ADDR: u32 = zkmips_abi::layout::NULL_GUARD_END;

/// One provable SYSCALL instruction with its accesses, as the chips prove it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyscallRow {
    pub clk: u32,
    pub pc: u32,
    pub word: u32,
    pub service: Service,
    /// The accesses to [`REGISTERS`], in that order.
    pub registers: [MemoryAccess; 5],
    /// The memory words the service touched, in address order.
    pub memory: Vec<MemoryAccess>,
}

impl SyscallRow {
    /// `$a0..$a3` as the instruction found them.
    pub fn args(&self) -> [u32; 4] {
        core::array::from_fn(|i| self.registers[i + 1].prev_value)
    }

    /// The buffer the row provides on the buffer bus: the service's buffer when it is not empty.
    pub fn buffer(&self) -> Option<(u32, u32)> {
        self.service
            .buffer(self.args())
            .filter(|&(_, len)| len != 0)
    }

    /// The syscall's timestamp `8 clk + SLOT_SYSCALL`.
    pub fn timestamp(&self) -> u64 {
        u64::from(self.clk) * SLOTS_PER_CYCLE + SLOT_SYSCALL
    }

    fn error(&self, reason: impl Into<String>) -> TraceError {
        TraceError::Instruction {
            chip: CHIP,
            clk: self.clk,
            pc: self.pc,
            word: self.word,
            reason: reason.into(),
        }
    }

    /// Checks the row against the executor's semantics and the chips' limits.
    pub fn check(&self) -> Result<(), TraceError> {
        let ts = self.timestamp();
        let name = syscall_name(self.service.number());
        for (access, reg) in self.registers.iter().zip(REGISTERS) {
            if access.addr != reg || u64::from(access.timestamp) != ts {
                return Err(self.error(format!(
                    "{name}: register access {:#x} at {} is not register {reg} at {ts}",
                    access.addr, access.timestamp
                )));
            }
            if reg != 2 && access.value != access.prev_value {
                return Err(self.error(format!("{name}: register {reg} changed")));
            }
        }
        let [v0, ..] = self.registers;
        if v0.prev_value != self.service.number() {
            return Err(self.error(format!(
                "$v0 holds {:#x}, not {name}'s number",
                v0.prev_value
            )));
        }
        let args = self.args();
        let expected = match self.service {
            Service::Halt => Some(v0.prev_value),
            Service::Write => {
                if args[0] != 1 && args[0] != 2 {
                    return Err(self.error(format!("WRITE to fd {}", args[0])));
                }
                Some(args[2])
            }
            s if s.returns_zero() => Some(0),
            _ => None,
        };
        if let Some(expected) = expected
            && v0.value != expected
        {
            return Err(self.error(format!(
                "{name} returns {expected:#x}, but $v0 becomes {:#x}",
                v0.value
            )));
        }
        let buffer = self.buffer();
        if let Some((start, len)) = buffer {
            let end = u64::from(start) + u64::from(len);
            if start < BUFFER_MIN_ADDR || end > 1 << 31 {
                return Err(self.error(format!(
                    "{name}: buffer {start:#010x} + {len} bytes is outside [{BUFFER_MIN_ADDR:#x}, 2^31)"
                )));
            }
        }
        for access in &self.memory {
            let addr = access.addr;
            if is_register(addr) || !addr.is_multiple_of(4) || u64::from(access.timestamp) != ts {
                return Err(self.error(format!(
                    "{name}: memory access {addr:#010x} at {} is not an aligned word at {ts}",
                    access.timestamp
                )));
            }
            let Some((start, len)) = buffer else {
                return Err(self.error(format!(
                    "{name}: touches memory word {addr:#010x} without a buffer"
                )));
            };
            let last = start + (len - 1);
            if addr < start & !3 || addr > last & !3 {
                return Err(self.error(format!(
                    "{name}: word {addr:#010x} is outside the buffer {start:#010x} + {len}"
                )));
            }
            let (old, new) = (access.prev_value.to_le_bytes(), access.value.to_le_bytes());
            for j in 0..4 {
                let byte_addr = addr + j as u32;
                let inside = self.service.writes_buffer() && (start..=last).contains(&byte_addr);
                if !inside && old[j] != new[j] {
                    return Err(self.error(format!(
                        "{name}: changes byte {byte_addr:#010x}, which it may not write"
                    )));
                }
            }
        }
        Ok(())
    }
}

/// The provable syscalls of `executed`, in order, with their accesses; refuses (naming the
/// number, name, cycle and pc) a syscall that no chip proves yet, and any record inconsistency.
pub fn rows(executed: &[Executed]) -> Result<Vec<SyscallRow>, TraceError> {
    let mut rows = Vec::new();
    for e in executed {
        let ClassEvent::Syscall(event, _) = e.event else {
            continue;
        };
        let number = event.number;
        let Some(service) = Service::from_number(number) else {
            return Err(e.error(
                CHIP,
                format!(
                    "syscall {number:#x} ({}) is not provable",
                    syscall_name(number)
                ),
            ));
        };
        let registers = REGISTERS.map(|r| e.access(SLOT_SYSCALL, r).copied());
        let Some(registers) = registers.iter().copied().collect::<Option<Vec<_>>>() else {
            return Err(e.error(CHIP, "a syscall register access is missing"));
        };
        let mut memory: Vec<MemoryAccess> = Vec::new();
        let mut precompile_words = 0;
        for access in e.accesses {
            if REGISTERS.contains(&access.addr) {
                continue;
            }
            if service == Service::KeccakPermute && !is_register(access.addr) {
                // `KeccakChip` proves the state words.
                precompile_words += 1;
                continue;
            }
            if is_register(access.addr) {
                return Err(e.error(CHIP, format!("accesses register location {}", access.addr)));
            }
            memory.push(*access);
        }
        memory.sort_by_key(|a| a.addr);
        let row = SyscallRow {
            clk: e.clk,
            pc: e.pc,
            word: e.instruction.word,
            service,
            registers: registers.try_into().expect("five registers"),
            memory,
        };
        if e.accesses.len() != 5 + row.memory.len() + precompile_words {
            return Err(e.error(CHIP, "accesses a register location twice"));
        }
        if event.result != row.registers[0].value {
            return Err(e.error(
                CHIP,
                format!(
                    "the event's result {:#x} is not $v0's new value {:#x}",
                    event.result, row.registers[0].value
                ),
            ));
        }
        row.check()?;
        rows.push(row);
    }
    Ok(rows)
}

/// The [`SYSCALL_BUS`] message the CPU sends for `row`: `[clk, is_halt]`.
pub fn syscall_message(row: &SyscallRow) -> [u32; 2] {
    [row.clk, u32::from(row.service == Service::Halt)]
}

// ---------------------------------------------------------------------------------------------
// Buffer geometry shared by both chips
// ---------------------------------------------------------------------------------------------

/// A buffer as the buffer bus carries it: the word index and byte offset of its first byte
/// `start = 4 first_word + first_offset` and of its last byte `start + len - 1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Geometry {
    first_word: u32,
    first_offset: u32,
    last_word: u32,
    last_offset: u32,
}

impl Geometry {
    fn of(start: u32, len: u32) -> Self {
        let last = start.wrapping_add(len).wrapping_sub(1);
        Self {
            first_word: start >> 2,
            first_offset: start & 3,
            last_word: last >> 2,
            last_offset: last & 3,
        }
    }
}

/// Bound of the "small non-negative number" range check: `v = x0 + 2^8 x1 + 2^16 x2 + 2^21 y3`
/// with `(x0, x1)`, `(x2, y3)` byte pairs, so `v <= 2^24 - 1 + 255 · 2^21 < 2^29 + 2^24`. Honest
/// values are below `2^29`; every negative value the chips can form is above `-2^30 - 2` and so
/// lands above `p - 2^30 - 2 > 2^29 + 2^24`, outside the range: the check proves `v >= 0`.
const SMALL_BITS: u32 = 29;

/// The four cells of a small number (honest `v < 2^29`; others keep their low 29 bits, which
/// violates the equation that uses them).
fn small_cells(v: u32) -> [u8; 4] {
    let v = v & ((1 << SMALL_BITS) - 1);
    [
        v as u8,
        (v >> 8) as u8,
        (v >> 16) as u8,
        ((v >> 24) as u8) << 3,
    ]
}

fn record_small(v: u32, bytes: &mut ByteCounts) {
    let c = small_cells(v);
    bytes.record(ByteOp::RangePair, c[0], c[1]);
    bytes.record(ByteOp::RangePair, c[2], c[3]);
}

fn fill_small<F: Field>(out: &mut [F], v: u32, bytes: &mut ByteCounts) {
    for (cell, b) in out[..4].iter_mut().zip(small_cells(v)) {
        *cell = F::from_u8(b);
    }
    record_small(v, bytes);
}

/// The value of small-number cells, looked up as byte pairs with `count`.
fn eval_small<AB: InteractionBuilder>(
    builder: &mut AB,
    c: &[AB::Expr],
    count: &AB::Expr,
) -> AB::Expr {
    eval_byte_pair(builder, c[0].clone(), c[1].clone(), count.clone());
    eval_byte_pair(builder, c[2].clone(), c[3].clone(), count.clone());
    c[0].clone()
        + c[1].clone() * AB::Expr::from_u32(1 << 8)
        + c[2].clone() * AB::Expr::from_u32(1 << 16)
        + c[3].clone() * AB::Expr::from_u32(1 << 21)
}

fn set_limbs<F: Field>(out: &mut [F], word: u32) {
    let [lo, hi] = word_limbs(word);
    out[0] = F::from_u32(lo);
    out[1] = F::from_u32(hi);
}

/// A byte offset held as two bits `o0 + 2 o1` (each constrained boolean).
fn eval_offset_bits<AB: AirBuilder>(builder: &mut AB, bits: &[AB::Expr]) -> AB::Expr {
    builder.assert_bool(bits[0].clone());
    builder.assert_bool(bits[1].clone());
    bits[0].clone() + bits[1].clone() * AB::Expr::TWO
}

/// The syscall timestamp `8 clk + SLOT_SYSCALL` as an expression.
fn syscall_ts<E: PrimeCharacteristicRing>(clk: E) -> E {
    clk * E::from_u64(SLOTS_PER_CYCLE) + E::from_u64(SLOT_SYSCALL)
}

// ---------------------------------------------------------------------------------------------
// SyscallChip
// ---------------------------------------------------------------------------------------------

pub(crate) mod cols {
    /// One flag per [`super::Service`], in `Service::ALL` order; their sum is `is_real`.
    pub const FLAGS: usize = 0;
    /// Shard-local cycle, as received from the CPU.
    pub const CLK: usize = FLAGS + super::Service::ALL.len();
    /// `$v0`'s new value, 4 bytes (range-checked: it is written to a register).
    pub const RESULT: usize = CLK + 1;
    /// The buffer's start and length as 16-bit limbs (0 for services without one).
    pub const START: usize = RESULT + 4;
    pub const LEN: usize = START + 2;
    /// 1 when the row provides a (non-empty) buffer.
    pub const HAS_BUFFER: usize = LEN + 2;
    /// How many memory rows look the buffer up.
    pub const MULTIPLICITY: usize = HAS_BUFFER + 1;
    /// `start_lo = o0 + 2 o1 + 4 s0 + 256 s1`: offset bits `o0, o1`, bytes `s0, s1`.
    pub const START_OFFSET: usize = MULTIPLICITY + 1;
    pub const START_BYTES: usize = START_OFFSET + 2;
    /// `first_word - 0x400` as a small number (proves `start >= 0x1000`).
    pub const GUARD: usize = START_BYTES + 2;
    /// `last = start + len - 1`, `last_lo = o0 + 2 o1 + 4 e0 + 256 e1`, `last_hi = h0 + 256 h1`:
    /// offset bits, then `e0, e1, h0, h1`.
    pub const LAST_OFFSET: usize = GUARD + 4;
    pub const LAST_BYTES: usize = LAST_OFFSET + 2;
    /// Carry of `start_lo + len_lo + 0xffff`, in `{0, 1, 2}`.
    pub const CARRY: usize = LAST_BYTES + 4;
    /// Access helpers of `$v0, $a0, $a1, $a2, $a3`.
    pub const ACCESSES: usize = CARRY + 1;
    pub const WIDTH: usize = ACCESSES + 5 * super::access_cols::WIDTH;
}

/// One row per provable SYSCALL instruction (see the module docs).
#[derive(Clone, Copy, Debug, Default)]
pub struct SyscallChip;

impl SyscallChip {
    pub const fn name(&self) -> &'static str {
        CHIP
    }

    /// The trace for `rows` (each checked first), recording its byte lookups.
    pub fn generate_trace<F: Field>(
        &self,
        rows: &[SyscallRow],
        bytes: &mut ByteCounts,
    ) -> Result<RowMajorMatrix<F>, TraceError> {
        for row in rows {
            row.check()?;
            for access in &row.registers {
                super::memory::check_access(0, access)?;
            }
        }
        Ok(Self::fill_trace(rows, bytes))
    }

    /// The trace for `rows` as given, unchecked (tests forge with it); the witness is derived
    /// from the rows as an honest prover would.
    pub(crate) fn fill_trace<F: Field>(
        rows: &[SyscallRow],
        bytes: &mut ByteCounts,
    ) -> RowMajorMatrix<F> {
        use cols::*;
        padded_trace(rows, WIDTH, |_, row, out| {
            out[FLAGS + row.service.index()] = F::ONE;
            out[CLK] = F::from_u32(row.clk);
            fill_range_checked_word(&mut out[RESULT..], row.registers[0].value, bytes);
            let (start, len) = row.service.buffer(row.args()).unwrap_or((0, 0));
            set_limbs(&mut out[START..], start);
            set_limbs(&mut out[LEN..], len);
            if row.buffer().is_some() {
                out[HAS_BUFFER] = F::ONE;
                out[MULTIPLICITY] = F::from_usize(row.memory.len());
                let g = Geometry::of(start, len);
                let [s0, s1, ..] = start.to_le_bytes();
                out[START_OFFSET] = F::from_u32(g.first_offset & 1);
                out[START_OFFSET + 1] = F::from_u32(g.first_offset >> 1);
                out[START_BYTES] = F::from_u8(s0 >> 2);
                out[START_BYTES + 1] = F::from_u8(s1);
                bytes.record(ByteOp::RangePair, s0 >> 2, s1);
                fill_small(
                    &mut out[GUARD..],
                    g.first_word.wrapping_sub(BUFFER_MIN_ADDR / 4),
                    bytes,
                );
                let last = start.wrapping_add(len).wrapping_sub(1);
                let [l0, l1, l2, l3] = last.to_le_bytes();
                out[LAST_OFFSET] = F::from_u32(g.last_offset & 1);
                out[LAST_OFFSET + 1] = F::from_u32(g.last_offset >> 1);
                for (i, b) in [l0 >> 2, l1, l2, l3].into_iter().enumerate() {
                    out[LAST_BYTES + i] = F::from_u8(b);
                }
                bytes.record(ByteOp::RangePair, l0, l1);
                bytes.record(ByteOp::RangePair, l0 >> 2, l2);
                bytes.record(ByteOp::Msb, l3, 0);
                let carry = ((start & 0xffff) + (len & 0xffff) + 0xffff) >> 16;
                out[CARRY] = F::from_u32(carry);
            }
            for (k, access) in row.registers.iter().enumerate() {
                let base = ACCESSES + k * access_cols::WIDTH;
                super::memory::fill_access(&mut out[base..], access, bytes);
            }
        })
    }
}

impl<F> BaseAir<F> for SyscallChip {
    fn width(&self) -> usize {
        cols::WIDTH
    }

    fn main_next_row_columns(&self) -> Vec<usize> {
        vec![]
    }
}

impl<AB: PermutationAirBuilder + InteractionBuilder> Air<AB> for SyscallChip {
    fn eval(&self, builder: &mut AB) {
        use cols::*;
        let main = builder.main();
        let local: Vec<AB::Expr> = main.current_slice().iter().map(|&v| v.into()).collect();
        let flag = |s: Service| local[FLAGS + s.index()].clone();
        let c = |i: usize| AB::Expr::from_u32(i as u32);

        // One-hot service flags: a real row serves exactly one provable service.
        for s in Service::ALL {
            builder.assert_bool(flag(s));
        }
        let is_real: AB::Expr = Service::ALL.iter().map(|&s| flag(s)).sum();
        builder.assert_bool(is_real.clone());

        let access =
            |k: usize| MemoryAccessCols::from_slice(&local[ACCESSES + k * access_cols::WIDTH..]);
        let registers: [MemoryAccessCols<AB::Expr>; 5] = core::array::from_fn(access);
        // Register values as found (the accesses' previous values, canonical: consumed from the
        // memory bus, where only range-checked values are produced).
        let v0 = registers[0].prev_value.clone();
        let [a0, a1, a2, _a3] = core::array::from_fn(|i| registers[i + 1].prev_value.clone());

        // The service number in $v0, both limbs bound.
        for (limb, shift) in v0.iter().zip([0, 16]) {
            let number: AB::Expr = Service::ALL
                .iter()
                .map(|&s| flag(s) * AB::Expr::from_u32((s.number() >> shift) & 0xffff))
                .sum();
            builder.assert_eq(limb.clone(), number);
        }

        // $v0's new value.
        let result_bytes: [AB::Expr; 4] = core::array::from_fn(|i| local[RESULT + i].clone());
        let result = eval_word_bytes_range(builder, &result_bytes, is_real.clone());
        let returns_zero: AB::Expr = Service::ALL
            .iter()
            .filter(|s| s.returns_zero())
            .map(|&s| flag(s))
            .sum();
        for k in 0..2 {
            builder.assert_zero(flag(Service::Halt) * (result[k].clone() - v0[k].clone()));
            builder.assert_zero(flag(Service::Write) * (result[k].clone() - a2[k].clone()));
            builder.assert_zero(returns_zero.clone() * result[k].clone());
        }
        // WRITE only to stdout (1) or stderr (2).
        let is_write = flag(Service::Write);
        builder.assert_zero(is_write.clone() * a0[1].clone());
        builder.assert_zero(is_write.clone() * (a0[0].clone() - c(1)) * (a0[0].clone() - c(2)));

        // The buffer: [$a1, $a1 + $a2) for WRITE, [$a0, $a0 + $a1) for the others.
        let buffer_from_a0: AB::Expr = Service::ALL
            .iter()
            .filter(|s| s.buffer([0; 4]).is_some() && **s != Service::Write)
            .map(|&s| flag(s))
            .sum();
        let start = [local[START].clone(), local[START + 1].clone()];
        let len = [local[LEN].clone(), local[LEN + 1].clone()];
        for k in 0..2 {
            builder.assert_eq(
                start[k].clone(),
                is_write.clone() * a1[k].clone() + buffer_from_a0.clone() * a0[k].clone(),
            );
            builder.assert_eq(
                len[k].clone(),
                is_write.clone() * a2[k].clone() + buffer_from_a0.clone() * a1[k].clone(),
            );
        }
        let has_buffer = local[HAS_BUFFER].clone();
        builder.assert_bool(has_buffer.clone());
        builder.assert_zero(has_buffer.clone() * (AB::Expr::ONE - is_write - buffer_from_a0));
        builder.assert_zero(local[MULTIPLICITY].clone() * (AB::Expr::ONE - has_buffer.clone()));

        // start = 4 first_word + first_offset. `start` is canonical (a register), so the byte
        // equation fixes the offset to `start mod 4` and `first_word` to `start div 4`.
        let first_offset = eval_offset_bits::<AB>(builder, &local[START_OFFSET..]);
        let (s0, s1) = (local[START_BYTES].clone(), local[START_BYTES + 1].clone());
        builder.assert_zero(
            has_buffer.clone()
                * (start[0].clone()
                    - first_offset.clone()
                    - s0.clone() * c(4)
                    - s1.clone() * c(256)),
        );
        eval_byte_pair(builder, s0.clone(), s1.clone(), has_buffer.clone());
        let first_word = s0 + s1 * c(64) + start[1].clone() * c(1 << 14);
        // start >= 0x1000: first_word - 0x400 is a small non-negative number.
        let guard = eval_small(builder, &local[GUARD..GUARD + 4], &has_buffer);
        builder.assert_zero(
            has_buffer.clone() * (first_word.clone() - c(BUFFER_MIN_ADDR as usize / 4) - guard),
        );

        // last = start + len - 1 without wrapping, and below 2^31:
        // start_lo + len_lo + 0xffff = last_lo + 2^16 carry, start_hi + len_hi + carry - 1 = last_hi.
        let carry = local[CARRY].clone();
        builder.assert_zero(carry.clone() * (carry.clone() - c(1)) * (carry.clone() - c(2)));
        let last_offset = eval_offset_bits::<AB>(builder, &local[LAST_OFFSET..]);
        let [e0, e1, h0, h1]: [AB::Expr; 4] =
            core::array::from_fn(|i| local[LAST_BYTES + i].clone());
        let last_lo_byte = last_offset.clone() + e0.clone() * c(4);
        let last_lo = last_lo_byte.clone() + e1.clone() * c(256);
        let last_hi = h0.clone() + h1.clone() * c(256);
        builder.assert_zero(
            has_buffer.clone()
                * (start[0].clone() + len[0].clone() + c(0xffff)
                    - last_lo
                    - carry.clone() * c(1 << 16)),
        );
        builder.assert_zero(
            has_buffer.clone()
                * (start[1].clone() + len[1].clone() + carry - c(1) - last_hi.clone()),
        );
        // `4 e0 + offset` and `e0` are bytes (so `last_lo` is canonical and `e0` an integer),
        // `h0` is a byte and `h1 < 128` (Msb lookup with result 0): `last < 2^31`.
        eval_byte_pair(builder, last_lo_byte, e1.clone(), has_buffer.clone());
        eval_byte_pair(builder, e0.clone(), h0, has_buffer.clone());
        BYTE_BUS.lookup_key(
            builder,
            [
                AB::Expr::from_u8(ByteOp::Msb as u8),
                h1,
                AB::Expr::ZERO,
                AB::Expr::ZERO,
            ],
            Count::bounded(has_buffer.clone(), 1),
        );
        let last_word = e0 + e1 * c(64) + last_hi * c(1 << 14);

        let clk = local[CLK].clone();
        let writable = flag(Service::InputRead) + flag(Service::HintRead);
        SYSCALL_BUFFER_BUS.table_entry(
            builder,
            [
                clk.clone(),
                writable,
                first_word,
                first_offset,
                last_word,
                last_offset,
            ],
            local[MULTIPLICITY].clone(),
        );

        // $v0 is read and written; $a0..$a3 are only read.
        let ts = syscall_ts(clk.clone());
        for (k, (reg, cols)) in REGISTERS.iter().zip(&registers).enumerate() {
            let value = if k == 0 {
                result.clone()
            } else {
                cols.prev_value.clone()
            };
            let is_write = if k == 0 {
                is_real.clone()
            } else {
                AB::Expr::ZERO
            };
            eval_access(
                builder,
                AccessExprs {
                    addr: [c(*reg as usize), AB::Expr::ZERO],
                    value,
                    ts: ts.clone(),
                    is_real: is_real.clone(),
                    is_write,
                },
                cols,
            );
        }

        // KECCAK_PERMUTE: hand the state pointer ($a0, canonical) to the keccak chip, which
        // proves the 50 state words at this syscall's timestamp.
        KECCAK_BUS.send(
            builder,
            [clk.clone(), a0[0].clone(), a0[1].clone()],
            Count::bounded(flag(Service::KeccakPermute), 1),
        );

        SYSCALL_BUS.receive(
            builder,
            [clk, flag(Service::Halt)],
            Count::bounded(is_real, 1),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// SyscallMemoryChip
// ---------------------------------------------------------------------------------------------

pub(crate) mod mem_cols {
    pub const IS_REAL: usize = 0;
    /// 1 when the row may change the word (its service writes its buffer).
    pub const IS_WRITE: usize = 1;
    pub const CLK: usize = 2;
    /// Address `4 d0 + 256 d1 + 2^16 addr_hi`: bytes `d0, d1`, then the high limb.
    pub const ADDR: usize = 3;
    /// The word's bytes before and after.
    pub const OLD: usize = 6;
    pub const NEW: usize = 10;
    /// The buffer's first and last word index (from the buffer bus).
    pub const FIRST_WORD: usize = 14;
    pub const LAST_WORD: usize = 15;
    /// One-hot byte offsets of the buffer's first and last byte.
    pub const FIRST_OFFSET: usize = 16;
    pub const LAST_OFFSET: usize = 20;
    /// 1 iff the word is the buffer's first / last word.
    pub const IS_FIRST: usize = 24;
    pub const IS_LAST: usize = 25;
    /// `word - first_word - 1 + is_first` and `last_word - word - 1 + is_last`, small numbers.
    pub const AFTER_FIRST: usize = 26;
    pub const BEFORE_LAST: usize = 30;
    /// Per byte: 1 when the byte is inside the buffer and so may change.
    pub const INSIDE: usize = 34;
    pub const ACCESS: usize = 38;
    pub const WIDTH: usize = ACCESS + super::access_cols::WIDTH;
}

/// One row per memory word a zkVM service touches (see the module docs).
#[derive(Clone, Copy, Debug, Default)]
pub struct SyscallMemoryChip;

impl SyscallMemoryChip {
    pub const fn name(&self) -> &'static str {
        "SyscallMemory"
    }

    /// The trace of the memory words of `rows` (each checked first).
    pub fn generate_trace<F: Field>(
        &self,
        rows: &[SyscallRow],
        bytes: &mut ByteCounts,
    ) -> Result<RowMajorMatrix<F>, TraceError> {
        let mut index = 0;
        for row in rows {
            row.check()?;
            for access in &row.memory {
                super::memory::check_access(index, access)?;
                index += 1;
            }
        }
        Ok(Self::fill_trace(rows, bytes))
    }

    /// The trace as given, unchecked (tests forge with it). A byte counts as inside when it is in
    /// the buffer of a writing service or changes: the most a forger could claim.
    pub(crate) fn fill_trace<F: Field>(
        rows: &[SyscallRow],
        bytes: &mut ByteCounts,
    ) -> RowMajorMatrix<F> {
        use mem_cols::*;
        let words: Vec<(&SyscallRow, &MemoryAccess)> = rows
            .iter()
            .flat_map(|row| row.memory.iter().map(move |a| (row, a)))
            .collect();
        padded_trace(&words, WIDTH, |_, &(row, access), out| {
            let writable = row.service.writes_buffer();
            out[IS_REAL] = F::ONE;
            out[IS_WRITE] = F::from_bool(writable);
            out[CLK] = F::from_u32(row.clk);
            let [a0, a1, ..] = access.addr.to_le_bytes();
            out[ADDR] = F::from_u8(a0 >> 2);
            out[ADDR + 1] = F::from_u8(a1);
            out[ADDR + 2] = F::from_u32(access.addr >> 16);
            bytes.record(ByteOp::RangePair, a0 >> 2, a1);
            fill_range_checked_word(&mut out[OLD..], access.prev_value, bytes);
            fill_range_checked_word(&mut out[NEW..], access.value, bytes);
            let (start, len) = row.service.buffer(row.args()).unwrap_or((0, 0));
            let g = Geometry::of(start, len);
            out[FIRST_WORD] = F::from_u32(g.first_word);
            out[LAST_WORD] = F::from_u32(g.last_word);
            out[FIRST_OFFSET + g.first_offset as usize] = F::ONE;
            out[LAST_OFFSET + g.last_offset as usize] = F::ONE;
            let word = access.addr >> 2;
            let (is_first, is_last) = (word == g.first_word, word == g.last_word);
            out[IS_FIRST] = F::from_bool(is_first);
            out[IS_LAST] = F::from_bool(is_last);
            let after_first = word
                .wrapping_sub(g.first_word)
                .wrapping_sub(1)
                .wrapping_add(is_first as u32);
            let before_last = g
                .last_word
                .wrapping_sub(word)
                .wrapping_sub(1)
                .wrapping_add(is_last as u32);
            fill_small(&mut out[AFTER_FIRST..], after_first, bytes);
            fill_small(&mut out[BEFORE_LAST..], before_last, bytes);
            let (old, new) = (access.prev_value.to_le_bytes(), access.value.to_le_bytes());
            for j in 0..4 {
                let byte_addr = u64::from(access.addr) + j as u64;
                let in_buffer =
                    (u64::from(start)..u64::from(start) + u64::from(len)).contains(&byte_addr);
                let inside = writable && (in_buffer || old[j] != new[j]);
                out[INSIDE + j] = F::from_bool(inside);
            }
            super::memory::fill_access(&mut out[ACCESS..], access, bytes);
        })
    }
}

impl<F> BaseAir<F> for SyscallMemoryChip {
    fn width(&self) -> usize {
        mem_cols::WIDTH
    }

    fn main_next_row_columns(&self) -> Vec<usize> {
        vec![]
    }
}

impl<AB: PermutationAirBuilder + InteractionBuilder> Air<AB> for SyscallMemoryChip {
    fn eval(&self, builder: &mut AB) {
        use mem_cols::*;
        let main = builder.main();
        let local: Vec<AB::Expr> = main.current_slice().iter().map(|&v| v.into()).collect();
        let c = |i: usize| AB::Expr::from_u32(i as u32);
        let is_real = local[IS_REAL].clone();
        let is_write = local[IS_WRITE].clone();
        builder.assert_bool(is_real.clone());
        builder.assert_bool(is_write.clone());

        // The word: `addr_lo = 4 d0 + 256 d1` with byte `d0, d1`, so the address is aligned and
        // `word = d0 + 64 d1 + 2^14 addr_hi` is its index (`addr_hi` is canonical: memory-bus
        // addresses all come from the boundary's range-checked ones).
        let (d0, d1, addr_hi) = (
            local[ADDR].clone(),
            local[ADDR + 1].clone(),
            local[ADDR + 2].clone(),
        );
        eval_byte_pair(builder, d0.clone(), d1.clone(), is_real.clone());
        let addr_lo = d0.clone() * c(4) + d1.clone() * c(256);
        let word = d0 + d1 * c(64) + addr_hi.clone() * c(1 << 14);

        // The buffer this row belongs to, and the row's place in it: first_word <= word <= last_word,
        // with `is_first` / `is_last` exactly when the word is at an end.
        let one_hot = |builder: &mut AB, base: usize| {
            let flags: [AB::Expr; 4] = core::array::from_fn(|j| local[base + j].clone());
            for f in &flags {
                builder.assert_bool(f.clone());
            }
            let sum: AB::Expr = flags.iter().cloned().sum();
            builder.assert_eq(sum, is_real.clone());
            let value: AB::Expr = flags
                .iter()
                .enumerate()
                .map(|(j, f)| f.clone() * c(j))
                .sum();
            (flags, value)
        };
        let (first_flags, first_offset) = one_hot(builder, FIRST_OFFSET);
        let (last_flags, last_offset) = one_hot(builder, LAST_OFFSET);
        let (first_word, last_word) = (local[FIRST_WORD].clone(), local[LAST_WORD].clone());
        let clk = local[CLK].clone();
        SYSCALL_BUFFER_BUS.lookup_key(
            builder,
            [
                clk.clone(),
                is_write.clone(),
                first_word.clone(),
                first_offset,
                last_word.clone(),
                last_offset,
            ],
            Count::bounded(is_real.clone(), 1),
        );
        let (is_first, is_last) = (local[IS_FIRST].clone(), local[IS_LAST].clone());
        builder.assert_bool(is_first.clone());
        builder.assert_bool(is_last.clone());
        builder.assert_zero(is_first.clone() * (word.clone() - first_word.clone()));
        builder.assert_zero(is_last.clone() * (last_word.clone() - word.clone()));
        let after_first = eval_small(builder, &local[AFTER_FIRST..AFTER_FIRST + 4], &is_real);
        let before_last = eval_small(builder, &local[BEFORE_LAST..BEFORE_LAST + 4], &is_real);
        builder.assert_zero(
            is_real.clone() * (word.clone() - first_word - c(1) + is_first.clone() - after_first),
        );
        builder.assert_zero(
            is_real.clone() * (last_word - word - c(1) + is_last.clone() - before_last),
        );

        // Bytes: the old ones are the access's previous value; a byte may change only when it is
        // marked inside, and a byte marked inside is not before the buffer's first byte (in the
        // first word) nor after its last (in the last word).
        let old: [AB::Expr; 4] = core::array::from_fn(|j| local[OLD + j].clone());
        let new: [AB::Expr; 4] = core::array::from_fn(|j| local[NEW + j].clone());
        let old_limbs = eval_word_bytes_range(builder, &old, is_real.clone());
        let new_value = eval_word_bytes_range(builder, &new, is_real.clone());
        let access = MemoryAccessCols::from_slice(&local[ACCESS..]);
        for (limb, prev) in old_limbs.iter().zip(&access.prev_value) {
            builder.assert_eq(limb.clone(), prev.clone());
        }
        for j in 0..4 {
            let inside = local[INSIDE + j].clone();
            builder.assert_bool(inside.clone());
            builder
                .assert_zero((AB::Expr::ONE - inside.clone()) * (new[j].clone() - old[j].clone()));
            let before_first: AB::Expr = first_flags[j + 1..].iter().cloned().sum();
            let after_last: AB::Expr = last_flags[..j].iter().cloned().sum();
            builder.assert_zero(inside.clone() * is_first.clone() * before_first);
            builder.assert_zero(inside * is_last.clone() * after_last);
        }

        eval_access(
            builder,
            AccessExprs {
                addr: [addr_lo, addr_hi],
                value: new_value,
                ts: syscall_ts(clk),
                is_real,
                is_write,
            },
            &access,
        );
    }
}

#[cfg(test)]
mod tests {
    use p3_air::check_all_constraints;
    use p3_lookup::{Kind, Lookup, Lookups};
    use zkmips_executor::events::SyscallEvent;
    use zkmips_executor::{Executor, ExecutorConfig, Mode, Program, Shard, SyscallConfig};

    use super::*;
    use crate::batch::Table;
    use crate::buses::SYSCALL_MESSAGE_WIDTH;
    use crate::chips::memory::{AccessTestChip, BoundaryEntry, MemoryBoundaryChip, TestAccess};
    use crate::chips::testing::{
        SenderChip, TestAir, assert_rejected, lookups_balance, prove_and_verify,
    };
    use crate::chips::{ByteChip, ProgramChip};
    use crate::config::{Challenge, Val};
    use crate::shard::executed_instructions;

    /// Position of each chip in [`Fixture::tables`].
    const SYSCALL: usize = 1;
    const MEMORY: usize = 2;

    mod asm {
        pub const ZERO: u32 = 0;
        pub const V0: u32 = 2;
        pub const A0: u32 = 4;
        pub const A1: u32 = 5;
        pub const A2: u32 = 6;

        fn itype(op: u32, rs: u32, rt: u32, imm: u32) -> u32 {
            (op << 26) | (rs << 21) | (rt << 16) | (imm & 0xffff)
        }
        pub fn lui(rt: u32, imm: u32) -> u32 {
            itype(0x0f, 0, rt, imm)
        }
        pub fn ori(rt: u32, rs: u32, imm: u32) -> u32 {
            itype(0x0d, rs, rt, imm)
        }
        pub fn addu(rd: u32, rs: u32, rt: u32) -> u32 {
            (rs << 21) | (rt << 16) | (rd << 11) | 0x21
        }
        pub const SYSCALL: u32 = 0x0000_000c;

        /// `reg = value`.
        pub fn li(reg: u32, value: u32) -> [u32; 2] {
            [lui(reg, value >> 16), ori(reg, reg, value & 0xffff)]
        }
    }

    const TEXT: u32 = 0x0040_0000;
    const DATA: u32 = 0x1000_0000;
    /// The data segment's initial bytes (all non-zero, so kept edge bytes are visible).
    fn data() -> Vec<u8> {
        (0..0x60u8).map(|i| 0x80 | i).collect()
    }
    const INPUT0: &[u8] = b"abcdef";
    const INPUT1: &[u8] = b"123456789";
    const HINT0: &[u8] = b"xy";

    /// Every provable service, with buffers unaligned at both ends, aligned at the start with a
    /// length not a multiple of 4, and inside a single word.
    fn program() -> Program {
        use asm::*;
        let mut code = Vec::new();
        let mut call = |setup: &[[u32; 2]], service: u32| {
            for pair in setup {
                code.extend(pair);
            }
            code.extend(li(V0, service));
            code.push(SYSCALL);
        };
        call(&[], nr::INPUT_LEN);
        call(
            &[li(A0, DATA + 1), li(A1, INPUT0.len() as u32)],
            nr::INPUT_READ,
        );
        call(
            &[li(A0, DATA + 0x20), li(A1, INPUT1.len() as u32)],
            nr::INPUT_READ,
        );
        call(&[], nr::HINT_LEN);
        call(
            &[li(A0, DATA + 0x41), li(A1, HINT0.len() as u32)],
            nr::HINT_READ,
        );
        call(&[li(A0, 1), li(A1, DATA + 1), li(A2, 6)], nr::WRITE);
        call(&[li(A0, DATA + 0x20), li(A1, 5)], nr::COMMIT);
        call(&[li(A0, DATA + 0x41), li(A1, 2)], nr::HINT_WRITE);
        call(&[li(A0, 2), li(A2, 0)], nr::WRITE); // empty buffer: no memory row
        call(&[], nr::INPUT_LEN); // stream exhausted: NO_MORE_ITEMS
        code.push(addu(A0, ZERO, ZERO));
        code.extend(li(V0, nr::HALT));
        code.push(SYSCALL);
        Program::from_code(TEXT, &code).with_data_segment(DATA, 0x100, &data())
    }

    fn traced_shard(program: &Program) -> Shard {
        let config = ExecutorConfig {
            max_cycles: Some(10_000),
            mode: Mode::Tracing,
            shard_cycles: 1 << 12,
            syscalls: SyscallConfig {
                inputs: vec![INPUT0.to_vec(), INPUT1.to_vec()],
                hints: vec![HINT0.to_vec()],
                echo_output: false,
                ..SyscallConfig::default()
            },
            ..ExecutorConfig::default()
        };
        let mut executor = Executor::new(program, config).unwrap();
        let report = executor.run().expect("the program runs");
        assert_eq!(report.exit_code, 0);
        assert_eq!(report.stdout, b"abcdef");
        let mut shards = report.record.expect("tracing mode keeps a record").shards;
        assert_eq!(shards.len(), 1);
        shards.pop().unwrap()
    }

    /// A shard's syscalls as a (possibly lying) prover presents them. The other instructions'
    /// accesses are proven by the memory argument's `AccessTestChip` stand-in, so the memory bus
    /// balances against the shard's real boundary only if the syscall chips cover exactly the
    /// syscalls' accesses.
    #[derive(Clone)]
    struct Fixture {
        rows: Vec<SyscallRow>,
        sends: Vec<[u32; 2]>,
        others: Vec<MemoryAccess>,
        boundary: Vec<BoundaryEntry>,
    }

    impl Fixture {
        fn new() -> Self {
            let program = program();
            let shard = traced_shard(&program);
            let executed = executed_instructions(&shard, &ProgramChip::new(&program).unwrap())
                .expect("the record pairs up");
            let rows = rows(&executed).expect("every syscall is provable");
            let others = executed
                .iter()
                .filter(|e| !matches!(e.event, ClassEvent::Syscall(..)))
                .flat_map(|e| e.accesses.iter().copied())
                .collect();
            Self {
                sends: rows.iter().map(syscall_message).collect(),
                rows,
                others,
                boundary: crate::chips::memory::boundary_entries(&shard).unwrap(),
            }
        }

        fn row_index(&self, service: Service, nth: usize) -> usize {
            (0..self.rows.len())
                .filter(|&i| self.rows[i].service == service)
                .nth(nth)
                .expect("the program makes this call")
        }

        /// The tables through the checked trace generation (`honest`) or filled as given.
        fn tables(&self, honest: bool) -> Vec<Table<TestAir, Val>> {
            let mut bytes = ByteCounts::new();
            let sender = SenderChip::new("syscall", SYSCALL_MESSAGE_WIDTH);
            let messages: Vec<Vec<Val>> = self
                .sends
                .iter()
                .map(|m| m.iter().map(|&v| Val::from_u32(v)).collect())
                .collect();
            let (syscall, memory) = if honest {
                (
                    SyscallChip.generate_trace(&self.rows, &mut bytes).unwrap(),
                    SyscallMemoryChip
                        .generate_trace(&self.rows, &mut bytes)
                        .unwrap(),
                )
            } else {
                (
                    SyscallChip::fill_trace(&self.rows, &mut bytes),
                    SyscallMemoryChip::fill_trace(&self.rows, &mut bytes),
                )
            };
            let others: Vec<TestAccess> = self
                .others
                .iter()
                .map(|&access| TestAccess {
                    access,
                    is_write: access.value != access.prev_value,
                })
                .collect();
            let others = AccessTestChip::fill_trace(&others, &mut bytes);
            let mut boundary = self.boundary.clone();
            boundary.sort_by_key(|e| e.addr);
            let boundary = MemoryBoundaryChip::fill_trace(&boundary, &mut bytes);
            let table = |air, trace| Table {
                air,
                trace,
                public_values: vec![],
            };
            vec![
                table(TestAir::Sender(sender), sender.trace(&messages)),
                table(TestAir::Syscall(SyscallChip), syscall),
                table(TestAir::SyscallMemory(SyscallMemoryChip), memory),
                table(TestAir::AccessTest(AccessTestChip), others),
                table(TestAir::MemoryBoundary(MemoryBoundaryChip), boundary),
                table(TestAir::Byte(ByteChip), ByteChip.generate_trace(&bytes)),
            ]
        }

        /// Every access to `addr` (syscalls' and others'), in time order.
        fn chain(&mut self, addr: u32) -> Vec<&mut MemoryAccess> {
            let mut chain: Vec<&mut MemoryAccess> = self
                .rows
                .iter_mut()
                .flat_map(|r| r.registers.iter_mut().chain(r.memory.iter_mut()))
                .chain(self.others.iter_mut())
                .filter(|a| a.addr == addr)
                .collect();
            chain.sort_by_key(|a| a.timestamp);
            chain
        }

        /// Re-links the accesses to `addr` after timestamp `from` to the (changed) access at
        /// `from` — each takes the previous one's value and timestamp, reads keep it — and the
        /// boundary's final entry, as a forger would to keep the memory bus balanced.
        fn relink_after(&mut self, addr: u32, from: u32) {
            let mut chain = self.chain(addr);
            let reads: Vec<bool> = chain.iter().map(|a| a.value == a.prev_value).collect();
            let start = chain.iter().position(|a| a.timestamp == from).unwrap();
            for i in start + 1..chain.len() {
                let (value, ts) = (chain[i - 1].value, chain[i - 1].timestamp);
                chain[i].prev_value = value;
                chain[i].prev_timestamp = ts;
                if reads[i] {
                    chain[i].value = value;
                }
            }
            let first_prev = chain[0].prev_value;
            let last = (chain.last().unwrap().value, chain.last().unwrap().timestamp);
            match self.boundary.iter_mut().find(|e| e.addr == addr) {
                Some(entry) => (entry.final_value, entry.final_ts) = last,
                None => self.boundary.push(BoundaryEntry {
                    addr,
                    init_value: first_prev,
                    final_value: last.0,
                    final_ts: last.1,
                }),
            }
        }

        /// Makes register `reg` hold `value` when row `row` reads it: the access before (another
        /// instruction's, proven by the arbitrary-write stand-in) wrote `value` instead.
        fn set_found(&mut self, row: usize, reg: u32, value: u32) {
            let ts = self.rows[row].timestamp() as u32;
            let setter = {
                let chain = self.chain(reg);
                let k = chain.iter().position(|a| a.timestamp == ts).unwrap();
                chain[k - 1].timestamp
            };
            let mut chain = self.chain(reg);
            let setter_access = chain.iter_mut().find(|a| a.timestamp == setter).unwrap();
            setter_access.value = value;
            self.relink_after(reg, setter);
        }

        /// Replaces row `row`'s memory accesses with `accesses` (fresh locations, initially 0),
        /// re-linking the chains of the words it no longer touches around the removed accesses.
        fn replace_memory(&mut self, row: usize, accesses: Vec<MemoryAccess>) {
            let removed = core::mem::replace(&mut self.rows[row].memory, accesses.clone());
            for old in removed {
                let mut chain = self.chain(old.addr);
                let Some(next) = chain.iter_mut().find(|a| a.timestamp > old.timestamp) else {
                    let entry = self
                        .boundary
                        .iter_mut()
                        .find(|e| e.addr == old.addr)
                        .unwrap();
                    (entry.final_value, entry.final_ts) = (old.prev_value, old.prev_timestamp);
                    if old.prev_timestamp == 0 {
                        self.boundary.retain(|e| e.addr != old.addr);
                    }
                    continue;
                };
                let was_read = next.value == next.prev_value;
                (next.prev_value, next.prev_timestamp) = (old.prev_value, old.prev_timestamp);
                if was_read {
                    next.value = old.prev_value;
                }
                let ts = next.timestamp;
                self.relink_after(old.addr, ts);
            }
            for access in accesses {
                assert!(self.chain(access.addr).len() == 1, "a fresh location");
                self.relink_after(access.addr, access.timestamp);
            }
        }

        /// Row `row`'s access to register `reg`.
        fn register(&mut self, row: usize, reg: u32) -> &mut MemoryAccess {
            let k = REGISTERS.iter().position(|&r| r == reg).unwrap();
            &mut self.rows[row].registers[k]
        }
    }

    /// Which check a tampered batch fails.
    enum Caught {
        Constraints(usize),
        Bus(&'static str),
    }

    fn bus_balances(tables: &[Table<TestAir, Val>], bus: &str) -> bool {
        let lookups: Vec<Vec<Lookup<Val>>> = tables
            .iter()
            .map(|t| {
                Lookups::from_air::<Challenge, _>(&t.air)
                    .iter()
                    .filter(|l| matches!(&l.kind, Kind::Global(name) if name == bus))
                    .cloned()
                    .collect()
            })
            .collect();
        lookups_balance(tables, &lookups)
    }

    fn constraints_hold(table: &Table<TestAir, Val>) -> bool {
        check_all_constraints(&table.air, &table.trace, &table.public_values, Some(8)).is_ok()
    }

    /// `tables` fail the given check (and only it, among the chips' constraints and the memory,
    /// syscall, buffer and byte buses), and the prover or verifier rejects them.
    fn assert_caught(tables: &[Table<TestAir, Val>], caught: Caught) {
        let failing_chips: Vec<usize> = (0..tables.len())
            .filter(|&i| !constraints_hold(&tables[i]))
            .collect();
        let failing_buses: Vec<&str> = ["memory", "syscall", "syscall_buffer", "byte"]
            .into_iter()
            .filter(|bus| !bus_balances(tables, bus))
            .collect();
        match caught {
            Caught::Constraints(chip) => {
                assert_eq!(failing_chips, vec![chip], "failing constraints");
                assert!(failing_buses.is_empty(), "buses fail: {failing_buses:?}");
            }
            Caught::Bus(bus) => {
                assert!(failing_chips.is_empty(), "chips fail: {failing_chips:?}");
                assert_eq!(failing_buses, vec![bus], "failing buses");
            }
        }
        assert_rejected(tables);
    }

    #[test]
    fn executor_syscalls_prove_and_verify() {
        let f = Fixture::new();
        // The keccak precompile is covered with its chip in `tests/machine.rs` (keccak example).
        for service in Service::ALL
            .into_iter()
            .filter(|s| *s != Service::KeccakPermute)
        {
            assert!(f.rows.iter().any(|r| r.service == service), "{service:?}");
        }
        let written = f
            .rows
            .iter()
            .filter(|r| r.service.writes_buffer())
            .map(|r| r.memory.len())
            .sum::<usize>();
        assert_eq!(written, 2 + 3 + 1);
        // The forged filling of honest rows is the honest trace.
        let honest = f.tables(true);
        assert_eq!(
            honest[SYSCALL].trace.values,
            f.tables(false)[SYSCALL].trace.values
        );
        prove_and_verify(&honest).expect("honest syscalls verify");
    }

    /// Every constraint (LogUp included) has degree at most 3: two quotient chunks at rate 1/2.
    #[test]
    fn constraint_degree_is_at_most_three() {
        use crate::chips::MipsAir;
        let shape = crate::security::batch_shape::<Val, Challenge, _>(
            &[
                MipsAir::Syscall(SyscallChip),
                MipsAir::SyscallMemory(SyscallMemoryChip),
            ],
            &[8, 8],
        );
        assert_eq!(shape.max_constraint_degree, 3);
        assert!(shape.num_quotient_chunks <= 2);
    }

    #[test]
    fn forged_write_result_is_rejected() {
        let mut f = Fixture::new();
        let row = f.row_index(Service::Write, 0);
        f.register(row, 2).value += 1;
        let ts = f.rows[row].timestamp() as u32;
        f.relink_after(2, ts);
        assert_caught(&f.tables(false), Caught::Constraints(SYSCALL));
    }

    #[test]
    fn halt_changing_v0_and_commit_returning_non_zero_are_rejected() {
        for (service, result) in [(Service::Halt, 5), (Service::Commit, 1)] {
            let mut f = Fixture::new();
            let row = f.row_index(service, 0);
            f.register(row, 2).value = result;
            let ts = f.rows[row].timestamp() as u32;
            f.relink_after(2, ts);
            assert_caught(&f.tables(false), Caught::Constraints(SYSCALL));
        }
    }

    #[test]
    fn write_to_fd_3_is_rejected() {
        let mut f = Fixture::new();
        let row = f.row_index(Service::Write, 0);
        f.set_found(row, 4, 3);
        assert_caught(&f.tables(false), Caught::Constraints(SYSCALL));
    }

    /// A forger adds a write to a word just outside an INPUT_READ buffer (after its last word,
    /// then before its first), claiming every byte inside.
    #[test]
    fn write_to_a_word_outside_the_buffer_is_rejected() {
        let initial = |addr: u32| {
            u32::from_le_bytes(core::array::from_fn(|j| data()[(addr - DATA) as usize + j]))
        };
        for (nth, addr) in [(0, DATA + 8), (1, DATA + 0x1c)] {
            let mut f = Fixture::new();
            let row = f.row_index(Service::InputRead, nth);
            assert!(f.chain(addr).is_empty(), "the word is untouched");
            let ts = f.rows[row].timestamp() as u32;
            f.rows[row].memory.push(MemoryAccess {
                addr,
                prev_value: initial(addr),
                prev_timestamp: 0,
                value: 0x5a5a_5a5a,
                timestamp: ts,
            });
            f.rows[row].memory.sort_by_key(|a| a.addr);
            f.relink_after(addr, ts);
            let mut tables = f.tables(false);
            // (The syscall row's multiplicity counts the extra lookup.)
            assert_caught(&tables, Caught::Constraints(MEMORY));
            // Claiming the word is the buffer's last (or first) word instead breaks `is_last`'s
            // (`is_first`'s) equation.
            let width = mem_cols::WIDTH;
            let k = f.rows[..row].iter().map(|r| r.memory.len()).sum::<usize>()
                + f.rows[row]
                    .memory
                    .iter()
                    .position(|a| a.addr == addr)
                    .unwrap();
            let flag = if nth == 0 {
                mem_cols::IS_LAST
            } else {
                mem_cols::IS_FIRST
            };
            tables[MEMORY].trace.values[k * width + flag] = Val::ONE;
            assert_rejected(&tables);
        }
    }

    /// Changing a byte outside the buffer in an edge word: before the first byte, after the last
    /// byte, and around a buffer inside one word.
    #[test]
    fn changed_byte_outside_the_buffer_is_rejected() {
        for (nth, service, addr, byte) in [
            (0, Service::InputRead, DATA, 0),
            (0, Service::InputRead, DATA + 4, 3),
            (1, Service::InputRead, DATA + 0x28, 1),
            (0, Service::HintRead, DATA + 0x40, 0),
            (0, Service::HintRead, DATA + 0x40, 3),
        ] {
            let mut f = Fixture::new();
            let row = f.row_index(service, nth);
            let ts = f.rows[row].timestamp() as u32;
            let access = f.rows[row]
                .memory
                .iter_mut()
                .find(|a| a.addr == addr)
                .unwrap();
            access.value ^= 0x11 << (8 * byte);
            f.relink_after(addr, ts);
            // The fill marks the changed byte inside (the forger's best claim): the offset check
            // catches it.
            let mut tables = f.tables(false);
            assert_caught(&tables, Caught::Constraints(MEMORY));
            // Marking it outside instead: the byte may not change.
            let k = f.rows[..row].iter().map(|r| r.memory.len()).sum::<usize>()
                + f.rows[row]
                    .memory
                    .iter()
                    .position(|a| a.addr == addr)
                    .unwrap();
            tables[MEMORY].trace.values[k * mem_cols::WIDTH + mem_cols::INSIDE + byte] = Val::ZERO;
            assert_caught(&tables, Caught::Constraints(MEMORY));
        }
    }

    /// WRITE reads its buffer; it cannot change it, whether the row says read or write.
    #[test]
    fn write_service_changing_memory_is_rejected() {
        let mut f = Fixture::new();
        let row = f.row_index(Service::Write, 0);
        let ts = f.rows[row].timestamp() as u32;
        let access = &mut f.rows[row].memory[0];
        let addr = access.addr;
        access.value ^= 0x0000_ff00; // byte 1: inside the buffer
        f.relink_after(addr, ts);
        let mut tables = f.tables(false);
        assert_caught(&tables, Caught::Constraints(MEMORY));
        let k = f.rows[..row].iter().map(|r| r.memory.len()).sum::<usize>();
        let cells = &mut tables[MEMORY].trace.values[k * mem_cols::WIDTH..];
        cells[mem_cols::IS_WRITE] = Val::ONE;
        cells[mem_cols::INSIDE + 1] = Val::ONE;
        assert_caught(&tables, Caught::Bus("syscall_buffer"));
    }

    /// INPUT_READ into `[0x20, 0x29)`: the first word's address is register HI's location (32),
    /// the others lie in the null guard. Every memory row is consistent with that buffer; the
    /// buffer's start guard (`start >= 0x1000`) refuses it.
    #[test]
    fn buffer_in_register_space_is_rejected() {
        let mut f = Fixture::new();
        let row = f.row_index(Service::InputRead, 1);
        f.set_found(row, 4, 0x20);
        let ts = f.rows[row].timestamp() as u32;
        let writes = [0x20, 0x24, 0x28]
            .map(|addr| MemoryAccess {
                addr,
                prev_value: 0,
                prev_timestamp: 0,
                value: if addr == 0x28 { 0x39 } else { 0x3433_3231 },
                timestamp: ts,
            })
            .to_vec();
        f.replace_memory(row, writes);
        assert_caught(&f.tables(false), Caught::Constraints(SYSCALL));
    }

    /// A buffer whose last byte is at or above 2^31 (`$a1 = 0x7fff_ff00` from `0x1000_0020`):
    /// the memory rows stay inside it, but its end fails the `last < 2^31` lookup.
    #[test]
    fn buffer_reaching_past_2_31_is_rejected() {
        let mut f = Fixture::new();
        let row = f.row_index(Service::InputRead, 1);
        f.set_found(row, 5, 0x7fff_ff00);
        assert_caught(&f.tables(false), Caught::Bus("byte"));
    }

    #[test]
    fn changed_argument_register_is_rejected() {
        let mut f = Fixture::new();
        let row = f.row_index(Service::InputRead, 0);
        f.register(row, 5).value += 1;
        let ts = f.rows[row].timestamp() as u32;
        f.relink_after(5, ts);
        assert_caught(&f.tables(false), Caught::Bus("memory"));
    }

    /// `$v0` holds SHA256_EXTEND, and the row claims WRITE (or HALT): the number is bound.
    #[test]
    fn unprovable_service_claimed_provable_is_rejected() {
        for service in [Service::Write, Service::Halt] {
            let mut f = Fixture::new();
            let row = f.row_index(service, 0);
            f.set_found(row, 2, nr::SHA256_EXTEND);
            if service == Service::Halt {
                f.register(row, 2).value = nr::SHA256_EXTEND;
                let ts = f.rows[row].timestamp() as u32;
                f.relink_after(2, ts);
            }
            assert_caught(&f.tables(false), Caught::Constraints(SYSCALL));
        }
    }

    /// The CPU's `is_halt` must be the service's: a WRITE sent as a halt, a HALT sent as none.
    #[test]
    fn forged_is_halt_is_rejected() {
        for service in [Service::Write, Service::Halt] {
            let mut f = Fixture::new();
            let row = f.row_index(service, 0);
            f.sends[row][1] ^= 1;
            assert_caught(&f.tables(false), Caught::Bus("syscall"));
        }
    }

    /// The result `0xffff_ffff` (NO_MORE_ITEMS) written with a high limb split as
    /// `(0x1ff, 0xfe)`: the same limb value, but not bytes.
    #[test]
    fn non_canonical_result_bytes_are_rejected() {
        let f = Fixture::new();
        let row = f.row_index(Service::InputLen, 1);
        assert_eq!(f.rows[row].registers[0].value, zkmips_abi::NO_MORE_ITEMS);
        let mut tables = f.tables(true);
        let cells = &mut tables[SYSCALL].trace.values[row * cols::WIDTH..];
        cells[cols::RESULT + 2] += Val::from_u32(256);
        cells[cols::RESULT + 3] -= Val::ONE;
        assert_caught(&tables, Caught::Bus("byte"));
    }

    /// The history skips a syscall's `$a3` read (the next access links to the one before): the
    /// chip performs it anyway, so the memory bus does not balance.
    #[test]
    fn skipped_register_access_is_rejected() {
        let mut f = Fixture::new();
        let row = f.row_index(Service::HintWrite, 0);
        let ts = f.rows[row].timestamp() as u32;
        let mut chain = f.chain(7);
        let k = chain.iter().position(|a| a.timestamp == ts).unwrap();
        let skipped_prev = chain[k].prev_timestamp;
        chain[k + 1].prev_timestamp = skipped_prev;
        assert_caught(&f.tables(false), Caught::Bus("memory"));
    }

    /// A memory row that no syscall's buffer covers (a read at another cycle) does not balance
    /// the buffer bus.
    #[test]
    fn memory_row_of_no_syscall_is_rejected() {
        let f = Fixture::new();
        let mut tables = f.tables(true);
        let row = f.row_index(Service::Commit, 0);
        let k = f.rows[..row].iter().map(|r| r.memory.len()).sum::<usize>();
        let cells = &mut tables[MEMORY].trace.values[k * mem_cols::WIDTH..];
        cells[mem_cols::CLK] += Val::ONE;
        assert!(!bus_balances(&tables, "syscall_buffer"));
        assert_rejected(&tables);
    }

    #[test]
    fn unprovable_syscalls_are_refused_by_number_name_cycle_and_pc() {
        let program = program();
        let shard = traced_shard(&program);
        let executed = executed_instructions(&shard, &ProgramChip::new(&program).unwrap()).unwrap();
        let k = executed
            .iter()
            .position(|e| matches!(e.event, ClassEvent::Syscall(..)))
            .unwrap();
        let ClassEvent::Syscall(real, _) = executed[k].event else {
            unreachable!()
        };
        for (number, name) in [
            (nr::SHA256_EXTEND, "SHA256_EXTEND"),
            (nr::SHA256_COMPRESS, "SHA256_COMPRESS"),
            (4004, "Linux"),
            (0x0001_0042, "unknown"),
        ] {
            let event = SyscallEvent { number, ..*real };
            let mut forged = executed.clone();
            forged[k].event = ClassEvent::Syscall(&event, None);
            let err = rows(&forged).unwrap_err();
            let TraceError::Instruction { clk, pc, .. } = &err else {
                panic!("{err}");
            };
            assert_eq!((*clk, *pc), (executed[k].clk, executed[k].pc));
            let message = err.to_string();
            assert!(message.contains(&format!("{number:#x}")), "{message}");
            assert!(message.contains(name), "{message}");
        }
    }

    #[test]
    fn trace_generation_refuses_rows_the_executor_would_not_produce() {
        let f = Fixture::new();
        let mut bytes = ByteCounts::new();
        let refuse = |rows: &[SyscallRow], bytes: &mut ByteCounts| {
            assert!(SyscallChip.generate_trace::<Val>(rows, bytes).is_err());
            assert!(
                SyscallMemoryChip
                    .generate_trace::<Val>(rows, bytes)
                    .is_err()
            );
        };
        let row = f.row_index(Service::Write, 0);
        let mut rows = f.rows.clone();
        rows[row].registers[0].value += 1;
        refuse(&rows, &mut bytes);
        let mut rows = f.rows.clone();
        rows[row].memory[0].value ^= 1;
        refuse(&rows, &mut bytes);
        let mut rows = f.rows.clone();
        rows[row].registers[3].value ^= 1;
        refuse(&rows, &mut bytes);
        let row = f.row_index(Service::InputRead, 0);
        let mut rows = f.rows.clone();
        rows[row].memory[0].value ^= 1; // byte 0 of the first word lies before the buffer
        refuse(&rows, &mut bytes);
    }
}
