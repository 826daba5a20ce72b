"""`link_ops.contracts`: the compiled contracts that ship inside the package. (That they equal the build
is checked before the suite starts, by tests/conftest.py; tests/integration/test_stale_build.py shows the
refusal.)"""

from __future__ import annotations

import json

import pytest
from _build import contracts_build
from web3 import Web3

from link_ops import contracts
from link_ops.contracts import UnknownContractError


def test_artifact_drift__a_stale_missing_or_extra_file__is_reported(tmp_path):
    (tmp_path / ".build").mkdir()
    (tmp_path / contracts_build.MANIFEST).write_text(
        json.dumps(
            {
                "contractTypes": {
                    "Kept": {"contractName": "Kept", "sourceId": "contracts/Kept.sol", "abi": []},
                    "Gone": {"contractName": "Gone", "sourceId": "contracts/Gone.sol", "abi": []},
                    "Mock": {"contractName": "Mock", "sourceId": "contracts/test/Mock.sol", "abi": []},
                    "Edited": {"contractName": "Edited", "sourceId": "contracts/Edited.sol", "abi": []},
                }
            }
        )
    )
    assert contracts_build.write_artifacts(tmp_path) == 3  # the test-only contract is not packaged
    folder = tmp_path / contracts_build.PACKAGED
    assert sorted(p.name for p in folder.iterdir()) == ["Edited.json", "Gone.json", "Kept.json"]
    (folder / "Gone.json").unlink()
    (folder / "Edited.json").write_text("{}")
    (folder / "Extra.json").write_text("{}")
    assert contracts_build.artifact_drift(tmp_path) == [
        "Gone.json missing",
        "Edited.json stale",
        "Extra.json not in the build",
    ]
    contracts_build.write_artifacts(tmp_path)
    assert contracts_build.artifact_drift(tmp_path) == []


def test_names__the_protocol_without_test_only_contracts():
    names = contracts.names()
    for name in ("LBCToken", "OptimizedCubeManagement", "PartnerFactory", "PartnerBenefits", "LBCBridge"):
        assert name in names
    for test_only in ("MockERC20", "CubeLens", "SeedCubeManagement", "CallbackERC20"):
        assert test_only not in names


def test_abi__plain_json_that_web3_accepts():
    abi = contracts.abi("OptimizedCubeManagement")
    assert json.loads(json.dumps(abi)) == abi
    functions = {entry["name"] for entry in abi if entry["type"] == "function"}
    assert {"ownerOf", "batchClaimRewards", "pendingReward", "mintBatch"} <= functions
    contract = Web3().eth.contract(abi=abi)
    assert contract.functions.batchClaimRewards([1, 2]).selector == "0x" + Web3.keccak(
        text="batchClaimRewards(uint256[])"
    )[:4].hex().removeprefix("0x")


def test_abi__returns_a_copy__the_package_cannot_be_edited_through_it():
    contracts.abi("LBCToken").clear()
    assert contracts.abi("LBCToken")


def test_unknown_contract__one_error_naming_what_is_packaged():
    with pytest.raises(
        UnknownContractError, match=r"^Unknown contract: MockERC20; link_ops carries .*LBCToken"
    ):
        contracts.abi("MockERC20")


def test_container_and_at__deploy_and_read_on_the_connected_chain(admin, alice):
    token = admin.deploy(contracts.container("LBCToken"), admin.address, 10**24)
    again = contracts.at("LBCToken", token.address)
    assert again.cap() == 10**24 and again.symbol() == "LBC"
    assert contracts.contract_type("LBCToken").name == "LBCToken"
