"""Intrusion detection: rules that turn the events the index just wrote into alerts
(:class:`~link_ops.watch.alerts.Alert`).

Each rule reads the events of one round of one chain (:class:`Round`) and what it may look up: the index
(the other chains' events, the cubes' holders), the chains through a :class:`~link_ops.index.rpc.JsonRpc`
(cap, supply and limit views at a block; who really minted, by ``debug_traceTransaction``) and the
protocol's own addresses on every chain (:class:`KnownAddresses`). Everything a rule says is about a block
already indexed, so it fires in the round that indexed the event: within one block of it.

What is noise and what pages (severity ``high`` and ``critical``) follows one principle: **governance goes
through the timelock**. A change executed by the timelock (its ``CallExecuted`` in the same transaction)
was public for the timelock's delay and is ``info``; the same change made any other way means someone
holds an admin role the deployment never gave out, and pages. Scheduling a dangerous call (a role to an
outsider, a new messenger, signers, peers, a shorter delay, an admin transfer) pages at once, so that the
delay is used to cancel it. Changes of the Safe itself (owners, threshold, modules, guard) page: they are
rare, and they change who may propose.

Keys: an alert about one log is ``onchain_key(rule, chain, tx, log index)``; one about a block (mints in
a block, a threshold crossed) uses the transaction and log of the event that crossed it. Reading a block
again gives the same alerts with the same keys. Thresholds that measure a state (cap, limits) fire on the
event that moves the measure across the threshold (read at the block before and at the block itself), so
a state that stays above it does not alert again on every later event.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode
from eth_utils.crypto import keccak
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from link_ops import contracts
from link_ops.exceptions import ConfigurationError, UnsupportedChainError, validation_problems
from link_ops.index.catalog import SAFE_CONTRACT, checksum, contract_abi
from link_ops.index.rpc import JsonRpc, JsonRpcError
from link_ops.model.chains import chain_by_id
from link_ops.model.governance import describe_call
from link_ops.store.index import IndexStore
from link_ops.store.index_tables import IndexedEvent
from link_ops.watch.alerts import Alert, Severity, onchain_key

LBC_UNIT = 10**18
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


def role_id(name: str) -> str:
    """The ``bytes32`` of an AccessControl role, as the index stores it (``0x`` hex)."""
    if name == "DEFAULT_ADMIN_ROLE":
        return "0x" + "00" * 32
    return "0x" + keccak(text=name).hex()


#: Every role the protocol's contracts and the timelock define, by id.
ROLE_NAMES: Mapping[str, str] = {
    role_id(n): n
    for n in (
        "DEFAULT_ADMIN_ROLE",
        "MINTER_ROLE",
        "PAUSER_ROLE",
        "OPERATOR_ROLE",
        "ONBOARDER_ROLE",
        "SENDER_ROLE",
        "PROPOSER_ROLE",
        "EXECUTOR_ROLE",
        "CANCELLER_ROLE",
    )
}


class RuleSettingsError(ConfigurationError):
    """The intrusion rules' settings are invalid; every problem is listed, with its field."""


