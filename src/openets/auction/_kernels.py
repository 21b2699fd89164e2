"""Compiled single-pass loops over the bids for `clearing.py` (numba; measured hot path, see `make bench`).

Each function reads the bid arrays once. They hold no rules of their own: `clearing.py` decides what the
numbers mean; these only tally them.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: Error codes of `scan`: which check a bid failed (0: none).
OK, BAD_QUANTITY, BAD_PRICE, NO_RATE, MIXED_TYPE = 0, 1, 2, 3, 4


@njit(cache=True)
def scan(bidder, bidder_type, price, quantity, currency, n_bidders, lot, floor, rate_scaled, rate_scale):  # noqa: ANN001, ANN201
    """Check every bid, convert CAD prices to US cents (rounded down), and tally what the floor lets through.

    Returns (error code, index of the first bad bid, prices in US cents, qualified quantity per bidder, type per
    bidder, quantity bid at or above the floor, quantity bid, highest qualified price or -1).
    """
    n = len(price)
    usd = np.empty(n, dtype=np.int64)
    wanted = np.zeros(n_bidders, dtype=np.int64)
    types = np.full(n_bidders, -1, dtype=np.int64)
    qualified_total = 0
    total = 0
    highest = -1
    for i in range(n):
        q = quantity[i]
        if q <= 0 or q % lot != 0:
            return BAD_QUANTITY, i, usd, wanted, types, 0, 0, -1
        p = price[i]
        if p < 0:
            return BAD_PRICE, i, usd, wanted, types, 0, 0, -1
        b = bidder[i]
        t = bidder_type[i]
        if types[b] == -1:
            types[b] = t
        elif types[b] != t:
            return MIXED_TYPE, i, usd, wanted, types, 0, 0, -1
        if currency[i] == 1:
            if rate_scaled <= 0:
                return NO_RATE, i, usd, wanted, types, 0, 0, -1
            p = p * rate_scale // rate_scaled
        usd[i] = p
        total += q
        if p >= floor:
            wanted[b] += q
            qualified_total += q
            if p > highest:
                highest = p
    return OK, -1, usd, wanted, types, qualified_total, total, highest


@njit(cache=True)
def histogram(usd, q, qty, floor, n_levels):  # noqa: ANN001, ANN201
    """Per price level from the floor: allowances bid after limits (`q`) and as bid (`qty`)."""
    demand = np.zeros(n_levels, dtype=np.int64)
    as_bid = np.zeros(n_levels, dtype=np.int64)
    for i in range(len(usd)):
        p = usd[i]
        if p >= floor:
            k = p - floor
            demand[k] += q[i]
            as_bid[k] += qty[i]
    return demand, as_bid


@njit(cache=True)
def fill_above(bidder, usd, q, floor, p_star, n_bidders):  # noqa: ANN001, ANN201
    """Each bidder's allowances bid strictly above `p_star` (all filled), and the bids tied at it."""
    awards = np.zeros(n_bidders, dtype=np.int64)
    tied = np.empty(len(usd), dtype=np.int64)
    n_tied = 0
    for i in range(len(usd)):
        p = usd[i]
        if p < floor or q[i] == 0:
            continue
        if p > p_star:
            awards[bidder[i]] += q[i]
        elif p == p_star:
            tied[n_tied] = i
            n_tied += 1
    return awards, tied[:n_tied]
