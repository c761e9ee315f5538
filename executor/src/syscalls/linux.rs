//! A deterministic subset of the Linux o32 system calls, enough for unmodified static glibc binaries.
//!
//! o32 convention: number in `$v0`, arguments in `$a0..$a3`, the fifth and sixth at `sp + 16` and
//! `sp + 20`. On return `$v0` holds the result and `$a3` is 0, or `$a3` is 1 and `$v0` holds a positive
//! errno. Numbers, errno values, flag bits and struct layouts are the MIPS ones (they differ from other
//! architectures), taken from the kernel's MIPS uapi headers and checked against `qemu-mipsel`.
//!
//! The machine has one thread, no files and no signals delivery: stdin/stdout/stderr are character devices
//! that are not terminals, time is a virtual clock that only the guest's own time queries move, and
//! "randomness" is a fixed stream.

use super::{
    CHUNK, NSIG, RLIMIT_COUNT, SIGACTION_SIZE, SyscallOutcome, SyscallState, bad_syscall,
    page_align_up, reg,
};
use crate::context::GuestContext;
use crate::error::ExecError;
use zkmips_abi::layout;

/// o32 syscall numbers (`__NR_Linux` = 4000 plus the o32 table index, `asm/unistd_o32.h`).
pub mod nr {
    pub const EXIT: u32 = 4001;
    pub const READ: u32 = 4003;
    pub const WRITE: u32 = 4004;
    pub const OPEN: u32 = 4005;
    pub const CLOSE: u32 = 4006;
    pub const TIME: u32 = 4013;
    pub const LSEEK: u32 = 4019;
    pub const GETPID: u32 = 4020;
    pub const GETUID: u32 = 4024;
    pub const ACCESS: u32 = 4033;
    pub const KILL: u32 = 4037;
    pub const BRK: u32 = 4045;
    pub const GETGID: u32 = 4047;
    pub const GETEUID: u32 = 4049;
    pub const GETEGID: u32 = 4050;
    pub const IOCTL: u32 = 4054;
    pub const FCNTL: u32 = 4055;
    pub const UMASK: u32 = 4060;
    pub const GETPPID: u32 = 4064;
    pub const SETRLIMIT: u32 = 4075;
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
    pub const SCHED_YIELD: u32 = 4162;
    pub const NANOSLEEP: u32 = 4166;
    pub const MREMAP: u32 = 4167;
    pub const RT_SIGACTION: u32 = 4194;
    pub const RT_SIGPROCMASK: u32 = 4195;
    pub const GETCWD: u32 = 4203;
    pub const SIGALTSTACK: u32 = 4206;
    pub const MMAP2: u32 = 4210;
    pub const STAT64: u32 = 4213;
    pub const LSTAT64: u32 = 4214;
    pub const FSTAT64: u32 = 4215;
    pub const MADVISE: u32 = 4218;
    pub const FCNTL64: u32 = 4220;
    pub const GETTID: u32 = 4222;
    pub const TKILL: u32 = 4236;
    pub const FUTEX: u32 = 4238;
    pub const SCHED_GETAFFINITY: u32 = 4240;
    pub const EXIT_GROUP: u32 = 4246;
    pub const SET_TID_ADDRESS: u32 = 4252;
    pub const CLOCK_GETTIME: u32 = 4263;
    pub const CLOCK_GETRES: u32 = 4264;
    pub const CLOCK_NANOSLEEP: u32 = 4265;
    pub const TGKILL: u32 = 4266;
    pub const SET_THREAD_AREA: u32 = 4283;
    pub const OPENAT: u32 = 4288;
    pub const FSTATAT64: u32 = 4293;
    pub const READLINKAT: u32 = 4298;
    pub const FACCESSAT: u32 = 4300;
    pub const SET_ROBUST_LIST: u32 = 4309;
    pub const PRLIMIT64: u32 = 4338;
    pub const GETRANDOM: u32 = 4353;
    pub const STATX: u32 = 4366;
    pub const RSEQ: u32 = 4367;
    pub const CLOCK_GETTIME64: u32 = 4403;
    pub const CLOCK_GETRES_TIME64: u32 = 4406;
    pub const CLOCK_NANOSLEEP_TIME64: u32 = 4407;
    pub const FUTEX_TIME64: u32 = 4422;
    pub const FACCESSAT2: u32 = 4439;
}

/// MIPS errno values (`asm/errno.h`; the low ones are the generic `errno-base.h` ones).
pub mod errno {
    pub const ENOENT: u32 = 2;
    pub const ESRCH: u32 = 3;
    pub const EBADF: u32 = 9;
    pub const EAGAIN: u32 = 11;
    pub const ENOMEM: u32 = 12;
    pub const EFAULT: u32 = 14;
    pub const ENODEV: u32 = 19;
    pub const EINVAL: u32 = 22;
    pub const EMFILE: u32 = 24;
    pub const ENOTTY: u32 = 25;
    pub const ESPIPE: u32 = 29;
    pub const ERANGE: u32 = 34;
    pub const ENAMETOOLONG: u32 = 78;
    pub const ENOSYS: u32 = 89;
    pub const ETIMEDOUT: u32 = 145;
}

/// Each time query advances the virtual clock by this much, so "wait until N ns have passed" loops end.
pub(super) const CLOCK_STEP_NANOS: u64 = 1_000;
/// Seed of the `getrandom` stream (any fixed value; this one is the SplitMix64 increment).
pub(super) const RANDOM_SEED: u64 = 0x9e37_79b9_7f4a_7c15;
/// `stack_t.ss_flags` value for "no alternate stack".
pub(super) const SS_DISABLE: u32 = 2;

