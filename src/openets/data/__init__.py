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


HISTORY = "wci_free_allocation_2013_2018.csv"
PROJECTION = "wci_free_allocation_projection_2019_2030.csv"


def free_allocation(jurisdiction: str, vintage: int) -> dict[str, int]:
    """Free allocation of one vintage by allocation group, in allowances: the final figures for 2013-2018, then
    the shipped projection (published utility allocations, CARB's estimates, and a stated assumption for
    Québec; `allocation_basis` tells which)."""
    for name in (HISTORY, PROJECTION):
        rows = {
            r["allocation_group"]: int(r["allocation_allowances"])
            for r in table(name)
            if r["jurisdiction"] == jurisdiction and int(r["vintage"]) == vintage
        }
        if rows:
            return rows
    years = sorted({int(r["vintage"]) for name in (HISTORY, PROJECTION) for r in table(name) if r["jurisdiction"] == jurisdiction})
    span = f"{years[0]}-{years[-1]}" if years else "none"
    msg = f"no shipped free-allocation figures for {jurisdiction} vintage {vintage} (shipped: {span})"
    raise InputError(msg)


def allocation_basis(jurisdiction: str, vintage: int) -> dict[str, str]:
    """How sure each group's figure of `free_allocation` is: final, published, estimate or assumption."""
    for r in table(HISTORY):
        if r["jurisdiction"] == jurisdiction and int(r["vintage"]) == vintage:
            return {g: "final" for g in free_allocation(jurisdiction, vintage)}
    return {
        r["allocation_group"]: r["basis"]
        for r in table(PROJECTION)
        if r["jurisdiction"] == jurisdiction and int(r["vintage"]) == vintage
    }


def covered_emissions(jurisdiction: str) -> dict[int, int]:
    """Reported covered emissions by year (tCO2e): compliance reports 2013-2016, CARB reporting after."""
    return {
        int(r["year"]): int(r["covered_emissions"])
        for r in table("wci_covered_emissions_2013_2020.csv")
        if r["jurisdiction"] == jurisdiction
    }


def offsets_private_or_retired() -> dict[str, int]:
    """Offset credits held by entities or already surrendered, at the end of each reported quarter (CIR)."""
    return {r["quarter"]: int(r["offsets_private_or_retired"]) for r in table("wci_offsets_quarterly_2014_2018.csv")}
