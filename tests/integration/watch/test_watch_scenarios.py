"""The watchtower's scenario set (issue 12's first "done when"): attacks and benign days on two anvils with
the protocol deployed as the project deploys it (Safe + timelock governance, the bridge between Polygon and
Ethereum), watched by the event index and the intrusion detector round after round.

- **Recall**: every attack step must raise its alert(s) of severity ``high`` or more about the attack's own
  transaction, in the first watch round after it (the round's head is at most one block past it).
- **False alerts**: in a benign run, any alert of severity ``warning`` or more is a false alert. Governance
  done the governed way (a rate or limit change proposed by the Safe, waiting out the timelock's delay, then
  executed) is normal operation: its alerts are ``info``.

Each attack starts from the same baseline (anvil snapshots and a copy of the index); the ten benign days run
one after the other from it. ``-s`` prints the table and both numbers; the last test asserts them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import ape
import pytest
from _intrusion_world import DAY, DELAY, LBC, Sent, WatchWorld, build_world, calldata, role
from eth_abi.abi import encode

from link_ops import contracts
from link_ops.governance import execute, propose
from link_ops.model.governance import Call
from link_ops.watch.alerts import Alert, Severity

SENTINEL = "0x0000000000000000000000000000000000000001"
Step = tuple[Sent, tuple[str, ...]]
Attack = Callable[[WatchWorld], Iterator[Step]]


@dataclass
class Tally:
    attacks: dict[str, bool] = field(default_factory=dict)
    steps: list[tuple[str, str, bool]] = field(default_factory=list)
    benign: dict[str, list[Alert]] = field(default_factory=dict)
    #: The alerts below warning in the benign run (governance done the governed way, and the like).
    info: list[Alert] = field(default_factory=list)


@ape.fixture(scope="module", chain_isolation=False)
def world(accounts, tmp_path_factory) -> Iterator[WatchWorld]:
    built = build_world(accounts, tmp_path_factory.mktemp("watch"))
    try:
        yield built
    finally:
        built.close_watch()
        built.chains.stop()


@pytest.fixture(scope="module")
def tally() -> Tally:
    return Tally()


# -- the attacks ---------------------------------------------------------------------------------------------


def lbc_call(world: WatchWorld, function: str, *args) -> bytes:
    with world.chains.on("polygon"):
        return bytes(getattr(world.protocol.lbc, function).encode_input(*args))


def stranger_granted_minter_then_mints(world: WatchWorld) -> Iterator[Step]:
    """A compromised admin grants MINTER_ROLE on LBC to the attacker, who mints for himself."""
    attacker, lbc = world.attacker, world.protocol.lbc
    grant = calldata(
        "grantRole(bytes32,address)", ["bytes32", "address"], [role("MINTER_ROLE"), attacker.address]
    )
    yield world.send_as("polygon", world.timelock("polygon"), lbc, grant), ("role-granted",)
    with world.chains.on("polygon"):
        minted = lbc.mint(attacker, 1_000 * LBC, sender=attacker)
    yield world.sent("polygon", minted), ("lbc-minted-by-stranger",)


def messenger_swapped_and_bridge_drained(world: WatchWorld) -> Iterator[Step]:
    """The home LBC bridge's messenger is swapped for a contract of the attacker's, through which he then
    'delivers' a release of the LBC locked for Ethereum to himself."""
    attacker, home, remote = world.attacker, world.sides["polygon"], world.sides["ethereum"]
    with world.chains.on("polygon"):
        fake = ape.project.GuardianBatch.deploy(attacker.address, sender=attacker)
    swap = calldata("setMessenger(address)", ["address"], [fake.address])
    yield world.send_as("polygon", world.timelock("polygon"), home.lbc_bridge, swap), ("messenger-changed",)
    payload = encode(
        ["uint256", "uint64", "address", "address", "uint256"],
        [1, 999_999, attacker.address, attacker.address, 250_000 * LBC],
    )
    with world.chains.on("polygon"):
        release = bytes(
            home.lbc_bridge.receiveMessage.encode_input(
                b"\x07" * 32, remote.chain.chain_id, remote.lbc_bridge.address, payload
            )
        )
        drained = fake.execute([home.lbc_bridge.address], [release], sender=attacker)
    yield world.sent("polygon", drained), ("arrival-without-message",)


def forged_mint_through_a_new_minter_contract(world: WatchWorld) -> Iterator[Step]:
    """The attacker deploys two forwarding contracts, gets MINTER_ROLE granted to the inner one, and mints
    through the outer: the transaction's target is not the minter; the call trace names it."""
    attacker, lbc = world.attacker, world.protocol.lbc
    with world.chains.on("polygon"):
        outer = ape.project.GuardianBatch.deploy(attacker.address, sender=attacker)
        inner = ape.project.GuardianBatch.deploy(outer.address, sender=attacker)
        mint = calldata("mint(address,uint256)", ["address", "uint256"], [attacker.address, 5_000 * LBC])
        nested = bytes(inner.execute.encode_input([lbc.address], [mint]))
    grant = calldata(
        "grantRole(bytes32,address)", ["bytes32", "address"], [role("MINTER_ROLE"), inner.address]
    )
    yield world.send_as("polygon", world.timelock("polygon"), lbc, grant), ("role-granted",)
    with world.chains.on("polygon"):
        receipt = outer.execute([inner.address], [nested], sender=attacker)
    world.expect_minter = str(inner.address)
    yield world.sent("polygon", receipt), ("lbc-minted-by-stranger",)


