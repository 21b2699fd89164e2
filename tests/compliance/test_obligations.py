"""Compliance obligations: hand-worked golden cases per program, invariants over any emissions, clear errors."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openets.compliance import (
    Obligation,
    UntimelyObligation,
    eligible_vintage_max,
    obligations,
    offset_limit,
    plan_surrender,
    untimely_surrender,
)
from openets.errors import InputError
from openets.rules import InstrumentKind, Program, load_program
from openets.rules.model import UntimelySurrender

CA = load_program("california")
QC = load_program("quebec")
RGGI = load_program("rggi")
WCI = load_program("wci")

OFFSET = InstrumentKind.OFFSET_CREDIT
ALLOWANCE = InstrumentKind.ALLOWANCE
RESERVE = InstrumentKind.RESERVE_ALLOWANCE
CEILING = InstrumentKind.PRICE_CEILING_UNIT


def with_compliance(program: Program, **changes: object) -> Program:
    """The program with some [compliance] entries replaced (a rulebook edit, without writing a file)."""
    compliance = program.rulebook.compliance.model_copy(update=changes)
    return Program(rulebook=program.rulebook.model_copy(update={"compliance": compliance}))


def summary(found: list[Obligation]) -> list[tuple[str, tuple[int, ...], date, int]]:
    return [(o.kind, o.emissions_years, o.due, o.quantity) for o in found]


CP2 = {2015: 1_000_000, 2016: 900_000, 2017: 800_000}


# --- California ---------------------------------------------------------------------------------------------


def test_ca_cp2_annual_thirty_percent_then_period_remainder():
    # Source: the brief's hand-worked case; 17 CCR §95855 (30%, california.toml [compliance.interim]) and
    # §95856(d)(1) (1 Nov of the year after); the true-up 1 Nov after the period (RULES.md 4b).
    found = obligations(CA, CP2)
    assert summary(found) == [
        ("annual", (2015,), date(2016, 11, 1), 300_000),
        ("annual", (2016,), date(2017, 11, 1), 270_000),
        ("period", (2015, 2016, 2017), date(2018, 11, 1), 2_130_000),
    ]
    assert {o.period_id for o in found} == {"CP2"}
    assert found[-1].quantity_by_year == (700_000, 630_000, 800_000)


def test_ca_cp1_first_annual_obligation_is_for_2013_due_1_november_2014():
    # Source: emissions-euets.com 'California cap-and-trade' (RULES.md 4b): the first annual surrender, 1 Nov 2014,
    # is 30% of 2013 emissions; the CP1 true-up is due 1 Nov 2015.
    assert summary(obligations(CA, {2013: 100_000, 2014: 120_000})) == [
        ("annual", (2013,), date(2014, 11, 1), 30_000),
        ("period", (2013, 2014), date(2015, 11, 1), 190_000),
    ]


def test_ca_annual_share_rounds_up_and_the_period_takes_the_exact_remainder():
    # Source: §95856(a), one instrument per ton: 30% of 1,000,001 t = 300,000.3 t needs 300,001 instruments.
    found = obligations(CA, {2015: 1_000_001, 2016: 3, 2017: 0})
    assert [o.quantity for o in found] == [300_001, 1, 1_000_004 - 300_002]
    assert sum(o.quantity for o in found) == 1_000_004


def test_ca_offset_limit_is_8_percent_in_cp2():
    # Source: 17 CCR §95854(b): Lo = 0.08 for the first three compliance periods.
    annual_2016, annual_2017, period = obligations(CA, CP2)
    assert offset_limit(CA, annual_2016) == 24_000
    assert offset_limit(CA, annual_2017) == 21_600
    assert offset_limit(CA, period) == 170_400


def test_ca_offset_limit_is_4_percent_in_cp4():
    # Source: 17 CCR §95854(b): Lo = 0.04 for the fourth compliance period (2021-2023).
    annual_2022, annual_2023, period = obligations(CA, {2021: 1_000_000, 2022: 1_000_000, 2023: 1_000_000})
    assert [offset_limit(CA, o) for o in (annual_2022, annual_2023, period)] == [12_000, 12_000, 96_000]


def test_ca_offset_limit_in_cp5_is_set_per_data_year():
    # Source: 17 CCR §95854(c): 0.04 for data years 2024 and 2025, 0.06 for 2026.
    period = obligations(CA, {2024: 1_000_000, 2025: 1_000_000, 2026: 1_000_000})[-1]
    assert period.quantity_by_year == (700_000, 700_000, 1_000_000)
    assert offset_limit(CA, period) == 28_000 + 28_000 + 60_000


def test_ca_offset_limit_rounds_down():
    # Source: §95854(b) Oo/S <= Lo: 8% of 1,234 = 98.72, so at most 98 offsets.
    period = obligations(CA, {2015: 0, 2016: 0, 2017: 1_234})[-1]
    assert offset_limit(CA, period) == 98


def test_ca_vintages_up_to_the_obligation_year():
    # Source: 17 CCR §95856(b)(2): within or before the year of an annual obligation, or the period's last year.
    annual_2016, annual_2017, period = obligations(CA, CP2)
    assert [eligible_vintage_max(CA, o) for o in (annual_2016, annual_2017, period)] == [2015, 2016, 2017]


def test_ca_untimely_surrender_is_four_times_with_three_quarters_allowances():
    # Source: 17 CCR §95857(b)(2)-(3): four times the excess emissions, at least three-fourths CA allowances.
    assert untimely_surrender(CA, 1_000) == UntimelyObligation(quantity=4_000, min_allowances=3_000)
    assert untimely_surrender(CA, 0) == UntimelyObligation(quantity=0, min_allowances=0)


def test_untimely_allowance_part_rounds_up():
    # Source: rounding rule of this module (the allowance part never below the share); a rulebook with a
    # multiplier of 3 and a 3/4 share: 2.25 -> 3 and 4.5 -> 5.
    rule = UntimelySurrender(multiplier=3, min_allowance_share=0.75, source="test", status="unconfirmed")
    program = with_compliance(CA, untimely_surrender=rule)
    assert untimely_surrender(program, 1) == UntimelyObligation(3, 3)
    assert untimely_surrender(program, 2) == UntimelyObligation(6, 5)


def test_ca_surrender_plan_offsets_to_the_limit_then_non_vintage_then_oldest_eligible_allowances():
    # Source: offsets first, then allowances (CARB 2013 proposal, mondaq note: RULES.md 4c); reserve units before
    # vintage allowances (Q-2 r.46.1 s.21, RULES.md 4d); v2018 is not eligible for CP2 (§95856(b)(2)).
    period = obligations(CA, CP2)[-1]
    holdings = [
        (OFFSET, 2014, 200_000),
        (ALLOWANCE, 2018, 500_000),
        (ALLOWANCE, 2016, 1_000_000),
        (ALLOWANCE, 2013, 500_000),
        (CEILING, None, 10_000),
        (RESERVE, None, 100_000),
    ]
    plan = plan_surrender(CA, period, holdings)
    assert plan.surrendered == (
        (OFFSET, 2014, 170_400),
        (RESERVE, None, 100_000),
        (CEILING, None, 10_000),
        (ALLOWANCE, 2013, 500_000),
        (ALLOWANCE, 2016, 1_000_000),
    )
    assert plan.offsets == 170_400
    assert plan.shortfall == 2_130_000 - 1_780_400


def test_ca_annual_plan_refuses_allowances_of_a_later_vintage():
    # Source: 17 CCR §95856(b)(2): the 2015 annual obligation takes vintage 2015 or earlier.
    annual_2016 = obligations(CA, CP2)[0]
    plan = plan_surrender(CA, annual_2016, [(ALLOWANCE, 2016, 400_000), (ALLOWANCE, 2015, 100_000)])
    assert plan.surrendered == ((ALLOWANCE, 2015, 100_000),)
    assert plan.shortfall == 200_000


def test_plan_accepts_kind_names_and_stops_when_the_obligation_is_met():
    annual_2016 = obligations(CA, CP2)[0]
    plan = plan_surrender(CA, annual_2016, [("allowance", 2014, 250_000), ("allowance", 2012, 250_000)])
    assert plan.surrendered == ((ALLOWANCE, 2012, 250_000), (ALLOWANCE, 2014, 50_000))
    assert plan.shortfall == 0


def test_wci_obligations_use_the_member_rules():
    # Source: wci.toml: compliance stays in the member rulebooks.
    assert obligations(WCI, CP2, jurisdiction="CA") == obligations(CA, CP2)


# --- RGGI ---------------------------------------------------------------------------------------------------


def test_rggi_interim_half_of_each_of_the_first_two_years_then_the_rest():
    # Source: rggi.org 'Compliance' page (rggi.toml [compliance.interim]; RULES.md 1.3): from CP3, 50% of the
    # emissions of each of the first two years; the rest at the end of the control period. Due 1 March after.
    found = obligations(RGGI, {2015: 1_000_001, 2016: 900_000, 2017: 800_000})
    assert summary(found) == [
        ("interim", (2015,), date(2016, 3, 1), 500_001),
        ("interim", (2016,), date(2017, 3, 1), 450_000),
        ("period", (2015, 2016, 2017), date(2018, 3, 1), 1_750_000),
    ]
    assert found[-1].quantity_by_year == (500_000, 450_000, 800_000)


def test_rggi_has_no_interim_before_the_third_control_period():
    # Source: rggi.toml [compliance.interim] from_year = 2015 ("starting in the third control period").
    assert summary(obligations(RGGI, {2012: 10, 2013: 20, 2014: 30})) == [
        ("period", (2012, 2013, 2014), date(2015, 3, 1), 60),
    ]


def test_rggi_offset_limit_is_3_3_percent():
    # Source: rggi.toml [[offset_limits]] 3.3%; 6 NYCRR 242-6.5(a)(3) (3.3% of 0.50 x emissions for an interim).
    interim_2015, _, period = obligations(RGGI, {2015: 1_000_001, 2016: 900_000, 2017: 800_000})
    assert offset_limit(RGGI, interim_2015) == 16_500  # 16,500.033
    assert offset_limit(RGGI, period) == 57_750


def test_rggi_vintages_up_to_the_control_period_end_even_for_an_interim():
    # Source: 6 NYCRR 242-6.5(a)(1): allocation years in a prior or the same control period.
    found = obligations(RGGI, {2015: 1, 2016: 1, 2017: 1})
    assert [eligible_vintage_max(RGGI, o) for o in found] == [2017, 2017, 2017]


def test_rggi_untimely_surrender_is_three_times_without_an_allowance_share():
    # Source: rggi.toml [compliance.untimely_surrender] multiplier 3, no min_allowance_share.
    assert untimely_surrender(RGGI, 10) == UntimelyObligation(quantity=30, min_allowances=None)


# --- Québec -------------------------------------------------------------------------------------------------


def test_quebec_owes_the_whole_period_on_1_november_after_it():
    # Source: Q-2 r.46.1 s.21 and the MELCC compliance page: on 1 Nov after the period, allowances for all of the
    # period's verified emissions; no annual share (unlike California's 30%).
    owed = obligations(QC, CP2)
    assert summary(owed) == [("period", (2015, 2016, 2017), date(2018, 11, 1), 2_700_000)]
    assert eligible_vintage_max(QC, owed[0]) == 2017  # s.20: not issued for a year after the period


def test_quebec_surrender_plan_takes_offsets_oldest_first_up_to_the_limit():
    # Source: Q-2 r.46.1 s.21: offsets up to the limit, reserve units, then emission units, least recent first.
    period = with_compliance(QC, interim=None)
    owed = obligations(period, {2015: 1_000, 2016: 1_000, 2017: 1_000})[-1]
    plan = plan_surrender(period, owed, [(OFFSET, 2016, 500), (ALLOWANCE, 2017, 5_000), (OFFSET, 2014, 100)])
    assert plan.surrendered == ((OFFSET, 2014, 100), (OFFSET, 2016, 140), (ALLOWANCE, 2017, 2_760))
    assert plan.offsets == 240  # 8% of 3,000


def test_quebec_untimely_surrender_is_missing_from_its_rulebook():
    with pytest.raises(InputError, match=r"quebec\.toml.*\[compliance\.untimely_surrender\]"):
        untimely_surrender(QC, 1)


# --- invariants ---------------------------------------------------------------------------------------------

PROGRAMS = [CA, QC, RGGI]


@st.composite
def period_emissions(draw: st.DrawFn) -> tuple[Program, dict[int, int]]:
    program = draw(st.sampled_from(PROGRAMS))
    period = draw(st.sampled_from(program.rulebook.compliance.periods))
    values = st.integers(min_value=0, max_value=10**12)
    return program, {y: draw(values) for y in range(period.start_year, period.end_year + 1)}


@settings(max_examples=300, deadline=None)
@given(case=period_emissions())
def test_obligations_sum_exactly_to_the_period_emissions(case):
    program, emissions = case
    found = obligations(program, emissions)
    assert sum(o.quantity for o in found) == sum(emissions.values())
    assert found[-1].kind == "period" and found[-1].emissions_years == tuple(sorted(emissions))
    assert [o.due for o in found] == sorted(o.due for o in found)


@settings(max_examples=300, deadline=None)
@given(case=period_emissions())
def test_every_quantity_is_a_non_negative_int_split_exactly_over_its_years(case):
    program, emissions = case
    for o in obligations(program, emissions):
        assert type(o.quantity) is int and o.quantity >= 0
        assert all(type(q) is int and q >= 0 for q in o.quantity_by_year)
        assert sum(o.quantity_by_year) == o.quantity
        assert 0 <= offset_limit(program, o) <= o.quantity


@st.composite
def holdings_for(draw: st.DrawFn, start: int, end: int) -> list[tuple[InstrumentKind, int | None, int]]:
    line = st.tuples(
        st.sampled_from(list(InstrumentKind)),
        st.integers(min_value=start - 4, max_value=end + 4),
        st.integers(min_value=0, max_value=10**7),
        st.booleans(),
    )
    lines = draw(st.lists(line, max_size=12))
    # Non-vintage kinds may come with or without a year; allowances always carry one.
    return [(k, None if (bare and k is not ALLOWANCE) else v, q) for k, v, q, bare in lines]


@settings(max_examples=300, deadline=None)
@given(case=period_emissions(), data=st.data())
def test_surrender_plan_never_uses_an_ineligible_vintage_nor_more_than_held_or_the_offset_limit(case, data):
    program, emissions = case
    owed = data.draw(st.sampled_from(obligations(program, emissions)))
    holdings = data.draw(holdings_for(min(owed.emissions_years), max(owed.emissions_years)))
    plan = plan_surrender(program, owed, holdings)
    latest = eligible_vintage_max(program, owed)
    assert all(v <= latest for k, v, _ in plan.surrendered if k is ALLOWANCE)
    used = Counter()
    held = Counter()
    for k, v, q in plan.surrendered:
        used[k, v] += q
    for k, v, q in holdings:
        held[k, v] += q
    assert all(used[key] <= held[key] for key in used)
    assert plan.offsets == sum(q for k, _, q in plan.surrendered if k is OFFSET) <= offset_limit(program, owed)
    assert sum(q for *_, q in plan.surrendered) + plan.shortfall == owed.quantity
    assert plan.shortfall >= 0


@settings(max_examples=300, deadline=None)
@given(case=period_emissions(), data=st.data())
def test_surrender_plan_reports_a_shortfall_only_when_eligible_holdings_run_out(case, data):
    program, emissions = case
    owed = data.draw(st.sampled_from(obligations(program, emissions)))
    holdings = data.draw(holdings_for(min(owed.emissions_years), max(owed.emissions_years)))
    plan = plan_surrender(program, owed, holdings)
    if plan.shortfall:
        latest = eligible_vintage_max(program, owed)
        offsets = sum(q for k, _, q in holdings if k is OFFSET)
        others = sum(q for k, v, q in holdings if k is not OFFSET and (k is not ALLOWANCE or v <= latest))
        assert plan.offsets == min(offsets, offset_limit(program, owed))
        assert sum(q for *_, q in plan.surrendered) == plan.offsets + others


@settings(max_examples=200, deadline=None)
@given(shortfall=st.integers(min_value=0, max_value=10**12))
def test_untimely_allowance_part_is_never_below_the_share(shortfall):
    rule = CA.rulebook.compliance.untimely_surrender
    found = untimely_surrender(CA, shortfall)
    assert found.quantity == rule.multiplier * shortfall
    assert rule.min_allowance_share * found.quantity <= found.min_allowances <= found.quantity
    assert found.min_allowances - rule.min_allowance_share * found.quantity < 1


# --- errors -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("emissions", "pattern"),
    [
        ({2015: -1, 2016: 0, 2017: 0}, r"emissions\[2015\] is -1 tCO2e; covered emissions cannot be negative"),
        ({2015: 1.5, 2016: 0, 2017: 0}, r"emissions\[2015\] must be a whole number of tCO2e"),
        ({2015: True, 2016: 0, 2017: 0}, r"emissions\[2015\] must be a whole number"),
        ({"2015": 1}, r"years must be whole years such as 2015; found the key '2015'"),
        ({2015: 1, 2017: 1}, r"emissions for CP2 \(2015-2017\) of california lack 2016; give every year"),
        ({2012: 1}, r"emissions year 2012 is outside every compliance period of california \(2013-2032"),
        ({}, r"emissions must be a non-empty mapping"),
    ],
)
def test_bad_emissions_are_refused_with_what_where_and_fix(emissions, pattern):
    with pytest.raises(InputError, match=pattern):
        obligations(CA, emissions)


def test_a_year_past_quebecs_last_period_names_the_rulebook_section():
    with pytest.raises(InputError, match=r"2024 is outside.*quebec.*add the period to \[\[compliance\.periods\]\]"):
        obligations(QC, {2024: 1, 2025: 1, 2026: 1})


def test_a_program_id_instead_of_a_program_is_refused():
    with pytest.raises(InputError, match=r"not the id 'californa'.*load_program\('californa'\)"):
        obligations("californa", CP2)  # type: ignore[arg-type]


def test_a_linked_market_needs_a_jurisdiction():
    with pytest.raises(InputError, match=r"'wci' is a linked market.*jurisdiction= one of CA, QC, ON"):
        obligations(WCI, CP2)
    with pytest.raises(InputError, match=r"no jurisdiction 'NY'"):
        obligations(WCI, CP2, jurisdiction="NY")


def test_a_rulebook_without_compliance_rules_is_refused():
    program = Program(rulebook=CA.rulebook.model_copy(update={"compliance": None}))
    with pytest.raises(InputError, match=r"california\.toml has no compliance rules; add \[\[compliance\.periods\]\]"):
        obligations(program, CP2)


def test_a_rulebook_without_surrender_rules_is_refused():
    compliance = CA.rulebook.compliance.model_copy(update={"surrender": None})
    program = Program(rulebook=CA.rulebook.model_copy(update={"compliance": compliance}))
    with pytest.raises(InputError, match=r"california\.toml has no \[compliance\.surrender\]; add the surrender deadline"):
        obligations(program, CP2)


def test_an_obligation_of_another_program_is_refused():
    owed = obligations(RGGI, {2015: 1, 2016: 1, 2017: 1})[-1]
    with pytest.raises(InputError, match=r"belongs to 'rggi' \(CP3\) but the program given is 'california'"):
        offset_limit(CA, owed)


@pytest.mark.parametrize(
    ("holdings", "pattern"),
    [
        ([("allowanse", 2015, 1)], r"holdings\[0\]: unknown instrument kind 'allowanse'; expected one of allowance"),
        ([(ALLOWANCE, None, 1)], r"holdings\[0\]: an allowance needs its vintage"),
        ([(ALLOWANCE, 2015, -1)], r"holdings\[0\] quantity must be between 0 and"),
        ([(ALLOWANCE, "2015", 1)], r"holdings\[0\]: vintage must be a year"),
        ([(ALLOWANCE, 2015)], r"holdings\[0\] must be \(instrument kind, vintage or None, quantity\)"),
    ],
)
def test_bad_holdings_are_refused(holdings, pattern):
    with pytest.raises(InputError, match=pattern):
        plan_surrender(CA, obligations(CA, CP2)[0], holdings)


def test_a_negative_shortfall_is_refused():
    with pytest.raises(InputError, match=r"shortfall must be between 0 and"):
        untimely_surrender(CA, -5)
