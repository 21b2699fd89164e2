"""Auction clearing: hand-worked cases (each worked in its comment) and invariants under hypothesis."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openets.auction.clearing import (
    BIDDER_TYPES,
    PRICE_MAX_CENTS,
    Bid,
    ClearingRules,
    Containment,
    Tranche,
    cad_to_usd_cents,
    clear,
    joint_floor_cents,
)
from openets.errors import InputError

WCI_LOT = 1_000


def test_exhausted_supply_settles_at_the_lowest_accepted_bid():
    # 10 lots offered; A takes 6 at $20, B 4 of its 5 at $15; C ($12) gets nothing. Price: B's $15.00.
    bids = [Bid("A", "covered", 2000, 6000), Bid("B", "covered", 1500, 5000), Bid("C", "other", 1200, 3000)]
    r = clear(bids, [Tranche("CA:state_owned", 10_000)], ClearingRules(floor_cents=1000))
    assert r.settlement_price_cents == 1500
    assert r.awards == {"A": 6000, "B": 4000}
    assert (r.offered, r.sold, r.unsold, r.exhausted) == (10_000, 10_000, 0, True)


def test_undersubscribed_fills_every_bid_at_the_reserve_price_and_sells_consigned_first():
    # 9 of 15 lots bid. Consigned (5,000) sells first; the 4,000 left split CA:QC in proportion 8,000:2,000.
    supply = [Tranche("consigned", 5000, order=0), Tranche("CA:state_owned", 8000, order=1), Tranche("QC:state_owned", 2000, order=1)]
    bids = [Bid("A", "covered", 1500, 6000), Bid("B", "utility", 1300, 3000), Bid("C", "other", 1200, 2000)]
    r = clear(bids, supply, ClearingRules(floor_cents=1273))
    assert r.settlement_price_cents == 1273  # the 2016 WCI auctions' reserve price; C bid below it
    assert r.awards == {"A": 6000, "B": 3000}
    assert r.sold_by_category == {"consigned": 5000, "CA:state_owned": 3200, "QC:state_owned": 800}
    assert r.unsold_by_category == {"consigned": 0, "CA:state_owned": 4800, "QC:state_owned": 1200}
    assert (r.sold, r.unsold, r.rejected_below_floor, r.exhausted) == (9000, 6000, 2000, False)
    lowest = clear(bids, supply, ClearingRules(floor_cents=1273, undersubscribed_price="lowest_accepted_bid"))
    assert lowest.settlement_price_cents == 1300


def test_tie_is_split_pro_rata_with_the_remainder_in_seeded_order():
    # 10 lots: A takes 4 at $20; B, C, D tie at $18 for 3, 3, 2 lots and share the 6 left:
    # 6*3/8 = 2.25 -> 2, 2.25 -> 2, 6*2/8 = 1.5 -> 1; one lot remains and goes to the first in the random order.
    bids = [Bid("A", "covered", 2000, 4000), Bid("B", "covered", 1800, 3000), Bid("C", "covered", 1800, 3000),
            Bid("D", "covered", 1800, 2000)]
    results = [clear(bids, [Tranche("s", 10_000)], ClearingRules(floor_cents=1000, seed=seed)) for seed in range(12)]
    for r in results:
        assert r.settlement_price_cents == 1800 and r.tie_price_cents == 1800
        base = {"B": 2000, "C": 2000, "D": 1000}
        first = r.tie_remainder_order[0]
        expected = {"A": 4000, **{k: v + (1000 if k == first else 0) for k, v in base.items()}}
        assert r.awards == expected
    assert len({r.tie_remainder_order for r in results}) > 1  # the seed matters
    again = clear(bids, [Tranche("s", 10_000)], ClearingRules(floor_cents=1000, seed=7))
    assert again == results[7]  # and the same seed gives the same awards


def test_purchase_and_holding_limits_cut_the_lowest_priced_lots_first():
    # 100,000 offered; an "other" bidder may buy 4% = 4,000: of its 3,000 at $30 and 3,000 at $25 it keeps
    # 3,000 at $30 and 1,000 at $25. A covered bidder with 2,500 of holding room keeps 2 lots of its 5.
    bids = [Bid("O", "other", 3000, 3000), Bid("O", "other", 2500, 3000), Bid("K", "covered", 2800, 5000)]
    rules = ClearingRules(floor_cents=1000, purchase_limits={"other": Decimal("0.04"), "covered": Decimal("0.15")},
                          holding_room={"K": 2500})
    r = clear(bids, [Tranche("s", 100_000)], rules)
    assert r.awards == {"K": 2000, "O": 4000}
    assert r.trimmed_by_limits == {"K": 3000, "O": 2000}


def test_joint_auction_converts_cad_bids_and_the_quebec_floor_binds():
    # Rate 1.2500 CAD/USD. California reserve $12.73; Québec minimum C$16.25 = US$13.00, which binds.
    rate = Decimal("1.2500")
    floor = joint_floor_cents(1273, 1625, rate)
    assert floor == 1300
    assert cad_to_usd_cents(1749, rate) == 1399  # 13.992 rounded down
    bids = [Bid("Q1", "covered", 1600, 2000, "CAD"),  # US$12.80: below the joint floor
            Bid("Q2", "covered", 1750, 3000, "CAD"),  # US$14.00
            Bid("C1", "covered", 1350, 4000, "USD")]
    supply = [Tranche("CA:state_owned", 4000, 1), Tranche("QC:state_owned", 1000, 1)]
    r = clear(bids, supply, ClearingRules(floor_cents=floor, exchange_rate_cad_per_usd=rate))
    assert r.rejected_below_floor == 2000
    assert r.settlement_price_cents == 1350
    assert r.awards == {"C1": 2000, "Q2": 3000}


def test_ccr_is_added_only_when_demand_at_its_trigger_exceeds_supply_and_price_steps_to_the_trigger():
    # RGGI, single allowances. Base 100, CCR 10 at $4.00. Demand at >= $4.00 is 105 > 100: the CCR joins and
    # sells only at >= $4.00. Below $4.00 only 100 are for sale against 105 wanted, at $4.00 and above 110
    # against 105: the price stops at the trigger and the 105 are filled.
    ccr = Containment(quantity=10, trigger_cents=400)
    rules = ClearingRules(floor_cents=200, lot_size=1, ccr=ccr)
    bids = [Bid("X", "covered", 500, 60), Bid("Y", "covered", 450, 45), Bid("Z", "other", 300, 30)]
    r = clear(bids, [Tranche("base", 100)], rules)
    assert (r.settlement_price_cents, r.sold, r.ccr_offered, r.ccr_sold) == (400, 105, 10, 5)
    assert r.awards == {"X": 60, "Y": 45}
    # With Y wanting 50, demand at $4.50 (110) takes base and CCR exactly: supply runs out at Y's bid.
    bids[1] = Bid("Y", "covered", 450, 50)
    r = clear(bids, [Tranche("base", 100)], rules)
    assert (r.settlement_price_cents, r.sold, r.ccr_sold, r.exhausted) == (450, 110, 10, True)
    # Demand at the trigger (60) does not exceed the base supply: no CCR, and Z's $3.00 sets the price.
    r2 = clear([Bid("X", "covered", 500, 60), Bid("Z", "other", 300, 80)], [Tranche("base", 100)], rules)
    assert (r2.settlement_price_cents, r2.sold, r2.ccr_offered, r2.awards) == (300, 100, 0, {"X": 60, "Z": 40})


def test_demand_equal_to_supply_exhausts_it_at_the_lowest_accepted_bid():
    # Found in review: equal demand and supply once settled at the reserve price.
    rules = ClearingRules(floor_cents=1000)
    one = clear([Bid("A", "covered", 2000, 1000)], [Tranche("s", 1000)], rules)
    assert (one.settlement_price_cents, one.exhausted) == (2000, True)
    two = clear([Bid("A", "covered", 2000, 1000), Bid("B", "covered", 1800, 1000)], [Tranche("s", 2000)], rules)
    assert (two.settlement_price_cents, two.sold) == (1800, 2000)
    # A losing bid below does not change the price.
    three = clear([Bid("A", "covered", 2000, 1000), Bid("B", "covered", 1500, 1000)], [Tranche("s", 1000)], rules)
    assert (three.settlement_price_cents, three.awards) == (2000, {"A": 1000})


def test_a_stray_high_bid_does_not_change_the_outcome_however_wide_the_price_levels():
    # The first case plus D, one lot far above everyone, and one more lot offered: D is filled and the rest
    # clears as before. At $20,000.00 the levels are every cent from the floor; at $900,000.00 (more than
    # LEVELS_MAX cents above it) they are the distinct prices bid.
    for stray in (2_000_000, 90_000_000):
        bids = [Bid("A", "covered", 2000, 6000), Bid("B", "covered", 1500, 5000),
                Bid("C", "other", 1200, 3000), Bid("D", "other", stray, 1000)]
        r = clear(bids, [Tranche("s", 11_000)], ClearingRules(floor_cents=1000))
        assert r.settlement_price_cents == 1500
        assert r.awards == {"A": 6000, "B": 4000, "D": 1000}


@settings(max_examples=300, deadline=None)
@given(price=st.integers(0, PRICE_MAX_CENTS), rate=st.integers(1, 10**6).map(lambda r: Decimal(r) / 10_000))
def test_a_cad_bid_converts_rounded_down_over_the_whole_price_range(price, rate):
    # The compiled conversion corrects a floating-point guess; Decimal arithmetic is the reference. A lone
    # bid, undersubscribed, settles at its own price in US cents.
    rules = ClearingRules(floor_cents=0, exchange_rate_cad_per_usd=rate,
                          undersubscribed_price="lowest_accepted_bid")
    r = clear([Bid("Q", "covered", price, 1000, "CAD")], [Tranche("s", 2000)], rules)
    assert r.settlement_price_cents == cad_to_usd_cents(price, rate)


def test_the_ccr_category_name_is_reserved():
    with pytest.raises(InputError, match="'ccr' is reserved"):
        clear([Bid("A", "covered", 2000, 1000)], [Tranche("ccr", 1000)], ClearingRules(floor_cents=1000))


def test_ecr_withholds_what_would_sell_below_its_trigger():
    # Base 100, ECR 10 at $6.00. Below $6.00 only 90 are for sale: X takes 50 at $7.00, Y 40 of its 45 at $5.00.
    rules = ClearingRules(floor_cents=200, lot_size=1, ecr=Containment(quantity=10, trigger_cents=600))
    r = clear([Bid("X", "covered", 700, 50), Bid("Y", "covered", 500, 45)], [Tranche("base", 100)], rules)
    assert (r.settlement_price_cents, r.sold, r.ecr_withheld, r.unsold) == (500, 90, 10, 0)
    # Demand at or above the trigger takes 95: the price stops at $6.00 and the ECR keeps the other 5.
    r2 = clear([Bid("X", "covered", 700, 95), Bid("Y", "covered", 300, 45)], [Tranche("base", 100)], rules)
    assert (r2.settlement_price_cents, r2.sold, r2.ecr_withheld, r2.unsold) == (600, 95, 5, 0)
    # Demand above the trigger takes everything: nothing is withheld.
    r3 = clear([Bid("X", "covered", 700, 120)], [Tranche("base", 100)], rules)
    assert (r3.settlement_price_cents, r3.sold, r3.ecr_withheld) == (700, 100, 0)


@pytest.mark.parametrize(
    ("bids", "rules", "message"),
    [
        ([Bid("A", "covered", 1500, 1500)], ClearingRules(floor_cents=1000), "bid 1 (A): quantity 1500 is not a positive multiple of the lot size 1,000"),
        ([Bid("A", "covered", 1500, -1000)], ClearingRules(floor_cents=1000), "quantity -1000 is not a positive multiple"),
        ([Bid("A", "broker", 1500, 1000)], ClearingRules(floor_cents=1000), "bidder type 'broker' is unknown; valid types: covered, utility, other"),
        ([Bid("A", "covered", 1500, 1000, "EUR")], ClearingRules(floor_cents=1000), "currency 'EUR' is unknown"),
        ([Bid("A", "covered", 1500, 1000, "CAD")], ClearingRules(floor_cents=1000), "need the auction exchange rate"),
        ([Bid("A", "covered", -5, 1000)], ClearingRules(floor_cents=1000), "price -5 cents is outside 0 to 100,000,000"),
        ([Bid("A", "covered", 1500, 1000), Bid("A", "other", 1400, 1000)], ClearingRules(floor_cents=1000), "more than one bidder type"),
    ],
)
def test_bad_bids_are_refused_with_the_bid_named(bids, rules, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        clear(bids, [Tranche("s", 10_000)], rules)


names = st.sampled_from([f"b{i}" for i in range(8)])
bid_strategy = st.builds(
    Bid,
    bidder=names,
    bidder_type=st.just("covered"),
    price_cents=st.integers(0, 3000),
    quantity=st.integers(1, 12).map(lambda n: n * WCI_LOT),
    currency=st.sampled_from(["USD", "USD", "CAD"]),
)
types_of = {f"b{i}": BIDDER_TYPES[i % 3] for i in range(8)}


@settings(max_examples=300, deadline=None)
@given(
    bids=st.lists(bid_strategy, max_size=40),
    supply=st.lists(st.integers(0, 40_500), min_size=1, max_size=3),
    floor=st.integers(0, 2000),
    shares=st.tuples(st.sampled_from([None, "0.04", "0.25"]), st.sampled_from([None, "0.15", "0.4"])),
    room=st.dictionaries(names, st.integers(0, 30_000), max_size=3),
    seed=st.integers(0, 2**32 - 1),
)
def test_clearing_invariants(bids, supply, floor, shares, room, seed):
    bids = [Bid(b.bidder, types_of[b.bidder], b.price_cents, b.quantity, b.currency) for b in bids]
    limits = {k: Decimal(v) for k, v in zip(("other", "utility"), shares, strict=True) if v is not None}
    rules = ClearingRules(floor_cents=floor, purchase_limits=limits, holding_room=room,
                          exchange_rate_cad_per_usd=Decimal("1.3127"), seed=seed)
    tranches = [Tranche(f"t{i}", q, order=i % 2) for i, q in enumerate(supply)]
    r = clear(bids, tranches, rules)
    offered = sum(supply)
    usd = {id(b): b.price_cents if b.currency == "USD" else cad_to_usd_cents(b.price_cents, Decimal("1.3127")) for b in bids}
    assert r.offered == offered and r.sold <= offered
    assert r.sold + r.unsold == offered
    assert sum(r.awards.values()) == r.sold
    assert sum(r.sold_by_category.values()) == r.sold
    assert all(0 <= r.sold_by_category[t.category] <= t.quantity for t in tranches)
    assert all(q % WCI_LOT == 0 and q > 0 for q in r.awards.values())
    if r.sold:
        assert r.settlement_price_cents is not None and r.settlement_price_cents >= floor
    for bidder, got in r.awards.items():
        mine = [b for b in bids if b.bidder == bidder]
        eligible = sum(b.quantity for b in mine if usd[id(b)] >= r.settlement_price_cents)
        assert got <= eligible  # never more than it bid at or above the one price
        kind = types_of[bidder]
        if kind in limits:
            assert got <= int(limits[kind] * offered)
        if bidder in room:
            assert got <= room[bidder]
    if r.exhausted and r.settlement_price_cents is not None:
        # one price for all: every unlimited bidder's bids strictly above the price are filled in full
        for bidder in {b.bidder for b in bids}:
            if types_of[bidder] in limits or bidder in room:
                continue
            above = sum(b.quantity for b in bids if b.bidder == bidder and usd[id(b)] > r.settlement_price_cents)
            assert r.awards.get(bidder, 0) >= above
    assert clear(bids, tranches, rules) == r  # the same seed gives the same awards


@settings(max_examples=300, deadline=None)
@given(
    bids=st.lists(
        st.builds(Bid, bidder=names, bidder_type=st.just("covered"), price_cents=st.integers(0, 2500),
                  quantity=st.integers(1, 60), currency=st.just("USD")),
        max_size=30,
    ),
    base=st.integers(0, 300),
    floor=st.integers(0, 500),
    ccr=st.one_of(st.none(), st.builds(Containment, quantity=st.integers(0, 60), trigger_cents=st.integers(0, 2500))),
    ecr=st.one_of(st.none(), st.builds(Containment, quantity=st.integers(0, 60), trigger_cents=st.integers(0, 2500))),
    seed=st.integers(0, 1000),
)
def test_rggi_clearing_invariants_with_containment_reserves(bids, base, floor, ccr, ecr, seed):
    rules = ClearingRules(floor_cents=floor, lot_size=1, ccr=ccr, ecr=ecr, seed=seed)
    r = clear(bids, [Tranche("base", base)], rules)
    assert r.offered == base + r.ccr_offered
    assert r.sold + r.unsold + r.ecr_withheld == r.offered
    assert min(r.sold, r.unsold, r.ecr_withheld) >= 0
    assert sum(r.awards.values()) == r.sold
    assert r.ccr_sold <= r.ccr_offered and r.sold <= r.offered
    if ecr is not None:
        assert r.ecr_withheld <= ecr.quantity
    if r.sold:
        p = r.settlement_price_cents
        assert p is not None and p >= floor
        if r.ccr_sold:
            assert p >= ccr.trigger_cents  # CCR allowances sell only at or above the trigger
        if r.ecr_withheld and ecr.trigger_cents >= floor:
            assert p <= ecr.trigger_cents  # withheld only when the price would fall to or below the trigger
        for bidder, got in r.awards.items():
            assert got <= sum(b.quantity for b in bids if b.bidder == bidder and b.price_cents >= p)
