"""Actors of bottom-up climate action (nation, states, cities, companies, investors, foundations, universities),
their nested geography, the coalitions they join and the yearly state figures that measure them.

Geography is a tree by FIPS code: a city sits in its state (and, where a county is known, in that county), a state
in the nation. The national base is the 50 states plus DC, as in the Census and EPA state tables; Puerto Rico and
other territories are actors (Puerto Rico is a US Climate Alliance member) but sit outside that base.

Membership dates are often known only to the month or the year, or only as "a member by" some date. Such a
membership is counted from the *last* day its start could be (a member "in 2019" counts from 2019-12-31) and ends
on the *first* day its end could be (a member that left "in 2022" is gone from 2022-01-01): an actor is never counted
on a day it might not have been a member.
"""

from __future__ import annotations

import calendar
import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Literal

from openets.data import table
from openets.errors import InputError

Kind = Literal["nation", "state", "territory", "county", "city", "company", "investor", "foundation", "university"]
KINDS: tuple[str, ...] = ("nation", "state", "territory", "county", "city", "company", "investor", "foundation",
                          "university")
GEOGRAPHIES = frozenset({"nation", "state", "territory", "county", "city"})
ORGANISATIONS = frozenset({"company", "investor", "foundation", "university"})
NATION = "US"

ACTORS = "actions_actors.csv"
COALITIONS = "actions_coalitions.csv"
MEMBERSHIPS = "actions_memberships.csv"
STATES = "actions_us_states_annual.csv"


@dataclass(frozen=True)
class Actor:
    """One actor. `parent_id` is the geography it sits in (organisations: the nation they are counted in).

    `population_2019` is set for cities (Census vintage 2019); states take their figures from the yearly state
    table. `emissions_mtco2e` is an organisation's own direct emissions where a public figure is shipped.
    """

    id: str
    name: str
    kind: str
    parent_id: str | None = None
    state_fips: str | None = None
    county_fips: str | None = None
    population_2019: int | None = None
    population_source: str = ""
    emissions_mtco2e: float | None = None
    emissions_year: int | None = None
    emissions_source: str = ""
    source: str = ""

    @property
    def is_geography(self) -> bool:
        return self.kind in GEOGRAPHIES


@dataclass(frozen=True)
class Membership:
    """An actor's membership of a coalition. `start_basis` says what the start date means: `joined` (the day it
    joined), `signed_statement` (it signed the coalition's statement that day) or `known_member_by` (only known to
    be a member by then; it may have joined earlier)."""

    coalition_id: str
    actor_id: str
    start: str
    start_precision: str
    start_basis: str
    end: str | None
    end_precision: str | None
    source: str

    @property
    def counted_from(self) -> date:
        return _last_day(self.start, self.start_precision)

    @property
    def counted_until(self) -> date | None:
        """The first day the actor is no longer counted (None: still a member as far as the data go)."""
        return _first_day(self.end, self.end_precision) if self.end else None

    def active_on(self, day: date) -> bool:
        until = self.counted_until
        return self.counted_from <= day and (until is None or day < until)


@dataclass(frozen=True)
class Coalition:
    id: str
    name: str
    kind: str
    founded: str
    source: str


@dataclass(frozen=True)
class StateYear:
    """Figures of one state (or DC, or Puerto Rico) in one year; None where the source has no figure."""

    actor_id: str
    year: int
    population: int | None
    gdp_current_musd: float | None
    gross_ghg_mtco2e: float | None