class RuleSettings(BaseModel):
    """The intrusion rules' thresholds; :meth:`build` reports every invalid field at once."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Roles that let their holder take value or control (mint, administer, send bridge messages, propose
    #: to the timelock): granted to anyone but the protocol's own contracts, the timelock or the Safe, they
    #: are critical.
    critical_roles: tuple[str, ...] = ("MINTER_ROLE", "DEFAULT_ADMIN_ROLE", "SENDER_ROLE", "PROPOSER_ROLE")
    #: LBC minted on one chain in one block (wei) above which the block is reported.
    mint_per_block: int = Field(default=100_000 * LBC_UNIT, ge=1)
    #: Share of LBC's cap in circulation at which the cap is reported as nearly used.
    cap_used: float = Field(default=0.8, gt=0, le=1)
    #: Share of a bridge route's limit in use at which the route is reported.
    limit_used: float = Field(default=0.8, gt=0, le=1)
    #: Pauses on one chain within `pause_storm_blocks` blocks that make a pause storm.
    pause_storm: int = Field(default=3, ge=2)
    pause_storm_blocks: int = Field(default=20, ge=1)
    #: A Safe threshold below this is critical; a messenger signer threshold below it is high.
    min_safe_threshold: int = Field(default=2, ge=1)
    min_signer_threshold: int = Field(default=2, ge=1)
    #: A timelock minimum delay, or a default-admin delay, below this (seconds) is high.
    min_delay: int = Field(default=86_400, ge=0)
    #: Ask the node who really called ``mint`` (``debug_traceTransaction`` with the call tracer); off, or
    #: on a node without it, the transaction's target stands for the minter and the alert says so.
    trace_minters: bool = True
    #: Addresses trusted beside the recorded contracts (a guardian, an operator), by address -> name.
    trusted: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def build(cls, **values: Any) -> RuleSettings:
        """Settings from `values`; raises :class:`RuleSettingsError` listing every problem with its field."""
        try:
            settings = cls.model_validate(values)
        except ValidationError as exc:
            problems = validation_problems(exc)
            raise RuleSettingsError("invalid intrusion rule settings: " + "; ".join(problems)) from None
        unknown = [r for r in settings.critical_roles if role_id(r) not in ROLE_NAMES]
        bad = [a for a in settings.trusted if not _is_address(a)]
        problems = []
        if unknown:
            problems.append(
                f"critical_roles: unknown role {', '.join(unknown)}: use {', '.join(ROLE_NAMES.values())}"
            )
        if bad:
            problems.append(f"trusted: {', '.join(bad)} is not a 0x address")
        if problems:
            raise RuleSettingsError("invalid intrusion rule settings: " + "; ".join(problems))
        return settings

    def critical_role_ids(self) -> frozenset[str]:
        return frozenset(role_id(r) for r in self.critical_roles)


def trusted_from_records(deployments_dir: Path, chain_ids: Iterable[int]) -> dict[str, str]:
    """The guardians recorded for `chain_ids` in ``deployments/<chain_id>.json`` (who may pause at once),
    as ``RuleSettings.trusted`` takes them: address -> ``guardian``. Chains without a record or a guardian
    add nothing."""
    # The records module is pure, but its package imports ape to deploy: imported here (as the index does).
    from link_ops.protocol.records import load_record

    out: dict[str, str] = {}
    for chain_id in chain_ids:
        record = load_record(deployments_dir, chain_id)
        if record is not None and record.guardian:
            out[checksum(record.guardian)] = "guardian"
    return out


def _is_address(value: str) -> bool:
    text = value.removeprefix("0x")
    return value.startswith("0x") and len(text) == 40 and all(c in "0123456789abcdefABCDEF" for c in text)


# -- what the rules know -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class KnownAddresses:
    """The protocol's own addresses: every contract the index reads on every chain (by chain: name ->
    addresses) and the `trusted` accounts (a guardian, an operator: address -> name)."""

    contracts: Mapping[int, Mapping[str, tuple[str, ...]]]
    trusted: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_index(cls, index: IndexStore, trusted: Mapping[str, str] | None = None) -> KnownAddresses:
        """What the index's cursors say each chain's contracts are (the partner clones are not in them: they
        hold no roles)."""
        return cls(
            {c.chain_id: dict(c.contracts) for c in index.cursors()},
            {checksum(a): n for a, n in (trusted or {}).items()},
        )

    @cached_property
    def by_address(self) -> dict[str, str]:
        """:meth:`names`, computed once."""
        return self.names()

    def names(self) -> dict[str, str]:
        """Name by address, over every chain and the trusted accounts."""
        out = {checksum(a): n for a, n in self.trusted.items()}
        for contracts_of in self.contracts.values():
            for name, addresses in contracts_of.items():
                for address in addresses:
                    out[checksum(address)] = name
        return out

    def of(self, chain_id: int, name: str) -> tuple[str, ...]:
        return tuple(self.contracts.get(chain_id, {}).get(name, ()))

    def is_own(self, address: str) -> bool:
        """Whether `address` is a protocol contract (on any chain), its timelock or Safe, or trusted."""
        return checksum(address) in self.by_address


@dataclass
class Round:
    """The events one round of the index wrote on one chain (blocks `first_block` .. `last_block`), with
    what the rules look up."""

    chain_id: int
    first_block: int
    last_block: int
    events: list[IndexedEvent]
    #: Transactions of the range that are reward claims (the index's ``index_claims``).
    claim_txs: frozenset[str]
    index: IndexStore
    known: KnownAddresses
    settings: RuleSettings
    rpc: JsonRpc | None
    names: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.names = self.known.by_address
        self._by_tx: dict[str, list[IndexedEvent]] = defaultdict(list)
        for event in self.events:
            self._by_tx[event.tx_hash].append(event)

    @property
    def chain_name(self) -> str:
        try:
            return chain_by_id(self.chain_id).name
        except UnsupportedChainError:
            return f"chain {self.chain_id}"

    def in_tx(self, tx_hash: str) -> list[IndexedEvent]:
        return self._by_tx.get(tx_hash, [])

    def governed(self, event: IndexedEvent) -> bool:
        """Whether `event` came from a call the chain's timelock executed (its ``CallExecuted`` targeting the
        event's contract in the same transaction)."""
        timelocks = set(self.known.of(self.chain_id, "LinkTimelock"))
        return any(
            e.event == "CallExecuted"
            and e.address in timelocks
            and checksum(e.args["target"]) == event.address
            for e in self.in_tx(event.tx_hash)
        )

    def name(self, address: str) -> str:
        """``LBCToken 0x12…`` for a known address, the address otherwise."""
        address = checksum(address)
        known = self.names.get(address)
        return f"{known} {address}" if known else address

    def alert(
        self,
        rule: str,
        severity: Severity,
        summary: str,
        event: IndexedEvent,
        *,
        subject: str | None,
        values: Mapping[str, Any] | None = None,
    ) -> Alert:
        return Alert(
            rule=rule,
            source="intrusion",
            severity=severity,
            summary=summary,
            key=onchain_key(rule, self.chain_id, event.tx_hash, event.log_index),
            chain_id=self.chain_id,
            block_number=event.block_number,
            tx_hash=event.tx_hash,
            subject=None if subject is None else checksum(subject),
            values={"contract": event.contract, "address": event.address, **(values or {})},
        )

    # -- chain reads ----------------------------------------------------------------------------------------

    def call(self, to: str, signature: str, args: Sequence[tuple[str, Any]], block: int) -> bytes | None:
        """``eth_call`` of `signature` on `to` at `block`; None when there is no node or it answers an error
        (the view is not there, the block is pruned). A node that cannot be reached raises
        :class:`~link_ops.index.rpc.IndexRpcError`: the round is to be run again."""
        if self.rpc is None:
            return None
        selector = keccak(text=signature)[:4]
        data = selector + encode([t for t, _v in args], [v for _t, v in args])
        try:
            answer = self.rpc.request("eth_call", [{"to": to, "data": "0x" + data.hex()}, hex(block)])
        except JsonRpcError:
            return None
        raw = bytes.fromhex(str(answer).removeprefix("0x"))
        return raw or None


