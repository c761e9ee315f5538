//! Whole runs: every shard proven as one batch proof of the machine's chips, and a verifier that
//! checks each shard proof and chains the shards natively.
//!
//! # What a [`MachineProof`] proves
//! For the program whose ELF it carries (identified by its [`ProgramVkey`]), started from the
//! initial image (the ELF's segments, an initial stack built with no arguments and no environment,
//! registers zero except `$sp`), some sequence of instructions each of which follows MIPS32r2
//! semantics (as the executor implements them) runs until the HALT service, with inputs and
//! hints chosen by the prover; `exit_code` is `$a0` at HALT, and the SHA-256 of `public_values`
//! equals the digest the guest published at [`PUBLIC_DIGEST_ADDR`].
//!
//! # How shards are chained (verifier, natively)
//! - Shard 0 starts at the ELF entry (`pc = entry`, `next_pc = entry + 4`); shard `k + 1` starts
//!   where shard `k` ended (CPU public values); only the last shard ends with HALT.
//! - Memory: each shard's proof carries its memory interface (one entry per touched location:
//!   address, value before, value after, local time of the last access), committed as a
//!   preprocessed table the verifier builds itself ([`MemoryInterfaceChip`]). The verifier keeps
//!   the memory state, starting from the initial image, and requires every entry's value-before
//!   to equal the current value, then applies the values-after. Within a shard, the memory
//!   argument proves the accesses form chains from the interface's initial values to its final
//!   ones (`docs/MEMORY_ARGUMENT.md`), so together every read in the run returns the last value
//!   written. Registers are memory locations, so they chain the same way.
//! - A dropped, repeated or reordered shard breaks the pc chain or the memory chain.
//!
//! Each shard is an independent job ([`prove_shard`]: a [`Shard`] and the program in, a
//! [`ShardProof`] out, both serializable).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use p3_batch_stark::BatchProof;
use p3_matrix::dense::RowMajorMatrix;
use sha2::{Digest, Sha256};
use thiserror::Error;
use zkmips_abi::layout::{NULL_GUARD_END, PUBLIC_DIGEST_ADDR, PUBLIC_DIGEST_LEN, USER_END};
use zkmips_abi::syscall::HALT;
use zkmips_executor::events::NUM_REG_LOCATIONS;
use zkmips_executor::{ExecError, Executor, ExecutorConfig, Mode, Program, Shard, SyscallConfig};

use crate::batch::{self, Table};
use crate::buses::AluOp;
use crate::chips::alu_extra::AluExtraRow;
use crate::chips::cpu::CpuPublicValues;
use crate::chips::memory::{BoundaryEntry, boundary_entries};
use crate::chips::memory_interface::MemoryInterfaceChip;
use crate::chips::program::is_provable;
use crate::chips::{
    AddSubChip, AluExtraChip, AluRow, BitwiseChip, BranchChip, ByteChip, ByteCounts, CpuChip,
    KeccakChip, LoadStoreChip, LtChip, MipsAir, MulDivChip, ProgramChip, ShiftChip, SyscallChip,
    SyscallMemoryChip, TraceError, keccak, split_alu_rows, syscall,
};
use crate::config::{InnerConfig, Val, inner_config};
use crate::shard::executed_instructions;
use crate::vkey::{ProgramVkey, program_vkey};

/// Version of the [`MachineProof`] encoding; bumped on any change to it or to the chips.
pub const PROOF_VERSION: u32 = 1;

/// Default shard size of `zkmips prove`, in instructions.
pub const DEFAULT_SHARD_CYCLES: u64 = 1 << 19;

/// First bytes of a proof file.
pub const PROOF_MAGIC: &[u8; 8] = b"ZKMIPSPF";

/// The proof of one shard.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct ShardProof {
    pub cpu: CpuPublicValues,
    /// The shard's memory interface (see the module docs).
    pub interface: Vec<BoundaryEntry>,
    pub proof: BatchProof<InnerConfig>,
}

