//! The zkmips executor: loads a little-endian MIPS32r2 ELF, runs it instruction by instruction (delay slots
//! included), and in tracing mode records the events the prover turns into traces, cut into shards.

pub mod context;
pub mod elf;
pub mod error;
pub mod events;
pub mod executor;
pub mod image;
pub mod instruction;
pub mod memory;
pub mod public_digest;
pub mod record;
pub mod syscalls;

pub use elf::{Program, Segment};
pub use error::{ExecError, TrapKind};
pub use events::{CpuEvent, MemoryAccess, MemoryEntry};
pub use executor::{
    DEFAULT_SHARD_CYCLES, ExecutionReport, Executor, ExecutorConfig, FpuUse, MAX_SHARD_CYCLES,
    Machine, Mode, ShardSink,
};
pub use instruction::{InstrClass, Instruction, Opcode, decode};
pub use memory::Memory;
pub use public_digest::{PublicDigestStatus, public_digest_status, published_public_digest};
pub use record::{CpuState, ExecutionRecord, Shard};
pub use syscalls::{SyscallConfig, SyscallState};
