"""Deploying and wiring the core protocol: LBCToken and OptimizedCubeManagement.

:func:`deploy_protocol` converges a chain onto a complete deployment: it reuses what
``deployments/<chain_id>.json`` records and is live, deploys what is missing, finishes the wiring (the cube
contract holds LBC's MINTER_ROLE, tier rates set, roles handed to the admin) and records every step
atomically, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ape import chain, project
from ape.contracts import ContractInstance
from eth_utils.address import is_address, to_checksum_address
from eth_utils.crypto import keccak

from link_ops import contracts
from link_ops.exceptions import (
    ConfigurationError,
    DeploymentRecordError,
    MissingAccountError,
    RecordedContractMissingError,
    RoleError,
    WrongChainError,
)
from link_ops.model import layout
from link_ops.model.chains import CHAINS, ChainInfo, chain_by_id, chain_name, is_local_chain
from link_ops.protocol.records import (
    ContractRecord,
    DeploymentRecord,
    deployments_directory,
    load_record,
    record_path,
    save_record,
)

if TYPE_CHECKING:  # link_ops.governance reads records from this package: imported where used
    from link_ops.governance.setup import GovernanceSettings
    from link_ops.governance.timelock import Governance

#: Default hard cap of LBC: one billion LBC.
DEFAULT_LBC_CAP = 1_000_000_000 * 10**18


#: Default rates in LBC wei per second per cube, tiers 0..3 (about 0.95, 2, 5 and 10 LBC a day).
DEFAULT_TIER_RATES: tuple[int, ...] = (11 * 10**12, 23 * 10**12, 58 * 10**12, 116 * 10**12)


#: Gas limit of ``setTierRate``. Its cost depends on the block it lands in: a change in the same second as
#: the tier's last one rewrites that checkpoint (about 39,000 gas), a later one appends a new checkpoint
#: (about 20,000 more). An estimate made in the first case runs out of gas in the second, which is what
#: happens when a deployment's transactions land a block later than estimated. Unused gas is not paid.
SET_TIER_RATE_GAS_LIMIT = 100_000


LBC = "LBCToken"


CUBES = "OptimizedCubeManagement"


FACTORY = "PartnerFactory"


Reporter = Callable[[str], None]


@dataclass(frozen=True)
class SentTransaction:
    """One transaction a deployment sent: what it did and what it cost."""

    step: str
    tx_hash: str
    gas_used: int
    gas_price: int

    @property
    def fee(self) -> int:
        """What the sender paid, in wei of the chain's native token."""
        return self.gas_used * self.gas_price


@dataclass
class Protocol:
    """A live deployment of the core protocol on one chain."""

    lbc: ContractInstance
    cubes: ContractInstance
    partner_factory: ContractInstance
    chain_id: int
    admin: str | None
    record_file: Path | None = None
    reused: bool = False
    #: What this run sent, in order (empty when everything was reused).
    transactions: list[SentTransaction] = field(default_factory=list)
    #: A rehearsal: the record was read but not written (always so on a fork).
    dry_run: bool = False
    #: The timelock and Safe holding the admin roles, for a governed deployment.
    governance: Governance | None = None

    @property
    def gas_used(self) -> int:
        return sum(t.gas_used for t in self.transactions)


def validate_tier_rates(tier_rates: Sequence[int] | None) -> tuple[int, ...]:
    """`tier_rates` (wei per second, one per tier) checked against the contract's rules."""
    rates = DEFAULT_TIER_RATES if tier_rates is None else tuple(int(r) for r in tier_rates)
    problems = []
    if len(rates) != layout.TIERS:
        problems.append(f"expected {layout.TIERS} rates (one per tier), got {len(rates)}")
    max_rate = layout.RATE_MASK * layout.UNIT
    for tier, rate in enumerate(rates):
        if rate < 0 or rate % layout.UNIT or rate > max_rate:
            problems.append(
                f"tier {tier}: {rate} wei/s must be a multiple of {layout.UNIT} between 0 and {max_rate}"
            )
    if problems:
        raise ConfigurationError("invalid tier_rates: " + "; ".join(problems))
    return rates