/// The proof of a whole run.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct MachineProof {
    pub vkey: ProgramVkey,
    /// The program's ELF file (the verifier rebuilds the program table and image from it and
    /// checks it against the vkey).
    pub elf: Vec<u8>,
    pub exit_code: u32,
    pub public_values: Vec<u8>,
    pub shards: Vec<ShardProof>,
}

/// What a verified proof establishes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedRun {
    pub vkey: ProgramVkey,
    pub exit_code: u32,
    pub public_values: Vec<u8>,
    pub cycles: u64,
    pub shards: usize,
}

#[derive(Debug, Error)]
pub enum MachineError {
    #[error("invalid program: {0}")]
    Program(String),
    #[error("execution failed: {0}")]
    Execution(#[from] ExecError),
    #[error(
        "the run is not provable: `{instruction}` at pc {pc:#010x} (cycle {cycle}) is not covered by the prover"
    )]
    Unprovable {
        pc: u32,
        cycle: u64,
        instruction: String,
    },
    #[error("the run is not provable: it did not end with the HALT service")]
    NoHalt,
    #[error(
        "the run is not provable: the instruction at pc {pc:#010x} (cycle {cycle}) accesses {addr:#010x}, inside an executable segment (code is not data to the prover: link read-only data outside the text segment)"
    )]
    CodeAccess { pc: u32, cycle: u64, addr: u32 },
    #[error(
        "the guest did not publish the SHA-256 of its public values at {PUBLIC_DIGEST_ADDR:#x} before HALT (build it with the zkmips SDK): expected {expected}, found {found}"
    )]
    DigestNotPublished { expected: String, found: String },
    #[error("shard {shard}: {source}")]
    Trace { shard: u32, source: TraceError },
    #[error("shard {shard}: {source}")]
    Prove {
        shard: u32,
        source: batch::ProveError,
    },
}

#[derive(Debug, Error)]
pub enum MachineVerifyError {
    #[error("the proof's ELF is not a valid program: {0}")]
    Program(String),
    #[error("the proof is for program {proof}, expected {expected}")]
    WrongProgram { proof: String, expected: String },
    #[error("the proof has no shard")]
    NoShards,
    #[error("shard {shard}: {reason}")]
    Chain { shard: usize, reason: String },
    #[error("shard {shard}: {source}")]
    Shard {
        shard: usize,
        source: batch::VerifyError,
    },
    #[error("the proven run did not halt")]
    NotHalted,
    #[error("the public values do not match the digest the guest published")]
    PublicValues,
    #[error("the exit code is {proven}, the proof file claims {claimed}")]
    ExitCode { proven: u32, claimed: u32 },
}

/// The executor configuration of a provable run: tracing, no arguments, no environment (the
/// verifier rebuilds the same initial image).
pub fn executor_config(
    inputs: Vec<Vec<u8>>,
    hints: Vec<Vec<u8>>,
    shard_cycles: u64,
) -> ExecutorConfig {
    ExecutorConfig {
        mode: Mode::Tracing,
        shard_cycles,
        syscalls: SyscallConfig {
            inputs,
            hints,
            ..SyscallConfig::default()
        },
        count_opcodes: false,
        ..ExecutorConfig::default()
    }
}

/// The chips of a shard proof, in proving order.
pub fn shard_airs(program: &ProgramChip, interface: MemoryInterfaceChip) -> Vec<MipsAir> {
    let mut airs = instruction_airs(program);
    airs.extend([
        MipsAir::Keccak(KeccakChip),
        MipsAir::MemoryInterface(interface),
        MipsAir::Byte(ByteChip),
    ]);
    airs
}

/// The chips that prove instructions (without precompiles), from the CPU to the syscall memory
/// chip: the first chips of every proof, in order.
pub(crate) fn instruction_airs(program: &ProgramChip) -> Vec<MipsAir> {
    vec![
        MipsAir::Cpu(CpuChip),
        MipsAir::Program(program.clone()),
        MipsAir::AddSub(AddSubChip),
        MipsAir::Bitwise(BitwiseChip),
        MipsAir::Shift(ShiftChip),
        MipsAir::Lt(LtChip),
        MipsAir::AluExtra(AluExtraChip),
        MipsAir::MulDiv(MulDivChip),
        MipsAir::Branch(BranchChip),
        MipsAir::LoadStore(LoadStoreChip),
        MipsAir::Syscall(SyscallChip),
        MipsAir::SyscallMemory(SyscallMemoryChip),
    ]
}

