//! The out-of-domain constraint check of the outer STARK verifier, for any AIR: the AIR's own
//! symbolic constraints (`p3_air::symbolic`) are evaluated at ζ over the opened values, folded
//! with α, and compared with the quotient recomposed from its chunks, exactly as
//! `p3_uni_stark::verify_constraints` and `recompose_quotient_from_chunks` do natively.
//!
//! Scope: base-field constraints (`AirBuilder::assert_zero`), main / preprocessed / periodic
//! columns, public values and the three row selectors; with [`fold_mixed_constraints`] also the
//! extension-field (LogUp) constraints of batch-stark instances, over the permutation columns,
//! lookup challenges and terminals.

use std::collections::HashMap;

use ark_relations::gr1cs::SynthesisError;
use p3_air::symbolic::{
    BaseEntry, BaseLeaf, ExtEntry, ExtLeaf, SymbolicExpr, SymbolicExpression, SymbolicExpressionExt,
};
use p3_field::{Field, PrimeCharacteristicRing, TwoAdicField};
use p3_koala_bear::KoalaBear;

use crate::koalabear::{KbExtVar, KbVar, KoalaBearExt};

/// The Lagrange selectors of a trace domain at ζ (unnormalised, as p3 defines them).
#[derive(Clone, Debug)]
pub struct SelectorsVar {
    pub is_first_row: KbExtVar,
    pub is_last_row: KbExtVar,
    pub is_transition: KbExtVar,
    pub inv_vanishing: KbExtVar,
}

/// `ζ^(2^k)` for the `k` the check needs, by one shared chain of squarings (the trace domain
/// and the quotient chunk domains have the same size, so their vanishing polynomials share it).
pub struct ZetaPowers {
    chain: Vec<KbExtVar>,
}

impl ZetaPowers {
    pub fn new(zeta: &KbExtVar) -> Self {
        Self {
            chain: vec![zeta.clone()],
        }
    }

    pub fn zeta(&self) -> &KbExtVar {
        &self.chain[0]
    }

    /// `ζ^(2^k)`.
    pub fn pow_2k(&mut self, k: usize) -> Result<KbExtVar, SynthesisError> {
        while self.chain.len() <= k {
            let last = self.chain.last().expect("chain starts with ζ");
            let next = last.square()?;
            self.chain.push(next);
        }
        Ok(self.chain[k].clone())
    }
}

/// Selectors of the subgroup of size `2^log_size` at ζ: with `Z = ζ^n - 1` and `g` the
/// subgroup generator, first row `Z / (ζ - 1)`, last row `Z / (ζ - g^-1)`, transition
/// `ζ - g^-1`, and `1 / Z`. Constraining `1 / Z` proves `Z ≠ 0`, i.e. ζ is outside the trace
/// domain, so the divisors `ζ - 1` and `ζ - g^-1` are non-zero too (no free `0 / 0` quotient).
pub fn selectors_at_point(
    log_size: usize,
    zeta_powers: &mut ZetaPowers,
) -> Result<SelectorsVar, SynthesisError> {
    let one = KbExtVar::constant(KoalaBearExt::ONE);
    let vanishing = zeta_powers.pow_2k(log_size)?.sub(&one)?;
    let zeta = zeta_powers.zeta().clone();
    let last_point = KbExtVar::constant(KoalaBearExt::from(
        KoalaBear::two_adic_generator(log_size).inverse(),
    ));
    let is_transition = zeta.sub(&last_point)?;
    Ok(SelectorsVar {
        is_first_row: vanishing.div(&zeta.sub(&one)?)?,
        is_last_row: vanishing.div(&is_transition)?,
        is_transition,
        inv_vanishing: one.div(&vanishing)?,
    })
}

/// The opened values the constraints read, at ζ (`local`) and at ζ·g (`next`).
pub struct OpenedRowsVar<'a> {
    pub main_local: &'a [KbExtVar],
    pub main_next: &'a [KbExtVar],
    pub preprocessed_local: &'a [KbExtVar],
    pub preprocessed_next: &'a [KbExtVar],
    pub periodic: &'a [KbExtVar],
    pub public_values: &'a [KbVar],
}

