"""AttestedMessenger: messages between chains on the word of 2 of 3 signers (see IAttestedMessenger.sol).

The world (tests/unit/bridge/_bridge_world.py) puts home and remote on the one local chain: messenger H
sends, messenger R delivers, and the LBC bridges are the receivers. Every rejected delivery leaves the
message unexecuted and mints nothing on the remote side. (Replay across messengers is the bridges' own
record: see test_lbc_bridge.py and test_cube_bridge.py.)
"""

from __future__ import annotations

import dataclasses

import pytest
from _bridge_world import (
    CHAIN_ID,
    DEFAULT_ADMIN_ROLE,
    LBC,
    OTHER_CHAIN,
    OUTSIDER,
    OUTSIDER_KEY,
    SENDER_ROLE,
    SIGNER_KEYS,
    SIGNERS,
    THRESHOLD,
    ZERO_ADDRESS,
    World,
    events,
    lbc_payload,
    transfer_id,
)
from _errors import reverts
from eth_account import Account
from eth_utils import to_checksum_address

from link_ops.model import attest
from link_ops.model.attest import Message

AMOUNT = 5 * LBC
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@pytest.fixture
def home(world):
    return world.home_messenger


@pytest.fixture
def remote(world):
    return world.remote_messenger


@pytest.fixture
def outbound(world, alice) -> Message:
    """Alice's AMOUNT locked at home and on its way to her on the remote side, not delivered yet."""
    world.fund(alice, AMOUNT)
    return world.send_lbc_out(alice, AMOUNT)


def recovered(message: Message, messenger, signature: bytes) -> str:
    """Who `signature` recovers to when `message` is checked by `messenger`."""
    signer = Account._recover_hash(attest.digest(message, messenger.address), signature=signature)
    return to_checksum_address(signer)


def assert_not_delivered(world: World, message: Message) -> None:
    assert not world.executed(message)
    assert world.remote_lbc.totalSupply() == 0


# --------------------------------------------------------------------------------------------- constructor


def test_constructor__signers_threshold_and_admin__are_set(project, admin, alice, chain):
    messenger = project.AttestedMessenger.deploy(alice, list(SIGNERS), THRESHOLD, sender=admin)
    assert messenger.signers() == list(SIGNERS)
    assert messenger.threshold() == THRESHOLD
    assert messenger.outboundNonce() == 0
    assert messenger.hasRole(DEFAULT_ADMIN_ROLE, alice)
    assert messenger.defaultAdmin() == alice.address
    assert not messenger.hasRole(DEFAULT_ADMIN_ROLE, admin)
    assert messenger.SENDER_ROLE() == SENDER_ROLE
    assert messenger.MESSAGE_TYPE() == attest.MESSAGE_TYPE
    receipt = chain.provider.get_receipt(messenger.txn_hash)
    assert events(receipt, messenger, "SignersSet") == [{"signers": list(SIGNERS), "threshold": THRESHOLD}]


INVALID_SETS = {
    "empty": [],
    "descending": list(reversed(SIGNERS)),
    "unsorted": [SIGNERS[1], SIGNERS[0], SIGNERS[2]],
    "duplicate": [SIGNERS[0], SIGNERS[0], SIGNERS[1]],
    "zero address": [ZERO_ADDRESS, SIGNERS[0], SIGNERS[1]],
}


@pytest.mark.parametrize("case", list(INVALID_SETS))
def test_constructor__invalid_signer_set__reverts_invalid_signer_set(
    project, admin, home, case, failing_deployer
):
    with reverts(home.InvalidSignerSet):
        project.AttestedMessenger.deploy(admin, INVALID_SETS[case], 1, sender=failing_deployer)


@pytest.mark.parametrize("threshold", [0, 4])
def test_constructor__threshold_zero_or_above_the_signer_count__reverts_invalid_threshold(
    project, admin, home, threshold, failing_deployer
):
    with reverts(home.InvalidThreshold, threshold=threshold, signerCount=3):
        project.AttestedMessenger.deploy(admin, list(SIGNERS), threshold, sender=failing_deployer)


