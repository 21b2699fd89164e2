"""The WCI supply-demand balance: history, the peer comparison, and the mechanism under other assumptions.

Sources: CARB/MELCC auction results, allocation reports and Compliance Instrument Reports (via the shipped
tables, CC BY-SA 4.0 Near Zero), and the peer model WCI-RULES v1.0.3's default results (shipped for comparison).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openets.data import table
from openets.errors import InputError
from openets.market.peer import PEER_SCENARIO, compare, markdown
from openets.market.supply import Scenario, balance

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "supply_vs_wci_rules.md"


@pytest.fixture(scope="module")
def default(wci_module):
    return balance(wci_module, PEER_SCENARIO)


@pytest.fixture(scope="module")
def wci_module():
    from openets.rules import load_program

    return load_program("wci")


def test_california_2013_supply_is_allocation_plus_state_owned_sales(default):
    # CARB 2013: free allocation 53,894,995 (industrial and other) + 95,843,688 (utilities), all 10,642,459
    # state-owned current allowances sold (2013Q1-Q4); consigned allowances are part of the allocation.
    y2013 = default.years[0]
    assert y2013.by_jurisdiction["CA"]["allowances"] == 53_894_995 + 95_843_688 + 10_642_459


def test_the_bank_matches_the_peer_through_2015_and_every_later_gap_has_a_cause(wci_module, default):
    # WCI-RULES default results: bank 11.882 (2013), 41.378 (2014), 104.888 (2015) Mt.
    rows = compare(wci_module, default)
    for r in rows[:3]:
        assert abs(r.relative) < 0.001, r
    for r in rows:
        assert abs(r.difference - sum(r.causes.values())) < 1e-4, r  # the causes add up to the gap (peer: Mt, 6 decimals)
    # What no rule explains stays under 1 Mt (0.3% of the bank) in every year.
    assert max(abs(r.causes["unexplained"]) for r in rows) < 1.0


def test_the_committed_peer_comparison_is_current(wci_module, default):
    assert DOC.read_text(encoding="utf-8") == markdown(compare(wci_module, default)), "run python -m openets.market.peer"


def test_the_default_scenario_emissions_are_the_peers(default):
    peer = {int(r["year"]): float(r["covered_emissions_mtco2e"]) for r in table("peer_wci_rules_default_annual.csv")
            if r["jurisdiction"] == "CA+QC"}
    for y in default.years:
        assert abs(y.emissions / 1e6 - peer[y.year]) < 0.001, y.year


def test_unsold_allowances_move_to_the_reserve_after_24_months_and_leave_the_bank(wci_module, default):
    half = balance(wci_module, Scenario(emissions_from=2017, emissions_growth=-0.02, unsold={2019: 0.5, 2020: 0.5}))
    by_year = {y.year: y for y in half.years}
    assert by_year[2019].unsold_state > 100_000_000 and by_year[2020].unsold_state > by_year[2019].unsold_state * 0.5
    moved_extra = sum(y.to_reserve for y in half.years) - sum(y.to_reserve for y in default.years)
    assert moved_extra > 0
    assert by_year[2022].to_reserve > 0  # 2019-2020 unsold allowances not re-offered within 24 months
    # Everything else sells in the end: by 2030 the bank is lower by exactly what moved to the reserve.
    assert by_year[2030].unsold_state == 0
    assert default.years[-1].bank - half.years[-1].bank == moved_extra


def test_the_bank_runs_out_earlier_when_emissions_grow(wci_module):
    flat = balance(wci_module, Scenario(emissions_from=2017))
    grow = balance(wci_module, Scenario(emissions_from=2017, emissions_growth=0.01, offsets_of_limit=0.5))
    fast = balance(wci_module, Scenario(emissions_from=2017, emissions_growth=0.03))
    assert flat.bank_exhausted_year is not None and grow.bank_exhausted_year is not None
    assert fast.bank_exhausted_year <= grow.bank_exhausted_year <= flat.bank_exhausted_year
    assert fast.bank_exhausted_year < flat.bank_exhausted_year


@settings(max_examples=15, deadline=None)
@given(
    growth=st.floats(-0.05, 0.05),
    unsold=st.floats(0, 1),
    offsets=st.floats(0, 1),
)
def test_reserve_sales_appear_only_when_the_bank_would_go_negative(wci_module, growth, unsold, offsets):
    result = balance(wci_module, Scenario(emissions_from=2017, emissions_growth=growth, unsold={2020: unsold},
                                          offsets_of_limit=offsets))
    bank = 0
    for y in result.years:
        assert y.bank >= 0 and y.reserve_sales >= 0
        would_be = bank + y.supply - y.emissions
        assert y.reserve_sales == max(0, -would_be)
        bank = y.bank
    exhausted = result.bank_exhausted_year
    assert (exhausted is None) == all(y.reserve_sales == 0 for y in result.years)


@settings(max_examples=10, deadline=None)
@given(low=st.floats(-0.05, 0.04), step=st.floats(0.001, 0.02))
def test_more_emissions_never_leave_a_larger_bank(wci_module, low, step):
    a = balance(wci_module, Scenario(emissions_from=2017, emissions_growth=low))
    b = balance(wci_module, Scenario(emissions_from=2017, emissions_growth=low + step))
    for ya, yb in zip(a.years, b.years, strict=True):
        assert yb.bank_before_reserve_sales <= ya.bank_before_reserve_sales


def test_a_custom_emissions_series_replaces_history_and_projection(wci_module, tmp_path):
    from openets.market.supply import read_emissions_csv

    path = tmp_path / "em.csv"
    path.write_text("jurisdiction,year,emissions_mt\nCA,2025,100\nQC,2025,10.5\n")
    series = read_emissions_csv(path)
    assert series == {"CA": {2025: 100_000_000}, "QC": {2025: 10_500_000}}
    result = balance(wci_module, Scenario(emissions_from=2017, emissions=series))
    assert {y.year: y.emissions for y in result.years}[2025] == 110_500_000
    path.write_text("jurisdiction,year,emissions_mt\nCA,2025,-1\n")
    with pytest.raises(InputError, match=r"line 2: emissions_mt '-1' must be a non-negative number"):
        read_emissions_csv(path)
    path.write_text("jurisdiction,year\nCA,2025\n")
    with pytest.raises(InputError, match="missing column"):
        read_emissions_csv(path)
    path.write_text("jurisdiction,year,emissions_mt\nCA,2025\n")
    with pytest.raises(InputError, match="line 2: year '2025' or emissions_mt None is not a number"):
        read_emissions_csv(path)
    path.write_bytes("\ufeffjurisdiction,year,emissions_mt\nCA,2025,1\n".encode())  # saved by a spreadsheet
    assert read_emissions_csv(path) == {"CA": {2025: 1_000_000}}


def test_growth_can_differ_by_jurisdiction(wci_module):
    result = balance(wci_module, Scenario(emissions_from=2017, emissions_growth={"CA": -0.02, "QC": 0.0}))
    y2018 = {y.year: y for y in result.years}[2018].by_jurisdiction
    # Reported 2016: CA 324,069,019 and QC 58,288,185 (compliance reports); two years at -2% and 0%.
    assert y2018["CA"]["emissions"] == round(round(324_069_019 * 0.98) * 0.98)
    assert y2018["QC"]["emissions"] == 58_288_185


def test_bad_scenarios_say_what_to_fix(wci_module):
    with pytest.raises(InputError, match="unsold share for 2019 is 1.5"):
        balance(wci_module, Scenario(unsold={2019: 1.5}))
    with pytest.raises(InputError, match=r"unsold shares for \[2015\]: auctions to 2018Q3 are the record"):
        balance(wci_module, Scenario(unsold={2015: 0.5}))
    with pytest.raises(InputError, match="runs from 2013"):
        balance(wci_module, Scenario(last_year=2012))
    with pytest.raises(InputError, match="projected from 2016 at the earliest"):
        balance(wci_module, Scenario(emissions_from=2013))
    with pytest.raises(InputError, match="unknown jurisdiction.*XX.*this program's are CA, QC"):
        balance(wci_module, Scenario(emissions_growth={"XX": -0.02}))
    with pytest.raises(InputError, match="compare program 'wci'"):
        from openets.rules import load_program

        compare(load_program("california"))
    with pytest.raises(InputError, match="no reported covered emissions for QC 2017"):
        balance(wci_module, Scenario(emissions_from=2019))
    with pytest.raises(InputError, match="not a yearly rate"):
        balance(wci_module, Scenario(emissions_growth=2.0))


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "openets.cli", "supply", *args], capture_output=True, text=True,
                          cwd=ROOT, env=dict(os.environ), timeout=300)


def test_cli_json_has_the_documented_fields(tmp_path):
    png = tmp_path / "bank.png"
    proc = _cli("wci", "--emissions-from", "2017", "--emissions-growth", "-0.02", "--offsets-of-limit", "0.75",
                "--json", "--plot", str(png))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["bank_exhausted_year"] is None
    first = out["years"][0]
    for key in ("year", "emissions_mt", "supply_mt", "bank_mt", "reserve_sales_mt", "unsold_state_mt"):
        assert key in first
    assert [y["year"] for y in out["years"]] == list(range(2013, 2031))
    assert abs(first["bank_mt"] - 11.882) < 0.001  # WCI-RULES default, 2013
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--unsold", "2019-2020"], "--unsold '2019-2020' is malformed; write FIRST-LAST:SHARE"),
        (["--unsold", "2020-2019:0.5"], "2019 is before 2020"),
        (["--json", "--csv"], "choose one output format"),
        (["--emissions-growth", "CA=-0.02"], "--emissions-growth 'CA=-0.02' is malformed"),
        (["--plot", "/nonexistent/dir/x.png"], "does not exist"),
        (["--emissions-csv", "/nonexistent.csv"], "cannot read the emissions file"),
    ],
)
def test_cli_bad_options_fail_clearly(args, words):
    proc = _cli("wci", *args)
    assert proc.returncode == 1
    assert words in " ".join(proc.stderr.split())


def test_rggi_balance_starts_from_the_bank_the_interim_adjustments_measured():
    from openets.rules import load_program

    rggi = load_program("rggi")
    result = balance(rggi)
    assert result.allowance_unit == "short_ton"
    y2014 = result.years[0]
    # RGGI: FCPIA 57,453,648 + SCPIA 82,102,464 banked at the end of 2013; 2014 adjusted budget 82,792,336 and
    # 5,000,000 CCR allowances released (Auction 23); 2014 compliance emissions 86,532,463 (COATS, net).
    assert y2014.year == 2014 and y2014.bank == 57_453_648 + 82_102_464 + 82_792_336 + 5_000_000 - 86_532_463
    # The third adjustment found 95,451,653 pre-2021 allowances held beyond 2018-2020 emissions (RGGI, Mar 2021).
    # openets' bank at the end of 2020 is 11.8% higher: set-aside allowances retired by states and unsold
    # allowances are not modelled (no per-auction RGGI results ship). The test notices if that gap moves.
    y2020 = next(y for y in result.years if y.year == 2020)
    assert 0.10 < (y2020.bank - 95_451_653) / 95_451_653 < 0.13
    assert all(y.offsets == 0 for y in result.years)  # none by default in RGGI
    with pytest.raises(InputError, match="not modelled for RGGI"):
        balance(rggi, Scenario(unsold={2025: 0.5}))