/// An evaluated sub-expression: base-field values (constants, public values) stay in the base
/// field so products with them cost 0 or 4 constraints instead of 16.
#[derive(Clone, Debug)]
enum Evaluated {
    Constant(KoalaBear),
    Base(KbVar),
    Ext(Box<KbExtVar>),
}

impl Evaluated {
    fn into_ext(self) -> KbExtVar {
        match self {
            Self::Constant(c) => KbExtVar::constant(KoalaBearExt::from(c)),
            Self::Base(b) => KbExtVar::from_base(b),
            Self::Ext(e) => *e,
        }
    }

    fn add(self, other: Self) -> Result<Self, SynthesisError> {
        Ok(match (self, other) {
            (Self::Constant(a), Self::Constant(b)) => Self::Constant(a + b),
            (Self::Constant(c), Self::Base(b)) | (Self::Base(b), Self::Constant(c)) => {
                Self::Base(b.add(&KbVar::constant(c))?)
            }
            (Self::Base(a), Self::Base(b)) => Self::Base(a.add(&b)?),
            (a, b) => Self::Ext(Box::new(a.into_ext().add(&b.into_ext())?)),
        })
    }

    fn sub(self, other: Self) -> Result<Self, SynthesisError> {
        Ok(match (self, other) {
            (Self::Constant(a), Self::Constant(b)) => Self::Constant(a - b),
            (Self::Base(a), Self::Constant(c)) => Self::Base(a.sub(&KbVar::constant(c))?),
            (Self::Constant(c), Self::Base(b)) => Self::Base(KbVar::constant(c).sub(&b)?),
            (Self::Base(a), Self::Base(b)) => Self::Base(a.sub(&b)?),
            (a, b) => Self::Ext(Box::new(a.into_ext().sub(&b.into_ext())?)),
        })
    }

    fn mul(self, other: Self) -> Result<Self, SynthesisError> {
        Ok(match (self, other) {
            (Self::Constant(a), Self::Constant(b)) => Self::Constant(a * b),
            (Self::Constant(c), Self::Base(b)) | (Self::Base(b), Self::Constant(c)) => {
                Self::Base(b.mul_constant(c)?)
            }
            (Self::Constant(c), Self::Ext(e)) | (Self::Ext(e), Self::Constant(c)) => {
                Self::Ext(Box::new(e.mul_base_constant(c)?))
            }
            (Self::Base(a), Self::Base(b)) => Self::Base(a.mul(&b)?),
            (Self::Base(b), Self::Ext(e)) | (Self::Ext(e), Self::Base(b)) => {
                Self::Ext(Box::new(e.mul_base(&b)?))
            }
            (Self::Ext(a), Self::Ext(b)) => Self::Ext(Box::new(a.mul(&b)?)),
        })
    }
}

struct Evaluator<'a> {
    opened: &'a OpenedRowsVar<'a>,
    selectors: &'a SelectorsVar,
    /// Shared sub-expressions (p3 builds constraints as DAGs of `Arc`s) are evaluated once.
    memo: HashMap<*const SymbolicExpression<KoalaBear>, Evaluated>,
}

/// A column index outside the opened rows is a mismatch between the AIR and the proof shape.
fn column(values: &[KbExtVar], index: usize) -> Result<Evaluated, SynthesisError> {
    values
        .get(index)
        .cloned()
        .map(|v| Evaluated::Ext(Box::new(v)))
        .ok_or(SynthesisError::Unsatisfiable)
}

