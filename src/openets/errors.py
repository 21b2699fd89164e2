"""The few exception types openets raises, each with a message that says what, where and how to fix."""

from __future__ import annotations


class OpenETSError(Exception):
    """Base of every error openets raises on purpose."""


class RulebookError(OpenETSError, ValueError):
    """A rulebook file is malformed or inconsistent (message names file, line or key path, found, expected)."""


class InputError(OpenETSError, ValueError):
    """A user-supplied value is invalid (message names the argument, the value and what is accepted)."""


class LedgerError(OpenETSError):
    """The registry refused an operation or found an inconsistency."""


class UnknownAccount(LedgerError, KeyError):
    """An operation named an account the registry does not have."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class InsufficientHoldings(LedgerError):
    """A debit would take a non-issuance account below zero."""


class HoldingLimitExceeded(LedgerError):
    """A credit would put an entity above its holding limit."""


class DuplicateOperation(LedgerError):
    """An operation id was reused with different content."""


class IntegrityError(LedgerError):
    """The journal or the balances fail verification (hash chain broken, balance mismatch)."""
