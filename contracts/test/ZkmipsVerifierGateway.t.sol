// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.20;

import {ZkmipsTestBase, ProofFixture} from "./ZkmipsTestBase.sol";
import {IZkmipsVerifierWithHash} from "../src/IZkmipsVerifier.sol";
import {ZkmipsVerifier} from "../src/ZkmipsVerifier.sol";
import {ZkmipsVerifierGateway} from "../src/ZkmipsVerifierGateway.sol";

/// A verifier with another selector, to check that routes are independent.
contract OtherVerifier is IZkmipsVerifierWithHash {
    error OtherVerifierCalled();

    function VERIFIER_HASH() external pure returns (bytes32) {
        return keccak256("another verifying key");
    }

    function verifyProof(bytes32, bytes calldata, bytes calldata) external pure {
        revert OtherVerifierCalled();
    }
}

/// Gateway management: ownership, adding and freezing routes, events, unknown selectors.
contract ZkmipsVerifierGatewayTest is ZkmipsTestBase {
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    event RouteAdded(bytes4 indexed selector, address verifier);
    event RouteFrozen(bytes4 indexed selector, address verifier);

    address internal constant STRANGER = address(0xBEEF);

    ZkmipsVerifier internal verifier;
    ZkmipsVerifierGateway internal gateway;
    ProofFixture internal fixture;
    bytes4 internal selector;

    function setUp() public {
        verifier = new ZkmipsVerifier();
        gateway = new ZkmipsVerifierGateway(address(this));
        fixture = evmFixture();
        selector = bytes4(verifier.VERIFIER_HASH());
    }

    function test_AddRouteEmitsAndRoutes() public {
        vm.expectEmit();
        emit RouteAdded(selector, address(verifier));
        require(gateway.addRoute(verifier) == selector, "addRoute returns the selector");
        (address routed, bool frozen) = gateway.routes(selector);
        require(routed == address(verifier) && !frozen, "route stored");
        gateway.verifyProof(fixture.programVKey, fixture.publicValues, fixture.proof);
    }

    function test_UnknownSelectorReverts() public {
        vm.expectRevert(abi.encodeWithSelector(ZkmipsVerifierGateway.RouteNotFound.selector, selector));
        gateway.verifyProof(fixture.programVKey, fixture.publicValues, fixture.proof);
    }

    function test_AddingARouteTwiceReverts() public {
        gateway.addRoute(verifier);
        ZkmipsVerifier sameKey = new ZkmipsVerifier();
        vm.expectRevert(
            abi.encodeWithSelector(
                ZkmipsVerifierGateway.RouteAlreadyExists.selector, selector, address(verifier)
            )
        );
        gateway.addRoute(sameKey);
    }

    function test_RoutesAreIndependent() public {
        gateway.addRoute(verifier);
        OtherVerifier other = new OtherVerifier();
        bytes4 otherSelector = gateway.addRoute(other);
        require(otherSelector != selector, "distinct selectors");
        gateway.verifyProof(fixture.programVKey, fixture.publicValues, fixture.proof);
        bytes memory otherProof = bytes.concat(otherSelector, hex"00");
        vm.expectRevert(OtherVerifier.OtherVerifierCalled.selector);
        gateway.verifyProof(fixture.programVKey, fixture.publicValues, otherProof);
    }

    function test_FrozenRouteRejectsProofsForever() public {
        gateway.addRoute(verifier);
        vm.expectEmit();
        emit RouteFrozen(selector, address(verifier));
        gateway.freezeRoute(selector);

        vm.expectRevert(abi.encodeWithSelector(ZkmipsVerifierGateway.RouteIsFrozen.selector, selector));
        gateway.verifyProof(fixture.programVKey, fixture.publicValues, fixture.proof);
        vm.expectRevert(abi.encodeWithSelector(ZkmipsVerifierGateway.RouteIsFrozen.selector, selector));
        gateway.freezeRoute(selector);
        // A frozen selector cannot be routed again, not even to a fresh deployment.
        ZkmipsVerifier redeployed = new ZkmipsVerifier();
        vm.expectRevert(
            abi.encodeWithSelector(
                ZkmipsVerifierGateway.RouteAlreadyExists.selector, selector, address(verifier)
            )
        );
        gateway.addRoute(redeployed);
    }

    function test_FreezingAnUnknownRouteReverts() public {
        vm.expectRevert(
            abi.encodeWithSelector(ZkmipsVerifierGateway.RouteNotFound.selector, bytes4(0x12345678))
        );
        gateway.freezeRoute(0x12345678);
    }

    function test_OnlyOwnerManagesRoutes() public {
        vm.prank(STRANGER);
        vm.expectRevert(abi.encodeWithSelector(ZkmipsVerifierGateway.NotOwner.selector, STRANGER));
        gateway.addRoute(verifier);

        gateway.addRoute(verifier);
        vm.prank(STRANGER);
        vm.expectRevert(abi.encodeWithSelector(ZkmipsVerifierGateway.NotOwner.selector, STRANGER));
        gateway.freezeRoute(selector);

        vm.prank(STRANGER);
        vm.expectRevert(abi.encodeWithSelector(ZkmipsVerifierGateway.NotOwner.selector, STRANGER));
        gateway.transferOwnership(STRANGER);
    }

    function test_TransferOwnership() public {
        vm.expectEmit();
        emit OwnershipTransferred(address(this), STRANGER);
        gateway.transferOwnership(STRANGER);
        require(gateway.owner() == STRANGER, "new owner");

        vm.expectRevert(abi.encodeWithSelector(ZkmipsVerifierGateway.NotOwner.selector, address(this)));
        gateway.addRoute(verifier);
        vm.prank(STRANGER);
        gateway.addRoute(verifier);

        vm.prank(STRANGER);
        vm.expectRevert(ZkmipsVerifierGateway.ZeroAddress.selector);
        gateway.transferOwnership(address(0));
    }

    function test_ConstructorRejectsZeroOwner() public {
        vm.expectRevert(ZkmipsVerifierGateway.ZeroAddress.selector);
        new ZkmipsVerifierGateway(address(0));
    }
}
