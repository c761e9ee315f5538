//! Writing recursion programs: typed cell handles and the operations on them.
//!
//! A [`Builder`] appends [`Instr`]s and hands out fresh cells as [`Felt`] (a base-field value)
//! or [`Ext`] (an extension element). Nothing is computed while building: values exist only
//! when [`crate::runtime::execute`] runs the finished [`Program`] on a witness stream, so every
//! gadget must be written as straight-line arithmetic (data-dependent choices become
//! [`Builder::select`] on bits).

use std::collections::HashMap;

use p3_field::{BasedVectorSpace, PrimeCharacteristicRing};

use crate::ir::{
    Addr, AluOp, Block, CellSource, Challenge, Hint, Instr, PERM_WIDTH, Program, ProgramError, Val,
    base_block, ext_block,
};

/// A cell holding a base-field value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Felt(pub(crate) Addr);

/// A cell holding an extension element.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ext(pub(crate) Addr);

impl Felt {
    pub fn addr(self) -> Addr {
        self.0
    }

    /// The same cell read as an extension element (a base value is one, with zero
    /// coordinates 1..3; the memory table enforces that for every base cell).
    pub fn as_ext(self) -> Ext {
        Ext(self.0)
    }
}

impl Ext {
    pub fn addr(self) -> Addr {
        self.0
    }
}

/// Number of bits of a canonical base value (`p < 2^31`).
pub const VAL_BITS: usize = 31;

/// Appends instructions and allocates cells. Constants are deduplicated.
#[derive(Default)]
pub struct Builder {
    instrs: Vec<Instr>,
    next_cell: u32,
    constants: HashMap<Block, Addr>,
}

impl Builder {
    pub fn new() -> Self {
        Self::default()
    }

    fn alloc(&mut self) -> Addr {
        let addr = Addr(self.next_cell);
        self.next_cell = self
            .next_cell
            .checked_add(1)
            .expect("a recursion program has fewer than 2^32 cells");
        addr
    }

    fn cell(&mut self, source: CellSource) -> Addr {
        let out = self.alloc();
        self.instrs.push(Instr::Cell { out, source });
        out
    }

    /// Number of instructions so far.
    pub fn len(&self) -> usize {
        self.instrs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.instrs.is_empty()
    }

    fn constant_block(&mut self, block: Block) -> Addr {
        if let Some(&addr) = self.constants.get(&block) {
            return addr;
        }
        let addr = self.cell(CellSource::Const(block));
        self.constants.insert(block, addr);
        addr
    }

    /// A base constant, fixed by the program.
    pub fn constant(&mut self, value: Val) -> Felt {
        Felt(self.constant_block(base_block(value)))
    }

    /// An extension constant, fixed by the program.
    pub fn ext_constant(&mut self, value: Challenge) -> Ext {
        Ext(self.constant_block(ext_block(value)))
    }

    /// The next base value of the witness stream.
    pub fn witness(&mut self) -> Felt {
        Felt(self.cell(CellSource::Witness { ext: false }))
    }

    /// The next extension element of the witness stream (four base values, coordinates in
    /// order).
    pub fn witness_ext(&mut self) -> Ext {
        Ext(self.cell(CellSource::Witness { ext: true }))
    }

    fn base(&mut self, op: AluOp, a: Felt, b: Felt) -> Felt {
        let out = self.alloc();
        self.instrs.push(Instr::BaseAlu {
            op,
            a: a.0,
            b: b.0,
            out,
        });
        Felt(out)
    }

    fn ext(&mut self, op: AluOp, a: Ext, b: Ext) -> Ext {
        let out = self.alloc();
        self.instrs.push(Instr::ExtAlu {
            op,
            a: a.0,
            b: b.0,
            out,
        });
        Ext(out)
    }

    pub fn add(&mut self, a: Felt, b: Felt) -> Felt {
        self.base(AluOp::Add, a, b)
    }

