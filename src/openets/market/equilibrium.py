"""The competitive intertemporal equilibrium of an allowance market with banking (pure; no I/O).

Each year firms abate until their marginal cost equals the price (`firms.AbatementCurve`). Supply depends on the
price through the rules: auctioned allowances sell only at or above the reserve price (the rest stay unsold),
reserve tiers and containment reserves add their allowances at their prices, an emissions containment reserve
withholds allowances below its trigger, and a price ceiling supplies without limit. Holders bank allowances
(never borrow): while the bank is positive the price rises at the discount rate (Hotelling); it may fall only
after a year in which the bank is empty.

The solution is exact, episode by episode: from a start year s with bank B, the initial price x of a Hotelling
path p_t = x (1 + r)^(t - s) is the least x for which the bank stays non-negative in every later year (the bank is
nondecreasing in x, so the least such x is found by bisection to machine precision, then snapped onto the price
at which a year's supply jumps when it lies there). The episode ends in the last year whose bank constraint set x;
the next starts after it with an empty bank. Where a year's price sits exactly on a jump (the floor, a tier, the
ceiling), the quantity sold there is what makes the binding year's bank exactly zero. `qp.py` solves the same
market as a quadratic programme, independently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from openets.errors import InputError
from openets.market.firms import AbatementCurve

_BISECTIONS = 200


@dataclass(frozen=True)
class YearSupply:
    """One year's allowance supply as the rules make it depend on the price (allowances, prices per allowance).

    `free`: reaches the market at any price (free allocation, offsets within their limit). `auctioned`: sold at or
    above `floor`, unsold below it. `steps`: (price, quantity) added at or above the price (reserve tiers, a cost
    containment reserve). `withheld`: (trigger, quantity) removed below the trigger (an emissions containment
    reserve). `ceiling`: unlimited supply at that price (price-ceiling units), or None.
    """

    free: float = 0.0
    auctioned: float = 0.0
    floor: float = 0.0
    steps: tuple[tuple[float, float], ...] = ()
    withheld: tuple[tuple[float, float], ...] = ()
    ceiling: float | None = None

    def levels(self) -> list[tuple[float, float, str]]:
        """The year's supply above `free` as (price, quantity, kind) steps: the auction at the floor, less what an
        ECR may withhold, which sells only at or above the higher of the floor and the ECR trigger; reserve tiers
        and containment reserves at their prices. (An ECR withholds auctioned allowances only.)"""
        held = min(sum(q for _, q in self.withheld), self.auctioned)
        out = [(self.floor, self.auctioned - held, "auction")]
        left = held
        for trigger, q in sorted(self.withheld):
            take = min(q, left)
            left -= take
            out.append((max(self.floor, trigger), take, "ecr"))
        out += [(at, q, "step") for at, q in self.steps]
        return [level for level in out if level[1] > 0]

    def bounds(self, price: float) -> tuple[float, float]:
        """(least, most) allowances supplied at `price`: they differ only at a price where supply jumps (a price
        within a relative 1e-12 of a jump counts as on it: a Hotelling path lands there only up to rounding)."""
        lo = hi = self.free
        for at, q, _ in self.levels():
            side = _side(price, at)
            if side > 0:
                lo += q
                hi += q
            elif side == 0:
                hi += q
        if self.ceiling is not None and _side(price, self.ceiling) >= 0:
            hi = np.inf
        return lo, hi

    def jumps(self) -> list[float]:
        out = [at for at, _, _ in self.levels()]
        if self.ceiling is not None:
            out.append(self.ceiling)
        return out


def _side(price: float, level: float) -> int:
    """-1, 0 or 1 as `price` is below, at (within a relative 1e-12) or above `level`."""
    if abs(price - level) <= 1e-12 * max(1.0, abs(level)):
        return 0
    return 1 if price > level else -1


@dataclass(frozen=True)
class Market:
    """Firms' abatement, yearly supply, the discount rate and the banks at the start and the end."""

    abatement: AbatementCurve
    supply: Sequence[YearSupply]
    rate: float = 0.05
    initial_bank: float = 0.0
    terminal_bank: float = 0.0
    banking: bool = True

    def __post_init__(self) -> None:
        if len(self.supply) != len(self.abatement.bau):
            msg = f"market: {len(self.supply)} years of supply for {len(self.abatement.bau)} years of emissions"
            raise InputError(msg)
        if not -0.5 < self.rate < 1:
            msg = f"market: discount rate {self.rate} is not a yearly rate; write 0.05 for 5%"
            raise InputError(msg)
        if self.initial_bank < 0 or self.terminal_bank < 0:
            msg = "market: the initial and terminal banks must not be negative"
            raise InputError(msg)
        if not self.banking and (self.initial_bank or self.terminal_bank):
            msg = "market: without banking there is no bank to open or close with; set initial and terminal banks to 0"
            raise InputError(msg)


