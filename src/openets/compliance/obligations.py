"""Compliance obligations from a program's rulebook: what is owed, when, with which instruments, and the penalty.

Pure: plain data in, plain data out; no registry, no files, no clock. The operator and the simulator call the same
functions. Quantities are whole instruments in the program's allowance unit (tCO2e; short tons for RGGI).

Rules used, all read from the rulebook (`[[compliance.periods]]`, `[compliance.interim]`, `[compliance.surrender]`,
`[compliance.untimely_surrender]`, `[[offset_limits]]`):
- every data year of a period except its last owes `interim.share` of that year's emissions, due the year after
  (California's annual obligation, 17 CCR §95855/§95856(d); RGGI's interim control period); the period's last
  year carries the rest, due the year after the period ends, so a period's obligations sum to its emissions;
- a share is rounded up to a whole instrument: one instrument covers one ton (§95856(a)) and RGGI asks for "not
  less than" half of the interim emissions; the period obligation takes the exact remainder.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, Decimal
from typing import Literal

from openets.errors import InputError
from openets.rules.kinds import InstrumentKind
from openets.rules.model import CompliancePeriod, Program, SurrenderRules, floor_int

ObligationKind = Literal["annual", "interim", "period"]
Holding = tuple[InstrumentKind | str, int | None, int]
QUANTITY_MAX = 10**13  # above any entity's or market's emissions over a period; keeps Decimal sums exact


@dataclass(frozen=True, slots=True)
class Obligation:
    """Instruments owed at one compliance event.

    `quantity_by_year` splits `quantity` over `emissions_years` (same order): the offset limit is set per data
    year (California's fifth period has 4% for 2024-25 and 6% for 2026, §95854(c)).
    """

    program: str
    period_id: str
    kind: ObligationKind
    emissions_years: tuple[int, ...]
    due: date
    quantity: int
    quantity_by_year: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class UntimelyObligation:
    """The obligation that replaces an unmet one; `min_allowances` is None when the rulebook sets no share."""

    quantity: int
    min_allowances: int | None


@dataclass(frozen=True, slots=True)
class SurrenderPlan:
    """Instruments to surrender for an obligation, in deduction order, and what is still missing."""

    obligation: Obligation
    surrendered: tuple[tuple[InstrumentKind, int | None, int], ...]
    offsets: int
    shortfall: int


_DEDUCTION_RANK = {
    InstrumentKind.OFFSET_CREDIT: 0,
    InstrumentKind.RESERVE_ALLOWANCE: 1,
    InstrumentKind.PRICE_CEILING_UNIT: 2,
    InstrumentKind.ALLOWANCE: 3,
}

def obligations(
    program: Program, emissions: Mapping[int, int], *, jurisdiction: str | None = None
) -> list[Obligation]:
    """The obligations of an entity (or a sum of entities) with these covered emissions by year, by due date.

    Every compliance period that `emissions` touches must be complete: a year missing inside a period would
    silently shrink its true-up. For a linkage (wci), `jurisdiction` names the member whose rules apply.
    """
    program = _compliance_program(program, jurisdiction)
    calendar = _calendar(program)
    checked = _check_emissions(program, emissions)
    compliance = program.rulebook.compliance
    assert compliance is not None  # _compliance_program checked it
    interim = compliance.interim
    out: list[Obligation] = []
    for period in _periods(program, checked):
        years = tuple(range(period.start_year, period.end_year + 1))
        early: dict[int, int] = {}
        if interim is not None:
            kind: ObligationKind = "annual" if interim.basis == "previous_year_emissions" else "interim"
            for year in years[:-1]:
                if year < interim.from_year:
                    continue
                early[year] = int((interim.share * checked[year]).to_integral_value(rounding=ROUND_CEILING))
                due = date(year + 1, *calendar.month_day)
                out.append(Obligation(program.id, period.id, kind, (year,), due, early[year], (early[year],)))
        rest = tuple(checked[y] - early.get(y, 0) for y in years)
        due = date(period.end_year + 1, *calendar.month_day)
        out.append(Obligation(program.id, period.id, "period", years, due, sum(rest), rest))
    return out


def offset_limit(program: Program, obligation: Obligation, *, jurisdiction: str | None = None) -> int:
    """The most of `obligation` that offsets may meet: the rulebook's share for each data year, rounded down.

    The regulations cap offsets over a whole period (§95854(b); Q-2 r.46.1 s.20; 6 NYCRR 242-6.5(a)(3)). A cap
    per obligation is the strict reading: the caps of a period's obligations never add up to more than its cap.
    """
    program = _compliance_program(program, jurisdiction)
    _check_obligation(program, obligation)
    total = Decimal(0)
    for year, part in zip(obligation.emissions_years, obligation.quantity_by_year, strict=True):
        share = program.offset_limit(year)
        if share is None:
            msg = (
                f"{_where(program)} has no offset limit for emissions year {year}; "
                "add an [[offset_limits]] entry covering it (share = 0 if offsets may not be used)"
            )
            raise InputError(msg)
        total += share * part
    return floor_int(total)


def eligible_vintage_max(program: Program, obligation: Obligation, *, jurisdiction: str | None = None) -> int:
    """The latest allowance vintage that may meet `obligation`; reserve allowances, price-ceiling units and
    offsets carry no such limit.

    California: the obligation's last data year (§95856(b)(2)); Québec and RGGI: the end of the (control)
    period (Q-2 r.46.1 s.20; 6 NYCRR 242-6.5(a)(1)).
    """
    program = _compliance_program(program, jurisdiction)
    period = _check_obligation(program, obligation)
    if _calendar(program).vintage_limit == "obligation_year":
        return max(obligation.emissions_years)
    return period.end_year


def untimely_surrender(program: Program, shortfall: int, *, jurisdiction: str | None = None) -> UntimelyObligation:
    """The obligation that replaces `shortfall` instruments not surrendered on time (17 CCR §95857(b)).

    It is the rulebook's multiplier times the shortfall; the allowance part is rounded up, so that it never falls
    below the rulebook's minimum share.
    """
    program = _compliance_program(program, jurisdiction)
    _check_count("shortfall", shortfall)
    rule = program.rulebook.compliance.untimely_surrender  # type: ignore[union-attr]
    if rule is None:
        msg = (
            f"{_where(program)} has no [compliance.untimely_surrender]; add its multiplier (and "
            "min_allowance_share) with the source, e.g. Q-2 r.46.1 s.22 for Québec"
        )
        raise InputError(msg)
    quantity = rule.multiplier * shortfall
    if rule.min_allowance_share is None:
        return UntimelyObligation(quantity, None)
    minimum = int((rule.min_allowance_share * quantity).to_integral_value(rounding=ROUND_CEILING))
    return UntimelyObligation(quantity, minimum)


def plan_surrender(
    program: Program, obligation: Obligation, holdings: Iterable[Holding], *, jurisdiction: str | None = None
) -> SurrenderPlan:
    """What to surrender from `holdings` (instrument kind, vintage or None, quantity) to meet `obligation`.

    The default deduction order when the holder names none, oldest vintage first within each kind: offsets up to
    the offset limit, then reserve allowances and price-ceiling units, then allowances of eligible vintages.
    Québec's order is the regulation's (Q-2 r.46.1 s.21, confirmed: offsets up to the limit, reserve units,
    early-reduction credits, emission units, least recent first). California's is CARB's 2013 proposal, offsets
    first then allowances (mondaq note, secondary; the adopted text was not read); its reserve allowances and
    price-ceiling units follow Québec's place for reserve units. No RGGI deduction order was read: the same order
    is used. A shortfall is what the eligible holdings cannot cover.
    """
    program = _compliance_program(program, jurisdiction)
    lines = _check_holdings(holdings)
    room = offset_limit(program, obligation)
    latest = eligible_vintage_max(program, obligation)
    # Within a kind, oldest first; a non-vintage line before vintage ones; ties keep the holder's order.
    order = sorted(
        range(len(lines)),
        key=lambda i: (_DEDUCTION_RANK[lines[i][0]], lines[i][1] is not None, lines[i][1] or 0, i),
    )
    remaining = obligation.quantity
    offsets = 0
    plan: list[tuple[InstrumentKind, int | None, int]] = []
    for i in order:
        kind, vintage, held = lines[i]
        if kind is InstrumentKind.ALLOWANCE and vintage is not None and vintage > latest:
            continue
        is_offset = kind is InstrumentKind.OFFSET_CREDIT
        take = min(held, remaining, room - offsets) if is_offset else min(held, remaining)
        if take > 0:
            plan.append((kind, vintage, take))
            remaining -= take
            offsets += take if is_offset else 0
    return SurrenderPlan(obligation, tuple(plan), offsets, remaining)


# ------------------------------------------------------------------------------------------------------------
# Checks: each error says what is wrong, where, and how to fix it.
# ------------------------------------------------------------------------------------------------------------


def _where(program: Program) -> str:
    return program.origin or f"rulebook {program.id}.toml"


def _compliance_program(program: Program, jurisdiction: str | None) -> Program:
    if isinstance(program, str):
        msg = (
            f"program must be a loaded Program, not the id {program!r}: "
            f"pass openets.rules.load_program({program!r}) (it lists the known ids if this one is unknown)"
        )
        raise InputError(msg)
    if not isinstance(program, Program):
        msg = f"program must be a Program (openets.rules.load_program); found {type(program).__name__}"
        raise InputError(msg)
    if jurisdiction is not None:
        program = program.member_program(jurisdiction)
    elif program.is_linkage:
        msg = (
            f"{program.id!r} is a linked market: compliance rules are each member's. "
            f"Pass jurisdiction= one of {', '.join(program.jurisdictions)}"
        )
        raise InputError(msg)
    if program.rulebook.compliance is None:
        msg = f"{_where(program)} has no compliance rules; add [[compliance.periods]] (and their sources) to it"
        raise InputError(msg)
    return program


def _calendar(program: Program) -> SurrenderRules:
    surrender = program.rulebook.compliance.surrender if program.rulebook.compliance else None
    if surrender is None:
        msg = (
            f"{_where(program)} has no [compliance.surrender]; add the surrender deadline (deadline = \"MM-DD\") and "
            "vintage rule (vintage_limit = \"obligation_year\" or \"period_end\") with their source"
        )
        raise InputError(msg)
    return surrender


def _check_count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        msg = f"{name} must be a whole number of instruments such as 1000; found {value!r}"
        raise InputError(msg)
    if not 0 <= value <= QUANTITY_MAX:
        msg = f"{name} must be between 0 and {QUANTITY_MAX:,}; found {value:,}"
        raise InputError(msg)
    return value


def _check_emissions(program: Program, emissions: Mapping[int, int]) -> dict[int, int]:
    if not isinstance(emissions, Mapping) or not emissions:
        msg = (
            "emissions must be a non-empty mapping of year to covered emissions, e.g. {2015: 1_000_000}; "
            f"found {emissions!r}"
        )
        raise InputError(msg)
    unit = program.allowance_unit
    out: dict[int, int] = {}
    for year, value in emissions.items():
        if isinstance(year, bool) or not isinstance(year, int):
            msg = f"emissions: years must be whole years such as 2015; found the key {year!r}"
            raise InputError(msg)
        if isinstance(value, bool) or not isinstance(value, int):
            msg = f"emissions[{year}] must be a whole number of {unit} (round the reported figure); found {value!r}"
            raise InputError(msg)
        if value < 0:
            msg = f"emissions[{year}] is {value:,} {unit}; covered emissions cannot be negative. Fix the input row"
            raise InputError(msg)
        if value > QUANTITY_MAX:
            msg = f"emissions[{year}] is {value:,} {unit}, above {QUANTITY_MAX:,}; check the unit (tonnes, not grams)"
            raise InputError(msg)
        out[year] = value
    return out


def _periods(program: Program, emissions: Mapping[int, int]) -> list[CompliancePeriod]:
    periods: dict[str, CompliancePeriod] = {}
    for year in sorted(emissions):
        period = program.compliance_period(year)
        if period is None:
            known = program.rulebook.compliance.periods  # type: ignore[union-attr]
            msg = (
                f"emissions year {year} is outside every compliance period of {program.id} "
                f"({known[0].start_year}-{known[-1].end_year}: "
                f"{', '.join(f'{p.id} {p.start_year}-{p.end_year}' for p in known)}); "
                f"drop it, or add the period to [[compliance.periods]] in {_where(program)}"
            )
            raise InputError(msg)
        periods[period.id] = period
    for period in periods.values():
        missing = [y for y in range(period.start_year, period.end_year + 1) if y not in emissions]
        if missing:
            msg = (
                f"emissions for {period.id} ({period.start_year}-{period.end_year}) of {program.id} lack "
                f"{', '.join(map(str, missing))}; give every year of the period (0 for a year without covered "
                "emissions), or leave the period out"
            )
            raise InputError(msg)
    return sorted(periods.values(), key=lambda p: p.start_year)


def _check_obligation(program: Program, obligation: Obligation) -> CompliancePeriod:
    if not isinstance(obligation, Obligation):
        msg = f"obligation must be an Obligation from obligations(); found {type(obligation).__name__}"
        raise InputError(msg)
    if obligation.program != program.id:
        msg = (
            f"the obligation belongs to {obligation.program!r} ({obligation.period_id}) but the program given is "
            f"{program.id!r}; pass the program the obligation was computed for"
        )
        raise InputError(msg)
    compliance = program.rulebook.compliance
    period = next((p for p in compliance.periods if p.id == obligation.period_id), None)  # type: ignore[union-attr]
    if period is None:
        msg = f"{program.id} has no compliance period {obligation.period_id!r}; recompute the obligation"
        raise InputError(msg)
    return period


def _check_holdings(holdings: Iterable[Holding]) -> list[tuple[InstrumentKind, int | None, int]]:
    out: list[tuple[InstrumentKind, int | None, int]] = []
    kinds = ", ".join(k.value for k in InstrumentKind)
    for i, line in enumerate(holdings):
        if not isinstance(line, tuple) or len(line) != 3:
            msg = f"holdings[{i}] must be (instrument kind, vintage or None, quantity); found {line!r}"
            raise InputError(msg)
        kind, vintage, quantity = line
        try:
            kind = InstrumentKind(kind)
        except ValueError:
            msg = f"holdings[{i}]: unknown instrument kind {kind!r}; expected one of {kinds}"
            raise InputError(msg) from None
        if vintage is not None and (isinstance(vintage, bool) or not isinstance(vintage, int)):
            msg = f"holdings[{i}]: vintage must be a year such as 2016, or None; found {vintage!r}"
            raise InputError(msg)
        if kind is InstrumentKind.ALLOWANCE and vintage is None:
            msg = (
                f"holdings[{i}]: an allowance needs its vintage (budget year); "
                "non-vintage allowances are reserve_allowance or price_ceiling_unit"
            )
            raise InputError(msg)
        out.append((kind, vintage, _check_count(f"holdings[{i}] quantity", quantity)))
    return out
