//! `zkmips prove --evm`: an EVM proof of the run — one fixed-shape shard, compressed by the
//! recursion chain into a shrink proof under the outer config (docs/RECURSION.md §0), wrapped
//! in the Groth16 circuit — written as the files an application needs, and checked by the
//! verifier contract in an in-process EVM.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, anyhow};
use zkmips_prover::batch::FixedTablesOrigin;
use zkmips_prover::evm::EvmProgram;
use zkmips_wrapper::evm::{CompiledContracts, intrinsic_gas, verify_in_evm, verify_proof_calldata};
use zkmips_wrapper::evm_prover::{EvmProver, SynthesizedWrap};
use zkmips_wrapper::fixture::EvmFixture;
use zkmips_wrapper::keys::{CURRENT_WRAP_CIRCUIT_NAME, DEV_KEYS_WARNING, KeyCache, KeySource};

use crate::prove::{ProveArgs, read};

/// Files written to the output directory.
pub const FIXTURE_FILE: &str = "fixture.json";
pub const PROOF_BYTES_FILE: &str = "proof_bytes.bin";
pub const PUBLIC_VALUES_FILE: &str = "public_values.bin";
pub const CALLDATA_FILE: &str = "calldata.hex";
pub const STARK_PROOF_FILE: &str = "stark_proof.bin";

/// The repository holding `contracts/src` and `scripts/solc`: the first ancestor of the working
/// directory with a `foundry.toml`.
fn contracts_root() -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    cwd.ancestors()
        .find(|dir| dir.join("foundry.toml").is_file() && dir.join("contracts/src").is_dir())
        .map(Path::to_path_buf)
}

