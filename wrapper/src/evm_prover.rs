//! EVM proofs over the recursion path (docs/RECURSION.md §0): what `zkmips prove --evm` keeps
//! between runs besides the Groth16 keys — the recursion chain at production settings and its
//! shrink program's fixed tables, cached in a file beside the keys — and the one call that
//! turns a guest run into the wrap circuit's instance.
//!
//! The chain depends on the EVM shape and the settings only, so one [`EvmProver`] serves every
//! guest program, and one Groth16 circuit ([`COMPRESSED_WRAP_CIRCUIT_NAME`]) every proof.

use std::path::Path;

use thiserror::Error;
use zkmips_executor::Program;
use zkmips_prover::batch::{FixedTables, FixedTablesOrigin, ProveError};
use zkmips_prover::config::{COMPRESS_FRI, FriSettings};
use zkmips_prover::evm::{EvmError, EvmProgram, EvmVkey};
use zkmips_prover::outer::{OUTER_FRI, OuterConfig};
use zkmips_recursion::evm_chain::{EvmChainError, EvmRecursionChain, ShrinkProof};

use crate::Fr;
use crate::groth16::{Groth16Error, Groth16Proof, SynthesizedCircuit};
use crate::keys::{CircuitKeys, KeyCache};
use crate::verifier::compressed::{CompressedWrapCircuit, prover_seed};
use crate::verifier::witness::WitnessError;

/// Name of the compressed wrap circuit in the key cache. Its version is the EVM statement's
/// (its public inputs; checked by a test); a change of the recursion programs changes the
/// circuit's constants, which the key cache's circuit digest catches.
pub const COMPRESSED_WRAP_CIRCUIT_NAME: &str = "mips-evm-compressed-v1";

/// File of the shrink program's fixed tables inside the circuit's key cache entry.
pub const SHRINK_FIXED_TABLES_FILE: &str = "shrink_fixed_tables.bin";

