//! The CPU's specification: a real traced run (ALU, branches with delay slots, an annulled
//! branch-likely, a call and return, HALT) proves and verifies with the real ALU chips, program
//! table and memory argument, the other instruction chips replaced by trusted stand-ins that
//! receive exactly what the CPU sends; each way of lying about sequencing, registers or public
//! values is rejected.

use p3_field::PrimeCharacteristicRing;
use p3_matrix::Matrix;
use zkmips_executor::events::SLOT_SYSCALL;
use zkmips_executor::{Executor, ExecutorConfig, Mode, Program, Shard};

use super::*;
use crate::batch::Table;
use crate::buses::{
    BRANCH_MESSAGE_WIDTH, MEM_INSTR_MESSAGE_WIDTH, MULDIV_MESSAGE_WIDTH, SYSCALL_MESSAGE_WIDTH,
};
use crate::chips::memory::{AccessTestChip, TestAccess, boundary_entries};
use crate::chips::testing::{SenderChip, TestAir, assert_rejected, prove_and_verify};
use crate::chips::{
    AddSubChip, BitwiseChip, ByteChip, LtChip, MemoryBoundaryChip, ProgramChip, ShiftChip,
    split_alu_rows,
};
use crate::chips::{AluRow, alu_chip_for};
use crate::config::Val;
use crate::shard::executed_instructions;

const TEXT: u32 = 0x0040_0000;

mod asm {
    fn r(funct: u32, rs: u32, rt: u32, rd: u32, sa: u32) -> u32 {
        rs << 21 | rt << 16 | rd << 11 | sa << 6 | funct
    }
    fn i(op: u32, rs: u32, rt: u32, imm: i32) -> u32 {
        op << 26 | rs << 21 | rt << 16 | (imm as u32 & 0xffff)
    }
    pub fn addiu(rt: u32, rs: u32, imm: i32) -> u32 {
        i(0x09, rs, rt, imm)
    }
    pub fn ori(rt: u32, rs: u32, imm: i32) -> u32 {
        i(0x0d, rs, rt, imm)
    }
    pub fn lui(rt: u32, imm: i32) -> u32 {
        i(0x0f, 0, rt, imm)
    }
    pub fn addu(rd: u32, rs: u32, rt: u32) -> u32 {
        r(0x21, rs, rt, rd, 0)
    }
    pub fn sltu(rd: u32, rs: u32, rt: u32) -> u32 {
        r(0x2b, rs, rt, rd, 0)
    }
    pub fn sll(rd: u32, rt: u32, sa: u32) -> u32 {
        r(0x00, 0, rt, rd, sa)
    }
    pub fn srlv(rd: u32, rt: u32, rs: u32) -> u32 {
        r(0x06, rs, rt, rd, 0)
    }
    pub const NOP: u32 = 0;
    pub fn bne(rs: u32, rt: u32, off: i32) -> u32 {
        i(0x05, rs, rt, off)
    }
    pub fn beql(rs: u32, rt: u32, off: i32) -> u32 {
        i(0x14, rs, rt, off)
    }
    pub fn jal(target: u32) -> u32 {
        0x03 << 26 | (target >> 2 & 0x03ff_ffff)
    }
    pub fn jr(rs: u32) -> u32 {
        r(0x08, rs, 0, 0, 0)
    }
    pub const SYSCALL: u32 = 0x0000_000c;
}

/// Sums 3 + 2 + 1 in a loop, skips an annulled slot, calls a leaf function, then halts with
/// the sum as exit code. Exercises every sequencing case the CPU has.
fn program() -> Program {
    use asm::*;
    let (t0, t1, t2, t3, a0, v0, ra) = (8, 9, 10, 11, 4, 2, 31);
    let words = [
        addiu(t0, 0, 3),    // 0x00
        addiu(t1, 0, 0),    // 0x04
        addu(t1, t1, t0),   // 0x08 loop: t1 += t0
        addiu(t0, t0, -1),  // 0x0c
        bne(t0, 0, -3),     // 0x10 -> 0x08
        NOP,                // 0x14 slot (writes $zero)
        beql(0, t1, 1),     // 0x18 not taken: its slot is annulled
        addiu(t1, t1, 100), // 0x1c annulled
        jal(TEXT + 0x38),   // 0x20
        sltu(t2, 0, t1),    // 0x24 slot: t2 = 1
        srlv(a0, t1, t2),   // 0x28 return address: a0 = 6 >> 1
        sll(a0, a0, 1),     // 0x2c a0 = 6
        lui(v0, 1),         // 0x30 v0 = HALT
        SYSCALL,            // 0x34
        jr(ra),             // 0x38 leaf function
        ori(t3, 0, 7),      // 0x3c slot
    ];
    Program::from_code(TEXT, &words)
}