def bridge_limit_drained(world: WatchWorld) -> Iterator[Step]:
    """With a holder's key, the attacker moves 550,000 LBC out at once: with the 300,000 of the baseline,
    85 % of the route's daily limit is used."""
    send, _delivery = world.bridge("polygon", "ethereum", "LBC", 550_000 * LBC, world.holders["carol"])
    yield send, ("limit-used",)


def safe_owner_swapped(world: WatchWorld) -> Iterator[Step]:
    """Two owners' keys sign a swap of the third owner for the attacker."""
    safe = world.safes["polygon"]
    first = world.owners[0].address
    data = calldata(
        "swapOwner(address,address,address)", ["address"] * 3, [SENTINEL, first, world.attacker.address]
    )
    yield world.safe_call("polygon", safe, data), ("safe-owner-removed", "safe-owner-added")


def safe_threshold_lowered(world: WatchWorld) -> Iterator[Step]:
    data = calldata("changeThreshold(uint256)", ["uint256"], [1])
    yield world.safe_call("polygon", world.safes["polygon"], data), ("safe-threshold",)


def safe_module_enabled_and_used(world: WatchWorld) -> Iterator[Step]:
    """A module enabled on the Safe (it may then act without signatures), which takes the Safe's LBC."""
    safe, attacker, lbc = world.safes["polygon"], world.attacker, world.protocol.lbc
    data = calldata("enableModule(address)", ["address"], [attacker.address])
    yield world.safe_call("polygon", safe, data), ("safe-module-enabled",)
    take = calldata("transfer(address,uint256)", ["address", "uint256"], [attacker.address, 50_000 * LBC])
    with world.chains.on("polygon"):
        receipt = safe.execTransactionFromModule(lbc.address, 0, take, 0, sender=attacker)
    yield world.sent("polygon", receipt), ("safe-module-executed",)


def unpaused_by_the_wrong_party(world: WatchWorld) -> Iterator[Step]:
    """The guardian pauses the cube contract (an incident); it is unpaused around the timelock."""
    cubes, guardian = world.protocol.cubes, world.guardians["polygon"]
    world.safe_call("polygon", cubes, calldata("pause()", [], []), safe=guardian, signers=world.owners[:1])
    yield (
        world.send_as("polygon", world.timelock("polygon"), cubes, calldata("unpause()", [], [])),
        ("unpaused",),
    )


def pause_storm(world: WatchWorld) -> Iterator[Step]:
    """A stolen guardian key pauses everything it can, one contract after another."""
    guardian, home = world.guardians["polygon"], world.sides["polygon"]
    targets = (world.protocol.cubes, home.lbc_bridge, home.cube_bridge)
    steps = [
        world.safe_call("polygon", t, calldata("pause()", [], []), safe=guardian, signers=world.owners[:1])
        for t in targets
    ]
    yield steps[-1], ("pause-storm",)