def test_constructor__zero_admin__reverts_invalid_default_admin(project, home, failing_deployer):
    # OpenZeppelin's AccessControlDefaultAdminRules refuses a zero default admin (see IGoverned).
    with reverts(home.AccessControlInvalidDefaultAdmin, defaultAdmin=ZERO_ADDRESS):
        project.AttestedMessenger.deploy(ZERO_ADDRESS, list(SIGNERS), THRESHOLD, sender=failing_deployer)


# --------------------------------------------------------------------------------------------- setSigners


def test_set_signers__not_admin__reverts(home, stranger):
    with reverts(
        home.AccessControlUnauthorizedAccount, account=stranger.address, neededRole=DEFAULT_ADMIN_ROLE
    ):
        home.setSigners([OUTSIDER], 1, sender=stranger)
    assert home.signers() == list(SIGNERS)


@pytest.mark.parametrize("case", list(INVALID_SETS))
def test_set_signers__invalid_set__reverts_invalid_signer_set_and_keeps_the_old_set(home, admin, case):
    with reverts(home.InvalidSignerSet):
        home.setSigners(INVALID_SETS[case], 1, sender=admin)
    assert home.signers() == list(SIGNERS)
    assert home.threshold() == THRESHOLD


@pytest.mark.parametrize("threshold", [0, 4])
def test_set_signers__threshold_zero_or_above_the_signer_count__reverts_invalid_threshold(
    home, admin, threshold
):
    with reverts(home.InvalidThreshold, threshold=threshold, signerCount=3):
        home.setSigners(list(SIGNERS), threshold, sender=admin)
    assert home.threshold() == THRESHOLD


def test_set_signers__replaces_the_set__old_signers_no_longer_count_and_new_ones_do(
    world, remote, admin, outbound
):
    new_set = sorted([SIGNERS[0], OUTSIDER], key=lambda a: int(a, 16))
    receipt = remote.setSigners(new_set, 1, sender=admin)
    assert events(receipt, remote, "SignersSet") == [{"signers": new_set, "threshold": 1}]
    assert remote.signers() == new_set
    assert remote.threshold() == 1

    # SIGNERS[2] was a signer and is no more.
    by_former = world.signatures(outbound, [SIGNER_KEYS[2]])
    with reverts(remote.SignerNotInSet, index=0, signer=SIGNERS[2]):
        world.deliver(outbound, by_former)
    assert_not_delivered(world, outbound)

    world.deliver(outbound, world.signatures(outbound, [OUTSIDER_KEY]))
    assert world.executed(outbound)


# ------------------------------------------------------------------------------------- setRemoteMessenger


def test_set_remote_messenger__not_admin__reverts(home, stranger):
    with reverts(
        home.AccessControlUnauthorizedAccount, account=stranger.address, neededRole=DEFAULT_ADMIN_ROLE
    ):
        home.setRemoteMessenger(OTHER_CHAIN, stranger, sender=stranger)
    assert home.remoteMessenger(OTHER_CHAIN) == ZERO_ADDRESS


def test_set_remote_messenger__wires_the_route_and_emits(home, remote, admin):
    receipt = home.setRemoteMessenger(OTHER_CHAIN, remote, sender=admin)
    assert events(receipt, home, "RemoteMessengerSet") == [
        {"chainId": OTHER_CHAIN, "messenger": remote.address}
    ]
    assert home.remoteMessenger(OTHER_CHAIN) == remote.address
    assert home.remoteMessenger(CHAIN_ID) == remote.address


