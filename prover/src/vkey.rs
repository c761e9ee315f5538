//! The program verifying key: a 32-byte commitment to everything about a program a proof's
//! verifier must hold fixed.
//!
//! ```text
//! image   = Sponge("zkmips/image/v1", #segments,
//!                  for each PT_LOAD segment in address order:
//!                    vaddr, mem_size, flags (r | w<<1 | x<<2), #file bytes,
//!                    the file bytes as little-endian words (zero-padded), each as (lo16, hi16))
//! prep    = the p3 preprocessed commitment (Merkle cap) of the fixed tables [Program, Byte],
//!           committed under the inner configuration
//! stack   = Sponge("zkmips/stack/v1", sp, base, #bytes, the initial stack block (no arguments, no
//!                  environment) as little-endian words (zero-padded)) — it holds the auxiliary
//!                  vector, whose program-header fields come from the ELF but not from its segments
//! vkey    = Sponge("zkmips/vkey/v1", VKEY_VERSION, entry, image, stack, log2 program-table height,
//!                  #cap roots, cap roots)
//! ```
//!
//! Every 32-bit value enters as two 16-bit halves (the bus encoding of a word), a domain string
//! one element per byte. `Sponge` is the inner configuration's Merkle leaf hash: the
//! padding-free Poseidon2-KoalaBear sponge (width 16, rate 8, 8-element output). Every
//! variable-length part is preceded by its length, so the encoding is prefix-free and the
//! padding-free sponge is collision resistant on it (about 124 bits, as for Merkle leaves).
//!
//! Why Poseidon2 rather than SHA-256: the proof is later verified inside a recursion whose
//! native field is KoalaBear, then wrapped in Groth16. There, the preprocessed commitment is
//! already a vector of KoalaBear elements produced by this very permutation, so recomputing
//! the vkey costs a handful of native Poseidon2 permutations instead of SHA-256 over 32-bit
//! words emulated in field arithmetic. The vkey is exposed as `bytes32`: the eight canonical
//! elements (each below `2^31`) as big-endian `u32`s.
//!
//! The preprocessed commitment equals the one `p3-batch-stark` computes for a shard batch whose
//! preprocessed chips are exactly `[Program, Byte]`, in that order, at their fixed heights (the
//! other chips have no preprocessed columns and do not enter it), so the verifier of a shard can
//! compare the two directly.

use p3_batch_stark::ProverData;
use p3_field::{PrimeCharacteristicRing, PrimeField32};
use p3_symmetric::CryptographicHasher;
use thiserror::Error;
use zkmips_executor::Program;
use zkmips_executor::elf::ElfError;

use crate::chips::byte::LOG_BYTE_TABLE_HEIGHT;
use crate::chips::program::ProgramError;
use crate::chips::{ByteChip, MipsAir, ProgramChip};
use crate::config::{InnerConfig, LeafHash, StarkGenericConfig, Val, inner_config, inner_perm};

/// Bumped whenever the encoding above or the fixed tables change.
pub const VKEY_VERSION: u32 = 3;

const IMAGE_DOMAIN: &[u8] = b"zkmips/image/v1";
const VKEY_DOMAIN: &[u8] = b"zkmips/vkey/v1";
const STACK_DOMAIN: &[u8] = b"zkmips/stack/v1";

/// Why a verifying key could not be computed.
#[derive(Debug, Error)]
pub enum VkeyError {
    #[error("invalid ELF: {0}")]
    Elf(#[from] ElfError),
    #[error("cannot build the program table: {0}")]
    Program(#[from] ProgramError),
    #[error("cannot build the initial stack: {0}")]
    Stack(String),
    #[error("committing the fixed tables failed: {0}")]
    Commitment(String),
}

/// A program's verifying key: eight canonical KoalaBear elements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct ProgramVkey {
    digest: [u32; 8],
}

impl ProgramVkey {
    /// The digest as field elements.
    pub fn digest(&self) -> [Val; 8] {
        self.digest.map(Val::from_u32)
    }

    /// `bytes32`: each element as a big-endian `u32`.
    pub fn to_bytes(&self) -> [u8; 32] {
        let mut bytes = [0; 32];
        for (chunk, value) in bytes.chunks_exact_mut(4).zip(self.digest) {
            chunk.copy_from_slice(&value.to_be_bytes());
        }
        bytes
    }

