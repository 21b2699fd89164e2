"""Historical responsibility: a country's share of the world's fossil and industrial CO2, over years and in one year.

The shipped table `owid_national_co2.csv` (Our World in Data, Dec 2020 release: Global Carbon Project and CDIAC)
holds annual production-based CO2 by country and for the World from 1751 to 2018, in MtCO2.

`cumulative_share` over `first_year..last_year` is the country's CO2 summed over those years divided by the World's
summed over the same years. OWID's own `cumulative_co2_mt` column is the running sum from 1751 (the first year of
its data), so for `first_year = 1751` the sums here equal OWID's cumulative figures for `last_year` (to rounding),
and the share equals country cumulative / world cumulative; a later first year leaves the earlier emissions out.
The World row includes what no country is assigned (international aviation and shipping, former states without an
ISO code), so shares of all countries add up to a little less than one. A year for which the country has no figure
counts as zero, as in OWID's cumulative column (most countries' series start when their first emissions are
recorded); the result says how many years of the span the country has figures for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from functools import cache
from typing import Any

from openets.actions.lookup import find_code
from openets.data import table
from openets.errors import InputError

TABLE = "owid_national_co2.csv"
WORLD = "OWID_WRL"
SOURCE = "Our World in Data CO2 dataset (Dec 2020 release; Global Carbon Project, CDIAC), via owid_national_co2.csv"


@dataclass(frozen=True)
class EmissionsShare:
    """A country's share of World CO2 over `first_year..last_year` (both included) and in `last_year`."""

    iso_code: str
    country: str
    first_year: int
    last_year: int
    cumulative_share: float  # fraction of the World total, 0..1
    last_year_share: float  # fraction of the World total in last_year, 0..1
    country_cumulative_mt: float
    world_cumulative_mt: float
    country_last_year_mt: float
    world_last_year_mt: float
    country_years_with_data: int  # years of the span with a figure for the country (the others count as zero)
    source: str = SOURCE

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def share(
    country_mt: Mapping[int, float],
    world_mt: Mapping[int, float],
    first_year: int,
    last_year: int,
    *,
    iso_code: str = "",
    country: str = "",
) -> EmissionsShare:
    """Cumulative and last-year share of a country's CO2 in the World's, from annual series in MtCO2.

    Args:
        country_mt: the country's CO2 by year (MtCO2); missing years count as zero.
        world_mt: the World's CO2 by year (MtCO2); must cover every year of the span.
        first_year: first year summed (included).
        last_year: last year summed (included); also the year of `last_year_share`.
        iso_code, country: names carried into the result and the error messages.
    """
    label = f"{country} ({iso_code})" if country else iso_code or "the country"
    if first_year > last_year:
        msg = f"--from {first_year} is after --to {last_year}; give the earlier year with --from"
        raise InputError(msg)
    span = range(first_year, last_year + 1)
    if not world_mt:
        msg = "no World CO2 series given; pass the World's annual CO2 (MtCO2) by year"
        raise InputError(msg)
    known = f"{min(world_mt)}-{max(world_mt)}"
    missing = [y for y in span if y not in world_mt]
    if missing:
        msg = (
            f"no World CO2 figure for {missing[0]}" + (f" (and {len(missing) - 1} more years)" if len(missing) > 1 else "")
            + f": the shipped CO2 table covers {known}; give --from and --to within {known}"
        )
        raise InputError(msg)
    if last_year not in country_mt:
        years = sorted(country_mt)
        have = f"{years[0]}-{years[-1]}" if years else "no years"
        msg = (
            f"no CO2 figure for {label} in {last_year} (its figures cover {have}); "
            f"give a --to year with a figure for the last-year share"
        )
        raise InputError(msg)
    country_sum = sum(country_mt.get(y, 0.0) for y in span)
    world_sum = sum(world_mt[y] for y in span)
    if world_sum <= 0:
        msg = f"the World's CO2 over {first_year}-{last_year} sums to {world_sum} Mt; no share can be taken of it"
        raise InputError(msg)
    return EmissionsShare(
        iso_code=iso_code,
        country=country,
        first_year=first_year,
        last_year=last_year,
        cumulative_share=country_sum / world_sum,
        last_year_share=country_mt[last_year] / world_mt[last_year],
        country_cumulative_mt=round(country_sum, 3),
        world_cumulative_mt=round(world_sum, 3),
        country_last_year_mt=country_mt[last_year],
        world_last_year_mt=world_mt[last_year],
        country_years_with_data=sum(1 for y in span if y in country_mt),
    )


# --- the shipped table --------------------------------------------------------------------------------------


@cache
def _series() -> dict[str, dict[int, float]]:
    out: dict[str, dict[int, float]] = {}
    for r in table(TABLE):
        out.setdefault(r["iso_code"], {})[int(r["year"])] = float(r["co2_mt"])
    return out


@cache
def _names() -> dict[str, str]:
    return {r["iso_code"]: r["country"] for r in table(TABLE)}


def resolve_country(name_or_code: str) -> str:
    """The ISO 3166-1 alpha-3 code (or OWID_WRL for the World) of a code or country name, any case."""
    names = _names()
    code, hint = find_code(name_or_code, names)
    if code is not None:
        return code
    msg = (
        f"unknown country {name_or_code!r} in {TABLE}: give an ISO 3166-1 alpha-3 code such as USA, or a country "
        f"name as OWID spells it, or {WORLD} for the World" + hint
    )
    raise InputError(msg)


def country_name(iso3: str) -> str:
    """OWID's name of a country code from `resolve_country`."""
    return _names()[resolve_country(iso3)]


def national_co2(iso3: str) -> dict[int, float]:
    """Annual production-based CO2 of a country (or OWID_WRL for the World), MtCO2 by year, from the shipped OWID
    table; only years with a figure. Accepts a country name too."""
    return dict(_series()[resolve_country(iso3)])


def country_share(name_or_code: str, first_year: int, last_year: int) -> EmissionsShare:
    """`share` of a country against the World, on the shipped table."""
    code = resolve_country(name_or_code)
    return share(
        national_co2(code), national_co2(WORLD), first_year, last_year, iso_code=code, country=_names()[code]
    )
