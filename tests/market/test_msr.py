"""The EU Market Stability Reserve: the rule against the Commission's published figures, its timing, and the
fixed point with the banking equilibrium."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openets.errors import InputError
from openets.market.equilibrium import Market, YearSupply, solve
from openets.market.firms import Firms
from openets.market.msr import MsrState, decided, flows, solve_with_msr
from openets.market.simulate import Assumptions, run_once, setting
from openets.rules.load import load_program

EU = load_program("eu")
RULES = EU.msr


def test_intake_matches_the_commissions_published_figures():
    assert RULES is not None
    # EC DG CLIMA news, 15 May 2019: TNAC 2018 = 1,654,909,824 -> 397,178,358 placed in the MSR (24%).
    assert decided(RULES, 2018, 1_654_909_824) == (397_178_358, 0.0)
    # EC DG CLIMA news, 15 May 2023: TNAC 2022 = 1,134,794,738 -> 272,350,737.
    assert decided(RULES, 2022, 1_134_794_738) == (272_350_737, 0.0)
    # Decision (EU) 2023/852: from the 2023 TNAC on, between 833 M and 1,096 M the intake is TNAC - 833 M.
    assert decided(RULES, 2025, 1_000_000_000) == (167_000_000, 0.0)
    assert decided(RULES, 2022, 1_000_000_000) == (240_000_000, 0.0)  # before it: 24%
    # Above 1,096 M the 24% applies again; the two rules meet there.
    assert decided(RULES, 2025, 1_200_000_000) == (288_000_000, 0.0)
    assert decided(RULES, 2025, 1_096_000_000)[0] == pytest.approx(0.24 * 1_096_000_000, abs=1e6)
    # Between 400 M and 833 M nothing moves; below 400 M, 100 M are released.
    assert decided(RULES, 2026, 600_000_000) == (0.0, 0.0)
    assert decided(RULES, 2026, 399_999_999) == (0.0, 100_000_000)


def _state(tnac: dict[int, float], holdings: float = 400e6, cap: dict[int, float] | None = None) -> MsrState:
    assert RULES is not None
    return MsrState(RULES, tnac, holdings, cap if cap is not None else {})


def test_intake_runs_from_september_4_12_then_8_12():
    # Auction calendar 2023 (co2news.sk, 23 Jun 2023): Sep-Dec 2023 volumes cut by 90,783,578, i.e. 4/12 of the
    # 272,350,737 decided on the 2022 TNAC (the Commission's monthly rounding differs by one allowance).
    state = _state({2021: 500e6, 2022: 1_134_794_738})
    path = flows(state, (2023, 2024), np.array([700e6, 700e6]), np.array([600e6, 600e6]))
    assert path.intake[0] == pytest.approx(90_783_578, abs=1.0)
    # 2024: 8/12 of the 2022 decision, nothing from 2023's 700 M.
    assert path.intake[1] == pytest.approx(272_350_737 * 8 / 12, abs=1.0)


def test_release_is_limited_by_holdings_and_invalidation_caps_them():
    state = _state({2022: 300e6, 2023: 300e6}, holdings=900e6, cap={2024: 400e6})
    path = flows(state, (2024,), np.array([300e6]), np.array([500e6]))
    assert path.invalidated[0] == 500e6  # 900 M held, 400 M valid from 1 Jan 2024
    assert path.release[0] == pytest.approx(100e6)  # 4/12 + 8/12 of 100 M
    assert path.holdings[0] == pytest.approx(300e6)
    empty = flows(_state({2022: 300e6, 2023: 300e6}, holdings=30e6), (2024,), np.array([300e6]), np.array([500e6]))
    assert empty.release[0] == pytest.approx(30e6)  # cannot release what it does not hold


def test_intake_never_exceeds_the_auction_volume():
    path = flows(_state({2022: 3e9, 2023: 3e9}), (2024,), np.array([3e9]), np.array([100e6]))
    assert path.intake[0] == 100e6


def test_missing_tnac_is_a_clear_error():
    with pytest.raises(InputError, match="TNAC of 2022 is needed for 2024"):
        flows(_state({2023: 1e9}), (2024,), np.array([1e9]), np.array([1e9]))


def _market(bau: float, years: int, cap: float, bank: float, full_price: float = 200.0) -> Market:
    firms = Firms.linear(np.full((1, years), bau), np.array([full_price]), 1.0)
    supply = [YearSupply(free=0.4 * cap, auctioned=0.6 * cap) for _ in range(years)]
    return Market(firms.abatement(), supply, rate=0.05, initial_bank=bank)


def test_fixed_point_is_consistent_and_raises_prices_when_only_intake_acts():
    years = tuple(range(2024, 2032))
    # The market goes on after the horizon (900 M still banked at its end), so the bank never falls below 400 M.
    market = replace(_market(bau=1000e6, years=len(years), cap=800e6, bank=1500e6), terminal_bank=900e6)
    state = _state({2022: 1500e6, 2023: 1500e6}, holdings=400e6, cap={})
    result = solve_with_msr(market, years, state)
    assert result.converged
    e = result.equilibrium
    assert (e.price > 0).all()  # allowances are scarce over the horizon
    # Consistency: the MSR's flows on the equilibrium's own banks are the adjustments it was solved with.
    again = flows(state, years, e.bank, np.array([y.auctioned for y in market.supply]))
    supplied = np.array([y.free + y.auctioned for y in market.supply]) - again.intake + again.release
    assert np.allclose(supplied, e.supplied, atol=2.0)
    # The same supply, solved directly, gives the same prices (the equilibrium is exact for a given supply path).
    fixed = [replace(y, auctioned=y.auctioned - i + r) for y, i, r in zip(market.supply, again.intake, again.release, strict=True)]
    assert np.allclose(solve(replace(market, supply=fixed)).price, e.price, rtol=1e-7)  # to the 1-allowance tolerance
    # With a bank never below 400 M, the MSR only takes: prices are higher than without it.
    assert result.msr.release.sum() == 0 and result.msr.intake.sum() > 0
    assert (e.price >= solve(market).price - 1e-9).all()


@settings(max_examples=15, deadline=None)
@given(
    bank=st.floats(900e6, 2500e6),
    cap=st.floats(700e6, 1100e6),
    full_price=st.floats(80.0, 400.0),
)
def test_fixed_point_invariants(bank, cap, full_price):
    years = tuple(range(2024, 2032))
    market = _market(bau=1000e6, years=len(years), cap=cap, bank=bank, full_price=full_price)
    state = _state({2022: bank, 2023: bank}, holdings=400e6, cap={y: 400e6 for y in years})
    result = solve_with_msr(market, years, state)
    if not result.converged:  # a stalled iteration must still be within 5% of a year's auctions (simulate keeps it)
        assert result.residual <= 0.05 * 0.6 * cap
        return
    e, path = result.equilibrium, result.msr
    assert (e.bank >= -1.0).all()  # to rounding on banks of 1e9
    assert (path.holdings <= 400e6 + path.intake + 1e-3).all()
    assert (path.release <= 100e6 + 1e-6 * 0.6 * cap).all()  # to the solver's tolerance
    growth = e.price[1:] / np.maximum(e.price[:-1], 1e-300)
    banked = e.bank[:-1] > 1e3
    assert np.allclose(growth[banked & (e.price[:-1] > 0)], 1.05, rtol=1e-6)  # Hotelling while the bank is positive


def test_iteration_limit_is_reported_not_hidden():
    years = tuple(range(2024, 2030))
    market = _market(bau=1000e6, years=len(years), cap=900e6, bank=1500e6)
    result = solve_with_msr(market, years, _state({2022: 1500e6, 2023: 1500e6}), max_iterations=1)
    assert not result.converged and result.residual > 1.0


def test_eu_setting_uses_the_rulebook_and_published_anchors():
    s = setting(EU, 2023, 2039)
    assert s.currency == "EUR"
    # EC DG CLIMA: 2021 cap 1,571,583,007 less two years of 43,003,515.
    assert s.supply[0].free + s.supply[0].auctioned == pytest.approx(1_485_575_977)
    # Directive 2023/959: 2024 cap = 2023 cap - 90 M - 4.3% x 1,954,705,227.
    assert s.supply[1].free + s.supply[1].auctioned == pytest.approx(1_311_523_652)
    assert s.supply[1].auctioned == pytest.approx(0.57 * 1_311_523_652)
    assert s.initial_bank == 1_134_794_738  # TNAC 2022 (EC news 15 May 2023; shared RULES.md)
    with pytest.raises(InputError, match="starts in 2023"):
        setting(EU, 2025, 2030)
    run = run_once(s, Assumptions(mac_price=250.0, max_share=1.0), np.random.default_rng(1))
    assert (run.price > 0).all() and run.bank[-1] == pytest.approx(0, abs=1.0)


def test_eu_sweep_reports_the_msr_flows():
    from openets.market.sweep import sweep

    result = sweep(EU, 2023, 2039, runs=3, seed=1, assumptions=Assumptions(mac_price=250.0, max_share=1.0)).as_dict()
    first = result["years"][0]
    assert result["currency"] == "EUR"
    # 2023: 8/12 of 24% of the 2021 TNAC (assumed equal to 2022's 1,134,794,738, eu_msr_anchors.csv) + 4/12 of the
    # 272,350,737 decided on the 2022 TNAC (EC news 15 May 2023; shared RULES.md 1.5).
    expected = (8 / 12 * 0.24 * 1_134_794_738 + 4 / 12 * 272_350_737) / 1e6
    assert first["msr_intake_mt"]["p50"] == pytest.approx(expected, abs=1e-3)
    # From 2024 the reserve keeps at most 400 M: what it held above that on 1 January is invalidated.
    assert result["msr_fixed_point"]["stalled_runs"] in range(4)  # reported, per sweep
    second = result["years"][1]
    assert second["msr_invalidated_mt"]["p50"] == pytest.approx(first["msr_holdings_mt"]["p50"] - 400, abs=1e-3)
