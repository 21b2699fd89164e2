"""Auctions: price schedules, single-round uniform-price clearing, and auctions run against a registry."""

from __future__ import annotations

from openets.auction.clearing import AuctionResult, Bid, BidArrays, ClearingRules, Containment, Tranche, clear
from openets.auction.schedule import YearSchedule, price_schedule, schedule_years, year_schedule

__all__ = [
    "AuctionResult",
    "Bid",
    "BidArrays",
    "ClearingRules",
    "Containment",
    "Tranche",
    "clear",
    "YearSchedule",
    "price_schedule",
    "schedule_years",
    "year_schedule",
]
