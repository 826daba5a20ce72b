"""The index's queries on a small real history across Polygon and Ethereum stand-ins, each against what the
test computes from the transactions it sent: holders, LBC minted and claims per day, partners and their
welcome claims, bridge transfers in flight."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

import ape
from _index_world import (
    DAY,
    ETHEREUM,
    LBC,
    POLYGON,
    WELCOME_PER_CUBE,
    World,
    block_day,
    build_world,
    create_partner,
    lbc_minted,
    mint_cubes,
)

from link_ops.bridge.client import CrossChainBridge
from link_ops.bridge.relayer import Relayer
from link_ops.contracts import at
from link_ops.store import (
    DailyClaims,
    DailyMints,
    Holding,
    OpsStore,
    RouteInFlight,
    WelcomeClaim,
)


@dataclass
class History:
    """What the scenario did, as the test knows it from its own transactions."""

    claims: list[tuple[str, int, tuple[int, ...], object]]  # holder, amount, cube ids, day
    mints: list[tuple[int, object]]  # amount, day (Polygon)
    partner: str
    welcome: list[tuple[str, int, int, int]]  # holder, cubes, amount, block
    partner_block: int
    lbc_sent: tuple[str, int]  # message id, amount (in flight)
    cube_sent_message: str  # delivered


@ape.fixture(scope="module", chain_isolation=False)
def world(accounts, tmp_path_factory) -> Iterator[World]:
    chains, built = build_world(accounts, tmp_path_factory.mktemp("index-queries"), bridge=True)
    with chains:
        yield built


@ape.fixture(scope="module", chain_isolation=False)
def history(world, accounts, tmp_path_factory) -> History:
    admin, alice, bob, carol = accounts[0], accounts[1], accounts[2], accounts[3]
    cubes, lbc = world.protocol.cubes, world.protocol.lbc
    mints: list[tuple[int, object]] = []
    assert mint_cubes(world, alice, 3, tier=0)[0] == [1, 2, 3]
    assert mint_cubes(world, bob, 2, tier=1)[0] == [4, 5]
    with world.chains.on("polygon"):
        cubes.transferFrom(alice, carol, 2, sender=alice)
    world.chains.advance_time("polygon", DAY)
    claims = []
    with world.chains.on("polygon"):
        for holder, ids in ((alice, (1, 3)), (bob, (4, 5))):
            receipt = cubes.batchClaimRewards(list(ids), sender=holder)
            ((to, amount),) = lbc_minted(world, receipt, lbc)
            assert to == holder.address and amount > 0
            claims.append((holder.address, amount, ids, block_day("polygon", world, receipt)))
            mints.append((amount, claims[-1][3]))
    partner, created, grant = create_partner(world, "cafe")
    with world.chains.on("polygon"):
        ((_to, granted),) = lbc_minted(world, grant, lbc)
        assert granted == 5 * WELCOME_PER_CUBE
        mints.append((granted, block_day("polygon", world, grant)))
    welcome = []
    with world.chains.on("polygon"):
        clone = at("PartnerBenefits", partner)
        for holder, ids in ((alice, [1, 3]), (carol, [2])):
            receipt = clone.claimWelcome(ids, sender=holder)
            welcome.append((holder.address, len(ids), WELCOME_PER_CUBE * len(ids), receipt.block_number))
    bridge = CrossChainBridge(world.sides, world.chains)
    cube_out = bridge.bridge_assets("polygon", "ethereum", "CUBE", 3, alice)
    with OpsStore(f"sqlite:///{tmp_path_factory.mktemp('relayer') / 'relayer.db'}") as relayer_store:
        delivered = Relayer(world.sides, world.chains, world.signer_keys[:2], relayer_store, admin).poll()
    assert delivered.delivered == [cube_out.message_id]
    with world.chains.on("polygon"):
        funding = lbc.mint(admin, 40 * LBC, sender=admin)
        mints.append((40 * LBC, block_day("polygon", world, funding)))
    lbc_out = bridge.bridge_assets("polygon", "ethereum", "LBC", 40 * LBC, admin)
    return History(
        claims,
        mints,
        partner,
        welcome,
        created.block_number,
        (lbc_out.message_id, 40 * LBC),
        cube_out.message_id,
    )


@ape.fixture(scope="module", chain_isolation=False)
def indexed(world, history, tmp_path_factory) -> Iterator[OpsStore]:
    url = f"sqlite:///{tmp_path_factory.mktemp('index') / 'index.db'}"
    with OpsStore(url) as store:
        for key in ("polygon", "ethereum"):
            report = world.indexer(key, store).round()
            assert report.indexed == world.head(key)
        yield store


def test_holders__each_cube_with_its_holder_where_it_is__locked_and_burnt_ones_left_out(
    indexed, history, accounts
):
    alice, bob, carol = (accounts[i].address for i in (1, 2, 3))
    expected = [
        Holding(ETHEREUM.chain_id, alice, (3,)),  # cube 3 went to Ethereum: held there, locked at home
        *sorted(
            [
                Holding(POLYGON.chain_id, alice, (1,)),
                Holding(POLYGON.chain_id, bob, (4, 5)),
                Holding(POLYGON.chain_id, carol, (2,)),
            ],
            key=lambda h: h.holder,
        ),
    ]
    assert indexed.index.holders() == expected
    assert indexed.index.holders(ETHEREUM.chain_id) == expected[:1]


def test_lbc_minted_per_day__claims_and_the_minters_mints_at_home_nothing_arrived_abroad(indexed, history):
    totals: dict[object, list[int]] = defaultdict(lambda: [0, 0])
    for amount, day in history.mints:
        totals[day][0] += 1
        totals[day][1] += amount
    expected = [DailyMints(POLYGON.chain_id, day, n, amount) for day, (n, amount) in sorted(totals.items())]
    assert indexed.index.lbc_minted_per_day() == expected
    assert indexed.index.lbc_minted_per_day(ETHEREUM.chain_id) == []


def test_claims_per_day__only_batch_claims__count_cubes_and_amount(indexed, history):
    totals: dict[object, list[int]] = defaultdict(lambda: [0, 0, 0])
    for _holder, amount, ids, day in history.claims:
        entry = totals[day]
        entry[0] += 1
        entry[1] += len(ids)
        entry[2] += amount
    expected = [DailyClaims(POLYGON.chain_id, day, n, k, a) for day, (n, k, a) in sorted(totals.items())]
    assert indexed.index.claims_per_day() == expected
    assert [(c.holder, c.amount, c.cube_ids) for c in indexed.index.claims()] == [
        (holder, amount, ids) for holder, amount, ids, _day in history.claims
    ]


def test_partners__the_partner_with_its_terms_and_each_welcome_claim(indexed, history, world, accounts):
    (partner,) = indexed.index.partners()
    assert (partner.chain_id, partner.partner_id, partner.address, partner.partner) == (
        POLYGON.chain_id,
        "cafe",
        history.partner,
        accounts[0].address,
    )
    assert (
        partner.welcome_token,
        partner.welcome_amount_per_cube,
        partner.snapshot_cube_id,
        partner.funded,
    ) == (
        str(world.protocol.lbc.address),
        WELCOME_PER_CUBE,
        5,
        5 * WELCOME_PER_CUBE,
    )
    assert partner.created_block == history.partner_block
    claims = [(c.holder, c.cube_count, c.amount, c.block_number) for c in partner.claims]
    assert claims == history.welcome
    assert all(isinstance(c, WelcomeClaim) and len(c.tx_hash) == 66 for c in partner.claims)
    assert (partner.cubes_claimed, partner.amount_claimed) == (3, 3 * WELCOME_PER_CUBE)


def test_bridge_in_flight__the_undelivered_lbc_transfer_only_per_route(indexed, history, accounts):
    (transfer,) = indexed.index.bridge_in_flight()
    message_id, amount = history.lbc_sent
    assert (transfer.message_id, transfer.asset, transfer.amount, transfer.status) == (
        message_id,
        "LBC",
        amount,
        "sent",
    )
    assert (transfer.src_chain_id, transfer.dst_chain_id) == (POLYGON.chain_id, ETHEREUM.chain_id)
    assert transfer.sender == transfer.recipient == accounts[0].address
    assert indexed.index.in_flight_by_route() == [
        RouteInFlight(POLYGON.chain_id, ETHEREUM.chain_id, 1, amount, 0)
    ]
    # The delivered cube transfer: sent at home, received abroad, both indexed.
    sent = [
        e for e in indexed.index.events(event="CubesSent") if e.args["messageId"] == history.cube_sent_message
    ]
    received = indexed.index.events(ETHEREUM.chain_id, event="CubesReceived")
    assert [e.transfer_id for e in received] == [sent[0].transfer_id]


def test_every_event_on_chain_is_indexed_once(indexed, world):
    """The index's events equal what ape reads from the chain for each indexed contract."""
    with world.chains.on("polygon"):
        cube_transfers = [
            (log.block_number, log.log_index)
            for log in world.protocol.cubes.Transfer.range(0, world.head("polygon") + 1)
        ]
    indexed_transfers = [
        (e.block_number, e.log_index)
        for e in indexed.index.events(POLYGON.chain_id, event="Transfer", contract="OptimizedCubeManagement")
    ]
    assert indexed_transfers == cube_transfers
    counts = indexed.index.event_counts()
    assert counts[(POLYGON.chain_id, "PartnerCreated")] == 1
    assert (
        counts[(POLYGON.chain_id, "MessageSent")] == 2 and counts[(ETHEREUM.chain_id, "MessageExecuted")] == 1
    )
