//! The inner STARK configuration: every shard proof is made with it.
//!
//! - Field: KoalaBear (`p = 2^31 - 2^24 + 1`), challenges in its degree-4 binomial extension
//!   (about 124 bits).
//! - Hash: Poseidon2 width 16 with the round constants shipped by `p3-koala-bear` 0.8
//!   ([`p3_koala_bear::default_koalabear_poseidon2_16`]: Grain LFSR, `R_F = 8`, `R_P = 20`,
//!   S-box `x^3`). Merkle leaves use a padding-free sponge (rate 8, 8-element digests, about
//!   124 bits of collision resistance), inner nodes a truncated permutation (2-to-1).
//!   The same permutation drives the duplex Fiat-Shamir challenger.
//! - PCS: two-adic FRI over a `Radix2DitParallel` DFT with the parameters of [`INNER_FRI`].
//!
//! Chips and the batch helpers stay generic over [`StarkGenericConfig`], so the same tables can
//! be proved with the BN254-friendly outer configuration (`crate::outer`, owned by the wrapper).

use p3_challenger::DuplexChallenger;
use p3_commit::ExtensionMmcs;
use p3_dft::Radix2DitParallel;
use p3_field::Field;
use p3_field::extension::BinomialExtensionField;
use p3_fri::{FriParameters, TwoAdicFriPcs};
use p3_koala_bear::{KoalaBear, Poseidon2KoalaBear, default_koalabear_poseidon2_16};
use p3_merkle_tree::MerkleTreeMmcs;
use p3_symmetric::{PaddingFreeSponge, TruncatedPermutation};
use p3_uni_stark::StarkConfig;

pub use p3_uni_stark::StarkGenericConfig;

/// Base field of every trace.
pub type Val = KoalaBear;
/// Challenge field: the degree-4 extension of [`Val`].
pub type Challenge = BinomialExtensionField<Val, 4>;
/// Poseidon2 permutation over 16 KoalaBear elements.
pub type Perm = Poseidon2KoalaBear<16>;
/// Leaf hash: width 16, rate 8, 8-element output.
pub type LeafHash = PaddingFreeSponge<Perm, 16, 8, 8>;
/// 2-to-1 node compression with 8-element digests.
pub type NodeCompress = TruncatedPermutation<Perm, 2, 8, 16>;
/// Merkle commitment to base-field matrices (packed for SIMD hashing).
pub type ValMmcs =
    MerkleTreeMmcs<<Val as Field>::Packing, <Val as Field>::Packing, LeafHash, NodeCompress, 2, 8>;
/// Merkle commitment to extension-field matrices (FRI layers).
pub type ChallengeMmcs = ExtensionMmcs<Val, Challenge, ValMmcs>;
/// Fiat-Shamir transcript: duplex sponge over the same permutation.
pub type Challenger = DuplexChallenger<Val, Perm, 16, 8>;
/// DFT used for low-degree extensions.
pub type Dft = Radix2DitParallel<Val>;
/// The polynomial commitment scheme.
pub type Pcs = TwoAdicFriPcs<Val, Dft, ValMmcs, ChallengeMmcs>;
/// The complete inner configuration.
pub type InnerConfig = StarkConfig<Pcs, Challenge, Challenger>;

/// FRI and grinding parameters of a configuration, in one place so the prover, the verifier and
/// the security estimate ([`crate::security`]) read the same numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FriSettings {
    /// `log2` of the blowup factor; the code rate is `2^-log_blowup`.
    pub log_blowup: usize,
    /// Number of FRI query repetitions.
    pub num_queries: usize,
    /// Grinding before the FRI queries are sampled.
    pub query_pow_bits: usize,
    /// Grinding before each FRI folding challenge.
    pub commit_pow_bits: usize,
    /// Grinding before the challenge that batches all opened columns into one FRI instance.
    pub batch_pow_bits: usize,
    /// Grinding before the LogUp challenges are sampled.
    pub lookup_pow_bits: usize,
    /// Grinding before the out-of-domain (DEEP) point is sampled.
    pub ood_pow_bits: usize,
    /// `log2` of the final FRI polynomial length. 0 folds down to a constant, which also lets
    /// the tiniest traces (a few rows) be proved.
    pub log_final_poly_len: usize,
    /// `log2` of the FRI folding arity.
    pub max_log_arity: usize,
}

