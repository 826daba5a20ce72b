"""deploy_protocol: wiring, records, reuse, resume and bad input."""

from __future__ import annotations

import json

import pytest

from link_ops.exceptions import (
    ConfigurationError,
    DeploymentRecordError,
    MissingAccountError,
    RecordedContractMissingError,
    WrongChainError,
)
from link_ops.protocol.deploy import (
    DEFAULT_LBC_CAP,
    DEFAULT_TIER_RATES,
    accept_admin,
    deploy_protocol,
    load_protocol,
)
from link_ops.protocol.records import (
    DEPLOYMENTS_DIR_ENV,
    DeploymentRecord,
    deployments_directory,
    load_record,
    save_record,
)


def test_deploy__fresh__wires_minter_role_rates_and_admin(admin, tmp_path):
    p = deploy_protocol(admin, deployments_dir=tmp_path)
    assert p.lbc.hasRole(p.lbc.MINTER_ROLE(), p.cubes.address)
    assert p.lbc.cap() == DEFAULT_LBC_CAP
    assert [p.cubes.tierRate(t) for t in range(4)] == list(DEFAULT_TIER_RATES)
    assert p.cubes.lbcToken() == p.lbc.address
    assert p.partner_factory.cubes() == p.cubes.address
    assert p.partner_factory.hasRole(p.partner_factory.ONBOARDER_ROLE(), admin.address)
    assert p.admin == admin.address and not p.reused
    for role in ("DEFAULT_ADMIN_ROLE", "MINTER_ROLE", "OPERATOR_ROLE", "PAUSER_ROLE"):
        assert p.cubes.hasRole(getattr(p.cubes, role)(), admin.address)


def test_deploy__records__addresses_atomically_and_complete(admin, chain, tmp_path):
    p = deploy_protocol(admin, deployments_dir=tmp_path)
    rec = load_record(tmp_path, chain.chain_id)
    assert rec is not None and rec.complete
    assert rec.contracts["LBCToken"].address == p.lbc.address
    assert rec.contracts["OptimizedCubeManagement"].address == p.cubes.address
    assert rec.contracts["PartnerFactory"].address == p.partner_factory.address
    assert rec.contracts["LBCToken"].block_number is not None
    # No temporary files are left beside the record.
    assert sorted(f.name for f in tmp_path.iterdir()) == [f"{chain.chain_id}.json"]


def test_deploy__rerun_on_same_chain__reuses_instead_of_deploying(admin, chain, tmp_path):
    first = deploy_protocol(admin, deployments_dir=tmp_path)
    nonce = admin.nonce
    again = deploy_protocol(admin, deployments_dir=tmp_path)
    assert again.reused
    assert (again.lbc.address, again.cubes.address) == (first.lbc.address, first.cubes.address)
    assert admin.nonce == nonce  # not a single transaction


def test_deploy__interrupted_after_token__resumes_with_the_recorded_token(admin, chain, tmp_path):
    first = deploy_protocol(admin, deployments_dir=tmp_path)
    rec = load_record(tmp_path, chain.chain_id)
    assert rec is not None
    # As if the run had stopped right after deploying the token.
    partial = DeploymentRecord(
        chain_id=rec.chain_id,
        genesis_hash=rec.genesis_hash,
        contracts={"LBCToken": rec.contracts["LBCToken"]},
    )
    save_record(tmp_path, partial)
    resumed = deploy_protocol(admin, deployments_dir=tmp_path)
    assert resumed.lbc.address == first.lbc.address
    assert resumed.cubes.address != first.cubes.address
    assert resumed.lbc.hasRole(resumed.lbc.MINTER_ROLE(), resumed.cubes.address)
    assert load_record(tmp_path, chain.chain_id).complete


def test_deploy__other_admin__gets_every_role_at_once_and_the_default_admin_role_after_the_delay(
    admin, alice, chain
):
    p = deploy_protocol(admin, admin=alice, record=False)
    operational = [p.cubes.MINTER_ROLE(), p.cubes.OPERATOR_ROLE(), p.cubes.PAUSER_ROLE()]
    assert all(p.cubes.hasRole(r, alice.address) for r in operational)
    assert not any(p.cubes.hasRole(r, admin.address) for r in operational)
    assert p.partner_factory.hasRole(p.partner_factory.ONBOARDER_ROLE(), alice.address)
    assert not p.partner_factory.hasRole(p.partner_factory.ONBOARDER_ROLE(), admin.address)
    assert p.lbc.hasRole(p.lbc.MINTER_ROLE(), p.cubes.address)
    contracts = (p.lbc, p.cubes, p.partner_factory)
    for contract in contracts:
        pending, _schedule = contract.pendingDefaultAdmin()
        assert (contract.defaultAdmin(), pending) == (admin.address, alice.address)

    with pytest.raises(ConfigurationError, match="ready after timestamp"):
        accept_admin(p, alice)
    assert all(c.defaultAdmin() == admin.address for c in contracts), "nothing accepted too early"

    chain.pending_timestamp += 2 * 86_400 + 1
    assert accept_admin(p, alice) == ["LBCToken", "OptimizedCubeManagement", "PartnerFactory"]
    for contract in contracts:
        assert contract.defaultAdmin() == alice.address
        assert contract.hasRole(contract.DEFAULT_ADMIN_ROLE(), alice.address)
        assert not contract.hasRole(contract.DEFAULT_ADMIN_ROLE(), admin.address)
    assert accept_admin(p, alice) == [], "accepting again sends nothing"


