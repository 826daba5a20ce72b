"""Specs of link_ops.model.chains: the chain registry (ids, keys, ape networks, RPC variables), and where a
chain's deployment record lives."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from link_ops.exceptions import ConfigurationError, DeploymentRecordError, UnsupportedChainError
from link_ops.model.chains import (
    CHAINS,
    CHAINS_BY_KEY,
    ChainInfo,
    chain_by_id,
    chain_by_key,
    chain_keys,
    chain_name,
    is_local_chain,
    rpc_url,
)
from link_ops.protocol.records import ContractRecord, DeploymentRecord, deployment_addresses, save_record

#: key, chain id, display name, ape network, RPC variable, home?, home key, testnet?
LIVE_CHAINS = [
    ("polygon", 137, "Polygon PoS", "polygon:mainnet", "POLYGON_RPC_URL", True, None, False),
    ("ethereum", 1, "Ethereum", "ethereum:mainnet", "ETHEREUM_RPC_URL", False, "polygon", False),
    ("bsc", 56, "BNB Smart Chain", "bsc:mainnet", "BSC_RPC_URL", False, "polygon", False),
    ("amoy", 80002, "Polygon Amoy", "polygon:amoy", "AMOY_RPC_URL", True, None, True),
    ("sepolia", 11155111, "Ethereum Sepolia", "ethereum:sepolia", "SEPOLIA_RPC_URL", False, "amoy", True),
    ("bsc-testnet", 97, "BNB Smart Chain Testnet", "bsc:testnet", "BSC_TESTNET_RPC_URL", False, "amoy", True),
]


@pytest.mark.parametrize(
    ("key", "chain_id", "name", "network", "env", "is_home", "home_key", "is_testnet"), LIVE_CHAINS
)
def test_each_live_chain_is_registered_with_its_id_network_variable_and_bridge_role(
    key, chain_id, name, network, env, is_home, home_key, is_testnet
):
    info = chain_by_key(key)
    assert info is CHAINS[chain_id] is chain_by_id(chain_id)
    assert (info.key, info.chain_id, info.name, info.ape_network, info.rpc_env) == (
        key,
        chain_id,
        name,
        network,
        env,
    )
    assert (info.is_home, info.home_key, info.is_testnet, info.is_local) == (
        is_home,
        home_key,
        is_testnet,
        False,
    )
    assert f"{info.ecosystem}:{info.network}" == network
    assert chain_name(chain_id) == name
    assert not is_local_chain(chain_id)


def test_the_registry_holds_exactly_the_six_live_chains_and_the_two_local_ones():
    assert sorted(CHAINS) == sorted([137, 1, 56, 80002, 11155111, 97, 31337, 1337])
    assert chain_keys() == tuple(CHAINS_BY_KEY) == tuple(c.key for c in CHAINS.values())
    assert len(set(chain_keys())) == len(CHAINS)


def test_every_remote_chain_bridges_to_the_home_chain_of_its_own_family():
    for info in CHAINS.values():
        if info.is_local or info.is_home:
            assert info.home_key is None
            continue
        home = chain_by_key(info.home_key)
        assert home.is_home and home.is_testnet == info.is_testnet


@pytest.mark.parametrize(
    ("chain_id", "name", "network", "key"),
    [
        (31337, "local anvil", "polygon:local:foundry", "local"),
        (1337, "local dev chain", "ethereum:local", "ethereum-local"),
    ],
)
def test_the_local_chains_are_throwaway_chains_without_an_rpc_variable(chain_id, name, network, key):
    info = CHAINS[chain_id]
    assert (info.name, info.ape_network, info.key) == (name, network, key)
    assert info.is_local and is_local_chain(chain_id)
    assert info.rpc_env is None and rpc_url(info, {"POLYGON_RPC_URL": "https://x"}) is None
    assert not info.is_home and info.home_key is None and not info.is_testnet


def test_chain_info_keeps_its_positional_fields():
    info = ChainInfo(137, "Polygon PoS", "polygon:mainnet")
    assert (info.chain_id, info.name, info.ape_network, info.is_local) == (
        137,
        "Polygon PoS",
        "polygon:mainnet",
        False,
    )
    with pytest.raises(AttributeError):
        info.chain_id = 1  # type: ignore[misc]


@pytest.mark.parametrize("typed", ["POLYGON", "Polygon", "  polygon ", "BSC-Testnet", "SePoLiA"])
def test_keys_are_case_insensitive(typed):
    assert chain_by_key(typed).key == typed.strip().lower()


@pytest.mark.parametrize("name", ["matic", "bsc_testnet", "polygon-mainnet", "", "137", "eth"])
def test_an_unknown_key_is_unsupported_with_exactly_the_required_text(name):
    with pytest.raises(UnsupportedChainError) as excinfo:
        chain_by_key(name)
    assert str(excinfo.value) == f"Unsupported chain: {name}"
    assert excinfo.value.chain == name
    assert excinfo.value.supported == chain_keys()
    assert excinfo.value.hint == "use one of: " + ", ".join(chain_keys())
    assert isinstance(excinfo.value, ConfigurationError)


@pytest.mark.parametrize("chain_id", [0, 5, 42161, 80001, 2**64])
def test_an_unknown_chain_id_is_unsupported_with_exactly_the_required_text(chain_id):
    with pytest.raises(UnsupportedChainError) as excinfo:
        chain_by_id(chain_id)
    assert str(excinfo.value) == f"Unsupported chain: {chain_id}"
    assert chain_name(chain_id) == f"chain {chain_id}"
    assert not is_local_chain(chain_id)


def test_a_boolean_is_not_a_chain_id():
    with pytest.raises(UnsupportedChainError, match=r"^Unsupported chain: True$"):
        chain_by_id(True)


@given(name=st.text(max_size=30))
def test_any_string_that_is_not_a_key_is_unsupported_with_exactly_the_required_text(name):
    if name.strip().lower() in CHAINS_BY_KEY:
        assert chain_by_key(name).key == name.strip().lower()
        return
    with pytest.raises(UnsupportedChainError) as excinfo:
        chain_by_key(name)
    assert str(excinfo.value) == f"Unsupported chain: {name}"


@pytest.mark.parametrize(("key", "env"), [(row[0], row[4]) for row in LIVE_CHAINS])
def test_the_rpc_url_comes_from_the_chain_variable_only(key, env):
    info = chain_by_key(key)
    others = {row[4]: "https://other.example" for row in LIVE_CHAINS if row[4] != env}
    assert rpc_url(info, others) is None
    assert rpc_url(info, {**others, env: "   "}) is None
    assert rpc_url(info, {**others, env: " https://rpc.example/v2/key "}) == "https://rpc.example/v2/key"


def test_the_rpc_url_is_read_from_the_process_environment_by_default(monkeypatch):
    monkeypatch.setenv("BSC_TESTNET_RPC_URL", "https://bsc-testnet.example")
    assert rpc_url(chain_by_key("bsc-testnet")) == "https://bsc-testnet.example"
    monkeypatch.delenv("BSC_TESTNET_RPC_URL")
    assert rpc_url(chain_by_key("bsc-testnet")) is None


def test_deployment_addresses_come_from_the_record_of_the_chain(tmp_path):
    lbc, box = "0x" + "11" * 20, "0x" + "22" * 20
    record = DeploymentRecord(chain_id=56, genesis_hash="0x" + "00" * 32)
    record = record.with_contract(
        "LBCToken", ContractRecord(address=lbc, tx_hash="0x" + "ab" * 32, block_number=7)
    )
    save_record(tmp_path, record.with_contract("LBCLockbox", ContractRecord(address=box)))

    assert deployment_addresses(chain_by_key("bsc"), tmp_path) == {"LBCToken": lbc, "LBCLockbox": box}
    assert deployment_addresses(chain_by_key("bsc-testnet"), tmp_path) == {}
    assert deployment_addresses(chain_by_key("polygon"), tmp_path / "missing") == {}


def test_a_record_naming_another_chain_is_an_error_not_addresses(tmp_path):
    save_record(tmp_path, DeploymentRecord(chain_id=1, genesis_hash="0x" + "00" * 32))
    (tmp_path / "1.json").rename(tmp_path / "56.json")
    with pytest.raises(DeploymentRecordError, match="records chain 1, but its name says chain 56"):
        deployment_addresses(chain_by_key("bsc"), tmp_path)
