//! The outer STARK configuration and its FRI parameters.
//!
//! Everything the Groth16 wrapper re-verifies is hashed with the BN254 Poseidon2 permutation:
//! - Merkle leaves: `MultiField32PaddingFreeSponge` packs 8 KoalaBear values per BN254 element
//!   (shifted radix 2^31), rate 2, one-element digest.
//! - Merkle nodes: `TruncatedPermutation` — permute `[left, right, 0]`, keep cell 0.
//! - Fiat-Shamir: `MultiField32Challenger` (width 3, rate 2).
//!
//! FRI is tuned for a small verifier circuit: queries dominate its size, so the blowup is large
//! (16) and proof of work buys the remaining bits (see [`OUTER_FRI`] and docs/WRAPPER.md).

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
use crate::config::FriSettings;

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

/// Collision resistance of the outer Merkle commitments: one 254-bit BN254 digest, so a
/// birthday attack costs about `2^127`.
pub const OUTER_COLLISION_BITS: usize = 127;

/// The outer FRI settings. Every query costs the Groth16 circuit a Merkle path per committed
/// tree and FRI round (hundreds of thousands of constraints in total), while a grind costs it
/// one permutation, so: rate 1/16 (~4 bits per query), proof of work at every site (2^16
/// hashes for the one-shot sites, 2^8 per folding round), folding arity 8 (a third of the
/// Merkle levels of binary folding) and a degree < 8 final polynomial sent in the clear.
/// `p3-security` (tests below, docs/WRAPPER.md): ~102.6 bits conjectured (random-words
/// conjecture), 104 by the ethSTARK heuristic, ~60 proven (Johnson bound) for a representative
/// wrap shape.
pub const OUTER_FRI: FriSettings = FriSettings {
    log_blowup: 4,
    num_queries: 22,
    query_pow_bits: 16,
    commit_pow_bits: 8,
    batch_pow_bits: 16,
    lookup_pow_bits: 16,
    ood_pow_bits: 16,
    log_final_poly_len: 3,
    max_log_arity: 3,
};

/// Outer settings for **tests only** (NOT secure): 3 queries, light grinding at every site, rate
/// 1/4, arity up to 4 and a 2-coefficient final polynomial — every part of the transcript runs,
/// and a wrap circuit over such a proof is small enough to synthesize many times in a test.
pub const WRAP_TEST_FRI: FriSettings = FriSettings {
    log_blowup: 2,
    num_queries: 3,
    query_pow_bits: 3,
    commit_pow_bits: 2,
    batch_pow_bits: 2,
    lookup_pow_bits: 2,
    ood_pow_bits: 2,
    log_final_poly_len: 1,
    max_log_arity: 2,
};

/// Merkle leaf hasher and node compressor over the outer permutation.
pub fn outer_val_mmcs(perm: &OuterPerm) -> OuterValMmcs {
    // KoalaBear (< 2^31) is strictly smaller than BN254 Fr, the only error condition.
    let hash = OuterHash::new(perm.clone()).expect("KoalaBear packs into BN254 Fr");
    OuterValMmcs::new(hash, OuterCompress::new(perm.clone()), 0)
}

/// The outer config with explicit FRI settings.
pub fn outer_config_with(settings: &FriSettings) -> OuterConfig {
    outer_config_with_fri(|mmcs| settings.fri_parameters(mmcs))
        .with_lookup_proof_of_work_bits(settings.lookup_pow_bits)
        .with_ood_proof_of_work_bits(settings.ood_pow_bits)
}

/// The outer config with FRI parameters built by `fri` from the outer challenge MMCS and no
/// grinding outside FRI (tests that only check genericity use a cheap shape).
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

/// The outer config with the production settings [`OUTER_FRI`].
pub fn outer_config() -> OuterConfig {
    outer_config_with(&OUTER_FRI)
}

#[cfg(test)]
mod tests {
    use core::borrow::Borrow;

    use crate::security::{BatchSecurityShape, estimate};
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
            builder
                .when_last_row()
                .assert_eq(local.current, end_current);
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

    /// A representative wrap AIR: 2^16 rows, ~60 committed columns, degree-3 constraints, a
    /// few buses. The wrap STARK is built to stay near this shape (docs/WRAPPER.md).
    fn representative_wrap_shape(log_height: usize) -> BatchSecurityShape {
        BatchSecurityShape {
            log_max_height: log_height,
            challenge_field_bits: 123,
            collision_bits: OUTER_COLLISION_BITS,
            num_batched_functions: 160,
            num_constraints: 200,
            max_constraint_degree: 3,
            num_quotient_chunks: 2,
            max_combo: 2,
            lookup_messages_per_row: 16,
            max_message_width: 8,
        }
    }

    #[test]
    fn outer_settings_reach_100_conjectured_bits() {
        for log_height in [12, 16, 20] {
            let estimate = estimate(&OUTER_FRI, &representative_wrap_shape(log_height));
            println!("outer FRI, 2^{log_height} rows: {estimate:?}");
            assert!(
                estimate.conjectured_bits >= 100.0,
                "2^{log_height} rows: {estimate:?}"
            );
        }
    }
}