def test_accept_admin__without_a_pending_transfer__is_refused_and_sends_nothing(admin, alice):
    p = deploy_protocol(admin, record=False)
    with pytest.raises(ConfigurationError, match=r"no admin transfer to .* pending"):
        accept_admin(p, alice)
    assert p.cubes.defaultAdmin() == admin.address


def test_deploy__record_from_before_the_factory__gains_the_factory_and_keeps_the_rest(admin, chain, tmp_path):
    first = deploy_protocol(admin, deployments_dir=tmp_path)
    rec = load_record(tmp_path, chain.chain_id)
    assert rec is not None
    older = rec.model_copy(
        update={"contracts": {k: v for k, v in rec.contracts.items() if k != "PartnerFactory"}}
    )
    save_record(tmp_path, older)
    again = deploy_protocol(admin, deployments_dir=tmp_path)
    assert (again.lbc.address, again.cubes.address) == (first.lbc.address, first.cubes.address)
    assert again.partner_factory.cubes() == first.cubes.address and not again.reused
    assert (
        load_record(tmp_path, chain.chain_id).contracts["PartnerFactory"].address
        == again.partner_factory.address
    )


def test_deploy__custom_cap_and_rates__are_applied(admin):
    rates = (10**12, 2 * 10**12, 0, 5 * 10**12)
    p = deploy_protocol(admin, lbc_cap=123 * 10**18, tier_rates=rates, record=False)
    assert p.lbc.cap() == 123 * 10**18
    assert tuple(p.cubes.tierRate(t) for t in range(4)) == rates


