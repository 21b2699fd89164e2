"""WCI hindcast 2013-2018: the record it is checked against, the 2016 undersubscription arising from the
mechanism, the calibration behind the shipped `wci-calibrated` scenario, and the document being current."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from openets.data import table
from openets.errors import InputError
from openets.market.hindcast import calibrate, markdown, record, run
from openets.market.simulate import named_scenario
from openets.rules.load import load_program

WCI = load_program("wci")
DOC = Path(__file__).resolve().parents[2] / "docs" / "wci_hindcast_2013_2018.md"


@pytest.fixture(scope="module")
def calibration():
    return calibrate(WCI)


def test_record_from_the_shipped_tables():
    rec = record()
    # CARB auction results 2016 (wci_auction_settlements_2012_2018.csv): all four joint auctions settled at the
    # 12.73 USD reserve price.
    assert rec.price[2016] == pytest.approx(12.73) and rec.floor[2016] == pytest.approx(12.73)
    # CARB results 2013: 13.62, 14.00, 12.22, 11.48 (mean 12.83).
    assert rec.price[2013] == pytest.approx(12.83)
    # Near Zero quarterly auction history (CARB/MELCC summaries): 130.3 M current allowances unsold in 2016.
    assert rec.unsold[2016] == pytest.approx(130_312_683)
    assert rec.unsold[2015] == 0 and rec.unsold[2018] == 0
    # CARB MRR 2018 covered emissions 319,882,513 plus Québec held at its 2016 level (58,288,185).
    assert rec.emissions[2018] == 319_882_513 + 58_288_185


def test_calibration_is_the_shipped_scenario(calibration):
    shipped = named_scenario("wci-calibrated", "wci")
    assert (shipped["mac_price"], shipped["rate"]) == (calibration.mac_price, calibration.rate)
    assert calibration.objective == min(e for _, _, e in calibration.grid)


def test_2016_undersubscription_follows_from_the_believed_horizon(calibration):
    """The 2016 horizon is an input read from dated events (wci_horizon_beliefs.csv); the model is told what holders
    believed, never which auctions went unsold, and the calibration fits prices only."""
    h = run(WCI, calibration.mac_price, calibration.rate)
    rec = record()
    k2016 = h.years.index(2016)
    # The model is never told which years were undersubscribed; it finds 2016 (and only 2016) unsold.
    assert h.unsold[k2016] > 0.5 * rec.unsold[2016]
    assert all(h.unsold[k] == 0 for k, y in enumerate(h.years) if y != 2016)
    assert h.price[k2016] == pytest.approx(h.floor[k2016])
    # Prices at or near the floor: within 10% above it every year.
    assert (h.price >= h.floor - 1e-9).all() and (h.price <= 1.1 * h.floor).all()
    # Unsold allowances come back to auction after a year above the floor (2018), at most 25% of its auctioned supply.
    assert h.returned[h.years.index(2017)] == 0 and 0 < h.returned[h.years.index(2018)] <= h.unsold[k2016]
    # The same market believing in 2030 throughout sells out every year: the doubt is the mechanism.
    believing = run(WCI, calibration.mac_price, calibration.rate, beliefs=dict.fromkeys(h.years, 2030))
    assert believing.unsold.sum() == 0
    assert (np.diff(believing.price) > 0).all()


def test_reported_emissions_are_reproduced_where_the_price_is():
    rec = record()
    h = run(WCI, 40.0, 0.075)
    for k, y in enumerate(h.years):
        if abs(h.price[k] - rec.price[y]) < 1e-6:
            assert h.emissions[k] == pytest.approx(rec.emissions[y])


def test_document_is_current(calibration):
    h = run(WCI, calibration.mac_price, calibration.rate)
    assert DOC.read_text(encoding="utf-8") == markdown(WCI, calibration, h, "wci_hindcast_2013_2018.png")


def test_beliefs_name_their_sources():
    for row in table("wci_horizon_beliefs.csv"):
        assert row["source"] and row["status"] in ("confirmed", "secondary", "unconfirmed")


def test_unknown_or_mismatched_scenario_is_a_clear_error():
    with pytest.raises(InputError, match="no such shipped scenario; shipped: wci-calibrated"):
        named_scenario("nope", "wci")
    with pytest.raises(InputError, match="is for wci, not rggi"):
        named_scenario("wci-calibrated", "rggi")


RGGI = load_program("rggi")
RGGI_DOC = Path(__file__).resolve().parents[2] / "docs" / "rggi_hindcast_2009_2020.md"


@pytest.fixture(scope="module")
def rggi_runs():
    from openets.market.hindcast import rggi_counterfactuals

    return rggi_counterfactuals(RGGI)


def test_rggi_minimum_price_binds_before_the_reset_and_the_ccr_fires_as_recorded(rggi_runs):
    from openets.market.hindcast import rggi_record

    base = rggi_runs["as believed"]
    rec = rggi_record()
    before = [k for k, y in enumerate(base.years) if y <= 2012]
    # 2009-2012: the 2008 cap far above emissions; the price on the minimum and allowances unsold every year.
    assert all(base.price[k] == pytest.approx(base.floor[k]) and base.unsold[k] > 0 for k in before)
    # CCR releases, RGGI auction notices (rggi_annual_2009_2023.csv): 5 M in 2014, 10 M in 2015, none 2016-2020.
    # The model matches 2014, 2016, 2017, 2019 and 2020; it misses 2015 (none) and 2018 (10 M), as the doc says.
    for y in (2014, 2016, 2017, 2019, 2020):
        assert base.ccr[base.years.index(y)] == pytest.approx(rec["ccr"][y], abs=1.0)
    assert base.ccr[base.years.index(2015)] == 0 and base.ccr[base.years.index(2018)] > 0
    # The reset lifts the price off the minimum in 2013-2014.
    assert all(base.price[base.years.index(y)] > 2 * base.floor[base.years.index(y)] for y in (2013, 2014))
    # Without the reset the price never leaves the minimum; perfect foresight stays near it too.
    no_reset = rggi_runs["without the reset"]
    assert (no_reset.price == pytest.approx(no_reset.floor)) and no_reset.unsold.sum() > base.unsold.sum()
    assert (rggi_runs["perfect foresight"].price <= rggi_runs["perfect foresight"].floor * 1.25).all()
    # The CCR lowers the post-reset prices it is there to contain.
    no_ccr = rggi_runs["without the CCR"]
    assert all(no_ccr.price[k] > base.price[k] for k, y in enumerate(base.years) if y in (2013, 2014))


def test_rggi_document_is_current(rggi_runs):
    import json
    import subprocess
    import sys

    from openets.market.hindcast import RGGI_SIMULATE, rggi_markdown

    out = subprocess.run([sys.executable, "-m", "openets.cli", "simulate", *RGGI_SIMULATE, "--json"],
                         check=True, capture_output=True, text=True).stdout
    assert RGGI_DOC.read_text(encoding="utf-8") == rggi_markdown(rggi_runs, "rggi_hindcast_2009_2020.png", json.loads(out))
