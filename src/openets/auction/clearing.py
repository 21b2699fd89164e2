"""Sealed-bid, single-round, uniform-price auction clearing: bids and offered supply in, awards and price out.

Pure: no I/O, no clock, no registry. The operator (`auction/run.py`, later) and the simulator call this same code.

The rules implemented (sources in RULES.md and the rulebooks):
- bids below the floor (the reserve price; in a joint WCI auction the higher of the California and Québec
  reserve prices after conversion) are rejected (17 CCR §95911(b); Q-2 r.46.1 s.52);
- a bidder's lots above its purchase limit (a share of the offered supply, by bidder type) or its holding-limit
  room are cut, lowest-priced lots first (Q-2 r.46.1 s.52; §95911);
- lots are awarded from the highest price down at one uniform price: the lowest accepted bid when the supply
  runs out, and the reserve price when it does not (every bid at or above the floor is then filled; the 2016
  WCI auctions that went undersubscribed settled at the reserve price);
- bids tied at the settlement price share what is left pro rata to their quantities, rounded down to whole
  lots; the lots left over go one at a time to tied bidders in the order of a random permutation drawn from the
  seed (Québec's procedure, Q-2 r.46.1 s.61.5, applied by analogy to s.52; the California text was not read:
  unconfirmed);
- RGGI's Cost Containment Reserve is added only if demand at or above its trigger exceeds the base supply, and
  sells only at or above the trigger; from 2021 the Emissions Containment Reserve withholds, up to its size,
  allowances that would sell below its trigger (RGGI Model Rule; RI 250-RICR-120-05-47 Tables 1-2).

Bid prices are integers in cents of the bid's currency; quantities are integers of allowances, multiples of the
lot size (WCI 1,000; RGGI 1). Canadian-dollar bids are converted to US cents at the auction exchange rate,
rounded down to the cent, so that a converted bid never counts for more than it offered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

import numpy as np

from openets.auction import _kernels
from openets.errors import InputError

CURRENCIES = ("USD", "CAD")
BIDDER_TYPES = ("covered", "utility", "other")
#: Put a limit on everything: one auction clears at most this many bids, each of at most QUANTITY_MAX
#: allowances at a price of at most PRICE_MAX_CENTS (far above any carbon price; keeps integer sums exact).
BIDS_MAX = 20_000_000
QUANTITY_MAX = 10**10
PRICE_MAX_CENTS = 100_000_000
#: Demand is tallied per cent from the floor up when the bids span fewer levels than this; beyond, per price bid.
LEVELS_MAX = 20_000_000
_RATE_SCALE = 10_000  # exchange rates are used with four decimals, as the WCI notices publish them


@dataclass(frozen=True, slots=True)
class Bid:
    """One sealed bid: `quantity` allowances at `price_cents` (in the bid's currency) or better."""

    bidder: str
    bidder_type: str
    price_cents: int
    quantity: int
    currency: str = "USD"


@dataclass(frozen=True, slots=True)
class Tranche:
    """Allowances offered in one category. When an auction is undersubscribed, tranches with a lower `order`
    sell first (WCI: consigned allowances before state-owned ones, §95911(f)(1)); tranches of equal order share
    what sells in proportion to their quantities (between jurisdictions, their state-owned quantities)."""

    category: str
    quantity: int
    order: int = 0


@dataclass(frozen=True, slots=True)
class Containment:
    """A reserve that changes supply at a trigger price: RGGI's CCR (added) or ECR (withheld), in allowances."""

    quantity: int
    trigger_cents: int


@dataclass(frozen=True, slots=True)
class ClearingRules:
    """Everything clearing needs besides the bids and the offered supply.

    `purchase_limits` maps a bidder type to its largest share of the offered (base) supply; a type that is not
    listed has no purchase limit. `holding_room` maps a bidder to the most it may still acquire under its
    holding limit. `exchange_rate_cad_per_usd` is needed when any bid is in CAD.
    """

    floor_cents: int
    lot_size: int = 1_000
    purchase_limits: Mapping[str, Decimal] = field(default_factory=dict)
    holding_room: Mapping[str, int] = field(default_factory=dict)
    exchange_rate_cad_per_usd: Decimal | None = None
    ccr: Containment | None = None
    ecr: Containment | None = None
    undersubscribed_price: str = "reserve_price"  # or "lowest_accepted_bid"
    seed: int = 0


@dataclass(frozen=True)
class AuctionResult:
    """The outcome, shaped like the regulators' summary results. Prices in US cents (the settlement currency)."""

    settlement_price_cents: int | None  # None when nothing sold
    offered: int
    sold: int
    unsold: int
    awards: dict[str, int]
    sold_by_category: dict[str, int]
    unsold_by_category: dict[str, int]
    ccr_offered: int
    ccr_sold: int
    ecr_withheld: int
    exhausted: bool  # demand at the settlement price met or exceeded the supply
    qualified_quantity: int  # allowances bid at or above the floor
    rejected_below_floor: int
    trimmed_by_limits: dict[str, int]
    tie_price_cents: int | None
    tie_remainder_order: tuple[str, ...]
    median_bid_cents: int | None  # quantity-weighted, over qualified bids
    mean_bid_cents: float | None
    seed: int

    def as_dict(self) -> dict[str, Any]:
        cents = self.settlement_price_cents
        return {
            "settlement_price_usd": None if cents is None else cents / 100,
            "offered": self.offered,
            "sold": self.sold,
            "unsold": self.unsold,
            "exhausted": self.exhausted,
            "awards": [{"bidder": b, "quantity": q} for b, q in self.awards.items()],
            "sold_by_category": self.sold_by_category,
            "unsold_by_category": self.unsold_by_category,
            "ccr_offered": self.ccr_offered,
            "ccr_sold": self.ccr_sold,
            "ecr_withheld": self.ecr_withheld,
            "qualified_quantity": self.qualified_quantity,
            "rejected_below_floor": self.rejected_below_floor,
            "trimmed_by_limits": self.trimmed_by_limits,
            "tie_price_usd": None if self.tie_price_cents is None else self.tie_price_cents / 100,
            "tie_remainder_order": list(self.tie_remainder_order),
            "median_bid_usd": None if self.median_bid_cents is None else self.median_bid_cents / 100,
            "mean_bid_usd": None if self.mean_bid_cents is None else round(self.mean_bid_cents / 100, 4),
            "seed": self.seed,
        }


def cad_to_usd_cents(cad_cents: int, rate_cad_per_usd: Decimal) -> int:
    """A CAD bid in US cents, rounded down (a converted bid never counts for more than it offered)."""
    return int((Decimal(cad_cents) / rate_cad_per_usd).to_integral_value(rounding=ROUND_FLOOR))


def joint_floor_cents(usd_reserve_cents: int, cad_reserve_cents: int, rate_cad_per_usd: Decimal) -> int:
    """The joint-auction floor: the higher of the two reserve prices after conversion, the CAD one rounded up
    so that nothing sells below either jurisdiction's reserve price."""
    cad_in_usd = int(
        (Decimal(cad_reserve_cents) / rate_cad_per_usd).to_integral_value(rounding=ROUND_CEILING)
    )
    return max(usd_reserve_cents, cad_in_usd)


@dataclass(frozen=True)
class BidArrays:
    """Bids as parallel arrays (what the clearing works on; built from `Bid`s or a file without per-bid objects).

    `bidder` holds indexes into `bidder_names`; `currency` is 0 for USD, 1 for CAD; `bidder_type` indexes
    BIDDER_TYPES.
    """

    bidder: np.ndarray
    bidder_names: tuple[str, ...]
    bidder_type: np.ndarray
    price_cents: np.ndarray
    quantity: np.ndarray
    currency: np.ndarray

    @classmethod
    def from_bids(cls, bids: Sequence[Bid]) -> BidArrays:
        names: dict[str, int] = {}
        bidder = np.empty(len(bids), dtype=np.int64)
        btype = np.empty(len(bids), dtype=np.int8)
        price = np.empty(len(bids), dtype=np.int64)
        qty = np.empty(len(bids), dtype=np.int64)
        cur = np.empty(len(bids), dtype=np.int8)
        for i, b in enumerate(bids):
            where = f"bid {i + 1} ({b.bidder})"
            if b.bidder_type not in BIDDER_TYPES:
                msg = f"{where}: bidder type {b.bidder_type!r} is unknown; valid types: {', '.join(BIDDER_TYPES)}"
                raise InputError(msg)
            if b.currency not in CURRENCIES:
                msg = (
                    f"{where}: currency {b.currency!r} is unknown; valid currencies: {', '.join(CURRENCIES)}"
                )
                raise InputError(msg)
            bidder[i] = names.setdefault(b.bidder, len(names))
            btype[i] = BIDDER_TYPES.index(b.bidder_type)
            price[i] = b.price_cents
            qty[i] = b.quantity
            cur[i] = CURRENCIES.index(b.currency)
        return cls(bidder, tuple(names), btype, price, qty, cur)


def clear(bids: Sequence[Bid] | BidArrays, supply: Sequence[Tranche], rules: ClearingRules) -> AuctionResult:
    """Clear one auction. Raises InputError for malformed bids, supply or rules (naming the bid or field)."""
    arrays = bids if isinstance(bids, BidArrays) else BidArrays.from_bids(bids)
    rate_scaled = _check(arrays, supply, rules)
    lot = rules.lot_size
    n_bidders = len(arrays.bidder_names)
    base = sum(t.quantity for t in supply)
    floor = rules.floor_cents

    # Check every bid, convert CAD to US cents, tally what the floor lets through per bidder and level.
    code, bad, usd, wanted, types, total_qualified, total, highest, scanned = _kernels.scan(
        arrays.bidder, arrays.bidder_type, arrays.price_cents, arrays.quantity, arrays.currency,
        n_bidders, lot, floor, rate_scaled, _RATE_SCALE, PRICE_MAX_CENTS, QUANTITY_MAX, LEVELS_MAX,
    )
    if code != _kernels.OK:
        raise _bad_bid(arrays, rules, code, int(bad))
    rejected = total - total_qualified
    qty = arrays.quantity

    # Per-bidder limits, then cut each bidder's lowest-priced lots down to its limit: it keeps its
    # highest-priced lots, `limit` in all (at or above any price, the lesser of that and what it bid there).
    rooms = list(map(rules.holding_room.get, arrays.bidder_names)) if rules.holding_room else []
    limit = _bidder_limits(rules, base, types, rooms)
    over = wanted > limit
    limit = np.maximum(limit, 0)  # a negative purchase share still cuts only what was bid
    kept = np.minimum(wanted, limit)
    trimmed: dict[str, int] = {}
    cut_price = cut_q = np.array([], dtype=np.int64)
    if over.any():
        cut_price, cut_q = _kernels.trim(arrays.bidder, usd, qty, floor, limit, over)
        cut = np.flatnonzero(over)
        names = [arrays.bidder_names[i] for i in cut.tolist()]
        trimmed = dict(zip(names, (wanted - kept)[cut].tolist(), strict=True))

    # Demand by price level: a histogram over the prices bid, not a sort of the bids. Levels are every cent
    # from the floor to the highest bid (or, for an extreme spread, the distinct prices bid).
    span = highest - floor + 1
    if highest < 0:
        levels = np.array([], dtype=np.int64)
        as_bid = np.array([], dtype=np.int64)
    elif span <= LEVELS_MAX:
        levels = np.arange(floor, highest + 1, dtype=np.int64)
        as_bid = scanned
    else:
        qual = np.flatnonzero(usd >= floor)
        levels, level_of = np.unique(usd[qual], return_inverse=True)
        as_bid = np.bincount(level_of, weights=qty[qual], minlength=len(levels)).astype(np.int64)
    demand_at = as_bid.copy()  # what stays bid after the limit cuts
    np.subtract.at(demand_at, np.searchsorted(levels, cut_price), cut_q)
    demand_ge = np.cumsum(demand_at[::-1])[::-1]  # allowances bid at or above each level

    # Supply at each level, in whole lots; the CCR joins only if demand at or above its trigger exceeds the base.
    base_cap = base // lot * lot
    ccr_cap = 0
    if rules.ccr is not None and rules.ccr.quantity > 0:
        k = int(np.searchsorted(levels, rules.ccr.trigger_cents))
        if k < len(levels) and int(demand_ge[k]) > base_cap:
            ccr_cap = rules.ccr.quantity // lot * lot
    ecr_cap = rules.ecr.quantity // lot * lot if rules.ecr is not None else 0
    cap = np.full(len(levels), base_cap, dtype=np.int64)
    if ccr_cap:
        cap += np.where(levels >= rules.ccr.trigger_cents, ccr_cap, 0)  # type: ignore[union-attr]
    if ecr_cap:
        cap -= np.where(levels < rules.ecr.trigger_cents, ecr_cap, 0)  # type: ignore[union-attr]
    np.maximum(cap, 0, out=cap)

    # Demand falls and supply rises with the price: the highest level where demand meets or exceeds supply
    # settles (demand equal to supply exhausts it, so the lowest accepted bid sets the price).
    crossing = np.flatnonzero(demand_ge >= cap)
    tie_price: int | None = None
    tie_order: tuple[str, ...] = ()
    if len(crossing) == 0:
        # Undersubscribed: every qualified lot is filled.
        exhausted = False
        awards = kept.copy()
        sold = int(demand_ge[0]) if len(levels) else 0
        if sold == 0:
            settlement: int | None = None
        elif rules.undersubscribed_price == "lowest_accepted_bid":
            settlement = int(levels[np.flatnonzero(demand_at)[0]])
        else:
            settlement = floor
        if settlement is not None and ccr_cap and sold > base_cap:
            # CCR allowances sold: demand exceeded the base supply below the trigger, so the price is at least it.
            settlement = max(settlement, rules.ccr.trigger_cents)  # type: ignore[union-attr]
    else:
        exhausted = True
        k = int(crossing[-1])
        p_star = int(levels[k])
        above = int(demand_ge[k + 1]) if k + 1 < len(levels) else 0
        cap_here = int(cap[k])
        bid_above, bid_at = _kernels.fill(arrays.bidder, usd, qty, p_star, n_bidders)
        awards = np.minimum(bid_above, limit)  # every lot kept above the price is filled
        tied = np.minimum(bid_above + bid_at, limit) - awards  # allowances each bidder keeps at the price
        if above == 0 and cap_here == 0:
            settlement, sold = None, 0  # nothing on offer at any price
        elif above >= cap_here:
            # The supply steps between this level and the next one bid (a CCR or ECR trigger): the price is
            # the trigger, and exactly the demand above it is filled.
            next_bid = int(levels[k + 1 + int(np.flatnonzero(demand_at[k + 1 :])[0])])
            settlement = _step_price(rules, p_star, next_bid)
            sold = above
        else:
            settlement = p_star
            tie_price = p_star
            room_lots = (cap_here - above) // lot
            tie_order = _split_tie(arrays.bidder_names, tied, room_lots, lot, awards, rules.seed)
            sold = cap_here

    ccr_sold = max(0, sold - base_cap) if ccr_cap else 0
    ecr_withheld = 0
    if ecr_cap and (settlement is None or settlement <= rules.ecr.trigger_cents):  # type: ignore[union-attr]
        # Demand at or above the trigger did not take the whole base supply: the ECR keeps, up to its size,
        # what would otherwise have sold (or stayed unsold) below the trigger.
        ecr_withheld = min(ecr_cap, base - min(sold, base))
    offered = base + ccr_cap
    by_cat_sold = _allocate(supply, min(sold, base))
    withheld_by_cat = _allocate_last(supply, by_cat_sold, ecr_withheld)
    unsold_by_cat = {
        t.category: t.quantity - by_cat_sold[t.category] - withheld_by_cat.get(t.category, 0) for t in supply
    }
    if ccr_cap:
        by_cat_sold["ccr"] = ccr_sold
        unsold_by_cat["ccr"] = ccr_cap - ccr_sold

    median, mean = _bid_stats(levels, as_bid)
    won = np.flatnonzero(awards)
    awarded = dict(zip([arrays.bidder_names[i] for i in won.tolist()], awards[won].tolist(), strict=True))
    return AuctionResult(
        settlement_price_cents=settlement,
        offered=offered,
        sold=sold,
        unsold=offered - sold - ecr_withheld,
        awards=dict(sorted(awarded.items())),
        sold_by_category=by_cat_sold,
        unsold_by_category=unsold_by_cat,
        ccr_offered=ccr_cap,
        ccr_sold=ccr_sold,
        ecr_withheld=ecr_withheld,
        exhausted=exhausted,
        qualified_quantity=total_qualified,
        rejected_below_floor=rejected,
        trimmed_by_limits=dict(sorted(trimmed.items())),
        tie_price_cents=tie_price,
        tie_remainder_order=tie_order,
        median_bid_cents=median,
        mean_bid_cents=mean,
        seed=rules.seed,
    )


def _check(arrays: BidArrays, supply: Sequence[Tranche], rules: ClearingRules) -> int:
    """Refuse malformed supply or rules; return the exchange rate scaled to an integer (0 if none).

    The bids themselves are checked in the same pass that tallies them (`_kernels.scan`, `_bad_bid`).
    """
    n = len(arrays.quantity)
    if n > BIDS_MAX:
        msg = f"{n:,} bids exceed the limit of {BIDS_MAX:,} per auction"
        raise InputError(msg)
    if rules.lot_size <= 0:
        msg = f"lot size {rules.lot_size} is not positive"
        raise InputError(msg)
    if rules.floor_cents < 0:
        msg = f"floor price {rules.floor_cents} cents is negative"
        raise InputError(msg)
    for t in supply:
        if t.quantity < 0:
            msg = f"offered quantity of {t.category!r} is negative ({t.quantity})"
            raise InputError(msg)
    if len({t.category for t in supply}) != len(supply):
        msg = "offered supply names a category twice; give each category once"
        raise InputError(msg)
    if any(t.category == "ccr" for t in supply):
        msg = "the category name 'ccr' is reserved for the Cost Containment Reserve; name the offer otherwise"
        raise InputError(msg)
    if rules.undersubscribed_price not in ("reserve_price", "lowest_accepted_bid"):
        msg = f"undersubscribed_price {rules.undersubscribed_price!r} is unknown; use reserve_price or lowest_accepted_bid"
        raise InputError(msg)
    rate = rules.exchange_rate_cad_per_usd
    if rate is None:
        return 0
    if rate <= 0:
        msg = f"exchange rate {rate} CAD per USD is not positive"
        raise InputError(msg)
    scaled = rate * _RATE_SCALE
    if scaled != scaled.to_integral_value():
        msg = f"exchange rate {rate} has more than four decimals; WCI notices publish four"
        raise InputError(msg)
    return int(scaled)


def _bad_bid(arrays: BidArrays, rules: ClearingRules, code: int, i: int) -> InputError:
    where = f"bid {i + 1} ({arrays.bidder_names[int(arrays.bidder[i])]})"
    if code == _kernels.BAD_QUANTITY:
        msg = (
            f"{where}: quantity {int(arrays.quantity[i])} is not a positive multiple of the lot size "
            f"{rules.lot_size:,} of at most {QUANTITY_MAX:,}"
        )
    elif code == _kernels.BAD_PRICE:
        msg = f"{where}: price {int(arrays.price_cents[i])} cents is outside 0 to {PRICE_MAX_CENTS:,}"
    elif code == _kernels.NO_RATE:
        msg = f"{where}: bids in CAD need the auction exchange rate (CAD per USD); none was given"
    else:
        msg = f"{where}: bidder {arrays.bidder_names[int(arrays.bidder[i])]!r} bids under more than one bidder type; give it one type"
    return InputError(msg)


def _bidder_limits(rules: ClearingRules, base: int, types: np.ndarray, rooms: Sequence[int | None]) -> np.ndarray:
    """Each bidder's largest award in allowances (whole lots): its purchase limit or holding-limit room."""
    lot = rules.lot_size
    big = np.iinfo(np.int64).max // 4
    by_type = np.full(len(BIDDER_TYPES), big, dtype=np.int64)
    for t, share in rules.purchase_limits.items():
        if t not in BIDDER_TYPES:
            msg = f"purchase limit for unknown bidder type {t!r}; valid types: {', '.join(BIDDER_TYPES)}"
            raise InputError(msg)
        by_type[BIDDER_TYPES.index(t)] = (
            int((Decimal(share) * base).to_integral_value(rounding=ROUND_FLOOR)) // lot * lot
        )
    limit = by_type[np.maximum(types, 0)]
    for i, room in enumerate(rooms):
        if room is not None:
            limit[i] = min(limit[i], max(room, 0) // lot * lot)
    return limit


def _split_tie(
    names: Sequence[str],
    tied: np.ndarray,
    room_lots: int,
    lot: int,
    awards: np.ndarray,
    seed: int,
) -> tuple[str, ...]:
    """Share `room_lots` lots among the bidders with allowances `tied` at the settlement price: pro rata to
    their tied lots, rounded down, then one lot at a time in a seeded random order (Q-2 r.46.1 s.61.5)."""
    tied_bidders = np.flatnonzero(tied)
    # A stable order that does not depend on the order bids were submitted in: by bidder name.
    tied_names = [names[i] for i in tied_bidders.tolist()]
    by_name = np.argsort(tied_names, kind="stable")
    tied_bidders = tied_bidders[by_name]
    tied_names = [tied_names[k] for k in by_name.tolist()]
    want = tied[tied_bidders] // lot
    share_lots = (want * room_lots) // int(want.sum())
    left = room_lots - int(share_lots.sum())
    # Python lists for the lot-by-lot loop below (numpy scalars are slow one at a time).
    share, want_lots = share_lots.tolist(), want.tolist()
    order = np.random.default_rng(seed).permutation(len(tied_bidders)).tolist()
    while left > 0:  # fewer lots are left than bidders are tied, so one pass suffices unless shares are full
        progressed = False
        for k in order:
            if left and share[k] < want_lots[k]:
                share[k] += 1
                left -= 1
                progressed = True
        if not progressed:  # cannot happen while room < tied demand; guards the loop
            break
    awards[tied_bidders] += np.array(share, dtype=np.int64) * lot
    return tuple(tied_names[k] for k in order)


def _step_price(rules: ClearingRules, below: int, above: int) -> int:
    """The trigger price between two bid levels where the supply steps down (CCR or ECR)."""
    for c in (rules.ccr, rules.ecr):
        if c is not None and below < c.trigger_cents <= above:
            return c.trigger_cents
    return above  # no step in between: the lowest level above settles (cannot happen with a flat supply)


def _allocate(supply: Sequence[Tranche], sold: int) -> dict[str, int]:
    """What sold, by category: lower order first; equal orders pro rata to quantity, remainder in list order."""
    out = {t.category: 0 for t in supply}
    left = sold
    for order in sorted({t.order for t in supply}):
        group = [t for t in supply if t.order == order]
        total = sum(t.quantity for t in group)
        if total == 0:
            continue
        take = min(left, total)
        shares = [take * t.quantity // total for t in group]
        rest = take - sum(shares)
        for k, t in enumerate(group):
            extra = min(rest, t.quantity - shares[k])
            shares[k] += extra
            rest -= extra
        for t, s in zip(group, shares, strict=True):
            out[t.category] = s
        left -= take
        if left == 0:
            break
    return out


def _allocate_last(supply: Sequence[Tranche], sold: Mapping[str, int], withheld: int) -> dict[str, int]:
    """ECR withholding comes out of what did not sell, from the categories that sell last."""
    out: dict[str, int] = {}
    left = withheld
    for t in sorted(supply, key=lambda t: t.order, reverse=True):
        if left == 0:
            break
        take = min(left, t.quantity - sold[t.category])
        if take:
            out[t.category] = take
            left -= take
    return out


def _bid_stats(levels: np.ndarray, as_bid: np.ndarray) -> tuple[int | None, float | None]:
    """Quantity-weighted median and mean of the qualified bid prices (US cents), from the level histogram."""
    if len(levels) == 0:
        return None, None
    cum = np.cumsum(as_bid)
    median = int(levels[np.searchsorted(cum, (int(cum[-1]) + 1) // 2)])
    mean = float((levels.astype(np.float64) * as_bid).sum() / cum[-1])
    return median, mean
