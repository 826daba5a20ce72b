// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// TESTING ONLY. A one-key stand-in for a guardian Safe: its owner has it make several calls in one
// transaction, from its own address (as a Safe executing a MultiSend does), so that a guardian holding only
// PAUSER_ROLE can pause several contracts at once. Production code never deploys it.

contract GuardianBatch {
    /// @notice The only account that may have the batch executed.
    address public immutable owner;

    /// @notice `caller` is not the owner.
    error NotOwner(address caller);

    constructor(address owner_) {
        owner = owner_;
    }

    /// @notice Calls `targets[i]` with `data[i]` in order; a failing call reverts the whole batch with its
    /// own revert data.
    function execute(address[] calldata targets, bytes[] calldata data) external {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        for (uint256 i; i < targets.length; ++i) {
            (bool ok, bytes memory result) = targets[i].call(data[i]);
            if (!ok) {
                /// @solidity memory-safe-assembly
                assembly {
                    revert(add(result, 0x20), mload(result))
                }
            }
        }
    }
}
