"""Benchmark allocation and obligations unit by unit, as China's 2019-2020 power-sector plan sets them (pure).

allocation = supply benchmark x electricity supplied x cooling factor x heat-supply factor x load factor
           + heat benchmark x heat supplied
with the heat-supply factor 1 - k x heat ratio (k by category), the cooling factor by condenser type, and the
load factor by load band for the categories that apply it (not to CHP units). The obligation is the verified
emissions, except that a unit whose category caps it at its allocation (gas) owes at most its allocation, and no
unit owes more than its allocation plus the rulebook's shortfall share of its verified emissions. Every number
comes from the rulebook's [benchmark_allocation] and [compliance.shortfall_cap].

The plan does not say how to round; openets rounds allocations down and obligations up to whole allowances, so a
unit is never given more, nor asked for less, than the formulas give.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Literal

from openets.errors import InputError
from openets.rules.model import BenchmarkAllocation, Program, UnitCategory


@dataclass(frozen=True)
class Unit:
    """A generating unit's year: category, output, and what the correction factors read."""

    name: str
    category: str
    electricity_mwh: float  # electricity supplied
    heat_gj: float = 0.0  # heat supplied
    heat_ratio: float = 0.0  # share of heat in the unit's output, as reported
    cooling: Literal["water", "air"] | None = "water"
    load_factor: float = 1.0  # F: output over rated output
    chp: bool = False  # combined heat and power units take no load correction


@dataclass(frozen=True)
class UnitAllocation:
    unit: str
    allowances: int
    factors: dict[str, Decimal]  # cooling, heat_supply, load


@dataclass(frozen=True)
class UnitObligation:
    unit: str
    verified: int
    allocation: int
    obligation: int
    rule: str  # "verified emissions", "capped at allocation", "shortfall cap"

    @property
    def to_buy(self) -> int:
        """Allowances the unit lacks beyond its own allocation (0 if it has a surplus)."""
        return max(self.obligation - self.allocation, 0)


def _rules(program: Program) -> BenchmarkAllocation:
    rules = program.rulebook.benchmark_allocation
    if rules is None:
        msg = f"program {program.id!r} has no [benchmark_allocation] in its rulebook; benchmark allocation needs one"
        raise InputError(msg)
    return rules


def _category(rules: BenchmarkAllocation, unit: Unit) -> UnitCategory:
    for category in rules.categories:
        if category.id == unit.category:
            return category
    valid = ", ".join(c.id for c in rules.categories)
    msg = f"unit {unit.name!r}: unknown category {unit.category!r}; the rulebook's categories are {valid}"
    raise InputError(msg)


def _check(unit: Unit) -> None:
    problems = []
    if unit.electricity_mwh < 0 or unit.heat_gj < 0:
        problems.append("electricity and heat supplied must not be negative")
    if not 0 <= unit.heat_ratio < 1:
        problems.append(f"heat ratio {unit.heat_ratio} must be in [0, 1)")
    if not 0 <= unit.load_factor <= 1.5:
        problems.append(f"load factor {unit.load_factor} must be a share of rated output (0 to 1.5)")
    if problems:
        msg = f"unit {unit.name!r}: " + "; ".join(problems)
        raise InputError(msg)


def load_factor(rules: BenchmarkAllocation, f: float) -> Decimal:
    """The load correction factor at load factor `f`: the band with the highest `from_load` at or below it."""
    value = Decimal(str(f))
    for tier in sorted(rules.load_tiers, key=lambda t: t.from_load, reverse=True):
        if value >= tier.from_load:
            if tier.kind == "constant":
                return tier.a
            if tier.kind == "linear":
                return tier.a + tier.b * (tier.c - 100 * value)
            return Decimal(str(float(tier.a) ** float(tier.b - tier.c * value)))
    return Decimal(1)


def allocate(program: Program, unit: Unit) -> UnitAllocation:
    """The unit's free allocation for its year's output."""
    rules = _rules(program)
    _check(unit)
    category = _category(rules, unit)
    if category.cooling:
        if unit.cooling not in category.cooling:
            valid = ", ".join(category.cooling)
            msg = f"unit {unit.name!r}: category {category.id} needs a cooling type ({valid}); got {unit.cooling!r}"
            raise InputError(msg)
        cooling = category.cooling[unit.cooling]
    else:
        cooling = Decimal(1)
    heat = 1 - category.heat_ratio_coefficient * Decimal(str(unit.heat_ratio))
    load = load_factor(rules, unit.load_factor) if category.load_correction and not unit.chp else Decimal(1)
    exact = (
        category.supply_benchmark * Decimal(str(unit.electricity_mwh)) * cooling * heat * load
        + category.heat_benchmark * Decimal(str(unit.heat_gj))
    )
    allowances = int(exact.to_integral_value(ROUND_FLOOR))
    return UnitAllocation(unit.name, allowances, {"cooling": cooling, "heat_supply": heat, "load": load})


def obligation(program: Program, unit: Unit, verified: int, allocation: int | None = None) -> UnitObligation:
    """What the unit must surrender for `verified` emissions, given its allocation (computed if not given)."""
    if isinstance(verified, bool) or not isinstance(verified, int) or verified < 0:
        msg = f"unit {unit.name!r}: verified emissions must be a whole non-negative number of tonnes; got {verified!r}"
        raise InputError(msg)
    rules = _rules(program)
    category = _category(rules, unit)
    given = allocation if allocation is not None else allocate(program, unit).allowances
    owed, rule = verified, "verified emissions"
    if category.obligation_at_most_allocation and verified > given:
        owed, rule = given, "capped at allocation"
    compliance = program.rulebook.compliance
    cap = compliance.shortfall_cap if compliance is not None else None
    if cap is not None:
        limit = int((given + cap.share * verified).to_integral_value(ROUND_CEILING))
        if owed > limit:
            owed, rule = limit, "shortfall cap"
    return UnitObligation(unit.name, verified, given, owed, rule)


def ccer_limit(program: Program, verified: int, year: int) -> int:
    """The most CCER offsets a unit may surrender: the offset limit times its verified emissions."""
    share = program.offset_limit(year)
    if share is None:
        return 0
    return int((share * verified).to_integral_value(ROUND_FLOOR))
