//! The outer STARK configuration and its FRI parameters.
//!
//! Everything the Groth16 wrapper re-verifies is hashed with the BN254 Poseidon2 permutation:
//! - Merkle leaves: `MultiField32PaddingFreeSponge` packs 8 KoalaBear values per BN254 element
//!   (shifted radix 2^31), rate 2, one-element digest.
//! - Merkle nodes: `TruncatedPermutation` — permute `[left, right, 0]`, keep cell 0.
//! - Fiat-Shamir: `MultiField32Challenger` (width 3, rate 2).
//!
//! FRI is tuned for a small verifier circuit: queries dominate its size, so the blowup is large
//! (16) and proof of work buys the remaining bits. Conjectured security (the usual
//! "list-decoding up to capacity" conjecture as used by Plonky3, SP1, Ziren):
//! `num_queries * log_blowup + query_pow_bits = 21 * 4 + 16 = 100` bits; the extension field
//! (KoalaBear^4, ~124 bits) does not cap it below that. See docs/WRAPPER.md.

use p3_bn254::Bn254;
use p3_challenger::MultiField32Challenger;
use p3_commit::ExtensionMmcs;
use p3_dft::Radix2DitParallel;
use p3_field::extension::BinomialExtensionField;
use p3_fri::{FriParameters, TwoAdicFriPcs};
use p3_koala_bear::KoalaBear;
use p3_merkle_tree::MerkleTreeMmcs;
use p3_symmetric::{MultiField32PaddingFreeSponge, TruncatedPermutation};
use p3_uni_stark::StarkConfig;

use super::poseidon2::{OuterPerm, outer_perm};

pub type OuterVal = KoalaBear;
pub type OuterChallenge = BinomialExtensionField<KoalaBear, 4>;
/// Width 3, rate 2 (BN254 elements), one-element digest.
pub type OuterHash = MultiField32PaddingFreeSponge<KoalaBear, Bn254, OuterPerm, 3, 2, 1>;
/// 2-to-1 compression in one permutation.
pub type OuterCompress = TruncatedPermutation<OuterPerm, 2, 1, 3>;
/// Binary Merkle tree over KoalaBear rows with BN254 digests.
pub type OuterValMmcs = MerkleTreeMmcs<KoalaBear, Bn254, OuterHash, OuterCompress, 2, 1>;
pub type OuterChallengeMmcs = ExtensionMmcs<KoalaBear, OuterChallenge, OuterValMmcs>;
/// Width 3, rate 2.
pub type OuterChallenger = MultiField32Challenger<KoalaBear, Bn254, OuterPerm, 3, 2>;
pub type OuterDft = Radix2DitParallel<KoalaBear>;
pub type OuterPcs = TwoAdicFriPcs<KoalaBear, OuterDft, OuterValMmcs, OuterChallengeMmcs>;
pub type OuterConfig = StarkConfig<OuterPcs, OuterChallenge, OuterChallenger>;

/// Rate 16: four bits per query.
pub const OUTER_FRI_LOG_BLOWUP: usize = 4;
pub const OUTER_FRI_NUM_QUERIES: usize = 21;
/// Grinding before query sampling: 16 bits (~2^16 permutations for the prover, 1 in-circuit).
pub const OUTER_FRI_QUERY_POW_BITS: usize = 16;
/// Fold by up to 8 per round: a third of the Merkle levels of binary folding.
pub const OUTER_FRI_MAX_LOG_ARITY: usize = 3;
/// Stop at a degree < 8 polynomial sent in the clear.
pub const OUTER_FRI_LOG_FINAL_POLY_LEN: usize = 3;

/// Merkle leaf hasher and node compressor over the outer permutation.
pub fn outer_val_mmcs(perm: &OuterPerm) -> OuterValMmcs {
    // KoalaBear (< 2^31) is strictly smaller than BN254 Fr, the only error condition.
    let hash = OuterHash::new(perm.clone()).expect("KoalaBear packs into BN254 Fr");
    OuterValMmcs::new(hash, OuterCompress::new(perm.clone()), 0)
}

/// The production FRI parameters (see the module docs for their security).
pub fn outer_fri_parameters(mmcs: OuterChallengeMmcs) -> FriParameters<OuterChallengeMmcs> {
    FriParameters {
        log_blowup: OUTER_FRI_LOG_BLOWUP,
        log_final_poly_len: OUTER_FRI_LOG_FINAL_POLY_LEN,
        max_log_arity: OUTER_FRI_MAX_LOG_ARITY,
        num_queries: OUTER_FRI_NUM_QUERIES,
        batch_proof_of_work_bits: 0,
        commit_proof_of_work_bits: 0,
        query_proof_of_work_bits: OUTER_FRI_QUERY_POW_BITS,
        mmcs,
    }
}

