//! Guest memory: a sparse, paged map of the user half of the 32-bit address space.
//!
//! Pages are 4 KiB, stored as 1024 little-endian words so the common case (an aligned word access) is one
//! table lookup and one array index. A page that was never written reads as zero and takes no space.
//!
//! Faults are reported as [`MemFault`] (address and kind only); the executor adds the PC and instruction
//! word to turn them into an [`crate::ExecError`].

use zkmips_abi::layout::{NULL_GUARD_END, USER_END};

/// log2 of the page size.
pub const PAGE_BITS: u32 = 12;
/// Bytes per page.
pub const PAGE_BYTES: u32 = 1 << PAGE_BITS;
/// Words per page.
pub const WORDS_PER_PAGE: usize = (PAGE_BYTES / 4) as usize;
/// Number of page slots: only the user half (below [`USER_END`]) can ever be mapped.
pub const NUM_PAGES: usize = (USER_END >> PAGE_BITS) as usize;

/// One page of guest memory, as words.
pub type Page = [u32; WORDS_PER_PAGE];

/// Why a memory access failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemFault {
    /// Below [`NULL_GUARD_END`] or at/above [`USER_END`].
    InvalidAddress { addr: u32 },
    /// Not aligned to the access size.
    Misaligned { addr: u32, size: u32 },
    /// A store into an executable segment.
    WriteToCode { addr: u32 },
}

impl MemFault {
    /// The error this fault becomes when raised by instruction `word` at `pc`.
    pub fn at(self, pc: u32, word: u32) -> crate::ExecError {
        use crate::ExecError;
        match self {
            MemFault::InvalidAddress { addr } => ExecError::InvalidAddress { pc, word, addr },
            MemFault::Misaligned { addr, size } => ExecError::MisalignedAccess {
                pc,
                word,
                addr,
                size,
            },
            MemFault::WriteToCode { addr } => ExecError::WriteToCode { pc, word, addr },
        }
    }
}

/// True when the whole aligned unit containing `addr` lies in user memory. Both bounds are page-aligned,
/// so checking the first byte of an aligned access is enough.
#[inline(always)]
pub fn in_user_range(addr: u32) -> bool {
    addr.wrapping_sub(NULL_GUARD_END) < USER_END - NULL_GUARD_END
}

/// Sparse guest memory plus the ranges that hold code (which are read-only).
#[derive(Clone)]
pub struct Memory {
    pages: Vec<Option<Box<Page>>>,
    /// Executable ranges `[start, end)`, sorted.
    code: Vec<(u32, u32)>,
    /// Bounding box of `code`, for a one-compare fast check on every store.
    code_lo: u32,
    code_len: u32,
    mapped_pages: usize,
}

impl Default for Memory {
    fn default() -> Self {
        Self::new()
    }
}

impl core::fmt::Debug for Memory {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Memory")
            .field("mapped_pages", &self.mapped_pages)
            .field("code", &self.code)
            .finish()
    }
}

impl Memory {
    /// Empty memory (all zero), no code ranges.
    pub fn new() -> Self {
        Self {
            pages: vec![None; NUM_PAGES],
            code: Vec::new(),
            code_lo: 0,
            code_len: 0,
            mapped_pages: 0,
        }
    }

    /// Mark `[start, end)` as code: later stores into it fault with [`MemFault::WriteToCode`].
    pub fn add_code_range(&mut self, start: u32, end: u32) {
        if end <= start {
            return;
        }
        self.code.push((start, end));
        self.code.sort_unstable();
        let lo = self.code.iter().map(|r| r.0).min().unwrap_or(0);
        let hi = self.code.iter().map(|r| r.1).max().unwrap_or(0);
        self.code_lo = lo;
        self.code_len = hi - lo;
    }

    /// Whether `addr` lies in a code range.
    #[inline(always)]
    pub fn is_code(&self, addr: u32) -> bool {
        addr.wrapping_sub(self.code_lo) < self.code_len
            && self.code.iter().any(|&(s, e)| addr >= s && addr < e)
    }

    /// Number of pages that hold data.
    pub fn mapped_pages(&self) -> usize {
        self.mapped_pages
    }

    #[inline(always)]
    fn page_mut(&mut self, addr: u32) -> &mut Page {
        let slot = &mut self.pages[(addr >> PAGE_BITS) as usize];
        if slot.is_none() {
            self.mapped_pages += 1;
            *slot = Some(Box::new([0; WORDS_PER_PAGE]));
        }
        slot.as_mut().expect("page was just mapped")
    }

