"""Maintainer tool: derive the FaIR tables under src/openets/data/fair_* from ../shared/data/fair.

Users never run this (their clone has no ../shared); it documents how each shipped figure was derived. Figures are
copied as written in the source (same decimal strings); only the layout changes. The gzip stream is written with a
zero timestamp so the same input always gives the same bytes (and the same checksum in MANIFEST.md).
Run: .venv/bin/python tools/derive_fair.py [--shared ../shared/data]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "openets" / "data"

#: The background scenario: the draft CMIP7 "medium" extension, the middle of the seven scenarios shipped with
#: calibration 1.4.1 and the nearest to SSP2-4.5 (emissions roughly flat-to-rising under current policies). The
#: source has no SSP scenarios; "medium-overshoot" is the same scenario until 2100.
SCENARIO = "medium-extension"
FIRST_YEAR, LAST_YEAR = 1750, 2100  # emission years (FaIR timepoints YEAR.5); forcing runs to LAST_YEAR + 1
CALIBRATION = "calibrated_constrained_parameters_calibration1.4.1.csv"
SPECIES = "species_configs_properties_calibration1.4.1.csv"
EMISSIONS = "extensions_1750-2500.csv"
FORCING = "volcanic_solar.csv"

PARAMETERS_OUT = "fair_calibration_1_4_1_parameters.csv.gz"
SPECIES_OUT = "fair_calibration_1_4_1_species.csv"
EMISSIONS_OUT = "fair_background_emissions_1750_2100.csv"
FORCING_OUT = "fair_background_volcanic_solar_1750_2101.csv"


def read(path: Path) -> list[list[str]]:
    return list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))


def to_csv(rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue().encode("utf-8")


def parameters(fair: Path) -> list[list[str]]:
    """All 841 members and 86 parameters, unchanged; the unnamed first column is named member_id."""
    rows = read(fair / CALIBRATION)
    if rows[0][0] != "" or len(rows) != 842:
        found = f"{rows[0][0]!r} and {len(rows) - 1} members"
        raise SystemExit(f"{CALIBRATION}: expected an unnamed id column and 841 members, found {found}")
    return [["member_id", *rows[0][1:]], *rows[1:]]


def species(fair: Path) -> list[list[str]]:
    """The 61 species with their properties and default configs, unchanged."""
    return read(fair / SPECIES)


def emissions(fair: Path) -> tuple[list[list[str]], dict[str, str]]:
    """The background scenario's emissions, one row per year, one column per species (units checked against the
    units FaIR expects, so the figures need no conversion)."""
    from fair.structure.units import desired_emissions_units

    rows = read(fair / EMISSIONS)
    header = rows[0]
    first, last = header.index(f"{FIRST_YEAR}.5"), header.index(f"{LAST_YEAR}.5")
    series: dict[str, list[str]] = {}
    units: dict[str, str] = {}
    for r in rows[1:]:
        if r[0] != SCENARIO or r[1] != "World":
            continue
        name, unit = r[2], r[3]
        if desired_emissions_units.get(name) != unit:
            expected = desired_emissions_units.get(name)
            raise SystemExit(f"{EMISSIONS}: {name} is in {unit!r}, FaIR expects {expected!r}")
        if name in series:
            raise SystemExit(f"{EMISSIONS}: {SCENARIO} has {name} twice")
        values = r[first : last + 1]
        if any(v == "" for v in values):
            raise SystemExit(f"{EMISSIONS}: {SCENARIO} {name} has empty years")
        series[name], units[name] = values, unit
    names = list(series)
    out = [["year", *names]]
    out += [[str(FIRST_YEAR + i), *(series[n][i] for n in names)] for i in range(LAST_YEAR - FIRST_YEAR + 1)]
    return out, units


def forcing(fair: Path) -> list[list[str]]:
    """Volcanic and solar effective radiative forcing on FaIR's time bounds (start of each year), W/m2."""
    rows = read(fair / FORCING)
    header = rows[0]
    first, last = header.index(str(FIRST_YEAR)), header.index(str(LAST_YEAR + 1))
    found = {r[1]: r[first : last + 1] for r in rows[1:] if (r[0], r[2], r[3]) == (SCENARIO, "World", "W/m2")}
    if set(found) != {"Volcanic", "Solar"}:
        raise SystemExit(f"{FORCING}: expected Volcanic and Solar rows for {SCENARIO}, got {sorted(found)}")
    years = [int(y) for y in header[first : last + 1]]
    if years != list(range(FIRST_YEAR, LAST_YEAR + 2)):
        raise SystemExit(f"{FORCING}: years are not consecutive from {FIRST_YEAR} to {LAST_YEAR + 1}")
    out = [["year", "volcanic_erf_w_per_m2", "solar_erf_w_per_m2"]]
    out += [[str(y), v, s] for y, v, s in zip(years, found["Volcanic"], found["Solar"], strict=True)]
    return out


def write(name: str, rows: list[list[str]]) -> None:
    data = to_csv(rows)
    if name.endswith(".gz"):
        buf = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
            gz.write(data)
        data = buf.getvalue()
    (OUT / name).write_bytes(data)
    print(f"| `{name}` | {len(rows) - 1} | `{hashlib.sha256(data).hexdigest()}` |")  # noqa: T201


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    fair = parser.parse_args().shared / "fair"
    write(PARAMETERS_OUT, parameters(fair))
    write(SPECIES_OUT, species(fair))
    rows, units = emissions(fair)
    write(EMISSIONS_OUT, rows)
    write(FORCING_OUT, forcing(fair))
    print("units:", "; ".join(f"{n} {u}" for n, u in units.items()))  # noqa: T201


if __name__ == "__main__":
    main()
