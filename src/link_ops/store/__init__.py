"""The operations store: partner records and the relayer's records in one SQL database.

:class:`OpsStore` opens it (SQLite by default, PostgreSQL or any SQLAlchemy URL by ``$LINK_OPS_DB_URL``);
``store.partners`` (:class:`PartnerStore`) and ``store.relayer`` (:class:`RelayerStore`) are its two
stores. No ape, no network besides the database.
"""

from link_ops.store.engine import (
    DB_URL_ENV,
    DEFAULT_DB_PATH,
    Database,
    OpsStoreError,
    StoreConfigurationError,
    default_db_url,
)
from link_ops.store.ops import OpsStore
from link_ops.store.partner_tables import (
    DEFAULT_SLA,
    STEPS,
    ConfigMismatchError,
    PartnerStateError,
    StepAlreadyDoneError,
    UnknownPartnerError,
)
from link_ops.store.partners import MonitoringRecord, PartnerRecord, PartnerStore, StepRecord
from link_ops.store.relayer import RelayedMessage, RelayerStore

__all__ = [
    "DB_URL_ENV",
    "DEFAULT_DB_PATH",
    "DEFAULT_SLA",
    "STEPS",
    "ConfigMismatchError",
    "Database",
    "MonitoringRecord",
    "OpsStore",
    "OpsStoreError",
    "PartnerRecord",
    "PartnerStateError",
    "PartnerStore",
    "RelayedMessage",
    "RelayerStore",
    "StepAlreadyDoneError",
    "StepRecord",
    "StoreConfigurationError",
    "UnknownPartnerError",
    "default_db_url",
]