const PID: u32 = 1;
const NANOS_PER_SEC: u64 = 1_000_000_000;
/// Largest single read/write Linux performs (`MAX_RW_COUNT` = `INT_MAX & PAGE_MASK`).
const MAX_RW_COUNT: u32 = 0x7fff_f000;
/// `PATH_MAX`, including the terminating NUL.
const PATH_MAX: u32 = 4096;
/// `UIO_MAXIOV`: most iovecs one readv/writev takes.
const UIO_MAXIOV: u32 = 1024;
/// Largest `getrandom` request served in one call (Linux caps it the same way).
const GETRANDOM_MAX: u32 = 0x01ff_ffff;
/// Bytes of a kernel `sigset_t` on MIPS (`_NSIG / 8`).
const SIGSET_SIZE: u32 = 16;
/// `MINSIGSTKSZ` on MIPS.
const MIN_SIGSTACK_SIZE: u32 = 2048;
/// o32 `RLIM_INFINITY` for the 32-bit `getrlimit`/`setrlimit` ABI; `prlimit64` uses `u64::MAX`.
const RLIM32_INFINITY: u32 = 0x7fff_ffff;
const RLIMIT_STACK: usize = 3;
const RLIMIT_CORE: usize = 4;
const RLIMIT_NOFILE: usize = 5;

const MAP_SHARED: u32 = 0x001;
const MAP_PRIVATE: u32 = 0x002;
const MAP_SHARED_VALIDATE: u32 = 0x003;
const MAP_TYPE: u32 = 0x00f;
const MAP_FIXED: u32 = 0x010;
const MAP_ANONYMOUS: u32 = 0x800;
const MADV_DONTNEED: u32 = 4;
const MADV_DONTNEED_LOCKED: u32 = 24;
const AT_EMPTY_PATH: u32 = 0x1000;
/// `SEEK_HOLE`, the largest valid `whence`.
const SEEK_MAX: u32 = 4;
/// The standard descriptors are pipes, as when a harness captures a program's output: stdio then buffers
/// fully and skips its `isatty` probe, exactly as under `qemu-mipsel prog | ...`.
const S_IFIFO: u32 = 0o010_000;
const STD_FD_MODE: u32 = S_IFIFO | 0o600;
const STATX_BASIC_STATS: u32 = 0x7ff;
const STD_FD_BLKSIZE: u32 = 4096;
const SIGKILL: u32 = 9;
const SIGSTOP: u32 = 23;
const SIG_IGN: u32 = 1;
const F_DUPFD: u32 = 0;
const F_GETFD: u32 = 1;
const F_SETFD: u32 = 2;
const F_GETFL: u32 = 3;
const F_SETFL: u32 = 4;
const F_DUPFD_CLOEXEC: u32 = 1030;
const O_WRONLY: u32 = 1;
const FUTEX_WAIT: u32 = 0;
const FUTEX_WAKE: u32 = 1;
const FUTEX_WAIT_BITSET: u32 = 9;
const FUTEX_WAKE_BITSET: u32 = 10;
/// `FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME` stripped to get the futex command.
const FUTEX_CMD_MASK: u32 = !(128 | 256);
const TIMER_ABSTIME: u32 = 1;
/// o32 `sizeof(struct robust_list_head)`.
const ROBUST_LIST_HEAD_SIZE: u32 = 12;

pub(super) fn is_linux_syscall(number: u32) -> bool {
    (4000..5000).contains(&number)
}

/// Resource limits a fresh process sees: 8 MiB stack, no core dumps, 1024 files, the rest unlimited.
pub(super) fn default_rlimits() -> [(u64, u64); RLIMIT_COUNT] {
    let mut limits = [(u64::MAX, u64::MAX); RLIMIT_COUNT];
    limits[RLIMIT_STACK] = (8 << 20, u64::MAX);
    limits[RLIMIT_CORE] = (0, u64::MAX);
    limits[RLIMIT_NOFILE] = (1024, 4096);
    limits
}

/// How a handler ends when it does not return a value.
enum Fail {
    /// Report this errno to the guest.
    Errno(u32),
    /// The process is gone.
    Exit(u32),
    /// Stop the run with an error.
    Fatal(ExecError),
}

/// A bad guest pointer is the guest's mistake, reported as `EFAULT` like Linux does; anything else the
/// context reports stops the run.
impl From<ExecError> for Fail {
    fn from(error: ExecError) -> Self {
        match error {
            ExecError::InvalidAddress { .. }
            | ExecError::WriteToCode { .. }
            | ExecError::MisalignedAccess { .. } => Fail::Errno(errno::EFAULT),
            other => Fail::Fatal(other),
        }
    }
}

type Sys = Result<u32, Fail>;

fn err<T>(code: u32) -> Result<T, Fail> {
    Err(Fail::Errno(code))
}

pub(super) fn dispatch(
    ctx: &mut impl GuestContext,
    state: &mut SyscallState,
    number: u32,
) -> Result<SyscallOutcome, ExecError> {
    match serve(ctx, state, number) {
        Ok(value) => {
            ctx.set_reg(reg::V0, value);
            ctx.set_reg(reg::A3, 0);
            Ok(SyscallOutcome::Continue)
        }
        Err(Fail::Errno(code)) => {
            ctx.set_reg(reg::V0, code);
            ctx.set_reg(reg::A3, 1);
            Ok(SyscallOutcome::Continue)
        }
        Err(Fail::Exit(code)) => Ok(SyscallOutcome::Exit(code)),
        Err(Fail::Fatal(error)) => Err(error),
    }
}

