//! The zkmips guest/host ABI.
//!
//! A guest asks the zkVM for a service with the MIPS `syscall` instruction: the service number goes in `$v0`
//! (register 2), arguments in `$a0..$a3` (registers 4..7), and the result comes back in `$v0`. The zkVM
//! services live at `0x0001_0000` and up, far from the Linux o32 range (`4000..=4999`), so one executor can
//! serve both unmodified static Linux binaries and zkVM guests.
//!
//! This crate is `no_std` and has no dependencies: the guest SDK and the executor share it, so the two sides
//! can never disagree on a number.
#![no_std]

/// zkVM service numbers, passed in `$v0`.
pub mod syscall {
    /// Stop the machine. `$a0` = exit code (0 = success).
    pub const HALT: u32 = 0x0001_0000;
    /// Write `$a2` bytes at `$a1` to host file descriptor `$a0` (1 = stdout, 2 = stderr). Not part of the
    /// proven statement. Returns the number of bytes written.
    pub const WRITE: u32 = 0x0001_0001;
    /// Append `$a1` bytes at `$a0` to the public-values stream. The proof binds the SHA-256 digest of the
    /// whole stream, through memory: the guest keeps a running SHA-256 of everything it commits and, just
    /// before [`HALT`], stores the digest at [`super::layout::PUBLIC_DIGEST_ADDR`]. The verifier reads that
    /// region from the proven final memory and checks it equals the SHA-256 of the public values it was
    /// given. The SDKs do both halves; a guest that issues `COMMIT` or `HALT` by hand must too, or its proof
    /// does not verify.
    pub const COMMIT: u32 = 0x0001_0002;
    /// Returns in `$v0` the length in bytes of the next item of the input stream, or
    /// [`super::NO_MORE_ITEMS`] when the stream is exhausted. Does not consume the item.
    pub const INPUT_LEN: u32 = 0x0001_0003;
    /// Copy the next input item to `$a0`; `$a1` must equal its length. Consumes the item.
    pub const INPUT_READ: u32 = 0x0001_0004;
    /// Like [`INPUT_LEN`], for the hint stream (prover-supplied advice the guest must check itself).
    pub const HINT_LEN: u32 = 0x0001_0005;
    /// Like [`INPUT_READ`], for the hint stream.
    pub const HINT_READ: u32 = 0x0001_0006;
    /// Send `$a1` bytes at `$a0` to the host's hint-output channel (guest → host, not proven, not public).
    pub const HINT_WRITE: u32 = 0x0001_0007;
    /// SHA-256 message schedule: `$a0` points to `w[0..64]` (64 little-endian `u32` words); fills
    /// `w[16..64]` from `w[0..16]`.
    pub const SHA256_EXTEND: u32 = 0x0001_0100;
    /// SHA-256 compression: `$a0` points to the 64-word schedule `w`, `$a1` to the 8-word state, which is
    /// updated in place.
    pub const SHA256_COMPRESS: u32 = 0x0001_0101;
    /// keccak-f\[1600\]: `$a0` points to the 25 little-endian `u64` lanes (200 bytes, 4-aligned), permuted in
    /// place.
    pub const KECCAK_PERMUTE: u32 = 0x0001_0102;
}

/// [`syscall::INPUT_LEN`] / [`syscall::HINT_LEN`] result when the stream has no item left.
pub const NO_MORE_ITEMS: u32 = u32::MAX;

/// File descriptors accepted by [`syscall::WRITE`].
pub mod fd {
    pub const STDOUT: u32 = 1;
    pub const STDERR: u32 = 2;
}

/// The guest address space. All guest memory is zero until written.
pub mod layout {
    /// Accesses below this address fault (catches null-pointer dereferences).
    pub const NULL_GUARD_END: u32 = 0x0000_1000;
    /// Where a guest publishes the SHA-256 digest of its public values before it halts: memory byte
    /// `PUBLIC_DIGEST_ADDR + i` holds digest byte `i` (so on this little-endian machine word `k` of the region
    /// is `u32::from_le_bytes(digest[4k..4k + 4])`). The verifier compares the final value of these
    /// [`PUBLIC_DIGEST_LEN`] bytes with the SHA-256 of the claimed public values, which is how a proof binds
    /// them (see [`super::syscall::COMMIT`]). The region is the first bytes above the null guard, where no
    /// linker script, heap, `mmap` area or stack ever reaches (code starts at [`GUEST_TEXT_START`]), so only
    /// the exit path of the guest's runtime writes it.
    pub const PUBLIC_DIGEST_ADDR: u32 = 0x0000_1000;
    /// Length in bytes of the digest region at [`PUBLIC_DIGEST_ADDR`] (one SHA-256 digest).
    pub const PUBLIC_DIGEST_LEN: u32 = 32;
    /// Accesses at or above this address fault (MIPS kseg0..kseg3 are kernel space).
    pub const USER_END: u32 = 0x8000_0000;
    /// Initial stack pointer region: the argc/argv/envp/auxv block is written just below this.
    pub const STACK_TOP: u32 = 0x7fff_f000;
    /// Anonymous `mmap` regions are handed out downwards from here.
    pub const MMAP_TOP: u32 = 0x7000_0000;
    /// The page size reported to guests (`AT_PAGESZ`) and used for `brk`/`mmap` rounding.
    pub const PAGE_SIZE: u32 = 0x1000;
    /// Where Rust guests link their text (see `zkvm/link.x`); static gcc output uses the same default.
    pub const GUEST_TEXT_START: u32 = 0x0040_0000;
}
