"""A local stand-in for Polygon, and the fork session of the test suite and the gas bench.

Where no Polygon RPC is reachable (CI, an offline laptop), :class:`LocalUpstream` starts an anvil on
loopback with Polygon's chain id to play the upstream: the test session deploys the protocol on it with
``ape run deploy`` as the "live" deployment (:func:`open_fork_session`), and forks it exactly as it would
fork Polygon. Testing only: the library never imports this module.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import requests

from link_ops.exceptions import UpstreamError
from link_ops.fork import ForkTarget, _rpc, redact, rpc_chain_id, upstream_from_env, use_upstream
from link_ops.protocol.records import DEPLOYMENTS_DIR_ENV

#: Base fee the stand-in starts with, in gwei: about what Polygon PoS charges on a quiet day.
STAND_IN_BASE_FEE_GWEI = 30


#: Who governs the stand-in's "live" deployment: an address nobody holds the key of (like a multisig), so
#: whatever needs the admin on the fork must impersonate it, as it must against Polygon.
STAND_IN_ADMIN = "0x000000000000000000000000000000000000a11C"


#: The line anvil prints once it has bound its port.
_LISTENING = re.compile(r"Listening on [0-9.]+:(\d+)")

#: Lines of anvil's output kept to explain a failed start.
_OUTPUT_KEPT = 40


def _read_output(
    process: subprocess.Popen[bytes], listening: queue.Queue[int | None], kept: list[str]
) -> None:
    """Reads anvil's output until it ends: puts the port of its "Listening on" line into `listening` (None if
    it ends first) and keeps the first lines in `kept`; the rest (a line per request) is drained so that
    anvil never blocks on a full pipe."""
    assert process.stdout is not None
    named = False
    with process.stdout:
        for raw in process.stdout:
            line = raw.decode(errors="replace")
            if not named:
                if len(kept) < _OUTPUT_KEPT:
                    kept.append(line)
                if match := _LISTENING.search(line):
                    listening.put(int(match.group(1)))
                    named = True
    if not named:
        listening.put(None)


class LocalUpstream:
    """An anvil on loopback playing `chain_id`: the upstream of a fork when no real RPC is at hand.

    Use it as a context manager; the process is stopped and its port released on exit, whatever happened
    inside::

        with LocalUpstream(137) as upstream:
            use_upstream(FORK_TARGETS["mainnet"], upstream.url)
    """

    def __init__(
        self,
        chain_id: int = 137,
        *,
        anvil: str = "anvil",
        base_fee_gwei: int = STAND_IN_BASE_FEE_GWEI,
        block_time: int | None = None,
        startup_timeout: float = 30.0,
    ) -> None:
        self.chain_id = chain_id
        self.anvil = anvil
        self.base_fee_gwei = base_fee_gwei
        self.block_time = block_time
        self.startup_timeout = startup_timeout
        self.port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        if self.port is None:
            raise UpstreamError("the local upstream is not running: start() it first")
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> LocalUpstream:
        if self.running:
            return self
        executable = shutil.which(self.anvil)
        if executable is None:
            raise UpstreamError(
                f"`{self.anvil}` is not on PATH, so no local stand-in for chain {self.chain_id} can start: "
                "run `make setup` (it links anvil into .venv/bin) and activate .venv"
            )
        # Port 0: anvil binds a port the kernel picks and says which in its "Listening on" line. A port
        # probed free beforehand can be taken by another process (another test's anvil, playing the same
        # chain) before anvil binds it, and this stand-in would then answer with someone else's chain.
        command = [executable, "--host", "127.0.0.1", "--port", "0"]
        command += ["--chain-id", str(self.chain_id), "--base-fee", str(self.base_fee_gwei * 10**9)]
        if self.block_time:
            command += ["--block-time", str(self.block_time)]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self._process = process
        listening: queue.Queue[int | None] = queue.Queue()
        output: list[str] = []
        threading.Thread(target=_read_output, args=(process, listening, output), daemon=True).start()
        error = self._wait_until_ready(listening, output)
        if error is not None:
            self.stop()
            raise UpstreamError(f"the local stand-in anvil for chain {self.chain_id} did not start: {error}")
        return self

    def _wait_until_ready(self, listening: queue.Queue[int | None], output: list[str]) -> str | None:
        assert self._process is not None
        deadline = time.monotonic() + self.startup_timeout
        try:
            port = listening.get(timeout=self.startup_timeout)
        except queue.Empty:
            return f"anvil named no port within {self.startup_timeout:.0f} s"
        if port is None:
            self._process.wait()
            return f"anvil exited with {self._process.returncode}: {''.join(output).strip()[-500:]}"
        self.port = port
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return f"anvil exited with {self._process.returncode}: {''.join(output).strip()[-500:]}"
            try:
                if rpc_chain_id(self.url, timeout=1.0) == self.chain_id:
                    return None
            except (OSError, ValueError, requests.RequestException):
                pass
            time.sleep(0.05)
        return f"no answer on {self.url} within {self.startup_timeout:.0f} s"

    def freeze(self) -> int:
        """Stops mining new blocks (for a chain started with `block_time`); returns the block number."""
        _rpc(self.url, "evm_setIntervalMining", [0])
        _rpc(self.url, "evm_setAutomine", [False])
        return int(_rpc(self.url, "eth_blockNumber", []), 16)

    def stop(self) -> None:
        """Stops anvil and waits until it has gone (killing it if it does not stop within 5 s)."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        self.port = None

    def __enter__(self) -> LocalUpstream:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@dataclass
