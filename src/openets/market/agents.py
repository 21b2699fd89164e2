"""Quarterly agent-based run of a program: firms bid in the real auction clearing, trade among themselves, bank,
and surrender through the real compliance code, on the same rulebook and the same drawn firms as the equilibrium.

Inputs are those of `simulate.run_once`: the `Setting` (the rules' yearly supply), the `Assumptions`, and the firms
`simulate.draw_firms` draws from the run's rng (one seed gives both modes the identical population).

A simulated year has four quarters. In each, in this order:
1. (first quarter) free allocation and offsets reach the firms, pro rata to BAU emissions (an assumption: the
   equilibrium does not say who holds what; the opening bank is shared the same way);
2. a call market among firms: one uniform price, where the summed excess demand crosses zero;
3. an auction through `auction.clearing.clear`: a quarter of the year's auctioned allowances at the year's floor,
   whole lots, integer cents, the rulebook's lot size, purchase limits and undersubscribed-price rule. RGGI's Cost
   and Emissions Containment Reserves (reserves whose tier is a "trigger") are `Containment`s in the clearing, as
   in RGGI's auctions; other reserve tiers are sold after it at their fixed prices (as CARB's reserve sales), and
   a price ceiling sells without limit after it;
4. if a compliance deadline falls in the quarter: each firm's obligations due, computed by
   `compliance.obligations` from its realised emissions and its jurisdiction's rulebook, are met through
   `compliance.plan_surrender`; a shortfall becomes an untimely-surrender obligation
   (`compliance.untimely_surrender`), counted in the output;
5. the quarter's emissions: each firm abates where its marginal abatement cost equals the quarter's price.

What firms know and believe. A firm knows its own BAU, MAC curve, holdings and obligations, and its future free
allocation; the rulebook's supply schedule is public, and so are auction results and (from the registries)
aggregate holdings and emissions. It believes prices rise at the discount rate (Hotelling) from wherever they are:
at a candidate price p, along p (1 + r)^(quarters / 4). Along that path it computes, for every remaining year-end
k, its net need N_k(p) (emissions not yet surrendered plus planned ones, at MAC = the path's price, less holdings,
later free allocation and offsets, plus its share of the bank kept after the last year) and the state's remaining
supply S_k(p) on that path (auctions whose floor it reaches, reserve tiers it reaches, unlimited from a year whose
ceiling it reaches). k is the year-end the market is closest to running short at; every firm uses that one (each
on its own would overstate the market's demand: a sum of maxima exceeds the maximum of the sum). Three rules:
- Auction bids find the price: d(p) = N_k(p) / S_k(p) * K, the share of the state's supply the firm needs, of the
  auction's offer K at the expected price (the tranche, with or without the CCR/ECR by the expected price's side
  of their triggers, so that d falls with p). Summed, the auction clears where N_k = S_k: the tightest year-end
  bank just covered, the price rising at r while the bank lasts, which is the banking equilibrium. Each firm bids
  a curve of about 30 price steps (dense, 1%, around the expected price: the call market's price this quarter,
  else the last price grown a quarter; sparse from the floor up; in the first quarter, around the price that
  would clear a market of firms like itself), each at the quantity demanded in the middle of its price interval,
  with its own offset so that the firms' steps interleave.
- Where the state's supply jumps (a floor with a surplus, a reserve tier, a CCR/ECR trigger, the ceiling) the
  price sits still while the quantity adjusts, and the pro-rata rule says nothing about how much sells. The
  equilibrium sells what the supply the market will still get after this quarter leaves short at the tightest
  year-end, N_k - (S_k - K); each firm buys its share s of it (its share of the market's need: its share of the
  last pro-rata auction's awards). This caps bids at the floor once an auction went undersubscribed (a surplus
  then stays unsold in the first years at the floor, later auctions sell out, rather than spread over every
  year), caps bids at an in-clearing trigger, and sizes the reserve-tier and ceiling sales.
- The call market: a firm's excess demand at p is N_k(p) - s S_k(p). Summed it is zero at the equilibrium price,
  so trades move allowances from firms long on their share to firms short on it; where no auction can sell (a
  surplus below the floor), it is where the market finds its price. Firms short for this quarter's deadline bid
  for the shortfall at up to the untimely-surrender multiple of the price (the ceiling where there is one).

Output: the equilibrium mode's `Run`, so that sweeps, percentiles and reports work unchanged. The year's price is
the mean of its four quarterly prices: the auction's settlement price, or the call market's in a quarter whose
auction sold nothing, else the expected price (with equal quarterly tranches, the volume-weighted auction price
whenever the auctions sell). Emissions are the firms'; the bank is at year end, allowances and offsets held less
obligations not yet surrendered (the equilibrium's bank, less any untimely-surrender surcharge); auction revenue
counts the auctions, reserve and ceiling sales. `simulate` also returns quarterly prices and volumes, reserve,
ceiling and unsold quantities, penalties, and the totals that check conservation.

How close to `equilibrium.solve`, measured (tests/market/test_agents.py states the tolerances):
- simple markets of 40 firms: within 0.1% a year where the price moves freely (with or without banking, with or
  without free allocation), and 0.003% below the floor; within 0.92% where a floor or a reserve tier holds the
  price for part of a year;
- WCI 2019-2030, 200 drawn firms, 10 seeds: within 0.35% while prices move freely; up to 1.8% in the years after
  one held on a floor or tier, 2.8% in the draw that reaches the 2021 ceiling; RGGI 2014-2020 and 2021-2030 within
  1.0% (its 1-cent tick is 0.4% of a $2.40 price).
Why not closer. Time grid: agents' prices move quarterly, the equilibrium's yearly; where a jump holds the price
for a year the agents leave it from the year's last quarter, the equilibrium from the year's mean, which shifts
the later path by up to (1 + r)^(3/8) - 1 = 1.8%. Discreteness: whole lots, cents, and a few dozen price steps
per firm. Information: firms read their share of the market's need and the market's tightest year-end from
published results, a quarter old.

Speed: about 0.33 s for one WCI run to 2030 with 200 firms (numpy; the clearing's compiled kernels).

Not modelled (and why): vintages are pooled (every allowance held is eligible: the equilibrium has no vintages,
and with a bank the vintage limit rarely binds); holding limits (covered entities' compliance accounts are largely
exempt); advance auctions and the re-offering of unsold allowances (the equilibrium drops them too); purchase
limits when so few firms stand for the market that they could not buy out an auction within them; the EU's Market
Stability Reserve (supply that moves with the bank each year: use the equilibrium mode).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from openets.auction.clearing import (
    BIDDER_TYPES,
    PRICE_MAX_CENTS,
    BidArrays,
    ClearingRules,
    Containment,
    Tranche,
    clear,
)
from openets.compliance.obligations import Obligation, obligations, plan_surrender, untimely_surrender
from openets.errors import InputError
from openets.market.firms import Facility, Firms
from openets.market.simulate import Assumptions, Run, Setting, draw_firms, offset_supply
from openets.rules import InstrumentKind, Program, load_program

QUARTERS = 4
#: Bid grid: dense steps of 1% (log) around the expected price, sparse geometric steps from the floor up.
DENSE_STEP = 0.01
DENSE_POINTS = 6  # on each side of the expected price
SPARSE_POINTS = 16
SPARSE_REACH = 4.0  # the sparse grid reaches this multiple of the highest expected price (or the ceiling)
CALL_REACH = 0.25  # the call market's grid reaches down to this multiple of the expected price (below the floor)


@dataclass(frozen=True)
class AgentRun:
    """One agent-based run: the `Run` the sweep collects, and what happened quarter by quarter."""

    run: Run
    quarter_price: np.ndarray  # (years, 4) the market price firms abated at (see `Run.price`)
    auction_price: np.ndarray  # (years, 4) settlement price; nan when nothing sold
    auction_sold: np.ndarray  # (years, 4) allowances (CCR sales included)
    trade_price: np.ndarray  # (years, 4) call-market price; nan without trades
    trade_volume: np.ndarray  # (years, 4)
    reserve_sold: np.ndarray  # (years,) reserve tiers sold at fixed prices, and RGGI's CCR sold in the auctions
    ceiling_sold: np.ndarray  # (years,)
    unsold: np.ndarray  # (years,) auctioned allowances not sold, ECR withholding included
    penalties: int  # shortfalls at a deadline (firm x obligation)
    shortfall: int  # allowances missing at deadlines
    untimely: int  # allowances owed under untimely-surrender obligations
    issued: int  # reached the firms: opening bank, free allocation, offsets, auctions, reserve and ceiling sales
    held: int  # held by the firms at the end
    surrendered: int
    lowest_holding: int  # the least any firm held at any time (never negative)
    below_floor: int  # auctions that settled below their floor (never any)


def run_once(s: Setting, a: Assumptions, rng: np.random.Generator, facilities: list[Facility] | None = None) -> Run:
    """One agent-based draw, shaped like `simulate.run_once`'s (the sweep's per-run function in agents mode)."""
    return simulate(s, a, rng, facilities).run


def simulate(
    s: Setting, a: Assumptions, rng: np.random.Generator, facilities: list[Facility] | None = None,
    program: Program | None = None,
) -> AgentRun:
    """The firms `simulate.draw_firms` draws from `rng` (as the equilibrium mode does), then the quarterly run."""
    firms = draw_firms(s, a, rng, facilities)
    return run_firms(s, firms, offset_supply(s, a, firms.bau), rng, rate=a.rate, terminal_bank=a.terminal_bank,
                     program=program)


@functools.lru_cache(maxsize=16)
def _program(program_id: str) -> Program:
    return load_program(program_id)


def run_firms(
    s: Setting, firms: Firms, offsets: np.ndarray, rng: np.random.Generator, *, rate: float = 0.05,
    terminal_bank: float = 0.0, program: Program | None = None,
) -> AgentRun:
    """The quarterly run of `firms` on `s` (offsets used per year, allowances); `program` defaults to the
    setting's (its compliance and auction rules)."""
    if getattr(s, "msr", None) is not None:
        msg = (f"--mode agents does not model {s.program}'s Market Stability Reserve (supply that moves with the "
               "bank each year); simulate it with --mode equilibrium")
        raise InputError(msg)
    if firms.n_years != len(s.years) or len(offsets) != len(s.years):
        msg = (f"agents: {firms.n_years} years of firms and {len(offsets)} of offsets for {len(s.years)} simulated "
               "years; give one column per simulated year")
        raise InputError(msg)
    if not 0 <= rate < 1:
        msg = f"agents: discount rate {rate} is not a yearly rate in [0, 1); write 0.05 for 5%"
        raise InputError(msg)
    market = _Market(s, firms, np.asarray(offsets, dtype=float), rng, rate, terminal_bank,
                     program if program is not None else _program(s.program))
    return market.run()


