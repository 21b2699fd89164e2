"""openets' WCI balance beside the peer model WCI-RULES (Near Zero, v1.0.3) on its default scenario, with every
difference in the year-end bank attributed to the rule that causes it.

The peer's annual results ship as `peer_wci_rules_default_annual.csv` (comparison only). Causes are quantified in
three ways, and the table says which: from openets' own outputs (offsets, allowances moved to the reserve), from
published figures (the 2016Q4 sale, Ontario's retirements), or from the peer's outputs where its rule is not
published (its April-2019 APCR: 2.273 M a year, the gap between its California supply and budget less APCR in every
year 2022-2030; its 5 M bankruptcy retirement; California's unsold-allowance timing in 2019, the residual of that
year). What no cause accounts for is reported as unexplained.
Run `python -m openets.market.peer` to regenerate `docs/supply_vs_wci_rules.md`.
"""

from __future__ import annotations

from dataclasses import dataclass

from openets.data import table
from openets.errors import InputError
from openets.market.supply import Balance, Scenario, balance
from openets.rules import Program

#: The peer's default scenario, in openets terms.
PEER_SCENARIO = Scenario(emissions_from=2017, emissions_growth=-0.02, offsets_of_limit=0.75)
MT = 1_000_000

#: Causes, in the order of the table; each says which rule makes the two models differ.
CAUSES: dict[str, str] = {
    "offsets": "Offsets: openets counts the offsets reported in entity accounts plus the retirement account at each "
    "quarter's Compliance Instrument Report (to 2018Q3); the peer's history differs slightly in 2016-2018. From "
    "2018Q4 both use 75% of the limit.",
    "v2015_2016Q4": "The 827,375 vintage-2015 allowances CARB offered and sold in 2016Q4: openets counts the "
    "recorded sale; the peer does not reintroduce them.",
    "ontario": "Ontario: both count Ontario's net flow of 13,186,967 instruments into California and Québec holdings "
    "in 2018; openets also removes the retirements that answered it (Québec 1,846,175 in 2019, year assumed; "
    "California 11,340,792 spread over vintages 2021-2030, split assumed). The peer retires nothing.",
    "bankruptcy": "The peer retires 5 M allowances for a bankruptcy (taken from 2021 supply); openets does not model "
    "bankruptcy retirements yet (the La Paloma case was 3,767,027 vintage-2022 allowances, June 2019).",
    "apcr_2019": "The peer's California supply 2021-2030 is 2.273 M a year below budget less the October-2017 APCR "
    "quantities, i.e. it puts the April-2019 amendment's extra 22.7 M into the APCR; openets' rulebook carries the "
    "October-2017 text (§95871(a) Table 8-2).",
    "qc_unsold": "Québec's unsold allowances: openets moves those still unsold 36 months after they were first offered "
    "to the reserve (Q-2 r.46.1 s.54; the quantity openets moved); the peer offers them again until they sell.",
    "ca_unsold": "California's unsold allowances: openets moves those unsold for more than 24 months to the APCR before "
    "each auction (§95911(g)); the peer's timing differs in 2019.",
    "unexplained": "Not attributed to a rule: small residuals of California's allowances (2014, 2016, 2017) and "
    "Québec's (2017-2021, and 0.001 M a year after: the peer re-offers Québec's unsold allowances on its own "
    "timing, and rounding), from allocation figures the two models read differently.",
}


@dataclass(frozen=True)
class PeerYear:
    year: int
    bank: float  # Mt, openets
    peer_bank: float
    causes: dict[str, float]  # cumulative contribution to openets minus peer, Mt

    @property
    def difference(self) -> float:
        return self.bank - self.peer_bank

    @property
    def relative(self) -> float:
        return self.difference / self.peer_bank if self.peer_bank else 0.0


