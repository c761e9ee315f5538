//! `BranchChip`: branches, jumps and non-firing traps, received from [`BRANCH_BUS`].
//!
//! Each row receives `[opcode, pc, next_pc, new_next_pc, annul, rs, rt, imm, link]` (words as
//! 16-bit limbs) with count `is_real`, and proves, bit-exact with the executor:
//!
//! - the condition `taken` from the one-hot opcode flags, `eq = [rs == cmp]` and `sign` (the top
//!   bit of `rs`, from the byte table's `MSB` column): `cmp` is `rt` (BEQ/BNE and the register
//!   traps), the immediate (trap-immediates) or 0; `eq` is proven with inverse witnesses of the
//!   limb differences (`eq (rs_k - cmp_k) = 0`, `sum (rs_k - cmp_k) inv_k = 1 - eq`). BLEZ is
//!   `sign + eq` (both cannot hold), BGTZ `1 - sign - eq`, BLTZ `sign`, BGEZ `1 - sign`, jumps 1;
//!   traps have `taken = 0`;
//! - `annul = is_likely (1 - taken)` and
//!   `new_next_pc = taken target + (1 - taken)(next_pc + 4 + 4 annul)`, with `target` the
//!   immediate (the absolute target the program table computed) for branches and J/JAL, `rs`
//!   for JR/JALR. JR/JALR also prove `rs < 0x7f00_0000` (top byte `< 0x7f`, a byte-table `LTU`
//!   lookup), so `rs` as a field element (`p = 0x7f00_0001`) is `rs` itself and cannot alias a
//!   code address; immediate targets are bounded the same way (a PC-relative target computed by
//!   the program table may wrap around `2^32`);
//! - `link = pc + 8` for the linking forms and 0 otherwise, as four range-checked bytes with the
//!   top one `< 0x7f`, so the integer `link` is below `p` and equal to the field value;
//! - traps do not fire: TEQ(I) has `eq = 0`, TNE(I) `eq = 1`, and the ordered traps send an
//!   `SLT`/`SLTU` request `(rs < cmp) = 0` (TLT*) or `= 1` (TGE*) on the ALU bus to the `LtChip`.
//!
//! `rs` is held as range-checked bytes; `rt` and `imm` are taken as the CPU sends them (a
//! register value, always canonical, and the program table's immediate). Every constraint has
//! degree at most 3 and every bus message degree at most 2.
//!
//! 58 columns (32 opcode flags); per row 8 byte-table lookups, one `SLT`/`SLTU` send (ordered
//! traps only) and the branch-bus receive. Whoever builds the batch must prove
//! [`BranchChip::requests`] with the `LtChip`.

use p3_air::{Air, BaseAir, PermutationAirBuilder, WindowAccess};
use p3_field::{Field, PrimeCharacteristicRing};
use p3_lookup::{Count, InteractionBuilder};
use p3_matrix::dense::RowMajorMatrix;
use zkmips_executor::Opcode;
use zkmips_executor::events::{SLOT_RS, SLOT_RT};

use super::word::{eval_byte_pairs, limbs, word_byte_pairs, word_bytes};
use super::{AluRow, ByteCounts, TraceError, padded_trace};
use crate::buses::{ALU_BUS, AluOp, BRANCH_BUS, BYTE_BUS, ByteOp, word_limbs};
use crate::shard::{ClassEvent, Executed};

/// Top byte bound of JR/JALR targets and links: below `0x7f00_0000 < p`.
const TOP_BYTE_LIMIT: u8 = 0x7f;

/// What an opcode compares `rs` with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cmp {
    Zero,
    Rt,
    Imm,
}

/// The condition an opcode tests (branches) or must not meet (traps).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cond {
    Eq,
    Ne,
    Lez,
    Gtz,
    Ltz,
    Gez,
    Always,
    /// A trap firing when `rs == cmp` (TEQ), `rs != cmp` (TNE), ...
    TrapEq,
    TrapNe,
    TrapGe {
        signed: bool,
    },
    TrapLt {
        signed: bool,
    },
}

/// Where a taken branch goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    Imm,
    Rs,
    None,
}

#[derive(Clone, Copy, Debug)]
struct Kind {
    op: Opcode,
    cond: Cond,
    cmp: Cmp,
    target: Target,
    likely: bool,
    link: bool,
}

const fn kind(op: Opcode, cond: Cond, cmp: Cmp, target: Target, likely: bool, link: bool) -> Kind {
    Kind {
        op,
        cond,
        cmp,
        target,
        likely,
        link,
    }
}

const fn branch(op: Opcode, cond: Cond, cmp: Cmp, likely: bool, link: bool) -> Kind {
    kind(op, cond, cmp, Target::Imm, likely, link)
}

const fn trap(op: Opcode, cond: Cond, cmp: Cmp) -> Kind {
    kind(op, cond, cmp, Target::None, false, false)
}

/// Every opcode of this chip; flag column `i` selects `KINDS[i]`.
const KINDS: [Kind; 32] = {
    use Cmp::*;
    use Cond::*;
    use Opcode as O;
    [
        branch(O::Beq, Eq, Rt, false, false),
        branch(O::Bne, Ne, Rt, false, false),
        branch(O::Blez, Lez, Zero, false, false),
        branch(O::Bgtz, Gtz, Zero, false, false),
        branch(O::Bltz, Ltz, Zero, false, false),
        branch(O::Bgez, Gez, Zero, false, false),
        branch(O::Bltzal, Ltz, Zero, false, true),
        branch(O::Bgezal, Gez, Zero, false, true),
        branch(O::Beql, Eq, Rt, true, false),
        branch(O::Bnel, Ne, Rt, true, false),
        branch(O::Blezl, Lez, Zero, true, false),
        branch(O::Bgtzl, Gtz, Zero, true, false),
        branch(O::Bltzl, Ltz, Zero, true, false),
        branch(O::Bgezl, Gez, Zero, true, false),
        branch(O::Bltzall, Ltz, Zero, true, true),
        branch(O::Bgezall, Gez, Zero, true, true),
        kind(O::J, Always, Zero, Target::Imm, false, false),
        kind(O::Jal, Always, Zero, Target::Imm, false, true),
        kind(O::Jr, Always, Zero, Target::Rs, false, false),
        kind(O::Jalr, Always, Zero, Target::Rs, false, true),
        trap(O::Teq, TrapEq, Rt),
        trap(O::Tne, TrapNe, Rt),
        trap(O::Tge, TrapGe { signed: true }, Rt),
        trap(O::Tgeu, TrapGe { signed: false }, Rt),
        trap(O::Tlt, TrapLt { signed: true }, Rt),
        trap(O::Tltu, TrapLt { signed: false }, Rt),
        trap(O::Teqi, TrapEq, Imm),
        trap(O::Tnei, TrapNe, Imm),
        trap(O::Tgei, TrapGe { signed: true }, Imm),
        trap(O::Tgeiu, TrapGe { signed: false }, Imm),
        trap(O::Tlti, TrapLt { signed: true }, Imm),
        trap(O::Tltiu, TrapLt { signed: false }, Imm),
    ]
};