class ForkSession:
    """The upstream a fork session uses: a checked real RPC, or a stand-in this session started.

    While open, ``$<target.env_var>`` names the upstream (so ape subprocesses fork it too) and, with a
    stand-in, ``$LINK_OPS_DEPLOYMENTS_DIR`` names the folder holding the stand-in's deployment record.
    :meth:`close` stops the stand-in and restores both variables.
    """

    target: ForkTarget
    url: str
    stand_in: LocalUpstream | None = None
    deployments_dir: Path | None = None
    frozen_at_block: int | None = None
    _saved_env: dict[str, str | None] = field(default_factory=dict)
    _tmp: tempfile.TemporaryDirectory[str] | None = None

    def _set_env(self, name: str, value: str) -> None:
        self._saved_env.setdefault(name, os.environ.get(name))
        os.environ[name] = value

    def close(self) -> None:
        try:
            if self.stand_in is not None:
                self.stand_in.stop()
        finally:
            for name, value in self._saved_env.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            self._saved_env.clear()
            if self._tmp is not None:
                self._tmp.cleanup()
                self._tmp = None

    def __enter__(self) -> ForkSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def deploy_with_script(
    target: ForkTarget, url: str, deployments_dir: Path, *, project_path: Path, admin: str
) -> None:
    """Runs ``ape run deploy --confirm`` against the node at `url` as `target`'s live deployment.

    The record goes to `deployments_dir`; ape's own caches of that run (contract types, the deployments map
    it keeps for live networks) go to a folder beside it, not to ``~/.ape``, where they would later be taken
    for the real network's.
    """
    ape = Path(sys.executable).with_name("ape")
    network = f"{target.live_choice}:{url}"
    command = [str(ape) if ape.exists() else "ape", "run", "deploy", "--network", network]
    # The stand-in mines a block per transaction and none after it: nothing to wait for.
    command += ["--account", "TEST::0", "--admin", admin, "--confirm", "--no-confirmations"]
    ape_data = deployments_dir.parent / f"{deployments_dir.name}-ape-data"
    ape_data.mkdir(exist_ok=True)
    env = {**os.environ, DEPLOYMENTS_DIR_ENV: str(deployments_dir), "APE_DATA_FOLDER": str(ape_data)}
    done = subprocess.run(command, cwd=project_path, env=env, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise UpstreamError(
            "`ape run deploy` could not deploy the protocol on the local stand-in "
            f"(exit {done.returncode}):\n{(done.stdout + done.stderr)[-3000:]}"
        )


#: ``acceptDefaultAdminTransfer()``: the second step of AccessControlDefaultAdminRules' hand-over.
_ACCEPT_DEFAULT_ADMIN = "0xcefc1429"


def accept_admin_on_stand_in(url: str, deployments_dir: Path, admin: str, chain_id: int) -> None:
    """Completes the stand-in's two-step hand-over: its clock moves past the contracts' admin delay and
    `admin` (impersonated: nobody holds its key) accepts the default admin role of each recorded contract,
    as the multisig would on Polygon."""
    from link_ops.protocol.records import load_record

    record = load_record(deployments_dir, chain_id)
    if record is None:
        raise UpstreamError(f"`ape run deploy` left no record of chain {chain_id} in {deployments_dir}")
    # From the last block's time, not the wall clock: a block per transaction puts the chain's clock ahead
    # of the wall clock when the deployment sends more than one transaction a second.
    latest = int(_rpc(url, "eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
    _rpc(url, "evm_setNextBlockTimestamp", [latest + 2 * 86_400 + 1])
    _rpc(url, "evm_mine", [])
    _rpc(url, "anvil_impersonateAccount", [admin])
    _rpc(url, "anvil_setBalance", [admin, hex(10**20)])
    for name in ("LBCToken", "OptimizedCubeManagement", "PartnerFactory"):
        tx = {"from": admin, "to": record.contracts[name].address, "data": _ACCEPT_DEFAULT_ADMIN}
        tx_hash = _rpc(url, "eth_sendTransaction", [tx])
        deadline = time.monotonic() + 60  # anvil answers the send before it stores the block
        while (
            receipt := _rpc(url, "eth_getTransactionReceipt", [tx_hash])
        ) is None and time.monotonic() < deadline:
            time.sleep(0.01)
        if receipt is None or int(receipt["status"], 16) != 1:
            raise UpstreamError(f"{admin} could not accept the default admin role of {name} on the stand-in")
    _rpc(url, "anvil_stopImpersonatingAccount", [admin])


def open_fork_session(
    target: ForkTarget,
    *,
    project_path: Path,
    deploy: bool = True,
    say: Callable[[str], None] | None = None,
) -> ForkSession:
    """The upstream for forking `target`: ``$<env_var>`` when set (checked), else a fresh stand-in.

    A stand-in is an anvil on loopback with the target's chain id; with `deploy` the protocol is deployed on
    it with the project's own ``ape run deploy`` script (recorded in a temporary ``<chain_id>.json``; a block
    per transaction, no confirmations waited for), after which it mines no more blocks, so a fork of it can be
    checked against it. Always close the session (or
    use it in ``with``).
    """
    report = say or (lambda _line: None)
    if os.environ.get(target.env_var, "").strip():
        url = upstream_from_env(target)
        report(f"forking {target.live_choice} from ${target.env_var} ({redact(url)})")
        use_upstream(target, url)
        return ForkSession(target, url)

    stand_in = LocalUpstream(target.chain_id)
    session = ForkSession(target, "", stand_in)
    try:
        stand_in.start()
        session.url = stand_in.url
        report(f"${target.env_var} is not set: a local anvil as chain {target.chain_id} plays the upstream")
        if deploy:
            session._tmp = tempfile.TemporaryDirectory(prefix="link-ops-stand-in-")
            session.deployments_dir = Path(session._tmp.name) / "deployments"
            session.deployments_dir.mkdir()
            report("deploying the protocol on it with `ape run deploy --confirm`")
            deploy_with_script(
                target, stand_in.url, session.deployments_dir, project_path=project_path, admin=STAND_IN_ADMIN
            )
            accept_admin_on_stand_in(stand_in.url, session.deployments_dir, STAND_IN_ADMIN, target.chain_id)
            session._set_env(DEPLOYMENTS_DIR_ENV, str(session.deployments_dir))
        session.frozen_at_block = stand_in.freeze()
        session._set_env(target.env_var, stand_in.url)
        use_upstream(target, stand_in.url)
    except BaseException:
        session.close()
        raise
    return session
