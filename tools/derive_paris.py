"""Maintainer tool: derive src/openets/data/paris_ratification_record.csv from a snapshot of the openclimatedata table.

The upstream table (openclimatedata/paris-agreement-entry-into-force, file data/paris-agreement-entry-into-force.csv)
joins the depositary's record (UN Treaty Collection, chapter XXVII-7-d: signature, deposit, kind of instrument,
date of effect) with the UNFCCC secretariat's list of emissions for the purpose of Article 21 (the "10e.pdf" table:
Gg CO2e, per cent of the total, inventory year). It is not in ../shared/data, so this tool takes the snapshot's path;
the shipped table was made from commit a080dcdf3f42d6a01192738bc6daee8cb0335560 (deposits up to 9 Nov 2018).
Events the snapshot does not hold (the United States' withdrawals and its second acceptance) are added below, each
with the UN statement that records it.

Run: .venv/bin/python tools/derive_paris.py --upstream path/to/paris-agreement-entry-into-force.csv
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from tables import write_table

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "openets" / "data" / "paris_ratification_record.csv"
UPSTREAM = "openclimatedata/paris-agreement-entry-into-force@a080dcdf3f42d6a01192738bc6daee8cb0335560"
SOURCE = "UNTC XXVII-7-d (dates); UNFCCC Art. 21 list (shares); via openclimatedata@a080dcd"
# The secretariat's list marks these 28 parties with an asterisk: their emissions are included in the European
# Union's 4,488,404 Gg (12.10%), given in the list's footnote.
EU_MEMBERS = frozenset(
    "AUT BEL BGR CYP CZE DEU DNK ESP EST FIN FRA GBR GRC HRV HUN IRL ITA LTU LUX LVA MLT NLD POL PRT ROU SVK SVN SWE".split()
)
# Withdrawal notices received by the depositary, by party and the deposit they end.
WITHDRAWALS = {
    ("USA", "2016-09-03"): (
        "2019-11-04",
        "withdrawal notice: UN Secretary-General's spokesperson, note to correspondents of 4 Nov 2019 (effect 4 Nov 2020)",
    ),
}
# Deposits after the snapshot that this project records, with their sources.
LATER_DEPOSITS = [
    {
        "party_code": "USA",
        "signature_date": "2016-04-22",
        "deposit_date": "2021-01-20",
        "instrument": "acceptance",
        "recorded_in_force_date": "2021-02-19",
        "withdrawal_notice_date": "2025-01-27",
        "source": "acceptance: UN News 21 Jan 2021 and UN spokesperson 20 Jan 2021 (in force 19 Feb 2021, art. 21(3)); "
        "withdrawal notice: UN spokesperson's briefing of 28 Jan 2025 as reported by AFP and Xinhua (effect 27 Jan 2026)",
    },
]
COLUMNS = (
    "party_code", "party_name", "reio_code", "signature_date", "deposit_date", "instrument", "recorded_in_force_date",
    "withdrawal_notice_date", "art21_emissions_gg_co2e", "art21_share_percent", "art21_inventory_year", "source",
)


def record(upstream: Path) -> list[dict[str, str]]:
    """One row per instrument deposited (and one per party of the Article 21 list that has deposited none)."""
    rows: list[dict[str, str]] = []
    by_code: dict[str, dict[str, str]] = {}
    with open(upstream, encoding="utf-8") as f:
        for r in csv.DictReader(f):
            deposit = r.get("Ratification") or r.get("Ratification-Acceptance-Approval") or ""
            notice, notice_source = WITHDRAWALS.get((r["Code"], deposit), ("", ""))
            row = {
                "party_code": r["Code"],
                "party_name": r["Name"],
                "reio_code": "EUU" if r["Code"] in EU_MEMBERS else "",
                "signature_date": r["Signature"],
                "deposit_date": deposit,
                "instrument": r["Kind"].lower(),
                "recorded_in_force_date": r["Date-Of-Effect"],
                "withdrawal_notice_date": notice,
                "art21_emissions_gg_co2e": r["Emissions"],
                "art21_share_percent": f"{float(r['Percentage']):.2f}" if r["Percentage"] else "",
                "art21_inventory_year": r["Year"],
                "source": SOURCE + (f"; {notice_source}" if notice_source else ""),
            }
            rows.append(row)
            by_code[row["party_code"]] = row
    for later in LATER_DEPOSITS:
        first = by_code[later["party_code"]]
        row = {**{k: first[k] for k in COLUMNS}, **later}
        rows.append(row)
    rows.sort(key=lambda r: (r["party_name"], r["deposit_date"]))
    return rows


def check(rows: list[dict[str, str]]) -> None:
    """The snapshot's sums against the secretariat's totals (37,168,339 Gg; EU 4,488,404 Gg), within rounding."""
    first = {r["party_code"]: r for r in rows}
    total = sum(int(r["art21_emissions_gg_co2e"]) for c, r in first.items() if r["art21_emissions_gg_co2e"] and c != "EUU")
    eu = sum(int(r["art21_emissions_gg_co2e"]) for c, r in first.items() if c in EU_MEMBERS)
    assert abs(total - 37_168_339) <= 10, total
    assert abs(eu - 4_488_404) <= 5, eu
    assert len(first) == 197 and len(EU_MEMBERS) == 28


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--upstream", type=Path, required=True, help="the openclimatedata CSV at the commit above")
    args = parser.parse_args()
    rows = record(args.upstream)
    check(rows)
    digest = write_table(OUT, rows, COLUMNS)
    print(f"| `{OUT.name}` | {len(rows)} | `{digest}` |")  # noqa: T201 - a maintainer tool reports what it wrote


if __name__ == "__main__":
    main()
