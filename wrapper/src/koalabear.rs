//! KoalaBear arithmetic inside a BN254 circuit, with lazy reduction.
//!
//! A [`KbVar`] is one native `FpVar<Fr>` holding an *integer* `v` congruent to the KoalaBear
//! value, together with a public, circuit-shape-only upper bound `v < bound`. Additions and
//! multiplications act on the integers directly (0 and 1 constraint) and only update the bound;
//! as long as every bound stays below 2^250 (< Fr modulus ~ 2^253.6) no operation wraps around
//! Fr, so Fr equalities are integer equalities. [`KbVar::reduce`] then proves `v = q * p + r`
//! with `q` decomposed into `ceil(log2(bound / p))` bits and `r` a canonical KoalaBear element
//! (31 bits and `r < p`). A bound `<= p` means the value is canonical.
//!
//! When reductions happen: before a multiplication whose operand exceeds 2^66 (keeps every
//! reduction cheap), whenever a result bound would exceed 2^250, and on demand — equality
//! tests reduce nothing (they prove `a - b + k*p = q*p`), hashing needs canonical values.
//!
//! [`KbExtVar`] is the degree-4 binomial extension `KoalaBear[x] / (x^4 - W)` used by the outer
//! STARK (W read from `p3-koala-bear`).

use ark_ff::PrimeField;
use ark_r1cs_std::GR1CSVar;
use ark_r1cs_std::alloc::AllocVar;
use ark_r1cs_std::boolean::Boolean;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::FieldVar;
use ark_r1cs_std::fields::fp::FpVar;
use ark_relations::gr1cs::{ConstraintSystemRef, SynthesisError};
use num_bigint::BigUint;
use p3_field::extension::{BinomialExtensionField, BinomiallyExtendable};
use p3_field::{BasedVectorSpace, PrimeCharacteristicRing, PrimeField32};
use p3_koala_bear::KoalaBear;

use crate::Fr;

/// KoalaBear modulus p = 2^31 - 2^24 + 1 = 127 * 2^24 + 1.
pub const KOALABEAR_MODULUS: u32 = 0x7f00_0001;
/// Bits of a canonical KoalaBear element.
const CANONICAL_BITS: usize = 31;
/// p - 1 = 127 * 2^24: the canonical range splits into a 24-bit low and a 7-bit high part.
const LOW_BITS: usize = 24;
const HIGH_MAX: u64 = 127;
/// Every bound stays at or below 2^250, well under the BN254 Fr modulus (> 2^253).
const MAX_BOUND_BITS: u64 = 250;
/// Multiplication operands above 2^66 are reduced first: sums of up to 16 products of canonical
/// values (< 2^66) multiply without reduction, and an extension product of two such operands
/// stays below 2^136.
const MUL_OPERAND_MAX_BITS: u64 = 66;

pub type KoalaBearExt = BinomialExtensionField<KoalaBear, 4>;

fn modulus() -> BigUint {
    BigUint::from(KOALABEAR_MODULUS)
}

pub(crate) fn fr_to_biguint(x: Fr) -> BigUint {
    x.into()
}

fn biguint_to_fr(x: &BigUint) -> Fr {
    Fr::from(x.clone())
}

/// Allocates the low `count` bits of `value` as Boolean witnesses (1 constraint each).
pub(crate) fn alloc_bits(
    cs: &ConstraintSystemRef<Fr>,
    value: &Result<BigUint, SynthesisError>,
    count: usize,
) -> Result<Vec<Boolean<Fr>>, SynthesisError> {
    (0..count)
        .map(|i| Boolean::new_witness(cs.clone(), || value.clone().map(|v| v.bit(i as u64))))
        .collect()
}

/// Σ bits[i] * 2^i as a linear combination (no constraints; fewer bits than Fr has).
pub(crate) fn pack_bits(bits: &[Boolean<Fr>]) -> Result<FpVar<Fr>, SynthesisError> {
    debug_assert!(bits.len() < Fr::MODULUS_BIT_SIZE as usize);
    Boolean::le_bits_to_fp(bits)
}