pub fn prove_evm(args: &ProveArgs) -> Result<()> {
    let out_dir = args
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from("evm-proof"));
    let elf = read(&args.program)?;
    let inputs = args.input.iter().map(read).collect::<Result<Vec<_>>>()?;
    let hints = args.hint.iter().map(read).collect::<Result<Vec<_>>>()?;
    let program = EvmProgram::from_elf(&elf).with_context(|| args.program.display().to_string())?;

    eprintln!("WARNING: {DEV_KEYS_WARNING}");
    let cache = match &args.keys_dir {
        Some(dir) => KeyCache::new(dir),
        None => KeyCache::from_env(),
    };
    let start = Instant::now();
    let (prover, origin) =
        EvmProver::production(&cache).context("the recursion chain and its fixed tables")?;
    match origin {
        Some(FixedTablesOrigin::Loaded) | None => eprintln!(
            "recursion chain ready in {:.1} s",
            start.elapsed().as_secs_f64()
        ),
        Some(FixedTablesOrigin::Built { reason, saved }) => eprintln!(
            "recursion chain ready in {:.1} s (shrink fixed tables committed: {reason}; {})",
            start.elapsed().as_secs_f64(),
            match saved {
                Ok(()) => "saved for the next run".to_string(),
                Err(err) => format!("not saved: {err}"),
            }
        ),
    }
    let vkey = prover.program_vkey(&program)?;

    let start = Instant::now();
    let proved = prover
        .prove(&program, inputs, hints)
        .with_context(|| args.program.display().to_string())?;
    let timings = proved.shrink.timings;
    eprintln!(
        "STARK (MIPS shard {:.1} s, compress {:.1} s, shrink under the outer config {:.1} s) in \
         {:.1} s",
        timings.shard.as_secs_f64(),
        timings.compress.as_secs_f64(),
        timings.shrink.as_secs_f64(),
        start.elapsed().as_secs_f64()
    );
    let public_values = proved.shrink.committed.clone();
    // The Groth16 stage is the memory peak. Its largest objects are the recursion chain with
    // its fixed tables, the constraint system during synthesis, and the proving key: free the
    // chain first (keeping the blank circuit in case the keys must be derived), derive missing
    // keys without keeping them, synthesize, and only then load the proving key.
    let blank = prover.blank_circuit()?;
    drop(prover);

    let start = Instant::now();
    let key_source = cache
        .derive_if_missing(CURRENT_WRAP_CIRCUIT_NAME, blank)
        .with_context(|| format!("Groth16 keys of circuit `{CURRENT_WRAP_CIRCUIT_NAME}`"))?;
    if key_source == KeySource::Derived {
        eprintln!(
            "Groth16 keys derived from the dev seed into {} in {:.1} s",
            cache.entry_dir(CURRENT_WRAP_CIRCUIT_NAME).display(),
            start.elapsed().as_secs_f64()
        );
    }

    let start = Instant::now();
    let synthesized = SynthesizedWrap::new(proved.circuit)
        .map_err(|e| anyhow!("Groth16 synthesis failed: {e}"))?;
    let synthesis_time = start.elapsed();

    let start = Instant::now();
    let keys = cache
        .load_for_proving(CURRENT_WRAP_CIRCUIT_NAME)
        .with_context(|| format!("Groth16 keys of circuit `{CURRENT_WRAP_CIRCUIT_NAME}`"))?;
    eprintln!(
        "Groth16 keys loaded from {} in {:.1} s",
        cache.entry_dir(&keys.circuit).display(),
        start.elapsed().as_secs_f64()
    );

    let start = Instant::now();
    let proved_groth16 = synthesized
        .prove(&keys)
        .map_err(|e| anyhow!("Groth16 proving failed: {e}"))?;
    let groth16 = proved_groth16.proof;
    eprintln!(
        "Groth16 proof ({} constraints) in {:.1} s (synthesis {:.1} s)",
        proved_groth16.num_constraints,
        (synthesis_time + start.elapsed()).as_secs_f64(),
        synthesis_time.as_secs_f64()
    );

    let note = format!(
        "zkmips prove --evm {} ({} cycles): a real proof under DEVELOPMENT Groth16 keys (public seed, NOT a trusted setup)",
        args.program
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        proved.shrink.cycles
    );
    let fixture = EvmFixture::new(
        &keys.verifying_key,
        &groth16,
        vkey.0,
        public_values.clone(),
        note,
    );
    fixture
        .verify(&keys.verifying_key)
        .context("the fixture does not verify natively")?;

    std::fs::create_dir_all(&out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    let write = |name: &str, bytes: &[u8]| -> Result<()> {
        let path = out_dir.join(name);
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))
    };
    let calldata = verify_proof_calldata(&vkey.0, &public_values, &fixture.proof_bytes);
    fixture
        .write(&out_dir.join(FIXTURE_FILE))
        .context("writing the fixture")?;
    write(PROOF_BYTES_FILE, &fixture.proof_bytes)?;
    write(PUBLIC_VALUES_FILE, &public_values)?;
    write(CALLDATA_FILE, format!("0x{}\n", hex(&calldata)).as_bytes())?;
    write(
        STARK_PROOF_FILE,
        &postcard::to_allocvec(&(
            &proved.shrink.proof.proof,
            &proved.shrink.proof.public_values,
        ))
        .context("encoding the STARK proof")?,
    )?;

    println!("program vkey    {}", vkey.to_hex());
    println!("public values   0x{}", hex(&public_values));
    println!("proof bytes     {} bytes", fixture.proof_bytes.len());
    println!("written to      {}", out_dir.display());

    match contracts_root() {
        Some(root) => {
            let contracts = CompiledContracts::compile(&root)
                .with_context(|| format!("compiling the contracts under {}", root.display()))?;
            let gas = verify_in_evm(&contracts, &vkey.0, &public_values, &fixture.proof_bytes)
                .context(
                    "the verifier contract rejects the proof (if contracts/src/Groth16Verifier.sol \
                     is for other keys, regenerate it with `zkmips export-verifier`)",
                )?;
            let intrinsic = intrinsic_gas(&calldata);
            println!(
                "EVM gas         ZkmipsVerifier.verifyProof {} ({} execution), via the gateway {}",
                gas.direct_gas,
                gas.direct_gas - intrinsic,
                gas.gateway_gas
            );
        }
        None => eprintln!(
            "note: no foundry.toml with contracts/src above the working directory; the in-process \
             EVM check was skipped (run from the zkmips repository to get it)"
        ),
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
