// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {SafeTransferLib} from "solady/src/utils/SafeTransferLib.sol";
import {IOptimizedCubeManagement} from "../interfaces/IOptimizedCubeManagement.sol";
import {IPartnerFactory} from "../interfaces/IPartnerFactory.sol";
import {PartnerBenefits} from "./PartnerBenefits.sol";
import {PartnerTermsCodec} from "./PartnerTermsCodec.sol";
import {Governed} from "../utils/Governed.sol";

/// @title PartnerFactory
/// @notice Onboards partners as clones of one PartnerBenefits implementation. See {IPartnerFactory}.
/// @dev A clone's address must follow from the partner id alone, yet its terms live in its code. So every
/// clone is created from the same 30-byte init code ({_INIT_CODE}), which asks this factory for the
/// runtime ({cloneRuntime}): the factory parks it in transient storage for the one CREATE2 that needs it
/// (the pattern of Uniswap v3's pool deployer).
contract PartnerFactory is IPartnerFactory, Governed {
    /// @inheritdoc IPartnerFactory
    bytes32 public constant ONBOARDER_ROLE = keccak256("ONBOARDER_ROLE");

    /// @dev Init code of every clone:
    /// `mstore(0, selector(cloneRuntime)); if iszero(staticcall(gas(), caller(), 28, 4, 0, 0)) { revert(0, 0) }
    ///  returndatacopy(0, 0, returndatasize()); return(0, returndatasize())`.
    bytes private constant _INIT_CODE = hex"63f18da9445f525f5f6004601c335afa6016575f5ffd5b3d5f5f3e3d5ff3";
    /// @dev Transient slot holding the pending runtime's length; its words follow in the next slots.
    /// `uint256(keccak256("link-ops.PartnerFactory.pendingRuntime"))`.
    uint256 private constant _PENDING_SLOT = 0x87e14c20fa915d0490c1b3d0753a76bcc1a6ce3d454ab30db2f240159fbad706;

    address private immutable _CUBES;
    address private immutable _IMPLEMENTATION;
    bytes32 private immutable _INIT_CODE_HASH;

    constructor(address admin, address cubes_) Governed(admin) {
        if (cubes_.code.length == 0) revert InvalidAddress();
        _CUBES = cubes_;
        _IMPLEMENTATION = address(new PartnerBenefits(cubes_));
        _INIT_CODE_HASH = keccak256(_INIT_CODE);
        _grantRole(ONBOARDER_ROLE, admin);
    }

    /// @inheritdoc IPartnerFactory
    function createPartner(bytes32 partnerId, PartnerTerms calldata terms)
        external
        onlyRole(ONBOARDER_ROLE)
        returns (address partnerAddress)
    {
        _checkTerms(partnerId, terms);
        address existing = partnerOf(partnerId);
        if (existing != address(0)) revert PartnerExists(partnerId, existing);

        uint256 snapshot = IOptimizedCubeManagement(_CUBES).totalMinted();
        uint256 deadline = block.timestamp + terms.claimWindow;
        if (deadline > type(uint40).max) revert ClaimWindowTooLong(terms.claimWindow, type(uint40).max);
        bytes memory runtime = PartnerTermsCodec.runtime(
            _IMPLEMENTATION,
            partnerId,
            terms.partner,
            terms.welcomeToken,
            terms.welcomeAmountPerCube,
            uint32(snapshot),
            uint40(deadline),
            terms.discountBps,
            terms.services
        );
        bytes memory initCode = _INIT_CODE;
        /// @solidity memory-safe-assembly
        assembly {
            // Park the runtime for {cloneRuntime}, create the clone, clear the length (words need no
            // clearing: transient storage ends with the transaction and the length bounds every read).
            let n := mload(runtime)
            tstore(_PENDING_SLOT, n)
            for { let i := 0 } lt(i, n) { i := add(i, 0x20) } {
                tstore(add(_PENDING_SLOT, add(1, shr(5, i))), mload(add(add(runtime, 0x20), i)))
            }
            partnerAddress := create2(0, add(initCode, 0x20), mload(initCode), partnerId)
            tstore(_PENDING_SLOT, 0)
        }
        if (partnerAddress == address(0)) revert PartnerExists(partnerId, predictPartnerAddress(partnerId));

        uint256 funded = uint256(terms.welcomeAmountPerCube) * snapshot;
        if (funded != 0) SafeTransferLib.safeTransferFrom(terms.welcomeToken, msg.sender, partnerAddress, funded);
        emit PartnerCreated(
            partnerId,
            partnerAddress,
            terms.partner,
            terms.welcomeToken,
            terms.welcomeAmountPerCube,
            snapshot,
            deadline,
            funded
        );
    }

    /// @notice The runtime code of the clone being created; answered only during {createPartner}.
    /// @dev Returns raw bytes (not ABI-encoded): the clone's init code returns them as its code.
    function cloneRuntime() external view {
        /// @solidity memory-safe-assembly
        assembly {
            let n := tload(_PENDING_SLOT)
            if iszero(n) {
                mstore(0x00, 0x536caa36) // `NoPendingClone()`.
                revert(0x1c, 0x04)
            }
            let m := mload(0x40)
            for { let i := 0 } lt(i, n) { i := add(i, 0x20) } {
                mstore(add(m, i), tload(add(_PENDING_SLOT, add(1, shr(5, i)))))
            }
            return(m, n)
        }
    }

    /// @inheritdoc IPartnerFactory
    function predictPartnerAddress(bytes32 partnerId) public view returns (address) {
        return address(
            uint160(uint256(keccak256(abi.encodePacked(bytes1(0xff), address(this), partnerId, _INIT_CODE_HASH))))
        );
    }

    /// @inheritdoc IPartnerFactory
    function partnerOf(bytes32 partnerId) public view returns (address) {
        address predicted = predictPartnerAddress(partnerId);
        return predicted.code.length == 0 ? address(0) : predicted;
    }

    /// @inheritdoc IPartnerFactory
    function cubes() external view returns (address) {
        return _CUBES;
    }

    /// @inheritdoc IPartnerFactory
    function implementation() external view returns (address) {
        return _IMPLEMENTATION;
    }

    function _checkTerms(bytes32 partnerId, PartnerTerms calldata terms) private view {
        if (partnerId == bytes32(0)) revert ZeroPartnerId();
        if (terms.partner == address(0)) revert InvalidAddress();
        if (terms.welcomeAmountPerCube != 0 && terms.welcomeToken.code.length == 0) revert InvalidAddress();
        if (terms.claimWindow == 0) revert ZeroClaimWindow();
        if (terms.services.length == 0 || terms.services.length > 255) {
            revert InvalidServiceCount(terms.services.length);
        }
        for (uint8 tier; tier < 4; ++tier) {
            if (terms.discountBps[tier] > 10_000) revert DiscountTooHigh(tier, terms.discountBps[tier]);
        }
    }
}
