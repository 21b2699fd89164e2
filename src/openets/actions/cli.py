"""`openets actions`: coverage of coalitions and actors, national pathways against the NDC, and the shipped actors
and commitments."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from openets.actions.actors import KINDS, load_actors
from openets.actions.commitments import KINDS as COMMITMENT_KINDS
from openets.actions.commitments import load_commitments
from openets.actions.coverage import MEASURES, Coverage, coverage
from openets.actions.pathways import SCENARIOS, Pathway, pathway, plot
from openets.errors import InputError

app = typer.Typer(
    help="Bottom-up climate action: coverage, pathways and commitments.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
DEFAULT_COALITIONS = ("usca", "wasi", "climate-mayors")
DEFAULT_DATE = "2019-12-31"


@app.callback()
def _group() -> None:
    """Bottom-up climate action: coverage, pathways and commitments."""


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        msg = f"--date {text!r} is not a date; give it as YYYY-MM-DD, e.g. {DEFAULT_DATE}"
        raise InputError(msg) from None


@app.command("coverage")
def coverage_command(
    coalition: Annotated[
        list[str] | None,
        typer.Option("--coalition", help="Coalition id or name (repeat for several); default: usca, wasi and "
                     "climate-mayors together."),
    ] = None,
    actor: Annotated[list[str] | None, typer.Option("--actor", help="Actor id to add (repeatable).")] = None,
    on: Annotated[str, typer.Option("--date", help="Date of the memberships, YYYY-MM-DD.")] = DEFAULT_DATE,
    as_json: JsonOption = False,
) -> None:
    """Shares of national population, GDP and emissions covered, each counted once, with the naive sum."""
    coalitions = list(coalition or ([] if actor else DEFAULT_COALITIONS))
    result = coverage(_date(on), coalitions, list(actor or []))
    if as_json:
        typer.echo(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
        return
    _print_coverage(_console(), result)


@app.command("pathway")
def pathway_command(
    scenario: Annotated[str, typer.Option("--scenario", help=f"One of: {', '.join(SCENARIOS)}.")] = "commitments",
    plot_file: Annotated[str | None, typer.Option("--plot", help="Write a PNG of the pathway to this file.")] = None,
    horizon: Annotated[int, typer.Option("--horizon", help="Last year of the pathway.")] = 2050,
    ambitious: Annotated[bool, typer.Option("--ambitious", help="Use the ambitious end of range targets.")] = False,
    warming: Annotated[
        bool,
        typer.Option("--warming", help="Also the warming avoided in 2100 by the cuts below current policy (FaIR)."),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """A national pathway (current-policy baseline plus commitments) against the US NDC, with the gap."""
    result = pathway(scenario, horizon=horizon, use_high=ambitious)
    avoided = None
    if warming:
        avoided = warming_avoided(result, pathway("current-policy", horizon=horizon, use_high=ambitious))
    written = None
    if plot_file:
        shown = [result] if scenario == "current-policy" else [pathway("current-policy", horizon=horizon), result]
        written = plot(shown, plot_file)
    if as_json:
        data = result.to_json()
        if written:
            data["plot"] = str(written)
        if avoided is not None:
            data["warming_avoided"] = avoided
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    _print_pathway(_console(), result)
    if written:
        typer.echo(f"plot written to {written}")
    if avoided is not None:
        typer.echo(f"warming avoided in 2100 against current policy (FaIR, {avoided['members']} members): median "
                   f"{avoided['median_2100_k']:.4f} K (5-95%: {avoided['p5_2100_k']:.4f}-{avoided['p95_2100_k']:.4f}); "
                   f"cut {avoided['cut_gt_2030']:.2f} GtCO2e in 2030, {avoided['cumulative_cut_gt']:.1f} Gt to 2100. "
                   + avoided["assumption"])


def warming_avoided(scenario: Pathway, current: Pathway) -> dict[str, object]:
    """The 2100 warming avoided when the world's CO2 is lower by the scenario's cut below current policy: the cut
    of each year to the pathway's horizon, then held to 2100; gross GHG counted as CO2 (stated)."""
    from openets.climate.model import warming_difference

    years = [y for y in scenario.years if y > scenario.last_observed_year]
    cut = {y: (current.emissions_mt[y] - scenario.emissions_mt[y]) / 1000 for y in years}
    last = years[-1]
    cut.update({y: cut[last] for y in range(last + 1, 2101)})
    diff = warming_difference(cut).as_dict()
    diff["assumption"] = (f"the cut in gross GHG (CO2e) is taken as CO2 and held at its {last} level to 2100; the rest "
                          "of the world follows FaIR's background scenario")
    return diff