def test_set_remote_messenger__zero__unwires_sending_and_delivering(world, home, remote, admin, outbound):
    remote.setRemoteMessenger(CHAIN_ID, ZERO_ADDRESS, sender=admin)
    with reverts(remote.UnknownSource, srcChainId=CHAIN_ID, srcMessenger=home.address):
        world.deliver(outbound)
    assert_not_delivered(world, outbound)

    home.setRemoteMessenger(CHAIN_ID, ZERO_ADDRESS, sender=admin)
    home.grantRole(SENDER_ROLE, admin, sender=admin)
    with reverts(home.UnsupportedDestination, dstChainId=CHAIN_ID):
        home.sendMessage(CHAIN_ID, remote, b"", sender=admin)


# ------------------------------------------------------------------------------------- setTrustedSource


def test_set_trusted_source__not_admin__reverts(remote, stranger):
    with reverts(
        remote.AccessControlUnauthorizedAccount, account=stranger.address, neededRole=DEFAULT_ADMIN_ROLE
    ):
        remote.setTrustedSource(CHAIN_ID, stranger, True, sender=stranger)
    assert not remote.isTrustedSource(CHAIN_ID, stranger)


def test_is_trusted_source__the_remote_messenger_on_its_own_chain_only(home, remote):
    assert remote.isTrustedSource(CHAIN_ID, home)
    assert not remote.isTrustedSource(OTHER_CHAIN, home)
    assert not remote.isTrustedSource(CHAIN_ID, remote)
    # An unwired chain's remote messenger is zero, and zero is no source.
    assert not remote.isTrustedSource(OTHER_CHAIN, ZERO_ADDRESS)


def test_set_trusted_source__emits_and_trusts_that_messenger_on_that_chain_only(remote, admin, stranger):
    receipt = remote.setTrustedSource(OTHER_CHAIN, stranger, True, sender=admin)
    assert events(receipt, remote, "TrustedSourceSet") == [
        {"chainId": OTHER_CHAIN, "messenger": stranger.address, "trusted": True}
    ]
    assert remote.isTrustedSource(OTHER_CHAIN, stranger)
    assert not remote.isTrustedSource(CHAIN_ID, stranger)
    assert remote.remoteMessenger(OTHER_CHAIN) == ZERO_ADDRESS  # trusted, not sent to


def test_set_trusted_source__zero__is_never_trusted(remote, admin):
    remote.setTrustedSource(CHAIN_ID, ZERO_ADDRESS, True, sender=admin)
    assert not remote.isTrustedSource(CHAIN_ID, ZERO_ADDRESS)


def test_set_trusted_source__a_swapped_out_source_messenger__is_heard_until_it_is_untrusted(
    project, world, home, remote, admin, alice, outbound
):
    # R now sends to (and trusts) a replacement of H: what H sent before is refused...
    replacement = project.AttestedMessenger.deploy(admin, list(SIGNERS), THRESHOLD, sender=admin)
    remote.setRemoteMessenger(CHAIN_ID, replacement, sender=admin)
    with reverts(remote.UnknownSource, srcChainId=CHAIN_ID, srcMessenger=home.address):
        world.deliver(outbound)
    # ...until the admin keeps H trusted for its messages in flight.
    remote.setTrustedSource(CHAIN_ID, home, True, sender=admin)
    assert remote.remoteMessenger(CHAIN_ID) == replacement.address
    world.deliver(outbound)
    assert world.executed(outbound)
    assert world.remote_lbc.balanceOf(alice) == AMOUNT

    world.fund(alice, AMOUNT)
    later = world.send_lbc_out(alice, AMOUNT)
    receipt = remote.setTrustedSource(CHAIN_ID, home, False, sender=admin)
    assert events(receipt, remote, "TrustedSourceSet") == [
        {"chainId": CHAIN_ID, "messenger": home.address, "trusted": False}
    ]
    with reverts(remote.UnknownSource, srcChainId=CHAIN_ID, srcMessenger=home.address):
        world.deliver(later)
    assert world.remote_lbc.totalSupply() == AMOUNT


# --------------------------------------------------------------------------------------------- sendMessage


def test_send_message__without_sender_role__reverts(home, remote, stranger):
    with reverts(home.AccessControlUnauthorizedAccount, account=stranger.address, neededRole=SENDER_ROLE):
        home.sendMessage(CHAIN_ID, remote, b"hello", sender=stranger)
    assert home.outboundNonce() == 0


