// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// TESTING ONLY. A partner contract deployed in full with its terms in storage, the straightforward
// alternative to PartnerFactory's clones; the gas benchmark's reference. Production never deploys it.

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";

contract PlainPartnerBenefits {
    error NotCubeOwner(uint256 cubeId);
    error NotEntitled(uint256 cubeId);

    IERC721 public immutable cubes;
    bytes32 public partnerId;
    address public partner;
    address public welcomeToken;
    uint256 public welcomeAmountPerCube;
    uint256 public snapshotCubeId;
    uint256 public claimDeadline;
    uint16[4] public discountBps;
    bytes32[] public services;
    mapping(uint256 => bool) public welcomeClaimed;

    constructor(
        IERC721 cubes_,
        bytes32 partnerId_,
        address partner_,
        address welcomeToken_,
        uint256 welcomeAmountPerCube_,
        uint256 snapshotCubeId_,
        uint256 claimDeadline_,
        uint16[4] memory discountBps_,
        bytes32[] memory services_
    ) {
        cubes = cubes_;
        partnerId = partnerId_;
        partner = partner_;
        welcomeToken = welcomeToken_;
        welcomeAmountPerCube = welcomeAmountPerCube_;
        snapshotCubeId = snapshotCubeId_;
        claimDeadline = claimDeadline_;
        discountBps = discountBps_;
        services = services_;
    }

    function claimWelcome(uint256[] calldata cubeIds) external returns (uint256 paid) {
        uint256 count;
        for (uint256 i; i < cubeIds.length; ++i) {
            if (cubeIds[i] > snapshotCubeId) revert NotEntitled(cubeIds[i]);
            if (cubes.ownerOf(cubeIds[i]) != msg.sender) revert NotCubeOwner(cubeIds[i]);
            if (!welcomeClaimed[cubeIds[i]]) {
                welcomeClaimed[cubeIds[i]] = true;
                ++count;
            }
        }
        paid = count * welcomeAmountPerCube;
        if (paid != 0) IERC20(welcomeToken).transfer(msg.sender, paid);
    }
}
