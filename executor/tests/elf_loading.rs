//! ELF loading and initial-stack tests: real static glibc binaries (built with `mipsel-linux-gnu-gcc`,
//! cross-checked against goblin's full parser and against `qemu-mipsel`), one hand-built minimal ELF mutated
//! into every malformed kind the loader rejects, and never-panic loops over random and truncated inputs.
//!
//! Without the mipsel toolchain or qemu the tests that need them are skipped with a note, unless `CI` is set,
//! where a missing tool is a failure.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use zkmips_abi::layout;
use zkmips_executor::elf::{ElfError, MAX_CODE_SIZE, MAX_LOAD_SEGMENTS, Program};
use zkmips_executor::image::{AT_RANDOM_BYTES, InitialStack, PLATFORM, auxv, build_initial_stack};

// ---------------------------------------------------------------------------------------------------------
// A hand-built minimal ELF: header, three program headers (text, data+bss, GNU_STACK), 16 bytes of code and
// 8 bytes of data.

const EHDR: usize = 52;
const PHDR: usize = 32;
const PHNUM: usize = 3;
const CODE_OFF: usize = EHDR + PHNUM * PHDR;
const CODE_LEN: usize = 16;
const DATA_OFF: usize = CODE_OFF + CODE_LEN;
const DATA_LEN: usize = 8;
const TEXT_VADDR: u32 = 0x0040_0000;
const DATA_VADDR: u32 = 0x0041_0000;
const DATA_MEMSZ: u32 = 0x40;
const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;
const PT_NOTE: u32 = 4;
const PT_PHDR: u32 = 6;
const PT_GNU_STACK: u32 = 0x6474_e551;
const PF_X: u32 = 1;
const PF_W: u32 = 2;
const PF_R: u32 = 4;

// Header field offsets.
const E_TYPE: usize = 16;
const E_MACHINE: usize = 18;
const E_VERSION: usize = 20;
const E_ENTRY: usize = 24;
const E_PHOFF: usize = 28;
const E_FLAGS: usize = 36;
const E_PHENTSIZE: usize = 42;
const E_PHNUM: usize = 44;
// Program header field offsets.
const P_TYPE: usize = 0;
const P_OFFSET: usize = 4;
const P_VADDR: usize = 8;
const P_FILESZ: usize = 16;
const P_MEMSZ: usize = 20;
const P_FLAGS: usize = 24;

fn ph(index: usize, field: usize) -> usize {
    EHDR + index * PHDR + field
}

fn put_u16(bytes: &mut [u8], at: usize, value: u16) {
    bytes[at..at + 2].copy_from_slice(&value.to_le_bytes());
}

fn put_u32(bytes: &mut [u8], at: usize, value: u32) {
    bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

fn get_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
}

fn minimal_elf() -> Vec<u8> {
    let mut b = vec![0u8; DATA_OFF + DATA_LEN];
    b[..4].copy_from_slice(b"\x7fELF");
    b[4] = 1; // ELFCLASS32
    b[5] = 1; // ELFDATA2LSB
    b[6] = 1; // EV_CURRENT
    put_u16(&mut b, E_TYPE, 2); // ET_EXEC
    put_u16(&mut b, E_MACHINE, 8); // EM_MIPS
    put_u32(&mut b, E_VERSION, 1);
    put_u32(&mut b, E_ENTRY, TEXT_VADDR + CODE_OFF as u32);
    put_u32(&mut b, E_PHOFF, EHDR as u32);
    put_u32(&mut b, E_FLAGS, 0x7000_1007); // mips32r2, o32, noreorder|pic|cpic: what gcc writes
    put_u16(&mut b, 40, EHDR as u16); // e_ehsize
    put_u16(&mut b, E_PHENTSIZE, PHDR as u16);
    put_u16(&mut b, E_PHNUM, PHNUM as u16);
    let segments = [
        (
            PT_LOAD,
            0,
            TEXT_VADDR,
            DATA_OFF as u32,
            DATA_OFF as u32,
            PF_R | PF_X,
        ),
        (
            PT_LOAD,
            DATA_OFF as u32,
            DATA_VADDR,
            DATA_LEN as u32,
            DATA_MEMSZ,
            PF_R | PF_W,
        ),
        (PT_GNU_STACK, 0, 0, 0, 0, PF_R | PF_W),
    ];
    for (i, (p_type, offset, vaddr, filesz, memsz, flags)) in segments.into_iter().enumerate() {
        put_u32(&mut b, ph(i, P_TYPE), p_type);
        put_u32(&mut b, ph(i, P_OFFSET), offset);
        put_u32(&mut b, ph(i, P_VADDR), vaddr);
        put_u32(&mut b, ph(i, 12), vaddr);
        put_u32(&mut b, ph(i, P_FILESZ), filesz);
        put_u32(&mut b, ph(i, P_MEMSZ), memsz);
        put_u32(&mut b, ph(i, P_FLAGS), flags);
        put_u32(&mut b, ph(i, 28), 0x1000);
    }
    // addiu $a0, $zero, 0; addiu $v0, $zero, 4001 (exit); syscall; nop
    for (i, word) in [0x2404_0000u32, 0x2402_0fa1, 0x0000_000c, 0]
        .into_iter()
        .enumerate()
    {
        put_u32(&mut b, CODE_OFF + 4 * i, word);
    }
    b[DATA_OFF..].copy_from_slice(b"zkmips!\n");
    b
}

