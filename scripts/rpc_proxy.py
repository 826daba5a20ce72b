"""`ape run rpc_proxy --chain polygon --port 8545`: a local JSON-RPC proxy in front of a chain's RPC pool.

The pool's nodes come from `--urls` or the chain's RPC variable (`POLYGON_RPC_URL=url1,url2,url3`). Any client
then uses one URL, http://127.0.0.1:8545 (ape: `--network polygon:mainnet:http://127.0.0.1:8545`), and gets
the pool's rules: reads fail over, sends go to exactly one node (sticky per sender), unhealthy, lagging and
wrong-chain nodes are left out. `GET /metrics` serves Prometheus metrics, `GET /health` each node's state.
Ctrl-C (or SIGTERM) stops it. Needs no ape network: it connects to nothing but its nodes.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Sequence

import click
from rich.console import Console
from rich.live import Live
from rich.table import Table

from link_ops.cli.console import make_console
from link_ops.cli.errors import user_errors
from link_ops.exceptions import ConfigurationError
from link_ops.model.chains import ChainInfo, chain_by_key
from link_ops.rpc import PoolSettings, RpcPool, UpstreamStatus, parse_urls, urls_from_env
from link_ops.rpc.proxy import RpcProxy


def _chain(_ctx: click.Context, _param: click.Parameter, value: str) -> ChainInfo:
    try:
        return chain_by_key(value)
    except ConfigurationError as exc:
        raise click.BadParameter(f"{exc}; {getattr(exc, 'hint', '')}".rstrip("; ")) from None


def _table(chain: ChainInfo, url: str, statuses: Sequence[UpstreamStatus]) -> Table:
    usable = sum(s.state.value == "healthy" for s in statuses)
    table = Table(title=f"{chain.name} through {url}: {usable} of {len(statuses)} upstreams usable")
    for column in ("upstream", "state", "head", "lag", "in flight", "latency ms", "requests", "last error"):
        table.add_column(column, justify="left" if column in ("upstream", "state", "last error") else "right")
    colours = {"healthy": "green", "lagging": "yellow", "unhealthy": "red", "wrong_chain": "red bold"}
    for s in statuses:
        colour = colours.get(s.state.value, "white")
        table.add_row(
            s.name,
            f"[{colour}]{s.state.value}",
            "-" if s.head is None else f"{s.head:,}",
            "-" if s.head_lag is None else str(s.head_lag),
            str(s.in_flight),
            "-" if s.latency_ewma_s is None else f"{s.latency_ewma_s * 1000:.1f}",
            f"{s.requests:,}",
            "" if s.state.value == "healthy" else (s.last_error or "")[:60],
        )
    return table


async def _serve(proxy: RpcProxy, chain: ChainInfo, console: Console, every: float) -> None:
    url = await proxy.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    console.print(
        f"serving {chain.name} (chain {chain.chain_id}) JSON-RPC on {url} through "
        f"{len(proxy.pool.names)} upstreams\nmetrics {url}/metrics, health {url}/health; Ctrl-C stops",
        highlight=False,
    )
    try:
        if console.is_terminal:
            with Live(_table(chain, url, proxy.pool.status()), console=console, auto_refresh=False) as live:
                while not stop.is_set():
                    live.update(_table(chain, url, proxy.pool.status()), refresh=True)
                    await _wait(stop, every)
        else:  # logs: one line whenever a node's state changes
            seen: tuple[str, ...] = ()
            while not stop.is_set():
                states = tuple(f"{s.name} {s.state.value}" for s in proxy.pool.status())
                if states != seen:
                    console.print("upstreams: " + ", ".join(states), highlight=False)
                    seen = states
                await _wait(stop, min(every, 1.0))
    finally:
        statuses = proxy.pool.status()
        await proxy.stop()
        console.print(_table(chain, url, statuses))
        console.print("stopped", highlight=False)


async def _wait(event: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(event.wait(), timeout=seconds)


@click.command()
@click.option(
    "--chain", "chain", default="polygon", show_default=True, callback=_chain, help="the chain, by key"
)
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8545, show_default=True, help="0: any free port"
)
@click.option("--host", default="127.0.0.1", show_default=True, help="the address to listen on")
@click.option("--urls", default=None, help="the nodes, comma-separated (default: the chain's RPC variable)")
@click.option("--check-interval", type=float, default=30.0, show_default=True, help="seconds between checks")
@click.option("--check-timeout", type=float, default=10.0, show_default=True, help="seconds a check may take")
@click.option("--unhealthy-after", type=int, default=3, show_default=True, help="failures in a row")
@click.option("--healthy-after", type=int, default=2, show_default=True, help="successes in a row")
@click.option(
    "--max-lag", type=int, default=10, show_default=True, help="blocks behind the second-highest head"
)
@click.option("--request-timeout", type=float, default=30.0, show_default=True, help="seconds per attempt")
@click.option(
    "--status-every", type=float, default=2.0, show_default=True, help="seconds between status updates"
)
def cli(
    chain: ChainInfo,
    port: int,
    host: str,
    urls: str | None,
    check_interval: float,
    check_timeout: float,
    unhealthy_after: int,
    healthy_after: int,
    max_lag: int,
    request_timeout: float,
    status_every: float,
) -> None:
    """Serve a chain's RPC pool on one local URL."""
    console = make_console()
    with user_errors():
        nodes = parse_urls(urls, source="--urls") if urls is not None else urls_from_env(chain)
        settings = PoolSettings.build(
            check_interval_s=check_interval,
            check_timeout_s=check_timeout,
            unhealthy_after=unhealthy_after,
            healthy_after=healthy_after,
            max_head_lag_blocks=max_lag,
            request_timeout_s=request_timeout,
        )
        pool = RpcPool(chain.chain_id, nodes, settings, chain_label=chain.key)
        asyncio.run(_serve(RpcProxy(pool, host=host, port=port), chain, console, max(status_every, 0.1)))
