"""Proposing, listing, executing and cancelling timelock operations (OpenZeppelin TimelockController).

The Safe proposes: its owners sign a Safe transaction that calls the timelock's ``schedule`` (or
``scheduleBatch``), and any account executes that Safe transaction. The operation then waits at least the
timelock's minimum delay; once ready, an executor (anyone, when execution is open) calls ``execute``. The
Safe, which also holds the canceller role, may cancel a pending operation the same way it proposed it.

The pending operations are read from the timelock's events (``CallScheduled``, ``CallSalt``,
``Cancelled``) and their state and ETA from the timelock itself (``getOperationState``,
``getTimestamp``), so nothing is kept outside the chain. Every step checks what it can before signing or
sending (the operation's state, the ETA, the roles) and simulates what it would send; ``dry_run`` stops
there and reports what would change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ape import chain, project
from ape.contracts import ContractInstance
from eth_utils.address import is_address, to_checksum_address

from link_ops import contracts
from link_ops.contracts import safe as safe_contracts
from link_ops.exceptions import (
    ConfigurationError,
    DeploymentRecordError,
    GovernanceError,
    OperationNotReadyError,
    OperationStateError,
    RoleError,
)
from link_ops.governance.roles import role_id
from link_ops.governance.safe import build_safe_tx, check_signers, collect_signatures, exec_safe_tx, load_safe
from link_ops.governance.safe import safe_info as read_safe_info
from link_ops.governance.simulate import (
    Simulation,
    has_code,
    preview_transaction,
    require_success,
    simulate_call,
)
from link_ops.model.chains import chain_name
from link_ops.model.governance import (
    ZERO_ADDRESS,
    ZERO_BYTES32,
    Call,
    FunctionSignature,
    OperationState,
    TimelockOperation,
    cancel_calldata,
    describe_call,
    encode_call,
    encode_signatures,
    signature_in_abi,
)
from link_ops.protocol.records import deployments_directory, load_record, record_path

Reporter = Callable[[str], None]

#: The names governance contracts are recorded under in ``deployments/<chain_id>.json``.
TIMELOCK = "LinkTimelock"
SAFE = "GovernanceSafe"

PROPOSER_ROLE = role_id("PROPOSER_ROLE")
EXECUTOR_ROLE = role_id("EXECUTOR_ROLE")
CANCELLER_ROLE = role_id("CANCELLER_ROLE")
DEFAULT_ADMIN_ROLE = role_id("DEFAULT_ADMIN_ROLE")


@dataclass
class Governance:
    """The timelock that holds the protocol's admin roles, and the Safe that proposes to it."""

    timelock: ContractInstance
    #: None when only reading or executing (executing needs no Safe).
    safe: ContractInstance | None = None
    #: Where the timelock's history starts (its deployment block when recorded): events are read from here.
    from_block: int = 0
    #: Names to show for addresses (the recorded contracts), by checksummed address.
    names: dict[str, str] = field(default_factory=dict)
    #: Who may pause at once (PAUSER_ROLE on the protocol's contracts), when recorded.
    guardian: str | None = None

    @property
    def address(self) -> str:
        return to_checksum_address(str(self.timelock.address))

    def require_safe(self) -> ContractInstance:
        if self.safe is None:
            raise GovernanceError(
                f"no Safe given for the timelock {self.address}: pass --safe 0x… or record it as {SAFE} in "
                "deployments/<chain_id>.json"
            )
        return self.safe

    def name_of(self, address: str) -> str:
        return self.names.get(to_checksum_address(address), to_checksum_address(address))


def load_timelock(address: str) -> ContractInstance:
    """The timelock at `address`, refused when there is no code or it does not answer as a timelock."""
    if not is_address(address):
        raise ConfigurationError(f"a timelock's address is 0x and 40 hex digits, got {address!r}")
    address = to_checksum_address(address)
    if not has_code(address):
        raise GovernanceError(
            f"there is no contract at {address} on {chain_name(chain.chain_id)}: check the timelock's "
            "address and --network"
        )
    answer = simulate_call(ZERO_ADDRESS, address, bytes.fromhex("f27a0c92"))  # getMinDelay()
    if not answer.ok or len(answer.return_data) != 32:
        raise GovernanceError(f"{address} is not a timelock (it does not answer getMinDelay())")
    return contracts.at(TIMELOCK, address)


