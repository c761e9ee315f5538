//! Placeholder with the agreed types; the ELF loader replaces it.

/// A loaded program: the ELF's PT_LOAD segments and what the initial stack needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    pub entry: u32,
    pub segments: Vec<Segment>,
    pub phdr_vaddr: Option<u32>,
    pub phent: u16,
    pub phnum: u16,
}

/// One PT_LOAD segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    pub vaddr: u32,
    pub mem_size: u32,
    pub data: Vec<u8>,
    pub readable: bool,
    pub writable: bool,
    pub executable: bool,
}

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ElfError {
    #[error("not implemented yet")]
    Placeholder,
}

impl Program {
    pub fn from_elf(_bytes: &[u8]) -> Result<Program, ElfError> {
        Err(ElfError::Placeholder)
    }

    pub fn brk_start(&self) -> u32 {
        let end = self.segments.iter().map(|s| s.vaddr + s.mem_size).max().unwrap_or(0);
        end.next_multiple_of(zkmips_abi::layout::PAGE_SIZE)
    }
}
