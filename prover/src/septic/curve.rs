//! The curve `E: y^2 = x^3 + 3u x - 3` over [`SepticExtension`], in affine coordinates.
//!
//! `#E(F_{p^7})` is the prime [`CURVE_ORDER`] (cofactor 1; see `docs/MEMORY_DIGEST.md` for how it
//! was obtained and the test that checks it). In particular there is no point of order 2, so
//! `x^3 + 3u x - 3` has no root and every affine point has `y != 0`.
//!
//! Additions use the incomplete chord formula, which an AIR can express with one slope witness;
//! its exceptional inputs (`x1 == x2`: doubling or `P + (-P)`) return
//! [`SepticError::ExceptionalAddition`]. Complete arithmetic ([`add_complete`], [`scalar_mul`]) is
//! native only and serves tests and constant derivation.

use p3_field::PrimeCharacteristicRing;
use p3_koala_bear::KoalaBear;

use super::SepticError;
use super::field::{P, SepticExtension, SepticKb, Sign};

/// The number of points of `E(F_{p^7})`, including infinity, little-endian 64-bit limbs:
/// `0x1e4a5d4_7579fd9acc910bb6_89b42f95024754a8_d7f542287a22e487`
/// `= 199372529839252601278447397890875723011140055175072723225727394951`, a 217-bit prime.
pub const CURVE_ORDER: [u64; 4] = [
    0xd7f5_4228_7a22_e487,
    0x89b4_2f95_0247_54a8,
    0x7579_fd9a_cc91_0bb6,
    0x01e4_a5d4,
];

/// An affine point. The point at infinity has no affine form; APIs that can produce it use
/// `Option` (native) or must exclude it by construction (AIR).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SepticCurvePoint<T> {
    pub x: SepticExtension<T>,
    pub y: SepticExtension<T>,
}

/// The native instance.
pub type SepticPointKb = SepticCurvePoint<KoalaBear>;

impl<T: PrimeCharacteristicRing> SepticCurvePoint<T> {
    /// The right-hand side `x^3 + 3u x - 3`.
    pub fn curve_rhs(x: &SepticExtension<T>) -> SepticExtension<T> {
        let three = T::from_u8(3);
        x.cube() + x.mul_by_u().mul_base(&three) - SepticExtension::from_base(three)
    }

    /// `y^2 - (x^3 + 3u x - 3)`: zero iff the point is on the curve. Degree 3 in `x`, 2 in `y`.
    pub fn on_curve_residual(&self) -> SepticExtension<T> {
        self.y.square() - Self::curve_rhs(&self.x)
    }

    /// `-(x, y) = (x, -y)`.
    pub fn neg(&self) -> Self {
        Self {
            x: self.x.clone(),
            y: -self.y.clone(),
        }
    }

    /// Residuals of `p3 = p1 + p2` with slope witness `lambda`, each of degree at most 2:
    ///
    /// - `lambda (x2 - x1) - (y2 - y1)`
    /// - `lambda^2 - x1 - x2 - x3`
    /// - `lambda (x1 - x3) - y1 - y3`
    ///
    /// They pin `(lambda, p3)` uniquely **only when `x1 != x2`**: for `p1 == p2` the first
    /// residual is `0` for every `lambda` and `p3` becomes free. An AIR must therefore also
    /// prove `x2 - x1 != 0`, e.g. with [`Self::nonzero_residual`] on an inverse witness.
    pub fn addition_residuals(
        p1: &Self,
        p2: &Self,
        p3: &Self,
        lambda: &SepticExtension<T>,
    ) -> [SepticExtension<T>; 3] {
        let dx = p2.x.clone() - p1.x.clone();
        let dy = p2.y.clone() - p1.y.clone();
        [
            lambda.clone() * dx - dy,
            lambda.square() - p1.x.clone() - p2.x.clone() - p3.x.clone(),
            lambda.clone() * (p1.x.clone() - p3.x.clone()) - p1.y.clone() - p3.y.clone(),
        ]
    }

