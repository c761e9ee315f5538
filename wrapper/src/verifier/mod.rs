//! The full STARK verifier circuit, assembled from the gadgets of this crate and mirroring the
//! native p3 0.8 verifiers function by function (see docs/WRAPPER.md):
//!
//! - [`witness`]: the circuit shape (from the AIR and FRI settings, including p3's transcript
//!   domain-separator seeds) and the proof rearranged as the witness (full Merkle paths).
//! - [`pcs`]: `TwoAdicFriPcs::verify` / `verify_fri` over any list of claims — shared with the
//!   batch-STARK circuit.
//! - [`circuit`]: `p3_uni_stark::verify` and the [`StarkVerifierCircuit`] Groth16 circuit.
//! - [`batch`] (module): `p3_batch_stark::verify_batch` (several AIRs, preprocessed traces,
//!   LogUp buses) and the [`batch::BatchStarkVerifierCircuit`] Groth16 circuit.
//! - [`compressed`]: the statement of `zkmips prove --evm` (program key and public-values
//!   digest as the two public inputs) over the batch verifier of a shrink proof.

pub mod batch;
pub mod circuit;
pub mod compressed;
pub mod pcs;
pub mod witness;

pub use circuit::{
    ConstraintBreakdown, PUBLIC_VALUES_PER_INPUT, StarkVerifierCircuit, pack_public_values,
    synthesize_uni_stark,
};
pub use witness::{UniStarkShape, UniStarkWitness, WitnessError, extract_uni_stark};