def check_core_chain(info: ChainInfo) -> None:
    """Refuses a chain where the core (LBC, CUBE, the partner factory) does not belong: only the home
    chains (Polygon, Amoy) and local development chains hold it."""
    if info.is_home or info.is_local:
        return
    homes = ", ".join(c.key for c in CHAINS.values() if c.is_home)
    raise ConfigurationError(
        f"the protocol's core (LBC, CUBE, the partner factory) lives on the home chains ({homes}); "
        f"{info.name} ({info.chain_id}) is a remote chain, bridged to {info.home_key}. Deploy the core on "
        f"{info.home_key}, and the bridge's side on {info.key} with `ape run deploy_bridge`."
    )


def deploy_protocol(
    sender: Any,
    *,
    admin: Any = None,
    governance: GovernanceSettings | None = None,
    lbc_cap: int | None = None,
    tier_rates: Sequence[int] | None = None,
    record: bool = True,
    dry_run: bool = False,
    deployments_dir: Path | None = None,
    expected_chain_id: int | None = None,
    report: Reporter | None = None,
) -> Protocol:
    """Deploys (or reuses) LBC, the cube contract and the partner factory, wires them, records them.

    Args:
        sender: the ape account that signs every transaction.
        admin: who governs everything (DEFAULT_ADMIN_ROLE and the cube roles); the sender when None. When
            it differs, the sender deploys and wires, then grants the admin every other role, renounces its
            own, and begins the two-step default-admin transfer, which the admin completes with
            :func:`accept_admin` once the contracts' delay (2 days) has passed.
        governance: a governed deployment instead (:class:`GovernanceSettings`): the Safe's timelock is
            every contract's admin from its constructor on, the deployer wires through the timelock's
            setup phase and, at the end, keeps no role on anything (checked).
        lbc_cap: LBC's hard cap in wei (default :data:`DEFAULT_LBC_CAP`); a recorded token must have it.
        tier_rates: wei per second per tier; applied to a new deployment (defaults then) or when given.
        record: read and write ``deployments/<chain_id>.json``; False deploys afresh and writes nothing.
        dry_run: rehearse: read the record and send what a real run would send, but write nothing. Always
            so on a fork, which shares the chain id (and so the record) of the chain it forks.
        deployments_dir: where records live (default: ``$LINK_OPS_DEPLOYMENTS_DIR``, else the project's
            ``deployments/``).
        expected_chain_id: refuse to act unless connected to this chain.
        report: called with a line for each step taken.

    Refuses, before anything is sent: a chain outside the registry (``Unsupported chain: <id>``) and a
    remote chain (:func:`check_core_chain`), bad caps and rates, a record of another chain.
    """
    say = report or (lambda _line: None)
    if sender is None or not hasattr(sender, "address"):
        raise MissingAccountError(
            "no account to deploy with: pass --account <alias> (list them with `ape accounts list`), "
            "or give an ape account object as `sender`"
        )
    if lbc_cap is not None and int(lbc_cap) <= 0:
        raise ConfigurationError(f"lbc_cap must be a positive amount of wei, got {lbc_cap}")
    rates = validate_tier_rates(tier_rates)
    if governance is not None and admin is not None:
        raise ConfigurationError(
            "give admin= (an account to hand the roles to) or governance= (a Safe and its timelock), not both"
        )
    admin_address = _address_of(admin) if admin is not None else to_checksum_address(sender.address)

    chain_id = chain.chain_id
    if expected_chain_id is not None and chain_id != expected_chain_id:
        raise WrongChainError(
            f"connected to {chain_name(chain_id)} ({chain_id}), expected {chain_name(expected_chain_id)} "
            f"({expected_chain_id}): pass the matching --network"
        )
    check_core_chain(chain_by_id(chain_id))
    directory = deployments_dir or deployments_directory(Path(project.path))
    genesis = _genesis_hash()
    rehearsal = dry_run or _on_fork()
    gov = None
    if governance is not None:
        from link_ops.governance.setup import deploy_governance

        gov = deploy_governance(
            sender,
            safe=_address_of(governance.safe, "the governance Safe"),
            min_delay=governance.min_delay,
            guardian=_address_of(governance.guardian, "the guardian"),
            setup=True,
            record=record and not rehearsal,
            deployments_dir=directory,
            report=say,
        )
        admin_address = gov.address
    rec = load_record(directory, chain_id) if record else None
    if rec is not None and rec.genesis_hash != genesis:
        if not is_local_chain(chain_id):
            raise WrongChainError(
                f"{record_path(directory, chain_id)} was written on a chain with genesis {rec.genesis_hash}, "
                f"but the connected chain {chain_id} has genesis {genesis}: this is another network under "
                "the same chain id. Connect to the recorded network, or move the record away."
            )
        say(f"{record_path(directory, chain_id)} belongs to an earlier local chain: starting a new record")
        rec = None
    was_complete = rec is not None and rec.complete
    rec = rec or DeploymentRecord(chain_id=chain_id, genesis_hash=genesis)
    recorded_before = set(rec.contracts)

    sent: list[SentTransaction] = []

    def save(r: DeploymentRecord) -> DeploymentRecord:
        if record and not rehearsal:
            save_record(directory, r)
        return r

    def track(step: str, receipt: Any) -> None:
        gas_price = getattr(receipt, "gas_price", None) or 0
        sent.append(SentTransaction(step, str(receipt.txn_hash), int(receipt.gas_used), int(gas_price)))
        say(step)

    def ensure(name: str, *args: Any, points_to: tuple[str, str, str] | None = None) -> ContractInstance:
        """The recorded, live `name`, or a new one deployed with `args` and recorded at once.

        `points_to` is (view, other contract, its address): a reused contract must point at it.
        """
        nonlocal rec
        assert rec is not None  # set above; mypy does not carry the narrowing into closures
        instance = _recorded(rec, name, directory)
        if instance is None:
            instance = contracts.deploy(name, sender, *args)
            track(f"deployed {name} at {instance.address}", chain.provider.get_receipt(instance.txn_hash))
            rec = save(rec.with_contract(name, _contract_record(instance)))
        elif points_to is not None:
            view, other, expected = points_to
            actual = getattr(instance, view)()
            if to_checksum_address(actual) != to_checksum_address(expected):
                raise DeploymentRecordError(
                    f"the recorded {name} at {instance.address} has {view}() = {actual}, not the recorded "
                    f"{other} {expected}: restore the right record, or move it away to deploy afresh"
                )
        return instance

    # 1-3. The token, the cube collection, and the partner factory (see link_ops.partners). Governed, the
    # timelock is their admin from the constructor on.
    owner = gov.address if gov is not None else str(sender.address)
    lbc = ensure(LBC, owner, DEFAULT_LBC_CAP if lbc_cap is None else int(lbc_cap))
    if lbc_cap is not None and int(lbc.cap()) != int(lbc_cap):
        raise ConfigurationError(
            f"the recorded {LBC} at {lbc.address} has cap {lbc.cap()}, not {lbc_cap}: "
            "drop lbc_cap to reuse it, or deploy with a new record"
        )
    cubes = ensure(CUBES, owner, lbc.address, points_to=("lbcToken", LBC, str(lbc.address)))
    factory = ensure(FACTORY, owner, cubes.address, points_to=("cubes", CUBES, str(cubes.address)))

    # 4. Wiring, each step only if not yet done (so a re-run after a failure finishes the job).
    if gov is not None and governance is not None:
        _wire_governed(gov, governance, sender, lbc, cubes, factory, rates, rec.complete, tier_rates, track)
        if not rec.complete or rec.admin != gov.address:
            rec = save(rec.model_copy(update={"complete": True, "admin": gov.address}))
        return Protocol(
            lbc=lbc,
            cubes=cubes,
            partner_factory=factory,
            chain_id=chain_id,
            admin=gov.address,
            record_file=record_path(directory, chain_id) if record and not rehearsal else None,
            reused=was_complete and set(rec.contracts) == recorded_before and not sent,
            transactions=sent,
            dry_run=rehearsal,
            governance=gov,
        )
    minter = lbc.MINTER_ROLE()
    if not lbc.hasRole(minter, cubes.address):
        _require_role(lbc, lbc.DEFAULT_ADMIN_ROLE(), sender, "grant LBC's MINTER_ROLE to the cube contract")
        track(f"granted LBC MINTER_ROLE to {CUBES}", lbc.grantRole(minter, cubes.address, sender=sender))
    if not rec.complete or tier_rates is not None:
        for tier, rate in enumerate(rates):
            if int(cubes.tierRate(tier)) != rate:
                _require_role(cubes, cubes.DEFAULT_ADMIN_ROLE(), sender, "set tier rates")
                receipt = cubes.setTierRate(tier, rate, sender=sender, gas_limit=SET_TIER_RATE_GAS_LIMIT)
                track(f"tier {tier} rate set to {rate} wei/s", receipt)
    if to_checksum_address(admin_address) != to_checksum_address(sender.address):
        _hand_over(LBC, lbc, [], sender, admin_address, track)
        cube_roles = ["MINTER_ROLE", "OPERATOR_ROLE", "PAUSER_ROLE"]
        _hand_over(CUBES, cubes, cube_roles, sender, admin_address, track)
        _hand_over(FACTORY, factory, ["ONBOARDER_ROLE"], sender, admin_address, track)

    if not rec.complete or (admin is not None and rec.admin != admin_address):
        rec = save(rec.model_copy(update={"complete": True, "admin": admin_address}))
    return Protocol(
        lbc=lbc,
        cubes=cubes,
        partner_factory=factory,
        chain_id=chain_id,
        admin=admin_address,
        record_file=record_path(directory, chain_id) if record and not rehearsal else None,
        reused=was_complete and set(rec.contracts) == recorded_before,
        transactions=sent,
        dry_run=rehearsal,
    )


