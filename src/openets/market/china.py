"""China's power-sector ETS in the simulator: one compliance cycle, unit by unit, as the plan sets it.

Each unit's allocation follows from its output (`compliance.benchmark.allocate`, per year of the cycle), and its
obligation from its verified emissions with the plan's two limits (gas units owe at most their allocation; no
unit owes more than its allocation plus 20% of its verified emissions). A unit abates along a linear MAC curve to
minimise abatement cost plus what it pays (or earns) for allowances at the market price. Because of those limits
a unit's obligation rises with its emissions at 1 per tonne, at 0.2 per tonne beyond the 20% cap, or not at all
for a gas unit beyond its allocation, so a unit compares the best point of each stretch and keeps the cheapest.
The price is the least at which units' net demand (obligations less allocations) is met by the allocations of
others and the CCER offsets allowed (up to the offset limit, from an exogenous supply at a given price).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from openets.compliance.benchmark import Unit, allocate
from openets.csvfile import read_rows
from openets.errors import InputError
from openets.rules import Program

COLUMNS = ("unit", "category", "electricity_mwh", "heat_gj", "heat_ratio", "cooling", "load_factor", "chp", "bau_t",
           "mac_price", "max_share")


@dataclass(frozen=True)
class PowerUnit:
    """A unit for one year of the cycle: output (for its allocation), BAU emissions and a linear MAC."""

    unit: Unit
    bau: float  # emissions without a carbon price, tonnes a year
    mac_price: float  # price (CNY) at which it abates max_share of its BAU
    max_share: float


def read_units(path: str | Path) -> list[PowerUnit]:
    """Units from CSV (see COLUMNS); errors name the line and the column."""
    rows = read_rows(path, COLUMNS, "units")
    units: list[PowerUnit] = []
    for line, row in rows:
        numbers = {}
        for column in ("electricity_mwh", "heat_gj", "heat_ratio", "load_factor", "bau_t", "mac_price", "max_share"):
            try:
                numbers[column] = float(row[column])
            except (TypeError, ValueError):
                msg = f"{path} line {line}: {column} {row[column]!r} is not a number"
                raise InputError(msg) from None
        cooling = (row["cooling"] or "").strip() or None
        if cooling not in (None, "water", "air"):
            msg = f"{path} line {line}: cooling {cooling!r} is unknown; write water, air or leave it empty (gas units)"
            raise InputError(msg)
        if numbers["bau_t"] < 0 or numbers["mac_price"] <= 0 or not 0 < numbers["max_share"] <= 1:
            msg = f"{path} line {line}: need bau_t >= 0, mac_price > 0 and max_share in (0, 1]"
            raise InputError(msg)
        chp = (row["chp"] or "").strip().lower() in ("true", "yes", "1")
        unit = Unit(row["unit"].strip(), row["category"].strip(), numbers["electricity_mwh"], numbers["heat_gj"],
                    numbers["heat_ratio"], cooling, numbers["load_factor"], chp)  # type: ignore[arg-type]
        units.append(PowerUnit(unit, numbers["bau_t"], numbers["mac_price"], numbers["max_share"]))
    if not units:
        msg = f"{path}: no units; give one row per unit"
        raise InputError(msg)
    return units


@dataclass(frozen=True)
class CycleResult:
    price: float
    allocation: np.ndarray  # per unit, over the cycle
    emissions: np.ndarray
    obligation: np.ndarray
    abatement: np.ndarray
    categories: tuple[str, ...]
    offsets_used: float

    def by_category(self) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for c in sorted(set(self.categories)):
            mask = np.array([k == c for k in self.categories])
            out[c] = {
                "units": int(mask.sum()),
                "allocation_t": float(self.allocation[mask].sum()),
                "emissions_t": float(self.emissions[mask].sum()),
                "abatement_t": float(self.abatement[mask].sum()),
                "net_purchases_t": float((self.obligation - self.allocation)[mask].sum()),
            }
        return out


def clear_cycle(
    program: Program,
    units: list[PowerUnit],
    bau_scale: np.ndarray | None = None,
    mac_scale: np.ndarray | None = None,
    ccer_available: float = 0.0,
    ccer_price: float = 0.0,
) -> CycleResult:
    """The cycle's price and each unit's response. `bau_scale` and `mac_scale` (per unit) let a Monte Carlo draw
    vary BAU emissions and MAC prices; CCER offsets (up to the rulebook's limit of each unit's verified emissions
    and `ccer_available` in all) are used when the price is above `ccer_price`."""
    rules = program.rulebook.benchmark_allocation
    compliance = program.rulebook.compliance
    if rules is None or compliance is None:
        msg = f"program {program.id!r} has no benchmark allocation; the cycle simulation is for china_power"
        raise InputError(msg)
    period = compliance.periods[0]
    years = period.end_year - period.start_year + 1
    n = len(units)
    alloc = np.array([allocate(program, u.unit).allowances for u in units], dtype=float) * years
    bau = np.array([u.bau for u in units]) * years * (bau_scale if bau_scale is not None else 1.0)
    mac = np.array([u.mac_price for u in units]) * (mac_scale if mac_scale is not None else 1.0)
    top = np.array([u.max_share for u in units])
    category_of = {c.id: c for c in rules.categories}
    capped = np.array([category_of[u.unit.category].obligation_at_most_allocation for u in units])
    share = float(compliance.shortfall_cap.share) if compliance.shortfall_cap is not None else None
    limit = float(program.offset_limit(period.start_year) or 0)

    def owed_at(e: np.ndarray) -> np.ndarray:
        owed = np.where(capped, np.minimum(e, alloc), e)
        return np.minimum(owed, alloc + share * e) if share is not None else owed

    def respond(p: float) -> tuple[np.ndarray, np.ndarray]:
        """Each unit's abatement and obligation at price p: the cheapest of the best points of its stretches."""
        # Obligation stretches in emissions e: slope 1 up to a kink, then 0.2 (shortfall cap) or 0 (gas).
        kink = np.where(capped, alloc, alloc / (1 - share) if share is not None else np.inf)
        after = np.where(capped, 0.0, share if share is not None else 1.0)
        best_a = np.zeros(n)
        best_cost = np.full(n, np.inf)
        for slope, lo_e, hi_e in ((1.0, np.zeros(n), kink), (after, kink, np.full(n, np.inf))):
            # Linear MAC: marginal cost of abating a is mac * a / (max_share * bau); the stretch's value p * slope.
            want = np.where(bau > 0, np.minimum(top * bau, p * slope / mac * top * bau), 0.0)
            a = np.clip(want, np.maximum(bau - hi_e, 0.0), np.maximum(bau - lo_e, 0.0))
            a = np.minimum(a, top * bau)
            cost = 0.5 * mac * a**2 / np.maximum(top * bau, 1e-12) + p * (owed_at(bau - a) - alloc)
            better = cost < best_cost
            best_a = np.where(better, a, best_a)
            best_cost = np.where(better, cost, best_cost)
        return best_a, owed_at(bau - best_a)

    def excess(p: float) -> tuple[float, float]:
        a, owed = respond(p)
        demand = float(np.maximum(owed - alloc, 0).sum())
        supply = float(np.maximum(alloc - owed, 0).sum())
        offsets = min(ccer_available, limit * float((bau - a).sum())) if p > ccer_price else 0.0
        return demand - supply - offsets, offsets

    if excess(0.0)[0] <= 0:
        price = 0.0
    else:
        hi = max(float(mac.max()), 1.0)
        while excess(hi)[0] > 0:
            hi *= 2
            if hi > 1e9:
                msg = "no price clears the cycle: units' obligations exceed allocations at any price; check the units"
                raise InputError(msg)
        lo = 0.0
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            if mid in (lo, hi):
                break
            if excess(mid)[0] > 0:
                lo = mid
            else:
                hi = mid
        price = hi
    a, owed = respond(price)
    return CycleResult(price, alloc, bau - a, owed, a, tuple(u.unit.category for u in units), excess(price)[1])
