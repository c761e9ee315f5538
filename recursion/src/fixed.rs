//! Proving and verifying many runs of one program with its fixed tables committed once.
//!
//! A program's preprocessed tables (hence their LDE, Merkle tree and commitment: the verifying
//! key) depend on the program alone, yet [`RecursionMachine::prove`] commits them on every
//! proof. [`RecursionMachine::fixed_tables`] commits them once; the `*_with_fixed` methods
//! reuse that for every run.

use p3_batch_stark::{Domain, StarkGenericConfig, Val as ConfigVal};
use p3_challenger::GrindingChallenger;
use p3_commit::Pcs;
use p3_field::{Algebra, BasedVectorSpace, Field, PrimeField32, PrimeField64};
use p3_uni_stark::{PcsProverError, SymbolicExpressionExt};
use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;
use zkmips_prover::batch::{self, FixedTables, FixedTablesOrigin, ProveError, VerifyError};

use crate::ir::Val;
use crate::machine::{RecursionError, RecursionMachine, RecursionProof, table};

impl RecursionMachine {
    /// `log2` of every table's height, in proving order.
    pub fn log_heights(&self) -> Vec<usize> {
        self.heights()
            .iter()
            .map(|height| height.trailing_zeros() as usize)
            .collect()
    }

    /// This program's fixed tables committed under `config`: build once (the costly part of a
    /// proof that does not depend on the witness), then prove and verify any number of runs
    /// with [`Self::prove_with_fixed`] and [`Self::verify_with_fixed`].
    pub fn fixed_tables<SC>(&self, config: &SC) -> Result<FixedTables<SC>, ProveError>
    where
        SC: StarkGenericConfig,
        ConfigVal<SC>: PrimeField64,
        SymbolicExpressionExt<ConfigVal<SC>, SC::Challenge>: Algebra<SC::Challenge>,
    {
        FixedTables::new(config, self.airs(), &self.log_heights())
    }

    /// [`Self::fixed_tables`] read from the file at `path` if it holds them (written for this
    /// program, heights and `config_id`: every setting of `config` that changes the commitment,
    /// e.g. `format!("outer {settings:?}")`), else committed and written there for the next
    /// run. [`FixedTablesOrigin`] says which, and why the file was not used.
    pub fn fixed_tables_cached<SC>(
        &self,
        config: &SC,
        config_id: &[u8],
        path: &Path,
    ) -> Result<(FixedTables<SC>, FixedTablesOrigin), ProveError>
    where
        SC: StarkGenericConfig,
        ConfigVal<SC>: PrimeField64,
        SymbolicExpressionExt<ConfigVal<SC>, SC::Challenge>: Algebra<SC::Challenge>,
        <SC::Pcs as Pcs<SC::Challenge, SC::Challenger>>::ProverData: Serialize + DeserializeOwned,
    {
        FixedTables::load_or_build(config, config_id, self.airs(), &self.log_heights(), path)
    }

    /// [`Self::prove`] with the fixed tables already committed in `fixed`, which must be this
    /// program's (else [`ProveError::FixedChip`] names the first table that differs).
    pub fn prove_with_fixed<SC>(
        &self,
        config: &SC,
        fixed: &FixedTables<SC>,
        witness: &[Val],
    ) -> Result<RecursionProof<SC>, RecursionError>
    where
        SC: StarkGenericConfig,
        ConfigVal<SC>: PrimeField64,
        SymbolicExpressionExt<ConfigVal<SC>, SC::Challenge>: Algebra<SC::Challenge>,
        Domain<SC>: Send + Sync,
        SC::Pcs: Sync,
        PcsProverError<SC>: Send,
        SC::Challenger: GrindingChallenger<Witness = ConfigVal<SC>>,
        <SC::Pcs as Pcs<SC::Challenge, SC::Challenger>>::ProverData: Sync,
        <SC::Pcs as Pcs<SC::Challenge, SC::Challenger>>::Commitment: Sync,
    {
        let execution = self.execute(witness)?;
        let tables = self.tables::<ConfigVal<SC>>(&execution);
        let proof = batch::prove_with_fixed(config, fixed, &tables)?;
        Ok(RecursionProof {
            proof,
            public_values: execution.public_values,
        })
    }