def cap_nearly_exhausted(world: WatchWorld) -> Iterator[Step]:
    """The cube contract (a bug, say) mints 850 million LBC: the cap is 85 % used."""
    mint = calldata(
        "mint(address,uint256)", ["address", "uint256"], [world.attacker.address, 850_000_000 * LBC]
    )
    yield world.send_as("polygon", str(world.protocol.cubes.address), world.protocol.lbc, mint), ("cap-used",)


def delivery_with_no_source_send(world: WatchWorld) -> Iterator[Step]:
    """Two of the messenger's signers (compromised) attest a transfer Polygon never sent: LBC is minted on
    Ethereum out of nothing."""
    payload = encode(
        ["uint256", "uint64", "address", "address", "uint256"],
        [1, 777_777, world.attacker.address, world.attacker.address, 50_000 * LBC],
    )
    message = world.forged("polygon", "ethereum", payload)
    yield world.deliver("ethereum", message, signers=world.signers[1:]), ("delivery-without-send",)


def cube_unlocked_on_two_chains(world: WatchWorld) -> Iterator[Step]:
    """Cube 1 is on Ethereum; forged attestations release the original at home to the attacker too."""
    payload = encode(
        ["uint256", "uint64", "address", "address", "uint256[]"],
        [1, 888_888, world.attacker.address, world.attacker.address, [1]],
    )
    message = world.forged("ethereum", "polygon", payload, cube=True)
    delivered = world.deliver("polygon", message)
    yield delivered, ("cube-unlocked-twice", "delivery-without-send")


def rate_raised_outside_the_timelock(world: WatchWorld) -> Iterator[Step]:
    data = calldata("setTierRate(uint8,uint256)", ["uint8", "uint256"], [3, 1_160 * 10**12])
    yield world.send_as("polygon", world.timelock("polygon"), world.protocol.cubes, data), ("rate-changed",)


def minter_for_a_stranger_scheduled_through_the_safe(world: WatchWorld) -> Iterator[Step]:
    """Two Safe owners' keys propose MINTER_ROLE for the attacker: it pages when scheduled, with the
    timelock's whole delay left to cancel it."""
    lbc = world.protocol.lbc
    grant = calldata(
        "grantRole(bytes32,address)", ["bytes32", "address"], [role("MINTER_ROLE"), world.attacker.address]
    )
    with world.chains.on("polygon"):
        result = propose(
            world.governance(), [Call(str(lbc.address), grant)], world.owners[:2], sender=world.admin
        )
    yield world.sent("polygon", result.receipt), ("timelock-scheduled",)


def remote_signers_swapped(world: WatchWorld) -> Iterator[Step]:
    """On Ethereum, the messenger's signers are replaced by the attacker alone, around the timelock."""
    messenger = world.sides["ethereum"].messenger
    data = calldata("setSigners(address[],uint256)", ["address[]", "uint256"], [[world.attacker.address], 1])
    yield world.send_as("ethereum", world.timelock("ethereum"), messenger, data), ("signers-changed",)


def admin_transfer_to_a_stranger(world: WatchWorld) -> Iterator[Step]:
    data = calldata("beginDefaultAdminTransfer(address)", ["address"], [world.attacker.address])
    yield world.send_as("polygon", world.timelock("polygon"), world.protocol.lbc, data), ("admin-transfer",)


ATTACKS: tuple[Attack, ...] = (
    stranger_granted_minter_then_mints,
    messenger_swapped_and_bridge_drained,
    forged_mint_through_a_new_minter_contract,
    bridge_limit_drained,
    safe_owner_swapped,
    safe_threshold_lowered,
    safe_module_enabled_and_used,
    unpaused_by_the_wrong_party,
    pause_storm,
    cap_nearly_exhausted,
    delivery_with_no_source_send,
    cube_unlocked_on_two_chains,
    rate_raised_outside_the_timelock,
    minter_for_a_stranger_scheduled_through_the_safe,
    remote_signers_swapped,
    admin_transfer_to_a_stranger,
)


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.__name__ for a in ATTACKS])
def test_attack__raises_its_alerts_within_one_block(world, tally, attack):
    world.reset()
    caught = True
    for step, rules in attack(world):
        seen = world.observe()
        head = seen.heads[step.key]
        for rule in rules:
            found = [
                a
                for a in seen.alerts
                if a.rule == rule and a.tx_hash == step.tx_hash and a.severity >= Severity.HIGH
            ]
            ok = bool(found) and all(a.block_number == step.block for a in found) and head - step.block <= 1
            tally.steps.append((attack.__name__, rule, ok))
            caught &= ok
            if rule == "lbc-minted-by-stranger" and world.expect_minter is not None and found:
                assert found[0].subject == world.expect_minter and found[0].values["minter_from"] == "traced"
    tally.attacks[attack.__name__] = caught
    assert caught, [(a.rule, a.severity.label, a.tx_hash, a.summary) for a in seen.alerts]


