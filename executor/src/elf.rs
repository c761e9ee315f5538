//! Loading a statically linked little-endian MIPS32 ELF executable.
//!
//! Only what a loader needs is read: the ELF header and the program headers. Section headers, symbols and
//! notes are ignored, so a stripped binary loads exactly like an unstripped one. goblin supplies the header
//! structs and constants; every offset, size and address is range-checked here before it is used, so
//! arbitrary bytes give an [`ElfError`], never a panic or a huge allocation.
//!
//! What is accepted: `ELFCLASS32`, `ELFDATA2LSB`, `EM_MIPS`, `ET_EXEC`, o32 ABI, MIPS I/II/32/32r2 ISA, no
//! MIPS16/microMIPS, no dynamic linking, at least one `PT_LOAD`, every `PT_LOAD` inside
//! [`LOAD_RANGE_START`, `LOAD_RANGE_END`) and disjoint from the others.

use goblin::container::Endian;
use goblin::elf::header::{
    EI_CLASS, EI_DATA, EI_VERSION, ELFCLASS32, ELFCLASS64, ELFDATA2LSB, ELFDATA2MSB, ELFMAG,
    EM_MIPS, ET_CORE, ET_DYN, ET_EXEC, ET_REL, EV_CURRENT, SELFMAG,
};
use goblin::elf::program_header::{PF_R, PF_W, PF_X, PT_DYNAMIC, PT_INTERP, PT_LOAD, PT_PHDR};
use goblin::elf32::header::{Header, SIZEOF_EHDR};
use goblin::elf32::program_header::{ProgramHeader, SIZEOF_PHDR};
use zkmips_abi::layout;

/// Lowest address a `PT_LOAD` segment may occupy: everything below is the null guard.
pub const LOAD_RANGE_START: u32 = layout::NULL_GUARD_END;
/// End (exclusive) of the addresses a `PT_LOAD` segment may occupy. Everything from here up belongs to the
/// mmap area, the stack and kernel space, so a segment there would collide with them.
pub const LOAD_RANGE_END: u32 = layout::MMAP_TOP;
/// Most `PT_LOAD` segments accepted. Real static binaries have two to four.
pub const MAX_LOAD_SEGMENTS: usize = 64;
/// Cap on the summed `p_memsz` of all `PT_LOAD` segments, so a malformed file cannot make the executor
/// reserve gigabytes.
pub const MAX_TOTAL_MEMORY: u64 = 1 << 30;
/// Cap on the address span from the first to the end of the last executable segment. The executor predecodes
/// every word of that span (16 bytes of host memory per 4-byte word); real guests have a few MiB of text.
pub const MAX_CODE_SIZE: u64 = 64 << 20;

// MIPS `e_flags` fields (from the MIPS psABI / binutils `elf/mips.h`; goblin does not define them).
const EF_MIPS_ARCH: u32 = 0xf000_0000;
const EF_MIPS_ARCH_ASE: u32 = 0x0f00_0000;
const EF_MIPS_ARCH_ASE_M16: u32 = 0x0400_0000;
const EF_MIPS_ARCH_ASE_MICROMIPS: u32 = 0x0200_0000;
const EF_MIPS_ABI: u32 = 0x0000_f000;
const EF_MIPS_ABI2: u32 = 0x0000_0020;
const E_MIPS_ABI_O32: u32 = 0x0000_1000;

/// A loaded program: the ELF's `PT_LOAD` segments and what the initial stack needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    /// Address of the first instruction (`e_entry`).
    pub entry: u32,
    /// The `PT_LOAD` segments with a non-zero memory size, sorted by address, pairwise disjoint.
    pub segments: Vec<Segment>,
    /// Guest address of the program header table (for `AT_PHDR`): `PT_PHDR` if present, else the address at
    /// which a `PT_LOAD` segment maps the file bytes at `e_phoff`; `None` if no segment maps them.
    pub phdr_vaddr: Option<u32>,
    /// Size of one program header (`AT_PHENT`), always 32 for ELF32.
    pub phent: u16,
    /// Number of program headers (`AT_PHNUM`).
    pub phnum: u16,
}

