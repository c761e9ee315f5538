//! Placeholder with the agreed interface; the syscall layer replaces it.
use crate::context::GuestContext;
use crate::error::ExecError;

#[derive(Clone, Debug, Default)]
pub struct SyscallConfig {
    pub stdin: Vec<u8>,
    pub inputs: Vec<Vec<u8>>,
    pub hints: Vec<Vec<u8>>,
    pub echo_output: bool,
}

#[derive(Clone, Debug, Default)]
pub struct SyscallState {
    thread_pointer: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyscallOutcome {
    Continue,
    Exit(u32),
}

impl SyscallState {
    pub fn new(_config: &SyscallConfig, _brk_start: u32) -> Self {
        Self::default()
    }
    pub fn thread_pointer(&self) -> u32 {
        self.thread_pointer
    }
}

pub fn dispatch(ctx: &mut impl GuestContext, _state: &mut SyscallState) -> Result<SyscallOutcome, ExecError> {
    let number = ctx.reg(2);
    match number {
        zkmips_abi::syscall::HALT => Ok(SyscallOutcome::Exit(ctx.reg(4))),
        _ => Err(ExecError::UnknownSyscall { pc: ctx.pc(), number }),
    }
}
