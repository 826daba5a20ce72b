"""A whole bridge world on the one local chain, for the messenger, LBC bridge and cube bridge tests.

Two messengers, H (home) and R (remote), share a signer set (3 keys, threshold 2) and trust each other on
chain 31337. Home: the protocol's LBC and cubes behind `LBCBridge(home)` and `CubeBridge`. Remote: a second
LBCToken minted only by `LBCBridge(remote)`, and a `RemoteCubeBridge` with its `RemoteCube`. Each bridge's
peer is its counterpart on 31337, and each LBC route has LIMIT both ways. A message moves by reading
`MessageSent` from the send receipt, signing it for the destination messenger with `link_ops.model.attest`,
and calling `deliver` there.

Every bridge payload is `abi.encode(kind, nonce, from, to, ...)` (kind TRANSFER or REFUND, `nonce` the sending
bridge's own counter): see :func:`lbc_payload` and :func:`cubes_payload`. A transfer that arrives but cannot
execute is held by its destination bridge (:meth:`World.held`) until :meth:`World.retry` or
:meth:`World.refund`.

The world is built once per test module and every test runs from a snapshot of it: a test may deploy and
rewire (:meth:`World.swap_messengers`), but never mutates the :class:`World` object itself.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from _errors import revert_data
from ape.exceptions import ContractLogicError
from eth_abi.abi import decode, encode
from eth_account import Account
from eth_utils import keccak, to_checksum_address
from hexbytes import HexBytes

from link_ops.model.attest import Message, attest

CHAIN_ID = 31337  # the local anvil: home and remote at once
OTHER_CHAIN = 137  # a chain id that is never this one
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
DEFAULT_ADMIN_ROLE = HexBytes(b"\x00" * 32)
SENDER_ROLE = HexBytes(keccak(text="SENDER_ROLE"))
PAUSER_ROLE = HexBytes(keccak(text="PAUSER_ROLE"))
MINTER_ROLE = HexBytes(keccak(text="MINTER_ROLE"))
LBC = 10**18
DAY = 86_400
TOKEN_DOES_NOT_EXIST = HexBytes(keccak(text="TokenDoesNotExist()")[:4])
BASE_URI = "ipfs://cubes/"
# The limits of every LBC route, both ways, both bridges, unless a test sets others.
LIMIT = 1_000 * LBC
# Payload kinds (the first word of every bridge payload).
TRANSFER, REFUND = 1, 2
MAX_CUBES = 400  # MAX_CUBES_PER_MESSAGE of both cube bridges
UINT64_MAX = 2**64 - 1

_LBC_TYPES = ["uint256", "uint64", "address", "address", "uint256"]
_CUBE_TYPES = ["uint256", "uint64", "address", "address", "uint256[]", "uint8[]", "uint256[]"]


def _key(label: str) -> bytes:
    return keccak(text=f"link-ops bridge tests: {label}")


def _address(key: bytes) -> str:
    return to_checksum_address(Account.from_key(key).address)


# The signer set, ascending by address as AttestedMessenger requires, and 2 of them must sign.
SIGNER_KEYS: tuple[bytes, ...] = tuple(
    sorted((_key(f"signer {i}") for i in range(3)), key=lambda k: int(_address(k), 16))
)
SIGNERS: tuple[str, ...] = tuple(_address(k) for k in SIGNER_KEYS)
THRESHOLD = 2
# A key outside the set.
OUTSIDER_KEY = _key("outsider")
OUTSIDER = _address(OUTSIDER_KEY)


def address_of(thing: Any) -> str:
    return to_checksum_address(getattr(thing, "address", thing))


def events(receipt, contract, event_name: str) -> list[dict[str, Any]]:
    """The arguments of every `event_name` that `contract` emitted in `receipt`."""
    return [
        dict(log.event_arguments)
        for log in receipt.decode_logs(getattr(contract, event_name))
        if log.contract_address == contract.address
    ]


# --------------------------------------------------------------------------------------------- payloads


def lbc_payload(nonce: int, from_: Any, to: Any, amount: int, kind: int = TRANSFER) -> bytes:
    """What the LBC bridges carry: `abi.encode(kind, nonce, from, to, amount)`."""
    return encode(_LBC_TYPES, [kind, nonce, address_of(from_), address_of(to), amount])


def cubes_payload(
    nonce: int,
    from_: Any,
    to: Any,
    ids: Sequence[int],
    tiers: Sequence[int],
    mined: Sequence[int],
    kind: int = TRANSFER,
) -> bytes:
    """What the cube bridges carry, both ways:
    `abi.encode(kind, nonce, from, to, cubeIds, tiers, totalMined)`."""
    return encode(
        _CUBE_TYPES, [kind, nonce, address_of(from_), address_of(to), list(ids), list(tiers), list(mined)]
    )


def decode_cubes_payload(payload: bytes) -> tuple[Any, ...]:
    """(kind, nonce, from, to, cubeIds, tiers, totalMined) of a cube bridge payload."""
    return tuple(decode(_CUBE_TYPES, payload))


def payload_nonce(payload: bytes) -> int:
    """The sending bridge's nonce: the second word of every bridge payload."""
    return int.from_bytes(payload[32:64], "big")


