//! Every way a guest run can fail. Each variant names the program counter and, where there is one, the
//! instruction word, so a user can find the failing instruction with `objdump`.

use thiserror::Error;

/// Why a trap instruction stopped the machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum TrapKind {
    /// TEQ/TNE/TGE/TGEU/TLT/TLTU and their immediate forms; `code` is the 10-bit code field (0 for the
    /// immediate forms). gcc emits `teq divisor, $zero, 7` after every division.
    Conditional { code: u32 },
    /// BREAK with its 20-bit code.
    Break { code: u32 },
    /// Signed overflow in ADD, ADDI or SUB.
    IntegerOverflow,
}

impl core::fmt::Display for TrapKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            TrapKind::Conditional { code: 7 } => {
                write!(f, "conditional trap (code 7: division by zero)")
            }
            TrapKind::Conditional { code } => write!(f, "conditional trap (code {code})"),
            // Assemblers put `break N` in the upper 10 bits of the 20-bit field; show N like objdump does.
            TrapKind::Break { code } if code & 0x3ff == 0 => {
                write!(f, "break (code {})", code >> 10)
            }
            TrapKind::Break { code } => write!(f, "break (code {code})"),
            TrapKind::IntegerOverflow => write!(f, "integer overflow"),
        }
    }
}

/// An error that stops a guest run.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ExecError {
    #[error("invalid ELF: {0}")]
    Elf(#[from] crate::elf::ElfError),

    #[error("cannot build the initial stack: {0}")]
    InitialStack(#[from] crate::image::StackError),

    /// A word in the code that does not decode; `reason` is the decoder's explanation.
    #[error("unknown instruction {word:#010x} at pc {pc:#010x}: {reason}")]
    UnknownInstruction {
        pc: u32,
        word: u32,
        reason: &'static str,
    },

    #[error("unsupported instruction {word:#010x} at pc {pc:#010x}: {what}")]
    UnsupportedInstruction {
        pc: u32,
        word: u32,
        what: &'static str,
    },

    #[error(
        "branch or jump {word:#010x} at pc {pc:#010x} sits in the delay slot of another branch"
    )]
    BranchInDelaySlot { pc: u32, word: u32 },

    #[error(
        "misaligned {size}-byte access to {addr:#010x} by instruction {word:#010x} at pc {pc:#010x}"
    )]
    MisalignedAccess {
        pc: u32,
        word: u32,
        addr: u32,
        size: u32,
    },

    #[error(
        "access to {addr:#010x} outside guest memory by instruction {word:#010x} at pc {pc:#010x}"
    )]
    InvalidAddress { pc: u32, word: u32, addr: u32 },

    #[error(
        "write to code at {addr:#010x} by instruction {word:#010x} at pc {pc:#010x} (code is read-only)"
    )]
    WriteToCode { pc: u32, word: u32, addr: u32 },

    #[error("pc {pc:#010x} is not in an executable segment")]
    PcOutsideCode { pc: u32 },

    #[error("misaligned pc {pc:#010x}")]
    MisalignedPc { pc: u32 },

    #[error("{kind} at pc {pc:#010x} (instruction {word:#010x})")]
    Trap { pc: u32, word: u32, kind: TrapKind },

    #[error("cycle limit of {limit} reached at pc {pc:#010x}")]
    CycleLimit { pc: u32, limit: u64 },

    #[error("unknown syscall {number} ({number:#x}) at pc {pc:#010x}")]
    UnknownSyscall { pc: u32, number: u32 },

    #[error("syscall {number} ({number:#x}) at pc {pc:#010x} failed: {reason}")]
    BadSyscall {
        pc: u32,
        number: u32,
        reason: String,
    },
}

/// Shorthand for executor results.
pub type Result<T, E = ExecError> = core::result::Result<T, E>;
