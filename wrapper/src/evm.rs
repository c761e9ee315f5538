//! Runs the zkmips Solidity contracts in an in-process EVM (revm, Prague rules, the same BN254
//! precompiles as mainnet) so Rust code can check a proof on chain and measure its gas without
//! a node or Foundry. The contracts are compiled from `contracts/src` by `scripts/solc`
//! (solc-js 0.8.30, installed by `scripts/setup-foundry.sh`) with the optimizer settings of
//! `foundry.toml`, so gas matches `forge test` up to call-frame overhead.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use alloy_primitives::{Address, B256, Bytes};
use alloy_sol_types::{SolCall, SolValue};
use revm::context::TxEnv;
use revm::context_interface::result::ExecutionResult;
use revm::database::InMemoryDB;
use revm::handler::{MainnetContext, MainnetEvm};
use revm::primitives::TxKind;
use revm::primitives::hardfork::SpecId;
use revm::{Context, ExecuteCommitEvm, MainBuilder, MainContext};
use serde_json::{Value, json};

alloy_sol_types::sol! {
    /// `contracts/src/IZkmipsVerifier.sol`.
    interface IZkmipsVerifier {
        function verifyProof(bytes32 programVKey, bytes publicValues, bytes proofBytes) external view;
        function VERIFIER_HASH() external pure returns (bytes32);
    }

    /// `contracts/src/ZkmipsVerifierGateway.sol` (the calls Rust needs).
    interface IZkmipsVerifierGateway {
        function addRoute(address verifier) external returns (bytes4 selector);
        function freezeRoute(bytes4 selector) external;
    }

    /// Reverts of the generated `Groth16Verifier`.
    error ProofInvalid();
    error PublicInputNotInField();
    /// Reverts of `ZkmipsVerifier`.
    error WrongVerifierSelector(bytes4 received, bytes4 expected);
    error InvalidProofLength(uint256 length);
    /// Reverts of `ZkmipsVerifierGateway`.
    error RouteNotFound(bytes4 selector);
    error RouteIsFrozen(bytes4 selector);
    error ProofTooShort(uint256 length);
}

/// The account that deploys and calls everything (it also owns the gateway).
pub const DEPLOYER: Address = Address::new([0x5a; 20]);

/// Gas limit of every transaction (below the Osaka per-transaction cap of 2^24).
const TX_GAS_LIMIT: u64 = 16_000_000;

/// Optimizer runs, as in `foundry.toml` (a test checks they agree).
pub const OPTIMIZER_RUNS: u64 = 200;
/// EVM version compiled for and executed, as in `foundry.toml`.
pub const EVM_VERSION: &str = "prague";

/// Why compiling or running the contracts failed.
#[derive(Debug, thiserror::Error)]
pub enum EvmError {
    #[error(
        "cannot run {solc}: {source} (install the Solidity tooling with scripts/setup-foundry.sh)"
    )]
    SolcSpawn {
        solc: String,
        source: std::io::Error,
    },
    #[error("{solc} failed ({status}): {stderr}")]
    SolcFailed {
        solc: String,
        status: String,
        stderr: String,
    },
    #[error("solc output is not the expected JSON: {0}")]
    SolcOutput(String),
    #[error("Solidity compilation errors:\n{0}")]
    Compilation(String),
    #[error("reading {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("contract `{0}` is not among the compiled contracts")]
    UnknownContract(String),
    #[error("EVM transaction error: {0}")]
    Transaction(String),
    #[error("deploying `{contract}` failed: {reason}")]
    Deploy { contract: String, reason: String },
    #[error("call to {0} did not succeed: {1}")]
    CallFailed(&'static str, String),
}

/// Creation bytecode of every contract in `contracts/src`, by contract name.
#[derive(Debug, Clone)]
pub struct CompiledContracts {
    creation_code: HashMap<String, Vec<u8>>,
}

impl CompiledContracts {
    /// Compiles every `.sol` file under `<repo_root>/contracts/src` with `<repo_root>/scripts/solc`.
    pub fn compile(repo_root: &Path) -> Result<Self, EvmError> {
        let src = repo_root.join("contracts/src");
        let mut files = Vec::new();
        collect_solidity_files(&src, &mut files)?;
        files.sort();
        let mut sources = serde_json::Map::new();
        for file in &files {
            let content = std::fs::read_to_string(file).map_err(|source| EvmError::Io {
                path: file.display().to_string(),
                source,
            })?;
            let unit = file
                .strip_prefix(repo_root)
                .expect("collected under repo_root")
                .to_string_lossy()
                .replace('\\', "/");
            sources.insert(unit, json!({ "content": content }));
        }
        let input = json!({
            "language": "Solidity",
            "sources": sources,
            "settings": {
                "optimizer": { "enabled": true, "runs": OPTIMIZER_RUNS },
                "evmVersion": EVM_VERSION,
                "outputSelection": { "*": { "*": ["evm.bytecode.object"] } },
            },
        });
        let output = run_solc(&repo_root.join("scripts/solc"), &input.to_string())?;
        Self::from_standard_json_output(&output)
    }