fn mutated(f: impl FnOnce(&mut Vec<u8>)) -> Result<Program, ElfError> {
    let mut bytes = minimal_elf();
    f(&mut bytes);
    Program::from_elf(&bytes)
}

#[test]
fn minimal_elf_loads() {
    let program = Program::from_elf(&minimal_elf()).expect("the minimal ELF is valid");
    assert_eq!(program.entry, TEXT_VADDR + CODE_OFF as u32);
    assert_eq!(program.segments.len(), 2);
    let (text, data) = (&program.segments[0], &program.segments[1]);
    assert_eq!(
        (text.vaddr, text.mem_size, text.data.len()),
        (TEXT_VADDR, DATA_OFF as u32, DATA_OFF)
    );
    assert!(text.readable && text.executable && !text.writable);
    assert_eq!((data.vaddr, data.mem_size), (DATA_VADDR, DATA_MEMSZ));
    assert_eq!(data.data, b"zkmips!\n");
    assert!(data.readable && data.writable && !data.executable);
    // No PT_PHDR: the table is at e_phoff inside the text segment, which maps file offset 0.
    assert_eq!(program.phdr_vaddr, Some(TEXT_VADDR + EHDR as u32));
    assert_eq!((program.phent, program.phnum), (PHDR as u16, PHNUM as u16));
    assert_eq!(program.brk_start(), DATA_VADDR + 0x1000);
    assert_eq!(
        program.text_ranges().collect::<Vec<_>>(),
        vec![(TEXT_VADDR, u64::from(TEXT_VADDR) + DATA_OFF as u64)]
    );
    assert!(program.is_executable(program.entry));
    assert!(!program.is_executable(DATA_VADDR));
    assert!(!program.is_executable(TEXT_VADDR - 4));
}

#[test]
fn segments_are_sorted_and_empty_loads_skipped() {
    let program = mutated(|b| {
        // Swap the two PT_LOAD headers and turn GNU_STACK into an empty PT_LOAD.
        let (first, second) = (ph(0, 0), ph(1, 0));
        let text: Vec<u8> = b[first..first + PHDR].to_vec();
        b.copy_within(second..second + PHDR, first);
        b[second..second + PHDR].copy_from_slice(&text);
        put_u32(b, ph(2, P_TYPE), PT_LOAD);
    })
    .unwrap();
    let addrs: Vec<u32> = program.segments.iter().map(|s| s.vaddr).collect();
    assert_eq!(addrs, vec![TEXT_VADDR, DATA_VADDR]);
}

#[test]
fn pt_phdr_is_used_when_present_and_checked() {
    let with_phdr = |vaddr: u32| {
        mutated(|b| {
            put_u32(b, ph(2, P_TYPE), PT_PHDR);
            put_u32(b, ph(2, P_VADDR), vaddr);
        })
    };
    assert_eq!(
        with_phdr(TEXT_VADDR + EHDR as u32).unwrap().phdr_vaddr,
        Some(TEXT_VADDR + EHDR as u32)
    );
    // Pointing into .bss (not file-backed) or at nothing is an error: glibc would read garbage headers.
    assert_eq!(
        with_phdr(DATA_VADDR + 0x20),
        Err(ElfError::PhdrNotLoaded {
            segment: 2,
            vaddr: DATA_VADDR + 0x20
        })
    );
    assert_eq!(
        with_phdr(0x5000_0000),
        Err(ElfError::PhdrNotLoaded {
            segment: 2,
            vaddr: 0x5000_0000
        })
    );
}

#[test]
fn phdr_vaddr_is_none_when_no_segment_maps_the_table() {
    let program = mutated(|b| {
        // Text segment starts after the program header table in the file.
        put_u32(b, ph(0, P_OFFSET), CODE_OFF as u32);
        put_u32(b, ph(0, P_VADDR), TEXT_VADDR + CODE_OFF as u32);
        put_u32(b, ph(0, P_FILESZ), CODE_LEN as u32);
        put_u32(b, ph(0, P_MEMSZ), CODE_LEN as u32);
    })
    .unwrap();
    assert_eq!(program.phdr_vaddr, None);
}

#[test]
fn truncated_files_are_rejected_with_the_right_error() {
    let full = minimal_elf();
    assert_eq!(
        Program::from_elf(&[]),
        Err(ElfError::TruncatedHeader { len: 0 })
    );
    for len in [1, 3, 4, 6, 20, 51] {
        assert_eq!(
            Program::from_elf(&full[..len]),
            Err(ElfError::TruncatedHeader { len }),
            "length {len}"
        );
    }
    for len in [52, 60, 83, 84, 147] {
        assert_eq!(
            Program::from_elf(&full[..len]),
            Err(ElfError::TruncatedProgramHeaders {
                offset: EHDR as u32,
                count: PHNUM as u16,
                file_len: len
            }),
            "length {len}"
        );
    }
    for len in [148, 160, DATA_OFF - 1] {
        assert!(
            matches!(
                Program::from_elf(&full[..len]),
                Err(ElfError::SegmentOutsideFile { segment: 0, .. })
            ),
            "length {len}"
        );
    }
    for len in [DATA_OFF, DATA_OFF + DATA_LEN - 1] {
        assert!(
            matches!(
                Program::from_elf(&full[..len]),
                Err(ElfError::SegmentOutsideFile { segment: 1, .. })
            ),
            "length {len}"
        );
    }
}

