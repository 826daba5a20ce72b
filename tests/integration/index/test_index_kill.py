"""The index killed with SIGKILL at random points, restarted each time, ends equal to an uninterrupted index.

The index runs as a process of its own (``_index_process.py``) over a Polygon stand-in holding over a hundred
events (cubes minted and moved, claims, a partner and its welcome claims), a batch of a few blocks at a time.
Kills are seeded: some at a named point (after a batch is read, inside its database transaction before the
commit, after the commit), some from outside once the cursor has passed a random block. The test waits on
the process and the database, never on the clock. The last run is ``ape run index --once`` itself.
"""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import ape
import pytest
from _ape import output_of, run_ape
from _index_world import DAY, World, build_world, create_partner, mint_cubes

from link_ops.contracts import at
from link_ops.store import OpsStore

POLYGON_ID = 137
SEED = 20261128
KILLS = 10
DEADLINE = 180  # seconds for a process to get killed or finish: generous, the machine may be loaded
DRIVER = Path(__file__).with_name("_index_process.py")


@ape.fixture(scope="module", chain_isolation=False)
def world(accounts, tmp_path_factory) -> Iterator[World]:
    chains, built = build_world(accounts, tmp_path_factory.mktemp("index-kill"), bridge=False)
    with chains:
        holders = accounts[1:6]
        cubes = built.protocol.cubes
        for round_ in range(4):
            for i, holder in enumerate(holders):
                mint_cubes(built, holder, 3 + i, tier=(round_ + i) % 4)
        with chains.on("polygon"):
            for cube in range(1, 30, 3):
                owner = next(h for h in holders if h.address == cubes.ownerOf(cube))
                cubes.transferFrom(owner, accounts[7], cube, sender=owner)
        chains.advance_time("polygon", DAY)
        partner, _created, _grant = create_partner(built, "kill-test")
        with chains.on("polygon"):
            for holder in holders[:3]:
                owned = [c for c in range(1, 60) if cubes.ownerOf(c) == holder.address][:4]
                cubes.batchClaimRewards(owned, sender=holder)
                at("PartnerBenefits", partner).claimWelcome(owned, sender=holder)
        yield built


@pytest.fixture(scope="module")
def uninterrupted(world, tmp_path_factory) -> dict:
    with OpsStore(f"sqlite:///{tmp_path_factory.mktemp('uninterrupted') / 'ref.db'}") as store:
        world.indexer("polygon", store).round()
        dump = store.index.dump(POLYGON_ID)
    assert len(dump["index_events"]) > 100 and dump["index_claims"]
    return dump


def cursor_of(db_path: Path) -> int | None:
    if not db_path.exists():
        return None
    with sqlite3.connect(db_path, timeout=60) as conn:
        try:
            row = conn.execute(
                "SELECT last_block FROM index_cursors WHERE chain_id = ?", (POLYGON_ID,)
            ).fetchone()
        except sqlite3.OperationalError:  # the tables are not there yet
            return None
    return None if row is None else int(row[0])


def start(world: World, db_url: str, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(DRIVER), world.url("polygon"), str(world.records), db_url, "2", *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_sigkilled_at_random_points_and_restarted__ends_equal_to_an_uninterrupted_index(
    world, uninterrupted, tmp_path
):
    rng = random.Random(SEED)
    db_path = tmp_path / "killed.db"
    db_url = f"sqlite:///{db_path}"
    head = world.head("polygon")
    # Each run may get at most about half its share of the history, so that every kill lands before the end.
    step = max(2, head // (2 * KILLS))
    points: list[str] = []
    cursors: list[int | None] = []
    for kill in range(KILLS):
        before = cursor_of(db_path)
        if kill % 2 == 0:
            point = rng.choice(["fetched", "writing", "writing", "written"])
            process = start(world, db_url, point, str(rng.randint(1, max(1, step // 2))))
            _, stderr = process.communicate(timeout=DEADLINE)
        else:
            point = "outside"
            goal = (before or 0) + rng.randint(1, step)
            process = start(world, db_url)
            deadline = time.monotonic() + DEADLINE
            while (
                process.poll() is None and (cursor_of(db_path) or -1) < goal and time.monotonic() < deadline
            ):
                time.sleep(0.01)
            process.send_signal(signal.SIGKILL)
            _, stderr = process.communicate(timeout=60)
        assert process.returncode == -signal.SIGKILL, (
            f"run {kill} ({point}) ended on its own: {stderr.decode()}"
        )
        after = cursor_of(db_path)
        assert after is None or after < head, f"run {kill} ({point}) indexed everything before its kill"
        assert before is None or (after is not None and after >= before)
        points.append(point)
        cursors.append(after)
    assert points.count("writing") >= 2, points  # killed inside a batch's transaction
    assert len({c for c in cursors if c is not None}) >= 4, cursors  # kills spread over the history

    done = run_ape(
        "run", "index", "--chains", "polygon", "--once", "--db", db_url, "--max-range", "2", env=world.env()
    )
    assert done.returncode == 0, output_of(done)
    with OpsStore(db_url) as store:
        assert store.index.dump(POLYGON_ID) == uninterrupted
