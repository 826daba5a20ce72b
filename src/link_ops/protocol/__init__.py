"""The core protocol on one chain: LBC, the CUBE collection and the partner factory.

:func:`deploy_protocol` deploys and wires them (resuming from ``deployments/<chain_id>.json``),
:func:`load_protocol` reconnects to a recorded deployment; :mod:`link_ops.protocol.records` reads and
writes the records.
"""

from link_ops.protocol.deploy import (
    DEFAULT_LBC_CAP,
    DEFAULT_TIER_RATES,
    Protocol,
    SentTransaction,
    accept_admin,
    deploy_protocol,
    load_protocol,
    validate_tier_rates,
)
from link_ops.protocol.records import (
    DEPLOYMENTS_DIR_ENV,
    ContractRecord,
    DeploymentRecord,
    deployment_addresses,
    deployments_directory,
    load_record,
    save_record,
)

__all__ = [
    "DEFAULT_LBC_CAP",
    "DEFAULT_TIER_RATES",
    "DEPLOYMENTS_DIR_ENV",
    "ContractRecord",
    "DeploymentRecord",
    "Protocol",
    "SentTransaction",
    "accept_admin",
    "deploy_protocol",
    "deployment_addresses",
    "deployments_directory",
    "load_protocol",
    "load_record",
    "save_record",
    "validate_tier_rates",
]
