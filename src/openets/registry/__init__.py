"""The registry ledger: accounts, instruments and operations that never lose or create an allowance."""

from __future__ import annotations

from openets.registry.ledger import Account, InstrumentRef, Ledger, Move, OpenAccount, OpKind, make_move
from openets.registry.store import Receipt, Registry, VerifyReport, resolve_url

__all__ = [
    "Account",
    "InstrumentRef",
    "Ledger",
    "Move",
    "OpKind",
    "OpenAccount",
    "Receipt",
    "Registry",
    "VerifyReport",
    "make_move",
    "resolve_url",
]
