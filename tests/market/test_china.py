"""China's compliance cycle in the simulator: a two-unit market worked by hand, the incentives the plan's limits
create, determinism, and bad unit files. Rules: MEE 2019-2020 allocation plan (see tests/compliance/test_benchmark.py)."""

from __future__ import annotations

import numpy as np
import pytest

from openets.compliance.benchmark import Unit
from openets.errors import InputError
from openets.market.china import PowerUnit, clear_cycle, read_units
from openets.market.sweep import cycle_sweep, local_executor
from openets.rules import load_program

CN = load_program("china_power")
ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


def test_a_two_unit_cycle_clears_where_abatement_covers_the_shortage():
    # Cycle 2019-2020 (two years). A: category I, 1,000,000 MWh a year -> 877,000 a year, 1,754,000 in the cycle;
    # BAU 2,000,000; linear MAC reaching 20% of BAU at 100 CNY -> MAC(a) = a / 4,000. B: category III, 1,146,000 a
    # year -> 2,292,000; BAU 2,300,000; MAC(a) = a / 4,600. Shortage 254,000 = 4,000 p + 4,600 p -> p = 29.5349.
    a = PowerUnit(Unit("A", "I", 1_000_000, cooling="water", load_factor=0.9), 1_000_000, 100.0, 0.2)
    b = PowerUnit(Unit("B", "III", 1_000_000, cooling="water"), 1_150_000, 100.0, 0.2)
    result = clear_cycle(CN, [a, b])
    assert result.price == pytest.approx(254_000 / 8_600, rel=1e-9)
    assert result.abatement == pytest.approx([4_000 * result.price, 4_600 * result.price], rel=1e-9)
    assert float((result.obligation - result.allocation).sum()) == pytest.approx(0, abs=1e-3)


def test_the_plans_limits_blunt_the_incentive_to_abate():
    # A gas unit over its allocation (784,000 in the cycle against 1,200,000), unable to abate down to it, owes only
    # its allocation: emitting more costs it nothing, so it does not abate. A coal unit beyond the 20% cap (its
    # allocation 195,800, BAU 2,000,000) owes 0.2 per extra tonne: it abates as if the price were a fifth. The
    # seller (category III) has a surplus of 292,000; the coal unit needs 0.2 x (2,000,000 - a) = 292,000 with
    # a = 0.2 p / 500 x 0.5 x 2,000,000 = 400 p: a = 540,000 and p = 1,350 CNY.
    gas = PowerUnit(Unit("gas", "IV", 1_000_000, cooling=None), 600_000, 5_000.0, 0.1)
    coal = PowerUnit(Unit("coal", "II", 100_000, cooling="water", load_factor=0.9), 1_000_000, 500.0, 0.5)
    seller = PowerUnit(Unit("seller", "III", 1_000_000, cooling="water"), 1_000_000, 1e9, 0.001)
    result = clear_cycle(CN, [gas, coal, seller])
    assert result.abatement[0] == 0
    assert result.price == pytest.approx(1_350, rel=1e-4)
    assert result.abatement[1] == pytest.approx(400 * result.price, rel=1e-6)


def test_the_same_seed_gives_the_same_cycle_on_one_or_two_workers():
    units = read_units(ROOT / "examples" / "china_power_units_illustrative.csv")
    serial = cycle_sweep(CN, units, 10, seed=3)
    with local_executor(2) as pool:
        parallel = cycle_sweep(CN, units, 10, seed=3, executor=pool)
    assert np.array_equal(serial.price, parallel.price)
    data = serial.as_dict()
    assert data["currency"] == "CNY" and [y["year"] for y in data["years"]] == [2019, 2020]
    assert set(data["abatement_mt_by_category"]) == {"I", "II", "III", "IV"}


def test_bad_unit_files_name_the_line(tmp_path):
    path = tmp_path / "u.csv"
    path.write_text("unit,category,electricity_mwh,heat_gj,heat_ratio,cooling,load_factor,chp,bau_t,mac_price,max_share\n"
                    "x,I,100,0,0,steam,0.9,false,100,10,0.1\n")
    with pytest.raises(InputError, match="line 2: cooling 'steam' is unknown"):
        read_units(path)
    path.write_text("unit,category\nx,I\n")
    with pytest.raises(InputError, match="missing column"):
        read_units(path)


def test_china_report_writes_price_and_abatement_by_category(tmp_path):
    import csv

    from openets.cli import main

    out = tmp_path / "cn"
    assert main(["simulate", "china_power", "--units", "examples/china_power_units_illustrative.csv", "--runs", "20",
                 "--report", str(out)]) == 0
    assert {p.name for p in out.iterdir()} == {"index.html", "price.png", "abatement.png", "percentiles.csv"}
    rows = list(csv.reader(open(out / "percentiles.csv", encoding="utf-8")))
    categories = {r[1] for r in rows if r[0] == "abatement_mt"}
    assert categories == {"I", "II", "III", "IV"}
    price = next(r for r in rows if r[0] == "price_cny")
    assert float(price[2]) <= float(price[3]) <= float(price[4])  # p5 <= p50 <= p95
