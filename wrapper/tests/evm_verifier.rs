//! The Solidity verifier against the committed real proof (a `zkmips prove --evm` run of the
//! fibonacci example, tests/evm_support): the committed verifier matches the keys, the fixture
//! verifies, and the contracts accept it and revert on every tampered byte, in an in-process EVM
//! (revm).
//!
//! Needs the Solidity tooling: `scripts/setup-foundry.sh` (npm solc-js behind `scripts/solc`).
//! Regenerate the committed verifier and fixture (after changing the circuit or its keys):
//! `zkmips export-verifier`, then `zkmips prove --evm` as in docs/CONTRACTS.md.

mod evm_support;

use alloy_sol_types::SolError;
use evm_support::*;
use zkmips_wrapper::evm::{
    CallOutcome, InvalidProofLength, ProofInvalid, PublicInputNotInField, RouteIsFrozen,
    RouteNotFound, VerifierDeployment, WrongVerifierSelector, describe_failure, intrinsic_gas,
    verify_proof_calldata,
};
use zkmips_wrapper::fixture::EvmFixture;
use zkmips_wrapper::keys::render_dev_verifier;
use zkmips_wrapper::solidity::{
    EncodingError, GROTH16_VERIFIER_PATH, PROOF_BYTES_LEN, verify_proof_bytes, verifying_key_hash,
};

/// Upper bound on the gas of a direct `verifyProof` transaction (2 public inputs; measured
/// ≈ 0.23 M incl. 21 000 base + calldata): catches a verifier that got much more expensive.
const MAX_DIRECT_TX_GAS: u64 = 260_000;

/// Public values of the fibonacci guest: n (u32 LE) ‖ fib(n) mod 2^64 (u64 LE).
fn fibonacci_public_values(n: u32) -> Vec<u8> {
    let (mut a, mut b) = (0u64, 1u64);
    for _ in 0..n {
        (a, b) = (b, a.wrapping_add(b));
    }
    let mut out = n.to_le_bytes().to_vec();
    out.extend_from_slice(&a.to_le_bytes());
    out
}

fn committed_fixture() -> EvmFixture {
    EvmFixture::read(&repo_root().join(EVM_FIXTURE_PATH)).expect("committed dev fixture")
}

fn assert_reverts_with(outcome: &CallOutcome, allowed: &[[u8; 4]], what: &str) {
    let selector = outcome
        .revert_selector()
        .unwrap_or_else(|| panic!("{what}: expected a revert, got {outcome:?}"));
    assert!(
        allowed.contains(&selector),
        "{what}: {}, expected one of {:?}",
        describe_failure(outcome),
        allowed.iter().map(hex::encode).collect::<Vec<_>>()
    );
}

#[test]
fn committed_verifier_matches_the_dev_keys() {
    let rendered = render_dev_verifier(&dev_keys().1).expect("render");
    let committed = std::fs::read_to_string(repo_root().join(GROTH16_VERIFIER_PATH))
        .expect("read the committed verifier");
    assert!(
        rendered == committed,
        "{GROTH16_VERIFIER_PATH} is not what wrapper/src/keys.rs renders from the dev keys; \
         regenerate it (see the header of wrapper/tests/evm_verifier.rs)"
    );
}

#[test]
fn evm_settings_match_foundry_toml() {
    let config = std::fs::read_to_string(repo_root().join("foundry.toml")).expect("foundry.toml");
    let lines: Vec<&str> = config.lines().map(str::trim).collect();
    for expected in [
        "optimizer = true".to_string(),
        format!("optimizer_runs = {}", zkmips_wrapper::evm::OPTIMIZER_RUNS),
        format!("evm_version = \"{}\"", zkmips_wrapper::evm::EVM_VERSION),
        "solc = \"scripts/solc\"".to_string(),
    ] {
        assert!(
            lines.contains(&expected.as_str()),
            "foundry.toml lacks `{expected}`: forge and the revm tests would compile differently"
        );
    }
}