@dataclass
class ActorBook:
    """Actors, coalitions and memberships, with lookups that explain what is valid when a name is not found."""

    actors: dict[str, Actor]
    coalitions: dict[str, Coalition]
    memberships: list[Membership]
    states: dict[tuple[str, int], StateYear] = field(default_factory=dict)

    def actor(self, actor_id: str) -> Actor:
        try:
            return self.actors[actor_id]
        except KeyError:
            pass
        by_name = [a for a in self.actors.values() if a.name.casefold() == actor_id.casefold()]
        if len(by_name) == 1:
            return by_name[0]
        near = difflib.get_close_matches(actor_id, list(self.actors), n=4, cutoff=0.5)
        hint = f"; did you mean {', '.join(near)}?" if near else ""
        msg = (f"unknown actor {actor_id!r} (actors are ids such as US-CA, US-NY:new-york-city, walmart){hint} "
               "- `openets actions list` shows them all")
        raise InputError(msg)

    def coalition(self, name: str) -> Coalition:
        key = name.strip().casefold()
        for c in self.coalitions.values():
            if key in (c.id.casefold(), c.name.casefold()):
                return c
        known = ", ".join(f"{c.id} ({c.name})" for c in self.coalitions.values())
        msg = f"unknown coalition {name!r}; known coalitions: {known} - give the id or the full name"
        raise InputError(msg)

    def members(self, coalition: str, on: date) -> list[Actor]:
        """Actors that were members of `coalition` (id or name) on `on`."""
        cid = self.coalition(coalition).id
        return [self.actors[m.actor_id] for m in self.memberships if m.coalition_id == cid and m.active_on(on)]

    def memberships_of(self, actor_id: str) -> list[Membership]:
        return [m for m in self.memberships if m.actor_id == actor_id]

    def ancestors(self, actor_id: str) -> list[str]:
        """Geographic ancestors of an actor, nearest first (a city: its county if known, its state, the nation)."""
        out: list[str] = []
        actor = self.actors[actor_id]
        if actor.county_fips and actor.kind != "county":
            # A county's id is "<state id>:county-<county FIPS>"; a city naming that code sits inside it.
            county = f"{actor.parent_id}:county-{actor.county_fips}"
            if county in self.actors and county != actor_id:
                out.append(county)
        parent = actor.parent_id
        while parent:
            out.append(parent)
            parent = self.actors[parent].parent_id if parent in self.actors else None
        return out

    def in_national_base(self, actor_id: str) -> bool:
        """True for the 50 states, DC and everything inside them (territories are outside)."""
        chain = [actor_id, *self.ancestors(actor_id)]
        return NATION in chain and not any(self.actors[a].kind == "territory" for a in chain if a in self.actors)

    def of_kind(self, kinds: Iterable[str]) -> list[Actor]:
        wanted = set(kinds)
        unknown = wanted - set(KINDS)
        if unknown:
            msg = f"unknown actor kind(s) {', '.join(sorted(unknown))}; kinds are {', '.join(KINDS)}"
            raise InputError(msg)
        return [a for a in self.actors.values() if a.kind in wanted]

    # --- yearly state figures ---------------------------------------------------------------------------------

    def state_year(self, state_id: str, year: int) -> StateYear:
        try:
            return self.states[(state_id, year)]
        except KeyError:
            msg = f"no state figures for {state_id} in {year} (shipped: {self.years('any')[0]}-{self.years('any')[-1]})"
            raise InputError(msg) from None

    def base_states(self) -> list[str]:
        """Ids of the 50 states and DC (the national base)."""
        return [a.id for a in self.actors.values() if a.kind == "state"]

    def years(self, measure: str) -> list[int]:
        """Years in which every base state has a figure for `measure` (population, gdp_current_musd,
        gross_ghg_mtco2e; `any` for all years of the table)."""
        years = sorted({y for (_, y) in self.states})
        if measure == "any":
            return years
        base = self.base_states()
        return [y for y in years if all(getattr(self.states.get((s, y)), measure, None) is not None for s in base)]

    def national(self, measure: str, year: int) -> float:
        """National (50 states + DC) total of a measure in a year."""
        return float(sum(getattr(self.state_year(s, year), measure) for s in self.base_states()))


def _last_day(text: str, precision: str) -> date:
    parts = [int(p) for p in text.split("-")]
    if precision == "day" or len(parts) == 3:
        return date(parts[0], parts[1], parts[2])
    if precision == "month" or len(parts) == 2:
        return date(parts[0], parts[1], calendar.monthrange(parts[0], parts[1])[1])
    return date(parts[0], 12, 31)


def _first_day(text: str, precision: str | None) -> date:
    parts = [int(p) for p in text.split("-")]
    return date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)


def _int(text: str) -> int | None:
    return int(text) if text else None


def _float(text: str) -> float | None:
    return float(text) if text else None


def actors_from_rows(rows: Iterable[Mapping[str, str]]) -> dict[str, Actor]:
    """Actors from rows with the columns of actions_actors.csv. `county_fips` (a city's county, or a county's own
    code) is optional: with it a city nests in its county, and the county in its state."""
    return {
        r["actor_id"]: Actor(
            id=r["actor_id"], name=r["name"], kind=r["kind"], parent_id=r["parent_id"] or None,
            state_fips=r["state_fips"] or None, county_fips=r.get("county_fips") or None,
            population_2019=_int(r["population_2019"]), population_source=r["population_source"],
            emissions_mtco2e=_float(r["emissions_mtco2e"]), emissions_year=_int(r["emissions_year"]),
            emissions_source=r["emissions_source"], source=r["source"])
        for r in rows
    }


@cache
def load_actors() -> ActorBook:
    """The shipped actors, coalitions, memberships and state figures (see data/MANIFEST.md)."""
    actors = actors_from_rows(table(ACTORS))
    coalitions = {r["coalition_id"]: Coalition(r["coalition_id"], r["name"], r["kind"], r["founded"], r["source"])
                  for r in table(COALITIONS)}
    memberships = [
        Membership(r["coalition_id"], r["actor_id"], r["start"], r["start_precision"], r["start_basis"],
                   r["end"] or None, r["end_precision"] or None, r["source"])
        for r in table(MEMBERSHIPS)
    ]
    states = {
        (f"US-{r['state_postal']}", int(r["year"])): StateYear(
            f"US-{r['state_postal']}", int(r["year"]), _int(r["population"]), _float(r["gdp_current_musd"]),
            _float(r["gross_ghg_mtco2e"]))
        for r in table(STATES)
    }
    return ActorBook(actors=actors, coalitions=coalitions, memberships=memberships, states=states)


def book_with(extra: Sequence[Actor], base: ActorBook | None = None) -> ActorBook:
    """A copy of `base` (default: the shipped book) with more actors, e.g. a user's own companies."""
    book = base or load_actors()
    actors = dict(book.actors)
    for a in extra:
        actors[a.id] = a
    return ActorBook(actors=actors, coalitions=dict(book.coalitions), memberships=list(book.memberships),
                     states=book.states)
