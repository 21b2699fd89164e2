"""Emissions to temperature: FaIR 2.2 with the shipped calibration 1.4.1, run offline on a CO2 pathway.

The model is FaIR 2.2 (Leach et al. 2021; Smith et al. 2024, fair-calibrate v1.4.1) with the 841-member calibrated,
constrained parameter ensemble, 61 species, CH4 lifetime after Thornhill et al. 2021, and the stochastic internal
variability the calibration was constrained with (each member has its own fixed seed, so every run is repeatable).
Everything it reads ships in `openets.data` (files `fair_*`); nothing is downloaded (fair's only download path,
`FAIR.fill_from_rcmip`, is never called).

A pathway is global fossil and industrial CO2 ("CO2 FFI") in Gt CO2 a year by calendar year. It replaces the
background scenario's CO2 FFI in the years it gives; between two given years the value is interpolated linearly;
before the first and after the last given year, and for every other species (CO2 from land use, CH4, N2O, aerosols,
halogens...) and the volcanic and solar forcing, the background scenario applies. The background is the draft CMIP7
"medium-extension" scenario shipped with calibration 1.4.1: the middle of its seven scenarios and the nearest to
SSP2-4.5 (the source has no SSPs).

Warming is the annual-mean global surface temperature change relative to 1850-1900, as fair-calibrate reports it
(year Y is the mean of FaIR's time bounds Y and Y+1). "Staying below" a level means the peak warming up to 2100
stays below it, where the peak is the highest 20-year mean (IPCC AR6 WG1 defines reaching a warming level by a
20-year mean, so a single warm year of internal variability does not count as crossing it).
"""

from __future__ import annotations

import csv
import gzip
import io
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from openets.csvfile import read_rows
from openets.errors import InputError

if TYPE_CHECKING:
    from fair import FAIR

CALIBRATION = "1.4.1"
BACKGROUND = "medium-extension"
FIRST_YEAR, LAST_YEAR = 1750, 2100  # emission years; FaIR's time bounds run to LAST_YEAR + 1
MEMBER_COUNT = 841
DEFAULT_MEMBERS = 100
BASELINE = (1850, 1900)  # pre-industrial reference period, inclusive
PEAK_WINDOW_YEARS = 20
#: Members run in one FAIR instance at most (times scenarios): bounds memory (an 'all' run would otherwise hold
#: several 352 x 841 x 61 arrays) without changing results, since each member carries its own seed.
BATCH = 200
#: Accepted CO2 FFI, Gt CO2 a year. The highest published scenarios stay near 130 Gt (SSP5-8.5 in 2100) and the
#: deepest removals near -20 Gt; outside this range a value is a typo or a unit error (t or Mt for Gt), not a pathway.
CO2_GT_RANGE = (-100.0, 300.0)

PARAMETERS = "fair_calibration_1_4_1_parameters.csv.gz"
SPECIES = "fair_calibration_1_4_1_species.csv"
EMISSIONS = "fair_background_emissions_1750_2100.csv"
FORCING = "fair_background_volcanic_solar_1750_2101.csv"

#: climate_configs of FaIR's energy balance model; every other calibrated parameter is a species_config.
_CLIMATE_PARAMETERS = {
    "gamma_autocorrelation", "ocean_heat_capacity", "ocean_heat_transfer", "deep_ocean_efficacy", "sigma_eta",
    "sigma_xi", "forcing_4co2", "seed", "use_seed", "stochastic_run",
}
_BOOLEAN = {"use_seed", "stochastic_run"}


# ---------------------------------------------------------------------------------------------- shipped tables

@cache
def shipped_text(name: str) -> str:
    """The text of a shipped `fair_*` table (gzip-compressed ones are decompressed)."""
    raw = resources.files("openets.data").joinpath(name).read_bytes()
    return gzip.decompress(raw).decode("utf-8") if name.endswith(".gz") else raw.decode("utf-8")


@dataclass(frozen=True)
class Calibration:
    """The calibrated, constrained ensemble: one row of `values` per member, one column per parameter."""

    member_ids: tuple[int, ...]  # the member's index in fair-calibrate's prior ensemble
    columns: tuple[str, ...]  # FaIR names, `name` or `name[index]` (layer number or species)
    values: np.ndarray  # (member, column) float; TRUE/FALSE as 1/0


