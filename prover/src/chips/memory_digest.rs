//! The AIR side of the cross-shard memory digest (`docs/MEMORY_DIGEST.md` §2.5): two reusable
//! operations that a chip embeds, the way chips embed the memory access helper.
//!
//! - [`eval_message_point`] / [`populate_message_point`] ([`MessagePointCols`], 12 columns, 3
//!   byte lookups): the row's message becomes the curve point `±map(m, t)`. The abscissa is
//!   *not* a column: it is `encode_x(limbs, tweak)` built from the caller's limb expressions, so
//!   the point is bound to the message the row shows on its buses (the flaw of §1.5 was free
//!   `x` columns). `y` satisfies the curve equation and its sign class encodes send (`+`) or
//!   receive (`-`).
//! - [`eval_accumulate`] / [`populate_accumulate`] ([`DigestAccumulatorCols`], 28 columns):
//!   `next = acc + point` on a real row with the incomplete chord formula (slope column, degree
//!   2 residuals) plus an inverse witness of `x_point - x_acc`, which rules out the exceptional
//!   inputs where the residuals would leave the result free; `next = acc` on a padding row.
//!
//! Every constraint has degree at most 3 (the batch prover's bound: two quotient chunks at rate
//! 1/2). The map check is degree 3 and therefore *not* gated by `is_real`: padding rows must hold
//! a valid witness too, which [`populate_message_point`] writes for any message.

use p3_air::AirBuilder;
use p3_field::{PrimeCharacteristicRing, PrimeField32};
use p3_koala_bear::KoalaBear;
use p3_lookup::{Count, InteractionBuilder};

use super::ByteCounts;
use crate::buses::{BYTE_BUS, ByteOp};
use crate::septic::SepticError;
use crate::septic::curve::{SepticCurvePoint, SepticPointKb};
use crate::septic::field::{HALF_P, P, SepticExtension, SepticKb, Sign};
use crate::septic::message::{MESSAGE_LIMBS, Message, encode_x, map_witness, sign_offset};

/// Coordinates per extension element.
const D: usize = crate::septic::field::DEGREE;

// ---------------------------------------------------------------------------------------------
// Message to point
// ---------------------------------------------------------------------------------------------

/// Columns of one message's point, at some offset inside the embedding chip's row.
///
/// The sign witness proves `y_0 = offset + r` with `0 <= r < (p-1)/2` (`offset` 1 for a send,
/// `(p+1)/2` for a receive), writing `r = b0 + 2^8 b1 + 2^16 b2 + 2^23 hi` and looking up
/// - `(RANGE_PAIR, b0, b1)`: two bytes;
/// - `(MSB, b2, tweak, 0)`: `b2 < 128` and the tweak is a byte. The byte table provides
///   `(MSB, x, y, x >> 7)` for *every* pair `(x, y)`, so the unused `y` slot range-checks the
///   tweak for free;
/// - `(LTU, hi, 127, 1)`: `hi < 127`.
///
/// Then `r <= (2^23 - 1) + 126 * 2^23 = (p-1)/2 - 1` as an integer, exactly the bound. A 7-bit
/// piece checked as "`2 b2` is a byte" would *not* do: an odd byte over 2 is a huge field element,
/// and `2^16 b2` would then reach `2^23 + 2^15`, letting a send take a slightly negative `y`.
///
/// Why the tweak is a byte on the byte bus rather than 8 boolean columns: it shares a lookup the
/// sign check needs anyway, so it costs one column and no constraint instead of eight columns and
/// eight boolean constraints.
pub mod message_point_cols {
    /// The tweak `t < 256`, the last abscissa coordinate.
    pub const TWEAK: usize = 0;
    /// `y`, 7 coefficients.
    pub const Y: usize = 1;
    /// `[b0, b1, b2, hi]`, the sign range witness (see [`super::MessagePointCols`]).
    pub const SIGN_RANGE: usize = 8;
    pub const WIDTH: usize = 12;
}

/// The columns of one message's point, typed (see [`message_point_cols`]).
#[derive(Clone, Copy, Debug)]
pub struct MessagePointCols<T> {
    pub tweak: T,
    pub y: [T; D],
    pub sign_range: [T; 4],
}

impl<T: Clone> MessagePointCols<T> {
    /// The columns starting at `slice[0]` (`slice` holds at least [`message_point_cols::WIDTH`]
    /// cells).
    pub fn from_slice(slice: &[T]) -> Self {
        use message_point_cols::*;
        Self {
            tweak: slice[TWEAK].clone(),
            y: core::array::from_fn(|i| slice[Y + i].clone()),
            sign_range: core::array::from_fn(|i| slice[SIGN_RANGE + i].clone()),
        }
    }
}

/// The sign offset `1 + (1 - is_send) (p-1)/2` as an expression: 1 for a send, `(p+1)/2` for a
/// receive (`message::sign_offset`).
fn sign_offset_expr<E: PrimeCharacteristicRing>(is_send: E) -> E {
    E::ONE + (E::ONE - is_send) * E::from_u32(HALF_P)
}

/// `b0 + 2^8 b1 + 2^16 b2 + 2^23 hi`.
fn sign_range_value<E: PrimeCharacteristicRing + Clone>(r: &[E; 4]) -> E {
    r[0].clone()
        + r[1].clone() * E::from_u32(1 << 8)
        + r[2].clone() * E::from_u32(1 << 16)
        + r[3].clone() * E::from_u32(1 << 23)
}

/// Looks up `(op, x, y, z)` on the byte bus with count `count` (bounded by 1).
fn byte_lookup<AB: InteractionBuilder>(
    builder: &mut AB,
    op: ByteOp,
    x: AB::Expr,
    y: AB::Expr,
    z: AB::Expr,
    count: AB::Expr,
) {
    BYTE_BUS.lookup_key(
        builder,
        [AB::Expr::from_u8(op as u8), x, y, z],
        Count::bounded(count, 1),
    );
}