/// One `PT_LOAD` segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    pub vaddr: u32,
    /// Bytes the segment occupies in memory; the part past `data` is zero (`.bss`).
    pub mem_size: u32,
    /// The segment's file bytes; `data.len() <= mem_size`.
    pub data: Vec<u8>,
    pub readable: bool,
    pub writable: bool,
    pub executable: bool,
}

impl Segment {
    /// One past the last byte of the segment, as `u64` so a hand-built segment cannot overflow.
    pub fn end(&self) -> u64 {
        u64::from(self.vaddr) + u64::from(self.mem_size)
    }

    /// Whether `addr` lies inside the segment's memory range.
    pub fn contains(&self, addr: u32) -> bool {
        addr >= self.vaddr && u64::from(addr) < self.end()
    }
}

/// Why an ELF file was rejected.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ElfError {
    #[error("file is {len} bytes, too short for the {SIZEOF_EHDR}-byte ELF32 header")]
    TruncatedHeader { len: usize },

    #[error("bad magic {found:02x?}: not an ELF file (expected 7f 45 4c 46)")]
    BadMagic { found: [u8; 4] },

    #[error("ELF class {class} is not ELFCLASS32 (1){}", class_hint(.class))]
    WrongClass { class: u8 },

    #[error("ELF data encoding {data} is not little-endian (ELFDATA2LSB = 1){}", data_hint(.data))]
    WrongEndianness { data: u8 },

    #[error("ELF version {version} is not EV_CURRENT (1)")]
    WrongVersion { version: u32 },

    #[error("e_machine {machine} is not EM_MIPS (8)")]
    WrongMachine { machine: u16 },

    #[error("e_type {e_type} ({}) is not ET_EXEC (2): zkmips runs statically linked, non-PIE executables", elf_type_name(.e_type))]
    WrongType { e_type: u16 },

    #[error("e_flags {flags:#010x}: ISA {isa} is not supported (only MIPS I/II/32/32r2 code runs)")]
    UnsupportedIsa { flags: u32, isa: &'static str },

    #[error("e_flags {flags:#010x}: ABI {abi} is not supported (only o32)")]
    UnsupportedAbi { flags: u32, abi: &'static str },

    #[error(
        "e_flags {flags:#010x}: {ase} code is not supported (only the standard 32-bit MIPS encoding)"
    )]
    CompressedIsa { flags: u32, ase: &'static str },

    #[error("e_phentsize is {size}, not the ELF32 program header size {SIZEOF_PHDR}")]
    BadProgramHeaderSize { size: u16 },

    #[error(
        "program header table ({count} entries at offset {offset:#x}) extends past the end of the {file_len}-byte file"
    )]
    TruncatedProgramHeaders {
        offset: u32,
        count: u16,
        file_len: usize,
    },

    #[error(
        "program header {segment} is {kind}: the program is dynamically linked; link it with -static"
    )]
    DynamicallyLinked { segment: usize, kind: &'static str },

    #[error("no PT_LOAD segment with a non-zero size: nothing to run")]
    NoLoadSegments,

    #[error("{count} PT_LOAD segments, more than the {MAX_LOAD_SEGMENTS} accepted")]
    TooManySegments { count: usize },

    #[error(
        "segment {segment}: file bytes [{offset:#x}, {offset:#x} + {file_size:#x}) lie outside the {file_len}-byte file"
    )]
    SegmentOutsideFile {
        segment: usize,
        offset: u32,
        file_size: u32,
        file_len: usize,
    },

    #[error("segment {segment}: file size {file_size:#x} exceeds memory size {mem_size:#x}")]
    FileSizeExceedsMemSize {
        segment: usize,
        file_size: u32,
        mem_size: u32,
    },

    #[error(
        "segment {segment}: address range {vaddr:#010x} + {mem_size:#x} overflows the 32-bit address space"
    )]
    SegmentAddressOverflow {
        segment: usize,
        vaddr: u32,
        mem_size: u32,
    },

    #[error(
        "segment {segment}: [{start:#010x}, {end:#011x}) is outside the loadable range [{LOAD_RANGE_START:#010x}, {LOAD_RANGE_END:#010x}) (below: null guard; above: mmap area, stack, kernel space)"
    )]
    SegmentOutsideLoadableRange {
        segment: usize,
        start: u32,
        end: u64,
    },

    #[error(
        "segments {first} [{first_start:#010x}, {first_end:#011x}) and {second} [{second_start:#010x}, {second_end:#011x}) overlap"
    )]
    OverlappingSegments {
        first: usize,
        first_start: u32,
        first_end: u64,
        second: usize,
        second_start: u32,
        second_end: u64,
    },

    #[error(
        "PT_LOAD segments need {total:#x} bytes of memory in total, more than the {MAX_TOTAL_MEMORY:#x}-byte limit"
    )]
    TooMuchMemory { total: u64 },

    #[error(
        "executable segments span [{start:#010x}, {end:#011x}), more than the {MAX_CODE_SIZE:#x}-byte limit"
    )]
    CodeTooLarge { start: u32, end: u64 },

    #[error("entry point {entry:#010x} is odd: MIPS16/microMIPS entry points are not supported")]
    CompressedEntry { entry: u32 },

    #[error("entry point {entry:#010x} is not 4-byte aligned")]
    MisalignedEntry { entry: u32 },

    #[error("entry point {entry:#010x} is not inside an executable PT_LOAD segment")]
    EntryOutsideCode { entry: u32 },

    #[error(
        "PT_PHDR (program header {segment}) says the program headers are at {vaddr:#010x}, which no PT_LOAD segment maps from the file"
    )]
    PhdrNotLoaded { segment: usize, vaddr: u32 },
}