impl Evaluator<'_> {
    fn leaf(&self, leaf: &BaseLeaf<KoalaBear>) -> Result<Evaluated, SynthesisError> {
        let opened = self.opened;
        Ok(match leaf {
            BaseLeaf::Constant(c) => Evaluated::Constant(*c),
            BaseLeaf::IsFirstRow => Evaluated::Ext(Box::new(self.selectors.is_first_row.clone())),
            BaseLeaf::IsLastRow => Evaluated::Ext(Box::new(self.selectors.is_last_row.clone())),
            BaseLeaf::IsTransition => {
                Evaluated::Ext(Box::new(self.selectors.is_transition.clone()))
            }
            BaseLeaf::Variable(v) => match v.entry {
                BaseEntry::Main { offset: 0 } => column(opened.main_local, v.index)?,
                BaseEntry::Main { offset: 1 } => column(opened.main_next, v.index)?,
                BaseEntry::Preprocessed { offset: 0 } => {
                    column(opened.preprocessed_local, v.index)?
                }
                BaseEntry::Preprocessed { offset: 1 } => column(opened.preprocessed_next, v.index)?,
                BaseEntry::Periodic => column(opened.periodic, v.index)?,
                BaseEntry::Public => Evaluated::Base(
                    opened
                        .public_values
                        .get(v.index)
                        .cloned()
                        .ok_or(SynthesisError::Unsatisfiable)?,
                ),
                // Rows beyond the next one are not opened by the uni/batch-stark verifiers.
                BaseEntry::Main { .. } | BaseEntry::Preprocessed { .. } => {
                    return Err(SynthesisError::Unsatisfiable);
                }
            },
        })
    }

    fn eval(&mut self, expr: &SymbolicExpression<KoalaBear>) -> Result<Evaluated, SynthesisError> {
        let key = expr as *const _;
        if let Some(done) = self.memo.get(&key) {
            return Ok(done.clone());
        }
        let value = match expr {
            SymbolicExpr::Leaf(leaf) => self.leaf(leaf)?,
            SymbolicExpr::Add { x, y, .. } => self.eval(x)?.add(self.eval(y)?)?,
            SymbolicExpr::Sub { x, y, .. } => self.eval(x)?.sub(self.eval(y)?)?,
            SymbolicExpr::Neg { x, .. } => {
                Evaluated::Constant(KoalaBear::ZERO).sub(self.eval(x)?)?
            }
            SymbolicExpr::Mul { x, y, .. } => self.eval(x)?.mul(self.eval(y)?)?,
        };
        self.memo.insert(key, value.clone());
        Ok(value)
    }
}

/// `Σ α^(m-1-i) C_i(ζ)` — the verifier folder's `acc = acc * α + C_i` over the constraints in
/// the order the AIR asserts them.
pub fn fold_constraints(
    constraints: &[SymbolicExpression<KoalaBear>],
    opened: &OpenedRowsVar<'_>,
    selectors: &SelectorsVar,
    alpha: &KbExtVar,
) -> Result<KbExtVar, SynthesisError> {
    let mut evaluator = Evaluator {
        opened,
        selectors,
        memo: HashMap::new(),
    };
    let mut accumulator = KbExtVar::constant(KoalaBearExt::ZERO);
    for constraint in constraints {
        let value = evaluator.eval(constraint)?.into_ext();
        accumulator = accumulator.mul(alpha)?.add(&value)?;
    }
    Ok(accumulator)
}

/// What an instance's extension-field (LogUp) constraints read besides the opened rows: the
/// permutation columns at ζ and ζ·g (each already recomposed into one extension value), the
/// instance's lookup challenges and its lookup terminal(s), as p3-batch-stark's
/// `VerifierConstraintFolderWithLookups` hands them to the AIR.
pub struct LookupRowsVar<'a> {
    pub permutation_local: &'a [KbExtVar],
    pub permutation_next: &'a [KbExtVar],
    pub challenges: &'a [KbExtVar],
    pub values: &'a [KbExtVar],
}

pub use zkmips_prover::proof_shape::MixedConstraint;

struct ExtEvaluator<'a> {
    base: Evaluator<'a>,
    lookups: &'a LookupRowsVar<'a>,
    memo: HashMap<*const SymbolicExpressionExt<KoalaBear, KoalaBearExt>, Evaluated>,
}