/// A variable that is 1 when `x == target` and 0 otherwise (2 constraints, no booleanity check
/// needed: `(x - t) * inv = 1 - flag` forces 1 at equality, `(x - t) * flag = 0` forces 0 else).
pub(crate) fn equality_flag(
    cs: &ConstraintSystemRef<Fr>,
    x: &FpVar<Fr>,
    target: Fr,
) -> Result<FpVar<Fr>, SynthesisError> {
    let distance = x - target;
    let distance_value = distance.value();
    let flag = FpVar::new_witness(cs.clone(), || {
        distance_value.map(|d| Fr::from(u64::from(d == Fr::from(0u64))))
    })?;
    let inverse = FpVar::new_witness(cs.clone(), || {
        distance_value.map(|d| ark_ff::Field::inverse(&d).unwrap_or(Fr::from(0u64)))
    })?;
    distance.mul_equals(&inverse, &(FpVar::one() - &flag))?;
    distance.mul_equals(&flag, &FpVar::zero())?;
    Ok(flag)
}

/// Allocates a canonical KoalaBear element (`< p`): 31 Boolean bits plus 3 constraints for
/// "high 7 bits all one => low 24 bits zero" (the only 31-bit values >= p). 34 constraints.
/// Returns the value and its little-endian bits.
pub(crate) fn alloc_canonical_with_bits(
    cs: &ConstraintSystemRef<Fr>,
    value: Result<u32, SynthesisError>,
) -> Result<(FpVar<Fr>, Vec<Boolean<Fr>>), SynthesisError> {
    let bits = alloc_bits(cs, &value.map(BigUint::from), CANONICAL_BITS)?;
    let low = pack_bits(&bits[..LOW_BITS])?;
    let high = pack_bits(&bits[LOW_BITS..])?;
    let high_is_max = equality_flag(cs, &high, Fr::from(HIGH_MAX))?;
    high_is_max.mul_equals(&low, &FpVar::zero())?;
    Ok((pack_bits(&bits)?, bits))
}

fn alloc_canonical(
    cs: &ConstraintSystemRef<Fr>,
    value: Result<u32, SynthesisError>,
) -> Result<FpVar<Fr>, SynthesisError> {
    Ok(alloc_canonical_with_bits(cs, value)?.0)
}

/// A KoalaBear element as an integer `< bound` in one Fr variable (see the module docs).
#[derive(Clone, Debug)]
pub struct KbVar {
    value: FpVar<Fr>,
    bound: BigUint,
}

impl KbVar {
    /// A canonical witness (range-checked: 34 constraints).
    pub fn new_witness(
        cs: ConstraintSystemRef<Fr>,
        value: impl FnOnce() -> Result<KoalaBear, SynthesisError>,
    ) -> Result<Self, SynthesisError> {
        let value = alloc_canonical(&cs, value().map(|v| v.as_canonical_u32()))?;
        Ok(Self {
            value,
            bound: modulus(),
        })
    }

    /// Wraps a variable already constrained to be a canonical KoalaBear element.
    pub(crate) fn from_canonical(value: FpVar<Fr>) -> Self {
        Self {
            value,
            bound: modulus(),
        }
    }

    /// A Boolean as the KoalaBear value 0 or 1 (free).
    pub fn from_bit(bit: &Boolean<Fr>) -> Self {
        Self {
            value: FpVar::from(bit.clone()),
            bound: BigUint::from(2u32),
        }
    }

    /// A variable the caller has constrained to 0 or 1 (e.g. a product of Boolean bits), as the
    /// KoalaBear value 0 or 1 (free).
    pub(crate) fn from_flag(flag: FpVar<Fr>) -> Self {
        Self {
            value: flag,
            bound: BigUint::from(2u32),
        }
    }

    /// A circuit constant (free).
    pub fn constant(value: KoalaBear) -> Self {
        let canonical = value.as_canonical_u32();
        Self {
            value: FpVar::constant(Fr::from(canonical)),
            bound: BigUint::from(canonical) + 1u32,
        }
    }

    pub fn zero() -> Self {
        Self::constant(KoalaBear::ZERO)
    }

    /// The exclusive upper bound of the integer this variable holds.
    pub fn bound(&self) -> &BigUint {
        &self.bound
    }

    /// Whether the integer is known to be `< p`, i.e. the canonical representative.
    pub fn is_canonical(&self) -> bool {
        self.bound <= modulus()
    }

    /// The underlying Fr variable; the KoalaBear value is it modulo p.
    pub fn fp(&self) -> &FpVar<Fr> {
        &self.value
    }

