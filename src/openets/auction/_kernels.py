"""Compiled single-pass loops over the bids for `clearing.py` (numba; measured hot path, see `make bench`).

Each function reads the bid arrays once. They hold no rules of their own: `clearing.py` decides what the
numbers mean; these only check, convert and tally them.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: Error codes of `scan`: which check a bid failed (0: none).
OK, BAD_QUANTITY, BAD_PRICE, NO_RATE, MIXED_TYPE = 0, 1, 2, 3, 4
#: Price levels (cents above the floor) tallied in the scan itself; bids above go to an exact second pass.
SCAN_LEVELS = 1 << 20


@njit(cache=True)
def scan(bidder, bidder_type, price, quantity, currency, n_bidders, lot, floor, rate_scaled, rate_scale, price_max, quantity_max):  # noqa: ANN001, ANN201
    """Check every bid, convert CAD prices to US cents (rounded down), and tally what the floor lets through.

    Returns (error code, index of the first bad bid, prices in US cents, qualified allowances per bidder, type
    per bidder, allowances bid at or above the floor, allowances bid, highest qualified price or -1,
    allowances bid per price level from the floor (the first SCAN_LEVELS levels)).
    """
    n = len(price)
    usd = np.empty(n, dtype=np.int64)
    wanted = np.zeros(n_bidders, dtype=np.int64)
    types = np.full(n_bidders, -1, dtype=np.int64)
    levels = np.zeros(SCAN_LEVELS, dtype=np.int64)
    inv_lot = 1.0 / lot
    inv_rate = rate_scale / rate_scaled if rate_scaled > 0 else 0.0
    qualified_total = 0
    total = 0
    highest = -1
    for i in range(n):
        q = quantity[i]
        # q % lot without a division: exact, since q / lot is far from half-way for whole multiples.
        if q <= 0 or q > quantity_max or np.int64(q * inv_lot + 0.5) * lot != q:
            return BAD_QUANTITY, i, usd, wanted, types, 0, 0, -1, levels
        p = price[i]
        if p < 0 or p > price_max:
            return BAD_PRICE, i, usd, wanted, types, 0, 0, -1, levels
        b = bidder[i]
        t = bidder_type[i]
        if types[b] != t:
            if types[b] != -1:
                return MIXED_TYPE, i, usd, wanted, types, 0, 0, -1, levels
            types[b] = t
        if currency[i] == 1:
            if rate_scaled <= 0:
                return NO_RATE, i, usd, wanted, types, 0, 0, -1, levels
            # floor(p * scale / rate) in integers, from a float guess corrected by at most one either way
            num = p * rate_scale
            d = np.int64(p * inv_rate)
            while d * rate_scaled > num:
                d -= 1
            while (d + 1) * rate_scaled <= num:
                d += 1
            p = d
        usd[i] = p
        total += q
        if p >= floor:
            wanted[b] += q
            qualified_total += q
            if p > highest:
                highest = p
            k = p - floor
            if k < SCAN_LEVELS:
                levels[k] += q
    return OK, -1, usd, wanted, types, qualified_total, total, highest, levels


@njit(cache=True)
def histogram(usd, q, floor, n_levels):  # noqa: ANN001, ANN201
    """Allowances per price level from the floor (for bids spread wider than the scan tallies)."""
    out = np.zeros(n_levels, dtype=np.int64)
    for i in range(len(usd)):
        p = usd[i]
        if p >= floor:
            out[p - floor] += q[i]
    return out


@njit(cache=True)
def trim(bidder, usd, quantity, floor, limit, over, highest):  # noqa: ANN001, ANN201
    """Cut over-limit bidders' qualified lots from their lowest prices up (limits are whole lots, so cuts are).

    Returns the quantities after cuts, and the index and new quantity of each cut bid.
    """
    n = len(usd)
    picked = np.empty(n, dtype=np.int64)
    m = 0
    for i in range(n):
        if over[bidder[i]] and usd[i] >= floor:
            picked[m] = i
            m += 1
    picked = picked[:m]
    # One sort: by bidder, then highest price first.
    span = highest - floor + 1
    key = np.empty(m, dtype=np.int64)
    for j in range(m):
        i = picked[j]
        key[j] = bidder[i] * span + (highest - usd[i])
    order = picked[np.argsort(key, kind="mergesort")]
    q = quantity.copy()
    cut_at = np.empty(m, dtype=np.int64)
    cut_q = np.empty(m, dtype=np.int64)
    n_cut = 0
    prev = -1
    used = 0
    for j in range(m):
        i = order[j]
        b = bidder[i]
        if b != prev:
            prev = b
            used = 0
        room = limit[b] - used
        keep = quantity[i] if quantity[i] <= room else (room if room > 0 else 0)
        used += keep
        if keep != quantity[i]:
            q[i] = keep
            cut_at[n_cut] = i
            cut_q[n_cut] = keep
            n_cut += 1
    return q, cut_at[:n_cut], cut_q[:n_cut]


@njit(cache=True)
def fill_above(bidder, usd, q, p_star, n_bidders):  # noqa: ANN001, ANN201
    """Each bidder's allowances bid strictly above `p_star` (all filled), and the bids tied at it."""
    awards = np.zeros(n_bidders, dtype=np.int64)
    # Room for every bid: untouched pages cost nothing, and a fixed array keeps the loop free of reallocation.
    tied = np.empty(len(usd), dtype=np.int64)
    n_tied = 0
    for i in range(len(usd)):
        p = usd[i]
        if p > p_star:
            awards[bidder[i]] += q[i]
        elif p == p_star and q[i] > 0:
            tied[n_tied] = i
            n_tied += 1
    return awards, tied[:n_tied]