    /// The word at the aligned address `addr` without any checks beyond `addr < USER_END` (asserted by
    /// the table size). Unmapped memory reads as zero.
    #[inline(always)]
    pub fn peek_word(&self, addr: u32) -> u32 {
        match &self.pages[(addr >> PAGE_BITS) as usize] {
            Some(page) => page[((addr >> 2) as usize) & (WORDS_PER_PAGE - 1)],
            None => 0,
        }
    }

    /// Write the aligned word at `addr` with no permission checks (loader and tests).
    #[inline(always)]
    pub fn poke_word(&mut self, addr: u32, value: u32) {
        self.page_mut(addr)[((addr >> 2) as usize) & (WORDS_PER_PAGE - 1)] = value;
    }

    /// Write bytes with no permission checks (loader). Addresses must be below [`USER_END`].
    pub fn poke_bytes(&mut self, addr: u32, bytes: &[u8]) {
        for (i, &b) in bytes.iter().enumerate() {
            let a = addr.wrapping_add(i as u32);
            let shift = (a & 3) * 8;
            let old = self.peek_word(a & !3);
            self.poke_word(a & !3, (old & !(0xff << shift)) | ((b as u32) << shift));
        }
    }

    /// Read a byte with no checks (syscall helpers after their own range check).
    #[inline(always)]
    pub fn peek_byte(&self, addr: u32) -> u8 {
        (self.peek_word(addr & !3) >> ((addr & 3) * 8)) as u8
    }

    #[inline(always)]
    fn check(addr: u32, size: u32) -> Result<(), MemFault> {
        if addr & (size - 1) != 0 {
            return Err(MemFault::Misaligned { addr, size });
        }
        if !in_user_range(addr) {
            return Err(MemFault::InvalidAddress { addr });
        }
        Ok(())
    }

    #[inline(always)]
    fn check_store(&self, addr: u32, size: u32) -> Result<(), MemFault> {
        Self::check(addr, size)?;
        if self.is_code(addr) {
            return Err(MemFault::WriteToCode { addr });
        }
        Ok(())
    }

    /// Aligned word load.
    #[inline(always)]
    pub fn load_word(&self, addr: u32) -> Result<u32, MemFault> {
        Self::check(addr, 4)?;
        Ok(self.peek_word(addr))
    }

    /// Aligned halfword load (zero-extended).
    #[inline(always)]
    pub fn load_half(&self, addr: u32) -> Result<u32, MemFault> {
        Self::check(addr, 2)?;
        Ok((self.peek_word(addr & !3) >> ((addr & 2) * 8)) & 0xffff)
    }

    /// Byte load (zero-extended).
    #[inline(always)]
    pub fn load_byte(&self, addr: u32) -> Result<u32, MemFault> {
        Self::check(addr, 1)?;
        Ok((self.peek_word(addr & !3) >> ((addr & 3) * 8)) & 0xff)
    }

    /// Aligned word store. Returns the previous word.
    #[inline(always)]
    pub fn store_word(&mut self, addr: u32, value: u32) -> Result<u32, MemFault> {
        self.check_store(addr, 4)?;
        let slot = &mut self.page_mut(addr)[((addr >> 2) as usize) & (WORDS_PER_PAGE - 1)];
        Ok(core::mem::replace(slot, value))
    }

    /// Store the low `8 * size` bits of `value` (size 1 or 2) into the word containing `addr`. Returns
    /// `(previous word, new word)` of that containing word.
    #[inline(always)]
    fn store_sub(&mut self, addr: u32, value: u32, size: u32) -> Result<(u32, u32), MemFault> {
        self.check_store(addr, size)?;
        let shift = (addr & 3) * 8;
        let mask = (if size == 1 { 0xffu32 } else { 0xffff }) << shift;
        let slot = &mut self.page_mut(addr)[((addr >> 2) as usize) & (WORDS_PER_PAGE - 1)];
        let old = *slot;
        let new = (old & !mask) | ((value << shift) & mask);
        *slot = new;
        Ok((old, new))
    }

    /// Aligned halfword store. Returns `(previous word, new word)` of the containing word.
    #[inline(always)]
    pub fn store_half(&mut self, addr: u32, value: u32) -> Result<(u32, u32), MemFault> {
        self.store_sub(addr, value, 2)
    }

