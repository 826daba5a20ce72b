"""Partners: a config checked whole, its integration validated, then onboarded on chain and recorded.

:func:`onboard_new_partner` runs the four steps (validate, deploy, fund, monitor); the config model is
pure and lives in :mod:`link_ops.model.partner_config`.
"""

from link_ops.model.partner_config import EXAMPLE_CONFIG, PartnerConfig, PartnerConfigError
from link_ops.partners.onboarding import STEPS, OnboardingResult, PartnerConflictError, onboard_new_partner
from link_ops.partners.validation import (
    EndpointCheck,
    PartnerValidationError,
    check_endpoints,
    validate_integration,
)

__all__ = [
    "EXAMPLE_CONFIG",
    "STEPS",
    "EndpointCheck",
    "OnboardingResult",
    "PartnerConfig",
    "PartnerConfigError",
    "PartnerConflictError",
    "PartnerValidationError",
    "check_endpoints",
    "onboard_new_partner",
    "validate_integration",
]
