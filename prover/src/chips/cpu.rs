//! `CpuChip`: one row per executed instruction of a shard.
//!
//! A row fetches its instruction from the program table (which hands over the instruction
//! already decoded into control fields, see [`fetch`]), reads `rs`/`rt` and writes the
//! destination register through the memory argument (registers are memory locations `0..=31`),
//! sequences `(pc, next_pc)` with MIPS delay slots, and dispatches the instruction to the chip that
//! proves its semantics over that chip's bus (ALU, mul/div, branch, load/store, syscall). It
//! holds no per-opcode logic: every flag it acts on comes from the preprocessed program table,
//! which the verifying key fixes.
//!
//! # Sequencing
//! The machine state before a row is `(pc, next_pc)` (`next_pc` is the delay slot of a branch at
//! `pc`). After the row it is `(new_pc, new_next_pc)`:
//! - `new_pc = next_pc + 4·annul`, where `annul` is 1 only for a branch-likely not taken (its
//!   slot is skipped; the branch chip proves `annul`);
//! - `new_next_pc = next_pc + 4` for instructions without a delay slot; for branches and jumps the
//!   branch chip proves it (target or fall-through).
//!
//! The next row starts from that state. Rows after the last instruction (padding) keep the state
//! unchanged, so the last row of the table carries the shard's final state, a public value.
//! A branch in a delay slot (which the executor refuses) is rejected, and a shard cannot end
//! between a branch and its delay slot (the executor never cuts there).
//!
//! # Public values
//! `[initial_pc, initial_next_pc, final_pc, final_next_pc, cycles, halted]`: the state before the
//! first row and after the last instruction, the number of instructions, and whether the last one
//! was the HALT service. The verifier chains them across shards.
//!
//! # Clock
//! `clk` is 1 on the first row and grows by one per row, so it is an integer `< 2^23 + 1` and the
//! access timestamps `8·clk + slot` are integers below `2^27`, as the memory argument's caller
//! contract requires. Every chip the CPU dispatches to with `clk` relies on this.

use p3_air::{Air, AirBuilder, BaseAir, PermutationAirBuilder, WindowAccess};
use p3_field::{Field, PrimeCharacteristicRing};
use p3_lookup::{Count, InteractionBuilder};
use p3_matrix::dense::RowMajorMatrix;
use zkmips_abi::syscall::HALT;
use zkmips_executor::events::{SLOT_DST, SLOT_RS, SLOT_RT, SLOTS_PER_CYCLE};
use zkmips_executor::{MemoryAccess, Opcode};

use super::memory::{AccessExprs, MemoryAccessCols, access_cols, eval_access, populate_access};
use super::program::{fetch, fetch_message, is_provable};
use super::{ByteCounts, TraceError, padded_height};
use crate::buses::{
    ALU_BUS, AluOp, BRANCH_BUS, MEM_INSTR_BUS, MULDIV_BUS, PROGRAM_BUS, SYSCALL_BUS, word_limbs,
};
use crate::shard::{ClassEvent, Executed};

/// Main columns.
pub mod cols {
    use super::{access_cols, fetch};

    pub const IS_REAL: usize = 0;
    pub const CLK: usize = 1;
    pub const PC: usize = 2;
    pub const NEXT_PC: usize = 3;
    pub const NEW_PC: usize = 4;
    pub const NEW_NEXT_PC: usize = 5;
    /// 1 on a branch-likely not taken (its delay slot is skipped).
    pub const ANNUL: usize = 6;
    /// 1 when this row is the delay slot of the previous row's branch.
    pub const IN_DELAY_SLOT: usize = 7;
    /// The fetched message fields `OPCODE..fetch::WIDTH` (the pc is [`PC`]): field `f` of the
    /// message is column `FETCH + f - 1`.
    pub const FETCH: usize = 8;
    pub const RS_VAL: usize = FETCH + fetch::WIDTH - 1;
    pub const RT_VAL: usize = RS_VAL + 2;
    /// The value the instruction's chip produced for the destination register.
    pub const RESULT: usize = RT_VAL + 2;
    /// The value actually written: `RESULT`, or 0 for `$zero`.
    pub const WRITTEN: usize = RESULT + 2;
    pub const RS_ACCESS: usize = WRITTEN + 2;
    pub const RT_ACCESS: usize = RS_ACCESS + access_cols::WIDTH;
    pub const DST_ACCESS: usize = RT_ACCESS + access_cols::WIDTH;
    /// 1 on the HALT syscall (answered by the syscall chip).
    pub const IS_HALT: usize = DST_ACCESS + access_cols::WIDTH;
    pub const WIDTH: usize = IS_HALT + 1;