def _largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """`total` split in integers pro rata to `weights` (the remainders go to the largest fractions, then by index)."""
    if total <= 0 or weights.sum() <= 0:
        return np.zeros(len(weights), dtype=np.int64)
    exact = total * weights / weights.sum()
    out = np.floor(exact).astype(np.int64)
    left = int(total - out.sum())
    if left > 0:
        order = np.argsort(-(exact - out), kind="stable")[:left]
        out[order] += 1
    return out


@dataclass
class _Year:
    """What the state still offers in the current year."""

    tranches: list[int]
    auction_left: int  # this quarter's tranche and the later ones
    ccr: list[tuple[float, int]]  # (trigger, allowances): in the clearing (RGGI)
    ecr: list[tuple[float, int]]  # (trigger, allowances): withheld in the clearing below the trigger (RGGI)
    tiers: list[tuple[float, int]]  # (price, allowances): sold at fixed prices after the auction
    ceiling: float | None


class _Market:
    """The state of one run: firms' holdings and obligations, the state's offers, and what happened."""

    def __init__(self, s: Setting, firms: Firms, offsets: np.ndarray, rng: np.random.Generator, rate: float,
                 terminal_bank: float, program: Program) -> None:
        self.s, self.program, self.rate = s, program, rate
        self.years = s.years
        n, n_years = firms.n_firms, firms.n_years
        self.n, self.n_years = n, n_years
        self.bau = firms.bau
        # MAC segments per firm: abatement share = sum of ds * clip((p - x0) / dx, 0, 1) (a jump where dx is 0).
        self.x0 = firms.mac_price[:, :-1]
        self.dx = np.diff(firms.mac_price, axis=1)
        self.ds = np.diff(firms.mac_share, axis=1)
        self.quarter_growth = (1.0 + rate) ** (1.0 / QUARTERS)
        # Each firm's bid grid is shifted by its own offset (in steps), so that the firms' steps interleave.
        self.phase = rng.random(n)
        self.seed = int(rng.integers(0, 2**31 - 1))
        self.names = tuple(f"firm{i:06d}" for i in range(n))
        # Holdings (whole instruments): allowances (vintages pooled) and offset credits.
        self.allow = _largest_remainder(round(s.initial_bank), self.bau[:, 0])
        self.offs = np.zeros(n, dtype=np.int64)
        self.issued = int(self.allow.sum())
        self.surrendered = 0
        self.emitted = np.zeros(n)  # this year's emissions so far (float)
        self.emissions = np.zeros((n, n_years), dtype=np.int64)  # whole years, rounded
        self.owed_float = np.zeros(n)  # emitted, not yet discharged by a surrender, plus untimely obligations
        self.discharged = np.zeros(n, dtype=np.int64)  # obligations met or replaced by an untimely obligation
        self.penalty_owed = np.zeros(n, dtype=np.int64)
        self.penalty_min_allow = np.zeros(n, dtype=np.int64)
        # Free allocation and offsets per firm and year, pro rata to BAU.
        self.free = np.stack([_largest_remainder(round(y.free), self.bau[:, t]) for t, y in enumerate(s.supply)],
                             axis=1)
        self.offset_units = np.stack([_largest_remainder(round(o), self.bau[:, t]) for t, o in enumerate(offsets)],
                                     axis=1)
        # Each firm's share of the bank the market keeps after the last year.
        self.terminal = terminal_bank * self.bau[:, -1] / max(self.bau[:, -1].sum(), 1e-300)
        self.curve = firms.abatement()  # the market's abatement, for the market's sums in closed form
        self.static_levels: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._compliance_setup()
        self._supply_setup()
        # Records.
        shape = (n_years, QUARTERS)
        self.auction_price = np.full(shape, np.nan)
        self.auction_sold = np.zeros(shape, dtype=np.int64)
        self.trade_price = np.full(shape, np.nan)
        self.trade_volume = np.zeros(shape, dtype=np.int64)
        self.reserve_sold = np.zeros(n_years, dtype=np.int64)
        self.ceiling_sold = np.zeros(n_years, dtype=np.int64)
        self.unsold = np.zeros(n_years, dtype=np.int64)
        self.revenue = np.zeros(n_years)
        self.year_emissions = np.zeros(n_years)
        self.bank = np.zeros(n_years)
        self.penalties = self.shortfall = self.untimely = 0
        self.lowest = int(self.allow.min()) if n else 0
        self.below_floor = 0
        self.market_price: float | None = None  # the last price seen (auction, else call market)
        self.regime_price = 0.0  # the expected price that sets which containment reserves firms pace on
        # Each firm's share of the market's need: its share of BAU emissions until pro-rata awards tell better.
        self.share = self.bau[:, 0] / max(self.bau[:, 0].sum(), 1e-300)
        self.surplus = False  # the last auction went undersubscribed at the floor: bids are capped
        self.below_floor_trade = False  # this quarter's call market cleared below the auction's floor
        self.quarter_price = np.full((n_years, QUARTERS), np.nan)  # the price firms abated at

    # -- set-up -------------------------------------------------------------------------------------------------

    def _compliance_setup(self) -> None:
        """Each firm's compliance rulebook: a linked market's members share its firms in proportion to their
        covered emissions in the base year (firms in draw order); the untimely-surrender multiple of each."""
        p = self.program
        if p.is_linkage:
            from openets.data import covered_emissions

            members = [j for j in p.jurisdictions if p.vintages(j)]
            weights = np.array([float(covered_emissions(j).get(self.s.base_year, 0)) for j in members])
            if weights.sum() <= 0:
                weights = np.ones(len(members))
            bounds = np.cumsum(weights) / weights.sum()
            position = (np.cumsum(self.bau[:, 0]) - 0.5 * self.bau[:, 0]) / max(self.bau[:, 0].sum(), 1e-300)
            member_of = np.minimum(np.searchsorted(bounds, position), len(members) - 1)
            self.rulebooks = [p.member_program(j) for j in members]
        else:
            member_of = np.zeros(self.n, dtype=np.int64)
            self.rulebooks = [p]
        self.member_of = member_of
        for book in self.rulebooks:
            if book.rulebook.compliance is None:
                msg = f"--mode agents needs compliance rules: {book.id} has no [[compliance.periods]]"
                raise InputError(msg)
        self.multiplier = []
        for book in self.rulebooks:
            try:
                self.multiplier.append(untimely_surrender(book, 1).quantity)
            except InputError:  # no untimely-surrender rule in the rulebook: the shortfall stays owed, once
                self.multiplier.append(1)
        self.due: dict[int, list[tuple[int, Obligation]]] = {}  # quarter -> (firm, obligation), this year

    def _supply_setup(self) -> None:
        """The rulebook's auction rules by year: lot size, purchase limits, undersubscribed price, and whether its
        reserve steps are containment triggers sold in the clearing (RGGI's CCR)."""
        pp = self.program.price_program if self.program.is_linkage else self.program
        self.lot = []
        self.limits = []
        self.undersubscribed = []
        self.in_clearing = []
        for year in self.years:
            rules = self.program.auction_rules(year)
            self.lot.append(rules.lot_size)
            limits = {k: v for k, v in rules.purchase_limits.items() if k in BIDDER_TYPES}
            # A handful of facilities standing for a whole market could not buy out an auction within the limits
            # (four at 25% at most): the limits then apply to nobody rather than strand the supply.
            if "covered" in limits and self.n * float(limits["covered"]) < 2:
                limits = {}
            self.limits.append(limits)
            self.undersubscribed.append(rules.undersubscribed_price)
            self.in_clearing.append(any(t.role == "trigger" for t in pp.tier_prices(year)))
        self.auctioned = [round(y.auctioned) for y in self.s.supply]

    def _levels(self, t: int, year: "_Year | None") -> tuple[np.ndarray, np.ndarray]:
        """Year t's state supply as (prices, cumulative allowances at or below each); the current year's what is
        left of it."""
        if year is None and t in self.static_levels:
            return self.static_levels[t]
        y = self.s.supply[t]
        if year is None:
            ecr = [(trigger, round(q)) for trigger, q in y.withheld]
            auction = self.auctioned[t]
            extra = [(price, round(q)) for price, q in y.steps]
            ceiling = y.ceiling
        else:
            ecr, auction = year.ecr, year.auction_left
            extra = year.ccr + year.tiers
            ceiling = year.ceiling
        held = min(sum(q for _, q in ecr), auction)
        levels = [(y.floor, auction - held)]
        left = held
        for trigger, q in sorted(ecr):
            take = min(q, left)
            left -= take
            levels.append((max(y.floor, trigger), take))
        levels += [(price, q) for price, q in extra]
        if ceiling is not None and year is None:  # this year's ceiling is the ceiling sale's, not the bids'
            levels.append((ceiling, np.inf))
        levels.sort(key=lambda level: level[0])
        out = np.array([price for price, _ in levels]), np.cumsum([q for _, q in levels])
        if year is None:
            self.static_levels[t] = out
        return out

    # -- the firms' view ----------------------------------------------------------------------------------------

    def _share(self, price: np.ndarray) -> np.ndarray:
        """Each firm's abated share of BAU at `price` (first axis: firms)."""
        extra = (1,) * (price.ndim - 1)
        out = np.zeros(price.shape)
        for j in range(self.dx.shape[1]):
            x0 = self.x0[:, j].reshape(-1, *extra)
            dx = self.dx[:, j].reshape(-1, *extra)
            ds = self.ds[:, j].reshape(-1, *extra)
            ramp = np.clip((price - x0) / np.where(dx > 0, dx, 1.0), 0.0, 1.0)
            out += ds * np.where(dx > 0, ramp, price >= x0)
        return out

    def _path(self, prices: np.ndarray, t: int, q: int) -> np.ndarray:
        """Each remaining year's mean price if prices follow p (1 + r)^(quarters / 4) from now (extra last axis)."""
        g = self.quarter_growth
        slots = self.n_years - t
        factor = np.empty(slots)
        factor[0] = np.mean(g ** np.arange(QUARTERS - q))
        if slots > 1:
            factor[1:] = g ** (QUARTERS * np.arange(1, slots) - q) * np.mean(g ** np.arange(QUARTERS))
        return prices[..., None] * factor

    def _supply(self, path: np.ndarray, t: int, year: _Year) -> np.ndarray:
        """The state's remaining supply through each year-end along `path` (infinite from a year whose ceiling
        the path reaches): public, the same for every firm at the same path."""
        supply = np.empty_like(path)
        for k in range(path.shape[-1]):
            level_prices, cumulative = self._levels(t + k, year if k == 0 else None)
            idx = np.searchsorted(level_prices, path[..., k], side="right") - 1
            supply[..., k] = np.where(idx >= 0, cumulative[np.maximum(idx, 0)], 0.0)
        return np.cumsum(supply, axis=-1)

    def _horizons(self, prices: np.ndarray, t: int, q: int, year: _Year) -> tuple[np.ndarray, np.ndarray]:
        """(N_k(p), S_k(p)) per firm, price and remaining year-end k (prices: firms x points).

        N_k: the firm's net need through year-end k if prices follow p (1 + r)^(quarters / 4) from now: emissions
        not yet surrendered and planned through k, less holdings and later free allocation and offsets (plus its
        share of the terminal bank at the last year). S_k: the state's remaining supply through k on that path."""
        path = self._path(prices, t, q)
        slots = path.shape[-1]
        weight = np.ones(slots)
        weight[0] = (QUARTERS - q) / QUARTERS
        emissions = (weight * self.bau[:, t:])[:, None, :] * (1.0 - self._share(path))
        need = np.cumsum(emissions, axis=2)
        base = self.position  # frozen at the start of the quarter: demand is what the firm wants this quarter
        later = self.free[:, t + 1 :] + self.offset_units[:, t + 1 :]
        endowment = np.concatenate([np.zeros((self.n, 1)), np.cumsum(later, axis=1)], axis=1)
        need += (base[:, None] - endowment)[:, None, :]
        need[:, :, -1] += self.terminal[:, None]
        # This year's remaining offers are reached at this quarter's price (the floor and tiers apply to it), later
        # years' at their mean price.
        reach = path.copy()
        reach[..., 0] = prices
        return need, self._supply(reach, t, year)

    @staticmethod
    def _ratios(need: np.ndarray, supply: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(supply > 0, need / supply, np.where(need > 0, np.inf, 0.0))
        return np.where(np.isinf(supply), 0.0, ratio)

    def _ratio(self, prices: np.ndarray, t: int, q: int, year: _Year) -> np.ndarray:
        """N_k(p) / S_k(p) at the market's tightest year-end k for that price: the share of the state's supply
        the firm needs."""
        ratios = self._ratios(*self._horizons(prices, t, q, year))
        idx = np.clip(np.searchsorted(self.tight_prices, prices, side="right") - 1, 0, len(self.tight_prices) - 1)
        return np.take_along_axis(ratios, self.tight_years[idx][..., None], axis=2)[..., 0]

    def _tighten(self, t: int, q: int, year: _Year) -> None:
        """Which year-end binds the market at each price (a table over a wide price grid): the one where the
        market's need is the largest share of the state's supply, max_k N_k(p) / S_k(p). Every firm paces on that
        year-end (public: registries publish aggregate holdings and emissions); each on its own tightest would
        overstate the market's demand, as a sum of maxima exceeds the maximum of the sum."""
        base = max(self.s.supply[t].floor, 1.0)
        # The grid holds every price at which the state's supply jumps (a floor, tier, trigger or ceiling reached
        # this quarter, or by a later year's mean price on the path), so that no table step straddles a jump.
        factor = self._path(np.array([1.0]), t, q)[0]
        factor[0] = 1.0
        jumps = [level / factor[k] for k in range(len(factor))
                 for level in self._levels(t + k, year if k == 0 else None)[0] if level > 0]
        prices = np.unique(np.concatenate([np.geomspace(base / 100, base * 1000, 100), jumps]))
        # The market's need in closed form: summed over firms, abatement is the market's abatement curve.
        path = self._path(prices, t, q)
        slots = path.shape[-1]
        weight = np.ones(slots)
        weight[0] = (QUARTERS - q) / QUARTERS
        years = np.arange(t, t + slots)
        c = self.curve
        j = np.clip(np.searchsorted(c.x, path, side="right") - 1, 0, len(c.x) - 1)
        abated = c.level[years, j] + c.slope[years, j] * (path - c.x[j])
        need = np.cumsum(weight * (c.bau[t:] - abated), axis=1)
        later = (self.free[:, t + 1 :] + self.offset_units[:, t + 1 :]).sum(axis=0)
        need += self.position.sum() - np.concatenate([[0.0], np.cumsum(later)])
        need[:, -1] += self.terminal.sum()
        reach = path.copy()
        reach[:, 0] = prices
        self.tight_prices = prices
        self.tight_years = self._ratios(need, self._supply(reach, t, year)).argmax(axis=1)

    def _pace(self, year: _Year, tranche: int) -> float:
        """K, the auction's offer at the expected price (`regime_price`): the tranche, with the CCR if that price is
        at or above its trigger, less the ECR if it is below its trigger. Firms bid d(p) = ratio(p) * K: monotone in
        p, and the clearing settles where the ratio is 1 while the price stays on the expected side of each trigger.
        (Paced on the offer at each bid price instead, demand would jump up at a trigger, which no bid curve can
        say: the cumulative curve would then drag the price up to the trigger.)"""
        expected = self.regime_price
        offer = float(tranche)
        for trigger, q in year.ecr:
            if expected < trigger:
                offer -= min(q, tranche)
        for trigger, q in year.ccr:
            if expected >= trigger:
                offer += q
        return max(offer, 0.0)

    def _demand(self, prices: np.ndarray, t: int, q: int, year: _Year, base: float) -> np.ndarray:
        """Allowances each firm wants this quarter at each price when `base` is offered (negative: a surplus it
        would sell); nothing below the floor."""
        ratio = self._ratio(prices, t, q, year)
        return np.where(prices >= self.s.supply[t].floor, ratio * base, 0.0)

    def _own_estimates(self, t: int, q: int, year: _Year, tranche: int) -> np.ndarray:
        """The price that would clear a market of firms like each one (its BAU share scaled up): where the first
        auction's bids are centred."""
        floor = max(self.s.supply[t].floor, 0.01)
        top = self.s.supply[t].ceiling or max(floor, 1.0) * 200.0
        grid = np.geomspace(floor, max(top, floor * 1.01), 48)
        ratio = self._ratio(np.broadcast_to(grid, (self.n, len(grid))), t, q, year)
        weight = self.bau[:, t] / max(self.bau[:, t].sum(), 1e-300)
        excess = ratio / np.maximum(weight, 1e-300)[:, None] - 1.0  # decreasing in the price
        out = np.empty(self.n)
        for i in range(self.n):
            above = np.flatnonzero(excess[i] <= 0)
            if len(above) == 0:
                out[i] = grid[-1]
            elif above[0] == 0:
                out[i] = grid[0]
            else:
                k = above[0]
                a, b = excess[i, k - 1], excess[i, k]
                frac = a / (a - b) if np.isfinite(a) and a != b else 1.0
                out[i] = float(np.exp(np.log(grid[k - 1]) + frac * (np.log(grid[k]) - np.log(grid[k - 1]))))
        return out

    # -- one quarter --------------------------------------------------------------------------------------------

    def run(self) -> AgentRun:
        for t in range(self.n_years):
            year = self._open_year(t)
            for q in range(QUARTERS):
                self._quarter(t, q, year)
            self._close_year(t)
        price = self._year_prices()
        run = Run(price, self.year_emissions.copy(), self.bank.copy(), self.revenue.copy())
        return AgentRun(
            run, self.quarter_price, self.auction_price, self.auction_sold, self.trade_price, self.trade_volume,
            self.reserve_sold, self.ceiling_sold, self.unsold, self.penalties, self.shortfall, self.untimely,
            self.issued, int(self.allow.sum() + self.offs.sum()), self.surrendered, self.lowest, self.below_floor,
        )

    def _open_year(self, t: int) -> _Year:
        y = self.s.supply[t]
        self.allow += self.free[:, t]
        self.offs += self.offset_units[:, t]
        self.issued += int(self.free[:, t].sum() + self.offset_units[:, t].sum())
        total = self.auctioned[t]
        tranches = [total * (k + 1) // QUARTERS - total * k // QUARTERS for k in range(QUARTERS)]
        steps = sorted((price, round(q)) for price, q in y.steps)
        # RGGI's CCR (a reserve whose tier is a trigger) is one step in the clearing; other steps are sold after it.
        in_clearing = steps[:1] if self.in_clearing[t] else []
        year = _Year(tranches, total, in_clearing, [(tr, round(q)) for tr, q in y.withheld],
                     steps[len(in_clearing):], y.ceiling)
        self._obligations_due(t)
        return year

    def _obligations_due(self, t: int) -> None:
        """Obligations falling due in year t, per quarter: computed by `compliance.obligations` from each firm's
        realised whole-year emissions (zero before the first simulated year: the opening bank is net of them)."""
        self.due = {}
        if t == 0:
            return
        year = self.years[t]
        for m, book in enumerate(self.rulebooks):
            period = book.compliance_period(self.years[t - 1])
            if period is None:
                continue
            span = range(period.start_year, period.end_year + 1)
            columns = [self.years.index(y) if y in self.years and self.years.index(y) < t else None for y in span]
            for i in np.flatnonzero(self.member_of == m).tolist():
                emissions = {y: int(self.emissions[i, c]) if c is not None else 0
                             for y, c in zip(span, columns, strict=True)}
                for ob in obligations(book, emissions):
                    if ob.due.year == year and ob.quantity > 0:
                        self.due.setdefault((ob.due.month - 1) // 3, []).append((i, ob))

    def _quarter(self, t: int, q: int, year: _Year) -> None:
        tranche = year.tranches[q]
        due = np.zeros(self.n, dtype=np.int64)
        for i, ob in self.due.get(q, []):
            due[i] += ob.quantity
        self.position = self.owed_float - self.allow - self.offs
        self._tighten(t, q, year)
        if self.market_price is None:  # no price yet: each firm's own estimate, and their median
            self.anchors = self._own_estimates(t, q, year, tranche)
            expected = float(np.median(self.anchors))
            self.regime_price = expected
        else:
            expected = self.market_price * self.quarter_growth
        self.below_floor_trade = False
        traded = self.traded = self._call_market(t, q, year, due, expected)
        self.position = self.owed_float - self.allow - self.offs  # the quarter's demand starts from here
        if traded is not None:
            self._tighten(t, q, year)
        bought = np.zeros(self.n, dtype=np.int64)
        pace = self._pace(year, tranche)
        settlement = self._auction(t, q, year, tranche, due, bought)
        self._reserve_sales(t, q, year, tranche, bought, settlement)
        self._ceiling_sale(t, q, year, tranche, due, bought, settlement)
        price = settlement if settlement is not None else (traded if traded is not None else expected)
        self.quarter_price[t, q] = price
        self.market_price = price
        year.auction_left -= tranche
        self._surrender(q)
        self._emit(t, self.market_price)
        self.lowest = min(self.lowest, int(self.allow.min()), int(self.offs.min()))

    def _expected(self, t: int) -> float:
        floor = self.s.supply[t].floor
        if self.market_price is None:
            return floor
        return max(self.market_price * self.quarter_growth, floor)

    def _auction(self, t: int, q: int, year: _Year, tranche: int, due: np.ndarray, bought: np.ndarray
                 ) -> float | None:
        """Bid curves into `clearing.clear`; awards to the firms; the settlement price (None if nothing sold)."""
        supply = self.s.supply[t]
        lot = self.lot[t]
        floor_cents = round(supply.floor * 100)
        cap = supply.ceiling - 0.01 if supply.ceiling is not None else None
        if self.traded is not None:  # the call market's price, this quarter's best public estimate
            anchors = np.full(self.n, max(self.traded, supply.floor))
        elif self.market_price is None:
            anchors = self.anchors
        else:
            anchors = np.full(self.n, self._expected(t))
        low = max(supply.floor, 0.01)
        high = cap if cap is not None else max(float(anchors.max()), low) * SPARSE_REACH
        grid, middle = self._grid(anchors, low, high)
        pace = self._pace(year, tranche)
        wanted = self._demand(middle, t, q, year, pace)
        wanted = self._floor_regime(wanted, t, q, year, pace)
        # At an in-clearing trigger (CCR, ECR) the price may sit while part of the reserve sells: bids at or above
        # it take no more than each firm's share of what the market needs there.
        jumps = [(trigger, tranche + sum(x for _, x in year.ccr)) for trigger, _ in year.ccr]
        jumps += [(trigger, float(tranche)) for trigger, _ in year.ecr]
        for trigger, offered in jumps:
            if supply.floor <= trigger and (cap is None or trigger <= cap):
                at_trigger = np.maximum(self._residual(trigger, t, q, year, offered), 0.0)
                if at_trigger.sum() < offered:
                    wanted = np.where(grid >= trigger, np.minimum(wanted, at_trigger[:, None]), wanted)
        if self.below_floor_trade:  # allowances trade below the floor among firms: none buys at the floor
            wanted = np.zeros_like(wanted)
        short = due + self.penalty_owed - self._holding()
        wanted = np.maximum(np.maximum.accumulate(np.maximum(wanted, 0.0), axis=1), short[:, None])
        # No firm can win more than is offered: a bid beyond twice the offer changes nothing (and keeps ints small).
        most = 2 * (tranche + sum(x for _, x in year.ccr)) + max(int(short.max()), 0) + lot
        lots = np.round(np.minimum(wanted, most) / lot).astype(np.int64) * lot
        steps = np.diff(np.concatenate([np.zeros((self.n, 1), dtype=np.int64), lots], axis=1), axis=1)
        cents = np.maximum(np.floor(grid * 100 + 1e-9).astype(np.int64), floor_cents)
        keep = steps > 0
        bidder = np.broadcast_to(np.arange(self.n)[:, None], steps.shape)[keep]
        bids = BidArrays(bidder.astype(np.int64), self.names, np.zeros(len(bidder), dtype=np.int8), cents[keep],
                         steps[keep], np.zeros(len(bidder), dtype=np.int8))
        triggers = [trigger for trigger, _ in year.ccr + year.ecr]
        ccr = ecr = None
        if year.ccr:
            trigger, _ = min(year.ccr)
            ccr = Containment(sum(qq for _, qq in year.ccr), round(trigger * 100))
        if year.ecr:
            trigger, _ = min(year.ecr)
            ecr = Containment(sum(qq for _, qq in year.ecr), round(trigger * 100))
        rules = ClearingRules(floor_cents, lot, self.limits[t], ccr=ccr, ecr=ecr,
                              undersubscribed_price=self.undersubscribed[t], seed=self.seed + QUARTERS * t + q)
        result = clear(bids, [Tranche("auction", tranche)], rules)
        for name, quantity in result.awards.items():
            i = int(name[4:])
            self.allow[i] += quantity
            bought[i] += quantity
        self.issued += result.sold
        self.auction_sold[t, q] = result.sold
        self.unsold[t] += result.unsold_by_category.get("auction", 0) + result.ecr_withheld
        if result.ccr_sold:
            self.reserve_sold[t] += result.ccr_sold
            year.ccr = _take(year.ccr, result.ccr_sold)
        if result.ecr_withheld:
            year.ecr = _take(year.ecr, result.ecr_withheld)
        self._update_regime(result.settlement_price_cents, result.sold, pace, triggers)
        # After pro-rata bids (not capped for a surplus), a firm's share of what sold is its share of the market's
        # need (in an undersubscribed auction every bid is filled; at a settlement price, bids tie pro rata).
        if result.sold > 0 and not self.surplus:
            self.share = bought / result.sold
        undersubscribed = result.settlement_price_cents in (None, floor_cents) and not result.exhausted
        self.surplus = undersubscribed
        if result.settlement_price_cents is None:
            return None
        if result.settlement_price_cents < floor_cents:
            self.below_floor += 1
        price = result.settlement_price_cents / 100
        self.auction_price[t, q] = price
        self.revenue[t] += result.sold * price
        return price

    def _residual(self, price: float, t: int, q: int, year: _Year, offered: float) -> np.ndarray:
        """What each firm buys this quarter where the state's supply jumps at `price` (a floor, tier, trigger or
        ceiling), `offered` being what the state offers this quarter at that price.

        At a jump the price sits still while the quantity adjusts, so the pro-rata rule (which finds the price)
        says nothing about how much sells. On a Hotelling path from the jump, the market buys now what the supply
        it will still get after this quarter leaves short through its tightest year-end, max_k N_k - (S_k - K),
        as the equilibrium does; a firm takes its share s of it: N_k - s (S_k - K) at that year-end (s, its share of
        the market's need, read from its share of the last pro-rata auction's awards)."""
        need, supply = self._horizons(np.full((self.n, 1), price), t, q, year)
        later = supply[0, 0, :] - offered
        with np.errstate(invalid="ignore"):
            short = need[:, 0, :] - self.share[:, None] * later[None, :]
        return _at_tightest(short)

    def _floor_regime(self, wanted: np.ndarray, t: int, q: int, year: _Year, pace: float
                      ) -> np.ndarray:
        """Bids, capped once an auction went undersubscribed at the floor.

        Pro-rata bids spread a surplus over every auction at the floor. But on a Hotelling path from the floor the
        later auctions sell out, so the equilibrium leaves the surplus unsold in the first years at the floor.
        In an undersubscribed auction every bid at the floor is filled, so a firm's share of what sold is its share
        s of the market's need (its pro-rata bid over everyone's; the shares add up to one exactly). Then a firm
        buys at the floor only what its need through each year-end k leaves short of its share of the later
        supply, N_k - s (S_k - K), at the year-end k where the market's is largest; summed over firms,
        max_k (N_k - (S_k - K)), the equilibrium's sale.
        While the market needs all that is offered this is more than the pro-rata bid (the cap does not bind); in
        a surplus it is less."""
        if not self.surplus:
            return wanted
        at_floor = self._residual(self.s.supply[t].floor, t, q, year, pace)
        if at_floor.sum() >= pace:  # no surplus left: the market needs all that is offered, bids are pro rata
            return wanted
        return np.minimum(wanted, np.maximum(at_floor, 0.0)[:, None])

    def _grid(self, anchors: np.ndarray, low: float, high: float) -> tuple[np.ndarray, np.ndarray]:
        """Each firm's price steps, highest first: dense (1%) around its anchor, sparse from `low` to `high`, and
        `low` itself, shifted by the firm's own offset so that the firms' steps interleave; and the middle of each
        step's price interval (the lowest: `low`), where the quantity bid at that step is read, so that the
        discretisation errs both ways."""
        high = min(max(high, low * 1.01), PRICE_MAX_CENTS / 100)  # the clearing's limit on a bid price
        anchors = np.clip(anchors, low, high)
        phase = self.phase[:, None]
        dense = anchors[:, None] * np.exp(DENSE_STEP * (np.arange(-DENSE_POINTS, DENSE_POINTS)[None, :] + phase))
        sparse = low * (high / low) ** ((np.arange(SPARSE_POINTS)[None, :] + phase) / SPARSE_POINTS)
        grid = np.clip(np.concatenate([dense, sparse, np.full((self.n, 1), low)], axis=1), low, high)
        grid = -np.sort(-grid, axis=1)
        middle = np.concatenate([np.sqrt(grid[:, :-1] * grid[:, 1:]), grid[:, -1:]], axis=1)
        return grid, middle

    def _update_regime(self, cents: int | None, sold: int, pace: float, triggers: list[float]) -> None:
        """The next quarter's expected price: this settlement grown a quarter. A settlement exactly at a trigger
        says only that the price is there: the published quantity sold tells on which side the market is (the
        aggregate need ratio at the trigger is sold / K)."""
        if cents is None:
            self.regime_price = self.regime_price * self.quarter_growth
            return
        for trigger in triggers:
            if round(trigger * 100) == cents:
                above = pace > 0 and sold / pace >= 1.0
                self.regime_price = trigger * (1 + 1e-9) if above else trigger * (1 - 1e-9)
                return
        self.regime_price = cents / 100 * self.quarter_growth

    def _holding(self) -> np.ndarray:
        return self.allow + self.offs

    def _reserve_sales(self, t: int, q: int, year: _Year, tranche: int, bought: np.ndarray, settlement: float | None
                       ) -> None:
        """Reserve tiers at their fixed prices after each auction, lowest first: each firm buys its share of what
        the market needs from the tier (`_residual`: nothing while the auctions alone cover it at that price),
        beyond what it already bought this quarter."""
        if not year.tiers:
            return
        lot = self.lot[t]
        left = []
        for price, quantity in sorted(year.tiers):
            if quantity <= 0:
                left.append((price, quantity))
                continue
            offered = tranche + sum(x for at, x in year.tiers if at <= price)
            short = self._residual(price, t, q, year, offered) - bought
            market = float(short.sum())  # what the market needs from the tier at its price (none: no sale)
            if market < lot:
                left.append((price, quantity))
                continue
            want = np.floor(np.maximum(short, 0.0) / lot).astype(np.int64) * lot
            sold = _fill(want, min(quantity, int(market)) // lot * lot, lot)
            self.allow += sold
            bought += sold
            n_sold = int(sold.sum())
            self.issued += n_sold
            self.reserve_sold[t] += n_sold
            self.revenue[t] += n_sold * price
            left.append((price, quantity - n_sold))
        year.tiers = left

    def _ceiling_sale(self, t: int, q: int, year: _Year, tranche: int, due: np.ndarray, bought: np.ndarray,
                      settlement: float | None) -> None:
        """Unlimited at the ceiling: to firms short for this quarter's deadline and, when the auction settled at the
        highest price it may (a cent below the ceiling), to every firm for what it needs beyond its share of the
        later supply.

        The mirror of the floor: on a Hotelling path from the ceiling, later auctions sell out below the later
        ceilings, so the market buys at the ceiling now what the later supply leaves short through each year-end,
        max_k (N_k - (S_k - K)) (the equilibrium's sale at the ceiling, banked for later years). A firm takes its
        share of it (`_residual`)."""
        ceiling = year.ceiling
        if ceiling is None:
            return
        want = np.maximum(due + self.penalty_owed - self._holding(), 0).astype(float)
        if settlement is not None and round(settlement * 100) >= round(ceiling * 100) - 1:
            at_ceiling = np.maximum(self._residual(ceiling, t, q, year, tranche), 0.0) - bought
            want = np.maximum(want, at_ceiling)
        units = np.ceil(np.maximum(want, 0.0)).astype(np.int64)
        if units.sum() == 0:
            return
        self.allow += units
        self.issued += int(units.sum())
        self.ceiling_sold[t] += int(units.sum())
        self.revenue[t] += float(units.sum()) * ceiling

    def _excess(self, prices: np.ndarray, t: int, q: int, year: _Year, due: np.ndarray, penalty: np.ndarray
                ) -> np.ndarray:
        """Each firm's excess demand in the call market at each price (firms x prices; negative: it sells)."""
        need, state = self._horizons(np.broadcast_to(prices, (self.n, len(prices))), t, q, year)
        with np.errstate(invalid="ignore"):
            short = _no_nan(need - self.share[:, None, None] * state)
        # Every firm trades toward the year-end the market is closest to running short at (public: registries
        # publish aggregate holdings and emissions): summed, the excess is max_k (N_k - S_k), zero exactly where the
        # tightest year-end bank is just covered. (Each firm's own tightest year-end would overstate the sum.)
        tightest = short.sum(axis=0).argmax(axis=1)
        excess = np.take_along_axis(short, tightest[None, :, None], axis=2)[:, :, 0]
        excess = np.where(np.isfinite(excess), excess, 0.0)
        deficit = np.maximum(due + self.penalty_owed - self._holding(), 0)
        urgent = (prices[None, :] <= penalty[:, None]) & (deficit[:, None] > 0)
        excess = np.where(urgent, np.maximum(excess, deficit[:, None]), excess)
        spare = np.maximum(self.allow - np.maximum(due + self.penalty_owed - self.offs, 0), 0)
        return np.maximum(excess, -spare[:, None].astype(float))

    def _call_market(self, t: int, q: int, year: _Year, due: np.ndarray, expected: float) -> float | None:
        """One uniform-price call among firms before the auction; its price (where the curves cross, even if no
        firm needs to trade there), or None when they do not cross within reach.

        A firm's excess demand at p is what its need through year-end k leaves short of its share s of the state's
        remaining supply on the Hotelling path from p, N_k(p) - s S_k(p), at the year-end k where the market's is
        largest (s: its share of the last pro-rata auction's awards; before any, its share of BAU emissions).
        Summed over firms it is zero where the market needs just the state's supply, so trades move allowances
        from firms long on their share to firms short on it; where the auctions cannot sell (a surplus below the
        floor) it is where the market finds its price. A firm short for this quarter's deadline also buys the
        shortfall at up to the untimely-surrender multiple of the expected price (the ceiling where there is one);
        no firm sells what it owes this quarter.
        The price is where the summed excess demand (falling in p) crosses zero, found to the cent between a
        quarter and four times the expected price (below the ceiling); the long side is rationed."""
        if expected <= 0:
            return None
        ceiling = self.s.supply[t].ceiling
        penalty = np.array([self.multiplier[m] for m in self.member_of.tolist()], dtype=float) * expected
        if ceiling is not None:
            penalty = np.minimum(penalty, ceiling)
        low = expected * CALL_REACH
        high = ceiling - 0.01 if ceiling is not None else min(expected * SPARSE_REACH, PRICE_MAX_CENTS / 100)
        if high <= low:
            return None

        def totals(prices: np.ndarray) -> np.ndarray:
            return self._excess(prices, t, q, year, due, penalty).sum(axis=0)

        # The crossing: bracketed on a coarse grid, again on a fine one, then interpolated to the cent.
        grid = np.geomspace(low, high, 25)
        for _ in range(2):
            total = totals(grid)
            if total[0] <= 0 or total[-1] >= 0:
                return None  # no crossing within reach: no trade this quarter
            k = int(np.argmax(total <= 0))
            a, b = total[k - 1], total[k]
            if _ == 0:
                grid = np.linspace(grid[k - 1], grid[k], 25)
        price = round(float(grid[k - 1] + (grid[k] - grid[k - 1]) * a / (a - b)), 2)
        floor = self.s.supply[t].floor
        # Below the floor only if the market needs none of the auction a cent under it (else the curves cross at
        # the floor's jump in supply: the auction's price).
        self.below_floor_trade = price < floor and float(totals(np.array([floor - 0.01]))[0]) <= 0
        x = self._excess(np.array([price]), t, q, year, due, penalty)[:, 0]
        bids = np.floor(np.maximum(x, 0.0)).astype(np.int64)
        asks = np.floor(np.maximum(-x, 0.0)).astype(np.int64)
        volume = int(min(bids.sum(), asks.sum()))
        if volume < 1:
            return price  # the curves cross there, though nobody needs to trade: still the market's price
        got = bids if bids.sum() == volume else _largest_remainder(volume, bids.astype(float))
        gave = asks if asks.sum() == volume else _largest_remainder(volume, asks.astype(float))
        self.allow += got - gave
        self.trade_price[t, q] = price
        self.trade_volume[t, q] = volume
        return price

    def _surrender(self, q: int) -> None:
        """This quarter's obligations through `plan_surrender` (vintages pooled: the holdings are one eligible
        line of allowances and one of offsets); shortfalls become untimely-surrender obligations; those already
        owed are then met from what is left (allowances first, offsets for at most the share the rule allows)."""
        vintage = self.years[0] - 1
        for i, ob in self.due.get(q, []):
            book = self.rulebooks[int(self.member_of[i])]
            plan = plan_surrender(book, ob, [(InstrumentKind.ALLOWANCE, vintage, int(self.allow[i])),
                                             (InstrumentKind.OFFSET_CREDIT, None, int(self.offs[i]))])
            for kind, _, quantity in plan.surrendered:
                if kind is InstrumentKind.OFFSET_CREDIT:
                    self.offs[i] -= quantity
                else:
                    self.allow[i] -= quantity
                self.surrendered += quantity
            self.discharged[i] += ob.quantity
            self.owed_float[i] -= ob.quantity
            if plan.shortfall:
                m = int(self.member_of[i])
                try:
                    replaced = untimely_surrender(book, plan.shortfall)
                    quantity, minimum = replaced.quantity, replaced.min_allowances or 0
                except InputError:  # no untimely rule in the rulebook: the shortfall stays owed, once
                    quantity, minimum = plan.shortfall * self.multiplier[m], 0
                self.penalties += 1
                self.shortfall += plan.shortfall
                self.untimely += quantity
                self.penalty_owed[i] += quantity
                self.penalty_min_allow[i] += minimum
                self.owed_float[i] += quantity
        for i in np.flatnonzero(self.penalty_owed).tolist():
            pay = min(int(self.allow[i]), int(self.penalty_owed[i]))
            self.allow[i] -= pay
            self.penalty_min_allow[i] = max(int(self.penalty_min_allow[i]) - pay, 0)
            rest = int(self.penalty_owed[i]) - pay
            by_offsets = min(int(self.offs[i]), max(rest - int(self.penalty_min_allow[i]), 0))
            self.offs[i] -= by_offsets
            paid = pay + by_offsets
            self.penalty_owed[i] -= paid
            self.owed_float[i] -= paid
            self.surrendered += paid

    def _emit(self, t: int, price: float) -> None:
        """The quarter's emissions: BAU less the abatement whose marginal cost is the market price."""
        share = self._share(np.full(self.n, float(price)))
        quarter = self.bau[:, t] / QUARTERS * (1.0 - share)
        self.emitted += quarter
        self.owed_float += quarter

    def _close_year(self, t: int) -> None:
        whole = np.round(self.emitted).astype(np.int64)
        self.emissions[:, t] = whole
        self.owed_float += whole - self.emitted  # the obligations count whole instruments
        self.year_emissions[t] = float(self.emitted.sum())
        self.emitted = np.zeros(self.n)
        owed = self.emissions[:, : t + 1].sum(axis=1) - self.discharged + self.penalty_owed
        self.bank[t] = float(self._holding().sum() - owed.sum())

    def _year_prices(self) -> np.ndarray:
        """The mean of the year's four quarterly market prices: the auction's settlement price, or the call
        market's in a quarter whose auction sold nothing, or else the expected price. With equal quarterly
        tranches this is the volume-weighted auction price whenever the auctions sell."""
        return self.quarter_price.mean(axis=1)


def _no_nan(short: np.ndarray) -> np.ndarray:
    """A shortfall against infinite supply (inf - inf, from a ceiling) is no shortfall: minus infinity."""
    return np.where(np.isnan(short), -np.inf, short)


def _at_tightest(short: np.ndarray) -> np.ndarray:
    """Each firm's shortfall (firms x year-ends) at the year-end where the market's summed shortfall is largest."""
    short = _no_nan(short)
    k = int(np.argmax(short.sum(axis=0)))
    value = short[:, k]
    return np.where(np.isfinite(value), value, 0.0)


def _take(levels: list[tuple[float, int]], quantity: int) -> list[tuple[float, int]]:
    """Levels (price, allowances) less `quantity`, taken from the lowest price up."""
    out = []
    for price, q in sorted(levels):
        take = min(q, quantity)
        quantity -= take
        out.append((price, q - take))
    return out


def _fill(want: np.ndarray, available: int, lot: int) -> np.ndarray:
    """Orders at one fixed price: all of them if they fit, else pro rata in whole lots."""
    total = int(want.sum())
    if total <= available:
        return want
    return _largest_remainder(available // lot, want.astype(float) / lot) * lot
