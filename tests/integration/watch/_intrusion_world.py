"""The watchtower's scenario world: the protocol deployed as the project deploys it (governed: a 2-of-3 Safe
proposes to a timelock that administers every contract; a 1-of-1 guardian Safe pauses), the bridge between
stand-ins of Polygon (home) and Ethereum, both recorded in a deployments folder; the event index of both
chains in a SQLite store, and the intrusion detector on top.

A baseline (some cubes and LBC held, LBC and a cube abroad) is built once and kept as an anvil snapshot of
each chain plus a copy of the store: every scenario starts from it (:meth:`WatchWorld.reset`) instead of
redeploying.

Attackers act in two ways: as an account of their own (an ape test account generated here), and, to play a
compromised admin, as the timelock itself through anvil's impersonation (:meth:`WatchWorld.send_as`): what
a stolen key or a bypassed timelock would look like on chain.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _governance import place_safe_contracts
from eth_abi.abi import encode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from link_ops.bridge import CrossChainBridge, deploy_bridges
from link_ops.bridge.deploy import BridgeSide
from link_ops.governance import (
    GovernanceSettings,
    build_safe_tx,
    collect_signatures,
    deploy_safe,
    exec_safe_tx,
)
from link_ops.index import ChainIndexer, HttpJsonRpc, IndexSettings, targets_from_records
from link_ops.model.attest import Message, attest
from link_ops.model.chains import chain_by_key
from link_ops.protocol.deploy import Protocol, deploy_protocol
from link_ops.store import OpsStore
from link_ops.testing.localchains import LocalChains
from link_ops.watch.alerts import Alert
from link_ops.watch.detector import IntrusionDetector
from link_ops.watch.rules import RuleSettings, trusted_from_records

POLYGON, ETHEREUM = chain_by_key("polygon"), chain_by_key("ethereum")
KEYS = ("polygon", "ethereum")
DELAY = 7_200
DAY = 86_400
LBC = 10**18


def calldata(signature: str, types: Sequence[str], values: Sequence[Any]) -> bytes:
    return keccak(text=signature)[:4] + encode(list(types), list(values))


def role(name: str) -> bytes:
    return b"\0" * 32 if name == "DEFAULT_ADMIN_ROLE" else keccak(text=name)


@dataclass(frozen=True)
class Sent:
    """A transaction: its chain, hash and block."""

    key: str
    tx_hash: str
    block: int


@dataclass
class Observation:
    """What one watch round saw: the alerts, and each chain's head when it looked."""

    alerts: list[Alert]
    heads: dict[str, int]
    #: Keys of alerts about blocks a reorganisation took away (for the alert store to withdraw).
    withdrawn: list[str] = field(default_factory=list)


