//! The running SHA-256 of the public values, and its publication when the guest halts.
//!
//! A proof binds the public values through memory: [`crate::syscalls::commit`] feeds every committed byte to
//! the hasher here, and [`crate::syscalls::halt`] stores the digest at
//! [`PUBLIC_DIGEST_ADDR`](zkmips_abi::layout::PUBLIC_DIGEST_ADDR) just before the `HALT` service. The
//! verifier reads that region from the proven final memory and checks it against the SHA-256 of the public
//! values it is given. Hashing runs as ordinary MIPS code (the `sha2` crate's compression function), so it
//! is proven like the rest of the guest and needs no precompile.
use core::cell::UnsafeCell;

use sha2::digest::generic_array::GenericArray;
use zkmips_abi::layout::{PUBLIC_DIGEST_ADDR, PUBLIC_DIGEST_LEN};

const BLOCK: usize = 64;

/// SHA-256 initial hash value (FIPS 180-4 §5.3.3).
const INITIAL_STATE: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// SHA-256 over a stream that arrives in pieces. Const-constructible, so it lives in `.data` and needs no
/// initialisation code.
struct StreamHasher {
    state: [u32; 8],
    /// The first `total % 64` bytes are the start of the next, incomplete block.
    pending: [u8; BLOCK],
    /// Bytes absorbed so far.
    total: u64,
}

impl StreamHasher {
    const fn new() -> Self {
        Self {
            state: INITIAL_STATE,
            pending: [0; BLOCK],
            total: 0,
        }
    }

    fn update(&mut self, mut bytes: &[u8]) {
        let used = (self.total % BLOCK as u64) as usize;
        self.total = self.total.wrapping_add(bytes.len() as u64);
        if used != 0 {
            let take = bytes.len().min(BLOCK - used);
            self.pending[used..used + take].copy_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if used + take < BLOCK {
                return;
            }
            compress(&mut self.state, &self.pending);
        }
        let mut blocks = bytes.chunks_exact(BLOCK);
        for block in &mut blocks {
            compress(&mut self.state, block);
        }
        let rest = blocks.remainder();
        self.pending[..rest.len()].copy_from_slice(rest);
    }

    /// The digest of everything absorbed so far (the hasher itself is left unchanged).
    fn digest(&self) -> [u8; 32] {
        let used = (self.total % BLOCK as u64) as usize;
        let mut state = self.state;
        let mut last = [0u8; BLOCK];
        last[..used].copy_from_slice(&self.pending[..used]);
        last[used] = 0x80;
        // The 8-byte bit length must fit after the 0x80 marker; otherwise it goes in one more block.
        if used >= BLOCK - 8 {
            compress(&mut state, &last);
            last = [0; BLOCK];
        }
        last[BLOCK - 8..].copy_from_slice(&self.total.wrapping_mul(8).to_be_bytes());
        compress(&mut state, &last);
        let mut digest = [0u8; 32];
        for (out, word) in digest.chunks_exact_mut(4).zip(state) {
            out.copy_from_slice(&word.to_be_bytes());
        }
        digest
    }
}

/// One SHA-256 compression of a 64-byte block.
fn compress(state: &mut [u32; 8], block: &[u8]) {
    sha2::compress256(
        state,
        core::slice::from_ref(GenericArray::from_slice(block)),
    );
}

struct Global(UnsafeCell<StreamHasher>);

// SAFETY: the zkVM runs one hart with no interrupts, and neither `absorb` nor `publish` can re-enter itself
// (they call nothing that commits or halts), so the cell is never borrowed twice.
unsafe impl Sync for Global {}

static PUBLIC_VALUES: Global = Global(UnsafeCell::new(StreamHasher::new()));

/// Feeds committed bytes to the running hash. Called for every `COMMIT` the SDK issues.
pub(crate) fn absorb(bytes: &[u8]) {
    // SAFETY: see `Global`: no other reference to the hasher exists while this one lives.
    unsafe { (*PUBLIC_VALUES.0.get()).update(bytes) }
}

/// SHA-256 of the public values committed so far: what the guest publishes if it halts now.
pub(crate) fn digest() -> [u8; 32] {
    // SAFETY: see `Global`; this is a shared borrow only.
    unsafe { (*PUBLIC_VALUES.0.get()).digest() }
}

/// Stores [`digest`] at `PUBLIC_DIGEST_ADDR`, byte `i` at `PUBLIC_DIGEST_ADDR + i`. Called on every exit
/// path right before `HALT`.
pub(crate) fn publish() {
    const _: () = assert!(PUBLIC_DIGEST_LEN == 32);
    let digest = digest();
    for (i, bytes) in digest.chunks_exact(4).enumerate() {
        let word = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        let addr = (PUBLIC_DIGEST_ADDR as usize + 4 * i) as *mut u32;
        // SAFETY: the digest region is reserved guest memory (4-aligned, above the null guard) that nothing
        // else uses. Volatile, because no Rust code ever reads it back: the verifier does.
        unsafe { addr.write_volatile(word) };
    }
}
