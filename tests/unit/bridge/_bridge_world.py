"""A whole bridge world on the one local chain, for the messenger, LBC bridge and cube bridge tests.

Two messengers, H (home) and R (remote), share a signer set (3 keys, threshold 2) and trust each other on
chain 31337. Home: the protocol's LBC and cubes behind `LBCBridge(home)` and `CubeBridge`. Remote: a second
LBCToken minted only by `LBCBridge(remote)`, and a `RemoteCubeBridge` with its `RemoteCube`. Each bridge's
peer is its counterpart on 31337. A message moves by reading `MessageSent` from the send receipt, signing
it for the destination messenger with `link_ops.model.attest`, and calling `deliver` there.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from _errors import revert_data
from ape.exceptions import ContractLogicError
from eth_abi.abi import encode
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
# Both daily limits of both LBC bridges unless a test sets others.
LIMIT = 1_000 * LBC


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


def lbc_payload(to: Any, amount: int) -> bytes:
    """What the LBC bridges carry: `abi.encode(to, amount)`."""
    return encode(["address", "uint256"], [address_of(to), amount])


def cubes_out_payload(to: Any, ids: Sequence[int], tiers: Sequence[int], mined: Sequence[int]) -> bytes:
    """What the home cube bridge carries: `abi.encode(to, cubeIds, tiers, totalMined)`."""
    return encode(
        ["address", "uint256[]", "uint8[]", "uint256[]"],
        [address_of(to), list(ids), list(tiers), list(mined)],
    )


def cubes_home_payload(to: Any, ids: Sequence[int]) -> bytes:
    """What the remote cube bridge carries: `abi.encode(to, cubeIds)`."""
    return encode(["address", "uint256[]"], [address_of(to), list(ids)])


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
    _forged: itertools.count[int] = field(default_factory=lambda: itertools.count(2**63))

    # ----------------------------------------------------------------------------------------- messages

    def messenger_at(self, address: str) -> Any:
        return (
            self.home_messenger
            if address_of(address) == self.home_messenger.address
            else self.remote_messenger
        )

    def destination(self, message: Message) -> Any:
        """The messenger that delivers `message`: the other one."""
        src = self.messenger_at(message.src_messenger)
        return self.remote_messenger if src is self.home_messenger else self.home_messenger

    def sent(self, receipt) -> Message:
        """The one message sent (by either messenger) in `receipt`."""
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
            for messenger in (self.home_messenger, self.remote_messenger)
            for args in events(receipt, messenger, "MessageSent")
        ]
        assert len(found) == 1, f"expected one MessageSent, got {found}"
        return found[0]

    def signatures(self, message: Message, keys: Sequence[bytes] = SIGNER_KEYS[:THRESHOLD], to=None) -> list:
        """Attestations of `message` by `keys`, for the messenger `to` (default: its destination)."""
        return attest(message, address_of(to or self.destination(message)), list(keys))

    def deliver(self, message: Message, signatures: Sequence[bytes] | None = None, *, to=None, sender=None):
        """Delivers `message` on messenger `to` (default: its destination), signed by 2 signers by default."""
        messenger = to or self.destination(message)
        sigs = self.signatures(message, to=messenger) if signatures is None else list(signatures)
        return messenger.deliver(message.as_tuple(), sigs, sender=sender or self.relayer)

    def forge(
        self, *, src: Any, sender: Any, receiver: Any, payload: bytes, nonce: int | None = None
    ) -> Message:
        """A message that was never sent, claiming to come from `sender` through messenger `src`: what
        colluding signers can sign."""
        return Message(
            src_chain_id=CHAIN_ID,
            src_messenger=address_of(src),
            sender=address_of(sender),
            dst_chain_id=CHAIN_ID,
            receiver=address_of(receiver),
            nonce=next(self._forged) if nonce is None else nonce,
            payload=payload,
        )

    def executed(self, message: Message) -> bool:
        return bool(self.destination(message).executed(message.message_id))

    # ----------------------------------------------------------------------------------------- LBC

    def send_lbc_out(self, holder: Any, amount: int, to: Any = None, dst: int = CHAIN_ID) -> Message:
        """`holder` locks `amount` at home for `to` (default: itself) on the remote side."""
        self.home_lbc.approve(self.home_lbc_bridge, amount, sender=holder)
        receipt = self.home_lbc_bridge.send(dst, address_of(to or holder), amount, sender=holder)
        return self.sent(receipt)

    def send_lbc_home(self, holder: Any, amount: int, to: Any = None) -> Message:
        """`holder` burns `amount` on the remote side for `to` (default: itself) at home."""
        self.remote_lbc.approve(self.remote_lbc_bridge, amount, sender=holder)
        receipt = self.remote_lbc_bridge.send(CHAIN_ID, address_of(to or holder), amount, sender=holder)
        return self.sent(receipt)

    def move_lbc_out(self, holder: Any, amount: int, to: Any = None) -> Message:
        message = self.send_lbc_out(holder, amount, to)
        self.deliver(message)
        return message

    def fund(self, holder: Any, amount: int) -> None:
        """Mints `amount` home LBC to `holder` (the admin holds MINTER_ROLE in this world)."""
        self.home_lbc.mint(holder, amount, sender=self.admin)

    # ----------------------------------------------------------------------------------------- cubes

    def send_cubes_out(self, holder: Any, ids: Sequence[int], to: Any = None, dst: int = CHAIN_ID) -> Message:
        """`holder` approves the home bridge for `ids` and sends them to `to` (default: itself)."""
        for cube_id in ids:
            self.cubes.approve(self.cube_bridge, cube_id, sender=holder)
        receipt = self.cube_bridge.send(dst, address_of(to or holder), list(ids), sender=holder)
        return self.sent(receipt)

    def send_cubes_home(self, holder: Any, ids: Sequence[int], to: Any = None) -> Message:
        receipt = self.remote_cube_bridge.send(CHAIN_ID, address_of(to or holder), list(ids), sender=holder)
        return self.sent(receipt)

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
        """Where cube `cube_id` is held by someone other than a bridge: "home", "remote", both or neither."""
        sides = []
        if self.cubes.ownerOf(cube_id) != self.cube_bridge.address:
            sides.append("home")
        if self.remote_owner(cube_id) is not None:
            sides.append("remote")
        return sides


def build_world(project, accounts, admin, lbc, cubes) -> World:
    """Deploys and wires both sides (see the module docstring); limits are LIMIT both ways, both bridges."""
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
    home_lbc_bridge.setLimits(LIMIT, LIMIT, sender=admin)
    remote_lbc_bridge.setLimits(LIMIT, LIMIT, sender=admin)
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
    )