/// `(fires, taken)`: whether a trap fires, whether a branch or jump is taken (the executor's
/// `trap_condition` and branch conditions).
fn outcome(kind: Kind, rs: u32, cmp: u32) -> (bool, bool) {
    let (signed_rs, signed_cmp) = (rs as i32, cmp as i32);
    let fires = match kind.cond {
        Cond::TrapEq => rs == cmp,
        Cond::TrapNe => rs != cmp,
        Cond::TrapGe { signed: true } => signed_rs >= signed_cmp,
        Cond::TrapGe { signed: false } => rs >= cmp,
        Cond::TrapLt { signed: true } => signed_rs < signed_cmp,
        Cond::TrapLt { signed: false } => rs < cmp,
        _ => false,
    };
    let taken = match kind.cond {
        Cond::Eq => rs == cmp,
        Cond::Ne => rs != cmp,
        Cond::Lez => signed_rs <= 0,
        Cond::Gtz => signed_rs > 0,
        Cond::Ltz => signed_rs < 0,
        Cond::Gez => signed_rs >= 0,
        Cond::Always => true,
        _ => false,
    };
    (fires, taken)
}

/// What `rs` is compared with.
fn compared(kind: Kind, rt: u32, imm: u32) -> u32 {
    match kind.cmp {
        Cmp::Zero => 0,
        Cmp::Rt => rt,
        Cmp::Imm => imm,
    }
}

fn kind_of(op: Opcode) -> Option<(usize, Kind)> {
    KINDS.iter().copied().enumerate().find(|(_, k)| k.op == op)
}

/// Whether this chip proves `op`.
pub fn is_branch_op(op: Opcode) -> bool {
    kind_of(op).is_some()
}

pub(crate) mod cols {
    /// One flag per entry of `KINDS`.
    pub const FLAGS: usize = 0;
    pub const PC: usize = 32;
    pub const NEXT_PC: usize = 33;
    pub const NEW_NEXT_PC: usize = 34;
    pub const ANNUL: usize = 35;
    /// Bytes of `rs`.
    pub const RS: usize = 36;
    /// Limbs of `rt` and of the immediate.
    pub const RT: usize = 40;
    pub const IMM: usize = 42;
    /// Bytes of the link value.
    pub const LINK: usize = 44;
    /// Limbs of what `rs` is compared with: `rt`, the immediate or 0.
    pub const CMP: usize = 48;
    /// `[rs == cmp]` and the inverse witnesses of the limb differences.
    pub const EQ: usize = 50;
    pub const EQ_INV: usize = 51;
    /// Top bit of `rs`.
    pub const SIGN: usize = 53;
    pub const TAKEN: usize = 54;
    pub const TARGET: usize = 55;
    /// Bytes of the immediate's high limb, for the bound on immediate targets.
    pub const IMM_HI_BYTES: usize = 56;
    pub const WIDTH: usize = 58;
}

/// One branch, jump or trap as the CPU sends it on [`BRANCH_BUS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BranchRow {
    pub opcode: Opcode,
    pub pc: u32,
    pub next_pc: u32,
    pub new_next_pc: u32,
    pub annul: bool,
    pub rs: u32,
    pub rt: u32,
    /// The absolute target (branches, J/JAL), the sign-extended immediate (trap-immediates) or 0.
    pub imm: u32,
    pub link: u32,
}

impl BranchRow {
    /// The row for `opcode` at `pc` (delay slot `next_pc`) with the given operands, its outcome
    /// computed as the executor does. Fails if this chip does not prove `opcode`, the trap
    /// fires, or a register jump's target is not below `0x7f00_0000`.
    pub fn new(
        opcode: Opcode,
        pc: u32,
        next_pc: u32,
        rs: u32,
        rt: u32,
        imm: u32,
    ) -> Result<Self, String> {
        let (_, kind) = kind_of(opcode).ok_or_else(|| format!("{opcode:?} is not a branch"))?;
        let cmp = compared(kind, rt, imm);
        let (fires, taken) = outcome(kind, rs, cmp);
        if fires {
            return Err(format!(
                "{opcode:?} {rs:#010x}, {cmp:#010x} traps; a firing trap has nothing to prove"
            ));
        }
        let target = match kind.target {
            Target::Imm => {
                if imm >> 24 >= u32::from(TOP_BYTE_LIMIT) {
                    return Err(format!(
                        "{opcode:?} to {imm:#010x}: targets must be below 0x7f000000"
                    ));
                }
                imm
            }
            Target::Rs => {
                if rs >> 24 >= u32::from(TOP_BYTE_LIMIT) {
                    return Err(format!(
                        "{opcode:?} to {rs:#010x}: register jump targets must be below 0x7f000000"
                    ));
                }
                rs
            }
            Target::None => 0,
        };
        let annul = kind.likely && !taken;
        Ok(Self {
            opcode,
            pc,
            next_pc,
            new_next_pc: if taken {
                target
            } else {
                next_pc.wrapping_add(if annul { 8 } else { 4 })
            },
            annul,
            rs,
            rt,
            imm,
            link: if kind.link { pc.wrapping_add(8) } else { 0 },
        })
    }

