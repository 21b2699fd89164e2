"""Auctions: price schedules by year (and, with clearing.py, single-round uniform-price clearing)."""

from __future__ import annotations

from openets.auction.schedule import YearSchedule, price_schedule, schedule_years, year_schedule

__all__ = [
    "YearSchedule",
    "price_schedule",
    "schedule_years",
    "year_schedule",
]
