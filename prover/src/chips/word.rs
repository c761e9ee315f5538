//! 32-bit words held as four little-endian byte columns, and the byte-bus range checks that make
//! those columns canonical. Shared by every chip that decomposes a word into bytes, so the trace
//! side (what is written and which lookups are recorded) and the AIR side (which pairs are looked
//! up) cannot drift apart.
//!
//! A word's bytes are range-checked as two [`ByteOp::RangePair`] lookups, `(b0, b1)` and
//! `(b2, b3)`; the word travels on the buses as its 16-bit limbs `(b0 + 256 b1, b2 + 256 b3)`.

use p3_field::{Field, PrimeCharacteristicRing};
use p3_lookup::{Count, InteractionBuilder};

use super::ByteCounts;
use crate::buses::{BYTE_BUS, ByteOp};

/// Splits a word into its little-endian bytes.
pub(crate) const fn word_bytes(word: u32) -> [u8; 4] {
    word.to_le_bytes()
}

/// Writes `word`'s bytes into `out[0..4]`, unchecked (the caller range-checks them or derives
/// them some other way).
pub(crate) fn fill_word_bytes<F: Field>(out: &mut [F], word: u32) {
    for (cell, byte) in out[..4].iter_mut().zip(word_bytes(word)) {
        *cell = F::from_u8(byte);
    }
}

/// Writes `word`'s bytes into `out[0..4]` and records the lookups of [`eval_word_bytes_range`].
pub(crate) fn fill_range_checked_word<F: Field>(out: &mut [F], word: u32, bytes: &mut ByteCounts) {
    fill_word_bytes(out, word);
    record_word_bytes(word, bytes);
}

/// Records the byte lookups of [`eval_word_bytes_range`] for `word`.
pub fn record_word_bytes(word: u32, bytes: &mut ByteCounts) {
    let [b0, b1, b2, b3] = word_bytes(word);
    bytes.record(ByteOp::RangePair, b0, b1);
    bytes.record(ByteOp::RangePair, b2, b3);
}

/// The 16-bit limbs `(b0 + 256 b1, b2 + 256 b3)` of a word given by its 4 byte expressions.
pub(crate) fn limbs<E: PrimeCharacteristicRing + Clone>(bytes: &[E]) -> [E; 2] {
    let limb = |k: usize| bytes[2 * k].clone() + bytes[2 * k + 1].clone() * E::from_u32(256);
    [limb(0), limb(1)]
}

/// Looks up `(x, y)` as a pair of bytes with count `count` (bounded by 1).
pub(crate) fn eval_byte_pair<AB: InteractionBuilder>(
    builder: &mut AB,
    x: AB::Expr,
    y: AB::Expr,
    count: AB::Expr,
) {
    BYTE_BUS.lookup_key(
        builder,
        [
            AB::Expr::from_u8(ByteOp::RangePair as u8),
            x,
            y,
            AB::Expr::ZERO,
        ],
        Count::bounded(count, 1),
    );
}

/// Looks up every pair of `pairs` as bytes, each with count `count` (bounded by 1).
pub(crate) fn eval_byte_pairs<AB: InteractionBuilder>(
    builder: &mut AB,
    pairs: impl IntoIterator<Item = (AB::Expr, AB::Expr)>,
    count: &AB::Expr,
) {
    for (x, y) in pairs {
        eval_byte_pair(builder, x, y, count.clone());
    }
}

/// The two byte pairs that range-check the word whose bytes are `bytes[0..4]`.
pub(crate) fn word_byte_pairs<E: Clone>(bytes: &[E]) -> [(E, E); 2] {
    [
        (bytes[0].clone(), bytes[1].clone()),
        (bytes[2].clone(), bytes[3].clone()),
    ]
}

/// Range-checks a word held as 4 little-endian byte columns (2 byte-pair lookups) and returns
/// its two 16-bit limbs, for a caller whose written value is not range-checked elsewhere.
pub fn eval_word_bytes_range<AB: InteractionBuilder>(
    builder: &mut AB,
    bytes: &[AB::Expr; 4],
    count: AB::Expr,
) -> [AB::Expr; 2] {
    eval_byte_pairs(builder, word_byte_pairs(bytes), &count);
    limbs(bytes)
}

/// `2 (t - 128 s)` for a byte `t` with top bit `s`: the value range-checked to prove `s`.
pub(crate) const fn sign_check_byte(top_byte: u8) -> u8 {
    (top_byte & 0x7f) << 1
}

/// The AIR side of [`sign_check_byte`]: `2 (top - 128 sign)`, a byte exactly when `sign` is the
/// top bit of the byte `top`.
pub(crate) fn sign_check<E: PrimeCharacteristicRing>(top: E, sign: E) -> E {
    (top - sign * E::from_u32(128)) * E::TWO
}