    pub fn sub(&mut self, a: Felt, b: Felt) -> Felt {
        self.base(AluOp::Sub, a, b)
    }

    pub fn mul(&mut self, a: Felt, b: Felt) -> Felt {
        self.base(AluOp::Mul, a, b)
    }

    /// `1 / a`; the proof fails unless `a != 0`.
    pub fn inv(&mut self, a: Felt) -> Felt {
        self.base(AluOp::Inv, a, a)
    }

    /// `a / b`; the proof fails unless `b != 0`.
    pub fn div(&mut self, a: Felt, b: Felt) -> Felt {
        let inverse = self.inv(b);
        self.mul(a, inverse)
    }

    pub fn add_const(&mut self, a: Felt, value: Val) -> Felt {
        let c = self.constant(value);
        self.add(a, c)
    }

    pub fn mul_const(&mut self, a: Felt, value: Val) -> Felt {
        let c = self.constant(value);
        self.mul(a, c)
    }

    /// The proof fails unless `a = b`.
    pub fn assert_eq(&mut self, a: Felt, b: Felt) {
        self.instrs.push(Instr::BaseAlu {
            op: AluOp::AssertEq,
            a: a.0,
            b: b.0,
            out: a.0,
        });
    }

    /// The proof fails unless `a = value`.
    pub fn assert_eq_const(&mut self, a: Felt, value: Val) {
        let c = self.constant(value);
        self.assert_eq(a, c);
    }

    pub fn ext_add(&mut self, a: Ext, b: Ext) -> Ext {
        self.ext(AluOp::Add, a, b)
    }

    pub fn ext_sub(&mut self, a: Ext, b: Ext) -> Ext {
        self.ext(AluOp::Sub, a, b)
    }

    pub fn ext_mul(&mut self, a: Ext, b: Ext) -> Ext {
        self.ext(AluOp::Mul, a, b)
    }

    /// `1 / a`; the proof fails unless `a != 0`.
    pub fn ext_inv(&mut self, a: Ext) -> Ext {
        self.ext(AluOp::Inv, a, a)
    }

    /// `a / b`; the proof fails unless `b != 0`.
    pub fn ext_div(&mut self, a: Ext, b: Ext) -> Ext {
        let inverse = self.ext_inv(b);
        self.ext_mul(a, inverse)
    }

    /// The proof fails unless `a = b`.
    pub fn ext_assert_eq(&mut self, a: Ext, b: Ext) {
        self.instrs.push(Instr::ExtAlu {
            op: AluOp::AssertEq,
            a: a.0,
            b: b.0,
            out: a.0,
        });
    }

    /// `sum_i coordinates[i] * X^i`, the extension element with these base coordinates.
    pub fn ext_from_coordinates(&mut self, coordinates: [Felt; 4]) -> Ext {
        let mut acc = coordinates[0].as_ext();
        for (i, coordinate) in coordinates.iter().enumerate().skip(1) {
            let power = self.ext_constant(Challenge::from_basis_coefficients_fn(|j| {
                if j == i { Val::ONE } else { Val::ZERO }
            }));
            let term = self.ext_mul(coordinate.as_ext(), power);
            acc = self.ext_add(acc, term);
        }
        acc
    }

    /// The four base coordinates of `value` (hinted, then recomposed and compared).
    pub fn ext_coordinates(&mut self, value: Ext) -> [Felt; 4] {
        let coordinates: [Felt; 4] = core::array::from_fn(|coordinate| {
            Felt(self.cell(CellSource::Hint(Hint::Coordinate {
                input: value.0,
                coordinate: coordinate as u32,
            })))
        });
        let recomposed = self.ext_from_coordinates(coordinates);
        self.ext_assert_eq(recomposed, value);
        coordinates
    }

    /// The Poseidon2 permutation of the inner configuration.
    pub fn poseidon2(&mut self, input: [Felt; PERM_WIDTH]) -> [Felt; PERM_WIDTH] {
        let output: [Addr; PERM_WIDTH] = core::array::from_fn(|_| self.alloc());
        self.instrs.push(Instr::Poseidon2 {
            input: input.map(|felt| felt.0),
            output,
            swap: None,
        });
        output.map(Felt)
    }