def load_governance(
    *,
    timelock: str | None = None,
    safe: str | None = None,
    deployments_dir: Path | None = None,
    from_block: int | None = None,
) -> Governance:
    """The governance of the connected chain: the addresses given, else those recorded in
    ``deployments/<chain_id>.json`` under :data:`TIMELOCK` and :data:`SAFE` (a Safe is optional)."""
    chain_id = chain.chain_id
    directory = deployments_dir or deployments_directory(Path(project.path))
    rec = load_record(directory, chain_id)
    recorded = dict(rec.contracts) if rec is not None else {}
    names = {str(to_checksum_address(entry.address)): name for name, entry in recorded.items()}
    timelock_address = timelock or (recorded[TIMELOCK].address if TIMELOCK in recorded else None)
    if timelock_address is None:
        raise DeploymentRecordError(
            f"no timelock given, and {record_path(directory, chain_id)} records no {TIMELOCK}: pass "
            "--timelock 0x… (or deploy governance with link_ops.governance.deploy_governance)"
        )
    instance = load_timelock(timelock_address)
    names.setdefault(to_checksum_address(timelock_address), TIMELOCK)
    safe_address = safe or (recorded[SAFE].address if SAFE in recorded else None)
    safe_instance = load_safe(safe_address) if safe_address else None
    if safe_address:
        names.setdefault(to_checksum_address(safe_address), SAFE)
    start = from_block
    if start is None:
        entry = recorded.get(TIMELOCK)
        recorded_here = entry is not None and to_checksum_address(entry.address) == instance.address
        start = (entry.block_number or 0) if entry is not None and recorded_here else 0
    guardian = rec.guardian if rec is not None else None
    return Governance(instance, safe_instance, int(start), names, guardian)


# ------------------------------------------------------------------------------------------ operations


@dataclass(frozen=True)
class ScheduledOperation:
    """An operation the timelock scheduled, as the chain has it now."""

    operation: TimelockOperation
    state: OperationState
    #: When it becomes executable (chain time, unix seconds); None once done or cancelled.
    eta: int | None
    delay: int
    scheduled_block: int
    scheduled_tx: str
    #: Scheduled, then cancelled (its state is back to Unset).
    cancelled: bool = False

    @property
    def id(self) -> bytes:
        return self.operation.id

    @property
    def id_hex(self) -> str:
        return "0x" + self.id.hex()

    @property
    def status(self) -> str:
        """``waiting``, ``ready``, ``done`` or ``cancelled``."""
        if self.cancelled:
            return "cancelled"
        return self.state.name.lower()

    @property
    def pending(self) -> bool:
        return self.state in (OperationState.WAITING, OperationState.READY)


def operations(governance: Governance) -> list[ScheduledOperation]:
    """Every operation the timelock ever scheduled (the latest scheduling of each id), oldest first."""
    timelock = governance.timelock
    head = chain.blocks.height
    start = governance.from_block
    grouped: dict[bytes, dict[str, Any]] = {}
    for log in timelock.CallScheduled.range(start, head + 1):
        args = log.event_arguments
        key = bytes(args["id"])
        tx = str(log.transaction_hash)
        entry = grouped.get(key)
        if entry is None or entry["tx"] != tx:  # a later scheduling of the same id replaces the earlier
            entry = {"tx": tx, "block": int(log.block_number), "calls": {}, "salt": ZERO_BYTES32}
            grouped[key] = entry
        entry["calls"][int(args["index"])] = Call(
            str(args["target"]), bytes(args["data"]), int(args["value"])
        )
        entry["predecessor"] = bytes(args["predecessor"])
        entry["delay"] = int(args["delay"])
    if grouped:
        for log in timelock.CallSalt.range(start, head + 1):
            key = bytes(log.event_arguments["id"])
            if key in grouped and grouped[key]["tx"] == str(log.transaction_hash):
                grouped[key]["salt"] = bytes(log.event_arguments["salt"])
    found = []
    for key, entry in grouped.items():
        calls = tuple(entry["calls"][i] for i in sorted(entry["calls"]))
        operation = _matching_operation(key, calls, entry["predecessor"], entry["salt"])
        state = OperationState(int(timelock.getOperationState(key)))
        timestamp = int(timelock.getTimestamp(key))
        found.append(
            ScheduledOperation(
                operation=operation,
                state=state,
                eta=timestamp if state in (OperationState.WAITING, OperationState.READY) else None,
                delay=entry["delay"],
                scheduled_block=entry["block"],
                scheduled_tx=entry["tx"],
                cancelled=state == OperationState.UNSET,
            )
        )
    found.sort(key=lambda op: op.scheduled_block)
    return found


