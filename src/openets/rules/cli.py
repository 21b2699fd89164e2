"""`openets rules`: list the shipped programs, show one with its sources, check a rulebook file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from openets.errors import InputError
from openets.rules.load import list_programs, load_program, load_rulebook_file
from openets.rules.model import Program

app = typer.Typer(
    help="Rulebooks: list, show and check programs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def _console() -> Console:
    console = Console()
    # Piped output gets rich's 80 columns by default, which folds every source cell; give tables room.
    return console if console.is_terminal else Console(width=160)


def _summary(program: Program) -> dict[str, Any]:
    years = list(program.budgets)
    return {
        "id": program.id,
        "name": program.name,
        "kind": program.kind,
        "jurisdictions": list(program.jurisdictions),
        "allowance_unit": program.allowance_unit,
        "currency": program.currency,
        "budget_years": [years[0], years[-1]] if years else None,
    }


@app.command("list")
def list_command(as_json: JsonOption = False) -> None:
    """List the shipped programs."""
    programs = list_programs()
    if as_json:
        typer.echo(json.dumps([_summary(p) for p in programs], ensure_ascii=False))
        return
    table = Table(title="Shipped programs")
    for column in ("id", "name", "kind", "jurisdictions", "unit", "currency", "budget years"):
        table.add_column(column)
    for p in programs:
        years = list(p.budgets)
        table.add_row(
            p.id,
            p.name,
            p.kind,
            ", ".join(p.jurisdictions),
            p.allowance_unit,
            p.currency,
            f"{years[0]}-{years[-1]}" if years else "-",
        )
    _console().print(table)


@app.command()
def show(
    program: Annotated[str, typer.Argument(help="Program id, e.g. california, quebec, wci, rggi.")],
    as_json: JsonOption = False,
    cpi: Annotated[
        float | None,
        typer.Option(
            "--cpi",
            help="Yearly CPI for projected reserve prices (0.03 = 3%); default: the rulebook's assumption.",
        ),
    ] = None,
) -> None:
    """Show a program: budgets by year with their sources, and the main parameters."""
    loaded = load_program(program)
    if as_json:
        typer.echo(json.dumps(loaded.to_json(cpi=cpi), ensure_ascii=False))
        return
    console = _console()
    _print_header(console, loaded)
    _print_years(console, loaded, cpi)
    _print_parameters(console, loaded)


@app.command()
def check(file: Annotated[Path, typer.Argument(help="Rulebook TOML file to validate.")]) -> None:
    """Validate a rulebook file; print one line if it is valid, else raise the errors found."""
    program = load_rulebook_file(file)
    typer.echo(f"ok: {file} is a valid rulebook for {program.id} ({len(program.budgets)} budget years)")


# ------------------------------------------------------------------------------------------------------------


def _print_header(console: Console, p: Program) -> None:
    info = p.rulebook.program
    table = Table(title=f"{p.name} ({p.id})", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    table.add_row("kind", p.kind)
    table.add_row("jurisdictions", ", ".join(p.jurisdictions))
    table.add_row("allowance unit", p.allowance_unit)
    table.add_row("currency", p.currency)
    table.add_row("in force", f"{info.start} to {info.end or 'today'}")
    table.add_row("source", f"{info.source} [{info.status}]")
    if info.note:
        table.add_row("note", info.note)
    for m in p.members:
        span = f"{m.start} to {m.end or 'open'}"
        table.add_row(f"member {m.jurisdiction}", f"{m.program or '(no rulebook)'}: {span} [{m.status}]")
    console.print(table)


def _print_years(console: Console, p: Program, cpi: float | None) -> None:
    by_jurisdiction = p.budgets_by_jurisdiction() if p.is_linkage else {}
    extras = bool(p.rulebook.budget_additions or p.rulebook.budget_adjustments)
    table = Table(title=f"Budgets by year ({p.allowance_unit}; prices {p.currency})")
    table.add_column("year", justify="right")
    table.add_column("budget", justify="right")
    for jurisdiction in by_jurisdiction:
        table.add_column(jurisdiction, justify="right")
    if extras:
        table.add_column("with states", justify="right")
        table.add_column("adjusted", justify="right")
    table.add_column("holding limit", justify="right")
    table.add_column("reserve", justify="right")
    table.add_column("advance", justify="right")
    table.add_column("floor price", justify="right")
    table.add_column("budget status")
    table.add_column("budget source")
    sources: dict[str, int] = {}
    for year, budget in p.budgets.items():
        row = [str(year), f"{budget:,}"]
        row += [f"{t[year]:,}" if year in t else "-" for t in by_jurisdiction.values()]
        if extras:
            row += [f"{p.total_budget(year):,}", f"{p.adjusted_budget(year):,}"]
        limit = p.holding_limit(year)
        row.append(f"{limit:,}" if limit is not None else "-")
        linked = (
            [j for j, t in by_jurisdiction.items() if year in t] if p.is_linkage else list(p.jurisdictions)
        )
        row.append(_sum_members(linked, year, p.reserve_quantity))
        row.append(_sum_members(linked, year, p.advance_auction_quantity))
        row.append(_price(p, year, cpi))
        row.append(_budget_status(p, year))
        source = p.budget_source(year)
        row.append(f"[{sources.setdefault(source, len(sources) + 1)}]")
        table.add_row(*row)
    console.print(table)
    for source, number in sources.items():
        console.print(f"[{number}] {source}", markup=False)
    console.print("floor price: * = projected with a CPI assumption (see --cpi)", markup=False)


def _sum_members(jurisdictions: list[str], year: int, quantity: Any) -> str:
    total, known = 0, False
    for jurisdiction in jurisdictions:
        try:
            total += quantity(jurisdiction, year)
            known = True
        except InputError:
            continue  # a member without a rulebook or without a budget that year
    return f"{total:,}" if known else "-"


def _price(p: Program, year: int, cpi: float | None) -> str:
    try:
        point = p.auction_reserve_price(year, cpi)
    except InputError:
        return "-"
    return f"{point.price}{'*' if point.projected else ''}"


def _budget_status(p: Program, year: int) -> str:
    if p.is_linkage:
        assert p.market is not None
        statuses = {
            rb.budgets.provenance(year).status
            for m in p.market.active(year)
            if (rb := p.market.rulebook_of(m)) is not None
            and rb.budgets is not None
            and year in rb.budgets.values
        }
        order = ("unconfirmed", "secondary", "confirmed")
        return next((s for s in order if s in statuses), "-")
    assert p.rulebook.budgets is not None
    return p.rulebook.budgets.provenance(year).status


def _print_parameters(console: Console, p: Program) -> None:
    rb = p.rulebook
    table = Table(title="Main parameters")
    for column in ("parameter", "value", "status", "source"):
        table.add_column(column)

    def row(name: str, value: str, sourced: Any) -> None:
        table.add_row(name, value, sourced.status, sourced.source)

    if rb.coverage:
        row("coverage threshold", f"{rb.coverage.threshold:,} {rb.coverage.threshold_unit}", rb.coverage)
    for addition in rb.budget_additions:
        years = addition.years
        row(f"state budget {addition.id}", f"{years[0]}-{years[-1]}: {addition.description}", addition)
    for adjustment in rb.budget_adjustments:
        years = adjustment.years
        row(
            f"bank adjustment {adjustment.id}",
            f"{years[0]}-{years[-1]}: {adjustment.description}",
            adjustment,
        )
    for reserve in rb.reserves:
        for series, what in ((reserve.share, "share of budget"), (reserve.quantity, "fixed quantity")):
            if series is not None:
                row(f"{reserve.name}", f"{what}, {series.years[0]}-{series.years[-1]}", series)
        for tier in reserve.tiers:
            last = tier.prices.years[-1]
            row(f"{reserve.id} {tier.name}", f"{tier.prices.values[last]} in {last}", tier.prices)
    auction = rb.auction
    if auction is not None:
        if auction.format:
            f = auction.format
            row(
                "auction format",
                f"{f.rounds} round, {f.pricing} price, lots of {f.lot_size:,}, {f.frequency}",
                f,
            )
        if auction.undersubscribed_price:
            row("undersubscribed price", auction.undersubscribed_price.rule, auction.undersubscribed_price)
        if auction.reserve_price:
            rule = auction.reserve_price
            esc = rule.escalation
            row(
                "reserve price rise",
                f"{(esc.rate * 100).normalize()}% a year" + (" + CPI" if esc.plus_cpi else ""),
                esc,
            )
            if rule.default_cpi:
                row("default CPI (assumption)", str(rule.default_cpi.value), rule.default_cpi)
        if auction.advance_share:
            row(
                "advance auction share",
                f"{auction.advance_share.values[auction.advance_share.years[0]]}",
                auction.advance_share,
            )
        for limit in auction.purchase_limits:
            span = f"{limit.from_year}-{limit.to_year or ''}"
            row("purchase limit", f"{limit.buyer}, {limit.auction} auction: {limit.share} ({span})", limit)
    for offsets in rb.offset_limits:
        row("offset limit", f"{offsets.share} ({offsets.from_year}-{offsets.to_year or ''})", offsets)
    if rb.compliance:
        for period in rb.compliance.periods:
            row(f"compliance period {period.id}", f"{period.start_year}-{period.end_year}", period)
        if rb.compliance.interim:
            i = rb.compliance.interim
            row("interim obligation", f"{i.share} of {i.basis.replace('_', ' ')} (from {i.from_year})", i)
        if rb.compliance.untimely_surrender:
            u = rb.compliance.untimely_surrender
            extra = (
                f", at least {u.min_allowance_share} allowances" if u.min_allowance_share is not None else ""
            )
            row("untimely surrender", f"{u.multiplier}x the shortfall{extra}", u)
    if rb.holding_limit:
        h = rb.holding_limit
        formula = (
            f"{h.base_share} x {h.base_quantity:,} + {h.marginal_share} x (budget - {h.base_quantity:,}); "
            f"budget basis {h.budget_basis}; counts {', '.join(k.value for k in h.counted_account_kinds)}"
        )
        row("holding limit", formula, h)
    holdings = rb.holdings
    if holdings is not None:
        for instrument, kinds in holdings.may_hold.items():
            row(f"may hold {instrument.value}", ", ".join(k.value for k in kinds), holdings)
    console.print(table)
