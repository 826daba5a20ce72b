"""The watchtower's loop (link_ops.watch.service) on the scenario world: an attack raised in the step that
indexes its block, its alert retracted when a reorganisation takes the block away, and a chain whose nodes
fail round after round restarted by the performance monitor, with an alert saying so."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import ape
import pytest
from _intrusion_world import KEYS, WatchWorld, build_world, calldata, role

from link_ops.index import ChainIndexer, IndexRpcError, IndexSettings, PooledJsonRpc, targets_from_records
from link_ops.model.chains import chain_by_key
from link_ops.rpc import PoolSettings, RpcPool
from link_ops.testing.faults import FaultProxy, Mode
from link_ops.watch.alerts import Severity
from link_ops.watch.detector import IntrusionDetector
from link_ops.watch.dispatch import AlertDispatcher
from link_ops.watch.monitor import MonitorSettings, PerformanceMonitor
from link_ops.watch.rules import RuleSettings, trusted_from_records
from link_ops.watch.service import IndexTask, Watchtower
from link_ops.watch.sinks import JsonLinesSink


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float = 60) -> None:
        self.now += timedelta(seconds=seconds)


@ape.fixture(scope="module", chain_isolation=False)
def world(accounts, tmp_path_factory) -> Iterator[WatchWorld]:
    built = build_world(accounts, tmp_path_factory.mktemp("watch-loop"))
    try:
        yield built
    finally:
        built.close_watch()
        built.chains.stop()


class Tower:
    """A Watchtower over the world's store, each chain reached through a pool of one proxied node."""

    def __init__(self, world: WatchWorld, folder: Path) -> None:
        world.reset()
        assert world.store is not None
        self.world, self.store, self.clock = world, world.store, Clock()
        self.proxies = {key: FaultProxy(world.chains[key].url).start() for key in KEYS}
        settings = PoolSettings(check_interval_s=3600, unhealthy_after=100, max_attempts=1)
        self.pools = {
            key: RpcPool(chain_by_key(key).chain_id, [self.proxies[key].url], settings).start()
            for key in KEYS
        }
        tasks, rpcs = [], {}
        for key in KEYS:
            info, rpc = chain_by_key(key), PooledJsonRpc(self.pools[key])
            rpcs[info.chain_id] = rpc
            targets = targets_from_records(info, world.records, rpc)

            def make(rpc=rpc, targets=targets) -> ChainIndexer:
                return ChainIndexer(rpc, targets, self.store.index, settings=IndexSettings(attempts=1))

            tasks.append(IndexTask(self.pools[key], make))
        self.alerts_file = folder / "alerts.jsonl"
        sinks = [JsonLinesSink(self.alerts_file)]
        self.dispatcher = AlertDispatcher(self.store.watch, sinks, clock=self.clock)
        trusted = trusted_from_records(world.records, rpcs)
        self.monitor = PerformanceMonitor(
            list(self.pools.values()),
            MonitorSettings(task_failures=2),
            tasks=lambda: self.tower.restartable(),
            clock=self.clock,
        )
        self.tower = Watchtower(
            self.store,
            tasks,
            self.dispatcher,
            detector=IntrusionDetector(self.store.index, rpcs, settings=RuleSettings.build(trusted=trusted)),
            monitor=self.monitor,
            clock=self.clock,
        )

    def step(self):
        self.clock.advance()
        return self.tower.step()

    def close(self) -> None:
        for pool in self.pools.values():
            pool.close()
        for proxy in self.proxies.values():
            proxy.stop()


@pytest.fixture
def tower(world, tmp_path) -> Iterator[Tower]:
    built = Tower(world, tmp_path)
    try:
        yield built
    finally:
        built.close()


def grant_minter(world: WatchWorld) -> str:
    grant = calldata(
        "grantRole(bytes32,address)", ["bytes32", "address"], [role("MINTER_ROLE"), world.attacker.address]
    )
    return world.send_as("polygon", world.timelock("polygon"), world.protocol.lbc, grant).tx_hash


