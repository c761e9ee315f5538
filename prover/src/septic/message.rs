//! Messages and their injective map to curve points (`docs/MEMORY_DIGEST.md` §2).
//!
//! A message is six 16-bit limbs. Its candidate abscissa is `x = (m_0, ..., m_5, t)`: one limb per
//! coordinate and the tweak `t < 256` alone in the last one. Limbs and tweak are below `p`, so
//! `(m, t) -> x` is injective and needs no carries; in an AIR, `x` is a linear expression in the
//! message and tweak columns ([`encode_x`]).
//!
//! [`map_to_curve`] takes the smallest tweak for which `x` is an abscissa whose root `y` has a
//! defined sign (`y_0 != 0`), and returns the point with the positive `y`. A *send* adds that
//! point to a digest, a *receive* adds its negation.

use p3_field::PrimeCharacteristicRing;
use p3_koala_bear::KoalaBear;

use super::SepticError;
use super::curve::{SepticCurvePoint, SepticPointKb};
use super::field::{HALF_P, SepticExtension, SepticKb, Sign};

/// Limbs per message.
pub const MESSAGE_LIMBS: usize = 6;

/// Bits per limb.
pub const LIMB_BITS: u32 = 16;

/// Number of tweaks tried, `t = 0..256` (one byte, range-checked in the AIR).
pub const TWEAK_COUNT: u32 = 256;

/// Domain tag in the high byte of limb 5 for memory entries (`docs/MEMORY_DIGEST.md` §2.1).
/// Other kinds of cross-shard messages must use other tags.
pub const MEMORY_KIND: u32 = 1;

/// Largest shard index a memory message can carry (24 bits).
pub const MAX_SHARD: u32 = (1 << 24) - 1;

/// Six limbs, each `< 2^16`. The constructor enforces the range, so every `Message` encodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Message([u32; MESSAGE_LIMBS]);

impl Message {
    pub fn new(limbs: [u32; MESSAGE_LIMBS]) -> Result<Self, SepticError> {
        match limbs.iter().position(|&l| l >> LIMB_BITS != 0) {
            Some(index) => Err(SepticError::LimbOutOfRange {
                index,
                value: limbs[index],
            }),
            None => Ok(Self(limbs)),
        }
    }

    pub fn limbs(&self) -> [u32; MESSAGE_LIMBS] {
        self.0
    }
}

/// One row of a shard's memory interface: `addr` held `value` as of shard `shard`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MemoryEntry {
    pub addr: u32,
    pub value: u32,
    pub shard: u32,
}

impl MemoryEntry {
    /// `[addr_lo, addr_hi, value_lo, value_hi, shard_lo, shard_hi | MEMORY_KIND << 8]`: words as
    /// `(lo, hi)` 16-bit limbs, the same split every bus uses, so interface columns feed the
    /// encoding directly. `Err` if the shard index exceeds 24 bits.
    pub fn message(&self) -> Result<Message, SepticError> {
        if self.shard > MAX_SHARD {
            return Err(SepticError::ShardOutOfRange(self.shard));
        }
        Message::new([
            self.addr & 0xffff,
            self.addr >> 16,
            self.value & 0xffff,
            self.value >> 16,
            self.shard & 0xffff,
            (self.shard >> 16) | (MEMORY_KIND << 8),
        ])
    }
}

/// The candidate abscissa `(m_0, ..., m_5, tweak)`, generic so an AIR can use it on expressions.
/// Callers must range-check limbs to 16 bits and the tweak to 8 bits; injectivity rests on it.
pub fn encode_x<T: PrimeCharacteristicRing>(
    limbs: [T; MESSAGE_LIMBS],
    tweak: T,
) -> SepticExtension<T> {
    let [m0, m1, m2, m3, m4, m5] = limbs;
    SepticExtension([m0, m1, m2, m3, m4, m5, tweak])
}

/// Native [`encode_x`].
pub fn encode(message: &Message, tweak: u8) -> SepticKb {
    encode_x(
        message.0.map(KoalaBear::new),
        KoalaBear::new(u32::from(tweak)),
    )
}