@cache
def calibration() -> Calibration:
    """All 841 members of calibration 1.4.1."""
    rows = list(csv.reader(shipped_text(PARAMETERS).splitlines()))
    columns = tuple(rows[0][1:])
    flags = {"TRUE": 1.0, "FALSE": 0.0}
    values = np.array([[flags[v] if v in flags else float(v) for v in r[1:]] for r in rows[1:]])
    return Calibration(tuple(int(r[0]) for r in rows[1:]), columns, values)


@dataclass(frozen=True)
class Background:
    """The background scenario on FaIR's grid: emissions by year (mid-year time points), forcing by time bound."""

    years: np.ndarray  # FIRST_YEAR..LAST_YEAR
    emissions: dict[str, np.ndarray]  # species -> values per year, in the units FaIR expects (MANIFEST.md)
    volcanic_w_per_m2: np.ndarray  # time bounds FIRST_YEAR..LAST_YEAR + 1
    solar_w_per_m2: np.ndarray


@cache
def background() -> Background:
    """The shipped background scenario (medium-extension), 1750-2100."""
    rows = list(csv.reader(shipped_text(EMISSIONS).splitlines()))
    data = np.array(rows[1:], dtype=float)
    forcing = np.array(list(csv.reader(shipped_text(FORCING).splitlines()))[1:], dtype=float)
    return Background(
        years=data[:, 0].astype(int),
        emissions={name: data[:, i] for i, name in enumerate(rows[0]) if name != "year"},
        volcanic_w_per_m2=forcing[:, 1],
        solar_w_per_m2=forcing[:, 2],
    )


def background_co2_gt() -> dict[int, float]:
    """The background's fossil and industrial CO2, Gt CO2 a year, by year 1750-2100."""
    bg = background()
    return {int(y): float(v) for y, v in zip(bg.years, bg.emissions["CO2 FFI"], strict=True)}


# ---------------------------------------------------------------------------------------------- inputs