fn shard() -> Shard {
    let config = ExecutorConfig {
        max_cycles: Some(1000),
        mode: Mode::Tracing,
        ..ExecutorConfig::default()
    };
    let mut executor = Executor::new(&program(), config).unwrap();
    let report = executor.run().expect("the program runs");
    assert_eq!(report.exit_code, 6);
    let mut shards = report.record.expect("tracing keeps a record").shards;
    assert_eq!(shards.len(), 1);
    shards.remove(0)
}

/// Positions of the tables in [`Fixture::tables`].
const CPU: usize = 0;
const PROGRAM: usize = 1;

/// A shard's tables: the real CPU, program table, ALU chips, memory boundary and byte table;
/// stand-ins for the syscall chip (its register accesses via the access test chip, its bus via a
/// receiver) and receivers for the other instruction buses.
struct Fixture {
    tables: Vec<Table<TestAir, Val>>,
}

impl Fixture {
    fn new(shard: &Shard) -> Self {
        let program = ProgramChip::new(&program()).unwrap();
        let executed = executed_instructions(shard, &program).unwrap();
        let final_state = shard.final_state.unwrap();
        let mut bytes = ByteCounts::new();
        let cpu = CpuChip
            .generate_trace::<Val>(&executed, (final_state.pc, final_state.next_pc), &mut bytes)
            .unwrap();
        let pcs: Vec<u32> = executed.iter().map(|e| e.pc).collect();
        let program_trace = program.generate_trace(&pcs).unwrap();

        let rows: Vec<AluRow> = cpu
            .alu_requests
            .iter()
            .map(|r| {
                assert_eq!(r.d, 0, "this program only uses three-operand operations");
                assert!(matches!(
                    alu_chip_for(r.op),
                    crate::chips::MipsAir::AddSub(_)
                        | crate::chips::MipsAir::Bitwise(_)
                        | crate::chips::MipsAir::Shift(_)
                        | crate::chips::MipsAir::Lt(_)
                ));
                AluRow {
                    opcode: r.op,
                    a: r.a,
                    b: r.b,
                    c: r.c,
                }
            })
            .collect();
        let [add_sub, bitwise, shift, lt] = split_alu_rows(&rows);
        let add_sub = AddSubChip.generate_trace(&add_sub, &mut bytes).unwrap();
        let bitwise = BitwiseChip.generate_trace(&bitwise, &mut bytes).unwrap();
        let shift = ShiftChip.generate_trace(&shift, &mut bytes).unwrap();
        let lt = LtChip.generate_trace(&lt, &mut bytes).unwrap();

        // Stand-ins: receive from the CPU's own rows exactly what it sends.
        let trace = &cpu.trace;
        let row = |i: usize| trace.row_slice(i).unwrap().to_vec();
        let mut branch_messages = Vec::new();
        let mut syscall_messages = Vec::new();
        for i in 0..executed.len() {
            let r = row(i);
            let f = |field: usize| r[cols::fetched(field)];
            let operands = [
                r[cols::RS_VAL],
                r[cols::RS_VAL + 1],
                r[cols::RT_VAL],
                r[cols::RT_VAL + 1],
            ];
            if f(fetch::IS_BRANCH) == Val::ONE {
                let mut m = vec![
                    f(fetch::OPCODE),
                    r[cols::PC],
                    r[cols::NEXT_PC],
                    r[cols::NEW_NEXT_PC],
                    r[cols::ANNUL],
                ];
                m.extend(operands);
                m.extend([f(fetch::IMM_LO), f(fetch::IMM_HI)]);
                m.extend([r[cols::RESULT], r[cols::RESULT + 1]]);
                branch_messages.push(m);
            }
            if f(fetch::IS_SYSCALL) == Val::ONE {
                syscall_messages.push(vec![r[cols::CLK], r[cols::IS_HALT]]);
            }
        }
        let syscall_accesses: Vec<TestAccess> = executed
            .iter()
            .flat_map(|e| e.accesses_at(SLOT_SYSCALL))
            .map(|&access| TestAccess {
                access,
                is_write: access.value != access.prev_value,
            })
            .collect();
        assert!(!syscall_accesses.is_empty());
        let accesses = AccessTestChip::generate_trace(&syscall_accesses, &mut bytes).unwrap();
        let boundary = MemoryBoundaryChip
            .generate_trace(&boundary_entries(shard).unwrap(), &mut bytes)
            .unwrap();

        let branch = SenderChip::receiver("branch", BRANCH_MESSAGE_WIDTH);
        let syscall = SenderChip::receiver("syscall", SYSCALL_MESSAGE_WIDTH);
        let muldiv = SenderChip::receiver("muldiv", MULDIV_MESSAGE_WIDTH);
        let mem = SenderChip::receiver("mem_instr", MEM_INSTR_MESSAGE_WIDTH);
        let table = |air, trace, public_values| Table {
            air,
            trace,
            public_values,
        };
        let tables = vec![
            table(
                TestAir::Cpu(CpuChip),
                cpu.trace,
                cpu.public_values.to_field(),
            ),
            table(TestAir::Program(program), program_trace, vec![]),
            table(TestAir::AddSub(AddSubChip), add_sub, vec![]),
            table(TestAir::Bitwise(BitwiseChip), bitwise, vec![]),
            table(TestAir::Shift(ShiftChip), shift, vec![]),
            table(TestAir::Lt(LtChip), lt, vec![]),
            table(
                TestAir::Sender(branch),
                branch.trace(&branch_messages),
                vec![],
            ),
            table(
                TestAir::Sender(syscall),
                syscall.trace(&syscall_messages),
                vec![],
            ),
            table(TestAir::Sender(muldiv), muldiv.trace(&[]), vec![]),
            table(TestAir::Sender(mem), mem.trace(&[]), vec![]),
            table(TestAir::AccessTest(AccessTestChip), accesses, vec![]),
            table(
                TestAir::MemoryBoundary(MemoryBoundaryChip),
                boundary,
                vec![],
            ),
            table(
                TestAir::Byte(ByteChip),
                ByteChip.generate_trace(&bytes),
                vec![],
            ),
        ];
        Self { tables }
    }

