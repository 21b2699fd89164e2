"""Invariants of the derived figures, over any input hypothesis draws."""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from openets.rules import load_program

CA = load_program("california")


@settings(max_examples=200, deadline=None)
@given(cpi=st.floats(min_value=0.0, max_value=0.2, allow_nan=False))
def test_ca_reserve_price_projection_is_monotone_increasing_and_in_cents(cpi):
    prices = [CA.auction_reserve_price(year, cpi=cpi).price for year in range(2024, 2061)]
    assert all(later > earlier for earlier, later in pairwise(prices))
    assert all(p == p.quantize(Decimal("0.01")) for p in prices)


@settings(max_examples=100, deadline=None)
@given(low=st.floats(min_value=0.0, max_value=0.2), high=st.floats(min_value=0.0, max_value=0.2))
def test_ca_reserve_price_projection_never_falls_when_cpi_rises(low, high):
    low, high = sorted((low, high))
    assert CA.auction_reserve_price(2035, cpi=low).price <= CA.auction_reserve_price(2035, cpi=high).price


@given(year=st.integers(min_value=2013, max_value=2031))
def test_holding_limit_never_exceeds_a_tenth_of_the_budget(year):
    assert 0 < CA.holding_limit(year) <= CA.budget(year) // 10
