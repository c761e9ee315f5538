//! The septic extension `F_{p^7} = F_p[u] / (u^7 + 2u - 8)` of KoalaBear.
//!
//! Ring operations are generic over [`PrimeCharacteristicRing`], so the same formulas evaluate
//! natively on [`KoalaBear`] and symbolically on an AIR's `AB::Expr`. Inversion, square roots and
//! the Frobenius map only exist for the native [`KoalaBear`] instance.

use core::ops::{Add, AddAssign, Mul, MulAssign, Neg, Sub, SubAssign};
use std::sync::OnceLock;

use p3_field::{Field, PrimeCharacteristicRing, PrimeField32};
use p3_koala_bear::KoalaBear;

/// Extension degree.
pub const DEGREE: usize = 7;

/// The KoalaBear modulus `p = 2^31 - 2^24 + 1`.
pub const P: u32 = 0x7f00_0001;

/// `(p - 1) / 2 = 2^30 - 2^23`: the largest "positive" value of a sign coordinate.
pub const HALF_P: u32 = (P - 1) / 2;

/// An element `a_0 + a_1 u + ... + a_6 u^6`, coefficients in increasing degree.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SepticExtension<T>(pub [T; DEGREE]);

/// The native instance.
pub type SepticKb = SepticExtension<KoalaBear>;

impl<T: PrimeCharacteristicRing> SepticExtension<T> {
    /// The additive identity.
    pub fn zero() -> Self {
        Self::from_base(T::ZERO)
    }

    /// The multiplicative identity.
    pub fn one() -> Self {
        Self::from_base(T::ONE)
    }

    /// The base-field element `c` seen in the extension.
    pub fn from_base(c: T) -> Self {
        let mut coeffs: [T; DEGREE] = core::array::from_fn(|_| T::ZERO);
        coeffs[0] = c;
        Self(coeffs)
    }

    /// The generator `u` of the extension.
    pub fn u() -> Self {
        let mut coeffs: [T; DEGREE] = core::array::from_fn(|_| T::ZERO);
        coeffs[1] = T::ONE;
        Self(coeffs)
    }

    /// Multiplication by a base-field element.
    pub fn mul_base(&self, c: &T) -> Self {
        Self(core::array::from_fn(|i| self.0[i].dup() * c.dup()))
    }

    /// Multiplication by `u`: a shift, with `u^7 = 8 - 2u` folding the top coefficient back.
    /// Linear in the coefficients, so it costs nothing in an AIR.
    pub fn mul_by_u(&self) -> Self {
        let top = self.0[6].dup();
        Self(core::array::from_fn(|i| match i {
            0 => top.dup() * T::from_u8(8),
            1 => self.0[0].dup() - top.double(),
            _ => self.0[i - 1].dup(),
        }))
    }

    /// `2 * self`.
    pub fn double(&self) -> Self {
        Self(core::array::from_fn(|i| self.0[i].double()))
    }

    /// `self * self`.
    pub fn square(&self) -> Self {
        self.clone() * self.clone()
    }

    /// `self^3`.
    pub fn cube(&self) -> Self {
        self.square() * self.clone()
    }
}

impl<T: PrimeCharacteristicRing> Add for SepticExtension<T> {
    type Output = Self;
    fn add(self, rhs: Self) -> Self {
        let [a0, a1, a2, a3, a4, a5, a6] = self.0;
        let [b0, b1, b2, b3, b4, b5, b6] = rhs.0;
        Self([
            a0 + b0,
            a1 + b1,
            a2 + b2,
            a3 + b3,
            a4 + b4,
            a5 + b5,
            a6 + b6,
        ])
    }
}

impl<T: PrimeCharacteristicRing> Sub for SepticExtension<T> {
    type Output = Self;
    fn sub(self, rhs: Self) -> Self {
        let [a0, a1, a2, a3, a4, a5, a6] = self.0;
        let [b0, b1, b2, b3, b4, b5, b6] = rhs.0;
        Self([
            a0 - b0,
            a1 - b1,
            a2 - b2,
            a3 - b3,
            a4 - b4,
            a5 - b5,
            a6 - b6,
        ])
    }
}

impl<T: PrimeCharacteristicRing> Neg for SepticExtension<T> {
    type Output = Self;
    fn neg(self) -> Self {
        Self(self.0.map(|a| -a))
    }
}

