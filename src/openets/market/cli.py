"""`openets supply`: the supply-demand balance and bank of a linked market, year by year, under a scenario."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from openets.errors import InputError
from openets.market.supply import Balance, Scenario, balance, read_emissions_csv
from openets.plotfile import png_path
from openets.rules.load import load_program

COLUMNS = ("year", "emissions_mt", "supply_mt", "allowances_mt", "offsets_mt", "reserve_sales_mt", "bank_mt",
           "bank_before_reserve_sales_mt", "unsold_state_mt", "unsold_current_mt", "unsold_advance_mt", "to_reserve_mt",
           "emissions_projected")


def supply(
    program: Annotated[str, typer.Argument(help="Program id: wci, california or quebec.")],
    emissions_from: Annotated[
        int | None, typer.Option("--emissions-from", help="First year projected with the growth rate (earlier: history).")
    ] = None,
    emissions_growth: Annotated[
        str,
        typer.Option(
            "--emissions-growth",
            help="Yearly growth of projected emissions: -0.02 = -2% a year, or one per jurisdiction: CA:-0.02,QC:-0.01.",
        ),
    ] = "0",
    emissions_csv: Annotated[
        str | None, typer.Option("--emissions-csv", help="Custom series: CSV with jurisdiction,year,emissions_mt.")
    ] = None,
    unsold: Annotated[
        list[str] | None,
        typer.Option("--unsold", help="YEAR-YEAR:SHARE, e.g. 2019-2020:0.5: that share of every auction goes unsold."),
    ] = None,
    offsets_of_limit: Annotated[
        float | None,
        typer.Option("--offsets-of-limit", help="Offsets used, as a share of the offset limit (default: WCI 0.75, RGGI 0)."),
    ] = None,
    to_year: Annotated[int, typer.Option("--to", help="Last year (at most 2030).")] = 2030,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV.")] = False,
    plot: Annotated[str | None, typer.Option("--plot", help="Write a PNG chart of supply, emissions and bank.")] = None,
) -> None:
    """Supply, emissions and bank year by year; when the bank runs out; reserve sales it would need."""
    if as_json and as_csv:
        msg = "--json and --csv both given; choose one output format"
        raise InputError(msg)
    scenario = Scenario(
        emissions_from=emissions_from,
        emissions_growth=parse_growth(emissions_growth),
        emissions=read_emissions_csv(emissions_csv) if emissions_csv else {},
        unsold=parse_unsold(unsold or []),
        offsets_of_limit=offsets_of_limit,
        last_year=to_year,
    )
    result = balance(load_program(program), scenario)
    if plot:
        write_plot(result, plot)
    if as_json:
        typer.echo(json.dumps(result.as_dict()))
    elif as_csv:
        typer.echo(to_csv(result), nl=False)
    else:
        print_table(result)


def parse_growth(text: str) -> float | dict[str, float]:
    """`-0.02` (every jurisdiction) or `CA:-0.02,QC:-0.01` (one rate each; unnamed jurisdictions stay flat)."""
    hint = "write a rate such as -0.02, or one per jurisdiction such as CA:-0.02,QC:-0.01"
    try:
        if ":" not in text:
            return float(text)
        rates: dict[str, float] = {}
        for part in text.split(","):
            name, rate = part.split(":")
            rates[name.strip()] = float(rate)
        return rates
    except ValueError:
        msg = f"--emissions-growth {text!r} is malformed; {hint}"
        raise InputError(msg) from None


def parse_unsold(items: list[str]) -> dict[int, float]:
    """`--unsold 2019-2020:0.5` (or `2019:0.5`) as {2019: 0.5, 2020: 0.5}."""
    out: dict[int, float] = {}
    for item in items:
        match = re.fullmatch(r"\s*(\d{4})(?:-(\d{4}))?:([0-9.]+)\s*", item)
        if match is None:
            msg = f"--unsold {item!r} is malformed; write FIRST-LAST:SHARE, e.g. 2019-2020:0.5"
            raise InputError(msg)
        first, last = int(match.group(1)), int(match.group(2) or match.group(1))
        if last < first:
            msg = f"--unsold {item!r}: {last} is before {first}; write the earlier year first"
            raise InputError(msg)
        try:
            share = float(match.group(3))
        except ValueError:
            msg = f"--unsold {item!r}: {match.group(3)!r} is not a share; write e.g. 0.5"
            raise InputError(msg) from None
        for year in range(first, last + 1):
            out[year] = share
    return out


def to_csv(result: Balance) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for year in result.years:
        row = year.as_dict()
        writer.writerow([row[c] for c in COLUMNS])
    return buffer.getvalue()


def print_table(result: Balance) -> None:
    console = Console() if Console().is_terminal else Console(width=160)
    unit = "million short tons" if result.allowance_unit == "short_ton" else "million allowances (tCO2e)"
    table = Table(title=f"{result.program}: supply, emissions and bank ({unit})")
    for name in ("year", "emissions", "allowances", "offsets", "supply", "reserve sales", "bank", "unsold (state)"):
        table.add_column(name, justify="right")
    for y in result.years:
        d = y.as_dict()
        table.add_row(
            f"{y.year}{'*' if y.emissions_projected else ''}",
            *(f"{d[k]:.1f}" for k in ("emissions_mt", "allowances_mt", "offsets_mt", "supply_mt", "reserve_sales_mt",
                                      "bank_mt", "unsold_state_mt")),
        )
    console.print(table)
    exhausted = result.bank_exhausted_year
    console.print(
        "* projected emissions. The bank "
        + (f"would run out in {exhausted} without reserve sales." if exhausted else "does not run out in these years."),
        markup=False,
    )


def write_plot(result: Balance, path: str) -> None:
    """A PNG of private supply, covered emissions and the year-end bank."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    target = png_path(path)
    years = [y.year for y in result.years]
    mt = 1_000_000
    fig, ax = plt.subplots(figsize=(9, 5), dpi=110)
    ax.bar(years, [y.bank / mt for y in result.years], color="#9ecae1", label="bank (year end)")
    ax.plot(years, [y.supply / mt for y in result.years], color="#08519c", marker="o", label="private supply")
    ax.plot(years, [y.emissions / mt for y in result.years], color="#a50f15", marker="s", label="covered emissions")
    sales = [y.reserve_sales / mt for y in result.years]
    if any(sales):
        ax.bar(years, sales, bottom=[y.bank / mt for y in result.years], color="#fd8d3c", label="reserve sales")
    projected = [y.year for y in result.years if y.emissions_projected]
    if projected:
        ax.axvspan(min(projected) - 0.5, max(projected) + 0.5, color="#f0f0f0", zorder=0, label="projected emissions")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(f"{result.program}: supply, emissions and bank")
    ax.set_ylabel("million allowances (tCO2e)")
    ax.legend(loc="upper right", fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(target)
    plt.close(fig)


def simulate(
    program: Annotated[str, typer.Argument(help="Program id: wci, california, quebec, rggi, eu or china_power.")],
    first: Annotated[int | None, typer.Option("--from", help="First simulated year (default: the year after history).")] = None,
    last: Annotated[int | None, typer.Option("--to", help="Last simulated year (default 2030; eu 2039).")] = None,
    runs: Annotated[int, typer.Option("--runs", help="Monte Carlo runs.")] = 100,
    seed: Annotated[int, typer.Option("--seed", help="Seed: the same seed gives the same results on any workers.")] = 0,
    workers: Annotated[int, typer.Option("--workers", help="Local worker processes (1: in this process).")] = 1,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Address of an existing Dask scheduler, e.g. tcp://host:8786.")
    ] = None,
    mode: Annotated[
        str, typer.Option("--mode", help="equilibrium (banking equilibrium) or agents (quarterly auctions and trading).")
    ] = "equilibrium",
    bau_growth: Annotated[float, typer.Option("--bau-growth", help="Mean yearly growth of BAU emissions.")] = 0.0,
    bau_growth_sd: Annotated[float, typer.Option("--bau-growth-sd", help="Its spread between runs.")] = 0.01,
    mac_price: Annotated[
        float | None, typer.Option("--mac-price", help="Median price abating --max-share of BAU (default 150; eu 400).")
    ] = None,
    mac_sd: Annotated[float, typer.Option("--mac-sd", help="Log-normal spread of that price.")] = 0.5,
    max_share: Annotated[
        float | None, typer.Option("--max-share", help="Most of a firm's BAU it can abate (default 0.3; eu 1.0).")
    ] = None,
    offsets_of_limit: Annotated[
        float | None, typer.Option("--offsets-of-limit", help="Offsets used, share of the limit (default WCI 0.75, RGGI 0).")
    ] = None,
    facilities_file: Annotated[
        str | None,
        typer.Option("--facilities", help="CSV facility,bau_t,growth,mac_price,max_share instead of synthetic firms."),
    ] = None,
    terminal_bank: Annotated[
        float, typer.Option("--terminal-bank", help="Millions of allowances still banked after --to (default 0).")
    ] = 0.0,
    rate: Annotated[
        float | None, typer.Option("--rate", help="Discount rate holders of allowances require (default 0.05; eu 0.10).")
    ] = None,
    scenario: Annotated[
        str | None,
        typer.Option("--scenario", help="A shipped named scenario, e.g. wci-calibrated (options given still win)."),
    ] = None,
    units_file: Annotated[
        str | None, typer.Option("--units", help="china_power: CSV of generating units (see examples/).")
    ] = None,
    report: Annotated[str | None, typer.Option("--report", help="Write an HTML report with plots and CSVs here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Monte Carlo of prices, emissions, bank and auction revenue: the 5th, 50th and 95th percentiles by year."""
    from rich.progress import Progress

    from openets.market.simulate import EU_FIRST_YEAR, Assumptions, named_scenario
    from openets.market.sweep import MODES, dask_executor, local_executor, sweep

    if mode not in MODES:
        msg = f"--mode {mode!r} is unknown; choose {' or '.join(MODES)}"
        raise InputError(msg)
    if scheduler is not None and workers != 1:
        msg = "give --workers or --scheduler, not both"
        raise InputError(msg)
    if workers < 1:
        msg = f"--workers {workers}: give at least 1 (1 runs in this process)"
        raise InputError(msg)
    if runs <= 0:
        msg = f"--runs {runs}: give a positive number of runs"
        raise InputError(msg)
    from openets.market.firms import read_facilities

    facilities = read_facilities(facilities_file) if facilities_file else None
    loaded = load_program(program)
    start = first if first is not None else {"rggi": 2014, "eu": EU_FIRST_YEAR}.get(loaded.id, 2019)
    # The EU cap keeps falling after 2030 and reaches zero in 2040: banks (and so prices) look that far ahead.
    cap_end = max(loaded.vintages()) if loaded.id == "eu" else None  # the last year with an EU cap
    last = last if last is not None else (cap_end or 2030)
    # The EU cap reaches zero: its firms must be able to abate everything, at a price; holders of the EU's large
    # hedging bank are taken to require 10% (stated assumptions, not fitted to the MSR figures held out).
    defaults = {"eu": (400.0, 1.0, 0.10)}.get(loaded.id, (150.0, 0.3, 0.05))
    if scenario is not None:
        chosen = named_scenario(scenario, loaded.id)
        defaults = (chosen["mac_price"], chosen["max_share"], chosen["rate"])
    mac_price = mac_price if mac_price is not None else defaults[0]
    max_share = max_share if max_share is not None else defaults[1]
    rate = rate if rate is not None else defaults[2]
    assumptions = Assumptions(bau_growth, bau_growth_sd, mac_price, mac_sd, max_share, offsets_of_limit, rate=rate,
                              terminal_bank=terminal_bank * 1e6)
    if cap_end is not None and last < cap_end and terminal_bank == 0:
        msg = (f"--to {last}: the EU cap falls to zero after {cap_end} and holders bank for it; a run ending in {last} "
               "with nothing banked after it treats the allowances left as worthless, which drives prices to zero. Run "
               f"to {cap_end}, or give --terminal-bank (million allowances still banked after --to)")
        raise InputError(msg)
    china = loaded.id == "china_power"
    if china and mode != "equilibrium":
        msg = "china_power clears its compliance cycle unit by unit; --mode agents covers wci, california, quebec and rggi"
        raise InputError(msg)
    if china and units_file is None:
        msg = "china_power simulates unit by unit: give the units with --units FILE (examples/china_power_units_illustrative.csv shows the columns)"
        raise InputError(msg)
    if china and (facilities_file or first is not None):
        msg = "china_power simulates its 2019-2020 cycle from --units: --from and --facilities do not apply"
        raise InputError(msg)
    if not china and units_file is not None:
        msg = f"--units is for china_power; {loaded.id} takes --facilities (or synthetic firms)"
        raise InputError(msg)
    client = None
    executor = None
    if scheduler is not None:
        client, executor = dask_executor(scheduler)
    elif workers > 1:
        executor = local_executor(workers)
    try:
        with Progress(console=Console(stderr=True), transient=True, disable=runs < 50) as bar:
            task = bar.add_task(f"{loaded.id}: {runs} runs", total=runs)
            if loaded.id == "china_power":
                from openets.market.china import read_units
                from openets.market.sweep import cycle_sweep

                cycle = cycle_sweep(loaded, read_units(units_file), runs, seed, assumptions, executor,
                                    progress=lambda n: bar.advance(task, n))
            else:
                result = sweep(loaded, start, last, runs, seed, assumptions, executor,
                               progress=lambda n: bar.advance(task, n), facilities=facilities, mode=mode)
                if scenario:
                    from dataclasses import replace as with_scenario

                    result = with_scenario(result, scenario=scenario)
    finally:
        if executor is not None and client is None:
            executor.shutdown()
        if client is not None:
            client.close()
    if loaded.id == "china_power":
        data = cycle.as_dict()
        if report:
            from openets.market.report import write_cycle_report

            write_cycle_report(cycle, report)
        if as_json:
            typer.echo(json.dumps(data))
            return
        price = data["years"][0]["price"]
        console = Console() if Console().is_terminal else Console(width=160)
        console.print(f"china_power, cycle {cycle.years[0]}-{cycle.years[-1]}, {runs} runs: price (CNY) "
                      f"{price['p5']:.2f} / {price['p50']:.2f} / {price['p95']:.2f} (5th / 50th / 95th percentiles)",
                      markup=False)
        for category, values in data["abatement_mt_by_category"].items():
            console.print(f"  abatement, category {category}: {values['p5']:.3f} / {values['p50']:.3f} / "
                          f"{values['p95']:.3f} Mt", markup=False)
        return
    if report:
        from openets.market.report import write_report

        write_report(result, report)
    if as_json:
        typer.echo(json.dumps(result.as_dict()))
        return
    data = result.as_dict()
    console = Console() if Console().is_terminal else Console(width=160)
    table = Table(title=f"{result.program}: {runs} runs, seed {seed} (5th / 50th / 95th percentiles)")
    for name in ("year", f"price ({result.currency})", "emissions (M)", "bank (M)", f"auction revenue (M {result.currency})"):
        table.add_column(name, justify="right")
    for row in data["years"]:
        cells = [row[k] for k in ("price", "emissions_mt", "bank_mt", "auction_revenue_m")]
        table.add_row(str(row["year"]), *(f"{c['p5']:,.1f} / {c['p50']:,.1f} / {c['p95']:,.1f}" for c in cells))
    console.print(table)
    label = f"Assumptions (scenario {scenario})" if scenario else "Assumptions (not a calibration)"
    console.print(f"{label}: " + ", ".join(f"{k} {v}" for k, v in data["assumptions"].items()),
                  markup=False)