/// The `n`-th (0-based) syscall argument: registers for the first four, the caller's stack after that.
fn stack_arg(ctx: &mut impl GuestContext, n: u32) -> Result<u32, Fail> {
    let sp = ctx.reg(reg::SP);
    Ok(ctx.read_word(sp.wrapping_add(16 + 4 * (n - 4)))?)
}

fn serve(ctx: &mut impl GuestContext, state: &mut SyscallState, number: u32) -> Sys {
    let a0 = ctx.reg(reg::A0);
    let a1 = ctx.reg(reg::A1);
    let a2 = ctx.reg(reg::A2);
    let a3 = ctx.reg(reg::A3);
    match number {
        nr::EXIT | nr::EXIT_GROUP => Err(Fail::Exit(a0 & 0xff)),

        // ---- files: only the three standard descriptors exist ----
        nr::READ => read(ctx, state, a0, &[(a1, a2)]),
        nr::READV => {
            let iov = read_iovecs(ctx, a1, a2)?;
            read(ctx, state, a0, &iov)
        }
        nr::WRITE => write(ctx, state, a0, &[(a1, a2)]),
        nr::WRITEV => {
            let iov = read_iovecs(ctx, a1, a2)?;
            write(ctx, state, a0, &iov)
        }
        nr::OPEN => {
            read_path(ctx, a0)?;
            err(errno::ENOENT)
        }
        nr::OPENAT | nr::ACCESS | nr::STAT64 | nr::LSTAT64 | nr::FACCESSAT | nr::FACCESSAT2 => {
            read_path(
                ctx,
                if matches!(number, nr::ACCESS | nr::STAT64 | nr::LSTAT64) {
                    a0
                } else {
                    a1
                },
            )?;
            err(errno::ENOENT)
        }
        nr::READLINK | nr::READLINKAT => {
            let (path, size) = if number == nr::READLINK {
                (a0, a2)
            } else {
                (a1, a3)
            };
            if size as i32 <= 0 {
                return err(errno::EINVAL);
            }
            let buf = if number == nr::READLINK { a1 } else { a2 };
            // glibc's start-up asks for its own path, the only link this process has. The kernel answers
            // with an absolute path (glibc asserts it); a relative argv[0] can't be made absolute without
            // the host's cwd, so then the link "doesn't exist" and glibc falls back. readlink does not
            // NUL-terminate and silently truncates to the buffer.
            if read_path(ctx, path)? == b"/proc/self/exe" && state.exe_path.starts_with(b"/") {
                let len = state.exe_path.len().min(size as usize);
                ctx.write_bytes(buf, &state.exe_path[..len])?;
                return Ok(len as u32);
            }
            err(errno::ENOENT)
        }
        nr::CLOSE => {
            std_fd(state, a0)?;
            state.std_fd_open[a0 as usize] = false;
            Ok(0)
        }
        // Linux checks the descriptor, then `whence` (SEEK_SET..=SEEK_HOLE), then finds it unseekable.
        nr::LSEEK => {
            std_fd(state, a0)?;
            if a2 > SEEK_MAX {
                return err(errno::EINVAL);
            }
            err(errno::ESPIPE)
        }
        nr::LLSEEK => {
            std_fd(state, a0)?;
            if stack_arg(ctx, 4)? > SEEK_MAX {
                return err(errno::EINVAL);
            }
            err(errno::ESPIPE)
        }
        // Not terminals: glibc then buffers stdout fully, as it does for a pipe.
        nr::IOCTL => {
            std_fd(state, a0)?;
            err(errno::ENOTTY)
        }
        nr::FCNTL | nr::FCNTL64 => {
            let fd = std_fd(state, a0)?;
            match a1 {
                F_GETFD | F_SETFD | F_SETFL => Ok(0),
                F_GETFL => Ok(if fd == 0 { 0 } else { O_WRONLY }),
                F_DUPFD | F_DUPFD_CLOEXEC => err(errno::EMFILE),
                _ => err(errno::EINVAL),
            }
        }
        nr::FSTAT64 => {
            let fd = std_fd(state, a0)?;
            ctx.write_bytes(a1, &stat64_of_std_fd(fd))?;
            Ok(0)
        }
        // Only "stat this descriptor" (an empty path with AT_EMPTY_PATH) can succeed: there are no files.
        nr::FSTATAT64 => {
            if !read_path(ctx, a1)?.is_empty() || a3 & AT_EMPTY_PATH == 0 {
                return err(errno::ENOENT);
            }
            let fd = std_fd(state, a0)?;
            ctx.write_bytes(a2, &stat64_of_std_fd(fd))?;
            Ok(0)
        }
        nr::STATX => {
            let buf = stack_arg(ctx, 4)?;
            if !read_path(ctx, a1)?.is_empty() || a2 & AT_EMPTY_PATH == 0 {
                return err(errno::ENOENT);
            }
            let fd = std_fd(state, a0)?;
            ctx.write_bytes(buf, &statx_of_std_fd(fd))?;
            Ok(0)
        }
        nr::GETCWD => {
            if a1 < 2 {
                return err(errno::ERANGE);
            }
            ctx.write_bytes(a0, b"/\0")?;
            Ok(2)
        }
        nr::UMASK => {
            let old = state.umask;
            state.umask = a0 & 0o777;
            Ok(old)
        }

        // ---- memory ----
        nr::BRK => brk(ctx, state, a0),
        nr::MMAP => {
            let (fd, offset) = (stack_arg(ctx, 4)?, stack_arg(ctx, 5)?);
            if !offset.is_multiple_of(layout::PAGE_SIZE) {
                return err(errno::EINVAL);
            }
            mmap(ctx, state, a0, a1, a3, fd)
        }
        nr::MMAP2 => {
            let fd = stack_arg(ctx, 4)?;
            mmap(ctx, state, a0, a1, a3, fd)
        }
        nr::MUNMAP => {
            // Addresses are never handed out twice, so there is nothing to release.
            if !a0.is_multiple_of(layout::PAGE_SIZE) || a1 == 0 || a0.checked_add(a1).is_none() {
                return err(errno::EINVAL);
            }
            Ok(0)
        }
        nr::MPROTECT => {
            // Protections are not enforced (code is read-only regardless).
            if !a0.is_multiple_of(layout::PAGE_SIZE) || a0.checked_add(a1).is_none() {
                return err(errno::EINVAL);
            }
            Ok(0)
        }
        nr::MADVISE => madvise(ctx, state, a0, a1, a2),
        // glibc's realloc falls back to malloc + copy + free when mremap fails.
        nr::MREMAP => {
            if !a0.is_multiple_of(layout::PAGE_SIZE) {
                return err(errno::EINVAL);
            }
            err(errno::ENOMEM)
        }

        // ---- process and threads ----
        nr::GETPID | nr::GETTID | nr::SET_TID_ADDRESS => Ok(PID),
        nr::GETPPID | nr::GETUID | nr::GETEUID | nr::GETGID | nr::GETEGID => Ok(0),
        nr::SET_THREAD_AREA => {
            state.thread_pointer = a0;
            Ok(0)
        }
        nr::SET_ROBUST_LIST => {
            if a1 != ROBUST_LIST_HEAD_SIZE {
                return err(errno::EINVAL);
            }
            Ok(0)
        }
        // Restartable sequences are not offered; glibc then simply does not register one.
        nr::RSEQ => err(errno::ENOSYS),
        nr::SCHED_YIELD => Ok(0),
        nr::SCHED_GETAFFINITY => {
            if a0 != 0 && a0 != PID {
                return err(errno::ESRCH);
            }
            if a1 < 4 || !a1.is_multiple_of(4) {
                return err(errno::EINVAL);
            }
            // One CPU; the kernel copies only its mask size and returns it.
            ctx.write_bytes(a2, &1u32.to_le_bytes())?;
            Ok(4)
        }
        nr::FUTEX => futex(ctx, state, a0, a1, a2, a3, false),
        nr::FUTEX_TIME64 => futex(ctx, state, a0, a1, a2, a3, true),
        nr::GETRLIMIT => {
            let (cur, max) = *state
                .rlimits
                .get(a0 as usize)
                .ok_or(Fail::Errno(errno::EINVAL))?;
            let clamp =
                |v: u64| u32::try_from(v).map_or(RLIM32_INFINITY, |v| v.min(RLIM32_INFINITY));
            write_words(ctx, a1, &[clamp(cur), clamp(max)])?;
            Ok(0)
        }
        nr::SETRLIMIT => {
            let slot = a0 as usize;
            if slot >= RLIMIT_COUNT {
                return err(errno::EINVAL);
            }
            let words = read_words::<2>(ctx, a1)?;
            let widen = |v: u32| {
                if v == RLIM32_INFINITY {
                    u64::MAX
                } else {
                    u64::from(v)
                }
            };
            let (cur, max) = (widen(words[0]), widen(words[1]));
            if cur > max {
                return err(errno::EINVAL);
            }
            state.rlimits[slot] = (cur, max);
            Ok(0)
        }
        nr::PRLIMIT64 => {
            if a0 != 0 && a0 != PID {
                return err(errno::ESRCH);
            }
            let slot = a1 as usize;
            if slot >= RLIMIT_COUNT {
                return err(errno::EINVAL);
            }
            let new = if a2 != 0 {
                let w = read_words::<4>(ctx, a2)?;
                let (cur, max) = (
                    u64::from(w[0]) | u64::from(w[1]) << 32,
                    u64::from(w[2]) | u64::from(w[3]) << 32,
                );
                if cur > max {
                    return err(errno::EINVAL);
                }
                Some((cur, max))
            } else {
                None
            };
            if a3 != 0 {
                let (cur, max) = state.rlimits[slot];
                write_words(
                    ctx,
                    a3,
                    &[
                        cur as u32,
                        (cur >> 32) as u32,
                        max as u32,
                        (max >> 32) as u32,
                    ],
                )?;
            }
            if let Some(limit) = new {
                state.rlimits[slot] = limit;
            }
            Ok(0)
        }
        nr::SYSINFO => {
            ctx.write_bytes(a0, &sysinfo_bytes())?;
            Ok(0)
        }
        nr::UNAME => {
            let mut uts = [0u8; 6 * 65];
            for (field, text) in [
                "Linux",
                "zkmips",
                "6.1.0",
                "#1 SMP zkmips",
                "mips",
                "(none)",
            ]
            .iter()
            .enumerate()
            {
                uts[field * 65..field * 65 + text.len()].copy_from_slice(text.as_bytes());
            }
            ctx.write_bytes(a0, &uts)?;
            Ok(0)
        }

        // ---- signals: handlers are recorded, never run ----
        nr::RT_SIGACTION => {
            if a3 != SIGSET_SIZE || a0 == 0 || a0 as usize >= NSIG {
                return err(errno::EINVAL);
            }
            if a1 != 0 && (a0 == SIGKILL || a0 == SIGSTOP) {
                return err(errno::EINVAL);
            }
            let new = if a1 != 0 {
                Some(ctx.read_bytes(a1, SIGACTION_SIZE as u32)?)
            } else {
                None
            };
            if a2 != 0 {
                ctx.write_bytes(a2, &state.sigactions[a0 as usize])?;
            }
            if let Some(action) = new {
                state.sigactions[a0 as usize].copy_from_slice(&action);
            }
            Ok(0)
        }
        nr::RT_SIGPROCMASK => {
            if a3 != SIGSET_SIZE {
                return err(errno::EINVAL);
            }
            let new = if a1 != 0 {
                if !(1..=3).contains(&a0) {
                    return err(errno::EINVAL);
                }
                let bytes: [u8; 16] = ctx
                    .read_bytes(a1, SIGSET_SIZE)?
                    .try_into()
                    .expect("16 bytes requested");
                Some(u128::from_le_bytes(bytes))
            } else {
                None
            };
            if a2 != 0 {
                ctx.write_bytes(a2, &state.signal_mask.to_le_bytes())?;
            }
            if let Some(set) = new {
                let mask = match a0 {
                    1 => state.signal_mask | set,
                    2 => state.signal_mask & !set,
                    _ => set,
                };
                // SIGKILL and SIGSTOP cannot be blocked.
                state.signal_mask = mask & !(signal_bit(SIGKILL) | signal_bit(SIGSTOP));
            }
            Ok(0)
        }
        nr::SIGALTSTACK => {
            let new = if a0 != 0 {
                let [sp, size, flags] = read_words::<3>(ctx, a0)?;
                let mode = flags & !(1 << 31); // SS_AUTODISARM is accepted and ignored.
                if mode != 0 && mode != SS_DISABLE {
                    return err(errno::EINVAL);
                }
                if mode == 0 && size < MIN_SIGSTACK_SIZE {
                    return err(errno::ENOMEM);
                }
                Some([sp, size, flags])
            } else {
                None
            };
            if a1 != 0 {
                write_words(ctx, a1, &state.alt_stack)?;
            }
            if let Some(stack) = new {
                state.alt_stack = stack;
            }
            Ok(0)
        }
        nr::KILL => {
            if a0 != 0 && a0 != PID && a0 != u32::MAX {
                return err(errno::ESRCH);
            }
            raise(ctx, state, number, a1)
        }
        nr::TKILL => {
            if a0 != PID {
                return err(errno::ESRCH);
            }
            raise(ctx, state, number, a1)
        }
        nr::TGKILL => {
            if a0 != PID || a1 != PID {
                return err(errno::ESRCH);
            }
            raise(ctx, state, number, a2)
        }

        // ---- time: a virtual clock ----
        nr::CLOCK_GETTIME | nr::CLOCK_GETTIME64 => {
            check_clock(a0)?;
            let now = state.tick();
            write_timespec(ctx, a1, now, number == nr::CLOCK_GETTIME64)?;
            Ok(0)
        }
        nr::CLOCK_GETRES | nr::CLOCK_GETRES_TIME64 => {
            check_clock(a0)?;
            if a1 != 0 {
                write_timespec(ctx, a1, 1, number == nr::CLOCK_GETRES_TIME64)?;
            }
            Ok(0)
        }
        nr::GETTIMEOFDAY => {
            let now = state.tick();
            if a0 != 0 {
                let micros = (now % NANOS_PER_SEC) / 1000;
                write_words(ctx, a0, &[(now / NANOS_PER_SEC) as u32, micros as u32])?;
            }
            if a1 != 0 {
                write_words(ctx, a1, &[0, 0])?;
            }
            Ok(0)
        }
        nr::TIME => {
            let seconds = (state.tick() / NANOS_PER_SEC) as u32;
            if a0 != 0 {
                write_words(ctx, a0, &[seconds])?;
            }
            Ok(seconds)
        }
        nr::NANOSLEEP => {
            let duration = read_timespec(ctx, a0, false)?;
            state.clock_nanos = state.clock_nanos.saturating_add(duration);
            Ok(0)
        }
        nr::CLOCK_NANOSLEEP | nr::CLOCK_NANOSLEEP_TIME64 => {
            check_clock(a0)?;
            let time = read_timespec(ctx, a2, number == nr::CLOCK_NANOSLEEP_TIME64)?;
            state.clock_nanos = if a1 & TIMER_ABSTIME != 0 {
                state.clock_nanos.max(time)
            } else {
                state.clock_nanos.saturating_add(time)
            };
            Ok(0)
        }

        nr::GETRANDOM => getrandom(ctx, state, a0, a1, a2),

        _ => Err(Fail::Fatal(ExecError::UnknownSyscall {
            pc: ctx.pc(),
            number,
        })),
    }
}