fn class_hint(class: &u8) -> &'static str {
    if *class == ELFCLASS64 {
        ": this is a 64-bit ELF"
    } else {
        ""
    }
}

fn data_hint(data: &u8) -> &'static str {
    if *data == ELFDATA2MSB {
        ": this is a big-endian ELF, zkmips runs little-endian MIPS (mipsel)"
    } else {
        ""
    }
}

fn elf_type_name(e_type: &u16) -> &'static str {
    match *e_type {
        ET_REL => "relocatable object, not linked",
        ET_DYN => "shared object or position-independent executable",
        ET_CORE => "core dump",
        _ => "unknown type",
    }
}

fn isa_name(flags: u32) -> &'static str {
    match flags & EF_MIPS_ARCH {
        0x0000_0000 => "MIPS I",
        0x1000_0000 => "MIPS II",
        0x2000_0000 => "MIPS III",
        0x3000_0000 => "MIPS IV",
        0x4000_0000 => "MIPS V",
        0x5000_0000 => "MIPS32",
        0x6000_0000 => "MIPS64",
        0x7000_0000 => "MIPS32r2",
        0x8000_0000 => "MIPS64r2",
        0x9000_0000 => "MIPS32r6",
        0xa000_0000 => "MIPS64r6",
        _ => "unknown",
    }
}

/// Rejects `e_flags` describing code the executor cannot run. Flags it does not care about (PIC, CPIC,
/// noreorder, NaN2008, FP64, ...) pass.
fn check_mips_flags(flags: u32) -> Result<(), ElfError> {
    match flags & EF_MIPS_ARCH {
        // MIPS I, MIPS II, MIPS32, MIPS32r2: all subsets of what the executor implements.
        0x0000_0000 | 0x1000_0000 | 0x5000_0000 | 0x7000_0000 => {}
        _ => {
            return Err(ElfError::UnsupportedIsa {
                flags,
                isa: isa_name(flags),
            });
        }
    }
    if flags & EF_MIPS_ABI2 != 0 {
        return Err(ElfError::UnsupportedAbi { flags, abi: "n32" });
    }
    match flags & EF_MIPS_ABI {
        // 0 is what o32 toolchains that predate the field (and lld) write.
        0 | E_MIPS_ABI_O32 => {}
        0x0000_2000 => return Err(ElfError::UnsupportedAbi { flags, abi: "o64" }),
        0x0000_3000 => {
            return Err(ElfError::UnsupportedAbi {
                flags,
                abi: "EABI32",
            });
        }
        0x0000_4000 => {
            return Err(ElfError::UnsupportedAbi {
                flags,
                abi: "EABI64",
            });
        }
        _ => {
            return Err(ElfError::UnsupportedAbi {
                flags,
                abi: "unknown",
            });
        }
    }
    let ase = flags & EF_MIPS_ARCH_ASE;
    if ase & EF_MIPS_ARCH_ASE_MICROMIPS != 0 {
        return Err(ElfError::CompressedIsa {
            flags,
            ase: "microMIPS",
        });
    }
    if ase & EF_MIPS_ARCH_ASE_M16 != 0 {
        return Err(ElfError::CompressedIsa {
            flags,
            ase: "MIPS16",
        });
    }
    Ok(())
}

