"""What reaches the auctions: each vintage's budget split per the rulebook, and the quantities per auction.

Reads the shipped free-allocation table (`openets.data`); the rules themselves come from the rulebook.
"""

from __future__ import annotations

from openets.data import free_allocation
from openets.errors import InputError
from openets.rules import Program


def budget_split(program: Program, jurisdiction: str, vintage: int) -> dict[str, int]:
    """One vintage's budget by destination, in allowances; the parts add up to the budget exactly.

    reserve: the price-containment reserve (§95870(a); QC s.38); set_aside: other reserves (California's
    voluntary renewable electricity reserve, §95870(c)); advance_auction: the advance-auction share (§95870(b),
    §95871(b)); allocation: free allocation (shipped table); current_auction: the state-owned rest, sold in
    the current auctions of the vintage's year.
    """
    budget = program.budget(vintage, jurisdiction)
    parts = {
        "reserve": program.reserve_quantity(jurisdiction, vintage),
        "set_aside": program.set_aside_quantity(jurisdiction, vintage),
        "advance_auction": program.advance_auction_quantity(jurisdiction, vintage),
        "allocation": sum(free_allocation(jurisdiction, vintage).values()),
    }
    parts["current_auction"] = budget - sum(parts.values())
    if parts["current_auction"] < 0:
        msg = (
            f"{jurisdiction} vintage {vintage}: reserve, set-aside, advance and allocation ({budget - parts['current_auction']:,}) "
            f"exceed the budget {budget:,}; check the rulebook and the allocation table"
        )
        raise InputError(msg)
    return parts


def per_auction(total: int, auctions: int) -> list[int]:
    """A year's quantity split over its auctions: equal whole shares, the remainder in the last auction."""
    if auctions <= 0:
        return []
    share = total // auctions
    return [share] * (auctions - 1) + [total - share * (auctions - 1)]


def advance_offer(program: Program, jurisdiction: str, year: int, quarter: int) -> tuple[int, int]:
    """(vintage, allowances) a jurisdiction offers at the advance auction of `year`Q`quarter`: the advance
    share of the budget three years ahead, spread over that year's auctions (§95910(c)(2))."""
    quarters = program.auction_quarters(jurisdiction, year)
    if quarter not in quarters:
        msg = f"{jurisdiction} holds no auction in {year}Q{quarter} (its auctions that year: {list(quarters) or 'none'})"
        raise InputError(msg)
    vintage = year + 3
    total = program.advance_auction_quantity(jurisdiction, vintage)
    return vintage, per_auction(total, len(quarters))[quarters.index(quarter)]