/// Constrains the point of one message and returns it as expressions `(x, y)`; the caller adds it
/// to a digest with [`eval_accumulate`].
///
/// Caller contract:
/// - `message_limbs` are the message's six limbs, each **range-checked to 16 bits by the
///   caller** on real rows (buses carry range-checked limbs; injectivity of the encoding rests on
///   it). The kind tag inside limb 5 is also the caller's business.
/// - `is_send` is boolean (the caller constrains it): 1 adds `+map(m, t)`, 0 adds `-map(m, t)`.
/// - `is_real` is boolean; it is the count of the range lookups, so padding rows are not
///   range-checked, but they must still satisfy the (ungated) curve and sign equations:
///   [`populate_message_point`] writes a valid witness for any message, padding or not.
///
/// Constraints: 7 of degree 3 (`y^2 = x^3 + 3u x - 3` with `x = encode_x(limbs, tweak)`), one of
/// the degree of `is_send` (`y_0 = offset + r`), and 3 byte lookups with count `is_real`.
///
/// The tweak is not forced to be the smallest one that works. That is harmless
/// (`docs/MEMORY_DIGEST.md` §3.3): the digest hashes `(message, tweak)` pairs injectively, so a
/// non-canonical tweak can only keep a send from cancelling its receive, never make different
/// messages cancel.
pub fn eval_message_point<AB: InteractionBuilder>(
    builder: &mut AB,
    message_limbs: [AB::Expr; MESSAGE_LIMBS],
    is_send: AB::Expr,
    is_real: AB::Expr,
    cols: &MessagePointCols<AB::Expr>,
) -> SepticCurvePoint<AB::Expr> {
    let point = SepticCurvePoint {
        x: encode_x(message_limbs, cols.tweak.clone()),
        y: SepticExtension(cols.y.clone()),
    };
    builder.assert_zeros(point.on_curve_residual().0);

    let r = sign_range_value(&cols.sign_range);
    builder.assert_eq(cols.y[0].clone(), sign_offset_expr(is_send) + r);
    let [b0, b1, b2, hi] = cols.sign_range.clone();
    byte_lookup(
        builder,
        ByteOp::RangePair,
        b0,
        b1,
        AB::Expr::ZERO,
        is_real.clone(),
    );
    byte_lookup(
        builder,
        ByteOp::Msb,
        b2,
        cols.tweak.clone(),
        AB::Expr::ZERO,
        is_real.clone(),
    );
    byte_lookup(
        builder,
        ByteOp::Ltu,
        hi,
        AB::Expr::from_u8(127),
        AB::Expr::ONE,
        is_real,
    );
    point
}

/// Fills the [`message_point_cols::WIDTH`] cells of `message`'s point (canonical tweak) for a
/// send (`is_send`) or a receive, records the byte lookups if `is_real`, and returns the point
/// the row adds. Nothing is written or recorded on error (`NoTweak`, never expected).
pub fn populate_message_point(
    out: &mut [KoalaBear],
    message: &Message,
    is_send: bool,
    is_real: bool,
    bytes: &mut ByteCounts,
) -> Result<SepticPointKb, SepticError> {
    let witness = map_witness(message, !is_send)?;
    fill_message_point(
        out,
        KoalaBear::from_u8(witness.tweak),
        &witness.point.y,
        is_send,
    );
    if is_real {
        record_message_point(out, bytes);
    }
    Ok(witness.point)
}

/// Writes the tweak, `y` and the sign witness of `r = (y_0 - offset) mod p`, unchecked: for a `y`
/// in the wrong class `r >= (p-1)/2`, its `hi` is at least 127 and the `LTU` lookup fails. The
/// linear equation always holds, so tests can forge with it.
pub(crate) fn fill_message_point(
    out: &mut [KoalaBear],
    tweak: KoalaBear,
    y: &SepticKb,
    is_send: bool,
) {
    use message_point_cols::*;
    let sign = if is_send {
        Sign::Positive
    } else {
        Sign::Negative
    };
    let y0 = y.0[0].as_canonical_u32();
    let r = (y0 + (P - sign_offset(sign))) % P;
    out[TWEAK] = tweak;
    out[Y..Y + D].copy_from_slice(&y.0);
    let pieces = [r & 0xff, (r >> 8) & 0xff, (r >> 16) & 0x7f, r >> 23];
    for (cell, piece) in out[SIGN_RANGE..SIGN_RANGE + 4].iter_mut().zip(pieces) {
        *cell = KoalaBear::new(piece);
    }
}

/// Records the byte lookups [`eval_message_point`] makes for the cells `cells` (a real row),
/// skipping any whose operands are not bytes (such a lookup has no table entry to match).
pub fn record_message_point(cells: &[KoalaBear], bytes: &mut ByteCounts) {
    use message_point_cols::*;
    let byte = |i: usize| u8::try_from(cells[i].as_canonical_u32()).ok();
    let [b0, b1, b2, hi] = core::array::from_fn(|i| byte(SIGN_RANGE + i));
    if let (Some(b0), Some(b1)) = (b0, b1) {
        bytes.record(ByteOp::RangePair, b0, b1);
    }
    if let (Some(b2), Some(t)) = (b2, byte(TWEAK)) {
        bytes.record(ByteOp::Msb, b2, t);
    }
    if let Some(hi) = hi {
        bytes.record(ByteOp::Ltu, hi, 127);
    }
}

// ---------------------------------------------------------------------------------------------
// Accumulation
// ---------------------------------------------------------------------------------------------

/// Columns of one addition to a running digest, at some offset inside the embedding chip's row.
pub mod accumulator_cols {
    /// The running sum before this row's point, `(x, y)`, 14 coefficients.
    pub const ACC: usize = 0;
    /// Chord slope `(y_P - y_acc) / (x_P - x_acc)`.
    pub const LAMBDA: usize = 14;
    /// `(x_P - x_acc)^-1`, proving the addition is not exceptional.
    pub const INV: usize = 21;
    pub const WIDTH: usize = 28;
}