#[test]
fn header_problems_are_rejected() {
    assert_eq!(
        mutated(|b| b[0] = 0x7e),
        Err(ElfError::BadMagic { found: *b"\x7eELF" })
    );
    assert_eq!(
        Program::from_elf(b"MZ"),
        Err(ElfError::BadMagic {
            found: [b'M', b'Z', 0, 0]
        })
    );
    assert_eq!(
        mutated(|b| b[4] = 2),
        Err(ElfError::WrongClass { class: 2 })
    );
    assert_eq!(
        mutated(|b| b[4] = 0),
        Err(ElfError::WrongClass { class: 0 })
    );
    assert_eq!(
        mutated(|b| b[5] = 2),
        Err(ElfError::WrongEndianness { data: 2 })
    );
    assert_eq!(
        mutated(|b| b[6] = 0),
        Err(ElfError::WrongVersion { version: 0 })
    );
    assert_eq!(
        mutated(|b| put_u32(b, E_VERSION, 2)),
        Err(ElfError::WrongVersion { version: 2 })
    );
    assert_eq!(
        mutated(|b| put_u16(b, E_MACHINE, 3)),
        Err(ElfError::WrongMachine { machine: 3 })
    );
    assert_eq!(
        mutated(|b| put_u16(b, E_MACHINE, 10)),
        Err(ElfError::WrongMachine { machine: 10 })
    );
    for e_type in [0, 1, 3, 4, 0xfe00] {
        assert_eq!(
            mutated(|b| put_u16(b, E_TYPE, e_type)),
            Err(ElfError::WrongType { e_type })
        );
    }
    assert_eq!(
        mutated(|b| put_u16(b, E_PHENTSIZE, 56)),
        Err(ElfError::BadProgramHeaderSize { size: 56 })
    );
    assert_eq!(
        mutated(|b| put_u32(b, E_PHOFF, u32::MAX - 10)),
        Err(ElfError::TruncatedProgramHeaders {
            offset: u32::MAX - 10,
            count: 3,
            file_len: DATA_OFF + DATA_LEN
        })
    );
    assert_eq!(
        mutated(|b| put_u16(b, E_PHNUM, 0)),
        Err(ElfError::NoLoadSegments)
    );
    assert!(matches!(
        mutated(|b| put_u16(b, E_PHNUM, u16::MAX)),
        Err(ElfError::TruncatedProgramHeaders {
            count: u16::MAX,
            ..
        })
    ));
}

#[test]
fn mips_flags_are_checked() {
    let with_flags = |flags: u32| mutated(|b| put_u32(b, E_FLAGS, flags));
    // MIPS I, MIPS II, MIPS32, MIPS32r2 with o32 or no ABI field, NaN2008 and FP64 pass.
    for flags in [
        0,
        0x1000,
        0x1000_1000,
        0x5000_1000,
        0x7000_1007,
        0x7000_0000,
        0x7000_1407,
        0x7000_1207,
    ] {
        assert!(with_flags(flags).is_ok(), "flags {flags:#x}");
    }
    for (flags, isa) in [
        (0x2000_1000, "MIPS III"),
        (0x6000_1000, "MIPS64"),
        (0x8000_1000, "MIPS64r2"),
        (0x9000_1000, "MIPS32r6"),
        (0xa000_1000, "MIPS64r6"),
        (0xf000_1000, "unknown"),
    ] {
        assert_eq!(
            with_flags(flags),
            Err(ElfError::UnsupportedIsa { flags, isa })
        );
    }
    for (flags, abi) in [
        (0x7000_1020, "n32"),
        (0x7000_2000, "o64"),
        (0x7000_3000, "EABI32"),
        (0x7000_4000, "EABI64"),
    ] {
        assert_eq!(
            with_flags(flags),
            Err(ElfError::UnsupportedAbi { flags, abi })
        );
    }
    assert_eq!(
        with_flags(0x7200_1000),
        Err(ElfError::CompressedIsa {
            flags: 0x7200_1000,
            ase: "microMIPS"
        })
    );
    assert_eq!(
        with_flags(0x7400_1000),
        Err(ElfError::CompressedIsa {
            flags: 0x7400_1000,
            ase: "MIPS16"
        })
    );
}