/// The raw `PT_LOAD` entry, remembered with its program header index for error messages.
struct RawLoad {
    index: usize,
    header: ProgramHeader,
}

impl Program {
    /// Parses and validates a statically linked little-endian MIPS32 executable.
    pub fn from_elf(bytes: &[u8]) -> Result<Program, ElfError> {
        let header = parse_header(bytes)?;
        let program_headers = parse_program_headers(bytes, &header)?;

        let mut loads = Vec::new();
        let mut phdr_entry = None;
        for (index, ph) in program_headers.iter().enumerate() {
            match ph.p_type {
                PT_INTERP => {
                    return Err(ElfError::DynamicallyLinked {
                        segment: index,
                        kind: "PT_INTERP",
                    });
                }
                PT_DYNAMIC => {
                    return Err(ElfError::DynamicallyLinked {
                        segment: index,
                        kind: "PT_DYNAMIC",
                    });
                }
                PT_PHDR => phdr_entry = Some((index, ph.p_vaddr)),
                // An empty PT_LOAD maps nothing; Linux skips it too.
                PT_LOAD if ph.p_memsz != 0 || ph.p_filesz != 0 => {
                    loads.push(RawLoad { index, header: *ph });
                }
                _ => {}
            }
        }
        if loads.is_empty() {
            return Err(ElfError::NoLoadSegments);
        }
        if loads.len() > MAX_LOAD_SEGMENTS {
            return Err(ElfError::TooManySegments { count: loads.len() });
        }

        let mut total_memory = 0u64;
        for load in &loads {
            check_load(bytes, load)?;
            total_memory += u64::from(load.header.p_memsz);
        }
        if total_memory > MAX_TOTAL_MEMORY {
            return Err(ElfError::TooMuchMemory {
                total: total_memory,
            });
        }
        let code = loads
            .iter()
            .map(|load| &load.header)
            .filter(|ph| ph.p_flags & PF_X != 0);
        let code_start = code.clone().map(|ph| ph.p_vaddr).min();
        let code_end = code
            .map(|ph| u64::from(ph.p_vaddr) + u64::from(ph.p_memsz))
            .max();
        if let (Some(start), Some(end)) = (code_start, code_end)
            && end - u64::from(start) > MAX_CODE_SIZE
        {
            return Err(ElfError::CodeTooLarge { start, end });
        }

        loads.sort_by_key(|load| load.header.p_vaddr);
        for pair in loads.windows(2) {
            let (a, b) = (&pair[0].header, &pair[1].header);
            let a_end = u64::from(a.p_vaddr) + u64::from(a.p_memsz);
            if a_end > u64::from(b.p_vaddr) {
                return Err(ElfError::OverlappingSegments {
                    first: pair[0].index,
                    first_start: a.p_vaddr,
                    first_end: a_end,
                    second: pair[1].index,
                    second_start: b.p_vaddr,
                    second_end: u64::from(b.p_vaddr) + u64::from(b.p_memsz),
                });
            }
        }

        let entry = header.e_entry;
        if entry & 1 != 0 {
            return Err(ElfError::CompressedEntry { entry });
        }
        if entry & 3 != 0 {
            return Err(ElfError::MisalignedEntry { entry });
        }
        let entry_in_code = loads.iter().any(|load| {
            let ph = &load.header;
            ph.p_flags & PF_X != 0
                && entry >= ph.p_vaddr
                && u64::from(entry) + 4 <= u64::from(ph.p_vaddr) + u64::from(ph.p_memsz)
        });
        if !entry_in_code {
            return Err(ElfError::EntryOutsideCode { entry });
        }

        let phdr_vaddr = match phdr_entry {
            Some((segment, vaddr)) => {
                let table_len = u64::from(header.e_phnum) * SIZEOF_PHDR as u64;
                let mapped = loads.iter().any(|load| {
                    let ph = &load.header;
                    vaddr >= ph.p_vaddr
                        && u64::from(vaddr) + table_len
                            <= u64::from(ph.p_vaddr) + u64::from(ph.p_filesz)
                });
                if !mapped {
                    return Err(ElfError::PhdrNotLoaded { segment, vaddr });
                }
                Some(vaddr)
            }
            None => phdr_from_file_offset(&loads, &header),
        };

        let segments = loads
            .iter()
            .map(|load| {
                let ph = &load.header;
                // check_load proved this range is inside `bytes`.
                let start = ph.p_offset as usize;
                Segment {
                    vaddr: ph.p_vaddr,
                    mem_size: ph.p_memsz,
                    data: bytes[start..start + ph.p_filesz as usize].to_vec(),
                    readable: ph.p_flags & PF_R != 0,
                    writable: ph.p_flags & PF_W != 0,
                    executable: ph.p_flags & PF_X != 0,
                }
            })
            .collect();

        Ok(Program {
            entry,
            segments,
            phdr_vaddr,
            phent: header.e_phentsize,
            phnum: header.e_phnum,
        })
    }

