"""Governance: a Safe proposes, a timelock delays, anyone executes; a guardian may pause at once.

The timelock (``LinkTimelock``, OpenZeppelin's TimelockController) holds the admin roles of the protocol's
contracts. Its only proposer and canceller is the governance Safe (an M-of-N multisig); execution is open
to everyone once an operation's delay has passed; the timelock administers itself.

- :mod:`~link_ops.governance.safe`: deploy a Safe, build a Safe transaction and its EIP-712 hash, collect
  the owners' signatures from ape accounts, execute it from any account (no transaction service);
- :mod:`~link_ops.governance.timelock`: propose (the Safe schedules), list operations with their state and
  ETA, execute, cancel; each with a dry run;
- :mod:`~link_ops.governance.setup`: deploy the pair, and the setup phase that lets a deployment wire
  contracts through the timelock without the deployer ever holding a role on them;
- :mod:`~link_ops.governance.roles`: who holds which role, and which of them are keys.
"""

from link_ops.governance.roles import RoleHolder, account_kind, check_no_eoa_roles, role_holders, role_names
from link_ops.governance.safe import (
    SafeInfo,
    SafeSingletons,
    build_safe_tx,
    check_signatures,
    check_signers,
    collect_signatures,
    deploy_safe,
    exec_safe_tx,
    load_safe,
    safe_info,
    safe_singletons,
    sign_safe_tx,
)
from link_ops.governance.setup import (
    DEFAULT_MIN_DELAY,
    SETUP_SALT,
    AdminCalls,
    GovernanceSettings,
    SetupResult,
    deploy_governance,
    deploy_timelock,
    finish_chain_setup,
    finish_setup,
    recorded_contracts,
    run_through_timelock,
)
from link_ops.governance.simulate import Simulation, preview_transaction, simulate_call
from link_ops.governance.timelock import (
    SAFE,
    TIMELOCK,
    Governance,
    GovernanceResult,
    ScheduledOperation,
    build_call,
    cancel,
    execute,
    find_operation,
    load_governance,
    load_timelock,
    operations,
    pending_operations,
    propose,
)
from link_ops.model.governance import Call, OperationState, SafeTx, TimelockOperation

__all__ = [
    "DEFAULT_MIN_DELAY",
    "SAFE",
    "SETUP_SALT",
    "TIMELOCK",
    "AdminCalls",
    "Call",
    "Governance",
    "GovernanceResult",
    "GovernanceSettings",
    "OperationState",
    "RoleHolder",
    "SafeInfo",
    "SafeSingletons",
    "SafeTx",
    "ScheduledOperation",
    "SetupResult",
    "Simulation",
    "TimelockOperation",
    "account_kind",
    "build_call",
    "build_safe_tx",
    "cancel",
    "check_no_eoa_roles",
    "check_signatures",
    "check_signers",
    "collect_signatures",
    "deploy_governance",
    "deploy_safe",
    "deploy_timelock",
    "exec_safe_tx",
    "execute",
    "find_operation",
    "finish_chain_setup",
    "finish_setup",
    "load_governance",
    "load_safe",
    "load_timelock",
    "operations",
    "pending_operations",
    "preview_transaction",
    "propose",
    "recorded_contracts",
    "role_holders",
    "role_names",
    "run_through_timelock",
    "safe_info",
    "safe_singletons",
    "sign_safe_tx",
    "simulate_call",
]
