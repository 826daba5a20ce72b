// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IGoverned} from "./IGoverned.sol";

/// @title IOptimizedCubeManagement
/// @notice The CUBE collection of the L.I.N.K Protocol. Each cube is an ERC-721 token that "mines" LBC at
/// its tier's rate while it is active; whoever holds the cube claims what it has mined, for many cubes in
/// one transaction. Rewards follow the cube: after a transfer the new holder claims what is pending.
///
/// Accrual is exact and lazy: nothing is written per cube until it is claimed, deactivated or
/// reactivated. Rates are whole multiples of {REWARD_UNIT} wei per second, so every amount is exact.
///
/// Roles (OpenZeppelin AccessControl, the default admin under AccessControlDefaultAdminRules, see
/// {IGoverned}): DEFAULT_ADMIN_ROLE sets rates, royalties and metadata, manages roles, unpauses and rescues;
/// MINTER_ROLE mints cubes; OPERATOR_ROLE (de)activates cubes; PAUSER_ROLE (a guardian) pauses claims.
interface IOptimizedCubeManagement is IGoverned {
    /*´:°•.°+.*•´.*:˚.°*.˚•´.°:°•.°•.*•´.*:˚.°*.˚•´.°:°•.°+.*•´.*:*/
    /*                          ERRORS                            */
    /*.•°:°.´+˚.*°.˚:*.´•*.+°.•°:´*.´•*.•°.•°:°.´:•˚°.*°.˚:*.´+°.•*/

    /// @notice `caller` tried to claim cube `cubeId`, which is owned by someone else.
    error NotCubeOwner(uint256 cubeId, address caller);

    /// @notice No cube with id `cubeId` exists.
    error NonexistentCube(uint256 cubeId);

    /// @notice Tier `tier` does not exist; tiers are 0 .. `tierCount - 1`.
    error InvalidTier(uint8 tier, uint256 tierCount);

    /// @notice `weiPerSecond` is not a whole multiple of `unit` wei per second.
    error RateNotMultipleOfUnit(uint256 weiPerSecond, uint256 unit);

    /// @notice `weiPerSecond` is above the largest rate the packed layout holds, `maxWeiPerSecond`.
    error RateTooHigh(uint256 weiPerSecond, uint256 maxWeiPerSecond);

    /// @notice Paying cube `cubeId` would pass the largest `totalMined` one cube can count
    /// (2^52 - 1 units, about 4.5e9 LBC).
    error TotalMinedOverflow(uint256 cubeId);

    /// @notice Minting `quantity` more cubes would pass the largest cube id, `maxCubeId`.
    error CubeIdsExhausted(uint256 quantity, uint256 maxCubeId);

    /// @notice `mintBatch` was asked for zero cubes; ask for at least one.
    error ZeroQuantity();

    /// @notice The LBC token address holds no code.
    error ZeroAddress();

    /// @notice The operation is not allowed while claims are paused.
    error EnforcedPause();

    /// @notice The operation needs claims to be paused, and they are not.
    error ExpectedPause();

    /*´:°•.°+.*•´.*:˚.°*.˚•´.°:°•.°•.*•´.*:˚.°*.˚•´.°:°•.°+.*•´.*:*/
    /*                          EVENTS                            */
    /*.•°:°.´+˚.*°.˚:*.´•*.+°.•°:´*.´•*.•°.•°:°.´:•˚°.*°.˚:*.´+°.•*/

    /// @notice Cubes `firstCubeId` .. `firstCubeId + quantity - 1` were minted to `to` in tier `tier`
    /// (each also emits ERC-721 `Transfer`).
    event CubesMinted(address indexed to, uint8 indexed tier, uint256 firstCubeId, uint256 quantity);

    /// @notice Tier `tier` now pays `weiPerSecond` per cube, from this block on.
    event TierRateSet(uint8 indexed tier, uint256 previousWeiPerSecond, uint256 weiPerSecond);

    /// @notice Cube `cubeId` was (de)activated; `carriedReward` wei earned before a deactivation stays
    /// claimable.
    event CubeActivitySet(uint256 indexed cubeId, bool active, uint256 carriedReward);

    /// @notice Claims were paused by `account`.
    event Paused(address account);

    /// @notice Claims were unpaused by `account`.
    event Unpaused(address account);

    /// @notice The ERC-2981 default royalty is now `feeBasisPoints` / 10,000 of a sale, paid to `receiver`.
    event DefaultRoyaltySet(address indexed receiver, uint96 feeBasisPoints);

    /// @notice The metadata base URI changed (ERC-4906 style hint for indexers).
    event BaseURISet(string baseURI);

    /*´:°•.°+.*•´.*:˚.°*.˚•´.°:°•.°•.*•´.*:˚.°*.˚•´.°:°•.°+.*•´.*:*/
    /*                          VIEWS                             */
    /*.•°:°.´+˚.*°.˚:*.´•*.+°.•°:´*.´•*.•°.•°:°.´:•˚°.*°.˚:*.´+°.•*/