    /// Column of fetched field `field` (an index of [`fetch`], not `PC`).
    pub const fn fetched(field: usize) -> usize {
        FETCH + field - 1
    }
}

/// Positions of the public values.
pub mod public {
    pub const INITIAL_PC: usize = 0;
    pub const INITIAL_NEXT_PC: usize = 1;
    pub const FINAL_PC: usize = 2;
    pub const FINAL_NEXT_PC: usize = 3;
    pub const CYCLES: usize = 4;
    pub const HALTED: usize = 5;
    pub const COUNT: usize = 6;
}

/// The CPU's public values, as integers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CpuPublicValues {
    pub initial_pc: u32,
    pub initial_next_pc: u32,
    pub final_pc: u32,
    pub final_next_pc: u32,
    pub cycles: u32,
    pub halted: bool,
}

impl CpuPublicValues {
    /// Whether every value is below `modulus`: the proof binds them modulo p only, so a value at
    /// or above p would alias one below it and only canonical values are meaningful.
    pub fn is_canonical(&self, modulus: u32) -> bool {
        [
            self.initial_pc,
            self.initial_next_pc,
            self.final_pc,
            self.final_next_pc,
            self.cycles,
        ]
        .iter()
        .all(|&v| v < modulus)
    }

    pub fn to_field<F: Field>(&self) -> Vec<F> {
        vec![
            F::from_u32(self.initial_pc),
            F::from_u32(self.initial_next_pc),
            F::from_u32(self.final_pc),
            F::from_u32(self.final_next_pc),
            F::from_u32(self.cycles),
            F::from_bool(self.halted),
        ]
    }
}

/// A request the CPU sends on the ALU bus: `a = op(b, c, d)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AluRequest {
    pub op: AluOp,
    pub a: u32,
    pub b: u32,
    pub c: u32,
    pub d: u32,
}

/// Everything the CPU trace generation produces.
pub struct CpuTrace<F> {
    pub trace: RowMajorMatrix<F>,
    pub public_values: CpuPublicValues,
    /// The ALU requests sent, in row order, for the ALU chips to prove.
    pub alu_requests: Vec<AluRequest>,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct CpuChip;

impl CpuChip {
    pub const fn name(&self) -> &'static str {
        "Cpu"
    }

    /// The CPU table of a shard's `executed` instructions, whose state after the last one is
    /// `(final_pc, final_next_pc)`. Checks everything the AIR will (a wrong record is an error
    /// naming the instruction, not an unprovable trace) and records the byte lookups.
    pub fn generate_trace<F: Field>(
        &self,
        executed: &[Executed],
        (final_pc, final_next_pc): (u32, u32),
        bytes: &mut ByteCounts,
    ) -> Result<CpuTrace<F>, TraceError> {
        self.generate_trace_with_height(executed, (final_pc, final_next_pc), 0, bytes)
    }

