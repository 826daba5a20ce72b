// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// TESTING ONLY. OpenZeppelin's AccessControlDefaultAdminRules with one role, to test that the governance
// role check (link_ops.governance.roles) sees a pending default-admin transfer. Production code never
// deploys it.

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";

contract DefaultAdminRulesProbe is AccessControlDefaultAdminRules {
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    constructor(uint48 initialDelay, address initialAdmin)
        AccessControlDefaultAdminRules(initialDelay, initialAdmin)
    {}
}
