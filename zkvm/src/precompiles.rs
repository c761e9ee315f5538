//! Accelerated primitives. Each is one zkVM service call, proven by a dedicated table instead of thousands
//! of MIPS instructions.
use crate::syscalls;

/// Fills `w[16..64]` with the SHA-256 message schedule derived from `w[0..16]`.
#[inline]
pub fn sha256_extend(w: &mut [u32; 64]) {
    // SAFETY: `w` is 64 writable, aligned words.
    unsafe { syscalls::sha256_extend(w.as_mut_ptr()) }
}

/// Runs the 64 SHA-256 rounds over the schedule `w` and adds the result into `state` (one compression).
#[inline]
pub fn sha256_compress(w: &[u32; 64], state: &mut [u32; 8]) {
    // SAFETY: `w` is 64 readable words and `state` 8 writable words, both aligned.
    unsafe { syscalls::sha256_compress(w.as_ptr(), state.as_mut_ptr()) }
}

/// Applies keccak-f\[1600\] to the 25 lanes in place (lane `i` = `state[i]`, the order of FIPS 202 `x + 5y`).
#[inline]
pub fn keccak_permute(state: &mut [u64; 25]) {
    // SAFETY: `state` is 25 writable lanes, 8-aligned.
    unsafe { syscalls::keccak_permute(state.as_mut_ptr()) }
}

/// Keccak-256 (the Ethereum hash: Keccak padding `0x01`, not SHA-3's `0x06`) computed with
/// [`keccak_permute`]: one service call per 136-byte block.
pub fn keccak256(data: &[u8]) -> [u8; 32] {
    const RATE: usize = 136;
    let mut state = [0u64; 25];
    let mut blocks = data.chunks_exact(RATE);
    for block in &mut blocks {
        absorb(&mut state, block);
        keccak_permute(&mut state);
    }
    let tail = blocks.remainder();
    let mut last = [0u8; RATE];
    last[..tail.len()].copy_from_slice(tail);
    last[tail.len()] ^= 0x01;
    last[RATE - 1] ^= 0x80;
    absorb(&mut state, &last);
    keccak_permute(&mut state);

    let mut digest = [0u8; 32];
    for (out, lane) in digest.chunks_exact_mut(8).zip(state) {
        out.copy_from_slice(&lane.to_le_bytes());
    }
    digest
}

/// XORs a rate-sized block into the first lanes (bytes are little-endian within each lane).
fn absorb(state: &mut [u64; 25], block: &[u8]) {
    for (lane, bytes) in state.iter_mut().zip(block.chunks_exact(8)) {
        *lane ^= u64::from_le_bytes(bytes.try_into().expect("chunks_exact yields 8 bytes"));
    }
}