#[test]
fn segment_problems_are_rejected() {
    let file_len = DATA_OFF + DATA_LEN;
    assert_eq!(
        mutated(|b| put_u32(b, ph(1, P_OFFSET), 0x1000)),
        Err(ElfError::SegmentOutsideFile {
            segment: 1,
            offset: 0x1000,
            file_size: 8,
            file_len
        })
    );
    assert_eq!(
        mutated(|b| put_u32(b, ph(1, P_OFFSET), u32::MAX)),
        Err(ElfError::SegmentOutsideFile {
            segment: 1,
            offset: u32::MAX,
            file_size: 8,
            file_len
        })
    );
    assert_eq!(
        mutated(|b| put_u32(b, ph(1, P_MEMSZ), 4)),
        Err(ElfError::FileSizeExceedsMemSize {
            segment: 1,
            file_size: 8,
            mem_size: 4
        })
    );
    assert_eq!(
        mutated(|b| put_u32(b, ph(1, P_MEMSZ), 0)),
        Err(ElfError::FileSizeExceedsMemSize {
            segment: 1,
            file_size: 8,
            mem_size: 0
        })
    );
    assert_eq!(
        mutated(|b| put_u32(b, ph(1, P_VADDR), 0xffff_fff0)),
        Err(ElfError::SegmentAddressOverflow {
            segment: 1,
            vaddr: 0xffff_fff0,
            mem_size: DATA_MEMSZ
        })
    );
    // Kernel space, the stack/mmap area, and the null guard.
    for vaddr in [
        0x8000_0000,
        0xbfc0_0000,
        layout::STACK_TOP,
        layout::MMAP_TOP,
        layout::MMAP_TOP - 0x20,
        0,
        0xfc0,
    ] {
        assert_eq!(
            mutated(|b| put_u32(b, ph(1, P_VADDR), vaddr)),
            Err(ElfError::SegmentOutsideLoadableRange {
                segment: 1,
                start: vaddr,
                end: u64::from(vaddr) + 0x40
            }),
            "vaddr {vaddr:#x}"
        );
    }
    // Ending exactly at the top of the loadable range is fine.
    assert!(mutated(|b| put_u32(b, ph(1, P_VADDR), layout::MMAP_TOP - DATA_MEMSZ)).is_ok());
    assert_eq!(
        mutated(|b| put_u32(b, ph(1, P_VADDR), TEXT_VADDR + 0x80)),
        Err(ElfError::OverlappingSegments {
            first: 0,
            first_start: TEXT_VADDR,
            first_end: u64::from(TEXT_VADDR) + DATA_OFF as u64,
            second: 1,
            second_start: TEXT_VADDR + 0x80,
            second_end: u64::from(TEXT_VADDR) + 0xc0,
        })
    );
    // Adjacent is not overlapping.
    assert!(mutated(|b| put_u32(b, ph(1, P_VADDR), TEXT_VADDR + DATA_OFF as u32)).is_ok());
    assert_eq!(
        mutated(|b| put_u32(b, ph(1, P_MEMSZ), 0x4000_0000)),
        Err(ElfError::TooMuchMemory {
            total: 0x4000_0000 + DATA_OFF as u64
        })
    );
    // Code may span 64 MiB, not one page more, whether one segment or two far apart; data may be larger.
    let code_limit = MAX_CODE_SIZE as u32;
    let far_data = |b: &mut Vec<u8>| put_u32(b, ph(1, P_VADDR), 0x6000_0000);
    assert!(
        mutated(|b| {
            far_data(b);
            put_u32(b, ph(0, P_MEMSZ), code_limit);
        })
        .is_ok()
    );
    let code_end = u64::from(TEXT_VADDR) + u64::from(code_limit) + 0x1000;
    assert_eq!(
        mutated(|b| {
            far_data(b);
            put_u32(b, ph(0, P_MEMSZ), code_limit + 0x1000);
        }),
        Err(ElfError::CodeTooLarge {
            start: TEXT_VADDR,
            end: code_end
        })
    );
    let data_vaddr = TEXT_VADDR + code_limit;
    let far_code = mutated(|b| {
        put_u32(b, ph(1, P_VADDR), data_vaddr);
        put_u32(b, ph(1, P_FLAGS), PF_R | PF_X);
    });
    let far_end = u64::from(data_vaddr) + u64::from(DATA_MEMSZ);
    assert_eq!(
        far_code,
        Err(ElfError::CodeTooLarge {
            start: TEXT_VADDR,
            end: far_end
        })
    );
    assert!(mutated(|b| put_u32(b, ph(1, P_MEMSZ), code_limit + 0x1000)).is_ok());
}

#[test]
fn missing_or_dynamic_segments_are_rejected() {
    assert_eq!(
        mutated(|b| {
            put_u32(b, ph(0, P_TYPE), PT_NOTE);
            put_u32(b, ph(1, P_TYPE), PT_NOTE);
        }),
        Err(ElfError::NoLoadSegments)
    );
    assert_eq!(
        mutated(|b| put_u32(b, ph(2, P_TYPE), PT_INTERP)),
        Err(ElfError::DynamicallyLinked {
            segment: 2,
            kind: "PT_INTERP"
        })
    );
    assert_eq!(
        mutated(|b| put_u32(b, ph(2, P_TYPE), PT_DYNAMIC)),
        Err(ElfError::DynamicallyLinked {
            segment: 2,
            kind: "PT_DYNAMIC"
        })
    );
}

#[test]
fn too_many_segments_are_rejected() {
    // A file with MAX_LOAD_SEGMENTS + 1 one-byte PT_LOADs, one page apart.
    let count = MAX_LOAD_SEGMENTS + 1;
    let mut b = minimal_elf();
    b.truncate(EHDR);
    put_u16(&mut b, E_PHNUM, count as u16);
    for i in 0..count {
        let mut header = [0u8; PHDR];
        put_u32(&mut header, P_TYPE, PT_LOAD);
        put_u32(&mut header, P_VADDR, TEXT_VADDR + 0x1000 * i as u32);
        put_u32(&mut header, P_MEMSZ, 1);
        put_u32(&mut header, P_FLAGS, PF_R | PF_X);
        b.extend_from_slice(&header);
    }
    assert_eq!(
        Program::from_elf(&b),
        Err(ElfError::TooManySegments { count })
    );
}

