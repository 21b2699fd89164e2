"""Golden figures of the shipped rulebooks, each checked against the source it was read from."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from openets.errors import InputError, RulebookError
from openets.rules import AccountKind, InstrumentKind, list_programs, load_program


# --- budgets ------------------------------------------------------------------------------------------------

# 17 CCR §95841 Tables 6-1/6-2 (Oct-2017 text), copied from shared data wci/wci_annual_budgets.csv (MtCO2e).
CA_BUDGETS = {2013: 162_800_000, 2015: 394_500_000, 2020: 334_200_000, 2030: 200_500_000}
# Québec Orders in Council 1185-2012 and 1126-2017, same file.
QC_BUDGETS = {2013: 23_200_000, 2014: 23_200_000, 2030: 44_140_000}


@pytest.mark.parametrize(("year", "budget"), sorted(CA_BUDGETS.items()))
def test_california_budgets_match_95841_tables(ca, year, budget):
    assert ca.budget(year) == budget
    assert ca.budgets[year] == budget
    assert ca.budget(year, "CA") == budget


def test_california_budget_years_run_2013_to_2031(ca):
    # Table 6-1 starts in 2013, Table 6-2 ends in 2031 (wci/wci_annual_budgets.csv).
    assert ca.vintages() == tuple(range(2013, 2032))
    assert all(isinstance(v, int) for v in ca.budgets.values())


@pytest.mark.parametrize(("year", "budget"), sorted(QC_BUDGETS.items()))
def test_quebec_budgets_match_orders_in_council(qc, year, budget):
    assert qc.budget(year) == budget


def test_rggi_regional_budgets_follow_the_model_rules(rggi):
    # 2013 Model Rule: 91 M short tons in 2014 (rggi.org cap page); 2017 Model Rule: 75,147,784 in 2021
    # falling 2,275,000 a year (RGGI release via publicpower.org) - shared data rggi/rggi_caps_annual.csv.
    assert rggi.budget(2014) == 91_000_000
    assert rggi.budget(2021) == 75_147_784
    assert rggi.budget(2030) == 75_147_784 - 9 * 2_275_000
    # 2009-2011: ten-state budget 188,076,976; 2012-13: nine states (rggi_caps_annual.csv).
    assert rggi.budget(2009) == 188_076_976
    assert rggi.budget(2012) == 165_184_246
    # 2018-2020 caps as published on rggi.org (rggi_caps_annual.csv, CONFIRMED).
    assert (rggi.budget(2018), rggi.budget(2019), rggi.budget(2020)) == (82_235_598, 80_179_708, 78_175_215)
    assert rggi.allowance_unit == "short_ton"
    assert rggi.jurisdictions == ("RGGI",)


def test_rggi_totals_and_adjusted_budgets(rggi):
    # rggi/rggi_caps_annual.csv: 2020 ten-state cap 96,175,215 (with NJ 18 M) and adjusted 74,283,807;
    # 2021 eleven-state cap 119,767,784 and adjusted 100,677,453; rggi.org 2024 ten-state cap 84,162,784
    # and adjusted 69,401,609.
    assert rggi.budget_additions(2020) == {"NJ": 18_000_000}
    assert rggi.total_budget(2020) == 96_175_215
    assert rggi.adjusted_budget(2020) == 74_283_807
    assert rggi.total_budget(2021) == 119_767_784
    assert rggi.adjusted_budget(2021) == 100_677_453
    assert rggi.total_budget(2024) == 84_162_784
    assert rggi.adjusted_budget(2024) == 69_401_609
    # 2016 adjusted cap 64,615,467 published exactly on rggi.org (same file).
    assert rggi.adjusted_budget(2016) == 64_615_467
    assert rggi.budget_adjustments(2016) == {"FCPIA": 8_207_664, "SCPIA": 13_683_744}


def test_wci_budget_sums_the_members_linked_that_year(wci, ca, qc):
    # Québec linked on 1 Jan 2014 (CARB 'Joint Auctions' page): 2013 is California alone, 2014 is CA + QC.
    assert wci.budget(2013) == ca.budget(2013)
    assert wci.budget(2014) == ca.budget(2014) + qc.budget(2014) == 182_900_000
    assert wci.budget(2014, "QC") == 23_200_000
    assert wci.budget(2031) == ca.budget(2031)  # no Québec cap for 2031 in the source
    assert wci.jurisdictions == ("CA", "QC", "ON")


def test_wci_members_and_link_dates(wci):
    members = {m.jurisdiction: m for m in wci.members}
    assert members["CA"].program == "california" and members["CA"].end is None
    assert members["QC"].program == "quebec" and members["QC"].start == date(2014, 1, 1)
    # Ontario linked 1 Jan 2018 and left after the Q2-2018 auction; O. Reg. 144/16 revoked 3 July 2018.
    assert members["ON"].start == date(2018, 1, 1) and members["ON"].end == date(2018, 7, 3)
    assert members["ON"].program is None  # its caps could not be sourced: no budget
    assert wci.vintages("ON") == ()
    assert wci.vintages("QC")[0] == 2013  # Québec's 2013 allowances entered the market in 2014


def test_single_programs_have_no_members(ca, rggi):
    assert ca.members == [] and rggi.members == []


def test_budget_errors_name_the_valid_range(ca, wci):
    with pytest.raises(InputError, match=r"no allowance budget for 2040; budget years are 2013-2031"):
        ca.budget(2040)
    with pytest.raises(InputError, match="valid jurisdictions: CA, QC, ON"):
        wci.budget(2014, "NY")
    with pytest.raises(InputError, match=r"wci \(ON\) has no allowance budget for 2018"):
        wci.budget(2018, "ON")


def test_unknown_program_id_lists_the_shipped_ids():
    with pytest.raises(RulebookError) as caught:
        load_program("atlantis")
    message = str(caught.value)
    assert "'atlantis'" in message
    assert "california, china_power, eu, quebec, rggi, wci" in message


# --- holding limits, reserves, advance auctions -------------------------------------------------------------


def test_california_holding_limit_2013(ca):
    # 0.1 x 25 M + 0.025 x (162.8 M - 25 M) = 5,945,000 (RULES.md §1.1 second pass, 3b; emissions-euets.com).
    assert ca.holding_limit(2013) == 5_945_000


def test_quebec_and_wci_holding_limit_use_the_combined_budget(qc, wci):
    # Q-2 r.46.1 s.32: C = Québec's cap + California's cap; 2014: 0.1 x 25 M + 0.025 x (182.9 M - 25 M).
    assert qc.holding_limit(2014) == wci.holding_limit(2014) == 6_447_500
    # 2013, before the link: Québec's own 23.2 M cap, below 25 M, so 10% of it.
    assert qc.holding_limit(2013) == 2_320_000


def test_holding_limit_counts_general_and_compliance_accounts(ca, rggi):
    # 17 CCR §95920(b): limited-use holding and exchange-clearing accounts are excluded.
    assert ca.holding_limit_counted_kinds == frozenset({AccountKind.GENERAL_HOLDING, AccountKind.COMPLIANCE})
    assert rggi.holding_limit(2020) is None
    assert rggi.holding_limit_counted_kinds == frozenset()


def test_reserve_quantities(ca, qc, rggi, wci):
    # 17 CCR §95870(a): 1% of the 2013 budget; §95871(a) Table 8-2: 10.5 M in 2021 (wci_budget_parameters.csv).
    assert ca.reserve_quantity("CA", 2013) == 1_628_000
    assert ca.reserve_quantity("CA", 2018) == 25_081_000  # 7% of 358.3 M
    assert ca.reserve_quantity("CA", 2021) == 10_500_000
    assert ca.reserve_quantity("CA", 2030) == 0
    # Québec s.38: 4% of 63.19 M in 2016.
    assert qc.reserve_quantity("QC", 2016) == 2_527_600
    assert wci.reserve_quantity("QC", 2016) == 2_527_600
    # RGGI CCR: 5 M in 2014, 10 M to 2020, 10% of the regional cap with NJ and VA from 2021:
    # 11,976,778 (2021) and 11,611,278 (2022) per ESAI (rggi/rggi_ccr_ecr_annual.csv).
    assert rggi.reserve_quantity("RGGI", 2014) == 5_000_000
    assert rggi.reserve_quantity("RGGI", 2020) == 10_000_000
    assert rggi.reserve_quantity("RGGI", 2021) == 11_976_778
    assert rggi.reserve_quantity("RGGI", 2022) == 11_611_278
    assert rggi.reserve_quantity("RGGI", 2013) == 0


def test_advance_auction_quantities(ca, qc, rggi, wci):
    # 17 CCR §95870(b)/§95871(b): 10% of each budget year from 2015; none for 2013-2014 in the source.
    assert ca.advance_auction_quantity("CA", 2015) == 39_450_000
    assert ca.advance_auction_quantity("CA", 2014) == 0
    assert wci.advance_auction_quantity("CA", 2021) == 32_080_000
    assert qc.advance_auction_quantity("QC", 2016) == 6_319_000
    assert rggi.advance_auction_quantity("RGGI", 2020) == 0
    with pytest.raises(InputError, match="no member rulebook"):
        wci.advance_auction_quantity("ON", 2018)


# --- reserve (floor) prices ---------------------------------------------------------------------------------

# California Auction Reserve Price 2012-2024, copied from shared data auctions/ca_auction_reserve_price_schedule.csv
# (ICAP Allowance Price Explorer; 2012 = $10.00 per 17 CCR §95911(c)).
CA_RESERVE_PRICES = {
    2012: "10.00",
    2013: "10.71",
    2014: "11.34",
    2015: "12.10",
    2016: "12.73",
    2017: "13.57",
    2018: "14.53",
    2019: "15.62",
    2020: "16.68",
    2021: "17.71",
    2022: "19.70",
    2023: "22.21",
    2024: "24.04",
}


@pytest.mark.parametrize(("year", "price"), sorted(CA_RESERVE_PRICES.items()))
def test_california_reserve_price_history(ca, year, price):
    point = ca.auction_reserve_price(year)
    assert point.price == Decimal(price)
    assert str(point.price) == price  # whole cents, as published
    assert point.currency == "USD" and not point.projected


def test_california_reserve_price_projection_with_given_cpi(ca):
    # §95911(c)(3)(A): previous price x (1 + 5% + CPI), to the cent. With CPI 3%:
    # 2025 = 24.04 x 1.08 = 25.9632 -> 25.96; 2026 = 25.96 x 1.08 = 28.0368 -> 28.04.
    p2025 = ca.auction_reserve_price(2025, cpi=0.03)
    assert p2025.price == Decimal("25.96") and p2025.projected and p2025.status == "unconfirmed"
    assert "CPI 0.03" in p2025.source
    assert ca.auction_reserve_price(2026, cpi=0.03).price == Decimal("28.04")
    # The default assumption (2.5%) applies when no CPI is given: 24.04 x 1.075 = 25.843 -> 25.84.
    assert ca.auction_reserve_price(2025).price == Decimal("25.84")


def test_reserve_price_errors(ca):
    with pytest.raises(InputError, match="no auction reserve price before 2012"):
        ca.auction_reserve_price(2011)
    with pytest.raises(InputError, match="0.03 means 3%"):
        ca.auction_reserve_price(2030, cpi=3)


def test_wci_reports_the_california_floor(wci, ca):
    assert wci.auction_reserve_price(2016) == ca.auction_reserve_price(2016)


def test_quebec_minimum_price_in_cad(qc):
    # Québec-only auctions: minimum price CAD 10.75 (Dec 2013) and 11.39 (2014), shared data
    # auctions/qc_only_auction_settlements_2013_2014.csv.
    assert qc.auction_reserve_price(2013).price == Decimal("10.75")
    assert qc.auction_reserve_price(2014).price == Decimal("11.39")
    assert qc.auction_reserve_price(2014).currency == "CAD"
    # Later years are projected: 11.39 x (1 + 5% + 2%) = 12.1873 -> 12.19.
    assert qc.auction_reserve_price(2015, cpi=0.02).price == Decimal("12.19")
    assert qc.auction_reserve_price(2015).projected


# RGGI minimum reserve price, shared data auctions/rggi_price_schedules.csv ($2.00 in 2014 x 1.025 a year,
# rounded to the cent; RI 250-RICR-120-05-47).
RGGI_MIN_PRICES = {
    2008: "1.86",
    2013: "1.98",
    2014: "2.00",
    2015: "2.05",
    2016: "2.10",
    2017: "2.15",
    2018: "2.20",
    2019: "2.26",
    2020: "2.32",
    2021: "2.38",
    2022: "2.44",
    2023: "2.50",
    2024: "2.56",
    2025: "2.62",
}


@pytest.mark.parametrize(("year", "price"), sorted(RGGI_MIN_PRICES.items()))
def test_rggi_minimum_reserve_price(rggi, year, price):
    point = rggi.auction_reserve_price(year)
    assert point.price == Decimal(price)
    assert not point.projected  # a fixed regulatory escalation, no CPI assumption


def test_reserve_tier_prices(ca, rggi):
    # ca_apcr_tier_prices.csv: 2021 tiers $41.40 / $53.20 and the $65.00 ceiling (§95915(f)(1)).
    assert ca.reserve_tier_prices(2021) == {
        "apcr.tier_1": Decimal("41.40"),
        "apcr.tier_2": Decimal("53.20"),
        "apcr.price_ceiling": Decimal("65.00"),
    }
    # rggi_price_schedules.csv: CCR trigger $13.00 in 2021, ECR trigger $6.00.
    assert rggi.reserve_tier_prices(2021) == {"ccr.trigger": Decimal("13.00"), "ecr.trigger": Decimal("6.00")}


# --- offsets, compliance ------------------------------------------------------------------------------------


def test_offset_limits(ca, qc, rggi):
    # 17 CCR §95854: 8% for CP1-CP3, 4% for 2021-2025, 6% from 2026; Québec 8%; RGGI 3.3%.
    assert [ca.offset_limit(y) for y in (2013, 2020, 2021, 2025, 2026, 2031)] == [
        Decimal("0.08"),
        Decimal("0.08"),
        Decimal("0.04"),
        Decimal("0.04"),
        Decimal("0.06"),
        Decimal("0.06"),
    ]
    assert qc.offset_limit(2015) == Decimal("0.08")
    assert rggi.offset_limit(2015) == Decimal("0.033")
    assert ca.offset_limit(2012) is None


def test_compliance_rules(ca, rggi):
    # §95854(c): CP2 2015-2017; §95855: 30% of the previous year; §95857(b): 4x, at least 3/4 allowances.
    assert (ca.compliance_period(2016).start_year, ca.compliance_period(2016).end_year) == (2015, 2017)
    compliance = ca.rulebook.compliance
    assert compliance.interim.share == Decimal("0.30")
    assert compliance.untimely_surrender.multiplier == 4
    assert compliance.untimely_surrender.min_allowance_share == Decimal("0.75")
    # rggi.org Compliance page: 50% interim from CP3 (2015-2017).
    assert rggi.rulebook.compliance.interim.share == Decimal("0.50")
    assert rggi.rulebook.compliance.interim.from_year == 2015
    assert rggi.compliance_period(2016).id == "CP3"
    assert rggi.rulebook.compliance.untimely_surrender.multiplier == 3


# --- holdings -----------------------------------------------------------------------------------------------


def test_limited_use_accounts_hold_only_allowances(ca):
    assert ca.may_hold(AccountKind.LIMITED_USE, InstrumentKind.ALLOWANCE)
    for kind in (
        InstrumentKind.OFFSET_CREDIT,
        InstrumentKind.RESERVE_ALLOWANCE,
        InstrumentKind.PRICE_CEILING_UNIT,
    ):
        assert not ca.may_hold(AccountKind.LIMITED_USE, kind)


def test_reserve_units_are_not_tradable(ca, wci):
    for program in (ca, wci):
        assert program.may_hold(AccountKind.COMPLIANCE, InstrumentKind.PRICE_CEILING_UNIT)
        assert not program.may_hold(AccountKind.GENERAL_HOLDING, InstrumentKind.PRICE_CEILING_UNIT)
        assert not program.may_hold(AccountKind.GENERAL_HOLDING, InstrumentKind.RESERVE_ALLOWANCE)
        assert not program.may_hold(AccountKind.EXCHANGE_CLEARING, InstrumentKind.RESERVE_ALLOWANCE)


def test_instrument_kinds(ca, qc, rggi, wci):
    assert ca.instrument_kinds == tuple(InstrumentKind)
    assert InstrumentKind.PRICE_CEILING_UNIT not in qc.instrument_kinds
    assert rggi.instrument_kinds == (InstrumentKind.ALLOWANCE, InstrumentKind.OFFSET_CREDIT)
    assert wci.instrument_kinds == tuple(InstrumentKind)  # the union of its members
    assert not qc.may_hold(AccountKind.LIMITED_USE, InstrumentKind.ALLOWANCE)
    assert wci.may_hold(AccountKind.LIMITED_USE, InstrumentKind.ALLOWANCE)  # California's utilities


# --- statuses required by RULES.md --------------------------------------------------------------------------


def test_values_marked_unconfirmed_in_rules_md_are_unconfirmed(ca, qc, rggi):
    # RULES.md §1.1: holding-limit formula [UNCONFIRMED]; 2026+ budgets possibly amended [UNCONFIRMED];
    # post-2014 purchase limits [UNCONFIRMED]. §1.2: Québec annual 30% [UNCONFIRMED].
    # §1.3: totals with NJ/VA [UNCONFIRMED]; CCR 5 M in 2014 [UNCONFIRMED].
    assert ca.rulebook.holding_limit.status == "unconfirmed"
    assert ca.rulebook.budgets.provenance(2026).status == "unconfirmed"
    assert ca.rulebook.budgets.provenance(2013).status == "confirmed"
    post_2014 = [p for p in ca.rulebook.auction.purchase_limits if p.from_year >= 2015]
    assert post_2014 and all(p.status == "unconfirmed" for p in post_2014)
    assert qc.rulebook.compliance.interim is None  # MELCC compliance page: end-of-period obligation only
    assert all(a.status == "unconfirmed" for a in rggi.rulebook.budget_additions)
    ccr = next(r for r in rggi.rulebook.reserves if r.id == "ccr")
    assert ccr.quantity.provenance(2014).status == "unconfirmed"
    assert ca.rulebook.auction.reserve_price.default_cpi.status == "unconfirmed"


def test_every_shipped_program_exports_one_json_object():
    for program in list_programs():
        exported = program.to_json()
        text = json.dumps(exported)
        again = json.loads(text)
        assert again["id"] == program.id
        assert {"id", "name", "allowance_unit", "currency", "budgets", "parameters"} <= set(again)
        assert all(key.isdigit() and len(key) == 4 for key in again["budgets"])
        assert all(isinstance(v, int) for v in again["budgets"].values())
    wci_json = load_program("wci").to_json()
    assert [m["jurisdiction"] for m in wci_json["members"]] == ["CA", "QC", "ON"]
    assert wci_json["budgets"]["2014"] == 182_900_000


# --- auction rules (issue 3) --------------------------------------------------------------------------------


def test_undersubscribed_wci_auctions_settle_at_the_reserve_price(ca, qc, wci):
    # shared data auctions/ca_qc_auction_settlements_2012_2018.csv with wci/wci_auction_history_quarterly.csv:
    # every undersubscribed auction settled exactly at the floor (2016 Q2 current: 11% sold, at $12.73).
    for program in (ca, qc, wci):
        rule = program.rulebook.auction.undersubscribed_price
        assert rule.rule == "reserve_price"
        assert rule.status == "secondary"  # the §95911 settlement text was not read
        assert program.auction_rules(2016).undersubscribed_price == "reserve_price"


def test_auction_lot_sizes(ca, qc, wci, rggi):
    # 17 CCR §95911(a): lots of 1,000; Q-2 r.46.1 s.50 likewise. RGGI: single allowances per issue 3 (unread).
    assert [p.auction_rules(2016).lot_size for p in (ca, qc, wci)] == [1_000, 1_000, 1_000]
    assert rggi.auction_rules(2016).lot_size == 1
    assert rggi.rulebook.auction.format.status == "unconfirmed"


def test_california_purchase_limits_2012_2014(ca):
    # emissions-euets.com summary of §95911: covered 15%, utilities 40%, others 4%; advance 25% for everyone.
    rules = ca.auction_rules(2013)
    assert rules.purchase_limits == {
        "covered": Decimal("0.15"),
        "utility": Decimal("0.40"),
        "other": Decimal("0.04"),
    }
    assert rules.advance_purchase_limits == {b: Decimal("0.25") for b in ("covered", "utility", "other")}
    assert "[secondary]" in rules.sources["purchase_limits.utility"]


def test_california_purchase_limits_after_2014_are_unconfirmed_and_partial(ca):
    # RULES.md §1.1: post-2014 limits not read; believed 25% covered, 4% others; no utility or advance figure.
    rules = ca.auction_rules(2016)
    assert rules.purchase_limits == {"covered": Decimal("0.25"), "other": Decimal("0.04")}
    assert rules.advance_purchase_limits == {}
    assert all("[unconfirmed]" in rules.sources[f"purchase_limits.{b}"] for b in ("covered", "other"))


def test_quebec_purchase_limits_apply_to_both_auctions(qc, wci):
    # Q-2 r.46.1 s.50: emitters 25%, participants 4%, current and future vintages alike.
    rules = qc.auction_rules(2016)
    assert rules.purchase_limits == rules.advance_purchase_limits
    assert rules.purchase_limits["covered"] == Decimal("0.25")
    assert rules.purchase_limits["other"] == Decimal("0.04")
    # A joint auction uses each jurisdiction's own limits.
    assert wci.auction_rules(2016, "QC").purchase_limits == rules.purchase_limits
    assert wci.auction_rules(2016).purchase_limits == {"covered": Decimal("0.25"), "other": Decimal("0.04")}
    assert wci.auction_rules(2016).bid_currencies == ("USD", "CAD")


def test_auction_rules_refuse_years_before_the_program(ca):
    with pytest.raises(InputError, match=r"california holds auctions from 2012; found 2011"):
        ca.auction_rules(2011)


def test_tier_prices_have_roles_and_project_with_cpi(ca, rggi):
    # california.toml: the price ceiling is a tier with role price_ceiling; RGGI's CCR and ECR triggers.
    roles = {(t.tier, t.role) for t in ca.tier_prices(2021)}
    assert roles == {("tier_1", "tier"), ("tier_2", "tier"), ("price_ceiling", "price_ceiling")}
    assert {(t.reserve, t.role) for t in rggi.tier_prices(2021)} == {("ccr", "trigger"), ("ecr", "trigger")}
    # Tier 3 ended in 2020 and has no escalation; tiers 1-2 and the ceiling rise 5% + CPI (§95915(f)).
    projected = {t.tier: t.point for t in ca.tier_prices(2025, cpi=0.03)}
    assert set(projected) == {"tier_1", "tier_2", "price_ceiling"}
    assert projected["price_ceiling"].price == Decimal("95.28")  # 88.22 x 1.08 = 95.2776
    assert projected["price_ceiling"].projected and projected["price_ceiling"].status == "unconfirmed"
    # RGGI triggers are published to 2030 and have no escalation after it.
    assert rggi.tier_prices(2031) == []
