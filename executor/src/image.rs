//! The initial process image: the guest address space at the first instruction, and the Linux-style stack
//! block (`argc`, `argv`, `envp`, auxiliary vector) that glibc's and musl's `_start` expect.
//!
//! # Guest memory layout
//!
//! ```text
//! 0xffff_ffff ┌──────────────────────────────┐
//!             │ kernel space (kseg0..kseg3)  │ any access faults
//! 0x8000_0000 ├──────────────────────────────┤ layout::USER_END
//!             │ (unused, one page)           │
//! 0x7fff_f000 ├──────────────────────────────┤ layout::STACK_TOP
//!             │ strings, AT_RANDOM, auxv,    │ built here, see below
//!             │ envp, argv, argc  <- $sp     │
//!             │ stack, grows down            │
//!             ├ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─┤
//!             │ mmap regions, handed out     │
//!             │ downwards                    │
//! 0x7000_0000 ├──────────────────────────────┤ layout::MMAP_TOP = elf::LOAD_RANGE_END
//!             │ brk heap, grows up           │
//!             ├──────────────────────────────┤ Program::brk_start(): page-aligned end of the last segment
//!             │ PT_LOAD segments at their    │ text usually at 0x0040_0000 (layout::GUEST_TEXT_START)
//!             │ ELF addresses (.bss zeroed)  │
//! 0x0000_1000 ├──────────────────────────────┤ layout::NULL_GUARD_END = elf::LOAD_RANGE_START
//!             │ null guard                   │ any access faults
//! 0x0000_0000 └──────────────────────────────┘
//! ```
//!
//! # The initial stack block
//!
//! Laid out like Linux's `create_elf_tables`, from [`layout::STACK_TOP`] downwards:
//!
//! ```text
//! STACK_TOP - 4   4-byte zero end marker
//!                 argv[0] "\0" argv[1] "\0" ... env[0] "\0" ... execfn "\0"   (NUL-terminated strings)
//!                 platform string "mips\0"                                   (4-byte aligned)
//!                 16 AT_RANDOM bytes                                          (4-byte aligned)
//!                 zero padding so that $sp is 16-byte aligned
//!                 auxv: (type, value) word pairs, ending with AT_NULL, 0
//!                 envp[0..envc], NULL
//!                 argv[0..argc], NULL
//! $sp  ->         argc
//! ```
//!
//! Everything is fixed — the AT_RANDOM bytes included — so a run is a pure function of the ELF, the
//! arguments and the environment. That is what lets the prover reproduce it.

use crate::elf::Program;
use zkmips_abi::layout;

/// Auxiliary vector entry types (Linux `include/uapi/linux/auxvec.h`).
pub mod auxv {
    pub const AT_NULL: u32 = 0;
    pub const AT_PHDR: u32 = 3;
    pub const AT_PHENT: u32 = 4;
    pub const AT_PHNUM: u32 = 5;
    pub const AT_PAGESZ: u32 = 6;
    pub const AT_BASE: u32 = 7;
    pub const AT_FLAGS: u32 = 8;
    pub const AT_ENTRY: u32 = 9;
    pub const AT_UID: u32 = 11;
    pub const AT_EUID: u32 = 12;
    pub const AT_GID: u32 = 13;
    pub const AT_EGID: u32 = 14;
    pub const AT_PLATFORM: u32 = 15;
    pub const AT_BASE_PLATFORM: u32 = 24;
    pub const AT_HWCAP: u32 = 16;
    pub const AT_CLKTCK: u32 = 17;
    pub const AT_SECURE: u32 = 23;
    pub const AT_RANDOM: u32 = 25;
    pub const AT_EXECFN: u32 = 31;
}

/// The 16 bytes `AT_RANDOM` points to. glibc takes its stack-protector canary and pointer-guard value from
/// them; they are fixed because a proven run must be reproducible.
pub const AT_RANDOM_BYTES: [u8; 16] = *b"zkmips-at-random";
/// The `AT_BASE_PLATFORM` string. Linux (and qemu-user) on a generic MIPS32r2 CPU reports the ISA level
/// here and sends no `AT_PLATFORM` (that one names special cores such as "octeon").
pub const PLATFORM: &str = "mips32r2";
/// `AT_CLKTCK`: the `times()` tick rate Linux reports.
pub const CLOCK_TICKS_PER_SECOND: u32 = 100;
/// User and group id reported in `AT_UID`/`AT_EUID`/`AT_GID`/`AT_EGID`. Equal real and effective ids plus
/// `AT_SECURE = 0` keep glibc out of its setuid-hardened mode.
pub const GUEST_ID: u32 = 0;
/// Largest stack block accepted, like Linux's `ARG_MAX` (a quarter of the default 8 MiB stack rlimit).
pub const MAX_INITIAL_STACK: u32 = 2 << 20;

