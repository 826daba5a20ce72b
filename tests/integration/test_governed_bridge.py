"""A governed deployment of everything on two chains (Polygon home, Ethereum remote): the core with
`deploy_protocol(governance=...)`, the bridge with `deploy_bridges(governance=...)`. Afterwards every role
of every contract on both chains, read from its RoleGranted/RoleRevoked events, is held by a contract (the
timelock, the Safes, the bridges, the cube contract) and none by a key; and the bridge works.
"""

from __future__ import annotations

from collections.abc import Iterator

import ape
from _governance import place_safe_contracts
from ape import chain

from link_ops.bridge import CrossChainBridge, deploy_bridges
from link_ops.governance import (
    GovernanceSettings,
    build_safe_tx,
    collect_signatures,
    deploy_safe,
    exec_safe_tx,
    role_holders,
)
from link_ops.model.attest import attest
from link_ops.model.chains import chain_by_key
from link_ops.protocol.deploy import deploy_protocol
from link_ops.testing.localchains import LocalChains

POLYGON, ETHEREUM = chain_by_key("polygon"), chain_by_key("ethereum")
DELAY = 7_200
LBC = 10**18


@ape.fixture(scope="module", chain_isolation=False)
def governed(accounts) -> Iterator[dict]:
    admin, holder = accounts[0], accounts[1]
    owners, signers = [accounts[i] for i in (4, 5, 6)], [accounts[i] for i in (7, 8, 9)]
    with LocalChains(["polygon", "ethereum"]) as chains:
        safes = {}
        for key in ("polygon", "ethereum"):  # the same owners and salt: the same Safe address on both
            with chains.on(key) as provider:
                place_safe_contracts(provider)
                safes[key] = (deploy_safe(admin, owners, 2), deploy_safe(admin, [owners[0]], 1, salt_nonce=1))
        (safe, guardian) = safes["polygon"]
        assert (safe.address, guardian.address) == tuple(s.address for s in safes["ethereum"])
        settings = GovernanceSettings(str(safe.address), str(guardian.address), DELAY)
        with chains.on("polygon"):
            protocol = deploy_protocol(
                admin,
                governance=GovernanceSettings(str(safe.address), str(guardian.address), DELAY, finish=False),
                record=False,
            )
            start = {"polygon": int(chain.blocks.height)}
        with chains.on("ethereum"):
            start["ethereum"] = int(chain.blocks.height)
        home, remote = deploy_bridges(
            chains,
            admin,
            home=POLYGON,
            remotes=[ETHEREUM],
            lbc=protocol.lbc,
            cubes=protocol.cubes,
            signers=[s.address for s in signers],
            threshold=2,
            governance=settings,
            timelocks={"polygon": protocol.governance},
        )
        yield {
            "chains": chains,
            "protocol": protocol,
            "home": home,
            "remote": remote,
            "safe": safe,
            "guardian": guardian,
            "admin": admin,
            "holder": holder,
            "signers": signers,
            "owners": owners,
        }


def test_no_key_holds_any_role_on_any_contract_of_either_chain(governed):
    chains, protocol, home, remote = (governed[k] for k in ("chains", "protocol", "home", "remote"))
    every = {
        "polygon": [
            protocol.lbc,
            protocol.cubes,
            protocol.partner_factory,
            home.messenger,
            home.lbc_bridge,
            home.cube_bridge,
        ],
        "ethereum": [remote.messenger, remote.lbc_bridge, remote.cube_bridge, remote.lbc],
    }
    for key, contracts in every.items():
        with chains.on(key):
            timelock = protocol.governance.timelock if key == "polygon" else None
            admins = {str(c.defaultAdmin()) for c in contracts}
            assert len(admins) == 1, (key, admins)  # one timelock administers the whole chain
            (timelock_address,) = admins
            if timelock is not None:
                assert timelock_address == timelock.address
            timelock = ape.project.LinkTimelock.at(timelock_address)
            assert int(timelock.getMinDelay()) == DELAY
            holders = [h for c in (*contracts, timelock) for h in role_holders(c)]
            assert [str(h) for h in holders if h.kind == "eoa"] == [], key
            granted = {(h.contract, h.role_name, h.account) for h in holders}
            for bridge in contracts:
                if "PAUSER_ROLE" in {h.role_name for h in holders if h.contract == bridge.address}:
                    assert (bridge.address, "PAUSER_ROLE", governed["guardian"].address) in granted
            assert (timelock.address, "PROPOSER_ROLE", governed["safe"].address) in granted
            assert (timelock.address, "CANCELLER_ROLE", governed["guardian"].address) in granted


def test_the_governed_bridge_moves_lbc(governed):
    chains, home, remote, holder = (governed[k] for k in ("chains", "home", "remote", "holder"))
    protocol = governed["protocol"]
    with chains.on("polygon"):
        assert int(protocol.lbc.balanceOf(holder)) == 0
    # No key may mint any more: the Safe (2 of its owners) mints the holder a cube, which earns LBC.
    safe, owners = governed["safe"], governed["owners"]
    with chains.on("polygon"):
        cube_id = int(protocol.cubes.totalMinted()) + 1
        mint = build_safe_tx(
            safe, str(protocol.cubes.address), bytes(protocol.cubes.mint.encode_input(holder, 3))
        )
        exec_safe_tx(safe, mint, collect_signatures(safe, mint, owners[:2]), governed["admin"])
    chains.advance_time("polygon", 86_400)
    with chains.on("polygon"):
        protocol.cubes.batchClaimRewards([cube_id], sender=holder)
        earned = int(protocol.lbc.balanceOf(holder))
    assert earned > 0
    sent = CrossChainBridge([home, remote], chains).bridge_assets(
        "polygon", "ethereum", "LBC", earned, holder
    )
    keys = [bytes.fromhex(str(s.private_key).removeprefix("0x")) for s in governed["signers"][:2]]
    with chains.on("ethereum"):
        remote.messenger.deliver(
            sent.message.as_tuple(),
            attest(sent.message, str(remote.messenger.address), keys),
            sender=governed["admin"],
        )
        assert int(remote.lbc.balanceOf(holder)) == earned
