"""A governed rollout one chain at a time, through the library: what `ape run deploy --governance
--keep-setup`, `ape run deploy_bridge --governance` on each chain (home twice: the second run wires it to the
remote) and `ape run govern finish-setup` on each chain do. (Its own module: it starts its own two chains,
and a module holds one set of stand-ins at a time.)"""

from __future__ import annotations

from _governance import place_safe_contracts

from link_ops.bridge.deploy import load_bridge_side
from link_ops.bridge.rollout import deploy_side
from link_ops.governance import (
    GovernanceSettings,
    deploy_safe,
    finish_chain_setup,
    recorded_contracts,
    role_holders,
)
from link_ops.model.chains import chain_by_key
from link_ops.protocol.deploy import deploy_protocol
from link_ops.protocol.records import deployment_addresses
from link_ops.testing.localchains import LocalChains

POLYGON, ETHEREUM = chain_by_key("polygon"), chain_by_key("ethereum")
DELAY = 7_200


def test_a_governed_rollout_one_chain_at_a_time_ends_with_no_key_holding_a_role(accounts, tmp_path):
    """What `deploy --governance --keep-setup`, `deploy_bridge --governance` on each chain (home twice: the
    second run wires it to the remote) and `govern finish-setup` on each chain do, through the library."""
    admin, owners = accounts[0], [accounts[i] for i in (4, 5, 6)]
    signers = [accounts[i].address for i in (7, 8, 9)]
    records = tmp_path / "deployments"
    with LocalChains(["polygon", "ethereum"]) as chains:
        for key in ("polygon", "ethereum"):
            with chains.on(key) as provider:
                place_safe_contracts(provider)
                safe = deploy_safe(admin, owners, 2)
                guardian = deploy_safe(admin, [owners[0]], 1, salt_nonce=1)
        settings = GovernanceSettings(str(safe.address), str(guardian.address), DELAY, finish=False)
        with chains.on("polygon"):
            protocol = deploy_protocol(admin, governance=settings, deployments_dir=records)
        for key in ("polygon", "ethereum", "polygon"):
            info = chain_by_key(key)
            with chains.on(key):
                new = "AttestedMessenger" not in deployment_addresses(info, records)
                deploy_side(
                    admin,
                    info,
                    deployments_dir=records,
                    signers=signers if new else None,
                    threshold=2 if new else None,
                    lbc=protocol.lbc if info.is_home else None,
                    cubes=protocol.cubes if info.is_home else None,
                    governance=settings,
                )
        for key in ("polygon", "ethereum"):
            with chains.on(key):
                result = finish_chain_setup(admin, min_delay=DELAY, deployments_dir=records)
                assert result.min_delay == DELAY and result.safe == safe.address
                recorded = recorded_contracts(records)
                names = {c.contract_type.name for c in recorded}
                assert {"AttestedMessenger", "LBCBridge", "LinkTimelock", "LBCToken"} <= names
                holders = [h for c in recorded for h in role_holders(c)]
                assert [str(h) for h in holders if h.kind == "eoa"] == [], key
                assert finish_chain_setup(admin, min_delay=DELAY, deployments_dir=records).already_finished
        with chains.on("ethereum"):
            remote = load_bridge_side(ETHEREUM, records)
            assert remote.lbc_bridge.peer(POLYGON.chain_id) != "0x" + "00" * 20
            assert remote.lbc_bridge.defaultAdmin() == remote.messenger.defaultAdmin()
