//! Poseidon2 over the BN254 scalar field (width 3, 8 full + 56 partial rounds, x^5), built from
//! the round constants committed in [`super::poseidon2_bn254_constants`].
//!
//! `p3-bn254`'s `Poseidon2Bn254<3>` follows the Poseidon2 reference layout: one external linear
//! layer `circ(2, 1, 1)` before the first round, external rounds `add constants -> x^5 on all
//! cells -> circ(2, 1, 1)`, partial rounds `add constant to cell 0 -> x^5 on cell 0 ->
//! (J + diag(1, 1, 2))`. The tests below pin that layout against an explicit textbook
//! implementation and the reference known-answer vector.

use p3_bn254::{Bn254, Poseidon2Bn254};
use p3_poseidon2::ExternalLayerConstants;

use super::poseidon2_bn254_constants::{EXTERNAL_INITIAL, EXTERNAL_TERMINAL, INTERNAL};

/// The outer permutation: Poseidon2 over BN254 Fr, width 3.
pub type OuterPerm = Poseidon2Bn254<3>;

/// Parses a `0x`-prefixed big-endian hex integer of at most 256 bits into little-endian limbs.
/// Returns `None` for anything else (no prefix, a non-hex digit, more than 64 digits).
pub fn hex_to_limbs(hex: &str) -> Option<[u64; 4]> {
    let digits = hex.strip_prefix("0x")?;
    if digits.is_empty() || digits.len() > 64 {
        return None;
    }
    let mut limbs = [0u64; 4];
    for (position, digit) in digits.bytes().rev().enumerate() {
        let value = (digit as char).to_digit(16)? as u64;
        limbs[position / 16] |= value << (4 * (position % 16));
    }
    Some(limbs)
}

/// A committed constant as a field element. The constants are generated `< p` and checked by a
/// test, so a failure here is a corrupted source file, not an input error.
pub fn bn254_from_hex(hex: &str) -> Bn254 {
    let limbs =
        hex_to_limbs(hex).unwrap_or_else(|| panic!("malformed Poseidon2-BN254 constant {hex:?}"));
    Bn254::new(limbs)
}

fn full_rounds(rounds: &[[&str; 3]]) -> Vec<[Bn254; 3]> {
    rounds
        .iter()
        .map(|round| round.map(bn254_from_hex))
        .collect()
}

/// The outer permutation with the committed constants.
pub fn outer_perm() -> OuterPerm {
    let external = ExternalLayerConstants::new(
        full_rounds(&EXTERNAL_INITIAL),
        full_rounds(&EXTERNAL_TERMINAL),
    );
    let internal = INTERNAL.iter().map(|c| bn254_from_hex(c)).collect();
    OuterPerm::new(external, internal)
}

#[cfg(test)]
mod tests {
    use p3_field::{PrimeCharacteristicRing, PrimeField};
    use p3_symmetric::Permutation;

    use super::*;

    /// The Poseidon2 reference's published BN254 t = 3 vector: permutation of [0, 1, 2]
    /// (HorizenLabs/poseidon2, `plain_implementations/src/poseidon2/poseidon2.rs`).
    const KAT_OUTPUT: [&str; 3] = [
        "0x0bb61d24daca55eebcb1929a82650f328134334da98ea4f847f760054f4a3033",
        "0x303b6f7c86d043bfcbcc80214f26a30277a15d3f74ca654992defe7ff8d03570",
        "0x1ed25194542b12eef8617361c3ba7c52e660b145994427cc86296242cf766ec8",
    ];

    fn splitmix(state: &mut u64) -> u64 {
        *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn pseudo_random_state(seed: u64) -> [Bn254; 3] {
        let mut s = seed;
        std::array::from_fn(|_| Bn254::new(std::array::from_fn(|_| splitmix(&mut s))))
    }

    /// Poseidon2 written directly from the paper's matrices, independent of p3's layer code.
    fn textbook_permutation(mut state: [Bn254; 3]) -> [Bn254; 3] {
        let external = |s: &mut [Bn254; 3]| {
            // circ(2, 1, 1)
            let m = [[2u64, 1, 1], [1, 2, 1], [1, 1, 2]];
            *s = std::array::from_fn(|i| (0..3).map(|j| s[j] * Bn254::from_u64(m[i][j])).sum());
        };
        let internal = |s: &mut [Bn254; 3]| {
            // J + diag(1, 1, 2): the reference's MAT_DIAG3_M_1 = [1, 1, 2].
            let m = [[2u64, 1, 1], [1, 2, 1], [1, 1, 3]];
            *s = std::array::from_fn(|i| (0..3).map(|j| s[j] * Bn254::from_u64(m[i][j])).sum());
        };
        let sbox = |x: Bn254| x.exp_const_u64::<5>();
        external(&mut state);
        for round in EXTERNAL_INITIAL {
            for (cell, c) in state.iter_mut().zip(round) {
                *cell = sbox(*cell + bn254_from_hex(c));
            }
            external(&mut state);
        }
        for c in INTERNAL {
            state[0] = sbox(state[0] + bn254_from_hex(c));
            internal(&mut state);
        }
        for round in EXTERNAL_TERMINAL {
            for (cell, c) in state.iter_mut().zip(round) {
                *cell = sbox(*cell + bn254_from_hex(c));
            }
            external(&mut state);
        }
        state
    }

    #[test]
    fn known_answer_vector_of_the_reference() {
        let input = [Bn254::ZERO, Bn254::ONE, Bn254::TWO];
        let output = outer_perm().permute(input);
        assert_eq!(output, KAT_OUTPUT.map(bn254_from_hex));
        assert_eq!(textbook_permutation(input), KAT_OUTPUT.map(bn254_from_hex));
    }

    #[test]
    fn p3_layers_match_the_textbook_matrices() {
        let perm = outer_perm();
        for seed in 0..16 {
            let input = pseudo_random_state(seed);
            assert_eq!(
                perm.permute(input),
                textbook_permutation(input),
                "seed {seed}"
            );
        }
    }

    #[test]
    fn constants_are_canonical() {
        let all = EXTERNAL_INITIAL
            .iter()
            .chain(EXTERNAL_TERMINAL.iter())
            .flatten()
            .chain(INTERNAL.iter());
        for c in all {
            let parsed = bn254_from_hex(c);
            // Canonical round trip: the hex value was already < p, so no reduction happened.
            let back = format!("0x{:0>64}", parsed.as_canonical_biguint().to_str_radix(16));
            assert_eq!(&back, c);
        }
    }

    #[test]
    fn hex_parser_rejects_malformed_input() {
        assert_eq!(hex_to_limbs("0x01"), Some([1, 0, 0, 0]));
        assert_eq!(
            hex_to_limbs("0x10000000000000000"),
            Some([0, 1, 0, 0]),
            "digit 17 lands in limb 1"
        );
        assert_eq!(hex_to_limbs("01"), None);
        assert_eq!(hex_to_limbs("0x"), None);
        assert_eq!(hex_to_limbs("0xzz"), None);
        assert_eq!(hex_to_limbs(&format!("0x1{}", "0".repeat(64))), None);
    }
}