    /// The [`BRANCH_BUS`] message of this row.
    pub fn message(&self) -> [u32; 13] {
        let [rs, rt, imm, link] = [self.rs, self.rt, self.imm, self.link].map(word_limbs);
        [
            self.opcode as u32,
            self.pc,
            self.next_pc,
            self.new_next_pc,
            u32::from(self.annul),
            rs[0],
            rs[1],
            rt[0],
            rt[1],
            imm[0],
            imm[1],
            link[0],
            link[1],
        ]
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct BranchChip;

impl BranchChip {
    pub const fn name(&self) -> &'static str {
        "Branch"
    }

    /// The rows of this chip in a shard: every branch, jump and (non-firing) trap, its operands
    /// from its branch event or, for traps, its register reads; checked against the executor's
    /// event and, when the shard goes on, against the next instruction's state.
    pub fn rows(executed: &[Executed]) -> Result<Vec<BranchRow>, TraceError> {
        const NAME: &str = "Branch";
        let mut rows = Vec::new();
        for (index, instr) in executed.iter().enumerate() {
            let op = instr.instruction.opcode;
            let Some((_, kind)) = kind_of(op) else {
                continue;
            };
            let read = |slot, reg: u8| {
                instr
                    .access(slot, u32::from(reg))
                    .map(|access| access.value)
                    .ok_or_else(|| instr.error(NAME, format!("no read of register {reg}")))
            };
            let (rs, rt, imm) = match instr.event {
                ClassEvent::Branch(event) => {
                    let imm = if kind.target == Target::Imm {
                        event.target
                    } else {
                        0
                    };
                    (event.rs_value, event.rt_value, imm)
                }
                ClassEvent::None if kind.target == Target::None => {
                    let rs = read(SLOT_RS, instr.instruction.rs)?;
                    match kind.cmp {
                        Cmp::Rt => (rs, read(SLOT_RT, instr.instruction.rt)?, 0),
                        _ => (rs, 0, instr.instruction.imm),
                    }
                }
                _ => return Err(instr.error(NAME, "its event is not a branch event")),
            };
            let row = BranchRow::new(op, instr.pc, instr.next_pc, rs, rt, imm)
                .map_err(|reason| instr.error(NAME, reason))?;
            if let ClassEvent::Branch(event) = instr.event {
                let (_, taken) = outcome(kind, rs, compared(kind, rt, imm));
                if (event.taken, event.link) != (taken, row.link) {
                    return Err(instr.error(NAME, "the branch event disagrees with its operands"));
                }
            }
            if row.annul != instr.annulled_slot {
                return Err(instr.error(NAME, "the record's annulled slot disagrees"));
            }
            if let Some(next) = executed.get(index + 1) {
                let next_pc = row.next_pc.wrapping_add(if row.annul { 4 } else { 0 });
                if (next.pc, next.next_pc) != (next_pc, row.new_next_pc) {
                    return Err(instr.error(
                        NAME,
                        format!(
                            "the next state is ({:#010x}, {:#010x}), not ({next_pc:#010x}, {:#010x})",
                            next.pc, next.next_pc, row.new_next_pc
                        ),
                    ));
                }
            }
            rows.push(row);
        }
        Ok(rows)
    }

    /// The trace for `rows`, recording its byte lookups in `bytes`. Fails, before recording
    /// anything, on a row whose outcome differs from the executor's (or that cannot be proved).
    pub fn generate_trace<F: Field>(
        &self,
        rows: &[BranchRow],
        bytes: &mut ByteCounts,
    ) -> Result<RowMajorMatrix<F>, TraceError> {
        for (index, row) in rows.iter().enumerate() {
            let expected = BranchRow::new(row.opcode, row.pc, row.next_pc, row.rs, row.rt, row.imm)
                .map_err(|reason| TraceError::InvalidRow {
                    chip: self.name(),
                    row: index,
                    reason,
                })?;
            if expected != *row {
                return Err(TraceError::InvalidRow {
                    chip: self.name(),
                    row: index,
                    reason: format!("claims {row:?}, the executor gives {expected:?}"),
                });
            }
        }
        Ok(Self::fill_trace(rows, bytes))
    }

    /// The `SLT`/`SLTU` requests the ordered traps of `rows` send (to the `LtChip`): `(rs < cmp)`
    /// claimed 1 for TGE*, 0 for TLT* (what a non-firing trap needs).
    pub fn requests(rows: &[BranchRow]) -> Vec<AluRow> {
        rows.iter()
            .filter_map(|row| {
                let (_, kind) = kind_of(row.opcode)?;
                let cmp = if kind.cmp == Cmp::Imm {
                    row.imm
                } else {
                    row.rt
                };
                let (signed, less) = match kind.cond {
                    Cond::TrapGe { signed } => (signed, 0),
                    Cond::TrapLt { signed } => (signed, 1),
                    _ => return None,
                };
                Some(AluRow {
                    opcode: if signed { AluOp::Slt } else { AluOp::Sltu },
                    a: 1 - less,
                    b: row.rs,
                    c: cmp,
                })
            })
            .collect()
    }

    /// Fills the trace without checking the rows: the message columns are the row's, every
    /// other column is derived from the operands. Byte lookups are recorded only for entries in
    /// the table (tests use this to forge rows).
    pub(crate) fn fill_trace<F: Field>(
        rows: &[BranchRow],
        bytes: &mut ByteCounts,
    ) -> RowMajorMatrix<F> {
        padded_trace(rows, cols::WIDTH, |_, row, out| fill_row(out, row, bytes))
    }
}

fn fill_row<F: Field>(out: &mut [F], row: &BranchRow, bytes: &mut ByteCounts) {
    let Some((flag, kind)) = kind_of(row.opcode) else {
        return;
    };
    out[cols::FLAGS + flag] = F::ONE;
    out[cols::PC] = F::from_u32(row.pc);
    out[cols::NEXT_PC] = F::from_u32(row.next_pc);
    out[cols::NEW_NEXT_PC] = F::from_u32(row.new_next_pc);
    out[cols::ANNUL] = F::from_bool(row.annul);
    let (rs, link) = (word_bytes(row.rs), word_bytes(row.link));
    for i in 0..4 {
        out[cols::RS + i] = F::from_u8(rs[i]);
        out[cols::LINK + i] = F::from_u8(link[i]);
    }
    let [rt, imm] = [row.rt, row.imm].map(word_limbs);
    let cmp = compared(kind, row.rt, row.imm);
    let cmp_limbs = word_limbs(cmp);
    let rs_limbs = word_limbs(row.rs);
    for k in 0..2 {
        out[cols::RT + k] = F::from_u32(rt[k]);
        out[cols::IMM + k] = F::from_u32(imm[k]);
        out[cols::CMP + k] = F::from_u32(cmp_limbs[k]);
    }
    out[cols::EQ] = F::from_bool(row.rs == cmp);
    // One non-zero difference's inverse is enough to show `rs != cmp`.
    if let Some(k) = (0..2).find(|&k| rs_limbs[k] != cmp_limbs[k]) {
        out[cols::EQ_INV + k] = (F::from_u32(rs_limbs[k]) - F::from_u32(cmp_limbs[k])).inverse();
    }
    let sign = row.rs >> 31;
    out[cols::SIGN] = F::from_u32(sign);
    let (_, taken) = outcome(kind, row.rs, cmp);
    out[cols::TAKEN] = F::from_bool(taken);
    out[cols::TARGET] = match kind.target {
        Target::Imm => F::from_u32(imm[0]) + F::from_u32(imm[1]) * F::from_u32(1 << 16),
        Target::Rs => F::from_u32(rs_limbs[0]) + F::from_u32(rs_limbs[1]) * F::from_u32(1 << 16),
        Target::None => F::ZERO,
    };

    bytes.record(ByteOp::RangePair, rs[0], rs[1]);
    bytes.record(ByteOp::RangePair, rs[2], rs[3]);
    bytes.record(ByteOp::RangePair, link[0], link[1]);
    bytes.record(ByteOp::RangePair, link[2], link[3]);
    bytes.record(ByteOp::Ltu, link[3], TOP_BYTE_LIMIT);
    let imm_hi = word_bytes(row.imm);
    if kind.target == Target::Imm {
        out[cols::IMM_HI_BYTES] = F::from_u8(imm_hi[2]);
        out[cols::IMM_HI_BYTES + 1] = F::from_u8(imm_hi[3]);
        bytes.record(ByteOp::Ltu, imm_hi[3], TOP_BYTE_LIMIT);
    }
    // The MSB lookup ignores its second byte, which range-checks the immediate's byte 2.
    bytes.record(
        ByteOp::Msb,
        rs[3],
        if kind.target == Target::Imm {
            imm_hi[2]
        } else {
            0
        },
    );
    if kind.target == Target::Rs {
        bytes.record(ByteOp::Ltu, rs[3], TOP_BYTE_LIMIT);
    }
}

impl<F: Field> BaseAir<F> for BranchChip {
    fn width(&self) -> usize {
        cols::WIDTH
    }