/// A shard's tables in [`shard_airs`] order, its CPU public values and its memory interface.
pub type ShardTables = (
    Vec<Table<MipsAir, Val>>,
    CpuPublicValues,
    Vec<BoundaryEntry>,
);

/// The traces of the chips that prove instructions, in [`shard_airs`] order from the CPU to the
/// keccak chip, and the CPU's public values; their byte lookups are added to `bytes`.
/// `cpu_height` is the CPU table's minimum height (0: the smallest that fits).
pub(crate) fn instruction_traces(
    program: &ProgramChip,
    shard: &Shard,
    cpu_height: usize,
    bytes: &mut ByteCounts,
) -> Result<(Vec<RowMajorMatrix<Val>>, CpuPublicValues), TraceError> {
    let executed = executed_instructions(shard, program)?;
    let final_state = shard.final_state.ok_or(TraceError::EmptyShard)?;
    let cpu = CpuChip.generate_trace_with_height::<Val>(
        &executed,
        (final_state.pc, final_state.next_pc),
        cpu_height,
        bytes,
    )?;
    let pcs: Vec<u32> = executed.iter().map(|e| e.pc).collect();
    let program_trace = program.generate_trace(&pcs)?;

    // The ALU requests: the CPU's, split between the basic chips and the extra one, plus those
    // the branch and extra chips send themselves.
    let mut basic = Vec::new();
    let mut extra = Vec::new();
    for request in &cpu.alu_requests {
        if AluOp::BASIC.contains(&request.op) {
            basic.push(AluRow {
                opcode: request.op,
                a: request.a,
                b: request.b,
                c: request.c,
            });
        } else {
            extra.push(
                AluExtraRow::new(request.op, request.b, request.c, request.d).ok_or_else(|| {
                    TraceError::Instruction {
                        chip: "AluExtra",
                        clk: 0,
                        pc: 0,
                        word: 0,
                        reason: format!("{request:?} has no result"),
                    }
                })?,
            );
        }
    }
    let branch_rows = BranchChip::rows(&executed)?;
    basic.extend(BranchChip::requests(&branch_rows));
    basic.extend(AluExtraChip::requests(&extra));
    let muldiv_rows = MulDivChip::rows(&executed)?;
    let load_store_rows = LoadStoreChip::rows(&executed)?;
    let syscall_rows = syscall::rows(&executed)?;

    let alu_extra = AluExtraChip.generate_trace(&extra, bytes)?;
    let branch = BranchChip.generate_trace(&branch_rows, bytes)?;
    let muldiv = MulDivChip.generate_trace(&muldiv_rows, bytes)?;
    let load_store = LoadStoreChip.generate_trace(&load_store_rows, bytes)?;
    let syscalls = SyscallChip.generate_trace(&syscall_rows, bytes)?;
    let syscall_memory = SyscallMemoryChip.generate_trace(&syscall_rows, bytes)?;
    let keccak = KeccakChip.generate_trace(&keccak::rows(&executed)?, bytes)?;
    let [add_sub, bitwise, shift, lt] = split_alu_rows(&basic);
    let add_sub = AddSubChip.generate_trace(&add_sub, bytes)?;
    let bitwise = BitwiseChip.generate_trace(&bitwise, bytes)?;
    let shift = ShiftChip.generate_trace(&shift, bytes)?;
    let lt = LtChip.generate_trace(&lt, bytes)?;
    let traces = vec![
        cpu.trace,
        program_trace,
        add_sub,
        bitwise,
        shift,
        lt,
        alu_extra,
        muldiv,
        branch,
        load_store,
        syscalls,
        syscall_memory,
        keccak,
    ];
    Ok((traces, cpu.public_values))
}