    fn from_standard_json_output(output: &str) -> Result<Self, EvmError> {
        let output: Value =
            serde_json::from_str(output).map_err(|e| EvmError::SolcOutput(e.to_string()))?;
        let errors: Vec<String> = output["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["severity"] == "error")
            .map(|e| {
                e["formattedMessage"]
                    .as_str()
                    .or(e["message"].as_str())
                    .unwrap_or("(no message)")
                    .to_string()
            })
            .collect();
        if !errors.is_empty() {
            return Err(EvmError::Compilation(errors.join("\n")));
        }
        let mut creation_code = HashMap::new();
        let files = output["contracts"]
            .as_object()
            .ok_or_else(|| EvmError::SolcOutput("no `contracts` object".into()))?;
        for contracts in files.values() {
            for (name, contract) in contracts.as_object().into_iter().flatten() {
                let object = contract["evm"]["bytecode"]["object"]
                    .as_str()
                    .ok_or_else(|| EvmError::SolcOutput(format!("{name}: no bytecode")))?;
                let code = hex::decode(object)
                    .map_err(|e| EvmError::SolcOutput(format!("{name}: bytecode hex: {e}")))?;
                creation_code.insert(name.clone(), code);
            }
        }
        Ok(Self { creation_code })
    }

    /// The creation (init) code of contract `name`; empty for interfaces.
    pub fn creation_code(&self, name: &str) -> Result<&[u8], EvmError> {
        self.creation_code
            .get(name)
            .map(Vec::as_slice)
            .ok_or_else(|| EvmError::UnknownContract(name.to_string()))
    }
}

fn collect_solidity_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), EvmError> {
    let io = |source| EvmError::Io {
        path: dir.display().to_string(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_dir() {
            collect_solidity_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "sol") {
            out.push(path);
        }
    }
    Ok(())
}

fn run_solc(solc: &Path, input: &str) -> Result<String, EvmError> {
    let name = solc.display().to_string();
    let mut child = Command::new(solc)
        .arg("--standard-json")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| EvmError::SolcSpawn {
            solc: name.clone(),
            source,
        })?;
    // solc-js reads all of stdin before writing, so writing first cannot deadlock.
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(input.as_bytes())
        .map_err(|source| EvmError::SolcSpawn {
            solc: name.clone(),
            source,
        })?;
    let output = child
        .wait_with_output()
        .map_err(|source| EvmError::SolcSpawn {
            solc: name.clone(),
            source,
        })?;
    if !output.status.success() {
        return Err(EvmError::SolcFailed {
            solc: name,
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
    }
    String::from_utf8(output.stdout).map_err(|e| EvmError::SolcOutput(e.to_string()))
}

/// How a call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallStatus {
    Success,
    /// `REVERT` with the revert data in [`CallOutcome::output`].
    Revert,
    /// An exceptional halt (out of gas, invalid opcode, ...).
    Halt(String),
}

/// Result of one transaction.
#[derive(Debug, Clone)]
pub struct CallOutcome {
    pub status: CallStatus,
    /// Gas of the whole transaction: 21 000 base + calldata + execution.
    pub gas_used: u64,
    /// Return data, or revert data.
    pub output: Vec<u8>,
}

impl CallOutcome {
    pub fn is_success(&self) -> bool {
        self.status == CallStatus::Success
    }

    /// The 4-byte custom-error selector of a revert, if any.
    pub fn revert_selector(&self) -> Option<[u8; 4]> {
        match self.status {
            CallStatus::Revert if self.output.len() >= 4 => {
                Some(self.output[..4].try_into().expect("4 bytes"))
            }
            _ => None,
        }
    }
}

/// Gas a transaction pays for its calldata before executing (EIP-2028 pricing: 4 per zero byte,
/// 16 per other byte) plus the 21 000 base; `gas_used - intrinsic_gas(data)` is the execution gas.
pub fn intrinsic_gas(calldata: &[u8]) -> u64 {
    21_000
        + calldata
            .iter()
            .map(|&b| if b == 0 { 4 } else { 16 })
            .sum::<u64>()
}

/// A fresh single-account EVM chain.
pub struct Evm {
    evm: MainnetEvm<MainnetContext<InMemoryDB>>,
    nonce: u64,
}

impl Default for Evm {
    fn default() -> Self {
        Self::new()
    }
}

impl Evm {
    pub fn new() -> Self {
        let evm = Context::mainnet()
            .with_db(InMemoryDB::default())
            .modify_cfg_chained(|cfg| cfg.spec = SpecId::PRAGUE)
            .build_mainnet();
        Self { evm, nonce: 0 }
    }

    fn transact(&mut self, kind: TxKind, data: Vec<u8>) -> Result<CallOutcome, EvmError> {
        let tx = TxEnv::builder()
            .caller(DEPLOYER)
            .kind(kind)
            .data(Bytes::from(data))
            .gas_limit(TX_GAS_LIMIT)
            .nonce(self.nonce)
            .build()
            .map_err(|e| EvmError::Transaction(format!("{e:?}")))?;
        let result = self
            .evm
            .transact_commit(tx)
            .map_err(|e| EvmError::Transaction(e.to_string()))?;
        // Every included transaction, reverted or not, bumps the sender's nonce.
        self.nonce += 1;
        let gas_used = result.tx_gas_used();
        Ok(match result {
            ExecutionResult::Success { output, .. } => CallOutcome {
                status: CallStatus::Success,
                gas_used,
                output: match output.address() {
                    Some(address) => address.to_vec(),
                    None => output.into_data().to_vec(),
                },
            },
            ExecutionResult::Revert { output, .. } => CallOutcome {
                status: CallStatus::Revert,
                gas_used,
                output: output.to_vec(),
            },
            ExecutionResult::Halt { reason, .. } => CallOutcome {
                status: CallStatus::Halt(format!("{reason:?}")),
                gas_used,
                output: Vec::new(),
            },
        })
    }

    /// Deploys `init_code` (creation code followed by ABI-encoded constructor arguments).
    pub fn deploy(&mut self, contract: &str, init_code: Vec<u8>) -> Result<Address, EvmError> {
        let outcome = self.transact(TxKind::Create, init_code)?;
        match outcome.status {
            CallStatus::Success => Ok(Address::from_slice(&outcome.output)),
            status => Err(EvmError::Deploy {
                contract: contract.to_string(),
                reason: format!("{status:?}, output 0x{}", hex::encode(&outcome.output)),
            }),
        }
    }

    /// Sends a transaction calling `to` with `calldata`.
    pub fn call(&mut self, to: Address, calldata: Vec<u8>) -> Result<CallOutcome, EvmError> {
        self.transact(TxKind::Call(to), calldata)
    }
}

/// `ZkmipsVerifier` and a `ZkmipsVerifierGateway` routing to it, deployed on a fresh [`Evm`].
pub struct VerifierDeployment {
    pub evm: Evm,
    pub verifier: Address,
    pub gateway: Address,
}

impl VerifierDeployment {
    pub fn deploy(contracts: &CompiledContracts) -> Result<Self, EvmError> {
        let mut evm = Evm::new();
        let verifier = evm.deploy(
            "ZkmipsVerifier",
            contracts.creation_code("ZkmipsVerifier")?.to_vec(),
        )?;
        let mut gateway_init = contracts.creation_code("ZkmipsVerifierGateway")?.to_vec();
        gateway_init.extend_from_slice(&DEPLOYER.abi_encode());
        let gateway = evm.deploy("ZkmipsVerifierGateway", gateway_init)?;
        let added = evm.call(
            gateway,
            IZkmipsVerifierGateway::addRouteCall { verifier }.abi_encode(),
        )?;
        if !added.is_success() {
            return Err(EvmError::CallFailed(
                "ZkmipsVerifierGateway.addRoute",
                format!("{:?} 0x{}", added.status, hex::encode(&added.output)),
            ));
        }
        Ok(Self {
            evm,
            verifier,
            gateway,
        })
    }

    /// `VERIFIER_HASH()` of the deployed verifier.
    pub fn verifier_hash(&mut self) -> Result<[u8; 32], EvmError> {
        let out = self.evm.call(
            self.verifier,
            IZkmipsVerifier::VERIFIER_HASHCall {}.abi_encode(),
        )?;
        if !out.is_success() {
            return Err(EvmError::CallFailed(
                "ZkmipsVerifier.VERIFIER_HASH",
                format!("{:?}", out.status),
            ));
        }
        let hash =
            B256::abi_decode(&out.output).map_err(|e| EvmError::SolcOutput(e.to_string()))?;
        Ok(hash.0)
    }

    /// Calls `verifyProof` on the verifier (`via_gateway = false`) or on the gateway.
    pub fn verify(
        &mut self,
        via_gateway: bool,
        program_vkey: &[u8; 32],
        public_values: &[u8],
        proof_bytes: &[u8],
    ) -> Result<CallOutcome, EvmError> {
        let to = if via_gateway {
            self.gateway
        } else {
            self.verifier
        };
        self.evm.call(
            to,
            verify_proof_calldata(program_vkey, public_values, proof_bytes),
        )
    }
}

/// Gas of one successful verification in a fresh EVM (whole transactions: 21 000 base +
/// calldata + execution; subtract [`intrinsic_gas`] of the calldata for execution only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvmVerification {
    pub direct_gas: u64,
    pub gateway_gas: u64,
}