@dataclass(frozen=True)
class Equilibrium:
    price: np.ndarray
    emissions: np.ndarray
    abatement: np.ndarray
    supplied: np.ndarray  # allowances that reached the market (sold, allocated, released)
    bank: np.ndarray  # year end
    unsold: np.ndarray  # auctioned allowances left unsold at the floor
    stepped: np.ndarray  # from reserve tiers and containment reserves
    ceiling_sold: np.ndarray
    withheld: np.ndarray  # by an ECR from auctions that would otherwise have sold (price at or above the floor)
    episodes: tuple[tuple[int, int], ...] = field(default=())
    auction_sold: np.ndarray | None = None  # auctioned allowances sold (ECR portions included)


def solve(market: Market) -> Equilibrium:
    """The equilibrium price path and what follows from it, year by year."""
    curve, supply = market.abatement, list(market.supply)
    n_years = len(supply)
    growth = 1.0 + market.rate
    price = np.zeros(n_years)
    net = np.zeros(n_years)
    episodes: list[tuple[int, int]] = []
    scale = float(curve.bau.sum()) + 1.0
    s, bank = 0, market.initial_bank
    while s < n_years:
        last = n_years - 1 if market.banking else s
        terminal = market.terminal_bank if last == n_years - 1 else 0.0
        x = _initial_price(curve, supply, s, last, bank, growth, terminal, scale)
        prices = x * growth ** np.arange(last - s + 1)
        flows, end = _resolve(curve, supply, s, last, bank, prices, terminal, x > 0, scale)
        price[s : end + 1] = prices[: end - s + 1]
        net[s : end + 1] = flows[: end - s + 1]
        bank = bank + float(net[s : end + 1].sum()) if market.banking else 0.0
        episodes.append((s, end))
        s = end + 1
    return _outcome(market, price, net, tuple(episodes))


def _bank_paths(curve: AbatementCurve, supply: list[YearSupply], s: int, last: int, bank: float, prices: np.ndarray):
    """Year-end banks over [s, last] with the most and the least supply at these prices."""
    emissions = curve.bau[s : last + 1] - curve.at_many(prices, s)
    bounds = np.array([supply[s + k].bounds(float(p)) for k, p in enumerate(prices)])
    hi = bank + np.cumsum(bounds[:, 1] - emissions)
    lo = bank + np.cumsum(bounds[:, 0] - emissions)
    return lo, hi, emissions, bounds


def _initial_price(curve, supply, s, last, bank, growth, terminal, scale) -> float:
    """The least initial price x keeping every bank in [s, last] non-negative (the last one at least `terminal`)
    when the price follows x (1 + r)^(t - s)."""
    powers = growth ** np.arange(last - s + 1)
    need = np.zeros(last - s + 1)
    need[-1] = terminal

    def feasible(x: float) -> bool:
        _, hi, _, _ = _bank_paths(curve, supply, s, last, bank, x * powers)
        return bool((hi >= need - 1e-12 * scale).all())

    if feasible(0.0):
        return 0.0
    top = 1.0
    while not feasible(top):
        top *= 2.0
        if top > 1e12:
            msg = (
                f"no price clears the market from the {s + 1}th simulated year on: even at any price, emissions exceed "
                "the allowances available and the abatement possible; lower BAU growth, raise the abatable share, or "
                "add a price ceiling"
            )
            raise InputError(msg)
    lo, hi = 0.0, top
    for _ in range(_BISECTIONS):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        if feasible(mid):
            hi = mid
        else:
            lo = mid
    # Snap onto a supply jump within the bracket: there the market clears with part of that year's step, and the
    # price is the jump's exactly.
    snapped = [
        jump / powers[k]
        for k in range(last - s + 1)
        for jump in supply[s + k].jumps()
        if jump > 0 and lo - 1e-11 * max(1.0, jump) <= jump / powers[k] <= hi + 1e-11 * max(1.0, jump)
    ]
    feasible_jumps = [c for c in snapped if feasible(c)]
    return min(feasible_jumps) if feasible_jumps else hi


