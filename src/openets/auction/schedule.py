"""Auction price schedules by year: reserve price, reserve tiers, price ceiling and reserve triggers."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import Any

from openets.errors import InputError
from openets.rules.model import CENT, PricePoint, Program, TierPrice

FIELDS = ("reserve_price", "tier_prices", "price_ceiling", "ccr_trigger", "ecr_trigger")


@dataclass(frozen=True)
class YearSchedule:
    """The prices that bound one year's auctions, in the program's currency (per allowance; RGGI: short ton).

    `reserve_price` is the auction floor (California's Auction Reserve Price, RGGI's minimum reserve price,
    Québec's minimum price in CAD; for the WCI market the joint floor when an exchange rate is given).
    `tier_prices` are the reserve-sale tiers in rulebook order (California: three to 2020, two from 2021),
    empty where there are none. `projected` is true when any value rests on a CPI assumption; `sources` maps
    each field that has a value to where it comes from and its status.
    """

    year: int
    currency: str
    reserve_price: Decimal
    tier_prices: tuple[Decimal, ...]
    price_ceiling: Decimal | None
    ccr_trigger: Decimal | None
    ecr_trigger: Decimal | None
    projected: bool
    sources: dict[str, str]

    def to_json(self) -> dict[str, Any]:
        """The `openets auction schedule --json` object: prices as numbers, keys ending in the currency."""
        unit = self.currency.lower()
        return {
            "year": self.year,
            f"reserve_price_{unit}": _number(self.reserve_price),
            f"tier_prices_{unit}": [_number(p) for p in self.tier_prices],
            f"price_ceiling_{unit}": _number(self.price_ceiling),
            f"ccr_trigger_{unit}": _number(self.ccr_trigger),
            f"ecr_trigger_{unit}": _number(self.ecr_trigger),
            "currency": self.currency,
            "projected": self.projected,
            "sources": dict(self.sources),
        }


def _number(price: Decimal | None) -> float | None:
    # Whole cents survive the trip through float: prices here have at most two decimals and are far below 2**53.
    return None if price is None else float(price)


def schedule_years(program: Program) -> range:
    """The years `year_schedule` accepts: published reserve prices, then projections to the last budget."""
    years = program.price_years()
    if years is None:
        msg = f"program {program.id!r} has no auction reserve price in its rulebook, so no price schedule"
        raise InputError(msg)
    return years


def year_schedule(
    program: Program,
    year: int,
    cpi: float | None = None,
    exchange_rate_cad_per_usd: float | Decimal | None = None,
) -> YearSchedule:
    """The price schedule of `year`.

    `cpi` (a yearly rate, 0.03 = 3%) replaces the rulebooks' default CPI assumption in projected years.
    `exchange_rate_cad_per_usd` applies to a linked market whose members price in different currencies (wci):
    with it the reserve price is the joint floor, the higher of the members' prices in the market's currency,
    the converted ones rounded up to the cent (a floor rounded down would let a bid below a member's minimum
    win); without it the market reports the reserve price of the member it names (California) and says so.
    """
    _check_year(program, year)
    rate = _check_rate(program, exchange_rate_cad_per_usd)
    sources: dict[str, str] = {}
    floor = program.auction_reserve_price(year, cpi)
    points: list[PricePoint] = [floor]
    reserve_price = floor.price
    sources["reserve_price"] = _cite(floor)
    if program.is_linkage:
        reserve_price, note, member_points = _joint_floor(program, year, cpi, rate, floor)
        points += member_points
        sources["reserve_price"] = note
    tiers = program.tier_prices(year, cpi)
    points += [t.point for t in tiers]
    tier_prices = tuple(t.point.price for t in tiers if t.role == "tier")
    if tier_prices:
        sources["tier_prices"] = "; ".join(f"{t.tier}: {_cite(t.point)}" for t in tiers if t.role == "tier")
    ceiling = _one(tiers, "price_ceiling", None, "price_ceiling", sources)
    ccr = _one(tiers, "trigger", "price_containment", "ccr_trigger", sources)
    ecr = _one(tiers, "trigger", "emissions_containment", "ecr_trigger", sources)
    return YearSchedule(
        year=year,
        currency=program.currency,
        reserve_price=reserve_price,
        tier_prices=tier_prices,
        price_ceiling=ceiling,
        ccr_trigger=ccr,
        ecr_trigger=ecr,
        projected=any(p.projected for p in points),
        sources=sources,
    )


def price_schedule(
    program: Program,
    first: int,
    last: int,
    cpi: float | None = None,
    exchange_rate_cad_per_usd: float | Decimal | None = None,
) -> list[YearSchedule]:
    """`year_schedule` for every year from `first` to `last`, both included."""
    for name, value in (("first", first), ("last", last)):
        if isinstance(value, bool) or not isinstance(value, int):
            msg = f"{name} year must be a whole year such as 2016; found {value!r}"
            raise InputError(msg)
    if first > last:
        msg = f"the first year {first} is after the last year {last}; give the earlier year first"
        raise InputError(msg)
    # Check both ends before computing anything, so the error names the range the user asked for.
    _check_year(program, first)
    _check_year(program, last)
    return [year_schedule(program, y, cpi, exchange_rate_cad_per_usd) for y in range(first, last + 1)]


# ------------------------------------------------------------------------------------------------------------


def _check_year(program: Program, year: int) -> None:
    if isinstance(year, bool) or not isinstance(year, int):
        msg = f"year must be a whole year such as 2016; found {year!r}"
        raise InputError(msg)
    years = schedule_years(program)
    if year not in years:
        published = program.price_program.rulebook.auction.reserve_price.published.years  # type: ignore[union-attr]
        msg = (
            f"{program.id} has a price schedule for {years.start}-{years.stop - 1} only "
            f"(published to {published[-1]}, projected after that to its last budget year); found {year}. "
            f"Pick years in {years.start}-{years.stop - 1}"
        )
        raise InputError(msg)


def _check_rate(program: Program, rate: float | Decimal | None) -> Decimal | None:
    if rate is None:
        return None
    if (
        isinstance(rate, bool)
        or not isinstance(rate, (int, float, Decimal))
        or not math.isfinite(float(rate))
    ):
        msg = f"exchange rate must be a number of CAD per USD such as 1.30; found {rate!r}"
        raise InputError(msg)
    value = rate if isinstance(rate, Decimal) else Decimal(repr(float(rate)))
    if value <= 0:
        msg = f"exchange rate must be positive (CAD per USD, such as 1.30); found {rate!r}"
        raise InputError(msg)
    if not program.is_linkage:
        msg = (
            f"an exchange rate applies only to a linked market whose members price in different currencies "
            f"(wci); {program.id} prices in {program.currency} alone. Drop the exchange rate"
        )
        raise InputError(msg)
    return value


def _joint_floor(
    program: Program, year: int, cpi: float | None, rate: Decimal | None, reported: PricePoint
) -> tuple[Decimal, str, list[PricePoint]]:
    """The linked market's floor of `year`, a note saying how it was found, and the member prices it used."""
    assert program.market is not None  # the loader resolves every linkage
    owner = program.price_program
    foreign, skipped, compared = [], [], []
    for membership in program.market.active(year):
        if membership.program is None:
            skipped.append(membership.jurisdiction)  # no shipped rulebook, so no price to compare
            continue
        member = program.member_program(membership.jurisdiction)
        if member.id == owner.id:
            continue
        point = member.auction_reserve_price(year, cpi)
        if point.currency == program.currency:
            compared.append((membership.jurisdiction, point, point.price, ""))
        elif rate is None:
            foreign.append(f"{membership.jurisdiction} ({point.currency})")
        else:
            converted = _convert(point, program.currency, rate)
            per = f"{point.currency} per {program.currency}"
            how = f" = {point.price} {point.currency} / {rate} {per}, rounded up"
            compared.append((membership.jurisdiction, point, converted, how))
    floor, parts = (
        reported.price,
        [f"{owner.jurisdictions[0]} {reported.price} {reported.currency}: {_cite(reported)}"],
    )
    for jurisdiction, point, converted, how in compared:
        floor = max(floor, converted)
        parts.append(f"{jurisdiction} {converted} {program.currency}{how}: {_cite(point)}")
    if compared:
        note = "joint floor, the highest of " + "; ".join(parts)
    else:
        note = f"{owner.name} reserve price: {_cite(reported)}"
    if foreign:
        note += (
            f". Not compared: the minimum price of {', '.join(foreign)}, which needs an exchange rate "
            "(exchange_rate_cad_per_usd, --exchange-rate)"
        )
    if skipped:
        note += f". Not compared: {', '.join(skipped)} (no rulebook shipped)"
    return floor, note, [point for _, point, _, _ in compared]


def _convert(point: PricePoint, currency: str, rate_cad_per_usd: Decimal) -> Decimal:
    if (point.currency, currency) == ("CAD", "USD"):
        return (point.price / rate_cad_per_usd).quantize(CENT, rounding=ROUND_CEILING)
    if (point.currency, currency) == ("USD", "CAD"):
        return (point.price * rate_cad_per_usd).quantize(CENT, rounding=ROUND_CEILING)
    msg = f"cannot convert {point.currency} to {currency}: only CAD and USD are supported"
    raise InputError(msg)


def _one(
    tiers: list[TierPrice], role: str, reserve_kind: str | None, name: str, sources: dict[str, str]
) -> Decimal | None:
    # The rulebook validator allows at most one tier per role and reserve kind, so the first match is the one.
    for tier in tiers:
        if tier.role == role and (reserve_kind is None or tier.reserve_kind == reserve_kind):
            sources[name] = f"{tier.reserve}.{tier.tier}: {_cite(tier.point)}"
            return tier.point.price
    return None


def _cite(point: PricePoint) -> str:
    return f"{point.source} [{point.status}]"
