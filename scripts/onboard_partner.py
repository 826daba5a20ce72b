"""`ape run onboard_partner --config partners/example.yaml --network ... --account ...`

Onboards one partner in the seed's four steps (validate, deploy, fund, monitor) with a progress display,
and ends with the result table. The protocol must be deployed and recorded on that network
(`ape run deploy`); on a local network, where every run is a new chain, it is deployed first.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import click
from ape import chain
from rich.progress import Progress, SpinnerColumn, TextColumn
from rich.table import Table

from link_ops.cli.console import make_console
from link_ops.cli.errors import user_errors
from link_ops.cli.network import RpcCheckedCommand
from link_ops.cli.options import account_option, default_account, network_option
from link_ops.model.chains import chain_name, is_local_chain
from link_ops.model.partner_config import PartnerConfig
from link_ops.partners.onboarding import STEPS, onboard_new_partner
from link_ops.protocol.deploy import deploy_protocol, load_protocol
from link_ops.store import OpsStore


@click.command(cls=RpcCheckedCommand)
@network_option()
@account_option()
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(path_type=Path),
    help="the partner's config, YAML or JSON (see partners/example.yaml)",
)
@click.option(
    "--partner-account", default=None, help="the partner's address, which may withdraw (default: the account)"
)
@click.option("--health-timeout", default=10.0, show_default=True, help="seconds each endpoint may take")
def cli(account, config_path: Path, partner_account: str | None, health_timeout: float) -> None:
    """Onboard a partner in four steps.

    Validate its integration, deploy and fund its contract, register it for monitoring.
    """
    console = make_console()
    local = is_local_chain(chain.chain_id)
    on_fork = bool(getattr(chain.provider.network, "is_fork", False))
    account = default_account(account, local_or_fork=local or on_fork)
    with user_errors():
        config = PartnerConfig.from_file(config_path)
        protocol = deploy_protocol(account, record=False) if local else load_protocol()
        # A local chain is new every run: its partners go to a throwaway store, not the real one.
        store = OpsStore(f"sqlite:///{tempfile.mkdtemp(prefix='link-ops-')}/ops.db") if local else OpsStore()
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=console) as progress:
            tasks = {
                step: progress.add_task(f"{i}. {step}: waiting", total=1) for i, step in enumerate(STEPS, 1)
            }

            def report(step: str, message: str) -> None:
                progress.update(tasks[step], description=f"{STEPS.index(step) + 1}. {step}: {message}")
                for earlier in STEPS[: STEPS.index(step)]:
                    progress.update(tasks[earlier], completed=1)

            result = onboard_new_partner(
                config,
                protocol,
                account,
                health_timeout=health_timeout,
                partner_account=partner_account,
                store=store,
                report=report,
            )
            for task in tasks.values():
                progress.update(task, completed=1)

    table = Table(title=f"partner onboarded on {chain_name(protocol.chain_id)} ({protocol.chain_id})")
    table.add_column("field")
    table.add_column("value")
    for field, value in result.rows():
        table.add_row(field, value)
    console.print(table)
