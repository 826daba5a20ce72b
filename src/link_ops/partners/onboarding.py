"""Partner onboarding, the seed's ``PartnerOnboardingSystem.onboardNewPartner`` as four recorded steps.

1. **validate** the technical integration: every API endpoint answers 2xx in time, the auth method is
   supported. On failure :class:`PartnerValidationError` lists every problem and nothing is deployed.
2. **deploy** the partner's contract through the PartnerFactory (a clone at an address that follows from
   the partner id), and
3. **fund** the initial benefits: the same transaction entitles every cube minted so far and pulls
   ``amount_per_cube * cubes`` of the welcome token from the sender (approved first when needed).
4. **monitor**: register the partner and its service levels in the operations store; only this makes the
   partner "active", in one database transaction.

Each step is recorded in the store as it completes. A run that stops part-way leaves the partner
"onboarding", and the next run resumes from the chain and the records (the factory knows whether the
partner's contract exists); a partner that is already active is returned as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from eth_utils.address import to_checksum_address

from link_ops import contracts
from link_ops.exceptions import ConfigurationError, LinkOpsError
from link_ops.model.partner_config import PartnerConfig, PartnerConfigError
from link_ops.partners.validation import PartnerValidationError, validate_integration
from link_ops.protocol.deploy import Protocol
from link_ops.store import OpsStore

__all__ = [
    "STEPS",
    "OnboardingResult",
    "PartnerConfig",
    "PartnerConfigError",
    "PartnerConflictError",
    "PartnerValidationError",
    "onboard_new_partner",
]


#: The onboarding steps, in order.
STEPS = ("validate", "deploy", "fund", "monitor")


_ZERO = "0x0000000000000000000000000000000000000000"


Reporter = Callable[[str, str], None]


class PartnerConflictError(LinkOpsError):
    """The partner id is taken on chain by a contract whose terms differ from the config."""


@dataclass(frozen=True)
class OnboardingResult:
    """What :func:`onboard_new_partner` returns (the seed's ``{partnerId, contractAddress, status,
    integrationTime}``, plus the gas spent and whether the partner existed already)."""

    partner_id: str
    contract_address: str
    status: str
    integration_time: datetime
    gas_used: int
    already_onboarded: bool

    def rows(self) -> list[tuple[str, str]]:
        """(field, value) pairs for a result table, in the seed's terms."""
        return [
            ("partnerId", self.partner_id),
            ("contractAddress", self.contract_address),
            ("status", self.status),
            ("integrationTime", self.integration_time.isoformat(timespec="seconds")),
            ("gas used", f"{self.gas_used:,}"),
            ("already onboarded", "yes" if self.already_onboarded else "no"),
        ]