# -- the rules ----------------------------------------------------------------------------------------------

Rule = Callable[[Round], list[Alert]]


def _role_label(role: str) -> str:
    return ROLE_NAMES.get(role.lower(), role)


def roles(r: Round) -> list[Alert]:
    """``role-granted`` / ``role-revoked`` / ``role-admin-changed`` on every administered contract and the
    timelock."""
    out = []
    critical = r.settings.critical_role_ids()
    for e in r.events:
        if e.event not in ("RoleGranted", "RoleRevoked", "RoleAdminChanged"):
            continue
        if e.event == "RoleAdminChanged":
            out.append(
                r.alert(
                    "role-admin-changed",
                    Severity.HIGH,
                    f"the admin role of {_role_label(e.args['role'])} on {r.name(e.address)} is now "
                    f"{_role_label(e.args['newAdminRole'])}: whoever holds it now grants that role",
                    e,
                    subject=e.address,
                )
            )
            continue
        role, account, sender = e.args["role"].lower(), e.args["account"], e.args["sender"]
        # Granted by the timelock's own call: the timelock as `sender` without its CallExecuted in the
        # transaction is someone acting as the timelock, not governance.
        label, own, governed = _role_label(role), r.known.is_own(account), r.governed(e)
        values = {"role": label, "account": account, "sender": sender}
        if e.event == "RoleGranted":
            if role in critical and not own:
                severity = Severity.CRITICAL
                advice = "revoke it now unless the Safe proposed it, and check what it has done"
            elif own:
                severity, advice = Severity.INFO, "a protocol account"
            else:
                severity = Severity.WARNING if governed else Severity.HIGH
                advice = "granted through governance" if governed else "not granted through the timelock"
            summary = (
                f"{label} on {r.name(e.address)} granted to {r.name(account)} by {r.name(sender)}: {advice}"
            )
            out.append(r.alert("role-granted", severity, summary, e, subject=account, values=values))
        else:
            if own and (role in critical or not governed):
                severity = Severity.HIGH
                advice = "the protocol loses what it needs to work: was it proposed?"
            else:
                severity = Severity.INFO if governed or not own else Severity.WARNING
                advice = "revoked"
            summary = (
                f"{label} on {r.name(e.address)} revoked from {r.name(account)} by {r.name(sender)}: {advice}"
            )
            out.append(r.alert("role-revoked", severity, summary, e, subject=account, values=values))
    return out


def admin_transfers(r: Round) -> list[Alert]:
    """``admin-transfer`` (a two-step default-admin transfer begun or cancelled) and ``admin-delay`` (the
    default admin's delay about to change)."""
    out = []
    for e in r.events:
        if e.event == "DefaultAdminTransferScheduled":
            new = e.args["newAdmin"]
            own = r.known.is_own(new)
            severity = (
                Severity.WARNING if own and r.governed(e) else Severity.HIGH if own else Severity.CRITICAL
            )
            out.append(
                r.alert(
                    "admin-transfer",
                    severity,
                    f"the default admin of {r.name(e.address)} is being handed to {r.name(new)} "
                    f"(acceptable from {e.args['acceptSchedule']}): cancel it (cancelDefaultAdminTransfer) "
                    "unless governance decided it",
                    e,
                    subject=new,
                    values={"new_admin": new, "accept_schedule": e.args["acceptSchedule"]},
                )
            )
        elif e.event == "DefaultAdminDelayChangeScheduled":
            delay = int(e.args["newDelay"])
            short = delay < r.settings.min_delay
            severity = Severity.HIGH if short or not r.governed(e) else Severity.INFO
            out.append(
                r.alert(
                    "admin-delay",
                    severity,
                    f"the default admin delay of {r.name(e.address)} is about to become {delay} s",
                    e,
                    subject=e.address,
                    values={"new_delay": delay},
                )
            )
        elif e.event in ("DefaultAdminTransferCanceled", "DefaultAdminDelayChangeCanceled"):
            out.append(
                r.alert(
                    "admin-transfer",
                    Severity.INFO,
                    f"{e.event} on {r.name(e.address)}",
                    e,
                    subject=e.address,
                )
            )
    return out