    fn main_next_row_columns(&self) -> Vec<usize> {
        vec![]
    }
}

impl<AB: PermutationAirBuilder + InteractionBuilder> Air<AB> for BranchChip {
    fn eval(&self, builder: &mut AB) {
        let main = builder.main();
        let local: Vec<AB::Expr> = main.current_slice().iter().map(|&v| v.into()).collect();
        let col = |i: usize| local[i].clone();
        let f = |v: u32| AB::Expr::from_u32(v);
        let two_16 = || f(1 << 16);

        // One-hot flags; `sum_of(pred)` is the flag of the opcodes with property `pred`.
        let flags: Vec<AB::Expr> = (0..KINDS.len()).map(|i| col(cols::FLAGS + i)).collect();
        for flag in &flags {
            builder.assert_bool(flag.clone());
        }
        let sum_of = |pred: &dyn Fn(&Kind) -> bool| -> AB::Expr {
            KINDS
                .iter()
                .zip(&flags)
                .filter(|(kind, _)| pred(kind))
                .map(|(_, flag)| flag.clone())
                .sum()
        };
        let is_real = sum_of(&|_| true);
        builder.assert_bool(is_real.clone());
        let opcode: AB::Expr = KINDS
            .iter()
            .zip(&flags)
            .map(|(kind, flag)| flag.clone() * AB::F::from_u8(kind.op as u8))
            .sum();

        let rs_bytes: Vec<AB::Expr> = (0..4).map(|i| col(cols::RS + i)).collect();
        let link_bytes: Vec<AB::Expr> = (0..4).map(|i| col(cols::LINK + i)).collect();
        let (rs, link) = (limbs(&rs_bytes), limbs(&link_bytes));
        let rt = [col(cols::RT), col(cols::RT + 1)];
        let imm = [col(cols::IMM), col(cols::IMM + 1)];
        let cmp = [col(cols::CMP), col(cols::CMP + 1)];
        let (pc, next_pc, new_next_pc, annul) = (
            col(cols::PC),
            col(cols::NEXT_PC),
            col(cols::NEW_NEXT_PC),
            col(cols::ANNUL),
        );

        // Range checks: rs and link are words; link's top byte below 0x7f, so link < p; the
        // sign of rs; register jump targets below 0x7f00_0000.
        let mut pairs = word_byte_pairs(&rs_bytes).to_vec();
        pairs.extend(word_byte_pairs(&link_bytes));
        eval_byte_pairs(builder, pairs, &is_real);
        let byte_lookup = |builder: &mut AB, op: ByteOp, x: AB::Expr, y, z, count| {
            BYTE_BUS.lookup_key(
                builder,
                [AB::Expr::from_u8(op as u8), x, y, z],
                Count::bounded(count, 1),
            );
        };
        let limit = || AB::Expr::from_u8(TOP_BYTE_LIMIT);
        byte_lookup(
            builder,
            ByteOp::Ltu,
            link_bytes[3].clone(),
            limit(),
            AB::Expr::ONE,
            is_real.clone(),
        );
        // Immediate targets below 0x7f00_0000 too: the program table's absolute target of a
        // PC-relative branch may wrap around 2^32, and must not alias a code address mod p.
        // The high limb's byte 2 rides as the (ignored) second byte of the MSB lookup.
        let imm_hi_bytes = [col(cols::IMM_HI_BYTES), col(cols::IMM_HI_BYTES + 1)];
        let is_imm_target = sum_of(&|k| k.target == Target::Imm);
        builder.assert_zero(
            is_imm_target.clone()
                * (imm[1].clone() - imm_hi_bytes[0].clone() - imm_hi_bytes[1].clone() * f(256)),
        );
        byte_lookup(
            builder,
            ByteOp::Ltu,
            imm_hi_bytes[1].clone(),
            limit(),
            AB::Expr::ONE,
            is_imm_target,
        );
        let sign = col(cols::SIGN);
        byte_lookup(
            builder,
            ByteOp::Msb,
            rs_bytes[3].clone(),
            imm_hi_bytes[0].clone(),
            sign.clone(),
            is_real.clone(),
        );
        let is_register_jump = sum_of(&|k| k.target == Target::Rs);
        byte_lookup(
            builder,
            ByteOp::Ltu,
            rs_bytes[3].clone(),
            limit(),
            AB::Expr::ONE,
            is_register_jump.clone(),
        );

        // cmp and eq = [rs == cmp].
        let cmp_rt = sum_of(&|k| k.cmp == Cmp::Rt);
        let cmp_imm = sum_of(&|k| k.cmp == Cmp::Imm);
        let eq = col(cols::EQ);
        let mut inverse_sum = eq.clone() - AB::Expr::ONE;
        for k in 0..2 {
            builder.assert_eq(
                cmp[k].clone(),
                cmp_rt.clone() * rt[k].clone() + cmp_imm.clone() * imm[k].clone(),
            );
            let difference = rs[k].clone() - cmp[k].clone();
            builder.assert_zero(eq.clone() * difference.clone());
            inverse_sum += difference * col(cols::EQ_INV + k);
        }
        builder.assert_zero(is_real.clone() * inverse_sum);

        // The condition.
        let cond = |c: Cond| sum_of(&move |k| k.cond == c);
        let one = || AB::Expr::ONE;
        let taken = col(cols::TAKEN);
        builder.assert_eq(
            taken.clone(),
            cond(Cond::Eq) * eq.clone()
                + cond(Cond::Ne) * (one() - eq.clone())
                + cond(Cond::Lez) * (sign.clone() + eq.clone())
                + cond(Cond::Gtz) * (one() - sign.clone() - eq.clone())
                + cond(Cond::Ltz) * sign.clone()
                + cond(Cond::Gez) * (one() - sign)
                + cond(Cond::Always),
        );

        // Next state.
        let is_likely = sum_of(&|k| k.likely);
        builder.assert_eq(annul.clone(), is_likely * (one() - taken.clone()));
        let target = col(cols::TARGET);
        builder.assert_eq(
            target.clone(),
            sum_of(&|k| k.target == Target::Imm) * (imm[0].clone() + imm[1].clone() * two_16())
                + is_register_jump * (rs[0].clone() + rs[1].clone() * two_16()),
        );
        builder.assert_zero(
            is_real.clone()
                * (new_next_pc.clone()
                    - taken.clone() * target
                    - (one() - taken) * (next_pc.clone() + f(4) + annul.clone() * f(4))),
        );

        // Link.
        let is_link = sum_of(&|k| k.link);
        builder.assert_eq(
            link[0].clone() + link[1].clone() * two_16(),
            is_link * (pc.clone() + f(8)),
        );

        // Traps that must not fire.
        builder.assert_zero(cond(Cond::TrapEq) * eq.clone());
        builder.assert_zero(cond(Cond::TrapNe) * (one() - eq));
        let is_signed_order = sum_of(&|k| {
            matches!(
                k.cond,
                Cond::TrapGe { signed: true } | Cond::TrapLt { signed: true }
            )
        });
        let is_unsigned_order = sum_of(&|k| {
            matches!(
                k.cond,
                Cond::TrapGe { signed: false } | Cond::TrapLt { signed: false }
            )
        });
        let is_ge = sum_of(&|k| matches!(k.cond, Cond::TrapGe { .. }));
        ALU_BUS.send(
            builder,
            [
                is_signed_order.clone() * AB::F::from_u8(AluOp::Slt as u8)
                    + is_unsigned_order.clone() * AB::F::from_u8(AluOp::Sltu as u8),
                is_ge,
                AB::Expr::ZERO,
                rs[0].clone(),
                rs[1].clone(),
                cmp[0].clone(),
                cmp[1].clone(),
                AB::Expr::ZERO,
                AB::Expr::ZERO,
            ],
            Count::bounded(is_signed_order + is_unsigned_order, 1),
        );

        let [rs_lo, rs_hi] = rs;
        let [rt_lo, rt_hi] = rt;
        let [imm_lo, imm_hi] = imm;
        let [link_lo, link_hi] = link;
        BRANCH_BUS.receive(
            builder,
            [
                opcode,
                pc,
                next_pc,
                new_next_pc,
                annul,
                rs_lo,
                rs_hi,
                rt_lo,
                rt_hi,
                imm_lo,
                imm_hi,
                link_lo,
                link_hi,
            ],
            Count::bounded(is_real, 1),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::Table;
    use crate::buses::BRANCH_MESSAGE_WIDTH;
    use crate::chips::alu_extra::tests::{asm, run_traced};
    use crate::chips::testing::{
        SenderChip, TestAir, assert_rejected, assert_rejected_after, prove_and_verify,
    };
    use crate::chips::{ByteChip, LtChip, ProgramChip};
    use crate::config::Val;
    use crate::shard::executed_instructions;

    /// Position of this chip in [`tables_with`].
    const BRANCH: usize = 1;
    /// `p = 2^31 - 2^24 + 1`.
    const P: u32 = 0x7f00_0001;

    const PC: u32 = 0x0040_0100;
    const TARGET: u32 = 0x0040_0200;

    fn new_row(op: Opcode, rs: u32, rt: u32, imm: u32) -> BranchRow {
        BranchRow::new(op, PC, PC + 4, rs, rt, imm).expect("valid fixture row")
    }

    /// Sender (standing in for the CPU) sending `sent`, this chip proving `proved` (rows taken
    /// as given), the `LtChip` proving the trap comparisons as claimed, the byte table.
    fn tables_with(sent: &[BranchRow], proved: &[BranchRow]) -> Vec<Table<TestAir, Val>> {
        let sender = SenderChip::new("branch", BRANCH_MESSAGE_WIDTH);
        let messages: Vec<Vec<Val>> = sent
            .iter()
            .map(|r| r.message().map(Val::from_u32).to_vec())
            .collect();
        let mut bytes = ByteCounts::new();
        let branch = BranchChip::fill_trace(proved, &mut bytes);
        let lt = LtChip::fill_trace(&BranchChip::requests(proved), &mut bytes);
        let table = |air, trace| Table {
            air,
            trace,
            public_values: vec![],
        };
        vec![
            table(TestAir::Sender(sender), sender.trace(&messages)),
            table(TestAir::Branch(BranchChip), branch),
            table(TestAir::Lt(LtChip), lt),
            table(TestAir::Byte(ByteChip), ByteChip.generate_trace(&bytes)),
        ]
    }

    /// Honest tables through the production trace generation.
    fn tables(rows: &[BranchRow]) -> Vec<Table<TestAir, Val>> {
        let mut bytes = ByteCounts::new();
        BranchChip
            .generate_trace::<Val>(rows, &mut bytes)
            .expect("honest rows");
        LtChip
            .generate_trace::<Val>(&BranchChip::requests(rows), &mut bytes)
            .expect("honest comparisons");
        tables_with(rows, rows)
    }

    fn forged(rows: &[BranchRow]) -> Vec<Table<TestAir, Val>> {
        tables_with(rows, rows)
    }

    const VALUES: [u32; 7] = [0, 1, 5, 0xffff_ffff, 0x8000_0000, 0x7fff_ffff, 0x0001_0000];

    fn honest_rows() -> Vec<BranchRow> {
        let mut rows = Vec::new();
        for kind in &KINDS[..16] {
            for (i, &rs) in VALUES.iter().enumerate() {
                let rt = if i % 2 == 0 {
                    rs
                } else {
                    VALUES[(i + 1) % VALUES.len()]
                };
                rows.push(new_row(kind.op, rs, rt, TARGET));
            }
        }
        rows.push(new_row(Opcode::J, 0, 0, 0x0ff0_0000));
        rows.push(new_row(Opcode::Jal, 0, 0, TARGET));
        rows.push(new_row(Opcode::Jr, 0x0040_0400, 0, 0));
        rows.push(new_row(Opcode::Jr, 0x7eff_fffc, 0, 0));
        rows.push(new_row(Opcode::Jalr, 0x0040_0000, 0, 0));
        let (minus_one, min) = (u32::MAX, 0x8000_0000);
        for (op, rs, rt) in [
            (Opcode::Teq, 1, 2),
            (Opcode::Teq, 0, minus_one),
            (Opcode::Tne, 3, 3),
            (Opcode::Tge, minus_one, 0),
            (Opcode::Tge, min, 0x7fff_ffff),
            (Opcode::Tgeu, 0, 1),
            (Opcode::Tgeu, 0x7fff_ffff, min),
            (Opcode::Tlt, 0, minus_one),
            (Opcode::Tlt, 5, 5),
            (Opcode::Tltu, minus_one, 0),
            (Opcode::Tltu, 5, 5),
        ] {
            rows.push(new_row(op, rs, rt, 0));
        }
        for (op, rs, imm) in [
            (Opcode::Teqi, 1, minus_one),
            (Opcode::Tnei, 0xffff_fff0, 0xffff_fff0),
            (Opcode::Tgei, minus_one, 0),
            (Opcode::Tgeiu, 5, 0xffff_8000),
            (Opcode::Tlti, 0, minus_one),
            (Opcode::Tltiu, 0xffff_ffff, 0x7fff),
        ] {
            rows.push(new_row(op, rs, 0, imm));
        }
        rows
    }

    fn xorshift(mut state: u64) -> impl FnMut() -> u32 {
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u32
        }
    }

    #[test]
    fn honest_rows_verify() {
        let rows = honest_rows();
        for kind in KINDS {
            assert!(rows.iter().any(|r| r.opcode == kind.op), "{:?}", kind.op);
        }
        assert!(rows.iter().any(|r| r.annul));
        prove_and_verify(&tables(&rows)).expect("honest batch must verify");
    }

    #[test]
    fn random_rows_verify() {
        let mut next = xorshift(0xb4a9_c0de_1234_5678);
        let mut rows = Vec::new();
        while rows.len() < 200 {
            let kind = KINDS[next() as usize % KINDS.len()];
            let pc = (next() % 0x0100_0000) & !3;
            let rs = match next() % 3 {
                0 => next(),
                1 => next() % 4,
                _ => next() % 0x7f00_0000,
            };
            let rt = if next().is_multiple_of(2) { rs } else { next() };
            let imm = match kind.cmp {
                Cmp::Imm => next() as u16 as i16 as i32 as u32,
                _ => (next() % 0x0100_0000) & !3,
            };
            // Firing traps and out-of-range register jumps are not provable: skipped.
            if let Ok(row) = BranchRow::new(kind.op, pc, pc + 4, rs, rt, imm) {
                rows.push(row);
            }
        }
        prove_and_verify(&tables(&rows)).expect("honest batch must verify");
    }

    /// A real run through every opcode of this chip (taken, not taken, annulled, linking, traps
    /// that do not fire): the rows picked from the executor's shards verify.
    #[test]
    fn executor_rows_verify() {
        use asm::*;
        let special = |rs: u32, rt: u32, funct: u32| rtype(0, rs, rt, 0, 0, funct);
        let regimm = |rs: u32, code: u32, imm: i32| itype(0x01, rs, code, imm);
        let marker = addiu(T2, T2, 1);
        let mut words = Vec::new();
        words.extend(li(T0, (-5i32) as u32));
        words.extend(li(T1, 7));
        // Conditional branches: each skips the marker after its delay slot when taken.
        let conditional = [
            itype(0x04, T0, T0, 0), // beq  (taken)
            itype(0x05, T0, T0, 0), // bne  (not taken)
            itype(0x06, T0, 0, 0),  // blez (taken)
            itype(0x07, T0, 0, 0),  // bgtz (not taken)
            regimm(T0, 0x00, 0),    // bltz (taken)
            regimm(T0, 0x01, 0),    // bgez (not taken)
            regimm(T0, 0x10, 0),    // bltzal (taken, links)
            regimm(T0, 0x11, 0),    // bgezal (not taken, links)
            itype(0x14, T0, T1, 0), // beql (annulled)
            itype(0x15, T0, T1, 0), // bnel (taken)
            itype(0x16, T1, 0, 0),  // blezl (annulled)
            itype(0x17, T1, 0, 0),  // bgtzl (taken)
            regimm(T1, 0x02, 0),    // bltzl (annulled)
            regimm(T1, 0x03, 0),    // bgezl (taken)
            regimm(T1, 0x12, 0),    // bltzall (annulled, links)
            regimm(T1, 0x13, 0),    // bgezall (taken, links)
        ];
        for branch in conditional {
            words.extend([branch | 2, addiu(T3, T3, 1), marker]);
        }
        // Traps that do not fire.
        words.extend([
            special(T0, T1, 0x34), // teq -5, 7
            special(T0, T0, 0x36), // tne -5, -5
            special(T0, T1, 0x30), // tge -5, 7
            special(T1, T0, 0x31), // tgeu 7, 0xfffffffb
            special(T1, T0, 0x32), // tlt 7, -5
            special(T0, T1, 0x33), // tltu 0xfffffffb, 7
            regimm(T0, 0x0c, 3),   // teqi -5, 3
            regimm(T0, 0x0e, -5),  // tnei -5, -5
            regimm(T0, 0x08, 0),   // tgei -5, 0
            regimm(T1, 0x09, -1),  // tgeiu 7, 0xffffffff
            regimm(T1, 0x0a, 7),   // tlti 7, 7
            regimm(T0, 0x0b, 5),   // tltiu 0xfffffffb, 5
        ]);
        let address = |index: usize| 0x0040_0000 + 4 * index as u32;
        let jump = |op: u32, index: usize| (op << 26) | ((address(index) >> 2) & 0x03ff_ffff);
        // jal L1; nop; j L2 (returned here); L1: marker; jr ra; nop; L2:
        let at = words.len();
        words.extend([
            jump(0x03, at + 3),
            NOP,
            jump(0x02, at + 6),
            marker,
            special(RA, 0, 0x08),
            NOP,
        ]);
        // li t4, L3; jalr t5, t4; nop; marker; L3:
        let at = words.len();
        words.extend(li(T4, address(at + 5)));
        words.extend([rtype(0, T4, 0, T5, 0, 0x09), NOP, marker]);
        words.extend(halt());

        let (program, shards) = run_traced(&words);
        assert!(shards.len() > 1, "the run spans shards");
        let program = ProgramChip::new(&program).unwrap();
        let mut rows = Vec::new();
        for shard in &shards {
            let executed = executed_instructions(shard, &program).unwrap();
            rows.extend(BranchChip::rows(&executed).unwrap());
        }
        for kind in KINDS {
            assert!(rows.iter().any(|r| r.opcode == kind.op), "{:?}", kind.op);
        }
        assert_eq!(rows.iter().filter(|r| r.annul).count(), 4);
        assert_eq!(rows.iter().filter(|r| r.link != 0).count(), 6);
        prove_and_verify(&tables(&rows)).expect("executor rows must verify");
    }

    #[test]
    fn trace_generation_refuses_bad_rows() {
        let mut bytes = ByteCounts::new();
        let refused = |rows: &[BranchRow], bytes: &mut ByteCounts| {
            matches!(
                BranchChip.generate_trace::<Val>(rows, bytes),
                Err(TraceError::InvalidRow { .. })
            )
        };
        let taken = new_row(Opcode::Beq, 1, 1, TARGET);
        let wrong = BranchRow {
            new_next_pc: PC + 8,
            ..taken
        };
        assert!(refused(&[taken, wrong], &mut bytes));
        let firing = BranchRow {
            opcode: Opcode::Teq,
            new_next_pc: PC + 8,
            imm: 0,
            ..taken
        };
        assert!(refused(&[firing], &mut bytes));
        let high_jump = BranchRow {
            opcode: Opcode::Jr,
            rs: 0x7f00_0000,
            new_next_pc: 0x7f00_0000,
            imm: 0,
            rt: 0,
            ..taken
        };
        assert!(refused(&[high_jump], &mut bytes));
        let not_a_branch = BranchRow {
            opcode: Opcode::Break,
            ..taken
        };
        assert!(refused(&[not_a_branch], &mut bytes));
        assert_eq!(bytes, ByteCounts::new());
        assert!(BranchRow::new(Opcode::Tltu, PC, PC + 4, 1, 2, 0).is_err());
    }

    /// `rows` with `row` appended.
    fn with(row: BranchRow) -> Vec<BranchRow> {
        let mut rows = honest_rows();
        rows.push(row);
        rows
    }

    #[test]
    fn wrong_taken_decision_is_rejected() {
        let taken = new_row(Opcode::Beq, 9, 9, TARGET);
        assert_rejected(&forged(&with(BranchRow {
            new_next_pc: PC + 8,
            ..taken
        })));
        let not_taken = new_row(Opcode::Bgtz, 0, 0, TARGET);
        assert_rejected(&forged(&with(BranchRow {
            new_next_pc: TARGET,
            ..not_taken
        })));
        // The taken flag forged along with the next pc: the condition refuses it.
        let rows = with(BranchRow {
            new_next_pc: PC + 8,
            ..taken
        });
        let at = rows.len() - 1;
        assert_rejected_after(forged(&rows), BRANCH, |trace| {
            trace[at * cols::WIDTH + cols::TAKEN] = Val::ZERO;
        });
    }

    /// BEQ of unequal values taken by also claiming `eq = 1`.
    #[test]
    fn forged_equality_is_rejected() {
        let rows = with(BranchRow {
            new_next_pc: TARGET,
            ..new_row(Opcode::Beq, 9, 0x0001_0009, TARGET)
        });
        let at = rows.len() - 1;
        assert_rejected_after(forged(&rows), BRANCH, |trace| {
            let row = &mut trace[at * cols::WIDTH..(at + 1) * cols::WIDTH];
            row[cols::EQ] = Val::ONE;
            row[cols::EQ_INV + 1] = Val::ZERO;
            row[cols::TAKEN] = Val::ONE;
        });
    }

    /// BLTZ of a positive value taken by also claiming its sign bit is set.
    #[test]
    fn forged_sign_is_rejected() {
        let rows = with(BranchRow {
            new_next_pc: TARGET,
            ..new_row(Opcode::Bltz, 0x0000_0080, 0, TARGET)
        });
        let at = rows.len() - 1;
        assert_rejected_after(forged(&rows), BRANCH, |trace| {
            let row = &mut trace[at * cols::WIDTH..(at + 1) * cols::WIDTH];
            row[cols::SIGN] = Val::ONE;
            row[cols::TAKEN] = Val::ONE;
        });
    }

    #[test]
    fn forged_annul_is_rejected() {
        // A not-taken BEQL claimed not annulled (its delay slot would run).
        let annulled = new_row(Opcode::Beql, 1, 2, TARGET);
        assert!(annulled.annul);
        assert_rejected(&forged(&with(BranchRow {
            annul: false,
            new_next_pc: PC + 8,
            ..annulled
        })));
        // A not-taken BNE (not likely) claimed annulled.
        let plain = new_row(Opcode::Bne, 1, 1, TARGET);
        assert_rejected(&forged(&with(BranchRow {
            annul: true,
            new_next_pc: PC + 12,
            ..plain
        })));
    }

    #[test]
    fn firing_trap_is_rejected() {
        let trap = |op: Opcode, rs: u32, rt: u32, imm: u32| BranchRow {
            opcode: op,
            pc: PC,
            next_pc: PC + 4,
            new_next_pc: PC + 8,
            annul: false,
            rs,
            rt,
            imm,
            link: 0,
        };
        for row in [
            trap(Opcode::Teq, 5, 5, 0),
            trap(Opcode::Tne, 5, 6, 0),
            trap(Opcode::Tge, 7, 5, 0),
            trap(Opcode::Tge, 0, u32::MAX, 0),
            trap(Opcode::Tgeu, u32::MAX, 0, 0),
            trap(Opcode::Tlt, u32::MAX, 0, 0),
            trap(Opcode::Tltu, 0, 1, 0),
            trap(Opcode::Teqi, 0xffff_fff0, 0, 0xffff_fff0),
            trap(Opcode::Tnei, 1, 0, 2),
            trap(Opcode::Tgeiu, 5, 0, 5),
            trap(Opcode::Tlti, 0x8000_0000, 0, 0),
        ] {
            assert_rejected(&forged(&with(row)));
        }
    }

    /// JR to `0x0040_0000 + p`, claimed to land on the code address `0x0040_0000` (the same
    /// field element): the top-byte bound refuses it.
    #[test]
    fn aliasing_register_jump_is_rejected() {
        let row = BranchRow {
            opcode: Opcode::Jr,
            pc: PC,
            next_pc: PC + 4,
            new_next_pc: 0x0040_0000,
            annul: false,
            rs: 0x0040_0000 + P,
            rt: 0,
            imm: 0,
            link: 0,
        };
        assert_rejected(&forged(&with(row)));
        let jalr = BranchRow {
            opcode: Opcode::Jalr,
            link: PC + 8,
            ..row
        };
        assert_rejected(&forged(&with(jalr)));
    }

    /// BEQ taken to the wrapped target `0x0040_0000 + p` (the table's `pc + 4 + offset` near
    /// address 0 wraps around 2^32), claimed to land on the code address `0x0040_0000`.
    #[test]
    fn aliasing_branch_target_is_rejected() {
        let row = BranchRow {
            opcode: Opcode::Beq,
            pc: PC,
            next_pc: PC + 4,
            new_next_pc: 0x0040_0000,
            annul: false,
            rs: 3,
            rt: 3,
            imm: 0x0040_0000 + P,
            link: 0,
        };
        assert!(BranchRow::new(Opcode::Beq, PC, PC + 4, 3, 3, row.imm).is_err());
        assert_rejected(&forged(&with(row)));
    }

    /// The same wrapped target with its high limb's top byte written as 0 (and the byte table
    /// recounted to match): only the decomposition `imm_hi = b_2 + 256 b_3` refuses it.
    #[test]
    fn forged_immediate_bytes_are_rejected() {
        use crate::chips::byte::{self, table_row};
        let row = BranchRow {
            opcode: Opcode::Beq,
            pc: PC,
            next_pc: PC + 4,
            new_next_pc: 0x0040_0000,
            annul: false,
            rs: 3,
            rt: 3,
            imm: 0x0040_0000 + P,
            link: 0,
        };
        let rows = with(row);
        let at = rows.len() - 1;
        let mut tables = forged(&rows);
        tables[BRANCH].trace.values[at * cols::WIDTH + cols::IMM_HI_BYTES + 1] = Val::ZERO;
        let ltu = |x: u8| {
            table_row(x, TOP_BYTE_LIMIT) * byte::cols::WIDTH
                + byte::cols::MULTIPLICITY
                + ByteOp::Ltu.index()
        };
        let byte_table = &mut tables.last_mut().unwrap().trace.values;
        byte_table[ltu(0x7f)] -= Val::ONE;
        byte_table[ltu(0x00)] += Val::ONE;
        assert_rejected(&tables);
    }

    #[test]
    fn wrong_link_is_rejected() {
        let jal = new_row(Opcode::Jal, 0, 0, TARGET);
        assert_rejected(&forged(&with(BranchRow {
            link: PC + 12,
            ..jal
        })));
        // A linking branch that does not link, and a plain one that does.
        let bltzal = new_row(Opcode::Bltzal, 1, 0, TARGET);
        assert_rejected(&forged(&with(BranchRow { link: 0, ..bltzal })));
        let beq = new_row(Opcode::Beq, 1, 0, TARGET);
        assert_rejected(&forged(&with(BranchRow {
            link: PC + 8,
            ..beq
        })));
    }

    /// JAL's link written as `pc + 8 + p`: canonical 16-bit limbs, the right field value, but
    /// not the word `pc + 8`; the link's top-byte bound refuses it.
    #[test]
    fn non_canonical_link_is_rejected() {
        let jal = new_row(Opcode::Jalr, 0x0040_0000, 0, 0);
        assert_rejected(&forged(&with(BranchRow {
            link: PC + 8 + P,
            ..jal
        })));
    }

    #[test]
    fn non_boolean_flags_are_rejected() {
        let rows = honest_rows();
        // Row 0 is a BEQ: flags (2, -1) keep the one-hot sum at 1.
        assert_rejected_after(tables(&rows), BRANCH, |trace| {
            trace[cols::FLAGS] = Val::TWO;
            trace[cols::FLAGS + 1] = -Val::ONE;
        });
        assert_rejected_after(tables(&rows), BRANCH, |trace| {
            trace[cols::FLAGS] = Val::TWO;
        });
    }

    #[test]
    fn skipped_row_is_rejected() {
        let rows = honest_rows();
        assert_rejected(&tables_with(&rows, &rows[1..]));
    }

    #[test]
    fn activated_padding_row_is_rejected() {
        let rows = vec![new_row(Opcode::J, 0, 0, TARGET)];
        assert_rejected_after(tables(&rows), BRANCH, |trace| {
            trace[cols::WIDTH + cols::FLAGS + 16] = Val::ONE;
        });
    }

    /// Every constraint, the bus ones included, stays within degree 3 (the rate-1/2 code's
    /// quotient bound).
    #[test]
    fn constraint_degree_is_at_most_3() {
        use crate::chips::MipsAir;
        use crate::config::Challenge;
        use crate::security::batch_shape;
        let shape = batch_shape::<Val, Challenge, _>(&[MipsAir::Branch(BranchChip)], &[8]);
        assert!(
            shape.max_constraint_degree <= 3,
            "{}",
            shape.max_constraint_degree
        );
    }
}
