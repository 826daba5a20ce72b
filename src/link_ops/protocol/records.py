"""Deployment records: ``deployments/<chain_id>.json``, written atomically.

A record lists each contract deployed on one chain (address, transaction, block) and whether the protocol's
wiring finished. It is rewritten whole after every step through a temporary file and ``os.replace``, so a
reader never sees a partial file, and a deployment interrupted between steps leaves a record that the
next run resumes from. Pure module: no ape, no network.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from link_ops.exceptions import DeploymentRecordError
from link_ops.model.chains import ChainInfo


class ContractRecord(BaseModel):
    """One deployed contract."""

    address: str
    tx_hash: str | None = None
    block_number: int | None = None


class DeploymentRecord(BaseModel):
    """Everything link-ops deployed on one chain."""

    chain_id: int
    genesis_hash: str = Field(description="hash of block 0: tells a restarted local chain from the old one")
    contracts: dict[str, ContractRecord] = Field(default_factory=dict)
    admin: str | None = Field(default=None, description="who holds every admin role once wiring finished")
    complete: bool = False
    guardian: str | None = Field(
        default=None, description="who may pause at once (PAUSER_ROLE); unpausing goes through the timelock"
    )
    updated_at: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))

    def with_contract(self, name: str, contract: ContractRecord) -> DeploymentRecord:
        """A copy with `name` recorded as `contract`."""
        return self.model_copy(update={"contracts": {**self.contracts, name: contract}})


#: Overrides where records live (default: the project's ``deployments/`` folder).
DEPLOYMENTS_DIR_ENV = "LINK_OPS_DEPLOYMENTS_DIR"


def deployments_directory(project_path: Path) -> Path:
    """Where records live: ``$LINK_OPS_DEPLOYMENTS_DIR`` when set, else ``<project>/deployments``."""
    override = os.environ.get(DEPLOYMENTS_DIR_ENV, "").strip()
    return Path(override) if override else project_path / "deployments"


def record_path(directory: Path, chain_id: int) -> Path:
    """Where the record of `chain_id` lives inside `directory`."""
    return directory / f"{chain_id}.json"


def load_record(directory: Path, chain_id: int) -> DeploymentRecord | None:
    """The record of `chain_id`, or None when there is none.

    Raises :class:`DeploymentRecordError` when the file is not a valid record, or belongs to another chain.
    """
    path = record_path(directory, chain_id)
    if not path.exists():
        return None
    try:
        record = DeploymentRecord.model_validate_json(path.read_text())
    except (ValidationError, ValueError) as exc:
        raise DeploymentRecordError(
            f"{path} is not a valid deployment record ({exc.__class__.__name__}: {exc}). "
            "Restore it from version control, or move it away to deploy afresh."
        ) from exc
    if record.chain_id != chain_id:
        raise DeploymentRecordError(
            f"{path} records chain {record.chain_id}, but its name says chain {chain_id}. "
            f"Rename it to {record.chain_id}.json or restore the right file."
        )
    return record


def save_record(directory: Path, record: DeploymentRecord) -> Path:
    """Writes `record` whole and atomically; returns its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = record_path(directory, record.chain_id)
    record = record.model_copy(update={"updated_at": datetime.now(timezone.utc)})
    payload = json.dumps(json.loads(record.model_dump_json()), indent=2, sort_keys=True) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def deployment_addresses(info: ChainInfo, deployments_dir: Path) -> dict[str, str]:
    """What link-ops deployed on `info`'s chain, by contract name (``{"LBCToken": "0x…"}``).

    Read from ``<deployments_dir>/<chain_id>.json``; empty when there is no record. Raises
    :class:`~link_ops.exceptions.DeploymentRecordError` when the record is unreadable or names another chain.
    """
    record = load_record(deployments_dir, info.chain_id)
    if record is None:
        return {}
    return {name: contract.address for name, contract in record.contracts.items()}