def pauses(r: Round) -> list[Alert]:
    """``paused`` / ``unpaused``, and ``pause-storm`` (many pauses on a chain in few blocks).

    Pausing is the guardian's job and says something is wrong (``warning``; ``high`` from anyone else);
    unpausing is the timelock's only (critical otherwise: someone else holds the admin role).
    """
    out = []
    paused = [e for e in r.events if e.event == "Paused"]
    for e in r.events:
        if e.event not in ("Paused", "Unpaused"):
            continue
        account = e.args["account"]
        if e.event == "Paused":
            by_guardian = r.known.is_own(account)
            severity = Severity.WARNING if by_guardian else Severity.HIGH
            text = f"{r.name(e.address)} paused by {r.name(account)}"
            text += "" if by_guardian else ": not the guardian, the timelock or the Safe"
            out.append(r.alert("paused", severity, text, e, subject=account, values={"account": account}))
        else:
            governed = r.governed(e)
            severity = Severity.INFO if governed else Severity.CRITICAL
            text = f"{r.name(e.address)} unpaused by {r.name(account)}"
            text += (
                " through the timelock"
                if governed
                else ": not through the timelock, whose call alone may unpause"
            )
            out.append(r.alert("unpaused", severity, text, e, subject=account, values={"account": account}))
    window = r.settings.pause_storm_blocks
    for i, e in enumerate(paused):
        recent = [p for p in paused[: i + 1] if e.block_number - p.block_number < window]
        if len(recent) == r.settings.pause_storm:  # the pause that makes the storm, once
            out.append(
                r.alert(
                    "pause-storm",
                    Severity.HIGH,
                    f"{len(recent)} pauses on {r.chain_name} within {window} blocks (by "
                    f"{', '.join(sorted({r.name(p.args['account']) for p in recent}))}): an incident, or a "
                    "pauser key used against the protocol",
                    e,
                    subject=e.args["account"],
                    values={"pauses": len(recent)},
                )
            )
    return out


#: Configuration changes: event -> (rule, severity when not through the timelock, what changed).
_CHANGES: Mapping[str, tuple[str, Severity]] = {
    "TierRateSet": ("rate-changed", Severity.HIGH),
    "LimitsSet": ("limits-changed", Severity.HIGH),
    "SignersSet": ("signers-changed", Severity.CRITICAL),
    "RemoteMessengerSet": ("remote-messenger-changed", Severity.CRITICAL),
    "TrustedSourceSet": ("trusted-source-changed", Severity.CRITICAL),
    "PeerSet": ("peer-changed", Severity.CRITICAL),
    "MessengerSet": ("messenger-changed", Severity.CRITICAL),
    "DefaultRoyaltySet": ("royalty-changed", Severity.WARNING),
    "Rescued": ("rescued", Severity.HIGH),
    "NFTRescued": ("rescued", Severity.HIGH),
}


def _change_text(r: Round, e: IndexedEvent) -> tuple[str, str | None]:
    """What changed, and the address it is about (the new messenger, peer, ...)."""
    a = e.args
    match e.event:
        case "TierRateSet":
            return f"tier {a['tier']} rate {a['previousWeiPerSecond']} -> {a['weiPerSecond']} wei/s", None
        case "LimitsSet":
            return (
                f"limits of the route with chain {a['chainId']}: send {a['sendLimit']}, "
                f"receive {a['receiveLimit']}",
                None,
            )
        case "SignersSet":
            return f"signers {', '.join(a['signers'])}, threshold {a['threshold']}", None
        case "RemoteMessengerSet":
            return f"remote messenger of chain {a['chainId']} -> {a['messenger']}", a["messenger"]
        case "TrustedSourceSet":
            trust = "trusted" if a["trusted"] else "untrusted"
            return f"source {a['messenger']} of chain {a['chainId']} {trust}", a["messenger"]
        case "PeerSet":
            return f"peer on chain {a['chainId']} -> {a['peer']}", a["peer"]
        case "MessengerSet":
            return f"messenger -> {r.name(a['messenger'])}", a["messenger"]
        case "DefaultRoyaltySet":
            return f"royalty {a['feeBasisPoints']} bp to {r.name(a['receiver'])}", a["receiver"]
        case "Rescued":
            return f"{a['amount']} of token {r.name(a['token'])} rescued to {r.name(a['to'])}", a["to"]
        case _:  # NFTRescued
            return f"NFT {a['tokenId']} of {r.name(a['collection'])} rescued to {r.name(a['to'])}", a["to"]


def changes(r: Round) -> list[Alert]:
    """Rate, limit, signer, peer, messenger, trusted-source, royalty changes and rescues: ``info`` through
    the timelock, paging otherwise (see :data:`_CHANGES`). Signers below the threshold setting page even
    through the timelock."""
    out = []
    for e in r.events:
        if e.event not in _CHANGES:
            continue
        rule, ungoverned = _CHANGES[e.event]
        text, about = _change_text(r, e)
        governed = r.governed(e)
        severity = Severity.INFO if governed else ungoverned
        if e.event == "SignersSet" and int(e.args["threshold"]) < r.settings.min_signer_threshold:
            severity = max(severity, Severity.HIGH)
        how = "through the timelock" if governed else "NOT through the timelock"
        out.append(
            r.alert(
                rule,
                severity,
                f"{r.name(e.address)}: {text}, {how}",
                e,
                subject=about if about is not None and not r.known.is_own(about) else e.address,
                values={"governed": governed, **{k: v for k, v in e.args.items() if not isinstance(v, list)}},
            )
        )
    return out


#: Functions that, scheduled on the timelock, change who controls value: they page when scheduled.
_DANGEROUS_CALLS = frozenset(
    {
        "grantRole",
        "revokeRole",
        "renounceRole",
        "beginDefaultAdminTransfer",
        "changeDefaultAdminDelay",
        "updateDelay",
        "setSigners",
        "setMessenger",
        "setPeer",
        "setRemoteMessenger",
        "setTrustedSource",
        "rescue",
        "rescueNFT",
        "unpause",
    }
)


