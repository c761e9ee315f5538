//! FRI folding in-circuit: one query's fold of an arity-`2^k` coset, as `p3-fri` 0.8's
//! `TwoAdicFriFolding::fold_row`.
//!
//! `fold_row(index, log_height, log_arity, β, evals)` interpolates the `arity` values at β, the
//! points being the coset `s·<ω>` (`ω` of order `arity`, `s = G^rev(index)` with `G` of order
//! `2^(log_height + log_arity)` and `rev` the `log_height`-bit reversal) listed in bit-reversed
//! order. With `y_m` the value at `s·ω^m`, the interpolant at β is
//! `Σ_k c_k (β/s)^k = Σ_k c_k · β^k · s^-k` where `c_k = (1/arity) Σ_m y_m ω^(-mk)` — an inverse
//! DFT with constant coefficients, so free. `β^k` is computed once per folding round
//! ([`beta_powers`]); per query only `s^-k` (base field, from the index bits) and `arity`
//! extension products remain, with no reduction (`c_k < 2^65`).

use ark_r1cs_std::boolean::Boolean;
use ark_relations::gr1cs::SynthesisError;
use p3_field::{Field, PrimeCharacteristicRing, TwoAdicField};
use p3_koala_bear::KoalaBear;
use p3_util::reverse_bits_len;

use crate::Fr;
use crate::koalabear::{KbExtVar, KbVar, KoalaBearExt};

/// `base^rev(index, n)` for the `n` little-endian `bits` of `index`:
/// `Π_i (bit_i ? base^(2^(n-1-i)) : 1)`, each factor linear in its bit.
pub fn power_of_reversed_index(
    base: KoalaBear,
    bits: &[Boolean<Fr>],
) -> Result<KbVar, SynthesisError> {
    let n = bits.len();
    let mut product = KbVar::constant(KoalaBear::ONE);
    for (i, bit) in bits.iter().enumerate() {
        let factor = base.exp_power_of_2(n - 1 - i);
        let selected = KbVar::constant(KoalaBear::ONE)
            .add(&KbVar::from_bit(bit).mul_constant(factor - KoalaBear::ONE)?)?;
        product = product.mul(&selected)?;
    }
    Ok(product)
}

/// `[1, β, β^2, …, β^(arity-1)]`, canonical: once per folding round, shared by all queries.
pub fn beta_powers(beta: &KbExtVar, log_arity: usize) -> Result<Vec<KbExtVar>, SynthesisError> {
    let mut powers = vec![KbExtVar::constant(KoalaBearExt::ONE), beta.reduce()?];
    while powers.len() < 1 << log_arity {
        let next = powers[powers.len() - 1].mul(&powers[1])?.reduce()?;
        powers.push(next);
    }
    powers.truncate(1 << log_arity);
    Ok(powers)
}