#[test]
fn bad_entry_points_are_rejected() {
    let with_entry = |entry: u32| mutated(|b| put_u32(b, E_ENTRY, entry));
    let code = TEXT_VADDR + CODE_OFF as u32;
    assert_eq!(
        with_entry(code + 1),
        Err(ElfError::CompressedEntry { entry: code + 1 })
    );
    assert_eq!(
        with_entry(code + 2),
        Err(ElfError::MisalignedEntry { entry: code + 2 })
    );
    for entry in [
        0,
        DATA_VADDR,
        TEXT_VADDR - 4,
        TEXT_VADDR + DATA_OFF as u32,
        0x8000_0000,
    ] {
        assert_eq!(
            with_entry(entry),
            Err(ElfError::EntryOutsideCode { entry }),
            "entry {entry:#x}"
        );
    }
    // The last word of the text segment is a valid entry; a non-executable segment is not.
    assert!(with_entry(TEXT_VADDR + DATA_OFF as u32 - 4).is_ok());
    assert_eq!(
        mutated(|b| put_u32(b, ph(0, P_FLAGS), PF_R)),
        Err(ElfError::EntryOutsideCode { entry: code })
    );
}

#[test]
fn error_messages_name_the_problem_and_value() {
    let message = |r: Result<Program, ElfError>| r.unwrap_err().to_string();
    assert!(message(mutated(|b| b[4] = 2)).contains("64-bit"));
    assert!(message(mutated(|b| b[5] = 2)).contains("big-endian"));
    assert!(message(mutated(|b| put_u16(b, E_TYPE, 3))).contains("position-independent"));
    assert!(message(mutated(|b| put_u32(b, ph(2, P_TYPE), PT_INTERP))).contains("-static"));
    let overlap = message(mutated(|b| put_u32(b, ph(1, P_VADDR), 0x8000_0000)));
    assert!(
        overlap.contains("segment 1") && overlap.contains("0x80000000"),
        "{overlap}"
    );
    assert!(message(mutated(|b| put_u32(b, E_ENTRY, 0x123))).contains("0x00000123"));
}

// ---------------------------------------------------------------------------------------------------------
// Never panic.

/// xorshift64*: a fixed-seed generator, so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Loads, and for every accepted program checks the invariants the executor relies on.
fn load_checked(bytes: &[u8]) {
    if let Ok(program) = Program::from_elf(bytes) {
        assert!(!program.segments.is_empty());
        for pair in program.segments.windows(2) {
            assert!(pair[0].end() <= u64::from(pair[1].vaddr));
        }
        for segment in &program.segments {
            assert!(segment.data.len() as u64 <= u64::from(segment.mem_size));
            assert!(
                segment.vaddr >= layout::NULL_GUARD_END
                    && segment.end() <= u64::from(layout::MMAP_TOP)
            );
        }
        assert!(program.is_executable(program.entry) && program.entry.is_multiple_of(4));
        let stack = build_initial_stack(&program, &["fuzz".to_string()], &[]);
        assert_eq!(stack.sp % 16, 0);
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..4000 {
        let len = rng.below(300);
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        // Half the inputs get a valid ident so parsing goes past the first checks.
        if len >= 7 && rng.next().is_multiple_of(2) {
            bytes[..7].copy_from_slice(b"\x7fELF\x01\x01\x01");
        }
        load_checked(&bytes);
    }
}

#[test]
fn mutations_of_a_valid_elf_never_panic() {
    let base = minimal_elf();
    let mut rng = Rng(42);
    let mut accepted = 0;
    for _ in 0..20_000 {
        let mut bytes = base.clone();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(CODE_OFF);
            bytes[at] = match rng.below(4) {
                0 => rng.next() as u8,
                1 => bytes[at] ^ (1 << rng.below(8)),
                2 => 0xff,
                _ => 0,
            };
        }
        if Program::from_elf(&bytes).is_ok() {
            accepted += 1;
        }
        load_checked(&bytes);
    }
    // Some mutations (p_paddr, p_align, e_shoff, ...) are harmless: the loop reaches the success path too.
    assert!(accepted > 100, "only {accepted} mutants loaded");
}

#[test]
fn every_truncation_of_the_minimal_elf_is_an_error() {
    let full = minimal_elf();
    for len in 0..full.len() {
        assert!(
            Program::from_elf(&full[..len]).is_err(),
            "length {len} loaded"
        );
    }
    assert!(Program::from_elf(&full).is_ok());
}

// ---------------------------------------------------------------------------------------------------------
// The initial stack.

struct DecodedStack {
    argc: u32,
    argv: Vec<String>,
    envp: Vec<String>,
    auxv: Vec<(u32, u32)>,
}

fn read_word(stack: &InitialStack, addr: u32) -> u32 {
    assert!(
        addr >= stack.base && addr.is_multiple_of(4),
        "word read at {addr:#x}"
    );
    get_u32(&stack.bytes, (addr - stack.base) as usize)
}

fn read_c_string(stack: &InitialStack, addr: u32) -> String {
    assert!(
        addr >= stack.base && addr < layout::STACK_TOP,
        "string at {addr:#x} is outside the block"
    );
    let rest = &stack.bytes[(addr - stack.base) as usize..];
    let len = rest
        .iter()
        .position(|&b| b == 0)
        .expect("string is NUL-terminated");
    String::from_utf8(rest[..len].to_vec()).unwrap()
}

fn read_string_array(stack: &InitialStack, mut addr: u32) -> (Vec<String>, u32) {
    let mut strings = Vec::new();
    loop {
        let pointer = read_word(stack, addr);
        addr += 4;
        if pointer == 0 {
            return (strings, addr);
        }
        strings.push(read_c_string(stack, pointer));
    }
}

