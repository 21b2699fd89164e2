"""`openets auction`: price schedules by year (auction clearing joins later)."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from openets.auction.schedule import YearSchedule, price_schedule
from openets.errors import InputError
from openets.rules.load import load_program

app = typer.Typer(
    help="Auctions: price schedules.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
MONEY_SUFFIXES = ("_usd", "_cad")


@app.callback()
def _group() -> None:
    """Auctions: price schedules."""
    # A callback keeps `schedule` a subcommand: a Typer app with one command would otherwise run it directly.


@app.command()
def schedule(
    program: Annotated[str, typer.Argument(help="Program id: california, quebec, wci, rggi.")],
    first: Annotated[int, typer.Option("--from", help="First year.")],
    last: Annotated[int, typer.Option("--to", help="Last year (included).")],
    cpi: Annotated[
        float | None,
        typer.Option(
            "--cpi", help="Yearly CPI for projected years (0.03 = 3%); default: the rulebook's assumption."
        ),
    ] = None,
    exchange_rate: Annotated[
        float | None,
        typer.Option(
            "--exchange-rate",
            help="CAD per USD, for wci: the floor becomes the higher of the CA and QC prices in USD.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Reserve price, reserve tier prices, price ceiling and reserve triggers, year by year."""
    if first > last:
        # Checked before loading the rulebook so the message is about the years, whatever the program.
        msg = f"--from {first} is after --to {last}; give the earlier year with --from"
        raise InputError(msg)
    loaded = load_program(program)
    rows = price_schedule(loaded, first, last, cpi=cpi, exchange_rate_cad_per_usd=exchange_rate)
    if as_json:
        typer.echo(json_text([row.to_json() for row in rows]))
        return
    _print_schedule(_console(), loaded.id, loaded.allowance_unit, rows)


# ------------------------------------------------------------------------------------------------------------


def json_text(value: Any, key: str = "") -> str:
    """JSON text in which money (keys ending in _usd or _cad) is written with two decimals: 10.00, not 10.0.

    json.dumps has no per-number format, so the containers are walked here and the leaves left to json.dumps.
    """
    if isinstance(value, dict):
        items = (f"{json.dumps(str(k))}: {json_text(v, str(k))}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(json_text(v, key) for v in value) + "]"
    money = key.endswith(MONEY_SUFFIXES)
    if isinstance(value, Decimal):
        return f"{value:.2f}" if money else str(value)
    if isinstance(value, float) and money and math.isfinite(value):
        return f"{value:.2f}"
    return json.dumps(value, ensure_ascii=False)


def _console() -> Console:
    console = Console()
    # Piped output gets rich's 80 columns by default, which folds every cell; give the table room.
    return console if console.is_terminal else Console(width=160)


def _money(price: Decimal | None) -> str:
    return "-" if price is None else f"{price:.2f}"


def _print_schedule(console: Console, program_id: str, unit: str, rows: list[YearSchedule]) -> None:
    currency = rows[0].currency
    per = "short ton" if unit == "short_ton" else unit
    table = Table(title=f"{program_id}: auction price schedule ({currency} per {per})")
    table.add_column("year", justify="right")
    table.add_column("reserve price", justify="right")
    # Columns that are empty in every row (RGGI has no tiers, California no triggers) would only be noise.
    columns = [
        ("tier prices", lambda r: " / ".join(_money(p) for p in r.tier_prices) or "-"),
        ("price ceiling", lambda r: _money(r.price_ceiling)),
        ("CCR trigger", lambda r: _money(r.ccr_trigger)),
        ("ECR trigger", lambda r: _money(r.ecr_trigger)),
    ]
    shown = [(name, cell) for name, cell in columns if any(cell(r) != "-" for r in rows)]
    for name, _ in shown:
        table.add_column(name, justify="right")
    table.add_column("sources")
    numbers: dict[str, int] = {}
    for row in rows:
        refs = sorted({numbers.setdefault(s, len(numbers) + 1) for s in row.sources.values()})
        table.add_row(
            f"{row.year}{'*' if row.projected else ''}",
            _money(row.reserve_price),
            *(cell(row) for _, cell in shown),
            " ".join(f"[{n}]" for n in refs),
        )
    console.print(table)
    for source, number in numbers.items():
        console.print(f"[{number}] {source}", markup=False)
    if any(r.projected for r in rows):
        console.print("* = the year has values projected with a CPI assumption (see --cpi)", markup=False)