/// The initial stack block: copy `bytes` to guest address `base` and start with `$sp = sp`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitialStack {
    /// Initial `$sp`, 16-byte aligned; `argc` is stored here.
    pub sp: u32,
    /// Guest address of `bytes[0]`; equal to `sp`.
    pub base: u32,
    /// The block, ending at [`layout::STACK_TOP`].
    pub bytes: Vec<u8>,
}

/// Why the arguments or environment cannot be put on the guest stack.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum StackError {
    #[error("{kind} {index} contains a NUL byte, which a C string cannot hold")]
    NulInString { kind: &'static str, index: usize },

    #[error(
        "arguments and environment need a {size}-byte initial stack, more than the {MAX_INITIAL_STACK}-byte limit"
    )]
    TooLarge { size: u64 },
}

/// Builds the initial stack block for `program`. `args[0]` is the program name (`argv[0]`, also used for
/// `AT_EXECFN`); `env` holds `NAME=value` strings.
///
/// # Panics
///
/// If a string contains a NUL byte or everything together exceeds [`MAX_INITIAL_STACK`]. Callers handing
/// on user input should use [`try_build_initial_stack`].
pub fn build_initial_stack(program: &Program, args: &[String], env: &[String]) -> InitialStack {
    match try_build_initial_stack(program, args, env) {
        Ok(stack) => stack,
        Err(error) => panic!("cannot build the initial stack: {error}"),
    }
}

/// Like [`build_initial_stack`], reporting unusable arguments as an error.
pub fn try_build_initial_stack(
    program: &Program,
    args: &[String],
    env: &[String],
) -> Result<InitialStack, StackError> {
    check_no_nul("argument", args)?;
    check_no_nul("environment variable", env)?;

    let exec_name = args.first().map(String::as_str).unwrap_or("");
    let strings_len: u64 = args
        .iter()
        .chain(env)
        .map(|s| s.len() as u64 + 1)
        .sum::<u64>()
        + exec_name.len() as u64
        + 1;
    let auxv_words = 2 * auxv_entry_count(program) as u64;
    let table_words = 1 + (args.len() as u64 + 1) + (env.len() as u64 + 1) + auxv_words;
    // End marker + strings + platform + random, each rounded to 4 bytes, the table, and up to 15 padding
    // bytes: an upper bound checked before any address is computed in u32.
    let bound = 4 + strings_len.next_multiple_of(4) + 8 + 16 + 4 * table_words + 15;
    if bound > u64::from(MAX_INITIAL_STACK) {
        return Err(StackError::TooLarge { size: bound });
    }

    let top = layout::STACK_TOP;
    // Unaligned, as Linux lays them out: glibc's string routines take alignment-dependent paths, so this
    // keeps start-up instruction-for-instruction identical to qemu-user (the lockstep test relies on it).
    let strings_start = top - 4 - strings_len as u32;
    let platform_addr = (strings_start - (PLATFORM.len() as u32 + 1)) & !3;
    let random_addr = platform_addr - AT_RANDOM_BYTES.len() as u32;
    let sp = (random_addr - 4 * table_words as u32) & !15;

    let mut image = Image {
        base: sp,
        bytes: vec![0; (top - sp) as usize],
    };

    // Strings, ascending: argv, then env, then the exec name.
    let mut cursor = strings_start;
    let mut string_addrs = Vec::with_capacity(args.len() + env.len());
    for s in args.iter().chain(env) {
        string_addrs.push(cursor);
        cursor = image.put_c_string(cursor, s);
    }
    let execfn_addr = cursor;
    image.put_c_string(cursor, exec_name);
    let (arg_addrs, env_addrs) = string_addrs.split_at(args.len());

    image.put_c_string(platform_addr, PLATFORM);
    image.put_bytes(random_addr, &AT_RANDOM_BYTES);

    let mut words = Vec::with_capacity(table_words as usize);
    words.push(args.len() as u32);
    words.extend_from_slice(arg_addrs);
    words.push(0);
    words.extend_from_slice(env_addrs);
    words.push(0);
    for (kind, value) in auxv_entries(program, random_addr, platform_addr, execfn_addr) {
        words.extend([kind, value]);
    }
    debug_assert_eq!(words.len() as u64, table_words);
    for (i, word) in words.iter().enumerate() {
        image.put_bytes(sp + 4 * i as u32, &word.to_le_bytes());
    }

    Ok(InitialStack {
        sp,
        base: sp,
        bytes: image.bytes,
    })
}

fn check_no_nul(kind: &'static str, strings: &[String]) -> Result<(), StackError> {
    match strings.iter().position(|s| s.as_bytes().contains(&0)) {
        Some(index) => Err(StackError::NulInString { kind, index }),
        None => Ok(()),
    }
}