/// The inverse of [`encode`] on its image; `None` for any other abscissa.
pub fn decode(x: &SepticKb) -> Option<(Message, u8)> {
    let c = x.to_canonical();
    let tweak = u8::try_from(c[6]).ok()?;
    let limbs: [u32; MESSAGE_LIMBS] = core::array::from_fn(|i| c[i]);
    Some((Message::new(limbs).ok()?, tweak))
}

/// The canonical point of a message and the tweak that produced it: the smallest `t < 256` for
/// which [`SepticPointKb::lift_x`] succeeds; `y` is positive. Each tweak succeeds with
/// probability about 1/2, so `Err(NoTweak)` (all 256 fail) is never expected, but it is an error,
/// not a panic.
pub fn map_to_curve(message: &Message) -> Result<(SepticPointKb, u8), SepticError> {
    (0..=u8::MAX)
        .find_map(|t| SepticPointKb::lift_x(encode(message, t)).map(|p| (p, t)))
        .ok_or(SepticError::NoTweak)
}

/// The point a send adds: the canonical point (`y` positive).
pub fn send_point(message: &Message) -> Result<SepticPointKb, SepticError> {
    Ok(map_to_curve(message)?.0)
}

/// The point a receive adds: the negated canonical point (`y` negative).
pub fn receive_point(message: &Message) -> Result<SepticPointKb, SepticError> {
    Ok(map_to_curve(message)?.0.neg())
}

/// `y_0 = offset + r` with `0 <= r < (p-1)/2` is the AIR's sign check: offset `1` for a send
/// (positive `y`), `(p+1)/2` for a receive (negative `y`).
pub fn sign_offset(sign: Sign) -> u32 {
    match sign {
        Sign::Positive => 1,
        Sign::Negative => HALF_P + 1,
    }
}

/// The range witness `r = y_0 - offset` for a point's sign, `None` if `y_0 = 0`.
pub fn sign_witness(point: &SepticPointKb) -> Option<(Sign, u32)> {
    let sign = point.y.sign()?;
    Some((sign, point.y.to_canonical()[0] - sign_offset(sign)))
}

/// Everything an AIR row needs to prove `point = ±map(message, tweak)`, for trace generation.
/// The AIR constrains: limbs < 2^16 and tweak < 2^8 (range checks); `x = encode_x(limbs, tweak)`;
/// `on_curve_residual(x, y) = 0`; `y_0 = sign_offset(sign) + r` with `r < (p-1)/2`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapWitness {
    pub tweak: u8,
    pub point: SepticPointKb,
    pub sign: Sign,
    pub sign_range: u32,
}

/// The [`MapWitness`] of a send (`negate = false`) or receive (`negate = true`).
pub fn map_witness(message: &Message, negate: bool) -> Result<MapWitness, SepticError> {
    let (point, tweak) = map_to_curve(message)?;
    let point = if negate { point.neg() } else { point };
    // lift_x never returns y_0 = 0, so the sign exists.
    let (sign, sign_range) = sign_witness(&point).ok_or(SepticError::NoTweak)?;
    Ok(MapWitness {
        tweak,
        point,
        sign,
        sign_range,
    })
}