def _matching_operation(
    key: bytes, calls: tuple[Call, ...], predecessor: bytes, salt: bytes
) -> TimelockOperation:
    """The operation whose id is `key`: scheduled alone or as a batch (the events do not say which)."""
    candidates = [TimelockOperation(calls, predecessor, salt, batch=True)]
    if len(calls) == 1:
        candidates.insert(0, TimelockOperation(calls, predecessor, salt, batch=False))
    for candidate in candidates:
        if candidate.id == key:
            return candidate
    raise GovernanceError(
        f"the timelock's events for operation 0x{key.hex()} do not hash to its id: is this an "
        "OpenZeppelin TimelockController?"
    )


def pending_operations(governance: Governance) -> list[ScheduledOperation]:
    """The operations waiting for their delay or ready to execute."""
    return [op for op in operations(governance) if op.pending]


def find_operation(governance: Governance, operation_id: str | bytes) -> ScheduledOperation:
    """The scheduled operation with `operation_id`: its 32 bytes, or a unique 0x prefix of at least 4 hex
    digits (as ``pending`` shows them)."""
    wanted = "0x" + operation_id.hex() if isinstance(operation_id, bytes) else operation_id.strip().lower()
    digits = wanted[2:] if wanted.startswith("0x") else ""
    if len(digits) < 4 or any(c not in "0123456789abcdef" for c in digits) or len(digits) > 64:
        raise ConfigurationError(
            f"{operation_id!r} is not an operation id: give 0x and its 64 hex digits (or the first 4 or more "
            "of them), as `ape run govern pending` shows it"
        )
    known = operations(governance)
    matches = [op for op in known if op.id_hex.startswith(wanted)]
    if not matches:
        raise OperationStateError(
            f"the timelock {governance.address} never scheduled an operation {wanted}: see `ape run govern "
            "pending --all` for those it has"
        )
    if len(matches) > 1:
        raise ConfigurationError(
            f"{wanted} starts {len(matches)} operation ids ({', '.join(m.id_hex for m in matches)}): "
            "give more digits"
        )
    return matches[0]


def call_parts(governance: Governance, call: Call) -> tuple[str, str]:
    """(the target's recorded name or address, ``setTierRate(1, 23000000000000)`` or the raw calldata),
    with the value sent when there is one."""
    name = governance.name_of(call.target)
    described = None
    for abi in _abis_for(name, call.target, governance):
        described = describe_call(call.data, abi)
        if described is not None:
            break
    text = described or ("0x" + call.data.hex() if call.data else "(no calldata)")
    return name, text + (f" with {call.value} wei" if call.value else "")


def describe_operation_call(governance: Governance, call: Call) -> str:
    """``OptimizedCubeManagement.setTierRate(1, 23000000000000)``, or the target and raw calldata."""
    name, text = call_parts(governance, call)
    return f"{name}.{text}" if not text.startswith(("0x", "(")) else f"{name} {text}"


def _abis_for(name: str, address: str, governance: Governance) -> list[list[dict[str, Any]]]:
    if to_checksum_address(address) == governance.address or name == TIMELOCK:
        return [contracts.abi(TIMELOCK)]
    if governance.safe is not None and to_checksum_address(address) == to_checksum_address(
        str(governance.safe.address)
    ):
        return [safe_contracts.abi(safe_contracts.SINGLETON)]
    if name in contracts.names():
        return [contracts.abi(name)]
    return [contracts.abi(n) for n in contracts.names() if not n.startswith("I")]


