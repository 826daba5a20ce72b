// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IGoverned} from "./IGoverned.sol";

/// @title ILBCToken
/// @notice The LBC token of the L.I.N.K Protocol: a capped, burnable ERC-20 with EIP-2612 permits.
/// New LBC comes into existence only through {mint}, which only accounts holding {MINTER_ROLE} may
/// call: in production that is the cube contract, which mints what CUBE holders claim.
/// Roles follow OpenZeppelin AccessControl, the default admin (who grants MINTER_ROLE) under
/// AccessControlDefaultAdminRules: see {IGoverned}. LBC sent to this contract by mistake can be rescued.
interface ILBCToken is IGoverned, IERC20 {
    /// @notice The role allowed to mint LBC (`keccak256("MINTER_ROLE")`).
    function MINTER_ROLE() external view returns (bytes32);

    /// @notice The hard cap on total supply, in wei. Fixed at deployment.
    function cap() external view returns (uint256);

    /// @notice Mints `amount` wei of LBC to `to`.
    /// @dev Reverts with `AccessControlUnauthorizedAccount` for callers without MINTER_ROLE, and with
    /// `ERC20ExceededCap(increasedSupply, cap)` when the supply would pass the cap; nothing changes then.
    function mint(address to, uint256 amount) external;

    /// @notice Destroys `amount` wei of the caller's LBC.
    function burn(uint256 amount) external;

    /// @notice Destroys `amount` wei of `account`'s LBC, spending the caller's allowance.
    function burnFrom(address account, uint256 amount) external;
}