def _wire_governed(
    gov: Governance,
    settings: GovernanceSettings,
    sender: Any,
    lbc: ContractInstance,
    cubes: ContractInstance,
    factory: ContractInstance,
    rates: tuple[int, ...],
    complete: bool,
    tier_rates: Sequence[int] | None,
    track: Callable[[str, Any], None],
) -> None:
    """A governed deployment's wiring, through the timelock's setup phase, then the end of that phase."""
    from link_ops.governance.roles import check_no_eoa_roles
    from link_ops.governance.setup import finish_setup, run_through_timelock
    from link_ops.model.governance import Call

    guardian = _address_of(settings.guardian, "the guardian")
    operator = _address_of(settings.operator or settings.safe, "the operator")
    timelock = gov.timelock
    calls: list[tuple[str, Call]] = []

    def grant(contract: ContractInstance, name: str, role_name: str, account: str) -> None:
        role = getattr(contract, role_name)()
        if not contract.hasRole(role, account):
            data = bytes(contract.grantRole.encode_input(role, account))
            calls.append((f"{name}: granted {role_name} to {account}", Call(str(contract.address), data)))

    grant(lbc, LBC, "MINTER_ROLE", str(cubes.address))
    if not complete or tier_rates is not None:
        for tier, rate in enumerate(rates):
            if int(cubes.tierRate(tier)) != rate:
                data = bytes(cubes.setTierRate.encode_input(tier, rate))
                calls.append((f"tier {tier} rate set to {rate} wei/s", Call(str(cubes.address), data)))
    grant(cubes, CUBES, "MINTER_ROLE", operator)
    grant(cubes, CUBES, "OPERATOR_ROLE", operator)
    grant(cubes, CUBES, "PAUSER_ROLE", guardian)
    grant(factory, FACTORY, "ONBOARDER_ROLE", operator)
    if calls:
        # The same calls with the same salt are the same operation: a run interrupted between scheduling
        # and executing finds it and executes it, and no stale operation is left behind for later.
        # Each call at most what a rate change can take (SET_TIER_RATE_GAS_LIMIT), plus the timelock's own.
        gas_limit = 100_000 + SET_TIER_RATE_GAS_LIMIT * len(calls)
        receipt = run_through_timelock(
            timelock, sender, [c for _, c in calls], salt=_salt(calls), gas_limit=gas_limit
        )
        if receipt is not None:
            track("timelock: " + "; ".join(step for step, _ in calls), receipt)
    canceller = timelock.CANCELLER_ROLE()
    if not timelock.hasRole(canceller, guardian):
        _require_role(timelock, timelock.DEFAULT_ADMIN_ROLE(), sender, "make the guardian a canceller")
        track(
            f"timelock: granted CANCELLER_ROLE to the guardian {guardian}",
            timelock.grantRole(canceller, guardian, sender=sender),
        )
    if settings.finish:
        finish_setup(
            timelock,
            sender,
            safe=_address_of(settings.safe, "the governance Safe"),
            min_delay=settings.min_delay,
            allow=[guardian],
            from_block=gov.from_block,
        )
        keys = check_no_eoa_roles(lbc, cubes, factory, timelock, from_block=gov.from_block, allow=[guardian])
        if keys:
            raise RoleError(
                "after the hand-over, keys still hold roles: "
                + "; ".join(str(k) for k in keys)
                + ". Revoke them through the Safe (`ape run govern propose ... revokeRole ...`)"
            )


