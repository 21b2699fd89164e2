"""What is owed and surrendered: compliance obligations, offset limits, eligible vintages, penalties."""

from __future__ import annotations

from openets.compliance.obligations import (
    Obligation,
    SurrenderPlan,
    UntimelyObligation,
    eligible_vintage_max,
    obligations,
    offset_limit,
    plan_surrender,
    untimely_surrender,
)

__all__ = [
    "Obligation",
    "SurrenderPlan",
    "UntimelyObligation",
    "eligible_vintage_max",
    "obligations",
    "offset_limit",
    "plan_surrender",
    "untimely_surrender",
]
