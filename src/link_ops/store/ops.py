"""The operations store: one database holding the partner records, the relayer's records, the event
index, the partner SLA records and the watchtower's alerts, side by side.

``OpsStore()`` opens the default database (``$LINK_OPS_DB_URL``, else ``.link_ops/ops.db``); its
:attr:`~OpsStore.partners`, :attr:`~OpsStore.relayer`, :attr:`~OpsStore.index`, :attr:`~OpsStore.sla` and
:attr:`~OpsStore.watch` are the stores on it::

    with OpsStore() as store:
        store.partners.list_partners()
        store.relayer.pending_messages()
        store.index.holders()
        store.sla.tickets("cafe-seoul", 137)
        store.watch.incidents()
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from link_ops.store.engine import Database, utcnow
from link_ops.store.index import IndexStore
from link_ops.store.partners import PartnerStore
from link_ops.store.relayer import RelayerStore
from link_ops.store.sla import SlaStore
from link_ops.store.watch import WatchStore


class OpsStore(Database):
    """The operations database at `url` (default: :func:`~link_ops.store.engine.default_db_url`), every
    table created when missing. `clock` (a callable returning an aware datetime) gives the default times of
    the SLA reports (tests pass a simulated one)."""

    def __init__(self, url: str | None = None, *, clock: Callable[[], datetime] = utcnow) -> None:
        super().__init__(url)
        #: Partners, their onboarding steps and monitoring registrations.
        self.partners = PartnerStore(self)
        #: The bridge relayer's cursors and messages.
        self.relayer = RelayerStore(self)
        #: The event index: what happened on each chain, and the queries on it.
        self.index = IndexStore(self)
        #: Partner SLA records: probes of the endpoints, benefits applied, support tickets.
        self.sla = SlaStore(self, clock=clock)
        #: The watchtower's alerts, incidents and the outbox of their deliveries.
        self.watch = WatchStore(self)