    /// [`Self::verify`] against the key in `fixed`, which must be this program's (checked:
    /// fixed tables of another program are refused, not used as the key).
    pub fn verify_with_fixed<SC>(
        &self,
        config: &SC,
        fixed: &FixedTables<SC>,
        proof: &RecursionProof<SC>,
    ) -> Result<(), VerifyError>
    where
        SC: StarkGenericConfig,
        ConfigVal<SC>: PrimeField64,
        SymbolicExpressionExt<ConfigVal<SC>, SC::Challenge>: Algebra<SC::Challenge>,
        SC::Challenge: BasedVectorSpace<ConfigVal<SC>>,
        SC::Challenger: GrindingChallenger<Witness = ConfigVal<SC>>,
    {
        let expected = self.program().num_public_values();
        if proof.public_values.len() != expected {
            return Err(VerifyError::Shape(format!(
                "{} public values, the program exposes {expected}",
                proof.public_values.len(),
            )));
        }
        let mut public_values = vec![Vec::new(); table::COUNT];
        public_values[table::PUBLIC] = convert(&proof.public_values);
        batch::verify_with_fixed(config, self.airs(), fixed, &proof.proof, &public_values)
    }
}

fn convert<F: Field>(values: &[Val]) -> Vec<F> {
    values
        .iter()
        .map(|v| F::from_u32(v.as_canonical_u32()))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::panic::{AssertUnwindSafe, catch_unwind};

    use p3_field::PrimeCharacteristicRing;
    use zkmips_prover::config::inner_config;

    use super::*;
    use crate::builder::Builder;
    use crate::ir::PERM_WIDTH;

    /// Touches every table: `x * y + constant`, an extension product, a permutation of the
    /// witness; exposes the sum, a product coordinate and a permutation output.
    fn machine(constant: u32) -> RecursionMachine {
        let mut b = Builder::new();
        let x = b.witness();
        let y = b.witness();
        let xy = b.mul(x, y);
        let sum = b.add_const(xy, Val::from_u32(constant));
        b.public(sum);
        let e = b.ext_mul(x.as_ext(), y.as_ext());
        let coordinates = b.ext_coordinates(e);
        b.public(coordinates[0]);
        let state = core::array::from_fn(|i| if i % 2 == 0 { x } else { sum });
        let out = b.poseidon2(state);
        b.public(out[PERM_WIDTH - 1]);
        RecursionMachine::new(b.build().expect("valid program"))
    }

    fn witness(x: u32, y: u32) -> Vec<Val> {
        vec![Val::from_u32(x), Val::from_u32(y)]
    }

    /// A proof with the fixed tables is the one [`RecursionMachine::prove`] makes, verifies by
    /// both entry points, and the fixed tables serve another run.
    #[test]
    fn runs_prove_and_verify_with_fixed_tables() {
        let config = inner_config();
        let machine = machine(5);
        let fixed = machine.fixed_tables(&config).unwrap();
        let proof = machine
            .prove_with_fixed(&config, &fixed, &witness(3, 4))
            .unwrap();
        assert_eq!(proof.public_values[0], Val::from_u32(17));
        machine.verify_with_fixed(&config, &fixed, &proof).unwrap();
        machine.verify(&config, &proof).unwrap();
        let fresh = machine.prove(&config, &witness(3, 4)).unwrap();
        assert_eq!(fresh.public_values, proof.public_values);
        assert_eq!(fresh.proof.degree_bits, proof.proof.degree_bits);
        assert_eq!(
            fixed.degree_bits(),
            proof.proof.degree_bits,
            "the fixed tables are at the machine's heights"
        );
        machine.verify_with_fixed(&config, &fixed, &fresh).unwrap();

        let other = machine
            .prove_with_fixed(&config, &fixed, &witness(10, 20))
            .unwrap();
        assert_eq!(other.public_values[0], Val::from_u32(205));
        machine.verify_with_fixed(&config, &fixed, &other).unwrap();
        let mut forged = other;
        forged.public_values[0] += Val::ONE;
        assert!(machine.verify_with_fixed(&config, &fixed, &forged).is_err());
        forged.public_values.pop();
        assert!(matches!(
            machine.verify_with_fixed(&config, &fixed, &forged),
            Err(VerifyError::Shape(_))
        ));
    }

    /// Fixed tables of a program of the same shape (one constant changed) are refused by the
    /// prover and the verifier, and that program's proofs are not ours.
    #[test]
    fn fixed_tables_of_another_program_are_refused() {
        let config = inner_config();
        let (ours, theirs) = (machine(5), machine(6));
        assert_eq!(ours.heights(), theirs.heights());
        let their_fixed = theirs.fixed_tables(&config).unwrap();
        assert!(matches!(
            ours.prove_with_fixed(&config, &their_fixed, &witness(3, 4)),
            Err(RecursionError::Prove(ProveError::FixedChip {
                what: "preprocessed table",
                ..
            }))
        ));
        let their_proof = theirs
            .prove_with_fixed(&config, &their_fixed, &witness(3, 4))
            .unwrap();
        theirs
            .verify_with_fixed(&config, &their_fixed, &their_proof)
            .unwrap();
        assert!(matches!(
            ours.verify_with_fixed(&config, &their_fixed, &their_proof),
            Err(VerifyError::Shape(_))
        ));
        let our_fixed = ours.fixed_tables(&config).unwrap();
        assert!(
            ours.verify_with_fixed(&config, &our_fixed, &their_proof)
                .is_err()
        );
        assert!(ours.verify(&config, &their_proof).is_err());
    }

    /// The first run commits and writes the fixed tables, the next reads them; proofs made
    /// with either verify against the key [`RecursionMachine::verify`] derives on its own.
    #[test]
    fn fixed_tables_are_cached_on_disk() {
        let config = inner_config();
        let (ours, another_program) = (machine(5), machine(6));
        let machine = &ours;
        let path =
            std::env::temp_dir().join(format!("zkmips-recursion-fixed-{}.bin", std::process::id()));
        let id = b"inner INNER_FRI";
        let start = std::time::Instant::now();
        let (built, first) = machine.fixed_tables_cached(&config, id, &path).unwrap();
        let build_time = start.elapsed();
        let start = std::time::Instant::now();
        let (loaded, second) = machine.fixed_tables_cached(&config, id, &path).unwrap();
        let load_time = start.elapsed();
        let other = another_program.fixed_tables_cached(&config, id, &path);
        std::fs::remove_file(&path).unwrap();
        eprintln!("fixed tables: built and written in {build_time:?}, read in {load_time:?}");
        assert!(matches!(
            first,
            FixedTablesOrigin::Built { saved: Ok(()), .. }
        ));
        assert!(matches!(second, FixedTablesOrigin::Loaded));
        assert!(matches!(
            other.unwrap().1,
            FixedTablesOrigin::Built {
                reason: batch::FixedTablesFileError::Stale { .. },
                ..
            }
        ));
        for fixed in [&built, &loaded] {
            let proof = machine
                .prove_with_fixed(&config, fixed, &witness(3, 4))
                .unwrap();
            machine.verify(&config, &proof).unwrap();
        }
    }

    /// A witness the program rejects does not prove; a tampered trace proved with the fixed
    /// tables does not verify (or trips `p3`'s debug checker in the prover).
    #[test]
    fn tampered_runs_are_rejected_with_fixed_tables() {
        let config = inner_config();
        let machine = machine(5);
        let fixed = machine.fixed_tables(&config).unwrap();
        assert!(matches!(
            machine.prove_with_fixed(&config, &fixed, &witness(3, 4)[..1]),
            Err(RecursionError::Runtime(_))
        ));

        let execution = machine.execute(&witness(3, 4)).unwrap();
        for index in [table::MEMORY, table::BASE_ALU, table::POSEIDON2] {
            let mut tables = machine.tables::<Val>(&execution);
            // In the first row: the witness `x` in memory, an ALU operand, a permutation input.
            let column = if index == table::MEMORY {
                crate::chips::memory::cols::VALUE
            } else {
                0
            };
            tables[index].trace.values[column] += Val::ONE;
            let accepted = catch_unwind(AssertUnwindSafe(|| {
                let proof = batch::prove_with_fixed(&config, &fixed, &tables).ok()?;
                let proof = RecursionProof {
                    proof,
                    public_values: execution.public_values.clone(),
                };
                machine.verify_with_fixed(&config, &fixed, &proof).ok()
            }));
            assert!(
                !matches!(accepted, Ok(Some(()))),
                "a tampered table {index} was accepted"
            );
        }
    }
}
