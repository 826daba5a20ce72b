"""Bridging on two local chains at once, Polygon (137) and Ethereum (1), through the library and relayer."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import ape
import pytest
import requests
from _errors import reverts
from ape import chain
from eth_account import Account
from prometheus_client.parser import text_string_to_metric_families

from link_ops.bridge.client import CrossChainBridge, UnsupportedAssetError, message_from_receipt
from link_ops.bridge.deploy import BridgeSide, UnsupportedRouteError, deploy_bridges
from link_ops.bridge.held import HeldTransferError, find_held, held_transfers, refund, retry
from link_ops.bridge.relayer import Relayer, RelayerMetrics
from link_ops.exceptions import ConfigurationError, UnsupportedChainError
from link_ops.metrics import serve_metrics
from link_ops.model.attest import Message, attest, digest
from link_ops.model.chains import chain_by_key
from link_ops.protocol.deploy import Protocol, deploy_protocol
from link_ops.store import OpsStore
from link_ops.testing.localchains import LocalChains

LBC = 10**18
DAY = 86_400
POLYGON, ETHEREUM = chain_by_key("polygon"), chain_by_key("ethereum")


@dataclass
class World:
    chains: LocalChains
    protocol: Protocol
    home: BridgeSide
    remote: BridgeSide
    bridge: CrossChainBridge
    signer_keys: list[bytes]
    admin: object


@ape.fixture(scope="module", chain_isolation=False)
def world(accounts) -> Iterator[World]:
    admin = accounts[0]
    signers = [accounts[i] for i in (7, 8, 9)]
    keys = [bytes.fromhex(s.private_key.removeprefix("0x")) for s in signers]
    with LocalChains(["polygon", "ethereum"]) as chains:
        with chains.on("polygon"):
            protocol = deploy_protocol(admin, record=False)
            protocol.lbc.grantRole(protocol.lbc.MINTER_ROLE(), admin.address, sender=admin)
        home, remote = deploy_bridges(
            chains,
            admin,
            home=POLYGON,
            remotes=[ETHEREUM],
            lbc=protocol.lbc,
            cubes=protocol.cubes,
            signers=[s.address for s in signers],
            threshold=2,
        )
        yield World(chains, protocol, home, remote, CrossChainBridge([home, remote], chains), keys, admin)


#: Runs a test with its relayer's store on SQLite and on PostgreSQL. Only tests that leave the chains as
#: a second run needs them: the held-transfer tests use up a day's receive limit, so they run once (SQLite).
BOTH_BACKENDS = pytest.mark.parametrize(
    "store_backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)


@pytest.fixture
def store_backend(request) -> str:
    """The store's backend: SQLite, unless the test is marked BOTH_BACKENDS."""
    return getattr(request, "param", "sqlite")


@pytest.fixture
def store(world, request, store_backend) -> Iterator[OpsStore]:
    """A fresh operations store whose relayer starts reading at the chains' heads (earlier tests' messages,
    delivered by other stores, are not this test's)."""
    url = request.getfixturevalue("sqlite_url" if store_backend == "sqlite" else "postgres_url")
    with OpsStore(url) as ops:
        for side in (world.home, world.remote):
            with world.chains.on(side.chain.key):
                height = int(chain.blocks.height)
            ops.relayer.reset_relayer_cursor(side.chain.chain_id, str(side.messenger.address), height + 1)
        yield ops


@pytest.fixture
def relayer(world, store) -> Relayer:
    return Relayer([world.home, world.remote], world.chains, world.signer_keys[:2], store, world.admin)


def fund(world: World, holder, amount: int) -> None:
    with world.chains.on("polygon"):
        world.protocol.lbc.mint(holder, amount, sender=world.admin)


def balances(world: World, holder) -> tuple[int, int]:
    with world.chains.on("polygon"):
        home = int(world.protocol.lbc.balanceOf(holder))
    with world.chains.on("ethereum"):
        remote = int(world.remote.lbc.balanceOf(holder))
    return home, remote


def supplies(world: World) -> tuple[int, int]:
    with world.chains.on("polygon"):
        home = int(world.protocol.lbc.totalSupply())
    with world.chains.on("ethereum"):
        remote = int(world.remote.lbc.totalSupply())
    return home, remote


