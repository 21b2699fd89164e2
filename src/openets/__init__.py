"""openets: carbon-market rulebooks, a registry ledger that never loses an allowance, and more to come."""

from __future__ import annotations

__version__ = "0.1.0"

from openets.errors import (
    DuplicateOperation,
    HoldingLimitExceeded,
    InputError,
    InsufficientHoldings,
    LedgerError,
    OpenETSError,
    RulebookError,
)

__all__ = [
    "DuplicateOperation",
    "HoldingLimitExceeded",
    "InputError",
    "InsufficientHoldings",
    "LedgerError",
    "OpenETSError",
    "RulebookError",
    "__version__",
]
