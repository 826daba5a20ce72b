"""Every `ape run` script speaks the same command line: ape's --network and --account, explained, and a
menu line short enough for `ape run --help`; `command_line` repeats what the user typed."""

from __future__ import annotations

import importlib.util
import shlex
from types import ModuleType

import click
import pytest
from _ape import ROOT
from ape.cli.choices import NetworkChoice

from link_ops.cli.options import ACCOUNT_HELP, NETWORK_HELP, AccountChoice, command_line

SCRIPTS = sorted(p.stem for p in (ROOT / "scripts").glob("*.py"))
SIGNING = {"deploy", "deploy_bridge", "onboard_partner", "bridge", "relayer", "govern", "held"}
ONE_CHAIN = {"deploy", "deploy_bridge", "onboard_partner", "bridge", "demo", "gas_bench", "govern", "held"}


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"link_ops_script_{name}", ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def commands(name: str) -> list[click.Command]:
    """The script's command, or each command of its group (`ape run govern propose|pending|…`)."""
    command = load(name).cli
    return list(command.commands.values()) if isinstance(command, click.Group) else [command]


def options(name: str) -> dict[str, click.Option]:
    """Every option of the script (of each of its commands, for a group: they share their option names)."""
    return {
        opt: p
        for command in commands(name)
        for p in command.params
        if isinstance(p, click.Option)
        for opt in p.opts
    }


def test_the_scripts_are_the_expected_menu():
    menu = [
        "bridge",
        "demo",
        "deploy",
        "deploy_bridge",
        "gas_bench",
        "govern",
        "held",
        "index",
        "onboard_partner",
        "ops_bench",
        "partner_sla",
        "relayer",
        "rpc_proxy",
        "watch",
    ]
    assert menu == SCRIPTS


@pytest.mark.parametrize("name", SCRIPTS)
def test_script__every_option_says_what_it_does(name):
    for opt, param in options(name).items():
        assert param.help and len(param.help) > 10, f"{name} {opt} has no help"


@pytest.mark.parametrize("name", sorted(ONE_CHAIN))
def test_script__one_chain__takes_apes_network_option(name):
    network = options(name)["--network"]
    # ape's option, or (gas_bench, which connects itself) ape's choice: validated like `ape networks list`
    assert type(network).__name__ == "NetworkOption" or isinstance(network.type, NetworkChoice)
    assert network.help == NETWORK_HELP or network.help.startswith("the ape network")


@pytest.mark.parametrize("name", sorted(SIGNING))
def test_script__that_signs__takes_apes_account_option(name):
    account = options(name)["--account"]
    assert isinstance(account.type, AccountChoice) and account.help == ACCOUNT_HELP


def test_relayer__several_chains__takes_chains_by_key():
    chains = options("relayer")["--chains"]
    assert chains.default == "polygon,ethereum"
    assert "--network" not in options("relayer") and "--from" not in options("relayer")


@pytest.mark.parametrize("name", SCRIPTS)
def test_script__its_menu_line_fits_ape_run_help(name):
    help_text = load(name).cli.help or ""
    first = help_text.strip().splitlines()[0]
    assert first.endswith(".") and len(first) <= 45, first


def deploy_context() -> click.Context:
    return click.Context(load("deploy").cli, info_name="deploy")


def test_command_line__repeats_every_option_and_replaces_the_network():
    argv = ["run", "deploy", "--network", "polygon:mainnet-fork:foundry", "--admin", "0xSafe", "--cap", "5"]
    line = command_line(
        deploy_context(),
        replace={"--network": "polygon:mainnet:node", "--account": "<alias>"},
        add=["--confirm"],
        argv=argv,
    )
    assert shlex.split(line) == [
        *("ape", "run", "deploy", "--network", "polygon:mainnet:node", "--admin", "0xSafe", "--cap", "5"),
        *("--account", "<alias>", "--confirm"),
    ]


def test_command_line__keeps_flags_equals_forms_and_a_given_account():
    argv = ["run", "deploy", "--no-record", "--admin=0xSafe", "--account", "deployer", "--network", "x"]
    line = command_line(
        deploy_context(), replace={"--network": "polygon:amoy:node"}, add=["--confirm"], argv=argv
    )
    assert shlex.split(line) == [
        *("ape", "run", "deploy", "--no-record", "--admin=0xSafe", "--account", "deployer"),
        *("--network", "polygon:amoy:node", "--confirm"),
    ]


def test_command_line__a_flag_already_given_is_not_repeated():
    argv = ["run", "deploy", "--confirm"]
    assert command_line(deploy_context(), add=["--confirm"], argv=argv) == "ape run deploy --confirm"