    /// `0x` followed by 64 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        let mut hex = String::with_capacity(66);
        hex.push_str("0x");
        for byte in self.to_bytes() {
            hex.push_str(&format!("{byte:02x}"));
        }
        hex
    }

    /// Parses [`Self::to_hex`]'s form (the `0x` prefix is optional). Each 4-byte group must be
    /// a canonical KoalaBear element.
    pub fn from_hex(text: &str) -> Result<Self, VkeyParseError> {
        let digits = text.trim().trim_start_matches("0x");
        if digits.len() != 64 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(VkeyParseError::Format);
        }
        let mut digest = [0u32; 8];
        for (i, value) in digest.iter_mut().enumerate() {
            *value = u32::from_str_radix(&digits[8 * i..8 * i + 8], 16)
                .map_err(|_| VkeyParseError::Format)?;
            if *value >= <Val as PrimeField32>::ORDER_U32 {
                return Err(VkeyParseError::NotCanonical { index: i });
            }
        }
        Ok(Self { digest })
    }
}

/// Why a verifying key string is malformed.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum VkeyParseError {
    #[error("a verifying key is 0x followed by 64 hex digits")]
    Format,
    #[error("word {index} of the verifying key is not a field element")]
    NotCanonical { index: usize },
}

fn push_word(out: &mut Vec<Val>, word: u32) {
    out.push(Val::from_u32(word & 0xffff));
    out.push(Val::from_u32(word >> 16));
}

fn push_len(out: &mut Vec<Val>, len: usize) {
    // Lengths here are bounded by the 32-bit address space.
    push_word(out, u32::try_from(len).unwrap_or(u32::MAX));
}

fn push_domain(out: &mut Vec<Val>, domain: &[u8]) {
    out.extend(domain.iter().map(|&byte| Val::from_u8(byte)));
}

fn sponge(input: Vec<Val>) -> [Val; 8] {
    LeafHash::new(inner_perm()).hash_iter(input)
}

/// Poseidon2 digest of the loaded memory image (every segment's address, size, flags and bytes).
pub fn image_digest(program: &Program) -> [Val; 8] {
    let mut input = Vec::new();
    push_domain(&mut input, IMAGE_DOMAIN);
    push_len(&mut input, program.segments.len());
    for segment in &program.segments {
        push_word(&mut input, segment.vaddr);
        push_word(&mut input, segment.mem_size);
        let flags = u32::from(segment.readable)
            | u32::from(segment.writable) << 1
            | u32::from(segment.executable) << 2;
        input.push(Val::from_u32(flags));
        push_len(&mut input, segment.data.len());
        for chunk in segment.data.chunks(4) {
            let mut word = [0u8; 4];
            word[..chunk.len()].copy_from_slice(chunk);
            push_word(&mut input, u32::from_le_bytes(word));
        }
    }
    sponge(input)
}

/// Poseidon2 digest of the initial stack block of a provable run (built with no arguments and no
/// environment, as `machine::executor_config` runs it): `$sp` and every byte. The block holds
/// values derived from the ELF beyond its loaded segments (the auxiliary vector's program-header
/// address, size and count), so hashing the block itself binds everything the initial memory holds.
pub fn initial_stack_digest(program: &Program) -> Result<[Val; 8], VkeyError> {
    let stack = zkmips_executor::image::try_build_initial_stack(program, &[], &[])
        .map_err(|err| VkeyError::Stack(err.to_string()))?;
    let mut input = Vec::new();
    push_domain(&mut input, STACK_DOMAIN);
    push_word(&mut input, stack.sp);
    push_word(&mut input, stack.base);
    push_len(&mut input, stack.bytes.len());
    for chunk in stack.bytes.chunks(4) {
        let mut word = [0u8; 4];
        word[..chunk.len()].copy_from_slice(chunk);
        push_word(&mut input, u32::from_le_bytes(word));
    }
    Ok(sponge(input))
}