    /// A hand-built program (tests, benchmarks): `words` as little-endian instruction words in one
    /// readable, executable, read-only segment at `base`, which is also the entry point. No program
    /// headers are mapped. Add data with [`Program::with_data_segment`].
    pub fn from_code(base: u32, words: &[u32]) -> Program {
        let text: Vec<u8> = words.iter().flat_map(|word| word.to_le_bytes()).collect();
        Program {
            entry: base,
            segments: vec![Segment {
                vaddr: base,
                mem_size: text.len() as u32,
                data: text,
                readable: true,
                writable: false,
                executable: true,
            }],
            phdr_vaddr: None,
            phent: 0,
            phnum: 0,
        }
    }

    /// `self` plus a readable, writable, non-executable segment of `mem_size` bytes at `vaddr`
    /// starting with `data` (the rest zero-filled). Keeps the segments sorted by address; the new
    /// one must not overlap the others, and `data` must fit in `mem_size`.
    pub fn with_data_segment(mut self, vaddr: u32, mem_size: u32, data: &[u8]) -> Program {
        self.segments.push(Segment {
            vaddr,
            mem_size,
            data: data.to_vec(),
            readable: true,
            writable: true,
            executable: false,
        });
        self.segments.sort_by_key(|segment| segment.vaddr);
        self
    }

    /// The page-aligned end of the highest segment: where the `brk` heap starts.
    pub fn brk_start(&self) -> u32 {
        let end = self.segments.iter().map(Segment::end).max().unwrap_or(0);
        let aligned = end.next_multiple_of(u64::from(layout::PAGE_SIZE));
        // Only a hand-built Program reaching the top of the address space can exceed u32.
        u32::try_from(aligned).unwrap_or(!(layout::PAGE_SIZE - 1))
    }

    /// `[start, end)` of every executable segment, in address order.
    pub fn text_ranges(&self) -> impl Iterator<Item = (u32, u64)> + '_ {
        self.segments
            .iter()
            .filter(|s| s.executable)
            .map(|s| (s.vaddr, s.end()))
    }

    /// Whether `addr` lies in an executable segment.
    pub fn is_executable(&self, addr: u32) -> bool {
        self.segment_containing(addr).is_some_and(|s| s.executable)
    }

    /// The segment whose memory range holds `addr`, if any.
    pub fn segment_containing(&self, addr: u32) -> Option<&Segment> {
        self.segments.iter().find(|s| s.contains(addr))
    }

    /// Total memory the segments occupy (file bytes plus zero-filled tails).
    pub fn memory_size(&self) -> u64 {
        self.segments.iter().map(|s| u64::from(s.mem_size)).sum()
    }
}

