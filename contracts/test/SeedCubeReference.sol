// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// TESTING ONLY. The seed's OptimizedCubeManagement taken literally, kept as the gas benchmark's reference
// (`ape run gas_bench`). Production code never deploys it.

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {ILBCToken} from "../interfaces/ILBCToken.sol";

/// @notice A separate OpenZeppelin ERC-721 holding the cubes, minted by the reference manager.
contract SeedCubeNFT is ERC721, AccessControl {
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

    constructor(address admin) ERC721("CUBE", "CUBE") {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    function mint(address to, uint256 id) external onlyRole(MINTER_ROLE) {
        _mint(to, id);
    }

    function supportsInterface(bytes4 id) public view override(ERC721, AccessControl) returns (bool) {
        return super.supportsInterface(id);
    }
}

/// @notice The seed's design: the packed struct in its own slot, `ownerOf` called on the NFT per cube,
/// one mint of the total.
contract SeedCubeManagement is AccessControl {
    struct PackedNodeData {
        uint128 totalMined; // 16 bytes
        uint64 lastClaimTime; // 8 bytes
        uint32 cubeId; // 4 bytes
        bool isActive; // 1 byte (packed into 32 bytes)
    }

    error NotOwner(uint256 cubeId);

    SeedCubeNFT public immutable cubeNFT;
    ILBCToken public immutable lbcToken;
    uint256 public ratePerSecond;
    mapping(uint256 => PackedNodeData) public nodes;
    uint256 public minted;

    constructor(address admin, SeedCubeNFT nft, ILBCToken lbc, uint256 rate) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        cubeNFT = nft;
        lbcToken = lbc;
        ratePerSecond = rate;
    }

    function mintBatch(address to, uint256 quantity) external onlyRole(DEFAULT_ADMIN_ROLE) {
        for (uint256 i; i < quantity; ++i) {
            uint256 id = ++minted;
            cubeNFT.mint(to, id);
            nodes[id] = PackedNodeData(0, uint64(block.timestamp), uint32(id), true);
        }
    }

    function batchClaimRewards(uint256[] calldata cubeIds) external returns (uint256 totalReward) {
        for (uint256 i = 0; i < cubeIds.length; i++) {
            if (cubeNFT.ownerOf(cubeIds[i]) != msg.sender) revert NotOwner(cubeIds[i]);
            totalReward += calculateReward(cubeIds[i]);
            updateLastClaim(cubeIds[i]);
        }
        lbcToken.mint(msg.sender, totalReward);
    }

    function calculateReward(uint256 cubeId) internal view returns (uint256) {
        PackedNodeData storage node = nodes[cubeId];
        if (!node.isActive) return 0;
        return ratePerSecond * (block.timestamp - node.lastClaimTime);
    }

    function updateLastClaim(uint256 cubeId) internal {
        PackedNodeData storage node = nodes[cubeId];
        node.totalMined += uint128(calculateReward(cubeId));
        node.lastClaimTime = uint64(block.timestamp);
    }
}
