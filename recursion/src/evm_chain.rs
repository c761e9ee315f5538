//! The recursion path of an EVM proof (docs/RECURSION.md §0), as one object:
//!
//! 1. the guest runs as one MIPS shard of the EVM shape, proven under the inner settings;
//! 2. the **compress** program ([`MipsShardVerifier::statement`]) verifies that proof, checks
//!    the EVM statement (started at the entry, halted, exit code 0) and exposes only the
//!    statement ([`crate::mips::statement`]); its run is proven under the inner settings;
//! 3. the **shrink** program ([`VerifierLayer`]) verifies the compress proof and re-exposes the
//!    statement; its run is proven under the outer (BN254-friendly) configuration, in the
//!    layout made for the Groth16 wrap (one Poseidon2 round per row, uniform heights).
//!
//! Both programs depend on the EVM shape and the settings only, never on the guest: one chain
//! serves every guest program. The shrink program's fixed tables (its verifying key, and a
//! third of its proof's cost) are committed once ([`EvmRecursionChain::shrink_fixed_tables`]
//! or, across processes, [`EvmRecursionChain::shrink_fixed_tables_cached`]) and reused by
//! every proof.

use std::path::Path;
use std::time::{Duration, Instant};

use p3_field::PrimeField32;
use thiserror::Error;
use zkmips_prover::batch::{FixedTables, FixedTablesOrigin, ProveError, VerifyError};
use zkmips_prover::config::{FriSettings, inner_config_with};
use zkmips_prover::evm::EvmProgram;
use zkmips_prover::outer::{OuterConfig, outer_config_with};

use crate::layers::VerifierLayer;
use crate::machine::{Poseidon2Layout, RecursionError, RecursionMachine, RecursionProof};
use crate::mips::{MipsShardVerifier, MipsVerifierError, prove_mips_shard};
use crate::stark::StarkVerifierError;

