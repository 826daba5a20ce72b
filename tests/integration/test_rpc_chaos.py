"""The RPC pool's chaos test (issue 11's done-when): three anvils of one chain behind fault-injecting proxies
that stall, answer HTTP 500 and serve a lagging head, switched while readers hammer the pool. At least 1,000
reads end with no failure and each answer right, every transaction lands exactly once with consecutive
nonces, and a faulty node is out of use by its third failed check.

The three anvils are replicas: the same accounts (anvil's mnemonic) and chain id, and every transaction one
of them accepts is handed to the other two by its fault proxy (a network's gossip), so they hold the same
state; the third starts 60 blocks behind the others (truly lagging) until it is mined forward.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from link_ops.exceptions import AmbiguousSendError, PinnedUpstreamError
from link_ops.fork import _rpc
from link_ops.rpc import HealthState, PoolSettings, RpcPool
from link_ops.testing.faults import FaultProxy, Mode
from link_ops.testing.standin import LocalUpstream

#: anvil's first, second and sixth accounts (its default mnemonic): the same on every replica.
DEPLOYER = Account.from_key("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
SENDER = Account.from_key("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d")
UNTOUCHED = Account.from_key("0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba")

#: A contract whose every call returns 42: init code copying the 10-byte runtime
#: PUSH1 0x2a PUSH1 0 MSTORE PUSH1 0x20 PUSH1 0 RETURN.
ANSWER_42 = "0x600a600c600039600a6000f3" + "602a60005260206000f3"
FORTY_TWO = "0x" + "00" * 31 + "2a"
TEN_THOUSAND_ETH = hex(10_000 * 10**18)
#: Blocks the lagging replica starts behind the others (the pool excludes beyond 10).
BEHIND = 60
#: Seconds the test waits at most for a state it expects (a readiness wait, not a speed assumption).
PATIENCE = 120.0


@dataclass
class Chaos:
    nodes: list[LocalUpstream]
    proxies: list[FaultProxy]
    pool: RpcPool
    contract: str


@pytest.fixture(scope="module")
def chaos() -> Iterator[Chaos]:
    with contextlib.ExitStack() as stack:
        nodes = [stack.enter_context(LocalUpstream(137)) for _ in range(3)]
        proxies = [
            stack.enter_context(
                FaultProxy(node.url, replicas=[other.url for other in nodes if other is not node])
            )
            for node in nodes
        ]
        for node in nodes[:2]:
            _rpc(node.url, "anvil_mine", [hex(100)])
        _rpc(nodes[2].url, "anvil_mine", [hex(100 - BEHIND)])
        deploy = sign(DEPLOYER, 0, to=None, data=ANSWER_42, gas=100_000)
        tx_hash = _rpc(proxies[0].url, "eth_sendRawTransaction", [deploy])  # gossiped to the other two
        contract = _rpc(nodes[0].url, "eth_getTransactionReceipt", [tx_hash])["contractAddress"]
        for node in nodes:
            assert _rpc(node.url, "eth_call", [{"to": contract}, "latest"]) == FORTY_TWO
        for proxy in proxies:
            proxy.reset_counts()
        # Short intervals; timeouts long enough that a loaded machine does not fail a healthy node.
        settings = PoolSettings(
            check_interval_s=0.2,
            check_timeout_s=2.0,
            request_timeout_s=5.0,
            unhealthy_after=3,
            healthy_after=2,
            max_head_lag_blocks=10,
        )
        pool = stack.enter_context(RpcPool(137, [p.url for p in proxies], settings))
        yield Chaos(nodes, proxies, pool, contract)


def sign(account: LocalAccount, nonce: int, *, to: str | None, data: str = "0x", gas: int = 21_000) -> str:
    tx = {"nonce": nonce, "gas": gas, "gasPrice": 100 * 10**9, "value": 0 if to is None else 1, "data": data}
    tx["chainId"] = 137
    if to is not None:
        tx["to"] = to
    return "0x" + account.sign_transaction(tx).raw_transaction.hex()


@dataclass
class Readers:
    """Threads that read through the pool until stopped, checking every answer."""

    pool: RpcPool
    contract: str
    reads: int = 0
    failures: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self, count: int) -> Readers:
        for i in range(count):
            thread = threading.Thread(target=self._read, args=(i,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def _read(self, which: int) -> None:
        checks: list[tuple[str, list[object], Callable[[object], bool]]] = [
            ("eth_call", [{"to": self.contract}, "latest"], lambda r: r == FORTY_TWO),
            ("eth_getBalance", [UNTOUCHED.address, "latest"], lambda r: r == TEN_THOUSAND_ETH),
            ("eth_chainId", [], lambda r: r == "0x89"),
            ("eth_getCode", [self.contract, "latest"], lambda r: r == "0x602a60005260206000f3"),
        ]
        i = which
        while not self._stop.is_set():
            method, params, right = checks[i % len(checks)]
            i += 1
            try:
                answer = self.pool.request(method, params)
                problem = None if right(answer) else f"{method} answered {answer!r}"
            except Exception as exc:
                problem = f"{method} raised {exc!r}"
            with self._lock:
                self.reads += 1
                if problem:
                    self.failures.append(problem)
            self._stop.wait(0.002)  # leave the anvils and the checks some CPU

    def wait_for(self, reads: int) -> None:
        deadline = time.monotonic() + PATIENCE
        while self.reads < reads and time.monotonic() < deadline:
            time.sleep(0.05)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)


def wait_until(what: str, condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + PATIENCE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {PATIENCE:.0f} s: {what}")
        time.sleep(0.02)


def state(pool: RpcPool, index: int) -> HealthState:
    return pool.status()[index].state


def reads_of(proxy: FaultProxy) -> int:
    return sum(proxy.count(m) for m in ("eth_call", "eth_getBalance", "eth_getCode"))


def known_by(pool: RpcPool, tx_hash: str) -> Callable[[], bool]:
    return lambda: bool(pool.request("eth_getTransactionByHash", [tx_hash]))


def send_transfer(pool: RpcPool, sent: list[str]) -> str:
    """One transfer from SENDER, its nonce read from the upstream it is sent to; a pinned read that fails
    is run again (nothing was sent), an ambiguous send is looked up, never signed anew."""
    for _attempt in range(5):
        try:
            with pool.pinned(sender=SENDER.address) as node:
                nonce = int(node.request("eth_getTransactionCount", [SENDER.address, "pending"]), 16)
                raw = sign(SENDER, nonce, to=DEPLOYER.address)
                try:
                    tx_hash = str(node.request("eth_sendRawTransaction", [raw]))
                except AmbiguousSendError as exc:
                    assert exc.tx_hash is not None
                    tx_hash = exc.tx_hash
                    wait_until(f"{tx_hash} known", known_by(pool, tx_hash))
            sent.append(tx_hash)
            return tx_hash
        except PinnedUpstreamError:
            continue
    raise AssertionError("no pinned upstream could take the transfer in 5 attempts")


def test_chaos__stalls_500s_and_lagging_heads__1000_reads_without_failure_and_sends_once(chaos: Chaos):
    pool, proxies, nodes = chaos.pool, chaos.proxies, chaos.nodes
    sent: list[str] = []
    readers = Readers(pool, chaos.contract)

    # The third replica is 60 blocks behind the second-highest head: excluded from the first check on.
    assert [s.state for s in pool.status()] == [HealthState.HEALTHY, HealthState.HEALTHY, HealthState.LAGGING]
    assert pool.status()[2].head_lag == BEHIND
    readers.start(4)
    try:
        readers.wait_for(150)
        send_transfer(pool, sent)

        # 1. The first node stalls: out of use by its third failed check, at the latest.
        proxies[0].set_mode(Mode.STALL)
        wait_until(
            "node 0 has failed 3 checks in a row", lambda: pool.status()[0].checks_failed_in_a_row >= 3
        )
        assert state(pool, 0) is HealthState.UNHEALTHY
        out = [t for t in pool.status()[0].transitions if t.after is HealthState.UNHEALTHY][-1]
        assert out.checks_failed_in_a_row <= 3
        served = reads_of(proxies[0])
        before = readers.reads
        readers.wait_for(before + 150)
        assert reads_of(proxies[0]) == served  # nothing more was sent to it while excluded
        send_transfer(pool, sent)

        # 2. The lagging replica catches up and is used again; the first node comes back after 2 checks.
        _rpc(nodes[2].url, "anvil_mine", [hex(BEHIND)])
        wait_until("node 2 caught up", lambda: state(pool, 2) is HealthState.HEALTHY)
        proxies[0].set_mode(Mode.PASS)
        wait_until("node 0 healthy again", lambda: state(pool, 0) is HealthState.HEALTHY)

        # 3. The second node answers HTTP 500 to everything.
        proxies[1].set_mode(Mode.HTTP_ERROR, status=500)
        wait_until(
            "node 1 has failed 3 checks in a row", lambda: pool.status()[1].checks_failed_in_a_row >= 3
        )
        assert state(pool, 1) is HealthState.UNHEALTHY
        readers.wait_for(readers.reads + 150)
        send_transfer(pool, sent)

        # 4. The third node serves a head 100 blocks behind (rewritten): excluded as lagging, not unhealthy.
        proxies[1].set_mode(Mode.PASS)
        wait_until("node 1 healthy again", lambda: state(pool, 1) is HealthState.HEALTHY)
        proxies[2].set_mode(Mode.LAG, lag_blocks=100)
        wait_until("node 2 lagging", lambda: state(pool, 2) is HealthState.LAGGING)
        assert pool.status()[2].consecutive_failures == 0
        readers.wait_for(readers.reads + 150)
        send_transfer(pool, sent)

        # 5. All well again; keep reading to at least 1,000.
        proxies[2].set_mode(Mode.PASS)
        wait_until("node 2 healthy again", lambda: state(pool, 2) is HealthState.HEALTHY)
        readers.wait_for(1_000)
        send_transfer(pool, sent)
    finally:
        readers.stop()
        for proxy in proxies:
            proxy.set_mode(Mode.PASS)

    assert readers.failures == []
    assert readers.reads >= 1_000
    # Each transaction reached exactly one upstream, and every replica holds each exactly once.
    assert len(set(sent)) == len(sent) == 5
    assert sum(p.count("eth_sendRawTransaction", forwarded=True) for p in proxies) == len(sent)
    for node in nodes:
        assert int(_rpc(node.url, "eth_getTransactionCount", [SENDER.address, "latest"]), 16) == len(sent)
        nonces = [int(_rpc(node.url, "eth_getTransactionByHash", [h])["nonce"], 16) for h in sent]
        assert nonces == list(range(len(sent)))
        assert all(int(_rpc(node.url, "eth_getTransactionReceipt", [h])["status"], 16) == 1 for h in sent)