/// Decodes the block the way `_start` and `getauxval` read it.
fn decode(stack: &InitialStack) -> DecodedStack {
    let argc = read_word(stack, stack.sp);
    let (argv, envp_addr) = read_string_array(stack, stack.sp + 4);
    let (envp, mut auxv_addr) = read_string_array(stack, envp_addr);
    let mut auxv = Vec::new();
    loop {
        let kind = read_word(stack, auxv_addr);
        let value = read_word(stack, auxv_addr + 4);
        auxv_addr += 8;
        if kind == auxv::AT_NULL {
            assert_eq!(value, 0);
            return DecodedStack {
                argc,
                argv,
                envp,
                auxv,
            };
        }
        auxv.push((kind, value));
    }
}

fn aux(decoded: &DecodedStack, kind: u32) -> Option<u32> {
    let matches: Vec<u32> = decoded
        .auxv
        .iter()
        .filter(|e| e.0 == kind)
        .map(|e| e.1)
        .collect();
    assert!(
        matches.len() <= 1,
        "auxv type {kind} appears {} times",
        matches.len()
    );
    matches.first().copied()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn check_stack_round_trip(program: &Program, args: &[String], env: &[String]) {
    let stack = build_initial_stack(program, args, env);
    assert_eq!(
        stack.sp % 16,
        0,
        "o32 needs at least 8-byte alignment; Linux gives 16"
    );
    assert_eq!(stack.base, stack.sp);
    assert_eq!(
        stack.base as usize + stack.bytes.len(),
        layout::STACK_TOP as usize
    );
    assert!(stack.sp > layout::MMAP_TOP);

    let decoded = decode(&stack);
    assert_eq!(decoded.argc as usize, args.len());
    assert_eq!(decoded.argv, args);
    assert_eq!(decoded.envp, env);

    assert_eq!(aux(&decoded, auxv::AT_PHDR), program.phdr_vaddr);
    assert_eq!(
        aux(&decoded, auxv::AT_PHENT),
        Some(u32::from(program.phent))
    );
    assert_eq!(
        aux(&decoded, auxv::AT_PHNUM),
        Some(u32::from(program.phnum))
    );
    assert_eq!(aux(&decoded, auxv::AT_PAGESZ), Some(layout::PAGE_SIZE));
    assert_eq!(aux(&decoded, auxv::AT_ENTRY), Some(program.entry));
    assert_eq!(aux(&decoded, auxv::AT_BASE), Some(0));
    assert_eq!(aux(&decoded, auxv::AT_FLAGS), Some(0));
    assert_eq!(aux(&decoded, auxv::AT_SECURE), Some(0));
    assert_eq!(aux(&decoded, auxv::AT_HWCAP), Some(0));
    assert_eq!(aux(&decoded, auxv::AT_CLKTCK), Some(100));
    for id in [auxv::AT_UID, auxv::AT_EUID, auxv::AT_GID, auxv::AT_EGID] {
        assert_eq!(aux(&decoded, id), Some(0));
    }
    let random = aux(&decoded, auxv::AT_RANDOM).unwrap();
    let at = (random - stack.base) as usize;
    assert_eq!(stack.bytes[at..at + 16], AT_RANDOM_BYTES);
    assert_eq!(
        read_c_string(&stack, aux(&decoded, auxv::AT_BASE_PLATFORM).unwrap()),
        PLATFORM
    );
    // Like Linux on a generic MIPS32r2 core: the ISA level, and no AT_PLATFORM.
    assert_eq!(aux(&decoded, auxv::AT_PLATFORM), None);
    let execfn = read_c_string(&stack, aux(&decoded, auxv::AT_EXECFN).unwrap());
    assert_eq!(execfn, args.first().map(String::as_str).unwrap_or(""));
    // The word just below STACK_TOP is Linux's zero end marker.
    assert_eq!(read_word(&stack, layout::STACK_TOP - 4), 0);

    // Deterministic: the same inputs give the same bytes.
    assert_eq!(build_initial_stack(program, args, env), stack);
}

#[test]
fn initial_stack_decodes_back() {
    let program = Program::from_elf(&minimal_elf()).unwrap();
    check_stack_round_trip(
        &program,
        &strings(&["/bin/guest", "hello", "", "wörld"]),
        &strings(&["A=1", "PATH=/bin"]),
    );
    check_stack_round_trip(&program, &strings(&["prog"]), &[]);
    check_stack_round_trip(&program, &[], &[]);
    for n in 0..12 {
        let args: Vec<String> = (0..n).map(|i| "a".repeat(i * 3)).collect();
        let env: Vec<String> = (0..n % 5)
            .map(|i| format!("V{i}={}", "b".repeat(i)))
            .collect();
        check_stack_round_trip(&program, &args, &env);
    }
    let mut no_phdr = program.clone();
    no_phdr.phdr_vaddr = None;
    check_stack_round_trip(&no_phdr, &strings(&["p"]), &[]);
}

// ---------------------------------------------------------------------------------------------------------
// Real binaries from the mipsel toolchain.

/// Whether `tool` runs. A missing tool skips the test, except in CI where it fails it.
fn tool_available(tool: &str) -> bool {
    let found = Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{tool} is required in CI but was not found"
        );
        eprintln!("note: {tool} not found, skipping this test");
    }
    found
}

