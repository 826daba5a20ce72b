// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {SafeTransferLib} from "solady/src/utils/SafeTransferLib.sol";
import {IGoverned} from "../interfaces/IGoverned.sol";

/// @title Governed
/// @notice Two-step, delayed default-admin hand-over and the admin's rescue of stray tokens. See
/// {IGoverned}.
/// @dev A contract whose accounting owns some of a token overrides {_reserved} / {_reservedNFT}.
abstract contract Governed is IGoverned, AccessControlDefaultAdminRules {
    using SafeTransferLib for address;

    /// @inheritdoc IGoverned
    uint48 public constant INITIAL_ADMIN_DELAY = 2 days;

    /// @param admin The default admin (in a governed deployment, the timelock).
    constructor(address admin) AccessControlDefaultAdminRules(INITIAL_ADMIN_DELAY, admin) {}

    /// @inheritdoc IGoverned
    function rescue(address token, address to, uint256 amount) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (to == address(0)) revert RescueToZero();
        uint256 free = rescuable(token);
        if (amount > free) revert NotRescuable(token, amount, free);
        emit Rescued(token, to, amount);
        if (token == address(0)) to.safeTransferETH(amount);
        else token.safeTransfer(to, amount);
    }

    /// @inheritdoc IGoverned
    function rescueNFT(address collection, address to, uint256 tokenId) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (to == address(0)) revert RescueToZero();
        if (_reservedNFT(collection, tokenId)) revert NFTNotRescuable(collection, tokenId);
        emit NFTRescued(collection, to, tokenId);
        IERC721(collection).transferFrom(address(this), to, tokenId);
    }

    /// @inheritdoc IGoverned
    function rescuable(address token) public view returns (uint256) {
        uint256 balance = token == address(0) ? address(this).balance : token.balanceOf(address(this));
        uint256 reserved = _reserved(token);
        return balance > reserved ? balance - reserved : 0;
    }

    /// @dev How much of `token` (zero: native) this contract's accounting owns.
    function _reserved(address) internal view virtual returns (uint256) {
        return 0;
    }

    /// @dev Whether this contract's accounting owns token `tokenId` of `collection`.
    function _reservedNFT(address, uint256) internal view virtual returns (bool) {
        return false;
    }
}