def _decode_call(r: Round, target: str, data: str) -> tuple[str | None, str | None]:
    """(``setTierRate(1, 23)``, function name) of calldata to `target`, or (None, None)."""
    raw = bytes.fromhex(data.removeprefix("0x"))
    name = r.names.get(checksum(target))
    abis: list[list[dict[str, Any]]] = []
    if name is not None:
        abis.append(contract_abi(name))
    abis += [contracts.abi(n) for n in contracts.names() if not n.startswith("I")]
    for abi in abis:
        text = describe_call(raw, abi)
        if text is not None:
            return text, text.split("(", 1)[0]
    return None, None


def _grant_outsider(r: Round, text: str, data: str) -> str | None:
    """The account a scheduled ``grantRole``/``beginDefaultAdminTransfer`` names, unless it is the
    protocol's own."""
    raw = bytes.fromhex(data.removeprefix("0x"))
    try:
        if text.startswith("grantRole("):
            _role, account = abi_decode(["bytes32", "address"], raw[4:])
        elif text.startswith("beginDefaultAdminTransfer("):
            (account,) = abi_decode(["address"], raw[4:])
        else:
            return None
    except Exception:
        return None
    return None if r.known.is_own(str(account)) else checksum(str(account))


def timelock(r: Round) -> list[Alert]:
    """``timelock-scheduled`` (the call decoded: ``high`` when it is dangerous, ``critical`` when it hands a
    role or the admin to an outsider, ``info`` otherwise), ``timelock-delay`` (the minimum delay changed:
    ``high`` when shortened below the setting), ``timelock-cancelled`` and ``timelock-executed`` (info)."""
    out = []
    for e in r.events:
        if e.contract != "LinkTimelock":
            continue
        if e.event == "CallScheduled":
            target, data = e.args["target"], e.args["data"]
            text, function = _decode_call(r, target, data)
            shown = f"{r.name(target)}.{text}" if text else f"{r.name(target)} with calldata {data[:74]}"
            outsider = _grant_outsider(r, text or "", data)
            if outsider is not None:
                severity, subject = Severity.CRITICAL, outsider
            elif function in _DANGEROUS_CALLS or function is None:
                severity, subject = Severity.HIGH, target
            else:
                severity, subject = Severity.INFO, target
            advice = "" if severity == Severity.INFO else ": cancel it through the Safe unless it was decided"
            out.append(
                r.alert(
                    "timelock-scheduled",
                    severity,
                    f"timelock operation {e.args['id'][:10]}… scheduled (delay {e.args['delay']} s): "
                    f"{shown}{advice}",
                    e,
                    subject=subject,
                    values={"operation": e.args["id"], "call": shown, "delay": e.args["delay"]},
                )
            )
        elif e.event == "MinDelayChange":
            old, new = int(e.args["oldDuration"]), int(e.args["newDuration"])
            severity = Severity.HIGH if new < old and new < r.settings.min_delay else Severity.INFO
            out.append(
                r.alert(
                    "timelock-delay",
                    severity,
                    f"the timelock {e.address} delay changed from {old} s to {new} s",
                    e,
                    subject=e.address,
                    values={"old": old, "new": new},
                )
            )
        elif e.event in ("Cancelled", "CallExecuted"):
            rule = "timelock-cancelled" if e.event == "Cancelled" else "timelock-executed"
            out.append(
                r.alert(
                    rule,
                    Severity.INFO,
                    f"timelock operation {e.args['id'][:10]}… {e.event}",
                    e,
                    subject=e.address,
                )
            )
    return out


#: The Safe's own events: (rule, severity, what happened).
_SAFE_EVENTS: Mapping[str, tuple[str, Severity, str]] = {
    "AddedOwner": ("safe-owner-added", Severity.HIGH, "owner {owner} added"),
    "RemovedOwner": ("safe-owner-removed", Severity.HIGH, "owner {owner} removed"),
    "ChangedThreshold": ("safe-threshold", Severity.HIGH, "threshold changed to {threshold}"),
    "EnabledModule": (
        "safe-module-enabled",
        Severity.CRITICAL,
        "module {module} enabled: it may act without signatures",
    ),
    "DisabledModule": ("safe-module-disabled", Severity.WARNING, "module {module} disabled"),
    "ChangedGuard": ("safe-guard", Severity.HIGH, "guard changed to {guard}"),
    "ChangedFallbackHandler": (
        "safe-fallback-handler",
        Severity.HIGH,
        "fallback handler changed to {handler}",
    ),
    "ExecutionFromModuleSuccess": (
        "safe-module-executed",
        Severity.CRITICAL,
        "module {module} executed a transaction from the Safe",
    ),
}


def safe(r: Round) -> list[Alert]:
    """The governance Safe's owners, threshold, modules, guard and fallback handler; the subject is the Safe,
    so that one takeover in several steps is one incident."""
    out = []
    for e in r.events:
        if e.contract != SAFE_CONTRACT or e.event not in _SAFE_EVENTS:
            continue
        rule, severity, template = _SAFE_EVENTS[e.event]
        if e.event == "ChangedThreshold" and int(e.args["threshold"]) < r.settings.min_safe_threshold:
            severity = Severity.CRITICAL
        text = template.format(
            **{k: r.name(v) if isinstance(v, str) and v.startswith("0x") else v for k, v in e.args.items()}
        )
        out.append(
            r.alert(
                rule,
                severity,
                f"governance Safe {e.address}: {text}",
                e,
                subject=e.address,
                values=dict(e.args),
            )
        )
    return out