def as_refund(payload: bytes) -> bytes:
    """The refund of transfer `payload`: the same payload with its kind (first word) REFUND."""
    return REFUND.to_bytes(32, "big") + payload[32:]


def transfer_id(src_chain_id: int, src_bridge: Any, nonce: int) -> bytes:
    """`IBridge.transferId`: `keccak256(abi.encode(srcChainId, srcBridge, nonce))`."""
    return keccak(encode(["uint256", "address", "uint64"], [src_chain_id, address_of(src_bridge), nonce]))


def commitment(dst_chain_id: int, payload: bytes) -> bytes:
    """`IBridge.outbox(nonce)` of a sent transfer: `keccak256(abi.encodePacked(dstChainId, payload))`."""
    return keccak(dst_chain_id.to_bytes(32, "big") + payload)


def error_data(signature: str, *args: Any) -> bytes:
    """The revert data of custom error `signature` (e.g. "LimitExceeded(uint256,uint256)") with `args`:
    what a TransferHeld event carries as its reason."""
    types = [t for t in signature.partition("(")[2].rstrip(")").split(",") if t]
    return keccak(text=signature)[:4] + encode(types, list(args))


# --------------------------------------------------------------------------------------------- the world


@dataclass(frozen=True)
class Messengers:
    """A pair of messengers trusting each other on CHAIN_ID: `home` serves the home bridges, `remote` the
    remote ones."""

    home: Any
    remote: Any


