//! The narrow interface the syscall layer sees of the machine. The executor implements it; in tracing mode
//! its memory methods record every access, so syscall handlers never deal with events themselves.

use crate::error::ExecError;

/// What a syscall handler can see of the machine.
pub trait GuestContext {
    /// The PC of the `syscall` instruction being served (for error messages).
    fn pc(&self) -> u32;
    /// Read general-purpose register `index` (0..=31; register 0 reads as 0).
    fn reg(&self, index: usize) -> u32;
    /// Write general-purpose register `index` (writes to register 0 are ignored).
    fn set_reg(&mut self, index: usize, value: u32);
    /// Read the aligned word at `addr`. Faults (bad address, misalignment) come back as `ExecError`.
    fn read_word(&mut self, addr: u32) -> Result<u32, ExecError>;
    /// Write the aligned word at `addr`.
    fn write_word(&mut self, addr: u32, value: u32) -> Result<(), ExecError>;
    /// Read `len` bytes starting at `addr` (any alignment).
    fn read_bytes(&mut self, addr: u32, len: u32) -> Result<Vec<u8>, ExecError>;
    /// Write `bytes` starting at `addr` (any alignment).
    fn write_bytes(&mut self, addr: u32, bytes: &[u8]) -> Result<(), ExecError>;
}
