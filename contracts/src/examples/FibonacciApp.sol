// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.20;

import {IZkmipsVerifier} from "../IZkmipsVerifier.sol";

/// @title Example application: records Fibonacci numbers computed by the zkmips `fibonacci` guest
/// @notice The guest (examples/fibonacci) commits n as 4 little-endian bytes followed by
/// fib(n) mod 2^64 as 8 little-endian bytes. A result is recorded only if the proof verifies for
/// that program's verifying key, through `verifier` (the gateway in production, the mock in tests).
contract FibonacciApp {
    IZkmipsVerifier public immutable verifier;
    bytes32 public immutable fibonacciProgramVKey;

    /// fib(n) mod 2^64 for every proven n (0 where none was proven, and for n = 0).
    mapping(uint32 n => uint64 fibN) public provenFibonacci;

    event FibonacciProven(uint32 indexed n, uint64 fibN);

    error BadPublicValuesLength(uint256 length);

    constructor(IZkmipsVerifier verifier_, bytes32 fibonacciProgramVKey_) {
        verifier = verifier_;
        fibonacciProgramVKey = fibonacciProgramVKey_;
    }

    /// @notice Verifies the proof, then records and returns the proven (n, fib(n) mod 2^64).
    function submitProof(bytes calldata publicValues, bytes calldata proofBytes)
        external
        returns (uint32 n, uint64 fibN)
    {
        // Decode first: malformed values fail cheaply, before the pairing check.
        (n, fibN) = decodePublicValues(publicValues);
        verifier.verifyProof(fibonacciProgramVKey, publicValues, proofBytes);
        provenFibonacci[n] = fibN;
        emit FibonacciProven(n, fibN);
    }

    /// @notice Splits the guest's 12 public-value bytes into n (u32 LE) and fib(n) (u64 LE).
    function decodePublicValues(bytes calldata publicValues) public pure returns (uint32 n, uint64 fibN) {
        if (publicValues.length != 12) revert BadPublicValuesLength(publicValues.length);
        for (uint32 i = 0; i < 4; i++) {
            n |= uint32(uint8(publicValues[i])) << (8 * i);
        }
        for (uint64 i = 0; i < 8; i++) {
            fibN |= uint64(uint8(publicValues[4 + i])) << (8 * i);
        }
    }
}
