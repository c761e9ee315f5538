//! The EVM shape of a run: one shard with fixed tables and heights, which the recursion path
//! of `zkmips prove --evm` proves under the inner configuration, verifies in its compress
//! program and wraps for the EVM (docs/RECURSION.md §0).
//!
//! Until recursion aggregates the shard proofs of long runs (docs/RECURSION.md §2.2),
//! `zkmips prove --evm` proves a run that fits in a single shard of [`EVM_SHAPE`], so that one
//! recursion chain and one Groth16 circuit (hence one Solidity verifier) serve every program
//! that fits it. It differs from a shard proof of [`crate::machine`] in three ways:
//! - **Self-contained memory.** The initial image (registers, segments, initial stack, the public
//!   digest words) is a per-program preprocessed table ([`MemoryImageChip`]) and the touched
//!   locations with their final values a main table proven sorted and consistent with it
//!   ([`MemoryFinalChip`]). The preprocessed commitment therefore depends on the program alone,
//!   and nothing per run has to be committed by the verifier.
//! - **Fixed heights.** Every table is padded to the height [`EVM_SHAPE`] gives it (inert all-zero
//!   rows), so the proof's shape is the same for every program and run; a run that does not fit
//!   is refused, naming the table.
//! - **No keccak chip** (2,779 columns, left out of the shape). A run using the keccak
//!   precompile is refused.
//!
//! # The statement
//! [`EvmVkey`] = `compress(pack(C), entry)` ([`compressed_vkey_of`]) with the outer
//! Poseidon2-BN254 compression, `C` the inner commitment to the fixed tables under the compress
//! settings. It binds the code (program table), the initial memory (image table, which also
//! fixes where the exit code and digest are read) and the entry point. A valid proof under it
//! says: from the entry, the program runs to HALT with exit code 0, and its public-values
//! digest (SHA-256 of the committed bytes, published by the guest at [`PUBLIC_DIGEST_ADDR`]) is
//! the one in the image table's public values.

use p3_batch_stark::ProverData;
use p3_bn254::Bn254;
use p3_field::{PrimeCharacteristicRing, PrimeField};
use p3_symmetric::PseudoCompressionFunction;
use sha2::{Digest, Sha256};
use thiserror::Error;
use zkmips_abi::layout::PUBLIC_DIGEST_ADDR;
use zkmips_abi::syscall::{HALT, KECCAK_PERMUTE};
use zkmips_executor::{Executor, Program, Shard};

use crate::batch::Table;
use crate::chips::memory::boundary_entries;
use crate::chips::memory_final::MemoryFinalChip;
use crate::chips::memory_image::{
    ImageEntry, MemoryImageChip, PUBLIC_WORDS, encode_public_words, image_entries,
};
use crate::chips::{ByteChip, ByteCounts, MipsAir, ProgramChip, TraceError};
use crate::config::FriSettings;
use crate::config::Val;
use crate::machine::{executor_config, instruction_airs, instruction_traces};
use crate::outer::{OuterCompress, outer_perm};

/// Version of the EVM statement (tables, shape, public values, vkey derivation); part of the
/// Groth16 circuit's name, so a change forces new keys and a new Solidity verifier.
pub const EVM_STATEMENT_VERSION: u32 = 1;

/// The fixed `log2` height of every table of an EVM proof, in [`EvmProgram::airs`] order. A run
/// fits if it takes at most 16,383 instructions, its program's image (code, data, the initial
/// stack block and 43 registers and digest words) plus the fresh locations it touches fit in
/// 16,384 rows, and its instruction mix fits each chip (sized for its share of a typical run); a
/// run that does not fit is refused, naming the table.
pub const EVM_SHAPE: [(&str, usize); 15] = [
    ("Cpu", 14),
    ("Program", 14),
    ("AddSub", 13),
    ("Bitwise", 13),
    ("Shift", 12),
    ("Lt", 12),
    ("AluExtra", 9),
    ("MulDiv", 9),
    ("Branch", 12),
    ("LoadStore", 12),
    ("Syscall", 6),
    ("SyscallMemory", 9),
    ("MemoryImage", 14),
    ("MemoryFinal", 14),
    ("Byte", 16),
];