def test_deploy__without_record__writes_nothing(admin, tmp_path):
    deploy_protocol(admin, record=False, deployments_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("cap", [0, -1])
def test_deploy__zero_or_negative_cap__fails_before_any_transaction(admin, tmp_path, cap):
    nonce = admin.nonce
    with pytest.raises(ConfigurationError, match="lbc_cap must be a positive"):
        deploy_protocol(admin, lbc_cap=cap, deployments_dir=tmp_path)
    assert admin.nonce == nonce and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("rates", "fragment"),
    [
        ((1, 0, 0, 0), "multiple of"),
        ((0, 0, 0), "expected 4 rates"),
        ((2**23 * 10**12, 0, 0, 0), "between 0"),
    ],
)
def test_deploy__bad_tier_rates__fail_with_the_tier_named(admin, tmp_path, rates, fragment):
    with pytest.raises(ConfigurationError, match=fragment):
        deploy_protocol(admin, tier_rates=rates, deployments_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_deploy__missing_account__says_how_to_pass_one(tmp_path):
    with pytest.raises(MissingAccountError, match="--account"):
        deploy_protocol(None, deployments_dir=tmp_path)


def test_deploy__bad_admin__is_rejected(admin, tmp_path):
    with pytest.raises(ConfigurationError, match="admin must be"):
        deploy_protocol(admin, admin="0x1234", deployments_dir=tmp_path)


def test_deploy__expected_chain_differs__refuses(admin, tmp_path):
    with pytest.raises(WrongChainError, match="expected Polygon PoS"):
        deploy_protocol(admin, expected_chain_id=137, deployments_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def _write_record(tmp_path, chain, **changes):
    genesis = chain.blocks[0].hash
    rec = DeploymentRecord(
        chain_id=chain.chain_id,
        genesis_hash=genesis.hex() if isinstance(genesis, bytes) else str(genesis),
        contracts={"LBCToken": {"address": "0x000000000000000000000000000000000000dEaD"}},
        **changes,
    )
    save_record(tmp_path, rec)
    return tmp_path / f"{chain.chain_id}.json"


def test_deploy__recorded_address_without_code__fails_and_keeps_the_record(admin, chain, tmp_path):
    path = _write_record(tmp_path, chain)
    before = path.read_text()
    with pytest.raises(RecordedContractMissingError, match="no contract code"):
        deploy_protocol(admin, deployments_dir=tmp_path)
    assert path.read_text() == before


def test_deploy__record_of_a_restarted_local_chain__starts_a_new_record(admin, chain, tmp_path):
    path = _write_record(tmp_path, chain)
    data = json.loads(path.read_text())
    data["genesis_hash"] = "0x" + "11" * 32
    path.write_text(json.dumps(data))
    p = deploy_protocol(admin, deployments_dir=tmp_path)
    assert load_record(tmp_path, chain.chain_id).contracts["LBCToken"].address == p.lbc.address


def test_load_record__corrupt_file__names_the_file_and_the_fix(chain, tmp_path):
    (tmp_path / f"{chain.chain_id}.json").write_text("{not json")
    with pytest.raises(DeploymentRecordError, match="not a valid deployment record"):
        load_record(tmp_path, chain.chain_id)


def test_load_record__file_of_another_chain__is_rejected(chain, tmp_path):
    rec = DeploymentRecord(chain_id=137, genesis_hash="0x00")
    save_record(tmp_path, rec)
    (tmp_path / "137.json").rename(tmp_path / "80002.json")
    with pytest.raises(DeploymentRecordError, match="records chain 137"):
        load_record(tmp_path, 80002)


def test_deploy__record_from_another_network_with_same_chain_id__refuses(admin, chain, tmp_path, monkeypatch):
    path = _write_record(tmp_path, chain)
    data = json.loads(path.read_text())
    data["genesis_hash"] = "0x" + "22" * 32
    path.write_text(json.dumps(data))
    before = path.read_text()
    monkeypatch.setattr("link_ops.protocol.deploy.is_local_chain", lambda _chain_id: False)
    with pytest.raises(WrongChainError, match="another network under the same chain id"):
        deploy_protocol(admin, deployments_dir=tmp_path)
    assert path.read_text() == before


def test_load_protocol__after_a_recorded_deploy__returns_the_same_contracts(admin, chain, tmp_path):
    deployed = deploy_protocol(admin, deployments_dir=tmp_path)
    loaded = load_protocol(deployments_dir=tmp_path)
    assert (loaded.lbc.address, loaded.cubes.address) == (deployed.lbc.address, deployed.cubes.address)
    assert loaded.chain_id == chain.chain_id and loaded.reused


def test_load_protocol__nothing_recorded__says_to_deploy_first(tmp_path):
    with pytest.raises(DeploymentRecordError, match="ape run deploy"):
        load_protocol(deployments_dir=tmp_path)


def test_deploy__records_the_admin_and_load_protocol_returns_it(admin, alice, tmp_path):
    deploy_protocol(admin, admin=alice, deployments_dir=tmp_path)
    assert load_protocol(deployments_dir=tmp_path).admin == alice.address


def test_deploy__lists_each_transaction_it_sent_with_its_gas(admin, alice, chain):
    p = deploy_protocol(admin, admin=alice, record=False)
    steps = [t.step for t in p.transactions]
    assert steps[:3] == [
        f"deployed LBCToken at {p.lbc.address}",
        f"deployed OptimizedCubeManagement at {p.cubes.address}",
        f"deployed PartnerFactory at {p.partner_factory.address}",
    ]
    assert "granted LBC MINTER_ROLE to OptimizedCubeManagement" in steps
    assert sum(s.startswith("tier ") for s in steps) == 4
    assert sum(": renounced " in s for s in steps) == 4  # 3 on cubes, 1 on the factory
    assert sum(": admin transfer to " in s for s in steps) == 3  # one per contract
    assert f"OptimizedCubeManagement: granted MINTER_ROLE to {alice.address}" in steps
    for tx in p.transactions:
        assert chain.provider.get_receipt(tx.tx_hash).gas_used == tx.gas_used
    assert p.gas_used == sum(t.gas_used for t in p.transactions)


def test_deploy__rerun_of_a_complete_deployment__sends_no_transaction(admin, tmp_path):
    deploy_protocol(admin, deployments_dir=tmp_path)
    assert deploy_protocol(admin, deployments_dir=tmp_path).transactions == []


def test_deploy__dry_run__reads_the_record_sends_what_is_missing_and_writes_nothing(admin, chain, tmp_path):
    first = deploy_protocol(admin, deployments_dir=tmp_path)
    rec = load_record(tmp_path, chain.chain_id)
    assert rec is not None
    without_factory = rec.model_copy(
        update={"contracts": {k: v for k, v in rec.contracts.items() if k != "PartnerFactory"}}
    )
    save_record(tmp_path, without_factory)
    before = (tmp_path / f"{chain.chain_id}.json").read_bytes()

    rehearsal = deploy_protocol(admin, deployments_dir=tmp_path, dry_run=True)

    assert rehearsal.dry_run and rehearsal.record_file is None
    assert rehearsal.lbc.address == first.lbc.address
    assert [t.step.split(" at ")[0] for t in rehearsal.transactions] == ["deployed PartnerFactory"]
    assert (tmp_path / f"{chain.chain_id}.json").read_bytes() == before


def test_deployments_directory__env_variable_overrides_the_project_folder(tmp_path, monkeypatch):
    monkeypatch.setenv(DEPLOYMENTS_DIR_ENV, str(tmp_path / "elsewhere"))
    assert deployments_directory(tmp_path) == tmp_path / "elsewhere"
    monkeypatch.setenv(DEPLOYMENTS_DIR_ENV, "  ")
    assert deployments_directory(tmp_path) == tmp_path / "deployments"
