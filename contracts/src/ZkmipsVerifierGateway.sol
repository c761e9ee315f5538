// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.20;

import {IZkmipsVerifier, IZkmipsVerifierWithHash} from "./IZkmipsVerifier.sol";

/// @title zkmips verifier gateway
/// @notice One stable address for applications: routes each proof to the verifier named by the
/// proof's 4-byte selector. The owner adds verifiers (one per verifying key, e.g. per circuit
/// version) and can freeze a route for good, e.g. after a bug in that circuit; a frozen selector
/// can never be routed again, so proofs for it stay rejected.
contract ZkmipsVerifierGateway is IZkmipsVerifier {
    struct Route {
        address verifier;
        bool frozen;
    }

    address public owner;
    mapping(bytes4 selector => Route) public routes;

    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    event RouteAdded(bytes4 indexed selector, address verifier);
    event RouteFrozen(bytes4 indexed selector, address verifier);

    error NotOwner(address caller);
    error ZeroAddress();
    /// The selector is already routed (or was frozen, which is permanent).
    error RouteAlreadyExists(bytes4 selector, address verifier);
    error RouteNotFound(bytes4 selector);
    error RouteIsFrozen(bytes4 selector);
    /// proofBytes is too short to hold a selector.
    error ProofTooShort(uint256 length);

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    constructor(address initialOwner) {
        if (initialOwner == address(0)) revert ZeroAddress();
        owner = initialOwner;
        emit OwnershipTransferred(address(0), initialOwner);
    }

    function transferOwnership(address newOwner) external onlyOwner {
        if (newOwner == address(0)) revert ZeroAddress();
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }

    /// @notice Routes the selector of `verifier` (first 4 bytes of its VERIFIER_HASH) to it.
    function addRoute(IZkmipsVerifierWithHash verifier) external onlyOwner returns (bytes4 selector) {
        if (address(verifier) == address(0)) revert ZeroAddress();
        selector = bytes4(verifier.VERIFIER_HASH());
        Route storage route = routes[selector];
        if (route.verifier != address(0)) revert RouteAlreadyExists(selector, route.verifier);
        route.verifier = address(verifier);
        emit RouteAdded(selector, address(verifier));
    }

    /// @notice Permanently stops routing `selector`.
    function freezeRoute(bytes4 selector) external onlyOwner {
        Route storage route = routes[selector];
        if (route.verifier == address(0)) revert RouteNotFound(selector);
        if (route.frozen) revert RouteIsFrozen(selector);
        route.frozen = true;
        emit RouteFrozen(selector, route.verifier);
    }

    /// @inheritdoc IZkmipsVerifier
    function verifyProof(bytes32 programVKey, bytes calldata publicValues, bytes calldata proofBytes)
        external
        view
    {
        if (proofBytes.length < 4) revert ProofTooShort(proofBytes.length);
        bytes4 selector = bytes4(proofBytes[:4]);
        Route memory route = routes[selector];
        if (route.verifier == address(0)) revert RouteNotFound(selector);
        if (route.frozen) revert RouteIsFrozen(selector);
        IZkmipsVerifier(route.verifier).verifyProof(programVKey, publicValues, proofBytes);
    }
}
