//! `zkmips prove --evm` end to end on the fibonacci example (a run that fills the EVM shape's
//! CPU table): the command proves the shard, compresses it down the recursion chain, wraps the
//! shrink proof in Groth16 and verifies in the in-process EVM; it writes a Foundry fixture of
//! the same statement as the committed one, and `forge test` verifies that written fixture with
//! the committed contracts (ELF to forge in one test); the wrap circuit's size is guarded at the
//! 2^21 budget. The circuit's rejections of an altered public
//! input, statement value or opened value run at test size (`wrapper/tests/compressed_wrap.rs`);
//! tampering with a STARK proof itself: `wrapper/tests/batch_verifier.rs`.
//!
//! The Groth16 keys come from the shared cache (`target/zkmips-keys`, derived from the dev seed on
//! first use).

#[macro_use]
#[allow(unused_macros)]
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use p3_batch_stark::BatchProof;
use p3_koala_bear::KoalaBear;
use support::{scratch_dir, zkmips_bin};
use zkmips_prover::outer::OuterConfig;
use zkmips_wrapper::fixture::EvmFixture;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn prove_evm_writes_the_committed_fixture() {
    let out = scratch_dir(&["prove-evm", "fibonacci"]);
    let output = Command::new(zkmips_bin())
        .current_dir(repo())
        .args(["prove", "--evm", "examples/bin/fibonacci.elf"])
        .args(["--input", "examples/fibonacci/input.bin"])
        .arg("-o")
        .arg(&out)
        .arg("--keys-dir")
        .arg(repo().join("target/zkmips-keys"))
        .output()
        .expect("zkmips runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("EVM gas"), "{stdout}");
    assert!(stderr.contains("NOT a trusted-setup ceremony"), "{stderr}");

    // The committed fixture states what this command proves: same program key, public values,
    // verifier (selector and hash) and note. The proof bytes are not compared: Plonky3 searches
    // proof-of-work witnesses in parallel and keeps any valid one, so the STARK under the Groth16
    // proof (and with it the proof) can differ between runs. The command verified its proof
    // natively and in the EVM; the committed one is verified by `wrapper/tests/keys.rs`,
    // `wrapper/tests/evm_verifier.rs` and `forge test`.
    let written = EvmFixture::read(&out.join("fixture.json")).unwrap();
    let committed =
        EvmFixture::read(&repo().join("contracts/fixtures/fibonacci_evm.json")).unwrap();
    let stale = "contracts/fixtures/fibonacci_evm.json is stale: regenerate it (docs/CONTRACTS.md)";
    assert_eq!(written.program_vkey, committed.program_vkey, "{stale}");
    assert_eq!(written.public_values, committed.public_values, "{stale}");
    assert_eq!(written.vkey_hash, committed.vkey_hash, "{stale}");
    assert_eq!(
        written.proof_bytes[..4],
        committed.proof_bytes[..4],
        "{stale}"
    );
    assert_eq!(
        written.proof_bytes.len(),
        committed.proof_bytes.len(),
        "{stale}"
    );
    assert_eq!(written.note, committed.note, "{stale}");
    assert_eq!(
        std::fs::read(out.join("public_values.bin")).unwrap(),
        [
            &1000u32.to_le_bytes()[..],
            &817770325994397771u64.to_le_bytes()[..]
        ]
        .concat()
    );

    // forge verifies the fixture just written, with the committed contracts (the verifier test
    // suite: the proof verifies directly and through the gateway, every flipped byte reverts).
    let forge_fixtures = repo().join("target/forge-fixtures");
    std::fs::create_dir_all(&forge_fixtures).unwrap();
    std::fs::copy(
        out.join("fixture.json"),
        forge_fixtures.join("fibonacci_evm.json"),
    )
    .unwrap();
    let forge = Command::new(repo().join("scripts/forge"))
        .current_dir(repo())
        .args(["test", "--match-contract", "ZkmipsVerifierTest"])
        .env(
            "ZKMIPS_EVM_FIXTURE",
            "/target/forge-fixtures/fibonacci_evm.json",
        )
        .output()
        .expect("scripts/forge runs (scripts/setup-foundry.sh installs it)");
    let forge_out = String::from_utf8_lossy(&forge.stdout);
    assert!(
        forge.status.success(),
        "forge rejected the written fixture:\n{forge_out}\n{}",
        String::from_utf8_lossy(&forge.stderr)
    );
    assert!(
        forge_out.contains("[PASS] test_ValidProofVerifiesDirectly"),
        "{forge_out}"
    );

    // The written STARK proof (the shrink proof and its public values: the statement) decodes.
    let (_, statement): (BatchProof<OuterConfig>, Vec<KoalaBear>) =
        postcard::from_bytes(&std::fs::read(out.join("stark_proof.bin")).unwrap()).unwrap();
    assert_eq!(statement.len(), zkmips_recursion::mips::statement::LEN);

    // Size guard (BENCHMARKS.md): 2,035,210 at the time of writing, budget 2^21. The command
    // proves and verifies the Groth16 proof natively and in the EVM, so the circuit was
    // satisfied.
    let constraints: usize = stderr
        .split("Groth16 proof (")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|count| count.parse().ok())
        .unwrap_or_else(|| panic!("no constraint count in {stderr}"));
    println!("wrap circuit: {constraints} constraints");
    assert!(constraints <= 1 << 21, "{constraints} constraints");
}

/// `zkmips vkey --evm` prints the programVKey the EVM statement proves: the committed fixture's.
#[test]
fn vkey_evm_is_the_fixtures_program_key() {
    let output = Command::new(zkmips_bin())
        .current_dir(repo())
        .args(["vkey", "--evm", "examples/bin/fibonacci.elf"])
        .output()
        .expect("zkmips runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    let committed =
        EvmFixture::read(&repo().join("contracts/fixtures/fibonacci_evm.json")).unwrap();
    let expected: String = committed
        .program_vkey
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(stdout.trim().trim_start_matches("0x"), expected);
}
