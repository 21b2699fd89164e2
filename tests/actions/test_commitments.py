"""Commitments of every kind, turned into trajectories or quantities with their assumptions."""

from __future__ import annotations

import pytest

from openets.actions.actors import load_actors
from openets.actions.commitments import (Commitment, Quantity, Trajectory, Unquantified, evaluate, even_spread,
                                         load_commitments, passes_screen, piecewise_path, target_level)
from openets.data import table
from openets.errors import InputError

YEARS = range(2021, 2051)


@pytest.fixture(scope="module")
def named():
    return {c.id: c for c in load_commitments()}


def ca_history():
    book = load_actors()
    return {y: sy.gross_ghg_mtco2e for (s, y), sy in book.states.items() if s == "US-CA" and sy.gross_ghg_mtco2e}


def test_piecewise_path_by_hand():
    path = piecewise_path(2020, 100.0, [(2030, 50.0), (2040, 0.0), (2015, 1.0)], range(2019, 2046))
    assert path[2019] == 100 and path[2025] == 75 and path[2030] == 50 and path[2035] == 25
    assert path[2045] == 0  # flat after the last target; the 2015 target is past and ignored
    assert target_level(200.0, 26) == pytest.approx(148.0)
    assert even_spread(10.0, 2020, 2024) == {y: 2.0 for y in range(2020, 2025)}


def test_state_absolute_target_reaches_its_level(named):
    # C2ES: California, 40% below 1990 by 2030 (Executive Order of 10 Sep 2018 in the C2ES list).
    c = named["US-CA-2030-40pct-1990"]
    hist = ca_history()
    r = evaluate(c, history=hist, anchor_year=2020, years=YEARS)
    assert isinstance(r, Trajectory)
    assert r.points[2030] == pytest.approx(0.6 * hist[1990])
    assert r.points[2025] == pytest.approx((hist[2020] + 0.6 * hist[1990]) / 2)
    assert any("40% below 1990" in a for a in r.assumptions)


def test_range_targets_use_the_lower_end_unless_asked(named):
    # C2ES: Delaware 26-28% below 2005 by 2025.
    c = named["US-DE-2025-26pct-2005"]
    hist = {2005: 100.0, 2020: 90.0}
    low = evaluate(c, history=hist, anchor_year=2020, years=[2025])
    high = evaluate(c, history=hist, anchor_year=2020, years=[2025], use_high=True)
    assert low.points[2025] == pytest.approx(74.0) and high.points[2025] == pytest.approx(72.0)


def test_net_zero_with_a_share_met_by_offsets():
    c = Commitment("t", "x", "net_zero", "net zero 2030", target_year=2030, offsets_share=0.25)
    r = evaluate(c, history={2020: 100.0}, anchor_year=2020, years=range(2020, 2032))
    assert r.points[2030] == pytest.approx(25.0)  # gross: a quarter left, offset
    assert r.extra["net_mt"][2030] == 0 and r.extra["offsets_mt"][2030] == pytest.approx(25.0)
    assert r.extra["net_mt"][2025] == pytest.approx(62.5)
    city = Commitment("c", "x", "absolute_reduction", "carbon neutral", target_year=2050, reduction_percent=100)
    assert evaluate(city, history={2020: 10.0}, anchor_year=2020, years=[2050],
                    net_zero_offsets_share=0.1).points[2050] == pytest.approx(1.0)


def test_intensity_target_times_activity():
    c = Commitment("i", "x", "intensity", "halve intensity", target_year=2030, base_year=2020, reduction_percent=50)
    r = evaluate(c, history={2020: 100.0}, anchor_year=2020, years=[2025, 2030],
                 activity={2020: 10.0, 2025: 12.0, 2030: 20.0})
    assert r.points[2030] == pytest.approx(5.0 * 20.0)  # intensity 10 -> 5, activity 20
    assert r.points[2025] == pytest.approx(7.5 * 12.0)
    assert isinstance(evaluate(c, history={2020: 100.0}, anchor_year=2020, years=[2030]), Unquantified)