def _resolve(curve, supply, s, last, bank, prices, terminal, priced, scale) -> tuple[np.ndarray, int]:
    """Each year's net supply (supplied less emitted) at these prices, and the year the episode ends.

    Start from the least supply of every year; where a bank would go negative, add supply from years whose price
    sits on a jump (the floor, a tier, the ceiling), the latest such year first. The episode ends in the last year
    whose bank is then empty: after it the price may fall.
    """
    _, _, emissions, bounds = _bank_paths(curve, supply, s, last, bank, prices)
    flows = bounds[:, 0] - emissions
    room = bounds[:, 1] - bounds[:, 0]
    need = np.zeros(len(flows))
    need[-1] = terminal
    banks = bank + np.cumsum(flows)
    for t in range(len(flows)):
        deficit = need[t] - banks[t]
        for k in range(t, -1, -1):
            if deficit <= 0:
                break
            take = min(room[k], deficit)
            if take > 0:
                flows[k] += take
                banks[k:] += take
                room[k] -= take
                deficit -= take
    if not priced:
        return flows, last
    # A year priced above its ceiling cannot belong to this episode (unlimited supply there caps the price): the
    # episode ends at the last empty bank before the first such year.
    above = [k for k, p in enumerate(prices.tolist()) if supply[s + k].ceiling is not None and _side(p, supply[s + k].ceiling) > 0]
    limit = above[0] if above else len(flows)
    empty = np.flatnonzero(banks[:limit] - need[:limit] <= 1e-9 * scale)
    return flows, s + int(empty[-1]) if len(empty) else last


def _outcome(market: Market, price: np.ndarray, net: np.ndarray, episodes) -> Equilibrium:
    curve = market.abatement
    abated = curve.at_many(price, 0)
    emissions = curve.bau - abated
    supplied = net + emissions
    bank = market.initial_bank + np.cumsum(net) if market.banking else np.zeros(len(price))
    n = len(price)
    unsold, stepped, ceiling, withheld, auction_sold = (np.zeros(n) for _ in range(5))
    for t, (y, p) in enumerate(zip(market.supply, price.tolist(), strict=True)):
        extra = supplied[t] - y.free  # what the year's levels and ceiling supplied
        sold = {"auction": 0.0, "ecr": 0.0, "step": 0.0}
        # Levels below the price sell whole; at the price they take what is left, in order (auction, ECR, steps).
        for at, q, kind in sorted(y.levels(), key=lambda level: (level[0], ("auction", "ecr", "step").index(level[2]))):
            side = _side(p, at)
            take = q if side > 0 else (min(max(extra, 0.0), q) if side == 0 else 0.0)
            sold[kind] += take
            extra -= take
        auction_total = sum(q for _, q, kind in y.levels() if kind == "auction")
        ecr_total = sum(q for _, q, kind in y.levels() if kind == "ecr")
        auction_sold[t] = sold["auction"] + sold["ecr"]
        withheld[t] = ecr_total - sold["ecr"] if _side(p, y.floor) >= 0 else 0.0
        unsold[t] = auction_total + ecr_total - auction_sold[t] - withheld[t]
        stepped[t] = sold["step"]
        ceiling[t] = max(extra, 0.0) if y.ceiling is not None and _side(p, y.ceiling) >= 0 else 0.0
    return Equilibrium(price, emissions, abated, supplied, bank, unsold, stepped, ceiling, withheld, episodes, auction_sold)
