"""Coverage: the share of national population, GDP and emissions a set of coalitions or actors covers on a date,
each person, dollar and tonne counted once, with the naive sum of members' own figures beside it.

Rules (also in docs/coverage_vs_americas_pledge.md):

* National base: the 50 states plus DC. Territories (Puerto Rico) are outside the base and reported apart.
* Data years: each measure uses its latest year not after the date (state population 2010-2024, GDP 1997-2024,
  gross GHG 1990-2020); the years used are returned.
* Union of geographies: an actor inside a counted actor (a city in a member state, a city in a member county) adds
  nothing; a state replaces its member cities. Counted places of one state that add up to more than the state
  (overlapping places, a wrong population) are refused, as is a share above 100%: nothing is clamped.
* Cities: population is the Census 2019 estimate moved with the state's population; GDP and emissions are the
  state's per-person figures times the city's population (a proxy: no city GDP or inventory is shipped).
* Organisations (companies, investors, foundations, universities) add no population and no GDP: revenue is not
  value added, and the value a company adds is already inside the GDP of the states it works in. Where a company's
  direct emissions are shipped, they are assumed to be located like national emissions, so the part inside
  covered jurisdictions is already counted: covered = G + sum(E_c) * (1 - G / E_national), with G the covered
  emissions of the geographies. This keeps coverage at or below 100% and never lowers it when an actor is added.
* Dates: a date before a measure's first year, before a requested coalition's first shipped membership, or after
  the shipped memberships is refused with the range that is covered.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from openets.actions.actors import ActorBook, load_actors
from openets.data import table
from openets.errors import InputError

MEASURES = ("population", "gdp", "emissions")
COLUMNS = {"population": "population", "gdp": "gdp_current_musd", "emissions": "gross_ghg_mtco2e"}
UNITS = {"population": "persons", "gdp": "million current USD", "emissions": "MtCO2e gross (AR4, excl. LULUCF)"}
# Memberships are shipped up to the US Climate Alliance list of November 2022; later dates would count members
# that may have left and miss those that joined.
MEMBERSHIPS_KNOWN_UNTIL = date(2022, 12, 31)
REPORTED = "actions_coalition_reported.csv"


@dataclass(frozen=True)
class Shares:
    population: float
    gdp: float
    emissions: float

    def to_json(self) -> dict[str, float]:
        return {"population_share": self.population, "gdp_share": self.gdp, "emissions_share": self.emissions}


@dataclass(frozen=True)
class Coverage:
    """Coverage on a date. Shares are fractions of the national (50 states + DC) totals."""

    on: date
    coalitions: tuple[str, ...]
    requested_actors: tuple[str, ...]
    data_years: dict[str, int]
    shares: Shares
    naive: Shares
    covered: dict[str, float]
    national: dict[str, float]
    members: tuple[str, ...]
    counted: tuple[str, ...]
    inside_counted: tuple[tuple[str, str], ...]
    without_figures: tuple[str, ...]
    outside_base: tuple[str, ...]
    organisations: tuple[str, ...]
    assumptions: tuple[str, ...]
    reported: tuple[dict[str, str], ...] = field(default=())

    @property
    def population_share(self) -> float:
        return self.shares.population

    @property
    def gdp_share(self) -> float:
        return self.shares.gdp

    @property
    def emissions_share(self) -> float:
        return self.shares.emissions

    def to_json(self) -> dict[str, Any]:
        return {
            "date": self.on.isoformat(),
            "coalitions": list(self.coalitions),
            "actors": list(self.requested_actors),
            **self.shares.to_json(),
            "naive": self.naive.to_json(),
            "data_years": self.data_years,
            "covered": self.covered,
            "national": self.national,
            "units": {m: UNITS[m] for m in MEASURES},
            "members": list(self.members),
            "counted": list(self.counted),
            "inside_counted": [{"actor": a, "inside": b} for a, b in self.inside_counted],
            "without_figures": list(self.without_figures),
            "outside_national_base": list(self.outside_base),
            "organisations": list(self.organisations),
            "assumptions": list(self.assumptions),
            "reported_by_coalitions": list(self.reported),
        }


def data_years(book: ActorBook, on: date) -> dict[str, int]:
    """The year each measure is taken from for a date: its latest year with figures for every state, not after
    the date's year. A date before a measure's first year, or after the memberships shipped, is refused."""
    if on > MEMBERSHIPS_KNOWN_UNTIL:
        msg = (f"date {on.isoformat()} is after the shipped memberships (known to "
               f"{MEMBERSHIPS_KNOWN_UNTIL.isoformat()}, the US Climate Alliance list of Nov 2022); "
               "give --date on or before that day")
        raise InputError(msg)
    out: dict[str, int] = {}
    for m in MEASURES:
        years = book.years(COLUMNS[m])
        usable = [y for y in years if y <= on.year]
        if not usable:
            first = max(book.years(COLUMNS[n])[0] for n in MEASURES)
            msg = (f"date {on.isoformat()} is before the shipped state {m} figures ({years[0]}-{years[-1]}); "
                   f"give --date from {first}-01-01 on")
            raise InputError(msg)
        out[m] = usable[-1]
    return out


def check_membership_dates(book: ActorBook, coalition_id: str, on: date) -> None:
    """Refuse a date before a coalition's shipped memberships begin: no member on it would mean "no data", not
    "no members"."""
    starts = [m.counted_from for m in book.memberships if m.coalition_id == coalition_id]
    name = book.coalitions[coalition_id].name
    if not starts:
        msg = f"no memberships of {coalition_id} ({name}) are shipped; give another coalition or name actors"
        raise InputError(msg)
    first = min(starts)
    if on < first:
        msg = (f"date {on.isoformat()} is before the shipped memberships of {coalition_id} ({name}), which cover "
               f"{first.isoformat()} to {MEMBERSHIPS_KNOWN_UNTIL.isoformat()}; give --date from "
               f"{first.isoformat()} on")
        raise InputError(msg)


def figures(book: ActorBook, actor_id: str, years: dict[str, int]) -> dict[str, float | None]:
    """An actor's own population, GDP (million USD) and emissions (Mt) in the data years; None where no figure is
    shipped. Organisations have zero population and GDP by rule (see the module docstring)."""
    actor = book.actor(actor_id)
    if actor.kind == "nation":
        return {m: book.national(COLUMNS[m], years[m]) for m in MEASURES}
    if actor.kind in ("state", "territory"):
        return {m: _opt(getattr(book.states.get((actor.id, years[m])), COLUMNS[m], None)) for m in MEASURES}
    if actor.kind in ("city", "county"):
        state = actor.parent_id or ""
        base = book.states.get((state, 2019))
        if actor.population_2019 is None or base is None or not base.population:
            return {m: None for m in MEASURES}
        share = actor.population_2019 / base.population
        values = {m: _opt(getattr(book.states.get((state, years[m])), COLUMNS[m], None)) for m in MEASURES}
        return {m: None if v is None else share * v for m, v in values.items()}
    return {"population": 0.0, "gdp": 0.0, "emissions": actor.emissions_mtco2e}


def _opt(value: float | int | None) -> float | None:
    return None if value is None else float(value)


def coverage_of(book: ActorBook, actor_ids: Iterable[str],
                years: dict[str, int]) -> tuple[Shares, Shares, dict[str, Any]]:
    """De-duplicated and naive shares of a set of actors (pure: no dates, no coalitions). The third item holds
    the absolute figures and the bookkeeping (what was counted, nested, without figures, outside the base)."""
    ids = sorted(set(actor_ids))
    national = {m: book.national(COLUMNS[m], years[m]) for m in MEASURES}
    outside = [a for a in ids if book.actor(a).is_geography and not book.in_national_base(a)]
    inside = [a for a in ids if a not in outside]
    own = {a: figures(book, a, years) for a in ids}
    without = [f"{a} ({', '.join(m for m in MEASURES if own[a][m] is None)})"
               for a in ids if any(v is None for v in own[a].values())]
    geos = [a for a in inside if book.actor(a).is_geography]
    orgs = [a for a in inside if not book.actor(a).is_geography]
    chosen = set(geos)
    nested: list[tuple[str, str]] = []
    counted: list[str] = []
    for a in geos:
        parent = next((p for p in book.ancestors(a) if p in chosen), None)
        if parent is None:
            counted.append(a)
        else:
            nested.append((a, parent))
    # Counted cities of one state cannot hold more than the state (a guard against overlapping places).
    by_state: dict[str, dict[str, float]] = {}
    covered = {m: 0.0 for m in MEASURES}
    for a in counted:
        f = {m: own[a][m] or 0.0 for m in MEASURES}
        actor = book.actor(a)
        if actor.kind in ("city", "county") and actor.parent_id:
            acc = by_state.setdefault(actor.parent_id, {m: 0.0 for m in MEASURES})
            for m in MEASURES:
                acc[m] += f[m]
        else:
            for m in MEASURES:
                covered[m] += f[m]
    for state, acc in by_state.items():
        whole = figures(book, state, years)
        for m in MEASURES:
            if whole[m] is not None and acc[m] > whole[m] * (1 + 1e-9):
                places = ", ".join(a for a in counted if book.actor(a).parent_id == state)
                msg = (f"the counted places of {state} ({places}) hold {acc[m]:,.1f} of {m} ({UNITS[m]}), more than "
                       f"the state's {whole[m]:,.1f} in {years[m]}: places overlap or a population is wrong; give a "
                       "city inside a county the county's county_fips so it nests, or correct the population")
                raise InputError(msg)
            covered[m] += acc[m]
    company_em = sum(own[a]["emissions"] or 0.0 for a in orgs)
    if company_em > national["emissions"]:
        msg = (f"organisations' emissions ({company_em:.1f} Mt) exceed the national total "
               f"({national['emissions']:.1f} Mt in {years['emissions']}); check the emissions figures given")
        raise InputError(msg)
    geo_em = covered["emissions"]
    covered["emissions"] = geo_em + company_em * (1.0 - geo_em / national["emissions"])
    # The naive sum adds every member's own figure, territories included, over the 50-states-plus-DC total.
    naive = {m: sum(own[a][m] or 0.0 for a in ids) for m in MEASURES}
    for m in MEASURES:
        if covered[m] > national[m] * (1 + 1e-9):  # not clamped: a share above 1 is an error in the figures
            msg = (f"covered {m} ({covered[m]:,.1f} {UNITS[m]}) exceeds the national total ({national[m]:,.1f} in "
                   f"{years[m]}); check the figures of the actors given: {', '.join(counted + orgs)}")
            raise InputError(msg)
    shares = Shares(*(covered[m] / national[m] for m in MEASURES))
    naive_shares = Shares(*(naive[m] / national[m] for m in MEASURES))
    detail = {
        "covered": covered, "national": national, "counted": counted, "nested": nested, "without": without,
        "outside": outside, "orgs": [a for a in orgs],
    }
    return shares, naive_shares, detail


def coverage(on: date, coalitions: Sequence[str] = (), actors: Sequence[str] = (),
             book: ActorBook | None = None) -> Coverage:
    """Coverage of the members of `coalitions` on `on` plus the named `actors` (ids or names)."""
    book = book or load_actors()
    if not coalitions and not actors:
        known = ", ".join(book.coalitions)
        msg = f"nothing to cover: give at least one coalition ({known}) or actor id"
        raise InputError(msg)
    cids = tuple(book.coalition(c).id for c in coalitions)
    requested = tuple(book.actor(a).id for a in actors)
    years = data_years(book, on)
    for cid in cids:
        check_membership_dates(book, cid, on)
    members = sorted({a.id for c in cids for a in book.members(c, on)} | set(requested))
    shares, naive, d = coverage_of(book, members, years)
    assumptions = [
        "national base: 50 states + DC (Census population, BEA current-dollar GDP, EPA state gross GHG excl. LULUCF)",
        "each measure from its latest year not after the date: " + ", ".join(f"{m} {y}" for m, y in years.items()),
        "union of geographies: cities inside a counted state add nothing",
        "cities: Census 2019 population moved with the state; GDP and emissions as the state's per-person figures",
        "organisations add no population or GDP; their shipped direct emissions are located like national emissions",
        "memberships with a month or year only count from the last possible day; 'member by' dates from that day",
    ]
    if d["without"]:
        assumptions.append(f"{len(d['without'])} member(s) lack shipped figures (counted as zero): "
                           + ", ".join(d["without"]))
    if d["outside"]:
        assumptions.append("outside the 50-states-plus-DC base, left out of the de-duplicated figure but added "
                           "by the naive sum: " + ", ".join(d["outside"]))
    return Coverage(
        on=on, coalitions=cids, requested_actors=requested, data_years=years, shares=shares, naive=naive,
        covered=d["covered"], national=d["national"], members=tuple(members), counted=tuple(d["counted"]),
        inside_counted=tuple(d["nested"]), without_figures=tuple(d["without"]), outside_base=tuple(d["outside"]),
        organisations=tuple(d["orgs"]), assumptions=tuple(assumptions),
        reported=tuple(reported_figures(cids, on, comparison=len(cids) > 1)),
    )


def reported_figures(coalitions: Sequence[str], on: date, comparison: bool = False) -> list[dict[str, str]]:
    """What the coalitions said of themselves (latest figure per metric not after `on`), and America's Pledge's
    own shares when several coalitions are asked together (`comparison`). For comparison only."""
    wanted = set(coalitions) | ({"americas-pledge"} if comparison else set())
    rows: dict[tuple[str, str], list[dict[str, str]]] = {}
    for r in table(REPORTED):
        if r["coalition_id"] in wanted:
            rows.setdefault((r["coalition_id"], r["metric"]), []).append(dict(r))
    out = []
    for (cid, _), found in sorted(rows.items()):
        found.sort(key=lambda r: r["as_of"])
        before = [r for r in found if date.fromisoformat(r["as_of"]) <= on]
        if before:
            out.append(before[-1])
        elif cid == "americas-pledge":  # the comparison is shown even for dates before its first report
            out.append(found[0])
    return out