@BOTH_BACKENDS
def test_lbc_goes_to_ethereum_and_back_and_the_supply_across_chains_is_conserved(world, relayer, accounts):
    alice = accounts[1]
    fund(world, alice, 500 * LBC)
    home_before, remote_before = balances(world, alice)
    supply_before = sum(supplies(world))

    out = world.bridge.bridge_assets("polygon", "ethereum", "LBC", 200 * LBC, alice)
    assert (out.from_chain, out.to_chain, out.amount) == ("polygon", "ethereum", 200 * LBC)
    assert balances(world, alice) == (home_before - 200 * LBC, remote_before)  # locked, not yet delivered
    round_one = relayer.poll()
    assert round_one.delivered == [out.message_id]
    assert balances(world, alice) == (home_before - 200 * LBC, remote_before + 200 * LBC)
    assert sum(supplies(world)) == supply_before + 200 * LBC  # home counts the locked LBC; remote minted

    back = world.bridge.bridge_assets("ethereum", "polygon", "lbc", 50 * LBC, alice.address)
    assert relayer.poll().delivered == [back.message_id]
    assert balances(world, alice) == (home_before - 150 * LBC, remote_before + 150 * LBC)
    with world.chains.on("polygon"):
        assert int(world.home.lbc_bridge.outstanding(ETHEREUM.chain_id)) >= 150 * LBC
    home_supply, remote_supply = supplies(world)
    with world.chains.on("polygon"):
        locked = int(world.protocol.lbc.balanceOf(world.home.lbc_bridge.address))
    assert remote_supply == locked  # every remote LBC is backed by one locked at home
    with world.chains.on("polygon"):
        assert home_supply <= int(world.protocol.lbc.cap())


@BOTH_BACKENDS
def test_a_cube_goes_out_and_comes_home_with_its_accrued_rewards_claimable(world, relayer, accounts):
    bob = accounts[2]
    cubes = world.protocol.cubes
    with world.chains.on("polygon"):
        cube = int(cubes.totalMinted()) + 1
        cubes.mintBatch(bob, 2, 1, sender=world.admin)
        rate = int(cubes.tierRate(2))
    world.chains.advance_time("polygon", DAY)
    with world.chains.on("polygon"):
        cubes.batchClaimRewards([cube], sender=bob)
        mined, last_claim = (int(v) for v in cubes.nodeData(cube)[:2])

    out = world.bridge.bridge_assets("polygon", "ethereum", "CUBE", cube, bob)
    assert relayer.poll().delivered == [out.message_id]
    with world.chains.on("polygon"):
        assert cubes.ownerOf(cube) == world.home.cube_bridge.address
        assert int(world.home.cube_bridge.lockedFor(cube)) == ETHEREUM.chain_id
    with world.chains.on("ethereum"):
        assert world.remote.cubes.ownerOf(cube) == bob.address
        assert (int(world.remote.cubes.tierOf(cube)), int(world.remote.cubes.totalMinedOf(cube))) == (
            2,
            mined,
        )

    home_again = world.bridge.bridge_assets("ethereum", "polygon", "CUBE", [cube], bob)
    assert relayer.poll().delivered == [home_again.message_id]
    with world.chains.on("ethereum"):
        assert not world.remote.cubes.isApprovedOrOwner(bob, cube)
    now = world.chains.advance_time("polygon", DAY)
    with world.chains.on("polygon"):
        assert cubes.ownerOf(cube) == bob.address
        assert int(world.home.cube_bridge.lockedFor(cube)) == 0
        assert int(cubes.pendingReward(cube)) == rate * (now - last_claim)
        before = int(world.protocol.lbc.balanceOf(bob))
        receipt = cubes.batchClaimRewards([cube], sender=bob)
        claimed_at = int(chain.blocks[receipt.block_number].timestamp)
        assert int(world.protocol.lbc.balanceOf(bob)) - before == rate * (claimed_at - last_claim)