    /// Byte store. Returns `(previous word, new word)` of the containing word.
    #[inline(always)]
    pub fn store_byte(&mut self, addr: u32, value: u32) -> Result<(u32, u32), MemFault> {
        self.store_sub(addr, value, 1)
    }

    /// Check that every byte of `[addr, addr+len)` is user memory (and, if `write`, not code).
    pub fn check_range(&self, addr: u32, len: u32, write: bool) -> Result<(), MemFault> {
        if len == 0 {
            return Ok(());
        }
        let last = addr
            .checked_add(len - 1)
            .ok_or(MemFault::InvalidAddress { addr })?;
        if !in_user_range(addr) {
            return Err(MemFault::InvalidAddress { addr });
        }
        if !in_user_range(last) {
            return Err(MemFault::InvalidAddress { addr: last });
        }
        if write {
            for &(s, e) in &self.code {
                if addr < e && last >= s {
                    return Err(MemFault::WriteToCode { addr: addr.max(s) });
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unwritten_memory_reads_zero_and_maps_nothing() {
        let m = Memory::new();
        assert_eq!(m.load_word(0x1000), Ok(0));
        assert_eq!(m.load_byte(0x7fff_ffff), Ok(0));
        assert_eq!(m.mapped_pages(), 0);
    }

    #[test]
    fn little_endian_sub_word_access() {
        let mut m = Memory::new();
        m.store_word(0x2000, 0x1122_3344).unwrap();
        assert_eq!(m.load_byte(0x2000), Ok(0x44));
        assert_eq!(m.load_byte(0x2003), Ok(0x11));
        assert_eq!(m.load_half(0x2002), Ok(0x1122));
        assert_eq!(m.store_byte(0x2001, 0xaabb), Ok((0x1122_3344, 0x1122_bb44)));
        assert_eq!(
            m.store_half(0x2002, 0xdead_beef),
            Ok((0x1122_bb44, 0xbeef_bb44))
        );
        assert_eq!(m.load_word(0x2000), Ok(0xbeef_bb44));
    }

    #[test]
    fn faults() {
        let mut m = Memory::new();
        assert_eq!(
            m.load_word(0x0ffc),
            Err(MemFault::InvalidAddress { addr: 0x0ffc })
        );
        assert_eq!(m.load_word(0), Err(MemFault::InvalidAddress { addr: 0 }));
        assert_eq!(
            m.load_byte(0x8000_0000),
            Err(MemFault::InvalidAddress { addr: 0x8000_0000 })
        );
        assert_eq!(
            m.load_word(0x2002),
            Err(MemFault::Misaligned {
                addr: 0x2002,
                size: 4
            })
        );
        assert_eq!(
            m.load_half(0x2001),
            Err(MemFault::Misaligned {
                addr: 0x2001,
                size: 2
            })
        );
        m.add_code_range(0x40_0000, 0x40_0100);
        assert_eq!(
            m.store_byte(0x40_00ff, 1),
            Err(MemFault::WriteToCode { addr: 0x40_00ff })
        );
        assert!(m.store_word(0x40_0100, 1).is_ok());
        assert!(m.store_word(0x3f_fffc, 1).is_ok());
        assert_eq!(
            m.check_range(0x40_0100 - 8, 16, true),
            Err(MemFault::WriteToCode { addr: 0x40_00f8 })
        );
        assert_eq!(
            m.check_range(0x3f_fff0, 0x20, true),
            Err(MemFault::WriteToCode { addr: 0x40_0000 })
        );
        assert_eq!(
            m.check_range(0x7fff_fff0, 0x20, false),
            Err(MemFault::InvalidAddress { addr: 0x8000_000f })
        );
        assert_eq!(
            m.check_range(0xffff_fff0, 0x20, false),
            Err(MemFault::InvalidAddress { addr: 0xffff_fff0 })
        );
    }

    #[test]
    fn poke_bytes_unaligned() {
        let mut m = Memory::new();
        m.poke_bytes(0x3003, &[1, 2, 3, 4, 5]);
        assert_eq!(m.peek_word(0x3000), 0x0100_0000);
        assert_eq!(m.peek_word(0x3004), 0x0504_0302);
        assert_eq!(m.peek_byte(0x3007), 5);
    }
}