    fn tables(&self) -> Vec<Table<TestAir, Val>> {
        self.tables.clone()
    }

    /// Tables with `tamper` applied to the CPU row `row` (a mutable slice of its cells).
    fn tampered(&self, row: usize, tamper: impl FnOnce(&mut [Val])) -> Vec<Table<TestAir, Val>> {
        let mut tables = self.tables();
        let width = cols::WIDTH;
        tamper(&mut tables[CPU].trace.values[row * width..(row + 1) * width]);
        tables
    }
}

fn fixture() -> (Shard, Fixture) {
    let shard = shard();
    let fixture = Fixture::new(&shard);
    (shard, fixture)
}

/// Row of the first instruction at `pc`.
fn row_at(shard: &Shard, pc: u32) -> usize {
    shard.cpu.iter().position(|e| e.pc == pc).unwrap()
}

#[test]
fn honest_shard_verifies() {
    let (shard, fixture) = fixture();
    let cpu_public = &fixture.tables[CPU].public_values;
    assert_eq!(cpu_public[public::CYCLES], Val::from_usize(shard.cpu.len()));
    assert_eq!(cpu_public[public::HALTED], Val::ONE);
    assert!(shard.cpu.iter().any(|e| e.annulled_slot));
    prove_and_verify(&fixture.tables()).expect("honest shard must verify");
}

#[test]
fn trace_generation_refuses_bad_records() {
    let shard = shard();
    let program = ProgramChip::new(&program()).unwrap();
    let executed = executed_instructions(&shard, &program).unwrap();
    let fin = shard.final_state.unwrap();
    let mut bytes = ByteCounts::new();
    // A wrong final state.
    assert!(
        CpuChip
            .generate_trace::<Val>(&executed, (fin.pc + 4, fin.next_pc), &mut bytes)
            .is_err()
    );
    // A record cut inside a delay slot (the branch at 0x10 is followed by its slot).
    let cut = row_at(&shard, TEXT + 0x10) + 1;
    assert_eq!(
        CpuChip
            .generate_trace::<Val>(
                &executed[..cut],
                (executed[cut].pc, executed[cut].next_pc),
                &mut bytes
            )
            .err(),
        Some(TraceError::ShardEndsInDelaySlot)
    );
    // No instruction at all.
    assert_eq!(
        CpuChip.generate_trace::<Val>(&[], (0, 4), &mut bytes).err(),
        Some(TraceError::EmptyShard)
    );
}