/// The traces of every chip of `shard`, in [`shard_airs`] order, the CPU's public values and the
/// shard's memory interface.
pub fn shard_tables(program: &ProgramChip, shard: &Shard) -> Result<ShardTables, TraceError> {
    let mut bytes = ByteCounts::new();
    let (mut traces, public_values) = instruction_traces(program, shard, 0, &mut bytes)?;
    let interface = boundary_entries(shard)?;
    let interface_chip = MemoryInterfaceChip::new(interface.clone());
    traces.push(interface_chip.generate_trace());
    traces.push(ByteChip.generate_trace(&bytes));
    let airs = shard_airs(program, interface_chip);
    let tables = airs
        .into_iter()
        .zip(traces)
        .enumerate()
        .map(|(index, (air, trace))| Table {
            air,
            trace,
            public_values: if index == 0 {
                public_values.to_field()
            } else {
                vec![]
            },
        })
        .collect();
    Ok((tables, public_values, interface))
}

/// Proves one shard of a run of `program`.
pub fn prove_shard(
    config: &InnerConfig,
    program: &ProgramChip,
    shard: &Shard,
) -> Result<ShardProof, MachineError> {
    prove_shard_with_shape(config, program, shard).map(|(proof, _)| proof)
}

/// [`prove_shard`], also returning the shape of every chip's trace.
pub fn prove_shard_with_shape(
    config: &InnerConfig,
    program: &ProgramChip,
    shard: &Shard,
) -> Result<(ShardProof, Vec<ChipShape>), MachineError> {
    let (tables, cpu, interface) =
        shard_tables(program, shard).map_err(|source| MachineError::Trace {
            shard: shard.index,
            source,
        })?;
    let shape = shard_shape(&tables);
    let proof = batch::prove(config, &tables).map_err(|source| MachineError::Prove {
        shard: shard.index,
        source,
    })?;
    Ok((
        ShardProof {
            cpu,
            interface,
            proof,
        },
        shape,
    ))
}

/// Refuses a run the prover cannot cover, naming the first offending instruction, before any
/// proving work.
pub fn check_provable(program: &ProgramChip, shards: &[Shard]) -> Result<(), MachineError> {
    for shard in shards {
        for (index, event) in shard.cpu.iter().enumerate() {
            let cycle = shard.clk_of(index);
            let unprovable = |instruction: String| MachineError::Unprovable {
                pc: event.pc,
                cycle,
                instruction,
            };
            match program.instruction_at(event.pc) {
                Some(instruction) if !is_provable(instruction.opcode) => {
                    return Err(unprovable(instruction.disassemble(event.pc)));
                }
                None => return Err(unprovable(format!("the word at {:#010x}", event.pc))),
                Some(_) => {}
            }
        }
        for event in &shard.syscall {
            if syscall::Service::from_number(event.number).is_none() {
                let index = (event.clk - shard.first_clk()) as usize;
                let pc = shard.cpu.get(index).map_or(event.pc, |e| e.pc);
                return Err(MachineError::Unprovable {
                    pc,
                    cycle: event.clk,
                    instruction: format!(
                        "syscall {} ({:#x})",
                        syscall::syscall_name(event.number),
                        event.number
                    ),
                });
            }
        }
    }
    Ok(())
}

/// Size of one chip's trace in a shard proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChipShape {
    pub name: &'static str,
    pub height: usize,
    pub main_width: usize,
    pub preprocessed_width: usize,
    /// Base-field columns of the LogUp (permutation) trace: one extension-field column (4 base
    /// columns) per bus interaction.
    pub logup_width: usize,
}

/// The shape of every chip of a shard's tables.
pub fn shard_shape(tables: &[Table<MipsAir, Val>]) -> Vec<ChipShape> {
    use p3_air::BaseAir;
    use p3_field::BasedVectorSpace;
    use p3_matrix::Matrix;
    tables
        .iter()
        .map(|table| ChipShape {
            name: table.air.name(),
            height: table.trace.height(),
            main_width: table.trace.width(),
            preprocessed_width: <MipsAir as BaseAir<Val>>::preprocessed_width(&table.air),
            logup_width: p3_lookup::Lookups::<Val>::from_air::<crate::config::Challenge, _>(
                &table.air,
            )
            .to_vec()
            .len()
                * <crate::config::Challenge as BasedVectorSpace<Val>>::DIMENSION,
        })
        .collect()
}

