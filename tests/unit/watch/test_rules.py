"""The intrusion rules on events written by hand: what pages, what is noise, and who each alert is about."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from _rule_events import (
    ALICE,
    BOB,
    CUBE_BRIDGE,
    CUBES,
    GUARDIAN,
    HOME,
    LBC,
    LBC_BRIDGE,
    LBC_UNIT,
    MESSENGER,
    R_CUBES,
    R_LBC,
    R_LBC_BRIDGE,
    R_MESSENGER,
    REMOTE,
    SAFE,
    STRANGER,
    TIMELOCK,
    ZERO,
    Chains,
    FakeNode,
    block_time,
    ev,
    executed_by_timelock,
    paging,
    role,
    tx,
    word,
)
from eth_abi.abi import encode
from eth_utils.crypto import keccak
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from link_ops.store import BlockRef, OpsStore
from link_ops.watch.alerts import Severity
from link_ops.watch.detector import IntrusionDetector
from link_ops.watch.rules import RuleSettings, RuleSettingsError

MINTER, ADMIN, PAUSER = role("MINTER_ROLE"), role("DEFAULT_ADMIN_ROLE"), role("PAUSER_ROLE")


@pytest.fixture
def store(sqlite_url: str) -> Iterator[OpsStore]:
    with OpsStore(sqlite_url) as ops:
        yield ops


@pytest.fixture
def chains(store: OpsStore) -> Chains:
    return Chains(store)


@pytest.fixture
def node() -> FakeNode:
    return FakeNode()


@pytest.fixture
def detect(store, chains, node):
    """detect(chain_id, events, last_block, time=None, **settings): writes the blocks as the index would and
    returns the alerts of that round, from one detector per test (``detect.detectors["d"]``)."""
    detectors: dict[str, IntrusionDetector] = {}

    def run(chain_id, events, last_block, *, time=None, **settings):
        if "d" not in detectors:
            detectors["d"] = IntrusionDetector(
                store.index, {HOME: node, REMOTE: node}, settings=RuleSettings.build(**settings)
            )
        first, last = chains.write(chain_id, events, last_block, time=time)
        return detectors["d"].after_round(chain_id, first, last)

    run.detectors = detectors
    return run


def granted(role_id, account, sender, block, *, at=LBC, tx_hash=None, contract="LBCToken"):
    args = {"role": role_id, "account": account, "sender": sender}
    return ev(contract, "RoleGranted", args, block, at=at, tx_hash=tx_hash)


def only(alerts, rule):
    found = [a for a in alerts if a.rule == rule]
    assert len(found) == 1, [(a.rule, a.summary) for a in alerts]
    return found[0]


# -- roles ---------------------------------------------------------------------------------------------------


def test_role_granted__minter_to_a_stranger__critical_about_the_stranger(detect):
    alerts = detect(HOME, [granted(MINTER, STRANGER, TIMELOCK, 5)], 5)
    alert = only(alerts, "role-granted")
    assert alert.severity == Severity.CRITICAL
    assert alert.subject == STRANGER and alert.source == "intrusion"
    assert "MINTER_ROLE" in alert.summary and STRANGER in alert.summary
    assert (alert.chain_id, alert.block_number, alert.tx_hash) == (HOME, 5, tx(500))
    assert alert.key == f"role-granted:{HOME}:{tx(500)}:0"


def test_role_granted__minter_to_the_cube_contract__info(detect):
    alerts = detect(HOME, [granted(MINTER, CUBES, TIMELOCK, 5)], 5)
    assert only(alerts, "role-granted").severity == Severity.INFO


def test_role_granted__pauser_to_an_outsider__warning_through_the_timelock_high_otherwise(detect):
    through = granted(PAUSER, ALICE, TIMELOCK, 5, at=CUBES, contract="OptimizedCubeManagement", tx_hash=tx(1))
    posing = granted(PAUSER, BOB, TIMELOCK, 6, at=CUBES, contract="OptimizedCubeManagement")
    alerts = detect(HOME, [through, executed_by_timelock(CUBES, 5, tx(1)), posing], 6)
    by_subject = {a.subject: a.severity for a in alerts if a.rule == "role-granted"}
    # The timelock as sender without its CallExecuted: someone acting as the timelock.
    assert by_subject == {ALICE: Severity.WARNING, BOB: Severity.HIGH}


def test_role_granted__trusted_guardian_from_settings__info(detect):
    alerts = detect(
        HOME,
        [granted(PAUSER, GUARDIAN, TIMELOCK, 5, at=CUBES, contract="OptimizedCubeManagement")],
        5,
        trusted={GUARDIAN: "guardian"},
    )
    assert only(alerts, "role-granted").severity == Severity.INFO


def test_role_revoked__minter_from_the_cube_contract__high(detect):
    args = {"role": MINTER, "account": CUBES, "sender": TIMELOCK}
    alerts = detect(HOME, [ev("LBCToken", "RoleRevoked", args, 5)], 5)
    assert only(alerts, "role-revoked").severity == Severity.HIGH


def test_admin_transfer__to_an_outsider__critical(detect):
    args = {"newAdmin": STRANGER, "acceptSchedule": 1_800_000_000}
    alerts = detect(HOME, [ev("LBCToken", "DefaultAdminTransferScheduled", args, 5)], 5)
    alert = only(alerts, "admin-transfer")
    assert alert.severity == Severity.CRITICAL and alert.subject == STRANGER


# -- pauses --------------------------------------------------------------------------------------------------


def test_pause__by_the_guardian_warning__by_a_stranger_high(detect):
    by_guardian = ev("OptimizedCubeManagement", "Paused", {"account": GUARDIAN}, 5)
    by_stranger = ev("LBCBridge", "Paused", {"account": STRANGER}, 40)
    alerts = detect(HOME, [by_guardian, by_stranger], 40, trusted={GUARDIAN: "guardian"})
    assert paging(alerts) == [("paused", "high"), ("paused", "warning")]
    assert {a.subject for a in alerts} == {GUARDIAN, STRANGER}


def test_unpause__not_through_the_timelock__critical_through_it_info(detect):
    around = ev("OptimizedCubeManagement", "Unpaused", {"account": TIMELOCK}, 5)
    through = ev("LBCBridge", "Unpaused", {"account": TIMELOCK}, 6, tx_hash=tx(7))
    alerts = detect(HOME, [around, through, executed_by_timelock(LBC_BRIDGE, 6, tx(7))], 6)
    unpauses = {a.block_number: a.severity for a in alerts if a.rule == "unpaused"}
    assert unpauses == {5: Severity.CRITICAL, 6: Severity.INFO}


def test_pause_storm__three_pauses_within_the_window__one_alert(detect):
    pauses = [
        ev("OptimizedCubeManagement", "Paused", {"account": GUARDIAN}, 5),
        ev("LBCBridge", "Paused", {"account": GUARDIAN}, 6),
        ev("CubeBridge", "Paused", {"account": GUARDIAN}, 7),
        ev("LBCBridge", "Paused", {"account": GUARDIAN}, 8, log=1),
    ]
    alerts = detect(HOME, pauses, 8, trusted={GUARDIAN: "guardian"})
    storm = only(alerts, "pause-storm")
    assert storm.severity == Severity.HIGH and storm.block_number == 7


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(min_value=1, max_value=200), min_size=0, max_size=8, unique=True))
def test_pause_storm__fires_iff_some_window_holds_enough_pauses(blocks):
    blocks = sorted(blocks)
    events = [ev("LBCBridge", "Paused", {"account": GUARDIAN}, b) for b in blocks]
    with OpsStore("sqlite://") as store:
        first, last = Chains(store).write(HOME, events, 201)
        alerts = IntrusionDetector(store.index).after_round(HOME, first, last)
    storms = [a for a in alerts if a.rule == "pause-storm"]
    crowded = any(len([b for b in blocks if 0 <= end - b < 20]) >= 3 for end in blocks)
    assert bool(storms) == crowded
    assert len({a.key for a in alerts}) == len(alerts)


# -- configuration changes -----------------------------------------------------------------------------------


def test_rate_change__through_the_timelock_info__around_it_high(detect):
    args = {"tier": 1, "previousWeiPerSecond": "23", "weiPerSecond": "46"}
    governed = ev("OptimizedCubeManagement", "TierRateSet", args, 5, tx_hash=tx(1))
    rogue = ev("OptimizedCubeManagement", "TierRateSet", args, 6, tx_hash=tx(2))
    alerts = detect(HOME, [governed, executed_by_timelock(CUBES, 5, tx(1)), rogue], 6)
    rates = {a.block_number: a for a in alerts if a.rule == "rate-changed"}
    assert rates[5].severity == Severity.INFO and rates[6].severity == Severity.HIGH
    assert "NOT through the timelock" in rates[6].summary and "23 -> 46" in rates[6].summary


def test_messenger_swapped__around_the_timelock__critical_about_the_new_messenger(detect):
    alerts = detect(HOME, [ev("LBCBridge", "MessengerSet", {"messenger": STRANGER}, 5)], 5)
    alert = only(alerts, "messenger-changed")
    assert alert.severity == Severity.CRITICAL and alert.subject == STRANGER


def test_signers_set__through_the_timelock_but_one_signer__high(detect):
    args = {"signers": [ALICE], "threshold": "1"}
    alerts = detect(
        HOME,
        [
            ev("AttestedMessenger", "SignersSet", args, 5, tx_hash=tx(1)),
            executed_by_timelock(MESSENGER, 5, tx(1)),
        ],
        5,
    )
    assert only(alerts, "signers-changed").severity == Severity.HIGH


# -- the timelock --------------------------------------------------------------------------------------------


def scheduled(target, data: bytes, block, delay=3600):
    args = {
        "id": "0x" + "ab" * 32,
        "index": "0",
        "target": target,
        "value": "0",
        "data": "0x" + data.hex(),
        "predecessor": "0x" + "00" * 32,
        "delay": str(delay),
    }
    return ev("LinkTimelock", "CallScheduled", args, block)


def calldata(signature, types, values):
    return keccak(text=signature)[:4] + encode(types, values)


def test_timelock_scheduled__minter_for_an_outsider__critical_about_it_and_decoded(detect):
    data = calldata(
        "grantRole(bytes32,address)", ["bytes32", "address"], [bytes.fromhex(MINTER[2:]), STRANGER]
    )
    alert = only(detect(HOME, [scheduled(LBC, data, 5)], 5), "timelock-scheduled")
    assert alert.severity == Severity.CRITICAL and alert.subject == STRANGER
    assert f"LBCToken {LBC}.grantRole(" in alert.summary


def test_timelock_scheduled__a_rate_change__info_with_the_call(detect):
    data = calldata("setTierRate(uint8,uint256)", ["uint8", "uint256"], [1, 46 * 10**12])
    alert = only(detect(HOME, [scheduled(CUBES, data, 5)], 5), "timelock-scheduled")
    assert alert.severity == Severity.INFO
    assert "setTierRate(1, 46000000000000)" in alert.summary


def test_timelock_scheduled__a_new_messenger__high(detect):
    data = calldata("setMessenger(address)", ["address"], [STRANGER])
    alert = only(detect(HOME, [scheduled(LBC_BRIDGE, data, 5)], 5), "timelock-scheduled")
    assert alert.severity == Severity.HIGH and "cancel it" in alert.summary


def test_timelock_delay__shortened_below_the_setting__high_lengthened_info(detect):
    shorter = ev("LinkTimelock", "MinDelayChange", {"oldDuration": "172800", "newDuration": "60"}, 5)
    longer = ev("LinkTimelock", "MinDelayChange", {"oldDuration": "60", "newDuration": "172800"}, 6)
    alerts = detect(HOME, [shorter, longer], 6)
    assert {a.block_number: a.severity for a in alerts} == {5: Severity.HIGH, 6: Severity.INFO}


# -- the Safe ------------------------------------------------------------------------------------------------


def test_safe__threshold_lowered_to_one__critical_about_the_safe(detect):
    alert = only(detect(HOME, [ev("SafeL2", "ChangedThreshold", {"threshold": "1"}, 5)], 5), "safe-threshold")
    assert alert.severity == Severity.CRITICAL and alert.subject == SAFE


def test_safe__owner_swapped_and_module_enabled__one_subject(detect):
    events = [
        ev("SafeL2", "RemovedOwner", {"owner": ALICE}, 5, log=0),
        ev("SafeL2", "AddedOwner", {"owner": STRANGER}, 5, log=1),
        ev("SafeL2", "EnabledModule", {"module": STRANGER}, 6),
    ]
    alerts = detect(HOME, events, 6)
    assert paging(alerts) == [
        ("safe-module-enabled", "critical"),
        ("safe-owner-added", "high"),
        ("safe-owner-removed", "high"),
    ]
    assert {a.subject for a in alerts} == {SAFE}


# -- minting -------------------------------------------------------------------------------------------------


def mint(to, amount, block, *, token=LBC, chain_id=HOME, log=0, tx_hash=None):
    args = {"from": ZERO, "to": to, "value": str(amount)}
    return ev("LBCToken", "Transfer", args, block, at=token, chain_id=chain_id, log=log, tx_hash=tx_hash)


def trace(caller, token, inner=()):
    return {
        "from": caller,
        "to": token,
        "input": "0x40c10f19" + "00" * 64,
        "calls": list(inner),
    }


def test_mint__traced_to_a_stranger__critical_about_the_minter(detect, node):
    node.traces[tx(500)] = {"from": ALICE, "to": STRANGER, "input": "0x", "calls": [trace(STRANGER, LBC)]}
    alert = only(detect(HOME, [mint(ALICE, 5 * LBC_UNIT, 5)], 5), "lbc-minted-by-stranger")
    assert alert.severity == Severity.CRITICAL and alert.subject == STRANGER
    assert alert.values["minter_from"] == "traced" and "5.000000 LBC" in alert.summary


def test_mint__traced_to_the_cube_contract__no_alert(detect, node):
    node.traces[tx(500)] = {"from": ALICE, "to": CUBES, "input": "0x", "calls": [trace(CUBES, LBC)]}
    assert [
        a for a in detect(HOME, [mint(ALICE, LBC_UNIT, 5)], 5) if a.rule == "lbc-minted-by-stranger"
    ] == []


def test_mint__node_without_traces__falls_back_to_the_transaction_target_and_says_so(detect, node):
    node.transactions[tx(500)] = {"to": STRANGER.lower(), "from": ALICE}
    grant = granted(MINTER, STRANGER, ALICE, 4)
    alerts = detect(HOME, [grant, mint(ALICE, LBC_UNIT, 5)], 5)
    alert = only(alerts, "lbc-minted-by-stranger")
    assert alert.values["minter_from"] == "tx-to" and alert.subject == STRANGER
    assert "no call trace" in alert.summary and f"MINTER_ROLE is also held by {STRANGER}" in alert.summary


def test_mint__node_without_traces__only_the_protocol_holds_minter__a_wallets_claim_is_no_alert(detect, node):
    """A claim sent through a Safe or a smart account targets the wallet, not the cube contract: without a
    trace the wallet stands in for the minter, but no one outside the protocol can mint."""
    node.transactions[tx(500)] = {"to": STRANGER.lower(), "from": ALICE}  # the wallet
    grant = granted(MINTER, CUBES, ALICE, 4)
    alerts = detect(HOME, [grant, mint(ALICE, LBC_UNIT, 5)], 5)
    assert [a for a in alerts if a.rule == "lbc-minted-by-stranger"] == []


def test_mint__node_without_traces__a_stranger_whose_minter_role_was_revoked__no_alert(detect, node):
    node.transactions[tx(500)] = {"to": STRANGER.lower(), "from": ALICE}
    revoke = ev("LBCToken", "RoleRevoked", {"role": MINTER, "account": STRANGER, "sender": ALICE}, 4, at=LBC)
    alerts = detect(HOME, [granted(MINTER, STRANGER, ALICE, 3), revoke, mint(ALICE, LBC_UNIT, 5)], 5)
    assert [a for a in alerts if a.rule == "lbc-minted-by-stranger"] == []


def test_mint__a_bridge_arrival_of_the_same_amount__no_trace_asked_no_alert(detect, node):
    arrival = ev(
        "LBCBridge",
        "LBCReceived",
        {"transferId": "0x" + "01" * 32, "srcChainId": "137", "to": ALICE, "amount": str(LBC_UNIT)},
        5,
        log=1,
        tx_hash=tx(9),
        chain_id=REMOTE,
    )
    executed = ev(
        "AttestedMessenger",
        "MessageExecuted",
        {"messageId": "0x" + "02" * 32, "srcChainId": "137", "nonce": 1},
        5,
        log=2,
        tx_hash=tx(9),
        chain_id=REMOTE,
    )
    alerts = detect(
        REMOTE, [mint(ALICE, LBC_UNIT, 5, token=R_LBC, chain_id=REMOTE, tx_hash=tx(9)), arrival, executed], 5
    )
    assert [a.rule for a in alerts if a.severity >= Severity.WARNING] == []
    assert not [m for m, _p in node.asked if m == "debug_traceTransaction"]


def test_mint_burst__above_the_threshold_in_one_block__high(detect, node):
    node.traces[tx(500)] = trace(CUBES, LBC)
    node.traces[tx(501)] = trace(CUBES, LBC)
    events = [mint(ALICE, 60 * LBC_UNIT, 5), mint(BOB, 50 * LBC_UNIT, 5, log=1)]
    alert = only(detect(HOME, events, 5, mint_per_block=100 * LBC_UNIT), "lbc-mint-burst")
    assert alert.severity == Severity.HIGH and alert.values["minted"] == str(110 * LBC_UNIT)


def test_cap__crossing_eighty_percent__alerts_once_not_again_above(detect, node):
    node.traces[tx(500)] = node.traces[tx(600)] = trace(CUBES, LBC)
    node.answer(LBC, "cap()", 5, word(1000))
    node.answer(LBC, "totalSupply()", 4, word(700))
    node.answer(LBC, "totalSupply()", 5, word(850))
    node.answer(LBC, "cap()", 6, word(1000))
    node.answer(LBC, "totalSupply()", 6, word(900))
    alerts = detect(HOME, [mint(ALICE, 150, 5), mint(ALICE, 50, 6)], 6)
    alert = only(alerts, "cap-used")
    assert alert.block_number == 5 and alert.severity == Severity.HIGH and "85.0%" in alert.summary


def test_limit__send_crossing_eighty_percent__high_about_the_sender(detect, node):
    sent = ev(
        "LBCBridge",
        "LBCSent",
        {
            "transferId": "0x" + "01" * 32,
            "dstChainId": "1",
            "from": STRANGER,
            "to": STRANGER,
            "amount": str(850),
            "messageId": "0x" + "02" * 32,
        },
        5,
    )
    node.answer(LBC_BRIDGE, "sendLimit(uint256)", 4, word(1000, 1000))
    node.answer(LBC_BRIDGE, "sendLimit(uint256)", 5, word(1000, 150))
    alert = only(detect(HOME, [sent], 5), "limit-used")
    assert alert.severity == Severity.HIGH and alert.subject == STRANGER and "85%" in alert.summary


# -- bridge deliveries and cubes -----------------------------------------------------------------------------


def test_arrival_without_a_message__critical_about_the_recipient(detect):
    arrival = ev(
        "LBCBridge",
        "LBCReceived",
        {"transferId": "0x" + "01" * 32, "srcChainId": "1", "to": STRANGER, "amount": str(LBC_UNIT)},
        5,
    )
    alert = only(detect(HOME, [arrival], 5), "arrival-without-message")
    assert alert.severity == Severity.CRITICAL and alert.subject == STRANGER


def executed(message_id, block, *, chain_id=HOME, src=REMOTE):
    messenger = MESSENGER if chain_id == HOME else R_MESSENGER
    args = {"messageId": message_id, "srcChainId": str(src), "nonce": 3}
    return ev("AttestedMessenger", "MessageExecuted", args, block, at=messenger, chain_id=chain_id)


def sent(message_id, block, *, chain_id=REMOTE, time=None):
    messenger = MESSENGER if chain_id == HOME else R_MESSENGER
    args = {
        "messageId": message_id,
        "dstChainId": "137",
        "nonce": 3,
        "sender": R_LBC_BRIDGE,
        "receiver": LBC_BRIDGE,
        "payload": "0x",
    }
    return ev("AttestedMessenger", "MessageSent", args, block, at=messenger, chain_id=chain_id, time=time)


def test_delivery_without_send__waits_for_the_source_index_then_critical(detect):
    message = "0x" + "cd" * 32
    assert detect(REMOTE, [], 3) == []
    assert [a.rule for a in detect(HOME, [executed(message, 10)], 10)] == []  # the remote index is behind
    assert detect(REMOTE, [], 5) == []  # still behind the delivery's time
    alerts = detect(REMOTE, [], 50, time=block_time(10))  # caught up: the send is not there
    alert = only(alerts, "delivery-without-send")
    assert alert.severity == Severity.CRITICAL and alert.chain_id == HOME and alert.block_number == 10
    assert detect(REMOTE, [], 60) == []  # decided once


def test_delivery_with_its_send__no_alert(detect):
    message = "0x" + "ce" * 32
    detect(REMOTE, [sent(message, 2)], 2, time=block_time(1))
    assert detect(HOME, [executed(message, 10)], 10) == []  # pending: the remote index is behind
    alerts = detect(REMOTE, [], 40, time=block_time(12))
    assert [a.rule for a in alerts] == []
    assert detect.detectors["d"].pending == ()


def cube_move(contract, frm, to, cube, block, *, chain_id):
    collection = CUBES if contract == "OptimizedCubeManagement" else R_CUBES
    args = {"from": frm, "to": to, "id": str(cube)}
    return ev(contract, "Transfer", args, block, at=collection, chain_id=chain_id, log=cube)


def test_cube__released_at_home_while_its_copy_lives_abroad__critical(detect):
    detect(HOME, [cube_move("OptimizedCubeManagement", ALICE, CUBE_BRIDGE, 7, 5, chain_id=HOME)], 5)
    detect(REMOTE, [cube_move("RemoteCube", ZERO, ALICE, 7, 6, chain_id=REMOTE)], 6)
    detect(HOME, [cube_move("OptimizedCubeManagement", CUBE_BRIDGE, STRANGER, 7, 8, chain_id=HOME)], 8)
    alerts = detect(REMOTE, [], 20)
    alert = only(alerts, "cube-unlocked-twice")
    assert alert.severity == Severity.CRITICAL and alert.subject == STRANGER and alert.values["cube_id"] == 7


def test_cube__burnt_abroad_then_released_home__no_alert(detect):
    detect(HOME, [cube_move("OptimizedCubeManagement", ALICE, CUBE_BRIDGE, 7, 5, chain_id=HOME)], 5)
    detect(REMOTE, [cube_move("RemoteCube", ZERO, ALICE, 7, 6, chain_id=REMOTE)], 6)
    detect(REMOTE, [cube_move("RemoteCube", ALICE, ZERO, 7, 7, chain_id=REMOTE)], 7)
    released = detect(
        HOME, [cube_move("OptimizedCubeManagement", CUBE_BRIDGE, ALICE, 7, 8, chain_id=HOME)], 8
    )
    later = detect(REMOTE, [], 20)
    assert [a.rule for a in released + later] == []


# -- settings ------------------------------------------------------------------------------------------------


def test_settings__every_bad_field__reported_at_once():
    with pytest.raises(RuleSettingsError) as caught:
        RuleSettings.build(cap_used=1.5, mint_per_block=0, critical_roles=("BOSS_ROLE",))
    text = str(caught.value)
    assert "cap_used" in text and "mint_per_block" in text
    with pytest.raises(RuleSettingsError, match="critical_roles: unknown role BOSS_ROLE"):
        RuleSettings.build(critical_roles=("BOSS_ROLE",))
    with pytest.raises(RuleSettingsError, match="trusted: 0x12 is not a 0x address"):
        RuleSettings.build(trusted={"0x12": "guardian"})


# -- the detection round -------------------------------------------------------------------------------------


def test_after_round__the_same_blocks_read_again__the_same_keys(store, chains, node):
    chains.write(
        HOME, [granted(MINTER, STRANGER, TIMELOCK, 5), ev("SafeL2", "EnabledModule", {"module": BOB}, 6)], 6
    )
    first = IntrusionDetector(store.index, {HOME: node}).after_round(HOME, 0, 6)
    again = IntrusionDetector(store.index, {HOME: node}).after_round(HOME, 0, 6)
    assert [a.key for a in first] == [a.key for a in again] and len(first) == 2


def test_after_round__blocks_not_indexed_yet__refused(store, chains):
    from link_ops.exceptions import ConfigurationError

    chains.write(HOME, [], 4)
    with pytest.raises(ConfigurationError, match="holds up to block 4: run the rules after the round"):
        IntrusionDetector(store.index).after_round(HOME, 0, 9)
    with pytest.raises(ConfigurationError, match="chain 1 holds nothing"):
        IntrusionDetector(store.index).after_round(REMOTE, 0, 1)


def test_rolled_back__keys_of_alerts_above_the_fork__and_their_pending_checks_dropped(detect):
    detect(REMOTE, [], 1)
    detect(HOME, [granted(MINTER, STRANGER, TIMELOCK, 5)], 5)
    detect(HOME, [granted(MINTER, BOB, TIMELOCK, 8), executed("0x" + "cd" * 32, 9)], 9)
    detector = detect.detectors["d"]
    assert len(detector.pending) == 1
    gone = detector.rolled_back(HOME, 6)
    assert gone == [f"role-granted:{HOME}:{tx(800)}:0"]
    assert detector.pending == () and detector.rolled_back(HOME, 6) == []
    assert detector.rolled_back(HOME, None) == [f"role-granted:{HOME}:{tx(500)}:0"]


def test_keys_above__alerts_of_the_chain_above_the_fork(detect):
    from link_ops.watch.detector import keys_above

    alerts = detect(HOME, [granted(MINTER, STRANGER, TIMELOCK, 5), granted(MINTER, BOB, TIMELOCK, 8)], 8)
    assert keys_above(alerts, HOME, 5) == [f"role-granted:{HOME}:{tx(800)}:0"]
    assert keys_above(alerts, REMOTE, None) == [] and len(keys_above(alerts, HOME, None)) == 2


def test_after_round__node_unreachable__raises_and_the_same_blocks_again_give_each_alert_once(
    store, chains, node
):
    from link_ops.index.rpc import RpcTimeoutError

    down = {"now": True}

    def flaky(method, params):
        if down["now"]:
            raise RpcTimeoutError(f"{method}: no answer within 30 s")
        return node.request(method, params)

    node.traces[tx(500)] = trace(STRANGER, LBC)
    node.answer(LBC, "cap()", 5, word(1000))
    node.answer(LBC, "totalSupply()", 4, word(0))
    node.answer(LBC, "totalSupply()", 5, word(900))
    flaky_node = type("Flaky", (), {"request": staticmethod(flaky)})()
    detector = IntrusionDetector(store.index, {HOME: flaky_node})
    chains.write(REMOTE, [], 1)
    first, last = chains.write(HOME, [mint(ALICE, 900, 5), executed("0x" + "cd" * 32, 6)], 6)
    with pytest.raises(RpcTimeoutError):
        detector.after_round(HOME, first, last)
    assert detector.pending == ()
    down["now"] = False
    alerts = detector.after_round(HOME, first, last)
    assert sorted(a.rule for a in alerts) == ["cap-used", "lbc-minted-by-stranger"]
    assert len(detector.pending) == 1


def test_mint__tracing_off__the_transaction_target_stands_for_the_minter(detect, node):
    node.traces[tx(500)] = trace(CUBES, LBC)  # would clear it, but is not asked
    node.transactions[tx(500)] = {"to": STRANGER}
    events = [granted(MINTER, STRANGER, ALICE, 4), mint(ALICE, LBC_UNIT, 5)]
    alert = only(detect(HOME, events, 5, trace_minters=False), "lbc-minted-by-stranger")
    assert alert.values["minter_from"] == "tx-to"
    assert not [m for m, _p in node.asked if m == "debug_traceTransaction"]


def test_limit__receive_crossing__high_about_the_recipient(detect, node):
    arrival = ev(
        "LBCBridge",
        "LBCReceived",
        {"transferId": "0x" + "01" * 32, "srcChainId": "137", "to": STRANGER, "amount": "900"},
        5,
        chain_id=REMOTE,
        tx_hash=tx(3),
    )
    executed_there = ev(
        "AttestedMessenger",
        "MessageExecuted",
        {"messageId": "0x" + "09" * 32, "srcChainId": "137", "nonce": 1},
        5,
        log=1,
        chain_id=REMOTE,
        tx_hash=tx(3),
    )
    node.answer(R_LBC_BRIDGE, "receiveLimit(uint256)", 4, word(1000, 1000))
    node.answer(R_LBC_BRIDGE, "receiveLimit(uint256)", 5, word(1000, 100))
    alerts = detect(REMOTE, [arrival, executed_there], 5)
    alert = only(alerts, "limit-used")
    assert alert.subject == STRANGER and alert.values["direction"] == "receive"


def test_delivery_from_a_chain_this_store_does_not_index__not_checked(detect):
    assert detect(HOME, [executed("0x" + "cd" * 32, 10, src=56)], 10) == []
    assert detect.detectors["d"].pending == ()


KINDS = {
    "grant": lambda b, i: granted(MINTER, STRANGER, TIMELOCK, b),
    "pause": lambda b, i: ev("LBCBridge", "Paused", {"account": STRANGER}, b, log=i),
    "rate": lambda b, i: ev(
        "OptimizedCubeManagement",
        "TierRateSet",
        {"tier": 0, "previousWeiPerSecond": "1", "weiPerSecond": "2"},
        b,
        log=i,
    ),
    "owner": lambda b, i: ev("SafeL2", "AddedOwner", {"owner": STRANGER}, b, log=i),
    "module": lambda b, i: ev("SafeL2", "EnabledModule", {"module": STRANGER}, b, log=i),
}


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from(sorted(KINDS)), min_size=1, max_size=12))
def test_every_ungoverned_change__pages_once_with_a_unique_stable_key(kinds):
    events = [KINDS[kind](10 + i, i) for i, kind in enumerate(kinds)]
    with OpsStore("sqlite://") as store:
        first, last = Chains(store).write(HOME, events, 10 + len(kinds))
        once = IntrusionDetector(store.index).after_round(HOME, first, last)
        again = IntrusionDetector(store.index).after_round(HOME, first, last)
    per_event = [a for a in once if a.rule != "pause-storm"]
    assert len(per_event) == len(events)  # one alert per change, none lost
    assert all(a.severity >= Severity.HIGH for a in per_event)  # none of them went through the timelock
    assert len({a.key for a in once}) == len(once)
    assert [a.key for a in once] == [a.key for a in again]


def test_pending_check__its_block_reorganised_away__dropped_without_an_alert(store, chains):
    detector = IntrusionDetector(store.index)
    chains.write(REMOTE, [], 1)
    first, last = chains.write(HOME, [executed("0x" + "cd" * 32, 9)], 9)
    detector.after_round(HOME, first, last)
    detector.after_round(HOME, first, last)  # the same blocks read again: still one check
    assert len(detector.pending) == 1
    cursor = store.index.cursor(HOME)
    store.index.roll_back(
        HOME, expected_last=cursor.last_block, to=BlockRef(5, f"0x{5:064x}", f"0x{4:064x}", 0)
    )
    chains.last[HOME] = 5
    assert detector.after_round(REMOTE, *chains.write(REMOTE, [], 40, time=block_time(10))) == []
    assert detector.pending == ()


def test_trusted_from_records__each_recorded_guardian__for_the_settings(tmp_path):
    from link_ops.protocol.records import DeploymentRecord, save_record
    from link_ops.watch.rules import trusted_from_records

    save_record(
        tmp_path, DeploymentRecord(chain_id=HOME, genesis_hash="0x" + "00" * 32, guardian=GUARDIAN.lower())
    )
    save_record(tmp_path, DeploymentRecord(chain_id=REMOTE, genesis_hash="0x" + "00" * 32))
    trusted = trusted_from_records(tmp_path, [HOME, REMOTE, 56])
    assert trusted == {GUARDIAN: "guardian"}
    assert RuleSettings.build(trusted=trusted).trusted == trusted
