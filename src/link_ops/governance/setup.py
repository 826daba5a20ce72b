"""Setting governance up: the Safe and the timelock, and the setup phase that keeps the deployer from ever
holding a role on a protocol contract.

A protocol contract whose constructor makes the timelock its admin still needs admin calls before it is
usable (rates, minters, limits). Through a timelock with its final delay each would wait days. So
:func:`deploy_timelock` can start the timelock in **setup mode**: minimum delay 0, the deployer its
proposer, executor and (the constructor's optional) admin. The deployment code then makes each admin call
through the timelock at once (:func:`run_through_timelock`: schedule with delay 0, execute in the next
transaction), and :func:`finish_setup` ends the phase: the Safe becomes proposer and canceller, the
executors are granted (everyone by default), the real delay is set through the timelock itself
(``updateDelay`` can only come from the timelock), and the deployer renounces every role it held, the
admin role last. Each step reads the chain first, so a run interrupted anywhere converges when repeated.
:func:`~link_ops.governance.roles.check_no_eoa_roles` verifies the result.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ape import chain, project
from ape.contracts import ContractInstance
from eth_utils.address import is_address, to_checksum_address
from eth_utils.crypto import keccak

from link_ops import contracts
from link_ops.exceptions import ConfigurationError, GovernanceError, RoleError, SafeError
from link_ops.governance.roles import check_no_eoa_roles
from link_ops.governance.safe import deploy_safe, load_safe, safe_info, validate_owners
from link_ops.governance.simulate import has_code, is_local_or_fork
from link_ops.governance.timelock import (
    CANCELLER_ROLE,
    DEFAULT_ADMIN_ROLE,
    EXECUTOR_ROLE,
    PROPOSER_ROLE,
    SAFE,
    TIMELOCK,
    Governance,
    load_timelock,
    send_execute,
    send_schedule,
)
from link_ops.model.governance import (
    ZERO_ADDRESS,
    ZERO_BYTES32,
    Call,
    OperationState,
    TimelockOperation,
    update_delay_calldata,
)
from link_ops.protocol.records import (
    ContractRecord,
    DeploymentRecord,
    deployments_directory,
    load_record,
    save_record,
)

Reporter = Callable[[str], None]

#: Two days: the minimum delay a governed deployment gets unless told otherwise.
DEFAULT_MIN_DELAY = 2 * 86_400

#: The salt of the setup's own ``updateDelay`` operation: fixed, so a repeated run finds its operation.
SETUP_SALT = keccak(text="link-ops governance setup: updateDelay")

#: Roles the deployer holds in setup mode, in the order it renounces them (the admin role last).
_SETUP_ROLES = (
    ("EXECUTOR_ROLE", EXECUTOR_ROLE),
    ("PROPOSER_ROLE", PROPOSER_ROLE),
    ("CANCELLER_ROLE", CANCELLER_ROLE),
    ("DEFAULT_ADMIN_ROLE", DEFAULT_ADMIN_ROLE),
)


@dataclass(frozen=True)
class GovernanceSettings:
    """Who governs a deployment (SECURITY.md): the contracts' admin is a timelock whose proposer is `safe`.

    `safe` proposes and cancels through the timelock, and holds the operational roles (minting and
    (de)activating cubes, onboarding partners) unless `operator` names another account; `guardian` (its
    own Safe or a key) pauses at once and may cancel a scheduled operation, but never unpauses; every
    admin call waits `min_delay` seconds. `finish` ends the timelock's setup phase at the end of the
    deployment: leave it False while more of the chain (its bridge side) is still to be wired through it.
    """

    safe: str
    guardian: str
    min_delay: int = DEFAULT_MIN_DELAY
    operator: str | None = None
    finish: bool = True


def _address(who: Any, what: str) -> str:
    raw = getattr(who, "address", who)
    if not isinstance(raw, str) or not is_address(raw):
        raise ConfigurationError(f"{what} must be an account or a 0x address, got {who!r}")
    return to_checksum_address(raw)


def _executors(executors: Sequence[Any] | None) -> list[str]:
    """The executors, `address(0)` (anyone may execute a ready operation) when none are given."""
    if executors is None:
        return [ZERO_ADDRESS]
    found = [_address(e, "an executor") for e in executors]
    if not found:
        raise ConfigurationError(
            "executors cannot be empty (nobody could ever execute): leave them out to let anyone execute"
        )
    return found


def _check_delay(min_delay: int) -> int:
    if isinstance(min_delay, bool) or not isinstance(min_delay, int) or min_delay < 0:
        raise ConfigurationError(f"the minimum delay is whole seconds, 0 or more, got {min_delay!r}")
    return min_delay


def deploy_timelock(
    sender: Any,
    *,
    min_delay: int = DEFAULT_MIN_DELAY,
    proposers: Sequence[Any] = (),
    executors: Sequence[Any] | None = None,
    setup: bool = False,
    report: Reporter | None = None,
) -> ContractInstance:
    """Deploys a ``LinkTimelock`` from `sender`.

    Final (``setup=False``): `proposers` (the Safe) propose and cancel, `executors` execute (anyone by
    default), `min_delay` seconds apply, and nobody but the timelock administers it.

    Setup mode (``setup=True``): delay 0 and `sender` as proposer, executor and admin, so the deployment
    can wire contracts through the timelock at once (:func:`run_through_timelock`);
    :func:`finish_setup` then installs the Safe, the executors and the delay. `proposers`, `executors` and
    `min_delay` are :func:`finish_setup`'s business then and must be left out.
    """
    say = report or (lambda _line: None)
    if setup:
        if proposers or executors is not None:
            raise ConfigurationError(
                "a timelock in setup mode starts with the deployer as its only proposer and executor: "
                "pass the Safe and the executors to finish_setup instead"
            )
        me = _address(sender, "the deployer")
        timelock = contracts.deploy(TIMELOCK, sender, 0, [me], [me], me)
        say(f"deployed {TIMELOCK} at {timelock.address} in setup mode (delay 0, {me} proposer and admin)")
        return timelock
    delay = _check_delay(min_delay)
    proposer_addresses = [_address(p, "a proposer") for p in proposers]
    if not proposer_addresses:
        raise ConfigurationError(
            "a timelock needs a proposer (the Safe): nobody could ever schedule anything"
        )
    timelock = contracts.deploy(
        TIMELOCK, sender, delay, proposer_addresses, _executors(executors), ZERO_ADDRESS
    )
    shown = ", ".join(proposer_addresses)
    say(f"deployed {TIMELOCK} at {timelock.address} (delay {delay} s, proposers {shown})")
    return timelock


def run_through_timelock(
    timelock: ContractInstance,
    sender: Any,
    calls: Sequence[Call],
    *,
    salt: bytes = ZERO_BYTES32,
    gas_limit: int | None = None,
    report: Reporter | None = None,
) -> Any:
    """Makes the timelock perform `calls` now, during its setup phase: scheduled with delay 0 by `sender`
    (its setup proposer), then executed. Several calls go in one batch, in order.

    Returns the execution's receipt, or None when the same operation (same calls, same `salt`) was already
    executed: a repeated run converges. Give another `salt` to run the same calls a second time on
    purpose. Refused once the setup is over (a non-zero delay), or when `sender` is not proposer and
    executor.
    """
    say = report or (lambda _line: None)
    delay = int(timelock.getMinDelay())
    if delay != 0:
        raise GovernanceError(
            f"the timelock {timelock.address} has a delay of {delay} s: its setup phase is over, so calls go "
            "through the Safe now (`ape run govern propose`)"
        )
    me = _address(sender, "the deployer")
    for role_name, role in (("PROPOSER_ROLE", PROPOSER_ROLE), ("EXECUTOR_ROLE", EXECUTOR_ROLE)):
        if not timelock.hasRole(role, me) and not (
            role == EXECUTOR_ROLE and timelock.hasRole(role, ZERO_ADDRESS)
        ):
            raise RoleError(
                f"{me} lacks the timelock's {role_name}: only the account that deployed it in setup mode can "
                "run calls through it at once"
            )
    operation = TimelockOperation.of(list(calls), salt=salt)
    state = OperationState(int(timelock.getOperationState(operation.id)))
    if state == OperationState.DONE:
        say(f"timelock operation 0x{operation.id.hex()} already executed")
        return None
    if state == OperationState.UNSET:
        send_schedule(timelock, operation, 0, sender)
    # A call whose cost depends on the block it lands in (a rate change in the same second as the last
    # one is cheaper) needs a limit above the estimate: `gas_limit`, when given (unused gas is not paid).
    limit = {} if gas_limit is None else {"gas_limit": gas_limit}
    receipt = send_execute(timelock, operation, sender, **limit)
    say(f"timelock ran operation 0x{operation.id.hex()} ({len(operation.calls)} call(s))")
    return receipt


@dataclass(frozen=True)
class SetupResult:
    """How :func:`finish_setup` left the timelock."""

    timelock: str
    safe: str
    min_delay: int
    executors: tuple[str, ...]
    #: What this run changed, in order (empty when the setup was already finished).
    steps: tuple[str, ...]

    @property
    def already_finished(self) -> bool:
        return not self.steps


def finish_setup(
    timelock: ContractInstance,
    sender: Any,
    *,
    safe: Any,
    min_delay: int = DEFAULT_MIN_DELAY,
    executors: Sequence[Any] | None = None,
    allow: Iterable[Any] = (),
    from_block: int = 0,
    report: Reporter | None = None,
) -> SetupResult:
    """Ends the setup phase of `timelock`: the Safe proposes and cancels, `executors` execute (anyone by
    default), the delay becomes `min_delay`, and `sender` (the deployer) keeps no role.

    Each step is taken only if the chain does not show it done, in an order that never locks the deployer
    out half-way (grants, then the delay through the timelock with a fixed salt, then renouncing, the
    admin role last); so a run interrupted anywhere converges when repeated with the same arguments.
    Finally every role member is read back (from ``RoleGranted`` events since `from_block`) and any
    externally owned account still holding a role, apart from `allow` and `executors`, is an error.
    """
    say = report or (lambda _line: None)
    steps: list[str] = []

    def step(line: str) -> None:
        steps.append(line)
        say(line)

    delay = _check_delay(min_delay)
    me = _address(sender, "the deployer")
    safe_address = _address(safe, "the Safe")
    if not has_code(safe_address):
        raise SafeError(
            f"the proposer {safe_address} has no code: the timelock's proposer must be the governance Safe "
            "(a contract), never a key"
        )
    executor_addresses = _executors(executors)
    if safe_address == me:
        raise ConfigurationError("the Safe and the deployer must differ")

    def finished() -> bool:
        return (
            timelock.hasRole(PROPOSER_ROLE, safe_address)
            and timelock.hasRole(CANCELLER_ROLE, safe_address)
            and all(timelock.hasRole(EXECUTOR_ROLE, e) for e in executor_addresses)
            and int(timelock.getMinDelay()) == delay
            and not any(timelock.hasRole(role, me) for _name, role in _SETUP_ROLES)
        )

    if not finished():
        if not timelock.hasRole(DEFAULT_ADMIN_ROLE, me):
            raise RoleError(
                f"{me} is not an admin of the timelock {timelock.address}, so it cannot finish its setup: "
                "run this with the account that deployed it in setup mode (the setup may also have been "
                "finished with other settings; check_no_eoa_roles and getMinDelay show its state)"
            )
        # 1. Grants (the deployer is still admin): the Safe proposes and cancels, the executors execute.
        for role_name, role, account in [
            ("PROPOSER_ROLE", PROPOSER_ROLE, safe_address),
            ("CANCELLER_ROLE", CANCELLER_ROLE, safe_address),
            *[("EXECUTOR_ROLE", EXECUTOR_ROLE, e) for e in executor_addresses],
        ]:
            if not timelock.hasRole(role, account):
                timelock.grantRole(role, account, sender=sender)
                step(f"granted {role_name} to {account}")
        # 2. The real delay: only the timelock may call updateDelay, so it goes through it, at delay 0.
        current = int(timelock.getMinDelay())
        if current != delay:
            if current != 0:
                raise GovernanceError(
                    f"the timelock's delay is already {current} s, not 0: it left its setup phase with "
                    f"another delay. Change it through the Safe (a proposal of updateDelay({delay}))"
                )
            for role_name, role in (("PROPOSER_ROLE", PROPOSER_ROLE), ("EXECUTOR_ROLE", EXECUTOR_ROLE)):
                if not timelock.hasRole(role, me):
                    timelock.grantRole(role, me, sender=sender)  # renounced again in step 3
                    step(f"granted {role_name} to {me} again, to set the delay")
            call = Call(str(timelock.address), update_delay_calldata(delay))
            run_through_timelock(timelock, sender, [call], salt=SETUP_SALT)
            step(f"set the minimum delay to {delay} s through the timelock")
        # 3. The deployer leaves, admin role last.
        for role_name, role in _SETUP_ROLES:
            if timelock.hasRole(role, me):
                timelock.renounceRole(role, me, sender=sender)
                step(f"{me} renounced {role_name}")
    remaining = check_no_eoa_roles(timelock, from_block=from_block, allow=[*allow, *executor_addresses])
    if remaining:
        raise RoleError(
            "externally owned accounts still hold timelock roles: "
            + "; ".join(str(h) for h in remaining)
            + ". Revoke them through the Safe (a proposal of revokeRole)."
        )
    if not steps:
        say(f"the setup of {timelock.address} was already finished")
    return SetupResult(
        timelock=to_checksum_address(str(timelock.address)),
        safe=safe_address,
        min_delay=delay,
        executors=tuple(executor_addresses),
        steps=tuple(steps),
    )


def deploy_governance(
    sender: Any,
    *,
    owners: Sequence[Any] = (),
    threshold: int = 0,
    safe: Any = None,
    min_delay: int = DEFAULT_MIN_DELAY,
    executors: Sequence[Any] | None = None,
    guardian: Any = None,
    setup: bool = False,
    record: bool = True,
    deployments_dir: Path | None = None,
    salt_nonce: int = 0,
    report: Reporter | None = None,
) -> Governance:
    """Deploys (or reuses) the governance Safe and the timelock, and records them.

    The Safe is an existing one (`safe`, its address: what a live deployment names), or one deployed for
    ``threshold`` of ``owners`` (:func:`~link_ops.governance.safe.deploy_safe`). It is recorded as
    ``GovernanceSafe``, the timelock as
    ``LinkTimelock``, and the `guardian` (who holds PAUSER_ROLE on the protocol's contracts: its own Safe
    or a key) as the record's ``guardian``, in ``deployments/<chain_id>.json``; each is reused when the
    record names it and it is live. With ``setup=True`` a new timelock starts in setup mode
    (:func:`deploy_timelock`) and the caller ends it with :func:`finish_setup` after wiring; otherwise it
    starts final: the Safe proposes and cancels, `executors` (anyone by default) execute, `min_delay`.

    On a fork nothing is recorded (a rehearsal, as ``deploy_protocol`` does).
    """
    say = report or (lambda _line: None)
    if safe is not None and (owners or threshold):
        raise ConfigurationError(
            "give either an existing Safe (safe=) or the owners and threshold of a new one"
        )
    addresses = validate_owners(owners, threshold) if safe is None else []
    delay = _check_delay(min_delay)
    executor_addresses = _executors(executors)
    guardian_address = _address(guardian, "the guardian") if guardian is not None else None
    chain_id = chain.chain_id
    directory = deployments_dir or deployments_directory(Path(project.path))
    rehearsal = bool(getattr(chain.provider.network, "is_fork", False))
    rec = load_record(directory, chain_id) if record else None
    genesis = _genesis()
    if rec is not None and rec.genesis_hash != genesis:
        if not is_local_or_fork():
            raise GovernanceError(
                f"the record of chain {chain_id} in {directory} was written on another chain (genesis "
                f"{rec.genesis_hash}): connect to the recorded network, or move the record away"
            )
        rec = None
    rec = rec or DeploymentRecord(chain_id=chain_id, genesis_hash=genesis)

    def save(updated: DeploymentRecord) -> DeploymentRecord:
        if record and not rehearsal:
            save_record(directory, updated)
        return updated

    # The Safe (a given one is recorded once the recorded timelock, if any, is known to accept it).
    record_given_safe = False
    if safe is not None:
        safe = load_safe(_address(safe, "the Safe"))
        recorded = rec.contracts.get(SAFE)
        record_given_safe = recorded is None or to_checksum_address(recorded.address) != safe.address
        say(f"using the Safe at {safe.address}")
    elif SAFE in rec.contracts and has_code(rec.contracts[SAFE].address):
        safe = load_safe(rec.contracts[SAFE].address)
        info = safe_info(safe)
        if set(info.owners) != set(addresses) or info.threshold != threshold:
            raise SafeError(
                f"the recorded {SAFE} at {info.address} is {info.threshold} of {', '.join(info.owners)}, not "
                f"{threshold} of {', '.join(addresses)}: change its owners through the Safe, or move the "
                "record away to deploy a new one"
            )
        say(f"reusing the recorded {SAFE} at {info.address}")
    else:
        safe = deploy_safe(sender, addresses, threshold, salt_nonce=salt_nonce, report=say)
        rec = save(rec.with_contract(SAFE, _contract_record(str(safe.address), None)))
    safe_address = to_checksum_address(str(safe.address))

    # The timelock: the recorded one must take proposals from this Safe (unless still in its setup).
    timelock = None
    if TIMELOCK in rec.contracts and has_code(rec.contracts[TIMELOCK].address):
        timelock = load_timelock(rec.contracts[TIMELOCK].address)
        in_setup = int(timelock.getMinDelay()) == 0 and timelock.hasRole(
            DEFAULT_ADMIN_ROLE, _address(sender, "the deployer")
        )
        if not in_setup and not timelock.hasRole(PROPOSER_ROLE, safe_address):
            raise GovernanceError(
                f"the recorded {TIMELOCK} at {timelock.address} does not take proposals from the Safe "
                f"{safe_address}: name the Safe that proposes to it, or move the record away to deploy a new "
                "timelock"
            )
        say(f"reusing the recorded {TIMELOCK} at {timelock.address}")
    if record_given_safe:
        rec = save(rec.with_contract(SAFE, _contract_record(safe_address, None)))
    if timelock is None:
        if setup:
            timelock = deploy_timelock(sender, setup=True, report=say)
        else:
            timelock = deploy_timelock(
                sender, min_delay=delay, proposers=[safe_address], executors=executor_addresses, report=say
            )
        rec = save(rec.with_contract(TIMELOCK, _contract_record(str(timelock.address), timelock.txn_hash)))
    if guardian_address is not None and rec.guardian != guardian_address:
        rec = save(rec.model_copy(update={"guardian": guardian_address}))
    entry = rec.contracts[TIMELOCK]
    names = {str(to_checksum_address(e.address)): name for name, e in rec.contracts.items()}
    return Governance(
        timelock=timelock,
        safe=safe,
        from_block=entry.block_number or 0,
        names=names,
        guardian=guardian_address,
    )


def _contract_record(address: str, tx_hash: Any) -> ContractRecord:
    block = None
    if tx_hash:
        block = chain.provider.get_receipt(tx_hash).block_number
    return ContractRecord(address=address, tx_hash=str(tx_hash) if tx_hash else None, block_number=block)


def _genesis() -> str:
    block_hash = chain.blocks[0].hash
    return block_hash.hex() if isinstance(block_hash, bytes) else str(block_hash)


class AdminCalls:
    """The admin calls of a deployment, made by whoever is the contracts' admin.

    Ungoverned (`timelock` None) the deployer is the admin and each call is sent at once. Governed, the
    timelock is the admin: calls are collected and :meth:`flush` runs them through the timelock's setup
    phase in one batch (:func:`run_through_timelock`), under a salt derived from `label` and the calls, so
    a run interrupted between scheduling and executing finds and finishes its own operation.
    """

    def __init__(self, sender: Any, timelock: ContractInstance | None = None, *, label: str = "") -> None:
        self.sender = sender
        self.timelock = timelock
        self.label = label
        self.pending: list[Call] = []
        self.steps: list[str] = []

    def call(self, contract: ContractInstance, function: str, *args: Any, what: str) -> None:
        """`contract.function(*args)` as the admin; `what` says it in words for the report."""
        handler = getattr(contract, function)
        if self.timelock is None:
            handler(*args, sender=self.sender)
        else:
            self.pending.append(Call(str(contract.address), bytes(handler.encode_input(*args))))
        self.steps.append(what)

    def flush(self, report: Reporter | None = None) -> Any:
        """Runs the collected calls through the timelock (nothing to do ungoverned); returns the receipt."""
        if self.timelock is None or not self.pending:
            return None
        calls, self.pending = self.pending, []
        salt = keccak(
            self.label.encode() + b"".join(to_checksum_address(c.target).encode() + c.data for c in calls)
        )
        return run_through_timelock(self.timelock, self.sender, calls, salt=salt, report=report)


#: Record names whose contract type differs from the name (the remote chain's LBC token).
_RECORDED_TYPES = {"RemoteLBCToken": "LBCToken"}


def recorded_contracts(deployments_dir: Path | None = None) -> list[ContractInstance]:
    """Every contract ``deployments/<chain_id>.json`` records for the connected chain that link-ops ships
    a type for (the protocol, the bridge side, the timelock): what a role check must cover."""
    directory = deployments_dir or deployments_directory(Path(project.path))
    rec = load_record(directory, chain.chain_id)
    if rec is None:
        return []
    shipped = set(contracts.names())
    found = []
    for name, entry in rec.contracts.items():
        type_name = _RECORDED_TYPES.get(name, name)
        if type_name in shipped:
            found.append(contracts.at(type_name, entry.address))
    return found


def finish_chain_setup(
    sender: Any,
    *,
    min_delay: int,
    safe: Any = None,
    guardian: Any = None,
    deployments_dir: Path | None = None,
    report: Reporter | None = None,
) -> SetupResult:
    """Ends the setup phase of the connected chain's recorded timelock, once every contract of the chain
    (the core at home, the bridge side, its routes) is deployed and wired through it: the guardian may
    cancel too, :func:`finish_setup` hands the timelock to the Safe, and every role of every recorded
    contract is checked to be held by no key but the guardian (:class:`RoleError` otherwise).

    The Safe and the guardian default to what the record names (``GovernanceSafe``, ``guardian``).
    """
    say = report or (lambda _line: None)
    directory = deployments_dir or deployments_directory(Path(project.path))
    rec = load_record(directory, chain.chain_id)
    if rec is None or TIMELOCK not in rec.contracts:
        raise GovernanceError(
            f"no {TIMELOCK} recorded for chain {chain.chain_id} in {directory}: deploy with --governance "
            "first"
        )
    recorded_safe = rec.contracts[SAFE].address if SAFE in rec.contracts else None
    safe_address = _address(safe if safe is not None else recorded_safe, "the Safe")
    guardian_address = _address(guardian if guardian is not None else rec.guardian, "the guardian")
    timelock = load_timelock(rec.contracts[TIMELOCK].address)
    from_block = rec.contracts[TIMELOCK].block_number or 0
    me = _address(sender, "the deployer")
    canceller = CANCELLER_ROLE
    if not timelock.hasRole(canceller, guardian_address) and timelock.hasRole(DEFAULT_ADMIN_ROLE, me):
        timelock.grantRole(canceller, guardian_address, sender=sender)
        say(f"granted CANCELLER_ROLE to the guardian {guardian_address}")
    result = finish_setup(
        timelock,
        sender,
        safe=safe_address,
        min_delay=min_delay,
        allow=[guardian_address],
        from_block=from_block,
        report=say,
    )
    keys = check_no_eoa_roles(*recorded_contracts(directory), from_block=from_block, allow=[guardian_address])
    if keys:
        raise RoleError(
            "keys still hold roles: "
            + "; ".join(str(k) for k in keys)
            + ". Revoke them through the Safe (`ape run govern propose ... revokeRole ...`)"
        )
    return result