/// The outer config with caller-chosen FRI parameters (built from the outer challenge MMCS).
pub fn outer_config_with_fri(
    fri: impl FnOnce(OuterChallengeMmcs) -> FriParameters<OuterChallengeMmcs>,
) -> OuterConfig {
    let perm = outer_perm();
    let val_mmcs = outer_val_mmcs(&perm);
    let fri_parameters = fri(OuterChallengeMmcs::new(val_mmcs.clone()));
    let pcs = OuterPcs::new(OuterDft::default(), val_mmcs, fri_parameters);
    // Same static field-order condition as the sponge.
    let challenger = OuterChallenger::new(perm).expect("KoalaBear packs into BN254 Fr");
    OuterConfig::new(pcs, challenger)
}

/// The outer config with the production FRI parameters.
pub fn outer_config() -> OuterConfig {
    outer_config_with_fri(outer_fri_parameters)
}

#[cfg(test)]
mod tests {
    use core::borrow::Borrow;

    use p3_air::{Air, AirBuilder, BaseAir, WindowAccess};
    use p3_field::PrimeCharacteristicRing;
    use p3_matrix::dense::RowMajorMatrix;
    use p3_uni_stark::{prove, verify};

    use super::*;

    /// Columns: the two most recent terms of a Fibonacci sequence mod p.
    struct FibRow<T> {
        previous: T,
        current: T,
    }
    const FIB_WIDTH: usize = 2;

    impl<T> Borrow<FibRow<T>> for [T] {
        fn borrow(&self) -> &FibRow<T> {
            assert_eq!(self.len(), FIB_WIDTH);
            // SAFETY: FibRow is two `T` fields, laid out like `[T; 2]` (checked length above).
            unsafe { &*(self.as_ptr() as *const FibRow<T>) }
        }
    }

    /// Public values: [first previous, first current, last current].
    struct FibonacciAir;

    impl<F> BaseAir<F> for FibonacciAir {
        fn width(&self) -> usize {
            FIB_WIDTH
        }
        fn num_public_values(&self) -> usize {
            3
        }
        fn max_constraint_degree(&self) -> Option<usize> {
            Some(2)
        }
    }

    impl<AB: AirBuilder> Air<AB> for FibonacciAir {
        fn eval(&self, builder: &mut AB) {
            let main = builder.main();
            let public = builder.public_values();
            let (start_previous, start_current, end_current) = (public[0], public[1], public[2]);
            let local: &FibRow<AB::Var> = main.current_slice().borrow();
            let next: &FibRow<AB::Var> = main.next_slice().borrow();

            builder
                .when_first_row()
                .assert_eq(local.previous, start_previous);
            builder
                .when_first_row()
                .assert_eq(local.current, start_current);
            builder
                .when_transition()
                .assert_eq(next.previous, local.current);
            builder
                .when_transition()
                .assert_eq(next.current, local.previous + local.current);
            builder.when_last_row().assert_eq(local.current, end_current);
        }
    }

    fn fibonacci_trace(rows: usize) -> (RowMajorMatrix<KoalaBear>, KoalaBear) {
        let mut values = Vec::with_capacity(rows * FIB_WIDTH);
        let (mut previous, mut current) = (KoalaBear::ZERO, KoalaBear::ONE);
        for _ in 0..rows {
            values.extend([previous, current]);
            (previous, current) = (current, previous + current);
        }
        let last = values[values.len() - 1];
        (RowMajorMatrix::new(values, FIB_WIDTH), last)
    }

    #[test]
    fn fibonacci_proves_and_verifies_under_the_outer_config() {
        let config = outer_config();
        let (trace, last) = fibonacci_trace(1 << 6);
        let public = [KoalaBear::ZERO, KoalaBear::ONE, last];
        let proof = prove(&config, &FibonacciAir, trace, &public).expect("prove");
        verify(&config, &FibonacciAir, &proof, &public).expect("verify");

        let wrong_public = [KoalaBear::ZERO, KoalaBear::ONE, last + KoalaBear::ONE];
        assert!(
            verify(&config, &FibonacciAir, &proof, &wrong_public).is_err(),
            "a proof must not verify against a different claimed result"
        );
    }

    #[test]
    fn production_fri_parameters_reach_100_conjectured_bits() {
        let bits = OUTER_FRI_NUM_QUERIES * OUTER_FRI_LOG_BLOWUP + OUTER_FRI_QUERY_POW_BITS;
        assert!(bits >= 100, "conjectured FRI security {bits} < 100 bits");
    }
}
