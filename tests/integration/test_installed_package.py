"""link_ops as other tools use it: the built wheel, installed into a fresh venv (`pip install
'<wheel>[foundry]'`, every dependency from the registry, none from this checkout), driven from a folder that
is another ape project (no contracts of its own), and read by a plain web3.py client; its operations store
migrated by the Alembic scripts the wheel carries."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from _ape import ROOT

# Runs in the other project's folder, with only the installed wheel to find link_ops in.
CLIENT = """
import sys
from pathlib import Path

import link_ops
from ape import accounts, chain, networks
from web3 import HTTPProvider, Web3

from link_ops import contracts
from link_ops.protocol.deploy import deploy_protocol, load_protocol

installed = Path(sys.prefix).resolve()
assert Path(link_ops.__file__).resolve().is_relative_to(installed), link_ops.__file__
assert "link-ops" not in " ".join(sys.path), sys.path  # nothing from the checkout

with networks.parse_network_choice("polygon:local:foundry"):
    admin, holder = accounts.test_accounts[0], accounts.test_accounts[1]
    records = Path("records")
    deployed = deploy_protocol(admin, deployments_dir=records)
    deployed.cubes.mintBatch(holder, 2, 3, sender=admin)
    chain.mine(timestamp=chain.pending_timestamp + 1_000)
    deployed.cubes.batchClaimRewards([1, 2, 3], sender=holder)
    paid = int(deployed.lbc.balanceOf(holder))
    assert paid > 0

    again = load_protocol(deployments_dir=records)
    assert again.cubes.address == deployed.cubes.address and again.lbc.address == deployed.lbc.address

    web3 = Web3(HTTPProvider(chain.provider.uri))
    cubes = web3.eth.contract(address=deployed.cubes.address, abi=contracts.abi("OptimizedCubeManagement"))
    assert cubes.functions.ownerOf(2).call() == holder.address
    lbc = web3.eth.contract(address=deployed.lbc.address, abi=contracts.abi("LBCToken"))
    assert lbc.functions.balanceOf(holder.address).call() == paid
    print(f"claimed {paid} wei; ownerOf(2) read by web3.py")

# The operations store migrates a new database with the scripts the wheel carries.
from link_ops.store import OpsStore
from link_ops.store.migrate import MIGRATIONS_DIR, current_revision, head_revision

assert MIGRATIONS_DIR.resolve().is_relative_to(installed), MIGRATIONS_DIR
url = f"sqlite:///{Path('ops.db').resolve()}"
with OpsStore(url) as store:
    store.relayer.record_scan(137, "0x" + "11" * 20, 5, [])
assert current_revision(url) == head_revision()
with OpsStore(url) as store:
    assert store.relayer.relayer_cursor(137, "0x" + "11" * 20) == 5
print(f"ops store migrated to revision {head_revision()}")

# The watchtower's library: the index reads the Safe's events (its ABI from ape-safe's manifest), and an
# alert is stored once and forms an incident.
from link_ops.index.catalog import Catalog
from link_ops.watch import Alert, Severity

assert len(Catalog().topics(["SafeL2"])) >= 5
alert = Alert(
    rule="role-granted",
    source="intrusion",
    severity=Severity.CRITICAL,
    summary="MINTER_ROLE on LBCToken granted to a stranger",
    key="role-granted:137:0xab:1",
    subject="0x" + "ba" * 20,
)
with OpsStore(url) as store:
    [raised] = store.watch.raise_alerts([alert])
    [again] = store.watch.raise_alerts([alert])
    [incident] = store.watch.incidents()
assert (raised.outcome, again.outcome) == ("new", "known") and incident.severity is Severity.CRITICAL
print("watch: one alert, one incident")
"""

OTHER_PROJECT_CONFIG = """\
name: another-tool
default_ecosystem: polygon
polygon:
  default_network: local
  local:
    default_provider: foundry
foundry:
  host: auto
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # setuptools builds in the checkout's build/ and keeps what an earlier build put there: a contract
    # artifact since renamed would ship again. The wheel is built from what the tree holds now.
    for stale in (ROOT / "build" / "lib", *(ROOT / "build").glob("bdist.*")):
        shutil.rmtree(stale, ignore_errors=True)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-w",
            str(out),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    [built] = out.glob("link_ops-*.whl")
    return built


def test_wheel__carries_every_packaged_contract_type(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    packaged = {Path(n).name for n in names if n.startswith("link_ops/contracts/artifacts/")}
    expected = {p.name for p in (ROOT / "src/link_ops/contracts/artifacts").glob("*.json")}
    assert packaged == expected and "OptimizedCubeManagement.json" in packaged


def test_wheel__carries_the_store_migrations(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    source = ROOT / "src/link_ops/store/migrations"
    expected = {
        f"link_ops/store/migrations/{p.relative_to(source).as_posix()}"
        for p in [*source.glob("*.py"), source / "script.py.mako", *source.glob("versions/*.py")]
    }
    assert "link_ops/store/migrations/versions/0001_baseline.py" in expected
    assert expected <= names


def test_installed_wheel__another_project_deploys_mints_claims_reloads_and_web3_reads(wheel, tmp_path):
    venv = tmp_path / "venv"
    # No pip of its own: this checkout's pip installs into it (`pip --python`), faster than the old pip
    # that `venv` bundles, and the venv is as empty as a new one gets.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=600)
    python = venv / "bin" / "python"
    # The versions this checkout is tested with (requirements.lock) as constraints; pip fetches them.
    pip = [
        sys.executable,
        "-m",
        "pip",
        "--python",
        str(python),
        "install",
        "--quiet",
        "--no-compile",
        "-c",
        str(ROOT / "requirements.lock"),
    ]
    install = subprocess.run(
        [*pip, f"{wheel}[foundry]"],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    other = tmp_path / "another-tool"
    other.mkdir()
    (other / "ape-config.yaml").write_text(OTHER_PROJECT_CONFIG)
    (other / "client.py").write_text(CLIENT)
    anvil = shutil.which("anvil")
    assert anvil is not None, "anvil is not on PATH: run make setup"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["APE_DATA_FOLDER"] = str(tmp_path / "ape-data")
    env["PATH"] = os.pathsep.join([str(venv / "bin"), str(Path(anvil).parent), "/usr/bin", "/bin"])
    done = subprocess.run(
        [str(python), "client.py"],
        cwd=other,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ownerOf(2) read by web3.py" in done.stdout
    assert (other / "records" / "31337.json").is_file()
    assert "ops store migrated to revision" in done.stdout
    assert "watch: one alert, one incident" in done.stdout
    current = subprocess.run(
        [str(python), "-m", "link_ops.store", "current", "--url", f"sqlite:///{other / 'ops.db'}"],
        cwd=other,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert current.returncode == 0, current.stdout + current.stderr
    assert "(head)" in current.stdout
