"""`ape run partner_sla --partner cafe-seoul` reports a partner's SLA over the last 30 days.

Each SLI beside its target (availability, average response time, error rate, benefits applied within 24 h,
first support responses within 4 h), the error budgets spent and left, the burn rates per window, the
standing (meeting / at-risk / breached) and the alerts that would fire. It reads the operations store
(--db, else $LINK_OPS_DB_URL, else .link_ops/ops.db); no chain is contacted.

The process terms are recorded with the same command, one at a time (the time defaults to now):

    ape run partner_sla --partner cafe-seoul --open-ticket HD-1042 [--at 2026-11-28T09:30:00+00:00]
    ape run partner_sla --partner cafe-seoul --first-response HD-1042
    ape run partner_sla --partner cafe-seoul --benefit-applied 0x<claim tx> --holder 0x<holder>

`--json` prints the report (or the recorded term) as JSON.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from link_ops.cli.console import make_console
from link_ops.cli.errors import user_errors
from link_ops.exceptions import ConfigurationError
from link_ops.model.chains import ChainInfo, chain_by_key
from link_ops.store import OpsStore
from link_ops.watch.partner_sla import PartnerSlas
from link_ops.watch.sla import PartnerSla, SliResult, duration_text

STANDING_STYLE = {"meeting": "green", "at-risk": "yellow", "breached": "red", "no-data": "dim"}


def _chain(_ctx: click.Context, _param: click.Parameter, value: str) -> ChainInfo:
    try:
        return chain_by_key(value)
    except ConfigurationError as exc:
        raise click.BadParameter(f"{exc}; {getattr(exc, 'hint', '')}".rstrip("; ")) from None


def _time(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        parsed = None
    if parsed is None or parsed.utcoffset() is None:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 time with its offset: e.g. 2026-11-28T09:30:00+00:00"
        )
    return parsed


def _value(sli: SliResult, value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.2f} s" if sli.name == "response_time" else f"{value * 100:.3f} %"


def _slis_table(report: PartnerSla) -> Table:
    table = Table(title=f"SLIs over the last {report.window.days} days, at {report.at:%Y-%m-%d %H:%M} UTC")
    for column in ("SLI", "value", "target", "met", "measured", "budget spent", "budget left"):
        table.add_column(column, justify="left" if column == "SLI" else "right")
    for sli in report.slis.values():
        budget = sli.budget
        measured = f"{sli.good:,} of {sli.events:,}" + (f" (+{sli.pending} open)" if sli.pending else "")
        table.add_row(
            sli.label,
            _value(sli, sli.value),
            ("≥ " if sli.higher_is_better else "≤ ") + _value(sli, sli.target),
            {True: "[green]yes", False: "[red]no", None: "-"}[sli.met],
            measured,
            "-" if budget is None else f"{budget.spent_fraction:.0%} ({budget.bad_events} bad)",
            "-"
            if budget is None
            else f"{budget.remaining_fraction:.0%} ({budget.allowed_bad_events:.1f} allowed)",
        )
    return table


def _burn_table(report: PartnerSla) -> Table:
    table = Table(title="burn rates (x the rate that spends the budget exactly over the window)")
    for column in ("rule", "SLI", "long window", "short window", "threshold", "firing since"):
        table.add_column(column, justify="left" if column in ("rule", "SLI") else "right")

    def rate(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.2f}x"

    for burn in report.burn_rates:
        rule = burn.rule
        table.add_row(
            rule.name,
            burn.sli,
            f"{rate(burn.long_rate)} over {duration_text(rule.long)}",
            f"{rate(burn.short_rate)} over {duration_text(rule.short)}",
            f"{rule.factor:g}x",
            "-" if burn.began_at is None else f"[red]{burn.began_at:%Y-%m-%d %H:%M}",
        )
    return table


def _print_report(console: Console, report: PartnerSla) -> None:
    console.print(_slis_table(report))
    console.print(_burn_table(report))
    style = STANDING_STYLE[report.standing.value]
    console.print(
        f"partner {report.partner_id} on chain {report.chain_id}: [{style}]{report.standing.value}[/{style}]",
        highlight=False,
    )
    for reason in report.reasons:
        console.print(f"  - {reason}", highlight=False)
    if not report.alerts:
        console.print("no alert would fire")
    for alert in report.alerts:
        console.print(f"[bold]{alert.severity.label}[/bold] {alert.rule}: {alert.summary}", highlight=False)


@click.command()
@click.option("--partner", "partner_id", required=True, help="the partner's id (its config's partner_id)")
@click.option(
    "--chain",
    "chain",
    default="polygon",
    show_default=True,
    callback=_chain,
    help="the partner's chain, by key",
)
@click.option(
    "--db", default=None, help="the operations store's URL (default: $LINK_OPS_DB_URL, else .link_ops/ops.db)"
)
@click.option("--open-ticket", "open_ticket", default=None, help="record that this support ticket was opened")
@click.option(
    "--first-response", "first_response", default=None, help="record the first response to this ticket"
)
@click.option(
    "--benefit-applied",
    "benefit_tx",
    default=None,
    help="record that the partner applied the benefit claimed in this transaction (with --holder)",
)
@click.option("--holder", default=None, help="the holder whose benefit was applied (with --benefit-applied)")
@click.option(
    "--at", "at", default=None, callback=_time, help="when it happened, ISO 8601 with offset (default: now)"
)
@click.option("--json", "as_json", is_flag=True, help="print JSON instead of tables")
def cli(
    partner_id: str,
    chain: ChainInfo,
    db: str | None,
    open_ticket: str | None,
    first_response: str | None,
    benefit_tx: str | None,
    holder: str | None,
    at: datetime | None,
    as_json: bool,
) -> None:
    """Report a partner's SLA, record its terms.

    The report: SLIs beside targets, error budgets, burn rates, standing, the alerts that would fire. Or,
    one at a time: a support ticket opened, its first response, a benefit applied.
    """
    actions = [
        name
        for name, given in (
            ("--open-ticket", open_ticket),
            ("--first-response", first_response),
            ("--benefit-applied", benefit_tx),
        )
        if given is not None
    ]
    if len(actions) > 1:
        raise click.UsageError(f"give one of {', '.join(actions)} at a time")
    if (benefit_tx is None) != (holder is None):
        raise click.UsageError(
            "--benefit-applied and --holder go together: the claim's transaction and its holder"
        )
    if at is not None and not actions:
        raise click.UsageError(
            "--at dates what is recorded: give it with --open-ticket, --first-response or --benefit-applied"
        )
    console = make_console()
    with user_errors(), OpsStore(db) as store:
        if actions:
            recorded, message = _record(
                store, partner_id, chain.chain_id, open_ticket, first_response, benefit_tx, holder, at
            )
            if as_json:
                click.echo(json.dumps({k: _plain(v) for k, v in vars(recorded).items()}))
            else:
                console.print(message, highlight=False)
            return
        report = PartnerSlas(store).report(partner_id, chain.chain_id)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        _print_report(console, report)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _record(
    store: OpsStore,
    partner_id: str,
    chain_id: int,
    open_ticket: str | None,
    first_response: str | None,
    benefit_tx: str | None,
    holder: str | None,
    at: datetime | None,
) -> tuple[Any, str]:
    """Records the one process term given; returns it and a sentence saying what was recorded."""
    if open_ticket is not None:
        ticket = store.sla.open_ticket(partner_id, chain_id, open_ticket, at)
        return (
            ticket,
            f"ticket {ticket.ticket_id} of {partner_id} opened at {ticket.opened_at:%Y-%m-%d %H:%M} UTC",
        )
    if first_response is not None:
        ticket = store.sla.record_first_response(partner_id, chain_id, first_response, at)
        answered = ticket.first_response_at or ticket.opened_at
        return ticket, (
            f"ticket {ticket.ticket_id} of {partner_id} first answered at {answered:%Y-%m-%d %H:%M} UTC, "
            f"{answered - ticket.opened_at} after it was opened"
        )
    benefit = store.sla.report_benefit_applied(partner_id, chain_id, holder or "", benefit_tx or "", at)
    applied = benefit.applied_at or benefit.granted_at
    return benefit, (
        f"benefit of {benefit.holder} (claim {benefit.claim_tx}) applied at {applied:%Y-%m-%d %H:%M} UTC, "
        f"{applied - benefit.granted_at} after it was granted"
    )