impl SyscallState {
    /// Reads the virtual clock and moves it on by one step.
    fn tick(&mut self) -> u64 {
        let now = self.clock_nanos;
        self.clock_nanos = now.saturating_add(CLOCK_STEP_NANOS);
        now
    }

    /// The next 8 bytes of the fixed `getrandom` stream (SplitMix64).
    fn next_random(&mut self) -> [u8; 8] {
        self.random_state = self.random_state.wrapping_add(RANDOM_SEED);
        let mut z = self.random_state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)).to_le_bytes()
    }
}

/// `fd` if it is an open standard descriptor, else `EBADF`.
fn std_fd(state: &SyscallState, fd: u32) -> Result<u32, Fail> {
    match state.std_fd_open.get(fd as usize) {
        Some(true) => Ok(fd),
        _ => err(errno::EBADF),
    }
}

fn read_words<const N: usize>(ctx: &mut impl GuestContext, addr: u32) -> Result<[u32; N], Fail> {
    let bytes = ctx.read_bytes(addr, 4 * N as u32)?;
    Ok(core::array::from_fn(|i| {
        u32::from_le_bytes(bytes[4 * i..4 * i + 4].try_into().expect("4 bytes"))
    }))
}

fn write_words(ctx: &mut impl GuestContext, addr: u32, words: &[u32]) -> Result<(), Fail> {
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    Ok(ctx.write_bytes(addr, &bytes)?)
}

