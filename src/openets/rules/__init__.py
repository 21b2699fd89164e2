"""Rulebooks: what a carbon-market program is (budgets, reserves, prices, limits), each value with its source."""

from __future__ import annotations

from openets.rules.kinds import AccountKind, InstrumentKind
from openets.rules.load import list_programs, load_program, load_rulebook_file, program_ids
from openets.rules.model import Membership, PricePoint, Program, Rulebook

__all__ = [
    "AccountKind",
    "InstrumentKind",
    "Membership",
    "PricePoint",
    "Program",
    "Rulebook",
    "list_programs",
    "load_program",
    "load_rulebook_file",
    "program_ids",
]
