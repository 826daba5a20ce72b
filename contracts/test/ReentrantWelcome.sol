// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// TESTING ONLY. A welcome token that calls back into its recipient (as ERC-777 or a malicious ERC-20 can),
// and a cube holder that uses the callback to claim the same welcome grant again. Production code never
// deploys either.

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IPartnerBenefits} from "../interfaces/IPartnerBenefits.sol";

/// @notice Receives {CallbackERC20}'s transfer notification.
interface ITokenRecipient {
    function onTokenTransfer(address from, uint256 amount) external;
}

/// @notice An ERC-20 that anyone can mint and that, after every transfer to a registered recipient, calls
/// `onTokenTransfer` on it.
contract CallbackERC20 is ERC20 {
    mapping(address => bool) public notified;

    constructor() ERC20("Callback", "CALL") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function setNotified(address recipient, bool on) external {
        notified[recipient] = on;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (notified[to]) ITokenRecipient(to).onTokenTransfer(from, value);
    }
}

/// @notice Holds cubes; on the first welcome payment it receives, claims the same cubes once more from
/// inside the payment and records what that second claim did.
contract ReentrantHolder is ITokenRecipient {
    IPartnerBenefits public target;
    uint256[] internal _cubeIds;
    uint256 public reentries;
    uint256 public reentrantPaid;
    bytes public reentrantError;

    function claim(IPartnerBenefits clone, uint256[] calldata cubeIds) external returns (uint256) {
        target = clone;
        _cubeIds = cubeIds;
        return clone.claimWelcome(cubeIds);
    }

    function onTokenTransfer(address, uint256) external {
        if (reentries != 0) return;
        reentries = 1;
        try target.claimWelcome(_cubeIds) returns (uint256 paid) {
            reentrantPaid = paid;
        } catch (bytes memory reason) {
            reentrantError = reason;
        }
    }
}
