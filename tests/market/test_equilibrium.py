"""The banking equilibrium: closed forms worked by hand, the planner's QP (cvxpy + Clarabel) on random small
markets, and invariants that hold for any market."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openets.errors import InputError
from openets.market.equilibrium import Market, YearSupply, solve
from openets.market.firms import Firms
from openets.market.qp import solve_qp


def _one_firm(years: int, bau: float = 100.0, full: float = 50.0) -> Firms:
    """One firm, BAU `bau` a year, abating bau * p / full: A(p) = 2p at the defaults."""
    return Firms.linear(np.full((1, years), bau), full)


def test_linear_macs_without_banking_clear_each_year():
    # A(p) = 2p; caps 80 and 70 -> 100 - 2p = cap -> p = 10 and 15.
    e = solve(Market(_one_firm(2).abatement(), [YearSupply(free=80), YearSupply(free=70)], banking=False))
    assert np.allclose(e.price, [10, 15], rtol=1e-12) and np.allclose(e.emissions, [80, 70])
    assert (e.bank == 0).all()


def test_banking_follows_hotelling_and_spends_the_bank():
    # Caps 90 and 60, r = 5%: p2 = 1.05 p1 and (100 - 2 p1) + (100 - 2.1 p1) = 150 -> p1 = 50 / 4.1.
    e = solve(Market(_one_firm(2).abatement(), [YearSupply(free=90), YearSupply(free=60)], rate=0.05))
    p1 = 50 / 4.1
    assert np.allclose(e.price, [p1, 1.05 * p1], rtol=1e-12)
    assert e.bank[0] == pytest.approx(90 - (100 - 2 * p1)) and abs(e.bank[1]) < 1e-9


def test_the_price_may_fall_only_after_the_bank_empties():
    # Caps 100, 50, 100: banking from year 1 to year 2 as above; year 3 has no scarcity and a zero price.
    e = solve(Market(_one_firm(3).abatement(), [YearSupply(free=100), YearSupply(free=50), YearSupply(free=100)]))
    assert e.episodes == ((0, 1), (2, 2)) and e.price[2] == 0
    assert e.price[1] == pytest.approx(1.05 * e.price[0]) and abs(e.bank[1]) < 1e-9


def test_a_binding_floor_leaves_auctioned_allowances_unsold():
    # Cap 95 (45 free, 50 auctioned), floor 10: without a floor p = 2.5; with it p = 10, emissions 80, 15 unsold.
    e = solve(Market(_one_firm(1).abatement(), [YearSupply(free=45, auctioned=50, floor=10)], banking=False))
    assert e.price[0] == 10 and e.emissions[0] == pytest.approx(80) and e.unsold[0] == pytest.approx(15)


def test_a_binding_ceiling_supplies_what_is_missing():
    # Cap 50, ceiling 20: the price would be 25; at 20 emissions are 60 and 10 price-ceiling units sell.
    e = solve(Market(_one_firm(1).abatement(), [YearSupply(free=50, ceiling=20)], banking=False))
    assert e.price[0] == 20 and e.ceiling_sold[0] == pytest.approx(10)


def test_a_reserve_tier_and_an_ecr_change_supply_at_their_prices():
    # Tier: 10 allowances at 20 on a cap of 50: at p = 20 demand is 60 -> exactly the tier fills it.
    e = solve(Market(_one_firm(1).abatement(), [YearSupply(free=50, steps=((20.0, 10.0),))], banking=False))
    assert e.price[0] == 20 and e.stepped[0] == pytest.approx(10)
    # ECR: 10 of 90 auctioned allowances withheld below a trigger of 8: at p = 5 (no ECR) supply 90; with it the
    # price stops at the trigger, where 100 - 16 = 84 are needed: 6 withheld, 84 sold.
    e = solve(Market(_one_firm(1).abatement(), [YearSupply(auctioned=90, withheld=((8.0, 10.0),))], banking=False))
    assert e.price[0] == 8 and e.withheld[0] == pytest.approx(6) and e.auction_sold[0] == pytest.approx(84)
    # An ECR withholds only what would sell: below the floor nothing is auctioned, so nothing is withheld either.
    e = solve(Market(_one_firm(1).abatement(), [YearSupply(free=100, auctioned=90, floor=2, withheld=((6.0, 10.0),))],
                     banking=False))
    assert e.price[0] == 0 and e.withheld[0] == 0 and e.unsold[0] == pytest.approx(90)


def test_the_price_never_exceeds_a_ceiling_even_when_banking_would_carry_it_there():
    # Year 1 short (cap 50, A = 2p: p1 = 25); year 2 has a ceiling of 20. Hotelling would give 26.25 in year 2, but
    # unlimited units at 20 cap it: the bank empties in year 1 and year 2 clears at the ceiling (the QP agrees).
    market = Market(_one_firm(2).abatement(), [YearSupply(free=50), YearSupply(free=40, ceiling=20)], rate=0.05)
    e = solve(market)
    assert np.allclose(e.price, [25, 20]) and e.ceiling_sold[1] == pytest.approx(20)
    assert np.allclose(e.price, solve_qp(market), rtol=1e-6)


def _random_market(seed: int, years: int = 6, firms: int = 5) -> Market:
    """Random markets: firms with three-point MAC curves, floors growing faster or slower than the discount rate,
    several tiers (some above the ceiling), ECRs, ceilings that may bind, opening and closing banks."""
    rng = np.random.default_rng(seed)
    bau = rng.uniform(50, 150, (firms, 1)) * (1 + rng.uniform(-0.03, 0.03, (firms, 1))) ** np.arange(years)
    prices = np.sort(rng.uniform(1, 120, (firms, 3)), axis=1)
    prices[:, 0] = 0
    shares = np.sort(rng.uniform(0.05, 0.9, (firms, 3)), axis=1)
    shares[:, 0] = 0
    f = Firms(bau, prices, shares)
    caps = bau.sum(0) * rng.uniform(0.6, 1.0, years)
    floor_growth = rng.uniform(1.0, 1.08)
    ceiling = float(rng.uniform(25, 80)) if seed % 2 else None
    supply = [
        YearSupply(
            free=c * 0.5, auctioned=c * 0.5, floor=float(rng.uniform(0, 15)) * floor_growth**t,
            steps=((40 * 1.05**t, c * 0.05), (float(rng.uniform(30, 90)), c * 0.03)),
            withheld=((5.0 * 1.07**t, c * 0.05),) if seed % 3 == 0 else (),
            ceiling=ceiling * 1.05**t if ceiling else None,
        )
        for t, c in enumerate(caps)
    ]
    return Market(f.abatement(), supply, rate=float(rng.uniform(0.02, 0.08)), initial_bank=float(rng.uniform(0, 50)),
                  terminal_bank=float(rng.uniform(0, 30)) if seed % 5 == 0 else 0.0)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_prices_match_the_planners_qp(seed):
    market = _random_market(seed)
    ours, theirs = solve(market).price, solve_qp(market)
    assert np.max(np.abs(ours - theirs) / np.maximum(1.0, theirs)) < 1e-6


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_the_equilibrium_respects_banking_floors_and_ceilings(seed):
    market = _random_market(seed)
    e = solve(market)
    scale = float(market.abatement.bau.sum())
    g = 1 + market.rate
    assert (e.bank >= -1e-9 * scale).all()
    for t in range(len(e.price) - 1):
        assert e.price[t + 1] <= g * e.price[t] * (1 + 1e-9) + 1e-12  # never a gain from buying to hold
        if e.bank[t] > 1e-6 * scale:
            assert e.price[t + 1] == pytest.approx(g * e.price[t], rel=1e-9)  # Hotelling while banking
    for y, p, unsold in zip(market.supply, e.price, e.unsold, strict=True):
        if y.ceiling is not None:
            assert p <= y.ceiling * (1 + 1e-12)
        if unsold > 1e-6 * scale:
            assert p <= y.floor * (1 + 1e-12)  # allowances go unsold only at or below the floor
    # Conservation: emissions never exceed what was supplied plus the opening bank.
    assert e.emissions.sum() <= market.initial_bank + e.supplied.sum() + 1e-6 * scale


def test_bad_markets_say_what_is_wrong():
    curve = _one_firm(2).abatement()
    with pytest.raises(InputError, match="1 years of supply for 2 years of emissions"):
        Market(curve, [YearSupply(free=1)])
    with pytest.raises(InputError, match="not a yearly rate"):
        Market(curve, [YearSupply(), YearSupply()], rate=5.0)
    with pytest.raises(InputError, match="no price clears the market"):
        solve(Market(Firms.linear(np.full((1, 1), 100.0), 50.0, 0.5).abatement(), [YearSupply(free=10)]))
    with pytest.raises(InputError, match="must not be negative"):
        Firms.linear(np.array([[-1.0]]), 10.0)
    with pytest.raises(InputError, match="vertical step"):
        Firms(np.array([[100.0]]), np.array([[0, 10, 10, 30]]), np.array([[0, 0.1, 0.5, 0.6]]))
    with pytest.raises(InputError, match="without banking there is no bank"):
        Market(curve, [YearSupply(free=1), YearSupply(free=1)], banking=False, initial_bank=50)
