// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.20;

import {ZkmipsTestBase, ProofFixture} from "./ZkmipsTestBase.sol";
import {Groth16Verifier} from "../src/Groth16Verifier.sol";
import {ZkmipsMockVerifier} from "../src/ZkmipsMockVerifier.sol";
import {ZkmipsVerifier} from "../src/ZkmipsVerifier.sol";
import {ZkmipsVerifierGateway} from "../src/ZkmipsVerifierGateway.sol";
import {FibonacciApp} from "../src/examples/FibonacciApp.sol";

/// The example application, first against the mock verifier (how apps test their own logic),
/// then against the real verifier through the gateway with the committed proof fixture.
contract FibonacciAppTest is ZkmipsTestBase {
    event FibonacciProven(uint32 indexed n, uint64 fibN);

    /// fib(1000) mod 2^64, the value in the EVM fixture's public values.
    uint64 internal constant FIB_1000 = 817770325994397771;

    function _fibonacciPublicValues(uint32 n, uint64 fibN) internal pure returns (bytes memory out) {
        out = new bytes(12);
        // Truncation to the low byte is the point: little-endian byte i.
        for (uint256 i = 0; i < 4; i++) {
            // forge-lint: disable-next-line(unsafe-typecast)
            out[i] = bytes1(uint8(n >> (8 * i)));
        }
        for (uint256 i = 0; i < 8; i++) {
            // forge-lint: disable-next-line(unsafe-typecast)
            out[4 + i] = bytes1(uint8(fibN >> (8 * i)));
        }
    }

    function test_MockVerifierFlow() public {
        FibonacciApp app = new FibonacciApp(new ZkmipsMockVerifier(), bytes32(uint256(42)));
        bytes memory values = _fibonacciPublicValues(10, 55);
        vm.expectEmit();
        emit FibonacciProven(10, 55);
        (uint32 n, uint64 fibN) = app.submitProof(values, "");
        require(n == 10 && fibN == 55, "decoded values");
        require(app.provenFibonacci(10) == 55, "recorded");
    }

    function test_MockVerifierRejectsNonEmptyProofs() public {
        FibonacciApp app = new FibonacciApp(new ZkmipsMockVerifier(), bytes32(uint256(42)));
        vm.expectRevert(abi.encodeWithSelector(ZkmipsMockVerifier.MockProofNotEmpty.selector, uint256(1)));
        app.submitProof(_fibonacciPublicValues(10, 55), hex"00");
    }

    function test_DecodeRejectsWrongLength() public {
        FibonacciApp app = new FibonacciApp(new ZkmipsMockVerifier(), bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(FibonacciApp.BadPublicValuesLength.selector, uint256(11)));
        app.decodePublicValues(new bytes(11));
    }

    function test_DecodeIsLittleEndian() public {
        FibonacciApp app = new FibonacciApp(new ZkmipsMockVerifier(), bytes32(0));
        (uint32 n, uint64 fibN) = app.decodePublicValues(hex"e8030000" hex"4b60c05cc74d590b");
        require(n == 1000, "n");
        require(fibN == FIB_1000, "fib");
    }

    function test_RealProofThroughGateway() public {
        ProofFixture memory f = evmFixture();
        ZkmipsVerifierGateway gateway = new ZkmipsVerifierGateway(address(this));
        gateway.addRoute(new ZkmipsVerifier());
        FibonacciApp app = new FibonacciApp(gateway, f.programVKey);

        uint256 before = gasleft();
        (uint32 n, uint64 fibN) = app.submitProof(f.publicValues, f.proof);
        logGas("FibonacciApp.submitProof gas (via gateway, incl. storage write)", before - gasleft());
        require(n == 1000 && fibN == FIB_1000, "decoded fixture values");
        require(app.provenFibonacci(1000) == FIB_1000, "recorded");

        // Another program's key, or a forged result, is rejected.
        FibonacciApp otherProgram = new FibonacciApp(gateway, bytes32(uint256(f.programVKey) ^ 1));
        vm.expectRevert(Groth16Verifier.ProofInvalid.selector);
        otherProgram.submitProof(f.publicValues, f.proof);
        vm.expectRevert(Groth16Verifier.ProofInvalid.selector);
        app.submitProof(_fibonacciPublicValues(1000, FIB_1000 + 1), f.proof);
    }
}