    /// [`Self::generate_trace`] with at least `min_height` rows (a power of two): a fixed proof
    /// shape pads the CPU table with its own padding rows, which keep the final state and count
    /// the clock on (all-zero rows would break both).
    pub fn generate_trace_with_height<F: Field>(
        &self,
        executed: &[Executed],
        (final_pc, final_next_pc): (u32, u32),
        min_height: usize,
        bytes: &mut ByteCounts,
    ) -> Result<CpuTrace<F>, TraceError> {
        let first = executed.first().ok_or(TraceError::EmptyShard)?;
        let height = padded_height(executed.len()).max(min_height);
        let mut values = F::zero_vec(height * cols::WIDTH);
        let mut alu_requests = Vec::new();
        let mut in_delay_slot = false;
        let mut halted = false;
        for (index, (e, out)) in executed
            .iter()
            .zip(values.chunks_exact_mut(cols::WIDTH))
            .enumerate()
        {
            let error = |reason: String| e.error("Cpu", reason);
            if !is_provable(e.instruction.opcode) {
                return Err(TraceError::Unprovable {
                    row: index,
                    pc: e.pc,
                    instruction: e.instruction.disassemble(e.pc),
                });
            }
            if halted {
                return Err(error("the machine already halted".into()));
            }
            let control = fetch_message(e.pc, &e.instruction);
            let flag = |field: usize| control[field] == 1;
            let (new_pc, new_next_pc) = match executed.get(index + 1) {
                Some(next) => (next.pc, next.next_pc),
                None => (final_pc, final_next_pc),
            };
            let annul = e.annulled_slot;
            if new_pc != e.next_pc.wrapping_add(if annul { 4 } else { 0 }) {
                return Err(error(format!(
                    "the next instruction is at {new_pc:#010x}, not after the delay slot"
                )));
            }
            if !flag(fetch::HAS_DELAY_SLOT) && new_next_pc != e.next_pc.wrapping_add(4) {
                return Err(error(format!(
                    "no branch here, yet the state after it has next pc {new_next_pc:#010x}"
                )));
            }
            if flag(fetch::HAS_DELAY_SLOT) && in_delay_slot {
                return Err(error("a branch in a delay slot".into()));
            }

            let read = |field: usize, reads: usize, slot: u64| -> Result<_, TraceError> {
                if !flag(reads) {
                    return Ok(None);
                }
                let access = e
                    .access(slot, control[field])
                    .ok_or_else(|| error(format!("no read of register {}", control[field])))?;
                Ok(Some(*access))
            };
            let rs_access = read(fetch::RS, fetch::READS_RS, SLOT_RS)?;
            let rt_access = read(fetch::RT, fetch::READS_RT, SLOT_RT)?;
            let dst_access = read(fetch::DST, fetch::WRITES_DST, SLOT_DST)?;
            let rs_val = rs_access.map_or(0, |a| a.value);
            let rt_val = rt_access.map_or(0, |a| a.value);
            let result = class_result(e).map_err(error)?;
            let written = if flag(fetch::DST_IS_ZERO) { 0 } else { result };
            if let Some(access) = &dst_access
                && access.value != written
            {
                return Err(error(format!(
                    "register {} is written {:#010x}, the instruction's result is {written:#010x}",
                    access.addr, access.value
                )));
            }
            if dst_access.is_none() && result != 0 {
                return Err(error("a result but no destination register".into()));
            }
            let is_halt = matches!(
                e.event,
                ClassEvent::Syscall(event, _) if event.number == HALT && event.exit.is_some()
            );

            if flag(fetch::IS_ALU) {
                let op = alu_op_from_code(control[fetch::ALU_OP]).map_err(error)?;
                let imm = control[fetch::IMM_LO] | control[fetch::IMM_HI] << 16;
                let select = |is_rs: usize, is_rt: usize| {
                    (if flag(is_rs) { rs_val } else { 0 }).wrapping_add(if flag(is_rt) {
                        rt_val
                    } else {
                        0
                    })
                };
                let b = select(fetch::B_IS_RS, fetch::B_IS_RT);
                let c = select(fetch::C_IS_RS, fetch::C_IS_RT).wrapping_add(imm);
                let d = match (&dst_access, flag(fetch::USES_D)) {
                    (Some(access), true) => access.prev_value,
                    _ => 0,
                };
                match op.evaluate_with_old(b, c, d) {
                    Some(a) if a == result => {}
                    other => {
                        return Err(error(format!(
                            "{op:?}({b:#x}, {c:#x}, {d:#x}) is {other:x?}, the record says {result:#x}"
                        )));
                    }
                }
                alu_requests.push(AluRequest {
                    op,
                    a: result,
                    b,
                    c,
                    d,
                });
            }

            out[cols::IS_REAL] = F::ONE;
            out[cols::CLK] = F::from_u32(e.clk);
            out[cols::PC] = F::from_u32(e.pc);
            out[cols::NEXT_PC] = F::from_u32(e.next_pc);
            out[cols::NEW_PC] = F::from_u32(new_pc);
            out[cols::NEW_NEXT_PC] = F::from_u32(new_next_pc);
            out[cols::ANNUL] = F::from_bool(annul);
            out[cols::IN_DELAY_SLOT] = F::from_bool(in_delay_slot);
            for field in fetch::OPCODE..fetch::WIDTH {
                out[cols::fetched(field)] = F::from_u32(control[field]);
            }
            for (base, word) in [
                (cols::RS_VAL, rs_val),
                (cols::RT_VAL, rt_val),
                (cols::RESULT, result),
                (cols::WRITTEN, written),
            ] {
                let [lo, hi] = word_limbs(word);
                out[base] = F::from_u32(lo);
                out[base + 1] = F::from_u32(hi);
            }
            for (base, access) in [
                (cols::RS_ACCESS, rs_access),
                (cols::RT_ACCESS, rt_access),
                (cols::DST_ACCESS, dst_access),
            ] {
                if let Some(access) = access {
                    fill_access(
                        index,
                        &mut out[base..base + access_cols::WIDTH],
                        &access,
                        bytes,
                    )?;
                }
            }
            out[cols::IS_HALT] = F::from_bool(is_halt);
            in_delay_slot = flag(fetch::HAS_DELAY_SLOT) && !annul;
            halted = is_halt;
        }
        if in_delay_slot {
            return Err(TraceError::ShardEndsInDelaySlot);
        }
        // Padding rows keep the final state and count on.
        for (index, out) in values
            .chunks_exact_mut(cols::WIDTH)
            .enumerate()
            .skip(executed.len())
        {
            out[cols::CLK] = F::from_usize(index + 1);
            out[cols::PC] = F::from_u32(final_pc);
            out[cols::NEXT_PC] = F::from_u32(final_next_pc);
            out[cols::NEW_PC] = F::from_u32(final_pc);
            out[cols::NEW_NEXT_PC] = F::from_u32(final_next_pc);
        }
        Ok(CpuTrace {
            trace: RowMajorMatrix::new(values, cols::WIDTH),
            public_values: CpuPublicValues {
                initial_pc: first.pc,
                initial_next_pc: first.next_pc,
                final_pc,
                final_next_pc,
                cycles: executed.len() as u32,
                halted,
            },
            alu_requests,
        })
    }
}

