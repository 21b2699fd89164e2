"""Auction price schedules: golden values within a cent of the published ones, the joint floor, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from openets.auction import YearSchedule, price_schedule, schedule_years, year_schedule
from openets.auction.cli import app, json_text
from openets.errors import InputError, OpenETSError

runner = CliRunner()
CENT = Decimal("0.01")


def near(found: Decimal | None, published: str) -> bool:
    return found is not None and abs(found - Decimal(published)) <= CENT


# --- golden figures -----------------------------------------------------------------------------------------

# Source: shared data auctions/ca_auction_reserve_price_schedule.csv (ICAP Allowance Price Explorer, California,
# Primary Stability 1; 2012 = $10.00 per 17 CCR §95911(c)).
CA_RESERVE_PRICE = {
    2012: "10.00", 2013: "10.71", 2014: "11.34", 2015: "12.10", 2016: "12.73", 2017: "13.57", 2018: "14.53",
    2019: "15.62", 2020: "16.68", 2021: "17.71", 2022: "19.70", 2023: "22.21", 2024: "24.04",
}  # fmt: skip

# Source: shared data auctions/ca_apcr_tier_prices.csv (ICAP, California, Primary Stability 2-4 to 2020; 2, 3 and
# the price ceiling 5 from 2021).
CA_TIERS = {
    2013: ("40.00", "45.00", "50.00"),
    2014: ("42.38", "47.68", "52.98"),
    2015: ("45.20", "50.86", "56.51"),
    2016: ("47.54", "53.49", "59.43"),
    2017: ("50.69", "57.04", "63.37"),
    2018: ("54.26", "61.06", "67.83"),
    2019: ("58.34", "65.65", "72.93"),
    2020: ("62.29", "70.09", "77.86"),
    2021: ("41.40", "53.20"),
    2022: ("46.05", "59.17"),
    2023: ("51.92", "66.71"),
    2024: ("56.20", "72.21"),
}
# Same file, price_ceiling rows ($65.00 in 2021 is also 17 CCR §95915(f)(1)).
CA_CEILING = {2021: "65.00", 2022: "72.29", 2023: "81.50", 2024: "88.22"}

# Source: shared data auctions/rggi_price_schedules.csv (RGGI Model Rule as adopted in RI 250-RICR-120-05-47:
# minimum reserve price $2.00 in 2014 x 1.025 a year; Table 1 CCR triggers; Table 2 ECR triggers; the 2029 ECR
# trigger is the derived $10.30, the RI table's "$0.30" being a typo).
RGGI_MIN_PRICE = {
    2014: "2.00", 2015: "2.05", 2016: "2.10", 2017: "2.15", 2018: "2.20", 2019: "2.26", 2020: "2.32",
    2021: "2.38", 2022: "2.44", 2023: "2.50", 2024: "2.56", 2025: "2.62",
}  # fmt: skip
RGGI_CCR = {
    2014: "4.00", 2015: "6.00", 2016: "8.00", 2017: "10.00", 2018: "10.25", 2019: "10.51", 2020: "10.77",
    2021: "13.00", 2022: "13.91", 2023: "14.88", 2024: "15.92", 2025: "17.03", 2026: "18.22", 2027: "19.50",
    2028: "20.87", 2029: "22.33", 2030: "23.89",
}  # fmt: skip
RGGI_ECR = {
    2021: "6.00", 2022: "6.42", 2023: "6.87", 2024: "7.35", 2025: "7.86", 2026: "8.41", 2027: "9.00",
    2028: "9.63", 2029: "10.30", 2030: "11.02",
}  # fmt: skip


@pytest.mark.parametrize(("year", "price"), sorted(CA_RESERVE_PRICE.items()))
def test_california_reserve_price_matches_published(ca, year, price):
    row = year_schedule(ca, year)
    assert near(row.reserve_price, price)
    assert row.currency == "USD"
    assert not row.projected


@pytest.mark.parametrize(("year", "tiers"), sorted(CA_TIERS.items()))
def test_california_tier_prices_match_published(ca, year, tiers):
    row = year_schedule(ca, year)
    assert len(row.tier_prices) == len(tiers)  # three tiers to 2020, two from 2021
    assert all(near(found, published) for found, published in zip(row.tier_prices, tiers, strict=True))
    assert row.ccr_trigger is None and row.ecr_trigger is None


@pytest.mark.parametrize(("year", "price"), sorted(CA_CEILING.items()))
def test_california_price_ceiling_matches_published(ca, year, price):
    assert near(year_schedule(ca, year).price_ceiling, price)


def test_california_has_no_ceiling_before_2021_and_no_tiers_in_2012(ca):
    # ca_apcr_tier_prices.csv has no 2012 rows; the ceiling starts in 2021 (§95915).
    assert year_schedule(ca, 2020).price_ceiling is None
    assert year_schedule(ca, 2012).tier_prices == ()


@pytest.mark.parametrize(("year", "price"), sorted(RGGI_MIN_PRICE.items()))
def test_rggi_minimum_price_matches_published(rggi, year, price):
    row = year_schedule(rggi, year)
    assert near(row.reserve_price, price)
    assert not row.projected  # a fixed 2.5% escalation, no CPI assumption


@pytest.mark.parametrize(("year", "price"), sorted(RGGI_CCR.items()))
def test_rggi_ccr_trigger_matches_published(rggi, year, price):
    assert near(year_schedule(rggi, year).ccr_trigger, price)


@pytest.mark.parametrize(("year", "price"), sorted(RGGI_ECR.items()))
def test_rggi_ecr_trigger_matches_published(rggi, year, price):
    assert near(year_schedule(rggi, year).ecr_trigger, price)


def test_rggi_has_no_tiers_and_no_reserve_triggers_before_they_existed(rggi):
    # rggi_price_schedules.csv: the CCR starts in 2014, the ECR in 2021.
    row = year_schedule(rggi, 2013)
    assert (row.tier_prices, row.price_ceiling, row.ccr_trigger, row.ecr_trigger) == ((), None, None, None)
    assert year_schedule(rggi, 2020).ecr_trigger is None


# --- projections --------------------------------------------------------------------------------------------


def test_projected_years_escalate_by_five_percent_plus_cpi(ca):
    # 17 CCR §95911(c)(3)(A) and §95915(f): previous price x (1 + 5% + CPI), to the cent, from the 2024 values.
    row = year_schedule(ca, 2025, cpi=0.03)
    assert row.projected
    assert row.reserve_price == Decimal("25.96")  # 24.04 x 1.08 = 25.9632
    # 56.20 x 1.08 = 60.696; 72.21 x 1.08 = 77.9868
    assert row.tier_prices == (Decimal("60.70"), Decimal("77.99"))
    assert row.price_ceiling == Decimal("95.28")  # 88.22 x 1.08 = 95.2776
    assert "CPI 0.03 (given)" in row.sources["reserve_price"]


def test_quebec_is_in_cad_and_projected_after_2014(qc):
    # auctions/qc_only_auction_settlements_2013_2014.csv: minimum price C$11.39 in 2014.
    published = year_schedule(qc, 2014)
    assert (published.currency, published.reserve_price) == ("CAD", Decimal("11.39"))
    assert not published.projected
    # 11.39 x 1.07 = 12.1873 with the rulebook's default 2% CPI.
    assert year_schedule(qc, 2015).reserve_price == Decimal("12.19")
    assert year_schedule(qc, 2015).projected


# --- the WCI joint floor ------------------------------------------------------------------------------------


def test_wci_without_exchange_rate_reports_californias_price_and_says_so(wci):
    row = year_schedule(wci, 2016)
    assert row.reserve_price == Decimal("12.73")
    assert row.tier_prices == (Decimal("47.54"), Decimal("53.49"), Decimal("59.43"))
    assert "California" in row.sources["reserve_price"]
    assert "exchange rate" in row.sources["reserve_price"]
    assert not row.projected


def test_wci_joint_floor_is_the_higher_price_after_conversion(wci):
    # Québec 2014: C$11.39. At 1.10 CAD/USD that is 10.3545 -> $10.36 (rounded up), below California's $11.34.
    low = year_schedule(wci, 2014, exchange_rate_cad_per_usd=1.10)
    assert low.reserve_price == Decimal("11.34")
    # At parity Québec's C$11.39 = $11.39 binds.
    high = year_schedule(wci, 2014, exchange_rate_cad_per_usd=1.0)
    assert high.reserve_price == Decimal("11.39")
    assert "joint floor" in high.sources["reserve_price"]


def test_wci_joint_floor_rounds_the_converted_price_up(wci):
    # Québec 2016 projected at 2%: 11.39 x 1.07 x 1.07 -> 12.19 -> 13.04 CAD; at 1.0 CAD/USD it binds.
    assert year_schedule(wci, 2016, exchange_rate_cad_per_usd=1.0).reserve_price == Decimal("13.04")
    # At 1.30: 13.04 / 1.30 = 10.0307... -> 10.04 (up, not 10.03); California's 12.73 binds.
    row = year_schedule(wci, 2016, exchange_rate_cad_per_usd=1.30)
    assert row.reserve_price == Decimal("12.73")
    assert "10.04 USD" in row.sources["reserve_price"]
    assert row.projected  # Québec's 2016 price rests on a CPI assumption


def test_wci_before_quebec_linked_is_california_alone(wci):
    # wci.toml: Québec linked on 1 Jan 2014; its 2013 price (C$10.75) does not bound the 2013 auctions.
    assert year_schedule(wci, 2013, exchange_rate_cad_per_usd=0.5).reserve_price == Decimal("10.71")


# --- JSON shape ---------------------------------------------------------------------------------------------


def test_to_json_has_the_issue_shape(ca):
    shown = year_schedule(ca, 2016).to_json()
    assert {k: shown[k] for k in list(shown)[:6]} == {
        "year": 2016,
        "reserve_price_usd": 12.73,
        "tier_prices_usd": [47.54, 53.49, 59.43],
        "price_ceiling_usd": None,
        "ccr_trigger_usd": None,
        "ecr_trigger_usd": None,
    }
    assert shown["currency"] == "USD" and shown["projected"] is False
    assert set(shown["sources"]) == {"reserve_price", "tier_prices"}
    json.dumps(shown)  # JSON-able as it is


def test_quebec_json_keys_are_in_cad(qc):
    shown = year_schedule(qc, 2014).to_json()
    assert shown["reserve_price_cad"] == 11.39 and shown["tier_prices_cad"] == []
    assert not any(key.endswith("_usd") for key in shown)


def test_json_text_writes_money_with_two_decimals():
    text = json_text(
        [{"year": 2012, "reserve_price_usd": 10.0, "tier_prices_usd": [40.0, 45.5], "share": 0.5}]
    )
    assert (
        text
        == '[{"year": 2012, "reserve_price_usd": 10.00, "tier_prices_usd": [40.00, 45.50], "share": 0.5}]'
    )


def test_price_schedule_covers_every_year(rggi):
    rows = price_schedule(rggi, 2014, 2030)
    assert [r.year for r in rows] == list(range(2014, 2031))
    assert all(isinstance(r, YearSchedule) for r in rows)


# --- bad input ----------------------------------------------------------------------------------------------


def test_year_out_of_range_names_program_year_and_range(ca, rggi):
    assert schedule_years(ca) == range(2012, 2032)  # first published price to the last budget year
    with pytest.raises(InputError, match=r"california .*2012-2031.*found 2011"):
        year_schedule(ca, 2011)
    with pytest.raises(InputError, match=r"rggi .*2008-2030.*found 2031"):
        price_schedule(rggi, 2029, 2031)


def test_first_after_last_is_refused(ca):
    with pytest.raises(InputError, match="after"):
        price_schedule(ca, 2020, 2016)


def test_bad_exchange_rates_are_refused(ca, wci):
    with pytest.raises(InputError, match="positive"):
        year_schedule(wci, 2016, exchange_rate_cad_per_usd=0)
    with pytest.raises(InputError, match="only to a linked market"):
        year_schedule(ca, 2016, exchange_rate_cad_per_usd=1.3)


def test_bad_cpi_is_refused(ca):
    with pytest.raises(InputError, match="cpi"):
        year_schedule(ca, 2025, cpi=3)


# --- CLI ----------------------------------------------------------------------------------------------------


def test_cli_json_prints_one_list():
    result = runner.invoke(app, ["schedule", "california", "--from", "2016", "--to", "2016", "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)  # fails unless the output is exactly one JSON document
    assert isinstance(shown, list) and len(shown) == 1
    assert shown[0]["reserve_price_usd"] == 12.73
    assert shown[0]["tier_prices_usd"] == [47.54, 53.49, 59.43]
    assert '"reserve_price_usd": 12.73' in result.output


def test_cli_json_writes_two_decimals():
    result = runner.invoke(app, ["schedule", "california", "--from", "2012", "--to", "2013", "--json"])
    assert '"reserve_price_usd": 10.00' in result.output
    assert '"tier_prices_usd": [40.00, 45.00, 50.00]' in result.output


def test_cli_table_lists_years_and_sources():
    result = runner.invoke(app, ["schedule", "rggi", "--from", "2020", "--to", "2021"])
    assert result.exit_code == 0, result.output
    assert "2.32" in result.output and "13.00" in result.output and "6.00" in result.output
    assert "RI 250-RICR-120-05-47" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["schedule", "nowhere", "--from", "2016", "--to", "2016"], "unknown program"),
        (["schedule", "california", "--from", "2000", "--to", "2001"], "2012-2031"),
        (["schedule", "california", "--from", "2018", "--to", "2016"], "after --to"),
    ],
)
def test_cli_bad_input_raises_an_openets_error(args, message):
    # The top-level `openets` CLI turns an OpenETSError into "error: ..." and exit code 1.
    result = runner.invoke(app, args)
    assert isinstance(result.exception, OpenETSError)
    assert message in str(result.exception)


def _run_openets(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "openets.cli", *args], capture_output=True, text=True, timeout=120, check=False
    )


def _skip_unless_mounted(proc: subprocess.CompletedProcess[str]) -> None:
    if proc.returncode == 2 and "No such command" in proc.stderr and "auction" in proc.stderr:
        pytest.skip("`openets auction` is not mounted in src/openets/cli.py yet")


def test_openets_auction_schedule_json_subprocess():
    proc = _run_openets("auction", "schedule", "california", "--from", "2016", "--to", "2016", "--json")
    _skip_unless_mounted(proc)
    assert proc.returncode == 0, proc.stderr
    shown = json.loads(proc.stdout)  # exactly one JSON document on stdout
    assert isinstance(shown, list) and len(shown) == 1
    assert {k: shown[0][k] for k in list(shown[0])[:6]} == {
        "year": 2016,
        "reserve_price_usd": 12.73,
        "tier_prices_usd": [47.54, 53.49, 59.43],
        "price_ceiling_usd": None,
        "ccr_trigger_usd": None,
        "ecr_trigger_usd": None,
    }


def test_openets_auction_schedule_bad_year_subprocess():
    proc = _run_openets("auction", "schedule", "california", "--from", "1999", "--to", "2000")
    _skip_unless_mounted(proc)
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: ") and "2012-2031" in proc.stderr
    assert proc.stdout == ""
