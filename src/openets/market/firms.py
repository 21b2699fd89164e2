"""Covered firms: business-as-usual emissions and marginal abatement cost (MAC) curves, and their sum.

A firm's MAC curve is piecewise linear, given by breakpoints (price, share of its BAU emissions abated at that
price), both nondecreasing, starting at (0, 0); beyond the last breakpoint abatement stays at its last share. So a
firm abates `bau * share(price)`, and the market's abatement at a price is the sum over firms: a piecewise-linear,
nondecreasing function of the price whose breakpoints are all the firms' breakpoints. `AbatementCurve` holds it in
closed form (sorted breakpoints and cumulative slopes per year), so one evaluation costs a binary search, whatever
the number of firms.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from openets.errors import InputError


@dataclass(frozen=True)
class Firms:
    """N firms over T years: `bau` (N x T, emissions without a carbon price), and MAC breakpoints `mac_price`
    (N x K, per allowance) and `mac_share` (N x K, share of BAU abated at that price)."""

    bau: np.ndarray
    mac_price: np.ndarray
    mac_share: np.ndarray

    def __post_init__(self) -> None:
        bau, price, share = (np.asarray(a, dtype=float) for a in (self.bau, self.mac_price, self.mac_share))
        if bau.ndim != 2 or price.ndim != 2 or price.shape != share.shape or price.shape[0] != bau.shape[0]:
            msg = (
                f"firms: bau must be N x T and the MAC breakpoints N x K with the same N; got bau {bau.shape}, "
                f"prices {price.shape}, shares {share.shape}"
            )
            raise InputError(msg)
        if not (np.isfinite(bau).all() and np.isfinite(price).all() and np.isfinite(share).all()):  # nan, inf
            msg = "firms: BAU emissions and MAC breakpoints must be finite numbers"
            raise InputError(msg)
        if (bau < 0).any():
            msg = "firms: BAU emissions must not be negative"
            raise InputError(msg)
        if (price < 0).any() or (np.diff(price, axis=1) < 0).any():
            msg = "firms: MAC breakpoint prices must be non-negative and nondecreasing along each firm's curve"
            raise InputError(msg)
        if (share < 0).any() or (share > 1).any() or (np.diff(share, axis=1) < 0).any():
            msg = "firms: MAC shares must lie in [0, 1] and not decrease along each firm's curve"
            raise InputError(msg)
        if ((np.diff(price, axis=1) == 0) & (np.diff(share, axis=1) > 0)).any():
            msg = (
                "firms: a MAC curve rises in share at a single price (a vertical step); give the step a price range, "
                "e.g. (10, 0.1), (10.01, 0.5)"
            )
            raise InputError(msg)
        if (price[:, 0] != 0).any() or (share[:, 0] != 0).any():
            msg = "firms: each MAC curve starts at (price 0, share 0); add that breakpoint first"
            raise InputError(msg)
        object.__setattr__(self, "bau", bau)
        object.__setattr__(self, "mac_price", price)
        object.__setattr__(self, "mac_share", share)

    @classmethod
    def linear(cls, bau: np.ndarray, full_price: np.ndarray, max_share: np.ndarray | float = 1.0) -> Firms:
        """Linear MACs: a firm abates `bau * price / full_price`, up to `max_share` of its BAU emissions."""
        bau = np.atleast_2d(np.asarray(bau, dtype=float))
        full = np.broadcast_to(np.asarray(full_price, dtype=float), (bau.shape[0],)).copy()
        top = np.broadcast_to(np.asarray(max_share, dtype=float), (bau.shape[0],)).copy()
        if (full <= 0).any():
            msg = "firms: the price of full abatement must be positive"
            raise InputError(msg)
        return cls(bau, np.stack([np.zeros_like(full), full * top], axis=1), np.stack([np.zeros_like(top), top], axis=1))

    @property
    def n_firms(self) -> int:
        return int(self.bau.shape[0])

    @property
    def n_years(self) -> int:
        return int(self.bau.shape[1])

    def abatement(self) -> AbatementCurve:
        return AbatementCurve.of(self)


@dataclass(frozen=True)
class Facility:
    """One covered facility from a CSV: emissions in the first simulated year (tonnes), yearly growth, the price
    at which it abates `max_share` of its emissions, and that share."""

    name: str
    bau: float
    growth: float
    mac_price: float
    max_share: float


FACILITY_COLUMNS = ("facility", "bau_t", "growth", "mac_price", "max_share")


def read_facilities(path: str) -> list[Facility]:
    """Facilities from CSV (facility,bau_t,growth,mac_price,max_share); errors name the line and the column."""
    from openets.csvfile import read_rows

    rows = read_rows(path, FACILITY_COLUMNS, "facilities")
    out: list[Facility] = []
    for line, row in rows:
        values = {}
        for column in FACILITY_COLUMNS[1:]:
            try:
                values[column] = float(row[column])
            except (TypeError, ValueError):
                values[column] = float("nan")
            if values[column] != values[column] or values[column] in (float("inf"), float("-inf")):
                msg = f"{path} line {line}: {column} {row[column]!r} is not a finite number"
                raise InputError(msg) from None
        if values["bau_t"] < 0 or values["mac_price"] <= 0 or not 0 < values["max_share"] <= 1 or not -1 < values["growth"] < 1:
            msg = (
                f"{path} line {line}: need bau_t >= 0, mac_price > 0, max_share in (0, 1] and growth in (-1, 1); "
                f"found {values}"
            )
            raise InputError(msg)
        out.append(Facility((row["facility"] or "").strip(), values["bau_t"], values["growth"], values["mac_price"],
                            values["max_share"]))
    if not out:
        msg = f"{path}: no facilities; give one row per facility"
        raise InputError(msg)
    return out


@dataclass(frozen=True)
class AbatementCurve:
    """The market's abatement by year as a function of price: A_t(p) = level[t, j] + slope[t, j] * (p - x[j]) on
    [x[j], x[j+1]), with x the sorted breakpoints of all firms (x[0] = 0)."""

    x: np.ndarray  # (M,) sorted breakpoint prices
    level: np.ndarray  # (T, M) abatement at each breakpoint
    slope: np.ndarray  # (T, M) abatement per unit of price right of each breakpoint
    bau: np.ndarray  # (T,) total BAU emissions

    @classmethod
    def of(cls, firms: Firms) -> AbatementCurve:
        p, s = firms.mac_price, firms.mac_share
        dp, ds = np.diff(p, axis=1), np.diff(s, axis=1)
        # A vertical step in a firm's curve (equal prices, rising share) has no slope: a jump at that price.
        firm_slope = np.divide(ds, dp, out=np.zeros_like(ds), where=dp > 0)  # share per unit price, per segment
        jumps = np.where(dp > 0, 0.0, ds)
        start = p[:, :-1].ravel()
        end = p[:, 1:].ravel()
        segment_slope = firm_slope.ravel()
        jump = jumps.ravel()
        firm = np.repeat(np.arange(firms.n_firms), p.shape[1] - 1)
        initial = s[:, 0]  # share abated at a zero price (normally 0)
        x = np.unique(np.concatenate([[0.0], start, end]))
        # Slope changes: +slope at a segment's start, -slope at its end; jumps at their price.
        idx_start = np.searchsorted(x, start)
        idx_end = np.searchsorted(x, end)
        bau = firms.bau  # (N, T)
        weights_start = segment_slope[:, None] * bau[firm]  # (S, T)
        dslope = np.zeros((len(x), firms.n_years))
        np.add.at(dslope, idx_start, weights_start)
        np.add.at(dslope, idx_end, -weights_start)
        djump = np.zeros((len(x), firms.n_years))
        np.add.at(djump, idx_start, jump[:, None] * bau[firm])
        slope = np.cumsum(dslope, axis=0)  # slope right of each breakpoint
        slope[-1] = 0.0  # beyond every curve's last breakpoint abatement stays flat (no rounding residue)
        widths = np.diff(x)
        level = np.zeros_like(slope)
        level[0] = initial @ bau + djump[0]
        if len(x) > 1:
            level[1:] = level[0] + np.cumsum(slope[:-1] * widths[:, None] + djump[1:], axis=0)
        return cls(x, level.T.copy(), slope.T.copy(), bau.sum(axis=0))

    def at(self, t: int, price: float) -> float:
        """Abatement in year index `t` at `price` (a jump at a breakpoint counts from that price on)."""
        if price <= 0:
            return float(self.level[t, 0]) if price == 0 else 0.0
        j = int(np.searchsorted(self.x, price, side="right")) - 1
        return float(self.level[t, j] + self.slope[t, j] * (price - self.x[j]))

    def emissions(self, t: int, price: float) -> float:
        return float(self.bau[t]) - self.at(t, price)

    def breakpoints(self) -> np.ndarray:
        return self.x

    def at_many(self, prices: np.ndarray, first: int = 0) -> np.ndarray:
        """Abatement in years first, first+1, ... at the given prices (one per year), vectorized."""
        prices = np.asarray(prices, dtype=float)
        t = np.arange(first, first + len(prices))
        j = np.searchsorted(self.x, prices, side="right") - 1
        j = np.clip(j, 0, len(self.x) - 1)
        out = self.level[t, j] + self.slope[t, j] * (prices - self.x[j])
        return np.where(prices < 0, 0.0, out)