/// Instance index of the CPU (public values: [`crate::chips::cpu::CpuPublicValues::to_field`]).
pub const CPU_INSTANCE: usize = 0;
/// Instance index of the image table (public values: exit code and digest words as limbs).
pub const IMAGE_INSTANCE: usize = 12;
/// The keccak chip's place among the instruction traces (left out of EVM proofs).
const KECCAK_TRACE: usize = 12;

/// The program key of EVM proofs: a BN254 scalar, big-endian (the contract's `bytes32`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct EvmVkey(pub [u8; 32]);

impl EvmVkey {
    pub fn to_hex(&self) -> String {
        format!("0x{}", hex(&self.0))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Debug, Error)]
pub enum EvmError {
    #[error("invalid program: {0}")]
    Program(String),
    #[error("execution failed: {0}")]
    Execution(#[from] zkmips_executor::ExecError),
    #[error(transparent)]
    Machine(#[from] crate::machine::MachineError),
    #[error(
        "the run takes more than {max} instructions; `prove --evm` proves single-shard runs (up to {max} instructions) until shard aggregation lands"
    )]
    TooLong { max: u64 },
    #[error(
        "the {chip} table needs {rows} rows, the EVM proof shape allows {limit}: the run is too large for `prove --evm` until shard aggregation lands"
    )]
    TooLarge {
        chip: &'static str,
        rows: usize,
        limit: usize,
    },
    #[error(
        "the run uses the keccak precompile (syscall {KECCAK_PERMUTE:#x} at pc {pc:#010x}), which EVM proofs do not cover yet"
    )]
    Keccak { pc: u32 },
    #[error("the EVM statement requires exit code 0; the run exited with {0}")]
    ExitCode(u32),
    #[error("trace generation failed: {0}")]
    Trace(#[from] TraceError),
}

/// A program prepared for EVM proofs: its fixed tables at the [`EVM_SHAPE`] heights.
#[derive(Clone, Debug)]
pub struct EvmProgram {
    program: Program,
    program_chip: ProgramChip,
    image: MemoryImageChip,
}

fn height_of(chip: &str) -> usize {
    let (_, log) = EVM_SHAPE
        .iter()
        .find(|(name, _)| *name == chip)
        .expect("every EVM chip has a height");
    1 << log
}

impl EvmProgram {
    pub fn new(program: Program) -> Result<Self, EvmError> {
        let program_error = |e: String| EvmError::Program(e);
        let program_chip = ProgramChip::new(&program)
            .and_then(|chip| chip.with_height(height_of("Program")))
            .map_err(|e| program_error(e.to_string()))?;
        let entries = image_entries(&program).map_err(|e| program_error(e.to_string()))?;
        let image = MemoryImageChip::new(entries, height_of("MemoryImage"))
            .map_err(|e| program_error(e.to_string()))?;
        Ok(Self {
            program,
            program_chip,
            image,
        })
    }

    pub fn program(&self) -> &Program {
        &self.program
    }

    pub fn from_elf(elf: &[u8]) -> Result<Self, EvmError> {
        Self::new(Program::from_elf(elf).map_err(|e| EvmError::Program(e.to_string()))?)
    }

    pub fn image(&self) -> &[ImageEntry] {
        self.image.entries()
    }

    /// The chips of an EVM proof, in proving order.
    pub fn airs(&self) -> Vec<MipsAir> {
        let mut airs = instruction_airs(&self.program_chip);
        airs.extend([
            MipsAir::MemoryImage(self.image.clone()),
            MipsAir::MemoryFinal(MemoryFinalChip),
            MipsAir::Byte(ByteChip),
        ]);
        airs
    }

