"""Which events the index keeps, and how a raw log becomes a stored event.

Each indexed contract is known by its packaged name (:mod:`link_ops.contracts`); :data:`INDEXED_EVENTS`
lists the events kept for each, and their ABIs come from the package. :class:`Catalog` turns a log
(the ``eth_getLogs`` JSON) of a known contract into a :class:`~link_ops.store.IndexedEvent`: the decoded
arguments as JSON-ready values, plus the columns the queries filter on (``from_address``, ``to_address``,
``token_id`` and ``amount`` of a ``Transfer``, the ``transfer_id`` of a bridge event).

JSON values: addresses checksummed, ``bytes``/``bytesN`` as ``0x`` hex, integers of at most 48 bits as
numbers and wider ones as decimal strings (a JSON number loses precision beyond 2**53), arrays as lists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from link_ops import contracts
from link_ops.store.index_tables import IndexedEvent

#: What every administered contract (``Governed``: OpenZeppelin's AccessControlDefaultAdminRules plus the
#: rescue of stray tokens) says about who governs it: the watch reads these.
_GOVERNED_EVENTS = (
    "RoleGranted",
    "RoleRevoked",
    "RoleAdminChanged",
    "DefaultAdminTransferScheduled",
    "DefaultAdminTransferCanceled",
    "DefaultAdminDelayChangeScheduled",
    "DefaultAdminDelayChangeCanceled",
    "Rescued",
    "NFTRescued",
)

_BRIDGE_EVENTS = (
    "TransferHeld",
    "TransferRefundSent",
    "TransferRefunded",
    "Paused",
    "Unpaused",
    "PeerSet",
    "MessengerSet",
    *_GOVERNED_EVENTS,
)

_CUBE_BRIDGE_EVENTS = ("CubesSent", "CubesReceived", *_BRIDGE_EVENTS)

#: The name the governance Safe's events are read under: Safe 1.4.1's ``SafeL2`` singleton, whose ABI comes
#: from :mod:`link_ops.contracts.safe` (every Safe proxy emits the singleton's events).
SAFE_CONTRACT = "SafeL2"

#: The events kept, by contract: what operations query (transfers, claims, partners, the bridge) and what
#: the watch needs to see who governs what (roles, admin transfers, pauses, rates, limits, signers, peers,
#: messengers, the timelock's operations and the Safe's owners, threshold, modules, guard, fallback handler).
INDEXED_EVENTS: Mapping[str, tuple[str, ...]] = {
    # Home: the collection (ERC-721 Transfer and the node events), LBC, the partners.
    "OptimizedCubeManagement": (
        "Transfer",
        "CubesMinted",
        "CubeActivitySet",
        "TierRateSet",
        "Paused",
        "Unpaused",
        "DefaultRoyaltySet",
        *_GOVERNED_EVENTS,
    ),
    "LBCToken": ("Transfer", *_GOVERNED_EVENTS),
    "PartnerFactory": ("PartnerCreated", *_GOVERNED_EVENTS),
    "PartnerBenefits": ("WelcomeClaimed", "UnclaimedWithdrawn"),
    # The bridge, on every chain: messages, sends, arrivals, holds, refunds, and its wiring.
    "AttestedMessenger": (
        "MessageSent",
        "MessageExecuted",
        "SignersSet",
        "RemoteMessengerSet",
        "TrustedSourceSet",
        *_GOVERNED_EVENTS,
    ),
    "LBCBridge": ("LBCSent", "LBCReceived", "LimitsSet", *_BRIDGE_EVENTS),
    # The two cube bridges (home and remote) emit the same events.
    "CubeBridge": _CUBE_BRIDGE_EVENTS,
    "RemoteCubeBridge": _CUBE_BRIDGE_EVENTS,
    # Remote chains: the cubes that arrived (minted on arrival, burnt on the way home).
    "RemoteCube": ("Transfer",),
    # Governance: the timelock that administers each chain's contracts, and the Safe that proposes to it.
    "LinkTimelock": (
        "CallScheduled",
        "CallSalt",
        "CallExecuted",
        "Cancelled",
        "MinDelayChange",
        "RoleGranted",
        "RoleRevoked",
        "RoleAdminChanged",
    ),
    SAFE_CONTRACT: (
        "AddedOwner",
        "RemovedOwner",
        "ChangedThreshold",
        "EnabledModule",
        "DisabledModule",
        "ChangedGuard",
        "ChangedFallbackHandler",
        "ExecutionFromModuleSuccess",
    ),
}

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


def contract_abi(name: str) -> list[dict[str, Any]]:
    """The ABI of indexed contract `name`: a packaged one, or the Safe's (:data:`SAFE_CONTRACT`)."""
    if name == SAFE_CONTRACT:
        from link_ops.contracts import safe

        return safe.abi(safe.SINGLETON)
    return contracts.abi(name)


@lru_cache(maxsize=65_536)
def checksum(address: str) -> str:
    """`address` (any case) in its EIP-55 form; cached, since the same holders come back again and again."""
    return to_checksum_address(address)


def _signature(abi_type: Mapping[str, Any]) -> str:
    kind = str(abi_type["type"])
    if kind.startswith("tuple"):
        inner = ",".join(_signature(c) for c in abi_type.get("components", []))
        return f"({inner}){kind[len('tuple') :]}"
    return kind


def event_topic(event_abi: Mapping[str, Any]) -> str:
    """topic0 of an event: keccak of ``Name(type,…)``, as ``0x`` hex."""
    text = f"{event_abi['name']}({','.join(_signature(i) for i in event_abi['inputs'])})"
    return "0x" + keccak(text=text).hex()


