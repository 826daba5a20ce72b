"""Who holds which role: every member of every OpenZeppelin AccessControl role of a contract, and which of
them are externally owned accounts (a key someone holds) rather than contracts (the timelock, a Safe).

AccessControl keeps no list of members: they are read from the contract's ``RoleGranted`` events and kept
when ``hasRole`` still says yes. After a governed deployment, only contracts should remain, apart from the
few accounts allowed on purpose (a guardian key holding the pause role, an executor bot).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ape import chain
from ape.contracts import ContractInstance
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from link_ops.model.governance import ZERO_ADDRESS, ZERO_BYTES32

#: EIP-7702: an account whose code is this prefix and an address is still a key's account.
_DELEGATION_PREFIX = bytes.fromhex("ef0100")


@dataclass(frozen=True)
class RoleHolder:
    """One account holding one role of one contract."""

    contract: str
    role_name: str
    role: bytes
    account: str
    #: ``contract``, ``eoa`` (a key: no code, or an EIP-7702 delegation), or ``open`` (``address(0)``:
    #: everyone, as a timelock's open executor role).
    kind: str
    #: The role is only pending (``AccessControlDefaultAdminRules``' scheduled default-admin transfer).
    pending: bool = False

    def __str__(self) -> str:
        state = " (pending transfer)" if self.pending else ""
        return f"{self.role_name}{state} of {self.contract}: {self.account} ({self.kind})"


def account_kind(address: str) -> str:
    """``open`` for the zero address, ``eoa`` for an account without code or with an EIP-7702 delegation
    (still controlled by its key), ``contract`` otherwise."""
    address = to_checksum_address(address)
    if address == ZERO_ADDRESS:
        return "open"
    code = bytes(chain.provider.get_code(address) or b"")
    if not code or (len(code) == 23 and code.startswith(_DELEGATION_PREFIX)):
        return "eoa"
    return "contract"


def role_names(contract: ContractInstance) -> dict[bytes, str]:
    """Every role `contract` declares (its ``*_ROLE()`` views), plus ``DEFAULT_ADMIN_ROLE`` (zero)."""
    names = {ZERO_BYTES32: "DEFAULT_ADMIN_ROLE"}
    for method in contract.contract_type.view_methods:
        if method.name.endswith("_ROLE") and not method.inputs and method.name != "DEFAULT_ADMIN_ROLE":
            names[bytes(getattr(contract, method.name)())] = method.name
    return names


def role_holders(contract: ContractInstance, *, from_block: int = 0) -> list[RoleHolder]:
    """Every current member of every role of `contract` (an AccessControl contract), found in its
    ``RoleGranted`` events since `from_block` and confirmed by ``hasRole`` now, with the pending default
    admin of an ``AccessControlDefaultAdminRules`` contract."""
    names = role_names(contract)
    address = to_checksum_address(str(contract.address))
    head = chain.blocks.height
    seen: dict[tuple[bytes, str], None] = {}
    for log in contract.RoleGranted.range(from_block, head + 1):
        args = log.event_arguments
        seen[(bytes(args["role"]), to_checksum_address(str(args["account"])))] = None
    holders = []
    for role, account in seen:
        if contract.hasRole(role, account):
            name = names.get(role, "0x" + role.hex())
            holders.append(RoleHolder(address, name, role, account, account_kind(account)))
    if "pendingDefaultAdmin" in contract.contract_type.view_methods:
        pending, _schedule = contract.pendingDefaultAdmin()
        if to_checksum_address(str(pending)) != ZERO_ADDRESS:
            account = to_checksum_address(str(pending))
            holders.append(
                RoleHolder(address, "DEFAULT_ADMIN_ROLE", ZERO_BYTES32, account, account_kind(account), True)
            )
    return holders


def check_no_eoa_roles(
    *contracts: ContractInstance, from_block: int = 0, allow: Iterable[Any] = ()
) -> list[RoleHolder]:
    """The roles that externally owned accounts still hold (or are about to: a pending default-admin
    transfer) on `contracts`, except for the accounts in `allow`. Empty when only contracts hold roles.

    After a governed deployment this should be empty, or list only what was allowed on purpose."""
    allowed = {to_checksum_address(str(getattr(a, "address", a))) for a in allow}
    found = []
    for contract in contracts:
        found += [
            h
            for h in role_holders(contract, from_block=from_block)
            if h.kind == "eoa" and h.account not in allowed
        ]
    return found


def role_id(name: str) -> bytes:
    """The id of role `name` as OpenZeppelin contracts define it: ``keccak256(name)``, zero for the
    default admin."""
    return ZERO_BYTES32 if name == "DEFAULT_ADMIN_ROLE" else keccak(text=name)
