// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";
import {ERC20Capped} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Capped.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ILBCToken} from "./interfaces/ILBCToken.sol";
import {Governed} from "./utils/Governed.sol";

/// @title LBCToken
/// @notice The LBC token: OpenZeppelin ERC-20 with a hard cap, burning, EIP-2612 permits and role-based
/// minting. See {ILBCToken}.
contract LBCToken is ILBCToken, ERC20, ERC20Burnable, ERC20Capped, ERC20Permit, Governed {
    /// @inheritdoc ILBCToken
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

    /// @dev `admin` cannot be the zero address (AccessControlInvalidDefaultAdmin); `cap_` must be non-zero
    /// (ERC20InvalidCap otherwise).
    constructor(address admin, uint256 cap_)
        ERC20("LBC", "LBC")
        ERC20Capped(cap_)
        ERC20Permit("LBC")
        Governed(admin)
    {}

    /// @inheritdoc ILBCToken
    function mint(address to, uint256 amount) external onlyRole(MINTER_ROLE) {
        _mint(to, amount);
    }

    /// @inheritdoc ILBCToken
    function cap() public view override(ILBCToken, ERC20Capped) returns (uint256) {
        return super.cap();
    }

    /// @inheritdoc ILBCToken
    function burn(uint256 amount) public override(ILBCToken, ERC20Burnable) {
        super.burn(amount);
    }

    /// @inheritdoc ILBCToken
    function burnFrom(address account, uint256 amount) public override(ILBCToken, ERC20Burnable) {
        super.burnFrom(account, amount);
    }

    /// @dev The cap is enforced by ERC20Capped on every mint.
    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Capped) {
        super._update(from, to, value);
    }
}