def build_call(
    governance: Governance,
    target: str,
    function: str | None = None,
    args: Sequence[str] = (),
    *,
    data: bytes | None = None,
    value: int = 0,
) -> Call:
    """The call a proposal makes, as typed on a command line.

    `target` is a 0x address or a contract name recorded in ``deployments/<chain_id>.json``. The call is
    `function` with `args`, where `function` is a full signature (``setTierRate(uint8,uint256)``) or, for
    a contract link_ops knows, a bare name (``setTierRate``); or the raw calldata `data`.
    """
    address = _target_address(governance, target)
    if data is not None:
        if function is not None or args:
            raise ConfigurationError(
                "give either a function with its arguments or raw calldata (--data), not both"
            )
        return Call(address, data, value)
    if function is None:
        raise ConfigurationError(
            "give the function to call (e.g. 'setTierRate(uint8,uint256)') or --data 0x…"
        )
    if "(" in function:
        return Call(address, encode_call(function, list(args)), value)
    name = governance.name_of(address)
    abis = _abis_for(name, address, governance) if name != address else []
    if len(abis) != 1:
        raise ConfigurationError(
            f"{function!r}: link_ops does not know the contract at {address}, so give the full signature, "
            f"e.g. '{function}(uint256)'"
        )
    signature: FunctionSignature = signature_in_abi(abis[0], function, len(args))
    return Call(address, encode_call(signature, list(args)), value)


def _target_address(governance: Governance, target: str) -> str:
    if is_address(target):
        return to_checksum_address(target)
    by_name = {name: address for address, name in governance.names.items()}
    if target in by_name:
        return by_name[target]
    known = ", ".join(sorted(by_name)) or "none"
    raise ConfigurationError(
        f"{target!r} is neither a 0x address nor a contract recorded for {chain_name(chain.chain_id)} "
        f"(recorded: {known})"
    )


# --------------------------------------------------------------------------------------------- actions


@dataclass(frozen=True)
class GovernanceResult:
    """What a governance step did, or on a dry run would do."""

    action: str
    operation: TimelockOperation
    #: What changes, in words (also on a dry run).
    changes: tuple[str, ...]
    #: The transaction's receipt; None on a dry run.
    receipt: Any = None
    #: The dry run's simulation (events it would emit on a local chain or fork); None when sent.
    simulation: Simulation | None = None
    #: When the operation becomes executable (propose).
    eta: int | None = None

    @property
    def dry_run(self) -> bool:
        return self.receipt is None

    @property
    def operation_id(self) -> bytes:
        return self.operation.id


def propose(
    governance: Governance,
    calls: Sequence[Call],
    signers: Sequence[Any],
    *,
    sender: Any,
    delay: int | None = None,
    salt: bytes = ZERO_BYTES32,
    predecessor: bytes = ZERO_BYTES32,
    dry_run: bool = False,
    report: Reporter | None = None,
) -> GovernanceResult:
    """Schedules `calls` on the timelock through the Safe, signed by `signers` (Safe owners, at least its
    threshold), sent by `sender` (any account; it pays the gas).

    One call is scheduled with ``schedule``, several with ``scheduleBatch`` (they execute together, in
    order). `delay` defaults to the timelock's minimum. Refused before anything is signed or sent: a delay
    below the minimum, an operation already scheduled (change the `salt` to schedule the same calls
    again), a Safe that is not a proposer, too few or wrong signers, a call to an address without code,
    and anything the simulation sees revert.
    """
    say = report or (lambda _line: None)
    safe = governance.require_safe()
    timelock = governance.timelock
    minimum = int(timelock.getMinDelay())
    delay = minimum if delay is None else int(delay)
    if delay < minimum:
        raise GovernanceError(
            f"a delay of {duration(delay)} is below the timelock's minimum of {duration(minimum)}: pass a "
            f"delay of at least {minimum} seconds, or leave it out to use the minimum"
        )
    operation = TimelockOperation.of(list(calls), predecessor=predecessor, salt=salt)
    state = OperationState(int(timelock.getOperationState(operation.id)))
    if state != OperationState.UNSET:
        raise OperationStateError(
            f"operation 0x{operation.id.hex()} is already {state.name.lower()} on the timelock: to schedule "
            "the same calls again, give another salt (--salt)"
        )
    for call in operation.calls:
        if call.data and not has_code(call.target):
            raise GovernanceError(
                f"the call's target {call.target} has no contract code on {chain_name(chain.chain_id)}: "
                "check the address and --network"
            )
    _require_role(timelock, PROPOSER_ROLE, str(safe.address), "PROPOSER_ROLE", "propose")
    changes = [f"schedule operation 0x{operation.id.hex()} with a delay of {duration(delay)}:"]
    changes += [f"  {describe_operation_call(governance, call)}" for call in operation.calls]
    return _through_safe(
        governance,
        "propose",
        operation,
        operation.schedule_calldata(delay),
        signers,
        sender,
        changes,
        dry_run,
        say,
        delay=delay,
    )