# -- ten benign days -----------------------------------------------------------------------------------------


def claim(world: WatchWorld, who: str, cube_ids: list[int]) -> None:
    with world.chains.on("polygon"):
        world.protocol.cubes.batchClaimRewards(cube_ids, sender=world.holders[who])


def onboard(world: WatchWorld, slug: str) -> str:
    """The Safe (ONBOARDER_ROLE) onboards partner `slug`, funding its welcome grant in LBC."""
    factory, lbc, cubes = world.protocol.partner_factory, world.protocol.lbc, world.protocol.cubes
    with world.chains.on("polygon"):
        funded = 10 * LBC * int(cubes.totalMinted())
    world.safe_call(
        "polygon",
        lbc,
        calldata("approve(address,uint256)", ["address", "uint256"], [factory.address, funded]),
    )
    partner_id = slug.encode().ljust(32, b"\0")
    terms = (
        world.owners[2].address,
        lbc.address,
        10 * LBC,
        30 * DAY,
        (100, 200, 300, 400),
        [b"coffee".ljust(32, b"\0")],
    )
    with world.chains.on("polygon"):
        data = bytes(factory.createPartner.encode_input(partner_id, terms))
    world.safe_call("polygon", factory, data)
    with world.chains.on("polygon"):
        return str(factory.partnerOf(partner_id))


def welcome(world: WatchWorld, partner: str, who: str, cube_ids: list[int]) -> None:
    with world.chains.on("polygon"):
        contracts.at("PartnerBenefits", partner).claimWelcome(cube_ids, sender=world.holders[who])


def governed(world: WatchWorld, target, data: bytes, salt: bytes) -> bytes:
    """Proposes `data` to `target` through the Safe and the timelock; returns the operation id."""
    with world.chains.on("polygon"):
        result = propose(
            world.governance(),
            [Call(str(target.address), data)],
            world.owners[:2],
            sender=world.admin,
            salt=salt,
        )
    return result.operation.id


def run_governed(world: WatchWorld, operation_id: bytes) -> None:
    with world.chains.on("polygon"):
        execute(world.governance(), operation_id, sender=world.admin)


