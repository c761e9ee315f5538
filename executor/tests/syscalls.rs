//! The syscall layer against a mock machine: a register file and a sparse byte memory with the same fault
//! rules as the real one (null guard, kernel space, a read-only code range, aligned words).

use std::collections::HashMap;

use sha2::{Digest, Sha256};
use zkmips_abi::{NO_MORE_ITEMS, layout, syscall as zk};
use zkmips_executor::ExecError;
use zkmips_executor::context::GuestContext;
use zkmips_executor::syscalls::{
    SyscallConfig, SyscallOutcome, SyscallState, dispatch, sha256_compress_schedule,
    sha256_extend_schedule,
};

const PC: u32 = 0x0040_1234;
const SYSCALL_WORD: u32 = 0x0000_000c;
const CODE: std::ops::Range<u32> = 0x0040_0000..0x0041_0000;
const SP: u32 = 0x7fff_0000;
const BUF: u32 = 0x1000_0000;
const BRK_START: u32 = 0x0050_0000;

struct Mock {
    regs: [u32; 32],
    mem: HashMap<u32, u8>,
}

impl Mock {
    fn new() -> Self {
        let mut regs = [0; 32];
        regs[29] = SP;
        Mock {
            regs,
            mem: HashMap::new(),
        }
    }

    fn check(&self, addr: u32, len: u32) -> Result<(), ExecError> {
        let end = addr.checked_add(len);
        if addr < layout::NULL_GUARD_END || end.is_none_or(|end| end > layout::USER_END) {
            return Err(ExecError::InvalidAddress {
                pc: PC,
                word: SYSCALL_WORD,
                addr,
            });
        }
        Ok(())
    }

    fn check_write(&self, addr: u32, len: u32) -> Result<(), ExecError> {
        self.check(addr, len)?;
        if addr < CODE.end && addr + len > CODE.start {
            return Err(ExecError::WriteToCode {
                pc: PC,
                word: SYSCALL_WORD,
                addr,
            });
        }
        Ok(())
    }

    fn poke(&mut self, addr: u32, bytes: &[u8]) {
        for (i, b) in bytes.iter().enumerate() {
            self.mem.insert(addr + i as u32, *b);
        }
    }

    fn peek(&self, addr: u32, len: u32) -> Vec<u8> {
        (0..len)
            .map(|i| self.mem.get(&(addr + i)).copied().unwrap_or(0))
            .collect()
    }

    fn peek_word(&self, addr: u32) -> u32 {
        u32::from_le_bytes(self.peek(addr, 4).try_into().unwrap())
    }
}

impl GuestContext for Mock {
    fn pc(&self) -> u32 {
        PC
    }
    fn reg(&self, index: usize) -> u32 {
        if index == 0 { 0 } else { self.regs[index] }
    }
    fn set_reg(&mut self, index: usize, value: u32) {
        if index != 0 {
            self.regs[index] = value;
        }
    }
    fn read_word(&mut self, addr: u32) -> Result<u32, ExecError> {
        if !addr.is_multiple_of(4) {
            return Err(ExecError::MisalignedAccess {
                pc: PC,
                word: SYSCALL_WORD,
                addr,
                size: 4,
            });
        }
        self.check(addr, 4)?;
        Ok(self.peek_word(addr))
    }
    fn write_word(&mut self, addr: u32, value: u32) -> Result<(), ExecError> {
        if !addr.is_multiple_of(4) {
            return Err(ExecError::MisalignedAccess {
                pc: PC,
                word: SYSCALL_WORD,
                addr,
                size: 4,
            });
        }
        self.check_write(addr, 4)?;
        self.poke(addr, &value.to_le_bytes());
        Ok(())
    }
    fn read_bytes(&mut self, addr: u32, len: u32) -> Result<Vec<u8>, ExecError> {
        self.check(addr, len)?;
        Ok(self.peek(addr, len))
    }
    fn write_bytes(&mut self, addr: u32, bytes: &[u8]) -> Result<(), ExecError> {
        self.check_write(addr, bytes.len() as u32)?;
        self.poke(addr, bytes);
        Ok(())
    }
}

fn state_with(config: SyscallConfig) -> SyscallState {
    SyscallState::new(&config, BRK_START)
}

fn state() -> SyscallState {
    state_with(SyscallConfig::default())
}

/// Issues syscall `number` with `args`: four in `$a0..$a3`, the rest on the stack at `sp + 16`.
fn call(
    m: &mut Mock,
    st: &mut SyscallState,
    number: u32,
    args: &[u32],
) -> Result<SyscallOutcome, ExecError> {
    m.regs[2] = number;
    for (i, arg) in args.iter().take(4).enumerate() {
        m.regs[4 + i] = *arg;
    }
    for (i, arg) in args.iter().skip(4).enumerate() {
        m.poke(SP + 16 + 4 * i as u32, &arg.to_le_bytes());
    }
    dispatch(m, st)
}

/// A zkVM service that must succeed and continue; returns `$v0`.
fn zkvm(m: &mut Mock, st: &mut SyscallState, number: u32, args: &[u32]) -> u32 {
    assert_eq!(call(m, st, number, args).unwrap(), SyscallOutcome::Continue);
    m.regs[2]
}

/// A Linux syscall that must continue: `Ok($v0)` when `$a3` = 0, `Err(errno)` when `$a3` = 1.
fn linux(m: &mut Mock, st: &mut SyscallState, number: u32, args: &[u32]) -> Result<u32, u32> {
    m.regs[7] = 0xdead_beef; // must be overwritten with the flag
    assert_eq!(call(m, st, number, args).unwrap(), SyscallOutcome::Continue);
    match m.regs[7] {
        0 => Ok(m.regs[2]),
        1 => Err(m.regs[2]),
        flag => panic!("$a3 = {flag:#x} is not an error flag"),
    }
}

fn bad_reason(result: Result<SyscallOutcome, ExecError>, number: u32) -> String {
    match result {
        Err(ExecError::BadSyscall {
            pc,
            number: n,
            reason,
        }) => {
            assert_eq!((pc, n), (PC, number));
            reason
        }
        other => panic!("expected BadSyscall, got {other:?}"),
    }
}

mod nr {
    pub const EXIT: u32 = 4001;
    pub const READ: u32 = 4003;
    pub const WRITE: u32 = 4004;
    pub const OPEN: u32 = 4005;
    pub const CLOSE: u32 = 4006;
    pub const TIME: u32 = 4013;
    pub const LSEEK: u32 = 4019;
    pub const GETPID: u32 = 4020;
    pub const KILL: u32 = 4037;
    pub const BRK: u32 = 4045;
    pub const IOCTL: u32 = 4054;
    pub const FCNTL64: u32 = 4220;
    pub const GETRLIMIT: u32 = 4076;
    pub const GETTIMEOFDAY: u32 = 4078;
    pub const READLINK: u32 = 4085;
    pub const MMAP: u32 = 4090;
    pub const MUNMAP: u32 = 4091;
    pub const SYSINFO: u32 = 4116;
    pub const UNAME: u32 = 4122;
    pub const MPROTECT: u32 = 4125;
    pub const LLSEEK: u32 = 4140;
    pub const READV: u32 = 4145;
    pub const WRITEV: u32 = 4146;
    pub const NANOSLEEP: u32 = 4166;
    pub const MREMAP: u32 = 4167;
    pub const RT_SIGACTION: u32 = 4194;
    pub const RT_SIGPROCMASK: u32 = 4195;
    pub const SIGALTSTACK: u32 = 4206;
    pub const MMAP2: u32 = 4210;
    pub const FSTAT64: u32 = 4215;
    pub const MADVISE: u32 = 4218;
    pub const GETTID: u32 = 4222;
    pub const FUTEX: u32 = 4238;
    pub const SCHED_GETAFFINITY: u32 = 4240;
    pub const EXIT_GROUP: u32 = 4246;
    pub const SET_TID_ADDRESS: u32 = 4252;
    pub const CLOCK_GETTIME: u32 = 4263;
    pub const TGKILL: u32 = 4266;
    pub const SET_THREAD_AREA: u32 = 4283;
    pub const OPENAT: u32 = 4288;
    pub const SET_ROBUST_LIST: u32 = 4309;
    pub const PRLIMIT64: u32 = 4338;
    pub const GETRANDOM: u32 = 4353;
    pub const STATX: u32 = 4366;
    pub const RSEQ: u32 = 4367;
    pub const CLOCK_GETTIME64: u32 = 4403;
}