#[test]
fn committed_fixture_verifies_natively() {
    let fixture = committed_fixture();
    let vk = &dev_keys().1;
    assert_eq!(fixture.vkey_hash, verifying_key_hash(vk));
    // The statement: the fibonacci example's programVKey (its fixed tables under the compress
    // settings, the recursion path's statement), and its public values for n = 1000.
    let elf = std::fs::read(repo_root().join("examples/bin/fibonacci.elf")).unwrap();
    let program = zkmips_prover::evm::EvmProgram::from_elf(&elf).unwrap();
    assert_eq!(
        fixture.program_vkey,
        program
            .compressed_vkey(&zkmips_prover::config::COMPRESS_FRI)
            .unwrap()
            .0
    );
    assert_eq!(fixture.public_values, fibonacci_public_values(1000));
    fixture.verify(vk).expect("the committed proof verifies");
}

#[test]
fn native_check_rejects_tampering() {
    let fixture = committed_fixture();
    let vk = &dev_keys().1;
    let check =
        |vkey: &[u8; 32], values: &[u8], proof: &[u8]| verify_proof_bytes(vk, vkey, values, proof);
    for i in 0..fixture.proof_bytes.len() {
        let mut proof = fixture.proof_bytes.clone();
        proof[i] ^= 0x01;
        let err = check(&fixture.program_vkey, &fixture.public_values, &proof).unwrap_err();
        if i < 4 {
            assert!(
                matches!(err, EncodingError::WrongSelector { .. }),
                "byte {i}: {err}"
            );
        }
    }
    for i in 0..fixture.public_values.len() {
        let mut values = fixture.public_values.clone();
        values[i] ^= 0x01;
        assert_eq!(
            check(&fixture.program_vkey, &values, &fixture.proof_bytes),
            Err(EncodingError::ProofInvalid),
            "public values byte {i}"
        );
    }
    for i in 0..32 {
        let mut vkey = fixture.program_vkey;
        vkey[i] ^= 0x01;
        assert!(
            check(&vkey, &fixture.public_values, &fixture.proof_bytes).is_err(),
            "vkey byte {i}"
        );
    }
    let mut longer = fixture.proof_bytes.clone();
    longer.push(0);
    assert!(matches!(
        check(&fixture.program_vkey, &fixture.public_values, &longer),
        Err(EncodingError::ProofLength { .. })
    ));
}

#[test]
fn evm_accepts_the_fixture_and_reports_gas() {
    let fixture = committed_fixture();
    let mut deployment = VerifierDeployment::deploy(compiled_contracts()).expect("deploy");
    assert_eq!(deployment.verifier_hash().unwrap(), fixture.vkey_hash);

    let direct = deployment
        .verify(
            false,
            &fixture.program_vkey,
            &fixture.public_values,
            &fixture.proof_bytes,
        )
        .unwrap();
    assert!(direct.is_success(), "direct verify: {direct:?}");
    let via_gateway = deployment
        .verify(
            true,
            &fixture.program_vkey,
            &fixture.public_values,
            &fixture.proof_bytes,
        )
        .unwrap();
    assert!(via_gateway.is_success(), "gateway verify: {via_gateway:?}");

    let calldata = verify_proof_calldata(
        &fixture.program_vkey,
        &fixture.public_values,
        &fixture.proof_bytes,
    );
    let intrinsic = intrinsic_gas(&calldata);
    println!(
        "verifyProof gas (tx incl. 21000 + calldata {}): direct {} (execution {}), via gateway {} (execution {})",
        intrinsic - 21_000,
        direct.gas_used,
        direct.gas_used - intrinsic,
        via_gateway.gas_used,
        via_gateway.gas_used - intrinsic
    );
    assert!(
        direct.gas_used <= MAX_DIRECT_TX_GAS,
        "direct gas {}",
        direct.gas_used
    );
    assert!(via_gateway.gas_used > direct.gas_used);
}