@dataclass
class WatchWorld:
    chains: LocalChains
    folder: Path
    protocol: Protocol
    sides: dict[str, BridgeSide]
    safes: dict[str, Any]
    guardians: dict[str, Any]
    admin: Any
    holders: dict[str, Any]
    owners: list[Any]
    signers: list[Any]
    attacker: Any
    store: OpsStore | None = None
    #: Set by a scenario whose minter the call trace must name.
    expect_minter: str | None = None
    detector: IntrusionDetector | None = None
    indexers: dict[str, ChainIndexer] = field(default_factory=dict)
    _snapshots: dict[str, str] = field(default_factory=dict)
    _relay_nonce: int = 1_000_000

    # -- plumbing -----------------------------------------------------------------------------------------

    @property
    def records(self) -> Path:
        return self.folder / "deployments"

    def rpc(self, key: str) -> HttpJsonRpc:
        return HttpJsonRpc(self.chains[key].url)

    def head(self, key: str) -> int:
        return int(self.rpc(key).request("eth_blockNumber", []), 16)

    def mine(self, key: str) -> None:
        self.rpc(key).request("evm_mine", [])

    def advance(self, seconds: int) -> None:
        """Time passes on both chains alike (their clocks stay together, as the real chains' do)."""
        for key in KEYS:
            self.chains.advance_time(key, seconds)

    def governance(self) -> Any:
        return self.protocol.governance

    def timelock(self, key: str) -> str:
        from link_ops.protocol.records import load_record

        record = load_record(self.records, chain_by_key(key).chain_id)
        assert record is not None
        return to_checksum_address(record.contracts["LinkTimelock"].address)

    def send_as(self, key: str, who: str, to: Any, data: bytes) -> Sent:
        """A transaction from `who` (any address: the timelock, a contract, a stranger) through anvil's
        impersonation; asserts it succeeded."""
        rpc = self.rpc(key)
        who = to_checksum_address(who)
        rpc.request("anvil_setBalance", [who, hex(10**21)])
        rpc.request("anvil_impersonateAccount", [who])
        try:
            tx_hash = rpc.request(
                "eth_sendTransaction",
                [
                    {
                        "from": who,
                        "to": str(getattr(to, "address", to)),
                        "data": "0x" + data.hex(),
                        "gas": hex(3_000_000),
                    }
                ],
            )
        finally:
            rpc.request("anvil_stopImpersonatingAccount", [who])
        receipt = self._receipt(key, str(tx_hash))
        assert int(receipt["status"], 16) == 1, f"{who} -> {to}: reverted"
        return Sent(key, str(tx_hash).lower(), int(receipt["blockNumber"], 16))

    def _receipt(self, key: str, tx_hash: str) -> dict[str, Any]:
        """The receipt of `tx_hash`, waiting for it: anvil answers a send before it stores the block."""
        deadline = time.monotonic() + 60
        while True:
            receipt = self.rpc(key).request("eth_getTransactionReceipt", [tx_hash])
            if receipt is not None:
                return dict(receipt)
            assert time.monotonic() < deadline, f"no receipt for {tx_hash} on {key} within a minute"
            time.sleep(0.05)

    def sent(self, key: str, receipt: Any) -> Sent:
        return Sent(key, str(receipt.txn_hash).lower(), int(receipt.block_number))

    def safe_call(
        self, key: str, to: Any, data: bytes, *, safe: Any = None, signers: Sequence[Any] = ()
    ) -> Sent:
        """`data` to `to` executed by the governance Safe (or `safe`), signed by two owners (or `signers`)."""
        safe = safe if safe is not None else self.safes[key]
        with self.chains.on(key):
            tx = build_safe_tx(safe, str(getattr(to, "address", to)), data)
            signatures = collect_signatures(safe, tx, list(signers) or self.owners[:2])
            return self.sent(key, exec_safe_tx(safe, tx, signatures, self.admin))

    def deliver(self, key: str, message: Message, *, signers: Sequence[Any] = ()) -> Sent:
        """The relayer's job: `message` delivered on `key`'s chain with two signers' attestations."""
        side = self.sides[key]
        keys = [
            bytes.fromhex(str(s.private_key).removeprefix("0x")) for s in (list(signers) or self.signers[:2])
        ]
        with self.chains.on(key):
            receipt = side.messenger.deliver(
                message.as_tuple(), attest(message, str(side.messenger.address), keys), sender=self.admin
            )
        return self.sent(key, receipt)

    def bridge(self, src: str, dst: str, asset: str, amount: Any, user: Any) -> tuple[Sent, Sent]:
        """Sends and delivers; returns (send, delivery)."""
        sent = CrossChainBridge([self.sides["polygon"], self.sides["ethereum"]], self.chains).bridge_assets(
            src, dst, asset, amount, user
        )
        return Sent(src, sent.tx_hash.lower(), self._block(src, sent.tx_hash)), self.deliver(
            dst, sent.message
        )

    def forged(self, src: str, dst: str, payload: bytes, *, cube: bool = False) -> Message:
        """A message that `src` never sent, from its bridge to `dst`'s, with a nonce of its own."""
        self._relay_nonce += 1
        source, destination = self.sides[src], self.sides[dst]
        bridge = "cube_bridge" if cube else "lbc_bridge"
        return Message(
            src_chain_id=source.chain.chain_id,
            src_messenger=str(source.messenger.address),
            sender=str(getattr(source, bridge).address),
            dst_chain_id=destination.chain.chain_id,
            receiver=str(getattr(destination, bridge).address),
            nonce=self._relay_nonce,
            payload=payload,
        )

    def _latest_time(self, key: str) -> int:
        return int(self.rpc(key).request("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)

    def _block(self, key: str, tx_hash: str) -> int:
        return int(self._receipt(key, tx_hash)["blockNumber"], 16)

    # -- the index and the watch ----------------------------------------------------------------------------

    def open_watch(self, database: Path) -> None:
        self.close_watch()
        self.store = OpsStore(f"sqlite:///{database}")
        self.store.__enter__()
        self.indexers = {}
        rpcs = {}
        for key in KEYS:
            info = chain_by_key(key)
            rpc = self.rpc(key)
            rpcs[info.chain_id] = rpc
            self.indexers[key] = ChainIndexer(
                rpc, targets_from_records(info, self.records, rpc), self.store.index, settings=IndexSettings()
            )
        trusted = trusted_from_records(self.records, rpcs)  # the guardian Safe, as recorded
        assert trusted == {str(self.guardians["polygon"].address): "guardian"}
        self.detector = IntrusionDetector(
            self.store.index, rpcs, settings=RuleSettings.build(trusted=trusted)
        )

    def close_watch(self) -> None:
        if self.store is not None:
            self.store.__exit__(None, None, None)
            self.store = None

    def index_only(self) -> None:
        for indexer in self.indexers.values():
            indexer.round()

    def observe(self) -> Observation:
        """One watch round: a block passes on each chain (live chains never stand still), each chain's index
        reads to its head, and the detector runs on what it wrote."""
        assert self.store is not None and self.detector is not None
        alerts: list[Alert] = []
        heads = {}
        withdrawn: list[str] = []
        # A block on each chain, both at the same time: live chains never stand still, and their clocks
        # agree (so the cross-chain checks, which wait for the other chain's index to reach a time, decide).
        now = max(self._latest_time(key) for key in KEYS) + 1
        for key in KEYS:
            self.rpc(key).request("evm_setNextBlockTimestamp", [hex(now)])
            self.mine(key)
        for key, indexer in self.indexers.items():
            before = self.store.index.cursor(indexer.chain.chain_id)
            report = indexer.round()
            for rollback in report.rollbacks:
                withdrawn += self.detector.rolled_back(indexer.chain.chain_id, rollback.to_block)
            first = 0 if before is None else before.last_block + 1
            alerts += self.detector.after_round(indexer.chain.chain_id, first, int(report.indexed or 0))
            heads[key] = report.head
        return Observation(alerts, heads, withdrawn)

    # -- the baseline ----------------------------------------------------------------------------------------

    def snapshot(self) -> None:
        """Keeps the chains and the index as they are now: :meth:`reset` goes back here."""
        assert self.store is not None
        self.close_watch()
        shutil.copy(self.folder / "watch.db", self.folder / "baseline.db")
        for key in KEYS:
            self._snapshots[key] = str(self.rpc(key).request("evm_snapshot", []))
        self.open_watch(self.folder / "watch.db")

    def rewind(self) -> None:
        """The chains (only) go back to the baseline: to the index, a reorganisation."""
        for key in KEYS:
            assert self.rpc(key).request("evm_revert", [self._snapshots[key]]) is True
            self._snapshots[key] = str(self.rpc(key).request("evm_snapshot", []))

    def reset(self) -> None:
        """Back to the baseline: both chains, and a copy of the index as it was there; a new detector."""
        self.close_watch()
        self.rewind()
        shutil.copy(self.folder / "baseline.db", self.folder / "watch.db")
        self.expect_minter = None
        self.open_watch(self.folder / "watch.db")


def build_world(accounts: Any, folder: Path) -> WatchWorld:
    """Deploys and wires everything, builds the baseline, indexes it and snapshots it. The caller stops the
    chains (``world.chains.stop()``)."""
    admin, alice, bob, carol = accounts[0], accounts[1], accounts[2], accounts[3]
    owners, signers = [accounts[i] for i in (4, 5, 6)], [accounts[i] for i in (7, 8, 9)]
    attacker = accounts.generate_test_account()
    chains = LocalChains(list(KEYS)).start()
    try:
        safes, guardians = {}, {}
        for key in KEYS:  # the same owners and salt: the same Safes on both chains
            with chains.on(key) as provider:
                place_safe_contracts(provider)
                safes[key] = deploy_safe(admin, owners, 2)
                guardians[key] = deploy_safe(admin, [owners[0]], 1, salt_nonce=1)
                provider.make_request("anvil_setBalance", [attacker.address, hex(10**21)])
        safe, guardian = str(safes["polygon"].address), str(guardians["polygon"].address)
        records = folder / "deployments"
        with chains.on("polygon"):
            protocol = deploy_protocol(
                admin,
                governance=GovernanceSettings(safe, guardian, DELAY, finish=False),
                deployments_dir=records,
            )
        home, remote = deploy_bridges(
            chains,
            admin,
            home=POLYGON,
            remotes=[ETHEREUM],
            lbc=protocol.lbc,
            cubes=protocol.cubes,
            signers=[s.address for s in signers],
            threshold=2,
            governance=GovernanceSettings(safe, guardian, DELAY),
            timelocks={"polygon": protocol.governance},
            deployments_dir=records,
        )
        world = WatchWorld(
            chains=chains,
            folder=folder,
            protocol=protocol,
            sides={"polygon": home, "ethereum": remote},
            safes=safes,
            guardians=guardians,
            admin=admin,
            holders={"alice": alice, "bob": bob, "carol": carol},
            owners=owners,
            signers=signers,
            attacker=attacker,
        )
        _baseline(world)
        world.open_watch(folder / "watch.db")
        world.index_only()
        world.snapshot()
        return world
    except BaseException:
        chains.stop()
        raise


def _baseline(world: WatchWorld) -> None:
    """Cubes minted by the Safe (its operational role), LBC in the holders' and the Safe's hands (carol holds
    a million at home), 300,000 LBC and cube 1 abroad on Ethereum."""
    cubes, lbc = world.protocol.cubes, world.protocol.lbc
    alice, bob, carol = (world.holders[k] for k in ("alice", "bob", "carol"))
    for who, tier, quantity in ((alice, 1, 5), (bob, 2, 3), (carol, 3, 4)):
        world.safe_call(
            "polygon",
            cubes,
            calldata(
                "mintBatch(address,uint8,uint256)",
                ["address", "uint8", "uint256"],
                [who.address, tier, quantity],
            ),
        )
    # LBC earned before the watch began: minted as the cube contract mints claims.
    for who, amount in ((carol, 1_300_000), (alice, 20_000), (bob, 20_000), (world.safes["polygon"], 50_000)):
        world.send_as(
            "polygon",
            str(cubes.address),
            lbc,
            calldata("mint(address,uint256)", ["address", "uint256"], [str(who.address), amount * LBC]),
        )
    world.bridge("polygon", "ethereum", "LBC", 300_000 * LBC, carol)
    world.bridge("polygon", "ethereum", "CUBE", [1], alice)
    world.advance(60)