def onboard_new_partner(
    config: PartnerConfig,
    protocol: Protocol,
    sender: Any,
    *,
    health_timeout: float = 10.0,
    store: OpsStore | None = None,
    partner_account: str | None = None,
    report: Reporter | None = None,
) -> OnboardingResult:
    """Onboards the partner of `config` on the protocol's chain; see the module documentation.

    Args:
        config: the partner's validated configuration.
        protocol: the deployed protocol (its ``partner_factory`` creates the partner).
        sender: the ape account that signs; it needs the factory's ONBOARDER_ROLE and, when the welcome
            grant is not zero, the welcome tokens to fund it.
        health_timeout: seconds each API endpoint has to answer.
        store: the operations store (default: :class:`OpsStore` at ``LINK_OPS_DB_URL`` or the SQLite file).
        partner_account: the partner's own address, which may withdraw unclaimed funds after the claim
            window (default: the sender).
        report: called as ``report(step, message)`` when a step starts, is skipped or ends.
    """
    say = report or (lambda _step, _line: None)
    ops = store or OpsStore()
    chain_id = protocol.chain_id
    factory = protocol.partner_factory
    partner_id32 = config.partner_id_bytes32()
    partner = to_checksum_address(partner_account or sender.address)

    record = ops.partners.get_partner(config.partner_id, chain_id)
    on_chain = str(factory.partnerOf(partner_id32))
    if record is not None and record.status == "active" and on_chain != _ZERO:
        say("monitor", f"{config.partner_id} is already active at {on_chain}")
        return _result(config, on_chain, record.integration_time, gas_used=0, already=True)

    if record is not None and record.status == "active":
        raise PartnerConflictError(
            f"the ops store shows '{config.partner_id}' active on chain {chain_id} at "
            f"{record.contract_address}, but the factory {factory.address} has no contract for it: this "
            "store belongs to another deployment or network (a restarted local chain?). Point "
            "LINK_OPS_DB_URL at this deployment's store."
        )
    ops.partners.begin_onboarding(config, chain_id)
    done = ops.partners.completed_steps(config.partner_id, chain_id)

    def mark_done(step: str, detail: str, gas: int | None = None) -> None:
        # A step done by an earlier, interrupted run stays as it was recorded then.
        if step not in done:
            ops.partners.record_step(config.partner_id, chain_id, step, detail=detail, gas_used=gas)

    gas_used = 0
    token = _welcome_token(config, protocol)
    if on_chain == _ZERO:
        # 1. Validate: nothing is deployed unless the integration answers.
        say("validate", f"checking {len(config.api_endpoints)} endpoint(s) and auth '{config.auth_method}'")
        try:
            validate_integration(config, timeout=health_timeout)
        except PartnerValidationError as exc:
            if "validate" not in done:
                ops.partners.record_step(
                    config.partner_id, chain_id, "validate", status="failed", detail=str(exc)
                )
            raise
        mark_done("validate", "endpoints answered, auth supported")
        say("validate", "integration valid")

        # 2 + 3. Deploy and fund, atomically, in one factory transaction (after an approval if needed).
        if not factory.hasRole(factory.ONBOARDER_ROLE(), sender.address):
            raise ConfigurationError(
                f"{sender.address} lacks ONBOARDER_ROLE on the PartnerFactory {factory.address}: "
                "onboard with the admin's account, or have the admin grant the role"
            )
        amount = config.initial_benefits.amount_per_cube
        funded = amount * int(protocol.cubes.totalMinted())
        if funded:
            gas_used += _ensure_allowance(token, sender, factory.address, funded, say)
        say("deploy", f"creating {config.partner_id} at {factory.predictPartnerAddress(partner_id32)}")
        terms = (
            partner,
            token.address if token is not None else _ZERO,
            amount,
            config.claim_window_days * 86_400,
            config.benefit_structure.as_list(),
            config.services_bytes32(),
        )
        receipt = factory.createPartner(partner_id32, terms, sender=sender)
        gas_used += int(receipt.gas_used)
        on_chain = str(factory.partnerOf(partner_id32))
        mark_done("deploy", f"{on_chain} tx {receipt.txn_hash}", gas_used)
        mark_done("fund", f"{funded} wei of {terms[1]}")
        say("fund", f"granted {amount} wei per cube to {funded // amount if amount else 0} cubes")
    else:
        # Resuming: the contract exists (an earlier run stopped before step 4). It must be this partner's.
        _check_terms(config, protocol, on_chain, partner, token)
        say("deploy", f"found {config.partner_id} already deployed at {on_chain}: resuming")
        for step in ("validate", "deploy", "fund"):
            mark_done(step, f"found on chain at {on_chain}")

    # 4. Monitoring: registering it is what makes the partner active.
    integration_time = datetime.now(timezone.utc)
    ops.partners.activate(config.partner_id, chain_id, on_chain, integration_time, list(config.api_endpoints))
    say("monitor", "registered for monitoring against the partner SLA")
    return _result(config, on_chain, integration_time, gas_used=gas_used, already=False)


def _result(
    config: PartnerConfig, address: str, when: datetime | None, *, gas_used: int, already: bool
) -> OnboardingResult:
    return OnboardingResult(
        partner_id=config.partner_id,
        contract_address=to_checksum_address(address),
        status="active",
        integration_time=when or datetime.now(timezone.utc),
        gas_used=gas_used,
        already_onboarded=already,
    )


def _welcome_token(config: PartnerConfig, protocol: Protocol) -> Any:
    if config.initial_benefits.amount_per_cube == 0 and not config.initial_benefits.is_lbc:
        return None
    if config.initial_benefits.is_lbc:
        return protocol.lbc
    # Any ERC-20: LBCToken's ABI covers balanceOf, allowance and approve (no explorer needed offline).
    return contracts.at("LBCToken", config.initial_benefits.token)


def _ensure_allowance(token: Any, sender: Any, spender: str, amount: int, say: Reporter) -> int:
    balance = int(token.balanceOf(sender.address))
    if balance < amount:
        raise ConfigurationError(
            f"{sender.address} holds {balance} wei of the welcome token {token.address}, but funding the "
            f"grant needs {amount}: top the account up, or lower initial_benefits.amount_per_cube"
        )
    if int(token.allowance(sender.address, spender)) >= amount:
        return 0
    say("fund", f"approving the factory to pull {amount} wei")
    return int(token.approve(spender, amount, sender=sender).gas_used)


def _check_terms(config: PartnerConfig, protocol: Protocol, address: str, partner: str, token: Any) -> None:
    clone = contracts.at("PartnerBenefits", address)
    expected = {
        "partner": partner,
        "welcome token": token.address if token is not None else _ZERO,
        "amount per cube": config.initial_benefits.amount_per_cube,
        "discounts": config.benefit_structure.as_list(),
        "services": [bytes(s) for s in config.services_bytes32()],
    }
    actual = {
        "partner": to_checksum_address(clone.partner()),
        "welcome token": to_checksum_address(clone.welcomeToken()),
        "amount per cube": int(clone.welcomeAmountPerCube()),
        "discounts": [int(clone.discountBps(t)) for t in range(4)],
        "services": [bytes(s) for s in clone.services()],
    }
    differing = [k for k in expected if expected[k] != actual[k]]
    if differing:
        raise PartnerConflictError(
            f"partner id '{config.partner_id}' is already taken on chain {protocol.chain_id} by {address}, "
            f"whose {', '.join(differing)} differ from the config: choose another partner_id, or restore "
            "the config it was onboarded with"
        )
