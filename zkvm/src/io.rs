//! The guest's input, hint and output streams.
//!
//! - **Input** (`zkmips run --input FILE`, one item per file): the private input of the proven statement.
//!   [`read_vec`] returns the next item's raw bytes, [`read`] decodes it with postcard.
//! - **Public values**: everything passed to [`commit`] / [`commit_slice`], concatenated. The proof binds
//!   their SHA-256 digest; the verifier sees the bytes.
//! - **Hints** (`--hint FILE`): untrusted prover advice. A guest must check anything it learns from a hint.
//!   [`hint`] / [`hint_slice`] go the other way, guest to host, outside the proof.
//!
//! Values are encoded with [postcard](https://docs.rs/postcard), so the host side can produce inputs and
//! decode public values with `postcard::to_allocvec` / `postcard::from_bytes`.
use alloc::vec::Vec;
use core::fmt;
use serde::Serialize;
use serde::de::DeserializeOwned;
use zkmips_abi::NO_MORE_ITEMS;

use crate::syscalls;

/// Length of the next input item, or `None` when the input stream is exhausted.
pub fn input_len() -> Option<usize> {
    match syscalls::input_len() {
        NO_MORE_ITEMS => None,
        len => Some(len as usize),
    }
}

/// Consumes the next input item and returns its bytes. Panics when no item is left.
#[track_caller]
pub fn read_vec() -> Vec<u8> {
    let len = input_len()
        .expect("zkmips: read_vec: the input stream has no item left (pass one with --input)");
    // SAFETY: the closure's pointer is valid for `len` bytes, which is the item's length.
    unsafe { read_item(len, |dst, len| syscalls::input_read(dst, len)) }
}

/// Consumes the next input item into `buf`. Panics unless the item is exactly `buf.len()` bytes long.
#[track_caller]
pub fn read_into(buf: &mut [u8]) {
    let len = input_len()
        .expect("zkmips: read_into: the input stream has no item left (pass one with --input)");
    assert!(
        len == buf.len(),
        "zkmips: read_into: the next input item is {len} bytes, the buffer {}",
        buf.len()
    );
    let mut empty = 0u8;
    // An empty slice's pointer may be dangling; point at a real byte so the executor sees a valid address.
    let dst = if len == 0 {
        &raw mut empty
    } else {
        buf.as_mut_ptr()
    };
    // SAFETY: `dst` is valid for `len` writes.
    unsafe { syscalls::input_read(dst, len as u32) };
}

/// Consumes the next input item and decodes it as postcard. Panics if the item is missing, malformed or has
/// trailing bytes (a sign that the host encoded a different type).
#[track_caller]
pub fn read<T: DeserializeOwned>() -> T {
    decode("input", &read_vec())
}

/// Appends the postcard encoding of `value` to the public values.
#[track_caller]
pub fn commit<T: Serialize + ?Sized>(value: &T) {
    commit_slice(&encode(value));
}

/// Appends raw bytes to the public values.
pub fn commit_slice(bytes: &[u8]) {
    syscalls::commit(bytes);
}

/// SHA-256 of the public values committed so far: the digest the guest publishes if it halts now, and what
/// a verifier checks the claimed public values against.
pub fn public_values_digest() -> [u8; 32] {
    crate::public_values::digest()
}

/// Length of the next hint item, or `None` when the hint stream is exhausted.
pub fn hint_len() -> Option<usize> {
    match syscalls::hint_len() {
        NO_MORE_ITEMS => None,
        len => Some(len as usize),
    }
}

/// Consumes the next hint item and returns its bytes. Panics when no item is left.
#[track_caller]
pub fn hint_vec() -> Vec<u8> {
    let len = hint_len()
        .expect("zkmips: hint_vec: the hint stream has no item left (pass one with --hint)");
    // SAFETY: the closure's pointer is valid for `len` bytes, which is the item's length.
    unsafe { read_item(len, |dst, len| syscalls::hint_read(dst, len)) }
}

/// Consumes the next hint item and decodes it as postcard. The value is prover-controlled: verify it.
#[track_caller]
pub fn read_hint<T: DeserializeOwned>() -> T {
    decode("hint", &hint_vec())
}

/// Sends the postcard encoding of `value` to the host's hint-output channel (not proven, not public).
#[track_caller]
pub fn hint<T: Serialize + ?Sized>(value: &T) {
    hint_slice(&encode(value));
}

/// Sends raw bytes to the host's hint-output channel.
pub fn hint_slice(bytes: &[u8]) {
    syscalls::hint_write(bytes);
}

/// Reads one stream item of `len` bytes through `read` into a new vector.
///
/// # Safety
/// `read(dst, len)` must write exactly `len` bytes at `dst` and nothing else.
unsafe fn read_item(len: usize, read: impl FnOnce(*mut u8, u32)) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(len);
    let mut empty = 0u8;
    // The item must be consumed even when empty; give the executor a real address rather than a dangling one.
    let dst = if len == 0 {
        &raw mut empty
    } else {
        bytes.as_mut_ptr()
    };
    read(dst, len as u32);
    // SAFETY: the service initialised all `len` bytes.
    unsafe { bytes.set_len(len) };
    bytes
}

#[track_caller]
fn decode<T: DeserializeOwned>(stream: &str, bytes: &[u8]) -> T {
    match postcard::take_from_bytes::<T>(bytes) {
        Ok((value, [])) => value,
        Ok((_, rest)) => panic!(
            "zkmips: {stream} item has {} trailing bytes after a postcard {}",
            rest.len(),
            core::any::type_name::<T>()
        ),
        Err(err) => panic!(
            "zkmips: {stream} item is not a postcard {} ({err})",
            core::any::type_name::<T>()
        ),
    }
}

#[track_caller]
fn encode<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    match postcard::to_allocvec(value) {
        Ok(bytes) => bytes,
        Err(err) => panic!(
            "zkmips: cannot postcard-encode {} ({err})",
            core::any::type_name::<T>()
        ),
    }
}

/// Buffered writer to a host file descriptor; used by the print macros and the panic handler, so it never
/// allocates.
pub(crate) struct FdWriter {
    fd: u32,
    buf: [u8; 256],
    len: usize,
}

impl FdWriter {
    pub(crate) fn new(fd: u32) -> Self {
        Self {
            fd,
            buf: [0; 256],
            len: 0,
        }
    }

    pub(crate) fn flush(&mut self) {
        syscalls::write(self.fd, &self.buf[..self.len]);
        self.len = 0;
    }
}

impl fmt::Write for FdWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let bytes = s.as_bytes();
        if self.len + bytes.len() > self.buf.len() {
            self.flush();
        }
        if bytes.len() > self.buf.len() {
            syscalls::write(self.fd, bytes);
        } else {
            self.buf[self.len..self.len + bytes.len()].copy_from_slice(bytes);
            self.len += bytes.len();
        }
        Ok(())
    }
}

#[doc(hidden)]
pub fn _print(fd: u32, args: fmt::Arguments) {
    let mut writer = FdWriter::new(fd);
    let _ = fmt::Write::write_fmt(&mut writer, args);
    writer.flush();
}
