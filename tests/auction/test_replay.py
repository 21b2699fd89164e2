"""Replay of the WCI auctions 2012Q4-2018Q3 (history: CARB/MELCC results via the shipped table)."""

from __future__ import annotations

from pathlib import Path

from openets.auction.replay import markdown, replay
from openets.auction.supply import advance_offer, per_auction

DOC = Path(__file__).resolve().parents[2] / "docs" / "auction_replay_2012_2018.md"


def test_every_california_and_quebec_advance_auction_matches_the_rules(wci):
    rows = [r for r in replay(wci) if r.auction_type == "advance" and r.jurisdiction in ("CA", "QC")]
    assert len(rows) == 44
    mismatched = [r for r in rows if r.status != "match"]
    assert mismatched == []
    # 2012Q4, the only 2012 auction, offered all 39,450,000 vintage-2015 advance allowances (10% of 394.5 M,
    # §95870(b)); 2013 quarters a quarter of 10% of the 2016 budget of 382.4 M each.
    assert advance_offer(wci, "CA", 2012, 4) == (2015, 39_450_000)
    assert advance_offer(wci, "CA", 2013, 2) == (2016, 9_560_000)
    # Québec's first auction (Dec 2013) offered all of its vintage-2016 advance share: 10% of 63.19 M.
    assert advance_offer(wci, "QC", 2013, 4) == (2016, 6_319_000)


def test_rows_not_recomputed_say_why(wci):
    for row in replay(wci):
        assert row.status in ("match", "not recomputed"), row
        if row.status == "not recomputed":
            assert row.cause


def test_the_committed_replay_table_is_current(wci):
    assert DOC.read_text(encoding="utf-8") == markdown(replay(wci)), "regenerate with python -m openets.auction.replay"


def test_a_year_splits_over_its_auctions_exactly():
    assert per_auction(10, 4) == [2, 2, 2, 4] and sum(per_auction(38_240_000, 4)) == 38_240_000
    assert per_auction(5, 0) == []