// MIPS errno values.
const ENOENT: u32 = 2;
const ESRCH: u32 = 3;
const EBADF: u32 = 9;
const EAGAIN: u32 = 11;
const ENOMEM: u32 = 12;
const EFAULT: u32 = 14;
const ENODEV: u32 = 19;
const EINVAL: u32 = 22;
const ENOTTY: u32 = 25;
const ESPIPE: u32 = 29;
const ENOSYS: u32 = 89;
const ETIMEDOUT: u32 = 145;

const MAP_PRIVATE: u32 = 0x002;
const MAP_FIXED: u32 = 0x010;
const MAP_ANONYMOUS: u32 = 0x800;
const PROT_RW: u32 = 3;

// ------------------------------------------------------------------------------------------------------
// zkVM services
// ------------------------------------------------------------------------------------------------------

#[test]
fn halt_exits_with_the_full_code() {
    let (mut m, mut st) = (Mock::new(), state());
    assert_eq!(
        call(&mut m, &mut st, zk::HALT, &[0x1234_5678]).unwrap(),
        SyscallOutcome::Exit(0x1234_5678)
    );
    assert_eq!(st.exit_code(), Some(0x1234_5678));
}

#[test]
fn zkvm_write_captures_stdout_and_stderr() {
    let (mut m, mut st) = (Mock::new(), state());
    m.poke(BUF, b"hello, world");
    assert_eq!(zkvm(&mut m, &mut st, zk::WRITE, &[1, BUF, 5]), 5);
    assert_eq!(zkvm(&mut m, &mut st, zk::WRITE, &[2, BUF + 7, 5]), 5);
    assert_eq!(zkvm(&mut m, &mut st, zk::WRITE, &[1, BUF + 5, 0]), 0);
    assert_eq!(st.stdout(), b"hello");
    assert_eq!(st.stderr(), b"world");
    let reason = bad_reason(call(&mut m, &mut st, zk::WRITE, &[3, BUF, 1]), zk::WRITE);
    assert!(reason.contains("fd 3"), "{reason}");
    // A bad buffer is a hard error naming the address.
    assert!(matches!(
        call(&mut m, &mut st, zk::WRITE, &[1, 0x10, 4]),
        Err(ExecError::InvalidAddress { addr: 0x10, .. })
    ));
}

#[test]
fn commit_appends_to_public_values_and_hint_write_to_hint_output() {
    let (mut m, mut st) = (Mock::new(), state());
    m.poke(BUF, b"abcdef");
    zkvm(&mut m, &mut st, zk::COMMIT, &[BUF, 3]);
    zkvm(&mut m, &mut st, zk::COMMIT, &[BUF + 3, 3]);
    zkvm(&mut m, &mut st, zk::COMMIT, &[0, 0]); // empty: touches no memory
    zkvm(&mut m, &mut st, zk::HINT_WRITE, &[BUF + 1, 2]);
    assert_eq!(st.public_values(), b"abcdef");
    assert_eq!(st.hint_output(), b"bc");
    assert!(st.stdout().is_empty());
    let reason = bad_reason(
        call(&mut m, &mut st, zk::COMMIT, &[0xffff_fff0, 0x20]),
        zk::COMMIT,
    );
    assert!(reason.contains("wraps"), "{reason}");
}

#[test]
fn input_stream_reads_items_in_order_then_reports_exhaustion() {
    let config = SyscallConfig {
        inputs: vec![b"first".to_vec(), Vec::new(), vec![7; 100_000]],
        ..Default::default()
    };
    let (mut m, mut st) = (Mock::new(), state_with(config));
    assert_eq!(zkvm(&mut m, &mut st, zk::INPUT_LEN, &[]), 5);
    assert_eq!(
        zkvm(&mut m, &mut st, zk::INPUT_LEN, &[]),
        5,
        "INPUT_LEN does not consume"
    );
    zkvm(&mut m, &mut st, zk::INPUT_READ, &[BUF, 5]);
    assert_eq!(m.peek(BUF, 5), b"first");
    assert_eq!(zkvm(&mut m, &mut st, zk::INPUT_LEN, &[]), 0);
    zkvm(&mut m, &mut st, zk::INPUT_READ, &[BUF, 0]);
    assert_eq!(zkvm(&mut m, &mut st, zk::INPUT_LEN, &[]), 100_000);
    let reason = bad_reason(
        call(&mut m, &mut st, zk::INPUT_READ, &[BUF, 99_999]),
        zk::INPUT_READ,
    );
    assert!(
        reason.contains("99999") && reason.contains("100000") && reason.contains("input"),
        "{reason}"
    );
    assert_eq!(st.inputs_remaining(), 1, "a rejected read consumes nothing");
    zkvm(&mut m, &mut st, zk::INPUT_READ, &[BUF, 100_000]);
    assert_eq!(
        m.peek(BUF + 65_530, 10),
        vec![7; 10],
        "items larger than one chunk arrive whole"
    );
    assert_eq!(m.peek(BUF + 100_000, 1), vec![0]);
    assert_eq!(zkvm(&mut m, &mut st, zk::INPUT_LEN, &[]), NO_MORE_ITEMS);
    let reason = bad_reason(
        call(&mut m, &mut st, zk::INPUT_READ, &[BUF, 0]),
        zk::INPUT_READ,
    );
    assert!(reason.contains("exhausted"), "{reason}");
}

#[test]
fn hint_stream_is_separate_from_the_input_stream() {
    let config = SyscallConfig {
        inputs: vec![b"in".to_vec()],
        hints: vec![b"hint".to_vec()],
        ..Default::default()
    };
    let (mut m, mut st) = (Mock::new(), state_with(config));
    assert_eq!(zkvm(&mut m, &mut st, zk::HINT_LEN, &[]), 4);
    let reason = bad_reason(
        call(&mut m, &mut st, zk::HINT_READ, &[BUF, 2]),
        zk::HINT_READ,
    );
    assert!(
        reason.contains("HINT_READ") && reason.contains("hint"),
        "{reason}"
    );
    zkvm(&mut m, &mut st, zk::HINT_READ, &[BUF, 4]);
    assert_eq!(m.peek(BUF, 4), b"hint");
    assert_eq!(zkvm(&mut m, &mut st, zk::HINT_LEN, &[]), NO_MORE_ITEMS);
    assert_eq!(zkvm(&mut m, &mut st, zk::INPUT_LEN, &[]), 2);
    let reason = bad_reason(
        call(&mut m, &mut st, zk::HINT_READ, &[BUF, 0]),
        zk::HINT_READ,
    );
    assert!(reason.contains("hint stream is exhausted"), "{reason}");
}