/// Inner FRI parameters.
///
/// Rate 1/2 (`log_blowup = 1`) keeps the low-degree extension, the DFTs and the Merkle hashing as
/// small as possible, which is what dominates proving time; the price is more queries (a larger
/// proof and a slower verifier), which only matters once proofs are recursively verified.
/// 100 queries plus 16 bits of query grinding give about 113 conjectured bits for the
/// low-degree test. The one-shot grinds before the lookup, DEEP and batching challenges cost
/// `2^16` hashes each (milliseconds) and lift the terms that otherwise shrink with the trace
/// length (LogUp fingerprint, DEEP, opening batching) well above 100 bits at shard sizes up to
/// `2^22` rows. See `docs/PROVER.md` and [`crate::security`] for the numbers.
pub const INNER_FRI: FriSettings = FriSettings {
    log_blowup: 1,
    num_queries: 100,
    query_pow_bits: 16,
    commit_pow_bits: 8,
    batch_pow_bits: 16,
    lookup_pow_bits: 16,
    ood_pow_bits: 16,
    log_final_poly_len: 0,
    max_log_arity: 1,
};

/// Inner settings for proofs that a recursion program verifies (the MIPS shard and the
/// compress layer of the EVM path, docs/RECURSION.md §0): blowup 8, folding arity 8, 28 queries
/// plus 16 bits of grinding (about 100 conjectured bits, as [`INNER_FRI`]) — the cheapest
/// verifier program measured (BENCHMARKS.md "Recursion").
pub const COMPRESS_FRI: FriSettings = FriSettings {
    log_blowup: 3,
    max_log_arity: 3,
    num_queries: 28,
    ..INNER_FRI
};

/// Inner settings for **tests only** (NOT secure): 2 queries and 1 bit of grinding at every
/// site, so every part of the transcript runs while the verifier programs of recursion tests
/// stay small.
pub const INNER_TEST_FRI: FriSettings = FriSettings {
    num_queries: 2,
    query_pow_bits: 1,
    commit_pow_bits: 1,
    batch_pow_bits: 1,
    lookup_pow_bits: 1,
    ood_pow_bits: 1,
    ..INNER_FRI
};

impl FriSettings {
    /// The `p3-fri` parameter struct for these settings and the given commitment scheme.
    pub const fn fri_parameters<M>(&self, mmcs: M) -> FriParameters<M> {
        FriParameters {
            log_blowup: self.log_blowup,
            log_final_poly_len: self.log_final_poly_len,
            max_log_arity: self.max_log_arity,
            num_queries: self.num_queries,
            batch_proof_of_work_bits: self.batch_pow_bits,
            commit_proof_of_work_bits: self.commit_pow_bits,
            query_proof_of_work_bits: self.query_pow_bits,
            mmcs,
        }
    }
}

/// The inner Poseidon2 permutation with the constants `p3-koala-bear` 0.8 ships.
pub fn inner_perm() -> Perm {
    default_koalabear_poseidon2_16()
}

/// The inner configuration with the production parameters [`INNER_FRI`].
pub fn inner_config() -> InnerConfig {
    inner_config_with(&INNER_FRI)
}

/// The inner configuration with explicit FRI settings (benchmarks compare parameter choices).
pub fn inner_config_with(settings: &FriSettings) -> InnerConfig {
    let perm = inner_perm();
    let val_mmcs = ValMmcs::new(
        LeafHash::new(perm.clone()),
        NodeCompress::new(perm.clone()),
        0,
    );
    let challenge_mmcs = ChallengeMmcs::new(val_mmcs.clone());
    let pcs = Pcs::new(
        Dft::default(),
        val_mmcs,
        settings.fri_parameters(challenge_mmcs),
    );
    StarkConfig::new(pcs, Challenger::new(perm))
        .with_lookup_proof_of_work_bits(settings.lookup_pow_bits)
        .with_ood_proof_of_work_bits(settings.ood_pow_bits)
}

#[cfg(test)]
mod tests {
    use p3_field::PrimeCharacteristicRing;
    use p3_symmetric::Permutation;

    use super::*;

    /// The permutation is the deterministic one `p3-koala-bear` ships: two independently built
    /// instances agree, and it is not the identity.
    #[test]
    fn inner_permutation_is_fixed_and_nontrivial() {
        let input: [Val; 16] = core::array::from_fn(Val::from_usize);
        let first = inner_perm().permute(input);
        let second = inner_perm().permute(input);
        assert_eq!(first, second);
        assert_ne!(first, input);
    }

    #[test]
    fn fri_parameters_mirror_settings() {
        let params = INNER_FRI.fri_parameters(());
        assert_eq!(params.log_blowup, INNER_FRI.log_blowup);
        assert_eq!(params.num_queries, INNER_FRI.num_queries);
        assert_eq!(params.query_proof_of_work_bits, INNER_FRI.query_pow_bits);
        assert_eq!(params.batch_proof_of_work_bits, INNER_FRI.batch_pow_bits);
        let config = inner_config();
        assert_eq!(
            config.lookup_proof_of_work_bits(),
            INNER_FRI.lookup_pow_bits
        );
        assert_eq!(config.ood_proof_of_work_bits(), INNER_FRI.ood_pow_bits);
    }
}