# -- LBC minting --------------------------------------------------------------------------------------------

_MINT_SELECTOR = "0x" + keccak(text="mint(address,uint256)")[:4].hex()


def _lbc_mints(r: Round) -> list[IndexedEvent]:
    return [
        e
        for e in r.events
        if e.contract == "LBCToken" and e.event == "Transfer" and e.from_address == ZERO_ADDRESS
    ]


def _trace_minter(r: Round, tx_hash: str, token: str) -> str | None:
    """Who called ``mint`` on `token` in `tx_hash`, from the node's call tracer; None when it cannot tell."""
    if r.rpc is None or not r.settings.trace_minters:
        return None
    try:
        trace = r.rpc.request("debug_traceTransaction", [tx_hash, {"tracer": "callTracer"}])
    except JsonRpcError:  # no debug API on this node (a node that cannot be reached raises)
        return None
    stack = [trace] if isinstance(trace, dict) else []
    while stack:
        frame = stack.pop()
        to, data = frame.get("to"), str(frame.get("input") or "")
        if (
            to
            and checksum(to) == token
            and data.lower().startswith(_MINT_SELECTOR)
            and not frame.get("error")
        ):
            return checksum(str(frame["from"]))
        stack.extend(reversed(frame.get("calls") or []))
    return None


def _transaction_target(r: Round, tx_hash: str) -> str | None:
    if r.rpc is None:
        return None
    try:
        tx = r.rpc.request("eth_getTransactionByHash", [tx_hash])
    except JsonRpcError:
        return None
    to = tx.get("to") if isinstance(tx, dict) else None
    return checksum(str(to)) if to else None


def _role_events(r: Round) -> list[IndexedEvent]:
    """The chain's LBC role grants and revocations the index holds, in chain order."""
    found = r.index.events(r.chain_id, event="RoleGranted", contract="LBCToken")
    found += r.index.events(r.chain_id, event="RoleRevoked", contract="LBCToken")
    return sorted(found, key=lambda e: (e.block_number, e.log_index))


def _minter_holders(role_events: Sequence[IndexedEvent], mint: IndexedEvent) -> set[str]:
    """Who held MINTER_ROLE on the minted token just before `mint` (granted and not revoked since)."""
    minter_role = role_id("MINTER_ROLE")
    holders: set[str] = set()
    for e in role_events:
        if (e.block_number, e.log_index) >= (mint.block_number, mint.log_index):
            break
        if e.address == mint.address and str(e.args.get("role", "")).lower() == minter_role:
            account = checksum(str(e.args["account"]))
            if e.event == "RoleGranted":
                holders.add(account)
            else:
                holders.discard(account)
    return holders


def mints(r: Round) -> list[Alert]:
    """``lbc-minted-by-stranger``: LBC minted by anything other than the cube contract (at home) or the
    chain's LBC bridge (elsewhere). A reward claim (the index's ``index_claims``) is the cube contract's
    mint; an arrival (``LBCReceived`` of the chain's bridge for the same holder and amount, in the same
    transaction) the bridge's; anything else asks the node who called ``mint``.

    ``lbc-mint-burst``: more than ``mint_per_block`` LBC minted in one block on the chain."""
    out = []
    allowed = set(r.known.of(r.chain_id, "OptimizedCubeManagement")) | set(
        r.known.of(r.chain_id, "LBCBridge")
    )
    bridges = set(r.known.of(r.chain_id, "LBCBridge"))
    per_block: dict[int, list[IndexedEvent]] = defaultdict(list)
    minters: dict[str, tuple[str | None, str]] = {}
    role_events: list[IndexedEvent] | None = None  # read once, when a mint cannot be traced
    for e in _lbc_mints(r):
        per_block[e.block_number].append(e)
        if e.tx_hash in r.claim_txs:
            continue
        arrivals = [
            x
            for x in r.in_tx(e.tx_hash)
            if x.event == "LBCReceived"
            and x.address in bridges
            and x.args["to"] == e.to_address
            and str(x.args["amount"]) == e.amount
        ]
        if arrivals:
            continue
        if e.tx_hash not in minters:
            traced = _trace_minter(r, e.tx_hash, e.address)
            minters[e.tx_hash] = (
                (traced, "traced") if traced else (_transaction_target(r, e.tx_hash), "tx-to")
            )
        minter, how = minters[e.tx_hash]
        if minter is not None and minter in allowed:
            continue
        suspects: list[str] = []
        if how != "traced":
            # Without a trace the transaction's target only stands in for the minter (a claim sent through a
            # Safe or a smart account targets the wallet). Only an account holding MINTER_ROLE can mint: while
            # the protocol's own contracts are the only holders, the mint is theirs.
            if role_events is None:
                role_events = _role_events(r)
            suspects = sorted(_minter_holders(role_events, e) - allowed)
            if not suspects:
                continue
        amount = int(e.amount or 0)
        shown = r.name(minter) if minter else "an unknown account"
        note = (
            ""
            if how == "traced"
            else " (the node gives no call trace: the minter is the transaction's target; MINTER_ROLE is "
            f"also held by {', '.join(r.name(a) for a in suspects)})"
        )
        out.append(
            r.alert(
                "lbc-minted-by-stranger",
                Severity.CRITICAL,
                f"{amount / LBC_UNIT:,.6f} LBC minted on {r.chain_name} to {r.name(str(e.to_address))} by "
                f"{shown}, neither the cube contract nor the bridge{note}: revoke its MINTER_ROLE",
                e,
                subject=minter if how == "traced" or minter in suspects else suspects[0],
                values={
                    "minter": minter,
                    "minter_from": how,
                    "to": e.to_address,
                    "amount": str(amount),
                    "minter_role_holders": ", ".join(suspects) or None,
                },
            )
        )
    for _block, found in sorted(per_block.items()):
        total = sum(int(e.amount or 0) for e in found)
        if total > r.settings.mint_per_block:
            last = found[-1]
            out.append(
                r.alert(
                    "lbc-mint-burst",
                    Severity.HIGH,
                    f"{total / LBC_UNIT:,.6f} LBC minted on {r.chain_name} in block {last.block_number}, "
                    f"above {r.settings.mint_per_block / LBC_UNIT:,.0f}",
                    last,
                    subject=str(last.to_address),
                    values={"minted": str(total), "threshold": str(r.settings.mint_per_block)},
                )
            )
    return out