/// Hashes `message` with the SHA-256 services in mock memory, the way a guest would: pad, then per block
/// write w[0..16], EXTEND, COMPRESS.
fn sha256_via_services(message: &[u8]) -> [u8; 32] {
    let (mut m, mut st) = (Mock::new(), state());
    let (w_addr, h_addr) = (BUF, BUF + 0x400);
    let iv = [
        0x6a09e667u32,
        0xbb67ae85,
        0x3c6ef372,
        0xa54ff53a,
        0x510e527f,
        0x9b05688c,
        0x1f83d9ab,
        0x5be0cd19,
    ];
    for (i, h) in iv.iter().enumerate() {
        m.poke(h_addr + 4 * i as u32, &h.to_le_bytes());
    }
    let mut padded = message.to_vec();
    padded.push(0x80);
    while padded.len() % 64 != 56 {
        padded.push(0);
    }
    padded.extend_from_slice(&(message.len() as u64 * 8).to_be_bytes());
    for block in padded.chunks(64) {
        for (i, word) in block.chunks(4).enumerate() {
            let value = u32::from_be_bytes(word.try_into().unwrap());
            m.poke(w_addr + 4 * i as u32, &value.to_le_bytes());
        }
        zkvm(&mut m, &mut st, zk::SHA256_EXTEND, &[w_addr]);
        zkvm(&mut m, &mut st, zk::SHA256_COMPRESS, &[w_addr, h_addr]);
    }
    let mut digest = [0u8; 32];
    for i in 0..8 {
        digest[4 * i..4 * i + 4].copy_from_slice(&m.peek_word(h_addr + 4 * i as u32).to_be_bytes());
    }
    digest
}

#[test]
fn sha256_services_match_the_sha2_crate() {
    let long: Vec<u8> = (0..1000u32).map(|i| (i * 31 + 7) as u8).collect();
    for message in [&b""[..], b"abc", &[0x55; 55], &[0xaa; 56], &[1; 64], &long] {
        assert_eq!(
            sha256_via_services(message),
            <[u8; 32]>::from(Sha256::digest(message)),
            "len {}",
            message.len()
        );
    }
    // The FIPS 180-4 "abc" vector, independently of the crate.
    assert_eq!(
        sha256_via_services(b"abc")[..4],
        [0xba, 0x78, 0x16, 0xbf],
        "SHA-256(abc) = ba7816bf..."
    );
}

#[test]
fn sha256_compress_uses_the_schedule_as_given() {
    let mut w = [0u32; 64];
    for (i, word) in w.iter_mut().take(16).enumerate() {
        *word = (i as u32).wrapping_mul(0x0101_0101) ^ 0xdead_beef;
    }
    sha256_extend_schedule(&mut w);
    let initial = [1, 2, 3, 4, 5, 6, 7, 8];
    let mut honest = initial;
    sha256_compress_schedule(&w, &mut honest);

    let (mut m, mut st) = (Mock::new(), state());
    for (i, word) in w.iter().enumerate() {
        m.poke(BUF + 4 * i as u32, &word.to_le_bytes());
    }
    m.poke(BUF + 4 * 40, &(w[40] ^ 1).to_le_bytes()); // tamper with the derived part
    for (i, h) in initial.iter().enumerate() {
        m.poke(BUF + 0x400 + 4 * i as u32, &h.to_le_bytes());
    }
    zkvm(&mut m, &mut st, zk::SHA256_COMPRESS, &[BUF, BUF + 0x400]);
    let served: Vec<u32> = (0..8).map(|i| m.peek_word(BUF + 0x400 + 4 * i)).collect();
    assert_ne!(
        served,
        honest.to_vec(),
        "w[40] must be read from memory, not re-derived"
    );
    let mut tampered = w;
    tampered[40] ^= 1;
    let mut expected = initial;
    sha256_compress_schedule(&tampered, &mut expected);
    assert_eq!(served, expected.to_vec());
}

