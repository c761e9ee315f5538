//! Host-side view of the public-values digest a guest publishes when it halts.
//!
//! A proof binds the public values through memory: before `HALT` the guest stores the SHA-256 of everything
//! it committed at [`PUBLIC_DIGEST_ADDR`], and the verifier compares that region of the proven final memory
//! with the SHA-256 of the public values it is given. These helpers run the same comparison on an executor's
//! final memory, so `zkmips run` can say early whether a run's proof would bind its public values.
use sha2::{Digest, Sha256};
use zkmips_abi::layout::{PUBLIC_DIGEST_ADDR, PUBLIC_DIGEST_LEN};

use crate::Memory;

/// Whether a finished run published the digest of its public values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PublicDigestStatus {
    /// The region holds SHA-256 of the public values.
    Published,
    /// The region holds something else (all zero when the guest's runtime never wrote it).
    Mismatch { expected: [u8; 32], found: [u8; 32] },
}

/// The [`PUBLIC_DIGEST_LEN`] bytes at [`PUBLIC_DIGEST_ADDR`], in address order.
pub fn published_public_digest(memory: &Memory) -> [u8; 32] {
    const _: () = assert!(PUBLIC_DIGEST_LEN == 32);
    core::array::from_fn(|i| memory.peek_byte(PUBLIC_DIGEST_ADDR + i as u32))
}

/// Compares the digest region of `memory` (a run's final memory) with SHA-256 of `public_values`.
pub fn public_digest_status(memory: &Memory, public_values: &[u8]) -> PublicDigestStatus {
    let expected: [u8; 32] = Sha256::digest(public_values).into();
    let found = published_public_digest(memory);
    if found == expected {
        PublicDigestStatus::Published
    } else {
        PublicDigestStatus::Mismatch { expected, found }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SHA-256 of the empty string (FIPS 180-4 test vectors).
    const EMPTY_DIGEST: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn digest_bytes_are_read_in_address_order() {
        let mut memory = Memory::new();
        let bytes: Vec<u8> = (1..=32).collect();
        memory.poke_bytes(PUBLIC_DIGEST_ADDR, &bytes);
        assert_eq!(published_public_digest(&memory).as_slice(), bytes);
        // Little-endian words: the first word holds bytes 1, 2, 3, 4 from its lowest address up.
        assert_eq!(memory.peek_word(PUBLIC_DIGEST_ADDR), 0x0403_0201);
    }

    #[test]
    fn matching_digest_is_published() {
        let mut memory = Memory::new();
        let digest = Sha256::digest(b"public values");
        memory.poke_bytes(PUBLIC_DIGEST_ADDR, &digest);
        assert_eq!(
            public_digest_status(&memory, b"public values"),
            PublicDigestStatus::Published
        );
    }

    #[test]
    fn unwritten_or_wrong_region_is_a_mismatch() {
        let memory = Memory::new();
        let status = public_digest_status(&memory, b"");
        let PublicDigestStatus::Mismatch { expected, found } = status else {
            panic!("an all-zero region is not sha256(\"\")");
        };
        assert_eq!(hex(&expected), EMPTY_DIGEST);
        assert_eq!(found, [0; 32]);

        // One flipped bit, and the digest of other values.
        let mut memory = Memory::new();
        let mut digest: [u8; 32] = Sha256::digest(b"abc").into();
        digest[31] ^= 1;
        memory.poke_bytes(PUBLIC_DIGEST_ADDR, &digest);
        assert!(matches!(
            public_digest_status(&memory, b"abc"),
            PublicDigestStatus::Mismatch { found, .. } if found == digest
        ));
        memory.poke_bytes(PUBLIC_DIGEST_ADDR, &Sha256::digest(b"abd"));
        assert_ne!(
            public_digest_status(&memory, b"abc"),
            PublicDigestStatus::Published
        );
    }
}