impl ExtEvaluator<'_> {
    fn leaf(
        &mut self,
        leaf: &ExtLeaf<KoalaBear, KoalaBearExt>,
    ) -> Result<Evaluated, SynthesisError> {
        let lookups = self.lookups;
        Ok(match leaf {
            ExtLeaf::Base(expr) => self.base.eval(expr)?,
            ExtLeaf::ExtConstant(c) => Evaluated::Ext(Box::new(KbExtVar::constant(*c))),
            ExtLeaf::ExtVariable(v) => match v.entry {
                ExtEntry::Permutation { offset: 0 } => column(lookups.permutation_local, v.index)?,
                ExtEntry::Permutation { offset: 1 } => column(lookups.permutation_next, v.index)?,
                ExtEntry::Challenge => column(lookups.challenges, v.index)?,
                ExtEntry::PermutationValue => column(lookups.values, v.index)?,
                // Only the current and next permutation rows are opened.
                ExtEntry::Permutation { .. } => return Err(SynthesisError::Unsatisfiable),
            },
        })
    }

    fn eval(
        &mut self,
        expr: &SymbolicExpressionExt<KoalaBear, KoalaBearExt>,
    ) -> Result<Evaluated, SynthesisError> {
        let key = expr as *const _;
        if let Some(done) = self.memo.get(&key) {
            return Ok(done.clone());
        }
        let value = match expr {
            SymbolicExpr::Leaf(leaf) => self.leaf(leaf)?,
            SymbolicExpr::Add { x, y, .. } => self.eval(x)?.add(self.eval(y)?)?,
            SymbolicExpr::Sub { x, y, .. } => self.eval(x)?.sub(self.eval(y)?)?,
            SymbolicExpr::Neg { x, .. } => {
                Evaluated::Constant(KoalaBear::ZERO).sub(self.eval(x)?)?
            }
            SymbolicExpr::Mul { x, y, .. } => self.eval(x)?.mul(self.eval(y)?)?,
        };
        self.memo.insert(key, value.clone());
        Ok(value)
    }
}

/// [`fold_constraints`] for a batch-STARK instance: base and extension (LogUp) constraints
/// folded together in their global emission order, `acc = acc·α + C_i`, as the verifier folder
/// of p3-batch-stark does (both kinds accumulate into one value).
pub fn fold_mixed_constraints(
    constraints: &[MixedConstraint],
    opened: &OpenedRowsVar<'_>,
    lookups: &LookupRowsVar<'_>,
    selectors: &SelectorsVar,
    alpha: &KbExtVar,
) -> Result<KbExtVar, SynthesisError> {
    let mut evaluator = ExtEvaluator {
        base: Evaluator {
            opened,
            selectors,
            memo: HashMap::new(),
        },
        lookups,
        memo: HashMap::new(),
    };
    let mut accumulator = KbExtVar::constant(KoalaBearExt::ZERO);
    for constraint in constraints {
        let value = match constraint {
            MixedConstraint::Base(expr) => evaluator.base.eval(expr)?,
            MixedConstraint::Ext(expr) => evaluator.eval(expr)?,
        }
        .into_ext();
        accumulator = accumulator.mul(alpha)?.add(&value)?;
    }
    Ok(accumulator)
}

pub use zkmips_prover::proof_shape::ChunkDomain;

/// The vanishing polynomial of a chunk domain, natively and at ζ in-circuit.
trait ChunkVanishing {
    fn vanishing_native(&self, point: KoalaBear) -> KoalaBear;
    fn vanishing_at(&self, zeta_powers: &mut ZetaPowers) -> Result<KbExtVar, SynthesisError>;
}

impl ChunkVanishing for ChunkDomain {
    fn vanishing_native(&self, point: KoalaBear) -> KoalaBear {
        (point * self.shift.inverse()).exp_power_of_2(self.log_size) - KoalaBear::ONE
    }

