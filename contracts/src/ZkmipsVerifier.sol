// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.20;

import {IZkmipsVerifierWithHash} from "./IZkmipsVerifier.sol";
import {Groth16Verifier, GROTH16_VERIFYING_KEY_HASH} from "./Groth16Verifier.sol";

/// @title zkmips Groth16 verifier
/// @notice Checks the proof selector, derives the two Groth16 public inputs from the call and runs
/// the generated pairing check (`Groth16Verifier`, from the same verifying key as the selector).
///
/// proofBytes = selector (4 bytes) || A.x || A.y || B.x.c1 || B.x.c0 || B.y.c1 || B.y.c0 || C.x || C.y
///   (8 big-endian 32-byte words, the EIP-197 encoding; 260 bytes in total), where
///   selector = first 4 bytes of VERIFIER_HASH().
/// Public inputs, in circuit order:
///   [0] uint256(programVKey)                                  (must be < r, else PublicInputNotInField)
///   [1] uint256(sha256(publicValues)) & (2^253 - 1)          (top 3 bits cleared so it is always < r)
contract ZkmipsVerifier is Groth16Verifier, IZkmipsVerifierWithHash {
    /// The proof starts with a selector of another verifying key.
    error WrongVerifierSelector(bytes4 received, bytes4 expected);
    /// proofBytes is not exactly 4 + 256 bytes long.
    error InvalidProofLength(uint256 length);

    uint256 private constant PROOF_BYTES_LENGTH = 4 + 8 * 32;
    uint256 private constant PUBLIC_VALUES_DIGEST_MASK = (1 << 253) - 1;

    /// @inheritdoc IZkmipsVerifierWithHash
    function VERIFIER_HASH() public pure returns (bytes32) {
        return GROTH16_VERIFYING_KEY_HASH;
    }

    /// @notice The second public input: sha256 of the public values with the top 3 bits cleared.
    function hashPublicValues(bytes calldata publicValues) public pure returns (uint256) {
        return uint256(sha256(publicValues)) & PUBLIC_VALUES_DIGEST_MASK;
    }

    /// @notice Reverts with WrongVerifierSelector, InvalidProofLength, PublicInputNotInField or
    /// ProofInvalid unless the proof is valid for (programVKey, publicValues).
    function verifyProof(bytes32 programVKey, bytes calldata publicValues, bytes calldata proofBytes)
        external
        view
    {
        if (proofBytes.length != PROOF_BYTES_LENGTH) revert InvalidProofLength(proofBytes.length);
        // The selector is, by definition, the first 4 bytes of the hash.
        // forge-lint: disable-next-line(unsafe-typecast)
        bytes4 expected = bytes4(GROTH16_VERIFYING_KEY_HASH);
        bytes4 received = bytes4(proofBytes[:4]);
        if (received != expected) revert WrongVerifierSelector(received, expected);

        uint256[8] memory proof = abi.decode(proofBytes[4:], (uint256[8]));
        uint256[2] memory inputs = [uint256(programVKey), hashPublicValues(publicValues)];
        // The generated verifier takes calldata arrays, hence the external self-call; its custom
        // errors (ProofInvalid, PublicInputNotInField) bubble up unchanged.
        this.verifyProof(proof, inputs);
    }
}