/// One fold of a query: `evals` are the `2^log_arity` opened values of the coset containing the
/// query, in the order p3 commits them; `index_bits` the `log_height` little-endian bits of the
/// folded index; `beta_powers` from [`beta_powers`] for this round.
pub fn fold_row(
    index_bits: &[Boolean<Fr>],
    log_arity: usize,
    beta_powers: &[KbExtVar],
    evals: &[KbExtVar],
) -> Result<KbExtVar, SynthesisError> {
    let arity = 1usize << log_arity;
    if log_arity == 0 || evals.len() != arity || beta_powers.len() != arity {
        return Err(SynthesisError::Unsatisfiable);
    }
    let log_height = index_bits.len();
    let coset_generator = KoalaBear::two_adic_generator(log_height + log_arity);
    // Canonical, so that β^k · s^-k stays < 2^62 and multiplies `c_k` without reduction.
    let s_inverse = power_of_reversed_index(coset_generator.inverse(), index_bits)?.reduce()?;

    let omega_inverse = KoalaBear::two_adic_generator(log_arity).inverse();
    let arity_inverse = KoalaBear::from_usize(arity).inverse();
    let mut s_inverse_power = KbVar::constant(KoalaBear::ONE);
    let mut result = KbExtVar::constant(KoalaBearExt::ZERO);
    for (k, beta_power) in beta_powers.iter().enumerate() {
        // c_k = (1/arity) Σ_m y_m ω^(-mk), with y_m = evals[rev(m)].
        let mut c = KbExtVar::constant(KoalaBearExt::ZERO);
        for m in 0..arity {
            let weight = omega_inverse.exp_u64((m * k % arity) as u64) * arity_inverse;
            c = c.add(&evals[reverse_bits_len(m, log_arity)].mul_base_constant(weight)?)?;
        }
        let scaled_power = beta_power.mul_base(&s_inverse_power)?;
        result = result.add(&c.mul(&scaled_power)?)?;
        s_inverse_power = s_inverse_power.mul(&s_inverse)?.reduce()?;
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use core::marker::PhantomData;

    use ark_r1cs_std::alloc::AllocVar;
    use ark_relations::gr1cs::ConstraintSystem;
    use p3_field::{BasedVectorSpace, PrimeField64};
    use p3_fri::{FriFoldingStrategy, TwoAdicFriFolding};

    use super::*;
    use crate::Fr;
    use crate::test_util::{assert_every_witness_is_bound, splitmix};

    fn ext(seed: &mut u64) -> KoalaBearExt {
        KoalaBearExt::from_basis_coefficients_fn(|_| {
            KoalaBear::from_u64(splitmix(seed) % KoalaBear::ORDER_U64)
        })
    }

    fn native_fold(
        index: usize,
        log_height: usize,
        log_arity: usize,
        beta: KoalaBearExt,
        evals: &[KoalaBearExt],
    ) -> KoalaBearExt {
        let folding = TwoAdicFriFolding::<(), ()>(PhantomData);
        FriFoldingStrategy::<KoalaBear, KoalaBearExt>::fold_row(
            &folding,
            index,
            log_height,
            log_arity,
            beta,
            evals.iter().copied(),
        )
    }

    fn synthesize_fold(
        cs: &ark_relations::gr1cs::ConstraintSystemRef<Fr>,
        index: usize,
        log_height: usize,
        log_arity: usize,
        beta: KoalaBearExt,
        evals: &[KoalaBearExt],
    ) -> Result<KbExtVar, SynthesisError> {
        let bits = (0..log_height)
            .map(|i| Boolean::new_witness(cs.clone(), || Ok((index >> i) & 1 == 1)))
            .collect::<Result<Vec<_>, _>>()?;
        let beta = KbExtVar::new_witness(cs.clone(), || Ok(beta))?;
        let evals = evals
            .iter()
            .map(|&e| KbExtVar::new_witness(cs.clone(), || Ok(e)))
            .collect::<Result<Vec<_>, _>>()?;
        fold_row(&bits, log_arity, &beta_powers(&beta, log_arity)?, &evals)
    }

    #[test]
    fn fold_equals_p3_fold_row() {
        let mut seed = 51;
        for (log_height, log_arity) in [(0, 1), (3, 1), (5, 2), (4, 3), (9, 3)] {
            for index in [0, (1 << log_height) - 1, (1 << log_height) / 3] {
                let beta = ext(&mut seed);
                let evals: Vec<_> = (0..1 << log_arity).map(|_| ext(&mut seed)).collect();
                let cs = ConstraintSystem::<Fr>::new_ref();
                let folded =
                    synthesize_fold(&cs, index, log_height, log_arity, beta, &evals).unwrap();
                assert_eq!(
                    folded.value().unwrap(),
                    native_fold(index, log_height, log_arity, beta, &evals),
                    "log_height {log_height}, log_arity {log_arity}, index {index}"
                );
                assert!(cs.is_satisfied().unwrap());
            }
        }
    }

    #[test]
    fn fold_with_a_wrong_claim_is_unsatisfied() {
        let mut seed = 52;
        let beta = ext(&mut seed);
        let evals: Vec<_> = (0..8).map(|_| ext(&mut seed)).collect();
        let expected = native_fold(5, 6, 3, beta, &evals);
        for (claim, ok) in [(expected, true), (expected + KoalaBearExt::ONE, false)] {
            let cs = ConstraintSystem::<Fr>::new_ref();
            let folded = synthesize_fold(&cs, 5, 6, 3, beta, &evals).unwrap();
            let claimed = KbExtVar::new_witness(cs.clone(), || Ok(claim)).unwrap();
            folded.enforce_equal(&claimed).unwrap();
            assert_eq!(cs.is_satisfied().unwrap(), ok);
        }
        // The same claim with a different query index (another coset point set) fails.
        let cs = ConstraintSystem::<Fr>::new_ref();
        let folded = synthesize_fold(&cs, 6, 6, 3, beta, &evals).unwrap();
        let claimed = KbExtVar::new_witness(cs.clone(), || Ok(expected)).unwrap();
        folded.enforce_equal(&claimed).unwrap();
        assert!(!cs.is_satisfied().unwrap());
    }

    #[test]
    fn every_witness_of_a_fold_is_bound() {
        let mut seed = 53;
        let beta = ext(&mut seed);
        let evals: Vec<_> = (0..8).map(|_| ext(&mut seed)).collect();
        let expected = native_fold(11, 5, 3, beta, &evals);
        assert_every_witness_is_bound(|cs| {
            let folded = synthesize_fold(cs, 11, 5, 3, beta, &evals)?;
            folded.enforce_equal(&KbExtVar::new_witness(cs.clone(), || Ok(expected))?)
        });
    }

    #[test]
    fn fold_cost_is_guarded() {
        let mut seed = 54;
        let beta = ext(&mut seed);
        let evals: Vec<_> = (0..8).map(|_| ext(&mut seed)).collect();
        let cs = ConstraintSystem::<Fr>::new_ref();
        let bits = (0..17)
            .map(|i| Boolean::new_witness(cs.clone(), || Ok((12345usize >> i) & 1 == 1)).unwrap())
            .collect::<Vec<_>>();
        let beta = KbExtVar::new_witness(cs.clone(), || Ok(beta)).unwrap();
        let evals = evals
            .iter()
            .map(|&e| KbExtVar::new_witness(cs.clone(), || Ok(e)).unwrap())
            .collect::<Vec<_>>();
        let before = cs.num_constraints();
        let powers = beta_powers(&beta, 3).unwrap();
        let per_round = cs.num_constraints() - before;
        let before = cs.num_constraints();
        let _ = fold_row(&bits, 3, &powers, &evals).unwrap();
        let cost = cs.num_constraints() - before;
        println!(
            "FRI fold, arity 8, 2^17-row layer: {cost} constraints per query \
             (+{per_round} per round for the powers of beta)"
        );
        assert!(cost <= 1_500, "{cost}");
    }
}