impl<T: PrimeCharacteristicRing> SepticCurvePoint<T> {
    /// The AIR form of the map check for given columns: on-curve residual of
    /// `(encode_x(limbs, tweak), y)`. Zero iff `y^2` matches; the sign and range checks are
    /// separate.
    pub fn map_residual(
        limbs: [T; MESSAGE_LIMBS],
        tweak: T,
        y: SepticExtension<T>,
    ) -> SepticExtension<T> {
        SepticCurvePoint {
            x: encode_x(limbs, tweak),
            y,
        }
        .on_curve_residual()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::septic::test_util::random_message;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use std::collections::HashSet;

    #[test]
    fn out_of_range_inputs_are_errors() {
        assert_eq!(
            Message::new([0, 0, 1 << 16, 0, 0, 0]),
            Err(SepticError::LimbOutOfRange {
                index: 2,
                value: 1 << 16
            })
        );
        assert!(Message::new([0xffff; 6]).is_ok());
        let entry = MemoryEntry {
            addr: 4,
            value: 5,
            shard: 1 << 24,
        };
        assert_eq!(entry.message(), Err(SepticError::ShardOutOfRange(1 << 24)));
        let ok = MemoryEntry {
            shard: MAX_SHARD,
            ..entry
        };
        assert!(ok.message().is_ok());
    }

    #[test]
    fn memory_layout() {
        let m = MemoryEntry {
            addr: 0xdead_beef,
            value: 0x0123_4567,
            shard: 0x00ab_cdef,
        }
        .message()
        .unwrap();
        assert_eq!(m.limbs(), [0xbeef, 0xdead, 0x4567, 0x0123, 0xcdef, 0x01ab]);
    }

    #[test]
    fn encoding_is_injective_and_decodes() {
        let mut rng = StdRng::seed_from_u64(20);
        let mut seen = HashSet::new();
        for _ in 0..500 {
            let m = random_message(&mut rng);
            let t: u8 = rng.random();
            let x = encode(&m, t);
            assert_eq!(decode(&x), Some((m, t)));
            seen.insert(((m, t), x.to_canonical()));
        }
        // Distinct (message, tweak) pairs give distinct abscissas.
        let pairs: HashSet<_> = seen.iter().map(|(pair, _)| *pair).collect();
        let xs: HashSet<_> = seen.iter().map(|(_, x)| *x).collect();
        assert_eq!(pairs.len(), xs.len());
        // Neighbouring pairs differ.
        let m = random_message(&mut rng);
        assert_ne!(encode(&m, 0), encode(&m, 1));
        let mut l = m.limbs();
        l[0] ^= 1;
        assert_ne!(encode(&m, 0), encode(&Message::new(l).unwrap(), 0));
        // Abscissas outside the image are rejected by decode.
        let mut c = encode(&m, 3).to_canonical();
        c[6] = 256;
        assert_eq!(decode(&SepticKb::from_canonical(c).unwrap()), None);
        c[6] = 3;
        c[2] = 1 << 16;
        assert_eq!(decode(&SepticKb::from_canonical(c).unwrap()), None);
    }

    #[test]
    fn distinct_memory_entries_give_distinct_messages() {
        let base = MemoryEntry {
            addr: 0x1000,
            value: 7,
            shard: 3,
        };
        let variants = [
            base,
            MemoryEntry {
                addr: 0x1004,
                ..base
            },
            MemoryEntry { value: 8, ..base },
            MemoryEntry { shard: 4, ..base },
            MemoryEntry {
                shard: 3 + (1 << 16),
                ..base
            },
        ];
        let msgs: HashSet<_> = variants.iter().map(|e| e.message().unwrap()).collect();
        assert_eq!(msgs.len(), variants.len());
    }

    #[test]
    fn map_to_curve_is_canonical() {
        let mut rng = StdRng::seed_from_u64(21);
        for _ in 0..30 {
            let m = random_message(&mut rng);
            let (p, t) = map_to_curve(&m).unwrap();
            assert!(p.is_on_curve());
            assert_eq!(p.x, encode(&m, t));
            assert_eq!(p.y.sign(), Some(Sign::Positive));
            // Smaller tweaks really fail.
            for s in 0..t {
                assert_eq!(SepticPointKb::lift_x(encode(&m, s)), None);
            }
            assert_eq!(send_point(&m).unwrap(), p);
            assert_eq!(receive_point(&m).unwrap(), p.neg());
        }
    }

    #[test]
    fn witnesses_satisfy_the_air_form() {
        let mut rng = StdRng::seed_from_u64(22);
        for negate in [false, true] {
            let m = random_message(&mut rng);
            let w = map_witness(&m, negate).unwrap();
            let limbs = m.limbs().map(KoalaBear::new);
            let tweak = KoalaBear::new(u32::from(w.tweak));
            assert!(SepticPointKb::map_residual(limbs, tweak, w.point.y).is_zero());
            assert!(w.sign_range < HALF_P);
            assert_eq!(
                w.point.y.to_canonical()[0],
                sign_offset(w.sign) + w.sign_range
            );
            let expected = if negate {
                Sign::Negative
            } else {
                Sign::Positive
            };
            assert_eq!(w.sign, expected);
            // Swapping the root flips the sign class, so the AIR's sign check rejects it.
            let other = sign_witness(&w.point.neg()).unwrap();
            assert_ne!(other.0, w.sign);
        }
    }
}