/// Whether `addr` lies in an executable segment of `program`.
fn is_code(program: &Program, addr: u32) -> bool {
    program
        .segments
        .iter()
        .any(|s| s.executable && u64::from(addr) >= u64::from(s.vaddr) && u64::from(addr) < s.end())
}

/// Refuses a run that reads or writes memory inside an executable segment (the verifier rejects
/// such a memory interface; see `docs/MEMORY_ARGUMENT.md`), naming the first instruction that does.
pub fn check_no_code_access(program: &Program, shards: &[Shard]) -> Result<(), MachineError> {
    for shard in shards {
        let Some(entry) = shard.memory_init.iter().find(|e| is_code(program, e.addr)) else {
            continue;
        };
        let first = shard.accesses.iter().find(|a| a.addr == entry.addr);
        let index = first.map_or(0, |a| {
            (u64::from(a.timestamp) / zkmips_executor::events::SLOTS_PER_CYCLE).saturating_sub(1)
                as usize
        });
        return Err(MachineError::CodeAccess {
            pc: shard.cpu.get(index).map_or(0, |e| e.pc),
            cycle: shard.clk_of(index),
            addr: entry.addr,
        });
    }
    Ok(())
}

/// Timings and shapes of [`prove_run`].
#[derive(Clone, Debug, Default)]
pub struct ProveTimings {
    pub execute: Duration,
    pub shards: Vec<Duration>,
    /// Per shard: every chip's trace shape.
    pub shapes: Vec<Vec<ChipShape>>,
}