def cancel(
    governance: Governance,
    operation_id: str | bytes,
    signers: Sequence[Any],
    *,
    sender: Any,
    dry_run: bool = False,
    report: Reporter | None = None,
) -> GovernanceResult:
    """Cancels a pending operation through the Safe (which holds the timelock's CANCELLER_ROLE), signed by
    `signers` and sent by `sender`. Refused unless the operation is waiting or ready."""
    say = report or (lambda _line: None)
    safe = governance.require_safe()
    scheduled = find_operation(governance, operation_id)
    if not scheduled.pending:
        raise OperationStateError(
            f"operation {scheduled.id_hex} is {scheduled.status}: only a waiting or ready operation can be "
            "cancelled"
        )
    _require_role(governance.timelock, CANCELLER_ROLE, str(safe.address), "CANCELLER_ROLE", "cancel")
    changes = [f"cancel operation {scheduled.id_hex} ({scheduled.status}):"]
    changes += [f"  {describe_operation_call(governance, call)}" for call in scheduled.operation.calls]
    return _through_safe(
        governance,
        "cancel",
        scheduled.operation,
        cancel_calldata(scheduled.id),
        signers,
        sender,
        changes,
        dry_run,
        say,
    )


def execute(
    governance: Governance,
    operation_id: str | bytes,
    *,
    sender: Any,
    dry_run: bool = False,
    report: Reporter | None = None,
) -> GovernanceResult:
    """Executes a ready operation from `sender` (an executor: anyone when execution is open).

    Refused before sending: an operation still waiting (:class:`~link_ops.exceptions.OperationNotReadyError`
    says its ETA and how long to wait), done, cancelled, or behind a predecessor not yet executed; a
    sender without EXECUTOR_ROLE; a call that would revert (named).
    """
    say = report or (lambda _line: None)
    timelock = governance.timelock
    scheduled = find_operation(governance, operation_id)
    operation = scheduled.operation
    if scheduled.state == OperationState.WAITING:
        now = int(chain.blocks.head.timestamp)
        eta = scheduled.eta or 0
        wait = max(eta - now, 1)
        raise OperationNotReadyError(
            f"operation {scheduled.id_hex} is not ready: it may execute from {when(eta)} (chain time), in "
            f"{duration(wait)}; run execute again then",
            eta=eta,
            wait_seconds=wait,
        )
    if scheduled.state != OperationState.READY:
        raise OperationStateError(
            f"operation {scheduled.id_hex} is {scheduled.status}: only a ready operation can be executed"
            + ("; propose it again to run it" if scheduled.cancelled else "")
        )
    if operation.predecessor != ZERO_BYTES32:
        before = OperationState(int(timelock.getOperationState(operation.predecessor)))
        if before != OperationState.DONE:
            raise OperationStateError(
                f"operation {scheduled.id_hex} must wait for its predecessor "
                f"0x{operation.predecessor.hex()}, which is {before.name.lower()}: execute that one first"
            )
    sender_address = _sender_address(sender)
    if not timelock.hasRole(EXECUTOR_ROLE, ZERO_ADDRESS) and not timelock.hasRole(
        EXECUTOR_ROLE, sender_address
    ):
        raise RoleError(
            f"{sender_address} lacks the timelock's EXECUTOR_ROLE and execution is not open to everyone: "
            "execute from an executor's account (--account)"
        )
    data = operation.execute_calldata()
    changes = [f"execute operation {scheduled.id_hex}:"]
    changes += [f"  {describe_operation_call(governance, call)}" for call in operation.calls]
    if dry_run:
        preview = preview_transaction(
            sender_address, governance.address, data, operation.value, governance.names
        )
        require_success(preview, f"executing operation {scheduled.id_hex} would fail")
        return GovernanceResult("execute", operation, tuple(changes), simulation=preview)
    require_success(
        simulate_call(sender_address, governance.address, data, operation.value),
        f"executing operation {scheduled.id_hex} would fail",
    )
    receipt = send_execute(timelock, operation, sender)
    say(f"executed operation {scheduled.id_hex} in {receipt.txn_hash}")
    return GovernanceResult("execute", operation, tuple(changes), receipt=receipt)


