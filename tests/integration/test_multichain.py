"""Several local chains at once (Polygon 137, Ethereum 1, BNB Smart Chain 56), driven from this process.

The session's own chain (``polygon:local:foundry``, 31337) stays ape's active chain outside ``on(...)``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import ape
import pytest
from ape import chain, config, networks
from ape.api.networks import ProviderContextManager

from link_ops.exceptions import StandInError, UnsupportedChainError
from link_ops.fork import port_is_free
from link_ops.model.chains import chain_by_key
from link_ops.testing.localchains import LocalChains

CAP = 1_000 * 10**18


def process_is_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def ape_files(*ape_networks: str) -> dict[Path, float]:
    """Every file ape keeps for these networks under its data folder, with its modification time."""
    files: dict[Path, float] = {}
    for choice in ape_networks:
        ecosystem, network = choice.split(":")
        folder = config.DATA_FOLDER / ecosystem
        for path in [folder / "deployments_map.json", *(folder / network).rglob("*")]:
            if path.is_file():
                files[path] = path.stat().st_mtime
    return files


@pytest.mark.parametrize("key", ["local", "ethereum-local"])
def test_local_chains_need_no_stand_in(key):
    with pytest.raises(StandInError, match="is already a local chain"):
        LocalChains([key])


def test_three_chains_at_once_leave_nothing_behind(project, admin):
    session = networks.active_provider
    before = ape_files("polygon:mainnet", "ethereum:mainnet", "bsc:mainnet")
    assert networks.polygon.mainnet.required_confirmations == 1

    with LocalChains(["polygon", "ethereum", "bsc"]) as chains:
        stand_ins = chains.stand_ins
        processes = [(s.upstream.pid, s.upstream.port) for s in stand_ins]
        for stand_in in stand_ins:
            with chains.on(stand_in.info.key):
                assert chain.chain_id == stand_in.info.chain_id
                project.LBCToken.deploy(admin, CAP, sender=admin)
        assert networks.active_provider is session

    assert [s.info.chain_id for s in stand_ins] == [137, 1, 56]
    assert all(pid is not None and process_is_gone(pid) for pid, _ in processes)
    assert all(port is not None and port_is_free(port) for _, port in processes)
    assert not any(s.provider.is_connected for s in stand_ins)
    assert not any(s.provider in ProviderContextManager.connected_providers.values() for s in stand_ins)
    assert networks.active_provider is session and chain.chain_id == 31337
    assert networks.polygon.mainnet.required_confirmations == 1
    assert networks.ethereum.mainnet.required_confirmations == 2
    assert ape_files("polygon:mainnet", "ethereum:mainnet", "bsc:mainnet") == before


def test_a_failing_block_still_stops_every_chain():
    session = networks.active_provider
    seen: list[tuple[int, int]] = []
    with pytest.raises(RuntimeError, match="boom"), LocalChains() as chains:
        for stand_in in chains.stand_ins:
            assert stand_in.upstream.pid is not None and stand_in.upstream.port is not None
            seen.append((stand_in.upstream.pid, stand_in.upstream.port))
        with chains.on("ethereum"):
            raise RuntimeError("boom")

    assert len(seen) == 2
    assert all(process_is_gone(pid) and port_is_free(port) for pid, port in seen)
    assert networks.active_provider is session and chain.chain_id == 31337
    assert networks.ethereum.mainnet.required_confirmations == 2


@ape.fixture(scope="class", chain_isolation=False)  # its state lives on the stand-ins, not the session chain
def chains():
    with LocalChains(["polygon", "ethereum"]) as running:
        yield running


@ape.fixture(scope="class", chain_isolation=False)
def tokens(chains, project, admin):
    """An LBCToken on each chain, deployed by the same admin (so at the same address), admin may mint."""
    deployed = {}
    for key in ("polygon", "ethereum"):
        with chains.on(key):
            token = project.LBCToken.deploy(admin, CAP, sender=admin)
            token.grantRole(token.MINTER_ROLE(), admin, sender=admin)
            deployed[key] = token
    return deployed


class TestPolygonAndEthereumAtOnce:
    """One LocalChains(["polygon", "ethereum"]) for the whole class, an LBCToken deployed on each."""

    def test_each_chain_answers_as_itself_inside_its_block(self, chains):
        session = networks.active_provider
        for key in ("polygon", "ethereum", "polygon"):
            info = chain_by_key(key)
            with chains.on(key) as provider:
                assert networks.active_provider is provider is chains.provider(key)
                assert chain.chain_id == info.chain_id == provider.chain_id
                assert provider.network.choice == info.ape_network
                assert provider.network.required_confirmations == 0
            assert networks.active_provider is session
            assert chain.chain_id == 31337
        assert int(chains.provider("ethereum").make_request("eth_chainId", []), 16) == 1  # without switching

    def test_advancing_the_clock_counts_from_the_latest_block_when_the_chain_runs_ahead_of_the_wall_clock(
        self, chains
    ):
        provider = chains.provider("polygon")
        ahead = int(time.time()) + 3_600  # as after a burst of automined blocks, each a second later
        provider.make_request("evm_setNextBlockTimestamp", [ahead])
        provider.make_request("evm_mine", [])

        assert chains.advance_time("polygon", 86_400) == ahead + 86_400
        latest = provider.make_request("eth_getBlockByNumber", ["latest", False])
        assert int(latest["timestamp"], 16) == ahead + 86_400

    def test_a_contract_on_each_chain_keeps_its_own_state(self, chains, tokens, admin, alice):
        assert tokens["polygon"].address == tokens["ethereum"].address  # same deployer, same nonce

        with chains.on("polygon"):
            receipt = tokens["polygon"].mint(alice, 5, sender=admin)
            assert receipt.transaction.chain_id == 137
        with chains.on("ethereum"):
            assert tokens["ethereum"].balanceOf(alice) == 0
            tokens["ethereum"].mint(alice, 7, sender=admin)
        with chains.on("polygon"):
            assert tokens["polygon"].balanceOf(alice) == 5
            with chains.on("ethereum"):
                assert chain.chain_id == 1
                assert tokens["ethereum"].balanceOf(alice) == 7
            assert chain.chain_id == 137
            assert tokens["polygon"].balanceOf(alice) == 5

    def test_events_are_read_per_chain(self, chains, tokens, admin, bob):
        for key, amount in (("polygon", 3), ("ethereum", 4)):
            with chains.on(key):
                receipt = tokens[key].mint(bob, amount, sender=admin)
                assert [(e.event_name, e.to, e.value) for e in receipt.events] == [("Transfer", bob, amount)]
        for key, amount in (("polygon", 3), ("ethereum", 4)):
            with chains.on(key):
                head = chain.blocks.head.number
                minted = [log.value for log in tokens[key].Transfer.range(0, head + 1) if log.to == bob]
            assert minted == [amount]

    def test_the_session_chain_keeps_working_between_blocks(self, chains, project, admin):
        with chains.on("ethereum"):
            pass
        token = project.LBCToken.deploy(admin, CAP, sender=admin)
        assert chain.chain_id == 31337
        assert token.cap() == CAP
        assert networks.active_provider.network.choice == "polygon:local"

    def test_a_second_stand_in_for_a_running_network_is_refused_before_starting_anything(self, chains):
        second = LocalChains(["bsc", "ethereum"])
        with pytest.raises(
            StandInError, match=r"already connected to ethereum:mainnet \(http://127\.0\.0\.1:"
        ):
            second.start()
        assert not second.running and second.stand_ins == ()

    def test_a_chain_that_was_not_started_is_an_error_naming_the_running_ones(self, chains):
        with pytest.raises(StandInError) as excinfo, chains.on("bsc"):
            pass
        assert str(excinfo.value) == (
            "bsc (chain 56) is not running in these LocalChains (running: polygon, ethereum); "
            "pass 'bsc' to LocalChains(...)"
        )
        with pytest.raises(UnsupportedChainError, match=r"^Unsupported chain: solana$"):
            chains.on("solana")
