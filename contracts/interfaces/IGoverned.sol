// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IGoverned
/// @notice What every administered L.I.N.K contract shares beside its roles: the default admin is
/// OpenZeppelin's `AccessControlDefaultAdminRules` (one holder, handed over in two steps after a delay, see
/// `beginDefaultAdminTransfer` / `acceptDefaultAdminTransfer`), and the admin can rescue what was sent to
/// the contract by mistake, but never what the contract's own accounting owns.
///
/// In a governed deployment the default admin is a timelock whose proposer is a Safe (SECURITY.md): every
/// admin call, rescue included, waits out the timelock's delay in public.
interface IGoverned {
    /// @notice `amount` of `token` cannot be rescued: only `free` of it is not owned by this contract's
    /// accounting (`token` zero: the chain's native coin).
    error NotRescuable(address token, uint256 amount, uint256 free);
    /// @notice Token `tokenId` of `collection` is owned by this contract's accounting (a locked cube).
    error NFTNotRescuable(address collection, uint256 tokenId);
    /// @notice The rescue's recipient is the zero address.
    error RescueToZero();

    /// @notice `amount` of `token` (zero: native) was rescued to `to`.
    event Rescued(address indexed token, address indexed to, uint256 amount);
    /// @notice Token `tokenId` of `collection` was rescued to `to`.
    event NFTRescued(address indexed collection, address indexed to, uint256 tokenId);

    /// @notice The delay every contract starts with for a default-admin hand-over: 2 days.
    function INITIAL_ADMIN_DELAY() external view returns (uint48);

    /// @notice Sends `amount` of ERC-20 `token` (zero: native coin) held here to `to`, if no accounting of
    /// this contract owns it (see {rescuable}). Only the default admin.
    function rescue(address token, address to, uint256 amount) external;
    /// @notice Sends ERC-721 token `tokenId` of `collection` held here to `to`, unless this contract's
    /// accounting owns it (a cube locked in a bridge). Only the default admin.
    function rescueNFT(address collection, address to, uint256 tokenId) external;
    /// @notice How much of `token` (zero: native) held here no accounting owns: what {rescue} may send.
    function rescuable(address token) external view returns (uint256);
}