def test_send_message__unwired_destination__reverts_unsupported_destination(home, remote, admin, operator):
    home.grantRole(SENDER_ROLE, operator, sender=admin)
    with reverts(home.UnsupportedDestination, dstChainId=OTHER_CHAIN):
        home.sendMessage(OTHER_CHAIN, remote, b"hello", sender=operator)


def test_send_message__emits_message_sent_with_increasing_nonces_and_the_eip712_struct_hash_as_id(
    home, remote, admin, operator, bob
):
    home.grantRole(SENDER_ROLE, operator, sender=admin)
    payloads = [b"", b"hello", bytes(range(100))]
    for nonce, payload in enumerate(payloads):
        receipt = home.sendMessage(CHAIN_ID, bob, payload, sender=operator)
        message = Message(CHAIN_ID, home.address, operator.address, CHAIN_ID, bob.address, nonce, payload)
        assert events(receipt, home, "MessageSent") == [
            {
                "messageId": message.message_id,
                "dstChainId": CHAIN_ID,
                "nonce": nonce,
                "sender": operator.address,
                "receiver": bob.address,
                "payload": payload,
            }
        ]
        assert home.messageId(message.as_tuple()) == message.message_id
        assert remote.messageId(message.as_tuple()) == message.message_id
        assert home.outboundNonce() == nonce + 1


def test_message_id__is_the_same_message_on_both_chains_and_changes_with_every_field(home, remote):
    base = Message(CHAIN_ID, home.address, remote.address, CHAIN_ID, home.address, 7, b"payload")
    variants = [
        dataclasses.replace(base, src_chain_id=OTHER_CHAIN),
        dataclasses.replace(base, src_messenger=remote.address),
        dataclasses.replace(base, sender=home.address),
        dataclasses.replace(base, dst_chain_id=OTHER_CHAIN),
        dataclasses.replace(base, receiver=remote.address),
        dataclasses.replace(base, nonce=8),
        dataclasses.replace(base, payload=b"payloaD"),
    ]
    ids = {base.message_id} | {v.message_id for v in variants}
    assert len(ids) == len(variants) + 1
    for message in [base, *variants]:
        assert (
            home.messageId(message.as_tuple()) == message.message_id == remote.messageId(message.as_tuple())
        )


# --------------------------------------------------------------------------------------------- digest


def test_digest__equals_the_python_digest_and_binds_the_verifying_messenger(home, remote):
    message = Message(CHAIN_ID, home.address, remote.address, CHAIN_ID, remote.address, 3, b"\x01\x02")
    assert remote.digest(message.as_tuple()) == attest.digest(message, remote.address)
    assert home.digest(message.as_tuple()) == attest.digest(message, home.address)
    assert attest.digest(message, remote.address) != attest.digest(message, home.address)
    assert attest.digest(message, remote.address) != message.message_id


# --------------------------------------------------------------------------------------------- deliver


@pytest.mark.parametrize("signed_by", [(0, 1), (0, 2), (1, 2), (0, 1, 2)])
def test_deliver__threshold_or_more_signers__calls_the_receiver_once_and_marks_executed(
    world, remote, alice, stranger, outbound, signed_by
):
    signatures = world.signatures(outbound, [SIGNER_KEYS[i] for i in signed_by])
    receipt = world.deliver(outbound, signatures, sender=stranger)  # anyone delivers

    assert events(receipt, remote, "MessageExecuted") == [
        {"messageId": outbound.message_id, "srcChainId": CHAIN_ID, "nonce": outbound.nonce}
    ]
    assert events(receipt, world.remote_lbc_bridge, "LBCReceived") == [
        {
            "transferId": transfer_id(CHAIN_ID, world.home_lbc_bridge, 0),
            "srcChainId": CHAIN_ID,
            "to": alice.address,
            "amount": AMOUNT,
        }
    ]
    assert remote.executed(outbound.message_id)
    assert world.remote_lbc.balanceOf(alice) == AMOUNT
    assert world.remote_lbc.totalSupply() == AMOUNT


