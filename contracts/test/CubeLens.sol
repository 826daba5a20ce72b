// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// TESTING ONLY. Reads every cube's public state in one call, so the property tests can check all cubes
// after every step without one RPC round trip per cube and field.

import {IOptimizedCubeManagement} from "../interfaces/IOptimizedCubeManagement.sol";

interface IOwnerOf {
    function ownerOf(uint256 id) external view returns (address);
}

contract CubeLens {
    struct CubeView {
        uint256 totalMined;
        uint256 lastClaimTime;
        bool isActive;
        uint256 pending;
        address owner;
    }

    function inspect(IOptimizedCubeManagement cubes) external view returns (CubeView[] memory views) {
        uint256 n = cubes.totalMinted();
        views = new CubeView[](n);
        for (uint256 id = 1; id <= n; ++id) {
            (uint128 mined, uint64 last,, bool active) = cubes.nodeData(id);
            views[id - 1] = CubeView(mined, last, active, cubes.pendingReward(id), IOwnerOf(address(cubes)).ownerOf(id));
        }
    }
}