def read_pathway(path: str | Path) -> dict[int, float]:
    """A pathway CSV with columns `year,co2_gt` (Gt CO2 a year, fossil and industrial) as {year: value}.

    Errors name the file and line and say how to fix them: a missing column, a year that is not a whole number or
    lies outside the background scenario (1750-2100), a value that is not a finite number or lies outside
    CO2_GT_RANGE, a year given twice.
    """
    rows = read_rows(path, ("year", "co2_gt"), "pathway")
    if not rows:
        msg = f"{path}: the pathway has no rows; give one row per year under the header year,co2_gt"
        raise InputError(msg)
    pathway: dict[int, float] = {}
    first_line: dict[int, int] = {}
    for line, row in rows:
        where = f"{path} line {line}"
        text = (row["year"] or "").strip()
        try:
            year = int(text)
        except ValueError:
            msg = f"{where}: year {text!r} is not a whole year; write a calendar year such as 2030"
            raise InputError(msg) from None
        if not FIRST_YEAR <= year <= LAST_YEAR:
            msg = (f"{where}: year {year} is outside the background scenario ({FIRST_YEAR}-{LAST_YEAR}); "
                   f"give years from {FIRST_YEAR} to {LAST_YEAR}")
            raise InputError(msg)
        value_text = (row["co2_gt"] or "").strip()
        try:
            value = float(value_text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            msg = (f"{where}: co2_gt {value_text!r} is not a number; write fossil and industrial CO2 in Gt CO2 a "
                   f"year, such as 35.2")
            raise InputError(msg)
        if not CO2_GT_RANGE[0] <= value <= CO2_GT_RANGE[1]:
            msg = (f"{where}: co2_gt {value_text} is outside the accepted range {CO2_GT_RANGE[0]:g} to "
                   f"{CO2_GT_RANGE[1]:g} Gt CO2 a year; write fossil and industrial CO2 in Gt (not t or Mt), such "
                   f"as 35.2")
            raise InputError(msg)
        if year in pathway:
            msg = (f"{where}: year {year} is given twice (first on line {first_line[year]}); keep one row per "
                   f"year")
            raise InputError(msg)
        pathway[year], first_line[year] = value, line
    return pathway


def co2_ffi_gt(pathway: Mapping[int, float] | None) -> np.ndarray:
    """CO2 FFI for every year 1750-2100 (Gt CO2 a year): the pathway's years, linear between them, the background
    before the first and after the last."""
    bg = background()
    series = bg.emissions["CO2 FFI"].copy()
    if pathway:
        for year, value in pathway.items():
            if not FIRST_YEAR <= year <= LAST_YEAR:
                msg = f"pathway year {year} is outside the background scenario ({FIRST_YEAR}-{LAST_YEAR})"
                raise InputError(msg)
            if not (math.isfinite(value) and CO2_GT_RANGE[0] <= value <= CO2_GT_RANGE[1]):
                msg = (f"pathway year {year}: CO2 {value!r} Gt a year is outside the accepted range "
                       f"{CO2_GT_RANGE[0]:g} to {CO2_GT_RANGE[1]:g} Gt CO2 a year; give fossil and industrial CO2 "
                       "in Gt")
                raise InputError(msg)
        years = np.array(sorted(pathway), dtype=float)
        values = np.array([pathway[int(y)] for y in years])
        inside = (bg.years >= years[0]) & (bg.years <= years[-1])
        series[inside] = np.interp(bg.years[inside], years, values)
    return series


def parse_members(text: str | int) -> int:
    """`all` or a member count 1-841."""
    if isinstance(text, str) and text.strip().lower() == "all":
        return MEMBER_COUNT
    try:
        n = int(text)
    except ValueError:
        n = 0
    if not 1 <= n <= MEMBER_COUNT:
        msg = f"--members {text!r}: give a number of ensemble members from 1 to {MEMBER_COUNT}, or all"
        raise InputError(msg)
    return n


def select_members(n: int) -> np.ndarray:
    """Which rows of the calibration a run of n members uses: n rows evenly spaced through the file (rows are in
    the order of fair-calibrate's random prior draws, so any even spacing is an unbiased pick; n=841 is all)."""
    n = parse_members(n)
    return (np.arange(n) * MEMBER_COUNT) // n


# ---------------------------------------------------------------------------------------------- running FaIR

@dataclass(frozen=True)
class Ensemble:
    """Warming of each member under each pathway."""

    scenarios: tuple[str, ...]
    years: np.ndarray  # FIRST_YEAR..LAST_YEAR
    member_ids: tuple[int, ...]
    warming_k: np.ndarray  # (scenario, year, member): annual mean, K above 1850-1900


def build(co2_by_scenario: Mapping[str, np.ndarray], rows: np.ndarray) -> FAIR:
    """A FAIR instance, filled and initialised, for the given CO2 FFI series and calibration rows."""
    from fair import FAIR
    from fair.io import read_properties

    cal, bg = calibration(), background()
    species_csv = shipped_text(SPECIES)
    f = FAIR(ch4_method="Thornhill2021")
    f.define_time(FIRST_YEAR, LAST_YEAR + 1, 1)
    f.define_scenarios(list(co2_by_scenario))
    f.define_configs([cal.member_ids[i] for i in rows])
    species, properties = read_properties(filename=io.StringIO(species_csv))
    f.define_species(species, properties)
    f.allocate()

    # Emissions: one array write instead of fill_from_csv's per-species lookups; identical values (the shipped
    # years are FaIR's time points and the units are the ones it expects).
    emissions = np.full((len(bg.years), len(co2_by_scenario), 1, len(species)), np.nan)
    for k, name in enumerate(species):
        if name in bg.emissions:
            emissions[:, :, 0, k] = bg.emissions[name][:, None]
    ffi = species.index("CO2 FFI")
    for s, co2 in enumerate(co2_by_scenario.values()):
        emissions[:, s, 0, ffi] = co2
    f.emissions.data[...] = emissions

    # Volcanic and solar forcing scaled per member, as the fair example for this calibration does (FaIR does not
    # apply forcing_scale to forcing-driven species itself).
    scale = {c: cal.values[rows, j] for j, c in enumerate(cal.columns)}
    for name, series in (("Volcanic", bg.volcanic_w_per_m2), ("Solar", bg.solar_w_per_m2)):
        f.forcing.data[:, :, :, species.index(name)] = series[:, None, None] * scale[f"forcing_scale[{name}]"]

    species_defaults(f, species_csv)
    override(f, cal, rows)
    initial_state(f)
    return f


def initial_state(f: FAIR) -> None:
    """FaIR's state at the first time bound: baseline concentrations, zero forcing, warming and stores."""
    from fair.interface import initialise

    initialise(f.concentration, f.species_configs["baseline_concentration"])
    for store in (f.forcing, f.temperature, f.cumulative_emissions, f.airborne_emissions, f.ocean_heat_content_change):
        initialise(store, 0)


def species_defaults(f: FAIR, species_csv: str) -> None:
    """Set every member's species configs to the calibration's defaults: what `FAIR.fill_species_configs` does,
    one write per config for all species instead of one per species and config (61 x 30 xarray writes)."""
    import pandas as pd
    from fair.structure.species_configs import SPECIES_CONFIGS_EXCL_GASBOX

    table = pd.read_csv(io.StringIO(species_csv), index_col=0).loc[f.species]
    configs = f.species_configs
    for name in dict.fromkeys(SPECIES_CONFIGS_EXCL_GASBOX):
        if configs[name].dims[-1] != "specie":  # every one of them is (specie) or (config, specie) in fair 2.2
            msg = f"fair's species config {name} has dimensions {configs[name].dims}; expected specie last"
            raise RuntimeError(msg)
        configs[name].data[...] = table[name].to_numpy(dtype=float)
    for gasbox in range(len(f.gasboxes)):
        for name in ("partition_fraction", "unperturbed_lifetime"):
            configs[name].data[..., gasbox] = table[f"{name}{gasbox}"].to_numpy(dtype=float)
    for kind, name in (("aci", "aci_scale"), ("ch4", "lifetime_temperature_sensitivity")):
        chosen = table.loc[table["type"] == kind, name]
        if len(chosen):
            configs[name].data[...] = float(chosen.iloc[0])
    f.calculate_concentration_per_emission()


def override(f: FAIR, cal: Calibration, rows: np.ndarray) -> None:
    """Set the calibrated parameters of the chosen members: what `FAIR.override_defaults` does, one column at a
    time for all members instead of one cell at a time (86 writes instead of 86 per member)."""
    for j, column in enumerate(cal.columns):
        name, _, index = column.partition("[")
        index = index.rstrip("]")
        values = cal.values[rows, j]
        if name in _BOOLEAN:
            values = values.astype(bool)
        if name in _CLIMATE_PARAMETERS:
            target = f.climate_configs[name]
            where = {"layer": int(index)} if index else {}
        else:
            if index and index not in f.species:
                continue
            target = f.species_configs[name]
            where = {"specie": index} if index else {}
        target.loc[where] = values


def run(pathways: Mapping[str, Mapping[int, float] | None], members: int | str = DEFAULT_MEMBERS) -> Ensemble:
    """Warming of `members` ensemble members (a count, or 'all') under each named pathway (None: background)."""
    rows = select_members(parse_members(members))
    co2 = {name: co2_ffi_gt(p) for name, p in pathways.items()}
    per_batch = max(1, BATCH // max(1, len(co2)))
    parts = []
    for start in range(0, len(rows), per_batch):
        f = build(co2, rows[start : start + per_batch])
        with np.errstate(invalid="ignore", divide="ignore"):  # an impossible state is reported by check_result
            f.run(progress=False)
        check_result(f, tuple(co2))
        parts.append(f.temperature.data[:, :, :, 0])  # (time bound, scenario, member), surface layer
    bounds = np.concatenate(parts, axis=2)
    annual = 0.5 * (bounds[:-1] + bounds[1:])  # year Y = mean of bounds Y and Y+1
    years = np.arange(FIRST_YEAR, LAST_YEAR + 1)
    base = annual[(years >= BASELINE[0]) & (years <= BASELINE[1])].mean(axis=0)
    warming = np.moveaxis(annual - base, 1, 0)
    cal = calibration()
    return Ensemble(tuple(co2), years, tuple(cal.member_ids[i] for i in rows), warming)


def check_result(f: FAIR, scenarios: tuple[str, ...]) -> None:
    """Refuse a run whose temperatures are not finite or whose CO2 concentration is not positive: values in range
    can still be impossible when sustained (-100 Gt a year for decades removes more CO2 than the air holds)."""
    temperature = f.temperature.data[:, :, :, 0]  # (time bound, scenario, member)
    co2 = f.concentration.data[:, :, :, list(f.species).index("CO2")]
    checks = (
        ("a CO2 concentration that is not a positive number", ~(co2 > 0),
         "the pathway removes more CO2 than the air holds; give smaller removals or fewer years of them"),
        ("a temperature that is not a finite number", ~np.isfinite(temperature),
         "the pathway's CO2 is beyond what the model can take; give values nearer today's (about 37 Gt a year)"),
    )
    for what, bad, fix in checks:
        if bad.any():
            t, s, m = (int(i[0]) for i in np.nonzero(bad))
            msg = (f"FaIR gave {what} under pathway {scenarios[s]!r} in {FIRST_YEAR + t} (member "
                   f"{int(f.configs[m])}): {fix}")
            raise InputError(msg)


# ---------------------------------------------------------------------------------------------- summary

@dataclass(frozen=True)
class Warming:
    """What a pathway does to temperature (K above 1850-1900; probabilities are shares of ensemble members)."""

    members: int
    median_2100_k: float
    p5_2100_k: float
    p95_2100_k: float
    median_peak_k: float  # peak 20-year mean up to 2100
    p_below_1_5: float  # share of members whose peak 20-year mean stays below 1.5 K (the conventional meaning)
    p_below_2: float
    p_below_1_5_2100: float  # share of members below 1.5 K in 2100 alone
    p_below_2_2100: float
    calibration: str = CALIBRATION
    background: str = BACKGROUND

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def peak_k(warming_k: np.ndarray, years: np.ndarray) -> np.ndarray:
    """Per member, the highest 20-year mean warming among windows that end by 2100 (warming_k is year x member)."""
    after = warming_k[years >= BASELINE[0]]
    sums = np.cumsum(np.vstack([np.zeros((1, after.shape[1])), after]), axis=0)
    means = (sums[PEAK_WINDOW_YEARS:] - sums[:-PEAK_WINDOW_YEARS]) / PEAK_WINDOW_YEARS
    return means.max(axis=0)


def summarise(warming_k: np.ndarray, years: np.ndarray) -> Warming:
    """The summary of one scenario's warming (year x member)."""
    final = warming_k[years == LAST_YEAR][0]
    peak = peak_k(warming_k, years)
    p5, median, p95 = np.percentile(final, [5, 50, 95])
    return Warming(
        members=int(warming_k.shape[1]),
        median_2100_k=float(median),
        p5_2100_k=float(p5),
        p95_2100_k=float(p95),
        median_peak_k=float(np.median(peak)),
        p_below_1_5=float(np.mean(peak < 1.5)),
        p_below_2=float(np.mean(peak < 2.0)),
        p_below_1_5_2100=float(np.mean(final < 1.5)),
        p_below_2_2100=float(np.mean(final < 2.0)),
    )


def warming(pathway: Mapping[int, float] | None = None, members: int | str = DEFAULT_MEMBERS) -> Warming:
    """Summary of the warming under a pathway ({year: Gt CO2 a year}; None: the background scenario)."""
    ensemble = run({"pathway": pathway}, members)
    return summarise(ensemble.warming_k[0], ensemble.years)


@dataclass(frozen=True)
class Difference:
    """What a cut in global CO2 does to warming: per-member differences against the background, in K."""

    members: int
    cut_gt_2030: float  # the cut in 2030, Gt CO2 a year
    cumulative_cut_gt: float  # to 2100
    median_2100_k: float  # median over members of (background - cut pathway) warming in 2100
    p5_2100_k: float
    p95_2100_k: float
    background_median_2100_k: float

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def warming_difference(cut_gt: Mapping[int, float], members: int | str = DEFAULT_MEMBERS) -> Difference:
    """The warming avoided in 2100 when global fossil CO2 is `cut_gt` (Gt CO2 a year, by year) below the
    background; years not given are not cut. Both pathways run on the same members, so the difference is paired."""
    bg = background_co2_gt()
    for year, cut in cut_gt.items():
        if year not in bg:
            msg = f"cut for {year}: the background scenario covers {min(bg)}-{max(bg)}; give years within it"
            raise InputError(msg)
        if not np.isfinite(cut) or bg[year] - cut < CO2_GT_RANGE[0]:
            msg = f"cut of {cut:g} Gt in {year} leaves {bg[year] - cut:g} Gt, below {CO2_GT_RANGE[0]:g} Gt a year; give a smaller cut"
            raise InputError(msg)
    lowered = {y: bg[y] - c for y, c in cut_gt.items()}
    ensemble = run({"background": None, "cut": lowered}, members)
    final = ensemble.years == LAST_YEAR
    avoided = ensemble.warming_k[0][final][0] - ensemble.warming_k[1][final][0]
    p5, median, p95 = np.percentile(avoided, [5, 50, 95])
    return Difference(
        members=int(avoided.size), cut_gt_2030=float(cut_gt.get(2030, 0.0)),
        cumulative_cut_gt=float(sum(cut_gt.values())), median_2100_k=float(median), p5_2100_k=float(p5),
        p95_2100_k=float(p95), background_median_2100_k=float(np.median(ensemble.warming_k[0][final][0])),
    )