def send_schedule(timelock: ContractInstance, operation: TimelockOperation, delay: int, sender: Any) -> Any:
    """Schedules `operation` on `timelock` directly from `sender` (its proposer): ``schedule`` for one
    call, ``scheduleBatch`` for several. Returns the receipt."""
    if operation.batch:
        return timelock.scheduleBatch(
            *_columns(operation), operation.predecessor, operation.salt, delay, sender=sender
        )
    (call,) = operation.calls
    return timelock.schedule(
        call.target, call.value, call.data, operation.predecessor, operation.salt, delay, sender=sender
    )


def send_execute(timelock: ContractInstance, operation: TimelockOperation, sender: Any, **tx: Any) -> Any:
    """Executes the ready `operation` on `timelock` from `sender` (an executor), paying its value:
    ``execute`` for one call, ``executeBatch`` for several; `tx` adds transaction options (``gas_limit``).
    Returns the receipt."""
    if operation.batch:
        return timelock.executeBatch(
            *_columns(operation),
            operation.predecessor,
            operation.salt,
            sender=sender,
            value=operation.value,
            **tx,
        )
    (call,) = operation.calls
    return timelock.execute(
        call.target,
        call.value,
        call.data,
        operation.predecessor,
        operation.salt,
        sender=sender,
        value=operation.value,
        **tx,
    )


def _columns(operation: TimelockOperation) -> tuple[list[str], list[int], list[bytes]]:
    """`operation`'s calls as the batch functions take them: targets, values, data."""
    calls = operation.calls
    return [c.target for c in calls], [c.value for c in calls], [c.data for c in calls]


def _through_safe(
    governance: Governance,
    action: str,
    operation: TimelockOperation,
    data: bytes,
    signers: Sequence[Any],
    sender: Any,
    changes: list[str],
    dry_run: bool,
    say: Reporter,
    *,
    delay: int | None = None,
) -> GovernanceResult:
    """Has the Safe call the timelock with `data`: signers checked, the timelock's answer to the Safe
    simulated, the owners' signatures collected, the Safe transaction simulated, then sent (or previewed)."""
    safe = governance.require_safe()
    info = read_safe_info(safe)
    check_signers(info, signers)
    require_success(
        simulate_call(info.address, governance.address, data),
        f"the timelock would refuse the Safe's call to {action}",
    )
    safe_tx = build_safe_tx(safe, governance.address, data, nonce=info.nonce)
    signatures = collect_signatures(safe, safe_tx, signers)
    eta_base = int(chain.blocks.head.timestamp)
    if dry_run:
        calldata = safe_tx.exec_calldata(encode_signatures(signatures))
        preview = preview_transaction(_sender_address(sender), info.address, calldata, 0, governance.names)
        require_success(preview, f"the Safe {info.address} would refuse the transaction")
        # Estimated: the next block's time plus the delay (the real one is the including block's).
        eta = eta_base + delay + 1 if delay is not None else None
        return GovernanceResult(action, operation, tuple(changes), simulation=preview, eta=eta)
    receipt = exec_safe_tx(safe, safe_tx, signatures, sender, report=say)
    eta = None
    if delay is not None:
        eta = int(governance.timelock.getTimestamp(operation.id))
    say(f"{action}: operation 0x{operation.id.hex()}" + (f", executable from {when(eta)}" if eta else ""))
    return GovernanceResult(action, operation, tuple(changes), receipt=receipt, eta=eta)


def _sender_address(sender: Any) -> str:
    """The address of `sender`: an ape account, or (a dry run signs and sends nothing) a 0x address."""
    raw = getattr(sender, "address", sender)
    if not isinstance(raw, str) or not is_address(raw):
        raise ConfigurationError(
            f"the sender must be an ape account (or, for a dry run, an address), got {sender!r}"
        )
    return to_checksum_address(raw)


def _require_role(timelock: ContractInstance, role: bytes, account: str, role_name: str, what: str) -> None:
    if not timelock.hasRole(role, account):
        raise RoleError(
            f"{account} lacks the timelock's {role_name}, so it cannot {what}: grant it through the timelock "
            "(a proposal of grantRole), or use the Safe that holds it (--safe)"
        )


def duration(seconds: int) -> str:
    """`seconds` in words: ``1 d 2 h 5 s``."""
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    parts = []
    for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60), ("s", 1)):
        amount, seconds = divmod(seconds, size)
        if amount:
            parts.append(f"{amount} {unit}")
    return " ".join(parts)


def when(timestamp: int) -> str:
    """`timestamp` (unix seconds) as ``YYYY-MM-DD HH:MM:SS UTC``."""
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