def test_deliver__again__reverts_already_executed_and_mints_nothing_more(world, remote, outbound):
    world.deliver(outbound)
    with reverts(remote.AlreadyExecuted, messageId=outbound.message_id):
        world.deliver(outbound)
    # Other (still valid) signatures do not make it new either.
    with reverts(remote.AlreadyExecuted, messageId=outbound.message_id):
        world.deliver(outbound, world.signatures(outbound, SIGNER_KEYS))
    assert world.remote_lbc.totalSupply() == AMOUNT


def test_deliver__signature_by_a_key_outside_the_set__reverts_signer_not_in_set(world, remote, outbound):
    signatures = world.signatures(outbound, [SIGNER_KEYS[0], OUTSIDER_KEY])
    index = signatures.index(attest.sign(outbound, remote.address, OUTSIDER_KEY).signature)
    with reverts(remote.SignerNotInSet, index=index, signer=OUTSIDER):
        world.deliver(outbound, signatures)
    assert_not_delivered(world, outbound)


def test_deliver__only_outsiders__reverts_signer_not_in_set(world, remote, outbound):
    outsiders = [Account.create().key for _ in range(3)]
    signatures = world.signatures(outbound, outsiders)
    first = recovered(outbound, remote, signatures[0])
    with reverts(remote.SignerNotInSet, index=0, signer=first):
        world.deliver(outbound, signatures)
    assert_not_delivered(world, outbound)


@pytest.mark.parametrize("count", [0, 1])
def test_deliver__fewer_signatures_than_the_threshold__reverts_not_enough_signatures(
    world, remote, outbound, count
):
    with reverts(remote.NotEnoughSignatures, count=count, threshold=THRESHOLD):
        world.deliver(outbound, world.signatures(outbound, SIGNER_KEYS[:count]))
    assert_not_delivered(world, outbound)


def test_deliver__the_same_signer_twice__reverts_signers_not_ascending(world, remote, outbound):
    (one,) = world.signatures(outbound, [SIGNER_KEYS[0]])
    with reverts(remote.SignersNotAscending, index=1):
        world.deliver(outbound, [one, one])
    assert_not_delivered(world, outbound)


def test_deliver__signatures_in_descending_signer_order__reverts_signers_not_ascending(
    world, remote, outbound
):
    ascending = world.signatures(outbound, SIGNER_KEYS)
    with reverts(remote.SignersNotAscending, index=1):
        world.deliver(outbound, list(reversed(ascending)))
    with reverts(remote.SignersNotAscending, index=2):
        world.deliver(outbound, [ascending[0], ascending[2], ascending[1]])
    assert_not_delivered(world, outbound)


def _high_s(signature: bytes) -> bytes:
    """The malleable twin of `signature` (s -> n - s, v flipped): valid for ecrecover, refused by OZ."""
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    return r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])


GARBAGE = {
    "empty": lambda good: b"",
    "64 bytes": lambda good: good[:64],
    "66 bytes": lambda good: good + b"\x00",
    "v is 0": lambda good: good[:64] + b"\x00",
    "r and s are zero": lambda good: bytes(64) + b"\x1b",
    "high s": _high_s,
}


@pytest.mark.parametrize("case", list(GARBAGE))
@pytest.mark.parametrize("index", [0, 1])
def test_deliver__malformed_signature__reverts_invalid_signature_at_its_index(
    world, remote, outbound, case, index
):
    signatures = world.signatures(outbound, SIGNER_KEYS[:2])
    signatures[index] = GARBAGE[case](signatures[index])
    with reverts(remote.InvalidSignature, index=index):
        world.deliver(outbound, signatures)
    assert_not_delivered(world, outbound)