/// The hello-world binary, built once: tests run in parallel threads and must not race on the output file.
fn hello_binary() -> Option<PathBuf> {
    static HELLO: OnceLock<Option<PathBuf>> = OnceLock::new();
    HELLO
        .get_or_init(|| build_static_c("hello", HELLO_C, &[]))
        .clone()
}

/// Compiles `source` into a static mips32r2 glibc executable named `name`; `None` when the compiler is
/// missing.
fn build_static_c(name: &str, source: &str, extra_flags: &[&str]) -> Option<PathBuf> {
    if !tool_available("mipsel-linux-gnu-gcc") {
        return None;
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("elf_loading");
    std::fs::create_dir_all(&dir).unwrap();
    let c_file = dir.join(format!("{name}.c"));
    let elf = dir.join(name);
    std::fs::write(&c_file, source).unwrap();
    let output = Command::new("mipsel-linux-gnu-gcc")
        .args(["-O2", "-march=mips32r2", "-static"])
        .args(extra_flags)
        .arg("-o")
        .arg(&elf)
        .arg(&c_file)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "gcc failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(elf)
}

const HELLO_C: &str = r#"
#include <stdio.h>
int counter = 7;          /* .data */
char buffer[100000];      /* .bss */
int main(void) { buffer[counter] = 1; printf("hello %d\n", buffer[7]); return 0; }
"#;

const AUXV_C: &str = r#"
#include <stdio.h>
#include <sys/auxv.h>
int main(void) {
  printf("%lx %lu %lu %lx %lu\n", getauxval(AT_PHDR), getauxval(AT_PHENT), getauxval(AT_PHNUM),
         getauxval(AT_ENTRY), getauxval(AT_PAGESZ));
  return 0;
}
"#;

#[test]
fn static_glibc_binary_loads_like_goblin_sees_it() {
    let Some(path) = hello_binary() else {
        return;
    };
    let bytes = std::fs::read(&path).unwrap();
    let program = Program::from_elf(&bytes).expect("a static glibc binary loads");

    // Cross-check against goblin's full parser, an independent reading of the same file.
    let elf = goblin::elf::Elf::parse(&bytes).unwrap();
    assert_eq!(u64::from(program.entry), elf.entry);
    let loads: Vec<_> = elf
        .program_headers
        .iter()
        .filter(|p| p.p_type == goblin::elf::program_header::PT_LOAD)
        .collect();
    assert_eq!(program.segments.len(), loads.len());
    for (segment, ph) in program.segments.iter().zip(&loads) {
        assert_eq!(u64::from(segment.vaddr), ph.p_vaddr);
        assert_eq!(u64::from(segment.mem_size), ph.p_memsz);
        assert_eq!(segment.data, bytes[ph.file_range()]);
        assert_eq!(
            (segment.readable, segment.writable, segment.executable),
            (ph.is_read(), ph.is_write(), ph.is_executable())
        );
    }
    assert_eq!(program.phnum as usize, elf.program_headers.len());
    assert_eq!(program.phent, 32);

    // The text segment holds the entry; the data segment carries .bss (memsz > filesz) that covers `buffer`
    // and ends below brk_start.
    assert!(program.is_executable(program.entry));
    let symbol = |name: &str| {
        elf.syms
            .iter()
            .find(|s| elf.strtab.get_at(s.st_name) == Some(name))
            .map(|s| s.st_value as u32)
            .unwrap()
    };
    let data = program.segments.iter().find(|s| s.writable).unwrap();
    assert!(data.mem_size as usize > data.data.len());
    assert!(data.contains(symbol("buffer")) && data.contains(symbol("buffer") + 99_999));
    assert!(program.brk_start() >= symbol("_end"));
    assert_eq!(program.brk_start() % layout::PAGE_SIZE, 0);
    let counter = symbol("counter");
    let at = (counter - data.vaddr) as usize;
    assert_eq!(data.data[at..at + 4], 7u32.to_le_bytes());

    check_stack_round_trip(&program, &strings(&["hello", "x"]), &strings(&["LANG=C"]));

    // Garbage section header fields change nothing the loader reads (beyond the header bytes the text
    // segment maps), and neither does dropping everything after the last segment's file bytes.
    let mut stripped = bytes.clone();
    stripped[32..36].copy_from_slice(&[0xff; 4]); // e_shoff -> far outside the file
    stripped[48..50].copy_from_slice(&[0xff; 2]); // e_shnum
    let end_of_segments = loads.iter().map(|ph| ph.file_range().end).max().unwrap();
    stripped.truncate(end_of_segments);
    let mut reloaded = Program::from_elf(&stripped).unwrap();
    reloaded.segments[0].data[..52].copy_from_slice(&bytes[..52]);
    assert!(reloaded == program, "stripped binary loads differently");
}

#[test]
fn loader_agrees_with_qemu_on_the_aux_vector() {
    let Some(path) = build_static_c("auxv", AUXV_C, &[]) else {
        return;
    };
    if !tool_available("qemu-mipsel") {
        return;
    }
    let output = Command::new("qemu-mipsel").arg(&path).output().unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    let fields: Vec<&str> = stdout.split_whitespace().collect();
    let hex = |s: &str| u32::from_str_radix(s, 16).unwrap();
    let dec = |s: &str| s.parse::<u32>().unwrap();

    let program = Program::from_elf(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(program.phdr_vaddr, Some(hex(fields[0])), "AT_PHDR");
    assert_eq!(u32::from(program.phent), dec(fields[1]), "AT_PHENT");
    assert_eq!(u32::from(program.phnum), dec(fields[2]), "AT_PHNUM");
    assert_eq!(program.entry, hex(fields[3]), "AT_ENTRY");
    assert_eq!(layout::PAGE_SIZE, dec(fields[4]), "AT_PAGESZ");

    let decoded = decode(&build_initial_stack(&program, &strings(&["auxv"]), &[]));
    assert_eq!(aux(&decoded, auxv::AT_PHDR), Some(hex(fields[0])));
    assert_eq!(aux(&decoded, auxv::AT_ENTRY), Some(hex(fields[3])));
}

/// Prints what glibc's startup made of the initial stack: arguments, environment, auxv values both sides
/// must agree on, a TLS variable (static TLS setup finds `PT_TLS` through `AT_PHDR`), and runs with the stack
/// protector on (its canary comes from `AT_RANDOM`).
const STARTUP_C: &str = r#"
#include <stdio.h>
#include <stdint.h>
#include <sys/auxv.h>
__thread int tls_counter = 5;
int main(int argc, char **argv, char **envp) {
  printf("argc=%d\n", argc);
  for (int i = 0; i < argc; i++) printf("argv[%d]=%s\n", i, argv[i]);
  for (int i = 0; envp[i]; i++) printf("env=%s\n", envp[i]);
  printf("phdr=%lx phent=%lu phnum=%lu pagesz=%lu entry=%lx clktck=%lu secure=%lu base=%lu\n",
         getauxval(AT_PHDR), getauxval(AT_PHENT), getauxval(AT_PHNUM), getauxval(AT_PAGESZ),
         getauxval(AT_ENTRY), getauxval(AT_CLKTCK), getauxval(AT_SECURE), getauxval(AT_BASE));
  printf("sp16=%d\n", (int)(((uintptr_t)argv - 4) % 16));
  tls_counter += argc;
  printf("tls=%d\n", tls_counter);
  return 3;
}
"#;

#[test]
fn static_glibc_startup_matches_qemu() {
    use zkmips_executor::executor::{Executor, ExecutorConfig};
    use zkmips_executor::syscalls::SyscallConfig;

    let Some(elf) = build_static_c("startup", STARTUP_C, &["-fstack-protector-all"]) else {
        return;
    };
    if !tool_available("qemu-mipsel") {
        return;
    }

    let args = strings(&[elf.to_str().unwrap(), "one", "two words"]);
    let env = strings(&["A=1", "LANG=C"]);
    let qemu = Command::new("qemu-mipsel")
        .args(&args)
        .env_clear()
        .envs(env.iter().map(|e| e.split_once('=').unwrap()))
        .output()
        .unwrap();
    assert_eq!(
        qemu.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&qemu.stderr)
    );
    let expected = String::from_utf8(qemu.stdout).unwrap();
    assert!(expected.contains("argv[2]=two words\n"), "{expected}");

    let program = Program::from_elf(&std::fs::read(&elf).unwrap()).unwrap();
    let config = ExecutorConfig {
        max_cycles: Some(50_000_000),
        args,
        env,
        syscalls: SyscallConfig {
            echo_output: false,
            ..Default::default()
        },
        ..Default::default()
    };
    let report = Executor::new(&program, config)
        .unwrap()
        .run()
        .expect("the probe runs to completion");
    let ours = String::from_utf8(report.stdout).unwrap();
    // qemu-user hands the environment over in reverse order; Linux (and zkmips) keep the caller's order.
    assert!(ours.contains("env=A=1\nenv=LANG=C\n"), "{ours}");
    let sorted_lines = |text: &str| {
        let mut lines: Vec<&str> = text.lines().collect();
        lines.sort_unstable();
        lines.join("\n")
    };
    assert_eq!(
        sorted_lines(&ours),
        sorted_lines(&expected),
        "zkmips:\n{ours}\nqemu:\n{expected}"
    );
    assert_eq!(report.exit_code, 3);
}

#[test]
fn truncations_and_mutations_of_a_real_binary_never_panic() {
    let Some(path) = hello_binary() else {
        return;
    };
    let bytes = std::fs::read(&path).unwrap();
    // Every truncation point in the headers, then a stride through the segments: all cut off segment bytes.
    // Past the last segment's file bytes only section headers and symbols remain, which the loader ignores.
    let elf = goblin::elf::Elf::parse(&bytes).unwrap();
    let end_of_segments = elf
        .program_headers
        .iter()
        .map(|ph| ph.file_range().end)
        .max()
        .unwrap();
    for len in (0..2048)
        .chain((2048..end_of_segments).step_by(4099))
        .chain([end_of_segments - 1])
    {
        assert!(
            Program::from_elf(&bytes[..len]).is_err(),
            "truncated to {len} bytes but loaded"
        );
    }
    for len in (end_of_segments..=bytes.len()).step_by(997) {
        assert!(
            Program::from_elf(&bytes[..len]).is_ok(),
            "truncated to {len} bytes, after all segments"
        );
    }
    let phdrs_end = 52 + 32 * usize::from(u16::from_le_bytes([bytes[44], bytes[45]]));
    let mut rng = Rng(7);
    let mut mutant = bytes.clone();
    for _ in 0..2000 {
        mutant[..phdrs_end].copy_from_slice(&bytes[..phdrs_end]);
        for _ in 0..1 + rng.below(3) {
            mutant[rng.below(phdrs_end)] = rng.next() as u8;
        }
        load_checked(&mutant);
    }
}