def benign_days(world: WatchWorld) -> Iterator[str]:
    """Ten days of normal traffic, one at a time (yields each day's name once its traffic is sent)."""
    alice, bob, carol = (world.holders[k] for k in ("alice", "bob", "carol"))
    cubes, lbc, home = world.protocol.cubes, world.protocol.lbc, world.sides["polygon"]

    world.advance(DAY)
    claim(world, "alice", [2, 3, 4, 5])
    claim(world, "bob", [6, 7, 8])
    with world.chains.on("polygon"):
        lbc.transfer(bob, 100 * LBC, sender=alice)
    yield "1: claims and LBC transfers"

    world.advance(DAY)
    mint = calldata("mintBatch(address,uint8,uint256)", ["address", "uint8", "uint256"], [bob.address, 0, 4])
    world.safe_call("polygon", cubes, mint)
    with world.chains.on("polygon"):
        cubes.transferFrom(carol, bob, 9, sender=carol)
    claim(world, "carol", [10, 11, 12])
    yield "2: cubes minted by the Safe, a cube sold"

    world.advance(DAY)
    partner = onboard(world, "cafe")
    welcome(world, partner, "alice", [2, 3])
    welcome(world, partner, "bob", [6, 7, 8, 9])
    yield "3: a partner onboarded, welcome claims"

    world.advance(DAY)
    world.bridge("polygon", "ethereum", "LBC", 5_000 * LBC, alice)
    with world.chains.on("ethereum"):
        world.sides["ethereum"].lbc.transfer(bob, 1_000 * LBC, sender=alice)
    yield "4: LBC bridged to Ethereum, spent there"

    world.advance(DAY)
    world.bridge("ethereum", "polygon", "LBC", 1_000 * LBC, bob)
    world.bridge("ethereum", "polygon", "LBC", 10_000 * LBC, carol)
    yield "5: LBC bridged home"

    world.advance(DAY)
    world.bridge("polygon", "ethereum", "CUBE", [6], bob)
    world.bridge("ethereum", "polygon", "CUBE", [1], alice)
    claim(world, "alice", [1, 2])
    yield "6: cubes bridged both ways"

    world.advance(DAY)
    rate = governed(
        world,
        cubes,
        calldata("setTierRate(uint8,uint256)", ["uint8", "uint256"], [0, 12 * 10**12]),
        b"\x01" * 32,
    )
    claim(world, "bob", [7, 8])
    yield "7: a rate change proposed through the Safe"

    world.advance(DELAY)
    run_governed(world, rate)
    claim(world, "carol", [10, 11, 12])
    yield "8: the rate change executed after the delay"

    world.advance(DAY)
    operator = calldata("setActive(uint256,bool)", ["uint256", "bool"], [13, False])
    world.safe_call("polygon", cubes, operator)
    limits = governed(
        world,
        home.lbc_bridge,
        calldata(
            "setLimits(uint256,uint256,uint256)", ["uint256"] * 3, [1, 2_000_000 * LBC, 2_000_000 * LBC]
        ),
        b"\x02" * 32,
    )
    yield "9: a cube deactivated, a limit change proposed"

    world.advance(DAY)
    run_governed(world, limits)
    second = onboard(world, "gym")
    welcome(world, second, "carol", [10, 11])
    world.bridge("polygon", "ethereum", "LBC", 20_000 * LBC, carol)
    yield "10: the limit change executed, a second partner, a larger bridge transfer"


def test_benign_days__no_alert_of_warning_or_more(world, tally):
    world.reset()
    days = 0
    for day in benign_days(world):
        seen = world.observe()
        tally.benign[day] = [a for a in seen.alerts if a.severity >= Severity.WARNING]
        tally.info += [a for a in seen.alerts if a.severity < Severity.WARNING]
        days += 1
    assert days == 10
    # Governed operations were seen, as info: the rules did look at them.
    info_rules = {a.rule for a in tally.info}
    assert {"timelock-scheduled", "timelock-executed", "rate-changed", "limits-changed"} <= info_rules
    false = {day: [(a.rule, a.summary) for a in alerts] for day, alerts in tally.benign.items() if alerts}
    assert false == {}


def test_reorg__alerts_about_blocks_gone__listed_for_withdrawal_and_not_raised_again(world):
    world.reset()
    grant = calldata(
        "grantRole(bytes32,address)", ["bytes32", "address"], [role("MINTER_ROLE"), world.attacker.address]
    )
    sent = world.send_as("polygon", world.timelock("polygon"), world.protocol.lbc, grant)
    keys = {a.key for a in world.observe().alerts if a.tx_hash == sent.tx_hash}
    assert keys
    world.rewind()  # the attack's block is no longer on the chain
    after = world.observe()
    assert keys <= set(after.withdrawn)
    assert [a for a in after.alerts if a.tx_hash == sent.tx_hash] == []
    assert set(world.detector.rolled_back(137, None)).isdisjoint(keys)  # forgotten: not withdrawn twice


def test_recall_and_false_alerts__printed_and_held(tally):
    assert len(tally.attacks) == len(ATTACKS), "run the whole file: the attacks fill the tally"
    assert len(tally.benign) == 10
    caught = sum(tally.attacks.values())
    recall = caught / len(tally.attacks)
    false_alerts = sum(len(alerts) for alerts in tally.benign.values())
    print(f"\nattack scenarios: {len(tally.attacks)}, caught within one block: {caught}")
    for name, ok in tally.attacks.items():
        rules = ", ".join(rule for attack, rule, _ok in tally.steps if attack == name)
        print(f"  {'caught' if ok else 'MISSED'}  {name}  ({rules})")
    print(f"benign days: 10, false alerts (warning or more): {false_alerts}")
    print(f"recall {recall:.0%}, false alerts {false_alerts}")
    assert recall == 1.0
    assert false_alerts == 0