def _salt(calls: Sequence[tuple[str, Any]]) -> bytes:
    return keccak(b"link-ops deploy_protocol" + b"".join(c.target.encode() + c.data for _, c in calls))


def load_protocol(chain_id: int | None = None, deployments_dir: Path | None = None) -> Protocol:
    """The protocol recorded for the connected chain; raises when there is no complete, live record."""
    chain_id = chain.chain_id if chain_id is None else chain_id
    directory = deployments_dir or deployments_directory(Path(project.path))
    rec = load_record(directory, chain_id)
    if rec is None or not rec.complete:
        raise DeploymentRecordError(
            f"no complete deployment recorded for {chain_name(chain_id)} in {directory}: "
            "run `ape run deploy --network ... --account ...` first"
        )
    lbc = _recorded(rec, LBC, directory)
    cubes = _recorded(rec, CUBES, directory)
    factory = _recorded(rec, FACTORY, directory)
    if lbc is None or cubes is None or factory is None:
        raise DeploymentRecordError(
            f"{record_path(directory, chain_id)} lacks a contract of the protocol: run "
            "`ape run deploy --network ... --account ...` to finish the deployment"
        )
    return Protocol(lbc, cubes, factory, chain_id, rec.admin, record_path(directory, chain_id), reused=True)


def _address_of(who: Any, what: str = "admin") -> str:
    raw = getattr(who, "address", who)
    if not isinstance(raw, str) or not is_address(raw):
        raise ConfigurationError(f"{what} must be an account or a 0x address, got {who!r}")
    return to_checksum_address(raw)


