"""China's 2019-2020 power-sector plan, unit by unit: allocations and obligations worked by hand.

Source of every rule: MEE 2019-2020 allocation plan (power sector), Section 4 and Annexes 2-4 (benchmarks and
correction factors), Section 6 (the 20% shortfall cap; gas units owe at most their allocation); CCER limit 5%
(Measures (Trial), secondary). Values as in shared/data/china and RULES.md §1.4.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openets.compliance.benchmark import Unit, allocate, ccer_limit, load_factor, obligation
from openets.errors import InputError
from openets.rules import load_program

CN = load_program("china_power")


def test_a_large_coal_unit_short_of_allowances_owes_its_verified_emissions():
    # Category I: 0.877 t/MWh x 1,000,000 MWh, water-cooled (1.00), no heat (1.00), load 90% (1.00) = 877,000.
    unit = Unit("coal-I", "I", 1_000_000, cooling="water", load_factor=0.90)
    assert allocate(CN, unit).allowances == 877_000
    owed = obligation(CN, unit, 950_000)
    assert (owed.obligation, owed.rule, owed.to_buy) == (950_000, "verified emissions", 73_000)
    assert ccer_limit(CN, 950_000, 2020) == 47_500  # 5% of verified emissions


def test_a_coal_unit_beyond_the_20_percent_cap_owes_its_allocation_plus_20_percent():
    # Category II: 0.979 x 500,000 MWh x 1.05 (air-cooled) x (1.007 + 0.0016 x (80 - 78)) = 519,217.545 -> 519,217.
    # Verified 800,000: its shortfall 280,783 exceeds 20% (160,000), so it owes 519,217 + 160,000.
    unit = Unit("coal-II", "II", 500_000, cooling="air", load_factor=0.78)
    assert allocate(CN, unit).allowances == 519_217
    owed = obligation(CN, unit, 800_000)
    assert (owed.obligation, owed.rule) == (679_217, "shortfall cap")


def test_a_gas_unit_over_its_allocation_owes_only_its_allocation():
    # Category IV: 0.392 x 400,000 MWh x (1 - 0.6 x 0.2) + 0.059 t/GJ x 100,000 GJ = 137,984 + 5,900 = 143,884.
    unit = Unit("gas", "IV", 400_000, heat_gj=100_000, heat_ratio=0.2, cooling=None)
    assert allocate(CN, unit).allowances == 143_884
    owed = obligation(CN, unit, 180_000)
    assert (owed.obligation, owed.rule, owed.to_buy) == (143_884, "capped at allocation", 0)


def test_an_unconventional_coal_chp_unit_with_a_surplus():
    # Category III: 1.146 x 300,000 x (1 - 0.22 x 0.3) + 0.126 x 200,000 = 321,109.2 + 25,200 -> 346,309; no load
    # correction for category III. Verified 300,000: owes 300,000 and keeps 46,309.
    unit = Unit("cfb", "III", 300_000, heat_gj=200_000, heat_ratio=0.3, cooling="water", load_factor=0.6)
    assert allocate(CN, unit).allowances == 346_309
    assert obligation(CN, unit, 300_000).obligation == 300_000


def test_load_bands():
    rules = CN.rulebook.benchmark_allocation
    assert load_factor(rules, 0.90) == 1
    assert load_factor(rules, 0.82) == Decimal("1.0042")  # 1 + 0.0014 x (85 - 82)
    assert load_factor(rules, 0.76) == Decimal("1.0134")  # 1.007 + 0.0016 x (80 - 76)
    assert float(load_factor(rules, 0.70)) == pytest.approx(1.015**2)  # 1.015 ^ (16 - 14)
    # CHP units of category I take no load correction.
    chp = Unit("chp", "I", 100_000, cooling="water", load_factor=0.6, chp=True)
    assert allocate(CN, chp).factors["load"] == 1


@settings(max_examples=100, deadline=None)
@given(
    category=st.sampled_from(["I", "II", "III", "IV"]),
    mwh=st.floats(0, 5e6),
    heat=st.floats(0, 5e6),
    ratio=st.floats(0, 0.9),
    load=st.floats(0.3, 1.0),
    verified=st.integers(0, 10_000_000),
)
def test_no_unit_owes_more_than_its_allocation_plus_20_percent_and_gas_never_buys(category, mwh, heat, ratio, load, verified):
    unit = Unit("u", category, mwh, heat_gj=heat, heat_ratio=ratio, cooling=None if category == "IV" else "air",
                load_factor=load)
    owed = obligation(CN, unit, verified)
    assert 0 <= owed.obligation <= verified
    assert owed.obligation <= owed.allocation + 0.2 * verified + 1
    if category == "IV":
        assert owed.to_buy == 0


def test_bad_units_are_refused_with_what_to_fix():
    with pytest.raises(InputError, match="unknown category 'V'; the rulebook's categories are I, II, III, IV"):
        allocate(CN, Unit("x", "V", 1))
    with pytest.raises(InputError, match="must not be negative"):
        allocate(CN, Unit("x", "I", -1))
    with pytest.raises(InputError, match=r"category I needs a cooling type \(water, air\)"):
        allocate(CN, Unit("x", "I", 1, cooling=None))
    with pytest.raises(InputError, match="has no fixed allowance budget"):
        CN.budget(2019)
    with pytest.raises(InputError, match="has no \\[benchmark_allocation\\]"):
        allocate(load_program("california"), Unit("x", "I", 1))
