//! The syscall layer: everything the guest's `syscall` instruction can ask for.
//!
//! Two families share the instruction, told apart by the number in `$v0`:
//! - zkVM services (`0x0001_0000` and up, [`zkmips_abi::syscall`]): halt, I/O streams, public values and
//!   the precompiles. Misuse of a zkVM service is a hard error ([`ExecError::BadSyscall`]): a guest built
//!   against the SDK never does it, so failing loudly beats guessing.
//! - a deterministic Linux o32 subset (`4000..=4999`) so unmodified static glibc binaries run. Bad arguments
//!   get the errno Linux would give; only states no single-threaded, file-less machine can serve (a futex wait
//!   that would sleep forever, a signal that would run a handler) are hard errors.
//!
//! Nothing here consults the host clock, host randomness or host files: the same inputs always give the same
//! run. See `docs/SYSCALLS.md` for the tables.

mod linux;
mod precompiles;
mod zkvm;

use std::io::Write;

use crate::context::GuestContext;
use crate::error::ExecError;
use zkmips_abi::layout;

pub use precompiles::{keccak_permute_lanes, sha256_compress_schedule, sha256_extend_schedule};

/// Register numbers of the o32 calling convention the syscall ABI uses.
pub mod reg {
    /// `$v0`: service number in, result out.
    pub const V0: usize = 2;
    /// `$a0`..`$a3`: the first four arguments.
    pub const A0: usize = 4;
    pub const A1: usize = 5;
    pub const A2: usize = 6;
    /// `$a3` is also the Linux error flag on return (0 = success, 1 = `$v0` holds a positive errno).
    pub const A3: usize = 7;
    /// `$sp`: o32 passes the fifth and later syscall arguments at `sp + 16`, `sp + 20`, ...
    pub const SP: usize = 29;
}

/// What the host supplies to a run.
#[derive(Clone, Debug, Default)]
pub struct SyscallConfig {
    /// Bytes the guest reads from file descriptor 0 (Linux `read`/`readv`).
    pub stdin: Vec<u8>,
    /// The input stream ([`zkmips_abi::syscall::INPUT_LEN`] / `INPUT_READ`), one entry per item.
    pub inputs: Vec<Vec<u8>>,
    /// The hint stream ([`zkmips_abi::syscall::HINT_LEN`] / `HINT_READ`), one entry per item.
    pub hints: Vec<Vec<u8>>,
    /// `true`: guest writes to fds 1/2 go straight to the host's stdout/stderr (and are not kept).
    /// `false`: they are captured and available from [`SyscallState::stdout`] / [`SyscallState::stderr`].
    pub echo_output: bool,
}

/// What the syscall handler tells the executor to do next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyscallOutcome {
    /// Carry on with the instruction after the `syscall`.
    Continue,
    /// The guest stopped with this exit code (HALT's full `$a0`; Linux `exit`/`exit_group` keep the low 8
    /// bits, as a real kernel does; a fatal signal gives `128 + signal`, as a shell reports it).
    Exit(u32),
}

/// Number of signals on MIPS Linux (`_NSIG`); valid signal numbers are `1..=127`.
const NSIG: usize = 128;
/// Size of the MIPS kernel `struct sigaction`: `sa_flags`, `sa_handler`, 16-byte `sa_mask`.
const SIGACTION_SIZE: usize = 24;
/// Number of resource limits on Linux (`RLIM_NLIMITS`).
const RLIMIT_COUNT: usize = 16;

/// All state the syscall layer keeps between calls. Cloning it snapshots the whole OS view of a run.
#[derive(Clone, Debug)]
pub struct SyscallState {
    // Streams the host supplied.
    stdin: Vec<u8>,
    stdin_pos: usize,
    inputs: Vec<Vec<u8>>,
    next_input: usize,
    hints: Vec<Vec<u8>>,
    next_hint: usize,
    echo_output: bool,

    // What the guest produced.
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    public_values: Vec<u8>,
    hint_output: Vec<u8>,
    exit_code: Option<u32>,

    // Address space: the heap grows up from `brk_start`, anonymous mappings grow down from
    // `layout::MMAP_TOP`. The two never overlap, so fresh mmap pages were never written and are zero.
    brk_start: u32,
    brk: u32,
    /// Page-aligned highest break ever set: pages between the current break and here may hold stale data
    /// and are zeroed when the break grows over them again.
    brk_high_water: u32,
    /// Lowest address handed out by mmap so far (`MMAP_TOP` before the first mapping).
    mmap_low: u32,

    // Process state.
    /// What `readlink("/proc/self/exe")` answers: the program name (`argv[0]`), as qemu-user does.
    exe_path: Vec<u8>,
    thread_pointer: u32,
    /// The deterministic clock: nanoseconds since the epoch; every time query advances it by
    /// [`linux::CLOCK_STEP_NANOS`] so elapsed-time loops terminate.
    clock_nanos: u64,
    /// State of the deterministic `getrandom` stream.
    random_state: u64,
    sigactions: Vec<[u8; SIGACTION_SIZE]>,
    signal_mask: u128,
    /// The registered alternate signal stack (`stack_t`: sp, size, flags).
    alt_stack: [u32; 3],
    rlimits: [(u64, u64); RLIMIT_COUNT],
    /// Whether fds 0, 1, 2 are still open (the guest may close them).
    std_fd_open: [bool; 3],
    umask: u32,
    /// How many times each syscall number was served, for statistics.
    counts: std::collections::BTreeMap<u32, u64>,
}

