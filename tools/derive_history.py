"""Maintainer tool: derive src/openets/data/owid_national_co2.csv from ../shared/data/actions/owid_co2_by_country_2020.csv.

Keeps the rows of countries (an iso_code) and of the World (OWID_WRL) that carry a CO2 figure, and the columns
`openets history share` and other national-CO2 readers need. Figures carry over unchanged.
Run: .venv/bin/python tools/derive_history.py [--shared ../shared/data]
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from tables import write_table

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "openets" / "data" / "owid_national_co2.csv"
SOURCE = "actions/owid_co2_by_country_2020.csv"
COLUMNS = ("iso_code", "country", "year", "co2_mt", "cumulative_co2_mt", "population")


def national_rows(shared: Path) -> list[dict[str, str]]:
    """Country and World rows with a CO2 figure, sorted by iso_code and year."""
    with open(shared / SOURCE, encoding="utf-8") as f:
        rows = [
            {c: r[c] for c in COLUMNS}
            for r in csv.DictReader(f)
            # Aggregates (continents, income groups) have no iso_code; a row without CO2 only carries population.
            if r["iso_code"] and r["co2_mt"]
        ]
    rows.sort(key=lambda r: (r["iso_code"], int(r["year"])))
    return rows


def check(rows: list[dict[str, str]]) -> None:
    """OWID's cumulative column is the running sum of co2_mt from 1751: check it for the World and the USA."""
    for iso in ("OWID_WRL", "USA"):
        running = 0.0
        for r in (r for r in rows if r["iso_code"] == iso):
            running += float(r["co2_mt"])
            assert abs(running - float(r["cumulative_co2_mt"])) < 0.05, (iso, r["year"], running)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    rows = national_rows(args.shared)
    check(rows)
    digest = write_table(OUT, rows, COLUMNS)
    print(f"| `{OUT.name}` | {len(rows)} | `{digest}` |")  # noqa: T201 - a maintainer tool reports what it wrote


if __name__ == "__main__":
    main()