    /// The KoalaBear value (witness generation only).
    pub fn value(&self) -> Result<KoalaBear, SynthesisError> {
        let integer = fr_to_biguint(self.value.value()?);
        let reduced = (integer % modulus())
            .to_u32_digits()
            .first()
            .copied()
            .unwrap_or(0);
        Ok(KoalaBear::from_u32(reduced))
    }

    /// The canonical representative of the same value (cost: 35 + bits of bound / p).
    pub fn reduce(&self) -> Result<Self, SynthesisError> {
        if self.is_canonical() {
            return Ok(self.clone());
        }
        let integer = self.value.value().map(fr_to_biguint);
        let quotient = integer.clone().map(|v| v / modulus());
        let remainder = integer.map(|v| {
            (v % modulus())
                .to_u32_digits()
                .first()
                .copied()
                .unwrap_or(0)
        });
        self.reduce_with_witness(quotient, remainder)
    }

    /// `reduce` with the quotient and remainder supplied by the caller, so tests can check that
    /// a wrong witness is rejected.
    pub(crate) fn reduce_with_witness(
        &self,
        quotient: Result<BigUint, SynthesisError>,
        remainder: Result<u32, SynthesisError>,
    ) -> Result<Self, SynthesisError> {
        if self.value.is_constant() {
            return Ok(Self::constant(self.value()?));
        }
        let cs = self.value.cs();
        let quotient_bits = quotient_bit_count(&self.bound);
        let quotient = pack_bits(&alloc_bits(&cs, &quotient, quotient_bits)?)?;
        let remainder = alloc_canonical(&cs, remainder)?;
        (quotient * Fr::from(KOALABEAR_MODULUS) + &remainder).enforce_equal(&self.value)?;
        Ok(Self {
            value: remainder,
            bound: modulus(),
        })
    }

    /// Runs `op` on `(a, b)` after reducing the larger-bounded operand until `result_bound`
    /// fits `limit_bits` (always possible: two canonical operands fit any of our limits).
    fn fit_pair(
        a: &Self,
        b: &Self,
        limit_bits: u64,
        result_bound: impl Fn(&BigUint, &BigUint) -> BigUint,
    ) -> Result<(Self, Self), SynthesisError> {
        let (mut a, mut b) = (a.clone(), b.clone());
        while result_bound(&a.bound, &b.bound).bits() > limit_bits {
            if a.bound >= b.bound && !a.is_canonical() {
                a = a.reduce()?;
            } else if !b.is_canonical() {
                b = b.reduce()?;
            } else {
                a = a.reduce()?;
            }
        }
        Ok((a, b))
    }

    fn reduce_if_above(&self, bits: u64) -> Result<Self, SynthesisError> {
        if (&self.bound - 1u32).bits() > bits {
            self.reduce()
        } else {
            Ok(self.clone())
        }
    }

    pub fn add(&self, other: &Self) -> Result<Self, SynthesisError> {
        let sum_bound = |a: &BigUint, b: &BigUint| a + b - 1u32;
        let (a, b) = Self::fit_pair(self, other, MAX_BOUND_BITS, sum_bound)?;
        Ok(Self {
            value: &a.value + &b.value,
            bound: sum_bound(&a.bound, &b.bound),
        })
    }

    /// `self - other` as the non-negative integer `self + k*p - other`, `k*p >= other`.
    pub fn sub(&self, other: &Self) -> Result<Self, SynthesisError> {
        let offset = |b: &BigUint| {
            let p = modulus();
            ((b - 1u32 + &p - 1u32) / &p).max(BigUint::from(1u32)) * p
        };
        let diff_bound = |a: &BigUint, b: &BigUint| a + offset(b);
        let (a, b) = Self::fit_pair(self, other, MAX_BOUND_BITS, diff_bound)?;
        let k_p = offset(&b.bound);
        Ok(Self {
            value: &a.value + biguint_to_fr(&k_p) - &b.value,
            bound: diff_bound(&a.bound, &b.bound),
        })
    }

    /// One constraint (none if either side is constant).
    pub fn mul(&self, other: &Self) -> Result<Self, SynthesisError> {
        let a = self.reduce_if_above(MUL_OPERAND_MAX_BITS)?;
        let b = other.reduce_if_above(MUL_OPERAND_MAX_BITS)?;
        let product_bound = |a: &BigUint, b: &BigUint| (a - 1u32) * (b - 1u32) + 1u32;
        let (a, b) = Self::fit_pair(&a, &b, MAX_BOUND_BITS, product_bound)?;
        Ok(Self {
            value: &a.value * &b.value,
            bound: product_bound(&a.bound, &b.bound),
        })
    }

