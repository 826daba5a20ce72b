"""The operations store: one database holding the partner records and the relayer's records, side by side.

``OpsStore()`` opens the default database (``$LINK_OPS_DB_URL``, else ``.link_ops/ops.db``); its
:attr:`~OpsStore.partners` and :attr:`~OpsStore.relayer` are the two stores on it::

    with OpsStore() as store:
        store.partners.list_partners()
        store.relayer.pending_messages()
"""

from __future__ import annotations

from link_ops.store.engine import Database
from link_ops.store.partners import PartnerStore
from link_ops.store.relayer import RelayerStore


class OpsStore(Database):
    """The operations database at `url` (default: :func:`~link_ops.store.engine.default_db_url`), every
    table created when missing."""

    def __init__(self, url: str | None = None) -> None:
        super().__init__(url)
        #: Partners, their onboarding steps and monitoring registrations.
        self.partners = PartnerStore(self)
        #: The bridge relayer's cursors and messages.
        self.relayer = RelayerStore(self)