    /// `(ζ / s)^n - 1 = ζ^n · s^-n - 1`: one constant scaling of the shared power.
    fn vanishing_at(&self, zeta_powers: &mut ZetaPowers) -> Result<KbExtVar, SynthesisError> {
        let scale = self.shift.inverse().exp_power_of_2(self.log_size);
        zeta_powers
            .pow_2k(self.log_size)?
            .mul_base_constant(scale)?
            .sub(&KbExtVar::constant(KoalaBearExt::ONE))
    }
}

/// quotient(ζ) from the chunks' openings: `Σ_i zp_i · Σ_k q_{i,k} x^k` with
/// `zp_i = Π_{j≠i} Z_j(ζ) / Z_j(s_i)`. `chunks[i]` holds the 4 opened extension values of
/// chunk `i`'s 4 committed base columns.
pub fn recompose_quotient(
    domains: &[ChunkDomain],
    chunks: &[[KbExtVar; 4]],
    zeta_powers: &mut ZetaPowers,
) -> Result<KbExtVar, SynthesisError> {
    if domains.len() != chunks.len() {
        return Err(SynthesisError::Unsatisfiable);
    }
    let vanishing = domains
        .iter()
        .map(|d| d.vanishing_at(zeta_powers))
        .collect::<Result<Vec<_>, _>>()?;
    let mut quotient = KbExtVar::constant(KoalaBearExt::ZERO);
    for (i, (domain, chunk)) in domains.iter().zip(chunks).enumerate() {
        let mut value = KbExtVar::constant(KoalaBearExt::ZERO);
        for (k, coefficient) in chunk.iter().enumerate() {
            value = value.add(&coefficient.mul_by_monomial(k)?)?;
        }
        for (j, other) in domains.iter().enumerate().filter(|(j, _)| *j != i) {
            let scale = other.vanishing_native(domain.shift).inverse();
            value = value.mul(&vanishing[j].mul_base_constant(scale)?)?;
        }
        quotient = quotient.add(&value)?;
    }
    Ok(quotient)
}

/// Enforces `folded_constraints(ζ) / Z_H(ζ) = quotient(ζ)`.
pub fn enforce_ood_check(
    folded_constraints: &KbExtVar,
    selectors: &SelectorsVar,
    quotient: &KbExtVar,
) -> Result<(), SynthesisError> {
    folded_constraints
        .mul(&selectors.inv_vanishing)?
        .enforce_equal(quotient)
}

#[cfg(test)]
mod tests {
    use core::borrow::Borrow;

    use ark_relations::gr1cs::{ConstraintSystem, ConstraintSystemRef};
    use p3_air::symbolic::{AirLayout, get_symbolic_constraints};
    use p3_air::{Air, AirBuilder, BaseAir, WindowAccess};
    use p3_commit::PolynomialSpace;
    use p3_field::coset::TwoAdicMultiplicativeCoset;
    use p3_field::{BasedVectorSpace, PrimeField64};
    use p3_uni_stark::{recompose_quotient_from_chunks, verify_constraints};
    use zkmips_prover::outer::{OuterChallenge, OuterConfig};

    use super::*;
    use crate::Fr;
    use crate::test_util::splitmix;

    /// A test AIR with degree-3 constraints, public values and all three selectors.
    /// Columns (x, y, z); public values (x0, y_last).
    struct CubicAir;
    const WIDTH: usize = 3;

    struct Row<T> {
        x: T,
        y: T,
        z: T,
    }

    impl<T> Borrow<Row<T>> for [T] {
        fn borrow(&self) -> &Row<T> {
            assert_eq!(self.len(), WIDTH);
            // SAFETY: `Row` is three `T` fields, laid out like `[T; 3]` (length checked).
            unsafe { &*(self.as_ptr() as *const Row<T>) }
        }
    }

    impl<F> BaseAir<F> for CubicAir {
        fn width(&self) -> usize {
            WIDTH
        }
        fn num_public_values(&self) -> usize {
            2
        }
        fn max_constraint_degree(&self) -> Option<usize> {
            Some(3)
        }
    }