    /// The Poseidon2 permutation of `left || right` when `bit = 0`, of `right || left` when
    /// `bit = 1`: one instruction, the ordering is proven by the Poseidon2 table (which also
    /// proves `bit` boolean). The Merkle node compression orders `(digest, sibling)` this way.
    pub fn poseidon2_ordered(
        &mut self,
        bit: Felt,
        left: [Felt; PERM_WIDTH / 2],
        right: [Felt; PERM_WIDTH / 2],
    ) -> [Felt; PERM_WIDTH] {
        let output: [Addr; PERM_WIDTH] = core::array::from_fn(|_| self.alloc());
        let half = PERM_WIDTH / 2;
        self.instrs.push(Instr::Poseidon2 {
            input: core::array::from_fn(|i| {
                if i < half {
                    left[i].0
                } else {
                    right[i - half].0
                }
            }),
            output,
            swap: Some(bit.0),
        });
        output.map(Felt)
    }

    /// The proof fails unless `bit` is 0 or 1.
    pub fn assert_bool(&mut self, bit: Felt) {
        let square = self.mul(bit, bit);
        self.assert_eq(square, bit);
    }

    /// The 31 little-endian bits of the canonical representative of `value` (each proven
    /// boolean, recomposing `value`, and the integer they denote proven `< p`, so a prover
    /// cannot answer with the bits of `value + p`).
    pub fn bits(&mut self, value: Felt) -> [Felt; VAL_BITS] {
        let bits: [Felt; VAL_BITS] = core::array::from_fn(|bit| {
            Felt(self.cell(CellSource::Hint(Hint::Bit {
                input: value.0,
                bit: bit as u32,
            })))
        });
        for &bit in &bits {
            self.assert_bool(bit);
        }
        let recomposed = self.weighted_sum(&bits);
        self.assert_eq(recomposed, value);
        // p = 2^31 - 2^24 + 1: an integer below 2^31 whose bits 24..30 are all one is below p
        // iff its low 24 bits are all zero.
        let mut top = bits[24];
        for &bit in &bits[25..] {
            top = self.mul(top, bit);
        }
        let low = self.weighted_sum(&bits[..24]);
        let product = self.mul(top, low);
        self.assert_eq_const(product, Val::ZERO);
        bits
    }

    /// `sum_i bits[i] * 2^i`.
    pub fn weighted_sum(&mut self, bits: &[Felt]) -> Felt {
        let mut acc = self.constant(Val::ZERO);
        for (i, &bit) in bits.iter().enumerate() {
            let term = if i == 0 {
                bit
            } else {
                self.mul_const(bit, Val::from_u32(1 << i))
            };
            acc = self.add(acc, term);
        }
        acc
    }

    /// `if_one` when `bit = 1`, `if_zero` when `bit = 0` (`bit` must be proven boolean).
    pub fn select(&mut self, bit: Felt, if_one: Felt, if_zero: Felt) -> Felt {
        let difference = self.sub(if_one, if_zero);
        let shift = self.mul(bit, difference);
        self.add(if_zero, shift)
    }

    /// [`Builder::select`] on extension elements.
    pub fn ext_select(&mut self, bit: Felt, if_one: Ext, if_zero: Ext) -> Ext {
        let difference = self.ext_sub(if_one, if_zero);
        let shift = self.ext_mul(bit.as_ext(), difference);
        self.ext_add(if_zero, shift)
    }

    /// Appends `value` to the proof's public values.
    pub fn public(&mut self, value: Felt) {
        self.instrs.push(Instr::Public { input: value.0 });
    }

    /// The finished, checked program.
    pub fn build(self) -> Result<Program, ProgramError> {
        Program::new(self.instrs, self.next_cell)
    }
}
