"""The governance Safe: deploy one, read it, have its owners sign a transaction, execute it.

No Safe transaction service is involved: the owners are ape accounts of this process (keystore aliases,
hardware wallets, test accounts), each signs the transaction's EIP-712 message
(:meth:`~link_ops.model.governance.SafeTx.signable`), and any account sends ``execTransaction`` with the
signatures and pays its gas. Everything that can be checked is checked before anything is signed or
sent: the signers are distinct owners, enough of them for the threshold, the Safe's nonce has not moved.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ape import chain
from ape.contracts import ContractInstance
from eth_utils.address import is_address, to_checksum_address

from link_ops.contracts import safe as safe_contracts
from link_ops.exceptions import ConfigurationError, SafeError, SignatureError
from link_ops.governance.simulate import genesis_hash, has_code, is_local_or_fork, simulate_call
from link_ops.model.chains import chain_name
from link_ops.model.governance import (
    ZERO_ADDRESS,
    SafeTx,
    encode_signatures,
    recover_signer,
    safe_proxy_address,
    safe_setup_calldata,
)

Reporter = Callable[[str], None]

#: Safe's sentinel in its owner list; never an owner.
_SENTINEL = "0x0000000000000000000000000000000000000001"


@dataclass(frozen=True)
class SafeSingletons:
    """The shared Safe contracts of one chain: the singleton every Safe proxy runs, and the factory."""

    singleton: ContractInstance
    factory: ContractInstance
    canonical: bool


#: Singletons this process deployed on local chains, by (chain id, genesis hash).
_INJECTED: dict[tuple[int, str], tuple[str, str]] = {}


def safe_singletons(deployer: Any = None, *, report: Reporter | None = None) -> SafeSingletons:
    """Safe 1.4.1's singleton and proxy factory on the connected chain.

    The canonical deployment when it has code there (every public chain Safe supports, and forks of
    them). Otherwise, on a local chain or a fork only, the copies this process deployed before, or new
    ones deployed from `deployer` (what ape-safe's ``SafeFactory.inject`` does). On a live chain without
    the canonical deployment it refuses: deploying Safe's contracts there is Safe's job, not ours.
    """
    say = report or (lambda _line: None)
    canonical = safe_contracts.CANONICAL
    if has_code(canonical[safe_contracts.SINGLETON]) and has_code(canonical[safe_contracts.PROXY_FACTORY]):
        return SafeSingletons(
            safe_contracts.at(safe_contracts.SINGLETON, canonical[safe_contracts.SINGLETON]),
            safe_contracts.at(safe_contracts.PROXY_FACTORY, canonical[safe_contracts.PROXY_FACTORY]),
            canonical=True,
        )
    chain_id = chain.chain_id
    if not is_local_or_fork():
        raise SafeError(
            f"{chain_name(chain_id)} ({chain_id}) has no Safe {safe_contracts.SAFE_VERSION} at its canonical "
            f"addresses ({canonical[safe_contracts.SINGLETON]}, {canonical[safe_contracts.PROXY_FACTORY]}): "
            "use a chain Safe supports, or create the Safe with Safe's own tools and pass its address"
        )
    key = (chain_id, genesis_hash())
    known = _INJECTED.get(key)
    # The very code, not just some: after a local chain is reverted (tests), another contract can be
    # deployed at the address this process once gave the singleton or the factory.
    if (
        known is not None
        and _holds(known[0], safe_contracts.SINGLETON)
        and _holds(known[1], safe_contracts.PROXY_FACTORY)
    ):
        singleton_address, factory_address = known
    else:
        if deployer is None or not hasattr(deployer, "address"):
            raise SafeError(
                "this local chain has no Safe contracts yet: give an account to deploy them (the deployer)"
            )
        singleton = deployer.deploy(safe_contracts.container(safe_contracts.SINGLETON))
        factory = deployer.deploy(safe_contracts.container(safe_contracts.PROXY_FACTORY))
        singleton_address, factory_address = str(singleton.address), str(factory.address)
        _INJECTED[key] = (singleton_address, factory_address)
        say(f"deployed Safe {safe_contracts.SAFE_VERSION} singleton at {singleton_address}")
        say(f"deployed Safe proxy factory at {factory_address}")
    return SafeSingletons(
        safe_contracts.at(safe_contracts.SINGLETON, singleton_address),
        safe_contracts.at(safe_contracts.PROXY_FACTORY, factory_address),
        canonical=False,
    )


def _holds(address: str, name: str) -> bool:
    """Whether `address` holds exactly the runtime code of Safe's contract `name`."""
    runtime = bytes(safe_contracts.contract_type(name).get_runtime_bytecode() or b"")
    return bool(runtime) and bytes(chain.provider.get_code(address) or b"") == runtime


def validate_owners(owners: Sequence[Any], threshold: int) -> list[str]:
    """`owners` as checksummed addresses, checked as Safe's ``setup`` checks them (distinct, not zero, not
    the sentinel) and with a threshold between 1 and their number."""
    addresses: list[str] = []
    for owner in owners:
        raw = getattr(owner, "address", owner)
        if not isinstance(raw, str) or not is_address(raw):
            raise ConfigurationError(f"a Safe owner must be an account or a 0x address, got {owner!r}")
        addresses.append(to_checksum_address(raw))
    if not addresses:
        raise ConfigurationError("a Safe needs at least one owner")
    if repeated := sorted({a for a in addresses if addresses.count(a) > 1}):
        raise ConfigurationError(f"each Safe owner may appear once; repeated: {', '.join(repeated)}")
    if bad := [a for a in addresses if a in (ZERO_ADDRESS, _SENTINEL)]:
        raise ConfigurationError(f"{', '.join(bad)} cannot own a Safe (Safe reserves it)")
    if isinstance(threshold, bool) or not isinstance(threshold, int) or not 1 <= threshold <= len(addresses):
        raise ConfigurationError(
            f"the threshold must be a whole number from 1 to the number of owners ({len(addresses)}), "
            f"got {threshold!r}"
        )
    return addresses


def deploy_safe(
    sender: Any,
    owners: Sequence[Any],
    threshold: int,
    *,
    salt_nonce: int = 0,
    fallback_handler: str | None = None,
    report: Reporter | None = None,
) -> ContractInstance:
    """A Safe 1.4.1 owned by `owners`, `threshold` of whom must sign; `sender` pays for its creation.

    The Safe is a proxy created with ``CREATE2``: its address follows from the owners, the threshold, the
    fallback handler and `salt_nonce`. When a Safe already exists there (an earlier, interrupted run) it
    is reused, so running again converges. The fallback handler defaults to Safe's canonical
    ``CompatibilityFallbackHandler`` where it exists (EIP-1271 support), else none.
    """
    say = report or (lambda _line: None)
    addresses = validate_owners(owners, threshold)
    if salt_nonce < 0 or salt_nonce >= 2**256:
        raise ConfigurationError(f"salt_nonce must be a uint256, got {salt_nonce}")
    singletons = safe_singletons(sender, report=say)
    handler = fallback_handler
    if handler is None:
        canonical_handler = safe_contracts.CANONICAL[safe_contracts.FALLBACK_HANDLER]
        handler = canonical_handler if has_code(canonical_handler) else ZERO_ADDRESS
    if not is_address(handler):
        raise ConfigurationError(f"fallback_handler must be a 0x address, got {handler!r}")
    initializer = safe_setup_calldata(addresses, threshold, handler)
    factory = singletons.factory
    predicted = safe_proxy_address(
        str(factory.address),
        bytes(factory.proxyCreationCode()),
        str(singletons.singleton.address),
        initializer,
        salt_nonce,
    )
    if has_code(predicted):
        say(f"reusing the Safe at {predicted} ({threshold} of {len(addresses)} owners)")
        return load_safe(predicted)
    receipt = factory.createProxyWithNonce(singletons.singleton, initializer, salt_nonce, sender=sender)
    created = [str(log.event_arguments["proxy"]) for log in receipt.decode_logs(factory.ProxyCreation)]
    if created != [predicted]:
        raise SafeError(f"the proxy factory created {created}, expected a Safe at {predicted}")
    say(f"deployed a {threshold}-of-{len(addresses)} Safe at {predicted}")
    return load_safe(predicted)


def load_safe(address: str) -> ContractInstance:
    """The Safe at `address`; refuses an address without code, or a contract that is not a set-up Safe."""
    if not is_address(address):
        raise ConfigurationError(f"a Safe's address is 0x and 40 hex digits, got {address!r}")
    address = to_checksum_address(address)
    if not has_code(address):
        raise SafeError(
            f"there is no contract at {address} on {chain_name(chain.chain_id)}: check the Safe's address "
            "and --network"
        )
    safe = safe_contracts.at(safe_contracts.SINGLETON, address)
    call = simulate_call(ZERO_ADDRESS, address, bytes.fromhex("e75235b8"))  # getThreshold()
    if not call.ok or len(call.return_data) != 32 or int.from_bytes(call.return_data, "big") == 0:
        raise SafeError(f"{address} is not a Safe that was set up (getThreshold() gave no threshold)")
    return safe


@dataclass(frozen=True)
class SafeInfo:
    """A Safe as the chain has it now."""

    address: str
    owners: tuple[str, ...]
    threshold: int
    nonce: int
    version: str


def safe_info(safe: ContractInstance) -> SafeInfo:
    return SafeInfo(
        address=to_checksum_address(str(safe.address)),
        owners=tuple(to_checksum_address(str(o)) for o in safe.getOwners()),
        threshold=int(safe.getThreshold()),
        nonce=int(safe.call_view_method("nonce")),
        version=str(safe.VERSION()),
    )


def build_safe_tx(
    safe: ContractInstance, to: str, data: bytes, *, value: int = 0, nonce: int | None = None
) -> SafeTx:
    """The Safe transaction that makes `safe` call `to` with `data`, at the Safe's next nonce by default."""
    return SafeTx(
        safe=to_checksum_address(str(safe.address)),
        chain_id=int(chain.chain_id),
        to=to_checksum_address(to),
        data=bytes(data),
        value=value,
        nonce=int(safe.call_view_method("nonce")) if nonce is None else nonce,
    )


def check_signers(info: SafeInfo, signers: Sequence[Any]) -> list[str]:
    """The signers' addresses, refused unless they are distinct owners of the Safe, at least its threshold
    of them. Nothing is signed yet: a wrong signer costs no prompt of a hardware wallet or keystore."""
    addresses: list[str] = []
    for signer in signers:
        raw = getattr(signer, "address", None)
        if not isinstance(raw, str) or not is_address(raw):
            raise SignatureError(f"a signer must be an ape account that can sign, got {signer!r}")
        addresses.append(to_checksum_address(raw))
    if repeated := sorted({a for a in addresses if addresses.count(a) > 1}):
        raise SignatureError(f"each owner signs once; given more than once: {', '.join(repeated)}")
    owners = set(info.owners)
    if outsiders := [a for a in addresses if a not in owners]:
        raise SignatureError(
            f"{', '.join(outsiders)} {'is' if len(outsiders) == 1 else 'are'} not an owner of the Safe "
            f"{info.address}, whose owners are {', '.join(info.owners)}: sign with owners' accounts "
            "(--signer)"
        )
    if len(addresses) < info.threshold:
        missing = info.threshold - len(addresses)
        raise SignatureError(
            f"the Safe {info.address} needs the signatures of {info.threshold} of its {len(info.owners)} "
            f"owners, got {len(addresses)}: add --signer for {missing} more owner{'s' if missing > 1 else ''}"
        )
    return addresses


def eip712_message(safe_tx: SafeTx) -> Any:
    """`safe_tx` as the ``eip712`` package's typed message (``SafeTx`` of Safe 1.4.1): what a signer shows
    field by field (a keystore account prints the domain and each field before asking to sign; hardware
    wallets take it as EIP-712 too)."""
    from eip712.common import create_safe_tx_def

    define: Any = create_safe_tx_def
    message_type = define(
        version=safe_contracts.SAFE_VERSION, contract_address=safe_tx.safe, chain_id=safe_tx.chain_id
    )
    return message_type(
        to=safe_tx.to,
        value=safe_tx.value,
        data=safe_tx.data,
        operation=int(safe_tx.operation),
        safeTxGas=safe_tx.safe_tx_gas,
        baseGas=safe_tx.base_gas,
        gasPrice=safe_tx.gas_price,
        gasToken=safe_tx.gas_token,
        refundReceiver=safe_tx.refund_receiver,
        nonce=safe_tx.nonce,
    )


def sign_safe_tx(safe_tx: SafeTx, signer: Any) -> bytes:
    """`signer`'s signature over `safe_tx` (65 bytes, ``r || s || v``), checked to recover to it from this
    module's own hash of the transaction (:meth:`SafeTx.hash`, which the Safe's ``getTransactionHash``
    equals)."""
    signature = signer.sign_message(eip712_message(safe_tx))
    if signature is None:
        raise SignatureError(f"{signer.address} did not sign the Safe transaction (declined or unsupported)")
    raw = bytes(signature.encode_rsv())
    if recover_signer(safe_tx, raw) != to_checksum_address(signer.address):
        raise SignatureError(
            f"the signature {signer.address} returned does not recover to it: the account signed "
            "something else (a hardware wallet needs EIP-712 support)"
        )
    return raw


def collect_signatures(safe: ContractInstance, safe_tx: SafeTx, signers: Sequence[Any]) -> dict[str, bytes]:
    """The signatures of `signers` (owners, at least the threshold) over `safe_tx`, by owner address."""
    addresses = check_signers(safe_info(safe), signers)
    return {
        address: sign_safe_tx(safe_tx, signer) for address, signer in zip(addresses, signers, strict=True)
    }


def check_signatures(info: SafeInfo, safe_tx: SafeTx, signatures: Mapping[str, bytes]) -> bytes:
    """`signatures` checked as the Safe will check them (each recovers to the owner it is filed under,
    enough owners, the transaction at the Safe's current nonce), packed for ``execTransaction``."""
    if safe_tx.nonce != info.nonce:
        raise SignatureError(
            f"the transaction was signed for the Safe's nonce {safe_tx.nonce}, but the Safe is at nonce "
            f"{info.nonce} (another transaction executed first): build and sign it again"
        )
    owners = set(info.owners)
    for claimed, signature in signatures.items():
        signer = recover_signer(safe_tx, bytes(signature))
        if signer != to_checksum_address(claimed):
            raise SignatureError(f"the signature filed under {claimed} was made by {signer}")
        if signer not in owners:
            raise SignatureError(f"{signer} signed but is not an owner of the Safe {info.address}")
    if len(signatures) < info.threshold:
        raise SignatureError(
            f"the Safe {info.address} needs {info.threshold} owners' signatures, got {len(signatures)}"
        )
    return encode_signatures(signatures)


def exec_safe_tx(
    safe: ContractInstance,
    safe_tx: SafeTx,
    signatures: Mapping[str, bytes],
    sender: Any,
    *,
    report: Reporter | None = None,
) -> Any:
    """Sends ``execTransaction`` from `sender` (any account: it pays the gas) and returns the receipt.

    The signatures are checked first (:func:`check_signatures`) and the transaction simulated from
    `sender`: a refusal of the Safe, or of the contract it calls, is raised as
    :class:`~link_ops.exceptions.SimulationError` naming the reason, before anything is sent.
    """
    from link_ops.governance.simulate import require_success

    say = report or (lambda _line: None)
    packed = check_signatures(safe_info(safe), safe_tx, signatures)
    require_success(
        simulate_call(str(sender.address), str(safe.address), safe_tx.exec_calldata(packed)),
        f"the Safe {safe.address} would refuse the transaction",
    )
    receipt = safe.execTransaction(*safe_tx.exec_args(packed), sender=sender)
    if not list(receipt.decode_logs(safe.ExecutionSuccess)):
        raise SafeError(f"the Safe transaction {receipt.txn_hash} did not report ExecutionSuccess")
    say(f"Safe {safe.address} executed its transaction {safe_tx.nonce} in {receipt.txn_hash}")
    return receipt
