//! Conversions between Plonky3's and arkworks' representations of BN254 Fr.

use ark_ff::{BigInteger, PrimeField as _};
use p3_bn254::Bn254;
use p3_field::PrimeField as _;

use crate::Fr;

/// The same field element as an arkworks `Fr`.
pub fn bn254_to_fr(value: Bn254) -> Fr {
    Fr::from_le_bytes_mod_order(&value.as_canonical_biguint().to_bytes_le())
}

/// The same field element as a Plonky3 `Bn254`.
pub fn fr_to_bn254(value: Fr) -> Bn254 {
    let bytes = value.into_bigint().to_bytes_le();
    let limbs: [u64; 4] = std::array::from_fn(|i| {
        u64::from_le_bytes(bytes[8 * i..8 * i + 8].try_into().expect("8-byte chunk"))
    });
    // A canonical Fr is < p, so `new` performs no reduction.
    Bn254::new(limbs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::UniformRand;
    use ark_std::rand::SeedableRng;
    use ark_std::rand::rngs::StdRng;

    #[test]
    fn round_trips_preserve_the_element() {
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..32 {
            let x = Fr::rand(&mut rng);
            assert_eq!(bn254_to_fr(fr_to_bn254(x)), x);
        }
        assert_eq!(bn254_to_fr(fr_to_bn254(-Fr::from(1u64))), -Fr::from(1u64));
    }
}
