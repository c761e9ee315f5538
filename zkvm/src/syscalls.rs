//! Raw zkVM service calls (see [`zkmips_abi::syscall`] for the exact contract of each).
//!
//! The service number goes in `$v0`, arguments in `$a0..$a2`, the result comes back in `$v0`. The zkVM
//! services only write `$v0`, but the executor serves Linux o32 calls through the same instruction and those
//! also set `$a3` (and `$v1` on real kernels), so the wrappers declare `$v1` and `$a3` clobbered too: it costs
//! nothing measurable and keeps the guest correct if a service ever reports an error flag.
//!
//! The slice-taking wrappers skip the call for empty slices: an empty slice's pointer may be dangling (for
//! example `0x1`), which the executor would rightly reject as an access below the null guard.
use core::arch::asm;
use zkmips_abi::syscall as nr;

/// Service call with up to three arguments.
///
/// # Safety
/// The arguments must satisfy the service's contract: pointers valid for the lengths the service reads or
/// writes.
#[inline(always)]
pub unsafe fn syscall3(number: u32, a0: u32, a1: u32, a2: u32) -> u32 {
    let result;
    // SAFETY: the caller upholds the service's memory contract; the clobber list covers every register a
    // service may write.
    unsafe {
        asm!(
            "syscall",
            inlateout("$2") number => result,
            in("$4") a0,
            in("$5") a1,
            in("$6") a2,
            lateout("$3") _,
            lateout("$7") _,
            options(nostack),
        );
    }
    result
}

/// Publishes the digest of the public values at
/// [`PUBLIC_DIGEST_ADDR`](zkmips_abi::layout::PUBLIC_DIGEST_ADDR), then stops the machine with exit code
/// `code`. Every way out of an SDK guest (return from the entry function, [`crate::halt`], a panic) ends
/// here, so a proof always binds the public values.
#[inline]
pub fn halt(code: u32) -> ! {
    crate::public_values::publish();
    // SAFETY: HALT reads no guest memory and never returns.
    unsafe {
        asm!(
            "syscall",
            in("$2") nr::HALT,
            in("$4") code,
            options(noreturn, nostack, nomem),
        );
    }
}

/// Writes `bytes` to host file descriptor `fd` ([`zkmips_abi::fd`]). Returns the number of bytes written.
#[inline]
pub fn write(fd: u32, bytes: &[u8]) -> u32 {
    if bytes.is_empty() {
        return 0;
    }
    // SAFETY: the service reads exactly `bytes.len()` bytes from a valid slice.
    unsafe { syscall3(nr::WRITE, fd, bytes.as_ptr() as u32, bytes.len() as u32) }
}

/// Appends `bytes` to the public-values stream and to the running SHA-256 that [`halt`] publishes. (A raw
/// [`syscall3`] `COMMIT` skips the hash, and the proof of such a run does not verify.)
#[inline]
pub fn commit(bytes: &[u8]) {
    if bytes.is_empty() {
        return;
    }
    crate::public_values::absorb(bytes);
    // SAFETY: the service reads exactly `bytes.len()` bytes from a valid slice.
    unsafe { syscall3(nr::COMMIT, bytes.as_ptr() as u32, bytes.len() as u32, 0) };
}

/// Length of the next input item, or [`zkmips_abi::NO_MORE_ITEMS`].
#[inline]
pub fn input_len() -> u32 {
    // SAFETY: INPUT_LEN touches no guest memory.
    unsafe { syscall3(nr::INPUT_LEN, 0, 0, 0) }
}

/// Copies the next input item to `dst` and consumes it.
///
/// # Safety
/// `dst` must be valid for `len` writes, and `len` must equal [`input_len`] (the executor traps otherwise).
#[inline]
pub unsafe fn input_read(dst: *mut u8, len: u32) {
    // SAFETY: forwarded to the caller.
    unsafe { syscall3(nr::INPUT_READ, dst as u32, len, 0) };
}

/// Length of the next hint item, or [`zkmips_abi::NO_MORE_ITEMS`].
#[inline]
pub fn hint_len() -> u32 {
    // SAFETY: HINT_LEN touches no guest memory.
    unsafe { syscall3(nr::HINT_LEN, 0, 0, 0) }
}

/// Copies the next hint item to `dst` and consumes it.
///
/// # Safety
/// `dst` must be valid for `len` writes, and `len` must equal [`hint_len`].
#[inline]
pub unsafe fn hint_read(dst: *mut u8, len: u32) {
    // SAFETY: forwarded to the caller.
    unsafe { syscall3(nr::HINT_READ, dst as u32, len, 0) };
}

/// Sends `bytes` to the host's hint-output channel.
#[inline]
pub fn hint_write(bytes: &[u8]) {
    if bytes.is_empty() {
        return;
    }
    // SAFETY: the service reads exactly `bytes.len()` bytes from a valid slice.
    unsafe { syscall3(nr::HINT_WRITE, bytes.as_ptr() as u32, bytes.len() as u32, 0) };
}

/// SHA-256 message-schedule service.
///
/// # Safety
/// `w` must point to 64 writable, 4-aligned `u32` words.
#[inline]
pub unsafe fn sha256_extend(w: *mut u32) {
    // SAFETY: forwarded to the caller.
    unsafe { syscall3(nr::SHA256_EXTEND, w as u32, 0, 0) };
}

/// SHA-256 compression service.
///
/// # Safety
/// `w` must point to 64 readable words and `state` to 8 writable words, both 4-aligned.
#[inline]
pub unsafe fn sha256_compress(w: *const u32, state: *mut u32) {
    // SAFETY: forwarded to the caller.
    unsafe { syscall3(nr::SHA256_COMPRESS, w as u32, state as u32, 0) };
}

/// keccak-f\[1600\] service.
///
/// # Safety
/// `state` must point to 25 writable, 4-aligned `u64` lanes.
#[inline]
pub unsafe fn keccak_permute(state: *mut u64) {
    // SAFETY: forwarded to the caller.
    unsafe { syscall3(nr::KECCAK_PERMUTE, state as u32, 0, 0) };
}
