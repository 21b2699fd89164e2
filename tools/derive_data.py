"""Maintainer tool: derive the compact tables under src/openets/data/ from ../shared/data.

Users never run this (their clone has no ../shared); it documents how each shipped figure was derived.
Run: .venv/bin/python tools/derive_data.py [--shared ../shared/data]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "openets" / "data"
CA_OTHER = {
    "industrial_alloc",
    "industrial_and_legacy_gen_alloc",
    "university_alloc",
    "legacy_gen_alloc",
    "thermal_output_alloc",
    "waste_to_energy_alloc",
    "water_alloc",
    "LNG_supplier_alloc",
}


def free_allocation(shared: Path) -> list[dict[str, object]]:
    """Free allocation by jurisdiction, vintage and group, 2013-2018, in allowances."""
    rows: list[dict[str, object]] = []
    edu: dict[int, int] = defaultdict(int)
    for r in csv.DictReader(open(shared / "wci/ca_electricity_allocations_by_utility.csv", encoding="utf-8")):
        if r["allocation_tco2e"]:
            edu[int(r["year"])] += int(float(r["allocation_tco2e"]))
    gas: dict[int, int] = defaultdict(int)
    other: dict[int, int] = defaultdict(int)
    for r in csv.DictReader(open(shared / "wci/ca_allocations_by_type.csv", encoding="utf-8")):
        if not r["year"]:
            continue
        year, qty = int(r["year"]), int(float(r["allocation_tco2e"]))
        if r["allocation_type"] == "nat_gas_alloc":
            gas[year] += qty
        elif r["allocation_type"] in CA_OTHER:
            other[year] += qty
    src_ca = "CARB allocation reports via Near Zero WCI-RULES input workbook (Oct 2018)"
    for year in range(2013, 2019):
        rows.append({"jurisdiction": "CA", "vintage": year, "allocation_group": "electrical_distribution_utility",
                     "allocation_allowances": edu[year], "source": f"{src_ca}, sheet of EDU allocations (sum over utilities)"})
        if gas.get(year):
            rows.append({"jurisdiction": "CA", "vintage": year, "allocation_group": "natural_gas_supplier",
                         "allocation_allowances": gas[year], "source": f"{src_ca}, CA alloc data (nat_gas_alloc)"})
        rows.append({"jurisdiction": "CA", "vintage": year, "allocation_group": "industrial_and_other",
                     "allocation_allowances": other[year],
                     "source": f"{src_ca}, CA alloc data (industrial, university, legacy generation, thermal output, waste-to-energy, water, LNG)"})
    final: dict[int, int] = {}
    for r in csv.DictReader(open(shared / "wci/qc_allocations.csv", encoding="utf-8")):
        final[int(r["emissions_year"])] = int(float(r["cumulative_allocation_tco2e"]))  # rows are in event order
    for year in range(2013, 2019):
        rows.append({"jurisdiction": "QC", "vintage": year, "allocation_group": "all_emitters",
                     "allocation_allowances": final[year],
                     "source": "MELCC allocation notices via Near Zero WCI-RULES input workbook (Oct 2018): cumulative after the last true-up listed"})
    return rows


def auction_history(shared: Path) -> list[dict[str, object]]:
    """Offered, sold, unsold and redesignated quantities of every WCI auction 2012Q4-2018Q3, in allowances."""
    rows: list[dict[str, object]] = []
    with open(shared / "wci/wci_auction_history_quarterly.csv", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            rows.append({
                "quarter": r["auction_quarter"], "market": r["market"], "auction_type": r["auction_type"],
                "jurisdiction": r["jurisdiction"], "category": "consigned" if r["instrument_category"] == "consign" else "state_owned",
                "vintage": int(r["vintage"]),
                **{f"{k}_allowances": round(float(r[f"{k}_mtco2e"]) * 1_000_000)
                   for k in ("available", "sold", "unsold", "redesignated", "newly_available")},
            })
    return rows


def auction_settlements(shared: Path) -> list[dict[str, object]]:
    """Settlement and floor prices of the current auctions 2012Q4-2018Q4, by market (CA only, QC only, joint)."""
    rows: list[dict[str, object]] = []
    with open(shared / "auctions/qc_only_auction_settlements_2013_2014.csv", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            rows.append({
                "quarter": f"{r['year']}Q{r['quarter']}", "market": "QC only", "auction_date": r["auction_date"],
                "currency": "CAD", "current_settlement": r["current_settlement_cad"],
                "advance_settlement": "", "reserve_price": r["qc_minimum_price_cad"],
                "source": "MELCC results via ICAP Allowance Price Explorer (Québec, primary market)",
            })
    with open(shared / "auctions/ca_qc_auction_settlements_2012_2018.csv", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            rows.append({
                "quarter": f"{r['year']}Q{r['quarter']}",
                "market": "CA only" if r["auction_type"] == "ca_only" else "CA-QC joint",
                "auction_date": r["auction_date"], "currency": "USD",
                "current_settlement": r["current_settlement_usd"], "advance_settlement": r["advance_settlement_usd"],
                "reserve_price": r["ca_auction_reserve_price_usd"],
                "source": "CARB summary of auction settlement prices and results (results_summary.pdf), cross-checked with ICAP",
            })
    rows.sort(key=lambda r: (str(r["quarter"]), str(r["market"])))
    return rows


def consignment_annual(shared: Path) -> list[dict[str, object]]:
    """Allowances California utilities consigned to each year's current auctions, per the annual auction notices."""
    with open(shared / "wci/ca_consignment_annual.csv", encoding="utf-8") as fh:
        return [
            {"jurisdiction": r["jurisdiction"], "year": int(r["year"]), "vintage": int(r["vintage"]),
             "consigned_allowances": round(float(r["consigned_allowances_mtco2e"]) * 1_000_000),
             "source": r["source_document"] + " via Near Zero WCI-RULES input workbook (Oct 2018)"}
            for r in csv.DictReader(fh)
        ]


def write(name: str, rows: list[dict[str, object]]) -> str:
    path = OUT / name
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    for name, rows in (
        ("wci_free_allocation_2013_2018.csv", free_allocation(args.shared)),
        ("wci_auction_history_2012_2018.csv", auction_history(args.shared)),
        ("wci_auction_settlements_2012_2018.csv", auction_settlements(args.shared)),
        ("wci_consignment_annual_2013_2018.csv", consignment_annual(args.shared)),
    ):
        print(f"{name} sha256 {write(name, rows)} rows {len(rows)}")  # noqa: T201 - a maintainer tool


if __name__ == "__main__":
    main()
