// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IPartnerBenefits
/// @notice One partner of the L.I.N.K Protocol (a café, a service, a dApp): what CUBE holders get from it.
/// Each partner is a minimal-proxy clone made by {IPartnerFactory}; its terms are written into the clone's
/// code when it is created, so they can never change and there is nothing to initialise twice.
///
/// - Benefit structure: a discount per cube tier that partner systems read with {benefitOf}.
/// - Welcome grant: every cube that existed at onboarding (ids up to {snapshotCubeId}) may claim
///   {welcomeAmountPerCube} of {welcomeToken} once, ever, whoever holds it, until {claimDeadline}. The
///   partner funded the whole grant at onboarding and may withdraw what is left after the deadline.
interface IPartnerBenefits {
    /// @notice `caller` does not hold cube `cubeId`.
    error NotCubeOwner(uint256 cubeId, address caller);
    /// @notice Cube `cubeId` was minted after onboarding (only ids up to `snapshotCubeId` are entitled).
    error NotEntitled(uint256 cubeId, uint256 snapshotCubeId);
    /// @notice Welcome claims closed at `deadline`.
    error ClaimWindowClosed(uint256 deadline);
    /// @notice Unclaimed funds can be withdrawn only after `deadline`.
    error ClaimWindowOpen(uint256 deadline);
    /// @notice Only the partner (`partner`) may do this.
    error NotPartner(address caller, address partner);
    /// @notice Tier `tier` does not exist (tiers are 0..3).
    error InvalidTier(uint8 tier);
    /// @notice The call reached the implementation, which holds no terms; use a partner's clone.
    error NotAClone();

    /// @notice `holder` claimed the welcome grant of `cubeCount` cubes, `amount` in total.
    event WelcomeClaimed(address indexed holder, uint256 cubeCount, uint256 amount);
    /// @notice The partner withdrew `amount` unclaimed after the claim window.
    event UnclaimedWithdrawn(address indexed partner, uint256 amount);

    /// @notice The partner's id (its slug, UTF-8, zero-padded).
    function partnerId() external view returns (bytes32);
    /// @notice The partner's own account: it may withdraw unclaimed funds after the deadline.
    function partner() external view returns (address);
    /// @notice The services the partner offers (names, UTF-8, zero-padded).
    function services() external view returns (bytes32[] memory);
    /// @notice The discount, in basis points (at most 10,000), a cube of `tier` gets.
    function discountBps(uint8 tier) external view returns (uint16);
    /// @notice Whether cube `cubeId` gets the benefit now (it exists and is active), and its discount.
    function benefitOf(uint256 cubeId) external view returns (bool eligible, uint16 discountBps);
    /// @notice The token the welcome grant is paid in.
    function welcomeToken() external view returns (address);
    /// @notice What each entitled cube receives once.
    function welcomeAmountPerCube() external view returns (uint256);
    /// @notice The last cube id that existed at onboarding; ids 1..snapshotCubeId are entitled.
    function snapshotCubeId() external view returns (uint256);
    /// @notice The end of the claim window (unix seconds).
    function claimDeadline() external view returns (uint256);
    /// @notice Whether cube `cubeId` has taken its welcome grant.
    function welcomeClaimed(uint256 cubeId) external view returns (bool);

    /// @notice Pays the caller the welcome grant of each of `cubeIds` not yet claimed.
    /// @dev Reverts as a whole with {NotCubeOwner}, {NotEntitled} or {ClaimWindowClosed}. A cube whose
    /// grant was already taken (also by a previous holder, or earlier in the same list) pays nothing.
    /// @return paid The amount sent to the caller.
    function claimWelcome(uint256[] calldata cubeIds) external returns (uint256 paid);

    /// @notice Sends everything left of the grant to the partner; only the partner, after the deadline.
    function withdrawUnclaimed() external returns (uint256 amount);
}
