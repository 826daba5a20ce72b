"""How a script ends when something is wrong: one line (click's ``Error: …``) that says what and what to do.

Scripts run their work inside :func:`user_errors`. A link_ops error already says both; a revert is named
(:func:`link_ops.contracts.errors.describe_revert`) with a hint for the errors users meet; a node that
cannot be reached says which. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from ape.exceptions import ApeException, ContractLogicError, NetworkError, ProviderError

from link_ops.contracts.errors import describe_revert
from link_ops.exceptions import LinkOpsError

#: What to do about the reverts users cause, by error name.
REVERT_HINTS: dict[str, str] = {
    "TransferFromFailed": "the token could not be taken from the account: check its balance and allowance",
    "TransferFailed": "the token transfer failed: check the balance it is paid from",
    "ERC20InsufficientBalance": "the account holds less than that",
    "ERC20InsufficientAllowance": "approve the spender for at least that amount first",
    "ERC20ExceededCap": "that would mint past LBC's cap",
    "TokenDoesNotExist": "no cube has that id on this chain",
    "NonexistentCube": "no cube has that id on this chain",
    "NotOwnerNorApproved": "the account neither holds that cube nor is approved for it",
    "NotCubeOwner": "the account does not hold that cube",
    "NotHolder": "the account does not hold that cube",
    "EnforcedPause": "the contract is paused (by its guardian): it resumes when its admin unpauses it",
    "LimitExceeded": "over the route's limit: send less, or wait for the limit to refill",
    "TooManyCubes": "more cubes than one message carries: send them in several",
    "NotHeld": "that transfer is not held here (retried or refunded already?): `ape run held` lists them",
    "NotEnoughGas": "the delivery ran out of gas while the transfer executed: deliver again with more gas",
    "UnsupportedRoute": "the bridge is not wired to that chain: run `ape run deploy_bridge` on both sides",
    "AccessControlUnauthorizedAccount": "the account lacks the role this needs: use the admin's account",
}


def describe(exc: BaseException) -> str:
    """`exc` in one line for the user."""
    if isinstance(exc, LinkOpsError):
        return str(exc)
    if isinstance(exc, ContractLogicError):
        reason = describe_revert(exc)
        hint = REVERT_HINTS.get(reason.partition("(")[0])
        return f"the transaction reverted with {reason}" + (f": {hint}" if hint else "")
    if isinstance(exc, (ProviderError, NetworkError)):
        first = str(exc).strip().splitlines()[0].rstrip(".") if str(exc).strip() else type(exc).__name__
        return (
            f"{first}. Check --network and its RPC URL (POLYGON_RPC_URL, AMOY_RPC_URL, …), or pass the "
            "node's URL directly: --network polygon:amoy:https://<rpc url>"
        )
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@contextmanager
def user_errors() -> Iterator[None]:
    """Turns the errors a user can fix into one-line click errors (exit code 1, no traceback)."""
    try:
        yield
    except click.ClickException:
        raise
    except (LinkOpsError, ContractLogicError, ProviderError, NetworkError) as exc:
        raise click.ClickException(describe(exc)) from None
    except ApeException as exc:  # ape's own refusals (an unknown account, a signer that declined, …)
        raise click.ClickException(describe(exc)) from None
