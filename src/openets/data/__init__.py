"""Loaders for the compact tables shipped with openets (provenance in MANIFEST.md beside them)."""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources

from openets.errors import InputError


@cache
def table(name: str) -> tuple[dict[str, str], ...]:
    """Rows of a shipped CSV table, as dicts of strings."""
    try:
        text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    except FileNotFoundError:
        shipped = sorted(p.name for p in resources.files(__package__).iterdir() if p.name.endswith(".csv"))
        msg = f"no shipped table {name!r}; shipped tables: {', '.join(shipped)}"
        raise InputError(msg) from None
    return tuple(csv.DictReader(text.splitlines()))


def free_allocation(jurisdiction: str, vintage: int) -> dict[str, int]:
    """Free allocation of one vintage by allocation group (WCI 2013-2018), in allowances."""
    rows = {
        r["allocation_group"]: int(r["allocation_allowances"])
        for r in table("wci_free_allocation_2013_2018.csv")
        if r["jurisdiction"] == jurisdiction and int(r["vintage"]) == vintage
    }
    if not rows:
        years = sorted({int(r["vintage"]) for r in table("wci_free_allocation_2013_2018.csv") if r["jurisdiction"] == jurisdiction})
        span = f"{years[0]}-{years[-1]}" if years else "none"
        msg = f"no shipped free-allocation figures for {jurisdiction} vintage {vintage} (shipped: {span})"
        raise InputError(msg)
    return rows