/// The accumulator columns, typed (see [`accumulator_cols`]).
#[derive(Clone, Copy, Debug)]
pub struct DigestAccumulatorCols<T> {
    pub acc: SepticCurvePoint<T>,
    pub lambda: SepticExtension<T>,
    pub inv: SepticExtension<T>,
}

impl<T: Clone> DigestAccumulatorCols<T> {
    /// The columns starting at `slice[0]` (`slice` holds at least [`accumulator_cols::WIDTH`]
    /// cells).
    pub fn from_slice(slice: &[T]) -> Self {
        use accumulator_cols::*;
        let ext = |at: usize| SepticExtension(core::array::from_fn(|i| slice[at + i].clone()));
        Self {
            acc: SepticCurvePoint {
                x: ext(ACC),
                y: ext(ACC + D),
            },
            lambda: ext(LAMBDA),
            inv: ext(INV),
        }
    }
}

/// Reads a point from 14 cells `(x, y)`, e.g. the next row's running sum.
pub fn point_from_slice<T: Clone>(slice: &[T]) -> SepticCurvePoint<T> {
    SepticCurvePoint {
        x: SepticExtension(core::array::from_fn(|i| slice[i].clone())),
        y: SepticExtension(core::array::from_fn(|i| slice[D + i].clone())),
    }
}

/// A native point as constant expressions (e.g. the digest offset `Z` on the first row).
pub fn point_constant<E: PrimeCharacteristicRing>(point: &SepticPointKb) -> SepticCurvePoint<E> {
    let ext = |c: &SepticKb| SepticExtension(c.0.map(|v| E::from_u32(v.as_canonical_u32())));
    SepticCurvePoint {
        x: ext(&point.x),
        y: ext(&point.y),
    }
}

/// Asserts `a == b` coordinate-wise (14 constraints of degree `max(deg a, deg b)`).
pub fn assert_points_eq<B: AirBuilder>(
    builder: &mut B,
    a: &SepticCurvePoint<B::Expr>,
    b: &SepticCurvePoint<B::Expr>,
) {
    let diff =
        |u: &SepticExtension<B::Expr>, v: &SepticExtension<B::Expr>| (u.clone() - v.clone()).0;
    builder.assert_zeros(diff(&a.x, &b.x));
    builder.assert_zeros(diff(&a.y, &b.y));
}

/// One step of a running digest: `next = acc + point` on a real row, `next = acc` on a padding
/// row. `next` is whatever holds the result: typically the next row's [`DigestAccumulatorCols`]
/// `acc` under `builder.when_transition()`, or the caller's own columns.
///
/// Caller contract: `is_real` is boolean; `point` is on the curve (e.g. from
/// [`eval_message_point`]); `acc` is on the curve (the chain starts at a constant curve point
/// such as `Z` and every step keeps it there). Then on a real row:
/// - `is_real · nonzero_residual(x_P - x_acc, inv) = 0` (7 constraints, degree 3) proves
///   `x_P != x_acc`, so the chord exists and is unique;
/// - `is_real · addition_residuals(acc, point, next, lambda) = 0` (21 constraints, degree 3) pin
///   `lambda` and then `next = acc + point`.
///
/// Without the inverse witness, `acc = point` would satisfy the residuals for every `lambda`,
/// leaving `next` free. On a padding row, `(1 - is_real)(next - acc) = 0` (14 constraints,
/// degree 2) and `lambda`, `inv` are unconstrained.
pub fn eval_accumulate<B: AirBuilder>(
    builder: &mut B,
    cols: &DigestAccumulatorCols<B::Expr>,
    point: &SepticCurvePoint<B::Expr>,
    next: &SepticCurvePoint<B::Expr>,
    is_real: B::Expr,
) {
    let dx = point.x.clone() - cols.acc.x.clone();
    let nonzero = SepticCurvePoint::<B::Expr>::nonzero_residual(&dx, &cols.inv);
    builder.when(is_real.clone()).assert_zeros(nonzero.0);
    for residual in SepticCurvePoint::addition_residuals(&cols.acc, point, next, &cols.lambda) {
        builder.when(is_real.clone()).assert_zeros(residual.0);
    }
    let mut padding = builder.when(B::Expr::ONE - is_real);
    assert_points_eq(&mut padding, next, &cols.acc);
}

/// Fills the [`accumulator_cols::WIDTH`] cells of one step from the running sum `acc` and returns
/// the sum after the row: `acc + point` (real row) or `acc` (padding row, slope and inverse 0).
/// `Err(ExceptionalAddition)` when `x_point = x_acc` on a real row, writing nothing: an honest
/// prover meets it only by finding a relation involving `Z` (negligible).
pub fn populate_accumulate(
    out: &mut [KoalaBear],
    acc: &SepticPointKb,
    point: &SepticPointKb,
    is_real: bool,
) -> Result<SepticPointKb, SepticError> {
    use accumulator_cols::*;
    let (next, lambda, inv) = if is_real {
        let (next, lambda) = acc.add_with_slope(point)?;
        let inv = (point.x - acc.x)
            .try_inverse()
            .ok_or(SepticError::ExceptionalAddition)?;
        (next, lambda, inv)
    } else {
        (*acc, SepticKb::zero(), SepticKb::zero())
    };
    out[ACC..ACC + D].copy_from_slice(&acc.x.0);
    out[ACC + D..ACC + 2 * D].copy_from_slice(&acc.y.0);
    out[LAMBDA..LAMBDA + D].copy_from_slice(&lambda.0);
    out[INV..INV + D].copy_from_slice(&inv.0);
    Ok(next)
}

// ---------------------------------------------------------------------------------------------
// Test chip
// ---------------------------------------------------------------------------------------------

#[cfg(test)]
pub(crate) use test_chip::*;

#[cfg(test)]
mod test_chip {
    use p3_air::{Air, BaseAir, PermutationAirBuilder, WindowAccess};
    use p3_field::Field;
    use p3_matrix::dense::RowMajorMatrix;