/// Runs `elf` on `inputs`/`hints`, cut into shards of at most `shard_cycles` instructions, and
/// proves every shard. The executor may extend a shard by one instruction so as not to split a
/// delay slot, so it is asked for one less: a power-of-two `shard_cycles` then always fits a CPU
/// table of that height instead of spilling into one twice as tall.
/// `on_shard(done, total)` is called after each shard proof.
pub fn prove_run(
    elf: &[u8],
    inputs: Vec<Vec<u8>>,
    hints: Vec<Vec<u8>>,
    shard_cycles: u64,
    mut on_shard: impl FnMut(usize, usize),
) -> Result<(MachineProof, ProveTimings), MachineError> {
    let program = Program::from_elf(elf).map_err(|e| MachineError::Program(e.to_string()))?;
    let config = inner_config();
    let vkey = program_vkey(&config, &program).map_err(|e| MachineError::Program(e.to_string()))?;
    let program_chip =
        ProgramChip::new(&program).map_err(|e| MachineError::Program(e.to_string()))?;
    let start = Instant::now();
    let cut = shard_cycles.saturating_sub(1).max(1);
    let mut executor = Executor::new(&program, executor_config(inputs, hints, cut))?;
    let report = executor.run()?;
    let shards = report.record.map(|r| r.shards).unwrap_or_default();
    let execute = start.elapsed();
    check_provable(&program_chip, &shards)?;
    check_no_code_access(&program, &shards)?;
    let halted = shards
        .last()
        .and_then(|s| s.syscall.last())
        .is_some_and(|s| s.number == HALT && s.exit.is_some());
    if !halted {
        return Err(MachineError::NoHalt);
    }
    let expected = Sha256::digest(&report.public_values);
    let mut found = [0u8; 32];
    for (i, byte) in found.iter_mut().enumerate() {
        *byte = executor.memory().peek_byte(PUBLIC_DIGEST_ADDR + i as u32);
    }
    if found[..] != expected[..] {
        return Err(MachineError::DigestNotPublished {
            expected: hex(&expected),
            found: hex(&found),
        });
    }

    let mut proofs = Vec::with_capacity(shards.len());
    let mut timings = ProveTimings {
        execute,
        ..ProveTimings::default()
    };
    for shard in &shards {
        let start = Instant::now();
        let (proof, shape) = prove_shard_with_shape(&config, &program_chip, shard)?;
        proofs.push(proof);
        timings.shards.push(start.elapsed());
        timings.shapes.push(shape);
        on_shard(proofs.len(), shards.len());
    }
    Ok((
        MachineProof {
            vkey,
            elf: elf.to_vec(),
            exit_code: report.exit_code,
            public_values: report.public_values,
            shards: proofs,
        },
        timings,
    ))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The initial value of every location: the ELF image, the initial stack, the registers.
struct InitialImage {
    executor: Executor,
}

impl InitialImage {
    fn new(program: &Program) -> Result<Self, MachineVerifyError> {
        let executor = Executor::new(program, executor_config(vec![], vec![], 1))
            .map_err(|e| MachineVerifyError::Program(e.to_string()))?;
        Ok(Self { executor })
    }

    /// The value of location `addr` before the run, or `None` if `addr` names no location.
    fn value(&self, addr: u32) -> Option<u32> {
        if (addr as usize) < NUM_REG_LOCATIONS {
            return Some(match addr {
                0..32 => self.executor.reg(addr as usize),
                _ => 0, // HI, LO and LLbit start at zero.
            });
        }
        (addr.is_multiple_of(4) && (NULL_GUARD_END..USER_END).contains(&addr))
            .then(|| self.executor.memory().peek_word(addr))
    }
}

/// Verifies `proof` against the program `elf` (whose vkey must be the proof's), returning what
/// the run established.
pub fn verify_run(
    proof: &MachineProof,
    expected_vkey: &ProgramVkey,
) -> Result<VerifiedRun, MachineVerifyError> {
    if proof.vkey != *expected_vkey {
        return Err(MachineVerifyError::WrongProgram {
            proof: proof.vkey.to_hex(),
            expected: expected_vkey.to_hex(),
        });
    }
    let program =
        Program::from_elf(&proof.elf).map_err(|e| MachineVerifyError::Program(e.to_string()))?;
    let config = inner_config();
    let vkey =
        program_vkey(&config, &program).map_err(|e| MachineVerifyError::Program(e.to_string()))?;
    if vkey != proof.vkey {
        return Err(MachineVerifyError::WrongProgram {
            proof: vkey.to_hex(),
            expected: proof.vkey.to_hex(),
        });
    }
    let program_chip =
        ProgramChip::new(&program).map_err(|e| MachineVerifyError::Program(e.to_string()))?;
    let image = InitialImage::new(&program)?;
    if proof.shards.is_empty() {
        return Err(MachineVerifyError::NoShards);
    }

    let mut memory: HashMap<u32, u32> = HashMap::new();
    let mut expected_state = (program.entry, program.entry.wrapping_add(4));
    let mut cycles = 0u64;
    for (index, shard) in proof.shards.iter().enumerate() {
        let chain = |reason: String| MachineVerifyError::Chain {
            shard: index,
            reason,
        };
        let cpu = &shard.cpu;
        let canonical = cpu.is_canonical(<Val as p3_field::PrimeField32>::ORDER_U32);
        if !canonical || cpu.cycles == 0 {
            return Err(chain(format!("non-canonical public values {cpu:?}")));
        }
        if (cpu.initial_pc, cpu.initial_next_pc) != expected_state {
            return Err(chain(format!(
                "starts at ({:#x}, {:#x}), the previous shard ended at ({:#x}, {:#x})",
                cpu.initial_pc, cpu.initial_next_pc, expected_state.0, expected_state.1
            )));
        }
        let last = index + 1 == proof.shards.len();
        if cpu.halted != last {
            return Err(if last {
                MachineVerifyError::NotHalted
            } else {
                chain("halts before the last shard".into())
            });
        }
        // The interface table itself can have at most 2^MAX_LOG_TRACE_HEIGHT rows; refuse a longer
        // list before building it (it could only cost memory).
        if shard.interface.len() > 1 << batch::MAX_LOG_TRACE_HEIGHT {
            return Err(chain(format!(
                "an interface of {} locations is larger than any shard can touch",
                shard.interface.len()
            )));
        }
        let mut seen = HashSet::with_capacity(shard.interface.len());
        for entry in &shard.interface {
            if !seen.insert(entry.addr) {
                return Err(chain(format!("location {:#x} appears twice", entry.addr)));
            }
            // Code is fixed by the program table; no proven access may touch it (a store there
            // faults in the executor).
            if is_code(&program, entry.addr) {
                return Err(chain(format!(
                    "location {:#x} is inside an executable segment",
                    entry.addr
                )));
            }
            let current = match memory.get(&entry.addr) {
                Some(&value) => value,
                None => image
                    .value(entry.addr)
                    .ok_or_else(|| chain(format!("{:#x} is not a location", entry.addr)))?,
            };
            if entry.init_value != current {
                return Err(chain(format!(
                    "location {:#x} starts at {:#x}, but holds {current:#x}",
                    entry.addr, entry.init_value
                )));
            }
        }
        let airs = shard_airs(
            &program_chip,
            MemoryInterfaceChip::new(shard.interface.clone()),
        );
        let mut public_values = vec![Vec::new(); airs.len()];
        public_values[0] = cpu.to_field();
        batch::verify(&config, &airs, &shard.proof, &public_values).map_err(|source| {
            MachineVerifyError::Shard {
                shard: index,
                source,
            }
        })?;
        for entry in &shard.interface {
            memory.insert(entry.addr, entry.final_value);
        }
        expected_state = (cpu.final_pc, cpu.final_next_pc);
        cycles += u64::from(cpu.cycles);
    }

    let value = |addr: u32| memory.get(&addr).copied().or_else(|| image.value(addr));
    let exit_code = value(4).expect("register 4 is a location");
    if exit_code != proof.exit_code {
        return Err(MachineVerifyError::ExitCode {
            proven: exit_code,
            claimed: proof.exit_code,
        });
    }
    let mut digest = Vec::with_capacity(PUBLIC_DIGEST_LEN as usize);
    for word in (0..PUBLIC_DIGEST_LEN).step_by(4) {
        let value = value(PUBLIC_DIGEST_ADDR + word).expect("the digest region is memory");
        digest.extend(value.to_le_bytes());
    }
    if digest[..] != Sha256::digest(&proof.public_values)[..] {
        return Err(MachineVerifyError::PublicValues);
    }
    Ok(VerifiedRun {
        vkey: proof.vkey,
        exit_code,
        public_values: proof.public_values.clone(),
        cycles,
        shards: proof.shards.len(),
    })
}

#[derive(Debug, Error)]
pub enum ProofFileError {
    #[error("not a zkmips proof file (bad magic bytes)")]
    Magic,
    #[error("proof file version {found}, this zkmips reads version {PROOF_VERSION}")]
    Version { found: u32 },
    #[error("corrupt proof file: {0}")]
    Decode(String),
    #[error("encoding the proof failed: {0}")]
    Encode(String),
}

impl MachineProof {
    /// The proof file: magic, version (little-endian `u32`), postcard encoding.
    pub fn to_bytes(&self) -> Result<Vec<u8>, ProofFileError> {
        let mut bytes = PROOF_MAGIC.to_vec();
        bytes.extend(PROOF_VERSION.to_le_bytes());
        postcard::to_extend(self, bytes).map_err(|e| ProofFileError::Encode(e.to_string()))
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ProofFileError> {
        let rest = bytes
            .strip_prefix(PROOF_MAGIC)
            .ok_or(ProofFileError::Magic)?;
        let (version, body) = rest.split_at_checked(4).ok_or(ProofFileError::Magic)?;
        let found = u32::from_le_bytes(version.try_into().expect("4 bytes"));
        if found != PROOF_VERSION {
            return Err(ProofFileError::Version { found });
        }
        let (proof, trailing) =
            postcard::take_from_bytes(body).map_err(|e| ProofFileError::Decode(e.to_string()))?;
        if !trailing.is_empty() {
            return Err(ProofFileError::Decode(format!(
                "{} unexpected trailing bytes",
                trailing.len()
            )));
        }
        Ok(proof)
    }
}
