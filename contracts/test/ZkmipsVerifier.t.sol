// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.20;

import {ZkmipsTestBase, ProofFixture} from "./ZkmipsTestBase.sol";
import {IZkmipsVerifier} from "../src/IZkmipsVerifier.sol";
import {Groth16Verifier} from "../src/Groth16Verifier.sol";
import {ZkmipsVerifier} from "../src/ZkmipsVerifier.sol";
import {ZkmipsVerifierGateway} from "../src/ZkmipsVerifierGateway.sol";

/// The real verifier (directly and through the gateway) against the committed proof fixture:
/// it verifies, and every flipped byte of proof, public values or program vkey reverts.
contract ZkmipsVerifierTest is ZkmipsTestBase {
    ZkmipsVerifier internal verifier;
    ZkmipsVerifierGateway internal gateway;
    ProofFixture internal fixture;

    uint256 internal constant TAMPERED_CALL_GAS = 1_000_000;

    function setUp() public {
        verifier = new ZkmipsVerifier();
        gateway = new ZkmipsVerifierGateway(address(this));
        gateway.addRoute(verifier);
        fixture = evmFixture();
    }

    function test_VerifierHashMatchesFixture() public view {
        require(verifier.VERIFIER_HASH() == fixture.vkeyHash, "VERIFIER_HASH differs from the fixture");
        require(bytes4(fixture.proof) == bytes4(fixture.vkeyHash), "fixture proof selector");
    }

    function test_HashPublicValuesMatchesFixture() public view {
        require(
            verifier.hashPublicValues(fixture.publicValues) == uint256(fixture.publicValuesDigest),
            "public values digest"
        );
        require(verifier.hashPublicValues(fixture.publicValues) < (1 << 253), "digest is masked");
    }

    function test_ValidProofVerifiesDirectly() public view {
        ProofFixture memory f = fixture;
        uint256 before = gasleft();
        verifier.verifyProof(f.programVKey, f.publicValues, f.proof);
        logGas("ZkmipsVerifier.verifyProof gas", before - gasleft());
    }

    function test_ValidProofVerifiesThroughGateway() public view {
        ProofFixture memory f = fixture;
        uint256 before = gasleft();
        gateway.verifyProof(f.programVKey, f.publicValues, f.proof);
        logGas("ZkmipsVerifierGateway.verifyProof gas", before - gasleft());
    }

    function test_RawGroth16VerifierGas() public view {
        uint256[8] memory proof = abi.decode(_slice(fixture.proof, 4), (uint256[8]));
        uint256[2] memory inputs =
            [uint256(fixture.programVKey), verifier.hashPublicValues(fixture.publicValues)];
        uint256 before = gasleft();
        Groth16Verifier(address(verifier)).verifyProof(proof, inputs);
        logGas("Groth16Verifier.verifyProof gas (2 public inputs)", before - gasleft());
    }

    function test_EveryFlippedProofByteReverts() public view {
        for (uint256 i = 0; i < fixture.proof.length; i++) {
            bytes memory tampered = flipped(fixture.proof, i, 0x01);
            bytes4 expectedDirect =
                i < 4 ? ZkmipsVerifier.WrongVerifierSelector.selector : Groth16Verifier.ProofInvalid.selector;
            bytes4 expectedGateway =
                i < 4 ? ZkmipsVerifierGateway.RouteNotFound.selector : Groth16Verifier.ProofInvalid.selector;
            _expectFailure(
                verifier,
                fixture.programVKey,
                fixture.publicValues,
                tampered,
                expectedDirect,
                0,
                "proof byte",
                i
            );
            _expectFailure(
                gateway,
                fixture.programVKey,
                fixture.publicValues,
                tampered,
                expectedGateway,
                0,
                "proof byte via gateway",
                i
            );
        }
    }

    function test_EveryFlippedPublicValuesByteReverts() public view {
        for (uint256 i = 0; i < fixture.publicValues.length; i++) {
            bytes memory tampered = flipped(fixture.publicValues, i, 0x01);
            bytes4 invalid = Groth16Verifier.ProofInvalid.selector;
            _expectFailure(
                verifier, fixture.programVKey, tampered, fixture.proof, invalid, 0, "public values byte", i
            );
            _expectFailure(
                gateway,
                fixture.programVKey,
                tampered,
                fixture.proof,
                invalid,
                0,
                "public values byte via gateway",
                i
            );
        }
    }

    function test_EveryFlippedProgramVKeyByteReverts() public view {
        for (uint256 i = 0; i < 32; i++) {
            bytes32 tampered = fixture.programVKey ^ bytes32(uint256(1) << (8 * (31 - i)));
            // A flip in the top byte can push the key above r: rejected before the pairing.
            bytes4 invalid = Groth16Verifier.ProofInvalid.selector;
            bytes4 notInField = Groth16Verifier.PublicInputNotInField.selector;
            _expectFailure(
                verifier, tampered, fixture.publicValues, fixture.proof, invalid, notInField, "vkey byte", i
            );
            _expectFailure(
                gateway,
                tampered,
                fixture.publicValues,
                fixture.proof,
                invalid,
                notInField,
                "vkey byte via gateway",
                i
            );
        }
    }

    function test_WrongLengthsRevert() public {
        bytes memory longer = bytes.concat(fixture.proof, hex"00");
        vm.expectRevert(abi.encodeWithSelector(ZkmipsVerifier.InvalidProofLength.selector, uint256(261)));
        verifier.verifyProof(fixture.programVKey, fixture.publicValues, longer);
        bytes memory shorter = _slice(fixture.proof, 1);
        vm.expectRevert(abi.encodeWithSelector(ZkmipsVerifier.InvalidProofLength.selector, uint256(259)));
        verifier.verifyProof(fixture.programVKey, fixture.publicValues, shorter);
        vm.expectRevert(abi.encodeWithSelector(ZkmipsVerifierGateway.ProofTooShort.selector, uint256(0)));
        gateway.verifyProof(fixture.programVKey, fixture.publicValues, "");
    }

    function _expectFailure(
        IZkmipsVerifier target,
        bytes32 programVKey,
        bytes memory publicValues,
        bytes memory proof,
        bytes4 expected,
        bytes4 alsoAllowed,
        string memory what,
        uint256 index
    ) internal view {
        // A failing precompile consumes all gas forwarded to it (EVM rule), so bound each attempt.
        try target.verifyProof{gas: TAMPERED_CALL_GAS}(programVKey, publicValues, proof) {
            revert(string.concat("accepted a tampered ", what, " at index ", _toString(index)));
        } catch (bytes memory reason) {
            bytes4 selector = selectorOf(reason);
            require(
                selector == expected || (alsoAllowed != 0 && selector == alsoAllowed),
                string.concat("unexpected revert for ", what, " at index ", _toString(index))
            );
        }
    }

    function _slice(bytes memory data, uint256 from) internal pure returns (bytes memory out) {
        out = new bytes(data.length - from);
        for (uint256 i = 0; i < out.length; i++) {
            out[i] = data[from + i];
        }
    }

    function _toString(uint256 value) internal pure returns (string memory) {
        if (value == 0) return "0";
        bytes memory digits;
        while (value > 0) {
            digits = bytes.concat(bytes1(uint8(48 + (value % 10))), digits);
            value /= 10;
        }
        return string(digits);
    }
}
