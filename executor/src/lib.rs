//! The zkmips executor: loads a little-endian MIPS32r2 ELF, runs it instruction by instruction (delay slots
//! included), and in tracing mode records the events the prover turns into traces, cut into shards.

pub mod context;
pub mod elf;
pub mod error;
pub mod instruction;
pub mod syscalls;

pub use error::{ExecError, TrapKind};
