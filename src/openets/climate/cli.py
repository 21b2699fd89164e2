"""`openets climate warming`: a CO2 pathway to warming (FaIR 2.2, shipped calibration 1.4.1), run offline."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from openets.climate import model

app = typer.Typer(
    help="Emissions to temperature with FaIR 2.2 and its shipped calibration; never downloads anything.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

WARMING_HELP = " ".join((
    "Warming under a fossil and industrial CO2 pathway: 2100 median and 5-95% range, peak warming, and the",
    "probability of staying below 1.5 and 2 degrees C.",
)) + "\n\n" + " ".join((
    "The pathway CSV has the columns year,co2_gt: global fossil and industrial CO2 in Gt CO2 a year,",
    f"years {model.FIRST_YEAR}-{model.LAST_YEAR}. It replaces the background scenario's fossil and industrial CO2",
    "in the years given, linearly between given years; before the first and after the last given year, and for",
    f"every other gas, the background scenario ({model.BACKGROUND}, shipped with calibration {model.CALIBRATION})",
    "applies, so give every year to 2100 to hold a level to the end. Without --pathway the background is run.",
)) + "\n\n" + " ".join((
    "Warming is in K above 1850-1900. p_below_1_5 and p_below_2 are the shares of ensemble members whose PEAK",
    "warming up to 2100 stays below the level, the peak being the highest 20-year mean (the IPCC AR6 convention",
    "for reaching a warming level); p_below_1_5_2100 and p_below_2_2100 use the year 2100 alone.",
    "Nothing is downloaded: the model, its calibration and the background ship with openets.",
))

ROWS = (
    ("members", "ensemble members", "{:d}"),
    ("median_2100_k", "2100 warming, median (K)", "{:.2f}"),
    ("p5_2100_k", "2100 warming, 5th percentile (K)", "{:.2f}"),
    ("p95_2100_k", "2100 warming, 95th percentile (K)", "{:.2f}"),
    ("median_peak_k", "peak 20-year mean warming to 2100, median (K)", "{:.2f}"),
    ("p_below_1_5", "P(peak stays below 1.5 C)", "{:.0%}"),
    ("p_below_2", "P(peak stays below 2 C)", "{:.0%}"),
    ("p_below_1_5_2100", "P(2100 below 1.5 C)", "{:.0%}"),
    ("p_below_2_2100", "P(2100 below 2 C)", "{:.0%}"),
)


@app.callback()
def _group() -> None:
    """Emissions to temperature with FaIR 2.2."""
    # A callback keeps `warming` a subcommand: a Typer app with one command would otherwise run it directly.


@app.command(help=WARMING_HELP)
def warming(
    pathway: Annotated[
        str | None,
        typer.Option("--pathway", help="CSV with year,co2_gt (Gt CO2 a year); default: the background."),
    ] = None,
    members: Annotated[
        str,
        typer.Option("--members", help=f"Ensemble members: a number 1-{model.MEMBER_COUNT} or all."),
    ] = str(model.DEFAULT_MEMBERS),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    count = model.parse_members(members)
    given = model.read_pathway(pathway) if pathway else None
    result = model.warming(given, count)
    out = {"pathway": pathway, **result.as_dict()}
    if given:
        out["pathway_years"] = [min(given), max(given)]
    if as_json:
        typer.echo(json.dumps(out))
        return
    title = f"FaIR 2.2, calibration {result.calibration}, background {result.background}"
    if pathway:
        title += f", CO2 FFI from {pathway} ({min(given or [0])}-{max(given or [0])})"
    table = Table(title=title)
    table.add_column("")
    table.add_column("value", justify="right")
    for key, label, fmt in ROWS:
        table.add_row(label, fmt.format(out[key]))
    Console().print(table)
