"""`openets auction clear`: a bids file in, the summary result out; malformed files give row-numbered errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEADER = "bidder,bidder_type,price,quantity,currency\n"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "openets.cli", "auction", "clear", *args],
                          capture_output=True, text=True, cwd=ROOT, env=dict(os.environ), timeout=300)


def test_clear_prints_the_summary_as_json(tmp_path):
    # RGGI, single allowances, 2016: minimum price $2.10 (RI 250-RICR-120-05-47), CCR trigger $8.00 not reached,
    # purchase limit 25% of the 100 offered. D's 30 are cut to 25; A-D then take exactly the 100 on offer, so
    # the price is D's $4.50 and E ($4.40) gets nothing; Z ($1.00) is below the floor.
    bids = tmp_path / "bids.csv"
    bids.write_text(HEADER + "A,covered,5.00,25,USD\nB,covered,4.80,25,USD\nC,covered,4.60,25,USD\n"
                    "D,covered,4.50,30,USD\nE,other,4.40,10,USD\nZ,other,1.00,30,USD\n")
    proc = run("--program", "rggi", "--quarter", "2016Q2", "--bids", str(bids), "--supply", "100", "--ccr", "0", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["settlement_price_usd"] == 4.50 and out["floor_usd"] == 2.10
    assert (out["offered"], out["sold"], out["unsold"]) == (100, 100, 0)
    assert out["awards"] == [{"bidder": b, "quantity": 25} for b in "ABCD"]
    assert out["trimmed_by_limits"] == {"D": 5}
    assert out["rejected_below_floor"] == 30 and out["seed"] == 0


@pytest.mark.parametrize(
    ("rows", "words"),
    [
        ("A,covered,12.7x,1000,USD\n", ["line 2", "price '12.7x' is not an amount in dollars and cents"]),
        ("A,covered,12.731,1000,USD\n", ["line 2", "price '12.731'"]),
        ("A,covered,13.00,1000,USD\nB,covered,13.00,-2000,USD\n", ["line 3", "quantity '-2000' is not a positive whole multiple of the lot size 1,000"]),
        ("A,covered,13.00,1500,USD\n", ["line 2", "quantity '1500'"]),
        ("A,covered,13.00,1000,EUR\n", ["line 2", "currency 'EUR' is unknown; valid currencies: USD, CAD"]),
        ("A,broker,13.00,1000,USD\n", ["line 2", "bidder type 'broker' is unknown; valid types: covered, utility, other"]),
    ],
    ids=["bad number", "sub-cent price", "negative quantity", "not a lot", "unknown currency", "unknown bidder type"],
)
def test_malformed_bid_rows_are_named_by_line(tmp_path, rows, words):
    bids = tmp_path / "bids.csv"
    bids.write_text(HEADER + rows)
    proc = run("--program", "wci", "--quarter", "2016Q2", "--bids", str(bids), "--supply", "10000")
    assert proc.returncode == 1
    message = " ".join(proc.stderr.split())
    assert message.startswith(f"error: {bids}")
    for word in words:
        assert word in message


def test_a_missing_column_is_named(tmp_path):
    bids = tmp_path / "bids.csv"
    bids.write_text("bidder,bidder_type,price,quantity\nA,covered,13.00,1000\n")
    proc = run("--program", "wci", "--quarter", "2016Q2", "--bids", str(bids), "--supply", "10000")
    assert proc.returncode == 1
    assert "line 1: missing column(s) currency" in proc.stderr


def test_bad_quarter_and_unscheduled_supply_say_what_to_give(tmp_path):
    bids = tmp_path / "bids.csv"
    bids.write_text(HEADER + "A,covered,13.00,1000,USD\n")
    proc = run("--program", "wci", "--quarter", "2016-2", "--bids", str(bids), "--supply", "1000")
    assert proc.returncode == 1 and "write YEAR then Q1-Q4, e.g. 2016Q2" in proc.stderr
    # Past the shipped record (2012Q4-2018Q3) the schedule assumes the auctions in between sold out, and says so.
    proc = run("--program", "wci", "--quarter", "2019Q2", "--bids", str(bids), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["supply"] == "scheduled; auctions after 2018Q3 assumed sold out"
    proc = run("--program", "wci", "--quarter", "2031Q1", "--bids", str(bids))
    assert proc.returncode == 1 and "--supply N" in proc.stderr


def test_clear_defaults_to_the_scheduled_offer_sold_in_the_rules_order(tmp_path):
    # 2016Q2 joint current auction (CARB record: 11% sold at the $12.73 floor). The scheduled offer is CA's
    # 2016 state-owned share, its consigned allowances and QC's share; one lot bid sells consigned allowances
    # first (§95911(f)(1)).
    bids = tmp_path / "bids.csv"
    bids.write_text(HEADER + "A,covered,13.00,1000,USD\n")
    proc = run("--program", "wci", "--quarter", "2016Q2", "--bids", str(bids), "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["supply"] == "scheduled" and out["auction"] == "current"
    assert out["offered"] == 35_528_083 + 21_948_176 + 10_121_386
    assert out["sold_by_category"]["CA:consigned:2016"] == 1000 and out["settlement_price_usd"] == 12.73
    offers = subprocess.run([sys.executable, "-m", "openets.cli", "auction", "offers", "--program", "wci", "--quarter",
                             "2016Q2", "--json"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert offers.returncode == 0, offers.stderr
    assert json.loads(offers.stdout)["current_total"] == out["offered"]


def test_clear_without_a_schedule_asks_for_the_supply(tmp_path):
    bids = tmp_path / "bids.csv"
    bids.write_text(HEADER + "A,covered,5.00,1,USD\n")
    proc = run("--program", "rggi", "--quarter", "2016Q2", "--bids", str(bids))
    assert proc.returncode == 1 and "give the allowances offered with --supply N" in proc.stderr
    proc = run("--program", "wci", "--quarter", "2016Q2", "--bids", str(bids), "--auction", "spot")
    assert proc.returncode == 1 and "--auction 'spot' is not an auction type" in proc.stderr
