// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// TESTING ONLY. A plain OpenZeppelin ERC-20 that anyone can mint, used as a partner's welcome token in the
// partner tests. Production code never deploys it.

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

contract MockERC20 is ERC20 {
    constructor(string memory name_, string memory symbol_) ERC20(name_, symbol_) {}

    /// @notice Mints `amount` to `to`; unrestricted (tests only).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