    /// The root of the *inner* commitment to the fixed tables under
    /// `inner_config_with(settings)`: what the recursion program verifying this program's
    /// shard proofs exposes (`zkmips_recursion::mips`).
    pub fn inner_preprocessed_commitment(
        &self,
        settings: &FriSettings,
    ) -> Result<[Val; 8], EvmError> {
        let config = crate::config::inner_config_with(settings);
        let data = ProverData::from_airs_and_degrees(&config, &self.airs(), &degree_bits())
            .map_err(|e| EvmError::Program(format!("fixed tables: {e}")))?;
        let global = data
            .common
            .preprocessed
            .ok_or_else(|| EvmError::Program("no fixed tables".into()))?;
        Ok(global.commitment[0])
    }

    /// The programVKey of the compressed EVM path: [`compressed_vkey_of`] the inner commitment
    /// under `settings` (the compress layer's) and the entry point.
    pub fn compressed_vkey(&self, settings: &FriSettings) -> Result<EvmVkey, EvmError> {
        Ok(compressed_vkey_of(
            &self.inner_preprocessed_commitment(settings)?,
            self.program.entry,
        ))
    }
}

/// `log2` heights of the EVM shape, in [`evm_airs`](EvmProgram::airs) order.
pub fn degree_bits() -> Vec<usize> {
    EVM_SHAPE.iter().map(|&(_, log)| log).collect()
}

/// The programVKey of the compressed EVM path: `compress(pack(C), entry)` with the outer
/// Poseidon2 compression, `C` the 8-element inner commitment root packed into one BN254 element
/// as `Σ C_i · 2^(31 i)` (248 bits: injective on canonical values).
pub fn compressed_vkey_of(commitment: &[Val; 8], entry: u32) -> EvmVkey {
    use p3_field::PrimeField32;
    let mut packed = Bn254::ZERO;
    let mut weight = Bn254::ONE;
    let shift = Bn254::from_u64(1 << 31);
    for value in commitment {
        packed += weight * Bn254::from_u32(value.as_canonical_u32());
        weight *= shift;
    }
    evm_vkey_of(packed, entry)
}

/// [`EvmVkey`] from a (packed) preprocessed commitment and the entry point.
pub fn evm_vkey_of(preprocessed: Bn254, entry: u32) -> EvmVkey {
    let compress = OuterCompress::new(outer_perm());
    let [key] = compress.compress([[preprocessed], [Bn254::from_u32(entry)]]);
    let bytes = key.as_canonical_biguint().to_bytes_be();
    let mut out = [0u8; 32];
    out[32 - bytes.len()..].copy_from_slice(&bytes);
    EvmVkey(out)
}

/// The image table's public values: exit code and digest words, as limbs.
pub fn image_public_values(exit_code: u32, digest: &[u8; 32]) -> Vec<Val> {
    let words: [u32; PUBLIC_WORDS] = crate::chips::memory_image::public_words(exit_code, digest);
    encode_public_words(&words)
}

/// Pads `trace` to its EVM height with all-zero rows: inert padding for every chip but the CPU,
/// whose trace is generated at its EVM height instead.
fn pad(
    trace: &mut p3_matrix::dense::RowMajorMatrix<Val>,
    chip: &'static str,
) -> Result<(), EvmError> {
    let limit = height_of(chip);
    let rows = trace.values.len() / trace.width;
    if rows > limit {
        return Err(EvmError::TooLarge { chip, rows, limit });
    }
    trace.values.resize(limit * trace.width, Val::ZERO);
    Ok(())
}

