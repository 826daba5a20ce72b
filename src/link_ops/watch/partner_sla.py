"""Partner SLAs from the operations store: reads a partner's probes, granted benefits and support tickets
and measures them with :mod:`link_ops.watch.sla`.

    slas = PartnerSlas(OpsStore(), clock=clock)
    slas.report("cafe-seoul", 137)      # one partner: SLIs, budgets, burn rates, alerts, standing
    slas.reports()                      # every active partner
    slas.standings()                    # their standings, as the status page shows them
    slas.alerts()                       # what fires now (the watch loop hands these to the sinks)

Each call reads the clock once: a report is one consistent moment.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from link_ops.store import OpsStore, PartnerStateError, UnknownPartnerError
from link_ops.watch.alerts import Alert
from link_ops.watch.sla import (
    Clock,
    PartnerSla,
    SlaEvaluator,
    SlaSettings,
    SlaTargets,
    Term,
    now_from,
    utc_clock,
)


class PartnerSlas:
    """The SLAs of the partners in `store`, measured with `settings` at the time `clock` gives."""

    def __init__(
        self, store: OpsStore, settings: SlaSettings | None = None, *, clock: Clock = utc_clock
    ) -> None:
        self.store = store
        self.settings = settings or SlaSettings()
        self.clock = clock

    def report(self, partner_id: str, chain_id: int) -> PartnerSla:
        """The partner's SLA now. Raises :class:`~link_ops.store.UnknownPartnerError` for a partner the
        store does not hold and :class:`~link_ops.store.PartnerStateError` for one not monitored yet."""
        return self._report(partner_id, chain_id, now_from(self.clock))

    def reports(self, chain_id: int | None = None) -> list[PartnerSla]:
        """The SLA of every active partner (on `chain_id` when given), by chain and partner id."""
        now = now_from(self.clock)
        return [
            self._report(p.partner_id, p.chain_id, now)
            for p in self.store.partners.list_partners(chain_id)
            if p.status == "active"
        ]

    def standings(self, chain_id: int | None = None) -> list[dict[str, Any]]:
        """One row per active partner for the status page: its standing, availability, the share of its
        availability budget spent, and why it stands where it does."""
        rows = []
        for report in self.reports(chain_id):
            availability = report.slis["availability"]
            budget, value = availability.budget, availability.value
            rows.append(
                {
                    "partner": report.partner_id,
                    "chain_id": report.chain_id,
                    "standing": report.standing.value,
                    "availability_pct": None if value is None else round(value * 100, 3),
                    "budget_spent_pct": None if budget is None else round(budget.spent_fraction * 100, 1),
                    "reasons": "; ".join(report.reasons),
                }
            )
        return rows

    def alerts(self, chain_id: int | None = None) -> list[Alert]:
        """The burn-rate alerts firing now for the active partners (on `chain_id` when given)."""
        return [alert for report in self.reports(chain_id) for alert in report.alerts]

    def _report(self, partner_id: str, chain_id: int, now: datetime) -> PartnerSla:
        monitoring = self.store.partners.get_monitoring(partner_id, chain_id)
        if monitoring is None:
            if self.store.partners.get_partner(partner_id, chain_id) is None:
                raise UnknownPartnerError(
                    f"no partner {partner_id!r} on chain {chain_id} in the operations store: check the "
                    "partner id and the chain (or the store: --db / $LINK_OPS_DB_URL)"
                )
            raise PartnerStateError(
                f"partner {partner_id!r} on chain {chain_id} is not monitored yet: its SLA is measured once "
                "its onboarding registered it for monitoring (step 4, `ape run onboard_partner`)"
            )
        targets = SlaTargets.from_sla(monitoring.sla)
        sla = self.store.sla
        probes = sla.probes(partner_id, chain_id, since=now - self.settings.lookback, until=now)
        benefits = [
            Term(b.granted_at, b.applied_at)
            for b in sla.benefits(
                partner_id, chain_id, since=now - self.settings.window - targets.benefit_deadline
            )
        ]
        tickets = [
            Term(t.opened_at, t.first_response_at)
            for t in sla.tickets(
                partner_id, chain_id, since=now - self.settings.window - targets.support_deadline
            )
        ]
        evaluator = SlaEvaluator(self.settings, clock=lambda: now)
        return evaluator.evaluate(partner_id, chain_id, targets, probes, benefits, tickets)