@app.command("list")
def list_command(
    kind: Annotated[
        str | None,
        typer.Option("--kind", help=f"Actor kind ({', '.join(KINDS)}) or commitment kind "
                     f"({', '.join(COMMITMENT_KINDS)})."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """The shipped actors (with their coalitions) or commitments (with their sources)."""
    if kind is not None and kind not in KINDS and kind not in COMMITMENT_KINDS:
        msg = (f"--kind {kind!r} is unknown; actor kinds: {', '.join(KINDS)}; "
               f"commitment kinds: {', '.join(COMMITMENT_KINDS)}")
        raise InputError(msg)
    if kind in COMMITMENT_KINDS:
        rows = [_commitment_row(c) for c in load_commitments() if c.kind == kind]
        title = f"commitments of kind {kind}"
    else:
        book = load_actors()
        chosen = book.of_kind([kind] if kind else KINDS)
        rows = [{
            "actor_id": a.id, "name": a.name, "kind": a.kind, "inside": a.parent_id or "",
            "coalitions": sorted({m.coalition_id for m in book.memberships_of(a.id)}),
            "commitments": sum(1 for c in load_commitments() if c.actor_id == a.id),
            "population_2019": a.population_2019,
        } for a in chosen]
        title = f"actors{' of kind ' + kind if kind else ''}"
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    console = _console()
    table = Table(title=f"{title} ({len(rows)})")
    columns = list(rows[0]) if rows else ["none"]
    for col in columns:
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(*(_cell(r[c]) for c in columns))
    console.print(table)


def _commitment_row(c: Any) -> dict[str, Any]:
    return {"commitment_id": c.id, "actor_id": c.actor_id, "description": c.description,
            "target_year": c.target_year, "confirmed": c.confirmed, "source": c.source}


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return ", ".join(value) or "-"
    return str(value)


def _console() -> Console:
    console = Console()
    return console if console.is_terminal else Console(width=160)


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _print_coverage(console: Console, r: Coverage) -> None:
    names = ", ".join(r.coalitions) or "-"
    extra = f" + actors {', '.join(r.requested_actors)}" if r.requested_actors else ""
    table = Table(title=f"coverage on {r.on.isoformat()}: {names}{extra}")
    for col in ("measure", "de-duplicated", "naive sum", "covered", "national", "data year"):
        table.add_column(col, justify="right" if col != "measure" else "left")
    labels = {"population": "population", "gdp": "GDP (million USD)", "emissions": "emissions (Mt gross)"}
    shares = r.shares.to_json()
    naive = r.naive.to_json()
    for m in MEASURES:
        table.add_row(labels[m], _pct(shares[f"{m}_share"]), _pct(naive[f"{m}_share"]), f"{r.covered[m]:,.1f}",
                      f"{r.national[m]:,.1f}", str(r.data_years[m]))
    console.print(table)
    console.print(f"members counted: {len(r.counted)} of {len(r.members)}; inside a counted state: "
                  f"{len(r.inside_counted)}; organisations: {len(r.organisations)}")
    for a in r.assumptions:
        console.print(f"- {a}")
    if r.reported:
        rep = Table(title="what the coalitions reported (for comparison, not used above)")
        for col in ("coalition", "as of", "metric", "value", "unit", "source"):
            rep.add_column(col, overflow="fold")
        for row in r.reported:
            rep.add_row(row["coalition_id"], row["as_of"], row["metric"], row["value"], row["unit"], row["source"])
        console.print(rep)


def _print_pathway(console: Console, p: Pathway) -> None:
    console.print(f"scenario {p.scenario}: {p.description}")
    table = Table(title="NDC comparison (gross, 50 states + DC; gap > 0 = above the target)")
    for col in ("year", "pathway Mt", "below 2005", "NDC range", "target Mt", "gap Mt"):
        table.add_column(col, justify="right")
    for n in p.ndc:
        table.add_row(str(n.year), f"{n.pathway_mt:,.1f}", f"{n.percent_below_2005:.1f}%",
                      f"{n.target_percent_low:g}-{n.target_percent_high:g}%",
                      f"{n.target_mt_high_ambition:,.1f}-{n.target_mt_low_ambition:,.1f}",
                      f"{n.gap_mt_to_low_ambition:,.1f} to {n.gap_mt_to_high_ambition:,.1f}")
    console.print(table)
    years = [y for y in p.years if y % 5 == 0 or y == p.last_observed_year]
    series = Table(title="pathway (Mt)")
    series.add_column("year", justify="right")
    series.add_column("baseline", justify="right")
    series.add_column(p.scenario, justify="right")
    for y in years:
        series.add_row(str(y), f"{p.baseline_mt[y]:,.1f}", f"{p.emissions_mt[y]:,.1f}")
    console.print(series)
    console.print(f"commitments applied: {len(p.applied)}; not in the pathway: {len(p.unquantified)} "
                  "(reasons with --json)")
    for a in p.assumptions:
        console.print(f"- {a}")