def compare(program: Program, result: Balance | None = None) -> list[PeerYear]:
    """Year-end banks of openets and the peer, and the cumulative contribution of each cause to the gap."""
    if program.id != "wci":
        msg = f"the peer model covers the linked market only: compare program 'wci', not {program.id!r}"
        raise InputError(msg)
    result = result or balance(program, PEER_SCENARIO)
    peer = {(int(r["year"]), r["jurisdiction"]): r for r in table("peer_wci_rules_default_annual.csv")}
    running = dict.fromkeys(CAUSES, 0.0)
    out: list[PeerYear] = []
    for y in result.years:
        year = y.year
        ours = {j: y.by_jurisdiction[j]["allowances"] / MT for j in ("CA", "QC")}
        theirs = {j: _allowances(peer[(year, j)]) for j in ("CA", "QC")}
        total = peer[(year, "CA+QC")]
        # The peer counts Ontario's net flow in the CA+QC total only; openets in CA and QC. Both count it.
        net_flow = _allowances(total) - theirs["CA"] - theirs["QC"]
        step = dict.fromkeys(CAUSES, 0.0)
        step["offsets"] = y.offsets / MT - float(total["offsets_supplied_mtco2e"] or 0)
        ca_gap = ours["CA"] - theirs["CA"]
        qc_gap = ours["QC"] - theirs["QC"]
        if year == 2018:
            ca_gap -= 11.340792
            qc_gap -= 1.846175
            step["unexplained"] -= net_flow - 13.186967
        if year == 2016:
            step["v2015_2016Q4"] = 0.827375
            ca_gap -= 0.827375
        if 2021 <= year <= 2030:
            step["ontario"] -= 1.1340792
            step["apcr_2019"] = 2.273
            ca_gap -= 2.273 - 1.1340792
        if year == 2019:
            step["ontario"] -= 1.846175
            qc_gap += 1.846175
        if year == 2021:
            step["bankruptcy"] = 5.0
            ca_gap -= 5.0
        moved_qc = y.by_jurisdiction["QC"]["to_reserve"] / MT
        step["qc_unsold"] = -moved_qc
        qc_gap += moved_qc
        if year == 2019:
            step["ca_unsold"], ca_gap = ca_gap, 0.0
        step["unexplained"] += ca_gap + qc_gap
        for cause, value in step.items():
            running[cause] += value
        out.append(PeerYear(year, y.bank / MT, float(total["bank_cumulative_mtco2e"]), dict(running)))
    return out


def _allowances(row: dict[str, str]) -> float:
    return float(row["allowances_vintaged_supplied_mtco2e"] or 0) + float(row["allowances_nonvintaged_supplied_mtco2e"] or 0)


def markdown(rows: list[PeerYear]) -> str:
    within = sum(abs(r.relative) <= 0.01 for r in rows)
    lines = [
        "# WCI supply-demand balance: openets beside WCI-RULES",
        "",
        "Generated by `python -m openets.market.peer`. Scenario (the peer's default): covered emissions reported "
        "through 2016, then -2% a year for California and Québec; every auction after 2018Q3 sells out; offsets "
        "at 75% of the limit. openets: `openets supply wci --emissions-from 2017 --emissions-growth -0.02 "
        "--offsets-of-limit 0.75`. Peer: WCI-RULES v1.0.3 (Near Zero, CC BY-SA 4.0), annual results shipped as "
        "`src/openets/data/peer_wci_rules_default_annual.csv`.",
        "",
        f"Year-end bank within 1% of the peer's in {within} of {len(rows)} years; every difference is attributed "
        "below, year by year, as the cumulative contribution of each cause (Mt; positive: openets' bank is larger).",
        "",
        "| year | openets bank | peer bank | difference | % | "
        + " | ".join(CAUSES) + " |",
        "|---|---|---|---|---|" + "---|" * len(CAUSES),
    ]
    for r in rows:
        cells = " | ".join(f"{r.causes[c]:+.3f}" for c in CAUSES)
        lines.append(
            f"| {r.year} | {r.bank:.3f} | {r.peer_bank:.3f} | {r.difference:+.3f} | {r.relative:+.2%} | {cells} |"
        )
    lines += ["", "## Causes", ""]
    lines += [f"- **{name}**: {text}" for name, text in CAUSES.items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    import sys

    from openets.rules import load_program

    sys.stdout.write(markdown(compare(load_program("wci"))))