/// Reads a NUL-terminated path (without the NUL).
fn read_path(ctx: &mut impl GuestContext, addr: u32) -> Result<Vec<u8>, Fail> {
    let mut path = Vec::new();
    for offset in 0..PATH_MAX {
        let byte = ctx.read_bytes(
            addr.checked_add(offset).ok_or(Fail::Errno(errno::EFAULT))?,
            1,
        )?[0];
        if byte == 0 {
            return Ok(path);
        }
        path.push(byte);
    }
    err(errno::ENAMETOOLONG)
}

/// Reads an o32 `struct iovec` array into (base, len) pairs.
fn read_iovecs(
    ctx: &mut impl GuestContext,
    addr: u32,
    count: u32,
) -> Result<Vec<(u32, u32)>, Fail> {
    if count > UIO_MAXIOV {
        return err(errno::EINVAL);
    }
    if count == 0 {
        return Ok(Vec::new());
    }
    let bytes = ctx.read_bytes(addr, count * 8)?;
    let word = |i: usize| u32::from_le_bytes(bytes[4 * i..4 * i + 4].try_into().expect("4 bytes"));
    let iov: Vec<(u32, u32)> = (0..count as usize)
        .map(|i| (word(2 * i), word(2 * i + 1)))
        .collect();
    // Linux rejects a total that does not fit ssize_t.
    let total = iov.iter().try_fold(0u32, |sum, &(_, len)| {
        sum.checked_add(len).filter(|s| *s <= i32::MAX as u32)
    });
    if total.is_none() {
        return err(errno::EINVAL);
    }
    Ok(iov)
}

