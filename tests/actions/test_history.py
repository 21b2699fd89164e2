"""A country's share of historical CO2: the rule on constructed series, then the shipped OWID table."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from openets.actions import history
from openets.actions.history import WORLD, country_share, national_co2, share
from openets.actions.paris_cli import history_app
from openets.data import table
from openets.errors import InputError

runner = CliRunner()


# --- the rule ------------------------------------------------------------------------------------------------


def test_shares_are_sums_over_the_span_and_the_last_year():
    country = {2000: 1.0, 2001: 3.0, 2002: 2.0}
    world = {2000: 10.0, 2001: 10.0, 2002: 20.0}
    s = share(country, world, 2000, 2001)
    assert s.cumulative_share == pytest.approx(4 / 20)
    assert s.last_year_share == pytest.approx(3 / 10)
    assert (s.country_cumulative_mt, s.world_cumulative_mt) == (4.0, 20.0)
    assert share(country, world, 2002, 2002).cumulative_share == pytest.approx(0.1)


def test_years_without_a_country_figure_count_as_zero_and_are_reported():
    s = share({2001: 5.0}, {2000: 10.0, 2001: 10.0}, 2000, 2001)
    assert s.cumulative_share == pytest.approx(5 / 20)
    assert s.country_years_with_data == 1


def test_bad_spans_are_refused_with_what_to_give():
    world = {y: 1.0 for y in range(1751, 2019)}
    with pytest.raises(InputError, match="--from 2018 is after --to 2000; give the earlier year with --from"):
        share({2000: 1.0}, world, 2018, 2000)
    with pytest.raises(InputError, match=r"no World CO2 figure for 1700 \(and 50 more years\): the shipped CO2 table "
                                         r"covers 1751-2018; give --from and --to within 1751-2018"):
        share({2000: 1.0}, world, 1700, 2000)
    with pytest.raises(InputError, match=r"no CO2 figure for Aruba \(ABW\) in 1900 \(its figures cover 2000-2000\)"):
        share({2000: 1.0}, world, 1800, 1900, iso_code="ABW", country="Aruba")


# --- the shipped table (Our World in Data, CO2 dataset, Dec 2020 release) ------------------------------------


def test_us_share_of_cumulative_co2_1751_2017_is_about_a_quarter():
    # OWID co2-data (owid/co2-data@2a6c4a2, shared/data/actions/owid_co2_by_country_2020.csv): cumulative CO2 of
    # the United States 399,353.121 Mt and of the World 1,575,244.298 Mt at 2017, i.e. 25.35%.
    s = country_share("USA", 1751, 2017)
    assert s.cumulative_share == pytest.approx(399_353.121 / 1_575_244.298, abs=1e-5)
    assert 0.24 < s.cumulative_share < 0.26
    assert s.country_years_with_data == 267


def test_us_share_of_2018_emissions_is_about_15_percent():
    # OWID co2-data (same file): US 5,416.278 Mt of the World's 36,572.754 Mt in 2018; OWID's share column: 14.81%.
    s = country_share("USA", 1751, 2018)
    assert s.last_year_share == pytest.approx(0.1481, abs=5e-5)
    assert 0.13 <= s.last_year_share <= 0.15
    assert (s.country_last_year_mt, s.world_last_year_mt) == (5416.278, 36572.754)


def test_sums_from_1751_equal_owids_cumulative_column():
    cumulative = {(r["iso_code"], int(r["year"])): float(r["cumulative_co2_mt"]) for r in table(history.TABLE)}
    for iso in ("USA", "CHN", "GBR", "DEU", "IND", WORLD):
        series = national_co2(iso)
        last = max(series)
        assert sum(series.values()) == pytest.approx(cumulative[(iso, last)], abs=0.05), iso


def test_national_co2_loader_accepts_codes_and_names():
    us = national_co2("USA")
    assert us[2018] == 5416.278 and min(us) == 1751 and max(us) == 2018
    assert national_co2("united states") == us
    assert national_co2("usa") == us
    assert national_co2(WORLD)[1751] == 9.351
    with pytest.raises(InputError, match=r"unknown country 'Untied States' in owid_national_co2.csv: give an ISO "
                                         r"3166-1 alpha-3 code such as USA.*close matches: USA \(United States\)"):
        national_co2("Untied States")


# --- the command line ----------------------------------------------------------------------------------------


def test_cli_share_json():
    result = runner.invoke(history_app, ["share", "--country", "USA", "--from", "1751", "--to", "2017", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["cumulative_share"] == pytest.approx(0.2535, abs=1e-4)
    assert out["last_year_share"] == pytest.approx(0.1458, abs=1e-4)  # OWID share column, 2017: 14.579%


def test_cli_share_table():
    result = runner.invoke(history_app, ["share", "--country", "AFG", "--from", "1900", "--to", "2018"])
    assert result.exit_code == 0, result.output
    assert "Afghanistan (AFG)" in result.output and "figures for 70 of the 119 years" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--country", "Atlantis", "--from", "1751", "--to", "2017"], r"unknown country 'Atlantis'"),
        (["--country", "USA", "--from", "1751", "--to", "2019"], r"no World CO2 figure for 2019: the shipped CO2 table "
         r"covers 1751-2018"),
        (["--country", "USA", "--from", "2017", "--to", "1751"], r"--from 2017 is after --to 1751"),
    ],
)
def test_cli_bad_input_says_what_where_and_how_to_fix(args, message):
    result = runner.invoke(history_app, ["share", *args])
    assert isinstance(result.exception, InputError)
    assert re.search(message, str(result.exception)), str(result.exception)
