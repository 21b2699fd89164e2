"""Replay of the WCI auctions 2012Q4-2018Q3: offered quantities recomputed from the rules beside the record.

The offer schedule (`offers.OfferSchedule`) runs quarter by quarter from California's first auction; each
quarter is settled with its recorded outcome (what went unsold, and whether the auction settled above its
floor), so unsold allowances return, move on or wait exactly as the rules say given what really happened.
Consigned quantities newly offered are the consignors' choice and are taken from the record; everything else
(state-owned current shares, advance shares, redesignated consigned and state-owned allowances, transfers to the
reserve) is computed. A row matches when new and redesignated quantities are each within 0.1% of the record;
every other row names its cause.
"""

from __future__ import annotations

from dataclasses import dataclass

from openets.auction.offers import QuarterOffers, replay_record
from openets.data import table
from openets.rules import Program

TOLERANCE = 0.001  # 0.1%, as the issue asks

#: Documented causes of the rows that differ, by (jurisdiction, auction type, category, vintage): the replay
#: checks that every differing row has one, and the annual table beside it gives the figures.
CAUSES: dict[tuple[str, str, str, int], str] = {
    ("CA", "current", "state_owned", 2013): (
        "the record's 2013 total is 23,142 allowances (0.22%) above the budget less reserve, set-aside and the final "
        "(trued-up) allocation, and CARB split it unevenly over the quarters (2.65-2.67 M); the allocation known at "
        "each notice is not in the shipped data"
    ),
    ("CA", "current", "state_owned", 2015): (
        "the 2016Q4 auction offered 827,375 vintage-2015 allowances beyond the 2015 state-owned quantity, which the "
        "rules (budget, allocation, unsold advance allowances) do not produce; the notice gives no reason in the "
        "shipped data (returned set-aside or allocation allowances are likely, not verified)"
    ),
    ("CA", "current", "state_owned", 2016): (
        "the record's 2016 state-owned total is 590,500 allowances (0.41%) above the rules' figure, and the 2016Q4 "
        "notice raised the quarter by 259,541; the allocation known at each notice is not in the shipped data"
    ),
    ("QC", "current", "state_owned", 2013): (
        "Québec offers each vintage from its estimate of free allocation at the notice and releases the rest of the "
        "vintage once allocation is final (2013: 2,971,676 in Dec 2013, 1,073,347 more in 2016Q1); the shipped "
        "table holds the final allocation, so the rules' figure is the vintage total (see the annual table)"
    ),
    ("QC", "current", "state_owned", 2014): (
        "as for 2013 (168,749 more released in 2016Q1); and the 2014 unsold units (369,222) were re-offered in "
        "2016Q1, although the 2014Q4 and 2015Q1 auctions settled above the floor, which under s.54 as amended in "
        "2022 re-offers them at 2015Q2: the text in force in 2015 was not read"
    ),
    ("QC", "current", "state_owned", 2015): (
        "Québec's offer follows its allocation estimate at the notice; the record is 1.8% above the budget less "
        "reserve and final allocation"
    ),
    ("QC", "current", "state_owned", 2016): (
        "Québec's redesignations of 2017Q4-2018Q3 are 25% of its state-owned offer in that auction, so they carry "
        "the 2017 and 2018 differences of that offer"
    ),
    ("QC", "current", "state_owned", 2017): (
        "Québec's offer follows its allocation estimate at the notice; the record is 1.2% above the budget less "
        "reserve, advance share and final allocation plus the unsold advance allowances"
    ),
    ("QC", "current", "state_owned", 2018): (
        "the shipped 2018 allocation is an estimate (the January 2018 issue is 75% of the estimated total, MDDELCC; the "
        "true-up was published after the source), and the rules' offer comes out 0.3% above the record"
    ),
}
NO_RULEBOOK = "no Ontario rulebook ships (O. Reg. 144/16 caps were not found)"


@dataclass(frozen=True, slots=True)
class ReplayRow:
    quarter: str
    auction_type: str
    jurisdiction: str
    category: str
    vintage: int
    recorded_new: int
    recorded_redesignated: int
    computed_new: int | None
    computed_redesignated: int | None
    status: str  # "match", "differs", or "not recomputed"
    cause: str

    @property
    def difference(self) -> int | None:
        if self.computed_new is None or self.computed_redesignated is None:
            return None
        return self.computed_new + self.computed_redesignated - self.recorded_new - self.recorded_redesignated


@dataclass(frozen=True, slots=True)
class AnnualRow:
    """One vintage's state-owned current allowances: what the rules give and what the record offered new."""

    jurisdiction: str
    vintage: int
    budget_share: int  # the budget less reserve, set-aside, advance share and free allocation
    unsold_advance: int
    computed: int
    recorded: int


def _close(computed: int, recorded: int) -> bool:
    return abs(computed - recorded) <= TOLERANCE * max(recorded, 1)


