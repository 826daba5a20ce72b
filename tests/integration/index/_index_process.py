"""The index as a process of its own, for the kill test: ``python _index_process.py URL RECORDS DB_URL
MAX_RANGE [POINT OCCURRENCE]`` indexes Polygon (chain 137) at URL up to its head, `MAX_RANGE` blocks per
batch; with POINT and OCCURRENCE it SIGKILLs itself the OCCURRENCE-th time it reaches POINT (one of
``link_ops.index.KILL_POINTS``: "writing" is inside the batch's database transaction, before the commit).

Testing only. Without a point it runs to the head and exits 0 (the test may also SIGKILL it from outside).
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from link_ops.index import ChainIndexer, HttpJsonRpc, IndexSettings, targets_from_records
from link_ops.model.chains import chain_by_key
from link_ops.store import OpsStore


def main(argv: list[str]) -> int:
    url, records, db_url, max_range = argv[0], Path(argv[1]), argv[2], int(argv[3])
    point, occurrence = (argv[4], int(argv[5])) if len(argv) > 5 else (None, 0)
    reached = 0

    def hook(name: str) -> None:
        nonlocal reached
        if name == point:
            reached += 1
            if reached == occurrence:
                os.kill(os.getpid(), signal.SIGKILL)

    info = chain_by_key("polygon")
    rpc = HttpJsonRpc(url)
    settings = IndexSettings(max_range=max_range, initial_range=max_range)
    with OpsStore(db_url) as store:
        indexer = ChainIndexer(
            rpc, targets_from_records(info, records, rpc), store.index, settings=settings, kill_hook=hook
        )
        indexer.check()
        indexer.round()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