def _converter(abi_type: str) -> Callable[[Any], Any]:
    """How a decoded value of `abi_type` becomes JSON."""
    if abi_type.endswith("]"):
        inner = _converter(abi_type[: abi_type.rindex("[")])
        return lambda values: [inner(v) for v in values]
    if abi_type == "address":
        return lambda v: checksum(v)
    if abi_type == "bool":
        return bool
    if abi_type.startswith("bytes"):
        return lambda v: "0x" + bytes(v).hex()
    if abi_type.startswith(("uint", "int")):
        bits = int(abi_type.removeprefix("u").removeprefix("int") or 256)
        return int if bits <= 48 else (lambda v: str(int(v)))
    if abi_type == "string":
        return str
    raise ValueError(f"the index does not decode ABI type {abi_type!r}")


def _topic_decoder(abi_type: str) -> Callable[[str], Any]:
    """How an indexed (static) argument is read from its topic (``0x`` + 64 hex digits)."""
    if abi_type == "address":
        return lambda topic: checksum("0x" + topic[-40:])
    if abi_type == "bool":
        return lambda topic: int(topic, 16) != 0
    if abi_type.startswith("uint"):
        convert = _converter(abi_type)
        return lambda topic: convert(int(topic, 16))
    if abi_type.startswith("int"):
        bits = int(abi_type[3:] or 256)
        convert = _converter(abi_type)

        def signed(topic: str) -> Any:
            value = int(topic, 16) & ((1 << bits) - 1)
            return convert(value - (1 << bits) if value >> (bits - 1) else value)

        return signed
    if abi_type.startswith("bytes") and abi_type != "bytes":
        size = int(abi_type[5:])
        return lambda topic: "0x" + topic[2 : 2 + 2 * size]
    # Dynamic indexed values (string, bytes, arrays) are stored as their hash.
    return lambda topic: topic


class EventDecoder:
    """Decodes one event of one contract: `inputs` are (name, ABI type, indexed) in ABI order."""

    def __init__(
        self, contract: str, name: str, topic0: str, inputs: Sequence[tuple[str, str, bool]]
    ) -> None:
        self.contract = contract
        self.name = name
        self.topic0 = topic0
        self.inputs = tuple(inputs)
        self._order = [n for n, _t, _i in self.inputs]
        self._topics = [(n, _topic_decoder(t)) for n, t, indexed in self.inputs if indexed]
        self._data_names = [n for n, _t, indexed in self.inputs if not indexed]
        self._data_types = [t for _n, t, indexed in self.inputs if not indexed]
        self._data_converters = [_converter(t) for t in self._data_types]

    def __repr__(self) -> str:
        return f"EventDecoder({self.contract}.{self.name})"

    def args(self, topics: Sequence[str], data: str) -> dict[str, Any]:
        """The arguments of a log with `topics` (topic0 first) and `data` (``0x`` hex)."""
        if len(topics) != len(self._topics) + 1:
            raise ValueError(
                f"{self.contract}.{self.name} has {len(self._topics)} indexed arguments, the log "
                f"{len(topics) - 1} topics"
            )
        values: dict[str, Any] = {
            name: decode(topic) for (name, decode), topic in zip(self._topics, topics[1:], strict=True)
        }
        if self._data_types:
            raw = abi_decode(self._data_types, bytes.fromhex(data[2:]))
            for name, convert, value in zip(self._data_names, self._data_converters, raw, strict=True):
                values[name] = convert(value)
        return {name: values[name] for name in self._order}


class Catalog:
    """The decoders of the indexed contracts' events, by contract name and topic0."""

    def __init__(self, events: Mapping[str, Iterable[str]] = INDEXED_EVENTS) -> None:
        self._decoders: dict[tuple[str, str], EventDecoder] = {}
        for contract, names in events.items():
            wanted = set(names)
            found = set()
            for entry in contract_abi(contract):
                if entry.get("type") != "event" or entry.get("name") not in wanted:
                    continue
                inputs = tuple((str(i["name"]), _signature(i), bool(i["indexed"])) for i in entry["inputs"])
                decoder = EventDecoder(contract, str(entry["name"]), event_topic(entry), inputs)
                self._decoders[(contract, decoder.topic0)] = decoder
                found.add(decoder.name)
            if missing := wanted - found:
                raise ValueError(f"{contract}'s ABI has no event {', '.join(sorted(missing))}")

    def topics(self, contract_names: Iterable[str]) -> list[str]:
        """The topic0 of every kept event of `contract_names`, sorted (one ``eth_getLogs`` filter)."""
        names = set(contract_names)
        return sorted({topic for (contract, topic) in self._decoders if contract in names})

    def decoder(self, contract: str, topic0: str) -> EventDecoder | None:
        return self._decoders.get((contract, topic0))

    def decode(
        self, chain_id: int, contract: str, log: Mapping[str, Any], block_time: int
    ) -> IndexedEvent | None:
        """`log` of `contract` as a stored event, or None when it is not one of the kept events."""
        topics = log["topics"]
        if not topics:
            return None
        decoder = self._decoders.get((contract, topics[0].lower()))
        if decoder is None:
            return None
        return IndexedEvent.of(
            chain_id,
            int(log["blockNumber"], 16),
            int(log["logIndex"], 16),
            log["blockHash"].lower(),
            log["transactionHash"].lower(),
            checksum(log["address"]),
            contract,
            decoder.name,
            decoder.args(topics, log["data"]),
            block_time,
        )