def test_deliver__message_for_another_chain__reverts_wrong_destination(world, remote, outbound):
    elsewhere = dataclasses.replace(outbound, dst_chain_id=OTHER_CHAIN)
    with reverts(remote.WrongDestination, dstChainId=OTHER_CHAIN, thisChainId=CHAIN_ID):
        world.deliver(elsewhere, world.signatures(elsewhere, to=remote), to=remote)
    assert_not_delivered(world, outbound)


@pytest.mark.parametrize("claimed", ["stranger", "the delivering messenger itself"])
def test_deliver__message_claiming_another_source_messenger__reverts_unknown_source(
    world, remote, stranger, outbound, claimed
):
    source = stranger.address if claimed == "stranger" else remote.address
    forged = dataclasses.replace(outbound, src_messenger=source)
    with reverts(remote.UnknownSource, srcChainId=CHAIN_ID, srcMessenger=source):
        world.deliver(forged, world.signatures(forged, to=remote), to=remote)
    assert_not_delivered(world, outbound)


def test_deliver__message_from_an_unwired_source_chain__reverts_unknown_source(world, home, remote, outbound):
    forged = dataclasses.replace(outbound, src_chain_id=OTHER_CHAIN)
    with reverts(remote.UnknownSource, srcChainId=OTHER_CHAIN, srcMessenger=home.address):
        world.deliver(forged, world.signatures(forged, to=remote), to=remote)
    assert_not_delivered(world, outbound)


def test_deliver__signatures_for_another_messenger__recover_to_strangers_and_revert_signer_not_in_set(
    world, home, remote, outbound
):
    # Signed with H's domain (verifyingContract = H), delivered on R: R's digest differs, so the first
    # signature recovers to some unrelated address.
    for_home = world.signatures(outbound, to=home)
    stray = recovered(outbound, remote, for_home[0])
    assert stray not in SIGNERS
    with reverts(remote.SignerNotInSet, index=0, signer=stray):
        world.deliver(outbound, for_home, to=remote)
    assert_not_delivered(world, outbound)


@pytest.mark.parametrize("field", ["payload", "nonce", "receiver", "sender"])
def test_deliver__message_changed_after_signing__reverts_signer_not_in_set(
    world, remote, alice, outbound, field
):
    signatures = world.signatures(outbound)
    changes = {
        "payload": {"payload": lbc_payload(0, alice, alice, AMOUNT * 1_000)},
        "nonce": {"nonce": outbound.nonce + 1},
        "receiver": {"receiver": world.remote_cube_bridge.address},
        "sender": {"sender": world.cube_bridge.address},
    }
    tampered = dataclasses.replace(outbound, **changes[field])
    with reverts(remote.SignerNotInSet, index=0, signer=recovered(tampered, remote, signatures[0])):
        world.deliver(tampered, signatures)
    assert_not_delivered(world, outbound)
    assert not world.executed(tampered)


def test_deliver__receiver_without_code__reverts_invalid_receiver(world, remote, alice, outbound):
    to_eoa = dataclasses.replace(outbound, receiver=alice.address)
    with reverts(remote.InvalidReceiver, receiver=alice.address):
        world.deliver(to_eoa)
    assert_not_delivered(world, outbound)


def test_deliver__receiver_reverts__reverts_and_the_message_stays_deliverable_until_it_executes_once(
    world, remote, admin, alice, outbound
):
    bridge = world.remote_lbc_bridge
    bridge.pause(sender=admin)
    with reverts(bridge.EnforcedPause):
        world.deliver(outbound)
    assert_not_delivered(world, outbound)

    bridge.unpause(sender=admin)
    receipt = world.deliver(outbound)
    assert len(events(receipt, remote, "MessageExecuted")) == 1
    assert world.executed(outbound)
    assert world.remote_lbc.balanceOf(alice) == AMOUNT

    with reverts(remote.AlreadyExecuted, messageId=outbound.message_id):
        world.deliver(outbound)
    assert world.remote_lbc.totalSupply() == AMOUNT