def test_walmart_gigaton_is_a_quantity_outside_the_national_inventory(named):
    # Walmart climate page (2020-09-10): 1 Gt avoided in the global value chain by 2030, started in 2017.
    r = evaluate(named["walmart-project-gigaton"])
    assert r.total == 1000 and len(r.points) == 14
    assert r.points[2020] == pytest.approx(1000 / 14)
    assert any("outside the US territorial inventory" in a for a in r.assumptions)


def test_airline_neutrality(named):
    # AFP via The Daily Star, 8 Jan 2020: JetBlue offsets 7-8 Mt a year of domestic-flight CO2 from July 2020
    # (offsetting began 1 Jul 2020, futurenetzero.com): half of 2020, then whole years.
    jet = evaluate(named["jetblue-domestic-offsets"], years=range(2019, 2023))
    assert jet.points == {2020: 3.5, 2021: 7.0, 2022: 7.0}
    assert jet.extra["offsets_mt"] == jet.points
    assert any("2020 prorated to 6 of 12 months (3.5 of 7 MtCO2 per year offset): offsetting began in July 2020" in a
               for a in jet.assumptions)
    assert any("do not lower gross" in a for a in jet.assumptions)
    # Delta (The Points Guy, 14 Feb 2020): neutral from 1 Mar 2020, no emissions figure shipped, share not stated.
    delta = evaluate(named["delta-carbon-neutral"], years=[2021])
    assert isinstance(delta, Unquantified) and "offsets is not stated" in delta.reason


def test_money_is_spread_over_its_period(named):
    # Delta: $1 billion over ten years (The Points Guy, 14 Feb 2020).
    assert evaluate(named["delta-1bn"]).points == {y: 1e8 for y in range(2020, 2030)}
    # Bezos Earth Fund: $10 billion (Variety, 17 Feb 2020), spent by 2030.
    assert evaluate(named["bezos-earth-fund"]).total == 10e9
    # Bloomberg: up to $15 million for the UNFCCC (Philanthropy New York, 2 Jun 2017).
    assert evaluate(named["bloomberg-unfccc"]).total == 15e6
    giving = [named[f"us-foundations-environment-{y}"].quantity for y in (2016, 2017, 2018)]
    assert giving == [11.05e9, 12.3e9, 12.7e9]  # issue 6 figures, flagged unconfirmed in the table


def test_blackrock_screen(named):
    # BusinessLIVE/Bloomberg, 15 Jan 2020: >25% of revenue from thermal coal, $1.8 trillion of active assets.
    c = named["blackrock-thermal-coal"]
    assert passes_screen(c, 25.0) and not passes_screen(c, 25.1)
    q = evaluate(c)
    assert isinstance(q, Quantity) and q.value == 1.8
    with pytest.raises(InputError, match="not a divestment screen"):
        passes_screen(named["delta-1bn"], 10)


def test_clean_electricity_and_regional_intent(named):
    # LPDD, California SB 100: 50% by 2026, 60% by 2030, 100% by 2045.
    sb100 = evaluate(named["california-sb100"])
    assert sb100.points[2028] == pytest.approx(55.0) and sb100.points[2045] == 100
    assert evaluate(named["hawaii-100-rps"]).points == {2045: 100.0}
    # Georgetown Climate Center, 18 Dec 2018: nine states and DC.
    tci = evaluate(named["tci-2018-statement"])
    assert isinstance(tci, Quantity) and tci.value == 10


def test_every_named_commitment_has_one_public_source_and_flags():
    rows = table("actions_commitments.csv")
    assert len(rows) == 13
    for r in rows:
        assert r["source_url"].startswith("https://") and r["source_date"] and r["source_title"], r["commitment_id"]
        assert r["confirmed"] in ("yes", "no")
        if r["confirmed"] == "no":
            assert "[unconfirmed]" in r["note"]


def test_bad_commitments_are_refused():
    with pytest.raises(InputError, match="reduction_percent 120 is outside 0-100"):
        Commitment("b", "x", "absolute_reduction", "too much", reduction_percent=120)
    with pytest.raises(InputError, match="unknown kind 'wish'"):
        Commitment("b", "x", "wish", "?")
    with pytest.raises(InputError, match="ends before it starts"):
        even_spread(1.0, 2030, 2020)