    /// @notice The role that mints cubes.
    function MINTER_ROLE() external view returns (bytes32);

    /// @notice The role that (de)activates cubes.
    function OPERATOR_ROLE() external view returns (bytes32);

    /// @notice The role that pauses claims (unpausing takes the default admin).
    function PAUSER_ROLE() external view returns (bytes32);

    /// @notice The LBC token that rewards are minted in.
    function lbcToken() external view returns (address);

    /// @notice Wei per reward unit: rates must be whole multiples of it (1e12 wei per second).
    function REWARD_UNIT() external view returns (uint256);

    /// @notice Number of tiers; valid tiers are 0 .. tierCount() - 1.
    function tierCount() external view returns (uint256);

    /// @notice The number of cubes minted so far; ids run from 1 to this.
    function totalMinted() external view returns (uint256);

    /// @notice LBC wei per second that each active cube of `tier` earns now.
    function tierRate(uint8 tier) external view returns (uint256);

    /// @notice The tier of cube `cubeId`. Reverts with {NonexistentCube} for unknown ids.
    function tierOf(uint256 cubeId) external view returns (uint8);

    /// @notice The holder of each of `cubeIds`, the zero address where no such cube exists: one call
    /// for many cubes (partner contracts check ownership with it).
    function ownersOf(uint256[] calldata cubeIds) external view returns (address[] memory owners);

    /// @notice Whether claims are paused. Accrual continues while paused.
    function paused() external view returns (bool);

    /// @notice LBC wei that claiming `cubeId` now would pay. Reverts with {NonexistentCube}.
    function pendingReward(uint256 cubeId) external view returns (uint256);

    /// @notice The seed's PackedNodeData view of cube `cubeId`. Reverts with {NonexistentCube}.
    /// @return totalMined LBC wei ever paid for this cube.
    /// @return lastClaimTime When accrual last (re)started: mint, last claim while active, or reactivation.
    /// @return cubeId The id itself.
    /// @return isActive Whether the cube accrues.
    function nodeData(uint256 cubeId)
        external
        view
        returns (uint128 totalMined, uint64 lastClaimTime, uint32, bool isActive);

    /*´:°•.°+.*•´.*:˚.°*.˚•´.°:°•.°•.*•´.*:˚.°*.˚•´.°:°•.°+.*•´.*:*/
    /*                        OPERATIONS                          */
    /*.•°:°.´+˚.*°.˚:*.´•*.+°.•°:´*.´•*.•°.•°:°.´:•˚°.*°.˚:*.´+°.•*/

    /// @notice Mints one active cube of `tier` to `to`; it accrues from this block. Only MINTER_ROLE.
    /// @return cubeId The new id; ids start at 1 and increase by one.
    function mint(address to, uint8 tier) external returns (uint256 cubeId);

    /// @notice Mints `quantity` (at least one) active cubes of `tier` to `to`. Only MINTER_ROLE.
    /// @return firstCubeId The first new id; the rest follow consecutively.
    function mintBatch(address to, uint8 tier, uint256 quantity) external returns (uint256 firstCubeId);

    /// @notice Sets what each cube of `tier` earns from now on; rewards accrued before never change.
    /// Only DEFAULT_ADMIN_ROLE. `weiPerSecond` must be a multiple of {REWARD_UNIT}.
    function setTierRate(uint8 tier, uint256 weiPerSecond) external;

    /// @notice (De)activates cube `cubeId`. An inactive cube accrues nothing, and what it earned before
    /// stays claimable; reactivation restarts accrual from this block. Setting the current state is a
    /// no-op. Only OPERATOR_ROLE.
    function setActive(uint256 cubeId, bool active) external;

    /// @notice Claims the rewards of all `cubeIds` for the caller, minting the total in LBC once.
    /// @dev Reverts as a whole with {NotCubeOwner} if the caller does not own every cube, with
    /// {NonexistentCube} for an unknown id, with {EnforcedPause} while paused, and with the token's
    /// `ERC20ExceededCap` if the total would pass the LBC cap. A repeated id pays once.
    /// The claim emits no event of its own, to stay near the gas floor: LBC's `Transfer(0, holder,
    /// totalReward)` in the same transaction records the payout, the ids are in the calldata, and
    /// {nodeData} shows each cube's new state.
    /// @return totalReward LBC wei minted to the caller.
    function batchClaimRewards(uint256[] calldata cubeIds) external returns (uint256 totalReward);

    /// @notice Pauses claims. Only PAUSER_ROLE.
    function pause() external;

    /// @notice Unpauses claims. Only DEFAULT_ADMIN_ROLE (the timelock): a guardian can stop claims, not
    /// restart them.
    function unpause() external;

    /// @notice Sets the ERC-2981 default royalty. Only DEFAULT_ADMIN_ROLE.
    function setDefaultRoyalty(address receiver, uint96 feeBasisPoints) external;

    /// @notice Sets the metadata base URI; `tokenURI(id)` is the base followed by the id. Only
    /// DEFAULT_ADMIN_ROLE.
    function setBaseURI(string calldata baseURI) external;
}