impl<T: PrimeCharacteristicRing> Mul for SepticExtension<T> {
    type Output = Self;
    /// Schoolbook product of two degree-6 polynomials (13 coefficients), then reduction with
    /// `u^k = u^(k-7) (8 - 2u)` for `k = 7..=12`. Every such term lands on an index below 7, so one
    /// pass suffices.
    fn mul(self, rhs: Self) -> Self {
        let mut prod: [T; 2 * DEGREE - 1] = core::array::from_fn(|_| T::ZERO);
        for (i, a) in self.0.iter().enumerate() {
            for (j, b) in rhs.0.iter().enumerate() {
                prod[i + j] += a.dup() * b.dup();
            }
        }
        let mut out: [T; DEGREE] = core::array::from_fn(|i| prod[i].dup());
        for k in DEGREE..2 * DEGREE - 1 {
            let c = prod[k].dup();
            out[k - DEGREE] += c.dup() * T::from_u8(8);
            out[k - DEGREE + 1] -= c.double();
        }
        Self(out)
    }
}

impl<T: PrimeCharacteristicRing> AddAssign for SepticExtension<T> {
    fn add_assign(&mut self, rhs: Self) {
        *self = self.clone() + rhs;
    }
}

impl<T: PrimeCharacteristicRing> SubAssign for SepticExtension<T> {
    fn sub_assign(&mut self, rhs: Self) {
        *self = self.clone() - rhs;
    }
}

impl<T: PrimeCharacteristicRing> MulAssign for SepticExtension<T> {
    fn mul_assign(&mut self, rhs: Self) {
        *self = self.clone() * rhs;
    }
}

/// The sign class of a nonzero extension element, read from its constant coefficient `a_0`.
///
/// `Positive` means `1 <= a_0 <= (p-1)/2` and `Negative` means `(p+1)/2 <= a_0 <= p-1`, so `y` and
/// `-y` always fall in opposite classes. Elements with `a_0 = 0` have no sign (see
/// [`SepticExtension::sign`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sign {
    Positive,
    Negative,
}

impl SepticExtension<KoalaBear> {
    /// Builds an element from canonical coefficients; `None` if any is `>= p`.
    pub fn from_canonical(coeffs: [u32; DEGREE]) -> Option<Self> {
        if coeffs.iter().any(|&c| c >= P) {
            return None;
        }
        Some(Self(coeffs.map(KoalaBear::new)))
    }

    /// The canonical coefficients.
    pub fn to_canonical(&self) -> [u32; DEGREE] {
        self.0.map(|c| c.as_canonical_u32())
    }

    pub fn is_zero(&self) -> bool {
        self.0.iter().all(|c| c.is_zero())
    }

    /// `self^e` by square-and-multiply over the bits of `e`, little-endian 64-bit limbs.
    pub fn exp_limbs(&self, e: &[u64]) -> Self {
        let mut acc = Self::one();
        for limb in e.iter().rev() {
            for bit in (0..64).rev() {
                acc = acc.square();
                if (limb >> bit) & 1 == 1 {
                    acc *= *self;
                }
            }
        }
        acc
    }

    /// `self^e`.
    pub fn exp_u64(&self, e: u64) -> Self {
        self.exp_limbs(&[e])
    }

    /// The Frobenius map `a -> a^p`. Coefficients are fixed by it, so
    /// `a^p = sum a_i (u^p)^i`, with the powers `(u^p)^i` computed once.
    pub fn frobenius(&self) -> Self {
        let table = frobenius_table();
        let mut acc = Self::from_base(self.0[0]);
        for (power, coeff) in table.iter().zip(&self.0).skip(1) {
            acc += power.mul_base(coeff);
        }
        acc
    }

    /// `a^(p + p^2 + ... + p^6)`, the product of the six non-trivial conjugates. Multiplying by `a`
    /// gives the norm, which lies in `F_p`.
    fn conjugates_product(&self) -> Self {
        let mut conj = self.frobenius();
        let mut acc = conj;
        for _ in 2..DEGREE {
            conj = conj.frobenius();
            acc *= conj;
        }
        acc
    }

    /// The norm `N(a) = a^((p^7 - 1)/(p - 1))`, an element of `F_p`.
    pub fn norm(&self) -> KoalaBear {
        let n = self.conjugates_product() * *self;
        debug_assert!(n.0[1..].iter().all(|c| c.is_zero()), "the norm lies in F_p");
        n.0[0]
    }

