//! Field arithmetic: one table for base-field instructions ([`Instr::BaseAlu`]) and one for
//! extension-field instructions ([`Instr::ExtAlu`]), the same AIR over `D = 1` or `D = 4`
//! coordinates.
//!
//! Row `a, b, out` with preprocessed operand addresses, one-hot operation flags and the
//! output's read count. It looks up `a` (and `b`, unless the operation is `Inv`), proves the
//! operation, and provides `out`. `Inv` proves `out * a = 1`, which also proves `a != 0`;
//! division is a multiplication by an inverse, so no row can "divide" by zero and pick any
//! quotient. `AssertEq` proves `a = b` and writes nothing.

use p3_air::{Air, PermutationAirBuilder, WindowAccess};
use p3_field::{Field, PrimeCharacteristicRing, PrimeField32};
use p3_lookup::{Count, InteractionBuilder};
use p3_matrix::dense::RowMajorMatrix;

use super::{MEMORY_BUS, table_height};
use crate::ir::{Addr, AluOp, Instr, Program};
use crate::runtime::Execution;

/// `X^4 = W` in the challenge field (KoalaBear's degree-4 binomial extension).
const EXT_W: u32 = 3;

pub(crate) mod prep {
    pub const A_ADDR: usize = 0;
    pub const B_ADDR: usize = 1;
    pub const OUT_ADDR: usize = 2;
    /// Read count of `out` (0 for `AssertEq`).
    pub const OUT_MULT: usize = 3;
    /// One flag per [`crate::ir::AluOp`], in `AluOp::ALL` order; all zero on padding rows.
    pub const FLAGS: usize = 4;
    pub const WIDTH: usize = FLAGS + 5;
}

/// Which instructions the table holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AluKind {
    Base,
    Ext,
}

impl AluKind {
    /// Coordinates per value.
    pub const fn degree(self) -> usize {
        match self {
            AluKind::Base => 1,
            AluKind::Ext => 4,
        }
    }
}

/// The base or extension ALU table of one program. Main columns: `a`, `b`, `out`, `D` each.
#[derive(Clone, Debug)]
pub struct AluChip {
    kind: AluKind,
    prep: Vec<u32>,
    /// Operand and output cells of each row.
    operands: Vec<(AluOp, Addr, Addr, Addr)>,
}

fn flag_index(op: AluOp) -> usize {
    AluOp::ALL.iter().position(|&o| o == op).expect("in ALL")
}

impl AluChip {
    pub fn new(program: &Program, kind: AluKind, min_height: usize) -> Self {
        let mut prep = Vec::new();
        let mut operands = Vec::new();
        for instr in program.instrs() {
            let (op, a, b, out) = match (instr, kind) {
                (&Instr::BaseAlu { op, a, b, out }, AluKind::Base)
                | (&Instr::ExtAlu { op, a, b, out }, AluKind::Ext) => (op, a, b, out),
                _ => continue,
            };
            let mut row = [0u32; prep::WIDTH];
            row[prep::A_ADDR] = a.0;
            row[prep::B_ADDR] = if op.reads_b() { b.0 } else { 0 };
            row[prep::OUT_ADDR] = if op.has_output() { out.0 } else { 0 };
            row[prep::OUT_MULT] = if op.has_output() {
                program.reads_of(out)
            } else {
                0
            };
            row[prep::FLAGS + flag_index(op)] = 1;
            prep.extend_from_slice(&row);
            operands.push((op, a, b, out));
        }
        prep.resize(table_height(operands.len(), min_height) * prep::WIDTH, 0);
        Self {
            kind,
            prep,
            operands,
        }
    }

    pub fn kind(&self) -> AluKind {
        self.kind
    }