impl SyscallState {
    /// A fresh state for a program whose heap starts at `brk_start` (rounded up to a page).
    pub fn new(config: &SyscallConfig, brk_start: u32) -> Self {
        let brk_start = page_align_up(brk_start).unwrap_or(layout::MMAP_TOP);
        Self {
            stdin: config.stdin.clone(),
            stdin_pos: 0,
            inputs: config.inputs.clone(),
            next_input: 0,
            hints: config.hints.clone(),
            next_hint: 0,
            echo_output: config.echo_output,
            stdout: Vec::new(),
            stderr: Vec::new(),
            public_values: Vec::new(),
            hint_output: Vec::new(),
            exit_code: None,
            brk_start,
            brk: brk_start,
            brk_high_water: brk_start,
            mmap_low: layout::MMAP_TOP,
            exe_path: Vec::new(),
            thread_pointer: 0,
            clock_nanos: 0,
            random_state: linux::RANDOM_SEED,
            sigactions: vec![[0; SIGACTION_SIZE]; NSIG],
            signal_mask: 0,
            alt_stack: [0, 0, linux::SS_DISABLE],
            rlimits: linux::default_rlimits(),
            std_fd_open: [true; 3],
            umask: 0o022,
            counts: std::collections::BTreeMap::new(),
        }
    }

    /// The thread pointer set by `set_thread_area`; `RDHWR $29` (UserLocal) reads it.
    /// Sets the path `readlink("/proc/self/exe")` reports (the executor passes `argv[0]`).
    pub fn set_exe_path(&mut self, path: &str) {
        self.exe_path = path.as_bytes().to_vec();
    }

    pub fn thread_pointer(&self) -> u32 {
        self.thread_pointer
    }

    /// The public-values stream committed so far (zkVM `COMMIT`).
    pub fn public_values(&self) -> &[u8] {
        &self.public_values
    }

    /// Bytes the guest wrote to fd 1 (empty when `echo_output` sent them to the host instead).
    pub fn stdout(&self) -> &[u8] {
        &self.stdout
    }

    /// Bytes the guest wrote to fd 2 (empty when `echo_output` sent them to the host instead).
    pub fn stderr(&self) -> &[u8] {
        &self.stderr
    }

    /// Bytes the guest sent to the hint-output channel (zkVM `HINT_WRITE`).
    pub fn hint_output(&self) -> &[u8] {
        &self.hint_output
    }

    /// The exit code, once the guest has stopped through a syscall.
    pub fn exit_code(&self) -> Option<u32> {
        self.exit_code
    }

    /// The current program break.
    pub fn brk(&self) -> u32 {
        self.brk
    }

    /// The lowest address handed out by anonymous `mmap` so far (`layout::MMAP_TOP` if none).
    pub fn mmap_low(&self) -> u32 {
        self.mmap_low
    }

    /// How many input-stream items the guest has not consumed yet.
    pub fn inputs_remaining(&self) -> usize {
        self.inputs.len() - self.next_input
    }

    /// How many hint-stream items the guest has not consumed yet.
    pub fn hints_remaining(&self) -> usize {
        self.hints.len() - self.next_hint
    }

    /// How many times each syscall number was served (successfully or with an errno).
    pub fn syscall_counts(&self) -> &std::collections::BTreeMap<u32, u64> {
        &self.counts
    }

    /// Sends guest output for `fd` (1 or 2) to the host or the capture buffer. Host write errors (a closed
    /// pipe, say) are ignored: what the guest observes must not depend on the host.
    fn emit(&mut self, fd: u32, bytes: &[u8]) {
        match (self.echo_output, fd) {
            (true, 1) => {
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(bytes);
                let _ = out.flush();
            }
            (true, _) => {
                let mut err = std::io::stderr().lock();
                let _ = err.write_all(bytes);
                let _ = err.flush();
            }
            (false, 1) => self.stdout.extend_from_slice(bytes),
            (false, _) => self.stderr.extend_from_slice(bytes),
        }
    }
}

/// Serves the `syscall` instruction at `ctx.pc()`: number in `$v0`, arguments in `$a0..$a3` and (Linux
/// only) on the stack, results written back to the registers.
pub fn dispatch(
    ctx: &mut impl GuestContext,
    state: &mut SyscallState,
) -> Result<SyscallOutcome, ExecError> {
    let number = ctx.reg(reg::V0);
    let outcome = if zkvm::is_zkvm_service(number) {
        zkvm::dispatch(ctx, state, number)?
    } else if linux::is_linux_syscall(number) {
        linux::dispatch(ctx, state, number)?
    } else {
        return Err(ExecError::UnknownSyscall {
            pc: ctx.pc(),
            number,
        });
    };
    *state.counts.entry(number).or_insert(0) += 1;
    if let SyscallOutcome::Exit(code) = outcome {
        state.exit_code = Some(code);
    }
    Ok(outcome)
}

/// Rounds `value` up to a page boundary; `None` if that overflows 32 bits.
fn page_align_up(value: u32) -> Option<u32> {
    value
        .checked_add(layout::PAGE_SIZE - 1)
        .map(|v| v & !(layout::PAGE_SIZE - 1))
}

/// Guest buffers are moved through the context in pieces of this size, so a huge length from the guest
/// never turns into a huge host allocation before the first bad address is found.
const CHUNK: u32 = 64 * 1024;

/// The `BadSyscall` error for the syscall being served.
fn bad_syscall(ctx: &impl GuestContext, number: u32, reason: String) -> ExecError {
    ExecError::BadSyscall {
        pc: ctx.pc(),
        number,
        reason,
    }
}