    /// `a^-1 = (conjugates product) / N(a)`: one base-field inversion instead of a 217-bit
    /// exponentiation. `None` for zero.
    pub fn try_inverse(&self) -> Option<Self> {
        let conj = self.conjugates_product();
        let norm = (conj * *self).0[0];
        let norm_inv = norm.try_inverse()?;
        Some(conj.mul_base(&norm_inv))
    }

    /// Quadratic residuosity. Since `(p^7 - 1)/2 = r (p - 1)/2` with `r = (p^7-1)/(p-1)`,
    /// `a^((p^7-1)/2) = N(a)^((p-1)/2)`: `a` is a square iff its norm is a square in `F_p`.
    /// Zero counts as a square.
    pub fn is_square(&self) -> bool {
        if self.is_zero() {
            return true;
        }
        self.norm().exp_u64(u64::from(HALF_P)) == KoalaBear::ONE
    }

    /// A square root, `None` if `self` is not a square. Which of the two roots comes back is
    /// unspecified; the curve code fixes the sign with [`Self::sign`].
    ///
    /// With `r = 1 + p + ... + p^6` (odd), `b = a^((r+1)/2)` satisfies `b^2 = a * N(a)`, so
    /// `b / sqrt(N(a))` is a root of `a`, where the root of the norm is taken in `F_p`. The
    /// exponent `(r-1)/2 = p (p+1)/2 (1 + p^2 + p^4)` is reached with Frobenius maps and one
    /// 31-bit exponentiation.
    pub fn sqrt(&self) -> Option<Self> {
        if self.is_zero() {
            return Some(*self);
        }
        let c = self.exp_u64(u64::from(P / 2 + 1)); // a^((p+1)/2)
        let c2 = c.frobenius().frobenius();
        let c4 = c2.frobenius().frobenius();
        let half = (c * c2 * c4).frobenius(); // a^((r-1)/2)
        let norm = (half.square() * *self).0[0]; // a^r
        let norm_root = norm.try_sqrt()?;
        let b = half * *self; // a^((r+1)/2)
        let root = b.mul_base(&norm_root.try_inverse()?);
        // Cheap guard: the identity above is exact, but never hand out a wrong root.
        (root.square() == *self).then_some(root)
    }

    /// Sign class (see [`Sign`]); `None` when the constant coefficient is zero.
    pub fn sign(&self) -> Option<Sign> {
        match self.0[0].as_canonical_u32() {
            0 => None,
            v if v <= HALF_P => Some(Sign::Positive),
            _ => Some(Sign::Negative),
        }
    }
}

