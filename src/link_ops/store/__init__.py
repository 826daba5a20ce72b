"""The operations store: partner records and the relayer's records in one SQL database.

:class:`OpsStore` opens it (SQLite by default, PostgreSQL or any SQLAlchemy URL by ``$LINK_OPS_DB_URL``)
and upgrades its schema through the packaged Alembic migrations (:mod:`link_ops.store.migrate`:
:func:`upgrade`, :func:`current_revision`; ``python -m link_ops.store``); ``store.partners``
(:class:`PartnerStore`), ``store.relayer`` (:class:`RelayerStore`), ``store.index`` (:class:`IndexStore`,
the event index), ``store.sla`` (:class:`SlaStore`, partner SLA records) and ``store.watch``
(:class:`WatchStore`, the watchtower's alerts and incidents) are its stores. No ape, no network besides
the database.
"""

from link_ops.store.engine import (
    DB_URL_ENV,
    DEFAULT_DB_PATH,
    Database,
    OpsStoreError,
    StoreConfigurationError,
    default_db_url,
)
from link_ops.store.index import (
    DailyClaims,
    DailyMints,
    Holding,
    IndexCursorError,
    IndexStore,
    InFlightTransfer,
    PartnerActivity,
    RouteInFlight,
    WelcomeClaim,
)
from link_ops.store.index_tables import BlockRef, IndexCursor, IndexedClaim, IndexedEvent
from link_ops.store.migrate import (
    NewerSchemaError,
    UnrecognisedSchemaError,
    current_revision,
    head_revision,
    upgrade,
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
from link_ops.store.sla import (
    BenefitNotGrantedError,
    BenefitRecord,
    ProbeRecord,
    SlaRecordError,
    SlaStore,
    TicketRecord,
    UnknownTicketError,
)
from link_ops.store.watch import (
    Delivery,
    Incident,
    IncidentStateError,
    Raised,
    StoredAlert,
    UnknownIncidentError,
    WatchStore,
)

__all__ = [
    "DB_URL_ENV",
    "DEFAULT_DB_PATH",
    "DEFAULT_SLA",
    "STEPS",
    "BenefitNotGrantedError",
    "BenefitRecord",
    "BlockRef",
    "ConfigMismatchError",
    "DailyClaims",
    "DailyMints",
    "Database",
    "Delivery",
    "Holding",
    "InFlightTransfer",
    "Incident",
    "IncidentStateError",
    "IndexCursor",
    "IndexCursorError",
    "IndexStore",
    "IndexedClaim",
    "IndexedEvent",
    "MonitoringRecord",
    "NewerSchemaError",
    "OpsStore",
    "OpsStoreError",
    "PartnerActivity",
    "PartnerRecord",
    "PartnerStateError",
    "PartnerStore",
    "ProbeRecord",
    "Raised",
    "RelayedMessage",
    "RelayerStore",
    "RouteInFlight",
    "SlaRecordError",
    "SlaStore",
    "StepAlreadyDoneError",
    "StepRecord",
    "StoreConfigurationError",
    "StoredAlert",
    "TicketRecord",
    "UnknownIncidentError",
    "UnknownPartnerError",
    "UnknownTicketError",
    "UnrecognisedSchemaError",
    "WatchStore",
    "WelcomeClaim",
    "current_revision",
    "default_db_url",
    "head_revision",
    "upgrade",
]