fn auxv_entry_count(program: &Program) -> usize {
    auxv_entries(program, 0, 0, 0).len()
}

/// The auxiliary vector, AT_NULL included, in the order Linux writes it.
fn auxv_entries(program: &Program, random: u32, platform: u32, execfn: u32) -> Vec<(u32, u32)> {
    use auxv::*;
    let mut entries = vec![
        (AT_HWCAP, 0),
        (AT_PAGESZ, layout::PAGE_SIZE),
        (AT_CLKTCK, CLOCK_TICKS_PER_SECOND),
    ];
    // Without AT_PHDR, static glibc finds its program headers through `__ehdr_start` instead.
    if let Some(phdr) = program.phdr_vaddr {
        entries.push((AT_PHDR, phdr));
    }
    entries.extend([
        (AT_PHENT, u32::from(program.phent)),
        (AT_PHNUM, u32::from(program.phnum)),
        // No interpreter: the program is loaded at its link addresses.
        (AT_BASE, 0),
        (AT_FLAGS, 0),
        (AT_ENTRY, program.entry),
        (AT_UID, GUEST_ID),
        (AT_EUID, GUEST_ID),
        (AT_GID, GUEST_ID),
        (AT_EGID, GUEST_ID),
        (AT_SECURE, 0),
        (AT_RANDOM, random),
        (AT_EXECFN, execfn),
        (AT_BASE_PLATFORM, platform),
        (AT_NULL, 0),
    ]);
    entries
}

/// The block under construction, addressed by guest address.
struct Image {
    base: u32,
    bytes: Vec<u8>,
}

impl Image {
    fn put_bytes(&mut self, addr: u32, data: &[u8]) {
        let start = (addr - self.base) as usize;
        self.bytes[start..start + data.len()].copy_from_slice(data);
    }

    /// Writes `s` and its terminating NUL (already zero) at `addr`; returns the address after the NUL.
    fn put_c_string(&mut self, addr: u32, s: &str) -> u32 {
        self.put_bytes(addr, s.as_bytes());
        addr + s.len() as u32 + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elf::Segment;

    fn program() -> Program {
        Program {
            entry: 0x0040_0100,
            segments: vec![Segment {
                vaddr: 0x0040_0000,
                mem_size: 0x1000,
                data: vec![0; 0x200],
                readable: true,
                writable: false,
                executable: true,
            }],
            phdr_vaddr: Some(0x0040_0034),
            phent: 32,
            phnum: 3,
        }
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn stack_ends_at_stack_top_and_sp_is_aligned() {
        for argc in 0..6 {
            let args: Vec<String> = (0..argc).map(|i| "x".repeat(i)).collect();
            let stack = build_initial_stack(&program(), &args, &strings(&["A=1"]));
            assert_eq!(stack.sp % 16, 0);
            assert_eq!(stack.base, stack.sp);
            assert_eq!(
                u64::from(stack.base) + stack.bytes.len() as u64,
                u64::from(layout::STACK_TOP)
            );
            assert_eq!(&stack.bytes[..4], &(argc as u32).to_le_bytes());
        }
    }

    #[test]
    fn nul_bytes_and_oversized_input_are_errors() {
        let err =
            try_build_initial_stack(&program(), &strings(&["prog", "a\0b"]), &[]).unwrap_err();
        assert_eq!(
            err,
            StackError::NulInString {
                kind: "argument",
                index: 1
            }
        );
        let err = try_build_initial_stack(&program(), &strings(&["prog"]), &strings(&["X=\0"]))
            .unwrap_err();
        assert_eq!(
            err,
            StackError::NulInString {
                kind: "environment variable",
                index: 0
            }
        );
        let huge = vec!["y".repeat(MAX_INITIAL_STACK as usize)];
        assert!(matches!(
            try_build_initial_stack(&program(), &huge, &[]),
            Err(StackError::TooLarge { .. })
        ));
        // Just under the limit still fits.
        let big = vec![
            "p".to_string(),
            "y".repeat(MAX_INITIAL_STACK as usize - 4096),
        ];
        let stack = try_build_initial_stack(&program(), &big, &[]).unwrap();
        assert!(stack.bytes.len() <= MAX_INITIAL_STACK as usize);
    }

    #[test]
    fn no_phdr_means_no_at_phdr() {
        let mut program = program();
        program.phdr_vaddr = None;
        let types: Vec<u32> = auxv_entries(&program, 1, 2, 3)
            .iter()
            .map(|e| e.0)
            .collect();
        assert!(!types.contains(&auxv::AT_PHDR));
        assert_eq!(types.last(), Some(&auxv::AT_NULL));
    }
}
