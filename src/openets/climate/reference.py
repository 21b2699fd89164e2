"""The same ensemble through fair's own documented path (fill_from_csv, override_defaults): the peer that checks
and times the faster adapter in `model.py`.

It writes the shipped tables back into the file layouts fair's loaders read (in a temporary directory) and follows
the steps of fair's "calibrated, constrained ensemble" example. Nothing is downloaded.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from openets.climate import model


def _write(path: Path, rows: list[list[object]]) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def _files(folder: Path, co2: Mapping[str, np.ndarray], rows: np.ndarray) -> dict[str, Path]:
    from fair.structure.units import desired_emissions_units

    bg = model.background()
    points = [f"{y}.5" for y in bg.years]
    bounds = [str(y) for y in range(model.FIRST_YEAR, model.LAST_YEAR + 2)]
    emissions: list[list[object]] = [["scenario", "region", "variable", "unit", *points]]
    forcing: list[list[object]] = [["scenario", "region", "variable", "unit", *bounds]]
    for scenario, series in co2.items():
        for name, values in bg.emissions.items():
            values = series if name == "CO2 FFI" else values
            emissions.append([scenario, "World", name, desired_emissions_units[name], *map(repr, values.tolist())])
        forcing.append([scenario, "World", "Volcanic", "W/m2", *map(repr, bg.volcanic_w_per_m2.tolist())])
        forcing.append([scenario, "World", "Solar", "W/m2", *map(repr, bg.solar_w_per_m2.tolist())])
    paths = {k: folder / f"{k}.csv" for k in ("emissions", "forcing", "species", "parameters")}
    _write(paths["emissions"], emissions)
    _write(paths["forcing"], forcing)
    paths["species"].write_text(model.shipped_text(model.SPECIES), encoding="utf-8")
    table = list(csv.reader(model.shipped_text(model.PARAMETERS).splitlines()))
    # fair's layout: an unnamed id column (a named pandas index would become a stray xarray coordinate)
    _write(paths["parameters"], [["", *table[0][1:]], *(table[1 + i] for i in rows)])
    return paths


def run(
    pathways: Mapping[str, Mapping[int, float] | None], members: int | str = model.DEFAULT_MEMBERS
) -> model.Ensemble:
    """`model.run` through fair's own loaders: same members, same inputs, one FAIR instance."""
    import pandas as pd
    from fair import FAIR
    from fair.interface import fill
    from fair.io import read_properties

    rows = model.select_members(model.parse_members(members))
    co2 = {name: model.co2_ffi_gt(p) for name, p in pathways.items()}
    with tempfile.TemporaryDirectory(prefix="openets-fair-") as tmp:
        paths = _files(Path(tmp), co2, rows)
        f = FAIR(ch4_method="Thornhill2021")
        f.define_time(model.FIRST_YEAR, model.LAST_YEAR + 1, 1)
        f.define_scenarios(list(co2))
        configs = pd.read_csv(paths["parameters"], index_col=0)
        f.define_configs(configs.index)
        species, properties = read_properties(filename=paths["species"])
        f.define_species(species, properties)
        f.allocate()
        f.fill_from_csv(emissions_file=paths["emissions"], forcing_file=paths["forcing"])
        for name in ("Volcanic", "Solar"):
            scale = configs[f"forcing_scale[{name}]"].values.squeeze()
            fill(f.forcing, f.forcing.sel(specie=name) * scale, specie=name)
        f.fill_species_configs(paths["species"])
        f.override_defaults(paths["parameters"])
        model.initial_state(f)
        f.run(progress=False)
    bounds = f.temperature.data[:, :, :, 0]
    annual = 0.5 * (bounds[:-1] + bounds[1:])
    years = np.arange(model.FIRST_YEAR, model.LAST_YEAR + 1)
    base = annual[(years >= model.BASELINE[0]) & (years <= model.BASELINE[1])].mean(axis=0)
    cal = model.calibration()
    member_ids = tuple(cal.member_ids[i] for i in rows)
    return model.Ensemble(tuple(co2), years, member_ids, np.moveaxis(annual - base, 1, 0))
