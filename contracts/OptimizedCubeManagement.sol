// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC721} from "solady/src/tokens/ERC721.sol";
import {ERC2981} from "solady/src/tokens/ERC2981.sol";
import {LibString} from "solady/src/utils/LibString.sol";
import {ILBCToken} from "./interfaces/ILBCToken.sol";
import {IOptimizedCubeManagement} from "./interfaces/IOptimizedCubeManagement.sol";
import {CubeNode} from "./libraries/CubeNode.sol";
import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {Governed} from "./utils/Governed.sol";

/// @title OptimizedCubeManagement
/// @notice The CUBE ERC-721 collection, which mines LBC per cube. See {IOptimizedCubeManagement}.
/// @dev Node data lives in the upper 96 bits of Solady's ownership slot (layout drawn in {CubeNode}), so a
/// steady-state claim of one cube is one cold read and one rewrite of one slot. Pause flag and tier rates
/// share one more slot, read once per claim.
contract OptimizedCubeManagement is IOptimizedCubeManagement, ERC721, ERC2981, Governed {
    using CubeNode for uint256;

    /*´:°•.°+.*•´.*:˚.°*.˚•´.°:°•.°•.*•´.*:˚.°*.˚•´.°:°•.°+.*•´.*:*/
    /*                         CONSTANTS                          */
    /*.•°:°.´+˚.*°.˚:*.´•*.+°.•°:´*.´•*.•°.•°:°.´:•˚°.*°.˚:*.´+°.•*/

    /// @inheritdoc IOptimizedCubeManagement
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");
    /// @inheritdoc IOptimizedCubeManagement
    bytes32 public constant OPERATOR_ROLE = keccak256("OPERATOR_ROLE");
    /// @inheritdoc IOptimizedCubeManagement
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @inheritdoc IOptimizedCubeManagement
    uint256 public constant REWARD_UNIT = CubeNode.UNIT;

    /// @dev Solady ERC721's slot seed (its STORAGE section documents the derivation we rely on).
    uint256 private constant _ERC721_MASTER_SLOT_SEED = 0x7d8825530a5a2e7a << 192;
    /// @dev Default royalty at deployment: 5% to the admin.
    uint96 private constant _DEFAULT_ROYALTY_BPS = 500;

    /// @dev The LBC token rewards are minted in.
    ILBCToken private immutable _LBC;
    /// @dev For ids below 2^32 Solady's ownership slot is `_OWNERSHIP_BASE + 2 * id` (the hashed word holds
    /// only the seed), which saves a keccak per cube in the claim loop.
    uint256 private immutable _OWNERSHIP_BASE;

    /*´:°•.°+.*•´.*:˚.°*.˚•´.°:°•.°•.*•´.*:˚.°*.˚•´.°:°•.°+.*•´.*:*/
    /*                          STORAGE                           */
    /*.•°:°.´+˚.*°.˚:*.´•*.+°.•°:´*.´•*.•°.•°:°.´:•˚°.*°.˚:*.´+°.•*/

    /// @dev Pause flag and every tier's current rate and its start (layout in {CubeNode}).
    uint256 private _rates;
    /// @dev Number of cubes minted; the last id.
    uint256 private _minted;
    /// @dev Each tier's rate history, oldest first; the last entry mirrors `_rates`.
    mapping(uint256 tier => CubeNode.RateCheckpoint[]) private _history;
    /// @dev Units earned before a deactivation and not yet claimed (flagged by the node's `carried` bit).
    mapping(uint256 cubeId => uint256 units) private _carried;
    /// @dev Metadata base URI.
    string private _baseURI;

    /*´:°•.°+.*•´.*:˚.°*.˚•´.°:°•.°•.*•´.*:˚.°*.˚•´.°:°•.°+.*•´.*:*/
    /*                        CONSTRUCTOR                         */
    /*.•°:°.´+˚.*°.˚:*.´•*.+°.•°:´*.´•*.•°.•°:°.´:•˚°.*°.˚:*.´+°.•*/

    /// @dev `admin` receives DEFAULT_ADMIN_ROLE, MINTER_ROLE, OPERATOR_ROLE and PAUSER_ROLE and the default
    /// royalty. Every tier starts at rate 0; set rates with {setTierRate}. This contract needs LBC's
    /// MINTER_ROLE before anyone can claim.
    constructor(address admin, address lbcToken_) Governed(admin) {
        if (lbcToken_.code.length == 0) revert ZeroAddress();
        _LBC = ILBCToken(lbcToken_);
        uint256 base;
        /// @solidity memory-safe-assembly
        assembly {
            // Solady's ownership slot hashes `id` with the seed written over its low 4 bytes: for ids that
            // fit in 4 bytes the hashed word is the same, so this is the base for every cube id.
            mstore(0x00, 0)
            mstore(0x1c, _ERC721_MASTER_SLOT_SEED)
            base := keccak256(0x00, 0x20)
        }
        _OWNERSHIP_BASE = base;
        _grantRole(MINTER_ROLE, admin);
        _grantRole(OPERATOR_ROLE, admin);
        _grantRole(PAUSER_ROLE, admin);
        _setDefaultRoyalty(admin, _DEFAULT_ROYALTY_BPS);
        uint256 rates;
        for (uint256 t; t < CubeNode.TIERS; ++t) {
            CubeNode.setRate(_history[t], 0, block.timestamp);
            rates = rates.withTierRate(t, 0, block.timestamp);
        }
        _rates = rates;
    }

    /*´:°•.°+.*•´.*:˚.°*.˚•´.°:°•.°•.*•´.*:˚.°*.˚•´.°:°•.°+.*•´.*:*/
    /*                          CLAIMS                            */
    /*.•°:°.´+˚.*°.˚:*.´•*.+°.•°:´*.´•*.•°.•°:°.´:•˚°.*°.˚:*.´+°.•*/

    /// @inheritdoc IOptimizedCubeManagement
    function batchClaimRewards(uint256[] calldata cubeIds) external returns (uint256 totalReward) {
        uint256 rates = _rates;
        if (rates & CubeNode.PAUSED_BIT != 0) revert EnforcedPause();
        uint256 base = _OWNERSHIP_BASE;
        uint256 ptr;
        uint256 end;
        /// @solidity memory-safe-assembly
        assembly {
            ptr := cubeIds.offset
            end := add(ptr, shl(5, cubeIds.length))
        }
        uint256 units;
        while (true) {
            // Steady-state cubes in one tight loop; it stops at a cube that needs more than that.
            (uint256 stoppedAt, uint256 earned) = CubeNode.claimRun(ptr, end, base, rates, block.timestamp, msg.sender);
            units += earned;
            if (stoppedAt == end) break;
            uint256 cubeId;
            uint256 word;
            /// @solidity memory-safe-assembly
            assembly {
                cubeId := calldataload(stoppedAt)
                word := sload(add(base, add(cubeId, cubeId)))
            }
            if (cubeId > CubeNode.MAX_CUBE_ID || word.owner() != msg.sender) _revertNotClaimable(cubeId);
            uint256 next;
            (next, earned) = _claimSlow(cubeId, word, rates);
            /// @solidity memory-safe-assembly
            assembly {
                sstore(add(base, add(cubeId, cubeId)), next)
            }
            units += earned;
            ptr = stoppedAt + 0x20;
        }
        if (units != 0) {
            totalReward = units * CubeNode.UNIT;
            // Interactions last: every node is already rewritten. The token's Transfer(0, holder, total) is
            // the claim's event (see {IOptimizedCubeManagement-batchClaimRewards}).
            _mintLBC(msg.sender, totalReward);
        }
    }

    /// @inheritdoc IOptimizedCubeManagement
    function pendingReward(uint256 cubeId) external view returns (uint256) {
        (uint256 carried, uint256 accrued) = _earned(cubeId, _wordOf(cubeId), _rates);
        return (carried + accrued) * CubeNode.UNIT;
    }

    /*´:°•.°+.*•´.*:˚.°*.˚•´.°:°•.°•.*•´.*:˚.°*.˚•´.°:°•.°+.*•´.*:*/
    /*                           MINTING                          */
    /*.•°:°.´+˚.*°.˚:*.´•*.+°.•°:´*.´•*.•°.•°:°.´:•˚°.*°.˚:*.´+°.•*/

    /// @inheritdoc IOptimizedCubeManagement
    function mint(address to, uint8 tier) external onlyRole(MINTER_ROLE) returns (uint256 cubeId) {
        cubeId = _mintCubes(to, tier, 1);
    }

    /// @inheritdoc IOptimizedCubeManagement
    function mintBatch(address to, uint8 tier, uint256 quantity)
        external
        onlyRole(MINTER_ROLE)
        returns (uint256 firstCubeId)
    {
        firstCubeId = _mintCubes(to, tier, quantity);
    }

    /*´:°•.°+.*•´.*:˚.°*.˚•´.°:°•.°•.*•´.*:˚.°*.˚•´.°:°•.°+.*•´.*:*/
    /*                          ADMIN                             */
    /*.•°:°.´+˚.*°.˚:*.´•*.+°.•°:´*.´•*.•°.•°:°.´:•˚°.*°.˚:*.´+°.•*/

    /// @inheritdoc IOptimizedCubeManagement
    function setTierRate(uint8 tier, uint256 weiPerSecond) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _checkTier(tier);
        if (weiPerSecond % CubeNode.UNIT != 0) revert RateNotMultipleOfUnit(weiPerSecond, CubeNode.UNIT);
        uint256 rate = weiPerSecond / CubeNode.UNIT;
        if (rate > CubeNode.RATE_MASK) revert RateTooHigh(weiPerSecond, CubeNode.RATE_MASK * CubeNode.UNIT);

        uint256 previous = CubeNode.setRate(_history[tier], rate, block.timestamp);
        _rates = _rates.withTierRate(tier, rate, block.timestamp);
        emit TierRateSet(tier, previous * CubeNode.UNIT, weiPerSecond);
    }

    /// @inheritdoc IOptimizedCubeManagement
    function setActive(uint256 cubeId, bool active) external onlyRole(OPERATOR_ROLE) {
        uint256 slot = _slotOf(cubeId);
        uint256 word;
        /// @solidity memory-safe-assembly
        assembly {
            word := sload(slot)
        }
        if (word.isActive() == active) return;
        uint256 carried;
        if (active) {
            word = (word | CubeNode.ACTIVE_BIT).withLastClaimTime(block.timestamp);
            carried = _carried[cubeId];
        } else {
            uint256 accrued;
            (carried, accrued) = _earned(cubeId, word, _rates);
            carried += accrued;
            if (accrued != 0) {
                _carried[cubeId] = carried;
                word |= CubeNode.CARRIED_BIT;
            }
            word &= ~CubeNode.ACTIVE_BIT;
        }
        /// @solidity memory-safe-assembly
        assembly {
            sstore(slot, word)
        }
        emit CubeActivitySet(cubeId, active, carried * CubeNode.UNIT);
    }

    /// @inheritdoc IOptimizedCubeManagement
    function pause() external onlyRole(PAUSER_ROLE) {
        uint256 rates = _rates;
        if (rates & CubeNode.PAUSED_BIT != 0) revert EnforcedPause();
        _rates = rates | CubeNode.PAUSED_BIT;
        emit Paused(msg.sender);
    }

    /// @inheritdoc IOptimizedCubeManagement
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        uint256 rates = _rates;
        if (rates & CubeNode.PAUSED_BIT == 0) revert ExpectedPause();
        _rates = rates & ~CubeNode.PAUSED_BIT;
        emit Unpaused(msg.sender);
    }

    /// @inheritdoc IOptimizedCubeManagement
    function setDefaultRoyalty(address receiver, uint96 feeBasisPoints) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setDefaultRoyalty(receiver, feeBasisPoints);
        emit DefaultRoyaltySet(receiver, feeBasisPoints);
    }

    /// @inheritdoc IOptimizedCubeManagement
    function setBaseURI(string calldata baseURI) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _baseURI = baseURI;
        emit BaseURISet(baseURI);
    }

    /*´:°•.°+.*•´.*:˚.°*.˚•´.°:°•.°•.*•´.*:˚.°*.˚•´.°:°•.°+.*•´.*:*/
    /*                           VIEWS                            */
    /*.•°:°.´+˚.*°.˚:*.´•*.+°.•°:´*.´•*.•°.•°:°.´:•˚°.*°.˚:*.´+°.•*/

    /// @inheritdoc IOptimizedCubeManagement
    function nodeData(uint256 cubeId)
        external
        view
        returns (uint128 totalMined, uint64 lastClaimTime, uint32, bool isActive)
    {
        uint256 word = _wordOf(cubeId);
        totalMined = uint128(word.totalMined() * CubeNode.UNIT);
        lastClaimTime = uint64(word.lastClaimTime());
        isActive = word.isActive();
        return (totalMined, lastClaimTime, uint32(cubeId), isActive);
    }

    /// @inheritdoc IOptimizedCubeManagement
    function tierRate(uint8 tier) external view returns (uint256) {
        _checkTier(tier);
        (uint256 rate,) = _rates.tierRate(tier);
        return rate * CubeNode.UNIT;
    }

    /// @inheritdoc IOptimizedCubeManagement
    function tierOf(uint256 cubeId) external view returns (uint8) {
        return uint8(_wordOf(cubeId).tier());
    }

    /// @inheritdoc IOptimizedCubeManagement
    function ownersOf(uint256[] calldata cubeIds) external view returns (address[] memory owners) {
        owners = new address[](cubeIds.length);
        uint256 base = _OWNERSHIP_BASE;
        for (uint256 i; i < cubeIds.length; ++i) {
            uint256 cubeId = cubeIds[i];
            if (cubeId > CubeNode.MAX_CUBE_ID) continue; // Beyond every id: no owner.
            uint256 word;
            /// @solidity memory-safe-assembly
            assembly {
                word := sload(add(base, add(cubeId, cubeId)))
            }
            owners[i] = word.owner();
        }
    }

    /// @inheritdoc IOptimizedCubeManagement
    function paused() external view returns (bool) {
        return _rates & CubeNode.PAUSED_BIT != 0;
    }

    /// @inheritdoc IOptimizedCubeManagement
    function lbcToken() external view returns (address) {
        return address(_LBC);
    }

    /// @inheritdoc IOptimizedCubeManagement
    function tierCount() external pure returns (uint256) {
        return CubeNode.TIERS;
    }

    /// @inheritdoc IOptimizedCubeManagement
    function totalMinted() external view returns (uint256) {
        return _minted;
    }

    /// @notice The collection name, "CUBE".
    function name() public pure override returns (string memory) {
        return "CUBE";
    }

    /// @notice The collection symbol, "CUBE".
    function symbol() public pure override returns (string memory) {
        return "CUBE";
    }

    /// @notice The base URI followed by the id, or "" when no base URI is set.
    function tokenURI(uint256 cubeId) public view override returns (string memory) {
        if (!_exists(cubeId)) revert NonexistentCube(cubeId);
        string memory base = _baseURI;
        return bytes(base).length == 0 ? "" : string.concat(base, LibString.toString(cubeId));
    }

    /// @notice ERC-165: ERC-721 (and metadata), ERC-2981, AccessControl, AccessControlDefaultAdminRules.
    function supportsInterface(bytes4 interfaceId)
        public
        view
        override(ERC721, ERC2981, AccessControlDefaultAdminRules)
        returns (bool)
    {
        return ERC721.supportsInterface(interfaceId) || ERC2981.supportsInterface(interfaceId)
            || AccessControlDefaultAdminRules.supportsInterface(interfaceId);
    }

    /*´:°•.°+.*•´.*:˚.°*.˚•´.°:°•.°•.*•´.*:˚.°*.˚•´.°:°•.°+.*•´.*:*/
    /*                         INTERNAL                           */
    /*.•°:°.´+˚.*°.˚:*.´•*.+°.•°:´*.´•*.•°.•°:°.´:•˚°.*°.˚:*.´+°.•*/

    /// @dev Mints `quantity` cubes of `tier` to `to` and returns the first id.
    function _mintCubes(address to, uint8 tier, uint256 quantity) private returns (uint256 firstCubeId) {
        _checkTier(tier);
        if (to == address(0)) revert ZeroAddress();
        if (quantity == 0) revert ZeroQuantity();
        uint256 minted = _minted;
        if (quantity > CubeNode.MAX_CUBE_ID - minted) revert CubeIdsExhausted(quantity, CubeNode.MAX_CUBE_ID);
        firstCubeId = minted + 1;
        uint96 node = CubeNode.newNode(tier, block.timestamp);
        for (uint256 i; i < quantity; ++i) {
            // Unchecked mint is safe: ids are fresh, above every id minted before.
            _mintAndSetExtraDataUnchecked(to, firstCubeId + i, node);
        }
        _minted = minted + quantity;
        emit CubesMinted(to, tier, firstCubeId, quantity);
    }

    /// @dev `_LBC.mint(to, amount)`, bubbling up the token's revert (such as `ERC20ExceededCap`). Plain
    /// assembly skips the high-level call's code-size check: the constructor checked that LBC has code.
    function _mintLBC(address to, uint256 amount) private {
        address lbc = address(_LBC);
        /// @solidity memory-safe-assembly
        assembly {
            let m := mload(0x40)
            mstore(m, 0x40c10f19) // `mint(address,uint256)`.
            mstore(add(m, 0x20), to)
            mstore(add(m, 0x40), amount)
            if iszero(call(gas(), lbc, 0, add(m, 0x1c), 0x44, 0x00, 0x00)) {
                returndatacopy(m, 0x00, returndatasize())
                revert(m, returndatasize())
            }
        }
    }

    /// @dev The slow path of a claim: carried rewards, rate changes since the last claim, inactive cubes.
    function _claimSlow(uint256 cubeId, uint256 word, uint256 rates)
        private
        returns (uint256 next, uint256 earned)
    {
        (uint256 carried, uint256 accrued) = _earned(cubeId, word, rates);
        next = word & ~CubeNode.CARRIED_BIT;
        if (word.hasCarried()) delete _carried[cubeId];
        if (word.isActive()) next = next.withLastClaimTime(block.timestamp);
        earned = carried + accrued;
        if (next.totalMined() + earned > CubeNode.MINED_MAX) revert TotalMinedOverflow(cubeId);
        next += earned << CubeNode.MINED_SHIFT;
    }

    /// @dev Units cube `cubeId` (node `word`) holds from before a deactivation, and has accrued since its
    /// last claim, at every rate its tier had meanwhile.
    function _earned(uint256 cubeId, uint256 word, uint256 rates)
        private
        view
        returns (uint256 carried, uint256 accrued)
    {
        if (word.hasCarried()) carried = _carried[cubeId];
        if (!word.isActive()) return (carried, 0);
        uint256 tier = word.tier();
        uint256 last = word.lastClaimTime();
        (uint256 rate, uint256 since) = rates.tierRate(tier);
        accrued = CubeNode.accrued(_history[tier], last, rate, since, block.timestamp);
    }

    /// @dev The ownership slot of `cubeId`, which must exist.
    function _slotOf(uint256 cubeId) private view returns (uint256) {
        if (cubeId == 0 || cubeId > _minted) revert NonexistentCube(cubeId);
        return _OWNERSHIP_BASE + 2 * cubeId;
    }

    /// @dev The whole packed word of an existing cube.
    function _wordOf(uint256 cubeId) private view returns (uint256 word) {
        uint256 slot = _slotOf(cubeId);
        /// @solidity memory-safe-assembly
        assembly {
            word := sload(slot)
        }
    }

    /// @dev Reverts with why `msg.sender` cannot claim `cubeId`.
    function _revertNotClaimable(uint256 cubeId) private view {
        if (cubeId == 0 || cubeId > _minted) revert NonexistentCube(cubeId);
        revert NotCubeOwner(cubeId, msg.sender);
    }

    function _checkTier(uint8 tier) private pure {
        if (tier >= CubeNode.TIERS) revert InvalidTier(tier, CubeNode.TIERS);
    }
}