fn fill_access<F: Field>(
    index: usize,
    out: &mut [F],
    access: &MemoryAccess,
    bytes: &mut ByteCounts,
) -> Result<(), TraceError> {
    populate_access(index, out, access, bytes)?;
    Ok(())
}

fn alu_op_from_code(code: u32) -> Result<AluOp, String> {
    AluOp::ALL
        .into_iter()
        .find(|op| *op as u32 == code)
        .ok_or_else(|| format!("no ALU operation has code {code}"))
}

/// The value the instruction's chip produces for the destination register (0 when it writes
/// none), from its class event.
fn class_result(e: &Executed) -> Result<u32, String> {
    use Opcode::*;
    Ok(match e.event {
        ClassEvent::Alu(event) => event.a,
        ClassEvent::MulDiv(event) => match event.opcode {
            Mul | Mflo => event.lo,
            Mfhi => event.hi,
            _ => 0,
        },
        ClassEvent::Branch(event) => event.link,
        ClassEvent::Memory(event) => match event.opcode {
            Sb | Sh | Sw | Swl | Swr => 0,
            _ => event.reg_value,
        },
        ClassEvent::Syscall(..) | ClassEvent::None => 0,
    })
}

impl<F> BaseAir<F> for CpuChip {
    fn width(&self) -> usize {
        cols::WIDTH
    }

    fn num_public_values(&self) -> usize {
        public::COUNT
    }

    fn main_next_row_columns(&self) -> Vec<usize> {
        vec![
            cols::IS_REAL,
            cols::CLK,
            cols::PC,
            cols::NEXT_PC,
            cols::IN_DELAY_SLOT,
        ]
    }
}