/// Deploys the verifier and the gateway and verifies the proof through both, as `zkmips prove
/// --evm` does; a revert is an error naming the contract's custom error.
pub fn verify_in_evm(
    contracts: &CompiledContracts,
    program_vkey: &[u8; 32],
    public_values: &[u8],
    proof_bytes: &[u8],
) -> Result<EvmVerification, EvmError> {
    let mut deployment = VerifierDeployment::deploy(contracts)?;
    let direct = deployment.verify(false, program_vkey, public_values, proof_bytes)?;
    if !direct.is_success() {
        return Err(EvmError::CallFailed(
            "ZkmipsVerifier.verifyProof",
            describe_failure(&direct),
        ));
    }
    let gateway = deployment.verify(true, program_vkey, public_values, proof_bytes)?;
    if !gateway.is_success() {
        return Err(EvmError::CallFailed(
            "ZkmipsVerifierGateway.verifyProof",
            describe_failure(&gateway),
        ));
    }
    Ok(EvmVerification {
        direct_gas: direct.gas_used,
        gateway_gas: gateway.gas_used,
    })
}

/// A readable reason for a failed call: the custom error's name when it is one of ours.
pub fn describe_failure(outcome: &CallOutcome) -> String {
    use alloy_sol_types::SolError;
    let known: [([u8; 4], &str); 7] = [
        (ProofInvalid::SELECTOR, "ProofInvalid()"),
        (PublicInputNotInField::SELECTOR, "PublicInputNotInField()"),
        (
            WrongVerifierSelector::SELECTOR,
            "WrongVerifierSelector(bytes4,bytes4)",
        ),
        (InvalidProofLength::SELECTOR, "InvalidProofLength(uint256)"),
        (RouteNotFound::SELECTOR, "RouteNotFound(bytes4)"),
        (RouteIsFrozen::SELECTOR, "RouteIsFrozen(bytes4)"),
        (ProofTooShort::SELECTOR, "ProofTooShort(uint256)"),
    ];
    match (&outcome.status, outcome.revert_selector()) {
        (CallStatus::Revert, Some(selector)) => {
            let name = known
                .iter()
                .find(|(s, _)| *s == selector)
                .map_or("unknown custom error", |(_, name)| name);
            format!(
                "reverted with {name}, data 0x{}",
                hex::encode(&outcome.output)
            )
        }
        (CallStatus::Revert, None) => {
            format!(
                "reverted without a custom error (data 0x{})",
                hex::encode(&outcome.output)
            )
        }
        (CallStatus::Halt(reason), _) => format!("halted: {reason}"),
        (CallStatus::Success, _) => "succeeded".to_string(),
    }
}