def _uint(raw: bytes | None, index: int = 0) -> int | None:
    if raw is None or len(raw) < 32 * (index + 1):
        return None
    return int.from_bytes(raw[32 * index : 32 * (index + 1)], "big")


def cap(r: Round) -> list[Alert]:
    """``cap-used``: LBC's supply crossed ``cap_used`` of its cap in a block of this round (the supply read
    at the block before and at the block itself, so a supply that stays above does not alert again)."""
    out = []
    last_per_block: dict[tuple[str, int], IndexedEvent] = {}
    for e in _lbc_mints(r):
        last_per_block[(e.address, e.block_number)] = e
    for (token, block), e in sorted(last_per_block.items(), key=lambda item: item[0][1]):
        limit = _uint(r.call(token, "cap()", (), block))
        after = _uint(r.call(token, "totalSupply()", (), block))
        before = _uint(r.call(token, "totalSupply()", (), block - 1)) if block > 0 else 0
        if limit is None or after is None or before is None or limit == 0:
            continue
        line = r.settings.cap_used * limit
        if before < line <= after:
            out.append(
                r.alert(
                    "cap-used",
                    Severity.HIGH,
                    f"LBC on {r.chain_name} has {after / limit:.1%} of its cap in circulation "
                    f"({after / LBC_UNIT:,.0f} of {limit / LBC_UNIT:,.0f}) since block {block}",
                    e,
                    subject=token,
                    values={"supply": str(after), "cap": str(limit)},
                )
            )
    return out


def limits(r: Round) -> list[Alert]:
    """``limit-used``: a bridge route's send or receive limit is ``limit_used`` used up or more, after an
    ``LBCSent``/``LBCReceived`` that moved it across that line (``sendLimit``/``receiveLimit`` read at the
    block before and at the block)."""
    out = []
    for e in r.events:
        if e.contract != "LBCBridge" or e.event not in ("LBCSent", "LBCReceived"):
            continue
        sending = e.event == "LBCSent"
        route = int(e.args["dstChainId"] if sending else e.args["srcChainId"])
        view = "sendLimit(uint256)" if sending else "receiveLimit(uint256)"
        now = r.call(e.address, view, (("uint256", route),), e.block_number)
        before = r.call(e.address, view, (("uint256", route),), e.block_number - 1)
        maximum, available = _uint(now, 0), _uint(now, 1)
        available_before = _uint(before, 1)
        if not maximum or available is None or available_before is None:
            continue
        used, used_before = (maximum - available) / maximum, (maximum - available_before) / maximum
        if used >= r.settings.limit_used and used_before < r.settings.limit_used:
            direction = "send" if sending else "receive"
            out.append(
                r.alert(
                    "limit-used",
                    Severity.HIGH,
                    f"the {direction} limit of {r.name(e.address)} for chain {route} is {used:.0%} used "
                    f"({(maximum - available) / LBC_UNIT:,.0f} of {maximum / LBC_UNIT:,.0f} LBC) after "
                    f"{int(e.args['amount']) / LBC_UNIT:,.0f} LBC {'sent by' if sending else 'received for'} "
                    f"{r.name(e.args['from'] if sending else e.args['to'])}",
                    e,
                    subject=e.args["from"] if sending else e.args["to"],
                    values={
                        "direction": direction,
                        "route": route,
                        "max": str(maximum),
                        "available": str(available),
                    },
                )
            )
    return out


# -- across chains: deliveries and cubes --------------------------------------------------------------------


@dataclass(frozen=True)
class Pending:
    """A check that waits for another chain's index: `needs` chain id -> the block time that index must
    reach before the check can say anything."""

    kind: str
    chain_id: int
    event: IndexedEvent
    needs: Mapping[int, int]