impl<AB: PermutationAirBuilder + InteractionBuilder> Air<AB> for CpuChip {
    fn eval(&self, builder: &mut AB) {
        use cols::*;
        let main = builder.main();
        let local: Vec<AB::Expr> = main.current_slice().iter().map(|&v| v.into()).collect();
        let next: Vec<AB::Expr> = main.next_slice().iter().map(|&v| v.into()).collect();
        let public: Vec<AB::Expr> = builder.public_values().iter().map(|&v| v.into()).collect();
        let one = || AB::Expr::ONE;
        let f = |field: usize| local[fetched(field)].clone();
        let pair = |base: usize| [local[base].clone(), local[base + 1].clone()];

        let is_real = local[IS_REAL].clone();
        let clk = local[CLK].clone();
        let (pc, next_pc) = (local[PC].clone(), local[NEXT_PC].clone());
        let (new_pc, new_next_pc) = (local[NEW_PC].clone(), local[NEW_NEXT_PC].clone());
        let annul = local[ANNUL].clone();
        let (reads_rs, reads_rt, writes_dst) =
            (f(fetch::READS_RS), f(fetch::READS_RT), f(fetch::WRITES_DST));
        let has_delay_slot = f(fetch::HAS_DELAY_SLOT);
        let is_syscall = f(fetch::IS_SYSCALL);
        let is_halt = local[IS_HALT].clone();

        // Real rows: a prefix starting on the first row; the clock counts rows from 1.
        builder.assert_bool(is_real.clone());
        builder.when_first_row().assert_one(is_real.clone());
        builder.when_first_row().assert_one(clk.clone());
        let mut transition = builder.when_transition();
        transition.assert_zero(next[IS_REAL].clone() * (one() - is_real.clone()));
        transition.assert_eq(next[CLK].clone(), clk.clone() + one());

        // A row's fetched fields hold only when the fetch happened (count `is_real`); the flags
        // that drive interactions and sequencing must vanish on padding rows.
        for field in [
            fetch::READS_RS,
            fetch::READS_RT,
            fetch::WRITES_DST,
            fetch::IS_ALU,
            fetch::IS_MULDIV,
            fetch::IS_BRANCH,
            fetch::IS_MEM,
            fetch::IS_SYSCALL,
            fetch::HAS_DELAY_SLOT,
            fetch::IS_LIKELY,
        ] {
            builder.assert_zero((one() - is_real.clone()) * f(field));
        }

        // Sequencing.
        builder.assert_zero(annul.clone() * (one() - f(fetch::IS_LIKELY)));
        builder.assert_zero(
            is_real.clone()
                * (new_pc.clone() - next_pc.clone() - annul.clone() * AB::Expr::from_u32(4)),
        );
        builder.assert_zero(
            (is_real.clone() - has_delay_slot.clone())
                * (new_next_pc.clone() - next_pc.clone() - AB::Expr::from_u32(4)),
        );
        builder.assert_zero((one() - is_real.clone()) * (new_pc.clone() - pc.clone()));
        builder.assert_zero((one() - is_real.clone()) * (new_next_pc.clone() - next_pc.clone()));
        let mut transition = builder.when_transition();
        transition.assert_eq(next[PC].clone(), new_pc.clone());
        transition.assert_eq(next[NEXT_PC].clone(), new_next_pc.clone());

        // Delay slots: no branch in a slot; the slot follows its branch within the shard.
        let in_delay_slot = local[IN_DELAY_SLOT].clone();
        let slot_pending = has_delay_slot.clone() - annul.clone();
        builder.assert_zero(in_delay_slot.clone() * has_delay_slot.clone());
        builder.assert_zero((one() - is_real.clone()) * in_delay_slot.clone());
        builder.when_first_row().assert_zero(in_delay_slot);
        builder
            .when_transition()
            .assert_eq(next[IN_DELAY_SLOT].clone(), slot_pending.clone());
        builder.when_last_row().assert_zero(slot_pending);

        // HALT ends the run: nothing executes after it.
        builder.assert_zero(is_halt.clone() * (one() - is_syscall.clone()));
        builder
            .when_transition()
            .assert_zero(is_halt.clone() * next[IS_REAL].clone());

        // Public values: the state before the first row, after the last, the instruction count
        // (the clock of the last real row) and whether it halted.
        let mut first = builder.when_first_row();
        first.assert_eq(pc.clone(), public[public::INITIAL_PC].clone());
        first.assert_eq(next_pc.clone(), public[public::INITIAL_NEXT_PC].clone());
        let mut last = builder.when_last_row();
        last.assert_eq(new_pc.clone(), public[public::FINAL_PC].clone());
        last.assert_eq(new_next_pc.clone(), public[public::FINAL_NEXT_PC].clone());
        let is_last_real = is_real.clone() * (one() - next[IS_REAL].clone());
        builder
            .when_transition()
            .assert_zero(is_last_real.clone() * (clk.clone() - public[public::CYCLES].clone()));
        builder
            .when_transition()
            .assert_zero(is_last_real * (is_halt.clone() - public[public::HALTED].clone()));
        let mut last = builder.when_last_row();
        last.assert_zero(is_real.clone() * (clk.clone() - public[public::CYCLES].clone()));
        last.assert_zero(is_real.clone() * (is_halt.clone() - public[public::HALTED].clone()));

        // Fetch the instruction at `pc`.
        let mut message = vec![pc.clone()];
        message.extend((fetch::OPCODE..fetch::WIDTH).map(&f));
        PROGRAM_BUS.lookup_key(builder, message, Count::bounded(is_real.clone(), 1));

        // Registers: unread operands are 0, no result without a destination, `$zero` keeps 0.
        let rs_val = pair(RS_VAL);
        let rt_val = pair(RT_VAL);
        let result = pair(RESULT);
        let written = pair(WRITTEN);
        for k in 0..2 {
            builder.assert_zero((one() - reads_rs.clone()) * rs_val[k].clone());
            builder.assert_zero((one() - reads_rt.clone()) * rt_val[k].clone());
            builder.assert_zero((one() - writes_dst.clone()) * result[k].clone());
            builder.assert_eq(
                written[k].clone(),
                result[k].clone() * (one() - f(fetch::DST_IS_ZERO)),
            );
        }
        let ts = |slot: u64| {
            clk.clone() * AB::Expr::from_u64(SLOTS_PER_CYCLE) + AB::Expr::from_u64(slot)
        };
        let access_cols = |base: usize| MemoryAccessCols::from_slice(&local[base..]);
        let register = |field: usize| [f(field), AB::Expr::ZERO];
        eval_access(
            builder,
            AccessExprs {
                addr: register(fetch::RS),
                value: rs_val.clone(),
                ts: ts(SLOT_RS),
                is_real: reads_rs,
                is_write: AB::Expr::ZERO,
            },
            &access_cols(RS_ACCESS),
        );
        eval_access(
            builder,
            AccessExprs {
                addr: register(fetch::RT),
                value: rt_val.clone(),
                ts: ts(SLOT_RT),
                is_real: reads_rt,
                is_write: AB::Expr::ZERO,
            },
            &access_cols(RT_ACCESS),
        );
        let dst_cols = access_cols(DST_ACCESS);
        eval_access(
            builder,
            AccessExprs {
                addr: register(fetch::DST),
                value: written,
                ts: ts(SLOT_DST),
                is_real: writes_dst.clone(),
                is_write: writes_dst,
            },
            &dst_cols,
        );

        // Dispatch to the chip that proves the instruction.
        let imm = [f(fetch::IMM_LO), f(fetch::IMM_HI)];
        let select = |is_rs: usize, is_rt: usize, k: usize| {
            f(is_rs) * rs_val[k].clone() + f(is_rt) * rt_val[k].clone()
        };
        let mut alu = vec![f(fetch::ALU_OP), result[0].clone(), result[1].clone()];
        alu.extend((0..2).map(|k| select(fetch::B_IS_RS, fetch::B_IS_RT, k)));
        alu.extend((0..2).map(|k| select(fetch::C_IS_RS, fetch::C_IS_RT, k) + imm[k].clone()));
        alu.extend((0..2).map(|k| f(fetch::USES_D) * dst_cols.prev_value[k].clone()));
        ALU_BUS.send(builder, alu, Count::bounded(f(fetch::IS_ALU), 1));

        let opcode = f(fetch::OPCODE);
        let operands = [
            rs_val[0].clone(),
            rs_val[1].clone(),
            rt_val[0].clone(),
            rt_val[1].clone(),
        ];
        let mut muldiv = vec![opcode.clone(), clk.clone()];
        muldiv.extend(operands.clone());
        muldiv.extend(result.clone());
        MULDIV_BUS.send(builder, muldiv, Count::bounded(f(fetch::IS_MULDIV), 1));

        let mut branch = vec![opcode.clone(), pc, next_pc, new_next_pc, annul];
        branch.extend(operands.clone());
        branch.extend(imm.clone());
        branch.extend(result.clone());
        BRANCH_BUS.send(builder, branch, Count::bounded(f(fetch::IS_BRANCH), 1));

        let mut mem = vec![opcode, clk.clone()];
        mem.extend(operands);
        mem.extend(result);
        mem.extend(imm);
        MEM_INSTR_BUS.send(builder, mem, Count::bounded(f(fetch::IS_MEM), 1));

        SYSCALL_BUS.send(builder, [clk, is_halt], Count::bounded(is_syscall, 1));
    }
}

#[cfg(test)]
#[path = "cpu/tests.rs"]
mod tests;
