"""Worlds for the event index's integration tests: the protocol on local anvils standing in for Polygon (and
Ethereum), recorded in a deployments folder as `ape run deploy` would, and helpers that make real events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from ape import chain

from link_ops.bridge.deploy import BridgeSide, deploy_bridges
from link_ops.index import ChainIndexer, HttpJsonRpc, IndexSettings, targets_from_records
from link_ops.model.chains import chain_by_key
from link_ops.protocol.deploy import Protocol, deploy_protocol
from link_ops.store import OpsStore
from link_ops.testing.localchains import LocalChains

LBC = 10**18
DAY = 86_400
POLYGON, ETHEREUM = chain_by_key("polygon"), chain_by_key("ethereum")
WELCOME_PER_CUBE = 10 * LBC


def partner_id(slug: str) -> bytes:
    return slug.encode().ljust(32, b"\0")


@dataclass
class World:
    chains: LocalChains
    records: Path
    protocol: Protocol
    admin: Any
    sides: list[BridgeSide] = field(default_factory=list)
    signer_keys: list[bytes] = field(default_factory=list)

    def url(self, key: str) -> str:
        return self.chains[key].url

    def env(self) -> dict[str, str]:
        """What `ape run index` needs to find these chains and their records."""
        from link_ops.protocol.records import DEPLOYMENTS_DIR_ENV

        out = {DEPLOYMENTS_DIR_ENV: str(self.records), "POLYGON_RPC_URL": self.url("polygon")}
        if any(s.chain.key == "ethereum" for s in self.sides):
            out["ETHEREUM_RPC_URL"] = self.url("ethereum")
        return out

    def indexer(self, key: str, store: OpsStore, **kwargs: Any) -> ChainIndexer:
        """An indexer of chain `key` into `store`, through HTTP as any node is reached."""
        info = chain_by_key(key)
        rpc = HttpJsonRpc(self.url(key))
        kwargs.setdefault("settings", IndexSettings())
        return ChainIndexer(rpc, targets_from_records(info, self.records, rpc), store.index, **kwargs)

    def head(self, key: str) -> int:
        with self.chains.on(key) as provider:
            return int(provider.get_block("latest").number)


def build_world(accounts: Any, folder: Path, *, bridge: bool) -> tuple[LocalChains, World]:
    """Starts the stand-ins (Polygon, and Ethereum with `bridge`), deploys and records the protocol (and the
    bridge); the caller stops ``chains``."""
    admin = accounts[0]
    records = folder / "deployments"
    keys = ["polygon", "ethereum"] if bridge else ["polygon"]
    chains = LocalChains(keys).start()
    try:
        with chains.on("polygon"):
            protocol = deploy_protocol(admin, deployments_dir=records)
            protocol.lbc.grantRole(protocol.lbc.MINTER_ROLE(), admin.address, sender=admin)
        world = World(chains, records, protocol, admin)
        if bridge:
            signers = accounts[7:10]
            world.sides = deploy_bridges(
                chains,
                admin,
                home=POLYGON,
                remotes=[ETHEREUM],
                lbc=protocol.lbc,
                cubes=protocol.cubes,
                signers=[s.address for s in signers],
                threshold=2,
                deployments_dir=records,
            )
            world.signer_keys = [bytes.fromhex(str(s.private_key).removeprefix("0x")) for s in signers]
        return chains, world
    except BaseException:
        chains.stop()
        raise


def mint_cubes(world: World, to: Any, quantity: int, tier: int = 0) -> tuple[list[int], Any]:
    """Mints cubes on Polygon; returns their ids and the receipt."""
    cubes = world.protocol.cubes
    with world.chains.on("polygon"):
        first = int(cubes.totalMinted()) + 1
        receipt = cubes.mintBatch(to, tier, quantity, sender=world.admin)
    return list(range(first, first + quantity)), receipt


def create_partner(world: World, slug: str, *, window: int = 30 * DAY) -> tuple[str, Any, Any]:
    """Onboards partner `slug` on Polygon with a welcome grant of 10 LBC per cube, minted to the admin and
    paid by it; returns the partner's contract, the creation's receipt and the mint's."""
    admin, lbc, factory = world.admin, world.protocol.lbc, world.protocol.partner_factory
    with world.chains.on("polygon"):
        funded = WELCOME_PER_CUBE * int(world.protocol.cubes.totalMinted())
        minted = lbc.mint(admin, funded, sender=admin)
        lbc.approve(factory.address, funded, sender=admin)
        terms = (
            admin.address,
            lbc.address,
            WELCOME_PER_CUBE,
            window,
            (100, 200, 300, 400),
            [partner_id("coffee")],
        )
        receipt = factory.createPartner(partner_id(slug), terms, sender=admin)
        return str(factory.partnerOf(partner_id(slug))), receipt, minted


def block_day(key: str, world: World, receipt: Any) -> date:
    with world.chains.on(key):
        stamp = int(chain.provider.get_block(receipt.block_number).timestamp)
    return datetime.fromtimestamp(stamp, timezone.utc).date()


def lbc_minted(world: World, receipt: Any, token: Any) -> list[tuple[str, int]]:
    """The LBC mints (recipient, amount) of `receipt`, read through ape."""
    return [
        (str(log.event_arguments["to"]), int(log.event_arguments["value"]))
        for log in token.Transfer.from_receipt(receipt)
        if str(log.event_arguments["from"]) == "0x0000000000000000000000000000000000000000"
    ]
