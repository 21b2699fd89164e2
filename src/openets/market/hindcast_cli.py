"""`openets hindcast wci|rggi`: the year-by-year hindcasts of docs/wci_hindcast_2013_2018.md and
docs/rggi_hindcast_2009_2020.md, as a table or JSON."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from openets.errors import InputError


def hindcast(
    program: Annotated[str, typer.Argument(help="wci (2013-2018, calibrated) or rggi (2009-2020).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Rerun a hindcast: prices, unsold allowances, reserve sales and the bank, beside the record."""
    from openets.market import hindcast as h
    from openets.rules.load import load_program

    if program not in ("wci", "rggi"):
        msg = f"hindcast {program!r}: hindcasts exist for wci (2013-2018) and rggi (2009-2020)"
        raise InputError(msg)
    loaded = load_program(program)
    if program == "wci":
        c = h.calibrate(loaded)
        run = h.run(loaded, c.mac_price, c.rate)
        rec = h.record()
        rows = [{"year": y, "floor": run.floor[k], "price": run.price[k], "price_record": rec.price[y],
                 "unsold_mt": run.unsold[k] / 1e6, "unsold_record_mt": rec.unsold[y] / 1e6,
                 "returned_mt": run.returned[k] / 1e6, "bank_mt": run.bank[k] / 1e6,
                 "emissions_mt": run.emissions[k] / 1e6, "emissions_record_mt": rec.emissions[y] / 1e6}
                for k, y in enumerate(run.years)]
        head = {"program": "wci", "currency": "USD", "mac_price": c.mac_price, "rate": c.rate,
                "calibration_error": c.objective}
    else:
        run = h.run_rggi(loaded)
        rec = h.rggi_record()
        rows = [{"year": y, "rules_believed": run.regime[k], "floor": run.floor[k], "price": run.price[k],
                 "unsold_m": run.unsold[k] / 1e6, "ccr_sold_m": run.ccr[k] / 1e6, "ccr_record_m": rec["ccr"][y] / 1e6,
                 "bank_m": run.bank[k] / 1e6, "emissions_m": run.emissions[k] / 1e6,
                 "emissions_record_m": rec["emissions"][y] / 1e6}
                for k, y in enumerate(run.years)]
        head = {"program": "rggi", "currency": "USD", "unit": "short_ton", "mac_price": run.mac_price, "rate": run.rate}
    rows = [{k: (round(float(v), 6) if isinstance(v, float) else v) for k, v in r.items()} for r in rows]
    if as_json:
        typer.echo(json.dumps({**head, "years": rows}))
        return
    console = Console() if Console().is_terminal else Console(width=200)
    table = Table(title=f"{program} hindcast (model beside the record)")
    for name in rows[0]:
        table.add_column(name, justify="right")
    for r in rows:
        table.add_row(*(f"{v:,.2f}" if isinstance(v, float) else str(v) for v in r.values()))
    console.print(table)
