// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.20;

/// The Foundry cheatcodes these tests use. forge-std is not vendored (the build is offline), so
/// the few functions needed are declared here; signatures as documented in the Foundry book.
interface Vm {
    function projectRoot() external view returns (string memory);
    function readFile(string calldata path) external view returns (string memory);
    function envOr(string calldata name, string calldata defaultValue) external view returns (string memory);
    function parseJsonBytes(string calldata json, string calldata key) external pure returns (bytes memory);
    function parseJsonBytes32(string calldata json, string calldata key) external pure returns (bytes32);
    function expectRevert(bytes calldata revertData) external;
    function expectRevert(bytes4 revertData) external;
    function expectEmit() external;
    function prank(address msgSender) external;
}

/// One proof fixture written by the Rust side (wrapper/src/fixture.rs).
struct ProofFixture {
    bytes32 programVKey;
    bytes publicValues;
    bytes proof;
    bytes32 vkeyHash;
    bytes32 publicValuesDigest;
}

abstract contract ZkmipsTestBase {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
    address private constant CONSOLE = 0x000000000000000000636F6e736F6c652e6c6f67;

    /// A real `zkmips prove --evm` proof of the fibonacci example (n = 1000) under the dev-seed
    /// keys of the wrap circuit (docs/CONTRACTS.md).
    string internal constant EVM_FIXTURE = "/contracts/fixtures/fibonacci_evm.json";

    /// The EVM fixture to test: `EVM_FIXTURE`, or `$ZKMIPS_EVM_FIXTURE` (a path from the project
    /// root, readable under foundry.toml's `fs_permissions`), which cli/tests/prove_evm.rs sets to
    /// the fixture `zkmips prove --evm` has just written: one test from the ELF to forge.
    function evmFixture() internal view returns (ProofFixture memory) {
        return loadFixture(vm.envOr("ZKMIPS_EVM_FIXTURE", EVM_FIXTURE));
    }

    function loadFixture(string memory relativePath) internal view returns (ProofFixture memory f) {
        string memory json = vm.readFile(string.concat(vm.projectRoot(), relativePath));
        f.programVKey = vm.parseJsonBytes32(json, ".programVKey");
        f.publicValues = vm.parseJsonBytes(json, ".publicValues");
        f.proof = vm.parseJsonBytes(json, ".proof");
        f.vkeyHash = vm.parseJsonBytes32(json, ".vkeyHash");
        f.publicValuesDigest = vm.parseJsonBytes32(json, ".publicValuesDigest");
    }

    function logGas(string memory label, uint256 gasUsed) internal view {
        // A low-level call: the console address has no code, so a high-level call would revert.
        (bool ok,) = CONSOLE.staticcall(abi.encodeWithSignature("log(string,uint256)", label, gasUsed));
        ok; // forge intercepts the call; there is nothing to check
    }

    function flipped(bytes memory data, uint256 index, bytes1 mask) internal pure returns (bytes memory out) {
        out = bytes.concat(data);
        out[index] ^= mask;
    }

    function selectorOf(bytes memory revertData) internal pure returns (bytes4) {
        require(revertData.length >= 4, "revert without a custom error");
        // The custom-error selector is the first 4 bytes of the revert data.
        // forge-lint: disable-next-line(unsafe-typecast)
        return bytes4(revertData);
    }
}