#[derive(Debug, Error)]
pub enum EvmProverError {
    #[error("the EVM shape: {0}")]
    Shape(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Chain(#[from] EvmChainError),
    #[error("the shrink program's fixed tables: {0}")]
    FixedTables(#[from] ProveError),
    #[error("the wrap circuit: {0}")]
    Circuit(#[from] WitnessError),
    #[error(transparent)]
    Program(#[from] EvmError),
}

/// The recursion chain and its shrink program's fixed tables, under fixed settings.
pub struct EvmProver {
    chain: EvmRecursionChain,
    fixed: FixedTables<OuterConfig>,
}

/// A guest run proven down the chain, as the wrap circuit's instance.
pub struct CompressedEvmProof {
    pub shrink: ShrinkProof,
    pub circuit: CompressedWrapCircuit,
}

impl EvmProver {
    /// The production prover (`COMPRESS_FRI` inside, `OUTER_FRI` for the shrink proof), its
    /// fixed tables read from (or committed and written to) the circuit's entry in `cache`.
    pub fn production(
        cache: &KeyCache,
    ) -> Result<(Self, Option<FixedTablesOrigin>), EvmProverError> {
        let entry = cache.entry_dir(COMPRESSED_WRAP_CIRCUIT_NAME);
        std::fs::create_dir_all(&entry).map_err(|source| EvmProverError::Io {
            path: entry.display().to_string(),
            source,
        })?;
        Self::with_settings(
            &COMPRESS_FRI,
            &OUTER_FRI,
            Some(&entry.join(SHRINK_FIXED_TABLES_FILE)),
        )
    }

    /// The prover under `inner`/`outer`, with the fixed tables cached in `fixed_tables_file`
    /// if given (then how they were obtained is returned), else committed in memory.
    pub fn with_settings(
        inner: &FriSettings,
        outer: &FriSettings,
        fixed_tables_file: Option<&Path>,
    ) -> Result<(Self, Option<FixedTablesOrigin>), EvmProverError> {
        let chain = EvmRecursionChain::new(inner, outer, &reference_program()?)?;
        let (fixed, origin) = match fixed_tables_file {
            Some(path) => {
                let (fixed, origin) = chain.shrink_fixed_tables_cached(path)?;
                (fixed, Some(origin))
            }
            None => (chain.shrink_fixed_tables()?, None),
        };
        Ok((Self { chain, fixed }, origin))
    }

    pub fn chain(&self) -> &EvmRecursionChain {
        &self.chain
    }

    /// The blank wrap circuit Groth16 keys are derived from.
    pub fn blank_circuit(&self) -> Result<CompressedWrapCircuit, EvmProverError> {
        let outer = self.chain.outer_settings();
        Ok(CompressedWrapCircuit::blank(
            outer,
            self.chain.shrink().airs(),
            &self.fixed,
        )?)
    }

    /// The programVKey of `program` in this prover's statement (its fixed tables' commitment
    /// under the inner settings, with its entry point).
    pub fn program_vkey(&self, program: &EvmProgram) -> Result<EvmVkey, EvmProverError> {
        Ok(program.compressed_vkey(self.chain.inner_settings())?)
    }

    /// Runs `program` on `inputs`/`hints`, proves the run down the chain and builds the wrap
    /// circuit's instance (which re-verifies the shrink proof natively).
    pub fn prove(
        &self,
        program: &EvmProgram,
        inputs: Vec<Vec<u8>>,
        hints: Vec<Vec<u8>>,
    ) -> Result<CompressedEvmProof, EvmProverError> {
        let shrink = self.chain.prove(program, inputs, hints, &self.fixed)?;
        let circuit = CompressedWrapCircuit::with_fixed(
            self.chain.outer_settings(),
            self.chain.shrink().airs(),
            &self.fixed,
            &shrink.proof.proof,
            &shrink.proof.public_values,
        )?;
        Ok(CompressedEvmProof { shrink, circuit })
    }
}

/// The wrap circuit synthesized for Groth16 ([`SynthesizedCircuit`]), with its public inputs.
/// Synthesize before loading the proving key: the constraint system is gone before the key is
/// read, so the two largest objects of the Groth16 stage never occupy memory together.
pub struct SynthesizedWrap {
    synthesized: SynthesizedCircuit,
    public_inputs: [Fr; 2],
}

impl SynthesizedWrap {
    pub fn new(circuit: CompressedWrapCircuit) -> Result<Self, Groth16Error> {
        let public_inputs = circuit.public_inputs;
        Ok(Self {
            synthesized: SynthesizedCircuit::new(COMPRESSED_WRAP_CIRCUIT_NAME, circuit)?,
            public_inputs,
        })
    }

    /// The Groth16 proof under `keys` ([`SynthesizedCircuit::prove`]: the keys checked against
    /// the synthesis, the proof verified natively), its randomness seeded by the public inputs
    /// as for every wrap circuit (one shrink proof, one Groth16 proof).
    pub fn prove(self, keys: &CircuitKeys) -> Result<Groth16Proof, Groth16Error> {
        let seed = prover_seed(&self.public_inputs);
        self.synthesized.prove(&self.public_inputs, keys, seed)
    }
}

/// The Groth16 proof of `circuit` under `keys` (synthesis, then proof: [`SynthesizedWrap`]).
pub fn prove_groth16(
    circuit: CompressedWrapCircuit,
    keys: &CircuitKeys,
) -> Result<Groth16Proof, Groth16Error> {
    SynthesizedWrap::new(circuit)?.prove(keys)
}

/// A program of the EVM shape (`lui $v0, 1; syscall`: HALT): only its shape is used.
fn reference_program() -> Result<EvmProgram, EvmProverError> {
    EvmProgram::new(Program::from_code(0x0040_0000, &[0x3c02_0001, 0x0000_000c]))
        .map_err(|e| EvmProverError::Shape(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use zkmips_prover::evm::EVM_STATEMENT_VERSION;

    #[test]
    fn the_circuit_name_carries_the_statement_version() {
        assert!(COMPRESSED_WRAP_CIRCUIT_NAME.ends_with(&format!("-v{EVM_STATEMENT_VERSION}")));
    }
}