def test_an_attack__raised_in_the_step_that_indexes_it__then_retracted_when_reorganised_away(tower):
    world, store = tower.world, tower.store
    quiet = tower.step()
    assert [a for a in quiet.new_alerts if a.severity >= Severity.WARNING] == []

    tx = grant_minter(world)
    attacked = tower.step()

    [grant] = [a for a in attacked.new_alerts if a.rule == "role-granted"]
    assert grant.tx_hash == tx and grant.severity is Severity.CRITICAL
    assert tower.step().new_alerts == []  # the next step raises nothing again
    tower.dispatcher.deliver_round("jsonl")
    delivered = [json.loads(line)["key"] for line in tower.alerts_file.read_text().splitlines()]
    assert delivered.count(grant.key) == 1

    world.rewind()  # the attack's block reorganised away
    for _ in range(3):
        world.mine("polygon")
    reorganised = tower.step()

    assert reorganised.retracted >= 1
    [stored] = [a for a in store.watch.alerts(limit=1000) if a.alert.key == grant.key]
    assert stored.retracted and "reorganised away" in (stored.retraction or "")
    snapshot = tower.tower.snapshot()
    assert [c["chain"] for c in snapshot["chains"]] == ["polygon", "ethereum"]
    assert snapshot["recent_alerts"][0]["key"] == grant.key


def test_a_chain_whose_node_fails_round_after_round__restarted_by_the_monitor(tower):
    tower.step()
    tower.proxies["ethereum"].set_mode(Mode.HTTP_ERROR, status=502)

    first, second = tower.step(), tower.step()

    assert first.rounds["index:ethereum"] is None and second.rounds["index:ethereum"] is None
    [task] = [t for t in tower.tower.tasks if t.name == "index:ethereum"]
    assert task.failures_in_a_row == 0 and task.restarts == 1  # restarted in the second step's tick
    [restart] = [a for a in second.new_alerts if a.rule == "performance.task-restarted"]
    assert restart.subject == "index:ethereum" and restart.action == "recovery"
    assert "failed 2 times in a row" in restart.summary

    tower.proxies["ethereum"].set_mode(Mode.PASS)
    assert tower.step().rounds["index:ethereum"] is not None


class FlakyRules:
    """The real detector, whose node fails the first time it is asked (a cap read, a trace)."""

    def __init__(self, detector: IntrusionDetector) -> None:
        self.detector, self.failed, self.asked = detector, False, []

    def after_round(self, chain_id: int, first_block: int, last_block: int):
        self.asked.append((chain_id, first_block, last_block))
        if not self.failed and chain_id == 137:
            self.failed = True
            raise IndexRpcError("eth_call at block: the node timed out")
        return self.detector.after_round(chain_id, first_block, last_block)


def test_rules_that_cannot_read_the_chain__those_blocks_judged_again_next_step(tower):
    tower.step()
    rules = FlakyRules(tower.tower.detector)
    tower.tower.detector = rules
    tx = grant_minter(tower.world)

    failed = tower.step()
    [task] = [t for t in tower.tower.tasks if t.name == "index:polygon"]
    assert [a for a in failed.new_alerts if a.rule == "role-granted"] == []
    assert task.failures_in_a_row == 1 and "intrusion rules: eth_call at block" in (task.last_error or "")

    judged = tower.step()

    [grant] = [a for a in judged.new_alerts if a.rule == "role-granted"]
    assert grant.tx_hash == tx
    polygon = [(first, last) for chain, first, last in rules.asked if chain == 137]
    assert polygon[1][0] == polygon[0][0]  # the same blocks, from the same first block


def test_a_restarted_watch__judges_the_confirmation_window_again_and_raises_nothing_twice(tower):
    tower.step()  # the store's first look at the chains: their history is read, not judged
    tx = grant_minter(tower.world)
    [grant] = [a for a in tower.step().new_alerts if a.rule == "role-granted"]
    assert grant.tx_hash == tx
    [task] = [t for t in tower.tower.tasks if t.name == "index:polygon"]
    mark = tower.store.watch.judged(137)
    assert mark is not None and mark[1] == task.judged  # the judged blocks are kept in the store
    first_judged, last_judged = mark

    task.judged = None  # a new process on the same store
    rules = FlakyRules(tower.tower.detector)
    rules.failed = True  # no failure this time: only record what is asked
    tasks = tower.tower.tasks
    restarted = Watchtower(tower.store, tasks, tower.dispatcher, detector=rules, clock=tower.clock)
    step = restarted.step()

    [(first, _last)] = [(f, last) for chain, f, last in rules.asked if chain == 137]
    assert first == max(first_judged, last_judged - task.indexer.depth + 1)
    assert first <= grant.block_number  # the attack's block judged again...
    assert [a for a in step.new_alerts if a.rule == "role-granted"] == []  # ...and known, not raised twice
