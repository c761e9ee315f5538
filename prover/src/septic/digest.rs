//! The multiset digest: a curve point in *offset form* (`docs/MEMORY_DIGEST.md` §2.4).
//!
//! A digest of the signed multiset `{±P_i}` is stored as `Z + sum(±P_i)`, where `Z` =
//! [`digest_offset`] is a fixed point with no known relation to message points. So the empty
//! multiset ("zero digest") is `Z`, an ordinary affine point that can be a public value, and a
//! running sum is never the point at infinity unless someone finds a relation involving `Z`.
//!
//! Every update uses the incomplete chord formula exactly as an AIR will, and returns
//! [`SepticError::ExceptionalAddition`] instead of silently switching formulas. Digests of
//! different shards are summed from a second fixed point `S` = [`sum_start`]:
//! `S + (D_1 - Z) + ... + (D_k - Z) + Z - S`, so that equal or opposite digests (two empty shards,
//! say) never meet in one addition.

use std::sync::OnceLock;

use p3_koala_bear::KoalaBear;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::SepticError;
use super::curve::SepticPointKb;
use super::field::{P, SepticExtension};
use super::message::{Message, receive_point, send_point};

/// Domain label of [`digest_offset`].
pub const OFFSET_LABEL: &[u8] = b"zkmips/septic-digest/offset-Z";

/// Domain label of [`sum_start`].
pub const SUM_START_LABEL: &[u8] = b"zkmips/septic-digest/sum-start-S";

/// A point derived from a label: the first counter `c = 0, 1, ...` for which
/// `x_i = SHA-256(label || c as u32 LE || i as u8)[0..8] as u64 LE mod p` (i = 0..7) is an
/// abscissa with a signed root, lifted to its positive `y`. Such an `x` is pseudo-random in
/// `F_{p^7}`, far outside the structured set of message abscissas.
pub fn derive_point(label: &[u8]) -> SepticPointKb {
    let mut counter: u32 = 0;
    loop {
        let x = SepticExtension(core::array::from_fn(|i| {
            let h = Sha256::new()
                .chain_update(label)
                .chain_update(counter.to_le_bytes())
                .chain_update([i as u8])
                .finalize();
            let mut word = [0u8; 8];
            word.copy_from_slice(&h[..8]);
            // 2^64 mod p is tiny next to p, so the bias is about 2^-33.
            KoalaBear::new((u64::from_le_bytes(word) % u64::from(P)) as u32)
        }));
        if let Some(point) = SepticPointKb::lift_x(x) {
            return point;
        }
        // About half of all x qualify, so this ends after a few counters (deterministically).
        counter = counter.wrapping_add(1);
    }
}

/// `Z`, the zero digest.
pub fn digest_offset() -> SepticPointKb {
    static Z: OnceLock<SepticPointKb> = OnceLock::new();
    *Z.get_or_init(|| derive_point(OFFSET_LABEL))
}

/// `S`, the start of a sum of digests.
pub fn sum_start() -> SepticPointKb {
    static S: OnceLock<SepticPointKb> = OnceLock::new();
    *S.get_or_init(|| derive_point(SUM_START_LABEL))
}

/// A multiset digest in offset form (see the module docs). Serialized as canonical coordinates
/// `{x: [u32; 7], y: [u32; 7]}`; deserialization rejects non-canonical values and points off the
/// curve.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "DigestCoords", into = "DigestCoords")]
pub struct SepticDigest {
    point: SepticPointKb,
}

#[derive(Clone, Copy, Serialize, Deserialize)]
struct DigestCoords {
    x: [u32; 7],
    y: [u32; 7],
}

impl From<SepticDigest> for DigestCoords {
    fn from(d: SepticDigest) -> Self {
        let (x, y) = d.point.to_canonical();
        Self { x, y }
    }
}

impl TryFrom<DigestCoords> for SepticDigest {
    type Error = SepticError;
    fn try_from(c: DigestCoords) -> Result<Self, SepticError> {
        SepticDigest::from_point(SepticPointKb::from_canonical(c.x, c.y)?)
    }
}

impl Default for SepticDigest {
    fn default() -> Self {
        Self::zero()
    }
}

impl SepticDigest {
    /// The digest of the empty multiset, `Z`.
    pub fn zero() -> Self {
        Self {
            point: digest_offset(),
        }
    }

    /// Whether the signed multiset is empty (every send cancelled by a receive): `point == Z`.
    pub fn is_zero(&self) -> bool {
        self.point == digest_offset()
    }

    /// The offset-form point, `Z + sum`: what a shard exposes as public values.
    pub fn point(&self) -> &SepticPointKb {
        &self.point
    }

