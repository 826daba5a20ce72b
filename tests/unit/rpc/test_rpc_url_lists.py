"""What reads the RPC variables keeps working when they list several URLs (``POLYGON_RPC_URL=url1,url2``):
a fork is taken from the first node answering as the chain, and what takes one URL (ape's node provider, the
bridge's connections) says so in one line and names the proxy instead of passing ``a,b`` on as a URL."""

from __future__ import annotations

import pytest
from _ape import error_lines, run_ape_here

from link_ops.exceptions import UpstreamError
from link_ops.fork import FORK_TARGETS, free_port, upstream_from_env

MAINNET = FORK_TARGETS["mainnet"]


def test_fork_upstream__url_list__is_the_first_url_answering_as_the_chain(nodes):
    wrong, right, also_right = nodes(3)
    wrong.chain_id = 1
    dead = f"http://127.0.0.1:{free_port()}"
    value = f"{dead}, {wrong.url},{right.url},{also_right.url}"

    assert upstream_from_env(MAINNET, {"POLYGON_RPC_URL": value}, timeout=30) == right.url


def test_fork_upstream__url_list_with_no_working_url__names_every_failure(nodes):
    (wrong,) = nodes(1, chain_id=80002)
    dead = f"http://127.0.0.1:{free_port()}"

    with pytest.raises(UpstreamError) as raised:
        upstream_from_env(MAINNET, {"POLYGON_RPC_URL": f"{dead},{wrong.url}"}, timeout=30)

    message = str(raised.value)
    assert message.startswith("none of the 2 URLs in POLYGON_RPC_URL can be forked")
    assert "did not answer eth_chainId (connection failed)" in message and "points at chain 80002" in message


def test_fork_upstream__bad_url_in_a_list__is_an_upstream_error():
    with pytest.raises(UpstreamError, match="not an http:// or https:// URL"):
        upstream_from_env(MAINNET, {"POLYGON_RPC_URL": "https://a.example,b.example"})


def test_node_network__url_list__is_refused_in_one_line_naming_the_proxy():
    done = run_ape_here(
        "run",
        "held",
        "--network",
        "polygon:mainnet:node",
        env={"POLYGON_RPC_URL": "https://a.example,https://b.example"},
    )
    assert done.returncode != 0
    [line] = error_lines(done)
    assert line.startswith("Error: POLYGON_RPC_URL lists several URLs, and ape's node provider takes one")
    assert "ape run rpc_proxy --chain polygon --port 8545" in line