    /// Multiplication by a constant (free).
    pub fn mul_constant(&self, constant: KoalaBear) -> Result<Self, SynthesisError> {
        let c = constant.as_canonical_u32();
        if c == 0 {
            return Ok(Self::zero());
        }
        let scaled_bound = |a: &BigUint| (a - 1u32) * c + 1u32;
        let a = if scaled_bound(&self.bound).bits() > MAX_BOUND_BITS {
            self.reduce()?
        } else {
            self.clone()
        };
        Ok(Self {
            value: &a.value * Fr::from(c),
            bound: scaled_bound(&a.bound),
        })
    }

    /// Enforces equal KoalaBear values. Two canonical operands: 1 constraint. Otherwise proves
    /// `self - other + k*p = q*p` with `q` bit-decomposed (no reductions).
    pub fn enforce_equal(&self, other: &Self) -> Result<(), SynthesisError> {
        if self.is_canonical() && other.is_canonical() {
            return self.value.enforce_equal(&other.value);
        }
        let difference = self.sub(other)?;
        if difference.value.is_constant() {
            return if difference.value()? == KoalaBear::ZERO {
                Ok(())
            } else {
                Err(SynthesisError::Unsatisfiable)
            };
        }
        let cs = difference.value.cs();
        let quotient = difference
            .value
            .value()
            .map(|v| fr_to_biguint(v) / modulus());
        let bits = alloc_bits(&cs, &quotient, quotient_bit_count(&difference.bound))?;
        (pack_bits(&bits)? * Fr::from(KOALABEAR_MODULUS)).enforce_equal(&difference.value)
    }
}

/// Bits of the largest quotient `(bound - 1) / p` (at least 1).
fn quotient_bit_count(bound: &BigUint) -> usize {
    ((bound - 1u32) / modulus()).bits().max(1) as usize
}

/// An element of `KoalaBear[x] / (x^4 - W)`, coefficients in ascending degree.
#[derive(Clone, Debug)]
pub struct KbExtVar {
    pub coeffs: [KbVar; 4],
}

fn ext_w() -> KoalaBear {
    <KoalaBear as BinomiallyExtendable<4>>::W
}

impl KbExtVar {
    pub fn new_witness(
        cs: ConstraintSystemRef<Fr>,
        value: impl FnOnce() -> Result<KoalaBearExt, SynthesisError>,
    ) -> Result<Self, SynthesisError> {
        let value = value();
        let coeffs = (0..4)
            .map(|i| {
                KbVar::new_witness(cs.clone(), || {
                    value.map(|v| v.as_basis_coefficients_slice()[i])
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            coeffs: coeffs.try_into().expect("4 coefficients"),
        })
    }

    pub fn constant(value: KoalaBearExt) -> Self {
        Self {
            coeffs: std::array::from_fn(|i| {
                KbVar::constant(value.as_basis_coefficients_slice()[i])
            }),
        }
    }

    /// A base-field element embedded as the constant coefficient.
    pub fn from_base(value: KbVar) -> Self {
        Self {
            coeffs: [value, KbVar::zero(), KbVar::zero(), KbVar::zero()],
        }
    }

    pub fn value(&self) -> Result<KoalaBearExt, SynthesisError> {
        let coeffs = self
            .coeffs
            .iter()
            .map(KbVar::value)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(KoalaBearExt::from_basis_coefficients_fn(|i| coeffs[i]))
    }

    fn zip_with(
        &self,
        other: &Self,
        op: impl Fn(&KbVar, &KbVar) -> Result<KbVar, SynthesisError>,
    ) -> Result<Self, SynthesisError> {
        let coeffs = self
            .coeffs
            .iter()
            .zip(&other.coeffs)
            .map(|(a, b)| op(a, b))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            coeffs: coeffs.try_into().expect("4 coefficients"),
        })
    }

    pub fn add(&self, other: &Self) -> Result<Self, SynthesisError> {
        self.zip_with(other, KbVar::add)
    }

    pub fn sub(&self, other: &Self) -> Result<Self, SynthesisError> {
        self.zip_with(other, KbVar::sub)
    }