#[derive(Debug, Error)]
pub enum EvmChainError {
    #[error("MIPS shard: {0}")]
    Shard(#[from] MipsVerifierError),
    #[error("compress layer: {0}")]
    Compress(RecursionError),
    #[error("shrink layer: {0}")]
    ShrinkWitness(#[from] StarkVerifierError),
    #[error("shrink layer: {0}")]
    Shrink(RecursionError),
    #[error("the shrink proof does not verify: {0}")]
    ShrinkRejected(#[from] VerifyError),
}

/// The compress and shrink programs of the EVM statement under fixed settings.
pub struct EvmRecursionChain {
    inner: FriSettings,
    outer: FriSettings,
    compress: MipsShardVerifier,
    compress_machine: RecursionMachine,
    shrink_layer: VerifierLayer,
    shrink: RecursionMachine,
}

/// A shrink proof of one guest run, with what the guest committed (the statement's digest is
/// their SHA-256).
pub struct ShrinkProof {
    /// Its public values are the statement ([`crate::mips::statement`] layout).
    pub proof: RecursionProof<OuterConfig>,
    pub committed: Vec<u8>,
    /// Instructions the guest executed.
    pub cycles: u64,
    pub timings: ChainTimings,
}

/// Where a proof's time went.
#[derive(Clone, Copy, Debug, Default)]
pub struct ChainTimings {
    pub shard: Duration,
    pub compress: Duration,
    pub shrink: Duration,
}

impl EvmRecursionChain {
    /// The chain whose MIPS shard and compress proofs are made under `inner` and whose shrink
    /// proof is made under `outer_config_with(outer)`. `reference` is any program of the EVM
    /// shape (only its shape is used).
    pub fn new(
        inner: &FriSettings,
        outer: &FriSettings,
        reference: &EvmProgram,
    ) -> Result<Self, EvmChainError> {
        let compress = MipsShardVerifier::statement(inner, reference)?;
        let compress_machine = RecursionMachine::new(compress.program().clone());
        let shrink_layer = VerifierLayer::new(
            &compress_machine,
            &compress_machine.log_heights(),
            inner,
            RecursionMachine::min_height_for(outer),
        )?;
        let shrink = shrink_layer
            .machine()
            .with_poseidon2_layout(Poseidon2Layout::RoundPerRow)
            .with_uniform_heights(outer);
        Ok(Self {
            inner: *inner,
            outer: *outer,
            compress,
            compress_machine,
            shrink_layer,
            shrink,
        })
    }

    /// The program the outer proof is of: its tables are what the Groth16 circuit verifies.
    pub fn shrink(&self) -> &RecursionMachine {
        &self.shrink
    }

    pub fn outer_settings(&self) -> &FriSettings {
        &self.outer
    }

    pub fn inner_settings(&self) -> &FriSettings {
        &self.inner
    }

    /// The shrink program's fixed tables committed under the outer configuration.
    pub fn shrink_fixed_tables(&self) -> Result<FixedTables<OuterConfig>, ProveError> {
        self.shrink.fixed_tables(&outer_config_with(&self.outer))
    }

    /// [`Self::shrink_fixed_tables`] read from `path` if it holds them, else committed and
    /// written there (a stale or corrupt file is replaced; [`FixedTablesOrigin`] says why).
    pub fn shrink_fixed_tables_cached(
        &self,
        path: &Path,
    ) -> Result<(FixedTables<OuterConfig>, FixedTablesOrigin), ProveError> {
        self.shrink.fixed_tables_cached(
            &outer_config_with(&self.outer),
            self.config_id().as_bytes(),
            path,
        )
    }

    /// Names every setting of the outer configuration that changes the shrink program's
    /// commitment, for the fixed tables' file key.
    fn config_id(&self) -> String {
        format!("zkmips shrink, outer Poseidon2-BN254 {:?}", self.outer)
    }

    /// Runs `program` on `inputs`/`hints` and proves the run down the chain; `fixed` must be
    /// the shrink program's fixed tables ([`Self::shrink_fixed_tables`]). The shrink proof is
    /// verified before it is returned.
    pub fn prove(
        &self,
        program: &EvmProgram,
        inputs: Vec<Vec<u8>>,
        hints: Vec<Vec<u8>>,
        fixed: &FixedTables<OuterConfig>,
    ) -> Result<ShrinkProof, EvmChainError> {
        let start = Instant::now();
        let shard = prove_mips_shard(&self.inner, program, inputs, hints)?;
        let shard_time = start.elapsed();
        let cycles = u64::from(
            shard.public_values[zkmips_prover::evm::CPU_INSTANCE]
                [zkmips_prover::chips::cpu::public::CYCLES]
                .as_canonical_u32(),
        );

        let start = Instant::now();
        let stream = self.compress.witness(program, &shard)?.stream();
        let compress_proof = self
            .compress_machine
            .prove(&inner_config_with(&self.inner), &stream)
            .map_err(EvmChainError::Compress)?;
        let compress_time = start.elapsed();

        let start = Instant::now();
        let stream = self
            .shrink_layer
            .witness(&self.compress_machine, &compress_proof)?;
        let outer_config = outer_config_with(&self.outer);
        let proof = self
            .shrink
            .prove_with_fixed(&outer_config, fixed, &stream)
            .map_err(EvmChainError::Shrink)?;
        self.shrink
            .verify_with_fixed(&outer_config, fixed, &proof)?;
        Ok(ShrinkProof {
            proof,
            committed: shard.committed,
            cycles,
            timings: ChainTimings {
                shard: shard_time,
                compress: compress_time,
                shrink: start.elapsed(),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use p3_field::PrimeCharacteristicRing;
    use zkmips_prover::config::INNER_TEST_FRI;
    use zkmips_prover::evm::{compressed_vkey_of, image_public_values};
    use zkmips_prover::outer::WRAP_TEST_FRI;

    use super::*;
    use crate::ir::Val;
    use crate::mips::statement;

    fn read(path: &str) -> Vec<u8> {
        let path = format!("{}/../examples/{path}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn evm_program(name: &str) -> EvmProgram {
        EvmProgram::from_elf(&read(&format!("bin/{name}.elf"))).unwrap()
    }

    /// One chain (built from fibonacci's shape) proves c-sum: the shrink proof exposes c-sum's
    /// statement — its commitment and entry (hence its compressed programVKey) and the digest
    /// of what it committed — and verifies against the shared fixed tables.
    #[test]
    fn one_chain_proves_any_guest_and_exposes_its_statement() {
        let chain =
            EvmRecursionChain::new(&INNER_TEST_FRI, &WRAP_TEST_FRI, &evm_program("fibonacci"))
                .unwrap();
        let heights = chain.shrink().heights();
        assert!(
            heights[..crate::machine::table::PUBLIC]
                .iter()
                .all(|&h| h == heights[0]),
            "uniform heights: {heights:?}"
        );
        let fixed = chain.shrink_fixed_tables().unwrap();
        let program = evm_program("c-sum");
        let proved = chain
            .prove(&program, vec![read("c-sum/input.txt")], vec![], &fixed)
            .unwrap();
        let exposed = &proved.proof.public_values;
        assert_eq!(exposed.len(), statement::LEN);
        let commitment: [Val; 8] = exposed[statement::COMMITMENT].try_into().unwrap();
        let entry = program.program().entry;
        assert_eq!(exposed[statement::ENTRY], Val::from_u32(entry));
        assert_eq!(
            compressed_vkey_of(&commitment, entry),
            program.compressed_vkey(&INNER_TEST_FRI).unwrap()
        );
        let digest: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(&proved.committed).into();
        assert_eq!(
            &exposed[statement::DIGEST],
            &image_public_values(0, &digest)[2..2 + statement::DIGEST_LIMBS]
        );
        // A proof under the chain's own (freshly committed) key verifies; one claiming other
        // public values does not.
        let outer_config = outer_config_with(&WRAP_TEST_FRI);
        chain.shrink().verify(&outer_config, &proved.proof).unwrap();
        let mut forged = proved.proof;
        forged.public_values[statement::ENTRY] += Val::ONE;
        assert!(chain.shrink().verify(&outer_config, &forged).is_err());
    }

    /// A guest outside the EVM statement (one that exits non-zero) yields an error naming the
    /// layer, not a proof.
    #[test]
    fn runs_outside_the_statement_are_errors() {
        let chain =
            EvmRecursionChain::new(&INNER_TEST_FRI, &WRAP_TEST_FRI, &evm_program("fibonacci"))
                .unwrap();
        let fixed = chain.shrink_fixed_tables().unwrap();
        // c-sum without its input fails in the guest (or its statement).
        let error = match chain.prove(&evm_program("c-sum"), vec![], vec![], &fixed) {
            Ok(_) => panic!("a run outside the statement was proven"),
            Err(error) => error.to_string(),
        };
        assert!(error.starts_with("MIPS shard: "), "{error}");
    }
}
