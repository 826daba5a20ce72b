// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IGoverned} from "./IGoverned.sol";

/// @title IPartnerFactory
/// @notice Onboards partners: one {IPartnerBenefits} clone per partner, at a CREATE2 address derived from
/// the partner id alone, created, configured and funded in one transaction whose cost does not depend on
/// how many cubes or holders exist (holders claim lazily).
interface IPartnerFactory is IGoverned {
    /// @notice The terms of a new partner.
    /// @param partner The partner's account (withdraws unclaimed funds after the window).
    /// @param welcomeToken The token of the welcome grant (zero only when `welcomeAmountPerCube` is 0).
    /// @param welcomeAmountPerCube What each cube existing now receives once.
    /// @param claimWindow Seconds from now during which holders can claim.
    /// @param discountBps Discount per cube tier 0..3, in basis points, each at most 10,000.
    /// @param services The partner's services, at least one, at most 255.
    struct PartnerTerms {
        address partner;
        address welcomeToken;
        uint96 welcomeAmountPerCube;
        uint40 claimWindow;
        uint16[4] discountBps;
        bytes32[] services;
    }

    /// @notice Partner id `partnerId` is already onboarded at `partnerAddress`.
    error PartnerExists(bytes32 partnerId, address partnerAddress);
    /// @notice The partner id is zero; use the partner's slug.
    error ZeroPartnerId();
    /// @notice The discount of tier `tier` is `bps`, above 10,000 (100%).
    error DiscountTooHigh(uint8 tier, uint16 bps);
    /// @notice A partner needs between 1 and 255 services; `count` were given.
    error InvalidServiceCount(uint256 count);
    /// @notice The claim window must be longer than zero seconds.
    error ZeroClaimWindow();
    /// @notice A claim window of `claimWindow` seconds would end after `maxDeadline`, the last time a clone
    /// can hold (2^40 - 1 seconds: year 36812).
    error ClaimWindowTooLong(uint256 claimWindow, uint256 maxDeadline);
    /// @notice A required address was zero, or the cubes contract or a funded welcome token has no code.
    error InvalidAddress();
    /// @notice No clone is being created: the runtime query is only answered during {createPartner}.
    error NoPendingClone();

    /// @notice Partner `partnerId` was onboarded at `partnerAddress`; `funded` of `welcomeToken` covers
    /// `welcomeAmountPerCube` for each of cubes 1..`snapshotCubeId` until `claimDeadline`.
    event PartnerCreated(
        bytes32 indexed partnerId,
        address indexed partnerAddress,
        address indexed partner,
        address welcomeToken,
        uint256 welcomeAmountPerCube,
        uint256 snapshotCubeId,
        uint256 claimDeadline,
        uint256 funded
    );

    /// @notice The role allowed to onboard partners.
    function ONBOARDER_ROLE() external view returns (bytes32);
    /// @notice The CUBE collection whose holders benefit.
    function cubes() external view returns (address);
    /// @notice The PartnerBenefits implementation every clone delegates to.
    function implementation() external view returns (address);
    /// @notice Where partner `partnerId` is, or will be, deployed.
    function predictPartnerAddress(bytes32 partnerId) external view returns (address);
    /// @notice The contract of partner `partnerId`, or the zero address when it is not onboarded.
    function partnerOf(bytes32 partnerId) external view returns (address);

    /// @notice Creates partner `partnerId` with `terms`, entitles every cube minted so far, and pulls
    /// `welcomeAmountPerCube * totalMinted` of the welcome token from the caller (approve the factory).
    /// Only ONBOARDER_ROLE. Each partner id can be used once.
    /// @return partnerAddress The partner's contract, at {predictPartnerAddress}.
    function createPartner(bytes32 partnerId, PartnerTerms calldata terms) external returns (address partnerAddress);
}