    use super::super::padded_height;
    use super::super::word::eval_byte_pair;
    use super::*;
    use crate::septic::digest::digest_offset;

    /// Rows of `(is_real, is_send, message)`, each real row adding its message's point to a
    /// running digest that starts at `start` (`Z` for the real digest) on the first row; the last
    /// row is padding and its running sum is the public digest (14 values).
    #[derive(Clone, Copy, Debug)]
    pub(crate) struct DigestTestChip {
        pub start: SepticPointKb,
    }

    impl Default for DigestTestChip {
        fn default() -> Self {
            Self {
                start: digest_offset(),
            }
        }
    }

    pub(crate) mod digest_test_cols {
        pub const IS_REAL: usize = 0;
        pub const IS_SEND: usize = 1;
        /// The six limbs as little-endian byte pairs, range-checked with 6 byte-pair lookups.
        pub const LIMB_BYTES: usize = 2;
        pub const POINT: usize = 14;
        pub const ACC: usize = POINT + super::message_point_cols::WIDTH;
        pub const WIDTH: usize = ACC + super::accumulator_cols::WIDTH;
    }

    /// An honest trace with its public digest and the byte lookups it makes.
    pub(crate) struct DigestTrace {
        pub trace: RowMajorMatrix<KoalaBear>,
        pub public_values: Vec<KoalaBear>,
        pub bytes: ByteCounts,
    }

    impl DigestTestChip {
        pub(crate) const fn name(&self) -> &'static str {
            "DigestTest"
        }