/// `(u^p)^i` for `i = 0..7`.
fn frobenius_table() -> &'static [SepticKb; DEGREE] {
    static TABLE: OnceLock<[SepticKb; DEGREE]> = OnceLock::new();
    TABLE.get_or_init(|| {
        let up = SepticKb::u().exp_u64(u64::from(P));
        let mut table = [SepticKb::one(); DEGREE];
        for i in 1..DEGREE {
            table[i] = table[i - 1] * up;
        }
        table
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    fn random_element(rng: &mut StdRng) -> SepticKb {
        SepticExtension(core::array::from_fn(|_| {
            KoalaBear::new(rng.random_range(0..P))
        }))
    }

    #[test]
    fn modulus_and_reduction() {
        assert_eq!(KoalaBear::ORDER_U32, P);
        // u^7 = 8 - 2u, and u * u^6 agrees with the dedicated shift.
        let u = SepticKb::u();
        let u6 = u.exp_u64(6);
        let expected = SepticKb::from_base(KoalaBear::new(8)) - u.mul_base(&KoalaBear::TWO);
        assert_eq!(u6 * u, expected);
        assert_eq!(u6.mul_by_u(), expected);
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..20 {
            let a = random_element(&mut rng);
            assert_eq!(a.mul_by_u(), a * u);
        }
    }

    #[test]
    fn ring_axioms_on_random_elements() {
        let mut rng = StdRng::seed_from_u64(2);
        let zero = SepticKb::zero();
        let one = SepticKb::one();
        for _ in 0..50 {
            let a = random_element(&mut rng);
            let b = random_element(&mut rng);
            let c = random_element(&mut rng);
            assert_eq!(a + b, b + a);
            assert_eq!(a * b, b * a);
            assert_eq!((a + b) + c, a + (b + c));
            assert_eq!((a * b) * c, a * (b * c));
            assert_eq!(a * (b + c), a * b + a * c);
            assert_eq!(a + zero, a);
            assert_eq!(a * one, a);
            assert_eq!(a - a, zero);
            assert_eq!(a + (-a), zero);
            assert_eq!(a.square(), a * a);
            assert_eq!(a.cube(), a * a * a);
            let s = KoalaBear::new(rng.random_range(0..P));
            assert_eq!(a.mul_base(&s), a * SepticKb::from_base(s));
        }
    }

    /// For prime degree 7, `f` is irreducible iff `u^(p^7) = u` and `u^p != u` mod `f`: the first
    /// makes `f` squarefree with factors of degree 1 or 7, and a product of seven distinct linear
    /// factors would give `u^p = u`. Powers are taken in `F_p[u]/(f)` with plain
    /// square-and-multiply, not the Frobenius table (which presumes irreducibility).
    #[test]
    fn defining_polynomial_is_irreducible() {
        let u = SepticKb::u();
        let mut power = u;
        for k in 1..=DEGREE {
            power = power.exp_u64(u64::from(P));
            if k == 1 {
                assert_ne!(power, u, "u^p = u would make f split");
            }
        }
        assert_eq!(power, u, "u^(p^7) must equal u");
    }

    #[test]
    fn frobenius_is_the_p_th_power() {
        let mut rng = StdRng::seed_from_u64(3);
        for _ in 0..5 {
            let a = random_element(&mut rng);
            assert_eq!(a.frobenius(), a.exp_u64(u64::from(P)));
            let mut b = a;
            for _ in 0..DEGREE {
                b = b.frobenius();
            }
            assert_eq!(b, a);
        }
    }

    #[test]
    fn inverse_round_trip() {
        let mut rng = StdRng::seed_from_u64(4);
        assert_eq!(SepticKb::zero().try_inverse(), None);
        assert_eq!(SepticKb::one().try_inverse(), Some(SepticKb::one()));
        for _ in 0..50 {
            let a = random_element(&mut rng);
            let inv = a.try_inverse().expect("random element is nonzero");
            assert_eq!(a * inv, SepticKb::one());
            // Cross-check with Fermat: a^(p^7 - 2).
            let q_minus_2 = crate::septic::test_util::field_order_minus(2);
            assert_eq!(a.exp_limbs(&q_minus_2), inv);
        }
    }

    #[test]
    fn sqrt_round_trip_and_residuosity() {
        let mut rng = StdRng::seed_from_u64(5);
        let half_q = crate::septic::test_util::half_field_order_minus_one();
        let mut non_squares = 0;
        for _ in 0..60 {
            let a = random_element(&mut rng);
            let sq = a.square();
            assert!(sq.is_square());
            let r = sq.sqrt().expect("a square has a root");
            assert!(r == a || r == -a);
            // Euler's criterion in F_{p^7} agrees with the norm shortcut.
            let euler = a.exp_limbs(&half_q) == SepticKb::one();
            assert_eq!(a.is_square(), euler);
            if !a.is_square() {
                non_squares += 1;
                assert_eq!(a.sqrt(), None);
            }
        }
        // Half of the nonzero elements are squares; 60 draws all on one side would be a bug.
        assert!(
            (10..=50).contains(&non_squares),
            "{non_squares} non-squares"
        );
        assert_eq!(SepticKb::zero().sqrt(), Some(SepticKb::zero()));
    }

    #[test]
    fn sign_classes_are_opposite() {
        let mut rng = StdRng::seed_from_u64(6);
        for _ in 0..50 {
            let a = random_element(&mut rng);
            match (a.sign(), (-a).sign()) {
                (None, None) => assert!(a.0[0].is_zero()),
                (Some(s), Some(t)) => assert_ne!(s, t),
                _ => panic!("sign must be defined for both or neither"),
            }
        }
        let edge = |v: u32| SepticKb::from_base(KoalaBear::new(v)).sign();
        assert_eq!(edge(1), Some(Sign::Positive));
        assert_eq!(edge(HALF_P), Some(Sign::Positive));
        assert_eq!(edge(HALF_P + 1), Some(Sign::Negative));
        assert_eq!(edge(P - 1), Some(Sign::Negative));
        assert_eq!(edge(0), None);
    }

    #[test]
    fn canonical_round_trip_rejects_out_of_range() {
        let a = SepticKb::from_canonical([1, 2, 3, 4, 5, 6, P - 1]).unwrap();
        assert_eq!(a.to_canonical(), [1, 2, 3, 4, 5, 6, P - 1]);
        assert_eq!(SepticKb::from_canonical([0, 0, 0, 0, 0, 0, P]), None);
    }
}
