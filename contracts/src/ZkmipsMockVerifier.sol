// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.20;

import {IZkmipsVerifier} from "./IZkmipsVerifier.sol";

/// @title MOCK zkmips verifier — FOR APPLICATION TESTS ONLY, NEVER DEPLOY IT IN PRODUCTION
/// @notice Accepts any program and any public values, as long as proofBytes is empty, so an
/// application's own logic can be tested without generating proofs. It proves nothing. Empty
/// proof bytes are rejected by the real verifiers and by the gateway, so a test proof can never
/// pass a real deployment.
contract ZkmipsMockVerifier is IZkmipsVerifier {
    /// Only empty proof bytes are accepted by the mock.
    error MockProofNotEmpty(uint256 length);

    /// @inheritdoc IZkmipsVerifier
    function verifyProof(bytes32, bytes calldata, bytes calldata proofBytes) external pure {
        if (proofBytes.length != 0) revert MockProofNotEmpty(proofBytes.length);
    }
}
