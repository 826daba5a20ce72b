"""The fork suite's world: the recorded live deployment, found by address, and the upstream it must not touch.

Every test here runs on ``polygon:mainnet-fork:foundry`` (or ``amoy-fork``) against whatever
``deployments/137.json`` records (the stand-in's record when ``$POLYGON_RPC_URL`` is unset). Nothing is
redeployed: what needs the admin impersonates the recorded one. Without a record, only the rehearsal of a
fresh deployment runs; the rest is skipped, saying why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import requests
from eth_utils import keccak

from link_ops.exceptions import DeploymentRecordError
from link_ops.protocol.deploy import Protocol, load_protocol

# The views whose upstream answers the suite compares before and after (selector, what it reads).
_VIEWS = {
    "LBCToken": ["totalSupply()", "cap()"],
    "OptimizedCubeManagement": ["totalMinted()", "paused()", "lbcToken()"],
    "PartnerFactory": ["cubes()"],
}


@pytest.fixture(scope="session")
def recorded(fork_session, chain) -> Protocol | str:
    """The recorded deployment on the forked chain, or why there is none."""
    try:
        return load_protocol()
    except DeploymentRecordError as exc:
        if fork_session.deployments_dir is not None:
            # This session deployed the protocol on its stand-in: a record that does not load is a bug
            # (skipping here would quietly pass the whole fork suite).
            pytest.fail(
                f"the session deployed the protocol on its stand-in, but its record does not load: {exc}"
            )
        target = fork_session.target
        return (
            f"no live deployment to test on this fork: {exc}. Against a real RPC, commit the deployment's "
            f"deployments/{target.chain_id}.json; unset {target.env_var} to test against the local stand-in."
        )


@pytest.fixture(scope="session")
def live(recorded) -> Protocol:
    """The recorded deployment on the forked chain; skips (saying why) when none is recorded."""
    if isinstance(recorded, str):
        pytest.skip(recorded)
    return recorded


@dataclass(frozen=True)
class UpstreamState:
    block_number: int
    at_block: str
    code_hashes: dict[str, str]
    views: dict[str, str]
    nonces: dict[str, int]


def _rpc(url: str, method: str, *params: Any) -> Any:
    body = requests.post(
        url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}, timeout=30
    ).json()
    if "error" in body:
        raise AssertionError(f"upstream {method} failed: {body['error']}")
    return body["result"]


def read_upstream(url: str, live: Protocol | None, watched: list[str], at_block: str) -> UpstreamState:
    contracts = {}
    if live is not None:
        contracts = {
            "LBCToken": str(live.lbc.address),
            "OptimizedCubeManagement": str(live.cubes.address),
            "PartnerFactory": str(live.partner_factory.address),
        }
    views = {}
    for name, signatures in _VIEWS.items() if contracts else ():
        for signature in signatures:
            data = "0x" + keccak(text=signature)[:4].hex()
            call = {"to": contracts[name], "data": data}
            views[f"{name}.{signature}"] = _rpc(url, "eth_call", call, at_block)
    return UpstreamState(
        block_number=int(_rpc(url, "eth_blockNumber"), 16),
        at_block=at_block,
        code_hashes={
            name: keccak(hexstr=_rpc(url, "eth_getCode", address, at_block)).hex()
            for name, address in contracts.items()
        },
        views=views,
        nonces={who: int(_rpc(url, "eth_getTransactionCount", who, "latest"), 16) for who in watched},
    )


@pytest.fixture(scope="session", autouse=True)
def upstream_untouched(fork_session, recorded, chain, accounts):
    """Reads the upstream before the suite and checks, after it, that the suite changed nothing there.

    With the stand-in (which mines no more blocks) the whole chain must stand still: same block number and
    the same answers at the head. A real Polygon keeps producing blocks, so there the contracts are read at
    the fork's block, and the impersonated and test accounts must have sent nothing upstream.
    """
    live = None if isinstance(recorded, str) else recorded
    watched = [str(live.admin or "") if live else "", *(str(a.address) for a in accounts[:3])]
    watched = [w for w in watched if w]
    stand_in = fork_session.stand_in is not None
    at_block = "latest" if stand_in else hex(int(chain.blocks.head.number))
    before = read_upstream(fork_session.url, live, watched, at_block)
    yield before
    after = read_upstream(fork_session.url, live, watched, at_block)
    if stand_in:
        assert after.block_number == before.block_number == fork_session.frozen_at_block
    assert after.code_hashes == before.code_hashes
    assert after.views == before.views
    assert after.nonces == before.nonces