    /// A digest from its offset-form point (e.g. read from public values); must be on the curve.
    pub fn from_point(point: SepticPointKb) -> Result<Self, SepticError> {
        if point.is_on_curve() {
            Ok(Self { point })
        } else {
            Err(SepticError::NotOnCurve)
        }
    }

    /// Adds a point with one incomplete addition. On error the digest is unchanged.
    pub fn add_point(&mut self, point: &SepticPointKb) -> Result<(), SepticError> {
        self.point = self.point.add(point)?;
        Ok(())
    }

    /// Adds `+map(message)`.
    pub fn add_send(&mut self, message: &Message) -> Result<(), SepticError> {
        self.add_point(&send_point(message)?)
    }

    /// Adds `-map(message)`.
    pub fn add_receive(&mut self, message: &Message) -> Result<(), SepticError> {
        self.add_point(&receive_point(message)?)
    }

    /// The digest of the union of two signed multisets (`self + other - Z`), computed along the
    /// chain described in the module docs.
    pub fn combine(&self, other: &Self) -> Result<Self, SepticError> {
        Self::sum([self, other])
    }

    /// The digest of the union of many signed multisets:
    /// `S + (D_1 - Z) + ... + (D_k - Z) + Z - S`, each step one incomplete addition.
    pub fn sum<'a>(digests: impl IntoIterator<Item = &'a Self>) -> Result<Self, SepticError> {
        let z = digest_offset();
        let s = sum_start();
        let mut acc = s;
        for d in digests {
            acc = acc.add(&d.point)?.sub(&z)?;
        }
        let point = acc.add(&z)?.sub(&s)?;
        Ok(Self { point })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::septic::curve::{CURVE_ORDER, add_complete, scalar_mul};
    use crate::septic::message::{MemoryEntry, map_to_curve};
    use crate::septic::test_util::random_message;
    use rand::rngs::StdRng;
    use rand::seq::SliceRandom;
    use rand::{Rng, SeedableRng};

    fn digest_of(sends: &[Message], receives: &[Message]) -> SepticDigest {
        let mut d = SepticDigest::zero();
        for m in sends {
            d.add_send(m).unwrap();
        }
        for m in receives {
            d.add_receive(m).unwrap();
        }
        d
    }

    /// The same digest computed with complete arithmetic, as an independent reference.
    fn reference(sends: &[Message], receives: &[Message]) -> Option<SepticPointKb> {
        let mut acc = Some(digest_offset());
        for m in sends {
            acc = add_complete(acc, Some(map_to_curve(m).unwrap().0));
        }
        for m in receives {
            acc = add_complete(acc, Some(map_to_curve(m).unwrap().0.neg()));
        }
        acc
    }

    #[test]
    fn fixed_points_are_valid_and_distinct() {
        let z = digest_offset();
        let s = sum_start();
        assert!(z.is_on_curve() && s.is_on_curve());
        assert_ne!(z.x, s.x);
        // Neither is infinity-adjacent: both have full order (the group order is prime).
        assert_eq!(scalar_mul(&z, &CURVE_ORDER), None);
        assert_eq!(derive_point(OFFSET_LABEL), z);
        assert!(SepticDigest::zero().is_zero());
        assert_eq!(SepticDigest::default(), SepticDigest::zero());
    }

    #[test]
    fn send_then_receive_cancels() {
        let mut rng = StdRng::seed_from_u64(30);
        let a = random_message(&mut rng);
        let b = random_message(&mut rng);
        let mut d = SepticDigest::zero();
        d.add_send(&a).unwrap();
        assert!(!d.is_zero());
        d.add_send(&b).unwrap();
        d.add_receive(&a).unwrap();
        assert!(!d.is_zero());
        d.add_receive(&b).unwrap();
        assert!(d.is_zero());
    }

    #[test]
    fn order_does_not_matter() {
        let mut rng = StdRng::seed_from_u64(31);
        let mut sends: Vec<Message> = (0..12).map(|_| random_message(&mut rng)).collect();
        sends.push(sends[0]); // a repeated element: multisets, not sets
        let receives: Vec<Message> = (0..5).map(|_| random_message(&mut rng)).collect();
        let d = digest_of(&sends, &receives);
        assert_eq!(Some(*d.point()), reference(&sends, &receives));
        for _ in 0..3 {
            let mut s = sends.clone();
            let mut r = receives.clone();
            s.shuffle(&mut rng);
            r.shuffle(&mut rng);
            assert_eq!(digest_of(&s, &r), d);
            // Interleaving sends and receives does not matter either.
            let mut e = SepticDigest::zero();
            for (m, is_send) in s
                .iter()
                .map(|m| (m, true))
                .chain(r.iter().map(|m| (m, false)))
                .rev()
            {
                if is_send {
                    e.add_send(m).unwrap();
                } else {
                    e.add_receive(m).unwrap();
                }
            }
            assert_eq!(e, d);
        }
    }

    #[test]
    fn different_multisets_give_different_digests() {
        let mut rng = StdRng::seed_from_u64(32);
        for _ in 0..10 {
            let sends: Vec<Message> = (0..8).map(|_| random_message(&mut rng)).collect();
            let d = digest_of(&sends, &[]);
            // Replace one element.
            let mut changed = sends.clone();
            let i = rng.random_range(0..changed.len());
            changed[i] = random_message(&mut rng);
            assert_ne!(digest_of(&changed, &[]), d);
            // Change one multiplicity.
            let mut doubled = sends.clone();
            doubled.push(sends[i]);
            assert_ne!(digest_of(&doubled, &[]), d);
            // A send is not a receive.
            assert_ne!(digest_of(&sends[1..], &sends[..1]), d);
        }
        // Memory entries differing only in value or shard do not cancel.
        let e = MemoryEntry {
            addr: 0x40,
            value: 1,
            shard: 2,
        };
        let f = MemoryEntry { value: 2, ..e };
        let g = MemoryEntry { shard: 3, ..e };
        for other in [f, g] {
            let d = digest_of(&[e.message().unwrap()], &[other.message().unwrap()]);
            assert!(!d.is_zero());
        }
    }

    #[test]
    fn combine_matches_union_and_handles_equal_digests() {
        let mut rng = StdRng::seed_from_u64(33);
        let a: Vec<Message> = (0..4).map(|_| random_message(&mut rng)).collect();
        let b: Vec<Message> = (0..3).map(|_| random_message(&mut rng)).collect();
        let da = digest_of(&a, &[]);
        let db = digest_of(&b, &a[..2]);
        let union = digest_of(&[a.clone(), b.clone()].concat(), &a[..2]);
        assert_eq!(da.combine(&db).unwrap(), union);
        assert_eq!(db.combine(&da).unwrap(), union);
        // Two empty shards, and a digest with itself: the start point keeps these regular.
        let zero = SepticDigest::zero();
        assert!(zero.combine(&zero).unwrap().is_zero());
        assert_eq!(da.combine(&zero).unwrap(), da);
        assert_eq!(
            da.combine(&da).unwrap(),
            digest_of(&[a.clone(), a.clone()].concat(), &[])
        );
        assert!(SepticDigest::sum([]).unwrap().is_zero());
        // Shards that cancel across each other: one sends, the other receives.
        let sender = digest_of(&b, &[]);
        let receiver = digest_of(&[], &b);
        assert!(sender.combine(&receiver).unwrap().is_zero());
        let total = SepticDigest::sum([&da, &db, &sender, &receiver]).unwrap();
        assert_eq!(total, union);
    }

    #[test]
    fn exceptional_case_is_an_error_and_leaves_the_digest_unchanged() {
        let mut rng = StdRng::seed_from_u64(34);
        let m = random_message(&mut rng);
        let p = send_point(&m).unwrap();
        // A digest whose running point equals the next point to add (a doubling).
        let mut d = SepticDigest::from_point(p).unwrap();
        assert_eq!(d.add_send(&m), Err(SepticError::ExceptionalAddition));
        assert_eq!(d.add_receive(&m), Err(SepticError::ExceptionalAddition));
        assert_eq!(*d.point(), p);
        // Summing a digest equal to -S hits the chain's first exceptional case.
        let neg_s = SepticDigest::from_point(sum_start().neg()).unwrap();
        assert_eq!(
            SepticDigest::sum([&neg_s]),
            Err(SepticError::ExceptionalAddition)
        );
    }

    #[test]
    fn serde_round_trip_and_validation() {
        let mut rng = StdRng::seed_from_u64(35);
        let d = digest_of(&[random_message(&mut rng)], &[]);
        let bytes = postcard::to_allocvec(&d).unwrap();
        assert_eq!(postcard::from_bytes::<SepticDigest>(&bytes).unwrap(), d);
        // Off-curve and non-canonical coordinates are rejected.
        let (x, mut y) = d.point().to_canonical();
        y[0] = (y[0] + 1) % P;
        let bad = postcard::to_allocvec(&DigestCoords { x, y }).unwrap();
        assert!(postcard::from_bytes::<SepticDigest>(&bad).is_err());
        let mut x2 = x;
        x2[5] = u32::MAX;
        let bad = postcard::to_allocvec(&DigestCoords { x: x2, y }).unwrap();
        assert!(postcard::from_bytes::<SepticDigest>(&bad).is_err());
        let off_curve = SepticPointKb {
            x: SepticExtension::from_canonical(x).unwrap(),
            y: SepticExtension::from_canonical(y).unwrap(),
        };
        assert_eq!(
            SepticDigest::from_point(off_curve),
            Err(SepticError::NotOnCurve)
        );
    }
}