/// `read`/`readv`: only fd 0 is readable, from the configured stdin bytes.
fn read(ctx: &mut impl GuestContext, state: &mut SyscallState, fd: u32, iov: &[(u32, u32)]) -> Sys {
    if std_fd(state, fd)? != 0 {
        return err(errno::EBADF);
    }
    let mut done = 0u32;
    for &(base, len) in iov {
        let len = len.min(MAX_RW_COUNT - done);
        let mut copied = 0u32;
        while copied < len && state.stdin_pos < state.stdin.len() {
            let piece = (len - copied).min(CHUNK) as usize;
            let piece = piece.min(state.stdin.len() - state.stdin_pos);
            let bytes = &state.stdin[state.stdin_pos..state.stdin_pos + piece];
            // A fault after some bytes arrived reports the partial count, as Linux does.
            match base
                .checked_add(copied)
                .map(|addr| ctx.write_bytes(addr, bytes))
            {
                Some(Ok(())) => {}
                Some(Err(error)) => return partial(done + copied, error.into()),
                None => return partial(done + copied, Fail::Errno(errno::EFAULT)),
            }
            state.stdin_pos += piece;
            copied += piece as u32;
        }
        done += copied;
        if copied < len {
            break;
        }
    }
    Ok(done)
}

/// `write`/`writev`: fds 1 and 2 only.
fn write(
    ctx: &mut impl GuestContext,
    state: &mut SyscallState,
    fd: u32,
    iov: &[(u32, u32)],
) -> Sys {
    if std_fd(state, fd)? == 0 {
        return err(errno::EBADF);
    }
    let mut done = 0u32;
    for &(base, len) in iov {
        let len = len.min(MAX_RW_COUNT - done);
        let mut copied = 0u32;
        while copied < len {
            let piece = (len - copied).min(CHUNK);
            let bytes = match base
                .checked_add(copied)
                .map(|addr| ctx.read_bytes(addr, piece))
            {
                Some(Ok(bytes)) => bytes,
                Some(Err(error)) => return partial(done + copied, error.into()),
                None => return partial(done + copied, Fail::Errno(errno::EFAULT)),
            };
            state.emit(fd, &bytes);
            copied += piece;
        }
        done += copied;
    }
    Ok(done)
}

/// After a fault part-way through a transfer Linux returns the bytes already moved, or the error if none.
fn partial(done: u32, fail: Fail) -> Sys {
    if done > 0 && matches!(fail, Fail::Errno(_)) {
        Ok(done)
    } else {
        Err(fail)
    }
}

/// Writes zeros over `[start, start + len)`.
fn zero_range(ctx: &mut impl GuestContext, start: u32, len: u32) -> Result<(), ExecError> {
    let zeros = vec![0u8; len.min(CHUNK) as usize];
    let mut done = 0u32;
    while done < len {
        let piece = (len - done).min(CHUNK);
        ctx.write_bytes(start + done, &zeros[..piece as usize])?;
        done += piece;
    }
    Ok(())
}

/// `brk`: returns the new break on success and the unchanged one on failure, like Linux.
fn brk(ctx: &mut impl GuestContext, state: &mut SyscallState, requested: u32) -> Sys {
    if requested < state.brk_start || requested > state.mmap_low {
        return Ok(state.brk);
    }
    let Some(new_end) = page_align_up(requested) else {
        return Ok(state.brk);
    };
    if new_end > state.mmap_low {
        return Ok(state.brk);
    }
    let old_end = page_align_up(state.brk).expect("the break stays below MMAP_TOP");
    // Pages released by an earlier shrink may still hold data; Linux hands them back zeroed.
    let stale_end = new_end.min(state.brk_high_water);
    if stale_end > old_end {
        zero_range(ctx, old_end, stale_end - old_end).map_err(Fail::Fatal)?;
    }
    state.brk_high_water = state.brk_high_water.max(new_end);
    state.brk = requested;
    Ok(requested)
}