fn parse_header(bytes: &[u8]) -> Result<Header, ElfError> {
    if bytes.len() < SELFMAG || &bytes[..SELFMAG] != ELFMAG {
        // Report the magic when there is one to report, so a truncated non-ELF is not called "too short".
        if bytes.len() >= SELFMAG {
            let found = [bytes[0], bytes[1], bytes[2], bytes[3]];
            return Err(ElfError::BadMagic { found });
        }
        if !ELFMAG.starts_with(bytes) {
            let mut found = [0u8; 4];
            found[..bytes.len()].copy_from_slice(bytes);
            return Err(ElfError::BadMagic { found });
        }
        return Err(ElfError::TruncatedHeader { len: bytes.len() });
    }
    // Class and encoding decide how to read the rest, so they are checked before the length.
    if let Some(&class) = bytes.get(EI_CLASS)
        && class != ELFCLASS32
    {
        return Err(ElfError::WrongClass { class });
    }
    if let Some(&data) = bytes.get(EI_DATA)
        && data != ELFDATA2LSB
    {
        return Err(ElfError::WrongEndianness { data });
    }
    if bytes.len() < SIZEOF_EHDR {
        return Err(ElfError::TruncatedHeader { len: bytes.len() });
    }
    if bytes[EI_VERSION] != EV_CURRENT {
        return Err(ElfError::WrongVersion {
            version: u32::from(bytes[EI_VERSION]),
        });
    }
    // The length check above makes this infallible; map an error anyway rather than unwrap.
    let header =
        Header::parse(bytes).map_err(|_| ElfError::TruncatedHeader { len: bytes.len() })?;
    if header.e_machine != EM_MIPS {
        return Err(ElfError::WrongMachine {
            machine: header.e_machine,
        });
    }
    if header.e_type != ET_EXEC {
        return Err(ElfError::WrongType {
            e_type: header.e_type,
        });
    }
    if header.e_version != u32::from(EV_CURRENT) {
        return Err(ElfError::WrongVersion {
            version: header.e_version,
        });
    }
    check_mips_flags(header.e_flags)?;
    Ok(header)
}

fn parse_program_headers(bytes: &[u8], header: &Header) -> Result<Vec<ProgramHeader>, ElfError> {
    if header.e_phnum == 0 {
        return Err(ElfError::NoLoadSegments);
    }
    if usize::from(header.e_phentsize) != SIZEOF_PHDR {
        return Err(ElfError::BadProgramHeaderSize {
            size: header.e_phentsize,
        });
    }
    let truncated = || ElfError::TruncatedProgramHeaders {
        offset: header.e_phoff,
        count: header.e_phnum,
        file_len: bytes.len(),
    };
    let table_end = u64::from(header.e_phoff) + u64::from(header.e_phnum) * SIZEOF_PHDR as u64;
    if table_end > bytes.len() as u64 {
        return Err(truncated());
    }
    ProgramHeader::parse(
        bytes,
        header.e_phoff as usize,
        usize::from(header.e_phnum),
        Endian::Little,
    )
    .map_err(|_| truncated())
}

fn check_load(bytes: &[u8], load: &RawLoad) -> Result<(), ElfError> {
    let ph = &load.header;
    let segment = load.index;
    if u64::from(ph.p_offset) + u64::from(ph.p_filesz) > bytes.len() as u64 {
        return Err(ElfError::SegmentOutsideFile {
            segment,
            offset: ph.p_offset,
            file_size: ph.p_filesz,
            file_len: bytes.len(),
        });
    }
    if ph.p_filesz > ph.p_memsz {
        return Err(ElfError::FileSizeExceedsMemSize {
            segment,
            file_size: ph.p_filesz,
            mem_size: ph.p_memsz,
        });
    }
    let end = u64::from(ph.p_vaddr) + u64::from(ph.p_memsz);
    if end > 1 << 32 {
        return Err(ElfError::SegmentAddressOverflow {
            segment,
            vaddr: ph.p_vaddr,
            mem_size: ph.p_memsz,
        });
    }
    if ph.p_vaddr < LOAD_RANGE_START || end > u64::from(LOAD_RANGE_END) {
        return Err(ElfError::SegmentOutsideLoadableRange {
            segment,
            start: ph.p_vaddr,
            end,
        });
    }
    Ok(())
}

