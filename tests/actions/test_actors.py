"""Actors, nested geography, coalitions and membership periods."""

from __future__ import annotations

import csv
from datetime import date

import pytest

from openets.actions.actors import Membership, actors_from_rows, book_with, load_actors
from openets.errors import InputError


@pytest.fixture(scope="module")
def book():
    return load_actors()


def test_state_figures_match_the_census_and_epa(book):
    # Census NST-EST2019, shared/data/actions/us_states_annual.csv: California 2019 = 39,512,223.
    assert book.state_year("US-CA", 2019).population == 39_512_223
    # Census vintage 2019: the 50 states + DC in 2019 = 328,239,523 (the national estimate).
    assert book.national("population", 2019) == 328_239_523
    # EPA state inventory, 50 states + DC, 2005 (shared/data/MANIFEST.md): 7,357.7 Mt.
    assert book.national("gross_ghg_mtco2e", 2005) == pytest.approx(7357.7, abs=0.05)


def test_cities_nest_in_states_and_states_in_the_nation(book):
    # Census SUB-IP-EST2019-ANNRNK: Los Angeles city, July 1 2019 = 3,979,576.
    la = book.actor("US-CA:los-angeles")
    assert la.population_2019 == 3_979_576
    assert book.ancestors(la.id) == ["US-CA", "US"]
    assert book.in_national_base(la.id)
    # Puerto Rico is a USCA member but outside the 50-states-plus-DC base.
    assert book.actor("US-PR").kind == "territory"
    assert not book.in_national_base("US-PR")


def test_county_fips_is_read_so_a_city_nests_in_its_county(book):
    header = ("actor_id,name,kind,parent_id,state_fips,county_fips,population_2019,population_source,"
              "emissions_mtco2e,emissions_year,emissions_source,source")
    rows = csv.DictReader([header, "US-WA:county-033,King County,county,US-WA,53,033,2250000,test,,,,test",
                           "US-WA:kent-test,Kent (test),city,US-WA,53,033,130000,test,,,,test"])
    actors = actors_from_rows(rows)
    assert actors["US-WA:kent-test"].county_fips == "033"
    nested = book_with(list(actors.values()), book)
    assert nested.ancestors("US-WA:kent-test") == ["US-WA:county-033", "US-WA", "US"]
    # The shipped table has the column, empty: no shipped city names a county.
    assert all(a.county_fips is None for a in book.actors.values())


def test_every_kind_of_actor_the_issue_names_is_shipped(book):
    kinds = {a.kind for a in book.actors.values()}
    assert {"nation", "state", "territory", "city", "company", "investor", "foundation"} <= kinds
    assert book.actor("blackrock").kind == "investor"
    assert book.actor("Bezos Earth Fund").id == "bezos-earth-fund"  # names work too


def test_usca_end_of_2019_has_24_states_and_puerto_rico(book):
    # shared/data/MANIFEST.md (us_climate_alliance_members.csv caveats): 24 states + PR at the end of 2019.
    members = book.members("usca", date(2019, 12, 31))
    assert len(members) == 25
    assert sum(a.kind == "state" for a in members) == 24
    assert "US-LA" not in {a.id for a in members}  # Louisiana joined 7 May 2021


def test_imprecise_dates_count_only_when_membership_is_certain(book):
    # Maine joined between the Wisconsin (12 Feb 2019, 21 governors) and Nevada (12 Mar 2019, 23 governors) releases
    # (shared us_climate_alliance_members.csv): a member by 12 Mar 2019, counted from that day.
    maine = book.memberships_of("US-ME")[0]
    assert (maine.start, maine.start_precision, maine.start_basis) == ("2019-03-12", "day", "known_member_by")
    assert "US-ME" not in {a.id for a in book.members("usca", date(2019, 3, 11))}
    assert "US-ME" in {a.id for a in book.members("usca", date(2019, 3, 12))}
    assert "US-ME" in {a.id for a in book.members("usca", date(2019, 6, 30))}
    # Virginia left in 2022 (date unknown): gone from 2022-01-01. Montana left on 2021-07-09.
    assert "US-VA" in {a.id for a in book.members("usca", date(2021, 12, 31))}
    assert "US-VA" not in {a.id for a in book.members("usca", date(2022, 1, 1))}
    assert "US-MT" in {a.id for a in book.members("usca", date(2021, 7, 8))}
    assert "US-MT" not in {a.id for a in book.members("usca", date(2021, 7, 9))}


def test_membership_periods_with_month_precision():
    m = Membership("x", "US-MT", "2019-07", "month", "joined", None, None, "test")
    assert m.counted_from == date(2019, 7, 31)
    assert not m.active_on(date(2019, 7, 30)) and m.active_on(date(2019, 7, 31))


def test_every_membership_names_its_source(book):
    assert all(m.source for m in book.memberships)
    assert {m.coalition_id for m in book.memberships} == {"usca", "wasi", "climate-mayors", "tci"}
    # Georgetown Climate Center, 18 Dec 2018: nine states and DC.
    assert len(book.members("tci", date(2018, 12, 18))) == 10
    assert book.members("tci", date(2018, 12, 17)) == []


def test_unknown_names_say_what_is_valid(book):
    with pytest.raises(InputError, match="unknown coalition 'nope'; known coalitions: usca"):
        book.coalition("nope")
    with pytest.raises(InputError, match="did you mean US-CA"):
        book.actor("US-CAA")
    with pytest.raises(InputError, match="kinds are nation, state"):
        book.of_kind(["planet"])