/// Anonymous `mmap`/`mmap2`. Regions are handed out downwards from `MMAP_TOP` and never reused, so they are
/// still zero; `MAP_FIXED` is served only inside regions already handed out, zeroing them as Linux would.
fn mmap(
    ctx: &mut impl GuestContext,
    state: &mut SyscallState,
    addr: u32,
    len: u32,
    flags: u32,
    fd: u32,
) -> Sys {
    if len == 0 {
        return err(errno::EINVAL);
    }
    if !matches!(
        flags & MAP_TYPE,
        MAP_SHARED | MAP_PRIVATE | MAP_SHARED_VALIDATE
    ) {
        return err(errno::EINVAL);
    }
    if flags & MAP_ANONYMOUS == 0 {
        // A file mapping: the standard descriptors are character devices that cannot be mapped.
        std_fd(state, fd)?;
        return err(errno::ENODEV);
    }
    let size = page_align_up(len).ok_or(Fail::Errno(errno::ENOMEM))?;
    if flags & MAP_FIXED != 0 {
        if !addr.is_multiple_of(layout::PAGE_SIZE) {
            return err(errno::EINVAL);
        }
        let inside = addr >= state.mmap_low
            && addr
                .checked_add(size)
                .is_some_and(|end| end <= layout::MMAP_TOP);
        if !inside {
            return err(errno::ENOMEM);
        }
        zero_range(ctx, addr, size).map_err(Fail::Fatal)?;
        return Ok(addr);
    }
    let floor = page_align_up(state.brk_high_water).expect("the heap stays below MMAP_TOP");
    match state.mmap_low.checked_sub(size) {
        Some(start) if start >= floor => {
            state.mmap_low = start;
            Ok(start)
        }
        _ => err(errno::ENOMEM),
    }
}

/// `madvise`: `MADV_DONTNEED` zeroes anonymous memory (heap or mmap regions) as Linux does; other advice is
/// accepted and has no effect.
fn madvise(
    ctx: &mut impl GuestContext,
    state: &SyscallState,
    addr: u32,
    len: u32,
    advice: u32,
) -> Sys {
    if !addr.is_multiple_of(layout::PAGE_SIZE) {
        return err(errno::EINVAL);
    }
    let Some(end) = page_align_up(len).and_then(|size| addr.checked_add(size)) else {
        return err(errno::EINVAL);
    };
    if advice == MADV_DONTNEED || advice == MADV_DONTNEED_LOCKED {
        let heap_end = page_align_up(state.brk).expect("the break stays below MMAP_TOP");
        for (lo, hi) in [
            (state.brk_start, heap_end),
            (state.mmap_low, layout::MMAP_TOP),
        ] {
            let (start, stop) = (addr.max(lo), end.min(hi));
            if start < stop {
                zero_range(ctx, start, stop - start).map_err(Fail::Fatal)?;
            }
        }
    }
    Ok(0)
}

/// Single-threaded futex: a wait whose value matches can only end by timeout; wakes find nobody.
fn futex(
    ctx: &mut impl GuestContext,
    state: &mut SyscallState,
    addr: u32,
    op: u32,
    value: u32,
    timeout: u32,
    time64: bool,
) -> Sys {
    let number = ctx.reg(reg::V0);
    match op & FUTEX_CMD_MASK {
        cmd @ (FUTEX_WAIT | FUTEX_WAIT_BITSET) => {
            if !addr.is_multiple_of(4) {
                return err(errno::EINVAL);
            }
            if ctx.read_word(addr)? != value {
                return err(errno::EAGAIN);
            }
            if timeout == 0 {
                return Err(Fail::Fatal(bad_syscall(
                    ctx,
                    number,
                    format!(
                        "futex wait on {addr:#010x} would block forever: the guest has only one thread"
                    ),
                )));
            }
            let time = read_timespec(ctx, timeout, time64)?;
            // FUTEX_WAIT takes a relative timeout, FUTEX_WAIT_BITSET an absolute one.
            state.clock_nanos = if cmd == FUTEX_WAIT {
                state.clock_nanos.saturating_add(time)
            } else {
                state.clock_nanos.max(time)
            };
            err(errno::ETIMEDOUT)
        }
        FUTEX_WAKE | FUTEX_WAKE_BITSET => Ok(0),
        _ => err(errno::ENOSYS),
    }
}

fn signal_bit(signal: u32) -> u128 {
    1u128 << (signal - 1)
}

/// A signal sent to ourselves. Nothing runs handlers, so: blocked or ignored signals are dropped, default
/// "ignore" signals too, default "terminate" signals end the run with `128 + signal` (what a shell reports),
/// and the rest (a handler to run, a stop) cannot be served.
fn raise(ctx: &mut impl GuestContext, state: &SyscallState, number: u32, signal: u32) -> Sys {
    if signal as usize >= NSIG {
        return err(errno::EINVAL);
    }
    if signal == 0 {
        return Ok(0);
    }
    let catchable = signal != SIGKILL && signal != SIGSTOP;
    if catchable && state.signal_mask & signal_bit(signal) != 0 {
        return Ok(0);
    }
    let action = &state.sigactions[signal as usize];
    let handler = u32::from_le_bytes(action[4..8].try_into().expect("4 bytes"));
    match (catchable, handler) {
        (true, SIG_IGN) => Ok(0),
        (true, 0) | (false, _) => match signal {
            // SIGCHLD, SIGPWR is "terminate", SIGWINCH, SIGURG, SIGCONT: ignored by default.
            18 | 20 | 21 | 25 => Ok(0),
            // SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU.
            23 | 24 | 26 | 27 => Err(Fail::Fatal(bad_syscall(
                ctx,
                number,
                format!("signal {signal} would stop the process, which cannot be resumed"),
            ))),
            _ => Err(Fail::Exit(128 + signal)),
        },
        (true, handler) => Err(Fail::Fatal(bad_syscall(
            ctx,
            number,
            format!(
                "signal {signal} has a handler at {handler:#010x}; running signal handlers is not supported"
            ),
        ))),
    }
}