@dataclass
class World:
    admin: Any
    relayer: Any
    home_messenger: Any
    remote_messenger: Any
    home_lbc: Any
    remote_lbc: Any
    home_lbc_bridge: Any
    remote_lbc_bridge: Any
    cubes: Any
    cube_bridge: Any
    remote_cube_bridge: Any
    remote_cubes: Any
    project: Any
    _forged: itertools.count[int] = field(default_factory=lambda: itertools.count(2**63))

    # ----------------------------------------------------------------------------------------- messages

    @property
    def messengers(self) -> Messengers:
        return Messengers(self.home_messenger, self.remote_messenger)

    @property
    def bridges(self) -> tuple[Any, ...]:
        return (self.home_lbc_bridge, self.remote_lbc_bridge, self.cube_bridge, self.remote_cube_bridge)

    def bridge_at(self, address: Any) -> Any:
        """The bridge of this world at `address`."""
        (bridge,) = [b for b in self.bridges if b.address == address_of(address)]
        return bridge

    def destination(self, message: Message) -> Any:
        """The messenger of the world's pair that delivers `message`: the other one."""
        src = address_of(message.src_messenger)
        return self.remote_messenger if src == self.home_messenger.address else self.home_messenger

    def sent(self, receipt, *messengers: Any) -> Message:
        """The one message sent in `receipt` by `messengers` (default: the world's two)."""
        found = [
            Message(
                src_chain_id=CHAIN_ID,
                src_messenger=messenger.address,
                sender=args["sender"],
                dst_chain_id=args["dstChainId"],
                receiver=args["receiver"],
                nonce=args["nonce"],
                payload=bytes(args["payload"]),
            )
            for messenger in (messengers or (self.home_messenger, self.remote_messenger))
            for args in events(receipt, messenger, "MessageSent")
        ]
        assert len(found) == 1, f"expected one MessageSent, got {found}"
        return found[0]

    def signatures(self, message: Message, keys: Sequence[bytes] = SIGNER_KEYS[:THRESHOLD], to=None) -> list:
        """Attestations of `message` by `keys`, for the messenger `to` (default: its destination)."""
        return attest(message, address_of(to or self.destination(message)), list(keys))

    def deliver(
        self, message: Message, signatures: Sequence[bytes] | None = None, *, to=None, sender=None, **txn: Any
    ):
        """Delivers `message` on messenger `to` (default: its destination), signed by 2 signers by default."""
        messenger = to or self.destination(message)
        sigs = self.signatures(message, to=messenger) if signatures is None else list(signatures)
        return messenger.deliver(message.as_tuple(), sigs, sender=sender or self.relayer, **txn)

    def forge(
        self, *, src: Any, sender: Any, receiver: Any, payload: bytes, nonce: int | None = None
    ) -> Message:
        """A message that was never sent, claiming to come from `sender` through messenger `src`: what
        colluding signers can sign (or what they re-attest through another messenger)."""
        return Message(
            src_chain_id=CHAIN_ID,
            src_messenger=address_of(src),
            sender=address_of(sender),
            dst_chain_id=CHAIN_ID,
            receiver=address_of(receiver),
            nonce=next(self._forged) if nonce is None else nonce,
            payload=payload,
        )

    def executed(self, message: Message, messenger: Any = None) -> bool:
        return bool((messenger or self.destination(message)).executed(message.message_id))

    # ----------------------------------------------------------------------------------------- transfers

    def transfer_id(self, message: Message) -> bytes:
        """The id of the transfer (or, for a refund, of the refunded transfer's source) `message` carries."""
        return transfer_id(message.src_chain_id, message.sender, payload_nonce(message.payload))

    def held(self, message: Message) -> bool:
        """Whether the transfer in `message` is held by its destination bridge."""
        held = HexBytes(self.bridge_at(message.receiver).held(self.transfer_id(message)))
        assert held in (HexBytes(b"\x00" * 32), HexBytes(keccak(message.payload))), held
        return held != HexBytes(b"\x00" * 32)

    def received(self, message: Message) -> bool:
        """Whether the destination bridge recorded the transfer in `message` as received."""
        bridge = self.bridge_at(message.receiver)
        return bool(bridge.received(message.src_chain_id, message.sender, payload_nonce(message.payload)))

    def retry(self, message: Message, sender: Any = None):
        """Retries the held transfer of `message` at its destination bridge (anyone may; by default the
        relayer)."""
        bridge = self.bridge_at(message.receiver)
        return bridge.retry(
            message.src_chain_id, message.sender, message.payload, sender=sender or self.relayer
        )

    def refund(self, message: Message, sender: Any) -> tuple[Any, Message]:
        """`sender` refunds the held transfer of `message`: the receipt, and the refund message it sent."""
        bridge = self.bridge_at(message.receiver)
        receipt = bridge.refund(message.src_chain_id, message.sender, message.payload, sender=sender)
        return receipt, self.sent(receipt, self.messenger_of(bridge))

    def messenger_of(self, bridge: Any) -> Any:
        """The messenger `bridge` speaks through now (the world's own, or one a test swapped in)."""
        address = address_of(bridge.messenger())
        for messenger in (self.home_messenger, self.remote_messenger):
            if messenger.address == address:
                return messenger
        return self.project.AttestedMessenger.at(address)

    def swap_messengers(self, *, trust_old: bool = False) -> Messengers:
        """Deploys a fresh messenger pair with the same signers, wires it and moves every bridge onto it.
        With `trust_old`, each new messenger also accepts what the old source messenger sent (messages in
        flight at the swap)."""
        admin = self.admin
        new = Messengers(
            self.project.AttestedMessenger.deploy(admin, list(SIGNERS), THRESHOLD, sender=admin),
            self.project.AttestedMessenger.deploy(admin, list(SIGNERS), THRESHOLD, sender=admin),
        )
        new.home.setRemoteMessenger(CHAIN_ID, new.remote, sender=admin)
        new.remote.setRemoteMessenger(CHAIN_ID, new.home, sender=admin)
        if trust_old:
            new.home.setTrustedSource(CHAIN_ID, self.remote_messenger, True, sender=admin)
            new.remote.setTrustedSource(CHAIN_ID, self.home_messenger, True, sender=admin)
        for bridge, messenger in (
            (self.home_lbc_bridge, new.home),
            (self.cube_bridge, new.home),
            (self.remote_lbc_bridge, new.remote),
            (self.remote_cube_bridge, new.remote),
        ):
            messenger.grantRole(SENDER_ROLE, bridge, sender=admin)
            bridge.setMessenger(messenger, sender=admin)
        return new

    def reattest(self, message: Message, through: Messengers) -> Message:
        """The bridge payload of `message` sent again through the pair `through`, as if re-attested there
        (another messenger, another messenger nonce, the same transfer)."""
        src = (
            through.home
            if address_of(message.src_messenger) == self.home_messenger.address
            else through.remote
        )
        return self.forge(src=src, sender=message.sender, receiver=message.receiver, payload=message.payload)

    # ----------------------------------------------------------------------------------------- LBC

    def send_lbc_out(self, holder: Any, amount: int, to: Any = None, dst: int = CHAIN_ID) -> Message:
        """`holder` locks `amount` at home for `to` (default: itself) on the remote side."""
        self.home_lbc.approve(self.home_lbc_bridge, amount, sender=holder)
        receipt = self.home_lbc_bridge.send(dst, address_of(to or holder), amount, sender=holder)
        return self.sent(receipt, self.messenger_of(self.home_lbc_bridge))

    def send_lbc_home(self, holder: Any, amount: int, to: Any = None) -> Message:
        """`holder` burns `amount` on the remote side for `to` (default: itself) at home."""
        self.remote_lbc.approve(self.remote_lbc_bridge, amount, sender=holder)
        receipt = self.remote_lbc_bridge.send(CHAIN_ID, address_of(to or holder), amount, sender=holder)
        return self.sent(receipt, self.messenger_of(self.remote_lbc_bridge))

    def move_lbc_out(self, holder: Any, amount: int, to: Any = None) -> Message:
        message = self.send_lbc_out(holder, amount, to)
        self.deliver(message)
        return message

    def fund(self, holder: Any, amount: int) -> None:
        """Mints `amount` home LBC to `holder` (the admin holds MINTER_ROLE in this world)."""
        self.home_lbc.mint(holder, amount, sender=self.admin)

    def wire_lbc_route(self, chain_id: int, send_limit: int = LIMIT, receive_limit: int = LIMIT) -> None:
        """A second LBC route at home, to and from chain `chain_id`: the home messenger trusts R there and
        the home bridge's peer there is the remote bridge (so colluding signers can play its arrivals)."""
        self.home_messenger.setRemoteMessenger(chain_id, self.remote_messenger, sender=self.admin)
        self.home_lbc_bridge.setPeer(chain_id, self.remote_lbc_bridge, sender=self.admin)
        self.home_lbc_bridge.setLimits(chain_id, send_limit, receive_limit, sender=self.admin)

    # ----------------------------------------------------------------------------------------- cubes

    def send_cubes_out(
        self, holder: Any, ids: Sequence[int], to: Any = None, dst: int = CHAIN_ID, *, approve: bool = True
    ) -> Message:
        """`holder` approves the home bridge for `ids` (unless told not to) and sends them to `to` (default:
        itself)."""
        if approve:
            for cube_id in ids:
                self.cubes.approve(self.cube_bridge, cube_id, sender=holder)
        receipt = self.cube_bridge.send(dst, address_of(to or holder), list(ids), sender=holder)
        return self.sent(receipt, self.messenger_of(self.cube_bridge))

    def send_cubes_home(self, holder: Any, ids: Sequence[int], to: Any = None) -> Message:
        receipt = self.remote_cube_bridge.send(CHAIN_ID, address_of(to or holder), list(ids), sender=holder)
        return self.sent(receipt, self.messenger_of(self.remote_cube_bridge))

    def move_cubes_out(self, holder: Any, ids: Sequence[int], to: Any = None) -> Message:
        message = self.send_cubes_out(holder, ids, to)
        self.deliver(message)
        return message

    def remote_owner(self, cube_id: int) -> str | None:
        """The holder of remote cube `cube_id`, or None when it does not exist there."""
        try:
            return str(self.remote_cubes.ownerOf(cube_id))
        except ContractLogicError as err:
            # Solady's ERC-721 says a cube does not exist with TokenDoesNotExist(); any other revert is a
            # failure, not an absent cube.
            if revert_data(err) != TOKEN_DOES_NOT_EXIST:
                raise
            return None

    def unlocked_sides(self, cube_id: int) -> list[str]:
        """Where cube `cube_id` is held by someone other than a bridge: "home", "remote", both or neither
        (neither: in flight, or held by a bridge for a retry or refund)."""
        sides = []
        if self.cubes.ownerOf(cube_id) != self.cube_bridge.address:
            sides.append("home")
        if self.remote_owner(cube_id) is not None:
            sides.append("remote")
        return sides


