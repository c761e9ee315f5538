//! Elliptic-curve multiset hashing for the cross-shard memory argument
//! (`docs/MEMORY_DIGEST.md`; `docs/RECURSION.md` §2.2).
//!
//! Each shard folds its memory interface into a [`SepticDigest`]: a *send* of
//! `(addr, final_value, shard)` and a *receive* of `(addr, init_value, init_shard)` per touched
//! location. Digests of all shards add up, and the total is checked against the program image at
//! the root, with no challenge shared between shards.
//!
//! - [`field`]: `F_{p^7} = F_p[u]/(u^7 + 2u - 8)` over KoalaBear, ring formulas generic over
//!   `PrimeCharacteristicRing` (usable on AIR expressions), inverse/sqrt natively.
//! - [`curve`]: `y^2 = x^3 + 3u x - 3`, prime order, incomplete affine addition and its AIR
//!   residuals.
//! - [`message`]: six 16-bit limbs plus an 8-bit tweak as the abscissa, sign rule for `y`.
//! - [`digest`]: the offset-form digest and how digests are summed.

pub mod curve;
pub mod digest;
pub mod field;
pub mod message;

pub use curve::{CURVE_ORDER, SepticCurvePoint, SepticPointKb};
pub use digest::SepticDigest;
pub use field::{SepticExtension, SepticKb, Sign};
pub use message::{MemoryEntry, Message, map_to_curve};

use thiserror::Error;

/// Errors of the septic-curve code. None of them is expected on honest data except the input
/// range errors; the others exist so that nothing panics on adversarial input.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum SepticError {
    #[error("message limb {index} is {value}, which does not fit in 16 bits")]
    LimbOutOfRange { index: usize, value: u32 },
    #[error("shard index {0} does not fit in 24 bits")]
    ShardOutOfRange(u32),
    #[error("no tweak in 0..256 maps the message to a curve point with a signed y")]
    NoTweak,
    #[error("incomplete addition met an exceptional case (equal x coordinates)")]
    ExceptionalAddition,
    #[error("point is not on the curve")]
    NotOnCurve,
    #[error("coordinate {0} is not below the KoalaBear modulus")]
    NonCanonical(u32),
}

/// Helpers shared by the tests of the submodules.
#[cfg(test)]
pub(crate) mod test_util {
    use super::curve::SepticPointKb;
    use super::field::{P, SepticExtension};
    use super::message::Message;
    use p3_koala_bear::KoalaBear;
    use rand::Rng;
    use rand::rngs::StdRng;

    /// `p^7 - k` as little-endian 64-bit limbs (`p^7` has 217 bits).
    pub fn field_order_minus(k: u64) -> [u64; 4] {
        let mut q = [1u64, 0, 0, 0];
        for _ in 0..7 {
            let mut carry = 0u128;
            for limb in q.iter_mut() {
                let v = u128::from(*limb) * u128::from(P) + carry;
                *limb = v as u64;
                carry = v >> 64;
            }
            assert_eq!(carry, 0);
        }
        // p^7 is odd and its low limb is far above k in the tests.
        assert!(q[0] >= k);
        q[0] -= k;
        q
    }

    /// `(p^7 - 1) / 2`.
    pub fn half_field_order_minus_one() -> [u64; 4] {
        let q = field_order_minus(1);
        core::array::from_fn(|i| (q[i] >> 1) | if i + 1 < 4 { q[i + 1] << 63 } else { 0 })
    }

    pub fn random_message(rng: &mut StdRng) -> Message {
        Message::new(core::array::from_fn(|_| rng.random_range(0..1u32 << 16))).unwrap()
    }

    /// A uniformly random abscissa lifted to the curve (positive y).
    pub fn random_point(rng: &mut StdRng) -> SepticPointKb {
        loop {
            let x = SepticExtension(core::array::from_fn(|_| {
                KoalaBear::new(rng.random_range(0..P))
            }));
            if let Some(p) = SepticPointKb::lift_x(x) {
                return p;
            }
        }
    }
}