#[test]
fn keccak_permute_matches_tiny_keccak() {
    let (mut m, mut st) = (Mock::new(), state());
    let mut lanes = [0u64; 25];
    for (i, lane) in lanes.iter_mut().enumerate() {
        *lane = (i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        m.poke(BUF + 4 + 8 * i as u32, &lane.to_le_bytes()); // 4-aligned, not 8-aligned
    }
    zkvm(&mut m, &mut st, zk::KECCAK_PERMUTE, &[BUF + 4]);
    tiny_keccak::keccakf(&mut lanes);
    for (i, lane) in lanes.iter().enumerate() {
        assert_eq!(
            m.peek(BUF + 4 + 8 * i as u32, 8),
            lane.to_le_bytes(),
            "lane {i}"
        );
    }
}

#[test]
fn keccak256_sponge_over_the_service_matches_tiny_keccak() {
    use tiny_keccak::Hasher;
    let message: Vec<u8> = (0..300u32).map(|i| (i ^ 0x5a) as u8).collect();
    let (mut m, mut st) = (Mock::new(), state());
    let rate = 136;
    let mut padded = message.clone();
    padded.push(0x01);
    while !padded.len().is_multiple_of(rate) {
        padded.push(0);
    }
    *padded.last_mut().unwrap() |= 0x80;
    for block in padded.chunks(rate) {
        let mut bytes = m.peek(BUF, 200);
        for (b, x) in bytes.iter_mut().zip(block) {
            *b ^= x;
        }
        m.poke(BUF, &bytes);
        zkvm(&mut m, &mut st, zk::KECCAK_PERMUTE, &[BUF]);
    }
    let mut expected = [0u8; 32];
    let mut hasher = tiny_keccak::Keccak::v256();
    hasher.update(&message);
    hasher.finalize(&mut expected);
    assert_eq!(m.peek(BUF, 32), expected);
}

#[test]
fn precompiles_reject_misaligned_and_wrapping_pointers() {
    let (mut m, mut st) = (Mock::new(), state());
    for (number, args, needle) in [
        (
            zk::SHA256_EXTEND,
            vec![BUF + 2],
            "SHA256_EXTEND schedule pointer ($a0) 0x10000002 is not 4-byte aligned",
        ),
        (
            zk::SHA256_COMPRESS,
            vec![BUF, BUF + 1],
            "state pointer ($a1) 0x10000001",
        ),
        (
            zk::KECCAK_PERMUTE,
            vec![BUF + 6],
            "KECCAK_PERMUTE state pointer ($a0) 0x10000006",
        ),
        (zk::KECCAK_PERMUTE, vec![0xffff_ff80], "wraps"),
    ] {
        let reason = bad_reason(call(&mut m, &mut st, number, &args), number);
        assert!(reason.contains(needle), "{reason}");
    }
    // Out-of-range but aligned: the memory fault itself, naming the address.
    assert!(matches!(
        call(&mut m, &mut st, zk::SHA256_EXTEND, &[0x8000_0000]),
        Err(ExecError::InvalidAddress {
            addr: 0x8000_0000,
            ..
        })
    ));
}

#[test]
fn unknown_syscalls_are_errors_naming_pc_and_number() {
    for number in [
        0,
        1,
        3999,
        4000,
        4002,
        4999,
        0x0001_0008,
        0x0001_00ff,
        0x0001_0103,
        0x0002_0000,
        u32::MAX,
    ] {
        let (mut m, mut st) = (Mock::new(), state());
        assert_eq!(
            call(&mut m, &mut st, number, &[]),
            Err(ExecError::UnknownSyscall { pc: PC, number })
        );
    }
}

// ------------------------------------------------------------------------------------------------------
// Linux o32
// ------------------------------------------------------------------------------------------------------

#[test]
fn exit_and_exit_group_keep_the_low_byte() {
    for number in [nr::EXIT, nr::EXIT_GROUP] {
        let (mut m, mut st) = (Mock::new(), state());
        assert_eq!(
            call(&mut m, &mut st, number, &[0x1ff]).unwrap(),
            SyscallOutcome::Exit(0xff)
        );
        assert_eq!(st.exit_code(), Some(0xff));
    }
}

#[test]
fn write_and_writev_reach_stdout_and_stderr() {
    let (mut m, mut st) = (Mock::new(), state());
    m.poke(BUF, b"0123456789");
    assert_eq!(linux(&mut m, &mut st, nr::WRITE, &[1, BUF, 4]), Ok(4));
    assert_eq!(linux(&mut m, &mut st, nr::WRITE, &[2, BUF + 4, 2]), Ok(2));
    assert_eq!(linux(&mut m, &mut st, nr::WRITE, &[1, 0, 0]), Ok(0));
    // iovec array: {BUF+8, 2}, {BUF, 1}, {0, 0}
    let iov: Vec<u8> = [BUF + 8, 2, BUF, 1, 0, 0]
        .iter()
        .flat_map(|w: &u32| w.to_le_bytes())
        .collect();
    m.poke(BUF + 0x100, &iov);
    assert_eq!(
        linux(&mut m, &mut st, nr::WRITEV, &[1, BUF + 0x100, 3]),
        Ok(3)
    );
    assert_eq!(st.stdout(), b"0123890");
    assert_eq!(st.stderr(), b"45");
    assert_eq!(linux(&mut m, &mut st, nr::WRITE, &[0, BUF, 1]), Err(EBADF));
    assert_eq!(linux(&mut m, &mut st, nr::WRITE, &[5, BUF, 1]), Err(EBADF));
    assert_eq!(
        linux(&mut m, &mut st, nr::WRITE, &[1, 0x20, 1]),
        Err(EFAULT)
    );
    assert_eq!(
        linux(&mut m, &mut st, nr::WRITEV, &[1, BUF + 0x100, 1025]),
        Err(EINVAL)
    );
    assert_eq!(
        linux(&mut m, &mut st, nr::WRITEV, &[1, 0x20, 1]),
        Err(EFAULT)
    );
    assert_eq!(st.stdout(), b"0123890", "failed writes write nothing");
}

#[test]
fn read_serves_stdin_until_exhausted() {
    let config = SyscallConfig {
        stdin: b"line one\nline two\n".to_vec(),
        ..Default::default()
    };
    let (mut m, mut st) = (Mock::new(), state_with(config));
    assert_eq!(linux(&mut m, &mut st, nr::READ, &[0, 0x20, 4]), Err(EFAULT));
    assert_eq!(
        linux(&mut m, &mut st, nr::READ, &[0, BUF, 5]),
        Ok(5),
        "a fault consumes nothing"
    );
    assert_eq!(m.peek(BUF, 5), b"line ");
    let iov: Vec<u8> = [BUF + 0x10, 3, BUF + 0x20, 100]
        .iter()
        .flat_map(|w: &u32| w.to_le_bytes())
        .collect();
    m.poke(BUF + 0x100, &iov);
    assert_eq!(
        linux(&mut m, &mut st, nr::READV, &[0, BUF + 0x100, 2]),
        Ok(13)
    );
    assert_eq!(m.peek(BUF + 0x10, 3), b"one");
    assert_eq!(m.peek(BUF + 0x20, 10), b"\nline two\n");
    assert_eq!(
        linux(&mut m, &mut st, nr::READ, &[0, BUF, 4096]),
        Ok(0),
        "EOF"
    );
    assert_eq!(linux(&mut m, &mut st, nr::READ, &[1, BUF, 1]), Err(EBADF));
    assert_eq!(linux(&mut m, &mut st, nr::READ, &[3, BUF, 1]), Err(EBADF));
}

#[test]
fn brk_grows_shrinks_and_hands_back_zeroed_pages() {
    let (mut m, mut st) = (Mock::new(), state());
    assert_eq!(linux(&mut m, &mut st, nr::BRK, &[0]), Ok(BRK_START));
    assert_eq!(
        linux(&mut m, &mut st, nr::BRK, &[BRK_START + 0x2850]),
        Ok(BRK_START + 0x2850)
    );
    m.poke(BRK_START + 0x2000, &[0xaa; 0x850]);
    m.poke(BRK_START + 0x1000, &[0xbb; 0x10]);
    // Shrink into the second page: the third page is released, the second one kept.
    assert_eq!(
        linux(&mut m, &mut st, nr::BRK, &[BRK_START + 0x1008]),
        Ok(BRK_START + 0x1008)
    );
    assert_eq!(
        linux(&mut m, &mut st, nr::BRK, &[BRK_START + 0x3000]),
        Ok(BRK_START + 0x3000)
    );
    assert_eq!(
        m.peek(BRK_START + 0x2000, 0x850),
        vec![0; 0x850],
        "released page comes back zeroed"
    );
    assert_eq!(
        m.peek(BRK_START + 0x1000, 0x10),
        vec![0xbb; 0x10],
        "kept page keeps its data"
    );
    assert_eq!(st.brk(), BRK_START + 0x3000);
    // Below the start or into the mmap area: refused by returning the current break.
    assert_eq!(
        linux(&mut m, &mut st, nr::BRK, &[BRK_START - 1]),
        Ok(BRK_START + 0x3000)
    );
    assert_eq!(
        linux(&mut m, &mut st, nr::BRK, &[layout::MMAP_TOP + 1]),
        Ok(BRK_START + 0x3000)
    );
    assert_eq!(
        linux(&mut m, &mut st, nr::BRK, &[u32::MAX]),
        Ok(BRK_START + 0x3000)
    );
}

#[test]
fn brk_start_is_page_aligned() {
    let (mut m, mut st) = (
        Mock::new(),
        SyscallState::new(&SyscallConfig::default(), BRK_START + 0x123),
    );
    assert_eq!(
        linux(&mut m, &mut st, nr::BRK, &[0]),
        Ok(BRK_START + 0x1000)
    );
}

#[test]
fn mmap2_hands_out_anonymous_regions_downwards() {
    let (mut m, mut st) = (Mock::new(), state());
    let flags = MAP_PRIVATE | MAP_ANONYMOUS;
    let first = linux(
        &mut m,
        &mut st,
        nr::MMAP2,
        &[0, 401_408, PROT_RW, flags, u32::MAX, 0],
    )
    .unwrap();
    assert_eq!(first, layout::MMAP_TOP - 401_408);
    let second = linux(
        &mut m,
        &mut st,
        nr::MMAP2,
        &[0, 1, PROT_RW, flags, u32::MAX, 0],
    )
    .unwrap();
    assert_eq!(
        second,
        first - layout::PAGE_SIZE,
        "lengths round up to pages"
    );
    assert_eq!(st.mmap_low(), second);
    assert_eq!(linux(&mut m, &mut st, nr::MUNMAP, &[first, 401_408]), Ok(0));
    let third = linux(
        &mut m,
        &mut st,
        nr::MMAP2,
        &[0, 4096, PROT_RW, flags, u32::MAX, 0],
    )
    .unwrap();
    assert!(
        third < second,
        "addresses are never reused, so fresh regions are still zero"
    );
    // The heap may not grow into mapped space, nor mmap below the heap.
    assert_eq!(linux(&mut m, &mut st, nr::BRK, &[third + 1]), Ok(BRK_START));
    assert_eq!(
        linux(
            &mut m,
            &mut st,
            nr::MMAP2,
            &[0, third - BRK_START + 1, PROT_RW, flags, u32::MAX, 0]
        ),
        Err(ENOMEM)
    );
    assert_eq!(
        linux(
            &mut m,
            &mut st,
            nr::MMAP2,
            &[0, u32::MAX, PROT_RW, flags, u32::MAX, 0]
        ),
        Err(ENOMEM)
    );
    assert_eq!(
        linux(
            &mut m,
            &mut st,
            nr::MMAP2,
            &[0, 0, PROT_RW, flags, u32::MAX, 0]
        ),
        Err(EINVAL)
    );
    assert_eq!(
        linux(
            &mut m,
            &mut st,
            nr::MMAP2,
            &[0, 4096, PROT_RW, MAP_ANONYMOUS, u32::MAX, 0]
        ),
        Err(EINVAL)
    );
}

#[test]
fn mmap_reads_fd_and_offset_from_the_stack() {
    let (mut m, mut st) = (Mock::new(), state());
    let anon = MAP_PRIVATE | MAP_ANONYMOUS;
    // Old mmap: a byte offset in the sixth argument (sp + 20) must be page-aligned.
    assert_eq!(
        linux(
            &mut m,
            &mut st,
            nr::MMAP,
            &[0, 4096, PROT_RW, anon, u32::MAX, 123]
        ),
        Err(EINVAL)
    );
    assert_eq!(
        linux(
            &mut m,
            &mut st,
            nr::MMAP,
            &[0, 4096, PROT_RW, anon, u32::MAX, 4096]
        ),
        Ok(layout::MMAP_TOP - 4096)
    );
    // File mappings: fd (sp + 16) 7 is not open; fd 0 is a character device that cannot be mapped.
    assert_eq!(
        linux(&mut m, &mut st, nr::MMAP2, &[0, 4096, 1, MAP_PRIVATE, 7, 0]),
        Err(EBADF)
    );
    assert_eq!(
        linux(&mut m, &mut st, nr::MMAP2, &[0, 4096, 1, MAP_PRIVATE, 0, 0]),
        Err(ENODEV)
    );
    // A stack pointer that points nowhere makes the arguments unreadable.
    m.regs[29] = 0x0000_0100;
    m.regs[2] = nr::MMAP2;
    assert_eq!(
        call(&mut m, &mut st, nr::MMAP2, &[0, 4096, PROT_RW, anon]).unwrap(),
        SyscallOutcome::Continue
    );
    assert_eq!((m.regs[2], m.regs[7]), (EFAULT, 1));
}

#[test]
fn map_fixed_inside_mapped_space_zeroes_it() {
    let (mut m, mut st) = (Mock::new(), state());
    let anon = MAP_PRIVATE | MAP_ANONYMOUS;
    let region = linux(
        &mut m,
        &mut st,
        nr::MMAP2,
        &[0, 0x3000, PROT_RW, anon, u32::MAX, 0],
    )
    .unwrap();
    m.poke(region + 0x1000, &[9; 0x20]);
    assert_eq!(
        linux(
            &mut m,
            &mut st,
            nr::MMAP2,
            &[
                region + 0x1000,
                0x1000,
                PROT_RW,
                anon | MAP_FIXED,
                u32::MAX,
                0
            ]
        ),
        Ok(region + 0x1000)
    );
    assert_eq!(m.peek(region + 0x1000, 0x20), vec![0; 0x20]);
    assert_eq!(
        linux(
            &mut m,
            &mut st,
            nr::MMAP2,
            &[region + 1, 0x1000, PROT_RW, anon | MAP_FIXED, u32::MAX, 0]
        ),
        Err(EINVAL)
    );
    assert_eq!(
        linux(
            &mut m,
            &mut st,
            nr::MMAP2,
            &[0x0100_0000, 0x1000, PROT_RW, anon | MAP_FIXED, u32::MAX, 0]
        ),
        Err(ENOMEM)
    );
}

#[test]
fn munmap_mprotect_madvise_mremap() {
    let (mut m, mut st) = (Mock::new(), state());
    let anon = MAP_PRIVATE | MAP_ANONYMOUS;
    let region = linux(
        &mut m,
        &mut st,
        nr::MMAP2,
        &[0, 0x2000, PROT_RW, anon, u32::MAX, 0],
    )
    .unwrap();
    assert_eq!(
        linux(&mut m, &mut st, nr::MPROTECT, &[region, 0x1000, 1]),
        Ok(0)
    );
    assert_eq!(
        linux(&mut m, &mut st, nr::MPROTECT, &[region + 4, 0x1000, 1]),
        Err(EINVAL)
    );
    assert_eq!(
        linux(&mut m, &mut st, nr::MUNMAP, &[region + 4, 0x1000]),
        Err(EINVAL)
    );
    assert_eq!(
        linux(&mut m, &mut st, nr::MUNMAP, &[region, 0]),
        Err(EINVAL)
    );
    m.poke(region, &[5; 16]);
    m.poke(region + 0x1000, &[6; 16]);
    assert_eq!(
        linux(&mut m, &mut st, nr::MADVISE, &[region, 0x1000, 0]),
        Ok(0)
    ); // MADV_NORMAL
    assert_eq!(m.peek(region, 16), vec![5; 16]);
    assert_eq!(
        linux(&mut m, &mut st, nr::MADVISE, &[region, 0x1000, 4]),
        Ok(0)
    ); // MADV_DONTNEED
    assert_eq!(m.peek(region, 16), vec![0; 16]);
    assert_eq!(m.peek(region + 0x1000, 16), vec![6; 16]);
    assert_eq!(
        linux(&mut m, &mut st, nr::MADVISE, &[region + 1, 0x1000, 4]),
        Err(EINVAL)
    );
    assert_eq!(
        linux(&mut m, &mut st, nr::MREMAP, &[region, 0x2000, 0x4000, 1]),
        Err(ENOMEM)
    );
}

#[test]
fn set_thread_area_sets_the_thread_pointer() {
    let (mut m, mut st) = (Mock::new(), state());
    assert_eq!(st.thread_pointer(), 0);
    assert_eq!(
        linux(&mut m, &mut st, nr::SET_THREAD_AREA, &[0x004b_94e0]),
        Ok(0)
    );
    assert_eq!(st.thread_pointer(), 0x004b_94e0);
}

#[test]
fn process_identity_calls() {
    let (mut m, mut st) = (Mock::new(), state());
    assert_eq!(linux(&mut m, &mut st, nr::GETPID, &[]), Ok(1));
    assert_eq!(linux(&mut m, &mut st, nr::GETTID, &[]), Ok(1));
    assert_eq!(linux(&mut m, &mut st, nr::SET_TID_ADDRESS, &[BUF]), Ok(1));
    assert_eq!(
        linux(&mut m, &mut st, nr::SET_ROBUST_LIST, &[BUF, 12]),
        Ok(0)
    );
    assert_eq!(
        linux(&mut m, &mut st, nr::SET_ROBUST_LIST, &[BUF, 24]),
        Err(EINVAL)
    );
    assert_eq!(
        linux(&mut m, &mut st, nr::RSEQ, &[BUF, 32, 0, 0]),
        Err(ENOSYS)
    );
    assert_eq!(
        linux(&mut m, &mut st, nr::SCHED_GETAFFINITY, &[0, 128, BUF]),
        Ok(4)
    );
    assert_eq!(m.peek_word(BUF), 1);
    assert_eq!(
        linux(&mut m, &mut st, nr::SCHED_GETAFFINITY, &[0, 3, BUF]),
        Err(EINVAL)
    );
    assert_eq!(
        linux(&mut m, &mut st, nr::SCHED_GETAFFINITY, &[42, 128, BUF]),
        Err(ESRCH)
    );
}

#[test]
fn uname_reports_fixed_strings() {
    let (mut m, mut st) = (Mock::new(), state());
    m.poke(BUF, &[0xff; 390]);
    assert_eq!(linux(&mut m, &mut st, nr::UNAME, &[BUF]), Ok(0));
    let field = |i: u32| {
        let bytes = m.peek(BUF + 65 * i, 65);
        assert!(
            bytes[bytes.iter().position(|b| *b == 0).unwrap()..]
                .iter()
                .all(|b| *b == 0)
        );
        String::from_utf8(bytes.into_iter().take_while(|b| *b != 0).collect()).unwrap()
    };
    assert_eq!(field(0), "Linux");
    assert_eq!(field(2), "6.1.0");
    assert_eq!(field(4), "mips");
    assert_eq!(linux(&mut m, &mut st, nr::UNAME, &[0]), Err(EFAULT));
}

#[test]
fn sysinfo_describes_a_fixed_machine() {
    let (mut m, mut st) = (Mock::new(), state());
    m.poke(BUF, &[0xff; 68]);
    assert_eq!(linux(&mut m, &mut st, nr::SYSINFO, &[BUF]), Ok(0));
    let word = |offset: u32| u32::from_le_bytes(m.peek(BUF + offset, 4).try_into().unwrap());
    // o32 layout (checked with offsetof under qemu-mipsel): uptime 0, loads 4..16, totalram 16,
    // freeram 20, ..., procs (u16) 40, mem_unit 52, size 64.
    assert_eq!(word(0), 0, "uptime");
    assert_eq!((word(4), word(8), word(12)), (0, 0, 0), "loads");
    assert_eq!(word(16), 1 << 30, "totalram");
    assert_eq!(word(20), 1 << 29, "freeram");
    for offset in [24, 28, 32, 36, 44, 48, 56, 60] {
        assert_eq!(word(offset), 0, "offset {offset}");
    }
    assert_eq!(word(40), 1, "procs and pad");
    assert_eq!(word(52), 1, "mem_unit");
    assert_eq!(word(64), 0xffff_ffff, "nothing written past the struct");
    assert_eq!(linux(&mut m, &mut st, nr::SYSINFO, &[0]), Err(EFAULT));
}

#[test]
fn clocks_are_virtual_monotonic_and_deterministic() {
    let run = || {
        let (mut m, mut st) = (Mock::new(), state());
        let mut seen = Vec::new();
        for _ in 0..3 {
            assert_eq!(linux(&mut m, &mut st, nr::CLOCK_GETTIME, &[1, BUF]), Ok(0));
            seen.push((m.peek_word(BUF) as u64, m.peek_word(BUF + 4) as u64));
        }
        // nanosleep(1.5 s) moves the clock on.
        m.poke(BUF + 0x40, &[1, 0, 0, 0, 0x00, 0x65, 0xcd, 0x1d]); // {1, 500_000_000}
        assert_eq!(
            linux(&mut m, &mut st, nr::NANOSLEEP, &[BUF + 0x40, 0]),
            Ok(0)
        );
        m.poke(BUF, &[0xff; 16]);
        assert_eq!(
            linux(&mut m, &mut st, nr::CLOCK_GETTIME64, &[0, BUF]),
            Ok(0)
        );
        let words: Vec<u32> = (0..4).map(|i| m.peek_word(BUF + 4 * i)).collect();
        assert_eq!((words[1], words[3]), (0, 0), "64-bit fields");
        seen.push((words[0] as u64, words[2] as u64));
        assert_eq!(
            linux(&mut m, &mut st, nr::GETTIMEOFDAY, &[BUF, BUF + 0x20]),
            Ok(0)
        );
        seen.push((m.peek_word(BUF) as u64, m.peek_word(BUF + 4) as u64 * 1000));
        let seconds = linux(&mut m, &mut st, nr::TIME, &[0]).unwrap();
        seen.push((seconds as u64, 0));
        seen
    };
    let first = run();
    assert_eq!(first, run(), "same calls, same times");
    let nanos: Vec<u64> = first.iter().map(|(s, ns)| s * 1_000_000_000 + ns).collect();
    assert!(nanos[..5].windows(2).all(|w| w[0] < w[1]), "{nanos:?}");
    assert!(
        nanos[3] >= 1_500_000_000,
        "the sleep advanced the clock: {nanos:?}"
    );

    let (mut m, mut st) = (Mock::new(), state());
    assert_eq!(
        linux(&mut m, &mut st, nr::CLOCK_GETTIME, &[10, BUF]),
        Err(EINVAL)
    );
    assert_eq!(
        linux(&mut m, &mut st, nr::CLOCK_GETTIME, &[u32::MAX - 5, BUF]),
        Err(EINVAL)
    );
    assert_eq!(
        linux(&mut m, &mut st, nr::CLOCK_GETTIME, &[0, 0]),
        Err(EFAULT)
    );
    m.poke(BUF, &[0, 0, 0, 0, 0x00, 0xca, 0x9a, 0x3b]); // tv_nsec = 1_000_000_000
    assert_eq!(
        linux(&mut m, &mut st, nr::NANOSLEEP, &[BUF, 0]),
        Err(EINVAL)
    );
}

#[test]
fn getrandom_is_a_fixed_stream() {
    let draw = |st: &mut SyscallState, len: u32| {
        let mut m = Mock::new();
        assert_eq!(linux(&mut m, st, nr::GETRANDOM, &[BUF, len, 0]), Ok(len));
        m.peek(BUF, len)
    };
    let (mut a, mut b) = (state(), state());
    let first = draw(&mut a, 20);
    assert_eq!(first, draw(&mut b, 20), "deterministic");
    assert_ne!(first, draw(&mut a, 20), "successive draws differ");
    assert!(first.iter().any(|x| *x != 0));
    let mut m = Mock::new();
    assert_eq!(
        linux(&mut m, &mut a, nr::GETRANDOM, &[BUF, 4, 8]),
        Err(EINVAL)
    );
    assert_eq!(
        linux(&mut m, &mut a, nr::GETRANDOM, &[0x10, 4, 0]),
        Err(EFAULT)
    );
    assert_eq!(linux(&mut m, &mut a, nr::GETRANDOM, &[BUF, 0, 1]), Ok(0));
}

#[test]
fn fstat64_and_statx_describe_std_fds_as_pipes() {
    let (mut m, mut st) = (Mock::new(), state());
    m.poke(BUF, &[0xff; 104]);
    assert_eq!(linux(&mut m, &mut st, nr::FSTAT64, &[1, BUF]), Ok(0));
    assert_eq!(
        m.peek_word(BUF + 24) & 0o170_000,
        0o010_000,
        "st_mode at offset 24 is S_IFIFO"
    );
    assert_eq!(m.peek_word(BUF + 88), 4096, "st_blksize at offset 88");
    assert_eq!(m.peek(BUF + 56, 8), vec![0; 8], "st_size at 56");
    assert_eq!(linux(&mut m, &mut st, nr::FSTAT64, &[3, BUF]), Err(EBADF));

    // statx(fd, "", AT_EMPTY_PATH | AT_NO_AUTOMOUNT, STATX_BASIC_STATS, buf): buf is the fifth argument.
    m.poke(BUF + 0x200, b"\0");
    m.poke(BUF + 0x300, &[0xff; 256]);
    assert_eq!(
        linux(
            &mut m,
            &mut st,
            nr::STATX,
            &[0, BUF + 0x200, 0x1800, 0x7ff, BUF + 0x300]
        ),
        Ok(0)
    );
    let mode = u16::from_le_bytes(m.peek(BUF + 0x300 + 28, 2).try_into().unwrap());
    assert_eq!(mode & 0o170_000, 0o010_000, "stx_mode at 28 is S_IFIFO");
    assert_eq!(m.peek_word(BUF + 0x300), 0x7ff, "stx_mask");
    assert_eq!(m.peek_word(BUF + 0x300 + 4), 4096, "stx_blksize");
    assert_eq!(m.peek(BUF + 0x300 + 40, 8), vec![0; 8], "stx_size");
    assert_eq!(
        m.peek(BUF + 0x300 + 144, 112),
        vec![0; 112],
        "spare space zeroed"
    );
    assert_eq!(
        linux(
            &mut m,
            &mut st,
            nr::STATX,
            &[7, BUF + 0x200, 0x1000, 0x7ff, BUF + 0x300]
        ),
        Err(EBADF)
    );
    assert_eq!(
        linux(
            &mut m,
            &mut st,
            nr::STATX,
            &[0, BUF + 0x200, 0, 0x7ff, BUF + 0x300]
        ),
        Err(ENOENT)
    );
    m.poke(BUF + 0x200, b"/etc/passwd\0");
    assert_eq!(
        linux(
            &mut m,
            &mut st,
            nr::STATX,
            &[0, BUF + 0x200, 0x1000, 0x7ff, BUF + 0x300]
        ),
        Err(ENOENT)
    );
}

#[test]
fn std_fds_are_not_terminals_and_not_seekable() {
    let (mut m, mut st) = (Mock::new(), state());
    assert_eq!(
        linux(&mut m, &mut st, nr::IOCTL, &[1, 0x540d, BUF]),
        Err(ENOTTY)
    );
    assert_eq!(
        linux(&mut m, &mut st, nr::IOCTL, &[9, 0x540d, BUF]),
        Err(EBADF)
    );
    assert_eq!(linux(&mut m, &mut st, nr::LSEEK, &[0, 0, 1]), Err(ESPIPE));
    assert_eq!(linux(&mut m, &mut st, nr::LSEEK, &[0, 0, 9]), Err(EINVAL));
    // _llseek's whence is the fifth argument, on the stack.
    assert_eq!(
        linux(&mut m, &mut st, nr::LLSEEK, &[0, 0, 0, BUF, 7]),
        Err(EINVAL)
    );
    assert_eq!(
        linux(
            &mut m,
            &mut st,
            nr::LLSEEK,
            &[0, u32::MAX, u32::MAX, BUF, 1]
        ),
        Err(ESPIPE)
    );
    assert_eq!(
        linux(&mut m, &mut st, nr::LLSEEK, &[4, 0, 0, BUF, 1]),
        Err(EBADF)
    );
    assert_eq!(
        linux(&mut m, &mut st, nr::FCNTL64, &[1, 3, 0]),
        Ok(1),
        "F_GETFL: O_WRONLY"
    );
    assert_eq!(
        linux(&mut m, &mut st, nr::FCNTL64, &[1, 999, 0]),
        Err(EINVAL)
    );
}

#[test]
fn there_are_no_files() {
    let (mut m, mut st) = (Mock::new(), state());
    m.poke(BUF, b"/etc/passwd\0");
    assert_eq!(
        linux(&mut m, &mut st, nr::OPENAT, &[(-100i32) as u32, BUF, 0, 0]),
        Err(ENOENT)
    );
    assert_eq!(linux(&mut m, &mut st, nr::OPEN, &[BUF, 0, 0]), Err(ENOENT));
    assert_eq!(linux(&mut m, &mut st, nr::OPEN, &[0x30, 0, 0]), Err(EFAULT));
    assert_eq!(
        linux(&mut m, &mut st, nr::READLINK, &[BUF, BUF + 0x100, 4096]),
        Err(ENOENT)
    );
    assert_eq!(
        linux(&mut m, &mut st, nr::READLINK, &[BUF, BUF + 0x100, 0]),
        Err(EINVAL)
    );
    assert_eq!(linux(&mut m, &mut st, nr::CLOSE, &[55]), Err(EBADF));
    assert_eq!(linux(&mut m, &mut st, nr::CLOSE, &[1]), Ok(0));
    assert_eq!(linux(&mut m, &mut st, nr::CLOSE, &[1]), Err(EBADF));
    assert_eq!(
        linux(&mut m, &mut st, nr::WRITE, &[1, BUF, 1]),
        Err(EBADF),
        "closed stays closed"
    );
}

#[test]
fn resource_limits() {
    let (mut m, mut st) = (Mock::new(), state());
    assert_eq!(linux(&mut m, &mut st, nr::GETRLIMIT, &[3, BUF]), Ok(0));
    assert_eq!(
        (m.peek_word(BUF), m.peek_word(BUF + 4)),
        (8 << 20, 0x7fff_ffff)
    );
    assert_eq!(
        linux(&mut m, &mut st, nr::GETRLIMIT, &[16, BUF]),
        Err(EINVAL)
    );
    // prlimit64(0, RLIMIT_STACK, new = {16 MiB, infinity}, old)
    m.poke(BUF + 0x40, &(16u64 << 20).to_le_bytes());
    m.poke(BUF + 0x48, &u64::MAX.to_le_bytes());
    assert_eq!(
        linux(
            &mut m,
            &mut st,
            nr::PRLIMIT64,
            &[0, 3, BUF + 0x40, BUF + 0x80]
        ),
        Ok(0)
    );
    assert_eq!(
        m.peek(BUF + 0x80, 16),
        [(8u64 << 20).to_le_bytes(), u64::MAX.to_le_bytes()].concat()
    );
    assert_eq!(
        linux(&mut m, &mut st, nr::PRLIMIT64, &[0, 3, 0, BUF + 0x80]),
        Ok(0)
    );
    assert_eq!(m.peek(BUF + 0x80, 8), (16u64 << 20).to_le_bytes());
    assert_eq!(
        linux(&mut m, &mut st, nr::PRLIMIT64, &[77, 3, 0, BUF + 0x80]),
        Err(ESRCH)
    );
}

#[test]
fn signal_actions_and_mask_are_recorded() {
    let (mut m, mut st) = (Mock::new(), state());
    let action: Vec<u8> = [0x1000_0000u32, 0x0040_5678, 1, 0, 0, 0]
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .collect();
    m.poke(BUF, &action);
    m.poke(BUF + 0x40, &[0xff; 24]);
    assert_eq!(
        linux(&mut m, &mut st, nr::RT_SIGACTION, &[2, BUF, BUF + 0x40, 16]),
        Ok(0)
    );
    assert_eq!(m.peek(BUF + 0x40, 24), vec![0; 24], "old action: SIG_DFL");
    assert_eq!(
        linux(&mut m, &mut st, nr::RT_SIGACTION, &[2, 0, BUF + 0x40, 16]),
        Ok(0)
    );
    assert_eq!(m.peek(BUF + 0x40, 24), action);
    assert_eq!(
        linux(&mut m, &mut st, nr::RT_SIGACTION, &[2, BUF, 0, 8]),
        Err(EINVAL)
    );
    assert_eq!(
        linux(&mut m, &mut st, nr::RT_SIGACTION, &[9, BUF, 0, 16]),
        Err(EINVAL)
    );
    assert_eq!(
        linux(&mut m, &mut st, nr::RT_SIGACTION, &[128, 0, 0, 16]),
        Err(EINVAL)
    );

    // Block SIGINT (bit 1) and try to block SIGKILL (bit 8): only SIGINT sticks.
    m.poke(BUF + 0x80, &(0b1_0000_0010u128).to_le_bytes());
    assert_eq!(
        linux(&mut m, &mut st, nr::RT_SIGPROCMASK, &[1, BUF + 0x80, 0, 16]),
        Ok(0)
    );
    assert_eq!(
        linux(&mut m, &mut st, nr::RT_SIGPROCMASK, &[1, 0, BUF + 0xa0, 16]),
        Ok(0)
    );
    assert_eq!(m.peek(BUF + 0xa0, 16), 0b10u128.to_le_bytes());
    assert_eq!(
        linux(&mut m, &mut st, nr::RT_SIGPROCMASK, &[7, BUF + 0x80, 0, 16]),
        Err(EINVAL)
    );

    // sigaltstack: old = disabled; a too-small stack is ENOMEM.
    m.poke(
        BUF + 0xc0,
        &[0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x01, 0x00, 0, 0, 0, 0],
    );
    assert_eq!(
        linux(&mut m, &mut st, nr::SIGALTSTACK, &[BUF + 0xc0, BUF + 0xd0]),
        Ok(0)
    );
    assert_eq!(m.peek_word(BUF + 0xd8), 2, "SS_DISABLE");
    assert_eq!(
        linux(&mut m, &mut st, nr::SIGALTSTACK, &[0, BUF + 0xd0]),
        Ok(0)
    );
    assert_eq!(m.peek_word(BUF + 0xd0), 0x2000_0000);
}

#[test]
fn raising_signals() {
    // abort(): tgkill(pid, tid, SIGABRT) with the default action ends the run as a shell would report it.
    let (mut m, mut st) = (Mock::new(), state());
    assert_eq!(
        call(&mut m, &mut st, nr::TGKILL, &[1, 1, 6]).unwrap(),
        SyscallOutcome::Exit(134)
    );
    let (mut m, mut st) = (Mock::new(), state());
    assert_eq!(linux(&mut m, &mut st, nr::TGKILL, &[1, 1, 0]), Ok(0));
    assert_eq!(linux(&mut m, &mut st, nr::TGKILL, &[1, 2, 6]), Err(ESRCH));
    assert_eq!(
        linux(&mut m, &mut st, nr::KILL, &[1, 18]),
        Ok(0),
        "SIGCHLD is ignored by default"
    );
    // Ignored, then handled.
    m.poke(BUF, &[0, 0, 0, 0, 1, 0, 0, 0]);
    assert_eq!(
        linux(&mut m, &mut st, nr::RT_SIGACTION, &[15, BUF, 0, 16]),
        Ok(0)
    );
    assert_eq!(linux(&mut m, &mut st, nr::KILL, &[0, 15]), Ok(0));
    m.poke(BUF, &[0, 0, 0, 0, 0x00, 0x10, 0x40, 0x00]);
    assert_eq!(
        linux(&mut m, &mut st, nr::RT_SIGACTION, &[15, BUF, 0, 16]),
        Ok(0)
    );
    let reason = bad_reason(call(&mut m, &mut st, nr::KILL, &[0, 15]), nr::KILL);
    assert!(reason.contains("handler at 0x00401000"), "{reason}");
    // SIGKILL cannot be ignored or blocked.
    assert_eq!(
        call(&mut m, &mut st, nr::KILL, &[1, 9]).unwrap(),
        SyscallOutcome::Exit(137)
    );
}

#[test]
fn single_threaded_futex() {
    let (mut m, mut st) = (Mock::new(), state());
    m.poke(BUF, &5u32.to_le_bytes());
    assert_eq!(
        linux(&mut m, &mut st, nr::FUTEX, &[BUF, 0x81, 1, 0]),
        Ok(0),
        "FUTEX_WAKE_PRIVATE: nobody waits"
    );
    assert_eq!(
        linux(&mut m, &mut st, nr::FUTEX, &[BUF, 0x80, 4, 0]),
        Err(EAGAIN),
        "value changed"
    );
    assert_eq!(
        linux(&mut m, &mut st, nr::FUTEX, &[BUF + 2, 0x80, 5, 0]),
        Err(EINVAL)
    );
    m.poke(BUF + 0x10, &[0, 0, 0, 0, 0x40, 0x42, 0x0f, 0]); // {0, 1 ms}
    assert_eq!(
        linux(&mut m, &mut st, nr::FUTEX, &[BUF, 0x80, 5, BUF + 0x10]),
        Err(ETIMEDOUT)
    );
    let reason = bad_reason(
        call(&mut m, &mut st, nr::FUTEX, &[BUF, 0x80, 5, 0]),
        nr::FUTEX,
    );
    assert!(
        reason.contains("0x10000000") && reason.contains("forever"),
        "{reason}"
    );
}

#[test]
fn same_calls_give_the_same_state() {
    let script = |st: &mut SyscallState| {
        let mut m = Mock::new();
        m.poke(BUF, b"data");
        let anon = MAP_PRIVATE | MAP_ANONYMOUS;
        let log = vec![
            linux(&mut m, st, nr::BRK, &[BRK_START + 0x5000]),
            linux(
                &mut m,
                st,
                nr::MMAP2,
                &[0, 0x10000, PROT_RW, anon, u32::MAX, 0],
            ),
            linux(&mut m, st, nr::GETRANDOM, &[BUF + 0x10, 16, 0]),
            linux(&mut m, st, nr::CLOCK_GETTIME64, &[0, BUF + 0x20]),
            linux(&mut m, st, nr::WRITE, &[1, BUF, 4]),
        ];
        zkvm(&mut m, st, zk::COMMIT, &[BUF, 4]);
        (log, m.peek(BUF, 0x40))
    };
    let (mut a, mut b) = (state(), state());
    assert_eq!(script(&mut a), script(&mut b));
    assert_eq!(a.stdout(), b.stdout());
    assert_eq!(a.public_values(), b"data");
    assert_eq!(a.syscall_counts().get(&nr::BRK), Some(&1));
}