def _genesis_hash() -> str:
    block_hash = chain.blocks[0].hash
    return block_hash.hex() if isinstance(block_hash, bytes) else str(block_hash)


def _contract_record(instance: ContractInstance) -> ContractRecord:
    tx_hash = getattr(instance, "txn_hash", None)
    block = None
    if tx_hash:
        block = chain.provider.get_receipt(tx_hash).block_number
    return ContractRecord(address=str(instance.address), tx_hash=tx_hash, block_number=block)


def _recorded(rec: DeploymentRecord, name: str, directory: Path) -> ContractInstance | None:
    entry = rec.contracts.get(name)
    if entry is None:
        return None
    code = chain.provider.get_code(entry.address)
    if not code or len(code) == 0:
        raise RecordedContractMissingError(
            f"{record_path(directory, rec.chain_id)} records {name} at {entry.address}, but there is no "
            "contract code there on the connected chain: check --network, or move the record away to "
            "deploy afresh"
        )
    return contracts.at(name, entry.address)


def _require_role(contract: ContractInstance, role: bytes, sender: Any, what: str) -> None:
    if not contract.hasRole(role, sender.address):
        raise ConfigurationError(
            f"{sender.address} cannot {what}: it lacks the needed role on {contract.address}; "
            "run again with the admin's account (--account)"
        )