@BOTH_BACKENDS
@pytest.mark.parametrize("crash_at", ["scanned", "before_deliver", "delivered"])
def test_a_relayer_killed_anywhere_and_restarted_executes_each_message_exactly_once(
    world, store, accounts, crash_at
):
    carol = accounts[3]
    fund(world, carol, 10 * LBC)
    sent = [world.bridge.bridge_assets("polygon", "ethereum", "LBC", LBC, carol) for _ in range(2)]
    _, remote_before = balances(world, carol)

    class Killed(BaseException):
        pass

    def kill(point: str) -> None:
        if point == crash_at:
            raise Killed(point)

    doomed = Relayer(
        [world.home, world.remote], world.chains, world.signer_keys[:2], store, world.admin, kill_hook=kill
    )
    with pytest.raises(Killed):
        doomed.poll()
    restarted = Relayer([world.home, world.remote], world.chains, world.signer_keys[:2], store, world.admin)
    report = restarted.poll()
    again = restarted.poll()

    assert balances(world, carol)[1] == remote_before + 2 * LBC  # each executed once, none twice
    done = {m.message_id: m for m in store.relayer.list_messages()}
    assert all(done[r.message_id].status == "delivered" for r in sent)
    # Killed before delivering, the restart delivers both; killed after the first delivery (before it was
    # marked), the restart finds that one executed and delivers the other.
    if crash_at == "delivered":
        assert (report.found_executed, report.delivered) == ([sent[0].message_id], [sent[1].message_id])
    else:
        assert (report.found_executed, report.delivered) == ([], [r.message_id for r in sent])
    assert (again.delivered, again.found_executed, again.failed) == ([], [], {})
    with world.chains.on("ethereum"):
        assert all(world.remote.messenger.executed(r.message_id) for r in sent)


@pytest.fixture
def tight_receive_limit(world) -> Iterator[None]:
    """Ethereum receives at most 50 LBC a day from Polygon (a full day's worth available), for one test."""
    with world.chains.on("ethereum"):
        world.remote.lbc_bridge.setLimits(POLYGON.chain_id, 10**24, 50 * LBC, sender=world.admin)
    world.chains.advance_time("ethereum", DAY)  # lowering a limit takes what earlier tests used off it
    yield
    with world.chains.on("ethereum"):
        world.remote.lbc_bridge.setLimits(POLYGON.chain_id, 10**24, 10**24, sender=world.admin)


def test_a_delivery_over_the_route_limit_is_held_and_a_retry_after_the_refill_delivers_it(
    world, relayer, accounts, tight_receive_limit
):
    dave = accounts[4]
    fund(world, dave, 100 * LBC)
    first = world.bridge.bridge_assets("polygon", "ethereum", "LBC", 30 * LBC, dave)
    assert relayer.poll().delivered == [first.message_id]  # 20 LBC of the day's 50 remain
    sent = world.bridge.bridge_assets("polygon", "ethereum", "LBC", 40 * LBC, dave)
    round_two = relayer.poll()
    assert round_two.delivered == [sent.message_id], "the message is executed: its transfer is held"
    assert list(round_two.held) == [sent.message_id]
    assert balances(world, dave)[1] == 30 * LBC
    with world.chains.on("ethereum"):
        (held,) = held_transfers(world.remote)
        assert held.transfer_id == round_two.held[sent.message_id]
        assert (held.transfer.amount, held.transfer.recipient) == (40 * LBC, dave.address)
        assert held.reason.startswith("LimitExceeded(")
        with pytest.raises(HeldTransferError, match=r"still cannot execute.*LimitExceeded"):
            retry(world.remote, held, accounts[5])
    world.chains.advance_time("ethereum", DAY)
    with world.chains.on("ethereum"):
        retry(world.remote, held, accounts[5])  # anyone may
        assert held_transfers(world.remote) == []
    assert balances(world, dave)[1] == 70 * LBC
    assert relayer.poll().delivered == [], "nothing else to deliver: the retry sent no message"


