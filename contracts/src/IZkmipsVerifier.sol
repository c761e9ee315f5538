// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.20;

/// @title zkmips proof verification interface
/// @notice What applications call: the gateway (`ZkmipsVerifierGateway`), a concrete verifier
/// (`ZkmipsVerifier`) and the test mock (`ZkmipsMockVerifier`) all implement it.
interface IZkmipsVerifier {
    /// @notice Returns only if `proofBytes` proves that the guest program identified by
    /// `programVKey` ran and committed exactly `publicValues`; reverts otherwise.
    /// @param programVKey The program's verifying-key hash (a BN254 scalar, must be < r).
    /// @param publicValues The raw bytes the guest committed.
    /// @param proofBytes A 4-byte verifier selector followed by the encoded proof.
    function verifyProof(bytes32 programVKey, bytes calldata publicValues, bytes calldata proofBytes)
        external
        view;
}

/// @title A concrete zkmips verifier, identified by the hash of its Groth16 verifying key
interface IZkmipsVerifierWithHash is IZkmipsVerifier {
    /// @notice sha256 of the verifier's Groth16 verifying key; its first 4 bytes are the selector
    /// that proofs for this verifier start with.
    function VERIFIER_HASH() external pure returns (bytes32);
}
