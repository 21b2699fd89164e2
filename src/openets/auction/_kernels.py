"""Compiled loops over the bids for `clearing.py` (numba; measured hot path, see `make bench`).

They hold no rules of their own: `clearing.py` decides what the numbers mean; these only check, convert and
tally them. A clearing reads the bids twice in `scan`, once more when a bidder is over its limit (`trim`), and
once more to settle when the supply runs out (`fill`).

Where the outcome for one bid does not predict the next (its currency, whether it clears the floor or the
price), the loops pick an array index or compute both values instead of branching: a mispredicted branch costs
more than the arithmetic it saves, and the compiler turns a plain `x if c else 0` back into a branch.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: Error codes of `scan`: which check a bid failed (0: none).
OK, BAD_QUANTITY, BAD_PRICE, NO_RATE, MIXED_TYPE = 0, 1, 2, 3, 4


@njit(cache=True)
def scan(bidder, bidder_type, price, quantity, currency, n_bidders, lot, floor, rate_scaled, rate_scale, price_max, quantity_max, levels_max):  # noqa: ANN001, ANN201
    """Check every bid, convert CAD prices to US cents (rounded down), and tally what the floor lets through.

    Returns (error code, index of the first bad bid, prices in US cents, qualified allowances per bidder, type
    per bidder, allowances bid at or above the floor, allowances bid, highest qualified price or -1,
    allowances bid per cent from the floor to the highest qualified price (empty when more than levels_max)).

    Two loops: the first checks and converts each bid on its own (the compiler vectorizes it), the second
    tallies per bidder and level. Only when the first finds a bad bid does a third, one bid at a time, name
    the first bad bid, checking in the order the errors rank.
    """
    n = len(price)
    usd = np.empty(n, dtype=np.int64)
    types = np.full(n_bidders, -1, dtype=np.int64)
    # Per bidder: [below the floor, at or above it].
    by_bidder = np.zeros(2 * n_bidders, dtype=np.int64)
    levels = np.zeros(0, dtype=np.int64)  # sized once the highest price is known
    inv_lot = 1.0 / lot
    inv_rate = rate_scale / rate_scaled if rate_scaled > 0 else 0.0
    no_rate = rate_scaled <= 0
    bad = False
    total = 0
    highest = -1
    for i in range(n):
        q = quantity[i]
        p = price[i]
        cad = currency[i] == 1
        # q % lot without a division: exact, since q / lot is far from half-way for whole multiples.
        bad |= (q <= 0) | (q > quantity_max) | (np.int64(q * inv_lot + 0.5) * lot != q)
        bad |= (p < 0) | (p > price_max) | (cad & no_rate)
        # floor(p * scale / rate) in integers: the float guess is off by at most one either way (its relative
        # error, ~2e-16, times at most price_max * scale = 1e12), so one correction each way makes it exact.
        num = p * rate_scale
        d = np.int64(p * inv_rate)
        d -= np.int64(d * rate_scaled > num)
        d += np.int64((d + 1) * rate_scaled <= num)
        p = d if cad else p
        usd[i] = p
        total += q
        highest = max(highest, p)
    if bad:
        for i in range(n):
            q = quantity[i]
            p = price[i]
            if q <= 0 or q > quantity_max or np.int64(q * inv_lot + 0.5) * lot != q:
                return BAD_QUANTITY, i, usd, by_bidder, types, 0, 0, -1, levels
            if p < 0 or p > price_max:
                return BAD_PRICE, i, usd, by_bidder, types, 0, 0, -1, levels
            if types[bidder[i]] != bidder_type[i]:
                if types[bidder[i]] != -1:
                    return MIXED_TYPE, i, usd, by_bidder, types, 0, 0, -1, levels
                types[bidder[i]] = bidder_type[i]
            if currency[i] == 1 and no_rate:
                return NO_RATE, i, usd, by_bidder, types, 0, 0, -1, levels
    span = highest - floor + 1 if highest >= floor else 0
    n_levels = span if span <= levels_max else 0
    levels = np.zeros(n_levels + 1, dtype=np.int64)  # the last one takes the bids below the floor (or all)
    for i in range(n):
        b = bidder[i]
        if types[b] != bidder_type[i]:  # rare: a bidder's first bid, or an error
            if types[b] != -1:
                return MIXED_TYPE, i, usd, by_bidder, types, 0, 0, -1, levels
            types[b] = bidder_type[i]
        q = quantity[i]
        k = usd[i] - floor
        # Indexes, not branches: whether a bid clears the floor is a coin flip from one bid to the next.
        by_bidder[2 * b + np.int64(k >= 0)] += q
        levels[min(np.uint64(k), np.uint64(n_levels))] += q  # k < 0 wraps to a huge number: the last level
    wanted = by_bidder[1::2].copy()
    return OK, -1, usd, wanted, types, wanted.sum(), total, highest if span else -1, levels[:n_levels]


@njit(cache=True)
def trim(bidder, usd, quantity, floor, limit, over):  # noqa: ANN001, ANN201
    """Cut over-limit bidders' qualified lots from their lowest prices up (limits are whole lots, so cuts are).

    A bidder keeps its highest-priced lots up to its limit, so what is cut at each price does not depend on
    which of its bids at that price are cut. Returns the price and the allowances cut of each cut bid.
    """
    n_bidders = len(over)
    picked = np.empty(len(usd), dtype=np.int64)
    count = np.zeros(n_bidders + 1, dtype=np.int64)
    m = 0
    for i in range(len(usd)):
        if over[bidder[i]] and usd[i] >= floor:
            picked[m] = i
            m += 1
            count[bidder[i] + 1] += 1
    # Group the picked bids by bidder (a counting sort), then sort each bidder's few bids by price.
    start = np.cumsum(count)
    grouped = np.empty(m, dtype=np.int64)
    at = start[:-1].copy()
    for j in range(m):
        b = bidder[picked[j]]
        grouped[at[b]] = picked[j]
        at[b] += 1
    cut_price = np.empty(m, dtype=np.int64)
    cut_q = np.empty(m, dtype=np.int64)
    n_cut = 0
    for b in np.flatnonzero(over):
        mine = grouped[start[b] : start[b + 1]]
        used = 0
        for i in mine[np.argsort(-usd[mine])]:  # highest price first
            keep = min(quantity[i], max(limit[b] - used, 0))
            used += keep
            if keep != quantity[i]:
                cut_price[n_cut] = usd[i]
                cut_q[n_cut] = quantity[i] - keep
                n_cut += 1
    return cut_price[:n_cut], cut_q[:n_cut]


@njit(cache=True)
def fill(bidder, usd, quantity, p_star, n_bidders):  # noqa: ANN001, ANN201
    """Each bidder's allowances bid strictly above `p_star`, and at it (before any limit cuts)."""
    # Per bidder: [below, at, above]. Every bid adds to one of them, picked by index: no branch, no select.
    sums = np.zeros(3 * n_bidders, dtype=np.int64)
    for i in range(len(usd)):
        p = usd[i]
        sums[3 * bidder[i] + np.int64(p >= p_star) + np.int64(p > p_star)] += quantity[i]
    return sums[2::3].copy(), sums[1::3].copy()