    impl<AB: AirBuilder> Air<AB> for CubicAir {
        fn eval(&self, builder: &mut AB) {
            let main = builder.main();
            let public = builder.public_values();
            let (x0, y_last) = (public[0], public[1]);
            let local: &Row<AB::Var> = main.current_slice().borrow();
            let next: &Row<AB::Var> = main.next_slice().borrow();
            builder.when_first_row().assert_eq(local.x, x0);
            builder
                .when_transition()
                .assert_eq(next.x + next.z, local.x * local.y + local.z);
            builder.assert_eq(local.z, local.y * local.y * AB::Expr::from_u32(7) - local.x);
            builder
                .when_transition()
                .assert_eq(next.y, local.y + AB::Expr::ONE);
            builder.when_last_row().assert_eq(local.y, y_last);
        }
    }

    fn ext(seed: &mut u64) -> OuterChallenge {
        OuterChallenge::from_basis_coefficients_fn(|_| {
            KoalaBear::from_u64(splitmix(seed) % KoalaBear::ORDER_U64)
        })
    }

    fn witness(cs: &ConstraintSystemRef<Fr>, value: OuterChallenge) -> KbExtVar {
        KbExtVar::new_witness(cs.clone(), || Ok(value)).unwrap()
    }

    #[test]
    fn selectors_equal_the_native_domain_selectors() {
        let mut seed = 41;
        let cs = ConstraintSystem::<Fr>::new_ref();
        for log_size in [1, 4, 9] {
            let zeta = ext(&mut seed);
            let native = TwoAdicMultiplicativeCoset::new(KoalaBear::ONE, log_size)
                .unwrap()
                .selectors_at_point(zeta);
            let got =
                selectors_at_point(log_size, &mut ZetaPowers::new(&witness(&cs, zeta))).unwrap();
            assert_eq!(got.is_first_row.value().unwrap(), native.is_first_row);
            assert_eq!(got.is_last_row.value().unwrap(), native.is_last_row);
            assert_eq!(got.is_transition.value().unwrap(), native.is_transition);
            assert_eq!(got.inv_vanishing.value().unwrap(), native.inv_vanishing);
        }
        assert!(cs.is_satisfied().unwrap());
    }

    /// The folded constraints divided by Z_H, computed by the gadget, are exactly the quotient
    /// value p3's own `verify_constraints` accepts (and it rejects any other).
    #[test]
    fn folded_constraints_agree_with_p3_verify_constraints() {
        let mut seed = 42;
        let log_size = 5;
        let constraints = get_symbolic_constraints::<KoalaBear, _>(
            &CubicAir,
            AirLayout::from_air::<KoalaBear>(&CubicAir),
        );
        assert_eq!(constraints.len(), 5);
        let local: Vec<OuterChallenge> = (0..WIDTH).map(|_| ext(&mut seed)).collect();
        let next: Vec<OuterChallenge> = (0..WIDTH).map(|_| ext(&mut seed)).collect();
        let public = [KoalaBear::from_u32(3), KoalaBear::from_u32(40)];
        let (zeta, alpha) = (ext(&mut seed), ext(&mut seed));

        let cs = ConstraintSystem::<Fr>::new_ref();
        let local_vars: Vec<_> = local.iter().map(|&v| witness(&cs, v)).collect();
        let next_vars: Vec<_> = next.iter().map(|&v| witness(&cs, v)).collect();
        let public_vars: Vec<_> = public
            .iter()
            .map(|&v| KbVar::new_witness(cs.clone(), || Ok(v)).unwrap())
            .collect();
        let opened = OpenedRowsVar {
            main_local: &local_vars,
            main_next: &next_vars,
            preprocessed_local: &[],
            preprocessed_next: &[],
            periodic: &[],
            public_values: &public_vars,
        };
        let zeta_var = witness(&cs, zeta);
        let selectors = selectors_at_point(log_size, &mut ZetaPowers::new(&zeta_var)).unwrap();
        let folded =
            fold_constraints(&constraints, &opened, &selectors, &witness(&cs, alpha)).unwrap();
        let quotient = folded
            .mul(&selectors.inv_vanishing)
            .unwrap()
            .value()
            .unwrap();

        let domain = TwoAdicMultiplicativeCoset::new(KoalaBear::ONE, log_size).unwrap();
        let check = |q: OuterChallenge| {
            verify_constraints::<OuterConfig, _, ()>(
                &CubicAir,
                &local,
                &next,
                None,
                None,
                &[],
                &public,
                domain,
                zeta,
                alpha,
                q,
            )
        };
        assert!(check(quotient).is_ok());
        assert!(check(quotient + OuterChallenge::ONE).is_err());

        // The in-circuit check accepts that quotient and rejects another one.
        let honest = witness(&cs, quotient);
        enforce_ood_check(&folded, &selectors, &honest).unwrap();
        assert!(cs.is_satisfied().unwrap());
        let wrong = witness(&cs, quotient + OuterChallenge::ONE);
        enforce_ood_check(&folded, &selectors, &wrong).unwrap();
        assert!(!cs.is_satisfied().unwrap());
    }

