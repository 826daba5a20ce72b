// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {SafeTransferLib} from "solady/src/utils/SafeTransferLib.sol";
import {IOptimizedCubeManagement} from "../interfaces/IOptimizedCubeManagement.sol";
import {IPartnerBenefits} from "../interfaces/IPartnerBenefits.sol";
import {PartnerTermsCodec as Terms} from "./PartnerTermsCodec.sol";

/// @title PartnerBenefits
/// @notice The implementation behind every partner clone. See {IPartnerBenefits}.
/// @dev Terms are read from the clone's code ({PartnerTermsCodec}); storage holds only the claim bitmap.
/// Called directly, the implementation has no terms and rejects every call.
contract PartnerBenefits is IPartnerBenefits {
    /// @dev The CUBE collection.
    address private immutable _CUBES;
    /// @dev This implementation's own address, to refuse calls that are not through a clone.
    address private immutable _SELF;

    /// @dev Bit `id & 255` of word `id >> 8` is set once cube `id` took its welcome grant.
    mapping(uint256 => uint256) private _claimed;

    constructor(address cubes_) {
        _CUBES = cubes_;
        _SELF = address(this);
    }

    modifier onlyClone() {
        if (address(this) == _SELF) revert NotAClone();
        _;
    }

    /// @inheritdoc IPartnerBenefits
    function claimWelcome(uint256[] calldata cubeIds) external onlyClone returns (uint256 paid) {
        uint256 deadline = Terms.read(Terms.DEADLINE, 5);
        if (block.timestamp > deadline) revert ClaimWindowClosed(deadline);
        uint256 snapshot = Terms.read(Terms.SNAPSHOT, 4);
        _loadOwners();
        uint256 count;
        uint256 wordIndex = type(uint256).max;
        uint256 word;
        for (uint256 i; i < cubeIds.length; ++i) {
            uint256 cubeId = cubeIds[i];
            if (cubeId == 0 || cubeId > snapshot) revert NotEntitled(cubeId, snapshot);
            if (_loadedOwner(i) != msg.sender) revert NotCubeOwner(cubeId, msg.sender);
            // Contiguous ids share a bitmap word: load and store it once per 256 ids.
            if (cubeId >> 8 != wordIndex) {
                if (wordIndex != type(uint256).max) _claimed[wordIndex] = word;
                wordIndex = cubeId >> 8;
                word = _claimed[wordIndex];
            }
            uint256 bit = 1 << (cubeId & 0xff);
            if (word & bit == 0) {
                word |= bit;
                ++count;
            }
        }
        if (wordIndex != type(uint256).max) _claimed[wordIndex] = word;
        paid = count * Terms.read(Terms.WELCOME_AMOUNT, 12);
        if (paid != 0) SafeTransferLib.safeTransfer(address(uint160(Terms.read(Terms.WELCOME_TOKEN, 20))), msg.sender, paid);
        emit WelcomeClaimed(msg.sender, count, paid);
    }

    /// @inheritdoc IPartnerBenefits
    function withdrawUnclaimed() external onlyClone returns (uint256 amount) {
        address partner_ = address(uint160(Terms.read(Terms.PARTNER, 20)));
        if (msg.sender != partner_) revert NotPartner(msg.sender, partner_);
        uint256 deadline = Terms.read(Terms.DEADLINE, 5);
        if (block.timestamp <= deadline) revert ClaimWindowOpen(deadline);
        address token = address(uint160(Terms.read(Terms.WELCOME_TOKEN, 20)));
        if (token != address(0)) {
            amount = SafeTransferLib.balanceOf(token, address(this));
            if (amount != 0) SafeTransferLib.safeTransfer(token, partner_, amount);
        }
        emit UnclaimedWithdrawn(partner_, amount);
    }

    /// @inheritdoc IPartnerBenefits
    function benefitOf(uint256 cubeId) external view onlyClone returns (bool eligible, uint16 discount) {
        IOptimizedCubeManagement cubes = IOptimizedCubeManagement(_CUBES);
        if (cubeId == 0 || cubeId > cubes.totalMinted()) return (false, 0);
        (,,, bool active) = cubes.nodeData(cubeId);
        if (!active) return (false, 0);
        return (true, _discount(cubes.tierOf(cubeId)));
    }

    /// @inheritdoc IPartnerBenefits
    function discountBps(uint8 tier) external view onlyClone returns (uint16) {
        if (tier > 3) revert InvalidTier(tier);
        return _discount(tier);
    }

    /// @inheritdoc IPartnerBenefits
    function partnerId() external view onlyClone returns (bytes32 id) {
        (id,) = Terms.readName(Terms.PARTNER_ID);
    }

    /// @inheritdoc IPartnerBenefits
    function partner() external view onlyClone returns (address) {
        return address(uint160(Terms.read(Terms.PARTNER, 20)));
    }

    /// @inheritdoc IPartnerBenefits
    function services() external view onlyClone returns (bytes32[] memory list) {
        (, uint256 offset) = Terms.readName(Terms.PARTNER_ID);
        uint256 n = Terms.read(offset, 1);
        list = new bytes32[](n);
        ++offset;
        for (uint256 i; i < n; ++i) {
            (list[i], offset) = Terms.readName(offset);
        }
    }

    /// @inheritdoc IPartnerBenefits
    function welcomeToken() external view onlyClone returns (address) {
        return address(uint160(Terms.read(Terms.WELCOME_TOKEN, 20)));
    }

    /// @inheritdoc IPartnerBenefits
    function welcomeAmountPerCube() external view onlyClone returns (uint256) {
        return Terms.read(Terms.WELCOME_AMOUNT, 12);
    }

    /// @inheritdoc IPartnerBenefits
    function snapshotCubeId() external view onlyClone returns (uint256) {
        return Terms.read(Terms.SNAPSHOT, 4);
    }

    /// @inheritdoc IPartnerBenefits
    function claimDeadline() external view onlyClone returns (uint256) {
        return Terms.read(Terms.DEADLINE, 5);
    }

    /// @inheritdoc IPartnerBenefits
    function welcomeClaimed(uint256 cubeId) external view onlyClone returns (bool) {
        return _claimed[cubeId >> 8] & (1 << (cubeId & 0xff)) != 0;
    }

    function _discount(uint256 tier) private view returns (uint16) {
        return uint16(Terms.read(Terms.DISCOUNTS + 2 * tier, 2));
    }

    /// @dev Calls `cubes.ownersOf(cubeIds)` with this call's own arguments (`claimWelcome(uint256[])` and
    /// `ownersOf(uint256[])` encode them alike) and leaves the owners in the return data buffer, which the
    /// claim loop reads with {_loadedOwner}; nothing in that loop makes another call.
    function _loadOwners() private view {
        address cubes = _CUBES;
        /// @solidity memory-safe-assembly
        assembly {
            let m := mload(0x40)
            mstore(m, 0x5ff2f2e8) // `ownersOf(uint256[])`.
            calldatacopy(add(m, 0x20), 0x04, sub(calldatasize(), 0x04))
            if iszero(staticcall(gas(), cubes, add(m, 0x1c), calldatasize(), 0x00, 0x00)) {
                returndatacopy(m, 0x00, returndatasize())
                revert(m, returndatasize())
            }
        }
    }

    /// @dev The `i`-th owner returned by {_loadOwners}: word `2 + i` of the ABI-encoded `address[]`.
    function _loadedOwner(uint256 i) private pure returns (address owner) {
        /// @solidity memory-safe-assembly
        assembly {
            returndatacopy(0x00, add(0x40, shl(5, i)), 0x20)
            owner := mload(0x00)
        }
    }
}