def test_a_held_transfer_refunded_by_its_sender_comes_back_home_and_is_never_also_delivered(
    world, relayer, accounts, tight_receive_limit
):
    erin = accounts[5]
    fund(world, erin, 80 * LBC)
    home_before, remote_before = balances(world, erin)
    with world.chains.on("polygon"):
        outstanding_before = int(world.home.lbc_bridge.outstanding(ETHEREUM.chain_id))
    sent = world.bridge.bridge_assets("polygon", "ethereum", "LBC", 80 * LBC, erin)  # over the 50 maximum
    assert list(relayer.poll().held) == [sent.message_id]
    with world.chains.on("ethereum"):
        (held,) = held_transfers(world.remote)
        with pytest.raises(HeldTransferError, match=r"only its sender .* or recipient"):
            refund(world.remote, held, accounts[6])
        receipt = refund(world.remote, held, erin)
        refund_message = message_from_receipt(receipt, world.remote)
        with pytest.raises(HeldTransferError, match=r"no transfer .* is held"):
            find_held(world.remote, held.transfer_id)
    assert relayer.poll().delivered == [_id(refund_message)]
    assert balances(world, erin) == (home_before, remote_before), "refunded at home, nothing minted remotely"
    with world.chains.on("polygon"):
        assert int(world.home.lbc_bridge.outstanding(ETHEREUM.chain_id)) == outstanding_before
        assert bytes(world.home.lbc_bridge.outbox(held.transfer.nonce)) == bytes(32), "commitment spent"
    world.chains.advance_time("ethereum", DAY)
    with (
        world.chains.on("ethereum"),
        reverts(world.remote.lbc_bridge.NotHeld, transferId=bytes.fromhex(held.transfer_id[2:])),
    ):
        world.remote.lbc_bridge.retry(POLYGON.chain_id, held.src_bridge, held.payload, sender=erin)
    assert balances(world, erin) == (home_before, remote_before)


def _id(message: Message) -> str:
    return "0x" + message.message_id.hex()


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (("solana", "ethereum", "LBC", LBC), UnsupportedChainError, "Unsupported chain: solana"),
        (("polygon", "cosmos", "LBC", LBC), UnsupportedChainError, "Unsupported chain: cosmos"),
        (("polygon", "ethereum", "NFT", 1), UnsupportedAssetError, "Unsupported asset type: NFT"),
        (("polygon", "polygon", "LBC", LBC), UnsupportedRouteError, "polygon to polygon: the source"),
        (("ethereum", "bsc", "LBC", LBC), UnsupportedRouteError, "ethereum to bsc: assets travel only"),
        (("polygon", "bsc", "LBC", LBC), UnsupportedRouteError, "no bridge on bsc"),
        (("polygon", "ethereum", "LBC", 0), ConfigurationError, "LBC amount must be a positive"),
        (("polygon", "ethereum", "CUBE", []), ConfigurationError, "CUBE takes a cube id"),
        (("polygon", "ethereum", "CUBE", [1, 1]), ConfigurationError, "cube ids repeat"),
    ],
)
def test_bad_requests_fail_before_anything_is_sent(world, accounts, args, error, message):
    with world.chains.on("polygon"):
        nonce = int(world.home.messenger.outboundNonce())
    with pytest.raises(error) as excinfo:
        world.bridge.bridge_assets(*args, accounts[1])
    assert str(excinfo.value).startswith(message)
    with world.chains.on("polygon"):
        assert int(world.home.messenger.outboundNonce()) == nonce


def recovered(message: Message, dst_messenger: str, signature: bytes) -> str:
    return str(Account._recover_hash(digest(message, dst_messenger), signature=signature))


@BOTH_BACKENDS
def test_a_message_meant_for_another_chain_or_bridge_is_rejected_and_mints_nothing(world, store, accounts):
    eve = accounts[5]
    fund(world, eve, 10 * LBC)
    sent = world.bridge.bridge_assets("polygon", "ethereum", "LBC", 3 * LBC, eve)
    message = sent.message
    keys = world.signer_keys[:2]
    home_messenger, remote_messenger = world.home.messenger, world.remote.messenger
    _, remote_supply = supplies(world)

    with world.chains.on("polygon"), reverts(home_messenger.WrongDestination, dstChainId=1, thisChainId=137):
        home_messenger.deliver(
            message.as_tuple(), attest(message, str(home_messenger.address), keys), sender=eve
        )
    with world.chains.on("ethereum"):
        # Signed for the home messenger's domain: over here the signatures recover to strangers.
        signed_for_home = attest(message, str(home_messenger.address), keys)
        stranger = recovered(message, str(remote_messenger.address), signed_for_home[0])
        with reverts(remote_messenger.SignerNotInSet, index=0, signer=stranger):
            remote_messenger.deliver(message.as_tuple(), signed_for_home, sender=eve)
        # Signed for the LBC bridge, presented as addressed to the cube bridge.
        signed = attest(message, str(remote_messenger.address), keys)
        to_cube_bridge = replace(message, receiver=str(world.remote.cube_bridge.address))
        stranger = recovered(to_cube_bridge, str(remote_messenger.address), signed[0])
        with reverts(remote_messenger.SignerNotInSet, index=0, signer=stranger):
            remote_messenger.deliver(to_cube_bridge.as_tuple(), signed, sender=eve)
        as_if_from_bsc = replace(message, src_chain_id=56)
        with reverts(remote_messenger.UnknownSource, srcChainId=56, srcMessenger=message.src_messenger):
            remote_messenger.deliver(
                as_if_from_bsc.as_tuple(),
                attest(as_if_from_bsc, str(remote_messenger.address), keys),
                sender=eve,
            )
    assert supplies(world)[1] == remote_supply  # nothing minted
    relayer = Relayer([world.home, world.remote], world.chains, keys, store, world.admin)
    assert relayer.poll().delivered == [sent.message_id]  # the genuine delivery still goes through, once
    assert supplies(world)[1] == remote_supply + 3 * LBC


