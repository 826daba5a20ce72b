"""The loop's periodic jobs: the probes (recorded, and probes older than the SLA needs deleted) and the SLA
evaluation (due once per interval), on a simulated clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from link_ops.exceptions import ConfigurationError
from link_ops.model.partner_config import PartnerConfig
from link_ops.store import OpsStore, ProbeRecord
from link_ops.watch.partner_sla import PartnerSlas
from link_ops.watch.probes import PartnerProber, ProbeSettings
from link_ops.watch.service import ProbeJob, SlaJob

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
PARTNER, CHAIN = "cafe-seoul", 137
CLOSED = "http://127.0.0.1:1/health"  # nothing listens: each probe fails at once


@pytest.fixture
def store(sqlite_url):
    with OpsStore(sqlite_url) as ops:
        config = PartnerConfig.from_mapping(
            {
                "partner_id": PARTNER,
                "name": "Hangang Roasters Seoul",
                "api_endpoints": [CLOSED],
                "auth_method": "api_key",
                "services": ["coffee"],
                "benefit_structure": {"discount_bps": {0: 500}},
                "initial_benefits": {"token": "LBC", "amount_per_cube": 10**18},
                "claim_window_days": 30,
            }
        )
        ops.partners.begin_onboarding(config, CHAIN)
        ops.partners.activate(PARTNER, CHAIN, "0x" + "5a" * 20, NOW - timedelta(days=60), [CLOSED])
        yield ops


def probe(at: datetime) -> ProbeRecord:
    return ProbeRecord(PARTNER, CHAIN, CLOSED, at, False, None, None, "down")


def test_probe_job__records_a_round_and_deletes_what_the_sla_no_longer_needs(store):
    store.sla.record_probes([probe(NOW - timedelta(days=40)), probe(NOW - timedelta(days=20))])
    prober = PartnerProber(store, ProbeSettings(timeout_s=5), clock=lambda: NOW)
    job = ProbeJob(prober, keep=timedelta(days=33))

    assert job.due(NOW)
    job.run(NOW)

    assert job.last_count == 1 and job.pruned == 1
    kept = store.sla.probes(PARTNER, CHAIN)
    assert sorted(p.at for p in kept) == [NOW - timedelta(days=20), NOW]
    assert not job.due(NOW)  # the next round after the interval


def test_sla_job__due_once_per_interval(store):
    job = SlaJob(PartnerSlas(store, clock=lambda: NOW), interval_s=60)

    assert job.due(NOW)
    assert list(job.run(NOW)) == []  # no probes failing long enough to burn yet
    assert not job.due(NOW + timedelta(seconds=59))
    assert job.due(NOW + timedelta(seconds=60))


def test_sla_job__interval_not_positive__refused(store):
    with pytest.raises(ConfigurationError, match="above 0 s"):
        SlaJob(PartnerSlas(store), interval_s=0)