def build_world(project, accounts, admin, lbc, cubes) -> World:
    """Deploys and wires both sides (see the module docstring); the route's limits are LIMIT both ways."""
    home_messenger = project.AttestedMessenger.deploy(admin, list(SIGNERS), THRESHOLD, sender=admin)
    remote_messenger = project.AttestedMessenger.deploy(admin, list(SIGNERS), THRESHOLD, sender=admin)
    home_messenger.setRemoteMessenger(CHAIN_ID, remote_messenger, sender=admin)
    remote_messenger.setRemoteMessenger(CHAIN_ID, home_messenger, sender=admin)

    home_lbc_bridge = project.LBCBridge.deploy(admin, lbc, home_messenger, CHAIN_ID, True, sender=admin)
    cube_bridge = project.CubeBridge.deploy(admin, cubes, home_messenger, sender=admin)
    remote_lbc = project.LBCToken.deploy(admin, lbc.cap(), sender=admin)
    remote_lbc_bridge = project.LBCBridge.deploy(
        admin, remote_lbc, remote_messenger, CHAIN_ID, False, sender=admin
    )
    remote_lbc.grantRole(MINTER_ROLE, remote_lbc_bridge, sender=admin)
    remote_cube_bridge = project.RemoteCubeBridge.deploy(
        admin, remote_messenger, CHAIN_ID, BASE_URI, sender=admin
    )
    remote_cubes = project.RemoteCube.at(remote_cube_bridge.cubes())

    home_lbc_bridge.setPeer(CHAIN_ID, remote_lbc_bridge, sender=admin)
    remote_lbc_bridge.setPeer(CHAIN_ID, home_lbc_bridge, sender=admin)
    cube_bridge.setPeer(CHAIN_ID, remote_cube_bridge, sender=admin)
    remote_cube_bridge.setPeer(CHAIN_ID, cube_bridge, sender=admin)
    for bridge in (home_lbc_bridge, cube_bridge):
        home_messenger.grantRole(SENDER_ROLE, bridge, sender=admin)
    for bridge in (remote_lbc_bridge, remote_cube_bridge):
        remote_messenger.grantRole(SENDER_ROLE, bridge, sender=admin)
    home_lbc_bridge.setLimits(CHAIN_ID, LIMIT, LIMIT, sender=admin)
    remote_lbc_bridge.setLimits(CHAIN_ID, LIMIT, LIMIT, sender=admin)
    # Home LBC for the tests to move: the admin may mint it (the cubes mint it otherwise).
    lbc.grantRole(MINTER_ROLE, admin, sender=admin)

    return World(
        admin=admin,
        relayer=accounts[6],
        home_messenger=home_messenger,
        remote_messenger=remote_messenger,
        home_lbc=lbc,
        remote_lbc=remote_lbc,
        home_lbc_bridge=home_lbc_bridge,
        remote_lbc_bridge=remote_lbc_bridge,
        cubes=cubes,
        cube_bridge=cube_bridge,
        remote_cube_bridge=remote_cube_bridge,
        remote_cubes=remote_cubes,
        project=project,
    )