        /// The trace of `rows` (`(message, is_send)`), canonical tweaks, padded with at least one
        /// padding row (the last row must be padding: it carries the final sum). Errors
        /// (`NoTweak`, `ExceptionalAddition`) are returned, never panicked on.
        pub(crate) fn generate_trace(
            &self,
            rows: &[(Message, bool)],
        ) -> Result<DigestTrace, SepticError> {
            use digest_test_cols::*;
            let height = padded_height(rows.len() + 1);
            let mut values = KoalaBear::zero_vec(height * WIDTH);
            let mut bytes = ByteCounts::new();
            let padding = (Message::new([0; MESSAGE_LIMBS])?, false);
            let mut acc = self.start;
            for (index, out) in values.chunks_exact_mut(WIDTH).enumerate() {
                let is_real = index < rows.len();
                let (message, is_send) = rows.get(index).copied().unwrap_or(padding);
                out[IS_REAL] = KoalaBear::from_bool(is_real);
                out[IS_SEND] = KoalaBear::from_bool(is_send);
                for (k, limb) in message.limbs().into_iter().enumerate() {
                    let [lo, hi] = [(limb & 0xff) as u8, (limb >> 8) as u8];
                    out[LIMB_BYTES + 2 * k] = KoalaBear::from_u8(lo);
                    out[LIMB_BYTES + 2 * k + 1] = KoalaBear::from_u8(hi);
                    if is_real {
                        bytes.record(ByteOp::RangePair, lo, hi);
                    }
                }
                let point = populate_message_point(
                    &mut out[POINT..ACC],
                    &message,
                    is_send,
                    is_real,
                    &mut bytes,
                )?;
                acc = populate_accumulate(&mut out[ACC..], &acc, &point, is_real)?;
            }
            Ok(DigestTrace {
                trace: RowMajorMatrix::new(values, WIDTH),
                public_values: point_values(&acc),
                bytes,
            })
        }
    }

    /// `(x, y)` as 14 field elements.
    pub(crate) fn point_values(point: &SepticPointKb) -> Vec<KoalaBear> {
        point.x.0.iter().chain(&point.y.0).copied().collect()
    }

    /// The point row `row` adds, read back from its cells as the AIR sees it.
    pub(crate) fn row_point(row: &[KoalaBear]) -> SepticPointKb {
        use digest_test_cols::*;
        let cols = MessagePointCols::from_slice(&row[POINT..]);
        let limbs: [KoalaBear; MESSAGE_LIMBS] = core::array::from_fn(|k| {
            row[LIMB_BYTES + 2 * k] + row[LIMB_BYTES + 2 * k + 1] * KoalaBear::from_u32(256)
        });
        SepticCurvePoint {
            x: encode_x(limbs, cols.tweak),
            y: SepticExtension(cols.y),
        }
    }

    /// The byte lookups the AIR makes for `trace`, as a forger would count them (entries that
    /// are not in the table are skipped: nothing can match them).
    pub(crate) fn recount_bytes(trace: &RowMajorMatrix<KoalaBear>) -> ByteCounts {
        use digest_test_cols::*;
        let mut bytes = ByteCounts::new();
        for row in trace.values.chunks_exact(WIDTH) {
            if row[IS_REAL] != KoalaBear::ONE {
                continue;
            }
            let byte = |i: usize| u8::try_from(row[i].as_canonical_u32()).ok();
            for k in 0..MESSAGE_LIMBS {
                if let (Some(lo), Some(hi)) =
                    (byte(LIMB_BYTES + 2 * k), byte(LIMB_BYTES + 2 * k + 1))
                {
                    bytes.record(ByteOp::RangePair, lo, hi);
                }
            }
            record_message_point(&row[POINT..ACC], &mut bytes);
        }
        bytes
    }

    /// Rewrites the accumulator cells of rows `first..` from the running sum `start` (the sum
    /// before row `first`), adding each row's point as the AIR sees it; `rewrite(row, prev_acc,
    /// acc)` may replace the sum before each row (`prev_acc` is the previous row's). Returns the
    /// last row's sum, the public digest an AIR-consistent forger would claim.
    pub(crate) fn rechain(
        trace: &mut RowMajorMatrix<KoalaBear>,
        first: usize,
        start: SepticPointKb,
        mut rewrite: impl FnMut(usize, SepticPointKb, SepticPointKb) -> SepticPointKb,
    ) -> Result<Vec<KoalaBear>, SepticError> {
        use digest_test_cols::*;
        let mut acc = start;
        let mut prev = start;
        for (index, row) in trace.values.chunks_exact_mut(WIDTH).enumerate().skip(first) {
            acc = rewrite(index, prev, acc);
            prev = acc;
            let point = row_point(row);
            let is_real = row[IS_REAL] == KoalaBear::ONE;
            acc = populate_accumulate(&mut row[ACC..], &acc, &point, is_real)?;
        }
        Ok(point_values(&prev))
    }

    impl<F: Field> BaseAir<F> for DigestTestChip {
        fn width(&self) -> usize {
            digest_test_cols::WIDTH
        }

        fn num_public_values(&self) -> usize {
            2 * D
        }

        fn main_next_row_columns(&self) -> Vec<usize> {
            use digest_test_cols::*;
            (ACC..ACC + 2 * D).collect()
        }
    }

    impl<AB: PermutationAirBuilder + InteractionBuilder> Air<AB> for DigestTestChip {
        fn eval(&self, builder: &mut AB) {
            use digest_test_cols::*;
            let main = builder.main();
            let local: Vec<AB::Expr> = main.current_slice().iter().map(|&v| v.into()).collect();
            let next: Vec<AB::Expr> = main.next_slice().iter().map(|&v| v.into()).collect();
            let public: Vec<AB::Expr> = builder.public_values().iter().map(|&v| v.into()).collect();

            let (is_real, is_send) = (local[IS_REAL].clone(), local[IS_SEND].clone());
            builder.assert_bool(is_real.clone());
            builder.assert_bool(is_send.clone());

            // The operation's caller contract: limbs below 2^16 on real rows.
            let message_limbs: [AB::Expr; MESSAGE_LIMBS] = core::array::from_fn(|k| {
                let (lo, hi) = (
                    local[LIMB_BYTES + 2 * k].clone(),
                    local[LIMB_BYTES + 2 * k + 1].clone(),
                );
                eval_byte_pair(builder, lo.clone(), hi.clone(), is_real.clone());
                lo + hi * AB::Expr::from_u32(256)
            });
            let point_cols = MessagePointCols::from_slice(&local[POINT..ACC]);
            let point = eval_message_point(
                builder,
                message_limbs,
                is_send,
                is_real.clone(),
                &point_cols,
            );

            let acc = DigestAccumulatorCols::from_slice(&local[ACC..]);
            let start = point_constant::<AB::Expr>(&self.start);
            assert_points_eq(&mut builder.when_first_row(), &acc.acc, &start);
            let next_acc = point_from_slice(&next[ACC..]);
            eval_accumulate(
                &mut builder.when_transition(),
                &acc,
                &point,
                &next_acc,
                is_real.clone(),
            );
            // The last row adds nothing, so its running sum is the digest.
            builder.when_last_row().assert_zero(is_real);
            let digest = point_from_slice(&public);
            assert_points_eq(&mut builder.when_last_row(), &acc.acc, &digest);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::panic::{AssertUnwindSafe, catch_unwind};

    use p3_air::{BaseAir, check_all_constraints};
    use p3_field::PrimeCharacteristicRing;
    use p3_lookup::debug_util::{LookupDebugInstance, check_lookups};
    use p3_lookup::{Lookup, Lookups};
    use p3_matrix::dense::RowMajorMatrix;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;
    use crate::batch::{Table, prove, verify};
    use crate::chips::ByteChip;
    use crate::config::{Challenge, InnerConfig, Val, inner_config};
    use crate::septic::SepticDigest;
    use crate::septic::digest::{digest_offset, sum_start};
    use crate::septic::message::{encode, map_to_curve};
    use crate::septic::test_util::random_message;

    crate::air_enum! {
        /// The digest test chip and the byte table it looks up.
        pub(crate) enum DigestTestAir {
            Digest(DigestTestChip),
            Byte(ByteChip),
        }
    }

    /// Position of each chip in a batch.
    const DIGEST: usize = 0;

    type Tables = Vec<Table<DigestTestAir, Val>>;

    /// The batch for a (possibly tampered) digest trace; the byte table counts the lookups the
    /// trace makes, so that only lookups outside the table stay unmatched.
    fn tables_of(chip: DigestTestChip, trace: RowMajorMatrix<Val>, public: Vec<Val>) -> Tables {
        let bytes = recount_bytes(&trace);
        vec![
            Table {
                air: DigestTestAir::Digest(chip),
                trace,
                public_values: public,
            },
            Table {
                air: DigestTestAir::Byte(ByteChip),
                trace: ByteChip.generate_trace(&bytes),
                public_values: vec![],
            },
        ]
    }

    /// Whether `table`'s constraints hold on every row (bus interactions aside).
    fn constraints_hold(table: &Table<DigestTestAir, Val>) -> bool {
        check_all_constraints(&table.air, &table.trace, &table.public_values, Some(8)).is_ok()
    }

    /// `p3`'s debug checks: every constraint, then the balance of every bus (same as
    /// `testing::debug_check`, for this batch's AIR type).
    fn debug_check(tables: &Tables) -> Result<(), String> {
        for table in tables {
            let report =
                check_all_constraints(&table.air, &table.trace, &table.public_values, Some(8));
            if !report.is_ok() {
                return Err(format!(
                    "{}: constraint failures {:?}",
                    table.air.name(),
                    report.failures
                ));
            }
        }
        let lookups: Vec<Vec<Lookup<Val>>> = tables
            .iter()
            .map(|t| Lookups::from_air::<Challenge, _>(&t.air).to_vec())
            .collect();
        let preprocessed: Vec<_> = tables
            .iter()
            .map(|t| <DigestTestAir as BaseAir<Val>>::preprocessed_trace(&t.air))
            .collect();
        let instances: Vec<LookupDebugInstance<'_, Val>> = tables
            .iter()
            .zip(&lookups)
            .zip(&preprocessed)
            .map(|((table, lookups), preprocessed)| LookupDebugInstance {
                main_trace: &table.trace,
                preprocessed_trace: preprocessed,
                public_values: &table.public_values,
                lookups,
                permutation_challenges: &[],
            })
            .collect();
        catch_unwind(AssertUnwindSafe(|| check_lookups(&instances)))
            .map_err(|_| "bus imbalance (see the panic message above)".to_string())
    }

    fn split(tables: &Tables) -> (Vec<DigestTestAir>, Vec<Vec<Val>>) {
        (
            tables.iter().map(|t| t.air.clone()).collect(),
            tables.iter().map(|t| t.public_values.clone()).collect(),
        )
    }

    /// Debug checks, a real proof and the real verifier.
    fn prove_and_verify(tables: &Tables) -> Result<(), String> {
        debug_check(tables)?;
        let config: InnerConfig = inner_config();
        let proof = prove(&config, tables).map_err(|e| e.to_string())?;
        let (airs, public_values) = split(tables);
        verify(&config, &airs, &proof, &public_values).map_err(|e| e.to_string())
    }

    /// Rejection as `testing::assert_rejected` defines it: the debug checks flag the batch, and
    /// the prover panics (debug builds, its own checks) or the real verifier rejects the proof.
    fn assert_rejected(tables: &Tables) {
        assert!(
            debug_check(tables).is_err(),
            "p3's debug checks accept the tampered batch"
        );
        let config: InnerConfig = inner_config();
        let proof = match catch_unwind(AssertUnwindSafe(|| prove(&config, tables))) {
            Ok(Ok(proof)) => proof,
            Ok(Err(err)) => panic!("the prover refused the batch instead of proving it: {err}"),
            Err(_) if cfg!(debug_assertions) => return,
            Err(_) => panic!("the prover panicked in a release build"),
        };
        let (airs, public_values) = split(tables);
        assert!(
            verify(&config, &airs, &proof, &public_values).is_err(),
            "the verifier accepted a tampered batch"
        );
    }

    fn messages(seed: u64, n: usize) -> Vec<Message> {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..n).map(|_| random_message(&mut rng)).collect()
    }

    /// Three sends and three receives: one message sent twice, one sent and received.
    fn rows() -> Vec<(Message, bool)> {
        let m = messages(40, 4);
        vec![
            (m[0], true),
            (m[1], false),
            (m[2], true),
            (m[0], true),
            (m[2], false),
            (m[3], false),
        ]
    }

    fn native_digest(rows: &[(Message, bool)]) -> SepticDigest {
        let mut digest = SepticDigest::zero();
        for (message, is_send) in rows {
            if *is_send {
                digest.add_send(message).unwrap();
            } else {
                digest.add_receive(message).unwrap();
            }
        }
        digest
    }

    fn honest(rows: &[(Message, bool)]) -> DigestTrace {
        DigestTestChip::default()
            .generate_trace(rows)
            .expect("honest rows")
    }

    fn row_mut(trace: &mut RowMajorMatrix<Val>, row: usize) -> &mut [Val] {
        use digest_test_cols::WIDTH;
        &mut trace.values[row * WIDTH..(row + 1) * WIDTH]
    }

    fn row_ref(trace: &RowMajorMatrix<Val>, row: usize) -> &[Val] {
        use digest_test_cols::WIDTH;
        &trace.values[row * WIDTH..(row + 1) * WIDTH]
    }

    /// Replaces row `row`'s point by `(encode(limbs, tweak), y)` (sign witness recomputed for the
    /// row's direction), then rechains the accumulator and returns the batch a consistent forger
    /// would submit.
    fn with_point(
        mut trace: RowMajorMatrix<Val>,
        row: usize,
        tweak: Val,
        y: &SepticKb,
        is_send: bool,
    ) -> Tables {
        use digest_test_cols::*;
        fill_message_point(&mut row_mut(&mut trace, row)[POINT..ACC], tweak, y, is_send);
        let public = rechain(&mut trace, 0, digest_offset(), |_, _, acc| acc).unwrap();
        tables_of(DigestTestChip::default(), trace, public)
    }

    /// The positive point of abscissa `encode_x(message, tweak)` for any field tweak, if it lifts.
    fn lift_with_tweak(message: &Message, tweak: Val) -> Option<SepticPointKb> {
        SepticPointKb::lift_x(encode_x(message.limbs().map(Val::new), tweak))
    }

    #[test]
    fn honest_digest_matches_native_and_verifies() {
        let rows = rows();
        let DigestTrace {
            trace,
            public_values,
            bytes,
        } = honest(&rows);
        assert_eq!(
            public_values,
            point_values(native_digest(&rows).point()),
            "the AIR's digest is the native one"
        );
        // (`assert!`, not `assert_eq!`: the counts are 7 * 2^16 numbers.)
        assert!(
            recount_bytes(&trace) == bytes,
            "populate records what the AIR looks up"
        );
        // 6 real rows and the compulsory padding row.
        assert_eq!(trace.values.len(), 8 * digest_test_cols::WIDTH);
        prove_and_verify(&tables_of(DigestTestChip::default(), trace, public_values))
            .expect("honest digest verifies");
    }

    /// A power of two of real rows still gets its final padding row; no rows give `Z`.
    #[test]
    fn full_and_empty_traces_verify() {
        let m = messages(41, 4);
        let rows: Vec<_> = m.iter().map(|&m| (m, true)).collect();
        let full = honest(&rows);
        assert_eq!(full.trace.values.len(), 8 * digest_test_cols::WIDTH);
        assert_eq!(
            full.public_values,
            point_values(native_digest(&rows).point())
        );
        prove_and_verify(&tables_of(
            DigestTestChip::default(),
            full.trace,
            full.public_values,
        ))
        .expect("four sends verify");

        let empty = honest(&[]);
        assert_eq!(empty.public_values, point_values(&digest_offset()));
        prove_and_verify(&tables_of(
            DigestTestChip::default(),
            empty.trace,
            empty.public_values,
        ))
        .expect("the empty digest verifies");
    }

    #[test]
    fn send_and_receive_of_the_same_messages_leave_z() {
        let m = messages(42, 2);
        let rows = [(m[0], true), (m[1], false), (m[0], false), (m[1], true)];
        let t = honest(&rows);
        assert_eq!(t.public_values, point_values(&digest_offset()));
        assert!(native_digest(&rows).is_zero());
        prove_and_verify(&tables_of(
            DigestTestChip::default(),
            t.trace,
            t.public_values,
        ))
        .expect("a cancelling multiset verifies");
    }

    /// §1.5's flaw, both ways: the row shows one message but its point is another's.
    #[test]
    fn point_not_matching_the_message_is_rejected() {
        use digest_test_cols::*;
        let rows = rows();
        // (a) A limb byte changed, tweak and y kept, the accumulator following the point the AIR
        // sees: that point is off the curve.
        let mut trace = honest(&rows).trace;
        row_mut(&mut trace, 1)[LIMB_BYTES + 4] += Val::ONE;
        let public = rechain(&mut trace, 0, digest_offset(), |_, _, acc| acc).unwrap();
        let tables = tables_of(DigestTestChip::default(), trace, public);
        assert!(!constraints_hold(&tables[DIGEST]));
        assert_rejected(&tables);

        // (b) The row holds message B with a valid point of B, but the digest accumulates A's
        // point (the accumulator cells of the honest trace for A are kept).
        let other = messages(43, 1)[0];
        let mut trace = honest(&rows).trace;
        let public = point_values(native_digest(&rows).point());
        let row = row_mut(&mut trace, 1);
        for (k, limb) in other.limbs().into_iter().enumerate() {
            row[LIMB_BYTES + 2 * k] = Val::new(limb & 0xff);
            row[LIMB_BYTES + 2 * k + 1] = Val::new(limb >> 8);
        }
        populate_message_point(
            &mut row[POINT..ACC],
            &other,
            false,
            true,
            &mut ByteCounts::new(),
        )
        .unwrap();
        let tables = tables_of(DigestTestChip::default(), trace, public);
        assert!(!constraints_hold(&tables[DIGEST]));
        assert_rejected(&tables);
    }

    /// A larger tweak that also lifts is a valid encoding of another pair `(m, t')`: accepted,
    /// and harmless — the digest then differs from the canonical one, so the send no longer
    /// cancels the canonical receive (only the cheater loses; `docs/MEMORY_DIGEST.md` §3.3).
    #[test]
    fn non_canonical_valid_tweak_is_accepted() {
        let rows = rows();
        let (message, is_send) = rows[2];
        let (_, canonical) = map_to_curve(&message).unwrap();
        let (tweak, point) = (canonical + 1..=u8::MAX)
            .find_map(|t| SepticPointKb::lift_x(encode(&message, t)).map(|p| (t, p)))
            .expect("some larger tweak lifts");
        let tables = with_point(
            honest(&rows).trace,
            2,
            Val::from_u8(tweak),
            &point.y,
            is_send,
        );
        assert_ne!(
            tables[DIGEST].public_values,
            point_values(native_digest(&rows).point())
        );
        prove_and_verify(&tables).expect("a valid non-canonical encoding verifies");
    }

    /// A tweak outside `0..256` (here 256 and `-1`) with a point that is on the curve for it:
    /// every constraint holds, only the tweak's byte lookup fails.
    #[test]
    fn tweak_out_of_range_is_rejected() {
        let rows = rows();
        for tweak in [Val::from_u32(256), Val::NEG_ONE] {
            // A message whose abscissa with that tweak lifts (about one in two does).
            let (index, point) = (0..rows.len())
                .find_map(|i| lift_with_tweak(&rows[i].0, tweak).map(|p| (i, p)))
                .expect("some row's message lifts with this tweak");
            let is_send = rows[index].1;
            let y = if is_send { point.y } else { -point.y };
            let tables = with_point(honest(&rows).trace, index, tweak, &y, is_send);
            assert!(constraints_hold(&tables[DIGEST]));
            assert_rejected(&tables);
        }
    }

    #[test]
    fn y_off_the_curve_is_rejected() {
        use digest_test_cols::*;
        let rows = rows();
        let trace = honest(&rows).trace;
        let row = row_ref(&trace, 3);
        let cols = MessagePointCols::from_slice(&row[POINT..]);
        let mut y = SepticExtension(cols.y);
        y.0[3] += Val::ONE;
        let tables = with_point(trace, 3, cols.tweak, &y, rows[3].1);
        assert!(!constraints_hold(&tables[DIGEST]));
        assert_rejected(&tables);
    }

    /// The other root (or the same root with the direction flipped) is in the wrong sign class:
    /// the constraints hold with a sign witness `hi >= 127`, which the `LTU` lookup refuses. A
    /// send row adding `-map(m)` would otherwise act as a receive.
    #[test]
    fn wrong_sign_class_is_rejected() {
        use digest_test_cols::*;
        let rows = rows();
        for (index, flip_direction) in [(0, false), (1, false), (2, true), (3, true)] {
            let mut trace = honest(&rows).trace;
            let row = row_ref(&trace, index);
            let cols = MessagePointCols::from_slice(&row[POINT..]);
            let y = SepticExtension(cols.y);
            let is_send = rows[index].1;
            let (y, is_send) = if flip_direction {
                row_mut(&mut trace, index)[IS_SEND] = Val::from_bool(!is_send);
                (y, !is_send)
            } else {
                (-y, is_send)
            };
            let tables = with_point(trace, index, cols.tweak, &y, is_send);
            assert!(constraints_hold(&tables[DIGEST]));
            assert_rejected(&tables);
        }
    }

    #[test]
    fn skipped_addition_is_rejected() {
        let mut trace = honest(&rows()).trace;
        // Row 2 is real; row 3 starts from row 2's sum as if row 2 added nothing.
        let public = rechain(&mut trace, 0, digest_offset(), |row, prev, acc| {
            if row == 3 { prev } else { acc }
        })
        .unwrap();
        let tables = tables_of(DigestTestChip::default(), trace, public);
        assert!(!constraints_hold(&tables[DIGEST]));
        assert_rejected(&tables);
    }

    #[test]
    fn forged_running_sum_is_rejected() {
        let mut trace = honest(&rows()).trace;
        let public = rechain(&mut trace, 0, digest_offset(), |row, _, acc| {
            if row == 2 { sum_start() } else { acc }
        })
        .unwrap();
        let tables = tables_of(DigestTestChip::default(), trace, public);
        assert!(!constraints_hold(&tables[DIGEST]));
        assert_rejected(&tables);

        // The first row must start at Z.
        let mut trace = honest(&rows()).trace;
        let public = rechain(&mut trace, 0, sum_start(), |_, _, acc| acc).unwrap();
        assert_rejected(&tables_of(DigestTestChip::default(), trace, public));
    }

    #[test]
    fn wrong_public_digest_is_rejected() {
        let t = honest(&rows());
        let mut public = t.public_values.clone();
        public[9] += Val::ONE;
        assert_rejected(&tables_of(
            DigestTestChip::default(),
            t.trace.clone(),
            public,
        ));

        // A proof of the honest digest does not verify against another digest, even one on the
        // curve (`S`).
        let tables = tables_of(DigestTestChip::default(), t.trace, t.public_values);
        let config = inner_config();
        let proof = prove(&config, &tables).unwrap();
        let (airs, mut public_values) = split(&tables);
        verify(&config, &airs, &proof, &public_values).expect("honest proof verifies");
        public_values[DIGEST] = point_values(&sum_start());
        assert!(verify(&config, &airs, &proof, &public_values).is_err());
    }

    /// The exceptional input `acc = point`: the three addition residuals vanish for *any* slope,
    /// so the result is free; only the inverse witness of `x_point - x_acc` rejects it. (No
    /// honest chain reaches `acc = point` from `Z`, so the chip starts at the point itself here.)
    #[test]
    fn exceptional_addition_with_free_result_is_rejected() {
        use accumulator_cols::{INV, LAMBDA};
        let m = messages(44, 2);
        let rows = [(m[0], true), (m[1], true)];
        let p0 = map_to_curve(&m[0]).unwrap().0;
        let chip = DigestTestChip { start: p0 };
        // Trace generation refuses it with an error.
        assert!(matches!(
            chip.generate_trace(&rows),
            Err(SepticError::ExceptionalAddition)
        ));

        let mut trace = honest(&rows).trace;
        let lambda = SepticKb::from_base(Val::from_u32(5));
        let free = SepticPointKb {
            x: lambda.square() - p0.x - p0.x,
            y: lambda * (p0.x - (lambda.square() - p0.x - p0.x)) - p0.y,
        };
        let zero = SepticKb::zero();
        for r in SepticPointKb::addition_residuals(&p0, &p0, &free, &lambda) {
            assert_eq!(r, zero, "the residuals alone accept the free result");
        }
        let row = row_mut(&mut trace, 0);
        let acc = &mut row[digest_test_cols::ACC..];
        acc[accumulator_cols::ACC..accumulator_cols::ACC + D].copy_from_slice(&p0.x.0);
        acc[accumulator_cols::ACC + D..accumulator_cols::ACC + 2 * D].copy_from_slice(&p0.y.0);
        acc[LAMBDA..LAMBDA + D].copy_from_slice(&lambda.0);
        acc[INV..INV + D].copy_from_slice(&zero.0);
        let public = rechain(&mut trace, 1, free, |_, _, acc| acc).unwrap();
        let tables = tables_of(chip, trace, public);
        assert!(!constraints_hold(&tables[DIGEST]));
        assert_rejected(&tables);
    }

    #[test]
    fn padding_row_changing_the_sum_is_rejected() {
        let m = messages(45, 3);
        let rows = [(m[0], true), (m[1], false)];
        let mut trace = honest(&rows).trace;
        // Row 2 is padding (its point is the zero message's); row 3 takes the sum as if row 2
        // had added it.
        let padding_point = row_point(row_ref(&trace, 2));
        let public = rechain(&mut trace, 0, digest_offset(), |row, prev, acc| {
            if row == 3 {
                prev.add(&padding_point).unwrap()
            } else {
                acc
            }
        })
        .unwrap();
        let tables = tables_of(DigestTestChip::default(), trace, public);
        assert!(!constraints_hold(&tables[DIGEST]));
        assert_rejected(&tables);
    }

    /// The last row must be padding: a real last row would add a point nobody accumulates.
    #[test]
    fn real_last_row_is_rejected() {
        use digest_test_cols::*;
        let m = messages(46, 1);
        let t = honest(&[(m[0], true)]);
        let mut trace = t.trace;
        row_mut(&mut trace, 3)[IS_REAL] = Val::ONE;
        let tables = tables_of(DigestTestChip::default(), trace, t.public_values);
        assert!(!constraints_hold(&tables[DIGEST]));
        assert_rejected(&tables);
    }

    /// Columns and degrees: 12 + 28 columns per message row, every constraint (LogUp included)
    /// of degree at most 3, two quotient chunks at rate 1/2 like the machine's chips.
    #[test]
    fn columns_and_constraint_degree() {
        assert_eq!(message_point_cols::WIDTH, 12);
        assert_eq!(accumulator_cols::WIDTH, 28);
        assert_eq!(digest_test_cols::WIDTH, 2 + 12 + 12 + 28);
        let shape = crate::security::batch_shape::<Val, Challenge, _>(
            &[DigestTestAir::Digest(DigestTestChip::default())],
            &[3],
        );
        assert_eq!(shape.max_constraint_degree, 3);
        assert_eq!(shape.num_quotient_chunks, 2);
    }
}