    /// Coefficients above the multiplication-operand limit reduced, once per operand (each
    /// coefficient takes part in four products).
    fn prepared_for_mul(&self) -> Result<Self, SynthesisError> {
        let coeffs = self
            .coeffs
            .iter()
            .map(|c| c.reduce_if_above(MUL_OPERAND_MAX_BITS))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            coeffs: coeffs.try_into().expect("4 coefficients"),
        })
    }

    /// Schoolbook product, `x^4 = W`: 16 constraints (plus operand reductions if needed).
    pub fn mul(&self, other: &Self) -> Result<Self, SynthesisError> {
        let this = self.prepared_for_mul()?;
        // A square prepares its single operand once.
        let other = if std::ptr::eq(self, other) {
            this.clone()
        } else {
            other.prepared_for_mul()?
        };
        let (this, other) = (&this, &other);
        let mut low: Vec<KbVar> = vec![KbVar::zero(); 4];
        let mut wrapped: Vec<KbVar> = vec![KbVar::zero(); 4];
        for (i, a) in this.coeffs.iter().enumerate() {
            for (j, b) in other.coeffs.iter().enumerate() {
                let product = a.mul(b)?;
                if i + j < 4 {
                    low[i + j] = low[i + j].add(&product)?;
                } else {
                    wrapped[i + j - 4] = wrapped[i + j - 4].add(&product)?;
                }
            }
        }
        let coeffs = low
            .iter()
            .zip(&wrapped)
            .map(|(l, w)| l.add(&w.mul_constant(ext_w())?))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            coeffs: coeffs.try_into().expect("4 coefficients"),
        })
    }

    /// Product with a base-field element: 4 constraints.
    pub fn mul_base(&self, scalar: &KbVar) -> Result<Self, SynthesisError> {
        let scalar = &scalar.reduce_if_above(MUL_OPERAND_MAX_BITS)?;
        let coeffs = self
            .coeffs
            .iter()
            .map(|c| c.mul(scalar))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            coeffs: coeffs.try_into().expect("4 coefficients"),
        })
    }

    pub fn square(&self) -> Result<Self, SynthesisError> {
        self.mul(self)
    }

    /// `self^(2^k)` by `k` squarings.
    pub fn exp_power_of_2(&self, k: usize) -> Result<Self, SynthesisError> {
        let mut result = self.clone();
        for _ in 0..k {
            result = result.square()?;
        }
        Ok(result)
    }

    /// Product with a base-field constant (free).
    pub fn mul_base_constant(&self, constant: KoalaBear) -> Result<Self, SynthesisError> {
        let coeffs = self
            .coeffs
            .iter()
            .map(|c| c.mul_constant(constant))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            coeffs: coeffs.try_into().expect("4 coefficients"),
        })
    }

    /// Product with the basis monomial `x^k` (free: a rotation, wrapped terms times W).
    pub fn mul_by_monomial(&self, k: usize) -> Result<Self, SynthesisError> {
        let k = k % 4;
        let coeffs = (0..4)
            .map(|i| {
                if i >= k {
                    Ok(self.coeffs[i - k].clone())
                } else {
                    self.coeffs[i + 4 - k].mul_constant(ext_w())
                }
            })
            .collect::<Result<Vec<_>, SynthesisError>>()?;
        Ok(Self {
            coeffs: coeffs.try_into().expect("4 coefficients"),
        })
    }

    /// `self / divisor`: a canonical quotient witness `q` with `q * divisor = self` enforced.
    /// A zero divisor makes witness generation fail with `DivisionByZero`; note that `0 / 0`
    /// would leave `q` free, so callers must know the divisor is non-zero (for example because
    /// its inverse is also constrained).
    pub fn div(&self, divisor: &Self) -> Result<Self, SynthesisError> {
        let cs = self
            .coeffs
            .iter()
            .chain(&divisor.coeffs)
            .map(|c| c.fp().cs())
            .find(|cs| !cs.is_none());
        let Some(cs) = cs else {
            // Both constant: divide natively.
            let d = divisor.value()?;
            let inverse = p3_field::Field::try_inverse(&d).ok_or(SynthesisError::DivisionByZero)?;
            return Ok(Self::constant(self.value()? * inverse));
        };
        let quotient = Self::new_witness(cs, || {
            let d = divisor.value()?;
            let inverse = p3_field::Field::try_inverse(&d).ok_or(SynthesisError::DivisionByZero)?;
            Ok(self.value()? * inverse)
        })?;
        quotient.mul(divisor)?.enforce_equal(self)?;
        Ok(quotient)
    }

    pub fn reduce(&self) -> Result<Self, SynthesisError> {
        let coeffs = self
            .coeffs
            .iter()
            .map(KbVar::reduce)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            coeffs: coeffs.try_into().expect("4 coefficients"),
        })
    }

    pub fn enforce_equal(&self, other: &Self) -> Result<(), SynthesisError> {
        for (a, b) in self.coeffs.iter().zip(&other.coeffs) {
            a.enforce_equal(b)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use ark_relations::gr1cs::{ConstraintSystem, OptimizationGoal};
    use p3_field::Field;

    use super::*;
    use crate::test_util::{assert_every_witness_is_bound, splitmix};

    fn kb(seed: &mut u64) -> KoalaBear {
        KoalaBear::from_u64(splitmix(seed) % KOALABEAR_MODULUS as u64)
    }

    fn ext(seed: &mut u64) -> KoalaBearExt {
        KoalaBearExt::from_basis_coefficients_fn(|_| kb(seed))
    }

    fn new_cs() -> ConstraintSystemRef<Fr> {
        let cs = ConstraintSystem::<Fr>::new_ref();
        cs.set_optimization_goal(OptimizationGoal::Constraints);
        cs
    }

    #[test]
    fn constants_match_p3() {
        assert_eq!(KOALABEAR_MODULUS, KoalaBear::ORDER_U32);
        assert_eq!(ext_w(), KoalaBear::new(3));
    }

    #[test]
    fn base_arithmetic_matches_p3() {
        let mut seed = 11;
        let cs = new_cs();
        for _ in 0..16 {
            let (x, y, z) = (kb(&mut seed), kb(&mut seed), kb(&mut seed));
            let xv = KbVar::new_witness(cs.clone(), || Ok(x)).unwrap();
            let yv = KbVar::new_witness(cs.clone(), || Ok(y)).unwrap();
            let zv = KbVar::new_witness(cs.clone(), || Ok(z)).unwrap();
            // x*y - z + 5*x, then a long lazy chain of products and sums.
            let mut acc = xv
                .mul(&yv)
                .unwrap()
                .sub(&zv)
                .unwrap()
                .add(&xv.mul_constant(KoalaBear::from_u32(5)).unwrap())
                .unwrap();
            let mut native = x * y - z + x * KoalaBear::from_u32(5);
            for _ in 0..6 {
                acc = acc.mul(&acc).unwrap().add(&yv).unwrap().sub(&acc).unwrap();
                native = native * native + y - native;
            }
            assert_eq!(acc.value().unwrap(), native);
            let reduced = acc.reduce().unwrap();
            assert!(reduced.is_canonical());
            assert_eq!(reduced.value().unwrap(), native);
            let expected = KbVar::new_witness(cs.clone(), || Ok(native)).unwrap();
            acc.enforce_equal(&expected).unwrap();
            reduced.enforce_equal(&expected).unwrap();
        }
        assert!(cs.is_satisfied().unwrap());
    }

    /// Extremes of the canonical range (and constants mixed with witnesses) in every operation.
    #[test]
    fn edge_values_match_p3() {
        let edges = [
            0u32,
            1,
            2,
            KOALABEAR_MODULUS - 1,
            KOALABEAR_MODULUS - 2,
            127 << 24,
        ];
        let cs = new_cs();
        for &a in &edges {
            for &b in &edges {
                let (x, y) = (KoalaBear::from_u32(a), KoalaBear::from_u32(b));
                let xv = KbVar::new_witness(cs.clone(), || Ok(x)).unwrap();
                let yc = KbVar::constant(y);
                let yv = KbVar::new_witness(cs.clone(), || Ok(y)).unwrap();
                for (got, want) in [
                    (xv.add(&yv).unwrap(), x + y),
                    (xv.sub(&yv).unwrap(), x - y),
                    (xv.sub(&yc).unwrap(), x - y),
                    (yc.sub(&xv).unwrap(), y - x),
                    (xv.mul(&yv).unwrap(), x * y),
                    (xv.mul(&yc).unwrap(), x * y),
                    (xv.mul_constant(y).unwrap(), x * y),
                ] {
                    assert_eq!(got.value().unwrap(), want, "{a:#x} op {b:#x}");
                    let reduced = got.reduce().unwrap();
                    assert_eq!(reduced.value().unwrap(), want);
                    got.enforce_equal(&KbVar::constant(want)).unwrap();
                    reduced.enforce_equal(&KbVar::constant(want)).unwrap();
                }
            }
        }
        assert!(cs.is_satisfied().unwrap());
    }

    #[test]
    fn extension_arithmetic_matches_p3() {
        let mut seed = 12;
        let cs = new_cs();
        for _ in 0..4 {
            let (x, y, s) = (ext(&mut seed), ext(&mut seed), kb(&mut seed));
            let xv = KbExtVar::new_witness(cs.clone(), || Ok(x)).unwrap();
            let yv = KbExtVar::new_witness(cs.clone(), || Ok(y)).unwrap();
            let sv = KbVar::new_witness(cs.clone(), || Ok(s)).unwrap();
            let mut acc = xv
                .mul(&yv)
                .unwrap()
                .sub(&xv)
                .unwrap()
                .mul_base(&sv)
                .unwrap();
            let mut native = (x * y - x) * s;
            for _ in 0..4 {
                acc = acc.mul(&acc).unwrap().add(&yv).unwrap();
                native = native * native + y;
            }
            assert_eq!(acc.value().unwrap(), native);
            assert_eq!(acc.reduce().unwrap().value().unwrap(), native);
            let inverse = native.inverse();
            let inv_var = KbExtVar::new_witness(cs.clone(), || Ok(inverse)).unwrap();
            acc.mul(&inv_var)
                .unwrap()
                .enforce_equal(&KbExtVar::constant(KoalaBearExt::ONE))
                .unwrap();
        }
        assert!(cs.is_satisfied().unwrap());
    }

    #[test]
    fn constraint_costs_are_guarded() {
        let cs = new_cs();
        let count = |f: &dyn Fn()| {
            let before = cs.num_constraints();
            f();
            cs.num_constraints() - before
        };
        let mut seed = 13;
        let (a, b) = (kb(&mut seed), kb(&mut seed));
        let av = KbVar::new_witness(cs.clone(), || Ok(a)).unwrap();
        let bv = KbVar::new_witness(cs.clone(), || Ok(b)).unwrap();
        let alloc = count(&|| {
            KbVar::new_witness(cs.clone(), || Ok(a)).unwrap();
        });
        let mul = count(&|| {
            av.mul(&bv).unwrap();
        });
        let product = av.mul(&bv).unwrap();
        let reduce_product = count(&|| {
            product.reduce().unwrap();
        });
        let (x, y) = (ext(&mut seed), ext(&mut seed));
        let xv = KbExtVar::new_witness(cs.clone(), || Ok(x)).unwrap();
        let yv = KbExtVar::new_witness(cs.clone(), || Ok(y)).unwrap();
        let ext_mul = count(&|| {
            xv.mul(&yv).unwrap();
        });
        let ext_product = xv.mul(&yv).unwrap();
        let ext_reduce = count(&|| {
            ext_product.reduce().unwrap();
        });
        let ext_equal = count(&|| {
            ext_product.enforce_equal(&yv).unwrap();
        });
        println!(
            "KoalaBear gadget costs: alloc {alloc}, mul {mul}, reduce(product) {reduce_product}, \
             ext mul {ext_mul}, ext reduce(product) {ext_reduce}, ext equality(product) {ext_equal}"
        );
        assert_eq!(alloc, 34);
        assert_eq!(mul, 1);
        assert!(
            reduce_product <= 70,
            "reduce of a product: {reduce_product}"
        );
        assert_eq!(ext_mul, 16);
        assert!(ext_reduce <= 4 * 75, "ext reduce: {ext_reduce}");
        assert!(ext_equal <= 4 * 40, "ext equality: {ext_equal}");
    }

    /// Values near the top of the canonical range exercise the `< p` check's both branches.
    #[test]
    fn canonical_allocation_accepts_the_range_edges_and_rejects_p() {
        for (value, ok) in [
            (0u32, true),
            (KOALABEAR_MODULUS - 1, true),
            (127 << 24, true),
            ((127 << 24) - 1, true),
            (KOALABEAR_MODULUS, false),
            (KOALABEAR_MODULUS + 5, false),
            ((1 << 31) - 1, false),
        ] {
            let cs = new_cs();
            let _ = alloc_canonical(&cs, Ok(value)).unwrap();
            assert_eq!(cs.is_satisfied().unwrap(), ok, "value {value:#x}");
        }
    }

    fn product_of(cs: &ConstraintSystemRef<Fr>, a: u32, b: u32) -> KbVar {
        let av = KbVar::new_witness(cs.clone(), || Ok(KoalaBear::from_u32(a))).unwrap();
        let bv = KbVar::new_witness(cs.clone(), || Ok(KoalaBear::from_u32(b))).unwrap();
        av.mul(&bv).unwrap()
    }

    #[test]
    fn reduction_rejects_a_wrong_remainder_or_quotient() {
        let (a, b) = (0x1234_5678u32, 0x0abc_def1u32);
        let integer = BigUint::from(a) * b;
        let (q, r) = (
            &integer / modulus(),
            (&integer % modulus()).to_u32_digits()[0],
        );

        let cs = new_cs();
        product_of(&cs, a, b)
            .reduce_with_witness(Ok(q.clone()), Ok(r))
            .unwrap();
        assert!(cs.is_satisfied().unwrap(), "honest witness");

        let cs = new_cs();
        product_of(&cs, a, b)
            .reduce_with_witness(Ok(q.clone()), Ok(r + 1))
            .unwrap();
        assert!(!cs.is_satisfied().unwrap(), "wrong remainder");

        let cs = new_cs();
        product_of(&cs, a, b)
            .reduce_with_witness(Ok(q + 1u32), Ok(r))
            .unwrap();
        assert!(!cs.is_satisfied().unwrap(), "wrong quotient");
    }

    /// `v = (q - 1) * p + (r + p)` satisfies the linear relation and the 31-bit range check
    /// whenever r + p < 2^31; only the `r < p` constraint rejects it.
    #[test]
    fn reduction_rejects_a_non_canonical_remainder() {
        // 2 * 0x3f80_0003 = p + 5: quotient 1, remainder 5.
        let (a, b) = (2u32, 0x3f80_0003u32);
        let cs = new_cs();
        product_of(&cs, a, b)
            .reduce_with_witness(Ok(BigUint::from(1u32)), Ok(5))
            .unwrap();
        assert!(cs.is_satisfied().unwrap(), "honest witness");

        let cs = new_cs();
        product_of(&cs, a, b)
            .reduce_with_witness(Ok(BigUint::from(0u32)), Ok(KOALABEAR_MODULUS + 5))
            .unwrap();
        assert!(!cs.is_satisfied().unwrap());
    }

    #[test]
    fn equality_of_different_values_is_unsatisfied() {
        let cs = new_cs();
        let product = product_of(&cs, 1000, 2000);
        let wrong = KbVar::new_witness(cs.clone(), || Ok(KoalaBear::from_u32(2_000_001))).unwrap();
        product.enforce_equal(&wrong).unwrap();
        assert!(!cs.is_satisfied().unwrap());

        let cs = new_cs();
        let x = KbVar::new_witness(cs.clone(), || Ok(KoalaBear::from_u32(7))).unwrap();
        let y = KbVar::new_witness(cs.clone(), || Ok(KoalaBear::from_u32(8))).unwrap();
        x.enforce_equal(&y).unwrap();
        assert!(!cs.is_satisfied().unwrap());
    }

    #[test]
    fn every_witness_of_the_gadgets_is_bound_by_a_constraint() {
        // Values whose high 7 bits are not all one, so the `< p` inverse witness is determined.
        assert_every_witness_is_bound(|cs| {
            let mut seed = 14;
            let (x, y) = (ext(&mut seed), ext(&mut seed));
            let xv = KbExtVar::new_witness(cs.clone(), || Ok(x))?;
            let yv = KbExtVar::new_witness(cs.clone(), || Ok(y))?;
            let product = xv.mul(&yv)?.sub(&yv)?;
            let reduced = product.reduce()?;
            let expected = KbExtVar::new_witness(cs.clone(), || Ok(x * y - y))?;
            product.enforce_equal(&expected)?;
            reduced.enforce_equal(&expected)?;
            Ok(())
        });
    }
}