    /// `a * inv - 1`: zero iff `inv` is the inverse of `a`, which proves `a != 0`.
    pub fn nonzero_residual(
        a: &SepticExtension<T>,
        inv: &SepticExtension<T>,
    ) -> SepticExtension<T> {
        a.clone() * inv.clone() - SepticExtension::one()
    }
}

impl SepticCurvePoint<KoalaBear> {
    /// Builds a point from canonical coordinates, checking range and curve membership.
    pub fn from_canonical(x: [u32; 7], y: [u32; 7]) -> Result<Self, SepticError> {
        let coord = |c: [u32; 7]| {
            SepticKb::from_canonical(c).ok_or_else(|| {
                SepticError::NonCanonical(c.into_iter().find(|&v| v >= P).unwrap_or(P))
            })
        };
        let point = Self {
            x: coord(x)?,
            y: coord(y)?,
        };
        if point.is_on_curve() {
            Ok(point)
        } else {
            Err(SepticError::NotOnCurve)
        }
    }

    /// Canonical coordinates `(x, y)`.
    pub fn to_canonical(&self) -> ([u32; 7], [u32; 7]) {
        (self.x.to_canonical(), self.y.to_canonical())
    }

    pub fn is_on_curve(&self) -> bool {
        self.on_curve_residual().is_zero()
    }

    /// The point with abscissa `x` whose `y` is [`Sign::Positive`]; `None` when `x` is not an
    /// abscissa or when the root's sign coordinate `y_0` is zero (then `y` and `-y` could not be
    /// told apart by sign, so such an `x` is unusable for send/receive encoding).
    pub fn lift_x(x: SepticKb) -> Option<Self> {
        let y = Self::curve_rhs(&x).sqrt()?;
        let y = match y.sign()? {
            Sign::Positive => y,
            Sign::Negative => -y,
        };
        Some(Self { x, y })
    }

    /// The chord slope `(y2 - y1) / (x2 - x1)`, the AIR's witness for [`Self::add`].
    pub fn slope(&self, other: &Self) -> Result<SepticKb, SepticError> {
        let inv = (other.x - self.x)
            .try_inverse()
            .ok_or(SepticError::ExceptionalAddition)?;
        Ok((other.y - self.y) * inv)
    }

    /// Incomplete addition: `Err` when `x1 == x2` (doubling or a sum at infinity).
    pub fn add(&self, other: &Self) -> Result<Self, SepticError> {
        Ok(self.add_with_slope(other)?.0)
    }

    /// [`Self::add`], also returning the slope (a trace-generation helper).
    pub fn add_with_slope(&self, other: &Self) -> Result<(Self, SepticKb), SepticError> {
        let lambda = self.slope(other)?;
        let x3 = lambda.square() - self.x - other.x;
        let y3 = lambda * (self.x - x3) - self.y;
        Ok((Self { x: x3, y: y3 }, lambda))
    }

    /// `self - other` with the incomplete formula.
    pub fn sub(&self, other: &Self) -> Result<Self, SepticError> {
        self.add(&other.neg())
    }

    /// Tangent doubling, `lambda = (3x^2 + 3u) / 2y`. `Err` only for `y = 0`, which no point of
    /// this curve has (odd group order), but the input is not trusted to be on the curve.
    pub fn double(&self) -> Result<Self, SepticError> {
        let inv = self
            .y
            .double()
            .try_inverse()
            .ok_or(SepticError::ExceptionalAddition)?;
        let three = KoalaBear::from_u8(3);
        let num = self.x.square().mul_base(&three) + SepticKb::u().mul_base(&three);
        let lambda = num * inv;
        let x3 = lambda.square() - self.x.double();
        let y3 = lambda * (self.x - x3) - self.y;
        Ok(Self { x: x3, y: y3 })
    }
}