/// Clock ids Linux accepts for `clock_gettime` (all read the same virtual clock here). 10 is unused.
fn check_clock(clock: u32) -> Result<(), Fail> {
    if clock <= 11 && clock != 10 {
        Ok(())
    } else {
        err(errno::EINVAL)
    }
}

/// Writes `nanos` as an o32 `struct timespec` (two 32-bit fields) or a `struct __kernel_timespec` (two
/// 64-bit fields).
fn write_timespec(
    ctx: &mut impl GuestContext,
    addr: u32,
    nanos: u64,
    time64: bool,
) -> Result<(), Fail> {
    let (seconds, subsec) = (nanos / NANOS_PER_SEC, nanos % NANOS_PER_SEC);
    if time64 {
        write_words(
            ctx,
            addr,
            &[seconds as u32, (seconds >> 32) as u32, subsec as u32, 0],
        )
    } else {
        write_words(ctx, addr, &[seconds as u32, subsec as u32])
    }
}

/// Reads a timespec as nanoseconds; negative or out-of-range fields are `EINVAL`.
fn read_timespec(ctx: &mut impl GuestContext, addr: u32, time64: bool) -> Result<u64, Fail> {
    let (seconds, subsec) = if time64 {
        let w = read_words::<4>(ctx, addr)?;
        // Like the kernel for 32-bit callers, ignore the upper half of tv_nsec.
        (
            (u64::from(w[1]) << 32 | u64::from(w[0])) as i64,
            w[2] as i32,
        )
    } else {
        let w = read_words::<2>(ctx, addr)?;
        (i64::from(w[0] as i32), w[1] as i32)
    };
    if seconds < 0 || !(0..NANOS_PER_SEC as i32).contains(&subsec) {
        return err(errno::EINVAL);
    }
    Ok((seconds as u64)
        .saturating_mul(NANOS_PER_SEC)
        .saturating_add(subsec as u64))
}

fn getrandom(
    ctx: &mut impl GuestContext,
    state: &mut SyscallState,
    buf: u32,
    len: u32,
    flags: u32,
) -> Sys {
    // GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE; RANDOM and INSECURE together are invalid.
    if flags & !7 != 0 || flags & 6 == 6 {
        return err(errno::EINVAL);
    }
    let len = len.min(GETRANDOM_MAX);
    let mut done = 0u32;
    while done < len {
        let piece = (len - done).min(CHUNK);
        let mut bytes = Vec::with_capacity(piece as usize + 8);
        while bytes.len() < piece as usize {
            bytes.extend_from_slice(&state.next_random());
        }
        bytes.truncate(piece as usize);
        match buf
            .checked_add(done)
            .map(|addr| ctx.write_bytes(addr, &bytes))
        {
            Some(Ok(())) => {}
            Some(Err(error)) => return partial(done, error.into()),
            None => return partial(done, Fail::Errno(errno::EFAULT)),
        }
        done += piece;
    }
    Ok(done)
}

/// The o32 `struct stat64` (104 bytes) of a standard descriptor: a character device, not a terminal.
/// The o32 `struct sysinfo` (64 bytes) of a fixed, idle machine: 1 GiB of RAM with 512 MiB free, no
/// swap, one process, uptime and load 0. glibc reads it for `sysconf(_SC_PHYS_PAGES)` (qsort's memory
/// heuristic), so the values only have to be plausible and constant.
fn sysinfo_bytes() -> [u8; 64] {
    const TOTAL_RAM: u32 = 1 << 30;
    const FREE_RAM: u32 = 1 << 29;
    let mut info = [0u8; 64];
    // uptime @0, loads[3] @4, then totalram, freeram, sharedram, bufferram, totalswap, freeswap @16..40.
    info[16..20].copy_from_slice(&TOTAL_RAM.to_le_bytes());
    info[20..24].copy_from_slice(&FREE_RAM.to_le_bytes());
    // procs (u16) @40, pad @42, totalhigh @44, freehigh @48, mem_unit @52, padding @56..64.
    info[40..42].copy_from_slice(&1u16.to_le_bytes());
    info[52..56].copy_from_slice(&1u32.to_le_bytes());
    info
}

fn stat64_of_std_fd(fd: u32) -> [u8; 104] {
    let mut stat = [0u8; 104];
    let mut put =
        |offset: usize, value: u32| stat[offset..offset + 4].copy_from_slice(&value.to_le_bytes());
    put(16, fd + 1); // st_ino (low half)
    put(24, STD_FD_MODE); // st_mode
    put(28, 1); // st_nlink
    put(88, STD_FD_BLKSIZE); // st_blksize
    stat
}

/// The `struct statx` (256 bytes) of a standard descriptor.
fn statx_of_std_fd(fd: u32) -> [u8; 256] {
    let mut statx = [0u8; 256];
    let mut put =
        |offset: usize, value: u32| statx[offset..offset + 4].copy_from_slice(&value.to_le_bytes());
    put(0, STATX_BASIC_STATS); // stx_mask
    put(4, STD_FD_BLKSIZE); // stx_blksize
    put(16, 1); // stx_nlink
    put(28, STD_FD_MODE); // stx_mode (u16; the next two bytes are padding)
    put(32, fd + 1); // stx_ino (low half)
    statx
}