/// Where the program header table ends up in memory when there is no `PT_PHDR`: the `PT_LOAD` whose file
/// bytes cover `[e_phoff, e_phoff + e_phnum * 32)` maps it (gcc/ld put it in the first text segment).
fn phdr_from_file_offset(loads: &[RawLoad], header: &Header) -> Option<u32> {
    let table_start = u64::from(header.e_phoff);
    let table_end = table_start + u64::from(header.e_phnum) * SIZEOF_PHDR as u64;
    loads.iter().find_map(|load| {
        let ph = &load.header;
        let file_start = u64::from(ph.p_offset);
        let file_end = file_start + u64::from(ph.p_filesz);
        if table_start >= file_start && table_end <= file_end {
            // Inside a validated segment, so the sum stays below LOAD_RANGE_END.
            Some(ph.p_vaddr + (header.e_phoff - ph.p_offset))
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(vaddr: u32, mem_size: u32, executable: bool) -> Segment {
        Segment {
            vaddr,
            mem_size,
            data: Vec::new(),
            readable: true,
            writable: !executable,
            executable,
        }
    }

    fn program(segments: Vec<Segment>) -> Program {
        Program {
            entry: 0x0040_0000,
            segments,
            phdr_vaddr: None,
            phent: 32,
            phnum: 1,
        }
    }

    #[test]
    fn brk_start_is_the_page_aligned_end_of_the_highest_segment() {
        let p = program(vec![
            segment(0x0040_0000, 0x100, true),
            segment(0x0041_0000, 0x1001, false),
        ]);
        assert_eq!(p.brk_start(), 0x0041_2000);
        assert_eq!(
            program(vec![segment(0x0040_0000, 0x1000, true)]).brk_start(),
            0x0040_1000
        );
        assert_eq!(program(Vec::new()).brk_start(), 0);
        // A hand-built segment reaching the top of the address space must not overflow.
        assert_eq!(
            program(vec![segment(0xffff_f000, 0x1000, true)]).brk_start(),
            0xffff_f000
        );
    }

    #[test]
    fn segment_queries() {
        let p = program(vec![
            segment(0x0040_0000, 0x100, true),
            segment(0x0041_0000, 0x40, false),
        ]);
        assert!(p.is_executable(0x0040_0000) && p.is_executable(0x0040_00fc));
        assert!(!p.is_executable(0x0040_0100) && !p.is_executable(0x0041_0000));
        assert_eq!(
            p.segment_containing(0x0041_003f).map(|s| s.vaddr),
            Some(0x0041_0000)
        );
        assert_eq!(p.segment_containing(0x0041_0040), None);
        assert_eq!(
            p.text_ranges().collect::<Vec<_>>(),
            vec![(0x0040_0000, 0x0040_0100)]
        );
        assert_eq!(p.memory_size(), 0x140);
    }

    #[test]
    fn mips_flags() {
        assert_eq!(check_mips_flags(0x7000_1007), Ok(()));
        assert_eq!(check_mips_flags(0x5000_0000), Ok(()));
        assert_eq!(
            check_mips_flags(0x6000_1000),
            Err(ElfError::UnsupportedIsa {
                flags: 0x6000_1000,
                isa: "MIPS64"
            })
        );
        // The ABI check runs before the ASE check, and both after the ISA check.
        assert_eq!(
            check_mips_flags(0x7200_0020),
            Err(ElfError::UnsupportedAbi {
                flags: 0x7200_0020,
                abi: "n32"
            })
        );
        assert_eq!(
            check_mips_flags(0x7600_1000),
            Err(ElfError::CompressedIsa {
                flags: 0x7600_1000,
                ase: "microMIPS"
            })
        );
    }
}
