"""Hypothesis settings of the state machines: `ci` by default, `deep` with LINK_OPS_HYPOTHESIS_PROFILE."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

PROFILE_ENV = "LINK_OPS_HYPOTHESIS_PROFILE"
_EXAMPLES = {"ci": 100, "deep": 1_000}


def machine_settings(ci_steps: int, deep_steps: int = 40) -> settings:
    """Settings for one state machine: 100 examples of `ci_steps` steps, or 1,000 of `deep_steps`."""
    profile = os.environ.get(PROFILE_ENV, "ci")
    if profile not in _EXAMPLES:
        raise ValueError(f"{PROFILE_ENV}={profile!r}: use one of {', '.join(_EXAMPLES)}")
    return settings(
        max_examples=_EXAMPLES[profile],
        stateful_step_count=ci_steps if profile == "ci" else deep_steps,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