/// The roots of the preprocessed commitment of the fixed tables `[program, Byte]`.
pub fn preprocessed_commitment(
    config: &InnerConfig,
    program: &ProgramChip,
) -> Result<Vec<[Val; 8]>, VkeyError> {
    let airs = [MipsAir::Program(program.clone()), MipsAir::Byte(ByteChip)];
    let is_zk = config.is_zk();
    let degrees = [
        program.height().trailing_zeros() as usize + is_zk,
        LOG_BYTE_TABLE_HEIGHT + is_zk,
    ];
    let data = ProverData::from_airs_and_degrees(config, &airs, &degrees)
        .map_err(|err| VkeyError::Commitment(err.to_string()))?;
    let preprocessed = data
        .common
        .preprocessed
        .ok_or_else(|| VkeyError::Commitment("no preprocessed commitment".into()))?;
    Ok(preprocessed.commitment.roots().to_vec())
}

/// The verifying key of `program` under the inner configuration `config`.
pub fn program_vkey(config: &InnerConfig, program: &Program) -> Result<ProgramVkey, VkeyError> {
    let table = ProgramChip::new(program)?;
    let roots = preprocessed_commitment(config, &table)?;
    let mut input = Vec::new();
    push_domain(&mut input, VKEY_DOMAIN);
    input.push(Val::from_u32(VKEY_VERSION));
    push_word(&mut input, program.entry);
    input.extend(image_digest(program));
    input.extend(initial_stack_digest(program)?);
    input.push(Val::from_usize(table.height().trailing_zeros() as usize));
    push_len(&mut input, roots.len());
    for root in roots {
        input.extend(root);
    }
    Ok(ProgramVkey {
        digest: sponge(input).map(|v| v.as_canonical_u32()),
    })
}

/// The verifying key of an ELF file as `0x`-prefixed `bytes32` hex (`zkmips vkey`).
pub fn vkey_of_elf(bytes: &[u8]) -> Result<String, VkeyError> {
    let program = Program::from_elf(bytes)?;
    Ok(program_vkey(&inner_config(), &program)?.to_hex())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chips::program::tests::{ADDIU_V0_5, BEQL, NOP, SYSCALL, program};

    fn vkey(program: &Program) -> ProgramVkey {
        program_vkey(&inner_config(), program).expect("test programs are valid")
    }

    fn base() -> Program {
        program(&[ADDIU_V0_5, BEQL, NOP, SYSCALL])
    }

    #[test]
    fn same_program_same_vkey() {
        let first = vkey(&base());
        assert_eq!(first, vkey(&base()));
        let hex = first.to_hex();
        assert_eq!(hex.len(), 66);
        assert!(hex.starts_with("0x"));
        assert!(
            hex[2..]
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
    }

    /// Each single change yields a new key; all keys are pairwise distinct.
    #[test]
    fn any_change_changes_the_vkey() {
        let mut variants = vec![base()];
        let mut code = base();
        code.segments[0].data[0] ^= 1; // addiu $v0, $zero, 4
        variants.push(code);
        let mut data = base();
        data.segments[1].data[2] ^= 0x80;
        variants.push(data);
        let mut entry = base();
        entry.entry += 4;
        variants.push(entry);
        let mut flags = base();
        flags.segments[1].writable = false;
        variants.push(flags);
        let mut bss = base();
        bss.segments[1].mem_size += 4;
        variants.push(bss);
        let keys: Vec<ProgramVkey> = variants.iter().map(vkey).collect();
        for i in 0..keys.len() {
            for j in i + 1..keys.len() {
                assert_ne!(keys[i], keys[j], "variants {i} and {j} share a vkey");
            }
        }
    }

    /// Code enters through the program table's commitment, data only through the image.
    #[test]
    fn code_is_bound_by_the_fixed_tables() {
        let config = inner_config();
        let commit = |program: &Program| {
            preprocessed_commitment(&config, &ProgramChip::new(program).unwrap()).unwrap()
        };
        let mut code = base();
        code.segments[0].data[0] ^= 1;
        let mut data = base();
        data.segments[1].data[0] ^= 1;
        assert_ne!(commit(&base()), commit(&code));
        assert_eq!(commit(&base()), commit(&data));
        assert_ne!(image_digest(&base()), image_digest(&data));
    }

    #[test]
    fn vkey_of_an_elf_file() {
        let elf = include_bytes!("../../examples/bin/fibonacci.elf");
        let hex = vkey_of_elf(elf).expect("the example ELF has a vkey");
        let program = Program::from_elf(elf).unwrap();
        assert_eq!(hex, vkey(&program).to_hex());
        assert_eq!(hex, vkey_of_elf(elf).unwrap());
        assert!(matches!(vkey_of_elf(&elf[..100]), Err(VkeyError::Elf(_))));
    }
}