/// Complete addition, `None` standing for the point at infinity.
pub fn add_complete(a: Option<SepticPointKb>, b: Option<SepticPointKb>) -> Option<SepticPointKb> {
    match (a, b) {
        (None, q) | (q, None) => q,
        (Some(p), Some(q)) if p.x != q.x => p.add(&q).ok(),
        // Same abscissa: q = p doubles (y = 0 would give infinity), q = -p gives infinity.
        (Some(p), Some(q)) if p.y == q.y => p.double().ok(),
        _ => None,
    }
}

/// `k * p` by double-and-add over the bits of `k` (little-endian 64-bit limbs). Native only.
pub fn scalar_mul(p: &SepticPointKb, k: &[u64]) -> Option<SepticPointKb> {
    let mut acc = None;
    for limb in k.iter().rev() {
        for bit in (0..64).rev() {
            acc = add_complete(acc, acc);
            if (limb >> bit) & 1 == 1 {
                acc = add_complete(acc, Some(*p));
            }
        }
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::septic::test_util::random_point;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn random_points_are_on_curve_with_positive_y() {
        let mut rng = StdRng::seed_from_u64(10);
        for _ in 0..20 {
            let p = random_point(&mut rng);
            assert!(p.is_on_curve());
            assert_eq!(p.y.sign(), Some(Sign::Positive));
            assert!(p.neg().is_on_curve());
            assert_eq!(p.neg().y.sign(), Some(Sign::Negative));
        }
    }

    #[test]
    fn group_law_closure_commutativity_associativity() {
        let mut rng = StdRng::seed_from_u64(11);
        for _ in 0..10 {
            let (a, b, c) = (
                random_point(&mut rng),
                random_point(&mut rng),
                random_point(&mut rng),
            );
            let ab = a.add(&b).unwrap();
            assert!(ab.is_on_curve());
            assert_eq!(ab, b.add(&a).unwrap());
            let left = ab.add(&c).unwrap();
            let right = a.add(&b.add(&c).unwrap()).unwrap();
            assert_eq!(left, right);
            assert_eq!(ab.sub(&b).unwrap(), a);
            let aa = a.double().unwrap();
            assert!(aa.is_on_curve());
            assert_eq!(aa.sub(&a).unwrap(), a);
            assert_eq!(add_complete(Some(a), Some(a)), Some(aa));
            assert_eq!(add_complete(Some(a), Some(a.neg())), None);
            assert_eq!(add_complete(None, Some(a)), Some(a));
        }
    }

    #[test]
    fn incomplete_addition_reports_exceptional_cases() {
        let mut rng = StdRng::seed_from_u64(12);
        let p = random_point(&mut rng);
        assert_eq!(p.add(&p), Err(SepticError::ExceptionalAddition));
        assert_eq!(p.add(&p.neg()), Err(SepticError::ExceptionalAddition));
        assert_eq!(p.sub(&p), Err(SepticError::ExceptionalAddition));
        let flat = SepticPointKb {
            x: p.x,
            y: SepticKb::zero(),
        };
        assert_eq!(flat.double(), Err(SepticError::ExceptionalAddition));
    }

    /// `n P = O` for random `P` with `n` prime proves `ord(P) = n`; as `n > 4 sqrt(p^7)`, the only
    /// multiple of `n` in the Hasse interval `p^7 + 1 +- 2 sqrt(p^7)` is `n`, so `#E = n`.
    /// (Primality of `n` itself was checked with PARI/GP, see `docs/MEMORY_DIGEST.md`.)
    #[test]
    fn curve_order_annihilates_random_points() {
        let mut rng = StdRng::seed_from_u64(13);
        for _ in 0..3 {
            let p = random_point(&mut rng);
            assert_eq!(scalar_mul(&p, &CURVE_ORDER), None);
            let mut n_minus_1 = CURVE_ORDER;
            n_minus_1[0] -= 1; // low limb is odd, no borrow
            assert_eq!(scalar_mul(&p, &n_minus_1), Some(p.neg()));
            assert_eq!(scalar_mul(&p, &[2]), Some(p.double().unwrap()));
        }
    }

    #[test]
    fn addition_residuals_pin_the_sum() {
        let mut rng = StdRng::seed_from_u64(14);
        let a = random_point(&mut rng);
        let b = random_point(&mut rng);
        let (sum, lambda) = a.add_with_slope(&b).unwrap();
        let zero = SepticKb::zero();
        for r in SepticPointKb::addition_residuals(&a, &b, &sum, &lambda) {
            assert_eq!(r, zero);
        }
        // A wrong result or slope is caught.
        let wrong = sum.neg();
        assert!(
            SepticPointKb::addition_residuals(&a, &b, &wrong, &lambda)
                .iter()
                .any(|r| *r != zero)
        );
        let wrong_lambda = lambda + SepticKb::one();
        assert!(
            SepticPointKb::addition_residuals(&a, &b, &sum, &wrong_lambda)
                .iter()
                .any(|r| *r != zero)
        );
        // The documented hole: with p1 == p2 and a free slope, any p3 = (l^2 - 2x, ...) passes,
        // which is why the AIR also needs the nonzero proof of x2 - x1.
        let free = SepticKb::from_base(KoalaBear::new(5));
        let forged = SepticPointKb {
            x: free.square() - a.x - a.x,
            y: free * (a.x - (free.square() - a.x - a.x)) - a.y,
        };
        for r in SepticPointKb::addition_residuals(&a, &a, &forged, &free) {
            assert_eq!(r, zero);
        }
        let dx = b.x - a.x;
        let inv = dx.try_inverse().unwrap();
        assert_eq!(SepticPointKb::nonzero_residual(&dx, &inv), zero);
        assert_ne!(SepticPointKb::nonzero_residual(&zero, &inv), zero);
    }

    /// The generic formulas instantiate on symbolic AIR expressions, at the degrees the docs
    /// promise: addition residuals and the nonzero check of degree 2, the map check of degree 3.
    #[test]
    fn generic_formulas_build_low_degree_air_expressions() {
        use crate::septic::message::MESSAGE_LIMBS;
        use p3_air::symbolic::{BaseEntry, SymbolicExpression, SymbolicVariable};
        type Expr = SymbolicExpression<KoalaBear>;
        let column = |i: usize| Expr::from(SymbolicVariable::new(BaseEntry::Main { offset: 0 }, i));
        let ext =
            |start: usize| SepticExtension::<Expr>(core::array::from_fn(|i| column(start + i)));
        let point = |start: usize| SepticCurvePoint {
            x: ext(start),
            y: ext(start + 7),
        };
        let (p1, p2, p3, lambda) = (point(0), point(14), point(28), ext(42));
        let max_degree =
            |e: &SepticExtension<Expr>| e.0.iter().map(|c| c.degree_multiple()).max().unwrap();
        for r in SepticCurvePoint::addition_residuals(&p1, &p2, &p3, &lambda) {
            assert_eq!(max_degree(&r), 2);
        }
        let dx = p2.x.clone() - p1.x.clone();
        assert_eq!(
            max_degree(&SepticCurvePoint::nonzero_residual(&dx, &ext(49))),
            2
        );
        let limbs: [Expr; MESSAGE_LIMBS] = core::array::from_fn(|i| column(56 + i));
        let residual = SepticCurvePoint::map_residual(limbs, column(62), ext(63));
        assert_eq!(max_degree(&residual), 3);
    }

    #[test]
    fn from_canonical_validates() {
        let mut rng = StdRng::seed_from_u64(15);
        let p = random_point(&mut rng);
        let (x, y) = p.to_canonical();
        assert_eq!(SepticPointKb::from_canonical(x, y), Ok(p));
        let mut bad_y = y;
        bad_y[3] = (bad_y[3] + 1) % P;
        assert_eq!(
            SepticPointKb::from_canonical(x, bad_y),
            Err(SepticError::NotOnCurve)
        );
        let mut big = x;
        big[0] = P;
        assert_eq!(
            SepticPointKb::from_canonical(big, y),
            Err(SepticError::NonCanonical(P))
        );
    }
}
