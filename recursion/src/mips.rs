//! Verifying a MIPS shard proof of the EVM shape (`zkmips_prover::evm`) inside a recursion
//! program.
//!
//! The tables are those of an EVM proof ([`evm_run_tables`]), proven under the inner
//! configuration instead of the outer one. The verifier program is built once per FRI setting
//! from the shape alone: the MIPS preprocessed commitment (program code, initial image, byte
//! table) is a witness it exposes, so one program serves every MIPS program of the shape and
//! whoever checks its proof compares the exposed commitment to the program's.
//!
//! Exposed public values, in order ([`ExposedLayout`]): the preprocessed commitment (8), the CPU
//! table's public values (`CpuPublicValues::to_field`: initial pc, initial next pc, final pc,
//! final next pc, cycles, halted), the image table's (exit code and digest words as limbs).
//!
//! [`MipsShardVerifier::statement`] is the same verifier with the EVM statement checked inside
//! (the run starts at the entry, halted, exit code 0) exposing only what the statement is about
//! ([`statement`]): the commitment, the entry and the public digest. It is the "compress" layer
//! of the final EVM path (docs/RECURSION.md §0).

use p3_batch_stark::BatchProof;
use p3_field::PrimeCharacteristicRing;
use thiserror::Error;
use zkmips_prover::chips::MipsAir;
use zkmips_prover::chips::cpu::public as cpu_public;
use zkmips_prover::chips::memory_image::NUM_PUBLIC_VALUES as IMAGE_PUBLIC_VALUES;
use zkmips_prover::config::{FriSettings, InnerConfig, inner_config_with};
use zkmips_prover::evm::{
    CPU_INSTANCE, EvmError, EvmProgram, IMAGE_INSTANCE, degree_bits, evm_run_tables,
};

use crate::builder::{Builder, Felt};
use crate::gadgets::merkle::{DIGEST_ELEMS, DigestVar};
use crate::ir::{Program, ProgramError, Val};
use crate::stark::{BatchProofVar, BatchProofWitness, StarkVerifierError, StarkVerifierShape};

