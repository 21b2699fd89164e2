"""The EU Market Stability Reserve in the banking equilibrium (pure; no I/O).

The MSR makes supply depend on the bank: the auction volume of year y is cut by the intake decided on the total
number of allowances in circulation (TNAC) of the two years before (the intake based on year X's TNAC runs from
September of X+1 to August of X+2: 4/12 of it falls in X+1 and 8/12 in X+2), raised by a release when the TNAC is
low, and the reserve's holdings above a cap are invalidated each 1 January. In the model the TNAC is the private
bank at the end of the year: allowances issued less those surrendered, less those in the reserve.

Firms are price takers with perfect foresight of the supply path: they do not reckon with their own banking
moving the reserve. So the equilibrium is a fixed point: a supply path whose equilibrium banks make the MSR choose
that same supply path. `solve_with_msr` finds it by iterating with Anderson acceleration: solve the equilibrium for
the current adjustments (exact, `equilibrium.solve`), recompute the adjustments from its banks, repeat until
every year's adjustment is what the rule gives (to a millionth of the auction volume). Where a bank settles on a
threshold at which the rule jumps (the 400 M release, the 833 M intake before the 2024 buffer), the rule is
set-valued there, as supply is at a price step, and any adjustment between its two sides is consistent. If the
iteration still fails, the result says so and gives the residual, rather than pretending.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from itertools import pairwise

import numpy as np

from openets.errors import InputError
from openets.market.equilibrium import Equilibrium, Market, solve
from openets.rules.model import MarketStabilityReserve


@dataclass(frozen=True)
class MsrState:
    """What the reserve knows before the first simulated year."""

    rules: MarketStabilityReserve
    tnac: Mapping[int, float]  # published TNAC of the years before the first simulated one
    holdings: float  # allowances in the reserve at the start of the first simulated year
    holding_cap: Mapping[int, float]  # year -> cap applied on 1 January (invalidation)


@dataclass(frozen=True)
class MsrPath:
    """The reserve's flows over the simulated years (allowances)."""

    intake: np.ndarray  # auction volume withheld into the reserve in each year
    release: np.ndarray  # allowances released from the reserve to auction in each year
    invalidated: np.ndarray  # holdings invalidated on 1 January of each year
    holdings: np.ndarray  # at the end of each year


def decided(rules: MarketStabilityReserve, year: int, tnac: float) -> tuple[float, float]:
    """(intake, release) decided on year `year`'s TNAC, before the reserve's holdings limit the release."""
    if year < rules.start_year - 2:
        return 0.0, 0.0
    if tnac < rules.release_threshold:
        return 0.0, float(rules.release_quantity)
    return rules.intake_of(year, tnac), 0.0


def flows(state: MsrState, years: tuple[int, ...], bank: np.ndarray, auctioned: np.ndarray,
          net: np.ndarray | None = None) -> MsrPath:
    """The reserve's intake, release and invalidation in each simulated year, given the year-end banks (TNAC).

    An intake is at most the year's auction volume; a release at most what the reserve holds. With `net` (intake
    less release per year, as the equilibrium settled it at a threshold where the rule jumps) the flows are
    those, within the same limits."""
    return _walk(state, years, bank, auctioned, 0.0, net)[0]


def _walk(state: MsrState, years: tuple[int, ...], bank: np.ndarray, auctioned: np.ndarray, eps: float,
          net: np.ndarray | None = None) -> tuple[MsrPath, np.ndarray, np.ndarray]:
    """The flows year by year (as `flows`), and per year the least and the most net intake (intake - release)
    the rule allows when each simulated TNAC may lie anywhere within `eps` of its value: at a threshold where the
    rule jumps, both sides (a set-valued rule, as a supply step is at its price). Both bounds respect the limits:
    an intake at most the auction volume, a release at most what the reserve holds."""
    rules = state.rules
    tnac = dict(state.tnac)
    tnac.update({y: float(b) for y, b in zip(years, bank, strict=True)})
    late = (13 - rules.first_month) / 12  # share of the decision on X's TNAC that falls in X+1
    n = len(years)
    intake, release, invalid, held = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)
    low, high = np.zeros(n), np.zeros(n)
    holdings = state.holdings
    for k, y in enumerate(years):
        if y < rules.start_year:
            held[k] = holdings
            continue
        cap = state.holding_cap.get(y)
        if cap is not None and holdings > cap:
            invalid[k] = holdings - cap
            holdings = cap
        take = give = lo = hi = 0.0
        for x, share in _deciding(rules, y, late):
            value = _tnac(tnac, x, y)
            i, r = decided(rules, x, value)
            take += share * i
            give += share * r
            sides = [decided(rules, x, value + d) for d in (-eps, eps)] if eps and x in years else []
            nets = [share * (a - b) for a, b in ((i, r), *sides)]
            lo += min(nets)
            hi += max(nets)
        limit = float(auctioned[k])
        low[k] = min(max(lo, -holdings), limit)
        high[k] = min(max(hi, -holdings), limit)
        intake[k] = min(take, limit)
        release[k] = min(give, holdings + intake[k])
        if net is not None:
            settled = min(max(float(net[k]), -holdings), limit)
            intake[k], release[k] = max(settled, 0.0), max(-settled, 0.0)
        holdings = holdings + intake[k] - release[k]
        held[k] = holdings
    return MsrPath(intake, release, invalid, held), low, high


