"""The bridge demo: LBC and a CUBE go from Polygon to Ethereum and back, on two local chains at once.

Two anvils play Polygon (137) and Ethereum (1) (:class:`~link_ops.testing.localchains.LocalChains`). The
protocol and the home bridge are deployed on "Polygon", the remote bridge on "Ethereum"; a holder mines LBC
with three cubes, sends LBC and a cube out and back through :class:`~link_ops.bridge.CrossChainBridge`, and
a :class:`~link_ops.bridge.relayer.Relayer` with two of three signers delivers each message. The cube keeps
mining while it is away; its holder claims that at home.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ape import chain

from link_ops.bridge.client import CrossChainBridge
from link_ops.bridge.deploy import deploy_bridges
from link_ops.bridge.relayer import Relayer
from link_ops.exceptions import LinkOpsError
from link_ops.model.chains import chain_by_key
from link_ops.protocol.deploy import deploy_protocol
from link_ops.store import OpsStore
from link_ops.testing.localchains import LocalChains

DAY = 86_400


Progress = Callable[[str], None]


@dataclass(frozen=True)
class BridgeStep:
    """One move of the demo, as the holder sees it once the relayer delivered it."""

    what: str
    polygon_lbc: int
    ethereum_lbc: int
    cube_on: str
    send_gas: int
    deliver_gas: int


@dataclass
class BridgeDemoResult:
    holder: str
    cube_id: int
    steps: list[BridgeStep] = field(default_factory=list)
    reward_while_away: int = 0
    expected_reward_while_away: int = 0
    supply_polygon: int = 0
    supply_ethereum: int = 0
    locked_at_home: int = 0


def _private_key(account: Any) -> bytes:
    return bytes.fromhex(str(account.private_key).removeprefix("0x"))


def run_bridge_demo(
    deployer: Any, holder: Any, signers: Sequence[Any], *, say: Progress | None = None
) -> BridgeDemoResult:
    """Runs the demo; `signers` are three test accounts whose keys attest (two of them per message)."""
    report = say or (lambda _line: None)
    polygon, ethereum = chain_by_key("polygon"), chain_by_key("ethereum")
    signer_addresses = [s.address for s in signers]
    with LocalChains(["polygon", "ethereum"]) as chains, tempfile.TemporaryDirectory() as tmp:
        report("two local chains: Polygon (137) and Ethereum (1)")
        with chains.on("polygon"):
            protocol = deploy_protocol(deployer, record=False)
            cube_id = int(protocol.cubes.totalMinted()) + 1
            protocol.cubes.mintBatch(holder, 1, 3, sender=deployer)
        home, remote = deploy_bridges(
            chains,
            deployer,
            home=polygon,
            remotes=[ethereum],
            lbc=protocol.lbc,
            cubes=protocol.cubes,
            signers=signer_addresses,
            threshold=2,
        )
        report("bridges deployed and wired; a day of mining")
        chains.advance_time("polygon", DAY)
        with chains.on("polygon"):
            ids = list(range(cube_id, cube_id + 3))
            protocol.cubes.batchClaimRewards(ids, sender=holder)

        bridge = CrossChainBridge([home, remote], chains)
        with OpsStore(f"sqlite:///{Path(tmp) / 'ops.db'}") as store:
            relayer = Relayer([home, remote], chains, [_private_key(s) for s in signers[:2]], store, deployer)
            result = BridgeDemoResult(holder=str(holder.address), cube_id=cube_id)

            def snapshot(what: str, send_gas: int, message_id: str) -> None:
                round_ = relayer.poll()
                if message_id not in round_.delivered:
                    raise LinkOpsError(f"the relayer did not deliver {message_id}: {round_.failed}")
                delivery = store.relayer.get_message(message_id)
                deliver_gas = 0
                if delivery is not None and delivery.tx_hash:
                    dst = ethereum if delivery.dst_chain_id == ethereum.chain_id else polygon
                    with chains.on(dst.key):
                        deliver_gas = int(chain.provider.get_receipt(delivery.tx_hash).gas_used)
                with chains.on("polygon"):
                    on_polygon = int(protocol.lbc.balanceOf(holder))
                    cube_home = protocol.cubes.ownerOf(cube_id) == holder.address
                with chains.on("ethereum"):
                    on_ethereum = int(remote.lbc.balanceOf(holder))
                    cube_away = bool(remote.cubes.isApprovedOrOwner(holder, cube_id))
                where = "polygon" if cube_home else "ethereum" if cube_away else "in flight"
                result.steps.append(BridgeStep(what, on_polygon, on_ethereum, where, send_gas, deliver_gas))
                report(what)

            with chains.on("polygon"):
                balance = int(protocol.lbc.balanceOf(holder))
            out = balance // 2
            sent = bridge.bridge_assets("polygon", "ethereum", "LBC", out, holder)
            snapshot(f"LBC {out / 10**18:,.4f} Polygon → Ethereum", sent.gas_used, sent.message_id)
            back = out // 2
            sent = bridge.bridge_assets("ethereum", "polygon", "LBC", back, holder)
            snapshot(f"LBC {back / 10**18:,.4f} Ethereum → Polygon", sent.gas_used, sent.message_id)

            with chains.on("polygon"):
                rate = int(protocol.cubes.tierRate(1))
                last_claim = int(protocol.cubes.nodeData(cube_id)[1])
            sent = bridge.bridge_assets("polygon", "ethereum", "CUBE", cube_id, holder)
            snapshot(f"CUBE #{cube_id} Polygon → Ethereum", sent.gas_used, sent.message_id)
            chains.advance_time("polygon", DAY)
            sent = bridge.bridge_assets("ethereum", "polygon", "CUBE", cube_id, holder)
            snapshot(f"CUBE #{cube_id} Ethereum → Polygon", sent.gas_used, sent.message_id)

        with chains.on("polygon"):
            before = int(protocol.lbc.balanceOf(holder))
            receipt = protocol.cubes.batchClaimRewards([cube_id], sender=holder)
            claimed_at = int(chain.blocks[receipt.block_number].timestamp)
            result.reward_while_away = int(protocol.lbc.balanceOf(holder)) - before
            result.expected_reward_while_away = rate * (claimed_at - last_claim)
            result.supply_polygon = int(protocol.lbc.totalSupply())
            result.locked_at_home = int(protocol.lbc.balanceOf(home.lbc_bridge.address))
        with chains.on("ethereum"):
            result.supply_ethereum = int(remote.lbc.totalSupply())
    return result