def _hand_over(
    name: str,
    contract: ContractInstance,
    role_names: list[str],
    sender: Any,
    admin: str,
    track: Callable[[str, Any], None],
) -> None:
    """Grants `role_names` to `admin` and renounces the sender's; DEFAULT_ADMIN_ROLE is handed over in
    AccessControlDefaultAdminRules' two steps: begun here, accepted by `admin` after the contract's delay
    (:func:`accept_admin`)."""
    # Grant everything first, start the admin transfer last: the sender never locks itself out half-way.
    roles = [(role_name, getattr(contract, role_name)()) for role_name in role_names]
    for role_name, role in roles:
        if not contract.hasRole(role, admin):
            track(f"{name}: granted {role_name} to {admin}", contract.grantRole(role, admin, sender=sender))
    for role_name, role in roles:
        if contract.hasRole(role, sender.address):
            track(
                f"{name}: renounced {role_name} of {sender.address}",
                contract.renounceRole(role, sender.address, sender=sender),
            )
    if to_checksum_address(str(contract.defaultAdmin())) != to_checksum_address(sender.address):
        return
    pending, _schedule = contract.pendingDefaultAdmin()
    if to_checksum_address(str(pending)) != admin:
        track(
            f"{name}: admin transfer to {admin} begun (it accepts after {contract.defaultAdminDelay()} s)",
            contract.beginDefaultAdminTransfer(admin, sender=sender),
        )


def accept_admin(protocol: Protocol, admin: Any, report: Reporter | None = None) -> list[str]:
    """`admin` accepts the default admin role of every protocol contract whose transfer to it is ready
    (begun by :func:`deploy_protocol` with ``admin=``, its delay passed). Returns the contracts accepted.

    Raises :class:`ConfigurationError`, before sending anything, when a transfer to `admin` is missing or
    not yet ready (with when it will be).
    """
    say = report or (lambda _line: None)
    address = _address_of(admin)
    now = int(chain.pending_timestamp)
    todo = []
    for name, contract in ((LBC, protocol.lbc), (CUBES, protocol.cubes), (FACTORY, protocol.partner_factory)):
        if to_checksum_address(str(contract.defaultAdmin())) == address:
            continue
        pending, schedule = contract.pendingDefaultAdmin()
        if to_checksum_address(str(pending)) != address:
            raise ConfigurationError(
                f"{name} at {contract.address} has no admin transfer to {address} pending: the current "
                f"admin starts one with beginDefaultAdminTransfer({address})"
            )
        if int(schedule) >= now:
            raise ConfigurationError(
                f"{name}'s admin transfer to {address} is ready after timestamp {int(schedule)}, "
                f"{int(schedule) - now + 1} s from now: accept then"
            )
        todo.append((name, contract))
    for name, contract in todo:
        contract.acceptDefaultAdminTransfer(sender=admin)
        say(f"{name}: {address} accepted the default admin role")
    return [name for name, _ in todo]


def _on_fork() -> bool:
    return bool(getattr(chain.provider.network, "is_fork", False))