#[test]
fn evm_reverts_on_every_flipped_byte() {
    let fixture = committed_fixture();
    let mut deployment = VerifierDeployment::deploy(compiled_contracts()).expect("deploy");
    let (vkey, values, proof) = (
        &fixture.program_vkey,
        &fixture.public_values,
        &fixture.proof_bytes,
    );
    assert_eq!(proof.len(), PROOF_BYTES_LEN);

    for via_gateway in [false, true] {
        for i in 0..proof.len() {
            for flip in [0x01u8, 0x80] {
                let mut tampered = proof.clone();
                tampered[i] ^= flip;
                let outcome = deployment
                    .verify(via_gateway, vkey, values, &tampered)
                    .unwrap();
                let allowed: &[[u8; 4]] = match (i < 4, via_gateway) {
                    (true, false) => &[WrongVerifierSelector::SELECTOR],
                    (true, true) => &[RouteNotFound::SELECTOR],
                    (false, _) => &[ProofInvalid::SELECTOR],
                };
                assert_reverts_with(&outcome, allowed, &format!("proof byte {i} ^ {flip:#x}"));
            }
        }
        for i in 0..values.len() {
            let mut tampered = values.clone();
            tampered[i] ^= 0x01;
            let outcome = deployment
                .verify(via_gateway, vkey, &tampered, proof)
                .unwrap();
            assert_reverts_with(
                &outcome,
                &[ProofInvalid::SELECTOR],
                &format!("public values byte {i}"),
            );
        }
        for i in 0..32 {
            let mut tampered = *vkey;
            tampered[i] ^= 0x01;
            let outcome = deployment
                .verify(via_gateway, &tampered, values, proof)
                .unwrap();
            assert_reverts_with(
                &outcome,
                &[ProofInvalid::SELECTOR, PublicInputNotInField::SELECTOR],
                &format!("programVKey byte {i}"),
            );
        }
        // Extra or missing bytes, and extra public values.
        let mut longer = proof.clone();
        longer.push(0);
        let outcome = deployment
            .verify(via_gateway, vkey, values, &longer)
            .unwrap();
        assert_reverts_with(&outcome, &[InvalidProofLength::SELECTOR], "proof + 1 byte");
        let outcome = deployment
            .verify(via_gateway, vkey, values, &proof[..proof.len() - 1])
            .unwrap();
        assert_reverts_with(&outcome, &[InvalidProofLength::SELECTOR], "proof - 1 byte");
        let mut more_values = values.clone();
        more_values.push(0);
        let outcome = deployment
            .verify(via_gateway, vkey, &more_values, proof)
            .unwrap();
        assert_reverts_with(
            &outcome,
            &[ProofInvalid::SELECTOR],
            "public values + 1 byte",
        );
    }
}

#[test]
fn evm_gateway_rejects_frozen_routes() {
    use alloy_sol_types::SolCall;
    use zkmips_wrapper::evm::IZkmipsVerifierGateway;

    let fixture = committed_fixture();
    let mut deployment = VerifierDeployment::deploy(compiled_contracts()).expect("deploy");
    let selector: [u8; 4] = fixture.proof_bytes[..4].try_into().unwrap();
    let gateway = deployment.gateway;
    let freeze = IZkmipsVerifierGateway::freezeRouteCall {
        selector: selector.into(),
    }
    .abi_encode();
    assert!(
        deployment
            .evm
            .call(gateway, freeze.clone())
            .unwrap()
            .is_success()
    );
    let outcome = deployment
        .verify(
            true,
            &fixture.program_vkey,
            &fixture.public_values,
            &fixture.proof_bytes,
        )
        .unwrap();
    assert_reverts_with(&outcome, &[RouteIsFrozen::SELECTOR], "frozen route");
    // Freezing twice is an error; the direct verifier is unaffected by the gateway.
    let again = deployment.evm.call(gateway, freeze).unwrap();
    assert_reverts_with(&again, &[RouteIsFrozen::SELECTOR], "freeze twice");
    let direct = deployment
        .verify(
            false,
            &fixture.program_vkey,
            &fixture.public_values,
            &fixture.proof_bytes,
        )
        .unwrap();
    assert!(direct.is_success());
}
