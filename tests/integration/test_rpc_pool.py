"""The RPC pool against real anvils: answers that are not retried, web3.py through the pool (sync and async),
and ape's node provider through the pool sending real transactions, each to exactly one upstream with its
nonce read there.

Two fault proxies in front of one anvil make two upstreams of one chain: whatever reaches either lands on
the same chain, and each proxy counts what it received and passed on.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import ape
import pytest
from _ape import error_lines, output_of, run_ape
from eth_utils import to_checksum_address
from web3 import AsyncWeb3, Web3
from web3.exceptions import ContractLogicError

from link_ops.bridge.connections import activate, connections_from_env, disconnect
from link_ops.exceptions import RpcConfigurationError, RpcError
from link_ops.fork import _rpc, free_port
from link_ops.protocol.records import DEPLOYMENTS_DIR_ENV
from link_ops.rpc import PoolSettings, RpcPool
from link_ops.rpc.ape_provider import attach_pool, connect_pooled
from link_ops.rpc.providers import AsyncPoolProvider, PoolProvider
from link_ops.testing.faults import FaultProxy
from link_ops.testing.localchains import LocalChains
from link_ops.testing.standin import LocalUpstream

#: Runtime code that reverts with the custom error 0xdeadbeef: PUSH4 deadbeef PUSH1 0xe0 SHL PUSH1 0 MSTORE
#: PUSH1 4 PUSH1 0 REVERT.
REVERTER_CODE = "0x63deadbeef60e01b60005260046000fd"
REVERTER = to_checksum_address("0x" + "de" * 20)
SETTINGS = PoolSettings(check_interval_s=3600, request_timeout_s=60)


@dataclass
class Twin:
    """One anvil (polygon, chain 137, through LocalChains: ape is connected to it) behind two proxies."""

    chains: LocalChains
    proxies: tuple[FaultProxy, FaultProxy]

    @property
    def url(self) -> str:
        return self.chains["polygon"].url

    def pool(self) -> RpcPool:
        for proxy in self.proxies:
            proxy.reset_counts()
        return RpcPool(137, [p.url for p in self.proxies], SETTINGS)

    def sent(self, method: str) -> list[int]:
        return [p.count(method, forwarded=True) for p in self.proxies]


@ape.fixture(scope="module", chain_isolation=False)  # its state lives on the stand-in, not the session chain
def twin() -> Iterator[Twin]:
    with LocalChains(["polygon"]) as chains, contextlib.ExitStack() as stack:
        url = chains["polygon"].url
        proxies = (stack.enter_context(FaultProxy(url)), stack.enter_context(FaultProxy(url)))
        _rpc(url, "anvil_setCode", [REVERTER, REVERTER_CODE])
        yield Twin(chains, proxies)


def test_pool__revert_on_anvil__is_the_answer_and_never_asked_of_the_other_upstream(twin):
    with twin.pool() as pool, pytest.raises(RpcError) as raised:
        pool.request("eth_call", [{"to": REVERTER, "data": "0x"}, "latest"])

    assert (raised.value.code, raised.value.data) == (3, "0xdeadbeef")
    assert sorted(twin.sent("eth_call")) == [0, 1]


def test_pool__invalid_params_on_anvil__are_the_answer_and_never_asked_of_the_other_upstream(twin):
    with twin.pool() as pool, pytest.raises(RpcError) as raised:
        pool.request("eth_getBalance", ["0xnot-an-address", "latest"])

    assert raised.value.code == -32602
    assert sorted(twin.sent("eth_getBalance")) == [0, 1]


def test_web3__through_the_pool__reads_and_raises_reverts_as_web3_does(twin, accounts):
    with twin.pool() as pool:
        w3 = Web3(PoolProvider(pool))

        assert w3.is_connected()
        assert w3.eth.chain_id == 137
        assert w3.eth.get_balance(accounts[5].address) == int(
            _rpc(twin.url, "eth_getBalance", [accounts[5].address, "latest"]), 16
        )
        assert w3.eth.block_number == int(_rpc(twin.url, "eth_blockNumber", []), 16)
        with pytest.raises(ContractLogicError) as raised:
            w3.eth.call({"to": REVERTER, "data": "0x"})
        assert raised.value.data == "0xdeadbeef"
        with w3.batch_requests() as batch:
            batch.add(w3.eth.get_block("latest"))
            batch.add(w3.eth.get_balance(accounts[5].address))
            block, balance = batch.execute()
        assert balance > 0 and block["number"] >= 0


def test_async_web3__through_the_pool__reads_and_raises_reverts(twin, accounts):
    pool = twin.pool()

    async def scenario() -> tuple[int, int]:
        async with pool:
            w3 = AsyncWeb3(AsyncPoolProvider(pool))
            assert await w3.is_connected()
            with pytest.raises(ContractLogicError):
                await w3.eth.call({"to": REVERTER, "data": "0x"})
            balances = await asyncio.gather(*(w3.eth.get_balance(a.address) for a in accounts[:4]))
            assert all(b > 0 for b in balances)
            return await w3.eth.chain_id, len(balances)

    assert asyncio.run(scenario()) == (137, 4)


def test_ape__provider_through_the_pool__sends_each_transaction_once_with_the_nonce_read_where_it_goes(
    twin, project, accounts
):
    admin, holder = accounts[0], accounts[6]
    provider = twin.chains.provider("polygon")
    with twin.pool() as pool:
        detach = attach_pool(provider, pool)
        try:
            with twin.chains.on("polygon"):
                token = project.MockERC20.deploy("Pooled", "POOL", sender=admin)
                for amount in (1, 2, 3):
                    token.mint(holder, amount, sender=admin)
                assert token.balanceOf(holder) == 6
        finally:
            detach()

    sends, nonce_reads = twin.sent("eth_sendRawTransaction"), twin.sent("eth_getTransactionCount")
    assert sum(sends) == 4  # the deployment and three mints, each to exactly one upstream
    assert sorted(sends) == [0, 4] and nonce_reads[sends.index(0)] == 0  # sticky: nonces read where they went
    assert nonce_reads[sends.index(4)] >= 4


def test_ape__connected_through_the_pool__transacts_and_stays_on_the_pool(twin, project, accounts):
    admin = accounts[0]
    with twin.pool() as pool:
        provider = connect_pooled(pool, "polygon:mainnet")
        try:
            with activate(provider):
                assert ape.chain.chain_id == 137
                token = project.MockERC20.deploy("Pooled", "POOL", sender=admin)
                receipt = token.mint(accounts[7], 5, sender=admin)
                assert receipt.status == 1 and token.balanceOf(accounts[7]) == 5
        finally:
            disconnect(provider)

    assert sum(twin.sent("eth_sendRawTransaction")) == 2


def test_ape__pool_of_another_chain__is_refused(twin):
    pool = RpcPool(1, [p.url for p in twin.proxies], SETTINGS)
    with pytest.raises(RpcConfigurationError, match=r"on chain 137 .* but the pool serves chain 1"):
        attach_pool(twin.chains.provider("polygon"), pool)
    with pytest.raises(RpcConfigurationError, match="<ecosystem>:<network>"):
        connect_pooled(pool, "polygon:mainnet:node")


def test_fork__of_a_url_list__forks_the_first_node_answering_as_the_chain(tmp_path):
    records = tmp_path / "deployments"
    records.mkdir()
    dead = f"http://127.0.0.1:{free_port()}"
    with LocalUpstream(137) as node:
        env = {
            "POLYGON_RPC_URL": f"{dead},{node.url}",
            DEPLOYMENTS_DIR_ENV: str(records),
            "APE_DATA_FOLDER": str(tmp_path / "ape-data"),
        }
        done = run_ape("run", "held", "--network", "polygon:mainnet-fork:foundry", env=env)

    # It connected to a fork of the live node (and then found nothing recorded there), not to "a,b".
    assert error_lines(done) == [
        f"Error: no bridge recorded for polygon in {records} (missing: AttestedMessenger, LBCBridge, "
        "CubeBridge, LBCToken, OptimizedCubeManagement): deploy it with "
        "link_ops.bridge.deploy_bridge_side(..., deployments_dir=...)"
    ], output_of(done)


def test_bridge_connections__url_list__reach_the_chain_through_a_pool_that_fails_reads_over(
    twin, project, accounts
):
    admin = accounts[0]
    urls = ",".join(p.url for p in twin.proxies)
    for proxy in twin.proxies:
        proxy.reset_counts()
    with connections_from_env(["polygon"], {"POLYGON_RPC_URL": urls}, wait_for_confirmations=False) as live:
        pool = live.pools["polygon"]
        assert pool.chain_id == 137 and len(pool.names) == 2
        with live.on("polygon"):
            token = project.MockERC20.deploy("Pooled", "POOL", sender=admin)
            token.mint(accounts[6], 3, sender=admin)
            twin.proxies[0].set_mode("http_error", status=500)
            try:
                balances = [int(token.balanceOf(accounts[6])) for _ in range(10)]
            finally:
                twin.proxies[0].set_mode("pass")
        provider = live.provider("polygon")
    disconnect(provider)

    assert balances == [3] * 10  # every read answered, though one node answered 500s
    assert sum(twin.sent("eth_sendRawTransaction")) == 2  # each transaction through exactly one node
    assert twin.proxies[1].count("eth_call", forwarded=True) >= 10  # the healthy node answered them all
    assert all(status.checks >= 1 for status in pool.status())  # checked before first use
