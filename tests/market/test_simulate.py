"""Monte Carlo simulation: determinism on any workers (local processes and a Dask cluster started here), the
rules' supply it simulates, the JSON shape, the report, and bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from openets.errors import InputError
from openets.market.simulate import Assumptions, setting
from openets.market.sweep import dask_executor, local_executor, sweep
from openets.rules import load_program

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wci():
    return load_program("wci")


def test_the_same_seed_gives_the_same_results_on_one_or_two_workers_and_on_dask(wci):
    serial = sweep(wci, 2019, 2030, 12, seed=42)
    with local_executor(2) as pool:
        parallel = sweep(wci, 2019, 2030, 12, seed=42, executor=pool, chunks=5)
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        client, executor = dask_executor(cluster.scheduler_address)
        try:
            on_dask = sweep(wci, 2019, 2030, 12, seed=42, executor=executor, chunks=3)
        finally:
            client.close()
    for field in serial.results:
        assert np.array_equal(serial.results[field], parallel.results[field])
        assert np.array_equal(serial.results[field], on_dask.results[field])
    other = sweep(wci, 2019, 2030, 12, seed=43)
    assert not np.array_equal(serial.results["price"], other.results["price"])


def test_the_simulated_supply_is_the_rulebooks(wci):
    # 2021 (not the first simulated year, which also takes what the opening year leaves): California's budget
    # 320.8 M less 10.5 M APCR (§95871(a), Oct-2017 Table 8-2) and its 1,134,079 retirement for Ontario (an equal
    # share of 11,340,792 over 2021-2030); Québec 55.26 M less 4% (s.38). Ceiling $65.00 (§95915(f)(1)); floor
    # $17.71 (the 2021 Auction Reserve Price).
    s = setting(wci, 2020, 2021)
    y = s.supply[1]
    assert y.free + y.auctioned == pytest.approx(320_800_000 - 10_500_000 - 1_134_079 + 55_260_000 - 2_210_400, abs=1)
    assert y.ceiling == 65.00 and y.floor == 17.71
    assert sum(q for _, q in y.steps) == pytest.approx(10_500_000 + 2_210_400)


def test_the_simulated_supply_adds_up_to_the_supply_demand_balance(wci):
    # 2019-2030 with every auction selling out: the same allowances reach the market as in `openets supply`
    # (the opening year's unsold state allowances are offered in the first year; Québec's late true-ups and the
    # Ontario retirements included), within 0.2% over the twelve years.
    from openets.market.supply import Scenario, balance

    s = setting(wci, 2019, 2030)
    simulated = sum(y.free + y.auctioned for y in s.supply)
    reference = sum(y.allowances for y in balance(wci, Scenario(last_year=2030)).years if y.year >= 2019)
    assert abs(simulated - reference) <= 0.002 * reference


def test_mac_price_is_where_a_firm_reaches_its_abatable_share():
    # --mac-price 150 with --max-share 0.3: one firm abates 30% of its BAU at 150 and 15% at 75.
    from openets.market.firms import Firms

    curve = Firms.linear(np.array([[100.0]]), 150.0 / 0.3, 0.3).abatement()
    assert curve.at(0, 150.0) == pytest.approx(30) and curve.at(0, 75.0) == pytest.approx(15)
    assert curve.at(0, 1000.0) == pytest.approx(30)


def test_prices_stay_between_the_rules_bounds_in_every_run(wci):
    result = sweep(wci, 2019, 2030, 30, seed=7)
    ceilings = np.array([y.ceiling or np.inf for y in result.setting.supply])
    assert (result.results["price"] <= ceilings * (1 + 1e-12)).all()
    assert (result.results["bank"] >= -1e-6 * 1e9).all()
    data = result.as_dict()
    assert data["runs"] == 30 and data["seed"] == 7 and data["currency"] == "USD"
    first = data["years"][0]
    for key in ("price", "emissions_mt", "bank_mt", "auction_revenue_m"):
        assert first[key]["p5"] <= first[key]["p50"] <= first[key]["p95"]


def test_keeping_a_bank_at_the_end_raises_prices(wci):
    # The market goes on after the last simulated year; holding allowances for it makes them scarcer now.
    spent = sweep(wci, 2019, 2030, 5, seed=2)
    kept = sweep(wci, 2019, 2030, 5, seed=2, assumptions=Assumptions(terminal_bank=200e6))
    assert (kept.results["price"] >= spent.results["price"] - 1e-9).all()
    assert (kept.results["price"] > spent.results["price"] + 1e-6).any()
    assert np.allclose(kept.results["bank"][:, -1], 200e6)


def test_the_cli_writes_json_and_a_report(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "openets.cli", "simulate", "rggi", "--from", "2014", "--to", "2020", "--runs", "20",
         "--seed", "5", "--json", "--report", str(tmp_path / "rep")],
        capture_output=True, text=True, cwd=ROOT, env=dict(os.environ), timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["currency"] == "USD" and out["allowance_unit"] == "short_ton" and len(out["years"]) == 7
    page = (tmp_path / "rep" / "index.html").read_text()
    assert "price.png" in page and (tmp_path / "rep" / "price.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "rep" / "percentiles.csv").read_text().startswith("field,year,p5,p50,p95")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["nowhere"], "unknown program"),
        (["wci", "--runs", "-5"], "--runs -5: give a positive number of runs"),
        (["wci", "--scheduler", "tcp://127.0.0.1:9"], "no Dask scheduler answered"),
        (["wci", "--mode", "auction"], "--mode 'auction' is unknown; choose equilibrium or agents"),
        (["wci", "--from", "2025", "--to", "2020"], "--from 2025 is after --to 2020"),
        (["wci", "--workers", "0"], "--workers 0: give at least 1"),
        (["wci", "--scheduler", "notanaddress"], "no Dask scheduler answered"),
        (["wci", "--mac-price", "-1"], "--mac-price -1.0: a positive price"),
        (["wci", "--terminal-bank", "-5"], "a bank cannot be negative"),
        (["china_power", "--units", "examples/china_power_units_illustrative.csv", "--from", "2019"], "do not apply"),
        (["rggi", "--from", "2011"], "start in 2009"),
    ],
)
def test_bad_input_fails_clearly(args, words):
    proc = subprocess.run([sys.executable, "-m", "openets.cli", "simulate", *args], capture_output=True, text=True,
                          cwd=ROOT, env=dict(os.environ), timeout=300)
    assert proc.returncode == 1
    assert words in " ".join(proc.stderr.split())


def test_a_malformed_facilities_file_names_the_line(tmp_path):
    from openets.market.firms import read_facilities

    path = tmp_path / "f.csv"
    path.write_text("facility,bau_t,growth,mac_price,max_share\nA,1000,0.01,80,0.3\nB,lots,0,80,0.3\n")
    with pytest.raises(InputError, match=r"line 3: bau_t 'lots' is not a finite number"):
        read_facilities(str(path))
    path.write_text("facility,bau_t,growth\nA,1,0\n")
    with pytest.raises(InputError, match="missing column"):
        read_facilities(str(path))
    path.write_text("facility,bau_t,growth,mac_price,max_share\nA,1000000,0.0,80,0.3\n")
    result = sweep(load_program("wci"), 2019, 2020, 3, facilities=read_facilities(str(path)), assumptions=Assumptions())
    assert result.results["emissions"].shape == (3, 2)