def _deciding(rules: MarketStabilityReserve, year: int, late: float) -> tuple[tuple[int, float], ...]:
    """The TNAC years whose decisions fall in `year`, with the share of each."""
    return ((year - 1, late), (year - 2, 1 - late))


def _tnac(tnac: Mapping[int, float], x: int, year: int) -> float:
    if x not in tnac:
        msg = f"MSR: the TNAC of {x} is needed for {year}; give it among the published figures"
        raise InputError(msg)
    return tnac[x]


@dataclass(frozen=True)
class MsrEquilibrium:
    equilibrium: Equilibrium
    msr: MsrPath
    iterations: int
    converged: bool
    residual: float  # largest distance of a year's adjustment from what the rule allows (allowances)


def solve_with_msr(market: Market, years: tuple[int, ...], state: MsrState, *, tolerance: float | None = None,
                   max_iterations: int = 500) -> MsrEquilibrium:
    """The banking equilibrium whose supply path is what the MSR does with that equilibrium's banks.

    Where a bank settles on a threshold at which the rule jumps (the 400 M release), the rule is set-valued there
    (like supply at a price step): any net intake between its two sides is consistent, and the iteration stops
    when the adjustments lie within those bounds for banks within `tolerance` x 1e3 allowances of where they are.
    `tolerance` defaults to a millionth of the largest yearly auction volume (500 allowances on 500 M).
    """
    base = list(market.supply)
    auctioned = np.array([y.auctioned for y in base])
    if tolerance is None:
        tolerance = max(1.0, 1e-6 * float(auctioned.max(initial=0.0)))
    eps = tolerance * 1e3
    adjust = np.zeros(len(base))  # intake - release, per year
    xs: list[np.ndarray] = []  # Anderson acceleration: the last iterates and their residuals
    fs: list[np.ndarray] = []
    best: tuple = (np.inf, adjust, None, None)
    best_at = 0
    for iteration in range(1, max_iterations + 1):
        supply = [replace(y, auctioned=max(y.auctioned - a, 0.0)) for y, a in zip(base, adjust, strict=True)]
        e = solve(replace(market, supply=supply))
        path, low, high = _walk(state, years, e.bank, auctioned, eps)
        step = (path.intake - path.release) - adjust
        residual = float(np.max(np.abs(np.clip(adjust, low, high) - adjust))) if len(step) else 0.0
        if residual <= tolerance:
            settled = flows(state, years, e.bank, auctioned, net=adjust)
            return MsrEquilibrium(e, settled, iteration, True, residual)
        if residual < best[0]:
            best, best_at = (residual, adjust.copy(), e, path), iteration
        elif iteration - best_at > 40:  # stalled: start the acceleration afresh from the best point
            xs.clear()
            fs.clear()
            adjust, best_at = best[1].copy(), iteration
            continue
        floor = -(path.holdings + path.release - path.intake)  # a release takes at most what is held
        adjust = np.clip(_anderson(xs, fs, adjust, step), floor, auctioned)
    residual, _, e, path = best  # the closest the iteration came
    return MsrEquilibrium(e, path, max_iterations, False, residual)


_MEMORY, _MIXING = 5, 0.5


def _anderson(xs: list[np.ndarray], fs: list[np.ndarray], x: np.ndarray, f: np.ndarray) -> np.ndarray:
    """The next iterate of x = g(x) by Anderson acceleration (memory 5, mixing 0.5): the plain damped step
    corrected by the combination of the last differences that best cancels the residual. It settles the
    rotating oscillations that plain damping leaves when several years' intakes feed back on each other."""
    xs.append(x.copy())
    fs.append(f.copy())
    if len(xs) > _MEMORY + 1:
        xs.pop(0)
        fs.pop(0)
    if len(xs) == 1:
        return x + _MIXING * f
    dx = np.stack([b - a for a, b in pairwise(xs)], axis=1)
    df = np.stack([b - a for a, b in pairwise(fs)], axis=1)
    gamma, *_ = np.linalg.lstsq(df, f, rcond=None)
    return x + _MIXING * f - (dx + _MIXING * df) @ gamma