/// A taken branch claimed to fall through: the branch stand-in receives the honest message, so
/// the CPU's claim is unmatched.
#[test]
fn skipping_a_row_is_rejected() {
    let (shard, fixture) = fixture();
    // Drop the second loop iteration's first instruction by claiming the state after the
    // branch's slot is the one after that instruction.
    let slot = row_at(&shard, TEXT + 0x14);
    let tables = fixture.tampered(slot, |r| {
        r[cols::NEW_NEXT_PC] += Val::from_u32(4);
    });
    assert_rejected(&tables);
}

#[test]
fn wrong_next_pc_is_rejected() {
    let (_, fixture) = fixture();
    let tables = fixture.tampered(1, |r| r[cols::NEW_PC] += Val::from_u32(4));
    assert_rejected(&tables);
}

#[test]
fn annul_on_a_non_likely_branch_is_rejected() {
    let (shard, fixture) = fixture();
    let bne = row_at(&shard, TEXT + 0x10);
    let tables = fixture.tampered(bne, |r| {
        r[cols::ANNUL] = Val::ONE;
        r[cols::NEW_PC] += Val::from_u32(4);
    });
    assert_rejected(&tables);
}

#[test]
fn wrong_register_value_is_rejected() {
    let (shard, fixture) = fixture();
    let addu = row_at(&shard, TEXT + 0x08);
    let tables = fixture.tampered(addu, |r| r[cols::RS_VAL] += Val::ONE);
    assert_rejected(&tables);
}

#[test]
fn wrong_result_is_rejected() {
    let (shard, fixture) = fixture();
    let addu = row_at(&shard, TEXT + 0x08);
    let tables = fixture.tampered(addu, |r| {
        r[cols::RESULT] += Val::ONE;
        r[cols::WRITTEN] += Val::ONE;
    });
    assert_rejected(&tables);
}

#[test]
fn nonzero_write_to_zero_register_is_rejected() {
    let (shard, fixture) = fixture();
    let nop = row_at(&shard, TEXT + 0x14);
    let tables = fixture.tampered(nop, |r| r[cols::WRITTEN] = Val::ONE);
    assert_rejected(&tables);
}

#[test]
fn wrong_fetched_field_is_rejected() {
    let (_, fixture) = fixture();
    let tables = fixture.tampered(0, |r| r[cols::fetched(fetch::DST)] = Val::from_u8(9));
    assert_rejected(&tables);
}

#[test]
fn wrong_clock_is_rejected() {
    let (_, fixture) = fixture();
    let tables = fixture.tampered(2, |r| r[cols::CLK] += Val::ONE);
    assert_rejected(&tables);
}

#[test]
fn padding_row_switched_on_is_rejected() {
    let (shard, fixture) = fixture();
    let padding = shard.cpu.len();
    assert!(padding < fixture.tables[CPU].trace.height());
    let tables = fixture.tampered(padding, |r| r[cols::IS_REAL] = Val::ONE);
    assert_rejected(&tables);
}

#[test]
fn instruction_after_halt_is_rejected() {
    let (shard, fixture) = fixture();
    // Claim the HALT was earlier: flag a non-final row as halt.
    let last = shard.cpu.len() - 1;
    let mut tables = fixture.tampered(last - 1, |r| r[cols::IS_HALT] = Val::ONE);
    // Even with the syscall flag forged too, HALT followed by a real row is rejected.
    tables[CPU].trace.values[(last - 1) * cols::WIDTH + cols::fetched(fetch::IS_SYSCALL)] =
        Val::ONE;
    assert_rejected(&tables);
}

#[test]
fn wrong_public_values_are_rejected() {
    let (_, fixture) = fixture();
    for index in 0..public::COUNT {
        let mut tables = fixture.tables();
        tables[CPU].public_values[index] += Val::ONE;
        assert_rejected(&tables);
    }
}

#[test]
fn fetch_count_mismatch_is_rejected() {
    let (_, fixture) = fixture();
    let mut tables = fixture.tables();
    tables[PROGRAM].trace.values[0] += Val::ONE;
    assert_rejected(&tables);
}