#[derive(Debug, Error)]
pub enum MipsVerifierError {
    #[error("MIPS run: {0}")]
    Evm(#[from] EvmError),
    #[error("MIPS shard proving: {0}")]
    Prove(#[from] zkmips_prover::batch::ProveError),
    #[error("MIPS shard proof: {0}")]
    Stark(#[from] StarkVerifierError),
    #[error("verifier program: {0}")]
    Program(#[from] ProgramError),
    #[error("{0}")]
    Shape(String),
}

/// A MIPS shard of the EVM shape proven under `inner_config_with(settings)`.
pub struct MipsShardProof {
    pub settings: FriSettings,
    pub proof: BatchProof<InnerConfig>,
    /// Every instance's public values, in `EvmProgram::airs` order.
    pub public_values: Vec<Vec<Val>>,
    /// The bytes the guest committed (the image table exposes their SHA-256).
    pub committed: Vec<u8>,
}

/// Runs `program` on `inputs`/`hints` (it must be in the EVM statement: one shard, HALT with
/// exit code 0) and proves its EVM tables under `inner_config_with(settings)`.
pub fn prove_mips_shard(
    settings: &FriSettings,
    program: &EvmProgram,
    inputs: Vec<Vec<u8>>,
    hints: Vec<Vec<u8>>,
) -> Result<MipsShardProof, MipsVerifierError> {
    let (tables, committed) = evm_run_tables(program, inputs, hints)?;
    let proof = zkmips_prover::batch::prove(&inner_config_with(settings), &tables)?;
    Ok(MipsShardProof {
        settings: *settings,
        proof,
        public_values: tables.into_iter().map(|t| t.public_values).collect(),
        committed,
    })
}

/// Where each part of the statement sits in the verifier program's public values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExposedLayout {
    pub num_cpu: usize,
    pub num_image: usize,
}

impl ExposedLayout {
    pub fn commitment(&self) -> core::ops::Range<usize> {
        0..DIGEST_ELEMS
    }

    pub fn cpu(&self) -> core::ops::Range<usize> {
        DIGEST_ELEMS..DIGEST_ELEMS + self.num_cpu
    }

    pub fn image(&self) -> core::ops::Range<usize> {
        let start = DIGEST_ELEMS + self.num_cpu;
        start..start + self.num_image
    }

    pub fn len(&self) -> usize {
        DIGEST_ELEMS + self.num_cpu + self.num_image
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The public values of a [`MipsShardVerifier::statement`] program, in order.
pub mod statement {
    use crate::gadgets::merkle::DIGEST_ELEMS;

    /// The MIPS preprocessed commitment (program code, initial image, byte table).
    pub const COMMITMENT: core::ops::Range<usize> = 0..DIGEST_ELEMS;
    /// The entry point: where the run started (its initial pc).
    pub const ENTRY: usize = DIGEST_ELEMS;
    /// The 8 words of the public digest, as `(lo, hi)` 16-bit limbs.
    pub const DIGEST: core::ops::Range<usize> = ENTRY + 1..ENTRY + 1 + DIGEST_LIMBS;
    pub const DIGEST_LIMBS: usize = 16;
    pub const LEN: usize = DIGEST.end;
}

/// Image public values: the exit code's limbs, then the digest words' limbs.
const IMAGE_EXIT_CODE: core::ops::Range<usize> = 0..2;
const IMAGE_DIGEST: core::ops::Range<usize> = 2..2 + statement::DIGEST_LIMBS;

/// What a verifier program exposes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Exposure {
    /// Every public value of the proof and the commitment ([`ExposedLayout`]).
    Everything,
    /// The statement checked, its subject exposed ([`statement`]).
    Statement,
}

/// The recursion program verifying MIPS shard proofs of the EVM shape under one FRI setting.
#[derive(Clone, Debug)]
pub struct MipsShardVerifier {
    shape: StarkVerifierShape,
    layout: ExposedLayout,
    exposure: Exposure,
    program: Program,
}

/// Reads the statement and the proof from the witness stream, verifies, exposes the statement.
/// Stream: preprocessed commitment (8), CPU public values, image public values, the proof
/// (`BatchProofWitness::stream`).
fn build_program(
    shape: &StarkVerifierShape,
    layout: &ExposedLayout,
    exposure: Exposure,
) -> Result<Program, MipsVerifierError> {
    let mut b = Builder::new();
    let commitment: DigestVar = core::array::from_fn(|_| b.witness());
    let cpu: Vec<Felt> = (0..layout.num_cpu).map(|_| b.witness()).collect();
    let image: Vec<Felt> = (0..layout.num_image).map(|_| b.witness()).collect();
    let proof = BatchProofVar::read(&mut b, shape);
    let mut public_values = vec![Vec::new(); shape.proof.instances.len()];
    public_values[CPU_INSTANCE] = cpu.clone();
    public_values[IMAGE_INSTANCE] = image.clone();
    crate::stark::verify_batch_proof(&mut b, shape, Some(commitment), &public_values, &proof)?;
    match exposure {
        Exposure::Everything => {
            for value in commitment.into_iter().chain(cpu).chain(image) {
                b.public(value);
            }
        }
        Exposure::Statement => {
            for value in check_statement(&mut b, commitment, &cpu, &image) {
                b.public(value);
            }
        }
    }
    Ok(b.build()?)
}

/// Asserts the EVM statement on a verified proof's public values — the run starts at the
/// entry with a sequential next pc (no delay slot pending), ends in HALT and exits with 0 —
/// and returns the [`statement`] values to expose.
fn check_statement(
    b: &mut Builder,
    commitment: DigestVar,
    cpu: &[Felt],
    image: &[Felt],
) -> Vec<Felt> {
    let entry = cpu[cpu_public::INITIAL_PC];
    let after_entry = b.add_const(entry, Val::from_u32(4));
    b.assert_eq(cpu[cpu_public::INITIAL_NEXT_PC], after_entry);
    b.assert_eq_const(cpu[cpu_public::HALTED], Val::ONE);
    for limb in IMAGE_EXIT_CODE {
        b.assert_eq_const(image[limb], Val::ZERO);
    }
    let mut exposed = commitment.to_vec();
    exposed.push(entry);
    exposed.extend(IMAGE_DIGEST.map(|limb| image[limb]));
    exposed
}

impl MipsShardVerifier {
    /// The verifier program for proofs under `inner_config_with(settings)`. `reference` is any
    /// program of the EVM shape: only the shape is taken from it (its fixed tables' commitment
    /// is not part of the program).
    pub fn new(settings: &FriSettings, reference: &EvmProgram) -> Result<Self, MipsVerifierError> {
        Self::with_exposure(settings, reference, Exposure::Everything)
    }

    /// The verifier program that also checks the EVM statement (start at the entry, halted,
    /// exit code 0) and exposes only [`statement`]'s values.
    pub fn statement(
        settings: &FriSettings,
        reference: &EvmProgram,
    ) -> Result<Self, MipsVerifierError> {
        Self::with_exposure(settings, reference, Exposure::Statement)
    }

    fn with_exposure(
        settings: &FriSettings,
        reference: &EvmProgram,
        exposure: Exposure,
    ) -> Result<Self, MipsVerifierError> {
        let shape = StarkVerifierShape::new(settings, &reference.airs(), &degree_bits())?;
        if shape.preprocessed_commitment.is_none() {
            return Err(MipsVerifierError::Shape(
                "the EVM shape has no fixed tables".into(),
            ));
        }
        // Only the CPU and image tables carry public values: the program exposes all of them.
        for (index, instance) in shape.proof.instances.iter().enumerate() {
            if index != CPU_INSTANCE && index != IMAGE_INSTANCE && instance.num_public_values != 0 {
                return Err(MipsVerifierError::Shape(format!(
                    "EVM instance {index} has public values the verifier does not expose"
                )));
            }
        }
        let layout = ExposedLayout {
            num_cpu: shape.proof.instances[CPU_INSTANCE].num_public_values,
            num_image: shape.proof.instances[IMAGE_INSTANCE].num_public_values,
        };
        if layout.num_cpu != cpu_public::COUNT || layout.num_image != IMAGE_PUBLIC_VALUES {
            return Err(MipsVerifierError::Shape(format!(
                "the EVM shape exposes {} CPU and {} image values, expected {} and {}",
                layout.num_cpu,
                layout.num_image,
                cpu_public::COUNT,
                IMAGE_PUBLIC_VALUES
            )));
        }
        let program = build_program(&shape, &layout, exposure)?;
        Ok(Self {
            shape,
            layout,
            exposure,
            program,
        })
    }

    pub fn program(&self) -> &Program {
        &self.program
    }

    pub fn shape(&self) -> &StarkVerifierShape {
        &self.shape
    }

    pub fn layout(&self) -> ExposedLayout {
        self.layout
    }

    /// The public values a run of this program on `witness` exposes.
    pub fn exposed(&self, witness: &MipsVerifierWitness) -> Vec<Val> {
        match self.exposure {
            Exposure::Everything => witness.exposed(),
            Exposure::Statement => {
                let mut values = witness.preprocessed_commitment.to_vec();
                values.push(witness.cpu[cpu_public::INITIAL_PC]);
                values.extend(&witness.image[IMAGE_DIGEST]);
                values
            }
        }
    }

    /// The witness of `proof` of a run of `program`. The proof must verify natively (checked
    /// here) under this verifier's settings.
    pub fn witness(
        &self,
        program: &EvmProgram,
        proof: &MipsShardProof,
    ) -> Result<MipsVerifierWitness, MipsVerifierError> {
        if proof.settings != self.shape.proof.settings {
            return Err(MipsVerifierError::Shape(
                "the proof was made with other FRI settings".into(),
            ));
        }
        let airs: Vec<MipsAir> = program.airs();
        // The program's own fixed tables: the witness recomputes and checks their commitment.
        let own = StarkVerifierShape::new(&proof.settings, &airs, &degree_bits())?;
        let commitment = own
            .preprocessed_commitment
            .ok_or_else(|| MipsVerifierError::Shape("the program has no fixed tables".into()))?;
        let mut shape = self.shape.clone();
        shape.preprocessed_commitment = Some(commitment);
        let witness = BatchProofWitness::new(&shape, &airs, &proof.proof, &proof.public_values)?;
        Ok(MipsVerifierWitness {
            preprocessed_commitment: commitment,
            cpu: proof.public_values[CPU_INSTANCE].clone(),
            image: proof.public_values[IMAGE_INSTANCE].clone(),
            proof: witness,
        })
    }
}

/// Everything the verifier program reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MipsVerifierWitness {
    pub preprocessed_commitment: [Val; DIGEST_ELEMS],
    pub cpu: Vec<Val>,
    pub image: Vec<Val>,
    pub proof: BatchProofWitness,
}

impl MipsVerifierWitness {
    /// The public values a run on this witness exposes.
    pub fn exposed(&self) -> Vec<Val> {
        let mut values = self.preprocessed_commitment.to_vec();
        values.extend(&self.cpu);
        values.extend(&self.image);
        values
    }

    /// The witness stream, in the order the verifier program reads it.
    pub fn stream(&self) -> Vec<Val> {
        let mut stream = self.exposed();
        stream.extend(self.proof.stream());
        stream
    }
}

/// Instruction counts of a program by kind (for measurements).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InstrCounts {
    pub constants: usize,
    pub witnesses: usize,
    pub hints: usize,
    pub base_alu: usize,
    pub ext_alu: usize,
    pub poseidon2: usize,
    pub public: usize,
}

impl InstrCounts {
    pub fn of(program: &Program) -> Self {
        use crate::ir::{CellSource, Instr};
        let mut counts = Self::default();
        for instr in program.instrs() {
            let slot = match instr {
                Instr::Cell {
                    source: CellSource::Const(_),
                    ..
                } => &mut counts.constants,
                Instr::Cell {
                    source: CellSource::Witness { .. },
                    ..
                } => &mut counts.witnesses,
                Instr::Cell {
                    source: CellSource::Hint(_),
                    ..
                } => &mut counts.hints,
                Instr::BaseAlu { .. } => &mut counts.base_alu,
                Instr::ExtAlu { .. } => &mut counts.ext_alu,
                Instr::Poseidon2 { .. } => &mut counts.poseidon2,
                Instr::Public { .. } => &mut counts.public,
            };
            *slot += 1;
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use p3_field::PrimeCharacteristicRing;
    use zkmips_prover::config::INNER_TEST_FRI;

    use super::*;
    use crate::ir::Challenge;
    use crate::machine::RecursionMachine;
    use crate::runtime::execute;

    fn read(path: &str) -> Vec<u8> {
        let path = format!("{}/../examples/{path}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn evm_program(name: &str) -> EvmProgram {
        EvmProgram::from_elf(&read(&format!("bin/{name}.elf"))).unwrap()
    }

    struct Fixture {
        program: EvmProgram,
        proof: MipsShardProof,
        verifier: MipsShardVerifier,
        witness: MipsVerifierWitness,
    }

    /// c-sum proven under the inner configuration, and the verifier program built from
    /// another program of the shape (fibonacci): the program does not depend on the code.
    fn fixture() -> &'static Fixture {
        static FIXTURE: OnceLock<Fixture> = OnceLock::new();
        FIXTURE.get_or_init(|| {
            let program = evm_program("c-sum");
            let input = read("c-sum/input.txt");
            let proof = prove_mips_shard(&INNER_TEST_FRI, &program, vec![input], vec![]).unwrap();
            let verifier =
                MipsShardVerifier::new(&INNER_TEST_FRI, &evm_program("fibonacci")).unwrap();
            let witness = verifier.witness(&program, &proof).unwrap();
            Fixture {
                program,
                proof,
                verifier,
                witness,
            }
        })
    }

    #[test]
    fn a_mips_shard_proof_verifies_inside_a_recursion_program() {
        let f = fixture();
        let execution = execute(f.verifier.program(), &f.witness.stream()).unwrap();
        let layout = f.verifier.layout();
        let exposed = &execution.public_values;
        assert_eq!(exposed.len(), layout.len());
        assert_eq!(exposed, &f.witness.exposed());
        assert_eq!(
            &exposed[layout.cpu()],
            f.proof.public_values[CPU_INSTANCE].as_slice()
        );
        assert_eq!(
            &exposed[layout.image()],
            f.proof.public_values[IMAGE_INSTANCE].as_slice()
        );
        // The exposed commitment is c-sum's, not the reference program's.
        let own =
            StarkVerifierShape::new(&INNER_TEST_FRI, &f.program.airs(), &degree_bits()).unwrap();
        assert_eq!(
            &exposed[layout.commitment()],
            own.preprocessed_commitment.unwrap().as_slice()
        );
        assert_ne!(
            own.preprocessed_commitment,
            f.verifier.shape().preprocessed_commitment
        );
        // halted = 1 is the CPU's last public value.
        assert_eq!(exposed[layout.cpu().end - 1], Val::ONE);
    }

    #[test]
    fn tampered_mips_proofs_make_the_verifier_program_fail() {
        let f = fixture();
        let program = f.verifier.program();
        let rejects = |w: &MipsVerifierWitness| execute(program, &w.stream()).is_err();
        // The statement: a CPU value (final pc), the halted flag, an image value (digest limb).
        let mut w = f.witness.clone();
        w.cpu[2] += Val::from_u32(4);
        assert!(rejects(&w), "final pc");
        let mut w = f.witness.clone();
        w.cpu[5] = Val::ZERO;
        assert!(rejects(&w), "halted");
        let mut w = f.witness.clone();
        w.image[3] += Val::ONE;
        assert!(rejects(&w), "digest limb");
        // Another program's fixed tables.
        let other = StarkVerifierShape::new(
            &INNER_TEST_FRI,
            &evm_program("fibonacci").airs(),
            &degree_bits(),
        )
        .unwrap();
        let mut w = f.witness.clone();
        w.preprocessed_commitment = other.preprocessed_commitment.unwrap();
        assert!(rejects(&w), "another preprocessed commitment");
        // The proof: an opened CPU value, a commitment, FRI data.
        let mut w = f.witness.clone();
        w.proof.instances[CPU_INSTANCE].trace_local[0] += Challenge::ONE;
        assert!(rejects(&w), "opened value");
        let mut w = f.witness.clone();
        w.proof.main_commitment[0] += Val::ONE;
        assert!(rejects(&w), "main commitment");
        let mut w = f.witness.clone();
        w.proof.fri.final_poly[0] += Challenge::ONE;
        assert!(rejects(&w), "final polynomial");
        // Untampered, it still passes (the rejections above are the tampering's).
        assert!(!rejects(&f.witness));
    }

    /// The statement program: exposes the commitment, the entry and the digest, and fails
    /// for a run that did not start at the entry, did not halt, or exited non-zero.
    #[test]
    fn the_statement_program_checks_the_evm_statement() {
        let f = fixture();
        let verifier = MipsShardVerifier::statement(&INNER_TEST_FRI, &f.program).unwrap();
        let execution = execute(verifier.program(), &f.witness.stream()).unwrap();
        let exposed = &execution.public_values;
        assert_eq!(exposed.len(), statement::LEN);
        assert_eq!(exposed, &verifier.exposed(&f.witness));
        assert_eq!(
            &exposed[statement::COMMITMENT],
            f.witness.preprocessed_commitment.as_slice()
        );
        assert_eq!(
            exposed[statement::ENTRY],
            Val::from_u32(f.program.program().entry)
        );
        let digest: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(&f.proof.committed).into();
        assert_eq!(
            &exposed[statement::DIGEST],
            &zkmips_prover::evm::image_public_values(0, &digest)[IMAGE_DIGEST]
        );

        // Tampered public values fail inside the proof verification already; the statement
        // checks themselves are tested on free values below.
        let rejects = |w: &MipsVerifierWitness| execute(verifier.program(), &w.stream()).is_err();
        let mut w = f.witness.clone();
        w.image[IMAGE_DIGEST.start + 3] += Val::ONE;
        assert!(rejects(&w), "digest limb");
        assert!(!rejects(&f.witness));
    }

    /// The statement checks on free (unproven) values: a run that starts elsewhere than its
    /// entry, starts with a pending delay slot, did not halt or exited non-zero is refused.
    #[test]
    fn statement_checks_refuse_every_violation() {
        let entry = 0x0040_0120u32;
        let mut cpu = vec![Val::ZERO; cpu_public::COUNT];
        cpu[cpu_public::INITIAL_PC] = Val::from_u32(entry);
        cpu[cpu_public::INITIAL_NEXT_PC] = Val::from_u32(entry + 4);
        cpu[cpu_public::FINAL_PC] = Val::from_u32(entry + 0x40);
        cpu[cpu_public::CYCLES] = Val::from_u32(99);
        cpu[cpu_public::HALTED] = Val::ONE;
        let digest: [u8; 32] = core::array::from_fn(|i| (i * 37 + 5) as u8);
        let image = zkmips_prover::evm::image_public_values(0, &digest);
        let commitment: Vec<Val> = (0..8).map(|i| Val::from_u32(1000 + i)).collect();

        let mut b = Builder::new();
        let commitment_vars: DigestVar = core::array::from_fn(|_| b.witness());
        let cpu_vars: Vec<Felt> = (0..cpu.len()).map(|_| b.witness()).collect();
        let image_vars: Vec<Felt> = (0..image.len()).map(|_| b.witness()).collect();
        for value in check_statement(&mut b, commitment_vars, &cpu_vars, &image_vars) {
            b.public(value);
        }
        let program = b.build().unwrap();
        let run = |cpu: &[Val], image: &[Val]| {
            let mut stream = commitment.clone();
            stream.extend(cpu);
            stream.extend(image);
            execute(&program, &stream).map(|e| e.public_values)
        };

        let exposed = run(&cpu, &image).unwrap();
        let mut expected = commitment.clone();
        expected.push(Val::from_u32(entry));
        expected.extend(&image[IMAGE_DIGEST]);
        assert_eq!(exposed, expected);

        let mut bad = cpu.clone();
        bad[cpu_public::INITIAL_NEXT_PC] = Val::from_u32(entry + 8);
        assert!(run(&bad, &image).is_err(), "pending delay slot");
        let mut bad = cpu.clone();
        bad[cpu_public::INITIAL_PC] = Val::from_u32(entry + 4);
        assert!(run(&bad, &image).is_err(), "started past the entry");
        let mut bad = cpu.clone();
        bad[cpu_public::HALTED] = Val::ZERO;
        assert!(run(&bad, &image).is_err(), "not halted");
        for limb in IMAGE_EXIT_CODE {
            let mut bad = image.clone();
            bad[limb] = Val::ONE;
            assert!(run(&cpu, &bad).is_err(), "exit code limb {limb}");
        }
    }

    #[test]
    fn one_verifier_program_serves_every_program_of_the_shape() {
        let f = fixture();
        let from_c_sum = MipsShardVerifier::new(&INNER_TEST_FRI, &f.program).unwrap();
        assert_eq!(from_c_sum.program(), f.verifier.program());
    }

    #[test]
    fn a_proof_under_other_settings_is_refused() {
        let f = fixture();
        let other = FriSettings {
            num_queries: 3,
            ..INNER_TEST_FRI
        };
        let verifier = MipsShardVerifier::new(&other, &f.program).unwrap();
        assert!(matches!(
            verifier.witness(&f.program, &f.proof),
            Err(MipsVerifierError::Shape(_))
        ));
    }

    /// The verifier program's run is proven by the recursion machine and verifies, exposing
    /// the MIPS statement.
    #[test]
    fn the_mips_verifier_program_is_proven_by_the_recursion_machine() {
        let f = fixture();
        let machine = RecursionMachine::new(f.verifier.program().clone());
        let config = inner_config_with(&INNER_TEST_FRI);
        let proof = machine.prove(&config, &f.witness.stream()).unwrap();
        assert_eq!(proof.public_values, f.witness.exposed());
        machine.verify(&config, &proof).unwrap();
        let counts = InstrCounts::of(f.verifier.program());
        eprintln!(
            "MIPS verifier program: {} instructions {counts:?}, table log heights {:?}",
            f.verifier.program().instrs().len(),
            proof.proof.degree_bits
        );
    }
}
