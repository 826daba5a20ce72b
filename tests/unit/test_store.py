"""Specs of link_ops.store: the operations store, each on a new SQLite file and a new PostgreSQL database
(``db_url``)."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from link_ops.exceptions import ConfigurationError
from link_ops.model.attest import Message
from link_ops.model.partner_config import PartnerConfig
from link_ops.store import (
    DB_URL_ENV,
    DEFAULT_SLA,
    ConfigMismatchError,
    OpsStore,
    OpsStoreError,
    PartnerStateError,
    StepAlreadyDoneError,
    StoreConfigurationError,
    UnknownPartnerError,
    default_db_url,
)
from link_ops.store.partner_tables import MonitoringRow, PartnerRow

AMOY = 80002
POLYGON = 137
CONTRACT = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
OTHER_CONTRACT = "0x" + "ab" * 20
SEOUL = timezone(timedelta(hours=9))
WHEN = datetime(2025, 11, 26, 13, 30, tzinfo=SEOUL)
ENDPOINTS = ["http://127.0.0.1:8765/health", "http://127.0.0.1:8765/api/v1/status"]
TX = "0x" + "12" * 32


def partner_config(partner_id: str = "cafe-seoul", **changes: Any) -> PartnerConfig:
    data: dict[str, Any] = {
        "partner_id": partner_id,
        "name": "Hangang Roasters Seoul",
        "api_endpoints": ENDPOINTS,
        "auth_method": "api_key",
        "services": ["coffee", "bakery"],
        "benefit_structure": {"discount_bps": {0: 500, 3: 2500}},
        "initial_benefits": {"token": "LBC", "amount_per_cube": 5 * 10**18},
        "claim_window_days": 30,
    }
    return PartnerConfig.from_mapping({**data, **changes})


@pytest.fixture(autouse=True)
def _no_db_url_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DB_URL_ENV, raising=False)


@pytest.fixture
def store(ops_store: OpsStore) -> OpsStore:
    """A new, empty store: on SQLite, then on PostgreSQL (``db_url``, link_ops.testing.pytest_postgres)."""
    return ops_store


@pytest.fixture
def onboarding(store: OpsStore) -> PartnerConfig:
    """cafe-seoul begun on Amoy, its first three steps done."""
    config = partner_config()
    store.partners.begin_onboarding(config, AMOY)
    store.partners.record_step("cafe-seoul", AMOY, "validate")
    store.partners.record_step("cafe-seoul", AMOY, "deploy", detail=TX, gas_used=1_234_567)
    store.partners.record_step("cafe-seoul", AMOY, "fund", detail=TX, gas_used=80_000)
    return config


# ---------------------------------------------------------------------------------------------- locations


def test_default_db_url__is_ops_db_under_dot_link_ops_of_the_project_root(tmp_path: Path) -> None:
    assert default_db_url(tmp_path) == f"sqlite:///{tmp_path.resolve() / '.link_ops' / 'ops.db'}"


def test_default_db_url__project_root_defaults_to_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    assert default_db_url() == f"sqlite:///{tmp_path.resolve() / '.link_ops' / 'ops.db'}"


def test_ops_store__no_url__creates_the_default_file_and_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    with OpsStore() as store:
        store.partners.begin_onboarding(partner_config(), AMOY)

    assert (tmp_path / ".link_ops" / "ops.db").is_file()


def test_ops_store__link_ops_db_url__is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    db_file = tmp_path / "elsewhere" / "nested" / "env.db"
    monkeypatch.setenv(DB_URL_ENV, f"sqlite:///{db_file}")

    with OpsStore() as store:
        store.partners.begin_onboarding(partner_config(), AMOY)

    assert default_db_url(tmp_path) == f"sqlite:///{db_file}"
    assert db_file.is_file()
    assert not (tmp_path / ".link_ops").exists()
    with OpsStore(f"sqlite:///{db_file}") as reopened:
        assert reopened.partners.get_partner("cafe-seoul", AMOY) is not None


def test_ops_store__explicit_url__wins_over_link_ops_db_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str
) -> None:
    monkeypatch.setenv(DB_URL_ENV, f"sqlite:///{tmp_path / 'env.db'}")

    with OpsStore(db_url) as store:
        store.partners.begin_onboarding(partner_config(), AMOY)

    assert not (tmp_path / "env.db").exists()
    monkeypatch.delenv(DB_URL_ENV)
    with OpsStore(db_url) as reopened:
        assert reopened.partners.get_partner("cafe-seoul", AMOY) is not None


def test_ops_store__malformed_url__is_a_configuration_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(DB_URL_ENV, "not a url")

    with pytest.raises(StoreConfigurationError, match=f"\\${DB_URL_ENV} 'not a url' is not a database URL"):
        OpsStore()


def test_ops_store__unknown_driver__is_a_configuration_error() -> None:
    with pytest.raises(StoreConfigurationError, match="driver"):
        OpsStore("nosuchdb://user@host/db")


def test_ops_store__url_shown_as_given(sqlite_url: str) -> None:
    with OpsStore(sqlite_url) as store:
        assert store.url == sqlite_url
        assert repr(store) == f"OpsStore({sqlite_url!r})"


@pytest.mark.postgres
def test_ops_store__postgresql_url__shown_without_its_password(postgres_url: str) -> None:
    url = make_url(postgres_url)
    if url.password is None:  # the throwaway cluster trusts loopback: a password is accepted and ignored
        url = url.set(password="s3cret-pw")
    secret = str(url.password)

    with OpsStore(url.render_as_string(hide_password=False)) as store:
        assert secret not in store.url and secret not in repr(store)
        assert store.url == url.render_as_string(hide_password=True)
        assert ":***@" in store.url


# ----------------------------------------------------------------------------------------------- partners


def test_begin_onboarding__new_partner__is_onboarding_with_its_config(store: OpsStore) -> None:
    config = partner_config()

    record = store.partners.begin_onboarding(config, AMOY)

    assert record.partner_id == "cafe-seoul" and record.chain_id == AMOY
    assert record.name == "Hangang Roasters Seoul"
    assert record.status == "onboarding"
    assert record.contract_address is None and record.integration_time is None
    assert record.config == config
    assert record.created_at.tzinfo == timezone.utc
    assert store.partners.get_partner("cafe-seoul", AMOY) == record


def test_begin_onboarding__twice__returns_the_same_partner_not_a_second_one(store: OpsStore) -> None:
    first = store.partners.begin_onboarding(partner_config(), AMOY)
    again = store.partners.begin_onboarding(partner_config(), AMOY)

    assert again.created_at == first.created_at
    assert [p.partner_id for p in store.partners.list_partners()] == ["cafe-seoul"]


def test_begin_onboarding__no_step_done__takes_the_new_config(store: OpsStore) -> None:
    store.partners.begin_onboarding(partner_config(), AMOY)
    store.partners.record_step("cafe-seoul", AMOY, "validate", status="failed", detail="answered 503")

    record = store.partners.begin_onboarding(partner_config(name="Hangang Roasters"), AMOY)

    assert record.name == "Hangang Roasters"
    assert record.config.name == "Hangang Roasters"


def test_begin_onboarding__steps_done_with_another_config__refuses_to_mix_them(
    store: OpsStore, onboarding: PartnerConfig
) -> None:
    with pytest.raises(ConfigMismatchError, match="validate, deploy, fund"):
        store.partners.begin_onboarding(partner_config(services=["tea"]), AMOY)

    record = store.partners.get_partner("cafe-seoul", AMOY)
    assert record is not None and record.config == onboarding


def test_begin_onboarding__active_partner__stays_active(store: OpsStore, onboarding: PartnerConfig) -> None:
    active = store.partners.activate("cafe-seoul", AMOY, CONTRACT, WHEN, ENDPOINTS)

    again = store.partners.begin_onboarding(onboarding, AMOY)

    assert again.status == "active"
    assert again == active
    assert store.partners.get_monitoring("cafe-seoul", AMOY) is not None


def test_same_partner_on_two_chains__is_two_records(store: OpsStore, onboarding: PartnerConfig) -> None:
    store.partners.begin_onboarding(onboarding, POLYGON)
    store.partners.activate("cafe-seoul", AMOY, CONTRACT, WHEN, ENDPOINTS)

    amoy, polygon = (
        store.partners.get_partner("cafe-seoul", AMOY),
        store.partners.get_partner("cafe-seoul", POLYGON),
    )

    assert amoy is not None and amoy.status == "active"
    assert polygon is not None and polygon.status == "onboarding"
    assert list(store.partners.completed_steps("cafe-seoul", POLYGON)) == []
    assert [(p.partner_id, p.chain_id) for p in store.partners.list_partners()] == [
        ("cafe-seoul", POLYGON),
        ("cafe-seoul", AMOY),
    ]
    assert [p.chain_id for p in store.partners.list_partners(chain_id=POLYGON)] == [POLYGON]


def test_list_partners__sorted_by_chain_then_id(store: OpsStore) -> None:
    for partner_id, chain_id in [("zeta-bar", AMOY), ("alpha-dapp", AMOY), ("mid-shop", POLYGON)]:
        store.partners.begin_onboarding(partner_config(partner_id), chain_id)

    assert [(p.chain_id, p.partner_id) for p in store.partners.list_partners()] == [
        (POLYGON, "mid-shop"),
        (AMOY, "alpha-dapp"),
        (AMOY, "zeta-bar"),
    ]
    assert store.partners.list_partners(chain_id=1) == []


PARTNER_IDS = ["ab-c", "abb", "ab0", "a-z", "abd"]


def test_list_partners__ids_in_code_point_order_on_every_backend(store: OpsStore) -> None:
    for partner_id in PARTNER_IDS:
        store.partners.begin_onboarding(partner_config(partner_id), AMOY)

    assert [p.partner_id for p in store.partners.list_partners()] == sorted(PARTNER_IDS)


@pytest.mark.postgres
def test_list_partners__postgresql_database_collating_like_en_us__still_code_point_order(
    postgres_server: Any,
) -> None:
    """en_US collations ignore '-' (``abb`` before ``ab-c``); SQLite never does. ICU's ``und-u-ka-shifted``
    collates that way on any machine."""
    name = f"link_ops_icu_{uuid.uuid4().hex[:12]}"
    try:
        url = postgres_server.create_database(name, icu_locale="und-u-ka-shifted")
    except OperationalError as exc:  # a server built without ICU
        pytest.skip(f"the server cannot create an ICU-collated database: {exc.orig}")
    try:
        with OpsStore(url) as store:
            with store.engine.connect() as connection:
                linguistic = connection.execute(
                    text("SELECT x FROM (VALUES ('ab-c'), ('abb')) AS v(x) ORDER BY x")
                ).scalars()
                assert list(linguistic) == ["abb", "ab-c"]  # the database's own order differs...
            for partner_id in PARTNER_IDS:
                store.partners.begin_onboarding(partner_config(partner_id), AMOY)

            assert [p.partner_id for p in store.partners.list_partners()] == sorted(
                PARTNER_IDS
            )  # ...ours not
    finally:
        postgres_server.drop_database(name)


def test_get_partner__unknown__is_none(store: OpsStore) -> None:
    assert store.partners.get_partner("nobody", AMOY) is None


@pytest.mark.parametrize("chain_id", [0, -1, True, "80002"])
def test_begin_onboarding__bad_chain_id__is_a_configuration_error(store: OpsStore, chain_id: Any) -> None:
    with pytest.raises(ConfigurationError, match="chain_id"):
        store.partners.begin_onboarding(partner_config(), chain_id)


# -------------------------------------------------------------------------------------------------- steps


def test_record_step__round_trips_detail_gas_and_utc_time(store: OpsStore) -> None:
    store.partners.begin_onboarding(partner_config(), AMOY)
    before = datetime.now(timezone.utc)

    written = store.partners.record_step("cafe-seoul", AMOY, "deploy", detail=TX, gas_used=1_234_567)

    [(name, read)] = store.partners.completed_steps("cafe-seoul", AMOY).items()
    assert name == "deploy"
    assert read == written
    assert (read.step, read.status, read.detail, read.gas_used) == ("deploy", "done", TX, 1_234_567)
    assert read.at.tzinfo == timezone.utc and before <= read.at <= datetime.now(timezone.utc)


def test_completed_steps__only_done_steps_in_onboarding_order(store: OpsStore) -> None:
    store.partners.begin_onboarding(partner_config(), AMOY)
    store.partners.record_step("cafe-seoul", AMOY, "fund", status="failed", detail="insufficient LBC")
    store.partners.record_step("cafe-seoul", AMOY, "deploy", detail=TX)
    store.partners.record_step("cafe-seoul", AMOY, "validate")

    assert list(store.partners.completed_steps("cafe-seoul", AMOY)) == ["validate", "deploy"]
    assert [(s.step, s.status) for s in store.partners.list_steps("cafe-seoul", AMOY)] == [
        ("validate", "done"),
        ("deploy", "done"),
        ("fund", "failed"),
    ]


def test_record_step__failed_then_done__overwrites_the_one_row(store: OpsStore) -> None:
    store.partners.begin_onboarding(partner_config(), AMOY)
    store.partners.record_step("cafe-seoul", AMOY, "deploy", status="failed", detail="out of gas")
    store.partners.record_step("cafe-seoul", AMOY, "deploy", status="failed", detail="nonce too low")

    store.partners.record_step("cafe-seoul", AMOY, "deploy", detail=TX, gas_used=900_000)

    [step] = store.partners.list_steps("cafe-seoul", AMOY)
    assert (step.status, step.detail, step.gas_used) == ("done", TX, 900_000)


def test_record_step__done_twice__refused_and_the_first_kept(
    store: OpsStore, onboarding: PartnerConfig
) -> None:
    with pytest.raises(StepAlreadyDoneError, match=f"'deploy' of partner 'cafe-seoul' on chain {AMOY}"):
        store.partners.record_step("cafe-seoul", AMOY, "deploy", detail="0xsecond")

    assert store.partners.completed_steps("cafe-seoul", AMOY)["deploy"].detail == TX


def test_record_step__failed_after_done__refused(store: OpsStore, onboarding: PartnerConfig) -> None:
    with pytest.raises(StepAlreadyDoneError):
        store.partners.record_step("cafe-seoul", AMOY, "fund", status="failed", detail="late error")

    assert store.partners.completed_steps("cafe-seoul", AMOY)["fund"].status == "done"


def test_onboarding_steps__unique_per_partner_chain_and_step_in_the_database(store: OpsStore) -> None:
    constraints = inspect(store.engine).get_unique_constraints("onboarding_steps")

    assert {tuple(c["column_names"]) for c in constraints} == {("partner_id", "chain_id", "step")}


def test_record_step__same_step_on_another_chain__is_its_own(
    store: OpsStore, onboarding: PartnerConfig
) -> None:
    store.partners.begin_onboarding(onboarding, POLYGON)

    store.partners.record_step("cafe-seoul", POLYGON, "deploy", detail="0xpolygon")

    assert store.partners.completed_steps("cafe-seoul", AMOY)["deploy"].detail == TX
    assert store.partners.completed_steps("cafe-seoul", POLYGON)["deploy"].detail == "0xpolygon"


def test_record_step__unknown_partner__says_to_begin_onboarding(store: OpsStore) -> None:
    with pytest.raises(UnknownPartnerError, match="begin_onboarding"):
        store.partners.record_step("nobody", AMOY, "validate")


@pytest.mark.parametrize(
    ("step", "status", "gas_used", "match"),
    [
        ("launch", "done", None, "unknown onboarding step 'launch'"),
        ("deploy", "ok", None, "unknown step status 'ok'"),
        ("deploy", "done", -1, "gas_used"),
        ("deploy", "done", 1.5, "gas_used"),
        ("monitor", "done", None, "activate"),
    ],
)
def test_record_step__bad_arguments__are_configuration_errors_and_record_nothing(
    store: OpsStore, step: str, status: str, gas_used: Any, match: str
) -> None:
    store.partners.begin_onboarding(partner_config(), AMOY)

    with pytest.raises(ConfigurationError, match=match):
        store.partners.record_step("cafe-seoul", AMOY, step, status=status, gas_used=gas_used)

    assert store.partners.list_steps("cafe-seoul", AMOY) == []


# --------------------------------------------------------------------------------------------- activation


def test_activate__partner_active_with_contract_time_monitoring_and_monitor_step(
    store: OpsStore, onboarding: PartnerConfig
) -> None:
    record = store.partners.activate("cafe-seoul", AMOY, CONTRACT.lower(), WHEN, ENDPOINTS)

    assert record.status == "active"
    assert record.contract_address == CONTRACT
    assert record.integration_time == WHEN
    assert record.integration_time is not None and record.integration_time.tzinfo == timezone.utc
    assert store.partners.get_partner("cafe-seoul", AMOY) == record
    monitoring = store.partners.get_monitoring("cafe-seoul", AMOY)
    assert monitoring is not None
    assert monitoring.endpoints == tuple(ENDPOINTS)
    assert dict(monitoring.sla) == dict(DEFAULT_SLA)
    assert list(store.partners.completed_steps("cafe-seoul", AMOY)) == [
        "validate",
        "deploy",
        "fund",
        "monitor",
    ]


def test_default_sla__is_the_seed_service_levels() -> None:
    assert dict(DEFAULT_SLA) == {
        "availability": 99.5,
        "response_time_s": 2.0,
        "error_rate": 0.005,
        "benefit_apply_hours": 24,
        "support_response_hours": 4,
    }


def test_activate__partial_sla__overrides_only_the_fields_given(
    store: OpsStore, onboarding: PartnerConfig
) -> None:
    store.partners.activate("cafe-seoul", AMOY, CONTRACT, WHEN, ENDPOINTS, sla={"availability": 99.9})

    monitoring = store.partners.get_monitoring("cafe-seoul", AMOY)
    assert monitoring is not None
    assert dict(monitoring.sla) == {**DEFAULT_SLA, "availability": 99.9}


@pytest.fixture
def fail_partner_update() -> Iterator[list[int]]:
    """Makes every UPDATE of a partners row raise; yields the monitoring rows present when it did."""
    seen: list[int] = []

    def boom(_mapper: Any, connection: Any, _target: Any) -> None:
        seen.append(connection.execute(select(func.count()).select_from(MonitoringRow)).scalar_one())
        raise RuntimeError("injected failure while activating")

    event.listen(PartnerRow, "before_update", boom)
    try:
        yield seen
    finally:
        event.remove(PartnerRow, "before_update", boom)


def test_activate__failure_after_the_monitoring_insert__leaves_nothing_behind(
    store: OpsStore, onboarding: PartnerConfig, fail_partner_update: list[int]
) -> None:
    with pytest.raises(RuntimeError, match="injected failure"):
        store.partners.activate("cafe-seoul", AMOY, CONTRACT, WHEN, ENDPOINTS)

    assert fail_partner_update == [1]  # the monitoring row was written before the failure...
    record = store.partners.get_partner("cafe-seoul", AMOY)
    assert record is not None
    assert record.status == "onboarding" and record.contract_address is None  # ...and rolled back with it
    assert store.partners.get_monitoring("cafe-seoul", AMOY) is None
    assert "monitor" not in store.partners.completed_steps("cafe-seoul", AMOY)


def test_activate__again_with_the_same_contract__changes_nothing(
    store: OpsStore, onboarding: PartnerConfig
) -> None:
    first = store.partners.activate("cafe-seoul", AMOY, CONTRACT, WHEN, ENDPOINTS)

    again = store.partners.activate(
        "cafe-seoul", AMOY, CONTRACT, WHEN + timedelta(days=1), ["http://other.example/"]
    )

    assert again == first
    monitoring = store.partners.get_monitoring("cafe-seoul", AMOY)
    assert monitoring is not None and monitoring.endpoints == tuple(ENDPOINTS)


def test_activate__again_with_another_contract__refused(store: OpsStore, onboarding: PartnerConfig) -> None:
    store.partners.activate("cafe-seoul", AMOY, CONTRACT, WHEN, ENDPOINTS)

    with pytest.raises(PartnerStateError, match="already active"):
        store.partners.activate("cafe-seoul", AMOY, OTHER_CONTRACT, WHEN, ENDPOINTS)

    record = store.partners.get_partner("cafe-seoul", AMOY)
    assert record is not None and record.contract_address == CONTRACT


def test_activate__failed_partner__refused_until_onboarding_resumes(
    store: OpsStore, onboarding: PartnerConfig
) -> None:
    store.partners.mark_failed("cafe-seoul", AMOY, "funding reverted")

    with pytest.raises(PartnerStateError, match="begin_onboarding"):
        store.partners.activate("cafe-seoul", AMOY, CONTRACT, WHEN, ENDPOINTS)
    assert store.partners.get_monitoring("cafe-seoul", AMOY) is None

    store.partners.begin_onboarding(onboarding, AMOY)
    assert store.partners.activate("cafe-seoul", AMOY, CONTRACT, WHEN, ENDPOINTS).status == "active"


def test_activate__unknown_partner__refused(store: OpsStore) -> None:
    with pytest.raises(UnknownPartnerError):
        store.partners.activate("nobody", AMOY, CONTRACT, WHEN, ENDPOINTS)


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"contract_address": "0x1234"}, "contract_address"),
        ({"contract_address": "0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"}, "EIP-55"),
        ({"integration_time": datetime(2025, 11, 26, 13, 30)}, "timezone-aware"),
        ({"endpoints": []}, "endpoints"),
        ({"endpoints": "http://127.0.0.1:8765/health"}, "endpoints"),
        ({"sla": {"uptime": 99.0}}, "unknown SLA field"),
        ({"sla": {"availability": -1}}, "SLA values"),
    ],
)
def test_activate__bad_arguments__are_configuration_errors_and_change_nothing(
    store: OpsStore, onboarding: PartnerConfig, changes: dict[str, Any], match: str
) -> None:
    arguments: dict[str, Any] = {
        "contract_address": CONTRACT,
        "integration_time": WHEN,
        "endpoints": ENDPOINTS,
        **changes,
    }

    with pytest.raises(ConfigurationError, match=match):
        store.partners.activate("cafe-seoul", AMOY, **arguments)

    record = store.partners.get_partner("cafe-seoul", AMOY)
    assert record is not None and record.status == "onboarding"
    assert store.partners.get_monitoring("cafe-seoul", AMOY) is None


# ----------------------------------------------------------------------------------------------- failures


def test_mark_failed__keeps_the_reason_and_the_done_steps(store: OpsStore, onboarding: PartnerConfig) -> None:
    record = store.partners.mark_failed("cafe-seoul", AMOY, "funding reverted: insufficient allowance")

    assert record.status == "failed"
    assert record.failure_reason == "funding reverted: insufficient allowance"
    assert list(store.partners.completed_steps("cafe-seoul", AMOY)) == ["validate", "deploy", "fund"]


def test_begin_onboarding__failed_partner__resumes_as_onboarding(
    store: OpsStore, onboarding: PartnerConfig
) -> None:
    store.partners.mark_failed("cafe-seoul", AMOY, "rpc down")

    record = store.partners.begin_onboarding(onboarding, AMOY)

    assert record.status == "onboarding" and record.failure_reason is None
    assert list(store.partners.completed_steps("cafe-seoul", AMOY)) == ["validate", "deploy", "fund"]


def test_mark_failed__active_partner__refused(store: OpsStore, onboarding: PartnerConfig) -> None:
    store.partners.activate("cafe-seoul", AMOY, CONTRACT, WHEN, ENDPOINTS)

    with pytest.raises(PartnerStateError, match="is active"):
        store.partners.mark_failed("cafe-seoul", AMOY, "late error")

    record = store.partners.get_partner("cafe-seoul", AMOY)
    assert record is not None and record.status == "active"


def test_mark_failed__unknown_partner__refused(store: OpsStore) -> None:
    with pytest.raises(UnknownPartnerError):
        store.partners.mark_failed("nobody", AMOY, "whatever")


def test_store_errors__are_link_ops_errors() -> None:
    assert issubclass(StepAlreadyDoneError, OpsStoreError)
    assert issubclass(StoreConfigurationError, ConfigurationError)


# ------------------------------------------------------------------------------------------- persistence


def test_records__persist_across_two_stores_on_the_same_file(db_url: str) -> None:
    with OpsStore(db_url) as writer:
        writer.partners.begin_onboarding(partner_config(), AMOY)
        writer.partners.record_step("cafe-seoul", AMOY, "deploy", detail=TX, gas_used=42)
        written = writer.partners.activate("cafe-seoul", AMOY, CONTRACT, WHEN, ENDPOINTS)

    with OpsStore(db_url) as reader:
        assert reader.partners.get_partner("cafe-seoul", AMOY) == written
        assert reader.partners.completed_steps("cafe-seoul", AMOY)["deploy"].gas_used == 42
        monitoring = reader.partners.get_monitoring("cafe-seoul", AMOY)
        assert monitoring is not None and monitoring.endpoints == tuple(ENDPOINTS)


def test_records__two_open_stores_see_each_others_writes(db_url: str) -> None:
    with OpsStore(db_url) as one, OpsStore(db_url) as two:
        one.partners.begin_onboarding(partner_config(), AMOY)
        two.partners.record_step("cafe-seoul", AMOY, "validate")

        assert list(one.partners.completed_steps("cafe-seoul", AMOY)) == ["validate"]


def test_ops_store__postgresql_server_not_reachable__says_where_and_what_to_do() -> None:
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql+psycopg://nobody@127.0.0.1:{port}/ops"

    with pytest.raises(OpsStoreError) as raised:
        OpsStore(url)

    message = str(raised.value)
    assert message.startswith(f"cannot open the operations store at {url}: ")
    assert "refused" in message and f"point {DB_URL_ENV} at another database" in message
    assert "\n" not in message


def test_ops_store__database_that_cannot_be_opened__says_where_and_what_to_do(tmp_path: Path) -> None:
    folder = tmp_path / "a-folder.db"
    folder.mkdir()

    with pytest.raises(
        OpsStoreError, match=f"cannot open the operations store at sqlite:///{folder}.*{DB_URL_ENV}"
    ):
        OpsStore(f"sqlite:///{folder}")


def test_forget__removes_the_partner_its_steps_and_monitoring_on_that_chain_only(
    store: OpsStore, onboarding: PartnerConfig
) -> None:
    store.partners.activate("cafe-seoul", AMOY, CONTRACT, WHEN, ENDPOINTS)
    store.partners.begin_onboarding(onboarding, POLYGON)
    store.partners.record_step("cafe-seoul", POLYGON, "validate")

    assert store.partners.forget("cafe-seoul", AMOY) is True

    assert store.partners.get_partner("cafe-seoul", AMOY) is None
    assert store.partners.get_monitoring("cafe-seoul", AMOY) is None
    assert store.partners.list_steps("cafe-seoul", AMOY) == []
    assert list(store.partners.completed_steps("cafe-seoul", POLYGON)) == ["validate"]
    assert store.partners.begin_onboarding(onboarding, AMOY).status == "onboarding"
    assert store.partners.forget("nobody", AMOY) is False


# ------------------------------------------------------------------------------------------- relaying


def _message(nonce: int, src: int = 137, dst: int = 1) -> Message:
    return Message(
        src_chain_id=src,
        src_messenger="0x" + "11" * 20,
        sender="0x" + "22" * 20,
        dst_chain_id=dst,
        receiver="0x" + "33" * 20,
        nonce=nonce,
        payload=bytes([nonce]) * 64,
    )


def _id(message: Message) -> str:
    return "0x" + message.message_id.hex()


MESSENGER = "0x" + "11" * 20


def test_relayer_cursor__unknown_chain__is_none(store):
    assert store.relayer.relayer_cursor(137, MESSENGER) is None


def test_record_scan__stores_new_messages_as_pending_and_moves_the_cursor_in_one_step(store):
    new = store.relayer.record_scan(137, MESSENGER, 101, [_message(0), _message(1)])
    assert [m.nonce for m in new] == [0, 1]
    assert store.relayer.relayer_cursor(137, MESSENGER) == 101
    pending = store.relayer.pending_messages()
    assert [(m.nonce, m.status, m.payload) for m in pending] == [
        (0, "pending", b"\0" * 64),
        (1, "pending", b"\1" * 64),
    ]


def test_record_scan__a_message_seen_again__is_not_duplicated_nor_reset(store):
    store.relayer.record_scan(137, MESSENGER, 101, [_message(0)])
    store.relayer.mark_delivered(_id(_message(0)), "0x" + "ab" * 32)
    again = store.relayer.record_scan(137, MESSENGER, 120, [_message(0), _message(1)])
    assert [m.nonce for m in again] == [1]
    assert store.relayer.get_message(_id(_message(0))).status == "delivered"
    assert len(store.relayer.list_messages()) == 2


def test_record_scan__moving_the_cursor_back__is_refused_and_records_nothing(store):
    store.relayer.record_scan(137, MESSENGER, 200, [])
    with pytest.raises(OpsStoreError, match="refusing to move it back to 150"):
        store.relayer.record_scan(137, MESSENGER, 150, [_message(7)])
    assert store.relayer.relayer_cursor(137, MESSENGER) == 200
    assert store.relayer.list_messages() == []


def test_reset_relayer_cursor__moves_it_back_on_purpose(store):
    store.relayer.record_scan(137, MESSENGER, 200, [])
    store.relayer.reset_relayer_cursor(137, MESSENGER, 0)
    assert store.relayer.relayer_cursor(137, MESSENGER) == 0


def test_cursors__are_kept_per_chain(store):
    store.relayer.record_scan(137, MESSENGER, 10, [])
    store.relayer.record_scan(1, MESSENGER, 99, [])
    assert (store.relayer.relayer_cursor(137, MESSENGER), store.relayer.relayer_cursor(1, MESSENGER)) == (
        10,
        99,
    )


def test_pending_messages__filter_by_destination_and_leave_out_delivered(store):
    store.relayer.record_scan(137, MESSENGER, 10, [_message(0, dst=1), _message(1, dst=56)])
    store.relayer.record_scan(1, MESSENGER, 10, [_message(0, src=1, dst=137)])
    store.relayer.mark_delivered(_id(_message(0, src=1, dst=137)), None)
    assert [m.dst_chain_id for m in store.relayer.pending_messages()] == [1, 56]
    assert [m.nonce for m in store.relayer.pending_messages(dst_chain_id=56)] == [1]


def test_delivery_attempts__are_counted_with_the_last_error_and_cleared_on_delivery(store):
    store.relayer.record_scan(137, MESSENGER, 10, [_message(0)])
    mid = _id(_message(0))
    store.relayer.record_delivery_attempt(mid, "LimitExceeded")
    record = store.relayer.record_delivery_attempt(mid, "LimitExceeded")
    assert (record.attempts, record.last_error) == (2, "LimitExceeded")
    done = store.relayer.mark_delivered(mid, "0x" + "cd" * 32)
    assert (done.status, done.last_error, done.tx_hash) == ("delivered", None, "0x" + "cd" * 32)
    assert done.delivered_at is not None
    assert store.relayer.mark_delivered(mid, "0x" + "ef" * 32).tx_hash == "0x" + "cd" * 32  # idempotent


def test_unknown_message__says_the_relayer_has_not_seen_it(store):
    with pytest.raises(OpsStoreError, match="the relayer has not seen it"):
        store.relayer.mark_delivered("0x" + "00" * 32, None)


def test_messages__same_chain_and_nonce_from_two_messengers__ordered_by_id_on_every_backend(store):
    other = "0x" + "44" * 20
    twins = [_message(0), Message(137, other, "0x" + "22" * 20, 1, "0x" + "33" * 20, 0, b"\x07")]
    store.relayer.record_scan(137, MESSENGER, 10, twins[:1])
    store.relayer.record_scan(137, other, 10, twins[1:])

    expected = sorted(_id(m) for m in twins)
    assert [m.message_id for m in store.relayer.list_messages()] == expected
    assert [m.message_id for m in store.relayer.pending_messages()] == expected


def test_free_text__nul_characters__stored_as_the_replacement_character_on_every_backend(store):
    store.relayer.record_scan(137, MESSENGER, 10, [_message(0)])
    store.partners.begin_onboarding(partner_config(), AMOY)

    attempt = store.relayer.record_delivery_attempt(_id(_message(0)), "reverted: \x00\x01raw bytes")
    step = store.partners.record_step("cafe-seoul", AMOY, "deploy", status="failed", detail="out\x00put")
    failed = store.partners.mark_failed("cafe-seoul", AMOY, "rpc said \x00")

    assert attempt.last_error == "reverted: \ufffd\x01raw bytes"
    assert store.relayer.get_message(_id(_message(0))).last_error == "reverted: \ufffd\x01raw bytes"
    assert step.detail == store.partners.list_steps("cafe-seoul", AMOY)[0].detail == "out\ufffdput"
    assert failed.failure_reason == "rpc said \ufffd"