    #[test]
    fn quotient_recomposition_equals_p3() {
        let mut seed = 43;
        let trace_domain = TwoAdicMultiplicativeCoset::new(KoalaBear::ONE, 6).unwrap();
        for num_chunks in [1usize, 2, 4] {
            let quotient_domain = trace_domain
                .try_create_disjoint_domain(64 * num_chunks)
                .unwrap();
            let domains = quotient_domain.split_domains(num_chunks);
            let chunks: Vec<Vec<OuterChallenge>> = (0..num_chunks)
                .map(|_| (0..4).map(|_| ext(&mut seed)).collect())
                .collect();
            let zeta = ext(&mut seed);
            let native = recompose_quotient_from_chunks::<OuterConfig>(&domains, &chunks, zeta);

            let cs = ConstraintSystem::<Fr>::new_ref();
            let chunk_vars: Vec<[KbExtVar; 4]> = chunks
                .iter()
                .map(|c| std::array::from_fn(|k| witness(&cs, c[k])))
                .collect();
            let domain_shapes: Vec<ChunkDomain> = domains
                .iter()
                .map(|d| ChunkDomain {
                    shift: d.shift(),
                    log_size: d.log_size(),
                })
                .collect();
            let got = recompose_quotient(
                &domain_shapes,
                &chunk_vars,
                &mut ZetaPowers::new(&witness(&cs, zeta)),
            )
            .unwrap();
            assert_eq!(got.value().unwrap(), native, "{num_chunks} chunks");
            assert!(cs.is_satisfied().unwrap());
        }
    }