def replay(program: Program) -> list[ReplayRow]:
    """Every recorded auction row (and every computed row the record lacks), recomputed by the rules."""
    recorded: dict[tuple[str, str, str, str, int], tuple[int, int]] = {}
    for r in table("wci_auction_history_2012_2018.csv"):
        key = (r["quarter"], r["jurisdiction"], r["auction_type"], r["category"], int(r["vintage"]))
        recorded[key] = (int(r["newly_available_allowances"]), int(r["redesignated_allowances"]))
    computed: dict[tuple[str, str, str, str, int], tuple[int, int]] = {}
    for quarter, _ in replay_record(program):
        for o in quarter.offers:
            computed[(quarter.quarter, o.jurisdiction, o.auction_type, o.category, o.vintage)] = (o.new, o.redesignated)
    rows: list[ReplayRow] = []
    for key in sorted(set(recorded) | set(computed), key=lambda k: (k[0], k[2] != "advance", k[1], k[3], k[4])):
        quarter, j, kind, category, vintage = key
        rec_new, rec_red = recorded.get(key, (0, 0))
        if j not in program.jurisdictions or not program.vintages(j):
            rows.append(ReplayRow(quarter, kind, j, category, vintage, rec_new, rec_red, None, None, "not recomputed", NO_RULEBOOK))
            continue
        new, red = computed.get(key, (0, 0))
        if _close(new, rec_new) and _close(red, rec_red):
            status, cause = "match", ""
        else:
            status, cause = "differs", CAUSES.get((j, kind, category, vintage), "")
        rows.append(ReplayRow(quarter, kind, j, category, vintage, rec_new, rec_red, new, red, status, cause))
    return rows


def annual(program: Program) -> list[AnnualRow]:
    """Each vintage's state-owned current allowances 2013-2018: the rules' total against the record's."""
    from openets.auction.offers import OfferSchedule
    from openets.auction.supply import budget_split

    quarters: list[QuarterOffers] = [q for q, _ in replay_record(program)]
    unsold_advance: dict[tuple[str, int], int] = {}
    for r in table("wci_auction_history_2012_2018.csv"):
        if r["auction_type"] == "advance":
            key = (r["jurisdiction"], int(r["vintage"]))
            unsold_advance[key] = unsold_advance.get(key, 0) + int(r["unsold_allowances"])
    rows: list[AnnualRow] = []
    schedule = OfferSchedule(program)
    for j in schedule.jurisdictions:
        for vintage in range(2013, 2019):
            share = budget_split(program, j, vintage)["current_auction"]
            extra = unsold_advance.get((j, vintage), 0)
            new_recorded = sum(
                int(r["newly_available_allowances"]) for r in table("wci_auction_history_2012_2018.csv")
                if r["jurisdiction"] == j and r["auction_type"] == "current" and r["category"] == "state_owned"
                and int(r["vintage"]) == vintage
            )
            if vintage == 2018:  # the record stops at 2018Q3: compare the three auctions held
                held = [q for q in quarters if q.quarter.startswith("2018")]
                computed = sum(o.new for q in held for o in q.lines("current", j) if o.vintage == 2018 and o.category == "state_owned")
            else:
                computed = share + extra
            rows.append(AnnualRow(j, vintage, share, extra, computed, new_recorded))
    return rows


def markdown(rows: list[ReplayRow], years: list[AnnualRow] | None = None) -> str:
    """The replay as Markdown tables with a summary line (committed under docs/)."""
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    lines = [
        "# WCI auctions 2012Q4-2018Q3: offered quantities recomputed from the rules",
        "",
        "Generated by `python -m openets.auction.replay` from the shipped auction history "
        "(`src/openets/data/wci_auction_history_2012_2018.csv`, CARB/MELCC results via Near Zero, CC BY-SA 4.0), "
        "the shipped settlement prices and free allocation, and the `wci` rulebook. The offer schedule runs quarter "
        "by quarter; each quarter is settled with its recorded outcome (unsold quantities; settled above the floor "
        "or not). Consigned quantities newly offered are the consignors' choice and come from the record; state-owned "
        "current and advance shares, redesignated allowances and transfers to the reserve are computed. Quantities "
        "in allowances; a row matches when its new and its redesignated quantities are each within 0.1% of the record.",
        "",
        f"Rows: {len(rows)} ({summary}).",
        "",
    ]
    if years:
        lines += [
            "## State-owned current allowances by vintage",
            "",
            "Computed: the budget less reserve, set-aside, advance share and final free allocation, plus the advance "
            "allowances of that vintage that went unsold (2018: the three auctions of 2018Q1-Q3). Recorded: newly "
            "offered allowances of that vintage at all current auctions to 2018Q3.",
            "",
            "| jurisdiction | vintage | budget share | unsold advance | computed | recorded | difference |",
            "|---|---|---|---|---|---|---|",
        ]
        for y in years:
            diff = y.computed - y.recorded
            pct = f" ({diff / y.recorded:+.2%})" if y.recorded else ""
            lines.append(
                f"| {y.jurisdiction} | {y.vintage} | {y.budget_share:,} | {y.unsold_advance:,} | {y.computed:,} | "
                f"{y.recorded:,} | {diff:+,}{pct} |"
            )
        lines.append("")
    lines += [
        "## Every auction",
        "",
        "| quarter | type | jurisdiction | category | vintage | recorded new | recorded redesignated | computed new | computed redesignated | status | cause |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        new = "" if r.computed_new is None else f"{r.computed_new:,}"
        red = "" if r.computed_redesignated is None else f"{r.computed_redesignated:,}"
        lines.append(
            f"| {r.quarter} | {r.auction_type} | {r.jurisdiction} | {r.category} | {r.vintage} | {r.recorded_new:,} | "
            f"{r.recorded_redesignated:,} | {new} | {red} | {r.status} | {r.cause} |"
        )
    return "\n".join(lines) + "\n"


def document(program: Program) -> str:
    return markdown(replay(program), annual(program))


if __name__ == "__main__":
    import sys

    from openets.rules import load_program

    sys.stdout.write(document(load_program("wci")))