/// The tables of an EVM proof of `shard` (a whole run).
fn evm_tables(program: &EvmProgram, shard: &Shard) -> Result<Vec<Table<MipsAir, Val>>, EvmError> {
    if let Some(event) = shard.syscall.iter().find(|s| s.number == KECCAK_PERMUTE) {
        return Err(EvmError::Keccak { pc: event.pc });
    }
    let mut bytes = ByteCounts::new();
    let (mut traces, cpu) =
        instruction_traces(&program.program_chip, shard, height_of("Cpu"), &mut bytes)?;
    traces.truncate(KECCAK_TRACE);
    let touched = boundary_entries(shard).map_err(TraceError::from)?;
    let rows = MemoryFinalChip::rows(program.image.entries(), &touched)?;
    let finals = program.image.finals(&rows)?;
    let image_words = program.image.public_words_of(&finals)?;
    traces.push(program.image.generate_trace(&finals)?);
    let final_rows = rows.len();
    let final_limit = height_of("MemoryFinal");
    if final_rows > final_limit {
        return Err(EvmError::TooLarge {
            chip: "MemoryFinal",
            rows: final_rows,
            limit: final_limit,
        });
    }
    traces.push(MemoryFinalChip.generate_trace(&rows, final_limit, &mut bytes)?);
    traces.push(ByteChip.generate_trace(&bytes));
    let airs = program.airs();
    let mut tables = Vec::with_capacity(airs.len());
    for (index, (air, mut trace)) in airs.into_iter().zip(traces).enumerate() {
        let chip = EVM_SHAPE[index].0;
        // Zero rows are inert only for chips that never read the next row; the others are
        // generated at their EVM height.
        let reads_next = !p3_air::BaseAir::<Val>::main_next_row_columns(&air).is_empty();
        if reads_next && trace.values.len() / trace.width != height_of(chip) {
            return Err(EvmError::Program(format!(
                "internal: the {chip} table was not generated at its EVM height"
            )));
        }
        pad(&mut trace, chip)?;
        let public_values = match index {
            CPU_INSTANCE => cpu.to_field(),
            IMAGE_INSTANCE => encode_public_words(&image_words),
            _ => Vec::new(),
        };
        tables.push(Table {
            air,
            trace,
            public_values,
        });
    }
    Ok(tables)
}

/// The tables of an EVM proof, in [`EvmProgram::airs`] order.
pub type EvmTables = Vec<Table<MipsAir, Val>>;

/// Runs `program` on `inputs`/`hints`, checks the run is in the EVM statement (one shard,
/// halts with exit code 0, digest published, no keccak) and returns the tables of its EVM
/// proof with the committed bytes. Any configuration can prove them (the recursion verifies
/// them proven under the inner one).
pub fn evm_run_tables(
    program: &EvmProgram,
    inputs: Vec<Vec<u8>>,
    hints: Vec<Vec<u8>>,
) -> Result<(EvmTables, Vec<u8>), EvmError> {
    let max_cycles = (height_of("Cpu") - 1) as u64;
    let mut config = executor_config(inputs, hints, max_cycles);
    // A run that does not halt within one shard is refused, not executed forever.
    config.max_cycles = Some(max_cycles + 1);
    let mut executor = Executor::new(&program.program, config)?;
    let report = match executor.run() {
        Err(zkmips_executor::ExecError::CycleLimit { .. }) => {
            return Err(EvmError::TooLong { max: max_cycles });
        }
        other => other?,
    };
    let shards = report.record.map(|r| r.shards).unwrap_or_default();
    if shards.len() != 1 {
        return Err(EvmError::TooLong { max: max_cycles });
    }
    let shard = &shards[0];
    if let Some(event) = shard.syscall.iter().find(|s| s.number == KECCAK_PERMUTE) {
        return Err(EvmError::Keccak { pc: event.pc });
    }
    crate::machine::check_provable(&program.program_chip, &shards)?;
    crate::machine::check_no_code_access(&program.program, &shards)?;
    let halted = shard
        .syscall
        .last()
        .is_some_and(|s| s.number == HALT && s.exit.is_some());
    if !halted {
        return Err(crate::machine::MachineError::NoHalt.into());
    }
    if report.exit_code != 0 {
        return Err(EvmError::ExitCode(report.exit_code));
    }
    let expected: [u8; 32] = Sha256::digest(&report.public_values).into();
    let mut found = [0u8; 32];
    for (i, byte) in found.iter_mut().enumerate() {
        *byte = executor.memory().peek_byte(PUBLIC_DIGEST_ADDR + i as u32);
    }
    if found != expected {
        return Err(crate::machine::MachineError::DigestNotPublished {
            expected: hex(&expected),
            found: hex(&found),
        }
        .into());
    }
    let tables = evm_tables(program, shard)?;
    Ok((tables, report.public_values))
}