    pub fn name(&self) -> &'static str {
        match self.kind {
            AluKind::Base => "RecursionBaseAlu",
            AluKind::Ext => "RecursionExtAlu",
        }
    }

    pub fn height(&self) -> usize {
        self.prep.len() / prep::WIDTH
    }

    fn main_width(&self) -> usize {
        3 * self.kind.degree()
    }

    /// The main trace: each row's `a`, `b` and `out` values (`out` = 0 for `AssertEq`, `b` = 0
    /// for `Inv`).
    pub fn generate_trace<F: Field>(&self, execution: &Execution) -> RowMajorMatrix<F> {
        let d = self.kind.degree();
        let width = self.main_width();
        let mut values = vec![F::ZERO; self.height() * width];
        for (row, &(op, a, b, out)) in self.operands.iter().enumerate() {
            let cells = [
                Some(a),
                op.reads_b().then_some(b),
                op.has_output().then_some(out),
            ];
            for (slot, cell) in cells.into_iter().enumerate() {
                let Some(cell) = cell else { continue };
                let block = execution.value(cell);
                for i in 0..d {
                    values[row * width + slot * d + i] = F::from_u32(block[i].as_canonical_u32());
                }
            }
        }
        RowMajorMatrix::new(values, width)
    }
}

impl AluChip {
    fn fixed_width(&self) -> usize {
        prep::WIDTH
    }

    fn fixed_values(&self) -> &[u32] {
        &self.prep
    }

    fn num_publics(&self) -> usize {
        0
    }
}

super::fixed_table_base_air!(AluChip);

/// `x * y` in `F[X]/(X^D - W)` (`D = 1`: plain multiplication).
fn mul<E: PrimeCharacteristicRing + Clone>(x: &[E], y: &[E]) -> Vec<E> {
    let d = x.len();
    let mut product = vec![E::ZERO; d];
    for i in 0..d {
        for j in 0..d {
            let term = x[i].clone() * y[j].clone();
            if i + j < d {
                product[i + j] += term;
            } else {
                product[i + j - d] += term * E::from_u32(EXT_W);
            }
        }
    }
    product
}

impl<AB: PermutationAirBuilder + InteractionBuilder> Air<AB> for AluChip {
    fn eval(&self, builder: &mut AB) {
        let d = self.kind.degree();
        let main = builder.main();
        let row: Vec<AB::Expr> = main.current_slice().iter().map(|&v| v.into()).collect();
        let (a, b, out) = (&row[..d], &row[d..2 * d], &row[2 * d..3 * d]);
        let prep: Vec<AB::Expr> = super::preprocessed_row(builder);
        let flag = |op: AluOp| prep[prep::FLAGS + flag_index(op)].clone();

        // The flags come from the program, but the LogUp count bound below relies on them
        // being boolean and exclusive, so the AIR says so.
        let mut is_real = AB::Expr::ZERO;
        for op in AluOp::ALL {
            builder.assert_bool(flag(op));
            is_real += flag(op);
        }
        builder.assert_bool(is_real.clone());

        let product = mul(a, out);
        for i in 0..d {
            let one = if i == 0 {
                AB::Expr::ONE
            } else {
                AB::Expr::ZERO
            };
            builder.assert_zero(flag(AluOp::Add) * (out[i].clone() - a[i].clone() - b[i].clone()));
            builder.assert_zero(flag(AluOp::Sub) * (out[i].clone() - a[i].clone() + b[i].clone()));
            builder.assert_zero(flag(AluOp::Inv) * (product[i].clone() - one));
            builder.assert_zero(flag(AluOp::AssertEq) * (a[i].clone() - b[i].clone()));
        }
        let product = mul(a, b);
        for i in 0..d {
            builder.assert_zero(flag(AluOp::Mul) * (out[i].clone() - product[i].clone()));
        }

        let message = |addr: usize, value: &[AB::Expr]| {
            let mut message = vec![prep[addr].clone()];
            message.extend(value.iter().cloned());
            message.resize(1 + 4, AB::Expr::ZERO);
            message
        };
        MEMORY_BUS.lookup_key(
            builder,
            message(prep::A_ADDR, a),
            Count::bounded(is_real.clone(), 1),
        );
        MEMORY_BUS.lookup_key(
            builder,
            message(prep::B_ADDR, b),
            Count::bounded(is_real - flag(AluOp::Inv), 1),
        );
        MEMORY_BUS.table_entry(
            builder,
            message(prep::OUT_ADDR, out),
            prep[prep::OUT_MULT].clone(),
        );
    }
}
