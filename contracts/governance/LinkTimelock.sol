// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title LinkTimelock
/// @notice The protocol's timelock: it holds every admin role of every protocol contract, so each admin
/// change is announced (`CallScheduled`) and can be watched, and cancelled, for at least {getMinDelay}
/// seconds before anyone can execute it (`CallExecuted`). OpenZeppelin's {TimelockController}, unchanged.
/// @dev Roles after deployment (set up by `link_ops.governance`):
/// - PROPOSER_ROLE and CANCELLER_ROLE: the governance Safe (an M-of-N multisig), and nobody else;
/// - EXECUTOR_ROLE: `address(0)` by default, which lets anyone execute an operation once it is ready;
/// - DEFAULT_ADMIN_ROLE: this contract only (granted to itself in the constructor), so role changes and
///   {updateDelay} go through the delay like every other operation.
/// A deployment may start in a setup phase (minimum delay 0, the deployer as proposer, executor and the
/// constructor's optional `admin`) to wire the protocol's contracts through the timelock at once; the
/// setup ends by granting the Safe its roles, raising the delay through the timelock itself and removing
/// every role of the deployer. Nothing here enforces that order: the deployment code does, and checks it.
contract LinkTimelock is TimelockController {
    /// @param minDelay seconds between scheduling an operation and the earliest time it can execute.
    /// @param proposers receive PROPOSER_ROLE and CANCELLER_ROLE.
    /// @param executors receive EXECUTOR_ROLE; `address(0)` opens execution to everyone.
    /// @param admin an optional extra DEFAULT_ADMIN_ROLE holder for the setup phase (`address(0)`: none);
    /// it must renounce that role when the setup ends.
    constructor(uint256 minDelay, address[] memory proposers, address[] memory executors, address admin)
        TimelockController(minDelay, proposers, executors, admin)
    {}
}
