"""Supply-demand balance of a linked cap-and-trade market, quarter by quarter: the allowances and offsets that
reach private accounts, the unsold allowances and their fate, and the bank (cumulative private supply less
covered emissions), with reserve sales when the bank would go negative.

It runs the auction offer schedule (`auction.offers`) itself, not a second copy of the rules: the recorded
auctions settle each quarter of the record (2012Q4-2018Q3); after it, every auction sells out except the share a
`Scenario` declares unsold. Counting follows the vintage: allowances sold at advance auctions, and free
allocation, count as private supply in their vintage year; current-auction sales in the year they are sold.
Supply before the first compliance year (the Nov 2012 auction) counts in that year.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path

from openets.auction.offers import RECORD_ENDS, Key, OfferSchedule, Outcome, QuarterOffers, recorded_outcome
from openets.csvfile import read_rows
from openets.data import covered_emissions, free_allocation, offsets_private_or_retired, table
from openets.errors import InputError
from openets.rules import Program

LAST_RECORDED = RECORD_ENDS  # the shipped auction history and offset reports end with 2018Q3
#: Projections start here at the earliest: coverage grew in 2015 (fuel suppliers and distributors), so earlier
#: emissions say nothing about later ones.
FIRST_PROJECTABLE = 2016


@dataclass(frozen=True)
class Scenario:
    """Assumptions of one run.

    `emissions_from`: the first year projected (earlier years are reported history; 2016 at the earliest); None:
    the year after the last year every jurisdiction has reported. `emissions_growth`: yearly growth of projected
    emissions, one rate or one per jurisdiction (-0.02 is -2% a year). `emissions`: a custom series (jurisdiction
    -> year -> tCO2e) that replaces history and projection for the years it gives. `unsold`: year -> share of
    every current and advance auction offer that goes unsold; auctions up to 2018Q3 are the record, so 2018 means
    its fourth quarter and earlier years are refused. `offsets_of_limit`: offsets used, as a share of the offset
    limit, in quarters after the offset reports (2018Q4 on).
    """

    emissions_from: int | None = None
    emissions_growth: float | Mapping[str, float] = 0.0
    emissions: Mapping[str, Mapping[int, int]] = field(default_factory=dict)
    unsold: Mapping[int, float] = field(default_factory=dict)
    offsets_of_limit: float | None = None  # None: the program's default (WCI 0.75, the peer's; RGGI 0)
    last_year: int = 2030

    def growth(self, jurisdiction: str) -> float:
        if isinstance(self.emissions_growth, Mapping):
            return float(self.emissions_growth.get(jurisdiction, 0.0))
        return float(self.emissions_growth)


@dataclass(frozen=True)
class YearBalance:
    """One year of the balance, in allowances (tCO2e); `_mt` views for reports."""

    year: int
    emissions: int
    emissions_projected: bool
    allowances: int  # vintaged and non-vintage allowances newly in private accounts
    offsets: int
    reserve_sales: int
    bank: int  # year-end, after reserve sales; never negative
    bank_before_reserve_sales: int  # cumulative: the bank had there never been reserve sales (negative once exhausted)
    unsold_state: int  # state-owned allowances unsold and held by the state at year end (current and advance)
    unsold_advance: int  # of which advance allowances waiting for their vintage's current auctions
    to_reserve: int  # unsold allowances moved to the reserve this year
    by_jurisdiction: dict[str, dict[str, int]]

    @property
    def supply(self) -> int:
        return self.allowances + self.offsets

    def as_dict(self) -> dict[str, object]:
        mt = 1_000_000
        return {
            "year": self.year,
            "emissions_mt": round(self.emissions / mt, 6),
            "emissions_projected": self.emissions_projected,
            "supply_mt": round(self.supply / mt, 6),
            "allowances_mt": round(self.allowances / mt, 6),
            "offsets_mt": round(self.offsets / mt, 6),
            "bank_mt": round(self.bank / mt, 6),
            "bank_before_reserve_sales_mt": round(self.bank_before_reserve_sales / mt, 6),
            "reserve_sales_mt": round(self.reserve_sales / mt, 6),
            "unsold_state_mt": round(self.unsold_state / mt, 6),
            "unsold_current_mt": round((self.unsold_state - self.unsold_advance) / mt, 6),
            "unsold_advance_mt": round(self.unsold_advance / mt, 6),
            "to_reserve_mt": round(self.to_reserve / mt, 6),
            "by_jurisdiction": {
                j: {k: round(v / mt, 6) for k, v in parts.items()} for j, parts in self.by_jurisdiction.items()
            },
        }


@dataclass(frozen=True)
class Balance:
    program: str
    scenario: Scenario
    years: tuple[YearBalance, ...]
    allowance_unit: str = "tCO2e"  # RGGI: short_ton (the `_mt` fields are then millions of short tons)

    @property
    def bank_exhausted_year(self) -> int | None:
        """The first year the bank would go negative without reserve sales, or None."""
        return next((y.year for y in self.years if y.bank_before_reserve_sales < 0), None)

    def as_dict(self) -> dict[str, object]:
        return {
            "program": self.program,
            "allowance_unit": self.allowance_unit,
            "years": [y.as_dict() for y in self.years],
            "bank_exhausted_year": self.bank_exhausted_year,
        }


def balance(program: Program, scenario: Scenario | None = None) -> Balance:
    """The supply-demand balance of `program` (wci, california or quebec) under `scenario`, year by year."""
    scenario = scenario or Scenario()
    _check(scenario)
    members = [j for j in program.jurisdictions if program.vintages(j)]
    _check_names(scenario, members)
    if program.id == "rggi":
        return _rggi_balance(program, scenario)
    try:
        for j in members:
            program.unsold_rules(j)
            program.auction_quarters(j, 2020)
    except InputError:
        msg = (
            f"openets supply needs an auction offer schedule ([auction.first_auction] and [auction.unsold] in the "
            f"rulebook): it covers wci, california and quebec; {program.id}'s balance is not built yet"
        )
        raise InputError(msg) from None
    schedule = OfferSchedule(program)
    jurisdictions = schedule.jurisdictions
    first_year = min(min(program.vintages(j)) for j in jurisdictions)
    emissions, projected = _emissions(jurisdictions, scenario, first_year)
    years = range(first_year, scenario.last_year + 1)
    allowances = {(j, y): 0 for j in jurisdictions for y in years}
    offsets_by_year = dict.fromkeys(years, 0)
    to_reserve = dict.fromkeys(years, 0)
    moved: dict[tuple[str, int], int] = {}
    unsold_state = dict.fromkeys(years, 0)
    unsold_advance = dict.fromkeys(years, 0)
    consigned_offered: dict[tuple[str, int], int] = {}
    offsets_seen = offsets_private_or_retired()

    def count(j: str, year: int, quantity: int) -> None:
        year = max(year, first_year)
        if year in years:
            allowances[(j, year)] += quantity

    while True:
        y, q = divmod(schedule.next_index, 4)
        q += 1
        if y > scenario.last_year:
            break
        offers = schedule.offer(y, q)
        recorded = (y, q) <= LAST_RECORDED
        outcome = recorded_outcome(offers) if recorded else _assumed_outcome(offers, scenario.unsold.get(y, 0.0), jurisdictions)
        for o in offers.offers:
            if o.category == "consigned":
                consigned_offered[(o.jurisdiction, o.vintage)] = consigned_offered.get((o.jurisdiction, o.vintage), 0) + o.new
        # What reached private accounts: the recorded sales while the record lasts (where the rules' offer and the
        # record differ, see docs/auction_replay_2012_2018.md), then the offers less what goes unsold.
        sales = _recorded_sales(y, q, jurisdictions) if recorded else [
            (o.jurisdiction, o.auction_type, o.vintage, o.available - outcome.unsold.get(o.key, 0)) for o in offers.offers
        ]
        for j, auction_type, vintage, sold in sales:
            count(j, vintage if auction_type == "advance" else y, sold)  # advance: when its vintage is current
        for t in offers.to_reserve:
            to_reserve[max(y, first_year)] += t.quantity
            moved[(t.jurisdiction, max(y, first_year))] = moved.get((t.jurisdiction, max(y, first_year)), 0) + t.quantity
        schedule.settle(outcome)
        # Unsold advance allowances wait until their vintage's current auctions; they leave the advance count when
        # that year's offers include them (the schedule folds them into the state-owned share).
        if q == 4 and y in years:
            for j in jurisdictions:
                waiting_advance = sum(
                    quantity for (jj, vintage), quantity in schedule.advance_unsold.items() if jj == j and vintage > y
                )
                unsold_state[y] += sum(schedule.unsold(j).values()) + waiting_advance
                unsold_advance[y] += waiting_advance
        offsets_by_year[max(y, first_year)] += _offsets(program, jurisdictions, y, q, scenario, emissions, offsets_seen)

    # Free allocation reaches private accounts when it is distributed (Québec's initial allocations and true-ups
    # carry dates; California's figures include their true-ups and count in the vintage year), less what must be
    # consigned to auction (that counts when it sells).
    distributed = _distributions()
    for j in jurisdictions:
        rule = program.allocation_distribution(j)
        for y in years:
            if y not in program.vintages(j):
                continue
            total = sum(free_allocation(j, y).values())
            events = distributed.get((j, y), [])
            for when, quantity in events:
                count(j, when, quantity)
            rest = total - sum(quantity for _, quantity in events)
            if not events and rule is not None:
                # Not yet distributed: the rulebook's first share in the vintage year, the rest later.
                first = int((rule.first_share * rest).to_integral_value(ROUND_FLOOR))
                count(j, y, first)
                rest -= first
            if rest:
                count(j, y + (rule.rest_year_offset if rule is not None else 0), rest)
            allowances[(j, y)] -= consigned_offered.get((j, y), 0)
    events = _events(jurisdictions)
    for (j, y), quantity in events.items():
        if (j, y) in allowances:
            allowances[(j, y)] += quantity

    out: list[YearBalance] = []
    bank = 0
    sales_total = 0
    for y in years:
        supply = sum(allowances[(j, y)] for j in jurisdictions) + offsets_by_year[y]
        demand = sum(emissions[(j, y)] for j in jurisdictions)
        before = bank + supply - demand
        sales = max(0, -before)
        bank = before + sales
        sales_total += sales
        out.append(
            YearBalance(
                year=y,
                emissions=demand,
                emissions_projected=any(projected[(j, y)] for j in jurisdictions),
                allowances=sum(allowances[(j, y)] for j in jurisdictions),
                offsets=offsets_by_year[y],
                reserve_sales=sales,
                bank=bank,
                bank_before_reserve_sales=bank - sales_total,
                unsold_state=unsold_state[y],
                unsold_advance=unsold_advance[y],
                to_reserve=to_reserve[y],
                by_jurisdiction={
                    j: {"emissions": emissions[(j, y)], "allowances": allowances[(j, y)], "to_reserve": moved.get((j, y), 0)}
                    for j in jurisdictions
                },
            )
        )
    return Balance(program.id, scenario, tuple(out), program.allowance_unit)


def _rggi_balance(program: Program, scenario: Scenario) -> Balance:
    """RGGI's balance, year by year from the bank the interim adjustments measured at the end of 2013.

    The bank at the end of 2013 is the private bank of 2009-2011 vintages (FCPIA) plus the 2012-2013 vintages held in
    excess of 2012-2013 emissions (SCPIA), both published by RGGI. Each later year adds the adjusted budget (what
    the states issue: the budget, state additions, less the adjustments for banked allowances), the CCR
    allowances released and less the ECR allowances withheld (recorded to 2023; after, the CCR is counted only
    as reserve sales when the bank would go negative), and offsets (a share of the 3.3% limit; none by default),
    and takes away compliance emissions. Per-auction results are not shipped, so every allowance of the adjusted
    budget counts as sold in its year.
    """
    if scenario.unsold:
        msg = "unsold shares are not modelled for RGGI (each state decides what becomes of unsold allowances); drop --unsold"
        raise InputError(msg)
    (j,) = program.jurisdictions
    rows = {int(r["year"]): r for r in table("rggi_annual_2009_2023.csv")}
    anchors = {r["metric"].split(":")[0]: int(r["allowances"]) for r in table("rggi_bank_anchors.csv")}
    first = 2014
    if scenario.last_year < first:
        msg = f"RGGI's balance starts in {first} (from the bank the interim adjustments measured); give a later last year"
        raise InputError(msg)
    last_reported = max(rows)
    start = scenario.emissions_from if scenario.emissions_from is not None else last_reported + 1
    if start > last_reported + 1:
        msg = f"no reported RGGI emissions after {last_reported}; project from {last_reported + 1} at the latest"
        raise InputError(msg)
    custom = scenario.emissions.get(j, {})
    bank = anchors["FCPIA"] + anchors["SCPIA"]
    sales_total = 0
    emissions_prev = rows[first - 1]["compliance_emissions_short_tons"]
    previous = int(emissions_prev)
    out: list[YearBalance] = []
    share = Decimal(str(scenario.offsets_of_limit or 0))
    for y in range(first, scenario.last_year + 1):
        projected = y >= start and y not in custom
        if y in custom:
            emitted = int(custom[y])
        elif not projected:
            emitted = int(rows[y]["compliance_emissions_short_tons"])
        else:
            emitted = round(previous * (1 + scenario.growth(j)))
        previous = emitted
        recorded = rows.get(y)
        released = int(recorded["ccr_released_short_tons"]) if recorded and not projected else 0
        withheld = int(recorded["ecr_withheld_short_tons"]) if recorded and not projected else 0
        allowances = program.adjusted_budget(y) + released - withheld
        limit = program.offset_limit(y) or Decimal(0)
        offsets = int((limit * share * emitted).to_integral_value(ROUND_FLOOR)) if projected else 0
        before = bank + allowances + offsets - emitted
        sales = max(0, -before)
        bank = before + sales
        sales_total += sales
        out.append(YearBalance(
            year=y, emissions=emitted, emissions_projected=projected, allowances=allowances, offsets=offsets,
            reserve_sales=sales, bank=bank, bank_before_reserve_sales=bank - sales_total, unsold_state=0,
            unsold_advance=0, to_reserve=0,
            by_jurisdiction={j: {"emissions": emitted, "allowances": allowances, "to_reserve": 0}},
        ))
    return Balance(program.id, scenario, tuple(out), program.allowance_unit)


# -- inputs ------------------------------------------------------------------------------------------------------


def _check(scenario: Scenario) -> None:
    for year, share in scenario.unsold.items():
        if not 0 <= share <= 1:
            msg = f"unsold share for {year} is {share}; give a share between 0 and 1 (0.5 = half unsold)"
            raise InputError(msg)
    if scenario.offsets_of_limit is not None and not 0 <= scenario.offsets_of_limit <= 1:
        msg = f"offsets of limit is {scenario.offsets_of_limit}; give a share of the offset limit between 0 and 1"
        raise InputError(msg)
    rates = scenario.emissions_growth.values() if isinstance(scenario.emissions_growth, Mapping) else [scenario.emissions_growth]
    for rate in rates:
        if not -1 < float(rate) < 1:
            msg = f"emissions growth {rate} is not a yearly rate; write -0.02 for -2% a year"
            raise InputError(msg)
    if not 2013 <= scenario.last_year <= 2030:
        msg = (
            f"the balance runs from 2013 (the first compliance year) to 2030 at most (budgets and allocation are "
            f"shipped to 2030); got last year {scenario.last_year}"
        )
        raise InputError(msg)
    if scenario.emissions_from is not None and not FIRST_PROJECTABLE <= scenario.emissions_from:
        msg = (
            f"emissions can be projected from {FIRST_PROJECTABLE} at the earliest (coverage grew in 2015, so earlier "
            f"years cannot be projected from); got {scenario.emissions_from}"
        )
        raise InputError(msg)
    outside = sorted(y for y in scenario.unsold if not RECORD_ENDS[0] <= y <= scenario.last_year)
    if outside:
        msg = (
            f"unsold shares for {outside}: auctions to {RECORD_ENDS[0]}Q{RECORD_ENDS[1]} are the record, and the balance "
            f"ends in {scenario.last_year}; give years {RECORD_ENDS[0]}-{scenario.last_year} ({RECORD_ENDS[0]} means its "
            "fourth quarter)"
        )
        raise InputError(msg)


def _check_names(scenario: Scenario, members: list[str]) -> None:
    named = set(scenario.emissions)
    if isinstance(scenario.emissions_growth, Mapping):
        named |= set(scenario.emissions_growth)
    unknown = sorted(named - set(members))
    if unknown:
        msg = f"unknown jurisdiction(s) {', '.join(unknown)} in the scenario; this program's are {', '.join(members)}"
        raise InputError(msg)


def _emissions(
    jurisdictions: tuple[str, ...], scenario: Scenario, first_year: int
) -> tuple[dict[tuple[str, int], int], dict[tuple[str, int], bool]]:
    """Covered emissions by jurisdiction and year: history before `emissions_from`, then the growth rate; a
    custom series overrides both."""
    history = {j: covered_emissions(j) for j in jurisdictions}
    common_last = min(max(h) for h in history.values() if h) if all(history.values()) else first_year
    start = scenario.emissions_from if scenario.emissions_from is not None else common_last + 1
    values: dict[tuple[str, int], int] = {}
    projected: dict[tuple[str, int], bool] = {}
    for j in jurisdictions:
        custom = scenario.emissions.get(j, {})
        for y in range(first_year, scenario.last_year + 1):
            if y in custom:
                values[(j, y)], projected[(j, y)] = int(custom[y]), False
            elif y < start:
                if y not in history[j]:
                    have = f"{min(history[j])}-{max(history[j])}" if history[j] else "none"
                    msg = (
                        f"no reported covered emissions for {j} {y} (shipped: {have}); project from an earlier year "
                        f"(--emissions-from {max(history[j]) + 1 if history[j] else first_year}) or give a custom series"
                    )
                    raise InputError(msg)
                values[(j, y)], projected[(j, y)] = history[j][y], False
            else:
                base = values[(j, y - 1)]
                values[(j, y)] = round(base * (1 + scenario.growth(j)))
                projected[(j, y)] = True
    return values, projected


def _assumed_outcome(offers: QuarterOffers, share: float, jurisdictions: tuple[str, ...]) -> Outcome:
    """An auction after the record: `share` of each offer goes unsold, from what sells last (new state-owned,
    then redesignated, then consigned allowances); it settles above the floor only if nothing goes unsold."""
    unsold: dict[Key, int] = {}
    for auction_type in ("current", "advance"):
        for j in {o.jurisdiction for o in offers.lines(auction_type)}:
            lines = offers.lines(auction_type, j)
            left = math.floor(share * sum(o.available for o in lines))
            order = sorted(lines, key=lambda o: (o.category == "consigned", o.redesignated > 0 and o.new == 0))
            for o in order:
                take = min(left, o.available)
                if take:
                    unsold[o.key] = take
                    left -= take
    return Outcome(unsold, dict.fromkeys(jurisdictions, share == 0))


def _offsets(
    program: Program,
    jurisdictions: tuple[str, ...],
    year: int,
    quarter: int,
    scenario: Scenario,
    emissions: Mapping[tuple[str, int], int],
    seen: Mapping[str, int],
) -> int:
    """Offsets reaching private hands in a quarter: the reported change while reports exist (a single member of
    the linked market takes its share of the market's covered emissions), then the scenario's share of the offset
    limit applied to the year's emissions, a quarter per quarter."""
    name = f"{year}Q{quarter}"
    if name in seen:
        quarters = sorted(seen)
        i = quarters.index(name)
        reported = seen[name] - (seen[quarters[i - 1]] if i else 0)
        # The reports count the linked market's offsets; one member alone gets its share of covered emissions.
        market = {j: covered_emissions(j).get(year, 0) for j in ("CA", "QC")}
        ours = sum(market.get(j, 0) for j in jurisdictions)
        total = sum(market.values())
        return reported if ours == total or total == 0 else reported * ours // total
    if (year, quarter) <= LAST_RECORDED or year < 2013:
        return 0  # before the first report (offsets reached private hands from 2014Q2, which carries them)
    total = Decimal(0)
    for j in jurisdictions:
        limit = program.member_program(j).offset_limit(year) if program.is_linkage else program.offset_limit(year)
        if limit is not None and (j, year) in emissions:
            share = 0.75 if scenario.offsets_of_limit is None else scenario.offsets_of_limit
            total += limit * Decimal(str(share)) * emissions[(j, year)]
    return int((total / 4).to_integral_value(ROUND_FLOOR))


def _recorded_sales(year: int, quarter: int, jurisdictions: tuple[str, ...]) -> list[tuple[str, str, int, int]]:
    """(jurisdiction, auction type, vintage, allowances sold) of a recorded quarter."""
    name = f"{year}Q{quarter}"
    return [
        (r["jurisdiction"], r["auction_type"], int(r["vintage"]), int(r["sold_allowances"]))
        for r in table("wci_auction_history_2012_2018.csv")
        if r["quarter"] == name and r["jurisdiction"] in jurisdictions
    ]


def _distributions() -> dict[tuple[str, int], list[tuple[int, int]]]:
    """Dated allocation events by (jurisdiction, vintage): (year distributed, allowances)."""
    out: dict[tuple[str, int], list[tuple[int, int]]] = {}
    for r in table("wci_qc_allocation_events_2013_2018.csv"):
        out.setdefault((r["jurisdiction"], int(r["vintage"])), []).append((int(r["date"][:4]), int(r["allowances"])))
    return out


def _events(jurisdictions: tuple[str, ...]) -> dict[tuple[str, int], int]:
    """Supply that no auction or allocation rule produces (shipped table `wci_supply_events.csv`)."""
    out: dict[tuple[str, int], int] = {}
    for r in table("wci_supply_events.csv"):
        if r["jurisdiction"] in jurisdictions:
            key = (r["jurisdiction"], int(r["year"]))
            out[key] = out.get(key, 0) + int(r["allowances"])
    return out


def read_emissions_csv(path: str | Path) -> dict[str, dict[int, int]]:
    """A custom emissions series: a CSV with columns jurisdiction,year,emissions_mt (million tCO2e)."""
    rows = read_rows(path, ("jurisdiction", "year", "emissions_mt"), "emissions")
    out: dict[str, dict[int, int]] = {}
    for line, row in rows:
        try:
            year = int(row["year"])
            value = Decimal(row["emissions_mt"])
        except (ValueError, ArithmeticError, TypeError):
            msg = f"{path}, line {line}: year {row['year']!r} or emissions_mt {row['emissions_mt']!r} is not a number"
            raise InputError(msg) from None
        if not value.is_finite() or value < 0:
            msg = f"{path}, line {line}: emissions_mt {row['emissions_mt']!r} must be a non-negative number of Mt"
            raise InputError(msg)
        out.setdefault(row["jurisdiction"].strip(), {})[year] = int(value * 1_000_000)
    return out