def test_a_transfer_held_at_home_is_listed_and_retried_there(world, relayer, accounts):
    # Home's bridge is deployed after block 0 (the protocol came first): listing reads from that block on.
    frank = accounts[6]
    fund(world, frank, 20 * LBC)
    out = world.bridge.bridge_assets("polygon", "ethereum", "LBC", 20 * LBC, frank)
    assert relayer.poll().delivered == [out.message_id]
    assert world.home.deployed_at_block > 0
    with world.chains.on("polygon"):
        world.home.lbc_bridge.setLimits(ETHEREUM.chain_id, 10**24, 5 * LBC, sender=world.admin)
    world.chains.advance_time("polygon", DAY)
    try:
        back = world.bridge.bridge_assets("ethereum", "polygon", "LBC", 8 * LBC, frank)
        assert list(relayer.poll().held) == [back.message_id]
        with world.chains.on("polygon"):
            (held,) = held_transfers(world.home)
            assert (held.asset, held.transfer.amount, held.src_chain_id) == (
                "LBC",
                8 * LBC,
                ETHEREUM.chain_id,
            )
            world.home.lbc_bridge.setLimits(ETHEREUM.chain_id, 10**24, 10 * LBC, sender=world.admin)
            before = int(world.protocol.lbc.balanceOf(frank))
            retry(world.home, held, accounts[5])
            assert int(world.protocol.lbc.balanceOf(frank)) == before + 8 * LBC
            assert held_transfers(world.home) == []
    finally:
        with world.chains.on("polygon"):
            world.home.lbc_bridge.setLimits(ETHEREUM.chain_id, 10**24, 10**24, sender=world.admin)


def test_relayer_metrics__scraped_from_metrics__count_what_each_round_did(world, store, accounts):
    metrics = RelayerMetrics()
    relayer = Relayer(
        [world.home, world.remote], world.chains, world.signer_keys[:2], store, world.admin, metrics=metrics
    )
    carol = accounts[3]
    fund(world, carol, 10 * LBC)
    sent = [world.bridge.bridge_assets("polygon", "ethereum", "LBC", LBC, carol) for _ in range(2)]
    with world.chains.on("polygon"):
        home_head = int(chain.blocks.height)
    assert sorted(relayer.poll().delivered) == sorted(m.message_id for m in sent)
    relayer.poll()  # a quiet round: counters stay, the round count grows

    server = serve_metrics(metrics.registry, 0)
    try:
        text = requests.get(server.url, timeout=60).text
    finally:
        server.close()
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    assert samples[("link_ops_relayer_messages_seen_total", (("chain", "polygon"),))] == 2
    delivered_to = (("chain", "ethereum"), ("outcome", "delivered"))
    assert samples[("link_ops_relayer_deliveries_total", delivered_to)] == 2
    assert samples[("link_ops_relayer_deliveries_total", (("chain", "polygon"), ("outcome", "failed")))] == 0
    assert samples[("link_ops_relayer_pending_messages", (("chain", "ethereum"),))] == 0
    assert samples[("link_ops_relayer_next_block", (("chain", "polygon"),))] == home_head + 1
    assert samples[("link_ops_relayer_round_duration_seconds_count", ())] == 2
    assert samples[("link_ops_relayer_last_round_timestamp_seconds", ())] > 0