/// ABI-encoded `verifyProof(bytes32,bytes,bytes)` call.
pub fn verify_proof_calldata(
    program_vkey: &[u8; 32],
    public_values: &[u8],
    proof_bytes: &[u8],
) -> Vec<u8> {
    IZkmipsVerifier::verifyProofCall {
        programVKey: B256::from(*program_vkey),
        publicValues: Bytes::copy_from_slice(public_values),
        proofBytes: Bytes::copy_from_slice(proof_bytes),
    }
    .abi_encode()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intrinsic_gas_prices_zero_and_nonzero_bytes() {
        assert_eq!(intrinsic_gas(&[]), 21_000);
        assert_eq!(intrinsic_gas(&[0, 1, 0, 0xff]), 21_000 + 4 + 16 + 4 + 16);
    }

    #[test]
    fn compilation_errors_are_reported() {
        let output = r#"{"errors":[{"severity":"error","formattedMessage":"ParserError: boom"}]}"#;
        let err = CompiledContracts::from_standard_json_output(output).unwrap_err();
        assert!(err.to_string().contains("ParserError: boom"), "{err}");
    }

    #[test]
    fn plain_evm_runs_a_contract() {
        // Init code returning runtime code `PUSH1 42 PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN`.
        let runtime = hex::decode("602a60005260206000f3").unwrap();
        let mut init = hex::decode("600a600c600039600a6000f3").unwrap();
        init.extend_from_slice(&runtime);
        let mut evm = Evm::new();
        let address = evm.deploy("answer", init).unwrap();
        let out = evm.call(address, vec![]).unwrap();
        assert!(out.is_success());
        assert_eq!(out.output[31], 42);
        // Four PUSH1 (3 each), MSTORE (3) and one word of memory (3); calldata is empty.
        assert_eq!(out.gas_used, 21_000 + 4 * 3 + 3 + 3);
    }
}
