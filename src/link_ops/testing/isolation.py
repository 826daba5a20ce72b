"""Run a block from a chain snapshot and go back, without losing what happened inside.

ape 0.8.51's ``ChainManager.isolate()`` wraps its ``yield`` in ``except Exception: pass``: an assertion
that fails or a transaction that reverts inside ``with chain.isolate():`` vanishes and the test passes.
:func:`isolated` is the project's one replacement (``tests/unit/test_isolation.py`` keeps every other
module from calling ape's): it takes a snapshot, runs the block, reverts to the snapshot whether the block
returned or raised, and lets the exception through untouched.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING

from link_ops.exceptions import LinkOpsError

if TYPE_CHECKING:
    from ape.managers.chain import ChainManager


class IsolationError(LinkOpsError):
    """The chain could not be put back to the snapshot (another network, or a provider without snapshots)."""


@contextmanager
def isolated(chain: ChainManager | None = None) -> Iterator[int]:
    """Runs the block from a snapshot of `chain` (ape's connected chain by default), then reverts to it.

    Yields the snapshot's block number. The chain goes back even when the block raises, and the exception
    propagates as it was raised: failed assertions and reverts inside stay failures. Use it as a ``with``
    statement, or enter it on an :class:`contextlib.ExitStack` that spans a hypothesis example (a state
    machine's ``__init__`` and ``teardown``).

    Raises:
        IsolationError: the provider cannot snapshot, or the block left ape connected to another network
            (its chain would be reverted to a snapshot that is not its own).
    """
    from ape.exceptions import APINotImplementedError

    if chain is None:
        from ape import chain as connected

        chain = connected
    provider = chain.provider
    try:
        snapshot = chain.snapshot()
    except (APINotImplementedError, NotImplementedError) as exc:
        raise IsolationError(
            f"{provider.name} cannot take snapshots, so nothing can be isolated on it: "
            "run the block on a local network (anvil: polygon:local, or a -fork network)"
        ) from exc
    pending = chain.pending_timestamp
    height = chain.blocks.height
    try:
        yield height
    finally:
        if chain.provider is not provider:
            # Raised from `finally`: an exception of the block, if any, stays attached as __context__.
            raise IsolationError(
                f"the isolated block switched ape from {_name(provider)} to {_name(chain.provider)}; "
                "its snapshot was not restored: switch back before the block ends"
            )
        chain.restore(snapshot)
        # A provider that cannot set the next block's time gets the snapshot alone back.
        with suppress(APINotImplementedError):
            chain.pending_timestamp = pending


def _name(provider: object) -> str:
    network = getattr(provider, "network", None)
    return f"{getattr(network, 'choice', '?')}:{getattr(provider, 'name', '?')}"