def deliveries(r: Round) -> tuple[list[Alert], list[Pending]]:
    """``arrival-without-message``: LBC or cubes released by a bridge in a transaction where the chain's
    messenger executed no message (a swapped messenger, or a bridge called around it) - at once.

    ``delivery-without-send`` (see :func:`check_delivery`) waits for the source chain's index; a source
    chain the store does not index (no cursor) is not checked."""
    out: list[Alert] = []
    pending: list[Pending] = []
    messengers = set(r.known.of(r.chain_id, "AttestedMessenger"))
    for e in r.events:
        if e.event in ("LBCReceived", "CubesReceived"):
            executed = [
                x for x in r.in_tx(e.tx_hash) if x.event == "MessageExecuted" and x.address in messengers
            ]
            if not executed:
                what = (
                    f"{int(e.args['amount']) / LBC_UNIT:,.6f} LBC"
                    if e.event == "LBCReceived"
                    else f"cubes {', '.join(str(c) for c in e.args['cubeIds'])}"
                )
                out.append(
                    r.alert(
                        "arrival-without-message",
                        Severity.CRITICAL,
                        f"{r.name(e.address)} released {what} to {r.name(e.args['to'])} without a message "
                        f"executed by the messenger of {r.chain_name}: its messenger was swapped or "
                        "bypassed; pause it",
                        e,
                        subject=e.args["to"],
                        values={"to": e.args["to"], "transfer": e.transfer_id},
                    )
                )
        elif e.event == "MessageExecuted" and e.address in messengers:
            source = int(e.args["srcChainId"])
            if source in r.known.contracts:  # a source chain this store does not index is not checked
                pending.append(Pending("delivery", r.chain_id, e, {source: e.block_time}))
    return out, pending


def check_delivery(index: IndexStore, known: KnownAddresses, item: Pending) -> Alert | None:
    """``delivery-without-send``: a message executed whose ``MessageSent`` the source chain's index never
    saw, though it has indexed past the delivery's time. None when the send is there."""
    e = item.event
    (src,) = item.needs
    if index.message_sent(src, str(e.args["messageId"])) is not None:
        return None
    return Alert(
        rule="delivery-without-send",
        source="intrusion",
        severity=Severity.CRITICAL,
        summary=(
            f"message {e.args['messageId'][:10]}… (nonce {e.args['nonce']}) from chain {src} was delivered "
            f"on chain {item.chain_id}, but chain {src} never sent it: the messenger's signers are "
            "compromised; pause the bridges and replace the signers"
        ),
        key=onchain_key("delivery-without-send", item.chain_id, e.tx_hash, e.log_index),
        chain_id=item.chain_id,
        block_number=e.block_number,
        tx_hash=e.tx_hash,
        subject=e.address,
        values={"message_id": e.args["messageId"], "src_chain_id": src, "messenger": e.address},
    )


def cube_moves(r: Round) -> list[Pending]:
    """The cubes whose place changed in this round (home collection or a ``RemoteCube``): each is checked by
    :func:`check_cube` once every other chain's index has reached the move's time."""
    out = []
    others = {c for c in r.known.contracts if c != r.chain_id}
    for e in r.events:
        if (
            e.event == "Transfer"
            and e.contract in ("OptimizedCubeManagement", "RemoteCube")
            and e.token_id is not None
        ):
            if e.contract == "OptimizedCubeManagement" and e.from_address not in set(
                r.known.of(r.chain_id, "CubeBridge")
            ):
                continue  # only a release at home can unlock a cube that is abroad
            if e.contract == "RemoteCube" and e.from_address != ZERO_ADDRESS:
                continue  # only a mint abroad makes a second copy
            out.append(Pending("cube", r.chain_id, e, dict.fromkeys(others, e.block_time)))
    return out


def check_cube(index: IndexStore, known: KnownAddresses, item: Pending) -> Alert | None:
    """``cube-unlocked-twice``: cube `id` is unlocked at home (not held by the home cube bridge) while a
    ``RemoteCube`` of that id exists elsewhere, or exists on two remote chains."""
    e = item.event
    cube = int(e.token_id or 0)
    places = index.cube_holders([cube])
    bridges = {a for c in known.contracts.values() for a in c.get("CubeBridge", ())}
    live = []
    for (chain_id, contract, _cube), holder in sorted(places.items()):
        home = contract == "OptimizedCubeManagement" and holder not in bridges
        if home or (contract == "RemoteCube" and holder != ZERO_ADDRESS):
            live.append((chain_id, holder))
    if len(live) < 2:
        return None
    shown = ", ".join(f"chain {c} (held by {h})" for c, h in live)
    return Alert(
        rule="cube-unlocked-twice",
        source="intrusion",
        severity=Severity.CRITICAL,
        summary=(
            f"cube {cube} is unlocked on {len(live)} chains at once: {shown}; a forged bridge message made "
            "a copy"
        ),
        key=onchain_key("cube-unlocked-twice", item.chain_id, e.tx_hash, e.log_index),
        chain_id=item.chain_id,
        block_number=e.block_number,
        tx_hash=e.tx_hash,
        subject=str(e.to_address),
        values={"cube_id": cube, "chains": [c for c, _h in live]},
    )


#: The rules run on each round, in order (the cross-chain checks are the detector's).
RULES: tuple[Rule, ...] = (roles, admin_transfers, pauses, changes, timelock, safe, mints, cap, limits)