    #[test]
    fn ood_check_costs_are_guarded() {
        let mut seed = 46;
        let cs = ConstraintSystem::<Fr>::new_ref();
        let count = |f: &mut dyn FnMut()| {
            let before = cs.num_constraints();
            f();
            cs.num_constraints() - before
        };
        let mut powers = ZetaPowers::new(&witness(&cs, ext(&mut seed)));
        let mut selectors = None;
        let selector_cost = count(&mut || {
            selectors = Some(selectors_at_point(16, &mut powers).unwrap());
        });
        let selectors = selectors.unwrap();
        let constraints = get_symbolic_constraints::<KoalaBear, _>(
            &CubicAir,
            AirLayout::from_air::<KoalaBear>(&CubicAir),
        );
        let local: Vec<_> = (0..WIDTH).map(|_| witness(&cs, ext(&mut seed))).collect();
        let next: Vec<_> = (0..WIDTH).map(|_| witness(&cs, ext(&mut seed))).collect();
        let public: Vec<_> = [1u32, 2]
            .iter()
            .map(|&v| KbVar::new_witness(cs.clone(), || Ok(KoalaBear::from_u32(v))).unwrap())
            .collect();
        let alpha = witness(&cs, ext(&mut seed));
        let opened = OpenedRowsVar {
            main_local: &local,
            main_next: &next,
            preprocessed_local: &[],
            preprocessed_next: &[],
            periodic: &[],
            public_values: &public,
        };
        let fold_cost = count(&mut || {
            let _ = fold_constraints(&constraints, &opened, &selectors, &alpha).unwrap();
        });
        let chunks: Vec<[KbExtVar; 4]> = (0..2)
            .map(|_| std::array::from_fn(|_| witness(&cs, ext(&mut seed))))
            .collect();
        let domains = [
            ChunkDomain {
                shift: KoalaBear::GENERATOR,
                log_size: 16,
            },
            ChunkDomain {
                shift: KoalaBear::GENERATOR * KoalaBear::two_adic_generator(17),
                log_size: 16,
            },
        ];
        let recompose_cost = count(&mut || {
            let _ = recompose_quotient(&domains, &chunks, &mut powers).unwrap();
        });
        println!(
            "OOD check: selectors at 2^16 rows {selector_cost}, folding the 5 CubicAir \
             constraints {fold_cost}, recomposing 2 quotient chunks {recompose_cost} constraints"
        );
        assert!(selector_cost <= 7_000, "{selector_cost}");
        assert!(fold_cost <= 2_000, "{fold_cost}");
        assert!(recompose_cost <= 2_000, "{recompose_cost}");
    }

    #[test]
    fn division_rejects_a_wrong_quotient_and_fails_on_zero() {
        let mut seed = 44;
        let (a, b) = (ext(&mut seed), ext(&mut seed));
        let cs = ConstraintSystem::<Fr>::new_ref();
        let q = witness(&cs, a).div(&witness(&cs, b)).unwrap();
        assert_eq!(q.value().unwrap(), a / b);
        assert!(cs.is_satisfied().unwrap());
        // A quotient witness that is off by one breaks `q * b = a`.
        let cs = ConstraintSystem::<Fr>::new_ref();
        let (av, bv) = (witness(&cs, a), witness(&cs, b));
        let wrong = witness(&cs, a / b + OuterChallenge::ONE);
        wrong.mul(&bv).unwrap().enforce_equal(&av).unwrap();
        assert!(!cs.is_satisfied().unwrap());
        let cs = ConstraintSystem::<Fr>::new_ref();
        let zero = witness(&cs, OuterChallenge::ZERO);
        assert!(witness(&cs, a).div(&zero).is_err());
    }

    #[test]
    fn every_witness_of_an_ood_check_is_bound() {
        crate::test_util::assert_every_witness_is_bound(|cs| {
            let mut seed = 45;
            let constraints = get_symbolic_constraints::<KoalaBear, _>(
                &CubicAir,
                AirLayout::from_air::<KoalaBear>(&CubicAir),
            );
            let local: Vec<_> = (0..WIDTH).map(|_| witness(cs, ext(&mut seed))).collect();
            let next: Vec<_> = (0..WIDTH).map(|_| witness(cs, ext(&mut seed))).collect();
            let public: Vec<_> = [5u32, 6]
                .iter()
                .map(|&v| KbVar::new_witness(cs.clone(), || Ok(KoalaBear::from_u32(v))))
                .collect::<Result<_, _>>()?;
            let opened = OpenedRowsVar {
                main_local: &local,
                main_next: &next,
                preprocessed_local: &[],
                preprocessed_next: &[],
                periodic: &[],
                public_values: &public,
            };
            let selectors =
                selectors_at_point(3, &mut ZetaPowers::new(&witness(cs, ext(&mut seed))))?;
            let folded = fold_constraints(
                &constraints,
                &opened,
                &selectors,
                &witness(cs, ext(&mut seed)),
            )?;
            let quotient = KbExtVar::new_witness(cs.clone(), || {
                Ok(folded.value()? * selectors.inv_vanishing.value()?)
            })?;
            enforce_ood_check(&folded, &selectors, &quotient)
        });
    }
}
